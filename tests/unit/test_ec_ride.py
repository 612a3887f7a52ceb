"""RIDE PDFs of authorized SRI comprobantes: content, pagination, barcode, text encoding, bad records."""

from __future__ import annotations

import io
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sello import pdf_fonts
from sello.countries.ec import ride, ride_layout

from tests.conftest import DATA, needs_data

CLAVE = "2111202601179001234500110010010000000421234567814"
AUTHORIZED_AT = "2026-11-21T10:15:30-05:00"
ISSUER = "Cafetería Ñandú & Cía. S.A."
BUYER = "José Núñez Peña"

# (codigoPorcentaje, tarifa) of the IVA rates the sample invoice uses, cycled over its lines.
RATES = (("4", Decimal(15)), ("0", Decimal(0)), ("5", Decimal(5)), ("6", Decimal(0)), ("7", Decimal(0)))
RATE_LABELS = {"4": "15%", "0": "0%", "5": "5%", "6": "NO OBJETO DE IVA", "7": "EXENTO DE IVA"}
ICE = Decimal("3.00")  # on line 1, added to its IVA base
IRBPNR_PER_BOTTLE = Decimal("0.02")  # on line 2


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def es(value: Decimal | str) -> str:
    """An amount as a RIDE in Spanish (Ecuador) prints it: 1.234,50 (dot between thousands, comma
    before the two decimals)."""
    return f"{Decimal(value):,.2f}".translate(str.maketrans(",.", ".,"))


def info_tributaria(cod_doc: str, secuencial: str = "000000042") -> str:
    return (
        "<infoTributaria><ambiente>1</ambiente><tipoEmision>1</tipoEmision>"
        f"<razonSocial>{escape(ISSUER)}</razonSocial><nombreComercial>Café Ñandú</nombreComercial>"
        f"<ruc>1790012345001</ruc><claveAcceso>{CLAVE}</claveAcceso><codDoc>{cod_doc}</codDoc>"
        f"<estab>001</estab><ptoEmi>001</ptoEmi><secuencial>{secuencial}</secuencial>"
        "<dirMatriz>Av. Amazonas N34-120 y Av. Atahualpa, Quito</dirMatriz>"
        "<agenteRetencion>1</agenteRetencion><contribuyenteRimpe>CONTRIBUYENTE RÉGIMEN RIMPE</contribuyenteRimpe>"
        "</infoTributaria>"
    )


def issuer_info() -> str:
    return ("<dirEstablecimiento>Calle Sucre 5-21, Cuenca</dirEstablecimiento>"
            "<contribuyenteEspecial>5368</contribuyenteEspecial><obligadoContabilidad>SI</obligadoContabilidad>")


def additional_info() -> str:
    return ('<infoAdicional><campoAdicional nombre="Email">jose.nunez@example.com</campoAdicional>'
            '<campoAdicional nombre="Teléfono">0991234567</campoAdicional></infoAdicional>')


