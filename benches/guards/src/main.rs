//! Evaluations per second of JSONLogic rules over 100 elements: the guard interpreter
//! (`switchyard_engine::guard::evaluate`, with its budget and the inputs it reports) and
//! datalogic-rs 5 (`eval_into`, compile and evaluate per call). Prints one line per rule:
//! the median of seven rounds for each, and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ROUNDS: usize = 7;
const ROUND: Duration = Duration::from_millis(400);

/// Calls per second of `f`, the median of the rounds.
fn rate(mut f: impl FnMut()) -> f64 {
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            while start.elapsed() < ROUND {
                for _ in 0..50 {
                    f();
                }
                calls += 50;
            }
            calls as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

fn main() {
    let xs: Vec<i64> = (0..100).collect();
    let items: Vec<Value> = (0..100).map(|i| json!({"qty": i, "sku": format!("s{i}")})).collect();
    let context = json!({"job": {"context": {"xs": xs, "items": items}}});
    let rules = [
        (
            "map (x2) over 100 numbers",
            json!({"!!": {"map": [{"var": "job.context.xs"}, {"*": [{"var": ""}, 2]}]}}),
        ),
        (
            "reduce (sum) over 100 numbers",
            json!({">": [{"reduce": [{"var": "job.context.xs"},
                {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}, 100]}),
        ),
        (
            "filter over 100 objects",
            json!({"!!": {"filter": [{"var": "job.context.items"},
                {">": [{"var": "qty"}, 50]}]}}),
        ),
        (
            "some over 100 objects",
            json!({"some": [{"var": "job.context.items"}, {"==": [{"var": "sku"}, "s99"]}]}),
        ),
    ];
    // An argument keeps only the rules whose name contains it.
    let only = std::env::args().nth(1).unwrap_or_default();
    println!("{:<32} {:>14} {:>14} {:>7}", "rule", "guard/s", "datalogic/s", "ratio");
    for (name, rule) in rules.into_iter().filter(|(name, _)| name.contains(&only)) {
        let ours = switchyard_engine::guard::evaluate(&rule, &context).unwrap();
        let theirs: Value = datalogic_rs::eval_into(&rule, &context).unwrap();
        assert_eq!(Value::Bool(ours.passed), theirs, "{name}: both agree");
        let guard = rate(|| {
            black_box(switchyard_engine::guard::evaluate(black_box(&rule), &context).unwrap());
        });
        let datalogic = rate(|| {
            let out: Value = datalogic_rs::eval_into(black_box(&rule), &context).unwrap();
            black_box(out);
        });
        println!(
            "{name:<32} {guard:>14.0} {datalogic:>14.0} {:>7.2}",
            guard / datalogic
        );
    }
}
