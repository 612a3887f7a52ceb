"""Mexico's errors as the OpenAPI document shows them (sello.error_examples): which codes each check
can answer, and `examples()`, one example per code the plugin raises with the message its check raises
it with (tests/unit/test_error_examples.py and tests/unit/test_mx_error_examples.py compare them).

Besides TAX_ID_CODES (`normalize_tax_id`, the issuer's RFC) and DOCUMENT_CODES (`prepare`), which
every plugin has, Mexico lists the codes of its issuer check (ISSUER_CODES: issuer.validate_issuer,
the régimen, zip codes and legal name of an issuer being registered) and of its certificate checks
(CERTIFICATE_CODES: csd.load_pair and csd.require_csd, the .cer/.key pair being uploaded).

The codes the issuer check shares with the customer's checks in `prepare` have two examples: the
issuer's field (`regime`, `zip`, `legal_name`) as the code's own, and the customer's for the documents
routes (context "documents")."""

from __future__ import annotations

from sello.errors import Unprocessable

# The codes of `normalize_tax_id` (an issuer's RFC) and of `prepare` (a document request), the latter
# in the order prepare checks.
TAX_ID_CODES = ("invalid_tax_id",)
DOCUMENT_CODES = (
    "unknown_branch", "series_not_configured", "unknown_zip", "invalid_issue_date", "unknown_currency",
    "unsupported_currency", "field_not_allowed", "unknown_export", "unsupported_export", "invalid_tax_id",
    "invalid_legal_name", "unknown_tax_regime", "tax_regime_not_allowed", "unknown_cfdi_use",
    "cfdi_use_not_allowed", "invalid_zip", "invalid_name", "global_information_required", "unknown_country",
    "invalid_country", "invalid_global_information", "invalid_payment_method", "invalid_payment_form",
    "unknown_payment_form", "related_required", "duplicate_related", "unknown_product_code",
    "unknown_unit_code", "invalid_global_line", "invalid_amount", "unknown_tax_object",
    "unsupported_tax_object", "taxes_required", "taxes_not_allowed", "invalid_tax", "tax_not_allowed",
    "invalid_tax_rate", "duplicate_tax", "invalid_discount", "amount_too_large", "invalid_tax_base",
    "document_too_large",
    # A payment receipt (payments.py)
    "invoice_not_payable", "related_customer_mismatch", "invalid_payment_date", "invalid_previous_balance", "invalid_tax_object",
    "amount_exceeds_balance", "equivalence_required", "invalid_equivalence", "payment_amount_too_small",
)
# The codes of a cancellation request's checks (cancellation.prepare), in the order it checks.
CANCELLATION_CODES = ("substitute_required", "substitute_not_allowed", "substitute_not_related")
# The codes of an issuer's registration (issuer.validate_issuer) and of a certificate upload
# (csd.load_pair, csd.require_csd).
ISSUER_CODES = (
    "invalid_tax_id", "invalid_legal_name", "unknown_tax_regime", "tax_regime_not_allowed", "unknown_zip",
)
CERTIFICATE_CODES = (
    "invalid_certificate_file", "invalid_key_file", "wrong_certificate_password",
    "certificate_key_unsupported", "certificate_key_mismatch", "certificate_is_fiel",
    "certificate_not_from_sat",
)
# The codes of reading a CFDI sealed elsewhere (external.read), in the order it checks.
EXTERNAL_CODES = (
    "cfdi_malformed", "cfdi_doctype_not_allowed", "cfdi_not_cfdi40", "cfdi_already_stamped", "cfdi_schema_invalid",
    "cfdi_type_not_supported", "cfdi_date_out_of_range", "cfdi_certificate_invalid",
    "cfdi_certificate_number_mismatch", "cfdi_seal_invalid",
)
# Codes `prepare` raises that no list above names, and why.
UNLISTED = {
    "missing_field": "every route with a body names it already (sello.http's common 422)",
    "unsupported_document_type": "the request model admits only invoice, credit_note and payment, so a "
                                 "request never reaches prepare with another type",
}