def invoice(descriptions: list[str]) -> tuple[bytes, dict[str, Decimal]]:
    """A factura 1.1.0 with one line per description (IVA rates cycled over RATES, ICE on the first line,
    IRBPNR on the second) and the totals it must show, computed here."""
    details, bases, vat = [], Counter(), Counter()
    subtotal = discount_total = Decimal(0)
    for i, description in enumerate(descriptions):
        code, rate = RATES[i % len(RATES)]
        quantity, price = Decimal(i % 4 + 1), Decimal("12.50") + i
        discount = Decimal("1.00") if i % 3 == 0 else Decimal(0)
        total = quantity * price - discount
        base = total + (ICE if i == 0 else 0)
        taxes = [(f"<impuesto><codigo>2</codigo><codigoPorcentaje>{code}</codigoPorcentaje><tarifa>{rate}</tarifa>"
                  f"<baseImponible>{base:.2f}</baseImponible><valor>{money(base * rate / 100):.2f}</valor>"
                  "</impuesto>")]
        if i == 0:
            taxes.append(f"<impuesto><codigo>3</codigo><codigoPorcentaje>3011</codigoPorcentaje><tarifa>15</tarifa>"
                         f"<baseImponible>{total:.2f}</baseImponible><valor>{ICE}</valor></impuesto>")
        if i == 1:
            taxes.append(f"<impuesto><codigo>5</codigo><codigoPorcentaje>5001</codigoPorcentaje>"
                         f"<tarifa>{IRBPNR_PER_BOTTLE}</tarifa><baseImponible>{quantity:.2f}</baseImponible>"
                         f"<valor>{money(quantity * IRBPNR_PER_BOTTLE)}</valor></impuesto>")
        details.append(
            f"<detalle><codigoPrincipal>P{i:04d}</codigoPrincipal><codigoAuxiliar>AUX-{i}</codigoAuxiliar>"
            f"<descripcion>{escape(description)}</descripcion><cantidad>{quantity:.2f}</cantidad>"
            f"<precioUnitario>{price:.2f}</precioUnitario><descuento>{discount:.2f}</descuento>"
            f"<precioTotalSinImpuesto>{total:.2f}</precioTotalSinImpuesto>"
            f"<impuestos>{''.join(taxes)}</impuestos></detalle>")
        subtotal += total
        discount_total += discount
        bases[code] += base
        vat[code] += money(base * rate / 100)
    irbpnr = money(2 * IRBPNR_PER_BOTTLE) if len(descriptions) > 1 else Decimal(0)
    tips = Decimal("2.50")
    grand_total = subtotal + sum(vat.values()) + ICE + irbpnr + tips
    totals = "".join(
        f"<totalImpuesto><codigo>2</codigo><codigoPorcentaje>{code}</codigoPorcentaje>"
        f"<baseImponible>{bases[code]:.2f}</baseImponible><valor>{vat[code]:.2f}</valor></totalImpuesto>"
        for code in bases)
    totals += (f"<totalImpuesto><codigo>3</codigo><codigoPorcentaje>3011</codigoPorcentaje>"
               f"<baseImponible>{Decimal('11.50'):.2f}</baseImponible><valor>{ICE}</valor></totalImpuesto>")
    if irbpnr:
        totals += (f"<totalImpuesto><codigo>5</codigo><codigoPorcentaje>5001</codigoPorcentaje>"
                   f"<baseImponible>2.00</baseImponible><valor>{irbpnr}</valor></totalImpuesto>")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><factura id="comprobante" version="1.1.0">'
        f"{info_tributaria('01')}<infoFactura><fechaEmision>21/11/2026</fechaEmision>{issuer_info()}"
        "<tipoIdentificacionComprador>05</tipoIdentificacionComprador><guiaRemision>001-001-000000007</guiaRemision>"
        f"<razonSocialComprador>{escape(BUYER)}</razonSocialComprador>"
        "<identificacionComprador>1710034065</identificacionComprador>"
        "<direccionComprador>Av. 6 de Diciembre y Colón</direccionComprador>"
        f"<totalSinImpuestos>{subtotal:.2f}</totalSinImpuestos><totalDescuento>{discount_total:.2f}</totalDescuento>"
        f"<totalConImpuestos>{totals}</totalConImpuestos><propina>{tips}</propina>"
        f"<importeTotal>{grand_total:.2f}</importeTotal><moneda>DOLAR</moneda>"
        f"<pagos><pago><formaPago>19</formaPago><total>{grand_total:.2f}</total><plazo>30</plazo>"
        "<unidadTiempo>dias</unidadTiempo></pago></pagos></infoFactura>"
        f"<detalles>{''.join(details)}</detalles>{additional_info()}</factura>")
    expected = {f"SUBTOTAL {RATE_LABELS[c]}": money(bases[c]) for c in bases}
    expected |= {f"IVA {RATE_LABELS[c]}": vat[c] for c in bases if c in ("4", "5")}
    expected |= {"SUBTOTAL SIN IMPUESTOS": subtotal, "TOTAL DESCUENTO": discount_total, "ICE": ICE,
                 "PROPINA": tips, "VALOR TOTAL": grand_total}
    if irbpnr:
        expected["IRBPNR"] = irbpnr
    return xml.encode("utf-8"), expected


