"""The unsigned comprobante: SRI XML built from a prepared document's content.

Element order follows the XSD of each version exactly (factura 1.1.0, notaCredito 1.1.0,
notaDebito 1.0.0, liquidacionCompra 1.1.0; the delivery guide and the withholding are built by
guide.py and withholding.py on the same helpers). Optional elements are written only when there is
a value. The root carries `id="comprobante"` and its version and no namespace declaration; the
output is compact UTF-8."""

from __future__ import annotations

from datetime import date

from lxml import etree

from sello.countries.ec.catalogs import AMBIENTES, CURRENCIES, DOCUMENT_TYPES, EMISSION_TYPE

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def sub(parent: etree._Element, tag: str, text: str | None = None,
        **attributes: str) -> etree._Element | None:
    """Appends <tag>text</tag>; nothing when the text is None (an optional element without value)."""
    if text is None and not attributes:
        return None
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def fecha(iso_date: str) -> str:
    """An ISO date as SRI writes it: dd/mm/yyyy."""
    return date.fromisoformat(iso_date).strftime("%d/%m/%Y")


def root_element(doc_type: str) -> etree._Element:
    kind = DOCUMENT_TYPES[doc_type]
    return etree.Element(kind.root, {"id": "comprobante", "version": kind.version})


def serialize(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration; no indentation."""
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def info_tributaria(content: dict, *, doc_code: str, number: str, access_key: str,
                    environment: str) -> etree._Element:
    """<infoTributaria> of any comprobante; `number` is "estab-ptoEmi-secuencial"."""
    issuer = content["issuer"]
    estab, pto_emi, secuencial = number.split("-")
    info = etree.Element("infoTributaria")
    sub(info, "ambiente", AMBIENTES[environment])
    sub(info, "tipoEmision", EMISSION_TYPE)
    sub(info, "razonSocial", issuer["legal_name"])
    sub(info, "nombreComercial", issuer.get("trade_name"))
    sub(info, "ruc", issuer["ruc"])
    sub(info, "claveAcceso", access_key)
    sub(info, "codDoc", doc_code)
    sub(info, "estab", estab)
    sub(info, "ptoEmi", pto_emi)
    sub(info, "secuencial", secuencial)
    sub(info, "dirMatriz", issuer["head_office_address"])
    sub(info, "agenteRetencion", issuer.get("agente_retencion"))
    sub(info, "contribuyenteRimpe", issuer.get("rimpe"))
    return info


def info_adicional(parent: etree._Element, entries: list[dict]) -> None:
    """<infoAdicional> with one <campoAdicional nombre=…> per entry; nothing when there are none."""
    if entries:
        info = etree.SubElement(parent, "infoAdicional")
        for entry in entries:
            sub(info, "campoAdicional", entry["value"], nombre=entry["name"])


def obligado(issuer: dict) -> str:
    return "SI" if issuer.get("obligado_contabilidad") else "NO"


def _line_taxes(detalle: etree._Element, line: dict) -> None:
    impuestos = etree.SubElement(detalle, "impuestos")
    for tax in line["taxes"]:
        impuesto = etree.SubElement(impuestos, "impuesto")
        sub(impuesto, "codigo", tax["tax_code"])
        sub(impuesto, "codigoPorcentaje", tax["rate_code"])
        sub(impuesto, "tarifa", tax["rate"])
        sub(impuesto, "baseImponible", tax["base"])
        sub(impuesto, "valor", tax["amount"])


def _line_details(detalle: etree._Element, line: dict) -> None:
    if line.get("details"):
        details = etree.SubElement(detalle, "detallesAdicionales")
        for entry in line["details"]:
            sub(details, "detAdicional", nombre=entry["name"], valor=entry["value"])


def _payments(info: etree._Element, payments: list[dict]) -> None:
    if payments:
        pagos = etree.SubElement(info, "pagos")
        for payment in payments:
            pago = etree.SubElement(pagos, "pago")
            sub(pago, "formaPago", payment["method"])
            sub(pago, "total", payment["amount"])
            sub(pago, "plazo", payment.get("term"))
            sub(pago, "unidadTiempo", payment.get("term_unit"))


def _reference(info: etree._Element, reference: dict) -> None:
    sub(info, "codDocModificado", reference["type"])
    sub(info, "numDocModificado", reference["number"])
    sub(info, "fechaEmisionDocSustento", fecha(reference["issue_date"]))


def _total_con_impuestos(info: etree._Element, groups: list[dict], *, rate: bool) -> None:
    """totalConImpuestos; the factura's totalImpuesto carries the tarifa, the nota de crédito's does not."""
    total_con_impuestos = etree.SubElement(info, "totalConImpuestos")
    for group in groups:
        total_impuesto = etree.SubElement(total_con_impuestos, "totalImpuesto")
        sub(total_impuesto, "codigo", group["tax_code"])
        sub(total_impuesto, "codigoPorcentaje", group["rate_code"])
        sub(total_impuesto, "baseImponible", group["base"])
        if rate:
            sub(total_impuesto, "tarifa", group["rate"])
        sub(total_impuesto, "valor", group["amount"])


def _detalles(root: etree._Element, lines: list[dict], *, codes: tuple[str, str], unit: bool) -> None:
    """detalles of a factura or nota de crédito: they name the two codes differently, and only the
    factura has unidadMedida."""
    detalles = etree.SubElement(root, "detalles")
    for line in lines:
        detalle = etree.SubElement(detalles, "detalle")
        sub(detalle, codes[0], line.get("code"))
        sub(detalle, codes[1], line.get("aux_code"))
        sub(detalle, "descripcion", line["description"])
        if unit:
            sub(detalle, "unidadMedida", line.get("unit"))
        sub(detalle, "cantidad", line["quantity"])
        sub(detalle, "precioUnitario", line["unit_price"])
        sub(detalle, "descuento", line["discount"])
        sub(detalle, "precioTotalSinImpuesto", line["subtotal"])
        _line_details(detalle, line)
        _line_taxes(detalle, line)


def _factura(content: dict, root: etree._Element, *, info_name: str = "infoFactura",
             party: str = "Comprador") -> None:
    """factura 1.1.0; with liquidacionCompra's names (`info_name`, and `party` "Proveedor" for the
    customer's fields), liquidacionCompra 1.1.0: the two have the same elements in the same order."""
    issuer, customer, totals = content["issuer"], content["customer"], content["totals"]
    info = etree.SubElement(root, info_name)
    sub(info, "fechaEmision", fecha(content["issue_date"]))
    sub(info, "dirEstablecimiento", issuer["establishment_address"])
    sub(info, "contribuyenteEspecial", issuer.get("contribuyente_especial"))
    sub(info, "obligadoContabilidad", obligado(issuer))
    sub(info, f"tipoIdentificacion{party}", customer["id_type_code"])
    sub(info, f"razonSocial{party}", customer["name"])
    sub(info, f"identificacion{party}", customer["tax_id"])
    sub(info, f"direccion{party}", customer.get("address"))
    sub(info, "totalSinImpuestos", totals["subtotal"])
    sub(info, "totalDescuento", totals["discount"])
    _total_con_impuestos(info, content["tax_totals"], rate=True)
    sub(info, "importeTotal", totals["total"])
    sub(info, "moneda", CURRENCIES[content["currency"]])
    _payments(info, content["payments"])

    _detalles(root, content["lines"], codes=("codigoPrincipal", "codigoAuxiliar"), unit=True)


def _note_info(root: etree._Element, name: str, content: dict) -> etree._Element:
    """infoNotaCredito / infoNotaDebito up to the modified document: the two share these fields."""
    issuer, customer = content["issuer"], content["customer"]
    info = etree.SubElement(root, name)
    sub(info, "fechaEmision", fecha(content["issue_date"]))
    sub(info, "dirEstablecimiento", issuer["establishment_address"])
    sub(info, "tipoIdentificacionComprador", customer["id_type_code"])
    sub(info, "razonSocialComprador", customer["name"])
    sub(info, "identificacionComprador", customer["tax_id"])
    sub(info, "contribuyenteEspecial", issuer.get("contribuyente_especial"))
    sub(info, "obligadoContabilidad", obligado(issuer))
    _reference(info, content["reference"])
    return info


def _liquidacion_compra(content: dict, root: etree._Element) -> None:
    _factura(content, root, info_name="infoLiquidacionCompra", party="Proveedor")


def _nota_credito(content: dict, root: etree._Element) -> None:
    totals = content["totals"]
    info = _note_info(root, "infoNotaCredito", content)
    sub(info, "totalSinImpuestos", totals["subtotal"])
    sub(info, "valorModificacion", totals["total"])
    sub(info, "moneda", CURRENCIES[content["currency"]])
    _total_con_impuestos(info, content["tax_totals"], rate=False)
    sub(info, "motivo", content["reference"]["reason"])

    _detalles(root, content["lines"], codes=("codigoInterno", "codigoAdicional"), unit=False)


def _nota_debito(content: dict, root: etree._Element) -> None:
    totals = content["totals"]
    info = _note_info(root, "infoNotaDebito", content)
    sub(info, "totalSinImpuestos", totals["subtotal"])
    impuestos = etree.SubElement(info, "impuestos")
    for group in content["tax_totals"]:
        impuesto = etree.SubElement(impuestos, "impuesto")
        sub(impuesto, "codigo", group["tax_code"])
        sub(impuesto, "codigoPorcentaje", group["rate_code"])
        sub(impuesto, "tarifa", group["rate"])
        sub(impuesto, "baseImponible", group["base"])
        sub(impuesto, "valor", group["amount"])
    sub(info, "valorTotal", totals["total"])
    _payments(info, content["payments"])

    motivos = etree.SubElement(root, "motivos")
    for line in content["lines"]:
        motivo = etree.SubElement(motivos, "motivo")
        sub(motivo, "razon", line["description"])
        sub(motivo, "valor", line["subtotal"])


def _body(doc_type: str):
    """The builder of what the type's comprobante holds between infoTributaria and infoAdicional."""
    if doc_type == "delivery_guide":
        from sello.countries.ec import guide
        return guide.body
    if doc_type == "withholding":
        from sello.countries.ec import withholding
        return withholding.body
    return {"invoice": _factura, "credit_note": _nota_credito, "debit_note": _nota_debito,
            "purchase_settlement": _liquidacion_compra}[doc_type]


def build(content: dict, *, number: str, access_key: str, environment: str) -> bytes:
    """The unsigned comprobante of a prepared document's content, numbered."""
    doc_type = content["type"]
    root = root_element(doc_type)
    root.append(info_tributaria(content, doc_code=DOCUMENT_TYPES[doc_type].code, number=number,
                                access_key=access_key, environment=environment))
    _body(doc_type)(content, root)
    info_adicional(root, content["additional_info"])
    return serialize(root)
