"""An issuer's logo over HTTP against the local stack: uploaded as the image itself and as a form (the
gateway hands both over base64-encoded, as API Gateway does with binary media types), read back
through its download's redirect to a presigned URL (the same bytes whatever the Accept header), printed
on the RIDE of a factura issued afterwards, and removed."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.e2e.conftest import LocalStack
from tests.e2e.test_ec_documents_e2e import document_body, issue, wait_final

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def png(size: tuple[int, int], color=(20, 50, 110)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def issuer(local_stack: LocalStack) -> tuple[str, str]:
    """(test API key, issuer id) of an account of this module's own, with a signing certificate. The
    SRI simulator starts afresh: it knows the demo RUC's numbers whoever sent them, and this new
    account's first number may be one another module already sent (SRI's 45)."""
    local_stack.sri("reset")
    return local_stack.new_issuer('Logos E2E S.A.')


def test_upload_read_back_print_and_remove(local_stack, issuer):
    key, issuer_id = issuer
    path = f"/v1/issuers/{issuer_id}/logo"
    with local_stack.client(key) as client:
        sent = png((240, 80))
        stored = client.put(path, content=sent, headers={"Content-Type": "image/png"})
        assert stored.status_code == 200, stored.text
        assert (stored.json()["width"], stored.json()["height"]) == (240, 80)

        # A redirect to the file at a presigned URL the emulator answers, as documents' downloads.
        redirect = client.get(path)
        assert redirect.status_code == 303, redirect.text
        assert redirect.json()["url"] == redirect.headers["location"]
        as_bytes = client.get(path, follow_redirects=True)
        assert (as_bytes.status_code, as_bytes.headers["content-type"]) == (200, "image/png")
        assert as_bytes.headers["content-disposition"] == 'attachment; filename="logo.png"'
        assert len(as_bytes.content) == stored.json()["size"]
        assert Image.open(io.BytesIO(as_bytes.content)).tobytes() == Image.open(io.BytesIO(sent)).tobytes()
        # The same bytes whatever the Accept header.
        for accept in ("image/png", "application/json", "*/*"):
            again = client.get(path, headers={"Accept": accept}, follow_redirects=True)
            assert again.content == as_bytes.content, accept

        replaced = client.put(path, files={"logo": ("logo.png", png((300, 100), (200, 30, 60)), "image/png")})
        assert replaced.status_code == 200, replaced.text

        created = issue(client, document_body("invoice", issuer_id))
        done = wait_final(client, created["id"])
        assert done["status"] == "authorized", done
        pdf = client.get(f"/v1/documents/{created['id']}/pdf", follow_redirects=True)
        page = PdfReader(io.BytesIO(pdf.content)).pages[0]
        (logo,) = page["/Resources"]["/XObject"].values()
        assert (logo["/Width"], logo["/Height"]) == (300, 100)

        assert client.delete(path).status_code == 204
        missing = client.get(path)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "logo_not_found")
        refused = client.put(path, content=b"GIF89a...", headers={"Content-Type": "application/octet-stream"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_logo")
