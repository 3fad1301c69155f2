"""Duty registers of a site: keys and tools (D4), duty roster and alarm tests (D6), video (D7).

Every act is a signed, append-only entry in the site's register chain
(registers/chain.py), except alarm tests, which belong to one elevator and go
in its record chain. Keys themselves (SiteKey) are registry data, edited and
audited. The services check the rules, append, open rectifications (整改) when
a rule is broken, and leave the commit to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import aliased, selectinload

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Meaning,
    Record,
    RecordKind,
)
from elevator_safety.records.services import SignatureSpec, append, check_signing_password
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registers import rules
from elevator_safety.registers.chain import append_entry, site_day
from elevator_safety.registers.models import KeyKind, RegisterEntry, RegisterKind, SiteKey
from elevator_safety.registry.models import Elevator, ElevatorStatus, Site
from elevator_safety.scoping import local_today, scoped_sites

#: Who reads the registers of a site in scope (contractors do not).
READ_ROLES = (Role.admin, Role.safety_director, Role.safety_officer, Role.regulator)
#: Who writes register entries and alarm tests: the company's safety people.
WRITE_ROLES = (Role.safety_director, Role.safety_officer)
#: Who adds and deactivates keys and tools.
KEY_ADMIN_ROLES = (Role.admin, Role.safety_director, Role.safety_officer)
#: Rectification statuses that still count as open (not yet verified).
OPEN_FINDING_STATUSES = (
    FindingStatus.open,
    FindingStatus.in_progress,
    FindingStatus.completed,
    FindingStatus.reopened,
)


def installation_locale():  # type: ignore[no-untyped-def]
    """Write generated texts in the installation's language (findings outlive the reader)."""
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))


# --- permissions ----------------------------------------------------------------------


def _own_company(user: User, site: Site) -> bool:
    return (
        user.organisation.kind == OrgKind.property_company
        and user.organisation_id == site.organisation_id
    )


def can_read(user: User) -> bool:
    """Property-company staff and regulators read site registers; contractors do not."""
    return user.role in READ_ROLES


def can_write(user: User, site: Site) -> bool:
    """The site company's safety officers and director write register entries."""
    return user.role in WRITE_ROLES and _own_company(user, site)


def can_manage_keys(user: User, site: Site) -> bool:
    """The site company's admin, safety director and safety officers keep the key list."""
    return user.role in KEY_ADMIN_ROLES and _own_company(user, site)


def can_test_alarm(user: User, elevator: Elevator) -> bool:
    """The company's safety officers and director record alarm tests of its elevators."""
    return can_write(user, elevator.site) and elevator.status != ElevatorStatus.decommissioned


def readable_sites(user: User) -> Select[Any]:
    """Return a select() of the sites whose registers the user may read."""
    if not can_read(user):
        return select(Site).where(Site.id.is_(None))
    return scoped_sites(user)


# --- shared helpers -------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _signed(user: User, password: str | None, meaning: Meaning, reason: str | None = None):  # type: ignore[no-untyped-def]
    check_signing_password(user, password)
    return [SignatureSpec(user, meaning, reason)]


def _not_future(moment: datetime, now: datetime, field_name: str) -> None:
    if moment > now + timedelta(minutes=1):
        raise DomainError(_("This time is in the future."), field=field_name)


def entries_of(site: Site, kinds: Sequence[RegisterKind]) -> Select[Any]:
    """Return a select() of a site's entries of some kinds, newest first."""
    return (
        select(RegisterEntry)
        .where(RegisterEntry.site_id == site.id, RegisterEntry.kind.in_(kinds))
        .options(selectinload(RegisterEntry.author), selectinload(RegisterEntry.key))
        .order_by(RegisterEntry.occurred_at.desc(), RegisterEntry.id.desc())
    )


