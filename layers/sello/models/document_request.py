"""The body of `POST /v1/documents` for the countries that use the neutral shapes (Ecuador; see
sello.countries.NeutralCountry): one country-neutral document model, and a variant of it per
document type, which the OpenAPI document shows as a union discriminated by `type`
(models.country_bodies).

The model checks shape (types, lengths, formats, limits); the authority's rules (check digits, tax
codes and rates, arithmetic, which fields each type needs) are checked by the country plugin's
`prepare`. Both answer a bad field with 422, a stable code and the field's dotted path.

The variants (InvoiceRequest, CreditNoteRequest, …) narrow `type` to their own and change nothing
else in validation; what sets them apart is their schema: the parts the type needs marked required,
the parts of other types left out, and an example of the type. The API validates a body once, as
the neutral model (the plugin's `document_request_model`): any body a variant takes, the neutral
model takes the same way, and what only the neutral model takes (a part of another type, a needed
part missing) the plugin refuses with its own codes (`field_not_allowed`, `reference_required`,
`missing_field`, …), as it always has. Error paths are the fields' own (`items.0.unit_price`; a
discriminated union would put the variant's tag in front), and the variants (the plugin's
`document_request_variants`) are never compiled into validators at run time, which keeps the
documents function's cold start as it was."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from sello.i18n import TranslatedValueError, _l
from sello.models.common import EmailStr, RequestBody, text
from sello.models.document_parts import (
    PAYMENT_METHODS,
    DocumentNumber,
    Money,
    PaymentMethod,
    Quantity,
    Shipment,
    WithholdingInfo,
)
from sello.models.documents import DocumentType
from sello.models.issuers import Code


# The most lines a document can have: an invoice or credit note of this many short lines (a short code
# and description, one VAT rate: about 410 bytes of XML each) still fits under SRI's 320 KB; longer
# lines fit fewer (the country plugin refuses a document too large before numbering it).
MAX_ITEMS = 700
MAX_TAXES_PER_ITEM = 3
MAX_PAYMENTS = 20
MAX_ADDITIONAL_INFO = 15
MAX_ITEM_DETAILS = 3

# Quantities and unit prices: up to 6 decimals; prices may be 0 (a free line), never negative.
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6, allow_inf_nan=False,
                                     examples=["12.50"])]


def _four_digits(value: Decimal) -> Decimal:
    if len(value.normalize().as_tuple().digits) > 4:
        raise TranslatedValueError(_l("A tax rate has at most 4 digits in all, e.g. 15, 12.5, 150 or 0.02."))
    return value


# Tax rates: at most 4 digits, 2 of them decimals (SRI tarifa).
TaxRate = Annotated[Decimal, Field(ge=0, le=9999, decimal_places=2, allow_inf_nan=False, examples=["15"]),
                    AfterValidator(_four_digits)]
TaxCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,4}$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
InfoName = text(300)
InfoValue = text(300)

_AMOUNTS = ("Amounts are decimals: JSON numbers and decimal strings are both accepted; NaN and Infinity "
            "are not.")


class Party(RequestBody):
    """Who the document is for: the buyer of an invoice or note, the supplier the issuer buys from in
    a purchase settlement, the withheld supplier of a withholding, the main recipient of a delivery
    guide."""

    id_type: Literal["tax_id", "national_id", "passport", "final_consumer", "foreign_id"] = Field(
        description="tax_id = RUC (13 digits), national_id = cédula (10 digits), passport, final_consumer "
                    "(anonymous sale; Ecuador: invoices up to USD 50 only), foreign_id = identification "
                    "issued abroad.", examples=["tax_id"])
    tax_id: text(20) | None = Field(
        default=None, description="The identification number; RUC and cédula are checked for their check "
                                  "digit. May be omitted for final_consumer (Ecuador: 9999999999999).",
        examples=["1790016919001"])
    name: text(300) | None = Field(
        default=None, description="Legal name or full name; required unless id_type is final_consumer "
                                  "(then CONSUMIDOR FINAL).", examples=["Importadora Andina Cía. Ltda."])
    email: EmailStr | None = Field(default=None, description="Where the authorized document is emailed.",
                                   examples=["compras@example.com"])
    address: text(300) | None = Field(default=None, examples=["Av. 10 de Agosto N21-45, Quito"])
    phone: text(30) | None = Field(default=None, examples=["+593 2 255 0000"])


class ItemTax(RequestBody):
    """A tax on one line. VAT is named by its rate or its authority code; other taxes by code."""

    type: Literal["vat", "ice", "irbpnr"] = Field(
        description="vat = IVA; ice = impuesto a los consumos especiales; irbpnr = impuesto redimible a las "
                    "botellas plásticas no retornables.", examples=["vat"])
    rate: TaxRate | None = Field(
        default=None,
        description="Percent, at most 4 digits. For VAT enough on its own when one code has that rate "
                    "(Ecuador: 15, 0, 5, 12, 14, 13, 8). For ICE the ad-valorem percent (required). For "
                    "IRBPNR the amount per unit in the document's currency (Ecuador: 0.02, the default).",
        examples=["15"])
    code: TaxCode | None = Field(
        default=None,
        description="The authority's code for the rate (Ecuador codigoPorcentaje). Required for VAT not "
                    "subject (6) and VAT exempt (7), for ICE (4-digit code) and for IRBPNR (5001).",
        examples=["4"])


class Item(RequestBody):
    """A line: of an invoice or credit note a product or service; of a debit note a charge, of which
    only the description and the amount (quantity × unit price − discount) are printed."""

    code: text(25) | None = Field(default=None, description="Your product code, up to 25 characters.",
                                  examples=["SKU-1001"])
    aux_code: text(25) | None = Field(default=None, description="A secondary code, up to 25 characters.",
                                      examples=["7861234500011"])
    description: text(300) = Field(description="Up to 300 characters.",
                                   examples=["Café de altura tostado 500 g"])
    unit: text(50) | None = Field(default=None, description="Unit of measure, up to 50 characters; printed "
                                                            "on invoices only.", examples=["unidad"])
    quantity: Quantity = Field(default=Decimal(1), description="More than 0, up to 6 decimals; default 1.")
    unit_price: UnitPrice = Field(description="Before taxes, up to 6 decimals. " + _AMOUNTS)
    discount: Money = Field(default=Decimal(0), description="Discount on the whole line (not per unit), up "
                                                            "to 2 decimals.", examples=["0.00"])
    details: dict[InfoName, InfoValue] | None = Field(
        default=None, max_length=MAX_ITEM_DETAILS,
        description=f"Up to {MAX_ITEM_DETAILS} name → value pairs printed with the line.",
        examples=[{"Lote": "L-2291"}])
    taxes: list[ItemTax] = Field(
        min_length=1, max_length=MAX_TAXES_PER_ITEM,
        description="Exactly one VAT entry, plus ICE and IRBPNR where they apply.",
        examples=[[{"type": "vat", "rate": "15"}]])


class Payment(RequestBody):
    method: PaymentMethod = Field(
        description=f"One of {', '.join(PAYMENT_METHODS)}; or the authority's own 2-digit code (Ecuador "
                    f"formaPago 01–21).", examples=["credit_card"])
    amount: Money = Field(description="Up to 2 decimals. " + _AMOUNTS)
    term: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)] | None = \
        Field(default=None, description="Credit term, in term_unit.", examples=["30"])
    term_unit: Literal["days", "months", "years"] | None = Field(
        default=None, description="Unit of term; days when a term is given without it.", examples=["days"])


class DocumentReference(RequestBody):
    """The document a credit or debit note modifies."""

    type: text(20) = Field(default="invoice", description="Neutral type of the modified document, usually "
                                                          "invoice; or the authority's 2-digit code.",
                           examples=["invoice"])
    number: DocumentNumber = Field(description="Its number: establishment-emission point-sequence.",
                                   examples=["001-001-000000123"])
    issue_date: date = Field(description="Its issue date; not after this document's.",
                             examples=["2025-06-02"])
    reason: text(300) | None = Field(default=None, description="Why it is modified; required for a credit "
                                                               "note.",
                                     examples=["Devolución de mercadería"])


# Examples of each type, as the OpenAPI document shows them (each one a valid document for the issuer
# of events/issuers/create_issuer.body.json on 2025-06-30).
_BUYER = {"id_type": "tax_id", "tax_id": "1790016919001", "name": "Importadora Andina Cía. Ltda.",
          "email": "compras@example.com"}
_HEAD = {"issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t", "establishment": "001", "emission_point": "001"}
_SOLD_INVOICE = {"type": "invoice", "number": "001-001-000000123", "issue_date": "2025-06-02"}
INVOICE_EXAMPLE = {
    "type": "invoice",
    **_HEAD,
    "customer": _BUYER,
    "items": [
        {"code": "CAF-500", "description": "Café tostado 500 g", "quantity": 2, "unit_price": "6.75",
         "taxes": [{"type": "vat", "rate": "15"}]},
        {"code": "LIB-042", "description": "Libro de cocina", "quantity": 1, "unit_price": "18.00",
         "taxes": [{"type": "vat", "code": "7"}]},
    ],
    "payments": [{"method": "credit_card", "amount": "33.53"}],
    "additional_info": {"Pedido": "PO-8812"},
}
CREDIT_NOTE_EXAMPLE = {
    "type": "credit_note",
    **_HEAD,
    "customer": _BUYER,
    "reference": {**_SOLD_INVOICE, "reason": "Devolución de mercadería en mal estado"},
    "items": [{"code": "CAF-500", "description": "Café tostado 500 g", "quantity": 1, "unit_price": "6.75",
               "taxes": [{"type": "vat", "rate": "15"}]}],
    "additional_info": {"Pedido": "PO-8812"},
}
DEBIT_NOTE_EXAMPLE = {
    "type": "debit_note",
    **_HEAD,
    "customer": _BUYER,
    "reference": {**_SOLD_INVOICE, "reason": "Pago fuera de plazo"},
    "items": [{"description": "Intereses por mora, 30 días", "unit_price": "2.40",
               "taxes": [{"type": "vat", "rate": "15"}]}],
    "payments": [{"method": "other_financial", "amount": "2.76"}],
}
DELIVERY_GUIDE_EXAMPLE = {
    "type": "delivery_guide",
    **_HEAD,
    "customer": _BUYER,
    "shipment": {
        "carrier": {"id_type": "national_id", "tax_id": "1710034065", "name": "Luis Alfredo Chiriboga Torres"},
        "plate": "PBA-4521",
        "origin_address": "Av. Amazonas N34-451 y Av. Atahualpa, Quito",
        "start_date": "2025-06-30",
        "end_date": "2025-07-01",
        "destinations": [{
            "recipient": {key: _BUYER[key] for key in ("id_type", "tax_id", "name")},
            "address": "Panamericana Norte km 7 1/2, bodega 3, Quito",
            "reason": "Venta de mercadería",
            "route": "Quito centro - Carcelén",
            "reference": {**_SOLD_INVOICE, "issue_date": "2025-06-30"},
            "items": [{"code": "CAF-500", "description": "Café tostado 500 g", "quantity": 120}],
        }],
    },
    "additional_info": {"Chofer": "Luis Chiriboga"},
}
WITHHOLDING_EXAMPLE = {
    "type": "withholding",
    **_HEAD,
    "customer": _BUYER,
    "withholding": {
        "fiscal_period": "06/2025",
        "support_documents": [{
            "type": "01",
            "support_code": "01",
            "number": "002-001-000004512",
            "issue_date": "2025-06-27",
            "authorization": "2706202501179001691900120020010000045127712045512",
            "subtotal": "1200.00",
            "total": "1380.00",
            "taxes": [{"type": "vat", "rate": "15", "base": "1200.00"}],
            "withholdings": [{"tax": "income", "code": "312", "base": "1200.00", "rate": "1.75"},
                             {"tax": "vat", "code": "1", "base": "180.00", "rate": "30"}],
            "payments": [{"method": "other_financial", "amount": "1380.00"}],
        }],
    },
}
PURCHASE_SETTLEMENT_EXAMPLE = {
    "type": "purchase_settlement",
    **_HEAD,
    "customer": {"id_type": "national_id", "tax_id": "1710034065", "name": "Rosa Elena Chicaiza Toapanta",
                 "email": "rosa.chicaiza@example.com", "address": "Comunidad San Pablo, Nanegalito, Pichincha"},
    "items": [
        {"code": "CAF-VERDE", "description": "Café arábigo en grano verde", "unit": "quintal", "quantity": "3.5",
         "unit_price": "185.00", "taxes": [{"type": "vat", "rate": "0"}]},
        {"description": "Transporte desde la finca hasta Quito", "unit_price": "40.00",
         "taxes": [{"type": "vat", "rate": "15"}]},
    ],
    "payments": [{"method": "other_financial", "amount": "693.50"}],
    "additional_info": {"Orden de compra": "OC-2291"},
}


class CreateDocumentRequest(RequestBody):
    """A document to issue. Which parts it needs depends on `type`:
    invoice — customer, items, payments (optional: one cash payment of the total when omitted);
    credit_note — customer, items, reference with reason;
    debit_note — customer, items (one per charge), reference; payments optional;
    delivery_guide — customer (main recipient), shipment;
    withholding — customer (the withheld supplier), withholding;
    purchase_settlement — customer (the supplier, identified: not final_consumer), items (VAT only),
    payments (optional, as for an invoice)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INVOICE_EXAMPLE]})

    type: DocumentType = Field(examples=["invoice"])
    issuer_id: text(64) = Field(description="The issuer (see /v1/issuers).",
                                examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    establishment: Code = Field(description="Establishment code of the issuer, three digits.",
                                examples=["001"])
    emission_point: Code = Field(description="Emission point code within the establishment, three digits.",
                                 examples=["001"])
    issue_date: date | None = Field(
        default=None, description="Default: today in the authority's time zone (Ecuador: America/Guayaquil). "
                                  "Not in the future, and at most 90 days back.", examples=["2025-06-30"])
    currency: Currency = Field(default="USD", description="ISO 4217 code; Ecuador: USD only.",
                               examples=["USD"])
    customer: Party
    items: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS,
                              description=f"1 to {MAX_ITEMS} lines for invoices, notes and purchase "
                                          f"settlements; none for other types. The whole document must also "
                                          f"stay within the authority's size limit (Ecuador: 320 KB as signed "
                                          f"XML, about {MAX_ITEMS} short lines), or it is refused with "
                                          f"`document_too_large`.")
    payments: list[Payment] = Field(
        default_factory=list, max_length=MAX_PAYMENTS,
        description="How the total is paid; when given, the amounts add up to the document's total. An "
                    "invoice or purchase settlement without payments is taken as paid in cash (SRI formaPago "
                    "01); a credit note has none.")
    additional_info: dict[InfoName, InfoValue] = Field(
        default_factory=dict, max_length=MAX_ADDITIONAL_INFO,
        description=f"Up to {MAX_ADDITIONAL_INFO} name → value pairs (values up to 300 characters) printed "
                    f"on the document. The customer's email is added as `Email` unless that name is taken or "
                    f"all {MAX_ADDITIONAL_INFO} are used.",
        examples=[{"Pedido": "PO-8812"}])
    reference: DocumentReference | None = Field(default=None, description="Required for credit and debit "
                                                                          "notes.")
    shipment: Shipment | None = Field(default=None, description="Required for a delivery guide.")
    withholding: WithholdingInfo | None = Field(default=None, description="Required for a withholding.")


