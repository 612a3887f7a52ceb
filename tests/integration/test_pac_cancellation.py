"""Cancelling stamped CFDIs at the PAC simulator with Sello's own parts: the request built and signed by
sello.countries.mx.cancellation (satcfdi), sent by the SW Sapien adapter (`SwSapienClient.cancel`),
and SAT's status service (SatStatusClient) read as Sello's outcome: at once without acceptance; after
the receiver's answer (accepted, rejected, the time let pass) with it; refused for a wrong substitute,
a tampered signature, or a CFDI that payment CFDIs in force relate to.

The CFDIs are built and sealed as in test_pac_simulator (SAT's public test CSDs from the shared
fixtures: the tests skip with the reason when those are absent)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from local.pac.simulator import STATUS_PATH
from sello.countries.mx import cancellation
from sello.countries.mx.pac import CancelRejected, SwSapienClient, forget_tokens
from sello.countries.mx.sat_status import SatStatusClient
from sello.settings import Settings
from tests.integration.test_pac_simulator import Sw, build, concepto, csd
# the simulator (module-scoped) and the stamping client are those of the status tests; `pac` is this module's
from tests.integration.test_pac_sat_status import simulator, stamped, sw  # noqa: F401

CFDI = "http://www.sat.gob.mx/cfd/4"


@pytest.fixture
def pac(simulator):
    """The simulator at its defaults, and no PAC token kept from another test."""
    simulator.reset()
    forget_tokens()
    yield simulator
    simulator.reset()


@pytest.fixture
def settings(pac):
    return Settings(sw_test_url=pac.url, sw_test_api_url=pac.url, sw_test_credentials=f"{pac.user}:{pac.password}",
                    sat_status_url=f"{pac.url}{STATUS_PATH}", sw_timeout_seconds=5, sat_status_timeout_seconds=2)


@pytest.fixture
def adapter(settings):
    with SwSapienClient(settings, "test") as client:
        yield client


@pytest.fixture
def sat(settings):
    client = SatStatusClient(settings)
    yield client
    client.close()


def request_of(uuid: str, motive: str = "02", substitute: str | None = None, rfc: str = "EKU9003173C9") -> bytes:
    pair = csd()
    return cancellation.signed_request({"uuid": uuid, "rfc": rfc, "motive": motive, "substitute_uuid": substitute},
                                       pair.key, pair.certificate, datetime.now(UTC))


def outcome(sat: SatStatusClient, document: tuple[str, str, str, str]):
    status = sat.consulta(*document)
    return cancellation.outcome(status.estado, status.es_cancelable, status.estatus_cancelacion)


def substitute_of(sw: Sw, uuid: str, relation: str = "04") -> tuple[str, str, str, str]:
    """A new invoice naming `uuid` in CfdiRelacionados with `relation`, stamped."""
    root = etree.fromstring(build(conceptos=[concepto("500.00")]))
    related = etree.Element(f"{{{CFDI}}}CfdiRelacionados", TipoRelacion=relation)
    etree.SubElement(related, f"{{{CFDI}}}CfdiRelacionado", UUID=uuid)
    root.insert(0, related)  # CfdiRelacionados comes first in a Comprobante
    return stamped(sw, csd().seal(root))


def test_the_request_is_sats_cancelacion_signed_with_the_csd():
    root = etree.fromstring(request_of("0E4F5D3A-1B2C-4D5E-8F90-123456789ABC"))
    assert root.tag == "{http://cancelacfd.sat.gob.mx}Cancelacion"
    assert root.get("RfcEmisor") == "EKU9003173C9"
    folio = root.find(".//{http://cancelacfd.sat.gob.mx}Folio")
    assert folio.get("UUID") == "0E4F5D3A-1B2C-4D5E-8F90-123456789ABC" and folio.get("Motivo") == "02"
    assert folio.get("FolioSustitucion") is None  # an empty one is refused as malformed
    assert root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None


def test_without_acceptance_the_cfdi_is_cancelled_at_once_and_a_repeat_is_harmless(adapter, sw, sat):
    document = stamped(sw, build(conceptos=[concepto("500.00")]))
    uuid = document[3]
    result = adapter.cancel(uuid, request_of(uuid))
    assert result.code == "201"
    acuse = etree.fromstring(result.acuse)
    assert acuse.findtext(".//{http://cancelacfd.sat.gob.mx}EstatusUUID") == "201"
    assert outcome(sat, document).status == "accepted"
    assert outcome(sat, document).authority_status == "Cancelado sin aceptación"
    assert adapter.cancel(uuid, request_of(uuid)).code == "202"


@pytest.mark.parametrize("acceptance, status, said", [
    ("accept", "accepted", "Cancelado con aceptación"),
    ("reject", "rejected", "Solicitud rechazada"),
    ("expire", "expired", "Plazo vencido"),
])
def test_with_acceptance_the_receiver_answers_after_the_polls(pac, adapter, sw, sat, acceptance, status, said):
    pac.configure({"cancellation_acceptance": acceptance, "cancellation_polls": 2})
    document = stamped(sw, build(conceptos=[concepto("5000.00")]))
    assert sat.consulta(*document).es_cancelable == "Cancelable con aceptación"
    assert adapter.cancel(document[3], request_of(document[3])).code == "201"
    waiting = [outcome(sat, document) for _ in range(2)]
    assert [(o.status, o.authority_status) for o in waiting] == [("pending", "En proceso")] * 2
    final = outcome(sat, document)
    assert (final.status, final.authority_status) == (status, said)


def test_a_rejected_cancellation_can_be_requested_again(pac, adapter, sw, sat):
    pac.configure({"cancellation_acceptance": "reject", "cancellation_polls": 0})
    document = stamped(sw, build(conceptos=[concepto("5000.00")]))
    adapter.cancel(document[3], request_of(document[3]))
    assert outcome(sat, document).status == "rejected"
    pac.configure({"cancellation_acceptance": "accept"})
    assert adapter.cancel(document[3], request_of(document[3])).code == "201"
    assert outcome(sat, document).status == "accepted"


def test_motive_01_needs_a_substitute_that_names_the_cfdi_with_relation_04(adapter, sw, sat):
    document = stamped(sw, build(conceptos=[concepto("500.00")]))
    uuid = document[3]
    unrelated = substitute_of(sw, "5FB2822E-396D-4725-8521-CDC4BDD20CCF")
    with pytest.raises(CancelRejected) as refused:
        adapter.cancel(uuid, request_of(uuid, "01", unrelated[3]))
    assert (refused.value.messages[0].code, refused.value.messages[0].reason) == ("208", "invalid_substitute")
    assert outcome(sat, document).status == "pending"  # nothing was cancelled (Vigente, no process)
    substitute = substitute_of(sw, uuid)
    assert adapter.cancel(uuid, request_of(uuid, "01", substitute[3])).code == "201"
    assert outcome(sat, document).status == "accepted"


def test_a_substitute_with_another_motive_is_refused(adapter, sw):
    document = stamped(sw, build(conceptos=[concepto("500.00")]))
    with pytest.raises(CancelRejected) as refused:
        adapter.cancel(document[3], request_of(document[3], "02", document[3]))
    assert refused.value.messages[0].code == "209"


def test_a_tampered_request_is_302_and_another_issuers_cfdi_203(adapter, sw):
    document = stamped(sw, build(conceptos=[concepto("500.00")]))
    tampered = request_of(document[3]).replace(b'Motivo="02"', b'Motivo="03"')
    with pytest.raises(CancelRejected) as refused:
        adapter.cancel(document[3], tampered)
    assert (refused.value.messages[0].code, refused.value.messages[0].reason) == ("302", "invalid_seal")
    with pytest.raises(CancelRejected) as refused:
        adapter.cancel("0E4F5D3A-1B2C-4D5E-8F90-123456789ABC", request_of("0E4F5D3A-1B2C-4D5E-8F90-123456789ABC"))
    assert (refused.value.messages[0].code, refused.value.messages[0].reason) == ("205", "document_not_found")


def test_a_cfdi_with_payment_cfdis_in_force_is_not_cancelable(pac, adapter, sw, sat):
    document = stamped(sw, build(conceptos=[concepto("500.00")]))
    payment = substitute_of(sw, document[3], relation="04")
    # The simulator judges a payment CFDI by its type and its relations, whatever built it.
    pac._issued[payment[3]].record["tipoDeComprobante"] = "P"
    assert sat.consulta(*document).es_cancelable == "No cancelable"
    with pytest.raises(CancelRejected) as refused:
        adapter.cancel(document[3], request_of(document[3]))
    assert (refused.value.messages[0].code, refused.value.messages[0].reason) == ("204", "not_cancelable")
    assert outcome(sat, document).status == "rejected"
    pac.cancel(payment[3])
    assert adapter.cancel(document[3], request_of(document[3])).code == "201"