def acted_on(entry: RegisterEntry) -> list[RegisterEntry]:
    """Return the entries acting on this one (a key's return, a shift's withdrawal)."""
    return list(
        db.session.scalars(
            select(RegisterEntry)
            .where(RegisterEntry.subject_id == entry.id)
            .order_by(RegisterEntry.seq)
        )
    )


# --- keys and tools (D4) -------------------------------------------------------------


def site_keys(site: Site, include_inactive: bool = False) -> list[SiteKey]:
    """Return the keys and tools of a site, by code."""
    query = select(SiteKey).where(SiteKey.site_id == site.id)
    if not include_inactive:
        query = query.where(SiteKey.active.is_(True))
    return list(db.session.scalars(query.order_by(SiteKey.active.desc(), SiteKey.code)))


def add_key(
    site: Site, actor: User, *, code: str, kind: KeyKind, description: str | None
) -> SiteKey:
    """Add a key or tool to a site's register; the code is unique per site."""
    code = _clean(code)
    if not code:
        raise DomainError(_("This field is required."), field="code")
    taken = db.session.scalar(
        select(SiteKey.id).where(SiteKey.site_id == site.id, SiteKey.code == code)
    )
    if taken is not None:
        raise DomainError(_("This site already has a key or tool with this code."), field="code")
    key = SiteKey(
        site_id=site.id, code=code, kind=kind, description=_clean(description) or None, active=True
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        "create",
        key,
        changes=audit.snapshot(key, ["site_id", "code", "kind", "description"]),
        label=f"{site.name} {code}",
        user_id=actor.id,
        organisation_id=actor.organisation_id,
    )
    return key


def deactivate_key(key: SiteKey, actor: User) -> None:
    """Take a key out of the register (lost, scrapped); refused while it is issued."""
    if not key.active:
        raise DomainError(_("This key or tool is already out of the register."))
    if open_issue(key) is not None:
        raise DomainError(_("This key or tool is issued; record its return first."))
    key.active = False
    audit.record(
        "deactivate",
        key,
        changes={"active": [True, False]},
        label=f"{key.site.name} {key.code}",
        user_id=actor.id,
        organisation_id=actor.organisation_id,
    )


def _unreturned_issues() -> Select[Any]:
    returned = aliased(RegisterEntry)
    return select(RegisterEntry).where(
        RegisterEntry.kind == RegisterKind.key_issue,
        ~exists().where(
            and_(returned.subject_id == RegisterEntry.id, returned.kind == RegisterKind.key_return)
        ),
    )


def open_issue(key: SiteKey) -> RegisterEntry | None:
    """Return the issue of a key that has not been returned, if any."""
    return db.session.scalar(
        _unreturned_issues()
        .where(RegisterEntry.key_id == key.id)
        .order_by(RegisterEntry.seq.desc())
        .limit(1)
    )


def open_issues(site: Site) -> dict[int, RegisterEntry]:
    """Return the unreturned issues of a site's keys by key id."""
    rows = db.session.scalars(
        _unreturned_issues().where(RegisterEntry.site_id == site.id).order_by(RegisterEntry.seq)
    )
    return {entry.key_id: entry for entry in rows if entry.key_id is not None}


def certified_people(site: Site) -> list[User]:
    """Return the active users with a certificate number who may hold a site's keys.

    They are the site company's staff and the people of the contractors under
    contract for one of the site's elevators today.
    """
    contractor_ids = {
        contract.contractor_id
        for elevator in site.elevators
        for contract in elevator.contracts
        if contract.is_active(local_today())
    }
    org_ids = {site.organisation_id, *contractor_ids}
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id.in_(org_ids),
                User.active.is_(True),
                User.certificate_no.is_not(None),
                User.certificate_no != "",
            )
            .order_by(User.name, User.id)
        )
    )


