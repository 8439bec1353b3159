//! A subscription over its per-minute limit is held: its backlog waits unclaimed, and
//! another tenant's deliveries go out.

use serde_json::json;

use crate::subscriptions::subscribe;
use crate::support::http::test_worker;
use crate::support::receiver::Receiver;
use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_subscriptions_backlog_is_not_claimed_and_another_tenants_deliveries_flow() {
    let mut worker = test_worker(Default::default(), true);
    worker.deliveries.per_minute = 2;
    let receiver = Receiver::ok().await;
    let c = TestApp::spawn_with(worker).await;
    c.publish_fixture("field_service_job").await;
    let held = subscribe(&c, &receiver.url("/c"), json!(["job.*"])).await;
    for _ in 0..20 {
        c.create_job("field_service_job").await;
    }
    // Two go out; then the subscription is held until its window reopens.
    receiver.wait_for(2).await;
    let client = c.pool.get().await.unwrap();
    crate::support::eventually(
        "the subscription to be held",
        std::time::Duration::from_secs(20),
        || async {
            let row = client
                .query_one(
                    "SELECT held_until > now() FROM webhook_subscriptions WHERE id = $1::text::uuid",
                    &[&held],
                )
                .await
                .unwrap();
            row.get::<_, Option<bool>>(0).filter(|h| *h)
        },
    )
    .await;

    // Events recorded while it is held queue deliveries that nobody claims.
    let held_from: chrono::DateTime<chrono::Utc> =
        client.query_one("SELECT now()", &[]).await.unwrap().get(0);
    for _ in 0..10 {
        c.create_job("field_service_job").await;
    }
    let b = c.neighbour("quiet").await;
    b.publish_fixture("field_service_job").await;
    subscribe(&b, &receiver.url("/b"), json!(["job.created"])).await;
    b.create_job("field_service_job").await;
    let arrived = receiver.wait_for(3).await;
    assert!(
        arrived.iter().any(|r| r.path == "/b"),
        "B's delivery arrived"
    );
    c.idle().await;
    assert_eq!(
        receiver
            .requests()
            .iter()
            .filter(|r| r.path == "/c")
            .count(),
        2,
        "no more than the limit went out"
    );
    let (pending, touched): (i64, i64) = {
        let row = client
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE updated_at > created_at) FROM deliveries \
                 WHERE subscription_id = $1::text::uuid AND status = 'pending' AND created_at > $2",
                &[&held, &held_from],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(pending >= 10, "the held backlog waits: {pending}");
    assert_eq!(
        touched, 0,
        "held deliveries were never claimed and put back"
    );
}
