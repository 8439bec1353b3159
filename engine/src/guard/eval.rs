//! The JSONLogic interpreter, metered: every node evaluated costs a step and every value
//! produced (a variable's copy, a concatenation, an array built by `map` or `merge`)
//! costs its size, so a designer's rule cannot loop or grow past its [`Budget`].
//!
//! Operators read their arguments through [`Interpreter::operand`], which borrows a literal
//! or a variable's value instead of copying it: a loop over a list reads the list, and each
//! item, in place.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::coerce::{loose_eq, strict_eq, to_js_string, to_number, truthy};
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

/// The most values reported for one variable read in loop bodies: the report goes into
/// the `job.transitioned` event and the 409, and nested loops multiply reads.
pub const MAX_LOOP_VALUES: usize = 100;

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

pub(super) fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::Invalid(message.into()))
}

/// Evaluates `rule` against `data` within `budget`.
#[cfg(test)]
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
        loop_reads: Vec::new(),
    };
    let value = interpreter.eval(rule, data)?;
    let reads = interpreter.loop_reads.into_iter();
    Ok((
        value,
        reads
            .map(|(path, values)| (path, Value::Array(values)))
            .collect(),
    ))
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
    /// Each path read in a loop body and its values; a rule reads few, so a list is
    /// searched faster than a map.
    loop_reads: Vec<(String, Vec<Value>)>,
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

    /// The value of `rule` without copying what it names: a literal, or a variable with a
    /// literal path that is present, is borrowed; anything else is evaluated.
    pub(super) fn operand<'a>(
        &mut self,
        rule: &'a Value,
        data: &'a Value,
    ) -> Result<Cow<'a, Value>> {
        match rule {
            Value::Object(_) => {
                if let Some(("var", args)) = operation(rule) {
                    if let Some(path) = literal_path(args) {
                        if let Some(found) = lookup(data, &path) {
                            self.budget.steps(1)?;
                            self.read_in_loop(&path, found)?;
                            return Ok(Cow::Borrowed(found));
                        }
                    }
                }
                self.nested(rule, data).map(Cow::Owned)
            }
            Value::Array(_) => self.nested(rule, data).map(Cow::Owned),
            literal => {
                self.budget.steps(1)?;
                Ok(Cow::Borrowed(literal))
            }
        }
    }

    /// [`Self::operand`] of the `i`th argument; null when there is none.
    pub(super) fn operand_at<'a>(
        &mut self,
        args: &'a [Value],
        i: usize,
        data: &'a Value,
    ) -> Result<Cow<'a, Value>> {
        match args.get(i) {
            Some(rule) => self.operand(rule, data),
            None => Ok(Cow::Owned(Value::Null)),
        }
    }

    /// Inside a loop's body, keeps what the variable at `path` resolved to.
    fn read_in_loop(&mut self, path: &str, value: &Value) -> Result<()> {
        if self.loops == 0 {
            return Ok(());
        }
        // Lengths first: `{"var": ""}` (the loop's item) is the common path, and the C
        // library's comparison of two empty strings measured slower than the whole read.
        let same = |p: &String| p.len() == path.len() && (path.is_empty() || p == path);
        let at = match self.loop_reads.iter().position(|(p, _)| same(p)) {
            Some(at) => at,
            None => {
                self.loop_reads.push((path.to_string(), Vec::new()));
                self.loop_reads.len() - 1
            }
        };
        if self.loop_reads[at].1.len() < MAX_LOOP_VALUES {
            self.budget.bytes(json_size(value))?;
            self.loop_reads[at].1.push(value.clone());
        }
        Ok(())
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
            "!" => Ok(Value::Bool(!truthy(&*self.operand_at(args, 0, data)?))),
            "!!" => Ok(Value::Bool(truthy(&*self.operand_at(args, 0, data)?))),
            "==" | "!=" | "===" | "!==" => {
                let a = self.operand_at(args, 0, data)?;
                let b = self.operand_at(args, 1, data)?;
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
                let mut text = String::new();
                for arg in args {
                    let value = self.operand(arg, data)?;
                    if !value.is_null() {
                        text.push_str(&to_js_string(&value));
                    }
                }
                self.produced(Value::String(text))
            }
            "substr" => self.substr(args, data),
            // Designers' rules never write to the service's log.
            "log" => self.arg(args, 0, data),
            other => invalid(format!("unknown operator '{other}'")),
        }
    }

    fn var(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let path = match literal_path(args) {
            Some(path) => path.into_owned(),
            None => match self.arg(args, 0, data)? {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => return invalid("a variable's name must be a string or a number"),
            },
        };
        let value = match lookup(data, &path) {
            Some(found) => self.produced(found.clone())?,
            None => self.arg(args, 1, data)?,
        };
        self.read_in_loop(&path, &value)?;
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
            if truthy(&*self.operand(&args[i], data)?) {
                return self.nested(&args[i + 1], data);
            }
            i += 2;
        }
        self.arg(args, i, data)
    }

    fn and_or(&mut self, is_and: bool, args: &[Value], data: &Value) -> Result<Value> {
        let mut last = Cow::Owned(Value::Null);
        for rule in args {
            last = self.operand(rule, data)?;
            if truthy(&last) != is_and {
                break;
            }
        }
        self.produced(last.into_owned())
    }
}

/// A variable's path when the rule writes it as a literal: `{"var": "a.b"}`,
/// `{"var": ["a.b", default]}`, `{"var": 0}`.
fn literal_path(args: &[Value]) -> Option<Cow<'_, str>> {
    match args.first()? {
        Value::String(path) => Some(Cow::Borrowed(path)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
