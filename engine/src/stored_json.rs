//! Reading JSON columns without letting one bad row fail a whole read. The input rule
//! ([`crate::input_rule`]) keeps new rows decodable; a row written before it (or by hand)
//! that cannot be decoded is read as a marker object naming the problem, so the events
//! API, export and verify can report it and the worker can fail that one item.

use serde_json::{json, Value};
use tokio_postgres::row::RowIndex;
use tokio_postgres::Row;

/// The key of the marker object that stands in for an undecodable value.
pub const UNDECODABLE: &str = "$undecodable";

/// The JSON in `column` of `row`, or a marker object saying why it could not be decoded.
pub fn read<I: RowIndex + std::fmt::Display + Copy>(row: &Row, column: I) -> Value {
    match row.try_get::<_, Option<Value>>(column) {
        Ok(value) => value.unwrap_or(Value::Null),
        Err(err) => {
            let reason = match std::error::Error::source(&err) {
                Some(cause) => cause.to_string(),
                None => err.to_string(),
            };
            marker(&format!("the stored value of {column}"), &reason)
        }
    }
}

/// The marker for a value (`what`) that cannot be decoded, logged once.
fn marker(what: &str, reason: &str) -> Value {
    tracing::warn!(
        value = what,
        error = reason,
        "a stored JSON value cannot be decoded"
    );
    json!({ UNDECODABLE: format!("{what} cannot be decoded: {reason}") })
}

/// A JSON column as [`read`] reads it, for rows read by column name
/// (`#[from_row(from = "stored_json::Stored")]`): NULL reads as `null`, and a value that
/// cannot be decoded as the marker object (without the column's name, which a decoder
/// is not told).
pub struct Stored(pub Value);

impl<'a> tokio_postgres::types::FromSql<'a> for Stored {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Stored(match Value::from_sql(ty, raw) {
            Ok(value) => value,
            Err(err) => marker("the stored value", &err.to_string()),
        }))
    }

    fn from_sql_null(
        _: &tokio_postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Stored(Value::Null))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <Value as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

impl From<Stored> for Value {
    fn from(stored: Stored) -> Value {
        stored.0
    }
}

/// Why `value` is a marker of an undecodable value, if it is one.
pub fn undecodable(value: &Value) -> Option<&str> {
    value
        .as_object()
        .filter(|m| m.len() == 1)?
        .get(UNDECODABLE)?
        .as_str()
}
