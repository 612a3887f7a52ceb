"""Mexico's CFDI for store orders (sello.stores): the MX document request from the integration's
branch, paid in full (PUE) with the integration's payment form, each line with SAT's product and unit
keys (the integration's defaults; shipping its own) and IVA by its rate. A buyer without an RFC is
the general public (XAXX010101000, régimen 616, uso S01) when the integration allows it; a buyer
with one needs the régimen fiscal (and the uso CFDI, or the integration's default) from the checkout.
A refund becomes a CFDI de egreso related (01) to the order's invoice by its Sello id."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sello.i18n import _l
from sello.stores import InvoiceRef, NotInvoiceable, StoreLine, StoreOrder, StoreRefund, StoreSettings, money

GENERAL_PUBLIC = "XAXX010101000"
VAT_RATES = frozenset({Decimal(16), Decimal(8), Decimal(0)})
DEFAULT_CODES = {"product_code": "01010101", "unit_code": "H87", "shipping_product_code": "78102203",
                 "shipping_unit_code": "E48", "payment_form": "04", "cfdi_use": "G03"}


def _code(settings: StoreSettings, name: str) -> str:
    return str(settings.codes.get(name) or DEFAULT_CODES[name])


def _items(lines: tuple[StoreLine, ...], settings: StoreSettings) -> list[dict[str, Any]]:
    items = []
    for line in lines:
        if line.vat_rate not in VAT_RATES:
            raise NotInvoiceable("unsupported_tax_rate", _l("A line is taxed at {rate} %, an IVA rate Mexico does not "
                                                            "have ({rates}).", rate=money(line.vat_rate),
                                                            rates="16, 8, 0"), line.path)
        prefix = "shipping_" if line.kind == "shipping" else ""
        item = {"product_code": _code(settings, prefix + "product_code"),
                "unit_code": _code(settings, prefix + "unit_code"), "description": line.description,
                "quantity": money(line.quantity), "unit_price": money(line.unit_price),
                "discount": money(line.discount), "taxes": [{"type": "vat", "rate": money(line.vat_rate)}]}
        if line.code:
            item["code"] = str(line.code)[:100]
        items.append(item)
    return items


def _customer(order: StoreOrder, settings: StoreSettings) -> dict[str, Any]:
    buyer = order.buyer
    rfc = "".join(buyer.fields.get(settings.tax_id_field, "").split()).upper()
    email = {"email": buyer.email} if buyer.email else {}
    if rfc and rfc != GENERAL_PUBLIC:
        regime = buyer.fields.get(settings.tax_regime_field, "").strip()
        if not regime:
            raise NotInvoiceable("customer_tax_regime_missing", _l("The order has the buyer's RFC but not its régimen "
                                                                   "fiscal (field {field}), which a CFDI to an RFC "
                                                                   "needs.", field=settings.tax_regime_field),
                                 settings.tax_regime_field)
        if not buyer.zip:
            raise NotInvoiceable("customer_zip_missing", _l("The order has the buyer's RFC but no billing zip code "
                                                            "(its domicilio fiscal)."), "billing_address.zip")
        name = (buyer.company or buyer.name).upper()
        return {"tax_id": rfc, "name": name[:300], "tax_regime": regime, "zip": buyer.zip,
                "cfdi_use": buyer.fields.get(settings.cfdi_use_field) or _code(settings, "cfdi_use"), **email}
    if not settings.allow_anonymous:
        raise NotInvoiceable("customer_tax_id_missing", _l("The order has no buyer RFC (field {field}) and the "
                                                           "integration does not invoice to the público en general.",
                                                           field=settings.tax_id_field), settings.tax_id_field)
    return {"tax_id": GENERAL_PUBLIC, "name": (buyer.name or "PUBLICO EN GENERAL").upper()[:300], **email}


def _head(settings: StoreSettings, currency: str, type_: str) -> dict[str, Any]:
    if currency != "MXN":
        raise NotInvoiceable("unsupported_currency", _l("The order is in {currency}; store orders are invoiced in "
                                                        "MXN.", currency=currency), "currency")
    head = {"type": type_, "issuer_id": settings.issuer_id, "currency": "MXN",
            "payment_form": _code(settings, "payment_form"), "payment_method": "PUE"}
    return head | ({"branch": settings.branch} if settings.branch else {})


def invoice(order: StoreOrder, settings: StoreSettings) -> dict[str, Any]:
    return {**_head(settings, order.currency, "invoice"), "customer": _customer(order, settings),
            "items": _items(order.lines, settings), "additional_info": {"Pedido": order.number or order.id}}


def credit_note(refund: StoreRefund, invoice: InvoiceRef, settings: StoreSettings) -> dict[str, Any]:
    customer = dict(invoice.customer)
    if customer.get("tax_id") != GENERAL_PUBLIC:
        customer["cfdi_use"] = "G02"  # devoluciones, descuentos o bonificaciones
    return {**_head(settings, "MXN", "credit_note"), "customer": customer, "related": [invoice.document_id],
            "items": _items(refund.lines, settings), "additional_info": {"Devolución": refund.id}}
