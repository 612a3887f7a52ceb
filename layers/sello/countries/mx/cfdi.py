"""The CFDI 4.0 of a prepared document (documents.prepare's content): built with satcfdi's builders
(`satcfdi.create.cfd.cfdi40`), sealed with the issuer's CSD and checked against SAT's schema before
it leaves.

- build: the Comprobante, its nodes made by satcfdi's node builders (Emisor, Receptor, Concepto,
  Traslado, Retencion, InformacionGlobal, CfdiRelacionados); build_payment: a CFDI de pago with its
  Pagos 2.0 complement (payments.py). Every amount is the prepared one
  (amounts.py): satcfdi's Comprobante computes its own when it is created, and those are replaced,
  because they differ from SAT's rules as amounts.py applies them in measured cases: a fee per unit
  (IEPS Cuota) gets the fee itself as its Importe rather than Base × fee, lines are rounded half to
  even, and a tax's rounding is carried from line to line (so a line's Importe is not always
  round(Base × TasaOCuota)).
- seal: NoCertificado and Certificado first (NoCertificado is part of the cadena original), then the
  cadena original by SAT's XSLT (cadenaoriginal_4_0, bundled with satcfdi) and Sello = base64 of its
  RSA PKCS#1 v1.5 SHA-256 signature with the CSD's key, by satcfdi's Signer made from the
  `cryptography` key and certificate (nothing is written to disk).
- validate: the bytes against SAT's cfdv40.xsd and Pagos20.xsd as satcfdi bundles them (with their
  catalogs and data types), compiled once per process. A CFDI that fails it is a bug here, never the caller's: it
  raises InvalidCfdi. Three of the schema's catalogs are huge enumerations (c_ClaveProdServ 52,747
  keys, c_CodigoPostal 95,777, c_ClaveUnidad 2,418) that libxml2 checks value by value: measured,
  they made validating a 10-concepto CFDI take 45–60 ms and compiling the schema 0.2–0.6 s. The schema
  is compiled with those three types reduced to the shape of their keys, and the keys themselves
  are looked up in the catalog database (catalogs.py), whose keys for them are the schema's or a
  subset of them (the catalog has retired 233 product keys the schema still lists), so no key the
  full schema refuses passes: validation takes about 0.1 ms and compiling about 20 ms.

`Fecha` is the prepared one (local time at the branch's zip code, without offset), so a document
built again is the same document. satcfdi.render (WeasyPrint) is never imported."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sello.countries.mx.documents import split_number

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

NAMESPACE = "http://www.sat.gob.mx/cfd/4"
PAGOS_NAMESPACE = "http://www.sat.gob.mx/Pagos20"
SCHEMA = ("transform", "schemas", "www.sat.gob.mx", "sitio_internet", "cfd", "4", "cfdv40.xsd")


class InvalidCfdi(Exception):
    """The CFDI Sello built does not match SAT's schema (a bug in Sello, not in the request)."""


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _positive(value: str | None) -> Decimal | None:
    """An optional amount written only when it is more than zero (Descuento)."""
    amount = _decimal(value)
    return amount if amount else None


def _line_taxes(line: Mapping[str, Any]):
    from satcfdi.create.cfd import cfdi40

    transfers = [cfdi40.Traslado(impuesto=t["tax"], tipo_factor=t["factor"], tasa_o_cuota=_decimal(t["rate"]),
                                 importe=_decimal(t["amount"]), base=Decimal(t["base"]))
                 for t in line["transfers"]]
    withholdings = [cfdi40.Retencion(impuesto=t["tax"], tipo_factor=t["factor"],
                                     tasa_o_cuota=_decimal(t["rate"]), importe=_decimal(t["amount"]),
                                     base=Decimal(t["base"]))
                    for t in line["withholdings"]]
    if not transfers and not withholdings:
        return None
    return cfdi40.Impuestos(traslados=transfers or None, retenciones=withholdings or None)


def _summary(taxes: Mapping[str, Any]) -> dict | None:
    """Comprobante/Impuestos as the prepared content has it."""
    summary: dict[str, Any] = {}
    if taxes["withholdings"]:
        summary["Retenciones"] = [{"Impuesto": t["tax"], "Importe": Decimal(t["amount"])}
                                  for t in taxes["withholdings"]]
        summary["TotalImpuestosRetenidos"] = Decimal(taxes["total_withheld"])
    if taxes["transfers"]:
        summary["Traslados"] = [{"Base": Decimal(t["base"]), "Impuesto": t["tax"], "TipoFactor": t["factor"],
                                 "TasaOCuota": _decimal(t["rate"]), "Importe": _decimal(t["amount"])}
                                for t in taxes["transfers"]]
        if taxes["total_transferred"] is not None:
            summary["TotalImpuestosTrasladados"] = Decimal(taxes["total_transferred"])
    return summary or None


