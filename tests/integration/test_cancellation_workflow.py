"""A document's cancellation on the emulator: the real ASL file (its `"action": "cancel"` branch),
executed by the emulator's Step Functions engine, dispatching to the real cancellation tasks against the
emulated DynamoDB, S3 and SES. The country is the scripted one of test_workflow, so every path can be
driven: accepted at once or after the receiver's wait, refused by the authority, rejected by the
receiver, an unreachable authority waited for, a decision that never comes."""

from __future__ import annotations

import pytest

from sello.adapters.dynamo import DynamoStore
from sello.adapters.workflow import StepFunctionsStarter
from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage, CancellationOutcome, CancelOutcome
from sello.settings import get_settings
from tests.helpers import install_country
from tests.integration.test_workflow import ACCOUNT, CUSTOMER, ScriptedAuthority, blob, wait_for

PENDING = CancellationOutcome("pending", "In process")
AUTHORIZED_XML = b"<authorization number='1234567890'/>"


@pytest.fixture
def authority(aws, monkeypatch):
    plugin = ScriptedAuthority()
    install_country(monkeypatch, plugin)
    yield plugin
    get_settings.cache_clear()


@pytest.fixture
def cancel(aws, authority):
    """Stores an authorized document whose cancellation was just requested, starts the cancellation's
    execution and waits for it; returns (execution, item)."""
    from sello.adapters.blobs import S3Blobs, document_key

    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    blobs = S3Blobs(aws["SELLO_BUCKET_NAME"])
    starter = StepFunctionsStarter(aws["SELLO_STATE_MACHINE_ARN"])

    def _cancel(document_id: str, attempt: int = 1, **fields):
        authorized = document_key(ACCOUNT, document_id, "authorized.xml")
        blobs.put(authorized, AUTHORIZED_XML, "application/xml")
        pdf = document_key(ACCOUNT, document_id, "document.pdf")
        blobs.put(pdf, b"%PDF-1.7 first", "application/pdf")
        store.put({"pk": f"ACCOUNT#{ACCOUNT}", "sk": f"DOC#{document_id}", "country": "ZZ", "environment": "test",
                   "status": "authorized", "issuer_id": "iss_1", "number": "001-001-000000007",
                   "title": "Invoice", "customer": {"name": "Buyer", "email": CUSTOMER},
                   "authorization_number": "1234567890", "authorized_key": authorized, "pdf_key": pdf,
                   "cancellation_status": "pending", "cancellation_motive": "02",
                   "cancellation_request": {"motive": "02"}, "cancellation_requested_at": "2026-03-02T10:00:00+00:00",
                   "cancellation_attempt": attempt, **fields})
        execution = wait_for(starter.start_cancellation(ACCOUNT, document_id, attempt))
        return execution, store.get(f"ACCOUNT#{ACCOUNT}", f"DOC#{document_id}")

    return _cancel


def test_accepted_the_receipt_is_stored_the_pdf_marked_and_the_customer_told(aws, authority, cancel, outbox):
    authority.cancellation_script = [PENDING, PENDING, CancellationOutcome("accepted", "Cancelled with acceptance")]

    execution, item = cancel("doc_cancel_accepted")

    assert execution["status"] == "SUCCEEDED"
    assert item["cancellation_status"] == "accepted" and item["cancellation_finished_at"]
    assert item["cancellation_authority_status"] == "Cancelled with acceptance"
    assert int(item["cancellation_polls"]) == 2
    assert authority.calls["cancel"] == 1 and authority.calls["cancellation_status"] == 3
    assert blob(aws, "doc_cancel_accepted", "cancellation-receipt.xml") == b"<acuse/>"
    assert blob(aws, "doc_cancel_accepted", "document.pdf").endswith(b"CANCELLED")
    assert item["status"] == "authorized"  # the document keeps its status; the cancellation says the rest
    [mail] = outbox()
    assert mail["To"] == CUSTOMER and mail["Subject"].startswith("Cancelado: ")  # Spanish, the default
    names = sorted(part.get_filename() for part in mail.iter_attachments())
    assert names == ["001-001-000000007.cancelacion.xml", "001-001-000000007.pdf", "001-001-000000007.xml"]


