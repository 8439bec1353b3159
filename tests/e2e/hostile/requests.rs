//! Malformed requests, out-of-range values, slow clients, key guessing and floods: each
//! is a 4xx problem naming what is wrong, or a closed connection, never a 500.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::still_serving;
use crate::support::http::read;
use crate::support::TestApp;
use switchyard_api::throttle::RequestLimits;

#[tokio::test]
async fn wrong_methods_and_media_types_keep_their_own_statuses() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("PUT", "/api/v1/jobs"),
        ("DELETE", "/api/v1/events"),
        ("PATCH", "/api/v1/workflows"),
    ] {
        let resp = app
            .http
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        let (status, problem) = read(resp).await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {problem}"
        );
        assert_eq!(problem["status"], 405);
    }
    for content_type in ["text/plain", "application/xml", "multipart/form-data"] {
        let resp = app
            .http
            .post(app.url("/api/v1/jobs"))
            .bearer_auth(&app.key)
            .header("content-type", content_type)
            .body("{\"workflow\": \"x\"}")
            .send()
            .await
            .unwrap();
        let (status, problem) = read(resp).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}: {problem}"
        );
        assert_eq!(problem["status"], 415);
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn nul_characters_and_out_of_range_values_are_refused_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let service = app.key_with(&["service"]).await;
    for (path, key, field) in [
        ("/api/v1/jobs/%00", &app.key, "path"),
        ("/api/v1/workflows/na%00me", &app.key, "path"),
        ("/api/v1/workflows/%FF%FE", &app.key, "path"),
        ("/api/v1/events?type=job%00x", &app.key, "type"),
        ("/api/v1/events?stream_id=%00", &app.key, "stream_id"),
        ("/api/v1/jobs?workflow=a%00", &app.key, "workflow"),
        ("/api/hooks/webhooks?cursor=%00", &app.key, "cursor"),
        (
            "/api/v1/events?since=0000-01-01T00:00:00Z",
            &app.key,
            "since",
        ),
        (
            "/api/v1/events/export?until=0000-12-31T00:00:00Z",
            &app.key,
            "until",
        ),
        (
            "/api/webhooks/zapier/poll?since=-99999999999",
            &service,
            "since",
        ),
        (
            "/api/webhooks/zapier/poll?since=99999999999999999",
            &service,
            "since",
        ),
        (
            "/api/v1/events?limit=99999999999999999999",
            &app.key,
            "limit",
        ),
    ] {
        let (status, problem) = app.get(path, key).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {status} {problem}"
        );
        let named = problem["field"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default()
            + problem["detail"].as_str().unwrap_or_default();
        assert!(
            named.contains(field),
            "{path} should name {field}: {problem}"
        );
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn durations_in_definitions_are_bounded_at_publish() {
    let app = TestApp::spawn().await;
    let conn = app.rest_connection("http://127.0.0.1:9/").await;
    for (retry, timeout, field) in [
        (
            json!({"schedule": ["99999999999h"]}),
            json!(1000),
            "retry.schedule[0]",
        ),
        (
            json!({"schedule": ["0s", "8d"]}),
            json!(1000),
            "retry.schedule[1]",
        ),
        (
            json!({"schedule": ["18446744073709551615d"]}),
            json!(1000),
            "retry.schedule[0]",
        ),
        (
            json!({"max_attempts": 4_000_000_000u64}),
            json!(1000),
            "retry.max_attempts",
        ),
        (
            json!({"max_attempts": 2}),
            json!(1_000_000_000_000u64),
            "timeout_ms",
        ),
    ] {
        let (status, problem) = app
            .post(
                "/api/v1/workflows",
                &app.key,
                json!({"name": "slow", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
                       "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
                           {"name": "x", "action_type": "WEBHOOK", "retry": retry, "timeout_ms": timeout,
                            "payload_template": {"connection_id": conn, "body": {}}}]}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let paths = problem["errors"].to_string();
        assert!(
            paths.contains(&format!("$.transitions[0].actions[0].{field}")),
            "{field}: {paths}"
        );
    }
}

#[tokio::test]
async fn a_401_says_how_to_authenticate_and_guessing_keys_is_throttled() {
    let limits = RequestLimits {
        tenant_per_second: 0,
        auth_failures_per_minute: 5,
        intake_per_second: 0,
    };
    let app = TestApp::spawn_with_limits(limits).await;
    let resp = app.http.get(app.url("/api/v1/jobs")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let mut statuses = Vec::new();
    for n in 0..8 {
        let resp = app
            .http
            .get(app.url("/api/v1/jobs"))
            .bearer_auth(format!("sy_guess_{n}"))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::UNAUTHORIZED {
            assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        }
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], &[429; 3], "{statuses:?}");
}

#[tokio::test]
async fn a_tenant_over_its_request_rate_gets_429_with_retry_after_and_others_do_not() {
    let limits = RequestLimits {
        tenant_per_second: 2,
        auth_failures_per_minute: 0,
        intake_per_second: 0,
    };
    let app = TestApp::spawn_with_limits(limits).await;
    let (_, other_key) = app.other_tenant("quiet").await;
    let mut limited = None;
    for _ in 0..20 {
        let resp = app
            .http
            .get(app.url("/api/v1/jobs"))
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(resp);
            break;
        }
    }
    let resp = limited.expect("the flood was limited");
    assert!(resp.headers().contains_key("retry-after"));
    let (_, problem) = read(resp).await;
    assert_eq!(problem["type"], "/problems/rate-limited");
    let (status, _) = app.get("/api/v1/jobs", &other_key).await;
    assert_eq!(status, StatusCode::OK, "another tenant is not limited");
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The headers never finish; the server closes the connection after its timeout.
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the connection was still open after 30 s");
    still_serving(&app).await;
}

#[tokio::test]
async fn a_body_that_never_arrives_answers_408() {
    let app = TestApp::spawn().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"work",
        app.key
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(60), socket.read(&mut buf))
        .await
        .expect("an answer within a minute")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    still_serving(&app).await;
}

#[tokio::test]
async fn an_empty_evaluation_budget_is_refused_at_start_up() {
    let out = std::process::Command::new(crate::embedded::binary())
        .args(["migrate"])
        .env("SWITCHYARD_GUARD_MAX_STEPS", "0")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SWITCHYARD_GUARD_MAX_STEPS must be at least 1"),
        "{stderr}"
    );
}
