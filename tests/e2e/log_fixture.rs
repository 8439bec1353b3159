//! A log written by an earlier release stays verifiable: `fixtures/event_log/v1.ndjson`
//! (made by `scripts/log-fixture.sh`: the demo, the README's walk-through, timers, failing
//! actions, an opened circuit, keys and users) is loaded into a fresh database as stored,
//! and every one of its hash chains verifies with this build; every event whose payload is
//! a type reads into it and writes back to the bytes it was hashed from.

use serde_json::Value;
use switchyard_engine::events::account::{
    ApiKeyCreated, ApiKeyRevoked, TenantCreated, UserCreated, UserDisabled,
};
use switchyard_engine::events::action::{ActionAttempted, ActionSkipped};
use switchyard_engine::events::job::{JobCreated, JobTransitioned};
use switchyard_engine::events::timer::{TimerCancelled, TimerFired, TimerScheduled};
use switchyard_engine::events::workflow::WorkflowPublished;
use switchyard_engine::events::Payload;
use switchyard_engine::log::hash::{chain_hash, Hashed};
use switchyard_engine::log::verify::verify;
use switchyard_engine::TenantId;

use crate::support::TestApp;

const V1: &str = include_str!("../../fixtures/event_log/v1.ndjson");

fn fixture() -> Vec<Value> {
    V1.lines()
        .map(|line| serde_json::from_str(line).expect("a fixture line is JSON"))
        .collect()
}

/// Inserts `rows` as stored, in their order: ids, versions, data, times and hashes as
/// they were (positions are the new database's own).
async fn load(app: &TestApp, rows: &[Value]) -> u64 {
    let client = app.pool.get().await.unwrap();
    client
        .execute(
            "INSERT INTO event_log (event_id, tenant_id, stream_id, stream_version, type, data, \
             metadata, recorded_at, prev_hash, hash) \
             SELECT event_id, tenant_id, stream_id, stream_version, type, data, metadata, \
                    recorded_at, decode(substr(prev_hash, 3), 'hex'), decode(substr(hash, 3), 'hex') \
             FROM jsonb_to_recordset($1::jsonb) AS r(position int8, event_id uuid, tenant_id uuid, \
                  stream_id uuid, stream_version int8, type text, data jsonb, metadata jsonb, \
                  recorded_at timestamptz, prev_hash text, hash text) \
             ORDER BY position",
            &[&Value::Array(rows.to_vec())],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_log_written_by_the_first_release_verifies_unchanged() {
    let app = TestApp::spawn().await;
    let rows = fixture();
    assert!(rows.len() > 50, "the fixture holds {} events", rows.len());
    let loaded = load(&app, &rows).await;
    assert_eq!(loaded as usize, rows.len());

    let mut tenants: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["tenant_id"].as_str())
        .collect();
    tenants.sort();
    tenants.dedup();
    let mut checked = 0;
    for tenant in tenants {
        let tenant = TenantId(tenant.parse().unwrap());
        let report = verify(&app.pool, Some(tenant)).await.unwrap();
        assert!(report.ok, "{tenant:?}: {:?}", report.first_break);
        checked += report.events_checked;
    }
    assert_eq!(checked as usize, rows.len());
}

#[tokio::test]
async fn a_fixture_event_edited_by_one_byte_breaks_its_chain() {
    let app = TestApp::spawn().await;
    let mut rows = fixture();
    // The test above would pass on a verifier that checks nothing: this one cannot.
    let victim = rows
        .iter()
        .position(|r| r["type"] == "job.transitioned")
        .unwrap();
    rows[victim]["data"]["to"] = Value::String("forged".into());
    load(&app, &rows).await;
    let tenant = TenantId(rows[victim]["tenant_id"].as_str().unwrap().parse().unwrap());
    let report = verify(&app.pool, Some(tenant)).await.unwrap();
    let broken = report.first_break.expect("the edit is found");
    assert_eq!(broken.event_id.to_string(), rows[victim]["event_id"]);
}

/// Decodes `data` as `P` and encodes it again.
fn through<P: Payload>(data: &Value) -> Value {
    P::from_data(data)
        .unwrap_or_else(|err| panic!("{data}: {err}"))
        .to_data()
        .unwrap()
}

#[test]
fn every_typed_event_of_the_fixture_reads_and_writes_back_to_the_bytes_it_was_hashed_from() {
    let mut typed = 0;
    for row in fixture() {
        let data = &row["data"];
        let again = match row["type"].as_str().unwrap() {
            "job.created" => through::<JobCreated>(data),
            "job.transitioned" => through::<JobTransitioned>(data),
            "timer.scheduled" => through::<TimerScheduled>(data),
            "timer.fired" => through::<TimerFired>(data),
            "timer.cancelled" => through::<TimerCancelled>(data),
            "tenant.created" => through::<TenantCreated>(data),
            "api_key.created" => through::<ApiKeyCreated>(data),
            "api_key.revoked" => through::<ApiKeyRevoked>(data),
            "user.created" => through::<UserCreated>(data),
            "user.disabled" => through::<UserDisabled>(data),
            "workflow.published" => through::<WorkflowPublished>(data),
            "action.skipped" => through::<ActionSkipped>(data),
            "action.succeeded" | "action.retry_scheduled" | "action.failed" => {
                let attempt: ActionAttempted = serde_json::from_value(data.clone()).unwrap();
                attempt.to_data().unwrap()
            }
            _ => continue,
        };
        typed += 1;
        assert_eq!(&again, data, "{}", row["type"]);
        // And the chain's hash over the re-encoded payload is the stored one.
        let hex = |v: &Value| hex::decode(&v.as_str().unwrap()[2..]).unwrap();
        let recorded_at =
            chrono::DateTime::parse_from_rfc3339(row["recorded_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc);
        let id = |v: &Value| v.as_str().unwrap().parse::<uuid::Uuid>().unwrap();
        let hash = chain_hash(
            &hex(&row["prev_hash"]),
            &Hashed {
                event_id: id(&row["event_id"]),
                tenant_id: id(&row["tenant_id"]),
                stream_id: id(&row["stream_id"]),
                stream_version: row["stream_version"].as_i64().unwrap(),
                event_type: row["type"].as_str().unwrap(),
                data: &again,
                metadata: &row["metadata"],
                recorded_at,
            },
        );
        assert_eq!(hash.to_vec(), hex(&row["hash"]), "{}", row["event_id"]);
    }
    // Every event but the connection and subscription metadata events (kept as JSON).
    assert_eq!(typed, 60, "typed events in the fixture");
}
