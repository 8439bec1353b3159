//! Turning a rendered action into the exact HTTP request its provider expects.

use base64::Engine as _;
use serde_json::{Map, Value};
use thiserror::Error;
use url::Url;

use super::{Provider, ProviderEndpoints};
use crate::rotation::{self, Previous, PREVIOUS_SIGNING_SECRET};
use crate::signing;

/// An action's payload after rendering.
#[derive(Clone, Debug)]
pub struct RenderedPayload {
    pub method: String,
    pub path: Option<String>,
    pub body: Option<Value>,
}

/// A request ready to send. Its headers carry credentials, so it has no `Debug` of them.
pub struct Outbound {
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Credential values this request carries: never kept from what comes back.
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .finish_non_exhaustive()
    }
}

/// Why a request could not be built from the payload and credentials.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BuildError {
    #[error("the request URL is not valid: {0}")]
    Url(String),
    #[error("the body is not valid for this provider: {0}")]
    Body(String),
    #[error("unknown HTTP method '{0}'")]
    Method(String),
}

/// Builds the request for `provider`. `id` is the action run's id: it becomes the
/// `Idempotency-Key` and the Standard Webhooks `webhook-id`, so receivers can de-duplicate
/// the retries of at-least-once delivery.
pub fn build(
    provider: Provider,
    credentials: &Map<String, Value>,
    endpoints: &ProviderEndpoints,
    payload: &RenderedPayload,
    id: &str,
    timestamp: i64,
) -> Result<Outbound, BuildError> {
    let text = |k: &str| {
        credentials
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let path = payload.path.as_deref().unwrap_or("");
    let body_value = payload
        .body
        .clone()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let json_body = || serde_json::to_vec(&body_value).expect("a JSON value serialises");
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    let (url, body, content_type) = match provider {
        Provider::GenericRest => {
            if let Some(auth) = credentials.get("auth_header").and_then(Value::as_str) {
                headers.push(("authorization", auth.to_string()));
            }
            (
                join(&text("base_url"), path)?,
                json_body(),
                "application/json",
            )
        }
        Provider::Sendgrid => {
            headers.push(("authorization", format!("Bearer {}", text("api_key"))));
            let base = format!("{}/v3", endpoints.sendgrid_base.trim_end_matches('/'));
            // SendGrid's documentation names endpoints with their version
            // (`/v3/mail/send`): such a path is sent once under `/v3`, not under `/v3/v3`.
            let path = without_segment(path, "/v3");
            (join(&base, path)?, json_body(), "application/json")
        }
        Provider::Twilio => {
            let sid = text("account_sid");
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{sid}:{}", text("auth_token")));
            headers.push(("authorization", format!("Basic {basic}")));
            let base = format!(
                "{}/2010-04-01/Accounts/{sid}",
                endpoints.twilio_base.trim_end_matches('/')
            );
            (
                join(&base, path)?,
                form_body(&body_value)?,
                "application/x-www-form-urlencoded",
            )
        }
        Provider::Webhook => {
            let body = json_body();
            if let Some(secret) = credentials.get("signing_secret").and_then(Value::as_str) {
                // During a rotation's overlap the replaced secret signs too; the seed's
                // single-valued `x-opensend-signature` carries the current one only.
                let previous = previous_secret(credentials);
                headers.push((
                    "webhook-signature",
                    rotation::standard_webhooks(secret, previous.as_ref(), id, timestamp, &body),
                ));
                headers.push(("x-opensend-timestamp", timestamp.to_string()));
                headers.push((
                    "x-opensend-signature",
                    signing::opensend(secret, timestamp, &body),
                ));
            }
            (join(&text("webhook_url"), path)?, body, "application/json")
        }
    };
    headers.push(("content-type", content_type.to_string()));
    headers.push(("idempotency-key", id.to_string()));
    headers.push(("webhook-id", id.to_string()));
    headers.push(("webhook-timestamp", timestamp.to_string()));
    headers.push(("traceparent", crate::trace::traceparent(id)));
    headers.push((
        "user-agent",
        concat!("Switchyard/", env!("CARGO_PKG_VERSION")).to_string(),
    ));
    let method = reqwest::Method::from_bytes(payload.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| BuildError::Method(payload.method.clone()))?;
    let mut secrets: Vec<String> = credentials
        .values()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    secrets.extend(previous_secret(credentials).map(|p| p.secret));
    secrets.extend(
        headers
            .iter()
            .filter(|(name, _)| *name == "authorization")
            .map(|(_, value)| value.clone()),
    );
    Ok(Outbound {
        method,
        url,
        headers,
        body,
        secrets,
    })
}

/// `base` with `path` appended to its path; a query in `path` joins the base's query.
fn join(base: &str, path: &str) -> Result<Url, BuildError> {
    let mut url = Url::parse(base).map_err(|err| BuildError::Url(err.to_string()))?;
    let (extra_path, extra_query) = path.split_once('?').unwrap_or((path, ""));
    if switchyard_engine::definition::climbs_out(extra_path) {
        return Err(BuildError::Url(format!(
            "the path {}",
            switchyard_engine::definition::CLIMBS_OUT
        )));
    }
    if !extra_path.is_empty() {
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            extra_path.trim_start_matches('/')
        );
        url.set_path(&joined);
    }
    if !extra_query.is_empty() {
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{extra_query}"),
            _ => extra_query.to_string(),
        };
        url.set_query(Some(&query));
    }
    Ok(url)
}

