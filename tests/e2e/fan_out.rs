//! The dispatcher fans each event out exactly once per matching subscription, even while
//! parallel clients write thousands of events.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::receiver::Receiver;
use crate::support::{eventually, TestApp};

const CLIENTS: usize = 8;
const JOBS_PER_CLIENT: usize = 125;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_events_from_parallel_clients_become_exactly_one_delivery_each() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let mut subscriptions = Vec::new();
    for pattern in ["job.*", "job.created"] {
        let (status, body) = app
            .post(
                "/api/hooks/webhooks",
                &app.key,
                json!({"name": pattern, "url": receiver.url("/fan"), "eventTypes": [pattern]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        subscriptions.push(Uuid::parse_str(body["id"].as_str().unwrap()).unwrap());
    }
    app.publish_fixture("field_service_job").await;

    let clients = (0..CLIENTS).map(|c| {
        let app = &app;
        async move {
            for j in 0..JOBS_PER_CLIENT {
                let job = app.create_job("field_service_job").await;
                let (status, body) = app
                    .transition(
                        job["id"].as_str().unwrap(),
                        json!({"transition": "schedule", "data": {"technician": format!("t{c}-{j}")}}),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
    });
    join_all(clients).await;
    let jobs = (CLIENTS * JOBS_PER_CLIENT) as i64;

    let client = app.pool.get().await.unwrap();
    let count = |sub: Uuid| {
        let client = &client;
        async move {
            let row = client
                .query_one(
                    "SELECT count(*), count(DISTINCT event_id) FROM deliveries WHERE subscription_id = $1",
                    &[&sub],
                )
                .await
                .unwrap();
            (row.get::<_, i64>(0), row.get::<_, i64>(1))
        }
    };
    eventually(
        "every event fanned out",
        Duration::from_secs(60),
        || async {
            let all = count(subscriptions[0]).await.0;
            let created = count(subscriptions[1]).await.0;
            (all >= 2 * jobs && created >= jobs).then_some(())
        },
    )
    .await;
    // Once the workers are idle, any duplicate that was going to appear has.
    app.idle().await;
    assert_eq!(count(subscriptions[0]).await, (2 * jobs, 2 * jobs));
    assert_eq!(count(subscriptions[1]).await, (jobs, jobs));

    // And they are exactly the matching events of the log.
    let expected: HashSet<Uuid> = client
        .query(
            "SELECT event_id FROM event_log WHERE tenant_id = $1 AND type LIKE 'job.%'",
            &[&app.tenant_id.0],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let delivered: HashSet<Uuid> = client
        .query(
            "SELECT event_id FROM deliveries WHERE subscription_id = $1",
            &[&subscriptions[0]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(delivered, expected);
}