def credit_note() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><notaCredito id="comprobante" version="1.1.0">'
        f"{info_tributaria('04', '000000003')}<infoNotaCredito><fechaEmision>22/11/2026</fechaEmision>"
        "<dirEstablecimiento>Calle Sucre 5-21, Cuenca</dirEstablecimiento>"
        f"<tipoIdentificacionComprador>05</tipoIdentificacionComprador><razonSocialComprador>{escape(BUYER)}"
        "</razonSocialComprador><identificacionComprador>1710034065</identificacionComprador>"
        "<obligadoContabilidad>SI</obligadoContabilidad><codDocModificado>01</codDocModificado>"
        "<numDocModificado>001-001-000000042</numDocModificado><fechaEmisionDocSustento>21/11/2026"
        "</fechaEmisionDocSustento><totalSinImpuestos>20.00</totalSinImpuestos>"
        "<valorModificacion>23.00</valorModificacion><moneda>DOLAR</moneda><totalConImpuestos><totalImpuesto>"
        "<codigo>2</codigo><codigoPorcentaje>4</codigoPorcentaje><baseImponible>20.00</baseImponible>"
        "<valor>3.00</valor></totalImpuesto></totalConImpuestos><motivo>Devolución de mercadería dañada</motivo>"
        "</infoNotaCredito><detalles><detalle><codigoInterno>P0001</codigoInterno><codigoAdicional>AUX-1"
        "</codigoAdicional><descripcion>Café molido 500 g</descripcion><cantidad>2</cantidad>"
        "<precioUnitario>10.50</precioUnitario><descuento>1.00</descuento>"
        "<precioTotalSinImpuesto>20.00</precioTotalSinImpuesto><impuestos><impuesto><codigo>2</codigo>"
        "<codigoPorcentaje>4</codigoPorcentaje><tarifa>15</tarifa><baseImponible>20.00</baseImponible>"
        f"<valor>3.00</valor></impuesto></impuestos></detalle></detalles>{additional_info()}</notaCredito>"
    ).encode()


def debit_note() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><notaDebito id="comprobante" version="1.0.0">'
        f"{info_tributaria('05', '000000004')}<infoNotaDebito><fechaEmision>23/11/2026</fechaEmision>"
        f"<tipoIdentificacionComprador>04</tipoIdentificacionComprador><razonSocialComprador>{escape(BUYER)}"
        "</razonSocialComprador><identificacionComprador>1790012345001</identificacionComprador>"
        "<codDocModificado>01</codDocModificado><numDocModificado>001-001-000000042</numDocModificado>"
        "<fechaEmisionDocSustento>21/11/2026</fechaEmisionDocSustento><totalSinImpuestos>16.31</totalSinImpuestos>"
        "<impuestos><impuesto><codigo>2</codigo><codigoPorcentaje>4</codigoPorcentaje><tarifa>15</tarifa>"
        "<baseImponible>16.31</baseImponible><valor>2.45</valor></impuesto></impuestos>"
        "<valorTotal>18.76</valorTotal><pagos><pago><formaPago>01</formaPago><total>18.76</total></pago></pagos>"
        "</infoNotaDebito><motivos><motivo><razon>Intereses por mora</razon><valor>0.66</valor></motivo>"
        "<motivo><razon>Gastos de cobranza</razon><valor>15.65</valor></motivo></motivos></notaDebito>"
    ).encode()


def delivery_guide() -> bytes:
    def destination(name: str, tax_id: str, address: str, items: list[tuple[str, str]]) -> str:
        details = "".join(
            f"<detalle><codigoInterno>{code}</codigoInterno><descripcion>{escape(desc)}</descripcion>"
            "<cantidad>3</cantidad></detalle>" for code, desc in items)
        return (f"<destinatario><identificacionDestinatario>{tax_id}</identificacionDestinatario>"
                f"<razonSocialDestinatario>{escape(name)}</razonSocialDestinatario>"
                f"<dirDestinatario>{escape(address)}</dirDestinatario><motivoTraslado>Venta</motivoTraslado>"
                "<ruta>Quito - Cuenca</ruta><codDocSustento>01</codDocSustento>"
                "<numDocSustento>001-001-000000042</numDocSustento><numAutDocSustento>"
                f"{CLAVE}</numAutDocSustento><fechaEmisionDocSustento>21/11/2026</fechaEmisionDocSustento>"
                f"<detalles>{details}</detalles></destinatario>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><guiaRemision id="comprobante" version="1.1.0">'
        f"{info_tributaria('06', '000000005')}<infoGuiaRemision>"
        "<dirEstablecimiento>Calle Sucre 5-21, Cuenca</dirEstablecimiento>"
        "<dirPartida>Bodega Norte, Panamericana km 7</dirPartida>"
        "<razonSocialTransportista>Transportes Andinos Cía. Ltda.</razonSocialTransportista>"
        "<tipoIdentificacionTransportista>04</tipoIdentificacionTransportista>"
        "<rucTransportista>1796875790001</rucTransportista><obligadoContabilidad>SI</obligadoContabilidad>"
        "<fechaIniTransporte>21/11/2026</fechaIniTransporte><fechaFinTransporte>22/11/2026</fechaFinTransporte>"
        "<placa>PCQ-1234</placa></infoGuiaRemision><destinatarios>"
        + destination(BUYER, "1710034065", "Av. Loja 2-10, Cuenca", [("P0001", "Café molido 500 g")])
        + destination("Almacenes Peñafiel", "0190012345001", "Calle Larga 7-45, Cuenca",
                      [("P0002", "Té de manzanilla"), ("P0003", "Chocolate amargo 70%")])
        + "</destinatarios></guiaRemision>"
    ).encode("utf-8")


