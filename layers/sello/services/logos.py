"""Issuer logos: the image a printed document (the RIDE) shows top left, and emails may show.

An upload is a PNG or JPEG of at most MAX_LOGO_BYTES and MAX_LOGO_SIDE pixels a side. It is decoded
in full with Pillow (never trusted by its name or content type: a file that does not decode as what it
claims is refused), then stored re-encoded in the same format: the pixels only, without metadata
(EXIF, text chunks, colour profiles) or anything appended to the file, turned upright when its EXIF
said so, and scaled down to STORED_SIDE pixels a side when larger (enough for print at the size the
RIDE gives it). What is stored is what GET returns and what documents show. One logo per issuer: a
new upload replaces it.

Pillow is imported on the first upload only, so the issuers API does not load it for other routes;
reading a stored logo (stored_logo, issuer_logo: what the workflow's render task and emails use) loads
nothing beyond the bucket's adapter.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from sello.adapters.blobs import S3Blobs, issuer_key
from sello.errors import NotFound, Unprocessable
from sello.i18n import Message, _l
from sello.services import downloads
from sello.services.downloads import FileLinks
from sello.settings import Settings, get_settings

if TYPE_CHECKING:
    from sello.services.issuers import IssuerLookup

logger = Logger(service="sello")

MAX_LOGO_BYTES = 500 * 1024
MAX_LOGO_SIDE = 2000
STORED_SIDE = 1000
PNG, JPEG = "image/png", "image/jpeg"
CONTENT_TYPES = {"PNG": PNG, "JPEG": JPEG}
EXTENSIONS = {PNG: "png", JPEG: "jpg"}
# What a raw upload may say it is (application/octet-stream: whatever the bytes turn out to be).
UPLOAD_TYPES = (PNG, JPEG, "application/octet-stream")
LOGO_FILE = "logo"
_SIGNATURES = {PNG: b"\x89PNG\r\n\x1a\n", JPEG: b"\xff\xd8\xff"}


@dataclass(frozen=True)
class Logo:
    data: bytes
    content_type: str  # image/png or image/jpeg


class LogoView(BaseModel):
    issuer_id: str = Field(examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    object: str = "logo"
    content_type: str = Field(description="`image/png` or `image/jpeg`, as uploaded.", examples=["image/png"])
    width: int = Field(description="Pixels, as stored.")
    height: int = Field(description="Pixels, as stored.")
    size: int = Field(description="Bytes, as stored (GET returns these bytes).")
    sha256: str = Field(description="SHA-256 of the stored bytes, hex.",
                        examples=["3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"])


class BlobReader(Protocol):
    def get(self, key: str) -> bytes | None: ...


class LogoBlobs(BlobReader, FileLinks, Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def content_type(self, key: str) -> str | None: ...

    def delete(self, key: str) -> None: ...


def logo_key(account_id: str, issuer_id: str) -> str:
    return issuer_key(account_id, issuer_id, LOGO_FILE)


def content_type_of(data: bytes) -> str | None:
    """image/png or image/jpeg from the stored bytes' signature (they were checked on upload)."""
    return next((kind for kind, signature in _SIGNATURES.items() if data.startswith(signature)), None)


def stored_logo(blobs: BlobReader, account_id: str, issuer_id: str) -> Logo | None:
    """The issuer's logo as stored, or None when it has none."""
    data = blobs.get(logo_key(account_id, issuer_id))
    content_type = content_type_of(data) if data else None
    return Logo(data, content_type) if data and content_type else None


def invalid_logo(message: Message) -> Unprocessable:
    return Unprocessable(message, code="invalid_logo", path=LOGO_FILE)


@dataclass(frozen=True)
class CheckedLogo:
    data: bytes
    content_type: str
    width: int
    height: int


