//! From what happened to what is recorded: success, retry, or final failure.
//!
//! 2xx succeeds. Network errors, timeouts, 408, 429 and 5xx are transient and retry on the
//! action's schedule (or the receiver's `Retry-After`); other statuses fail at once.
//! Requests that never left fail at once and are not metered.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use switchyard_engine::job::lane::{ClaimedRun, Finish, Recording};
use switchyard_engine::ledger::LedgerEntry;

use super::attempt::{Attempted, Sent};
use super::retry::next_delay;

/// What to record for an attempt.
pub fn recording(run: &ClaimedRun, attempted: &Attempted) -> Recording {
    let details = json!({
        "action_run_id": run.id,
        "name": run.name,
        "ordinal": run.ordinal,
        "transition": run.transition,
        "transition_event_id": run.event_id,
        "attempt": run.attempt,
    });
    match attempted {
        Attempted::Sent(sent) => sent_recording(run, sent, details),
        Attempted::NotSent { error } => not_sent(details, error.clone()),
        // The worker gives deferred runs back instead of recording them.
        Attempted::Deferred(err) => {
            not_sent(details, format!("the database was unreachable: {err}"))
        }
    }
}

fn not_sent(mut details: Value, error: String) -> Recording {
    extend(&mut details, json!({ "sent": false, "error": error }));
    Recording {
        finish: Finish::Failed,
        details,
        status_code: None,
        error: Some(error),
        ledger: None,
    }
}

fn sent_recording(run: &ClaimedRun, sent: &Sent, mut details: Value) -> Recording {
    let success = sent.status.is_some_and(|s| (200..300).contains(&s));
    let transient = match sent.status {
        None => true,
        Some(s) => s == 408 || s == 429 || s >= 500,
    };
    let retry_after = sent
        .status
        .filter(|s| *s == 429 || *s == 503)
        .and(sent.retry_after);
    let finish = if success {
        Finish::Succeeded
    } else if transient {
        match next_delay(run.spec.retry.as_ref(), run.attempt, retry_after) {
            Some(delay) => Finish::Retry(
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
            ),
            None => Finish::Failed,
        }
    } else {
        Finish::Failed
    };
    let error = sent.error.clone().or_else(|| {
        (!success).then(|| format!("the target answered {}", sent.status.unwrap_or_default()))
    });
    let outcome = match (success, sent.timed_out, sent.status) {
        (true, _, _) => "succeeded",
        (false, true, _) => "timeout",
        (false, false, None) => "network_error",
        _ => "failed",
    };
    extend(
        &mut details,
        json!({
            "sent": true,
            "status_code": sent.status,
            "duration_ms": duration_ms(sent.duration),
            "request": { "method": sent.method, "body_sha256": sent.body_sha256, "body_bytes": sent.bytes_out },
            "response": { "bytes": sent.bytes_in, "excerpt": sent.excerpt },
            "error": error,
            "next_attempt_at": match &finish { Finish::Retry(at) => json!(at), _ => Value::Null },
        }),
    );
    Recording {
        finish,
        details,
        status_code: sent.status.map(i32::from),
        error,
        ledger: Some(LedgerEntry {
            connection_id: Some(sent.connection_id),
            status_code: sent.status.map(i32::from),
            outcome: outcome.into(),
            bytes_out: sent.bytes_out as i64,
            bytes_in: sent.bytes_in as i64,
            duration_ms: duration_ms(sent.duration),
        }),
    }
}

fn duration_ms(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

fn extend(details: &mut Value, more: Value) {
    if let (Some(d), Value::Object(m)) = (details.as_object_mut(), more) {
        d.extend(m);
    }
}
