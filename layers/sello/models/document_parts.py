"""Parts of a document request that only some document types carry: the shipment of a delivery
guide and the withholding details of a withholding receipt.

These models check shape only (types, lengths, formats); the authority's rules (check digits,
withholding codes and rates, dates, arithmetic) are checked by the country plugin."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from sello.models.common import EmailStr, RequestBody, text

# Amounts are decimals, never floats: JSON numbers and decimal strings are both accepted.
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False,
                                 examples=["100.00"])]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6, allow_inf_nan=False,
                                    examples=["2.5"])]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False, examples=["30"])]

# Digits are ASCII [0-9]: a pattern's \d would also take other scripts' digits, which SRI's schemas refuse.
DocumentNumber = Annotated[str, StringConstraints(strip_whitespace=True,
                                                  pattern=r"^[0-9]{3}-[0-9]{3}-[0-9]{9}$")]
# SRI authorization numbers: 10 digits (pre-printed), 37 (old electronic) or 49 (clave de acceso).
AuthorizationNumber = Annotated[str, StringConstraints(strip_whitespace=True,
                                                       pattern=r"^([0-9]{10}|[0-9]{37}|[0-9]{49})$")]
ThreeDigits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}$")]

PAYMENT_METHODS = ("cash", "debit_card", "credit_card", "electronic_money", "prepaid_card", "compensation",
                   "other_financial", "endorsement")
PaymentMethod = Annotated[str, StringConstraints(
    strip_whitespace=True, pattern=rf"^({'|'.join(PAYMENT_METHODS)}|0[1-9]|1[0-9]|2[01])$")]

MAX_DESTINATIONS = 100
MAX_LINES = 500
MAX_SUPPORT_DOCUMENTS = 100


class PartyRef(RequestBody):
    """A person or company named in a shipment (the carrier, a recipient): the fields of the
    document's customer, always identified."""

    id_type: Literal["tax_id", "national_id", "passport", "foreign_id"] = Field(
        description="tax_id = RUC (13 digits), national_id = cédula (10 digits), passport, foreign_id = "
                    "identification issued abroad.", examples=["tax_id"])
    tax_id: text(20) = Field(description="The identification number; RUC and cédula are checked for their "
                                         "check digit.", examples=["1790016919001"])
    name: text(300) = Field(description="Legal name or full name.", examples=["Transportes Andinos S.A."])
    email: EmailStr | None = Field(default=None, examples=["logistica@example.com"])
    address: text(300) | None = None
    phone: text(30) | None = None


class ShipmentItem(RequestBody):
    code: text(25) = Field(description="Your product code (SRI codigoInterno).", examples=["SKU-1001"])
    aux_code: text(25) | None = Field(default=None, description="Secondary code (SRI codigoAdicional).")
    description: text(300) = Field(examples=["Refrigerador 18 pies"])
    quantity: Quantity = Field(description="Up to 6 decimals.")
    details: dict[text(300), text(300)] | None = Field(
        default=None, max_length=3, description="Up to 3 name → value pairs printed with the line "
                                                "(SRI detallesAdicionales).", examples=[{"Color": "Gris"}])


class ShipmentReference(RequestBody):
    """The sale (usually an invoice) the goods travel for (SRI documento sustento)."""

    type: text(20) = Field(description="Neutral document type (`invoice`, `credit_note`, `debit_note`, "
                                       "`delivery_guide`, `withholding`, `sales_note`, "
                                       "`purchase_settlement`) or the two-digit SRI codDocSustento.",
                           examples=["invoice"])
    number: DocumentNumber = Field(description="establishment-emission point-sequence.",
                                   examples=["001-001-000000123"])
    issue_date: date
    authorization: AuthorizationNumber | None = Field(
        default=None, description="SRI authorization number: 10, 37 or 49 digits.")


class Destination(RequestBody):
    recipient: PartyRef = Field(description="Who receives the goods at this address.")
    address: text(300) = Field(description="Delivery address (SRI dirDestinatario).",
                               examples=["Av. 9 de Octubre 100 y Malecón, Guayaquil"])
    reason: text(300) = Field(description="Why the goods travel (SRI motivoTraslado).", examples=["Venta"])
    route: text(300) | None = Field(default=None, examples=["Quito - Guayaquil"])
    customs_document: text(20) | None = Field(default=None,
                                              description="Single customs document (SRI docAduaneroUnico).")
    establishment_code: ThreeDigits | None = Field(
        default=None, description="Receiving establishment of the same company (SRI codEstabDestino).")
    reference: ShipmentReference | None = None
    items: list[ShipmentItem] = Field(min_length=1, max_length=MAX_LINES)


class Shipment(RequestBody):
    """A delivery guide's transport: who carries the goods, in which vehicle, from where, when, and
    what goes to each destination."""

    carrier: PartyRef
    plate: text(20) = Field(description="Vehicle plate (SRI placa).", examples=["PBA-1234"])
    origin_address: text(300) = Field(description="Where the goods leave from (SRI dirPartida).",
                                      examples=["Av. Amazonas N34-451, Quito"])
    start_date: date = Field(description="Transport start; not before the issue date.")
    end_date: date = Field(description="Transport end; not before the start date.")
    destinations: list[Destination] = Field(min_length=1, max_length=MAX_DESTINATIONS)


