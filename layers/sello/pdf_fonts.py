"""The RIDE's fonts: Noto Sans, regular and bold, embedded in the PDF as TrueType subsets (only the
glyphs a document uses), so every character of the Latin script prints as it is in the XML: Latin-1,
Latin Extended-A, -B, -C and Additional, IPA, and the general punctuation (“ ” ‘ ’ – — …). The few
characters Noto Sans has no glyph for (arrows such as →) come from FiraGO in the same weight. A
character neither font has is printed as its unaccented letter when it has one, otherwise as "?";
invisible format characters are left out.

Both fonts ship in the pymupdf-fonts package (SIL Open Font License 1.1), compressed inside Python
modules; each is unpacked and registered with reportlab once per process, the first time it is used.
Nothing reads font files from the machine.
"""

from __future__ import annotations

import importlib
import io
import unicodedata
from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR, BOLD = "NotoSans", "NotoSans-Bold"
# font name -> (pymupdf_fonts module holding it, the font used for the characters it lacks)
_FONTS: dict[str, tuple[str, str | None]] = {
    REGULAR: ("NotoSans_Regular", "FiraGO"),
    BOLD: ("NotoSans_Bold", "FiraGO-Bold"),
    "FiraGO": ("FiraGO_Regular", None),
    "FiraGO-Bold": ("FiraGO_Bold", None),
}
FALLBACK = {name: fallback for name, (_, fallback) in _FONTS.items() if fallback}


@cache
def _font(name: str) -> TTFont:
    """The font `name`, unpacked and registered with reportlab on first use."""
    module, _ = _FONTS[name]
    data = importlib.import_module(f"pymupdf_fonts.{module}").fontbuffer
    # Subsets hold only the glyphs a document uses (not every ASCII glyph as reportlab would by default).
    font = TTFont(name, io.BytesIO(data), asciiReadable=False)
    pdfmetrics.registerFont(font)
    return font


@cache
def _glyphs(name: str) -> frozenset[str]:
    """The characters the font has glyphs for."""
    return frozenset(map(chr, _font(name).face.charToGlyph))


def register() -> None:
    """Registers the two main fonts (once per process; later calls cost nothing)."""
    _font(REGULAR)
    _font(BOLD)


def _covered(ch: str, font: str) -> bool:
    fallback = FALLBACK.get(font)
    return ch in _glyphs(font) or (fallback is not None and ch in _glyphs(fallback))


def printable(text: str, font: str = REGULAR) -> str:
    """The text with every character that neither `font` nor its fallback has replaced: by its
    unaccented letter(s) when those print (Ⅻ -> XII), otherwise by "?"; spaces the font lacks
    become plain spaces, and format and control characters without a glyph are dropped (line
    breaks stay)."""
    glyphs = _glyphs(font)
    if glyphs.issuperset(text):
        return text
    out = []
    for ch in text:
        if _covered(ch, font) or ch == "\n":  # line breaks are the layout's to break lines at
            out.append(ch)
            continue
        if ch.isspace():
            out.append(" ")
            continue
        if unicodedata.category(ch).startswith("C"):
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(_covered(c, font) for c in base) else "?")
    return "".join(out)


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` (already printable) cut into (text, font) runs: the main font wherever it has the
    glyph, its fallback elsewhere."""
    glyphs = _glyphs(font)
    if glyphs.issuperset(text):
        return [(text, font)]
    fallback = FALLBACK.get(font) or font
    fallback_glyphs = _glyphs(fallback)  # registers the fallback before anything is drawn in it
    out: list[tuple[str, str]] = []
    for ch in text:
        use = fallback if ch not in glyphs and ch in fallback_glyphs else font
        if out and out[-1][1] == use:
            out[-1] = (out[-1][0] + ch, use)
        else:
            out.append((ch, use))
    return out


def text_width(text: str, font: str, size: float) -> float:
    """The width of `text` (already printable) in points, each run in its own font."""
    if _glyphs(font).issuperset(text):
        return _font(font).stringWidth(text, size)
    return sum(_font(f).stringWidth(t, size) for t, f in runs(text, font))
