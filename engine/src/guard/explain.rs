//! A guard in words, for people: `{"!!": [{"var": "transition.data.technician"}]}` needs
//! "a technician"; `{">": [{"var": "job.context.amount"}, 0]}` needs "amount above 0".
//! Only the common shapes (presence, comparisons, `in`, and `and`/`or`/`!` of those) are
//! worded; for the rest there is no wording and callers show the rule.

use serde_json::Value;

/// What `rule` needs, in words, or `None` for a shape not worded here.
pub fn explain(rule: &Value) -> Option<String> {
    let (op, args) = single(rule)?;
    let args: Vec<&Value> = match args {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match (op, args.as_slice()) {
        ("!!", [value]) => Some(format!("a {}", name(value)?)),
        ("!", [inner]) => negate(inner),
        ("and", parts) if !parts.is_empty() => join(parts, " and "),
        ("or", parts) if !parts.is_empty() => join(parts, " or "),
        ("in", [needle, Value::Array(options)]) => Some(format!(
            "{} to be one of {}",
            name(needle)?,
            options.iter().map(literal).collect::<Vec<_>>().join(", ")
        )),
        (op, [left, right]) => {
            let relation = match op {
                "==" | "===" => "to be",
                "!=" | "!==" => "not to be",
                ">" => "above",
                ">=" => "at least",
                "<" => "below",
                "<=" => "at most",
                _ => return None,
            };
            match (name(left), name(right)) {
                (Some(var), None) => Some(format!("{var} {relation} {}", literal(right))),
                (None, Some(var)) => Some(format!("{var} {} {}", mirror(relation), literal(left))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The one operator of a rule object and its arguments.
fn single(rule: &Value) -> Option<(&str, &Value)> {
    let map = rule.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter().next().map(|(k, v)| (k.as_str(), v))
}

fn negate(inner: &Value) -> Option<String> {
    match single(inner)? {
        ("var", _) => Some(format!("no {}", name(inner)?)),
        ("!!", args) => {
            let value = args.as_array().and_then(|a| a.first()).unwrap_or(args);
            Some(format!("no {}", name(value)?))
        }
        _ => None,
    }
}

fn join(parts: &[&Value], with: &str) -> Option<String> {
    let words: Option<Vec<String>> = parts.iter().map(|p| explain(p)).collect();
    Some(words?.join(with))
}

/// `{"var": "transition.data.technician"}` as `technician`: the last segment, underscores
/// as spaces.
fn name(value: &Value) -> Option<String> {
    let (op, args) = single(value)?;
    if op != "var" {
        return None;
    }
    let path = match args {
        Value::Array(items) => items.first()?.as_str()?,
        other => other.as_str()?,
    };
    let last = path.rsplit('.').next().filter(|s| !s.is_empty())?;
    Some(last.replace('_', " "))
}

fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The relation read the other way round (`0 < amount` is `amount above 0`).
fn mirror(relation: &str) -> &str {
    match relation {
        "above" => "below",
        "below" => "above",
        "at least" => "at most",
        "at most" => "at least",
        same => same,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_shapes_are_worded() {
        let cases = [
            (
                json!({"!!": [{"var": "transition.data.technician"}]}),
                "a technician",
            ),
            (
                json!({">": [{"var": "job.context.amount"}, 0]}),
                "amount above 0",
            ),
            (
                json!({"<": [0, {"var": "job.context.amount"}]}),
                "amount above 0",
            ),
            (
                json!({"==": [{"var": "transition.data.approver_role"}, "finance"]}),
                "approver role to be \"finance\"",
            ),
            (
                json!({"or": [{"<=": [{"var": "job.context.amount"}, 1000]},
                              {"==": [{"var": "transition.data.approver_role"}, "finance"]}]}),
                "amount at most 1000 or approver role to be \"finance\"",
            ),
            (
                json!({"in": [{"var": "transition.data.reason"}, ["late", "lost"]]}),
                "reason to be one of \"late\", \"lost\"",
            ),
            (json!({"!": {"var": "job.context.blocked"}}), "no blocked"),
        ];
        for (rule, words) in cases {
            assert_eq!(explain(&rule).as_deref(), Some(words), "{rule}");
        }
    }

    #[test]
    fn other_shapes_are_not_worded() {
        assert_eq!(
            explain(&json!({"some": [{"var": "x"}, {"var": "y"}]})),
            None
        );
        assert_eq!(explain(&json!({"==": [{"var": "a"}, {"var": "b"}]})), None);
        assert_eq!(explain(&json!(true)), None);
    }
}
