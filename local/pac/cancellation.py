"""Cancellations at the PAC simulator: SW Sapien's `POST /cfdi33/cancel/xml` and what SAT's status
service then says of the cancelled CFDI (local.pac.sat_status).

The request is SAT's `Cancelacion` (namespace http://cancelacfd.sat.gob.mx: RfcEmisor, Fecha, one
Folios/Folio with UUID, Motivo and FolioSustitucion), signed as satcfdi signs it: an enveloped XML
signature, C14N 1.0 (inclusive), RSA-SHA1, the certificate in KeyInfo. The simulator checks the
signature (the digest of the document without its Signature, then the signature of SignedInfo with the
certificate's key) and that the certificate is the RfcEmisor's; a request that fails answers SW's error
`{"status": "error", "message": "302 - …"}` (303 for another RFC, 301 for one that cannot be read).

Each folio then gets SAT's code, in `data.uuid` {UUID: code} beside `data.acuse` (SAT's receipt:
`Acuse` with Fecha, RfcEmisor and Folios/UUID + EstatusUUID; the simulator does not sign it):
201 the request is taken; 202 the CFDI is already cancelled; 203 the CFDI is not the RfcEmisor's;
204 not cancelable: payment CFDIs (TipoDeComprobante P) stamped here relate to it (CfdiRelacionado or
pago20 DoctoRelacionado IdDocumento) and are not cancelled themselves; 205 no CFDI with that UUID was
stamped here; 207 a Motivo other than 01–04; 208 motive 01 without a FolioSustitucion, or one that is
not a CFDI stamped here naming this one in CfdiRelacionados with TipoRelacion 04; 209 a
FolioSustitucion with another motive.

A taken request is decided as SAT decides (EsCancelable, local.pac.sat_status.cancelable): a CFDI
"Cancelable sin aceptación" is cancelled at once (Estado Cancelado, EstatusCancelacion "Cancelado sin
aceptación"). One "Cancelable con aceptación" waits for its receiver: the status service answers
"En proceso" (Estado Vigente) to the first `polls` queries of it, then the receiver's answer, the
knob `acceptance`: "accept" → Cancelado, "Cancelado con aceptación"; "reject" → Vigente, "Solicitud
rechazada" (a new request starts over); "expire" → Cancelado, "Plazo vencido" (the receiver let the
time pass). SAT's rule that a CFDI cancelled by the next business day needs no acceptance is left
out: every document here would be that young."""

from __future__ import annotations

import base64
import binascii
import hashlib
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from local.pac import certificates, sat

CANCEL_NS = "http://cancelacfd.sat.gob.mx"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
PAGOS_NS = "http://www.sat.gob.mx/Pagos20"
CANCEL_PATH = "/cfdi33/cancel/xml"
ACCEPTANCES = ("accept", "reject", "expire")
DEFAULT_POLLS = 2
MOTIVES = {"01", "02", "03", "04"}
SUBSTITUTION = "04"

# SAT's status words.
IN_PROCESS = "En proceso"
WITHOUT_ACCEPTANCE = "Cancelado sin aceptación"
WITH_ACCEPTANCE = "Cancelado con aceptación"
EXPIRED = "Plazo vencido"
REJECTED = "Solicitud rechazada"
_OUTCOMES = {"accept": ("Cancelado", WITH_ACCEPTANCE), "reject": ("Vigente", REJECTED),
             "expire": ("Cancelado", EXPIRED)}


class RequestRefused(Exception):
    """The whole request is refused (SW's error answer): SAT's code and text."""

    def __init__(self, code: str, text: str):
        super().__init__(f"{code} - {text}")
        self.code, self.text = code, text


@dataclass(frozen=True)
class Folio:
    uuid: str
    motive: str
    substitute: str  # "" when none


@dataclass(frozen=True)
class Request:
    rfc: str
    fecha: str
    folios: tuple[Folio, ...]


def _c14n(element: etree._Element) -> bytes:
    """Inclusive C14N of the element as a document of its own (its in-scope namespaces declared on it):
    libxml2's canonical form of a subtree in place can differ on default namespaces."""
    return etree.tostring(etree.fromstring(etree.tostring(element), sat.SAFE_PARSER), method="c14n",
                          exclusive=False)


