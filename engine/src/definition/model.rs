//! The typed shape of a validated workflow definition.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A published workflow: a finite state machine with actions on its transitions.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkflowDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The state every new job starts in.
    pub initial: String,
    pub states: Vec<StateDef>,
    #[serde(default)]
    pub transitions: Vec<TransitionDef>,
}

/// A state; no transition may leave a terminal one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateDef {
    pub name: String,
    #[serde(default)]
    pub terminal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Entering the state schedules this transition; leaving first cancels it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeoutDef>,
}

/// A state's timeout: `transition` fires `after` a duration from entering the state, or
/// `at` the time a template renders from the job (RFC 3339).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TimeoutDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub transition: String,
}

/// A named move from any of `from` to `to`, allowed when its guard is truthy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransitionDef {
    pub name: String,
    pub from: Vec<String>,
    pub to: String,
    /// A JSONLogic rule over the template context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<Value>,
    /// Run one after another after the transition commits.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One action of a transition; today every action is a `WEBHOOK`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ActionSpec {
    pub name: String,
    pub action_type: String,
    pub payload_template: PayloadTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Let the remaining actions run even after this one finally fails.
    #[serde(default)]
    pub continue_on_failure: bool,
    /// Send no sooner than this long after the transition committed (`30s`, `3d`; at
    /// most 7d), still in the job's order: later actions of the job wait behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<String>,
}

impl ActionSpec {
    /// The delay in milliseconds (0 without one). Definitions were checked at publish.
    pub fn delay_ms(&self) -> i64 {
        self.delay
            .as_deref()
            .and_then(|d| super::parse_duration(d).ok())
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// Which connection to call, where, and with what body (every string leaf a template).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PayloadTemplate {
    pub connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// How often to try an action and how long to wait between tries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Delays before each attempt, e.g. `["0s", "1m", "5m"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Vec<String>>,
}

impl WorkflowDefinition {
    /// The state named `name`, if the workflow has one.
    pub fn state(&self, name: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.name == name)
    }

    /// Transitions that may leave `state`, in definition order.
    pub fn allowed_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a TransitionDef> {
        self.transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state))
    }
}
