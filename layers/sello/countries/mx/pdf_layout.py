"""Mexico's printed CFDI on the shared page layout (sello.pdf_layout): its masthead (the issuer under
its logo on the left, the document's identity on the right), the digital stamp with its QR code, and
under every page the legend SAT's printed representation needs beside "Página i de N". Table
headers whose longest word is wider than the column shrink to fit it.

Importing this module loads reportlab: only the rendering task should import it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sello import pdf_layout
from sello.pdf_fonts import BOLD, REGULAR, text_width
from sello.pdf_layout import (
    BOX_PAD, CONTENT_W, GAP, LEAD, MARGIN, PAD_X, PAD_Y, PAGE_H, PAGE_W, SIZE, TOP, Column, Columns, Fields, Table,
    baseline, fit, wrap,
)

__all__ = ["CONTENT_W", "MARGIN", "PAGE_H", "PAGE_W", "REGULAR", "SIZE", "TOP", "Column", "Columns", "Fields",
           "Masthead", "Stamp", "Table", "render_pdf", "text_width", "wrap"]

SMALL, SMALL_LEAD = 6.0, 7.0  # sellos and the cadena original
# The QR code's square, its quiet zone of four modules included: SAT asks for at least 2.75 cm a side.
QR_SIDE = 90.0
QR_QUIET = 4
# The logo's area: the issuer column's width and a height between these; a logo is scaled down to
# fit, never up beyond one point per pixel.
LOGO_MIN_H, LOGO_MAX_H = 40.0, 72.0


@dataclass(frozen=True)
class Stamp:
    """The digital stamp: the QR code on the left; beside it short facts ("Label: value") and then
    long values (sellos, cadena original) under their labels in small type. Kept on one page."""

    title: str
    qr: Sequence[str]  # the code's rows from the top, "1" for a dark module
    facts: Sequence[tuple[str, str]]
    texts: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Masthead:
    name: str  # the issuer's name
    issuer_rows: Sequence[tuple[str, str]]  # "Label:" -> value under the name (empty values skipped)
    title: str  # "FACTURA"
    document_rows: Sequence[tuple[str, str]]  # the document's identity, "Label:" -> value
    logo: ImageReader | None = None  # the issuer's logo (PNG or JPEG), top left


class _Layout(pdf_layout.Layout):
    bottom = MARGIN + 10  # the legend and page number sit below it
    head_size, head_lead = 6.8, 8.2
    shrink_head = True
    field_lines = 6
    split = 0.56

    def __init__(self, footer: str, page_label: str) -> None:
        super().__init__()
        self.footer, self.page_label = footer, page_label

    def block(self, block: object) -> None:
        if isinstance(block, Stamp):
            self.stamp(block)
        else:
            super().block(block)

    def stamp(self, block: Stamp) -> None:
        title_h = LEAD + 2 * PAD_Y
        inner_x = self.x + QR_SIDE + GAP
        inner_w = self.w - QR_SIDE - GAP - PAD_X
        steps = self.label_value_steps(block.facts, inner_w, 2, LEAD)  # (height, what to draw) beside the code
        for label, value in block.texts:
            if value:
                steps.append((LEAD, ("T", label)))
                lines = self.wrap(value, REGULAR, SMALL, inner_w, 12)
                steps.append((len(lines) * SMALL_LEAD + 2, ("S", lines)))
        body_h = max(QR_SIDE, sum(h for h, _ in steps) + 2 * PAD_Y)
        self.need(title_h + body_h)
        top = self.y
        self.box(self.x, top - title_h - body_h, self.w, title_h + body_h)
        self.title_bar(block.title, top, title_h)
        top -= title_h
        if block.qr:
            self.pages[self.page].append(("Q", self.x, top - QR_SIDE, QR_SIDE, tuple(block.qr)))
        y = top - PAD_Y
        for height, step in steps:
            if step[0] == "LV":
                self.draw_label_value(inner_x, y, *step[1:])
            elif step[0] == "T":
                self.text(inner_x, baseline(y, LEAD, SIZE), step[1], BOLD, SIZE)
            else:
                for i, text in enumerate(step[1]):
                    self.text(inner_x, baseline(y - i * SMALL_LEAD, SMALL_LEAD, SMALL), text, REGULAR, SMALL)
            y -= height
        self.y = top - body_h - GAP

    # -- masthead -----------------------------------------------------------------------------
    def masthead(self, m: Masthead) -> None:
        left_w = CONTENT_W * 0.54
        right_x, right_w = MARGIN + left_w + GAP, CONTENT_W - left_w - GAP
        top = self.y

        # Left: the issuer, laid out first as (line height, draw) steps to know the box height.
        inner = left_w - 2 * BOX_PAD
        steps = self.bold_steps(m.name, 11.0, 13.0, inner, 3)
        steps.append((3.0, ("S",)))
        steps += self.label_value_steps(m.issuer_rows, inner, 3, 9.5)
        left_h = sum(h for h, _ in steps) + 2 * BOX_PAD

        # Right: the document's name and identity.
        inner_r = right_w - 2 * BOX_PAD
        rows = self.label_value_steps(m.document_rows, inner_r, 2, 10.0)
        right_h = 18 + sum(h for h, _ in rows) + 2 * BOX_PAD
        height = max(left_h, right_h)

        # The issuer's box sits at the bottom of the masthead, under the logo when there is one.
        if m.logo is not None:
            height = max(left_h + GAP + LOGO_MIN_H, right_h)
            area_h = min(height - left_h - GAP, LOGO_MAX_H)
            self.logo(m.logo, MARGIN, top - (height - left_h - GAP - area_h) / 2, left_w, area_h, centred=False)
        else:  # without a logo, the issuer's box takes the masthead's whole height
            left_h = height
        self.box(MARGIN, top - height, left_w, left_h)
        self.draw_steps(MARGIN + BOX_PAD, top - height + left_h - BOX_PAD, steps, lead=9.5)

        self.box(right_x, top - height, right_w, height)
        x, y = right_x + BOX_PAD, top - BOX_PAD
        title, size = fit(m.title, BOLD, 13, inner_r, shrink=True)
        self.text(x, baseline(y, 18, size), title, BOLD, size)
        self.draw_steps(x, y - 18, rows, lead=10.0)
        self.y = top - height - GAP

    # -- painting -----------------------------------------------------------------------------
    def page_footer(self, number: int, total: int) -> list[tuple]:
        label = self.page_label.format(number=number, total=total)
        legend, _ = fit(self.footer, REGULAR, SIZE, CONTENT_W - text_width(label, REGULAR, SIZE) - 12, shrink=True)
        return [("T", MARGIN, MARGIN - 2, legend, REGULAR, SIZE, "l"),
                ("T", MARGIN + CONTENT_W, MARGIN - 2, label, REGULAR, SIZE, "r")]

    def paint_op(self, canvas: Canvas, op: tuple) -> None:
        """Draws "Q", the QR code: one filled rectangle per run of dark modules, in one path."""
        if op[0] != "Q":
            super().paint_op(canvas, op)
            return
        canvas.addLiteral(_qr_path(*op[1:]))


_DARK_RUN = re.compile("1+")


def _qr_path(x: float, y: float, side: float, rows: Sequence[str]) -> str:
    """The page-content operators that fill the QR code's dark modules in black, one rectangle per
    run of them in a row, in the square of `side` points at (x, y) with its quiet zone. Written
    directly (reportlab's path object formats each of the hundreds of rectangles on its own)."""
    module = side / (len(rows) + 2 * QR_QUIET)
    left, top = x + QR_QUIET * module, y + side - QR_QUIET * module
    rects = [f"{left + run.start() * module:.3f} {top - (r + 1) * module:.3f} "
             f"{(run.end() - run.start()) * module:.3f} {module:.3f} re"
             for r, row in enumerate(rows) for run in _DARK_RUN.finditer(row)]
    return "q 0 g\n" + "\n".join(rects) + "\nf Q"


def render_pdf(masthead: Masthead, blocks: Sequence[object], *, running_head: str, footer: str,
               page_label: str, meta: dict[str, str]) -> bytes:
    """Lays out the masthead and the blocks on A4 portrait pages and returns the PDF bytes. The
    output depends only on the arguments (no timestamps or random ids). `footer` is printed at the
    bottom of every page beside `page_label` ({number} and {total})."""
    layout = _Layout(footer, page_label)
    layout.masthead(masthead)
    layout.blocks(blocks)
    return layout.paint(running_head, meta)
