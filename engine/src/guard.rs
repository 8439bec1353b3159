//! Transition guards: JSONLogic rules evaluated against the template context.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json_path::lookup;

/// The result of evaluating a guard, with the variables it read (for the event and for
/// the 409 that explains a rejection).
#[derive(Clone, Debug, Serialize)]
pub struct GuardOutcome {
    pub passed: bool,
    pub inputs: Map<String, Value>,
}

/// Checks that `rule` is valid JSONLogic: it compiles and names only known operators.
pub fn check(rule: &Value) -> Result<(), String> {
    datalogic_rs::compile(rule).map_err(|err| err.to_string())?;
    // Compiling accepts any operator name; evaluation would only reject an unknown one on
    // the branch it takes. So each operator the rule uses is probed on its own.
    let mut operators = Vec::new();
    collect_operators(rule, &mut operators);
    for op in operators {
        let probe = serde_json::json!({ op.as_str(): [] });
        if let Err(err) = datalogic_rs::eval_str(&probe, "{}") {
            if matches!(err.kind, datalogic_rs::ErrorKind::InvalidOperator(_)) {
                return Err(format!("unknown operator '{op}'"));
            }
        }
    }
    Ok(())
}

fn collect_operators(rule: &Value, out: &mut Vec<String>) {
    match rule {
        Value::Object(map) => {
            if map.len() == 1 {
                out.extend(map.keys().cloned());
            }
            map.values().for_each(|v| collect_operators(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_operators(v, out)),
        _ => {}
    }
}

/// Evaluates `rule` against `context` with JSONLogic truthiness.
pub fn evaluate(rule: &Value, context: &Value) -> Result<GuardOutcome, String> {
    // `!!` applies JSONLogic's own truthiness ([] and "" are false, "0" is true, ...).
    let wrapped = serde_json::json!({ "!!": [rule] });
    let result: Value =
        datalogic_rs::eval_into(&wrapped, context).map_err(|err| err.to_string())?;
    let mut inputs = Map::new();
    collect_vars(rule, context, &mut inputs);
    Ok(GuardOutcome {
        passed: result == Value::Bool(true),
        inputs,
    })
}

/// Every `{"var": path}` in `rule`, with the value it resolves to (null when missing).
fn collect_vars(rule: &Value, context: &Value, inputs: &mut Map<String, Value>) {
    match rule {
        Value::Object(map) => {
            for (op, args) in map {
                if op == "var" {
                    let path = match args {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        Value::Array(items) => items.first().and_then(|p| match p {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        }),
                        _ => None,
                    };
                    if let Some(path) = path {
                        let seen = lookup(context, &path).cloned().unwrap_or(Value::Null);
                        inputs.insert(path, seen);
                    }
                }
                collect_vars(args, context, inputs);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_vars(item, context, inputs)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn given_a_present_technician_when_evaluated_then_the_guard_passes() {
        let rule = json!({"!!": [{"var": "transition.data.technician"}]});
        let ctx = json!({"transition": {"data": {"technician": "ana"}}});
        let outcome = evaluate(&rule, &ctx).unwrap();
        assert!(outcome.passed);
        assert_eq!(outcome.inputs["transition.data.technician"], json!("ana"));
    }

    #[test]
    fn given_a_missing_variable_when_evaluated_then_the_guard_fails_and_reports_null() {
        let rule = json!({">": [{"var": "job.context.amount"}, 100]});
        let outcome = evaluate(&rule, &json!({"job": {"context": {}}})).unwrap();
        assert!(!outcome.passed);
        assert_eq!(outcome.inputs["job.context.amount"], Value::Null);
    }

    #[test]
    fn truthiness_follows_jsonlogic() {
        let ctx = json!({"a": [], "b": "0", "c": 0});
        assert!(!evaluate(&json!({"var": "a"}), &ctx).unwrap().passed);
        assert!(evaluate(&json!({"var": "b"}), &ctx).unwrap().passed);
        assert!(!evaluate(&json!({"var": "c"}), &ctx).unwrap().passed);
    }

    #[test]
    fn unknown_operators_do_not_compile() {
        assert!(check(&json!({"no_such_operator": [1, 2]})).is_err());
        assert!(check(&json!({"and": [false, {"typo_op": 1}]})).is_err());
        assert!(check(&json!({"and": [true, {"==": [1, 1]}]})).is_ok());
    }
}
