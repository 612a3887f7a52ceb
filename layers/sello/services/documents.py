"""Documents: issue one, read and list them, download their files, email them again. A caller sees
only its own account's documents of its API key's environment; any other document is simply not
found.

Issuing (`create`) goes: read the body's `issuer_id`, find the issuer and its country's plugin,
validate the whole body with the plugin's model (`document_request_model`), check the issuer can
sign (an unexpired certificate), let the plugin validate and compute the request (`prepare`, whose
problems are 422s), then claim the idempotency key, allocate the number, let the plugin number the
document, store it and start its workflow. The answers keep the order they had when one model served
every body: a body that is not valid is a 422 before the Idempotency-Key (400) and the issuer (404)
are looked at. So when the issuer cannot be found (or `issuer_id` is missing or malformed), the body
is checked against every supported country's model: one that takes it makes the answer 404
issuer_not_found, and when none does, the answer is the 422 of the country whose model it comes
closest to (fewest problems; the first country on a tie). Nothing is written before validation has
passed, so a rejected request leaves no document, no idempotency record and no used number; a
failure after the number was allocated hands the number back (adapters/sequences.py) and gives the
key up.

Idempotency-Key: a claim item per (account, environment, key) records the hash of the request
(canonical JSON of the parsed body) and the id the document gets, and expires after 24 hours.
- The same key with the same request returns the document it created (200, `Idempotent-Replayed`).
- The same key with another request is a 409 `idempotency_key_reused`.
- A request whose key is claimed by one still running waits for that one's document (polling the
  claim) for up to REPLAY_WAIT_SECONDS, then answers 409 `idempotency_key_in_use`; so concurrent
  identical requests create one document and all answer with it. A claim held for CLAIM_LEASE_SECONDS
  without its document being written belongs to a request that died: the next request takes the
  claim over (conditionally, so only one does) and creates the document under the same id.

Starting the workflow: its execution is named after the document, so starting it twice runs it once.
If Step Functions cannot be reached, the stored document stays `processing` with `workflow_started`
false and is marked as pending (adapters/documents_repo.py); the answer is the usual 201 and a
warning is logged, because the scheduled workflow_restart function (`start_pending`) starts every
marked document within minutes and then removes its mark. Only when the mark cannot be written
either is the answer 503 `workflow_unavailable`: the document keeps its number, and the same request
sent again with the same Idempotency-Key starts it (without a key, a retry would issue another
document). A replay with the key of a document not started yet also starts it at once."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

from sello.adapters.blobs import S3Blobs
from sello.adapters.documents_repo import Claim, DynamoDocumentsRepo, DynamoIdempotency
from sello.adapters.dynamo import MAX_ITEM_BYTES, DynamoStore, item_size
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.sequences import DynamoSequences, SequenceKey
from sello.adapters.workflow import StepFunctionsStarter
from sello.countries import AuthorityUnavailable, CountryPlugin, PreparedDocument, get_plugin, supported_countries
from sello.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, Unprocessable
from sello.i18n import _l
from sello.ids import is_id, new_id, sha256_hex, utcnow
from sello.models.certificates import certificate_status
from sello.models.common import CONTROL_CHARACTERS, DEFAULT_PAGE_SIZE, Environment
from sello.models.country_bodies import issuer_id_of
from sello.models.documents import (
    CANCELLED,
    DOCUMENT_STATUSES,
    LISTED_TYPES,
    Document,
    DocumentAuthorityStatus,
    DocumentEmail,
    DocumentFilter,
    DocumentList,
    DocumentView,
    Totals,
)
from sello.models.issuers import Issuer
from sello.services import settlements
from sello.services.issuers import IssuerLookup, issuer_not_found, lookup_issuer
from sello.settings import Settings, get_settings
from sello.validation import InvalidBody, body_errors, validate_body

if TYPE_CHECKING:  # downloads, delivery and email limits load with the routes that use them
    from sello.adapters.mailer import Mailer
    from sello.services.downloads import Download
    from sello.services.email_limits import RateLimiter

logger = Logger(service="sello")

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # printable ASCII
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
CLAIM_LEASE_SECONDS = 30
REPLAY_WAIT_SECONDS = 10.0
REPLAY_POLL_SECONDS = 0.05
# A stored document is one DynamoDB item (MAX_ITEM_BYTES). Its content may take all of it but this
# reserve, which holds the rest of the item (ids, customer, totals, names: a few KB) and what the
# workflow adds later (file keys, times, the authority's messages).
DOCUMENT_ITEM_RESERVE = 50_000
MAX_CONTENT_BYTES = MAX_ITEM_BYTES - DOCUMENT_ITEM_RESERVE
MAX_CUSTOMER_FILTER = 20
# Documents whose workflow start was deferred, started per run of the scheduled function.
RESTART_BATCH = 100


# Ports ----------------------------------------------------------------------------------------------

class DocumentsRepo(Protocol):
    def get(self, account_id: str, document_id: str) -> Document | None: ...
    def put_new(self, doc: Document) -> bool: ...
    def set_workflow_started(self, account_id: str, document_id: str) -> None: ...
    def mark_pending_start(self, account_id: str, document_id: str, now: datetime, round_: int = 0) -> None: ...
    def pending_starts(self, limit: int) -> list[tuple[str, str, int]]: ...
    def reopen(self, account_id: str, document_id: str, now: datetime, *, resign: bool) -> int | None: ...
    def clear_pending_start(self, account_id: str, document_id: str) -> None: ...
    def list(self, account_id: str, environment: str, *, limit: int, cursor: str | None = None,
             where: DocumentFilter = DocumentFilter()) -> tuple[list[Document], str | None]: ...


class IdempotencyClaims(Protocol):
    def claim(self, account_id: str, environment: str, key: str, *, request_hash: str, document_id: str,
              now: int, ttl: int) -> tuple[bool, Claim | None]: ...
    def get(self, account_id: str, environment: str, key: str, *, now: int) -> Claim | None: ...
    def take_over(self, account_id: str, environment: str, key: str, claim: Claim, *,
                  now: int) -> Claim | None: ...
    def release(self, account_id: str, environment: str, key: str, claim: Claim) -> None: ...


class Sequences(Protocol):
    def allocate(self, key: SequenceKey) -> int: ...
    def release(self, key: SequenceKey, number: int) -> None: ...


class WorkflowStarter(Protocol):
    def start(self, account_id: str, document_id: str, round_: int = 0) -> str: ...


class Files(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str: ...


# Errors ---------------------------------------------------------------------------------------------

def document_not_found() -> NotFound:
    return NotFound(_l("No document with this id."), code="document_not_found", path="document_id")


def document_not_retryable(status: str) -> Conflict:
    return Conflict(_l("Only a failed document can be retried; this one is {status}.", status=status),
                    code="document_not_retryable")


_NOT_READY = {
    "XML": _l("The document's XML is not available yet; its status says how far it has come."),
    "PDF": _l("The document's PDF is not available yet; its status says how far it has come."),
    "authorized XML and PDF": _l("The document's authorized XML and PDF are not available yet; its status says "
                                 "how far it has come."),
}


def document_not_ready(what: str) -> Conflict:
    return Conflict(_NOT_READY[what],
                    code="document_not_ready")


def document_not_authorized(what: str, status: str) -> Conflict:
    """The file will not exist: the document ended without an authorization (`what`: XML or PDF)."""
    if status == "failed":
        message = _l("The document failed, so its {what} does not exist, and will not unless the document is "
                     "retried and then authorized.", what=what)
    else:
        message = _l("The document was rejected, so its {what} does not exist and will not: only authorized "
                     "documents have one.", what=what)
    return Conflict(message, code="document_not_authorized", extra={"status": status})


# Results --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Issued:
    document: DocumentView
    replayed: bool  # an earlier request with the same Idempotency-Key created it


@dataclass(frozen=True)
class Draft:
    """A request the plugin has validated, ready to be numbered and stored."""

    account_id: str
    environment: Environment
    issuer: Issuer
    plugin: CountryPlugin
    prepared: PreparedDocument
    now: datetime


@dataclass(frozen=True)
class RestartReport:
    started: int  # pending documents whose workflow is now started
    failed: int  # still not started: they stay pending for the next run


def request_hash(request: BaseModel) -> str:
    """The same for requests that parse to the same document (key order, spacing and defaults aside)."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return sha256_hex(canonical)


