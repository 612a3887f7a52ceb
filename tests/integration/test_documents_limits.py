"""The limits of what the API takes, on the emulator with the Ecuador plugin: characters XML cannot
carry anywhere in a document request, the answer to a request with thousands of problems, SRI's
320 KB per signed comprobante and DynamoDB's 400 KB per item (documents and issuers). A refused
document consumes no number: the sequence item is checked after every request."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import certs
from local.lambdas import context_for
from local.sri.simulator import SriSimulator
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters.dynamo import MAX_ITEM_BYTES, DynamoStore, attributes_size, item_size
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.workflow import StepFunctionsStarter
from sello.countries.ec import catalogs, documents, xades, xml
from sello.countries.ec.sri import SriClient
from sello.http import MAX_ERROR_DETAILS
from sello.models.certificates import CertificateSummary
from sello.models.common import NOT_XML
from sello.models.document_request import MAX_ITEMS, CreateDocumentRequest
from sello.models.issuers import MAX_EMISSION_POINTS, MAX_ESTABLISHMENTS, MAX_ISSUER_BYTES, Issuer
from sello.services.documents import MAX_CONTENT_BYTES
from sello.settings import Settings, get_settings
from tests.helpers import api_event, load_event, response_json

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
ISSUERS = next(s for s in catalog.API_FUNCTIONS if s.name == "issuers")
ACCOUNT = {"account_id": "acct_limits00000000000001", "environment": "test", "key_id": "key_limits"}
ISSUER_ID = "iss_demo0000000000000000"
TYPES = ("invoice", "credit_note", "debit_note", "delivery_guide", "withholding")
EMOJI = "😀"  # four bytes in UTF-8, twelve as a JSON escape pair


# Set-up -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signing():
    """The key and certificate (for the demo RUC) the issuer signs with."""
    key = certs.rsa_key(1)
    return key, certs.make_certificate(key, ruc=certs.DEMO_RUC)


@pytest.fixture
def started(monkeypatch) -> list[str]:
    """Documents whose workflow would start; no execution runs (these tests stop at the API)."""
    ids: list[str] = []
    monkeypatch.setattr(StepFunctionsStarter, "start",
                        lambda self, account_id, document_id, round_=0: ids.append(document_id) or document_id)
    return ids


@pytest.fixture
def issuer(aws, started, signing) -> Issuer:
    """The issuer of the sample events, with a current certificate whose signature size it records."""
    now = datetime.now(UTC).replace(microsecond=0)
    summary = CertificateSummary(serial="5BAA8268", subject="CN=SELLO DEMO",
                                 valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=365),
                                 signature_size=xades.signature_size(signing[1]))
    stored = Issuer(id=ISSUER_ID, account_id=ACCOUNT["account_id"], certificate=summary, created_at=now,
                    updated_at=now, **load_event("issuers/create_issuer.body.json"))
    assert DynamoIssuersRepo(store()).create_issuer(stored)
    return stored


def store() -> DynamoStore:
    return DynamoStore(get_settings().table_name)


def table_items(prefix: str) -> list[dict]:
    table = aws_clients.resource("dynamodb").Table(get_settings().table_name)
    return [i for i in table.scan()["Items"] if i["sk"].startswith(prefix)]


def nothing_written() -> bool:
    """No number taken, no document, no idempotency claim."""
    return not any(table_items(prefix) for prefix in ("SEQ#", "DOC#", "IDEM#"))


def today_ec() -> str:
    return (datetime.now(UTC) - timedelta(hours=5)).date().isoformat()


def document_body(kind: str) -> dict:
    """The sample body of this type, dated today."""
    body = copy.deepcopy(load_event(f"documents/create_{kind}.body.json"))
    body.pop("issue_date", None)
    if kind == "delivery_guide":
        body["shipment"]["start_date"] = body["shipment"]["end_date"] = today_ec()
    return body


def post(path: str, body, function=DOCUMENTS, headers: dict | None = None) -> tuple[int, dict, int]:
    """(status, JSON answer, size of the answer in bytes). A str body is sent as it is."""
    from functions.api import documents as documents_api
    from functions.api import issuers as issuers_api

    headers = {"Content-Type": "application/json", **(headers or {})}
    event = api_event("POST", path, body, headers=headers, principal=ACCOUNT)
    handler = documents_api.handler if function is DOCUMENTS else issuers_api.handler
    response = handler(event, context_for(function))
    return response["statusCode"], response_json(response), len(response["body"].encode())


def issue(body) -> tuple[int, dict]:
    status, answer, _ = post("/v1/documents", body)
    return status, answer


# Characters XML cannot carry ------------------------------------------------------------------------

def text_fields(data, path: tuple = ()) -> list[tuple[tuple, bool]]:
    """(path, is a member name) of every string of a JSON body: each value, and each object's member
    names."""
    fields = []
    if isinstance(data, str):
        fields.append((path, False))
    elif isinstance(data, dict):
        for name, value in data.items():
            fields.append(((*path, name), True))
            fields += text_fields(value, (*path, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            fields += text_fields(value, (*path, index))
    return fields


def insert(text: str, at: int, piece: str) -> str:
    at = min(at, len(text))
    return text[:at] + piece + text[at:]


def corrupt(body: dict, path: tuple, is_name: bool, at: int, piece: str) -> dict:
    """A copy of `body` with `piece` inserted into the string at `path` (into the member name itself
    when `is_name`)."""
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for part in parents:
        target = target[part]
    if is_name:
        renamed = {(insert(name, at, piece) if name == last else name): value
                   for name, value in target.items()}
        target.clear()
        target.update(renamed)
    else:
        target[last] = insert(target[last], at, piece)
    return body


NOT_XML_CHARACTERS = st.one_of(
    st.integers(0x00, 0x08), st.sampled_from([0x0B, 0x0C]), st.integers(0x0E, 0x1F),
    st.integers(0xD800, 0xDFFF), st.sampled_from([0xFFFE, 0xFFFF]),
).map(chr)
FINE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")).filter(
    lambda c: not NOT_XML.match(c)), max_size=4)


@st.composite
def bad_requests(draw):
    kind = draw(st.sampled_from(TYPES))
    body = document_body(kind)
    body["issuer_id"] = ISSUER_ID
    path, is_name = draw(st.sampled_from(text_fields(body)))
    char = draw(NOT_XML_CHARACTERS)
    piece = draw(FINE_TEXT) + char + draw(FINE_TEXT)
    changed = corrupt(body, path, is_name, draw(st.integers(0, 40)), piece)
    where = path[:-1] if is_name else path
    expected = ".".join(str(p) for p in where) or "body"
    return json.dumps(changed, ensure_ascii=draw(st.booleans())), expected, char


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=bad_requests())
def test_a_character_xml_cannot_carry_in_any_text_field_is_422_with_its_path_and_takes_no_number(issuer,
                                                                                                 case):
    text, path, char = case
    status, answer = issue(text)
    error = answer["error"]
    assert (status, error["code"], error["path"]) == (422, "invalid_character", path), answer
    assert f"U+{ord(char):04X}" in answer["error"]["message"]
    assert nothing_written()


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\ud800", "\ufffe", "\uffff", "é"])
def test_an_idempotency_key_with_such_a_character_is_refused_before_numbering(issuer, char):
    body = document_body("invoice")
    status, answer, _ = post("/v1/documents", body, headers={"Idempotency-Key": f"order-{char}-1"})
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (
        400, "invalid_idempotency_key", "Idempotency-Key")
    assert nothing_written()


def test_every_sample_is_issued_and_takes_its_number(issuer, started):
    """The requests above differ from these only by the one character: here numbers are taken."""
    for kind in TYPES:
        status, answer = issue(document_body(kind))
        assert status == 201, answer
    assert len(table_items("SEQ#")) == len(TYPES) and len(started) == len(TYPES)


# The answer to a request with many problems -----------------------------------------------------------

def test_thousands_of_problems_get_a_short_answer_with_the_count_of_the_rest(issuer):
    # Five problems each: no description, a quantity that is no number, a negative price, a discount
    # that is no number, no taxes.
    bad_line = {"quantity": "x", "unit_price": "-1", "discount": "abc", "taxes": []}
    body = document_body("invoice") | {"items": [bad_line] * MAX_ITEMS}
    request_size = len(json.dumps(body))

    status, answer, size = post("/v1/documents", body)

    assert status == 422
    error = answer["error"]
    assert (error["code"], error["path"]) == ("missing_field", "items.0.description")
    assert len(error["details"]) == MAX_ERROR_DETAILS
    assert error["omitted"] == 5 * MAX_ITEMS - MAX_ERROR_DETAILS
    assert size < 12_000 and size < request_size / 2, (size, request_size)
    assert nothing_written()


def test_long_unknown_field_names_are_cut_in_the_answer(issuer):
    # 2,500 unknown fields whose names are 1,005 characters (2 KB in UTF-8): a 5 MB request.
    body = document_body("invoice") | {f"{n:05d}" + "ñ" * 1_000: n for n in range(2_500)}
    text = json.dumps(body, ensure_ascii=False)
    assert 5_000_000 < len(text.encode()) < 6 * 1024 * 1024

    status, answer, size = post("/v1/documents", text)

    error = answer["error"]
    assert (status, error["code"]) == (422, "unknown_field")
    assert len(error["details"]) == MAX_ERROR_DETAILS and error["omitted"] == 2_500 - MAX_ERROR_DETAILS
    assert all(len(d["path"]) <= 200 for d in error["details"])
    assert size < 80_000, size  # each path cut to 200 characters (six bytes each as JSON escapes)
    assert nothing_written()


# SRI's 320 KB and DynamoDB's 400 KB --------------------------------------------------------------------

LIMIT = catalogs.MAX_DOCUMENT_BYTES


def prepared(body: dict, issuer: Issuer):
    return documents.prepare(CreateDocumentRequest.model_validate(body), issuer, "test", datetime.now(UTC))


def signed_size_of(body: dict, issuer: Issuer) -> int:
    """Unsigned XML plus the issuer's recorded signature size: what the API checks."""
    return len(documents.unsigned_xml(prepared(body, issuer), "test")) + issuer.certificate.signature_size


