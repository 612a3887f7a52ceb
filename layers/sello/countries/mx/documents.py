"""Mexico: a document request becomes a CFDI 4.0 in two steps, as for Ecuador.

`prepare` checks everything that can be checked offline before a number is taken (SAT's catalogs,
the RFC's check digit, the customer's data against its person type, the rules of SAT's error matrix
that need no registry, the global invoice's and the credit note's own rules), computes every amount
(amounts.py) and fixes the document's Fecha: the current time at the branch, in its zip code's time
zone, written without an offset, so that a signing retried later builds the very same CFDI. Every
failure is a 422 (Unprocessable) with a stable code and the request's dotted path.

`number` gives the prepared document its folio: the number is "<serie>-<folio>" (A-42), there is
no access key (the UUID comes from the PAC's stamp).

The issuer is a `issuer.MexicoIssuer` (RFC, legal name, régimen, fiscal zip, branches), which
`issuer.validate_issuer` gives from a stored issuer's fields.

`content` (PreparedDocument.content) is all the signing step needs, JSON-ready (amounts are strings
written as the CFDI writes them, dates ISO strings): the type and TipoDeComprobante, an issuer
snapshot (RFC, name, régimen, branch and its zip), Fecha, currency, exchange rate, export, payment
form and method, the customer as the CFDI names it, the global period, the related invoices, the
lines with their taxes, the tax summary and the totals. Related invoices given by Sello document id
are kept as such: `related_document_ids` lists them and `resolve_related` fills in their UUIDs once
they are known (cfdi.build needs every UUID)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sello.countries import NumberedDocument, PreparedDocument
from sello.countries.mx import amounts, catalogs, rfc
from sello.countries.mx.issuer import MexicoIssuer, check_name, check_regime, check_zip
from sello.errors import Unprocessable
from sello.i18n import _l

ENVIRONMENTS = ("test", "live")
CFDI_TYPES = {"invoice": "I", "credit_note": "E", "payment": "P"}
# An issue date may be this many days back: Fecha is then that day at the current time of day, which
# leaves at least a day of SAT's 72 hours to stamp it.
MAX_DAYS_BACK = 2
# The signed CFDI at most, estimated before it is built (estimated_size): generous for a PAC, and far
# above what a stored document's content allows anyway.
MAX_DOCUMENT_BYTES = 1_000_000

GENERAL_PUBLIC_NAME = "PUBLICO EN GENERAL"
GENERIC_REGIME = "616"  # sin obligaciones fiscales
GENERIC_USE = "S01"  # sin efectos fiscales
NOT_FOR_SALES = {"CP01": _l("payment receipts (CFDI de pago)"), "CN01": _l("payroll (CFDI de nómina)")}
NO_EXPORT, EXPORT_A1 = "01", "02"
CREDIT_RELATION = "01"  # nota de crédito de los documentos relacionados
SUBSTITUTION = "04"  # sustitución de los CFDI previos (the substitute of a cancellation with motive 01)
PERIODICITIES = {"daily": "01", "weekly": "02", "fortnightly": "03", "monthly": "04", "bimonthly": "05"}
BIMONTHLY = "05"
GLOBAL_PRODUCT, GLOBAL_UNIT, GLOBAL_DESCRIPTION = "01010101", "ACT", "Venta"
NOT_SUBJECT, SUBJECT = "01", "02"
# c_ObjetoImp keys Sello issues: 02 carries taxes, the others none. 05–08 (PODEBI, IVA/IEPS variants)
# are not supported yet.
TAX_OBJECTS = ("01", "02", "03", "04")
PENDING_FORM = "99"  # por definir
PPD = "PPD"  # pago en parcialidades o diferido: paid later, with payment receipts
HUNDRED = Decimal(100)


def join(path: str, field: str | int) -> str:
    return f"{path}.{field}" if path else str(field)


def _missing(path: str, what) -> Unprocessable:
    return Unprocessable(_l("{what} is required here.", what=what), code="missing_field", path=path)


def _not_allowed(path: str, reason) -> Unprocessable:
    return Unprocessable(reason, code="field_not_allowed", path=path)


# The branch, the date and the currency ------------------------------------------------------------

def _branch(request, issuer: MexicoIssuer):
    if request.branch is None:
        if len(issuer.branches) == 1:
            return issuer.branches[0]
        raise _missing("branch", _l("The branch ({codes})", codes=", ".join(b.code for b in issuer.branches)))
    branch = issuer.branch(request.branch)
    if branch is None:
        raise Unprocessable(_l("The issuer has no branch {code}; it has {known}.", code=request.branch,
                               known=", ".join(b.code for b in issuer.branches)),
                            code="unknown_branch", path="branch")
    return branch


def _series(branch, doc_type: str) -> str:
    serie = getattr(branch.series, doc_type)
    if serie is None:
        raise Unprocessable(_l("Branch {branch} has no series for credit notes; add one to the issuer's "
                               "branch.", branch=branch.code), code="series_not_configured", path="branch")
    return serie


def _fecha(request, place: str, now: datetime) -> datetime:
    """The CFDI's Fecha: now at the branch, or the requested day at the branch's current time."""
    local = catalogs.local_time(place, now)
    requested = request.issue_date
    if requested is None:
        return local
    today = local.date()
    if requested > today:
        raise Unprocessable(_l("The issue date cannot be after today at the branch ({today}).",
                               today=today.isoformat()), code="invalid_issue_date", path="issue_date")
    if requested < today - timedelta(days=MAX_DAYS_BACK):
        raise Unprocessable(_l("The issue date can be at most {days} days back: SAT stamps a CFDI within 72 "
                               "hours of "
                               "its date.", days=MAX_DAYS_BACK), code="invalid_issue_date", path="issue_date")
    return datetime.combine(requested, local.time())


def _currency(request) -> tuple[int, str | None]:
    """(the currency's decimals, TipoCambio or None)."""
    currency = request.currency
    places = catalogs.currency_decimals(currency)
    if places is None:
        raise Unprocessable(_l("{currency} is not a currency of SAT's catalog (c_Moneda).",
                               currency=currency), code="unknown_currency", path="currency")
    if currency == "XXX":
        raise Unprocessable(_l("XXX (no currency) is for payment and transfer CFDIs; invoices and credit "
                               "notes have a currency."), code="unsupported_currency", path="currency")
    rate = request.exchange_rate
    if currency == "MXN":
        if rate is not None and rate != 1:
            raise Unprocessable(_l("A document in MXN has no exchange rate; omit exchange_rate."),
                                code="field_not_allowed", path="exchange_rate")
        return places, None
    if rate is None:
        raise _missing("exchange_rate", _l("The exchange rate (pesos per {currency})", currency=currency))
    return places, amounts.fmt_plain(rate)


def _export(request) -> str:
    if catalogs.export(request.export) is None:
        raise Unprocessable(_l("{code} is not an export key of SAT's catalog (c_Exportacion): use 01, 03 or "
                               "04.", code=request.export), code="unknown_export", path="export")
    if request.export == EXPORT_A1:
        raise Unprocessable(_l("Export 02 (definitive, key A1) needs the Comercio Exterior complement, which "
                               "Sello does not issue."), code="unsupported_export", path="export")
    return request.export


# The customer ----------------------------------------------------------------------------------------

def _same_as(value, expected: str, path: str, code: str, message) -> str:
    if value is not None and value != expected:
        raise Unprocessable(message, code=code, path=path)
    return expected


def _generic_customer(customer, tax_id: str, place: str) -> dict:
    """What SAT fixes for a generic RFC: régimen 616, uso S01 and the branch's zip code."""
    regime = _same_as(customer.tax_regime, GENERIC_REGIME, "customer.tax_regime", "tax_regime_not_allowed",
                      _l("A customer with the RFC {rfc} has régimen {regime}; omit tax_regime.", rfc=tax_id,
                         regime=GENERIC_REGIME))
    use = _same_as(customer.cfdi_use, GENERIC_USE, "customer.cfdi_use", "cfdi_use_not_allowed",
                   _l("A customer with the RFC {rfc} has uso CFDI {use}; omit cfdi_use.", rfc=tax_id,
                      use=GENERIC_USE))
    zip_code = _same_as(customer.zip, place, "customer.zip", "invalid_zip",
                        _l("A customer with the RFC {rfc} has the zip code of the branch ({zip}); omit zip.",
                           rfc=tax_id, zip=place))
    return {"tax_regime": regime, "cfdi_use": use, "zip": zip_code}


def _identified_customer(customer, tax_id: str, use: str | None = None) -> dict:
    person = rfc.person_type(tax_id)
    if customer.name is None:
        raise _missing("customer.name", _l("The customer's name as registered with SAT"))
    check_name(customer.name, tax_id, path="customer.name")
    if customer.tax_regime is None:
        raise _missing("customer.tax_regime", _l("The customer's régimen fiscal"))
    regime = check_regime(customer.tax_regime, person, path="customer.tax_regime")
    if customer.zip is None:
        raise _missing("customer.zip", _l("The zip code of the customer's fiscal domicile"))
    check_zip(customer.zip, path="customer.zip")
    if use is not None:  # a payment receipt's, which SAT fixes
        _same_as(customer.cfdi_use, use, "customer.cfdi_use", "cfdi_use_not_allowed",
                 _l("A payment receipt has uso CFDI {use}; omit cfdi_use.", use=use))
        return {"tax_regime": regime, "cfdi_use": use, "zip": customer.zip}
    use = customer.cfdi_use
    if use is None:
        raise _missing("customer.cfdi_use", _l("The uso CFDI"))
    if catalogs.cfdi_use(use) is None:
        raise Unprocessable(_l("{use} is not a uso CFDI of SAT's catalog (c_UsoCFDI).", use=use),
                            code="unknown_cfdi_use", path="customer.cfdi_use")
    if use in NOT_FOR_SALES:
        raise Unprocessable(_l("Uso CFDI {use} is for {what}; use one for invoices, e.g. G03.", use=use,
                               what=NOT_FOR_SALES[use]),
                            code="cfdi_use_not_allowed", path="customer.cfdi_use")
    if not catalogs.use_allowed(use, regime, person):
        allowed = [u for u in catalogs.uses_for(regime, person) if u not in NOT_FOR_SALES]
        raise Unprocessable(_l("Uso CFDI {use} is not allowed for a customer in régimen {regime} "
                               "({person}); allowed: {allowed}.", use=use, regime=regime,
                               person="persona moral" if person == "moral" else "persona física",
                               allowed=", ".join(allowed) or "-"),
                            code="cfdi_use_not_allowed", path="customer.cfdi_use")
    return {"tax_regime": regime, "cfdi_use": use, "zip": customer.zip}


def _customer(request, place: str, *, is_global: bool, use: str | None = None) -> dict:
    """The CFDI's Receptor, checked for its kind (see requests.MexicoCustomer); `use`: the uso CFDI
    the document's type fixes (a payment receipt's CP01)."""
    customer = request.customer
    tax_id = rfc.normalize_rfc(customer.tax_id, path="customer.tax_id")
    foreign = tax_id == rfc.FOREIGN
    if is_global and tax_id != rfc.GENERAL_PUBLIC:
        raise Unprocessable(_l("A global invoice is to the general public: the customer's RFC is {rfc}.",
                               rfc=rfc.GENERAL_PUBLIC), code="invalid_tax_id", path="customer.tax_id")
    if not foreign:
        for field in ("country", "foreign_tax_id"):
            if getattr(customer, field) is not None:
                raise _not_allowed(f"customer.{field}", _l("{field} is only for a foreign customer (RFC "
                                                           "{rfc}).", field=field, rfc=rfc.FOREIGN))
    name = customer.name
    country = foreign_tax_id = None
    if tax_id in (rfc.GENERAL_PUBLIC, rfc.FOREIGN) and use is not None:
        customer = customer.model_copy(update={"cfdi_use": _same_as(
            customer.cfdi_use, use, "customer.cfdi_use", "cfdi_use_not_allowed",
            _l("A payment receipt has uso CFDI {use}; omit cfdi_use.", use=use)) and None})
    if tax_id == rfc.GENERAL_PUBLIC:
        fields = _generic_customer(customer, tax_id, place)
        if is_global:
            name = _same_as(name and name.upper(), GENERAL_PUBLIC_NAME, "customer.name", "invalid_name",
                            _l("A global invoice's customer is {name}; omit the name.",
                               name=GENERAL_PUBLIC_NAME))
        elif name is None or name.upper() == GENERAL_PUBLIC_NAME:
            raise Unprocessable(_l("A CFDI to {name} is a global invoice: add global_information, or give "
                                   "the buyer's name.", name=GENERAL_PUBLIC_NAME),
                                code="global_information_required", path="global_information")
    elif foreign:
        fields = _generic_customer(customer, tax_id, place)
        if name is None:
            raise _missing("customer.name", _l("The foreign customer's name"))
        if customer.country is None:
            raise _missing("customer.country", _l("The foreign customer's country of tax residence"))
        if catalogs.country(customer.country) is None:
            raise Unprocessable(_l("{country} is not a country of SAT's catalog (c_Pais).",
                                   country=customer.country), code="unknown_country", path="customer.country")
        if customer.country == "MEX":
            raise Unprocessable(_l("A foreign customer resides outside Mexico; a customer resident in Mexico "
                                   "has an RFC."), code="invalid_country", path="customer.country")
        if customer.foreign_tax_id is None:
            raise _missing("customer.foreign_tax_id", _l("The foreign customer's tax id in its country"))
        country, foreign_tax_id = customer.country, customer.foreign_tax_id
    else:
        fields = _identified_customer(customer, tax_id, use)
    if use is not None:
        fields["cfdi_use"] = use
    kind = ("general_public" if tax_id == rfc.GENERAL_PUBLIC else "foreign" if foreign else
            rfc.person_type(tax_id))
    return {"kind": kind, "tax_id": tax_id, "name": name, **fields, "country": country,
            "foreign_tax_id": foreign_tax_id, "email": str(customer.email) if customer.email else None}


# Payment, global period, related invoices -----------------------------------------------------------

def _payment(request, *, is_global: bool) -> tuple[str, str]:
    """(FormaPago, MetodoPago)."""
    method, form = request.payment_method, request.payment_form
    if method == "PPD" and request.type == "credit_note":
        raise Unprocessable(_l("A credit note is settled when issued: its payment method is PUE."),
                            code="invalid_payment_method", path="payment_method")
    if method == "PPD" and is_global:
        raise Unprocessable(_l("A global invoice covers sales already paid: its payment method is PUE."),
                            code="invalid_payment_method", path="payment_method")
    if method == "PPD":
        if form is not None and form != PENDING_FORM:
            raise Unprocessable(_l("With payment method PPD the payment form is 99 (por definir): the form "
                                   "is given by each payment's receipt. Omit payment_form or send 99."),
                                code="invalid_payment_form", path="payment_form")
        return PENDING_FORM, method
    if form is None:
        raise _missing("payment_form", _l("The payment form (how the document was paid)"))
    if catalogs.payment_form(form) is None:
        raise Unprocessable(_l("{form} is not a payment form of SAT's catalog (c_FormaPago).", form=form),
                            code="unknown_payment_form", path="payment_form")
    if form == PENDING_FORM:
        raise Unprocessable(_l("Payment method PUE means paid when issued: give the form it was paid in, not "
                               "99 (use PPD for a document paid later)."), code="invalid_payment_form",
                            path="payment_form")
    return form, method


def _global_information(request, fecha: datetime) -> dict | None:
    info = request.global_information
    if info is None:
        return None
    if request.type != "invoice":
        raise _not_allowed("global_information", _l("Only an invoice can be a global invoice."))
    if request.payment_terms is not None:
        raise _not_allowed("payment_terms", _l("A global invoice has no payment terms."))
    periodicity = PERIODICITIES[info.periodicity]
    bimonthly = periodicity == BIMONTHLY
    if catalogs.months(info.months) is None or (info.months > "12") != bimonthly:
        message = (_l("A bimonthly global invoice names its bimester: 13 (January–February) to 18 "
                      "(November–December).") if bimonthly else
                   _l("A global invoice names its month, 01 to 12 (13–18 are bimesters, for bimonthly "
                      "ones)."))
        raise Unprocessable(message, code="invalid_global_information", path="global_information.months")
    if info.year not in (fecha.year, fecha.year - 1):
        raise Unprocessable(_l("A global invoice covers this year or the last ({last} or {this}).",
                               last=fecha.year - 1, this=fecha.year),
                            code="invalid_global_information", path="global_information.year")
    first_month = (int(info.months) - 12) * 2 - 1 if bimonthly else int(info.months)
    if info.year == fecha.year and first_month > fecha.month:
        raise Unprocessable(_l("The period of a global invoice cannot be after its issue date."),
                            code="invalid_global_information", path="global_information.months")
    return {"periodicity": periodicity, "months": info.months, "year": info.year}


def _reference(value: str) -> dict:
    return {"document_id": value} if value.startswith("doc_") else {"uuid": value}


def _related(request) -> dict | None:
    if request.type != "credit_note":
        if request.related:
            raise _not_allowed("related", _l("Only a credit note names related invoices here."))
        if request.substitutes:
            return {"type": SUBSTITUTION, "documents": [_reference(request.substitutes)]}
        return None
    if request.substitutes:
        raise _not_allowed("substitutes", _l("Only an invoice substitutes another document here."))
    if not request.related:
        raise Unprocessable(_l("A credit note names the invoices it credits: add their UUIDs or Sello "
                               "document ids to related."), code="related_required", path="related")
    seen: set[str] = set()
    documents = []
    for i, value in enumerate(request.related):
        if value in seen:
            raise Unprocessable(_l("This invoice is already in related."), code="duplicate_related",
                                path=f"related.{i}")
        seen.add(value)
        documents.append(_reference(value))
    return {"type": CREDIT_RELATION, "documents": documents}


# Lines -----------------------------------------------------------------------------------------------

def _fraction(percent: Decimal) -> Decimal:
    """TasaOCuota of a percent: 16 -> 0.160000 (a percent has at most 4 decimals: exact)."""
    return amounts.round_to(percent / HUNDRED, amounts.MAX_PLACES)


def _invalid_rate(path: str, message) -> Unprocessable:
    return Unprocessable(message, code="invalid_tax_rate", path=join(path, "rate"))


def _tax(tax, path: str, *, border: bool) -> amounts.Tax:
    """The line tax's c_Impuesto, c_TipoFactor and TasaOCuota, checked against c_TasaOCuota."""
    given = [name for name in ("rate", "per_unit") if getattr(tax, name) is not None]
    given += ["exempt"] if tax.exempt else []
    if len(given) != 1:
        raise Unprocessable(_l("Give a tax exactly one of rate, per_unit or exempt."), code="invalid_tax",
                            path=path)
    if tax.type == "isr" and not tax.withholding:
        raise Unprocessable(_l("ISR is only withheld on a CFDI: set withholding to true."),
                            code="tax_not_allowed", path=join(path, "withholding"))
    if tax.withholding:
        if tax.type == "ieps":
            raise Unprocessable(_l("Sello withholds ISR and IVA, not IEPS."), code="tax_not_allowed",
                                path=join(path, "type"))
        if tax.rate is None:
            raise Unprocessable(_l("A withholding is a rate: give rate (percent)."), code="invalid_tax",
                                path=path)
        rate = _fraction(tax.rate)
        code = amounts.ISR if tax.type == "isr" else amounts.IVA
        maximum = catalogs.ISR_WITHHOLDING_MAX if tax.type == "isr" else catalogs.VAT_WITHHOLDING_MAX
        if rate > maximum:
            raise _invalid_rate(path, _l("{tax} is withheld at {max}% at most.", tax=tax.type.upper(),
                                         max=amounts.fmt_plain(maximum * HUNDRED)))
        return amounts.Tax(code, amounts.RATE, rate, withholding=True)
    if tax.type == "vat":
        if tax.exempt:
            return amounts.Tax(amounts.IVA, amounts.EXEMPT, None)
        if tax.per_unit is not None:
            raise Unprocessable(_l("IVA is a rate: give rate (percent)."), code="invalid_tax", path=path)
        rate = _fraction(tax.rate)
        if rate not in catalogs.VAT_RATES:
            raise _invalid_rate(path, _l("IVA is charged at 16, 8 or 0 percent, not {rate}; exempt sales set "
                                         "exempt to true.", rate=amounts.fmt_plain(tax.rate)))
        if rate == catalogs.BORDER_VAT_RATE and not border:
            raise _invalid_rate(path, _l("The 8 % IVA of the región fronteriza applies only where the "
                                         "branch's zip code is in that region."))
        return amounts.Tax(amounts.IVA, amounts.RATE, rate)
    if tax.exempt:
        raise Unprocessable(_l("Only IVA can be exempt here."), code="invalid_tax", path=join(path, "exempt"))
    if tax.per_unit is not None:
        return amounts.Tax(amounts.IEPS, amounts.FEE, amounts.round_to(tax.per_unit, amounts.MAX_PLACES))
    rate = _fraction(tax.rate)
    if rate not in catalogs.IEPS_RATES:
        rates = ", ".join(amounts.fmt_plain(r * HUNDRED) for r in sorted(catalogs.IEPS_RATES))
        raise _invalid_rate(path, _l("IEPS is charged at one of SAT's rates ({rates}) percent, or per unit "
                                     "(per_unit).", rates=rates))
    return amounts.Tax(amounts.IEPS, amounts.RATE, rate)


def _taxes(item, path: str, *, border: bool) -> tuple[amounts.Tax, ...]:
    seen: set[tuple[str, bool]] = set()
    result = []
    for j, tax in enumerate(item.taxes):
        key = (tax.type, tax.withholding)
        if key in seen:
            name = tax.type.upper()
            message = (_l("A line withholds {tax} once at most.", tax=name) if tax.withholding else
                       _l("A line charges {tax} once at most.", tax=name))
            raise Unprocessable(message, code="duplicate_tax", path=join(path, f"taxes.{j}"))
        seen.add(key)
        result.append(_tax(tax, join(path, f"taxes.{j}"), border=border))
    return tuple(result)


def _tax_object(item, path: str) -> str:
    code = item.tax_object or (SUBJECT if item.taxes else NOT_SUBJECT)
    if catalogs.tax_object(code) is None:
        raise Unprocessable(_l("{code} is not a key of SAT's catalog c_ObjetoImp.", code=code),
                            code="unknown_tax_object", path=join(path, "tax_object"))
    if code not in TAX_OBJECTS:
        raise Unprocessable(_l("Sello issues tax_object 01 to 04; {code} is not supported.", code=code),
                            code="unsupported_tax_object", path=join(path, "tax_object"))
    if code == SUBJECT and not item.taxes:
        raise Unprocessable(_l("A line with tax_object 02 (subject to tax) carries its taxes; add them, or "
                               "use 01."), code="taxes_required", path=join(path, "taxes"))
    if code != SUBJECT and item.taxes:
        raise Unprocessable(_l("A line with tax_object {code} carries no taxes; remove them, or use 02.",
                               code=code), code="taxes_not_allowed", path=join(path, "taxes"))
    return code


def _check_global_line(item, path: str) -> None:
    """A global invoice's lines are sales to the general public (SAT's filling guide for the CFDI
    global): ClaveProdServ 01010101, Cantidad 1, ClaveUnidad ACT, Descripcion Venta, NoIdentificacion
    the ticket's number."""
    expected = (("product_code", GLOBAL_PRODUCT), ("unit_code", GLOBAL_UNIT),
                ("description", GLOBAL_DESCRIPTION))
    for field, value in expected:
        given = catalogs.unit_key(item.unit_code) if field == "unit_code" else getattr(item, field)
        if given != value:
            raise Unprocessable(_l("Each line of a global invoice is one sale to the general public: "
                                   "product_code 01010101, unit_code ACT, description Venta, quantity 1 and "
                                   "code the ticket's "
                                   "number."), code="invalid_global_line", path=join(path, field))
    if item.quantity != 1:
        raise Unprocessable(_l("Each line of a global invoice is one sale: quantity 1."),
                            code="invalid_global_line", path=join(path, "quantity"))
    if item.code is None:
        raise _missing(join(path, "code"), _l("The number of the ticket or sale"))


def _too_large(path: str, currency: str) -> Unprocessable:
    return Unprocessable(_l("Amounts in a CFDI have at most 18 digits before the decimal point; this one in "
                            "{currency} has more.", currency=currency), code="amount_too_large", path=path)


def _line_input(item, path: str, *, places: int, currency: str, border: bool,
                is_global: bool) -> amounts.Line:
    if catalogs.product_code(item.product_code) is None:
        raise Unprocessable(_l("{code} is not a product or service key of SAT's catalog (c_ClaveProdServ); "
                               "01010101 stands for none.", code=item.product_code),
                            code="unknown_product_code", path=join(path, "product_code"))
    if catalogs.unit_key(item.unit_code) is None:
        raise Unprocessable(_l("{code} is not a unit key of SAT's catalog (c_ClaveUnidad).",
                               code=item.unit_code), code="unknown_unit_code", path=join(path, "unit_code"))
    if is_global:
        _check_global_line(item, path)
    if amounts.decimals(item.discount.normalize()) > places:
        raise Unprocessable(_l("Amounts in {currency} have at most {places} decimals.", currency=currency,
                               places=places), code="invalid_amount", path=join(path, "discount"))
    _tax_object(item, path)
    return amounts.Line(item.quantity, item.unit_price, item.discount, _taxes(item, path, border=border))


def _fmt_tax(tax: amounts.LineTax, places: int) -> dict:
    base = amounts.fmt_plain(tax.base) if tax.factor == amounts.FEE else amounts.fmt(tax.base, places)
    return {"tax": tax.tax, "factor": tax.factor,
            "rate": None if tax.rate is None else amounts.fmt_rate(tax.rate), "base": base,
            "amount": None if tax.amount is None else amounts.fmt(tax.amount, places)}


def _line(item, computed: amounts.LineAmounts, path: str, *, places: int, currency: str) -> dict:
    if computed.discount > computed.amount:
        raise Unprocessable(_l("The discount is larger than quantity × unit price ({amount}).",
                               amount=amounts.fmt(computed.amount, places)), code="invalid_discount",
                            path=join(path, "discount"))
    if not amounts.fits(computed.amount):
        raise _too_large(path, currency)
    for tax in (*computed.transfers, *computed.withholdings):
        if tax.factor != amounts.FEE and tax.base <= 0:
            raise Unprocessable(_l("A tax needs an amount to apply to: this line is 0 after its discount. "
                                   "Remove its taxes and use tax_object 01."),
                                code="invalid_tax_base", path=join(path, "taxes"))
    return {
        "product_code": item.product_code,
        "code": item.code,
        "description": item.description,
        "quantity": amounts.fmt_plain(item.quantity),
        "unit_code": catalogs.unit_key(item.unit_code),
        "unit": item.unit,
        "unit_price": amounts.fmt_plain(item.unit_price, at_least=places),
        "amount": amounts.fmt(computed.amount, places),
        "discount": amounts.fmt(computed.discount, places),
        "tax_object": item.tax_object or (SUBJECT if item.taxes else NOT_SUBJECT),
        "transfers": [_fmt_tax(t, places) for t in computed.transfers],
        "withholdings": [_fmt_tax(t, places) for t in computed.withholdings],
    }


def _summary(totals: amounts.Totals, places: int, currency: str) -> tuple[dict, dict]:
    """(content's tax summary, content's totals), as strings."""
    for value in (totals.subtotal, totals.total, totals.total_transferred or 0, totals.total_withheld or 0,
                  *(t.base for t in totals.transfers)):
        if not amounts.fits(value):
            raise _too_large("items", currency)

    def fmt(value):
        return None if value is None else amounts.fmt(value, places)

    taxes = {
        "transfers": [{"tax": t.tax, "factor": t.factor,
                       "rate": None if t.rate is None else amounts.fmt_rate(t.rate),
                       "base": fmt(t.base), "amount": fmt(t.amount)} for t in totals.transfers],
        "withholdings": [{"tax": t.tax, "amount": fmt(t.amount)} for t in totals.withholdings],
        "total_transferred": fmt(totals.total_transferred),
        "total_withheld": fmt(totals.total_withheld),
    }
    return taxes, {"subtotal": fmt(totals.subtotal), "discount": fmt(totals.discount),
                   "total": fmt(totals.total)}


# Size --------------------------------------------------------------------------------------------------

# What a signed CFDI holds besides its texts, at most: the root with its namespaces, schema location
# and attributes (Certificado: a CSD is about 1.5 KB, 2 KB in base64; Sello: 344 characters for a
# 2048-bit key, 684 for 4096), Emisor and Receptor, the tax summary; then per line, per tax and per
# related document.
_FIXED_BYTES = 6_000
_LINE_BYTES = 400
_TAX_BYTES = 160
_SUMMARY_TAX_BYTES = 160
_RELATED_BYTES = 80


def _xml_length(value: str | None) -> int:
    """Bytes the text takes in an XML attribute, escaped, in UTF-8."""
    if not value:
        return 0
    return (len(value.encode()) + 4 * value.count("&") + 3 * (value.count("<") + value.count(">"))
            + 5 * value.count('"'))


def estimated_size(content: Mapping[str, Any]) -> int:
    """At least as many bytes as the signed CFDI of the content will have."""
    size = _FIXED_BYTES + _xml_length(content["issuer"]["name"]) + _xml_length(content["customer"]["name"])
    size += _xml_length(content.get("payment_terms")) + _xml_length(content["customer"].get("foreign_tax_id"))
    size += _SUMMARY_TAX_BYTES * (len(content["taxes"]["transfers"]) + len(content["taxes"]["withholdings"]))
    size += _RELATED_BYTES * len((content.get("related") or {}).get("documents", ()))
    for line in content["lines"]:
        size += _LINE_BYTES + sum(_xml_length(line[field]) for field in ("description", "code", "unit"))
        size += _TAX_BYTES * (len(line["transfers"]) + len(line["withholdings"]))
    return size


def _check_size(content: dict) -> None:
    size = estimated_size(content)
    if size > MAX_DOCUMENT_BYTES:
        raise Unprocessable(_l("The CFDI would be about {size} bytes, over the {limit} Sello issues; split "
                               "it into several documents.", size=size, limit=MAX_DOCUMENT_BYTES),
                            code="document_too_large", path="items",
                            extra={"limit": MAX_DOCUMENT_BYTES, "size": size})


# Entry points ------------------------------------------------------------------------------------------

def prepare(request, issuer: MexicoIssuer, environment: str, now: datetime) -> PreparedDocument:
    """Validates a requests.MexicoDocumentRequest for the issuer (issuer.MexicoIssuer) at the UTC
    instant `now` and computes it (see the module docstring). Raises Unprocessable (422) with a
    stable code and the request's field path; nothing here depends on the number."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {environment!r}")
    if request.type not in CFDI_TYPES:
        raise Unprocessable(_l("Sello issues invoices and credit notes in Mexico, not {type}.",
                               type=request.type), code="unsupported_document_type", path="type")
    if request.type == "payment":
        from sello.countries.mx import payments

        return payments.prepare(request, issuer, now)
    if request.payments:
        raise _not_allowed("payments", _l("Only a payment receipt (type payment) has payments."))
    branch = _branch(request, issuer)
    serie = _series(branch, request.type)
    place = check_zip(branch.zip, path="branch")
    fecha = _fecha(request, branch.zip, now)
    places, exchange_rate = _currency(request)
    export = _export(request)
    is_global = request.global_information is not None
    if is_global and request.type != "invoice":
        raise _not_allowed("global_information", _l("Only an invoice can be a global invoice."))
    customer = _customer(request, branch.zip, is_global=is_global)
    global_information = _global_information(request, fecha)
    payment_form, payment_method = _payment(request, is_global=is_global)
    related = _related(request)
    inputs = [_line_input(item, f"items.{i}", places=places, currency=request.currency,
                          border=place.border_region, is_global=is_global)
              for i, item in enumerate(request.items)]
    computed, totals = amounts.compute(inputs, places)
    lines = [_line(item, line, f"items.{i}", places=places, currency=request.currency)
             for i, (item, line) in enumerate(zip(request.items, computed, strict=True))]
    taxes, sums = _summary(totals, places, request.currency)
    content = {
        "type": request.type,
        "cfdi_type": CFDI_TYPES[request.type],
        "issuer": {"rfc": issuer.tax_id, "name": issuer.legal_name, "regime": issuer.regime,
                   "fiscal_zip": issuer.zip, "branch": branch.code, "zip": branch.zip,
                   "time_zone": place.time_zone},
        "fecha": fecha.isoformat(timespec="seconds"),
        "issue_date": fecha.date().isoformat(),
        "currency": request.currency,
        "exchange_rate": exchange_rate,
        "export": export,
        "payment_form": payment_form,
        "payment_method": payment_method,
        "payment_terms": request.payment_terms,
        "customer": customer,
        "global_information": global_information,
        "related": related,
        "lines": lines,
        "taxes": taxes,
        "totals": sums,
        "additional_info": [{"name": name, "value": value}
                            for name, value in request.additional_info.items()],
    }
    _check_size(content)
    net_tax = ((totals.total_transferred or Decimal(0)) - (totals.total_withheld or Decimal(0))).quantize(totals.total)
    return PreparedDocument(
        balance=totals.total if payment_method == PPD else None,
        type=request.type,
        series=serie,
        issue_date=fecha.date(),
        customer={"name": customer["name"] or GENERAL_PUBLIC_NAME, "tax_id": customer["tax_id"],
                  "email": customer["email"]},
        totals={"currency": request.currency, "subtotal": totals.subtotal - totals.discount,
                "discount": totals.discount, "tax": net_tax, "total": totals.total},
        content=content,
    )


def number(prepared: PreparedDocument, sequence: int, document_id: str, environment: str) -> NumberedDocument:
    """The document's number, "<serie>-<folio>" (CFDI Serie and Folio); the folio is the sequence.
    Deterministic. There is no access key before the PAC's stamp."""
    if sequence < 1:
        raise ValueError(f"Sequences start at 1, not {sequence}")
    return NumberedDocument(number=f"{prepared.series}-{sequence}", access_key="")


def split_number(number: str) -> tuple[str, str]:
    """(Serie, Folio) of a document number "<serie>-<folio>"."""
    serie, _, folio = number.rpartition("-")
    if not serie or not folio:
        raise ValueError(f"not a Mexican document number: {number!r}")
    return serie, folio


def related_document_ids(content: Mapping[str, Any]) -> list[str]:
    """The Sello document ids among a credit note's related invoices, whose UUIDs are still to fill in."""
    related = content.get("related") or {}
    return [d["document_id"] for d in related.get("documents", ()) if "uuid" not in d]


def resolve_related(content: Mapping[str, Any], uuids: Mapping[str, str]) -> dict:
    """A copy of the content whose related invoices given by Sello document id carry their UUID
    (`uuids`: document id -> UUID). KeyError for an id `uuids` lacks."""
    related = content.get("related")
    if not related:
        return dict(content)
    documents = [d if "uuid" in d else {**d, "uuid": uuids[d["document_id"]].upper()}
                 for d in related["documents"]]
    return {**content, "related": {**related, "documents": documents}}
