"""The printed representation of a stamped CFDI 4.0 (the PDF a customer receives with the XML), read
from the stamped XML alone:

- the issuer (RFC, name, régimen fiscal), the document's identity (serie and folio, folio fiscal,
  date, type, exportación, lugar de expedición) and the customer (RFC, name, fiscal zip code,
  régimen fiscal, uso del CFDI, and for a foreign customer its residencia fiscal and tax id);
- InformacionGlobal and CfdiRelacionados when the CFDI has them;
- the conceptos (clave de producto o servicio, cantidad, clave de unidad and unidad, descripción,
  valor unitario, descuento, importe, objeto de impuesto) with each one's taxes under its
  description;
- the payment terms (moneda, tipo de cambio, forma and método de pago) and the totals: subtotal,
  descuento, every tax transferred by impuesto and tasa (from Comprobante/Impuestos), every tax
  withheld by impuesto (with the tasas its conceptos use) and the total, also in words in Spanish
  ("MIL CIENTO SESENTA PESOS 00/100 M.N.");
- the Timbre Fiscal Digital: folio fiscal, the issuer's and SAT's certificate numbers, the date of
  certification, the PAC's RFC, the sello digital del CFDI and del SAT, the cadena original of the
  complemento de certificación and the QR code of SAT's verification URL;
- on every page, the legend "Este documento es una representación impresa de un CFDI".

Codes are printed with their meaning from SAT's catalogs as satcfdi bundles them (its sqlite file,
opened read-only on first use; a code it does not know is printed alone). Labels are written in
Spanish and translated (gettext domain `ride`, as Ecuador's RIDE) to the reader's language; the
catalogs' meanings, the amount in words and the legend stay Spanish, as SAT writes them. Amounts and
dates follow the reader's locale as written in Mexico (Spanish: 1,234.56 and 19/02/2025).

Importing this module loads reportlab (through pdf_layout): only the rendering task imports it.
"""

from __future__ import annotations

import importlib.util
import logging
import pickle
import sqlite3
import threading
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path

from lxml import etree

from sello.countries.mx import pdf_qr
from sello.countries.mx.pdf_layout import Column, Columns, Fields, Masthead, Stamp, Table, render_pdf
from sello.formatting import Formats, formats
from sello.i18n import Translator, language_of, translator
from sello.pdf_logo import logo_image

log = logging.getLogger(__name__)

COUNTRY = "MX"  # a bare language ("es") is completed with this country ("es_MX") where CLDR has it
_LANGUAGE: ContextVar[Translator] = ContextVar("cfdi_pdf_language", default=translator("es", COUNTRY, "ride"))

CFDI = "http://www.sat.gob.mx/cfd/4"
TFD = "http://www.sat.gob.mx/TimbreFiscalDigital"
NS = {"cfdi": CFDI, "tfd": TFD, "pago20": "http://www.sat.gob.mx/Pagos20"}
VERIFY_URL = "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
LEGEND = "Este documento es una representación impresa de un CFDI"


def _(label: str) -> str:
    """A label in the language of the document being rendered."""
    return _LANGUAGE.get().gettext(label)


def N_(label: str) -> str:  # noqa: N802 (gettext's name for "translated where it is used")
    return label


# The document's name by TipoDeComprobante.
TITLES = {"I": N_("FACTURA"), "E": N_("NOTA DE CRÉDITO"), "T": N_("TRASLADO"), "N": N_("RECIBO DE NÓMINA"),
          "P": N_("RECIBO DE PAGO")}

_ITEM_COLUMNS = (
    Column(N_("Clave prod./serv. / No. ident."), 52, lines=3), Column(N_("Cantidad"), 34, "r"),
    Column(N_("Clave unidad"), 42, lines=2), Column(N_("Descripción"), 130, lines=30),
    Column(N_("Valor unitario"), 50, "r"), Column(N_("Descuento"), 44, "r"), Column(N_("Importe"), 52, "r"),
    Column(N_("Impuestos"), 108, lines=8), Column(N_("Objeto imp."), 27, "c"),
)
ITEM_SIZE, ITEM_LEAD = 7.0, 8.4
_TOTAL_COLUMNS = (Column("", 62, bold=True, lines=2), Column("", 38, "r"))


