//! One attempt of one delivery: open the target just in time, build and sign the body,
//! send through the egress guard, and decide what is recorded. 2xx succeeds; 410 Gone fails
//! and disables the subscription; any other failure retries on the schedule (or after the
//! receiver's `Retry-After`), and the last one fails the delivery and marks the
//! subscription failing.

use std::time::Duration;

use chrono::Utc;
use switchyard_engine::outcome::Outcome;
use switchyard_engine::subscription::delivery::{
    ClaimedDelivery, DeliveryFinish, DeliveryRecording,
};

use super::{payload, subscriptions, DeliveryConfig};
use crate::providers::Outbound;
use crate::sender::{Response, Sender};
use crate::vault::Keyring;
use crate::worker::retry::{due_at, next_delay_in};

/// Makes the attempt; returns what to record.
pub async fn attempt(
    keyring: &Keyring,
    sender: &Sender,
    config: &DeliveryConfig,
    delivery: &ClaimedDelivery,
) -> DeliveryRecording {
    let target = match subscriptions::open(
        keyring,
        delivery.tenant_id,
        delivery.subscription_id,
        &delivery.sealed,
    ) {
        Ok(target) => target,
        Err(err) => return not_sent(err.to_string()),
    };
    if let Some(reason) = switchyard_engine::stored_json::undecodable(&delivery.event_data) {
        return not_sent(format!("the event cannot be delivered: {reason}"));
    }
    let body = payload::body(delivery);
    if body.len() > config.max_payload_bytes {
        return not_sent(format!(
            "the delivery body is {} bytes, over the {} byte limit",
            body.len(),
            config.max_payload_bytes
        ));
    }
    let id = delivery.id.to_string();
    let Ok(url) = url::Url::parse(&target.url) else {
        return not_sent("the stored URL does not parse".into());
    };
    let outbound = Outbound {
        method: reqwest::Method::POST,
        url,
        headers: payload::headers(
            &id,
            Utc::now().timestamp(),
            &body,
            target.secret.as_deref(),
            target.previous.as_ref(),
        ),
        body,
        secrets: std::iter::once(target.url.clone())
            .chain(target.secret.clone())
            .chain(target.previous.as_ref().map(|p| p.secret.clone()))
            .collect(),
    };
    match sender.send(outbound, config.timeout).await {
        Ok(response) => sent(config, delivery, &response),
        Err(refused) => not_sent(refused),
    }
}

/// Nothing left (a refused target, an unreadable secret, an oversized body): retrying
/// cannot help, so the delivery fails now, unmetered.
pub(crate) fn not_sent(error: String) -> DeliveryRecording {
    DeliveryRecording {
        finish: DeliveryFinish::Failed,
        outcome: Outcome::NotSent,
        status_code: None,
        error: Some(error),
        response_excerpt: String::new(),
        duration_ms: 0,
        retry_after: None,
        ledger: None,
    }
}

fn sent(
    config: &DeliveryConfig,
    delivery: &ClaimedDelivery,
    response: &Response,
) -> DeliveryRecording {
    let finish = if response.succeeded() {
        DeliveryFinish::Succeeded
    } else if response.status == Some(410) {
        DeliveryFinish::Gone
    } else {
        match next_delay_in(
            &config.retry_schedule,
            delivery.attempt,
            response.retry_after(),
        ) {
            Some(delay) => DeliveryFinish::Retry(due_at(delay)),
            None => DeliveryFinish::Failed,
        }
    };
    DeliveryRecording {
        finish,
        outcome: response.outcome(),
        status_code: response.status.map(i32::from),
        error: response.problem(),
        response_excerpt: response.excerpt.clone(),
        duration_ms: response.duration_ms(),
        retry_after: response.retry_after(),
        ledger: Some(response.ledger_entry(None)),
    }
}

/// Parses `SWITCHYARD_DELIVERY_RETRY_SCHEDULE`: delays such as `0s,1m,5m`.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let delays = text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            switchyard_engine::definition::parse_duration(d).map_err(|err| format!("'{d}': {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if delays.is_empty() {
        return Err("give at least one delay, e.g. 0s,1m,5m,30m,2h".into());
    }
    Ok(delays)
}
