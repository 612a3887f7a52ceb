"""The document workflow's use cases, one per Step Functions task (infra/workflow.asl.json):
sign → submit → poll (waiting in between) → render → notify → finish. An authority that decides at
once (a Mexican PAC, whose answer to the submission is the stamped document) skips the polls: submit
stores the authorization as poll would and the state machine goes straight to render.

Every task gets the ids of one document, reads its item, does its step at most once and records it
on the item, so a task that runs again (a Retry, a restarted execution) repeats nothing the authority
or the customer would notice: a signed document is not signed again, a received one is never
submitted again, an email goes out once. Failures worth retrying raise `Transient`, which the state
machine retries with backoff; any other failure ends the document as failed or, once the authority
has authorized it, as authorized with the delivery problem recorded.

An authority that cannot be reached is waited for, not given up on: submit and poll answer
"unavailable" / "processing" with the next wait (growing like the polls' waits), record since when
the authority has been unreachable (`authority_unreachable_since`) and when they will try again
(`next_attempt_at`), and the state machine waits and calls them again, for up to
settings.retry_window_seconds (72 hours by default). Before sending a document again after an attempt
whose answer never came, submit asks the authority for it by its key, so a document the authority
already has is polled, never sent twice. Only the authority's own refusal makes a document `rejected`;
`failed` is left for what cannot succeed by waiting longer (the window ran out, the certificate
expired before the authority had the document, a document that cannot be built), with its reason,
and such a document can be pushed again (services/documents.py, retry).

The client-visible status is `processing` until `finish` sets `authorized`, `rejected` or `failed`;
the authority's progress is kept apart in `authority_status` (received → authorized | rejected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import ConfigDict

from sello import countries
from sello.adapters.blobs import S3Blobs, document_key
from sello.adapters.documents_repo import document_keys
from sello.adapters.dynamo import PK, SK, ConditionFailed, DynamoStore
from sello.adapters.mailer import Mailer, SesMailer
from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage, PollOutcome, SubmitOutcome
from sello.ids import iso, utcnow
from sello.i18n import DEFAULT_LANGUAGE
from sello.models.common import Model
from sello.services import settlements
from sello.services.delivery import PDF, XML, document_mail
from sello.services.issuers import IssuerLookup
from sello.services.logos import stored_logo
from sello.settings import Settings, get_settings

log = logging.getLogger(__name__)

# What a document that ends as failed tells the client, by the state machine's error name.
_RETRY_HINT = " It can be sent on with POST /v1/documents/{id}/retry."
_FAILURES = {
    "Transient": ("authority_unavailable",
                  "The tax authority could not be reached or kept failing; the document was not completed."
                  + _RETRY_HINT),
    "Sello.AuthorityUnreachable": ("authority_unreachable",
                                   "The tax authority could not be reached during the whole retry window."
                                   + _RETRY_HINT),
    "Sello.AuthorizationTimedOut": ("authorization_timed_out",
                                    "The tax authority did not decide on the document within the retry window."
                                    + _RETRY_HINT),
    "CertificateExpired": ("certificate_expired",
                           "The issuer's certificate expired before the tax authority received the document; "
                           "upload a valid certificate, then retry the document." + _RETRY_HINT),
    # services.certificates.CertificateNotTrusted, raised by the sign task
    "CertificateNotTrusted": ("certificate_not_trusted",
                              "The issuer's signing certificate signs test documents only (it was replaced "
                              "after this live document was created); the document was not signed."),
}
_FAILED = ("processing_failed", "The document could not be processed.")
# What only matters while the document waits for the authority; gone once the authority has answered.
_WAITING = ("authority_unreachable_since", "next_attempt_at", "unreachable_count")


@dataclass(frozen=True)
class WaitFields:
    """Where an item records its wait for an unreachable authority: since when, when it is asked
    again, and how many attempts found it unreachable."""

    since: str
    next_attempt: str
    count: str


DOCUMENT_WAIT = WaitFields(*_WAITING)
_UNDELIVERED = ("delivery_failed", "The document is authorized, but its PDF or email could not be delivered.")


class Transient(Exception):
    """A failure worth retrying. Lambda reports it with errorType "Transient", the name the state
    machine's Retry blocks match."""


