"""Issuer logos through the issuers function (REST proxy events, the samples in events/issuers and
built ones), with DynamoDB and S3 emulated by moto: upload as the body itself or as a form, read back,
remove; what is refused, and that nothing is stored then; what is kept of an image (its pixels only)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image
from sello import catalog
from sello.adapters import aws as aws_clients
from sello.services import logos
from sello.settings import get_settings

from local.lambdas import context_for
from tests.helpers import api_event, authorizer_context, followed, load_event, response_json

ISSUERS = next(s for s in catalog.API_FUNCTIONS if s.name == "issuers")
ACCOUNT_A = {"account_id": "acct_a0000000000000000000", "environment": "test", "key_id": "key_a"}
ACCOUNT_B = {"account_id": "acct_b0000000000000000000", "environment": "test", "key_id": "key_b"}
SAMPLE_ISSUER = "iss_demo0000000000000000"


def handle(event: dict) -> dict:
    from functions.api import issuers

    return issuers.handler(event, context_for(ISSUERS))


def call(event: dict) -> tuple[int, dict | None]:
    """The status and, for a JSON answer, its body."""
    response = handle(event)
    is_json = content_type(response) == "application/json"
    return response["statusCode"], response_json(response) if is_json else None


def content_type(response: dict) -> str | None:
    headers = response.get("multiValueHeaders") or {}
    return (headers.get("Content-Type") or [None])[0]


def request(method: str, path: str, body=None, principal: dict = ACCOUNT_A,
            **kwargs) -> tuple[int, dict | None]:
    return call(api_event(method, path, body, principal=principal, **kwargs))


def create_issuer(principal: dict = ACCOUNT_A) -> str:
    status, issuer = request("POST", "/v1/issuers", load_event("issuers/create_issuer.body.json"),
                             principal=principal)
    assert status == 201, issuer
    return issuer["id"]


def image(size=(120, 40), mode="RGB", fmt="PNG", color=(200, 30, 60), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def put_raw(issuer_id: str, data: bytes, content_type: str = "image/png", principal: dict = ACCOUNT_A):
    return request("PUT", f"/v1/issuers/{issuer_id}/logo", data, principal=principal,
                   headers={"Content-Type": content_type})


def put_form(issuer_id: str, parts: dict[str, bytes | str], boundary: str = "sello-logo-boundary"):
    chunks = []
    for name, value in parts.items():
        if isinstance(value, bytes):
            head = (f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
                    "Content-Type: image/png\r\n")
        else:
            head, value = f'Content-Disposition: form-data; name="{name}"\r\n', value.encode()
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + value + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return request("PUT", f"/v1/issuers/{issuer_id}/logo", body,
                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def get_logo(issuer_id: str, principal: dict = ACCOUNT_A, headers: dict | None = None) -> dict:
    return handle(api_event("GET", f"/v1/issuers/{issuer_id}/logo", principal=principal, headers=headers))


def logo_bytes(issuer_id: str, content_type: str = "image/png", headers: dict | None = None) -> bytes:
    """The stored logo, through the download's redirect (checked as documents' downloads are)."""
    filename = "logo.png" if content_type == "image/png" else "logo.jpg"
    return followed(get_logo(issuer_id, headers=headers), filename, content_type)


def stored_objects() -> list[str]:
    listing = aws_clients.client("s3").list_objects_v2(Bucket=get_settings().bucket_name, Prefix="accounts/")
    return [o["Key"] for o in listing.get("Contents", [])]


def decoded(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


# Upload, read back, remove ------------------------------------------------------------------------

def test_a_png_sent_as_the_body_is_stored_read_back_and_removed(aws):
    issuer_id = create_issuer()
    sent = image((120, 40))
    status, view = put_raw(issuer_id, sent)
    assert status == 200, view
    assert (view["issuer_id"], view["object"], view["content_type"]) == (issuer_id, "logo", "image/png")
    assert (view["width"], view["height"]) == (120, 40)

    data = logo_bytes(issuer_id)
    assert len(data) == view["size"] and hashlib.sha256(data).hexdigest() == view["sha256"]
    assert decoded(data).size == (120, 40) and decoded(data).getpixel((5, 5)) == (200, 30, 60)
    assert stored_objects() == [f"accounts/{ACCOUNT_A['account_id']}/issuers/{issuer_id}/logo"]

    response = handle(api_event("DELETE", f"/v1/issuers/{issuer_id}/logo", principal=ACCOUNT_A))
    assert response["statusCode"] == 204 and not response["body"]
    status, body = call(api_event("GET", f"/v1/issuers/{issuer_id}/logo", principal=ACCOUNT_A))
    assert (status, body["error"]["code"]) == (404, "logo_not_found")
    # removing it again is not an error
    again = handle(api_event("DELETE", f"/v1/issuers/{issuer_id}/logo", principal=ACCOUNT_A))
    assert again["statusCode"] == 204


def test_a_jpeg_in_a_form_replaces_the_png(aws):
    issuer_id = create_issuer()
    assert put_raw(issuer_id, image())[0] == 200
    status, view = put_form(issuer_id, {"logo": image((64, 64), fmt="JPEG", color=(10, 120, 240))})
    assert status == 200, view
    assert (view["content_type"], view["width"], view["height"]) == ("image/jpeg", 64, 64)
    assert decoded(logo_bytes(issuer_id, "image/jpeg")).format == "JPEG"
    assert len(stored_objects()) == 1


def test_the_sample_events_upload_read_and_remove_a_logo(aws):
    issuer_id = create_issuer()

    def sample(name: str) -> dict:
        event = load_event(f"issuers/{name}.json")
        event["requestContext"]["authorizer"] = authorizer_context(ACCOUNT_A)
        event["path"] = event["path"].replace(SAMPLE_ISSUER, issuer_id)
        event["pathParameters"] = {"proxy": event["path"].split("/v1/issuers/", 1)[1]}
        return event

    for name in ("upload_logo", "upload_logo_multipart"):
        status, view = call(sample(name))
        assert (status, view["content_type"], view["width"], view["height"]) == (200, "image/png", 96, 32)
    assert decoded(followed(handle(sample("get_logo")), "logo.png", "image/png")).size == (96, 32)
    assert handle(sample("delete_logo"))["statusCode"] == 204
    assert stored_objects() == []


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "image/png", "image/jpeg", "text/html"])
def test_the_logo_comes_whatever_the_accept_header(aws, accept):
    issuer_id = create_issuer()
    sent = image((30, 20), fmt="JPEG")
    assert put_raw(issuer_id, sent, "image/jpeg")[0] == 200
    data = logo_bytes(issuer_id, "image/jpeg", headers={"Accept": accept} if accept else None)
    assert decoded(data).size == (30, 20) and data.startswith(b"\xff\xd8\xff")


def test_octet_stream_takes_whatever_the_bytes_are(aws):
    issuer_id = create_issuer()
    status, view = put_raw(issuer_id, image(fmt="JPEG"), "application/octet-stream")
    assert (status, view["content_type"]) == (200, "image/jpeg")


# What is kept of an image --------------------------------------------------------------------------

def test_only_the_pixels_are_kept(aws):
    """Text chunks, EXIF and anything appended to the file (a script, another file) are not stored."""
    from PIL import PngImagePlugin

    issuer_id = create_issuer()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-comment-in-png")
    png = image(pnginfo=info) + b"<script>alert('appended')</script>"
    assert put_raw(issuer_id, png)[0] == 200
    stored = logo_bytes(issuer_id)
    assert b"secret-comment-in-png" not in stored and b"<script>" not in stored
    assert decoded(stored).getpixel((0, 0)) == (200, 30, 60)

    exif = Image.Exif()
    exif[0x010E] = "secret-exif-description"  # ImageDescription
    jpeg = image(fmt="JPEG", exif=exif.tobytes())
    assert b"secret-exif-description" in jpeg
    assert put_raw(issuer_id, jpeg, "image/jpeg")[0] == 200
    assert b"secret-exif-description" not in logo_bytes(issuer_id, "image/jpeg")


def test_a_photo_is_turned_upright_and_a_large_logo_scaled_down(aws):
    issuer_id = create_issuer()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    status, view = put_raw(issuer_id, image((200, 100), fmt="JPEG", exif=exif.tobytes()), "image/jpeg")
    assert (status, view["width"], view["height"]) == (200, 100, 200)

    status, view = put_raw(issuer_id, image((2000, 1500), fmt="PNG"))
    assert status == 200, view
    assert (view["width"], view["height"]) == (logos.STORED_SIDE, logos.STORED_SIDE * 3 // 4)


def test_transparency_is_kept(aws):
    issuer_id = create_issuer()
    assert put_raw(issuer_id, image(mode="RGBA", color=(0, 0, 0, 0)))[0] == 200
    assert decoded(logo_bytes(issuer_id)).mode == "RGBA"
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    out = io.BytesIO()
    palette.save(out, "PNG", transparency=1)  # colour 1 is transparent
    assert put_raw(issuer_id, out.getvalue())[0] == 200
    assert decoded(logo_bytes(issuer_id)).getpixel((0, 0)) == (0, 0, 255, 0)


# What is refused -------------------------------------------------------------------------------

def gif() -> bytes:
    return image(fmt="GIF")


def too_many_bytes() -> bytes:
    """A PNG of noise, which does not compress: over the limit in bytes, within it in pixels."""
    import random

    size = (600, 600)
    picture = Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    picture.save(out, "PNG")
    assert len(out.getvalue()) > logos.MAX_LOGO_BYTES
    return out.getvalue()


def truncated() -> bytes:
    return image((300, 300), fmt="PNG")[:-200]


def bomb() -> bytes:
    """A PNG whose header claims 30,000 × 30,000 pixels (and holds almost nothing)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(
        b"IEND", b"")


