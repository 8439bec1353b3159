//! A log written by an earlier release stays verifiable: `fixtures/event_log/v1.ndjson`
//! (made by `scripts/log-fixture.sh`: the demo, the README's walk-through, timers, failing
//! actions, an opened circuit, keys and users) is loaded into a fresh database as stored,
//! and every one of its hash chains verifies with this build.

use serde_json::Value;
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
