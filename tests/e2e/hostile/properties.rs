//! Property-based tests of the two evaluators of designers' code: whatever guard or
//! template is generated, evaluation returns (a value or a named error) within its
//! budget and never panics.

use proptest::prelude::*;
use serde_json::{json, Value};
use switchyard_engine::budget::Limits;
use switchyard_engine::{guard, template};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9 .]{0,8}".prop_map(Value::from),
        Just(json!({"var": "xs"})),
        Just(json!({"var": "s"})),
        Just(json!({"var": "accumulator"})),
        Just(json!({"var": "current"})),
        Just(json!({"var": ""})),
        Just(json!([1, 2, 3])),
    ]
}

fn rule() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(8, 96, 4, |inner| {
        (
            prop::sample::select(guard::OPERATORS),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(op, args)| json!({ op: args }))
    })
}

fn data() -> impl Strategy<Value = Value> {
    (prop::collection::vec(leaf(), 0..60), "[a-z]{0,64}")
        .prop_map(|(xs, s)| json!({"xs": xs, "s": s, "n": 3}))
}

fn template_source() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("{{#each items}}"),
        Just("{{#each @root.items}}"),
        Just("{{/each}}"),
        Just("{{#if a}}"),
        Just("{{/if}}"),
        Just("{{else}}"),
        Just("{{#with obj}}"),
        Just("{{/with}}"),
        Just("{{items}}"),
        Just("{{@root.big}}"),
        Just("{{@index}}"),
        Just("{{this}}"),
        Just("{{lookup items 0}}"),
        Just("{{> p}}"),
        Just("{{#*inline \"p\"}}"),
        Just("{{/inline}}"),
        Just("{{log \"x\"}}"),
        Just("(("),
        Just("))"),
        Just("{{"),
        Just("}}"),
        Just("text "),
    ];
    prop::collection::vec(fragment, 0..48).prop_map(|parts| parts.concat())
}

fn template_context() -> Value {
    json!({"items": (0..300).collect::<Vec<_>>(), "a": true, "obj": {"k": "v"},
           "big": "x".repeat(20_000)})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_guard_ends_with_a_value_or_a_named_error(rule in rule(), data in data()) {
        let checked = guard::check(&rule);
        match guard::evaluate(&rule, &data) {
            Ok(_) => {}
            Err(message) => {
                prop_assert!(!message.is_empty());
                // What publishing accepts, evaluation understands.
                prop_assert!(checked.is_err() || !message.contains("unknown operator"));
            }
        }
    }

    #[test]
    fn any_template_compiles_or_is_refused_and_renders_within_its_budget(source in template_source()) {
        let context = template_context();
        if template::check(&source).is_ok() {
            match template::render_payload(None, Some(&json!({"x": source})), &context) {
                Ok((_, Some(body))) => {
                    let text = body["x"].as_str().map_or(0, str::len);
                    prop_assert!(text <= Limits::TEMPLATE.bytes);
                }
                Ok(_) => {}
                Err(err) => prop_assert!(!err.to_string().is_empty()),
            }
        }
    }
}
