"""The page of every document: A4, header and footer, styles, tables, and small flowables.

Every PDF the installation issues is built here: an A4 page whose header
carries the document's title and the elevator or site it is about, and whose
footer carries the page "X / Y", the generation time with its time zone and
offset, and the user who generated it. Black and white only (greys for
emphasis), so that documents print and photocopy well.

Single pass and constant memory: the page total and the page numbers of a
table of contents are PDF forms referenced on every page and drawn only once
the last page is known (``DocCanvas``); flowables may come from a generator
(``FlowableStream``), so a year of records is never held as flowables at once,
and photos are read from the upload store only when their page is drawn.

Labels of fixed texts are bilingual, Chinese first (``bi``): the documents are
evidence for regulators whatever the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import segno
from flask import current_app
from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.reports.fonts import Fonts, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm
#: Width of the text frame.
WIDTH = PAGE_WIDTH - 2 * MARGIN_X
#: The QR codes' data mask pattern (ISO/IEC 18004 allows any of 0-7).
QR_MASK = 4
#: Size of the verification lines (64 hex digits never wrap at this size).
MONO_SIZE = 7.5
#: Greys of the black-and-white palette.
LABEL_GREY = colors.Color(0.92, 0.92, 0.92)
HEADER_GREY = colors.Color(0.82, 0.82, 0.82)
DARK_GREY = colors.Color(0.35, 0.35, 0.35)
#: Cell padding of every table.
PAD = 3
#: Thumbnails: longest side in points on paper and in pixels in the file.
THUMB_POINTS = 34 * mm
THUMB_PIXELS = 360
#: Name of the form holding the page total.
TOTAL_FORM = "es_page_total"
#: What prints for an absent value.
DASH = "—"

# Streams stay binary (Flate only): ASCII85 on top makes files larger and costs a quarter of
# the time of writing a long archive. The setting is ReportLab's, for the whole process.
rl_config.useA85 = 0


def bi(zh: str, en: str) -> str:
    """Return a bilingual label, Chinese first: "中文 English"."""
    return f"{zh} {en}"


def esc(text: Any) -> str:
    """Return text escaped for a Paragraph."""
    return escape(str(text))


def text_of(value: Any) -> str:
    """Return a value as printed: a dash for nothing, the text otherwise."""
    if value is None or value == "":
        return DASH
    return str(value)


# --- dates and times -------------------------------------------------------------------------


def zone_of(name: str | None = None) -> ZoneInfo:
    """Return a time zone (the installation's by default)."""
    return ZoneInfo(name or current_app.config["TIMEZONE"])


def parse_moment(value: Any) -> datetime | None:
    """Return an aware datetime from a datetime or a stored "...Z" / ISO text, else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


def when(value: Any, zone: str | None = None) -> str:
    """Return a moment as local time with its offset: 2025-01-05 09:12 +0800."""
    moment = parse_moment(value)
    if moment is None:
        return text_of(value)
    return moment.astimezone(zone_of(zone)).strftime("%Y-%m-%d %H:%M %z")


def day(value: Any) -> str:
    """Return a date (or stored ISO date) as YYYY-MM-DD, or a dash."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return text_of(value)


def generated_text(moment: datetime) -> str:
    """Return the generation time in the installation's zone, with offset and zone name."""
    zone = zone_of()
    return f"{moment.astimezone(zone).strftime('%Y-%m-%d %H:%M:%S %z')} ({zone.key})"


# --- styles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of the documents (all with CJK word wrap)."""

    fonts: Fonts
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    title: ParagraphStyle
    h1: ParagraphStyle
    note: ParagraphStyle


#: Styles by configured font path (a lookup per call: tables ask for them all the time).
_styles: dict[str, Styles] = {}


def _style(name: str, font: str, size: float, **extra: Any) -> ParagraphStyle:
    leading = extra.pop("leading", size * 1.3)
    return ParagraphStyle(
        name, fontName=font, fontSize=size, leading=leading, wordWrap="CJK", **extra
    )


def _make_styles(fonts: Fonts) -> Styles:
    text = fonts.text
    return Styles(
        fonts=fonts,
        body=_style("es-body", text, 9.5),
        small=_style("es-small", text, 7.5),
        cell=_style("es-cell", text, 8),
        title=_style("es-title", text, 20, leading=28, spaceAfter=6),
        h1=_style("es-h1", text, 13, spaceBefore=8, spaceAfter=4, keepWithNext=1),
        note=_style("es-note", text, 8, textColor=DARK_GREY),
    )


def styles() -> Styles:
    """Return the styles in the registered fonts (FontMissing without a font)."""
    key = str(current_app.config.get("REPORT_FONT_PATH") or "")
    cached = _styles.get(key)
    if cached is None:
        cached = _make_styles(register_fonts())
        _styles[key] = cached
    return cached


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """Return a paragraph of plain text (escaped; a newline starts a new line)."""
    return Paragraph(esc(text).replace("\n", "<br/>"), style)


# --- small flowables -------------------------------------------------------------------------


class Line(Flowable):
    """One line of text that never wraps: the font shrinks instead (hashes, headings)."""

    def __init__(self, text: str, font: str, size: float, *, min_size: float = 4.0) -> None:
        super().__init__()
        self.text = text
        self.font = font
        self.size = size
        self.min_size = min_size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        width = stringWidth(self.text, self.font, self.size)
        if width > avail_width:
            self.size = max(self.min_size, self.size * avail_width / width)
        self.width, self.height = avail_width, self.size * 1.35
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setFont(self.font, self.size)
        self.canv.drawString(0, self.size * 0.3, self.text)


class Qr(Flowable):
    """A QR code drawn as vector squares (sharp when printed), black on white."""

    def __init__(self, text: str, size: float) -> None:
        super().__init__()
        self.text = text
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        # A fixed mask: choosing the best of the eight costs ~10 ms per code in
        # pure Python, and any mask gives a valid code that scans.
        code = segno.make_qr(self.text, error="m", mask=QR_MASK)
        matrix = [list(row) for row in code.matrix]
        module = self.width / (len(matrix) + 4)  # two modules of quiet zone on each side
        canv = self.canv
        canv.setFillColor(colors.black)
        path = canv.beginPath()
        for r, row in enumerate(matrix):
            y = self.height - (r + 3) * module
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect((start + 2) * module, y, (c - start) * module, module)
        canv.drawPath(path, stroke=0, fill=1)


class Thumb(Flowable):
    """An evidence photo as a thumbnail, read from the upload store only when drawn."""

    def __init__(self, path: Path, width_px: int | None, height_px: int | None) -> None:
        super().__init__()
        self.path = path
        ratio = (height_px or 3) / (width_px or 4)
        if ratio <= 1:
            self.width, self.height = THUMB_POINTS, THUMB_POINTS * ratio
        else:
            self.width, self.height = THUMB_POINTS / ratio, THUMB_POINTS

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        try:
            with PILImage.open(self.path) as image:
                image.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
                picture = image.convert("RGB")
        except (OSError, ValueError):
            self.canv.rect(0, 0, self.width, self.height)
            return
        self.canv.drawImage(ImageReader(picture), 0, 0, self.width, self.height)
        self.canv.rect(0, 0, self.width, self.height)


class PageMark(Flowable):
    """Remembers on which page it was drawn, for a table of contents (PageRef)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        marks = getattr(self.canv, "page_marks", None)
        if marks is not None:
            marks.setdefault(self.key, self.canv.getPageNumber())


class PageRef(Flowable):
    """The page number of a PageMark, drawn before that page is known (a forward form)."""

    def __init__(self, key: str, font: str, size: float) -> None:
        super().__init__()
        self.key = key
        self.font = font
        self.size = size
        self.width, self.height = size * 3, size * 1.2

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        refs = getattr(self.canv, "page_refs", None)
        if refs is None:
            return
        refs[self.key] = (self.font, self.size)
        self.canv.doForm(mark_form(self.key))


def mark_form(key: str) -> str:
    """Return the name of the form that holds a mark's page number."""
    return "es_mark_" + "".join(ch if ch.isalnum() else "_" for ch in key)


# --- tables ----------------------------------------------------------------------------------

#: What a table cell holds: text, a flowable, or flowables.
Cell: TypeAlias = str | Flowable | list[Flowable]


#: Characters of Chinese, Japanese and Korean text, and their punctuation: a line may break
#: before any of them.
CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\ufe30-\ufe4f"
TOKEN = re.compile(f"[{CJK}]|[^\\s{CJK}]+|\\s+")
#: Punctuation that never starts a line (it stays with the character before it).
NO_LINE_START = frozenset("，。、；：！？）》」』】,.;:!?)%·")


def _pieces(token: str, width: float, font: str, size: float) -> list[str]:
    """Return a token too long for a line (a hash, a code) cut into pieces that fit."""
    pieces = [""]
    for char in token:
        if pieces[-1] and stringWidth(pieces[-1] + char, font, size) > width:
            pieces.append(char)
        else:
            pieces[-1] += char
    return pieces


def _wrap_line(line: str, width: float, font: str, size: float) -> list[str]:
    lines: list[str] = []
    current, used = "", 0.0
    for token in TOKEN.findall(line):
        token_width = stringWidth(token, font, size)
        if token.isspace():
            if current:
                current, used = current + token, used + token_width
            continue
        if used + token_width <= width or (current and token in NO_LINE_START):
            current, used = current + token, used + token_width
            continue
        if current.strip():
            lines.append(current.rstrip())
        pieces = _pieces(token, width, font, size) if token_width > width else [token]
        lines += pieces[:-1]
        current = pieces[-1]
        used = stringWidth(current, font, size)
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


@lru_cache(maxsize=2048)
def wrap_text(text: str, width: float, font: str, size: float) -> str:
    """Return text broken into lines that fit a width: between words, or between CJK characters.

    Table cells hold this plain text rather than paragraphs: the same labels and
    item names recur on every record of an archive, and a cached break is far
    cheaper than laying out a paragraph each time. They stay in 2,048 entries
    while the one-off texts (dates, names, readings) pass through: over 300
    monthly archives 95 % of the calls hit, against 97 % with 16,384 entries,
    which held about 4 MB more in every process that renders.
    """
    if "\n" not in text and stringWidth(text, font, size) <= width:
        return text
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines += _wrap_line(paragraph, width, font, size)
    return "\n".join(lines)


def cell(text: Any, width: float, style: ParagraphStyle | None = None) -> Cell:
    """Return a table cell: its text broken into lines that fit the column (nothing if empty)."""
    value = "" if text is None else str(text)
    if not value:
        return []
    st = style or styles().cell
    return wrap_text(value, width - 2 * PAD, st.fontName, st.fontSize)


_table_styles: dict[tuple[str, str], TableStyle] = {}


def _table_style(kind: str, st: Styles) -> TableStyle:
    """Return the shared style of data tables (grey header) or field tables (no header)."""
    key = (kind, st.fonts.text)
    found = _table_styles.get(key)
    if found is None:
        commands = _base_style(st.fonts.text, st.cell.fontSize)
        if kind == "data":
            commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_GREY))
        found = _table_styles[key] = TableStyle(commands)
    return found


