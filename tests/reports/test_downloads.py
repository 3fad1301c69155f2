"""Download routes: scope as on every page, signed PDFs, an audit entry per download."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.extensions import db
from elevator_safety.reports.verifying import check_pdf, check_signature
from elevator_safety.scoping import local_today
from tests.reports import helpers as h


def downloads() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "download")))


def file_name(response) -> str:  # type: ignore[no-untyped-def]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    return unquote(disposition.split("filename*=UTF-8''")[1])


def assert_sent(response, object_type: str, object_id: int | None, user) -> str:  # type: ignore[no-untyped-def]
    """A signed PDF attachment, and its audit entry naming the object and the file."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert check_signature(response.data).ok
    name = file_name(response)
    entry = downloads()[-1]
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        object_type,
        object_id,
        name,
    )
    assert (entry.user_id, entry.organisation_id) == (user.id, user.organisation_id)
    return name


def test_record_sheet_download(client, world, login_as):
    side = h.chinese_names(world)
    record = h.patrol(side)
    user = login_as("regulator")
    response = client.get(f"/reports/records/{record.id}.pdf")
    name = assert_sent(response, "record", record.id, user)
    assert name.startswith("日常巡查记录_")
    assert side.elevators[0].equipment_code in name
    checked = check_pdf(response.data)  # the verification lines read back, as a checker does
    assert checked.ok
    assert [check.value for check in checked.hashes] == [record.content_hash]


def test_archive_download_defaults_to_the_last_12_months(client, world, login_as):
    side = h.chinese_names(world)
    h.patrol(side)
    user = login_as("technician")
    elevator = side.elevators[0]
    response = client.get(f"/reports/elevators/{elevator.id}/archive.pdf")
    name = assert_sent(response, "elevator", elevator.id, user)
    checked = check_pdf(response.data)
    assert checked.ok
    assert {check.kind.value for check in checked.hashes} == {"content", "chain_head"}
    today = local_today()
    assert (
        name == f"电梯管理档案_{elevator.equipment_code}_{today - timedelta(days=364)}_{today}.pdf"
    )


def test_archive_download_of_a_period(client, world, login_as):
    side = h.chinese_names(world)
    user = login_as("safety_director")
    elevator = side.elevators[0]
    response = client.get(
        f"/reports/elevators/{elevator.id}/archive.pdf?from=2025-01-01&to=2025-06-30"
    )
    name = assert_sent(response, "elevator", elevator.id, user)
    assert name.endswith("_2025-01-01_2025-06-30.pdf")
    assert "2025-01-01 – 2025-06-30" in h.pdf_text(response.data)


def test_site_summary_and_register_downloads(client, world, login_as):
    side = h.chinese_names(world)
    h.site_registers(side)
    user = login_as("safety_officer")
    month = local_today().strftime("%Y-%m")
    response = client.get(f"/reports/sites/{side.site.id}/summary.pdf?month={month}")
    assert (
        assert_sent(response, "site", side.site.id, user)
        == f"月度合规汇总_{h.NAMES['site']}_{month}.pdf"
    )
    response = client.get(f"/reports/sites/{side.site.id}/register.pdf?register=keys")
    assert assert_sent(response, "site", side.site.id, user).startswith("特种钥匙及工具登记_")
    assert "K-01" in h.pdf_text(response.data)


def test_district_summary_download_is_the_regulators_own_district(client, world, login_as):
    h.chinese_names(world)
    user = login_as("regulator")
    response = client.get("/reports/district.pdf")
    name = assert_sent(response, "district", None, user)
    assert name.startswith(f"辖区月度汇总_{world.own.site.district_code}_")
    text = h.pdf_text(response.data)
    assert world.own.elevators[0].equipment_code in text or h.NAMES["org"] in text
    assert world.foreign.org.name not in text


@pytest.mark.parametrize(
    "role", ["regulator", "technician", "contractor_manager", "safety_officer"]
)
def test_out_of_scope_is_404_and_not_audited(client, world, login_as, role):
    foreign = world.foreign
    record = h.patrol(foreign)
    login_as(role)
    for url in (
        f"/reports/records/{record.id}.pdf",
        f"/reports/elevators/{foreign.elevators[0].id}/archive.pdf",
    ):
        assert client.get(url).status_code == 404, url
    if role in ("regulator", "safety_officer"):
        for url in (
            f"/reports/sites/{foreign.site.id}/summary.pdf",
            f"/reports/sites/{foreign.site.id}/register.pdf?register=keys",
        ):
            assert client.get(url).status_code == 404, url
    assert downloads() == []


def test_contractor_gets_only_its_contracted_elevators(client, world, login_as):
    from tests.factories import make_elevator

    own = world.own
    uncontracted = make_elevator(own.site, own.officer)
    db.session.commit()
    login_as("technician")
    assert client.get(f"/reports/elevators/{uncontracted.id}/archive.pdf").status_code == 404
    assert client.get(f"/reports/elevators/{own.elevators[0].id}/archive.pdf").status_code == 200


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("technician", "/reports/sites/{site}/summary.pdf"),
        ("contractor_manager", "/reports/sites/{site}/register.pdf?register=keys"),
        ("safety_director", "/reports/district.pdf"),
        ("admin", "/reports/district.pdf"),
        ("contractor_manager", "/reports/district.pdf"),
    ],
)
def test_refused_roles_get_403(client, world, login_as, role, url):
    login_as(role)
    assert client.get(url.format(site=world.own.site.id)).status_code == 403
    assert downloads() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/reports/elevators/{elevator}/archive.pdf?from=2025-13-01", "YYYY-MM-DD"),
        ("/reports/elevators/{elevator}/archive.pdf?from=yesterday", "YYYY-MM-DD"),
        ("/reports/elevators/{elevator}/archive.pdf?from=2025-06-01&to=2025-01-01", "after"),
        ("/reports/elevators/{elevator}/archive.pdf?from=2015-01-01&to=2025-01-01", "longer"),
        ("/reports/sites/{site}/summary.pdf?month=2025-1", "YYYY-MM"),
        ("/reports/sites/{site}/summary.pdf?month=2999-01", "2999-01"),
        ("/reports/sites/{site}/register.pdf?register=parking", "keys"),
    ],
)
def test_bad_arguments_are_400_with_a_clear_message(client, world, login_as, url, message, app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    login_as("safety_director")
    response = client.get(url.format(elevator=world.own.elevators[0].id, site=world.own.site.id))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert downloads() == []


def test_missing_font_answers_503_with_the_fix_and_audits_nothing(
    client, world, login_as, app, tmp_path
):
    app.config["REPORT_FONT_PATH"] = str(tmp_path / "none.ttc")
    record = h.patrol(world.own)
    login_as("safety_officer")
    response = client.get(f"/reports/records/{record.id}.pdf")
    assert response.status_code == 503
    assert "fonts-wqy-microhei" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "download"))
        == 0
    )


def test_anonymous_is_sent_to_login(client, world):
    record = h.patrol(world.own)
    response = client.get(f"/reports/records/{record.id}.pdf")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
