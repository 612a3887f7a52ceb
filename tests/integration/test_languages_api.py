"""Error messages follow the caller's language: Accept-Language (q-values honoured), else the
account's, else Spanish; codes and paths never change. Messages name the fix in the caller's terms:
accepted values, formats with an example, the closest field name; never the validator's wording or a
regular expression."""

from __future__ import annotations

import re

import pytest

from local.lambdas import context_for
from sello import catalog
from tests.helpers import api_event, load_event, parse_source, response_json

FUNCTIONS = {s.name: s for s in catalog.API_FUNCTIONS}
ACCOUNT = {"account_id": "acct_l0000000000000000000", "environment": "test", "key_id": "key_l"}
ENGLISH_ACCOUNT = {**ACCOUNT, "language": "en"}
# What must never reach a caller: pydantic's own wording, or a regular expression.
JARGON = re.compile(r"Input should|String should|should match pattern|Value error|Field required|"
                    r"Extra inputs|\^|\$'|\[0-9\]|\\d|\{\d|\(\?")


def call(function: str, method: str, path: str, body=None, principal=ACCOUNT, language: str | None = None,
         **kwargs):
    from importlib import import_module

    headers = {"Accept-Language": language} if language is not None else {}
    event = api_event(method, path, body, principal=principal, headers=headers, **kwargs)
    response = import_module(f"functions.api.{function}").handler(event, context_for(FUNCTIONS[function]))
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], response_json(response), {**headers, **(response.get("headers") or {})}


def error_of(answer) -> dict:
    error = answer[1]["error"]
    for problem in [error, *(error.get("details") or [])]:
        assert not JARGON.search(problem["message"]), problem["message"]
    return error


def issuer_body(**changes) -> dict:
    return {**load_event("issuers/create_issuer.body.json"), **changes}


def invoice_body(**changes) -> dict:
    return {**load_event("documents/create_invoice.body.json"), **changes}


# One test per kind of error, in both languages --------------------------------------------------------

@pytest.mark.parametrize("language,expected", [
    ("es", "No es un campo aquí; ¿quiso decir `legal_name`?"),
    ("en", "Not a field here; did you mean `legal_name`?"),
])
def test_an_unknown_field_suggests_the_closest_name(aws, language, expected):
    body = issuer_body()
    body["legal_nam"] = body.pop("legal_name")
    answer = call("issuers", "POST", "/v1/issuers", body, language=language)
    assert answer[0] == 422
    problems = {(d["code"], d["path"]): d["message"] for d in error_of(answer)["details"]}
    assert problems[("unknown_field", "legal_nam")] == expected
    assert ("missing_field", "legal_name") in problems
    assert answer[2]["Content-Language"] == language


def test_an_unknown_field_far_from_any_lists_the_fields_allowed_there(aws):
    body = issuer_body()
    body["establishments"][0]["emission_points"][0]["zzzz"] = 1
    error = error_of(call("issuers", "POST", "/v1/issuers", body, language="en"))
    assert (error["code"], error["path"]) == ("unknown_field", "establishments.0.emission_points.0.zzzz")
    assert error["message"] == "Not a field here; the fields allowed are `code`, `name`."


@pytest.mark.parametrize("language,expected", [
    ("es", "Use uno de estos valores: `test`, `live`."),
    ("en", "Use one of `test`, `live`."),
])
def test_a_bad_enum_lists_the_accepted_values(aws, language, expected):
    error = error_of(call("accounts", "POST", "/v1/api-keys", {"environment": "prod"}, language=language))
    assert (error["code"], error["path"], error["message"]) == ("invalid_value", "environment", expected)


@pytest.mark.parametrize("language,start", [("es", "Use uno de estos valores: `cash`, `debit_card`"),
                                            ("en", "Use one of `cash`, `debit_card`")])