# One variant per type ---------------------------------------------------------------------------------

# The parts that only some types carry: a variant's schema shows those its type needs or takes.
_PARTS = ("items", "payments", "reference", "shipment", "withholding")


def _variant(example: dict, *, needs: tuple[str, ...], takes: tuple[str, ...] = (),
             about: dict[str, str]) -> ConfigDict:
    """The config of a variant: its title ("Ecuador · <type>", the country that uses these variants),
    and a schema that requires `needs`, leaves out the parts neither in `needs` nor in `takes`,
    describes fields as `about` says, and shows `example`."""
    def schema(json_schema: dict[str, Any], _cls: type) -> None:
        properties = json_schema["properties"]
        for part in _PARTS:
            if part not in needs and part not in takes:
                del properties[part]
        for name, description in about.items():
            properties[name] = {**properties[name], "description": description}
        for part in needs:
            if properties[part].get("type") == "array":
                properties[part] = {**properties[part], "minItems": 1}
        json_schema["required"] = [*json_schema.get("required", []), *needs]
        json_schema["examples"] = [example]

    # Built only when a schema or a validation asks for it (the OpenAPI document, tests): the API
    # validates bodies with the neutral model.
    return ConfigDict(title=f"Ecuador · {example['type']}", json_schema_extra=schema, defer_build=True)


