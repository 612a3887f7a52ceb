"""Page layout for the RIDE: a masthead (issuer box on the left, document and authorization box with
the access-key barcode on the right), then blocks (boxes of labelled fields, tables, two-column groups)
flowed onto A4 pages and drawn with reportlab's canvas.

Layout and painting are two passes: layout places everything into one display list per page, then
the painter draws them, so every page can say "Página i de N". Tables repeat their header on each
page they continue onto; cell text wraps within its column and is cut with an ellipsis past a
column's line limit, so nothing runs off the page. Text is set in fonts embedded in the PDF
(sello.pdf_fonts: Noto Sans, with a fallback for the characters it lacks), so names and descriptions in
any Latin script print as the XML has them. The issuer's logo, when it has one, sits in the top-left
corner above the issuer's box, scaled to fit.

Importing this module loads reportlab: only the rendering task should import it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sello import pdf_fonts
from sello.pdf_fonts import BOLD, REGULAR, printable, runs, text_width

# Image streams as binary rather than ASCII85 text, which is a quarter larger (a JPEG logo would
# grow by that much). Only the rendering task loads reportlab.
rl_config.useA85 = 0

PAGE_W, PAGE_H = A4
MARGIN = 28.0
CONTENT_W = PAGE_W - 2 * MARGIN
TOP = PAGE_H - MARGIN
BOTTOM = MARGIN + 8  # lowest point content may reach; the page number sits below it
CONTINUATION_TOP = TOP - 20  # continuation pages start under a one-line running head

SIZE, LEAD = 7.5, 9.0  # body text
HEAD_SIZE, HEAD_LEAD = 7.0, 8.4  # table headers
MIN_SIZE = 5.5  # a number too wide for its column shrinks down to this before it gets cut
PAD_X, PAD_Y, GAP = 3.0, 2.5, 6.0
BOX_PAD = 6.0
HEAD_GRAY = 0.88
ELLIPSIS = "\u2026"
BARCODE_H = 32.0
# The logo's area: the issuer column's width, and a height between these (more when the issuer's box
# leaves more room beside the document box). A logo is scaled down to fit, never up beyond one point
# per pixel.
LOGO_MIN_H, LOGO_MAX_H = 40.0, 80.0


@dataclass(frozen=True)
class Column:
    title: str
    weight: float  # share of the table width
    align: str = "l"  # "l", "r" or "c"
    lines: int = 1  # at most this many lines per cell; numbers ("r") shrink to fit one line
    bold: bool = False


@dataclass(frozen=True)
class Table:
    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    title: str = ""  # a shaded bar above the table, repeated with the header on every page
    header: bool = True
    footer: tuple[str, str] | None = None  # (label, value): a bold last row, value in the last column
    keep_together: bool = False  # start on a new page rather than split (short tables such as totals)


@dataclass(frozen=True)
class Fields:
    """A box of "Label: value" cells; each row holds one or more cells sharing the width equally.
    Cells with an empty value are left blank, rows with only empty values are dropped, and an empty
    row draws a separating rule."""

    rows: Sequence[Sequence[tuple[str, str]]]
    title: str = ""


@dataclass(frozen=True)
class Columns:
    """Two stacks of blocks side by side, each flowing onto further pages on its own."""

    left: Sequence[object]
    right: Sequence[object]
    split: float = 0.58


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


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """The longest start of `text` that fits `width` with an ellipsis appended."""
    text = text.rstrip()
    while text and text_width(text + ELLIPSIS, font, size) > width:
        text = text[:-1].rstrip()
    return text + ELLIPSIS


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap (explicit newlines kept; words wider than the line are split), at most
    `max_lines` lines, the last one ending in an ellipsis when text was left out."""
    text = printable(text, font)
    space = text_width(" ", font, size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_w = "", 0.0
        for word in paragraph.split():
            word_w = text_width(word, font, size)
            if line and line_w + space + word_w <= width:
                line, line_w = f"{line} {word}", line_w + space + word_w
                continue
            if line:
                lines.append(line)
            while word_w > width:  # a word longer than the line: break it where it overflows
                cut, used = 0, 0.0
                while cut < len(word) - 1:
                    char_w = text_width(word[cut], font, size)
                    if used + char_w > width:
                        break
                    used += char_w
                    cut += 1
                lines.append(word[:max(cut, 1)])
                word = word[max(cut, 1):]
                word_w = text_width(word, font, size)
            line, line_w = word, word_w
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1], font, size, width)
    return lines


