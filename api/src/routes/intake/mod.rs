//! `/api/v1/intake`: intake endpoints (how their requests are signed, and their routes),
//! their receipts, replaying a receipt, and previewing routes against a sample. The public
//! address is served by [`super::inbound`].

mod bodies;
mod preview;

pub(super) use bodies::object;

use poem::http::StatusCode;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;
use serde_json::{json, Value};
use switchyard_actions::intake::endpoints::{self, EndpointError, EndpointInput};
use switchyard_actions::intake::receive::ReplayError;
use switchyard_actions::intake::request::{body_value, query_value};
use switchyard_engine::api_key::Scope;
use switchyard_engine::intake::apply::request_value;
use switchyard_engine::intake::receipt;
use switchyard_engine::intake::route;
use switchyard_engine::intake::{self as stored, Endpoint};
use switchyard_engine::sealed::SealedRow;
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, FieldError, Problem};
use crate::schema::{Documented, JsonObject};
use crate::state::AppState;
use bodies::{
    CreateIntake, CreateResponse, DeleteResponse, IntakeBody, IntakeList, ReceiptBody, ReceiptList,
    Refusals, RefusedRequest, UpdateIntake, VerifyInput, VerifyView,
};
use preview::{preview_answer, IntakePreview, IntakeSample};

pub struct IntakeApi {
    pub state: AppState,
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
