"""PKCS#12 files written with legacy encryption (RC2-40/3DES, SHA-1 MAC, BER), as several Ecuadorian
CAs still issue them and OpenSSL 3 refuses by default: they must open, so that what is wrong with
them (here: expired, a small key) is reported instead of "not a certificate file".

Fixtures from the shared conformance data: the Andes SCD public test certificate (persona jurídica,
password published, valid 2016-09-24 → 2019-09-24, RC2-40) and a self-signed example with an
empty password."""

from __future__ import annotations

import base64
import warnings
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from local import certs
from sello.adapters import aws as aws_clients
from sello.countries import get_plugin
from sello.errors import Unprocessable
from sello.services.certificates import check_p12
from tests.conftest import DATA, needs_data
from tests.helpers import api_event, load_event, response_json

ANDES = ("co", "certs", "andes_persona_juridica_pruebas_2016-2019.p12")
ANDES_PASSWORD = "persona_juridica_pruebas"
FACHO = ("co", "certs", "facho_selfsigned_example.p12")
NOW = datetime.now(UTC)


def check(data: bytes, password: str):
    with pytest.raises(Unprocessable) as err:
        check_p12(data, password, tax_id=certs.DEMO_RUC, plugin=get_plugin("EC"), now=NOW)
    return err.value


@needs_data(*ANDES)
def test_the_legacy_andes_file_opens_and_is_rejected_as_expired():
    data = DATA.joinpath(*ANDES).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bundle = pkcs12.load_pkcs12(data, ANDES_PASSWORD.encode())
    assert bundle.key is not None and format(bundle.cert.certificate.serial_number, "X") == "5BAA826812650BCC"
    err = check(data, ANDES_PASSWORD)
    assert (err.code, err.path) == ("certificate_expired", "certificate")
    assert "2019-09-24" in err.message


@needs_data(*ANDES)
def test_the_legacy_andes_file_with_a_wrong_password_is_a_wrong_password():
    err = check(DATA.joinpath(*ANDES).read_bytes(), "not-the-password")
    assert (err.code, err.path) == ("wrong_certificate_password", "password")


@needs_data(*FACHO)
def test_a_legacy_file_with_an_empty_password_opens():
    err = check(DATA.joinpath(*FACHO).read_bytes(), "")
    assert err.code == "certificate_key_unsupported"  # it opened: its 1024-bit key is what is wrong


@needs_data(*ANDES)
def test_uploading_the_legacy_file_through_the_api_is_rejected_as_expired(aws):
    from functions.api import issuers

    principal = {"account_id": "acct_legacy00000000000000", "environment": "test", "key_id": "key_legacy"}
    created = issuers.handler(api_event("POST", "/v1/issuers", load_event("issuers/create_issuer.body.json"),
                                        principal=principal), None)
    issuer_id = response_json(created)["id"]
    body = {"p12_base64": base64.b64encode(DATA.joinpath(*ANDES).read_bytes()).decode(),
            "password": ANDES_PASSWORD}
    path = f"/v1/issuers/{issuer_id}/certificate"
    response = issuers.handler(api_event("PUT", path, body, principal=principal), None)
    error = response_json(response)["error"]
    assert response["statusCode"] == 422
    assert (error["code"], error["path"]) == ("certificate_expired", "p12_base64")
    table = aws_clients.resource("dynamodb").Table(aws["SELLO_TABLE_NAME"])
    assert [i for i in table.scan()["Items"] if i["sk"].startswith("CERT#")] == []
