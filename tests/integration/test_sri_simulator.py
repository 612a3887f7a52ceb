"""The SRI client against the SRI simulator over HTTP on 127.0.0.1: SRI's validations (duplicates,
reused secuencial, clave, signature, XSD, sums), the course of a document through autorización, the
injected faults, and the admin endpoints."""

from __future__ import annotations

import copy
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal as D

import httpx
import pytest
from lxml import etree

from local.certs import make_certificate, rsa_key
from local.sri.simulator import MAX_DOCUMENT_BYTES, SriSimulator
from sello.countries import AuthorityUnavailable
from sello.countries.ec import clave as claves
from sello.countries.ec import documents, xades
from sello.countries.ec import xml as sri_xml
from sello.countries.ec.issuer_flags import RIMPE_LEGENDS
from sello.countries.ec.sri import SriClient
from sello.models.document_request import CreateDocumentRequest
from sello.settings import Settings
from tests.conftest import DATA, needs_data
from tests.ec_fixtures import make_issuer
from tests.helpers import load_event

RUC = "1799999990001"
ISSUED = date(2026, 3, 5)
CLIENT_TIMEOUT = 1.0
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def factura(sequence: int = 1, numeric_code: str = "12345678", *, ambiente: str = "1",
            clave: str | None = None, buyer: str = "CONSUMIDOR FINAL",
            rimpe: str | None = None) -> tuple[str, bytes]:
    """(clave, unsigned XML) of a small factura 1.1.0 that is valid against SRI's schema (with the
    contribuyenteRimpe legend `rimpe` when given)."""
    legend = f"<contribuyenteRimpe>{rimpe}</contribuyenteRimpe>" if rimpe else ""
    clave = clave or claves.access_key(ISSUED, "01", RUC, ambiente, "001001", sequence, numeric_code)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><factura id="comprobante" version="1.1.0"><infoTributaria>'
        f"<ambiente>{ambiente}</ambiente><tipoEmision>1</tipoEmision>"
        f"<razonSocial>Comercial Demo S.A.</razonSocial><ruc>{RUC}</ruc><claveAcceso>{clave}</claveAcceso>"
        f"<codDoc>01</codDoc><estab>001</estab><ptoEmi>001</ptoEmi><secuencial>{sequence:09d}</secuencial>"
        f"<dirMatriz>Quito</dirMatriz>{legend}</infoTributaria>"
        f"<infoFactura><fechaEmision>{ISSUED:%d/%m/%Y}</fechaEmision>"
        "<tipoIdentificacionComprador>07</tipoIdentificacionComprador>"
        f"<razonSocialComprador>{buyer}</razonSocialComprador>"
        "<identificacionComprador>9999999999999</identificacionComprador>"
        "<totalSinImpuestos>10.00</totalSinImpuestos>"
        "<totalDescuento>0.00</totalDescuento><totalConImpuestos><totalImpuesto><codigo>2</codigo>"
        "<codigoPorcentaje>4</codigoPorcentaje><baseImponible>10.00</baseImponible><valor>1.50</valor>"
        "</totalImpuesto></totalConImpuestos><propina>0.00</propina><importeTotal>11.50</importeTotal>"
        "<moneda>DOLAR</moneda><pagos><pago><formaPago>01</formaPago><total>11.50</total></pago></pagos>"
        "</infoFactura><detalles><detalle><codigoPrincipal>CAF-1</codigoPrincipal>"
        "<descripcion>Café de Loja, ñ</descripcion><cantidad>1</cantidad>"
        "<precioUnitario>10.00</precioUnitario><descuento>0.00</descuento>"
        "<precioTotalSinImpuesto>10.00</precioTotalSinImpuesto><impuestos><impuesto><codigo>2</codigo>"
        "<codigoPorcentaje>4</codigoPorcentaje><tarifa>15</tarifa><baseImponible>10.00</baseImponible>"
        "<valor>1.50</valor></impuesto></impuestos></detalle></detalles></factura>"
    )
    return clave, xml.encode()


@pytest.fixture(scope="module")
def signer():
    key = rsa_key(1)
    cert = make_certificate(key, ruc=RUC)
    return lambda xml: xades.sign(xml, key, cert)


@pytest.fixture(scope="module")
def simulator():
    with SriSimulator() as sim:
        yield sim


@pytest.fixture
def sri(simulator):
    simulator.reset()
    yield simulator
    simulator.reset()


