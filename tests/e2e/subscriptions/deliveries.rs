//! Deliveries: their shape and signatures, retries to failing and back, 410, the rate limit.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{deliveries_when, subscribe, SECRET};
use crate::support::http::test_worker;
use crate::support::receiver::{Receiver, Reply};
use crate::support::verify::{hook_signature_ok, standard_webhooks_ok};
use crate::support::{eventually, TestApp};

#[tokio::test]
async fn the_seeds_body_subscribes_and_deliveries_arrive_signed_in_the_seeds_shape() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let url = receiver.url("/webhook?token=s3cr3t-path");

    let seed = json!({
        "name": "My Connection Monitor",
        "url": url,
        "eventTypes": ["app:health_warning", "app:health_cleared"],
        "secret": SECRET
    });
    // The seed's example verbatim is accepted, its app:* names kept as given.
    let (status, created) = app
        .post("/api/hooks/webhooks", &app.key, seed.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["eventTypes"],
        json!(["app:health_warning", "app:health_cleared"])
    );
    // A seed name Switchyard never sends is refused, naming the entry and the ones it does.
    let mut unknown = seed.clone();
    unknown["eventTypes"] = json!(["app:connecting"]);
    let (status, problem) = app.post("/api/hooks/webhooks", &app.key, unknown).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "eventTypes[0]");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("app:health_warning"));

    let (_, types) = app.get("/api/hooks/event-types", &app.key).await;
    let types: Vec<&str> = types["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"job.transitioned") && types.contains(&"action.failed"));

    let mut body = seed;
    body["eventTypes"] = json!(["job.*"]);
    let (status, created) = app.post("/api/hooks/webhooks", &app.key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for field in ["id", "name", "url", "eventTypes", "enabled", "createdAt"] {
        assert!(!created[field].is_null(), "{field} in {created}");
    }
    assert_eq!(created["enabled"], true);
    assert_eq!(created["eventTypes"], json!(["job.*"]));
    let text = created.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains("s3cr3t-path"),
        "{text}"
    );
    let id = created["id"].as_str().unwrap().to_string();
    let (_, listed) = app.get("/api/hooks/webhooks", &app.key).await;
    assert!(!listed.to_string().contains("s3cr3t-path"));

    app.publish_fixture("field_service_job").await;
    let job = app.create_job("field_service_job").await;
    let job_id = job["id"].as_str().unwrap();
    let (status, _) = app
        .transition(
            job_id,
            json!({"transition": "schedule", "data": {"technician": "Ana"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let got = receiver.wait_for(2).await;
    let mut types = Vec::new();
    for req in &got {
        assert_eq!(req.path, "/webhook?token=s3cr3t-path");
        assert!(hook_signature_ok(req, SECRET), "X-Hook-Signature verifies");
        assert_eq!(
            req.header("x-webhook-signature"),
            req.header("x-hook-signature")
        );
        assert!(
            standard_webhooks_ok(req, SECRET),
            "webhook-signature verifies"
        );
        assert_eq!(
            serde_json::to_vec(&req.json()).unwrap(),
            req.body,
            "the body is compact JSON"
        );
        let body = req.json();
        let event = &body["event"];
        for field in ["id", "type", "timestamp", "source", "payload"] {
            assert!(!event[field].is_null(), "{field} in {body}");
        }
        assert_eq!(event["source"], "job");
        assert_eq!(
            body["webhook"],
            json!({"id": id, "name": "My Connection Monitor"})
        );
        assert_eq!(req.header("webhook-id"), req.header("idempotency-key"));
        types.push(event["type"].as_str().unwrap().to_string());
    }
    types.sort();
    assert_eq!(types, ["job.created", "job.transitioned"]);
    let items = deliveries_when(&app, &id, "two succeeded deliveries", |d| {
        d.len() == 2 && d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert_eq!(items[0]["attemptLog"][0]["statusCode"], 200);
    let (_, sub) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(sub["health"], "healthy");
    let (_, usage) = app.get("/api/v1/usage", &app.key).await;
    assert_eq!(usage["items"][0]["requests"], 2, "deliveries are metered");
}

#[tokio::test]
async fn a_failing_receiver_gets_five_attempts_then_marks_failing_and_a_redelivery_clears_it() {
    let answer = Arc::new(AtomicU16::new(500));
    let scripted = answer.clone();
    let receiver = Receiver::start(move |_, _| {
        Reply::status(scripted.load(Ordering::SeqCst)).body("{\"error\": \"down for maintenance\"}")
    })
    .await;
    let app = TestApp::spawn().await;
    let id = subscribe(&app, &receiver.url("/hook"), json!(["job.created"])).await;
    app.publish_fixture("field_service_job").await;
    app.create_job("field_service_job").await;

    let items = deliveries_when(&app, &id, "a failed delivery", |d| {
        d.len() == 1 && d[0]["status"] == "failed"
    })
    .await;
    let delivery = &items[0];
    assert_eq!(delivery["attempts"], 5);
    let log = delivery["attemptLog"].as_array().unwrap();
    assert_eq!(log.len(), 5);
    for (i, attempt) in log.iter().enumerate() {
        assert_eq!(attempt["statusCode"], 500);
        assert!(attempt["responseExcerpt"]
            .as_str()
            .unwrap()
            .contains("maintenance"));
        assert!(attempt["durationMs"].is_number());
        assert_eq!(
            attempt["nextAttemptAt"].is_null(),
            i == 4,
            "the last has no next attempt"
        );
    }
    assert_eq!(receiver.requests().len(), 5);
    let (_, sub) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(sub["health"], "failing");
    assert_eq!(sub["enabled"], true);

    // Manual redelivery after the receiver recovers: one more attempt, and failing clears.
    // It goes out at least two seconds after the first attempt (by the clock), so that its
    // attempt time differs from the event's.
    let first_sent: i64 = receiver.requests()[0]
        .header("webhook-timestamp")
        .parse()
        .unwrap();
    eventually("two seconds to pass", Duration::from_secs(10), || async {
        (chrono::Utc::now().timestamp() >= first_sent + 2).then_some(())
    })
    .await;
    answer.store(200, Ordering::SeqCst);
    let delivery_id = delivery["id"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/hooks/webhooks/{id}/deliveries/{delivery_id}/retry"),
            &app.key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let items = deliveries_when(&app, &id, "the redelivery", |d| {
        d[0]["status"] == "succeeded"
    })
    .await;
    assert_eq!(items[0]["attempts"], 6);
    let (_, sub) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(sub["health"], "healthy");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 6);
    assert!(
        requests
            .iter()
            .all(|r| r.header("webhook-id") == delivery_id),
        "every attempt carries the delivery's id"
    );
    // Replay checks use webhook-timestamp, the attempt's time: a retry's is new, while the
    // event's own timestamp is the same in every attempt.
    let resent: i64 = requests[5].header("webhook-timestamp").parse().unwrap();
    assert!(resent >= first_sent + 2, "{resent} vs {first_sent}");
    assert_eq!(
        requests[0].json()["event"]["timestamp"],
        requests[5].json()["event"]["timestamp"]
    );
}

#[tokio::test]
async fn a_410_disables_the_subscription_and_later_events_wait_for_it() {
    let receiver = Receiver::start(|_, _| Reply::status(410)).await;
    let app = TestApp::spawn().await;
    let id = subscribe(&app, &receiver.url("/gone"), json!(["job.created"])).await;
    app.publish_fixture("field_service_job").await;
    app.create_job("field_service_job").await;
    let items = deliveries_when(&app, &id, "the 410", |d| {
        d.len() == 1 && d[0]["status"] == "failed"
    })
    .await;
    assert_eq!(items[0]["attempts"], 1, "410 is not retried");
    let (_, sub) = app
        .get(&format!("/api/hooks/webhooks/{id}"), &app.key)
        .await;
    assert_eq!(sub["enabled"], false);
    assert!(sub["disabledReason"].as_str().unwrap().contains("410"));
    eventually(
        "a subscription.disabled event",
        Duration::from_secs(10),
        || async {
            let events = app.all_events(1000).await;
            events
                .iter()
                .any(|e| e["type"] == "subscription.disabled" && e["stream_id"] == id.as_str())
                .then_some(())
        },
    )
    .await;

    // A disabled subscription gets nothing new.
    app.create_job("field_service_job").await;
    app.idle().await;
    let (_, page) = app
        .get(&format!("/api/hooks/webhooks/{id}/deliveries"), &app.key)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn over_the_rate_limit_deliveries_wait_and_are_never_dropped() {
    let receiver = Receiver::ok().await;
    let mut worker = test_worker(Default::default(), true);
    worker.deliveries.per_minute = 3;
    let app = TestApp::spawn_with(worker).await;
    let id = subscribe(&app, &receiver.url("/burst"), json!(["job.created"])).await;
    app.publish_fixture("field_service_job").await;
    for _ in 0..6 {
        app.create_job("field_service_job").await;
    }
    let items = deliveries_when(&app, &id, "three sent, three waiting", |d| {
        d.len() == 6
            && d.iter().filter(|d| d["status"] == "succeeded").count() == 3
            && d.iter().filter(|d| d["status"] == "pending").count() == 3
    })
    .await;
    for waiting in items.iter().filter(|d| d["status"] == "pending") {
        assert_eq!(waiting["attempts"], 0, "waiting is not an attempt");
    }
    // The subscription is held until its window reopens; its deliveries wait unclaimed.
    let client = app.pool.get().await.unwrap();
    let held: bool = client
        .query_one(
            "SELECT held_until > now() + interval '30 seconds' FROM webhook_subscriptions \
             WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(held, "waits for the window");
    app.idle().await;
    assert_eq!(receiver.requests().len(), 3);
}
