//! JSONLogic's JavaScript-flavoured value rules: truthiness, numbers, strings, loose
//! equality and ordering, as the reference implementation (json-logic-js) applies them.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// JavaScript truthiness: `false`, `null`, `0`, `""` and `[]` are false (as in
/// json-logic-js, an empty array is false too); everything else is true.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(_) => true,
    }
}

/// JavaScript's `Number(value)`; NaN for what has no number.
pub fn to_number(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                0.0
            } else {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .unwrap_or(f64::NAN)
            }
        }
        Value::Array(items) => match items.as_slice() {
            [] => 0.0,
            [one] => to_number(&Value::String(to_js_string(one))),
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN,
    }
}

/// JavaScript's `String(value)`, as `cat` joins values.
pub fn to_js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => to_js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// A number as JSON: whole numbers as integers; NaN and infinities have no JSON form.
pub fn number(f: f64) -> Option<Value> {
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Value::Number(Number::from(f as i64)));
    }
    Number::from_f64(f).map(Value::Number)
}

/// JavaScript's `===`, with arrays and objects compared by value.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// JavaScript's `==`.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Null, Null) => true,
        (Null, _) | (_, Null) => false,
        (Number(_), Number(_)) | (String(_), String(_)) | (Bool(_), Bool(_)) => strict_eq(a, b),
        (Array(_) | Object(_), Array(_) | Object(_)) => a == b,
        (Array(_) | Object(_), _) => loose_eq(&String(to_js_string(a)), b),
        (_, Array(_) | Object(_)) => loose_eq(a, &String(to_js_string(b))),
        _ => to_number(a) == to_number(b),
    }
}

/// JavaScript's relational comparison: two strings compare as text, anything else as
/// numbers; `None` when either side is NaN (every comparison is then false).
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => to_number(a).partial_cmp(&to_number(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_equality_follows_javascript() {
        assert!(loose_eq(&json!(1), &json!("1")));
        assert!(loose_eq(&json!(0), &json!(false)));
        assert!(loose_eq(&json!("1"), &json!(true)));
        assert!(!loose_eq(&json!(null), &json!(0)));
        assert!(loose_eq(&json!([1]), &json!("1")));
        assert!(!loose_eq(&json!("a"), &json!("b")));
    }

    #[test]
    fn comparison_is_textual_for_two_strings_and_numeric_otherwise() {
        assert_eq!(compare(&json!("10"), &json!("9")), Some(Ordering::Less));
        assert_eq!(compare(&json!("10"), &json!(9)), Some(Ordering::Greater));
        assert_eq!(compare(&json!("x"), &json!(9)), None);
    }

    #[test]
    fn numbers_and_strings_convert_like_javascript() {
        assert_eq!(to_number(&json!(" 12.5 ")), 12.5);
        assert!(to_number(&json!("12px")).is_nan());
        assert_eq!(to_js_string(&json!(3.0)), "3");
        assert_eq!(to_js_string(&json!([1, null, "a"])), "1,,a");
        assert_eq!(number(2.0), Some(json!(2)));
        assert_eq!(number(f64::INFINITY), None);
    }
}
