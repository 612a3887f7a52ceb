"""The local outbox: every message sent through the emulated SES, parsed, oldest first."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

REGION = "us-east-1"


def sent_messages() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    out: list[EmailMessage] = []
    for m in backend.sent_messages:
        raw = getattr(m, "raw_data", None)
        if raw is not None:
            data = raw.encode() if isinstance(raw, str) else raw
            out.append(email.message_from_bytes(data, policy=email.policy.default))
        else:
            msg = EmailMessage()
            msg["From"] = m.source
            msg["To"] = ", ".join(m.destinations.get("ToAddresses", []))
            msg["Subject"] = m.subject
            msg.set_content(m.body)
            out.append(msg)
    return out