def client_for(sim: SriSimulator, timeout: float = CLIENT_TIMEOUT) -> SriClient:
    return SriClient(Settings(sri_test_url=sim.url, sri_live_url=sim.url, sri_timeout_seconds=timeout))


@pytest.fixture
def client(sri):
    with client_for(sri) as c:
        yield c


@pytest.fixture
def admin(sri):
    with httpx.Client(base_url=sri.url.removesuffix("/comprobantes-electronicos-ws") + "/_sim/sri",
                      trust_env=False, timeout=5) as http:
        yield http


def raw_reception(sim: SriSimulator, argument: str) -> httpx.Response:
    body = (f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:ec="http://ec.gob.sri.ws.recepcion">'
            f"<soapenv:Body><ec:validarComprobante><xml>{argument}</xml></ec:validarComprobante>"
            "</soapenv:Body></soapenv:Envelope>")
    return httpx.post(f"{sim.url}/RecepcionComprobantesOffline", content=body, trust_env=False,
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})


# -- the course of a document ----------------------------------------------------------------------

def test_a_signed_factura_is_received_processed_and_authorized(sri, client, signer):
    sri.processing_polls = 2
    clave, xml = factura()
    signed = signer(xml)

    assert client.submit(signed, "test").status == "received"
    assert [client.authorize(clave, "test").status for _ in range(2)] == ["processing", "processing"]
    outcome = client.authorize(clave, "test")

    assert outcome.status == "authorized"
    assert outcome.number == clave
    assert outcome.authorized_at.endswith("-05:00")
    assert [(m.code, m.warning) for m in outcome.messages] == [("60", True)]
    record = etree.fromstring(outcome.document)
    assert record.findtext("ambiente") == "PRUEBAS"
    assert record.findtext("comprobante").encode() == signed  # exactly what was sent
    assert (sri.submissions(clave), sri.accepted(clave), sri.polls(clave)) == (1, 1, 3)
    # a decided document keeps its answer
    assert client.authorize(clave, "test").document == outcome.document


def test_producción_documents_carry_no_test_warning(client, signer):
    clave, xml = factura(ambiente="2")
    assert client.submit(signer(xml), "live").status == "received"
    outcome = client.authorize(clave, "live")
    assert outcome.status == "authorized" and outcome.messages == ()
    assert etree.fromstring(outcome.document).findtext("ambiente") == "PRODUCCION"


def test_an_unknown_clave_is_unknown(client):
    assert client.authorize(factura(sequence=77)[0], "test").status == "unknown"


def test_a_clave_sent_twice_is_43_and_received_once(sri, client, signer):
    clave, xml = factura()
    signed = signer(xml)
    assert client.submit(signed, "test").status == "received"
    again = client.submit(signed, "test")
    assert again.status == "received"
    assert [m.code for m in again.messages] == ["43"]
    assert (sri.submissions(clave), sri.accepted(clave)) == (2, 1)


def test_concurrent_copies_of_a_document_are_received_once(sri, signer):
    clave, xml = factura()
    signed = signer(xml)
    with client_for(sri, timeout=10) as shared, ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda _: shared.submit(signed, "test"), range(20)))
    assert {o.status for o in outcomes} == {"received"}
    assert sorted(tuple(m.code for m in o.messages) for o in outcomes) == [()] + [("43",)] * 19
    assert (sri.submissions(clave), sri.accepted(clave)) == (20, 1)


def test_a_secuencial_reused_under_another_clave_is_45(sri, client, signer):
    first, xml = factura(sequence=5, numeric_code="11111111")
    assert client.submit(signer(xml), "test").status == "received"
    second, xml = factura(sequence=5, numeric_code="22222222")
    outcome = client.submit(signer(xml), "test")
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["45"]
    assert first in outcome.messages[0].detail
    assert sri.accepted(second) == 0


def test_a_broken_signature_is_received_then_not_authorized_39(sri, client, signer):
    clave, xml = factura()
    tampered = signer(xml).replace(b"CONSUMIDOR FINAL", b"CONSUMIDOR FINAL.")
    assert client.submit(tampered, "test").status == "received"  # recepción does not check signatures
    outcome = client.authorize(clave, "test")
    assert outcome.status == "rejected"
    assert [(m.code, m.message) for m in outcome.messages] == [("39", "FIRMA INVALIDA")]
    assert outcome.messages[0].detail


def test_an_unsigned_document_is_not_authorized_39(client):
    clave, xml = factura()
    assert client.submit(xml, "test").status == "received"
    assert [m.code for m in client.authorize(clave, "test").messages] == ["39"]


