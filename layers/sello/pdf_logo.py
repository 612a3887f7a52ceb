"""The issuer's logo as the printed documents draw it (Ecuador's RIDE, Mexico's printed CFDI)."""

from __future__ import annotations

import io
import logging
from functools import lru_cache

from reportlab.lib.utils import ImageReader

log = logging.getLogger(__name__)


def logo_image(data: bytes | None) -> ImageReader | None:
    """The logo for a layout; None (a document without logo) when there is none or it does not open,
    which a logo checked on upload always does."""
    return _reader(data) if data else None


@lru_cache(maxsize=4)
def _reader(data: bytes) -> ImageReader | None:
    """One reader per logo and process: it keeps the decoded pixels, so the next document of the same
    issuer does not decode its logo again."""
    try:
        image = ImageReader(io.BytesIO(data))
        width, height = image.getSize()
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types; the document goes out without it
        log.warning("the issuer's logo could not be read (%s); rendering without it", type(exc).__name__)
        return None
    return image if width > 0 and height > 0 else None