def withholding() -> bytes:
    def support(number: str, withholdings: list[tuple[str, str, str, str, str]]) -> str:
        rows = "".join(
            f"<retencion><codigo>{code}</codigo><codigoRetencion>{ret}</codigoRetencion>"
            f"<baseImponible>{base}</baseImponible><porcentajeRetener>{pct}</porcentajeRetener>"
            f"<valorRetenido>{value}</valorRetenido></retencion>" for code, ret, base, pct, value in withholdings)
        return (f"<docSustento><codSustento>01</codSustento><codDocSustento>01</codDocSustento>"
                f"<numDocSustento>{number}</numDocSustento><fechaEmisionDocSustento>20/11/2026"
                f"</fechaEmisionDocSustento><numAutDocSustento>{CLAVE}</numAutDocSustento>"
                "<pagoLocExt>01</pagoLocExt><totalSinImpuestos>1000.00</totalSinImpuestos>"
                "<importeTotal>1150.00</importeTotal><impuestosDocSustento><impuestoDocSustento>"
                "<codImpuestoDocSustento>2</codImpuestoDocSustento><codigoPorcentaje>4</codigoPorcentaje>"
                "<baseImponible>1000.00</baseImponible><tarifa>15</tarifa><valorImpuesto>150.00</valorImpuesto>"
                f"</impuestoDocSustento></impuestosDocSustento><retenciones>{rows}</retenciones>"
                "<pagos><pago><formaPago>20</formaPago><total>1150.00</total></pago></pagos></docSustento>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><comprobanteRetencion id="comprobante" version="2.0.0">'
        f"{info_tributaria('07', '000000006')}<infoCompRetencion><fechaEmision>24/11/2026</fechaEmision>"
        "<obligadoContabilidad>SI</obligadoContabilidad>"
        "<tipoIdentificacionSujetoRetenido>04</tipoIdentificacionSujetoRetenido><parteRel>NO</parteRel>"
        "<razonSocialSujetoRetenido>Distribuidora Muñoz S.A.</razonSocialSujetoRetenido>"
        "<identificacionSujetoRetenido>0990012345001</identificacionSujetoRetenido>"
        "<periodoFiscal>11/2026</periodoFiscal></infoCompRetencion><docsSustento>"
        + support("002001000000123", [("1", "303", "1000.00", "10.00", "100.00"),
                                      ("2", "1", "150.00", "30.00", "45.00")])
        + support("002001000000124", [("1", "312", "1000.00", "1.75", "17.50")])
        + f"</docsSustento>{additional_info()}</comprobanteRetencion>"
    ).encode("utf-8")


def record(comprobante: bytes, *, estado: str = "AUTORIZADO", ambiente: str = "PRUEBAS",
           number: str = CLAVE) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<autorizacion>'
        f"<estado>{estado}</estado><numeroAutorizacion>{number}</numeroAutorizacion>"
        f"<fechaAutorizacion>{AUTHORIZED_AT}</fechaAutorizacion><ambiente>{ambiente}</ambiente>"
        f"<comprobante><![CDATA[{comprobante.decode('utf-8')}]]></comprobante>"
        "<mensajes><mensaje><identificador>60</identificador><mensaje>ESTE PROCESO FUE REALIZADO EN EL AMBIENTE "
        "DE PRUEBAS</mensaje><tipo>INFORMATIVO</tipo></mensaje></mensajes></autorizacion>"
    ).encode()


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text in drawing order, runs separated by single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def descriptions(n: int) -> list[str]:
    return [f"Artículo {i:02d} café de altura" for i in range(1, n + 1)]


