"""Administration of one's own organisation: users, invitations, the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import Invitation, Role, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from tests.factories import make_user


@pytest.fixture
def app_config(app_config, request):
    """Speak English (the assertions read English messages); a test may add settings."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"} | getattr(request, "param", {})


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_actions(obj_id: int | None = None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if obj_id is not None:
        query = query.where(AuditEntry.object_id == obj_id, AuditEntry.object_type == "User")
    return list(db.session.scalars(query))


def listed_user_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-user-id="(\d+)"', html)}


def invitation_path(html: str) -> str:
    match = re.search(r'data-copy="([^"]+)"', html)
    assert match, "the page offers the link to copy"
    return urlsplit(match.group(1)).path


# --- who may come here --------------------------------------------------------


def test_admin_sees_only_its_organisations_users(client, world, login_as):
    login_as("admin")
    response = client.get("/admin/users")
    assert response.status_code == 200
    own = world.own
    assert listed_user_ids(response.text) == {own.admin.id, own.director.id, own.officer.id}
    assert own.officer.email in response.text
    assert "T-0001" in response.text  # certificate number shown
    assert "Safety officer" in response.text  # role label
    assert world.foreign.admin.email not in response.text
    assert own.manager.email not in response.text  # the contractor is another organisation


def test_contractor_manager_manages_its_technicians(client, world, login_as):
    manager = login_as("contractor_manager")
    technician = world.own.technician

    listing = client.get("/admin/users")
    assert listed_user_ids(listing.text) == {manager.id, technician.id}

    form = client.get("/admin/users/invite").text
    assert 'value="technician"' in form
    assert 'value="contractor_manager"' in form
    assert 'value="safety_officer"' not in form  # property-company roles are not offered

    response = client.post(
        "/admin/users/invite",
        data={
            "name": "王师傅",
            "phone": "138-0000-1111",
            "role": "technician",
            "certificate_no": "TS-9",
        },
    )
    assert response.status_code == 200
    invited = db.session.scalar(select(User).where(User.phone == "13800001111"))
    assert invited is not None
    assert invited.organisation_id == manager.organisation_id
    assert invited.role == Role.technician
    assert invited.certificate_no == "TS-9"
    assert invited.password_hash is None

    response = client.post(
        f"/admin/users/{technician.id}/edit",
        data={"name": "Li Gong", "role": "technician", "certificate_no": "T-5678"},
    )
    assert response.status_code == 302
    db.session.refresh(technician)
    assert (technician.name, technician.certificate_no) == ("Li Gong", "T-5678")

    assert client.post(f"/admin/users/{technician.id}/deactivate").status_code == 302
    db.session.refresh(technician)
    assert technician.active is False


NON_MANAGERS = ["safety_director", "safety_officer", "technician", "regulator"]
ROUTES = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/invite"),
    ("POST", "/admin/users/invite"),
    ("GET", "/admin/users/{id}/edit"),
    ("POST", "/admin/users/{id}/edit"),
    ("POST", "/admin/users/{id}/deactivate"),
    ("POST", "/admin/users/{id}/activate"),
    ("POST", "/admin/users/{id}/invitation"),
    ("GET", "/admin/audit"),
]


@pytest.mark.parametrize("role", NON_MANAGERS)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_roles_without_user_management_get_403(client, world, login_as, role, method, path):
    user = login_as(role)
    colleague = world.own.officer if role == "safety_director" else user
    before_users, before_audit = count(User), count(AuditEntry)
    data = {"name": "X", "email": "x@example.com", "role": "technician"}
    response = client.open(path.format(id=colleague.id), method=method, data=data)
    assert response.status_code == 403
    assert count(User) == before_users
    assert count(AuditEntry) == before_audit
    db.session.refresh(colleague)
    assert colleague.active is True


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/users/{id}/edit"),
        ("POST", "/admin/users/{id}/edit"),
        ("POST", "/admin/users/{id}/deactivate"),
        ("POST", "/admin/users/{id}/activate"),
        ("POST", "/admin/users/{id}/invitation"),
    ],
)
def test_users_of_other_organisations_are_not_found(client, world, login_as, method, path):
    login_as("admin")
    for stranger in (world.foreign.director, world.own.technician):
        data = {"name": "Hijacked", "role": "safety_director"}
        response = client.open(path.format(id=stranger.id), method=method, data=data)
        assert response.status_code == 404
        db.session.refresh(stranger)
        assert stranger.active is True
        assert stranger.name != "Hijacked"
    assert client.get("/admin/users/999999/edit").status_code == 404


