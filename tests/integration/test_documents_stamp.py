"""POST /v1/documents/stamp through the real documents handler, on the emulator: a CFDI sealed
elsewhere (local.sealed_cfdi) is stored as the document's signed file, under the number it carries
and without using a Sello number, then its workflow starts (the sign task has nothing to do); the
same CFDI sent again, also at the same time, is one document; the certificate is checked as an
uploaded one (issued to the issuer's RFC, valid at Fecha, trusted for a live key); and every refusal
leaves no document and no file."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from local import sealed_cfdi
from local.lambdas import context_for
from sello import catalog
from sello.adapters import aws
from sello.adapters.blobs import S3Blobs, document_key
from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.sequences import DynamoSequences, SequenceKey
from sello.services import documents as documents_service
from sello.services.workflow import DocumentWorkflow, TaskInput
from sello.settings import get_settings
from tests.helpers import api_event, load_event, response_json

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
ISSUERS = next(s for s in catalog.API_FUNCTIONS if s.name == "issuers")
ACCOUNT = {"account_id": "acct_stamp0000000000000001", "environment": "test", "key_id": "key_stamp"}
LIVE = {**ACCOUNT, "environment": "live", "key_id": "key_stamp_live"}


class RecordingStarter:
    """Stands in for Step Functions: these tests are about what is stored before the workflow runs."""

    started: list[str] = []

    def __init__(self, _arn: str):
        pass

    def start(self, account_id: str, document_id: str, round_: int = 0) -> str:
        RecordingStarter.started.append(document_id)
        return document_id


@pytest.fixture
def started(aws, monkeypatch) -> list[str]:
    monkeypatch.setattr(documents_service, "StepFunctionsStarter", RecordingStarter)
    RecordingStarter.started = []
    return RecordingStarter.started


def create_issuer(body: str = "issuers/create_issuer_mx.body.json", principal: dict = ACCOUNT) -> str:
    from functions.api import issuers

    response = issuers.handler(api_event("POST", "/v1/issuers", load_event(body), principal=principal),
                               context_for(ISSUERS))
    assert response["statusCode"] == 201, response["body"]
    return response_json(response)["id"]


def stamp(issuer_id: str, xml: bytes, principal: dict = ACCOUNT, **fields) -> tuple[int, dict]:
    from functions.api import documents

    body = {"issuer_id": issuer_id, "xml_base64": base64.b64encode(xml).decode(), **fields}
    response = documents.handler(api_event("POST", "/v1/documents/stamp", body, principal=principal),
                                 context_for(DOCUMENTS))
    return response["statusCode"], response_json(response)


def stamp_xml(xml: bytes, query: dict, principal: dict = ACCOUNT) -> tuple[int, dict]:
    from functions.api import documents

    event = api_event("POST", "/v1/documents/stamp", principal=principal, query=query,
                      headers={"Content-Type": "application/xml"})
    event["body"] = xml.decode()
    response = documents.handler(event, context_for(DOCUMENTS))
    return response["statusCode"], response_json(response)


def repo() -> DynamoDocumentsRepo:
    return DynamoDocumentsRepo(DynamoStore(get_settings().table_name))


def listed(principal: dict = ACCOUNT) -> list:
    return repo().list(principal["account_id"], principal["environment"], limit=100)[0]


def files(principal: dict = ACCOUNT) -> list[str]:
    found = aws.client("s3").list_objects_v2(Bucket=get_settings().bucket_name,
                                             Prefix=f"accounts/{principal['account_id']}/")
    return [item["Key"] for item in found.get("Contents", ())]


def test_a_sealed_cfdi_is_stored_as_signed_under_its_own_number_and_started(started):
    issuer_id = create_issuer()
    xml = sealed_cfdi.sealed(serie="EXT", folio="77")
    status, body = stamp(issuer_id, xml, customer_email="cxp@example.com")
    assert status == 201, body
    assert (body["status"], body["number"], body["type"], body["issuer_id"]) == ("processing", "EXT-77", "invoice",
                                                                               issuer_id)
    assert body["totals"] == {"currency": "MXN", "subtotal": "1000.00", "discount": "0", "tax": "160.00",
                              "total": "1160.00"}
    assert body["customer"] == {"name": "XENON INDUSTRIAL ARTICLES", "tax_id": "XIA190128J61",
                                "email": "cxp@example.com"}
    assert started == [body["id"]]
    doc = repo().get(ACCOUNT["account_id"], body["id"])
    assert doc.signed_key == document_key(ACCOUNT["account_id"], body["id"], "signed.xml")
    assert doc.sequence is None and doc.series == "EXT" and doc.content["external"] is True
    assert S3Blobs(get_settings().bucket_name).get(doc.signed_key) == xml  # the bytes as sent
    # No Sello number of the issuer's series was used.
    sequences = DynamoSequences(DynamoStore(get_settings().table_name))
    assert sequences.allocate(SequenceKey(ACCOUNT["account_id"], issuer_id, "test", "invoice", "EXT")) == 1
    # The sign task leaves the document as it came: no credentials are even needed.
    workflow = DocumentWorkflow.from_settings(credentials=None)
    assert workflow.sign(TaskInput(account_id=ACCOUNT["account_id"], document_id=body["id"])) == {"status": "signed"}
    assert workflow.blobs.get(doc.signed_key) == xml


def test_the_xml_body_with_query_parameters_is_the_same_request(started):
    issuer_id = create_issuer()
    xml = sealed_cfdi.sealed(serie="NC", folio="8", tipo="E")
    status, body = stamp_xml(xml, {"issuer_id": issuer_id})
    assert status == 201, body
    assert (body["type"], body["number"], body["customer"].get("email")) == ("credit_note", "NC-8", None)
    status, missing = stamp_xml(xml, {})
    assert (status, missing["error"]["code"], missing["error"]["path"]) == (422, "missing_field", "issuer_id")


def test_the_same_cfdi_sent_again_or_at_the_same_time_is_one_document(started, atomic_emulator):
    issuer_id = create_issuer()
    xml = sealed_cfdi.sealed(folio="3")
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: stamp(issuer_id, xml), range(4)))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({body["id"] for _, body in answers}) == 1
    assert [d.id for d in listed()] == [answers[0][1]["id"]]
    # A replay that finds it not started yet starts it too: one execution, named after the document.
    assert set(started) == {answers[0][1]["id"]}
    # A CFDI sealed again (another Fecha, another Sello) is another document.
    assert stamp(issuer_id, sealed_cfdi.sealed(folio="3", when=sealed_cfdi.fecha(timedelta(minutes=2))))[0] == 201
    # The same CFDI with a live key is a live document of its own.
    assert len(listed()) == 2 and listed(LIVE) == []


def test_a_live_key_takes_only_a_certificate_of_a_recognised_authority(started, monkeypatch, tmp_path):
    from local import certs

    issuer_id = create_issuer()
    xml = sealed_cfdi.sealed(folio="11")
    status, body = stamp(issuer_id, xml, principal=LIVE)
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, "certificate_not_trusted",
                                                                     "xml.Certificado")
    assert listed(LIVE) == [] and files() == []
    path = tmp_path / "mini-ca.pem"
    path.write_bytes(certs.pem(certs.local_ca().certificate))
    monkeypatch.setenv("SELLO_TRUSTED_CA_PATH", str(path))
    get_settings.cache_clear()
    assert stamp(issuer_id, xml, principal=LIVE)[0] == 201


@pytest.mark.parametrize("case", ["expired_at_fecha", "not_yet_valid_at_fecha", "another_rfc", "invalid_rfc", "ecuador",
                                  "unknown_issuer", "too_large", "empty", "not_base64"])
def test_refusals_store_nothing(started, case, aws):
    now = datetime.now(UTC)
    issuer_id = create_issuer("issuers/create_issuer.body.json" if case == "ecuador" else
                              "issuers/create_issuer_mx.body.json")
    xml = sealed_cfdi.sealed()
    if case == "expired_at_fecha":  # a CSD that expired the day before the CFDI's Fecha
        xml = sealed_cfdi.seal(sealed_cfdi.comprobante(when=sealed_cfdi.fecha(timedelta(hours=2))),
                               *sealed_cfdi.csd(not_before=now - timedelta(days=10), days=9, key_slot=3))
    elif case == "not_yet_valid_at_fecha":
        xml = sealed_cfdi.seal(sealed_cfdi.comprobante(when=sealed_cfdi.fecha(timedelta(hours=2))),
                               *sealed_cfdi.csd(not_before=now - timedelta(hours=1), key_slot=3))
    elif case == "another_rfc":
        xml = sealed_cfdi.seal(sealed_cfdi.comprobante(), *sealed_cfdi.csd(rfc="XIA190128J61", key_slot=2))
    elif case == "invalid_rfc":  # the schema's pattern, not SAT's check digit
        xml = sealed_cfdi.seal(sealed_cfdi.comprobante(emisor_rfc="EKU9003173C8"),
                               *sealed_cfdi.csd(rfc="EKU9003173C8", key_slot=2))
    elif case == "too_large":
        xml = xml.replace(b'Serie="EXT"', b'Serie="' + b"E" * 1_000_000 + b'"')
    elif case == "empty":
        xml = b"  "
    expected = {
        "expired_at_fecha": (422, "certificate_expired", "xml.Certificado"),
        "not_yet_valid_at_fecha": (422, "certificate_not_yet_valid", "xml.Certificado"),
        "another_rfc": (422, "certificate_tax_id_mismatch", "xml.Certificado"),
        "invalid_rfc": (422, "invalid_tax_id", "xml.Emisor.Rfc"),
        "ecuador": (422, "external_documents_not_supported", "issuer_id"),
        "unknown_issuer": (404, "issuer_not_found", "issuer_id"),
        "too_large": (422, "document_too_large", "xml"),
        "empty": (422, "missing_field", "xml"),
        "not_base64": (422, "invalid_value", "xml_base64"),
    }[case]
    if case == "not_base64":
        from functions.api import documents

        response = documents.handler(api_event("POST", "/v1/documents/stamp",
                                               {"issuer_id": issuer_id, "xml_base64": "no es base64!"},
                                               principal=ACCOUNT), context_for(DOCUMENTS))
        status, body = response["statusCode"], response_json(response)
    else:
        status, body = stamp("iss_" + "0" * 20 if case == "unknown_issuer" else issuer_id, xml)
    assert status == expected[0], body
    assert (status, body["error"]["code"], body["error"].get("path")) == expected, body
    if case == "too_large":
        assert (body["error"]["limit"], body["error"]["size"]) == (1_000_000, len(xml))
    assert listed() == [] and files() == [] and started == []
