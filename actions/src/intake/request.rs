//! A received request as routes read it and receipts keep it: the body as JSON, a form or
//! text; the query as an object; the headers without signatures or credentials.

use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use super::config::secret_header;
use super::verify::Scheme;

/// The headers a receipt keeps and routes read: lower-case names, secrets left out,
/// repeated headers joined with `, `.
pub fn kept_headers(headers: &HeaderMap, scheme: &Scheme) -> Value {
    let mut kept = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if secret_header(name, scheme) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match kept.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                kept.insert(name.to_string(), Value::String(value));
            }
        }
    }
    Value::Object(kept)
}

/// The body as routes read it: form fields as an object (Twilio), JSON as itself, other
/// text as a string, and anything that is not UTF-8 as null.
pub fn body_value(content_type: Option<&str>, body: &[u8]) -> Value {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/x-www-form-urlencoded") {
        return form_object(body);
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Value::Null;
    };
    // serde_json refuses nesting deeper than 128, so a hostile body is text here.
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The query as routes read it: its parameters as an object.
pub fn query_value(query: &str) -> Value {
    form_object(query.as_bytes())
}

/// `a=1&b=2&b=3` as `{"a": "1", "b": ["2", "3"]}`.
fn form_object(bytes: &[u8]) -> Value {
    let mut fields = Map::new();
    for (name, value) in url::form_urlencoded::parse(bytes) {
        let value = Value::String(value.into_owned());
        match fields.get_mut(name.as_ref()) {
            None => {
                fields.insert(name.into_owned(), value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::verify;
    use serde_json::json;

    #[test]
    fn bodies_read_as_forms_json_text_or_null() {
        let form = Some("application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(
            body_value(form, b"MessageStatus=delivered&To=%2B1555&a=1&a=2"),
            json!({"MessageStatus": "delivered", "To": "+1555", "a": ["1", "2"]})
        );
        assert_eq!(
            body_value(Some("application/json"), b"{\"id\": 1}"),
            json!({"id": 1})
        );
        assert_eq!(body_value(None, b"plain"), json!("plain"));
        assert_eq!(body_value(None, &[0xff, 0xfe]), Value::Null);
        let deep = "[".repeat(10_000);
        assert_eq!(body_value(None, deep.as_bytes()), json!(deep));
    }

    #[test]
    fn receipts_keep_no_signature_or_credential() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-twilio-signature", "sig"),
            ("authorization", "Basic x"),
            ("x-custom-sig", "abc"),
            ("user-agent", "TwilioProxy/1.1"),
        ] {
            headers.insert(
                reqwest::header::HeaderName::from_static(name),
                value.parse().unwrap(),
            );
        }
        let scheme = Scheme::HmacSha256 {
            header: "x-custom-sig".into(),
            encoding: verify::Encoding::Hex,
            prefix: None,
        };
        assert_eq!(
            kept_headers(&headers, &scheme),
            json!({"user-agent": "TwilioProxy/1.1"})
        );
    }
}
