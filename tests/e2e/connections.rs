//! Connections (seed 003): shapes checked per provider, credentials encrypted and never
//! returned, metadata-only events, deletion refused while a workflow uses them.

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_actions::deliveries::subscriptions::{self, SubscriptionInput};
use switchyard_actions::vault::{rotate, EncryptionKey, KeySources, Keyring};
use switchyard_engine::connection::Connection;
use switchyard_engine::sealed::SealedRow;
use switchyard_engine::subscription::Subscription;

use crate::support::TestApp;

const SECRET_TOKEN: &str = "tok-SECRET-7f3a9c";
const SECRET_HEADER: &str = "Bearer hdr-SECRET-51be02";
const SECRET_PATH: &str = "catch/123/SECRETPATH";

#[tokio::test]
async fn given_connections_for_each_provider_then_no_response_or_event_shows_a_credential() {
    let app = TestApp::spawn().await;
    let created = [
        (
            "twilio",
            json!({"account_sid": "AC00000000000000000000000000000001", "auth_token": SECRET_TOKEN}),
        ),
        ("sendgrid", json!({"api_key": SECRET_TOKEN})),
        (
            "generic_rest",
            json!({"base_url": "https://api.example.com/v2", "auth_header": SECRET_HEADER}),
        ),
        (
            "webhook",
            json!({"webhook_url": format!("https://hooks.zapier.com/hooks/{SECRET_PATH}"), "signing_secret": SECRET_TOKEN}),
        ),
    ];
    let mut seen = String::new();
    for (provider, credentials) in created {
        let (status, body) = app
            .post("/api/v1/tenant/connections", &app.key, json!({"provider": provider, "connection_name": provider, "credentials": credentials}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["health"], "unknown");
        assert!(body.get("credentials").is_none());
        seen.push_str(&body.to_string());
        let (_, one) = app
            .get(
                &format!(
                    "/api/v1/tenant/connections/{}",
                    body["id"].as_str().unwrap()
                ),
                &app.key,
            )
            .await;
        seen.push_str(&one.to_string());
    }
    let (_, list) = app.get("/api/v1/tenant/connections", &app.key).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    seen.push_str(&list.to_string());
    let webhook = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["provider"] == "webhook")
        .unwrap();
    assert_eq!(webhook["endpoint_preview"], "https://hooks.zapier.com/…");

    // Rename one, replace another's credentials.
    let id = webhook["id"].as_str().unwrap();
    let new_creds = json!({"webhook_url": "https://hook.eu1.make.com/SECRETPATH2", "signing_secret": SECRET_TOKEN});
    let resp = app
        .http
        .patch(app.url(&format!("/api/v1/tenant/connections/{id}")))
        .bearer_auth(&app.key)
        .json(&json!({"connection_name": "Make scenario", "credentials": new_creds}))
        .send()
        .await
        .unwrap();
    let (status, patched) = crate::support::http::read(resp).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["connection_name"], "Make scenario");
    assert_eq!(patched["endpoint_preview"], "https://hook.eu1.make.com/…");
    seen.push_str(&patched.to_string());

    // The gap-safe reader may hold a fresh event back while another transaction is open.
    let events = crate::support::eventually(
        "the connection events",
        std::time::Duration::from_secs(20),
        || async {
            let events = app.all_events(100).await;
            let count = events
                .iter()
                .filter(|e| e["type"].as_str().unwrap().starts_with("connection."))
                .count();
            (count == 5).then_some(events)
        },
    )
    .await;
    seen.push_str(&Value::Array(events).to_string());
    for secret in [
        SECRET_TOKEN,
        SECRET_HEADER,
        "hdr-SECRET",
        SECRET_PATH,
        "SECRETPATH2",
    ] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
    let client = app.pool.get().await.unwrap();
    let stored: Vec<u8> = client
        .query_one(
            "SELECT ciphertext FROM connections WHERE provider = 'sendgrid'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        !String::from_utf8_lossy(&stored).contains(SECRET_TOKEN),
        "stored encrypted"
    );
}

#[tokio::test]
async fn given_bad_connections_then_422_names_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (
            json!({"provider": "mailchimp", "connection_name": "x", "credentials": {}}),
            "provider",
        ),
        (
            json!({"provider": "twilio", "connection_name": "x", "credentials": {"account_sid": "AC1"}}),
            "credentials.auth_token",
        ),
        (
            json!({"provider": "twilio", "connection_name": "x",
                   "credentials": {"account_sid": "AC1/../../other", "auth_token": "t"}}),
            "credentials.account_sid",
        ),
        (
            json!({"provider": "generic_rest", "connection_name": "x",
                   "credentials": {"base_url": "https://crm.test", "auth_header": "Bearer t\r\nX-Injected: 1"}}),
            "credentials.auth_header",
        ),
        (
            json!({"provider": "sendgrid", "connection_name": "x", "credentials": {"api_key": 5}}),
            "credentials.api_key",
        ),
        (
            json!({"provider": "generic_rest", "connection_name": "x", "credentials": {"base_url": "not a url"}}),
            "credentials.base_url",
        ),
        (
            json!({"provider": "webhook", "connection_name": "x", "credentials": {"webhook_url": "https://x.test", "colour": "red"}}),
            "credentials.colour",
        ),
        (
            json!({"provider": "webhook", "connection_name": " ", "credentials": {"webhook_url": "https://x.test"}}),
            "connection_name",
        ),
    ] {
        let (status, problem) = app
            .post("/api/v1/tenant/connections", &app.key, body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{problem}");
    }
}

