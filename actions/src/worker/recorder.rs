//! Action outcomes recorded in batches (group commit). Each finished attempt hands its
//! outcome to the recording tasks and waits for it to be written; a free task takes
//! whatever has gathered, up to [`MAX_BATCH`], and writes it in one transaction
//! ([`lane::record_all`]). Under load one transaction carries many outcomes; when idle an
//! outcome is written alone at once, so batching adds no delay. A few tasks write at once
//! so that one batch waiting for a job's row lock (its transition in flight) does not
//! hold up every other outcome.
//!
//! A batch that fails for a reason other than an outage is written again one outcome at a
//! time, so one outcome the database refuses cannot hold back the others.

use std::sync::{Arc, Mutex};

use switchyard_engine::job::lane::{self, ClaimedRun, Recorded, Recording};
use switchyard_engine::{Pool, StoreError};
use tokio::sync::{mpsc, oneshot};

use super::persist;

/// The most outcomes one transaction records.
const MAX_BATCH: usize = 128;

/// How many batches are written at once.
const WRITERS: usize = 4;

/// An outcome waiting to be written, and who waits for it.
struct Entry {
    run: ClaimedRun,
    rec: Recording,
    done: oneshot::Sender<Result<Recorded, String>>,
}

/// The handle attempts record through; [`Recorder::start`] runs the writing task.
pub(crate) struct Recorder {
    queue: mpsc::UnboundedSender<Entry>,
    waiting: Mutex<Option<mpsc::UnboundedReceiver<Entry>>>,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        let (queue, waiting) = mpsc::unbounded_channel();
        Recorder {
            queue,
            waiting: Mutex::new(Some(waiting)),
        }
    }

    /// Starts the writing task (once). It ends when the last handle is dropped and every
    /// queued outcome is written.
    pub(crate) fn start(&self, pool: Pool) {
        let taken = self
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(waiting) = taken {
            let waiting = Arc::new(tokio::sync::Mutex::new(waiting));
            for _ in 0..WRITERS {
                tokio::spawn(write_batches(pool.clone(), waiting.clone()));
            }
        }
    }

    /// Records `rec` for `run` and waits until it is written (or could not be: the error
    /// says why, and the run's lease will return it to the queue).
    pub(crate) async fn record(&self, run: ClaimedRun, rec: Recording) -> Result<Recorded, String> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Entry { run, rec, done })
            .map_err(|_| "the recorder has stopped".to_string())?;
        answer
            .await
            .unwrap_or_else(|_| Err("the recorder stopped before writing".to_string()))
    }
}

/// One writing task: takes a batch (holding the queue only while taking it) and writes it.
async fn write_batches(
    pool: Pool,
    waiting: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Entry>>>,
) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            batch
        };
        write(&pool, batch).await;
    }
}

async fn write(pool: &Pool, batch: Vec<Entry>) {
    let pairs: Vec<(&ClaimedRun, &Recording)> = batch.iter().map(|e| (&e.run, &e.rec)).collect();
    let started = std::time::Instant::now();
    let written = persist::through_outage(|| lane::record_all(pool, &pairs)).await;
    drop(pairs);
    tracing::debug!(
        outcomes = batch.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "recorded a batch"
    );
    match written {
        Ok(results) => {
            for (entry, result) in batch.into_iter().zip(results) {
                let _ = entry.done.send(Ok(result));
            }
        }
        Err(err) if batch.len() > 1 && !matches!(err, StoreError::Unavailable(_)) => {
            tracing::warn!(error = %err, outcomes = batch.len(), "a batch of outcomes could not be recorded; recording them one by one");
            for entry in batch {
                let result = persist::through_outage(|| lane::record(pool, &entry.run, &entry.rec))
                    .await
                    .map_err(|err| err.to_string());
                let _ = entry.done.send(result);
            }
        }
        Err(err) => {
            let message = err.to_string();
            for entry in batch {
                let _ = entry.done.send(Err(message.clone()));
            }
        }
    }
}
