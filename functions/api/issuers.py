"""Issuers, their signing certificates and their logos. All serve the test and the live environment
alike; once the account is live, only a live key may change them (AccountService.check_shared_change)."""

from __future__ import annotations

import base64
from email import policy
from email.parser import BytesParser
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, ValidationError

import sello
from sello.errors import BadRequest, Unprocessable, UnsupportedMediaType
from sello.http import (
    BodyValidationError,
    PageCursor,
    PageLimit,
    check_characters,
    error_doc,
    file_redirect,
    file_responses,
    make_app,
    media_type,
    parse_json,
    principal,
    request_content_type,
    request_translator,
    route_responses,
)
from sello import countries
from sello.i18n import _l
from sello.models.certificate_files import CertificateUpload
from sello.models.certificate_api import CertificateView
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.country_bodies import IssuerBody, certificate_upload_body
from sello.models.issuer_api import IssuerList, IssuerView
from sello.models.issuers import MAX_ISSUER_BYTES
from sello.services import accounts, certificates, issuers, logos

router = Router()

_ISSUERS, _CERTIFICATES, _LOGOS = ["Issuers"], ["Certificates"], ["Logos"]
_ISSUER_ID = Annotated[str, Path(description="The issuer's id: `iss_` and 20 lower-case letters or digits. "
                                             "Any other value is `issuer_not_found`.")]
_NOT_FOUND = error_doc("issuer_not_found")
_LIVE_KEY_REQUIRED = error_doc("live_key_required", note="the account is live, so a test key cannot change its "
                                                         "issuers, certificates or logos")


def _upload_body() -> dict:
    """The certificate upload's body in the OpenAPI document (built only when the document is): each
    country's files, as a form and as JSON."""
    return certificate_upload_body()


@router.post(
    "/v1/issuers", summary="Register an issuer", tags=_ISSUERS, status_code=201,
    description="A company that issues documents: tax id (checked for format and check digit), names, and "
                "what its country's tax authority needs (Ecuador: head office, establishments with their "
                "emission points, and flags). The body's `country` chooses its schema.",
    responses=route_responses(201, "Issuer registered", {
        403: _LIVE_KEY_REQUIRED,
        409: error_doc("issuer_exists"),
        422: error_doc("unsupported_country", *countries.tax_id_error_codes(), "issuer_too_large",
                       note=f"`issuer_too_large`: over {MAX_ISSUER_BYTES // 1000} KB as stored, with `limit` and "
                            "`size`")}, body=True),
)
def create_issuer(body: Annotated[IssuerBody, Body()]) -> IssuerView:
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    return issuers.default_service().create(caller.account_id, body)


@router.get("/v1/issuers", summary="List issuers", tags=_ISSUERS,
            description="The account's issuers, oldest first, a page at a time.",
            responses=route_responses(200, "A page of issuers", {400: error_doc("invalid_cursor")}))
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
    description="The certificate files of the issuer's country with their password (Ecuador: a PKCS#12 "
                "file, .p12/.pfx), as multipart/form-data (Ecuador: `certificate`, `password`, "
                "`notification_email`) or as JSON with each file base64-encoded (Ecuador: `p12_base64`); the "
                "body's schema shows each country's fields. The files must "
                "hold the private key and a certificate for digital signature, valid now and issued to the "
                "issuer's tax id. The key is kept encrypted; the password is not kept. A previous "
                "certificate moves to the history. The optional `notification_email` receives the outcome. "
                "A live API key accepts only a certificate that chains to a certification authority "
                "recognised in the issuer's country; a test key accepts any, and one that does not chain "
                "(`trusted` false) signs test documents only. The certificate signs the documents of both "
                "environments: once the account is live, only a live key may replace it.",
    responses=route_responses(200, "Certificate stored; `warnings` says when it expires soon or signs test "
                                   "documents only", {
        400: error_doc("invalid_multipart"),
        403: _LIVE_KEY_REQUIRED,
        404: _NOT_FOUND,
        409: error_doc("certificate_conflict"),
        429: error_doc("too_many_emails", note="with a `notification_email`, at most 10 notices per issuer and 50 "
                                               "per account an hour by default; header `Retry-After` (seconds)"),
        422: error_doc("invalid_certificate_file", "wrong_certificate_password", "certificate_key_missing",
                       "certificate_missing", "certificate_key_mismatch", "certificate_key_unsupported",
                       "certificate_not_for_signing", "certificate_expired", "certificate_not_yet_valid",
                       "certificate_tax_id_mismatch", "certificate_not_trusted",
                       note="`certificate_not_trusted`: a live API key, and the certificate does not chain to a "
                            "recognised certification authority")}, body=True),
    openapi_extensions={"requestBody": _upload_body},
)
def upload_certificate(issuer_id: _ISSUER_ID) -> CertificateView:
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    service = certificates.default_service()
    request = _upload_request(service.upload_format(caller.account_id, issuer_id))
    return _translated(service.upload(caller.account_id, issuer_id, request, caller.environment))