class DocumentStateError(Exception):
    """The document is missing or not in a state this step can work on (not retried)."""


class CertificateExpired(Exception):
    """The signing certificate expired before the authority received the document: sending it as it
    is cannot succeed. Its name is the Lambda errorType the finish task maps to `certificate_expired`."""


# Ports: the adapters (DynamoStore, S3Blobs, and SesMailer for adapters.mailer.Mailer) satisfy them;
# tests may pass fakes.
class Store(Protocol):
    def get(self, pk: str, sk: str) -> dict | None: ...

    def update(self, pk: str, sk: str, *, set_: dict | None = None, add: dict | None = None,
               remove: Any = (), condition: str | None = None, values: dict | None = None) -> dict: ...


class Blobs(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...


class SigningCredentials(Protocol):
    def load_signing_key(self, account_id: str, issuer_id: str, environment: str) -> tuple[Any, Any]:
        """The issuer's private key and certificate, ready for CountryPlugin.sign of a document of
        `environment`; raises CertificateNotTrusted (services.certificates) when a live document's
        issuer has a certificate for test documents only."""


class TaskInput(Model):
    """What the state machine passes to every task."""

    model_config = ConfigDict(extra="forbid")
    account_id: str
    document_id: str


class StateError(Model):
    """An error as a Catch block or a Pass state hands it on."""

    model_config = ConfigDict(extra="ignore")
    Error: str
    Cause: str = ""


class FinishInput(TaskInput):
    status: Literal["authorized", "rejected", "failed"]
    error: StateError | None = None


def poll_wait_seconds(settings: Settings, polls: int) -> int:
    """Seconds to wait before the next authorization poll, after `polls` answers of "processing"."""
    growth = settings.poll_backoff_rate ** min(polls, 64)  # the cap comes long before; no float overflow
    return int(min(settings.poll_first_wait_seconds * growth, settings.poll_max_wait_seconds))


# The authority's messages are stored in the document's item, within the space kept free for them
# (documents.DOCUMENT_ITEM_RESERVE): at most this many, each field cut to its length (a code point takes
# at most 4 bytes, so 8 messages of 40 + 300 + 1,000 characters stay under 43 KB).
MAX_STORED_MESSAGES = 8
_MESSAGE_FIELDS = {"code": 40, "message": 300, "detail": 1000}


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1] + "…"


def _messages(messages: tuple[AuthorityMessage, ...]) -> list[dict]:
    """The messages to store: errors before warnings (an error says why a document was refused)."""
    ordered = sorted(messages, key=lambda m: m.warning)[:MAX_STORED_MESSAGES]
    items = [m.to_item() for m in ordered]
    for item in items:
        for name, limit in _MESSAGE_FIELDS.items():
            item[name] = _cut(item[name], limit)
    return items


def _rejection(messages: tuple[AuthorityMessage, ...]) -> dict:
    """Why the authority refused the document, in Sello's words: its first error (not a warning)."""
    first = next((m for m in messages if not m.warning), None)
    if first is None:
        return {"code": "rejected_by_authority", "message": "The tax authority refused the document."}
    message, detail = (_cut(first.message, _MESSAGE_FIELDS["message"]),
                       _cut(first.detail, _MESSAGE_FIELDS["detail"]))
    text = f"{message} ({detail})" if detail else message
    return {"code": first.reason or "rejected_by_authority",
            "message": f"The tax authority refused the document: {_cut(first.code, 40)} {text}".strip()}


