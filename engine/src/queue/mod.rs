//! One work queue for everything the worker does later: action runs, subscription
//! deliveries and timers. A kind is a table with the queue's columns (`id`,
//! `status`, `attempts`, `next_attempt_at`, `lease_until`, `last_status_code`,
//! `last_error`, `updated_at`) and a [`Queue`] describing what is due and what a claim
//! returns. The mechanism is the same for every kind:
//!
//! - **find the tenants** with due work ([`Queue::due_tenants`]), so the worker can share
//!   its slots among them;
//! - **claim** one tenant's due `pending` items in one statement, oldest due first,
//!   skipping items other workers hold (`FOR UPDATE SKIP LOCKED`), marking them `running`
//!   with a lease and a new attempt number. A claim names one tenant: it touches that
//!   tenant's rows only, so it stays on one node when tenants are spread across several;
//! - **settle** an attempt inside the caller's transaction, fenced on the attempt: an
//!   outcome counts only while the item is still `running` that attempt, so a worker whose
//!   lease expired cannot overwrite the attempt that replaced it;
//! - **give back** an item untouched, now or at a time (a worker stopping, a rate limit);
//! - **recover** items whose lease expired (their worker died) to `pending`;
//! - **retry at a time**: settling as `pending` with `next_attempt_at`.
//!
//! A kind's claimed item is a type ([`Item`]) read from the claim's row by column name;
//! [`claim`] and the queue's methods are the same for every kind.
//!
//! Statuses come from [`Status`] only. Where a statement filters on one, it is written
//! into the SQL as a literal ([`Status::literal`]) rather than bound: the partial indexes
//! (`WHERE status = 'pending'`) match only a literal in a prepared statement's plan.
//! A status being written is bound.
//!
//! Order within a lane (a job's actions run one after another) is the kind's own rule: a
//! lane keeps one item `pending` at a time and the rest `waiting`, releasing the next when
//! it settles the current one.

mod status;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::{Pool, StoreError, TenantId};

pub use status::{Progress, Status, PROGRESS_COLUMNS};

/// One kind of queued work: its table, what is due, and what a claim returns.
pub struct Queue {
    pub table: &'static str,
    /// Joins that the due filter needs, over the queue's rows as `q`.
    pub due_join: &'static str,
    /// Further conditions for an item to be due, e.g. `AND s.enabled`.
    pub due_filter: &'static str,
    /// The lease's length in seconds, an SQL expression over `q`.
    pub lease_secs: &'static str,
    /// What a claim returns, over the claimed rows as `c` and `joins`.
    pub select: &'static str,
    pub joins: &'static str,
    claim_sql: OnceLock<String>,
    due_tenants_sql: OnceLock<String>,
}

/// One kind of queued work as a claim hands it to the worker: a claimed row (the queue's
/// `select`) read by column name. [`claimed_item!`] declares one.
pub trait Item: postgres_from_row::FromRow + Sized + Send + 'static {
    /// The kind's queue.
    const QUEUE: &'static Queue;
    /// This attempt's fence.
    fn fence(&self) -> Attempt;
    /// Whose item it is: the share it counts against.
    fn tenant(&self) -> TenantId;
}

/// Declares `$item` (a struct with `id`, `tenant_id` and `attempt` fields, read from a
/// claimed row by column name) the item of the queue `$queue`.
macro_rules! claimed_item {
    ($item:ty, $queue:expr) => {
        impl $crate::queue::Item for $item {
            const QUEUE: &'static $crate::queue::Queue = &$queue;

            fn fence(&self) -> $crate::queue::Attempt {
                $crate::queue::Attempt {
                    id: self.id,
                    attempt: self.attempt,
                }
            }

            fn tenant(&self) -> $crate::TenantId {
                self.tenant_id
            }
        }
    };
}
pub(crate) use claimed_item;

/// Claims up to `limit` of `tenant`'s due items of kind `I`, oldest due first, skipping
/// items other workers hold.
pub async fn claim<I: Item>(
    pool: &Pool,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<I>, StoreError> {
    let rows = I::QUEUE.claim_rows(pool, tenant, limit).await?;
    crate::store::read_rows(&rows)
}

/// The fence of one attempt: an item's id and the attempt number its claim gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attempt {
    pub id: Uuid,
    pub attempt: i32,
}

/// How an attempt ended, as the queue records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Settled {
    /// `Succeeded`, `Failed`, or `Pending` with `retry_at` to try again.
    pub status: Status,
    pub retry_at: Option<DateTime<Utc>>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

