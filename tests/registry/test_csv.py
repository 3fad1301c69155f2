"""CSV import and export of elevators: headers, encodings, every error, all or nothing."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.extensions import db
from elevator_safety.registry import csv_io
from elevator_safety.registry.models import (
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    InspectionResult,
)
from tests.conftest import log_in
from tests.factories import make_contract, make_elevator, make_org, make_site, make_user

ZH = {column.key: column.zh for column in csv_io.COLUMNS}
CONFIRM = re.compile(r"/elevators/import/([0-9a-f]{32})/confirm")


# --- helpers ------------------------------------------------------------------


def to_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def full_row(code: str, site: str, officer: str, **changes: str) -> dict[str, str]:
    """Return a row (by column key) with every column filled, Chinese values."""
    row = {
        "equipment_code": code,
        "site": site,
        "registration_no": "梯11川A90001",
        "rescue_code": "510190001",
        "kind": "曳引驱动乘客电梯",
        "manufacturer": "通力电梯有限公司",
        "model": "MonoSpace 500",
        "factory_no": "F-2019-0001",
        "rated_load_kg": "1000",
        "rated_speed_ms": "1.75",
        "floors": "18",
        "stops": "17",
        "building": "3栋",
        "unit": "2单元",
        "car_no": "1号梯",
        "acceptance_date": "2019/06/01",
        "last_inspection_date": "2025-06-10",
        "last_inspection_result": "合格",
        "next_inspection_due": "2026-06-09",
        "use_sign_valid_until": "2026/06/30",
        "safety_officer": officer,
        "status": "在用",
        "notes": "高层住宅",
    }
    row.update(changes)
    return row


def table(rows: list[dict[str, str]], english: bool = False) -> list[list[str]]:
    keys = [column.key for column in csv_io.COLUMNS]
    header = keys if english else [ZH[key] for key in keys]
    return [header, *[[row.get(key, "") for key in keys] for row in rows]]


def upload(client, data: bytes, name: str = "elevators.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/elevators/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(page: str) -> str:
    match = CONFIRM.search(page)
    assert match, "the preview has no confirm button"
    return match.group(1)


def elevator_count() -> int:
    return db.session.scalar(select(func.count(Elevator.id))) or 0


def by_code(code: str) -> Elevator:
    elevator = db.session.scalar(select(Elevator).where(Elevator.equipment_code == code))
    assert elevator is not None, code
    return elevator


def read_export(body: bytes) -> list[dict[str, str]]:
    """Read an export as Excel shows it (the tab before long codes is not visible)."""
    assert body.startswith(b"\xef\xbb\xbf")
    rows = csv.DictReader(io.StringIO(body[3:].decode("utf-8")))
    return [{key: value.removeprefix("\t") for key, value in row.items()} for row in rows]


def stored_uploads(app) -> list[Path]:  # type: ignore[no-untyped-def]
    folder = Path(app.config["IMPORT_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    """Keep the uploads waiting for confirmation in the test's own folder."""
    return app_config | {"IMPORT_FOLDER": str(tmp_path / "imports")}


@pytest.fixture
def english(world):  # type: ignore[no-untyped-def]
    """Give the own side's admin the English interface (messages compared as text)."""
    world.own.admin.locale = "en"
    world.foreign.admin.locale = "en"
    db.session.commit()


# --- web import ---------------------------------------------------------------