def most_lines(make, line: dict, issuer: Issuer, measure, limit: int) -> int:
    """How many copies of `line` fit within `limit`, `measure` being linear in the number of lines."""
    one, two = measure(make([line]), issuer), measure(make([line] * 2), issuer)
    return 1 + (limit - one) // (two - one)


def heavy_line() -> dict:
    """A line whose every text is at its longest in four-byte characters: it weighs about as much in
    the stored content as in the XML."""
    return {"code": EMOJI * 25, "aux_code": EMOJI * 25, "description": EMOJI * 300, "unit": EMOJI * 50,
            "quantity": "1.5", "unit_price": "0.01",
            "details": {f"{n}" + EMOJI * 299: EMOJI * 300 for n in range(3)},
            "taxes": [{"type": "vat", "rate": "15"}]}


HEAVY_LINE_XML = 10_000  # about what one heavy line adds to the XML


def heavy_invoice(lines: list[dict]) -> dict:
    body = document_body("invoice") | {"items": lines, "payments": []}
    body["customer"] |= {"name": EMOJI * 300, "address": EMOJI * 300}
    body["additional_info"] = {f"{n:02d}" + EMOJI * 298: EMOJI * 300 for n in range(14)}
    return body


def test_the_largest_invoice_sri_takes_is_stored_signed_and_received_and_one_line_more_is_refused(issuer,
                                                                                                  signing):
    count = most_lines(heavy_invoice, heavy_line(), issuer, signed_size_of, LIMIT)
    body = heavy_invoice([heavy_line()] * count)
    assert LIMIT - HEAVY_LINE_XML < signed_size_of(body, issuer) <= LIMIT

    status, answer = issue(body)
    assert status == 201, answer
    [item] = table_items("DOC#")
    # As DynamoDB counts it, the item leaves room for what the workflow adds.
    assert attributes_size(item) < MAX_ITEM_BYTES - 40_000, attributes_size(item)

    # Signed for real, it is within SRI's limit, and the simulator receives it.
    key, certificate = signing
    unsigned = xml.build(item["content"], number=item["number"], access_key=item["access_key"],
                         environment="test")
    signed = xades.sign(unsigned, key, certificate)
    assert LIMIT - HEAVY_LINE_XML < len(signed) <= LIMIT
    with SriSimulator() as sri, SriClient(Settings(sri_test_url=sri.url, sri_live_url=sri.url)) as client:
        assert client.submit(signed, "test").status == "received"

    # One line more is refused before it is numbered, with the limit and the size.
    sequences = table_items("SEQ#")
    status, answer = issue(heavy_invoice([heavy_line()] * (count + 1)))
    error = answer["error"]
    assert (status, error["code"], error["path"]) == (422, "document_too_large", "items")
    assert error["limit"] == LIMIT and LIMIT < error["size"] < LIMIT + 20_000
    assert table_items("SEQ#") == sequences and len(table_items("DOC#")) == 1


