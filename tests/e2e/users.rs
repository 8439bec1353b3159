//! `/api/v1/users`: admins create, list and disable the people who sign in to the console.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::console::{browser, session_cookie, sign_in, PASSWORD};
use crate::support::TestApp;

#[tokio::test]
async fn admins_create_list_and_disable_users_through_the_api() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(
            "/api/v1/users",
            &app.key,
            json!({"email": "Bo@Example.com", "role": "auditor"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["email"], "bo@example.com");
    let password = created["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 12, "a generated password is shown once");
    let (status, given) = app
        .post(
            "/api/v1/users",
            &app.key,
            json!({"email": "cy@example.com", "role": "designer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        given["password"],
        Value::Null,
        "a given password is not echoed"
    );
    for (body, field) in [
        (json!({"email": "bo@example.com", "role": "admin"}), "email"),
        (json!({"email": "dee@example.com", "role": "owner"}), "role"),
        (
            json!({"email": "dee@example.com", "role": "admin", "password": "short"}),
            "password",
        ),
    ] {
        let (status, problem) = app.post("/api/v1/users", &app.key, body).await;
        assert!(
            status == StatusCode::CONFLICT || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{problem}"
        );
        assert_eq!(problem["field"], field, "{problem}");
    }
    let auditor = app.key_with(&["auditor"]).await;
    let (status, _) = app.get("/api/v1/users", &auditor).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only full keys manage users");

    let signed = sign_in(&app, "bo@example.com", &password).await;
    let cookie = session_cookie(&signed);
    let (_, list) = app.get("/api/v1/users", &app.key).await;
    let bo = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "bo@example.com")
        .unwrap()
        .clone();
    assert!(bo.get("password").is_none() && bo.get("password_hash").is_none());
    let id = bo["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/users/{id}"), &app.key).await,
        StatusCode::NO_CONTENT
    );
    // Disabled: the live session ends, and signing in again fails.
    let page = browser()
        .get(app.url("/admin/jobs"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let again = sign_in(&app, "bo@example.com", &password).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    // Another tenant's user is not found.
    let (_, other_key) = app.other_tenant("globex").await;
    let (_, theirs) = app
        .post(
            "/api/v1/users",
            &other_key,
            json!({"email": "eve@example.com", "role": "admin"}),
        )
        .await;
    let theirs = theirs["user_id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/users/{theirs}"), &app.key)
            .await,
        StatusCode::NOT_FOUND
    );
}
