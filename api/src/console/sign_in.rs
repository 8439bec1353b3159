//! Signing in and out. A sign-in always starts a new session with a new token (and ends
//! the one the browser already had), so a token planted before sign-in is worthless; the
//! cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` when the console is reached over
//! https. Each sign-in takes one of the address's failed-authentication tokens before the
//! password is checked (a success gives it back), so guesses sent at once count like
//! guesses sent in turn; when every password check of the process is busy the answer is
//! 429 at once. A sign-in must come from the console's own pages (no login CSRF).

use poem::http::{header, StatusCode};
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;
use serde_json::json;
use switchyard_engine::user::session::{self, SignIn};

use super::render::render;
use super::see_other;
use crate::auth::session_token;
use crate::auth::{same_origin, SESSION_COOKIE};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
    /// The tenant's name, when one email opens several.
    workspace: Option<String>,
    next: Option<String>,
}

/// Where to go after signing in: a console address, never another site.
fn destination(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/admin")
                && !n.contains("//")
                && !n.contains('\\')
                && n.len() <= 512
                && !n.starts_with("/admin/sign-") =>
        {
            n.to_string()
        }
        _ => "/admin".to_string(),
    }
}

fn page(status: StatusCode, next: &str, email: &str, error: Option<&str>) -> Response {
    form_page(status, next, email, "", false, error)
}

/// The sign-in page; `ask_workspace` makes the **Workspace** field required and says why.
fn form_page(
    status: StatusCode,
    next: &str,
    email: &str,
    workspace: &str,
    ask_workspace: bool,
    error: Option<&str>,
) -> Response {
    render(
        status,
        "Sign in",
        "sign_in",
        json!({"next": next, "email": email, "workspace": workspace,
               "ask_workspace": ask_workspace, "error": error}),
        None,
        "",
    )
}

/// The sign-in page with 429 and `Retry-After: seconds`.
fn busy(next: &str, email: &str, message: &str, seconds: u64) -> Response {
    let mut response = page(StatusCode::TOO_MANY_REQUESTS, next, email, Some(message));
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.into());
    response
}

/// `GET /admin/sign-in`.
#[handler]
pub fn show(Query(query): Query<Next>) -> Response {
    page(
        StatusCode::OK,
        &destination(query.next.as_deref()),
        "",
        None,
    )
}

/// `POST /admin/sign-in`.
#[handler]
pub async fn submit(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<Credentials>,
) -> Response {
    let next = destination(form.next.as_deref());
    if !same_origin(req) {
        return page(
            StatusCode::FORBIDDEN,
            &next,
            &form.email,
            Some("Sign in from the console's own sign-in page."),
        );
    }
    let client = req.remote_addr().as_socket_addr().map(|a| a.ip());
    if state.throttle.attempt(client).is_err() {
        return busy(
            &next,
            &form.email,
            "Too many failed sign-ins from this address; wait a minute and try again.",
            60,
        );
    }
    if let Some(old) = session_token(req) {
        let _ = session::sign_out(&state.pool, &old).await;
    }
    let workspace = form.workspace.as_deref();
    match session::sign_in(&state.pool, &form.email, &form.password, workspace).await {
        Ok(SignIn::SignedIn(token, _)) => {
            state.throttle.refund(client);
            let secure = forwarded_https(req);
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                token.expose(),
                session::LIFETIME.as_secs(),
                if secure { "; Secure" } else { "" }
            );
            let mut response = see_other(&next);
            response.headers_mut().insert(
                header::SET_COOKIE,
                cookie.parse().expect("a token is cookie-safe"),
            );
            response
        }
        Ok(SignIn::Busy) => {
            // Nothing was checked: the attempt does not count.
            state.throttle.refund(client);
            busy(
                &next,
                &form.email,
                "Many sign-ins are being checked right now; try again in a moment.",
                1,
            )
        }
        Ok(SignIn::ChooseWorkspace) => {
            // The password was right for several accounts: a name decides, nothing failed.
            state.throttle.refund(client);
            form_page(
                StatusCode::UNAUTHORIZED,
                &next,
                &form.email,
                workspace.unwrap_or_default(),
                true,
                Some("This email opens more than one workspace: give the workspace's name."),
            )
        }
        Ok(SignIn::Wrong) => page(
            StatusCode::UNAUTHORIZED,
            &next,
            &form.email,
            Some("The email or password is wrong."),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "sign-in failed on the database");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                &next,
                &form.email,
                Some("The database cannot be reached right now; try again shortly."),
            )
        }
    }
}

/// `POST /admin/sign-out`: ends the session, from this origin only.
#[handler]
pub async fn sign_out(req: &Request, Data(state): Data<&AppState>) -> Response {
    if !same_origin(req) {
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .body("sign out from the console itself");
    }
    if let Some(token) = session_token(req) {
        if let Err(err) = session::sign_out(&state.pool, &token).await {
            tracing::warn!(error = %err, "could not end a session");
        }
    }
    let mut response = see_other("/admin/sign-in");
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, expired.parse().expect("static cookie"));
    response
}

/// Whether the console is reached over https (directly, or behind a proxy that says so).
fn forwarded_https(req: &Request) -> bool {
    req.uri().scheme_str() == Some("https")
        || req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn only_console_addresses_are_destinations() {
        assert_eq!(destination(Some("/admin/jobs")), "/admin/jobs");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/admin//evil",
            "/admin\\x",
            "/docs",
        ] {
            assert_eq!(destination(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(destination(None), "/admin");
    }
}
