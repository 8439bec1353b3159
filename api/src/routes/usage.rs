//! Metering: `GET /api/v1/usage` (totals by kind and day) and `GET /api/v1/ledger` (rows).

use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use switchyard_engine::api_key::Scope;
use switchyard_engine::ledger;
use uuid::Uuid;

use super::{paging, ApiTags};
use crate::auth::ApiKeyAuth;
use crate::problem::ApiError;
use crate::schema::{Closed, LedgerKinds, Outcomes};
use crate::state::AppState;

pub struct UsageApi {
    pub state: AppState,
}

#[derive(Object)]
struct UsageDayBody {
    day: NaiveDate,
    kind: Closed<LedgerKinds>,
    requests: i64,
    succeeded: i64,
    failed: i64,
    bytes_out: i64,
    bytes_in: i64,
}

#[derive(Object)]
struct Usage {
    items: Vec<UsageDayBody>,
}

#[derive(Object)]
struct LedgerRowBody {
    id: i64,
    kind: Closed<LedgerKinds>,
    /// The action run (or delivery) the request was made for.
    source_id: Uuid,
    attempt: i32,
    connection_id: Option<Uuid>,
    job_id: Option<Uuid>,
    status_code: Option<i32>,
    /// `succeeded`, `failed`, `timeout` or `network_error`.
    outcome: Closed<Outcomes>,
    bytes_out: i64,
    bytes_in: i64,
    duration_ms: i32,
    recorded_at: DateTime<Utc>,
}

#[derive(Object)]
struct LedgerList {
    items: Vec<LedgerRowBody>,
    next_cursor: Option<String>,
}

const READERS: &[Scope] = &[Scope::Auditor];

#[OpenApi(tag = "ApiTags::Usage")]
impl UsageApi {
    /// Metered requests by kind and UTC day; `from` and `to` are inclusive dates.
    #[oai(path = "/api/v1/usage", method = "get", operation_id = "getUsage")]
    async fn usage(
        &self,
        auth: ApiKeyAuth,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> Result<Json<Usage>, ApiError> {
        let actor = auth.require(READERS)?;
        let from = paging::date("from", from.0)?;
        let to = paging::date("to", to.0)?;
        let days = ledger::usage(&self.state.pool, actor.tenant_id, from, to).await?;
        Ok(Json(Usage {
            items: days
                .into_iter()
                .map(|d| UsageDayBody {
                    day: d.day,
                    kind: d.kind.into(),
                    requests: d.requests,
                    succeeded: d.succeeded,
                    failed: d.failed,
                    bytes_out: d.bytes_out,
                    bytes_in: d.bytes_in,
                })
                .collect(),
        }))
    }

    /// Every metered request, oldest first.
    #[oai(path = "/api/v1/ledger", method = "get", operation_id = "listLedger")]
    async fn ledger(
        &self,
        auth: ApiKeyAuth,
        cursor: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<i64>>,
    ) -> Result<Json<LedgerList>, ApiError> {
        let actor = auth.require(READERS)?;
        let limit = paging::limit(limit.0, 100, 1000)?;
        let after = paging::cursor(cursor.0.as_deref(), |c| c.parse::<i64>().ok())?;
        let rows = ledger::list(&self.state.pool, actor.tenant_id, after, limit).await?;
        let next_cursor = paging::next_cursor(&rows, limit, |r| r.id.to_string());
        Ok(Json(LedgerList {
            items: rows
                .into_iter()
                .map(|r| LedgerRowBody {
                    id: r.id,
                    kind: r.kind.into(),
                    source_id: r.source_id,
                    attempt: r.attempt,
                    connection_id: r.connection_id,
                    job_id: r.job_id,
                    status_code: r.status_code,
                    outcome: r.outcome.as_str().into(),
                    bytes_out: r.bytes_out,
                    bytes_in: r.bytes_in,
                    duration_ms: r.duration_ms,
                    recorded_at: r.recorded_at,
                })
                .collect(),
            next_cursor,
        }))
    }
}
