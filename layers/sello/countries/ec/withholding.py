"""Ecuador: the withholding receipt (comprobante de retención, codDoc 07, XML 2.0.0, the "ATS"
format).

The issuer, as withholding agent, tells a supplier (the document's customer, who must be
identified) what it withheld from each of the supplier's documents (documentos sustento): income tax
(renta), VAT (IVA) or the currency-outflow tax (ISD). Each supporting document repeats its own totals,
taxes and payments, which must add up:
- total = subtotal + the sum of its tax amounts; the payments add up to the total;
- the VAT bases add up to the subtotal plus ICE (ICE is part of the VAT base);
- each withholding amount is base × rate / 100, rounded to cents half up (computed when omitted,
  checked when given); an income base is at most the subtotal, a VAT base at most the VAT charged,
  an ISD base at most the total.

Totals of the prepared document: a withholding sells nothing, so `tax` and `total` are both the
amount withheld (the sum of every valorRetenido) and there is no subtotal or discount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sello.countries import PreparedDocument
from sello.countries.ec import amounts, catalogs
from sello.countries.ec.documents import (
    additional_info,
    check_amount,
    check_paid,
    check_party,
    issuer_snapshot,
    join,
    payment_method,
    prepared_document,
    reject_fields,
    resolve_tax,
)
from sello.errors import Unprocessable
from sello.i18n import _l

DOC_TYPE = "withholding"
# Parts of the request that belong to other document types.
_NOT_HERE = ("items", "payments", "reference", "shipment")

# VAT withholding, codigoRetencion (F Tabla 20) -> percent withheld.
VAT_WITHHOLDING_CODES = {
    "9": Decimal(10),
    "10": Decimal(20),
    "1": Decimal(30),
    "11": Decimal(50),
    "2": Decimal(70),
    "3": Decimal(100),
    "7": Decimal(0),  # retención en cero
    "8": Decimal(0),  # no procede retención
}
# ISD withholding codes; the rate is set by law and changes, so it is not checked.
ISD_CODES = frozenset({"4580", "4586"})
# porcentajeRetener: at most 3 significant digits (XSD totalDigits 3, fractionDigits 2).
RATE_DIGITS = 3
SUBJECT_TYPES = {"natural_person": "01", "company": "02"}  # tipoSujetoRetenido
PAYMENT_RESIDENCES = {"local": "01", "foreign": "02"}  # pagoLocExt
FOREIGN_REGIMES = {"general": "01", "tax_haven": "02", "preferential": "03"}  # tipoRegi


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "SI" if value else "NO"


def _fiscal_period(value: str, issue_date: date) -> str:
    month, year = (int(part) for part in value.split("/"))
    if (year, month) > (issue_date.year, issue_date.month):
        raise Unprocessable(_l("The fiscal period {period} is after the issue date's month.", period=value),
                            code="invalid_fiscal_period", path="withholding.fiscal_period")
    return value


def _subject_type(info, customer: dict) -> str | None:
    """tipoSujetoRetenido: required for a supplier identified abroad, not allowed otherwise."""
    path = "withholding.subject_type"
    if customer["id_type"] == "foreign_id":
        if info.subject_type is None:
            raise Unprocessable(_l("A supplier identified abroad needs subject_type (natural_person or "
                                   "company)."), code="missing_field", path=path)
        return SUBJECT_TYPES[info.subject_type]
    if info.subject_type is not None:
        raise Unprocessable(_l("subject_type applies only to a customer with a foreign_id."),
                            code="field_not_allowed", path=path)
    return None


def _foreign_payment(doc, path: str) -> dict | None:
    foreign = doc.foreign_payment
    if doc.payment_residence == "local":
        if foreign is not None:
            raise Unprocessable(_l("foreign_payment applies only when payment_residence is foreign."),
                                code="field_not_allowed", path=join(path, "foreign_payment"))
        return None
    if foreign is None:
        raise Unprocessable(_l("A payment abroad needs foreign_payment (regime and country)."),
                            code="missing_field", path=join(path, "foreign_payment"))
    return {
        "regime": FOREIGN_REGIMES[foreign.regime],
        "country": foreign.country,
        "double_taxation_treaty": _yes_no(foreign.double_taxation_treaty),
        "subject_to_withholding": _yes_no(foreign.subject_to_withholding),
        "preferential_regime_payment": _yes_no(foreign.preferential_regime_payment),
    }


def _tax(tax, path: str) -> dict:
    """A tax of the supporting document: codes resolved as on an invoice line; the amount computed
    from base and rate when omitted (IRBPNR, charged per unit, needs it given)."""
    tax_code, rate_code, rate = resolve_tax(tax, path)
    amount = tax.amount
    if amount is None:
        if tax.type == "irbpnr":
            raise Unprocessable(_l("IRBPNR is charged per unit: give its amount."), code="missing_field",
                                path=join(path, "amount"))
        amount = amounts.percent_of(tax.base, rate)
    return {"type": tax.type, "tax_code": tax_code, "rate_code": rate_code, "rate": amounts.fmt(rate),
            "base": amounts.fmt(tax.base), "amount": amounts.fmt(amount)}


def _check_code(line, path: str) -> None:
    if line.tax == "vat":
        rate = VAT_WITHHOLDING_CODES.get(line.code)
        if rate is None:
            codes = ", ".join(f"{code} ({rate}%)" for code, rate in VAT_WITHHOLDING_CODES.items())
            raise Unprocessable(_l("VAT withholding code {code} does not exist; use one of {codes}.",
                                   code=line.code, codes=codes),
                                code="unknown_withholding_code", path=join(path, "code"))
        if line.rate != rate:
            raise Unprocessable(_l("VAT withholding code {code} withholds {rate}%, not {sent}%.", code=line.code,
                                   rate=rate, sent=line.rate),
                                code="invalid_withholding_rate", path=join(path, "rate"))
    elif line.tax == "isd":
        if line.code not in ISD_CODES:
            raise Unprocessable(_l("ISD withholding codes are {codes}, not {code}.",
                                   codes=", ".join(sorted(ISD_CODES)), code=line.code),
                                code="unknown_withholding_code", path=join(path, "code"))
    elif not 3 <= len(line.code) <= 5:
        raise Unprocessable(_l("Income withholding codes (ATS catalogue) have 3 to 5 characters, not {code}.",
                               code=repr(line.code)), code="unknown_withholding_code", path=join(path, "code"))
    if len(line.rate.normalize().as_tuple().digits) > RATE_DIGITS:
        raise Unprocessable(_l("SRI writes a withholding rate with at most {digits} digits, not {rate}.",
                               digits=RATE_DIGITS, rate=line.rate), code="invalid_withholding_rate", path=join(path, "rate"))


def _withholding(line, limits: dict, path: str) -> dict:
    _check_code(line, path)
    limit, what = limits[line.tax]
    if line.base > limit:
        raise Unprocessable(_l("The base {base} is more than the document's {what} ({limit}).", base=line.base,
                               what=what, limit=limit),
                            code="invalid_withholding_base", path=join(path, "base"))
    computed = amounts.percent_of(line.base, line.rate)
    if line.amount is not None and line.amount != computed:
        raise Unprocessable(_l("{base} × {rate}% is {computed}, not {amount}.", base=line.base, rate=line.rate,
                               computed=computed, amount=line.amount),
                            code="withholding_amount_mismatch", path=join(path, "amount"))
    return {"tax": line.tax, "tax_code": catalogs.WITHHOLDING_TAXES[line.tax], "code": line.code,
            "base": amounts.fmt(line.base), "rate": amounts.fmt(line.rate), "amount": amounts.fmt(computed)}


def _payments(doc, path: str) -> list[dict]:
    result = [{"method": payment_method(payment.method, join(path, f"payments.{i}.method")),
               "amount": amounts.fmt(payment.amount)} for i, payment in enumerate(doc.payments)]
    check_paid(doc.payments, doc.total, join(path, "payments"))
    return result


def _support_document(doc, issue_date: date, path: str) -> dict:
    if doc.issue_date > issue_date:
        raise Unprocessable(_l("A supporting document cannot be dated after the withholding."),
                            code="invalid_issue_date", path=join(path, "issue_date"))
    if doc.accounting_date is not None and doc.accounting_date < doc.issue_date:
        raise Unprocessable(_l("A document cannot be booked before it was issued."), code="invalid_issue_date",
                            path=join(path, "accounting_date"))
    foreign = _foreign_payment(doc, path)
    taxes = [_tax(tax, join(path, f"taxes.{j}")) for j, tax in enumerate(doc.taxes)]

    def charged(tax_type: str, field: str) -> Decimal:
        return amounts.total(Decimal(tax[field]) for tax in taxes if tax["type"] == tax_type)

    vat_base, ice = charged("vat", "base"), charged("ice", "amount")
    if any(tax["type"] == "vat" for tax in taxes) and vat_base != doc.subtotal + ice:
        raise Unprocessable(_l("The VAT bases add up to {sum}; they must equal the subtotal plus ICE ({expected}).",
                               sum=vat_base, expected=doc.subtotal + ice), code="support_subtotal_mismatch",
                            path=join(path, "taxes"))
    expected = amounts.total([doc.subtotal, *(Decimal(tax["amount"]) for tax in taxes)])
    if doc.total != expected:
        raise Unprocessable(_l("The total must be the subtotal plus the taxes: {expected}, not {total}.",
                               expected=expected, total=doc.total),
                            code="support_total_mismatch", path=join(path, "total"))
    limits = {"income": (doc.subtotal, _l("subtotal")), "vat": (charged("vat", "amount"), _l("VAT")),
              "isd": (doc.total, _l("total"))}
    withholdings = [_withholding(line, limits, join(path, f"withholdings.{k}"))
                    for k, line in enumerate(doc.withholdings)]
    return {
        "support_code": doc.support_code,
        "type": doc.type,
        "number": doc.number,
        "issue_date": doc.issue_date.isoformat(),
        "accounting_date": doc.accounting_date.isoformat() if doc.accounting_date else None,
        "authorization": doc.authorization,
        "payment_residence": PAYMENT_RESIDENCES[doc.payment_residence],
        "foreign_payment": foreign,
        "subtotal": amounts.fmt(doc.subtotal),
        "total": amounts.fmt(doc.total),
        "taxes": taxes,
        "withholdings": withholdings,
        "payments": _payments(doc, path),
    }


def prepare(request, issuer, issue_date: date) -> PreparedDocument:
    """Validates a withholding request (CreateDocumentRequest with `withholding`) for the issuer and
    computes the amounts withheld. Raises Unprocessable (422) with a stable code and the request's
    field path."""
    reject_fields(request, _NOT_HERE, _l("withholding"))
    info = request.withholding
    if info is None:
        raise Unprocessable(_l("A withholding needs its withholding details."), code="withholding_required",
                            path="withholding")
    snapshot = issuer_snapshot(issuer, request.establishment, request.emission_point)
    customer = check_party(request.customer, path="customer", allow_final_consumer=False)
    withholding = {
        "fiscal_period": _fiscal_period(info.fiscal_period, issue_date),
        "related_party": info.related_party,
        "subject_type": _subject_type(info, customer),
        "support_documents": [_support_document(doc, issue_date, f"withholding.support_documents.{i}")
                              for i, doc in enumerate(info.support_documents)],
    }
    withheld = check_amount(amounts.total(Decimal(line["amount"]) for doc in withholding["support_documents"]
                                          for line in doc["withholdings"]), "withholding")
    return prepared_document(
        request, issue_date, snapshot, customer,
        totals={"tax": withheld, "total": withheld},
        withholding=withholding,
        additional_info=additional_info(request.additional_info, customer),
    )


def body(content: dict, root) -> None:
    """What comprobanteRetencion 2.0.0 holds between infoTributaria and infoAdicional, in the XSD's
    order (xml.build writes the rest)."""
    from lxml import etree

    from sello.countries.ec import xml

    issuer, customer, withholding = content["issuer"], content["customer"], content["withholding"]
    info = etree.SubElement(root, "infoCompRetencion")
    xml.sub(info, "fechaEmision", xml.fecha(content["issue_date"]))
    xml.sub(info, "dirEstablecimiento", issuer["establishment_address"])
    xml.sub(info, "contribuyenteEspecial", issuer.get("contribuyente_especial"))
    xml.sub(info, "obligadoContabilidad", xml.obligado(issuer))
    xml.sub(info, "tipoIdentificacionSujetoRetenido", customer["id_type_code"])
    xml.sub(info, "tipoSujetoRetenido", withholding.get("subject_type"))
    xml.sub(info, "parteRel", _yes_no(withholding["related_party"]))
    xml.sub(info, "razonSocialSujetoRetenido", customer["name"])
    xml.sub(info, "identificacionSujetoRetenido", customer["tax_id"])
    xml.sub(info, "periodoFiscal", withholding["fiscal_period"])

    docs = etree.SubElement(root, "docsSustento")
    for doc in withholding["support_documents"]:
        foreign = doc.get("foreign_payment") or {}
        sustento = etree.SubElement(docs, "docSustento")
        xml.sub(sustento, "codSustento", doc["support_code"])
        xml.sub(sustento, "codDocSustento", doc["type"])
        xml.sub(sustento, "numDocSustento", doc["number"].replace("-", ""))
        xml.sub(sustento, "fechaEmisionDocSustento", xml.fecha(doc["issue_date"]))
        if doc["accounting_date"]:
            xml.sub(sustento, "fechaRegistroContable", xml.fecha(doc["accounting_date"]))
        xml.sub(sustento, "numAutDocSustento", doc.get("authorization"))
        xml.sub(sustento, "pagoLocExt", doc["payment_residence"])
        xml.sub(sustento, "tipoRegi", foreign.get("regime"))
        xml.sub(sustento, "paisEfecPago", foreign.get("country"))
        xml.sub(sustento, "aplicConvDobTrib", foreign.get("double_taxation_treaty"))
        xml.sub(sustento, "pagExtSujRetNorLeg", foreign.get("subject_to_withholding"))
        xml.sub(sustento, "pagoRegFis", foreign.get("preferential_regime_payment"))
        xml.sub(sustento, "totalSinImpuestos", doc["subtotal"])
        xml.sub(sustento, "importeTotal", doc["total"])
        impuestos = etree.SubElement(sustento, "impuestosDocSustento")
        for tax in doc["taxes"]:
            impuesto = etree.SubElement(impuestos, "impuestoDocSustento")
            xml.sub(impuesto, "codImpuestoDocSustento", tax["tax_code"])
            xml.sub(impuesto, "codigoPorcentaje", tax["rate_code"])
            xml.sub(impuesto, "baseImponible", tax["base"])
            xml.sub(impuesto, "tarifa", tax["rate"])
            xml.sub(impuesto, "valorImpuesto", tax["amount"])
        retenciones = etree.SubElement(sustento, "retenciones")
        for line in doc["withholdings"]:
            retencion = etree.SubElement(retenciones, "retencion")
            xml.sub(retencion, "codigo", line["tax_code"])
            xml.sub(retencion, "codigoRetencion", line["code"])
            xml.sub(retencion, "baseImponible", line["base"])
            xml.sub(retencion, "porcentajeRetener", line["rate"])
            xml.sub(retencion, "valorRetenido", line["amount"])
        pagos = etree.SubElement(sustento, "pagos")
        for payment in doc["payments"]:
            pago = etree.SubElement(pagos, "pago")
            xml.sub(pago, "formaPago", payment["method"])
            xml.sub(pago, "total", payment["amount"])
