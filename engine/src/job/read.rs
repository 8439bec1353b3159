//! Reading jobs.

use chrono::{DateTime, Utc};

use super::{Job, JOB_COLUMNS};

use crate::{JobId, Pool, StoreError, TenantId};

/// One job of the tenant.
pub async fn get(pool: &Pool, tenant_id: TenantId, id: JobId) -> Result<Option<Job>, StoreError> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2"
        ))
        .await?;
    client
        .query_opt(&stmt, &[&id.0, &tenant_id.0])
        .await?
        .as_ref()
        .map(crate::store::read_row::<Job>)
        .transpose()
}

/// Filters for listing jobs; all optional.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub workflow: Option<String>,
    pub state: Option<String>,
    /// Only jobs created after this one (ids sort by creation).
    pub after: Option<JobId>,
    /// Only jobs created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only jobs created before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only the job with this external id.
    pub external_id: Option<String>,
    /// Newest first (the console) rather than oldest first (paging clients).
    pub newest_first: bool,
}

/// The tenant's jobs, oldest first unless the filter asks for newest first.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    filter: &JobFilter,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let client = pool.get().await?;
    let order = if filter.newest_first { "DESC" } else { "ASC" };
    let rows = client
        .query(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 \
                 AND ($2::text IS NULL OR workflow_name = $2) \
                 AND ($3::text IS NULL OR state = $3) \
                 AND ($4::uuid IS NULL OR id > $4) \
                 AND ($6::timestamptz IS NULL OR created_at >= $6) \
                 AND ($7::timestamptz IS NULL OR created_at < $7) \
                 AND ($8::text IS NULL OR external_id = $8) ORDER BY id {order} LIMIT $5"
            ),
            &[
                &tenant_id.0,
                &filter.workflow,
                &filter.state,
                &filter.after.map(|a| a.0),
                &limit,
                &filter.since,
                &filter.until,
                &filter.external_id,
            ],
        )
        .await?;
    rows.iter().map(crate::store::read_row::<Job>).collect()
}
