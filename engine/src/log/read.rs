//! Reading the log without losing events.
//!
//! A position is taken at insert but becomes visible at commit, so paging by position
//! alone can skip an event that commits late. Readers only return rows written by
//! transactions older than every transaction still in flight
//! (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`) and page by `(tx_id, position)`.
//! The price: a long-running transaction anywhere in the cluster holds readers back.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Event, Xid8, EVENT_COLUMNS};
use crate::store::read_row;
use crate::{StoreError, TenantId};

/// Where a reader left off: opaque to clients, written `tx_id.position`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub tx_id: u64,
    pub position: i64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.tx_id, self.position)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (tx, pos) = s
            .split_once('.')
            .ok_or_else(|| "a cursor looks like '1234.56' (from next_cursor)".to_string())?;
        Ok(Cursor {
            tx_id: tx
                .parse()
                .map_err(|_| "the cursor's transaction part is not a number")?,
            position: pos
                .parse()
                .map_err(|_| "the cursor's position part is not a number")?,
        })
    }
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub tenant_id: Option<TenantId>,
    pub after: Option<Cursor>,
    pub event_type: Option<String>,
    pub stream_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only events of transactions older than this one (see [`visible_horizon`]).
    pub below_tx: Option<u64>,
}

/// One page of events and the cursor to continue from.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Event>,
    /// The cursor after the last item; `None` when the page is empty. The log grows, so a
    /// reader that tails it keeps the last cursor it got and asks again later.
    pub next_cursor: Option<Cursor>,
}

const PAGE_QUERY: &str = "WHERE ($1::uuid IS NULL OR tenant_id = $1) \
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
      AND (tx_id, position) > ($2::xid8, $3) \
      AND ($4::text IS NULL OR type = $4) \
      AND ($5::uuid IS NULL OR stream_id = $5) \
      AND ($6::timestamptz IS NULL OR recorded_at >= $6) \
      AND ($7::timestamptz IS NULL OR recorded_at < $7) \
      AND ($9::xid8 IS NULL OR tx_id < $9::xid8) \
    ORDER BY tx_id, position LIMIT $8";

/// Reads up to `limit` committed events after the filter's cursor, in cursor order.
pub async fn page(
    client: &impl deadpool_postgres::GenericClient,
    filter: &EventFilter,
    limit: i64,
) -> Result<Page, StoreError> {
    let after = filter.after.unwrap_or_default();
    let sql = format!("SELECT {EVENT_COLUMNS} FROM event_log {PAGE_QUERY}");
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client
        .query(
            &stmt,
            &[
                &filter.tenant_id.map(|t| t.0),
                &Xid8(after.tx_id),
                &after.position,
                &filter.event_type,
                &filter.stream_id,
                &filter.since,
                &filter.until,
                &limit,
                &filter.below_tx.map(Xid8),
            ],
        )
        .await?;
    let items = rows
        .iter()
        .map(read_row::<Event>)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = items.last().map(Event::cursor);
    Ok(Page { items, next_cursor })
}

/// Every event of one stream, in stream order. A stream is appended under a lock, one
/// committed event after another, so reading it by version never skips anything.
pub async fn stream(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    stream_id: Uuid,
    after_version: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM event_log \
         WHERE stream_id = $1 AND tenant_id = $2 AND stream_version > $3 \
         ORDER BY stream_version LIMIT $4"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client
        .query(&stmt, &[&stream_id, &tenant_id.0, &after_version, &limit])
        .await?;
    rows.iter().map(read_row::<Event>).collect()
}

/// The transaction horizon below which every event is committed (or never will be): a
/// fixed end for a reader that should stop instead of following the log.
pub async fn visible_horizon(
    client: &impl deadpool_postgres::GenericClient,
) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon",
            &[],
        )
        .await?;
    Ok(row.try_get::<_, Xid8>("horizon")?.0)
}

/// The tenant's newest committed events among `types`, newest first, optionally only those
/// whose type is `LIKE type_like` and recorded after `since` (a polling trigger's read).
pub async fn newest(
    client: &impl deadpool_postgres::GenericClient,
    tenant_id: TenantId,
    types: &[String],
    type_like: Option<&str>,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM event_log \
         WHERE tenant_id = $1 AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
           AND type = ANY($2) AND ($3::text IS NULL OR type LIKE $3) \
           AND ($4::timestamptz IS NULL OR recorded_at > $4) \
         ORDER BY tx_id DESC, position DESC LIMIT $5"
    );
    let stmt = client.prepare_cached(&sql).await?;
    let rows = client
        .query(&stmt, &[&tenant_id.0, &types, &type_like, &since, &limit])
        .await?;
    rows.iter().map(read_row::<Event>).collect()
}
