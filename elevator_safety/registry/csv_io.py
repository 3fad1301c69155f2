"""CSV import and export of elevators (onboarding from property companies' spreadsheets).

One column map serves both directions: every importable attribute has an
English header (the attribute name) and the Chinese header the spreadsheets
use. The import parses every row and reports every problem with the row
number the spreadsheet shows (the header is row 1), the column header as
written in the file and a message in the user's language; it writes nothing
unless every row is good. The export writes the same columns (site by name,
officer by login) so that an exported file imports again.

The export is for Excel: UTF-8 with a BOM, a quote before cells that Excel
would run as formulas, and a tab before long digit strings (the 20-digit
equipment code) that Excel would otherwise turn into a rounded number. The
import undoes both.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from elevator_safety import audit
from elevator_safety.auth.models import Organisation, Role, User
from elevator_safety.auth.services import find_user_by_login
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registry import services
from elevator_safety.registry.models import (
    KIND_LABELS,
    RESULT_LABELS,
    STATUS_LABELS,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    InspectionResult,
    Site,
)
from elevator_safety.registry.queries import sort_columns


@dataclass(frozen=True)
class Column:
    """One CSV column: its English and Chinese headers and how its cells are read."""

    #: English header; the Elevator attribute, or ``site`` / ``safety_officer``.
    key: str
    #: Chinese header as the export writes it.
    zh: str
    #: text, code, int, decimal, date, kind, status, result, site, officer.
    type: str
    required: bool = False
    #: Other headers accepted on import (older spreadsheets, partial names).
    aliases: tuple[str, ...] = ()
    #: Largest value of a number (as in the elevator form).
    maximum: int | Decimal | None = None

    @property
    def field(self) -> str:
        """Return the name services.prepare_elevator reports problems under."""
        return {"site": "site_id", "safety_officer": "safety_officer_id"}.get(self.key, self.key)


#: Every importable elevator attribute, in the order the export writes them.
COLUMNS: tuple[Column, ...] = (
    Column("equipment_code", "设备代码", "code", required=True),
    Column("site", "小区/项目", "site", required=True, aliases=("小区", "项目", "小区名称")),
    Column("registration_no", "使用登记证编号", "text", aliases=("使用登记证号",)),
    Column("rescue_code", "救援识别码", "code"),
    Column(
        "kind",
        "电梯类型/类别",
        "kind",
        required=True,
        aliases=("电梯类型", "类别", "设备类别", "设备品种"),
    ),
    Column("manufacturer", "制造单位", "text"),
    Column("model", "型号", "text", aliases=("产品型号",)),
    Column("factory_no", "出厂编号", "text"),
    Column("rated_load_kg", "额定载重量(kg)", "int", aliases=("额定载重量",), maximum=1_000_000),
    Column(
        "rated_speed_ms",
        "额定速度(m/s)",
        "decimal",
        aliases=("额定速度",),
        maximum=Decimal("999.99"),
    ),
    Column("floors", "层数", "int", maximum=500),
    Column("stops", "站数", "int", maximum=500),
    Column("building", "楼栋", "text"),
    Column("unit", "单元", "text"),
    Column("car_no", "梯号", "text"),
    Column("acceptance_date", "验收日期", "date"),
    Column("last_inspection_date", "上次定期检验日期", "date", aliases=("上次检验日期",)),
    Column("last_inspection_result", "上次检验结论", "result"),
    Column("next_inspection_due", "下次检验日期", "date"),
    Column("use_sign_valid_until", "使用标志有效期至", "date"),
    Column("safety_officer", "安全员", "officer", required=True, aliases=("电梯安全员",)),
    Column("status", "状态", "status", aliases=("使用状态",)),
    Column("notes", "备注", "text"),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
#: Longest notes the elevator form accepts.
MAX_NOTES = 5000

#: Chinese labels by enum value; the first label of each is the one the export writes.
KIND_ZH: dict[ElevatorKind, tuple[str, ...]] = {
    ElevatorKind.traction: ("曳引驱动乘客电梯", "乘客电梯", "曳引式乘客电梯"),
    ElevatorKind.freight: ("载货电梯", "曳引驱动载货电梯"),
    ElevatorKind.hydraulic: ("液压电梯", "液压驱动电梯"),
    ElevatorKind.escalator: ("自动扶梯",),
    ElevatorKind.moving_walk: ("自动人行道",),
}
STATUS_ZH: dict[ElevatorStatus, tuple[str, ...]] = {
    ElevatorStatus.in_service: ("在用",),
    ElevatorStatus.out_of_service: ("停用",),
    ElevatorStatus.decommissioned: ("报废", "注销"),
}
RESULT_ZH: dict[InspectionResult, tuple[str, ...]] = {
    InspectionResult.passed: ("合格",),
    InspectionResult.passed_after_rectification: ("复检合格",),
    InspectionResult.failed: ("不合格",),
}
_ENUMS: dict[str, tuple[dict[Any, tuple[str, ...]], dict[Any, Any]]] = {
    "kind": (KIND_ZH, KIND_LABELS),
    "status": (STATUS_ZH, STATUS_LABELS),
    "result": (RESULT_ZH, RESULT_LABELS),
}

#: Cells a spreadsheet would run as a formula; the export prefixes them with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
#: A long code as Excel shows it after reading it as a number, e.g. 3.11051E+19.
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+\d+$")
#: Digit strings this long lose digits when Excel reads them as numbers (15 significant).
_LONG_DIGITS = re.compile(r"^\d{12,}$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


class CsvFileError(DomainError):
    """The upload cannot be read as a CSV table at all (encoding, no header, no rows)."""


@dataclass
class RowProblem:
    """One problem: spreadsheet row number (header = 1), column as written, message."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        # A fixed prefix that scripts can parse; the message is in the user's language.
        return f"row {self.row}, column {self.column}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a dict (for templates and JSON)."""
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ParsedRow:
    """One data row: its cells as written, the values for the service, its problems."""

    number: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class Sheet:
    """A decoded CSV table: which column is which, and the raw records."""

    encoding: str
    #: Header as written in the file, for each recognised column, in file order.
    headers: list[str]
    #: Column of each recognised header, same order.
    columns: list[Column]
    #: Position in the record of each recognised column, same order.
    positions: list[int]
    #: (spreadsheet row number, cells) of every non-blank data row.
    records: list[tuple[int, list[str]]]
    #: Problems with the header row itself (missing or repeated columns).
    header_problems: list[RowProblem]
    warnings: list[str]
    #: Whether the file's headers are Chinese (else English).
    chinese: bool

    def header_for(self, key: str) -> str:
        """Return the column's header as written, or the expected one if it is missing."""
        for header, column in zip(self.headers, self.columns, strict=True):
            if column.key == key:
                return header
        column = COLUMNS_BY_KEY[key]
        return column.zh if self.chinese else column.key


