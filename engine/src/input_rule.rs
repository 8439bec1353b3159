//! The one rule every JSON document accepted from outside must meet, so that everything
//! stored can be read back by every reader (the events API, export, verify, the
//! dispatcher, the worker).
//!
//! Accepted documents are wrapped before they are stored (transition data sits inside an
//! event's `data`, a guard's inputs inside `guard`, a context inside the template context),
//! adding at most a handful of levels. serde_json refuses documents nested deeper than
//! 128 levels when it reads them back, so input is held to [`MAX_DEPTH`] = 32, leaving
//! ample room. PostgreSQL's `jsonb` cannot hold the NUL character, so it is refused here
//! too rather than failing at insert.

use serde_json::Value;

use crate::json_path::JsonPath;

/// The deepest nesting of arrays and objects accepted in a request body.
pub const MAX_DEPTH: usize = 32;

/// Why a document breaks the rule, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub path: JsonPath,
    pub message: String,
}

/// Checks `value` (found at `path`) against the rule.
pub fn check(value: &Value, path: &JsonPath) -> Result<(), Violation> {
    walk(value, path, 0)
}

fn walk(value: &Value, path: &JsonPath, depth: usize) -> Result<(), Violation> {
    let violation = |path: JsonPath, message: String| Err(Violation { path, message });
    match value {
        Value::String(s) if s.contains('\0') => violation(
            path.clone(),
            "text may not contain the NUL character".into(),
        ),
        Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => violation(
            path.clone(),
            format!("nested deeper than {MAX_DEPTH} levels of arrays and objects"),
        ),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| walk(item, &path.index(i), depth + 1)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            if k.contains('\0') {
                // The path names the key with the NUL written out, never the NUL itself.
                let shown = k.replace('\0', "\\u0000");
                return violation(
                    path.key(&shown),
                    "keys may not contain the NUL character".into(),
                );
            }
            walk(v, &path.key(k), depth + 1)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!(1), |inner, _| json!({ "a": inner }))
    }

    #[test]
    fn depth_is_limited_and_named() {
        assert!(check(&nested(MAX_DEPTH), &JsonPath::root()).is_ok());
        let err = check(&nested(MAX_DEPTH + 1), &JsonPath::root()).unwrap_err();
        assert!(err.path.to_string().starts_with("$.a.a"));
    }

    #[test]
    fn nul_characters_are_found_in_values_and_keys() {
        let doc = json!({"a": ["ok", "bad\u{0}"]});
        let err = check(&doc, &JsonPath::root()).unwrap_err();
        assert_eq!(err.path.to_string(), "$.a[1]");
        let doc = json!({"k\u{0}": 1});
        assert!(check(&doc, &JsonPath::root()).is_err());
    }
}
