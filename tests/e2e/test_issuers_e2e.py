"""Issuers and their signing certificates over HTTP against the local stack, in an account of this
module's own: register the sample issuer, upload a generated PKCS#12 file as a real multipart form
(which the gateway hands over base64-encoded, as API Gateway does with binary media types) and as
base64 JSON, read the metadata back, and see bad uploads refused without changing anything."""

from __future__ import annotations

import base64
import copy
import re
from datetime import datetime

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from local import certs
from tests.helpers import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "Clave-e2e-2026!"
NOTICES = "certificados@andina.example.com"
# Valid RUCs besides the demo one (private company, public entity, natural persons).
OTHER_RUC, THIRD_RUC = "1792060346001", "1760013210001"
PAGED_RUCS = ("1714307103001", "1710034065001")
BAD_CHECK_DIGIT_RUC = "1799999991001"


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


def issuer_body(**changes) -> dict:
    return {**copy.deepcopy(load_event("issuers/create_issuer.body.json")), **changes}


def register(client: httpx.Client, **changes) -> dict:
    response = client.post("/v1/issuers", json=issuer_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def upload_multipart(client: httpx.Client, issuer_id: str, p12: bytes, password: str = PASSWORD,
                     **fields) -> httpx.Response:
    return client.put(f"/v1/issuers/{issuer_id}/certificate",
                      files={"certificate": ("firma.p12", p12, "application/x-pkcs12")},
                      data={"password": password, **fields})


def upload_json(client: httpx.Client, issuer_id: str, p12: bytes, password: str = PASSWORD,
                **fields) -> httpx.Response:
    return client.put(f"/v1/issuers/{issuer_id}/certificate",
                      json={"p12_base64": base64.b64encode(p12).decode(), "password": password, **fields})


def expected_metadata(p12: bytes, password: str = PASSWORD) -> dict:
    """What the API must report for this file, worked out from the file itself."""
    certificate = pkcs12.load_pkcs12(p12, password.encode()).cert.certificate
    return {
        "serial": format(certificate.serial_number, "X"),
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "valid_from": certificate.not_valid_before_utc,
        "valid_to": certificate.not_valid_after_utc,
        "fingerprint_sha256": certificate.fingerprint(hashes.SHA256()).hex().upper(),
    }


def assert_metadata(view: dict, issuer_id: str, p12: bytes, tax_id: str) -> None:
    expected = expected_metadata(p12)
    assert view["object"] == "certificate"
    assert view["issuer_id"] == issuer_id
    assert view["status"] == "active"
    assert tax_id in view["tax_ids"]
    for field in ("serial", "subject", "issuer", "fingerprint_sha256"):
        assert view[field] == expected[field], field
    for field in ("valid_from", "valid_to"):
        assert datetime.fromisoformat(view[field]) == expected[field], field


def assert_no_key_material(response: httpx.Response, p12: bytes, password: str = PASSWORD) -> None:
    key = pkcs12.load_pkcs12(p12, password.encode()).key
    key_der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    text = response.text
    leaks = {
        "a PEM private key": "PRIVATE KEY",
        "the password": password,
        "the p12 file (base64)": base64.b64encode(p12).decode()[100:160],
        "the private key (base64)": base64.b64encode(key_der).decode()[100:160],
        "the private key (hex)": key_der.hex()[200:280],
    }
    for what, secret in leaks.items():
        assert secret.lower() not in text.lower(), f"{what} in the response"
    assert not {"private_key", "password", "p12_base64", "certificate_der"} & set(response.json())


@pytest.fixture(scope="module")
def owner(local_stack):
    _, key = local_stack.new_account("Comercial Andina E2E")
    with local_stack.client(key) as client:
        yield client


@pytest.fixture(scope="module")
def stranger(local_stack):
    _, key = local_stack.new_account("Another Company E2E")
    with local_stack.client(key) as client:
        yield client


@pytest.fixture(scope="module")
def issuer(owner) -> dict:
    """The sample issuer (demo RUC), registered in the module's account."""
    return register(owner)


def test_register_the_sample_issuer_and_read_it_back(owner, issuer):
    sample = load_event("issuers/create_issuer.body.json")
    assert issuer["id"].startswith("iss_")
    assert issuer["object"] == "issuer"
    assert (issuer["country"], issuer["tax_id"], issuer["legal_name"]) == (
        sample["country"], sample["tax_id"], sample["legal_name"])
    assert [e["code"] for e in issuer["establishments"]] == [e["code"] for e in sample["establishments"]]
    assert issuer["flags"]["obligado_contabilidad"] is True
    assert issuer["certificate"] is None

    fetched = owner.get(f"/v1/issuers/{issuer['id']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == issuer


def test_upload_as_multipart_form_data_then_read_metadata_only(local_stack, owner, issuer):
    p12 = certs.make_p12(ruc=certs.DEMO_RUC, password=PASSWORD)
    mail_before = len(local_stack.outbox())

    uploaded = upload_multipart(owner, issuer["id"], p12, notification_email=NOTICES)

    assert uploaded.status_code == 200, uploaded.text
    view = uploaded.json()
    assert_metadata(view, issuer["id"], p12, certs.DEMO_RUC)
    assert view["notification_email"] == NOTICES
    assert_no_key_material(uploaded, p12)

    fetched = owner.get(f"/v1/issuers/{issuer['id']}/certificate")
    assert fetched.status_code == 200, fetched.text
    assert_metadata(fetched.json(), issuer["id"], p12, certs.DEMO_RUC)
    assert_no_key_material(fetched, p12)
    summary = owner.get(f"/v1/issuers/{issuer['id']}").json()["certificate"]
    assert (summary["serial"], summary["status"]) == (view["serial"], "active")

    notice = local_stack.mail_to(NOTICES, after=mail_before)
    assert "aceptado" in notice["subject"].lower()  # the issuer's language, Spanish by default
    assert issuer["legal_name"] in notice["subject"]
    assert re.search(rf"Serie: +{view['serial']}", notice["text"])
    assert PASSWORD not in notice["text"]


def test_upload_as_base64_json_and_replace_keeping_the_history(owner):
    issuer = register(owner, tax_id=OTHER_RUC)
    first = certs.make_p12(ruc=OTHER_RUC, password=PASSWORD)
    second = certs.make_p12(ruc=OTHER_RUC, password=PASSWORD, key_slot=2)

    uploaded = upload_json(owner, issuer["id"], first)
    assert uploaded.status_code == 200, uploaded.text
    assert_metadata(uploaded.json(), issuer["id"], first, OTHER_RUC)
    assert uploaded.json()["history"] == []
    assert_no_key_material(uploaded, first)

    replaced = upload_json(owner, issuer["id"], second)
    assert replaced.status_code == 200, replaced.text
    assert_metadata(replaced.json(), issuer["id"], second, OTHER_RUC)
    assert [h["serial"] for h in replaced.json()["history"]] == [uploaded.json()["serial"]]
    fetched = owner.get(f"/v1/issuers/{issuer['id']}/certificate")
    assert fetched.json()["serial"] == replaced.json()["serial"]
    assert_no_key_material(fetched, first)
    assert_no_key_material(fetched, second)


def test_a_wrong_password_or_another_rucs_certificate_is_refused_and_changes_nothing(local_stack, owner):
    issuer = register(owner, tax_id=THIRD_RUC)
    good = certs.make_p12(ruc=THIRD_RUC, password=PASSWORD)
    assert upload_multipart(owner, issuer["id"], good).status_code == 200
    before = owner.get(f"/v1/issuers/{issuer['id']}/certificate").json()
    mail_before = len(local_stack.outbox())

    wrong_password = "not-the-password"
    cases = [
        (upload_multipart(owner, issuer["id"], certs.make_p12(ruc=THIRD_RUC, password=PASSWORD),
                          password=wrong_password, notification_email=NOTICES),
         "wrong_certificate_password", "password"),
        (upload_json(owner, issuer["id"], certs.make_p12(ruc=THIRD_RUC, password=PASSWORD),
                     password=wrong_password),
         "wrong_certificate_password", "password"),
        (upload_multipart(owner, issuer["id"], certs.make_p12(ruc=OTHER_RUC, password=PASSWORD)),
         "certificate_tax_id_mismatch", "certificate"),
        (upload_json(owner, issuer["id"], certs.make_p12(ruc=OTHER_RUC, password=PASSWORD)),
         "certificate_tax_id_mismatch", "p12_base64"),
    ]
    for response, code, path in cases:
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert (error["code"], error.get("path")) == (code, path), error
        assert wrong_password not in response.text and PASSWORD not in response.text

    after = owner.get(f"/v1/issuers/{issuer['id']}/certificate")
    assert after.status_code == 200
    assert after.json() == before  # same serial, no history entry, nothing else changed

    notice = local_stack.mail_to(NOTICES, after=mail_before)
    assert "no aceptado" in notice["subject"].lower()
    assert "wrong_certificate_password" in notice["text"]
    assert wrong_password not in notice["text"]


def test_another_accounts_key_finds_no_issuer(owner, stranger, issuer):
    own_certificate = owner.get(f"/v1/issuers/{issuer['id']}/certificate")

    for response in (
        stranger.get(f"/v1/issuers/{issuer['id']}"),
        stranger.get(f"/v1/issuers/{issuer['id']}/certificate"),
        upload_json(stranger, issuer["id"], certs.make_p12(ruc=certs.DEMO_RUC, password=PASSWORD)),
    ):
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "issuer_not_found"
    listed = stranger.get("/v1/issuers")
    assert listed.status_code == 200
    assert issuer["id"] not in listed.text
    assert owner.get(f"/v1/issuers/{issuer['id']}/certificate").json() == own_certificate.json()


def test_an_invalid_ruc_is_refused_with_its_path_and_nothing_is_stored(owner):
    response = owner.post("/v1/issuers", json=issuer_body(tax_id=BAD_CHECK_DIGIT_RUC))

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["path"]) == ("invalid_tax_id", "tax_id")
    assert BAD_CHECK_DIGIT_RUC not in owner.get("/v1/issuers", params={"limit": 100}).text


def test_list_issuers_one_per_page_with_a_cursor(owner):
    created = {register(owner, tax_id=ruc)["id"] for ruc in PAGED_RUCS}
    everything = owner.get("/v1/issuers", params={"limit": 100})
    assert everything.status_code == 200, everything.text
    all_ids = [i["id"] for i in everything.json()["data"]]

    seen, cursor = [], None
    for _ in range(len(all_ids) + 1):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = owner.get("/v1/issuers", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json()["data"]) <= 1
        seen += [i["id"] for i in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert cursor is None, "paging did not end"
    assert seen == all_ids  # the same order, nothing repeated or skipped
    assert created <= set(seen) and len(seen) >= 2
