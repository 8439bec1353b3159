//! The payload of `workflow.published`, in the stream of the workflow's name.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Payload;
use crate::log::EventType;

/// `workflow.published`: a new version of a workflow name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowPublished {
    pub workflow_id: Uuid,
    pub name: String,
    pub version: i32,
}

impl Payload for WorkflowPublished {
    const TYPE: EventType = EventType::WorkflowPublished;
}
