//! What each event type says: a serde type per event type (one for the three outcomes of an
//! attempt), produced and read as types.
//!
//! The stored `data` is exactly the serde form of these types, so the hash chains of logs
//! written before they existed verify unchanged (`tests/e2e/log_fixture.rs` decodes a
//! fixture log through them and compares). Field order does not matter (a chain hashes
//! canonical JSON); names, nulls and omitted fields do, so each type says which it has.
//!
//! - [`job`] has `job.created` and `job.transitioned`.
//! - [`timer`] has `timer.scheduled`, `timer.fired` and `timer.cancelled`.
//! - [`account`] has `tenant.created`, `api_key.created`, `api_key.revoked`,
//!   `user.created` and `user.disabled`.
//! - [`workflow`] has `workflow.published`.
//! - [`action`] has `action.succeeded`, `action.retry_scheduled` and `action.failed` (one
//!   type: an attempt), `action.skipped` and `action.retried`.

pub mod account;
pub mod action;
pub mod job;
pub mod timer;
pub mod workflow;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use uuid::Uuid;

use crate::log::{EventType, NewEvent};
use crate::{Actor, StoreError};

/// An event's `data`, typed: [`Payload::TYPE`] is the event type it is written as.
pub trait Payload: Serialize + DeserializeOwned {
    const TYPE: EventType;

    /// The stored form.
    fn to_data(&self) -> Result<Value, StoreError> {
        encode(self, Self::TYPE.as_str())
    }

    /// This payload as `actor`'s event in `stream_id`, ready to append.
    fn by(&self, actor: &Actor, stream_id: Uuid) -> Result<NewEvent, StoreError> {
        Ok(NewEvent {
            tenant_id: actor.tenant_id,
            stream_id,
            event_type: Self::TYPE,
            data: self.to_data()?,
            metadata: actor.metadata(),
        })
    }

    /// Reads a stored `data` of this type.
    fn from_data(data: &Value) -> Result<Self, StoreError> {
        Self::deserialize(data)
            .map_err(|err| StoreError::Corrupt(format!("{} payload: {err}", Self::TYPE.as_str())))
    }
}

/// The stored form of a payload, `what` naming it in the error.
pub(crate) fn encode(payload: &impl Serialize, what: &str) -> Result<Value, StoreError> {
    serde_json::to_value(payload)
        .map_err(|err| StoreError::Corrupt(format!("{what} payload: {err}")))
}
