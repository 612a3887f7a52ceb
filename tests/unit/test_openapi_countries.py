"""The OpenAPI document with Ecuador and a made-up second country (Tierra Nueva, tests/second_country.py):
the document body shows each country's schemas per type, the issuer body one schema per country
discriminated by `country`, the certificate upload each country's files, and the document stays valid
OpenAPI 3.1. With Ecuador alone each body is Ecuador's, as it was before other countries; with the
countries Sello supports (Ecuador and Mexico) the document is valid and shows both."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from functions.api.docs import merged_spec
from sello.countries import get_plugin
from sello.models.document_request import VARIANTS
from tests import second_country as xn
from tests.helpers import install_country, load_event, only_countries

REF = "#/components/schemas/"
CERTIFICATE = "/v1/issuers/{issuer_id}/certificate"


@pytest.fixture
def two_countries(monkeypatch) -> dict:
    only_countries(monkeypatch, "EC")
    install_country(monkeypatch, xn.TierraNueva(), code=xn.CODE)
    return json.loads(merged_spec.__wrapped__())  # built now, not the cached document of Ecuador alone


def request_schema(document: dict, path: str, method: str = "post", media: str = "application/json") -> dict:
    return document["paths"][path][method]["requestBody"]["content"][media]["schema"]


def resolve(schema: dict, document: dict) -> dict:
    return document["components"]["schemas"][schema["$ref"].removeprefix(REF)] if "$ref" in schema else schema


def fits(schema: dict, document: dict, value) -> bool:
    """Whether `value` is valid for `schema` of `document`, as a JSON Schema validator reads it."""
    return Draft202012Validator({**schema, "components": document["components"]}).is_valid(value)


def test_the_document_is_valid_openapi_with_two_countries(two_countries):
    validate(two_countries)


@pytest.fixture
def ecuador_alone(monkeypatch) -> dict:
    only_countries(monkeypatch, "EC")
    return json.loads(merged_spec.__wrapped__())


def test_the_document_is_valid_openapi_with_ecuador_alone(ecuador_alone):
    validate(ecuador_alone)


def test_the_document_is_valid_openapi_with_the_supported_countries_and_shows_each():
    document = json.loads(merged_spec.__wrapped__())
    validate(document)
    body = request_schema(document, "/v1/documents")
    assert [option["title"] for option in body["oneOf"]] == ["Ecuador", "México"]
    issuers = request_schema(document, "/v1/issuers")
    assert issuers["discriminator"]["mapping"] == {"EC": REF + "CreateIssuerRequest",
                                                   "MX": REF + "MexicoIssuerRequest"}
    assert fits(issuers, document, load_event("issuers/create_issuer_mx.body.json"))


def test_the_documents_body_is_a_schema_per_country_each_discriminated_by_type(two_countries):
    body = request_schema(two_countries, "/v1/documents")
    assert "discriminator" not in body  # `type` does not tell the countries apart
    ecuador, tierra_nueva = body["oneOf"]
    assert (ecuador["title"], tierra_nueva["title"]) == ("Ecuador", xn.NAME)
    for country, union in ((get_plugin("EC"), ecuador), (get_plugin(xn.CODE), tierra_nueva)):
        assert union["discriminator"]["propertyName"] == "type"
        mapping = union["discriminator"]["mapping"]
        assert list(mapping) == list(country.document_request_variants)
        assert sorted(o["$ref"] for o in union["oneOf"]) == sorted(mapping.values())
        for kind, ref in mapping.items():
            variant = resolve({"$ref": ref}, two_countries)
            assert variant["title"] == f"{country.name} · {kind}"
            assert variant["properties"]["type"]["const"] == kind
            [example] = variant["examples"]
            # The example is a body the country's model takes, and the only schema of the body it fits.
            assert country.document_request_model.model_validate(example).type == kind
            assert fits(body, two_countries, example)
            assert [fits(option, two_countries, example) for option in body["oneOf"]].count(True) == 1


def test_the_issuers_body_is_one_schema_per_country_discriminated_by_country(two_countries):
    body = request_schema(two_countries, "/v1/issuers")
    assert body["discriminator"] == {"propertyName": "country", "mapping": {
        "EC": REF + "CreateIssuerRequest", xn.CODE: REF + "TierraNuevaIssuer"}}
    assert [option["$ref"] for option in body["oneOf"]] == list(body["discriminator"]["mapping"].values())
    tierra_nueva = resolve(body["oneOf"][1], two_countries)
    assert {"tax_regime", "zip_code", "branches"} <= set(tierra_nueva["properties"])
    assert not {"establishments", "head_office_address", "flags"} & set(tierra_nueva["properties"])
    for example in (xn.ISSUER_BODY, load_event("issuers/create_issuer.body.json")):
        assert [fits(option, two_countries, example) for option in body["oneOf"]].count(True) == 1


def test_the_certificate_upload_shows_each_countrys_files_as_a_form_and_as_json(two_countries):
    form = request_schema(two_countries, CERTIFICATE, "put", "multipart/form-data")
    ecuador, tierra_nueva = form["oneOf"]
    assert ecuador["title"] == "Ecuador: PKCS#12 (.p12/.pfx)"
    assert tierra_nueva["title"] == f"{xn.NAME}: certificate and key (.cer + .key)"
    assert ecuador["required"] == ["certificate", "password"]
    assert tierra_nueva["required"] == ["cer", "key", "password"]
    assert tierra_nueva["properties"]["key"] == {
        "type": "string", "format": "binary", "description": "The private key (.key, encrypted PKCS#8 DER)."}
    assert tierra_nueva["properties"]["password"]["format"] == "password"
    json_body = request_schema(two_countries, CERTIFICATE, "put")
    assert [set(option["required"]) for option in json_body["oneOf"]] == [
        {"p12_base64", "password"}, {"cer_base64", "key_base64", "password"}]
    pair = {"cer_base64": "MIIB", "key_base64": "MIIC", "password": "x"}
    assert [fits(option, two_countries, pair) for option in json_body["oneOf"]] == [False, True]


def test_with_ecuador_alone_each_body_is_ecuadors_as_before(ecuador_alone):
    document = ecuador_alone
    body = request_schema(document, "/v1/documents")
    assert "title" not in body or body["title"] == "Body"
    assert sorted(body["discriminator"]["mapping"]) == sorted(VARIANTS)
    assert all(resolve({"$ref": ref}, document)["title"].startswith("Ecuador · ")
               for ref in body["discriminator"]["mapping"].values())
    assert request_schema(document, "/v1/issuers") == {"$ref": REF + "CreateIssuerRequest"}
    form = request_schema(document, CERTIFICATE, "put", "multipart/form-data")
    assert form["required"] == ["certificate", "password"] and "oneOf" not in form
    assert request_schema(document, CERTIFICATE, "put")["title"] == "UploadCertificateRequest"
