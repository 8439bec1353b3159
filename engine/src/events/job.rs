//! The payloads of a job's own events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Payload;
use crate::log::EventType;

/// `job.created`: a new job in its workflow's initial state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobCreated {
    pub workflow: String,
    pub workflow_version: i32,
    pub state: String,
    pub context: Value,
    pub external_id: Option<String>,
}

impl Payload for JobCreated {
    const TYPE: EventType = EventType::JobCreated;
}

/// `job.transitioned`: one applied transition, with its guard's report and the ids its
/// action runs have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobTransitioned {
    pub transition: String,
    pub from: String,
    pub to: String,
    /// The request's data, as given (an object).
    pub data: Value,
    /// The job's version after the transition.
    pub job_version: i64,
    /// `null` when the transition has no guard.
    pub guard: Option<GuardReport>,
    pub actions: Vec<ActionRef>,
}

impl Payload for JobTransitioned {
    const TYPE: EventType = EventType::JobTransitioned;
}

/// What a guard saw and said. Only passing guards are recorded: a failing one refuses
/// the transition, which writes nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardReport {
    pub rule: Value,
    /// Every variable the rule read, by its path, with the value it had.
    pub inputs: Map<String, Value>,
    pub passed: bool,
}

/// An action run a transition queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRef {
    pub id: Uuid,
    pub name: String,
    pub ordinal: usize,
}
