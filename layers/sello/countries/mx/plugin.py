"""Mexico (SAT, CFDI 4.0 stamped by a PAC) behind the CountryPlugin interface.

Like Ecuador's, each step's module is imported when the step runs: the API validates and numbers
(requests, documents), the signing task builds and seals (cfdi), the submit task stamps at the PAC
(pac; the PAC decides at once, so nothing polls), the render task draws the printed CFDI (pdf). A
cancellation is checked by the API, signed and sent to the PAC by the cancel task and followed through
SAT's status service (cancellation, pac, sat_status).

The PAC stamps a document sent again with the same `customid` as it did the first time (SW Sapien
keeps the first stamp; a CFDI already stamped answers 307, which the adapter turns into that stamp):
the customid is the SHA-256 of the sealed CFDI, which the workflow stores once and sends as stored,
so a submission repeated after a lost answer or a timeout never makes a second stamp."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sello.countries import AuthorityUnavailable, NumberedDocument, PreparedDocument
from sello.countries.outcomes import CancellationOutcome, CancelOutcome, ExternalDocument, PollOutcome, SubmitOutcome
from sello.countries.mx import rfc
from sello.settings import get_settings

if TYPE_CHECKING:
    from cryptography import x509

    from sello.models.certificates import CertificateUpload, UploadedFile

TITLES = {"invoice": "Factura", "credit_note": "Nota de crédito", "payment": "Complemento de pago"}

_clients: dict = {}  # environment -> (settings, SwSapienClient): one client per warm function
_status_client: dict = {}  # "client" -> (settings, SatStatusClient)


def _pac(environment: str):
    from sello.countries.mx.pac import SwSapienClient

    settings = get_settings()
    held = _clients.get(environment)
    if held is None or held[0] is not settings:
        held = _clients[environment] = (settings, SwSapienClient(settings, environment))
    return held[1]


def _sat_status():
    from sello.countries.mx.sat_status import SatStatusClient

    settings = get_settings()
    held = _status_client.get("client")
    if held is None or held[0] is not settings:
        held = _status_client["client"] = (settings, SatStatusClient(settings))
    return held[1]


def stamped_at(fecha_timbrado: str) -> str:
    """The TFD's FechaTimbrado (Mexico's central time, written without an offset) with its offset."""
    moment = datetime.fromisoformat(fecha_timbrado)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("America/Mexico_City"))
    return moment.isoformat()


def customid(signed_xml: bytes) -> str:
    """The PAC's idempotency id of a sealed CFDI."""
    return hashlib.sha256(signed_xml).hexdigest()


