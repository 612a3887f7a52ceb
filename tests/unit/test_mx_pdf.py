"""The printed CFDI (PDF of a stamped CFDI 4.0): every field SAT's printed representation needs, read
back from the PDF's text with the XML's values; pagination; long values; the shared stamped samples;
bad input."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sello.countries.mx import pdf, pdf_layout

from tests.conftest import DATA, needs_data

CFDI_NS = "http://www.sat.gob.mx/cfd/4"
TFD_NS = "http://www.sat.gob.mx/TimbreFiscalDigital"
UUID = "5B3E1F0A-7C2D-4E8F-9A1B-2C3D4E5F6A7B"
ISSUER = "Cafetería Ñandú & Hijos"
ISSUER_RFC = "C&Ñ100101AB1"
CUSTOMER = "José Peña Muñoz"
CUSTOMER_RFC = "PEMJ800101AB2"
SELLO = base64.b64encode(hashlib.shake_256(b"sello del emisor").digest(256)).decode()
SELLO_SAT = base64.b64encode(hashlib.shake_256(b"sello del SAT").digest(256)).decode()
CENT = Decimal("0.01")

# (ClaveProdServ, ClaveUnidad, Unidad) cycled over the lines.
PRODUCTS = (("43232408", "H87", "Pieza"), ("84111506", "E48", "Servicio"), ("50202306", "KGM", "Kilogramo"))
# (TipoFactor, TasaOCuota) of each line's IVA, cycled: mostly 16 %, some 0 % and exempt lines.
VAT = (("Tasa", "0.160000"), ("Tasa", "0.160000"), ("Tasa", "0.000000"), ("Tasa", "0.160000"),
       ("Exento", None))


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def mx(value: Decimal | str) -> str:
    """An amount as Mexico writes it (es-MX and en): comma between thousands, point before the cents."""
    return f"{Decimal(value):,.2f}"


def descriptions(n: int) -> list[str]:
    return [f"Artículo {i:02d} café de Córdoba, añejo" for i in range(1, n + 1)]


def cfdi(items: list[str], *, kind: str = "I", currency: str = "MXN", exchange: str | None = None,
         withholding: bool = True, related: list[tuple[str, list[str]]] | None = None,
         global_info: tuple[str, str, str] | None = None,
         customer: tuple[str, str, str, str, str] | None = None,
         foreign: tuple[str, str] | None = None, stamped: bool = True, leyenda: str | None = None,
         serie: str | None = "A", folio: str | None = "42") -> tuple[bytes, dict[str, Decimal]]:
    """A stamped CFDI 4.0 with one concepto per description, and the totals it states, computed here:
    line importe = cantidad × valor unitario, IVA per line on importe − descuento, retenciones (ISR 10 %,
    IVA 10.6667 %) on every second line when `withholding`."""
    def el(parent, name, ns=CFDI_NS, **attrs):
        node = etree.SubElement(parent, f"{{{ns}}}{name}") if parent is not None else etree.Element(
            f"{{{ns}}}{name}", nsmap={"cfdi": CFDI_NS, "tfd": TFD_NS})
        for key, value in attrs.items():
            if value is not None:
                node.set(key, value)
        return node

    root = el(None, "Comprobante")
    if global_info:
        periodicity, months, year = global_info
        el(root, "InformacionGlobal", Periodicidad=periodicity, Meses=months, **{"Año": year})
    for relation, uuids in related or []:
        group = el(root, "CfdiRelacionados", TipoRelacion=relation)
        for uuid in uuids:
            el(group, "CfdiRelacionado", UUID=uuid)
    el(root, "Emisor", Rfc=ISSUER_RFC, Nombre=ISSUER, RegimenFiscal="601")
    name, rfc, zip_code, regime, use = customer or (CUSTOMER, CUSTOMER_RFC, "44100", "612", "G03")
    residence, tax_id = foreign or (None, None)
    el(root, "Receptor", Rfc=rfc, Nombre=name, DomicilioFiscalReceptor=zip_code, RegimenFiscalReceptor=regime,
       UsoCFDI=use, ResidenciaFiscal=residence, NumRegIdTrib=tax_id)
    concepts = el(root, "Conceptos")
    subtotal = discount = Decimal(0)
    transferred: dict[tuple[str, str | None], list[Decimal]] = {}
    withheld: dict[str, Decimal] = {}
    for i, description in enumerate(items):
        key, unit_code, unit = PRODUCTS[i % len(PRODUCTS)]
        quantity = Decimal(i % 4 + 1) + (Decimal("0.5") if i % 3 == 2 else 0)
        price = Decimal(1000 + 37 * i) + Decimal("0.25")
        amount = money(quantity * price)
        line_discount = money(amount / 10) if i % 4 == 1 else None
        base = amount - (line_discount or 0)
        concept = el(concepts, "Concepto", ClaveProdServ=key, NoIdentificacion=f"SKU-{i:03d}",
                     Cantidad=str(quantity), ClaveUnidad=unit_code, Unidad=unit, Descripcion=description,
                     ValorUnitario=str(price), Importe=str(amount),
                     Descuento=str(line_discount) if line_discount else None, ObjetoImp="02")
        taxes = el(concept, "Impuestos")
        factor, rate = VAT[i % len(VAT)]
        tax = money(base * Decimal(rate)) if rate else None
        el(el(taxes, "Traslados"), "Traslado", Base=str(base), Impuesto="002", TipoFactor=factor,
           TasaOCuota=rate, Importe=str(tax) if tax is not None else None)
        sums = transferred.setdefault((factor, rate), [Decimal(0), Decimal(0)])
        sums[0] += base
        sums[1] += tax or 0
        if withholding and i % 2 == 1:
            retentions = el(taxes, "Retenciones")
            for code, tasa in (("001", "0.100000"), ("002", "0.106667")):
                value = money(base * Decimal(tasa))
                el(retentions, "Retencion", Base=str(base), Impuesto=code, TipoFactor="Tasa", TasaOCuota=tasa,
                   Importe=str(value))
                withheld[code] = withheld.get(code, Decimal(0)) + value
        subtotal += amount
        discount += line_discount or 0
    total_transferred = sum(s[1] for s in transferred.values())
    total_withheld = sum(withheld.values(), Decimal(0))
    summary = el(root, "Impuestos", TotalImpuestosRetenidos=str(total_withheld) if withheld else None,
                 TotalImpuestosTrasladados=str(total_transferred))
    if withheld:
        group = el(summary, "Retenciones")
        for code, value in withheld.items():
            el(group, "Retencion", Impuesto=code, Importe=str(value))
    group = el(summary, "Traslados")
    for (factor, rate), (base, tax) in transferred.items():
        el(group, "Traslado", Base=str(base), Impuesto="002", TipoFactor=factor, TasaOCuota=rate,
           Importe=str(tax) if rate else None)
    total = subtotal - discount + total_transferred - total_withheld
    attrs = {"Version": "4.0", "Serie": serie, "Folio": folio, "Fecha": "2026-03-14T10:15:30", "Sello": SELLO,
             "FormaPago": "03", "NoCertificado": "30001000000500003416", "Certificado": "MIIB",
             "CondicionesDePago": "Contado", "SubTotal": str(subtotal),
             "Descuento": str(discount) if discount else None, "Moneda": currency, "TipoCambio": exchange,
             "Total": str(total), "TipoDeComprobante": kind, "Exportacion": "01", "MetodoPago": "PUE",
             "LugarExpedicion": "06600"}
    for key, value in attrs.items():
        if value is not None:
            root.set(key, value)
    if stamped:
        el(el(root, "Complemento"), "TimbreFiscalDigital", TFD_NS, Version="1.1", UUID=UUID,
           FechaTimbrado="2026-03-14T10:16:02", RfcProvCertif="SPR190613I52", Leyenda=leyenda, SelloCFD=SELLO,
           NoCertificadoSAT="30001000000500003456", SelloSAT=SELLO_SAT)
    expected = {"subtotal": subtotal, "discount": discount, "total": total,
                "withheld_isr": withheld.get("001"), "withheld_iva": withheld.get("002"),
                **{f"iva {factor} {rate}": tax for (factor, rate), (_, tax) in transferred.items()},
                **{f"base {factor} {rate}": base for (factor, rate), (base, _) in transferred.items()}}
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), expected


def pages_text(document: bytes) -> list[str]:
    """Each page's text in drawing order, runs separated by single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(document)).pages]


