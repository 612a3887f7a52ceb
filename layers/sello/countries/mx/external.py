"""A CFDI 4.0 built and sealed by another system, to be stamped through Sello (POST
/v1/documents/stamp): read safely, checked as the PAC will check it where that needs no registry,
and summed up as the document Sello stores.

The bytes come from outside, so they are read defensively, and every refusal happens before
anything is stored:
- UTF-8 text (SAT's only encoding for a CFDI) with no DOCTYPE and no entity declaration anywhere:
  that is looked for in the raw bytes before any parser sees them (an XXE or a billion laughs never
  reaches libxml2), and again on the parsed document;
- parsed by lxml with entities left unresolved, no DTD loaded, no network, and libxml2's default
  limits kept (no `huge_tree`: text nodes, attribute values and nesting depth bounded); the size is
  the service's check, made before this module runs;
- a Comprobante of the CFDI 4.0 namespace, Version 4.0, not stamped yet (no TimbreFiscalDigital);
- valid against SAT's cfdv40.xsd and catalogs (cfdi.schema_errors, the schema Sello's own CFDIs pass);
- an invoice (I) or a credit note (E), the types Sello issues in Mexico;
- Fecha, wall-clock time at LugarExpedicion, at most 72 hours old and at most 5 minutes ahead (the
  PAC's window: SAT stamps within 72 hours of the date);
- Certificado a readable X.509 certificate whose number is NoCertificado, and Sello its RSA
  PKCS#1 v1.5 SHA-256 signature of the cadena original, which Sello computes itself with SAT's XSLT
  as satcfdi bundles it (the same transform that seals Sello's own CFDIs).
Whether the certificate is a CSD of the issuer, valid at Fecha and (live) trusted is the service's
check, as for an uploaded certificate (services.certificates.check_signer).

The document keeps a short summary (`content`): what authority_status and the API's views read (the
issuer's and the customer's RFCs, names, totals, Fecha); the PDF is drawn from the stamped XML
alone. Its number is Serie-Folio as the CFDI states them (Sello allocates none), and its natural key
the SHA-256 of its Sello, so the same sealed CFDI sent twice is one document."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from sello.countries import PreparedDocument
from sello.countries.outcomes import ExternalDocument
from sello.countries.mx import catalogs, cfdi, csd
from sello.countries.mx.documents import CFDI_TYPES
from sello.errors import Unprocessable
from sello.i18n import _l

NAMESPACE = cfdi.NAMESPACE
TFD = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"
MAX_AGE = timedelta(hours=72)
MAX_AHEAD = timedelta(minutes=5)
# TipoDeComprobante -> Sello's document type, for the types whose summary and printed version come from
# the CFDI alone: a payment receipt (P) is not taken, since what it pays is recorded on Sello's invoices
# when Sello issues it, and one made elsewhere would leave those balances wrong.
TYPES = {CFDI_TYPES[doc_type]: doc_type for doc_type in ("invoice", "credit_note")}
# What no CFDI needs and an attack does: a document type declaration or an entity declaration.
_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# How many schema problems a refusal lists, with element names written with their usual prefixes
# rather than libxml2's {namespace}name.
SHOWN_ERRORS = 3
_CLARK = re.compile(r"\{([^}]*)\}")
_PREFIXES = {NAMESPACE: "cfdi:"}

_transform_lock = threading.Lock()


def _path(*parts: str) -> str:
    return ".".join(("xml", *parts))


def _refuse(message, code: str, *parts: str) -> Unprocessable:
    return Unprocessable(message, code=code, path=_path(*parts))


def parse(data: bytes) -> etree._Element:
    """The root element of untrusted XML bytes, read as the module's docstring says."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(_l("The CFDI is not UTF-8 text, the encoding SAT requires."), "cfdi_malformed") from None
    if _DECLARATIONS.search(data):
        raise _refuse(_l("The CFDI has a document type or entity declaration (<!DOCTYPE or <!ENTITY); a CFDI has "
                         "none, and none is accepted."), "cfdi_doctype_not_allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _refuse(_l("The CFDI is not well-formed XML: {problem}", problem=str(exc)[:200]),
                      "cfdi_malformed") from None
    info = root.getroottree().docinfo
    if (info.encoding or "UTF-8").upper() not in ("UTF-8", "UTF8"):
        raise _refuse(_l("The CFDI is not UTF-8 text, the encoding SAT requires."), "cfdi_malformed")
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refuse(_l("The CFDI has a document type or entity declaration (<!DOCTYPE or <!ENTITY); a CFDI has "
                         "none, and none is accepted."), "cfdi_doctype_not_allowed")
    return root


