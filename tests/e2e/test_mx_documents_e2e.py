"""Mexico end to end over HTTP against the local stack and its PAC simulator (SW Sapien's REST API):
an issuer registers its RFC, régimen and branches, uploads its CSD as SAT delivers it (.cer + .key +
password), and each sample document (invoice, global invoice to the general public, credit note,
foreign customer in USD) is numbered, sealed, stamped, rendered and emailed. The stamped XML is
checked by verifiers that share no code with Sello (the cfdv40 schema of satcfdi's tree, SAT's cadena
XSLT applied to the stored bytes, the TFD's SelloSAT with the simulator's SAT certificate); PAC
faults (HTTP 503, a lost answer, a held connection) delay a document but never stamp it twice."""

from __future__ import annotations

import base64
import copy
import io
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from pypdf import PdfReader

from local import certs
from tests.conftest import DATA
from tests.e2e.conftest import LocalStack, issue, wait_final
from tests.helpers import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SAMPLES = ("create_invoice_mx", "create_global_invoice_mx", "create_credit_note_mx", "create_invoice_foreign_mx")
CFDI = "http://www.sat.gob.mx/cfd/4"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
XSLT_TREE = DATA / "mx" / "xslt" / "sat_tree" / "www.sat.gob.mx" / "sitio_internet" / "cfd"


def _satcfdi_schema() -> etree.XMLSchema:
    """cfdv40.xsd and TimbreFiscalDigitalv11.xsd from satcfdi's copy of SAT's schema tree (with the
    catalogs the shared folder lacks), compiled here, not by Sello's code."""
    import satcfdi

    root = Path(satcfdi.__file__).parent / "transform" / "schemas" / "www.sat.gob.mx" / "sitio_internet" / "cfd"
    wrapper = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
               f'<xs:import namespace="{CFDI}" schemaLocation="{(root / "4" / "cfdv40.xsd").as_uri()}"/>'
               f'<xs:import namespace="{TFD}" schemaLocation="'
               f'{(root / "TimbreFiscalDigital" / "TimbreFiscalDigitalv11.xsd").as_uri()}"/></xs:schema>')
    return etree.XMLSchema(etree.fromstring(wrapper))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return _satcfdi_schema()


@pytest.fixture(scope="module")
def mexico(local_stack: LocalStack) -> tuple[str, str]:
    """(test API key, issuer id): a Mexican issuer of this module's own account, with a CSD made by
    local.certs (the local PAC takes any issuing CA for test documents)."""
    key, issuer, certificate = local_stack.new_mexican_issuer("Kemper Urgate E2E")
    assert issuer["country"] == "MX" and issuer["branches"][1]["zip"] == "22000"
    assert certificate["number"] == "30001000000500000001"
    return key, issuer["id"]


@pytest.fixture
def pac(local_stack: LocalStack):
    """The PAC simulator back at its defaults (any issuing CA, as the stack starts it) around a test."""
    admin = local_stack.pac_url + "/_sim/pac/"

    def call(action: str = "state", **config) -> dict:
        with httpx.Client(timeout=10, trust_env=False) as client:
            response = client.get(admin + action) if action == "state" else client.post(admin + action, json=config)
        response.raise_for_status()
        return response.json()

    call("reset")
    call("config", accept_any_issuer=True)
    yield call
    call("reset")
    call("config", accept_any_issuer=True)


def body(sample: str, issuer_id: str) -> dict:
    document = copy.deepcopy(load_event(f"documents/{sample}.body.json"))
    document["issuer_id"] = issuer_id
    if "global_information" in document:  # the period of the global invoice: last month
        today = time.gmtime()
        month, year = (today.tm_mon - 1, today.tm_year) if today.tm_mon > 1 else (12, today.tm_year - 1)
        document["global_information"].update(months=f"{month:02d}", year=year)
    return document


def download(client: httpx.Client, document_id: str, kind: str) -> bytes:
    response = client.get(f"/v1/documents/{document_id}/{kind}")
    assert response.status_code == 303, response.text
    with httpx.Client(timeout=30, trust_env=False) as plain:
        fetched = plain.get(response.headers["location"])
    assert fetched.status_code == 200
    return fetched.content


def cadena(xml: bytes) -> str:
    transform = etree.XSLT(etree.parse(str(XSLT_TREE / "4" / "cadenaoriginal_4_0" / "cadenaoriginal_4_0.xslt")))
    return str(transform(etree.fromstring(xml)))


def tfd_cadena(tfd: etree._Element) -> str:
    transform = etree.XSLT(etree.parse(str(DATA / "mx" / "xslt" / "cadenaoriginal_TFD_1_1.xslt")))
    return str(transform(etree.ElementTree(copy.deepcopy(tfd))))


def verify(certificate: x509.Certificate, text: str, signature_b64: str) -> None:
    certificate.public_key().verify(base64.b64decode(signature_b64), text.encode("utf-8"), padding.PKCS1v15(),
                                    hashes.SHA256())


def sat_certificate(local_stack: LocalStack) -> x509.Certificate:
    with httpx.Client(timeout=10, trust_env=False) as client:
        response = client.get(local_stack.pac_url + "/_sim/pac/sat-certificate.cer")
    response.raise_for_status()
    return x509.load_der_x509_certificate(response.content)


