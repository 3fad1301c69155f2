"""The duty roster (D6): shifts, withdrawals, gap detection per local day, gap findings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import FindingSource, FindingStatus
from elevator_safety.registers import chain, rules, services
from elevator_safety.registers.models import RegisterKind
from elevator_safety.registry.models import Site
from tests.factories import PASSWORD
from tests.registers.conftest import entries, findings, local_input, sh

TODAY = date(2026, 5, 4)


def shift(site: Site, author, start, end, person: str = "Wang"):  # type: ignore[no-untyped-def]
    entry = chain.signed(
        site,
        RegisterKind.roster_shift,
        {"person": person, "phone": None, "place": "值班室"},
        author,
        starts_at=start,
        ends_at=end,
    )
    db.session.commit()
    return entry


def cover(site: Site, author, first: date, days: int):  # type: ignore[no-untyped-def]
    """Cover whole days with two 12-hour shifts each, the second crossing into the next day."""
    made = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start = sh(day.year, day.month, day.day, 0)
        made.append(shift(site, author, start, start + timedelta(hours=12)))
        made.append(shift(site, author, start + timedelta(hours=12), start + timedelta(hours=24)))
    return made


def test_site_roster_gaps_per_local_day(world, frozen):
    site, officer = world.own.site, world.own.officer
    shift(site, officer, sh(2026, 5, 4, 0), sh(2026, 5, 4, 8))
    shift(site, officer, sh(2026, 5, 4, 8), sh(2026, 5, 5, 8))  # crosses midnight
    result = rules.site_roster_gaps(site, 3, now_utc())
    assert [day for day, _gaps in result] == [TODAY, date(2026, 5, 5), date(2026, 5, 6)]
    assert result[0][1] == []
    assert result[1][1] == [(sh(2026, 5, 5, 8), sh(2026, 5, 6))]
    assert result[2][1] == [(sh(2026, 5, 6), sh(2026, 5, 7))]


def test_site_roster_gaps_ignore_other_sites_and_withdrawn_shifts(world, frozen):
    site, officer = world.own.site, world.own.officer
    shift(world.foreign.site, world.foreign.officer, sh(2026, 5, 4), sh(2026, 5, 5))
    day = shift(site, officer, sh(2026, 5, 4), sh(2026, 5, 4, 12))
    shift(site, officer, sh(2026, 5, 4, 12), sh(2026, 5, 5))
    assert rules.site_roster_gaps(site, 1, now_utc()) == [(TODAY, [])]
    services.withdraw_shift(site, day, officer, PASSWORD, reason="Wrong person")
    db.session.commit()
    assert rules.site_roster_gaps(site, 1, now_utc()) == [
        (TODAY, [(sh(2026, 5, 4), sh(2026, 5, 4, 12))])
    ]


def test_site_roster_gaps_use_the_sites_zone(world, frozen):
    site, officer = world.own.site, world.own.officer
    site.timezone = "Asia/Urumqi"  # UTC+6, no daylight saving
    db.session.commit()
    # 00:00-24:00 in Urumqi is 02:00 (that day) to 02:00 (the next day) in Shanghai.
    shift(site, officer, sh(2026, 5, 4, 2), sh(2026, 5, 5, 2))
    assert rules.site_roster_gaps(site, 1, now_utc()) == [(TODAY, [])]


def test_adding_a_shift_opens_no_finding_the_daily_check_opens_one_per_gap_day(world, frozen):
    site, officer = world.own.site, world.own.officer
    services.add_shift(
        site,
        officer,
        PASSWORD,
        starts_at=sh(2026, 5, 4, 8),
        ends_at=sh(2026, 5, 4, 20),
        person="Li",
        phone="138",
        place=None,
    )
    db.session.commit()
    # A shift only closes gaps: typing a roster in, shift by shift, raises nothing.
    assert findings(FindingSource.roster) == []
    opened = services.record_roster_gap_findings(site, now_utc(), officer)
    db.session.commit()
    assert sorted(f.item_code for f in opened) == ["roster_gap:2026-05-04", "roster_gap:2026-05-05"]
    today = next(f for f in opened if f.item_code.endswith("05-04"))
    assert today.duty == "D6"
    assert today.site_id == site.id
    assert today.elevator_id is None
    assert "00:00–08:00" in today.description
    assert "20:00–24:00" in today.description
    assert today.owner_organisation_id == site.organisation_id

    # Another shift that still leaves gaps, and the check again: no duplicate findings.
    services.add_shift(
        site,
        officer,
        PASSWORD,
        starts_at=sh(2026, 5, 4, 20),
        ends_at=sh(2026, 5, 5, 8),
        person="Zhao",
        phone=None,
        place=None,
    )
    db.session.commit()
    assert len(findings(FindingSource.roster)) == 2
    services.record_roster_gap_findings(site, now_utc(), None)
    db.session.commit()
    assert len(findings(FindingSource.roster)) == 2


def test_no_finding_when_today_and_tomorrow_are_covered(world, frozen):
    site, officer = world.own.site, world.own.officer
    cover(site, officer, TODAY, 2)
    assert services.record_roster_gap_findings(site, now_utc(), officer) == []
    # A gap the day after tomorrow is shown on the roster but is not a finding yet.
    assert rules.site_roster_gaps(site, 3, now_utc())[2][1] != []


def test_a_verified_finding_does_not_stop_a_new_one(world, frozen):
    site, _officer = world.own.site, world.own.officer
    first = services.record_roster_gap_findings(site, now_utc(), None)
    assert len(first) == 2
    for finding in first:
        finding.status = FindingStatus.verified
    db.session.commit()
    again = services.record_roster_gap_findings(site, now_utc(), None)
    assert len(again) == 2


def test_withdrawn_shift_creates_a_gap_finding(world, frozen):
    site, officer = world.own.site, world.own.officer
    made = cover(site, officer, TODAY, 2)
    assert findings(FindingSource.roster) == []
    withdrawal = services.withdraw_shift(site, made[1], officer, PASSWORD, reason="Sick")
    db.session.commit()
    (finding,) = findings(FindingSource.roster)
    assert finding.item_code == "roster_gap:2026-05-04"
    assert finding.source_entry_id == withdrawal.id
    assert "12:00–24:00" in finding.description
    assert withdrawal.subject_id == made[1].id
    assert withdrawal.data["signatures"][0]["meaning"] == "cancelled"
    assert withdrawal.data["signatures"][0]["reason"] == "Sick"
    assert chain.verify_sites([site.id]).ok


def test_withdrawal_refusals(world, frozen):
    site, officer = world.own.site, world.own.officer
    made = shift(site, officer, sh(2026, 5, 4), sh(2026, 5, 5))
    for kwargs, field in (
        ({"reason": " "}, "reason"),
        ({"reason": "x", "password": "wrong"}, "password"),
    ):
        password = kwargs.pop("password", PASSWORD)
        with pytest.raises(DomainError) as refused:
            services.withdraw_shift(site, made, officer, password, **kwargs)
        assert refused.value.field == field
        db.session.rollback()
    services.withdraw_shift(site, made, officer, PASSWORD, reason="Mistake")
    db.session.commit()
    with pytest.raises(DomainError, match="already withdrawn"):
        services.withdraw_shift(site, made, officer, PASSWORD, reason="Again")


def test_shift_refusals(world, frozen):
    site, officer = world.own.site, world.own.officer
    cases = [
        ({"starts_at": sh(2026, 5, 4, 8), "ends_at": sh(2026, 5, 4, 8)}, "ends_at"),
        ({"starts_at": sh(2026, 5, 4, 8), "ends_at": sh(2026, 5, 4, 7)}, "ends_at"),
        ({"starts_at": sh(2026, 5, 4), "ends_at": sh(2026, 5, 6, 0, 1)}, "ends_at"),
        ({"starts_at": sh(2026, 5, 4), "ends_at": sh(2026, 5, 4, 8), "person": ""}, "person"),
    ]
    for values, field in cases:
        kwargs = {"person": "Wang", "phone": None, "place": None} | values
        with pytest.raises(DomainError) as refused:
            services.add_shift(site, officer, PASSWORD, **kwargs)
        assert refused.value.field == field, values
        db.session.rollback()
    assert entries() == []


# --- pages --------------------------------------------------------------------------


def test_add_shift_page(client, login_as, world, frozen):
    officer = login_as("safety_officer")
    site = world.own.site
    form = client.get(f"/sites/{site.id}/roster/new")
    assert form.status_code == 200
    assert 'value="2026-05-04T10:00"' in form.get_data(as_text=True)
    response = client.post(
        f"/sites/{site.id}/roster/new",
        data={
            "starts_at": "2026-05-04T00:00",
            "ends_at": "2026-05-05T00:00",
            "person": "Wang Wu",
            "phone": "13800000000",
            "place": "值班室",
            "password": PASSWORD,
            "idempotency_key": "shift-1",
        },
    )
    assert response.status_code == 302
    (made,) = entries(RegisterKind.roster_shift)
    assert made.starts_at == sh(2026, 5, 4)
    assert made.ends_at == sh(2026, 5, 5)
    assert made.author_id == officer.id
    assert made.data["body"] == {"person": "Wang Wu", "phone": "13800000000", "place": "值班室"}
    # Tomorrow is empty: no finding yet (adding cannot open a gap), but a warning.
    assert findings(FindingSource.roster) == []
    page = client.get(response.headers["Location"], follow_redirects=False).get_data(as_text=True)
    assert "Wang Wu" in page
    assert "The roster still has a gap today or tomorrow." in page
    # The same form again: no second shift.
    again = client.post(
        f"/sites/{site.id}/roster/new",
        data={
            "starts_at": "2026-05-04T00:00",
            "ends_at": "2026-05-05T00:00",
            "person": "Wang Wu",
            "password": PASSWORD,
            "idempotency_key": "shift-1",
        },
    )
    assert again.status_code == 302
    assert f"/register-entries/{made.id}" in again.headers["Location"]
    assert len(entries(RegisterKind.roster_shift)) == 1


def test_add_shift_page_refusals_keep_values(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    response = client.post(
        f"/sites/{site.id}/roster/new",
        data={
            "starts_at": "2026-05-04T20:00",
            "ends_at": "2026-05-04T08:00",
            "person": "Kept Name",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The shift must end after it starts." in html
    assert "Kept Name" in html
    wrong = client.post(
        f"/sites/{site.id}/roster/new",
        data={
            "starts_at": "2026-05-04T08:00",
            "ends_at": "2026-05-04T20:00",
            "person": "X",
            "password": "nope",
        },
    )
    assert wrong.status_code == 422
    assert "Wrong password" in wrong.get_data(as_text=True)
    missing = client.post(f"/sites/{site.id}/roster/new", data={"starts_at": "not a time"})
    assert missing.status_code == 422
    assert "Enter a date and time" in missing.get_data(as_text=True)
    assert entries() == []
    assert findings() == []


def test_withdraw_page(client, login_as, world, frozen):
    site, officer = world.own.site, world.own.officer
    made = cover(site, officer, TODAY, 2)
    login_as("safety_director")
    url = f"/sites/{site.id}/roster/{made[0].id}/withdraw"
    assert client.get(url).status_code == 200
    refused = client.post(url, data={"reason": "", "password": PASSWORD})
    assert refused.status_code == 422
    response = client.post(url, data={"reason": "Entered twice", "password": PASSWORD})
    assert response.status_code == 302
    (withdrawal,) = entries(RegisterKind.roster_withdrawal)
    assert withdrawal.subject_id == made[0].id
    assert [f.item_code for f in findings(FindingSource.roster)] == ["roster_gap:2026-05-04"]
    again = client.post(url, data={"reason": "Again", "password": PASSWORD})
    assert again.status_code == 422
    assert len(entries(RegisterKind.roster_withdrawal)) == 1
    # A shift of another site, or an entry that is not a shift: 404.
    foreign = shift(world.foreign.site, world.foreign.officer, sh(2026, 5, 4), sh(2026, 5, 5))
    assert client.get(f"/sites/{site.id}/roster/{foreign.id}/withdraw").status_code == 404
    assert client.get(f"/sites/{site.id}/roster/{withdrawal.id}/withdraw").status_code == 404


def test_hub_shows_roster_gaps(client, login_as, world, frozen):
    site, officer = world.own.site, world.own.officer
    shift(site, officer, sh(2026, 5, 4, 0), sh(2026, 5, 4, 8), person="Morning Person")
    login_as("regulator")
    html = client.get(f"/sites/{site.id}/registers").get_data(as_text=True)
    assert "Morning Person" in html
    assert 'data-gap="08:00-24:00"' in html
    assert 'data-gap="00:00-24:00"' in html  # tomorrow
    assert "Add a shift" not in html  # regulators read only
    assert findings() == []  # viewing writes nothing


def test_local_input_helper_round_trip():
    assert local_input(sh(2026, 5, 4, 23, 5)) == "2026-05-04T23:05"


def test_check_roster_command_opens_gap_findings_once(world, runner, frozen):
    site, officer = world.own.site, world.own.officer
    cover(site, officer, TODAY, 1)  # today covered, tomorrow empty
    db.session.commit()
    result = runner.invoke(args=["registers", "check-roster"])
    assert result.exit_code == 0, result.output
    # Both sides' sites: the foreign one has no roster at all (today and tomorrow).
    assert "Checked 2 sites: 3 new roster rectifications." in result.output
    own = [f.item_code for f in findings(FindingSource.roster) if f.site_id == site.id]
    assert own == ["roster_gap:2026-05-05"]
    again = runner.invoke(args=["registers", "check-roster"])
    assert "Checked 2 sites: 0 new roster rectifications." in again.output


def test_check_roster_command_takes_a_time(world, runner):
    result = runner.invoke(args=["registers", "check-roster", "--now", "2026-05-04T20:00+08:00"])
    assert result.exit_code == 0, result.output
    codes = sorted(f.item_code for f in findings(FindingSource.roster))
    assert codes == [
        "roster_gap:2026-05-04",
        "roster_gap:2026-05-04",
        "roster_gap:2026-05-05",
        "roster_gap:2026-05-05",
    ]
    bad = runner.invoke(args=["registers", "check-roster", "--now", "yesterday"])
    assert bad.exit_code == 2
    assert "ISO time" in bad.output
