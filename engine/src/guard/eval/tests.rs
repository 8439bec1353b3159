//! The interpreter's operators and budgets.
use super::*;
use crate::budget::Limits;
use serde_json::json;

fn run(rule: Value, data: Value) -> Value {
    eval(&rule, &data, &mut Budget::new(Limits::GUARD)).unwrap()
}

#[test]
fn the_reference_operators_work() {
    let data = json!({"a": 5, "s": "hello", "xs": [1, 2, 3, 4], "o": {"k": null}});
    assert_eq!(
        run(json!({"+": [1, "2", {"var": "a"}]}), data.clone()),
        json!(8)
    );
    assert_eq!(run(json!({"-": [{"var": "a"}]}), data.clone()), json!(-5));
    assert_eq!(
        run(json!({"<": [1, {"var": "a"}, 10]}), data.clone()),
        json!(true)
    );
    assert_eq!(
        run(json!({"if": [false, 1, {"var": "zz"}, 2, 3]}), data.clone()),
        json!(3)
    );
    assert_eq!(run(json!({"or": [0, "", "x"]}), data.clone()), json!("x"));
    assert_eq!(run(json!({"and": [1, 0, 2]}), data.clone()), json!(0));
    assert_eq!(
        run(
            json!({"map": [{"var": "xs"}, {"*": [{"var": ""}, 2]}]}),
            data.clone()
        ),
        json!([2, 4, 6, 8])
    );
    assert_eq!(
        run(
            json!({"filter": [{"var": "xs"}, {">": [{"var": ""}, 2]}]}),
            data.clone()
        ),
        json!([3, 4])
    );
    assert_eq!(
        run(
            json!({"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}),
            data.clone()
        ),
        json!(10)
    );
    assert_eq!(
        run(
            json!({"some": [{"var": "xs"}, {"==": [{"var": ""}, 3]}]}),
            data.clone()
        ),
        json!(true)
    );
    assert_eq!(run(json!({"all": [[], true]}), data.clone()), json!(false));
    assert_eq!(
        run(json!({"merge": [[1], 2, [3, [4]]]}), data.clone()),
        json!([1, 2, 3, [4]])
    );
    assert_eq!(
        run(json!({"in": ["ell", {"var": "s"}]}), data.clone()),
        json!(true)
    );
    assert_eq!(
        run(json!({"cat": ["a", 1, null]}), data.clone()),
        json!("a1")
    );
    assert_eq!(
        run(json!({"substr": [{"var": "s"}, -3, 2]}), data.clone()),
        json!("ll")
    );
    assert_eq!(
        run(json!({"missing": ["a", "b", "o.k"]}), data.clone()),
        json!(["b", "o.k"])
    );
    assert_eq!(
        run(json!({"missing_some": [1, ["a", "b"]]}), data.clone()),
        json!([])
    );
    assert_eq!(
        run(json!({"var": ["nope", "default"]}), data.clone()),
        json!("default")
    );
    assert_eq!(run(json!({"max": [1, 7, "3"]}), data), json!(7));
}

#[test]
fn a_doubling_reduce_runs_out_of_memory_not_the_process() {
    let rule = json!({"reduce": [
        {"var": "xs"},
        {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]},
        "xxxxxxxxxxxxxxxx"
    ]});
    let data = json!({"xs": (0..64).collect::<Vec<_>>()});
    let err = eval(&rule, &data, &mut Budget::new(Limits::GUARD.untimed())).unwrap_err();
    assert!(matches!(err, EvalError::Budget(Exceeded::Bytes(_))));
}

#[test]
fn a_long_loop_runs_out_of_steps() {
    let rule = json!({"map": [{"var": "xs"}, {"+": [{"var": ""}, 1, 2, 3, 4, 5, 6]}]});
    let data = json!({"xs": (0..20_000).collect::<Vec<_>>()});
    let err = eval(&rule, &data, &mut Budget::new(Limits::GUARD.untimed())).unwrap_err();
    assert!(matches!(err, EvalError::Budget(Exceeded::Steps(_))));
}

#[test]
fn division_by_zero_is_an_error_not_infinity() {
    let err = eval(
        &json!({"/": [1, 0]}),
        &json!({}),
        &mut Budget::new(Limits::GUARD),
    );
    assert!(matches!(err, Err(EvalError::Invalid(_))));
}

/// Numbers compare as numbers (1 equals 1.0), everything else as JSON.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn the_official_jsonlogic_suite_passes() {
    let suite: Vec<Value> = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/jsonlogic/tests.json"
    )))
    .unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for case in suite.iter().filter_map(Value::as_array) {
        let [rule, data, expected] = case.as_slice() else {
            panic!("a case is [rule, data, expected]: {case:?}");
        };
        cases += 1;
        match eval(rule, data, &mut Budget::new(Limits::GUARD.untimed())) {
            Ok(got) if same(&got, expected) => {}
            outcome => failures.push(format!("{rule} on {data}: {outcome:?}, not {expected}")),
        }
    }
    assert_eq!(cases, 277, "the whole suite ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cat_treats_null_as_empty() {
    assert_eq!(
        run(json!({"cat": ["a", {"var": "missing"}, "b"]}), json!({})),
        json!("ab")
    );
    assert_eq!(run(json!({"cat": ["a", 1, null]}), json!({})), json!("a1"));
}

#[test]
fn substr_never_overflows() {
    for rule in [
        json!({"substr": ["abcdef", 2, 1e300]}),
        json!({"substr": ["abcdef", 1e300, 2]}),
        json!({"substr": ["abcdef", -1e300, -1e300]}),
        json!({"substr": ["abcdef", 9.2e18, 9.2e18]}),
        json!({"substr": ["abcdef", -9.2e18, 9.2e18]}),
    ] {
        eval(&rule, &json!({}), &mut Budget::new(Limits::GUARD)).unwrap();
    }
    assert_eq!(
        run(json!({"substr": ["abcdef", 2, 1e300]}), json!({})),
        json!("cdef")
    );
    assert_eq!(
        run(json!({"substr": ["abcdef", -1e300, 2]}), json!({})),
        json!("ab")
    );
}

#[test]
fn a_missing_comparison_operand_compares_false() {
    for rule in [
        json!({">": [1]}),
        json!({">=": [{"var": "x"}]}),
        json!({"<": [1]}),
        json!({"<=": []}),
        json!({"<": [1, 2, {"var": "x"}]}),
    ] {
        assert_eq!(run(rule.clone(), json!({})), json!(false), "{rule}");
    }
}

#[test]
fn minus_without_operands_is_an_error_not_zero() {
    let err = eval(
        &json!({"-": []}),
        &json!({}),
        &mut Budget::new(Limits::GUARD),
    );
    assert!(matches!(err, Err(EvalError::Invalid(_))));
    assert_eq!(run(json!({"-": ["5"]}), json!({})), json!(-5));
}
