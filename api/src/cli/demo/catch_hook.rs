//! The demo's stand-in for the outside world: a catch-hook receiver on 127.0.0.1 that
//! records what arrives, checks webhook signatures, and answers 500 to the billing API so
//! the demo can show a failing action. It stands in for Twilio too: a message it is asked
//! to send is answered as Twilio answers, and then reported `sent` and `delivered` to the
//! message's `StatusCallback`, signed with the auth token as Twilio signs. Once the
//! scripted walk is over it prints what arrives, so requests made by the README's
//! walk-through show up in the demo's terminal.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Endpoint, Request, Response};
use switchyard_actions::intake::verify;
use switchyard_actions::signing;

/// A request as the demo shows it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub idempotency_key: String,
    /// Whether `x-opensend-signature` verified, when the request had one.
    pub signature_ok: Option<bool>,
    pub body: String,
    pub answered: u16,
}

impl Seen {
    /// One line: the request, the answer, the signature check, the end of its
    /// idempotency key and the body.
    pub fn summary(&self) -> String {
        let signature = match self.signature_ok {
            Some(true) => " signature verified",
            Some(false) => " SIGNATURE MISMATCH",
            None => "",
        };
        let key: String = {
            let chars: Vec<char> = self.idempotency_key.chars().collect();
            chars[chars.len().saturating_sub(8)..].iter().collect()
        };
        format!(
            "{} {} answered {}{signature} (Idempotency-Key …{key}) {}",
            self.method, self.path, self.answered, self.body
        )
    }
}

/// The running receiver.
#[derive(Clone)]
pub struct CatchHook {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    narrate: Arc<AtomicBool>,
}

struct Handler {
    seen: Arc<Mutex<Vec<Seen>>>,
    narrate: Arc<AtomicBool>,
    secret: String,
    twilio_token: String,
}

/// Where Twilio's API is, under the receiver.
pub const TWILIO_PREFIX: &str = "/twilio";

impl Endpoint for Handler {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body().into_vec().await.unwrap_or_default();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let signature_ok = header("x-opensend-signature").map(|sig| {
            let ts: i64 = header("x-opensend-timestamp")
                .and_then(|t| t.parse().ok())
                .unwrap_or_default();
            sig == signing::opensend(&self.secret, ts, &body)
        });
        let path = req.uri().path().to_string();
        let texting = path.starts_with(TWILIO_PREFIX) && path.ends_with("/Messages.json");
        let answered = if path.starts_with("/billing") {
            500
        } else if texting {
            201
        } else {
            200
        };
        if texting {
            report_delivery(&body, self.twilio_token.clone());
        }
        let seen = Seen {
            method: req.method().to_string(),
            path,
            idempotency_key: header("idempotency-key").unwrap_or_default(),
            signature_ok,
            body: String::from_utf8_lossy(&body).to_string(),
            answered,
        };
        if self.narrate.load(Ordering::Relaxed) {
            println!("  <- catch hook: {}", seen.summary());
        }
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(seen);
        let reply = match answered {
            500 => "{\"error\": \"billing is down for maintenance\"}",
            201 => "{\"sid\": \"SM5f1e0c0de0000000000000000000d3m0\", \"status\": \"queued\"}",
            _ => "{\"ok\": true}",
        };
        Ok(Response::builder()
            .status(StatusCode::from_u16(answered).unwrap_or(StatusCode::OK))
            .content_type("application/json")
            .body(Body::from_string(reply.to_string())))
    }
}

/// Posts `sent`, then `delivered`, to the message's `StatusCallback`, as Twilio does.
fn report_delivery(message: &[u8], token: String) {
    let field = |name: &str| {
        url::form_urlencoded::parse(message)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let (Some(callback), to) = (field("StatusCallback"), field("To").unwrap_or_default()) else {
        return;
    };
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        for status in ["sent", "delivered"] {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("AccountSid", "ACde000000000000000000000000000001")
                .append_pair("MessageSid", "SM5f1e0c0de0000000000000000000d3m0")
                .append_pair("MessageStatus", status)
                .append_pair("SmsStatus", status)
                .append_pair("To", &to)
                .append_pair("From", "+15005550006")
                .append_pair("ApiVersion", "2010-04-01")
                .finish();
            let signature = verify::twilio_signature(&token, &callback, form.as_bytes());
            let sent = http
                .post(&callback)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", signature)
                .header("i-twilio-idempotency-token", format!("demo-{status}"))
                .body(form)
                .send()
                .await;
            if let Err(err) = sent {
                println!("  <- twilio stand-in: the {status} callback failed: {err}");
            }
        }
    });
}

impl CatchHook {
    /// Starts the receiver on `listen`; `secret` is the webhook connections' signing
    /// secret, `twilio_token` the auth token its Twilio stand-in signs callbacks with.
    pub async fn start(
        listen: &str,
        secret: &str,
        twilio_token: &str,
    ) -> std::io::Result<CatchHook> {
        let acceptor = TcpListener::bind(listen.to_string())
            .into_acceptor()
            .await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no local address"))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let narrate = Arc::new(AtomicBool::new(false));
        let handler = Handler {
            seen: seen.clone(),
            narrate: narrate.clone(),
            secret: secret.to_string(),
            twilio_token: twilio_token.to_string(),
        };
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(handler));
        Ok(CatchHook {
            addr,
            seen,
            narrate,
        })
    }

    /// From now on, print each request as it arrives.
    pub fn narrate(&self) {
        self.narrate.store(true, Ordering::Relaxed);
    }

    /// The receiver's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests received since index `from`.
    pub fn since(&self, from: usize) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())[from..].to_vec()
    }
}
