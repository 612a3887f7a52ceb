"""Ecuador: a neutral document request becomes an SRI document in two steps.

`prepare` checks the request against SRI's rules and computes every amount, before any number is
spent; `number` then gives the prepared document its secuencial and clave de acceso. Invoices,
credit and debit notes and purchase settlements (liquidaciones de compra, whose customer is the
supplier the issuer buys from) are prepared here, on the same lines, totals and payments; delivery
guides and withholdings by guide.py and withholding.py, which share the helpers below
(issuer_snapshot, check_party, resolve_tax, …).

Arithmetic (amounts.py): a line's subtotal is quantity × unit price − discount, rounded to cents
half up. Taxes are rounded once per document and tax and rate code (`tax_totals`, the one place every
invoice, credit and debit note computes them): the header's valor is the sum of the lines' exact
taxes (base × tarifa / 100) rounded half up, which is its baseImponible × tarifa / 100 rounded, and
amounts.apportion splits it over the lines, each within a cent of its exact tax, so the lines add up
to the header exactly. ICE is part of the VAT base of its line (with the ICE valor that line shows);
IRBPNR is a fixed amount per unit.

This module imports no XML library itself: lxml is loaded by the first `prepare`, which builds the
document's XML to check its size (and its schema)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from sello.countries import NumberedDocument, PreparedDocument
from sello.countries.ec import amounts, catalogs, clave, tax_ids
from sello.countries.ec.issuer_flags import EcuadorIssuerFlags
from sello.errors import Unprocessable
from sello.i18n import _l
from sello.settings import get_settings

# America/Guayaquil is UTC−5 all year (no daylight saving time since 1993); a fixed offset needs no
# time-zone database in the Lambda runtime.
GUAYAQUIL = timezone(timedelta(hours=-5), catalogs.TIME_ZONE)
# SRI rejects late documents (error 65) with a tolerance it does not publish; older dates are refused here.
MAX_DAYS_BACK = 90
# Amounts have at most 14 digits, 2 of them decimals (XSD totalDigits).
MAX_AMOUNT = Decimal("999999999999.99")
MAX_SEQUENCE = 999_999_999
ICE_CODE_PREFIX = "3"  # ICE codigoPorcentaje: 4 digits starting with 3 (Tabla 18)
IRBPNR_CODE = "5001"
IRBPNR_PER_UNIT = Decimal("0.02")  # USD per bottle
TERM_UNITS = {"days": "dias", "months": "meses", "years": "anios"}


def join(path: str, field: str | int) -> str:
    """A dotted field path: join("items.0", "taxes") == "items.0.taxes"; join("", "x") == "x"."""
    return f"{path}.{field}" if path else str(field)


def issue_day(now: datetime) -> date:
    """Today in Ecuador at the instant `now` (a naive `now` is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(GUAYAQUIL).date()


# Shared by every document type --------------------------------------------------------------------

def issuer_snapshot(issuer, establishment: str, emission_point: str) -> dict:
    """What the document prints about its issuer, as it is today (later edits to the issuer do not
    change an issued document). Raises 422 unknown_establishment / unknown_emission_point."""
    branch = next((e for e in issuer.establishments if e.code == establishment), None)
    if branch is None:
        known = ", ".join(e.code for e in issuer.establishments)
        raise Unprocessable(_l("The issuer has no establishment {code}; it has {known}.", code=establishment,
                               known=known),
                            code="unknown_establishment", path="establishment")
    if not any(point.code == emission_point for point in branch.emission_points):
        known = ", ".join(point.code for point in branch.emission_points)
        raise Unprocessable(_l("Establishment {establishment} has no emission point {code}; it has {known}.",
                               establishment=establishment, code=emission_point, known=known),
                            code="unknown_emission_point", path="emission_point")
    flags = EcuadorIssuerFlags.model_validate(issuer.flags)
    return {
        "ruc": issuer.tax_id,
        "legal_name": issuer.legal_name,
        "trade_name": issuer.trade_name,
        "head_office_address": issuer.head_office_address,
        "establishment": establishment,
        "emission_point": emission_point,
        "establishment_address": branch.address,
        "obligado_contabilidad": flags.obligado_contabilidad,
        "contribuyente_especial": flags.contribuyente_especial,
        "agente_retencion": flags.agente_retencion,
        "rimpe": flags.rimpe_legend,
    }


def _missing(path: str, what) -> Unprocessable:
    return Unprocessable(_l("{what} is required here.", what=what), code="missing_field", path=path)


def check_party(party, *, path: str, allow_final_consumer: bool) -> dict:
    """Validates a person or company named on a document (id type, check digits, name) and returns it
    as the document keeps it: id_type, id_type_code (SRI Tabla 6), tax_id, name, email, address, phone.
    Raises 422 final_consumer_not_allowed, invalid_tax_id or missing_field."""
    tax_id, name = party.tax_id, party.name
    if party.id_type == "final_consumer":
        if not allow_final_consumer:
            raise Unprocessable(_l("This document must identify its receiver; final_consumer is only allowed "
                                   "on invoices."), code="final_consumer_not_allowed", path=join(path, "id_type"))
        if tax_id not in (None, catalogs.FINAL_CONSUMER_ID):
            raise Unprocessable(_l("A final consumer's identification is {id}; omit it or use another id_type.",
                                   id=catalogs.FINAL_CONSUMER_ID), code="invalid_tax_id", path=join(path, "tax_id"))
        tax_id, name = catalogs.FINAL_CONSUMER_ID, name or catalogs.FINAL_CONSUMER_NAME
    else:
        if not tax_id:
            raise _missing(join(path, "tax_id"), _l("The identification number"))
        if party.id_type == "tax_id":
            tax_id = tax_ids.validate_ruc(tax_id, path=join(path, "tax_id"))
        elif party.id_type == "national_id":
            try:
                tax_ids.check_cedula(tax_id)
            except tax_ids.InvalidTaxId as exc:
                raise Unprocessable(_l("{value} is not a valid cédula. {reason}", value=repr(tax_id),
                                       reason=exc.text), code="invalid_tax_id",
                                    path=join(path, "tax_id")) from None
        if not name:
            raise _missing(join(path, "name"), _l("The name"))
    return {
        "id_type": party.id_type,
        "id_type_code": catalogs.ID_TYPES[party.id_type],
        "tax_id": tax_id,
        "name": name,
        "email": str(party.email) if party.email else None,
        "address": party.address,
        "phone": party.phone,
    }


def additional_info(entries: dict[str, str], customer: dict, *,
                    extra: dict[str, str | None] | None = None) -> list[dict]:
    """infoAdicional entries: the request's, in its order; then each of `extra` that has a value, and
    the customer's email as "Email", when the name is not taken and there is room (15 entries)."""
    taken = {name.lower() for name in entries}
    result = [{"name": name, "value": value} for name, value in entries.items()]
    for name, value in ((extra or {}) | {"Email": customer.get("email")}).items():
        if value and name.lower() not in taken and len(result) < catalogs.MAX_ADDITIONAL_INFO:
            result.append({"name": name, "value": value})
    return result


def check_amount(value: Decimal, path: str) -> Decimal:
    if value > MAX_AMOUNT:
        raise Unprocessable(_l("Amounts are at most {max}.", max=MAX_AMOUNT), code="amount_too_large", path=path)
    return value


def reject_fields(request, fields: tuple[str, ...], document_name: str) -> None:
    """422 field_not_allowed for the first of `fields` (parts of other document types) the request fills."""
    for field in fields:
        if getattr(request, field):
            raise Unprocessable(_l("{field} does not belong on a {document}.", field=field,
                                   document=document_name), code="field_not_allowed",
                                path=field)


def payment_method(method: str, path: str) -> str:
    """The formaPago code of a payment method given by name or by SRI code (422 unknown_payment_method)."""
    code = catalogs.PAYMENT_METHODS.get(method, method)
    if code not in catalogs.PAYMENT_CODES:
        raise Unprocessable(_l("Unknown payment method {method}; SRI codes are {codes}.", method=repr(method),
                               codes=", ".join(sorted(catalogs.PAYMENT_CODES))),
                            code="unknown_payment_method", path=path)
    return code


def check_paid(payments, total: Decimal, path: str) -> None:
    """422 payments_mismatch unless the payments add up to the total."""
    paid = amounts.total(payment.amount for payment in payments)
    if paid != total:
        raise Unprocessable(_l("The payments add up to {paid}, the document's total is {total}.", paid=paid,
                               total=total),
                            code="payments_mismatch", path=path)


def reference_code(reference, path: str) -> str:
    """The codDoc of a referenced document, given by neutral type or 2-digit SRI code
    (422 unknown_document_type at `path`.type)."""
    doc_code = catalogs.REFERENCE_TYPES.get(reference.type, reference.type)
    if not (len(doc_code) == 2 and doc_code.isascii() and doc_code.isdigit()):
        raise Unprocessable(_l("Unknown document type {type}; use one of {types} or a 2-digit SRI code.",
                               type=repr(reference.type), types=", ".join(catalogs.REFERENCE_TYPES)),
                            code="unknown_document_type", path=join(path, "type"))
    return doc_code


def prepared_document(request, issue_date: date, issuer: dict, customer: dict, *,
                      totals: dict[str, Decimal], **parts) -> PreparedDocument:
    """The PreparedDocument of any type. Its content is what every type has (type, issuer, issue
    date, currency, customer), the `totals` as strings when there are any, and the type's own `parts`."""
    content = {"type": request.type, "issuer": issuer, "issue_date": issue_date.isoformat(),
               "currency": request.currency, "customer": customer}
    if totals:
        content["totals"] = {name: amounts.fmt(value) for name, value in totals.items()}
    content |= parts
    return PreparedDocument(
        type=request.type,
        series=f"{request.establishment}-{request.emission_point}",
        issue_date=issue_date,
        customer={"name": customer["name"], "tax_id": customer["tax_id"], "email": customer["email"]},
        totals={"currency": request.currency, **totals},
        content=content,
    )


def resolve_tax(tax, path: str) -> tuple[str, str, Decimal]:
    """(codigo, codigoPorcentaje, tarifa) of a tax (on an invoice line, or of a withholding's
    supporting document)."""
    if tax.type == "vat":
        if tax.code is not None:
            rate = catalogs.VAT_CODES.get(tax.code)
            if rate is None:
                raise Unprocessable(_l("VAT code {code} does not exist; use one of {codes}.", code=tax.code,
                                       codes=", ".join(catalogs.VAT_CODES)), code="unknown_tax_code",
                                    path=join(path, "code"))
            if tax.rate is not None and tax.rate != rate:
                raise Unprocessable(_l("VAT code {code} is {rate}%, not {sent}%.", code=tax.code, rate=rate,
                                       sent=tax.rate),
                                    code="invalid_tax_rate", path=join(path, "rate"))
            return catalogs.TAX_TYPES["vat"], tax.code, rate
        if tax.rate is None:
            raise _missing(join(path, "rate"), _l("A VAT rate or code"))
        code = catalogs.VAT_RATES.get(tax.rate)
        if code is None:
            rates = ", ".join(str(rate) for rate in catalogs.VAT_RATES)
            raise Unprocessable(_l("There is no {rate}% VAT rate; use one of {rates}, or code 6 (not subject) "
                                   "or 7 (exempt).", rate=tax.rate, rates=rates), code="invalid_tax_rate", path=join(path, "rate"))
        return catalogs.TAX_TYPES["vat"], code, tax.rate
    if tax.code is None:
        raise _missing(join(path, "code"), _l("The {tax} code", tax=tax.type.upper()))
    if tax.type == "ice":
        if len(tax.code) != 4 or not tax.code.startswith(ICE_CODE_PREFIX):
            raise Unprocessable(_l("ICE codes have 4 digits starting with 3, not {code}.", code=tax.code),
                                code="unknown_tax_code", path=join(path, "code"))
        if tax.rate is None:
            raise _missing(join(path, "rate"), _l("The ICE rate"))
        return catalogs.TAX_TYPES["ice"], tax.code, tax.rate
    if tax.code != IRBPNR_CODE:
        raise Unprocessable(_l("The IRBPNR code is {code}, not {sent}.", code=IRBPNR_CODE, sent=tax.code),
                            code="unknown_tax_code",
                            path=join(path, "code"))
    return catalogs.TAX_TYPES["irbpnr"], tax.code, IRBPNR_PER_UNIT if tax.rate is None else tax.rate


# Invoices, credit and debit notes ----------------------------------------------------------------

# Types that stand on their own: they refer to no other document, and are paid (one cash payment of
# the total when no payments are given).
_STANDALONE = ("invoice", "purchase_settlement")
_NAMES = {"invoice": _l("An invoice"), "purchase_settlement": _l("A purchase settlement")}


def _line(item, path: str) -> dict:
    """A line with its subtotal and its taxes resolved (amounts as strings); `tax_totals` then gives
    each tax its base and amount."""
    if item.discount > item.quantity * item.unit_price:
        raise Unprocessable(_l("The discount is larger than quantity × unit price."), code="invalid_discount",
                            path=join(path, "discount"))
    subtotal = check_amount(amounts.line_subtotal(item.quantity, item.unit_price, item.discount), path)
    resolved: dict[str, tuple[str, str, Decimal]] = {}  # tax type -> (codigo, codigoPorcentaje, tarifa)
    for j, tax in enumerate(item.taxes):
        if tax.type in resolved:
            raise Unprocessable(_l("A line has at most one {tax} entry.", tax=tax.type.upper()),
                                code="duplicate_tax",
                                path=join(path, f"taxes.{j}"))
        resolved[tax.type] = resolve_tax(tax, join(path, f"taxes.{j}"))
    if "vat" not in resolved:
        raise Unprocessable(_l("Every line needs exactly one VAT entry (rate 0, or code 6 or 7 when no VAT "
                               "applies)."), code="missing_vat", path=join(path, "taxes"))
    return {
        "code": item.code,
        "aux_code": item.aux_code,
        "description": item.description,
        "unit": item.unit,
        "quantity": amounts.fmt_quantity(item.quantity),
        "unit_price": amounts.fmt_quantity(item.unit_price),
        "discount": amounts.fmt(item.discount),
        "subtotal": amounts.fmt(subtotal),
        "details": [{"name": name, "value": value} for name, value in (item.details or {}).items()],
        "taxes": [{"tax_code": tax_code, "rate_code": rate_code, "rate": amounts.fmt(rate)}
                  for tax_code, rate_code, rate in resolved.values()],
    }


def _line_base(line: dict, tax_code: str) -> Decimal:
    """A line's baseImponible for a tax: its subtotal, plus the line's ICE for VAT."""
    base = Decimal(line["subtotal"])
    if tax_code == catalogs.TAX_TYPES["vat"]:
        base += sum((Decimal(tax["amount"]) for tax in line["taxes"]
                     if tax["tax_code"] == catalogs.TAX_TYPES["ice"]), Decimal(0))
    return base


def _exact_tax(line: dict, tax_code: str, base: Decimal, rate: Decimal) -> Decimal:
    """A line's tax before any rounding: base × tarifa / 100, or for IRBPNR quantity × USD per unit."""
    if tax_code == catalogs.TAX_TYPES["irbpnr"]:
        return Decimal(line["quantity"]) * rate
    return base * rate / amounts.HUNDRED


def tax_totals(lines: list[dict]) -> list[dict]:
    """totalConImpuestos, one group per (codigo, codigoPorcentaje) in order of first appearance, and
    every line tax's base and amount, written into the lines' `taxes` (see the module docstring): per
    group, baseImponible is the sum of the line bases and valor the sum of the lines' exact taxes
    rounded half up, shared out over the lines by amounts.apportion. ICE is settled before VAT, as
    it is part of the VAT base. One code has one rate on a document (422 invalid_tax_rate otherwise)."""
    groups: dict[tuple[str, str], dict] = {}
    members: dict[tuple[str, str], list[tuple[int, dict, dict]]] = {}  # (line index, line, line tax)
    for i, line in enumerate(lines):
        for j, tax in enumerate(line["taxes"]):
            key = (tax["tax_code"], tax["rate_code"])
            group = groups.setdefault(key, {"tax_code": key[0], "rate_code": key[1], "rate": tax["rate"]})
            if group["rate"] != tax["rate"]:
                raise Unprocessable(_l("Code {code} is used at {rate}% on another line; one code has one rate "
                                       "on a document.", code=key[1], rate=group["rate"]), code="invalid_tax_rate",
                                    path=f"items.{i}.taxes.{j}.rate")
            members.setdefault(key, []).append((i, line, tax))
    vat = catalogs.TAX_TYPES["vat"]
    for key in sorted(groups, key=lambda k: k[0] == vat):  # VAT last, the rest in order
        rate = Decimal(groups[key]["rate"])
        bases = [check_amount(_line_base(line, key[0]), f"items.{i}") for i, line, _ in members[key]]
        amount, shares = amounts.apportion([_exact_tax(line, key[0], base, rate)
                                            for (_, line, _), base in zip(members[key], bases, strict=True)])
        for (_, _, tax), base, share in zip(members[key], bases, shares, strict=True):
            tax["base"], tax["amount"] = amounts.fmt(base), amounts.fmt(share)
        groups[key] |= {"base": amounts.fmt(check_amount(sum(bases, Decimal(0)), "items")),
                        "amount": amounts.fmt(amount)}
    return list(groups.values())


def _payments(request, total: Decimal) -> list[dict]:
    """pagos: as given (adding up to the total), or one cash payment of the total for an invoice or
    a purchase settlement."""
    if request.type == "credit_note":
        if request.payments:
            raise Unprocessable(_l("A credit note has no payments."), code="field_not_allowed", path="payments")
        return []
    if not request.payments:
        if request.type in _STANDALONE:
            return [{"method": catalogs.PAYMENT_METHODS[catalogs.DEFAULT_PAYMENT_METHOD],
                     "amount": amounts.fmt(total), "term": None, "term_unit": None}]
        return []
    result = []
    for i, payment in enumerate(request.payments):
        method = payment_method(payment.method, f"payments.{i}.method")
        if payment.term_unit is not None and payment.term is None:
            raise _missing(f"payments.{i}.term", _l("The term (with term_unit)"))
        result.append({
            "method": method,
            "amount": amounts.fmt(payment.amount),
            "term": None if payment.term is None else amounts.fmt(payment.term),
            "term_unit": None if payment.term is None else TERM_UNITS[payment.term_unit or "days"],
        })
    check_paid(request.payments, total, "payments")
    return result


def _reference(request, issue_date: date) -> dict | None:
    if request.type in _STANDALONE:
        if request.reference is not None:
            raise Unprocessable(_l("{document} does not refer to another document.", document=_NAMES[request.type]),
                                code="field_not_allowed", path="reference")
        return None
    reference = request.reference
    if reference is None:
        raise Unprocessable(_l("A credit or debit note names the document it modifies."),
                            code="reference_required", path="reference")
    doc_code = reference_code(reference, "reference")
    if reference.issue_date > issue_date:
        raise Unprocessable(_l("The modified document cannot be dated after this one."),
                            code="invalid_issue_date", path="reference.issue_date")
    if request.type == "credit_note" and not reference.reason:
        raise _missing("reference.reason", _l("The reason for a credit note"))
    return {"type": doc_code, "number": reference.number, "issue_date": reference.issue_date.isoformat(),
            "reason": reference.reason}


def _check_supplier(party) -> None:
    """The supplier of a purchase settlement is always identified: SRI's Tabla 6 does not allow
    the consumidor final (07) on a liquidación de compra, neither as id_type nor as its
    identification 9999999999999 under another id_type (422 final_consumer_not_allowed)."""
    if party.id_type == "final_consumer":
        raise Unprocessable(_l("A purchase settlement identifies the supplier the issuer buys from; "
                               "final_consumer is not allowed."), code="final_consumer_not_allowed",
                            path="customer.id_type")
    if party.tax_id == catalogs.FINAL_CONSUMER_ID:
        raise Unprocessable(_l("{id} identifies the final consumer, which a purchase settlement cannot name as "
                               "its supplier.", id=catalogs.FINAL_CONSUMER_ID), code="final_consumer_not_allowed",
                            path="customer.tax_id")


def _check_vat_only(items) -> None:
    """liquidacionCompra carries IVA only (its schema's impuesto codigo is 2): 422 tax_not_allowed
    for ICE or IRBPNR on a line."""
    for i, item in enumerate(items):
        for j, tax in enumerate(item.taxes):
            if tax.type != "vat":
                raise Unprocessable(_l("A purchase settlement carries VAT only, not {tax}.", tax=tax.type.upper()),
                                    code="tax_not_allowed", path=f"items.{i}.taxes.{j}.type")


def _prepare_sale(request, issuer, issue_date: date) -> PreparedDocument:
    reject_fields(request, ("shipment", "withholding"), request.type)
    snapshot = issuer_snapshot(issuer, request.establishment, request.emission_point)
    if request.type == "purchase_settlement":
        _check_supplier(request.customer)
    customer = check_party(request.customer, path="customer", allow_final_consumer=request.type == "invoice")
    if not request.items:
        raise _missing("items", _l("At least one item"))
    if request.type == "purchase_settlement":
        _check_vat_only(request.items)
    lines = [_line(item, f"items.{i}") for i, item in enumerate(request.items)]
    groups = tax_totals(lines)
    subtotal = amounts.total(Decimal(line["subtotal"]) for line in lines)
    discount = amounts.total(Decimal(line["discount"]) for line in lines)
    tax = amounts.total(Decimal(group["amount"]) for group in groups)
    total = check_amount(subtotal + tax, "items")
    if customer["id_type"] == "final_consumer" and total > catalogs.FINAL_CONSUMER_LIMIT:
        raise Unprocessable(_l("An invoice to a final consumer may total at most USD {limit}; this one "
                               "totals {total}. Identify the customer.", limit=catalogs.FINAL_CONSUMER_LIMIT,
                               total=total), code="final_consumer_limit", path="customer.id_type")
    reference = _reference(request, issue_date)
    # notaDebito has no field of its own for the reason.
    extra = {"Motivo": reference["reason"]} if request.type == "debit_note" else None
    return prepared_document(
        request, issue_date, snapshot, customer,
        totals={"subtotal": subtotal, "discount": discount, "tax": tax, "total": total},
        reference=reference,
        lines=lines,
        tax_totals=groups,
        payments=_payments(request, total),
        additional_info=additional_info(request.additional_info, customer, extra=extra),
    )


# Entry points --------------------------------------------------------------------------------------

def _issue_date(requested: date | None, now: datetime) -> date:
    today = issue_day(now)
    if requested is None:
        return today
    if requested > today:
        raise Unprocessable(_l("The issue date cannot be after today in Ecuador ({today}).",
                               today=today.isoformat()),
                            code="invalid_issue_date", path="issue_date")
    if requested < today - timedelta(days=MAX_DAYS_BACK):
        raise Unprocessable(_l("The issue date can be at most {days} days back.", days=MAX_DAYS_BACK),
                            code="invalid_issue_date", path="issue_date")
    return requested


def prepare(request, issuer, environment: str, now: datetime) -> PreparedDocument:
    """Validates a CreateDocumentRequest for the issuer and computes it (see the module docstring),
    then builds the XML it will become: signed, it must not be over SRI's size limit, and when
    settings.sri_xsd_dir is set it is checked against SRI's schema. Raises Unprocessable (422) with a
    stable code and the request's field path."""
    if environment not in catalogs.AMBIENTES:
        raise ValueError(f"environment must be one of {tuple(catalogs.AMBIENTES)}, not {environment!r}")
    if request.currency not in catalogs.CURRENCIES:
        raise Unprocessable(_l("SRI documents are in {currencies}, not {currency}.",
                               currencies=", ".join(catalogs.CURRENCIES), currency=request.currency),
                            code="unsupported_currency", path="currency")
    issue_date = _issue_date(request.issue_date, now)
    if request.type == "delivery_guide":
        from sello.countries.ec import guide
        prepared = guide.prepare(request, issuer, issue_date)
    elif request.type == "withholding":
        from sello.countries.ec import withholding
        prepared = withholding.prepare(request, issuer, issue_date)
    else:
        prepared = _prepare_sale(request, issuer, issue_date)
    document = unsigned_xml(prepared, environment)
    check_size(prepared, document, signature_size(issuer))
    if get_settings().sri_xsd_dir:
        check_schema(prepared, document)
    return prepared


def unsigned_xml(prepared: PreparedDocument, environment: str) -> bytes:
    """The comprobante as the signing task will build it, numbered with a placeholder of the same
    length as any real number and clave (so exactly as large)."""
    from sello.countries.ec import xml

    placeholder = number(prepared, 1, "size-check", environment)
    return xml.build(prepared.content, number=placeholder.number, access_key=placeholder.access_key,
                     environment=environment)


def signature_size(issuer) -> int:
    """What the issuer's certificate's signature adds at most (recorded when it was uploaded)."""
    recorded = issuer.certificate.signature_size if issuer.certificate is not None else None
    return recorded if recorded is not None else UNKNOWN_SIGNATURE_SIZE


# For a certificate stored before its signature size was recorded: the signature of an RSA 4096-bit
# certificate of 7 KB (SRI's certificates are about 2 KB with 2048-bit keys, 6 KB of signature).
UNKNOWN_SIGNATURE_SIZE = 16_000
# Where the bulk of each type is, named in the error.
_BULK = {"delivery_guide": "shipment.destinations", "withholding": "withholding.support_documents"}


def check_size(prepared: PreparedDocument, document: bytes, signature: int) -> None:
    """422 document_too_large (with `limit` and `size`) when the signed document, the unsigned XML
    plus at most `signature` bytes, could be over what SRI accepts."""
    size = len(document) + signature
    if size > catalogs.MAX_DOCUMENT_BYTES:
        raise Unprocessable(
            _l("The document would be {size} bytes as SRI receives it (signed XML), over the {limit} bytes "
               "(320 KB) SRI accepts; split it into several documents.", size=size,
               limit=catalogs.MAX_DOCUMENT_BYTES),
            code="document_too_large", path=_BULK.get(prepared.type, "items"),
            extra={"limit": catalogs.MAX_DOCUMENT_BYTES, "size": size})


def check_schema(prepared: PreparedDocument, document: bytes) -> None:
    """Validates the document (unsigned_xml) against SRI's XSD; the first violation is a 422
    schema_violation whose path is the element's XML path."""
    from sello.countries.ec import xsd

    kind = catalogs.DOCUMENT_TYPES[prepared.type]
    errors = xsd.validate(document, kind.root, kind.version)
    if errors:
        element, message = errors[0]
        raise Unprocessable(_l("The document does not match SRI's {root} {version} schema: {detail}",
                               root=kind.root, version=kind.version, detail=message),
                            code="schema_violation", path=element)


def numeric_code(document_id: str) -> str:
    """The clave's 8-digit código numérico, derived from the document id: a retry of the same
    document gets the same clave."""
    return f"{int(hashlib.sha256(document_id.encode()).hexdigest(), 16) % 10**8:08d}"


def number(prepared: PreparedDocument, sequence: int, document_id: str, environment: str) -> NumberedDocument:
    """The document's number (estab-ptoEmi-secuencial) and clave de acceso. Deterministic."""
    if sequence > MAX_SEQUENCE:
        raise Unprocessable(_l("Emission point {series} has used all {max} numbers; issue from another "
                               "emission point.", series=prepared.series, max=MAX_SEQUENCE), code="sequence_exhausted", path="emission_point")
    if sequence < 1:
        raise ValueError(f"Sequences start at 1, not {sequence}")
    key = clave.access_key(prepared.issue_date, catalogs.DOCUMENT_TYPES[prepared.type].code,
                           prepared.content["issuer"]["ruc"], catalogs.AMBIENTES[environment],
                           prepared.series.replace("-", ""), sequence, numeric_code(document_id))
    return NumberedDocument(number=f"{prepared.series}-{sequence:09d}", access_key=key)