def test_a_clave_that_disagrees_with_the_document_is_not_authorized_58(client, signer):
    clave = claves.access_key(ISSUED, "01", RUC, "1", "001001", 9, "12345678")
    _, xml = factura(sequence=8, clave=clave)  # the XML says secuencial 8, the clave 9
    assert client.submit(signer(xml), "test").status == "received"
    outcome = client.authorize(clave, "test")
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["58"]
    assert "secuencial" in outcome.messages[0].detail


def test_a_clave_with_a_wrong_check_digit_is_35(sri, client, signer):
    good, _ = factura()
    bad = good[:48] + str((int(good[48]) + 1) % 10)
    _, xml = factura(clave=bad)
    outcome = client.submit(signer(xml), "test")
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["35"]
    assert sri.submissions(bad) == 1 and sri.accepted(bad) == 0


def test_a_rejected_document_sent_again_is_authorized_and_both_answers_come_back(sri, client, signer):
    sri.reject_next("52", detail="totalSinImpuestos")
    clave, xml = factura()
    signed = signer(xml)
    assert client.submit(signed, "test").status == "received"
    rejected = client.authorize(clave, "test")
    assert rejected.status == "rejected"
    assert [(m.code, m.message, m.detail) for m in rejected.messages] == [
        ("52", "ERROR EN DIFERENCIAS", "totalSinImpuestos")]

    assert client.submit(signed, "test").status == "received"  # SRI takes the same clave again
    outcome = client.authorize(clave, "test")
    assert outcome.status == "authorized"
    assert sri.accepted(clave) == 2
    answer = httpx.post(f"{sri.url}/AutorizacionComprobantesOffline", trust_env=False, content=(
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body>'
        '<a:autorizacionComprobante xmlns:a="http://ec.gob.sri.ws.autorizacion">'
        f"<claveAccesoComprobante>{clave}</claveAccesoComprobante></a:autorizacionComprobante>"
        "</s:Body></s:Envelope>"))
    states = [e.text for e in etree.fromstring(answer.content).iter("estado")]
    assert states == ["AUTORIZADO", "NO AUTORIZADO"]


# A line: (precioTotalSinImpuesto, [(codigo, codigoPorcentaje, tarifa, baseImponible, valor), …]); a
# header tax: (codigo, codigoPorcentaje, baseImponible, valor).
Line = tuple[str, list[tuple[str, str, str, str, str]]]
Header = list[tuple[str, str, str, str]]


def taxed_factura(sequence: int, lines: list[Line], header: Header) -> tuple[str, bytes]:
    """factura() with these lines and header taxes; totalSinImpuestos, importeTotal and the payment
    are the sums of what is given, so only the taxes can disagree."""
    clave, xml = factura(sequence=sequence)
    root = etree.fromstring(xml)
    info, detalles = root.find("infoFactura"), root.find("detalles")
    subtotal = sum(D(amount) for amount, _ in lines)
    total = subtotal + sum(D(value) for *_, value in header)
    info.find("totalSinImpuestos").text = f"{subtotal:.2f}"
    info.find("importeTotal").text = info.find("pagos/pago/total").text = f"{total:.2f}"
    totals = info.find("totalConImpuestos")
    totals.clear()
    for codigo, porcentaje, base, value in header:
        tax = etree.SubElement(totals, "totalImpuesto")
        for name, text in (("codigo", codigo), ("codigoPorcentaje", porcentaje), ("baseImponible", base),
                           ("valor", value)):
            etree.SubElement(tax, name).text = text
    template = detalles[0]
    detalles.clear()
    for amount, taxes in lines:
        detalle = copy.deepcopy(template)
        detalle.find("precioUnitario").text = detalle.find("precioTotalSinImpuesto").text = amount
        impuestos = detalle.find("impuestos")
        impuestos.clear()
        for values in taxes:
            tax = etree.SubElement(impuestos, "impuesto")
            for name, text in zip(("codigo", "codigoPorcentaje", "tarifa", "baseImponible", "valor"), values,
                                  strict=True):
                etree.SubElement(tax, name).text = text
        detalles.append(detalle)
    return clave, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def vat15(base: str, value: str) -> tuple[str, str, str, str, str]:
    return ("2", "4", "15", base, value)


# 0.30 at 15 % is 0.045 -> 0.05, shared out over three lines of 0.10 (0.015 each).
DIMES = [("0.10", [vat15("0.10", value)]) for value in ("0.02", "0.02", "0.01")]


