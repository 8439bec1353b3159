//! Admission before a request leaves, and what its answer does to the destination.
//!
//! Admission is one statement under the destination's row lock (taken first, in its own
//! statement, when there are concurrency slots to count), so workers in many processes
//! share one rate window and one set of concurrency slots. Observation reads the
//! row under the same lock, decides in [`decide`] (plain data in, plain data out), and
//! writes the result with any circuit event in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::circuit;
use super::decide::{decide, Flow};
use super::destination::{reason, Admission, Breaker, Destination, Observation};
use super::limits::Limits;
use crate::{Pool, StoreError};

/// Asks whether `item` may go to `dest` now, under its `limits` and the breaker. A slot
/// or probe taken here lasts `lease` unless [`observe`] frees it first.
pub async fn admit(
    pool: &Pool,
    dest: Destination,
    item: Uuid,
    limits: Limits,
    breaker: Breaker,
    lease: Duration,
) -> Result<Admission, StoreError> {
    let mut client = pool.get().await?;
    let row = if limits.concurrency.is_some() {
        // The admission statement counts slots in `flow_slots` under its own snapshot,
        // taken before it waits for the row lock: a slot another process inserted while
        // holding the lock would be invisible, and one request too many would go. Taking
        // the lock first, in a statement of its own, gives the admission a snapshot that
        // sees every slot taken before it.
        let tx = client.transaction().await?;
        let lock = tx
            .prepare_cached(&format!(
                "SELECT 1 FROM {} WHERE id = $1 FOR UPDATE",
                dest.table()
            ))
            .await?;
        tx.query_opt(&lock, &[&dest.id()]).await?;
        let row = admission(&tx, dest, item, limits, breaker, lease).await?;
        tx.commit().await?;
        row
    } else {
        admission(&client, dest, item, limits, breaker, lease).await?
    };
    // A destination that is gone admits: the attempt finds it missing and says so.
    let Some(row) = row else {
        return Ok(Admission::Go { probe: false });
    };
    let verdict: String = row.try_get("verdict")?;
    let until: Option<DateTime<Utc>> = row.try_get("until")?;
    let probe: bool = row.try_get("probe")?;
    let reason = match verdict.as_str() {
        "go" => return Ok(Admission::Go { probe }),
        "paused" => reason::PAUSED,
        "concurrency" => reason::CONCURRENCY,
        "rate" => reason::RATE,
        _ => "held",
    };
    Ok(Admission::Wait { reason, until })
}

/// Runs the admission statement; `None` when the destination is gone.
async fn admission(
    client: &impl GenericClient,
    dest: Destination,
    item: Uuid,
    limits: Limits,
    breaker: Breaker,
    lease: Duration,
) -> Result<Option<tokio_postgres::Row>, StoreError> {
    let stmt = client.prepare_cached(admit_sql(dest)).await?;
    let rate = limits.rate.map(|r| r.count as i32);
    let window = limits.rate.map_or(0.0, |r| r.per.window().as_secs_f64());
    let concurrency = limits.concurrency.map(|n| n as i32);
    let row = client
        .query_opt(
            &stmt,
            &[
                &dest.id(),
                &rate,
                &window,
                &concurrency,
                &item,
                &lease.as_secs_f64(),
                &(breaker.failures as i32),
            ],
        )
        .await?;
    Ok(row)
}