@pytest.mark.parametrize("data, content_type, code", [
    (b"", "image/png", "invalid_logo"),
    (b"not an image at all", "image/png", "invalid_logo"),
    (b"%PDF-1.4 ...", "application/octet-stream", "invalid_logo"),
    (gif(), "application/octet-stream", "invalid_logo"),
    (truncated(), "image/png", "invalid_logo"),
    (image(fmt="JPEG"), "image/png", "invalid_logo"),  # not what it was sent as
    (image((2001, 10)), "image/png", "logo_dimensions_too_large"),
    (image((10, 2001)), "image/png", "logo_dimensions_too_large"),
    (bomb(), "image/png", "logo_dimensions_too_large"),
], ids=["empty", "text", "pdf", "gif", "truncated", "mislabelled", "too-wide", "too-tall", "bomb"])
def test_what_is_not_a_png_or_jpeg_within_limits_is_refused_and_nothing_is_stored(aws, data, content_type,
                                                                                    code):
    issuer_id = create_issuer()
    status, body = put_raw(issuer_id, data, content_type)
    assert (status, body["error"]["code"], body["error"]["path"]) == (422, code, "logo"), body
    assert stored_objects() == []


def test_a_file_over_the_size_limit_says_the_limit_and_its_size(aws):
    issuer_id = create_issuer()
    data = too_many_bytes()
    status, body = put_raw(issuer_id, data)
    assert (status, body["error"]["code"]) == (422, "logo_too_large")
    assert (body["error"]["limit"], body["error"]["size"]) == (logos.MAX_LOGO_BYTES, len(data))
    assert stored_objects() == []


