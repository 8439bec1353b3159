//! The JSONLogic interpreter, metered: every node evaluated costs a step and every value
//! produced (a variable's copy, a concatenation, an array built by `map` or `merge`)
//! costs its size, so a designer's rule cannot loop or grow past its [`Budget`].

use serde_json::{Map, Value};

use super::coerce::{compare, loose_eq, number, strict_eq, to_js_string, to_number, truthy};
use crate::budget::{json_size, Budget, Exceeded};
use crate::json_path::lookup;

/// Every operator a guard may use.
pub const OPERATORS: &[&str] = &[
    "var",
    "missing",
    "missing_some",
    "if",
    "?:",
    "==",
    "===",
    "!=",
    "!==",
    "!",
    "!!",
    "or",
    "and",
    ">",
    ">=",
    "<",
    "<=",
    "max",
    "min",
    "+",
    "-",
    "*",
    "/",
    "%",
    "map",
    "filter",
    "reduce",
    "all",
    "none",
    "some",
    "merge",
    "in",
    "cat",
    "substr",
    "log",
];

/// Rules nest at most this deep (the API's input rule keeps them far shallower).
const MAX_DEPTH: usize = 64;

/// Why a rule could not be evaluated.
#[derive(Debug)]
pub enum EvalError {
    Budget(Exceeded),
    Invalid(String),
}

impl From<Exceeded> for EvalError {
    fn from(e: Exceeded) -> Self {
        EvalError::Budget(e)
    }
}

type Result<T> = std::result::Result<T, EvalError>;

fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::Invalid(message.into()))
}

/// Evaluates `rule` against `data` within `budget`.
pub fn eval(rule: &Value, data: &Value, budget: &mut Budget) -> Result<Value> {
    Interpreter { budget, depth: 0 }.eval(rule, data)
}

/// The operator and its arguments when `rule` is an operation (an object with one key).
pub fn operation(rule: &Value) -> Option<(&str, &[Value])> {
    let Value::Object(map) = rule else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    let (op, args) = map.iter().next()?;
    let args = match args {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    Some((op.as_str(), args))
}

struct Interpreter<'b> {
    budget: &'b mut Budget,
    depth: usize,
}