def fit(text: str, font: str, size: float, width: float, *, shrink: bool) -> tuple[str, float]:
    """One line that fits `width`: shrunk (numbers) or cut with an ellipsis."""
    text = printable(text, font)
    w = text_width(text, font, size)
    if w <= width:
        return text, size
    if shrink:
        smaller = max(MIN_SIZE, size * width / w)
        if text_width(text, font, smaller) <= width:
            return text, smaller
    return ellipsize(text, font, size, width), size


def _baseline(top: float, lead: float, size: float) -> float:
    return top - lead / 2 - size * 0.33


class _Layout:
    def __init__(self) -> None:
        self.pages: list[list[tuple]] = [[]]
        self.page = 0
        self.y = TOP
        self.x = MARGIN
        self.w = CONTENT_W

    # -- display list -------------------------------------------------------------------------
    def text(self, x: float, y: float, text: str, font: str = REGULAR, size: float = SIZE,
             align: str = "l") -> None:
        if text:
            self.pages[self.page].append(("T", x, y, text, font, size, align))

    def box(self, x: float, y: float, w: float, h: float, gray: float | None = None) -> None:
        self.pages[self.page].append(("R", x, y, w, h, gray))

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.pages[self.page].append(("L", x1, y1, x2, y2))

    def need(self, height: float) -> bool:
        """Moves to the next page unless `height` fits below the cursor; True when it moved."""
        if self.y - height >= BOTTOM or self.y >= CONTINUATION_TOP:
            return False
        self.page += 1
        if self.page == len(self.pages):
            self.pages.append([])
        self.y = CONTINUATION_TOP
        return True

    # -- blocks -------------------------------------------------------------------------------
    def blocks(self, blocks: Sequence[object]) -> None:
        for block in blocks:
            if isinstance(block, Fields):
                self.fields(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Columns):
                self.columns(block)
            else:
                raise TypeError(f"not a layout block: {block!r}")

    def columns(self, block: Columns) -> None:
        start, x, w = (self.page, self.y), self.x, self.w
        left_w = w * block.split - GAP / 2
        ends = []
        for col_x, col_w, stack in ((x, left_w, block.left), (x + left_w + GAP, w - left_w - GAP, block.right)):
            (self.page, self.y), self.x, self.w = start, col_x, col_w
            self.blocks(stack)
            ends.append((self.page, -self.y))
        page, neg_y = max(ends)
        self.page, self.y, self.x, self.w = page, -neg_y, x, w

    def _label_value(self, label: str, value: str, width: float, max_lines: int,
                     size: float = SIZE) -> tuple[float, list[str], bool]:
        """Lays out "Label: value" in `width`: (label width, value lines, value starts below the label)."""
        label_w = text_width(label, BOLD, size) + 3
        below = width - label_w < width * 0.35
        lines = wrap(value, REGULAR, size, width if below else width - label_w, max_lines)
        return label_w, lines, below

    def _draw_label_value(self, x: float, top: float, label: str, label_w: float, lines: list[str],
                          below: bool, size: float = SIZE, lead: float = LEAD) -> int:
        self.text(x, _baseline(top, lead, size), label, BOLD, size)
        if below:
            top -= lead
        for i, text in enumerate(lines):
            self.text(x if below else x + label_w, _baseline(top - i * lead, lead, size), text, REGULAR, size)
        return len(lines) + below

    def fields(self, block: Fields, max_lines: int = 4) -> None:
        laid_out = []  # per row: None for a rule, or (height, cells)
        for row in block.rows:
            if not row:
                laid_out.append(None)
                continue
            if not any(value for _, value in row):
                continue
            cell_w = self.w / len(row)
            cells, height = [], 0.0
            for i, (label, value) in enumerate(row):
                if not value:
                    continue
                label_w, lines, below = self._label_value(label, value, cell_w - 2 * PAD_X, max_lines)
                cells.append((i * cell_w, label, label_w, lines, below))
                height = max(height, (len(lines) + below) * LEAD)
            laid_out.append((height, cells))
        while laid_out and laid_out[-1] is None:
            laid_out.pop()
        if not any(laid_out):
            return
        title_h = LEAD + 2 * PAD_Y if block.title else 0.0
        total = title_h + 2 * PAD_Y + sum(3.0 if row is None else row[0] for row in laid_out)
        self.need(total)
        x, top = self.x, self.y
        self.box(x, top - total, self.w, total)
        if block.title:
            self._title_bar(block.title, top, title_h)
            top -= title_h
        top -= PAD_Y
        for row in laid_out:
            if row is None:
                self.line(x, top - 1.5, x + self.w, top - 1.5)
                top -= 3.0
                continue
            height, cells = row
            for offset, label, label_w, lines, below in cells:
                self._draw_label_value(x + offset + PAD_X, top, label, label_w, lines, below)
            top -= height
        self.y -= total + GAP

    def _title_bar(self, title: str, top: float, height: float) -> None:
        self.box(self.x, top - height, self.w, height, HEAD_GRAY)
        text, size = fit(title, BOLD, SIZE, self.w - 2 * PAD_X, shrink=False)
        self.text(self.x + PAD_X, _baseline(top - PAD_Y, LEAD, size), text, BOLD, size)

    def table(self, table: Table) -> None:
        x0, width = self.x, self.w
        total_weight = sum(c.weight for c in table.columns)
        widths = [width * c.weight / total_weight for c in table.columns]
        lefts = [x0 + sum(widths[:i]) for i in range(len(widths))]

        head = []
        if table.header:
            head = [wrap(c.title, BOLD, HEAD_SIZE, w - 2 * PAD_X, 3) for c, w in zip(table.columns, widths)]
        head_h = max(map(len, head)) * HEAD_LEAD + 2 * PAD_Y if head else 0.0
        title_h = LEAD + 2 * PAD_Y if table.title else 0.0

        def cells(row: Sequence[str]) -> tuple[float, list[list[tuple[str, float]]]]:
            out = []
            for column, w, value in zip(table.columns, widths, row):
                font = BOLD if column.bold else REGULAR
                if column.lines > 1:
                    out.append([(t, SIZE) for t in wrap(value, font, SIZE, w - 2 * PAD_X, column.lines)])
                else:
                    out.append([fit(value, font, SIZE, w - 2 * PAD_X, shrink=column.align == "r")])
            return max(map(len, out)) * LEAD + 2 * PAD_Y, out

        def draw_head() -> None:
            top = self.y
            if table.title:
                self._title_bar(table.title, top, title_h)
                top -= title_h
            if head:
                self.box(x0, top - head_h, width, head_h, HEAD_GRAY)
                for left, w, lines in zip(lefts, widths, head):
                    if left > x0:
                        self.line(left, top, left, top - head_h)
                    for i, text in enumerate(lines):
                        self.text(left + w / 2, _baseline(top - PAD_Y - i * HEAD_LEAD, HEAD_LEAD, HEAD_SIZE),
                                  text, BOLD, HEAD_SIZE, "c")
            self.y = top - head_h

        def draw_row(height: float, row_cells: list[list[tuple[str, float]]], font_for) -> None:
            top = self.y
            self.box(x0, top - height, width, height)
            for left, w, column, lines, font in zip(lefts, widths, table.columns, row_cells, font_for):
                if left > x0:
                    self.line(left, top, left, top - height)
                tx = {"l": left + PAD_X, "r": left + w - PAD_X, "c": left + w / 2}[column.align]
                for i, (text, size) in enumerate(lines):
                    self.text(tx, _baseline(top - PAD_Y - i * LEAD, LEAD, size), text, font, size, column.align)
            self.y = top - height

        rows = [cells(row) for row in table.rows]
        fonts = [BOLD if c.bold else REGULAR for c in table.columns]
        footer_h = LEAD + 2 * PAD_Y if table.footer else 0.0
        if table.keep_together:
            self.need(title_h + head_h + sum(height for height, _ in rows) + footer_h)
        else:
            self.need(title_h + head_h + (rows[0][0] if rows else 0.0))
        draw_head()
        for height, row_cells in rows:
            if self.need(height):
                draw_head()
            draw_row(height, row_cells, fonts)
        if table.footer:
            label, value = table.footer
            label_w = width - widths[-1]
            label_text, _ = fit(label, BOLD, SIZE, label_w - 2 * PAD_X, shrink=False)
            value_text, size = fit(value, BOLD, SIZE, widths[-1] - 2 * PAD_X, shrink=True)
            if self.need(footer_h):
                draw_head()
            top = self.y
            self.box(x0, top - footer_h, width, footer_h)
            self.line(lefts[-1], top, lefts[-1], top - footer_h)
            self.text(lefts[-1] - PAD_X, _baseline(top - PAD_Y, LEAD, SIZE), label_text, BOLD, SIZE, "r")
            self.text(x0 + width - PAD_X, _baseline(top - PAD_Y, LEAD, size), value_text, BOLD, size, "r")
            self.y = top - footer_h
        self.y -= GAP

    # -- masthead -----------------------------------------------------------------------------
    def masthead(self, m: Masthead) -> None:
        left_w = CONTENT_W * 0.49
        right_x, right_w = MARGIN + left_w + GAP, CONTENT_W - left_w - GAP
        top = self.y

        # Left: the issuer. Laid out first as (line height, draw) steps to know the box height.
        inner = left_w - 2 * BOX_PAD
        steps: list[tuple[float, tuple]] = []
        for text in wrap(m.name, BOLD, 11, inner, 3):
            steps.append((13.0, ("T", text, BOLD, 11.0)))
        if m.trade_name and m.trade_name != m.name:
            for text in wrap(m.trade_name, BOLD, 9, inner, 2):
                steps.append((11.0, ("T", text, BOLD, 9.0)))
        steps.append((4.0, ("S",)))
        for label, value in m.details:
            if value:
                label_w, lines, below = self._label_value(label, value, inner, 4)
                steps.append(((len(lines) + below) * 9.5, ("LV", label, label_w, lines, below)))
        for legend in m.legends:
            for text in wrap(legend, BOLD, SIZE, inner, 2):
                steps.append((9.5, ("T", text, BOLD, SIZE)))
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
            px_w, px_h = m.logo.getSize()
            scale = min(left_w / px_w, area_h / px_h, 1.0)
            w, h = px_w * scale, px_h * scale
            area_top = top - (height - left_h - GAP - area_h) / 2
            self.pages[self.page].append(("I", MARGIN + (left_w - w) / 2, area_top - (area_h + h) / 2, w, h,
                                          m.logo))
        self.box(MARGIN, top - height, left_w, left_h)
        y = top - height + left_h - BOX_PAD
        for h, step in steps:
            if step[0] == "T":
                self.text(MARGIN + BOX_PAD, _baseline(y, h, step[3]), step[1], step[2], step[3])
            elif step[0] == "LV":
                self._draw_label_value(MARGIN + BOX_PAD, y, *step[1:], lead=9.5)
            y -= h

        self.box(right_x, top - height, right_w, height)
        x, y = right_x + BOX_PAD, top - BOX_PAD

        def label_value(label: str, value: str, size: float, lead: float) -> None:
            nonlocal y
            label_w = text_width(label, BOLD, size) + 3
            self.text(x, _baseline(y, lead, size), label, BOLD, size)
            text, vsize = fit(value, REGULAR, size, inner_r - label_w, shrink=True)
            self.text(x + label_w, _baseline(y, lead, vsize), text, REGULAR, vsize)
            y -= lead

        label_value("R.U.C.:", m.tax_id, 10, 14)
        title, size = fit(m.title, BOLD, 13, inner_r, shrink=True)
        self.text(x, _baseline(y, 17, size), title, BOLD, size)
        y -= 17
        label_value("No.", m.number, 10, 15)
        self.text(x, _baseline(y, 10, SIZE), "NÚMERO DE AUTORIZACIÓN", BOLD, SIZE)
        y -= 10
        text, size = fit(m.authorization, REGULAR, 8, inner_r, shrink=True)
        self.text(x, _baseline(y, 12, size), text, REGULAR, size)
        y -= 12
        for label, value in m.rows:
            label_value(label, value, SIZE, 11)
        self.text(x, _baseline(y, 10, SIZE), "CLAVE DE ACCESO", BOLD, SIZE)
        y -= 10
        # Code128 of the access key, with quiet zones of at least ten modules inside the box.
        self.pages[self.page].append(("B", x + 8, y - BARCODE_H, inner_r - 16, BARCODE_H, m.access_key))
        y -= BARCODE_H + 4
        text, size = fit(m.access_key, REGULAR, 8, inner_r, shrink=True)
        self.text(x + inner_r / 2, _baseline(y, 11, size), text, REGULAR, size, "c")

        self.y = top - height - GAP