@router.get("/v1/issuers/<issuer_id>/certificate", summary="Get the signing certificate", tags=_CERTIFICATES,
            description="Public metadata of the active certificate and of the ones it replaced; never key "
                        "material.",
            responses=route_responses(200, "The active certificate and its history", {
                404: error_doc("issuer_not_found", "certificate_not_found")}))
def get_certificate(issuer_id: _ISSUER_ID) -> CertificateView:
    return _translated(certificates.default_service().view(principal(router).account_id, issuer_id))


def _translated(view: CertificateView) -> CertificateView:
    """The view's warnings in the request's language."""
    t = request_translator(router.current_event)
    return view.model_copy(update={"warnings": [w.in_language(t) for w in view.warnings]})


_LOGO_PATH = r"/v1/issuers/[^/]+/logo"
_LOGO_LIMITS = (f"at most {logos.MAX_LOGO_BYTES // 1024} KB and {logos.MAX_LOGO_SIDE}×{logos.MAX_LOGO_SIDE} "
                "pixels")
_LOGO_BODY = {
    "required": True,
    "content": {
        **{media: {"schema": {"type": "string", "format": "binary"}} for media in logos.UPLOAD_TYPES},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["logo"],
            "properties": {"logo": {"type": "string", "format": "binary",
                                    "description": "The PNG or JPEG file."}},
        }},
    },
}


@router.put(
    "/v1/issuers/<issuer_id>/logo", summary="Upload the logo", tags=_LOGOS,
    description=f"A PNG or JPEG image, {_LOGO_LIMITS}, sent as the body itself (`Content-Type: "
                "image/png`, `image/jpeg` or `application/octet-stream`) or as multipart/form-data (field "
                "`logo`). It is decoded in full and stored re-encoded, without metadata, upright, and scaled "
                f"down to {logos.STORED_SIDE} pixels a side when larger. Documents rendered from then on "
                "show it (the RIDE top left). It replaces the issuer's previous logo; once the account is "
                "live, only a live key may change it.",
    responses=route_responses(200, "Logo stored", {
        400: error_doc("invalid_multipart"),
        403: _LIVE_KEY_REQUIRED,
        404: _NOT_FOUND,
        422: error_doc("logo_too_large", "logo_dimensions_too_large", "invalid_logo",
                       note=f"over {logos.MAX_LOGO_BYTES // 1024} KB (with `limit` and `size` in bytes), over "
                            f"{logos.MAX_LOGO_SIDE}×{logos.MAX_LOGO_SIDE} pixels, or not a PNG or JPEG (empty, "
                            "damaged, or not the type it was sent as); a form without a `logo` file or with other "
                            "fields is `missing_field` or `unknown_field`")}, body=True),
    openapi_extensions={"requestBody": _LOGO_BODY},
)
def upload_logo(issuer_id: _ISSUER_ID) -> logos.LogoView:
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    data, declared = _logo_upload()
    return logos.default_service().upload(caller.account_id, issuer_id, data, declared)


@router.get("/v1/issuers/<issuer_id>/logo", summary="Download the logo", tags=_LOGOS,
            description="Redirects (303) to the logo as stored, as documents' files are downloaded: a PNG or "
                        "JPEG, the type it was uploaded as. Follow the redirect (`curl -L`); the `Accept` "
                        "header does not matter.",
            responses=file_responses("The logo is at `Location`", "its type (`Content-Type: image/png` or "
                                     "`image/jpeg`) and `Content-Disposition: attachment; filename=\"logo.png\"` "
                                     "(or `logo.jpg`)",
                                     {404: error_doc("issuer_not_found", "logo_not_found")},
                                     example=("accounts/acct_9f2c4e7a1b3d5f6a8c0e/issuers/iss_3k9v0c2m1x7q8w4e5r6t/logo",
                                              "logo.png", "image/png")))
