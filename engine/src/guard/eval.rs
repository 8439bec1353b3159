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

pub(super) type Result<T> = std::result::Result<T, EvalError>;

fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::Invalid(message.into()))
}

/// Evaluates `rule` against `data` within `budget`.
pub fn eval(rule: &Value, data: &Value, budget: &mut Budget) -> Result<Value> {
    eval_reading(rule, data, budget).map(|(value, _)| value)
}

/// [`eval`], also giving what each variable read inside a loop's body (`map`, `filter`,
/// `all`, `some`, `none`, `reduce`) resolved to: a list of its values, one per read, in
/// order. Those variables name the loop's own item, so the root context cannot say.
pub fn eval_reading(
    rule: &Value,
    data: &Value,
    budget: &mut Budget,
) -> Result<(Value, Map<String, Value>)> {
    let mut interpreter = Interpreter {
        budget,
        depth: 0,
        loops: 0,
        loop_reads: Map::new(),
    };
    let value = interpreter.eval(rule, data)?;
    Ok((value, interpreter.loop_reads))
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

pub(super) struct Interpreter<'b> {
    budget: &'b mut Budget,
    depth: usize,
    /// How many loop bodies the evaluation is inside.
    pub(super) loops: usize,
    loop_reads: Map<String, Value>,
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

    pub(super) fn nested(&mut self, rule: &Value, data: &Value) -> Result<Value> {
        if self.depth >= MAX_DEPTH {
            return invalid(format!("the rule nests deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let result = self.eval(rule, data);
        self.depth -= 1;
        result
    }

    pub(super) fn arg(&mut self, args: &[Value], i: usize, data: &Value) -> Result<Value> {
        match args.get(i) {
            Some(rule) => self.nested(rule, data),
            None => Ok(Value::Null),
        }
    }

    pub(super) fn all_args(&mut self, args: &[Value], data: &Value) -> Result<Vec<Value>> {
        args.iter().map(|a| self.nested(a, data)).collect()
    }

    pub(super) fn produced(&mut self, value: Value) -> Result<Value> {
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
                // As JavaScript's `join`: null (and a missing variable) is empty text.
                let text: String = self
                    .all_args(args, data)?
                    .iter()
                    .filter(|v| !v.is_null())
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
        let value = match lookup(data, &path) {
            Some(found) => self.produced(found.clone())?,
            None => self.arg(args, 1, data)?,
        };
        if self.loops > 0 {
            let seen = self.produced(value.clone())?;
            let reads = self
                .loop_reads
                .entry(path)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = reads {
                values.push(seen);
            }
        }
        Ok(value)
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
        // A missing operand is JavaScript's `undefined`, which compares false to anything.
        if values.len() < 2 {
            return Ok(Value::Bool(false));
        }
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
}

fn arithmetic(result: f64) -> Result<Value> {
    match number(result) {
        Some(v) => Ok(v),
        None => invalid("the arithmetic has no number as its result"),
    }
}

#[cfg(test)]
mod tests;