@pytest.mark.parametrize(("lines", "header", "complaint"), [
    # Each line rounded on its own (0.015 -> 0.02): the header adds them up to 0.06, but 0.30 × 15 % is
    # 0.045 -> 0.05.
    ([("0.10", [vat15("0.10", "0.02")])] * 3, [("2", "4", "0.30", "0.06")], "redondeado 0.05"),
    # The header is 0.05, but the lines still add up to 0.06.
    ([("0.10", [vat15("0.10", "0.02")])] * 3, [("2", "4", "0.30", "0.05")], "suma de los detalles 0.06"),
    # Both sums hold, but one line is two cents away from its own 10.00 × 15 %.
    ([("10.00", [vat15("10.00", "1.48")]), ("10.00", [vat15("10.00", "1.52")])],
     [("2", "4", "20.00", "3.00")], "detalle 1"),
    # The header base is not the sum of the lines' bases.
    (DIMES, [("2", "4", "0.31", "0.05")], "baseImponible 0.31"),
    # ICE is part of the VAT base: 100.00 + ICE 15.00 = 115.00, not 100.00.
    ([("100.00", [("3", "3031", "15", "100.00", "15.00"), vat15("100.00", "15.00")])],
     [("3", "3031", "100.00", "15.00"), ("2", "4", "100.00", "15.00")], "más ICE 115.00"),
], ids=["lines_rounded_one_by_one", "lines_do_not_add_up", "line_off_by_two_cents", "header_base",
        "ice_left_out_of_the_vat_base"])
def test_sums_that_do_not_add_up_are_not_authorized_52(sri, client, signer, lines, header, complaint):
    clave, xml = taxed_factura(1, lines, header)
    assert client.submit(signer(xml), "test").status == "received"
    outcome = client.authorize(clave, "test")
    assert outcome.status == "rejected"
    assert [(m.code, m.message) for m in outcome.messages] == [("52", "ERROR EN DIFERENCIAS")]
    assert complaint in outcome.messages[0].detail


def test_a_tax_rounded_once_and_shared_out_over_the_lines_is_authorized(sri, client, signer):
    ice_line = ("100.00", [("3", "3031", "15", "100.00", "15.00"), vat15("115.00", "17.25")])
    clave, xml = taxed_factura(1, [*DIMES, ice_line],
                               [("2", "4", "115.30", "17.30"), ("3", "3031", "100.00", "15.00")])
    assert client.submit(signer(xml), "test").status == "received"
    assert client.authorize(clave, "test").status == "authorized"


# -- malformed input -------------------------------------------------------------------------------

def test_an_argument_that_is_not_base64_is_35(sri):
    answer = etree.fromstring(raw_reception(sri, "this is not base64!").content)
    assert answer.findtext(".//estado") == "DEVUELTA"
    assert answer.findtext(".//identificador") == "35"


def test_a_comprobante_over_320_kb_is_26_and_one_of_exactly_320_kb_is_received(sri, client, signer):
    # The signature's size does not depend on the text signed, so the buyer's name sets the size.
    base = len(signer(factura(buyer="X")[1])) - 1
    room = MAX_DOCUMENT_BYTES - base
    assert MAX_DOCUMENT_BYTES == 320_000
    clave, xml = factura(1, buyer="X" * room)
    signed = signer(xml)
    assert len(signed) == 320_000
    assert client.submit(signed, "test").status == "received"

    clave, xml = factura(2, buyer="X" * (room + 1))
    outcome = client.submit(signer(xml), "test")
    assert outcome.status == "rejected"
    assert [(m.code, m.message) for m in outcome.messages] == [("26", "TAMAÑO MÁXIMO SUPERADO")]
    assert "320001" in outcome.messages[0].detail
    assert sri.accepted(clave) == 0


def test_an_empty_argument_is_49(sri):
    answer = etree.fromstring(raw_reception(sri, "").content)
    assert answer.findtext(".//identificador") == "49"


def test_a_document_that_is_not_xml_is_35(client):
    outcome = client.submit(b"<factura><unclosed>", "test")
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["35"]


def test_an_envelope_that_is_not_soap_gets_a_fault(sri):
    response = httpx.post(f"{sri.url}/RecepcionComprobantesOffline", content=b"nonsense", trust_env=False)
    assert response.status_code == 500
    assert etree.fromstring(response.content).find(f".//{{{SOAP}}}Fault") is not None


def test_the_wsdl_describes_the_service(sri):
    response = httpx.get(f"{sri.url}/RecepcionComprobantesOffline?wsdl", trust_env=False)
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == f"{sri.url}/RecepcionComprobantesOffline"