def assert_amount(text: str, label: str, value: Decimal) -> None:
    """The totals row `label` shows `value` (label and amount are drawn one after the other)."""
    assert re.search(rf"(^| ){re.escape(label)} {re.escape(es(value))}( |$)", text), (label, value, text)


# -- invoice ----------------------------------------------------------------------------------------

def test_ten_line_invoice_fits_one_page_with_every_line_and_total():
    comprobante, expected = invoice(descriptions(10))
    pages = pages_text(ride.render(record(comprobante)))

    assert len(pages) == 1
    text = pages[0]
    for description in descriptions(10):
        assert description in text
    for label, value in expected.items():
        assert_amount(text, label, value)
    assert "SUBTOTAL 12%" not in text  # a rate the invoice does not use is not listed
    assert "FACTURA" in text and "No. 001-001-000000042" in text
    assert text.count(CLAVE) == 2  # número de autorización and the digits under the barcode
    assert "AMBIENTE: PRUEBAS" in text
    assert "EMISIÓN: NORMAL" in text
    assert "21/11/2026 10:15:30" in text
    assert "Guía de Remisión: 001-001-000000007" in text
    assert "1710034065 (CÉDULA)" in text
    assert "19 - TARJETA DE CRÉDITO" in text and "30 días" in text
    assert "OBLIGADO A LLEVAR CONTABILIDAD: SI" in text
    assert "Contribuyente Especial Nro.: 5368" in text
    assert "Agente de Retención Resolución No.: 1" in text
    assert "CONTRIBUYENTE RÉGIMEN RIMPE" in text
    assert "Teléfono" in text and "jose.nunez@example.com" in text
    assert "Página 1 de 1" in text


def test_non_ascii_names_survive_text_extraction():
    comprobante, _ = invoice(descriptions(3))
    text = pages_text(ride.render(record(comprobante)))[0]

    for name in (ISSUER, BUYER, "Café Ñandú", "Av. 6 de Diciembre y Colón", "Artículo 01 café de altura"):
        assert name in text


def test_characters_outside_the_fonts_are_replaced_not_dropped():
    assert pdf_fonts.printable("Peña Ñandú É Łódź → “x”") == "Peña Ñandú É Łódź → “x”"
    # no glyph in either font: the letters it decomposes to, else "?"; invisible ones go
    assert pdf_fonts.printable("Ⅻ 中 ꞹ") == "XII ? ?"
    assert pdf_fonts.printable("a\ue000b\U000e0001c") == "abc"
    assert pdf_fonts.printable("uno\ndos") == "uno\ndos"


def test_environment_comes_from_the_record():
    comprobante, _ = invoice(descriptions(1))
    text = pages_text(ride.render(record(comprobante, ambiente="PRODUCCION")))[0]
    assert "AMBIENTE: PRODUCCIÓN" in text


def test_authorization_number_is_printed_as_given():
    comprobante, _ = invoice(descriptions(1))
    legacy_number = "2111202614302517900123450012345678901"
    text = pages_text(ride.render(record(comprobante, number=legacy_number)))[0]
    assert legacy_number in text and CLAVE in text


def test_sixty_line_invoice_flows_onto_more_pages_with_repeated_header():
    comprobante, expected = invoice(descriptions(60))
    pages = pages_text(ride.render(record(comprobante)))

    assert len(pages) >= 2
    text = " ".join(pages)
    for description in descriptions(60):
        assert description in text
    for number, page in enumerate(pages, 1):
        assert f"Página {number} de {len(pages)}" in page
    for page in pages[1:]:
        assert "No. 001-001-000000042" in page  # running head
    assert "Cod. Principal" in pages[1] and "Precio Total" in pages[1]  # the table header, repeated
    assert_amount(pages[-1], "VALOR TOTAL", expected["VALOR TOTAL"])


