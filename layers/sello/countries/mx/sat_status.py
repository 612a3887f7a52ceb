"""SAT's public CFDI status service (Consulta), spoken over SOAP 1.1 with httpx and lxml.

SAT answers, for a stamped CFDI named by its issuer's and receiver's RFC, its total and its UUID
(the "expresión impresa" `?re=&rr=&tt=&id=[&fe=]`), whether it is in force (Estado: Vigente,
Cancelado, No Encontrado), whether and how it can be cancelled (EsCancelable: No cancelable,
Cancelable sin aceptación, Cancelable con aceptación), how far a cancellation has come
(EstatusCancelacion) and whether the issuer is listed as an EFOS (ValidacionEFOS: 100 listed, 200
not). The service takes no credentials and has a single URL (settings.sat_status_url): SAT has no
test environment, so a CFDI stamped by a PAC's sandbox is "No Encontrado" there.

The answer is `ConsultaResponse/ConsultaResult` (namespace http://tempuri.org/) whose fields are in
the data-contract namespace `a:` (http://schemas.datacontract.org/2004/07/Sat.Cfdi.Negocio.ConsultaCfdi.Servicio);
empty fields come as `i:nil="true"` or as empty elements. The fields are read by local name, so a
change of prefix or namespace does not break the reading.

Timeouts, connection errors, HTTP 5xx (a SOAP fault included), 408, 429 and answers that cannot be
read are AuthorityUnavailable: asking again later is safe, the call changes nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.settings import Settings, get_settings

log = logging.getLogger(__name__)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI_NS = "http://tempuri.org/"
SOAP_ACTION = "http://tempuri.org/IConsultaCFDIService/Consulta"
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
MAX_ANSWER_BYTES = 64 * 1024  # SAT's answer is a few hundred bytes
UNAVAILABLE_STATUSES = {408, 429}

FOUND = ("Vigente", "Cancelado")
NOT_FOUND = "No Encontrado"


@dataclass(frozen=True)
class SatStatus:
    """SAT's answer, its texts as SAT wrote them ("" for a field it left empty)."""

    codigo_estatus: str  # "S - Comprobante obtenido satisfactoriamente." or "N - 602: Comprobante no encontrado."
    estado: str  # Vigente | Cancelado | No Encontrado
    es_cancelable: str  # No cancelable | Cancelable sin aceptación | Cancelable con aceptación
    estatus_cancelacion: str  # "" | Cancelado sin aceptación | En proceso | Plazo vencido | ...
    validacion_efos: str  # "100" listed as EFOS, "200" not

    @property
    def found(self) -> bool:
        return self.estado in FOUND


def expresion_impresa(emisor_rfc: str, receptor_rfc: str, total: str, uuid: str, sello: str = "") -> str:
    """The query SAT's service takes: the printed CFDI's verification data. `total` as the CFDI writes
    it; `sello` (the Comprobante's Sello) contributes its last 8 characters when given."""
    text = f"?re={emisor_rfc}&rr={receptor_rfc}&tt={total}&id={uuid.upper()}"
    return f"{text}&fe={sello[-8:]}" if sello else text


def envelope(expresion: str) -> bytes:
    """The SOAP 1.1 request of Consulta for an expresión impresa (lxml escapes its `&`)."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "tem": TEMPURI_NS})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    consulta = etree.SubElement(body, f"{{{TEMPURI_NS}}}Consulta")
    etree.SubElement(consulta, f"{{{TEMPURI_NS}}}expresionImpresa").text = expresion
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def parse_answer(content: bytes) -> SatStatus:
    """SatStatus from the SOAP answer; ValueError when it is not one (no ConsultaResult, a fault)."""
    try:
        root = etree.fromstring(content, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError("the answer is not XML") from exc
    result = root.find(".//{*}ConsultaResult")
    if result is None:
        fault = root.find(".//{*}Fault")
        raise ValueError("a SOAP fault" if fault is not None else "no ConsultaResult in the answer")

    def field(name: str) -> str:
        element = result.find(f"{{*}}{name}")
        return (element.text or "").strip() if element is not None else ""

    status = SatStatus(codigo_estatus=field("CodigoEstatus"), estado=field("Estado"),
                       es_cancelable=field("EsCancelable"), estatus_cancelacion=field("EstatusCancelacion"),
                       validacion_efos=field("ValidacionEFOS"))
    if not status.estado and not status.codigo_estatus:
        raise ValueError("ConsultaResult carries neither Estado nor CodigoEstatus")
    return status


class SatStatusClient:
    """One per warm function (connections are kept between calls)."""

    def __init__(self, settings: Settings | None = None, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings or get_settings()
        self.url = self.settings.sat_status_url
        self._http = httpx.Client(transport=transport, trust_env=False, follow_redirects=False,
                                  timeout=httpx.Timeout(self.settings.sat_status_timeout_seconds))

    def close(self) -> None:
        self._http.close()

    def consulta(self, emisor_rfc: str, receptor_rfc: str, total: str, uuid: str, sello: str = "") -> SatStatus:
        """SAT's status of the CFDI; AuthorityUnavailable when SAT cannot answer now."""
        host = urlsplit(self.url).netloc
        body = envelope(expresion_impresa(emisor_rfc, receptor_rfc, total, uuid, sello))
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"',
                   "Accept": "text/xml"}
        try:
            response = self._http.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise AuthorityUnavailable(f"SAT's status service at {host} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise AuthorityUnavailable(f"SAT's status service at {host} could not be reached: "
                                       f"{type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in UNAVAILABLE_STATUSES:
            raise AuthorityUnavailable(f"SAT's status service at {host} answered HTTP {response.status_code}")
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise AuthorityUnavailable(f"SAT's status service at {host} answered HTTP {response.status_code} "
                                       f"with {len(response.content)} bytes, not a status")
        try:
            return parse_answer(response.content)
        except ValueError as exc:
            raise AuthorityUnavailable(f"SAT's status service at {host} gave an answer that cannot be read: "
                                       f"{exc}") from exc
