//! Validation of a transition's actions: type, payload template, retry and timeout.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::duration::parse_duration;
use super::fields::{
    is_identifier, optional_bool, optional_str, required_str, unknown_keys, Problems,
};
use super::Problem;
use crate::json_path::JsonPath;
use crate::template;

const ACTION_TYPES: &[&str] = &["WEBHOOK"];
const METHODS: &[&str] = &["POST", "PUT", "PATCH", "DELETE", "GET"];
const MAX_ATTEMPTS: u64 = 20;
const MAX_TIMEOUT_MS: u64 = 120_000;

/// Why a path that [`climbs_out`] is refused.
pub const CLIMBS_OUT: &str =
    "must not climb out of the connection's base path: no '.' or '..' segments (even percent-encoded), no '\\' and no encoded '/'";

/// Whether an action's path (before its query) has a segment that would leave the
/// connection's base path once joined to it: `.`, `..`, their percent-encoded forms, a
/// backslash (read as `/` by some servers) or an encoded `/`. The request would still go
/// to the connection's host, with its credentials, but to a path the connection never
/// named.
pub fn climbs_out(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    path.split('/').any(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        matches!(decoded.as_ref(), "." | "..") || decoded.contains(['\\', '/'])
    })
}

/// Checks the `actions` array of one transition.
pub(super) fn check_actions(t: &Map<String, Value>, at: &JsonPath, problems: &mut Problems) {
    let path = at.key("actions");
    let items = match t.get("actions") {
        None | Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(_) => return problems.add(&path, "must be an array of actions"),
    };
    let mut seen = HashSet::new();
    for (k, item) in items.iter().enumerate() {
        let aat = path.index(k);
        let Some(action) = item.as_object() else {
            problems.add(&aat, "an action must be an object");
            continue;
        };
        unknown_keys(
            action,
            &aat,
            &[
                "name",
                "action_type",
                "payload_template",
                "retry",
                "timeout_ms",
                "continue_on_failure",
                "description",
                "delay",
            ],
            problems,
        );
        optional_str(action, &aat, "description", problems);
        if let Some(name) = required_str(action, &aat, "name", problems) {
            if !is_identifier(name) {
                problems.add(
                    &aat.key("name"),
                    "use 1-100 letters, digits, '_', '-' or '.'",
                );
            } else if !seen.insert(name) {
                problems.add(
                    &aat.key("name"),
                    format!("duplicate action '{name}' in this transition"),
                );
            }
        }
        if let Some(kind) = required_str(action, &aat, "action_type", problems) {
            if !ACTION_TYPES.contains(&kind) {
                problems.add(
                    &aat.key("action_type"),
                    format!(
                        "unknown action_type '{kind}' (known: {})",
                        ACTION_TYPES.join(", ")
                    ),
                );
            }
        }
        check_payload_template(action, &aat, problems);
        check_retry(action, &aat, problems);
        if let Some(delay) = action.get("delay") {
            match delay.as_str().map(parse_duration) {
                None => problems.add(&aat.key("delay"), "must be a string like \"3d\""),
                Some(Err(err)) => problems.add(&aat.key("delay"), err),
                Some(Ok(_)) => {}
            }
        }
        if let Some(v) = action.get("timeout_ms") {
            match v.as_u64() {
                Some(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => {}
                _ => problems.add(
                    &aat.key("timeout_ms"),
                    format!("must be a whole number from 1 to {MAX_TIMEOUT_MS}"),
                ),
            }
        }
        optional_bool(action, &aat, "continue_on_failure", problems);
    }
}

fn check_payload_template(action: &Map<String, Value>, aat: &JsonPath, problems: &mut Problems) {
    let path = aat.key("payload_template");
    let Some(value) = action.get("payload_template") else {
        return problems.add(&path, "required");
    };
    let Some(tpl) = value.as_object() else {
        return problems.add(&path, "must be an object with connection_id, path and body");
    };
    unknown_keys(
        tpl,
        &path,
        &["connection_id", "path", "method", "body"],
        problems,
    );
    if let Some(id) = required_str(tpl, &path, "connection_id", problems) {
        if uuid::Uuid::parse_str(id).is_err() {
            problems.add(
                &path.key("connection_id"),
                format!("'{id}' is not a connection id (a UUID)"),
            );
        }
    }
    if let Some(p) = optional_str(tpl, &path, "path", problems) {
        if !p.is_empty() && !p.starts_with('/') {
            problems.add(&path.key("path"), "must start with '/'");
        }
        // Segments written literally are judged now; rendered ones again at send.
        let literal: String = p
            .split('/')
            .filter(|segment| !segment.contains("{{"))
            .collect::<Vec<_>>()
            .join("/");
        if climbs_out(&literal) {
            problems.add(&path.key("path"), CLIMBS_OUT);
        }
        if let Err(err) = template::check(p) {
            problems.add(
                &path.key("path"),
                format!("the template does not compile: {err}"),
            );
        }
    }
    if let Some(m) = optional_str(tpl, &path, "method", problems) {
        if !METHODS.contains(&m) {
            problems.add(
                &path.key("method"),
                format!("use one of {}", METHODS.join(", ")),
            );
        }
    }
    if let Some(body) = tpl.get("body") {
        for (at, err) in template::check_value(body, &path.key("body")) {
            problems.0.push(Problem {
                path: at,
                message: format!("the template does not compile: {err}"),
            });
        }
    }
}

fn check_retry(action: &Map<String, Value>, aat: &JsonPath, problems: &mut Problems) {
    let path = aat.key("retry");
    let Some(value) = action.get("retry") else {
        return;
    };
    let Some(retry) = value.as_object() else {
        return problems.add(&path, "must be an object like {\"max_attempts\": 5}");
    };
    unknown_keys(retry, &path, &["max_attempts", "schedule"], problems);
    if let Some(v) = retry.get("max_attempts") {
        match v.as_u64() {
            Some(n) if (1..=MAX_ATTEMPTS).contains(&n) => {}
            _ => problems.add(
                &path.key("max_attempts"),
                format!("must be a whole number from 1 to {MAX_ATTEMPTS}"),
            ),
        }
    }
    if let Some(v) = retry.get("schedule") {
        let Some(items) = v.as_array() else {
            return problems.add(
                &path.key("schedule"),
                "must be an array of delays like [\"0s\", \"1m\"]",
            );
        };
        if items.is_empty() || items.len() as u64 > MAX_ATTEMPTS {
            problems.add(
                &path.key("schedule"),
                format!("list 1 to {MAX_ATTEMPTS} delays"),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let result = item
                .as_str()
                .ok_or_else(|| "must be a delay like \"2s\"".to_string())
                .and_then(parse_duration);
            if let Err(err) = result {
                problems.add(&path.key("schedule").index(i), err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::climbs_out;

    #[test]
    fn dot_segments_in_any_spelling_climb_out() {
        for path in [
            "/../admin",
            "/a/..",
            "/%2e%2e/x",
            "/%2E./x",
            "/./x",
            "/a\\..\\b",
            "/a%2fb",
            "/a%5c..%5cb",
        ] {
            assert!(climbs_out(path), "{path}");
        }
        for path in [
            "",
            "/",
            "/v1/users",
            "/a..b/c.d",
            "/x?next=../y",
            "/Messages.json",
        ] {
            assert!(!climbs_out(path), "{path}");
        }
    }
}