def content_size_of(body: dict, issuer: Issuer) -> int:
    return item_size(prepared(body, issuer).content)


def heavy_debit_note(lines: list[dict]) -> dict:
    """A debit note prints only each line's description and amount, yet keeps every field of its
    lines: its stored content grows faster than its XML."""
    return document_body("debit_note") | {"items": lines, "payments": []}


def test_a_document_too_large_to_store_is_refused_and_the_largest_that_fits_is_stored(issuer):
    line = heavy_line() | {"description": "Interés"}
    count = most_lines(heavy_debit_note, line, issuer, content_size_of, MAX_CONTENT_BYTES)
    assert count < MAX_ITEMS
    body = heavy_debit_note([line] * count)
    assert signed_size_of(body, issuer) < catalogs.MAX_DOCUMENT_BYTES / 2  # SRI's limit is far away

    status, answer = issue(heavy_debit_note([line] * (count + 1)))
    error = answer["error"]
    assert (status, error["code"], error["path"]) == (422, "document_too_large", "body")
    assert error["limit"] == MAX_CONTENT_BYTES and error["size"] > MAX_CONTENT_BYTES
    assert nothing_written()

    status, answer = issue(body)
    assert status == 201, answer
    [item] = table_items("DOC#")
    assert MAX_CONTENT_BYTES - 10_000 < item_size(item["content"]) <= MAX_CONTENT_BYTES
    assert attributes_size(item) < MAX_ITEM_BYTES - 40_000


