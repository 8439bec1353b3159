//! The console's accounts and sessions: `switchyard user create`, signing in and out,
//! the session cookie, the API with a session (its role's scope, same-origin only), and
//! the sign-in throttle.

use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchyard_api::throttle::RequestLimits;
use switchyard_engine::user::{self, Role};
use switchyard_engine::Actor;

use crate::support::cluster::fresh_database;
use crate::support::{eventually, TestApp};

pub const PASSWORD: &str = "correct horse battery staple";

/// A client that, like a browser's first request, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// A person of the app's tenant with `role` and [`PASSWORD`].
pub async fn add_user(app: &TestApp, email: &str, role: Role) {
    user::create(
        &app.pool,
        &Actor::operator(app.tenant_id),
        email,
        role,
        PASSWORD,
    )
    .await
    .unwrap();
}

/// Signs in and returns the session cookie's value.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    browser()
        .post(app.url("/admin/sign-in"))
        .header("origin", &app.base)
        .form(&[("email", email), ("password", password), ("next", "/admin")])
        .send()
        .await
        .unwrap()
}

pub fn session_cookie(resp: &reqwest::Response) -> String {
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{flag} missing from {set}");
    }
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn signed_out_pages_lead_to_sign_in_and_signing_in_and_out_works() {
    let app = TestApp::spawn().await;
    add_user(&app, "ana@example.com", Role::Admin).await;
    let http = browser();
    let resp = http.get(app.url("/admin/jobs")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        "/admin/sign-in?next=%2Fadmin%2Fjobs"
    );

    let resp = http.get(app.url("/admin/sign-in")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = resp.text().await.unwrap();
    for needle in [
        r#"<label for="email">Email</label>"#,
        r#"<input id="email" name="email""#,
        r#"<label for="password">Password</label>"#,
        r#"<input id="password" name="password" type="password""#,
        r#"<button type="submit">Sign in</button>"#,
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    assert_eq!(
        html.matches("<script").count(),
        html.matches(r#"<script src="/admin/assets/console.js" defer></script>"#)
            .count(),
        "no inline script, only the console's own file"
    );

    let wrong = sign_in(&app, "ana@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("The email or password is wrong."));
    let unknown = sign_in(&app, "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let ok = sign_in(&app, "ANA@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/admin");
    let cookie = session_cookie(&ok);
    let page = http
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("ana@example.com (admin)"));

    // Signing out needs this origin, revokes the session and clears the cookie.
    let cross = http
        .post(app.url("/admin/sign-out"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let out = http
        .post(app.url("/admin/sign-out"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = http
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
}

#[tokio::test]
async fn a_session_calls_the_api_as_its_role_and_only_from_this_origin() {
    let app = TestApp::spawn().await;
    add_user(&app, "admin@example.com", Role::Admin).await;
    add_user(&app, "audit@example.com", Role::Auditor).await;
    let http = browser();
    let admin = session_cookie(&sign_in(&app, "admin@example.com", PASSWORD).await);
    let auditor = session_cookie(&sign_in(&app, "audit@example.com", PASSWORD).await);
    let definition = json!({"name": "by_session", "initial": "a",
        "states": [{"name": "a"}, {"name": "b", "terminal": true}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b"}]});
    let publish = |cookie: &str, same_origin: bool| {
        let mut req = http
            .post(app.url("/api/v1/workflows"))
            .header("cookie", cookie)
            .json(&definition);
        if same_origin {
            req = req.header("sec-fetch-site", "same-origin");
        }
        req.send()
    };
    let cross = publish(&admin, false).await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let (_, problem) = crate::support::http::read(cross).await;
    assert_eq!(problem["type"], "/problems/cross-site-request");
    let created = publish(&admin, true).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    // The auditor reads, and is refused anything else.
    let refused = publish(&auditor, true).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // (Readers return an event once every older transaction has ended.)
    let published = eventually(
        "the event to be listed",
        Duration::from_secs(10),
        || async {
            let events = http
                .get(app.url("/api/v1/events?type=workflow.published"))
                .header("cookie", &auditor)
                .send()
                .await
                .unwrap();
            assert_eq!(events.status(), StatusCode::OK);
            let events: Value = events.json().await.unwrap();
            events["items"]
                .as_array()
                .and_then(|items| items.first().cloned())
        },
    )
    .await;
    assert!(
        published["metadata"]["actor_user_id"].is_string(),
        "the event names the person: {published}"
    );
    // A key sent with a dead session cookie is refused: every credential presented must hold.
    for cookie in [
        "switchyard_session=made-up",
        "switchyard_session=",
        "a=b; switchyard_session = \"x\"",
    ] {
        let resp = http
            .get(app.url("/api/v1/workflows"))
            .bearer_auth(&app.key)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{cookie}");
    }
    // A revoked or made-up session is 401, as a bad key is.
    let resp = http
        .get(app.url("/api/v1/workflows"))
        .header("cookie", "switchyard_session=made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_planted_session_is_replaced_at_sign_in_and_guessing_passwords_is_throttled() {
    let limits = RequestLimits {
        tenant_per_second: 0,
        auth_failures_per_minute: 3,
        intake_per_second: 0,
    };
    let app = TestApp::spawn_with_limits(limits).await;
    add_user(&app, "bo@example.com", Role::Designer).await;
    let first = session_cookie(&sign_in(&app, "bo@example.com", PASSWORD).await);
    // Signing in again with that cookie present ends it and issues a new one.
    let again = browser()
        .post(app.url("/admin/sign-in"))
        .header("origin", &app.base)
        .header("cookie", &first)
        .form(&[("email", "bo@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let second = session_cookie(&again);
    assert_ne!(first, second);
    let old = browser()
        .get(app.url("/admin"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::SEE_OTHER);
    // Submitted text comes back escaped.
    let echoed = sign_in(&app, "<script>alert(1)</script>", "x").await;
    let html = echoed.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert"));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            sign_in(&app, "bo@example.com", "wrong password!")
                .await
                .status(),
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let blocked = sign_in(&app, "bo@example.com", PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn user_create_prints_one_json_line_with_the_password_shown_once() {
    let db = fresh_database().await;
    let pool = switchyard_engine::store::connect(&db, 2).unwrap();
    let tenant = switchyard_engine::tenant::create(&pool, "people")
        .await
        .unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = std::process::Command::new(crate::embedded::binary());
        cmd.args(["user", "create", "--tenant", &tenant.to_string()])
            .args(args)
            .env("DATABASE_URL", &db)
            .env(
                "INTEGRATION_SECRET_ENCRYPTION_KEY",
                "a test key that is long enough",
            )
            .env("RUST_LOG", "error")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let out = run(&["--email", "Cy@Example.com", "--role", "designer"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["email"], "cy@example.com");
    assert_eq!(printed["role"], "designer");
    assert!(printed["user_id"].is_string());
    let password = printed["password"].as_str().unwrap();
    assert!(password.len() >= 20);
    let signed = switchyard_engine::user::session::sign_in(&pool, "cy@example.com", password, None)
        .await
        .unwrap();
    assert!(
        matches!(
            signed,
            switchyard_engine::user::session::SignIn::SignedIn(..)
        ),
        "the printed password signs in"
    );

    let out = run(
        &[
            "--email",
            "di@example.com",
            "--role",
            "auditor",
            "--password-stdin",
        ],
        Some("a password from stdin\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        printed["password"].is_null(),
        "a chosen password is not echoed"
    );

    for (args, message) in [
        (
            vec!["--email", "cy@example.com", "--role", "admin"],
            "already exists",
        ),
        (
            vec!["--email", "ed@example.com", "--role", "owner"],
            "--role must be one of",
        ),
        (vec!["--email", "not an email", "--role", "admin"], "email"),
    ] {
        let out = run(&args, None);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}