def squeezed(text: str) -> str:
    """The text without any whitespace: long values wrapped over lines come back whole."""
    return "".join(text.split())


def assert_total(text: str, label: str, value: Decimal) -> None:
    """The totals row `label` shows `value` (label and amount are drawn one after the other)."""
    assert re.search(rf"(^| ){re.escape(label)} {re.escape(mx(value))}( |$)", text), (label, mx(value), text)


def text_extents(document: bytes) -> list[tuple[float, float, float]]:
    """(x, y, width) of every text run on every page, from the text matrix and the glyph widths the
    embedded font declares for the codes shown (/Widths, in thousandths of the size)."""
    extents = []
    for page in PdfReader(io.BytesIO(document)).pages:
        fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        font, size, x, y = None, 0.0, 0.0, 0.0
        for operands, op in ContentStream(page.get_contents(), page.pdf).operations:
            if op == b"Tf":
                font, size = fonts[operands[0]], float(operands[1])
            elif op == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif op == b"Tj":
                raw = operands[0]
                codes = bytes(getattr(raw, "original_bytes", raw))
                first, widths = int(font["/FirstChar"]), font["/Widths"]
                extents.append((x, y, sum(float(widths[c - first]) for c in codes) * size / 1000))
    return extents


# -- an invoice with everything ---------------------------------------------------------------------

