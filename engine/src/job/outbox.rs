//! The outbox: `action_runs` rows written in the transition's transaction, claimed by the
//! worker after commit.
//!
//! A job's actions form one lane, run in commit order one at a time: a transition's first
//! action is `pending` only when nothing earlier in the lane is unfinished; everything else
//! starts `waiting` and is released by the worker when the action before it ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::Job;
use crate::definition::TransitionDef;
use crate::log::Event;
use crate::queue::{Progress, Status, PROGRESS_COLUMNS};
use crate::{JobId, Pool, StoreError, TenantId};

/// One action of an applied transition, and where it stands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, postgres_from_row::FromRow)]
pub struct ActionRun {
    pub id: Uuid,
    pub job_id: JobId,
    pub event_id: Uuid,
    pub transition: String,
    pub ordinal: i32,
    pub name: String,
    #[serde(flatten)]
    #[from_row(flatten)]
    pub progress: Progress,
}

/// The columns of an [`ActionRun`] beside its [`Progress`] ([`PROGRESS_COLUMNS`]).
const RUN_COLUMNS: &str = "id, job_id, event_id, transition, ordinal, name";

/// Writes one row per action of `transition`, with the action spec and the template
/// context snapshotted as of this commit, in one statement. The first action is due
/// (at once, or after its delay) only when the job's lane has nothing unfinished (the
/// statement's snapshot does not see its own rows); a delayed action keeps the time it may
/// be sent from, for when its lane reaches it.
pub(crate) async fn insert(
    tx: &deadpool_postgres::Transaction<'_>,
    job: &Job,
    event: &Event,
    transition: &TransitionDef,
    run_ids: &[Uuid],
    context: &Value,
) -> Result<Vec<ActionRun>, StoreError> {
    if transition.actions.is_empty() {
        return Ok(Vec::new());
    }
    let insert = tx
        .prepare_cached(&format!(
            "WITH lane AS (SELECT EXISTS (SELECT 1 FROM action_runs WHERE job_id = $3 \
                           AND status IN ({waiting}, {pending}, {running})) AS busy), \
             a AS (SELECT id, name, spec, n - 1 AS ordinal, (n = 1 AND NOT lane.busy) AS due, \
                          CASE WHEN delay_ms > 0 THEN now() + make_interval(secs => delay_ms / 1000.0) END AS not_before, \
                          connection_id \
                   FROM unnest($7::uuid[], $8::text[], $9::jsonb[], $10::int8[], $11::uuid[]) \
                        WITH ORDINALITY AS u(id, name, spec, delay_ms, connection_id, n), lane) \
             INSERT INTO action_runs (id, tenant_id, job_id, event_id, event_position, transition, \
             ordinal, name, spec, context, status, next_attempt_at, not_before, connection_id) \
             SELECT a.id, $1, $3, $2, $4, $5, a.ordinal, a.name, a.spec, $6, \
                    CASE WHEN a.due THEN {pending} ELSE {waiting} END, \
                    CASE WHEN a.due THEN coalesce(a.not_before, now()) END, a.not_before, a.connection_id \
             FROM a RETURNING {RUN_COLUMNS}, {PROGRESS_COLUMNS}",
            waiting = Status::Waiting.literal(),
            pending = Status::Pending.literal(),
            running = Status::Running.literal(),
        ))
        .await?;
    let names: Vec<&str> = transition.actions.iter().map(|a| a.name.as_str()).collect();
    let delays: Vec<i64> = transition.actions.iter().map(|a| a.delay_ms()).collect();
    // Which connection each calls, so that the queue can hold a held or paused
    // connection's runs back (published definitions always name one by id).
    let connections: Vec<Option<Uuid>> = transition
        .actions
        .iter()
        .map(|a| Uuid::parse_str(&a.payload_template.connection_id).ok())
        .collect();
    let specs = transition
        .actions
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|err| StoreError::Corrupt(format!("action spec: {err}")))?;
    let rows = tx
        .query(
            &insert,
            &[
                &job.tenant_id.0,
                &event.id.0,
                &job.id.0,
                &event.position,
                &transition.name,
                context,
                &run_ids,
                &names,
                &specs,
                &delays,
                &connections,
            ],
        )
        .await?;
    let mut runs = rows
        .iter()
        .map(crate::store::read_row::<ActionRun>)
        .collect::<Result<Vec<_>, _>>()?;
    runs.sort_by_key(|r| r.ordinal);
    Ok(runs)
}

/// The latest outcome per action name of a job, for guards and templates.
pub(crate) async fn last_actions(
    client: &impl deadpool_postgres::GenericClient,
    job_id: JobId,
) -> Result<Value, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT DISTINCT ON (name) name, status, attempts, last_status_code, updated_at \
             FROM action_runs WHERE job_id = $1 ORDER BY name, event_position DESC",
        )
        .await?;
    let rows = client.query(&stmt, &[&job_id]).await?;
    let mut out = Map::new();
    for row in rows {
        let at: DateTime<Utc> = row.try_get("updated_at")?;
        out.insert(
            row.try_get("name")?,
            json!({
                "status": row.try_get::<_, Status>("status")?,
                "attempts": row.try_get::<_, i32>("attempts")?,
                "status_code": row.try_get::<_, Option<i32>>("last_status_code")?,
                "at": at,
            }),
        );
    }
    Ok(Value::Object(out))
}

/// Every action run of a job, in lane order.
/// One run, read inside `tx`.
pub(crate) async fn get(
    tx: &deadpool_postgres::Transaction<'_>,
    id: Uuid,
) -> Result<ActionRun, StoreError> {
    let row = tx
        .query_one(
            &format!("SELECT {RUN_COLUMNS}, {PROGRESS_COLUMNS} FROM action_runs WHERE id = $1"),
            &[&id],
        )
        .await?;
    crate::store::read_row(&row)
}

pub async fn list_for_job(
    pool: &Pool,
    tenant_id: TenantId,
    job_id: JobId,
) -> Result<Vec<ActionRun>, StoreError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {RUN_COLUMNS}, {PROGRESS_COLUMNS} FROM action_runs WHERE job_id = $1 AND tenant_id = $2 \
             ORDER BY event_position, ordinal"
        ))
        .await?;
    let rows = client.query(&stmt, &[&job_id.0, &tenant_id.0]).await?;
    rows.iter()
        .map(crate::store::read_row::<ActionRun>)
        .collect()
}
