//! Providers: the credential shape each one takes, how its endpoint is previewed without
//! secrets, and the exact HTTP request an action becomes.
//!
//! | provider | credentials | request |
//! |---|---|---|
//! | `generic_rest` | `base_url`, optional `auth_header` | `base_url + path`, `Authorization: <auth_header>`, JSON |
//! | `twilio` | `account_sid`, `auth_token` | `<twilio>/2010-04-01/Accounts/{sid}` + path, Basic auth, form-encoded |
//! | `sendgrid` | `api_key` | `<sendgrid>/v3` + path, Bearer, JSON |
//! | `webhook` | `webhook_url`, optional `signing_secret` | the URL (+ path), JSON, signed |

mod credentials;
mod request;

pub use credentials::{check_credentials, endpoint_preview, url_preview, CredentialProblem};
pub use request::{build, BuildError, Outbound, RenderedPayload};

/// The providers Switchyard can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    GenericRest,
    Twilio,
    Sendgrid,
    Webhook,
}

impl Provider {
    /// Every provider, in catalog order.
    pub const ALL: [Provider; 4] = [
        Provider::Webhook,
        Provider::GenericRest,
        Provider::Twilio,
        Provider::Sendgrid,
    ];

    /// The provider's name as stored and sent by clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GenericRest => "generic_rest",
            Provider::Twilio => "twilio",
            Provider::Sendgrid => "sendgrid",
            Provider::Webhook => "webhook",
        }
    }

    /// Parses a provider name.
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The catalog's name and one-line description of the provider.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Provider::Webhook => (
                "Webhook / Zapier",
                "Signed JSON to an automation URL: a Zapier Catch Hook, a Make webhook, any HTTPS endpoint.",
            ),
            Provider::GenericRest => ("REST API", "Any REST API, with an optional Authorization header."),
            Provider::Twilio => ("Twilio", "Twilio's REST API, form-encoded with HTTP Basic auth."),
            Provider::Sendgrid => ("SendGrid", "SendGrid's v3 API with a Bearer API key."),
        }
    }

    /// The credential object's `(required, optional)` fields.
    pub fn credential_fields(self) -> (&'static [&'static str], &'static [&'static str]) {
        credentials::shape(self)
    }
}

/// Where the providers with a public API live; configurable so tests use local fakes.
#[derive(Clone, Debug)]
pub struct ProviderEndpoints {
    pub twilio_base: String,
    pub sendgrid_base: String,
}

impl Default for ProviderEndpoints {
    fn default() -> Self {
        ProviderEndpoints {
            twilio_base: "https://api.twilio.com".into(),
            sendgrid_base: "https://api.sendgrid.com".into(),
        }
    }
}
