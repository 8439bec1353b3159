//! The kinds of queued work the worker runs, behind one trait. What is the same for every
//! kind lives in the loop, once: claiming ([`switchyard_engine::queue::claim`]), the
//! tenant's share, recovering expired leases, giving an item back, and the drain (a
//! stopping worker gives back every item it has not started). A kind only says how to
//! process one item it holds.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use switchyard_engine::queue::Item;

use super::Inner;

/// One kind of queued work: [`super::actions::Actions`], [`super::deliveries::Deliveries`]
/// and [`super::timers::Timers`], each beside how it processes an item.
pub(super) trait Kind: 'static {
    type Item: Item;
    /// What the log calls these items.
    const NAME: &'static str;
    /// One claim of this kind takes at most 1/SHARE of all slots, so that a burst of it
    /// (thousands of timers due at once) cannot starve the other kinds.
    const SHARE: usize = 1;

    /// Attempts one claimed item and records its outcome, or answers that it goes back to
    /// the queue untouched.
    fn process(inner: Arc<Inner>, item: Self::Item) -> impl Future<Output = Handled> + Send;
}

/// What became of a claimed item.
#[derive(Debug, PartialEq)]
pub(super) enum Handled {
    /// Its outcome is recorded (or its lease will return it): a slot is free and the
    /// outcome may have made more work due, so the loop looks again.
    Done,
    /// Back to the queue unattempted, due again at `at` (now when `None`). The loop does
    /// not look again at once: what held the item back (a full or held destination, an
    /// outage, the drain) still holds.
    GiveBack { at: Option<DateTime<Utc>> },
}