impl Queue {
    pub const fn new(
        table: &'static str,
        due_join: &'static str,
        due_filter: &'static str,
        lease_secs: &'static str,
        select: &'static str,
        joins: &'static str,
    ) -> Queue {
        Queue {
            table,
            due_join,
            due_filter,
            lease_secs,
            select,
            joins,
            claim_sql: OnceLock::new(),
            due_tenants_sql: OnceLock::new(),
        }
    }

    fn claim_sql(&self) -> &str {
        self.claim_sql.get_or_init(|| {
            format!(
                "WITH due AS (SELECT q.id FROM {table} q {due_join} \
                              WHERE q.tenant_id = $2 AND q.status = {pending} \
                                AND q.next_attempt_at <= now() {due_filter} \
                              ORDER BY q.next_attempt_at LIMIT $1 FOR UPDATE OF q SKIP LOCKED), \
                 c AS (UPDATE {table} q SET status = {running}, attempts = q.attempts + 1, updated_at = now(), \
                       lease_until = now() + make_interval(secs => {lease}) \
                       FROM due WHERE q.id = due.id RETURNING q.*) \
                 SELECT {select} FROM c {joins}",
                table = self.table,
                due_join = self.due_join,
                due_filter = self.due_filter,
                lease = self.lease_secs,
                select = self.select,
                joins = self.joins,
                pending = Status::Pending.literal(),
                running = Status::Running.literal(),
            )
        })
    }

    /// Walks the `(tenant_id, next_attempt_at)` index of pending items one tenant at a
    /// time (a loose index scan): finding ten busy tenants costs ten probes, not a read of
    /// their whole backlog. A probe still reads past a tenant whose pending items are all
    /// due later (retries) or filtered out by the kind (a held subscription's backlog).
    fn due_tenants_sql(&self) -> &str {
        self.due_tenants_sql.get_or_init(|| {
            let next = |after: &str| {
                format!(
                    "SELECT q.tenant_id FROM {table} q {due_join} \
                     WHERE q.status = {pending} AND q.next_attempt_at <= now() {due_filter} \
                       AND q.tenant_id > {after} \
                     ORDER BY q.tenant_id LIMIT 1",
                    table = self.table,
                    due_join = self.due_join,
                    due_filter = self.due_filter,
                    pending = Status::Pending.literal(),
                )
            };
            format!(
                "WITH RECURSIVE t(tenant_id) AS ( \
                   ({first}) \
                   UNION ALL \
                   SELECT ({following}) FROM t WHERE t.tenant_id IS NOT NULL) \
                 SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL LIMIT $1",
                first = next("coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid)"),
                following = next("t.tenant_id"),
            )
        })
    }

    /// Up to `max` tenants with an item due now, in id order after `after` (from the
    /// first when `None`): a worker that cannot serve every tenant in one pass goes on
    /// from where it stopped.
    pub async fn due_tenants(
        &self,
        pool: &Pool,
        after: Option<TenantId>,
        max: i64,
    ) -> Result<Vec<TenantId>, StoreError> {
        let client = pool.get().await?;
        let stmt = client.prepare_cached(self.due_tenants_sql()).await?;
        let rows = client.query(&stmt, &[&max, &after]).await?;
        rows.iter().map(|r| Ok(r.try_get("tenant_id")?)).collect()
    }

    /// Claims up to `limit` of `tenant`'s due items; each row is the kind's `select`.
    #[tracing::instrument(name = "claim", skip_all, fields(queue = self.table, limit))]
    async fn claim_rows(
        &self,
        pool: &Pool,
        tenant: TenantId,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let client = pool.get().await?;
        let stmt = client.prepare_cached(self.claim_sql()).await?;
        Ok(client.query(&stmt, &[&limit, &tenant]).await?)
    }

