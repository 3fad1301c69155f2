"""Archives, registers and summaries: what each prints, on every page, in embedded fonts."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from elevator_safety.bench.generate import generate
from elevator_safety.compliance import engine
from elevator_safety.extensions import db
from elevator_safety.records.models import Record, RecordKind
from elevator_safety.records.services import chain_head
from elevator_safety.registry.models import Elevator
from elevator_safety.reports import render
from elevator_safety.reports.fonts import FontMissing
from elevator_safety.scoping import local_today
from tests.reports import helpers as h

FAR_PAST, FAR_FUTURE = date(2020, 1, 1), date(2035, 12, 31)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def written(write) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    write(out)
    data = out.getvalue()
    assert all(embedded == "yes" for _name, embedded in h.pdf_fonts(data))
    return data, h.pdf_text(data)


def test_archive_has_cover_contents_every_record_and_the_chain_head(world):
    side = h.chinese_names(world)
    patrol = h.patrol(side, fail="pit_shaft")
    h.correct(patrol, side, "items.pit_shaft.note", "底坑有积水", "笔误")
    h.reject(h.visit(side), side)
    elevator = side.elevators[0]
    data, text = written(
        lambda out: render.elevator_archive(elevator, FAR_PAST, FAR_FUTURE, side.regulator, out)
    )
    assert "电梯管理档案" in text
    for value in (elevator.equipment_code, elevator.registration_no, elevator.rescue_code):
        assert value in text
    assert h.NAMES["contractor"] in text
    assert h.NAMES["org"] in text
    assert "目录 Contents" in text
    assert "链校验 Chain verification" in text
    for record in Record.query.filter_by(elevator_id=elevator.id):
        assert f"内容哈希 Content hash: {record.content_hash}" in text.splitlines()
    head = chain_head(elevator.id)
    assert head is not None
    assert f"链头 Chain head: {head.chain_hash}" in text.splitlines()
    assert "校验通过" in text
    assert "底坑有积水" in text
    assert "底坑照明损坏" in text
    assert "已退回" in text
    total = h.page_count(data)
    assert re.search(rf"^{total} / {total}$", text, re.M)


def test_archive_contents_give_the_page_of_each_month(world):
    side = h.chinese_names(world)
    h.patrol(side)
    elevator = side.elevators[0]
    _data, text = written(
        lambda out: render.elevator_archive(elevator, FAR_PAST, FAR_FUTURE, None, out)
    )
    pages = text.split("\f")
    month = local_today().strftime("%Y-%m")
    contents = next(p for p in pages if "目录 Contents" in p)
    listed = re.search(rf"{month}.*?\n\n(\d+)\n", contents, re.S) or re.search(
        rf"{month}[^\n]*\n(?:[^\n]*\n)*?(\d+)\s*$", contents, re.M
    )
    assert listed is not None, contents
    number = int(listed.group(1))
    assert f"月份 Month {month}" in pages[number - 1]


def test_archive_keeps_to_its_period(world):
    side = h.chinese_names(world)
    record = h.patrol(side)
    elevator = side.elevators[0]
    past = local_today() - timedelta(days=30)
    _data, text = written(
        lambda out: render.elevator_archive(elevator, past - timedelta(days=7), past, None, out)
    )
    assert record.content_hash not in text
    assert "本期间无记录" in text
    head = chain_head(elevator.id)
    assert head is not None
    assert f"链头 Chain head: {head.chain_hash}" in text


def test_archive_of_a_long_history_streams_every_record(app):
    """Sixty days of generated history (patrols, maintenance, confirmations) all print."""
    generate(1, 60, seed=3)
    db.session.commit()
    elevator = db.session.query(Elevator).one()
    _data, text = written(
        lambda out: render.elevator_archive(elevator, FAR_PAST, FAR_FUTURE, None, out)
    )
    lines = set(text.splitlines())
    records = Record.query.filter_by(elevator_id=elevator.id).all()
    assert len(records) > 60
    missing = [r.seq for r in records if f"内容哈希 Content hash: {r.content_hash}" not in lines]
    assert not missing


@pytest.mark.parametrize(
    ("register", "expected"),
    [
        ("keys", ("K-01", "三角钥匙", h.NAMES["technician"], "T-1234", "盘车救援", "完好")),
        ("roster", ("刘值班", "13900000000", "监控室", "20")),
        ("video", ("4 / 4", "监控")),
        ("additions", ("轿厢广告框", "轿厢左壁")),
        ("inspections", ("JD-2025-0001", "成都市特种设备检验研究院")),
        ("drills", ("电梯困人应急预案", "困人救援演练")),
    ],
)
def test_registers_print_their_entries_signatures_and_hashes(world, register, expected):
    side = h.chinese_names(world)
    h.site_registers(side)
    _data, text = written(
        lambda out: render.register_sheet(
            side.site, register, FAR_PAST, FAR_FUTURE, side.officer, out
        )
    )
    assert h.NAMES["site"] in text
    for value in expected:
        assert flat(value) in flat(text), value
    assert h.NAMES["officer"] in text
    assert "已记录" in text
    assert "Register entry hash:" in text or "Content hash:" in text


def test_register_keeps_to_its_period(world):
    side = h.chinese_names(world)
    h.site_registers(side)
    past = local_today() - timedelta(days=60)
    _data, text = written(
        lambda out: render.register_sheet(side.site, "keys", past, past, side.officer, out)
    )
    assert "K-01" not in text
    assert "本期间无记录" in text


def test_site_summary_prints_matrix_due_items_lockouts_and_rectifications(world):
    side = h.chinese_names(world)
    h.patrol(side, fail="pit_shaft")
    h.late_entrapment(side)
    engine.evaluate()
    db.session.commit()
    _data, text = written(
        lambda out: render.site_summary(side.site, local_today(), side.director, out)
    )
    assert "月度合规汇总" in text
    assert h.NAMES["site"] in text
    for duty in ("D1", "D5", "D11"):
        assert duty in text
    for elevator in side.elevators:
        assert elevator.equipment_code in flat(text)
    assert "逾期及待办事项" in text
    assert "有未整改问题" in text
    assert "35:00" in text
    assert "超时" in text
    assert "底坑和井道" in text
    assert "待整改" in text


def test_district_summary_rates_and_late_rescues_are_bilingual(world):
    side = h.chinese_names(world)
    h.late_entrapment(side)
    engine.evaluate()
    db.session.commit()
    _data, text = written(
        lambda out: render.district_summary(
            side.site.district_code, local_today(), side.regulator, out
        )
    )
    assert "辖区月度汇总 District monthly summary" in text
    assert "各使用单位合规率 Compliance by property company" in text
    assert h.NAMES["org"] in text
    assert h.NAMES["contractor"] in text
    assert "本月救援超时 Late rescues of the month" in text
    assert side.elevators[0].equipment_code in flat(text)
    assert world.foreign.elevators[0].equipment_code not in flat(text)


@pytest.fixture
def bad_font(app, tmp_path):  # type: ignore[no-untyped-def]
    app.config["REPORT_FONT_PATH"] = str(tmp_path / "missing.ttc")
    return app


def test_a_missing_font_stops_generation_and_says_how_to_install_it(world, bad_font):
    out = io.BytesIO()
    with pytest.raises(FontMissing) as raised:
        render.elevator_archive(world.own.elevators[0], FAR_PAST, FAR_FUTURE, None, out)
    assert "fonts-wqy-microhei" in raised.value.message
    assert "REPORT_FONT_PATH" in raised.value.message
    assert out.getvalue() == b""


def test_a_file_that_is_not_a_font_is_refused(world, app, tmp_path):
    fake = tmp_path / "fake.ttf"
    fake.write_text("not a font")
    app.config["REPORT_FONT_PATH"] = str(fake)
    with pytest.raises(FontMissing):
        render.site_summary(world.own.site, local_today(), None, io.BytesIO())


def test_a_corrected_register_row_shows_the_correction_and_the_original(world):
    side = h.chinese_names(world)
    h.site_registers(side)
    inspection = Record.query.filter_by(kind=RecordKind.inspection).one()
    h.correct(inspection, side, "report_no", "JD-2025-0002", "报告编号录入错误")
    _data, text = written(
        lambda out: render.register_sheet(
            side.site, "inspections", FAR_PAST, FAR_FUTURE, side.officer, out
        )
    )
    for value in ("JD-2025-0002", "JD-2025-0001", "报告编号录入错误", "更正 Corrections:"):
        assert flat(value) in flat(text), value
