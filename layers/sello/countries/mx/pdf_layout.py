"""Page layout of the printed CFDI: a masthead (the issuer under its logo on the left, the document's
identity on the right), then blocks (boxes of labelled fields, tables, two stacks side by side, the
digital stamp with its QR code) flowed onto A4 pages and drawn with reportlab's canvas.

Layout and painting are two passes, as for Ecuador's RIDE: layout places everything into one display
list per page, the painter draws them, so every page can say "Página i de N" and carry the legend
SAT's printed representation needs. Tables repeat their title and header on each page they continue
onto; cell text wraps within its column (words longer than the column, such as a sello, are cut
where they overflow) and is cut with an ellipsis past a column's line limit. Text is set in the
fonts sello.pdf_fonts embeds.

Importing this module loads reportlab: only the rendering task should import it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from sello import pdf_fonts
from sello.pdf_fonts import BOLD, REGULAR, printable, runs, text_width

# Image streams as binary rather than ASCII85 text, which is a quarter larger.
rl_config.useA85 = 0

PAGE_W, PAGE_H = A4
MARGIN = 28.0
CONTENT_W = PAGE_W - 2 * MARGIN
TOP = PAGE_H - MARGIN
BOTTOM = MARGIN + 10  # lowest point content may reach; the legend and page number sit below it
CONTINUATION_TOP = TOP - 20  # continuation pages start under a one-line running head

SIZE, LEAD = 7.5, 9.0  # body text
SMALL, SMALL_LEAD = 6.0, 7.0  # sellos and the cadena original
HEAD_SIZE, HEAD_LEAD = 6.8, 8.2  # table headers
MIN_SIZE = 5.5  # a number too wide for its column shrinks down to this before it gets cut
PAD_X, PAD_Y, GAP = 3.0, 2.5, 6.0
BOX_PAD = 6.0
HEAD_GRAY = 0.88
ELLIPSIS = "\u2026"
# The QR code's square, its quiet zone of four modules included: SAT asks for at least 2.75 cm a side.
QR_SIDE = 90.0
QR_QUIET = 4
# The logo's area: the issuer column's width and a height between these; a logo is scaled down to
# fit, never up beyond one point per pixel.
LOGO_MIN_H, LOGO_MAX_H = 40.0, 72.0


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
    keep_together: bool = False  # start on a new page rather than split (short tables such as totals)
    last_bold: bool = False  # the last row in bold (a total)
    size: float = SIZE  # the cells' type size and line height
    lead: float = LEAD


@dataclass(frozen=True)
class Fields:
    """A box of "Label: value" cells; each row holds one or more cells sharing the width equally.
    Cells with an empty value are left blank and rows with only empty values are dropped."""

    rows: Sequence[Sequence[tuple[str, str]]]
    title: str = ""


@dataclass(frozen=True)
class Columns:
    """Two stacks of blocks side by side, each flowing onto further pages on its own."""

    left: Sequence[object]
    right: Sequence[object]
    split: float = 0.56


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


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """The longest start of `text` that fits `width` with an ellipsis appended."""
    text = text.rstrip()
    while text and text_width(text + ELLIPSIS, font, size) > width:
        text = text[:-1].rstrip()
    return text + ELLIPSIS


def _split_word(word: str, font: str, size: float, width: float) -> list[str]:
    """A word wider than `width` cut into pieces that fit (at least one character each)."""
    pieces = []
    while text_width(word, font, size) > width and len(word) > 1:
        # A first guess from the average character width, then corrected one character at a time.
        cut = max(1, min(len(word) - 1, int(len(word) * width / text_width(word, font, size))))
        while cut > 1 and text_width(word[:cut], font, size) > width:
            cut -= 1
        while cut < len(word) - 1 and text_width(word[:cut + 1], font, size) <= width:
            cut += 1
        pieces.append(word[:cut])
        word = word[cut:]
    pieces.append(word)
    return pieces


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap (explicit newlines kept; words wider than the line are split), at most
    `max_lines` lines, the last one ending in an ellipsis when text was left out."""
    text = printable(text, font)
    if "\n" not in text and "  " not in text and text == text.strip() and text_width(text, font, size) <= width:
        return [text]  # most cells: one line as it is
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
            if word_w > width:
                *full, word = _split_word(word, font, size, width)
                lines.extend(full)
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
            elif isinstance(block, Stamp):
                self.stamp(block)
            else:
                raise TypeError(f"not a layout block: {block!r}")

    def columns(self, block: Columns) -> None:
        start, x, w = (self.page, self.y), self.x, self.w
        left_w = w * block.split - GAP / 2
        ends = []
        right_x, right_w = x + left_w + GAP, w - left_w - GAP
        for col_x, col_w, stack in ((x, left_w, block.left), (right_x, right_w, block.right)):
            (self.page, self.y), self.x, self.w = start, col_x, col_w
            self.blocks(stack)
            ends.append((self.page, -self.y))
        page, neg_y = max(ends)
        self.page, self.y, self.x, self.w = page, -neg_y, x, w

    def _label_value(self, label: str, value: str, width: float, max_lines: int, size: float = SIZE,
                     font: str = REGULAR) -> tuple[float, list[str], bool]:
        """Lays out "Label: value" in `width`: (label width, value lines, value starts below the label)."""
        label_w = text_width(printable(label, BOLD), BOLD, size) + 3
        below = width - label_w < width * 0.35
        lines = wrap(value, font, size, width if below else width - label_w, max_lines)
        return label_w, lines, below

    def _draw_label_value(self, x: float, top: float, label: str, label_w: float, lines: list[str],
                          below: bool, size: float = SIZE, lead: float = LEAD, font: str = REGULAR) -> None:
        self.text(x, _baseline(top, lead, size), label, BOLD, size)
        if below:
            top -= lead
        for i, text in enumerate(lines):
            self.text(x if below else x + label_w, _baseline(top - i * lead, lead, size), text, font, size)

    def fields(self, block: Fields, max_lines: int = 6) -> None:
        laid_out = []  # per row: (height, cells)
        for row in block.rows:
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
        if not laid_out:
            return
        title_h = LEAD + 2 * PAD_Y if block.title else 0.0
        total = title_h + 2 * PAD_Y + sum(height for height, _ in laid_out)
        self.need(total)
        x, top = self.x, self.y
        self.box(x, top - total, self.w, total)
        if block.title:
            self._title_bar(block.title, top, title_h)
            top -= title_h
        top -= PAD_Y
        for height, cells in laid_out:
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

        head = []  # per column: (lines, size); a title whose longest word is wider than its column shrinks
        if table.header:
            for c, w in zip(table.columns, widths):
                longest = max((text_width(word, BOLD, HEAD_SIZE) for word in c.title.split()), default=0.0)
                fitting = HEAD_SIZE * (w - 2 * PAD_X) / longest * 0.99 if longest else HEAD_SIZE
                size = max(MIN_SIZE, min(HEAD_SIZE, fitting))
                head.append((wrap(c.title, BOLD, size, w - 2 * PAD_X, 3), size))
        head_h = max(len(lines) for lines, _ in head) * HEAD_LEAD + 2 * PAD_Y if head else 0.0
        title_h = LEAD + 2 * PAD_Y if table.title else 0.0

        size, lead = table.size, table.lead

        def cells(row: Sequence[str], bold: bool) -> tuple[float, list[list[tuple[str, float]]], list[str]]:
            out, fonts = [], []
            for column, w, value in zip(table.columns, widths, row):
                font = BOLD if column.bold or bold else REGULAR
                fonts.append(font)
                if column.lines > 1:
                    out.append([(t, size) for t in wrap(value, font, size, w - 2 * PAD_X, column.lines)])
                else:
                    out.append([fit(value, font, size, w - 2 * PAD_X, shrink=column.align == "r")])
            return max(map(len, out)) * lead + 2 * PAD_Y, out, fonts

        def draw_head() -> None:
            top = self.y
            if table.title:
                self._title_bar(table.title, top, title_h)
                top -= title_h
            if head:
                self.box(x0, top - head_h, width, head_h, HEAD_GRAY)
                for left, w, (lines, size) in zip(lefts, widths, head):
                    if left > x0:
                        self.line(left, top, left, top - head_h)
                    for i, text in enumerate(lines):
                        self.text(left + w / 2, _baseline(top - PAD_Y - i * HEAD_LEAD, HEAD_LEAD, size),
                                  text, BOLD, size, "c")
            self.y = top - head_h

        def draw_row(height: float, row_cells: list[list[tuple[str, float]]], fonts: list[str]) -> None:
            top = self.y
            self.box(x0, top - height, width, height)
            for left, w, column, lines, font in zip(lefts, widths, table.columns, row_cells, fonts):
                if left > x0:
                    self.line(left, top, left, top - height)
                tx = {"l": left + PAD_X, "r": left + w - PAD_X, "c": left + w / 2}[column.align]
                for i, (text, text_size) in enumerate(lines):
                    self.text(tx, _baseline(top - PAD_Y - i * lead, lead, text_size), text, font, text_size,
                              column.align)
            self.y = top - height

        last = len(table.rows) - 1
        rows = [cells(row, table.last_bold and i == last) for i, row in enumerate(table.rows)]
        if table.keep_together:
            self.need(title_h + head_h + sum(height for height, _, _ in rows))
        else:
            self.need(title_h + head_h + (rows[0][0] if rows else 0.0))
        draw_head()
        for height, row_cells, fonts in rows:
            if self.need(height):
                draw_head()
            draw_row(height, row_cells, fonts)
        self.y -= GAP

    def stamp(self, block: Stamp) -> None:
        title_h = LEAD + 2 * PAD_Y
        inner_x = self.x + QR_SIDE + GAP
        inner_w = self.w - QR_SIDE - GAP - PAD_X
        steps: list[tuple[float, tuple]] = []  # (height, what to draw) beside the code
        for label, value in block.facts:
            if value:
                label_w, lines, below = self._label_value(label, value, inner_w, 2)
                steps.append(((len(lines) + below) * LEAD, ("LV", label, label_w, lines, below)))
        for label, value in block.texts:
            if value:
                steps.append((LEAD, ("T", label)))
                lines = wrap(value, REGULAR, SMALL, inner_w, 12)
                steps.append((len(lines) * SMALL_LEAD + 2, ("S", lines)))
        body_h = max(QR_SIDE, sum(h for h, _ in steps) + 2 * PAD_Y)
        self.need(title_h + body_h)
        top = self.y
        self.box(self.x, top - title_h - body_h, self.w, title_h + body_h)
        self._title_bar(block.title, top, title_h)
        top -= title_h
        if block.qr:
            self.pages[self.page].append(("Q", self.x, top - QR_SIDE, QR_SIDE, tuple(block.qr)))
        y = top - PAD_Y
        for height, step in steps:
            if step[0] == "LV":
                self._draw_label_value(inner_x, y, *step[1:])
            elif step[0] == "T":
                self.text(inner_x, _baseline(y, LEAD, SIZE), step[1], BOLD, SIZE)
            else:
                for i, text in enumerate(step[1]):
                    self.text(inner_x, _baseline(y - i * SMALL_LEAD, SMALL_LEAD, SMALL), text, REGULAR, SMALL)
            y -= height
        self.y = top - body_h - GAP

    # -- masthead -----------------------------------------------------------------------------
    def masthead(self, m: Masthead) -> None:
        left_w = CONTENT_W * 0.54
        right_x, right_w = MARGIN + left_w + GAP, CONTENT_W - left_w - GAP
        top = self.y

        # Left: the issuer, laid out first as (line height, draw) steps to know the box height.
        inner = left_w - 2 * BOX_PAD
        steps: list[tuple[float, tuple]] = []
        for text in wrap(m.name, BOLD, 11, inner, 3):
            steps.append((13.0, ("T", text, BOLD, 11.0)))
        steps.append((3.0, ("S",)))
        for label, value in m.issuer_rows:
            if value:
                label_w, lines, below = self._label_value(label, value, inner, 3)
                steps.append(((len(lines) + below) * 9.5, ("LV", label, label_w, lines, below)))
        left_h = sum(h for h, _ in steps) + 2 * BOX_PAD

        # Right: the document's name and identity.
        inner_r = right_w - 2 * BOX_PAD
        rows = []
        for label, value in m.document_rows:
            if value:
                label_w, lines, below = self._label_value(label, value, inner_r, 2)
                rows.append(((len(lines) + below) * 10.0, label, label_w, lines, below))
        right_h = 18 + sum(r[0] for r in rows) + 2 * BOX_PAD
        height = max(left_h, right_h)

        # The issuer's box sits at the bottom of the masthead, under the logo when there is one.
        if m.logo is not None:
            height = max(left_h + GAP + LOGO_MIN_H, right_h)
            area_h = min(height - left_h - GAP, LOGO_MAX_H)
            px_w, px_h = m.logo.getSize()
            scale = min(left_w / px_w, area_h / px_h, 1.0)
            w, h = px_w * scale, px_h * scale
            area_top = top - (height - left_h - GAP - area_h) / 2
            self.pages[self.page].append(("I", MARGIN, area_top - (area_h + h) / 2, w, h, m.logo))
        else:  # without a logo, the issuer's box takes the masthead's whole height
            left_h = height
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
        title, size = fit(m.title, BOLD, 13, inner_r, shrink=True)
        self.text(x, _baseline(y, 18, size), title, BOLD, size)
        y -= 18
        for row_h, label, label_w, lines, below in rows:
            self._draw_label_value(x, y, label, label_w, lines, below, lead=10.0)
            y -= row_h
        self.y = top - height - GAP


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