/// The admission statement for `dest`'s table: under the row lock, decide `paused`,
/// `held`, `concurrency`, `rate` or `go`; on `go` take a rate send, a concurrency slot
/// and (when the circuit has opened) the probe; when full, hold the destination until the
/// window or the first slot frees.
fn admit_sql(dest: Destination) -> &'static str {
    use std::sync::OnceLock;
    static CONNECTIONS: OnceLock<String> = OnceLock::new();
    static SUBSCRIPTIONS: OnceLock<String> = OnceLock::new();
    let (cell, paused) = match dest {
        Destination::Connection(_) => (&CONNECTIONS, "w.paused_at IS NOT NULL"),
        Destination::Subscription(_) => (&SUBSCRIPTIONS, "false"),
    };
    cell.get_or_init(|| {
        format!(
            "WITH cur AS (SELECT {paused} AS paused, coalesce(w.held_until > now(), false) AS held, \
                                 w.held_until, w.consecutive_failures >= $7 AS probe, \
                                 ARRAY(SELECT t FROM unnest(w.recent_sends) t \
                                       WHERE t > now() - make_interval(secs => $3) ORDER BY t) AS sends \
                          FROM {table} w WHERE w.id = $1 FOR UPDATE), \
             expired AS (DELETE FROM flow_slots WHERE $4::int4 IS NOT NULL AND destination_id = $1 \
                         AND until <= now()), \
             slots AS (SELECT count(*) AS n, min(until) AS first_free FROM flow_slots \
                       WHERE $4::int4 IS NOT NULL AND destination_id = $1 AND until > now()), \
             d AS (SELECT cur.*, slots.first_free, \
                          CASE WHEN cur.paused THEN 'paused' WHEN cur.held THEN 'held' \
                               WHEN $4::int4 IS NOT NULL AND slots.n >= $4 THEN 'concurrency' \
                               WHEN $2::int4 IS NOT NULL AND cardinality(cur.sends) >= $2 THEN 'rate' \
                               ELSE 'go' END AS verdict \
                   FROM cur, slots), \
             w AS (UPDATE {table} w SET \
                     recent_sends = CASE WHEN $2::int4 IS NULL THEN w.recent_sends \
                                         WHEN d.verdict = 'go' THEN array_append(d.sends, now()) \
                                         ELSE d.sends END, \
                     held_until = CASE d.verdict \
                                    WHEN 'concurrency' THEN d.first_free \
                                    WHEN 'rate' THEN d.sends[cardinality(d.sends) - $2 + 1] + make_interval(secs => $3) \
                                    ELSE CASE WHEN d.probe THEN now() + make_interval(secs => $6) END END, \
                     held_reason = CASE d.verdict \
                                    WHEN 'concurrency' THEN '{concurrency}' WHEN 'rate' THEN '{rate}' \
                                    ELSE CASE WHEN d.probe THEN '{probe}' END END \
                   FROM d WHERE w.id = $1 AND d.verdict NOT IN ('paused', 'held') \
                     AND ($2::int4 IS NOT NULL OR d.verdict <> 'go' OR d.probe OR w.held_until IS NOT NULL) \
                   RETURNING 1), \
             slot AS (INSERT INTO flow_slots (destination_id, item_id, until) \
                      SELECT $1, $5, now() + make_interval(secs => $6) FROM d \
                      WHERE d.verdict = 'go' AND $4::int4 IS NOT NULL \
                      ON CONFLICT (destination_id, item_id) DO UPDATE SET until = EXCLUDED.until) \
             SELECT d.verdict, \
                    CASE d.verdict WHEN 'held' THEN d.held_until WHEN 'concurrency' THEN d.first_free \
                         WHEN 'rate' THEN d.sends[cardinality(d.sends) - $2 + 1] + make_interval(secs => $3) END \
                      AS until, \
                    d.verdict = 'go' AND d.probe AS probe \
             FROM d",
            table = dest.table(),
            concurrency = reason::CONCURRENCY,
            rate = reason::RATE,
            probe = reason::PROBE,
        )
    })
}

/// Records what `item`'s request to `dest` showed: frees its concurrency slot (when
/// `slot`), counts failures, holds the destination after a `Retry-After`, and opens or
/// closes its circuit with a health event carrying `detail` (the request's status and
/// error, what it was for).
pub async fn observe(
    pool: &Pool,
    dest: Destination,
    item: Uuid,
    slot: bool,
    observation: Observation,
    breaker: Breaker,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    if slot {
        let stmt = tx
            .prepare_cached("DELETE FROM flow_slots WHERE destination_id = $1 AND item_id = $2")
            .await?;
        tx.execute(&stmt, &[&dest.id(), &item]).await?;
    }
    let read = tx
        .prepare_cached(&format!(
            "SELECT consecutive_failures, held_until, held_reason FROM {} WHERE id = $1 FOR UPDATE",
            dest.table()
        ))
        .await?;
    let Some(row) = tx.query_opt(&read, &[&dest.id()]).await? else {
        tx.commit().await?;
        return Ok(());
    };
    let before = Flow {
        failures: row.try_get("consecutive_failures")?,
        held_until: row.try_get("held_until")?,
        held_reason: row.try_get("held_reason")?,
    };
    let (after, change) = decide(&before, observation, breaker, Utc::now());
    if after != before {
        let write = tx
            .prepare_cached(&format!(
                "UPDATE {} SET consecutive_failures = $2, held_until = $3, held_reason = $4 WHERE id = $1",
                dest.table()
            ))
            .await?;
        tx.execute(
            &write,
            &[
                &dest.id(),
                &after.failures,
                &after.held_until,
                &after.held_reason,
            ],
        )
        .await?;
    }
    if let Some(change) = change {
        circuit::announce(&tx, dest, change, detail).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn observations_from_responses() {
        let now = at(0);
        let obs = |status, sent, wait: Option<u64>| {
            Observation::of(status, sent, wait.map(Duration::from_secs), now)
        };
        assert_eq!(obs(Some(200), true, None), Observation::Answered);
        assert_eq!(obs(Some(404), true, None), Observation::Answered);
        assert_eq!(obs(Some(500), true, None), Observation::Failed);
        assert_eq!(obs(Some(503), true, None), Observation::Failed);
        assert_eq!(obs(Some(503), true, Some(7)), Observation::Throttled(at(7)));
        assert_eq!(obs(Some(429), true, Some(7)), Observation::Throttled(at(7)));
        assert_eq!(obs(None, true, None), Observation::Failed);
        assert_eq!(obs(None, false, None), Observation::NotSent);
    }
}