_422 = Unprocessable


def examples() -> tuple:
    from sello.error_examples import example  # the OpenAPI document's alone: the code lists load without it

    return (
        # The RFC and the issuer (rfc.py, issuer.py) -----------------------------------------------------
        example(_422, "invalid_tax_id", "{value} is not a valid RFC. {reason}", path="tax_id",
                value="'EKU9003173C8'",
                reason="Its check digit should be 9, not 8: check it for a mistyped character."),
        example(_422, "invalid_legal_name", "Write the name as registered with SAT, without the capital "
                "regime ({regime}): {fixed}.", path="legal_name", regime="SA DE CV",
                fixed="ESCUELA KEMPER URGATE"),
        example(_422, "unknown_tax_regime", "{code} is not a régimen fiscal of SAT's catalog "
                "(c_RegimenFiscal).", path="regime", code="600"),
        example(_422, "tax_regime_not_allowed", "Régimen {code} is not for a persona moral (12-character "
                "RFC); use one of {allowed}.", path="regime", code="612",
                allowed="601, 603, 609, 610, 620, 622, 623, 624, 626, 628"),
        example(_422, "unknown_zip", "Zip code {zip} is not in SAT's catalog of zip codes (c_CodigoPostal).",
                path="zip", zip="00001"),
        # The certificate pair (csd.py) ------------------------------------------------------------------
        example(_422, "invalid_certificate_file", "The file is not a certificate (.cer), or it is damaged.",
                path="cer"),
        example(_422, "invalid_key_file", "The file is not a private key (.key), or it is damaged.",
                path="key"),
        example(_422, "wrong_certificate_password", "The password does not open this private key (.key).",
                path="password"),
        example(_422, "certificate_key_unsupported", "The private key (.key) must be RSA of at least {bits} "
                "bits.", path="key", bits=2048),
        example(_422, "certificate_key_mismatch", "The private key (.key) does not belong to this "
                "certificate (.cer): send the two files SAT issued together.", path="key"),
        example(_422, "certificate_is_fiel", "This is an e.firma (FIEL) certificate. The e.firma identifies "
                "you before SAT; invoices are sealed with a CSD (Certificado de Sello Digital), a different "
                "certificate that you request with your e.firma in SAT's Certifica application. Upload the "
                "CSD's .cer and .key files.", path="cer"),
        example(_422, "certificate_not_from_sat", "The certificate's serial number is not a SAT certificate "
                "number (NoCertificado): upload a CSD issued by SAT.", path="cer"),
        # The document: type, branch, date, currency, export (documents.py) -------------------------------
        example(_422, "unsupported_document_type", "Sello issues invoices and credit notes in Mexico, not "
                "{type}.", path="type", type="withholding"),
        example(_422, "unknown_branch", "The issuer has no branch {code}; it has {known}.", path="branch",
                code="GDL", known="MATRIZ, TIJ"),
        example(_422, "series_not_configured", "Branch {branch} has no series for credit notes; add one to "
                "the issuer's branch.", path="branch", branch="TIJ"),
        example(_422, "missing_field", "{what} is required here.", path="payment_form",
                what="The payment form (how the document was paid)"),
        example(_422, "invalid_issue_date", "The issue date can be at most {days} days back: SAT stamps a "
                "CFDI within 72 hours of its date.", path="issue_date", days=2),
        example(_422, "unknown_currency", "{currency} is not a currency of SAT's catalog (c_Moneda).",
                path="currency", currency="MXP"),
        example(_422, "unsupported_currency", "XXX (no currency) is for payment and transfer CFDIs; invoices "
                "and credit notes have a currency.", path="currency"),
        example(_422, "field_not_allowed", "A document in MXN has no exchange rate; omit exchange_rate.",
                path="exchange_rate"),
        example(_422, "unknown_export", "{code} is not an export key of SAT's catalog (c_Exportacion): use "
                "01, 03 or 04.", path="export", code="05"),
        example(_422, "unsupported_export", "Export 02 (definitive, key A1) needs the Comercio Exterior "
                "complement, which Sello does not issue.", path="export"),
        # The customer
        example(_422, "invalid_legal_name", "Write the name as registered with SAT, without the capital "
                "regime ({regime}): {fixed}.", path="customer.name", regime="SA DE CV",
                fixed="XENON INDUSTRIAL ARTICLES", context="documents"),
        example(_422, "unknown_tax_regime", "{code} is not a régimen fiscal of SAT's catalog "
                "(c_RegimenFiscal).", path="customer.tax_regime", code="600", context="documents"),
        example(_422, "tax_regime_not_allowed", "Régimen {code} is not for a persona moral (12-character "
                "RFC); use one of {allowed}.", path="customer.tax_regime", code="612",
                allowed="601, 603, 609, 610, 620, 622, 623, 624, 626, 628", context="documents"),
        example(_422, "unknown_zip", "Zip code {zip} is not in SAT's catalog of zip codes (c_CodigoPostal).",
                path="customer.zip", zip="00001", context="documents"),
        example(_422, "unknown_cfdi_use", "{use} is not a uso CFDI of SAT's catalog (c_UsoCFDI).",
                path="customer.cfdi_use", use="G09"),
        example(_422, "cfdi_use_not_allowed", "Uso CFDI {use} is not allowed for a customer in régimen "
                "{regime} ({person}); allowed: {allowed}.", path="customer.cfdi_use", use="D01", regime="601",
                person="persona moral", allowed="G01, G03, I01, I02, I03, I04, I05, I06, I07, I08, G02, S01"),
        example(_422, "invalid_zip", "A customer with the RFC {rfc} has the zip code of the branch ({zip}); "
                "omit zip.", path="customer.zip", rfc="XAXX010101000", zip="42501"),
        example(_422, "global_information_required", "A CFDI to {name} is a global invoice: add "
                "global_information, or give the buyer's name.", path="global_information",
                name="PUBLICO EN GENERAL"),
        example(_422, "unknown_country", "{country} is not a country of SAT's catalog (c_Pais).",
                path="customer.country", country="XYZ"),
        example(_422, "invalid_country", "A foreign customer resides outside Mexico; a customer resident in "
                "Mexico has an RFC.", path="customer.country"),
        # Payment, the global invoice, the credit note
        example(_422, "invalid_payment_method", "A credit note is settled when issued: its payment method is "
                "PUE.", path="payment_method"),
        example(_422, "invalid_payment_form", "Payment method PUE means paid when issued: give the form it "
                "was paid in, not 99 (use PPD for a document paid later).", path="payment_form"),
        example(_422, "unknown_payment_form", "{form} is not a payment form of SAT's catalog (c_FormaPago).",
                path="payment_form", form="16"),
        example(_422, "invalid_name", "A global invoice's customer is {name}; omit the name.",
                path="customer.name", name="PUBLICO EN GENERAL"),
        example(_422, "invalid_global_information", "A global invoice covers this year or the last ({last} "
                "or {this}).", path="global_information.year", last=2024, this=2025),
        example(_422, "invalid_global_line", "Each line of a global invoice is one sale to the general "
                "public: product_code 01010101, unit_code ACT, description Venta, quantity 1 and code the "
                "ticket's number.", path="items.0.product_code"),
        example(_422, "related_required", "A credit note names the invoices it credits: add their UUIDs or "
                "Sello document ids to related.", path="related"),
        example(_422, "duplicate_related", "This invoice is already in related.", path="related.1"),
        # Lines and taxes
        example(_422, "unknown_product_code", "{code} is not a product or service key of SAT's catalog "
                "(c_ClaveProdServ); 01010101 stands for none.", path="items.0.product_code", code="84111599"),
        example(_422, "unknown_unit_code", "{code} is not a unit key of SAT's catalog (c_ClaveUnidad).",
                path="items.0.unit_code", code="ZZZ"),
        example(_422, "invalid_amount", "Amounts in {currency} have at most {places} decimals.",
                path="items.0.discount", currency="MXN", places=2),
        example(_422, "unknown_tax_object", "{code} is not a key of SAT's catalog c_ObjetoImp.",
                path="items.0.tax_object", code="09"),
        example(_422, "unsupported_tax_object", "Sello issues tax_object 01 to 04; {code} is not supported.",
                path="items.0.tax_object", code="05"),
        example(_422, "taxes_required", "A line with tax_object 02 (subject to tax) carries its taxes; add "
                "them, or use 01.", path="items.0.taxes"),
        example(_422, "taxes_not_allowed", "A line with tax_object {code} carries no taxes; remove them, or "
                "use 02.", path="items.0.taxes", code="01"),
        example(_422, "invalid_tax", "Give a tax exactly one of rate, per_unit or exempt.",
                path="items.0.taxes.0"),
        example(_422, "tax_not_allowed", "ISR is only withheld on a CFDI: set withholding to true.",
                path="items.0.taxes.0.withholding"),
        example(_422, "invalid_tax_rate", "IVA is charged at 16, 8 or 0 percent, not {rate}; exempt sales "
                "set exempt to true.", path="items.0.taxes.0.rate", rate="15"),
        example(_422, "duplicate_tax", "A line charges {tax} once at most.", path="items.0.taxes.1",
                tax="VAT"),
        example(_422, "invalid_discount", "The discount is larger than quantity × unit price ({amount}).",
                path="items.0.discount", amount="100.00"),
        example(_422, "invalid_tax_base", "A tax needs an amount to apply to: this line is 0 after its "
                "discount. Remove its taxes and use tax_object 01.", path="items.0.taxes"),
        example(_422, "amount_too_large", "Amounts in a CFDI have at most 18 digits before the decimal "
                "point; this one in {currency} has more.", path="items.0", currency="MXN"),
        # A CFDI sealed elsewhere (external.py), and its certificate as the stamp route checks it
        example(_422, "cfdi_malformed", "The CFDI is not well-formed XML: {problem}", path="xml",
                problem="Opening and ending tag mismatch: b line 1 and a, line 1, column 11 (<string>, line 1)"),
        example(_422, "cfdi_doctype_not_allowed", "The CFDI has a document type or entity declaration (<!DOCTYPE or "
                "<!ENTITY); a CFDI has none, and none is accepted.", path="xml"),
        example(_422, "cfdi_not_cfdi40", "The XML is not a CFDI 4.0: its root must be cfdi:Comprobante (namespace "
                "{namespace}) with Version 4.0.", path="xml", namespace="http://www.sat.gob.mx/cfd/4"),
        example(_422, "cfdi_already_stamped", "The CFDI is already stamped (it carries a TimbreFiscalDigital); send "
                "it sealed, before stamping.", path="xml.Complemento"),
        example(_422, "cfdi_schema_invalid", "The CFDI does not match SAT's schema (cfdv40.xsd): {errors}",
                path="xml", errors="2: Element 'cfdi:Comprobante': The attribute 'Exportacion' is required but "
                "missing."),
        example(_422, "cfdi_type_not_supported", "TipoDeComprobante {type} is not stamped through Sello: send an "
                "invoice (I) or a credit note (E).", path="xml.TipoDeComprobante", type="N"),
        example(_422, "cfdi_date_out_of_range", "Fecha {fecha} (at the zip code of LugarExpedicion) is not within "
                "the last 72 hours: SAT stamps a CFDI within 72 hours of its date, and not before it.",
                path="xml.Fecha", fecha="2025-06-26T12:00:00"),
        example(_422, "cfdi_certificate_invalid", "Certificado is not a certificate: it must be the base64 of the "
                "CSD's certificate (.cer).", path="xml.Certificado"),
        example(_422, "cfdi_certificate_number_mismatch", "NoCertificado {stated} is not the number of the "
                "certificate in Certificado ({number}).", path="xml.NoCertificado", stated="30001000000500000002",
                number="30001000000500000001"),
        example(_422, "cfdi_seal_invalid", "Sello is not the signature of this CFDI's cadena original with the "
                "certificate in Certificado: the CFDI was changed after it was sealed, or sealed with another key.",
                path="xml.Sello"),
        example(_422, "certificate_is_fiel", "This is an e.firma (FIEL) certificate. The e.firma identifies "
                "you before SAT; invoices are sealed with a CSD (Certificado de Sello Digital), a different "
                "certificate that you request with your e.firma in SAT's Certifica application. Upload the "
                "CSD's .cer and .key files.", path="xml.Certificado", context="stamp"),
        example(_422, "certificate_not_from_sat", "The certificate's serial number is not a SAT certificate "
                "number (NoCertificado): upload a CSD issued by SAT.", path="xml.Certificado", context="stamp"),
        # A payment receipt (payments.py)
        example(_422, "invoice_not_payable", "Document {id} is not an invoice with payment method PPD: only "
                "those are paid with a payment receipt (an invoice paid when issued, PUE, is already paid).",
                path="payments.0.documents.0.document", id="doc_7m2k9x4v1c8b3n6q0w5e"),
        example(_422, "related_customer_mismatch", "Document {id} is an invoice to {rfc}: a payment receipt is "
                "issued to the customer of the invoices it pays.", path="payments.0.documents.0.document",
                id="doc_7m2k9x4v1c8b3n6q0w5e", rfc="XIA190128J61"),
        example(_422, "invalid_payment_date", "A payment cannot be received after its receipt is issued "
                "({fecha}).", path="payments.0.paid_at", fecha="2025-06-30T12:00:00"),
        example(_422, "invalid_previous_balance", "What was left to pay cannot be more than the invoice's "
                "total.", path="payments.0.documents.0.previous_balance"),
        example(_422, "invalid_tax_object", "ObjetoImpDR 02 goes with the invoice's taxes, and the other keys "
                "without them.", path="payments.0.documents.0.tax_object"),
        example(_422, "amount_exceeds_balance", "The payment is more than what is left to pay of the invoice "
                "({balance} {currency}).", path="payments.0.documents.0.amount", balance="580.00",
                currency="MXN"),
        example(_422, "equivalence_required", "The invoice is in {invoice} and the payment in {payment}: give "
                "the equivalence, the {invoice} that one {payment} paid.",
                path="payments.0.documents.0.equivalence", invoice="USD", payment="EUR"),
        example(_422, "invalid_equivalence", "The invoice and the payment are in the same currency: the "
                "equivalence is 1.", path="payments.0.documents.0.equivalence"),
        example(_422, "payment_amount_too_small", "The payment's amount is less than what it pays of its "
                "invoices ({minimum} {currency}).", path="payments.0.amount", minimum="580.00", currency="MXN"),
        # Cancellation (cancellation.py)
        example(_422, "substitute_required", "Motive 01 cancels a document that another one substitutes: give "
                "that one in substitute (its Sello document id or UUID).", path="substitute"),
        example(_422, "substitute_not_allowed", "Only motive 01 names a substitute; omit substitute or use motive "
                "01.", path="substitute"),
        example(_422, "substitute_not_related", "Document {id} does not substitute this one: issue the substitute "
                "with substitutes set to this document's id or UUID.", path="substitute",
                id="doc_8n4m2k7p1r5t9v3x6z0b"),
        # The CFDI as the PAC receives it
        example(_422, "document_too_large", "The CFDI would be about {size} bytes, over the {limit} Sello "
                "issues; split it into several documents.", path="items", size=1_140_706, limit=1_000_000,
                extra={"limit": 1_000_000, "size": 1_140_706}),
    )