def _base_style(font: str, size: float) -> list[tuple[Any, ...]]:
    return [
        ("FONT", (0, 0), (-1, -1), font, size, size * 1.3),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]


def widths_of(fractions: Sequence[float], total: float = WIDTH) -> list[float]:
    """Return column widths from fractions of the frame width."""
    return [total * f for f in fractions]


def data_table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fractions: Sequence[float],
    *,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """Return a table with a grey header row repeated on every page it spans."""
    st = styles()
    widths = widths_of(fractions)
    body = [[cell(text, w) for text, w in zip(header, widths, strict=True)]]
    for row in rows:
        body.append(
            [
                v if isinstance(v, Flowable | list) else cell(v, w)
                for v, w in zip(row, widths, strict=True)
            ]
        )
    table = Table(body, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style("data", st))
    if extra:
        table.setStyle(list(extra))
    return table


def layout_table(
    rows: list[list[Any]], widths: Sequence[float], commands: Sequence[tuple[Any, ...]] = ()
) -> Table:
    """Return a table without grid that only places things (thumbnails, a QR code).

    Its cells still name the embedded font: ReportLab sets a cell's font even
    when it holds flowables, and its default is the built-in Helvetica.
    """
    st = styles()
    table = Table(rows, colWidths=list(widths))
    font = [("FONT", (0, 0), (-1, -1), st.fonts.text, st.cell.fontSize)]
    table.setStyle(TableStyle([*font, ("VALIGN", (0, 0), (-1, -1), "TOP"), *commands]))
    return table