@needs_data("ec", "xsd")
def test_a_document_against_the_schema_is_35_with_lxmls_message(client, signer):
    with SriSimulator(xsd_dir=str(DATA / "ec" / "xsd")) as strict, client_for(strict) as strict_client:
        clave, xml = factura()
        assert strict_client.submit(signer(xml), "test").status == "received"  # valid, signed
        _, invalid = factura(sequence=2, buyer="<x/>")
        outcome = strict_client.submit(signer(invalid), "test")
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["35"]
    assert "razonSocialComprador" in outcome.messages[0].detail


@needs_data("ec", "xsd")
def test_both_rimpe_legends_pass_the_schema_and_no_other_does(client, signer):
    # SRI's published XSD has only the first legend; SRI authorizes both (ficha técnica, Anexo 22).
    with SriSimulator(xsd_dir=str(DATA / "ec" / "xsd")) as strict, client_for(strict) as strict_client:
        outcomes = {}
        for sequence, legend in enumerate([*RIMPE_LEGENDS.values(), "CONTRIBUYENTE RÉGIMEN GENERAL",
                                           "contribuyente régimen rimpe"], start=1):
            clave, xml = factura(sequence=sequence, rimpe=legend)
            outcome = strict_client.submit(signer(xml), "test")
            outcomes[legend] = [m.code for m in outcome.messages]
            if outcome.status == "received":
                outcomes[legend] = strict_client.authorize(clave, "test").status
    assert outcomes == {
        "CONTRIBUYENTE RÉGIMEN RIMPE": "authorized",
        "CONTRIBUYENTE NEGOCIO POPULAR - RÉGIMEN RIMPE": "authorized",
        "CONTRIBUYENTE RÉGIMEN GENERAL": ["35"],
        "contribuyente régimen rimpe": ["35"],
    }


@needs_data("ec", "xsd")
def test_a_purchase_settlement_built_by_sello_is_received_and_authorized(signer):
    """codDoc 03: a liquidacionCompra 1.1.0 as the signing task builds it passes the simulator's
    schema, clave and signature checks and is authorized with its own clave."""
    body = load_event("documents/create_purchase_settlement.body.json")
    request = CreateDocumentRequest.model_validate(body)
    prepared = documents.prepare(request, make_issuer(), "test", datetime(2026, 3, 5, 15, tzinfo=UTC))
    numbered = documents.number(prepared, 1, "doc_settlement", "test")
    unsigned = sri_xml.build(prepared.content, number=numbered.number, access_key=numbered.access_key,
                             environment="test")
    with SriSimulator(xsd_dir=str(DATA / "ec" / "xsd")) as strict, client_for(strict) as strict_client:
        assert strict_client.submit(signer(unsigned), "test").status == "received"
        outcome = strict_client.authorize(numbered.access_key, "test")
    assert outcome.status == "authorized", outcome.messages
    assert claves.parse(outcome.number)["doc_code"] == "03"
    comprobante = etree.fromstring(etree.fromstring(outcome.document).findtext("comprobante").encode())
    assert (comprobante.tag, comprobante.findtext("infoTributaria/codDoc")) == ("liquidacionCompra", "03")


# -- faults ----------------------------------------------------------------------------------------

def test_http_503_then_success_and_nothing_received_twice(sri, client, signer):
    sri.fail_next(2, "http_503", "reception")
    clave, xml = factura()
    signed = signer(xml)
    for _ in range(2):
        with pytest.raises(AuthorityUnavailable, match="503"):
            client.submit(signed, "test")
    assert client.submit(signed, "test").status == "received"
    assert (sri.submissions(clave), sri.accepted(clave)) == (1, 1)


