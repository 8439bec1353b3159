//! An endpoint's `verify` as a designer gives it, as stored, and as [`Scheme`].
//!
//! `{"scheme": "stripe", "secret": "whsec_…", "tolerance": "5m"}`; `hmac_sha256` also takes
//! `header`, `encoding` (`hex` or `base64`) and `prefix` (`sha256=`). The secret is sealed
//! apart from the settings, which are shown. Where the receiver chooses the secret
//! (`standard_webhooks`, `github`, `hmac_sha256`) one is made when none is given, and shown
//! once.

use std::time::Duration;

use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Map, Value};
use switchyard_engine::definition::parse_duration;

use super::verify::{Encoding, Scheme};

/// Every scheme's name.
pub const SCHEMES: [&str; 7] = [
    "standard_webhooks",
    "stripe",
    "github",
    "twilio",
    "shopify",
    "slack",
    "hmac_sha256",
];

/// How far a signed timestamp may be from now, when the endpoint does not say.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// The widest tolerance an endpoint may set.
pub const MAX_TOLERANCE: Duration = Duration::from_secs(3600);

/// What is wrong with a `verify`, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    pub field: String,
    pub message: String,
}

fn problem(field: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        field: format!("verify.{field}"),
        message: message.into(),
    }
}

/// A checked `verify`.
#[derive(Debug)]
pub struct Checked {
    pub scheme: Scheme,
    /// The scheme's name.
    pub name: &'static str,
    /// What is stored and shown: the settings without the secret.
    pub settings: Value,
    pub secret: String,
    /// The secret was made here: show it once.
    pub generated: bool,
}

/// Checks a `verify` object.
pub fn check(verify: &Value) -> Result<Checked, ConfigProblem> {
    let Some(fields) = verify.as_object() else {
        return Err(ConfigProblem {
            field: "verify".into(),
            message: "verify is an object: {\"scheme\", \"secret\", …}".into(),
        });
    };
    let known = [
        "scheme",
        "secret",
        "tolerance",
        "header",
        "encoding",
        "prefix",
    ];
    if let Some(extra) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(problem(
            extra,
            format!("unknown field (known: {})", known.join(", ")),
        ));
    }
    let text = |name: &str| -> Result<Option<&str>, ConfigProblem> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(problem(name, "must be a string")),
        }
    };
    let scheme = text("scheme")?.ok_or_else(|| problem("scheme", "is required"))?;
    let Some(name) = SCHEMES.iter().copied().find(|s| *s == scheme) else {
        return Err(problem(
            "scheme",
            format!("unknown scheme '{scheme}' (known: {})", SCHEMES.join(", ")),
        ));
    };
    let mut settings = Map::new();
    for field in ["tolerance", "header", "encoding", "prefix"] {
        if let Some(value) = text(field)? {
            settings.insert(field.into(), json!(value));
        }
    }
    let settings = Value::Object(settings);
    let scheme = stored(name, &settings).map_err(|(field, message)| problem(field, message))?;
    let (secret, generated) = match text("secret")? {
        Some("") => return Err(problem("secret", "must not be empty")),
        Some(secret) if secret.len() > 1024 => {
            return Err(problem("secret", "at most 1024 characters"))
        }
        Some(secret) => (secret.to_string(), false),
        None => match generate(name) {
            Some(secret) => (secret, true),
            None => {
                return Err(problem(
                    "secret",
                    format!(
                    "is required: a {name} endpoint verifies with the secret the sender signs with"
                ),
                ))
            }
        },
    };
    Ok(Checked {
        scheme,
        name,
        settings,
        secret,
        generated,
    })
}

