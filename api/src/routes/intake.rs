//! `/api/v1/intake`: intake endpoints (how their requests are signed, and their routes),
//! their receipts, and replaying a receipt. The public address is served by
//! [`super::inbound`].

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchyard_actions::intake::endpoints::{self, EndpointError, EndpointInput};
use switchyard_actions::intake::receive::{body_value, query_value, ReplayError};
use switchyard_engine::api_key::Scope;
use switchyard_engine::intake::apply::request_value;
use switchyard_engine::intake::receipt::{self, Receipt};
use switchyard_engine::intake::route::{self, NoPlan, Plan, Target};
use switchyard_engine::intake::{self as stored, Endpoint};
use switchyard_engine::sealed::SealedRow;
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, FieldError, Problem};
use crate::schema::{Closed, Documented, IntakeRoute, IntakeSchemes, JsonObject, ReceiptOutcomes};
use crate::state::AppState;

pub struct IntakeApi {
    pub state: AppState,
}

/// How requests are signed. `secret` is the sender's signing secret (Stripe's `whsec_…`,
/// Twilio's auth token, Slack's signing secret, Shopify's app secret); for
/// `standard_webhooks`, `github` and `hmac_sha256` one is made when none is given, and
/// shown once.
#[derive(Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
struct VerifyInput {
    scheme: Closed<IntakeSchemes>,
    #[oai(validator(min_length = 1, max_length = 1024))]
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// How far a signed timestamp may be from now (`standard_webhooks`, `stripe`,
    /// `slack`): `1s` to `1h`, default `5m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    tolerance: Option<String>,
    /// `hmac_sha256`: the header carrying the signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<String>,
    /// `hmac_sha256`: `hex` (default) or `base64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<String>,
    /// `hmac_sha256`: text before the signature in the header, such as `sha256=`.
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
}

#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
struct CreateIntake {
    #[oai(validator(min_length = 1, max_length = 100))]
    name: String,
    verify: VerifyInput,
    /// The routes, in order; without any, every request is `unmatched`.
    routes: Option<Documented<Vec<IntakeRoute>>>,
}

#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
struct UpdateIntake {
    #[oai(validator(min_length = 1, max_length = 100))]
    name: Option<String>,
    /// A new scheme or secret (a whole `verify`).
    verify: Option<VerifyInput>,
    /// The new routes, replacing the old.
    routes: Option<Documented<Vec<IntakeRoute>>>,
}

/// How requests are checked: never the secret.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
struct VerifyView {
    scheme: Closed<IntakeSchemes>,
    tolerance: Option<String>,
    header: Option<String>,
    encoding: Option<String>,
    prefix: Option<String>,
}

/// A refused request: when, and why.
#[derive(Object)]
struct RefusedRequest {
    at: DateTime<Utc>,
    reason: String,
}

/// Requests this server refused (bad or missing signatures, stale timestamps) since it
/// started: refusals write nothing, so they are counted in memory.
#[derive(Object)]
struct Refusals {
    count: u64,
    /// The most recent, newest first (at most 20).
    recent: Vec<RefusedRequest>,
}

/// An intake endpoint: its public `url`, how requests are checked, and its routes.
#[derive(Object)]
struct IntakeBody {
    id: Uuid,
    name: String,
    /// Where senders post: `SWITCHYARD_PUBLIC_URL` (or this request's host) + `/in/{id}`.
    url: String,
    verify: VerifyView,
    routes: Documented<Vec<IntakeRoute>>,
    /// The signing secret made for this endpoint: in the answer that made it, never again.
    secret: Option<String>,
    refused: Refusals,
    #[oai(rename = "createdAt")]
    created_at: DateTime<Utc>,
    #[oai(rename = "updatedAt")]
    updated_at: DateTime<Utc>,
}

#[derive(Object)]
struct IntakeList {
    items: Vec<IntakeBody>,
    next_cursor: Option<String>,
}