def _related(related: Mapping[str, Any] | None):
    from satcfdi.create.cfd import cfdi40

    if not related:
        return None
    missing = [d["document_id"] for d in related["documents"] if "uuid" not in d]
    if missing:
        raise ValueError(f"related documents without a UUID: {', '.join(missing)} "
                         f"(documents.resolve_related fills them in)")
    return cfdi40.CfdiRelacionados(tipo_relacion=related["type"],
                                   cfdi_relacionado=[d["uuid"] for d in related["documents"]])


def build(content: Mapping[str, Any], *, serie: str, folio: str, fecha: datetime | None = None):
    """The unsealed Comprobante (a satcfdi cfdi40.Comprobante) of a prepared document's content,
    numbered `serie`-`folio`, dated `fecha` (default: the prepared Fecha, as it should be)."""
    from satcfdi.create.cfd import cfdi40

    issuer, customer, lines = content["issuer"], content["customer"], content["lines"]
    conceptos = [
        cfdi40.Concepto(
            clave_prod_serv=line["product_code"], cantidad=Decimal(line["quantity"]),
            clave_unidad=line["unit_code"], descripcion=line["description"],
            valor_unitario=Decimal(line["unit_price"]), objeto_imp=line["tax_object"],
            no_identificacion=line["code"], unidad=line["unit"], descuento=_positive(line["discount"]),
            impuestos=_line_taxes(line))
        for line in lines]
    info = content.get("global_information")
    comprobante = cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc=issuer["rfc"], nombre=issuer["name"], regimen_fiscal=issuer["regime"]),
        lugar_expedicion=issuer["zip"],
        receptor=cfdi40.Receptor(
            rfc=customer["tax_id"], nombre=customer["name"], domicilio_fiscal_receptor=customer["zip"],
            regimen_fiscal_receptor=customer["tax_regime"], uso_cfdi=customer["cfdi_use"],
            residencia_fiscal=customer.get("country"), num_reg_id_trib=customer.get("foreign_tax_id")),
        conceptos=conceptos,
        moneda=content["currency"],
        tipo_de_comprobante=content["cfdi_type"],
        exportacion=content["export"],
        serie=serie,
        folio=folio,
        forma_pago=content["payment_form"],
        condiciones_de_pago=content.get("payment_terms"),
        tipo_cambio=_decimal(content.get("exchange_rate")),
        metodo_pago=content["payment_method"],
        informacion_global=None if info is None else cfdi40.InformacionGlobal(
            periodicidad=info["periodicity"], meses=info["months"], ano=info["year"]),
        cfdi_relacionados=_related(content.get("related")),
        fecha=fecha or datetime.fromisoformat(content["fecha"]),
    )
    # The prepared amounts, in place of the ones satcfdi computed (see the module docstring).
    for concepto, line in zip(comprobante["Conceptos"], lines, strict=True):
        concepto["Importe"] = Decimal(line["amount"])
    totals = content["totals"]
    comprobante["SubTotal"] = Decimal(totals["subtotal"])
    comprobante["Descuento"] = _positive(totals["discount"])
    comprobante["Impuestos"] = _summary(content["taxes"])
    comprobante["Total"] = Decimal(totals["total"])
    return comprobante


def _payment_taxes_dr(taxes: Mapping[str, Any]):
    from satcfdi.create.cfd import pago20

    transfers = [pago20.TrasladoDR(base_dr=Decimal(t["base"]), impuesto_dr=t["tax"], tipo_factor_dr=t["factor"],
                                   tasa_o_cuota_dr=_decimal(t["rate"]), importe_dr=_decimal(t["amount"]))
                 for t in taxes["transfers"]]
    withholdings = [pago20.RetencionDR(base_dr=Decimal(t["base"]), impuesto_dr=t["tax"], tipo_factor_dr=t["factor"],
                                       tasa_o_cuota_dr=Decimal(t["rate"]), importe_dr=Decimal(t["amount"]))
                    for t in taxes["withholdings"]]
    if not transfers and not withholdings:
        return None
    return pago20.ImpuestosDR(traslados_dr=transfers or None, retenciones_dr=withholdings or None)


