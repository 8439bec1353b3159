//! Exports and verifications read a tenant's whole log: at most [`PER_TENANT`] of them run
//! at once per tenant in this process, and the next is refused at once with 429 and
//! `Retry-After` instead of queueing behind them (40 concurrent exports by one tenant
//! would otherwise hold the pool and slow every other tenant's requests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use switchyard_engine::TenantId;

use crate::problem::{ApiError, Problem};

/// Exports and verifications one tenant may run at once.
pub const PER_TENANT: usize = 2;

/// How long a refused caller is asked to wait.
const RETRY_AFTER: u64 = 5;

/// What each tenant is running.
#[derive(Debug, Default)]
pub struct HeavyReads {
    running: Mutex<HashMap<TenantId, usize>>,
}

/// One running export or verification; it ends when this is dropped.
#[derive(Debug)]
pub struct Running {
    reads: Arc<HeavyReads>,
    tenant: TenantId,
}

impl HeavyReads {
    /// Starts one for `tenant`, or 429 when it already runs [`PER_TENANT`].
    pub fn start(self: &Arc<Self>, tenant: TenantId) -> Result<Running, ApiError> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(tenant).or_default();
        if *count >= PER_TENANT {
            let mut problem = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "quota-exceeded",
                "Exports and verifications at once",
                format!(
                    "the tenant already runs {PER_TENANT} exports or verifications, the most at once; retry when one has finished"
                ),
            );
            problem.retry_after = Some(RETRY_AFTER);
            return Err(problem.into());
        }
        *count += 1;
        Ok(Running {
            reads: self.clone(),
            tenant,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = self.reads.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.tenant) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_at_once_per_tenant_and_the_third_waits_its_turn() {
        let reads = Arc::new(HeavyReads::default());
        let a = TenantId(uuid::Uuid::now_v7());
        let b = TenantId(uuid::Uuid::now_v7());
        let first = reads.start(a).unwrap();
        let _second = reads.start(a).unwrap();
        match reads.start(a) {
            Err(ApiError::TooManyRequests(problem, wait)) => {
                assert_eq!(problem.0.problem_type, "/problems/quota-exceeded");
                assert_eq!(wait, RETRY_AFTER);
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Another tenant is not counted against it.
        let _other = reads.start(b).unwrap();
        drop(first);
        let _third = reads.start(a).unwrap();
        assert!(reads.start(a).is_err());
    }

    #[test]
    fn nothing_is_left_behind_once_all_have_finished() {
        let reads = Arc::new(HeavyReads::default());
        let a = TenantId(uuid::Uuid::now_v7());
        drop(reads.start(a).unwrap());
        assert!(reads.running.lock().unwrap().is_empty());
    }
}
