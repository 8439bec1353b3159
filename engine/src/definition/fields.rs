//! Reading typed fields out of a raw JSON object, recording a problem for each one that is
//! missing or of the wrong type.

use serde_json::{Map, Value};

use super::Problem;
use crate::json_path::JsonPath;

/// The problems found so far.
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, path: &JsonPath, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }
}

pub(super) fn unknown_keys(
    obj: &Map<String, Value>,
    at: &JsonPath,
    known: &[&str],
    problems: &mut Problems,
) {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            problems.add(
                &at.key(key),
                format!("unknown field (expected one of: {})", known.join(", ")),
            );
        }
    }
}

pub(super) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    at: &JsonPath,
    key: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match obj.get(key) {
        None | Some(Value::Null) => {
            problems.add(&at.key(key), "required");
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            problems.add(&at.key(key), "must not be empty");
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            problems.add(&at.key(key), "must be a string");
            None
        }
    }
}

pub(super) fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    at: &JsonPath,
    key: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            problems.add(&at.key(key), "must be a string");
            None
        }
    }
}

pub(super) fn required_array<'a>(
    obj: &'a Map<String, Value>,
    at: &JsonPath,
    key: &str,
    problems: &mut Problems,
) -> Option<&'a Vec<Value>> {
    match obj.get(key) {
        Some(Value::Array(items)) => Some(items),
        None | Some(Value::Null) => {
            problems.add(&at.key(key), "required");
            None
        }
        Some(_) => {
            problems.add(&at.key(key), "must be an array");
            None
        }
    }
}

pub(super) fn optional_bool(
    obj: &Map<String, Value>,
    at: &JsonPath,
    key: &str,
    problems: &mut Problems,
) -> Option<bool> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            problems.add(&at.key(key), "must be true or false");
            None
        }
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    (1..=100).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

pub(super) fn is_workflow_name(s: &str) -> bool {
    is_identifier(s) && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}
