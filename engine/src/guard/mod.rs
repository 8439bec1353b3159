//! Transition guards: JSONLogic rules evaluated against the template context.
//!
//! Rules are written by untrusted designers and read data sent by untrusted services, so
//! they run in Switchyard's own metered interpreter ([`eval`]): the operators of the
//! JSONLogic reference with its JavaScript value rules ([`coerce`]), under a budget of
//! steps, bytes and time ([`crate::budget::Budgets::guard`]), on a blocking thread rather
//! than an async worker thread ([`evaluate_off_thread`]).

mod arrays;
mod coerce;
mod eval;
mod explain;
mod numbers;
mod reads;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::budget::{self, Budget};
use crate::json_path::lookup;
pub use eval::OPERATORS;
use eval::{operation, EvalError};
pub use explain::explain;
pub use reads::may_read_root_key;

/// The result of evaluating a guard, with the variables it read (for the event and for
/// the 409 that explains a rejection).
#[derive(Clone, Debug, Serialize)]
pub struct GuardOutcome {
    pub passed: bool,
    pub inputs: Map<String, Value>,
}

/// Checks that `rule` is valid JSONLogic: every operation names a known operator, and
/// every variable is named by a string, a number or a list of a name and a default.
pub fn check(rule: &Value) -> Result<(), String> {
    match rule {
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(_) => match operation(rule) {
            Some((op, args)) => {
                if !OPERATORS.contains(&op) {
                    return Err(format!(
                        "unknown operator '{op}' (known: {})",
                        OPERATORS.join(" ")
                    ));
                }
                if op == "var" {
                    if let Some(first) = args.first() {
                        if !matches!(first, Value::String(_) | Value::Number(_) | Value::Null)
                            && operation(first).is_none()
                        {
                            return Err("'var' takes a name: a string or a number".into());
                        }
                    }
                }
                args.iter().try_for_each(check)
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Evaluates `rule` against `context` with JSONLogic truthiness, within the guard budget.
pub fn evaluate(rule: &Value, context: &Value) -> Result<GuardOutcome, String> {
    let mut budget = Budget::new(budget::current().guard);
    let (result, loop_reads) =
        eval::eval_reading(rule, context, &mut budget).map_err(|err| match err {
            EvalError::Budget(exceeded) => format!("the guard was stopped: {exceeded}"),
            EvalError::Invalid(message) => message,
        })?;
    let mut inputs = Map::new();
    collect_vars(rule, context, &mut inputs);
    for (path, values) in loop_reads {
        // A root path read both outside and inside a loop keeps its root value.
        inputs.entry(path).or_insert(values);
    }
    Ok(GuardOutcome {
        passed: coerce::truthy(&result),
        inputs,
    })
}

/// [`evaluate`] on a blocking thread, so a slow rule never stalls the async runtime; a
/// panic in the interpreter becomes an error of this guard.
pub async fn evaluate_off_thread(rule: Value, context: Value) -> Result<GuardOutcome, String> {
    tokio::task::spawn_blocking(move || evaluate(&rule, &context))
        .await
        .unwrap_or_else(|_| Err("the guard could not be evaluated".into()))
}

/// Every `{"var": path}` in `rule` outside loop bodies, with the value it resolves to in
/// the context (null when missing). Loop bodies read the loop's items: evaluation reports
/// those.
fn collect_vars(rule: &Value, context: &Value, inputs: &mut Map<String, Value>) {
    match rule {
        Value::Object(map) => {
            for (op, args) in map {
                if let (true, Value::Array(items)) = (is_loop(op), args) {
                    // Argument 1 is the body; the others (the list, reduce's initial
                    // value) read the root context.
                    items
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 1)
                        .for_each(|(_, item)| collect_vars(item, context, inputs));
                    continue;
                }
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

/// Whether `op` runs a body (its argument 1) for each item of a list.
fn is_loop(op: &str) -> bool {
    matches!(op, "map" | "filter" | "all" | "some" | "none" | "reduce")
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
    fn inputs_read_inside_loops_show_the_loops_values() {
        let rule = json!({"and": [
            {"some": [{"var": "job.context.items"}, {">": [{"var": "qty"}, 2]}]},
            {"reduce": [{"var": "job.context.items"},
                {"+": [{"var": "accumulator"}, {"var": "current.qty"}]}, 0]}
        ]});
        let ctx = json!({"job": {"context": {"items": [{"qty": 1}, {"qty": 3}]}}});
        let outcome = evaluate(&rule, &ctx).unwrap();
        assert!(outcome.passed);
        assert_eq!(outcome.inputs["qty"], json!([1, 3]));
        assert_eq!(outcome.inputs["current.qty"], json!([1, 3]));
        assert_eq!(outcome.inputs["accumulator"], json!([0, 1]));
        assert_eq!(
            outcome.inputs["job.context.items"],
            json!([{"qty": 1}, {"qty": 3}])
        );
    }

    #[test]
    fn a_loop_reports_at_most_its_first_values() {
        let rule = json!({"all": [{"var": "xs"}, {">=": [{"var": ""}, 0]}]});
        let ctx = json!({"xs": (0..150).collect::<Vec<_>>()});
        let outcome = evaluate(&rule, &ctx).unwrap();
        assert!(outcome.passed);
        let values = outcome.inputs[""].as_array().unwrap();
        assert_eq!(values.len(), eval::MAX_LOOP_VALUES);
        assert_eq!(values[0], json!(0));
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

    #[test]
    fn a_runaway_guard_is_a_named_error() {
        let rule = json!({"reduce": [{"var": "xs"},
            {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "x"]});
        let ctx = json!({"xs": (0..40).collect::<Vec<_>>()});
        let err = evaluate(&rule, &ctx).unwrap_err();
        assert!(err.contains("memory budget"), "{err}");
    }
}