def render(stamped_xml: bytes, *, logo: bytes | None = None, language: str = "es",
           cancelled: bool = False) -> bytes:
    """The PDF of a stamped CFDI 4.0, with the issuer's `logo` (PNG or JPEG bytes) when given, its
    labels, numbers and dates in `language` (default Spanish as written in Mexico). A `cancelled` CFDI
    says so in its title, its running head and a box above everything else. Raises ValueError when the
    XML is not well-formed, not a CFDI 4.0, or carries no TimbreFiscalDigital."""
    token = _LANGUAGE.set(translator(language, COUNTRY, "ride"))
    try:
        return _render(stamped_xml, logo, language_of(language), cancelled)
    finally:
        _LANGUAGE.reset(token)


def _render(stamped_xml: bytes, logo: bytes | None, locale: str, cancelled: bool = False) -> bytes:
    cfdi, tfd = _read(stamped_xml)
    fmt = formats(locale, COUNTRY)
    issuer, customer = _child(cfdi, "Emisor"), _child(cfdi, "Receptor")
    kind = _attr(cfdi, "TipoDeComprobante")
    title = _(TITLES.get(kind, "CFDI"))
    if cancelled:
        mark = _("CANCELADO")
        title = f"{title} · {mark}"
    number = "-".join(v for v in (_attr(cfdi, "Serie"), _attr(cfdi, "Folio")) if v)
    uuid = _attr(tfd, "UUID")
    masthead = Masthead(
        name=_attr(issuer, "Nombre"),
        issuer_rows=(
            (_("RFC:"), _attr(issuer, "Rfc")),
            (_("Régimen fiscal:"), _coded("RegimenFiscal", _attr(issuer, "RegimenFiscal"))),
        ),
        title=title,
        document_rows=(
            (_("Serie y folio:"), number),
            (_("Folio fiscal:"), uuid),
            (_("Fecha de emisión:"), _timestamp(_attr(cfdi, "Fecha"), fmt)),
            (_("Lugar de expedición (C.P.):"), _attr(cfdi, "LugarExpedicion")),
            (_("Tipo de comprobante:"), _coded("TipoDeComprobante", kind)),
            (_("Exportación:"), _coded("Exportacion", _attr(cfdi, "Exportacion"))),
        ),
        logo=logo_image(logo),
    )
    pagos = cfdi.find("cfdi:Complemento/pago20:Pagos", NS)
    notice = [Fields([[(_("Estado:"), _("CANCELADO ante el SAT: este CFDI ya no tiene efectos fiscales."))]],
                     title=_("CFDI CANCELADO"))] if cancelled else []
    blocks = [
        *notice,
        _customer(customer),
        *_global_information(cfdi),
        *_related(cfdi),
        _items(cfdi, fmt),
        *(_payments(pagos, fmt) if pagos is not None else
          [Columns([_payment(cfdi, fmt), *_in_words(cfdi)], [_totals(cfdi, fmt)])]),
        _stamp(cfdi, tfd, fmt),
    ]
    folio_label, rfc_label = _("Folio fiscal:"), _("RFC:")
    head = (f"{title} {number}".strip(), f"{folio_label} {uuid}", f"{rfc_label} {_attr(issuer, 'Rfc')}",
            masthead.name)
    return render_pdf(
        masthead, blocks,
        running_head="  ·  ".join(v for v in head if v),
        footer=LEGEND,
        page_label=_("Página {number} de {total}"),
        meta={"title": f"{title} {number}".strip(), "author": masthead.name, "subject": f"CFDI {uuid}"},
    )


# -- reading ----------------------------------------------------------------------------------------

def _read(data: bytes) -> tuple[etree._Element, etree._Element]:
    """(the cfdi:Comprobante, its tfd:TimbreFiscalDigital)."""
    if not data or not data.strip():
        raise ValueError("The CFDI is empty.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"The CFDI is not well-formed XML: {exc}") from None
    if root.tag != f"{{{CFDI}}}Comprobante" or root.get("Version") != "4.0":
        raise ValueError(f"Expected a CFDI 4.0 cfdi:Comprobante, got <{root.tag}> "
                         f"version {root.get('Version')!r}.")
    tfd = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    if tfd is None:
        raise ValueError("The CFDI has no TimbreFiscalDigital: only a stamped CFDI has a printed "
                         "representation.")
    return root, tfd


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"cfdi:{name}", NS)


