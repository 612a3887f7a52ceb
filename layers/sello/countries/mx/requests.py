"""The body of a Mexican document request: the neutral document model's fields where the concept is
the same (`type`, `issuer_id`, `issue_date`, `currency`, `customer`, `items`, `additional_info`) and
Mexico's own where CFDI 4.0 needs them, each field naming the SAT attribute it becomes.

Types: `invoice` (CFDI de ingreso, I), with `global_information` the global invoice to the general
public (factura global); `credit_note` (CFDI de egreso, E) with the invoices it credits (`related`,
CfdiRelacionados with TipoRelacion 01); `payment` (CFDI de pago, P, complemento de pagos 2.0) with the
payments received for PPD invoices (`payments`, payments.py).

As for Ecuador, the model checks shape (types, lengths and formats, the limits of SAT's schema),
and `documents.prepare` checks SAT's rules (catalogs, the RFC's check digit, which fields each
customer and type needs), each failure a 422 with a stable code and the field's path. The API
validates a body once, as `MexicoDocumentRequest`; the variants (`MexicoInvoiceRequest`,
`MexicoCreditNoteRequest`) give each type its own schema and example, discriminated by `type`."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PrivateAttr,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import CoreSchema, PydanticKnownError, core_schema

from sello.i18n import TranslatedValueError, _l
from sello.models.common import EmailStr, RequestBody, text
from sello.models.document_parts import Quantity

MexicoDocumentType = Literal["invoice", "credit_note", "payment"]

# The most lines a document has. A CFDI of this many short lines (about 600 bytes of XML each with one
# tax) is some 300 KB; the document as stored must also fit (`document_too_large` otherwise).
MAX_ITEMS = 500
MAX_TAXES_PER_ITEM = 4  # one each of IVA and IEPS transferred, ISR and IVA withheld
MAX_RELATED = 100
MAX_PAYMENTS = 20
MAX_PAID_DOCUMENTS = 100
MAX_ADDITIONAL_INFO = 15

_SPACES = re.compile(r" {2,}")


def _sat_text(value: str) -> str:
    if "|" in value:
        raise TranslatedValueError(_l("Remove the character |: SAT's documents cannot carry it (it separates "
                                      "the values of the cadena original)."))
    return _SPACES.sub(" ", value)


def sat_text(max_length: int):
    """Printable text (models.common.text) that SAT's schema takes: no `|`; runs of spaces are one
    space, as SAT reads them."""
    return Annotated[text(max_length), AfterValidator(_sat_text)]


def _code_validator(pattern: str, message):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise TranslatedValueError(message)
        return value

    return AfterValidator(check)


Zip = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5}$")]
RegimeCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}$")]
TwoDigits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2}$")]
ProductCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{8}$")]
UnitCode = Annotated[str, StringConstraints(strip_whitespace=True),
                     _code_validator(r"[A-Za-z0-9]{1,3}", _l("A unit key (c_ClaveUnidad) is 1 to 3 letters "
                                                             "or digits, e.g. H87 (pieza) or E48 (unidad de "
                                                             "servicio)."))]
CfdiUse = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True),
                    _code_validator(r"[A-Z][A-Z0-9]{2,3}", _l("A uso CFDI (c_UsoCFDI) is a key such as G03, "
                                                              "D01 or S01."))]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True),
                    _code_validator(r"[A-Z]{3}", _l("A country is its three-letter ISO 3166 code (c_Pais), "
                                                    "e.g. USA."))]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Rfc = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_DOCUMENT_ID = re.compile(r"doc_[a-z0-9]{20}")


def _related(value: str) -> str:
    if _UUID.fullmatch(value):
        return value.upper()
    if _DOCUMENT_ID.fullmatch(value):
        return value
    raise TranslatedValueError(_l("Send the UUID (folio fiscal) of the invoice, e.g. "
                                  "5FB2822E-396D-4725-8521-CDC4BDD20CCF, or its Sello document id (doc_…)."))


RelatedDocument = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_related)]

# Values SAT's schema takes: at most 18 digits before the point and 6 after it.
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                     examples=["1250.50"])]
Discount = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                    examples=["0.00"])]
ExchangeRate = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                        examples=["17.2345"])]
Money = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                 examples=["580.00"])]
Balance = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                   examples=["1160.00"])]
Equivalence = Annotated[Decimal, Field(gt=0, max_digits=17, decimal_places=10, allow_inf_nan=False,
                                       examples=["0.0580"])]
Percent = Annotated[Decimal, Field(ge=0, le=1000, decimal_places=4, allow_inf_nan=False, examples=["16"])]
PerUnit = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=6, allow_inf_nan=False,
                                   examples=["0.5911"])]

_AMOUNTS = "Decimals: JSON numbers and decimal strings are both accepted; NaN and Infinity are not."


class MexicoCustomer(RequestBody):
    """The receiver (CFDI Receptor). Three kinds, told apart by `tax_id`:
    a customer with an RFC (name, tax_regime, zip and cfdi_use required); the general public,
    XAXX010101000 (régimen 616, uso S01 and the branch's zip are filled in; the name is PUBLICO EN
    GENERAL on a global invoice, the buyer's name otherwise); a foreign customer, XEXX010101000
    (name, country and foreign_tax_id required; régimen 616, uso S01 and the branch's zip filled in)."""

    tax_id: Rfc = Field(
        description="RFC (CFDI Receptor/Rfc): 12 characters for a persona moral, 13 for a persona física, "
                    "checked for its check digit; XAXX010101000 for the general public (público en general), "
                    "XEXX010101000 for a foreign customer.", examples=["XIA190128J61"])
    name: sat_text(300) | None = Field(
        default=None,
        description="Name as registered with SAT, as on the customer's Constancia de Situación Fiscal, "
                    "without the capital regime (no \"SA DE CV\") (CFDI Receptor/Nombre). Required except "
                    "for the general public on a global invoice (PUBLICO EN GENERAL).",
        examples=["XENON INDUSTRIAL ARTICLES"])
    tax_regime: RegimeCode | None = Field(
        default=None,
        description="The customer's régimen fiscal (c_RegimenFiscal; CFDI Receptor/RegimenFiscalReceptor), "
                    "one its person type may have. Required with an RFC; 616 for the generic RFCs (filled in "
                    "when omitted).", examples=["601"])
    zip: Zip | None = Field(
        default=None,
        description="Zip code of the customer's fiscal domicile (c_CodigoPostal; CFDI "
                    "Receptor/DomicilioFiscalReceptor). Required with an RFC; for the generic RFCs the "
                    "branch's zip (filled in when omitted).", examples=["76343"])
    cfdi_use: CfdiUse | None = Field(
        default=None,
        description="What the customer will use the CFDI for (c_UsoCFDI; CFDI Receptor/UsoCFDI), allowed for "
                    "its régimen and person type: e.g. G01 adquisición de mercancías, G02 devoluciones, "
                    "descuentos o bonificaciones, G03 gastos en general, D01–D10 deducciones personales "
                    "(personas físicas), S01 sin efectos fiscales. Required with an RFC; S01 for the generic "
                    "RFCs (filled in when omitted).", examples=["G03"])
    country: Country | None = Field(
        default=None,
        description="A foreign customer's country of tax residence, ISO 3166 alpha-3 (c_Pais; CFDI "
                    "Receptor/ResidenciaFiscal), not MEX. Only with XEXX010101000, and required there.",
        examples=["USA"])
    foreign_tax_id: sat_text(40) | None = Field(
        default=None,
        description="A foreign customer's tax id in its country (CFDI Receptor/NumRegIdTrib), up to 40 "
                    "characters. Only with XEXX010101000, and required there.", examples=["123456789"])
    email: EmailStr | None = Field(default=None, description="Where the stamped CFDI and its PDF are emailed "
                                                             "(not part of the CFDI).",
                                   examples=["compras@example.com"])


class MexicoItemTax(RequestBody):
    """A tax of a line (CFDI Concepto/Impuestos): transferred (Traslado) unless `withholding`. Exactly
    one of `rate`, `per_unit` and `exempt`."""

    type: Literal["vat", "ieps", "isr"] = Field(
        description="vat = IVA (Impuesto 002), ieps = impuesto especial sobre producción y servicios (003), "
                    "isr = impuesto sobre la renta (001, withheld only).", examples=["vat"])
    withholding: bool = Field(
        default=False, description="true for a tax the customer withholds (CFDI Retencion): ISR or IVA.",
        examples=[False])
    rate: Percent | None = Field(
        default=None,
        description="Percent, up to 4 decimals (TipoFactor Tasa; TasaOCuota = rate / 100 with 6 decimals). "
                    "IVA transferred: 16, 8 (región fronteriza: the branch's zip code must be in it) or 0. "
                    "IEPS: a rate of SAT's c_TasaOCuota (e.g. 8, 26.5, 53, 160). Withheld: ISR 0–35 (e.g. "
                    "10, 1.25), IVA 0–16 (e.g. 10.6667, two thirds of 16 %).", examples=["16"])
    per_unit: PerUnit | None = Field(
        default=None,
        description="IEPS as an amount per unit of the line's quantity (TipoFactor Cuota; TasaOCuota = this "
                    "amount, Base = the quantity), up to 6 decimals.", examples=["0.5911"])
    exempt: bool = Field(
        default=False, description="true for IVA exento (TipoFactor Exento: a Base and no amount).",
        examples=[False])


class MexicoItem(RequestBody):
    """A line (CFDI Concepto)."""

    product_code: ProductCode = Field(
        description="SAT's key of the product or service (c_ClaveProdServ; CFDI ClaveProdServ), 8 digits; "
                    "01010101 when none applies (and on a global invoice).", examples=["43232408"])
    code: sat_text(100) | None = Field(
        default=None, description="Your product code or SKU (CFDI NoIdentificacion), up to 100 characters; "
                                  "on a global invoice the number of the ticket or sale the line stands for.",
        examples=["SKU-1001"])
    description: sat_text(1000) = Field(description="Up to 1000 characters (CFDI Descripcion).",
                                        examples=["Licencia anual de software de facturación"])
    quantity: Quantity = Field(default=Decimal(1), description="More than 0, up to 6 decimals (CFDI "
                                                               "Cantidad); default 1.")
    unit_code: UnitCode = Field(
        description="SAT's unit key (c_ClaveUnidad; CFDI ClaveUnidad), e.g. H87 pieza, E48 unidad de "
                    "servicio, KGM kilogramo, ACT actividad.", examples=["E48"])
    unit: sat_text(20) | None = Field(default=None, examples=["Servicio"],
                                      description="Your own name of the unit, up to 20 characters (CFDI Unidad).")
    unit_price: UnitPrice = Field(description="Before taxes, up to 6 decimals (CFDI ValorUnitario). "
                                              + _AMOUNTS)
    discount: Discount = Field(
        default=Decimal(0),
        description="Discount on the whole line (not per unit), with at most the currency's decimals (MXN 2) "
                    "and at most quantity × unit price (CFDI Descuento).")
    tax_object: TwoDigits | None = Field(
        default=None,
        description="Whether the line is subject to tax (c_ObjetoImp; CFDI ObjetoImp): 01 not subject (no "
                    "taxes), 02 subject (taxes required), 03 subject, not obliged to itemise (no taxes), 04 "
                    "subject, no tax due (no taxes). Default: 02 when the line has taxes, 01 when it has "
                    "none.", examples=["02"])
    taxes: list[MexicoItemTax] = Field(
        default_factory=list, max_length=MAX_TAXES_PER_ITEM,
        description="At most one each of IVA and IEPS transferred and of ISR and IVA withheld.",
        examples=[[{"type": "vat", "rate": "16"}]])


class GlobalInformation(RequestBody):
    """The period a global invoice covers (CFDI InformacionGlobal): the sales to the general public
    without an invoice of their own."""

    periodicity: Literal["daily", "weekly", "fortnightly", "monthly", "bimonthly"] = Field(
        description="c_Periodicidad (CFDI Periodicidad): daily 01, weekly 02, fortnightly 03, monthly 04, "
                    "bimonthly 05.", examples=["monthly"])
    months: TwoDigits = Field(
        description="c_Meses (CFDI Meses): 01–12 the month (for every periodicity but bimonthly), 13–18 the "
                    "bimester for bimonthly (13 January–February … 18 November–December).", examples=["06"])
    year: int = Field(ge=2021, le=9999, examples=[2025],
                      description="The year of the period (CFDI Año): this year or the last.")


class MexicoPaidTax(RequestBody):
    """A tax of an invoice issued elsewhere, as its CFDI sums it (Comprobante/Impuestos, by tax, factor and
    rate): what a payment's share of it (ImpuestosDR) is computed from."""

    type: Literal["vat", "ieps", "isr"] = Field(description="vat = IVA (002), ieps = IEPS (003), isr = ISR "
                                                            "(001, withheld only).", examples=["vat"])
    withholding: bool = Field(default=False, description="true for a tax withheld (Retencion).")
    rate: Percent | None = Field(default=None, description="Percent, as on the invoice (TasaOCuota × 100); "
                                                           "omitted when exempt.", examples=["16"])
    exempt: bool = Field(default=False, description="true for IVA exento (TipoFactor Exento).")
    base: Balance = Field(description="The invoice's base for this tax (the sum of its lines' bases).",
                          examples=["1000.00"])
    amount: Balance | None = Field(default=None, description="The invoice's amount of this tax; omitted when "
                                                             "exempt.", examples=["160.00"])


class MexicoPaidDocument(RequestBody):
    """An invoice a payment applies to (Pagos DoctoRelacionado). One issued through Sello is named by its
    document id, and Sello fills in its UUID, currency, series and folio, the installment number and
    previous balance (from the payments it recorded) and its taxes; one issued elsewhere is named by its
    UUID, and then those come with it."""

    document: RelatedDocument = Field(
        description="The Sello document id of the invoice (issued with payment method PPD), or the UUID of "
                    "one issued elsewhere (IdDocumento).", examples=["doc_7m2k9x4v1c8b3n6q0w5e"])
    amount: Money = Field(description="What this payment pays of the invoice, in the invoice's currency, with "
                                      "its decimals (ImpPagado); at most its balance.", examples=["580.00"])
    equivalence: Equivalence | None = Field(
        default=None, description="Units of the invoice's currency per unit of the payment's currency "
                                  "(EquivalenciaDR), up to 10 decimals. Omitted when both currencies are the "
                                  "same (1), and for an invoice in MXN paid in another currency (the "
                                  "payment's exchange rate); required otherwise.", examples=["1"])
    currency: Currency | None = Field(default=None, description="An invoice issued elsewhere: its currency "
                                                                "(MonedaDR).", examples=["MXN"])
    total: Money | None = Field(default=None, description="An invoice issued elsewhere: its Total.",
                                examples=["1160.00"])
    previous_balance: Money | None = Field(
        default=None, description="An invoice issued elsewhere: what was left to pay before this payment "
                                  "(ImpSaldoAnt); its Total for the first installment.", examples=["1160.00"])
    installment: int | None = Field(default=None, ge=1, le=999, description="An invoice issued elsewhere: "
                                                                          "the installment number "
                                                                          "(NumParcialidad).", examples=[1])
    series: sat_text(25) | None = Field(default=None, description="An invoice issued elsewhere: its Serie.",
                                        examples=["F"])
    folio: sat_text(40) | None = Field(default=None, description="An invoice issued elsewhere: its Folio.",
                                       examples=["1021"])
    tax_object: TwoDigits | None = Field(
        default=None, description="An invoice issued elsewhere: whether the payment is subject to tax "
                                  "(ObjetoImpDR): 02 when `taxes` are given (the default then), 01 otherwise "
                                  "(the default without taxes).", examples=["02"])
    taxes: list[MexicoPaidTax] = Field(
        default_factory=list, max_length=MAX_TAXES_PER_ITEM * 4,
        description="An invoice issued elsewhere: its taxes, by tax, factor and rate, as its CFDI sums them.")


def _noon(value: Any) -> Any:
    """A date alone is that day at 12:00:00 (SAT's FechaPago when the time is not known)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(12))
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        return f"{value.strip()}T12:00:00"
    return value


class MexicoPayment(RequestBody):
    """A payment received (Pagos Pago)."""

    paid_at: Annotated[datetime, BeforeValidator(_noon)] | None = Field(
        default=None,
        description="When the payment was received (FechaPago), at the branch's local time; a date alone is "
                    "that day at 12:00:00, as SAT asks. Not on a day after the receipt's issue date. Default: "
                    "the receipt's issue time (Fecha).", examples=["2025-07-15T12:00:00"])
    payment_form: TwoDigits = Field(description="c_FormaPago (FormaDePagoP): e.g. 01 efectivo, 02 cheque, 03 "
                                                "transferencia; not 99.", examples=["03"])
    currency: Currency = Field(default="MXN", description="The payment's currency (MonedaP), not XXX.",
                               examples=["MXN"])
    exchange_rate: ExchangeRate | None = Field(
        default=None, description="Pesos per unit of the payment's currency on the payment date (TipoCambioP); "
                                  "required unless the currency is MXN.", examples=["17.2345"])
    amount: Money | None = Field(
        default=None, description="The amount received (Monto), in the payment's currency: at least what it "
                                  "pays of its invoices (each ImpPagado / EquivalenciaDR, summed and rounded "
                                  "half up to the currency's decimals), which is the default.",
        examples=["580.00"])
    operation_number: sat_text(100) | None = Field(
        default=None, description="Cheque number, SPEI tracking key or similar reference (NumOperacion).",
        examples=["SPEI-7731"])
    documents: list[MexicoPaidDocument] = Field(
        min_length=1, max_length=MAX_PAID_DOCUMENTS,
        description="The invoices it pays (DoctoRelacionado), each once per payment.")


# Examples (each a valid document for the issuer EKU9003173C9, régimen 601, branch MATRIZ at 42501 with
# series A and NC, on 2025-06-30).
_CUSTOMER = {"tax_id": "XIA190128J61", "name": "XENON INDUSTRIAL ARTICLES", "tax_regime": "601",
             "zip": "76343", "cfdi_use": "G03", "email": "compras@example.com"}
INVOICE_EXAMPLE = {
    "type": "invoice",
    "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t",
    "branch": "MATRIZ",
    "currency": "MXN",
    "customer": _CUSTOMER,
    "items": [
        {"product_code": "43232408", "code": "LIC-FAC-1",
         "description": "Licencia anual de software de facturación",
         "unit_code": "E48", "unit": "Servicio", "quantity": 1, "unit_price": "12000.00",
         "taxes": [{"type": "vat", "rate": "16"}]},
        {"product_code": "81112101", "description": "Soporte técnico, horas", "unit_code": "HUR",
         "quantity": "2.5", "unit_price": "850.00", "discount": "125.00",
         "taxes": [{"type": "vat", "rate": "16"}, {"type": "isr", "withholding": True, "rate": "1.25"}]},
    ],
    "payment_form": "03",
    "payment_method": "PUE",
    "additional_info": {"Pedido": "PO-8812"},
}
GLOBAL_INVOICE_EXAMPLE = {
    "type": "invoice",
    "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t",
    "branch": "MATRIZ",
    "customer": {"tax_id": "XAXX010101000"},
    "global_information": {"periodicity": "monthly", "months": "05", "year": 2025},
    "items": [
        {"product_code": "01010101", "code": "T-10231", "description": "Venta", "unit_code": "ACT",
         "unit_price": "431.03", "taxes": [{"type": "vat", "rate": "16"}]},
        {"product_code": "01010101", "code": "T-10232", "description": "Venta", "unit_code": "ACT",
         "unit_price": "86.21", "taxes": [{"type": "vat", "rate": "16"}]},
    ],
    "payment_form": "01",
}
CREDIT_NOTE_EXAMPLE = {
    "type": "credit_note",
    "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t",
    "branch": "MATRIZ",
    "customer": {**_CUSTOMER, "cfdi_use": "G02"},
    "related": ["5FB2822E-396D-4725-8521-CDC4BDD20CCF"],
    "items": [
        {"product_code": "84111506", "description": "Bonificación por pronto pago", "unit_code": "ACT",
         "unit_price": "500.00", "taxes": [{"type": "vat", "rate": "16"}]},
    ],
    "payment_form": "03",
}
PAYMENT_EXAMPLE = {
    "type": "payment",
    "issuer_id": "iss_3k9v0c2m1x7q8w4e5r6t",
    "branch": "MATRIZ",
    "customer": {k: v for k, v in _CUSTOMER.items() if k != "cfdi_use"},
    "payments": [
        {"paid_at": "2025-07-15T12:00:00", "payment_form": "03", "currency": "MXN",
         "operation_number": "SPEI-7731",
         "documents": [{"document": "doc_7m2k9x4v1c8b3n6q0w5e", "amount": "580.00"}]},
    ],
}
FOREIGN_CUSTOMER_EXAMPLE = {"tax_id": "XEXX010101000", "name": "ACME TRADING LLC", "country": "USA",
                            "foreign_tax_id": "98-7654321"}


class MexicoDocumentRequest(RequestBody):
    """A CFDI to issue. `invoice`: customer, items, payment_form (unless PPD); with global_information a
    global invoice to the general public. `credit_note`: customer, items, related (the invoices it
    credits), payment_form. `payment`: customer and payments (the PPD invoices they pay)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INVOICE_EXAMPLE]})
    # A payment's invoices issued through Sello, as the plugin's resolve_references read them
    # (payments.Invoice by document id); not part of the body.
    _invoices: dict[str, Any] = PrivateAttr(default_factory=dict)

    type: MexicoDocumentType = Field(
        description="invoice = CFDI de ingreso (TipoDeComprobante I); credit_note = CFDI de egreso (E); "
                    "payment = CFDI de pago (P) with the complemento de pagos 2.0.",
        examples=["invoice"])
    issuer_id: text(64) = Field(description="The issuer (see /v1/issuers).",
                                examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    branch: text(20) | None = Field(
        default=None, description="Code of the issuer's branch that issues the document: its zip code is the "
                                  "CFDI's LugarExpedicion and sets its time zone, its series numbers the "
                                  "document. May be omitted when the issuer has one "
                                  "branch.", examples=["MATRIZ"])
    issue_date: date | None = Field(
        default=None,
        description="Default: today at the branch (its zip code's time zone). Today or up to 2 days back: "
                    "Fecha is that day at the current time of day there, which SAT's 72-hour window for "
                    "stamping allows.",
        examples=["2025-06-30"])
    currency: Currency = Field(
        default="MXN", description="ISO 4217 code in SAT's c_Moneda (CFDI Moneda); amounts carry its "
                                   "decimals (MXN 2, JPY 0).", examples=["MXN"])
    exchange_rate: ExchangeRate | None = Field(
        default=None, description="Pesos per unit of the currency, up to 6 decimals (CFDI TipoCambio). "
                                  "Required when the currency is not MXN; omitted for "
                                  "MXN.", examples=["17.2345"])
    export: TwoDigits = Field(
        default="01", description="c_Exportacion (CFDI Exportacion): 01 no export (default), 03 temporary, "
                                  "04 definitive without key A1. 02 (definitive, A1) needs the Comercio "
                                  "Exterior complement, which Sello does not issue.", examples=["01"])
    customer: MexicoCustomer = Field(description="Who the CFDI is for (CFDI Receptor).")
    items: list[MexicoItem] = Field(
        default=None, validate_default=True, max_length=MAX_ITEMS, json_schema_extra={"minItems": 1},
        description=f"1 to {MAX_ITEMS} lines (CFDI Conceptos); required for invoices and credit notes, none for "
                    f"a payment (its one Concepto is SAT's). The whole document must also stay within what "
                    f"a document can hold, or it is refused with `document_too_large`.")
    payment_form: TwoDigits | None = Field(
        default=None,
        description="c_FormaPago (CFDI FormaPago): e.g. 01 efectivo, 02 cheque, 03 transferencia, 04 tarjeta "
                    "de crédito, 28 tarjeta de débito, 15 condonación, 17 compensación, 99 por definir. "
                    "Required with payment_method PUE (and then not 99); 99 with PPD (filled in when "
                    "omitted).", examples=["03"])
    payment_method: Literal["PUE", "PPD"] = Field(
        default="PUE", description="c_MetodoPago (CFDI MetodoPago): PUE paid in full when issued (default), "
                                   "PPD paid later or in instalments (invoices only, not "
                                   "global ones).", examples=["PUE"])
    payment_terms: sat_text(1000) | None = Field(
        default=None, description="Payment terms, up to 1000 characters (CFDI CondicionesDePago); not on a "
                                  "global invoice.", examples=["Neto 30 días"])
    global_information: GlobalInformation | None = Field(
        default=None, description="Makes an invoice a global invoice (factura global) to the general public: "
                                  "the customer is then XAXX010101000, PUBLICO EN GENERAL.")
    related: list[RelatedDocument] = Field(
        default_factory=list, max_length=MAX_RELATED,
        description="The invoices a credit note credits (CFDI CfdiRelacionados, TipoRelacion 01), each by "
                    "its UUID (folio fiscal) or its Sello document id; 1 or more for a credit note, none for "
                    "an invoice.",
        examples=[["5FB2822E-396D-4725-8521-CDC4BDD20CCF"]])

    @field_validator("items", mode="wrap")
    @classmethod
    def _items_of_the_type(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        """Required, 1 or more, for invoices and credit notes; a payment has none of its own (None: not
        sent)."""
        payment = info.data.get("type") == "payment"
        if value is None:
            if payment:
                return []
            raise PydanticKnownError("missing")
        items = handler(value)
        if not items and not payment:
            raise PydanticKnownError("too_short", {"field_type": "List", "min_length": 1, "actual_length": 0})
        return items

    payments: list[MexicoPayment] = Field(
        default_factory=list, max_length=MAX_PAYMENTS,
        description=f"A payment (complemento de pagos 2.0): the payments received, 1 to {MAX_PAYMENTS}; none "
                    f"for the other types.")
    substitutes: RelatedDocument | None = Field(
        default=None,
        description="The invoice this one replaces (CFDI CfdiRelacionados, TipoRelacion 04, sustitución de los "
                    "CFDI previos), by its UUID (folio fiscal) or its Sello document id; then cancel that one "
                    "with motive 01 and this one as its `substitute`. Invoices only.",
        examples=[None])
    additional_info: dict[text(100), text(300)] = Field(
        default_factory=dict, max_length=MAX_ADDITIONAL_INFO,
        description=f"Up to {MAX_ADDITIONAL_INFO} name → value pairs printed on the PDF; they are not part "
                    f"of the CFDI.", examples=[{"Pedido": "PO-8812"}])


# One variant per type ---------------------------------------------------------------------------------

_PARTS = ("global_information", "related", "payment_terms")
# What a payment leaves out: its amounts, currency and payment data are each payment's.
_NOT_FOR_PAYMENTS = ("global_information", "related", "substitutes", "payment_terms", "items", "currency",
                     "exchange_rate", "export", "payment_form", "payment_method")


def _variant(title: str, examples: list[dict], *, needs: tuple[str, ...] = (),
             leaves_out: tuple[str, ...] = (), about: dict[str, str] | None = None) -> ConfigDict:
    """The config of a variant: its title, and a schema that requires `needs`, leaves out
    `leaves_out`, describes fields as `about` says, and shows `examples`."""
    def schema(json_schema: dict[str, Any], _cls: type) -> None:
        properties = json_schema["properties"]
        for part in leaves_out:
            del properties[part]
        if "items" in properties:  # required where shown (MexicoDocumentRequest._items_of_the_type)
            properties["items"] = {k: v for k, v in properties["items"].items() if k != "default"}
        for name, description in (about or {}).items():
            properties[name] = {**properties[name], "description": description}
        for part in needs:
            if properties[part].get("type") == "array":
                properties[part] = {**properties[part], "minItems": 1}
        json_schema["required"] = [*json_schema.get("required", []), *needs]
        json_schema["examples"] = examples

    return ConfigDict(title=title, json_schema_extra=schema, defer_build=True)


class MexicoInvoiceRequest(MexicoDocumentRequest):
    """A CFDI de ingreso (I). With global_information, the global invoice of a period's sales to the
    general public (factura global)."""

    model_config = _variant("Mexico invoice", [INVOICE_EXAMPLE, GLOBAL_INVOICE_EXAMPLE], needs=("items",),
                            leaves_out=("related", "payments"))

    type: Literal["invoice"] = Field(description="CFDI de ingreso (TipoDeComprobante I).",
                                     examples=["invoice"])


class MexicoCreditNoteRequest(MexicoDocumentRequest):
    """A CFDI de egreso (E) that credits invoices (returns, discounts, bonuses): CfdiRelacionados with
    TipoRelacion 01. Paid PUE."""

    model_config = _variant("Mexico credit note", [CREDIT_NOTE_EXAMPLE], needs=("items", "related"),
                            leaves_out=("global_information", "payments", "substitutes"), about={
                                "payment_method": "PUE (a credit note is settled when issued)."})

    type: Literal["credit_note"] = Field(description="CFDI de egreso (TipoDeComprobante E).",
                                         examples=["credit_note"])


class MexicoPaymentRequest(MexicoDocumentRequest):
    """A CFDI de pago (P) with the complemento de recepción de pagos 2.0: the payments received for
    invoices issued with payment method PPD, each invoice's installment, previous balance, amount paid
    and new balance, and the taxes paid with it. The customer's uso CFDI is CP01 (filled in)."""

    model_config = _variant("Mexico payment", [PAYMENT_EXAMPLE], needs=("payments",),
                            leaves_out=_NOT_FOR_PAYMENTS, about={
                                "customer": "Who paid (CFDI Receptor): the customer of the invoices paid; "
                                            "cfdi_use is CP01 (filled in when omitted)."})

    type: Literal["payment"] = Field(description="CFDI de pago (TipoDeComprobante P).", examples=["payment"])


VARIANTS: dict[str, type[MexicoDocumentRequest]] = {
    "invoice": MexicoInvoiceRequest,
    "credit_note": MexicoCreditNoteRequest,
    "payment": MexicoPaymentRequest,
}

MexicoDocumentVariant = Annotated[MexicoInvoiceRequest | MexicoCreditNoteRequest | MexicoPaymentRequest,
                                  Field(discriminator="type")]


@cache
def _variants_schema():
    return TypeAdapter(MexicoDocumentVariant).core_schema


def _validate(value: Any) -> MexicoDocumentRequest:
    return MexicoDocumentRequest.model_validate(value, from_attributes=True)


class _OneSchemaPerType:
    """Validated as MexicoDocumentRequest (error paths are the fields' own), shown in JSON schemas as
    MexicoDocumentVariant (one schema per type)."""

    def __get_pydantic_core_schema__(self, _source: Any, _handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(_validate)

    def __get_pydantic_json_schema__(self, _core_schema: Any,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return handler(_variants_schema())


# A Mexican document body: validated as the neutral model, documented as its variants.
MexicoDocumentBody = Annotated[MexicoDocumentRequest, _OneSchemaPerType()]
