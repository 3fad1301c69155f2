"""A site's local rule values: who reads and sets them, the allowed range, the reason, the audit."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import User
from elevator_safety.compliance.models import RuleOverride
from elevator_safety.compliance.overrides import SETTINGS
from elevator_safety.extensions import db
from elevator_safety.registry.models import Site
from tests.factories import ROLE_ATTR, World

WRITERS = ("admin", "safety_director")
READERS_ONLY = ("safety_officer", "contractor_manager", "technician", "regulator")
RULE = "本市电梯安全管理条例 第12条"


def url(site: Site, suffix: str = "") -> str:
    return f"/sites/{site.id}/rule-values{suffix}"


def form(reason: str = RULE, **values: Any) -> dict[str, Any]:
    """Return a complete form: every setting blank unless given, and the reason."""
    data: dict[str, Any] = {setting.key: "" for setting in SETTINGS}
    data.update({key: str(value) for key, value in values.items()})
    data["reason"] = reason
    return data


def stored(site: Site) -> dict[str, tuple[int, str, int]]:
    """Return {key: (value, reason, set by)} of a site's rows."""
    db.session.expire_all()
    rows = db.session.scalars(select(RuleOverride).where(RuleOverride.site_id == site.id))
    return {row.key: (row.value, row.reason, row.set_by_id) for row in rows}


def audits(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.object_type == "RuleOverride")
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def counts() -> tuple[int, int]:
    db.session.expire_all()
    overrides = db.session.scalar(select(func.count(RuleOverride.id)))
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    return int(overrides or 0), int(entries or 0)


def add_value(world: World, key: str, value: int, reason: str = RULE) -> RuleOverride:
    row = RuleOverride(
        site_id=world.own.site.id,
        key=key,
        value=value,
        reason=reason,
        set_by_id=world.own.director.id,
    )
    db.session.add(row)
    db.session.commit()
    return row


def row_html(page: str, key: str) -> str:
    """Return the table row of one setting."""
    found = re.search(rf'<tr data-key="{key}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, key
    return found.group(1)


def text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(ROLE_ATTR))
def test_everyone_who_sees_the_site_reads_every_setting(client, world, login_as, role) -> None:
    login_as(role)
    page = text(client, url(world.own.site))
    for setting in SETTINGS:
        assert f'data-key="{setting.key}"' in page
    assert "Test each emergency alarm every" in page
    has_form = 'data-testid="rule-values-form"' in page
    assert has_form == (role in WRITERS)
    assert ('name="ALARM_TEST_INTERVAL_DAYS"' in page) == (role in WRITERS)


@pytest.mark.parametrize("role", list(ROLE_ATTR))
def test_a_site_out_of_scope_is_not_found(client, world, login_as, role) -> None:
    login_as(role)
    foreign = world.foreign.site
    assert client.get(url(foreign)).status_code == 404
    before = counts()
    expected = 404 if role in WRITERS else 403
    assert client.post(url(foreign), data=form(ALARM_TEST_INTERVAL_DAYS=14)).status_code == expected
    assert client.get(url(foreign, "/reset")).status_code == expected
    assert client.post(url(foreign, "/reset")).status_code == expected
    assert counts() == before


