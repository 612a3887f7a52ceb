"""The client of SAT's CFDI status service against a small HTTP server in this module that answers with
SAT's SOAP shapes (as the spec and SAT's published answers have them: ConsultaResponse/ConsultaResult,
fields in the data-contract namespace, empty ones as i:nil): what the client sends, how each answer
reads, and which failures are AuthorityUnavailable."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.countries.mx.sat_status import SatStatusClient, expresion_impresa
from sello.settings import Settings

UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"

VIGENTE = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    '<ConsultaResponse xmlns="http://tempuri.org/"><ConsultaResult '
    'xmlns:a="http://schemas.datacontract.org/2004/07/Sat.Cfdi.Negocio.ConsultaCfdi.Servicio" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
    '<a:CodigoEstatus>S - Comprobante obtenido satisfactoriamente.</a:CodigoEstatus>'
    '<a:EsCancelable>Cancelable con aceptación</a:EsCancelable><a:Estado>Vigente</a:Estado>'
    '<a:EstatusCancelacion i:nil="true"/><a:ValidacionEFOS>200</a:ValidacionEFOS>'
    '</ConsultaResult></ConsultaResponse></s:Body></s:Envelope>')
CANCELADO = VIGENTE.replace("Cancelable con aceptación", "No cancelable").replace(
    ">Vigente<", ">Cancelado<").replace('<a:EstatusCancelacion i:nil="true"/>',
                                        "<a:EstatusCancelacion>Cancelado con aceptación</a:EstatusCancelacion>")
NO_ENCONTRADO = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    '<ConsultaResponse xmlns="http://tempuri.org/"><ConsultaResult '
    'xmlns:a="http://schemas.datacontract.org/2004/07/Sat.Cfdi.Negocio.ConsultaCfdi.Servicio" '
    'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
    '<a:CodigoEstatus>N - 602: Comprobante no encontrado.</a:CodigoEstatus><a:EsCancelable/>'
    '<a:Estado>No Encontrado</a:Estado><a:EstatusCancelacion/><a:ValidacionEFOS/>'
    '</ConsultaResult></ConsultaResponse></s:Body></s:Envelope>')
FAULT = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
         '<faultcode>s:Server</faultcode><faultstring>Error interno</faultstring></s:Fault></s:Body></s:Envelope>')


class FakeSat:
    """Answers each POST with the next of `answers` ((status, body) or "slow"), recording the requests."""

    def __init__(self):
        self.answers: list = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                answer = fake.answers.pop(0) if fake.answers else (200, VIGENTE)
                if answer == "slow":
                    time.sleep(1.5)
                    answer = (200, VIGENTE)
                status, text = answer
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ConsultaCFDIService.svc"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def client(self, **overrides) -> SatStatusClient:
        return SatStatusClient(Settings(sat_status_url=self.url, **overrides))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sat():
    fake = FakeSat()
    yield fake
    fake.close()


def test_sends_a_soap_consulta_with_the_escaped_expresion_impresa(sat):
    sat.client().consulta("EKU9003173C9", "XIA190128J61", "1160.00", UUID.lower(), "abcdefghXYZ12345")
    path, headers, body = sat.requests[0]
    assert path == "/ConsultaCFDIService.svc"
    assert headers["soapaction"].strip('"') == "http://tempuri.org/IConsultaCFDIService/Consulta"
    assert headers["content-type"].startswith("text/xml")
    assert b"&amp;rr=" in body  # the ampersands travel escaped, as XML text
    root = etree.fromstring(body)
    ns = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "t": "http://tempuri.org/"}
    expresion = root.find("s:Body/t:Consulta/t:expresionImpresa", ns).text
    assert expresion == f"?re=EKU9003173C9&rr=XIA190128J61&tt=1160.00&id={UUID}&fe=XYZ12345"


def test_expresion_without_sello_has_no_fe():
    assert expresion_impresa("A", "B", "1.00", "u") == "?re=A&rr=B&tt=1.00&id=U"


def test_reads_a_vigente_answer(sat):
    status = sat.client().consulta("EKU9003173C9", "XIA190128J61", "1160.00", UUID)
    assert status.found
    assert (status.estado, status.es_cancelable, status.estatus_cancelacion, status.validacion_efos) == (
        "Vigente", "Cancelable con aceptación", "", "200")
    assert status.codigo_estatus.startswith("S - ")


def test_reads_a_cancelled_answer(sat):
    sat.answers.append((200, CANCELADO))
    status = sat.client().consulta("EKU9003173C9", "XIA190128J61", "1160.00", UUID)
    assert (status.estado, status.es_cancelable, status.estatus_cancelacion) == (
        "Cancelado", "No cancelable", "Cancelado con aceptación")


def test_reads_not_found(sat):
    sat.answers.append((200, NO_ENCONTRADO))
    status = sat.client().consulta("EKU9003173C9", "XIA190128J61", "1160.00", UUID)
    assert not status.found
    assert status.estado == "No Encontrado"
    assert status.codigo_estatus.startswith("N - 602")
    assert status.es_cancelable == "" and status.validacion_efos == ""


def test_reads_the_fields_whatever_their_prefix(sat):
    sat.answers.append((200, VIGENTE.replace("a:", "b:").replace("xmlns:a=", "xmlns:b=")))
    assert sat.client().consulta("EKU9003173C9", "XIA190128J61", "1.00", UUID).estado == "Vigente"


@pytest.mark.parametrize("answer", [(500, FAULT), (503, "Service Unavailable"), (429, ""),
                                    (200, "<html>mantenimiento</html>"), (200, "not xml"), (404, "Not Found"),
                                    (200, FAULT)])
def test_failures_are_authority_unavailable(sat, answer):
    sat.answers.append(answer)
    with pytest.raises(AuthorityUnavailable):
        sat.client().consulta("EKU9003173C9", "XIA190128J61", "1.00", UUID)


def test_timeout_is_authority_unavailable(sat):
    sat.answers.append("slow")
    started = time.monotonic()
    with pytest.raises(AuthorityUnavailable, match="in time"):
        sat.client(sat_status_timeout_seconds=0.3).consulta("EKU9003173C9", "XIA190128J61", "1.00", UUID)
    assert time.monotonic() - started < 1.4


def test_unreachable_is_authority_unavailable():
    client = SatStatusClient(Settings(sat_status_url="http://127.0.0.1:9/ConsultaCFDIService.svc"))
    with pytest.raises(AuthorityUnavailable):
        client.consulta("EKU9003173C9", "XIA190128J61", "1.00", UUID)


def test_default_url_is_sats():
    assert Settings().sat_status_url == ("https://consultaqr.facturaelectronica.sat.gob.mx/"
                                         "ConsultaCFDIService.svc")
