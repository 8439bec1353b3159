//! Hostile input at the public address: oversize, deeply nested, non-UTF-8 and slow
//! bodies, a flood of unsigned requests, and routes that exceed their budgets.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::vault::EncryptionKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{github_signature, post_github};
use crate::embedded::{free_port, wait_ready};
use crate::faults::{post, serve, tenant};
use crate::support::cluster::fresh_database;
use crate::support::flood::{clients_per_address, kib};
use crate::support::TestApp;

/// Posts raw `body` bytes, signed as GitHub signs them.
async fn post_signed(
    app: &TestApp,
    url: &str,
    secret: &str,
    delivery: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let headers = vec![
        (
            "x-hub-signature-256".to_string(),
            github_signature(secret, &body),
        ),
        ("x-github-delivery".to_string(), delivery.to_string()),
    ];
    app.post_intake(url, "application/json", &headers, body)
        .await
}

#[tokio::test]
async fn oversize_nested_and_non_utf8_bodies_are_answered_and_nothing_breaks() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let routes = json!([{"when": {"==": [{"var": "body.action"}, "opened"]},
                         "job": {"id": "{{body.id}}"}, "transition": "submit"}]);
    let (id, url, secret) = super::github_endpoint(&app, routes).await;

    let (status, problem) = post_signed(&app, &url, &secret, "big", vec![b'a'; 300 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");

    // Nested past what the parser reads: the body is text to the routes, matching none.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let (status, nested) = post_signed(&app, &url, &secret, "deep", deep).await;
    assert_eq!(
        (status, nested["outcome"].as_str()),
        (StatusCode::OK, Some("unmatched")),
        "{nested}"
    );

    let (status, binary) =
        post_signed(&app, &url, &secret, "bin", vec![0xff, 0xfe, 0x00, 0x80]).await;
    assert_eq!(
        (status, binary["outcome"].as_str()),
        (StatusCode::OK, Some("unmatched")),
        "{binary}"
    );

    let receipts = app.receipts(&id).await;
    assert_eq!(receipts.len(), 2, "the oversize body was not recorded");
    assert!(
        receipts[0]["body"].is_null(),
        "a non-UTF-8 body is not shown as text"
    );
}

#[tokio::test]
async fn a_body_that_never_finishes_is_408_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (id, url, _) = super::github_endpoint(&app, json!([])).await;
    let target = url::Url::parse(&url).unwrap();
    let mut stream =
        tokio::net::TcpStream::connect((target.host_str().unwrap(), target.port().unwrap()))
            .await
            .unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nx-hub-signature-256: sha256=00\r\n\r\n{{\"a\":",
        target.path(),
        target.host_str().unwrap()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut answer))
        .await
        .expect("an answer before the client gives up")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(app.receipts(&id).await.is_empty());
}