def test_a_wrong_payment_method_lists_the_accepted_values(aws, language, start):
    body = invoice_body(payments=[{"method": "bitcoin", "amount": "467.77"}])
    error = error_of(call("documents", "POST", "/v1/documents", body, language=language))
    assert (error["code"], error["path"]) == ("invalid_value", "payments.0.method")
    assert error["message"].startswith(start)
    assert "`endorsement`" in error["message"] and "21" in error["message"]


@pytest.mark.parametrize("language,expected", [
    ("es", "Escriba el número como establecimiento-punto de emisión-secuencial, por ejemplo 001-001-000000042."),
    ("en", "Write the number as establishment-emission point-sequence, e.g. 001-001-000000042."),
])
def test_a_format_is_described_with_an_example_not_a_pattern(aws, language, expected):
    body = invoice_body(type="credit_note",
                        reference={"type": "invoice", "number": "1-1-42", "issue_date": "2026-01-02",
                                   "reason": "Devolución"})
    del body["payments"]
    error = error_of(call("documents", "POST", "/v1/documents", body, language=language))
    assert (error["path"], error["message"]) == ("reference.number", expected)


@pytest.mark.parametrize("language,expected", [("es", "Este campo es obligatorio."),
                                               ("en", "This field is required.")])
def test_a_missing_field(aws, language, expected):
    body = issuer_body()
    del body["country"]
    error = error_of(call("issuers", "POST", "/v1/issuers", body, language=language))
    assert (error["code"], error["path"], error["message"]) == ("missing_field", "country", expected)


@pytest.mark.parametrize("language,expected", [
    ("es", "'1799999980001' no es un RUC válido. El dígito verificador del RUC no es correcto."),
    ("en", "'1799999980001' is not a valid RUC. The RUC's check digit is wrong."),
])
def test_a_business_rule(aws, language, expected):
    error = error_of(call("issuers", "POST", "/v1/issuers", issuer_body(tax_id="1799999980001"),
                          language=language))
    assert (error["code"], error["path"], error["message"]) == ("invalid_tax_id", "tax_id", expected)


def test_a_tax_rate_with_too_many_digits_is_refused_in_the_callers_language(aws):
    body = invoice_body()
    body["items"][0]["taxes"][0]["rate"] = "123.45"  # within 0..9999 and 2 decimals, but 5 digits
    answers = {}
    for language in ("es", "en"):
        error = error_of(call("documents", "POST", "/v1/documents", body, language=language))
        assert (error["code"], error["path"]) == ("invalid_value", "items.0.taxes.0.rate")
        answers[language] = error["message"]
    assert answers == {
        "en": "A tax rate has at most 4 digits in all, e.g. 15, 12.5, 150 or 0.02.",
        "es": "Una tarifa de impuesto tiene como máximo 4 dígitos en total, por ejemplo 15, 12.5, 150 o 0.02."}


