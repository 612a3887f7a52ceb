"""GET /v1/documents/{id}/authority-status through the real documents handler, against documents stored
in the emulated table: a Mexican document is asked of SAT's status service (a small SOAP server in
tests/unit/test_mx_sat_status.py that answers SAT's shapes, reached through SELLO_SAT_STATUS_URL), any
other document or country gets its stable 4xx, and SAT being down is a 503."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from lxml import etree

from local.lambdas import context_for
from sello import catalog
from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.ids import new_id
from sello.models.documents import Document
from sello.settings import get_settings
from tests.helpers import api_event, response_json
from tests.unit.test_mx_sat_status import CANCELADO, FAULT, NO_ENCONTRADO, FakeSat

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
TEST_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
TEST_B = {"account_id": "acct_b0000000000000000000", "environment": "test", "key_id": "key_b"}
UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
MX_CONTENT = {"issuer": {"rfc": "EKU9003173C9"}, "customer": {"tax_id": "XIA190128J61"},
              "totals": {"total": "1160.00"}}


def get_status(document_id: str, principal: dict = TEST_A, headers: dict | None = None):
    from functions.api import documents

    event = api_event("GET", f"/v1/documents/{document_id}/authority-status", principal=principal, headers=headers)
    response = documents.handler(event, context_for(DOCUMENTS))
    return response["statusCode"], response_json(response)


@pytest.fixture
def sat(aws, monkeypatch):
    fake = FakeSat()
    monkeypatch.setenv("SELLO_SAT_STATUS_URL", fake.url)
    get_settings.cache_clear()
    yield fake
    fake.close()
    get_settings.cache_clear()


@pytest.fixture
def insert(aws):
    repo = DynamoDocumentsRepo(DynamoStore(aws["SELLO_TABLE_NAME"]))

    def _insert(principal: dict = TEST_A, **fields) -> Document:
        doc = Document.model_validate({
            "id": new_id("doc"), "account_id": principal["account_id"], "environment": principal["environment"],
            "type": "invoice", "country": "MX", "issuer_id": "iss_demo0000000000000000",
            "created_at": datetime(2026, 3, 2, 15, tzinfo=UTC), **fields})
        assert repo.put_new(doc)
        return doc

    return _insert


def authorized_mx(insert, **fields) -> Document:
    return insert(status="authorized", authorization_number=UUID, number="A-7", content=MX_CONTENT, **fields)


def test_an_authorized_mexican_document_is_asked_of_sat(sat, insert):
    doc = authorized_mx(insert)
    status, body = get_status(doc.id)
    assert status == 200, body
    assert body["document_id"] == doc.id and body["authority"] == "SAT"
    assert (body["status"], body["cancelable"], body["cancellation_status"]) == (
        "Vigente", "Cancelable con aceptación", None)
    assert body["details"]["validacion_efos"] == "200"
    assert body["details"]["codigo_estatus"].startswith("S - ")
    assert abs(datetime.fromisoformat(body["checked_at"].replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds() < 60
    # SAT was asked for this document: its RFCs, total and UUID
    (_, _, request), = sat.requests
    expresion = etree.fromstring(request).find(".//{http://tempuri.org/}expresionImpresa").text
    assert dict(parse_qsl(expresion.lstrip("?"))) == {"re": "EKU9003173C9", "rr": "XIA190128J61",
                                                      "tt": "1160.00", "id": UUID}


def test_a_cancelled_and_an_unknown_document_read_as_sat_says(sat, insert):
    doc = authorized_mx(insert)
    sat.answers.extend([(200, CANCELADO), (200, NO_ENCONTRADO)])
    assert get_status(doc.id)[1]["cancellation_status"] == "Cancelado con aceptación"
    status, body = get_status(doc.id)
    assert status == 200 and body["status"] == "No Encontrado"
    assert body["cancelable"] is None and body["cancellation_status"] is None


@pytest.mark.parametrize("state", ["processing", "rejected", "failed"])
def test_only_an_authorized_document_has_a_status(sat, insert, state):
    doc = insert(status=state, content=MX_CONTENT)
    status, body = get_status(doc.id)
    assert status == 409
    assert body["error"]["code"] == "document_not_authorized" and body["error"]["status"] == state
    assert "autoridad tributaria" in body["error"]["message"]  # Spanish by default
    assert not sat.requests


def test_the_message_follows_the_callers_language(sat, insert):
    doc = insert(status="processing", content=MX_CONTENT)
    _, body = get_status(doc.id, headers={"Accept-Language": "en"})
    assert body["error"]["message"] == ("Only an authorized document has a status at the tax authority; this "
                                        "one is processing.")


def test_a_country_whose_authority_cannot_be_asked_is_a_conflict(sat, insert):
    doc = insert(country="EC", status="authorized", authorization_number="0203202601179999999000110010010000000011234567813")
    status, body = get_status(doc.id)
    assert status == 409 and body["error"]["code"] == "authority_status_not_available"
    assert "Ecuador" in body["error"]["message"]
    assert not sat.requests


@pytest.mark.parametrize("answer", [(503, "Service Unavailable"), (500, FAULT), (200, "<html/>")])
def test_sat_unavailable_is_a_503(sat, insert, answer):
    doc = authorized_mx(insert)
    sat.answers.append(answer)
    status, body = get_status(doc.id)
    assert status == 503 and body["error"]["code"] == "authority_unavailable"


def test_another_accounts_document_is_not_found(sat, insert):
    doc = authorized_mx(insert)
    status, body = get_status(doc.id, principal=TEST_B)
    assert status == 404 and body["error"]["code"] == "document_not_found"
    assert get_status("doc_nope")[0] == 404
    assert not sat.requests
