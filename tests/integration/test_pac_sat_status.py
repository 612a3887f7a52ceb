"""SAT's CFDI status service as the PAC simulator answers it (POST /ConsultaCFDIService.svc), asked by
Sello's own client (sello.countries.mx.sat_status) and by raw SOAP: the documents the simulator stamped
are Vigente with SAT's cancellation rule, anything else No Encontrado, a cancelled one Cancelado, and
its faults reach the client as AuthorityUnavailable.

The CFDIs are built and sealed as in test_pac_simulator (satcfdi, SAT's public test CSDs from the shared
fixtures: the tests skip with the reason when those are absent)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from lxml import etree

from local.pac.simulator import STATUS_PATH, PacSimulator
from sello.countries import AuthorityUnavailable
from sello.countries.mx.sat_status import SatStatusClient
from sello.settings import Settings
from tests.integration.test_pac_simulator import PUBLICO, Sw, build, concepto

CFDI = "http://www.sat.gob.mx/cfd/4"


@pytest.fixture(scope="module")
def simulator():
    with PacSimulator(accept_any_issuer=True) as sim:
        yield sim


@pytest.fixture
def pac(simulator):
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
def sw(pac):
    client = Sw(pac)
    yield client
    client.close()


@pytest.fixture
def sat(pac):
    client = SatStatusClient(Settings(sat_status_url=f"{pac.url}{STATUS_PATH}", sat_status_timeout_seconds=2))
    yield client
    client.close()


def stamped(sw: Sw, xml: bytes) -> tuple[str, str, str, str]:
    """(emisor RFC, receptor RFC, Total, UUID) of the document the simulator stamped, read from its XML."""
    response = sw.stamp(xml)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.json()["data"]["cfdi"].encode())
    emisor, receptor = root.find(f"{{{CFDI}}}Emisor"), root.find(f"{{{CFDI}}}Receptor")
    return emisor.get("Rfc"), receptor.get("Rfc"), root.get("Total"), response.json()["data"]["uuid"]


def test_a_stamped_invoice_over_1000_mxn_is_vigente_and_needs_acceptance(sw, sat):
    emisor, receptor, total, uuid = stamped(sw, build())
    assert Decimal(total) > 1000
    status = sat.consulta(emisor, receptor, total, uuid)
    assert status.estado == "Vigente" and status.found
    assert status.es_cancelable == "Cancelable con aceptación"
    assert status.estatus_cancelacion == ""
    assert status.codigo_estatus.startswith("S - ")
    assert status.validacion_efos == "200"


def test_a_total_up_to_1000_mxn_is_cancelable_without_acceptance(sw, sat):
    emisor, receptor, total, uuid = stamped(sw, build(conceptos=[concepto("500.00")]))
    assert Decimal(total) <= 1000
    assert sat.consulta(emisor, receptor, total, uuid).es_cancelable == "Cancelable sin aceptación"


def test_publico_en_general_is_cancelable_without_acceptance(sw, sat):
    emisor, receptor, total, uuid = stamped(sw, build(receptor=PUBLICO, conceptos=[concepto("5000.00")]))
    assert receptor == "XAXX010101000" and Decimal(total) > 1000
    assert sat.consulta(emisor, receptor, total, uuid).es_cancelable == "Cancelable sin aceptación"


def test_the_total_may_come_with_leading_zeros(sw, sat):
    emisor, receptor, total, uuid = stamped(sw, build())
    padded = f"{Decimal(total):020.6f}"
    assert sat.consulta(emisor, receptor, padded, uuid.lower()).estado == "Vigente"


@pytest.mark.parametrize("change", ["uuid", "emisor", "receptor", "total"])
def test_anything_else_is_not_found(sw, sat, change):
    emisor, receptor, total, uuid = stamped(sw, build())
    asked = {"emisor": emisor, "receptor": receptor, "total": total, "uuid": uuid}
    asked[change] = {"uuid": "00000000-0000-4000-8000-000000000000", "emisor": "AAA010101AAA",
                     "receptor": "XEXX010101000", "total": str(Decimal(total) + Decimal("0.01"))}[change]
    status = sat.consulta(asked["emisor"], asked["receptor"], asked["total"], asked["uuid"])
    assert status.estado == "No Encontrado" and not status.found
    assert status.codigo_estatus.startswith("N - 602")
    assert status.es_cancelable == ""


def test_a_cancelled_document_is_cancelado(sw, sat, pac):
    emisor, receptor, total, uuid = stamped(sw, build())
    pac.cancel(uuid)
    status = sat.consulta(emisor, receptor, total, uuid)
    assert (status.estado, status.es_cancelable, status.estatus_cancelacion) == (
        "Cancelado", "No cancelable", "Cancelado sin aceptación")


def test_the_answer_has_sats_soap_shape(pac, sw):
    emisor, receptor, total, uuid = stamped(sw, build())
    body = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://tempuri.org/">'
            f'<s:Body><t:Consulta><t:expresionImpresa>?re={emisor}&amp;rr={receptor}&amp;tt={total}&amp;id={uuid}'
            f'</t:expresionImpresa></t:Consulta></s:Body></s:Envelope>')
    answer = httpx.post(f"{pac.url}{STATUS_PATH}", content=body, trust_env=False,
                        headers={"Content-Type": "text/xml; charset=utf-8",
                                 "SOAPAction": '"http://tempuri.org/IConsultaCFDIService/Consulta"'})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(answer.content)
    contract = "http://schemas.datacontract.org/2004/07/Sat.Cfdi.Negocio.ConsultaCfdi.Servicio"
    result = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/{http://tempuri.org/}ConsultaResponse/"
                       "{http://tempuri.org/}ConsultaResult")
    assert result is not None
    assert result.find(f"{{{contract}}}Estado").text == "Vigente"
    nil = result.find(f"{{{contract}}}EstatusCancelacion")
    assert nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_a_request_that_is_not_a_consulta_is_a_soap_fault(pac):
    answer = httpx.post(f"{pac.url}{STATUS_PATH}", content=b"<nope/>", trust_env=False,
                        headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500
    assert etree.fromstring(answer.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None


def test_an_injected_fault_reaches_the_client_as_unavailable(sw, sat, pac):
    emisor, receptor, total, uuid = stamped(sw, build())
    pac.fail_next(1, "http_503", service="status")
    with pytest.raises(AuthorityUnavailable):
        sat.consulta(emisor, receptor, total, uuid)
    assert sat.consulta(emisor, receptor, total, uuid).estado == "Vigente"
    assert pac.requests("status") == 2



def test_an_rfc_with_an_ampersand_is_read_whole():
    from local.pac import sat_status

    body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://tempuri.org/">'
            '<s:Body><t:Consulta><t:expresionImpresa>?re=A&amp;C010101AB1&amp;rr=XAXX010101000&amp;tt=10.00'
            '&amp;id=5FB2822E-396D-4725-8521-CDC4BDD20CCF</t:expresionImpresa></t:Consulta></s:Body></s:Envelope>')
    assert sat_status.read_request(body.encode()) == {"re": "A&C010101AB1", "rr": "XAXX010101000", "tt": "10.00",
                                                      "id": "5FB2822E-396D-4725-8521-CDC4BDD20CCF"}
