"""POST /v1/documents/{id}/cancel and GET /v1/documents/{id}/cancellation-receipt through the real
documents handler, against documents stored in the emulated table: the checks in their order (404,
409 for a country without cancellations, 422 for the body and Mexico's substitute rules, 409 for the
document's state), the pending cancellation recorded once and its execution started (the starter is
replaced by a recorder here, so no execution runs: tests/integration/test_cancellation_workflow.py
runs them), and a cancellation that could not be started ending as failed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.adapters.documents_repo import DynamoDocumentsRepo, document_keys
from sello.adapters.dynamo import DynamoStore
from sello.adapters.workflow import StepFunctionsStarter
from sello.ids import new_id
from sello.models.documents import Document
from tests.helpers import api_event, header, response_json

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
TEST_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
LIVE_A = {"account_id": "acct_a0000000000000000000", "environment": "live", "key_id": "key_l"}
ISSUER = "iss_demo0000000000000000"
UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
SUBSTITUTE_UUID = "7A1C2B3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
MX_CONTENT = {"issuer": {"rfc": "EKU9003173C9"}, "customer": {"tax_id": "XIA190128J61"},
              "totals": {"total": "1160.00"}}


def call(method: str, document_id: str, body=None, principal: dict = TEST_A):
    from functions.api import documents

    suffix = "cancel" if method == "POST" else "cancellation-receipt"
    event = api_event(method, f"/v1/documents/{document_id}/{suffix}", body=body, principal=principal)
    response = documents.handler(event, context_for(DOCUMENTS))
    return response["statusCode"], response_json(response), response


@pytest.fixture
def started(aws, monkeypatch):
    """The executions the API starts, recorded instead of run."""
    calls: list[tuple[str, str, int]] = []

    def start(self, account_id, document_id, attempt):
        calls.append((account_id, document_id, attempt))
        return f"arn:execution:{document_id}-cancel-{attempt}"

    monkeypatch.setattr(StepFunctionsStarter, "start_cancellation", start)
    return calls


@pytest.fixture
def store(aws):
    return DynamoStore(aws["SELLO_TABLE_NAME"])


@pytest.fixture
def insert(store):
    repo = DynamoDocumentsRepo(store)

    def _insert(principal: dict = TEST_A, **fields) -> Document:
        doc = Document.model_validate({
            "id": new_id("doc"), "account_id": principal["account_id"], "environment": principal["environment"],
            "type": "invoice", "country": "MX", "issuer_id": ISSUER, "status": "authorized",
            "authorization_number": UUID, "number": "A-7", "content": MX_CONTENT,
            "created_at": datetime(2026, 3, 2, 15, tzinfo=UTC), **fields})
        assert repo.put_new(doc)
        return doc

    return _insert


def item(store, document_id: str, principal: dict = TEST_A) -> dict:
    return store.get(*document_keys(principal["account_id"], document_id))


def error(body: dict) -> tuple[str, str | None]:
    return body["error"]["code"], body["error"].get("path")


def substitute(insert, uuid: str = SUBSTITUTE_UUID, relates_to: str = UUID, **fields) -> Document:
    content = {**MX_CONTENT, "related": {"type": "04", "documents": [{"uuid": relates_to}]}}
    return insert(authorization_number=uuid, content=content, **fields)


def test_a_cancellation_is_recorded_pending_and_its_execution_started(store, insert, started):
    doc = insert()
    status, body, _ = call("POST", doc.id, {"motive": "02"})
    assert status == 202, body
    assert body["id"] == doc.id and body["status"] == "authorized"
    assert body["cancellation"]["status"] == "pending" and body["cancellation"]["motive"] == "02"
    assert body["cancellation"]["substitute"] is None and body["cancellation"]["receipt_available"] is False
    assert started == [(TEST_A["account_id"], doc.id, 1)]
    stored = item(store, doc.id)
    assert stored["cancellation_request"] == {"uuid": UUID, "rfc": "EKU9003173C9", "motive": "02",
                                              "substitute_uuid": None}


def test_motive_01_with_a_substitute_that_relates_by_04(store, insert, started):
    doc, replacement = insert(), substitute(insert)
    status, body, _ = call("POST", doc.id, {"motive": "01", "substitute": replacement.id})
    assert status == 202, body
    assert body["cancellation"]["substitute"] == replacement.id
    assert item(store, doc.id)["cancellation_request"]["substitute_uuid"] == SUBSTITUTE_UUID
    # a UUID of a CFDI issued elsewhere is taken as given (SAT checks it)
    other = insert()
    status, body, _ = call("POST", other.id, {"motive": "01", "substitute": SUBSTITUTE_UUID.lower()})
    assert status == 202, body
    assert item(store, other.id)["cancellation_request"]["substitute_uuid"] == SUBSTITUTE_UUID


@pytest.mark.parametrize("body, code, path", [
    ({}, "missing_field", "motive"),
    ({"motive": "05"}, "invalid_value", "motive"),
    ({"motive": "02", "reason": "x"}, "unknown_field", "reason"),
    ({"motive": "01"}, "substitute_required", "substitute"),
    ({"motive": "03", "substitute": SUBSTITUTE_UUID}, "substitute_not_allowed", "substitute"),
    ({"motive": "01", "substitute": "not a document"}, "invalid_value", "substitute"),
    ({"motive": "01", "substitute": UUID}, "substitute_not_related", "substitute"),
])
def test_bodies_that_cannot_cancel_are_422_at_their_field(store, insert, started, body, code, path):
    doc = insert()
    status, answer, _ = call("POST", doc.id, body)
    assert (status, *error(answer)) == (422, code, path)
    assert "cancellation_status" not in item(store, doc.id) and started == []


def test_the_substitute_must_be_this_issuers_authorized_and_relate_to_the_document(store, insert, started):
    doc = insert()
    cases = [
        (substitute(insert, issuer_id="iss_other000000000000000"), "related_document_not_found"),
        (substitute(insert, principal=LIVE_A), "related_document_not_found"),
        (substitute(insert, status="failed"), "related_document_not_authorized"),
        (substitute(insert, relates_to="0E4F5D3A-1B2C-4D5E-8F90-123456789ABC"), "substitute_not_related"),
        (insert(authorization_number=SUBSTITUTE_UUID), "substitute_not_related"),  # no relation at all
    ]
    for replacement, code in cases:
        status, answer, _ = call("POST", doc.id, {"motive": "01", "substitute": replacement.id})
        assert (status, *error(answer)) == (422, code, "substitute"), code
    assert started == []


def test_the_documents_state_decides_409s(store, insert, started):
    processing = insert(status="processing", authorization_number=None)
    status, body, _ = call("POST", processing.id, {"motive": "02"})
    assert (status, error(body)[0], body["error"]["status"]) == (409, "document_not_authorized", "processing")
    doc = insert()
    assert call("POST", doc.id, {"motive": "02"})[0] == 202
    status, body, _ = call("POST", doc.id, {"motive": "02"})
    assert (status, error(body)[0]) == (409, "cancellation_in_progress")
    store.update(*document_keys(TEST_A["account_id"], doc.id), set_={"cancellation_status": "accepted"})
    status, body, _ = call("POST", doc.id, {"motive": "02"})
    assert (status, error(body)[0]) == (409, "document_cancelled")
    assert started == [(TEST_A["account_id"], doc.id, 1)]


def test_a_rejected_cancellation_can_be_requested_again_under_a_new_execution(store, insert, started):
    doc = insert()
    call("POST", doc.id, {"motive": "02"})
    store.update(*document_keys(TEST_A["account_id"], doc.id), set_={
        "cancellation_status": "rejected", "cancellation_error": {"code": "x", "message": "y"},
        "cancellation_receipt_key": "some/key"})
    status, body, _ = call("POST", doc.id, {"motive": "03"})
    assert status == 202, body
    assert body["cancellation"]["motive"] == "03" and body["cancellation"]["error"] is None
    assert body["cancellation"]["receipt_available"] is False  # the receipt was the first request's
    assert [attempt for *_, attempt in started] == [1, 2]


def test_a_country_without_cancellations_and_unknown_documents(insert, started):
    ecuador = insert(country="EC", content={})
    status, body, _ = call("POST", ecuador.id, {"motive": "02"})
    assert (status, error(body)[0]) == (409, "cancellation_not_available")
    for document_id, principal in (("doc_missing0000000000000", TEST_A), (insert().id, LIVE_A)):
        status, body, _ = call("POST", document_id, {"motive": "02"}, principal=principal)
        assert (status, error(body)[0]) == (404, "document_not_found")
    assert started == []


def test_a_cancellation_that_cannot_start_ends_failed_and_can_be_requested_again(store, insert, monkeypatch):
    def unreachable(self, *args):
        raise ConnectionError("Step Functions is down")

    monkeypatch.setattr(StepFunctionsStarter, "start_cancellation", unreachable)
    doc = insert()
    status, body, _ = call("POST", doc.id, {"motive": "02"})
    assert (status, error(body)[0]) == (503, "workflow_unavailable")
    stored = item(store, doc.id)
    assert stored["cancellation_status"] == "failed"
    assert stored["cancellation_error"]["code"] == "workflow_unavailable"


def test_the_receipt_is_downloaded_once_the_authority_has_taken_the_request(aws, store, insert, started):
    from sello.adapters.blobs import S3Blobs, document_key

    doc = insert()
    status, body, _ = call("GET", doc.id)
    assert (status, error(body)[0]) == (409, "cancellation_receipt_not_available")
    key = document_key(TEST_A["account_id"], doc.id, "cancellation-receipt.xml")
    S3Blobs(aws["SELLO_BUCKET_NAME"]).put(key, b"<Acuse/>", "application/xml")
    store.update(*document_keys(TEST_A["account_id"], doc.id), set_={"cancellation_receipt_key": key})
    status, _, response = call("GET", doc.id)
    assert status == 303
    assert "cancellation-receipt.xml" in header(response, "Location")
