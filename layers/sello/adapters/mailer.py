"""Outgoing mail through SES (v2 API, raw MIME so attachments work). Locally the emulator keeps
every message, which is what the local outbox shows.

A mail with `html` is multipart/alternative (the text first, then the HTML, with its `inline`
images as multipart/related parts), inside multipart/mixed when it has attachments. `from_name` is
the display name before the platform's sender address; `reply_to` where answers go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sello.adapters import aws
from sello.settings import get_settings

if TYPE_CHECKING:
    from email.message import EmailMessage


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
    html: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    inline: tuple[Attachment, ...] = field(default_factory=tuple)  # images the HTML shows (cid:<filename>)


class Mailer(Protocol):
    """The port the services send mail through; SesMailer is the adapter, tests may pass fakes."""

    def send(self, mail: Mail) -> str: ...  # the message id


class SesMailer:
    def send(self, mail: Mail) -> str:
        settings = get_settings()
        kwargs = {
            "FromEmailAddress": settings.sender_email,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": mime_bytes(mail, settings.sender_email)}},
        }
        if settings.ses_configuration_set:
            kwargs["ConfigurationSetName"] = settings.ses_configuration_set
        return aws.client("sesv2").send_email(**kwargs)["MessageId"]


def _display_name(name: str) -> str:
    """A display name cannot carry line breaks (or any control character)."""
    return " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in name).split())


def mime_bytes(mail: Mail, sender: str) -> bytes:
    """The message as sent. Headers are not folded below SMTP's 998 characters: Python folds a header
    before an encoded word keeping the space on both sides, so "en 30 días" would read "en 30  días"."""
    msg = mime_message(mail, sender)
    return msg.as_bytes(policy=msg.policy.clone(max_line_length=998))


def mime_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message SES sends: From is the platform's `sender` (under `mail.from_name`). The email
    package (its header parser above all) is imported here, when a message is built, not by every
    function that imports this adapter."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import parseaddr

    msg = EmailMessage()
    if mail.from_name:
        local, _, domain = parseaddr(sender)[1].partition("@")
        msg["From"] = Address(display_name=_display_name(mail.from_name), username=local, domain=domain)
    else:
        msg["From"] = sender
    msg["To"] = mail.to
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = mail.subject
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
        html = msg.get_body(preferencelist=("html",))
        for image in mail.inline:
            maintype, _, subtype = image.mime_type.partition("/")
            html.add_related(image.content, maintype=maintype, subtype=subtype or "octet-stream",
                             cid=f"<{image.filename}>", disposition="inline", filename=image.filename)
    for a in mail.attachments:
            maintype, _, subtype = a.mime_type.partition("/")
            msg.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=a.filename)
    return msg
