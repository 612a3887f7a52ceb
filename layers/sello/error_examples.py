"""What the OpenAPI document shows of each error: one answer per stable code and HTTP status, as the
API gives it (`{"error": {"code", "message", "path", ...}}`), in the source language (English).

A route names the codes it can answer (`sello.http.error_doc`) and the document shows, for each, the
example registered here. The messages are the ones the code raises: the message template the raise
site passes to `_l(...)` (its msgid), with its placeholders filled with plausible values.
tests/unit/test_error_examples.py reads the raise sites and fails when an example's template is not
one its code is raised with, when a placeholder is left unfilled, or when a code raised anywhere has
no example. The HTTP layer's own errors (sello.http) and each country plugin's
(`sello.countries.<cc>.error_examples`) are registered beside their code, from the messages
themselves where those are at hand."""

from __future__ import annotations

import importlib
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sello.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    SelloError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from sello.i18n import SOURCE, Message


@dataclass(frozen=True)
class ErrorExample:
    """One error answer: `status`, `code`, `message` (the msgid the code is raised with, or a Message),
    `params` (plausible values of the message's placeholders), `path`, and `extra` (ErrorDetail's
    other fields: limit, size, status, details). `context` marks an example meant for the routes of
    one context (e.g. "documents") when the same code and status read differently elsewhere."""

    status: int
    code: str
    message: str | Message
    params: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    context: str | None = None

    @property
    def msgid(self) -> str:
        return self.message.msgid if isinstance(self.message, Message) else self.message

    @property
    def placeholders(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.msgid) if name}

    def text(self) -> str:
        message = self.message if isinstance(self.message, Message) else Message(self.message, params=self.params)
        return message.render(SOURCE)

    def body(self) -> dict:
        error = {"code": self.code, "message": self.text()}
        if self.path:
            error["path"] = self.path
        return {"error": {**error, **self.extra}}


def example(error: type[SelloError] | int, code: str, message: str | Message, /, *, path: str | None = None,
            extra: Mapping[str, Any] | None = None, context: str | None = None, **params: Any) -> ErrorExample:
    """An ErrorExample as the raise site reads: the error class (or status), the code, the message
    template and its placeholders' values as keywords."""
    status = error if isinstance(error, int) else error.status
    return ErrorExample(status, code, message, params, path, extra or {}, context)


_REGISTERED: dict[tuple[str, int, str | None], ErrorExample] = {}


def register(*examples: ErrorExample) -> None:
    """Adds examples; the first one of a code, status and context stays."""
    for item in examples:
        _REGISTERED.setdefault((item.code, item.status, item.context), item)


@cache
def _load() -> None:
    """This module's examples, then the country plugins' (a code both know reads as here). Built on
    first use: only the OpenAPI document needs them."""
    from sello import countries

    register(*_sello_examples())
    for module in countries.error_example_modules():
        register(*importlib.import_module(module).examples())


def lookup(code: str, status: int, context: str | None = None) -> ErrorExample | None:
    """The example of `code` answered with `status`: the one of `context` when there is one."""
    _load()
    return _REGISTERED.get((code, status, context)) or _REGISTERED.get((code, status, None))


def registered() -> Iterable[ErrorExample]:
    _load()
    return tuple(_REGISTERED.values())


_DOCUMENT_ID = "doc_7h3k9m2p4r6t8v1x3z5b"


