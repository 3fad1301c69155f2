"""Registry pages: what each user sees, finds and may change."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from enum import Enum

import pytest
from flask import url_for
from sqlalchemy import func, select

from elevator_safety import create_app
from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, ElevatorKind, ElevatorStatus, Site
from elevator_safety.registry.services import ELEVATOR_FIELDS
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import ROLE_ATTR, make_contract, make_elevator, make_org, make_site

NON_ADMIN_ROLES = [
    "safety_director",
    "safety_officer",
    "contractor_manager",
    "technician",
    "regulator",
]


# --- helpers -------------------------------------------------------------------


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def listed_codes(body: str) -> list[str]:
    """Return the equipment codes of the table's rows, in order."""
    return re.findall(r'<tr[^>]*data-elevator="([^"]+)"', body)


def field_errors(body: str, name: str) -> list[str]:
    """Return the messages shown under a form field."""
    pattern = rf'<div class="error"[^>]*data-field="{name}">(.*?)</div>'
    return [html.unescape(m).strip() for m in re.findall(pattern, body, re.S)]


def input_value(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', body)
    assert match, name
    return html.unescape(match.group(1))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(model.id)))


def audit_entries(object_type: str, action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == object_type, AuditEntry.action == action
            )
        )
    )


def elevator_form(side, **changes: str) -> dict[str, str]:
    """Return a valid new-elevator form as a browser posts it."""
    data = {
        "site_id": str(side.site.id),
        "equipment_code": "31105101049900000001",
        "registration_no": "梯11川A99001",
        "rescue_code": "51019900",
        "kind": "traction",
        "status": "in_service",
        "safety_officer_id": str(side.officer.id),
        "manufacturer": "Otis",
        "model": "GeN2",
        "factory_no": "F-1",
        "rated_load_kg": "1000",
        "rated_speed_ms": "1.75",
        "floors": "20",
        "stops": "20",
        "building": "3栋",
        "unit": "1单元",
        "car_no": "1号梯",
        "acceptance_date": "2016-05-01",
        "last_inspection_date": "2025-05-10",
        "last_inspection_result": "passed",
        "next_inspection_due": "2026-05-31",
        "use_sign_valid_until": "2026-05-31",
        "notes": "",
    }
    return data | changes


def form_of(elevator: Elevator, **changes: str) -> dict[str, str]:
    """Return an elevator's edit form as posted without changes."""
    data = {}
    for name in ELEVATOR_FIELDS:
        value = getattr(elevator, name)
        if value is None:
            data[name] = ""
        elif isinstance(value, Enum):
            data[name] = value.value
        elif hasattr(value, "isoformat"):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data | changes


def write_routes(world) -> list[str]:
    elevator = world.own.elevators[0]
    return [
        "/elevators/new",
        f"/elevators/{elevator.id}/edit",
        "/sites/new",
        f"/sites/{world.own.site.id}/edit",
        f"/elevators/{elevator.id}/contracts/new",
        f"/contracts/{elevator.contracts[0].id}/edit",
    ]


# --- access ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/elevators", "/elevators/1", "/sites", "/sites/1", "/contracts"])
def test_pages_need_login(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(ROLE_ATTR))
def test_every_role_reads_the_registry_pages(client, world, login_as, role):
    login_as(role)
    elevator = world.own.elevators[0]
    for url in (
        "/elevators",
        f"/elevators/{elevator.id}",
        f"/sites/{world.own.site.id}",
        "/contracts",
        f"/contracts/{elevator.contracts[0].id}",
    ):
        body = get(client, url)
        assert elevator.equipment_code in body, url
    assert f'href="/sites/{world.own.site.id}"' in get(client, "/sites")


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_non_admins_get_403_on_every_write_route(client, world, login_as, role):
    login_as(role)
    before = (count(Elevator), count(Site), count(Contract), count(AuditEntry))
    for url in write_routes(world):
        assert client.get(url).status_code == 403, url
        response = client.post(
            url, data=elevator_form(world.own, name="X", start_date="2031-01-01")
        )
        assert response.status_code == 403, url
    assert (count(Elevator), count(Site), count(Contract), count(AuditEntry)) == before