# Issuers ---------------------------------------------------------------------------------------------

def largest_issuer(label: str | None = None) -> dict:
    """100 establishments of 100 emission points, every text at its longest in four-byte characters."""
    body = load_event("issuers/create_issuer.body.json")
    body |= {"legal_name": EMOJI * 300, "trade_name": EMOJI * 300, "head_office_address": EMOJI * 300}
    points = [{"code": f"{p:03d}", **({"name": label} if label else {})}
              for p in range(1, MAX_EMISSION_POINTS + 1)]
    body["establishments"] = [{"code": f"{e:03d}", "address": EMOJI * 300, "name": EMOJI * 100,
                               "emission_points": points} for e in range(1, MAX_ESTABLISHMENTS + 1)]
    return body


def test_the_largest_issuer_is_stored_and_a_larger_one_is_refused(aws):
    status, created, _ = post("/v1/issuers", largest_issuer(), function=ISSUERS)
    assert status == 201, created
    [item] = table_items("ISSUER#")
    points = [len(e["emission_points"]) for e in item["establishments"]]
    assert points == [MAX_EMISSION_POINTS] * MAX_ESTABLISHMENTS
    # As DynamoDB counts it, with its keys; the rest of the item is left for the certificate's summary.
    assert attributes_size(item) <= MAX_ISSUER_BYTES + 200

    # With every emission point labelled at length, it no longer fits: refused, with limit and size.
    status, answer, _ = post("/v1/issuers", largest_issuer(label="Caja " + EMOJI * 20), function=ISSUERS)
    error = answer["error"]
    assert (status, error["code"], error["path"]) == (422, "issuer_too_large", "establishments")
    assert error["limit"] == MAX_ISSUER_BYTES and error["size"] > MAX_ISSUER_BYTES
    assert len(table_items("ISSUER#")) == 1
