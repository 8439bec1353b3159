//! Each provider gets exactly the request it expects, and webhook signatures verify with
//! an implementation written here, independently of the code under test.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;
use sha2::Sha256;
use switchyard_actions::providers::ProviderEndpoints;

use crate::support::http::test_worker;
use crate::support::receiver::Receiver;
use crate::support::TestApp;

fn action(connection: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    json!([{ "name": "call", "action_type": "WEBHOOK",
             "payload_template": { "connection_id": connection, "path": path, "body": body } }])
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn generic_rest_gets_base_url_plus_path_its_auth_header_and_the_rendered_json() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let conn = app
        .create_connection(
            "generic_rest",
            json!({"base_url": receiver.url("/api"), "auth_header": "Token abc123"}),
        )
        .await;
    app.publish_actions("rest", action(&conn, "/jobs/{{job.id}}/events", json!({
        "job_id": "{{job.id}}", "tenant_id": "{{tenant.id}}", "state": "{{job.current_state}}",
        "amount": "{{transition.data.amount}}", "note": "for {{transition.data.who}}"
    })))
    .await;
    let job = app
        .run("rest", "go", json!({"amount": 12.5, "who": "Ana"}))
        .await;
    let runs = app.settled_actions(&job).await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");

    let got = &receiver.wait_for(1).await[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, format!("/api/jobs/{job}/events"));
    assert_eq!(got.header("authorization"), "Token abc123");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.header("idempotency-key"),
        runs[0]["id"].as_str().unwrap()
    );
    assert_eq!(got.header("webhook-id"), runs[0]["id"].as_str().unwrap());
    assert_eq!(
        got.json(),
        json!({"job_id": job, "tenant_id": app.tenant_id.to_string(), "state": "done", "amount": 12.5, "note": "for Ana"})
    );
}

#[tokio::test]
async fn twilio_and_sendgrid_get_their_published_api_shapes() {
    let fake = Receiver::start(|req, _| {
        if req.path.contains("/2010-04-01/") {
            crate::support::receiver::Reply::status(201).body("{\"sid\": \"SM1\"}")
        } else {
            crate::support::receiver::Reply::status(202).body("")
        }
    })
    .await;
    let endpoints = ProviderEndpoints {
        twilio_base: fake.url(""),
        sendgrid_base: fake.url(""),
    };
    let app = TestApp::spawn_with(test_worker(endpoints, true)).await;
    let twilio = app
        .create_connection(
            "twilio",
            json!({"account_sid": "AC00000000000000000000000000000042", "auth_token": "tw-token"}),
        )
        .await;
    let sendgrid = app
        .create_connection("sendgrid", json!({"api_key": "SG.key"}))
        .await;
    app.publish_actions("notify", json!([
        {"name": "sms", "action_type": "WEBHOOK", "payload_template": {"connection_id": twilio, "path": "/Messages.json",
            "body": {"To": "{{transition.data.phone}}", "From": "+15550000", "Body": "Job {{job.id}} is {{job.current_state}}"}}},
        {"name": "mail", "action_type": "WEBHOOK", "payload_template": {"connection_id": sendgrid, "path": "/mail/send",
            "body": {"personalizations": [{"to": [{"email": "ops@example.com"}]}], "subject": "Job {{job.current_state}}"}}}
    ]))
    .await;
    let job = app.run("notify", "go", json!({"phone": "+15551234"})).await;
    let runs = app.settled_actions(&job).await;
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:?}");

    let requests = fake.wait_for(2).await;
    let sms = &requests[0];
    assert_eq!(sms.method, "POST");
    assert_eq!(
        sms.path,
        "/2010-04-01/Accounts/AC00000000000000000000000000000042/Messages.json"
    );
    let basic = base64::engine::general_purpose::STANDARD
        .encode("AC00000000000000000000000000000042:tw-token");
    assert_eq!(sms.header("authorization"), format!("Basic {basic}"));
    assert_eq!(
        sms.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = url_decode(&sms.body);
    assert!(form.contains(&("To".into(), "+15551234".into())));
    assert!(form.contains(&("Body".into(), format!("Job {job} is done"))));

    let mail = &requests[1];
    assert_eq!(mail.path, "/v3/mail/send");
    assert_eq!(mail.header("authorization"), "Bearer SG.key");
    assert_eq!(mail.header("content-type"), "application/json");
    assert_eq!(mail.json()["subject"], "Job done");
    assert!(sms.at <= mail.at, "actions of one transition run in order");
}

fn url_decode(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn webhook_requests_carry_signatures_a_receiver_can_verify() {
    let receiver = Receiver::ok().await;
    let app = TestApp::spawn().await;
    let secret = "whsec_".to_string()
        + &base64::engine::general_purpose::STANDARD.encode(b"0123456789abcdef0123456789abcdef");
    let conn = app
        .create_connection(
            "webhook",
            json!({"webhook_url": receiver.url("/hooks/catch/1/abc"), "signing_secret": secret}),
        )
        .await;
    app.publish_actions(
        "hooked",
        action(
            &conn,
            "",
            json!({"job_id": "{{job.id}}", "state": "{{job.current_state}}"}),
        ),
    )
    .await;
    let job = app.run("hooked", "go", json!({})).await;
    assert_eq!(app.settled_actions(&job).await[0]["status"], "succeeded");
    let got = &receiver.wait_for(1).await[0];
    assert_eq!(got.path, "/hooks/catch/1/abc");

    // Standard Webhooks: base64(HMAC-SHA256(base64-decoded whsec key, "id.timestamp.body")).
    let id = got.header("webhook-id");
    let ts = got.header("webhook-timestamp");
    let key = base64::engine::general_purpose::STANDARD
        .decode(&secret["whsec_".len()..])
        .unwrap();
    let signed = [id.as_bytes(), b".", ts.as_bytes(), b".", &got.body].concat();
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(&key, &signed))
    );
    assert_eq!(got.header("webhook-signature"), expected);
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..60).contains(&age));

    // Seed 000: lowercase hex HMAC-SHA256 over "<timestamp>.<raw body>" with the secret's bytes.
    let ots = got.header("x-opensend-timestamp");
    let raw = [ots.as_bytes(), b".", &got.body].concat();
    assert_eq!(
        got.header("x-opensend-signature"),
        hex::encode(hmac_sha256(secret.as_bytes(), &raw))
    );

    // The body is compact JSON: parsing and re-serialising reproduces it byte for byte.
    let reparsed = serde_json::to_vec(&got.json()).unwrap();
    assert_eq!(reparsed, got.body);
    let (status, conn_now) = app
        .get(&format!("/api/v1/tenant/connections/{conn}"), &app.key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conn_now["health"], "healthy");
    assert!(conn_now["last_event_at"].is_string());
}