#[tokio::test]
async fn routes_over_their_budgets_are_refused_and_say_why() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    // Doubles a text for each of the items: past the guard's byte budget long before the end.
    let heavy = json!({"reduce": [{"var": "body.items"},
                                  {"cat": [{"var": "accumulator"}, {"var": "accumulator"}, "x"]}, ""]});
    let routes = json!([
        {"when": heavy, "job": {"id": "{{body.id}}"}, "transition": "submit"},
    ]);
    let (id, url, secret) = super::github_endpoint(&app, routes).await;
    let items: Vec<Value> = (0..2_000).map(|i| json!(i)).collect();
    let body = json!({"id": "x", "items": items});
    let started = std::time::Instant::now();
    let (status, refused) = post_github(&app, &url, &secret, "heavy", &body).await;
    eprintln!("an over-budget route answered in {:?}", started.elapsed());
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["outcome"], "refused", "{refused}");
    let reason = refused["detail"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("route 0") && reason.contains("stopped"),
        "{reason}"
    );

    // A template that renders past its output budget.
    let routes = json!([{"job": {"id": "{{body.id}}"}, "transition": "submit",
                         "data": {"copy": "{{#each body.items}}{{#each ../body.items}}{{this}}{{/each}}{{/each}}"}}]);
    let (status, _) = app
        .patch(
            &format!("/api/v1/intake/{id}"),
            &app.key,
            json!({"routes": routes}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, refused) = post_github(&app, &url, &secret, "wide", &body).await;
    assert_eq!(refused["outcome"], "refused", "{refused}");
    assert!(
        refused["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("stopped"),
        "{refused}"
    );
}

const ADDRESSES: u8 = 100;
const EACH: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_unsigned_requests_writes_nothing_and_another_tenant_is_received() {
    let db_url = fresh_database().await;
    let (_, key_secret) = EncryptionKey::generate();
    let flooded = tenant(&db_url, &key_secret, "flooded");
    let neighbour = tenant(&db_url, &key_secret, "neighbour");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db_url, &key_secret, port);
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await;
    let target = post(
        &http,
        &flooded,
        format!("{base}/api/v1/intake"),
        json!({"name": "target", "verify": {"scheme": "github"}}),
    )
    .await;
    let quiet = post(
        &http,
        &neighbour,
        format!("{base}/api/v1/intake"),
        json!({"name": "quiet", "verify": {"scheme": "github"}}),
    )
    .await;
    let before = kib(server.id(), "VmRSS");

    let clients = Arc::new(clients_per_address(2, ADDRESSES));
    let flood = {
        let clients = clients.clone();
        let url = target["url"].as_str().unwrap().to_string();
        tokio::spawn(async move {
            stream::iter(0..ADDRESSES as usize * EACH)
                .map(|n| {
                    let client = clients[n % ADDRESSES as usize].clone();
                    let url = url.clone();
                    async move {
                        client
                            .post(url)
                            .header("content-type", "application/json")
                            .header("x-hub-signature-256", format!("sha256={n:064x}"))
                            .body(vec![b' '; 64 * 1024])
                            .send()
                            .await
                            .map(|r| r.status())
                    }
                })
                .buffer_unordered(200)
                .collect::<Vec<_>>()
                .await
        })
    };
    // Meanwhile the neighbour's signed requests are received.
    let quiet_url = quiet["url"].as_str().unwrap();
    let quiet_secret = quiet["secret"].as_str().unwrap();
    let mut received = 0;
    while !flood.is_finished() || received == 0 {
        let body = format!("{{\"n\": {received}}}").into_bytes();
        let resp = http
            .post(quiet_url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", github_signature(quiet_secret, &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        received += 1;
        // Within the endpoint's own rate (50 a second).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let statuses = flood.await.unwrap();
    let peak = kib(server.id(), "VmHWM");

    let refused = statuses
        .iter()
        .filter(|s| {
            matches!(
                s,
                Ok(StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)
            )
        })
        .count();
    assert_eq!(
        refused,
        statuses.len(),
        "every unsigned request refused: {statuses:?}"
    );
    let (status, receipts) = {
        let resp = http
            .get(format!(
                "{base}/api/v1/intake/{}/receipts",
                target["id"].as_str().unwrap()
            ))
            .bearer_auth(&flooded)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receipts["items"], json!([]), "the flood wrote nothing");
    let shown: Value = http
        .get(format!(
            "{base}/api/v1/intake/{}",
            target["id"].as_str().unwrap()
        ))
        .bearer_auth(&flooded)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(shown["refused"]["count"].as_u64().unwrap() > 0);
    assert!(shown["refused"]["recent"].as_array().unwrap().len() <= 20);
    server.kill().unwrap();
    let _ = server.wait();
    let grown_mib = peak.saturating_sub(before) / 1024;
    eprintln!(
        "intake flood: {refused} refused, {received} neighbour requests received, +{grown_mib} MiB"
    );
    // 200 bodies of 64 KiB in flight at most, and 100 addresses' buckets: bounded, not
    // proportional to the 2000 requests.
    assert!(
        grown_mib < 256,
        "the server grew by {grown_mib} MiB under the flood"
    );
}