class SupportTax(RequestBody):
    """A tax charged on the supporting document (SRI impuestoDocSustento)."""

    type: Literal["vat", "ice", "irbpnr"] = Field(examples=["vat"])
    rate: Percent | None = Field(default=None, description="Percent; enough for VAT rates that have a "
                                                           "single SRI code.", examples=["15"])
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,4}$")] | None = Field(
        default=None, description="SRI codigoPorcentaje; required for ICE and IRBPNR.", examples=["4"])
    base: Money
    amount: Money | None = Field(default=None, description="Tax amount; computed as base × rate / 100 "
                                                           "when omitted.")


class WithholdingLine(RequestBody):
    """One amount withheld (SRI retencion)."""

    tax: Literal["income", "vat", "isd"] = Field(description="income = renta, vat = IVA, isd = impuesto a la "
                                                             "salida de divisas.", examples=["vat"])
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z]{1,5}$")] = Field(
        description="SRI codigoRetencion: for income the ATS code (e.g. 312), for VAT the code of the rate "
                    "(10%→9, 20%→10, 30%→1, 50%→11, 70%→2, 100%→3), for ISD 4580.", examples=["1"])
    base: Money
    rate: Percent = Field(description="Percent withheld (SRI porcentajeRetener).", examples=["30"])
    amount: Money | None = Field(default=None, description="Withheld amount; computed as base × rate / 100 "
                                                           "(2 places, half up) when omitted, checked when "
                                                           "given.")


class SupportPayment(RequestBody):
    method: PaymentMethod = Field(description="cash, debit_card, credit_card, electronic_money, "
                                              "prepaid_card, compensation, other_financial, endorsement, or "
                                              "the 2-digit SRI formaPago.", examples=["other_financial"])
    amount: Money


class ForeignPayment(RequestBody):
    """Where a payment abroad goes (required when payment_residence is foreign)."""

    regime: Literal["general", "tax_haven", "preferential"] = Field(
        description="SRI tipoRegi: general regime, tax haven, or preferential tax regime.")
    country: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3,4}$")] = Field(
        description="SRI paisEfecPago country code (ATS catalogue).", examples=["593"])
    double_taxation_treaty: bool | None = Field(default=None, description="SRI aplicConvDobTrib.")
    subject_to_withholding: bool | None = Field(default=None, description="SRI pagExtSujRetNorLeg.")
    preferential_regime_payment: bool | None = Field(default=None, description="SRI pagoRegFis.")


class SupportDocument(RequestBody):
    """A purchase document the withholding applies to (SRI docSustento)."""

    type: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,3}$")] = Field(
        description="SRI codDocSustento, e.g. 01 factura, 03 liquidación de compra.", examples=["01"])
    support_code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2}$")] = Field(
        description="SRI codSustento (tax support code of the ATS), e.g. 01 crédito tributario.",
        examples=["01"])
    number: DocumentNumber = Field(examples=["001-001-000000123"])
    issue_date: date
    accounting_date: date | None = Field(default=None, description="Date recorded in the books "
                                                                   "(SRI fechaRegistroContable).")
    authorization: AuthorizationNumber | None = Field(
        default=None, description="SRI authorization number of the document: 10, 37 or 49 digits.")
    payment_residence: Literal["local", "foreign"] = Field(default="local", description="SRI pagoLocExt.")
    foreign_payment: ForeignPayment | None = None
    subtotal: Money = Field(description="Total before taxes (SRI totalSinImpuestos).")
    total: Money = Field(description="Total with taxes (SRI importeTotal).")
    taxes: list[SupportTax] = Field(min_length=1, max_length=20)
    withholdings: list[WithholdingLine] = Field(min_length=1, max_length=50)
    payments: list[SupportPayment] = Field(min_length=1, max_length=20)


class WithholdingInfo(RequestBody):
    """A withholding receipt (SRI comprobante de retención 2.0.0): the fiscal period and the
    supporting purchase documents with what is withheld on each. The document's customer is the
    withheld supplier."""

    fiscal_period: Annotated[str, StringConstraints(strip_whitespace=True,
                                                    pattern=r"^(0[1-9]|1[0-2])/20[0-9]{2}$")] = Field(
        description="MM/YYYY; not after the issue date's month.", examples=["06/2025"])
    related_party: bool = Field(default=False, description="Whether the supplier is a related party "
                                                           "(SRI parteRel).")
    subject_type: Literal["natural_person", "company"] | None = Field(
        default=None, description="SRI tipoSujetoRetenido; required when the customer has a foreign_id.")
    support_documents: list[SupportDocument] = Field(min_length=1, max_length=MAX_SUPPORT_DOCUMENTS)
