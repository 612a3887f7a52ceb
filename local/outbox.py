"""The local outbox: every message sent through the emulated SES, oldest first.

`sent_messages()` reads the emulator's record directly (tests use it). `Outbox` numbers the messages
from 1 for the local stack's /_local/outbox endpoints and writes each one, as it shows up, to a
<n>-<subject>.eml file that any mail client opens."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from moto.ses.models import ses_backends

from local.resources import ACCOUNT, REGION



def raw_messages() -> list[bytes]:
    """The MIME bytes of every message SES accepted so far."""
    backend = ses_backends[ACCOUNT][REGION]
    out: list[bytes] = []
    for m in list(backend.sent_messages):
        raw = getattr(m, "raw_data", None)
        if raw is not None:
            out.append(raw.encode() if isinstance(raw, str) else raw)
        else:
            msg = EmailMessage()
            msg["From"] = m.source
            msg["To"] = ", ".join(m.destinations.get("ToAddresses", []))
            msg["Subject"] = m.subject
            msg.set_content(m.body)
            out.append(msg.as_bytes())
    return out


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def sent_messages() -> list[EmailMessage]:
    return [parse(data) for data in raw_messages()]


def summary(n: int, msg: EmailMessage) -> dict:
    body = msg.get_body(preferencelist=("plain",))
    return {
        "n": n,
        "to": msg.get("To", ""),
        "from": msg.get("From", ""),
        "subject": msg.get("Subject", ""),
        "date": msg.get("Date", ""),
        "text": body.get_content() if body is not None else "",
        "attachments": [part.get_filename() or "" for part in msg.iter_attachments()],
        "eml": f"/_local/outbox/{n}.eml",
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "message"


class Outbox:
    """Messages in the order SES accepted them. Messages without a Date header get the time they
    were first seen, as a mail server would stamp them."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self._messages: list[bytes] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for old in directory.glob("*.eml"):  # the emulator starts empty, so does the outbox
                old.unlink()

    def sync(self) -> int:
        """Picks up messages sent since the last call; returns how many there are in all."""
        with self._lock:
            for data in raw_messages()[len(self._messages):]:
                msg = parse(data)
                if msg["Date"] is None:
                    newline = b"\r\n" if b"\r\n" in data else b"\n"
                    data = f"Date: {formatdate(usegmt=True)}".encode() + newline + data
                    msg = parse(data)
                self._messages.append(data)
                if self.directory is not None:
                    name = f"{len(self._messages):04d}-{_slug(msg.get('Subject', ''))}.eml"
                    (self.directory / name).write_bytes(data)
            return len(self._messages)

    def raw(self, n: int) -> bytes | None:
        self.sync()
        return self._messages[n - 1] if 1 <= n <= len(self._messages) else None

    def summaries(self) -> list[dict]:
        self.sync()
        return [summary(i, parse(data)) for i, data in enumerate(list(self._messages), start=1)]

    def start(self, interval: float = 0.2) -> None:
        def poll() -> None:
            while not self._stopped.wait(interval):
                self.sync()

        self._thread = threading.Thread(target=poll, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
