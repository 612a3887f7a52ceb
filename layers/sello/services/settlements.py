"""Payments applied to documents paid later (a Mexican PPD invoice and its payment receipts), kept on
the paid document itself: its `balance`, its `payments` (payment document id -> what that payment
applied) and `payments_version`, which grows with every change.

- Issuing a payment: the plugin computes it from the paid documents as read (balance, installments)
  and says what it pays of each (countries.Settlement, with the version it read). The payment document
  is stored and recorded on every paid document in one DynamoDB transaction, each paid document's
  version required to be the one read: of two payments computed from the same balance only the first
  is stored, and the other answers 409 `related_document_changed` (sent again, it is computed from the
  new balance), its number handed back like any document that is not stored.
- A payment that ends rejected or failed (the workflow's finish) or is cancelled frees what it paid:
  `release` removes it from each paid document and adds its amount back to the balance. It is safe to
  call more than once and concurrently (a payment not recorded any more is left alone).
- A failed payment that is retried (services.documents.retry) is recorded again first (`reclaim`), if
  the documents it pays have not changed since it was freed: its CFDI, already built, states their
  balances of then."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sello.adapters.documents_repo import document_keys
from sello.countries import PreparedDocument, Settlement
from sello.errors import Conflict
from sello.i18n import _l
from sello.models.documents import Document

logger = Logger(service="sello")

RELEASE_ATTEMPTS = 10


class SettlingRepo(Protocol):
    def get(self, account_id: str, document_id: str) -> Document | None: ...
    def put_new_settling(self, doc: Document, records: list[tuple[str, int, dict, str]]) -> bool: ...
    def reclaim_settlements(self, doc: Document, records: list[tuple[str, int, dict, str]]) -> None: ...


class Store(Protocol):
    def get(self, pk: str, sk: str) -> dict | None: ...
    def update(self, pk: str, sk: str, *, set_: dict | None = None, add: dict | None = None,
               remove: tuple[str, ...] = (), condition: str | None = None, values: dict | None = None) -> dict: ...


class SettlementConflict(Exception):
    """A paid document changed (another payment) after the plugin read it."""


def related_document_changed() -> Conflict:
    return Conflict(_l("A document this payment applies to was changed by another payment issued at the same "
                       "time; send the request again to compute it from the new balance."),
                    code="related_document_changed")


def new_document_fields(prepared: PreparedDocument) -> dict[str, Any]:
    """What a new document keeps of its balance (one paid later) and of what it pays (a payment)."""
    fields: dict[str, Any] = {}
    if prepared.balance is not None:
        fields.update(balance=prepared.balance, payments={}, payments_version=0)
    return fields


def record(settlement: Settlement, number: str | None) -> dict[str, Any]:
    """The entry a paid document keeps of a payment (models.documents.DocumentPayment)."""
    return {**settlement.details, "number": number, "amount": str(settlement.amount),
            "balance": str(settlement.balance)}


def store(repo: SettlingRepo, doc: Document, settles: tuple[Settlement, ...]) -> bool:
    """Stores the payment document `doc` and records it on each document it pays, all or nothing: True;
    False when a document with its id exists already (stored by a request that took its idempotency
    claim over). 409 related_document_changed when a paid document changed since it was read."""
    records = [(s.document_id, s.version, record(s, doc.number), str(s.balance)) for s in settles]
    # The payment keeps what it paid of each document, and the entry, to be freed or claimed again.
    doc = doc.model_copy(update={"settles": [{"document_id": paid_id, "amount": entry["amount"], "record": entry}
                                             for paid_id, _, entry, _ in records]})
    try:
        return repo.put_new_settling(doc, records)
    except SettlementConflict:
        if repo.get(doc.account_id, doc.id) is not None:
            return False
        raise related_document_changed() from None


def release(store: Store, account_id: str, document_id: str, settles: list[Mapping[str, Any]] | None) -> int:
    """Frees what the payment document `document_id` paid of each document in `settles` (its stored
    `settles`): the number of documents it was still recorded on. The payment keeps each paid
    document's version after the release (`settlements_released`), which `reclaim` requires."""
    from sello.adapters.dynamo import ConditionFailed

    released = 0
    versions: dict[str, int] = {}
    for settled in settles or ():
        pk, sk = document_keys(account_id, settled["document_id"])
        for _ in range(RELEASE_ATTEMPTS):
            item = store.get(pk, sk)
            payments = dict((item or {}).get("payments") or {})
            entry = payments.pop(document_id, None)
            if entry is None:
                break
            version = int(item.get("payments_version", 0))
            balance = Decimal(str(item["balance"])) + Decimal(str(entry["amount"]))
            try:
                store.update(pk, sk, set_={"payments": payments, "balance": str(balance),
                                           "payments_version": version + 1},
                             condition="#payments_version = :version", values={":version": version})
            except ConditionFailed:
                continue  # another payment changed it meanwhile: read it again
            released += 1
            versions[settled["document_id"]] = version + 1
            break
        else:
            logger.error("payment not released", account_id=account_id, document_id=document_id,
                         paid_document_id=settled["document_id"])
    if versions:
        store.update(*document_keys(account_id, document_id), set_={"settlements_released": versions})
    return released


def not_reclaimable() -> Conflict:
    return Conflict(_l("A payment whose invoices changed after it failed cannot be retried (its amounts were "
                       "computed from their balance then); issue a new payment instead."),
                    code="document_not_retryable")


def reclaim(repo: SettlingRepo, doc: Document) -> None:
    """Records a failed payment that is retried on the documents it pays again, all or nothing: only
    when none of them changed since the payment was freed (its CFDI states their balance then); 409
    document_not_retryable otherwise. A document that still records it is left as it is."""
    released = doc.settlements_released or {}
    records = []
    for settled in doc.settles or ():
        paid = repo.get(doc.account_id, settled["document_id"])
        if paid is None:
            raise not_reclaimable()
        if doc.id in (paid.payments or {}):
            continue
        version = released.get(settled["document_id"])
        amount = Decimal(str(settled["amount"]))
        if version is None or int(version) != paid.payments_version or paid.balance is None or paid.balance < amount:
            raise not_reclaimable()
        records.append((paid.id, paid.payments_version, dict(settled["record"]), str(paid.balance - amount)))
    if records:
        try:
            repo.reclaim_settlements(doc, records)
        except SettlementConflict:
            raise not_reclaimable() from None
