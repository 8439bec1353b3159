//! Reading jobs.

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
        .map(Job::from_row)
        .transpose()
}

/// Filters for listing jobs; all optional.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub workflow: Option<String>,
    pub state: Option<String>,
    /// Only jobs created after this one (ids sort by creation).
    pub after: Option<JobId>,
}

/// The tenant's jobs, oldest first.
pub async fn list(
    pool: &Pool,
    tenant_id: TenantId,
    filter: &JobFilter,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 \
                 AND ($2::text IS NULL OR workflow_name = $2) \
                 AND ($3::text IS NULL OR state = $3) \
                 AND ($4::uuid IS NULL OR id > $4) ORDER BY id LIMIT $5"
            ),
            &[
                &tenant_id.0,
                &filter.workflow,
                &filter.state,
                &filter.after.map(|a| a.0),
                &limit,
            ],
        )
        .await?;
    rows.iter().map(Job::from_row).collect()
}
