//! From what happened to what is recorded: success, retry, or final failure.
//!
//! 2xx succeeds. Network errors, timeouts, 408, 429 and 5xx are transient and retry on the
//! action's schedule (or the receiver's `Retry-After`); other statuses fail at once.
//! Requests that never left fail at once and are not metered.

use serde_json::{json, Value};
use switchyard_engine::job::lane::{ClaimedRun, Finish, Recording};

use super::attempt::{Attempted, Sent};
use super::retry::{due_at, next_delay};

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
        Attempted::Drained => not_sent(details, "the worker was stopping".into()),
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
    let response = &sent.response;
    let finish = if response.succeeded() {
        Finish::Succeeded
    } else if response.transient() {
        match next_delay(run.spec.retry.as_ref(), run.attempt, response.retry_after()) {
            Some(delay) => Finish::Retry(due_at(delay)),
            None => Finish::Failed,
        }
    } else {
        Finish::Failed
    };
    let error = response.problem();
    extend(
        &mut details,
        json!({
            "sent": true,
            "status_code": response.status,
            "duration_ms": response.duration_ms(),
            "request": { "method": response.method, "body_sha256": response.body_sha256, "body_bytes": response.bytes_out },
            "response": { "bytes": response.bytes_in, "excerpt": response.excerpt },
            "error": error,
            "next_attempt_at": match &finish { Finish::Retry(at) => json!(at), _ => Value::Null },
        }),
    );
    Recording {
        finish,
        details,
        status_code: response.status.map(i32::from),
        error,
        ledger: Some(response.ledger_entry(Some(sent.connection_id))),
    }
}

fn extend(details: &mut Value, more: Value) {
    if let (Some(d), Value::Object(m)) = (details.as_object_mut(), more) {
        d.extend(m);
    }
}