#[tokio::test]
async fn given_a_connection_in_use_then_delete_is_refused_naming_the_workflow() {
    let app = TestApp::spawn().await;
    let id = app
        .create_connection("webhook", json!({"webhook_url": "https://x.test/hook"}))
        .await;
    let (status, problem) = app
        .post("/api/v1/workflows", &app.key, json!({
            "name": "uses_missing", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
            "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
                {"name": "n", "action_type": "WEBHOOK", "payload_template": {"connection_id": uuid::Uuid::new_v4()}}]}]
        }))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown connection is refused at publish"
    );
    assert_eq!(
        problem["errors"][0]["path"],
        "$.transitions[0].actions[0].payload_template.connection_id"
    );
    app.publish(json!({
        "name": "notifier", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
            {"name": "n", "action_type": "WEBHOOK", "payload_template": {"connection_id": id}}]}]
    }))
    .await;
    let delete = |id: String| {
        let app = &app;
        async move {
            let resp = app
                .http
                .delete(app.url(&format!("/api/v1/tenant/connections/{id}")))
                .bearer_auth(&app.key)
                .send()
                .await
                .unwrap();
            crate::support::http::read(resp).await
        }
    };
    let (status, problem) = delete(id.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("notifier"));
    let (_, intruder) = app.other_tenant("intruder").await;
    let (status, _) = app
        .get(&format!("/api/v1/tenant/connections/{id}"), &intruder)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let unused = app
        .create_connection("sendgrid", json!({"api_key": "k"}))
        .await;
    let (status, _) = delete(unused.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(&format!("/api/v1/tenant/connections/{unused}"), &app.key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ciphertext_is_bound_to_its_row_and_rotation_round_trips() {
    let app = TestApp::spawn().await;
    let (first, first_hex) = EncryptionKey::generate();
    let first_id = first.id().to_string();
    let keyring = Keyring::single(first);
    let endpoints = Default::default();
    let actor = switchyard_engine::Actor::operator(app.tenant_id);
    let mut ids = Vec::new();
    for n in 0..3 {
        let input = switchyard_actions::connections::ConnectionInput {
            provider: "sendgrid".into(),
            connection_name: format!("c{n}"),
            credentials: json!({"api_key": format!("key-{n}")}),
            limits: Default::default(),
        };
        ids.push(
            switchyard_actions::connections::create(
                &app.pool,
                &switchyard_actions::connections::Sealer {
                    keyring: &keyring,
                    endpoints: &endpoints,
                    policy: &Default::default(),
                    secret_overlap: std::time::Duration::from_secs(60),
                },
                &actor,
                input,
            )
            .await
            .unwrap()
            .id,
        );
    }
    // A subscription's URL and secret are sealed the same way and rotate with the rest.
    let subscription = subscriptions::create(
        &app.pool,
        &keyring,
        &Default::default(),
        &Default::default(),
        &actor,
        SubscriptionInput {
            name: "rotating".into(),
            url: "https://example.com/hook/s3cr3t".into(),
            event_types: vec!["job.*".into()],
            secret: Some("hook-secret".into()),
            enabled: None,
            limits: Default::default(),
            backfill: None,
        },
    )
    .await
    .unwrap()
    .0;
    let client = app.pool.get().await.unwrap();
    let (_, sealed) = Connection::sealed(&client, app.tenant_id, ids[0])
        .await
        .unwrap()
        .unwrap();
    let plain = keyring
        .decrypt(app.tenant_id.0, ids[0], &sealed.ciphertext, &sealed.key_id)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(plain.expose()).unwrap()["api_key"],
        "key-0"
    );
    // The same ciphertext does not open for another connection or tenant.
    assert!(keyring
        .decrypt(app.tenant_id.0, ids[1], &sealed.ciphertext, &sealed.key_id)
        .is_err());
    assert!(keyring
        .decrypt(
            uuid::Uuid::new_v4(),
            ids[0],
            &sealed.ciphertext,
            &sealed.key_id
        )
        .is_err());

    // A wrong key fails clearly, naming the key id the row needs.
    let stranger = Keyring::single(EncryptionKey::generate().0);
    let err = stranger
        .decrypt(app.tenant_id.0, ids[0], &sealed.ciphertext, &sealed.key_id)
        .unwrap_err();
    assert!(err.to_string().contains(&first_id), "{err}");

    // Rotate to a new key with the first as an old key; afterwards the new key alone reads all.
    let second_material = "a brand new passphrase for the rotation";
    let sources = KeySources {
        integration_key: Some(second_material.into()),
        old_keys: vec![first_hex],
        ..Default::default()
    };
    let rotating = Keyring::load(&sources, None).unwrap();
    let outcome = rotate::rotate(&app.pool, &rotating).await.unwrap();
    assert_eq!((outcome.rotated, outcome.already_current), (4, 0));
    let only_new = Keyring::load(
        &KeySources {
            integration_key: Some(second_material.into()),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    for (n, id) in ids.iter().enumerate() {
        let (_, sealed) = Connection::sealed(&client, app.tenant_id, *id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sealed.key_id, only_new.current_id());
        let plain = only_new
            .decrypt(app.tenant_id.0, *id, &sealed.ciphertext, &sealed.key_id)
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(plain.expose()).unwrap()["api_key"],
            format!("key-{n}")
        );
    }
    let (_, sealed) = Subscription::sealed(&client, app.tenant_id, subscription.id)
        .await
        .unwrap()
        .unwrap();
    let target = subscriptions::open(&only_new, app.tenant_id, subscription.id, &sealed).unwrap();
    assert_eq!(target.url, "https://example.com/hook/s3cr3t");
    assert_eq!(target.secret.as_deref(), Some("hook-secret"));
    assert!(
        Keyring::load(&KeySources::default(), None).is_err(),
        "no key and no key file: refuse"
    );
}