def _attr(element: etree._Element | None, name: str) -> str:
    """The attribute's value with whitespace runs collapsed (as the cadena original reads it), or ""."""
    if element is None:
        return ""
    value = element.get(name)
    return " ".join(value.split()) if value else ""


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _amount(text: str, fmt: Formats) -> str:
    """An amount as the locale writes it, every decimal kept ("" stays "")."""
    return fmt.amount(text) if text else ""


def _timestamp(text: str, fmt: Formats) -> str:
    """A CFDI date-time (local time of the place of issue, no offset) as the locale's date and the
    time on 24 hours; anything else as it is."""
    try:
        return fmt.datetime(datetime.fromisoformat(text))
    except ValueError:
        return text


def _rate(factor: str, rate: str, fmt: Formats) -> str:
    """A TasaOCuota as printed: a tasa in percent (0.160000 -> 16%), a cuota as the amount per unit,
    "Exento" for an exempt tax."""
    if factor == "Exento":
        return _("exento")
    number = _decimal(rate)
    if number is None:
        return rate
    if factor == "Cuota":
        return _("cuota {amount}").format(amount=fmt.number(number))
    return fmt.percent(number * 100)


# -- SAT catalogs (satcfdi's bundled sqlite file) ----------------------------------------------------

_CATALOG_LOCK = threading.Lock()


@cache
def _catalog_db() -> sqlite3.Connection | None:
    """satcfdi's catalog file, opened read-only once per process (immutable: nothing is written, no
    lock taken, as on Lambda's read-only file system); None when it cannot be found or opened."""
    spec = importlib.util.find_spec("satcfdi")  # finds the package without importing it
    try:
        folder = Path(next(iter(spec.submodule_search_locations))) if spec else None
        if folder is None:
            raise FileNotFoundError("satcfdi")
        path = folder / "catalogs" / "catalogs.db"
        return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    except (OSError, StopIteration, TypeError, sqlite3.Error) as exc:
        log.warning("SAT catalogs unavailable (%s); codes are printed without their meaning", exc)
        return None


@lru_cache(maxsize=2048)
def _catalog(name: str, code: str) -> str | tuple | list | None:
    """The value satcfdi stores for `code` in the catalog C756_c_<name> (keys and values are pickled
    by satcfdi), or None."""
    db = _catalog_db()
    if db is None or not code:
        return None
    try:
        query = f'SELECT value FROM "C756_c_{name}" WHERE key = ?'  # noqa: S608 - the names are ours
        with _CATALOG_LOCK:  # one connection for the process's threads, one query at a time
            row = db.execute(query, (pickle.dumps(code, protocol=4),)).fetchone()
    except sqlite3.Error as exc:
        log.warning("SAT catalog %s unreadable (%s)", name, exc)
        return None
    return pickle.loads(row[0]) if row else None  # noqa: S301 - satcfdi's own packaged data


def describe(name: str, code: str) -> str:
    """The meaning of a code in SAT's catalog `name` ("RegimenFiscal", "UsoCFDI", …), or ""."""
    value = _catalog(name, code)
    if isinstance(value, (list, tuple)):  # c_Moneda: (name, decimals)
        value = value[0] if value else None
    return value if isinstance(value, str) else ""


def _coded(name: str, code: str) -> str:
    meaning = describe(name, code)
    return f"{code} - {meaning}" if code and meaning else code


def currency_decimals(code: str) -> int:
    """The decimals of a currency per c_Moneda (2 when the catalog does not say)."""
    value = _catalog("Moneda", code)
    if isinstance(value, (list, tuple)) and len(value) > 1 and isinstance(value[1], int):
        return value[1]
    return 2


# -- the amount in words ----------------------------------------------------------------------------

def amount_in_words(total: Decimal, currency: str = "MXN") -> str:
    """The amount in Spanish words as Mexican invoices print it: the whole units in capitals, the
    currency, the fraction over 100 and "M.N." for pesos ("MIL CIENTO SESENTA PESOS 00/100 M.N."),
    the currency's Spanish name and code for others ("UN DÓLAR ESTADOUNIDENSE 50/100 USD")."""
    from num2words import num2words

    decimals = currency_decimals(currency)
    total = abs(total).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    units = int(total)
    fraction = int((total - units).scaleb(decimals))
    words = num2words(units, lang="es").split()
    # Before a noun, "uno" is "un" and "veintiuno" "veintiún" (veintiún mil, ciento un pesos).
    words = ["un" if w == "uno" else "veintiún" if w == "veintiuno" else w for w in words]
    if words[-1] in ("millón", "millones", "billón", "billones"):
        words.append("de")  # un millón de pesos
    if currency == "MXN":
        name, suffix = "peso" if units == 1 else "pesos", "M.N."
    else:
        name, suffix = _currency_name(currency, units), currency
    parts = [" ".join(words), name]
    if decimals:
        parts.append(f"{fraction:0{decimals}d}/1{'0' * decimals}")
    parts.append(suffix)
    return " ".join(p for p in parts if p).upper()


