//! The round trip the intake exists for: a job's action texts through the `twilio`
//! provider; Twilio (a receiver on 127.0.0.1 here) answers and then posts signed status
//! callbacks to the intake endpoint, whose routes move the job on.

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::providers::ProviderEndpoints;

use super::twilio_signature;
use crate::support::http::test_worker;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token-for-tests";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Twilio: a message resource for each message, then the callbacks its `StatusCallback`
/// asks for, `sent` and then `delivered`, each signed with the auth token.
async fn fake_twilio() -> Receiver {
    Receiver::start(|req, _| {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (callback, to) = (field("StatusCallback"), field("To"));
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for status in ["sent", "delivered"] {
                let form = [
                    ("AccountSid", ACCOUNT),
                    ("MessageSid", "SM00000000000000000000000000000001"),
                    ("MessageStatus", status),
                    ("SmsStatus", status),
                    ("To", to.as_str()),
                    ("From", "+15005550006"),
                    ("ApiVersion", "2010-04-01"),
                ];
                let signature = twilio_signature(TOKEN, &callback, &form);
                let resp = http
                    .post(&callback)
                    .header("x-twilio-signature", signature)
                    .header("i-twilio-idempotency-token", format!("idem-{status}"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    resp.status(),
                    StatusCode::OK,
                    "{}",
                    resp.text().await.unwrap()
                );
            }
        });
        Reply::status(201)
            .body("{\"sid\": \"SM00000000000000000000000000000001\", \"status\": \"queued\"}")
    })
    .await
}

#[tokio::test]
async fn a_texted_customer_moves_the_job_to_delivered_when_twilio_calls_back() {
    let twilio = fake_twilio().await;
    let endpoints = ProviderEndpoints {
        twilio_base: twilio.url(""),
        sendgrid_base: twilio.url(""),
    };
    let app = TestApp::spawn_with(test_worker(endpoints, true)).await;
    let connection = app
        .create_connection(
            "twilio",
            json!({"account_sid": ACCOUNT, "auth_token": TOKEN}),
        )
        .await;
    // The workflow first: the endpoint's routes are checked against it.
    let workflow =
        fixture("workflows/sms_delivery.json").replace("$TWILIO_CONNECTION_ID", &connection);
    let placeholder: Value =
        serde_json::from_str(&workflow.replace("$INTAKE_URL", "http://x")).unwrap();
    app.publish(placeholder).await;
    let endpoint: Value = serde_json::from_str(
        &fixture("intake/twilio_status.json").replace("$TWILIO_AUTH_TOKEN", TOKEN),
    )
    .unwrap();
    let created = app.intake_endpoint(endpoint).await;
    assert!(
        created.get("secret").is_none() || created["secret"].is_null(),
        "{created}"
    );
    assert_eq!(
        created["verify"],
        json!({"scheme": "twilio"}),
        "no secret is shown"
    );
    let url = created["url"].as_str().unwrap().to_string();
    assert_eq!(
        url,
        app.url(&format!("/in/{}", created["id"].as_str().unwrap()))
    );
    app.publish(serde_json::from_str(&workflow.replace("$INTAKE_URL", &url)).unwrap())
        .await;

    let (status, job) = app
        .post(
            "/api/v1/jobs",
            &app.key,
            json!({"workflow": "sms_delivery", "context": {"phone": "+15558675310"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_str().unwrap().to_string();
    let (status, moved) = app
        .transition(&job_id, json!({"transition": "send_sms"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");

    let sms = &twilio.wait_for(1).await[0];
    assert!(sms
        .path
        .ends_with(&format!("/Accounts/{ACCOUNT}/Messages.json")));
    let sent: Vec<(String, String)> = url::form_urlencoded::parse(&sms.body)
        .into_owned()
        .collect();
    assert!(sent.contains(&("StatusCallback".into(), format!("{url}?job={job_id}"))));

    let delivered = eventually(
        "the job delivered",
        std::time::Duration::from_secs(30),
        || async {
            let (_, job) = app.get(&format!("/api/v1/jobs/{job_id}"), &app.key).await;
            (job["state"] == "sms_delivered").then_some(job)
        },
    )
    .await;
    assert_eq!(delivered["version"], 2);
    let moves = app.job_events(&job_id, "job.transitioned").await;
    let last = moves.last().unwrap();
    assert_eq!(
        last["data"]["data"],
        json!({"message_sid": "SM00000000000000000000000000000001",
               "message_status": "delivered", "to": "+15558675310"}),
        "the callback's fields are the transition's data: {last}"
    );
    assert_eq!(last["metadata"]["actor"], "intake");
    assert_eq!(last["metadata"]["intake_endpoint_id"], created["id"]);

    // Receipts: `sent` matched no route, `delivered` applied; the job's filter finds it.
    let receipts = app.receipts(created["id"].as_str().unwrap()).await;
    let outcomes: Vec<&str> = receipts
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "unmatched"], "{receipts:?}");
    assert_eq!(receipts[0]["event_id"], last["id"]);
    assert_eq!(last["metadata"]["intake_receipt_id"], receipts[0]["id"]);
    assert_eq!(receipts[0]["delivery_id"], "idem-delivered");
    assert!(receipts[0]["headers"].get("x-twilio-signature").is_none());
    assert_eq!(receipts[1]["detail"]["reason"], "no route's when holds");
    let (_, of_job) = app
        .get(
            &format!(
                "/api/v1/intake/{}/receipts?job_id={job_id}",
                created["id"].as_str().unwrap()
            ),
            &app.key,
        )
        .await;
    assert_eq!(of_job["items"].as_array().unwrap().len(), 1);
}
