"""Lists: filters, scope, overdue marks, the elevator panel, the dashboard helpers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.records.models import FindingStatus, Severity
from elevator_safety.rectifications import services
from tests.conftest import log_in
from tests.rectifications.helpers import make_finding, past


def _ids(page: str) -> set[int]:
    return {int(m) for m in re.findall(r'<tr data-finding="(\d+)"', page)}


def _list(client, query: str = "") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/rectifications{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def findings(world):  # type: ignore[no-untyped-def]
    own = world.own
    return {
        "open": make_finding(own),
        "progress": make_finding(own, status=FindingStatus.in_progress, elevator=own.elevators[1]),
        "reopened": make_finding(own, status=FindingStatus.reopened),
        "completed": make_finding(own, status=FindingStatus.completed),
        "verified": make_finding(own, status=FindingStatus.verified),
        "late": make_finding(own, deadline=past()),
        "serious_late": make_finding(own, severity=Severity.serious, deadline=past()),
        "site": make_finding(own, elevator=None),
        "contractor": make_finding(own, owner="contractor"),
        "foreign": make_finding(world.foreign),
    }


def _want(findings, *names):  # type: ignore[no-untyped-def]
    return {findings[n].id for n in names}


OPEN = ("open", "progress", "reopened", "late", "serious_late", "site", "contractor")


def test_the_default_list_shows_what_is_to_do(client, world, findings):
    log_in(client, world.own.officer)
    assert _ids(_list(client)) == _want(findings, *OPEN)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?state=completed", ("completed",)),
        ("?state=verified", ("verified",)),
        ("?state=all", (*OPEN, "completed", "verified")),
        ("?overdue=1", ("late", "serious_late")),
        ("?state=all&overdue=1", ("late", "serious_late")),
        ("?severity=serious", ("serious_late",)),
        ("?severity=ordinary&overdue=1", ("late",)),
        ("?owner=contractor", ("contractor",)),
        ("?owner=company", tuple(n for n in OPEN if n != "contractor")),
        ("?owner=mine", tuple(n for n in OPEN if n != "contractor")),
        ("?duty=D5", OPEN),
        ("?duty=D7", ()),
        ("?state=bogus", OPEN),
    ],
)
def test_filters(client, world, findings, query, names):
    log_in(client, world.own.officer)
    assert _ids(_list(client, query)) == _want(findings, *names)


def test_filter_by_elevator_site_and_code(client, world, findings):
    log_in(client, world.own.officer)
    second = world.own.elevators[1]
    assert _ids(_list(client, f"?elevator={second.id}")) == _want(findings, "progress")
    assert _ids(_list(client, f"?code={second.equipment_code}")) == _want(findings, "progress")
    assert _ids(_list(client, f"?site={world.own.site.id}")) == _want(findings, *OPEN)
    assert _ids(_list(client, f"?site={world.foreign.site.id}")) == set()


def test_overdue_is_marked_and_serious_overdue_more_strongly(client, world, findings):
    log_in(client, world.own.officer)
    page = _list(client)
    assert page.count('data-testid="overdue"') == 2
    assert page.count('data-serious="1"') == 1
    row = page.split(f'data-finding="{findings["serious_late"].id}"')[1].split("</tr>")[0]
    assert "⚠" in row
    assert f'<tr data-finding="{findings["serious_late"].id}" class="row-bad row-overdue">' in page
    assert f'<tr data-finding="{findings["late"].id}" class="row-overdue">' in page
    assert 'data-testid="overdue-link"' in page


def test_a_completed_fix_is_never_overdue(world):
    finding = make_finding(world.own, deadline=past(), status=FindingStatus.completed)
    assert not services.is_overdue(finding)
    finding.status = FindingStatus.reopened
    assert services.is_overdue(finding)
    assert not services.is_overdue(finding, finding.deadline - timedelta(minutes=1))


def test_overdue_arrives_with_time(world):
    finding = make_finding(world.own)
    assert not services.is_overdue(finding)
    with time_machine.travel(now_utc() + timedelta(hours=169), tick=False):
        assert services.is_overdue(finding)
        assert services.count_overdue(world.own.officer) == 1


def test_a_contractor_lists_only_what_it_owns(client, world, findings):
    for role in ("manager", "technician"):
        log_in(client, getattr(world.own, role))
        assert _ids(_list(client, "?state=all")) == _want(findings, "contractor")


def test_a_regulator_lists_its_district(client, world, findings):
    log_in(client, world.own.regulator)
    page = _list(client, "?state=all")
    assert _ids(page) == _want(findings, *OPEN, "completed", "verified")
    assert "New rectification" not in page
    log_in(client, world.foreign.regulator)
    assert _ids(_list(client, "?state=all")) == _want(findings, "foreign")


def test_the_list_is_paginated(app, client, world):
    app.config["PAGE_SIZE"] = 3
    for _ in range(5):
        make_finding(world.own)
    log_in(client, world.own.officer)
    assert len(_ids(_list(client))) == 3
    assert len(_ids(_list(client, "?page=2"))) == 2


def test_open_ones_come_by_deadline(client, world):
    later = make_finding(world.own, deadline=now_utc() + timedelta(days=5))
    sooner = make_finding(world.own, deadline=now_utc() + timedelta(days=1))
    log_in(client, world.own.officer)
    page = _list(client)
    assert page.index(f'data-finding="{sooner.id}"') < page.index(f'data-finding="{later.id}"')


def test_the_elevator_panel(client, world, findings):
    log_in(client, world.own.officer)
    elevator = world.own.elevators[0]
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    panel = page.split('data-testid="rectification-panel"')[1].split("</section>")[0]
    shown = {int(m) for m in re.findall(r'<li data-finding="(\d+)"', panel)}
    assert shown == _want(findings, "open", "reopened", "late", "serious_late", "contractor")
    assert panel.count('data-testid="overdue"') == 2
    assert "1 completed rectification waits for verification." in panel
    assert f"/rectifications?elevator={elevator.id}" in panel
    assert f"/rectifications/new?elevator={elevator.id}" in panel


def test_the_panel_offers_no_creation_to_readers(client, world):
    log_in(client, world.own.regulator)
    page = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
    assert "/rectifications/new" not in page
    assert "No open rectifications." in page


def test_dashboard_helpers(world, findings):
    due = services.rectifications_due(world.own.officer, limit=3)
    assert len(due) == 3
    assert {f.id for f in due[:2]} == _want(findings, "late", "serious_late")
    assert services.count_overdue(world.own.officer) == 2
    assert services.count_overdue(world.own.manager) == 0
    assert [f.id for f in services.rectifications_due(world.own.manager)] == [
        findings["contractor"].id
    ]
    assert services.count_overdue(world.foreign.officer) == 0


def test_the_detail_page_shows_source_and_history(client, world):
    from tests.factories import make_record

    record = make_record(world.own.elevators[0], world.own.officer)
    finding = services.open_finding(
        site=world.own.site,
        elevator=world.own.elevators[0],
        source=services.FindingSource.patrol,
        duty="D3",
        item_label="Car light flickers",
        description="Flickers.",
        author=world.own.officer,
        source_record=record,
    )
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert f"/records/{record.id}" in page
    assert "Daily patrol" in page
    history = page.split('data-testid="history"')[1]
    assert "Opened" in history
