//! The one owner of a job's event stream inside the caller's transaction.
//!
//! Every writer of a job's stream (transitions, timer firings and cancellations, scheduled
//! transitions, outcome recording) goes through here: [`JobStream::lock`] locks the job's
//! row and reads it with its stream's head, [`JobStream::push`] seals events onto the head
//! in memory, and [`JobStream::flush`] writes them with one event insert and one job update,
//! sent together. [`Heads`] does the same for a batch of jobs whose rows are not needed.

use std::collections::{BTreeSet, HashMap};

use deadpool_postgres::{GenericClient, Transaction};
use serde_json::Value;
use uuid::Uuid;

use super::{Job, JOB_COLUMNS};
use crate::events::Payload;
use crate::log::{self, Event, EventType, NewEvent, Sealed, StreamHead};
use crate::{EventId, JobId, StoreError, TenantId};

/// A job, its tenant's name and its stream's head, with the events sealed since it was read.
#[derive(Debug)]
pub struct JobStream {
    pub job: Job,
    pub tenant_name: String,
    head: StreamHead,
    sealed: Vec<Sealed>,
}

/// How the job's row changes at flush, besides its stream's head.
#[derive(Clone, Copy, Debug)]
pub enum RowChange<'a> {
    /// Only the head moves (timer and action events).
    HeadOnly,
    /// A transition: the job moves from its current state to `to` with `context`.
    Move { to: &'a str, context: &'a Value },
}

impl JobStream {
    /// Locks the job's row for this transaction and reads it; `None` when the tenant has
    /// no such job.
    pub async fn lock(
        tx: &Transaction<'_>,
        tenant_id: TenantId,
        job_id: JobId,
    ) -> Result<Option<JobStream>, StoreError> {
        Self::load(tx, tenant_id, job_id, " FOR UPDATE").await
    }

    /// Reads the job without locking it, for what writes nothing (a dry run).
    pub async fn read(
        client: &impl GenericClient,
        tenant_id: TenantId,
        job_id: JobId,
    ) -> Result<Option<JobStream>, StoreError> {
        Self::load(client, tenant_id, job_id, "").await
    }

    async fn load(
        client: &impl GenericClient,
        tenant_id: TenantId,
        job_id: JobId,
        lock: &str,
    ) -> Result<Option<JobStream>, StoreError> {
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS}, stream_version, stream_hash, \
                 (SELECT name FROM tenants WHERE id = jobs.tenant_id) AS tenant_name \
                 FROM jobs WHERE id = $1 AND tenant_id = $2{lock}"
            ))
            .await?;
        let Some(row) = client.query_opt(&stmt, &[&job_id.0, &tenant_id.0]).await? else {
            return Ok(None);
        };
        Ok(Some(JobStream {
            job: crate::store::read_row::<Job>(&row)?,
            tenant_name: row.try_get("tenant_name")?,
            head: StreamHead::stored(row.try_get("stream_version")?, row.try_get("stream_hash")?),
            sealed: Vec::new(),
        }))
    }

    /// A job not yet stored: its stream is empty.
    pub(super) fn new(job: Job, tenant_name: String) -> JobStream {
        JobStream {
            job,
            tenant_name,
            head: StreamHead::empty(),
            sealed: Vec::new(),
        }
    }

    /// Seals `payload` as the stream's next event; written at [`flush`](Self::flush).
    pub fn push<P: Payload>(
        &mut self,
        payload: &P,
        metadata: &Value,
    ) -> Result<EventId, StoreError> {
        Ok(self.push_data(P::TYPE, payload.to_data()?, metadata.clone()))
    }

    fn push_data(&mut self, event_type: EventType, data: Value, metadata: Value) -> EventId {
        let sealed = self.head.seal(NewEvent {
            tenant_id: self.job.tenant_id,
            stream_id: self.job.id.0,
            event_type,
            data,
            metadata,
        });
        let id = sealed.id;
        self.sealed.push(sealed);
        id
    }

    /// Writes the sealed events and the job's row in one round trip: one event insert and
    /// one update. Returns the stored events and, after a move, the job as updated.
    pub async fn flush(
        self,
        tx: &Transaction<'_>,
        change: RowChange<'_>,
    ) -> Result<(Vec<Event>, Job), StoreError> {
        let JobStream {
            mut job,
            head,
            sealed,
            ..
        } = self;
        let update = async {
            match change {
                RowChange::HeadOnly => {
                    let stmt = tx
                        .prepare_cached(
                            "UPDATE jobs SET stream_version = $2, stream_hash = $3 WHERE id = $1",
                        )
                        .await?;
                    tx.execute(&stmt, &[&job.id.0, &head.version, &head.hash])
                        .await?;
                    Ok::<_, StoreError>(None)
                }
                RowChange::Move { to, context } => {
                    let stmt = tx
                        .prepare_cached(&format!(
                            "UPDATE jobs SET state = $3, previous_state = state, context = $4, \
                             version = version + 1, stream_version = $5, stream_hash = $6, \
                             updated_at = now() WHERE id = $1 AND tenant_id = $2 \
                             RETURNING {JOB_COLUMNS}"
                        ))
                        .await?;
                    let row = tx
                        .query_one(
                            &stmt,
                            &[
                                &job.id.0,
                                &job.tenant_id.0,
                                &to,
                                context,
                                &head.version,
                                &head.hash,
                            ],
                        )
                        .await?;
                    Ok(Some(crate::store::read_row::<Job>(&row)?))
                }
            }
        };
        // Sent together: tokio-postgres pipelines the two on the one connection.
        let (events, moved) = tokio::try_join!(log::insert(tx, sealed), update)?;
        if let Some(moved) = moved {
            job = moved;
        }
        Ok((events, job))
    }

    /// Stores a new job's row with its head, and its events, unless its external id is
    /// taken: then nothing is written and `None` is returned.
    pub(super) async fn insert_new(
        self,
        tx: &Transaction<'_>,
    ) -> Result<Option<(Vec<Event>, Job)>, StoreError> {
        let JobStream {
            job, head, sealed, ..
        } = self;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO jobs (id, tenant_id, workflow_id, workflow_name, workflow_version, \
                 state, context, external_id, stream_version, stream_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant_id, workflow_name, external_id) WHERE external_id IS NOT NULL \
                 DO NOTHING RETURNING {JOB_COLUMNS}"
            ))
            .await?;
        let Some(row) = tx
            .query_opt(
                &stmt,
                &[
                    &job.id.0,
                    &job.tenant_id.0,
                    &job.workflow_id,
                    &job.workflow,
                    &job.workflow_version,
                    &job.state,
                    &job.context,
                    &job.external_id,
                    &head.version,
                    &head.hash,
                ],
            )
            .await?
        else {
            return Ok(None);
        };
        let events = log::insert(tx, sealed).await?;
        Ok(Some((events, crate::store::read_row::<Job>(&row)?)))
    }
}

