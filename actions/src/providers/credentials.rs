//! Credential shapes per provider, and endpoint previews that keep the host but nothing
//! secret-bearing.

use serde_json::{Map, Value};
use url::Url;

use super::{Provider, ProviderEndpoints};

/// A credential field that is missing, unknown or malformed.
#[derive(Debug, PartialEq, Eq)]
pub struct CredentialProblem {
    /// The field, e.g. `credentials.base_url`.
    pub field: String,
    pub message: String,
}

fn problem(field: &str, message: impl Into<String>) -> CredentialProblem {
    CredentialProblem {
        field: format!("credentials.{field}"),
        message: message.into(),
    }
}

/// `(required, optional)` fields of each provider.
pub(super) fn shape(provider: Provider) -> (&'static [&'static str], &'static [&'static str]) {
    match provider {
        Provider::GenericRest => (&["base_url"], &["auth_header"]),
        Provider::Twilio => (&["account_sid", "auth_token"], &[]),
        Provider::Sendgrid => (&["api_key"], &[]),
        Provider::Webhook => (&["webhook_url"], &["signing_secret"]),
    }
}

/// Checks `credentials` against the provider's shape; returns them as an object.
pub fn check_credentials(
    provider: Provider,
    credentials: &Value,
) -> Result<Map<String, Value>, CredentialProblem> {
    let Some(map) = credentials.as_object() else {
        return Err(CredentialProblem {
            field: "credentials".into(),
            message: "must be an object".into(),
        });
    };
    let (required, optional) = shape(provider);
    for key in map.keys() {
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            let known: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(problem(
                key,
                format!(
                    "unknown field for {} (expected: {})",
                    provider.as_str(),
                    known.join(", ")
                ),
            ));
        }
    }
    for key in required {
        match map.get(*key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => return Err(problem(key, "must not be empty")),
            Some(_) => return Err(problem(key, "must be a string")),
            None => return Err(problem(key, format!("required for {}", provider.as_str()))),
        }
    }
    for key in optional {
        if let Some(v) = map.get(*key) {
            if !v.is_string() {
                return Err(problem(key, "must be a string"));
            }
        }
    }
    // Twilio's own account ids: a sid of another shape can only fail at send time, and
    // one with `/` or `..` would change the path the request goes to.
    if let Some(Value::String(sid)) = map.get("account_sid") {
        let hex = sid.strip_prefix("AC").unwrap_or_default();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(problem(
                "account_sid",
                "must be a Twilio account SID: AC followed by 32 hexadecimal digits",
            ));
        }
    }
    // A header value with a line break could add headers of its own to every request.
    if let Some(Value::String(value)) = map.get("auth_header") {
        if value.chars().any(|c| c.is_control()) {
            return Err(problem(
                "auth_header",
                "must not contain line breaks or other control characters",
            ));
        }
    }
    for url_field in ["base_url", "webhook_url"] {
        if let Some(Value::String(raw)) = map.get(url_field) {
            check_url(raw).map_err(|m| problem(url_field, m))?;
        }
    }
    Ok(map.clone())
}

fn check_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|err| format!("not a URL: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password; use auth_header".into());
    }
    Ok(url)
}

/// Where requests go, with paths, queries and credentials left out: e.g.
/// `https://hooks.zapier.com/…`.
pub fn endpoint_preview(
    provider: Provider,
    credentials: &Map<String, Value>,
    endpoints: &ProviderEndpoints,
) -> String {
    let raw = match provider {
        Provider::GenericRest => credentials
            .get("base_url")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        Provider::Webhook => credentials
            .get("webhook_url")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        Provider::Twilio => endpoints.twilio_base.as_str(),
        Provider::Sendgrid => endpoints.sendgrid_base.as_str(),
    };
    url_preview(raw)
}

/// Scheme and host of `raw`, with `/…` when it has more: enough to recognise a target,
/// never the secret-bearing path or query of a catch-hook URL.
pub fn url_preview(raw: &str) -> String {
    let Ok(url) = Url::parse(raw) else {
        return String::from("(invalid URL)");
    };
    let origin = url.origin().ascii_serialization();
    let has_more = url.path() != "/" || url.query().is_some() || url.fragment().is_some();
    if has_more {
        format!("{origin}/…")
    } else {
        origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_checked_field_by_field() {
        let ok = check_credentials(
            Provider::GenericRest,
            &json!({"base_url": "https://api.example.com", "auth_header": "Bearer x"}),
        );
        assert!(ok.is_ok());
        let err = check_credentials(Provider::Twilio, &json!({"account_sid": "AC1"})).unwrap_err();
        assert_eq!(err.field, "credentials.auth_token");
        let err = check_credentials(
            Provider::Twilio,
            &json!({"account_sid": "AC1/../x", "auth_token": "t"}),
        )
        .unwrap_err();
        assert_eq!(err.field, "credentials.account_sid");
        assert!(check_credentials(
            Provider::Twilio,
            &json!({"account_sid": format!("AC{}", "a1".repeat(16)), "auth_token": "t"})
        )
        .is_ok());
        let err = check_credentials(
            Provider::GenericRest,
            &json!({"base_url": "https://crm.example.com", "auth_header": "Bearer x\r\nX-Evil: 1"}),
        )
        .unwrap_err();
        assert_eq!(err.field, "credentials.auth_header");
        let err = check_credentials(Provider::Twilio, &json!({"account_sid": "AC1"})).unwrap_err();
        assert_eq!(err.field, "credentials.auth_token");
        let err = check_credentials(Provider::Sendgrid, &json!({"api_key": "k", "extra": 1}))
            .unwrap_err();
        assert_eq!(err.field, "credentials.extra");
        let err =
            check_credentials(Provider::Webhook, &json!({"webhook_url": "ftp://x"})).unwrap_err();
        assert_eq!(err.field, "credentials.webhook_url");
    }

    #[test]
    fn previews_keep_the_host_but_not_the_path() {
        let creds = check_credentials(
            Provider::Webhook,
            &json!({"webhook_url": "https://hooks.zapier.com/hooks/catch/123/abc?token=s3"}),
        )
        .unwrap();
        let preview = endpoint_preview(Provider::Webhook, &creds, &ProviderEndpoints::default());
        assert_eq!(preview, "https://hooks.zapier.com/…");
        assert!(!preview.contains("abc") && !preview.contains("s3"));
    }
}
