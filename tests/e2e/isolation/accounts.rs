//! Accounts belong to a tenant: the same email may have an account in several tenants,
//! creating one reveals nothing about another tenant's, and sign-in asks for the
//! **Workspace** when one email and password open several.

use reqwest::StatusCode;
use serde_json::json;
use switchyard_engine::user::{self, Role};
use switchyard_engine::Actor;

use crate::console::{browser, session_cookie, PASSWORD};
use crate::support::TestApp;

async fn sign_in(app: &TestApp, email: &str, password: &str, workspace: &str) -> reqwest::Response {
    browser()
        .post(app.url("/admin/sign-in"))
        .header("origin", &app.base)
        .form(&[
            ("email", email),
            ("password", password),
            ("workspace", workspace),
            ("next", "/admin"),
        ])
        .send()
        .await
        .unwrap()
}

/// The tenant whose key a session of `cookie` acts with, from `/api/v1/users`.
async fn signed_in_tenant_sees(app: &TestApp, cookie: &str) -> Vec<String> {
    let resp = browser()
        .get(app.url("/api/v1/users"))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_same_email_has_an_account_in_each_tenant_and_reveals_none() {
    let a = TestApp::spawn().await;
    let b = a.neighbour("beta").await;
    let create = |email: &str| json!({"email": email, "role": "admin", "password": PASSWORD});
    let (status, body) = a
        .post("/api/v1/users", &a.key, create("ana@example.com"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // B can create the same address (any case): not "already exists", not reserved.
    let (status, body) = b
        .post("/api/v1/users", &b.key, create("ANA@example.com"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Within one tenant it is unique, case-insensitively.
    let (status, problem) = b
        .post("/api/v1/users", &b.key, create("Ana@Example.com"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["field"], "email");
    // Each tenant lists only its own.
    let (_, listed) = a.get("/api/v1/users", &a.key).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn sign_in_asks_for_the_workspace_when_one_email_opens_several() {
    let a = TestApp::spawn().await;
    let b = a.neighbour("beta").await;
    for (app, email) in [
        (&a, "bo@example.com"),
        (&b, "bo@example.com"),
        (&b, "cy@example.com"),
    ] {
        user::create(
            &app.pool,
            &Actor::operator(app.tenant_id),
            email,
            Role::Admin,
            PASSWORD,
        )
        .await
        .unwrap();
    }
    // One password opens both of bo's accounts: the page asks which.
    let ambiguous = sign_in(&a, "bo@example.com", PASSWORD, "").await;
    assert_eq!(ambiguous.status(), StatusCode::UNAUTHORIZED);
    assert!(ambiguous.headers().get("set-cookie").is_none());
    let page = ambiguous.text().await.unwrap();
    assert!(page.contains(">Workspace</label>"), "{page}");
    assert!(page.contains("more than one workspace"), "{page}");

    // Naming the workspace (any case) opens that tenant's account.
    let ok = sign_in(&a, "bo@example.com", PASSWORD, "BETA").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&ok);
    let seen = signed_in_tenant_sees(&a, &cookie).await;
    assert!(
        seen.contains(&"cy@example.com".to_string()),
        "signed in to beta: {seen:?}"
    );

    // A wrong workspace is a wrong sign-in, the same answer as a wrong password.
    let wrong = sign_in(&a, "bo@example.com", PASSWORD, "gamma").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("The email or password is wrong."));

    // One account: no workspace needed.
    let single = sign_in(&a, "cy@example.com", PASSWORD, "").await;
    assert_eq!(single.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn different_passwords_open_their_own_tenants_account() {
    let a = TestApp::spawn().await;
    let b = a.neighbour("beta").await;
    let other = "another good passphrase";
    user::create(
        &a.pool,
        &Actor::operator(a.tenant_id),
        "di@example.com",
        Role::Admin,
        PASSWORD,
    )
    .await
    .unwrap();
    user::create(
        &b.pool,
        &Actor::operator(b.tenant_id),
        "di@example.com",
        Role::Auditor,
        other,
    )
    .await
    .unwrap();
    let ok = sign_in(&a, "di@example.com", other, "").await;
    assert_eq!(
        ok.status(),
        StatusCode::SEE_OTHER,
        "the password picks beta's account"
    );
}

#[tokio::test]
async fn an_email_with_many_accounts_reveals_nothing_without_its_password() {
    let a = TestApp::spawn().await;
    let mut tenants = Vec::new();
    for name in ["one", "two", "three", "four"] {
        tenants.push((a.neighbour(name).await, name));
    }
    let newest = "the newest account's passphrase";
    for (i, (app, _)) in tenants.iter().enumerate() {
        let secret = if i == 3 { newest } else { PASSWORD };
        user::create(
            &app.pool,
            &Actor::operator(app.tenant_id),
            "ed@example.com",
            Role::Admin,
            secret,
        )
        .await
        .unwrap();
    }
    // A wrong password says only that: not how many workspaces the email has.
    let wrong = sign_in(&a, "ed@example.com", "not it at all", "").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("The email or password is wrong."), "{page}");
    assert!(!page.contains("more than one workspace"), "{page}");
    // The fourth account is past the three a sign-in checks: it opens with its workspace.
    let unnamed = sign_in(&a, "ed@example.com", newest, "").await;
    assert_eq!(unnamed.status(), StatusCode::UNAUTHORIZED);
    let named = sign_in(&a, "ed@example.com", newest, "four").await;
    assert_eq!(named.status(), StatusCode::SEE_OTHER);
}
