"""The documents function in process: REST proxy events (the samples in events/documents and built
ones) through the real handler, against documents stored in the emulated table by the repository the
API reads them with."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from local.lambdas import context_for
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.adapters import documents_repo
from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.ids import new_id
from sello.models.documents import DOCUMENT_TYPES, Document, DocumentFilter
from sello.services.workflow import DocumentWorkflow, FinishInput, StateError
from sello.settings import get_settings
from tests.helpers import api_event, authorizer_context, load_event, response_json

DOCUMENTS = next(s for s in catalog.API_FUNCTIONS if s.name == "documents")
SAMPLE_DOCUMENT = "doc_demo0000000000000000"
DEMO = {"account_id": "acct_demo0000000000000000", "environment": "test", "key_id": "key_demo"}
TEST_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
LIVE_A = {**TEST_A, "environment": "live", "key_id": "key_a_live"}
TEST_B = {"account_id": "acct_b0000000000000000000", "environment": "test", "key_id": "key_b"}
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACCESS_KEY = "0203202601179999999000110010010000000011234567813"
NOT_FOUND = (404, "document_not_found", "document_id")


def call(event: dict) -> tuple[int, dict | None]:
    from functions.api import documents

    response = documents.handler(event, context_for(DOCUMENTS))
    return response["statusCode"], response_json(response)


def request(method: str, path: str, principal: dict = TEST_A, **kwargs):
    return call(api_event(method, path, principal=principal, **kwargs))


def sample(name: str, principal: dict = DEMO) -> dict:
    event = load_event(f"documents/{name}.json")
    event["requestContext"]["authorizer"] = authorizer_context(principal)
    return event


@pytest.fixture
def repo(aws) -> DynamoDocumentsRepo:
    return DynamoDocumentsRepo(DynamoStore(aws["SELLO_TABLE_NAME"]))


@pytest.fixture
def insert(repo):
    """Stores a document of `principal`'s account and environment, created `minutes` after T0."""

    def _insert(principal: dict = TEST_A, minutes: int = 0, **fields) -> Document:
        doc = Document.model_validate({
            "id": new_id("doc"), "account_id": principal["account_id"],
            "environment": principal["environment"], "type": "invoice", "country": "EC",
            "issuer_id": "iss_demo0000000000000000",
            "created_at": T0 + timedelta(minutes=minutes), **fields})
        assert repo.put_new(doc)
        return doc

    return _insert


def list_ids(principal: dict = TEST_A, **query) -> list[str]:
    status, page = request("GET", "/v1/documents", principal=principal,
                           query={k: str(v) for k, v in query.items()} or None)
    assert status == 200, page
    return [d["id"] for d in page["data"]]


