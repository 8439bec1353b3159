//! Faults that must lose nothing: a receiver outage, a database restart under load, and
//! the server killed with SIGKILL under load (repeatedly).

mod database_restart;
mod receiver_outage;
mod scale_out;
mod sigkill;

use serde_json::{json, Value};

use crate::support::TestApp;

/// One action per transition, retried every 250 ms, 20 attempts in all.
pub fn patient_action(connection: &str) -> Value {
    json!([{"name": "call", "action_type": "WEBHOOK",
            "retry": {"max_attempts": 20, "schedule": ["0s", "250ms"]},
            "payload_template": {"connection_id": connection, "path": "/x", "body": {"job": "{{job.id}}"}}}])
}

/// Every ledger row of the tenant.
pub async fn ledger(app: &TestApp) -> Vec<Value> {
    let (_, page) = app.get("/api/v1/ledger?limit=1000", &app.key).await;
    page["items"].as_array().unwrap().clone()
}