/// A verified request and what it did.
#[derive(Object)]
pub struct ReceiptBody {
    id: Uuid,
    endpoint_id: Uuid,
    /// The sender's delivery id (`webhook-id`, Stripe's event id, `X-GitHub-Delivery`,
    /// …), or `sha256:` and the body's hash.
    delivery_id: String,
    received_at: DateTime<Utc>,
    content_type: Option<String>,
    /// The request's headers, names in lower case, without signatures or credentials.
    headers: JsonObject,
    query: String,
    /// The body as text, when it is UTF-8.
    body: Option<String>,
    outcome: Closed<ReceiptOutcomes>,
    /// The route that applied (its index).
    route: Option<i32>,
    job_id: Option<Uuid>,
    /// The event the transition appended.
    event_id: Option<Uuid>,
    /// Why: `reason`, and `refusal` for a refused transition.
    detail: Option<JsonObject>,
    /// Times it was replayed.
    replays: i32,
    updated_at: DateTime<Utc>,
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
struct ReceiptList {
    items: Vec<ReceiptBody>,
    next_cursor: Option<String>,
}

/// A sample request to try routes against: nothing is verified, written or applied.
#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
struct IntakeSample {
    routes: Documented<Vec<IntakeRoute>>,
    /// The body as the sender sends it (JSON, a form, text).
    #[oai(validator(max_length = 262144))]
    body: String,
    /// Default `application/json`; `application/x-www-form-urlencoded` reads a form.
    content_type: Option<String>,
    /// The query string, without `?` (`job=…`).
    query: Option<String>,
    /// Headers, names in lower case.
    headers: Option<JsonObject>,
}

/// What the routes would do with the sample.
#[derive(Object)]
struct IntakePreview {
    /// `matched`, `unmatched` (no route's `when` holds) or `failed` (a route could not be
    /// evaluated: `reason`).
    outcome: String,
    route: Option<i32>,
    /// The job as the route names it: `{"id"}` or `{"external_id", "workflow"}`.
    job: Option<JsonObject>,
    /// The job to create when none has the external id: `{"workflow", "context"}`.
    create: Option<JsonObject>,
    transition: Option<String>,
    to: Option<String>,
    data: Option<JsonObject>,
    reason: Option<String>,
    /// The same, in words.
    summary: String,
    /// The request as routes see it: `{"body", "headers", "query"}`.
    request: JsonObject,
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<IntakeBody>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The endpoint and its receipts are gone; its address answers 404.
    #[oai(status = 204)]
    Deleted,
}

/// The base senders reach this server at: `SWITCHYARD_PUBLIC_URL`, or `http://` and the
/// request's `Host`.
pub fn public_base(state: &AppState, req: &Request) -> String {
    if let Some(base) = &state.public_url {
        return base.to_string();
    }
    let host = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

impl IntakeApi {
    fn body(&self, req: &Request, e: Endpoint, secret: Option<String>) -> IntakeBody {
        let setting = |name: &str| {
            e.settings
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (count, recent) = self.state.intake.refusals.of(e.id);
        IntakeBody {
            id: e.id,
            url: format!("{}/in/{}", public_base(&self.state, req), e.id),
            verify: VerifyView {
                scheme: e.scheme.as_str().into(),
                tolerance: setting("tolerance"),
                header: setting("header"),
                encoding: setting("encoding"),
                prefix: setting("prefix"),
            },
            name: e.name,
            routes: Documented::new(e.routes),
            secret,
            refused: Refusals {
                count,
                recent: recent
                    .into_iter()
                    .map(|r| RefusedRequest {
                        at: r.at,
                        reason: r.reason,
                    })
                    .collect(),
            },
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

fn verify_value(verify: &VerifyInput) -> Value {
    serde_json::to_value(verify).expect("text fields serialise")
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => JsonObject(map),
        _ => JsonObject::default(),
    }
}

/// The preview's answer for `chosen`.
fn preview_answer(chosen: Result<Plan, NoPlan>, request: Value) -> IntakePreview {
    let mut answer = IntakePreview {
        outcome: "unmatched".into(),
        route: None,
        job: None,
        create: None,
        transition: None,
        to: None,
        data: None,
        reason: None,
        summary: "no route's when holds: the receipt would be unmatched".into(),
        request: object(request),
    };
    match chosen {
        Err(NoPlan::Unmatched) => {}
        Err(NoPlan::Failed { route, reason }) => {
            answer.outcome = "failed".into();
            answer.route = Some(route as i32);
            answer.summary = format!("route {route} could not be applied: {reason}");
            answer.reason = Some(reason);
        }
        Ok(plan) => {
            let (job, named) = match &plan.job {
                Target::Id(id) => (json!({"id": id}), format!("job {id}")),
                Target::External {
                    external_id,
                    workflow,
                } => (
                    json!({"external_id": external_id, "workflow": workflow}),
                    format!("the job with external id '{external_id}'"),
                ),
            };
            let change = match (&plan.transition, &plan.to) {
                (Some(t), _) => format!("apply '{t}' to {named}"),
                (None, Some(to)) => format!("move {named} to '{to}'"),
                (None, None) => format!("find {named}"),
            };
            let create = plan
                .create
                .as_ref()
                .map(|(workflow, _)| format!(", creating it in '{workflow}' when there is none"));
            answer.summary = format!(
                "route {}: {change}{} with data {}",
                plan.route,
                create.unwrap_or_default(),
                plan.data
            );
            answer.outcome = "matched".into();
            answer.route = Some(plan.route as i32);
            answer.job = Some(object(job));
            answer.create = plan.create.map(|(workflow, context)| {
                object(json!({"workflow": workflow, "context": context}))
            });
            answer.transition = plan.transition;
            answer.to = plan.to;
            answer.data = Some(object(plan.data));
        }
    }
    answer
}

/// Maps an endpoint error to its problem.
fn endpoint_error(err: EndpointError) -> ApiError {
    let detail = err.to_string();
    match err {
        EndpointError::Invalid { field, message } => ApiError::invalid(&field, message),
        EndpointError::Routes(problems) => {
            let mut problem = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-routes",
                "Invalid routes",
                format!("{detail}; each is listed in errors with its path"),
            );
            problem.field = problems.first().map(|p| p.path.clone());
            problem.errors = Some(
                problems
                    .into_iter()
                    .map(|p| FieldError {
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            );
            problem.into()
        }
        EndpointError::LimitReached => ApiError::quota(
            "Intake endpoint limit reached",
            format!("{detail}; delete one first"),
        ),
        EndpointError::NotFound(id) => ApiError::not_found("intake endpoint", id),
        EndpointError::Store(err) => err.into(),
    }
}

#[OpenApi(tag = "ApiTags::Intake")]
impl IntakeApi {
    /// Create an intake endpoint: a public address other systems post signed webhooks to,
    /// and routes that make them job transitions.
    #[oai(
        path = "/api/v1/intake",
        method = "post",
        operation_id = "createIntakeEndpoint"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        req: &Request,
        body: JsonBody<CreateIntake>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let input = EndpointInput {
            name: body.0.name,
            verify: verify_value(&body.0.verify),
            routes: body.0.routes.map_or(Value::Array(Vec::new()), |r| r.0),
        };
        let saved = endpoints::create(&self.state.pool, &self.state.keyring, &actor, input)
            .await
            .map_err(endpoint_error)?;
        Ok(CreateResponse::Created(Json(self.body(
            req,
            saved.endpoint,
            saved.generated_secret,
        ))))
    }

    /// Try routes against a sample request: which route holds, and the job, transition and
    /// data it would render. Nothing is verified, written or applied.
    #[oai(
        path = "/api/v1/intake/preview",
        method = "post",
        operation_id = "previewIntakeRoutes"
    )]
    async fn preview(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<IntakeSample>,
    ) -> Result<Json<IntakePreview>, ApiError> {
        auth.require(&[Scope::Designer])?;
        let sample = body.0;
        let routes = route::parse(&sample.routes.0)
            .map_err(|problems| endpoint_error(EndpointError::Routes(problems)))?;
        let content_type = sample.content_type.as_deref().unwrap_or("application/json");
        let request = request_value(
            body_value(Some(content_type), sample.body.as_bytes()),
            sample.headers.map_or(json!({}), JsonObject::into_value),
            query_value(sample.query.as_deref().unwrap_or_default()),
        );
        let seen = request.clone();
        let chosen = tokio::task::spawn_blocking(move || route::choose(&routes, &seen))
            .await
            .map_err(|_| ApiError::invalid("routes", "the routes could not be evaluated"))?;
        Ok(Json(preview_answer(chosen, request)))
    }

    /// The tenant's intake endpoints.
    #[oai(
        path = "/api/v1/intake",
        method = "get",
        operation_id = "listIntakeEndpoints"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        req: &Request,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] limit: Query<Option<i64>>,
    ) -> Result<Json<IntakeList>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let limit = paging::limit(limit.0, 50, 100)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok())?;
        let items = Endpoint::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |e| e.id.to_string());
        Ok(Json(IntakeList {
            items: items.into_iter().map(|e| self.body(req, e, None)).collect(),
            next_cursor,
        }))
    }

    /// One intake endpoint, with the requests refused lately.
    #[oai(
        path = "/api/v1/intake/:id",
        method = "get",
        operation_id = "getIntakeEndpoint"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        req: &Request,
        id: Path<Uuid>,
    ) -> Result<Json<IntakeBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let found = Endpoint::get(&self.state.pool, actor.tenant_id, id.0).await?;
        let endpoint = found.ok_or_else(|| ApiError::not_found("intake endpoint", id.0))?;
        Ok(Json(self.body(req, endpoint, None)))
    }

    /// Rename an endpoint, change how it verifies (or its secret), or replace its routes.
    #[oai(
        path = "/api/v1/intake/:id",
        method = "patch",
        operation_id = "updateIntakeEndpoint"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        req: &Request,
        id: Path<Uuid>,
        body: JsonBody<UpdateIntake>,
    ) -> Result<Json<IntakeBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let body = body.0;
        let saved = endpoints::update(
            &self.state.pool,
            &self.state.keyring,
            &actor,
            id.0,
            body.name,
            body.verify.as_ref().map(verify_value),
            body.routes.map(|r| r.0),
        )
        .await
        .map_err(endpoint_error)?;
        self.state.intake.forget(id.0);
        Ok(Json(self.body(req, saved.endpoint, saved.generated_secret)))
    }

    /// Delete an endpoint and its receipts; its address answers 404 from then on.
    #[oai(
        path = "/api/v1/intake/:id",
        method = "delete",
        operation_id = "deleteIntakeEndpoint"
    )]
    async fn delete(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        if !stored::delete(&self.state.pool, &actor, id.0).await? {
            return Err(ApiError::not_found("intake endpoint", id.0));
        }
        self.state.intake.forget(id.0);
        Ok(DeleteResponse::Deleted)
    }

    /// The endpoint's receipts, newest first; `job_id` keeps those of one job.
    #[oai(
        path = "/api/v1/intake/:id/receipts",
        method = "get",
        operation_id = "listIntakeReceipts"
    )]
    async fn receipts(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        job_id: Query<Option<Uuid>>,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
    ) -> Result<Json<ReceiptList>, ApiError> {
        let actor = auth.require(&[Scope::Designer, Scope::Service])?;
        let limit = paging::limit(limit.0, 50, 200)?;
        let before = paging::cursor(cursor.0.as_deref(), |c| Uuid::parse_str(c).ok())?;
        if Endpoint::get(&self.state.pool, actor.tenant_id, id.0)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("intake endpoint", id.0));
        }
        let pool = &self.state.pool;
        let items = receipt::list(pool, actor.tenant_id, id.0, job_id.0, before, limit).await?;
        let next_cursor = paging::next_cursor(&items, limit, |r| r.id.to_string());
        Ok(Json(ReceiptList {
            items: items.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    /// Run an `unmatched` or `refused` receipt through the endpoint's current routes
    /// again (after fixing a route, or creating the job it was for).
    #[oai(
        path = "/api/v1/intake/:id/receipts/:receipt_id/replay",
        method = "post",
        operation_id = "replayIntakeReceipt"
    )]
    async fn replay(
        &self,
        auth: ApiKeyAuth,
        id: Path<Uuid>,
        receipt_id: Path<Uuid>,
    ) -> Result<Json<ReceiptBody>, ApiError> {
        let actor = auth.require(&[Scope::Designer])?;
        let on_commit = self.state.on_intake_commit();
        let replayed = self
            .state
            .intake
            .replay(actor.tenant_id, id.0, receipt_id.0, on_commit)
            .await;
        match replayed {
            Ok(receipt) => Ok(Json(receipt.into())),
            Err(ReplayError::NotFound) => Err(ApiError::not_found("receipt", receipt_id.0)),
            Err(ReplayError::NotReplayable(outcome)) => Err(Problem::new(
                StatusCode::CONFLICT,
                "receipt-not-replayable",
                "Receipt not replayable",
                format!(
                    "the receipt is {}: only unmatched and refused receipts run again (and pending ones after a minute)",
                    outcome.as_str()
                ),
            )
            .into()),
            Err(ReplayError::Store(err)) => Err(err.into()),
        }
    }
}
