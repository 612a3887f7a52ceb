"""Cancelling an authorized document: the request (POST /v1/documents/{id}/cancel), the workflow's
cancellation tasks, and the download of the authority's receipt.

The request is checked in this order, nothing written before the last check: the document is the
caller's (404); its country's authority takes cancellations through Sello (409
cancellation_not_available otherwise); the body is valid for the country (`cancel_request_model`,
422s at its fields); the document is authorized (409 document_not_authorized) and has no cancellation
pending or done (409 cancellation_in_progress, document_cancelled); the documents the body names by
Sello id (Mexico: the substitute) are this issuer's, in this environment, authorized (422
related_document_not_found / related_document_not_authorized at their field), and the country's own
rules hold (`prepare_cancellation`: Mexico's substitute rules). Then the cancellation is recorded as
`pending` with a conditional update (so two requests at once record one) and the state machine is
started with `"action": "cancel"`, one execution per request; a rejected or failed cancellation can
be requested again, under a new execution.

The workflow's cancellation tasks work like the document's (services/workflow.py): each reads the
item, does its step at most once and records it. `request` sends the request to the authority (signed
with the issuer's key: the task decrypts it) and stores its receipt; an unreachable authority is
waited for with growing waits, up to the retry window. `status` asks the authority how far the
cancellation has come, with the same growing waits, for up to settings.cancellation_window_seconds
after the authority took it (SAT: the receiver's three business days to accept). `finish` renders the
PDF again with the cancelled mark (when the document is cancelled), emails the customer the final
state, and records it: the API shows a final status only once the PDF and the email are done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sello.adapters.blobs import document_key
from sello.adapters.documents_repo import document_keys
from sello.adapters.dynamo import ConditionFailed
from sello.countries import AuthorityUnavailable, get_plugin
from sello.countries.outcomes import AuthorityMessage
from sello.errors import Conflict, ServiceUnavailable
from sello.i18n import DEFAULT_LANGUAGE, _l
from sello.ids import iso, utcnow
from sello.models.common import Environment
from sello.models.documents import CANCELLED, Document, DocumentView
from sello.services import downloads, settlements
from sello.services.delivery import PDF, XML, document_mail, file_name
from sello.services.documents import DocumentsRepo, Files, document_not_found, find_references
from sello.services.logos import stored_logo
from sello.services.workflow import (
    DocumentWorkflow,
    StateError,
    TaskInput,
    WaitFields,
    _cut,
    _messages,
)
from sello.settings import Settings, get_settings
from sello.validation import validate_body

log = logging.getLogger(__name__)

RECEIPT_FILE = "cancellation-receipt.xml"
# Where a cancellation records its wait for an unreachable authority (DocumentWorkflow._unreachable).
CANCELLATION_WAIT = WaitFields("cancellation_unreachable_since", "cancellation_next_attempt_at",
                               "cancellation_unreachable_count")
# Cleared when a cancellation is requested again: they belong to the one before.
_PREVIOUS = ("cancellation_finished_at", "cancellation_authority_status", "cancellation_messages",
             "cancellation_receipt_key", "cancellation_next_attempt_at", "cancellation_error",
             "cancellation_delivery_error", "cancellation_sent_at", "cancellation_polls",
             "cancellation_unreachable_since", "cancellation_unreachable_count", "cancellation_notified_at",
             "cancellation_pdf_at")
# What a cancellation that ends as failed tells the client, by the state machine's error name.
_FAILURES = {
    "Sello.AuthorityUnreachable": ("authority_unreachable", "The tax authority could not be reached during the "
                                                            "whole retry window; request the cancellation again."),
    "Sello.CancellationTimedOut": ("cancellation_timed_out", "The tax authority did not decide on the "
                                                             "cancellation in time; ask it for the document's "
                                                             "status, and request the cancellation again if "
                                                             "needed."),
    "CertificateNotTrusted": ("certificate_not_trusted", "The issuer's signing certificate signs test documents "
                                                         "only; the cancellation was not requested."),
}
_FAILED = ("cancellation_failed", "The cancellation could not be requested; request it again.")
_UNDELIVERED = ("delivery_failed", "The cancellation is final, but the PDF or the email could not be delivered.")


def _rejection(messages: tuple[AuthorityMessage, ...]) -> dict:
    first = next((m for m in messages if not m.warning), None)
    if first is None:
        return {"code": "cancellation_rejected", "message": "The tax authority refused the cancellation."}
    text = _cut(f"{first.code} {first.message}".strip(), 400)
    return {"code": first.reason or "cancellation_rejected",
            "message": f"The cancellation was refused: {text}"}


# The request (API) -------------------------------------------------------------------------------------

class CancellationStore:
    """What the request needs from the table: a conditional update of the document's item."""

    def update(self, pk: str, sk: str, *, set_: dict | None = None, add: dict | None = None,
               remove: Any = (), condition: str | None = None, values: dict | None = None) -> dict: ...


