"""The one email that carries an authorized document to its customer: sent by the workflow's notify
task and again, on request, by POST /v1/documents/{id}/email. Also the file names the document's
XML and PDF go by, in the email and in downloads.

The email is written in the issuer's language (sello.i18n), as HTML with a plain-text alternative,
from the platform's address under the issuer's name, with replies going to the issuer. The HTML
comes from templates/document_email.html (Jinja2, every value escaped): tables and inline styles,
which mail clients render alike, 600 pixels wide."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from sello.adapters.mailer import Attachment, Mail
from sello.i18n import Translator, _l, translator
from sello.models.common import CONTROL_CHARACTERS

XML, PDF = "application/xml", "application/pdf"
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOGO_CID = "logo"
# What a document type is called in an email, by the country-neutral type; a type missing here keeps
# the country's own name for it (the stored `title`).
DOCUMENT_TYPES = {
    "invoice": _l("Invoice"),
    "credit_note": _l("Credit note"),
    "debit_note": _l("Debit note"),
    "delivery_guide": _l("Delivery guide"),
    "withholding": _l("Withholding receipt"),
}


# What the email says of a cancellation's final state (services/cancellation.py), by its status.
CANCELLATION_STATES = {
    "accepted": _l("Cancelled"),
    "expired": _l("Cancelled (the time to answer passed)"),
    "rejected": _l("Cancellation rejected"),
    "failed": _l("Cancellation not completed"),
}


def file_name(document: Mapping[str, Any], extension: str) -> str:
    """`<number>.<extension>` (e.g. 001-001-000000042.pdf), or the document id while it has no number."""
    stem = _UNSAFE_IN_FILE_NAME.sub("_", str(document.get("number") or "")).strip("_") or document["id"]
    return f"{stem}.{extension}"


def _one_line(value: str) -> str:
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _get(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def document_mail(document: Mapping[str, Any], to: str, xml: bytes, pdf: bytes, issuer: Any = None,
                  logo: bytes | None = None, logo_type: str = "image/png",
                  cancellation: Mapping[str, Any] | None = None, receipt: bytes | None = None) -> Mail:
    """`document` holds the stored document's fields: id, type, number, title ("Factura"),
    issuer_name, issue_date, totals, access_key, authorization_number. `issuer` (models.issuers.Issuer,
    when known) gives the language, the sender's name (trade name, else legal name) and the Reply-To
    address. `logo`: the issuer's logo, shown at the top when given. `cancellation` (the document's
    fields with its final `cancellation_status`) makes it the email of a cancellation's final state,
    with the authority's `receipt` of the request attached when there is one."""
    t = translator(_get(issuer, "language"), _get(issuer, "country") or document.get("country"))
    content = _content(document, issuer, t)
    if cancellation is not None:
        content = _cancellation_content(content, document, cancellation, t)
    html = _environment().get_template("document_email.html").render(
        **content, logo_cid=LOGO_CID if logo else None)
    attachments = (Attachment(file_name(document, "xml"), xml, XML), Attachment(file_name(document, "pdf"), pdf, PDF))
    if receipt:
        attachments += (Attachment(file_name(document, "cancelacion.xml"), receipt, XML),)
    return Mail(to=to, subject=content["subject"], text=_text(content), html=html,
                from_name=content["sender"] or None, reply_to=_get(issuer, "email") or None,
                attachments=attachments, inline=(Attachment(LOGO_CID, logo, logo_type),) if logo else ())


