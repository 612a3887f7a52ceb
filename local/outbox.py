"""The local outbox: every message sent through the emulated SES, oldest first.

`sent_messages()` reads the emulator's record directly (tests use it). `Outbox` numbers the messages
from 1 for the local stack's /_local/outbox endpoints and writes each one, as it shows up, to a
<n>-<subject>.eml file that any mail client opens. In memory it keeps the last `keep` messages (the
emulator keeps as many, see local/emulator.py); older ones are only on disk."""

from __future__ import annotations

import collections
import email
import email.policy
import re
import threading
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from moto.ses.models import ses_backends

from local.emulator import KEEP_MESSAGES
from local.resources import ACCOUNT, REGION


def _raw(m) -> bytes:
    raw = getattr(m, "raw_data", None)
    if raw is not None:
        return raw.encode() if isinstance(raw, str) else raw
    msg = EmailMessage()
    msg["From"] = m.source
    msg["To"] = ", ".join(m.destinations.get("ToAddresses", []))
    msg["Subject"] = m.subject
    msg.set_content(m.body)
    return msg.as_bytes()


def _sent() -> tuple[int, list]:
    """(how many messages the emulator no longer keeps, the ones it keeps, oldest first)."""
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    snapshot = getattr(sent, "snapshot", None)
    return snapshot() if snapshot else (0, list(sent))


def raw_messages() -> list[bytes]:
    """The MIME bytes of every message SES accepted so far (that the emulator still keeps)."""
    return [_raw(m) for m in _sent()[1]]


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def sent_messages() -> list[EmailMessage]:
    return [parse(data) for data in raw_messages()]


def summary(n: int, msg: EmailMessage) -> dict:
    body = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return {
        "n": n,
        "to": msg.get("To", ""),
        "from": msg.get("From", ""),
        "subject": msg.get("Subject", ""),
        "date": msg.get("Date", ""),
        "text": body.get_content() if body is not None else "",
        "html": html.get_content() if html is not None else None,
        "attachments": [part.get_filename() or "" for part in msg.iter_attachments()],
        "eml": f"/_local/outbox/{n}.eml",
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "message"


class Outbox:
    """Messages in the order SES accepted them. Messages without a Date header get the time they
    were first seen, as a mail server would stamp them."""

    def __init__(self, directory: Path | None = None, keep: int = KEEP_MESSAGES):
        self.directory = directory
        self.keep = keep
        self._messages: collections.deque[tuple[bytes, dict]] = collections.deque(maxlen=keep)
        self._count = 0  # messages taken from the emulator so far, the newest is number _count
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
            dropped, kept = _sent()
            # Messages the emulator let go before they were seen here (more than it keeps were
            # sent between two calls) are counted, not shown.
            self._count = max(self._count, dropped)
            for m in kept[self._count - dropped:]:
                data = _raw(m)
                msg = parse(data)
                if msg["Date"] is None:
                    newline = b"\r\n" if b"\r\n" in data else b"\n"
                    data = f"Date: {formatdate(usegmt=True)}".encode() + newline + data
                    msg = parse(data)
                self._count += 1
                self._messages.append((data, summary(self._count, msg)))
                if self.directory is not None:
                    name = f"{self._count:04d}-{_slug(msg.get('Subject', ''))}.eml"
                    (self.directory / name).write_bytes(data)
            return self._count

    def raw(self, n: int) -> bytes | None:
        """Message number `n`, while it is among the last `keep`."""
        self.sync()
        with self._lock:
            first = self._count - len(self._messages) + 1
            return self._messages[n - first][0] if first <= n <= self._count else None

    def summaries(self) -> list[dict]:
        """The last `keep` messages, numbered from 1 since the start."""
        self.sync()
        with self._lock:
            return [s for _, s in self._messages]

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
