//! A destination's `limits`: `{"rate": "<N>/s" | "<N>/m" | "<N>/h", "concurrency": <N>}`,
//! both optional, stored as given (normalised) in the destination's `limits` column.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The largest `N` of a rate or a concurrency. A rate's window keeps one timestamp per
/// request in it, so larger rates are written with a shorter unit (`1000/m`, not `60000/h`).
pub const MAX: u32 = 1000;

/// How often and how many at once a destination is called.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// At most `count` requests in any window of one `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Per,
}

/// A rate's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    Second,
    Minute,
    Hour,
}

/// A field of `limits` that does not hold, named as the request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsProblem {
    pub field: &'static str,
    pub message: String,
}

impl Per {
    fn suffix(self) -> &'static str {
        match self {
            Per::Second => "s",
            Per::Minute => "m",
            Per::Hour => "h",
        }
    }

    pub fn window(self) -> Duration {
        Duration::from_secs(match self {
            Per::Second => 1,
            Per::Minute => 60,
            Per::Hour => 3600,
        })
    }
}

impl Rate {
    /// Reads `"<N>/s"`, `"<N>/m"` or `"<N>/h"`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let shape = || format!("'{text}' is not a rate: write \"<N>/s\", \"<N>/m\" or \"<N>/h\"");
        let (count, unit) = text.trim().split_once('/').ok_or_else(shape)?;
        let per = match unit.trim() {
            "s" => Per::Second,
            "m" => Per::Minute,
            "h" => Per::Hour,
            _ => return Err(shape()),
        };
        let count: u32 = count.trim().parse().map_err(|_| shape())?;
        if count == 0 || count > MAX {
            return Err(format!(
                "a rate's N must be 1 to {MAX} (use a shorter unit for more)"
            ));
        }
        Ok(Rate { count, per })
    }

    /// The same number per minute (the subscriptions' default limit).
    pub fn per_minute(count: u32) -> Rate {
        Rate {
            count,
            per: Per::Minute,
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per.suffix())
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let text = String::deserialize(d)?;
        Rate::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Limits {
    /// Checks what a request gave; errors name `limits.rate` or `limits.concurrency`.
    pub fn parse(rate: Option<&str>, concurrency: Option<i64>) -> Result<Limits, LimitsProblem> {
        let rate = rate
            .map(Rate::parse)
            .transpose()
            .map_err(|message| LimitsProblem {
                field: "limits.rate",
                message,
            })?;
        let concurrency = concurrency
            .map(|n| match u32::try_from(n) {
                Ok(n) if (1..=MAX).contains(&n) => Ok(n),
                _ => Err(LimitsProblem {
                    field: "limits.concurrency",
                    message: format!("must be 1 to {MAX} requests in flight at once"),
                }),
            })
            .transpose()?;
        Ok(Limits { rate, concurrency })
    }

    /// Whether nothing is limited.
    pub fn is_empty(&self) -> bool {
        self.rate.is_none() && self.concurrency.is_none()
    }

    /// As stored: `NULL` when nothing is limited.
    pub fn to_stored(self) -> Option<serde_json::Value> {
        (!self.is_empty()).then(|| serde_json::to_value(self).expect("limits serialise"))
    }

    /// From the stored column; a value this build cannot read limits nothing rather than
    /// stopping the destination.
    pub fn from_stored(value: Option<serde_json::Value>) -> Limits {
        value
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

// Read from the stored `jsonb` (or NULL) the way `from_stored` reads it, so a row
// decodes its limits by name.
impl<'a> tokio_postgres::types::FromSql<'a> for Limits {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let value = <serde_json::Value as tokio_postgres::types::FromSql>::from_sql(ty, raw).ok();
        Ok(Limits::from_stored(value))
    }

    fn from_sql_null(
        _: &tokio_postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Limits::default())
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        <serde_json::Value as tokio_postgres::types::FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_and_print_back() {
        for text in ["1/s", "20/m", "1000/h"] {
            assert_eq!(Rate::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Rate::parse(" 5 / m ").unwrap().to_string(), "5/m");
        for bad in ["", "5", "5/d", "0/s", "1001/s", "-1/s", "x/s", "5/"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn problems_name_their_field() {
        assert_eq!(
            Limits::parse(Some("fast"), None).unwrap_err().field,
            "limits.rate"
        );
        assert_eq!(
            Limits::parse(None, Some(0)).unwrap_err().field,
            "limits.concurrency"
        );
        let both = Limits::parse(Some("10/s"), Some(2)).unwrap();
        assert_eq!(
            both.to_stored().unwrap(),
            serde_json::json!({"rate": "10/s", "concurrency": 2})
        );
        assert_eq!(Limits::parse(None, None).unwrap().to_stored(), None);
        assert_eq!(Limits::from_stored(both.to_stored()), both);
    }
}
