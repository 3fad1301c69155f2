"""Site emergency plans and drills (D11) in the site register chain, and their due states."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.legal import cycle, services
from elevator_safety.records.forms import new_token
from elevator_safety.registers.chain import signed, verify_sites
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import PASSWORD, make_contract, make_elevator, make_org, make_site


def plan_form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "idempotency_key": new_token(),
        "title": "Elevator emergency rescue plan",
        "version": "2025-A",
        "approved_on": "2025-01-10",
        "approved_by": "General manager Li",
        "summary": "Rescue, notification, 96333",
        "password": PASSWORD,
    }
    return data | overrides


def drill_form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "idempotency_key": new_token(),
        "drill_on": (local_today() - timedelta(days=3)).isoformat(),
        "done_as_planned": "yes",
        "scenario": "Entrapment between floors",
        "participants": "Officer Zhang, technician Liu, 2 residents",
        "lessons": "",
        "password": PASSWORD,
    }
    return data | overrides


def entries(kind: RegisterKind) -> list[RegisterEntry]:
    return list(
        db.session.scalars(
            select(RegisterEntry).where(RegisterEntry.kind == kind).order_by(RegisterEntry.id)
        )
    )


def test_officer_files_the_emergency_plan(client, world):
    site = world.own.site
    log_in(client, world.own.officer)
    assert client.get(f"/sites/{site.id}/emergency-plan/new").status_code == 200
    response = client.post(f"/sites/{site.id}/emergency-plan/new", data=plan_form())
    assert response.status_code == 302
    [entry] = entries(RegisterKind.emergency_plan)
    assert entry.on_date == date(2025, 1, 10)
    assert entry.data["body"]["title"] == "Elevator emergency rescue plan"
    assert entry.data["body"]["approved_by"] == "General manager Li"
    assert verify_sites().ok
    page = client.get(f"/sites/{site.id}/legal").get_data(as_text=True)
    assert "Elevator emergency rescue plan" in page
    assert "No plan on file" not in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"title": ""}, "title"),
        ({"approved_by": ""}, "approved_by"),
        ({"approved_on": "2999-01-01"}, "approved_on"),
        ({"approved_on": "soon"}, "approved_on"),
    ],
)
def test_plan_refusals(client, world, overrides, field):
    log_in(client, world.own.director)
    response = client.post(
        f"/sites/{world.own.site.id}/emergency-plan/new", data=plan_form(**overrides)
    )
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert entries(RegisterKind.emergency_plan) == []


@pytest.mark.parametrize("attr", ["technician", "manager", "admin", "regulator"])
def test_only_company_officers_file_plans(client, world, attr):
    log_in(client, getattr(world.own, attr))
    response = client.post(f"/sites/{world.own.site.id}/emergency-plan/new", data=plan_form())
    assert response.status_code == 403
    assert entries(RegisterKind.emergency_plan) == []


def test_site_drill_by_the_company(client, world):
    site = world.own.site
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    form = drill_form(elevator_ids=[str(elevator.id)])
    response = client.post(f"/sites/{site.id}/drills/new", data=form)
    assert response.status_code == 302
    [entry] = entries(RegisterKind.drill)
    assert entry.ok is True
    assert entry.organisation_id == world.own.org.id
    assert entry.data["body"]["organiser_kind"] == "site"
    assert entry.data["body"]["elevators"] == [elevator.equipment_code]
    status = services.site_status(site, local_today())
    assert status.site_drill.last_on == local_today() - timedelta(days=3)
    assert not status.site_drill.overdue
    # The contractor has not drilled: overdue.
    [contractor] = status.contractors
    assert contractor.organisation.id == world.own.contractor.id
    assert contractor.overdue


def test_contractor_drill_counts_for_the_contractor(client, world):
    site = world.own.site
    log_in(client, world.own.manager)
    page = client.get(f"/sites/{site.id}/drills/new").get_data(as_text=True)
    assert "every 6 months" in page
    response = client.post(f"/sites/{site.id}/drills/new", data=drill_form())
    assert response.status_code == 302
    [entry] = entries(RegisterKind.drill)
    assert entry.organisation_id == world.own.contractor.id
    assert entry.data["body"]["organiser_kind"] == "contractor"
    status = services.site_status(site, local_today())
    assert status.site_drill.overdue  # the company's own drill is still missing
    [contractor] = status.contractors
    assert contractor.last_on == local_today() - timedelta(days=3)
    assert not contractor.overdue


def test_contractor_cannot_name_an_elevator_it_does_not_serve(client, world):
    site = world.own.site
    other = make_elevator(site, world.own.officer)
    make_contract(other, make_org(OrgKind.contractor))
    db.session.commit()
    log_in(client, world.own.technician)
    response = client.post(
        f"/sites/{site.id}/drills/new", data=drill_form(elevator_ids=[str(other.id)])
    )
    assert response.status_code == 422
    assert entries(RegisterKind.drill) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"scenario": ""}, "scenario"),
        ({"participants": ""}, "participants"),
        ({"done_as_planned": ""}, "done_as_planned"),
        ({"drill_on": "2999-01-01"}, "drill_on"),
    ],
)
def test_drill_refusals(client, world, overrides, field):
    log_in(client, world.own.officer)
    response = client.post(f"/sites/{world.own.site.id}/drills/new", data=drill_form(**overrides))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert entries(RegisterKind.drill) == []


@pytest.mark.parametrize("attr", ["admin", "regulator"])
def test_drills_refused_to_other_roles(client, world, attr):
    log_in(client, getattr(world.own, attr))
    assert (
        client.post(f"/sites/{world.own.site.id}/drills/new", data=drill_form()).status_code == 403
    )


def test_a_foreign_site_is_not_found(client, world):
    log_in(client, world.own.manager)
    assert (
        client.post(f"/sites/{world.foreign.site.id}/drills/new", data=drill_form()).status_code
        == 404
    )


def test_a_resubmitted_drill_is_recorded_once(client, world):
    log_in(client, world.own.officer)
    form = drill_form()
    client.post(f"/sites/{world.own.site.id}/drills/new", data=form)
    again = client.post(f"/sites/{world.own.site.id}/drills/new", data=form)
    assert again.status_code == 302
    assert len(entries(RegisterKind.drill)) == 1


def _drill(site, author, on: date, ok: bool = True) -> None:  # type: ignore[no-untyped-def]
    signed(site, RegisterKind.drill, {"scenario": "x"}, author, on_date=on, ok=ok)


def test_due_dates_follow_the_configured_months(app, world):
    site = world.own.site
    today = local_today()
    site_last = cycle.add_months(today, -12)
    contractor_last = cycle.add_months(today, -6) - timedelta(days=1)
    _drill(site, world.own.officer, site_last)
    _drill(site, world.own.technician, contractor_last)
    db.session.commit()
    status = services.site_status(site, today)
    assert status.site_drill.due_on == cycle.add_months(site_last, 12)
    assert status.site_drill.months == 12
    assert not status.site_drill.overdue
    [contractor] = status.contractors
    assert contractor.months == 6
    assert contractor.due_on == cycle.add_months(contractor_last, 6)
    assert contractor.overdue
    later = services.site_status(site, status.site_drill.due_on + timedelta(days=1))
    assert later.site_drill.overdue


def test_a_drill_not_done_as_planned_does_not_count(app, world):
    _drill(world.own.site, world.own.officer, date(2026, 1, 1), ok=False)
    db.session.commit()
    assert services.site_status(world.own.site, date(2026, 2, 1)).site_drill.last_on is None


def test_contractor_drill_at_another_site_counts(app, world):
    other_site = make_site(world.own.org)
    elevator = make_elevator(other_site, world.own.officer)
    make_contract(elevator, world.own.contractor)
    _drill(other_site, world.own.technician, local_today() - timedelta(days=10))
    db.session.commit()
    status = services.site_status(world.own.site, local_today())
    assert status.contractors[0].last_on == local_today() - timedelta(days=10)


def test_drills_due_lists_sites_needing_a_drill(app, world):
    assert [s.site.id for s in services.drills_due(world.own.officer)] == [world.own.site.id]
    _drill(world.own.site, world.own.officer, local_today())
    _drill(world.own.site, world.own.technician, local_today())
    db.session.commit()
    assert services.drills_due(world.own.officer) == []
    # A contractor sees only its own state.
    [row] = services.drills_due(world.own.technician, within_days=365)
    assert [c.organisation.id for c in row.contractors] == [world.own.contractor.id]


def test_site_pages_for_readers(client, world):
    log_in(client, world.own.regulator)
    page = client.get(f"/sites/{world.own.site.id}/legal").get_data(as_text=True)
    assert 'data-testid="site-status"' in page
    assert 'data-testid="new-drill"' not in page
    listing = client.get("/legal/sites").get_data(as_text=True)
    assert f'data-site="{world.own.site.id}"' in listing
    assert f'data-site="{world.foreign.site.id}"' not in listing
    assert db.session.scalar(select(func.count()).select_from(RegisterEntry)) == 0
