"""Ecuador's errors as the OpenAPI document shows them (sello.error_examples): which codes each
check can answer, and `examples()`, one example per code the plugin raises with the message its check
raises it with (tests/unit/test_error_examples.py compares them)."""

from __future__ import annotations

from sello.errors import Unprocessable

# The codes of `normalize_tax_id` (an issuer's RUC) and of `prepare` (a document request).
TAX_ID_CODES = ("invalid_tax_id",)
DOCUMENT_CODES = (
    "invalid_tax_id", "final_consumer_not_allowed", "final_consumer_limit", "unknown_establishment",
    "unknown_emission_point", "invalid_issue_date", "unsupported_currency", "amount_too_large",
    "unknown_payment_method", "payments_mismatch", "unknown_document_type", "field_not_allowed",
    "reference_required", "unknown_tax_code", "invalid_tax_rate", "duplicate_tax", "missing_vat", "tax_not_allowed",
    "invalid_discount", "shipment_required", "invalid_transport_dates", "withholding_required",
    "invalid_fiscal_period", "unknown_withholding_code", "invalid_withholding_rate", "invalid_withholding_base",
    "withholding_amount_mismatch", "support_subtotal_mismatch", "support_total_mismatch", "document_too_large",
    "schema_violation", "sequence_exhausted",
)

_422 = Unprocessable


def examples() -> tuple:
    from sello.error_examples import example  # the OpenAPI document's alone: the code lists load without it

    return (
        # Parties and tax ids (tax_ids.py, documents.py)
        example(_422, "invalid_tax_id", "{value} is not a valid RUC. {reason}", path="customer.tax_id",
                value="'1790016919002'", reason="The RUC's check digit is wrong."),
        example(_422, "invalid_cedula", "{value} is not a valid cédula. {reason}", path="cedula",
                value="'1710034066'", reason="The cédula's check digit is wrong."),
        example(_422, "final_consumer_not_allowed", "This document must identify its receiver; final_consumer is only "
                "allowed on invoices.", path="customer.id_type"),
        example(_422, "final_consumer_limit", "An invoice to a final consumer may total at most USD {limit}; this one "
                "totals {total}. Identify the customer.", path="customer.id_type", limit=50, total="84.30"),
        # The issuer's establishments and numbering
        example(_422, "unknown_establishment", "The issuer has no establishment {code}; it has {known}.",
                path="establishment", code="003", known="001, 002"),
        example(_422, "unknown_emission_point", "Establishment {establishment} has no emission point {code}; it has "
                "{known}.", path="emission_point", establishment="001", code="004", known="001"),
        example(_422, "sequence_exhausted", "Emission point {series} has used all {max} numbers; issue from another "
                "emission point.", path="emission_point", series="001-001", max=999_999_999),
        # Dates, currency, amounts, payments
        example(_422, "invalid_issue_date", "The issue date can be at most {days} days back.", path="issue_date",
                days=90),
        example(_422, "unsupported_currency", "SRI documents are in {currencies}, not {currency}.", path="currency",
                currencies="USD", currency="EUR"),
        example(_422, "amount_too_large", "Amounts are at most {max}.", path="items.0.unit_price",
                max="999999999999.99"),
        example(_422, "unknown_payment_method", "Unknown payment method {method}; SRI codes are {codes}.",
                path="payments.0.method", method="'99'", codes="01, 15, 16, 17, 18, 19, 20, 21"),
        example(_422, "payments_mismatch", "The payments add up to {paid}, the document's total is {total}.",
                path="payments", paid="90.00", total="93.15"),
        # Document parts and references
        example(_422, "field_not_allowed", "{field} does not belong on a {document}.", path="shipment",
                field="shipment", document="factura"),
        example(_422, "reference_required", "A credit or debit note names the document it modifies.",
                path="reference"),
        example(_422, "unknown_document_type", "Unknown document type {type}; use one of {types} or a 2-digit SRI "
                "code.", path="reference.type", type="'receipt'", types="invoice, credit_note, debit_note, sales_note"),
        # Taxes
        example(_422, "unknown_tax_code", "VAT code {code} does not exist; use one of {codes}.",
                path="items.0.taxes.0.code", code="9", codes="0, 2, 3, 4, 5, 6, 7, 8, 10"),
        example(_422, "invalid_tax_rate", "VAT code {code} is {rate}%, not {sent}%.", path="items.0.taxes.0.rate",
                code="4", rate="15", sent="12"),
        example(_422, "duplicate_tax", "A line has at most one {tax} entry.", path="items.0.taxes.1", tax="VAT"),
        example(_422, "missing_vat", "Every line needs exactly one VAT entry (rate 0, or code 6 or 7 when no VAT "
                "applies).", path="items.0.taxes"),
        example(_422, "tax_not_allowed", "A purchase settlement carries VAT only, not {tax}.",
                path="items.0.taxes.1.type", tax="ICE"),
        example(_422, "invalid_discount", "The discount is larger than quantity × unit price.",
                path="items.0.discount"),
        # Delivery guides (guide.py)
        example(_422, "shipment_required", "A delivery guide needs its shipment.", path="shipment"),
        example(_422, "invalid_transport_dates", "The transport cannot end before it starts.",
                path="shipment.end_date"),
        # Withholdings (withholding.py)
        example(_422, "withholding_required", "A withholding needs its withholding details.", path="withholding"),
        example(_422, "invalid_fiscal_period", "The fiscal period {period} is after the issue date's month.",
                path="withholding.fiscal_period", period="04/2026"),
        example(_422, "unknown_withholding_code", "VAT withholding code {code} does not exist; use one of {codes}.",
                path="withholding.support_documents.0.withholdings.0.code", code="8",
                codes="1, 2, 3, 7, 9, 10, 11"),
        example(_422, "invalid_withholding_rate", "VAT withholding code {code} withholds {rate}%, not {sent}%.",
                path="withholding.support_documents.0.withholdings.0.rate", code="3", rate="100", sent="70"),
        example(_422, "invalid_withholding_base", "The base {base} is more than the document's {what} ({limit}).",
                path="withholding.support_documents.0.withholdings.0.base", base="120.00", what="VAT", limit="15.00"),
        example(_422, "withholding_amount_mismatch", "{base} × {rate}% is {computed}, not {amount}.",
                path="withholding.support_documents.0.withholdings.0.amount", base="100.00", rate="2",
                computed="2.00", amount="2.50"),
        example(_422, "support_subtotal_mismatch", "The VAT bases add up to {sum}; they must equal the subtotal plus "
                "ICE ({expected}).", path="withholding.support_documents.0.taxes", sum="80.00", expected="100.00"),
        example(_422, "support_total_mismatch", "The total must be the subtotal plus the taxes: {expected}, not "
                "{total}.", path="withholding.support_documents.0.total", expected="115.00", total="112.00"),
        # The document as SRI receives it (documents.py)
        example(_422, "document_too_large", "The document would be {size} bytes as SRI receives it (signed XML), "
                "over the {limit} bytes (320 KB) SRI accepts; split it into several documents.", path="items",
                size=338_402, limit=320_000, extra={"limit": 320_000, "size": 338_402}),
        example(_422, "schema_violation", "The document does not match SRI's {root} {version} schema: {detail}",
                path="infoFactura.totalConImpuestos", root="factura", version="2.1.0",
                detail="element totalConImpuestos: missing child element totalImpuesto."),
    )
