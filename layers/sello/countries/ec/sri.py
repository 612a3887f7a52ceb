"""Client for SRI's offline web services: recepción (validarComprobante) and autorización
(autorizacionComprobante), SOAP 1.1 over HTTPS, one base URL per environment (settings.sri_test_url for
pruebas, settings.sri_live_url for producción).

Answers are read by element name whatever their namespace: SRI qualifies only the response element
and leaves everything inside it unqualified. How each answer maps to the plugin's outcomes:

- recepción RECIBIDA → received. DEVUELTA → rejected with SRI's messages, except 43 (clave ya
  registrada) and 70 (clave en procesamiento), which mean SRI already has the document: received, so
  the workflow polls and never sends it again; and 50 (error interno general) → AuthorityUnavailable.
- autorización AUTORIZADO → authorized, with the `<autorizacion>` record to archive; NO AUTORIZADO (or
  the legacy RECHAZADO) → rejected; EN PROCESO → processing; no autorización at all
  (numeroComprobantes 0) → unknown (SRI does not have it, or does not list it yet). When several autorizaciones come back, the AUTORIZADO one wins, else the last one.
- Transport errors, timeouts, any HTTP status but 200 (5xx, and 4xx as well: SRI's front end answers
  odd statuses under load, a 4xx is never a processed request so repeating it is safe, and a bad URL
  still ends the document as failed once the workflow's retries run out), SOAP faults, and empty or
  unreadable answers → AuthorityUnavailable.

Nothing here logs or reports the document itself: errors carry the URL, the HTTP status and SRI's
codes only."""

from __future__ import annotations

import base64
import copy
import logging
from datetime import datetime, timedelta, timezone
from typing import Literal

import httpx
from lxml import etree

from sello.countries import AuthorityUnavailable
from sello.countries.outcomes import AuthorityMessage, PollOutcome, SubmitOutcome
from sello.settings import Settings, get_settings

log = logging.getLogger(__name__)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
RECEPTION_NS = "http://ec.gob.sri.ws.recepcion"
AUTHORIZATION_NS = "http://ec.gob.sri.ws.autorizacion"
RECEPTION_SERVICE = "RecepcionComprobantesOffline"
AUTHORIZATION_SERVICE = "AutorizacionComprobantesOffline"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Recepción identifiers that say SRI already holds the document: poll it, never send it again.
ALREADY_RECEIVED = {"43", "70"}  # clave acceso registrada, clave de acceso en procesamiento
INTERNAL_ERROR = "50"  # error interno general: try again later
WARNING_TYPES = {"ADVERTENCIA", "INFORMATIVO"}  # anything else (ERROR) stops the document
REJECTED_STATES = {"NO AUTORIZADO", "RECHAZADO"}  # RECHAZADO: older answers (ficha's sample)
# What SRI's error identifiers (ficha técnica, §11) mean, as the stable reasons a client sees on a
# rejected document. Identifiers missing here are reported as "rejected_by_authority".
REASONS = {
    "2": "issuer_not_active", "10": "establishment_closed", "26": "document_too_large",
    "27": "issuer_class_not_allowed", "28": "electronic_agreement_missing", "35": "schema_violation",
    "36": "schema_version_retired", "37": "issuer_not_authorized", "39": "invalid_signature",
    "40": "certificate_error", "42": "certificate_revoked", "45": "sequence_already_used",
    "46": "issuer_unknown", "47": "document_type_unknown", "48": "schema_version_unknown",
    "49": "empty_request", "52": "amount_mismatch", "56": "establishment_closed",
    "57": "authorization_suspended", "58": "access_key_mismatch", "63": "issuer_closed",
    "65": "issue_date_too_old", "67": "invalid_date", "80": "access_key_malformed",
    "82": "transport_date_before_issue",
}
# SRI's wall clock (Ecuador mainland, no daylight saving time), for dates given without an offset.
SRI_TZ = timezone(timedelta(hours=-5))
_FAULT_TEXT_LIMIT = 120  # a fault string is quoted at most this long in errors

