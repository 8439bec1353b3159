//! The event types a subscription (or a Zapier poll) may ask for, and the `*` patterns
//! that select them.
//!
//! Subscriptions may also name connection events by seed 002's names (`app:*`). The log
//! holds Switchyard's names only; a subscription that asked for a seed name is sent the
//! event under that name (the event's data carries the seed's payload fields).

use crate::log::EventType;

/// Seed 002's names for connection events, and the events they stand for.
pub const SEED_NAMES: [(&str, EventType); 5] = [
    ("app:connected", EventType::ConnectionCreated),
    ("app:disconnected", EventType::ConnectionDeleted),
    ("app:health_warning", EventType::ConnectionFailing),
    ("app:health_cleared", EventType::ConnectionRecovered),
    ("app:health_check", EventType::ConnectionTested),
];

/// The seed names as SQL arrays: names, and the types they stand for.
pub fn seed_names() -> (Vec<String>, Vec<String>) {
    SEED_NAMES
        .iter()
        .map(|(name, t)| (name.to_string(), t.as_str().to_string()))
        .unzip()
}

/// The SQL expression for the type a delivery of event `e` to subscription `s` carries:
/// the event's own when one of the subscription's patterns selects it, else the seed name
/// (from the arrays `names` and `stands_for`, SQL parameters) that one selects, else NULL
/// (no delivery).
pub fn delivered_type_sql(names: &str, stands_for: &str) -> String {
    const SELECTS: &str = "LIKE replace(replace(p, '_', '\\_'), '*', '%')";
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM unnest(s.event_types) p WHERE e.type {SELECTS}) \
              THEN e.type \
              ELSE (SELECT a.name FROM unnest({names}::text[], {stands_for}::text[]) a(name, stands_for) \
                    WHERE a.stands_for = e.type \
                      AND EXISTS (SELECT 1 FROM unnest(s.event_types) p WHERE a.name {SELECTS}) \
                    LIMIT 1) \
         END"
    )
}

/// Checks a subscription's pattern: a Switchyard pattern, or seed 002's names (`app:*`
/// patterns too).
pub fn check_subscription_pattern(pattern: &str) -> Result<(), String> {
    if let Some(name) = pattern.strip_prefix("app:") {
        let known = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '*');
        if known && SEED_NAMES.iter().any(|(name, _)| matches(pattern, name)) {
            return Ok(());
        }
        let names: Vec<&str> = SEED_NAMES.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "'{pattern}' is not one of the app events Switchyard sends: {}",
            names.join(", ")
        ));
    }
    check_pattern(pattern)
}

/// Every subscribable type, in catalogue order. Tenant, user and API-key events stay in
/// the log for auditors but are not sent out.
pub fn subscribable_types() -> impl Iterator<Item = EventType> {
    EventType::ALL.into_iter().filter(|t| t.is_subscribable())
}

/// Whether `event_type` matches `pattern`, where `*` stands for any run of characters.
pub fn matches(pattern: &str, event_type: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == event_type,
        Some((head, rest)) => {
            let Some(tail) = event_type.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| matches(rest, &tail[i..]))
        }
    }
}

/// Checks a pattern: known characters only, and it must select at least one type.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty()
        || !pattern
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c == '*')
    {
        return Err(format!(
            "'{pattern}' is not a Switchyard event type: use names like 'job.created' or patterns like 'job.*' (GET /api/hooks/event-types lists them)"
        ));
    }
    if !subscribable_types().any(|t| matches(pattern, t.as_str())) {
        return Err(format!(
            "'{pattern}' matches no event type (GET /api/hooks/event-types lists them)"
        ));
    }
    Ok(())
}

/// The pattern as a SQL `LIKE` pattern (checked patterns hold no `%` or `\`).
pub fn like_pattern(pattern: &str) -> String {
    pattern.replace('_', "\\_").replace('*', "%")
}

/// The subscribable types as a SQL array, for queries that must not return the others.
pub fn subscribable() -> Vec<String> {
    subscribable_types()
        .map(|t| t.as_str().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_by_star() {
        assert!(matches("job.*", "job.created"));
        assert!(matches("*", "action.failed"));
        assert!(matches("*.failed", "action.failed"));
        assert!(!matches("job.*", "action.failed"));
        assert!(matches("job.created", "job.created"));
        assert!(!matches("job.create", "job.created"));
        assert!(check_pattern("action.*").is_ok());
        assert!(check_pattern("app:health_warning").is_err());
        assert!(check_pattern("tenant.created").is_err());
        assert_eq!(like_pattern("action.retry_*"), "action.retry\\_%");
    }

    #[test]
    fn seed_names_are_accepted_by_subscriptions_only() {
        assert!(check_subscription_pattern("app:health_warning").is_ok());
        assert!(check_subscription_pattern("app:*").is_ok());
        assert!(check_subscription_pattern("job.*").is_ok());
        let err = check_subscription_pattern("app:connecting").unwrap_err();
        assert!(err.contains("app:health_cleared"), "{err}");
        assert!(check_pattern("app:health_warning").is_err());
        for (_, t) in SEED_NAMES {
            assert!(t.is_subscribable());
        }
    }
}
