"""The SRI SOAP client against canned answers shaped like SRI's (httpx.MockTransport): the requests it
sends, and how each recepción and autorización answer maps to an outcome or to AuthorityUnavailable."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage
from sello.countries.ec.sri import SriClient
from sello.settings import Settings

TEST_URL = "https://pruebas.example/comprobantes-electronicos-ws"
LIVE_URL = "https://produccion.example/comprobantes-electronicos-ws"
CLAVE = "0503201201176001321000110010030009900641234567814"
MARKER = "CONFIDENTIAL-LINE-ITEM"
SIGNED = (f'<?xml version="1.0" encoding="UTF-8"?>\n<factura id="comprobante" version="1.1.0">'
          f'<infoTributaria><claveAcceso>{CLAVE}</claveAcceso></infoTributaria>'
          f'<detalles><detalle><descripcion>{MARKER} ñandú &amp; café</descripcion></detalle></detalles>'
          f'</factura>').encode()
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def reception(estado: str, mensajes: str = "") -> str:
    comprobantes = "<comprobantes/>"
    if mensajes:
        comprobantes = (f"<comprobantes><comprobante><claveAcceso>{CLAVE}</claveAcceso>"
                        f"<mensajes>{mensajes}</mensajes></comprobante></comprobantes>")
    return (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
            '<ns2:validarComprobanteResponse xmlns:ns2="http://ec.gob.sri.ws.recepcion">'
            f"<RespuestaRecepcionComprobante><estado>{estado}</estado>{comprobantes}"
            "</RespuestaRecepcionComprobante></ns2:validarComprobanteResponse></soap:Body></soap:Envelope>")


def mensaje(code: str, text: str, tipo: str = "ERROR", extra: str = "") -> str:
    info = f"<informacionAdicional>{extra}</informacionAdicional>" if extra else ""
    return (f"<mensaje><identificador>{code}</identificador><mensaje>{text}</mensaje>{info}"
            f"<tipo>{tipo}</tipo></mensaje>")


def autorizacion(estado: str, mensajes: str = "", *, numero: str = CLAVE,
                 fecha: str = "2012-03-05T16:57:34.997-05:00", ambiente: str = "PRUEBAS") -> str:
    numero_xml = f"<numeroAutorizacion>{numero}</numeroAutorizacion>" if estado == "AUTORIZADO" else ""
    return (f"<autorizacion><estado>{estado}</estado>{numero_xml}"
            f"<fechaAutorizacion>{fecha}</fechaAutorizacion><ambiente>{ambiente}</ambiente>"
            f"<comprobante><![CDATA[{SIGNED.decode()}]]></comprobante>"
            f"<mensajes>{mensajes}</mensajes></autorizacion>")


def authorization(*entries: str, clave: str = CLAVE) -> str:
    return (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
            '<ns2:autorizacionComprobanteResponse xmlns:ns2="http://ec.gob.sri.ws.autorizacion">'
            f"<RespuestaAutorizacionComprobante><claveAccesoConsultada>{clave}</claveAccesoConsultada>"
            f"<numeroComprobantes>{len(entries)}</numeroComprobantes><autorizaciones>{''.join(entries)}"
            "</autorizaciones></RespuestaAutorizacionComprobante></ns2:autorizacionComprobanteResponse>"
            "</soap:Body></soap:Envelope>")


FAULT = (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>'
         "<faultstring>Unmarshalling Error: unexpected element</faultstring></soap:Fault></soap:Body>"
         "</soap:Envelope>")


class Recorder:
    """A MockTransport answering every request with the same response, keeping the requests."""

    def __init__(self, body: str | bytes = "", status: int = 200, error: Exception | None = None):
        self.body = body.encode() if isinstance(body, str) else body
        self.status, self.error = status, error
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, content=self.body,
                              headers={"Content-Type": "text/xml;charset=UTF-8"})


def client_for(recorder: Recorder, timeout: float = 7.5) -> SriClient:
    settings = Settings(sri_test_url=TEST_URL, sri_live_url=LIVE_URL + "/", sri_timeout_seconds=timeout)
    return SriClient(settings, transport=httpx.MockTransport(recorder))


def submit(body: str | bytes, status: int = 200):
    return client_for(Recorder(body, status)).submit(SIGNED, "test")


def authorize(body: str | bytes, status: int = 200):
    return client_for(Recorder(body, status)).authorize(CLAVE, "test")


# -- requests --------------------------------------------------------------------------------------

def test_submit_posts_the_signed_bytes_base64_in_a_validarComprobante_envelope():
    recorder = Recorder(reception("RECIBIDA"))
    outcome = client_for(recorder).submit(SIGNED, "test")

    assert outcome.status == "received" and outcome.messages == ()
    (request,) = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == f"{TEST_URL}/RecepcionComprobantesOffline"
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.headers["SOAPAction"] == '""'
    assert request.extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
    envelope = etree.fromstring(request.content)
    assert envelope.tag == f"{{{SOAP}}}Envelope"
    (call,) = envelope.find(f"{{{SOAP}}}Body")
    assert call.tag == "{http://ec.gob.sri.ws.recepcion}validarComprobante"
    (argument,) = call
    assert argument.tag == "xml"  # unqualified, as the WSDL's elementFormDefault says
    assert base64.b64decode(argument.text) == SIGNED


def test_authorize_posts_the_clave_in_an_autorizacionComprobante_envelope():
    recorder = Recorder(authorization())
    client_for(recorder).authorize(CLAVE, "test")

    (request,) = recorder.requests
    assert str(request.url) == f"{TEST_URL}/AutorizacionComprobantesOffline"
    assert request.headers["SOAPAction"] == '""'
    (call,) = etree.fromstring(request.content).find(f"{{{SOAP}}}Body")
    assert call.tag == "{http://ec.gob.sri.ws.autorizacion}autorizacionComprobante"
    assert [(c.tag, c.text) for c in call] == [("claveAccesoComprobante", CLAVE)]


@pytest.mark.parametrize(("environment", "base"), [("test", TEST_URL), ("live", LIVE_URL)])
def test_the_environment_selects_the_base_url(environment, base):
    recorder = Recorder(reception("RECIBIDA"))
    client = client_for(recorder)
    client.submit(SIGNED, environment)
    recorder.body = authorization().encode()
    client.authorize(CLAVE, environment)
    assert [str(r.url) for r in recorder.requests] == [f"{base}/RecepcionComprobantesOffline",
                                                       f"{base}/AutorizacionComprobantesOffline"]


def test_an_unknown_environment_is_refused_before_anything_is_sent():
    recorder = Recorder(reception("RECIBIDA"))
    with pytest.raises(ValueError, match="environment"):
        client_for(recorder).submit(SIGNED, "staging")
    assert recorder.requests == []


# -- recepción -------------------------------------------------------------------------------------

def test_devuelta_is_rejected_with_every_message():
    invalid = mensaje("35", "DOCUMENTO INVÁLIDO", extra="cvc-complex-type.2.4.a: Invalid content was found")
    warning = mensaje("62", "IDENTIFICACIÓN INCORRECTA", tipo="ADVERTENCIA")
    outcome = submit(reception("DEVUELTA", invalid + warning))
    assert outcome.status == "rejected"
    assert outcome.messages == (
        AuthorityMessage("35", "DOCUMENTO INVÁLIDO", "cvc-complex-type.2.4.a: Invalid content was found",
                         reason="schema_violation"),
        AuthorityMessage("62", "IDENTIFICACIÓN INCORRECTA", warning=True),
    )


def test_recibida_keeps_its_warnings():
    outcome = submit(reception("RECIBIDA", mensaje("65", "FECHA EXTEMPORÁNEA", tipo="ADVERTENCIA")))
    assert outcome.status == "received"
    assert outcome.messages == (AuthorityMessage("65", "FECHA EXTEMPORÁNEA", warning=True, reason="issue_date_too_old"),)


@pytest.mark.parametrize(("code", "text"), [("43", "CLAVE ACCESO REGISTRADA"),
                                            ("70", "CLAVE DE ACCESO EN PROCESAMIENTO")])
def test_a_document_sri_already_has_counts_as_received(code, text):
    outcome = submit(reception("DEVUELTA", mensaje(code, text)))
    assert outcome.status == "received"
    assert [m.code for m in outcome.messages] == [code]


def test_error_50_is_temporary():
    with pytest.raises(AuthorityUnavailable, match="50"):
        submit(reception("DEVUELTA", mensaje("50", "ERROR INTERNO GENERAL")))


def test_an_unknown_reception_state_is_not_taken_for_an_answer():
    with pytest.raises(AuthorityUnavailable, match="estado"):
        submit(reception("PENDIENTE"))


# -- autorización ----------------------------------------------------------------------------------

def test_autorizado_gives_the_number_date_warning_and_the_archival_record():
    test_warning = mensaje("60", "ESTE PROCESO FUE REALIZADO EN EL AMBIENTE DE PRUEBAS", tipo="ADVERTENCIA")
    outcome = authorize(authorization(autorizacion("AUTORIZADO", test_warning)))

    assert outcome.status == "authorized"
    assert outcome.number == CLAVE
    assert outcome.authorized_at == "2012-03-05T16:57:34.997-05:00"
    assert outcome.messages == (AuthorityMessage("60", "ESTE PROCESO FUE REALIZADO EN EL AMBIENTE DE PRUEBAS",
                                                 warning=True),)
    assert outcome.document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b"<comprobante><![CDATA[" in outcome.document
    record = etree.fromstring(outcome.document)
    assert record.tag == "autorizacion"
    assert [c.tag for c in record] == ["estado", "numeroAutorizacion", "fechaAutorizacion", "ambiente",
                                       "comprobante", "mensajes"]
    fields = ("estado", "numeroAutorizacion", "fechaAutorizacion", "ambiente")
    assert [record.findtext(n) for n in fields] == ["AUTORIZADO", CLAVE, "2012-03-05T16:57:34.997-05:00",
                                                    "PRUEBAS"]
    assert record.findtext("comprobante").encode() == SIGNED  # the signed bytes, exactly
    assert [(m.findtext("identificador"), m.findtext("tipo")) for m in record.find("mensajes")] == [
        ("60", "ADVERTENCIA")]


def test_a_comprobante_sent_as_escaped_text_is_archived_all_the_same():
    escaped = authorization(autorizacion("AUTORIZADO").replace(
        f"<![CDATA[{SIGNED.decode()}]]>", SIGNED.decode().replace("&", "&amp;").replace("<", "&lt;")))
    record = etree.fromstring(authorize(escaped).document)
    assert record.findtext("comprobante").encode() == SIGNED


def test_an_authorization_date_in_the_older_format_becomes_iso():
    outcome = authorize(authorization(autorizacion("AUTORIZADO", fecha="05/03/2012 16:57:34")))
    assert outcome.authorized_at == "2012-03-05T16:57:34-05:00"


@pytest.mark.parametrize("estado", ["NO AUTORIZADO", "RECHAZADO"])
def test_not_authorized_is_rejected_with_the_messages(estado):
    outcome = authorize(authorization(autorizacion(estado, mensaje("39", "FIRMA INVALIDA", extra="firma"))))
    assert outcome.status == "rejected"
    assert outcome.messages == (AuthorityMessage("39", "FIRMA INVALIDA", "firma", reason="invalid_signature"),)
    assert outcome.document == b"" and outcome.number == ""


def test_en_proceso_is_processing():
    outcome = authorize(authorization("<autorizacion><estado>EN PROCESO</estado><mensajes/></autorizacion>"))
    assert outcome.status == "processing"


def test_no_comprobantes_is_unknown():
    # SRI lists nothing for that clave: it does not have the document (or does not list it yet).
    outcome = authorize(authorization())
    assert outcome.status == "unknown" and outcome.messages == ()


def test_the_autorizado_entry_wins_among_several():
    outcome = authorize(authorization(autorizacion("NO AUTORIZADO", mensaje("52", "ERROR EN DIFERENCIAS")),
                                      autorizacion("AUTORIZADO", fecha="2012-03-06T10:00:00.000-05:00"),
                                      autorizacion("NO AUTORIZADO", mensaje("39", "FIRMA INVALIDA"))))
    assert outcome.status == "authorized"
    assert outcome.authorized_at == "2012-03-06T10:00:00.000-05:00"
    assert etree.fromstring(outcome.document).findtext("estado") == "AUTORIZADO"


def test_without_an_autorizado_entry_the_last_one_decides():
    outcome = authorize(authorization(autorizacion("NO AUTORIZADO", mensaje("39", "FIRMA INVALIDA")),
                                      autorizacion("NO AUTORIZADO", mensaje("52", "ERROR EN DIFERENCIAS"))))
    assert outcome.status == "rejected"
    assert [m.code for m in outcome.messages] == ["52"]


def test_an_answer_about_another_clave_is_not_trusted():
    with pytest.raises(AuthorityUnavailable, match="another clave"):
        authorize(authorization(autorizacion("AUTORIZADO"), clave="1" * 49))


# -- failures --------------------------------------------------------------------------------------

FAILURES = {
    "soap fault": (FAULT, 500),
    "soap fault with 200": (FAULT, 200),
    "http 503": ("<html><body>Service Unavailable</body></html>", 503),
    "http 404": ("Not Found", 404),
    "garbled": ("<soap:Envelope><unclosed", 200),
    "not soap": ("<html><body>Mantenimiento</body></html>", 200),
    "empty": ("", 200),
    "whitespace": ("  \n", 200),
}


@pytest.mark.parametrize("name", FAILURES)
@pytest.mark.parametrize("call", ["submit", "authorize"])
def test_failures_are_temporary_and_never_quote_the_document(name, call):
    body, status = FAILURES[name]
    client = client_for(Recorder(body, status))
    with pytest.raises(AuthorityUnavailable) as caught:
        client.submit(SIGNED, "test") if call == "submit" else client.authorize(CLAVE, "test")
    message = str(caught.value)
    assert "SRI" in message
    assert MARKER not in message and base64.b64encode(SIGNED).decode()[:40] not in message
    if status != 200:
        assert str(status) in message


@pytest.mark.parametrize("error", [httpx.ReadTimeout("timed out"), httpx.ConnectTimeout("timed out"),
                                   httpx.ConnectError("connection refused"),
                                   httpx.RemoteProtocolError("server disconnected")])
@pytest.mark.parametrize("call", ["submit", "authorize"])
def test_transport_errors_and_timeouts_are_temporary(error, call):
    client = client_for(Recorder(error=error))
    with pytest.raises(AuthorityUnavailable, match=type(error).__name__):
        client.submit(SIGNED, "test") if call == "submit" else client.authorize(CLAVE, "test")


def test_the_fault_reason_is_quoted_shortly():
    long_fault = FAULT.replace("Unmarshalling Error: unexpected element", "x" * 5000)
    with pytest.raises(AuthorityUnavailable) as caught:
        submit(long_fault, 500)
    assert "soap:Server" in str(caught.value) and len(str(caught.value)) < 400


def test_nothing_of_the_document_is_logged(caplog):
    caplog.set_level(logging.DEBUG)
    module_logger = logging.getLogger(SriClient.__module__)  # "sello" may not propagate to the root
    caplog.set_level(logging.DEBUG, logger=module_logger.name)
    module_logger.addHandler(caplog.handler)
    try:
        recorder = Recorder(reception("RECIBIDA"))
        client = client_for(recorder)
        client.submit(SIGNED, "test")
        recorder.body = authorization(autorizacion("AUTORIZADO")).encode()
        client.authorize(CLAVE, "test")
    finally:
        module_logger.removeHandler(caplog.handler)
    assert "RECIBIDA" in caplog.text and "AUTORIZADO" in caplog.text  # it does log the outcome
    assert MARKER not in caplog.text
