//! Durations in retry schedules: `500ms`, `0s`, `2s`, `1m`, `5m`, `2h`, `1d`.

use std::time::Duration;

/// The longest duration a definition or a schedule may give: 7 days. Anything longer is
/// refused at publish (or start-up), so no date arithmetic downstream can overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 86_400);

/// Parses a whole number followed by `ms`, `s`, `m`, `h` or `d`, at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' has no unit (use ms, s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a whole number"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "'{text}' has an unknown unit (use ms, s, m, h or d)"
            ))
        }
    };
    let too_long = || format!("'{text}' is longer than the limit of 7d");
    let millis = n.checked_mul(millis_per_unit).ok_or_else(too_long)?;
    let duration = Duration::from_millis(millis);
    if duration > MAX_DURATION {
        return Err(too_long());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_of_the_default_schedule() {
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("7d").unwrap(), MAX_DURATION);
    }

    #[test]
    fn absurd_durations_are_refused_not_overflowed() {
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("99999999999h").is_err());
        assert!(parse_duration("18446744073709551615d").is_err());
        assert!(parse_duration("99999999999999999999999s").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("m").is_err());
    }
}