Field = tuple[str, Any]


def fields_table(fields: Sequence[Field], columns: int = 2) -> Table:
    """Return label/value pairs as a grid, ``columns`` pairs per row, labels on grey."""
    st = styles()
    label_w, value_w = {1: (0.22, 0.78), 2: (0.17, 0.33), 3: (0.12, 0.2133)}[columns]
    widths = widths_of([label_w, value_w] * columns)
    rows: list[list[Cell]] = []
    for start in range(0, len(fields), columns):
        row: list[Cell] = []
        for label, value in fields[start : start + columns]:
            row.append(cell(label, widths[0]))
            row.append(
                value if isinstance(value, Flowable | list) else cell(text_of(value), widths[1])
            )
        row += [[] for _ in range(2 * columns - len(row))]
        rows.append(row)
    if not rows:
        rows.append([[] for _ in range(2 * columns)])
    table = Table(rows, colWidths=widths)
    table.setStyle(_table_style("fields", st))
    table.setStyle([("BACKGROUND", (c, 0), (c, -1), LABEL_GREY) for c in range(0, 2 * columns, 2)])
    return table


#: Size, space before and space after of the headings of each level.
HEADINGS = {1: (13.0, 8.0, 3.0), 2: (10.5, 6.0, 2.0), 3: (9.5, 4.0, 1.0)}


