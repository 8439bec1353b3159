//! Flow control per destination: a connection (its action runs) or a subscription's
//! endpoint (its deliveries). The engine decides here; the worker asks before a request
//! leaves ([`admit`]) and tells what came back ([`observe`]).
//!
//! A destination may be **held** until a time: its rate window is used up, its
//! concurrency slots are all in flight, it answered 429 or 503 with `Retry-After`, its
//! circuit is open (after `failures` consecutive failures, for `cooldown`), or one probe
//! request is deciding whether it closes. A connection may also be **paused** by hand.
//! While held or paused, the queue's due filter leaves its items unclaimed: they wait in
//! order, and waiting is never an attempt. An item claimed just before the hold began is
//! given back untouched when [`admit`] says wait.
//!
//! - [`limits`]: the optional `limits` a destination is created with.
//! - [`view`]: limits and hold as a destination's view shows them.
//! - [`destination`]: destinations, admissions, observations and hold reasons as data.
//! - [`gate`]: admission and observation, one locked row per destination.
//! - `decide`: what an answer does to the destination's holds and circuit.
//! - `circuit`: the health events that say when a circuit opens and closes.

mod circuit;
mod decide;
pub mod destination;
pub mod gate;
pub mod limits;
pub mod view;

pub use destination::{Admission, Breaker, Destination, Observation};
pub use gate::{admit, observe};
pub use limits::{Limits, LimitsProblem, Per, Rate};
pub use view::FlowView;
