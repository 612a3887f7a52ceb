"""What the RIDE prints is what the XML says: names, descriptions and additional fields in any Latin
script come back from the PDF's text as the XML has them (the fonts are embedded, not base-14), and
numbers, dates and terms are written for the issuer's locale."""

from __future__ import annotations

import io
import re
import unicodedata
from decimal import Decimal
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sello.countries.ec import ride

from tests.unit.test_ec_ride import BUYER, CLAVE, ISSUER, descriptions, es, invoice, pages_text, record

# Blocks of the Latin script (and the punctuation and arrows names carry) whose every letter, digit,
# punctuation mark and symbol the RIDE's fonts have.
LATIN_BLOCKS = (
    (0x0021, 0x007E),  # Basic Latin
    (0x00A1, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B
    (0x0250, 0x02AF),  # IPA Extensions
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2C60, 0x2C7F),  # Latin Extended-C
    (0x2010, 0x2027),  # General Punctuation: dashes, quotation marks, ellipsis
    (0x2190, 0x2193),  # arrows ← ↑ → ↓
)
LATIN = sorted(
    chr(code) for start, end in LATIN_BLOCKS for code in range(start, end + 1)
    if unicodedata.category(chr(code))[0] in "LNPS" and not chr(code).isspace())
FIXED = "Łódź Dvořák Şişli → “cita” ñandú Gómez Müller François Straße œuvre"

word = st.text(alphabet=LATIN, min_size=1, max_size=8)
phrase = st.lists(word, min_size=1, max_size=4).map(" ".join)


def xml_text(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def with_texts(comprobante: bytes, *, issuer: str, buyer: str, description: str,
               field: tuple[str, str]) -> bytes:
    """The invoice with its issuer's and buyer's names, its first line's description and its first
    additional field replaced."""
    name, value = field
    text = comprobante.decode("utf-8")
    text = text.replace(f"<razonSocial>{xml_text(ISSUER)}</razonSocial>",
                        f"<razonSocial>{xml_text(issuer)}</razonSocial>")
    text = text.replace(escape(BUYER), xml_text(buyer))
    text = text.replace(f"<descripcion>{descriptions(1)[0]}</descripcion>",
                        f"<descripcion>{xml_text(description)}</descripcion>")
    text = text.replace('<campoAdicional nombre="Email">jose.nunez@example.com</campoAdicional>',
                        f'<campoAdicional nombre="{xml_text(name)}">{xml_text(value)}</campoAdicional>')
    return text.encode("utf-8")


def assert_printed_as_written(issuer: str, buyer: str, description: str, field: tuple[str, str]) -> None:
    comprobante, _ = invoice(descriptions(3))
    (text,) = pages_text(ride.render(record(with_texts(comprobante, issuer=issuer, buyer=buyer,
                                                        description=description, field=field))))
    # Each value sits between its label (or the cell before it) and what follows it on the page.
    assert text.startswith(f"{issuer} Café Ñandú Dirección Matriz:"), text
    assert f"Razón Social / Nombres y Apellidos: {buyer} Identificación:" in text, text
    assert f"P0000 AUX-0 {es('1')} {description} {es('12.50')}" in text, text
    assert f"INFORMACIÓN ADICIONAL {field[0]} {field[1]} Teléfono" in text, text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issuer=phrase, buyer=phrase, description=phrase, field=st.tuples(word, phrase))
def test_latin_text_comes_back_from_the_pdf_as_the_xml_has_it(issuer, buyer, description, field):
    assert_printed_as_written(issuer, buyer, description, field)


def test_letters_outside_latin_1_and_typographic_marks_print_as_they_are():
    words = FIXED.split()
    assert_printed_as_written(" ".join(words[:3]), " ".join(words[3:6]), FIXED, ("Ciudad", "Kraków → Łódź"))
    text = " ".join(pages_text(ride.render(record(invoice(descriptions(2) + [FIXED])[0]))))
    assert FIXED in text
    for ch in "Łřş→“”ñáüçßœ":
        assert ch in text


def test_fonts_are_embedded_truetype_subsets():
    comprobante, _ = invoice(descriptions(10) + [FIXED])
    page = PdfReader(io.BytesIO(ride.render(record(comprobante)))).pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    # regular, bold, and the fallback for the arrow; no font the PDF would only name
    assert len(fonts) == 3
    for font in fonts:
        assert font["/Subtype"] == "/TrueType"
        assert re.fullmatch(r"/[A-Z]{6}\+\S+", font["/BaseFont"]), font["/BaseFont"]  # a subset
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000
        assert "/ToUnicode" in font


def test_a_ten_line_invoice_stays_small():
    """Subsets hold only the glyphs used, so two embedded fonts add tens of kilobytes, not the
    hundreds the whole fonts would."""
    comprobante, _ = invoice(descriptions(10))
    assert len(ride.render(record(comprobante))) < 60_000


def test_characters_without_glyph_are_replaced_by_their_letters_or_a_question_mark():
    comprobante, _ = invoice(["Ⅻ Olimpiada 中文 \ue000fin"])
    text = pages_text(ride.render(record(comprobante)))[0]
    assert "XII Olimpiada ?? fin" in text


# -- numbers, dates and terms in the issuer's locale ----------------------------------------------

def en(value: Decimal | str) -> str:
    return f"{Decimal(value):,.2f}"


def test_spanish_is_the_default_with_ecuadorian_numbers_days_and_dates():
    comprobante, expected = invoice(descriptions(10))
    for locale in (None, "es", "es_EC", "es-EC"):
        text = pages_text(ride.render(record(comprobante), language=locale))[0]
        assert f"VALOR TOTAL {es(expected['VALOR TOTAL'])}" in text, locale
        assert f"19 - TARJETA DE CRÉDITO {es(expected['VALOR TOTAL'])} 30 días" in text, locale
        assert "Fecha Emisión: 21/11/2026" in text
        assert "FECHA Y HORA DE AUTORIZACIÓN: 21/11/2026 10:15:30" in text


def test_thousands_are_grouped_and_every_decimal_of_a_price_is_kept():
    comprobante, _ = invoice(descriptions(1))
    text = comprobante.decode().replace("<precioUnitario>12.50</precioUnitario>",
                                        "<precioUnitario>1234.567891</precioUnitario>")
    text = text.replace("<cantidad>1.00</cantidad>", "<cantidad>2500.000000</cantidad>")
    page = pages_text(ride.render(record(text.encode())))[0]
    assert "2.500,00 Artículo 01 café de altura 1.234,567891" in page


def test_english_writes_numbers_dates_and_terms_its_own_way():
    comprobante, expected = invoice(descriptions(10))
    text = pages_text(ride.render(record(comprobante), language="en"))[0]
    # English labels (the ride catalog), English numbers and dates; SRI's own legends stay Spanish.
    assert f"TOTAL {en(expected['VALOR TOTAL'])}" in text
    assert f"SUBTOTAL BEFORE TAXES {en(expected['SUBTOTAL SIN IMPUESTOS'])}" in text
    assert f"{en(expected['VALOR TOTAL'])} 30 days" in text
    assert "Date of issue: 11/21/2026" in text
    assert "FECHA Y HORA DE AUTORIZACIÓN: 11/21/2026 10:15:30" in text
    assert CLAVE in text  # codes and numbers of documents never change


def test_an_unknown_locale_falls_back_to_spanish():
    comprobante, expected = invoice(descriptions(2))
    text = pages_text(ride.render(record(comprobante), language="xx_YY"))[0]
    assert f"VALOR TOTAL {es(expected['VALOR TOTAL'])}" in text
