//! Ways around the egress guard: address forms that reach restricted networks, proxy
//! variables that would hand requests to a proxy unchecked, and receivers that echo the
//! credentials they were sent so that they would end up in the log.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::still_serving;
use crate::embedded::{binary, free_port, spawn_serve, wait_ready};
use crate::support::cluster::fresh_database;
use crate::support::http::test_worker;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

const RESTRICTED: &[&str] = &[
    "http://[::127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "http://[fec0::1]/",
    "http://[fe80::1]/",
    "http://[fd12:3456::1]/",
    "http://[::]/",
    "http://[100::1]/",
    "http://[ff02::1]/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://192.0.0.170/",
    "http://198.18.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
];

#[tokio::test]
async fn restricted_address_forms_are_refused_when_connections_and_subscriptions_are_made() {
    let app = TestApp::spawn_with(test_worker(Default::default(), false)).await;
    for url in RESTRICTED {
        let (status, problem) = app
            .post(
                "/api/hooks/webhooks",
                &app.key,
                json!({"name": "x", "url": url, "eventTypes": ["job.*"]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
        assert_eq!(problem["field"], "url");
        for (provider, field) in [("generic_rest", "base_url"), ("webhook", "webhook_url")] {
            let (status, problem) = app
                .post(
                    "/api/v1/tenant/connections",
                    &app.key,
                    json!({"provider": provider, "connection_name": "x", "credentials": {field: url}}),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
            assert_eq!(problem["field"], format!("credentials.{field}"));
        }
    }
    // A host name is checked when it resolves: localhost is refused at send time.
    let hook = Receiver::ok().await;
    let port = hook
        .url("")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let conn = app
        .rest_connection(&format!("http://localhost:{port}"))
        .await;
    app.publish_actions(
        "guarded",
        json!([{"name": "call", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": conn, "body": {}}}]),
    )
    .await;
    let job = app.run("guarded", "go", json!({})).await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(runs[0]["status"], "failed");
    assert!(runs[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("not allowed"));
    assert!(hook.requests().is_empty());
    still_serving(&app).await;
}

#[tokio::test]
async fn system_proxy_variables_do_not_carry_requests_past_the_guard() {
    let proxy = Receiver::ok().await;
    let proxy_url = proxy.url("");
    let db = fresh_database().await;
    let pool = switchyard_engine::store::connect(&db, 2).unwrap();
    let tenant = switchyard_engine::tenant::create(&pool, "proxied")
        .await
        .unwrap();
    let (_, key) = switchyard_engine::api_key::create(
        &pool,
        &switchyard_engine::Actor::operator(tenant),
        "k",
        &[switchyard_engine::api_key::Scope::Full],
    )
    .await
    .unwrap();
    let key = key.expose().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let data = std::env::temp_dir().join(format!(
        "switchyard-proxy-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut server = spawn_serve(
        &binary(),
        &data,
        port,
        &[
            ("DATABASE_URL", db.as_str()),
            (
                "INTEGRATION_SECRET_ENCRYPTION_KEY",
                "a test key that is long enough",
            ),
            ("HTTP_PROXY", proxy_url.as_str()),
            ("HTTPS_PROXY", proxy_url.as_str()),
            ("ALL_PROXY", proxy_url.as_str()),
            ("http_proxy", proxy_url.as_str()),
            ("NO_PROXY", ""),
        ],
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    wait_ready(&http, &base).await;
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let resp = call(
        reqwest::Method::POST,
        "/api/v1/tenant/connections",
        json!({"provider": "generic_rest", "connection_name": "far",
               "credentials": {"base_url": "http://proxy-check.invalid", "auth_header": "Bearer proxied-secret"}}),
    )
    .await
    .unwrap();
    let conn: Value = resp.json().await.unwrap();
    let conn = conn["id"].as_str().unwrap().to_string();
    let resp = call(
        reqwest::Method::POST,
        "/api/v1/workflows",
        json!({"name": "far", "initial": "open",
               "states": [{"name": "open"}, {"name": "done", "terminal": true}],
               "transitions": [{"name": "go", "from": ["open"], "to": "done",
                   "actions": [{"name": "call", "action_type": "WEBHOOK", "retry": {"max_attempts": 1},
                       "payload_template": {"connection_id": conn, "path": "/x", "body": {}}}]}]}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let job: Value = call(
        reqwest::Method::POST,
        "/api/v1/jobs",
        json!({"workflow": "far"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    let resp = call(
        reqwest::Method::POST,
        &format!("/api/v1/jobs/{id}/transitions"),
        json!({"transition": "go"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    eventually(
        "the action to fail on the unresolvable host",
        Duration::from_secs(30),
        || async {
            let runs: Value = http
                .get(format!("{base}/api/v1/jobs/{id}/actions"))
                .bearer_auth(&key)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (runs["items"][0]["status"] == "failed").then_some(())
        },
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        proxy.requests().is_empty(),
        "the proxy was used: {:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn credentials_echoed_by_a_receiver_never_enter_the_log() {
    // Echoes everything it was sent, decoded and re-encoded, then pads so that a copy of
    // the request line straddles the 4 KiB excerpt limit; answers 500 and then 200.
    let hook = Receiver::start(|req, nth| {
        let mut echo = format!("{} {}\n", req.method, req.path);
        for (name, value) in &req.headers {
            echo.push_str(&format!("{name}: {value}\n"));
            let token = value.split_once(' ').map_or(value.as_str(), |(_, t)| t);
            echo.push_str(&format!(
                "b64 {}\n",
                base64::engine::general_purpose::STANDARD.encode(value)
            ));
            echo.push_str(&format!("hex {}\n", hex::encode(token)));
            if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token) {
                echo.push_str(&format!("decoded {}\n", String::from_utf8_lossy(&decoded)));
            }
        }
        echo.push_str(&String::from_utf8_lossy(&req.body));
        let pad = 4096usize.saturating_sub(echo.len() + 20);
        echo.push_str(&"-".repeat(pad));
        echo.push_str(&req.path);
        Reply::status(if nth == 1 { 500 } else { 200 }).body(&echo)
    })
    .await;
    let endpoints = switchyard_actions::providers::ProviderEndpoints {
        twilio_base: hook.url("/twilio"),
        sendgrid_base: hook.url("/sendgrid"),
    };
    let app = TestApp::spawn_with(test_worker(endpoints, true)).await;
    let secrets = [
        "Bearer sk_live_REST_0123456789",
        "SG.sendgrid-key-0123456789",
        "AC0123456789abcdef0123456789abcdef",
        "twilio-token-0123456789",
        "whsec_c2lnbmluZy1zZWNyZXQtMDEyMzQ1Njc4OQ==",
        "catchpath0123456789",
        "querytoken0123456789",
    ];
    let conns = [
        app.create_connection(
            "generic_rest",
            json!({"base_url": hook.url("/rest"), "auth_header": secrets[0]}),
        )
        .await,
        app.create_connection(
            "webhook",
            json!({
            "webhook_url": hook.url(&format!("/hooks/catch/{}?token={}", secrets[5], secrets[6])),
            "signing_secret": secrets[4]}),
        )
        .await,
        app.create_connection("sendgrid", json!({"api_key": secrets[1]}))
            .await,
        app.create_connection(
            "twilio",
            json!({"account_sid": secrets[2], "auth_token": secrets[3]}),
        )
        .await,
    ];
    let actions: Vec<Value> = conns
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"name": format!("call{i}"), "action_type": "WEBHOOK", "continue_on_failure": true,
            "retry": {"max_attempts": 2, "schedule": ["0s", "10ms"]},
            "payload_template": {"connection_id": c, "path": if i == 3 { "/Messages.json" } else { "" },
                "body": {"job": "{{job.id}}"}}}))
        .collect();
    app.publish_actions("echo", json!(actions)).await;
    let job = app.run("echo", "go", json!({})).await;
    app.settled_actions(&job).await;
    // (Readers return an event once every older transaction has ended.)
    let events = eventually(
        "the outcomes to be listed",
        Duration::from_secs(10),
        || async {
            let events = app.all_events(500).await;
            let finals = events
                .iter()
                .filter(|e| {
                    matches!(
                        e["type"].as_str(),
                        Some("action.succeeded" | "action.failed")
                    )
                })
                .count();
            (finals == 4).then_some(events)
        },
    )
    .await;
    let stored = serde_json::to_string(&events).unwrap()
        + &serde_json::to_string(
            &app.get(&format!("/api/v1/jobs/{job}/actions"), &app.key)
                .await
                .1,
        )
        .unwrap();
    assert!(
        stored.contains("response"),
        "excerpts were stored: {stored:.2000}"
    );
    for secret in secrets {
        let token = secret.split_once(' ').map_or(secret, |(_, t)| t);
        for form in [
            token.to_string(),
            base64::engine::general_purpose::STANDARD.encode(secret),
            hex::encode(token),
        ] {
            assert!(!stored.contains(&form), "{form} was stored");
        }
    }
    assert!(
        !stored.contains("sk_live"),
        "no fragment of the token either"
    );
    still_serving(&app).await;
}

#[tokio::test]
async fn an_action_path_cannot_climb_out_of_the_connections_base_path() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let conn = app.rest_connection(&receiver.url("/tenant-a/api")).await;
    // Written literally, it is refused at publish.
    let (status, problem) = app
        .post(
            "/api/v1/workflows",
            &app.key,
            json!({"name": "literal", "initial": "open",
                "states": [{"name": "open"}, {"name": "done", "terminal": true}],
                "transitions": [{"name": "go", "from": ["open"], "to": "done", "actions": [
                    {"name": "call", "action_type": "WEBHOOK",
                     "payload_template": {"connection_id": conn, "path": "/../../admin"}}]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("climb out"), "{problem}");

    // Rendered from a transition's data, it is refused at send with the reason recorded.
    app.publish_actions(
        "rendered",
        json!([{"name": "call", "action_type": "WEBHOOK",
                "retry": {"max_attempts": 1},
                "payload_template": {"connection_id": conn, "path": "/{{transition.data.p}}/x"}}]),
    )
    .await;
    for p in ["..", "%2e%2e", "a\\..\\..\\b"] {
        let job = app.run("rendered", "go", json!({"p": p})).await;
        let runs = app.settled_actions(&job).await;
        assert_eq!(runs[0]["status"], "failed", "{p}: {runs:?}");
        assert!(
            runs[0].to_string().contains("climb out"),
            "{p}: the reason is recorded: {runs:?}"
        );
    }
    assert!(
        receiver.requests().is_empty(),
        "nothing left for another path"
    );
}