_BUYER_NOTE = "The buyer, identified (not final_consumer)."


class InvoiceRequest(CreateDocumentRequest):
    """A sale (Ecuador: factura, SRI codDoc 01). Its lines' taxes make the total; without payments,
    it is taken as paid in cash."""

    model_config = _variant(INVOICE_EXAMPLE, needs=("items",), takes=("payments",), about={
        "customer": "The buyer; final_consumer (anonymous) only up to USD 50 in Ecuador."})

    type: Literal["invoice"] = Field(examples=["invoice"])


class CreditNoteRequest(CreateDocumentRequest):
    """What is taken back from an invoice (Ecuador: nota de crédito, SRI codDoc 04): the lines
    returned or discounted, the invoice and the reason. It has no payments."""

    model_config = _variant(CREDIT_NOTE_EXAMPLE, needs=("items", "reference"), about={
        "customer": _BUYER_NOTE,
        "reference": "The invoice the note modifies, with the reason (required here)."})

    type: Literal["credit_note"] = Field(examples=["credit_note"])


class DebitNoteRequest(CreateDocumentRequest):
    """What is charged on top of an invoice (Ecuador: nota de débito, SRI codDoc 05): one item per
    charge (its description and amount), and the invoice."""

    model_config = _variant(DEBIT_NOTE_EXAMPLE, needs=("items", "reference"),
                            takes=("payments",), about={
                                "customer": _BUYER_NOTE,
                                "reference": "The invoice the charges add to.",
                                "items": "One per charge: its description and amount (quantity × unit price "
                                         "− discount)."})

    type: Literal["debit_note"] = Field(examples=["debit_note"])


