"""Posts requests signed by the senders' own libraries to a running Switchyard's intake
endpoints, and checks each is received; then that a wrong secret, an altered body, a stale
timestamp and a replayed delivery are each handled as documented (docs/intake.md).

    python senders.py <base url> <api key>

Python's twilio, slack_sdk and standardwebhooks sign here; Stripe's and GitHub's Node
libraries sign through sign.mjs beside this file.
"""

import datetime
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from slack_sdk.signature import SignatureVerifier
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

BASE, KEY = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def call(method, url, body=None, headers=None):
    data = body if isinstance(body, (bytes, type(None))) else body.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def endpoint(verify):
    status, body = call("POST", f"{BASE}/api/v1/intake", json.dumps({"name": verify["scheme"], "verify": verify}),
                        {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert status == 201, (status, body)
    return body


def node(*args):
    return subprocess.run(["node", os.path.join(HERE, "sign.mjs"), *args], check=True,
                          capture_output=True, text=True).stdout


def check(scheme, what, got, expected_status, expected=None):
    status, body = got
    ok = status == expected_status and all(body.get(k) == v for k, v in (expected or {}).items())
    print(f"  {'ok  ' if ok else 'FAIL'} {scheme}: {what} -> {status} {body.get('outcome') or body.get('type')}")
    if not ok:
        failures.append(f"{scheme} {what}: {status} {body}")


def cases(scheme, post):
    """`post(body, secret_ok, stale, delivery)` sends one request; the checks every scheme gets."""
    check(scheme, "signed by its library", post(b'{"n": 1}', True, False, "d-1"), 200,
          {"outcome": "unmatched", "repeat": False})
    check(scheme, "the same delivery again", post(b'{"n": 1}', True, False, "d-1"), 200, {"repeat": True})
    check(scheme, "a wrong secret", post(b'{"n": 2}', False, False, "d-2"), 401)
    check(scheme, "an altered body", post("altered", True, False, "d-3"), 401)


def main():
    now = int(time.time())

    made = endpoint({"scheme": "standard_webhooks"})
    def standard(body, secret_ok, stale, delivery):
        secret = made["secret"] if secret_ok else "whsec_" + "QUJD" * 8
        sent = b'{"n": 3}' if body == "altered" else body
        at = datetime.datetime.fromtimestamp(now - 600 if stale else now, datetime.timezone.utc)
        signature = Webhook(secret).sign(delivery, at, body if body != "altered" else b'{"n": 1}')
        return call("POST", made["url"], sent, {"content-type": "application/json", "webhook-id": delivery,
                    "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature})
    cases("standard_webhooks", standard)
    check("standard_webhooks", "a stale timestamp", standard(b'{"n": 4}', True, True, "d-4"), 401)

    stripe_secret = "whsec_" + secrets.token_hex(16)
    stripe = endpoint({"scheme": "stripe", "secret": stripe_secret})
    def stripe_post(body, secret_ok, stale, delivery):
        payload = json.dumps({"id": f"evt_{delivery}", "type": "payment_intent.succeeded"})
        signed = payload if body != "altered" else payload
        sent = payload if body != "altered" else payload.replace("succeeded", "canceled")
        header = node("stripe", stripe_secret if secret_ok else "whsec_wrong", str(now - 600 if stale else now), signed)
        return call("POST", stripe["url"], sent, {"content-type": "application/json", "stripe-signature": header})
    cases("stripe", stripe_post)
    check("stripe", "a stale timestamp", stripe_post(b"", True, True, "d-5"), 401)

    github = endpoint({"scheme": "github"})
    def github_post(body, secret_ok, stale, delivery):
        payload = '{"action": "opened"}'
        sent = payload if body != "altered" else '{"action": "closed"}'
        header = node("github", github["secret"] if secret_ok else "wrong", payload)
        return call("POST", github["url"], sent, {"content-type": "application/json",
                    "x-hub-signature-256": header, "x-github-delivery": delivery})
    cases("github", github_post)

    token = secrets.token_hex(16)
    twilio = endpoint({"scheme": "twilio", "secret": token})
    def twilio_post(body, secret_ok, stale, delivery):
        url = twilio["url"] + "?job=42"
        params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "To": "+15558675310"}
        sent = dict(params, MessageStatus="failed") if body == "altered" else params
        signature = RequestValidator(token if secret_ok else "wrong").compute_signature(url, params)
        return call("POST", url, urllib.parse.urlencode(sent),
                    {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature,
                     "i-twilio-idempotency-token": delivery})
    cases("twilio", twilio_post)

    slack_secret = secrets.token_hex(16)
    slack = endpoint({"scheme": "slack", "secret": slack_secret})
    def slack_post(body, secret_ok, stale, delivery):
        # Slack sends no delivery id: a repeat is the same body at the same time.
        payload = f"payload=%7B%22delivery%22%3A%22{delivery}%22%7D"
        sent = payload if body != "altered" else payload + "x"
        at = str(now - 600 if stale else now)
        signature = SignatureVerifier(slack_secret if secret_ok else "wrong").generate_signature(timestamp=at, body=payload)
        return call("POST", slack["url"], sent, {"content-type": "application/x-www-form-urlencoded",
                    "x-slack-request-timestamp": at, "x-slack-signature": signature})
    cases("slack", slack_post)
    check("slack", "a stale timestamp", slack_post(b"", True, True, "d-6"), 401)

    if failures:
        print(f"{len(failures)} intake check(s) failed:", *failures, sep="\n  ")
        sys.exit(1)
    print("intake: every sender's library signed requests that were received as documented")


main()