def check_idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise BadRequest(_l("{header} must be 1 to 255 printable ASCII characters.", header=IDEMPOTENCY_KEY_HEADER),
                         code="invalid_idempotency_key", path=IDEMPOTENCY_KEY_HEADER)
    return value


def _require_certificate(issuer: Issuer, environment: Environment, now: datetime) -> None:
    if issuer.certificate is None:
        raise Unprocessable(_l("The issuer has no signing certificate; upload one before issuing documents."),
                            code="certificate_required", path="issuer_id")
    if certificate_status(issuer.certificate.valid_to, now) == "expired":
        raise Unprocessable(_l("The issuer's signing certificate has expired; upload its replacement."),
                            code="certificate_expired", path="issuer_id")
    if environment == "live" and not issuer.certificate.trusted:
        raise Unprocessable(_l("The issuer's signing certificate does not chain to a recognised certification "
                               "authority, so it signs test documents only; upload one issued by such an "
                               "authority to issue live documents."), code="certificate_not_trusted",
                            path="issuer_id")


def _check_size(prepared: PreparedDocument) -> None:
    """422 document_too_large when the document's content, as DynamoDB counts it, would leave no room
    in its item. (The country plugin has already checked the authority's own limit.)"""
    size = item_size(prepared.content)
    if size > MAX_CONTENT_BYTES:
        raise Unprocessable(_l("The document is too large to store: {size} bytes, over the {limit} a document "
                               "can hold; split it into several.", size=size, limit=MAX_CONTENT_BYTES), code="document_too_large",
                            path="body", extra={"limit": MAX_CONTENT_BYTES, "size": size})


