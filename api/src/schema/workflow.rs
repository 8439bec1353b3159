//! The workflow definition's schema, as the engine's validation enforces it
//! (`switchyard_engine::definition`). These types are never used to parse a request: the
//! engine reads the raw document so that one answer lists every problem. A test parses
//! every fixture workflow with them, so the schema cannot fall behind what is published.

use poem_openapi::{Enum, Object};
use serde_json::Value;

/// A finite state machine with ordered actions on its transitions.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct WorkflowDefinition {
    /// The workflow's name: publishing it again makes its next version.
    #[oai(validator(pattern = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"))]
    name: String,
    description: Option<String>,
    /// The state every new job starts in: one of `states`.
    #[oai(validator(pattern = r"^[A-Za-z0-9_.\-]{1,100}$"))]
    initial: String,
    /// Every state, each reachable from `initial`.
    #[oai(validator(min_items = 1))]
    states: Vec<StateDefinition>,
    transitions: Option<Vec<TransitionDefinition>>,
}

/// A state a job can be in.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct StateDefinition {
    #[oai(validator(pattern = r"^[A-Za-z0-9_.\-]{1,100}$"))]
    name: String,
    /// No transition may leave a terminal state.
    terminal: Option<bool>,
    description: Option<String>,
    timeout: Option<StateTimeout>,
}

/// Entering the state schedules `transition` (which must leave it); leaving first cancels
/// it. Give exactly one of `after` and `at`.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct StateTimeout {
    /// A duration from entering the state: `90s`, `24h`, `3d` (1s to 7d).
    after: Option<String>,
    /// A template rendering an RFC 3339 time from the job, e.g. `{{job.context.due_at}}`
    /// (at most a year ahead).
    at: Option<String>,
    /// The transition to apply.
    #[oai(validator(pattern = r"^[A-Za-z0-9_.\-]{1,100}$"))]
    transition: String,
}

/// A named move from any of `from` to `to`, allowed when its guard is truthy.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TransitionDefinition {
    #[oai(validator(pattern = r"^[A-Za-z0-9_.\-]{1,100}$"))]
    name: String,
    /// The states it may leave (none of them terminal).
    #[oai(validator(min_items = 1))]
    from: Vec<String>,
    to: String,
    /// A JSONLogic rule over the template context (`job`, `data`, `tenant`, ...).
    guard: Option<Value>,
    /// Run one after another after the transition commits.
    actions: Option<Vec<ActionDefinition>>,
    description: Option<String>,
}

/// One action of a transition.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ActionDefinition {
    /// Unique within its transition.
    #[oai(validator(pattern = r"^[A-Za-z0-9_.\-]{1,100}$"))]
    name: String,
    action_type: ActionType,
    payload_template: PayloadTemplate,
    retry: Option<RetryPolicy>,
    /// How long one attempt may take, in milliseconds.
    #[oai(validator(minimum(value = "1"), maximum(value = "120000")))]
    timeout_ms: Option<u64>,
    /// Let the remaining actions run even after this one finally fails.
    continue_on_failure: Option<bool>,
    /// Send no sooner than this long after the transition committed (`30s`, `3d`; at most
    /// 7d), still in the job's order.
    delay: Option<String>,
    description: Option<String>,
}

#[derive(Enum)]
pub enum ActionType {
    #[oai(rename = "WEBHOOK")]
    Webhook,
}

/// Which connection to call, where, and with what body. Every string in `path` and `body`
/// is a handlebars template over the context.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PayloadTemplate {
    /// The connection's id (a UUID as text).
    connection_id: String,
    /// Appended to the connection's base URL; starts with `/` and never climbs out of it.
    #[oai(validator(pattern = "^/"))]
    path: Option<String>,
    method: Option<HttpMethod>,
    /// Any JSON; every string leaf is a template.
    body: Option<Value>,
}

#[derive(Enum)]
pub enum HttpMethod {
    #[oai(rename = "POST")]
    Post,
    #[oai(rename = "PUT")]
    Put,
    #[oai(rename = "PATCH")]
    Patch,
    #[oai(rename = "DELETE")]
    Delete,
    #[oai(rename = "GET")]
    Get,
}

/// How often to try an action and how long to wait before each try.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RetryPolicy {
    #[oai(validator(minimum(value = "1"), maximum(value = "20")))]
    max_attempts: Option<u32>,
    /// Delays before each attempt, e.g. `["0s", "1m", "5m"]`.
    schedule: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ParseFromJSON;

    use super::*;

    #[test]
    fn every_fixture_workflow_matches_the_schema() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/workflows");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            // Fixtures name their connections and addresses by placeholder, filled in when
            // published.
            let nil = uuid::Uuid::nil().to_string();
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("$CRM_CONNECTION_ID", &nil)
                .replace("$ZAPIER_CONNECTION_ID", &nil)
                .replace("$TWILIO_CONNECTION_ID", &nil)
                .replace("$INTAKE_URL", "https://hooks.example.com/in/x");
            let doc: Value = serde_json::from_str(&text).unwrap();
            switchyard_engine::definition::validate(&doc)
                .unwrap_or_else(|p| panic!("{}: {p:?}", path.display()));
            if let Err(err) = WorkflowDefinition::parse_from_json(Some(doc)) {
                panic!("{}: {}", path.display(), err.into_message());
            }
            seen += 1;
        }
        assert!(seen >= 4);
    }

    #[test]
    fn the_schema_refuses_what_the_engine_refuses() {
        let bad = serde_json::json!({"name": "w", "initial": "a",
            "states": [{"name": "a", "colour": "red"}]});
        assert!(switchyard_engine::definition::validate(&bad).is_err());
        assert!(WorkflowDefinition::parse_from_json(Some(bad)).is_err());
        let bad = serde_json::json!({"name": "w", "initial": "a", "states": [{"name": "a"}],
            "transitions": [{"name": "t", "from": ["a"], "to": "a", "actions": [{"name": "x",
            "action_type": "EMAIL", "payload_template": {"connection_id": "c"}}]}]});
        assert!(switchyard_engine::definition::validate(&bad).is_err());
        assert!(WorkflowDefinition::parse_from_json(Some(bad)).is_err());
    }
}
