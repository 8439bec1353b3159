//! JSON answers end with a newline, so that a terminal prompt (after `curl`) starts on a
//! line of its own and answers can be concatenated as JSON lines.

use poem::http::header::CONTENT_TYPE;
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// Middleware appending `\n` to `application/json` and `application/problem+json` bodies.
pub struct TrailingNewline;

impl<E: Endpoint> Middleware<E> for TrailingNewline {
    type Output = TrailingNewlineEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TrailingNewlineEndpoint { inner }
    }
}

/// The endpoint [`TrailingNewline`] wraps.
pub struct TrailingNewlineEndpoint<E> {
    inner: E,
}

/// Whether a content type is JSON (a streamed NDJSON export already ends its lines).
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence == "application/problem+json"
}

impl<E: Endpoint> Endpoint for TrailingNewlineEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let mut response = self.inner.call(req).await?.into_response();
        let json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Ok(response);
        }
        let mut body = response.take_body().into_vec().await?;
        if !body.is_empty() && body.last() != Some(&b'\n') {
            body.push(b'\n');
        }
        response.set_body(Body::from_vec(body));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_types_count() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("application/x-ndjson"));
        assert!(!is_json("text/html"));
    }
}