/// The stream heads of a batch of jobs, locked in id order (so two batches cannot
/// deadlock), with the events sealed onto them since.
#[derive(Debug)]
pub struct Heads {
    heads: HashMap<Uuid, StreamHead>,
    sealed: Vec<Sealed>,
    moved: BTreeSet<Uuid>,
}

impl Heads {
    /// Locks the jobs' rows and reads their heads.
    pub async fn lock(tx: &Transaction<'_>, jobs: &[JobId]) -> Result<Heads, StoreError> {
        let mut ids: Vec<Uuid> = jobs.iter().map(|j| j.0).collect();
        ids.sort();
        ids.dedup();
        let stmt = tx
            .prepare_cached(
                "SELECT id, stream_version, stream_hash FROM jobs WHERE id = ANY($1) \
                 ORDER BY id FOR UPDATE",
            )
            .await?;
        let mut heads = HashMap::with_capacity(ids.len());
        for row in tx.query(&stmt, &[&ids]).await? {
            heads.insert(
                row.try_get("id")?,
                StreamHead::stored(row.try_get("stream_version")?, row.try_get("stream_hash")?),
            );
        }
        Ok(Heads {
            heads,
            sealed: Vec::new(),
            moved: BTreeSet::new(),
        })
    }

    /// Seals `event` onto its job's head (its `stream_id` is the job's id).
    pub fn push(&mut self, event: NewEvent) -> Result<(), StoreError> {
        let stream = event.stream_id;
        let head = self
            .heads
            .get_mut(&stream)
            .ok_or_else(|| StoreError::Corrupt(format!("job {stream} has no row")))?;
        self.sealed.push(head.seal(event));
        self.moved.insert(stream);
        Ok(())
    }

    /// Writes the sealed events and the moved heads: one insert and one update, together.
    pub async fn flush(self, tx: &Transaction<'_>) -> Result<Vec<Event>, StoreError> {
        let Heads {
            heads,
            sealed,
            moved,
        } = self;
        let update = async {
            if moved.is_empty() {
                return Ok::<_, StoreError>(());
            }
            let ids: Vec<Uuid> = moved.iter().copied().collect();
            let versions: Vec<i64> = ids.iter().map(|id| heads[id].version).collect();
            let hashes: Vec<&[u8]> = ids.iter().map(|id| heads[id].hash.as_slice()).collect();
            let stmt = tx
                .prepare_cached(
                    "UPDATE jobs SET stream_version = u.version, stream_hash = u.hash \
                     FROM unnest($1::uuid[], $2::int8[], $3::bytea[]) AS u(id, version, hash) \
                     WHERE jobs.id = u.id",
                )
                .await?;
            tx.execute(&stmt, &[&ids, &versions, &hashes]).await?;
            Ok(())
        };
        let (events, ()) = tokio::try_join!(log::insert(tx, sealed), update)?;
        Ok(events)
    }
}