Environment = Literal["test", "live"]
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace ("" for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child of `parent` with that local name, whatever its namespace."""
    if parent is None:
        return None
    return next((c for c in parent if local_name(c) == name), None)


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if parent is None else [c for c in parent if local_name(c) == name]


def _text(parent: etree._Element | None, name: str) -> str:
    found = child(parent, name)
    return (found.text or "").strip() if found is not None else ""


def _find(root: etree._Element, name: str) -> etree._Element | None:
    """The first element with that local name anywhere under root (root included)."""
    return next((e for e in root.iter() if local_name(e) == name), None)


def _messages(container: etree._Element | None) -> tuple[AuthorityMessage, ...]:
    """The `mensaje` entries of every `mensajes` child of container (a comprobante or an autorizacion)."""
    found = []
    for group in _children(container, "mensajes"):
        for item in _children(group, "mensaje"):
            found.append(AuthorityMessage(
                code=_text(item, "identificador"),
                message=_text(item, "mensaje"),
                detail=_text(item, "informacionAdicional"),
                warning=_text(item, "tipo").upper() in WARNING_TYPES,
                reason=REASONS.get(_text(item, "identificador"), ""),
            ))
    return tuple(found)


def envelope(namespace: str, operation: str, argument: str, value: str) -> bytes:
    """The SOAP 1.1 request SRI's WSDLs describe: the operation element qualified, its argument not."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "ec": namespace})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    call = etree.SubElement(body, f"{{{namespace}}}{operation}")
    etree.SubElement(call, argument).text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def authorized_at(value: str) -> str:
    """fechaAutorizacion as ISO 8601: SRI gives an xs:dateTime (kept as stated); older answers a
    "dd/mm/yyyy hh:mm:ss" in Ecuador's time, which gets the −05:00 offset."""
    try:
        datetime.fromisoformat(value)
        return value
    except ValueError:
        pass
    try:
        return datetime.strptime(value, "%d/%m/%Y %H:%M:%S").replace(tzinfo=SRI_TZ).isoformat()
    except ValueError:
        return value


def authorization_record(autorizacion: etree._Element) -> bytes:
    """The archival `<autorizacion>` document: estado, numeroAutorizacion, fechaAutorizacion, ambiente,
    the signed comprobante as CDATA and SRI's messages as given; UTF-8 with an XML declaration."""
    record = etree.Element("autorizacion")
    for name in ("estado", "numeroAutorizacion", "fechaAutorizacion", "ambiente"):
        etree.SubElement(record, name).text = _text(autorizacion, name)
    source = child(autorizacion, "comprobante")
    text = (source.text or "") if source is not None else ""
    comprobante = etree.SubElement(record, "comprobante")
    try:
        comprobante.text = etree.CDATA(text)
    except ValueError:  # text holding "]]>" cannot be CDATA; escaped text says the same
        comprobante.text = text
    mensajes = etree.SubElement(record, "mensajes")
    for group in _children(autorizacion, "mensajes"):
        mensajes.extend(copy.deepcopy(item) for item in _children(group, "mensaje"))
    etree.cleanup_namespaces(record)
    return XML_DECLARATION + etree.tostring(record, encoding="UTF-8", xml_declaration=False)


class SriClient:
    """One client per warm function; its HTTP connection is reused between calls."""

    def __init__(self, settings: Settings | None = None, transport: httpx.BaseTransport | None = None):
        self.settings = settings or get_settings()
        self._http = httpx.Client(transport=transport, headers=HEADERS, trust_env=False,
                                  timeout=httpx.Timeout(self.settings.sri_timeout_seconds))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SriClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def base_url(self, environment: str) -> str:
        urls = {"test": self.settings.sri_test_url, "live": self.settings.sri_live_url}
        if environment not in urls:
            raise ValueError(f"environment must be 'test' or 'live', not {environment!r}")
        return urls[environment].rstrip("/")

    # -- recepción -------------------------------------------------------------------------------------

    def submit(self, signed_xml: bytes, environment: Environment) -> SubmitOutcome:
        """Sends a signed comprobante to recepción."""
        request = envelope(RECEPTION_NS, "validarComprobante", "xml",
                           base64.b64encode(signed_xml).decode("ascii"))
        answer = _find(self._call(environment, RECEPTION_SERVICE, request), "RespuestaRecepcionComprobante")
        if answer is None:
            raise AuthorityUnavailable("SRI recepción answered without a RespuestaRecepcionComprobante.")
        state = _text(answer, "estado").upper()
        messages = tuple(m for c in _children(child(answer, "comprobantes"), "comprobante")
                         for m in _messages(c))
        codes = [m.code for m in messages if not m.warning]
        log.info("SRI recepción: %s, messages %s", state, [m.code for m in messages])
        if state == "RECIBIDA":
            return SubmitOutcome("received", messages)
        if state != "DEVUELTA":
            raise AuthorityUnavailable(f"SRI recepción answered an unknown estado {state[:40]!r}.")
        if ALREADY_RECEIVED.intersection(codes):
            return SubmitOutcome("received", messages)
        if INTERNAL_ERROR in codes:
            raise AuthorityUnavailable("SRI recepción answered error 50 (error interno general).")
        return SubmitOutcome("rejected", messages)

    # -- autorización ----------------------------------------------------------------------------------

    def authorize(self, access_key: str, environment: Environment) -> PollOutcome:
        """SRI's decision on the document with that clave de acceso."""
        request = envelope(AUTHORIZATION_NS, "autorizacionComprobante", "claveAccesoComprobante", access_key)
        answer = _find(self._call(environment, AUTHORIZATION_SERVICE, request),
                       "RespuestaAutorizacionComprobante")
        if answer is None:
            raise AuthorityUnavailable("SRI autorización answered without a "
                                       "RespuestaAutorizacionComprobante.")
        asked = _text(answer, "claveAccesoConsultada")
        if asked and asked != access_key:
            raise AuthorityUnavailable("SRI autorización answered for another clave de acceso.")
        entries = _children(child(answer, "autorizaciones"), "autorizacion")
        if not entries:
            log.info("SRI autorización %s: not found", access_key)
            return PollOutcome("unknown")
        chosen = next((e for e in entries if _text(e, "estado").upper() == "AUTORIZADO"), entries[-1])
        state = _text(chosen, "estado").upper()
        messages = _messages(chosen)
        log.info("SRI autorización %s: %s, messages %s", access_key, state, [m.code for m in messages])
        if state == "AUTORIZADO":
            return PollOutcome("authorized", number=_text(chosen, "numeroAutorizacion") or access_key,
                               authorized_at=authorized_at(_text(chosen, "fechaAutorizacion")),
                               document=authorization_record(chosen), messages=messages)
        if state in REJECTED_STATES:
            return PollOutcome("rejected", messages=messages)
        if state == "EN PROCESO":
            return PollOutcome("processing", messages=messages)
        raise AuthorityUnavailable(f"SRI autorización answered an unknown estado {state[:40]!r}.")

    # -- transport -------------------------------------------------------------------------------------

    def _call(self, environment: str, service: str, request: bytes) -> etree._Element:
        """POSTs the envelope and returns the parsed answer, or raises AuthorityUnavailable."""
        url = f"{self.base_url(environment)}/{service}"
        try:
            response = self._http.post(url, content=request)
        except httpx.TimeoutException as exc:
            raise AuthorityUnavailable(
                f"SRI did not answer in time ({type(exc).__name__}) at {url}.") from None
        except httpx.HTTPError as exc:
            raise AuthorityUnavailable(f"SRI could not be reached ({type(exc).__name__}) at {url}.") from None
        root = None
        if response.content.strip():
            try:
                root = etree.fromstring(response.content, SAFE_PARSER)
            except etree.XMLSyntaxError:
                root = None
        fault = _find(root, "Fault") if root is not None else None
        if fault is not None:
            reason = " ".join(_text(fault, "faultstring").split())[:_FAULT_TEXT_LIMIT]
            raise AuthorityUnavailable(f"SRI answered a SOAP fault (HTTP {response.status_code}, "
                                       f"{_text(fault, 'faultcode') or 'no faultcode'}: {reason}) at {url}.")
        if response.status_code != 200:
            raise AuthorityUnavailable(f"SRI answered HTTP {response.status_code} at {url}.")
        if root is None:
            what = "an empty answer" if not response.content.strip() else "an answer that is not XML"
            raise AuthorityUnavailable(f"SRI gave {what} (HTTP 200) at {url}.")
        return root
