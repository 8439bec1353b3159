//! Intake: signed webhooks from other systems move jobs. Signatures here are made by an
//! implementation written in the tests, independently of the code under test; the
//! senders' own libraries sign in `scripts/intake-senders.sh`.

mod endpoints;
mod hostile;
mod receipts;
mod twilio_callback;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::TestApp;

/// Twilio's signature: HMAC-SHA1 over the URL and the form's fields, names sorted, each
/// name followed by its value; base64.
pub fn twilio_signature(token: &str, url: &str, form: &[(&str, &str)]) -> String {
    let mut fields = form.to_vec();
    fields.sort();
    let mut signed = url.to_string();
    for (name, value) in fields {
        signed.push_str(name);
        signed.push_str(value);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// GitHub's `X-Hub-Signature-256`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Standard Webhooks' headers for `body` at `timestamp`, signed with a `whsec_` secret.
pub fn standard_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), format!("v1,{signature}")),
    ]
}

impl TestApp {
    /// Creates an intake endpoint; returns its answer.
    pub async fn intake_endpoint(&self, body: Value) -> Value {
        let (status, created) = self.post("/api/v1/intake", &self.key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    /// Posts `body` with `headers` to an intake `url`.
    pub async fn post_intake(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(url)
            .header("content-type", content_type)
            .body(body);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        crate::support::http::read(req.send().await.unwrap()).await
    }

    /// The endpoint's receipts, newest first.
    pub async fn receipts(&self, endpoint: &str) -> Vec<Value> {
        let (status, page) = self
            .get(&format!("/api/v1/intake/{endpoint}/receipts"), &self.key)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }
}

/// A `github` endpoint with `routes`; returns `(id, url, secret)`.
pub async fn github_endpoint(app: &TestApp, routes: Value) -> (String, String, String) {
    let created = app
        .intake_endpoint(
            json!({"name": "github", "verify": {"scheme": "github"}, "routes": routes}),
        )
        .await;
    let secret = created["secret"]
        .as_str()
        .expect("a made secret")
        .to_string();
    (
        created["id"].as_str().unwrap().to_string(),
        created["url"].as_str().unwrap().to_string(),
        secret,
    )
}

/// Posts `body` signed as GitHub signs it, with delivery id `delivery`.
pub async fn post_github(
    app: &TestApp,
    url: &str,
    secret: &str,
    delivery: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let headers = vec![
        (
            "x-hub-signature-256".to_string(),
            github_signature(secret, &bytes),
        ),
        ("x-github-delivery".to_string(), delivery.to_string()),
        ("x-github-event".to_string(), "issues".to_string()),
    ];
    app.post_intake(url, "application/json", &headers, bytes)
        .await
}
