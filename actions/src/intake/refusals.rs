//! The refusals an endpoint's owner sees: a count and the most recent few, kept in this
//! process's memory. A refused request writes nothing (a flood of unsigned requests must
//! not fill the database), so each process shows what it refused since it started.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The most recent refusals kept per endpoint.
pub const RECENT: usize = 20;
/// The most endpoints with refusals kept; past it, the quietest are forgotten.
const MAX_ENDPOINTS: usize = 10_000;

/// One refused request: when, and why (never a signature or a secret).
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    pub at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Default)]
struct Kept {
    count: u64,
    recent: VecDeque<Refused>,
}

/// Refusals by endpoint.
#[derive(Default)]
pub struct Refusals(Mutex<HashMap<Uuid, Kept>>);

impl std::fmt::Debug for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refusals").finish_non_exhaustive()
    }
}

impl Refusals {
    /// Counts a refusal of `endpoint`'s.
    pub fn add(&self, endpoint: Uuid, reason: String) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENDPOINTS && !map.contains_key(&endpoint) {
            if let Some(quietest) = map.iter().min_by_key(|(_, k)| k.count).map(|(id, _)| *id) {
                map.remove(&quietest);
            }
        }
        let kept = map.entry(endpoint).or_default();
        kept.count += 1;
        if kept.recent.len() == RECENT {
            kept.recent.pop_front();
        }
        kept.recent.push_back(Refused {
            at: Utc::now(),
            reason,
        });
    }

    /// `endpoint`'s count and recent refusals, newest first.
    pub fn of(&self, endpoint: Uuid) -> (u64, Vec<Refused>) {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&endpoint) {
            None => (0, Vec::new()),
            Some(kept) => (kept.count, kept.recent.iter().rev().cloned().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_recent_are_kept_and_all_are_counted() {
        let refusals = Refusals::default();
        let id = Uuid::new_v4();
        for i in 0..RECENT + 5 {
            refusals.add(id, format!("r{i}"));
        }
        let (count, recent) = refusals.of(id);
        assert_eq!(count, (RECENT + 5) as u64);
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0].reason, format!("r{}", RECENT + 4));
        assert_eq!(refusals.of(Uuid::new_v4()).0, 0);
    }
}