# --- the user list ------------------------------------------------------------


def test_user_list_filters(client, world, login_as):
    admin = login_as("admin")
    org = world.own.org
    gone = make_user(org, Role.safety_officer, name="Zhao Gone", active=False)
    phoned = make_user(org, Role.safety_officer, name="Qian Phone", email=None, phone="13912345678")
    db.session.commit()

    def ids(**args: str) -> set[int]:
        response = client.get("/admin/users", query_string=args)
        assert response.status_code == 200
        return listed_user_ids(response.text)

    officers = {world.own.officer.id, gone.id, phoned.id}
    assert ids(role="safety_officer") == officers
    assert ids(state="inactive") == {gone.id}
    assert gone.id not in ids(state="active")
    assert ids(q="139 1234") == {phoned.id}  # phone, typed with a space
    assert ids(q="zhao") == {gone.id}  # name, any case
    assert ids(q=admin.email.upper()) == {admin.id}  # e-mail
    assert ids(q="%") == set()  # wildcards are literal
    assert ids(role="bogus") == ids()  # an invalid filter is ignored, not an error


def test_user_list_is_paginated(client, world, login_as):
    login_as("admin")
    for n in range(30):
        make_user(world.own.org, Role.safety_officer, name=f"Officer {n:02d}")
    db.session.commit()
    first = client.get("/admin/users")
    second = client.get("/admin/users?page=2")
    beyond = client.get("/admin/users?page=99")
    assert len(listed_user_ids(first.text)) == 25  # PAGE_SIZE
    assert len(listed_user_ids(second.text)) == 33 - 25
    assert listed_user_ids(first.text).isdisjoint(listed_user_ids(second.text))
    assert "33 in all" in first.text
    assert beyond.status_code == 200  # error_out=False
    assert listed_user_ids(beyond.text) == set()


# --- invitations --------------------------------------------------------------


