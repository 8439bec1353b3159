//! Each scheme against a signature made by the sender's own library (named with its
//! version), then with a wrong secret, an altered body and a stale timestamp.

use reqwest::header::{HeaderName, HeaderValue};

use super::*;

const FIVE_MINUTES: Duration = Duration::from_secs(300);

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn check(
    scheme: &Scheme,
    secret: &str,
    pairs: &[(&str, &str)],
    body: &[u8],
    url: &str,
    now: i64,
) -> Result<Verified, Refusal> {
    let headers = headers(pairs);
    verify(
        scheme,
        secret,
        &Inbound {
            headers: &headers,
            body,
            url,
            now,
        },
    )
}

#[test]
fn standard_webhooks() {
    // Python `standardwebhooks` 1.3: Webhook(secret).sign(id, 1614265330, body).
    let scheme = Scheme::StandardWebhooks {
        tolerance: FIVE_MINUTES,
    };
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"test": 2432232314}"#;
    let signed = [
        ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
        ("webhook-timestamp", "1614265330"),
        (
            "webhook-signature",
            "v1,bm9ldmVu v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
    ];
    let ok = check(&scheme, secret, &signed, body, "", 1614265330 + 10).unwrap();
    assert_eq!(ok.delivery_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    let wrong = "whsec_AAAA9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert_eq!(
        check(&scheme, wrong, &signed, body, "", 1614265330),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&scheme, secret, &signed, b"{\"test\": 1}", "", 1614265330),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&scheme, secret, &signed, body, "", 1614265330 + 301),
        Err(Refusal::Stale(301))
    );
    assert_eq!(
        check(&scheme, secret, &signed[..2], body, "", 1614265330),
        Err(Refusal::Missing("webhook-signature".into()))
    );
}

#[test]
fn stripe() {
    // Python `stripe` 16.1: WebhookSignature._compute_signature("1700000000." + body, secret),
    // the function its generate_test_header_string uses.
    let scheme = Scheme::Stripe {
        tolerance: FIVE_MINUTES,
    };
    let secret = "whsec_test_secret";
    let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    let header = [(
        "stripe-signature",
        "t=1700000000,v1=22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31,v0=00",
    )];
    let ok = check(&scheme, secret, &header, body, "", 1700000100).unwrap();
    assert_eq!(ok.delivery_id, "evt_1");
    assert_eq!(
        check(&scheme, "whsec_other", &header, body, "", 1700000000),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&scheme, secret, &header, b"{}", "", 1700000000),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&scheme, secret, &header, body, "", 1699999000),
        Err(Refusal::Stale(-1000))
    );
    let no_time = [("stripe-signature", "v1=22d8")];
    assert_eq!(
        check(&scheme, secret, &no_time, body, "", 1700000000),
        Err(Refusal::Malformed("Stripe-Signature".into()))
    );
}

#[test]
fn github() {
    // Node `@octokit/webhooks-methods`: sign("It's a Secret to Everybody", "Hello, World!").
    let secret = "It's a Secret to Everybody";
    let signed = [
        (
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ),
        ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ];
    let ok = check(&Scheme::Github, secret, &signed, b"Hello, World!", "", 0).unwrap();
    assert_eq!(ok.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_eq!(
        check(&Scheme::Github, "other", &signed, b"Hello, World!", "", 0),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&Scheme::Github, secret, &signed, b"Hello, World?", "", 0),
        Err(Refusal::Mismatch)
    );
}

#[test]
fn twilio() {
    // Python `twilio` 9.13: RequestValidator("12345").compute_signature(url, params).
    let url = "https://example.com/in/abc?foo=1&bar=2";
    let body = b"To=%2B15550001&MessageStatus=delivered&From=%2B15550002&MessageSid=SM123\
        &AccountSid=AC00000000000000000000000000000123";
    let signed = [("x-twilio-signature", "Wn/zSsYQQMUsahuoREGjXjTTAZ8=")];
    let ok = check(&Scheme::Twilio, "12345", &signed, body, url, 0).unwrap();
    assert!(ok.delivery_id.starts_with("sha256:"));
    assert_eq!(
        check(&Scheme::Twilio, "54321", &signed, body, url, 0),
        Err(Refusal::Mismatch)
    );
    // Signed for another address: the public URL is part of what Twilio signs.
    assert_eq!(
        check(
            &Scheme::Twilio,
            "12345",
            &signed,
            body,
            "https://example.com/in/abc",
            0
        ),
        Err(Refusal::Mismatch)
    );
}

#[test]
fn shopify_and_named_hmac_headers() {
    // Base64 HMAC-SHA256 of the body, as Shopify documents it (computed with Python's hmac).
    let body = br#"{"id":820982911946154508}"#;
    let shopify = [
        (
            "x-shopify-hmac-sha256",
            "jqbalbO3Z8mDmrF2/+wzM3KYvbgqzVBF969vgiIy80I=",
        ),
        (
            "x-shopify-webhook-id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        ),
    ];
    let ok = check(&Scheme::Shopify, "shpss_secret", &shopify, body, "", 0).unwrap();
    assert_eq!(ok.delivery_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    assert_eq!(
        check(&Scheme::Shopify, "shpss_other", &shopify, body, "", 0),
        Err(Refusal::Mismatch)
    );
    // The same signature under a header of one's choosing, and GitHub's with its prefix.
    let named = Scheme::HmacSha256 {
        header: "x-signature".into(),
        encoding: Encoding::Base64,
        prefix: None,
    };
    let sent = [(
        "x-signature",
        "jqbalbO3Z8mDmrF2/+wzM3KYvbgqzVBF969vgiIy80I=",
    )];
    check(&named, "shpss_secret", &sent, body, "", 0).unwrap();
    let prefixed = Scheme::HmacSha256 {
        header: "x-hook-signature".into(),
        encoding: Encoding::Hex,
        prefix: Some("sha256=".into()),
    };
    let sent = [(
        "x-hook-signature",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];
    check(
        &prefixed,
        "It's a Secret to Everybody",
        &sent,
        b"Hello, World!",
        "",
        0,
    )
    .unwrap();
    let unprefixed = [(
        "x-hook-signature",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    )];
    assert_eq!(
        check(
            &prefixed,
            "It's a Secret to Everybody",
            &unprefixed,
            b"Hello, World!",
            "",
            0
        ),
        Err(Refusal::Malformed("x-hook-signature".into()))
    );
}

#[test]
fn slack() {
    // Python `slack_sdk` 3.48: SignatureVerifier(secret).generate_signature(timestamp, body).
    let scheme = Scheme::Slack {
        tolerance: FIVE_MINUTES,
    };
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let body = b"token=x&team_id=T1";
    let signed = [
        ("x-slack-request-timestamp", "1700000000"),
        (
            "x-slack-signature",
            "v0=bfb79235253ec531a472cc2d03ac1096be108386aa1c827721b73586e6e00cff",
        ),
    ];
    check(&scheme, secret, &signed, body, "", 1700000060).unwrap();
    assert_eq!(
        check(&scheme, "other", &signed, body, "", 1700000000),
        Err(Refusal::Mismatch)
    );
    assert_eq!(
        check(&scheme, secret, &signed, body, "", 1700003600),
        Err(Refusal::Stale(3600))
    );
}

#[test]
fn refusals_name_no_secret() {
    let secret = "a-very-private-secret";
    let signed = [("x-hub-signature-256", "sha256=00")];
    let refusal = check(&Scheme::Github, secret, &signed, b"x", "", 0).unwrap_err();
    assert!(!refusal.to_string().contains(secret));
}
