"""Cancelling a stamped CFDI (SAT's 2022 scheme, RMF 2.7.1.35 and 2.7.1.47) for the Mexico plugin.

The request: a motive, 01 to 04, and for 01 ("comprobante emitido con errores con relación") the
substitute, the CFDI that replaces this one, which must name it in CfdiRelacionados with TipoRelacion
04. A Sello document named as the substitute is checked here (Sello wrote its relations: an invoice
issued with `substitutes`); a UUID of a CFDI Sello did not issue is taken as given, and SAT checks it.
The other motives (02 errors without relation, 03 the operation did not happen, 04 a nominative
operation in a global invoice) take no substitute.

The PAC gets SAT's cancellation request (`Cancelacion`, namespace http://cancelacfd.sat.gob.mx, one
Folio with UUID, Motivo and FolioSustitucion only when there is one) signed with the issuer's CSD as an
enveloped XML signature, built by satcfdi (create/cancela): the private key never leaves Sello.

SAT decides on its own time: its status service (sat_status) says how far a cancellation has come,
read here as Sello's outcome: "En proceso" pending (the receiver has up to three business days to
answer), "Cancelado sin aceptación" / "Cancelado con aceptación" accepted, "Plazo vencido" expired
(the receiver did not answer: SAT cancels the CFDI), "Solicitud rechazada" rejected (the receiver said
no: the CFDI stays in force)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field

from sello.countries.outcomes import AuthorityMessage, CancellationOutcome
from sello.countries.mx.requests import RelatedDocument
from sello.errors import Unprocessable
from sello.i18n import _l
from sello.models.common import RequestBody

MEXICO_CITY = ZoneInfo("America/Mexico_City")
WITH_SUBSTITUTE = "01"
SUBSTITUTION = "04"  # the TipoRelacion of a substitute (countries.mx.documents.SUBSTITUTION)
MOTIVES = {
    "01": "Comprobante emitido con errores con relación",
    "02": "Comprobante emitido con errores sin relación",
    "03": "No se llevó a cabo la operación",
    "04": "Operación nominativa relacionada en una factura global",
}
CANCEL_EXAMPLE = {"motive": "02"}
SUBSTITUTE_EXAMPLE = {"motive": "01", "substitute": "doc_8n4m2k7p1r5t9v3x6z0b"}


class MexicoCancelRequest(RequestBody):
    """Cancels a stamped CFDI at SAT: the motive, and for 01 the CFDI that substitutes it."""

    model_config = ConfigDict(extra="forbid", title="Mexico cancellation",
                              json_schema_extra={"examples": [CANCEL_EXAMPLE, SUBSTITUTE_EXAMPLE]})

    motive: Literal["01", "02", "03", "04"] = Field(
        description="SAT's motive: 01 issued with errors, with a substitute (give `substitute`); 02 issued with "
                    "errors, no substitute; 03 the operation did not take place; 04 a nominative operation "
                    "included in a global invoice.", examples=["02"])
    substitute: RelatedDocument | None = Field(
        default=None,
        description="Motive 01 only: the CFDI that replaces this one, by its Sello document id (an invoice "
                    "issued with `substitutes` naming this document, authorized) or its UUID (folio fiscal).",
        examples=["doc_8n4m2k7p1r5t9v3x6z0b"])


def references(request: MexicoCancelRequest) -> tuple[tuple[str, str], ...]:
    substitute = request.substitute or ""
    return ((substitute, "substitute"),) if substitute.startswith("doc_") else ()


def _relates(substitute: Mapping[str, Any], uuid: str) -> bool:
    related = (substitute.get("content") or {}).get("related") or {}
    return related.get("type") == SUBSTITUTION and any(
        str(d.get("uuid") or "").upper() == uuid.upper() for d in related.get("documents", ()))


def prepare(document: Mapping[str, Any], request: MexicoCancelRequest,
            found: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What the cancellation of `document` sends to SAT: {"uuid", "rfc", "motive", "substitute_uuid"}."""
    uuid = str(document["authorization_number"]).upper()
    if request.motive == WITH_SUBSTITUTE and not request.substitute:
        raise Unprocessable(_l("Motive 01 cancels a document that another one substitutes: give that one in "
                               "substitute (its Sello document id or UUID)."), code="substitute_required",
                            path="substitute")
    if request.motive != WITH_SUBSTITUTE and request.substitute:
        raise Unprocessable(_l("Only motive 01 names a substitute; omit substitute or use motive 01."),
                            code="substitute_not_allowed", path="substitute")
    substitute_uuid = None
    if request.substitute:
        if request.substitute in found:
            substitute = found[request.substitute]
            if not _relates(substitute, uuid):
                raise Unprocessable(_l("Document {id} does not substitute this one: issue the substitute with "
                                       "substitutes set to this document's id or UUID.", id=request.substitute),
                                    code="substitute_not_related", path="substitute")
            substitute_uuid = str(substitute["authorization_number"]).upper()
        else:
            substitute_uuid = request.substitute.upper()
        if substitute_uuid == uuid:  # a document does not substitute itself
            raise Unprocessable(_l("Document {id} does not substitute this one: issue the substitute with "
                                   "substitutes set to this document's id or UUID.", id=request.substitute),
                                code="substitute_not_related", path="substitute")
    content = document["content"]
    return {"uuid": uuid, "rfc": content["issuer"]["rfc"], "motive": request.motive,
            "substitute_uuid": substitute_uuid}


def signed_request(request: Mapping[str, Any], key: Any, certificate: Any, now: datetime) -> bytes:
    """SAT's Cancelacion for one folio, signed with the issuer's CSD (satcfdi). `Fecha` is Mexico's
    central time, without an offset, as SAT writes it."""
    from lxml import etree
    from OpenSSL import crypto
    from satcfdi.create.cancela.cancelacion import Cancelacion, Folio
    from satcfdi.models import Signer

    signer = Signer(crypto.X509.from_cryptography(certificate), key)
    folio = Folio(uuid=request["uuid"], motivo=request["motive"],
                  folio_sustitucion=request.get("substitute_uuid") or None)
    fecha = now.astimezone(MEXICO_CITY).replace(tzinfo=None, microsecond=0)
    cancelacion = Cancelacion(emisor=signer, folios=folio, fecha=fecha)
    return etree.tostring(cancelacion.to_xml(), xml_declaration=True, encoding="UTF-8")


def outcome(estado: str, es_cancelable: str, estatus_cancelacion: str) -> CancellationOutcome:
    """Sello's reading of SAT's status of a CFDI whose cancellation was requested."""
    said = estatus_cancelacion or estado
    if estado == "Cancelado":
        return CancellationOutcome(status="expired" if estatus_cancelacion == "Plazo vencido" else "accepted",
                                   authority_status=said)
    if estatus_cancelacion == "Solicitud rechazada":
        message = AuthorityMessage(code=estatus_cancelacion, message="El receptor rechazó la cancelación.",
                                   reason="cancellation_rejected_by_receiver")
        return CancellationOutcome(status="rejected", authority_status=said, messages=(message,))
    if estado == "Vigente" and es_cancelable == "No cancelable" and estatus_cancelacion != "En proceso":
        message = AuthorityMessage(code=es_cancelable, message="El CFDI no es cancelable: tiene documentos "
                                   "relacionados vigentes.", reason="not_cancelable")
        return CancellationOutcome(status="rejected", authority_status=es_cancelable, messages=(message,))
    return CancellationOutcome(status="pending", authority_status=said)
