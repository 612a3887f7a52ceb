"""Validation against SRI's XSD files, found in settings.sri_xsd_dir (file names as SRI publishes
them, e.g. factura_V1.1.0.xsd, with xmldsig-core-schema.xsd beside them). Each schema is compiled
once per process, on first use; without a folder nothing is checked."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sello.countries.ec.issuer_flags import RIMPE_LEGENDS
from sello.settings import get_settings

# Root element -> file name prefix.
SCHEMA_FILES = {
    "factura": "factura",
    "notaCredito": "NotaCredito",
    "notaDebito": "NotaDebito",
    "guiaRemision": "GuiaRemision",
    "comprobanteRetencion": "ComprobanteRetencion",
    "liquidacionCompra": "LiquidacionCompra",
}


def schema_path(folder: str, root_name: str, version: str) -> Path:
    return Path(folder) / f"{SCHEMA_FILES[root_name]}_V{version}.xsd"


@cache
def _schema(path: Path):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(path)))


def _published_legend(error, document) -> bool:
    """SRI's published schemas accept only the first RIMPE legend of Anexo 22; the second
    ("NEGOCIO POPULAR") is just as valid and SRI's service takes it."""
    if not error.path.endswith("/contribuyenteRimpe"):
        return False
    found = document.xpath(error.path)
    return bool(found) and found[0].text in RIMPE_LEGENDS.values()


def validate(xml: bytes, root_name: str, version: str) -> list[tuple[str, str]]:
    """Schema violations of the document as (element path, message), in document order; empty when it
    is valid or when no schema folder is configured. Raises FileNotFoundError when the folder lacks the
    schema, and lxml's XMLSyntaxError when the bytes are not well-formed XML."""
    folder = get_settings().sri_xsd_dir
    if not folder:
        return []
    from lxml import etree

    path = schema_path(folder, root_name, version)
    if not path.is_file():
        raise FileNotFoundError(f"No SRI schema {path.name} in {folder}")
    schema = _schema(path)
    document = etree.fromstring(xml)
    if schema.validate(document):
        return []
    return [(error.path, error.message) for error in schema.error_log
            if not _published_legend(error, document)]
