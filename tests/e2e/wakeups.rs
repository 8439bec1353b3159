//! Wake-ups across processes: a worker that shares only the database with the API hears
//! of a committed transition through the database's NOTIFY, not its poll.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchyard_actions::providers::ProviderEndpoints;
use switchyard_actions::vault::{EncryptionKey, Keyring};
use switchyard_actions::worker::Worker;
use switchyard_actions::WorkerSignal;
use switchyard_engine::store;

use crate::support::cluster::fresh_database;
use crate::support::http::test_worker;
use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

#[tokio::test]
async fn a_worker_elsewhere_is_woken_by_a_commit_not_by_its_poll() {
    let db_url = fresh_database().await;
    let (_, key) = EncryptionKey::generate();
    let keyring = || Keyring::single(EncryptionKey::parse(&key).unwrap());
    let app = TestApp::spawn_api_only(&db_url, keyring()).await;
    let receiver = Receiver::ok().await;
    let connection = app.rest_connection(&receiver.url("")).await;
    app.publish_actions(
        "orders",
        json!([{"name": "notify", "action_type": "WEBHOOK",
                "payload_template": {"connection_id": connection, "path": "/notify"}}]),
    )
    .await;

    // A worker of its own, as another process would run it: its poll is an hour away.
    let mut config = test_worker(ProviderEndpoints::default(), true);
    config.poll_interval = Duration::from_secs(3600);
    config.listen = Some(db_url.clone());
    let pool = store::connect(&db_url, 4).unwrap();
    let worker = Worker::new(pool, Arc::new(keyring()), config, WorkerSignal::default()).unwrap();
    tokio::spawn(worker.run(std::future::pending()));
    // Its first pass (and the LISTEN) happen at start; give it the moment it takes.
    eventually("the worker to listen", Duration::from_secs(10), || async {
        let client = app.pool.get().await.ok()?;
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN switchyard_work%'",
                &[],
            )
            .await
            .ok()?;
        (row.get::<_, i64>(0) > 0).then_some(())
    })
    .await;

    let job = app.run("orders", "go", json!({})).await;
    receiver.wait_for(1).await;
    let actions = app.settled_actions(&job).await;
    assert_eq!(actions[0]["status"], "succeeded");
}
