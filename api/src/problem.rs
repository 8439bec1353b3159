//! Errors as `application/problem+json` (RFC 9457): a stable `type`, a `title`, a `detail`
//! a person can act on, and the field at fault.
//!
//! Routes return [`ApiError`]; everything else that can fail before or around a route
//! (unknown route, malformed JSON, missing auth, panics) is turned into the same shape by
//! [`from_poem_error`] at the top of the app.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde_json::Value;
use switchyard_engine::StoreError;

/// A problem document. Extension members are present only where they apply.
#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Problem {
    /// A stable identifier of the kind of problem, e.g. `/problems/version-conflict`.
    #[oai(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field at fault, as a JSON path or parameter name.
    pub field: Option<String>,
    /// Every problem found, for requests that can have many (workflow validation).
    pub errors: Option<Vec<FieldError>>,
    pub current_state: Option<String>,
    pub allowed_transitions: Option<Vec<AllowedTransition>>,
    pub guard: Option<Value>,
    /// The values the guard read, by variable path.
    pub values: Option<Value>,
    pub expected_version: Option<i64>,
    pub actual_version: Option<i64>,
    /// Seconds to wait before trying again (429), as in the `Retry-After` header.
    pub retry_after: Option<u64>,
}

/// One problem with one field.
#[derive(Clone, Debug, Object)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

/// A transition that may be taken from the job's current state.
#[derive(Clone, Debug, Object)]
pub struct AllowedTransition {
    pub name: String,
    pub to: String,
}

/// An error response of any route.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(
        Json<Box<Problem>>,
        /// Always `Bearer`: send an API key as `Authorization: Bearer <key>`.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<Problem>>),
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    #[oai(status = 405, content_type = "application/problem+json")]
    MethodNotAllowed(Json<Box<Problem>>),
    #[oai(status = 408, content_type = "application/problem+json")]
    RequestTimeout(Json<Box<Problem>>),
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<Problem>>),
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Box<Problem>>),
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<Problem>>),
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(
        Json<Box<Problem>>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        u64,
    ),
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(
        Json<Box<Problem>>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        u64,
    ),
}

impl Problem {
    /// A problem with the given status, slug (for `type`), title and detail.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            errors: None,
            current_state: None,
            allowed_transitions: None,
            guard: None,
            values: None,
            expected_version: None,
            actual_version: None,
            retry_after: None,
        }
    }

    /// The same problem naming the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        let status = problem.status;
        let body = Json(Box::new(problem));
        match status {
            400 => ApiError::BadRequest(body),
            401 => ApiError::Unauthorized(body, "Bearer".into()),
            403 => ApiError::Forbidden(body),
            404 => ApiError::NotFound(body),
            405 => ApiError::MethodNotAllowed(body),
            408 => ApiError::RequestTimeout(body),
            409 => ApiError::Conflict(body),
            413 => ApiError::PayloadTooLarge(body),
            415 => ApiError::UnsupportedMediaType(body),
            422 => ApiError::Unprocessable(body),
            429 => {
                let wait = body.0.retry_after.unwrap_or(1);
                ApiError::TooManyRequests(body, wait)
            }
            503 => {
                let wait = body.0.retry_after.unwrap_or(UNAVAILABLE_RETRY_AFTER);
                ApiError::Unavailable(body, wait)
            }
            _ => ApiError::Internal(body),
        }
    }
}

impl ApiError {
    /// 404 for an object that does not exist in the caller's tenant (or at all).
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no {what} with id {id}"),
        )
        .into()
    }

    /// 409 `quota-exceeded`: the tenant (or job) holds the most it may of something;
    /// `title` names the quota, `detail` says what to do.
    pub fn quota(title: &str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::CONFLICT, "quota-exceeded", title, detail).into()
    }

    /// 422 naming the field at fault.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        )
        .field(field)
        .into()
    }
}

/// How long a client is asked to wait when the database cannot serve it: an outage,
/// a full disk, a transaction the database aborted.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 2;

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                let mut problem = Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "Database unavailable",
                    "the database cannot serve this request right now; nothing was changed, retry shortly",
                );
                problem.retry_after = Some(UNAVAILABLE_RETRY_AFTER);
                problem.into()
            }
            other => {
                // Logged once, here, with its cause chain; the client gets no internals.
                tracing::error!(error = ?other, "unexpected storage error");
                internal()
            }
        }
    }
}

fn internal() -> ApiError {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "an unexpected error occurred; it has been logged",
    )
    .into()
}

/// Turns any error that reached the top of the app into problem+json. Responses that are
/// already problems pass through unchanged.
pub async fn from_poem_error(err: poem::Error) -> Response {
    // A query or path parameter that did not parse, or broke its documented bounds:
    // name it. Out of bounds is 422, like the routes' own range checks; unparsable, 400.
    if let Some(param) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
        let out_of_bounds = param.reason.contains("verification failed");
        let status = if out_of_bounds {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        return Problem::new(
            status,
            "invalid-field",
            "Invalid field",
            format!("{}: {}", param.name, param.reason),
        )
        .field(param.name)
        .into_error_response();
    }
    let status = err.status();
    let message = err.to_string();
    let response = err.into_response();
    let is_problem = response
        .headers()
        .get(poem::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return response;
    }
    let (slug, title, detail) = match status {
        StatusCode::NOT_FOUND => (
            "not-found",
            "Not found",
            "no such route; see /docs for the API".to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed", message),
        StatusCode::UNAUTHORIZED => (
            "unauthorized",
            "Unauthorized",
            "send an API key as 'Authorization: Bearer <key>'".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Payload too large", message),
        StatusCode::REQUEST_TIMEOUT => (
            "request-timeout",
            "Request timeout",
            "the request body did not arrive in time".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", "Unsupported media type", message)
        }
        s if s.is_client_error() => ("bad-request", "Bad request", message),
        _ => {
            tracing::error!(error = %message, "unhandled error");
            return internal().into_response();
        }
    };
    Problem::new(status, slug, title, detail).into_error_response()
}

impl Problem {
    fn into_error_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
