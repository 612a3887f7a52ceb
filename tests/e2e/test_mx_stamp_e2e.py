"""POST /v1/documents/stamp end to end over HTTP against the local stack and its PAC simulator: a CFDI
built and sealed outside Sello (satcfdi's builders, a CSD of local.certs) is checked, stamped through
the usual workflow, rendered and emailed, and sending it again answers with the same document;
malicious or forged XML (XXE, billion laughs, an external DTD, huge attributes, deep nesting, a
changed CFDI, another RFC's) is a 4xx that leaves no document and no file behind."""

from __future__ import annotations

import base64
import io
import re

import boto3
import pytest
from lxml import etree
from pypdf import PdfReader

from local import sealed_cfdi
from tests.e2e.conftest import LocalStack, wait_final
from tests.e2e.test_mx_documents_e2e import TFD, download, pac  # noqa: F401 (pac is a fixture)
from tests.helpers import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

EMAIL = "cuentas-por-pagar@example.com"


@pytest.fixture(scope="module")
def issuer(local_stack: LocalStack) -> tuple[dict, str, str]:
    """(account, test API key, issuer id): a Mexican issuer of this module's own account, without a CSD
    on file (the CFDIs it stamps carry theirs)."""
    account, key = local_stack.new_account("Kemper Urgate Stamp E2E")
    with local_stack.client(key) as client:
        created = client.post("/v1/issuers", json=load_event("issuers/create_issuer_mx.body.json"))
    assert created.status_code == 201, created.text
    return account, key, created.json()["id"]


def stored_files(local_stack: LocalStack, account_id: str) -> list[str]:
    """The keys of every file stored for the account's documents, in any bucket of the emulator."""
    s3 = boto3.client("s3", endpoint_url=local_stack.moto_url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    keys = []
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"], Prefix=f"accounts/{account_id}/documents/")
        keys += [item["Key"] for item in listed.get("Contents", ())]
    return keys


def stamp_json(client, issuer_id: str, xml: bytes, **fields):
    return client.post("/v1/documents/stamp", json={"issuer_id": issuer_id,
                                                    "xml_base64": base64.b64encode(xml).decode(), **fields})


def test_a_cfdi_sealed_elsewhere_is_stamped_rendered_and_emailed_once(local_stack, issuer, pac):
    _, key, issuer_id = issuer
    xml = sealed_cfdi.sealed(serie="EXT", folio="501")
    before = max((m["n"] for m in local_stack.outbox()), default=0)
    with local_stack.client(key) as client:
        created = stamp_json(client, issuer_id, xml, customer_email=EMAIL)
        assert created.status_code == 201, created.text
        document = created.json()
        assert (document["status"], document["number"], document["type"], document["country"]) == (
            "processing", "EXT-501", "invoice", "MX")
        assert document["totals"]["total"] == "1160.00" and document["customer"]["tax_id"] == "XIA190128J61"
        final = wait_final(client, document["id"])
        assert final["status"] == "authorized", final
        stamped = download(client, document["id"], "xml")
        pdf = download(client, document["id"], "pdf")
        again = stamp_json(client, issuer_id, xml)
        listed = client.get("/v1/documents").json()["data"]
    root, sent = etree.fromstring(stamped), etree.fromstring(xml)
    # The PAC stamped the CFDI as it was sealed: the same seal, now with the TFD whose UUID the API shows.
    assert root.get("Sello") == sent.get("Sello") and root.get("Folio") == "501"
    (tfd,) = root.iter(f"{{{TFD}}}TimbreFiscalDigital")
    assert tfd.get("SelloCFD") == sent.get("Sello")
    assert tfd.get("UUID").lower() == final["authority"]["authorization_number"].lower()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert tfd.get("UUID").upper() in text.upper()
    mail = local_stack.mail_to(EMAIL, after=before)
    assert "EXT-501" in mail["subject"]
    # Sent again: the same document, not a second one, and the PAC stamped it once.
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == document["id"] and again.json()["status"] == "authorized"
    assert [d["id"] for d in listed].count(document["id"]) == 1
    assert list(pac("state")["stamps"]) == [final["authority"]["authorization_number"]]


def test_the_xml_itself_can_be_the_body(local_stack, issuer, pac):
    _, key, issuer_id = issuer
    xml = sealed_cfdi.sealed(serie="EXT", folio="502", tipo="E")
    with local_stack.client(key) as client:
        created = client.post("/v1/documents/stamp", params={"issuer_id": issuer_id}, content=xml,
                              headers={"Content-Type": "application/xml"})
        assert created.status_code == 201, created.text
        final = wait_final(client, created.json()["id"])
    assert (final["status"], final["type"], final["number"]) == ("authorized", "credit_note", "EXT-502"), final


def _deep(levels: int) -> bytes:
    return b"<a>" * levels + b"</a>" * levels


_SEALED = sealed_cfdi.sealed(serie="MAL", folio="1")
MALICIOUS = {
    "xxe_file": (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0">&x;</cfdi:Comprobante>',
                 422, "cfdi_doctype_not_allowed"),
    "billion_laughs": (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                       + b"".join(b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&%s;" % chr(97 + i).encode()) * 10)
                                  for i in range(9))
                       + b"]><l>&j;</l>", 422, "cfdi_doctype_not_allowed"),
    "external_dtd": (b'<?xml version="1.0"?><!DOCTYPE Comprobante SYSTEM "http://169.254.169.254/latest/meta-data/">'
                     b"<Comprobante/>", 422, "cfdi_doctype_not_allowed"),
    "entity_in_utf16": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE l [<!ENTITY a "a">]><l>&a;</l>'
                        .encode("utf-16"), 422, "cfdi_malformed"),
    "huge_attribute_over_the_limit": (_SEALED.replace(b'Serie="MAL"', b'Serie="' + b"M" * 2_000_000 + b'"'),
                                      422, "document_too_large"),
    "huge_attribute_within_the_limit": (_SEALED.replace(b'Serie="MAL"', b'Serie="' + b"M" * 900_000 + b'"'),
                                        422, "cfdi_schema_invalid"),
    "deep_nesting": (_deep(5_000), 422, "cfdi_malformed"),
    "not_xml": (b"%PDF-1.7 not a CFDI", 422, "cfdi_malformed"),
    "changed_after_sealing": (_SEALED.replace(b'Folio="1"', b'Folio="2"'), 422, "cfdi_seal_invalid"),
    "another_rfcs_cfdi": (sealed_cfdi.seal(sealed_cfdi.comprobante(emisor_rfc="XIA190128J61",
                                                                   emisor_nombre="XENON INDUSTRIAL ARTICLES"),
                                           *sealed_cfdi.csd(rfc="XIA190128J61", name="XENON INDUSTRIAL ARTICLES",
                                                            key_slot=2)),
                          422, "issuer_tax_id_mismatch"),
    "sealed_with_another_rfcs_csd": (sealed_cfdi.seal(sealed_cfdi.comprobante(),
                                                      *sealed_cfdi.csd(rfc="XIA190128J61",
                                                                       name="XENON INDUSTRIAL ARTICLES", key_slot=2)),
                                     422, "certificate_tax_id_mismatch"),
}