def check_logo(data: bytes, declared: str | None = None) -> CheckedLogo:
    """The logo re-encoded for storage, or 422: `logo_too_large` (bytes, with limit and size),
    `logo_dimensions_too_large` (pixels), `invalid_logo` (empty, not PNG or JPEG, damaged, or not the
    `declared` type)."""
    if not data:
        raise invalid_logo(_l("The logo is empty; send a PNG or JPEG image."))
    if len(data) > MAX_LOGO_BYTES:
        raise Unprocessable(_l("The logo is {size} bytes; at most {limit} ({kb} KB) are accepted.", size=len(data),
                               limit=MAX_LOGO_BYTES, kb=MAX_LOGO_BYTES // 1024), code="logo_too_large",
                            path=LOGO_FILE, extra={"limit": MAX_LOGO_BYTES, "size": len(data)})
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(CONTENT_TYPES)) as image:
                content_type = CONTENT_TYPES[image.format]
                if declared in (PNG, JPEG) and declared != content_type:
                    raise invalid_logo(_l("The logo was sent as {declared} but is a {format} image.",
                                                     declared=declared, format=image.format))
                width, height = image.size
                if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                    raise Unprocessable(_l("The logo is {width}×{height} pixels; at most {side}×{side} are "
                                           "accepted.", width=width, height=height, side=MAX_LOGO_SIDE),
                                        code="logo_dimensions_too_large",
                                        path=LOGO_FILE)
                image.load()  # decodes every pixel: a damaged or truncated file fails here
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unprocessable(_l("The logo has far more pixels than {side}×{side}.", side=MAX_LOGO_SIDE),
                            code="logo_dimensions_too_large", path=LOGO_FILE) from None
    except UnidentifiedImageError:
        raise invalid_logo(_l("The logo is not a PNG or JPEG image.")) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise invalid_logo(_l("The logo could not be decoded: the image is damaged or incomplete.")) from None
    return _encode(upright, content_type)


def _encode(image, content_type: str) -> CheckedLogo:
    from PIL import Image

    if content_type == PNG:
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    else:
        image = image.convert("L" if image.mode in ("L", "1") else "RGB")
    if max(image.size) > STORED_SIDE:
        image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if content_type == PNG:
        image.save(out, "PNG")
    else:
        image.save(out, "JPEG", quality=90, optimize=True)
    return CheckedLogo(out.getvalue(), content_type, *image.size)


class LogoService:
    def __init__(self, repo: IssuerLookup, blobs: LogoBlobs, *, settings: Settings | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.repo = repo
        self.blobs = blobs
        self.settings = settings
        self.clock = clock

    def _issuer(self, account_id: str, issuer_id: str) -> None:
        """issuer_not_found unless the account has this issuer."""
        from sello.services.issuers import find_issuer

        find_issuer(self.repo, account_id, issuer_id)

    def upload(self, account_id: str, issuer_id: str, data: bytes, declared: str | None = None) -> LogoView:
        """Checks and stores the issuer's logo (replacing any); nothing is stored when it is refused."""
        self._issuer(account_id, issuer_id)
        try:
            logo = check_logo(data, declared)
        except Unprocessable as exc:
            logger.info("logo rejected", account_id=account_id, issuer_id=issuer_id, code=exc.code)
            raise
        self.blobs.put(logo_key(account_id, issuer_id), logo.data, logo.content_type)
        logger.info("logo stored", account_id=account_id, issuer_id=issuer_id, size=len(logo.data))
        return LogoView(issuer_id=issuer_id, content_type=logo.content_type, width=logo.width,
                        height=logo.height, size=len(logo.data), sha256=hashlib.sha256(logo.data).hexdigest())

    def download(self, account_id: str, issuer_id: str) -> downloads.Download:
        """A short-lived URL of the logo as stored (`logo.png` or `logo.jpg`, with its type), as
        documents' files are downloaded; 404 logo_not_found when the issuer has none."""
        self._issuer(account_id, issuer_id)
        key = logo_key(account_id, issuer_id)
        content_type = self.blobs.content_type(key)
        if content_type not in EXTENSIONS:
            raise NotFound(_l("This issuer has no logo."), code="logo_not_found", path="issuer_id")
        return downloads.download(self.blobs, key, filename=f"logo.{EXTENSIONS[content_type]}",
                                  content_type=content_type, now=self.clock().replace(microsecond=0),
                                  settings=self.settings)

    def find(self, account_id: str, issuer_id: str) -> Logo | None:
        """The issuer's logo, or None when it has none (or there is no such issuer)."""
        return stored_logo(self.blobs, account_id, issuer_id)

    def delete(self, account_id: str, issuer_id: str) -> None:
        """Removes the issuer's logo; documents rendered from then on have none. Nothing to remove is
        not an error."""
        self._issuer(account_id, issuer_id)
        self.blobs.delete(logo_key(account_id, issuer_id))
        logger.info("logo deleted", account_id=account_id, issuer_id=issuer_id)


def default_service() -> LogoService:
    from sello.adapters.dynamo import DynamoStore
    from sello.adapters.issuers_repo import DynamoIssuersRepo

    settings = get_settings()
    return LogoService(DynamoIssuersRepo(DynamoStore(settings.table_name)), S3Blobs(settings.bucket_name))


def issuer_logo(account_id: str, issuer_id: str) -> Logo | None:
    """The issuer's logo (bytes and content type) for a document or an email, or None without one.
    Reads only the bucket (the caller knows the issuer is the account's)."""
    return stored_logo(S3Blobs(get_settings().bucket_name), account_id, issuer_id)
