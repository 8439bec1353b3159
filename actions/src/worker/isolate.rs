//! Containing a bug to the item it met. Each claimed action or delivery runs inside
//! [`isolated`]: a panic while rendering, building, sending or judging it becomes that
//! item's failure with a reason, and the loop goes on with every other tenant's work.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

/// Runs `work`; a panic is logged once and returned as a reason.
pub async fn isolated<F: Future>(work: F) -> Result<F::Output, String> {
    AssertUnwindSafe(work).catch_unwind().await.map_err(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        tracing::error!(panic = %detail, "an item failed inside the worker; it is failed and the worker goes on");
        "the worker failed on this item (an internal error, logged); it was failed rather than retried"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_reason() {
        let out = isolated(async { panic!("boom") }).await;
        assert!(out.unwrap_err().contains("internal error"));
        assert_eq!(isolated(async { 7 }).await, Ok(7));
    }
}
