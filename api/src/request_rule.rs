//! The input rule for what arrives outside the body: a request whose path or query
//! string decodes to text with a NUL character (which PostgreSQL cannot store or compare)
//! or to bytes that are not UTF-8 answers 400 naming the parameter, before routing.

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::problem::{ApiError, Problem};

/// Middleware enforcing the rule.
pub struct RequestRule;

impl<E: Endpoint> Middleware<E> for RequestRule {
    type Output = RequestRuleEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestRuleEndpoint { inner }
    }
}

/// The endpoint [`RequestRule`] wraps.
pub struct RequestRuleEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestRuleEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Some(field) = offending_part(req.uri().path(), req.uri().query()) {
            return Ok(ApiError::from(
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-parameter",
                    "Invalid parameter",
                    format!(
                        "{field} may not contain the NUL character or bytes that are not UTF-8"
                    ),
                )
                .field(field),
            )
            .into_response());
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// The first part of the request that breaks the rule: `path`, or a query parameter.
fn offending_part(path: &str, query: Option<&str>) -> Option<String> {
    let bad = |bytes: &[u8]| bytes.contains(&0) || std::str::from_utf8(bytes).is_err();
    let decoded: Vec<u8> = percent_decode(path);
    if bad(&decoded) {
        return Some("path".into());
    }
    for pair in query.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(&key.replace('+', " "));
        let value = percent_decode(&value.replace('+', " "));
        if bad(&key) || bad(&value) {
            return Some(match std::str::from_utf8(&key) {
                Ok(k) if !k.contains('\0') => k.to_string(),
                _ => "query".into(),
            });
        }
    }
    None
}

fn percent_decode(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_non_utf8_are_found_and_named() {
        assert_eq!(
            offending_part("/api/v1/jobs/%00", None),
            Some("path".into())
        );
        assert_eq!(
            offending_part("/api/v1/events", Some("type=job%00x&limit=2")),
            Some("type".into())
        );
        assert_eq!(
            offending_part("/api/v1/events", Some("since=%FF")),
            Some("since".into())
        );
        assert_eq!(
            offending_part("/api/v1/events", Some("type=job.*&x=%20")),
            None
        );
    }
}
