"""Ecuador's documents for store orders (sello.stores): the neutral document request, issued from the
integration's establishment and emission point, in USD, each line's VAT by its rate (SRI's tarifas).
A buyer without an identification is the consumidor final (9999999999999), which SRI allows on
invoices up to USD 50 and never on credit notes."""

from __future__ import annotations

from typing import Any

from sello.countries.ec.catalogs import FINAL_CONSUMER_LIMIT, VAT_RATES
from sello.i18n import _l
from sello.stores import InvoiceRef, NotInvoiceable, StoreLine, StoreOrder, StoreRefund, StoreSettings, money

FINAL_CONSUMER_ID = "9999999999999"


def _items(lines: tuple[StoreLine, ...]) -> list[dict[str, Any]]:
    items = []
    for line in lines:
        if line.vat_rate not in VAT_RATES:
            raise NotInvoiceable("unsupported_tax_rate", _l("A line is taxed at {rate} %, a VAT rate Ecuador does not "
                                                            "have ({rates}).", rate=money(line.vat_rate),
                                                            rates=", ".join(money(r) for r in sorted(VAT_RATES))),
                                 line.path)
        item = {"description": line.description, "quantity": money(line.quantity),
                "unit_price": money(line.unit_price), "discount": money(line.discount),
                "taxes": [{"type": "vat", "rate": money(line.vat_rate)}]}
        if line.code:
            item["code"] = str(line.code)[:25]
        items.append(item)
    return items


def _customer(order: StoreOrder, settings: StoreSettings) -> dict[str, Any]:
    buyer = order.buyer
    tax_id = "".join(buyer.fields.get(settings.tax_id_field, "").split())
    contact = {key: value for key, value in (("email", buyer.email), ("address", buyer.address[:300]),
                                             ("phone", buyer.phone[:30])) if value}
    if tax_id:
        id_type = "tax_id" if len(tax_id) == 13 and tax_id.isdigit() else \
            "national_id" if len(tax_id) == 10 and tax_id.isdigit() else "passport"
        name = buyer.company if id_type == "tax_id" and buyer.company else buyer.name
        if not name:
            raise NotInvoiceable("customer_name_missing", _l("The order has the buyer's identification but no "
                                                             "name to invoice to."), "billing_address.name")
        return {"id_type": id_type, "tax_id": tax_id, "name": name[:300], **contact}
    if not settings.allow_anonymous:
        raise NotInvoiceable("customer_tax_id_missing", _l("The order has no buyer identification (field "
                                                           "{field}) and the integration does not invoice to the "
                                                           "consumidor final.", field=settings.tax_id_field),
                             settings.tax_id_field)
    if sum(line.subtotal + line.tax for line in order.lines) > FINAL_CONSUMER_LIMIT:
        raise NotInvoiceable("final_consumer_limit", _l("The order has no buyer identification (field {field}) and "
                                                        "its total is over USD {limit}, the most SRI allows to "
                                                        "invoice to the consumidor final.",
                                                        field=settings.tax_id_field, limit=money(FINAL_CONSUMER_LIMIT)),
                             settings.tax_id_field)
    return {"id_type": "final_consumer", "tax_id": FINAL_CONSUMER_ID, "name": "CONSUMIDOR FINAL", **contact}


def _head(settings: StoreSettings, currency: str, type_: str) -> dict[str, Any]:
    if currency != "USD":
        raise NotInvoiceable("unsupported_currency", _l("The order is in {currency}; Ecuador's documents are in "
                                                        "USD.", currency=currency), "currency")
    if not (settings.establishment and settings.emission_point):
        raise NotInvoiceable("integration_incomplete", _l("The integration names no establishment and emission "
                                                          "point to issue from."), "establishment")
    return {"type": type_, "issuer_id": settings.issuer_id, "establishment": settings.establishment,
            "emission_point": settings.emission_point, "currency": "USD"}


def invoice(order: StoreOrder, settings: StoreSettings) -> dict[str, Any]:
    return {**_head(settings, order.currency, "invoice"), "customer": _customer(order, settings),
            "items": _items(order.lines), "additional_info": {"Pedido": order.number or order.id}}


def credit_note(refund: StoreRefund, invoice: InvoiceRef, settings: StoreSettings) -> dict[str, Any]:
    customer = dict(invoice.customer)
    if customer.get("id_type") == "final_consumer":
        raise NotInvoiceable("credit_note_customer_required", _l("The order was invoiced to the consumidor final; "
                                                                 "SRI takes no credit note to the consumidor "
                                                                 "final."), "customer")
    return {**_head(settings, "USD", "credit_note"), "customer": customer, "items": _items(refund.lines),
            "reference": {"type": "invoice", "number": invoice.number, "issue_date": invoice.issue_date.isoformat(),
                          "reason": refund.reason[:300]},
            "additional_info": {"Devolución": refund.id}}
