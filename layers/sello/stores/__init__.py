"""Orders from online stores (Shopify, WooCommerce) as documents to issue.

Three steps, each a pure function so that it can be tested on the stores' own payloads:

1. `verify_signature`: the store signs the raw body of each delivery with the webhook secret
   (base64 HMAC-SHA256, both stores); nothing is read from a body whose signature does not match.
2. The store's module (`shopify`, `woocommerce`) reads its payload into a `StoreOrder` or
   `StoreRefund`: lines with their amounts before tax (a store that prices with taxes included has
   them taken out here), discounts (of the line and the line's share of the order's), shipping and
   fees as lines, the buyer and the fields the checkout collected.
3. The country's mapping (the plugin's `store_mapping`, e.g. sello.countries.ec.stores) turns them
   into the body of `POST /v1/documents` for the integration's issuer, which `document_request`
   validates with the plugin's `document_request_model`.

An order that cannot become a document raises `NotInvoiceable` with a stable reason code, which
the integration records with the order (and shows, in the reader's language, until it is retried)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from sello.i18n import Message, _l

UNIT_PLACES = Decimal("0.000001")  # unit prices: 6 decimals, as both countries' models take them
CENTS = Decimal("0.01")
HUNDRED = Decimal(100)


class NotInvoiceable(Exception):
    """An order (or refund) that cannot become a document as it is: `code` is stable (the reason the
    orders list shows), `path` the place in the store's payload (or the integration's settings) to
    fix, `message` says what to do, in the reader's language when rendered."""

    def __init__(self, code: str, message: Message, path: str = ""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.path = path

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self.message), "path": self.path}


def signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): how Shopify (X-Shopify-Hmac-Sha256) and WooCommerce
    (X-WC-Webhook-Signature) sign a delivery, the secret used as its UTF-8 bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_signature(secrets: Sequence[str], body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of the raw `body` with one of `secrets` (several during a
    rotation), compared in constant time. The body is never parsed before this answers True."""
    if not header:
        return False
    given = header.strip().encode()
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(signature(secret, body).encode(), given)
    return matched


def decimal(value: Any, path: str) -> Decimal:
    """A store's amount (a decimal string, or a number in some WooCommerce fields) as a Decimal."""
    try:
        number = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise NotInvoiceable("invalid_amount", _l("The store sent {value} where an amount goes.",
                                                  value=repr(value)), path)
    return number


def without_tax(amount: Decimal, rate: Decimal, places: Decimal) -> Decimal:
    """An amount priced with `rate` percent of tax included, before that tax, rounded half up to
    `places`: what the line's tax is then computed on gives back the store's amount within rounding."""
    return (amount * HUNDRED / (HUNDRED + rate)).quantize(places, ROUND_HALF_UP)


@dataclass(frozen=True)
class StoreLine:
    """A line as a document carries it: quantity × unit price − discount, all before tax, and the
    one VAT rate (percent) of the line. `kind` tells products from shipping and fees, which a
    country may code differently (Mexico: the product and unit keys)."""

    description: str
    quantity: Decimal
    unit_price: Decimal  # before tax, 6 decimals
    discount: Decimal  # on the whole line, before tax, 2 decimals
    vat_rate: Decimal  # percent: 15, 16, 0 …
    code: str | None = None
    kind: str = "product"  # product | shipping | fee
    path: str = ""  # where the line is in the store's payload

    @property
    def subtotal(self) -> Decimal:
        return (self.quantity * self.unit_price - self.discount).quantize(CENTS, ROUND_HALF_UP)

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.vat_rate / HUNDRED).quantize(CENTS, ROUND_HALF_UP)


@dataclass(frozen=True)
class Buyer:
    name: str = ""
    email: str = ""
    company: str = ""
    address: str = ""
    zip: str = ""
    phone: str = ""
    # What the checkout collected besides the address: Shopify's note attributes, WooCommerce's order
    # meta (key -> value as text); the integration's settings name the ones holding the tax id.
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreOrder:
    id: str  # the store's order id: with the integration, the idempotency key of its invoice
    number: str  # as the store shows it to the buyer, e.g. "#1001"
    currency: str
    paid: bool
    total: Decimal  # the store's total, tax included
    lines: tuple[StoreLine, ...]
    buyer: Buyer