def _currency_name(code: str, units: int) -> str:
    from babel.numbers import get_currency_name

    try:
        name = get_currency_name(code, count=units, locale="es_MX")
    except (ValueError, LookupError):
        return ""
    return "" if name == code else name


# -- the verification URL and the cadena original of the stamp --------------------------------------

def total_for_url(total: str) -> str:
    """The total as SAT's verification URL carries it (Anexo 20, código bidimensional: up to 18
    integer digits and 6 decimals, no non-significant zeros): 1160.00 -> 1160.0, 3327.01 -> 3327.01,
    0.500000 -> 0.5 (one decimal is always kept, as SAT's examples and phpcfdi do)."""
    number = _decimal(total) or Decimal(0)
    text = f"{number:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def verification_url(cfdi: etree._Element) -> str:
    """SAT's verification URL of a stamped CFDI, as its QR code carries it: folio fiscal, the RFCs
    (an "&" in one written "&amp;", as SAT's standard asks), the total and the sello's last 8
    characters."""
    tfd = cfdi.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    issuer, customer = _child(cfdi, "Emisor"), _child(cfdi, "Receptor")
    return (f"{VERIFY_URL}?id={_attr(tfd, 'UUID')}"
            f"&re={_attr(issuer, 'Rfc').replace('&', '&amp;')}"
            f"&rr={_attr(customer, 'Rfc').replace('&', '&amp;')}"
            f"&tt={total_for_url(_attr(cfdi, 'Total'))}&fe={_attr(cfdi, 'Sello')[-8:]}")


def stamp_chain(tfd: etree._Element) -> str:
    """The cadena original del complemento de certificación digital del SAT, as SAT's
    cadenaoriginal_TFD_1_1.xslt writes it: ||1.1|UUID|FechaTimbrado|RfcProvCertif|[Leyenda|]SelloCFD|
    NoCertificadoSAT||."""
    names = ("Version", "UUID", "FechaTimbrado", "RfcProvCertif", "Leyenda", "SelloCFD", "NoCertificadoSAT")
    values = [_attr(tfd, n) for n in names if n != "Leyenda" or _attr(tfd, n)]
    return "||" + "|".join(values) + "||"


# -- blocks -----------------------------------------------------------------------------------------

def _customer(customer: etree._Element | None) -> Fields:
    return Fields([
        [(_("Nombre:"), _attr(customer, "Nombre"))],
        [(_("RFC:"), _attr(customer, "Rfc")),
         (_("Domicilio fiscal (C.P.):"), _attr(customer, "DomicilioFiscalReceptor"))],
        [(_("Régimen fiscal:"), _coded("RegimenFiscal", _attr(customer, "RegimenFiscalReceptor"))),
         (_("Uso del CFDI:"), _coded("UsoCFDI", _attr(customer, "UsoCFDI")))],
        [(_("Residencia fiscal:"), _coded("Pais", _attr(customer, "ResidenciaFiscal"))),
         (_("Número de registro de identidad fiscal:"), _attr(customer, "NumRegIdTrib"))],
    ], title=_("RECEPTOR"))


def _global_information(cfdi: etree._Element) -> list[Fields]:
    info = _child(cfdi, "InformacionGlobal")
    if info is None:
        return []
    return [Fields([[
        (_("Periodicidad:"), _coded("Periodicidad", _attr(info, "Periodicidad"))),
        (_("Meses:"), _coded("Meses", _attr(info, "Meses"))),
        (_("Año:"), _attr(info, "Año")),
    ]], title=_("INFORMACIÓN GLOBAL"))]


def _related(cfdi: etree._Element) -> list[Fields]:
    rows = []
    for group in cfdi.iterfind("cfdi:CfdiRelacionados", NS):
        uuids = [_attr(r, "UUID") for r in group.iterfind("cfdi:CfdiRelacionado", NS)]
        rows.append([(_("Tipo de relación:"), _coded("TipoRelacion", _attr(group, "TipoRelacion")))])
        rows.append([(_("Folios fiscales (UUID):"), "\n".join(uuids))])
    return [Fields(rows, title=_("CFDI RELACIONADOS"))] if rows else []