class CancellationStarter:
    def start_cancellation(self, account_id: str, document_id: str, attempt: int) -> str: ...


@dataclass
class CancellationService:
    repo: DocumentsRepo
    store: CancellationStore
    starter: CancellationStarter | None = None
    files: Files | None = None
    settings: Settings | None = None
    clock: Callable[[], datetime] = utcnow

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _find(self, account_id: str, environment: Environment, document_id: str) -> Document:
        from sello.ids import is_id

        doc = self.repo.get(account_id, document_id) if is_id(document_id, "doc") else None
        if doc is None or doc.environment != environment:
            raise document_not_found()
        return doc

    def request(self, account_id: str, environment: Environment, document_id: str, body: Any) -> DocumentView:
        doc = self._find(account_id, environment, document_id)
        plugin = get_plugin(doc.country)
        model = plugin.cancel_request_model
        if model is None:
            raise Conflict(_l("Documents of {country} cannot be cancelled through Sello: the tax authority has "
                              "no cancellation service Sello can call.", country=plugin.name),
                           code="cancellation_not_available")
        request = validate_body(model, body if body is not None else {})
        if doc.status != "authorized" or not doc.authorization_number:
            raise Conflict(_l("Only an authorized document can be cancelled; this one is {status}.",
                              status=doc.status), code="document_not_authorized", extra={"status": doc.status})
        if doc.cancellation_status == "pending":
            raise Conflict(_l("A cancellation of this document is in progress; its status says how far it has "
                              "come."), code="cancellation_in_progress")
        if doc.cancellation_status in CANCELLED:
            raise Conflict(_l("This document is already cancelled."), code="document_cancelled")
        found = find_references(self.repo, account_id, environment, doc.issuer_id,
                                plugin.cancellation_references(request))
        prepared = plugin.prepare_cancellation(doc.model_dump(mode="json"), request,
                                               {k: v.model_dump(mode="json") for k, v in found.items()})
        substitute = getattr(request, "substitute", None)
        pk, sk = document_keys(account_id, document_id)
        now = iso(self._now())
        try:
            item = self.store.update(
                pk, sk, set_={"cancellation_status": "pending", "cancellation_motive": request.motive,
                              "cancellation_substitute": substitute, "cancellation_request": prepared,
                              "cancellation_requested_at": now, "updated_at": now},
                add={"cancellation_attempt": 1}, remove=_PREVIOUS,
                condition="#status = :authorized AND (attribute_not_exists(#cancellation_status) OR "
                          "#cancellation_status = :rejected OR #cancellation_status = :failed)",
                values={":authorized": "authorized", ":rejected": "rejected", ":failed": "failed"})
        except ConditionFailed:
            raise Conflict(_l("A cancellation of this document is in progress; its status says how far it has "
                              "come."), code="cancellation_in_progress") from None
        attempt = int(item["cancellation_attempt"])
        try:
            self.starter.start_cancellation(account_id, document_id, attempt)
        except Exception:
            log.exception("cancellation workflow not started for document %s", document_id)
            self.store.update(pk, sk, set_={"cancellation_status": "failed", "cancellation_finished_at": now,
                                            "cancellation_error": {"code": "workflow_unavailable",
                                                                   "message": _FAILED[1]}},
                              condition="#cancellation_status = :pending", values={":pending": "pending"})
            raise ServiceUnavailable(_l("The cancellation could not be started; request it again in a few "
                                        "minutes."), code="workflow_unavailable") from None
        return DocumentView.of(self.repo.get(account_id, document_id))

    def receipt(self, account_id: str, environment: Environment, document_id: str) -> downloads.Download:
        """A short-lived URL of the authority's receipt of the latest cancellation request."""
        doc = self._find(account_id, environment, document_id)
        if not doc.cancellation_receipt_key:
            raise Conflict(_l("The document has no cancellation receipt: no cancellation was requested, or the "
                              "authority has not taken it yet."), code="cancellation_receipt_not_available")
        return downloads.download(self.files, doc.cancellation_receipt_key,
                                  filename=file_name(doc.model_dump(), "cancelacion.xml"),
                                  content_type=XML, now=self._now(), settings=self.settings)


