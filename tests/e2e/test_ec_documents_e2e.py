"""Ecuador end to end over HTTP against the local stack and its SRI simulator: every document type is
issued from its sample body, signed, received, authorized, rendered and emailed, and so is an invoice
of an issuer in each regime (general, RIMPE, special taxpayer, withholding agent); faults injected into
the simulator (HTTP 503, timeouts, error 50, lost answers, slow decisions) delay a document but never
lose it nor get it received twice; rejections end as `rejected` with SRI's messages and a clear code."""

from __future__ import annotations

import copy
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from pypdf import PdfReader

from local import certs
from local.sri.signature import verify
from tests.e2e.conftest import FINAL, LocalStack, issue, wait_final
from tests.helpers import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TYPES = ("invoice", "credit_note", "debit_note", "delivery_guide", "withholding", "purchase_settlement")
# What each type's RIDE is titled.
RIDE_TITLES = {"invoice": "FACTURA", "credit_note": "NOTA DE CRÉDITO", "debit_note": "NOTA DE DÉBITO",
               "delivery_guide": "GUÍA DE REMISIÓN", "withholding": "COMPROBANTE DE RETENCIÓN",
               "purchase_settlement": "LIQUIDACIÓN DE COMPRA DE BIENES Y PRESTACIÓN DE SERVICIOS"}


def _today_ec() -> str:
    return (datetime.now(UTC) - timedelta(hours=5)).date().isoformat()


def document_body(kind: str, issuer_id: str) -> dict:
    """The sample request body of this type, for this issuer, with its dates moved to today (the
    samples' fixed transport dates would otherwise fall before the issue date)."""
    body = copy.deepcopy(load_event(f"documents/create_{kind}.body.json"))
    body["issuer_id"] = issuer_id
    body.pop("issue_date", None)
    if kind == "delivery_guide":
        body["shipment"]["start_date"] = body["shipment"]["end_date"] = _today_ec()
    return body


@pytest.fixture(scope="module")
def issuer(local_stack: LocalStack) -> tuple[str, str]:
    """(test API key, issuer id) of an account of this module's own, with a signing certificate."""
    return local_stack.new_issuer('Documentos E2E S.A.')


@pytest.fixture
def sri(local_stack: LocalStack):
    """The simulator back at its defaults before and after each test that changes it."""
    local_stack.sri("reset")
    yield local_stack
    local_stack.sri("reset")


def sim_document(stack: LocalStack, access_key: str) -> dict:
    return stack.sri()["documents"][access_key]


@pytest.mark.parametrize("kind", TYPES)
def test_every_type_is_authorized_rendered_and_delivered(local_stack, issuer, kind):
    key, issuer_id = issuer
    body = document_body(kind, issuer_id)
    with local_stack.client(key) as client:
        created = issue(client, body)
        assert created["status"] == "processing" and created["type"] == kind
        clave = created["authority"]["access_key"]
        assert len(clave) == 49 and clave.isdigit()
        before = len(local_stack.outbox())
        done = wait_final(client, created["id"])
        assert done["status"] == "authorized", done
        assert done["authority"]["authorization_number"] == clave
        assert done["authority"]["authorized_at"]
        assert done["delivery_error"] is None

        xml = client.get(f"/v1/documents/{created['id']}/xml", follow_redirects=True)
        assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
        assert xml.history[0].status_code == 303  # the bytes come from the bucket, behind a redirect
        record = etree.fromstring(xml.content)
        assert record.tag == "autorizacion" and record.findtext("estado") == "AUTORIZADO"
        assert record.findtext("numeroAutorizacion") == clave
        comprobante = record.findtext("comprobante").encode()
        verify(comprobante)  # the archived document still carries a valid signature
        assert etree.fromstring(comprobante).findtext("infoTributaria/claveAcceso") == clave

        # The PDF's bytes whatever the Accept header: the redirect leads to the bucket.
        for accept in ("application/json", "*/*", "application/pdf"):
            pdf = client.get(f"/v1/documents/{created['id']}/pdf", headers={"Accept": accept},
                             follow_redirects=True)
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            assert pdf.content.startswith(b"%PDF")
            assert "Authorization" not in pdf.request.headers  # not sent on to another host
        first_page = " ".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
        assert f"{RIDE_TITLES[kind]} No. {done['number']}" in first_page
        assert body["customer"]["name"] in first_page

    state = sim_document(local_stack, clave)
    assert (state["accepted"], state["status"]) == (1, "authorized")
    mail = local_stack.mail_to(body["customer"]["email"], after=before)
    assert sorted(name.rsplit(".", 1)[1] for name in mail["attachments"]) == ["pdf", "xml"]
    assert done["number"] in mail["subject"]
    # The outbox has both alternatives, in the issuer's language (Spanish by default).
    assert clave in mail["text"] and clave in mail["html"]
    assert "Clave de acceso" in mail["text"] and 'lang="es"' in mail["html"]