def test_long_description_is_wrapped_then_cut_within_the_page():
    long_text = " ".join(f"palabra{i}" for i in range(400))
    comprobante, _ = invoice(["Descripción corta", "Con detalle " + "x" * 300, long_text])
    pdf = ride.render(record(comprobante))
    pages = pages_text(pdf)

    assert len(pages) == 1
    assert "palabra0 palabra1" in pages[0]
    assert "palabra399" not in pages[0]
    assert "\u2026" in pages[0]
    for x, width in _text_extents(pdf):
        assert 0 <= x and x + width <= ride_layout.PAGE_W - ride_layout.MARGIN + 0.5


def test_wrap_keeps_every_line_within_the_width():
    font, size, width = ride_layout.REGULAR, ride_layout.SIZE, 80.0
    lines = ride_layout.wrap("uno dos tres " + "9" * 60 + " cuatro", font, size, width, 20)
    assert all(ride_layout.text_width(line, font, size) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == "unodostres" + "9" * 60 + "cuatro"

    cut = ride_layout.wrap("palabra " * 50, font, size, width, 2)
    assert len(cut) == 2 and cut[-1].endswith("\u2026")
    assert all(ride_layout.text_width(line, font, size) <= width for line in cut)


def test_render_is_deterministic():
    comprobante, _ = invoice(descriptions(10))
    assert ride.render(record(comprobante)) == ride.render(record(comprobante))


def test_barcode_decodes_to_the_access_key():
    comprobante, _ = invoice(descriptions(10))
    page = PdfReader(io.BytesIO(ride.render(record(comprobante)))).pages[0]
    assert decode_code128(_bars(page)) == CLAVE


def test_other_comprobante_types_have_their_own_barcode_value():
    other = "2111202601179001234500110010010000000991234567818"
    comprobante, _ = invoice(descriptions(2))
    page = PdfReader(io.BytesIO(ride.render(record(comprobante.replace(CLAVE.encode(), other.encode()))))).pages[0]
    assert decode_code128(_bars(page)) == other


# -- other types --------------------------------------------------------------------------------------

def test_credit_note_shows_the_modified_invoice_and_reason():
    text = " ".join(pages_text(ride.render(record(credit_note()))))
    assert "NOTA DE CRÉDITO" in text and "No. 001-001-000000003" in text
    assert "Comprobante que se modifica: FACTURA 001-001-000000042" in text
    assert "Fecha Emisión (Comprobante a modificar): 21/11/2026" in text
    assert "Razón de Modificación: Devolución de mercadería dañada" in text
    assert "Café molido 500 g" in text and "P0001" in text and "AUX-1" in text
    assert_amount(text, "SUBTOTAL 15%", Decimal("20.00"))
    assert_amount(text, "TOTAL DESCUENTO", Decimal("1.00"))
    assert_amount(text, "IVA 15%", Decimal("3.00"))
    assert_amount(text, "VALOR TOTAL", Decimal("23.00"))
    assert CLAVE in text


def test_debit_note_shows_reasons_and_totals():
    text = " ".join(pages_text(ride.render(record(debit_note()))))
    assert "NOTA DE DÉBITO" in text
    assert "Comprobante que se modifica: FACTURA 001-001-000000042" in text
    assert re.search(r"Intereses por mora\s*0,66", text) and re.search(r"Gastos de cobranza\s*15,65", text)
    assert "1790012345001 (RUC)" in text
    assert "01 - SIN UTILIZACIÓN DEL SISTEMA FINANCIERO" in text
    assert_amount(text, "SUBTOTAL 15%", Decimal("16.31"))
    assert_amount(text, "IVA 15%", Decimal("2.45"))
    assert_amount(text, "VALOR TOTAL", Decimal("18.76"))


def test_delivery_guide_shows_carrier_and_every_recipient_with_items():
    text = " ".join(pages_text(ride.render(record(delivery_guide()))))
    assert "GUÍA DE REMISIÓN" in text
    for fact in ("Transportes Andinos Cía. Ltda.", "1796875790001 (RUC)", "Placa: PCQ-1234",
                 "Punto de Partida: Bodega Norte, Panamericana km 7", "Fecha Inicio Transporte: 21/11/2026",
                 "Fecha Fin Transporte: 22/11/2026", "DESTINATARIO 1 DE 2", "DESTINATARIO 2 DE 2", BUYER,
                 "Almacenes Peñafiel", "Av. Loja 2-10, Cuenca", "Comprobante de Venta: FACTURA 001-001-000000042",
                 "Café molido 500 g", "Té de manzanilla", "Chocolate amargo 70%", "Ruta: Quito - Cuenca"):
        assert fact in text, fact
    # Items are listed under their own recipient.
    assert text.index("Café molido") < text.index("Almacenes Peñafiel") < text.index("Té de manzanilla")


def test_withholding_shows_a_table_per_support_document_and_the_total():
    text = " ".join(pages_text(ride.render(record(withholding()))))
    assert "COMPROBANTE DE RETENCIÓN" in text
    assert "Distribuidora Muñoz S.A." in text and "0990012345001 (RUC)" in text
    assert "Período Fiscal: 11/2026" in text
    assert "Comprobante: FACTURA 002-001-000000123" in text and "Comprobante: FACTURA 002-001-000000124" in text
    assert re.search(r"RENTA\s*303\s*1\.000,00\s*10%\s*100,00", text)
    assert re.search(r"IVA\s*1\s*150,00\s*30%\s*45,00", text)
    assert re.search(r"RENTA\s*312\s*1\.000,00\s*1,75%\s*17,50", text)
    assert_amount(text, "TOTAL RETENIDO", Decimal("145.00"))  # first support document
    assert_amount(text, "RETENCIÓN RENTA", Decimal("117.50"))
    assert_amount(text, "RETENCIÓN IVA", Decimal("45.00"))
    assert text.rstrip().count("TOTAL RETENIDO") == 3  # one per support document and the grand total
    assert re.search(r"TOTAL RETENIDO\s*162,50", text)


XSDS = {"factura": "factura_V1.1.0.xsd", "notaCredito": "NotaCredito_V1.1.0.xsd",
        "notaDebito": "NotaDebito_V1.0.0.xsd", "guiaRemision": "GuiaRemision_V1.1.0.xsd",
        "comprobanteRetencion": "ComprobanteRetencion_V2.0.0.xsd"}


@needs_data("ec", "xsd")
@pytest.mark.parametrize("build", [lambda: invoice(descriptions(10))[0], credit_note, debit_note,
                                   delivery_guide, withholding],
                         ids=["factura", "notaCredito", "notaDebito", "guiaRemision", "comprobanteRetencion"])
def test_sample_comprobantes_are_schema_valid(build):
    """The comprobantes these tests render are valid against SRI's schemas, so the element names the
    RIDE reads are the real ones."""
    from lxml import etree

    doc = etree.fromstring(build())
    schema = etree.XMLSchema(etree.parse(str(DATA / "ec" / "xsd" / XSDS[doc.tag])))
    assert schema.validate(doc), schema.error_log


SAMPLES = {  # shared sample -> (title, texts that must appear)
    "invoice": ("FACTURA", ["Don Venom", "Costo 1", "SUBTOTAL 15%", "44,56"]),
    "credit-note": ("NOTA DE CRÉDITO", ["ANULACION DE PRUEBA", "FACTURA 001-001-000000012", "115,00"]),
    "debit-note": ("NOTA DE DÉBITO", ["INTERESES", "GASTO DE COBRANZA", "18,66"]),
    "delivery-guide": ("GUÍA DE REMISIÓN", ["Transportes S.A.", "Tonato Henry", "CAMIONETA 4X4 DIESEL 3.7",
                                           "Chasis: 1LDETA03V20003287", "Guayaquil – Cayambe"]),
    "withholding-certificate": ("COMPROBANTE DE RETENCIÓN", ["FACTURA 001-001-000000001", "07/2023",
                                                            "TOTAL RETENIDO"]),
}


@needs_data("ec", "samples")
@pytest.mark.parametrize("name", SAMPLES)
def test_shared_samples_render(name):
    comprobante = (DATA / "ec" / "samples" / f"bryancalisto_{name}_original.xml").read_bytes()
    clave = re.search(rb"<claveAcceso>(\d+)</claveAcceso>", comprobante).group(1).decode()
    text = " ".join(pages_text(ride.render(record(comprobante, number=clave))))
    title, facts = SAMPLES[name]
    assert title in text and clave in text
    for fact in facts:
        assert fact in text, fact


# -- bad records ------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"<autorizacion><estado>AUTORIZADO</estado><comprobante>", "not well-formed"),
    (b"<respuesta/>", "Expected an <autorizacion>"),
    (b"<autorizacion><estado>AUTORIZADO</estado></autorizacion>", "no comprobante"),
    ((b"<autorizacion><estado>AUTORIZADO</estado><comprobante><![CDATA[<factura><infoTributaria>]]>"
      b"</comprobante></autorizacion>"), "comprobante in the authorization record is not well-formed"),
    ((b"<autorizacion><estado>AUTORIZADO</estado><comprobante><![CDATA[<notaVenta/>]]></comprobante>"
      b"</autorizacion>"), "notaVenta"),
    ((b"<autorizacion><estado>AUTORIZADO</estado><comprobante><![CDATA[<factura><infoFactura/></factura>]]>"
      b"</comprobante></autorizacion>"), "claveAcceso"),
])
def test_garbled_records_are_rejected(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ride.render(data)


@pytest.mark.parametrize("estado", ["NO AUTORIZADO", "EN PROCESO", ""])
def test_records_not_authorized_are_rejected(estado):
    comprobante, _ = invoice(descriptions(1))
    with pytest.raises(ValueError, match="Only an AUTORIZADO document has a RIDE"):
        ride.render(record(comprobante, estado=estado))


# -- PDF inspection helpers -------------------------------------------------------------------------

def _filled_rects(page) -> list[tuple[float, float, float, float]]:
    """Rectangles painted with a fill and no stroke (`re` then `f` or `f*`), in their own coordinates."""
    ops = ContentStream(page.get_contents(), page.pdf).operations
    rects = []
    for (operands, op), (_, next_op) in pairwise(ops):
        if op == b"re" and next_op in (b"f", b"f*"):
            rects.append(tuple(float(v) for v in operands))
    return rects


def _bars(page) -> list[tuple[float, float]]:
    """(x, width) of the barcode's bars: the largest set of filled rectangles of equal height and base."""
    rects = _filled_rects(page)
    (y, h), count = Counter((y, h) for _, y, _, h in rects).most_common(1)[0]
    assert count >= 30, "no barcode found"
    return sorted((x, w) for x, yy, w, hh in rects if (yy, hh) == (y, h))


def decode_code128(bars: list[tuple[float, float]]) -> str:
    """Decodes Code 128 (code sets B and C) from bar positions, checking the check symbol."""
    from reportlab.graphics.barcode.code128 import _patterns  # the standard symbol table

    widths = []
    for (x, w), following in zip(bars, [*bars[1:], None]):
        widths.append(w)
        if following:
            widths.append(following[0] - x - w)
    module = min(widths)
    modules = [round(w / module) for w in widths]
    assert all(abs(w / module - m) < 0.15 for w, m in zip(widths, modules)), "bars are not whole modules"
    table = {"".join(str(ord(c.lower()) - 96) for c in pattern): value for value, pattern in _patterns.items()}
    symbols = [table["".join(map(str, modules[i:i + 6]))] for i in range(0, len(modules) - 7, 6)]
    assert "".join(map(str, modules[-7:])) == "2331112", "no stop pattern"
    start, *data, check = symbols
    assert check == (start + sum(i * v for i, v in enumerate(data, 1))) % 103, "check symbol mismatch"
    code_set = {104: "B", 105: "C"}[start]
    text = ""
    for value in data:
        if code_set == "C" and value == 100:
            code_set = "B"
        elif code_set == "B" and value == 99:
            code_set = "C"
        elif code_set == "C":
            text += f"{value:02d}"
        else:
            text += chr(value + 32)
    return text


def _text_extents(pdf: bytes) -> list[tuple[float, float]]:
    """(x, width) of every text run on every page, from the text matrix, and the glyph widths the
    embedded font declares for the codes shown (/Widths, in thousandths of the size)."""
    extents = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        font, size, x = None, 0.0, 0.0
        for operands, op in ContentStream(page.get_contents(), page.pdf).operations:
            if op == b"Tf":
                font, size = fonts[operands[0]], float(operands[1])
            elif op == b"Tm":
                x = float(operands[4])
            elif op == b"Tj":
                raw = operands[0]
                codes = bytes(getattr(raw, "original_bytes", raw))
                first, widths = int(font["/FirstChar"]), font["/Widths"]
                extents.append((x, sum(float(widths[c - first]) for c in codes) * size / 1000))
    return extents
