//! `405 Method Not Allowed` carries `Allow` with the path's methods (RFC 9110).

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::openapi::Route;

/// Middleware adding `Allow` to 405 responses.
pub struct AllowHeader(pub Arc<Vec<Route>>);

impl<E: Endpoint> Middleware<E> for AllowHeader {
    type Output = AllowHeaderEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AllowHeaderEndpoint {
            inner,
            routes: self.0.clone(),
        }
    }
}

/// The endpoint [`AllowHeader`] wraps.
pub struct AllowHeaderEndpoint<E> {
    inner: E,
    routes: Arc<Vec<Route>>,
}

impl<E: Endpoint> Endpoint for AllowHeaderEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_string();
        let mut response = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(err) => err.into_response(),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            // `/api/v1/workflows/validate` is its own route, not `/api/v1/workflows/{name}`:
            // the template with the fewest parameters wins.
            let route = self
                .routes
                .iter()
                .filter(|r| r.matches(&path))
                .min_by_key(|r| r.parameters());
            let allowed: Vec<&str> = route
                .map(|r| r.methods.iter().map(String::as_str).collect())
                .unwrap_or_default();
            if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert("allow", value);
            }
        }
        Ok(response)
    }
}