def _payment_taxes_p(taxes: Mapping[str, Any]) -> dict | None:
    """ImpuestosP as prepared (TasaOCuotaP and ImporteP left out of an exempt transfer)."""
    summary: dict[str, Any] = {}
    if taxes["withholdings"]:
        summary["RetencionesP"] = [{"ImpuestoP": t["tax"], "ImporteP": Decimal(t["amount"])}
                                   for t in taxes["withholdings"]]
    if taxes["transfers"]:
        summary["TrasladosP"] = [{"BaseP": Decimal(t["base"]), "ImpuestoP": t["tax"], "TipoFactorP": t["factor"],
                                  "TasaOCuotaP": _decimal(t["rate"]), "ImporteP": _decimal(t["amount"])}
                                 for t in taxes["transfers"]]
    return summary or None


def build_payment(content: Mapping[str, Any], *, serie: str, folio: str, fecha: datetime | None = None):
    """The unsealed CFDI de pago (a satcfdi cfdi40.Comprobante made by Comprobante.pago: SubTotal 0,
    Moneda XXX, Total 0, SAT's one Concepto, UsoCFDI CP01) of a prepared payment's content
    (payments.prepare), its Pagos 2.0 complement made by satcfdi's pago20 builders with the prepared
    amounts in place of the ones its Pagos computes (see payments.py on why)."""
    from satcfdi.create.cfd import cfdi40, pago20

    issuer, customer = content["issuer"], content["customer"]
    pagos = []
    for payment in content["payments"]:
        pagos.append(pago20.Pago(
            fecha_pago=datetime.fromisoformat(payment["paid_at"]), forma_de_pago_p=payment["payment_form"],
            moneda_p=payment["currency"], tipo_cambio_p=Decimal(payment["exchange_rate"]),
            num_operacion=payment.get("operation_number"),
            docto_relacionado=[pago20.DoctoRelacionado(
                id_documento=d["uuid"], serie=d.get("series"), folio=d.get("folio"), moneda_dr=d["currency"],
                equivalencia_dr=Decimal(d["equivalence"]), num_parcialidad=d["installment"],
                imp_saldo_ant=Decimal(d["previous_balance"]), imp_pagado=Decimal(d["paid"]),
                objeto_imp_dr=d["tax_object"], impuestos_dr=_payment_taxes_dr(d["taxes"]))
                for d in payment["documents"]]))
    complement = pago20.Pagos(pago=pagos)
    # The prepared amounts (payments.prepare), in place of the ones satcfdi's Pagos computed.
    for pago, payment in zip(complement["Pago"], content["payments"], strict=True):
        pago["Monto"] = Decimal(payment["amount"])
        pago["ImpuestosP"] = _payment_taxes_p(payment["taxes"])
        for related, document in zip(pago["DoctoRelacionado"], payment["documents"], strict=True):
            related["ImpSaldoInsoluto"] = Decimal(document["balance"])
    complement["Totales"] = {name: Decimal(value) for name, value in content["payment_totals"].items()}
    return cfdi40.Comprobante.pago(
        emisor=cfdi40.Emisor(rfc=issuer["rfc"], nombre=issuer["name"], regimen_fiscal=issuer["regime"]),
        lugar_expedicion=issuer["zip"],
        receptor=cfdi40.Receptor(
            rfc=customer["tax_id"], nombre=customer["name"], domicilio_fiscal_receptor=customer["zip"],
            regimen_fiscal_receptor=customer["tax_regime"], uso_cfdi=customer["cfdi_use"],
            residencia_fiscal=customer.get("country"), num_reg_id_trib=customer.get("foreign_tax_id")),
        complemento_pago=complement, serie=serie, folio=folio,
        fecha=fecha or datetime.fromisoformat(content["fecha"]))


def seal(comprobante, key: RSAPrivateKey, certificate: x509.Certificate) -> bytes:
    """The Comprobante sealed with the CSD (`key` and `certificate`, cryptography objects) as UTF-8
    XML bytes, checked against SAT's schema (InvalidCfdi otherwise). ValueError when the key is not
    the certificate's."""
    from OpenSSL import crypto
    from satcfdi.exceptions import CFDIError
    from satcfdi.models import Signer

    try:
        signer = Signer(crypto.X509.from_cryptography(certificate), key)
    except CFDIError as exc:
        raise ValueError(f"the private key is not the certificate's: {exc}") from None
    comprobante.sign(signer)
    xml = comprobante.xml_bytes()
    validate(xml)
    return xml


