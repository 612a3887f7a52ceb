"""Issuers and their signing certificates. Both serve the test and the live environment alike; once
the account is live, only a live key may change them (AccountService.check_shared_change)."""

from __future__ import annotations

import base64
from email import policy
from email.parser import BytesParser
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, ValidationError

from sello.errors import BadRequest
from sello.http import (
    PageCursor,
    PageLimit,
    check_characters,
    error_doc,
    make_app,
    media_type,
    parse_json,
    principal,
    request_content_type,
    route_responses,
)
from sello.models.certificates import CertificateView, UploadCertificateForm, UploadCertificateRequest
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.issuers import MAX_ISSUER_BYTES, CreateIssuerRequest, IssuerList, IssuerView
from sello.services import accounts, certificates, issuers

router = Router()

_ISSUERS, _CERTIFICATES = ["Issuers"], ["Certificates"]
_ISSUER_ID = Annotated[str, Path(description="The issuer's id: `iss_` and 20 lower-case letters or digits. "
                                             "Any other value is `issuer_not_found`.")]
_NOT_FOUND = error_doc("`issuer_not_found`")
_LIVE_KEY_REQUIRED = error_doc("`live_key_required`: the account is live, so a test key cannot change its "
                               "issuers or certificates")


def _upload_body() -> dict:
    """The certificate upload's body in the OpenAPI document (built only when the document is)."""
    return {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["certificate", "password"],
                "properties": {
                    "certificate": {"type": "string", "format": "binary",
                                    "description": "The .p12/.pfx file."},
                    "password": {"type": "string", "format": "password"},
                    "notification_email": {"type": "string", "format": "email"},
                },
            }},
            "application/json": {"schema": UploadCertificateRequest.model_json_schema()},
        },
    }


@router.post(
    "/v1/issuers", summary="Register an issuer", tags=_ISSUERS, status_code=201,
    description="A company that issues documents: tax id (checked for format and check digit), names, head "
                "office, establishments with their emission points, and the flags its tax authority needs.",
    responses=route_responses(201, "Issuer registered", {
        403: _LIVE_KEY_REQUIRED,
        409: error_doc("`issuer_exists`"),
        422: error_doc("`invalid_tax_id`, `unsupported_country`, or `issuer_too_large` (over "
                       f"{MAX_ISSUER_BYTES // 1000} KB as stored, with `limit` and `size`)")}, body=True),
)
def create_issuer(body: Annotated[CreateIssuerRequest, Body()]) -> IssuerView:
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    return issuers.default_service().create(caller.account_id, body)


@router.get("/v1/issuers", summary="List issuers", tags=_ISSUERS,
            description="The account's issuers, oldest first, a page at a time.",
            responses=route_responses(200, "A page of issuers", {400: error_doc("`invalid_cursor`")}))
def list_issuers(
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> IssuerList:
    return issuers.default_service().list(principal(router).account_id, limit, cursor)


@router.get("/v1/issuers/<issuer_id>", summary="Get an issuer", tags=_ISSUERS,
            responses=route_responses(200, "The issuer", {404: _NOT_FOUND}))
def get_issuer(issuer_id: _ISSUER_ID) -> IssuerView:
    return issuers.default_service().view(principal(router).account_id, issuer_id)


@router.put(
    "/v1/issuers/<issuer_id>/certificate", summary="Upload the signing certificate", tags=_CERTIFICATES,
    description="A PKCS#12 file (.p12/.pfx) with its password, as multipart/form-data (`certificate`, "
                "`password`, `notification_email`) or as JSON with the file base64-encoded. The file must "
                "hold the private key and a certificate for digital signature, valid now and issued to the "
                "issuer's tax id. The key is kept encrypted; the password is not kept. A previous "
                "certificate moves to the history. The optional `notification_email` receives the outcome. "
                "A live API key accepts only a certificate that chains to a certification authority "
                "recognised in the issuer's country; a test key accepts any, and one that does not chain "
                "(`trusted` false) signs test documents only. The certificate signs the documents of both "
                "environments: once the account is live, only a live key may replace it.",
    responses=route_responses(200, "Certificate stored; `warnings` says when it expires soon or signs test "
                                   "documents only", {
        400: error_doc("`invalid_multipart`"),
        403: _LIVE_KEY_REQUIRED,
        404: _NOT_FOUND,
        409: error_doc("`certificate_conflict`"),
        429: error_doc("`too_many_emails`: with a `notification_email`, at most 10 notices per issuer and 50 "
                       "per account an hour by default; header `Retry-After` (seconds)"),
        422: error_doc("`invalid_certificate_file`, `wrong_certificate_password`, `certificate_key_missing`, "
                       "`certificate_missing`, `certificate_key_mismatch`, `certificate_key_unsupported`, "
                       "`certificate_not_for_signing`, `certificate_expired`, `certificate_not_yet_valid`, "
                       "`certificate_tax_id_mismatch`, `certificate_not_trusted` (live API key, and the "
                       "certificate does not chain to a recognised certification authority)")}, body=True),
    openapi_extensions={"requestBody": _upload_body},
)
def upload_certificate(issuer_id: _ISSUER_ID) -> CertificateView:
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    return certificates.default_service().upload(caller.account_id, issuer_id, _upload_request(),
                                                 caller.environment)


@router.get("/v1/issuers/<issuer_id>/certificate", summary="Get the signing certificate", tags=_CERTIFICATES,
            description="Public metadata of the active certificate and of the ones it replaced; never key "
                        "material.",
            responses=route_responses(200, "The active certificate and its history", {
                404: error_doc("`issuer_not_found` or `certificate_not_found`")}))
def get_certificate(issuer_id: _ISSUER_ID) -> CertificateView:
    return certificates.default_service().view(principal(router).account_id, issuer_id)


# The upload body comes as JSON or multipart, so it is parsed here rather than by the resolver. ------

def _upload_request() -> UploadCertificateRequest | UploadCertificateForm:
    event = router.current_event
    content_type = request_content_type(event)
    raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    if media_type(content_type) == "multipart/form-data":
        return _validated(UploadCertificateForm, _form_fields(content_type, raw))
    try:
        data = parse_json(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
        raise RequestValidationError([error]) from None
    return _validated(UploadCertificateRequest, data)


def _form_fields(content_type: str, raw: bytes) -> dict[str, Any]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise BadRequest("The multipart/form-data body could not be read.", code="invalid_multipart")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if name == "certificate" or part.get_filename() is not None:
            fields[name] = payload
            continue
        try:
            fields[name] = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"The form field {name!r} is not UTF-8 text.", code="invalid_multipart",
                             path=name) from None
    # Field names and text fields, as in a JSON body (the file's bytes are the file's business).
    check_characters({name: value if isinstance(value, str) else "" for name, value in fields.items()})
    return fields


def _validated(model: type[BaseModel], data: Any):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Same error shape as bodies the resolver validates; `input` is left out (it may hold the password).
        raise RequestValidationError([{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
                                      for e in exc.errors()]) from None


app = make_app(router, multipart_paths=(r"/v1/issuers/[^/]+/certificate",))


def handler(event, context):
    return app.resolve(event, context)
