"""Mexico: the CFDI de pago (TipoDeComprobante P) with the complemento de recepción de pagos 2.0.

A payment request names the payments received (FechaPago, FormaDePagoP, MonedaP, TipoCambioP, Monto)
and, for each, the invoices it pays (DoctoRelacionado) with what it pays of each (ImpPagado). An invoice
issued through Sello is named by its document id: `resolve` (the plugin's resolve_references) takes
from the stored invoice what the payment needs (UUID, currency, series and folio, total, taxes, the
balance and installments of the payments Sello recorded for it) and refuses one that is not a PPD
invoice of the same customer. One issued elsewhere is named by its UUID, and the request gives that
data itself.

`prepare` checks the request and derives everything else, each failure a 422 with a stable code and
the request's path:
- per invoice: NumParcialidad (the next after those recorded, and after earlier payments of the same
  request), ImpSaldoAnt (the balance before), ImpSaldoInsoluto = ImpSaldoAnt − ImpPagado, never
  negative (`amount_exceeds_balance`); EquivalenciaDR: 1 for the same currency, the payment's
  TipoCambioP for an invoice in MXN paid in another currency, else given (`equivalence_required`);
  ObjetoImpDR 02 with the invoice's taxes, 01 without;
- the taxes paid with each invoice (ImpuestosDR) by satcfdi's `make_impuestos_dr_parcial`: each of the
  invoice's taxes (Base and Importe, by tax, factor and rate) times the share of the invoice paid so far
  including this payment, rounded, less the same for the share paid before it, so the installments
  of an invoice add up to its taxes exactly;
- per payment: Monto (at least Σ ImpPagado / EquivalenciaDR, rounded half up to MonedaP's decimals,
  which is the default) and ImpuestosP (the DR taxes converted to MonedaP, Σ value / EquivalenciaDR,
  rounded half up to its decimals);
- Totales, in MXN with 2 decimals, rounded half up: MontoTotalPagos = Σ Monto × TipoCambioP, the
  withholdings by tax and the IVA transferred at 16 %, 8 %, 0 % and exempt (bases and amounts), each
  Σ over the payments of its ImpuestosP × TipoCambioP.
satcfdi's Pagos builder computes Monto, ImpuestosP and Totales too, but adds DR amounts of different
currencies without converting them and does not round; so only its DR computation is used here.

What a payment applies to each Sello invoice (its sum over the request's payments and the balance
left) becomes a countries.Settlement, which the service records on the invoice when the payment is
stored (services.settlements)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from sello.countries import PreparedDocument, Settlement
from sello.countries.mx import amounts, catalogs, documents
from sello.countries.mx.issuer import MexicoIssuer, check_zip
from sello.errors import Unprocessable
from sello.i18n import _l

PAYMENT_USE = "CP01"  # uso CFDI of every CFDI de pago
PAYMENT_PRODUCT, PAYMENT_UNIT, PAYMENT_DESCRIPTION = "84111506", "ACT", "Pago"
NO_CURRENCY = "XXX"
PENDING_FORM = documents.PENDING_FORM
PPD = "PPD"
TAX_SUBJECT, NOT_SUBJECT = "02", "01"
TOTALS_PLACES = 2
MIN_YEAR = 2022  # Pagos 2.0 came into force in 2022
PRECISION = 80
# Fields of a paid document that only an invoice issued elsewhere gives.
EXTERNAL_FIELDS = ("currency", "total", "previous_balance", "installment", "series", "folio", "tax_object",
                   "taxes")
# Request fields of the other types.
OTHER_TYPES_FIELDS = ("related", "global_information", "payment_terms", "payment_form", "payment_method",
                      "currency", "exchange_rate", "export")
# Totales: the withholdings by c_Impuesto and the IVA transferred by rate.
WITHHELD_TOTALS = {amounts.ISR: "TotalRetencionesISR", amounts.IVA: "TotalRetencionesIVA",
                   amounts.IEPS: "TotalRetencionesIEPS"}
VAT_TOTALS = {Decimal("0.160000"): "IVA16", Decimal("0.080000"): "IVA8", Decimal("0.000000"): "IVA0"}


@dataclass(frozen=True)
class Invoice:
    """What a payment needs of an invoice it pays. `taxes` are its taxes as satcfdi's conceptos hold
    them ([{"Impuestos": {"Traslados": [...], "Retenciones": [...]}}], amounts Decimal)."""

    uuid: str
    currency: str
    total: Decimal
    balance: Decimal  # before this payment
    installment: int  # the next installment number
    series: str | None
    folio: str | None
    tax_object: str
    taxes: tuple[dict, ...]
    document_id: str | None = None  # an invoice issued through Sello
    version: int = 0  # its payments_version as read


# Resolving the invoices issued through Sello ---------------------------------------------------------

def referenced_documents(request: Any) -> tuple[tuple[str, str], ...]:
    """(document id, path) of each invoice a payment names by its Sello id."""
    if request.type != "payment":
        return ()
    return tuple((paid.document, f"payments.{i}.documents.{j}.document")
                 for i, payment in enumerate(request.payments) for j, paid in enumerate(payment.documents)
                 if paid.document.startswith("doc_"))


def _conceptos(lines: list[Mapping[str, Any]]) -> tuple[dict, ...]:
    def taxes(entries: list[Mapping[str, Any]]) -> list[dict]:
        return [{"Base": Decimal(t["base"]), "Impuesto": t["tax"], "TipoFactor": t["factor"],
                 "TasaOCuota": None if t["rate"] is None else Decimal(t["rate"]),
                 "Importe": None if t["amount"] is None else Decimal(t["amount"])} for t in entries]

    return tuple({"Impuestos": {"Traslados": taxes(line["transfers"]), "Retenciones": taxes(line["withholdings"])}}
                 for line in lines if line["transfers"] or line["withholdings"])


def _known_invoice(doc: Any, path: str, customer: str) -> Invoice:
    content = doc.content or {}
    if doc.type != "invoice" or content.get("payment_method") != PPD:
        raise Unprocessable(_l("Document {id} is not an invoice with payment method PPD: only those are paid "
                               "with a payment receipt (an invoice paid when issued, PUE, is already paid).",
                               id=doc.id), code="invoice_not_payable", path=path)
    invoiced = content["customer"]["tax_id"]
    if invoiced != customer:
        raise Unprocessable(_l("Document {id} is an invoice to {rfc}: a payment receipt is issued to the customer "
                               "of the invoices it pays.", id=doc.id, rfc=invoiced),
                            code="related_customer_mismatch", path=path)
    serie, _, folio = (doc.number or "").rpartition("-")
    recorded = (doc.payments or {}).values()
    total = Decimal(content["totals"]["total"])
    conceptos = _conceptos(content["lines"])
    return Invoice(uuid=doc.authorization_number.upper(), currency=content["currency"], total=total,
                   balance=total if doc.balance is None else Decimal(doc.balance),
                   installment=1 + max((int(p.get("installment") or 0) for p in recorded), default=0),
                   series=serie or None, folio=folio or None,
                   tax_object=TAX_SUBJECT if conceptos else NOT_SUBJECT, taxes=conceptos,
                   document_id=doc.id, version=doc.payments_version)


def resolve(request: Any, found: Mapping[str, Any]) -> Any:
    """A copy of the payment request that knows the invoices it names by Sello id (`found`: id ->
    models.documents.Document, authorized, of the issuer): 422 for one that is not a PPD invoice, or
    when the request gives what Sello knows of it."""
    known: dict[str, Invoice] = {}
    customer = request.customer.tax_id.strip().upper()
    for i, payment in enumerate(request.payments):
        for j, paid in enumerate(payment.documents):
            path = f"payments.{i}.documents.{j}"
            if paid.document not in found:
                continue
            for field in EXTERNAL_FIELDS:
                if field in paid.model_fields_set:
                    raise documents._not_allowed(f"{path}.{field}", _l(
                        "Sello knows this of an invoice it issued; give {field} only for an invoice issued "
                        "elsewhere (named by its UUID).", field=field))
            known.setdefault(paid.document, _known_invoice(found[paid.document], f"{path}.document", customer))
    resolved = request.model_copy()
    resolved._invoices = known
    return resolved


# Invoices issued elsewhere ----------------------------------------------------------------------------

def _external_tax(tax: Any, path: str) -> tuple[str, dict]:
    """("Traslados" | "Retenciones", the tax as satcfdi's conceptos hold it)."""
    if tax.type == "isr" and not tax.withholding:
        raise Unprocessable(_l("ISR is only withheld on a CFDI: set withholding to true."),
                            code="tax_not_allowed", path=f"{path}.withholding")
    if tax.exempt:
        if tax.type != "vat" or tax.withholding or tax.rate is not None or tax.amount is not None:
            raise Unprocessable(_l("Only IVA transferred can be exempt, with a base and no rate or amount."),
                                code="invalid_tax", path=path)
        return "Traslados", {"Base": tax.base, "Impuesto": amounts.IVA, "TipoFactor": amounts.EXEMPT,
                             "TasaOCuota": None, "Importe": None}
    if tax.rate is None or tax.amount is None:
        raise Unprocessable(_l("A tax that is not exempt has a rate and an amount."), code="invalid_tax",
                            path=path)
    code = {"vat": amounts.IVA, "ieps": amounts.IEPS, "isr": amounts.ISR}[tax.type]
    rate = amounts.round_to(tax.rate / documents.HUNDRED, amounts.MAX_PLACES)
    if code == amounts.IVA and not tax.withholding and rate not in catalogs.VAT_RATES:
        raise Unprocessable(_l("IVA is charged at 16, 8 or 0 percent, not {rate}; exempt sales set exempt to "
                               "true.", rate=amounts.fmt_plain(tax.rate)), code="invalid_tax_rate",
                            path=f"{path}.rate")
    return ("Retenciones" if tax.withholding else "Traslados"), {
        "Base": tax.base, "Impuesto": code, "TipoFactor": amounts.RATE, "TasaOCuota": rate, "Importe": tax.amount}


def _external_invoice(paid: Any, path: str) -> Invoice:
    for field, what in (("currency", _l("The invoice's currency")), ("total", _l("The invoice's total")),
                        ("previous_balance", _l("What was left to pay of the invoice before this payment")),
                        ("installment", _l("The installment number"))):
        if getattr(paid, field) is None:
            raise documents._missing(f"{path}.{field}", what)
    places = catalogs.currency_decimals(paid.currency)
    if places is None or paid.currency == NO_CURRENCY:
        raise Unprocessable(_l("{currency} is not a currency of SAT's catalog (c_Moneda) an invoice is issued "
                               "in.", currency=paid.currency), code="unknown_currency", path=f"{path}.currency")
    for field in ("total", "previous_balance"):
        if amounts.decimals(getattr(paid, field).normalize()) > places:
            raise _decimals(f"{path}.{field}", paid.currency, places)
    if paid.previous_balance > paid.total:
        raise Unprocessable(_l("What was left to pay cannot be more than the invoice's total."),
                            code="invalid_previous_balance", path=f"{path}.previous_balance")
    groups: dict[str, list[dict]] = {"Traslados": [], "Retenciones": []}
    for k, tax in enumerate(paid.taxes):
        kind, entry = _external_tax(tax, f"{path}.taxes.{k}")
        groups[kind].append(entry)
    tax_object = paid.tax_object or (TAX_SUBJECT if paid.taxes else NOT_SUBJECT)
    if catalogs.tax_object(tax_object) is None:
        raise Unprocessable(_l("{code} is not a key of SAT's catalog c_ObjetoImp.", code=tax_object),
                            code="unknown_tax_object", path=f"{path}.tax_object")
    if (tax_object == TAX_SUBJECT) != bool(paid.taxes):
        raise Unprocessable(_l("ObjetoImpDR 02 goes with the invoice's taxes, and the other keys without them."),
                            code="invalid_tax_object", path=f"{path}.tax_object")
    return Invoice(uuid=paid.document, currency=paid.currency, total=paid.total, balance=paid.previous_balance,
                   installment=paid.installment, series=paid.series, folio=paid.folio, tax_object=tax_object,
                   taxes=({"Impuestos": groups},) if paid.taxes else ())


def _decimals(path: str, currency: str, places: int) -> Unprocessable:
    return Unprocessable(_l("Amounts in {currency} have at most {places} decimals.", currency=currency,
                            places=places), code="invalid_amount", path=path)


# The arithmetic -----------------------------------------------------------------------------------------

def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(amounts.unit(places), rounding=ROUND_HALF_UP)


def taxes_paid(invoice: Invoice, paid: Decimal, places: int) -> dict[str, list[dict]]:
    """ImpuestosDR of paying `paid` of the invoice at its balance (satcfdi's make_impuestos_dr_parcial:
    each tax in proportion to the share of the total paid, rounded cumulatively), in the invoice's
    currency: {"transfers": [...], "withholdings": [...]}, each {tax, factor, rate, base, amount}
    (Decimal, rate and amount None when exempt)."""
    from satcfdi.create.compute import make_impuestos_dr_parcial

    if not invoice.taxes:
        return {"transfers": [], "withholdings": []}
    computed = make_impuestos_dr_parcial(conceptos=list(invoice.taxes), imp_saldo_ant=invoice.balance,
                                         imp_pagado=paid, total=invoice.total,
                                         rnd_fn=lambda v: rounded(v, places))

    def entries(kind: str) -> list[dict]:
        return [{"tax": t["ImpuestoDR"], "factor": t["TipoFactorDR"], "rate": t["TasaOCuotaDR"],
                 "base": t["BaseDR"], "amount": t["ImporteDR"]} for t in computed.get(kind, [])]

    return {"transfers": entries("TrasladosDR"), "withholdings": entries("RetencionesDR")}


def _fmt_tax(tax: Mapping[str, Any], places: int) -> dict:
    return {"tax": tax["tax"], "factor": tax["factor"],
            "rate": None if tax["rate"] is None else amounts.fmt_rate(tax["rate"]),
            "base": amounts.fmt(tax["base"], places),
            "amount": None if tax["amount"] is None else amounts.fmt(tax["amount"], places)}


def _tax_key(tax: Mapping[str, Any]) -> tuple:
    return tax["tax"], tax["factor"], tax["rate"]


def payment_taxes(related: list[tuple[dict, Decimal]], places: int) -> dict[str, list[dict]]:
    """ImpuestosP: the related documents' taxes (each with its EquivalenciaDR) in the payment's currency,
    Σ value / EquivalenciaDR by tax (withholdings) or by tax, factor and rate (transfers), rounded half
    up to `places`."""
    transfers: dict[tuple, list[Decimal | None]] = {}
    withholdings: dict[str, Decimal] = {}
    for taxes, equivalence in related:
        for tax in taxes["transfers"]:
            group = transfers.setdefault(_tax_key(tax), [Decimal(0), None])
            group[0] += tax["base"] / equivalence
            if tax["amount"] is not None:
                group[1] = (group[1] or Decimal(0)) + tax["amount"] / equivalence
        for tax in taxes["withholdings"]:
            withholdings[tax["tax"]] = withholdings.get(tax["tax"], Decimal(0)) + tax["amount"] / equivalence
    return {
        "transfers": [{"tax": key[0], "factor": key[1], "rate": key[2], "base": rounded(base, places),
                       "amount": None if amount is None else rounded(amount, places)}
                      for key, (base, amount) in transfers.items()],
        "withholdings": [{"tax": code, "amount": rounded(amount, places)} for code, amount in withholdings.items()],
    }


def payment_totals(payments: list[tuple[Decimal, Decimal, dict]]) -> dict[str, Decimal]:
    """Totales of (Monto, TipoCambioP, ImpuestosP) per payment: in MXN, rounded half up to 2 decimals;
    only the withholdings and IVA rates that occur."""
    sums: dict[str, Decimal] = {"MontoTotalPagos": Decimal(0)}
    for amount, rate, taxes in payments:
        sums["MontoTotalPagos"] += amount * rate
        for tax in taxes["withholdings"]:
            name = WITHHELD_TOTALS[tax["tax"]]
            sums[name] = sums.get(name, Decimal(0)) + tax["amount"] * rate
        for tax in taxes["transfers"]:
            if tax["tax"] != amounts.IVA:
                continue
            if tax["factor"] == amounts.EXEMPT:
                sums["TotalTrasladosBaseIVAExento"] = (sums.get("TotalTrasladosBaseIVAExento", Decimal(0))
                                                       + tax["base"] * rate)
                continue
            suffix = VAT_TOTALS[tax["rate"]]
            for name, value in ((f"TotalTrasladosBase{suffix}", tax["base"]),
                                (f"TotalTrasladosImpuesto{suffix}", tax["amount"])):
                sums[name] = sums.get(name, Decimal(0)) + value * rate
    return {name: rounded(value, TOTALS_PLACES) for name, value in sums.items()}


# Preparing --------------------------------------------------------------------------------------------

def _paid_at(value: datetime | None, place: str, fecha: datetime, path: str) -> datetime:
    """FechaPago: an aware time at the branch's local time (a date alone is noon: requests); not on a
    day after Fecha's (the same day at noon is how SAT asks a payment of that day without its time to
    be written, even when the receipt is issued in the morning)."""
    if value is None:
        return fecha
    try:
        moment = (catalogs.local_time(place, value) if value.tzinfo is not None
                  else value.replace(microsecond=0))
    except (OverflowError, ValueError):  # an instant at the ends of the calendar
        moment = None
    if moment is None or moment.year < MIN_YEAR:
        raise Unprocessable(_l("A payment received in {year} cannot be receipted.", year=value.year),
                            code="invalid_payment_date", path=path)
    if moment.date() > fecha.date():
        raise Unprocessable(_l("A payment cannot be received after its receipt is issued ({fecha}).",
                               fecha=fecha.isoformat()), code="invalid_payment_date", path=path)
    return moment


def _payment_currency(payment: Any, path: str) -> tuple[int, Decimal]:
    """(MonedaP's decimals, TipoCambioP)."""
    places = catalogs.currency_decimals(payment.currency)
    if places is None:
        raise Unprocessable(_l("{currency} is not a currency of SAT's catalog (c_Moneda).",
                               currency=payment.currency), code="unknown_currency", path=f"{path}.currency")
    if payment.currency == NO_CURRENCY:
        raise Unprocessable(_l("A payment is made in a currency: XXX is the receipt's own, not the payment's."),
                            code="unsupported_currency", path=f"{path}.currency")
    if payment.currency == "MXN":
        if payment.exchange_rate is not None and payment.exchange_rate != 1:
            raise documents._not_allowed(f"{path}.exchange_rate", _l("A payment in MXN has no exchange rate; "
                                                                     "omit exchange_rate."))
        return places, Decimal(1)
    if payment.exchange_rate is None:
        raise documents._missing(f"{path}.exchange_rate", _l("The exchange rate (pesos per {currency}) on the "
                                                             "payment date", currency=payment.currency))
    return places, payment.exchange_rate


def _equivalence(paid: Any, invoice: Invoice, payment: Any, rate: Decimal, path: str) -> Decimal:
    given = paid.equivalence
    if invoice.currency == payment.currency:
        if given is not None and given != 1:
            raise Unprocessable(_l("The invoice and the payment are in the same currency: the equivalence is 1."),
                                code="invalid_equivalence", path=f"{path}.equivalence")
        return Decimal(1)
    if given is not None:
        return given
    if invoice.currency == "MXN":
        return rate  # pesos per unit of the payment's currency
    raise Unprocessable(_l("The invoice is in {invoice} and the payment in {payment}: give the equivalence, "
                           "the {invoice} that one {payment} paid.", invoice=invoice.currency,
                           payment=payment.currency), code="equivalence_required", path=f"{path}.equivalence")


def _check_other_fields(request: Any) -> None:
    if request.items:
        raise documents._not_allowed("items", _l("A payment receipt has SAT's one Concepto (Pago); omit items."))
    for field in OTHER_TYPES_FIELDS:
        if field in request.model_fields_set and getattr(request, field) not in (None, [], {}):
            raise documents._not_allowed(field, _l("A payment receipt has no {field}: each payment has its "
                                                   "own.", field=field))
    if request.substitutes:
        raise documents._not_allowed("substitutes", _l("Only an invoice substitutes another document here."))
    if not request.payments:
        raise documents._missing("payments", _l("The payments received"))


def _series(branch) -> str:
    if branch.series.payment is None:
        raise Unprocessable(_l("Branch {branch} has no series for payment receipts; add one to the issuer's "
                               "branch.", branch=branch.code), code="series_not_configured", path="branch")
    return branch.series.payment


def prepare(request: Any, issuer: MexicoIssuer, now: datetime) -> PreparedDocument:
    """Validates and computes a payment request (see the module docstring). Exact arithmetic: amounts
    of up to 24 digits divided by equivalences of up to 10 decimals need more digits than Decimal's
    default 28."""
    with localcontext() as context:
        context.prec = PRECISION
        return _prepare(request, issuer, now)


def _prepare(request: Any, issuer: MexicoIssuer, now: datetime) -> PreparedDocument:
    _check_other_fields(request)
    branch = documents._branch(request, issuer)
    serie = _series(branch)
    place = check_zip(branch.zip, path="branch")
    fecha = documents._fecha(request, branch.zip, now)
    customer = documents._customer(request, branch.zip, is_global=False, use=PAYMENT_USE)
    known: dict[str, Invoice] = getattr(request, "_invoices", None) or {}
    state: dict[str, Invoice] = {}  # invoice key -> the invoice as the request's earlier payments left it
    settled: dict[str, tuple[Invoice, Decimal, Invoice, str]] = {}  # document id -> (as read, paid, now, at)
    payments, totals_input = [], []
    for i, payment in enumerate(request.payments):
        path = f"payments.{i}"
        if catalogs.payment_form(payment.payment_form) is None:
            raise Unprocessable(_l("{form} is not a payment form of SAT's catalog (c_FormaPago).",
                                   form=payment.payment_form), code="unknown_payment_form",
                                path=f"{path}.payment_form")
        if payment.payment_form == PENDING_FORM:
            raise Unprocessable(_l("A payment received has a payment form: not 99 (por definir)."),
                                code="invalid_payment_form", path=f"{path}.payment_form")
        places, rate = _payment_currency(payment, path)
        paid_at = _paid_at(payment.paid_at, branch.zip, fecha, f"{path}.paid_at")
        related, converted, seen = [], [], set()
        exact = Decimal(0)
        for j, paid in enumerate(payment.documents):
            doc_path = f"{path}.documents.{j}"
            if paid.document in seen:
                raise Unprocessable(_l("This invoice is already in this payment."), code="duplicate_related",
                                    path=f"{doc_path}.document")
            seen.add(paid.document)
            if paid.document.startswith("doc_"):
                if paid.document not in known:
                    raise ValueError(f"{paid.document} was not resolved (plugin.resolve_references)")
                first = known[paid.document]
            else:
                first = _external_invoice(paid, doc_path)
            key = first.document_id or first.uuid
            invoice = state.get(key, first)  # as the request's earlier payments left it
            dr_places = catalogs.currency_decimals(invoice.currency)
            if amounts.decimals(paid.amount.normalize()) > dr_places:
                raise _decimals(f"{doc_path}.amount", invoice.currency, dr_places)
            if paid.amount > invoice.balance:
                raise Unprocessable(_l("The payment is more than what is left to pay of the invoice ({balance} "
                                       "{currency}).", balance=amounts.fmt(invoice.balance, dr_places),
                                       currency=invoice.currency),
                                    code="amount_exceeds_balance", path=f"{doc_path}.amount")
            equivalence = _equivalence(paid, invoice, payment, rate, doc_path)
            taxes = taxes_paid(invoice, paid.amount, dr_places)
            after = replace(invoice, balance=invoice.balance - paid.amount, installment=invoice.installment + 1)
            state[key] = after
            if invoice.document_id is not None:
                read = settled.get(invoice.document_id, (first, Decimal(0)))[0]
                total_paid = settled.get(invoice.document_id, (first, Decimal(0)))[1] + paid.amount
                settled[invoice.document_id] = (read, total_paid, after, paid_at.isoformat())
            exact += paid.amount / equivalence
            converted.append((taxes, equivalence))
            related.append({
                "uuid": invoice.uuid, "document_id": invoice.document_id, "series": invoice.series,
                "folio": invoice.folio, "currency": invoice.currency,
                "equivalence": amounts.fmt_plain(equivalence), "installment": invoice.installment,
                "previous_balance": amounts.fmt(invoice.balance, dr_places),
                "paid": amounts.fmt(paid.amount, dr_places), "balance": amounts.fmt(after.balance, dr_places),
                "tax_object": invoice.tax_object,
                "taxes": {kind: [_fmt_tax(t, dr_places) for t in entries] for kind, entries in taxes.items()},
            })
        minimum = rounded(exact, places)
        amount = minimum if payment.amount is None else payment.amount
        if amounts.decimals(amount.normalize()) > places:
            raise _decimals(f"{path}.amount", payment.currency, places)
        if amount < minimum:
            raise Unprocessable(_l("The payment's amount is less than what it pays of its invoices ({minimum} "
                                   "{currency}).", minimum=amounts.fmt(minimum, places), currency=payment.currency),
                                code="payment_amount_too_small", path=f"{path}.amount")
        if not amounts.fits(amount):
            raise documents._too_large(f"{path}.amount", payment.currency)
        summary = payment_taxes(converted, places)
        totals_input.append((amount, rate, summary))
        payments.append({
            "paid_at": paid_at.isoformat(timespec="seconds"), "payment_form": payment.payment_form,
            "currency": payment.currency,
            "exchange_rate": "1" if payment.currency == "MXN" else amounts.fmt_plain(rate),
            "amount": amounts.fmt(amount, places), "operation_number": payment.operation_number,
            "documents": related,
            "taxes": {kind: [_fmt_tax(t, places) if kind == "transfers" else
                             {"tax": t["tax"], "amount": amounts.fmt(t["amount"], places)} for t in entries]
                      for kind, entries in summary.items()},
        })
    totals = payment_totals(totals_input)
    if not all(amounts.fits(value) for value in totals.values()):
        raise documents._too_large("payments", "MXN")
    content = {
        "type": "payment",
        "cfdi_type": "P",
        "issuer": {"rfc": issuer.tax_id, "name": issuer.legal_name, "regime": issuer.regime,
                   "fiscal_zip": issuer.zip, "branch": branch.code, "zip": branch.zip,
                   "time_zone": place.time_zone},
        "fecha": fecha.isoformat(timespec="seconds"),
        "issue_date": fecha.date().isoformat(),
        "currency": NO_CURRENCY,
        "export": documents.NO_EXPORT,
        "customer": customer,
        "payments": payments,
        "payment_totals": {name: amounts.fmt(value, TOTALS_PLACES) for name, value in totals.items()},
        "totals": {"subtotal": "0", "discount": None, "total": "0"},
        "additional_info": [{"name": name, "value": value} for name, value in request.additional_info.items()],
    }
    _check_size(content)
    settles = tuple(
        Settlement(document_id=doc_id, amount=total_paid, balance=after.balance, version=read.version,
                   details={"installment": after.installment - 1, "paid_at": at})
        for doc_id, (read, total_paid, after, at) in settled.items())
    return PreparedDocument(
        type="payment", series=serie, issue_date=fecha.date(),
        customer={"name": customer["name"] or documents.GENERAL_PUBLIC_NAME, "tax_id": customer["tax_id"],
                  "email": customer["email"]},
        totals={"currency": "MXN", "total": totals["MontoTotalPagos"]},
        content=content, settles=settles)


# Size ----------------------------------------------------------------------------------------------------

_PAYMENT_BYTES = 700
_RELATED_BYTES = 450
_TAX_BYTES = 160


def estimated_size(content: Mapping[str, Any]) -> int:
    """At least as many bytes as the signed CFDI de pago of the content will have."""
    size = (documents._FIXED_BYTES + documents._xml_length(content["issuer"]["name"])
            + documents._xml_length(content["customer"]["name"]))
    for payment in content["payments"]:
        size += _PAYMENT_BYTES + documents._xml_length(payment.get("operation_number"))
        size += _TAX_BYTES * (len(payment["taxes"]["transfers"]) + len(payment["taxes"]["withholdings"]))
        for related in payment["documents"]:
            size += _RELATED_BYTES + documents._xml_length(related.get("series")) + documents._xml_length(
                related.get("folio"))
            size += _TAX_BYTES * (len(related["taxes"]["transfers"]) + len(related["taxes"]["withholdings"]))
    return size


def _check_size(content: dict) -> None:
    size = estimated_size(content)
    if size > documents.MAX_DOCUMENT_BYTES:
        raise Unprocessable(_l("The CFDI would be about {size} bytes, over the {limit} Sello issues; split "
                               "it into several documents.", size=size, limit=documents.MAX_DOCUMENT_BYTES),
                            code="document_too_large", path="payments",
                            extra={"limit": documents.MAX_DOCUMENT_BYTES, "size": size})
