"""Shopify's order webhooks (`orders/paid`, `refunds/create`) read as store orders and refunds.

Shopify sends amounts as decimal strings in the shop's currency; a line's `price` is per unit, with
the shop's taxes included when the order's `taxes_included` is true. Discounts reach each line as
`discount_allocations` (the line's own and its share of an order-level discount), and shipping is a
`shipping_lines` entry with its own taxes and discounts. The buyer's tax id comes from the note
attributes the checkout collected (cart attributes)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from sello.i18n import _l
from sello.stores import (
    CENTS,
    HUNDRED,
    UNIT_PLACES,
    Buyer,
    NotInvoiceable,
    StoreLine,
    StoreOrder,
    StoreRefund,
    StoreSettings,
    decimal,
    only_rate,
    without_tax,
)

SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
PAID_TOPICS = frozenset({"orders/paid"})
REFUND_TOPICS = frozenset({"refunds/create"})
PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


def _rate(line: Mapping[str, Any], path: str, settings: StoreSettings) -> Decimal:
    """The line's VAT rate in percent: its tax lines' (Shopify's rate is a fraction, 0.15), a tax line
    at 0 % included; a line without tax lines is at the integration's default rate when taxable."""
    rates = {(decimal(tax.get("rate"), f"{path}.tax_lines.{i}.rate") * HUNDRED).normalize()
             for i, tax in enumerate(line.get("tax_lines") or [])}
    if len(rates) > 1:
        rates.discard(Decimal(0))
    rate = only_rate(rates, f"{path}.tax_lines")
    if rate is None:
        taxable = line.get("taxable", True)
        rate = settings.default_vat_rate if taxable and settings.default_vat_rate is not None else Decimal(0)
    return rate


def _discount(line: Mapping[str, Any], path: str) -> Decimal:
    allocations = line.get("discount_allocations")
    if allocations is None:
        return decimal(line.get("total_discount"), f"{path}.total_discount")
    return sum((decimal(a.get("amount"), f"{path}.discount_allocations.{i}.amount")
                for i, a in enumerate(allocations)), Decimal(0))


def _line(item: Mapping[str, Any], path: str, settings: StoreSettings, taxes_included: bool, *,
          quantity: Decimal | None = None, kind: str = "product") -> StoreLine:
    """A line item (or a shipping line, quantity 1 and `price` its total) as a document line; with
    `quantity`, the part of it a refund returns (its discount in proportion)."""
    rate = _rate(item, path, settings)
    ordered = decimal(item.get("quantity", 1), f"{path}.quantity")
    price = decimal(item.get("price"), f"{path}.price")
    discount = _discount(item, path)
    if quantity is not None and ordered:
        discount = discount * quantity / ordered
    count = quantity if quantity is not None else ordered
    if taxes_included:
        # What the buyer paid for the line, taken out of tax to the cent, is the line's amount before
        # tax; the discount is what brings quantity × unit price to it. Taking the tax out of the price
        # and of the discount apart, each rounded, could leave the line (and the document's total) a
        # cent off what the store charged.
        net = without_tax(count * price - discount, rate, CENTS)
        price = without_tax(price, rate, UNIT_PLACES)
        if discount:
            discount = max((count * price - net).quantize(CENTS, ROUND_HALF_UP), Decimal(0))
    # A discount taken out of a price with tax may round above the line's amount: a document line's
    # discount is at most its amount.
    discount = min(discount.quantize(CENTS), (count * price).quantize(CENTS, ROUND_DOWN))
    title = item.get("name") or item.get("title") or ("Envío" if kind == "shipping" else "Producto")
    return StoreLine(description=str(title)[:300], quantity=count,
                     unit_price=price.quantize(UNIT_PLACES), discount=discount,
                     vat_rate=rate, code=(item.get("sku") or item.get("code") or None), kind=kind, path=path)


def _shipping(order: Mapping[str, Any], settings: StoreSettings, taxes_included: bool) -> list[StoreLine]:
    lines = []
    for i, shipping in enumerate(order.get("shipping_lines") or []):
        path = f"shipping_lines.{i}"
        if decimal(shipping.get("price"), f"{path}.price"):
            lines.append(_line({**shipping, "quantity": 1, "sku": shipping.get("code")}, path, settings,
                               taxes_included, kind="shipping"))
    return lines


def _buyer(order: Mapping[str, Any]) -> Buyer:
    billing = order.get("billing_address") or {}
    customer = order.get("customer") or {}
    name = (billing.get("name") or " ".join(filter(None, (customer.get("first_name"), customer.get("last_name"))))
            or "").strip()
    address = ", ".join(filter(None, (billing.get("address1"), billing.get("address2"), billing.get("city"))))
    fields = {str(a.get("name", "")).strip(): str(a.get("value", "")).strip()
              for a in order.get("note_attributes") or [] if a.get("name")}
    return Buyer(name=name, email=order.get("email") or customer.get("email") or "",
                 company=billing.get("company") or "", address=address, zip=billing.get("zip") or "",
                 phone=billing.get("phone") or order.get("phone") or "", fields=fields)


def parse_order(order: Mapping[str, Any], settings: StoreSettings) -> StoreOrder:
    """An `orders/paid` (or any order topic's) body as a store order."""
    taxes_included = bool(order.get("taxes_included"))
    lines = [_line(item, f"line_items.{i}", settings, taxes_included)
             for i, item in enumerate(order.get("line_items") or []) if not item.get("gift_card")]
    return StoreOrder(id=str(order.get("id", "")), number=str(order.get("name") or order.get("order_number") or ""),
                      currency=str(order.get("currency") or "").upper(),
                      paid=order.get("financial_status") in PAID_STATUSES,
                      total=decimal(order.get("total_price"), "total_price"),
                      lines=tuple(lines + _shipping(order, settings, taxes_included)), buyer=_buyer(order))


def parse_refund(refund: Mapping[str, Any], settings: StoreSettings, *, taxes_included: bool) -> StoreRefund:
    """A `refunds/create` body as a store refund: the lines returned (each its line item's unit price
    and its share of the discount), and shipping refunded (an order adjustment of kind
    `shipping_refund`, before tax, with its tax). `taxes_included` is the order's: the refund does
    not repeat it."""
    lines = []
    for i, returned in enumerate(refund.get("refund_line_items") or []):
        path = f"refund_line_items.{i}"
        quantity = decimal(returned.get("quantity"), f"{path}.quantity")
        if quantity > 0:
            lines.append(_line(returned.get("line_item") or {}, f"{path}.line_item", settings, taxes_included,
                               quantity=quantity))
    for i, adjustment in enumerate(refund.get("order_adjustments") or []):
        path = f"order_adjustments.{i}"
        if adjustment.get("kind") != "shipping_refund":
            continue
        amount = -decimal(adjustment.get("amount"), f"{path}.amount")
        tax = -decimal(adjustment.get("tax_amount"), f"{path}.tax_amount")
        if amount <= 0:
            continue
        rate = (tax * HUNDRED / amount).quantize(Decimal(1)) if tax else Decimal(0)
        lines.append(StoreLine(description="Envío", quantity=Decimal(1), unit_price=amount.quantize(UNIT_PLACES),
                               discount=Decimal("0.00"), vat_rate=rate, kind="shipping", path=path))
    if not refund.get("order_id"):
        raise NotInvoiceable("invalid_refund", _l("The refund does not say which order it refunds."), "order_id")
    return StoreRefund(id=str(refund.get("id", "")), order_id=str(refund["order_id"]),
                       reason=str(refund.get("note") or "Devolución"), lines=tuple(lines))


def classify(topic: str, payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """("order" | "refund", the order's id) of a delivery Sello acts on; None for any other topic."""
    if topic in PAID_TOPICS and payload.get("id"):
        return "order", str(payload["id"])
    if topic in REFUND_TOPICS and payload.get("order_id"):
        return "refund", str(payload["order_id"])
    return None
