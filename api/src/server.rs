//! Running the HTTP server until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::Server;

use crate::app;
use crate::state::AppState;

/// Binds `addr` (port 0 picks a free port) and returns the acceptor and the bound address.
pub async fn bind(addr: &str) -> std::io::Result<(TcpAcceptor, SocketAddr)> {
    let acceptor = TcpListener::bind(addr.to_string()).into_acceptor().await?;
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| std::io::Error::other("the listener has no socket address"))?;
    Ok((acceptor, local))
}

/// Serves the app until `shutdown` completes, then lets in-flight requests finish (up to
/// ten seconds).
pub async fn run(
    acceptor: TcpAcceptor,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app::build(state), shutdown, Some(Duration::from_secs(10)))
        .await
}
