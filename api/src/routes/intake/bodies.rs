//! The intake routes' request and answer bodies.

use chrono::{DateTime, Utc};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_engine::intake::receipt::Receipt;
use uuid::Uuid;

use crate::schema::{Closed, Documented, IntakeRoute, IntakeSchemes, JsonObject, ReceiptOutcomes};

/// How requests are signed. `secret` is the sender's signing secret (Stripe's `whsec_…`,
/// Twilio's auth token, Slack's signing secret, Shopify's app secret); for
/// `standard_webhooks`, `github` and `hmac_sha256` one is made when none is given, and
/// shown once.
#[derive(Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub(super) struct VerifyInput {
    pub(super) scheme: Closed<IntakeSchemes>,
    #[oai(validator(min_length = 1, max_length = 1024))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) secret: Option<String>,
    /// How far a signed timestamp may be from now (`standard_webhooks`, `stripe`,
    /// `slack`): `1s` to `1h`, default `5m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tolerance: Option<String>,
    /// `hmac_sha256`: the header carrying the signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) header: Option<String>,
    /// `hmac_sha256`: `hex` (default) or `base64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) encoding: Option<String>,
    /// `hmac_sha256`: text before the signature in the header, such as `sha256=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) prefix: Option<String>,
}

#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub(super) struct CreateIntake {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub(super) name: String,
    pub(super) verify: VerifyInput,
    /// The routes, in order; without any, every request is `unmatched`.
    pub(super) routes: Option<Documented<Vec<IntakeRoute>>>,
}

#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub(super) struct UpdateIntake {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub(super) name: Option<String>,
    /// A new scheme or secret (a whole `verify`).
    pub(super) verify: Option<VerifyInput>,
    /// The new routes, replacing the old.
    pub(super) routes: Option<Documented<Vec<IntakeRoute>>>,
}

/// How requests are checked: never the secret.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct VerifyView {
    pub(super) scheme: Closed<IntakeSchemes>,
    pub(super) tolerance: Option<String>,
    pub(super) header: Option<String>,
    pub(super) encoding: Option<String>,
    pub(super) prefix: Option<String>,
}

/// A refused request: when, and why.
#[derive(Object)]
pub(super) struct RefusedRequest {
    pub(super) at: DateTime<Utc>,
    pub(super) reason: String,
}

/// Requests this server refused (bad or missing signatures, stale timestamps) since it
/// started: refusals write nothing, so they are counted in memory.
#[derive(Object)]
pub(super) struct Refusals {
    pub(super) count: u64,
    /// The most recent, newest first (at most 20).
    pub(super) recent: Vec<RefusedRequest>,
}

/// An intake endpoint: its public `url`, how requests are checked, and its routes.
#[derive(Object)]
pub(super) struct IntakeBody {
    pub(super) id: Uuid,
    pub(super) name: String,
    /// Where senders post: `SWITCHYARD_PUBLIC_URL` (or this request's host) + `/in/{id}`.
    pub(super) url: String,
    pub(super) verify: VerifyView,
    pub(super) routes: Documented<Vec<IntakeRoute>>,
    /// The signing secret made for this endpoint: in the answer that made it, never again.
    pub(super) secret: Option<String>,
    pub(super) refused: Refusals,
    #[oai(rename = "createdAt")]
    pub(super) created_at: DateTime<Utc>,
    #[oai(rename = "updatedAt")]
    pub(super) updated_at: DateTime<Utc>,
}

#[derive(Object)]
pub(super) struct IntakeList {
    pub(super) items: Vec<IntakeBody>,
    pub(super) next_cursor: Option<String>,
}

/// A verified request and what it did.
#[derive(Object)]
pub(super) struct ReceiptBody {
    pub(super) id: Uuid,
    pub(super) endpoint_id: Uuid,
    /// The sender's delivery id (`webhook-id`, Stripe's event id, `X-GitHub-Delivery`,
    /// …), or `sha256:` and the body's hash.
    pub(super) delivery_id: String,
    pub(super) received_at: DateTime<Utc>,
    pub(super) content_type: Option<String>,
    /// The request's headers, names in lower case, without signatures or credentials.
    pub(super) headers: JsonObject,
    pub(super) query: String,
    /// The body as text, when it is UTF-8.
    pub(super) body: Option<String>,
    pub(super) outcome: Closed<ReceiptOutcomes>,
    /// The route that applied (its index).
    pub(super) route: Option<i32>,
    pub(super) job_id: Option<Uuid>,
    /// The event the transition appended.
    pub(super) event_id: Option<Uuid>,
    /// Why: `reason`, and `refusal` for a refused transition.
    pub(super) detail: Option<JsonObject>,
    /// Times it was replayed.
    pub(super) replays: i32,
    pub(super) updated_at: DateTime<Utc>,
}

impl From<Receipt> for ReceiptBody {
    fn from(r: Receipt) -> Self {
        ReceiptBody {
            id: r.id,
            endpoint_id: r.endpoint_id,
            delivery_id: r.delivery_id,
            received_at: r.received_at,
            content_type: r.content_type,
            headers: object(r.headers),
            query: r.query,
            body: String::from_utf8(r.body).ok(),
            outcome: r.outcome.as_str().into(),
            route: r.route,
            job_id: r.job_id,
            event_id: r.event_id,
            detail: r.detail.map(object),
            replays: r.replays,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Object)]
pub(super) struct ReceiptList {
    pub(super) items: Vec<ReceiptBody>,
    pub(super) next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub(super) enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<IntakeBody>),
}

#[derive(ApiResponse)]
pub(super) enum DeleteResponse {
    /// The endpoint and its receipts are gone; its address answers 404.
    #[oai(status = 204)]
    Deleted,
}

/// `value` as an object; anything else as an empty one (the engine writes objects).
pub(crate) fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => JsonObject(map),
        _ => JsonObject::default(),
    }
}
