"""Record sheets: each kind prints its values in Chinese, signatures, corrections and hashes."""

from __future__ import annotations

import io
import re

import pytest

from elevator_safety.records.models import Record, RecordKind
from elevator_safety.reports import render
from elevator_safety.reports.verifying import verify_url
from tests.reports import helpers as h


def sheet(record: Record, user) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    """Return a record's sheet and its text."""
    out = io.BytesIO()
    render.record_sheet(record, user, out)
    data = out.getvalue()
    return data, h.pdf_text(data)


def flat(text: str) -> str:
    """Return the text without line breaks (table cells wrap)."""
    return re.sub(r"\s+", "", text)


def assert_verification(text: str, record: Record) -> None:
    """The contract's lines, each on one line, and the QR code's address."""
    assert f"内容哈希 Content hash: {record.content_hash}" in text.splitlines()
    assert f"链位置 Chain position: {record.seq}" in text.splitlines()
    assert verify_url(record.content_hash) in flat(text)


def test_patrol_sheet_prints_checklist_signature_photo_and_hashes(world):
    side = h.chinese_names(world)
    record = h.patrol(side, fail="pit_shaft", photo=True)
    data, text = sheet(record, side.officer)
    elevator = side.elevators[0]
    for value in (elevator.equipment_code, elevator.registration_no, elevator.rescue_code):
        assert value in text
    for value in (h.NAMES["officer"], h.NAMES["org"], h.NAMES["site"], "底坑照明损坏"):
        assert value in text
    assert "日常巡查记录" in text
    assert "底坑和井道（可见部分）无积水、无杂物" in flat(text)
    assert "异常" in text
    assert "正常" in text
    assert "提交" in text  # the signature's meaning
    assert record.occurred_at.astimezone(h.SHANGHAI).strftime("%Y-%m-%d %H:%M +0800") in text
    assert "/Subtype /Image" in data.decode("latin-1")  # the photo's thumbnail
    assert re.search(r"^1 / 2$", text, re.M) or re.search(r"^1 / 1$", text, re.M)
    assert_verification(text, record)


def test_the_printed_qr_code_scans_to_the_records_verification_page(world):
    side = h.chinese_names(world)
    record = h.patrol(side)
    data, _text = sheet(record, side.officer)
    assert h.qr_codes(data) == [verify_url(record.content_hash)]


