"""Signatures of outgoing events: Standard Webhooks' own library, the README's Python and JavaScript
code and the spec's published vector all accept what Sello signs, and refuse anything else."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from sello import webhook_signing
from tests.conftest import REPO_ROOT

BODY = json.dumps({"type": "document.authorized", "data": {"id": "doc_1"}}).encode()


def readme_block(language: str, index: int = 0) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("\n## Receiving events\n")
    section = text[start:text.index("\n## ", start + 1)]
    return re.findall(rf"^```{language}\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)[index]


def readme_verify():
    namespace: dict = {}
    exec(readme_block("python"), namespace)
    return namespace["verify"]


def signed(secrets, body=BODY, timestamp=None, message_id="evt_abc"):
    return webhook_signing.signed_headers(secrets, message_id, int(timestamp or time.time()), body)


def test_secret_is_whsec_and_base64_of_32_random_bytes():
    import base64

    first, second = webhook_signing.new_secret(), webhook_signing.new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    hint = webhook_signing.secret_hint(first)
    assert first.startswith(hint.rstrip("…")) and len(hint) < 12


def test_the_specs_published_vector():
    """Standard Webhooks' example: the HMAC key is the decoded bytes of the secret, not its text."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert webhook_signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standardwebhooks_library_verifies_a_delivery():
    secret = webhook_signing.new_secret()
    headers = signed([secret])
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_signing.new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_during_a_roll_both_secrets_verify():
    new, old = webhook_signing.new_secret(), webhook_signing.new_secret()
    headers = signed([new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert Webhook(secret).verify(BODY, headers)
        assert readme_verify()(secret, headers, BODY)


def test_the_readmes_python_code_verifies_and_refuses():
    verify = readme_verify()
    secret = webhook_signing.new_secret()
    headers = signed([secret])
    assert verify(secret, {k.title(): v for k, v in headers.items()}, BODY)
    assert not verify(secret, headers, BODY.replace(b"doc_1", b"doc_2"))
    assert not verify(webhook_signing.new_secret(), headers, BODY)
    assert not verify(secret, headers | {"webhook-id": "evt_other"}, BODY)
    old = signed([secret], timestamp=time.time() - 600)
    assert not verify(secret, old, BODY)


@pytest.mark.skipif(not shutil.which("node"), reason="the README's JavaScript needs node")
def test_the_readmes_javascript_code_verifies_and_refuses():
    secret = webhook_signing.new_secret()
    headers = signed([webhook_signing.new_secret(), secret])
    script = readme_block("javascript") + """
const [secret, headers, body, other] = JSON.parse(process.argv[1]);
console.log(JSON.stringify([verify(secret, headers, Buffer.from(body)), verify(other, headers, Buffer.from(body)),
                            verify(secret, headers, Buffer.from(body + " "))]));
"""
    arguments = json.dumps([secret, headers, BODY.decode(), webhook_signing.new_secret()])
    result = subprocess.run(["node", "-e", script, arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, False, False]


def test_a_message_id_with_a_dot_is_refused():
    with pytest.raises(ValueError):
        webhook_signing.signed_headers([webhook_signing.new_secret()], "evt.1", 1, b"{}")


def test_the_sample_delivery_in_events_verifies():
    from tests.helpers import load_event

    sample = load_event("webhooks/document_authorized.delivery.json")
    body = sample["raw_body"].encode()
    assert readme_verify()(sample["secret"], sample["headers"], body, tolerance=10 ** 10)
    assert sample["headers"]["webhook-signature"] == webhook_signing.sign(
        sample["secret"], sample["headers"]["webhook-id"], int(sample["headers"]["webhook-timestamp"]), body)


@pytest.mark.skipif(not shutil.which("node") or not (REPO_ROOT / "node_modules" / "standardwebhooks").is_dir(),
                    reason="needs node and the npm packages `make install` puts in node_modules")
def test_the_readmes_javascript_library_example_verifies_and_refuses():
    """The README's second JavaScript block: the specification's npm library (package.json) verifies a
    delivery Sello signed, and throws for another secret or a changed body."""
    secret = webhook_signing.new_secret()
    headers = signed([secret])
    script = """
const [secret, headers, body, other] = JSON.parse(process.argv[1]);
const attempt = (secret, body) => { try { return (() => {""" + readme_block("javascript", 1) + """
return event; })(); } catch (error) { return error.name; } };
console.log(JSON.stringify([attempt(secret, body), attempt(other, body), attempt(secret, body + " ")]));
"""
    arguments = json.dumps([secret, headers, BODY.decode(), webhook_signing.new_secret()])
    result = subprocess.run(["node", "-e", script, arguments], capture_output=True, text=True, timeout=30,
                            cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [json.loads(BODY), "WebhookVerificationError", "WebhookVerificationError"]
