//! The filter forms' fields, read the same way on the Jobs and Audit pages.

use chrono::{DateTime, NaiveDate, Utc};

/// A field's text, trimmed; `None` when left empty.
pub fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// A day field (`YYYY-MM-DD`). One that cannot be read is noted in `errors` as
/// `label: why` and left out of the filter.
pub fn day(label: &str, text: &Option<String>, errors: &mut Vec<String>) -> Option<NaiveDate> {
    let t = given(text)?;
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!("{label}: '{t}' is not a day such as 2026-11-23"));
            None
        }
    }
}

/// The days `from` to `to` (both included) as times: from the start of `from` to the
/// start of the day after `to`.
pub fn between(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    (
        from.and_then(start),
        to.and_then(|d| d.succ_opt()).and_then(start),
    )
}
