//! The console in a real headless Chromium: sign-in, the seed 000 flow, New connection,
//! the designer, a job's live timeline, subscriptions, intake, the auditor's read-only view,
//! escaping, tenant isolation, and every page at desktop and phone widths without a
//! browser-console error. With `SWITCHYARD_SCREENSHOTS` set, the tests save the README's
//! screenshots.

mod designer;
mod driver;
mod flows;
mod forms;
mod intake;
mod isolation;
mod pages;

use switchyard_engine::user::Role;

pub(crate) use crate::console::{add_user, PASSWORD};
use crate::support::TestApp;
use driver::Browser;

/// The app, and a browser signed in as a person of its tenant with `role`.
async fn signed_in(role: Role) -> (TestApp, Browser) {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", role.as_str());
    add_user(&app, &email, role).await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in(&email, PASSWORD).await;
    (app, browser)
}

/// Asserts the browser's console stayed clean on `what`.
async fn assert_no_console_errors(browser: &Browser, what: &str) {
    assert_console_errors_only(browser, what, &[]).await;
}

/// As [`assert_no_console_errors`], except for the failed loads a test provokes on
/// purpose: the browser logs every 4xx answer, including a validation error the page shows.
async fn assert_console_errors_only(browser: &Browser, what: &str, expected: &[&str]) {
    let errors = browser.console_errors().await;
    let unexpected: Vec<_> = errors
        .iter()
        .filter(|e| !expected.iter().any(|x| e.contains(x)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{what}: browser console errors: {unexpected:#?}"
    );
}