def _paint(pages: list[list[tuple]], running_head: str, meta: dict[str, str],
           page_label: str = "Página {number} de {total}") -> bytes:
    pdf_fonts.register()
    buffer = io.BytesIO()
    # The initial font is one of ours, or reportlab would name Helvetica in every text object.
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR,
                    initialFontSize=SIZE)
    canvas.setTitle(meta.get("title", ""))
    canvas.setAuthor(meta.get("author", ""))
    canvas.setSubject(meta.get("subject", ""))
    canvas.setCreator("Sello")
    head, _ = fit(running_head, BOLD, SIZE, CONTENT_W, shrink=False)
    total = len(pages)
    for number, ops in enumerate(pages, 1):
        canvas.setLineWidth(0.6)
        if number > 1:
            ops = [("T", MARGIN, TOP - 8, head, BOLD, SIZE, "l"), ("L", MARGIN, TOP - 12, MARGIN + CONTENT_W, TOP - 12),
                   *ops]
        ops = [*ops, ("T", MARGIN + CONTENT_W, MARGIN - 4, page_label.format(number=number, total=total), REGULAR,
                      SIZE, "r")]
        # All of a page's text goes into one text object drawn over the boxes and lines (nothing is
        # drawn over text), which costs far less than a text object per string.
        text_object, current = canvas.beginText(), None
        for op in ops:
            kind = op[0]
            if kind == "T":
                _, x, y, text, font, size, align = op
                parts = runs(printable(text, font), font)
                if align != "l":
                    w = sum(text_width(part, part_font, size) for part, part_font in parts)
                    x -= w if align == "r" else w / 2
                for part, part_font in parts:  # one run per font (see sello.pdf_fonts)
                    if current != (part_font, size):
                        text_object.setFont(part_font, size)
                        current = (part_font, size)
                    text_object.setTextOrigin(x, y)
                    text_object.textOut(part)
                    if len(parts) > 1:
                        x += text_width(part, part_font, size)
            elif kind == "I":
                _, x, y, w, h, image = op
                canvas.drawImage(image, x, y, w, h, mask="auto")
            elif kind == "R":
                _, x, y, w, h, gray = op
                if gray is None:
                    canvas.rect(x, y, w, h, stroke=1, fill=0)
                else:
                    canvas.setFillGray(gray)
                    canvas.rect(x, y, w, h, stroke=1, fill=1)
                    canvas.setFillGray(0)
            elif kind == "L":
                canvas.line(*op[1:])
            else:  # "B": Code128 of the access key, drawn in module units and scaled to the width
                _, x, y, w, h, value = op
                barcode = Code128(value, barWidth=1, barHeight=h, quiet=0, humanReadable=0)
                scale = w / barcode.width
                canvas.saveState()
                canvas.translate(x, y)
                canvas.scale(scale, 1)
                barcode.drawOn(canvas, 0, 0)
                canvas.restoreState()
        canvas.drawText(text_object)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_pdf(masthead: Masthead, blocks: Sequence[object], *, running_head: str,
               meta: dict[str, str], page_label: str = "Página {number} de {total}") -> bytes:
    """Lays out the masthead and the blocks on A4 portrait pages and returns the PDF bytes.
    The output depends only on the arguments (no timestamps or random ids). `page_label` is the
    footer, with {number} and {total}."""
    layout = _Layout()
    layout.masthead(masthead)
    layout.blocks(blocks)
    return _paint(layout.pages, running_head, meta, page_label)
