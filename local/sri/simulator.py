"""A local SRI: the offline recepción and autorización web services on 127.0.0.1, with the paths,
SOAP 1.1 envelopes and answers of the real ones, so the client and the workflow run against it
unchanged (base URL `http://127.0.0.1:<port>/comprobantes-electronicos-ws`).

    with SriSimulator(xsd_dir="…/ec/xsd") as sri:       # or sri.start() … sri.stop()
        client = SriClient(Settings(sri_test_url=sri.url, sri_live_url=sri.url))

Services (POST, SOAPAction ""; GET `<service>?wsdl` answers a minimal WSDL):
- `/comprobantes-electronicos-ws/RecepcionComprobantesOffline` — validarComprobante(xml: base64).
- `/comprobantes-electronicos-ws/AutorizacionComprobantesOffline` —
  autorizacionComprobante(claveAccesoComprobante).
An envelope that is not XML or calls another operation gets a SOAP fault (HTTP 500).

Recepción checks, in SRI's order, answering DEVUELTA with SRI's identifiers (DEVUELTA documents are
not kept, as in SRI: once fixed they may be sent again with the same clave):
- no `xml` argument → 49; not base64 → 35; over 320 KB (320,000 bytes) → 26; not UTF-8 or not
  well-formed XML → 35;
- a root element that is no comprobante → 47; a version SRI has no schema for → 48;
- with `xsd_dir`: invalid against `<Schema>_V<version>.xsd` chosen by root element and version → 35,
  lxml's message in informacionAdicional (schemas compiled by sello.countries.ec.xsd.compile_schema,
  as Sello's own check does: both RIMPE legends SRI authorizes pass, as at SRI);
- clave de acceso missing, not 49 digits, impossible date or wrong check digit → 35;
- the clave already received (and not ended NO AUTORIZADO) → 43; the same ruc, ambiente, codDoc, estab,
  ptoEmi and secuencial already received under another clave → 45;
- otherwise RECIBIDA: the document is kept and its decision taken.
What SRI only finds at autorización ends NO AUTORIZADO there, also as in SRI: a clave whose fields
differ from the document's (fechaEmision, codDoc, ruc, ambiente, estab, ptoEmi, secuencial,
tipoEmision) → 58; with `verify_signature`, a signature that local.sri.signature.verify rejects → 39
FIRMA INVALIDA; sums that do not add up (local.sri.arithmetic: taxes per code and rate against the
lines and against baseImponible × tarifa, subtotals, totals) → 52 ERROR EN DIFERENCIAS; and a
rejection queued with `reject_next`. A document that ended NO AUTORIZADO may be
sent again with the same clave; once authorized, the autorización answer lists the AUTORIZADO entry
followed by the last NO AUTORIZADO one.

Autorización: an unknown clave → numeroComprobantes 0 and no autorizaciones. A received document
answers EN PROCESO for `processing_polls` polls (the value when it was received), then AUTORIZADO
(numeroAutorizacion = clave, fechaAutorizacion now at −05:00, ambiente PRUEBAS/PRODUCCION from the
clave, the exact received XML in CDATA, advertencia 60 in pruebas) or NO AUTORIZADO with its messages.

Knobs, in Python and over HTTP on the same port:
- `processing_polls` (int, default 0) and `hold_seconds` (float, default 60; see "timeout");
- `fail_next(n, kind, service="both")`: the next n SOAP requests to "reception", "authorization" or
  "both" fail as `kind`:
  - "http_503": HTTP 503, no SOAP answer;
  - "timeout": nothing is processed; the connection is held until the client gives up (closes it),
    `hold_seconds` pass or the simulator stops, then closed without an answer;
  - "lost_response": processed as usual (a document is received), then held and closed like
    "timeout": the answer is lost on the way back;
  - "error_50": recepción answers DEVUELTA 50 ERROR INTERNO GENERAL; autorización a SOAP fault with
    the same text (HTTP 500);
- `reject_next(code="52", message=None, detail="")`: the next received document ends NO AUTORIZADO
  with that message (SRI's text for known codes when no message is given);
- counters per clave: `submissions(clave)` recepción requests that reached validation (the XML was
  read and named that clave), `accepted(clave)` those answered RECIBIDA, `polls(clave)` autorización
  requests answered for it (a request that a fault stopped before processing counts in none of them,
  only in the state's `requests`); `state()` everything as JSON-ready data; `reset()` back to the
  start (knobs included).
Admin endpoints under `/_sim/sri/` (JSON):
- `GET /_sim/sri/state` → {"url", "processing_polls", "hold_seconds", "faults": [{"service", "kind"}],
  "reject_next": [{"code", "message", "detail"}], "requests": {"reception", "authorization"} (every
  SOAP request), "held" (connections a fault holds open right now),
  "documents": {clave: {"status": "returned" (sent, never RECIBIDA) | "processing" | "authorized" |
  "not_authorized" | "unknown" (only asked for),
  "submissions", "accepted", "polls", "messages": [codes]}}};
- `POST /_sim/sri/config` with any of {"processing_polls": int, "hold_seconds": number,
  "faults": [{"kind", "count" (default 1), "service" (default "both")}], "reject_next": [{"code",
  "message"?, "detail"?}]} → the state; lists replace what is pending; 400 on anything else;
- `POST /_sim/sri/reset` → the state after a reset.
Servers listen where told (127.0.0.1 by default) on daemon threads, so they end with the process."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import select
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from local.sri.arithmetic import differences
from local.simserver import SimulatorServer
from local.sri.signature import InvalidSignature, verify
from sello.countries.outcomes import AuthorityMessage
from sello.countries.ec import clave as claves
# The schemas as SRI applies them (both RIMPE legends), compiled by the one function Sello's check uses.
from sello.countries.ec.xsd import compile_schema
# Generic XML reading and SRI's clock are shared with the client; the SOAP contract (paths, namespaces,
# envelopes) is written down here on its own, so a mistake in the client is not mirrored.
from sello.countries.ec.sri import SAFE_PARSER, SRI_TZ, child, local_name

log = logging.getLogger(__name__)

BASE_PATH = "/comprobantes-electronicos-ws"
ADMIN_PATH = "/_sim/sri"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
# SRI's "320 KB" (error 26), read the stricter way, so that whatever Sello lets through is received
# here under either reading.
MAX_DOCUMENT_BYTES = 320_000
# Error 52 names at most this many of the sums that do not add up.
MAX_LISTED_DIFFERENCES = 10
FAULT_KINDS = ("http_503", "timeout", "lost_response", "error_50")
SERVICES = ("reception", "authorization", "both")
DEFAULT_HOLD_SECONDS = 60.0
FAULT_FIELDS = {"kind", "service", "count"}
REJECTION_FIELDS = {"code", "message", "detail"}


@dataclass(frozen=True)
class Service:
    name: str  # "reception" | "authorization"
    path: str  # the WSDL service name, last part of the URL path
    namespace: str
    operation: str
    argument: str
    answer: str  # the element inside <operation>Response


RECEPTION = Service("reception", "RecepcionComprobantesOffline", "http://ec.gob.sri.ws.recepcion",
                    "validarComprobante", "xml", "RespuestaRecepcionComprobante")
AUTHORIZATION = Service("authorization", "AutorizacionComprobantesOffline",
                        "http://ec.gob.sri.ws.autorizacion", "autorizacionComprobante",
                        "claveAccesoComprobante", "RespuestaAutorizacionComprobante")
_BY_PATH = {f"{BASE_PATH}/{s.path}": s for s in (RECEPTION, AUTHORIZATION)}

# SRI's texts for the identifiers this simulator answers (ficha técnica §11).
SRI_MESSAGES = {
    "26": "TAMAÑO MÁXIMO SUPERADO",
    "35": "DOCUMENTO INVÁLIDO",
    "39": "FIRMA INVALIDA",
    "43": "CLAVE ACCESO REGISTRADA",
    "45": "SECUENCIAL REGISTRADO",
    "47": "TIPO DE COMPROBANTE NO EXISTE",
    "48": "ESQUEMA XSD NO EXISTE",
    "49": "ARGUMENTOS QUE SE ENVIAN AL WEB SERVICE NULOS",
    "50": "ERROR INTERNO GENERAL",
    "52": "ERROR EN DIFERENCIAS",
    "58": "ERROR EN LA ESTRUCTURA DE CLAVE ACCESO",
    "60": "ESTE PROCESO FUE REALIZADO EN EL AMBIENTE DE PRUEBAS",
}
# Root element → (XSD file prefix, versions SRI publishes a schema for).
COMPROBANTES = {
    "factura": ("factura", ("1.0.0", "1.1.0", "2.0.0", "2.1.0")),
    "liquidacionCompra": ("LiquidacionCompra", ("1.0.0", "1.1.0")),
    "notaCredito": ("NotaCredito", ("1.0.0", "1.1.0")),
    "notaDebito": ("NotaDebito", ("1.0.0",)),
    "guiaRemision": ("GuiaRemision", ("1.0.0", "1.1.0")),
    "comprobanteRetencion": ("ComprobanteRetencion", ("1.0.0", "2.0.0")),
}
AMBIENTES = {"1": "PRUEBAS", "2": "PRODUCCION"}


def sri_message(code: str, detail: str = "", *, warning: bool = False,
                message: str | None = None) -> AuthorityMessage:
    return AuthorityMessage(code=code, message=message or SRI_MESSAGES.get(code, "ERROR"), detail=detail,
                            warning=warning)


class Returned(Exception):
    """A recepción answered DEVUELTA with these messages."""

    def __init__(self, *messages: AuthorityMessage):
        super().__init__(", ".join(m.code for m in messages))
        self.messages = messages


class Hold(Exception):
    """Answer nothing: hold the connection, then close it."""


@dataclass
class Comprobante:
    """What recepción read from one document."""

    clave: str
    text: str  # the exact XML text received
    series: tuple[str, ...]  # ruc, ambiente, codDoc, estab, ptoEmi, secuencial
    problems: list[AuthorityMessage]  # what autorización will answer NO AUTORIZADO with


@dataclass
class Document:
    """A received document (RECIBIDA) and its course."""

    comprobante: Comprobante
    polls_left: int
    status: str = "processing"  # processing | authorized | not_authorized
    decision: dict | None = None  # the final autorizacion entry
    rejected: list[dict] = field(default_factory=list)  # earlier NO AUTORIZADO entries for this clave


@dataclass
class Counters:
    submissions: int = 0
    accepted: int = 0
    polls: int = 0
    messages: list[str] = field(default_factory=list)  # codes of the last answer


def _now() -> str:
    return datetime.now(SRI_TZ).isoformat(timespec="milliseconds")


def _envelope(service: Service, build) -> bytes:
    """`<soap:Envelope><soap:Body><ns2:{operation}Response><{answer}>…` the way SRI's JAX-WS answers."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    response = etree.SubElement(body, f"{{{service.namespace}}}{service.operation}Response",
                                nsmap={"ns2": service.namespace})
    build(etree.SubElement(response, service.answer))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _fault(reason: str) -> bytes:
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    fault = etree.SubElement(etree.SubElement(root, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Server"
    etree.SubElement(fault, "faultstring").text = reason
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, name)
    if text is not None:
        element.text = text
    return element


def _add_messages(parent: etree._Element, messages: Sequence[AuthorityMessage]) -> None:
    group = _add(parent, "mensajes")
    for m in messages:
        item = _add(group, "mensaje")
        _add(item, "identificador", m.code)
        _add(item, "mensaje", m.message)
        if m.detail:
            _add(item, "informacionAdicional", m.detail)
        _add(item, "tipo", "ADVERTENCIA" if m.warning else "ERROR")


def _wsdl(service: Service, url: str) -> bytes:
    ns, op = service.namespace, service.operation
    kind = "base64Binary" if service is RECEPTION else "string"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="{ns}" targetNamespace="{ns}"
  name="{service.path}Service">
  <types><xs:schema targetNamespace="{ns}" elementFormDefault="unqualified">
    <xs:element name="{op}"><xs:complexType><xs:sequence>
      <xs:element name="{service.argument}" type="xs:{kind}" minOccurs="0"/>
    </xs:sequence></xs:complexType></xs:element>
    <xs:element name="{op}Response"><xs:complexType><xs:sequence>
      <xs:element name="{service.answer}" type="xs:anyType" minOccurs="0"/>
    </xs:sequence></xs:complexType></xs:element>
  </xs:schema></types>
  <message name="{op}"><part name="parameters" element="tns:{op}"/></message>
  <message name="{op}Response"><part name="parameters" element="tns:{op}Response"/></message>
  <portType name="{service.path}"><operation name="{op}">
    <input message="tns:{op}"/><output message="tns:{op}Response"/></operation></portType>
  <binding name="{service.path}PortBinding" type="tns:{service.path}">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>
    <operation name="{op}"><soap:operation soapAction=""/>
      <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output>
    </operation></binding>
  <service name="{service.path}Service">
    <port name="{service.path}Port" binding="tns:{service.path}PortBinding">
      <soap:address location="{url}/{service.path}"/></port></service>
</definitions>
""".encode()


class SriSimulator(SimulatorServer):
    name = "SRI"
    base_path = BASE_PATH

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, xsd_dir: str | None = None,
                 verify_signature: bool = True):
        super().__init__(host, port)
        self.xsd_dir = Path(xsd_dir) if xsd_dir else None
        self.verify_signature = verify_signature
        self._lock = threading.Lock()
        self._held = 0  # connections held open by a timeout fault right now
        self._schemas: dict[Path, etree.XMLSchema] = {}
        self._schema_lock = threading.Lock()  # compiled schemas are compiled and used one thread at a time
        self._reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # -- knobs -------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.processing_polls = 0
        self.hold_seconds = DEFAULT_HOLD_SECONDS
        self._faults: list[tuple[str, str]] = []  # (service, kind), next first
        self._rejections: list[AuthorityMessage] = []
        self._documents: dict[str, Document] = {}
        self._series: dict[tuple[str, ...], str] = {}  # series → clave holding it
        self._counters: dict[str, Counters] = {}
        self._requests = {"reception": 0, "authorization": 0}

    def reset(self) -> None:
        with self._lock:
            self._reset()

    def fail_next(self, n: int = 1, kind: str = "http_503", service: str = "both") -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
        if service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}, not {service!r}")
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            self._faults.extend([(service, kind)] * n)

    def reject_next(self, code: str = "52", message: str | None = None, detail: str = "") -> None:
        with self._lock:
            self._rejections.append(sri_message(str(code), detail, message=message))

    def submissions(self, clave: str) -> int:
        with self._lock:
            return self._counters.get(clave, Counters()).submissions

    def accepted(self, clave: str) -> int:
        with self._lock:
            return self._counters.get(clave, Counters()).accepted

    def polls(self, clave: str) -> int:
        with self._lock:
            return self._counters.get(clave, Counters()).polls

    def state(self) -> dict:
        with self._lock:
            documents = {}
            for clave, counters in self._counters.items():
                doc = self._documents.get(clave)
                status = doc.status if doc else "returned" if counters.submissions else "unknown"
                documents[clave] = {"status": status, "submissions": counters.submissions,
                                    "accepted": counters.accepted, "polls": counters.polls,
                                    "messages": list(counters.messages)}
            return {
                "url": self.url if self._server else None,
                "processing_polls": self.processing_polls,
                "hold_seconds": self.hold_seconds,
                "faults": [{"service": s, "kind": k} for s, k in self._faults],
                "reject_next": [{"code": m.code, "message": m.message, "detail": m.detail}
                                for m in self._rejections],
                "requests": dict(self._requests),
                "held": self._held,
                "documents": documents,
            }

    def configure(self, config: dict) -> None:
        """Applies a POST /_sim/sri/config body; raises ValueError (nothing applied) when it is invalid."""
        if not isinstance(config, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(config) - {"processing_polls", "hold_seconds", "faults", "reject_next"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        polls = config.get("processing_polls", self.processing_polls)
        if isinstance(polls, bool) or not isinstance(polls, int) or polls < 0:
            raise ValueError("processing_polls must be a whole number, 0 or more")
        hold = config.get("hold_seconds", self.hold_seconds)
        if isinstance(hold, bool) or not isinstance(hold, int | float) or hold <= 0:
            raise ValueError("hold_seconds must be a positive number")
        faults = None
        if "faults" in config:
            faults = []
            for fault in _objects(config["faults"], "faults"):
                kind, service, count = fault.get("kind"), fault.get("service", "both"), fault.get("count", 1)
                if kind not in FAULT_KINDS or service not in SERVICES or set(fault) - FAULT_FIELDS:
                    raise ValueError(f"a fault is {{kind: {'|'.join(FAULT_KINDS)}, service: "
                                     f"{'|'.join(SERVICES)}, count}}, not {fault}")
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError("a fault's count must be a whole number, 0 or more")
                faults += [(service, kind)] * count
        rejections = None
        if "reject_next" in config:
            rejections = []
            for item in _objects(config["reject_next"], "reject_next"):
                if set(item) - REJECTION_FIELDS or not all(isinstance(v, str) for v in item.values()):
                    raise ValueError(f"a rejection is {{code, message, detail}} (strings), not {item}")
                rejections.append(sri_message(item.get("code", "52"), item.get("detail", ""),
                                              message=item.get("message")))
        with self._lock:
            self.processing_polls, self.hold_seconds = polls, float(hold)
            if faults is not None:
                self._faults = faults
            if rejections is not None:
                self._rejections = rejections

    def hold(self, connection) -> None:
        """Keeps a connection open without answering until the client closes it, hold_seconds pass or
        the simulator stops."""
        deadline = time.monotonic() + self.hold_seconds
        with self._lock:
            self._held += 1
        try:
            while time.monotonic() < deadline and not self._stopping.is_set():
                readable, _, _ = select.select([connection], [], [], 0.1)
                if readable and not connection.recv(4096):
                    return  # the client gave up
        except OSError:
            pass  # the connection broke: nothing left to hold
        finally:
            with self._lock:
                self._held -= 1

    # -- SOAP --------------------------------------------------------------------------------------

    def soap(self, service: Service, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, answer) for a SOAP request; raises Hold when the answer must not come."""
        with self._lock:
            self._requests[service.name] += 1
            fault = next((f for f in self._faults if f[0] in (service.name, "both")), None)
            if fault is not None:
                self._faults.remove(fault)
        kind = fault[1] if fault else None
        if kind == "http_503":
            return 503, b"Service Unavailable"
        if kind == "timeout":
            raise Hold
        if kind == "error_50" and service is AUTHORIZATION:
            return 500, _fault(SRI_MESSAGES["50"])
        try:
            call = self._call(service, body)
        except ValueError as exc:
            return 500, _fault(str(exc))
        if kind == "error_50":
            answer = self._returned("", [sri_message("50")])
        elif service is RECEPTION:
            answer = self._reception(call)
        else:
            answer = self._authorization(call)
        if kind == "lost_response":
            raise Hold
        return 200, answer

    @staticmethod
    def _call(service: Service, body: bytes) -> etree._Element:
        try:
            root = etree.fromstring(body, SAFE_PARSER)
        except etree.XMLSyntaxError as exc:
            raise ValueError(f"Unmarshalling Error: {exc}") from None
        soap_body = child(root, "Body") if local_name(root) == "Envelope" else None
        call = next((c for c in soap_body if isinstance(c.tag, str)), None) if soap_body is not None else None
        if call is None or etree.QName(call).text != f"{{{service.namespace}}}{service.operation}":
            name = etree.QName(call).text if call is not None else "nothing"
            raise ValueError(f"Cannot find dispatch method for {name}")
        return call

    # -- recepción ---------------------------------------------------------------------------------

    def _returned(self, clave: str, messages: list[AuthorityMessage] | tuple[AuthorityMessage, ...]) -> bytes:
        def build(answer: etree._Element) -> None:
            _add(answer, "estado", "DEVUELTA")
            comprobante = _add(_add(answer, "comprobantes"), "comprobante")
            _add(comprobante, "claveAcceso", clave)
            _add_messages(comprobante, messages)

        return _envelope(RECEPTION, build)

    def _reception(self, call: etree._Element) -> bytes:
        clave = ""
        try:
            comprobante = self._read(call)
            clave = comprobante.clave
            with self._lock:
                self._receive(comprobante)
        except Returned as returned:
            if clave:
                with self._lock:
                    self._counters[clave].messages = [m.code for m in returned.messages]
            return self._returned(clave, returned.messages)
        def build(answer: etree._Element) -> None:
            _add(answer, "estado", "RECIBIDA")
            _add(answer, "comprobantes")

        return _envelope(RECEPTION, build)

    def _read(self, call: etree._Element) -> Comprobante:
        """The checks SRI makes before receiving a document; raises Returned."""
        argument = child(call, RECEPTION.argument)
        encoded = "".join((argument.text or "").split()) if argument is not None else ""
        if not encoded:
            raise Returned(sri_message("49", "No se recibió el comprobante (argumento xml vacío)."))
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise Returned(sri_message("35", "El argumento xml no es base64.")) from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise Returned(sri_message("26", f"El comprobante tiene {len(data)} bytes; el máximo es "
                                             f"{MAX_DOCUMENT_BYTES}."))
        try:
            text = data.decode("utf-8-sig")
            root = etree.fromstring(data, SAFE_PARSER)
        except (UnicodeDecodeError, etree.XMLSyntaxError) as exc:
            raise Returned(sri_message("35", f"ARCHIVO NO CUMPLE ESTRUCTURA XML: {exc}")) from None
        info = child(root, "infoTributaria")
        clave = (info.findtext("claveAcceso") or "").strip() if info is not None else ""
        if clave:
            with self._lock:
                self._counters.setdefault(clave, Counters()).submissions += 1
        name, version = local_name(root), root.get("version", "")
        if name not in COMPROBANTES:
            raise Returned(sri_message("47", f"Elemento raíz {name!r} no es un comprobante electrónico."))
        schema_name, versions = COMPROBANTES[name]
        if version not in versions:
            raise Returned(sri_message("48", f"No existe el esquema {schema_name} versión {version!r}."))
        if self.xsd_dir is not None:
            error = self._schema_error(self.xsd_dir / f"{schema_name}_V{version}.xsd", root)
            if error:
                raise Returned(sri_message("35", error))
        if not claves.is_valid(clave):
            raise Returned(sri_message("35", f"La clave de acceso {clave!r} no tiene 49 dígitos con fecha "
                                             "válida y dígito verificador módulo 11 correcto."))
        fields = {n: (info.findtext(n) or "").strip() for n in
                  ("ruc", "ambiente", "codDoc", "estab", "ptoEmi", "secuencial", "tipoEmision")}
        problems = []
        mismatched = self._mismatches(clave, root, fields)
        if mismatched:
            problems.append(sri_message("58", "La clave de acceso no corresponde al comprobante en: "
                                              + ", ".join(mismatched) + "."))
        if self.verify_signature:
            try:
                verify(data)
            except InvalidSignature as exc:
                problems.append(sri_message("39", str(exc)))
        wrong = differences(root)
        if wrong:
            listed = "; ".join(wrong[:MAX_LISTED_DIFFERENCES])
            more = len(wrong) - MAX_LISTED_DIFFERENCES
            problems.append(sri_message("52", listed + (f"; y {more} más" if more > 0 else "")))
        series = tuple(fields[n] for n in ("ruc", "ambiente", "codDoc", "estab", "ptoEmi", "secuencial"))
        return Comprobante(clave=clave, text=text, series=series, problems=problems)

    @staticmethod
    def _mismatches(clave: str, root: etree._Element, fields: dict[str, str]) -> list[str]:
        parts = claves.parse(clave)
        expected = {"codDoc": parts["doc_code"], "ruc": parts["ruc"], "ambiente": parts["ambiente"],
                    "estab": parts["series"][:3], "ptoEmi": parts["series"][3:],
                    "secuencial": parts["sequence"],
                    "tipoEmision": parts["emission_type"]}
        wrong = [n for n, value in expected.items() if fields[n] != value]
        issued = root.find("./*/fechaEmision")  # the guía de remisión has none
        if issued is not None and (issued.text or "").strip() != parts["issue_date"].strftime("%d/%m/%Y"):
            wrong.insert(0, "fechaEmision")
        return wrong

    def _schema_error(self, path: Path, root: etree._Element) -> str:
        """lxml's message for the first way the document breaks the schema; "" when it is valid."""
        with self._schema_lock:
            schema = self._schemas.get(path)
            if schema is None:
                schema = self._schemas[path] = compile_schema(path)
            if schema.validate(root):
                return ""
            error = schema.error_log[0]
            return f"{error.message} (línea {error.line})"

    def _receive(self, comprobante: Comprobante) -> None:
        """Registers the document unless SRI already has it or its secuencial (called with the lock held)."""
        clave = comprobante.clave
        counters = self._counters.setdefault(clave, Counters())
        current = self._documents.get(clave)
        if current is not None and current.status != "not_authorized":
            raise Returned(sri_message("43", f"La clave de acceso {clave} ya fue recibida."))
        holder = self._series.get(comprobante.series)
        if holder is not None and holder != clave:
            raise Returned(sri_message("45", f"El secuencial {comprobante.series[-1]} ya fue registrado con "
                                             f"la clave de acceso {holder}."))
        if self._rejections:
            comprobante.problems.append(self._rejections.pop(0))
        document = Document(comprobante=comprobante, polls_left=self.processing_polls)
        if current is not None:
            document.rejected = [*current.rejected, current.decision]
        self._documents[clave] = document
        self._series[comprobante.series] = clave
        counters.accepted += 1
        counters.messages = []

    # -- autorización ------------------------------------------------------------------------------

    def _authorization(self, call: etree._Element) -> bytes:
        clave = (call.findtext(AUTHORIZATION.argument) or "").strip()
        with self._lock:
            document = self._documents.get(clave)
            if clave:
                self._counters.setdefault(clave, Counters()).polls += 1
            entries = self._entries(document) if document is not None else []

        def build(answer: etree._Element) -> None:
            _add(answer, "claveAccesoConsultada", clave)
            _add(answer, "numeroComprobantes", str(len(entries)))
            group = _add(answer, "autorizaciones")
            for entry in entries:
                autorizacion = _add(group, "autorizacion")
                for name in ("estado", "numeroAutorizacion", "fechaAutorizacion", "ambiente"):
                    if name in entry:
                        _add(autorizacion, name, entry[name])
                if "comprobante" in entry:
                    _add(autorizacion, "comprobante").text = etree.CDATA(entry["comprobante"])
                _add_messages(autorizacion, entry["mensajes"])

        return _envelope(AUTHORIZATION, build)

    def _entries(self, document: Document) -> list[dict]:
        """The autorizacion entries answered for a document, deciding it once its polls run out
        (called with the lock held)."""
        comprobante = document.comprobante
        if document.status == "processing":
            if document.polls_left > 0:
                document.polls_left -= 1
                return [{"estado": "EN PROCESO", "mensajes": []}]
            ambiente = comprobante.clave[23]
            entry = {"fechaAutorizacion": _now(), "ambiente": AMBIENTES.get(ambiente, ambiente),
                     "comprobante": comprobante.text}
            if comprobante.problems:
                document.status = "not_authorized"
                entry = {"estado": "NO AUTORIZADO", **entry, "mensajes": list(comprobante.problems)}
            else:
                document.status = "authorized"
                warnings = [sri_message("60", warning=True)] if ambiente == "1" else []
                entry = {"estado": "AUTORIZADO", "numeroAutorizacion": comprobante.clave, **entry,
                         "mensajes": warnings}
            document.decision = entry
            counters = self._counters.setdefault(comprobante.clave, Counters())
            counters.messages = [m.code for m in entry["mensajes"]]
        if document.status == "authorized":
            return [document.decision, *document.rejected[-1:]]
        return [document.decision]


def _objects(value: Any, name: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{name} must be a list of objects")
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SriSimulator"

    @property
    def simulator(self) -> SriSimulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        service = _BY_PATH.get(url.path)
        if url.path == f"{ADMIN_PATH}/state":
            self._json(200, self.simulator.state())
        elif service is not None and url.query.lower() == "wsdl":
            self._send(200, _wsdl(service, self.simulator.url))
        else:
            self._send(404, b"Not Found", "text/plain")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        service = _BY_PATH.get(path)
        if service is not None:
            self._soap(service, body)
        elif path == f"{ADMIN_PATH}/config":
            try:
                self.simulator.configure(json.loads(body or b"{}"))
            except ValueError as exc:  # json.JSONDecodeError included
                self._json(400, {"error": str(exc)})
                return
            self._json(200, self.simulator.state())
        elif path == f"{ADMIN_PATH}/reset":
            self.simulator.reset()
            self._json(200, self.simulator.state())
        else:
            self._send(404, b"Not Found", "text/plain")

    def _soap(self, service: Service, body: bytes) -> None:
        try:
            status, answer = self.simulator.soap(service, body)
        except Hold:
            self.close_connection = True
            self.simulator.hold(self.connection)
            return
        except Exception:  # a bug here must look like a server error to the client, as SRI's would
            log.exception("SRI simulator failed on a %s request", service.name)
            status, answer = 500, _fault("Internal error")
        self._send(status, answer)