def test_ten_concepts_fit_one_page_with_every_field_sat_asks_for():
    document, expected = cfdi(descriptions(10))
    pages = pages_text(pdf.render(document))

    assert len(pages) == 1
    text = pages[0]
    # The issuer and the document.
    for fact in (ISSUER, f"RFC: {ISSUER_RFC}", "Régimen fiscal: 601 - General de Ley Personas Morales",
                 "FACTURA", "Serie y folio: A-42", f"Folio fiscal: {UUID}",
                 "Fecha de emisión: 14/03/2026 10:15:30",
                 "Lugar de expedición (C.P.): 06600", "Tipo de comprobante: I - Ingreso",
                 "Exportación: 01 - No aplica"):
        assert fact in text, fact
    # The customer.
    for fact in (f"Nombre: {CUSTOMER}", f"RFC: {CUSTOMER_RFC}", "Domicilio fiscal (C.P.): 44100",
                 "Régimen fiscal: 612 - Personas Físicas con Actividades Empresariales y Profesionales",
                 "Uso del CFDI: G03 - Gastos en general"):
        assert fact in text, fact
    # Every concepto with its claves, quantity, unit, prices, discount, importe, taxes and objeto.
    for header in ("Clave prod./serv. / No. ident.", "Cantidad", "Clave unidad", "Descripción",
                   "Valor unitario", "Descuento", "Importe", "Impuestos", "Objeto imp."):
        assert squeezed(header) in squeezed(text), header
    root = etree.fromstring(document)
    for concept in root.iterfind(f"{{{CFDI_NS}}}Conceptos/{{{CFDI_NS}}}Concepto"):
        cells = [f"{concept.get('ClaveProdServ')} {concept.get('NoIdentificacion')}",
                 f"{concept.get('ClaveUnidad')} {concept.get('Unidad')}", concept.get("Descripcion"),
                 mx(concept.get("ValorUnitario")), mx(concept.get("Importe"))]
        if concept.get("Descuento"):
            cells.append(mx(concept.get("Descuento")))
        for cell in cells:
            assert cell in text, cell
        quantity = Decimal(concept.get("Cantidad"))
        written = re.escape(f"{quantity.normalize():f}")
        assert re.search(rf" {written} {concept.get('ClaveUnidad')} ", text), quantity
        for tax in concept.iterfind(f".//{{{CFDI_NS}}}Traslado"):
            if tax.get("TipoFactor") == "Exento":
                line = f"IVA exento, base {mx(tax.get('Base'))}"
            else:
                line = f"IVA {Decimal(tax.get('TasaOCuota')) * 100:.0f}%: {mx(tax.get('Importe'))}"
            assert line in text, line
        for tax in concept.iterfind(f".//{{{CFDI_NS}}}Retencion"):
            name = {"001": "ISR", "002": "IVA"}[tax.get("Impuesto")]
            rate = f"{(Decimal(tax.get('TasaOCuota')) * 100).normalize():f}%"
            assert f"Ret. {name} {rate}: {mx(tax.get('Importe'))}" in text
    assert "(base" not in text  # every tax's base is its concepto's importe less descuento
    assert text.count(" 02 ") >= 10  # objeto de impuesto of each line
    # Payment and totals.
    for fact in ("Moneda: MXN - Peso Mexicano", "Forma de pago: 03 - Transferencia electrónica de fondos",
                 "Método de pago: PUE - Pago en una sola exhibición", "Condiciones de pago: Contado"):
        assert fact in text, fact
    assert "Tipo de cambio" not in text  # a CFDI in pesos states none
    assert_total(text, "Subtotal", expected["subtotal"])
    assert_total(text, "Descuento", expected["discount"])
    assert_total(text, "IVA 16%", expected["iva Tasa 0.160000"])
    assert_total(text, "IVA 0%", expected["iva Tasa 0.000000"])
    assert_total(text, "IVA exento, base", expected["base Exento None"])
    assert_total(text, "Retención ISR 10%", expected["withheld_isr"])
    assert_total(text, "Retención IVA 10.6667%", expected["withheld_iva"])
    assert_total(text, "Total", expected["total"])
    # The stamp.
    for fact in ("No. de serie del certificado del emisor: 30001000000500003416",
                 "No. de serie del certificado del SAT: 30001000000500003456",
                 "Fecha y hora de certificación: 14/03/2026 10:16:02",
                 "RFC del proveedor de certificación: SPR190613I52",
                 "Sello digital del CFDI:", "Sello digital del SAT:",
                 "Cadena original del complemento de certificación digital del SAT:",
                 "Este documento es una representación impresa de un CFDI", "Página 1 de 1"):
        assert fact in text, fact
    assert text.count(UUID) >= 3  # the document's box, the stamp, the cadena original
    whole = squeezed(text)
    assert SELLO in whole and SELLO_SAT in whole
    assert f"||1.1|{UUID}|2026-03-14T10:16:02|SPR190613I52|{SELLO}|30001000000500003456||" in whole