/// The scheme of a stored endpoint; `Err((field, why))` for settings that do not fit it.
pub fn stored(name: &str, settings: &Value) -> Result<Scheme, (&'static str, String)> {
    let get = |field: &str| settings.get(field).and_then(Value::as_str);
    let takes_tolerance = matches!(name, "standard_webhooks" | "stripe" | "slack");
    let takes_header = name == "hmac_sha256";
    for field in ["header", "encoding", "prefix"] {
        if !takes_header && get(field).is_some() {
            return Err((field, format!("only hmac_sha256 takes a {field}")));
        }
    }
    if !takes_tolerance && get("tolerance").is_some() {
        return Err((
            "tolerance",
            format!("{name} signs no timestamp, so it takes no tolerance"),
        ));
    }
    let tolerance = match get("tolerance") {
        None => DEFAULT_TOLERANCE,
        Some(text) => {
            let tolerance = parse_duration(text).map_err(|e| ("tolerance", e))?;
            if tolerance.is_zero() || tolerance > MAX_TOLERANCE {
                return Err(("tolerance", "from 1s to 1h".into()));
            }
            tolerance
        }
    };
    Ok(match name {
        "standard_webhooks" => Scheme::StandardWebhooks { tolerance },
        "stripe" => Scheme::Stripe { tolerance },
        "github" => Scheme::Github,
        "twilio" => Scheme::Twilio,
        "shopify" => Scheme::Shopify,
        "slack" => Scheme::Slack { tolerance },
        "hmac_sha256" => {
            let header = get("header").ok_or(("header", "is required for hmac_sha256".into()))?;
            if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(("header", format!("'{header}' is not a header name")));
            }
            let encoding = match get("encoding").unwrap_or("hex") {
                "hex" => Encoding::Hex,
                "base64" => Encoding::Base64,
                other => return Err(("encoding", format!("'{other}' is not hex or base64"))),
            };
            Scheme::HmacSha256 {
                header: header.to_ascii_lowercase(),
                encoding,
                prefix: get("prefix").filter(|p| !p.is_empty()).map(str::to_string),
            }
        }
        other => return Err(("scheme", format!("unknown scheme '{other}'"))),
    })
}

/// A new secret, for the schemes where the receiver chooses it.
fn generate(name: &str) -> Option<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    match name {
        "standard_webhooks" => Some(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )),
        "github" | "hmac_sha256" => Some(hex::encode(bytes)),
        _ => None,
    }
}

/// Headers that carry a signature or a credential: never kept in a receipt.
pub fn secret_header(name: &str, scheme: &Scheme) -> bool {
    const SECRET: [&str; 10] = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-twilio-signature",
        "stripe-signature",
        "x-hub-signature",
        "x-hub-signature-256",
        "x-shopify-hmac-sha256",
        "x-slack-signature",
        "webhook-signature",
    ];
    SECRET.contains(&name) || matches!(scheme, Scheme::HmacSha256 { header, .. } if header == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_the_field() {
        let field = |v: Value| check(&v).unwrap_err().field;
        assert_eq!(field(json!({})), "verify.scheme");
        assert_eq!(field(json!({"scheme": "fax"})), "verify.scheme");
        assert_eq!(field(json!({"scheme": "stripe"})), "verify.secret");
        assert_eq!(
            field(json!({"scheme": "stripe", "secret": "s", "tolerance": "2d"})),
            "verify.tolerance"
        );
        assert_eq!(
            field(json!({"scheme": "github", "tolerance": "5m"})),
            "verify.tolerance"
        );
        assert_eq!(field(json!({"scheme": "hmac_sha256"})), "verify.header");
        assert_eq!(
            field(json!({"scheme": "hmac_sha256", "header": "x-sig", "encoding": "hexx"})),
            "verify.encoding"
        );
        assert_eq!(
            field(json!({"scheme": "twilio", "secret": "t", "header": "x"})),
            "verify.header"
        );
        assert_eq!(
            field(json!({"scheme": "twilio", "secret": "t", "colour": "x"})),
            "verify.colour"
        );
    }

    #[test]
    fn receivers_choose_secrets_only_where_the_sender_does_not() {
        let made = check(&json!({"scheme": "standard_webhooks"})).unwrap();
        assert!(made.generated && made.secret.starts_with("whsec_"));
        assert_eq!(made.settings, json!({}));
        let given = check(&json!({"scheme": "slack", "secret": "abc", "tolerance": "1m"})).unwrap();
        assert!(!given.generated);
        assert_eq!(
            given.scheme,
            Scheme::Slack {
                tolerance: Duration::from_secs(60)
            }
        );
        assert_eq!(given.settings, json!({"tolerance": "1m"}));
    }
}
