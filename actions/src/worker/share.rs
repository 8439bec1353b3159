//! A fair share of the worker's slots for every tenant with work.
//!
//! Slots are what a tenant's slow or hanging targets hold on to: first come, first served,
//! one tenant's 300 ten-second actions would take all of them and every other tenant would
//! wait. So the worker counts the items each tenant has in flight and, each pass, grants
//! the tenants with due work slots one at a time in turn, none beyond its share:
//!
//! - with several tenants active (due work or items in flight), a share is
//!   `concurrency / active`;
//! - a tenant alone may use all but an eighth of the slots, so the first work of another
//!   tenant always finds a free one instead of waiting for a slow request to end.
//!
//! A tenant over its share (it had the slots to itself a moment ago) starts nothing more
//! until its items in flight fall below it. Idle slots still go to whoever has work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchyard_engine::TenantId;

/// Items in flight per tenant, across every kind of work.
pub(crate) struct Shares {
    concurrency: usize,
    in_flight: Mutex<HashMap<TenantId, usize>>,
}

/// What one pass claims for whom.
#[derive(Debug, PartialEq)]
pub(crate) struct Plan {
    /// How many items to claim for each tenant.
    pub grants: Vec<(TenantId, usize)>,
    /// Set when the slots ran out with tenants still waiting: the next pass looks for due
    /// tenants after this one, so those at the end of the list get their turn.
    pub resume_after: Option<TenantId>,
}

/// One item's hold on its tenant's share, given back when dropped.
pub(crate) struct Held {
    shares: Arc<Shares>,
    tenant: TenantId,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut in_flight = self.shares.lock();
        if let Some(n) = in_flight.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&self.tenant);
            }
        }
    }
}

impl Shares {
    pub(crate) fn new(concurrency: usize) -> Arc<Shares> {
        Arc::new(Shares {
            concurrency,
            in_flight: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, usize>> {
        // The map is plain counts: a panic elsewhere cannot leave it half-updated.
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most items one tenant may have in flight while `active` tenants have work.
    fn cap(&self, active: usize) -> usize {
        let cap = if active <= 1 {
            self.concurrency - self.concurrency / 8
        } else {
            self.concurrency / active
        };
        cap.max(1)
    }

    /// How many items to claim for each of the `due` tenants, `slots` in all: one slot
    /// at a time to each tenant in turn, none beyond its share.
    pub(crate) fn plan(&self, due: &[TenantId], slots: usize) -> Plan {
        let in_flight = self.lock();
        let active = in_flight.len() + due.iter().filter(|t| !in_flight.contains_key(t)).count();
        let cap = self.cap(active);
        // Per tenant: (tenant, slots it may still take, slots granted).
        let mut tenants: Vec<(TenantId, usize, usize)> = due
            .iter()
            .map(|t| {
                (
                    *t,
                    cap.saturating_sub(in_flight.get(t).copied().unwrap_or(0)),
                    0,
                )
            })
            .collect();
        drop(in_flight);
        let mut left = slots;
        let mut last_served = None;
        let mut progressed = true;
        while left > 0 && progressed {
            progressed = false;
            for (tenant, room, grant) in tenants.iter_mut().filter(|(_, room, _)| *room > 0) {
                if left == 0 {
                    break;
                }
                *room -= 1;
                *grant += 1;
                left -= 1;
                progressed = true;
                last_served = Some(*tenant);
            }
        }
        let waiting = tenants.iter().any(|(_, room, _)| *room > 0);
        let grants = tenants
            .into_iter()
            .filter(|(_, _, n)| *n > 0)
            .map(|(t, _, n)| (t, n))
            .collect();
        Plan {
            grants,
            resume_after: if waiting { last_served } else { None },
        }
    }

    /// Counts one item of `tenant` in flight until the returned hold is dropped.
    pub(crate) fn hold(self: &Arc<Self>, tenant: TenantId) -> Held {
        *self.lock().entry(tenant).or_default() += 1;
        Held {
            shares: self.clone(),
            tenant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants(n: usize) -> Vec<TenantId> {
        (0..n).map(|_| TenantId::new()).collect()
    }

    #[test]
    fn a_tenant_alone_leaves_an_eighth_of_the_slots_free() {
        let shares = Shares::new(64);
        let [a] = tenants(1)[..] else { unreachable!() };
        assert_eq!(shares.plan(&[a], 64).grants, [(a, 56)]);
    }

    #[test]
    fn a_tenant_holding_every_slot_it_may_gets_none_while_another_gets_its_share() {
        let shares = Shares::new(64);
        let ts = tenants(2);
        let (a, b) = (ts[0], ts[1]);
        let _held: Vec<Held> = (0..56).map(|_| shares.hold(a)).collect();
        // Two tenants active: 32 each; a is over its share, b gets what is free.
        assert_eq!(shares.plan(&[a, b], 8).grants, [(b, 8)]);
    }

    #[test]
    fn scarce_slots_go_round_and_the_next_pass_resumes_after_the_last_served() {
        let shares = Shares::new(4);
        let ts = tenants(6);
        let plan = shares.plan(&ts, 4);
        assert_eq!(
            plan.grants,
            ts[..4].iter().map(|t| (*t, 1)).collect::<Vec<_>>()
        );
        assert_eq!(plan.resume_after, Some(ts[3]));
        // With room for everyone, nothing to resume.
        assert_eq!(Shares::new(64).plan(&ts, 64).resume_after, None);
    }

    #[test]
    fn holds_are_given_back_when_dropped() {
        let shares = Shares::new(8);
        let [a] = tenants(1)[..] else { unreachable!() };
        let held: Vec<Held> = (0..7).map(|_| shares.hold(a)).collect();
        assert!(shares.plan(&[a], 8).grants.is_empty());
        drop(held);
        assert_eq!(shares.plan(&[a], 8).grants, [(a, 7)]);
        assert!(shares.lock().is_empty());
    }
}