@dataclass
class ImportResult:
    """Everything the preview page and the command show about one file."""

    sheet: Sheet
    rows: list[ParsedRow]

    @property
    def problems(self) -> list[RowProblem]:
        """Return every problem, header first, then row by row."""
        found = list(self.sheet.header_problems)
        for row in self.rows:
            found.extend(row.problems)
        return found

    @property
    def ok(self) -> bool:
        """Return whether the file may be imported (rows and no problem)."""
        return bool(self.rows) and not self.problems

    @property
    def bad_rows(self) -> int:
        """Return the number of rows with at least one problem."""
        return sum(1 for row in self.rows if row.problems)

    @property
    def encoding(self) -> str:
        """Return the encoding detected."""
        return self.sheet.encoding

    @property
    def headers(self) -> list[str]:
        """Return the recognised headers as written."""
        return self.sheet.headers

    @property
    def warnings(self) -> list[str]:
        """Return the warnings (unknown columns ignored)."""
        return self.sheet.warnings


# --- reading ----------------------------------------------------------------


def _header_key(header: str) -> str:
    """Return a header reduced for matching: no BOM, spaces, underscores; ASCII brackets."""
    header = header.replace("\ufeff", "").replace("（", "(").replace("）", ")").lower()
    return re.sub(r"[\s_\-]+", "", header)


_HEADER_INDEX: dict[str, tuple[Column, bool]] = {}
for _column in COLUMNS:
    _HEADER_INDEX[_header_key(_column.key)] = (_column, False)
    for _name in (_column.zh, *_column.aliases):
        _HEADER_INDEX[_header_key(_name)] = (_column, True)


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding label): UTF-8 with or without BOM, else GB18030 (GBK)."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvFileError(
            _("This is an Excel workbook, not a CSV file. In Excel choose Save As, CSV (UTF-8).")
        )
    if b"\x00" in data:
        raise CsvFileError(_("This is not a CSV text file."))
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("gb18030"), "GB18030 (GBK)"
    except UnicodeDecodeError as error:
        raise CsvFileError(
            _("The file's encoding is neither UTF-8 nor GBK; save it as CSV (UTF-8).")
        ) from error


