"""RIDE (Representación Impresa del Documento Electrónico): the printable PDF of an authorized SRI
comprobante, read from the archived authorization record

    <autorizacion><estado>AUTORIZADO</estado><numeroAutorizacion/><fechaAutorizacion/><ambiente/>
      <comprobante><![CDATA[<factura id="comprobante" ...>...</factura>]]></comprobante>...</autorizacion>

for facturas, notas de crédito, notas de débito, guías de remisión, comprobantes de retención
(2.0.0, and the older 1.0.0 layout) and liquidaciones de compra. Codes are printed with their
meaning (SRI ficha técnica tables); amounts, quantities, rates, dates and payment terms in the
issuer's locale (sello.formatting, Spanish as written in Ecuador unless told otherwise); the issuer's
logo, when given, top left.

Labels are written in Spanish and translated (gettext domain `ride`, sello.i18n) to the issuer's
language; what SRI prescribes verbatim stays Spanish in every language: the document's name, the
identification box (R.U.C., número de autorización, fecha y hora de autorización, ambiente, emisión,
clave de acceso), the legends about the issuer (obligado a llevar contabilidad, contribuyente
especial, agente de retención, RIMPE) and the meanings of SRI's codes.

Importing this module loads reportlab (through ride_layout): only the rendering task imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from sello.countries.ec.ride_layout import Column, Columns, Fields, Masthead, Table, render_pdf
from sello.formatting import Formats, formats
from sello.i18n import Translator, language_of, translator
from sello.pdf_logo import logo_image

COUNTRY = "EC"  # a bare language ("es") is completed with this country ("es_EC") where CLDR has it
_LANGUAGE: ContextVar[Translator] = ContextVar("ride_language", default=translator("es", "EC", "ride"))


def _(label: str) -> str:
    """A label in the language of the RIDE being rendered."""
    return _LANGUAGE.get().gettext(label)


def N_(label: str) -> str:  # noqa: N802 (gettext's name for "translated where it is used")
    return label


def _tr(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return tuple(replace(c, title=_(c.title)) if c.title else c for c in columns)

# codDoc (Tabla 3) and the other document types that appear as documento modificado / sustento.
DOCUMENT_TYPES = {
    "01": "FACTURA", "02": "NOTA DE VENTA", "03": "LIQUIDACIÓN DE COMPRA", "04": "NOTA DE CRÉDITO",
    "05": "NOTA DE DÉBITO", "06": "GUÍA DE REMISIÓN", "07": "COMPROBANTE DE RETENCIÓN",
    "41": "COMPROBANTE DE VENTA EMITIDO POR REEMBOLSO",
}
ID_TYPES = {  # tipoIdentificacion (Tabla 6)
    "04": "RUC", "05": "CÉDULA", "06": "PASAPORTE", "07": "CONSUMIDOR FINAL", "08": "IDENTIFICACIÓN DEL EXTERIOR",
}
PAYMENT_METHODS = {  # formaPago (Tabla 24)
    "01": "SIN UTILIZACIÓN DEL SISTEMA FINANCIERO", "15": "COMPENSACIÓN DE DEUDAS", "16": "TARJETA DE DÉBITO",
    "17": "DINERO ELECTRÓNICO", "18": "TARJETA PREPAGO", "19": "TARJETA DE CRÉDITO",
    "20": "OTROS CON UTILIZACIÓN DEL SISTEMA FINANCIERO", "21": "ENDOSO DE TÍTULOS",
}
# IVA codigoPorcentaje (Tabla 17) -> how the rate is named on the RIDE, in the order subtotals are listed.
VAT_RATES = {
    "4": "15%", "3": "14%", "10": "13%", "2": "12%", "8": "TARIFA ESPECIAL", "5": "5%", "0": "0%",
    "6": "NO OBJETO DE IVA", "7": "EXENTO DE IVA",
}
VAT_UNTAXED = {"0", "6", "7"}  # rates that never carry IVA: a subtotal but no IVA line
TAX_IVA, TAX_ICE, TAX_IRBPNR = "2", "3", "5"  # codigo impuesto (Tabla 16)
WITHHELD_TAXES = {"1": "RENTA", "2": "IVA", "6": "ISD"}  # retención codigo (Tabla 19)
ENVIRONMENTS = {"1": "PRUEBAS", "2": "PRODUCCIÓN", "PRUEBAS": "PRUEBAS", "PRODUCCION": "PRODUCCIÓN",
                "PRODUCCIÓN": "PRODUCCIÓN"}
EMISSION_TYPES = {"1": "NORMAL"}
# The title of a liquidación de compra as SRI names the document (Tabla 3).
PURCHASE_SETTLEMENT_TITLE = "LIQUIDACIÓN DE COMPRA DE BIENES Y PRESTACIÓN DE SERVICIOS"

_ITEM_COLUMNS = (
    Column(N_("Cod. Principal"), 60, lines=2), Column(N_("Cod. Auxiliar"), 60, lines=2),
    Column(N_("Cantidad"), 44, "r"), Column(N_("Descripción"), 206, lines=6),
    Column(N_("Precio Unitario"), 56, "r"), Column(N_("Descuento"), 50, "r"), Column(N_("Precio Total"), 60, "r"),
)
_TOTAL_COLUMNS = (Column("", 64, bold=True, lines=2), Column("", 36, "r"))
_INFO_COLUMNS = (Column("", 32, bold=True, lines=2), Column("", 68, lines=8))
_PAYMENT_COLUMNS = (Column(N_("Forma de pago"), 56, lines=2), Column(N_("Valor"), 20, "r"), Column(N_("Plazo"), 24))


def render(authorized_record: bytes, *, logo: bytes | None = None, language: str = "es") -> bytes:
    """The RIDE PDF of an authorized comprobante, with the issuer's `logo` (PNG or JPEG bytes) when
    given, its labels, numbers and dates in `language` (default Spanish as written in Ecuador). Raises
    ValueError when the record is not well-formed, is not AUTORIZADO, or carries no comprobante of a
    supported type."""
    token = _LANGUAGE.set(translator(language, "EC", "ride"))
    try:
        return _render(authorized_record, logo, language_of(language))
    finally:
        _LANGUAGE.reset(token)


def _render(authorized_record: bytes, logo: bytes | None, locale: str) -> bytes:
    record, doc = _read(authorized_record)
    builder = _BUILDERS.get(doc.tag)
    if builder is None:
        raise ValueError(f"The comprobante <{doc.tag}> has no RIDE layout; supported: {', '.join(_BUILDERS)}.")
    tributaria = doc.find("infoTributaria")
    access_key = _text(tributaria, "claveAcceso")
    if not access_key:
        raise ValueError("The comprobante has no infoTributaria/claveAcceso.")
    fmt = formats(locale, COUNTRY)
    title, info, blocks = builder(doc, fmt)
    number = "-".join(_text(tributaria, tag) for tag in ("estab", "ptoEmi", "secuencial"))
    environment = _text(record, "ambiente").upper() or _text(tributaria, "ambiente")
    masthead = Masthead(
        name=_text(tributaria, "razonSocial"),
        trade_name=_text(tributaria, "nombreComercial"),
        details=(
            (_("Dirección Matriz:"), _text(tributaria, "dirMatriz")),
            (_("Dirección Sucursal:"), _text(info, "dirEstablecimiento")),
            ("Contribuyente Especial Nro.:", _text(info, "contribuyenteEspecial")),
            ("OBLIGADO A LLEVAR CONTABILIDAD:", _text(info, "obligadoContabilidad")),
            ("Agente de Retención Resolución No.:", _text(tributaria, "agenteRetencion")),
        ),
        legends=tuple(v for v in (_text(tributaria, "contribuyenteRimpe"), _text(info, "rise")) if v),
        tax_id=_text(tributaria, "ruc"),
        title=title,
        number=number,
        rows=(
            ("FECHA Y HORA DE AUTORIZACIÓN:", _timestamp(_text(record, "fechaAutorizacion"), fmt)),
            ("AMBIENTE:", ENVIRONMENTS.get(environment, environment)),
            ("EMISIÓN:", EMISSION_TYPES.get(_text(tributaria, "tipoEmision"), _text(tributaria, "tipoEmision"))),
        ),
        authorization=_text(record, "numeroAutorizacion") or access_key,
        access_key=access_key,
        logo=logo_image(logo),
    )
    return render_pdf(
        masthead, blocks,
        running_head=f"{title} No. {number}  ·  R.U.C. {masthead.tax_id}  ·  {masthead.name}",
        meta={"title": f"{title} {number}", "author": masthead.name, "subject": f"Clave de acceso {access_key}"},
        page_label=_("Página {number} de {total}"),
    )


# -- reading ----------------------------------------------------------------------------------------

def _read(data: bytes) -> tuple[etree._Element, etree._Element]:
    """(the <autorizacion> record, the comprobante's root element)."""
    if not data or not data.strip():
        raise ValueError("The authorization record is empty.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        record = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"The authorization record is not well-formed XML: {exc}") from None
    if etree.QName(record).localname != "autorizacion":
        raise ValueError(f"Expected an <autorizacion> record, got <{etree.QName(record).localname}>.")
    status = _text(record, "estado")
    if status != "AUTORIZADO":
        raise ValueError(f"Only an AUTORIZADO document has a RIDE; this record's estado is {status or 'missing'!r}.")
    source = (record.findtext("comprobante") or "").strip()
    if not source:
        raise ValueError("The authorization record has no comprobante.")
    # The comprobante is text: parse its UTF-8 bytes whatever encoding its own declaration names.
    parser = etree.XMLParser(encoding="utf-8", resolve_entities=False, no_network=True)
    try:
        doc = etree.fromstring(source.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"The comprobante in the authorization record is not well-formed XML: {exc}") from None
    return record, doc


def _text(element: etree._Element | None, path: str) -> str:
    """The element's text at `path` with whitespace runs collapsed, or ""."""
    if element is None:
        return ""
    value = element.findtext(path)
    return " ".join(value.split()) if value else ""


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _amount(value: str | Decimal, fmt: Formats) -> str:
    """An amount or quantity as the locale writes it, every decimal kept ("" stays "")."""
    return fmt.amount(value) if value != "" else ""


def _percent(text: str, fmt: Formats) -> str:
    return fmt.percent(text) if text else ""


def _date(text: str, fmt: Formats) -> str:
    """SRI's dd/mm/aaaa in the locale's order; anything else as it is."""
    try:
        return fmt.date(datetime.strptime(text, "%d/%m/%Y"))
    except ValueError:
        return text


def _timestamp(text: str, fmt: Formats) -> str:
    """SRI's xs:dateTime as the locale's date and the time on 24 hours (as SRI stated it, in its own
    offset)."""
    try:
        return fmt.datetime(datetime.fromisoformat(text))
    except ValueError:
        return text


def _coded(table: dict[str, str], code: str) -> str:
    return f"{code} - {table[code]}" if code in table else code


def _doc_number(text: str) -> str:
    """001001000000042 -> 001-001-000000042 (numbers already written with dashes stay as they are)."""
    return f"{text[:3]}-{text[3:6]}-{text[6:]}" if len(text) == 15 and text.isdigit() else text


def _document(code: str, number: str) -> str:
    return " ".join(v for v in (DOCUMENT_TYPES.get(code, code), _doc_number(number)) if v)


def _identification(number: str, id_type: str) -> str:
    return f"{number} ({ID_TYPES[id_type]})" if id_type in ID_TYPES and number else number


def _details(detail: etree._Element) -> str:
    """The description with its detallesAdicionales, one per line."""
    extra = [f"{d.get('nombre', '')}: {' '.join(d.get('valor', '').split())}"
             for d in detail.iterfind("detallesAdicionales/detAdicional")]
    return "\n".join([_text(detail, "descripcion"), *extra])


# -- common blocks ----------------------------------------------------------------------------------

def _buyer(info: etree._Element, fmt: Formats, *extra: tuple[str, str],
           party: str = "Comprador") -> list[list[tuple[str, str]]]:
    """The buyer's name and identification (or, with `party` "Proveedor", the supplier's, its labels
    saying so) and the issue date."""
    supplier = party == "Proveedor"
    return [
        [(_("Razón Social / Nombres y Apellidos (Proveedor):") if supplier
          else _("Razón Social / Nombres y Apellidos:"), _text(info, f"razonSocial{party}")),
         (_("Identificación (Proveedor):") if supplier else _("Identificación:"),
          _identification(_text(info, f"identificacion{party}"), _text(info, f"tipoIdentificacion{party}")))],
        [(_("Fecha Emisión:"), _date(_text(info, "fechaEmision"), fmt)), *extra],
    ]


def _modified_document(info: etree._Element, fmt: Formats) -> list[list[tuple[str, str]]]:
    return [
        [],
        [(_("Comprobante que se modifica:"), _document(_text(info, "codDocModificado"), _text(info, "numDocModificado"))),
         (_("Fecha Emisión (Comprobante a modificar):"), _date(_text(info, "fechaEmisionDocSustento"), fmt))],
    ]


def _additional_info(doc: etree._Element) -> list[Table]:
    rows = [[field.get("nombre", ""), " ".join((field.text or "").split())]
            for field in doc.iterfind("infoAdicional/campoAdicional")]
    return [Table(_INFO_COLUMNS, rows, title=_("INFORMACIÓN ADICIONAL"), header=False)] if rows else []


def _payments(info: etree._Element, fmt: Formats) -> list[Table]:
    rows = []
    for payment in info.iterfind("pagos/pago"):
        term, unit = _text(payment, "plazo"), _text(payment, "unidadTiempo")
        rows.append([_coded(PAYMENT_METHODS, _text(payment, "formaPago")),
                     _amount(_text(payment, "total"), fmt), fmt.duration(term, unit) if term else unit])
    return [Table(_tr(_PAYMENT_COLUMNS), rows, keep_together=True)] if rows else []


def _totals(rows: list[list[str]]) -> Table:
    return Table(_TOTAL_COLUMNS, rows, header=False, keep_together=True)


def _tax_rows(taxes: list[etree._Element], fmt: Formats) -> tuple[list[list[str]], list[list[str]]]:
    """(subtotal rows by IVA rate, tax rows: ICE, IVA by rate, IRBPNR) from totalImpuesto/impuesto elements."""
    bases: dict[str, Decimal] = {}
    vat: dict[str, Decimal] = {}
    rate_names: dict[str, str] = {}
    other = {TAX_ICE: Decimal(0), TAX_IRBPNR: Decimal(0)}
    present = set()
    for tax in taxes:
        code, rate = _text(tax, "codigo"), _text(tax, "codigoPorcentaje")
        value = _decimal(_text(tax, "valor"))
        if code == TAX_IVA:
            tarifa = _percent(_text(tax, "tarifa"), fmt)
            name = VAT_RATES.get(rate) or tarifa or f"CÓDIGO {rate}"
            if rate == "8" and tarifa:
                name = f"{name} {tarifa}"
            rate_names[rate] = name
            bases[rate] = bases.get(rate, Decimal(0)) + _decimal(_text(tax, "baseImponible"))
            vat[rate] = vat.get(rate, Decimal(0)) + value
        elif code in other:
            other[code] += value
            present.add(code)
    order = list(VAT_RATES)
    rates = sorted(bases, key=lambda r: (order.index(r) if r in order else len(order), r))
    subtotals = [[_("SUBTOTAL {rate}").format(rate=rate_names[r]), _amount(bases[r], fmt)] for r in rates]
    tax_rows = [["ICE", _amount(other[TAX_ICE], fmt)]] if TAX_ICE in present else []
    tax_rows += [[f"IVA {rate_names[r]}", _amount(vat[r], fmt)]
                 for r in rates if r not in VAT_UNTAXED or vat[r]]
    if TAX_IRBPNR in present:
        tax_rows.append(["IRBPNR", _amount(other[TAX_IRBPNR], fmt)])
    return subtotals, tax_rows


def _items(doc: etree._Element, main_code: str, aux_code: str, fmt: Formats) -> Table:
    rows = [[_text(d, main_code), _text(d, aux_code), _amount(_text(d, "cantidad"), fmt), _details(d),
             _amount(_text(d, "precioUnitario"), fmt), _amount(_text(d, "descuento"), fmt),
             _amount(_text(d, "precioTotalSinImpuesto"), fmt)]
            for d in doc.iterfind("detalles/detalle")]
    return Table(_tr(_ITEM_COLUMNS), rows)


# -- per document type: (title, its info* element, blocks) --------------------------------------------

def _info(doc: etree._Element, name: str) -> etree._Element:
    """The comprobante's info* element (infoFactura, …), which every type must have."""
    info = doc.find(name)
    if info is None:
        raise ValueError(f"The {doc.tag} has no {name}.")
    return info


def _invoice(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    info = _info(doc, "infoFactura")
    buyer = _buyer(info, fmt, (_("Guía de Remisión:"), _text(info, "guiaRemision")))
    buyer.append([(_("Dirección:"), _text(info, "direccionComprador"))])
    return "FACTURA", info, _sale(doc, info, buyer, fmt)


def _purchase_settlement(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    """A liquidación de compra: laid out as a factura, with the supplier where the buyer would be."""
    info = _info(doc, "infoLiquidacionCompra")
    supplier = _buyer(info, fmt, party="Proveedor")
    supplier.append([(_("Dirección (Proveedor):"), _text(info, "direccionProveedor"))])
    return PURCHASE_SETTLEMENT_TITLE, info, _sale(doc, info, supplier, fmt)


def _sale(doc: etree._Element, info: etree._Element, party: list, fmt: Formats) -> list:
    """The blocks of a factura or liquidación de compra under the masthead: the party, the lines,
    then additional information and payments beside the totals."""
    subtotals, taxes = _tax_rows(info.findall("totalConImpuestos/totalImpuesto"), fmt)
    totals = [*subtotals,
              [_("SUBTOTAL SIN IMPUESTOS"), _amount(_text(info, "totalSinImpuestos"), fmt)],
              [_("TOTAL DESCUENTO"), _amount(_text(info, "totalDescuento"), fmt)],
              *taxes]
    if info.find("propina") is not None:
        totals.append([_("PROPINA"), _amount(_text(info, "propina"), fmt)])
    totals.append([_("VALOR TOTAL"), _amount(_text(info, "importeTotal"), fmt)])
    return [
        Fields(party),
        _items(doc, "codigoPrincipal", "codigoAuxiliar", fmt),
        Columns([*_additional_info(doc), *_payments(info, fmt)], [_totals(totals)]),
    ]


def _credit_note(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    info = _info(doc, "infoNotaCredito")
    subtotals, taxes = _tax_rows(info.findall("totalConImpuestos/totalImpuesto"), fmt)
    discount = sum((_decimal(_text(d, "descuento")) for d in doc.iterfind("detalles/detalle")), Decimal(0))
    totals = [*subtotals,
              [_("SUBTOTAL SIN IMPUESTOS"), _amount(_text(info, "totalSinImpuestos"), fmt)],
              [_("TOTAL DESCUENTO"), _amount(discount, fmt)],
              *taxes,
              [_("VALOR TOTAL"), _amount(_text(info, "valorModificacion"), fmt)]]
    header = [*_buyer(info, fmt), *_modified_document(info, fmt),
              [(_("Razón de Modificación:"), _text(info, "motivo"))]]
    return "NOTA DE CRÉDITO", info, [
        Fields(header),
        _items(doc, "codigoInterno", "codigoAdicional", fmt),
        Columns(_additional_info(doc), [_totals(totals)]),
    ]


def _debit_note(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    info = _info(doc, "infoNotaDebito")
    subtotals, taxes = _tax_rows(info.findall("impuestos/impuesto"), fmt)
    totals = [*subtotals,
              [_("SUBTOTAL SIN IMPUESTOS"), _amount(_text(info, "totalSinImpuestos"), fmt)],
              *taxes,
              [_("VALOR TOTAL"), _amount(_text(info, "valorTotal"), fmt)]]
    reasons = [[_text(m, "razon"), _amount(_text(m, "valor"), fmt)] for m in doc.iterfind("motivos/motivo")]
    columns = (Column(_("Razón de la modificación"), 75, lines=6), Column(_("Valor de la modificación"), 25, "r"))
    return "NOTA DE DÉBITO", info, [
        Fields([*_buyer(info, fmt), *_modified_document(info, fmt)]),
        Table(columns, reasons),
        Columns([*_additional_info(doc), *_payments(info, fmt)], [_totals(totals)]),
    ]


def _delivery_guide(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    info = _info(doc, "infoGuiaRemision")
    blocks: list = [Fields([
        [(_("Identificación (Transportista):"), _identification(_text(info, "rucTransportista"),
                                                                _text(info, "tipoIdentificacionTransportista"))),
         (_("Razón Social / Nombres y Apellidos:"), _text(info, "razonSocialTransportista"))],
        [(_("Placa:"), _text(info, "placa")), (_("Punto de Partida:"), _text(info, "dirPartida"))],
        [(_("Fecha Inicio Transporte:"), _date(_text(info, "fechaIniTransporte"), fmt)),
         (_("Fecha Fin Transporte:"), _date(_text(info, "fechaFinTransporte"), fmt))],
    ])]
    columns = (Column(_("Cantidad"), 14, "r"), Column(_("Descripción"), 50, lines=6),
               Column(_("Código Principal"), 18, lines=2), Column(_("Código Auxiliar"), 18, lines=2))
    destinations = doc.findall("destinatarios/destinatario")
    for index, dest in enumerate(destinations, 1):
        blocks.append(Fields([
            [(_("Comprobante de Venta:"), _document(_text(dest, "codDocSustento"), _text(dest, "numDocSustento"))),
             (_("Fecha de Emisión:"), _date(_text(dest, "fechaEmisionDocSustento"), fmt))],
            [(_("Número de Autorización:"), _text(dest, "numAutDocSustento"))],
            [(_("Motivo Traslado:"), _text(dest, "motivoTraslado"))],
            [(_("Destino (Punto de llegada):"), _text(dest, "dirDestinatario"))],
            [(_("Identificación (Destinatario):"), _text(dest, "identificacionDestinatario")),
             (_("Razón Social / Nombres y Apellidos:"), _text(dest, "razonSocialDestinatario"))],
            [(_("Documento Aduanero:"), _text(dest, "docAduaneroUnico")),
             (_("Código Establecimiento Destino:"), _text(dest, "codEstabDestino"))],
            [(_("Ruta:"), _text(dest, "ruta"))],
        ], title=_("DESTINATARIO {index} DE {total}").format(index=index, total=len(destinations))))
        rows = [[_amount(_text(d, "cantidad"), fmt), _details(d), _text(d, "codigoInterno"),
                 _text(d, "codigoAdicional")] for d in dest.iterfind("detalles/detalle")]
        blocks.append(Table(columns, rows))
    blocks.append(Columns(_additional_info(doc), []))
    return "GUÍA DE REMISIÓN", info, blocks


def _withholding(doc: etree._Element, fmt: Formats) -> tuple[str, etree._Element, list]:
    info = _info(doc, "infoCompRetencion")
    header = [
        [(_("Razón Social / Nombres y Apellidos:"), _text(info, "razonSocialSujetoRetenido")),
         (_("Identificación:"), _identification(_text(info, "identificacionSujetoRetenido"),
                                                _text(info, "tipoIdentificacionSujetoRetenido")))],
        [(_("Fecha Emisión:"), _date(_text(info, "fechaEmision"), fmt)),
         (_("Período Fiscal:"), _text(info, "periodoFiscal"))],
        [(_("Parte Relacionada:"), _text(info, "parteRel")), ("", "")],
    ]
    # Version 2.0.0 groups retenciones by support document; 1.0.0 names the document on each impuesto.
    supports: list[tuple[list, list[etree._Element]]] = []
    for support in doc.iterfind("docsSustento/docSustento"):
        payments = "; ".join(
            f"{_coded(PAYMENT_METHODS, _text(p, 'formaPago'))}: {_amount(_text(p, 'total'), fmt)}"
            for p in support.iterfind("pagos/pago"))
        fields = [
            [(_("Comprobante:"), _document(_text(support, "codDocSustento"), _text(support, "numDocSustento"))),
             (_("Fecha Emisión:"), _date(_text(support, "fechaEmisionDocSustento"), fmt))],
            [(_("Número de Autorización:"), _text(support, "numAutDocSustento"))],
            [(_("Sustento Tributario:"), _text(support, "codSustento")),
             (_("Total sin Impuestos:"), _amount(_text(support, "totalSinImpuestos"), fmt)),
             (_("Importe Total:"), _amount(_text(support, "importeTotal"), fmt))],
            [(_("Formas de Pago:"), payments)],
        ]
        supports.append((fields, support.findall("retenciones/retencion")))
    legacy: dict[tuple[str, str, str], list[etree._Element]] = {}
    for tax in doc.iterfind("impuestos/impuesto"):
        key = (_text(tax, "codDocSustento"), _text(tax, "numDocSustento"),
               _date(_text(tax, "fechaEmisionDocSustento"), fmt))
        legacy.setdefault(key, []).append(tax)
    for (code, number, date), taxes in legacy.items():
        supports.append(([[(_("Comprobante:"), _document(code, number)), (_("Fecha Emisión:"), date)]], taxes))

    columns = (Column(_("Impuesto"), 16), Column(_("Código"), 14), Column(_("Base Imponible"), 24, "r"),
               Column(_("Porcentaje Retención"), 20, "r"), Column(_("Valor Retenido"), 26, "r"))
    blocks: list = [Fields(header)]
    by_tax: dict[str, Decimal] = {}
    for index, (fields, taxes) in enumerate(supports, 1):
        rows, withheld = [], Decimal(0)
        for tax in taxes:
            code, value = _text(tax, "codigo"), _decimal(_text(tax, "valorRetenido"))
            rows.append([WITHHELD_TAXES.get(code, code), _text(tax, "codigoRetencion"),
                         _amount(_text(tax, "baseImponible"), fmt),
                         _percent(_text(tax, "porcentajeRetener"), fmt),
                         _amount(_text(tax, "valorRetenido"), fmt)])
            withheld += value
            by_tax[code] = by_tax.get(code, Decimal(0)) + value
        blocks.append(Fields(fields, title=_("DOCUMENTO SUSTENTO {index} DE {total}").format(index=index,
                                                                                          total=len(supports))))
        blocks.append(Table(columns, rows, footer=(_("TOTAL RETENIDO"), _amount(withheld, fmt))))
    totals = [[_("RETENCIÓN {tax}").format(tax=WITHHELD_TAXES.get(code, code)), _amount(value, fmt)]
              for code, value in by_tax.items()]
    totals.append([_("TOTAL RETENIDO"), _amount(sum(by_tax.values(), Decimal(0)), fmt)])
    blocks.append(Columns(_additional_info(doc), [_totals(totals)]))
    return "COMPROBANTE DE RETENCIÓN", info, blocks


_BUILDERS: dict[str, Callable[[etree._Element, Formats], tuple[str, etree._Element, list]]] = {
    "factura": _invoice,
    "notaCredito": _credit_note,
    "notaDebito": _debit_note,
    "guiaRemision": _delivery_guide,
    "comprobanteRetencion": _withholding,
    "liquidacionCompra": _purchase_settlement,
}