class MexicoPlugin:
    code = "MX"
    name = "México"
    authority = "SAT"
    tax_id_name = "RFC"

    @property
    def authorization_label(self):
        from sello.i18n import _l

        return _l("Folio fiscal (UUID)")

    # Request bodies -----------------------------------------------------------------------------

    @property
    def store_mapping(self):
        from sello.countries.mx import stores

        return stores

    @property
    def document_request_model(self):
        from sello.countries.mx.requests import MexicoDocumentRequest

        return MexicoDocumentRequest

    @property
    def document_request_variants(self):
        from sello.countries.mx.requests import VARIANTS

        return dict(VARIANTS)

    @property
    def issuer_request_model(self):
        from sello.countries.mx.bodies import MexicoIssuerRequest

        return MexicoIssuerRequest

    @property
    def issuer_flags_model(self):
        from sello.countries import NoFlags

        return NoFlags

    @property
    def certificate_upload(self) -> CertificateUpload:
        from sello.countries.mx.bodies import CSD_UPLOAD

        return CSD_UPLOAD

    # Tax ids and certificates -------------------------------------------------------------------

    def normalize_tax_id(self, tax_id: str, *, path: str = "tax_id") -> str:
        return rfc.normalize_rfc(tax_id, path=path)

    def load_credentials(self, files: Mapping[str, UploadedFile], password: str, *,
                         password_path: str = "password") -> tuple[Any, Any, list[Any]]:
        from sello.countries.mx import csd

        cer, key = files["cer"], files["key"]
        private_key, certificate = csd.load_pair(cer.data, key.data, password, cer_path=cer.path,
                                                 key_path=key.path, password_path=password_path)
        return private_key, certificate, []

    def check_certificate(self, certificate: x509.Certificate, *, path: str) -> None:
        from sello.countries.mx import csd

        csd.require_csd(certificate, path=path)

    def certificate_number(self, certificate: x509.Certificate) -> str | None:
        from sello.countries.mx import csd

        return csd.certificate_number(certificate)

    def certificate_tax_ids(self, certificate: x509.Certificate) -> set[str]:
        from sello.countries.mx import csd

        return csd.certificate_rfcs(certificate)

    def certificate_matches(self, certificate: x509.Certificate, tax_id: str) -> bool:
        from sello.countries.mx import csd

        return csd.certificate_matches(certificate, tax_id)

    def certificate_trusted(self, certificate: x509.Certificate, chain: Iterable[x509.Certificate], *,
                            now: datetime, extra_authorities: Iterable[x509.Certificate] = ()) -> bool:
        from sello.countries.mx import csd

        return csd.certificate_trusted(certificate, chain, now, extra_authorities)

    def signature_size(self, certificate: x509.Certificate) -> int:
        """What sealing adds: Sello (base64 of an RSA signature as long as the key), Certificado
        (base64 of the certificate's DER), NoCertificado (20 digits) and their attribute syntax."""
        from cryptography.hazmat.primitives.serialization import Encoding

        def b64(size: int) -> int:
            return 4 * ((size + 2) // 3)

        return (b64(certificate.public_key().key_size // 8) + b64(len(certificate.public_bytes(Encoding.DER)))
                + 20 + 64)

    # Documents --------------------------------------------------------------------------------------

    def document_title(self, document_type: str) -> str:
        return TITLES[document_type]

    def prepare(self, request: Any, issuer: Any, environment: str, now: datetime) -> PreparedDocument:
        from sello.countries.mx import documents
        from sello.countries.mx.issuer import validate_issuer

        mexico = validate_issuer(issuer.tax_id, issuer.legal_name, issuer.country_fields)
        return documents.prepare(request, mexico, environment, now)

    def referenced_documents(self, request: Any) -> tuple[tuple[str, str], ...]:
        from sello.countries.mx import payments

        related = tuple((value, f"related.{i}") for i, value in enumerate(request.related or ())
                        if value.startswith("doc_"))
        substitutes = request.substitutes or ""
        substituted = ((substitutes, "substitutes"),) if substitutes.startswith("doc_") else ()
        return related + substituted + payments.referenced_documents(request)

    def resolve_references(self, request: Any, documents: Mapping[str, Any]) -> Any:
        """A credit note's invoices, and the invoice a substitute replaces, named by Sello id, by their
        UUID (the stamp's folio fiscal); a payment's invoices, with what Sello knows of them
        (payments.resolve)."""
        from sello.countries.mx import payments

        if request.type == "payment":
            return payments.resolve(request, documents)

        def uuid(value: str) -> str:
            return documents[value].authorization_number.upper() if value in documents else value

        update: dict[str, Any] = {"related": [uuid(value) for value in request.related]}
        if request.substitutes:
            update["substitutes"] = uuid(request.substitutes)
        return request.model_copy(update=update)

    def number(self, prepared: PreparedDocument, sequence: int, document_id: str,
               environment: str) -> NumberedDocument:
        from sello.countries.mx import documents

        return documents.number(prepared, sequence, document_id, environment)

    def sign(self, document: Mapping[str, Any], key: Any, cert: Any) -> bytes:
        from sello.countries.mx import cfdi

        return cfdi.build_signed(document["content"], document["number"], key, cert)

    def submit(self, signed_xml: bytes, environment: str) -> SubmitOutcome:
        from sello.countries.mx.pac import PacAuthenticationFailed, StampRejected

        try:
            stamp = _pac(environment).stamp(signed_xml, customid(signed_xml))
        except StampRejected as exc:
            return SubmitOutcome(status="rejected", messages=exc.messages)
        except PacAuthenticationFailed as exc:
            # Sello's own credentials at the PAC: an operator fixes them, and the document waits.
            raise AuthorityUnavailable(str(exc)) from exc
        return SubmitOutcome(status="authorized", number=stamp.uuid, authorized_at=stamped_at(stamp.stamped_at),
                             document=stamp.xml)

    def poll(self, document: Mapping[str, Any], environment: str) -> PollOutcome:
        """Asked before a submission is repeated. The stamp comes in the answer to the submission, and a
        repeated submission (same customid) gives back the first stamp, so there is nothing to look up:
        "unknown" lets the workflow send it again."""
        return PollOutcome(status="unknown")

    def authority_status(self, document: Mapping[str, Any], environment: str) -> dict[str, Any] | None:
        """SAT's Consulta of the stamped CFDI, named by the RFCs, the total and the UUID stored with the
        document (SAT has one service for both environments: a test document, stamped by the PAC's
        sandbox, is "No Encontrado" at the real SAT)."""
        content = document["content"]
        status = _sat_status().consulta(content["issuer"]["rfc"], content["customer"]["tax_id"],
                                        content["totals"]["total"], document["authorization_number"])
        return {"status": status.estado, "cancelable": status.es_cancelable or None,
                "cancellation_status": status.estatus_cancelacion or None,
                "details": {"codigo_estatus": status.codigo_estatus, "validacion_efos": status.validacion_efos}}

    def external_document(self, data: bytes, now: datetime) -> ExternalDocument:
        from sello.countries.mx import external

        return external.read(data, now)

    def render(self, document: Mapping[str, Any], authorized: bytes, *, logo: bytes | None = None,
               language: str = "es") -> bytes:
        from sello.countries.mx import pdf
        from sello.models.documents import CANCELLED

        return pdf.render(authorized, logo=logo, language=language,
                          cancelled=document.get("cancellation_status") in CANCELLED)

    # Cancellation (countries.mx.cancellation) ------------------------------------------------------

    @property
    def cancel_request_model(self):
        from sello.countries.mx.cancellation import MexicoCancelRequest

        return MexicoCancelRequest

    def cancellation_references(self, request: Any) -> tuple[tuple[str, str], ...]:
        from sello.countries.mx import cancellation

        return cancellation.references(request)

    def prepare_cancellation(self, document: Mapping[str, Any], request: Any,
                             references: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        from sello.countries.mx import cancellation

        return cancellation.prepare(document, request, references)

    def cancel(self, document: Mapping[str, Any], request: Mapping[str, Any], key: Any, cert: Any,
               environment: str) -> CancelOutcome:
        """SAT's cancellation request, signed here, sent through the PAC. SAT answers a request repeated
        for the same UUID as it did the first time (or 202, already cancelled), so a retry is harmless."""
        from sello.countries.mx import cancellation
        from sello.countries.mx.pac import CancelRejected, PacAuthenticationFailed
        from sello.ids import utcnow

        xml = cancellation.signed_request(request, key, cert, utcnow())
        try:
            result = _pac(environment).cancel(request["uuid"], xml)
        except CancelRejected as exc:
            return CancelOutcome(status="rejected", receipt=exc.acuse, messages=exc.messages)
        except PacAuthenticationFailed as exc:
            raise AuthorityUnavailable(str(exc)) from exc
        return CancelOutcome(status="requested", receipt=result.acuse)

    def cancellation_status(self, document: Mapping[str, Any], environment: str) -> CancellationOutcome:
        """SAT's Consulta of the CFDI, read as the outcome of its cancellation."""
        from sello.countries.mx import cancellation

        content = document["content"]
        status = _sat_status().consulta(content["issuer"]["rfc"], content["customer"]["tax_id"],
                                        content["totals"]["total"], document["authorization_number"])
        return cancellation.outcome(status.estado, status.es_cancelable, status.estatus_cancelacion)


plugin = MexicoPlugin()