def _taxes(item: etree._Element, fmt: Formats) -> str:
    """A concepto's taxes, one a line: "IVA 16%: 458.90", "Ret. ISR 10%: 186.71", "IVA exento, base
    1,148.25"; the base is named wherever it is not the concepto's importe less its descuento."""
    importe, descuento = _decimal(_attr(item, "Importe")), _decimal(_attr(item, "Descuento"))
    net = (importe or Decimal(0)) - (descuento or Decimal(0))
    lines = []
    for path, withheld in (("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", False),
                           ("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", True)):
        for tax in item.iterfind(path, NS):
            code, base = _attr(tax, "Impuesto"), _attr(tax, "Base")
            values = {"tax": describe("Impuesto", code) or code, "base": _amount(base, fmt),
                      "rate": _rate(_attr(tax, "TipoFactor"), _attr(tax, "TasaOCuota"), fmt),
                      "amount": _amount(_attr(tax, "Importe"), fmt)}
            if not values["amount"]:  # an exempt tax has no importe: its base is what there is to say
                lines.append(_("{tax} exento, base {base}").format(**values))
                continue
            template = _("Ret. {tax} {rate}: {amount}") if withheld else _("{tax} {rate}: {amount}")
            line = template.format(**values)
            if _decimal(base) != net:
                line += " " + _("(base {base})").format(**values)
            lines.append(line)
    return "\n".join(lines)


def _description(item: etree._Element) -> str:
    lines = [_attr(item, "Descripcion")]
    third = item.find("cfdi:ACuentaTerceros", NS)
    if third is not None:
        lines.append(_("A cuenta de terceros: {rfc} {name}").format(
            rfc=_attr(third, "RfcACuentaTerceros"), name=_attr(third, "NombreACuentaTerceros")))
    for customs in item.iterfind("cfdi:InformacionAduanera", NS):
        lines.append(_("Pedimento: {value}").format(value=_attr(customs, "NumeroPedimento")))
    for account in item.iterfind("cfdi:CuentaPredial", NS):
        lines.append(_("Cuenta predial: {value}").format(value=_attr(account, "Numero")))
    return "\n".join(lines)


def _items(cfdi: etree._Element, fmt: Formats) -> Table:
    rows = []
    for item in cfdi.iterfind("cfdi:Conceptos/cfdi:Concepto", NS):
        unit_code = _attr(item, "ClaveUnidad")
        unit = _attr(item, "Unidad") or describe("ClaveUnidad", unit_code)
        quantity = _decimal(_attr(item, "Cantidad"))
        rows.append([
            "\n".join(v for v in (_attr(item, "ClaveProdServ"), _attr(item, "NoIdentificacion")) if v),
            fmt.number(quantity) if quantity is not None else _attr(item, "Cantidad"),
            f"{unit_code} {unit}".strip(),
            _description(item),
            _amount(_attr(item, "ValorUnitario"), fmt),
            _amount(_attr(item, "Descuento"), fmt),
            _amount(_attr(item, "Importe"), fmt),
            _taxes(item, fmt),
            _attr(item, "ObjetoImp"),
        ])
    columns = tuple(replace(c, title=_(c.title)) for c in _ITEM_COLUMNS)
    return Table(columns, rows, title=_("CONCEPTOS"), size=ITEM_SIZE, lead=ITEM_LEAD)


def _payment(cfdi: etree._Element, fmt: Formats) -> Fields:
    currency = _attr(cfdi, "Moneda")
    rate = _decimal(_attr(cfdi, "TipoCambio"))
    return Fields([
        [(_("Moneda:"), _coded("Moneda", currency)),
         (_("Tipo de cambio:"), fmt.number(rate) if rate is not None else "")],
        [(_("Forma de pago:"), _coded("FormaPago", _attr(cfdi, "FormaPago")))],
        [(_("Método de pago:"), _coded("MetodoPago", _attr(cfdi, "MetodoPago")))],
        [(_("Condiciones de pago:"), _attr(cfdi, "CondicionesDePago"))],
    ], title=_("PAGO"))