def issue_key(
    site: Site,
    key: SiteKey,
    actor: User,
    password: str | None,
    *,
    holder: str,
    certificate_no: str | None,
    purpose: str | None,
    issued_at: datetime,
    holder_user: User | None = None,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Issue a key or tool to a certified holder (领用): refused without a certificate number."""
    holder = _clean(holder)
    certificate_no = _clean(certificate_no)
    if holder_user is not None:
        holder = holder or holder_user.name
        certificate_no = certificate_no or _clean(holder_user.certificate_no)
    if not holder:
        raise DomainError(_("Name the person who takes the key or tool."), field="holder")
    if not certificate_no:
        raise DomainError(
            _(
                "Only a certified person may hold a special key or tool: "
                "enter their certificate number."
            ),
            field="certificate_no",
        )
    if not key.active or key.site_id != site.id:
        raise DomainError(_("This key or tool is out of the register."))
    _not_future(issued_at, now_utc(), "issued_at")
    signatures = _signed(actor, password, Meaning.recorded)
    if open_issue(key) is not None:
        raise DomainError(_("This key or tool is already issued; record its return first."))
    body = {
        "key_code": key.code,
        "key_kind": key.kind.value,
        "holder": holder,
        "holder_user_id": holder_user.id if holder_user else None,
        "certificate_no": certificate_no,
        "purpose": _clean(purpose) or None,
    }
    return append_entry(
        site,
        RegisterKind.key_issue,
        body,
        actor,
        occurred_at=issued_at,
        signatures=signatures,
        key=key,
        idempotency_key=idempotency_key,
    )


def return_key(
    site: Site,
    key: SiteKey,
    actor: User,
    password: str | None,
    *,
    returned_at: datetime,
    note: str | None,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Record that an issued key or tool came back (归还)."""
    issue = open_issue(key)
    if issue is None or key.site_id != site.id:
        raise DomainError(_("This key or tool is not issued."))
    _not_future(returned_at, now_utc(), "returned_at")
    if returned_at < issue.occurred_at:
        raise DomainError(_("The return cannot be before the issue."), field="returned_at")
    signatures = _signed(actor, password, Meaning.recorded)
    body = {
        "key_code": key.code,
        "holder": issue.data["body"].get("holder"),
        "certificate_no": issue.data["body"].get("certificate_no"),
        "note": _clean(note) or None,
    }
    return append_entry(
        site,
        RegisterKind.key_return,
        body,
        actor,
        occurred_at=returned_at,
        signatures=signatures,
        subject=issue,
        key=key,
        idempotency_key=idempotency_key,
    )


def keys_not_returned(site_ids: Iterable[int], now: datetime) -> list[RegisterEntry]:
    """Return the issues still out after the end of their issue day (site's local day)."""
    ids = list(site_ids)
    if not ids:
        return []
    rows = db.session.scalars(
        _unreturned_issues()
        .where(RegisterEntry.site_id.in_(ids))
        .options(selectinload(RegisterEntry.site), selectinload(RegisterEntry.key))
        .order_by(RegisterEntry.occurred_at, RegisterEntry.id)
    )
    return [entry for entry in rows if entry.occurred_on < site_day(entry.site, now)]


def unreturned_keys_for(user: User, now: datetime | None = None) -> list[RegisterEntry]:
    """Return the keys out past their issue day at the sites the user reads (for the dashboard)."""
    if not can_read(user):
        return []
    ids = db.session.scalars(readable_sites(user).with_only_columns(Site.id))
    return keys_not_returned(ids, now or now_utc())


# --- duty roster (D6) -----------------------------------------------------------------


def withdrawn_ids(site: Site) -> set[int]:
    """Return the ids of a site's withdrawn shifts."""
    return set(
        db.session.scalars(
            select(RegisterEntry.subject_id).where(
                RegisterEntry.site_id == site.id,
                RegisterEntry.kind == RegisterKind.roster_withdrawal,
            )
        )
    )


def active_shifts(site: Site, start: datetime, end: datetime) -> list[RegisterEntry]:
    """Return the site's shifts (not withdrawn) that overlap a period, by start."""
    withdrawal = aliased(RegisterEntry)
    return list(
        db.session.scalars(
            select(RegisterEntry)
            .where(
                RegisterEntry.site_id == site.id,
                RegisterEntry.kind == RegisterKind.roster_shift,
                RegisterEntry.starts_at < end,
                RegisterEntry.ends_at > start,
                ~exists().where(
                    and_(
                        withdrawal.subject_id == RegisterEntry.id,
                        withdrawal.kind == RegisterKind.roster_withdrawal,
                    )
                ),
            )
            .order_by(RegisterEntry.starts_at, RegisterEntry.id)
        )
    )


@dataclass
class RosterDay:
    """One local day of a site's roster: its shifts and the gaps between them."""

    day: date
    shifts: list[RegisterEntry] = field(default_factory=list)
    gaps: list[rules.Interval] = field(default_factory=list)


def roster_days(site: Site, days: int, now: datetime) -> list[RosterDay]:
    """Return the next ``days`` local days of a site (today first) with shifts and gaps."""
    zone = site.timezone or "Asia/Shanghai"
    first = site_day(site, now)
    start, _end = rules.day_window(first, zone)
    _start, end = rules.day_window(first + timedelta(days=max(days, 1) - 1), zone)
    shifts = active_shifts(site, start, end)
    intervals = [(s.starts_at, s.ends_at) for s in shifts if s.starts_at and s.ends_at]
    result = []
    for day, gaps in rules.daily_gaps(intervals, first, days, zone):
        day_start, day_end = rules.day_window(day, zone)
        result.append(
            RosterDay(
                day,
                [
                    s
                    for s in shifts
                    if s.starts_at and s.ends_at and s.starts_at < day_end and s.ends_at > day_start
                ],
                gaps,
            )
        )
    return result


def site_roster_gaps(
    site: Site, days: int, now: datetime
) -> list[tuple[date, list[rules.Interval]]]:
    """Return the gaps of each of a site's next ``days`` local days (withdrawn shifts ignored)."""
    return [(d.day, d.gaps) for d in roster_days(site, days, now)]


def clock(moment: datetime, zone: str, end: bool = False) -> str:
    """Return a moment as local HH:MM; an end at midnight reads 24:00."""
    local = moment.astimezone(ZoneInfo(zone))
    if end and (local.hour, local.minute) == (0, 0):
        return "24:00"
    return local.strftime("%H:%M")


def _gap_text(site: Site, gaps: list[rules.Interval]) -> str:
    zone = site.timezone or "Asia/Shanghai"
    return ", ".join(f"{clock(a, zone)}–{clock(b, zone, end=True)}" for a, b in gaps)


def record_roster_gap_findings(
    site: Site,
    now: datetime,
    author: User | None,
    source_entry: RegisterEntry | None = None,
) -> list[Finding]:
    """Open a rectification for each gap day of today and tomorrow not already open (D6).

    One finding per site and day (item code ``roster_gap:<date>``); a day that
    already has an unverified roster finding gets no second one. Called after a
    shift is added or withdrawn, and daily by the scheduler. The caller commits.
    """
    opened = []
    for day, gaps in site_roster_gaps(site, 2, now):
        if not gaps:
            continue
        code = f"roster_gap:{day.isoformat()}"
        already = db.session.scalar(
            select(Finding.id).where(
                Finding.site_id == site.id,
                Finding.item_code == code,
                Finding.status.in_(OPEN_FINDING_STATUSES),
            )
        )
        if already is not None:
            continue
        with installation_locale():
            label = _("Duty roster gap on %(day)s", day=day.isoformat())
            description = _(
                "Nobody is on duty in the duty room at %(site)s on %(day)s: %(gaps)s. "
                "The emergency alarm must be answered 24 hours a day.",
                site=site.name,
                day=day.isoformat(),
                gaps=_gap_text(site, gaps),
            )
        opened.append(
            open_finding(
                site=site,
                elevator=None,
                source=FindingSource.roster,
                duty="D6",
                item_label=label,
                description=description,
                author=author,
                source_entry=source_entry,
                item_code=code,
            )
        )
    return opened


def add_shift(
    site: Site,
    actor: User,
    password: str | None,
    *,
    starts_at: datetime,
    ends_at: datetime,
    person: str,
    phone: str | None,
    place: str | None,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Put a duty shift on the roster (值班).

    Adding a shift can only close gaps, so it opens no finding: while a roster
    is being typed in, shift by shift, every intermediate state has gaps. The
    page shows the gaps left; withdrawals and the daily check open findings.
    """
    person = _clean(person)
    if not person:
        raise DomainError(_("Name the person on duty."), field="person")
    if ends_at <= starts_at:
        raise DomainError(_("The shift must end after it starts."), field="ends_at")
    if ends_at - starts_at > timedelta(hours=rules.MAX_SHIFT_HOURS):
        raise DomainError(
            _("A shift lasts at most %(hours)d hours.", hours=rules.MAX_SHIFT_HOURS),
            field="ends_at",
        )
    signatures = _signed(actor, password, Meaning.recorded)
    body = {"person": person, "phone": _clean(phone) or None, "place": _clean(place) or None}
    entry = append_entry(
        site,
        RegisterKind.roster_shift,
        body,
        actor,
        occurred_at=now_utc(),
        signatures=signatures,
        starts_at=starts_at,
        ends_at=ends_at,
        idempotency_key=idempotency_key,
    )
    return entry


def withdraw_shift(
    site: Site,
    shift: RegisterEntry,
    actor: User,
    password: str | None,
    *,
    reason: str,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Withdraw a shift entered by mistake (撤销); the gap it leaves becomes a finding."""
    reason = _clean(reason)
    if shift.kind != RegisterKind.roster_shift or shift.site_id != site.id:
        raise DomainError(_("This is not a shift of this site."))
    if shift.id in withdrawn_ids(site):
        raise DomainError(_("This shift is already withdrawn."))
    if not reason:
        raise DomainError(_("Give the reason for the withdrawal."), field="reason")
    signatures = _signed(actor, password, Meaning.cancelled, reason)
    body = {
        "person": shift.data["body"].get("person"),
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "reason": reason,
    }
    entry = append_entry(
        site,
        RegisterKind.roster_withdrawal,
        body,
        actor,
        occurred_at=now_utc(),
        signatures=signatures,
        subject=shift,
        idempotency_key=idempotency_key,
    )
    record_roster_gap_findings(site, now_utc(), actor, source_entry=entry)
    return entry


# --- video retention (D7) -------------------------------------------------------------


@dataclass
class VideoState:
    """A site's last video check and when the next one is due."""

    last: RegisterEntry | None
    retention_days: int | None
    due: date | None
    overdue: bool
    problem: bool


def video_state(site: Site, today: date) -> VideoState:
    """Return a site's last video check, its retention, and whether a check is overdue."""
    last = db.session.scalar(
        select(RegisterEntry)
        .where(RegisterEntry.site_id == site.id, RegisterEntry.kind == RegisterKind.video_check)
        .order_by(RegisterEntry.occurred_at.desc(), RegisterEntry.id.desc())
        .limit(1)
    )
    interval = int(current_app.config["VIDEO_CHECK_INTERVAL_DAYS"])
    minimum = int(current_app.config["VIDEO_RETENTION_DAYS"])
    if last is None:
        return VideoState(None, None, None, True, False)
    days = rules.retention_days(last.occurred_on, last.on_date) if last.on_date else None
    return VideoState(
        last,
        days,
        rules.next_due(last.occurred_on, interval),
        rules.is_overdue(last.occurred_on, interval, today),
        last.ok is False or (days is not None and days < minimum),
    )


def record_video_check(
    site: Site,
    actor: User,
    password: str | None,
    *,
    checked_at: datetime,
    cameras_total: int,
    cameras_working: int,
    oldest_footage: date,
    note: str | None,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Record a video retention check; short retention or broken cameras open rectifications."""
    if cameras_total < 1:
        raise DomainError(_("Enter at least one camera."), field="cameras_total")
    if cameras_working < 0 or cameras_working > cameras_total:
        raise DomainError(
            _("Working cameras must be between 0 and the number of cameras."),
            field="cameras_working",
        )
    _not_future(checked_at, now_utc(), "checked_at")
    checked_on = site_day(site, checked_at)
    if oldest_footage > checked_on:
        raise DomainError(
            _("The oldest footage cannot be later than the check."), field="oldest_footage"
        )
    signatures = _signed(actor, password, Meaning.recorded)
    minimum = int(current_app.config["VIDEO_RETENTION_DAYS"])
    days = rules.retention_days(checked_on, oldest_footage)
    working = cameras_working == cameras_total
    body = {
        "cameras_total": cameras_total,
        "cameras_working": cameras_working,
        "retention_days": days,
        "retention_required_days": minimum,
        "note": _clean(note) or None,
    }
    entry = append_entry(
        site,
        RegisterKind.video_check,
        body,
        actor,
        occurred_at=checked_at,
        signatures=signatures,
        on_date=oldest_footage,
        ok=working,
        idempotency_key=idempotency_key,
    )
    with installation_locale():
        problems = []
        if days < minimum:
            problems.append(
                (
                    "video:retention",
                    _(
                        "Video footage kept %(days)d days (at least %(min)d required)",
                        days=days,
                        min=minimum,
                    ),
                    _(
                        "The oldest footage at %(site)s is from %(date)s: %(days)d days are kept, "
                        "fewer than the %(min)d days required.",
                        site=site.name,
                        date=oldest_footage.isoformat(),
                        days=days,
                        min=minimum,
                    ),
                )
            )
        if not working:
            problems.append(
                (
                    "video:cameras",
                    _(
                        "%(broken)d of %(total)d cameras not working",
                        broken=cameras_total - cameras_working,
                        total=cameras_total,
                    ),
                    _(
                        "Only %(working)d of %(total)d cameras at %(site)s "
                        "were working at the check.",
                        working=cameras_working,
                        total=cameras_total,
                        site=site.name,
                    ),
                )
            )
    for code, label, description in problems:
        open_finding(
            site=site,
            elevator=None,
            source=FindingSource.video_check,
            duty="D7",
            item_label=label,
            description=description,
            author=actor,
            source_entry=entry,
            item_code=code,
        )
    return entry


# --- emergency alarm tests (D6) -------------------------------------------------------


def record_alarm_test(
    elevator: Elevator,
    actor: User,
    password: str | None,
    *,
    tested_at: datetime,
    answered: bool,
    answered_in_seconds: int | None,
    answered_by: str | None,
    talk_clear: bool,
    note: str | None,
    idempotency_key: str | None = None,
) -> Record:
    """Record an emergency alarm test of an elevator; a failed test opens a rectification."""
    if not can_test_alarm(actor, elevator):
        raise DomainError(_("You may not record an alarm test of this elevator."))
    _not_future(tested_at, now_utc(), "tested_at")
    if answered:
        if answered_in_seconds is None:
            raise DomainError(
                _("Enter how many seconds the duty room took to answer."),
                field="answered_in_seconds",
            )
        if answered_in_seconds < 0:
            raise DomainError(
                _("Enter a number of seconds, 0 or more."), field="answered_in_seconds"
            )
        if not _clean(answered_by):
            raise DomainError(_("Name who answered in the duty room."), field="answered_by")
    else:
        answered_in_seconds = None
        talk_clear = False
    check_signing_password(actor, password)
    failed = rules.alarm_test_failed(answered, answered_in_seconds, talk_clear)
    body = {
        "tested_at": tested_at,
        "answered": answered,
        "answered_in_seconds": answered_in_seconds,
        "answered_by": _clean(answered_by) or None if answered else None,
        "talk_clear": talk_clear,
        "answer_limit_seconds": rules.answer_limit_seconds(),
        "failed": failed,
        "note": _clean(note) or None,
    }
    record = append(
        elevator,
        RecordKind.alarm_test,
        body,
        actor,
        occurred_at=tested_at,
        signatures=[SignatureSpec(actor, Meaning.recorded)],
        idempotency_key=idempotency_key,
    )
    if failed:
        with installation_locale():
            if not answered:
                why = _("Nobody answered the emergency alarm.")
            elif (answered_in_seconds or 0) > rules.answer_limit_seconds():
                why = _(
                    "The emergency alarm was answered after %(seconds)d seconds (limit %(limit)d).",
                    seconds=answered_in_seconds,
                    limit=rules.answer_limit_seconds(),
                )
            else:
                why = _("The two-way talk with the car was not clear.")
            label = _("Emergency alarm test failed")
        open_finding(
            site=elevator.site,
            elevator=elevator,
            source=FindingSource.alarm_test,
            duty="D6",
            item_label=label,
            description=why,
            author=actor,
            source_record=record,
            item_code="alarm_test",
        )
    return record


@dataclass
class AlarmState:
    """An elevator's last alarm test and whether the next is overdue."""

    elevator: Elevator
    last: Record | None
    due: date | None
    overdue: bool

    @property
    def failed(self) -> bool:
        """Return whether the last test failed."""
        return bool(self.last and self.last.data["body"].get("failed"))


def alarm_states(elevators: Iterable[Elevator], today: date) -> list[AlarmState]:
    """Return the last alarm test of each elevator (decommissioned ones left out)."""
    chosen = [e for e in elevators if e.status != ElevatorStatus.decommissioned]
    if not chosen:
        return []
    interval = int(current_app.config["ALARM_TEST_INTERVAL_DAYS"])
    latest: dict[int, Record] = {}
    rows = db.session.scalars(
        select(Record)
        .where(
            Record.kind == RecordKind.alarm_test,
            Record.elevator_id.in_([e.id for e in chosen]),
        )
        .order_by(Record.occurred_at, Record.id)
    )
    for record in rows:
        latest[record.elevator_id] = record
    states = []
    for elevator in chosen:
        last = latest.get(elevator.id)
        day = last.occurred_on if last else None
        states.append(
            AlarmState(
                elevator,
                last,
                rules.next_due(day, interval),
                rules.is_overdue(day, interval, today),
            )
        )
    return states


def recent_alarm_tests(elevator: Elevator, limit: int = 5) -> list[Record]:
    """Return an elevator's latest alarm tests, newest first."""
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.elevator_id == elevator.id, Record.kind == RecordKind.alarm_test)
            .order_by(Record.occurred_at.desc(), Record.id.desc())
            .limit(limit)
        )
    )


# --- a site at a glance ---------------------------------------------------------------


@dataclass
class SiteSummary:
    """The registers of one site in one line (the index page)."""

    site: Site
    keys_out: int
    keys_late: int
    gap_days: int
    video: VideoState
    alarms_overdue: int


def site_summary(site: Site, now: datetime) -> SiteSummary:
    """Return the state of a site's registers."""
    today = site_day(site, now)
    horizon = int(current_app.config["ROSTER_HORIZON_DAYS"])
    issues = open_issues(site)
    late = [e for e in issues.values() if e.occurred_on < today]
    return SiteSummary(
        site,
        len(issues),
        len(late),
        sum(1 for d in roster_days(site, horizon, now) if d.gaps),
        video_state(site, today),
        sum(1 for s in alarm_states(site.elevators, today) if s.overdue),
    )
