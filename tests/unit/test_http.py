"""The shared resolver of sello.http on a small router of its own: bodies the JSON parser cannot
take are 400 invalid_json, the same exceptions raised by a route are still 500, validation messages
are plain, and route_responses documents success and error bodies."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict

from sello.http import COMMON_ERRORS, error_doc, make_app, parse_json, route_responses
from sello.models.common import text
from tests.helpers import api_event, response_json

router = Router()


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: text(20)


class Reply(BaseModel):
    text: str


FAILURES = {"UnicodeDecodeError": lambda: b"\xff".decode("utf-8"),
            "ValueError": lambda: int("9" * 5000),
            "RecursionError": lambda: json.loads("[" * 100_000)}


@router.post("/greetings", responses=route_responses(201, "Greeted", {409: error_doc("already_confirmed")}, body=True,
                                                      public=True), status_code=201)
def greet(body: Annotated[Greeting, Body()]) -> Reply:
    if body.name in FAILURES:
        FAILURES[body.name]()
    return Reply(text=f"Hello {body.name}")


@router.get("/greetings", responses=route_responses(200, "The last greeting"))
def last_greeting() -> Reply:
    FAILURES["UnicodeDecodeError"]()
    return Reply(text="unreachable")


app = make_app(router)


def call(event: dict) -> tuple[int, dict]:
    response = app.resolve(event, None)
    return response["statusCode"], response_json(response)


def post(body, content_type: str | None = "application/json") -> tuple[int, dict]:
    event = api_event("POST", "/greetings", body=body,
                      headers={"Content-Type": content_type} if content_type else None)
    return call(event)


# Parsing ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["[" * 100_000, '{"a": ' + "[" * 3000 + "]" * 3000 + "}", "1" * 4301,
                                  '{"n": NaN}', "[Infinity]", "-Infinity", '{"a": '],
                         ids=["nested 100k deep", "nested in a field", "4301 digits", "NaN", "Infinity",
                              "-Infinity", "truncated"])
def test_what_json_loads_cannot_take_is_a_decode_error(body):
    with pytest.raises(json.JSONDecodeError):
        parse_json(body)


def test_ordinary_json_parses_as_usual():
    assert parse_json('{"a": [1, 2.5, "ñ", null, true], "b": ' + "9" * 4300 + "}") == {
        "a": [1, 2.5, "ñ", None, True], "b": int("9" * 4300)}


@pytest.mark.parametrize("body,content_type", [
    ("[" * 100_000, "application/json"),
    ('{"name": ' + "1" * 5000 + "}", "application/json"),
    ('{"name": NaN}', "application/json"),
    ('{"name": "Ñandú"}'.encode("latin-1"), "application/json"),
    ('{"name": "Ñandú"}'.encode("latin-1"), "application/json; charset=latin-1"),
    ('{"name": "Ñandú"}'.encode("utf-16"), "application/json"),
], ids=["nested", "long integer", "NaN", "latin-1", "latin-1 declared", "utf-16"])
def test_bodies_the_parser_cannot_take_are_invalid_json(body, content_type):
    status, answer = post(body, content_type)
    assert status == 400
    assert (answer["error"]["code"], answer["error"]["path"]) == ("invalid_json", "body")


def test_a_utf8_body_sent_as_bytes_is_read():
    assert post('{"name": "Ñandú"}'.encode()) == (201, {"text": "Hello Ñandú"})


def test_a_lone_surrogate_in_the_event_body_is_refused_not_a_crash():
    status, answer = post('{"name": "\ud800"}')
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "invalid_character", "name")


# Characters XML cannot carry ---------------------------------------------------------------------

NOT_XML = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", NOT_XML, ids=[f"U+{ord(c):04X}" for c in NOT_XML])
@pytest.mark.parametrize("body,path", [
    ('{"name": "A%sna"}', "name"),
    ('{"name": "Ana", "extra": {"deep": ["ok", "x%s"]}}', "extra.deep.1"),
    ('{"name": "Ana", "odd%s": 1}', "body"),
    ('{"name": "Ana", "extra": {"odd%s": 1}}', "extra"),
    ('"%s"', "body"),
], ids=["field", "unknown nested field", "field name", "nested field name", "whole body"])
def test_a_character_xml_cannot_carry_is_refused_wherever_it_is(char, body, path):
    escaped = json.dumps(char)[1:-1]  # as JSON writes it: \u0000, \ud800, \uffff, …
    # Escaped, and as the character itself, except the controls, which JSON only takes escaped.
    for text_ in (body % escaped,) if char < " " else (body % escaped, body % char):
        status, answer = post(text_)
        assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "invalid_character", path)
        assert f"U+{ord(char):04X}" in answer["error"]["message"]


def test_tab_line_feed_and_carriage_return_are_not_refused_by_the_parser():
    assert parse_json('{"a": "x\\ty\\nz\\r"}') == {"a": "x\ty\nz\r"}
    # The printable text fields still refuse them, with their own message.
    status, answer = post({"name": "A\tna"})
    assert (status, answer["error"]["code"]) == (422, "invalid_value")


def test_characters_outside_the_basic_plane_are_fine():
    assert post({"name": "Ana 😀"}) == (201, {"text": "Hello Ana 😀"})
    assert post('{"name": "Ana \\ud83d\\ude00"}') == (201, {"text": "Hello Ana 😀"})


@pytest.mark.parametrize("char", ["\x00", "\ud800", "\uffff"])
def test_a_query_parameter_with_a_character_xml_cannot_carry_is_refused(char):
    event = api_event("GET", "/greetings", query={"since": f"2026{char}"})
    status, answer = call(event)
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "invalid_character", "since")


def test_an_oversize_body_is_413_even_with_such_a_character():
    status, answer = post('{"name": "\\uffff", "pad": "' + "x" * (6 * 1024 * 1024) + '"}')
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


def test_an_undecodable_body_without_content_type_is_still_unsupported():
    status, answer = post('{"name": "Ñandú"}'.encode("latin-1"), content_type=None)
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize("failure", FAILURES)
def test_the_same_exceptions_raised_by_a_route_are_internal_errors(failure):
    assert post({"name": failure}) == (500, {"error": {"code": "internal_error",
                                                       "message": "Algo falló de nuestro lado."}})


def test_a_route_failure_is_internal_even_when_the_body_is_not_utf8():
    event = api_event("GET", "/greetings", body="Ñandú".encode("latin-1"))
    status, answer = call(event)
    assert (status, answer["error"]["code"]) == (500, "internal_error")


# Validation messages -----------------------------------------------------------------------------

def test_a_validators_message_comes_without_pydantics_prefix():
    status, answer = post({"name": "tab\there"})
    assert (status, answer["error"]["code"], answer["error"]["path"]) == (422, "invalid_value", "name")
    assert answer["error"]["message"] == ("Quite de este texto los caracteres de control (saltos de línea, "
                                          "tabulaciones, NUL).")
    assert answer["error"]["details"][0]["message"] == answer["error"]["message"]


# OpenAPI -----------------------------------------------------------------------------------------

def operations() -> dict:
    paths = json.loads(app.get_openapi_json_schema())["paths"]
    return {method: operation["responses"] for method, operation in paths["/greetings"].items()}


def schema(response: dict) -> dict:
    return response["content"]["application/json"]["schema"]


def common(status: int, *needs: str | None) -> list:
    return [doc for code, need, doc in COMMON_ERRORS if code == status and need in needs]


def test_route_responses_documents_the_success_model_and_the_errors_that_apply():
    post_doc, get_doc = operations()["post"], operations()["get"]

    assert schema(post_doc["201"]) == schema(get_doc["200"]) == {"$ref": "#/components/schemas/Reply"}
    assert post_doc["201"]["description"] == "Greeted"
    assert set(post_doc) == {"201", "400", "409", "413", "415", "422", "429", "500"}  # public: no 401/403
    assert set(get_doc) == {"200", "401", "403", "422", "429", "500"}  # no body: no 400/413/415
    for code in ("400", "409", "413", "415", "422", "429", "500"):
        assert schema(post_doc[code]) == {"$ref": "#/components/schemas/ErrorBody"}
    [media_types] = common(415, "body")
    assert post_doc["415"]["description"] == media_types.description + "."
    # A key's own limits and failures only where a key is needed.
    assert set(examples(post_doc["429"])) == {"too_many_requests"}
    assert set(examples(get_doc["429"])) == {"too_many_requests", "quota_exceeded"}
    assert set(examples(get_doc["401"])) == {"unauthorized", "missing_api_key"}
    assert set(examples(post_doc["500"])) == {"internal_error"}
    assert set(examples(get_doc["500"])) == {"internal_error", "authorizer_failure"}
    assert examples(post_doc["409"])["already_confirmed"]["value"] == {
        "error": {"code": "already_confirmed", "message": "This account is already confirmed."}}


def examples(response: dict) -> dict:
    return response["content"]["application/json"]["examples"]


def test_a_routes_own_error_joins_the_common_one_of_its_status():
    merged = route_responses(200, "OK", {422: error_doc("invalid_confirmation_code", note="a wrong code")})[422]
    [validation] = common(422, None)
    assert merged["description"] == f"`invalid_confirmation_code`: a wrong code; {validation.description}."
    listed = merged["content"]["application/json"]["examples"]()
    assert list(listed) == ["invalid_confirmation_code", "missing_field", "unknown_field", "invalid_value",
                            "invalid_character"]
    assert listed["invalid_confirmation_code"]["value"]["error"]["path"] == "code"


def test_a_code_both_document_reads_as_the_route_has_it():
    merged = route_responses(202, "Sent", {429: error_doc("too_many_requests", context="live_activation")})[429]
    listed = merged["content"]["application/json"]["examples"]()
    assert list(listed) == ["too_many_requests", "quota_exceeded"]
    assert listed["too_many_requests"]["value"]["error"]["message"] == (
        "A code was sent moments ago. Wait a little before asking again.")
    gateway = route_responses(200, "OK")[429]["content"]["application/json"]["examples"]()
    assert gateway["too_many_requests"]["value"]["error"]["message"] == "Too many requests; retry later."


def test_error_doc_lists_codes_once_then_its_note():
    assert error_doc("a_b", "c_d", "a_b", note="why").description == "`a_b` or `c_d`: why"
    assert error_doc("a_b", "c_d", "e_f").description == "`a_b`, `c_d` or `e_f`"
    with pytest.raises(ValueError):
        error_doc()


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
def test_media_types_are_matched_without_regard_to_case(content_type):
    assert post(json.dumps({"name": "Ana"}), content_type=content_type) == (201, {"text": "Hello Ana"})