def read(xml: bytes) -> Request:
    """The request, its signature verified; RequestRefused otherwise."""
    try:
        root = etree.fromstring(xml, sat.SAFE_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise RequestRefused("301", "XML mal formado.") from None
    if root.tag != f"{{{CANCEL_NS}}}Cancelacion":
        raise RequestRefused("301", "XML mal formado: el elemento raíz no es una Cancelacion.")
    signature = root.find(f"{{{DS_NS}}}Signature")
    if signature is None:
        raise RequestRefused("302", "Sello mal formado o inválido: la solicitud no está firmada.")
    certificate = _certificate(signature)
    unsigned = deepcopy(root)
    unsigned.remove(unsigned.find(f"{{{DS_NS}}}Signature"))
    digest = base64.b64encode(hashlib.sha1(_c14n(unsigned)).digest()).decode()
    signed_info = signature.find(f"{{{DS_NS}}}SignedInfo")
    if signed_info is None or digest != (signed_info.findtext(f".//{{{DS_NS}}}DigestValue") or "").strip():
        raise RequestRefused("302", "Sello mal formado o inválido: el digest no corresponde a la solicitud.")
    try:
        value = base64.b64decode("".join((signature.findtext(f"{{{DS_NS}}}SignatureValue") or "").split()),
                                 validate=True)
        certificate.public_key().verify(value, _c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())
    except (binascii.Error, ValueError, InvalidSignature):
        raise RequestRefused("302", "Sello mal formado o inválido: la firma no corresponde al certificado.") from None
    rfc = root.get("RfcEmisor", "")
    if certificates.rfc(certificate) != rfc:
        raise RequestRefused("303", "Sello no corresponde a emisor: el certificado no es del RfcEmisor.")
    folios = tuple(Folio(f.get("UUID", "").upper(), f.get("Motivo", ""), f.get("FolioSustitucion", "").upper())
                   for f in root.iter(f"{{{CANCEL_NS}}}Folio"))
    if not folios:
        raise RequestRefused("301", "XML mal formado: la solicitud no tiene folios.")
    return Request(rfc=rfc, fecha=root.get("Fecha", ""), folios=folios)


def _certificate(signature: etree._Element) -> x509.Certificate:
    text = signature.findtext(f".//{{{DS_NS}}}X509Certificate") or ""
    try:
        return certificates.read(text)
    except certificates.Unreadable:
        raise RequestRefused("302", "Sello mal formado o inválido: el certificado no se puede leer.") from None


def acuse(request: Request, codes: dict[str, str], now: datetime) -> str:
    """SAT's receipt of the request (unsigned here)."""
    root = etree.Element(f"{{{CANCEL_NS}}}Acuse", nsmap={None: CANCEL_NS},
                         Fecha=now.replace(tzinfo=None, microsecond=0).isoformat(), RfcEmisor=request.rfc)
    for uuid, code in codes.items():
        folios = etree.SubElement(root, f"{{{CANCEL_NS}}}Folios")
        etree.SubElement(folios, f"{{{CANCEL_NS}}}UUID").text = uuid
        etree.SubElement(folios, f"{{{CANCEL_NS}}}EstatusUUID").text = code
    return etree.tostring(root, xml_declaration=True, encoding="utf-8").decode("utf-8")


def relations(cfdi: str) -> tuple[str, list[tuple[str, str]]]:
    """(TipoDeComprobante, [(TipoRelacion or "pago", UUID)]) of a stamped CFDI: its CfdiRelacionados and
    the documents its Pagos 2.0 complement pays."""
    root = etree.fromstring(cfdi.encode("utf-8"), sat.SAFE_PARSER)
    found = [(group.get("TipoRelacion", ""), (item.get("UUID") or "").upper())
             for group in root.iterfind(f"{{{sat.CFDI_NS}}}CfdiRelacionados")
             for item in group.iterfind(f"{{{sat.CFDI_NS}}}CfdiRelacionado")]
    found += [("pago", (item.get("IdDocumento") or "").upper())
              for item in root.iter(f"{{{PAGOS_NS}}}DoctoRelacionado")]
    return root.get("TipoDeComprobante", ""), found


@dataclass
class Process:
    """One CFDI's cancellation at the simulated SAT."""

    motive: str
    substitute: str
    needs_acceptance: bool
    polls_left: int
    acceptance: str
    estado: str = "Vigente"
    estatus: str = IN_PROCESS

    @classmethod
    def start(cls, motive: str, substitute: str, needs_acceptance: bool, polls: int, acceptance: str) -> Process:
        process = cls(motive, substitute, needs_acceptance, polls, acceptance)
        if not needs_acceptance:
            process.estado, process.estatus = "Cancelado", WITHOUT_ACCEPTANCE
        return process

    @property
    def cancelled(self) -> bool:
        return self.estado == "Cancelado"

    @property
    def open(self) -> bool:
        return self.estatus == IN_PROCESS

    def polled(self) -> None:
        """One query of the status service: the receiver answers once the polls are used up."""
        if not self.open:
            return
        if self.polls_left > 0:
            self.polls_left -= 1
            return
        self.estado, self.estatus = _OUTCOMES[self.acceptance]