def _cancellation_content(content: dict[str, Any], document: Mapping[str, Any], cancellation: Mapping[str, Any],
                          t: Translator) -> dict[str, Any]:
    """The email's texts for the final state of a cancellation."""
    status = str(cancellation.get("cancellation_status") or "failed")
    state = t.text(CANCELLATION_STATES.get(status, CANCELLATION_STATES["failed"]))
    heading = content["heading"]
    if status in ("accepted", "expired"):
        intro = t.gettext("{document} was cancelled at the tax authority; it no longer has fiscal "
                          "effect.").format(document=heading)
    else:
        intro = t.gettext("The cancellation of {document} did not go through; the document stays in "
                          "force.").format(document=heading)
    return {**content, "subject": _one_line(f"{state}: {content['subject']}"), "heading": f"{heading} · {state}",
            "intro": intro, "rows": [*content["rows"], (t.gettext("Cancellation"), state)],
            "attachments_note": t.gettext("Attached are the document (XML), its printable version (PDF) and, when "
                                          "there is one, the tax authority's receipt of the cancellation "
                                          "request.")}


def _authorization_label(document: Mapping[str, Any], issuer: Any):
    """What the authority calls its authorization number (the country plugin's
    `authorization_label`; Mexico: folio fiscal)."""
    from sello.countries import get_plugin, supported_countries

    country = _get(issuer, "country") or document.get("country")
    if country not in supported_countries():
        return _AUTHORIZATION_NUMBER
    return get_plugin(country).authorization_label


_AUTHORIZATION_NUMBER = _l("Authorization number")


def _content(document: Mapping[str, Any], issuer: Any, t: Translator) -> dict[str, Any]:
    """Every text of the email, translated and formatted, for the HTML template and the plain text."""
    number = str(document.get("number") or document["id"])
    kind = DOCUMENT_TYPES.get(str(document.get("type")))
    title = t.text(kind) if kind else (document.get("title") or t.gettext("Electronic document"))
    sender = _one_line(str(_get(issuer, "trade_name") or _get(issuer, "legal_name")
                           or document.get("issuer_name") or ""))
    legal_name = _one_line(str(_get(issuer, "legal_name") or document.get("issuer_name") or sender))
    totals = document.get("totals") or {}
    total, currency = _amount(_get(totals, "total")), _get(totals, "currency") or "USD"
    issued = _date(document.get("issue_date"))
    access_key = str(document.get("access_key") or "")
    authorization = str(document.get("authorization_number") or "")
    rows = [(t.gettext("Document"), f"{title} {number}")]
    if issued:
        rows.append((t.gettext("Date of issue"), t.date(issued, "long")))
    if total is not None:
        rows.append((t.gettext("Total"), t.money(total, currency)))
    if access_key:
        rows.append((t.gettext("Access key (clave de acceso)"), access_key))
    if authorization and authorization != access_key:
        rows.append((_authorization_label(document, issuer).render(t), authorization))
    intro = (t.gettext("{issuer} has sent you {document} {number}.").format(issuer=legal_name, document=title,
                                                                            number=number)
             if legal_name else t.gettext("Here is {document} {number}.").format(document=title, number=number))
    return {
        "lang": t.language,
        "subject": _one_line(f"{title} {number}" + (f" - {sender}" if sender else "")),
        "sender": sender,
        "heading": f"{title} {number}",
        "issuer_name": legal_name,
        "intro": intro,
        "rows": rows,
        "total": t.money(total, currency) if total is not None else "",
        "total_label": t.gettext("Total"),
        "access_key": access_key,
        "attachments_note": t.gettext(
            "Attached are the document authorized by the tax authority (XML) and its printable version (PDF). "
            "Keep the XML: it is the document with legal value."),
        "reply_note": t.gettext("Questions about this document? Reply to this email to reach {issuer}.").format(
            issuer=sender or legal_name) if _get(issuer, "email") else "",
        "footer": t.gettext("Sent with Sello, electronic invoicing."),
    }


def _text(content: Mapping[str, Any]) -> str:
    """The plain-text alternative: the same facts, one per line."""
    width = max(len(label) for label, _ in content["rows"])
    lines = [content["intro"], ""]
    lines += [f"  {label + ':':<{width + 1}} {value}" for label, value in content["rows"]]
    lines += ["", content["attachments_note"]]
    if content["reply_note"]:
        lines += ["", content["reply_note"]]
    lines += ["", "-- ", content["footer"]]
    return "\n".join(lines) + "\n"
