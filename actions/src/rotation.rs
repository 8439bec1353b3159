//! Rotating a signing secret without downtime: when a subscription's or connector's
//! secret is replaced, the old one is kept (sealed with the new) and keeps signing beside
//! it until the overlap ends, so `webhook-signature` carries both (space-separated, as
//! Standard Webhooks allows) and a receiver can switch secrets at any moment inside it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a connector's sealed credentials keep a replaced `signing_secret`. Not a
/// credential field a client can send: the provider shapes do not know it.
pub const PREVIOUS_SIGNING_SECRET: &str = "_previous_signing_secret";

/// How long a replaced secret keeps signing unless configured otherwise.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(24 * 3600);

/// A replaced secret and the end of its overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub secret: String,
    pub until: DateTime<Utc>,
}

impl Previous {
    /// The secret, while its overlap lasts at `now`.
    pub fn signing_at(&self, now: DateTime<Utc>) -> Option<&str> {
        (now < self.until).then_some(self.secret.as_str())
    }
}

/// What to keep signing after a secret changes from `old` to `new` (with `kept`, what
/// was kept from an earlier rotation): the old secret, for `overlap` from now, when it is
/// replaced by another; nothing when signing stops (`new` is `None`) or there was none;
/// the earlier one, while it lasts, when the secret did not change.
pub fn after_change(
    old: Option<&str>,
    new: Option<&str>,
    kept: Option<Previous>,
    overlap: Duration,
) -> Option<Previous> {
    let now = Utc::now();
    match (old, new) {
        (Some(old), Some(new)) if old != new && !overlap.is_zero() => Some(Previous {
            secret: old.to_string(),
            until: now + chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::zero()),
        }),
        (Some(old), Some(new)) if old != new => None,
        (_, None) => None,
        _ => kept.filter(|p| p.signing_at(now).is_some()),
    }
}

/// `webhook-signature` for the current secret, then the previous one while it lasts.
pub fn standard_webhooks(
    secret: &str,
    previous: Option<&Previous>,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let current = crate::signing::standard_webhooks(secret, id, timestamp, body);
    let at = DateTime::from_timestamp(timestamp, 0).unwrap_or_else(Utc::now);
    match previous.and_then(|p| p.signing_at(at)) {
        Some(old) => format!(
            "{current} {}",
            crate::signing::standard_webhooks(old, id, timestamp, body)
        ),
        None => current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_secret_signs_beside_the_new_one_until_the_overlap_ends() {
        let hour = Duration::from_secs(3600);
        let kept = after_change(Some("old"), Some("new"), None, hour).unwrap();
        assert_eq!(kept.secret, "old");
        let now = Utc::now().timestamp();
        let both = standard_webhooks("new", Some(&kept), "msg", now, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            crate::signing::standard_webhooks("new", "msg", now, b"{}")
        );
        assert_eq!(
            parts[1],
            crate::signing::standard_webhooks("old", "msg", now, b"{}")
        );
        // After the overlap, only the new one.
        let later = now + 2 * 3600;
        assert!(!standard_webhooks("new", Some(&kept), "msg", later, b"{}").contains(' '));
        // Unchanged: the earlier rotation is kept; removed: nothing signs but the new.
        assert_eq!(
            after_change(Some("new"), Some("new"), Some(kept.clone()), hour),
            Some(kept.clone())
        );
        assert_eq!(after_change(Some("new"), None, Some(kept), hour), None);
        assert_eq!(after_change(None, Some("first"), None, hour), None);
    }
}
