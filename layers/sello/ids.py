"""Identifiers, secrets and clocks in one place."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from datetime import UTC, datetime

_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 20


def new_id(prefix: str) -> str:
    """`prefix`, "_" and ID_LENGTH random lower-case letters or digits, e.g. iss_0a1b2c3d4e5f6g7h8i9j."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(ID_LENGTH))


def is_id(value: str, prefix: str) -> bool:
    """Whether `value` has the form new_id(prefix) gives. An id of any other form names nothing, so
    it is refused before it reaches a key (DynamoDB refuses sort keys over 1024 bytes)."""
    return re.fullmatch(rf"{re.escape(prefix)}_[a-z0-9]{{{ID_LENGTH}}}", value) is not None


def random_token(length: int) -> str:
    """A URL-safe random string of exactly `length` characters from [A-Za-z0-9]."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