# Every regime an issuer can be registered under (its flags), each with a RUC of its own: (flags, RUC,
# what infoTributaria / infoFactura then carry).
REGIMES = {
    "general": ({"obligado_contabilidad": True}, "1790001113001", {}),
    "rimpe_emprendedor": ({"obligado_contabilidad": False, "rimpe": "emprendedor"}, "1712345675001",
                          {"contribuyenteRimpe": "CONTRIBUYENTE RÉGIMEN RIMPE"}),
    "rimpe_negocio_popular": ({"obligado_contabilidad": False, "rimpe": "negocio_popular"}, "0912345675001",
                              {"contribuyenteRimpe": "CONTRIBUYENTE NEGOCIO POPULAR - RÉGIMEN RIMPE"}),
    "contribuyente_especial": ({"obligado_contabilidad": True, "contribuyente_especial": "5368"},
                               "1791234561001", {"contribuyenteEspecial": "5368"}),
    "agente_retencion": ({"obligado_contabilidad": True, "agente_retencion": "1"}, "1798765430001",
                         {"agenteRetencion": "1"}),
}
REGIME_FIELDS = ("infoTributaria/contribuyenteRimpe", "infoTributaria/agenteRetencion",
                 "infoFactura/contribuyenteEspecial")


@pytest.mark.parametrize("regime", list(REGIMES))
def test_every_issuer_regime_gets_its_invoice_authorized(local_stack, issuer, regime):
    flags, ruc, expected = REGIMES[regime]
    key, _ = issuer
    with local_stack.client(key) as client:
        registered = client.post("/v1/issuers", json={**load_event("issuers/create_issuer.body.json"),
                                                      "tax_id": ruc, "flags": flags})
        assert registered.status_code == 201, registered.text
        issuer_id = registered.json()["id"]
        uploaded = client.put(f"/v1/issuers/{issuer_id}/certificate",
                              files={"certificate": ("firma.p12", certs.make_p12(ruc=ruc, password="regime"),
                                                     "application/x-pkcs12")},
                              data={"password": "regime"})
        assert uploaded.status_code == 200, uploaded.text
        done = wait_final(client, issue(client, document_body("invoice", issuer_id))["id"])
        assert done["status"] == "authorized", done
        xml = client.get(f"/v1/documents/{done['id']}/xml", follow_redirects=True)
        record = etree.fromstring(xml.content)
    comprobante = etree.fromstring(record.findtext("comprobante").encode())
    carried = {path.rsplit("/", 1)[1]: comprobante.findtext(path) for path in REGIME_FIELDS}
    assert carried == {name.rsplit("/", 1)[1]: None for name in REGIME_FIELDS} | expected
    assert comprobante.findtext("infoFactura/obligadoContabilidad") == (
        "SI" if flags["obligado_contabilidad"] else "NO")
    assert comprobante.findtext("infoTributaria/ruc") == ruc


def test_idempotent_retry_returns_the_same_document(local_stack, issuer):
    key, issuer_id = issuer
    body = document_body("invoice", issuer_id)
    with local_stack.client(key) as client:
        first = issue(client, body, **{"Idempotency-Key": "order-1001"})
        again = client.post("/v1/documents", json=body, headers={"Idempotency-Key": "order-1001"})
        assert again.status_code == 200 and again.json()["id"] == first["id"]
        other = client.post("/v1/documents", json={**body, "additional_info": {"Pedido": "1002"}},
                            headers={"Idempotency-Key": "order-1001"})
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
        assert wait_final(client, first["id"])["status"] == "authorized"
    assert sim_document(local_stack, first["authority"]["access_key"])["accepted"] == 1


@pytest.mark.parametrize("faults", [
    [{"kind": "http_503", "count": 2, "service": "reception"}],
    [{"kind": "error_50", "count": 2, "service": "reception"}],
    [{"kind": "timeout", "count": 1, "service": "reception"}],
    [{"kind": "lost_response", "count": 1, "service": "reception"}],
    [{"kind": "http_503", "count": 2, "service": "authorization"},
     {"kind": "timeout", "count": 1, "service": "authorization"}],
], ids=["503", "error_50", "timeout", "lost_response", "authorization_faults"])
def test_faults_delay_but_never_lose_or_resubmit(sri, issuer, faults):
    key, issuer_id = issuer
    sri.sri("config", faults=faults, hold_seconds=5)
    with sri.client(key) as client:
        created = issue(client, document_body("invoice", issuer_id))
        done = wait_final(client, created["id"], timeout=120)
    assert done["status"] == "authorized", done
    state = sim_document(sri, created["authority"]["access_key"])
    assert state["accepted"] == 1  # received exactly once
    assert sri.sri()["faults"] == []  # every injected fault was met
    # After an attempt without an answer, the document is asked for before it is sent again: SRI
    # processed one submission, also when the answer to it was lost.
    assert state["submissions"] == 1


