"""The printed CFDI's words: labels in Spanish by default and English on request, numbers and dates as
Mexico writes them, names in any Latin script as the XML has them, the total in Spanish words, and
the issuer's logo top left (nothing breaks without it)."""

from __future__ import annotations

import io
from decimal import Decimal
from itertools import pairwise

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sello.countries.mx import pdf, pdf_layout

from tests.unit.test_mx_pdf import UUID, cfdi, descriptions, mx, pages_text


def picture(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, fmt)
    return out.getvalue()


def placements(page) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of every image drawn on the page: the matrix set (cm) before its Do."""
    ops = ContentStream(page.get_contents(), page.pdf).operations
    found = []
    for (operands, op), (_, next_op) in pairwise(ops):
        if op == b"cm" and next_op == b"Do":
            a, _, _, d, e, f = (float(v) for v in operands)
            found.append((e, f, a, d))
    return found


# -- language ---------------------------------------------------------------------------------------

def test_spanish_is_the_default_with_mexican_numbers_and_dates():
    document, expected = cfdi(descriptions(3))
    text = pages_text(pdf.render(document))[0]
    assert text == pages_text(pdf.render(document, language="es"))[0]
    assert text == pages_text(pdf.render(document, language="es-MX"))[0]
    assert "Fecha de emisión: 14/03/2026 10:15:30" in text
    # Mexico groups thousands with a comma and writes cents after a point (not 1.234,56).
    assert f"Total {mx(expected['total'])}" in text and "," in mx(expected["total"])


def test_english_labels_with_sats_own_words_kept():
    document, expected = cfdi(descriptions(3), related=[("01", [UUID])])
    text = pages_text(pdf.render(document, language="en"))[0]
    assert "W/h ISR 10%: " in text and "ISR withheld 10%" in text
    for label in ("INVOICE", "Tax folio (UUID):", "Issue date:", "CUSTOMER", "Name:", "Tax regime:",
                  "CFDI use:", "ITEMS", "Product/service code", "Taxes", "Unit price", "Discount", "Amount",
                  "PAYMENT",
                  "Payment method:", "Total", "DIGITAL TAX STAMP", "Issuer's certificate number:",
                  "SAT's certificate number:", "Certification date:", "Digital seal of the CFDI:",
                  "SAT's digital seal:", "RELATED CFDI", "Relationship type:", "Page 1 of 1"):
        assert label in text, label
    for spanish in ("Régimen fiscal:", "Uso del CFDI:", "Forma de pago:", "Página 1 de 1", "CONCEPTOS"):
        assert spanish not in text, spanish
    # The meanings of SAT's codes, the amount in words and the legend are SAT's Spanish.
    for kept in ("601 - General de Ley Personas Morales", "G03 - Gastos en general", "PESOS",
                 "Este documento es una representación impresa de un CFDI", "I - Ingreso"):
        assert kept in text, kept
    assert "Issue date: 03/14/2026 10:15:30" in text
    assert mx(expected["total"]) in text


def test_ten_concepts_take_one_page_in_english_too():
    document, _ = cfdi(descriptions(10))
    assert len(pages_text(pdf.render(document, language="en", logo=picture((600, 200))))) == 1


def test_an_unknown_language_is_spanish():
    document, _ = cfdi(descriptions(1))
    assert pages_text(pdf.render(document, language="xx")) == pages_text(pdf.render(document))


# -- names and unicode ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Panadería Ñuñoa & Cía", "Łódź Größe Æsir Ørsted", "“Comillas” — y más…",
                                  "MÜLLER ŞAHİN ĐORĐE"])
def test_names_come_back_from_the_pdf_as_the_xml_has_them(name):
    customer = (name, "XEXX010101000", "06600", "616", "S01")
    document, _ = cfdi([f"Servicio para {name}"], customer=customer)
    text = pages_text(pdf.render(document))[0]
    assert f"Nombre: {name}" in text
    assert f"Servicio para {name}" in text


def test_fonts_are_embedded_subsets():
    document, _ = cfdi(descriptions(2))
    page = PdfReader(io.BytesIO(pdf.render(document))).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        assert "Helvetica" not in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]


def test_a_ten_concept_pdf_stays_small():
    document, _ = cfdi(descriptions(10))
    assert len(pdf.render(document)) < 60_000


# -- the amount in words ----------------------------------------------------------------------------

@pytest.mark.parametrize("total, currency, words", [
    ("1160.00", "MXN", "MIL CIENTO SESENTA PESOS 00/100 M.N."),
    ("1.00", "MXN", "UN PESO 00/100 M.N."),
    ("0.99", "MXN", "CERO PESOS 99/100 M.N."),
    ("21.05", "MXN", "VEINTIÚN PESOS 05/100 M.N."),
    ("31", "MXN", "TREINTA Y UN PESOS 00/100 M.N."),
    ("101000.50", "MXN", "CIENTO UN MIL PESOS 50/100 M.N."),
    ("21001", "MXN", "VEINTIÚN MIL UN PESOS 00/100 M.N."),
    ("1000000", "MXN", "UN MILLÓN DE PESOS 00/100 M.N."),
    ("2000000.10", "MXN", "DOS MILLONES DE PESOS 10/100 M.N."),
    ("1500250.75", "MXN", "UN MILLÓN QUINIENTOS MIL DOSCIENTOS CINCUENTA PESOS 75/100 M.N."),
    ("12.345", "MXN", "DOCE PESOS 35/100 M.N."),  # rounded to the peso's two decimals, half up
    ("1.50", "USD", "UN DÓLAR ESTADOUNIDENSE 50/100 USD"),
    ("250.00", "EUR", "DOSCIENTOS CINCUENTA EUROS 00/100 EUR"),
    ("1500", "JPY", "MIL QUINIENTOS YENES JAPONESES JPY"),  # the yen has no decimals
])
def test_amounts_in_words(total, currency, words):
    assert pdf.amount_in_words(Decimal(total), currency) == words


# -- the total in the verification URL ---------------------------------------------------------------

@pytest.mark.parametrize("total, written", [
    ("1160.00", "1160.0"), ("3327.01", "3327.01"), ("0.500000", "0.5"), ("1000", "1000.0"),
    ("12.345678", "12.345678"), ("0.00", "0.0"), ("007.10", "7.1"),
])
def test_the_url_total_has_no_non_significant_zeros(total, written):
    assert pdf.total_for_url(total) == written


# -- logo -------------------------------------------------------------------------------------------

LEFT_W = pdf_layout.CONTENT_W * 0.54  # the issuer column of the masthead


@pytest.mark.parametrize("size, fmt", [((600, 200), "PNG"), ((200, 600), "JPEG"), ((40, 20), "PNG")],
                         ids=["wide", "tall", "small"])
def test_the_logo_sits_top_left_keeping_its_proportions(size, fmt):
    document, _ = cfdi(descriptions(3))
    page = PdfReader(io.BytesIO(pdf.render(document, logo=picture(size, fmt)))).pages[0]
    ((x, y, w, h),) = placements(page)
    assert abs(w / h - size[0] / size[1]) < 0.01
    assert w <= size[0] + 0.01 and h <= size[1] + 0.01
    assert abs(x - pdf_layout.MARGIN) < 0.01 and x + w <= pdf_layout.MARGIN + LEFT_W + 0.01
    assert y + h <= pdf_layout.TOP + 0.01 and h <= pdf_layout.LOGO_MAX_H + 0.01
    for operands, op in ContentStream(page.get_contents(), page.pdf).operations:
        if op == b"Tm":  # no text starts on the logo
            tx, ty = float(operands[4]), float(operands[5])
            assert not (x - 1 <= tx <= x + w and y - 1 <= ty <= y + h), (tx, ty)


def test_the_same_facts_with_and_without_a_logo_or_with_one_that_does_not_open():
    document, _ = cfdi(descriptions(3))
    without = pdf.render(document)
    page = PdfReader(io.BytesIO(without)).pages[0]
    assert placements(page) == [] and "/XObject" not in page["/Resources"]
    assert pages_text(pdf.render(document, logo=picture((600, 200)))) == pages_text(without)
    broken = pdf.render(document, logo=b"\x89PNG\r\n\x1a\n not really")
    assert placements(PdfReader(io.BytesIO(broken)).pages[0]) == []
    assert pages_text(broken) == pages_text(without)


# -- without SAT's catalogs -------------------------------------------------------------------------

def test_without_the_catalogs_codes_are_printed_alone(monkeypatch):
    document, _ = cfdi(descriptions(2))
    pdf._catalog.cache_clear()
    monkeypatch.setattr(pdf, "_catalog_db", lambda: None)
    try:
        text = pages_text(pdf.render(document))[0]
    finally:
        pdf._catalog.cache_clear()
    assert "Régimen fiscal: 601 " in text and "General de Ley" not in text
    assert "Uso del CFDI: G03 " in text
    assert "002 16%: " in text and "Ret. 001 10%: " in text  # the impuesto's code where its name is unknown
    assert "PESOS" in text  # the peso's two decimals are the default
