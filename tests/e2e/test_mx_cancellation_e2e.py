"""Mexico's cancellations end to end over HTTP against the local stack and its PAC simulator: a CFDI
cancelled with motive 02 (no acceptance needed: at most 1,000 MXN), one replaced by a substitute issued
with `substitutes` and cancelled with motive 01, and cancellations that wait for the receiver, who
accepts, rejects or lets the time pass (the simulator's knobs). Each ends with SAT's word for it in the
API, the acuse downloadable, the PDF marked when cancelled and the customer emailed the final state."""

from __future__ import annotations

import copy
import io
import time

import httpx
import pytest
from lxml import etree
from pypdf import PdfReader

from tests.e2e.conftest import LocalStack, issue, wait_final
from tests.e2e.test_mx_documents_e2e import download, mexico, pac  # noqa: F401 (fixtures)
from tests.helpers import load_event

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CFDI = "http://www.sat.gob.mx/cfd/4"
CUSTOMER_EMAIL = "compras@example.com"


def invoice(issuer_id: str, price: str | None = None, **changes) -> dict:
    """The sample invoice (about 36,000 MXN: the receiver must accept its cancellation), or one line at
    `price` (at most 1,000 MXN with VAT: no acceptance needed)."""
    body = copy.deepcopy(load_event("documents/create_invoice_mx.body.json"))
    body["issuer_id"] = issuer_id
    if price is not None:
        body["items"] = [{**body["items"][0], "unit_price": price}]
    return body | changes


def authorized(client: httpx.Client, body: dict) -> dict:
    document = wait_final(client, issue(client, body)["id"])
    assert document["status"] == "authorized", document
    return document


def cancel(client: httpx.Client, document_id: str, **body) -> dict:
    response = client.post(f"/v1/documents/{document_id}/cancel", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["cancellation"]["status"] == "pending"
    return response.json()


def wait_cancellation(client: httpx.Client, document_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        document = client.get(f"/v1/documents/{document_id}").json()
        if document["cancellation"]["status"] != "pending":
            return document
        if time.monotonic() > deadline:
            raise AssertionError(f"the cancellation of {document_id} is still pending after {timeout} s")
        time.sleep(0.25)


def sat_says(client: httpx.Client, document_id: str) -> tuple[str, str | None]:
    answer = client.get(f"/v1/documents/{document_id}/authority-status").json()
    return answer["status"], answer["cancellation_status"]


def pdf_text(client: httpx.Client, document_id: str) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download(client, document_id, "pdf"))).pages)


def final_email(local_stack: LocalStack, after: int) -> dict:
    return local_stack.mail_to(CUSTOMER_EMAIL, after=after, timeout=15)


def last_message(local_stack: LocalStack) -> int:
    return max((m["n"] for m in local_stack.outbox()), default=0)


def test_motive_02_without_acceptance_cancels_at_once(local_stack, mexico, pac):  # noqa: F811
    key, issuer_id = mexico
    with local_stack.client(key) as client:
        document = authorized(client, invoice(issuer_id, price="500.00"))
        assert sat_says(client, document["id"]) == ("Vigente", None)
        before = last_message(local_stack)

        cancel(client, document["id"], motive="02")
        done = wait_cancellation(client, document["id"])

        assert done["status"] == "authorized"
        assert done["cancellation"]["status"] == "accepted", done["cancellation"]
        assert done["cancellation"]["authority_status"] == "Cancelado sin aceptación"
        assert done["cancellation"]["receipt_available"] is True and done["cancellation"]["finished_at"]
        assert sat_says(client, document["id"]) == ("Cancelado", "Cancelado sin aceptación")
        acuse = etree.fromstring(download(client, document["id"], "cancellation-receipt"))
        assert acuse.findtext(".//{http://cancelacfd.sat.gob.mx}UUID") == document["authority"]["authorization_number"]
        assert acuse.findtext(".//{http://cancelacfd.sat.gob.mx}EstatusUUID") == "201"
        assert "CANCELADO" in pdf_text(client, document["id"])
        mail = final_email(local_stack, before)
        assert "Cancelado" in mail["subject"], mail["subject"]
        # A cancelled document is not cancelled twice.
        again = client.post(f"/v1/documents/{document['id']}/cancel", json={"motive": "02"})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "document_cancelled")


def test_a_substitute_issued_with_substitutes_then_motive_01(local_stack, mexico, pac):  # noqa: F811
    key, issuer_id = mexico
    pac("config", cancellation_acceptance="accept", cancellation_polls=1)
    with local_stack.client(key) as client:
        original = authorized(client, invoice(issuer_id))
        uuid = original["authority"]["authorization_number"]
        # Motive 01 needs a substitute that names this CFDI with TipoRelacion 04.
        refused = client.post(f"/v1/documents/{original['id']}/cancel", json={"motive": "01"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "substitute_required")
        replacement = authorized(client, invoice(issuer_id, substitutes=original["id"]))
        stamped = etree.fromstring(download(client, replacement["id"], "xml"))
        related = stamped.find(f"{{{CFDI}}}CfdiRelacionados")
        assert related.get("TipoRelacion") == "04"
        assert related.find(f"{{{CFDI}}}CfdiRelacionado").get("UUID") == uuid

        cancel(client, original["id"], motive="01", substitute=replacement["id"])
        done = wait_cancellation(client, original["id"])

        assert done["cancellation"]["status"] == "accepted", done["cancellation"]
        assert done["cancellation"]["authority_status"] == "Cancelado con aceptación"
        assert done["cancellation"]["substitute"] == replacement["id"]
        assert sat_says(client, original["id"])[0] == "Cancelado"
        assert sat_says(client, replacement["id"])[0] == "Vigente"
        state = pac("state")
        assert state["cancellations"][uuid]["substitute"] == replacement["authority"]["authorization_number"]


@pytest.mark.parametrize("acceptance, status, said", [
    ("accept", "accepted", "Cancelado con aceptación"),
    ("reject", "rejected", "Solicitud rechazada"),
    ("expire", "expired", "Plazo vencido"),
])
def test_the_receivers_answer_ends_the_cancellation(local_stack, mexico, pac, acceptance, status, said):  # noqa: F811
    key, issuer_id = mexico
    pac("config", cancellation_acceptance=acceptance, cancellation_polls=2)
    with local_stack.client(key) as client:
        document = authorized(client, invoice(issuer_id))
        before = last_message(local_stack)

        pending = cancel(client, document["id"], motive="03")
        assert pending["cancellation"]["motive"] == "03"
        done = wait_cancellation(client, document["id"])

        assert (done["cancellation"]["status"], done["cancellation"]["authority_status"]) == (status, said)
        cancelled = status != "rejected"
        assert sat_says(client, document["id"]) == ("Cancelado" if cancelled else "Vigente", said)
        assert ("CANCELADO" in pdf_text(client, document["id"])) is cancelled
        mail = final_email(local_stack, before)
        assert ("Cancelado" in mail["subject"]) is cancelled, mail["subject"]
        if not cancelled:
            assert done["cancellation"]["error"]["code"] == "cancellation_rejected_by_receiver"
            # The receiver said no: the issuer may ask again, and this time the receiver agrees.
            pac("config", cancellation_acceptance="accept", cancellation_polls=0)
            cancel(client, document["id"], motive="03")
            assert wait_cancellation(client, document["id"])["cancellation"]["status"] == "accepted"
