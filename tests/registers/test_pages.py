"""The register pages: index, site hub, logs, entry page, the elevator and home panels, access."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from flask import render_template_string

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registers import services
from elevator_safety.registers.models import RegisterKind
from tests.conftest import log_in
from tests.factories import PASSWORD, make_site
from tests.registers.conftest import add_key, entries, sh


def test_index_lists_own_sites_with_a_summary(client, login_as, world, frozen):
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    services.issue_key(
        site,
        key,
        officer,
        PASSWORD,
        holder="Li",
        certificate_no="T-1",
        purpose=None,
        issued_at=now_utc(),
    )
    db.session.commit()
    login_as("safety_director")
    html = client.get("/registers").get_data(as_text=True)
    assert f'data-site="{site.id}"' in html
    assert f'data-site="{world.foreign.site.id}"' not in html
    assert 'data-keys-out="1"' in html
    assert 'data-gap-days="7"' in html  # nobody on the roster
    assert 'data-alarms-overdue="2"' in html


def test_index_is_paginated(app, client, login_as, world):
    app.config["PAGE_SIZE"] = 2
    for _n in range(3):
        make_site(world.own.org)
    db.session.commit()
    login_as("admin")
    first = client.get("/registers").get_data(as_text=True)
    assert first.count("data-site=") == 2
    assert "4 in all" in first
    second = client.get("/registers?page=2").get_data(as_text=True)
    assert second.count("data-site=") == 2


def test_regulator_reads_sites_of_the_district_only(client, login_as, world):
    login_as("regulator")
    assert client.get(f"/sites/{world.own.site.id}/registers").status_code == 200
    assert client.get(f"/sites/{world.foreign.site.id}/registers").status_code == 404
    html = client.get("/registers").get_data(as_text=True)
    assert f'data-site="{world.own.site.id}"' in html
    assert f'data-site="{world.foreign.site.id}"' not in html


@pytest.mark.parametrize("role", ["technician", "contractor_manager"])
def test_contractors_see_no_site_registers(client, login_as, world, role):
    login_as(role)
    assert client.get("/registers").status_code == 403
    assert client.get(f"/sites/{world.own.site.id}/registers").status_code == 403
    assert services.unreturned_keys_for(world.own.technician) == []


def test_contractors_read_alarm_tests_of_their_elevators(client, login_as, world, frozen):
    world.own.elevators[0].contracts[0].start_date = date(2026, 1, 1)
    db.session.commit()
    record = services.record_alarm_test(
        world.own.elevators[0],
        world.own.officer,
        PASSWORD,
        tested_at=now_utc(),
        answered=True,
        answered_in_seconds=10,
        answered_by="Wang",
        talk_clear=True,
        note=None,
    )
    db.session.commit()
    login_as("technician")
    assert client.get(f"/records/{record.id}").status_code == 200
    log_in(client, world.foreign.technician)
    assert client.get(f"/records/{record.id}").status_code == 404


def test_foreign_officer_cannot_write(client, world):
    log_in(client, world.foreign.officer)
    site = world.own.site
    assert client.post(f"/sites/{site.id}/roster/new", data={}).status_code == 404
    assert client.get(f"/elevators/{world.own.elevators[0].id}/alarm-tests/new").status_code == 404
    assert entries() == []


def test_logs_and_entry_page(client, login_as, world, frozen):
    site, officer = world.own.site, world.own.officer
    shift = services.add_shift(
        site,
        officer,
        PASSWORD,
        starts_at=sh(2026, 5, 4, 8),
        ends_at=sh(2026, 5, 4, 20),
        person="Night Owl",
        phone="139",
        place="值班室",
    )
    db.session.commit()
    withdrawal = services.withdraw_shift(site, shift, officer, PASSWORD, reason="Typo")
    db.session.commit()
    login_as("regulator")
    roster = client.get(f"/sites/{site.id}/registers/log?register=roster").get_data(as_text=True)
    assert "Night Owl" in roster
    assert "Withdrawn" in roster
    assert "Typo" in roster
    keys = client.get(f"/sites/{site.id}/registers/log?register=nonsense")
    assert keys.status_code == 200
    assert "No entries yet." in keys.get_data(as_text=True)
    page = client.get(f"/register-entries/{shift.id}").get_data(as_text=True)
    assert "This shift was withdrawn." in page
    assert shift.chain_hash in page
    assert f"/register-entries/{withdrawal.id}" in page
    assert "Withdraw this shift" not in page  # regulators read only
    assert client.get("/register-entries/999999").status_code == 404


def test_entry_of_a_foreign_site_is_404(client, login_as, world, frozen):
    foreign = services.add_shift(
        world.foreign.site,
        world.foreign.officer,
        PASSWORD,
        starts_at=sh(2026, 5, 4, 8),
        ends_at=sh(2026, 5, 4, 20),
        person="X",
        phone=None,
        place=None,
    )
    db.session.commit()
    login_as("safety_officer")
    assert client.get(f"/register-entries/{foreign.id}").status_code == 404


def test_elevator_panel(client, login_as, world, frozen):
    site, officer = world.own.site, world.own.officer
    elevator = world.own.elevators[0]
    services.add_shift(
        site,
        officer,
        PASSWORD,
        starts_at=sh(2026, 5, 4, 0),
        ends_at=sh(2026, 5, 4, 18),
        person="Panel Person",
        phone="137",
        place=None,
    )
    key = add_key(site, "PK-1")
    services.issue_key(
        site,
        key,
        officer,
        PASSWORD,
        holder="Holder Hu",
        certificate_no="T-9",
        purpose=None,
        issued_at=now_utc(),
    )
    db.session.commit()
    template = '{% include "registers/_elevator_panel.html" %}'
    from flask_login import login_user

    with client.application.test_request_context():
        login_user(officer)
        html = render_template_string(template, elevator=elevator)
    assert 'data-testid="registers-panel"' in html
    assert "Panel Person" in html
    assert "gap 18:00–24:00" in html
    assert "Holder Hu" in html
    assert "Record an alarm test" in html
    assert 'data-alarm="never"' in html


def test_home_panel_lists_late_keys(client, world):
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    with time_machine.travel(sh(2026, 5, 4, 9), tick=False):
        services.issue_key(
            site,
            key,
            officer,
            PASSWORD,
            holder="Late Lu",
            certificate_no="T-1",
            purpose=None,
            issued_at=now_utc(),
        )
        db.session.commit()
    template = '{% include "registers/_home_panel.html" %}'
    from flask_login import login_user

    with (
        time_machine.travel(sh(2026, 5, 4, 23, 59), tick=False),
        client.application.test_request_context(),
    ):
        login_user(officer)
        assert "Late Lu" not in render_template_string(template)
    with time_machine.travel(sh(2026, 5, 5, 0, 0) + timedelta(minutes=1), tick=False):
        with client.application.test_request_context():
            login_user(officer)
            assert "Late Lu" in render_template_string(template)
        with client.application.test_request_context():
            login_user(world.own.manager)
            assert "Late Lu" not in render_template_string(template)


def test_hub_forms_are_phone_ready(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    html = client.get(f"/sites/{site.id}/roster/new").get_data(as_text=True)
    assert 'name="viewport"' in html
    assert 'type="datetime-local"' in html
    hub = client.get(f"/sites/{site.id}/registers").get_data(as_text=True)
    assert 'class="table responsive"' in hub
    assert entries(RegisterKind.roster_shift) == []
