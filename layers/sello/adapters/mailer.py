"""Outgoing mail through SES (v2 API, raw MIME so attachments work). Locally the emulator keeps
every message, which is what the local outbox shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from sello.adapters import aws
from sello.settings import get_settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class Mailer(Protocol):
    """The port the services send mail through; SesMailer is the adapter, tests may pass fakes."""

    def send(self, mail: Mail) -> str: ...  # the message id


class SesMailer:
    def send(self, mail: Mail) -> str:
        settings = get_settings()
        msg = EmailMessage()
        msg["From"] = settings.sender_email
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg.set_content(mail.text)
        for a in mail.attachments:
            maintype, _, subtype = a.mime_type.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=a.filename)
        kwargs = {
            "FromEmailAddress": settings.sender_email,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": msg.as_bytes()}},
        }
        if settings.ses_configuration_set:
            kwargs["ConfigurationSetName"] = settings.ses_configuration_set
        return aws.client("sesv2").send_email(**kwargs)["MessageId"]
