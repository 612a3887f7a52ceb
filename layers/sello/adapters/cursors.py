"""Paging cursors: where a page of a DynamoDB query ended, sealed so that a client can hand it back
but neither read nor change it.

A cursor is `base64url(version ‖ nonce ‖ AES-256-GCM(key values))` without padding. The GCM tag
authenticates the key values and, as associated data, the scope of the query the page came from
(partition key, which names the account, sort key prefix or range, index, order and filter): a
cursor altered in any byte, or handed to another account's or another filter's query, does not open,
and the caller gets `400 invalid_cursor`. Only base64 of random-looking bytes is visible: no table
key, account id or document id.

The AES key is derived (HKDF-SHA256) from the value of the Secrets Manager secret that
`settings.cursor_key_secret` names: the CDK app generates that secret and lets only the functions
that hand out cursors read it; the local stack creates one with a random value at each start. A
function reads the secret once, the first time it seals or opens a cursor. A new value for the
secret invalidates the cursors handed out before (their lists start again from the first page)."""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import cache

from sello.adapters import aws

VERSION = b"\x01"
NONCE_BYTES = 12
# Longer than any cursor this module makes for the keys of the table; longer input is not decoded.
MAX_CURSOR_CHARS = 2048
_KDF_INFO = b"sello paging cursor key v1"
_SCOPE_PREFIX = b"sello paging cursor scope v1\x00"


class CursorSealer:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("a cursor key is 32 bytes")
        # Imported here: only list requests that page need it (cold starts stay lighter).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def seal(self, values: list[str], scope: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = VERSION + nonce + self._aead.encrypt(nonce, plain, _aad(scope))
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, cursor: str, scope: str) -> list | None:
        """The values sealed in `cursor` for this `scope`; None for anything else (altered, made for
        another scope or with another key, or not a cursor at all)."""
        from cryptography.exceptions import InvalidTag

        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
            return None
        try:
            sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        # One spelling per cursor: a changed character never decodes to the same bytes.
        if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii") != cursor:
            return None
        if len(sealed) <= len(VERSION) + NONCE_BYTES or sealed[:1] != VERSION:
            return None
        nonce, body = sealed[1:1 + NONCE_BYTES], sealed[1 + NONCE_BYTES:]
        try:
            values = json.loads(self._aead.decrypt(nonce, body, _aad(scope)))
        except (InvalidTag, ValueError):
            return None
        return values if isinstance(values, list) else None


def _aad(scope: str) -> bytes:
    return _SCOPE_PREFIX + scope.encode("utf-8", errors="surrogatepass")


def key_from_secret(secret: str) -> bytes:
    """The AES-256 key derived from the secret's value (any printable string; the CDK app generates
    64 characters)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret.encode())


@cache
def sealer_for(secret_id: str) -> CursorSealer:
    """The sealer keyed by that secret, read once per process."""
    value = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return CursorSealer(key_from_secret(value))


def default_sealer() -> CursorSealer:
    from sello.settings import get_settings

    return sealer_for(get_settings().cursor_key_secret)
