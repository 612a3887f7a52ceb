"""The RIDE in the issuer's language: labels translated, SRI's prescribed legends and code meanings
in Spanish whatever the language."""

from __future__ import annotations

import pytest

from sello.countries.ec import ride
from tests.unit.test_ec_ride import (
    CLAVE,
    credit_note,
    delivery_guide,
    descriptions,
    invoice,
    pages_text,
    record,
    withholding,
)

# SRI's own words: the same in every language.
LEGENDS = ["FACTURA", "No. 001-001-000000042", "NÚMERO DE AUTORIZACIÓN", "CLAVE DE ACCESO", "AMBIENTE: PRUEBAS",
           "EMISIÓN: NORMAL", "OBLIGADO A LLEVAR CONTABILIDAD: SI", "Contribuyente Especial Nro.: 5368",
           "Agente de Retención Resolución No.: 1", "CONTRIBUYENTE RÉGIMEN RIMPE", "19 - TARJETA DE CRÉDITO",
           "1710034065 (CÉDULA)"]
SPANISH = ["Dirección Matriz:", "Cod. Principal", "Precio Unitario", "SUBTOTAL SIN IMPUESTOS", "VALOR TOTAL",
           "Forma de pago", "INFORMACIÓN ADICIONAL", "Página 1 de 1"]
ENGLISH = ["Head office address:", "Main code", "Unit price", "SUBTOTAL BEFORE TAXES", "TOTAL", "Payment method",
           "ADDITIONAL INFORMATION", "Page 1 of 1"]


@pytest.fixture(scope="module")
def invoice_record() -> bytes:
    return record(invoice(descriptions(3))[0])


def test_spanish_is_the_default_and_unchanged(invoice_record):
    text = pages_text(ride.render(invoice_record))[0]
    assert pages_text(ride.render(invoice_record, language="es"))[0] == text
    for label in [*LEGENDS, *SPANISH]:
        assert label in text, label


def test_english_labels_with_sris_legends_kept(invoice_record):
    text = pages_text(ride.render(invoice_record, language="en"))[0]
    for label in [*LEGENDS, *ENGLISH]:
        assert label in text, label
    for label in ("Dirección Matriz:", "Precio Unitario", "SUBTOTAL SIN IMPUESTOS", "Página 1 de 1"):
        assert label not in text, label
    assert text.count(CLAVE) == 2


@pytest.mark.parametrize("build,spanish,english", [
    (credit_note, "Razón de Modificación:", "Reason for the change:"),
    (delivery_guide, "DESTINATARIO 1 DE", "RECIPIENT 1 OF"),
    (withholding, "DOCUMENTO SUSTENTO 1 DE", "SUPPORTING DOCUMENT 1 OF"),
])
def test_each_document_type_is_translated(build, spanish, english):
    source = record(build())
    es, en = ride.render(source), ride.render(source, language="en")
    assert spanish in " ".join(pages_text(es)) and spanish not in " ".join(pages_text(en))
    assert english in " ".join(pages_text(en))


def test_an_unknown_language_is_spanish(invoice_record):
    assert pages_text(ride.render(invoice_record, language="fr")) == pages_text(ride.render(invoice_record))