@dataclass
class DocumentWorkflow:
    store: Store
    blobs: Blobs
    mailer: Mailer
    settings: Settings
    credentials: SigningCredentials | None = None  # only the sign task needs them
    clock: Callable[[], datetime] = utcnow
    # The issuer's language and names for the PDF and the email (render, notify); without it, Spanish.
    issuers: IssuerLookup | None = None

    @classmethod
    def from_settings(cls, credentials: SigningCredentials | None = None) -> DocumentWorkflow:
        from sello.adapters.issuers_repo import DynamoIssuersRepo

        settings = get_settings()
        store = DynamoStore(settings.table_name)
        return cls(store=store, blobs=S3Blobs(settings.bucket_name), mailer=SesMailer(), credentials=credentials,
                   settings=settings, issuers=DynamoIssuersRepo(store))

    # -- tasks ---------------------------------------------------------------------------------------

    def sign(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if not doc.get("signed_key"):
            if self.credentials is None:
                raise DocumentStateError("No signing credentials are configured for the sign task.")
            key, cert = self.credentials.load_signing_key(task.account_id, doc["issuer_id"],
                                                          doc["environment"])
            # Certificates are cryptography x509 objects; the expiry is kept so that a document is never
            # sent with a certificate that expired while it waited for the authority.
            valid_to = getattr(cert, "not_valid_after_utc", None)
            if valid_to is not None and valid_to <= self.clock():
                raise CertificateExpired(f"The certificate of issuer {doc['issuer_id']} expired on "
                                         f"{iso(valid_to)}.")
            signed = self._plugin(doc).sign(doc, key, cert)
            blob = document_key(task.account_id, task.document_id, "signed.xml")
            self.blobs.put(blob, signed, XML)
            try:
                self._update(doc, signed_key=blob, signed_at=self._now(),
                             **({"certificate_valid_to": iso(valid_to)} if valid_to is not None else {}),
                             condition="attribute_not_exists(#signed_key)")
            except ConditionFailed:
                pass  # another run of this task recorded the same file first
        return {"status": "signed"}

    def submit(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if doc.get("received_at"):  # never send a document the authority already has (or has decided on)
            return {"status": "received", "wait_seconds": self._wait(0)}
        plugin = self._plugin(doc)
        try:
            if int(doc.get("submit_attempts", 0)):
                # An earlier attempt may have reached the authority and only its answer got lost: ask for
                # the document by its key before sending it again (an authority that decides at once
                # hands back its decision, e.g. the stamp it made then).
                known = plugin.poll(doc, doc["environment"])
                if known.status == "rejected":
                    return self._rejected(doc, known.messages)
                if known.status == "authorized":
                    return self._authorized(task, doc, known)
                if known.status != "unknown":
                    return self._received(doc, known.messages)
            self._check_certificate(doc)
            signed = self._file(doc, "signed_key")
            self._update(doc, add={"submit_attempts": 1})
            outcome = plugin.submit(signed, doc["environment"])
        except AuthorityUnavailable as exc:
            log.warning("authority unavailable while submitting document %s: %s", task.document_id, exc)
            return self._unreachable(doc, DOCUMENT_WAIT)
        if outcome.status == "authorized":
            return self._authorized(task, doc, outcome)
        if outcome.status == "received":
            return self._received(doc, outcome.messages)
        return self._rejected(doc, outcome.messages)

    def poll(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if doc.get("authority_status") in ("authorized", "rejected"):
            return {"status": doc["authority_status"], "wait_seconds": 0}
        if not doc.get("received_at"):
            raise DocumentStateError(f"Document {task.document_id} has not been received by the authority.")
        try:
            outcome = self._plugin(doc).poll(doc, doc["environment"])
        except AuthorityUnavailable as exc:
            log.warning("authority unavailable while polling document %s: %s", task.document_id, exc)
            outcome = None
        if outcome is not None and outcome.status == "authorized":
            return self._authorized(task, doc, outcome)
        if outcome is not None and outcome.status == "rejected":
            return self._rejected(doc, outcome.messages)
        # Undecided, not listed yet, or no answer at all: ask again after the next, growing wait, until
        # the window after reception has passed.
        if self.clock() >= datetime.fromisoformat(doc["received_at"]) + self._window():
            return {"status": "timed_out" if outcome is not None else "unreachable", "wait_seconds": 0}
        polls = int(doc.get("poll_count", 0)) + 1
        wait = self._wait(polls)
        fields: dict[str, Any] = {"next_attempt_at": iso(self.clock() + timedelta(seconds=wait))}
        remove: tuple[str, ...] = ()
        if outcome is None:
            fields["authority_unreachable_since"] = doc.get("authority_unreachable_since") or self._now()
        else:
            fields["authority_messages"] = _messages(outcome.messages)
            remove = ("authority_unreachable_since",)
        self._update(doc, add={"poll_count": 1}, remove=remove, **fields)
        return {"status": "processing", "wait_seconds": wait}

    def render(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if not doc.get("pdf_key"):
            issuer = self._issuer(task.account_id, doc)
            logo = stored_logo(self.blobs, task.account_id, doc["issuer_id"])  # the issuer's logo now
            pdf = self._plugin(doc).render(doc, self._file(doc, "authorized_key"),
                                           logo=logo.data if logo else None,
                                           language=issuer.language if issuer else DEFAULT_LANGUAGE)
            blob = document_key(task.account_id, task.document_id, "document.pdf")
            self.blobs.put(blob, pdf, PDF)
            self._update(doc, pdf_key=blob)
        return {"status": "rendered"}

    def notify(self, task: TaskInput) -> dict:
        doc = self._load(task)
        if doc.get("notified_at"):
            return {"status": "sent"}
        to = (doc.get("customer") or {}).get("email")
        if not to:
            return {"status": "skipped"}
        logo = stored_logo(self.blobs, task.account_id, doc["issuer_id"])
        self.mailer.send(document_mail({**doc, "id": task.document_id}, to, self._file(doc, "authorized_key"),
                                       self._file(doc, "pdf_key"), issuer=self._issuer(task.account_id, doc),
                                       logo=logo.data if logo else None,
                                       logo_type=logo.content_type if logo else "image/png"))
        self._update(doc, notified_at=self._now(), notified_to=to)
        return {"status": "sent"}

    def finish(self, task: FinishInput) -> dict:
        """Sets the final status once; a document already final keeps the status it has."""
        fields: dict[str, Any] = {"status": task.status, "finished_at": self._now()}
        if task.error is not None:
            code, message = _UNDELIVERED if task.status == "authorized" else _FAILURES.get(
                task.error.Error, _FAILED)
            fields["delivery_error" if task.status == "authorized" else "error"] = {
                "code": code, "message": message.format(id=task.document_id)}
        pk, sk = document_keys(task.account_id, task.document_id)
        try:
            self._update({PK: pk, SK: sk}, **fields, condition="#status = :processing OR #status = :final",
                         values={":processing": "processing", ":final": task.status})
        except ConditionFailed:
            return {"status": self._load(task)["status"]}
        if task.status != "authorized":
            self._release_settlements(task)
        return {"status": task.status}

    def _release_settlements(self, task: FinishInput) -> None:
        """A payment that ends without an authorization pays nothing: the documents it paid get their
        balance back (services.settlements)."""
        doc = self._load(task)
        if doc.get("settles"):
            settlements.release(self.store, task.account_id, task.document_id, doc["settles"])

    # -- helpers -------------------------------------------------------------------------------------

    def _received(self, doc: Mapping[str, Any], messages: tuple[AuthorityMessage, ...]) -> dict:
        try:
            self._update(doc, received_at=self._now(), authority_status="received",
                         authority_messages=_messages(messages), remove=_WAITING,
                         condition="attribute_not_exists(#received_at)")
        except ConditionFailed:
            pass  # recorded by another run of this task
        return {"status": "received", "wait_seconds": self._wait(0)}

    def _authorized(self, task: TaskInput, doc: Mapping[str, Any],
                    outcome: PollOutcome | SubmitOutcome) -> dict:
        """Stores the authorized document and what the authority said of it; from a poll, or from a
        submission the authority decided at once (then it was received at the same moment)."""
        blob = document_key(task.account_id, task.document_id, "authorized.xml")
        self.blobs.put(blob, outcome.document, XML)
        received = {} if doc.get("received_at") else {"received_at": self._now()}
        self._update(doc, authority_status="authorized", authorization_number=outcome.number,
                     authorized_at=outcome.authorized_at, authorized_key=blob,
                     authority_messages=_messages(outcome.messages), remove=_WAITING, **received)
        return {"status": "authorized", "wait_seconds": 0}

    def _rejected(self, doc: Mapping[str, Any], messages: tuple[AuthorityMessage, ...]) -> dict:
        self._update(doc, authority_status="rejected", authority_messages=_messages(messages),
                     error=_rejection(messages), remove=_WAITING)
        return {"status": "rejected", "wait_seconds": 0}

    def _unreachable(self, doc: Mapping[str, Any], fields: WaitFields) -> dict:
        """The authority could not be reached to send the document (or its cancellation, with the
        cancellation's `fields`): wait and try again, growing the wait, until the window since it was
        first unreachable has passed."""
        now = self.clock()
        since = doc.get(fields.since) or iso(now)
        if now >= datetime.fromisoformat(since) + self._window():
            return {"status": "unreachable", "wait_seconds": 0}
        wait = self._wait(int(doc.get(fields.count, 0)))
        self._update(doc, add={fields.count: 1}, **{fields.since: since,
                                                    fields.next_attempt: iso(now + timedelta(seconds=wait))})
        return {"status": "unavailable", "wait_seconds": wait}

    def _check_certificate(self, doc: Mapping[str, Any]) -> None:
        valid_to = doc.get("certificate_valid_to")
        if valid_to and datetime.fromisoformat(valid_to) <= self.clock():
            raise CertificateExpired(f"The certificate that signed document {doc[SK].removeprefix('DOC#')} "
                                     f"expired on {valid_to}.")

    def _window(self) -> timedelta:
        return timedelta(seconds=self.settings.retry_window_seconds)

    def _load(self, task: TaskInput) -> dict:
        doc = self.store.get(*document_keys(task.account_id, task.document_id))
        if doc is None:
            raise DocumentStateError(f"Document {task.document_id} does not exist.")
        return doc

    def _update(self, doc: Mapping[str, Any], *, add: dict | None = None, remove: tuple[str, ...] = (),
                condition: str | None = None, values: dict | None = None, **fields: Any) -> dict:
        fields["updated_at"] = self._now()
        return self.store.update(doc[PK], doc[SK], set_=fields, add=add, remove=remove, condition=condition,
                                 values=values)

    def _file(self, doc: Mapping[str, Any], field: str) -> bytes:
        data = self.blobs.get(doc[field]) if doc.get(field) else None
        if data is None:
            name = field.removesuffix("_key")
            raise DocumentStateError(f"Document {doc[SK].removeprefix('DOC#')} has no {name} file.")
        return data

    def _issuer(self, account_id: str, doc: Mapping[str, Any]):
        """The document's issuer as it is now (models.issuers.Issuer), None when it cannot be read: the
        document still goes out, in Spanish."""
        if self.issuers is None:
            return None
        try:
            return self.issuers.get_issuer(account_id, doc["issuer_id"])
        except Exception:
            log.warning("issuer not read for a document's language", exc_info=True)
            return None

    @staticmethod
    def _plugin(doc: Mapping[str, Any]) -> countries.CountryPlugin:
        return countries.get_plugin(doc["country"])

    def _now(self) -> str:
        return iso(self.clock())

    def _wait(self, polls: int) -> int:
        return poll_wait_seconds(self.settings, polls)