def test_the_total_is_written_in_words_with_its_cents():
    document, expected = cfdi(descriptions(10))
    text = pages_text(pdf.render(document))[0]
    cents = int((expected["total"] % 1) * 100)
    assert re.search(rf"Importe con letra: [A-ZÁÉÍÓÚÑ ]+ PESOS {cents:02d}/100 M\.N\.", text), text


def test_foreign_currency_shows_the_exchange_rate_and_its_name_in_words():
    document, _ = cfdi(descriptions(2), currency="USD", exchange="17.1234")
    text = pages_text(pdf.render(document))[0]
    assert "Moneda: USD - Dólar americano" in text
    assert "Tipo de cambio: 17.1234" in text
    assert re.search(r"DÓLARES ESTADOUNIDENSES \d\d/100 USD", text), text


def test_related_cfdis_and_global_information_are_printed():
    first, second = "0C8D0C6B-7D0A-4D4B-9E47-2C1D7A7E1A11", "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"
    document, _ = cfdi(descriptions(2), kind="E", related=[("01", [first, second])])
    text = pages_text(pdf.render(document))[0]
    assert "NOTA DE CRÉDITO" in text and "Tipo de comprobante: E - Egreso" in text
    assert "Tipo de relación: 01 - Nota de crédito de los documentos relacionados" in text
    assert first in text and second in text

    public = ("PUBLICO EN GENERAL", "XAXX010101000", "06600", "616", "S01")
    document, _ = cfdi(descriptions(2), global_info=("04", "05", "2026"), customer=public, withholding=False)
    text = pages_text(pdf.render(document))[0]
    for fact in ("INFORMACIÓN GLOBAL", "Periodicidad: 04 - Mensual", "Meses: 05 - Mayo", "Año: 2026",
                 "RFC: XAXX010101000", "Régimen fiscal: 616 - Sin obligaciones fiscales",
                 "Uso del CFDI: S01 - Sin efectos fiscales", "Nombre: PUBLICO EN GENERAL"):
        assert fact in text, fact
    assert "Retención" not in text and "CFDI RELACIONADOS" not in text


