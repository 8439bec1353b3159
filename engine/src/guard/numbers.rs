//! JSONLogic's operators over numbers: comparisons (`>`, `>=`, `<`, `<=`, with "between"),
//! `max`/`min`, `+`/`*` over any number of operands, and `-`, `/`, `%`. Values are coerced
//! as JavaScript coerces them; a result with no JSON number (an infinity, NaN, a division
//! by zero) is an error rather than `null`.

use serde_json::Value;

use super::coerce::{compare, number, to_number};
use super::eval::{invalid, Interpreter, Result};

impl Interpreter<'_> {
    pub(super) fn relation(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        use std::cmp::Ordering::*;
        // A missing operand is JavaScript's `undefined`, which compares false to anything.
        if args.len() < 2 {
            return Ok(Value::Bool(false));
        }
        let holds = |a: &Value, b: &Value| match (op, compare(a, b)) {
            (_, None) => false,
            (">", Some(o)) => o == Greater,
            (">=", Some(o)) => o != Less,
            ("<", Some(o)) => o == Less,
            (_, Some(o)) => o != Greater,
        };
        let a = self.operand(&args[0], data)?;
        let b = self.operand(&args[1], data)?;
        // `<` and `<=` with three arguments test "between".
        if args.len() >= 3 && op.starts_with('<') {
            let c = self.operand(&args[2], data)?;
            return Ok(Value::Bool(holds(&a, &b) && holds(&b, &c)));
        }
        Ok(Value::Bool(holds(&a, &b)))
    }

    pub(super) fn extreme(&mut self, is_max: bool, args: &[Value], data: &Value) -> Result<Value> {
        let mut numbers = Vec::with_capacity(args.len());
        for arg in args {
            numbers.push(to_number(&*self.operand(arg, data)?));
        }
        if numbers.is_empty() || numbers.iter().any(|n| n.is_nan()) {
            return Ok(Value::Null);
        }
        let pick = if is_max { f64::max } else { f64::min };
        let first = numbers[0];
        Ok(number(numbers.into_iter().fold(first, pick)).unwrap_or(Value::Null))
    }

    pub(super) fn fold(&mut self, is_sum: bool, args: &[Value], data: &Value) -> Result<Value> {
        let mut acc = if is_sum { 0.0 } else { 1.0 };
        for arg in args {
            let n = to_number(&*self.operand(arg, data)?);
            acc = if is_sum { acc + n } else { acc * n };
        }
        arithmetic(acc)
    }

    pub(super) fn binary(&mut self, op: &str, args: &[Value], data: &Value) -> Result<Value> {
        if args.is_empty() {
            // JavaScript's `-undefined` is NaN, which has no JSON form.
            return invalid(format!("'{op}' needs operands"));
        }
        let a = to_number(&*self.operand_at(args, 0, data)?);
        if op == "-" && args.len() == 1 {
            return arithmetic(-a);
        }
        let b = to_number(&*self.operand_at(args, 1, data)?);
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
