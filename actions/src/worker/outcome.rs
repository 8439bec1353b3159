//! From what happened to what is recorded: success, retry, or final failure.
//!
//! 2xx succeeds. Network errors, timeouts, 408, 429 and 5xx are transient and retry on the
//! action's schedule (or the receiver's `Retry-After`); other statuses fail at once.
//! Requests that never left fail at once and are not metered.

use switchyard_engine::events::action::{
    ActionAttempted, Exchange, RequestDigest, ResponseExcerpt,
};
use switchyard_engine::job::lane::{ClaimedRun, Finish, Recording};

use super::attempt::{Attempted, Sent};
use super::retry::{due_at, next_delay};

/// What to record for an attempt.
pub fn recording(run: &ClaimedRun, attempted: &Attempted) -> Recording {
    match attempted {
        Attempted::Sent(sent) => sent_recording(run, sent),
        Attempted::NotSent { error } => not_sent(run, error.clone()),
        // The worker gives deferred runs back instead of recording them.
        Attempted::Deferred(err) => not_sent(run, format!("the database was unreachable: {err}")),
        Attempted::Drained => not_sent(run, "the worker was stopping".into()),
    }
}

/// The attempt's event, before what came of it.
fn attempted(
    run: &ClaimedRun,
    error: Option<String>,
    exchange: Option<Exchange>,
) -> ActionAttempted {
    ActionAttempted {
        action_run_id: run.id,
        name: run.name.clone(),
        ordinal: run.ordinal,
        transition: run.transition.clone(),
        transition_event_id: run.event_id,
        attempt: run.attempt,
        sent: exchange.is_some(),
        error,
        exchange,
    }
}

fn not_sent(run: &ClaimedRun, error: String) -> Recording {
    Recording {
        finish: Finish::Failed,
        details: attempted(run, Some(error.clone()), None),
        status_code: None,
        error: Some(error),
        ledger: None,
    }
}

fn sent_recording(run: &ClaimedRun, sent: &Sent) -> Recording {
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
    let exchange = Exchange {
        status_code: response.status,
        duration_ms: response.duration_ms(),
        request: RequestDigest {
            method: response.method.clone(),
            body_sha256: response.body_sha256.clone(),
            body_bytes: response.bytes_out as u64,
        },
        response: ResponseExcerpt {
            bytes: response.bytes_in as u64,
            excerpt: response.excerpt.clone(),
        },
        next_attempt_at: match &finish {
            Finish::Retry(at) => Some(*at),
            _ => None,
        },
    };
    Recording {
        details: attempted(run, error.clone(), Some(exchange)),
        finish,
        status_code: response.status.map(i32::from),
        error,
        ledger: Some(response.ledger_entry(Some(sent.connection_id))),
    }
}