def test_chinese_headers_import_every_row_with_its_values_and_audit(app, client, world, login_as):
    admin = login_as("admin")
    site, officer = world.own.site, world.own.officer
    rows = [
        full_row("31105101049000000001", site.name, officer.email),
        full_row(
            "3110 5101 0490 0000 0002",
            site.name,
            officer.email,
            kind="自动扶梯",
            status="停用",
            last_inspection_result="复检合格",
            rated_speed_ms="0.5",
            floors="",
            stops="",
            notes="",
        ),
    ]
    before = elevator_count()

    preview = upload(client, to_csv(table(rows)))
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert 'data-testid="row-count">2<' in page
    assert 'data-testid="error-count">0<' in page
    assert 'data-testid="encoding">UTF-8<' in page
    assert elevator_count() == before  # the preview writes nothing
    token = token_of(page)
    assert {p.name for p in stored_uploads(app)} == {f"{token}.csv", f"{token}.json"}

    done = client.post(f"/elevators/import/{token}/confirm")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/elevators")
    assert elevator_count() == before + 2
    assert stored_uploads(app) == []

    first = by_code("31105101049000000001")
    assert first.site_id == site.id
    assert first.safety_officer_id == officer.id
    assert first.registration_no == "梯11川A90001"
    assert first.rescue_code == "510190001"
    assert first.kind == ElevatorKind.traction
    assert first.manufacturer == "通力电梯有限公司"
    assert first.model == "MonoSpace 500"
    assert first.factory_no == "F-2019-0001"
    assert first.rated_load_kg == 1000
    assert first.rated_speed_ms == Decimal("1.75")
    assert (first.floors, first.stops) == (18, 17)
    assert (first.building, first.unit, first.car_no) == ("3栋", "2单元", "1号梯")
    assert first.acceptance_date == date(2019, 6, 1)
    assert first.last_inspection_date == date(2025, 6, 10)
    assert first.last_inspection_result == InspectionResult.passed
    assert first.next_inspection_due == date(2026, 6, 9)
    assert first.use_sign_valid_until == date(2026, 6, 30)
    assert first.status == ElevatorStatus.in_service
    assert first.notes == "高层住宅"

    second = by_code("31105101049000000002")  # spaces removed from the code
    assert second.kind == ElevatorKind.escalator
    assert second.status == ElevatorStatus.out_of_service
    assert second.last_inspection_result == InspectionResult.passed_after_rectification
    assert second.floors is None
    assert second.notes is None

    creates = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "create",
            AuditEntry.object_type == "Elevator",
            AuditEntry.object_id.in_([first.id, second.id]),
        )
    ).all()
    assert len(creates) == 2
    assert {(e.user_id, e.organisation_id) for e in creates} == {(admin.id, world.own.org.id)}
    assert {e.object_label for e in creates} == {first.equipment_code, second.equipment_code}
    summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert summary is not None
    assert summary.user_id == admin.id
    assert summary.organisation_id == world.own.org.id
    assert summary.object_label == "elevators.csv"
    assert summary.changes_dict["elevators"] == [None, 2]

    listing = client.get(done.headers["Location"], follow_redirects=False)
    assert listing.status_code == 200


def test_english_headers_and_codes(client, world, login_as, english):
    login_as("admin")
    row = full_row(
        "31105101049000000011",
        world.own.site.name,
        world.own.officer.email,
        kind="hydraulic",
        status="decommissioned",
        last_inspection_result="failed",
    )
    page = upload(client, to_csv(table([row], english=True))).get_data(as_text=True)
    done = client.post(f"/elevators/import/{token_of(page)}/confirm", follow_redirects=True)
    assert done.request.path == "/elevators"
    assert "1 elevator imported." in done.get_data(as_text=True)
    elevator = by_code("31105101049000000011")
    assert elevator.kind == ElevatorKind.hydraulic
    assert elevator.status == ElevatorStatus.decommissioned
    assert elevator.last_inspection_result == InspectionResult.failed
    assert elevator.acceptance_date == date(2019, 6, 1)


def test_mixed_trimmed_headers_and_unknown_columns(client, world, login_as, english):
    login_as("admin")
    header = [" 设备代码 ", "site", "Kind", "安全员", "额定载重量（kg）", "业主电话"]
    rows = [
        header,
        [
            "31105101049000000021",
            world.own.site.name,
            "载货电梯",
            world.own.officer.email,
            "2000",
            "13800000000",
        ],
    ]
    page = upload(client, to_csv(rows)).get_data(as_text=True)
    assert "Unknown column 业主电话 was ignored." in page
    client.post(f"/elevators/import/{token_of(page)}/confirm")
    elevator = by_code("31105101049000000021")
    assert elevator.kind == ElevatorKind.freight
    assert elevator.rated_load_kg == 2000
    assert elevator.status == ElevatorStatus.in_service  # the default when not given


def test_utf8_with_bom(client, world, login_as):
    login_as("admin")
    row = full_row("31105101049000000031", world.own.site.name, world.own.officer.email)
    data = b"\xef\xbb\xbf" + to_csv(table([row]))
    page = upload(client, data).get_data(as_text=True)
    assert 'data-testid="encoding">UTF-8 (BOM)<' in page
    client.post(f"/elevators/import/{token_of(page)}/confirm")
    assert by_code("31105101049000000031").manufacturer == "通力电梯有限公司"


