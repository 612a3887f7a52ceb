"""Mexican payment receipts through the documents service against the emulated table: a payment names a
PPD invoice by its Sello id, is computed from the balance and installments recorded on it, and is
recorded on it in the same transaction that stores the payment; concurrent payments never overpay nor
share an installment (the loser answers 409 related_document_changed or, computed after the winner,
422 amount_exceeds_balance), and a payment that ends rejected or failed gives its amount back."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sello.adapters.documents_repo import DynamoDocumentsRepo, document_keys
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.countries.mx import documents as mx_documents
from sello.countries.mx import requests as mx_requests
from sello.countries.mx.issuer import validate_issuer
from sello.errors import Conflict, Unprocessable
from sello.ids import new_id
from sello.models.certificates import CertificateSummary
from sello.models.documents import Document, DocumentView
from sello.models.issuers import Issuer
from sello.services import settlements
from sello.services.documents import DocumentService
from sello.services.workflow import DocumentWorkflow, FinishInput
from sello.settings import get_settings
from tests.integration.test_documents_issue import RecordingStarter, atomic_dynamodb, service  # noqa: F401

ACCOUNT = "acct_pay0000000000000000000"
D = Decimal
BRANCHES = [{"code": "MATRIZ", "name": "Matriz", "zip": "42501",
             "series": {"invoice": "A", "credit_note": "NC", "payment": "P"}}]
CUSTOMER = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601", "zip": "76343"}


def store() -> DynamoStore:
    return DynamoStore(get_settings().table_name)


@pytest.fixture
def mexico(aws) -> Issuer:
    now = datetime.now(UTC).replace(microsecond=0)
    issuer = Issuer.model_validate({
        "id": new_id("iss"), "account_id": ACCOUNT, "country": "MX", "tax_id": "EKU9003173C9",
        "legal_name": "ESCUELA KEMPER URGATE", "regime": "601", "zip": "42501", "branches": BRANCHES,
        "certificate": CertificateSummary(serial="30001000000500003416", subject="CN=EKU",
                                          valid_from=now - timedelta(days=10), valid_to=now + timedelta(days=365),
                                          trusted=True),
        "created_at": now, "updated_at": now})
    assert DynamoIssuersRepo(store()).create_issuer(issuer)
    return issuer


def authorized_invoice(issuer: Issuer, method: str = "PPD", price: str = "1000.00") -> Document:
    """A PPD invoice of the issuer, prepared by Mexico's plugin, stored as the workflow leaves it once
    stamped (1000 + 16 % IVA = 1160)."""
    data = {"type": "invoice", "issuer_id": issuer.id, "branch": "MATRIZ", "customer": CUSTOMER | {"cfdi_use": "G03"},
            "payment_method": method, "payment_form": None if method == "PPD" else "03",
            "items": [{"product_code": "84111506", "description": "Servicio", "unit_code": "E48", "unit_price": price,
                       "taxes": [{"type": "vat", "rate": "16"}]}]}
    mexico = validate_issuer(issuer.tax_id, issuer.legal_name, issuer.country_fields)
    prepared = mx_documents.prepare(mx_requests.MexicoDocumentRequest.model_validate(data), mexico, "test",
                                    datetime.now(UTC))
    doc = Document(id=new_id("doc"), account_id=ACCOUNT, environment="test", type="invoice", country="MX",
                   issuer_id=issuer.id, status="authorized", number="A-1", content=prepared.content,
                   totals=prepared.totals, authorization_number=str(uuid.uuid4()).upper(),
                   created_at=datetime.now(UTC), **settlements.new_document_fields(prepared))
    assert DynamoDocumentsRepo(store()).put_new(doc)
    return doc


def payment(issuer: Issuer, *paid: tuple[str, str]) -> dict:
    return {"type": "payment", "issuer_id": issuer.id, "branch": "MATRIZ", "customer": CUSTOMER,
            "payments": [{"paid_at": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(), "payment_form": "03",
                          "documents": [{"document": doc_id, "amount": amount} for doc_id, amount in paid]}]}


def documents() -> DocumentService:
    return service(starter=RecordingStarter())


def read(doc_id: str) -> Document:
    return DynamoDocumentsRepo(store()).get(ACCOUNT, doc_id)


def test_payments_are_recorded_on_the_invoice_and_shown_with_its_balance(mexico):
    invoice = authorized_invoice(mexico)
    assert DocumentView.of(invoice).model_dump(mode="json")["balance"] == "1160.00"
    first = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "400.00"))).document
    second = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "760.00"))).document
    assert (first.type, first.number, second.number) == ("payment", "P-1", "P-2")
    stored = read(second.id)
    related = stored.content["payments"][0]["documents"][0]
    assert (related["installment"], related["previous_balance"], related["balance"]) == (2, "760.00", "0.00")
    assert [(s["document_id"], s["amount"], s["record"]["installment"]) for s in stored.settles] == [
        (invoice.id, "760.00", 2)]
    view = DocumentView.of(read(invoice.id)).model_dump(mode="json", exclude_none=True)
    assert view["balance"] == "0.00"
    assert [(p["document_id"], p["number"], p["amount"], p["installment"], p["balance"]) for p in view["payments"]] == [
        (first.id, "P-1", "400.00", 1, "760.00"), (second.id, "P-2", "760.00", 2, "0.00")]
    assert read(invoice.id).payments_version == 2
    # Nothing is left to pay: a third payment is refused, and takes no number.
    with pytest.raises(Unprocessable) as caught:
        documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "0.01")))
    assert (caught.value.code, caught.value.path) == ("amount_exceeds_balance", "payments.0.documents.0.amount")
    assert documents().create(ACCOUNT, "test", payment(mexico, (authorized_invoice(mexico).id, "1.00"))
                              ).document.number == "P-3"


def test_a_pue_invoice_and_an_unknown_one_are_refused_at_their_path(mexico):
    pue = authorized_invoice(mexico, method="PUE")
    with pytest.raises(Unprocessable) as caught:
        documents().create(ACCOUNT, "test", payment(mexico, (pue.id, "1.00")))
    assert (caught.value.code, caught.value.path) == ("invoice_not_payable", "payments.0.documents.0.document")
    with pytest.raises(Unprocessable) as caught:
        documents().create(ACCOUNT, "test", payment(mexico, ("doc_00000000000000000000", "1.00")))
    assert (caught.value.code, caught.value.path) == ("related_document_not_found", "payments.0.documents.0.document")


def test_a_payment_computed_from_a_stale_balance_is_a_conflict_and_gives_its_number_back(mexico, monkeypatch):
    invoice = authorized_invoice(mexico)
    stale = read(invoice.id)
    documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "1000.00")))
    service_ = documents()
    real_get = service_.repo.get
    monkeypatch.setattr(service_.repo, "get", lambda account, doc_id: stale if doc_id == invoice.id else real_get(
        account, doc_id))
    with pytest.raises(Conflict) as caught:
        service_.create(ACCOUNT, "test", payment(mexico, (invoice.id, "1000.00")))
    assert caught.value.code == "related_document_changed"
    monkeypatch.undo()
    assert read(invoice.id).balance == D("160.00")
    # The number the conflicting payment took was handed back: the next payment is P-2.
    assert documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "160.00"))).document.number == "P-2"


def test_concurrent_payments_never_overpay_nor_share_an_installment(mexico, atomic_dynamodb):  # noqa: F811
    invoice = authorized_invoice(mexico)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def pay():
        barrier.wait()
        try:
            documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "400.00")))
            outcomes.append("stored")
        except (Conflict, Unprocessable) as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = read(invoice.id)
    paid = [D(p["amount"]) for p in stored.payments.values()]
    assert outcomes.count("stored") == len(paid) <= 2  # 2 × 400 fit in 1160, a third does not
    assert set(outcomes) <= {"stored", "related_document_changed", "amount_exceeds_balance"}
    assert stored.balance == D("1160.00") - sum(paid, D(0)) >= 0
    assert sorted(p["installment"] for p in stored.payments.values()) == list(range(1, len(paid) + 1))
    assert stored.payments_version == len(paid)


@pytest.mark.parametrize("status", ["rejected", "failed"])
def test_a_payment_that_ends_unauthorised_frees_what_it_paid(mexico, status):
    invoice, other = authorized_invoice(mexico), authorized_invoice(mexico)
    paid = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "300.00"), (other.id, "1160.00"))).document
    kept = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "100.00"))).document
    assert (read(invoice.id).balance, read(other.id).balance) == (D("760.00"), D(0))
    workflow = DocumentWorkflow.from_settings()
    assert workflow.finish(FinishInput(account_id=ACCOUNT, document_id=paid.id, status=status)) == {"status": status}
    assert (read(invoice.id).balance, read(other.id).balance) == (D("1060.00"), D("1160.00"))
    assert list(read(invoice.id).payments) == [kept.id]
    # Freed once: releasing again (a cancellation after a failure, a repeated task) changes nothing.
    assert settlements.release(store(), ACCOUNT, paid.id, read(paid.id).settles) == 0
    assert read(invoice.id).balance == D("1060.00")
    # The next payment of the invoice continues after the highest installment still recorded (2): the
    # freed one was never stamped, and no two payments share a number.
    again = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "60.00"))).document
    assert read(again.id).content["payments"][0]["documents"][0]["installment"] == 3


def test_an_authorized_payment_keeps_its_amount(mexico):
    invoice = authorized_invoice(mexico)
    paid = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "300.00"))).document
    pk, sk = document_keys(ACCOUNT, paid.id)
    store().update(pk, sk, set_={"status": "processing"})
    DocumentWorkflow.from_settings().finish(FinishInput(account_id=ACCOUNT, document_id=paid.id, status="authorized"))
    assert read(invoice.id).balance == D("860.00")


def _fail(doc_id: str) -> None:
    DocumentWorkflow.from_settings().finish(FinishInput(account_id=ACCOUNT, document_id=doc_id, status="failed"))


def test_a_failed_payment_retried_is_recorded_again_unless_its_invoices_changed(mexico):
    invoice, other = authorized_invoice(mexico), authorized_invoice(mexico)
    failed = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "300.00"), (other.id, "60.00"))
                                ).document
    _fail(failed.id)
    assert (read(invoice.id).balance, read(other.id).balance) == (D("1160.00"), D("1160.00"))
    retried = documents().retry(ACCOUNT, "test", failed.id)
    assert retried.status == "processing"
    assert (read(invoice.id).balance, read(other.id).balance) == (D("860.00"), D("1100.00"))
    assert read(invoice.id).payments[failed.id]["installment"] == 1
    # Failed again, and meanwhile another payment of one of its invoices: it cannot be retried, and nothing
    # is recorded again on the other invoice either.
    pk, sk = document_keys(ACCOUNT, failed.id)
    store().update(pk, sk, set_={"status": "processing"})
    _fail(failed.id)
    documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "10.00")))
    with pytest.raises(Conflict) as caught:
        documents().retry(ACCOUNT, "test", failed.id)
    assert caught.value.code == "document_not_retryable"
    assert (read(invoice.id).balance, read(other.id).balance) == (D("1150.00"), D("1160.00"))
    assert read(failed.id).status == "failed"


def test_a_payment_sent_again_with_its_idempotency_key_is_replayed_after_it_used_up_the_balance(mexico):
    invoice = authorized_invoice(mexico)
    first = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "1160.00")), "pago-1")
    again = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "1160.00")), "pago-1")
    assert (first.replayed, again.replayed, again.document.id) == (False, True, first.document.id)
    assert read(invoice.id).balance == 0 and list(read(invoice.id).payments) == [first.document.id]
    with pytest.raises(Unprocessable) as caught:  # another key: a new payment, and nothing is left to pay
        documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "1160.00")), "pago-2")
    assert caught.value.code == "amount_exceeds_balance"


def test_payments_are_listed_by_their_type(mexico):
    from sello.services.documents import document_filter

    invoice = authorized_invoice(mexico)
    paid = documents().create(ACCOUNT, "test", payment(mexico, (invoice.id, "1.00"))).document
    listed = documents().list(ACCOUNT, "test", document_filter(document_type="payment"))
    assert [d.id for d in listed.data] == [paid.id]