def test_refused_by_the_authority_the_document_stays_in_force(aws, authority, cancel, outbox):
    refusal = AuthorityMessage("204", "No cancelable", reason="not_cancelable")
    authority.cancel_script = [CancelOutcome("rejected", messages=(refusal,))]

    execution, item = cancel("doc_cancel_refused")

    assert execution["status"] == "SUCCEEDED"
    assert item["cancellation_status"] == "rejected"
    assert item["cancellation_error"]["code"] == "not_cancelable"
    assert authority.calls["cancellation_status"] == 0
    assert blob(aws, "doc_cancel_refused", "document.pdf") == b"%PDF-1.7 first"  # not marked
    [mail] = outbox()
    assert mail["Subject"].startswith("Cancelación rechazada: ")


@pytest.mark.parametrize("answer, final", [("rejected", "rejected"), ("expired", "expired")])
def test_the_receivers_answer_is_the_final_status(aws, authority, cancel, outbox, answer, final):
    authority.cancellation_script = [PENDING, CancellationOutcome(answer, answer.title())]

    execution, item = cancel(f"doc_cancel_{answer}")

    assert item["cancellation_status"] == final
    assert blob(aws, f"doc_cancel_{answer}", "document.pdf").endswith(b"CANCELLED") is (final == "expired")


def test_an_unreachable_authority_is_waited_for_and_the_request_sent_once(aws, authority, cancel, outbox):
    authority.cancel_script = [AuthorityUnavailable("HTTP 503"), CancelOutcome("requested", receipt=b"<acuse/>")]
    authority.cancellation_script = [AuthorityUnavailable("timeout"), CancellationOutcome("accepted", "Cancelled")]

    execution, item = cancel("doc_cancel_unreachable")

    assert item["cancellation_status"] == "accepted"
    assert authority.calls["cancel"] == 2 and authority.calls["cancellation_status"] == 2
    assert "cancellation_unreachable_since" not in item


def test_a_decision_that_does_not_come_in_the_window_fails_the_cancellation(aws, authority, cancel, outbox,
                                                                               monkeypatch):
    monkeypatch.setenv("SELLO_POLL_FIRST_WAIT_SECONDS", "1")
    monkeypatch.setenv("SELLO_CANCELLATION_WINDOW_SECONDS", "1")
    get_settings.cache_clear()
    authority.cancellation_script = [PENDING]

    execution, item = cancel("doc_cancel_timed_out")

    assert execution["status"] == "SUCCEEDED"
    assert item["cancellation_status"] == "failed"
    assert item["cancellation_error"]["code"] == "cancellation_timed_out"


def test_a_second_request_runs_its_own_execution(aws, authority, cancel, outbox):
    authority.cancel_script = [CancelOutcome("rejected", messages=(AuthorityMessage("205", "No encontrado"),))]
    _, first = cancel("doc_cancel_twice")
    assert first["cancellation_status"] == "rejected"
    authority.cancel_script = [CancelOutcome("requested", receipt=b"<acuse/>")]

    execution, item = cancel("doc_cancel_twice", attempt=2)

    assert execution["name"] == "doc_cancel_twice-cancel-2"
    assert item["cancellation_status"] == "accepted"


@pytest.mark.parametrize("answer, freed", [("accepted", True), ("rejected", False)])
def test_a_cancelled_payment_gives_its_amount_back_to_the_invoice_it_paid(aws, authority, cancel, outbox, answer,
                                                                        freed):
    store = DynamoStore(aws["SELLO_TABLE_NAME"])
    invoice, payment = f"doc_paid_{answer}", f"doc_payment_{answer}"
    store.put({"pk": f"ACCOUNT#{ACCOUNT}", "sk": f"DOC#{invoice}", "country": "ZZ", "environment": "test",
               "status": "authorized", "issuer_id": "iss_1", "balance": "400.00", "payments_version": 3,
               "payments": {payment: {"amount": "600.00", "installment": 1}}})
    authority.cancellation_script = [CancellationOutcome(answer, answer.title())]

    _, item = cancel(payment, settles=[{"document_id": invoice, "amount": "600.00", "record": {"installment": 1}}])

    assert item["cancellation_status"] == answer
    paid = store.get(f"ACCOUNT#{ACCOUNT}", f"DOC#{invoice}")
    if freed:  # the whole 1,000.00 is to be paid again, and a later payment sees the change
        assert str(paid["balance"]) == "1000.00" and paid["payments"] == {}
        assert int(paid["payments_version"]) == 4
    else:  # a cancellation refused leaves the payment in force
        assert str(paid["balance"]) == "400.00" and payment in paid["payments"]