def test_invite_shows_the_link_once_and_the_link_works(app, client, world, login_as):
    admin = login_as("admin")
    response = client.post(
        "/admin/users/invite",
        data={"name": "Sun Officer", "email": "Sun@Example.com", "role": "safety_officer"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    path = invitation_path(response.text)
    assert path.startswith("/invite/")
    assert "valid for 7 days" in response.text

    invited = db.session.scalar(select(User).where(User.email == "sun@example.com"))
    assert invited is not None
    assert invited.organisation_id == admin.organisation_id
    invitation = db.session.scalar(select(Invitation).where(Invitation.user_id == invited.id))
    assert invitation.created_by_id == admin.id
    days = app.config["INVITE_VALID_DAYS"]
    assert abs(invitation.expires_at - (now_utc() + timedelta(days=days))) < timedelta(minutes=1)
    assert audit_actions(invited.id) == ["create", "invite"]
    # The token is shown, never stored.
    assert path.rsplit("/", 1)[1] not in invitation.token_hash

    invitee = app.test_client()
    assert invitee.get(path).status_code == 200


def test_invite_with_a_duplicate_email_rerenders_and_writes_nothing(client, world, login_as):
    login_as("admin")
    taken = world.foreign.director.email  # unique across the platform, not per organisation
    before = (count(User), count(AuditEntry), count(Invitation))
    response = client.post(
        "/admin/users/invite",
        data={
            "name": "Copy Cat",
            "email": taken.upper(),
            "phone": "13700000000",
            "role": "safety_officer",
        },
    )
    assert response.status_code == 200
    assert re.search(r'data-field="email">Another user already uses this\.<', response.text)
    assert 'value="Copy Cat"' in response.text  # the user's values are kept
    assert 'value="13700000000"' in response.text
    assert (count(User), count(AuditEntry), count(Invitation)) == before


def test_invite_with_a_duplicate_phone_names_the_phone(client, world, login_as):
    login_as("admin")
    world.foreign.officer.phone = "13600000000"
    db.session.commit()
    before = count(User)
    response = client.post(
        "/admin/users/invite",
        data={"name": "Copy Cat", "phone": "136 0000 0000", "role": "safety_officer"},
    )
    assert re.search(r'data-field="phone">Another user already uses this\.<', response.text)
    assert count(User) == before


@pytest.mark.parametrize("role", ["technician", "regulator", "superuser", ""])
def test_role_not_allowed_for_the_organisation_is_refused(client, world, login_as, role):
    login_as("admin")
    before = (count(User), count(AuditEntry))
    response = client.post(
        "/admin/users/invite", data={"name": "Wrong Role", "email": "wr@example.com", "role": role}
    )
    assert response.status_code == 200
    assert re.search(r'class="error" id="role-error" data-field="role"', response.text)
    assert (count(User), count(AuditEntry)) == before


def test_invite_needs_an_email_or_a_phone(client, world, login_as):
    login_as("admin")
    before = count(User)
    response = client.post("/admin/users/invite", data={"name": "Nobody", "role": "safety_officer"})
    assert "Give an e-mail address or a phone number." in response.text
    assert count(User) == before


def test_new_invitation_link_replaces_the_old_one(app, client, world, login_as):
    login_as("admin")
    first = client.post(
        "/admin/users/invite",
        data={"name": "Lost Link", "email": "lost@example.com", "role": "safety_officer"},
    )
    old_path = invitation_path(first.text)
    invited = db.session.scalar(select(User).where(User.email == "lost@example.com"))

    second = client.post(f"/admin/users/{invited.id}/invitation")
    assert second.status_code == 200
    new_path = invitation_path(second.text)
    assert new_path != old_path
    other = app.test_client()
    assert other.get(old_path).status_code == 404
    assert other.get(new_path).status_code == 200
    assert audit_actions(invited.id) == ["create", "invite", "invite"]


def test_no_new_invitation_for_a_user_with_a_password(client, world, login_as):
    login_as("admin")
    officer = world.own.officer
    response = client.post(f"/admin/users/{officer.id}/invitation", follow_redirects=True)
    assert "has already set a password" in response.text
    assert count(Invitation) == 0


# --- edit, deactivate, activate -----------------------------------------------


def test_role_change_ends_the_users_sessions_and_is_audited(client, world, login_as):
    login_as("admin")
    officer = world.own.officer
    response = client.post(
        f"/admin/users/{officer.id}/edit",
        data={"name": officer.name, "role": "safety_director", "certificate_no": "T-0001"},
    )
    assert response.status_code == 302
    db.session.refresh(officer)
    assert officer.role == Role.safety_director
    assert officer.session_version == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.object_id == officer.id
    assert entry.changes_dict == {"role": ["safety_officer", "safety_director"]}


def test_cannot_change_ones_own_role(client, world, login_as):
    admin = login_as("admin")
    response = client.post(
        f"/admin/users/{admin.id}/edit", data={"name": "New Name", "role": "safety_officer"}
    )
    assert response.status_code == 200
    assert re.search(r'data-field="role">You cannot change your own role\.<', response.text)
    db.session.refresh(admin)
    assert admin.role == Role.admin
    assert admin.name != "New Name"  # nothing of the refused form is saved


def test_deactivate_and_activate_are_audited_and_end_sessions(client, world, login_as):
    login_as("admin")
    director = world.own.director
    page = client.get(f"/admin/users/{director.id}/edit").text
    assert re.search(r"<form[^>]+/deactivate\"[^>]*\s+data-confirm=\"Deactivate", page)

    response = client.post(f"/admin/users/{director.id}/deactivate", follow_redirects=True)
    assert "is deactivated" in response.text
    db.session.refresh(director)
    assert (director.active, director.session_version) == (False, 2)

    client.post(f"/admin/users/{director.id}/activate")
    db.session.refresh(director)
    assert (director.active, director.session_version) == (True, 3)

    entries = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == director.id).order_by(AuditEntry.id)
        )
    )
    assert [e.action for e in entries] == ["deactivate", "activate"]
    assert entries[0].changes_dict == {"active": [True, False]}
    assert {e.user_id for e in entries} == {world.own.admin.id}
    assert {e.organisation_id for e in entries} == {world.own.org.id}


def test_cannot_deactivate_oneself(client, world, login_as):
    admin = login_as("admin")
    response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.text
    db.session.refresh(admin)
    assert (admin.active, admin.session_version) == (True, 1)
    assert count(AuditEntry) == 0


# --- the audit log ------------------------------------------------------------