def read_sheet(data: bytes) -> Sheet:
    """Decode a CSV upload and match its header row to the column map."""
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise CsvFileError(
            _("The file is not a valid CSV table: %(error)s", error=str(error))
        ) from error
    # The header is the first non-blank row; row numbers stay those the spreadsheet shows.
    start = next((i for i, cells in enumerate(table) if any(c.strip() for c in cells)), None)
    if start is None:
        raise CsvFileError(_("The file is empty."))
    header_number = start + 1
    header_row = table[start]
    headers: list[str] = []
    columns: list[Column] = []
    positions: list[int] = []
    header_problems: list[RowProblem] = []
    warnings: list[str] = []
    chinese_votes = 0
    for position, raw in enumerate(header_row):
        header = raw.replace("\ufeff", "").strip()
        if not header:
            continue
        match = _HEADER_INDEX.get(_header_key(header))
        if match is None:
            warnings.append(_("Unknown column %(column)s was ignored.", column=header))
            continue
        column, is_chinese = match
        chinese_votes += 1 if is_chinese else -1
        if column in columns:
            earlier = headers[columns.index(column)]
            header_problems.append(
                RowProblem(
                    header_number, header, _("Repeats the column %(column)s.", column=earlier)
                )
            )
            continue
        headers.append(header)
        columns.append(column)
        positions.append(position)
    chinese = chinese_votes >= 0
    for column in COLUMNS:
        if column.required and column not in columns:
            header_problems.append(
                RowProblem(
                    header_number,
                    column.zh if chinese else column.key,
                    _("This column is required."),
                )
            )
    records: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(table[start + 1 :], start=header_number + 1):
        if any(cell.strip() for cell in cells):
            records.append((number, cells))
    if not records:
        raise CsvFileError(_("The file has a header row but no data rows."))
    return Sheet(
        encoding=encoding,
        headers=headers,
        columns=columns,
        positions=positions,
        records=records,
        header_problems=header_problems,
        warnings=warnings,
        chinese=chinese,
    )


def _unquote(cell: str) -> str:
    """Undo the export's formula guard: a quote before =, +, -, @."""
    cell = cell.strip()
    if len(cell) > 1 and cell[0] == "'" and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


def _enum_value(kind: str, text: str) -> Any | None:
    zh, labels = _ENUMS[kind]
    wanted = text.strip().lower()
    for member, names in zh.items():
        if wanted in {member.value, *names, str(labels[member]).lower()}:
            return member
    return None


def _length(column: Column) -> int | None:
    if column.key == "notes":
        return MAX_NOTES
    return getattr(Elevator.__table__.columns[column.key].type, "length", None)


