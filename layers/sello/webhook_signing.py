"""Signatures of outgoing events, as the Standard Webhooks specification defines them.

Each delivery carries `webhook-id` (the event's id: the same on every retry, the receiver's key to
drop duplicates), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`:
`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry per valid secret separated by spaces, so
a receiver keeps verifying while a secret is rolled. A secret is `whsec_` and the base64 of random
bytes; the HMAC key is those bytes, not the text, which is what the spec's own libraries expect."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Characters of a secret (after its prefix) shown as a hint once the secret itself is gone.
HINT_LENGTH = 4


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_hint(secret: str) -> str:
    """What identifies a secret without revealing it: the prefix and its first characters."""
    return secret[:len(SECRET_PREFIX) + HINT_LENGTH] + "…"


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` entry: the HMAC-SHA256 of exactly the bytes sent."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def signed_headers(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of one delivery, signed with every secret given (newest first)."""
    if "." in message_id:
        raise ValueError("a message id cannot contain '.' (it separates the signed parts)")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_),
    }
