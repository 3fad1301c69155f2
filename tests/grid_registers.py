"""Access grid of the duty registers (D4 keys, D6 roster and alarm tests, D7 video checks).

Readers are the property company's staff and regulators (contractors get 403);
writers are the company's safety officers and director; the key list is also
kept by the company's admin. Routes with two ids (a site and a key or entry)
use ``TwoIds``: the target returns both and the path names ``{id}`` twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registers import chain
from elevator_safety.registers.models import KeyKind, RegisterKind, SiteKey
from tests.factories import World
from tests.grid_base import Route

READERS = frozenset({"admin", "safety_director", "safety_officer", "regulator"})
WRITERS = frozenset({"safety_director", "safety_officer"})
KEY_ADMINS = frozenset({"admin", "safety_director", "safety_officer"})


@dataclass(frozen=True)
class TwoIds(Route):
    """A route whose path holds two ids; its target returns them as 'first/second'."""

    def url(self, world: World, side: str, role: str) -> str:
        assert self.target is not None
        first, second = str(self.target(world, side, role)).split("/")
        return self.path.replace("{id}", first, 1).replace("{id}", second, 1)


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


def _key(side_group) -> SiteKey:  # type: ignore[no-untyped-def]
    key = SiteKey(
        site_id=side_group.site.id,
        code=f"K{db.session.query(SiteKey).count() + 1}",
        kind=KeyKind.triangle_key,
    )
    db.session.add(key)
    db.session.flush()
    return key


def key(world: World, side: str, _role: str) -> str:
    """A key in the cabinet of the side's site."""
    group = getattr(world, side)
    made = _key(group)
    db.session.commit()
    return f"{group.site.id}/{made.id}"


def issued_key(world: World, side: str, _role: str) -> str:
    """A key of the side's site issued to its technician."""
    group = getattr(world, side)
    made = _key(group)
    chain.signed(
        group.site,
        RegisterKind.key_issue,
        {"key_code": made.code, "holder": group.technician.name, "certificate_no": "T-1234"},
        group.officer,
        key=made,
    )
    db.session.commit()
    return f"{group.site.id}/{made.id}"


def _shift(group):  # type: ignore[no-untyped-def]
    start = now_utc() + timedelta(days=3)
    return chain.signed(
        group.site,
        RegisterKind.roster_shift,
        {"person": "Duty Person", "phone": None, "place": None},
        group.officer,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
    )


def shift(world: World, side: str, _role: str) -> str:
    """A shift on the roster of the side's site."""
    group = getattr(world, side)
    made = _shift(group)
    db.session.commit()
    return f"{group.site.id}/{made.id}"


def entry(world: World, side: str, _role: str) -> int:
    """A shift entry of the side's site (for the entry page)."""
    group = getattr(world, side)
    made = _shift(group)
    db.session.commit()
    return made.id


ROUTES = [
    Route("GET", "/registers", None, READERS),
    Route("GET", "/sites/{id}/registers", site, READERS),
    Route("GET", "/sites/{id}/registers/log", site, READERS),
    Route("GET", "/register-entries/{id}", entry, READERS),
    Route("GET", "/sites/{id}/keys/new", site, KEY_ADMINS),
    Route("POST", "/sites/{id}/keys/new", site, KEY_ADMINS),
    TwoIds("POST", "/sites/{id}/keys/{id}/deactivate", key, KEY_ADMINS),
    TwoIds("GET", "/sites/{id}/keys/{id}/issue", key, WRITERS),
    TwoIds("POST", "/sites/{id}/keys/{id}/issue", key, WRITERS),
    TwoIds("GET", "/sites/{id}/keys/{id}/return", issued_key, WRITERS),
    TwoIds("POST", "/sites/{id}/keys/{id}/return", issued_key, WRITERS),
    Route("GET", "/sites/{id}/roster/new", site, WRITERS),
    Route("POST", "/sites/{id}/roster/new", site, WRITERS),
    TwoIds("GET", "/sites/{id}/roster/{id}/withdraw", shift, WRITERS),
    TwoIds("POST", "/sites/{id}/roster/{id}/withdraw", shift, WRITERS),
    Route("GET", "/sites/{id}/video-checks/new", site, WRITERS),
    Route("POST", "/sites/{id}/video-checks/new", site, WRITERS),
    Route("GET", "/elevators/{id}/alarm-tests/new", elevator, WRITERS),
    Route("POST", "/elevators/{id}/alarm-tests/new", elevator, WRITERS),
]
