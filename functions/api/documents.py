"""Documents: issue one, read and list them, download their XML and PDF, email them again."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

import sello
from sello.http import (
    PageCursor,
    PageLimit,
    error_doc,
    file_redirect,
    file_responses,
    make_app,
    media_type,
    parse_json,
    principal,
    request_content_type,
    route_responses,
)
from sello import countries
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.country_bodies import CancelBody, DocumentBody
from sello.models.documents import (
    DOCUMENT_STATUSES,
    LISTED_TYPES,
    DocumentAuthorityStatus,
    DocumentEmail,
    DocumentList,
    DocumentView,
    SendDocumentRequest,
)
from sello.errors import Unprocessable
from sello.i18n import _l
from sello.models.stamping import MAX_EXTERNAL_BYTES, StampDocumentRequest, StampOptions
from sello.services import documents
from sello.validation import validate_body
from sello.services.documents import IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_TTL_SECONDS, REPLAY_WAIT_SECONDS

router = Router()

_DOCUMENTS = ["Documents"]
_DOCUMENT_ID = Annotated[str, Path(description="The document's id: `doc_` and 20 lower-case letters or "
                                               "digits. Any other value is `document_not_found`.")]
_NOT_FOUND = error_doc("document_not_found")
_FILE_CONFLICT = error_doc("document_not_ready", "document_not_authorized",
                           note="`document_not_ready`: the document is still processing, or authorized and its PDF "
                                "not rendered yet; ask again later. `document_not_authorized`: the document ended "
                                "`rejected` or `failed` (its `status` is in the error), so the file does not exist "
                                "and will not (a failed document can be retried)")
_JSON = "application/json"


def _file_responses(media_type: str, extension: str, description: str) -> dict:
    filename = f"001-001-000000001.{extension}"
    return file_responses(description, f"`Content-Type: {media_type}` and `Content-Disposition: attachment; "
                                       'filename="<number>.<extension>"`', {404: _NOT_FOUND, 409: _FILE_CONFLICT},
                          example=(f"accounts/acct_9f2c4e7a1b3d5f6a8c0e/documents/doc_7h3k9m2p4r6t8v1x3z5b/{filename}",
                                   filename, media_type))


@router.post(
    "/v1/documents", summary="Issue a document", tags=_DOCUMENTS,
    description="Validates the document for its issuer's country, numbers it and starts its processing: "
                "signing, submission to the tax authority, waiting for the authorization, the PDF and the "
                "email to the customer. The answer comes at once, with status `processing`; poll "
                "`GET /v1/documents/{document_id}` for the outcome. Nothing is numbered or stored for a "
                "request that fails validation. Send an `Idempotency-Key` so that a retried request cannot "
                "issue the document twice. The issuer's country and the body's `type` choose its schema: "
                "each country has one per document type, with the parts it needs and an example.",
    responses=route_responses(201, "Document numbered and stored; its processing has started (if the "
                                   "workflow service could not be reached, it starts within minutes)", {
        200: {"description": "An earlier request with the same `Idempotency-Key` and the same body created "
                             "this document (header `Idempotent-Replayed: true`)",
              "content": {_JSON: {"schema": {"$ref": "#/components/schemas/DocumentView"}}}},
        400: error_doc("invalid_idempotency_key"),
        404: error_doc("issuer_not_found"),
        409: error_doc("idempotency_key_reused", "idempotency_key_in_use", "related_document_changed",
                       note="the key was used with another body, or a request with the key is still running "
                            "(send it again), or a payment's invoice was paid by another request meanwhile "
                            "(send it again)"),
        422: error_doc("certificate_required", "certificate_expired", "certificate_not_trusted", "document_too_large",
                       "related_document_not_found", "related_document_not_authorized",
                       "related_document_cancelled", *countries.document_error_codes(),
                       note="the issuer cannot sign yet (`certificate_not_trusted`: a live key, and a certificate "
                            "for test documents only), the document is too large, or one of the country's own "
                            "checks failed; `path` names the field", context="documents"),
        503: error_doc("workflow_unavailable",
                       note="the document was stored and numbered, but its processing could neither be started "
                            "nor queued to start later; send the same request with the same `Idempotency-Key` to "
                            "start it")},
        body=True),
)
def create_document(
    body: Annotated[DocumentBody, Body()],
    idempotency_key: Annotated[str | None, Header(
        alias=IDEMPOTENCY_KEY_HEADER,
        description="1 to 255 printable ASCII characters, e.g. a UUID, unique per document you mean to "
                    "issue. The same key with the same body answers with the same document; with another "
                    f"body, 409. Keys are kept {IDEMPOTENCY_TTL_SECONDS // 3600} hours, per API key "
                    "environment. While the first request with a key runs, others wait up to "
                    f"{REPLAY_WAIT_SECONDS:g} s for its document.",
        examples=["4f9d2c1e-7b3a-4e5f-9a1b-2c3d4e5f6a7b"])] = None,
) -> Response[DocumentView]:
    caller = principal(router)
    issued = documents.default_service().create(caller.account_id, caller.environment, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if issued.replayed else {}
    return Response(status_code=200 if issued.replayed else 201, content_type=_JSON, body=issued.document,
                    headers=headers)


_STAMP_PATH = "/v1/documents/stamp"
_XML_TYPES = ("application/xml", "text/xml")
_XML_EXAMPLE = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" Version="4.0" Serie="EXT" '
                'Folio="501" Fecha="2026-03-02T09:30:00" NoCertificado="30001000000500003416" '
                'Certificado="MIIF…" Sello="kx9V…" TipoDeComprobante="I" LugarExpedicion="42501" …>…'
                '</cfdi:Comprobante>')


def _stamp_body() -> dict:
    return {"required": True, "content": {
        _JSON: {"schema": StampDocumentRequest.model_json_schema()},
        **{media: {"schema": {"type": "string", "description": "The sealed document itself (UTF-8); `issuer_id` "
                                                               "and `customer_email` as query parameters."},
                   "example": _XML_EXAMPLE}
           for media in _XML_TYPES}}}


@router.post(
    _STAMP_PATH, summary="Stamp a document signed elsewhere", tags=_DOCUMENTS,
    description="Takes a document another system built and signed for one of the account's issuers (Mexico: a "
                "CFDI 4.0 sealed with the issuer's CSD, not stamped yet), checks it and sends it through the same "
                "processing as an issued one, without signing it again: stamping at the PAC, the PDF and the "
                "email. The body is JSON with the document in base64 (`xml_base64`), or the XML itself "
                "(`Content-Type: application/xml`) with `issuer_id` and `customer_email` as query parameters. "
                f"The document may have at most {MAX_EXTERNAL_BYTES:,} bytes. It is checked before "
                "anything is stored: well-formed UTF-8 XML without DTD or entities, SAT's schema, an invoice (I) "
                "or credit note (E), Fecha within SAT's 72 hours, the seal over the cadena original with the "
                "certificate it carries, that certificate a CSD of the issuer's RFC valid at Fecha (with a live "
                "key, from SAT's certification authorities), and the issuer's RFC as Emisor. The document keeps "
                "its own Serie-Folio as its number; no Sello number is used. Sending the same sealed document "
                "again answers with the document it created (200), so a retry never stamps it twice (no "
                "`Idempotency-Key` is needed; one sent is ignored).",
    responses=route_responses(201, "Document checked and stored; its processing has started", {
        200: {"description": "The same document was sent before: the document it created (header "
                             "`Idempotent-Replayed: true`)",
              "content": {_JSON: {"schema": {"$ref": "#/components/schemas/DocumentView"}}}},
        404: error_doc("issuer_not_found"),
        422: error_doc("document_too_large", "external_documents_not_supported", "issuer_tax_id_mismatch",
                       "certificate_is_fiel", "certificate_not_from_sat", "certificate_expired",
                       "certificate_not_yet_valid", "certificate_tax_id_mismatch", "certificate_not_trusted",
                       *countries.tax_id_error_codes(), *countries.external_document_error_codes(),
                       note="the document is too large, cannot be read, fails one of its country's checks, or "
                            "is not the issuer's or not signed with a certificate it may use; `path` names the "
                            "part (`xml` the document, `xml.Sello` an attribute of its root)", context="stamp"),
        503: error_doc("workflow_unavailable",
                       note="the document was stored, but its processing could neither be started nor queued "
                            "to start later; send the same document again to start it")},
        body=True),
    openapi_extensions={"requestBody": _stamp_body},
)
def stamp_document(
    issuer_id: Annotated[str | None, Query(description="With an XML body: the issuer (with JSON, in the body).",
                                           examples=["iss_3k9v0c2m1x7q8w4e5r6t"])] = None,
    customer_email: Annotated[str | None, Query(description="With an XML body: where the document is emailed.",
                                                examples=["compras@example.com"])] = None,
) -> Response[DocumentView]:
    from sello.services import stamping  # this route's alone: not loaded by a cold start for another

    caller = principal(router)
    issued = stamping.default_stamping_service().stamp(caller.account_id, caller.environment,
                                                       _stamp_request(issuer_id, customer_email))
    headers = {"Idempotent-Replayed": "true"} if issued.replayed else {}
    return Response(status_code=200 if issued.replayed else 201, content_type=_JSON, body=issued.document,
                    headers=headers)


def _stamp_request(issuer_id: str | None, customer_email: str | None):
    """The StampRequest: the body, JSON or the XML itself, read here rather than by the resolver (it
    takes either)."""
    from sello.services.stamping import StampRequest

    event = router.current_event
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    if media_type(request_content_type(event)) in _XML_TYPES:
        options = validate_body(StampOptions, {name: value for name, value in
                                               (("issuer_id", issuer_id), ("customer_email", customer_email))
                                               if value is not None})
        data = raw
    else:
        try:
            body = parse_json(raw.decode("utf-8"))
        except ValueError:
            error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
            raise RequestValidationError([error]) from None
        options = validate_body(StampDocumentRequest, body)
        try:
            data = base64.b64decode("".join(options.xml_base64.split()), validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable(_l("xml_base64 is not valid base64."), code="invalid_value",
                                path="xml_base64") from None
    return StampRequest(issuer_id=options.issuer_id, data=data,
                        customer_email=str(options.customer_email) if options.customer_email else None)


@router.get("/v1/documents", summary="List documents", tags=_DOCUMENTS,
            description="The documents of the API key's environment (a test key sees test documents, a "
                        "live key live ones), newest first, a page at a time. With `status`, `type` or "
                        "`customer`, a page may hold fewer than `limit` documents while more follow: go on "
                        "while `next_cursor` is set.",
            responses=route_responses(200, "A page of documents", {
                400: error_doc("invalid_cursor"),
                422: error_doc("invalid_status", "invalid_type", "invalid_customer", "invalid_date",
                               "invalid_date_range")}))
def list_documents(
    status: Annotated[str | None, Query(description="Only documents in this status.",
                                        json_schema_extra={"enum": list(DOCUMENT_STATUSES)})] = None,
    document_type: Annotated[str | None, Query(alias="type", description="Only documents of this type.",
                                               json_schema_extra={"enum": list(LISTED_TYPES)})] = None,
    created_from: Annotated[str | None, Query(
        alias="from", description="Only documents created at or after this moment: an ISO 8601 date (the "
                                  "UTC day's start) or date and time (UTC unless it has an offset).",
        examples=["2026-03-01"])] = None,
    created_to: Annotated[str | None, Query(
        alias="to", description="Only documents created at or before this moment: an ISO 8601 date (the "
                                "whole UTC day) or date and time.", examples=["2026-03-31"])] = None,
    customer: Annotated[str | None, Query(description="Only documents for the customer with this tax id "
                                                      "(exact match).", examples=["1790016919001"])] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> DocumentList:
    caller = principal(router)
    where = documents.document_filter(status, document_type, customer, created_from, created_to)
    return documents.default_service().list(caller.account_id, caller.environment, where, limit, cursor)


@router.get("/v1/documents/<document_id>", summary="Get a document", tags=_DOCUMENTS,
            description="The document's status and number, and what the tax authority said about it: its "
                        "key, authorization number and date, and messages.",
            responses=route_responses(200, "The document", {404: _NOT_FOUND}))
def get_document(document_id: _DOCUMENT_ID) -> DocumentView:
    caller = principal(router)
    return documents.default_service().get(caller.account_id, caller.environment, document_id)


def _download(document_id: str, kind: str) -> Response:
    caller = principal(router)
    return file_redirect(documents.default_service().download(caller.account_id, caller.environment, document_id,
                                                              kind))


@router.get("/v1/documents/<document_id>/xml", summary="Download the XML", tags=_DOCUMENTS,
            description="Redirects (303) to the file: once the document is authorized, the authority's "
                        "authorization record (with the signed document inside); while it is processing, the "
                        "signed document as it was submitted. Follow the redirect (`curl -L`); the `Accept` "
                        "header does not matter.",
            responses=_file_responses("application/xml", "xml", "The XML is at `Location`"))
def get_document_xml(document_id: _DOCUMENT_ID):
    return _download(document_id, "xml")


@router.get("/v1/documents/<document_id>/pdf", summary="Download the PDF", tags=_DOCUMENTS,
            description="Redirects (303) to the printable version of the authorized document (Ecuador: the "
                        "RIDE), available once it is authorized and rendered. Follow the redirect (`curl -L`); "
                        "the `Accept` header does not matter.",
            responses=_file_responses("application/pdf", "pdf", "The PDF is at `Location`"))
def get_document_pdf(document_id: _DOCUMENT_ID):
    return _download(document_id, "pdf")


@router.get("/v1/documents/<document_id>/authority-status", summary="Ask the tax authority for the document's status",
            tags=_DOCUMENTS,
            description="Asks the tax authority, now, what it says of an authorized document: its status there "
                        "(Mexico: SAT's CFDI status service, `Vigente`, `Cancelado` or `No Encontrado`), whether "
                        "and how it can be cancelled and how far a cancellation has come, in the authority's "
                        "words. Nothing is stored: each request asks again. SAT has no test environment, so a "
                        "test document is `No Encontrado` at the real SAT (the local stack's simulator knows "
                        "the documents it stamped).",
            responses=route_responses(200, "The authority's answer", {
                404: _NOT_FOUND,
                409: error_doc("document_not_authorized", "authority_status_not_available",
                               note="`document_not_authorized`: only an authorized document has a status at the "
                                    "authority (its `status` is in the error); `authority_status_not_available`: "
                                    "Sello cannot ask the authority of the document's country",
                               context="authority_status"),
                503: error_doc("authority_unavailable", note="the authority could not be reached or answered "
                                                             "with a temporary failure; ask again later")}))
def get_document_authority_status(document_id: _DOCUMENT_ID) -> DocumentAuthorityStatus:
    caller = principal(router)
    return documents.default_service().authority_status(caller.account_id, caller.environment, document_id)


@router.post("/v1/documents/<document_id>/email", summary="Email the document again", tags=_DOCUMENTS,
             status_code=202,
             description="Sends the authorized XML and the PDF to `to`, or to the customer's email stored "
                         "with the document. Limited per document and per account and environment in fixed "
                         "windows (by default 5 per document and 200 per account an hour).",
             responses=route_responses(202, "Sent", {
                 404: _NOT_FOUND,
                 409: error_doc("document_not_ready", note="not authorized, or its PDF not rendered yet",
                                context="email"),
                 422: error_doc("email_required", note="neither `to` nor a customer email"),
                 429: error_doc("too_many_emails", note="a limit is used up; header `Retry-After` (seconds)",
                                context="documents"),
                 503: error_doc("email_unavailable")}, body=True))
def email_document(document_id: _DOCUMENT_ID,
                   body: Annotated[SendDocumentRequest | None, Body()] = None) -> DocumentEmail:
    caller = principal(router)
    to = body.to if body else None
    return documents.default_service().send(caller.account_id, caller.environment, document_id, to)


@router.post("/v1/documents/<document_id>/retry", summary="Retry a failed document", tags=_DOCUMENTS,
             status_code=202,
             description="Sends a `failed` document on again, under the same number and access key, and "
                         "answers at once with status `processing`. Before sending it again, Sello asks the tax "
                         "authority for it, so a document the authority did receive is followed to its decision, "
                         "never sent twice. A document failed with `certificate_expired` is signed again with the "
                         "issuer's current certificate.",
             responses=route_responses(202, "The document is processing again", {
                 404: _NOT_FOUND,
                 409: error_doc("document_not_retryable", note="only a failed document can be retried")}))
def retry_document(document_id: _DOCUMENT_ID) -> DocumentView:
    caller = principal(router)
    return documents.default_service().retry(caller.account_id, caller.environment, document_id)


@router.post("/v1/documents/<document_id>/cancel", summary="Cancel a document", tags=_DOCUMENTS,
             status_code=202,
             description="Asks the tax authority to cancel an authorized document, and answers at once with the "
                         "document, its `cancellation.status` `pending`. The cancellation then runs on its own: the "
                         "request goes to the authority (Mexico: signed with the issuer's CSD, through the PAC), and "
                         "Sello asks the authority until it decides; when the authority asks the receiver to accept "
                         "it (Mexico: above 1,000 MXN, unless the receiver is the general public or a foreign "
                         "resident, or the CFDI is an egreso...), that takes up to three business days, and the "
                         "receiver's silence counts as acceptance (`expired`). The final status is `accepted`, "
                         "`expired` (both: the document is cancelled, its PDF says so), `rejected` or `failed` (a "
                         "new request may follow); the customer gets an email with it. The body depends on the "
                         "document's country (Mexico: `motive` 01–04, and for 01 the `substitute`: an invoice "
                         "issued with `substitutes` naming this document).",
             responses=route_responses(202, "The cancellation is pending", {
                 404: _NOT_FOUND,
                 409: error_doc("cancellation_not_available", "document_not_authorized", "cancellation_in_progress",
                                "document_cancelled",
                                note="the country's authority cannot be asked to cancel through Sello; the "
                                     "document is not authorized; a cancellation is pending or done",
                                context="cancel"),
                 422: error_doc("related_document_not_found", "related_document_not_authorized",
                                "related_document_cancelled",
                                *countries.cancellation_error_codes(),
                                note="`path` names the field: a motive the country does not have, a substitute "
                                     "missing, not allowed, not found, not authorized or not substituting this "
                                     "document", context="cancel"),
                 503: error_doc("workflow_unavailable", note="the cancellation could not be started; request it "
                                                             "again", context="cancel")}, body=True))
def cancel_document(document_id: _DOCUMENT_ID, body: Annotated[CancelBody, Body()]) -> DocumentView:
    from sello.services import cancellation  # like stamping, loaded by the routes that use it

    caller = principal(router)
    return cancellation.default_service().request(caller.account_id, caller.environment, document_id, body)


@router.get("/v1/documents/<document_id>/cancellation-receipt", summary="Download the cancellation receipt",
            tags=_DOCUMENTS,
            description="Redirects (303) to the tax authority's receipt of the latest cancellation request (Mexico: "
                        "SAT's acuse de cancelación, XML), once the authority has taken the request. Follow the "
                        "redirect (`curl -L`).",
            responses=file_responses("The receipt is at `Location`", "`Content-Type: application/xml`", {
                404: _NOT_FOUND, 409: error_doc("cancellation_receipt_not_available")},
                example=("accounts/acct_9f2c4e7a1b3d5f6a8c0e/documents/doc_7h3k9m2p4r6t8v1x3z5b/"
                         "cancellation-receipt.xml", "A-1.cancelacion.xml", "application/xml")))
def get_document_cancellation_receipt(document_id: _DOCUMENT_ID):
    from sello.services import cancellation

    caller = principal(router)
    return file_redirect(cancellation.default_service().receipt(caller.account_id, caller.environment, document_id))


app = make_app(router, raw_paths={_STAMP_PATH: _XML_TYPES})


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