@pytest.mark.skipif(not XSLT_TREE.is_dir(), reason=f"shared conformance fixture not available: {XSLT_TREE}")
@pytest.mark.parametrize("sample", SAMPLES)
def test_each_mexican_sample_is_stamped_and_verifies_independently(local_stack, mexico, pac, schema, sample):
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        created = issue(client, body(sample, issuer_id))
        document = wait_final(client, created["id"])
        assert document["status"] == "authorized", document
        xml = download(client, created["id"], "xml")
        pdf = download(client, created["id"], "pdf")
    root = etree.fromstring(xml)
    assert schema.validate(etree.fromstring(xml)), schema.error_log
    certificate = x509.load_der_x509_certificate(base64.b64decode(root.get("Certificado")))
    verify(certificate, cadena(xml), root.get("Sello"))
    (tfd,) = root.iter(f"{{{TFD}}}TimbreFiscalDigital")
    assert tfd.get("SelloCFD") == root.get("Sello")
    assert tfd.get("UUID").lower() == document["authority"]["authorization_number"].lower()
    verify(sat_certificate(local_stack), tfd_cadena(tfd), tfd.get("SelloSAT"))
    # What the API says is what the XML says.
    assert document["number"] == f"{root.get('Serie')}-{root.get('Folio')}"
    assert root.get("Total") == document["totals"]["total"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert tfd.get("UUID") in text.replace("\n", "") or tfd.get("UUID").upper() in text.upper().replace("\n", "")
    assert root.find(f"{{{CFDI}}}Emisor").get("Rfc") in text


def test_a_lost_answer_and_an_outage_at_the_pac_delay_a_document_but_stamp_it_once(local_stack, mexico, pac):
    key, issuer_id = mexico
    pac("config", hold_seconds=1, faults=[{"kind": "lost_response", "service": "stamp"},
                                          {"kind": "http_503", "service": "stamp"}])
    with local_stack.client(key) as client:
        created = issue(client, body("create_invoice_mx", issuer_id))
        document = wait_final(client, created["id"], timeout=120)
    assert document["status"] == "authorized", document
    stamps = pac("state")["stamps"]
    assert list(stamps) == [document["authority"]["authorization_number"]]  # one stamp, the one the document carries
    (stamp,) = stamps.values()
    assert stamp["answers"] >= 2  # stamped once, answered again when the submission was repeated


def test_a_pac_rejection_ends_rejected_with_the_field_it_is_about(local_stack, mexico, pac):
    key, issuer_id = mexico
    document = body("create_invoice_mx", issuer_id)
    document["customer"]["name"] = "XENON INDUSTRIAL ARTICLES DOS"  # not the registered name (CFDI40145)
    with local_stack.client(key) as client:
        created = issue(client, document)
        final = wait_final(client, created["id"])
    assert final["status"] == "rejected", final
    messages = final["authority"]["messages"]
    assert [(m["code"], m.get("path")) for m in messages if "40145" in m["code"]] == [("CFDI40145", "customer.name")], \
        messages


def test_a_csd_sent_as_json_with_a_wrong_password_is_refused_on_the_password(local_stack, mexico):
    key, issuer_id = mexico
    cer, key_file = certs.make_csd(rfc="EKU9003173C9", name="ESCUELA KEMPER URGATE", password="pw")
    with local_stack.client(key) as client:
        bad = client.put(f"/v1/issuers/{issuer_id}/certificate",
                         json={"cer_base64": base64.b64encode(cer).decode(),
                               "key_base64": base64.b64encode(key_file).decode(), "password": "wrong"})
        kept = client.get(f"/v1/issuers/{issuer_id}/certificate")
    assert bad.status_code == 422, bad.text
    assert (bad.json()["error"]["code"], bad.json()["error"]["path"]) == ("wrong_certificate_password", "password")
    assert kept.json()["number"] == "30001000000500000001"  # the CSD on file is unchanged


def test_a_credit_note_names_its_invoice_by_sello_id_and_carries_its_uuid(local_stack, mexico, pac):
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        invoice = wait_final(client, issue(client, body("create_invoice_mx", issuer_id))["id"])
        assert invoice["status"] == "authorized", invoice
        note = body("create_credit_note_mx", issuer_id)
        note["related"] = [invoice["id"]]
        credited = wait_final(client, issue(client, note)["id"])
        assert credited["status"] == "authorized", credited
        xml = etree.fromstring(download(client, credited["id"], "xml"))
        unknown = client.post("/v1/documents", json={**note, "related": ["doc_00000000000000000000"]})
    related = xml.find(f"{{{CFDI}}}CfdiRelacionados")
    assert related.get("TipoRelacion") == "01"
    assert [r.get("UUID") for r in related] == [invoice["authority"]["authorization_number"].upper()]
    assert unknown.status_code == 422
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["path"]) == (
        "related_document_not_found", "related.0")


def test_an_issued_invoice_is_vigente_at_the_simulated_sat(local_stack, mexico, pac):
    """The route asks SAT's status service (the stack points it at the PAC simulator, which knows what it
    stamped): the invoice just stamped is Vigente, cancelable as SAT's rule gives for its total and
    receiver, read here from the stamped XML."""
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        invoice = wait_final(client, issue(client, body("create_invoice_mx", issuer_id))["id"])
        assert invoice["status"] == "authorized", invoice
        xml = etree.fromstring(download(client, invoice["id"], "xml"))
        answer = client.get(f"/v1/documents/{invoice['id']}/authority-status")
    assert answer.status_code == 200, answer.text
    status = answer.json()
    assert (status["document_id"], status["authority"], status["status"]) == (invoice["id"], "SAT", "Vigente")
    receptor = xml.find(f"{{{CFDI}}}Receptor").get("Rfc")
    in_mxn = float(xml.get("Total")) * float(xml.get("TipoCambio") or 1)
    without = receptor in ("XAXX010101000", "XEXX010101000") or in_mxn <= 1000
    assert status["cancelable"] == ("Cancelable sin aceptación" if without else "Cancelable con aceptación")
    assert status["cancellation_status"] is None
    assert pac()["requests"]["status"] == 1