def test_the_table_shows_the_values_the_rule_and_who_set_it(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    login_as("safety_officer")
    page = text(client, url(world.own.site))
    row = row_html(page, "ALARM_TEST_INTERVAL_DAYS")
    assert re.search(r'data-testid="default">\s*30 days', row)
    assert re.search(r'data-testid="site-value">\s*14 days', row)
    assert re.search(r'data-testid="effective">\s*14 days', row)
    assert RULE in row
    assert world.own.director.name in row
    other = row_html(page, "SITE_DRILL_MONTHS")
    assert re.search(r'data-testid="effective">\s*12 months', other)
    assert "None" in other
    assert "not-stricter" not in page


def test_the_form_is_filled_with_the_site_values_and_shows_the_range(
    client, world, login_as
) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    login_as("admin")
    row = row_html(text(client, url(world.own.site)), "ALARM_TEST_INTERVAL_DAYS")
    assert re.search(r'name="ALARM_TEST_INTERVAL_DAYS"[^>]*value="14"', row)
    assert "Allowed: 1 to 30 days." in row
    assert 'min="1"' in row
    assert 'max="30"' in row
    warning = row_html(text(client, url(world.own.site)), "CERTIFICATE_EXPIRY_WARNING_DAYS")
    assert "Allowed: 30 to 180 days." in warning


def test_a_value_no_longer_stricter_than_the_installation_is_flagged(
    app, client, world, login_as
) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    app.config["ALARM_TEST_INTERVAL_DAYS"] = 10
    login_as("regulator")
    row = row_html(text(client, url(world.own.site)), "ALARM_TEST_INTERVAL_DAYS")
    assert 'data-testid="not-stricter"' in row


# --- saving -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", WRITERS)
def test_saving_values_writes_rows_and_an_audit_entry_each(client, world, login_as, role) -> None:
    user: User = login_as(role)
    response = client.post(
        url(world.own.site),
        data=form(ALARM_TEST_INTERVAL_DAYS=14, SITE_DRILL_MONTHS=6, DUE_SOON_DAYS=7),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(world.own.site))
    assert stored(world.own.site) == {
        "ALARM_TEST_INTERVAL_DAYS": (14, RULE, user.id),
        "SITE_DRILL_MONTHS": (6, RULE, user.id),
        "DUE_SOON_DAYS": (7, RULE, user.id),
    }
    created = {entry.object_label: entry for entry in audits("create")}
    assert len(created) == 3
    entry = created[f"{world.own.site.name} ALARM_TEST_INTERVAL_DAYS"]
    assert entry.user_id == user.id
    assert entry.organisation_id == world.own.org.id
    changes = json.loads(entry.changes or "{}")
    assert changes["value"] == [None, 14]
    assert changes["reason"] == [None, RULE]
    page = text(client, url(world.own.site))
    assert "3 local rule values changed." in page
    assert re.search(
        r'data-testid="effective">\s*14 days', row_html(page, "ALARM_TEST_INTERVAL_DAYS")
    )


def test_values_out_of_range_are_refused_with_a_message_each_and_kept(
    client, world, login_as
) -> None:
    login_as("safety_director")
    before = counts()
    response = client.post(
        url(world.own.site),
        data=form(
            ALARM_TEST_INTERVAL_DAYS=45, DUE_SOON_DAYS=1, PATROL_DUE_HOUR=13, SITE_DRILL_MONTHS=6
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert counts() == before
    alarm = row_html(page, "ALARM_TEST_INTERVAL_DAYS")
    assert "Allowed: 1 to 30 days. A site may only be stricter than the installation" in alarm
    assert "(30 days)" in alarm
    assert 'value="45"' in alarm
    soon = row_html(page, "DUE_SOON_DAYS")
    assert "Allowed: 3 to 30 days. A site may only be stricter" in soon
    assert 'value="1"' in soon
    assert "Allowed: 0 to 12 hour of the day. A site may only" in row_html(page, "PATROL_DUE_HOUR")
    drill = row_html(page, "SITE_DRILL_MONTHS")
    assert 'value="6"' in drill
    assert 'class="error"' not in drill
    assert RULE in page, "the reason typed is kept"
    assert "Please correct the fields marked below." in page


def test_a_value_that_is_not_a_whole_number_is_refused(client, world, login_as) -> None:
    login_as("admin")
    response = client.post(url(world.own.site), data=form(LOCKOUT_LONG_DAYS="two"))
    assert response.status_code == 422
    assert "Enter a whole number." in row_html(response.get_data(as_text=True), "LOCKOUT_LONG_DAYS")
    assert stored(world.own.site) == {}


def test_a_value_set_needs_the_local_rule(client, world, login_as) -> None:
    login_as("admin")
    before = counts()
    response = client.post(url(world.own.site), data=form(reason="  ", SITE_DRILL_MONTHS=6))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Name the local rule that requires these values." in page
    assert re.search(r'name="SITE_DRILL_MONTHS"[^>]*value="6"', page)
    assert counts() == before


def test_changing_a_value_updates_its_row_with_the_new_rule(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14, reason="old rule")
    add_value(world, "SITE_DRILL_MONTHS", 6, reason="drill rule")
    admin = login_as("admin")
    response = client.post(
        url(world.own.site),
        data=form(reason="new rule", ALARM_TEST_INTERVAL_DAYS=7, SITE_DRILL_MONTHS=6),
    )
    assert response.status_code == 302
    assert stored(world.own.site) == {
        "ALARM_TEST_INTERVAL_DAYS": (7, "new rule", admin.id),
        "SITE_DRILL_MONTHS": (6, "drill rule", world.own.director.id),
    }
    (entry,) = audits()
    assert entry.action == "update"
    assert json.loads(entry.changes or "{}") == {
        "value": [14, 7],
        "reason": ["old rule", "new rule"],
    }
    assert "1 local rule value changed." in text(client, url(world.own.site))


def test_clearing_one_value_removes_it_without_a_reason(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    add_value(world, "SITE_DRILL_MONTHS", 6)
    login_as("safety_director")
    response = client.post(url(world.own.site), data=form(reason="", SITE_DRILL_MONTHS=6))
    assert response.status_code == 302
    assert set(stored(world.own.site)) == {"SITE_DRILL_MONTHS"}
    (entry,) = audits()
    assert entry.action == "delete"
    assert entry.object_label == f"{world.own.site.name} ALARM_TEST_INTERVAL_DAYS"
    assert json.loads(entry.changes or "{}")["value"] == [14, None]
    row = row_html(text(client, url(world.own.site)), "ALARM_TEST_INTERVAL_DAYS")
    assert re.search(r'data-testid="effective">\s*30 days', row)


def test_a_submission_without_changes_writes_nothing(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    login_as("admin")
    before = counts()
    response = client.post(url(world.own.site), data=form(reason="", ALARM_TEST_INTERVAL_DAYS=14))
    assert response.status_code == 302
    assert counts() == before
    assert "Nothing was changed." in text(client, url(world.own.site))


# --- resetting ----------------------------------------------------------------------------


def test_a_form_with_every_field_blank_asks_for_confirmation(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    login_as("admin")
    before = counts()
    response = client.post(url(world.own.site), data=form(reason=""))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(world.own.site, "/reset"))
    assert counts() == before


def test_reset_asks_for_confirmation_then_removes_every_value(client, world, login_as) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    add_value(world, "SITE_DRILL_MONTHS", 6)
    login_as("safety_director")
    assert 'data-testid="reset-link"' in text(client, url(world.own.site))
    before = counts()
    confirm = text(client, url(world.own.site, "/reset"))
    assert counts() == before, "the confirmation page changes nothing"
    assert 'data-key="ALARM_TEST_INTERVAL_DAYS"' in confirm
    assert 'data-key="SITE_DRILL_MONTHS"' in confirm
    assert 'data-key="DUE_SOON_DAYS"' not in confirm
    assert "<script" not in confirm.split('data-testid="reset-form"')[1]
    response = client.post(url(world.own.site, "/reset"))
    assert response.status_code == 302
    assert stored(world.own.site) == {}
    removed = audits("delete")
    assert sorted(json.loads(e.changes or "{}")["value"][0] for e in removed) == [6, 14]
    page = text(client, url(world.own.site))
    assert "The site uses the installation&#39;s values again." in page
    assert 'data-testid="reset-link"' not in page


def test_reset_of_a_site_without_values_changes_nothing(client, world, login_as) -> None:
    login_as("admin")
    before = counts()
    assert client.get(url(world.own.site, "/reset")).status_code == 302
    assert client.post(url(world.own.site, "/reset")).status_code == 302
    assert counts() == before


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS_ONLY)
def test_other_roles_cannot_change_anything(client, world, login_as, role) -> None:
    add_value(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    login_as(role)
    before = counts()
    site = world.own.site
    assert client.post(url(site), data=form(ALARM_TEST_INTERVAL_DAYS=7)).status_code == 403
    assert client.post(url(site), data=form(reason="")).status_code == 403
    assert client.get(url(site, "/reset")).status_code == 403
    assert client.post(url(site, "/reset")).status_code == 403
    assert counts() == before
    assert stored(site)["ALARM_TEST_INTERVAL_DAYS"][0] == 14