def test_gbk_file_with_chinese_content(client, world, login_as):
    login_as("admin")
    site = make_site(world.own.org, name="锦江花园二期")
    db.session.commit()
    row = full_row(
        "31105101049000000041", "锦江花园二期", world.own.officer.email, building="7号楼"
    )
    data = to_csv(table([row]), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    page = upload(client, data).get_data(as_text=True)
    assert 'data-testid="encoding">GB18030 (GBK)<' in page
    client.post(f"/elevators/import/{token_of(page)}/confirm")
    elevator = by_code("31105101049000000041")
    assert elevator.site_id == site.id
    assert elevator.building == "7号楼"
    assert elevator.kind == ElevatorKind.traction
    assert elevator.last_inspection_result == InspectionResult.passed


def bad_file(world) -> bytes:  # type: ignore[no-untyped-def]
    site, officer = world.own.site.name, world.own.officer.email
    existing = world.own.elevators[0].equipment_code
    rows = [
        full_row("31105101049000000051", site, officer),  # row 2: good
        full_row("31105101049000000052", "不存在的小区", officer),  # 3: unknown site
        full_row("31105101049000000051", site, officer),  # 4: repeats row 2
        full_row(existing, site, officer),  # 5: already in the database
        full_row("31105101049000000055", site, officer, acceptance_date="2019-13-45"),  # 6
        full_row("31105101049000000056", site, officer, rated_load_kg="-100"),  # 7
        full_row("31105101049000000057", site, officer, kind="电动车"),  # 8
        full_row("31105101049000000058", site, world.foreign.officer.email),  # 9
    ]
    return to_csv(table(rows))


def test_every_bad_row_is_reported_with_row_and_column(app, world):
    with force_locale("en"):
        result = csv_io.parse_elevators(bad_file(world), world.own.org)
        found = {(p.row, p.column, p.message) for p in result.problems}
    assert not result.ok
    assert found == {
        (3, "小区/项目", "Your company has no site named 不存在的小区."),
        (4, "设备代码", "The equipment code 31105101049000000051 is also on row 2."),
        (5, "设备代码", "Another elevator already has this equipment code."),
        (6, "验收日期", "Enter a date as YYYY-MM-DD or YYYY/MM/DD."),
        (7, "额定载重量(kg)", "Must be greater than zero."),
        (
            8,
            "电梯类型/类别",
            "Unknown value 电动车; use one of: traction 曳引驱动乘客电梯 / freight 载货电梯 / "
            "hydraulic 液压电梯 / escalator 自动扶梯 / moving_walk 自动人行道.",
        ),
        (
            9,
            "安全员",
            f"{world.foreign.officer.email} is not an active safety officer of your company.",
        ),
    }
    assert [row.number for row in result.rows if not row.problems] == [2]
    assert result.bad_rows == 7


def test_preview_shows_every_error_no_confirm_and_writes_nothing(
    app, client, world, login_as, english
):
    login_as("admin")
    before = elevator_count()
    audits = db.session.scalar(select(func.count(AuditEntry.id)))
    response = upload(client, bad_file(world))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-testid="error-count">7<' in page
    assert 'data-testid="bad-row-count">7<' in page
    assert 'data-testid="import-refused"' in page
    assert "/confirm" not in page
    assert 'data-testid="confirm-import"' not in page
    for row, column in [
        (3, "小区/项目"),
        (4, "设备代码"),
        (5, "设备代码"),
        (6, "验收日期"),
        (7, "额定载重量(kg)"),
        (8, "电梯类型/类别"),
        (9, "安全员"),
    ]:
        assert re.search(rf"<td[^>]*>{row}</td>\s*<td[^>]*>{re.escape(column)}</td>", page), (
            row,
            column,
        )
    assert "Your company has no site named 不存在的小区." in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script (CSP)
    assert "style=" not in page
    assert elevator_count() == before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audits
    assert stored_uploads(app) == []  # nothing kept: there is nothing to confirm


def test_missing_required_columns_are_reported_on_row_one(app, world):
    rows = [["设备代码", "楼栋"], ["31105101049000000061", "1栋"]]
    with force_locale("en"):
        result = csv_io.parse_elevators(to_csv(rows), world.own.org)
    assert {(p.row, p.column, p.message) for p in result.problems} == {
        (1, "小区/项目", "This column is required."),
        (1, "电梯类型/类别", "This column is required."),
        (1, "安全员", "This column is required."),
    }


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "elevators.csv", "The file is empty."),
        (b"PK\x03\x04rest-of-a-zip", "elevators.csv", "This is an Excel workbook"),
        (b"a,b\n1,2\n", "elevators.xlsx", "Choose a CSV file (.csv)"),
        ("设备代码,小区/项目\n".encode(), "elevators.csv", "no data rows"),
    ],
)
def test_unreadable_uploads_get_a_readable_error(client, login_as, english, data, name, message):
    login_as("admin")
    response = upload(client, data, name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'data-testid="import-form"' in page


def test_too_large_upload(app, client, login_as, english):
    login_as("admin")
    app.config["MAX_IMPORT_BYTES"] = 100
    page = upload(client, b"x" * 101).get_data(as_text=True)
    assert "The file is larger than" in page


def test_no_file_chosen(client, login_as, english):
    login_as("admin")
    page = client.post("/elevators/import", data={}).get_data(as_text=True)
    assert "Choose a CSV file to upload." in page


def test_confirm_with_another_users_or_unknown_token_is_404(app, client, world, login_as):
    login_as("admin")
    row = full_row("31105101049000000071", world.own.site.name, world.own.officer.email)
    token = token_of(upload(client, to_csv(table([row]))).get_data(as_text=True))

    other_admin = make_user(world.own.org, Role.admin)
    db.session.commit()
    for user in (world.foreign.admin, other_admin):
        log_in(client, user)
        assert client.post(f"/elevators/import/{token}/confirm").status_code == 404
    log_in(client, world.own.admin)
    assert client.post(f"/elevators/import/{'0' * 32}/confirm").status_code == 404
    assert client.post("/elevators/import/..%2F..%2Fconfig/confirm").status_code == 404
    assert elevator_count() == 4

    assert client.post(f"/elevators/import/{token}/confirm").status_code == 302
    assert by_code("31105101049000000071").site_id == world.own.site.id
    assert client.post(f"/elevators/import/{token}/confirm").status_code == 404  # used up


def test_confirm_rechecks_and_writes_nothing_if_the_data_changed(client, world, login_as):
    login_as("admin")
    rows = [
        full_row("31105101049000000081", world.own.site.name, world.own.officer.email),
        full_row("31105101049000000082", world.own.site.name, world.own.officer.email),
    ]
    token = token_of(upload(client, to_csv(table(rows))).get_data(as_text=True))
    make_elevator(world.own.site, world.own.officer, equipment_code="31105101049000000082")
    db.session.commit()
    response = client.post(f"/elevators/import/{token}/confirm")
    assert response.status_code == 200
    assert 'data-testid="error-count">1<' in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(Elevator).where(Elevator.equipment_code == "31105101049000000081"))
        is None
    )


