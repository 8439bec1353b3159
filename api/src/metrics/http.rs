//! Counting HTTP requests by the route that answered (its template, such as
//! `/api/v1/jobs/{id}`, never the path with its ids), method and status.

use std::sync::Arc;
use std::time::Instant;

use poem::http::Method;
use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use switchyard_engine::metrics::{HTTP_DURATION, HTTP_REQUESTS};

use crate::openapi::Route;

/// The middleware; put it outermost, so that it sees the status of every answer. It
/// holds the API's routes to name them as the OpenAPI document does.
pub struct HttpMetrics(pub Arc<Vec<Route>>);

impl<E: Endpoint> Middleware<E> for HttpMetrics {
    type Output = HttpMetricsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        HttpMetricsEndpoint(ep, self.0.clone())
    }
}

pub struct HttpMetricsEndpoint<E>(E, Arc<Vec<Route>>);

impl<E: Endpoint> Endpoint for HttpMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        let started = Instant::now();
        let method = method_label(req.method());
        let response = self.0.call(req).await?.into_response();
        // The router leaves the matched template on the response; anything else (an
        // unknown path) is counted under one label.
        let route = match response.data::<PathPattern>() {
            // poem-openapi's router names parameters `:param0`: use the document's names.
            Some(pattern) => match self.1.iter().find(|r| r.is_pattern(&pattern.0)) {
                Some(route) => route.template(),
                None => pattern.0.to_string(),
            },
            None => "unmatched".to_string(),
        };
        let status = response.status().as_u16().to_string();
        metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status)
            .increment(1);
        metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method)
            .record(started.elapsed().as_secs_f64());
        Ok(response)
    }
}

/// The method, from a fixed set: a client may send any token.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
