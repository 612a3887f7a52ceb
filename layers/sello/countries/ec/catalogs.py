"""SRI catalogs (ficha técnica, offline scheme): the codes the neutral request's names map to.

Every table maps the API's neutral name to the code SRI prints in the XML."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

TIME_ZONE = "America/Guayaquil"


@dataclass(frozen=True)
class DocumentKind:
    code: str  # codDoc (Tabla 3)
    root: str  # root element of the comprobante
    version: str  # XML version emitted


# Neutral document type -> what is emitted for it.
DOCUMENT_TYPES = {
    "invoice": DocumentKind("01", "factura", "1.1.0"),
    "credit_note": DocumentKind("04", "notaCredito", "1.1.0"),
    "debit_note": DocumentKind("05", "notaDebito", "1.0.0"),
    "delivery_guide": DocumentKind("06", "guiaRemision", "1.1.0"),
    "withholding": DocumentKind("07", "comprobanteRetencion", "2.0.0"),
    "purchase_settlement": DocumentKind("03", "liquidacionCompra", "1.1.0"),
}
# Types a credit or debit note (codDocModificado) or a guide may refer to, besides the ones above.
REFERENCE_TYPES = {kind_name: kind.code for kind_name, kind in DOCUMENT_TYPES.items()} | {
    "sales_note": "02",  # nota de venta
}

# SRI refuses a comprobante over 320 KB (recepción error 26, ficha técnica §7.5), signed XML as sent.
# Counted as 320,000 bytes, the smaller of the two readings of "KB", so that no document Sello numbers
# is refused for its size whichever one SRI applies.
MAX_DOCUMENT_BYTES = 320_000

# Environment of the API key -> SRI ambiente (Tabla 4).
AMBIENTES = {"test": "1", "live": "2"}
# tipoEmision (Tabla 2): the offline scheme only has normal emission.
EMISSION_TYPE = "1"

# Identification of the buyer / receiver (Tabla 6).
ID_TYPES = {
    "tax_id": "04",  # RUC
    "national_id": "05",  # cédula
    "passport": "06",
    "final_consumer": "07",
    "foreign_id": "08",
}
FINAL_CONSUMER_ID = "9999999999999"
FINAL_CONSUMER_NAME = "CONSUMIDOR FINAL"
# A factura to a consumidor final may not exceed this total (ficha técnica §9.10).
FINAL_CONSUMER_LIMIT = Decimal(50)

# Taxes (Tabla 16): neutral type -> codigo.
TAX_TYPES = {"vat": "2", "ice": "3", "irbpnr": "5"}

# IVA codigoPorcentaje (Tabla 17) -> tarifa in percent.
VAT_CODES = {
    "0": Decimal(0),
    "2": Decimal(12),
    "3": Decimal(14),
    "4": Decimal(15),
    "5": Decimal(5),
    "6": Decimal(0),  # no objeto de impuesto
    "7": Decimal(0),  # exento de IVA
    "8": Decimal(8),  # IVA diferenciado (tourism)
    "10": Decimal(13),
}
# A VAT rate given without a code -> its code. 0 % means "tarifa 0"; no objeto and exento are only
# reachable by code, since they are not rates.
VAT_RATES = {
    Decimal(0): "0",
    Decimal(5): "5",
    Decimal(8): "8",
    Decimal(12): "2",
    Decimal(13): "10",
    Decimal(14): "3",
    Decimal(15): "4",
}

# Payment methods, formaPago (Tabla 24).
PAYMENT_METHODS = {
    "cash": "01",  # sin utilización del sistema financiero
    "compensation": "15",
    "debit_card": "16",
    "electronic_money": "17",
    "prepaid_card": "18",
    "credit_card": "19",
    "other_financial": "20",  # otros con utilización del sistema financiero
    "endorsement": "21",
}
PAYMENT_CODES = frozenset(PAYMENT_METHODS.values())
DEFAULT_PAYMENT_METHOD = "cash"

# Withholding taxes (Tabla 19): neutral name -> codigo.
WITHHOLDING_TAXES = {"income": "1", "vat": "2", "isd": "6"}

CURRENCIES = {"USD": "DOLAR"}

# infoAdicional holds at most this many campoAdicional entries.
MAX_ADDITIONAL_INFO = 15