    /// Records how `attempt` ended, inside the caller's transaction. `false` when the
    /// lease had expired and the item moved on: nothing was written, and the caller must
    /// write nothing else about this attempt either.
    pub async fn settle(
        &self,
        client: &impl GenericClient,
        attempt: Attempt,
        settled: &Settled,
    ) -> Result<bool, StoreError> {
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE {} SET status = $3, next_attempt_at = $4, last_status_code = $5, \
                 last_error = $6, lease_until = NULL, updated_at = now() \
                 WHERE id = $1 AND status = {} AND attempts = $2",
                self.table,
                Status::Running.literal(),
            ))
            .await?;
        let changed = client
            .execute(
                &stmt,
                &[
                    &attempt.id,
                    &attempt.attempt,
                    &settled.status,
                    &settled.retry_at,
                    &settled.status_code,
                    &settled.error,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Records how many attempts ended, in one statement inside the caller's transaction,
    /// each fenced as in [`settle`](Queue::settle). Returns the attempts that took effect;
    /// the others had lost their lease and the caller must write nothing about them.
    pub async fn settle_all(
        &self,
        client: &impl GenericClient,
        outcomes: &[(Attempt, &Settled)],
    ) -> Result<Vec<Attempt>, StoreError> {
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE {} q SET status = u.status, next_attempt_at = u.retry_at, \
                 last_status_code = u.code, last_error = u.error, lease_until = NULL, updated_at = now() \
                 FROM unnest($1::uuid[], $2::int4[], $3::text[], $4::timestamptz[], $5::int4[], $6::text[]) \
                      AS u(id, attempt, status, retry_at, code, error) \
                 WHERE q.id = u.id AND q.status = {} AND q.attempts = u.attempt \
                 RETURNING q.id, u.attempt",
                self.table,
                Status::Running.literal(),
            ))
            .await?;
        let ids: Vec<Uuid> = outcomes.iter().map(|(a, _)| a.id).collect();
        let attempts: Vec<i32> = outcomes.iter().map(|(a, _)| a.attempt).collect();
        let statuses: Vec<Status> = outcomes.iter().map(|(_, s)| s.status).collect();
        let retry_at: Vec<Option<DateTime<Utc>>> =
            outcomes.iter().map(|(_, s)| s.retry_at).collect();
        let codes: Vec<Option<i32>> = outcomes.iter().map(|(_, s)| s.status_code).collect();
        let errors: Vec<Option<&str>> = outcomes.iter().map(|(_, s)| s.error.as_deref()).collect();
        let rows = client
            .query(
                &stmt,
                &[&ids, &attempts, &statuses, &retry_at, &codes, &errors],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    id: r.try_get("id")?,
                    attempt: r.try_get("attempt")?,
                })
            })
            .collect()
    }

    /// Gives a claimed item back untouched, due again at `at` (now when `None`): a worker
    /// stopping before the request left, a held destination, an outage while preparing it.
    /// The attempt does not count. A held destination's items are not claimed before the
    /// hold ends, whatever `at` says.
    pub async fn give_back(
        &self,
        pool: &Pool,
        attempt: Attempt,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE {} SET status = $4, lease_until = NULL, \
                 next_attempt_at = coalesce($3, now()), attempts = attempts - 1, \
                 updated_at = now() WHERE id = $1 AND status = {} AND attempts = $2",
                self.table,
                Status::Running.literal(),
            ))
            .await?;
        let params: [&(dyn ToSql + Sync); 4] =
            [&attempt.id, &attempt.attempt, &at, &Status::Pending];
        client.execute(&stmt, &params).await?;
        Ok(())
    }

    /// When the next pending item comes due (`None`: nothing pending).
    pub async fn next_due(&self, pool: &Pool) -> Result<Option<DateTime<Utc>>, StoreError> {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT min(next_attempt_at) AS due FROM {} WHERE status = {}",
                self.table,
                Status::Pending.literal(),
            ))
            .await?;
        Ok(client.query_one(&stmt, &[]).await?.try_get("due")?)
    }

    /// An SQL condition, true while this queue has an item due or in flight.
    pub fn busy_sql(&self) -> String {
        format!(
            "EXISTS (SELECT 1 FROM {table} q {due_join} WHERE q.status = {running} \
             OR (q.status = {pending} AND q.next_attempt_at <= now() {due_filter}))",
            table = self.table,
            due_join = self.due_join,
            due_filter = self.due_filter,
            running = Status::Running.literal(),
            pending = Status::Pending.literal(),
        )
    }

    /// Returns items whose lease expired (their worker died or hung) to `pending`, due
    /// now; they are attempted again with the same identity (Idempotency-Key,
    /// `webhook-id`).
    pub async fn recover_expired(&self, pool: &Pool) -> Result<u64, StoreError> {
        let client = pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "UPDATE {} SET status = $1, lease_until = NULL, next_attempt_at = now(), \
                 updated_at = now() WHERE status = {} AND lease_until < now()",
                self.table,
                Status::Running.literal(),
            ))
            .await?;
        Ok(client.execute(&stmt, &[&Status::Pending]).await?)
    }
}
