//! State timeouts: `"timeout": {"after": "24h", "transition": "escalate"}`, or
//! `{"at": "{{job.context.due_at}}", "transition": "expire"}` with a time the template
//! renders from the job when it enters the state.

use std::time::Duration;

use serde_json::{Map, Value};

use super::duration::parse_duration;
use super::fields::{unknown_keys, Problems};
use crate::json_path::JsonPath;
use crate::template;

/// The shortest `after`: a timer fires within about a second of due, so anything shorter
/// would promise more than it keeps.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// How far ahead an `at` time may be: about a year. Later times are refused when the job
/// enters the state, as nonsense dates rather than plans.
pub const MAX_AHEAD: Duration = Duration::from_secs(366 * 86_400);

/// Checks every state's `timeout`: its shape, its time, and that its transition exists and
/// leaves that state.
pub(super) fn check(obj: &Map<String, Value>, root: &JsonPath, problems: &mut Problems) {
    let Some(states) = obj.get("states").and_then(Value::as_array) else {
        return;
    };
    let transitions = obj.get("transitions").and_then(Value::as_array);
    for (i, state) in states.iter().enumerate() {
        let Some(state) = state.as_object() else {
            continue;
        };
        let Some(timeout) = state.get("timeout") else {
            continue;
        };
        let at = root.key("states").index(i).key("timeout");
        let name = state
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(timeout) = timeout.as_object() else {
            problems.add(
                &at,
                "must be an object like {\"after\": \"24h\", \"transition\": \"escalate\"}",
            );
            continue;
        };
        unknown_keys(timeout, &at, &["after", "at", "transition"], problems);
        if state.get("terminal") == Some(&Value::Bool(true)) {
            problems.add(
                &at,
                "a terminal state cannot time out: no transition leaves it",
            );
        }
        check_time(timeout, &at, problems);
        let Some(transition) = timeout.get("transition").and_then(Value::as_str) else {
            problems.add(
                &at.key("transition"),
                "required: the name of a transition that leaves this state",
            );
            continue;
        };
        let leaves = transitions.into_iter().flatten().any(|t| {
            t.get("name").and_then(Value::as_str) == Some(transition)
                && t.get("from")
                    .and_then(Value::as_array)
                    .is_some_and(|from| from.iter().any(|f| f.as_str() == Some(name)))
        });
        if !leaves {
            problems.add(
                &at.key("transition"),
                format!("no transition named '{transition}' leaves state '{name}'"),
            );
        }
    }
}

/// Exactly one of `after` (a duration from 1s to 7d) and `at` (a template).
fn check_time(timeout: &Map<String, Value>, at: &JsonPath, problems: &mut Problems) {
    match (timeout.get("after"), timeout.get("at")) {
        (Some(_), Some(_)) | (None, None) => problems.add(
            at,
            "give either \"after\" (a duration like \"24h\") or \"at\" (a time template), not both or neither",
        ),
        (Some(after), None) => {
            let path = at.key("after");
            match after.as_str().map(parse_duration) {
                None => problems.add(&path, "must be a string like \"24h\""),
                Some(Err(err)) => problems.add(&path, err),
                Some(Ok(d)) if d < MIN_TIMEOUT => problems.add(&path, "must be at least 1s"),
                Some(Ok(_)) => {}
            }
        }
        (None, Some(time)) => {
            let path = at.key("at");
            match time.as_str() {
                None => problems.add(
                    &path,
                    "must be a template string like \"{{job.context.due_at}}\"",
                ),
                Some(source) => {
                    if let Err(err) = template::check(source) {
                        problems.add(&path, format!("the template does not compile: {err}"));
                    }
                }
            }
        }
    }
}