@cache
def _cadena_transform():
    from satcfdi.transform import xslt_transform

    return xslt_transform(f"{{{NAMESPACE}}}Comprobante", "4.0")


def cadena_original(root: etree._Element) -> str:
    """The cadena original of a CFDI 4.0, by SAT's XSLT (cadenaoriginal_4_0) as satcfdi bundles it. One
    transform per process, used by one thread at a time."""
    with _transform_lock:
        return str(_cadena_transform()(root))


def _child(root: etree._Element, name: str) -> etree._Element | None:
    return root.find(f"{{{NAMESPACE}}}{name}")


def _fecha(root: etree._Element, now: datetime) -> tuple[datetime, datetime]:
    """(Fecha as written, the same instant in UTC), within the PAC's window around `now`."""
    try:  # the schema fixed its pattern (around blanks it collapses) and checked the zip code
        wall = datetime.fromisoformat(root.get("Fecha").strip())
        moment = catalogs.utc_instant(root.get("LugarExpedicion").strip(), wall)
    except (ValueError, KeyError):
        moment = None
    if moment is None or not now - MAX_AGE <= moment <= now + MAX_AHEAD:
        raise _refuse(_l("Fecha {fecha} (at the zip code of LugarExpedicion) is not within the last 72 hours: SAT "
                         "stamps a CFDI within 72 hours of its date, and not before it.", fecha=root.get("Fecha")),
                      "cfdi_date_out_of_range", "Fecha")
    return wall, moment


def _base64(value: str) -> bytes:
    """An attribute's base64 (line breaks some systems write into it left out)."""
    return base64.b64decode("".join(value.split()), validate=True)


def _certificate(root: etree._Element) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(_base64(root.get("Certificado")))
    except (binascii.Error, ValueError):
        raise _refuse(_l("Certificado is not a certificate: it must be the base64 of the CSD's certificate "
                         "(.cer)."), "cfdi_certificate_invalid", "Certificado") from None
    try:
        number = csd.certificate_number(certificate)
    except ValueError:
        number = None
    if number != root.get("NoCertificado"):
        raise _refuse(_l("NoCertificado {stated} is not the number of the certificate in Certificado ({number}).",
                         stated=root.get("NoCertificado"), number=number or "-"),
                      "cfdi_certificate_number_mismatch", "NoCertificado")
    return certificate


def _check_seal(root: etree._Element, certificate: x509.Certificate) -> None:
    key = certificate.public_key()
    try:
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature
        key.verify(_base64(root.get("Sello")), cadena_original(root).encode("utf-8"), padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, etree.XSLTApplyError):
        raise _refuse(_l("Sello is not the signature of this CFDI's cadena original with the certificate in "
                         "Certificado: the CFDI was changed after it was sealed, or sealed with another key."),
                      "cfdi_seal_invalid", "Sello") from None


def _amount(value: str | None) -> Decimal:
    try:
        return Decimal(value) if value else Decimal(0)
    except InvalidOperation:  # the schema allows none of these; kept safe all the same
        return Decimal(0)