def build_signed(content: Mapping[str, Any], number: str, key: RSAPrivateKey,
                 certificate: x509.Certificate) -> bytes:
    """The sealed, schema-checked CFDI of a numbered document: `number` is documents.number's
    "<serie>-<folio>"."""
    serie, folio = split_number(number)
    builder = build_payment if content["cfdi_type"] == "P" else build
    return seal(builder(content, serie=serie, folio=folio), key, certificate)


# The schema ---------------------------------------------------------------------------------------

_schema_lock = threading.Lock()


@cache
def schema_path() -> Path:
    spec = find_spec("satcfdi")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("satcfdi is not installed: its SAT schemas are needed for Mexico")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*SCHEMA)


# The catalog types checked by key shape in the schema and by lookup in the catalog database.
_LOOKED_UP = {"c_ClaveProdServ": "[0-9]{8}", "c_CodigoPostal": "[0-9]{5}",
              "c_ClaveUnidad": "[0-9A-Za-z]{1,3}"}
_CATALOG_FILE = "catalogos/catCFDI.xsd"


def _catalog_schema(raw: bytes) -> bytes:
    """catCFDI.xsd with the _LOOKED_UP types' enumerations replaced by their key patterns."""
    for name, pattern in _LOOKED_UP.items():
        start = raw.index(f'<xs:simpleType name="{name}">'.encode())
        end = raw.index(b"</xs:simpleType>", start) + len(b"</xs:simpleType>")
        replacement = (f'<xs:simpleType name="{name}"><xs:restriction base="xs:string"><xs:whiteSpace '
                       f'value="collapse"/><xs:pattern value="{pattern}"/></xs:restriction></xs:simpleType>')
        raw = raw[:start] + replacement.encode() + raw[end:]
    return raw


@cache
def _schema():
    from lxml import etree

    catalog = _catalog_schema((schema_path().parent.parent / _CATALOG_FILE).read_bytes())

    class Catalogs(etree.Resolver):
        def resolve(self, url, _public_id, context):
            if url.replace("\\", "/").endswith(_CATALOG_FILE):
                return self.resolve_string(catalog, context, base_url=url)
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(Catalogs())
    # cfdv40.xsd and the complements Sello issues (Complemento takes any element it has a schema for).
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{path}"/>' for ns, path in (
        (NAMESPACE, "4/cfdv40.xsd"), (PAGOS_NAMESPACE, "Pagos/Pagos20.xsd")))
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    base = str(schema_path().parent.parent / "sello.xsd")
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=base))


def _catalog_errors(document) -> list[str]:
    """The catalog keys the reduced schema checks by shape only, looked up."""
    from sello.countries.mx import catalogs

    errors = []
    if catalogs.postal_code(document.get("LugarExpedicion") or "") is None:
        errors.append(f"{document.sourceline}: LugarExpedicion is not a key of c_CodigoPostal")
    for element in document.iter(f"{{{NAMESPACE}}}Concepto", f"{{{NAMESPACE}}}Parte"):
        if catalogs.product_code(element.get("ClaveProdServ") or "") is None:
            errors.append(f"{element.sourceline}: ClaveProdServ is not a key of c_ClaveProdServ")
        unit = element.get("ClaveUnidad")
        if unit is not None and catalogs.unit_code(unit) is None:
            errors.append(f"{element.sourceline}: ClaveUnidad is not a key of c_ClaveUnidad")
    return errors


def schema_errors(xml: bytes) -> list[str]:
    """The CFDI's violations of cfdv40.xsd ("line: message"), empty when it is valid. The schema is
    compiled on first use and shared; a compiled schema is used by one thread at a time."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    document = etree.fromstring(xml, parser)
    with _schema_lock:
        schema = _schema()
        if not schema.validate(document):
            return [f"{error.line}: {error.message}" for error in schema.error_log]
    return _catalog_errors(document)


def validate(xml: bytes) -> None:
    """InvalidCfdi when the CFDI does not match SAT's schema."""
    errors = schema_errors(xml)
    if errors:
        raise InvalidCfdi("the CFDI built does not match cfdv40.xsd: " + "; ".join(errors[:5]))
