//! Who asked for a change: recorded in the metadata of every event it writes.

use serde_json::{json, Value};

use crate::{ApiKeyId, TenantId, UserId};

/// The tenant and key behind a request, and the request's ids.
#[derive(Clone, Debug)]
pub struct Actor {
    pub tenant_id: TenantId,
    /// `None` for the command line, other operator actions and console sessions.
    pub key_id: Option<ApiKeyId>,
    /// The signed-in person, for requests made with a console session.
    pub user_id: Option<UserId>,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    /// The timer that acts, for the transitions timers apply.
    pub timer_id: Option<uuid::Uuid>,
    /// The intake endpoint and receipt that act, for what a verified inbound webhook does.
    pub intake: Option<(uuid::Uuid, uuid::Uuid)>,
}

impl Actor {
    /// An operator acting through the command line for `tenant_id`.
    pub fn operator(tenant_id: TenantId) -> Self {
        Actor {
            tenant_id,
            key_id: None,
            user_id: None,
            request_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: None,
            timer_id: None,
            intake: None,
        }
    }

    /// The actor `timer`: a timer of `tenant_id` firing.
    pub fn timer(tenant_id: TenantId, timer_id: uuid::Uuid) -> Self {
        Actor {
            timer_id: Some(timer_id),
            ..Actor::operator(tenant_id)
        }
    }

    /// The actor `intake`: receipt `receipt_id` of endpoint `endpoint_id` applying its route.
    pub fn intake(tenant_id: TenantId, endpoint_id: uuid::Uuid, receipt_id: uuid::Uuid) -> Self {
        Actor {
            request_id: receipt_id.to_string(),
            intake: Some((endpoint_id, receipt_id)),
            ..Actor::operator(tenant_id)
        }
    }

    /// The event metadata: actor key id, request id, idempotency key, and the actor's
    /// user id when a person made the request through the console.
    pub fn metadata(&self) -> Value {
        let mut metadata = json!({
            "actor_key_id": self.key_id,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
        });
        if let Some(user_id) = self.user_id {
            metadata["actor_user_id"] = json!(user_id);
        }
        if let Some(timer_id) = self.timer_id {
            metadata["actor"] = json!("timer");
            metadata["timer_id"] = json!(timer_id);
        }
        if let Some((endpoint_id, receipt_id)) = self.intake {
            metadata["actor"] = json!("intake");
            metadata["intake_endpoint_id"] = json!(endpoint_id);
            metadata["intake_receipt_id"] = json!(receipt_id);
        }
        metadata
    }
}