/// A flat object as `application/x-www-form-urlencoded`; arrays repeat their key (as
/// Twilio's `MediaUrl` expects) and nested objects are sent as JSON text.
fn form_body(body: &Value) -> Result<Vec<u8>, BuildError> {
    let Value::Object(map) = body else {
        return Err(BuildError::Body(
            "Twilio requests take an object of form fields".into(),
        ));
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in map {
        let values: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            match v {
                // A null field is left out, as if the template had not named it: Twilio
                // reads an absent parameter as not given (the README says so).
                Value::Null => {}
                Value::String(s) => {
                    form.append_pair(key, s);
                }
                other => {
                    form.append_pair(key, &other.to_string());
                }
            }
        }
    }
    Ok(form.finish().into_bytes())
}

/// `path` without a leading `segment` (`/v3` of `/v3/mail/send`), when it is a whole
/// segment.
fn without_segment<'a>(path: &'a str, segment: &str) -> &'a str {
    match path.strip_prefix(segment) {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '?']) => rest,
        _ => path,
    }
}

/// A replaced signing secret kept in the credentials, if any.
fn previous_secret(credentials: &Map<String, Value>) -> Option<Previous> {
    let kept = credentials.get(PREVIOUS_SIGNING_SECRET)?;
    serde_json::from_value(kept.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn creds(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn payload(path: &str, body: Value) -> RenderedPayload {
        RenderedPayload {
            method: "POST".into(),
            path: Some(path.into()),
            body: Some(body),
        }
    }

    #[test]
    fn a_sendgrid_path_named_with_its_version_is_sent_once_under_v3() {
        let endpoints = ProviderEndpoints {
            twilio_base: String::new(),
            sendgrid_base: "http://127.0.0.1:9".into(),
        };
        for (path, url) in [
            ("/v3/mail/send", "http://127.0.0.1:9/v3/mail/send"),
            ("/mail/send", "http://127.0.0.1:9/v3/mail/send"),
            ("/v3", "http://127.0.0.1:9/v3"),
            ("/v3x/y", "http://127.0.0.1:9/v3/v3x/y"),
        ] {
            let creds = creds(json!({"api_key": "SG.k"}));
            let out = build(
                Provider::Sendgrid,
                &creds,
                &endpoints,
                &payload(path, json!({})),
                "run-1",
                1,
            )
            .unwrap();
            assert_eq!(out.url.as_str(), url, "{path}");
        }
    }

    #[test]
    fn a_null_twilio_field_is_left_out() {
        let creds = creds(json!({"account_sid": "AC1", "auth_token": "tok"}));
        let endpoints = ProviderEndpoints {
            twilio_base: "http://127.0.0.1:9".into(),
            sendgrid_base: String::new(),
        };
        let body = json!({"To": "+15550001", "MediaUrl": null, "Body": "x"});
        let out = build(
            Provider::Twilio,
            &creds,
            &endpoints,
            &payload("/Messages.json", body),
            "run-1",
            1,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            "Body=x&To=%2B15550001"
        );
    }

    #[test]
    fn twilio_gets_basic_auth_and_a_form_under_the_account() {
        let out = build(
            Provider::Twilio,
            &creds(
                json!({"account_sid": "AC00000000000000000000000000000123", "auth_token": "tok"}),
            ),
            &ProviderEndpoints {
                twilio_base: "http://127.0.0.1:9/".into(),
                sendgrid_base: String::new(),
            },
            &payload(
                "/Messages.json",
                json!({"To": "+15550001", "Body": "Hi & bye", "MediaUrl": ["a", "b"]}),
            ),
            "run-1",
            1,
        )
        .unwrap();
        assert_eq!(
            out.url.as_str(),
            "http://127.0.0.1:9/2010-04-01/Accounts/AC00000000000000000000000000000123/Messages.json"
        );
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            "Body=Hi+%26+bye&MediaUrl=a&MediaUrl=b&To=%2B15550001"
        );
        let auth = out
            .headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .unwrap();
        assert_eq!(
            auth.1,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode("AC00000000000000000000000000000123:tok")
            )
        );
    }

    #[test]
    fn paths_and_queries_join_the_base() {
        assert_eq!(
            join("https://x.test/api/", "/v1/items?a=1")
                .unwrap()
                .as_str(),
            "https://x.test/api/v1/items?a=1"
        );
        assert_eq!(
            join("https://x.test/hook?k=2", "").unwrap().as_str(),
            "https://x.test/hook?k=2"
        );
        assert_eq!(
            join("https://x.test/hook?k=2", "/sub?a=1")
                .unwrap()
                .as_str(),
            "https://x.test/hook/sub?k=2&a=1"
        );
    }
}
