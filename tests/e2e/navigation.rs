//! The console's navigation and landing page, as each role sees them over plain HTTP.

use reqwest::StatusCode;
use switchyard_engine::user::Role;

use crate::console::{add_user, browser, session_cookie, sign_in, PASSWORD};
use crate::support::TestApp;

#[tokio::test]
async fn the_navigation_lists_only_the_pages_each_role_may_open_and_the_landing_says_what_next() {
    let app = TestApp::spawn().await;
    app.publish_fixture("purchase_approval").await;
    let job = app.create_job("purchase_approval").await;
    let job_link = format!("/admin/jobs/{}", job["id"].as_str().unwrap());
    let http = browser();
    for (email, role, expected) in [
        ("admin@example.com", Role::Admin, 7),
        ("designer@example.com", Role::Designer, 3),
        ("auditor@example.com", Role::Auditor, 2),
    ] {
        add_user(&app, email, role).await;
        let cookie = session_cookie(&sign_in(&app, email, PASSWORD).await);
        let page = |path: String| http.get(app.url(&path)).header("cookie", &cookie).send();
        let home = page("/admin".into()).await.unwrap().text().await.unwrap();
        let nav = &home[home.find("<nav").unwrap()..home.find("</nav>").unwrap()];
        let links: Vec<String> = nav
            .split("href=\"")
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].to_string())
            .collect();
        assert_eq!(links.len(), expected, "{role:?}: {links:?}");
        // The landing page: what each section is for, and the tenant's objects to go on to.
        assert!(home.contains("What to do next"), "{home}");
        let designs = role != Role::Auditor;
        assert_eq!(
            home.contains("/admin/workflows/purchase_approval"),
            designs,
            "{role:?}"
        );
        assert_eq!(home.contains(&job_link), role != Role::Designer, "{role:?}");
        for link in links {
            let resp = page(link.clone()).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{role:?} is shown {link}");
        }
    }
}
