//! The payloads of timer events, in the stream of the job the timer belongs to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Payload;
use crate::log::EventType;

/// What kind of timer: a state's timeout, or a transition a service scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    StateTimeout,
    Scheduled,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::StateTimeout => "state_timeout",
            TimerKind::Scheduled => "scheduled",
        }
    }
}

/// `timer.scheduled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerScheduled {
    pub timer_id: Uuid,
    pub kind: TimerKind,
    /// The state the timeout belongs to, or the job's state when it was scheduled.
    pub state: String,
    pub transition: String,
    pub due_at: DateTime<Utc>,
    /// The version firing expects the job at: always set for a timeout, `null` for a
    /// scheduled transition without `expected_version`.
    pub job_version: Option<i64>,
}

impl Payload for TimerScheduled {
    const TYPE: EventType = EventType::TimerScheduled;
}

/// `timer.fired`: the timer's transition was applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerFired {
    pub timer_id: Uuid,
    pub state: String,
    pub transition: String,
    pub due_at: DateTime<Utc>,
    /// The `job.transitioned` event the firing appended (just before this one).
    pub transition_event_id: Uuid,
    /// How long after `due_at` it fired, in milliseconds (0 when on time).
    pub late_ms: i64,
}

impl Payload for TimerFired {
    const TYPE: EventType = EventType::TimerFired;
}

/// `timer.cancelled`: the job left the state, a service cancelled it, or firing found the
/// transition no longer applies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerCancelled {
    pub timer_id: Uuid,
    pub state: String,
    pub transition: String,
    /// Set when the timer came due and firing refused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    pub reason: String,
}

impl Payload for TimerCancelled {
    const TYPE: EventType = EventType::TimerCancelled;
}
