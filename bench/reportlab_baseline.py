"""ReportLab alone: the documents' content rendered from plain Python data, without the app.

The baseline of the document benchmark (bench/reports.py). It lays out the
same content as the app's record sheets and elevator archives: the same A4
page with a header and a "X / Y" footer on every page, the same embedded CJK
TrueType font (WenQuanYi Micro Hei and its Mono face, subset-embedded), and per
record the same blocks (heading, identity fields, the checklist or item table
with as many rows as the real record, the signature table, the two hash
lines), a QR code on a sheet, cover and contents on an archive. Its input is
a *shape*: plain dicts and lists that say which records there are and how many
rows each has (bench/reports.py reads them from the database before anything
is timed). It imports nothing from the app and touches no database, so its
time is what ReportLab itself needs for that many pages of that content; the
app's figures are compared with it.

``python -m bench.reportlab_baseline SPEC.json`` times the spec's shapes in a
process that imports ReportLab and nothing of the app (its peak RSS is
ReportLab's) and prints the samples as one JSON line.

Shapes (JSON-compatible):

* a record: ``{"kind": "patrol" | "maintenance" | other kind, "rows": table rows,
  "fields": fields of the body, "month": "YYYY-MM"}``, and on a sheet ``"qr"``: the
  QR code's module matrix as rows of "0" and "1" (encoding a QR code is not
  ReportLab's work; drawing its squares is);
* an archive: ``{"months": [[ "YYYY-MM", records ], ...], "records": [record, ...]}``.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import cycle, islice
from pathlib import Path
from typing import Any, BinaryIO

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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

from bench.memory import peak_rss_mb

RecordShape = dict[str, Any]
ArchiveShape = dict[str, Any]

TEXT_FONT = "BaselineText"
MONO_FONT = "BaselineMono"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN_X
TOTAL_FORM = "baseline_total"
CELL_SIZE = 8.0
GREY = colors.Color(0.82, 0.82, 0.82)

#: Item names of a checklist (synthetic, of the real ones' length).
ITEMS = (
    "轿厢内使用标志和安全注意事项齐全有效",
    "轿厢照明、通风和应急照明正常",
    "层门、轿门门锁可靠，门缝无异常",
    "紧急报警装置能与值班室正常通话",
    "底坑清洁，无积水、无杂物",
    "曳引机运行平稳，无异常声响和振动",
    "制动器动作灵活，制动间隙符合要求",
    "限速器及安全钳联动试验正常",
    "平层准确，开关门时间正常",
    "机房温度在规定范围内，通风良好",
)
#: Values of a table row: result, reading (some with limits on a second line), note.
RESULTS = ("正常 Pass", "已完成 Done")
READINGS = ("", "", "22.5 ℃\n限值 Limits 5–40 ℃", "", "85 %RH\n限值 Limits ≤ 85 %RH")
KIND_TITLES = {
    "patrol": "日常巡查记录 Daily patrol record",
    "maintenance": "维护保养记录 Maintenance record",
    "confirmation": "现场监督确认 On-site confirmation",
    "alarm_test": "紧急报警装置测试记录 Emergency alarm test",
    "lockout": "停用与困人报告 Lockout and entrapment report",
    "rectification": "整改通知与闭环 Rectification notice and closure",
}
ELEVATOR_FIELDS = 10
COVER_FIELDS = 18
IDENTITY_FIELDS = 3
MAINTENANCE_FIELDS = 11
TECHNICIANS = 2
QR_SIZE = 26 * mm

# The same output setting as the app's documents: binary Flate streams, no ASCII85 on top.
rl_config.useA85 = 0


def register_fonts(font_path: str) -> None:
    """Register the text face and the monospace face of the collection (once per process)."""
    if TEXT_FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(TEXT_FONT, font_path, subfontIndex=0))
    pdfmetrics.registerFont(TTFont(MONO_FONT, font_path, subfontIndex=1))


def _style(name: str, size: float, leading: float | None = None) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=TEXT_FONT, fontSize=size, leading=leading or size * 1.3, wordWrap="CJK"
    )


TITLE = _style("baseline-title", 20, 28)
H1 = _style("baseline-h1", 13)
H2 = _style("baseline-h2", 10.5)
H3 = _style("baseline-h3", 9.5)
BODY = _style("baseline-body", 8)
MONO = ParagraphStyle("baseline-mono", fontName=MONO_FONT, fontSize=7.5, leading=10)
GRID = [
    ("FONT", (0, 0), (-1, -1), TEXT_FONT, CELL_SIZE, CELL_SIZE * 1.3),
    ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]
DATA_STYLE = TableStyle([*GRID, ("BACKGROUND", (0, 0), (-1, 0), GREY)])


def _fake_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def fields_table(count: int, columns: int, seed: str) -> Table:
    """Return ``count`` label/value pairs, ``columns`` pairs a row, labels on grey."""
    pairs = [(f"字段 Field {n + 1}", f"{seed} 值 {n + 1} 基准小区 1 号楼") for n in range(count)]
    rows: list[list[str]] = []
    for start in range(0, len(pairs), columns):
        row = [text for pair in pairs[start : start + columns] for text in pair]
        rows.append(row + [""] * (2 * columns - len(row)))
    share = WIDTH / columns
    table = Table(rows or [[""] * 2 * columns], colWidths=[share * 0.35, share * 0.65] * columns)
    grey = [("BACKGROUND", (c, 0), (c, -1), GREY) for c in range(0, 2 * columns, 2)]
    table.setStyle(TableStyle([*GRID, *grey]))
    return table


def data_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], fractions: Sequence[float]
) -> Table:
    """Return a table with a grey header row repeated on every page it spans."""
    table = Table(
        [list(header), *map(list, rows)], colWidths=[WIDTH * f for f in fractions], repeatRows=1
    )
    table.setStyle(DATA_STYLE)
    return table


def item_rows(count: int, with_code: bool) -> list[list[str]]:
    """Return ``count`` rows of a checklist: item, result, reading, note (or code first)."""
    rows = []
    names = cycle(ITEMS)
    readings = cycle(READINGS)
    for n, name in enumerate(islice(names, count)):
        if with_code:
            rows.append([f"A-{n + 1}", name, RESULTS[1], ""])
        else:
            rows.append([f"D{n % 11 + 1} {name}", RESULTS[0], next(readings), ""])
    return rows


def signature_block(seq: int) -> list[Flowable]:
    """Return the signature table and the two verification lines of a record."""
    header = [
        "签名含义 Meaning",
        "签名人 Signed by",
        "单位 Organisation",
        "签名时间 Signed at",
        "理由 Reason",
    ]
    row = ["提交 Submitted", "安全员 10", "基准物业 #1", "2026-10-30 09:50 +0800", "—"]
    digest = _fake_hash(str(seq))
    return [
        Paragraph("签名 Signatures", H3),
        data_table(header, [row], (0.16, 0.16, 0.26, 0.2, 0.22)),
        Paragraph(f"内容哈希 Content hash: {digest}", MONO),
        Paragraph(f"链位置 Chain position: {seq}", MONO),
    ]


def _patrol(shape: RecordShape) -> list[Flowable]:
    header = ["巡查项目 Item", "结果 Result", "读数 Reading", "备注 Note"]
    return [
        Paragraph("巡查清单 Checklist: 日常巡查 v1 · 不合格项 Failed items: 0", BODY),
        data_table(header, item_rows(int(shape.get("rows", 0)), False), (0.46, 0.16, 0.16, 0.22)),
    ]


def _maintenance(shape: RecordShape) -> list[Flowable]:
    technicians = [[f"维保工 {n}", f"T00001{n:03d}", "账号 Account"] for n in range(TECHNICIANS)]
    header = ["编号 No.", "维保项目 Item", "结果 Result", "备注 Note"]
    rows = [["半月维保 Half-monthly", "", "", ""], *item_rows(int(shape.get("rows", 0)), True)]
    return [
        fields_table(MAINTENANCE_FIELDS, 2, "维保"),
        Paragraph("到场维保人员 Technicians present", H3),
        data_table(
            ["维保人员 Technician", "作业证号 Certificate no.", "来源 Source"],
            technicians,
            (0.4, 0.35, 0.25),
        ),
        Paragraph("维保项目 Maintenance items", H3),
        data_table(header, rows, (0.1, 0.52, 0.14, 0.24)),
    ]


BODIES: dict[str, Callable[[RecordShape], list[Flowable]]] = {
    "patrol": _patrol,
    "maintenance": _maintenance,
}


def record_section(shape: RecordShape, seq: int) -> list[Flowable]:
    """Return one record: heading, identity, body, signatures, hash lines."""
    kind = str(shape.get("kind"))
    body = BODIES.get(kind)
    return [
        Paragraph(f"{KIND_TITLES.get(kind, kind)} · #{seq}", H2),
        fields_table(IDENTITY_FIELDS, 3, "记录"),
        Spacer(1, 4),
        *(body(shape) if body else [fields_table(int(shape.get("fields", 4)), 1, kind)]),
        *signature_block(seq),
        Spacer(1, 8),
    ]


class QrMatrix(Flowable):
    """A QR code drawn as vector squares from its module matrix (rows of "0"/"1")."""

    def __init__(self, rows: Sequence[str], size: float) -> None:
        super().__init__()
        self.rows = rows
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        module = self.width / (len(self.rows) + 4)
        path = self.canv.beginPath()
        for r, row in enumerate(self.rows):
            for c, dark in enumerate(row):
                if dark == "1":
                    path.rect((c + 2) * module, self.height - (r + 3) * module, module, module)
        self.canv.drawPath(path, stroke=0, fill=1)


def sheet_flowables(shape: RecordShape) -> list[Flowable]:
    """Return a one-record sheet: title, elevator fields, the record, the QR code."""
    url = f"https://lifts.example.com/verify/{_fake_hash('sheet')}"
    return [
        Paragraph(KIND_TITLES.get(str(shape.get("kind")), "记录 Record"), TITLE),
        fields_table(ELEVATOR_FIELDS, 2, "电梯"),
        Spacer(1, 6),
        *record_section(shape, 1),
        Table(
            [[Paragraph(f"扫码核验 Scan to verify: {url}", BODY), QrMatrix(shape["qr"], QR_SIZE)]],
            colWidths=[WIDTH - QR_SIZE - 8, QR_SIZE + 8],
        ),
    ]


def archive_flowables(shape: ArchiveShape) -> Iterable[Flowable]:
    """Yield an archive: cover, contents by month, every record with month headings, the end."""
    yield Spacer(1, 40)
    yield Paragraph("电梯管理档案 Elevator archive", TITLE)
    yield fields_table(COVER_FIELDS, 1, "封面")
    yield Paragraph(f"链头 Chain head: {_fake_hash('head')}", MONO)
    yield PageBreak()
    months = [[str(m), f"日常巡查记录 {n}", ""] for m, n in shape.get("months", [])]
    yield Paragraph("目录 Contents", H1)
    yield data_table(["月份 Month", "记录 Records", "页码 Page"], months, (0.16, 0.72, 0.12))
    yield PageBreak()
    month = None
    for seq, record in enumerate(shape.get("records", []), start=1):
        if record.get("month") != month:
            month = record.get("month")
            yield Paragraph(f"月份 Month {month}", H1)
        yield from record_section(record, seq)
    yield Paragraph("链校验 Chain verification", H1)
    yield fields_table(4, 2, "校验")


class _Canvas(canvas.Canvas):
    """Draws the page total, referenced on every page as a form, when the document is saved."""

    def save(self) -> None:
        self.beginForm(TOTAL_FORM)
        self.setFont(MONO_FONT, 7)
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()


def _decorate(title: str) -> Callable[[canvas.Canvas, BaseDocTemplate], None]:
    def draw(canv: canvas.Canvas, _doc: BaseDocTemplate) -> None:
        top = PAGE_HEIGHT - MARGIN_TOP + 8 * mm
        bottom = MARGIN_BOTTOM - 9 * mm
        canv.saveState()
        canv.setFont(TEXT_FONT, 10)
        canv.drawString(MARGIN_X, top + 4, title)
        canv.setFont(TEXT_FONT, 8)
        canv.drawRightString(
            PAGE_WIDTH - MARGIN_X, top + 4, "电梯 Elevator BX01000000001 · 基准小区 1"
        )
        canv.line(MARGIN_X, top, PAGE_WIDTH - MARGIN_X, top)
        canv.line(MARGIN_X, bottom + 10, PAGE_WIDTH - MARGIN_X, bottom + 10)
        canv.setFont(TEXT_FONT, 7)
        canv.drawString(
            MARGIN_X, bottom, "生成时间 Generated 2026-11-28 16:38:35 +0800 (Asia/Shanghai)"
        )
        canv.setFont(MONO_FONT, 7)
        number = f"{canv.getPageNumber()} / "
        x = PAGE_WIDTH - MARGIN_X - 40
        canv.drawString(x, bottom, number)
        canv.translate(x + pdfmetrics.stringWidth(number, MONO_FONT, 7), bottom)
        canv.doForm(TOTAL_FORM)
        canv.restoreState()

    return draw


def build(out: BinaryIO, title: str, flowables: Iterable[Flowable]) -> int:
    """Write the flowables on decorated A4 pages; return the number of pages."""
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        initialFontName=TEXT_FONT,
    )
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=_decorate(title))])
    doc.build(list(flowables), canvasmaker=_Canvas)
    return int(doc.page)


def render_sheet(out: BinaryIO, shape: RecordShape, font_path: str) -> int:
    """Write a one-record sheet of the shape; return its pages."""
    register_fonts(font_path)
    return build(out, KIND_TITLES.get(str(shape.get("kind")), "记录"), sheet_flowables(shape))


def render_archive(out: BinaryIO, shape: ArchiveShape, font_path: str) -> int:
    """Write an elevator archive of the shape; return its pages."""
    register_fonts(font_path)
    return build(out, "电梯管理档案 Elevator archive", archive_flowables(shape))


# --- measuring ---------------------------------------------------------------------------------

#: Untimed sheets first (the font is parsed on the first).
WARMUP = 3


def _timed(
    render_to: Callable[[BinaryIO, dict[str, Any], str], int], shape: dict[str, Any], font: str
) -> tuple[float, int]:
    """Return the seconds and pages of one document."""
    started = time.perf_counter()
    pages = render_to(io.BytesIO(), shape, font)
    return time.perf_counter() - started, pages


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Time the spec's shapes: each sheet, the year archive, each monthly archive.

    Returns the samples (seconds, pages) and this process's peak RSS in MB.
    """
    font = spec["font_path"]
    sheets = spec["sheet_shapes"]
    for shape in sheets[:WARMUP]:
        _timed(render_sheet, shape, font)
    sheet_s = [_timed(render_sheet, shape, font)[0] for shape in sheets]
    archive_s, archive_pages = _timed(render_archive, spec["year_shape"], font)
    months = [_timed(render_archive, shape, font) for shape in spec["month_shapes"]]
    return {
        "sheet_s": sheet_s,
        "archive_s": archive_s,
        "archive_pages": archive_pages,
        "month_s": [s for s, _ in months],
        "month_pages": [p for _, p in months],
        "rss_peak_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> int:
    """Measure the shapes of a spec file (bench/reports.py writes it); print one JSON line."""
    (spec_path,) = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    print(json.dumps(measure(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
