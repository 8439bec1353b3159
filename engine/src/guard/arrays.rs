//! JSONLogic's operators over lists and text: `map`, `filter`, `all`, `none`, `some`,
//! `reduce`, `merge`, `in` and `substr`. Each loop iteration is a nested evaluation, so it
//! is counted like any other step, and every list built is charged to the budget.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::coerce::{strict_eq, to_js_string, to_number, truthy};
use super::eval::{Interpreter, Result};

impl Interpreter<'_> {
    pub(super) fn iterate(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        let source = self.operand_at(args, 0, data)?;
        let items = match source.as_ref() {
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
            let result = self.in_body(body, item)?;
            match op {
                "map" => out.push(self.produced(result.into_owned())?),
                "filter" if truthy(&result) => out.push(self.produced(item.clone())?),
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

    pub(super) fn reduce(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let source = self.operand_at(args, 0, data)?;
        let items = match source.as_ref() {
            Value::Array(items) => items.as_slice(),
            _ => &[],
        };
        let body = args.get(1).unwrap_or(&Value::Null);
        let accumulator = self.arg(args, 2, data)?;
        // One scope for every step: its two members are replaced, not rebuilt.
        let mut scope = Value::Object(Map::from_iter([
            ("current".to_string(), Value::Null),
            ("accumulator".to_string(), accumulator),
        ]));
        for current in items {
            scope["current"] = current.clone();
            let next = self.in_body(body, &scope)?.into_owned();
            scope["accumulator"] = next;
        }
        Ok(scope["accumulator"].take())
    }

    /// A loop body's value for one item: the variables it reads are reported as the
    /// loop's ([`Interpreter::loops`]).
    fn in_body<'a>(&mut self, body: &'a Value, item: &'a Value) -> Result<Cow<'a, Value>> {
        self.loops += 1;
        let result = self.operand(body, item);
        self.loops -= 1;
        result
    }

    pub(super) fn merge(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let mut out = Vec::new();
        for value in self.all_args(args, data)? {
            match value {
                Value::Array(items) => out.extend(items),
                other => out.push(other),
            }
        }
        self.produced(Value::Array(out))
    }

    pub(super) fn in_(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let needle = self.operand_at(args, 0, data)?;
        Ok(Value::Bool(
            match self.operand_at(args, 1, data)?.as_ref() {
                Value::String(hay) => hay.contains(&to_js_string(&needle)),
                Value::Array(items) => items.iter().any(|v| strict_eq(v, &needle)),
                _ => false,
            },
        ))
    }

    pub(super) fn substr(&mut self, args: &[Value], data: &Value) -> Result<Value> {
        let chars: Vec<char> = to_js_string(&*self.operand_at(args, 0, data)?)
            .chars()
            .collect();
        let len = chars.len() as i64;
        // Offsets and lengths come from a service's data and may be any number (1e300):
        // `as` saturates, and every sum saturates, so none can overflow.
        let clamp = |i: i64| i.clamp(0, len) as usize;
        let whole = |n: f64| if n.is_nan() { 0 } else { n as i64 };
        let start = whole(to_number(&*self.operand_at(args, 1, data)?));
        let start = clamp(if start < 0 {
            len.saturating_add(start)
        } else {
            start
        });
        let end = match args.get(2) {
            None => chars.len(),
            Some(_) => {
                let n = whole(to_number(&*self.operand_at(args, 2, data)?));
                if n < 0 {
                    clamp(len.saturating_add(n)).max(start)
                } else {
                    clamp((start as i64).saturating_add(n))
                }
            }
        };
        self.produced(Value::String(chars[start..end].iter().collect()))
    }
}