@pytest.mark.parametrize("case", MALICIOUS)
def test_malicious_or_forged_xml_is_refused_and_leaves_nothing(local_stack, case):
    data, status, code = MALICIOUS[case]
    account, key = local_stack.new_account(f"Stamp refusals {case}")
    with local_stack.client(key) as client:
        created = client.post("/v1/issuers", json=load_event("issuers/create_issuer_mx.body.json"))
        issuer_id = created.json()["id"]
        as_json = stamp_json(client, issuer_id, data)
        as_xml = client.post("/v1/documents/stamp", params={"issuer_id": issuer_id}, content=data,
                             headers={"Content-Type": "application/xml"})
        documents = client.get("/v1/documents").json()["data"]
    for answer in (as_json, as_xml):
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
    assert documents == []
    assert stored_files(local_stack, account["id"]) == []


def test_bad_bodies_are_refused_with_their_field(local_stack, issuer):
    _, key, issuer_id = issuer
    with local_stack.client(key) as client:
        no_issuer = client.post("/v1/documents/stamp", content=sealed_cfdi.sealed(),
                                headers={"Content-Type": "application/xml"})
        unknown = stamp_json(client, "iss_" + "0" * 20, sealed_cfdi.sealed())
        not_base64 = client.post("/v1/documents/stamp", json={"issuer_id": issuer_id, "xml_base64": "%%%"})
        wrong_type = client.post("/v1/documents/stamp", content=b"<a/>", headers={"Content-Type": "text/plain"})
    assert (no_issuer.status_code, no_issuer.json()["error"]["path"]) == (422, "issuer_id")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "issuer_not_found")
    assert (not_base64.status_code, not_base64.json()["error"]["path"]) == (422, "xml_base64")
    assert wrong_type.status_code == 415
    assert re.fullmatch(r"iss_[a-z0-9]{20}", issuer_id)
