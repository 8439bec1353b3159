//! Request bodies over the limit answer 413, whether or not they announce their length,
//! and bodies that do not arrive within [`BODY_READ_TIMEOUT`] answer 408: the body is read
//! whole, under both limits, before routing.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::problem::{ApiError, Problem};

/// The largest request body accepted: 256 KiB.
pub const MAX_BODY: usize = 256 * 1024;
/// How long a client has to send its request body.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Middleware enforcing [`MAX_BODY`].
pub struct BodyLimit;

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint { inner }
    }
}

/// The endpoint [`BodyLimit`] wraps.
pub struct BodyLimitEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > MAX_BODY) {
            return Ok(too_large());
        }
        let body = req.take_body();
        match tokio::time::timeout(BODY_READ_TIMEOUT, body.into_bytes_limit(MAX_BODY)).await {
            Ok(Ok(bytes)) => req.set_body(bytes),
            Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => return Ok(too_large()),
            Ok(Err(err)) => return Err(err.into()),
            Err(_) => return Ok(too_slow()),
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

fn too_slow() -> Response {
    ApiError::from(Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        "Request timeout",
        format!(
            "the request body did not arrive within {} seconds",
            BODY_READ_TIMEOUT.as_secs()
        ),
    ))
    .into_response()
}

fn too_large() -> Response {
    ApiError::from(Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload too large",
        format!("request bodies are limited to {MAX_BODY} bytes (256 KiB)"),
    ))
    .into_response()
}
