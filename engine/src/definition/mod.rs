//! Workflow definitions: the states, transitions, guards and actions a designer publishes.
//!
//! [`validate`] checks a raw JSON document and reports every problem at once, each with its
//! JSON path; only a document without problems becomes a [`WorkflowDefinition`].

mod actions;
mod duration;
mod fields;
pub mod inputs;
mod model;
mod timeouts;
mod validate;

pub use actions::{climbs_out, CLIMBS_OUT};
pub use duration::{parse_duration, MAX_DURATION};
pub use model::{
    ActionSpec, PayloadTemplate, RetryPolicy, StateDef, TimeoutDef, TransitionDef,
    WorkflowDefinition,
};
pub use timeouts::{MAX_AHEAD, MIN_TIMEOUT};
pub use validate::{validate, Problem};