def test_a_refused_logo_leaves_the_previous_one(aws):
    issuer_id = create_issuer()
    assert put_raw(issuer_id, image())[0] == 200
    before = logo_bytes(issuer_id)
    assert put_raw(issuer_id, b"garbage")[0] == 422
    assert logo_bytes(issuer_id) == before


@pytest.mark.parametrize("parts, status, code, path", [
    ({"file": image()}, 422, "missing_field", "logo"),
    ({"note": "no file here"}, 422, "missing_field", "logo"),
    ({"logo": image(), "name": "x"}, 422, "unknown_field", "name"),
    ({}, 400, "invalid_multipart", None),
])
def test_a_form_carries_the_logo_and_nothing_else(aws, parts, status, code, path):
    issuer_id = create_issuer()
    got, body = put_form(issuer_id, parts)
    assert (got, body["error"]["code"], body["error"].get("path")) == (status, code, path), body
    assert stored_objects() == []


@pytest.mark.parametrize("content_type", ["text/plain", "image/gif", "application/json"])
def test_other_content_types_are_unsupported(aws, content_type):
    issuer_id = create_issuer()
    status, body = put_raw(issuer_id, image(), content_type)
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
    assert stored_objects() == []


def test_another_accounts_issuer_is_not_found(aws):
    issuer_id = create_issuer(ACCOUNT_B)
    status, body = put_raw(issuer_id, image(), principal=ACCOUNT_A)
    assert (status, body["error"]["code"]) == (404, "issuer_not_found")
    assert put_raw(issuer_id, image(), principal=ACCOUNT_B)[0] == 200
    for method in ("GET", "DELETE"):
        status, body = call(api_event(method, f"/v1/issuers/{issuer_id}/logo", principal=ACCOUNT_A))
        assert (status, body["error"]["code"]) == (404, "issuer_not_found"), method
    assert len(stored_objects()) == 1


def test_an_unknown_issuer_is_not_found_before_the_body_is_looked_at(aws):
    status, body = put_raw("iss_nope0000000000000000", b"garbage")
    assert (status, body["error"]["code"]) == (404, "issuer_not_found")


def test_issuer_logo_gives_the_bytes_and_type_to_whoever_shows_it(aws):
    issuer_id = create_issuer()
    assert logos.issuer_logo(ACCOUNT_A["account_id"], issuer_id) is None
    assert put_raw(issuer_id, image(fmt="JPEG"), "image/jpeg")[0] == 200
    logo = logos.issuer_logo(ACCOUNT_A["account_id"], issuer_id)
    assert logo.content_type == "image/jpeg" and decoded(logo.data).size == (120, 40)
    assert logos.issuer_logo(ACCOUNT_B["account_id"], issuer_id) is None


def test_errors_never_echo_the_body(aws):
    issuer_id = create_issuer()
    status, body = put_raw(issuer_id, b"secret-bytes-" * 10)
    assert status == 422 and "secret-bytes" not in json.dumps(body)
