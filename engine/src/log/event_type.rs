//! The types of event the log holds. Written and read as their dotted names
//! (`job.transitioned`); a stored name this build does not know is a corrupt row.

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// What happened, as an event's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "tenant.created")]
    TenantCreated,
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "api_key.created")]
    ApiKeyCreated,
    #[serde(rename = "api_key.revoked")]
    ApiKeyRevoked,
    #[serde(rename = "workflow.published")]
    WorkflowPublished,
    #[serde(rename = "job.created")]
    JobCreated,
    #[serde(rename = "job.transitioned")]
    JobTransitioned,
    #[serde(rename = "action.succeeded")]
    ActionSucceeded,
    #[serde(rename = "action.retry_scheduled")]
    ActionRetryScheduled,
    #[serde(rename = "action.failed")]
    ActionFailed,
    #[serde(rename = "action.skipped")]
    ActionSkipped,
    #[serde(rename = "action.retried")]
    ActionRetried,
    #[serde(rename = "timer.scheduled")]
    TimerScheduled,
    #[serde(rename = "timer.fired")]
    TimerFired,
    #[serde(rename = "timer.cancelled")]
    TimerCancelled,
    #[serde(rename = "connection.created")]
    ConnectionCreated,
    #[serde(rename = "connection.updated")]
    ConnectionUpdated,
    #[serde(rename = "connection.deleted")]
    ConnectionDeleted,
    #[serde(rename = "connection.failing")]
    ConnectionFailing,
    #[serde(rename = "connection.recovered")]
    ConnectionRecovered,
    #[serde(rename = "connection.tested")]
    ConnectionTested,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.updated")]
    SubscriptionUpdated,
    #[serde(rename = "subscription.deleted")]
    SubscriptionDeleted,
    #[serde(rename = "subscription.disabled")]
    SubscriptionDisabled,
    #[serde(rename = "subscription.failing")]
    SubscriptionFailing,
    #[serde(rename = "subscription.recovered")]
    SubscriptionRecovered,
}

impl EventType {
    pub const ALL: [EventType; 28] = [
        EventType::TenantCreated,
        EventType::UserCreated,
        EventType::UserDisabled,
        EventType::ApiKeyCreated,
        EventType::ApiKeyRevoked,
        EventType::JobCreated,
        EventType::JobTransitioned,
        EventType::ActionSucceeded,
        EventType::ActionRetryScheduled,
        EventType::ActionFailed,
        EventType::ActionSkipped,
        EventType::ActionRetried,
        EventType::TimerScheduled,
        EventType::TimerFired,
        EventType::TimerCancelled,
        EventType::ConnectionCreated,
        EventType::ConnectionUpdated,
        EventType::ConnectionDeleted,
        EventType::ConnectionFailing,
        EventType::ConnectionRecovered,
        EventType::ConnectionTested,
        EventType::WorkflowPublished,
        EventType::SubscriptionCreated,
        EventType::SubscriptionUpdated,
        EventType::SubscriptionDeleted,
        EventType::SubscriptionDisabled,
        EventType::SubscriptionFailing,
        EventType::SubscriptionRecovered,
    ];

    /// The dotted name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TenantCreated => "tenant.created",
            EventType::UserCreated => "user.created",
            EventType::UserDisabled => "user.disabled",
            EventType::ApiKeyCreated => "api_key.created",
            EventType::ApiKeyRevoked => "api_key.revoked",
            EventType::WorkflowPublished => "workflow.published",
            EventType::JobCreated => "job.created",
            EventType::JobTransitioned => "job.transitioned",
            EventType::ActionSucceeded => "action.succeeded",
            EventType::ActionRetryScheduled => "action.retry_scheduled",
            EventType::ActionFailed => "action.failed",
            EventType::ActionSkipped => "action.skipped",
            EventType::ActionRetried => "action.retried",
            EventType::TimerScheduled => "timer.scheduled",
            EventType::TimerFired => "timer.fired",
            EventType::TimerCancelled => "timer.cancelled",
            EventType::ConnectionCreated => "connection.created",
            EventType::ConnectionUpdated => "connection.updated",
            EventType::ConnectionDeleted => "connection.deleted",
            EventType::ConnectionFailing => "connection.failing",
            EventType::ConnectionRecovered => "connection.recovered",
            EventType::ConnectionTested => "connection.tested",
            EventType::SubscriptionCreated => "subscription.created",
            EventType::SubscriptionUpdated => "subscription.updated",
            EventType::SubscriptionDeleted => "subscription.deleted",
            EventType::SubscriptionDisabled => "subscription.disabled",
            EventType::SubscriptionFailing => "subscription.failing",
            EventType::SubscriptionRecovered => "subscription.recovered",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Result<EventType, StoreError> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event type '{text}'")))
    }

    /// What the event means, for subscribers choosing types; `None` for the types that stay
    /// in the log for auditors and are not sent out (tenants, users, API keys).
    pub fn description(self) -> Option<&'static str> {
        Some(match self {
            EventType::TenantCreated
            | EventType::UserCreated
            | EventType::UserDisabled
            | EventType::ApiKeyCreated
            | EventType::ApiKeyRevoked => return None,
            EventType::WorkflowPublished => "A workflow version was published.",
            EventType::JobCreated => "A job was created.",
            EventType::JobTransitioned => "A job moved to another state.",
            EventType::ActionSucceeded => "An action's request got a 2xx answer.",
            EventType::ActionRetryScheduled => "An action's attempt failed and will be retried.",
            EventType::ActionFailed => "An action failed for good.",
            EventType::ActionSkipped => "An action was skipped after an earlier action failed.",
            EventType::ActionRetried => {
                "A failed action was retried by hand; what its failure skipped runs after it."
            }
            EventType::TimerScheduled => "A job entered a state with a timeout; its timer is set.",
            EventType::TimerFired => "A timer fired: its transition was applied.",
            EventType::TimerCancelled => {
                "A timer was cancelled: the job left the state, or had moved on when it fired."
            }
            EventType::ConnectionCreated => "A provider connection was stored.",
            EventType::ConnectionUpdated => "A connection was renamed or got new credentials.",
            EventType::ConnectionDeleted => "A connection was deleted.",
            EventType::ConnectionFailing => {
                "A connection's request failed after it had been healthy (or untried)."
            }
            EventType::ConnectionRecovered => {
                "A connection's request succeeded after it had been failing."
            }
            EventType::ConnectionTested => "A connector's test event was sent, or failed to be.",
            EventType::SubscriptionCreated => "An event subscription was created.",
            EventType::SubscriptionUpdated => "An event subscription was changed.",
            EventType::SubscriptionDeleted => "An event subscription was deleted.",
            EventType::SubscriptionDisabled => {
                "A subscription was disabled because its target answered 410 Gone."
            }
            EventType::SubscriptionFailing => {
                "A delivery of a subscription used up its attempts: its endpoint is failing."
            }
            EventType::SubscriptionRecovered => {
                "A delivery of a failing subscription succeeded: its endpoint is back."
            }
        })
    }

    /// Whether subscriptions may receive this type.
    pub fn is_subscribable(self) -> bool {
        self.description().is_some()
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_serialise_as_written() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()).unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!(EventType::parse("job.deleted").is_err());
        assert!(!EventType::ApiKeyCreated.is_subscribable());
    }
}

crate::stored_as_text!(EventType, |text| EventType::parse(text).ok());