def test_a_cancelled_cfdi_says_so_in_its_title_and_above_everything_else():
    document, _ = cfdi(descriptions(2))
    assert "CANCELADO" not in pages_text(pdf.render(document))[0]
    text = pages_text(pdf.render(document, cancelled=True))[0]
    assert "FACTURA · CANCELADO" in text and "CFDI CANCELADO" in text
    assert "CANCELADO ante el SAT" in text
    assert text.index("CFDI CANCELADO") < text.index("RECEPTOR")
    english = pages_text(pdf.render(document, cancelled=True, language="en"))[0]
    assert "CANCELLED CFDI" in english and "CANCELADO" not in english


def test_a_foreign_customer_shows_its_tax_residence_and_id():
    foreign = ("ACME Corp.", "XEXX010101000", "06600", "616", "S01")
    document, _ = cfdi(descriptions(1), customer=foreign, foreign=("USA", "123456789"))
    text = pages_text(pdf.render(document))[0]
    assert "Residencia fiscal: USA - Estados Unidos (los)" in text
    assert "Número de registro de identidad fiscal: 123456789" in text


def test_the_leyenda_of_the_stamp_enters_its_cadena_original():
    document, _ = cfdi(descriptions(1), leyenda="Leyenda del PAC")
    whole = squeezed(pages_text(pdf.render(document))[0])
    assert squeezed(f"||1.1|{UUID}|2026-03-14T10:16:02|SPR190613I52|LeyendadelPAC|{SELLO}|"
                    "30001000000500003456||") in whole


def test_a_tax_base_other_than_the_net_importe_is_named():
    document, _ = cfdi(descriptions(1), withholding=False)
    root = etree.fromstring(document)
    tax = root.find(f".//{{{CFDI_NS}}}Concepto//{{{CFDI_NS}}}Traslado")
    importe = Decimal(tax.get("Importe"))
    tax.set("Base", "1234.56")  # as when an IEPS enters the IVA's base
    text = pages_text(pdf.render(etree.tostring(root)))[0]
    assert f"IVA 16%: {mx(importe)} (base 1,234.56)" in text


def test_without_serie_and_folio_nothing_is_invented():
    document, _ = cfdi(descriptions(1), serie=None, folio=None)
    text = pages_text(pdf.render(document))[0]
    assert "Serie y folio" not in text and f"Folio fiscal: {UUID}" in text


# -- pagination and long values ---------------------------------------------------------------------

def test_sixty_concepts_flow_onto_more_pages_with_the_header_repeated():
    document, expected = cfdi(descriptions(60))
    pages = pages_text(pdf.render(document))

    assert len(pages) >= 3
    text = " ".join(pages)
    for description in descriptions(60):
        assert description in text
    for number, page in enumerate(pages, 1):
        assert f"Página {number} de {len(pages)}" in page
        assert "Este documento es una representación impresa de un CFDI" in page
    for page in pages[1:]:
        assert f"FACTURA A-42 · Folio fiscal: {UUID} · RFC: {ISSUER_RFC} · {ISSUER}" in page  # running head
    continued = [page for page in pages[1:] if "Artículo" in page]
    assert continued
    for page in continued:
        assert "CONCEPTOS" in page and "Valor unitario" in page  # the table's title and header, repeated
    assert_total(pages[-1], "Total", expected["total"])
    assert SELLO_SAT in squeezed(pages[-1])


def test_ten_concepts_with_a_logo_still_take_one_page():
    from tests.unit.test_mx_pdf_text import picture

    document, _ = cfdi(descriptions(10))
    assert len(pages_text(pdf.render(document, logo=picture((600, 200))))) == 1


