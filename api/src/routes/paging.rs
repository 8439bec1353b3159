//! `limit` and `cursor` for list endpoints.

use crate::problem::ApiError;

/// Checks a requested page size: `default` when absent, 1 to `max` otherwise.
pub fn limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "limit",
            format!("limit must be from 1 to {max}"),
        )),
    }
}

/// Parses an opaque cursor with `parse`, naming the parameter when it is not one of ours.
pub fn cursor<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    raw.filter(|c| !c.is_empty())
        .map(|c| {
            parse(c).ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "not a cursor from this list; pass next_cursor unchanged",
                )
            })
        })
        .transpose()
}

/// The next cursor of a page of `len` items: the last item's, when the page is full.
pub fn next_cursor<T>(items: &[T], limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    (items.len() as i64 == limit)
        .then(|| items.last().map(key))
        .flatten()
}

/// Checks a time filter: PostgreSQL keeps times from 4713 BC on, chrono reads far wider,
/// so times outside years 1 to 9999 are refused here, naming the parameter.
pub fn time(
    field: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    use chrono::Datelike;
    in_years(field, at.map(|t| t.year()))?;
    Ok(at)
}

/// Checks a date filter as [`time`] does.
pub fn date(
    field: &str,
    day: Option<chrono::NaiveDate>,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    use chrono::Datelike;
    in_years(field, day.map(|d| d.year()))?;
    Ok(day)
}

fn in_years(field: &str, year: Option<i32>) -> Result<(), ApiError> {
    match year {
        Some(year) if !(1..=9999).contains(&year) => Err(ApiError::invalid(
            field,
            format!("{field} must fall in the years 1 to 9999"),
        )),
        _ => Ok(()),
    }
}