def test_a_lost_answer_then_a_reception_outage_longer_than_any_retry_budget(sri, issuer):
    """Reception loses one answer, then fails 20 times in a row (the workflow once gave a document 8
    attempts): every document waits, showing since when SRI is unreachable, and ends authorized once
    reception is back, each received exactly once and none failed."""
    key, issuer_id = issuer
    sri.sri("config", faults=[{"kind": "lost_response", "count": 1, "service": "reception"},
                              {"kind": "http_503", "count": 20, "service": "reception"}])
    unreachable_seen = set()
    with sri.client(key) as client:
        created = [issue(client, document_body("invoice", issuer_id)) for _ in range(3)]
        deadline = time.monotonic() + 180
        pending = {doc["id"] for doc in created}
        while pending and time.monotonic() < deadline:
            for document_id in sorted(pending):
                doc = client.get(f"/v1/documents/{document_id}").json()
                if doc["authority_unreachable_since"]:
                    assert doc["status"] == "processing" and doc["next_attempt_at"]
                    unreachable_seen.add(document_id)
                if doc["status"] in FINAL:
                    pending.discard(document_id)
            time.sleep(0.2)
        done = [client.get(f"/v1/documents/{doc['id']}").json() for doc in created]
    assert [doc["status"] for doc in done] == ["authorized"] * 3, done
    assert unreachable_seen
    assert sri.sri()["faults"] == []  # the whole outage was met
    for doc in done:
        state = sim_document(sri, doc["authority"]["access_key"])
        assert (state["accepted"], state["submissions"]) == (1, 1)
        assert doc["authority_unreachable_since"] is None


def test_slow_decision_is_polled_until_authorized(sri, issuer):
    key, issuer_id = issuer
    sri.sri("config", processing_polls=2)
    with sri.client(key) as client:
        created = issue(client, document_body("invoice", issuer_id))
        done = wait_final(client, created["id"])
    assert done["status"] == "authorized"
    state = sim_document(sri, created["authority"]["access_key"])
    assert state["polls"] == 3 and state["accepted"] == 1


def test_not_authorized_ends_rejected_with_sri_messages(sri, issuer):
    key, issuer_id = issuer
    sri.sri("config", reject_next=[{"code": "52"}])
    with sri.client(key) as client:
        created = issue(client, document_body("invoice", issuer_id))
        done = wait_final(client, created["id"])
        for kind in ("pdf", "xml"):
            error = client.get(f"/v1/documents/{created['id']}/{kind}").json()["error"]
            assert (error["code"], error["status"]) == ("document_not_authorized", "rejected")
    assert done["status"] == "rejected"
    assert done["error"]["code"] == "amount_mismatch"
    assert [m["code"] for m in done["authority"]["messages"] if not m["warning"]] == ["52"]


def test_numbers_follow_each_other_per_series(local_stack, issuer):
    key, issuer_id = issuer
    with local_stack.client(key) as client:
        numbers = [issue(client, document_body("debit_note", issuer_id))["number"] for _ in range(3)]
    sequences = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert sequences == list(range(sequences[0], sequences[0] + 3))


def test_a_refused_purchase_settlement_uses_no_number(local_stack, issuer):
    """SRI's rules for a liquidación de compra are checked before numbering: the supplier must be
    identified and the lines carry VAT only."""
    key, issuer_id = issuer
    body = document_body("purchase_settlement", issuer_id)
    final_consumer = {**body, "customer": {"id_type": "final_consumer"}}
    with_ice = copy.deepcopy(body)
    with_ice["items"][0]["taxes"].append({"type": "ice", "code": "3031", "rate": "15"})
    with local_stack.client(key) as client:
        first = issue(client, body)["number"]
        refused = [client.post("/v1/documents", json=bad) for bad in (final_consumer, with_ice)]
        second = issue(client, body)["number"]
    assert [(r.status_code, r.json()["error"]["code"], r.json()["error"]["path"]) for r in refused] == [
        (422, "final_consumer_not_allowed", "customer.id_type"),
        (422, "tax_not_allowed", "items.0.taxes.1.type")]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1