def default_service() -> CancellationService:
    from sello.adapters.blobs import S3Blobs
    from sello.adapters.documents_repo import DynamoDocumentsRepo
    from sello.adapters.dynamo import DynamoStore
    from sello.adapters.workflow import StepFunctionsStarter

    settings = get_settings()
    store = DynamoStore(settings.table_name)
    return CancellationService(DynamoDocumentsRepo(store), store,
                               starter=StepFunctionsStarter(settings.state_machine_arn),
                               files=S3Blobs(settings.bucket_name), settings=settings)


# The workflow's tasks -----------------------------------------------------------------------------------

class CancellationFinishInput(TaskInput):
    status: Literal["accepted", "rejected", "expired", "failed"]
    error: StateError | None = None


class CancellationWorkflow(DocumentWorkflow):
    """The cancellation's tasks, on the same ports as the document's (DocumentWorkflow)."""

    def cancel_request(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if doc.get("cancellation_status") != "pending":
            return {"status": doc.get("cancellation_status") or "failed", "wait_seconds": 0}
        if doc.get("cancellation_sent_at"):  # the authority has it: never send it twice
            return {"status": "requested", "wait_seconds": self._wait(0)}
        key, cert = self.credentials.load_signing_key(task.account_id, doc["issuer_id"], doc["environment"])
        try:
            outcome = self._plugin(doc).cancel(doc, doc["cancellation_request"], key, cert, doc["environment"])
        except AuthorityUnavailable as exc:
            log.warning("authority unavailable while cancelling document %s: %s", task.document_id, exc)
            return self._unreachable(doc, CANCELLATION_WAIT)
        fields: dict[str, Any] = {"cancellation_messages": _messages(outcome.messages)}
        if outcome.receipt:
            blob = document_key(task.account_id, task.document_id, RECEIPT_FILE)
            self.blobs.put(blob, outcome.receipt, XML)
            fields["cancellation_receipt_key"] = blob
        waiting = ("cancellation_unreachable_since", "cancellation_next_attempt_at")
        if outcome.status == "rejected":
            self._update(doc, cancellation_error=_rejection(outcome.messages), remove=waiting, **fields)
            return {"status": "rejected", "wait_seconds": 0}
        self._update(doc, cancellation_sent_at=self._now(), remove=waiting, **fields)
        return {"status": "requested", "wait_seconds": self._wait(0)}

    def cancel_status(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if doc.get("cancellation_status") != "pending":
            return {"status": doc.get("cancellation_status") or "failed", "wait_seconds": 0}
        try:
            outcome = self._plugin(doc).cancellation_status(doc, doc["environment"])
        except AuthorityUnavailable as exc:
            log.warning("authority unavailable while asking for the cancellation of %s: %s", task.document_id, exc)
            outcome = None
        if outcome is not None and outcome.status != "pending":
            fields: dict[str, Any] = {"cancellation_authority_status": outcome.authority_status}
            if outcome.messages:
                fields["cancellation_messages"] = _messages(outcome.messages)
            if outcome.status == "rejected":
                fields["cancellation_error"] = _rejection(outcome.messages)
            self._update(doc, remove=("cancellation_next_attempt_at",), **fields)
            return {"status": outcome.status, "wait_seconds": 0}
        window = timedelta(seconds=self.settings.cancellation_window_seconds)
        if self.clock() >= datetime.fromisoformat(doc["cancellation_sent_at"]) + window:
            return {"status": "timed_out" if outcome is not None else "unreachable", "wait_seconds": 0}
        wait = self._wait(int(doc.get("cancellation_polls", 0)) + 1)
        fields = {"cancellation_next_attempt_at": iso(self.clock() + timedelta(seconds=wait))}
        if outcome is not None and outcome.authority_status:
            fields["cancellation_authority_status"] = outcome.authority_status
        self._update(doc, add={"cancellation_polls": 1}, **fields)
        return {"status": "pending", "wait_seconds": wait}

    def cancel_finish(self, task: CancellationFinishInput) -> dict:
        """Renders the cancelled PDF and emails the final state (each once), then records the state."""
        doc = self._load(task)
        if doc.get("cancellation_status") != "pending":
            return {"status": doc.get("cancellation_status") or task.status}
        final = {**doc, "cancellation_status": task.status}
        fields: dict[str, Any] = {"cancellation_status": task.status, "cancellation_finished_at": self._now()}
        if task.status == "failed":
            code, message = _FAILURES.get(task.error.Error if task.error else "", _FAILED)
            fields["cancellation_error"] = {"code": code, "message": message}
        if task.status in CANCELLED and doc.get("settles"):
            # A cancelled payment pays nothing: the documents it paid get their balance back (before the
            # final state is recorded, so a run of this task that stops in between frees it next time).
            settlements.release(self.store, task.account_id, task.document_id, doc["settles"])
        try:
            if task.status in CANCELLED:
                self._render_cancelled(task, final)
            self._notify_cancellation(task, final)
        except Exception:
            log.exception("cancelled document %s not delivered", task.document_id)
            fields["cancellation_delivery_error"] = {"code": _UNDELIVERED[0], "message": _UNDELIVERED[1]}
        try:
            self._update(doc, remove=("cancellation_next_attempt_at",), **fields,
                         condition="#cancellation_status = :pending", values={":pending": "pending"})
        except ConditionFailed:
            return {"status": self._load(task).get("cancellation_status")}
        return {"status": task.status}

    # -- helpers -------------------------------------------------------------------------------------

    def _render_cancelled(self, task: TaskInput, doc: Mapping[str, Any]) -> None:
        if doc.get("cancellation_pdf_at") or not doc.get("authorized_key"):
            return
        issuer = self._issuer(task.account_id, doc)
        logo = stored_logo(self.blobs, task.account_id, doc["issuer_id"])
        pdf = self._plugin(doc).render(doc, self._file(doc, "authorized_key"), logo=logo.data if logo else None,
                                       language=issuer.language if issuer else DEFAULT_LANGUAGE)
        blob = document_key(task.account_id, task.document_id, "document.pdf")
        self.blobs.put(blob, pdf, PDF)
        self._update(doc, pdf_key=blob, cancellation_pdf_at=self._now())

    def _notify_cancellation(self, task: TaskInput, doc: Mapping[str, Any]) -> None:
        to = (doc.get("customer") or {}).get("email")
        if not to or doc.get("cancellation_notified_at") or not doc.get("pdf_key"):
            return
        logo = stored_logo(self.blobs, task.account_id, doc["issuer_id"])
        receipt = self.blobs.get(doc["cancellation_receipt_key"]) if doc.get("cancellation_receipt_key") else None
        self.mailer.send(document_mail({**doc, "id": task.document_id}, to, self._file(doc, "authorized_key"),
                                       self._file(doc, "pdf_key"), issuer=self._issuer(task.account_id, doc),
                                       logo=logo.data if logo else None,
                                       logo_type=logo.content_type if logo else "image/png",
                                       cancellation=doc, receipt=receipt))
        self._update(doc, cancellation_notified_at=self._now())