def test_a_timeout_is_temporary_and_ends_when_the_client_gives_up(sri, client, signer):
    sri.fail_next(1, "timeout")
    clave, xml = factura()
    started = time.monotonic()
    with pytest.raises(AuthorityUnavailable, match="in time"):
        client.submit(signer(xml), "test")
    assert time.monotonic() - started < CLIENT_TIMEOUT + 2
    assert sri.submissions(clave) == 0  # held before anything was read
    deadline = time.monotonic() + 2  # the simulator lets go once the client has closed the connection
    while sri.state()["held"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sri.state()["held"] == 0
    assert client.submit(signer(xml), "test").status == "received"


def test_a_lost_answer_is_retried_into_43_and_the_document_is_received_once(sri, client, signer):
    sri.fail_next(1, "lost_response", "reception")
    clave, xml = factura()
    signed = signer(xml)
    with pytest.raises(AuthorityUnavailable):
        client.submit(signed, "test")
    retried = client.submit(signed, "test")
    assert retried.status == "received" and [m.code for m in retried.messages] == ["43"]
    assert (sri.submissions(clave), sri.accepted(clave)) == (2, 1)
    assert client.authorize(clave, "test").status == "authorized"


def test_error_50_on_either_service_is_temporary(sri, client, signer):
    sri.fail_next(2, "error_50")
    clave, xml = factura()
    signed = signer(xml)
    with pytest.raises(AuthorityUnavailable, match="50"):
        client.submit(signed, "test")
    with pytest.raises(AuthorityUnavailable, match="ERROR INTERNO GENERAL"):
        client.authorize(clave, "test")
    assert sri.accepted(clave) == 0
    assert client.submit(signed, "test").status == "received"
    assert client.authorize(clave, "test").status == "authorized"


def test_faults_aimed_at_one_service_leave_the_other_alone(sri, client, signer):
    sri.fail_next(1, "http_503", "authorization")
    clave, xml = factura()
    assert client.submit(signer(xml), "test").status == "received"
    with pytest.raises(AuthorityUnavailable, match="503"):
        client.authorize(clave, "test")
    assert client.authorize(clave, "test").status == "authorized"


def test_stop_ends_a_held_connection_promptly(signer):
    sim = SriSimulator().start()
    sim.fail_next(1, "timeout")
    failures = []

    def call() -> None:
        try:
            client_for(sim, timeout=30).submit(signer(factura()[1]), "test")
        except AuthorityUnavailable as exc:
            failures.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    sim.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(failures) == 1
    assert time.monotonic() - started < 2


# -- admin endpoints -------------------------------------------------------------------------------

def test_faults_and_polls_set_over_http(sri, client, admin, signer):
    response = admin.post("/config", json={"processing_polls": 1, "faults": [
        {"kind": "http_503", "count": 2, "service": "authorization"}]})
    assert response.status_code == 200
    assert response.json()["faults"] == [{"service": "authorization", "kind": "http_503"}] * 2

    clave, xml = factura()
    assert client.submit(signer(xml), "test").status == "received"
    for _ in range(2):
        with pytest.raises(AuthorityUnavailable):
            client.authorize(clave, "test")
    assert client.authorize(clave, "test").status == "processing"
    assert client.authorize(clave, "test").status == "authorized"

    state = admin.get("/state").json()
    # the two failed polls count as requests, not as polls of the document (they never got that far)
    assert state["documents"][clave] == {"status": "authorized", "submissions": 1, "accepted": 1, "polls": 2,
                                         "messages": ["60"]}
    assert state["requests"] == {"reception": 1, "authorization": 4}
    assert state["faults"] == []


def test_rejections_queued_over_http(sri, client, admin, signer):
    assert admin.post("/config", json={"reject_next": [{"code": "56", "message": "ESTABLECIMIENTO CERRADO"}]}
                      ).status_code == 200
    clave, xml = factura()
    client.submit(signer(xml), "test")
    outcome = client.authorize(clave, "test")
    assert outcome.status == "rejected"
    assert [(m.code, m.message) for m in outcome.messages] == [("56", "ESTABLECIMIENTO CERRADO")]
    assert admin.get("/state").json()["documents"][clave]["status"] == "not_authorized"


@pytest.mark.parametrize("config", [
    {"processing_polls": -1}, {"processing_polls": "2"}, {"hold_seconds": 0}, {"speed": 1},
    {"faults": [{"kind": "explode"}]}, {"faults": [{"kind": "timeout", "service": "consulta"}]},
    {"faults": {"kind": "timeout"}}, {"reject_next": [{"code": 52}]}, [],
])
def test_bad_configuration_is_refused_and_changes_nothing(sri, admin, config):
    before = admin.get("/state").json()
    response = admin.post("/config", json=config)
    assert response.status_code == 400 and response.json()["error"]
    assert admin.get("/state").json() == before


def test_reset_over_http_forgets_everything(sri, client, admin, signer):
    sri.processing_polls = 3
    sri.fail_next(1, "timeout", "authorization")
    clave, xml = factura()
    client.submit(signer(xml), "test")
    state = admin.post("/reset").json()
    assert state["documents"] == {} and state["faults"] == [] and state["processing_polls"] == 0
    assert client.authorize(clave, "test").status == "unknown"  # forgotten