def test_a_correction_prints_beside_the_original_with_author_reason_and_time(world):
    side = h.chinese_names(world)
    record = h.patrol(side, fail="pit_shaft")
    correction = h.correct(record, side, "items.pit_shaft.note", "底坑有积水", "笔误，应为积水")
    _data, text = sheet(record, side.officer)
    assert "底坑有积水" in text  # the corrected value
    assert "底坑照明损坏" in text  # the original, still visible
    assert "笔误，应为积水" in text  # the reason
    assert "已更正" in text  # the correction's signature meaning
    when = correction.occurred_at.astimezone(h.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert flat(when) in flat(text)
    assert text.count(h.NAMES["officer"]) >= 3  # author, submitter, corrector


def test_correction_record_prints_what_it_changed(world):
    side = h.chinese_names(world)
    record = h.patrol(side, fail="pit_shaft")
    correction = h.correct(record, side, "items.pit_shaft.note", "底坑有积水", "笔误")
    _data, text = sheet(correction, side.officer)
    assert "更正记录" in text
    assert "底坑照明损坏" in text
    assert "底坑有积水" in text
    assert "笔误" in text
    assert_verification(text, correction)


def test_maintenance_sheet_prints_technicians_times_items_and_rejection(world):
    side = h.chinese_names(world)
    visit = h.visit(side)
    rejection = h.reject(visit, side, reason="底坑未清洁，油污未处理")
    _data, text = sheet(visit, side.technician)
    for value in (h.NAMES["technician"], "T-1234", "李四", "T-5678", h.NAMES["contractor"]):
        assert value in text
    day = h.yesterday().isoformat()
    assert f"{day} 09:00 +0800" in text
    assert f"{day} 10:30 +0800" in text
    assert "半月" in text  # the items' level
    assert "制动器间隙已调整" in text
    assert "已调整" in text
    assert "已退回" in text  # the state and the rejection's signature meaning
    assert "底坑未清洁，油污未处理" in flat(text)
    assert_verification(text, visit)
    _data, text = sheet(rejection, side.officer)
    assert "维保记录退回" in text
    assert "底坑未清洁，油污未处理" in flat(text)
    assert visit.content_hash in flat(text)  # the content rejected, as signed
    assert f"Content hash: {visit.content_hash}" not in text  # not taken for this record's


def test_confirmed_maintenance_prints_the_confirmation(world):
    side = h.chinese_names(world)
    visit = h.visit(side)
    confirmation = h.confirm(visit, side)
    _data, text = sheet(visit, side.officer)
    assert "已现场监督确认" in text
    _data, text = sheet(confirmation, side.officer)
    assert "现场监督确认" in text
    assert "现场确认无误" in text
    assert_verification(text, confirmation)


def test_lockout_report_prints_every_step_and_the_late_rescue(world):
    side = h.chinese_names(world)
    lockout = h.late_entrapment(side)
    rescue = next(
        r
        for r in Record.query.filter_by(kind=RecordKind.lockout).order_by(Record.seq)
        if r.data["body"]["step"] == "rescue_arrived"
    )
    _data, text = sheet(rescue, side.technician)
    assert "停用与困人报告" in text
    for step in (
        "发起停用",
        "已张贴禁止使用告示",
        "已通知维保单位",
        "救援已到达",
        "被困人员已解救",
    ):
        assert step in text
    assert "35:00" in text
    assert "30" in text
    assert "超时" in text
    assert "交通拥堵" in text  # the reason given for the delay
    assert lockout.alarm_at is not None
    assert lockout.alarm_at.astimezone(h.SHANGHAI).strftime("%Y-%m-%d %H:%M +0800") in text
    assert_verification(text, rescue)


def test_rectification_prints_the_notice_and_its_closure(world):
    side = h.chinese_names(world)
    finding, verified = h.closed_rectification(side)
    _data, text = sheet(verified, side.director)
    assert "整改通知" in text
    assert "整改闭环" in text
    assert flat(finding.item_label) in flat(text)
    assert "已清理底坑积水" in text
    assert "复查合格" in text
    assert "已完成" in text
    assert "已验证" in text
    assert h.NAMES["director"] in text
    assert_verification(text, verified)


def test_handover_sheet_prints_parties_and_checklist(world):
    side = h.chinese_names(world)
    record = h.handed_over(side)[0]
    _data, text = sheet(record, side.manager)
    assert "移交检查记录" in text
    assert h.NAMES["contractor"] in text
    assert "新维保电梯工程有限公司" in text
    assert "资料齐全" in text
    assert "已移交" in text
    assert_verification(text, record)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (RecordKind.alarm_test, ("紧急报警装置测试记录", "刘值班")),
        (RecordKind.addition, ("加装及广告记录", "轿厢广告框")),
        (RecordKind.inspection, ("检验检测报告", "JD-2025-0001")),
    ],
)
def test_legal_duty_records_print_their_fields(world, kind, expected):
    side = h.chinese_names(world)
    h.site_registers(side)
    record = Record.query.filter_by(kind=kind).one()
    _data, text = sheet(record, side.officer)
    for value in expected:
        assert value in flat(text)
    assert "已记录" in text or "提交" in text
    assert_verification(text, record)


def test_misuse_sheet(world):
    side = h.chinese_names(world)
    record = h.misuse(side)
    _data, text = sheet(record, side.officer)
    assert "违规乘用记录" in text
    assert "乘客扒门" in text
    assert_verification(text, record)


def test_long_table_repeats_its_header_on_every_page(world):
    side = h.chinese_names(world)
    visit = h.visit(side, level="annual")
    data, text = sheet(visit, side.technician)
    pages = [p for p in text.split("\f") if "A-" in p]
    assert len(pages) >= 2  # the 76 items of an annual visit run over pages
    for page in pages:
        assert "维保项目 Item" in page
    total = h.page_count(data)
    assert re.search(rf"^{total} / {total}$", text, re.M)


def test_every_font_is_embedded(world):
    side = h.chinese_names(world)
    record = h.patrol(side, fail="pit_shaft", photo=True)
    h.correct(record, side, "items.pit_shaft.note", "底坑有积水", "笔误")
    data, _text = sheet(record, side.officer)
    fonts = h.pdf_fonts(data)
    assert fonts
    assert all(embedded == "yes" for _name, embedded in fonts), fonts
    assert any("WenQuanYi" in name for name, _embedded in fonts)
    assert not any(name.startswith(("Helvetica", "Courier", "STSong")) for name, _e in fonts)
