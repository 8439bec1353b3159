//! Which parts of the context a rule may read, decided from its text: a variable named by
//! a literal path reads that path; one whose path is computed (`{"var": {"cat": [...]}}`)
//! or empty (the whole context) may read anything.

use serde_json::Value;

/// A test of whether a rule may read the context's top-level `key`.
pub fn may_read_root_key(key: &'static str) -> impl Fn(&Value) -> bool {
    move |rule| may_read(rule, key)
}

fn may_read(rule: &Value, key: &str) -> bool {
    match rule {
        Value::Object(map) => map
            .iter()
            .any(|(op, args)| (op == "var" && var_may_read(args, key)) || may_read(args, key)),
        Value::Array(items) => items.iter().any(|item| may_read(item, key)),
        _ => false,
    }
}

/// `{"var": path}` or `{"var": [path, default]}`.
fn var_may_read(args: &Value, key: &str) -> bool {
    let path = match args {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    match path {
        Value::String(path) => path.is_empty() || path.split('.').next() == Some(key),
        // A number names an element of a list: never a key of the root object.
        Value::Number(_) => false,
        Value::Null => true,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reads(rule: Value) -> bool {
        may_read_root_key("last_actions")(&rule)
    }

    #[test]
    fn a_literal_path_reads_its_first_segment() {
        assert!(reads(
            json!({"==": [{"var": "last_actions.crm.status"}, "failed"]})
        ));
        assert!(reads(json!({"var": ["last_actions", {}]})));
        assert!(!reads(
            json!({"==": [{"var": "job.context.last_actions"}, 1]})
        ));
        assert!(!reads(json!({"var": 0})));
    }

    #[test]
    fn a_computed_or_empty_path_may_read_anything() {
        assert!(reads(
            json!({"!!": {"var": {"cat": ["last_", "actions.crm.status"]}}})
        ));
        assert!(reads(json!({"!!": {"var": ""}})));
        assert!(reads(json!({"!!": {"var": []}})));
    }
}