def _paint(pages: list[list[tuple]], running_head: str, footer: str, page_label: str,
           meta: dict[str, str]) -> bytes:
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
            ops = [("T", MARGIN, TOP - 8, head, BOLD, SIZE, "l"),
                   ("L", MARGIN, TOP - 12, MARGIN + CONTENT_W, TOP - 12), *ops]
        label = page_label.format(number=number, total=total)
        legend, _ = fit(footer, REGULAR, SIZE, CONTENT_W - text_width(label, REGULAR, SIZE) - 12, shrink=True)
        ops = [*ops, ("T", MARGIN, MARGIN - 2, legend, REGULAR, SIZE, "l"),
               ("T", MARGIN + CONTENT_W, MARGIN - 2, label, REGULAR, SIZE, "r")]
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
            else:  # "Q": the QR code, one filled rectangle per run of dark modules, in one path
                canvas.addLiteral(_qr_path(*op[1:]))
        canvas.drawText(text_object)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_pdf(masthead: Masthead, blocks: Sequence[object], *, running_head: str, footer: str,
               page_label: str, meta: dict[str, str]) -> bytes:
    """Lays out the masthead and the blocks on A4 portrait pages and returns the PDF bytes. The
    output depends only on the arguments (no timestamps or random ids). `footer` is printed at the
    bottom of every page beside `page_label` ({number} and {total})."""
    layout = _Layout()
    layout.masthead(masthead)
    layout.blocks(blocks)
    return _paint(layout.pages, running_head, footer, page_label, meta)