def _summary(root: etree._Element, doc_type: str, wall: datetime) -> PreparedDocument:
    issuer, customer = _child(root, "Emisor"), _child(root, "Receptor")
    taxes = _child(root, "Impuestos")
    discount = _amount(root.get("Descuento"))
    subtotal = _amount(root.get("SubTotal"))
    tax = Decimal(0)
    if taxes is not None:
        tax = _amount(taxes.get("TotalImpuestosTrasladados")) - _amount(taxes.get("TotalImpuestosRetenidos"))
    currency, total = root.get("Moneda"), root.get("Total")
    content = {
        "type": doc_type,
        "cfdi_type": root.get("TipoDeComprobante"),
        "external": True,
        "issuer": {"rfc": issuer.get("Rfc"), "name": issuer.get("Nombre"), "regime": issuer.get("RegimenFiscal"),
                   "zip": root.get("LugarExpedicion")},
        "fecha": root.get("Fecha"),
        "issue_date": wall.date().isoformat(),
        "currency": currency,
        "customer": {"tax_id": customer.get("Rfc"), "name": customer.get("Nombre"),
                     "zip": customer.get("DomicilioFiscalReceptor"),
                     "tax_regime": customer.get("RegimenFiscalReceptor"), "cfdi_use": customer.get("UsoCFDI")},
        "totals": {"subtotal": root.get("SubTotal"), "discount": root.get("Descuento") or "0", "total": total},
    }
    return PreparedDocument(
        type=doc_type, series=root.get("Serie") or "", issue_date=wall.date(),
        customer={"name": customer.get("Nombre"), "tax_id": customer.get("Rfc")},
        totals={"currency": currency, "subtotal": subtotal - discount, "discount": discount, "tax": tax,
                "total": _amount(total)},
        content=content)


def read(data: bytes, now: datetime) -> ExternalDocument:
    """The checked summary of a sealed CFDI 4.0 (see the module's docstring); Unprocessable with its
    own code and path (`xml` and the attribute, e.g. `xml.Sello`) for each check that fails."""
    root = parse(data)
    if root.tag != f"{{{NAMESPACE}}}Comprobante" or root.get("Version") != "4.0":
        raise _refuse(_l("The XML is not a CFDI 4.0: its root must be cfdi:Comprobante (namespace {namespace}) "
                         "with Version 4.0.", namespace=NAMESPACE), "cfdi_not_cfdi40")
    if any(True for _ in root.iter(TFD)):
        raise _refuse(_l("The CFDI is already stamped (it carries a TimbreFiscalDigital); send it sealed, before "
                         "stamping."), "cfdi_already_stamped", "Complemento")
    errors = cfdi.schema_errors(data)
    if errors:
        shown = (_CLARK.sub(lambda m: _PREFIXES.get(m.group(1), ""), e)[:200] for e in errors[:SHOWN_ERRORS])
        raise _refuse(_l("The CFDI does not match SAT's schema (cfdv40.xsd): {errors}", errors="; ".join(shown)),
                      "cfdi_schema_invalid")
    doc_type = TYPES.get(root.get("TipoDeComprobante"))
    if doc_type is None:
        raise _refuse(_l("TipoDeComprobante {type} is not stamped through Sello: send an invoice (I) or a "
                         "credit note (E).", type=root.get("TipoDeComprobante")),
                      "cfdi_type_not_supported", "TipoDeComprobante")
    wall, moment = _fecha(root, now)
    certificate = _certificate(root)
    _check_seal(root, certificate)
    serie, folio = root.get("Serie"), root.get("Folio")
    number = "-".join(part.strip() for part in (serie, folio) if part and part.strip()) or None
    return ExternalDocument(
        prepared=_summary(root, doc_type, wall), number=number,
        tax_id=_child(root, "Emisor").get("Rfc"), tax_id_path=_path("Emisor", "Rfc"),
        certificate=certificate, certificate_path=_path("Certificado"), signed_at=moment,
        key=hashlib.sha256(root.get("Sello").encode("ascii")).hexdigest())
