//! What a service asks a job to do, and every way the answer can be no.

use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::idempotency::IdempotencyError;
use crate::{JobId, StoreError};

/// What a service asks for: a transition by name, or the state to move to.
#[derive(Clone, Debug)]
pub struct TransitionRequest {
    pub job_id: JobId,
    pub transition: Option<String>,
    pub to: Option<String>,
    /// An object; its top-level keys are merged into the job's context.
    pub data: Value,
    pub expected_version: Option<i64>,
}

/// A transition that may be taken from the current state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Allowed {
    pub name: String,
    pub to: String,
}

/// Why a transition was not applied.
#[derive(Debug, Error)]
pub enum TransitionError {
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the job is at version {actual}, not {expected}")]
    VersionConflict { expected: i64, actual: i64 },
    #[error("the workflow has no transition named '{name}'")]
    UnknownTransition { name: String, known: Vec<String> },
    #[error("{requested} is not allowed from state '{current_state}'")]
    NotAllowed {
        requested: String,
        current_state: String,
        allowed: Vec<Allowed>,
    },
    #[error("more than one transition leads to '{to}' from here: {}", .candidates.join(", "))]
    Ambiguous { to: String, candidates: Vec<String> },
    #[error("the guard of transition '{transition}' is not satisfied")]
    GuardFailed {
        transition: String,
        guard: Value,
        inputs: Map<String, Value>,
    },
    #[error("the guard of transition '{transition}' could not be evaluated: {message}")]
    GuardError { transition: String, message: String },
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TransitionError {
    /// Why a transition was refused, as a metric label.
    pub fn metric_label(&self) -> &'static str {
        match self {
            TransitionError::JobNotFound(_) => "not_found",
            TransitionError::Invalid { .. } => "invalid",
            TransitionError::VersionConflict { .. } => "conflict",
            TransitionError::UnknownTransition { .. }
            | TransitionError::NotAllowed { .. }
            | TransitionError::Ambiguous { .. } => "not_allowed",
            TransitionError::GuardFailed { .. } | TransitionError::GuardError { .. } => {
                "guard_failed"
            }
            TransitionError::Idempotency(_) => "idempotency_conflict",
            TransitionError::Store(_) => "error",
        }
    }
}