class _Lookups:
    """Sites and officers of the importing company, looked up once per name."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.sites: dict[str, Site | None] = {}
        self.officers: dict[str, User | None] = {}

    def site(self, name: str) -> Site | None:
        if name not in self.sites:
            self.sites[name] = services.find_site(self.org.id, name)
        return self.sites[name]

    def officer(self, login: str) -> User | None:
        if login not in self.officers:
            self.officers[login] = find_user_by_login(login)
        return self.officers[login]


def _read_cell(column: Column, text: str, lookups: _Lookups) -> tuple[Any, str | None]:
    """Return (value, problem) of one cell; an empty cell is (None, None)."""
    if not text:
        return None, None
    kind = column.type
    if kind == "code" and _SCIENTIFIC.match(text):
        return None, _(
            "Excel has turned this code into a number (%(value)s) and lost digits; format "
            "the column as text and enter the code again.",
            value=text,
        )
    if kind in ("text", "code"):
        value = services.normalise_code(text) if kind == "code" else text
        limit = _length(column)
        if limit and value and len(value) > limit:
            return None, _("At most %(max)d characters.", max=limit)
        return value, None
    if kind in ("int", "decimal"):
        if _THOUSANDS.match(text):
            text = text.replace(",", "")  # 1,000 as a spreadsheet may format it
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            return None, _("Enter a number, e.g. 1.75.") if kind == "decimal" else _(
                "Enter a whole number."
            )
        if column.maximum is not None and number > column.maximum:
            return None, _("At most %(max)s.", max=column.maximum)
        if column.maximum is not None and number < -column.maximum:
            return None, _("Must be greater than zero.")
        if kind == "decimal":
            return number, None
        if number != number.to_integral_value():
            return None, _("Enter a whole number.")
        return int(number), None
    if kind == "date":
        match = _DATE.match(text)
        try:
            if match is None:
                raise ValueError(text)
            return date(*(int(part) for part in match.groups())), None
        except ValueError:
            return None, _("Enter a date as YYYY-MM-DD or YYYY/MM/DD.")
    if kind in _ENUMS:
        member = _enum_value(kind, text)
        if member is None:
            zh, _labels = _ENUMS[kind]
            choices = " / ".join(f"{m.value} {names[0]}" for m, names in zh.items())
            return None, _(
                "Unknown value %(value)s; use one of: %(choices)s.", value=text, choices=choices
            )
        return member.value, None
    if kind == "site":
        site = lookups.site(text)
        if site is None:
            return None, _("Your company has no site named %(name)s.", name=text)
        return site.id, None
    if kind == "officer":
        officer = lookups.officer(text)
        if officer is None:
            return None, _("No user has the e-mail or phone %(login)s.", login=text)
        if (
            officer.organisation_id != lookups.org.id
            or officer.role != Role.safety_officer
            or not officer.active
        ):
            return None, _("%(login)s is not an active safety officer of your company.", login=text)
        return officer.id, None
    raise AssertionError(kind)  # pragma: no cover - every column type is handled above


def check_sheet(
    sheet: Sheet, org: Organisation, records: Iterable[tuple[int, list[str]]] | None = None
) -> ImportResult:
    """Check every row of a sheet for the company; ``records`` may wrap sheet.records."""
    lookups = _Lookups(org)
    missing = {
        column.field for column in COLUMNS if column.required and column not in sheet.columns
    }
    seen_codes: dict[str, int] = {}
    rows: list[ParsedRow] = []
    for number, cells in records if records is not None else sheet.records:
        texts = [_unquote(cells[p]) if p < len(cells) else "" for p in sheet.positions]
        row = ParsedRow(number=number, cells=texts)
        raw: dict[str, Any] = {}
        bad_fields: set[str] = set(missing)
        for header, column, text in zip(sheet.headers, sheet.columns, texts, strict=True):
            value, problem = _read_cell(column, text, lookups)
            if problem is not None:
                row.problems.append(RowProblem(number, header, problem))
                bad_fields.add(column.field)
            elif value is not None:
                raw[column.field] = value
        values, problems = services.prepare_elevator(raw, org)
        for name, messages in problems.errors.items():
            if name in bad_fields:
                continue  # the cell's own problem says it better
            key = {"site_id": "site", "safety_officer_id": "safety_officer"}.get(name, name)
            header = sheet.header_for(key) if key in COLUMNS_BY_KEY else name
            row.problems.extend(RowProblem(number, header, message) for message in messages)
        code = values.get("equipment_code")
        if code and "equipment_code" not in bad_fields:
            if code in seen_codes:
                row.problems.append(
                    RowProblem(
                        number,
                        sheet.header_for("equipment_code"),
                        _(
                            "The equipment code %(code)s is also on row %(row)d.",
                            code=code,
                            row=seen_codes[code],
                        ),
                    )
                )
            else:
                seen_codes[code] = number
        row.values = values
        rows.append(row)
    return ImportResult(sheet=sheet, rows=rows)


def parse_elevators(data: bytes, org: Organisation) -> ImportResult:
    """Read and check a whole CSV upload for a property company (writes nothing)."""
    return check_sheet(read_sheet(data), org)


def import_elevators(
    result: ImportResult,
    org: Organisation,
    actor: User | None = None,
    *,
    source: str = "",
) -> list[Elevator]:
    """Create every elevator of a good result, audited; the caller commits (all or nothing)."""
    if not result.ok:
        raise DomainError(_("The file has errors; nothing was imported."))
    created = [services.create_elevator(org, row.values) for row in result.rows]
    audit.record(
        "import",
        None,
        organisation_id=org.id,
        user_id=actor.id if actor is not None else None,
        label=(source or "CSV")[:200],
        changes={"elevators": [None, len(created)], "encoding": [None, result.encoding]},
    )
    db.session.flush()
    return created


# --- writing ----------------------------------------------------------------


def _guard(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _cell(elevator: Elevator, column: Column, english: bool) -> str:
    if column.key == "site":
        value: Any = elevator.site.name
    elif column.key == "safety_officer":
        value = elevator.safety_officer.login
    else:
        value = getattr(elevator, column.key)
    if value is None:
        return ""
    if column.type in _ENUMS:
        zh, _labels = _ENUMS[column.type]
        return str(value.value) if english else zh[value][0]
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if _LONG_DIGITS.match(text):
        # A leading tab makes Excel keep the cell as text; the import strips it.
        return "\t" + text
    return _guard(text)


def header_row(english: bool) -> list[str]:
    """Return the export's header row."""
    return [column.key if english else column.zh for column in COLUMNS]


def export_lines(query: Select, *, english: bool = False) -> Iterator[str]:
    """Yield the CSV export of a select() of elevators line by line, starting with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(cells)
        return buffer.getvalue()

    yield "\ufeff" + line(header_row(english))
    query = query.options(
        joinedload(Elevator.site), joinedload(Elevator.safety_officer)
    ).execution_options(yield_per=500)
    for elevator in db.session.scalars(query):
        yield line([_cell(elevator, column, english) for column in COLUMNS])


def company_elevators(org: Organisation) -> Select:
    """Return a select() of a company's elevators in the list's default order (commands)."""
    return (
        select(Elevator)
        .join(Elevator.site)
        .where(Site.organisation_id == org.id)
        .order_by(*sort_columns(None))
    )
