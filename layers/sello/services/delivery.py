"""The one email that carries an authorized document to its customer: sent by the workflow's notify
task and again, on request, by POST /v1/documents/{id}/email. Also the file names the document's
XML and PDF go by, in the email and in downloads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sello.adapters.mailer import Attachment, Mail
from sello.models.common import CONTROL_CHARACTERS

XML, PDF = "application/xml", "application/pdf"
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(document: Mapping[str, Any], extension: str) -> str:
    """`<number>.<extension>` (e.g. 001-001-000000042.pdf), or the document id while it has no number."""
    stem = _UNSAFE_IN_FILE_NAME.sub("_", str(document.get("number") or "")).strip("_") or document["id"]
    return f"{stem}.{extension}"


def _one_line(value: str) -> str:
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


def document_mail(document: Mapping[str, Any], to: str, xml: bytes, pdf: bytes) -> Mail:
    """`document` holds the stored document's fields: id, number, title ("Factura"), issuer_name."""
    number = document.get("number") or document["id"]
    title = document.get("title") or "Electronic document"
    issuer = document.get("issuer_name")
    subject = f"{title} {number}" + (f" - {issuer}" if issuer else "")
    opening = f"{issuer} has sent you" if issuer else "Here is"
    text = (f"{_one_line(opening)} {title.lower()} {number}.\n\n"
            "Attached are the document authorized by the tax authority (XML) and its printable version "
            "(PDF). Keep the XML: it is the document with legal value.\n")
    return Mail(to=to, subject=_one_line(subject), text=text,
                attachments=(Attachment(file_name(document, "xml"), xml, XML),
                             Attachment(file_name(document, "pdf"), pdf, PDF)))