def test_no_model_validator_answers_in_one_language_only():
    """A validator's message reaches people (sello.validation): the request models raise it as a
    TranslatedValueError of a catalog message, never as a plain ValueError or pydantic error of
    fixed words."""
    import ast
    from pathlib import Path

    import sello

    package = Path(sello.__file__).parent
    plain = []
    for source in [*sorted((package / "models").rglob("*.py")), package / "validation.py"]:
        for node in ast.walk(parse_source(source)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = ast.unparse(node.exc.func).rpartition(".")[2]
                if name in ("ValueError", "AssertionError", "PydanticCustomError"):
                    plain.append(f"{source.name}:{node.lineno}")
    assert plain == []


@pytest.mark.parametrize("language,expected", [("es", "No hay un emisor con este id."),
                                               ("en", "No issuer with this id.")])
def test_not_found(aws, language, expected):
    status, body, headers = call("issuers", "GET", "/v1/issuers/iss_00000000000000000000", language=language)
    assert (status, body["error"]["code"], body["error"]["message"]) == (404, "issuer_not_found", expected)
    assert headers["Content-Language"] == language


@pytest.mark.parametrize("language,expected", [("es", "El cuerpo de la solicitud no es un JSON válido."),
                                               ("en", "The request body is not valid JSON.")])
def test_malformed_json(aws, language, expected):
    event = api_event("POST", "/v1/issuers", principal=ACCOUNT,
                      headers={"Content-Type": "application/json", "Accept-Language": language})
    event["body"] = '{"country": '
    from functions.api import issuers

    response = issuers.handler(event, context_for(FUNCTIONS["issuers"]))
    assert response["statusCode"] == 400
    assert response_json(response)["error"] == {"code": "invalid_json", "message": expected, "path": "body"}


def test_a_wrong_type_and_a_too_long_text(aws):
    body = issuer_body(legal_name="x" * 301, establishments="none")
    problems = {d["path"]: d["message"] for d in error_of(call("issuers", "POST", "/v1/issuers", body,
                                                               language="es"))["details"]}
    assert problems == {"legal_name": "Envíe como máximo 300 caracteres.",
                        "establishments": "Envíe aquí una lista (un arreglo JSON)."}


# Which language -------------------------------------------------------------------------------------

def test_without_accept_language_the_default_is_spanish(aws):
    status, body, headers = call("issuers", "GET", "/v1/issuers/iss_00000000000000000000")
    assert (status, body["error"]["message"], headers["Content-Language"]) == (404, "No hay un emisor con este id.",
                                                                             "es")


def test_without_accept_language_an_english_account_reads_english(aws):
    status, body, headers = call("issuers", "GET", "/v1/issuers/iss_00000000000000000000",
                                 principal=ENGLISH_ACCOUNT)
    assert (body["error"]["message"], headers["Content-Language"]) == ("No issuer with this id.", "en")
    # The header still wins over the account's language.
    status, body, headers = call("issuers", "GET", "/v1/issuers/iss_00000000000000000000",
                                 principal=ENGLISH_ACCOUNT, language="es-EC,en;q=0.5")
    assert (body["error"]["message"], headers["Content-Language"]) == ("No hay un emisor con este id.", "es")


@pytest.mark.parametrize("header,expected", [("en;q=0.4, es;q=0.9", "es"), ("fr, en;q=0.1", "en"),
                                             ("de", "es"), ("*", "es")])
def test_q_values_are_honoured(aws, header, expected):
    assert call("issuers", "GET", "/v1/issuers/iss_00000000000000000000", language=header)[2][
        "Content-Language"] == expected


def test_a_successful_answer_says_its_language_too(aws):
    status, _, headers = call("issuers", "GET", "/v1/issuers", language="en")
    assert (status, headers["Content-Language"]) == (200, "en")


def test_the_sign_up_answer_follows_accept_language(aws):
    body = {"company_name": "Comercial Andina S.A.", "email": "idioma@example.com"}
    es = call("accounts", "POST", "/v1/accounts", body, principal=None)
    en = call("accounts", "POST", "/v1/accounts", body, principal=None, language="en")
    assert es[0] == en[0] == 202
    assert es[1]["message"].startswith("Si esta dirección puede registrarse")
    assert en[1]["message"].startswith("If this address can sign up")


# The account's and the issuer's language --------------------------------------------------------------

def test_an_account_reads_its_emails_and_errors_in_its_language(aws, outbox):
    from tests.integration.test_accounts_api import (
        account_of,
        as_caller,
        authorize,
        last_code,
        with_body,
    )
    from tests.integration.test_accounts_api import (
        call as accounts_call,
    )

    status, _ = accounts_call(with_body("sign_up", email="en@example.com", language="en"))
    assert status == 202
    welcome = outbox()[-1]
    assert welcome["Subject"] == "Confirm your Sello account"
    assert "Use this code to confirm the Sello account" in welcome.get_content()
    assert account_of("en@example.com")["language"] == "en"
    status, confirmed = accounts_call(with_body("confirm", email="en@example.com", code=last_code(outbox)))
    assert (status, confirmed["account"]["language"]) == (200, "en")
    key = confirmed["api_key"]["key"]
    assert authorize(key)["context"]["language"] == "en"
    accounts_call(with_body("sign_up", email="es@example.com"))
    assert outbox()[-1]["Subject"] == "Confirme su cuenta de Sello"
    assert "Vence el" in outbox()[-1].get_content()

    # The live-activation email follows the account's language; changing it changes the next one.
    status, _ = accounts_call(as_caller("request_live_activation", key))
    assert status == 202 and outbox()[-1]["Subject"] == "Confirm the first live API key of your Sello account"
    status, changed = accounts_call(as_caller("update_me", key, language="es"))
    assert (status, changed["language"]) == (200, "es")
    assert authorize(key)["context"]["language"] == "es"
    status, me = accounts_call(as_caller("get_me", key))
    assert me["account"]["language"] == "es"


def test_the_account_language_accepts_only_what_is_supported(aws, outbox):
    from tests.integration.test_accounts_api import call as accounts_call
    from tests.integration.test_accounts_api import with_body

    status, body = accounts_call(with_body("sign_up", email="fr@example.com", language="fr"))
    assert (status, body["error"]["path"], body["error"]["message"]) == (
        422, "language", "Use uno de estos valores: `es`, `en`.")


def test_accounts_and_issuers_stored_before_languages_read_as_spanish(aws):
    from sello.adapters.accounts_repo import DynamoAccountsRepo
    from sello.adapters.dynamo import DynamoStore
    from sello.adapters.issuers_repo import DynamoIssuersRepo
    from sello.settings import get_settings

    status, issuer, _ = call("issuers", "POST", "/v1/issuers", issuer_body(language="en"))
    assert (status, issuer["language"]) == (201, "en")
    store = DynamoStore(get_settings().table_name)
    for item in store.table.scan()["Items"]:
        if "language" in item:
            store.table.update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE #l",
                                    ExpressionAttributeNames={"#l": "language"})
    assert DynamoIssuersRepo(store).get_issuer(ACCOUNT["account_id"], issuer["id"]).language == "es"
    status, view, _ = call("issuers", "GET", f"/v1/issuers/{issuer['id']}")
    assert view["language"] == "es"
    from sello.ids import utcnow
    from sello.models.accounts import Account

    accounts = DynamoAccountsRepo(store)
    accounts.create_account(Account(id="acct_old0000000000000000", company_name="Antigua", email="old@example.com",
                                    status="active", created_at=utcnow()))
    store.table.update_item(Key={"pk": "ACCOUNT#acct_old0000000000000000", "sk": "META"},
                            UpdateExpression="REMOVE #l", ExpressionAttributeNames={"#l": "language"})
    assert accounts.get_account("acct_old0000000000000000").language == "es"


def test_the_authorizers_deny_follows_accept_language(aws, outbox):
    from sello.adapters.dynamo import DynamoStore
    from sello.settings import get_settings

    from functions.api import authorizer
    from tests.helpers import authorizer_event
    from tests.integration.test_accounts_api import confirmed

    _, key = confirmed(outbox, "deny@example.com")
    store = DynamoStore(get_settings().table_name)
    for item in store.table.scan()["Items"]:
        if item.get("type") == "api_key":
            store.table.update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="SET #s = :r",
                                    ExpressionAttributeNames={"#s": "status"},
                                    ExpressionAttributeValues={":r": "revoked"})
    for language, expected in (("en", "This API key has been revoked."), (None, "Esta clave de API fue revocada.")):
        headers = {"Authorization": f"Bearer {key}", **({"Accept-Language": language} if language else {})}
        policy = authorizer.handler(authorizer_event("GET", "/v1/accounts/me", headers),
                                    context_for(catalog.AUTHORIZER))
        assert policy["context"] == {"error_code": "api_key_revoked", "error_message": expected}