impl Interpreter<'_> {
    fn eval(&mut self, rule: &Value, data: &Value) -> Result<Value> {
        self.budget.steps(1)?;
        if let Value::Array(items) = rule {
            return items.iter().map(|item| self.nested(item, data)).collect();
        }
        let Some((op, args)) = operation(rule) else {
            // Literals (and objects of several keys) are data.
            self.budget.bytes(json_size(rule))?;
            return Ok(rule.clone());
        };
        self.apply(op, args, data)
    }

    fn nested(&mut self, rule: &Value, data: &Value) -> Result<Value> {
        if self.depth >= MAX_DEPTH {
            return invalid(format!("the rule nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let result = self.eval(rule, data);
        self.depth -= 1;
        result
    }

    fn arg(&mut self, args: &[Value], i: usize, data: &Value) -> Result<Value> {
        match args.get(i) {
            Some(rule) => self.nested(rule, data),
            None => Ok(Value::Null),
        }
    }

    fn all_args(&mut self, args: &[Value], data: &Value) -> Result<Vec<Value>> {
        args.iter().map(|a| self.nested(a, data)).collect()
    }

    fn produced(&mut self, value: Value) -> Result<Value> {
        self.budget.bytes(json_size(&value))?;
        Ok(value)
    }

    fn apply(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        match op {
            "var" => self.var(args, data),
            "missing" => self.missing(args, data),
            "missing_some" => self.missing_some(args, data),
            "if" | "?:" => self.if_(args, data),
            "and" | "or" => self.and_or(op == "and", args, data),
            "!" => Ok(Value::Bool(!truthy(&self.arg(args, 0, data)?))),
            "!!" => Ok(Value::Bool(truthy(&self.arg(args, 0, data)?))),
            "==" | "!=" | "===" | "!==" => {
                let (a, b) = (self.arg(args, 0, data)?, self.arg(args, 1, data)?);
                let equal = if op.len() == 3 {
                    strict_eq(&a, &b)
                } else {
                    loose_eq(&a, &b)
                };
                Ok(Value::Bool(equal == op.starts_with('=')))
            }
            ">" | ">=" | "<" | "<=" => self.relation(op, args, data),
            "max" | "min" => self.extreme(op == "max", args, data),
            "+" | "*" => self.fold(op == "+", args, data),
            "-" | "/" | "%" => self.binary(op, args, data),
            "map" | "filter" | "all" | "none" | "some" => self.iterate(op, args, data),
            "reduce" => self.reduce(args, data),
            "merge" => self.merge(args, data),
            "in" => self.in_(args, data),
            "cat" => {
                let text: String = self
                    .all_args(args, data)?
                    .iter()
                    .map(to_js_string)
                    .collect();
                self.produced(Value::String(text))
            }
            "substr" => self.substr(args, data),
            // Designers' rules never write to the service's log.
            "log" => self.arg(args, 0, data),
            other => invalid(format!("unknown operator '{other}'")),
        }
    }

    fn var(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let path = self.arg(args, 0, data)?;
        let path = match &path {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return invalid("a variable's name must be a string or a number"),
        };
        match lookup(data, &path) {
            Some(found) => self.produced(found.clone()),
            None => self.arg(args, 1, data),
        }
    }

    fn missing(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let mut names = self.all_args(args, data)?;
        if let Some(Value::Array(first)) = names.first() {
            names = first.clone();
        }
        let absent = names
            .into_iter()
            .filter(|name| {
                let path = match name {
                    Value::String(s) => s.clone(),
                    other => to_js_string(other),
                };
                matches!(lookup(data, &path), None | Some(Value::Null))
                    || lookup(data, &path) == Some(&Value::String(String::new()))
            })
            .collect();
        self.produced(Value::Array(absent))
    }

    fn missing_some(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let need = to_number(&self.arg(args, 0, data)?);
        let names = self.arg(args, 1, data)?;
        let Value::Array(names) = names else {
            return invalid("missing_some takes [count, [names]]");
        };
        let total = names.len() as f64;
        let absent = self.missing(&[Value::Array(names)], data)?;
        let found = total - absent.as_array().map_or(0, Vec::len) as f64;
        Ok(if found >= need {
            Value::Array(vec![])
        } else {
            absent
        })
    }

    fn if_(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let mut i = 0;
        while i + 1 < args.len() {
            if truthy(&self.nested(&args[i], data)?) {
                return self.nested(&args[i + 1], data);
            }
            i += 2;
        }
        self.arg(args, i, data)
    }

    fn and_or(&mut self, is_and: bool, args: &[Value], data: &Value) -> Result<Value> {
        let mut last = Value::Null;
        for rule in args {
            last = self.nested(rule, data)?;
            if truthy(&last) != is_and {
                break;
            }
        }
        Ok(last)
    }

    fn relation(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        use std::cmp::Ordering::*;
        let values = self.all_args(args, data)?;
        let holds = |a: &Value, b: &Value| match (op, compare(a, b)) {
            (_, None) => false,
            (">", Some(o)) => o == Greater,
            (">=", Some(o)) => o != Less,
            ("<", Some(o)) => o == Less,
            (_, Some(o)) => o != Greater,
        };
        // `<` and `<=` with three arguments test "between".
        let pairs = if values.len() >= 3 && op.starts_with('<') {
            2
        } else {
            1
        };
        let null = Value::Null;
        let at = |i: usize| values.get(i).unwrap_or(&null);
        Ok(Value::Bool((0..pairs).all(|i| holds(at(i), at(i + 1)))))
    }

    fn extreme(&mut self, is_max: bool, args: &[Value], data: &Value) -> Result<Value> {
        let numbers: Vec<f64> = self.all_args(args, data)?.iter().map(to_number).collect();
        if numbers.is_empty() || numbers.iter().any(|n| n.is_nan()) {
            return Ok(Value::Null);
        }
        let pick = if is_max { f64::max } else { f64::min };
        let first = numbers[0];
        Ok(number(numbers.into_iter().fold(first, pick)).unwrap_or(Value::Null))
    }

    fn fold(&mut self, is_sum: bool, args: &[Value], data: &Value) -> Result<Value> {
        let values = self.all_args(args, data)?;
        let mut acc = if is_sum { 0.0 } else { 1.0 };
        for v in &values {
            let n = to_number(v);
            acc = if is_sum { acc + n } else { acc * n };
        }
        arithmetic(acc)
    }

    fn binary(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        let a = to_number(&self.arg(args, 0, data)?);
        if op == "-" && args.len() == 1 {
            return arithmetic(-a);
        }
        let b = to_number(&self.arg(args, 1, data)?);
        if op != "-" && b == 0.0 {
            return invalid(format!("'{op}' by zero"));
        }
        arithmetic(match op {
            "-" => a - b,
            "/" => a / b,
            _ => a % b,
        })
    }

    fn iterate(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        let items = match self.arg(args, 0, data)? {
            Value::Array(items) => items,
            _ if op == "all" => return Ok(Value::Bool(false)),
            _ if op == "none" => return Ok(Value::Bool(true)),
            _ if op == "some" => return Ok(Value::Bool(false)),
            _ => return Ok(Value::Array(vec![])),
        };
        let body = args.get(1).unwrap_or(&Value::Null);
        if op == "all" && items.is_empty() {
            return Ok(Value::Bool(false));
        }
        let mut out = Vec::new();
        for item in items {
            let result = self.nested(body, &item)?;
            match op {
                "map" => out.push(self.produced(result)?),
                "filter" if truthy(&result) => out.push(self.produced(item)?),
                "all" if !truthy(&result) => return Ok(Value::Bool(false)),
                "some" if truthy(&result) => return Ok(Value::Bool(true)),
                "none" if truthy(&result) => return Ok(Value::Bool(false)),
                _ => {}
            }
        }
        Ok(match op {
            "all" | "none" => Value::Bool(true),
            "some" => Value::Bool(false),
            _ => Value::Array(out),
        })
    }

    fn reduce(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let items = match self.arg(args, 0, data)? {
            Value::Array(items) => items,
            _ => vec![],
        };
        let body = args.get(1).unwrap_or(&Value::Null);
        let mut accumulator = self.arg(args, 2, data)?;
        for current in items {
            let mut scope = Map::new();
            scope.insert("current".into(), current);
            scope.insert("accumulator".into(), accumulator);
            accumulator = self.nested(body, &Value::Object(scope))?;
        }
        Ok(accumulator)
    }

    fn merge(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let mut out = Vec::new();
        for value in self.all_args(args, data)? {
            match value {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
        }
        self.produced(Value::Array(out))
    }

    fn in_(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let needle = self.arg(args, 0, data)?;
        Ok(Value::Bool(match self.arg(args, 1, data)? {
            Value::String(hay) => hay.contains(&to_js_string(&needle)),
            Value::Array(items) => items.iter().any(|v| strict_eq(v, &needle)),
            _ => false,
        }))
    }

    fn substr(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let chars: Vec<char> = to_js_string(&self.arg(args, 0, data)?).chars().collect();
        let len = chars.len() as i64;
        let clamp = |i: i64| i.clamp(0, len) as usize;
        let start = to_number(&self.arg(args, 1, data)?);
        let start = if start.is_nan() { 0 } else { start as i64 };
        let start = clamp(if start < 0 { len + start } else { start });
        let end = match args.get(2) {
            None => chars.len(),
            Some(_) => {
                let n = to_number(&self.arg(args, 2, data)?);
                let n = if n.is_nan() { 0 } else { n as i64 };
                if n < 0 {
                    clamp(len + n).max(start)
                } else {
                    clamp(start as i64 + n)
                }
            }
        };
        self.produced(Value::String(chars[start..end].iter().collect()))
    }
}

fn arithmetic(result: f64) -> Result<Value> {
    match number(result) {
        Some(v) => Ok(v),
        None => invalid("the arithmetic has no number as its result"),
    }
}

#[cfg(test)]
mod tests {
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
            json!("a1null")
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
        let err = eval(&rule, &data, &mut Budget::new(Limits::GUARD)).unwrap_err();
        assert!(matches!(err, EvalError::Budget(Exceeded::Bytes(_))));
    }

    #[test]
    fn a_long_loop_runs_out_of_steps() {
        let rule = json!({"map": [{"var": "xs"}, {"+": [{"var": ""}, 1, 2, 3, 4, 5, 6]}]});
        let data = json!({"xs": (0..20_000).collect::<Vec<_>>()});
        let err = eval(&rule, &data, &mut Budget::new(Limits::GUARD)).unwrap_err();
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
}
