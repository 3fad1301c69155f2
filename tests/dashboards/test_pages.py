"""The matrix and district pages: access, scope, filters, cell links, and the alerts filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from elevator_safety.auth.models import OrgKind
from elevator_safety.compliance.models import State
from elevator_safety.extensions import db
from tests.dashboards.conftest import add_alert
from tests.factories import make_elevator, make_org, make_site

MATRIX = "/dashboards/matrix"
DISTRICT = "/dashboards/district"


@pytest.mark.parametrize("role", ["contractor_manager", "technician", "regulator"])
def test_matrix_refuses_other_roles(client, login_as, role):
    login_as(role)
    assert client.get(MATRIX).status_code == 403


@pytest.mark.parametrize(
    "role", ["admin", "safety_director", "safety_officer", "contractor_manager", "technician"]
)
def test_district_refuses_other_roles(client, login_as, role):
    login_as(role)
    assert client.get(DISTRICT).status_code == 403


def test_anonymous_is_sent_to_login(client):
    for url in (MATRIX, DISTRICT):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "safety_director", "safety_officer"])
def test_matrix_shows_own_elevators_with_states_and_links(client, login_as, world, role):
    own, foreign = world.own, world.foreign
    a, b = own.elevators
    add_alert(a, State.overdue, duty="D1")
    add_alert(a, State.due_soon, duty="D1", period="x")  # the worst state of a duty shows
    add_alert(b, State.due_soon, duty="D6")
    add_alert(b, State.hard_stop, duty="D11", resolved_at=datetime.now(UTC))
    add_alert(foreign.elevators[0], State.overdue, duty="D1")
    db.session.commit()
    login_as(role)
    html = client.get(MATRIX).get_data(as_text=True)
    assert f'data-elevator="{a.id}"' in html
    assert f'data-elevator="{b.id}"' in html
    assert foreign.elevators[0].equipment_code not in html
    assert "style=" not in html
    cell_a = _cell(html, a.id, "D1")
    assert 'data-state="overdue"' in cell_a
    assert "badge-bad" in cell_a
    assert f'href="/alerts?elevator={a.id}&amp;duty=D1"' in cell_a
    cell_b = _cell(html, b.id, "D6")
    assert "badge-warn" in cell_b
    assert f"/alerts?elevator={b.id}&amp;duty=D6" in cell_b
    ok_cell = _cell(html, b.id, "D11")
    assert 'data-state="ok"' in ok_cell
    assert "badge-ok" in ok_cell
    assert "href" not in ok_cell
    # site counts: 2 elevators, none fully compliant
    site_row = re.search(rf'<tr data-site="{own.site.id}">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'data-count="\w+">([^<]*)<', site_row) == ["2", "0", "0%"]
    assert 'data-testid="trend-chart"' in html
    # the trend's last point is now: the total's share (earlier weeks: no elevator yet),
    # in the chart and in its text version
    assert re.findall(r'<circle[^>]*data-share="(\d*)"', html) == ["0"]
    assert re.findall(r'<li data-share="(\d*)"', html) == [""] * 11 + ["0"]


def _cell(html: str, elevator_id: int, duty: str) -> str:
    row = re.search(rf'<tr data-elevator="{elevator_id}">.*?</tr>', html, re.S).group(0)
    return re.search(rf'<td data-duty="{duty}".*?</td>', row, re.S).group(0)


def test_matrix_filters_by_site_and_refuses_foreign_site(client, login_as, world):
    own = world.own
    other = make_site(own.org, district_code="510104")
    third = make_elevator(other, own.officer)
    db.session.commit()
    login_as("safety_director")
    html = client.get(f"{MATRIX}?site={other.id}").get_data(as_text=True)
    assert f'data-elevator="{third.id}"' in html
    assert f'data-elevator="{own.elevators[0].id}"' not in html
    assert re.search(rf'<tr data-site="{other.id}">', html)
    assert not re.search(rf'<tr data-site="{own.site.id}">', html)
    assert client.get(f"{MATRIX}?site={world.foreign.site.id}").status_code == 404
    # a malformed filter is ignored
    assert client.get(f"{MATRIX}?site=abc").status_code == 200


def test_matrix_is_paginated(app, client, login_as, world):
    app.config["PAGE_SIZE"] = 1
    login_as("safety_director")
    first = client.get(MATRIX).get_data(as_text=True)
    second = client.get(f"{MATRIX}?page=2").get_data(as_text=True)
    a, b = world.own.elevators
    assert (f'data-elevator="{a.id}"' in first) != (f'data-elevator="{a.id}"' in second)
    assert (f'data-elevator="{b.id}"' in first) != (f'data-elevator="{b.id}"' in second)


def test_matrix_site_counts_have_their_own_pages_and_the_total_counts_all(
    app, client, login_as, world
):
    own = world.own
    sites = [own.site] + [make_site(own.org, district_code="510104") for _ in range(2)]
    for extra in sites[1:]:
        make_elevator(extra, own.officer)
    add_alert(own.elevators[0], State.overdue, duty="D1")
    db.session.commit()
    site_ids = [s.id for s in sites]
    app.config["PAGE_SIZE"] = 2
    login_as("safety_director")
    pages = [client.get(f"{MATRIX}?sites={n}").get_data(as_text=True) for n in (1, 2)]
    shown = [[int(i) for i in re.findall(r'<tr data-site="(\d+)">', html)] for html in pages]
    assert [len(ids) for ids in shown] == [2, 1]
    assert sorted(shown[0] + shown[1]) == sorted(site_ids)
    for html in pages:
        total = re.search(r'<tr data-site="total">.*?</tr>', html, re.S).group(0)
        assert re.findall(r'data-count="\w+">([^<]*)<', total) == ["4", "3", "75%"]
    # the site pages link with their own argument; the elevators keep ?page=
    assert "sites=2" in pages[0]
    assert 'rel="next"' in pages[0]
    assert client.get(f"{MATRIX}?sites=x").status_code == 200


def test_matrix_site_rows_escape_names_and_link_reviews_for_the_director(client, login_as, world):
    own = world.own
    own.site.name = "<b>A&B</b>"
    add_alert(own.elevators[0], State.overdue, duty="D1")
    db.session.commit()
    login_as("safety_director")
    html = client.get(MATRIX).get_data(as_text=True)
    row = re.search(rf'<tr data-site="{own.site.id}">.*?</tr>', html, re.S).group(0)
    assert "<b>A&B</b>" not in row
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in row
    assert re.findall(r'data-count="\w+">([^<]*)<', row) == ["2", "1", "50%"]
    assert f"/sites/{own.site.id}/reviews" in row
    assert f"/sites/{own.site.id}/reviews/new?kind=weekly" in row
    assert f"/sites/{own.site.id}/reviews/new?kind=monthly" in row
    # the safety officer sees the signed reviews but not the links to sign
    login_as("safety_officer")
    html = client.get(MATRIX).get_data(as_text=True)
    row = re.search(rf'<tr data-site="{own.site.id}">.*?</tr>', html, re.S).group(0)
    assert f"/sites/{own.site.id}/reviews" in row
    assert "/reviews/new" not in row


def test_matrix_refuses_admin_of_a_contractor(client, world):
    from elevator_safety.auth.models import Role
    from tests.conftest import log_in
    from tests.factories import make_user

    admin = make_user(world.own.contractor, Role.admin)
    db.session.commit()
    log_in(client, admin)
    assert client.get(MATRIX).status_code == 403


def test_district_numbers_and_scope(client, login_as, world):
    own, foreign = world.own, world.foreign
    a, b = own.elevators
    add_alert(a, State.hard_stop, duty="D11", rule="D11.inspection")
    add_alert(b, State.overdue, duty="D8", rule="D8.rescue_late", period="7")
    add_alert(foreign.elevators[0], State.hard_stop, duty="D11", rule="D11.inspection")
    db.session.commit()
    login_as("regulator")
    html = client.get(DISTRICT).get_data(as_text=True)
    summary = re.search(r'data-testid="district-summary".*?</section>', html, re.S).group(0)
    assert re.findall(r'data-count="[\w-]+">(\d+)', summary) == ["2", "0", "1", "1"]
    company = re.search(r'data-testid="company-rates".*?</table>', html, re.S).group(0)
    assert f'data-org="{own.org.id}"' in company
    assert f'data-org="{foreign.org.id}"' not in company
    contractors = re.search(r'data-testid="contractor-rates".*?</table>', html, re.S).group(0)
    assert f'data-org="{own.contractor.id}"' in contractors
    worst = re.search(r'data-testid="worst".*?</table>', html, re.S).group(0)
    assert worst.index(f'data-elevator="{a.id}"') < worst.index(f'data-elevator="{b.id}"')
    assert foreign.elevators[0].equipment_code not in html
    assert "style=" not in html


def test_district_filters_by_company_and_site(client, login_as, world):
    own = world.own
    company = make_org(OrgKind.property_company)
    other_site = make_site(company, district_code="510104")
    third = make_elevator(other_site, own.officer)
    add_alert(third, State.overdue, duty="D1")
    db.session.commit()
    login_as("regulator")
    html = client.get(f"{DISTRICT}?company={company.id}").get_data(as_text=True)
    assert f'data-elevator="{third.id}"' in html
    company_table = re.search(r'data-testid="company-rates".*?</table>', html, re.S).group(0)
    assert f'data-org="{company.id}"' in company_table
    assert f'data-org="{own.org.id}"' not in company_table
    html = client.get(f"{DISTRICT}?site={own.site.id}").get_data(as_text=True)
    assert f'data-elevator="{third.id}"' not in html
    assert client.get(f"{DISTRICT}?site={world.foreign.site.id}").status_code == 404
    assert client.get(f"{DISTRICT}?company={world.foreign.org.id}").status_code == 404


def test_alerts_filter_by_elevator(client, login_as, world):
    a, b = world.own.elevators
    first = add_alert(a, State.overdue, duty="D3", rule="D3.patrol", period="2026-11-27")
    second = add_alert(b, State.overdue, duty="D3", rule="D3.patrol", period="2026-11-27")
    third = add_alert(a, State.overdue, duty="D1", rule="D1.maintenance.half_monthly")
    foreign = add_alert(world.foreign.elevators[0], State.overdue, duty="D3")
    db.session.commit()
    login_as("safety_director")
    html = client.get(f"/alerts?elevator={a.id}&duty=D3").get_data(as_text=True)
    assert f'data-alert="{first.id}"' in html
    assert f'data-alert="{second.id}"' not in html
    assert f'data-alert="{third.id}"' not in html
    html = client.get(f"/alerts?elevator={world.foreign.elevators[0].id}").get_data(as_text=True)
    assert f'data-alert="{foreign.id}"' not in html  # out of scope stays hidden
    html = client.get("/alerts?elevator=x").get_data(as_text=True)
    assert f'data-alert="{second.id}"' in html  # a malformed filter is ignored
