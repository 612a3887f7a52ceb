"""Store integrations (POST /v1/integrations): a Shopify or WooCommerce store connected to an issuer,
whose paid orders become invoices and whose refunds become credit notes (sello.stores)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sello.models.common import Model, RequestBody, text
from sello.models.issuers import Code

StoreKind = Literal["shopify", "woocommerce"]
OrderStatus = Literal["pending", "invoiced", "credited", "not_invoiceable"]
Domain = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=253,
                                          pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$")]
Secret = Annotated[str, StringConstraints(min_length=8, max_length=200)]
FieldName = text(100)
CodeValue = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9]{1,20}$")]
VatRate = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False, examples=["15"])]


class _Settings(RequestBody):
    issuer_id: text(64) | None = Field(default=None, description="The issuer the documents are issued by.",
                                       examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    establishment: Code | None = Field(default=None, description="Ecuador: the establishment to issue from.",
                                       examples=["001"])
    emission_point: Code | None = Field(default=None, description="Ecuador: the emission point to issue from.",
                                        examples=["001"])
    branch: text(20) | None = Field(default=None, description="Mexico: the branch whose series numbers the "
                                                              "documents.", examples=["MATRIZ"])
    tax_id_field: FieldName | None = Field(
        default=None, description="The Shopify note attribute (cart attribute) or WooCommerce order meta key "
                                  "that holds the buyer's tax id (RUC, cédula, RFC). Default `tax_id`.",
        examples=["ruc"])
    tax_regime_field: FieldName | None = Field(default=None, description="Mexico: the field with the buyer's "
                                                                         "régimen fiscal. Default `tax_regime`.")
    cfdi_use_field: FieldName | None = Field(default=None, description="Mexico: the field with the uso CFDI. "
                                                                       "Default `cfdi_use`.")
    allow_anonymous: bool | None = Field(
        default=None, description="Whether an order without a tax id is invoiced to the anonymous buyer "
                                  "(Ecuador consumidor final, Mexico público en general). Default true.")
    default_vat_rate: VatRate | None = Field(
        default=None, description="The VAT rate of a taxable line the store charged no tax on; none: 0 %.")
    codes: dict[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")], CodeValue] | None = Field(
        default=None, max_length=10,
        description="The country's own codes. Mexico: product_code, unit_code, shipping_product_code, "
                    "shipping_unit_code, payment_form, cfdi_use.",
        examples=[{"product_code": "53102500", "payment_form": "04"}])


class CreateIntegrationRequest(_Settings):
    kind: StoreKind = Field(examples=["shopify"])
    store_domain: Domain = Field(description="The store's domain, e.g. tienda.myshopify.com.",
                                 examples=["cafe-andino.myshopify.com"])
    webhook_secret: Secret = Field(
        description="The secret the store signs its webhooks with (Shopify: the app's client secret or the "
                    "store's webhook signing key; WooCommerce: the webhook's secret). Kept encrypted; never "
                    "shown again.", examples=["whsec_2c1f0b9e8d7a6c5b4a39281706f5e4d3"])
    issuer_id: text(64) = Field(description="The issuer the documents are issued by.",
                                examples=["iss_3k9v0c2m1x7q8w4e5r6t"])


class UpdateIntegrationRequest(_Settings):
    store_domain: Domain | None = None
    webhook_secret: Secret | None = Field(default=None, description="A new secret (after a rotation at the "
                                                                    "store).")


class IntegrationView(Model):
    id: str = Field(examples=["int_5k2m8x1c9v3b7n4q6w0e"])
    object: str = "integration"
    kind: StoreKind
    store_domain: str
    issuer_id: str
    establishment: str | None = None
    emission_point: str | None = None
    branch: str | None = None
    tax_id_field: str
    tax_regime_field: str
    cfdi_use_field: str
    allow_anonymous: bool
    default_vat_rate: Decimal | None = None
    codes: dict[str, str] = Field(default_factory=dict)
    inbound_path: str = Field(description="Where the store sends its webhooks (POST, no API key: the store's "
                                          "signature authenticates it).",
                              examples=["/v1/integrations/int_5k2m8x1c9v3b7n4q6w0e/inbound"])
    environment: str
    created_at: datetime
    updated_at: datetime


class IntegrationList(Model):
    data: list[IntegrationView]
    next_cursor: str | None = None


class OrderReason(Model):
    code: str = Field(examples=["customer_tax_id_missing"])
    message: str
    path: str = ""


class StoreOrderView(Model):
    id: str = Field(description="The store's order id.", examples=["5901234567890"])
    object: str = "store_order"
    status: OrderStatus
    reason: OrderReason | None = None
    document_ids: list[str] = Field(default_factory=list)
    updated_at: datetime


class StoreOrderList(Model):
    data: list[StoreOrderView]
    next_cursor: str | None = None