class DeliveryGuideRequest(CreateDocumentRequest):
    """Goods on the move (Ecuador: guía de remisión, SRI codDoc 06): the carrier, the vehicle, the
    dates and what goes to each destination. It carries no amounts."""

    model_config = _variant(DELIVERY_GUIDE_EXAMPLE, needs=("shipment",), about={
        "customer": "The main recipient of the goods, identified (not final_consumer)."})

    type: Literal["delivery_guide"] = Field(examples=["delivery_guide"])


class WithholdingRequest(CreateDocumentRequest):
    """What the issuer withholds from a supplier's invoices (Ecuador: comprobante de retención
    2.0.0, SRI codDoc 07): the fiscal period and each supporting document with its withholdings."""

    model_config = _variant(WITHHOLDING_EXAMPLE, needs=("withholding",), about={
        "customer": "The supplier withheld from, identified (not final_consumer)."})

    type: Literal["withholding"] = Field(examples=["withholding"])


class PurchaseSettlementRequest(CreateDocumentRequest):
    """A purchase from a supplier who issues no invoice of their own (Ecuador: liquidación de compra
    de bienes y prestación de servicios, SRI codDoc 03): the issuer is the buyer. Lines and
    payments as an invoice's; VAT is the only tax."""

    model_config = _variant(PURCHASE_SETTLEMENT_EXAMPLE, needs=("items",),
                            takes=("payments",), about={
                                "customer": "The supplier the issuer buys from, identified: not "
                                            "final_consumer (SRI proveedor).",
                                "items": f"1 to {MAX_ITEMS} lines, VAT their only tax. The signed XML must "
                                         f"stay within SRI's 320 KB (`document_too_large`)."})

    type: Literal["purchase_settlement"] = Field(examples=["purchase_settlement"])


# Type -> its variant; every DocumentType has one.
VARIANTS: dict[str, type[CreateDocumentRequest]] = {
    "invoice": InvoiceRequest,
    "credit_note": CreditNoteRequest,
    "debit_note": DebitNoteRequest,
    "delivery_guide": DeliveryGuideRequest,
    "withholding": WithholdingRequest,
    "purchase_settlement": PurchaseSettlementRequest,
}

# A document of any type as the variant its `type` names: the union the OpenAPI document shows.
DocumentVariant = Annotated[
    InvoiceRequest | CreditNoteRequest | DebitNoteRequest | DeliveryGuideRequest | WithholdingRequest
    | PurchaseSettlementRequest,
    Field(discriminator="type"),
]