def heading(text: str, level: int = 1) -> Line:
    """Return a heading (levels 1 to 3): one line kept with what follows.

    Headings are short labels; a line that never wraps is much cheaper than a
    paragraph, and a long archive has several per record.
    """
    size, before, after = HEADINGS[level]
    line = Line(text, styles().fonts.text, size)
    line.keepWithNext = True
    line.spaceBefore, line.spaceAfter = before, after
    return line


def text_line(text: str) -> Line:
    """Return one short line of body text that never wraps."""
    return Line(text, styles().fonts.text, 8)


def mono_line(text: str) -> Line:
    """Return one verification line (parsed back from the PDF), in the hashes' font."""
    return Line(text, styles().fonts.mono, MONO_SIZE)


def gap(height: float = 4) -> Spacer:
    """Return vertical space in points."""
    return Spacer(1, height)


def page_break() -> PageBreak:
    """Return a page break."""
    return PageBreak()


# --- the document ----------------------------------------------------------------------------


@dataclass
class DocMeta:
    """What the header and footer say: title, identity, who generated it and when."""

    title: str
    identity: str
    user: User | None
    generated_at: datetime = field(default_factory=now_utc)

    @property
    def generated_by(self) -> str:
        """Return the generating user as printed: name (organisation), or the system."""
        if self.user is None:
            return bi("系统", "System")
        return f"{self.user.name} ({self.user.organisation.name})"