def _sello_examples() -> tuple[ErrorExample, ...]:
    return (
        # Accounts and API keys (services/accounts.py) ------------------------------------------------------
        example(ServiceUnavailable, "email_not_sent",
                "We could not send the confirmation email; nothing was kept, try again."),
        example(ServiceUnavailable, "email_not_sent", "We could not send the email with the code; try again.",
                context="live_activation"),
        example(Conflict, "last_active_key",
                "This is the account's last active {environment} API key. Create another key first.",
                path="key_id", environment="test"),
        example(Unprocessable, "invalid_confirmation_code", "The confirmation code is not valid for this email.",
                path="code"),
        example(Unprocessable, "invalid_confirmation_code", "The code is not the live-activation code of this account.",
                path="code", context="live_activation"),
        example(TooManyRequests, "too_many_attempts", "Too many wrong codes. Request a new code."),
        example(TooManyRequests, "too_many_requests", "A code was sent moments ago. Wait a little before asking again.",
                context="live_activation"),
        example(Conflict, "live_already_enabled", "This account already has live API keys; create more with a live key."),
        example(Conflict, "concurrent_change", "The keys of this account changed meanwhile; try again."),
        example(Conflict, "api_key_revoked", "This API key is revoked; create a new key instead.", path="key_id"),
        example(Gone, "confirmation_code_expired", "The confirmation code has expired. Request a new one.", path="code"),
        example(Gone, "confirmation_code_expired", "The code has expired. Ask for a new one.", path="code",
                context="live_activation"),
        example(NotFound, "account_not_found", "No such account."),
        example(Forbidden, "live_key_required",
                "This account is live: its issuers and certificates, which sign its live documents, can be changed "
                "only with a live API key."),
        example(Forbidden, "environment_mismatch", "A {environment} API key creates {environment} keys only; {how}.",
                path="environment", environment="test", how="use a test key"),
        example(NotFound, "api_key_not_found", "No API key with this id.", path="key_id"),
        example(Conflict, "already_confirmed", "This account is already confirmed."),
        example(ServiceUnavailable, "api_key_setup_failed",
                "The API key could not be set up; nothing was changed, try again."),
        # What the authorizer denies (API Gateway answers 403 with the code and message it passes on).
        example(Forbidden, "api_key_revoked", "This API key has been revoked."),
        example(Forbidden, "account_inactive", "The account of this API key is not active."),
        # Issuers, certificates, logos (services/issuers.py, certificates.py, logos.py) ---------------------
        example(NotFound, "issuer_not_found", "No issuer with this id.", path="issuer_id"),
        # Store integrations (services/integrations.py) -------------------------------------------------
        example(NotFound, "integration_not_found", "No integration with this id.", path="integration_id"),
        example(NotFound, "store_order_not_found", "No order with this id in this integration.", path="order_id"),
        example(BadRequest, "invalid_body", "The body is not JSON; the store sends its webhooks as JSON.",
                path="body"),
        example(Unauthorized, "invalid_signature", "The signature does not match the body and this integration's "
                "secret: give Sello the secret the store signs its webhooks with (webhook_secret)."),
        example(Unprocessable, "store_country_not_supported",
                "Orders from stores are not issued for issuers of {country} yet.", path="issuer_id",
                country="Colombia"),
        example(Unprocessable, "issuer_too_large",
                "The issuer would take {size} bytes, over the {limit} an issuer can hold; register fewer "
                "entries in {field}, or shorter names.", path="establishments",
                size=391_204, limit=380_000, field="establishments", extra={"limit": 380_000, "size": 391_204}),
        example(Conflict, "issuer_exists", "This account already has an issuer with {name} {tax_id}.", path="tax_id",
                name="RUC", tax_id="1790016919001"),
        example(Unprocessable, "invalid_certificate_file",
                "The file is not a PKCS#12 (.p12/.pfx) certificate file, or it is damaged.", path="certificate"),
        example(Unprocessable, "wrong_certificate_password", "The password does not open this certificate file.",
                path="password"),
        example(Unprocessable, "certificate_key_missing",
                "The certificate file holds no private key; export it again including the private key.",
                path="certificate"),
        example(Unprocessable, "certificate_missing", "The certificate file holds a private key but no certificate.",
                path="certificate"),
        example(Unprocessable, "certificate_key_unsupported", "The private key must be RSA of at least {bits} bits.",
                path="certificate", bits=2048),
        example(Unprocessable, "certificate_key_mismatch",
                "None of the certificates in the file belongs to its private key.", path="certificate"),
        example(Unprocessable, "certificate_not_for_signing",
                "The certificate is not meant for digital signatures (its key usage lacks digitalSignature).",
                path="certificate"),
        example(Unprocessable, "certificate_expired", "The certificate expired on {date}.", path="certificate",
                date="2025-11-30"),
        example(Unprocessable, "certificate_not_yet_valid", "The certificate is not valid until {date}.",
                path="certificate", date="2026-04-01"),
        example(Unprocessable, "certificate_tax_id_mismatch",
                "The certificate is not issued to {name} {tax_id}; it carries {carries}.", path="certificate",
                name="RUC", tax_id="1790016919001", carries="1792060346001"),
        example(Unprocessable, "certificate_not_trusted",
                "The certificate does not chain to a certification authority recognised in {country}, so it cannot "
                "sign live documents; upload one issued by such an authority, with its chain in the file.",
                path="certificate", country="Ecuador"),
        example(Conflict, "certificate_conflict",
                "The issuer's certificate changed while this one was being stored; send it again."),
        example(NotFound, "certificate_not_found", "This issuer has no certificate yet."),
        example(Unprocessable, "logo_too_large", "The logo is {size} bytes; at most {limit} ({kb} KB) are accepted.",
                path="logo", size=734_003, limit=512_000, kb=500, extra={"limit": 512_000, "size": 734_003}),
        example(Unprocessable, "logo_dimensions_too_large",
                "The logo is {width}×{height} pixels; at most {side}×{side} are accepted.", path="logo",
                width=4000, height=1200, side=2000),
        example(Unprocessable, "invalid_logo", "The logo is not a PNG or JPEG image.", path="logo"),
        example(NotFound, "logo_not_found", "This issuer has no logo.", path="issuer_id"),
        example(TooManyRequests, "too_many_emails",
                "Too many emails: at most {narrow} per {what} and {wide} per account in {window}. Try again in "
                "{wait}.", narrow=10, what="issuer", wide=50, window="1 hour", wait="12 minutes"),
        example(TooManyRequests, "too_many_emails",
                "Too many emails: at most {narrow} per {what} and {wide} per account in {window}. Try again in "
                "{wait}.", narrow=5, what="document", wide=200, window="1 hour", wait="41 minutes", context="documents"),
        example(BadRequest, "invalid_multipart", "The multipart/form-data body could not be read."),
        # Documents (services/documents.py) ----------------------------------------------------------------
        example(NotFound, "document_not_found", "No document with this id.", path="document_id"),
        example(Conflict, "document_not_retryable", "Only a failed document can be retried; this one is {status}.",
                status="authorized"),
        example(Conflict, "document_not_ready",
                "The document's PDF is not available yet; its status says how far it has come."),
        example(Conflict, "document_not_ready", "The document's authorized XML and PDF are not available yet; its "
                "status says how far it has come.", context="email"),
        example(Conflict, "document_not_authorized", "The document was rejected, so its {what} does not exist and "
                "will not: only authorized documents have one.", what="PDF", extra={"status": "rejected"}),
        example(Conflict, "document_not_authorized", "Only an authorized document has a status at the tax "
                "authority; this one is {status}.", status="processing", extra={"status": "processing"},
                context="authority_status"),
        example(Conflict, "authority_status_not_available", "The tax authority of {country} cannot be asked for a "
                "document's status through Sello.", country="Ecuador"),
        example(ServiceUnavailable, "authority_unavailable",
                "The tax authority could not be asked now; try again in a few minutes."),
        example(BadRequest, "invalid_idempotency_key", "{header} must be 1 to 255 printable ASCII characters.",
                path="Idempotency-Key", header="Idempotency-Key"),
        example(Unprocessable, "certificate_required",
                "The issuer has no signing certificate; upload one before issuing documents.", path="issuer_id"),
        example(Unprocessable, "related_document_not_found", "No document of this issuer with the id {id}.",
                path="related.0", id="doc_7m2k9x4v1c8b3n6q0w5e"),
        example(Unprocessable, "related_document_not_authorized", "Document {id} is {status}; only an authorized "
                "document can be related.", path="related.0", id="doc_7m2k9x4v1c8b3n6q0w5e", status="rejected"),
        example(Unprocessable, "related_document_cancelled", "Document {id} is cancelled at the tax authority; a "
                "cancelled document cannot be related.", path="related.0", id="doc_7m2k9x4v1c8b3n6q0w5e"),
        example(Conflict, "related_document_changed", "A document this payment applies to was changed by another "
                "payment issued at the same time; send the request again to compute it from the new balance."),
        example(Unprocessable, "certificate_expired",
                "The issuer's signing certificate has expired; upload its replacement.", path="issuer_id",
                context="documents"),
        example(Unprocessable, "certificate_not_trusted",
                "The issuer's signing certificate does not chain to a recognised certification authority, so it "
                "signs test documents only; upload one issued by such an authority to issue live documents.",
                path="issuer_id", context="documents"),
        example(Unprocessable, "document_too_large", "The document is too large to store: {size} bytes, over the "
                "{limit} a document can hold; split it into several.", path="body", size=402_117, limit=390_000,
                extra={"limit": 390_000, "size": 402_117}),
        # Documents signed elsewhere (services/stamping.py, countries' external_document) --------------------
        example(Unprocessable, "document_too_large", "The document is {size} bytes, over the {limit} Sello stamps.",
                path="xml", size=1_204_331, limit=1_000_000, extra={"limit": 1_000_000, "size": 1_204_331},
                context="stamp"),
        example(Unprocessable, "external_documents_not_supported", "Documents signed elsewhere cannot be stamped "
                "for this issuer's country; issue them with POST /v1/documents.", path="issuer_id"),
        example(Unprocessable, "issuer_tax_id_mismatch", "The document is issued by {name} {tax_id}, not by the "
                "issuer's {issuer_tax_id}.", path="xml.Emisor.Rfc", name="RFC", tax_id="XIA190128J61",
                issuer_tax_id="EKU9003173C9"),
        example(Unprocessable, "certificate_expired", "The certificate expired on {date}.", path="xml.Certificado",
                date="2025-11-30 18:00 UTC", context="stamp"),
        example(Unprocessable, "certificate_not_yet_valid", "The certificate is not valid until {date}.",
                path="xml.Certificado", date="2026-04-01 00:00 UTC", context="stamp"),
        example(Unprocessable, "certificate_tax_id_mismatch",
                "The certificate is not issued to {name} {tax_id}; it carries {carries}.", path="xml.Certificado",
                name="RFC", tax_id="EKU9003173C9", carries="XIA190128J61", context="stamp"),
        example(Unprocessable, "certificate_not_trusted",
                "The certificate does not chain to a certification authority recognised in {country}, so it cannot "
                "sign live documents; upload one issued by such an authority, with its chain in the file.",
                path="xml.Certificado", country="México", context="stamp"),
        example(Unprocessable, "invalid_value", "xml_base64 is not valid base64.", path="xml_base64",
                context="stamp"),
        example(Unprocessable, "missing_field", "The document is empty.", path="xml", context="stamp"),
        example(Unprocessable, "invalid_status", "status must be one of {values}.", path="status",
                values="processing, authorized, rejected, failed"),
        example(Unprocessable, "invalid_type", "type must be one of {values}.", path="type",
                values="invoice, credit_note, debit_note, delivery_guide, withholding, purchase_settlement"),
        example(Unprocessable, "invalid_customer", "customer must be a tax id of 1 to {max} printable characters.",
                path="customer", max=20),
        example(Unprocessable, "invalid_date", "{name} must be an ISO 8601 date (2026-03-02) or date and time "
                "(2026-03-02T15:00:00Z).", path="from", name="from"),
        example(Unprocessable, "invalid_date_range", "from must not be after to.", path="from"),
        example(BadRequest, "invalid_cursor", "The cursor is not one this API returned.", path="cursor"),
        example(Unprocessable, "email_required", "The document's customer has no email; give the address in `to`.",
                path="to"),
        example(ServiceUnavailable, "email_unavailable", "The email could not be sent; try again later."),
        example(Conflict, "idempotency_key_reused", "This {header} was used with a different request; use a new key "
                "for a new document.", path="Idempotency-Key", header="Idempotency-Key"),
        example(Conflict, "idempotency_key_in_use", "A request with this {header} is still being processed; send it "
                "again in a few seconds.", path="Idempotency-Key", header="Idempotency-Key"),
        example(ServiceUnavailable, "workflow_unavailable",
                "Document {id} was stored, but its processing could not be started; {retry}.", id=_DOCUMENT_ID,
                retry="send the same request with the same Idempotency-Key to start it"),
        # Cancellations (services/cancellation.py) ---------------------------------------------------------
        example(Conflict, "cancellation_not_available", "Documents of {country} cannot be cancelled through Sello: "
                "the tax authority has no cancellation service Sello can call.", country="Ecuador"),
        example(Conflict, "document_not_authorized", "Only an authorized document can be cancelled; this one is "
                "{status}.", status="processing", extra={"status": "processing"}, context="cancel"),
        example(Conflict, "cancellation_in_progress", "A cancellation of this document is in progress; its status "
                "says how far it has come."),
        example(Conflict, "document_cancelled", "This document is already cancelled."),
        example(Unprocessable, "related_document_not_found", "No document of this issuer with the id {id}.",
                path="substitute", id="doc_7m2k9x4v1c8b3n6q0w5e", context="cancel"),
        example(Unprocessable, "related_document_not_authorized", "Document {id} is {status}; only an authorized "
                "document can be related.", path="substitute", id="doc_7m2k9x4v1c8b3n6q0w5e", status="failed",
                context="cancel"),
        example(Unprocessable, "related_document_cancelled", "Document {id} is cancelled at the tax authority; a "
                "cancelled document cannot be related.", path="substitute", id="doc_7m2k9x4v1c8b3n6q0w5e",
                context="cancel"),
        example(ServiceUnavailable, "workflow_unavailable",
                "The cancellation could not be started; request it again in a few minutes.", context="cancel"),
        example(Conflict, "cancellation_receipt_not_available", "The document has no cancellation receipt: no "
                "cancellation was requested, or the authority has not taken it yet."),
        # Webhook endpoints (services/webhooks.py, adapters/webhook_http.py) -------------------------------
        example(NotFound, "event_not_found", "No event with this id.", path="event_id"),
        example(NotFound, "webhook_endpoint_not_found", "No webhook endpoint with this id.", path="endpoint_id"),
        example(Conflict, "too_many_webhook_endpoints", "This account already has {limit} webhook endpoints in "
                "this environment; delete one first.", limit=16),
        example(Unprocessable, "webhook_url_not_allowed", "The URL's host {host} resolves to an address that is "
                "not public (private, loopback, link-local or reserved); events are sent only to the internet.",
                path="url", host="intranet.example.com"),
        # Shared by the countries (countries/__init__.py) --------------------------------------------------
        example(Unprocessable, "unsupported_country", "Country {country} is not supported; supported: {supported}.",
                path="country", country="'PE'", supported="EC"),
    )
