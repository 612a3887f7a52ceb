"""Mexico's cancellation request (countries.mx.cancellation): the body's model, what is sent to SAT for
each motive and substitute, and SAT's status read as Sello's outcome."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sello.countries.mx import cancellation
from sello.errors import Unprocessable

UUID = "0E4F5D3A-1B2C-4D5E-8F90-123456789ABC"
SUBSTITUTE = "7A1C2B3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
DOCUMENT = {"authorization_number": UUID.lower(), "content": {"issuer": {"rfc": "EKU9003173C9"}}}


def prepare(body: dict, found: dict | None = None) -> dict:
    return cancellation.prepare(DOCUMENT, cancellation.MexicoCancelRequest.model_validate(body), found or {})


def test_motives_02_to_04_need_no_substitute():
    for motive in ("02", "03", "04"):
        assert prepare({"motive": motive}) == {"uuid": UUID, "rfc": "EKU9003173C9", "motive": motive,
                                               "substitute_uuid": None}


@pytest.mark.parametrize("body", [{"motive": "05"}, {"motive": 2}, {}, {"motive": "02", "why": "x"},
                                  {"motive": "01", "substitute": "A-7"}])
def test_the_model_takes_sats_motives_and_a_uuid_or_sello_id(body):
    with pytest.raises(ValidationError):
        cancellation.MexicoCancelRequest.model_validate(body)


def test_motive_01_takes_a_uuid_as_given_or_a_sello_document_that_substitutes_by_04():
    assert prepare({"motive": "01", "substitute": SUBSTITUTE.lower()})["substitute_uuid"] == SUBSTITUTE
    found = {"doc_8n4m2k7p1r5t9v3x6z0b": {"authorization_number": SUBSTITUTE.lower(), "content": {
        "related": {"type": "04", "documents": [{"uuid": UUID}]}}}}
    assert prepare({"motive": "01", "substitute": "doc_8n4m2k7p1r5t9v3x6z0b"}, found)["substitute_uuid"] == SUBSTITUTE
    assert cancellation.references(cancellation.MexicoCancelRequest.model_validate(
        {"motive": "01", "substitute": "doc_8n4m2k7p1r5t9v3x6z0b"})) == (("doc_8n4m2k7p1r5t9v3x6z0b", "substitute"),)


@pytest.mark.parametrize("related", [None, {"type": "01", "documents": [{"uuid": UUID}]},
                                     {"type": "04", "documents": [{"uuid": SUBSTITUTE}]}])
def test_a_sello_substitute_that_does_not_name_this_cfdi_by_04_is_refused(related):
    found = {"doc_8n4m2k7p1r5t9v3x6z0b": {"authorization_number": SUBSTITUTE, "content": {"related": related}}}
    with pytest.raises(Unprocessable) as refused:
        prepare({"motive": "01", "substitute": "doc_8n4m2k7p1r5t9v3x6z0b"}, found)
    assert (refused.value.code, refused.value.path) == ("substitute_not_related", "substitute")


def test_a_cfdi_does_not_substitute_itself():
    with pytest.raises(Unprocessable) as refused:
        prepare({"motive": "01", "substitute": UUID})
    assert refused.value.code == "substitute_not_related"


@pytest.mark.parametrize("estado, cancelable, estatus, status", [
    ("Vigente", "Cancelable con aceptación", "En proceso", "pending"),
    ("Vigente", "Cancelable con aceptación", "", "pending"),  # SAT has not listed the request yet
    ("No Encontrado", "", "", "pending"),
    ("Cancelado", "No cancelable", "Cancelado sin aceptación", "accepted"),
    ("Cancelado", "No cancelable", "Cancelado con aceptación", "accepted"),
    ("Cancelado", "No cancelable", "Plazo vencido", "expired"),
    ("Vigente", "Cancelable con aceptación", "Solicitud rechazada", "rejected"),
    ("Vigente", "No cancelable", "", "rejected"),  # payment CFDIs in force relate to it
])
def test_sats_status_read_as_the_cancellations_outcome(estado, cancelable, estatus, status):
    outcome = cancellation.outcome(estado, cancelable, estatus)
    assert outcome.status == status
    assert outcome.authority_status == (estatus or (cancelable if status == "rejected" else estado))
    assert bool(outcome.messages) is (status == "rejected")
