//! Request bodies over the limit answer 413, whether or not they announce their length.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::problem::{ApiError, Problem};

/// The largest request body accepted: 256 KiB.
pub const MAX_BODY: usize = 256 * 1024;

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
        match declared {
            Some(len) if len > MAX_BODY => return Ok(too_large()),
            Some(_) => {}
            None => {
                // No declared length (chunked): read at most the limit before routing.
                let body = req.take_body();
                match body.into_bytes_limit(MAX_BODY).await {
                    Ok(bytes) => req.set_body(bytes),
                    Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
                    Err(err) => return Err(err.into()),
                }
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
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