def test_write_forms_carry_a_csrf_token_and_posts_without_it_are_refused(app_config, world):
    csrf_app = create_app(app_config | {"WTF_CSRF_ENABLED": True})
    try:
        client = csrf_app.test_client()
        log_in(client, world.own.admin)
        for url in write_routes(world):
            assert 'name="csrf_token"' in client.get(url).get_data(as_text=True), url
        before = count(Elevator)
        response = client.post("/elevators/new", data=elevator_form(world.own))
        assert response.status_code == 400
        assert count(Elevator) == before
    finally:
        with csrf_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_admin_reaches_every_write_route(client, world, login_as):
    login_as("admin")
    for url in write_routes(world):
        body = get(client, url)
        assert '<form method="post"' in body, url


def test_admin_of_another_company_gets_404_on_our_records(client, world, login_as):
    login_as("admin", "foreign")
    elevator = world.own.elevators[0]
    contract = elevator.contracts[0]
    for url in (
        f"/elevators/{elevator.id}",
        f"/elevators/{elevator.id}/edit",
        f"/elevators/{elevator.id}/contracts/new",
        f"/sites/{world.own.site.id}",
        f"/sites/{world.own.site.id}/edit",
        f"/contracts/{contract.id}",
        f"/contracts/{contract.id}/edit",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(f"/elevators/{elevator.id}/edit", data=form_of(elevator, floors="3"))
    assert response.status_code == 404
    db.session.refresh(elevator)
    assert elevator.floors == 18


@pytest.mark.parametrize("role", ["safety_officer", "contractor_manager", "regulator"])
def test_foreign_details_answer_404(client, world, login_as, role):
    login_as(role)
    foreign = world.foreign.elevators[0]
    get(client, f"/elevators/{foreign.id}", 404)
    get(client, f"/sites/{world.foreign.site.id}", 404)
    get(client, f"/contracts/{foreign.contracts[0].id}", 404)
    get(client, "/elevators/999999", 404)


# --- elevator list: scope --------------------------------------------------------------


def test_property_users_see_their_company_only(client, world, login_as):
    login_as("safety_director")
    codes = listed_codes(get(client, "/elevators"))
    assert sorted(codes) == sorted(e.equipment_code for e in world.own.elevators)


def test_regulator_sees_its_district_only(client, world, login_as):
    other_company = make_org(OrgKind.property_company)
    same_district = make_site(other_company, district_code="510104", name="Neighbour Court")
    neighbour = make_elevator(same_district, world.own.officer)
    db.session.commit()
    login_as("regulator")
    codes = listed_codes(get(client, "/elevators"))
    assert sorted(codes) == sorted(
        [e.equipment_code for e in world.own.elevators] + [neighbour.equipment_code]
    )
    sites = get(client, "/sites")
    assert "Neighbour Court" in sites
    assert world.foreign.site.name not in sites


def test_contractor_sees_only_elevators_under_an_active_contract(client, world, login_as):
    today = local_today()
    ended = make_elevator(world.own.site, world.own.officer)
    make_contract(
        ended,
        world.own.contractor,
        start_date=today - timedelta(days=365),
        end_date=today - timedelta(days=1),
    )
    others = make_elevator(world.own.site, world.own.officer)
    make_contract(others, world.foreign.contractor)
    db.session.commit()
    login_as("contractor_manager")
    codes = listed_codes(get(client, "/elevators"))
    assert sorted(codes) == sorted(e.equipment_code for e in world.own.elevators)
    get(client, f"/elevators/{ended.id}", 404)
    get(client, f"/elevators/{others.id}", 404)
    get(client, f"/elevators/{world.own.elevators[0].id}")
    # The ended contract is still the contractor's own record; its elevator is not linked.
    contracts = get(client, "/contracts?state=ended")
    assert ended.equipment_code in contracts
    assert f'href="/elevators/{ended.id}"' not in contracts


def test_contractor_loses_the_elevator_the_day_after_the_contract_ends(client, world, login_as):
    today = local_today()
    contract = world.own.elevators[0].contracts[0]
    contract.end_date = today - timedelta(days=1)
    db.session.commit()
    login_as("technician")
    codes = listed_codes(get(client, "/elevators"))
    assert codes == [world.own.elevators[1].equipment_code]
    get(client, f"/elevators/{world.own.elevators[0].id}", 404)


# --- elevator list: search, filters, sorting, pages ---------------------------------------


def test_search_by_equipment_code(client, world, login_as):
    login_as("admin")
    target = world.own.elevators[0]
    codes = listed_codes(get(client, f"/elevators?q={target.equipment_code}"))
    assert codes == [target.equipment_code]


def test_search_by_rescue_code(client, world, login_as):
    target = world.own.elevators[1]
    target.rescue_code = "96333R42"
    db.session.commit()
    login_as("admin")
    codes = listed_codes(get(client, "/elevators?q=r42"))
    assert codes == [target.equipment_code]


def test_search_by_site_name(client, world, login_as):
    lotus = make_site(world.own.org, name="Lotus Garden")
    in_lotus = make_elevator(lotus, world.own.officer)
    db.session.commit()
    login_as("admin")
    body = get(client, "/elevators?q=lotus")
    assert listed_codes(body) == [in_lotus.equipment_code]
    assert input_value(body, "q") == "lotus"


def test_search_finds_nothing_outside_scope(client, world, login_as):
    login_as("admin")
    foreign = world.foreign.elevators[0]
    assert listed_codes(get(client, f"/elevators?q={foreign.equipment_code}")) == []


def test_filter_by_status_marks_rows_out_of_service(client, world, login_as):
    stopped = world.own.elevators[1]
    stopped.status = ElevatorStatus.out_of_service
    db.session.commit()
    login_as("admin")
    body = get(client, "/elevators?status=out_of_service")
    assert listed_codes(body) == [stopped.equipment_code]
    assert f'<tr class="row-bad" data-elevator="{stopped.equipment_code}">' in body
    assert "badge badge-bad" in body
    body = get(client, "/elevators?status=in_service")
    assert listed_codes(body) == [world.own.elevators[0].equipment_code]


def test_filter_by_kind(client, world, login_as):
    escalator = world.own.elevators[0]
    escalator.kind = ElevatorKind.escalator
    db.session.commit()
    login_as("admin")
    assert listed_codes(get(client, "/elevators?kind=escalator")) == [escalator.equipment_code]
    assert listed_codes(get(client, "/elevators?kind=traction")) == [
        world.own.elevators[1].equipment_code
    ]


def test_filter_by_site_and_contractor(client, world, login_as):
    lotus = make_site(world.own.org, name="Lotus Garden")
    in_lotus = make_elevator(lotus, world.own.officer)
    rival = make_org(OrgKind.contractor, name="Rival Lifts")
    make_contract(in_lotus, rival)
    db.session.commit()
    login_as("admin")
    assert listed_codes(get(client, f"/elevators?site={lotus.id}")) == [in_lotus.equipment_code]
    body = get(client, f"/elevators?contractor={rival.id}")
    assert listed_codes(body) == [in_lotus.equipment_code]
    assert f'<option value="{rival.id}" selected>Rival Lifts</option>' in body


def test_sorting_by_column_both_ways(client, world, login_as):
    a = make_elevator(make_site(world.own.org, name="AAA Court"), world.own.officer)
    z = make_elevator(make_site(world.own.org, name="ZZZ Court"), world.own.officer)
    db.session.commit()
    login_as("admin")
    ascending = listed_codes(get(client, "/elevators?sort=site"))
    descending = listed_codes(get(client, "/elevators?sort=-site"))
    assert ascending[0] == a.equipment_code
    assert ascending[-1] == z.equipment_code
    assert descending[0] == z.equipment_code
    assert descending[-1] == a.equipment_code
    by_code = listed_codes(get(client, "/elevators?sort=code"))
    assert by_code == sorted(by_code)
    assert listed_codes(get(client, "/elevators?sort=-code")) == sorted(by_code, reverse=True)


def test_sort_link_toggles_and_keeps_filters(client, world, login_as):
    login_as("admin")
    body = get(client, "/elevators?sort=site&kind=traction")
    assert 'href="/elevators?sort=-site&amp;kind=traction"' in body


def test_pagination(client, world, login_as, app):
    size = app.config["PAGE_SIZE"]
    for _ in range(size + 3):
        make_elevator(world.own.site, world.own.officer)
    db.session.commit()
    total = size + 3 + len(world.own.elevators)
    login_as("admin")
    first = listed_codes(get(client, "/elevators"))
    second_body = get(client, "/elevators?page=2")
    second = listed_codes(second_body)
    assert len(first) == size
    assert len(second) == total - size
    assert not set(first) & set(second)
    all_codes = {e.equipment_code for e in db.session.scalars(select(Elevator)).all()} - {
        e.equipment_code for e in world.foreign.elevators
    }
    assert set(first) | set(second) == all_codes
    assert 'rel="prev"' in second_body
    assert listed_codes(get(client, "/elevators?page=99")) == []
    assert listed_codes(get(client, "/elevators?page=abc")) == first


def test_csv_links_keep_the_filters_and_follow_permissions(client, world, login_as, app):
    with app.test_request_context():
        export_url = url_for("registry_io.export_csv", kind="traction", sort="-site")
        import_url = url_for("registry_io.import_upload")
    login_as("admin")
    body = get(client, "/elevators?kind=traction&sort=-site&page=1")
    assert f'href="{html.escape(export_url)}"' in body
    assert f'href="{html.escape(import_url)}"' in body
    login_as("regulator")
    body = get(client, "/elevators?kind=traction&sort=-site")
    assert f'href="{html.escape(export_url)}"' in body
    assert f'href="{html.escape(import_url)}"' not in body


# --- elevator detail ---------------------------------------------------------------------


def test_detail_shows_registry_data_and_contracts(client, world, login_as):
    elevator = world.own.elevators[0]
    login_as("safety_officer")
    body = get(client, f"/elevators/{elevator.id}")
    assert elevator.registration_no in body
    assert world.own.officer.name in body
    assert world.own.site.name in body
    contract = elevator.contracts[0]
    assert world.own.contractor.name in body
    assert world.own.contractor.qualification_no in body
    assert contract.end_date.isoformat() in body
    assert 'class="row-active"' in body
    assert "banner-bad" not in body
    assert f"/elevators/{elevator.id}/edit" not in body  # officers do not edit the registry


def test_detail_of_an_out_of_service_elevator_shows_a_red_banner(client, world, login_as):
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    login_as("safety_officer")
    assert 'class="banner-bad"' in get(client, f"/elevators/{elevator.id}")


def test_admin_sees_edit_and_add_contract_links(client, world, login_as):
    elevator = world.own.elevators[0]
    login_as("admin")
    body = get(client, f"/elevators/{elevator.id}")
    assert f'href="/elevators/{elevator.id}/edit"' in body
    assert f'href="/elevators/{elevator.id}/contracts/new"' in body


# --- elevator forms -------------------------------------------------------------------------


def test_admin_creates_an_elevator(client, world, login_as):
    admin = login_as("admin")
    response = client.post(
        "/elevators/new", data=elevator_form(world.own, equipment_code=" 3110 5101 0499 0000 0001")
    )
    assert response.status_code == 302
    elevator = db.session.scalar(
        select(Elevator).where(Elevator.equipment_code == "31105101049900000001")
    )
    assert response.headers["Location"].endswith(f"/elevators/{elevator.id}")
    assert elevator.site_id == world.own.site.id
    assert elevator.safety_officer_id == world.own.officer.id
    assert str(elevator.rated_speed_ms) == "1.75"
    assert elevator.next_inspection_due.isoformat() == "2026-05-31"
    entries = audit_entries("Elevator", "create")
    assert [(e.object_id, e.user_id) for e in entries] == [(elevator.id, admin.id)]
    body = get(client, response.headers["Location"])
    assert "31105101049900000001" in body
    assert 'class="flash flash-success"' in body


def test_new_elevator_form_preselects_the_site(client, world, login_as):
    login_as("admin")
    body = get(client, f"/elevators/new?site={world.own.site.id}")
    assert f'<option selected value="{world.own.site.id}">' in body


def test_admin_edits_an_elevator(client, world, login_as):
    elevator = world.own.elevators[0]
    admin = login_as("admin")
    response = client.post(
        f"/elevators/{elevator.id}/edit",
        data=form_of(elevator, floors="24", stops="22", status="out_of_service"),
    )
    assert response.status_code == 302
    db.session.refresh(elevator)
    assert (elevator.floors, elevator.stops) == (24, 22)
    assert elevator.status == ElevatorStatus.out_of_service
    [entry] = audit_entries("Elevator", "update")
    assert entry.user_id == admin.id
    assert entry.changes_dict == {
        "floors": [18, 24],
        "stops": [18, 22],
        "status": ["in_service", "out_of_service"],
    }


def test_invalid_elevator_form_keeps_the_values_and_writes_nothing(client, world, login_as):
    login_as("admin")
    before = (count(Elevator), count(AuditEntry))
    data = elevator_form(
        world.own,
        equipment_code="31105101049900000077",
        manufacturer="Kone Typed By Hand",
        floors="10",
        stops="12",
        acceptance_date="2020-01-01",
        last_inspection_date="2019-06-01",
    )
    response = client.post("/elevators/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "stops")
    assert field_errors(body, "last_inspection_date")
    assert not field_errors(body, "equipment_code")
    assert input_value(body, "equipment_code") == "31105101049900000077"
    assert input_value(body, "manufacturer") == "Kone Typed By Hand"
    assert input_value(body, "stops") == "12"
    assert input_value(body, "last_inspection_date") == "2019-06-01"
    assert (count(Elevator), count(AuditEntry)) == before


def test_malformed_numbers_and_dates_are_shown_on_their_fields(client, world, login_as):
    login_as("admin")
    before = count(Elevator)
    data = elevator_form(world.own, floors="ten", rated_load_kg="0", acceptance_date="2020-13-45")
    response = client.post("/elevators/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "floors")
    assert field_errors(body, "rated_load_kg")
    assert field_errors(body, "acceptance_date")
    assert input_value(body, "floors") == "ten"
    assert input_value(body, "acceptance_date") == "2020-13-45"
    assert count(Elevator) == before


def test_form_and_rule_problems_are_shown_together(client, world, login_as):
    login_as("admin")
    before = count(Elevator)
    data = elevator_form(world.own, equipment_code="", floors="10", stops="12", rated_load_kg="x")
    response = client.post("/elevators/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert len(field_errors(body, "equipment_code")) == 1  # required: said once
    assert field_errors(body, "rated_load_kg")
    assert field_errors(body, "stops")  # the service's rule, in the same answer
    assert count(Elevator) == before


def test_duplicate_code_refused_on_the_form(client, world, login_as):
    login_as("admin")
    existing = world.foreign.elevators[0].equipment_code  # unique across the platform
    response = client.post("/elevators/new", data=elevator_form(world.own, equipment_code=existing))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "equipment_code")


def test_form_refuses_a_foreign_site_or_officer(client, world, login_as):
    login_as("admin")
    before = count(Elevator)
    response = client.post(
        "/elevators/new",
        data=elevator_form(
            world.own,
            site_id=str(world.foreign.site.id),
            safety_officer_id=str(world.foreign.officer.id),
        ),
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "site_id")
    assert field_errors(body, "safety_officer_id")
    assert world.foreign.site.name not in body
    assert count(Elevator) == before


# --- sites ---------------------------------------------------------------------------------------


def test_site_list_counts_elevators_and_searches_by_name(client, world, login_as):
    lotus = make_site(world.own.org, name="Lotus Garden")
    make_elevator(lotus, world.own.officer, status=ElevatorStatus.out_of_service)
    db.session.commit()
    login_as("safety_director")
    body = get(client, "/sites")
    assert re.search(rf'data-site="{world.own.site.id}">.*?data-count="2"', body, re.S)
    assert re.search(rf'data-site="{lotus.id}">.*?data-count="1"', body, re.S)
    assert world.foreign.site.name not in body
    found = get(client, "/sites?q=lotus")
    assert "Lotus Garden" in found
    assert world.own.site.name not in found


def test_site_detail_lists_its_elevators(client, world, login_as):
    login_as("safety_officer")
    body = get(client, f"/sites/{world.own.site.id}")
    assert sorted(listed_codes(body)) == sorted(e.equipment_code for e in world.own.elevators)


def test_admin_creates_and_edits_a_site(client, world, login_as):
    login_as("admin")
    response = client.post(
        "/sites/new",
        data={
            "name": "Lotus Garden",
            "address": "1 Lotus Road",
            "district_code": "510104",
            "district_name": "Jinjiang",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "Lotus Garden"))
    assert site.organisation_id == world.own.org.id
    assert site.is_city is False  # the box was not ticked
    response = client.post(
        f"/sites/{site.id}/edit",
        data={
            "name": "Lotus Garden",
            "address": "2 Lotus Road",
            "district_code": "510104",
            "district_name": "Jinjiang",
            "is_city": "y",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    db.session.refresh(site)
    assert (site.address, site.is_city) == ("2 Lotus Road", True)
    [entry] = audit_entries("Site", "update")
    assert entry.changes_dict == {
        "address": ["1 Lotus Road", "2 Lotus Road"],
        "is_city": [False, True],
    }


def test_new_site_form_defaults_to_shanghai_time(client, world, login_as):
    login_as("admin")
    assert input_value(get(client, "/sites/new"), "timezone") == "Asia/Shanghai"


def test_invalid_site_form_shows_messages(client, world, login_as):
    login_as("admin")
    before = count(Site)
    response = client.post(
        "/sites/new",
        data={
            "name": "Lotus Garden",
            "address": "1 Lotus Road",
            "district_code": "5101",
            "district_name": "Jinjiang",
            "timezone": "Mars/Olympus",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "timezone")
    assert input_value(body, "name") == "Lotus Garden"
    # The service's district rule speaks once the form's own checks pass.
    response = client.post(
        "/sites/new",
        data={
            "name": "Lotus Garden",
            "address": "1 Lotus Road",
            "district_code": "5101",
            "district_name": "Jinjiang",
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "district_code")
    assert count(Site) == before


# --- contracts -----------------------------------------------------------------------------------


def contract_form(
    contractor, start, end, levels=("half_monthly", "quarterly", "semi_annual", "annual")
):
    return {
        "contractor_id": str(contractor.id),
        "contract_no": "HT-1",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "level_plan": list(levels),
    }


def test_contract_overlap_on_the_form_shows_the_message_and_writes_nothing(client, world, login_as):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    rival = make_org(OrgKind.contractor, name="Rival Lifts")
    db.session.commit()
    login_as("admin")
    before = (count(Contract), count(AuditEntry))
    response = client.post(
        f"/elevators/{elevator.id}/contracts/new",
        data=contract_form(rival, existing.end_date, existing.end_date + timedelta(days=365)),
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    [message] = field_errors(body, "start_date")
    assert world.own.contractor.name in message
    assert existing.start_date.isoformat() in message
    assert existing.end_date.isoformat() in message
    assert input_value(body, "end_date") == (existing.end_date + timedelta(days=365)).isoformat()
    assert (count(Contract), count(AuditEntry)) == before


def test_admin_adds_the_next_contract(client, world, login_as):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    login_as("admin")
    body = get(client, f"/elevators/{elevator.id}/contracts/new")
    start = existing.end_date + timedelta(days=1)
    assert input_value(body, "start_date") == start.isoformat()  # proposed: the day after
    assert body.count("<input checked") == 4  # every level by default
    response = client.post(
        f"/elevators/{elevator.id}/contracts/new",
        data=contract_form(
            world.foreign.contractor, start, start + timedelta(days=364), ["annual"]
        ),
    )
    assert response.status_code == 302
    contract = db.session.scalar(
        select(Contract)
        .where(Contract.contractor_id == world.foreign.contractor.id)
        .where(Contract.elevator_id == elevator.id)
    )
    assert contract.level_plan == "annual"
    assert contract.contract_no == "HT-1"
    assert len(audit_entries("Contract", "create")) == 1


def test_contract_needs_a_level(client, world, login_as):
    elevator = world.own.elevators[0]
    login_as("admin")
    start = elevator.contracts[0].end_date + timedelta(days=1)
    response = client.post(
        f"/elevators/{elevator.id}/contracts/new",
        data=contract_form(world.own.contractor, start, start + timedelta(days=30), levels=()),
    )
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "level_plan")


def test_admin_edits_a_contract_without_colliding_with_itself(client, world, login_as):
    contract = world.own.elevators[0].contracts[0]
    login_as("admin")
    body = get(client, f"/contracts/{contract.id}/edit")
    assert input_value(body, "start_date") == contract.start_date.isoformat()
    new_end = contract.end_date + timedelta(days=31)
    response = client.post(
        f"/contracts/{contract.id}/edit",
        data=contract_form(contract.contractor, contract.start_date, new_end),
    )
    assert response.status_code == 302
    db.session.refresh(contract)
    assert contract.end_date == new_end
    assert contract.contract_no == "HT-1"


def test_contract_list_filters_by_state_and_contractor(client, world, login_as):
    today = local_today()
    elevator = world.own.elevators[0]
    old = make_contract(
        elevator,
        world.foreign.contractor,
        contract_no="OLD-1",
        start_date=today - timedelta(days=500),
        end_date=today - timedelta(days=101),
    )
    soon = world.own.elevators[1].contracts[0]
    soon.end_date = today + timedelta(days=5)
    soon.contract_no = "SOON-1"
    db.session.commit()
    login_as("admin")
    ended = get(client, "/contracts?state=ended")
    assert f'data-contract="{old.id}"' in ended
    assert f'data-contract="{soon.id}"' not in ended
    expiring = get(client, "/contracts?state=expiring")
    assert re.findall(r'<tr data-contract="(\d+)"', expiring) == [str(soon.id)]
    active = get(client, "/contracts?state=active")
    assert len(re.findall(r'<tr data-contract="', active)) == 2
    assert re.findall(
        r'<tr data-contract="(\d+)"',
        get(client, f"/contracts?contractor={world.foreign.contractor.id}"),
    ) == [str(old.id)]
    assert get(client, "/contracts?state=future").count("<tr data-contract=") == 0


def test_contractor_contract_list_shows_its_own_contracts_only(client, world, login_as):
    login_as("contractor_manager")
    body = get(client, "/contracts")
    ids = set(re.findall(r'<tr data-contract="(\d+)"', body))
    assert ids == {str(e.contracts[0].id) for e in world.own.elevators}
