"""Ecuador: the delivery guide (guía de remisión, codDoc 06, XML 1.1.0).

A guide moves goods, it does not sell them: it carries no amounts, so its totals hold only the
currency. It names the carrier and the vehicle, where the goods leave from, the transport dates, and
for each destination the recipient, the address, why the goods travel and what goes there.

SRI compares the transport dates with the issue date (the date inside the clave de acceso, since the
guide has no fechaEmision element): a transport that starts before the issue date is rejected (error
82), so `prepare` refuses it first."""

from __future__ import annotations

from datetime import date

from sello.countries import PreparedDocument
from sello.countries.ec import amounts
from sello.countries.ec.documents import (
    additional_info,
    check_party,
    issuer_snapshot,
    join,
    prepared_document,
    reference_code,
    reject_fields,
)
from sello.errors import Unprocessable
from sello.i18n import _l

DOC_TYPE = "delivery_guide"
# Parts of the request that belong to other document types.
_NOT_HERE = ("items", "payments", "reference", "withholding")


def _reference(reference, issue_date: date, path: str) -> dict | None:
    if reference is None:
        return None
    doc_code = reference_code(reference, path)
    if reference.issue_date > issue_date:
        raise Unprocessable(_l("The supporting document cannot be dated after the guide."),
                            code="invalid_issue_date", path=join(path, "issue_date"))
    return {"type": doc_code, "number": reference.number, "issue_date": reference.issue_date.isoformat(),
            "authorization": reference.authorization}


def _destination(destination, issue_date: date, path: str) -> dict:
    return {
        "recipient": check_party(destination.recipient, path=join(path, "recipient"),
                                 allow_final_consumer=False),
        "address": destination.address,
        "reason": destination.reason,
        "customs_document": destination.customs_document,
        "establishment_code": destination.establishment_code,
        "route": destination.route,
        "reference": _reference(destination.reference, issue_date, join(path, "reference")),
        "items": [{
            "code": item.code,
            "aux_code": item.aux_code,
            "description": item.description,
            "quantity": amounts.fmt_quantity(item.quantity),
            "details": [{"name": name, "value": value} for name, value in (item.details or {}).items()],
        } for item in destination.items],
    }


def _shipment(shipment, issue_date: date) -> dict:
    if shipment is None:
        raise Unprocessable(_l("A delivery guide needs its shipment."), code="shipment_required", path="shipment")
    if shipment.start_date < issue_date:
        raise Unprocessable(_l("The transport cannot start before the guide's issue date ({date}).",
                               date=issue_date.isoformat()), code="invalid_transport_dates",
                            path="shipment.start_date")
    if shipment.end_date < shipment.start_date:
        raise Unprocessable(_l("The transport cannot end before it starts."), code="invalid_transport_dates",
                            path="shipment.end_date")
    return {
        "carrier": check_party(shipment.carrier, path="shipment.carrier", allow_final_consumer=False),
        "plate": shipment.plate,
        "origin_address": shipment.origin_address,
        "start_date": shipment.start_date.isoformat(),
        "end_date": shipment.end_date.isoformat(),
        "destinations": [_destination(destination, issue_date, f"shipment.destinations.{i}")
                         for i, destination in enumerate(shipment.destinations)],
    }


def prepare(request, issuer, issue_date: date) -> PreparedDocument:
    """Validates a delivery-guide request (CreateDocumentRequest with `shipment`) for the issuer.
    Raises Unprocessable (422) with a stable code and the request's field path."""
    reject_fields(request, _NOT_HERE, _l("delivery guide"))
    snapshot = issuer_snapshot(issuer, request.establishment, request.emission_point)
    customer = check_party(request.customer, path="customer", allow_final_consumer=False)
    shipment = _shipment(request.shipment, issue_date)
    return prepared_document(
        request, issue_date, snapshot, customer,
        totals={},  # a guide carries no amounts
        shipment=shipment,
        additional_info=additional_info(request.additional_info, customer),
    )


def body(content: dict, root) -> None:
    """What guiaRemision 1.1.0 holds between infoTributaria and infoAdicional, in the XSD's order
    (xml.build writes the rest)."""
    from lxml import etree

    from sello.countries.ec import xml

    issuer, shipment = content["issuer"], content["shipment"]
    carrier = shipment["carrier"]
    info = etree.SubElement(root, "infoGuiaRemision")
    xml.sub(info, "dirEstablecimiento", issuer["establishment_address"])
    xml.sub(info, "dirPartida", shipment["origin_address"])
    xml.sub(info, "razonSocialTransportista", carrier["name"])
    xml.sub(info, "tipoIdentificacionTransportista", carrier["id_type_code"])
    xml.sub(info, "rucTransportista", carrier["tax_id"])
    xml.sub(info, "obligadoContabilidad", xml.obligado(issuer))
    xml.sub(info, "contribuyenteEspecial", issuer.get("contribuyente_especial"))
    xml.sub(info, "fechaIniTransporte", xml.fecha(shipment["start_date"]))
    xml.sub(info, "fechaFinTransporte", xml.fecha(shipment["end_date"]))
    xml.sub(info, "placa", shipment["plate"])

    destinatarios = etree.SubElement(root, "destinatarios")
    for destination in shipment["destinations"]:
        recipient, reference = destination["recipient"], destination["reference"]
        destinatario = etree.SubElement(destinatarios, "destinatario")
        xml.sub(destinatario, "identificacionDestinatario", recipient["tax_id"])
        xml.sub(destinatario, "razonSocialDestinatario", recipient["name"])
        xml.sub(destinatario, "dirDestinatario", destination["address"])
        xml.sub(destinatario, "motivoTraslado", destination["reason"])
        xml.sub(destinatario, "docAduaneroUnico", destination.get("customs_document"))
        xml.sub(destinatario, "codEstabDestino", destination.get("establishment_code"))
        xml.sub(destinatario, "ruta", destination.get("route"))
        if reference:
            xml.sub(destinatario, "codDocSustento", reference["type"])
            xml.sub(destinatario, "numDocSustento", reference["number"])
            xml.sub(destinatario, "numAutDocSustento", reference.get("authorization"))
            xml.sub(destinatario, "fechaEmisionDocSustento", xml.fecha(reference["issue_date"]))
        detalles = etree.SubElement(destinatario, "detalles")
        for item in destination["items"]:
            detalle = etree.SubElement(detalles, "detalle")
            xml.sub(detalle, "codigoInterno", item.get("code"))
            xml.sub(detalle, "codigoAdicional", item.get("aux_code"))
            xml.sub(detalle, "descripcion", item["description"])
            xml.sub(detalle, "cantidad", item["quantity"])
            if item.get("details"):
                details = etree.SubElement(detalle, "detallesAdicionales")
                for entry in item["details"]:
                    xml.sub(details, "detAdicional", nombre=entry["name"], valor=entry["value"])
