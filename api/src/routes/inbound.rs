//! `POST /in/{id}`: signed webhooks from other systems, without an API key. The signature
//! is the credential: a request whose signature does not hold is 401 and writes nothing;
//! an address that is no endpoint is 404. Verified requests answer 200 whatever their
//! route did (a sender would otherwise retry what can never apply), with the outcome in
//! the body; 202 when the route is still running after the answer's bound.

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use switchyard_actions::intake::receive::{Reception, Request as Inbound};
use switchyard_engine::intake::receipt::{Outcome, Receipt};
use uuid::Uuid;

use super::intake::{object, public_base};
use super::ApiTags;
use crate::problem::{ApiError, Problem};
use crate::schema::{Closed, JsonObject, ReceiptOutcomes};
use crate::state::AppState;

pub struct InboundApi {
    pub state: AppState,
}

/// What a verified request did.
#[derive(Object)]
struct Received {
    receipt_id: Uuid,
    /// `applied`, `created`, `unmatched`, `refused`, or `pending` (still running).
    outcome: Closed<ReceiptOutcomes>,
    /// This delivery was received before: the first answer, and nothing applied now.
    repeat: bool,
    job_id: Option<Uuid>,
    event_id: Option<Uuid>,
    /// Why, for `unmatched` and `refused`.
    detail: Option<JsonObject>,
}

impl Received {
    fn of(r: Receipt, repeat: bool) -> Received {
        Received {
            receipt_id: r.id,
            outcome: r.outcome.as_str().into(),
            repeat,
            job_id: r.job_id,
            event_id: r.event_id,
            detail: r.detail.map(object),
        }
    }
}

#[derive(ApiResponse)]
enum ReceiveResponse {
    /// Verified and recorded; the outcome says what its route did.
    #[oai(status = 200)]
    Done(Json<Received>),
    /// Verified and recorded; its route is still running (the receipt will say).
    #[oai(status = 202)]
    Pending(Json<Received>),
    /// The signature is missing, does not hold, or its timestamp is outside the window.
    /// Nothing was written.
    #[oai(status = 401, content_type = "application/problem+json")]
    Refused(
        Json<Box<Problem>>,
        /// `Signature realm="intake"`: the request's signature is its credential.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
}

fn refused(why: &str) -> ReceiveResponse {
    let problem = Problem::new(
        StatusCode::UNAUTHORIZED,
        "signature-invalid",
        "Signature not verified",
        format!("{why}; nothing was recorded"),
    );
    ReceiveResponse::Refused(Json(Box::new(problem)), "Signature realm=\"intake\"".into())
}

fn unknown(id: &str) -> ApiError {
    switchyard_engine::metrics::intake("unknown");
    ApiError::not_found("intake endpoint", id)
}

#[OpenApi(tag = "ApiTags::Intake")]
impl InboundApi {
    /// Receive a signed webhook (any content type: JSON, a form, text). The endpoint's
    /// scheme says which headers carry the signature.
    #[oai(path = "/in/:id", method = "post", operation_id = "receiveIntake")]
    async fn receive(
        &self,
        req: &Request,
        id: Path<String>,
        body: Binary<Vec<u8>>,
    ) -> Result<ReceiveResponse, ApiError> {
        let state = &self.state;
        let client = req.remote_addr().as_socket_addr().map(|a| a.ip());
        // An address guessing ids or signatures waits, as one guessing API keys does.
        state.throttle.check_client(client)?;
        let Ok(endpoint_id) = Uuid::parse_str(&id.0) else {
            state.throttle.auth_failed(client);
            return Err(unknown(&id.0));
        };
        let Some(loaded) = state.intake.endpoint(endpoint_id).await? else {
            state.throttle.auth_failed(client);
            return Err(unknown(&id.0));
        };
        let query = req.uri().query().unwrap_or_default();
        let mut url = format!("{}{}", public_base(state, req), req.uri().path());
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let request = Inbound {
            headers: req.headers(),
            body: &body.0,
            query,
            url: &url,
        };
        let verified = match state.intake.check(&loaded, &request) {
            Ok(verified) => verified,
            Err(refusal) => {
                state.throttle.auth_failed(client);
                return Ok(refused(&refusal.to_string()));
            }
        };
        // Limits count verified requests only: a flood of unsigned ones cannot use up the
        // endpoint's rate and keep its real sender out.
        let tenant = loaded.endpoint.tenant_id;
        state.throttle.intake_request(endpoint_id)?;
        state.throttle.tenant_request(tenant)?;
        let _slot = state.throttle.intake_slot(tenant)?;
        let on_commit = state.on_intake_commit();
        match state
            .intake
            .receive(loaded, request, verified, on_commit)
            .await?
        {
            Reception::Refused(refusal) => Ok(refused(&refusal.to_string())),
            Reception::Gone => Err(unknown(&id.0)),
            Reception::Received { receipt, repeat } => {
                let pending = receipt.outcome == Outcome::Pending;
                let body = Json(Received::of(*receipt, repeat));
                Ok(if pending {
                    ReceiveResponse::Pending(body)
                } else {
                    ReceiveResponse::Done(body)
                })
            }
        }
    }
}
