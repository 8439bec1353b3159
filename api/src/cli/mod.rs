//! One file per subcommand.

pub mod audit;
pub mod bench;
pub mod demo;
pub mod keys;
pub mod serve;
pub mod tenant;
pub mod user;

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM). The handlers are
/// registered when this is called, not when the future is first polled, so call it early:
/// a signal that arrives before then would end the process without a clean stop.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        let interrupted = async {
            match interrupt.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        let terminated = async {
            match terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupted => {}
            _ = terminated => {}
        }
        tracing::info!("shutting down");
    }
}