@dataclass(frozen=True)
class StoreRefund:
    id: str
    order_id: str
    reason: str
    lines: tuple[StoreLine, ...]


@dataclass(frozen=True)
class InvoiceRef:
    """The invoice an order became, as a credit note references it: Sello's id (Mexico relates it by
    that id), the authority's number and date (Ecuador's reference), and its customer as issued."""

    document_id: str
    number: str
    issue_date: date
    customer: Mapping[str, Any]


@dataclass(frozen=True)
class StoreSettings:
    """What an integration says about the documents its orders become."""

    issuer_id: str
    establishment: str | None = None  # neutral shapes (Ecuador)
    emission_point: str | None = None
    branch: str | None = None  # Mexico: the branch whose series numbers the documents
    # Where the buyer's data is found in an order: Shopify note attribute / WooCommerce meta key names.
    tax_id_field: str = "tax_id"
    tax_regime_field: str = "tax_regime"
    cfdi_use_field: str = "cfdi_use"
    # Whether an order without a tax id is invoiced to the anonymous buyer (Ecuador consumidor final,
    # Mexico público en general) rather than recorded as not invoiceable.
    allow_anonymous: bool = True
    # VAT rate (percent) of a taxable line the store charged no tax on; None: such a line is at 0 %.
    default_vat_rate: Decimal | None = None
    # The country's own codes (Mexico: product_code, unit_code, shipping_product_code,
    # shipping_unit_code, payment_form, cfdi_use); each country's mapping has defaults.
    codes: Mapping[str, str] = field(default_factory=dict)


def money(value: Decimal) -> str:
    """A Decimal as the JSON-ready decimal string request bodies take, with its own places."""
    return format(value, "f")


def only_rate(rates: set[Decimal], path: str) -> Decimal | None:
    """The one VAT rate of a line, None when it has none; a line taxed at several rates at once (a
    store that adds state and county taxes) has no counterpart in one VAT."""
    if len(rates) > 1:
        raise NotInvoiceable("unsupported_tax", _l("A line carries several taxes at once ({rates}); a document "
                                                   "line has one VAT rate. Set the store's taxes to one rate "
                                                   "per line.", rates=", ".join(sorted(money(r) for r in rates))),
                             path)
    return next(iter(rates), None)


def document_request(plugin: Any, body: dict[str, Any]) -> dict[str, Any]:
    """`body` checked with the plugin's `document_request_model`, as the API would check it; a body
    the model refuses is not invoiceable (`invalid_document`, with the first problem's path), never
    sent to fail there."""
    try:
        plugin.document_request_model.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(part) for part in error["loc"])
        raise NotInvoiceable("invalid_document", _l("The document built from the order is not valid at {path}: "
                                                    "{problem}.", path=path, problem=error["msg"]), path) from None
    return body


def mapping(plugin: Any) -> Any:
    """The plugin's mapping of store orders (its `store_mapping`), or NotInvoiceable for a country
    that has none."""
    module = plugin.store_mapping
    if module is None:
        raise NotInvoiceable("store_country_not_supported",
                             _l("Orders from stores are not issued for issuers of {country} yet.",
                                country=plugin.name), "issuer_id")
    return module


def invoice_request(plugin: Any, order: StoreOrder, settings: StoreSettings) -> dict[str, Any]:
    """The body of `POST /v1/documents` for a paid order; NotInvoiceable when it cannot be one."""
    if not order.paid:
        raise NotInvoiceable("order_not_paid", _l("The order is not paid yet; it is invoiced once it is."),
                             "financial_status")
    if not order.lines:
        raise NotInvoiceable("empty_order", _l("The order has no lines to invoice."), "line_items")
    return document_request(plugin, mapping(plugin).invoice(order, settings))


def credit_note_request(plugin: Any, refund: StoreRefund, invoice: InvoiceRef,
                        settings: StoreSettings) -> dict[str, Any]:
    """The body of `POST /v1/documents` for a refund of an invoiced order: a credit note of what was
    refunded, referencing the order's invoice."""
    if not refund.lines:
        raise NotInvoiceable("refund_without_lines", _l("The refund names no lines, shipping or amount to credit."),
                             "refund_line_items")
    return document_request(plugin, mapping(plugin).credit_note(refund, invoice, settings))
