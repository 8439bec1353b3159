//! Keeping credentials out of stored response excerpts. A receiver that echoes its
//! request (many test endpoints and some real APIs do) would otherwise put the
//! connection's token into the log, readable by auditors, forever. Every credential value
//! of the request, in the encodings an echo is likely to use, is replaced by
//! [`REDACTED`] before an excerpt is kept.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

/// What stands in for a credential.
pub const REDACTED: &str = "[REDACTED]";
/// Values shorter than this are not treated as secrets (they would redact common words).
const MIN_SECRET: usize = 4;
/// Pieces of a URL (its path) count only from this length: a catch hook's path is a
/// secret, a REST base URL's `/v1` is not.
const MIN_URL_PIECE: usize = 8;

/// The forms of a request's credentials to remove from what comes back.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a form that contains another is removed whole.
    forms: Vec<String>,
}

impl Redactor {
    /// A redactor for `secrets` (credential values, whole auth header values, URLs).
    pub fn new<S: AsRef<str>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for secret in secrets {
            let secret = secret.as_ref();
            for (part, min) in parts(secret) {
                if part.len() >= min {
                    forms.extend(encodings(part));
                }
            }
        }
        forms.retain(|f| f.len() >= MIN_SECRET);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Redactor { forms }
    }

    /// The longest form, so callers can read a little past a cut and still catch one.
    pub fn longest(&self) -> usize {
        self.forms.first().map_or(0, String::len)
    }

    /// `text` with every form replaced, then cut to at most `limit` bytes (at a character
    /// boundary) without leaving the start of a form at its end.
    pub fn redact(&self, text: &str, limit: usize) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), REDACTED);
            }
        }
        let mut end = out.len().min(limit);
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        // A form cut in half by the limit: drop its beginning too.
        let mut cut = out.len();
        for form in &self.forms {
            for len in (MIN_SECRET.min(form.len())..form.len()).rev() {
                if out.ends_with(&form[..len]) && form.is_char_boundary(len) {
                    cut = cut.min(out.len() - len);
                    break;
                }
            }
        }
        out.truncate(cut);
        out
    }
}

/// The secret itself and the pieces an echo may show on their own, each with the length
/// from which it counts: the token after an auth scheme, and a URL's path and query values.
fn parts(secret: &str) -> Vec<(&str, usize)> {
    let mut parts = vec![(secret, MIN_SECRET)];
    if let Some((_, token)) = secret.split_once(' ') {
        parts.push((token.trim(), MIN_SECRET));
    }
    if let Some(rest) = secret.split_once("://").map(|(_, rest)| rest) {
        if let Some((_, path)) = rest.split_once('/') {
            let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
            parts.push((path, MIN_URL_PIECE));
            parts.push((path_only, MIN_URL_PIECE));
            let values = query
                .split('&')
                .filter_map(|kv| kv.split_once('=').map(|(_, v)| v));
            parts.extend(values.map(|v| (v, MIN_SECRET)));
        }
    }
    parts
}

fn encodings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let json = serde_json::to_string(secret).unwrap_or_default();
    vec![
        secret.to_string(),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        hex::encode(bytes),
        hex::encode_upper(bytes),
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        url::form_urlencoded::byte_serialize(bytes).collect(),
        json.trim_matches('"').to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_encoding_is_removed() {
        let secret = "sk_live_4f9a/b+c==d";
        let r = Redactor::new([format!("Bearer {secret}")]);
        let echoed = format!(
            "auth={} b64={} hex={} pct={} json={}",
            secret,
            STANDARD.encode(secret),
            hex::encode(secret),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            serde_json::to_string(secret).unwrap()
        );
        let out = r.redact(&echoed, 4096);
        assert!(!out.contains("4f9a"), "{out}");
        assert!(!out.contains(&hex::encode(secret)[..12]), "{out}");
    }

    #[test]
    fn a_secret_cut_by_the_limit_leaves_no_prefix() {
        let r = Redactor::new(["abcdefghijkl"]);
        // The read stopped inside the secret: only its start arrived.
        let text = format!("{}abcdefg", "x".repeat(10));
        assert_eq!(r.redact(&text, 4096), "x".repeat(10));
        // The limit falls inside an arrived secret: it is redacted before the cut.
        let text = format!("{}abcdefghijkl", "x".repeat(10));
        assert_eq!(
            r.redact(&text, 4096),
            format!("{}{REDACTED}", "x".repeat(10))
        );
    }

    #[test]
    fn a_short_url_path_is_not_a_secret() {
        let r = Redactor::new(["https://api.example.com/rest"]);
        assert_eq!(
            r.redact("see /rest for details", 4096),
            "see /rest for details"
        );
    }

    #[test]
    fn url_paths_and_query_values_count_as_secrets() {
        let r = Redactor::new(["https://hooks.example/hooks/catch/123/abcdef?token=s3cr3t"]);
        let out = r.redact(
            "GET /hooks/catch/123/abcdef?token=s3cr3t token s3cr3t",
            4096,
        );
        assert!(!out.contains("s3cr3t") && !out.contains("abcdef"), "{out}");
    }
}