def find_references(repo: DocumentsRepo, account_id: str, environment: Environment, issuer_id: str,
                    references: tuple[tuple[str, str], ...]) -> dict[str, Document]:
    """The documents a request names by Sello id ((id, field path) pairs): each must be one of this
    issuer's, in this environment, authorized and not cancelled (422s at its path otherwise)."""
    found = {}
    for document_id, path in references:
        doc = repo.get(account_id, document_id)
        if doc is None or doc.environment != environment or doc.issuer_id != issuer_id:
            raise Unprocessable(_l("No document of this issuer with the id {id}.", id=document_id),
                                code="related_document_not_found", path=path)
        if doc.status != "authorized" or not doc.authorization_number:
            raise Unprocessable(_l("Document {id} is {status}; only an authorized document can be "
                                   "related.", id=document_id, status=doc.status),
                                code="related_document_not_authorized", path=path)
        if doc.cancellation_status in CANCELLED:
            raise Unprocessable(_l("Document {id} is cancelled at the tax authority; a cancelled document "
                                   "cannot be related.", id=document_id),
                                code="related_document_cancelled", path=path)
        found[document_id] = doc
    return found


# Filters --------------------------------------------------------------------------------------------

def _moment(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A `from` (start, inclusive) or `to` (end, inclusive) bound as a UTC instant at whole seconds
    (creation times are kept to the second): a date means the whole UTC day; a date and time without
    an offset is UTC. For `to`, the instant returned is the exclusive end, one day or second later."""
    if value is None:
        return None
    problem = Unprocessable(_l("{name} must be an ISO 8601 date (2026-03-02) or date and time "
                               "(2026-03-02T15:00:00Z).", name=name), code="invalid_date", path=name)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    try:
        if day is not None:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(value)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        whole = moment.replace(microsecond=0)
        if end:
            return whole + timedelta(seconds=1)
        return whole if whole == moment else whole + timedelta(seconds=1)
    except ValueError:
        raise problem from None
    except OverflowError:  # the last representable day or second: no bound
        return None


def document_filter(status: str | None = None, document_type: str | None = None, customer: str | None = None,
                    created_from: str | None = None, created_to: str | None = None) -> DocumentFilter:
    """The list's filters, checked; each bad one is a 422 with its own code and the parameter's name."""
    if status is not None and status not in DOCUMENT_STATUSES:
        raise Unprocessable(_l("status must be one of {values}.", values=", ".join(DOCUMENT_STATUSES)),
                            code="invalid_status", path="status")
    if document_type is not None and document_type not in LISTED_TYPES:
        raise Unprocessable(_l("type must be one of {values}.", values=", ".join(LISTED_TYPES)), code="invalid_type",
                            path="type")
    if customer is not None:
        customer = customer.strip()
        if not 1 <= len(customer) <= MAX_CUSTOMER_FILTER or CONTROL_CHARACTERS.search(customer):
            raise Unprocessable(_l("customer must be a tax id of 1 to {max} printable characters.",
                                   max=MAX_CUSTOMER_FILTER), code="invalid_customer", path="customer")
    start, end = _moment(created_from, "from", end=False), _moment(created_to, "to", end=True)
    if start and end and start >= end:
        raise Unprocessable(_l("from must not be after to."), code="invalid_date_range", path="from")
    return DocumentFilter(status=status, type=document_type, customer_tax_id=customer, created_from=start,
                          created_before=end)


# The service ----------------------------------------------------------------------------------------

class DocumentService:
    def __init__(self, repo: DocumentsRepo, *, issuers: IssuerLookup | None = None,
                 sequences: Sequences | None = None, claims: IdempotencyClaims | None = None,
                 starter: WorkflowStarter | None = None, files: Files | None = None,
                 mailer: Mailer | None = None, limiter: RateLimiter | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 lease_seconds: int = CLAIM_LEASE_SECONDS, wait_seconds: float = REPLAY_WAIT_SECONDS,
                 settings: Settings | None = None):
        self.repo = repo
        self.issuers = issuers
        self.sequences = sequences
        self.claims = claims
        self.starter = starter
        self.files = files
        # Made when the first email is sent if not given (SES, the table's counters): a cold start of
        # any other request loads neither.
        self.mailer = mailer
        self.limiter = limiter
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    # Issuing --------------------------------------------------------------------------------------

    def create(self, account_id: str, environment: Environment, body: Any,
               idempotency_key: str | None = None) -> Issued:
        """`body`: the request as sent (parsed JSON), or already an instance of the issuer's country's
        document_request_model."""
        issuer, plugin, request = self._read(account_id, body)
        key = check_idempotency_key(idempotency_key)
        if issuer is None:
            raise issuer_not_found()
        now = self._now()
        _require_certificate(issuer, environment, now)
        if key is not None and plugin.referenced_documents(request):
            # What the request is computed from may have changed since its first sending (a payment
            # uses up the balance it reads): a request already done is answered before that.
            done = self._done(account_id, environment, key, request)
            if done is not None:
                return done
        request = self._with_references(account_id, environment, issuer, plugin, request)
        prepared = plugin.prepare(request, issuer, environment, now)
        _check_size(prepared)
        draft = Draft(account_id, environment, issuer, plugin, prepared, now)
        if key is None:
            doc, _ = self._store(draft, new_id("doc"))
            return Issued(DocumentView.of(self._start(doc, key)), replayed=False)
        return self._create_once(draft, key, request_hash(request))

    def _done(self, account_id: str, environment: Environment, key: str, request: Any) -> Issued | None:
        """The replay of the document an earlier request with this key and this body created, if it
        is stored; None otherwise (the request then goes the usual way, claim included)."""
        claim = self.claims.get(account_id, environment, key, now=int(self.clock().timestamp()))
        if claim is None or claim.request_hash != request_hash(request):
            return None
        doc = self.repo.get(account_id, claim.document_id)
        return self._replay(doc, key) if doc is not None else None

    def _with_references(self, account_id: str, environment: Environment, issuer: Issuer,
                         plugin: CountryPlugin, request: Any) -> Any:
        """The request with what the plugin needs of the documents it names by Sello id (a credit note's
        invoices by what the authority knows them by, a payment's invoices with their balance and
        payments: plugin.resolve_references): each must be one of this issuer's, in this environment,
        authorized (find_references)."""
        found = find_references(self.repo, account_id, environment, issuer.id, plugin.referenced_documents(request))
        return plugin.resolve_references(request, found) if found else request

    def _read(self, account_id: str, body: Any) -> tuple[Issuer | None, CountryPlugin | None, Any]:
        """(issuer, its plugin, the body validated with the plugin's model); (None, None, None) when the
        body names no issuer of the account but some supported country's model takes it. InvalidBody
        otherwise (see the module's docstring)."""
        issuer_id = issuer_id_of(body)
        issuer = lookup_issuer(self.issuers, account_id, issuer_id) if issuer_id else None
        if issuer is not None:
            plugin = get_plugin(issuer.country, path="issuer_id")
            return issuer, plugin, validate_body(plugin.document_request_model, body)
        closest: tuple[ValidationError, type[BaseModel]] | None = None
        for country in supported_countries():
            model = get_plugin(country).document_request_model
            try:
                model.model_validate(body, from_attributes=True)
            except ValidationError as exc:
                if closest is None or exc.error_count() < closest[0].error_count():
                    closest = (exc, model)
            else:
                return None, None, None
        raise InvalidBody(body_errors(closest[0]), closest[1])

    def _create_once(self, draft: Draft, key: str, digest: str) -> Issued:
        account_id, environment = draft.account_id, draft.environment
        deadline = self.monotonic() + self.wait_seconds
        claim: Claim | None = None
        while True:
            epoch = int(self.clock().timestamp())
            if claim is None:
                won, claim = self.claims.claim(account_id, environment, key, request_hash=digest,
                                               document_id=new_id("doc"), now=epoch,
                                               ttl=IDEMPOTENCY_TTL_SECONDS)
                if won:
                    return self._create_claimed(draft, key, claim)
            if claim is not None:
                if claim.request_hash != digest:
                    raise Conflict(_l("This {header} was used with a different request; use a new key for a "
                                      "new document.", header=IDEMPOTENCY_KEY_HEADER), code="idempotency_key_reused",
                                   path=IDEMPOTENCY_KEY_HEADER)
                doc = self.repo.get(account_id, claim.document_id)
                if doc is not None:
                    return self._replay(doc, key)
                if epoch >= claim.claimed_at + self.lease_seconds:
                    taken = self.claims.take_over(account_id, environment, key, claim, now=epoch)
                    if taken is not None:
                        logger.warning("idempotency claim taken over", account_id=account_id,
                                       document_id=claim.document_id)
                        return self._create_claimed(draft, key, taken)
            if self.monotonic() >= deadline:
                raise Conflict(_l("A request with this {header} is still being processed; send it again in a "
                                  "few seconds.", header=IDEMPOTENCY_KEY_HEADER), code="idempotency_key_in_use",
                               path=IDEMPOTENCY_KEY_HEADER)
            self.sleep(REPLAY_POLL_SECONDS)
            claim = self.claims.get(account_id, environment, key, now=epoch)

    def _create_claimed(self, draft: Draft, key: str, claim: Claim) -> Issued:
        try:
            doc, created = self._store(draft, claim.document_id)
        except Exception:
            self.claims.release(draft.account_id, draft.environment, key, claim)
            raise
        if not created:  # a request that took the claim over stored it first
            return self._replay(doc, key)
        return Issued(DocumentView.of(self._start(doc, key)), replayed=False)

    def _store(self, draft: Draft, document_id: str) -> tuple[Document, bool]:
        """Numbers and stores the document: (document, True), or (the one stored under this id
        meanwhile, False). A number allocated to a document that is not written is handed back."""
        prepared, plugin, issuer = draft.prepared, draft.plugin, draft.issuer
        series = SequenceKey(draft.account_id, issuer.id, draft.environment, prepared.type, prepared.series)
        sequence = self.sequences.allocate(series)
        try:
            numbered = plugin.number(prepared, sequence, document_id, draft.environment)
            doc = Document(
                id=document_id, account_id=draft.account_id, environment=draft.environment,
                type=prepared.type, country=plugin.code, issuer_id=issuer.id, customer=prepared.customer,
                totals=Totals.model_validate(prepared.totals), number=numbered.number,
                series=prepared.series, sequence=sequence, issue_date=prepared.issue_date,
                title=plugin.document_title(prepared.type), issuer_name=issuer.legal_name,
                content=prepared.content, workflow_started=False, access_key=numbered.access_key or None,
                created_at=draft.now, **settlements.new_document_fields(prepared))
            created = (settlements.store(self.repo, doc, prepared.settles) if prepared.settles
                       else self.repo.put_new(doc))
        except Exception:
            self._give_back(series, sequence)
            raise
        if created:
            return doc, True
        self._give_back(series, sequence)
        existing = self.repo.get(draft.account_id, document_id)
        if existing is None:
            raise RuntimeError(f"document {document_id} was neither stored nor found")
        return existing, False

    def _give_back(self, series: SequenceKey, sequence: int) -> None:
        try:
            self.sequences.release(series, sequence)
        except Exception:
            # Nothing else can return it: say which number of which series is missing.
            logger.exception("document number lost", account_id=series.account_id, issuer_id=series.issuer_id,
                             environment=series.environment, document_type=series.document_type,
                             series=series.series, sequence=sequence)

    def _start(self, doc: Document, key: str | None) -> Document:
        """The document with its workflow started, or still unstarted but marked as pending, so that
        the scheduled restart starts it; a 503 when neither could be done."""
        try:
            self.starter.start(doc.account_id, doc.id, doc.workflow_round)
        except Exception:
            try:
                self.repo.mark_pending_start(doc.account_id, doc.id, self._now(), doc.workflow_round)
            except Exception:
                logger.exception("document workflow neither started nor marked pending",
                                 account_id=doc.account_id, document_id=doc.id)
                retry = (_l("send the same request with the same {header} to start it",
                            header=IDEMPOTENCY_KEY_HEADER) if key
                         else _l("requests sent with an {header} can be repeated to start it",
                                 header=IDEMPOTENCY_KEY_HEADER))
                raise ServiceUnavailable(_l("Document {id} was stored, but its processing could not be "
                                            "started; {retry}.", id=doc.id, retry=retry), code="workflow_unavailable") from None
            logger.warning("document workflow not started; left for the scheduled restart",
                           account_id=doc.account_id, document_id=doc.id, exc_info=True)
            return doc
        self.repo.set_workflow_started(doc.account_id, doc.id)
        return doc.model_copy(update={"workflow_started": True})

    def start_pending(self, limit: int = RESTART_BATCH) -> RestartReport:
        """Starts the workflow of up to `limit` documents marked as pending and removes their marks;
        a document that still cannot be started keeps its mark for the next run. Starting one that a
        replay has started meanwhile is harmless (its execution is named after it)."""
        started = failed = 0
        for account_id, document_id, round_ in self.repo.pending_starts(limit):
            try:
                self.starter.start(account_id, document_id, round_)
                self.repo.set_workflow_started(account_id, document_id)
                self.repo.clear_pending_start(account_id, document_id)
            except Exception:
                logger.exception("document workflow still not started", account_id=account_id,
                                 document_id=document_id)
                failed += 1
            else:
                started += 1
        return RestartReport(started=started, failed=failed)

    def start(self, doc: Document) -> Document:
        """A stored document with its workflow started (or marked pending), for a document stored by
        another service (services/stamping.py)."""
        return self._start(doc, None)

    def replay(self, doc: Document) -> Issued:
        """The answer to a request for a document already stored, started if it was not."""
        return self._replay(doc, None)

    def _replay(self, doc: Document, key: str | None) -> Issued:
        if doc.workflow_started is False:
            doc = self._start(doc, key)
        return Issued(DocumentView.of(doc), replayed=True)

    # Retrying ------------------------------------------------------------------------------------

    def retry(self, account_id: str, environment: Environment, document_id: str) -> DocumentView:
        """Sends a failed document on through another round of its workflow, under the same number and
        access key. The workflow asks the authority for the document before sending it again, so one
        the authority did receive is polled, not sent twice. A document whose certificate expired
        before the authority had it is signed again with the issuer's current certificate."""
        doc = self._find(account_id, environment, document_id)
        if doc.status != "failed" or doc.authority_status in ("authorized", "rejected"):
            raise document_not_retryable(doc.status)
        resign = bool(doc.error and doc.error.code == "certificate_expired" and not doc.received_at)
        if doc.settles:  # a payment: recorded again on what it pays, as it was computed
            settlements.reclaim(self.repo, doc)
        round_ = self.repo.reopen(account_id, document_id, self._now(), resign=resign)
        if round_ is None:  # another request retried it first
            raise document_not_retryable(self._find(account_id, environment, document_id).status)
        doc = self._start(self._find(account_id, environment, document_id), None)
        return DocumentView.of(doc)

    # Reading --------------------------------------------------------------------------------------

    def _find(self, account_id: str, environment: Environment, document_id: str) -> Document:
        doc = self.repo.get(account_id, document_id) if is_id(document_id, "doc") else None
        if doc is None or doc.environment != environment:
            raise document_not_found()
        return doc

    def get(self, account_id: str, environment: Environment, document_id: str) -> DocumentView:
        return DocumentView.of(self._find(account_id, environment, document_id))

    def list(self, account_id: str, environment: Environment, where: DocumentFilter = DocumentFilter(),
             limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> DocumentList:
        """A page of at most `limit` documents (1 to MAX_PAGE_SIZE, as the route checks), newest first."""
        docs, next_cursor = self.repo.list(account_id, environment, limit=limit, cursor=cursor, where=where)
        return DocumentList(data=[DocumentView.of(d) for d in docs], next_cursor=next_cursor)

    def download(self, account_id: str, environment: Environment, document_id: str,
                 kind: Literal["xml", "pdf"]) -> Download:
        """A short-lived URL of the authorized XML (while the document is processing, the signed one)
        or of the PDF. A document that ended rejected or failed has neither (409
        document_not_authorized); one still on its way has not yet (409 document_not_ready)."""
        from sello.services import downloads
        from sello.services.delivery import PDF, XML, file_name

        doc = self._find(account_id, environment, document_id)
        what = "XML" if kind == "xml" else "PDF"
        if doc.status in ("rejected", "failed"):
            raise document_not_authorized(what, doc.status)
        if kind == "xml":
            blob, content_type = doc.authorized_key or doc.signed_key, XML
        else:
            blob, content_type = doc.pdf_key, PDF
        if not blob:
            raise document_not_ready(what)
        return downloads.download(self.files, blob, filename=file_name(_fields(doc), kind),
                                  content_type=content_type, now=self._now(), settings=self.settings)

    # The authority's status ----------------------------------------------------------------------

    def authority_status(self, account_id: str, environment: Environment,
                         document_id: str) -> DocumentAuthorityStatus:
        """What the tax authority says of an authorized document now, asked through its country's
        plugin: 409 document_not_authorized for any other document, 409 authority_status_not_available
        for a country whose authority Sello cannot ask, 503 authority_unavailable when it cannot answer."""
        doc = self._find(account_id, environment, document_id)
        if doc.status != "authorized" or not doc.authorization_number:
            raise Conflict(_l("Only an authorized document has a status at the tax authority; this one is "
                              "{status}.", status=doc.status), code="document_not_authorized",
                           extra={"status": doc.status})
        plugin = get_plugin(doc.country)
        try:
            answer = plugin.authority_status(doc.model_dump(mode="json"), doc.environment)
        except AuthorityUnavailable as exc:
            logger.warning("authority status not available", document_id=doc.id, reason=str(exc))
            raise ServiceUnavailable(_l("The tax authority could not be asked now; try again in a few minutes."),
                                     code="authority_unavailable") from None
        if answer is None:
            raise Conflict(_l("The tax authority of {country} cannot be asked for a document's status through "
                              "Sello.", country=plugin.name), code="authority_status_not_available")
        return DocumentAuthorityStatus(document_id=doc.id, authority=plugin.authority, checked_at=self._now(),
                                       **answer)

    # Email ----------------------------------------------------------------------------------------

    def send(self, account_id: str, environment: Environment, document_id: str,
             to: str | None) -> DocumentEmail:
        """Emails the authorized XML and the PDF to `to`, or to the customer's email; each request
        counts against the email limits (services/email_limits.py), a 429 beyond them."""
        from sello.services.delivery import document_mail
        from sello.services.email_limits import document_email_limits, take_email

        doc = self._find(account_id, environment, document_id)
        ready = doc.status == "authorized" and doc.authorized_key and doc.pdf_key
        xml = self.files.get(doc.authorized_key) if ready else None
        pdf = self.files.get(doc.pdf_key) if ready else None
        if xml is None or pdf is None:
            raise document_not_ready("authorized XML and PDF")
        to = to or doc.customer.get("email")
        if not to:
            raise Unprocessable(_l("The document's customer has no email; give the address in `to`."),
                                code="email_required", path="to")
        settings = self.settings or get_settings()
        if self.mailer is None:
            from sello.adapters.mailer import SesMailer
            self.mailer = SesMailer()
        if self.limiter is None:
            from sello.adapters.rate_limits import DynamoRateLimiter
            self.limiter = DynamoRateLimiter(DynamoStore(settings.table_name))
        take_email(self.limiter, settings, account_id, document_email_limits(settings, environment, doc.id),
                   self.clock(), "document")
        issuer = self.issuers.get_issuer(account_id, doc.issuer_id) if self.issuers is not None else None
        try:
            self.mailer.send(document_mail(_fields(doc), to, xml, pdf, issuer=issuer))
        except Exception:
            logger.exception("document email not sent", account_id=account_id, document_id=document_id)
            raise ServiceUnavailable(_l("The email could not be sent; try again later."),
                                     code="email_unavailable") from None
        return DocumentEmail(to=to, sent_at=self._now())


def _fields(doc: Document) -> dict[str, Any]:
    return doc.model_dump(include={"id", "type", "country", "number", "title", "issuer_name", "issue_date",
                                   "totals", "access_key", "authorization_number"})


def start_pending_workflows(limit: int = RESTART_BATCH) -> RestartReport:
    """The scheduled restart, with only what it uses (the table and the state machine)."""
    settings = get_settings()
    service = DocumentService(DynamoDocumentsRepo(DynamoStore(settings.table_name)),
                              starter=StepFunctionsStarter(settings.state_machine_arn))
    return service.start_pending(limit)


def default_service() -> DocumentService:
    settings = get_settings()
    store = DynamoStore(settings.table_name)
    return DocumentService(
        DynamoDocumentsRepo(store), issuers=DynamoIssuersRepo(store), sequences=DynamoSequences(store),
        claims=DynamoIdempotency(store), starter=StepFunctionsStarter(settings.state_machine_arn),
        files=S3Blobs(settings.bucket_name), settings=settings)
