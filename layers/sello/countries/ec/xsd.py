"""Validation against SRI's XSD files, found in settings.sri_xsd_dir (file names as SRI publishes
them, e.g. factura_V1.1.0.xsd, with xmldsig-core-schema.xsd beside them). Each schema is compiled
once per process, on first use; without a folder nothing is checked.

SRI's published schemas are not quite what SRI's service accepts: their contribuyenteRimpe type has
a single pattern, the first legend of the ficha técnica's Anexo 22 ("CONTRIBUYENTE RÉGIMEN RIMPE"),
while SRI authorizes the second ("CONTRIBUYENTE NEGOCIO POPULAR - RÉGIMEN RIMPE") just the same.
`compile_schema` therefore compiles each schema with that type allowing exactly the legends of
issuer_flags.RIMPE_LEGENDS: this check and the local SRI simulator (local/sri) both compile their
schemas with it, so they accept the same documents."""

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
XS = "http://www.w3.org/2001/XMLSchema"
RIMPE_TYPE = "contribuyenteRimpe"


def schema_path(folder: str, root_name: str, version: str) -> Path:
    return Path(folder) / f"{SCHEMA_FILES[root_name]}_V{version}.xsd"


def compile_schema(path: Path | str):
    """SRI's schema at `path` as an lxml XMLSchema whose contribuyenteRimpe type is the enumeration
    of RIMPE_LEGENDS (its own facets replaced); any other type is as published. Its imports (the
    xmldsig schema) are found beside it. A compiled schema is not safe to use from several threads
    at once."""
    from lxml import etree

    document = etree.parse(str(path))
    for restriction in document.iterfind(f"{{{XS}}}simpleType[@name='{RIMPE_TYPE}']/{{{XS}}}restriction"):
        for facet in list(restriction):
            restriction.remove(facet)
        for legend in RIMPE_LEGENDS.values():
            etree.SubElement(restriction, f"{{{XS}}}enumeration", value=legend)
    return etree.XMLSchema(document)


_schema = cache(compile_schema)


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
    return [(error.path, error.message) for error in schema.error_log]
