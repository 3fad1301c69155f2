"""The safety director's weekly check (周排查) and monthly review (月调度) as signed entries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from elevator_safety.compliance.models import Alert, State
from elevator_safety.dashboards import reviews
from elevator_safety.extensions import db
from elevator_safety.registers.chain import verify_sites
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from tests.factories import PASSWORD

# Saturday 28 November 2026, 18:00 in Shanghai: ISO week 48, month 11.
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _alert(elevator, duty: str, state: State, resolved: bool = False) -> Alert:  # type: ignore[no-untyped-def]
    alert = Alert(
        elevator_id=elevator.id,
        rule=f"{duty}.test",
        duty=duty,
        period="p",
        state=state,
        detail={},
        raised_at=NOW,
        last_seen_at=NOW,
        resolved_at=NOW if resolved else None,
    )
    db.session.add(alert)
    return alert


@pytest.fixture
def alerts(world):  # type: ignore[no-untyped-def]
    first, second = world.own.elevators
    _alert(first, "D11", State.hard_stop)
    _alert(first, "D3", State.due_soon)
    _alert(second, "D1", State.overdue, resolved=True)
    _alert(world.foreign.elevators[0], "D9", State.overdue)
    db.session.commit()
    return first, second


def _entries() -> int:
    return int(db.session.scalar(select(func.count(RegisterEntry.id))) or 0)


def _post(client, site_id: int, kind: str = "weekly", **data):  # type: ignore[no-untyped-def]
    form = {"comments": "Lift 1 must stay locked until the inspection.", "password": PASSWORD}
    form |= data
    return client.post(f"/sites/{site_id}/reviews/new?kind={kind}", data=form)


def test_periods_and_bounds() -> None:
    assert reviews.period_of("weekly", date(2026, 11, 28)) == "2026-W48"
    assert reviews.period_of("weekly", date(2026, 11, 30)) == "2026-W49"
    assert reviews.period_of("weekly", date(2027, 1, 1)) == "2026-W53"
    assert reviews.period_of("monthly", date(2026, 11, 30)) == "2026-11"
    assert reviews.period_bounds("weekly", date(2026, 11, 28)) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert reviews.period_bounds("monthly", date(2026, 2, 14)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert reviews.period_bounds("monthly", date(2026, 12, 31)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )


def test_snapshot_counts(app, world, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    first, _second = alerts
    snap = reviews.snapshot(world.own.site)
    assert (snap.elevators, snap.compliant, snap.share) == (2, 1, 50)
    assert snap.not_ok["D11"] == 1
    assert snap.not_ok["D3"] == 1
    assert snap.not_ok["D1"] == 0  # resolved alerts do not count
    assert snap.not_ok["D9"] == 0  # the foreign site's alert does not count
    assert snap.listed == [
        {
            "elevator_id": first.id,
            "code": first.equipment_code,
            "location": first.location or "",
            "states": {"D3": "due_soon", "D11": "hard_stop"},
        }
    ]


def test_form_shows_snapshot(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    response = client.get(f"/sites/{world.own.site.id}/reviews/new?kind=weekly")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Weekly check 2026-W48" in html
    assert 'data-count="compliant">1<' in html
    assert 'data-count="share">50%<' in html
    assert f'data-code="{alerts[0].equipment_code}"' in html
    assert 'data-state="hard_stop"' in html
    monthly = client.get(f"/sites/{world.own.site.id}/reviews/new?kind=monthly")
    assert "Monthly review 2026-11" in monthly.get_data(as_text=True)
    assert client.get(f"/sites/{world.own.site.id}/reviews/new?kind=daily").status_code == 404


def test_weekly_check_signed(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    director = login_as("safety_director")
    site = world.own.site
    response = _post(client, site.id, idempotency_key="tok-week-1")
    assert response.status_code == 302
    entry = db.session.scalar(select(RegisterEntry).where(RegisterEntry.site_id == site.id))
    assert entry is not None
    assert response.headers["Location"].endswith(f"/register-entries/{entry.id}")
    assert entry.kind == RegisterKind.weekly_check
    assert entry.on_date == date(2026, 11, 28)
    assert entry.author_id == director.id
    data = entry.data
    assert [(s["signer_id"], s["meaning"]) for s in data["signatures"]] == [
        (director.id, "recorded")
    ]
    body = data["body"]
    assert body["period"] == "2026-W48"
    assert body["elevators"] == 2
    assert body["compliant"] == 1
    assert body["share_percent"] == 50
    assert body["not_ok_by_duty"]["D11"] == 1
    assert body["not_ok_by_duty"]["D1"] == 0
    assert body["listed_elevators"][0]["code"] == alerts[0].equipment_code
    assert body["listed_elevators"][0]["states"] == {"D3": "due_soon", "D11": "hard_stop"}
    assert body["comments"] == "Lift 1 must stay locked until the inspection."
    assert verify_sites([site.id]).ok
    page = client.get(f"/register-entries/{entry.id}").get_data(as_text=True)
    assert "2026-W48" in page
    assert "Lift 1 must stay locked until the inspection." in page
    assert 'data-state="hard_stop"' in page
    listing = client.get(f"/sites/{site.id}/reviews").get_data(as_text=True)
    assert f'data-entry="{entry.id}"' in listing
    assert "1/2 (50%)" in listing


def test_monthly_review_signed(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    site = world.own.site
    assert _post(client, site.id, "weekly").status_code == 302
    assert _post(client, site.id, "monthly").status_code == 302
    kinds = db.session.scalars(
        select(RegisterEntry.kind)
        .where(RegisterEntry.site_id == site.id)
        .order_by(RegisterEntry.seq)
    ).all()
    assert kinds == [RegisterKind.weekly_check, RegisterKind.monthly_review]
    monthly = db.session.scalar(
        select(RegisterEntry).where(RegisterEntry.kind == RegisterKind.monthly_review)
    )
    assert monthly is not None
    assert monthly.data["body"]["period"] == "2026-11"
    assert verify_sites([site.id]).ok


def test_wrong_password_writes_nothing(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    response = _post(client, world.own.site.id, password="not-it")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Wrong password: the signature was not made." in html
    assert "Lift 1 must stay locked until the inspection." in html  # the comments are kept
    assert _entries() == 0
    assert _post(client, world.own.site.id, password="").status_code == 422
    assert _entries() == 0


def test_comments_required(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    response = _post(client, world.own.site.id, comments="   ")
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    assert _entries() == 0


def test_second_review_of_a_period_refused(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    site = world.own.site
    assert _post(client, site.id, idempotency_key="first").status_code == 302
    # later in the same ISO week (Sunday evening in Shanghai), another form
    frozen.move_to(datetime(2026, 11, 29, 15, 0, tzinfo=UTC))
    login_as("safety_director")  # a new session: the first one has expired
    response = _post(client, site.id, idempotency_key="second")
    assert response.status_code == 422
    assert "The weekly check of week 2026-W48 was already signed for this site." in (
        response.get_data(as_text=True)
    )
    assert _entries() == 1
    shown = client.get(f"/sites/{site.id}/reviews/new?kind=weekly").get_data(as_text=True)
    assert 'data-testid="review-exists"' in shown
    # Monday 01:00 in Shanghai (Sunday 17:00 UTC): a new week
    frozen.move_to(datetime(2026, 11, 29, 17, 0, tzinfo=UTC))
    login_as("safety_director")
    assert _post(client, site.id, idempotency_key="third").status_code == 302
    assert _entries() == 2
    last = db.session.scalar(select(RegisterEntry).order_by(RegisterEntry.id.desc()).limit(1))
    assert last is not None
    assert last.data["body"]["period"] == "2026-W49"
    assert last.on_date == date(2026, 11, 30)
    # the monthly review of November was not signed; December's is a new period anyway
    assert _post(client, site.id, "monthly", idempotency_key="m1").status_code == 302
    response = _post(client, site.id, "monthly", idempotency_key="m2")
    assert response.status_code == 422
    assert "The monthly review of 2026-11 was already signed for this site." in (
        response.get_data(as_text=True)
    )
    assert verify_sites([site.id]).ok


def test_resubmitted_form_goes_to_first_entry(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    first = _post(client, world.own.site.id, idempotency_key="same")
    again = _post(client, world.own.site.id, idempotency_key="same")
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _entries() == 1


@pytest.mark.parametrize(
    "role", ["admin", "safety_officer", "contractor_manager", "technician", "regulator"]
)
def test_only_the_director_signs(client, world, login_as, alerts, frozen, role) -> None:  # type: ignore[no-untyped-def]
    login_as(role)
    site = world.own.site
    assert client.get(f"/sites/{site.id}/reviews/new?kind=weekly").status_code == 403
    assert _post(client, site.id).status_code == 403
    assert _entries() == 0


def test_foreign_site_is_404(client, world, login_as, alerts, frozen) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    site = world.foreign.site
    assert client.get(f"/sites/{site.id}/reviews/new?kind=weekly").status_code == 404
    assert _post(client, site.id).status_code == 404
    assert client.get(f"/sites/{site.id}/reviews").status_code == 404
    assert _entries() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("safety_director", 200),
        ("safety_officer", 200),
        ("regulator", 200),
        ("contractor_manager", 403),
        ("technician", 403),
    ],
)
def test_list_roles(client, world, login_as, role, status) -> None:  # type: ignore[no-untyped-def]
    login_as(role)
    response = client.get(f"/sites/{world.own.site.id}/reviews")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "No review yet." in html
        assert ("/reviews/new?kind=weekly" in html) == (role == "safety_director")


def test_matrix_links(client, world, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("safety_director")
    html = client.get("/dashboards/matrix").get_data(as_text=True)
    assert f"/sites/{world.own.site.id}/reviews/new?kind=weekly" in html
    assert f"/sites/{world.own.site.id}/reviews/new?kind=monthly" in html
    login_as("safety_officer")
    html = client.get("/dashboards/matrix").get_data(as_text=True)
    assert "/reviews/new" not in html
    assert f"/sites/{world.own.site.id}/reviews" in html