def get_logo(issuer_id: _ISSUER_ID):
    return file_redirect(logos.default_service().download(principal(router).account_id, issuer_id))


@router.delete("/v1/issuers/<issuer_id>/logo", summary="Remove the logo", tags=_LOGOS, status_code=204,
               description="Documents rendered from then on have no logo. Removing a logo the issuer does "
                           "not have is not an error. Once the account is live, only a live key may do it.",
               responses={**route_responses(204, "Removed", {403: _LIVE_KEY_REQUIRED, 404: _NOT_FOUND}),
                          204: {"description": "Removed", "content": {}}})  # no body
def delete_logo(issuer_id: _ISSUER_ID):
    caller = principal(router)
    accounts.default_service().check_shared_change(caller.account_id, caller.environment)
    logos.default_service().delete(caller.account_id, issuer_id)
    return Response(status_code=204)


# Upload bodies come as JSON, multipart or the file itself, so they are parsed here rather than by the
# resolver. -------------------------------------------------------------------------------------------

def _body_bytes() -> bytes:
    event = router.current_event
    return base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()


def _logo_upload() -> tuple[bytes, str | None]:
    """The logo's bytes and the type it was sent as (None in a form, where only the bytes count)."""
    content_type = request_content_type(router.current_event)
    media = media_type(content_type)
    raw = _body_bytes()
    if media == "multipart/form-data":
        fields = _form_fields(content_type, raw, files=("logo",))
        if "logo" not in fields:
            raise Unprocessable(_l("The form has no `logo` file."), code="missing_field", path="logo")
        unknown = sorted(set(fields) - {"logo"})
        if unknown:
            raise Unprocessable(_l("Unknown form field {name}; the form takes `logo` only.", name=repr(unknown[0])),
                                code="unknown_field", path=unknown[0])
        return fields["logo"], None
    if media not in logos.UPLOAD_TYPES:
        raise UnsupportedMediaType(_l("Send the logo as image/png, image/jpeg or application/octet-stream, or "
                                      "as multipart/form-data with a `logo` file."))
    return raw, media


def _upload_request(upload: CertificateUpload) -> BaseModel:
    """The body as one of the issuer's country's upload models (upload.form_model or json_model)."""
    content_type = request_content_type(router.current_event)
    raw = _body_bytes()
    if media_type(content_type) == "multipart/form-data":
        return _validated(upload.form_model, _form_fields(content_type, raw, files=upload.form_files))
    try:
        data = parse_json(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
        raise RequestValidationError([error]) from None
    return _validated(upload.json_model, data)


def _form_fields(content_type: str, raw: bytes, files: tuple[str, ...] = ("certificate",)) -> dict[str, Any]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise BadRequest(_l("The multipart/form-data body could not be read."), code="invalid_multipart")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if name in files or part.get_filename() is not None:
            fields[name] = payload
            continue
        try:
            fields[name] = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(_l("The form field {name} is not UTF-8 text.", name=repr(name)), code="invalid_multipart",
                             path=name) from None
    # Field names and text fields, as in a JSON body (the file's bytes are the file's business).
    check_characters({name: value if isinstance(value, str) else "" for name, value in fields.items()})
    return fields


def _validated(model: type[BaseModel], data: Any):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Same error shape as bodies the resolver validates; `input` is left out (it may hold the password).
        raise BodyValidationError([{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"],
                                    **({"ctx": e["ctx"]} if "ctx" in e else {})}
                                   for e in exc.errors()], model) from None


app = make_app(router, multipart_paths=(r"/v1/issuers/[^/]+/certificate", _LOGO_PATH),
               raw_paths={_LOGO_PATH: logos.UPLOAD_TYPES})


def handler(event, context):
    return app.resolve(event, context)


sello.loaded()  # the last line: this function's modules are loaded (sello/__init__.py)