def walk(principal: dict = TEST_A, **query) -> tuple[list[str], int]:
    """Every id the list hands out, following next_cursor to the end; and the number of pages."""
    seen, cursor, pages = [], None, 0
    while True:
        params = {k: str(v) for k, v in query.items()} | ({"cursor": cursor} if cursor else {})
        status, page = request("GET", "/v1/documents", principal=principal, query=params)
        assert status == 200, page
        assert len(page["data"]) <= int(query.get("limit", 20))
        seen += [d["id"] for d in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            return seen, pages


def test_get_the_sample_document_with_the_authoritys_fields(insert):
    messages = [{"code": "60", "message": "ESTE PROCESO FUE REALIZADO EN EL AMBIENTE DE PRUEBAS",
                 "detail": "", "warning": True, "reason": ""}]
    insert(DEMO, id=SAMPLE_DOCUMENT, status="authorized", access_key=ACCESS_KEY,
           authority_status="authorized", authority_messages=messages, authorization_number=ACCESS_KEY,
           authorized_at="2026-03-02T10:15:00-05:00", received_at="2026-03-02T15:14:58Z",
           customer={"name": "Consumidor Andino", "tax_id": "1710034065", "email": "buyer@example.com",
                     "address": "Quito"},
           totals={"currency": "USD", "subtotal": "10.00", "tax": "1.50", "total": "11.50"},
           signed_key="acct/doc/signed.xml", updated_at=T0 + timedelta(seconds=30))

    status, doc = call(sample("get_document"))
    assert status == 200, doc
    assert (doc["id"], doc["object"], doc["type"], doc["country"], doc["environment"], doc["status"]) == (
        SAMPLE_DOCUMENT, "document", "invoice", "EC", "test", "authorized")
    assert doc["authority"] == {
        "status": "authorized", "access_key": ACCESS_KEY, "authorization_number": ACCESS_KEY,
        "authorized_at": "2026-03-02T10:15:00-05:00", "received_at": "2026-03-02T15:14:58Z",
        "messages": messages}
    assert doc["customer"] == {"name": "Consumidor Andino", "tax_id": "1710034065",
                               "email": "buyer@example.com"}
    assert doc["totals"] == {"currency": "USD", "subtotal": "10.00", "discount": None, "tax": "1.50",
                             "total": "11.50"}
    assert (doc["created_at"], doc["updated_at"]) == ("2026-03-02T15:00:00Z", "2026-03-02T15:00:30Z")
    assert doc["error"] is None and doc["delivery_error"] is None
    assert "account_id" not in doc and "signed_key" not in json.dumps(doc)  # storage details stay inside


def test_a_new_document_shows_only_what_it_has(insert):
    created = insert(customer={})
    status, doc = request("GET", f"/v1/documents/{created.id}")
    assert status == 200, doc
    assert doc["status"] == "processing"
    assert doc["authority"] == {"status": None, "access_key": None, "authorization_number": None,
                                "authorized_at": None, "received_at": None, "messages": []}
    assert doc["customer"] is None and doc["totals"] is None
    assert doc["updated_at"] == doc["created_at"]


def test_what_the_workflow_records_is_what_the_api_shows(aws, insert):
    """Field names agree with services/workflow.py: a document the workflow ends as failed reads so."""
    created = insert()
    workflow = DocumentWorkflow(store=DynamoStore(aws["SELLO_TABLE_NAME"]), blobs=None, mailer=None,
                                settings=get_settings())
    workflow.finish(FinishInput(account_id=TEST_A["account_id"], document_id=created.id, status="failed",
                                error=StateError(Error="Transient")))
    status, doc = request("GET", f"/v1/documents/{created.id}")
    assert status == 200, doc
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == "authority_unavailable"
    assert doc["updated_at"] > doc["created_at"]


def test_list_is_newest_first_from_the_sample_event(insert):
    created = [insert(DEMO, minutes=m).id for m in (5, 0, 10)]
    status, page = call(sample("list_documents"))
    assert status == 200, page
    assert [d["id"] for d in page["data"]] == [created[2], created[0], created[1]]
    assert page["next_cursor"] is None or list_ids(DEMO, cursor=page["next_cursor"]) == []


def test_documents_created_in_the_same_second_keep_one_order(insert):
    created = {insert().id for _ in range(4)}
    first = list_ids()
    assert set(first) == created and list_ids() == first
    assert walk(limit=1)[0] == first


def test_paging_with_limit_one_walks_every_document_once(insert):
    created = [insert(minutes=m).id for m in range(5)]
    seen, pages = walk(limit=1)
    assert seen == created[::-1]
    assert pages in (5, 6)  # DynamoDB may hand out a cursor for a last page that turns out empty


def test_status_filter_from_the_sample_event(insert):
    statuses = ["authorized", "processing", "authorized", "rejected", "failed", "authorized"]
    created = [insert(DEMO, minutes=m, status=s).id for m, s in enumerate(statuses)]
    status, page = call(sample("list_documents_by_status"))
    assert status == 200, page
    assert [d["id"] for d in page["data"]] == [created[5], created[2], created[0]]
    assert {d["status"] for d in page["data"]} == {"authorized"}
    for wanted in ("processing", "rejected", "failed"):
        assert list_ids(DEMO, status=wanted) == [created[statuses.index(wanted)]]


def test_filtered_pages_are_full_and_the_cursor_goes_on_after_the_last_one(insert):
    statuses = ["authorized" if m % 3 == 0 else "processing" for m in range(12)]
    created = [insert(minutes=m, status=s).id for m, s in enumerate(statuses)]
    authorized = [i for i, s in zip(created, statuses, strict=True) if s == "authorized"][::-1]
    status, page = request("GET", "/v1/documents", query={"status": "authorized", "limit": "3"})
    assert [d["id"] for d in page["data"]] == authorized[:3]
    assert walk(status="authorized", limit=3)[0] == authorized
    assert walk(status="authorized", limit=1)[0] == authorized
    assert walk(status="processing", limit=5)[0] == [i for i in created[::-1] if i not in authorized]


def test_a_filtered_page_that_reads_its_budget_ends_early_without_losing_anything(insert, monkeypatch):
    monkeypatch.setattr(documents_repo, "FILTERED_BATCH", 2)
    monkeypatch.setattr(documents_repo, "MAX_QUERIES", 2)
    statuses = ["rejected" if m in (0, 9) else "authorized" for m in range(10)]
    created = [insert(minutes=m, status=s).id for m, s in enumerate(statuses)]
    status, page = request("GET", "/v1/documents", query={"status": "rejected", "limit": "2"})
    assert status == 200
    # Two queries of two items read the newest four: one match, so the page stops short, with a cursor.
    assert [d["id"] for d in page["data"]] == [created[9]] and page["next_cursor"]
    assert walk(status="rejected", limit=2)[0] == [created[9], created[0]]


def test_a_list_reads_what_a_page_shows_not_the_prepared_content(insert, repo, monkeypatch):
    """A page is read without the documents' prepared content, and a filter most documents match is
    answered by one query of the page's size; a sparse one reads on in larger batches."""
    content = {"lines": [{"code": f"P{n}", "description": "x" * 200} for n in range(20)]}
    created = [insert(minutes=m, status="authorized" if m != 3 else "rejected", content=content).id
               for m in range(6)]
    reads: list[tuple[int, dict | None]] = []
    query = repo.store.table.query

    def recording(**kwargs):
        answer = query(**kwargs)
        reads.append((kwargs["Limit"], answer["Items"]))
        return answer

    monkeypatch.setattr(repo.store.table, "query", recording)
    monkeypatch.setattr(documents_repo, "FILTERED_BATCH", 4)
    page = repo.list(TEST_A["account_id"], "test", limit=2, where=DocumentFilter(status="authorized"))[0]
    assert [d.id for d in page] == [created[5], created[4]]
    assert [limit for limit, _ in reads] == [2]
    assert all("content" not in item and item["status"] for _, items in reads for item in items)
    assert repo.get(TEST_A["account_id"], created[5]).content == content
    reads.clear()
    page = repo.list(TEST_A["account_id"], "test", limit=2, where=DocumentFilter(status="rejected"))[0]
    assert [d.id for d in page] == [created[3]]
    assert [limit for limit, _ in reads] == [2, 4]
    status, body = request("GET", "/v1/documents", query={"limit": "3"})
    assert status == 200 and [d["id"] for d in body["data"]] == created[:2:-1]


def test_a_test_key_never_sees_live_documents_and_the_other_way_round(insert):
    test_doc, live_doc = insert(TEST_A), insert(LIVE_A, minutes=1)
    assert list_ids(TEST_A) == [test_doc.id]
    assert list_ids(LIVE_A) == [live_doc.id]
    for principal, other in ((TEST_A, live_doc), (LIVE_A, test_doc)):
        status, body = request("GET", f"/v1/documents/{other.id}", principal=principal)
        assert (status, body["error"]["code"]) == (404, "document_not_found")
    status, doc = request("GET", f"/v1/documents/{live_doc.id}", principal=LIVE_A)
    assert (status, doc["environment"]) == (200, "live")


def test_a_cursor_of_one_environment_is_refused_in_the_other(insert):
    for m in range(3):
        insert(TEST_A, minutes=m)
    insert(LIVE_A)
    status, page = request("GET", "/v1/documents", query={"limit": "1"})
    assert status == 200 and page["next_cursor"]
    status, body = request("GET", "/v1/documents", principal=LIVE_A, query={"cursor": page["next_cursor"]})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_a_cursor_of_another_account_or_another_filter_is_refused(insert):
    for m in range(3):
        insert(TEST_A, minutes=m, status="authorized")
        insert(TEST_B, minutes=m, status="authorized")
    _, page = request("GET", "/v1/documents", principal=TEST_B, query={"limit": "1"})
    assert page["next_cursor"]
    status, body = request("GET", "/v1/documents", query={"cursor": page["next_cursor"]})
    assert (status, body["error"]["code"], body["error"]["path"]) == (400, "invalid_cursor", "cursor")
    assert TEST_B["account_id"] not in base64.urlsafe_b64decode(page["next_cursor"] + "==").decode("latin-1")

    _, page = request("GET", "/v1/documents", query={"limit": "1", "status": "authorized"})
    cursor = page["next_cursor"]
    assert cursor
    status, body = request("GET", "/v1/documents", query={"cursor": cursor, "status": "rejected"})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    status, body = request("GET", "/v1/documents", query={"cursor": cursor})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")
    status, rest = request("GET", "/v1/documents", query={"cursor": cursor, "status": "authorized"})
    assert status == 200 and len(rest["data"]) == 2  # the other two of the three


def test_another_accounts_document_is_not_found(insert):
    theirs = insert(TEST_B)
    status, body = request("GET", f"/v1/documents/{theirs.id}")
    assert (status, body["error"]["code"], body["error"]["path"]) == NOT_FOUND
    assert list_ids(TEST_A) == []
    assert list_ids(TEST_B) == [theirs.id]


@pytest.mark.parametrize("document_id", ["doc_" + "a" * 1100, "doc_" + "a" * 19, "doc_" + "A" * 20,
                                         "DOC_" + "a" * 20, "iss_" + "a" * 20, "doc_" + "a" * 19 + "-"])
def test_an_id_that_cannot_exist_is_not_found_without_asking_the_table(aws, monkeypatch, document_id):
    def no_read(*args, **kwargs):
        raise AssertionError("the table was read")

    monkeypatch.setattr(DynamoStore, "get", no_read)
    status, body = request("GET", f"/v1/documents/{document_id}")
    assert (status, body["error"]["code"], body["error"]["path"]) == NOT_FOUND


def test_an_unknown_document_is_not_found(aws):
    status, body = request("GET", f"/v1/documents/{new_id('doc')}")
    assert (status, body["error"]["code"]) == (404, "document_not_found")


def cursor_of(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def test_bad_list_parameters_are_client_errors(insert, subtests):
    insert()
    other_partition = {"gsi1pk": f"DOCS#{TEST_B['account_id']}#test", "gsi1sk": "2026#doc_x",
                       "pk": f"ACCOUNT#{TEST_B['account_id']}", "sk": "DOC#doc_x"}
    cases = [({"status": "paid"}, 422, "invalid_status", "status"),
             ({"status": "AUTHORIZED"}, 422, "invalid_status", "status"),
             ({"limit": "0"}, 422, "invalid_value", "query.limit"),
             ({"limit": "101"}, 422, "invalid_value", "query.limit"),
             ({"limit": "ten"}, 422, "invalid_value", "query.limit"),
             ({"cursor": "%%%"}, 400, "invalid_cursor", "cursor"),
             ({"cursor": cursor_of({"pk": "ACCOUNT#x", "sk": "DOC#y"})}, 400, "invalid_cursor", "cursor"),
             ({"cursor": cursor_of(other_partition)}, 400, "invalid_cursor", "cursor")]
    for query, status, code, path in cases:
        with subtests.test(query=query):
            got, body = request("GET", "/v1/documents", query=query)
            assert (got, body["error"]["code"], body["error"]["path"]) == (status, code, path)


def test_without_the_authorizers_context_there_is_no_access(aws):
    status, body = request("GET", "/v1/documents", principal=None)
    assert (status, body["error"]["code"]) == (401, "missing_api_key")


def test_put_new_never_overwrites(repo, insert):
    created = insert(status="authorized")
    assert repo.put_new(created.model_copy(update={"status": "processing"})) is False
    assert repo.get(TEST_A["account_id"], created.id).status == "authorized"


# Filters -----------------------------------------------------------------------------------------

def test_the_number_and_issue_date_show_and_the_stored_content_does_not(insert):
    created = insert(number="001-001-000000042", issue_date="2026-03-02", series="001-001", sequence=42,
                     content={"lines": [["Café", "1", "5.00"]]}, title="Factura", issuer_name="Demo S.A.")
    status, doc = request("GET", f"/v1/documents/{created.id}")
    assert status == 200, doc
    assert (doc["number"], doc["issue_date"]) == ("001-001-000000042", "2026-03-02")
    for private in ("content", "series", "sequence", "title", "issuer_name", "workflow_started"):
        assert private not in doc


def test_type_and_customer_filters_combine_with_status(insert):
    buyer, other = {"tax_id": "1790016919001", "name": "A"}, {"tax_id": "1710034065", "name": "B"}
    docs = [insert(minutes=0, type="invoice", customer=buyer, status="authorized"),
            insert(minutes=1, type="credit_note", customer=buyer, status="authorized"),
            insert(minutes=2, type="invoice", customer=other, status="authorized"),
            insert(minutes=3, type="invoice", customer=buyer, status="rejected")]
    ids = [d.id for d in docs]
    assert list_ids(type="invoice") == [ids[3], ids[2], ids[0]]
    assert list_ids(type="credit_note") == [ids[1]]
    assert list_ids(customer="1790016919001") == [ids[3], ids[1], ids[0]]
    assert list_ids(customer=" 1710034065 ") == [ids[2]]
    assert list_ids(customer="179001691900") == []  # exact match only
    assert list_ids(type="invoice", customer="1790016919001", status="authorized") == [ids[0]]
    assert walk(type="invoice", limit=1)[0] == [ids[3], ids[2], ids[0]]


def test_the_date_range_includes_both_ends(insert):
    day = timedelta(days=1)
    # T0 is 2026-03-02 15:00 UTC; documents on the 1st, 2nd (two) and 3rd.
    docs = {name: insert(minutes=int(offset.total_seconds() // 60)).id for name, offset in (
        ("mar1", -day), ("mar2_early", timedelta(hours=-15)), ("mar2", timedelta()), ("mar3", day))}
    assert list_ids(**{"from": "2026-03-02", "to": "2026-03-02"}) == [docs["mar2"], docs["mar2_early"]]
    assert list_ids(**{"from": "2026-03-02"}) == [docs["mar3"], docs["mar2"], docs["mar2_early"]]
    assert list_ids(to="2026-03-01") == [docs["mar1"]]
    # Date and time: the ends are included to the second; no offset means UTC.
    assert list_ids(**{"from": "2026-03-02T15:00:00Z", "to": "2026-03-02T15:00:00Z"}) == [docs["mar2"]]
    assert list_ids(**{"from": "2026-03-02T15:00:00.5"}) == [docs["mar3"]]
    assert list_ids(to="2026-03-02T09:59:59-05:00") == [docs["mar2_early"], docs["mar1"]]
    assert list_ids(to="2026-03-02T10:00:00-05:00") == [docs["mar2"], docs["mar2_early"], docs["mar1"]]
    assert list_ids(**{"from": "2026-03-04"}) == []
    assert walk(limit=1, **{"from": "2026-03-01T12:00:00Z", "to": "2026-03-02"})[0] == [
        docs["mar2"], docs["mar2_early"], docs["mar1"]]


def test_the_date_range_is_read_from_the_index_not_filtered(insert, monkeypatch):
    """With one query of two items per page, a filter would read the two newest documents and find
    nothing; the range is the query's key condition, so the page holds the two in range."""
    monkeypatch.setattr(documents_repo, "MAX_QUERIES", 1)
    created = [insert(minutes=m * 60 * 24).id for m in range(10)]  # one a day, from 2026-03-02
    status, page = request("GET", "/v1/documents", query={"to": "2026-03-04", "limit": "2"})
    assert status == 200
    assert [d["id"] for d in page["data"]] == [created[2], created[1]] and page["next_cursor"]
    status, rest = request("GET", "/v1/documents", query={"to": "2026-03-04", "cursor": page["next_cursor"]})
    assert [d["id"] for d in rest["data"]] == [created[0]]


def test_a_cursor_from_outside_the_range_is_refused(insert):
    for m in range(3):
        insert(minutes=m)
    status, page = request("GET", "/v1/documents", query={"limit": "1"})
    status, body = request("GET", "/v1/documents", query={"cursor": page["next_cursor"], "to": "2026-03-01"})
    assert (status, body["error"]["code"]) == (400, "invalid_cursor")


def test_bad_filters_have_their_own_codes(aws, subtests):
    cases = [({"type": "receipt"}, "invalid_type", "type"),
             ({"type": "Invoice"}, "invalid_type", "type"),
             ({"from": "yesterday"}, "invalid_date", "from"),
             ({"to": "2026-13-01"}, "invalid_date", "to"),
             ({"to": "2026-02-30"}, "invalid_date", "to"),
             ({"from": "2026-03-02", "to": "2026-03-01"}, "invalid_date_range", "from"),
             ({"from": "2026-03-02T10:00:01Z", "to": "2026-03-02T10:00:00Z"}, "invalid_date_range", "from"),
             ({"customer": "1" * 21}, "invalid_customer", "customer"),
             ({"customer": "   "}, "invalid_customer", "customer")]
    for query, code, path in cases:
        with subtests.test(query=query):
            status, body = request("GET", "/v1/documents", query=query)
            assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, path)


# Retrying a failed document ---------------------------------------------------------------------

def test_retry_sends_a_failed_document_on_under_the_same_number(aws, insert, repo):
    created = insert(status="failed", number="001-001-000000007", access_key=ACCESS_KEY,
                     error={"code": "authority_unreachable", "message": "…"}, workflow_started=True)
    DynamoStore(aws["SELLO_TABLE_NAME"]).update(
        f"ACCOUNT#{TEST_A['account_id']}", f"DOC#{created.id}",
        set_={"submit_attempts": 3, "authority_unreachable_since": "2026-03-02T15:00:00Z"})

    status, doc = request("POST", f"/v1/documents/{created.id}/retry")

    assert status == 202, doc
    assert doc["status"] == "processing" and doc["error"] is None
    assert doc["number"] == "001-001-000000007" and doc["authority"]["access_key"] == ACCESS_KEY
    assert doc["authority_unreachable_since"] is None
    item = DynamoStore(aws["SELLO_TABLE_NAME"]).get(f"ACCOUNT#{TEST_A['account_id']}", f"DOC#{created.id}")
    assert int(item["workflow_round"]) == 1 and item["workflow_started"] is True
    assert int(item["submit_attempts"]) == 3  # so the workflow asks the authority before sending again
    executions = aws_clients.client("stepfunctions").list_executions(
        stateMachineArn=aws["SELLO_STATE_MACHINE_ARN"])["executions"]
    assert [e["name"] for e in executions] == [f"{created.id}-1"]

    again, body = request("POST", f"/v1/documents/{created.id}/retry")
    assert (again, body["error"]["code"]) == (409, "document_not_retryable")


@pytest.mark.parametrize("fields", [
    {"status": "processing"},
    {"status": "authorized", "authority_status": "authorized"},
    {"status": "rejected", "authority_status": "rejected"},
])
def test_only_a_failed_document_can_be_retried(insert, fields):
    created = insert(**fields)
    status, body = request("POST", f"/v1/documents/{created.id}/retry")
    assert (status, body["error"]["code"]) == (409, "document_not_retryable")


def test_a_test_key_cannot_retry_a_live_document(insert):
    created = insert(LIVE_A, status="failed")
    status, body = request("POST", f"/v1/documents/{created.id}/retry", principal=TEST_A)
    assert (status, body["error"]["code"], body["error"]["path"]) == NOT_FOUND
    assert request("GET", f"/v1/documents/{created.id}", principal=LIVE_A)[1]["status"] == "failed"


def test_retrying_an_expired_certificate_failure_signs_again(aws, insert):
    created = insert(status="failed", signed_key="a/b/signed.xml",
                     error={"code": "certificate_expired", "message": "…"})
    status, _ = request("POST", f"/v1/documents/{created.id}/retry")
    assert status == 202
    item = DynamoStore(aws["SELLO_TABLE_NAME"]).get(f"ACCOUNT#{TEST_A['account_id']}", f"DOC#{created.id}")
    assert "signed_key" not in item


# The body of POST /v1/documents, by type ----------------------------------------------------------

@pytest.mark.parametrize("kind, change, code, path", [
    ("invoice", {"customer": None}, "missing_field", "customer"),
    ("invoice", {"type": None}, "missing_field", "type"),
    ("invoice", {"type": "receipt"}, "invalid_value", "type"),
    ("credit_note", {"colour": "red"}, "unknown_field", "colour"),
    ("purchase_settlement", {"items": [{"description": "x", "unit_price": "-1", "taxes": [{"type": "vat"}]}]},
     "invalid_value", "items.0.unit_price"),
    ("withholding", {"withholding": {"fiscal_period": "13/2025", "support_documents": []}}, "invalid_value",
     "withholding.fiscal_period"),
    ("delivery_guide", {"shipment": {}}, "missing_field", "shipment.carrier"),
])
def test_a_bad_body_of_any_type_is_refused_at_its_fields_path(aws, kind, change, code, path):
    body = load_event(f"documents/create_{kind}.body.json") | change
    body = {name: value for name, value in body.items() if value is not None}
    status, answer = request("POST", "/v1/documents", body=body)
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, code, path), answer


def test_an_unknown_type_lists_the_accepted_ones(aws):
    status, answer = request("POST", "/v1/documents", body=load_event("documents/create_invoice.body.json")
                             | {"type": "nota_de_venta"})
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "invalid_value", "type")
    assert all(f"`{kind}`" in answer["error"]["message"] for kind in DOCUMENT_TYPES)
