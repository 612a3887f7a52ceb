"""The issuer's logo on the RIDE: top left, above the issuer's box, scaled to fit and never over
anything else; and a RIDE without one (or with one that does not open) lays out as before."""

from __future__ import annotations

import io
from itertools import pairwise

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sello.countries.ec import ride, ride_layout

from tests.unit.test_ec_ride import CLAVE, decode_code128, descriptions, invoice, pages_text, record
from tests.unit.test_ec_ride import _bars as bars


def picture(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (30, 90, 160) if mode == "RGB" else (30, 90, 160, 128)).save(out, fmt)
    return out.getvalue()


def placements(page) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of every image drawn on the page: the matrix set (cm) before its Do."""
    ops = ContentStream(page.get_contents(), page.pdf).operations
    found = []
    for (operands, op), (_, next_op) in pairwise(ops):
        if op == b"cm" and next_op == b"Do":
            a, _, _, d, e, f = (float(v) for v in operands)
            found.append((e, f, a, d))
    return found


def text_runs(page) -> list[tuple[float, float]]:
    """(x, y) where each text run starts."""
    return [(float(operands[4]), float(operands[5]))
            for operands, op in ContentStream(page.get_contents(), page.pdf).operations if op == b"Tm"]


def render_page(logo: bytes | None, lines: int = 10):
    comprobante, _ = invoice(descriptions(lines))
    pdf = ride.render(record(comprobante), logo=logo)
    return pdf, PdfReader(io.BytesIO(pdf)).pages[0]


LEFT_W = ride_layout.CONTENT_W * 0.49  # the issuer column of the masthead


@pytest.mark.parametrize("size, fmt", [((600, 200), "PNG"), ((200, 600), "JPEG"), ((40, 20), "PNG"),
                                       ((1000, 1000), "JPEG")],
                         ids=["wide", "tall", "small", "square"])
def test_the_logo_fits_the_top_left_box_keeping_its_proportions(size, fmt):
    pdf, page = render_page(picture(size, fmt))
    ((x, y, w, h),) = placements(page)
    assert abs(w / h - size[0] / size[1]) < 0.01  # not stretched
    assert w <= size[0] + 0.01 and h <= size[1] + 0.01  # never enlarged past a point per pixel
    assert ride_layout.MARGIN - 0.01 <= x and x + w <= ride_layout.MARGIN + LEFT_W + 0.01
    assert h <= ride_layout.LOGO_MAX_H + 0.01
    assert y + h <= ride_layout.TOP + 0.01
    # Nothing else is drawn over it: every text run on the page starts outside the logo.
    for tx, ty in text_runs(page):
        assert not (x - 1 <= tx <= x + w and y - 1 <= ty <= y + h), (tx, ty)
    (xobject,) = page["/Resources"]["/XObject"].values()
    assert (xobject["/Width"], xobject["/Height"]) == size


def test_the_issuer_box_sits_below_the_logo():
    _, page = render_page(picture((600, 200)))
    ((_, logo_bottom, _, _),) = placements(page)
    box_left = ride_layout.MARGIN + ride_layout.BOX_PAD
    name_y = next(ty for tx, ty in text_runs(page) if abs(tx - box_left) < 0.5)
    assert name_y < logo_bottom  # the issuer's name (first line of its box) is under the logo


def test_the_same_facts_are_printed_with_and_without_a_logo():
    without, page_without = render_page(None)
    with_logo, page_with = render_page(picture((600, 200)))
    assert placements(page_without) == [] and "/XObject" not in page_without["/Resources"]
    assert pages_text(with_logo) == pages_text(without)
    assert decode_code128(bars(page_with)) == CLAVE


@pytest.mark.parametrize("lines", [10, 60])
def test_a_logo_does_not_change_how_many_pages_a_document_takes(lines):
    assert len(pages_text(render_page(None, lines)[0])) == len(pages_text(render_page(picture((300, 300)),
                                                                                      lines)[0]))


def test_a_logo_with_transparency_keeps_it():
    _, page = render_page(picture((300, 100), mode="RGBA"))
    (xobject,) = page["/Resources"]["/XObject"].values()
    assert "/SMask" in xobject


def test_a_logo_that_does_not_open_leaves_the_ride_without_one():
    pdf, page = render_page(b"\x89PNG\r\n\x1a\n not really")
    assert placements(page) == []
    assert pages_text(pdf) == pages_text(render_page(None)[0])
