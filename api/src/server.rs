//! Running the HTTP server until shutdown.
//!
//! poem's own server sets no header-read timeout, so a client that sends its headers a
//! byte at a time holds a connection (and its memory) for as long as it likes. The
//! connections are served here with hyper directly: request headers must arrive within
//! [`HEADER_READ_TIMEOUT`]; bodies are held to their own timeout by
//! [`crate::body_limit`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, Response};
use tokio::net::TcpListener;

use crate::app;
use crate::state::AppState;

/// How long a client has to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests may run after shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);

/// A bound listener, ready to serve.
pub struct Bound {
    listener: TcpListener,
    local: SocketAddr,
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and the bound address.
pub async fn bind(addr: &str) -> std::io::Result<(Bound, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((Bound { listener, local }, local))
}

/// Serves the app until `shutdown` completes, then lets in-flight requests finish (up to
/// ten seconds).
pub async fn run(
    bound: Bound,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    serve(bound, app::build(state).boxed(), shutdown).await
}

/// Serves any endpoint (the API, or the worker's metrics) on `bound` until `shutdown`
/// completes, with the same header timeout and drain.
pub async fn serve(
    bound: Bound,
    app: BoxEndpoint<'static, Response>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = Arc::new(app);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = bound.listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let local = bound.local;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let app = app.clone();
            async move {
                let req = poem::Request::from((
                    req,
                    LocalAddr(local.into()),
                    RemoteAddr(remote.into()),
                    poem::http::uri::Scheme::HTTP,
                ));
                let response = app.get_response(req).await;
                Ok::<_, Infallible>(hyper::Response::from(response))
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
        });
    }
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the drain period were cut off");
    }
    Ok(())
}