_RELATED_COLUMNS = (
    Column(N_("Documento relacionado (UUID) / Serie y folio"), 120, lines=3), Column(N_("Moneda / equivalencia"), 52, lines=2),
    Column(N_("Parcialidad"), 38, "c"), Column(N_("Saldo anterior"), 56, "r"), Column(N_("Importe pagado"), 56, "r"),
    Column(N_("Saldo insoluto"), 56, "r"), Column(N_("Impuestos"), 120, lines=8), Column(N_("Objeto imp."), 27, "c"),
)
# Totales of the Pagos complement, in the order SAT's schema lists them.
_PAYMENT_TOTALS = (
    ("TotalRetencionesIVA", N_("Total retenciones IVA")), ("TotalRetencionesISR", N_("Total retenciones ISR")),
    ("TotalRetencionesIEPS", N_("Total retenciones IEPS")),
    ("TotalTrasladosBaseIVA16", N_("Base IVA 16%")), ("TotalTrasladosImpuestoIVA16", N_("IVA 16%")),
    ("TotalTrasladosBaseIVA8", N_("Base IVA 8%")), ("TotalTrasladosImpuestoIVA8", N_("IVA 8%")),
    ("TotalTrasladosBaseIVA0", N_("Base IVA 0%")), ("TotalTrasladosImpuestoIVA0", N_("IVA 0%")),
    ("TotalTrasladosBaseIVAExento", N_("Base IVA exento")), ("MontoTotalPagos", N_("Monto total de los pagos")),
)


def _payment_taxes(related: etree._Element, fmt: Formats) -> str:
    """The taxes paid with a related document (ImpuestosDR), one per line."""
    lines = []
    for kind, label in (("TrasladosDR/pago20:TrasladoDR", N_("{tax} {rate}: {amount} (base {base})")),
                        ("RetencionesDR/pago20:RetencionDR", N_("Ret. {tax} {rate}: {amount} (base {base})"))):
        for tax in related.iterfind(f"pago20:ImpuestosDR/pago20:{kind}", NS):
            name = describe("Impuesto", _attr(tax, "ImpuestoDR")) or _attr(tax, "ImpuestoDR")
            factor = _attr(tax, "TipoFactorDR")
            if factor == "Exento":
                lines.append(_("{tax} exento, base {base}").format(tax=name, base=_amount(_attr(tax, "BaseDR"), fmt)))
                continue
            lines.append(_(label).format(tax=name, rate=_rate(factor, _attr(tax, "TasaOCuotaDR"), fmt),
                                         amount=_amount(_attr(tax, "ImporteDR"), fmt),
                                         base=_amount(_attr(tax, "BaseDR"), fmt)))
    return "\n".join(lines)


def _payments(pagos: etree._Element, fmt: Formats) -> list:
    """A CFDI de pago: each payment with the documents it pays, then the complement's totals."""
    blocks: list = []
    for number, pago in enumerate(pagos.iterfind("pago20:Pago", NS), start=1):
        currency = _attr(pago, "MonedaP")
        rate = _decimal(_attr(pago, "TipoCambioP"))
        blocks.append(Fields([
            [(_("Fecha de pago:"), _timestamp(_attr(pago, "FechaPago"), fmt)),
             (_("Forma de pago:"), _coded("FormaPago", _attr(pago, "FormaDePagoP")))],
            [(_("Moneda:"), _coded("Moneda", currency)),
             (_("Tipo de cambio:"), fmt.number(rate) if rate is not None and currency != "MXN" else "")],
            [(_("Monto:"), f"{_amount(_attr(pago, 'Monto'), fmt)} {currency}"),
             (_("Número de operación:"), _attr(pago, "NumOperacion"))],
        ], title=_("PAGO {number}").format(number=number)))
        rows = []
        for related in pago.iterfind("pago20:DoctoRelacionado", NS):
            number_dr = "-".join(v for v in (_attr(related, "Serie"), _attr(related, "Folio")) if v)
            equivalence = _decimal(_attr(related, "EquivalenciaDR"))
            rows.append([
                "\n".join(v for v in (_attr(related, "IdDocumento"), number_dr) if v),
                "\n".join(v for v in (_attr(related, "MonedaDR"),
                                       fmt.number(equivalence) if equivalence not in (None, 1) else "") if v),
                _attr(related, "NumParcialidad"),
                _amount(_attr(related, "ImpSaldoAnt"), fmt),
                _amount(_attr(related, "ImpPagado"), fmt),
                _amount(_attr(related, "ImpSaldoInsoluto"), fmt),
                _payment_taxes(related, fmt),
                _attr(related, "ObjetoImpDR"),
            ])
        columns = tuple(replace(c, title=_(c.title)) for c in _RELATED_COLUMNS)
        blocks.append(Table(columns, rows, title=_("DOCUMENTOS RELACIONADOS"), size=ITEM_SIZE, lead=ITEM_LEAD))
    totals = pagos.find("pago20:Totales", NS)
    rows = [[_(label), _amount(_attr(totals, name), fmt)] for name, label in _PAYMENT_TOTALS
            if _attr(totals, name)]
    blocks.append(Columns([], [Table(_TOTAL_COLUMNS, rows, header=False, keep_together=True, last_bold=True)]))
    return blocks


