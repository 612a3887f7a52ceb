"""Ecuador's RIDE on the shared page layout (sello.pdf_layout): its masthead (issuer box on the left,
document and authorization box with the access-key barcode on the right) and the page number under
every page. The issuer's logo, when it has one, sits in the top-left corner above the issuer's box,
scaled to fit. Text is re-spaced as the RIDE always printed it (see sello.pdf_layout.wrap).

Importing this module loads reportlab: only the rendering task should import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sello import pdf_layout
from sello.pdf_fonts import BOLD, REGULAR, text_width
from sello.pdf_layout import (
    BOX_PAD, CONTENT_W, GAP, MARGIN, PAGE_H, PAGE_W, SIZE, TOP, Column, Columns, Fields, Table, baseline, fit,
)

__all__ = ["BOX_PAD", "CONTENT_W", "MARGIN", "PAGE_H", "PAGE_W", "REGULAR", "SIZE", "TOP", "Column", "Columns",
           "Fields", "Masthead", "Table", "render_pdf", "text_width", "wrap"]

BARCODE_H = 32.0
# The logo's area: the issuer column's width, and a height between these (more when the issuer's box
# leaves more room beside the document box). A logo is scaled down to fit, never up beyond one point
# per pixel.
LOGO_MIN_H, LOGO_MAX_H = 40.0, 80.0


@dataclass(frozen=True)
class Masthead:
    name: str  # razón social
    trade_name: str
    details: Sequence[tuple[str, str]]  # issuer facts, "Label:" -> value (empty values skipped)
    legends: Sequence[str]  # lines printed in bold under the details (e.g. the RIMPE legend)
    tax_id: str
    title: str  # "FACTURA"
    number: str  # "001-001-000000001"
    rows: Sequence[tuple[str, str]]  # authorization facts, "LABEL:" -> value
    authorization: str
    access_key: str
    logo: ImageReader | None = None  # the issuer's logo (PNG or JPEG), top left


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """sello.pdf_layout.wrap as the RIDE sets text: every run of spaces becomes one space."""
    return pdf_layout.wrap(text, font, size, width, max_lines, respace=True)


class _Layout(pdf_layout.Layout):
    bottom = MARGIN + 8  # the page number sits below it
    head_size, head_lead = 7.0, 8.4
    field_lines = 4
    split = 0.58
    respace = True

    def __init__(self, page_label: str) -> None:
        super().__init__()
        self.page_label = page_label

    # -- masthead -----------------------------------------------------------------------------
    def masthead(self, m: Masthead) -> None:
        left_w = CONTENT_W * 0.49
        right_x, right_w = MARGIN + left_w + GAP, CONTENT_W - left_w - GAP
        top = self.y

        # Left: the issuer. Laid out first as (line height, draw) steps to know the box height.
        inner = left_w - 2 * BOX_PAD
        steps = self.bold_steps(m.name, 11.0, 13.0, inner, 3)
        if m.trade_name and m.trade_name != m.name:
            steps += self.bold_steps(m.trade_name, 9.0, 11.0, inner, 2)
        steps.append((4.0, ("S",)))
        steps += self.label_value_steps(m.details, inner, 4, 9.5)
        for legend in m.legends:
            steps += self.bold_steps(legend, SIZE, 9.5, inner, 2)
        left_h = sum(h for h, _ in steps) + 2 * BOX_PAD

        # Right: tax id, document, authorization, barcode.
        inner_r = right_w - 2 * BOX_PAD
        right_h = 14 + 17 + 15 + 10 + 12 + 11 * len(m.rows) + 10 + BARCODE_H + 4 + 11 + 2 * BOX_PAD
        height = max(left_h, right_h)

        # The issuer box sits at the bottom of the masthead; the space above it is where the usual
        # SRI layout has the logo, made taller when the logo needs it.
        if m.logo is not None:
            height = max(left_h + GAP + LOGO_MIN_H, right_h)
            area_h = min(height - left_h - GAP, LOGO_MAX_H)
            self.logo(m.logo, MARGIN, top - (height - left_h - GAP - area_h) / 2, left_w, area_h, centred=True)
        self.box(MARGIN, top - height, left_w, left_h)
        self.draw_steps(MARGIN + BOX_PAD, top - height + left_h - BOX_PAD, steps, lead=9.5)

        self.box(right_x, top - height, right_w, height)
        x, y = right_x + BOX_PAD, top - BOX_PAD

        def label_value(label: str, value: str, size: float, lead: float) -> None:
            nonlocal y
            label_w = text_width(label, BOLD, size) + 3
            self.text(x, baseline(y, lead, size), label, BOLD, size)
            text, vsize = fit(value, REGULAR, size, inner_r - label_w, shrink=True)
            self.text(x + label_w, baseline(y, lead, vsize), text, REGULAR, vsize)
            y -= lead

        label_value("R.U.C.:", m.tax_id, 10, 14)
        title, size = fit(m.title, BOLD, 13, inner_r, shrink=True)
        self.text(x, baseline(y, 17, size), title, BOLD, size)
        y -= 17
        label_value("No.", m.number, 10, 15)
        self.text(x, baseline(y, 10, SIZE), "NÚMERO DE AUTORIZACIÓN", BOLD, SIZE)
        y -= 10
        text, size = fit(m.authorization, REGULAR, 8, inner_r, shrink=True)
        self.text(x, baseline(y, 12, size), text, REGULAR, size)
        y -= 12
        for label, value in m.rows:
            label_value(label, value, SIZE, 11)
        self.text(x, baseline(y, 10, SIZE), "CLAVE DE ACCESO", BOLD, SIZE)
        y -= 10
        # Code128 of the access key, with quiet zones of at least ten modules inside the box.
        self.pages[self.page].append(("B", x + 8, y - BARCODE_H, inner_r - 16, BARCODE_H, m.access_key))
        y -= BARCODE_H + 4
        text, size = fit(m.access_key, REGULAR, 8, inner_r, shrink=True)
        self.text(x + inner_r / 2, baseline(y, 11, size), text, REGULAR, size, "c")

        self.y = top - height - GAP

    # -- painting -----------------------------------------------------------------------------
    def page_footer(self, number: int, total: int) -> list[tuple]:
        return [("T", MARGIN + CONTENT_W, MARGIN - 4, self.page_label.format(number=number, total=total), REGULAR,
                 SIZE, "r")]

    def paint_op(self, canvas: Canvas, op: tuple) -> None:
        """Draws "B", the Code128 of the access key, in module units scaled to the width."""
        if op[0] != "B":
            super().paint_op(canvas, op)
            return
        _, x, y, w, h, value = op
        barcode = Code128(value, barWidth=1, barHeight=h, quiet=0, humanReadable=0)
        scale = w / barcode.width
        canvas.saveState()
        canvas.translate(x, y)
        canvas.scale(scale, 1)
        barcode.drawOn(canvas, 0, 0)
        canvas.restoreState()


def render_pdf(masthead: Masthead, blocks: Sequence[object], *, running_head: str,
               meta: dict[str, str], page_label: str = "Página {number} de {total}") -> bytes:
    """Lays out the masthead and the blocks on A4 portrait pages and returns the PDF bytes.
    The output depends only on the arguments (no timestamps or random ids). `page_label` is the
    footer, with {number} and {total}."""
    layout = _Layout(page_label)
    layout.masthead(masthead)
    layout.blocks(blocks)
    return layout.paint(running_head, meta)
