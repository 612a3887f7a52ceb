"""WooCommerce's order webhooks (`order.updated`, `order.created`) read as store orders and refunds.

WooCommerce's line amounts are before tax whatever the store's `prices_include_tax`: `subtotal` before
discounts, `total` after them (coupons, of the line or of the order, already spread over the lines), and
each line's `taxes` name a rate of the order's `tax_lines`. Shipping and fees are lines of their own.
An order is paid once its status is processing or completed with `date_paid` set. WooCommerce has no
refund topic: a refund arrives as an `order.updated` whose `refunds` lists it (id, reason, negative
total). Creating a webhook sends an unsigned ping (`webhook_id=<id>`) that must be answered 200."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sello.i18n import _l
from sello.stores import (
    CENTS,
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

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
PAID_STATUSES = frozenset({"processing", "completed", "refunded"})


def is_ping(body: bytes, headers: Mapping[str, str]) -> bool:
    """WooCommerce's ping when a webhook is created: `webhook_id=<n>`, form-encoded, no signature."""
    return SIGNATURE_HEADER not in headers and body.startswith(b"webhook_id=") and body[11:].strip().isdigit()


def _rates(order: Mapping[str, Any]) -> dict[str, Decimal]:
    """The order's tax rate ids -> percent (`rate_percent`, which WooCommerce's checkout sets)."""
    return {str(tax.get("rate_id")): decimal(tax.get("rate_percent"), f"tax_lines.{i}.rate_percent").normalize()
            for i, tax in enumerate(order.get("tax_lines") or [])}


def _rate(line: Mapping[str, Any], path: str, rates: Mapping[str, Decimal], settings: StoreSettings) -> Decimal:
    found = set()
    for i, tax in enumerate(line.get("taxes") or []):
        if not decimal(tax.get("total"), f"{path}.taxes.{i}.total"):
            continue
        rate = rates.get(str(tax.get("id")))
        if rate is None:
            raise NotInvoiceable("unknown_tax_rate", _l("A line is taxed with a rate the order's tax lines do not "
                                                        "describe."), f"{path}.taxes.{i}.id")
        found.add(rate)
    rate = only_rate(found, f"{path}.taxes")
    if rate is None:
        taxed = line.get("tax_status", "taxable") == "taxable"
        rate = settings.default_vat_rate if taxed and settings.default_vat_rate is not None else Decimal(0)
    return rate


def _line(item: Mapping[str, Any], path: str, rates: Mapping[str, Decimal], settings: StoreSettings,
          kind: str) -> StoreLine:
    quantity = decimal(item.get("quantity", 1), f"{path}.quantity")
    total = decimal(item.get("total"), f"{path}.total")
    subtotal = decimal(item.get("subtotal", item.get("total")), f"{path}.subtotal")
    if quantity <= 0 or total < 0:
        raise NotInvoiceable("negative_line", _l("A line has a negative amount or quantity; a document line "
                                                 "cannot."), path)
    title = item.get("name") or item.get("method_title") or ("Envío" if kind == "shipping" else "Producto")
    return StoreLine(description=str(title)[:300], quantity=quantity,
                     unit_price=(subtotal / quantity).quantize(UNIT_PLACES),
                     discount=max(subtotal - total, Decimal(0)).quantize(CENTS),
                     vat_rate=_rate(item, path, rates, settings), code=item.get("sku") or item.get("method_id") or None,
                     kind=kind, path=path)


def _buyer(order: Mapping[str, Any]) -> Buyer:
    billing = order.get("billing") or {}
    name = " ".join(filter(None, (billing.get("first_name"), billing.get("last_name")))).strip()
    address = ", ".join(filter(None, (billing.get("address_1"), billing.get("address_2"), billing.get("city"))))
    fields = {}
    for meta in order.get("meta_data") or []:
        key, value = str(meta.get("key", "")), meta.get("value")
        if key and isinstance(value, (str, int)):
            fields[key] = str(value).strip()
            fields.setdefault(key.lstrip("_"), str(value).strip())  # "_billing_ruc" also as "billing_ruc"
    return Buyer(name=name or billing.get("company") or "", email=billing.get("email") or "",
                 company=billing.get("company") or "", address=address, zip=billing.get("postcode") or "",
                 phone=billing.get("phone") or "", fields=fields)


def parse_order(order: Mapping[str, Any], settings: StoreSettings) -> StoreOrder:
    rates = _rates(order)
    lines = [_line(item, f"line_items.{i}", rates, settings, "product")
             for i, item in enumerate(order.get("line_items") or [])]
    lines += [_line(item, f"shipping_lines.{i}", rates, settings, "shipping")
              for i, item in enumerate(order.get("shipping_lines") or []) if decimal(item.get("total"), "")]
    lines += [_line(item, f"fee_lines.{i}", rates, settings, "fee")
              for i, item in enumerate(order.get("fee_lines") or [])]
    return StoreOrder(id=str(order.get("id", "")), number=str(order.get("number") or order.get("id") or ""),
                      currency=str(order.get("currency") or "").upper(),
                      paid=order.get("status") in PAID_STATUSES and bool(order.get("date_paid")),
                      total=decimal(order.get("total"), "total"), lines=tuple(lines), buyer=_buyer(order))


def parse_refunds(order: Mapping[str, Any], settings: StoreSettings) -> list[StoreRefund]:
    """The refunds an order lists. The order's webhook carries each refund's amount only (tax
    included), so a refund is credited as one line at the order's VAT rate; an order taxed at several
    rates gives a refund that cannot be split between them (`refund_without_lines`: credit it by
    hand)."""
    parsed = parse_order({**order, "status": "completed", "date_paid": "-"}, settings)
    rates = {line.vat_rate for line in parsed.lines}
    refunds = []
    for i, refund in enumerate(order.get("refunds") or []):
        path = f"refunds.{i}"
        amount = -decimal(refund.get("total"), f"{path}.total")
        lines: tuple[StoreLine, ...] = ()
        if amount > 0 and len(rates) == 1:
            rate = next(iter(rates))
            lines = (StoreLine(description=str(refund.get("reason") or "Devolución")[:300], quantity=Decimal(1),
                               unit_price=without_tax(amount, rate, UNIT_PLACES), discount=Decimal("0.00"),
                               vat_rate=rate, path=path),)
        refunds.append(StoreRefund(id=str(refund.get("id", "")), order_id=str(order.get("id", "")),
                                   reason=str(refund.get("reason") or "Devolución"), lines=lines))
    return refunds


def classify(topic: str, payload: Mapping[str, Any]) -> tuple[str, str] | None:
    """("order", the order's id) of an order delivery (its refunds come with it); None otherwise."""
    if topic in ORDER_TOPICS and payload.get("id") and payload.get("line_items") is not None:
        return "order", str(payload["id"])
    return None