@pytest.mark.parametrize(
    "role", ["safety_director", "safety_officer", "contractor_manager", "technician", "regulator"]
)
def test_only_property_admins_may_import(client, login_as, role):
    login_as(role)
    assert client.get("/elevators/import").status_code == 403
    data = {"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")}
    response = client.post("/elevators/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 403
    assert client.post(f"/elevators/import/{'a' * 32}/confirm").status_code == 403


def test_import_needs_a_login(client):
    response = client.get("/elevators/import")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/elevators/export.csv").status_code == 302


def test_import_page_lists_the_columns(client, login_as):
    login_as("admin")
    page = client.get("/elevators/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    for column in csv_io.COLUMNS:
        assert column.zh in page
        assert column.key in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script (CSP)
    assert "style=" not in page
    assert "<style" not in page


# --- export -------------------------------------------------------------------


def test_export_is_excel_ready_with_a_dated_name_and_audited(client, world, login_as):
    admin = login_as("admin")
    response = client.get("/elevators/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="elevators-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    rows = read_export(body)
    assert list(rows[0]) == [column.zh for column in csv_io.COLUMNS]
    assert {r["设备代码"] for r in rows} == {e.equipment_code for e in world.own.elevators}
    first = next(r for r in rows if r["设备代码"] == world.own.elevators[0].equipment_code)
    assert first["小区/项目"] == world.own.site.name
    assert first["安全员"] == world.own.officer.email
    assert first["电梯类型/类别"] == "曳引驱动乘客电梯"
    assert first["状态"] == "在用"
    assert first["验收日期"] == "2015-06-01"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry is not None
    assert (entry.user_id, entry.organisation_id) == (admin.id, world.own.org.id)
    assert entry.changes_dict["rows"] == [None, 2]


def test_export_in_english_for_english_users(client, world, login_as, english):
    login_as("admin")
    rows = read_export(client.get("/elevators/export.csv").get_data())
    assert list(rows[0]) == [column.key for column in csv_io.COLUMNS]
    assert {r["kind"] for r in rows} == {"traction"}
    assert {r["status"] for r in rows} == {"in_service"}


def test_export_as_contractor_holds_only_its_contracted_elevators(client, world, login_as):
    uncontracted = make_elevator(world.own.site, world.own.officer)
    other = make_org(OrgKind.contractor)
    make_contract(make_elevator(world.own.site, world.own.officer), other)
    db.session.commit()
    login_as("contractor_manager")
    rows = read_export(client.get("/elevators/export.csv").get_data())
    codes = {r["设备代码"] for r in rows}
    assert codes == {e.equipment_code for e in world.own.elevators}
    assert uncontracted.equipment_code not in codes


def test_export_as_regulator_holds_its_district(client, world, login_as):
    login_as("regulator", side="foreign")
    rows = read_export(client.get("/elevators/export.csv").get_data())
    assert {r["设备代码"] for r in rows} == {e.equipment_code for e in world.foreign.elevators}


def test_export_respects_the_search_and_status_filters(client, world, login_as):
    first, second = world.own.elevators
    second.status = ElevatorStatus.out_of_service
    db.session.commit()
    login_as("admin")
    by_status = read_export(client.get("/elevators/export.csv?status=out_of_service").get_data())
    assert [r["设备代码"] for r in by_status] == [second.equipment_code]
    assert by_status[0]["状态"] == "停用"
    by_text = read_export(
        client.get(f"/elevators/export.csv?q={first.equipment_code[-6:]}").get_data()
    )
    assert [r["设备代码"] for r in by_text] == [first.equipment_code]
    nothing = read_export(
        client.get(f"/elevators/export.csv?q={first.equipment_code}&status=out_of_service").data
    )
    assert nothing == []


def test_export_guards_formulas_and_the_import_undoes_it(app, world):
    elevator = world.own.elevators[0]
    elevator.notes = '=HYPERLINK("http://evil")'
    elevator.model = "-"
    db.session.commit()
    body = "".join(csv_io.export_lines(csv_io.company_elevators(world.own.org))).encode()
    rows = read_export(body)
    exported = next(r for r in rows if r["设备代码"] == elevator.equipment_code)
    assert exported["备注"] == '\'=HYPERLINK("http://evil")'
    assert exported["型号"] == "'-"
    with force_locale("en"):
        again = csv_io.parse_elevators(body, world.own.org)
    values = next(r.values for r in again.rows if r.cells[0] == elevator.equipment_code)
    assert values["notes"] == '=HYPERLINK("http://evil")'
    assert values["model"] == "-"


def test_export_keeps_long_codes_as_text_for_excel(app, world):
    elevator = world.own.elevators[0]
    body = "".join(csv_io.export_lines(csv_io.company_elevators(world.own.org))).encode()
    raw = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    codes = [row[0] for row in raw[1:]]
    assert f"\t{elevator.equipment_code}" in codes  # a tab keeps Excel from rounding it


def test_code_that_excel_turned_into_a_number_is_refused(app, world):
    row = full_row("3.11051E+19", world.own.site.name, world.own.officer.email)
    with force_locale("en"):
        result = csv_io.parse_elevators(to_csv(table([row])), world.own.org)
    [problem] = result.problems
    assert (problem.row, problem.column) == (2, "设备代码")
    assert problem.message.startswith("Excel has turned this code into a number (3.11051E+19)")


# --- round trip -----------------------------------------------------------------


@pytest.fixture
def rich_elevator(world):  # type: ignore[no-untyped-def]
    """An elevator with every column filled, including awkward text."""
    elevator = make_elevator(
        world.own.site,
        world.own.officer,
        registration_no="梯11川A12345",
        rescue_code="510112345",
        kind=ElevatorKind.moving_walk,
        manufacturer="迅达(中国)电梯有限公司",
        model='9500, "AE"',
        factory_no="=SUM(A1)",
        rated_load_kg=3500,
        rated_speed_ms=Decimal("0.65"),
        floors=2,
        stops=2,
        building="商业楼",
        unit="B区",
        car_no="扶梯3",
        acceptance_date=date(2012, 3, 4),
        last_inspection_date=date(2025, 3, 1),
        last_inspection_result=InspectionResult.passed_after_rectification,
        next_inspection_due=date(2026, 3, 1),
        use_sign_valid_until=date(2026, 3, 31),
        status=ElevatorStatus.out_of_service,
        notes='第一行\n第二行, with "quotes"',
    )
    db.session.commit()
    return elevator


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_export_reimports_into_a_fresh_company_with_every_column(
    client, world, login_as, rich_elevator, locale
):
    admin = login_as("admin")
    admin.locale = locale
    db.session.commit()
    exported = client.get("/elevators/export.csv").get_data()

    fresh = make_org(OrgKind.property_company)
    fresh_admin = make_user(fresh, Role.admin, locale=locale)
    fresh_officer = make_user(fresh, Role.safety_officer)
    make_site(fresh, name=world.own.site.name)
    db.session.commit()
    # Codes are unique across the platform and officers are people of the company:
    # give the rows new codes and the new company's officer, and keep everything else.
    reader = csv.reader(io.StringIO(exported[3:].decode("utf-8")))
    header, *rows = list(reader)
    code_at = header.index(ZH["equipment_code"] if locale != "en" else "equipment_code")
    officer_at = header.index(ZH["safety_officer"] if locale != "en" else "safety_officer")
    for row in rows:
        row[code_at] = "R" + row[code_at]
        row[officer_at] = fresh_officer.email
    edited = b"\xef\xbb\xbf" + to_csv([header, *rows])

    log_in(client, fresh_admin)
    page = upload(client, edited).get_data(as_text=True)
    assert 'data-testid="error-count">0<' in page
    assert client.post(f"/elevators/import/{token_of(page)}/confirm").status_code == 302

    originals = [rich_elevator, *world.own.elevators]
    for original in originals:
        copy = by_code("R" + original.equipment_code)
        assert copy.site.organisation_id == fresh.id
        assert copy.site.name == original.site.name
        assert copy.safety_officer_id == fresh_officer.id
        for column in csv_io.COLUMNS:
            if column.key in ("equipment_code", "site", "safety_officer"):
                continue
            assert getattr(copy, column.key) == getattr(original, column.key), column.key


# --- command line -----------------------------------------------------------------


def test_cli_import(runner, world, tmp_path):
    path = tmp_path / "电梯台账.csv"
    rows = [
        full_row("31105101049000000091", world.own.site.name, world.own.officer.email),
        full_row("31105101049000000092", world.own.site.name, world.own.officer.email.upper()),
    ]
    path.write_bytes(to_csv(table(rows), encoding="gbk"))
    result = runner.invoke(
        args=["registry", "import", str(path), "--org", world.own.org.name, "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "2 rows, encoding GB18030 (GBK)" in result.output
    assert f"2 elevators imported into {world.own.org.name}." in result.output
    imported = [by_code("31105101049000000091"), by_code("31105101049000000092")]
    assert all(e.site_id == world.own.site.id for e in imported)
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "Elevator",
            AuditEntry.object_id.in_([e.id for e in imported]),
        )
    ).all()
    assert len(entries) == 2
    assert {(e.action, e.user_id, e.organisation_id) for e in entries} == {
        ("create", None, world.own.org.id)
    }
    summary = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert summary is not None
    assert (summary.user_id, summary.organisation_id) == (None, world.own.org.id)


def test_cli_import_with_errors_exits_1_and_writes_nothing(runner, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bad_file(world))
    before = elevator_count()
    audits = db.session.scalar(select(func.count(AuditEntry.id)))
    result = runner.invoke(
        args=["registry", "import", str(path), "--org", world.own.org.name, "--lang", "en"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert len(lines) == 7
    assert "row 3, column 小区/项目: Your company has no site named 不存在的小区." in lines
    assert "row 6, column 验收日期: Enter a date as YYYY-MM-DD or YYYY/MM/DD." in lines
    assert "row 7, column 额定载重量(kg): Must be greater than zero." in lines
    assert "7 errors; nothing was imported." in result.output
    db.session.expire_all()
    assert elevator_count() == before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audits


def test_cli_dry_run_writes_nothing(runner, world, tmp_path):
    path = tmp_path / "good.csv"
    row = full_row("31105101049000000101", world.own.site.name, world.own.officer.email)
    path.write_bytes(to_csv(table([row])))
    before = elevator_count()
    result = runner.invoke(
        args=[
            "registry",
            "import",
            str(path),
            "--org",
            world.own.org.name,
            "--dry-run",
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 row is good; nothing was written (dry run)." in result.output
    db.session.expire_all()
    assert elevator_count() == before


def test_cli_long_file_shows_progress(runner, world, tmp_path):
    path = tmp_path / "long.csv"
    rows = [
        full_row(f"311051010480{n:08d}", world.own.site.name, world.own.officer.email)
        for n in range(250)
    ]
    path.write_bytes(to_csv(table(rows)))
    result = runner.invoke(
        args=[
            "registry",
            "import",
            str(path),
            "--org",
            world.own.org.name,
            "--dry-run",
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Checking rows" in result.output
    assert "250 rows are good" in result.output


def test_cli_unknown_company(runner, world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a\n1\n")
    result = runner.invoke(args=["registry", "import", str(path), "--org", "No such company"])
    assert result.exit_code == 1
    assert "No property company named" in result.output
    contractor = runner.invoke(
        args=["registry", "export", "--org", world.own.contractor.name, "-o", str(path)]
    )
    assert contractor.exit_code == 1


def test_cli_export_then_import_into_an_empty_company(runner, world, tmp_path, rich_elevator):
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["registry", "export", "--org", world.own.org.name, "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = out.read_bytes()
    rows = read_export(body)
    assert {r["设备代码"] for r in rows} == {
        e.equipment_code for e in [*world.own.elevators, rich_elevator]
    }
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry is not None
    assert (entry.user_id, entry.organisation_id) == (None, world.own.org.id)

    fresh = make_org(OrgKind.property_company)
    officer = make_user(fresh, Role.safety_officer)
    make_site(fresh, name=world.own.site.name)
    db.session.commit()
    header, *records = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    for record in records:
        record[0] = "N" + record[0]
        record[header.index("安全员")] = officer.email
    edited = tmp_path / "edited.csv"
    edited.write_bytes(b"\xef\xbb\xbf" + to_csv([header, *records]))
    imported = runner.invoke(args=["registry", "import", str(edited), "--org", fresh.name])
    assert imported.exit_code == 0, imported.output
    copy = by_code("N" + rich_elevator.equipment_code)
    for column in csv_io.COLUMNS:
        if column.key not in ("equipment_code", "site", "safety_officer"):
            assert getattr(copy, column.key) == getattr(rich_elevator, column.key), column.key


def test_cell_formats_and_repeated_columns(app, world):
    site, officer = world.own.site.name, world.own.officer.email
    rows = [
        full_row(
            "31105101049000000111",
            site,
            officer,
            rated_load_kg="1,000",
            acceptance_date="2019/6/1",
            kind="Escalator",
            status="注销",
        ),
        full_row("31105101049000000112", site, officer, rated_speed_ms="1,75"),
        full_row("31105101049000000113", site, officer, acceptance_date="2019.06.01"),
        full_row("31105101049000000114", site, officer, floors="2.5", stops="0"),
    ]
    with force_locale("en"):
        result = csv_io.parse_elevators(to_csv(table(rows)), world.own.org)
        found = {(p.row, p.column, p.message) for p in result.problems}
        repeated = csv_io.parse_elevators(
            to_csv([["设备代码", "equipment_code"], ["A", "B"]]), world.own.org
        )
    first = result.rows[0]
    assert first.problems == []
    assert first.values["rated_load_kg"] == 1000
    assert first.values["acceptance_date"] == date(2019, 6, 1)
    assert first.values["kind"] == ElevatorKind.escalator
    assert first.values["status"] == ElevatorStatus.decommissioned
    assert found == {
        (3, "额定速度(m/s)", "Enter a number, e.g. 1.75."),
        (4, "验收日期", "Enter a date as YYYY-MM-DD or YYYY/MM/DD."),
        (5, "层数", "Enter a whole number."),
        (5, "站数", "Must be greater than zero."),
    }
    assert (1, "equipment_code", "Repeats the column 设备代码.") in {
        (p.row, p.column, p.message) for p in repeated.problems
    }