class DocCanvas(canvas.Canvas):
    """A canvas that draws the forward forms (page total, marked pages) when it is saved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["initialFontName"] = styles().fonts.text
        super().__init__(*args, **kwargs)
        self.page_marks: dict[str, int] = {}
        self.page_refs: dict[str, tuple[str, float]] = {}

    def _number_form(self, name: str, text: str, font: str, size: float) -> None:
        self.beginForm(name)
        self.setFont(font, size)
        self.drawString(0, 0, text)
        self.endForm()

    def save(self) -> None:
        mono = styles().fonts.mono
        self._number_form(TOTAL_FORM, str(self.getPageNumber() - 1), mono, FOOTER_SIZE)
        for key, (font, size) in self.page_refs.items():
            self._number_form(mark_form(key), str(self.page_marks.get(key, DASH)), font, size)
        super().save()


class FlowableStream(list):  # type: ignore[type-arg]
    """A list that ReportLab empties from the front while it is filled from an iterator.

    ReportLab's build loop asks ``len()`` before taking each flowable; this
    list tops itself up from the source at that moment, so only a few dozen
    flowables exist at once however long the document is.
    """

    LOW_WATER = 48

    def __init__(self, source: Iterable[Flowable]) -> None:
        super().__init__()
        self._source: Iterator[Flowable] | None = iter(source)

    def __len__(self) -> int:
        size = super().__len__()
        while self._source is not None and size < self.LOW_WATER:
            nxt = next(self._source, None)
            if nxt is None:
                self._source = None
                break
            self.append(nxt)
            size += 1
        return size


HEADER_SIZE = 8
FOOTER_SIZE = 7


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Return text cut with an ellipsis to fit a width on one line."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _decorate(meta: DocMeta) -> Callable[[canvas.Canvas, BaseDocTemplate], None]:
    """Return the page callback drawing the header and the footer."""
    footer = f"{bi('生成时间', 'Generated')} {generated_text(meta.generated_at)} · " + (
        f"{bi('生成人', 'Generated by')} {meta.generated_by}"
    )

    def draw(canv: canvas.Canvas, _doc: BaseDocTemplate) -> None:
        fonts = styles().fonts
        top = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        canv.saveState()
        canv.setFillColor(colors.black)
        canv.setFont(fonts.text, 10)
        canv.drawString(MARGIN_X, top + 4, _fit(meta.title, fonts.text, 10, WIDTH * 0.5))
        canv.setFont(fonts.text, HEADER_SIZE)
        identity = _fit(meta.identity, fonts.text, HEADER_SIZE, WIDTH * 0.5)
        canv.drawRightString(PAGE_WIDTH - MARGIN_X, top + 4, identity)
        canv.setLineWidth(0.6)
        canv.line(MARGIN_X, top, PAGE_WIDTH - MARGIN_X, top)
        bottom = MARGIN_BOTTOM - 9 * mm
        canv.line(MARGIN_X, bottom + 10, PAGE_WIDTH - MARGIN_X, bottom + 10)
        canv.setFont(fonts.text, FOOTER_SIZE)
        canv.drawString(MARGIN_X, bottom, _fit(footer, fonts.text, FOOTER_SIZE, WIDTH * 0.8))
        # "X / Y", Y written when the document is saved (a form): the parts are
        # placed with gaps of a monospace space (0.6 em), wide enough that text
        # extraction (pdftotext, the verification) reads them as separate words.
        gap = FOOTER_SIZE * 0.6
        number = str(canv.getPageNumber())
        total_x = PAGE_WIDTH - MARGIN_X - stringWidth("0000", fonts.mono, FOOTER_SIZE)
        slash_x = total_x - gap - stringWidth("/", fonts.mono, FOOTER_SIZE)
        canv.setFont(fonts.mono, FOOTER_SIZE)
        canv.drawString(slash_x, bottom, "/")
        canv.drawRightString(slash_x - gap, bottom, number)
        canv.translate(total_x, bottom)
        canv.doForm(TOTAL_FORM)
        canv.restoreState()

    return draw


def build_pdf(out: BinaryIO, meta: DocMeta, flowables: Iterable[Flowable]) -> None:
    """Write the document to ``out``: the flowables on decorated A4 pages, in one pass."""
    st = styles()
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=meta.title,
        author=meta.generated_by,
        subject=meta.identity,
        creator="elevator-safety",
        initialFontName=st.fonts.text,
    )
    frame = Frame(
        MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM, id="body"
    )
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_decorate(meta))])
    doc.build(FlowableStream(flowables), canvasmaker=DocCanvas)
