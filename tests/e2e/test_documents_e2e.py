"""The documents routes over HTTP against the local stack: the gateway sends them to the documents
function through the authorizer, an account without documents lists none, an unknown document is a
JSON 404, and the merged OpenAPI document has the routes."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def error_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


def test_the_seeded_key_lists_documents(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        response = client.get("/v1/documents", params={"status": "authorized", "limit": 5})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []


def test_a_new_account_has_no_documents_in_either_environment(local_stack):
    account, test_key = local_stack.new_account("Documentos Vacíos S.A.")
    live = local_stack.go_live(account, test_key)
    with local_stack.client(test_key) as client:
        test_page = client.get("/v1/documents")
    with local_stack.client(live["key"]) as client:
        live_page = client.get("/v1/documents")
    for page in (test_page, live_page):
        assert page.status_code == 200, page.text
        assert page.json() == {"data": [], "next_cursor": None}


def test_an_unknown_document_is_a_json_404(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        unknown = client.get("/v1/documents/doc_xxx")
        well_formed = client.get("/v1/documents/doc_" + "0" * 20)
        english = client.get("/v1/documents/doc_xxx", headers={"Accept-Language": "en-US, es;q=0.5"})
    for response in (unknown, well_formed):
        assert response.status_code == 404
        assert response.headers["content-language"] == "es"  # the demo account's language
        assert error_of(response) == {"code": "document_not_found", "message": "No hay un documento con este id.",
                                      "path": "document_id"}
    assert (english.status_code, english.headers["content-language"]) == (404, "en")
    assert error_of(english) == {"code": "document_not_found", "message": "No document with this id.",
                                 "path": "document_id"}


def test_bad_list_parameters_are_json_errors(local_stack):
    with local_stack.client(local_stack.api_key) as client:
        status = client.get("/v1/documents", params={"status": "paid"})
        cursor = client.get("/v1/documents", params={"cursor": "not-a-cursor"})
    assert (status.status_code, error_of(status)["code"], error_of(status)["path"]) == (
        422, "invalid_status", "status")
    assert (cursor.status_code, error_of(cursor)["code"]) == (400, "invalid_cursor")


def test_documents_need_an_api_key(local_stack):
    with local_stack.client() as client:
        response = client.get("/v1/documents")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_openapi_has_the_documents_routes(local_stack):
    with local_stack.client() as client:
        spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/v1/documents"]) == {"get", "post"}
    assert set(paths["/v1/documents/{document_id}"]) == {"get"}
    assert {"/v1/documents/{document_id}/xml", "/v1/documents/{document_id}/pdf",
            "/v1/documents/{document_id}/email"} <= set(paths)
    assert all(op.get("security") != [] for op in paths["/v1/documents"].values())  # needs a key
    assert "DocumentView" in spec["components"]["schemas"]
