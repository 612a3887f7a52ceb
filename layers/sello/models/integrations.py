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
                                                                         "régimen fiscal. Default `tax_regime`.",
                                              examples=["regimen_fiscal"])
    cfdi_use_field: FieldName | None = Field(default=None, description="Mexico: the field with the uso CFDI. "
                                                                       "Default `cfdi_use`.",
                                            examples=["uso_cfdi"])
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
    store_domain: Domain | None = Field(default=None, examples=["cafe-andino.myshopify.com"])
    webhook_secret: Secret | None = Field(default=None, description="A new secret (after a rotation at the "
                                                                    "store).",
                                          examples=["whsec_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"])


class IntegrationView(Model):
    id: str = Field(examples=["int_5k2m8x1c9v3b7n4q6w0e"])
    object: str = "integration"
    kind: StoreKind = Field(examples=["shopify"])
    store_domain: str = Field(examples=["cafe-andino.myshopify.com"])
    issuer_id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    establishment: str | None = Field(default=None, examples=["001"])
    emission_point: str | None = Field(default=None, examples=["001"])
    branch: str | None = Field(default=None, examples=[None])
    tax_id_field: str = Field(examples=["ruc"])
    tax_regime_field: str = Field(examples=["tax_regime"])
    cfdi_use_field: str = Field(examples=["cfdi_use"])
    allow_anonymous: bool = Field(examples=[True])
    default_vat_rate: Decimal | None = Field(default=None, examples=["15"])
    codes: dict[str, str] = Field(default_factory=dict, examples=[{}])
    inbound_path: str = Field(description="Where the store sends its webhooks (POST, no API key: the store's "
                                          "signature authenticates it).",
                              examples=["/v1/integrations/int_5k2m8x1c9v3b7n4q6w0e/inbound"])
    environment: str = Field(description="The API key's environment the documents are issued in.",
                             examples=["test"])
    created_at: datetime = Field(examples=["2025-06-30T15:04:05Z"])
    updated_at: datetime = Field(examples=["2025-06-30T15:04:05Z"])


class IntegrationList(Model):
    data: list[IntegrationView]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=[None])


class OrderReason(Model):
    code: str = Field(examples=["customer_tax_id_missing"])
    message: str = Field(examples=["The order has no buyer identification (field ruc) and the integration does "
                                   "not invoice to the consumidor final."])
    path: str = Field(default="", examples=["ruc"])


class StoreOrderView(Model):
    id: str = Field(description="The store's order id.", examples=["5901234567890"])
    object: str = "store_order"
    status: OrderStatus
    reason: OrderReason | None = None
    document_ids: list[str] = Field(default_factory=list, examples=[["doc_7m2k9x4v1c8b3n6q0w5e"]])
    updated_at: datetime = Field(examples=["2025-06-30T15:04:05Z"])


class StoreOrderList(Model):
    data: list[StoreOrderView]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page.",
                                    examples=[None])
