//! The `Idempotency-Key` header: parsed, fingerprinted with the route and body, and its
//! reuse errors mapped to problems.

use poem::http::StatusCode;
use serde::Serialize;
use switchyard_engine::idempotency::{IdempotencyError, IdempotencyKey};

use crate::problem::{ApiError, Problem};

/// The key of a request, fingerprinted with `route` and the parsed `body`.
pub fn idempotency_key(
    header: Option<String>,
    route: &str,
    body: &impl Serialize,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(key) = header else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 characters",
        ));
    }
    // The parsed body, re-serialised, so whitespace and key order do not make two equal
    // requests differ.
    let body = serde_json::to_vec(body).unwrap_or_default();
    Ok(Some(IdempotencyKey::new(key, &[route.as_bytes(), &body])))
}

/// Maps a refused key to a 422 that names the header.
pub fn idempotency_error(err: IdempotencyError) -> ApiError {
    match err {
        IdempotencyError::Reused(_) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            format!("{err}: use a new key for a new request"),
        )
        .field("Idempotency-Key")
        .into(),
        IdempotencyError::Store(err) => err.into(),
    }
}
