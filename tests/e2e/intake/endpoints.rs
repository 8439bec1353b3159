//! Managing intake endpoints: secrets go in and never come out, a made secret is shown
//! once, every problem names its field, and another tenant's endpoints are not there.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn secrets_never_come_back_and_a_made_one_is_shown_once() {
    let app = TestApp::spawn().await;
    let stripe = app
        .intake_endpoint(json!({"name": "stripe", "verify": {"scheme": "stripe", "secret": "whsec_given", "tolerance": "2m"}}))
        .await;
    assert!(
        stripe["secret"].is_null(),
        "a given secret is not echoed: {stripe}"
    );
    assert_eq!(
        stripe["verify"],
        json!({"scheme": "stripe", "tolerance": "2m"})
    );
    assert_eq!(stripe["routes"], json!([]));
    assert!(stripe["createdAt"].is_string());
    let made = app
        .intake_endpoint(json!({"name": "hooks", "verify": {"scheme": "standard_webhooks"}}))
        .await;
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let id = made["id"].as_str().unwrap();
    // A v4 id: the address is not guessable from the time it was made.
    assert_eq!(&id[14..15], "4", "{id}");

    let (status, shown) = app.get(&format!("/api/v1/intake/{id}"), &app.key).await;
    assert_eq!(status, StatusCode::OK);
    assert!(shown["secret"].is_null());
    let (_, listed) = app.get("/api/v1/intake", &app.key).await;
    let text = listed.to_string();
    assert!(
        !text.contains(secret) && !text.contains("whsec_given"),
        "{text}"
    );
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // A new secret is made again on a PATCH of `verify`, and shown in that answer only.
    let (status, patched) = app
        .patch(
            &format!("/api/v1/intake/{id}"),
            &app.key,
            json!({"name": "renamed", "verify": {"scheme": "standard_webhooks"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "renamed");
    assert!(patched["secret"].as_str().unwrap() != secret);

    // Another tenant sees none of it.
    let other = app.neighbour("other").await;
    let (status, _) = other.get(&format!("/api/v1/intake/{id}"), &other.key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = other.get("/api/v1/intake", &other.key).await;
    assert_eq!(theirs["items"], json!([]));

    assert_eq!(
        app.delete(&format!("/api/v1/intake/{id}"), &app.key).await,
        StatusCode::NO_CONTENT
    );
    let resp = app
        .http
        .post(app.url(&format!("/in/{id}")))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "a deleted endpoint's address is gone"
    );
}

#[tokio::test]
async fn problems_name_the_field_and_routes_are_checked_against_the_workflow() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let cases = [
        (
            json!({"name": "x", "verify": {"scheme": "fax"}}),
            "verify.scheme",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "twilio"}}),
            "verify.secret",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "slack", "secret": "s", "tolerance": "3h"}}),
            "verify.tolerance",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "hmac_sha256"}}),
            "verify.header",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "github"}, "routes": [{"job": {"id": "{{body.id}}"}}]}),
            "routes[0].transition",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "github"}, "routes": [{"job": {"id": "{{#each"}, "transition": "t"}]}),
            "routes[0].job.id",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "github"}, "routes": [{"job": {"id": "{{body.id}}"}, "transition": "t", "when": {"bogus": []}}]}),
            "routes[0].when",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "github"}, "routes": [{"job": {"id": "{{body.id}}", "workflow": "purchase_approval"}, "transition": "teleport"}]}),
            "routes[0].transition",
        ),
        (
            json!({"name": "x", "verify": {"scheme": "github"}, "routes": [{"job": {"external_id": "{{body.id}}"}, "create": {"workflow": "nowhere"}}]}),
            "routes[0].create.workflow",
        ),
    ];
    for (body, field) in cases {
        let (status, problem) = app.post("/api/v1/intake", &app.key, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    let (_, listed) = app.get("/api/v1/intake", &app.key).await;
    assert_eq!(listed["items"], json!([]), "nothing half-written");
}

#[tokio::test]
async fn a_tenant_holds_at_most_100_endpoints() {
    let app = TestApp::spawn().await;
    for i in 0..100 {
        app.intake_endpoint(json!({"name": format!("e{i}"), "verify": {"scheme": "github"}}))
            .await;
    }
    let (status, problem) = app
        .post(
            "/api/v1/intake",
            &app.key,
            json!({"name": "one more", "verify": {"scheme": "github"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["type"], "/problems/quota-exceeded");
}
