"""SAT's public CFDI status service (ConsultaCFDIService.svc, SOAP 1.1) as the PAC simulator answers
it at `POST /ConsultaCFDIService.svc`: it knows the documents the simulator stamped.

The request is SAT's: `Envelope/Body/Consulta/expresionImpresa` (namespace http://tempuri.org/) holding
`?re=<RFC emisor>&rr=<RFC receptor>&tt=<total>&id=<UUID>[&fe=<last 8 of the Sello>]`. The answer has
SAT's shape: `ConsultaResponse/ConsultaResult` with the fields in the data-contract namespace:
- a UUID the simulator stamped whose RFCs are the document's and whose total is the same amount →
  `S - Comprobante obtenido satisfactoriamente.`, Estado `Vigente` (`Cancelado` once cancelled:
  local.pac.cancellation), EsCancelable by SAT's rules (RMF 2.7.1.35, the part the simulator can judge): "Cancelable
  sin aceptación" when the total is at most 1,000 MXN (Total × TipoCambio), the receiver is the general
  public (XAXX010101000) or a foreign resident (XEXX010101000), or the CFDI is an egreso, traslado or
  nómina; "Cancelable con aceptación" otherwise; "No cancelable" once cancelled or while payment CFDIs
  in force relate to it; EstatusCancelacion as the cancellation goes (`En proceso`, `Cancelado sin
  aceptación`, ...), nil while none was requested; ValidacionEFOS `200`;
- anything else → `N - 602: Comprobante no encontrado.`, Estado `No Encontrado`, the rest empty;
- a body that is not such a request → HTTP 500 with a SOAP fault (as the WCF service answers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from lxml import etree

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI_NS = "http://tempuri.org/"
CONTRACT_NS = "http://schemas.datacontract.org/2004/07/Sat.Cfdi.Negocio.ConsultaCfdi.Servicio"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

FOUND = "S - Comprobante obtenido satisfactoriamente."
NOT_FOUND = "N - 602: Comprobante no encontrado."
WITHOUT_ACCEPTANCE = "Cancelable sin aceptación"
WITH_ACCEPTANCE = "Cancelable con aceptación"
NOT_CANCELABLE = "No cancelable"
GENERAL_RECEIVERS = {"XAXX010101000", "XEXX010101000"}
TYPES_WITHOUT_ACCEPTANCE = {"E", "T", "N"}
ACCEPTANCE_THRESHOLD = Decimal("1000")
_KEYS = re.compile(r"&(?=(?:re|rr|tt|id|fe)=)")


def read_request(body: bytes) -> dict[str, str]:
    """The expresión impresa's fields (re, rr, tt, id, fe); ValueError when the body is not a Consulta."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError("The request is not well-formed XML.") from exc
    expresion = root.find(f"{{{SOAP_NS}}}Body/{{{TEMPURI_NS}}}Consulta/{{{TEMPURI_NS}}}expresionImpresa")
    if expresion is None or not (expresion.text or "").strip():
        raise ValueError("The request has no Consulta/expresionImpresa.")
    # Split before each known key only: an RFC may hold "&" (e.g. "A&C010101AB1"), which SAT's query keeps as is.
    fields = _KEYS.split(expresion.text.strip().removeprefix("?"))
    return dict(field.split("=", 1) for field in fields if "=" in field)


def _amount(text: str | None) -> Decimal | None:
    try:
        return Decimal(text or "")
    except InvalidOperation:
        return None


def matches(query: Mapping[str, str], emisor: str, receptor: str, total: str) -> bool:
    """Whether the query names the stamped document: its RFCs, and its total as the same amount (SAT
    takes `tt` with or without leading zeros and trailing decimals)."""
    asked = _amount(query.get("tt"))
    return (query.get("re", "").upper() == emisor.upper() and query.get("rr", "").upper() == receptor.upper()
            and asked is not None and asked == _amount(total))


def cancelable(record: Mapping, receptor: str) -> str:
    """EsCancelable of a document in force, from its datawarehouse record (total, tipoCambio, tipo)."""
    if receptor.upper() in GENERAL_RECEIVERS or record.get("tipoDeComprobante") in TYPES_WITHOUT_ACCEPTANCE:
        return WITHOUT_ACCEPTANCE
    total = Decimal(str(record.get("total") or 0)) * Decimal(str(record.get("tipoCambio") or 1))
    return WITHOUT_ACCEPTANCE if total <= ACCEPTANCE_THRESHOLD else WITH_ACCEPTANCE


def _answer(fields: Mapping[str, str | None]) -> bytes:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
    response = etree.SubElement(body, f"{{{TEMPURI_NS}}}ConsultaResponse", nsmap={None: TEMPURI_NS})
    result = etree.SubElement(response, f"{{{TEMPURI_NS}}}ConsultaResult", nsmap={"a": CONTRACT_NS, "i": XSI_NS})
    for name, value in fields.items():
        element = etree.SubElement(result, f"{{{CONTRACT_NS}}}{name}")
        if value is None:
            element.set(f"{{{XSI_NS}}}nil", "true")
        else:
            element.text = value
    return etree.tostring(envelope, encoding="utf-8")


def answer_found(*, estado: str, cancelable: str, estatus_cancelacion: str | None) -> bytes:
    """A found CFDI: Estado Vigente or Cancelado, EsCancelable, and EstatusCancelacion (nil while no
    cancellation was requested)."""
    return _answer({"CodigoEstatus": FOUND, "EsCancelable": cancelable, "Estado": estado,
                    "EstatusCancelacion": estatus_cancelacion, "ValidacionEFOS": "200"})


def answer_not_found() -> bytes:
    return _answer({"CodigoEstatus": NOT_FOUND, "EsCancelable": "", "Estado": "No Encontrado",
                    "EstatusCancelacion": "", "ValidacionEFOS": ""})


def fault(text: str) -> bytes:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
    body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
    element = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    etree.SubElement(element, "faultcode").text = "s:Client"
    etree.SubElement(element, "faultstring").text = text
    return etree.tostring(envelope, encoding="utf-8")
