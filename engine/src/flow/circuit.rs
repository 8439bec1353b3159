//! The health events that say when a destination's circuit opens and closes: the
//! connection's (`connection.failing` / `connection.recovered`) or the subscription's
//! (`subscription.failing` / `subscription.recovered`), with `circuit` in their data.
//! The health moves with them, so the per-request health marking that follows sees no
//! change and does not announce it twice.

use serde_json::json;

use super::decide::CircuitChange;
use super::destination::Destination;
use crate::StoreError;

/// `detail` (the deciding request's status, error and item) goes into the event beside
/// the circuit's state.
pub(super) async fn announce(
    tx: &deadpool_postgres::Transaction<'_>,
    dest: Destination,
    change: CircuitChange,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut extra = detail.clone();
    let circuit = match change {
        CircuitChange::Opened { until, failures } => json!({
            "circuit": "open", "circuit_open_until": until, "consecutive_failures": failures,
        }),
        CircuitChange::Closed => json!({ "circuit": "closed" }),
    };
    match (&mut extra, circuit) {
        (serde_json::Value::Object(extra), serde_json::Value::Object(circuit)) => {
            extra.extend(circuit)
        }
        (extra, circuit) => *extra = circuit,
    }
    let opened = matches!(change, CircuitChange::Opened { .. });
    match dest {
        Destination::Connection(id) => {
            crate::connection::circuit_changed(tx, id, opened, extra).await
        }
        Destination::Subscription(id) => {
            crate::subscription::delivery::circuit_changed(tx, id, opened, extra).await
        }
    }
}