def _in_words(cfdi: etree._Element) -> list[Fields]:
    total, currency = _decimal(_attr(cfdi, "Total")), _attr(cfdi, "Moneda")
    if total is None or currency in ("", "XXX"):  # XXX: no currency (pagos, traslados)
        return []
    return [Fields([[(_("Importe con letra:"), amount_in_words(total, currency))]])]


def _totals(cfdi: etree._Element, fmt: Formats) -> Table:
    rows = [[_("Subtotal"), _amount(_attr(cfdi, "SubTotal"), fmt)]]
    if _attr(cfdi, "Descuento"):
        rows.append([_("Descuento"), _amount(_attr(cfdi, "Descuento"), fmt)])
    for tax in cfdi.iterfind("cfdi:Impuestos/cfdi:Traslados/cfdi:Traslado", NS):
        name = describe("Impuesto", _attr(tax, "Impuesto")) or _attr(tax, "Impuesto")
        rate = _rate(_attr(tax, "TipoFactor"), _attr(tax, "TasaOCuota"), fmt)
        if _attr(tax, "TipoFactor") == "Exento":  # no importe: the exempt base is what there is to say
            rows.append([_("{tax} exento, base").format(tax=name), _amount(_attr(tax, "Base"), fmt)])
        else:
            rows.append([f"{name} {rate}", _amount(_attr(tax, "Importe"), fmt)])
    # The summary gives retenciones per impuesto only; the tasas come from the conceptos.
    withheld_rates: dict[str, list[str]] = {}
    for tax in cfdi.iterfind("cfdi:Conceptos/cfdi:Concepto/cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion",
                             NS):
        rate = _rate(_attr(tax, "TipoFactor"), _attr(tax, "TasaOCuota"), fmt)
        rates = withheld_rates.setdefault(_attr(tax, "Impuesto"), [])
        if rate not in rates:
            rates.append(rate)
    for tax in cfdi.iterfind("cfdi:Impuestos/cfdi:Retenciones/cfdi:Retencion", NS):
        code = _attr(tax, "Impuesto")
        label = _("Retención {tax}").format(tax=describe("Impuesto", code) or code)
        rates = ", ".join(withheld_rates.get(code, []))
        rows.append([f"{label} {rates}".strip(), _amount(_attr(tax, "Importe"), fmt)])
    rows.append([_("Total"), _amount(_attr(cfdi, "Total"), fmt)])
    return Table(_TOTAL_COLUMNS, rows, header=False, keep_together=True, last_bold=True)


def _stamp(cfdi: etree._Element, tfd: etree._Element, fmt: Formats) -> Stamp:
    return Stamp(
        title=_("TIMBRE FISCAL DIGITAL"),
        qr=pdf_qr.modules(verification_url(cfdi)),
        facts=(
            (_("Folio fiscal:"), _attr(tfd, "UUID")),
            (_("No. de serie del certificado del emisor:"), _attr(cfdi, "NoCertificado")),
            (_("No. de serie del certificado del SAT:"), _attr(tfd, "NoCertificadoSAT")),
            (_("Fecha y hora de certificación:"), _timestamp(_attr(tfd, "FechaTimbrado"), fmt)),
            (_("RFC del proveedor de certificación:"), _attr(tfd, "RfcProvCertif")),
        ),
        texts=(
            (_("Sello digital del CFDI:"), _attr(cfdi, "Sello")),
            (_("Sello digital del SAT:"), _attr(tfd, "SelloSAT")),
            (_("Cadena original del complemento de certificación digital del SAT:"), stamp_chain(tfd)),
        ),
    )