def test_a_long_description_wraps_in_full_within_the_page():
    words = [f"palabra{i}" for i in range(90)]
    long_text = " ".join(words)
    assert len(long_text) <= 1000  # the longest Descripcion cfdv40.xsd allows
    document, _ = cfdi(["Descripción corta", long_text, "Código " + "X" * 200])
    rendered = pdf.render(document)
    text = " ".join(pages_text(rendered))
    for word in words:
        assert re.search(rf"(^| ){word}( |$)", text), word
    assert "X" * 200 in squeezed(text)
    for x, _, width in text_extents(rendered):
        assert pdf_layout.MARGIN - 0.5 <= x and x + width <= pdf_layout.PAGE_W - pdf_layout.MARGIN + 0.5


def test_sellos_and_cadena_wrap_within_the_page():
    document, _ = cfdi(descriptions(3))
    rendered = pdf.render(document)
    extents = text_extents(rendered)
    for x, _, width in extents:
        assert pdf_layout.MARGIN - 0.5 <= x and x + width <= pdf_layout.PAGE_W - pdf_layout.MARGIN + 0.5
    for x, y, _ in extents:
        assert pdf_layout.MARGIN - 6 <= y <= pdf_layout.PAGE_H - pdf_layout.MARGIN


def test_wrap_keeps_every_line_within_the_width_and_every_character():
    font, size, width = pdf_layout.REGULAR, pdf_layout.SMALL, 120.0
    lines = pdf_layout.wrap(f"Sello: {SELLO}", font, size, width, 40)
    assert all(pdf_layout.text_width(line, font, size) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == f"Sello:{SELLO}"
    cut = pdf_layout.wrap("palabra " * 80, font, size, width, 2)
    assert len(cut) == 2 and cut[-1].endswith("\u2026")


def test_render_is_deterministic():
    document, _ = cfdi(descriptions(10))
    assert pdf.render(document) == pdf.render(document)


# -- the shared stamped samples ---------------------------------------------------------------------

SAMPLES = ("cfdiutils_cfdi40-valid.xml", "satcfdi_HE951128469_ingreso_iva16_stamped.xml",
           "satcfdi_xiqb891116qe4_ingreso_iva16_stamped.xml")


@needs_data("mx", "samples")
@pytest.mark.parametrize("name", SAMPLES)
def test_shared_samples_print_their_values(name):
    data = (DATA / "mx" / "samples" / name).read_bytes()
    root = etree.fromstring(data)
    ns = {"cfdi": CFDI_NS, "tfd": TFD_NS}
    tfd = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", ns)
    issuer, customer = root.find("cfdi:Emisor", ns), root.find("cfdi:Receptor", ns)
    pages = pages_text(pdf.render(data))
    assert len(pages) == 1
    text = pages[0]
    for value in (issuer.get("Rfc"), issuer.get("Nombre"), customer.get("Rfc"), customer.get("Nombre"),
                  f"Domicilio fiscal (C.P.): {customer.get('DomicilioFiscalReceptor')}",
                  f"Lugar de expedición (C.P.): {root.get('LugarExpedicion')}",
                  f"Folio fiscal: {tfd.get('UUID')}", root.get("NoCertificado"), tfd.get("NoCertificadoSAT"),
                  tfd.get("RfcProvCertif")):
        assert value in text, value
    assert_total(text, "Subtotal", Decimal(root.get("SubTotal")))
    assert_total(text, "Total", Decimal(root.get("Total")))
    for concept in root.iterfind("cfdi:Conceptos/cfdi:Concepto", ns):
        assert concept.get("ClaveProdServ") in text and mx(concept.get("Importe")) in text
    whole = squeezed(text)
    assert root.get("Sello") in whole and tfd.get("SelloSAT") in whole


@needs_data("mx", "samples")
@needs_data("mx", "xslt", "cadenaoriginal_TFD_1_1.xslt")
@pytest.mark.parametrize("name", SAMPLES)
def test_the_printed_cadena_is_what_sats_xslt_makes_of_the_stamp(name):
    data = (DATA / "mx" / "samples" / name).read_bytes()
    tfd = etree.fromstring(data).find(f"{{{CFDI_NS}}}Complemento/{{{TFD_NS}}}TimbreFiscalDigital")
    transform = etree.XSLT(etree.parse(str(DATA / "mx" / "xslt" / "cadenaoriginal_TFD_1_1.xslt")))
    chain = str(transform(etree.ElementTree(etree.fromstring(etree.tostring(tfd)))))
    assert chain.startswith("||1.1|") and chain.endswith("||")
    assert pdf.stamp_chain(tfd) == chain
    assert chain in squeezed(pages_text(pdf.render(data))[0])


# -- what is not a stamped CFDI 4.0 -----------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"<cfdi:Comprobante", "not well-formed"),
    (b'<Comprobante Version="4.0"/>', "Expected a CFDI 4.0"),
    (b'<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/3" Version="3.3"/>', "Expected a CFDI 4.0"),
])
def test_what_is_not_a_cfdi_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        pdf.render(data)