def add_entry(org_id: int, action: str, at: datetime, **kw) -> AuditEntry:  # type: ignore[no-untyped-def]
    entry = AuditEntry(organisation_id=org_id, action=action, at=at, **kw)
    db.session.add(entry)
    return entry


def listed_audit_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-audit-id="(\d+)"', html)]


def test_audit_log_shows_only_the_organisations_entries(client, world, login_as):
    admin = login_as("admin")
    own, foreign = world.own.org.id, world.foreign.org.id
    mine = add_entry(
        own,
        "update",
        datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
        user_id=admin.id,
        ip="10.0.0.7",
        object_type="User",
        object_label="someone@example.com",
        changes='{"name": ["Old Name", "New Name"]}',
    )
    newer = add_entry(own, "login", datetime(2026, 3, 2, 2, 0, tzinfo=UTC), user_id=admin.id)
    theirs = add_entry(foreign, "update", datetime(2026, 3, 1, 3, 0, tzinfo=UTC))
    contractor = add_entry(world.own.contractor.id, "login", datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    db.session.commit()

    response = client.get("/admin/audit")
    assert response.status_code == 200
    assert listed_audit_ids(response.text) == [newer.id, mine.id]  # newest first
    assert theirs.id not in listed_audit_ids(response.text)
    assert contractor.id not in listed_audit_ids(response.text)
    row = response.text.split(f'data-audit-id="{mine.id}"', 1)[1].split("</tr>", 1)[0]
    assert "2026-03-01 10:00 +0800" in row  # shown in the installation's zone
    assert admin.name in row
    assert "10.0.0.7" in row
    assert "someone@example.com" in row
    assert "Old Name → New Name" in row


def test_audit_log_filters_by_action_user_and_local_dates(client, world, login_as):
    admin = login_as("admin")
    org = world.own.org.id
    director = world.own.director
    # 2026-03-01 23:59 and 2026-03-02 00:30 in Shanghai (UTC+8).
    late_first = add_entry(
        org,
        "update",
        datetime(2026, 3, 1, 15, 59, tzinfo=UTC),
        user_id=admin.id,
        object_type="User",
    )
    early_second = add_entry(
        org, "login", datetime(2026, 3, 1, 16, 30, tzinfo=UTC), user_id=director.id
    )
    end_second = add_entry(
        org, "update", datetime(2026, 3, 2, 15, 59, tzinfo=UTC), user_id=admin.id
    )
    third = add_entry(org, "update", datetime(2026, 3, 2, 16, 0, tzinfo=UTC), user_id=admin.id)
    db.session.commit()

    def ids(**args: str) -> list[int]:
        response = client.get("/admin/audit", query_string=args)
        assert response.status_code == 200
        return listed_audit_ids(response.text)

    assert ids(action="update") == [third.id, end_second.id, late_first.id]
    assert ids(action="login") == [early_second.id]
    assert ids(user=str(director.id)) == [early_second.id]
    assert ids(date_from="2026-03-02", date_to="2026-03-02") == [end_second.id, early_second.id]
    assert ids(date_from="2026-03-02") == [third.id, end_second.id, early_second.id]
    assert ids(date_to="2026-03-01") == [late_first.id]
    assert ids(action="update", date_from="2026-03-02", date_to="2026-03-02") == [end_second.id]
    assert ids(object_type="User") == [late_first.id]
    response = client.get("/admin/audit", query_string={"date_from": "yesterday"})
    assert "Enter a date as YYYY-MM-DD." in response.text
    assert listed_audit_ids(response.text) == [
        third.id,
        end_second.id,
        early_second.id,
        late_first.id,
    ]


def test_audit_log_records_the_admins_own_work(client, world, login_as):
    login_as("admin")
    client.post(f"/admin/users/{world.own.director.id}/deactivate")
    response = client.get(
        "/admin/audit", query_string={"action": "deactivate", "object_type": "User"}
    )
    assert len(listed_audit_ids(response.text)) == 1
    assert world.own.director.login in response.text


def test_manager_sees_its_organisations_audit_log(client, world, login_as):
    manager = login_as("contractor_manager")
    add_entry(world.own.org.id, "update", now_utc())
    mine = add_entry(manager.organisation_id, "login", now_utc(), user_id=manager.id)
    db.session.commit()
    assert listed_audit_ids(client.get("/admin/audit").text) == [mine.id]