def test_a_cfdi_without_stamp_is_refused():
    document, _ = cfdi(descriptions(1), stamped=False)
    with pytest.raises(ValueError, match="no TimbreFiscalDigital"):
        pdf.render(document)


def _payment_receipt() -> bytes:
    """A CFDI de pago as Sello builds it (two payments: pesos, and dollars for an invoice in pesos), stamped
    with a TimbreFiscalDigital made here."""
    from tests.unit.test_pac_payments import receipt

    root = receipt()
    second = receipt(currency="USD", exchange_rate="18.50", amount="40.00")
    pagos = root.find(f"{{{CFDI_NS}}}Complemento/{{http://www.sat.gob.mx/Pagos20}}Pagos")
    pagos.append(second.find(f"{{{CFDI_NS}}}Complemento/{{http://www.sat.gob.mx/Pagos20}}Pagos/"
                             f"{{http://www.sat.gob.mx/Pagos20}}Pago"))
    root.set("Sello", SELLO)
    complemento = root.find(f"{{{CFDI_NS}}}Complemento")
    tfd = etree.SubElement(complemento, f"{{{TFD_NS}}}TimbreFiscalDigital", nsmap={"tfd": TFD_NS})
    for key, value in (("Version", "1.1"), ("UUID", UUID), ("FechaTimbrado", "2025-06-30T12:01:00"),
                       ("RfcProvCertif", "SPR190613I52"), ("SelloCFD", SELLO), ("NoCertificadoSAT", "30001000000500003456"),
                       ("SelloSAT", SELLO_SAT)):
        tfd.set(key, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_payment_receipt_prints_its_payments_documents_and_totals():
    text = " ".join(pages_text(pdf.render(_payment_receipt())))
    for fact in ("RECIBO DE PAGO", "Tipo de comprobante: P - Pago", "Uso del CFDI: CP01 - Pagos", "PAGO 1", "PAGO 2",
                 "Fecha de pago: ", "Forma de pago: 03 - Transferencia electrónica de fondos",
                 "Moneda: USD - Dólar americano", "Tipo de cambio: 18.5", "Monto: 700.00 MXN", "Monto: 40.00 USD",
                 "DOCUMENTOS RELACIONADOS", "MXN 1 1,410.00 700.00 710.00", "MXN 18.5 1 1,410.00",
                 "IVA 16%: 79.43 (base 496.45)", "IVA exento, base 124.11", "Ret. ISR 10%: 49.65 (base 496.45)",
                 "Total retenciones ISR 49.65 Base IVA 16% 496.45 IVA 16% 79.43 Base IVA exento 124.11 "
                 "Monto total de los pagos 700.00"):
        assert fact in text, fact
    assert "5FB2822E-396D-4725-8521-CDC4BDD20CCF" in squeezed(text)
    assert "Importe con letra" not in text  # Moneda XXX: no total in words


def test_a_payment_receipt_in_english():
    text = " ".join(pages_text(pdf.render(_payment_receipt(), language="en")))
    for fact in ("PAYMENT 1", "RELATED DOCUMENTS", "Amount paid", "Outstanding balance", "Total of the payments"):
        assert fact in text, fact
