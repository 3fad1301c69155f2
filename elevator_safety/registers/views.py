"""Pages of the duty registers: keys and tools (D4), duty roster and alarm tests (D6), video (D7).

Roles are checked first (403: contractors see no site registers), then the
scope (404: ``scoping.get_site_or_404`` / ``get_elevator_or_404``), then the
company (403: only the site's own company writes). The views parse the forms,
call ``registers.services`` and commit. Alarm tests are records of the
elevator's chain, shown by /records/<id> with records/kinds/alarm_test.html.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error, form_status
from elevator_safety.paging import paginate
from elevator_safety.records import services as records
from elevator_safety.records.models import MEANING_LABELS, Finding, FindingSource, Record
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.registers import chain, forms, rules, services
from elevator_safety.registers.models import (
    REGISTER_KIND_LABELS,
    KeyKind,
    RegisterEntry,
    RegisterKind,
    SiteKey,
)
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.scoping import get_elevator_or_404, get_site_or_404
from elevator_safety.security import require, role_required

bp = Blueprint("registers", __name__)

READ = services.READ_ROLES
WRITE = services.WRITE_ROLES
KEY_ADMIN = services.KEY_ADMIN_ROLES

#: The register logs: which entry kinds each shows.
LOGS = {
    "keys": (RegisterKind.key_issue, RegisterKind.key_return),
    "roster": (RegisterKind.roster_shift, RegisterKind.roster_withdrawal),
    "video": (RegisterKind.video_check,),
}


# --- helpers --------------------------------------------------------------------------


def zone_of(site: Site) -> str:
    """Return a site's time zone."""
    return site.timezone or current_app.config["TIMEZONE"]


def local_now(site: Site) -> datetime:
    """Return now in the site's zone, naive, to the minute (a form's default)."""
    return (
        now_utc().astimezone(ZoneInfo(zone_of(site))).replace(tzinfo=None, second=0, microsecond=0)
    )


def to_utc(local: datetime, site: Site) -> datetime:
    """Return a local time typed for a site as aware UTC."""
    return local.replace(tzinfo=ZoneInfo(zone_of(site))).astimezone(UTC)


def _get_key_or_404(site: Site, key_id: int) -> SiteKey:
    key = db.session.get(SiteKey, key_id)
    if key is None or key.site_id != site.id:
        abort(404)
    return key


def _site_for(site_id: int, allowed: bool | None = None) -> Site:
    site = get_site_or_404(current_user, site_id)
    if allowed is not None:
        require(allowed)
    return site


def _entry_duplicate(entry: RegisterEntry) -> Response:
    db.session.rollback()
    flash(_("This form was already submitted; here is what it recorded."), "info")
    return redirect(url_for("registers.entry", entry_id=entry.id))


def _raced(token: str | None, error: IntegrityError) -> Response:
    """Two copies of one form arrived together: send the loser to the winner's entry."""
    db.session.rollback()
    existing = chain.find_by_idempotency_key(token)
    if existing is None:
        raise error
    return _entry_duplicate(existing)


def _early_duplicate() -> Response | None:
    if request.method != "POST":
        return None
    existing = chain.find_by_idempotency_key(request.form.get("idempotency_key"))
    return _entry_duplicate(existing) if existing is not None else None


def _back_to(site: Site) -> Response:
    return redirect(url_for("registers.site", site_id=site.id))


def _submit(form: FlaskForm, action: Any) -> tuple[Any, Response | None]:
    """Run a service for a validated form: (result, None), or (None, a response for a duplicate)."""
    try:
        result = action()
    except DuplicateSubmission as duplicate:
        if isinstance(duplicate.record, Record):
            db.session.rollback()
            return None, redirect(url_for("records.detail", record_id=duplicate.record.id))
        return None, _entry_duplicate(duplicate.record)
    except DomainError as error:
        db.session.rollback()
        field_error(form, error)
        return None, None
    except IntegrityError as error:
        return None, _raced(form.idempotency_key.data, error)  # type: ignore[attr-defined]
    db.session.commit()
    return result, None


# --- the index and the site hub -------------------------------------------------------


@bp.get("/registers")
@role_required(*READ)
def index():  # type: ignore[no-untyped-def]
    """List the user's sites with the state of their registers, one line each."""
    page = paginate(services.readable_sites(current_user).order_by(Site.name, Site.id))
    now = now_utc()
    return render_template(
        "registers/index.html",
        page=page,
        rows=[services.site_summary(site, now) for site in page.items],
        late=services.unreturned_keys_for(current_user, now),
        horizon=current_app.config["ROSTER_HORIZON_DAYS"],
        retention_min=current_app.config["VIDEO_RETENTION_DAYS"],
    )


@bp.get("/sites/<int:site_id>/registers")
@role_required(*READ)
def site(site_id: int):  # type: ignore[no-untyped-def]
    """Show a site's registers: keys, roster ahead, last video check, alarm tests."""
    site = _site_for(site_id)
    now = now_utc()
    today = chain.site_day(site, now)
    keys = services.site_keys(site, include_inactive=True)
    issues = services.open_issues(site)
    horizon = int(current_app.config["ROSTER_HORIZON_DAYS"])
    return render_template(
        "registers/site.html",
        site=site,
        zone=zone_of(site),
        today=today,
        keys=keys,
        issues=issues,
        late_ids={i.id for i in issues.values() if i.occurred_on < today},
        days=services.roster_days(site, horizon, now),
        horizon=horizon,
        video=services.video_state(site, today),
        alarms=services.alarm_states(
            sorted(site.elevators, key=lambda e: (e.building or "", e.equipment_code)), today
        ),
        alarm_limit=rules.answer_limit_seconds(),
        local_input=lambda moment: moment.astimezone(ZoneInfo(zone_of(site))).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        can_write=services.can_write(current_user, site),
        can_manage_keys=services.can_manage_keys(current_user, site),
        deactivate_form=forms.ActionForm(),
        clock=services.clock,
    )


@bp.get("/sites/<int:site_id>/registers/log")
@role_required(*READ)
def log(site_id: int):  # type: ignore[no-untyped-def]
    """List a site's register entries of one register (keys, roster, video), newest first."""
    site = _site_for(site_id)
    chosen = request.args.get("register", "keys")
    if chosen not in LOGS:
        chosen = "keys"
    page = paginate(services.entries_of(site, LOGS[chosen]))
    return render_template(
        "registers/log.html",
        site=site,
        zone=zone_of(site),
        page=page,
        chosen=chosen,
        withdrawn=services.withdrawn_ids(site) if chosen == "roster" else set(),
        returned={
            e.subject_id for e in page.items if e.kind == RegisterKind.key_return and e.subject_id
        },
    )


@bp.get("/register-entries/<int:entry_id>")
@role_required(*READ)
def entry(entry_id: int):  # type: ignore[no-untyped-def]
    """Show one signed register entry with its signatures and hashes."""
    found = db.session.get(RegisterEntry, entry_id)
    if found is None:
        abort(404)
    site = _site_for(found.site_id)
    data = found.data
    return render_template(
        "registers/entry.html",
        entry=found,
        site=site,
        zone=zone_of(site),
        data=data,
        body=data.get("body") or {},
        acting=services.acted_on(found),
        withdrawn=found.id in services.withdrawn_ids(site)
        if found.kind == RegisterKind.roster_shift
        else False,
        meaning_labels={m.value: label for m, label in MEANING_LABELS.items()},
        can_write=services.can_write(current_user, site),
    )


# --- keys and tools (D4) -------------------------------------------------------------


@bp.route("/sites/<int:site_id>/keys/new", methods=["GET", "POST"])
@role_required(*KEY_ADMIN)
def new_key(site_id: int):  # type: ignore[no-untyped-def]
    """Add a special key or tool to the site's register."""
    site = _site_for(site_id)
    require(services.can_manage_keys(current_user, site))
    form = forms.KeyForm()
    if form.validate_on_submit():
        try:
            key = services.add_key(
                site,
                current_user,
                code=form.code.data,
                kind=KeyKind(form.kind.data),
                description=form.description.data,
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Key or tool %(code)s added.", code=key.code), "success")
            return _back_to(site)
    return render_template("registers/key_form.html", site=site, form=form), form_status()


@bp.post("/sites/<int:site_id>/keys/<int:key_id>/deactivate")
@role_required(*KEY_ADMIN)
def deactivate_key(site_id: int, key_id: int):  # type: ignore[no-untyped-def]
    """Take a key or tool out of the register (lost or scrapped)."""
    site = _site_for(site_id)
    require(services.can_manage_keys(current_user, site))
    key = _get_key_or_404(site, key_id)
    form = forms.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.deactivate_key(key, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Key or tool %(code)s taken out of the register.", code=key.code), "success")
    return _back_to(site)


def _holder_choices(site: Site) -> tuple[list[tuple[int, str]], dict[int, User]]:
    people = services.certified_people(site)
    choices = [(0, _("— type the name below —"))] + [
        (u.id, f"{u.name} · {u.organisation.name} · {u.certificate_no}") for u in people
    ]
    return choices, {u.id: u for u in people}


@bp.route("/sites/<int:site_id>/keys/<int:key_id>/issue", methods=["GET", "POST"])
@role_required(*WRITE)
def issue_key(site_id: int, key_id: int):  # type: ignore[no-untyped-def]
    """Issue a key or tool to a certified holder, signed by the issuing officer."""
    site = _site_for(site_id)
    require(services.can_write(current_user, site))
    key = _get_key_or_404(site, key_id)
    duplicate = _early_duplicate()
    if duplicate is not None:
        return duplicate
    form = forms.IssueForm()
    choices, people = _holder_choices(site)
    form.holder_user.choices = choices  # type: ignore[assignment]
    if request.method == "GET":
        form.issued_at.data = local_now(site)
    if form.validate_on_submit():
        holder_user = people.get(form.holder_user.data or 0)
        entry, response = _submit(
            form,
            lambda: services.issue_key(
                site,
                key,
                current_user,
                form.password.data,
                holder=form.holder.data,
                certificate_no=form.certificate_no.data,
                purpose=form.purpose.data,
                issued_at=to_utc(form.issued_at.data, site),
                holder_user=holder_user,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if entry is not None:
            flash(
                _(
                    "%(code)s issued to %(holder)s.",
                    code=key.code,
                    holder=entry.data["body"]["holder"],
                ),
                "success",
            )
            return _back_to(site)
    return render_template(
        "registers/issue.html",
        site=site,
        key=key,
        form=form,
        out=services.open_issue(key),
    ), form_status()


@bp.route("/sites/<int:site_id>/keys/<int:key_id>/return", methods=["GET", "POST"])
@role_required(*WRITE)
def return_key(site_id: int, key_id: int):  # type: ignore[no-untyped-def]
    """Record the return of an issued key or tool."""
    site = _site_for(site_id)
    require(services.can_write(current_user, site))
    key = _get_key_or_404(site, key_id)
    duplicate = _early_duplicate()
    if duplicate is not None:
        return duplicate
    form = forms.ReturnForm()
    if request.method == "GET":
        form.returned_at.data = local_now(site)
    if form.validate_on_submit():
        entry, response = _submit(
            form,
            lambda: services.return_key(
                site,
                key,
                current_user,
                form.password.data,
                returned_at=to_utc(form.returned_at.data, site),
                note=form.note.data,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if entry is not None:
            flash(_("%(code)s returned.", code=key.code), "success")
            return _back_to(site)
    return render_template(
        "registers/return.html",
        site=site,
        key=key,
        form=form,
        out=services.open_issue(key),
        zone=zone_of(site),
    ), form_status()


# --- duty roster (D6) -----------------------------------------------------------------


def _roster_findings(site: Site) -> int:
    return (
        db.session.scalar(
            select(func.count(Finding.id)).where(
                Finding.site_id == site.id, Finding.source == FindingSource.roster
            )
        )
        or 0
    )


def _findings_flash(site: Site, before: int) -> None:
    if _roster_findings(site) > before:
        flash(_("The roster has a gap today or tomorrow: a rectification was opened."), "warning")


@bp.route("/sites/<int:site_id>/roster/new", methods=["GET", "POST"])
@role_required(*WRITE)
def new_shift(site_id: int):  # type: ignore[no-untyped-def]
    """Put a duty shift on the site's roster."""
    site = _site_for(site_id)
    require(services.can_write(current_user, site))
    duplicate = _early_duplicate()
    if duplicate is not None:
        return duplicate
    form = forms.ShiftForm()
    if request.method == "GET":
        start = request.args.get("start", "")
        try:
            form.starts_at.data = datetime.fromisoformat(start) if start else local_now(site)
        except ValueError:
            form.starts_at.data = local_now(site)
    if form.validate_on_submit():
        entry, response = _submit(
            form,
            lambda: services.add_shift(
                site,
                current_user,
                form.password.data,
                starts_at=to_utc(form.starts_at.data, site),
                ends_at=to_utc(form.ends_at.data, site),
                person=form.person.data,
                phone=form.phone.data,
                place=form.place.data,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if entry is not None:
            person = entry.data["body"]["person"]
            flash(_("Shift of %(person)s added to the roster.", person=person), "success")
            if any(gaps for _day, gaps in services.site_roster_gaps(site, 2, now_utc())):
                flash(_("The roster still has a gap today or tomorrow."), "warning")
            return _back_to(site)
    return render_template("registers/shift_form.html", site=site, form=form), form_status()


@bp.route("/sites/<int:site_id>/roster/<int:entry_id>/withdraw", methods=["GET", "POST"])
@role_required(*WRITE)
def withdraw_shift(site_id: int, entry_id: int):  # type: ignore[no-untyped-def]
    """Withdraw a shift entered by mistake (a signed withdrawal; the shift stays in the chain)."""
    site = _site_for(site_id)
    require(services.can_write(current_user, site))
    shift = db.session.get(RegisterEntry, entry_id)
    if shift is None or shift.site_id != site.id or shift.kind != RegisterKind.roster_shift:
        abort(404)
    duplicate = _early_duplicate()
    if duplicate is not None:
        return duplicate
    form = forms.WithdrawForm()
    if form.validate_on_submit():
        before = _roster_findings(site)
        entry, response = _submit(
            form,
            lambda: services.withdraw_shift(
                site,
                shift,
                current_user,
                form.password.data,
                reason=form.reason.data,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if entry is not None:
            flash(_("Shift withdrawn."), "success")
            _findings_flash(site, before)
            return _back_to(site)
    return render_template(
        "registers/withdraw.html",
        site=site,
        shift=shift,
        form=form,
        zone=zone_of(site),
        withdrawn=shift.id in services.withdrawn_ids(site),
    ), form_status()


# --- video retention (D7) -------------------------------------------------------------


@bp.route("/sites/<int:site_id>/video-checks/new", methods=["GET", "POST"])
@role_required(*WRITE)
def new_video_check(site_id: int):  # type: ignore[no-untyped-def]
    """Record a video surveillance and retention check of the site."""
    site = _site_for(site_id)
    require(services.can_write(current_user, site))
    duplicate = _early_duplicate()
    if duplicate is not None:
        return duplicate
    form = forms.VideoCheckForm()
    if request.method == "GET":
        form.checked_at.data = local_now(site)
    if form.validate_on_submit():
        entry, response = _submit(
            form,
            lambda: services.record_video_check(
                site,
                current_user,
                form.password.data,
                checked_at=to_utc(form.checked_at.data, site),
                cameras_total=form.cameras_total.data,
                cameras_working=form.cameras_working.data,
                oldest_footage=form.oldest_footage.data,
                note=form.note.data,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if entry is not None:
            body = entry.data["body"]
            minimum = body["retention_required_days"]
            if entry.ok and body["retention_days"] >= minimum:
                flash(_("Video check recorded."), "success")
            else:
                flash(_("Video check recorded; a rectification was opened."), "warning")
            return _back_to(site)
    return render_template(
        "registers/video_form.html",
        site=site,
        form=form,
        retention_min=current_app.config["VIDEO_RETENTION_DAYS"],
    ), form_status()


# --- emergency alarm tests (D6) -------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/alarm-tests/new", methods=["GET", "POST"])
@role_required(*WRITE)
def new_alarm_test(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record an emergency alarm test of an elevator (a record in its chain)."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(services.can_test_alarm(current_user, elevator))
    if request.method == "POST":
        existing = records.find_by_idempotency_key(request.form.get("idempotency_key"))
        if existing is not None:
            flash(_("This form was already submitted; here is what it recorded."), "info")
            return redirect(url_for("records.detail", record_id=existing.id))
    site = elevator.site
    form = forms.AlarmTestForm()
    if request.method == "GET":
        form.tested_at.data = local_now(site)
    if form.validate_on_submit():
        answered = form.answered.data == "yes"
        record, response = _submit(
            form,
            lambda: services.record_alarm_test(
                elevator,
                current_user,
                form.password.data,
                tested_at=to_utc(form.tested_at.data, site),
                answered=answered,
                answered_in_seconds=form.answered_in_seconds.data,
                answered_by=form.answered_by.data,
                talk_clear=form.talk_clear.data == "yes",
                note=form.note.data,
                idempotency_key=form.idempotency_key.data,
            ),
        )
        if response is not None:
            return response
        if record is not None:
            if record.data["body"]["failed"]:
                flash(_("Alarm test recorded: it failed, a rectification was opened."), "warning")
            else:
                flash(_("Alarm test recorded."), "success")
            return redirect(url_for("records.detail", record_id=record.id))
    return render_template(
        "registers/alarm_form.html",
        elevator=elevator,
        form=form,
        limit=rules.answer_limit_seconds(),
    ), form_status()


# --- template globals -----------------------------------------------------------------


@bp.app_template_global()
def registers_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's registers panel shows: alarm tests, keys, roster."""
    site = elevator.site
    now = now_utc()
    today = chain.site_day(site, now)
    readable = current_user.is_authenticated and services.can_read(current_user)
    states = services.alarm_states([elevator], today)
    issues = services.open_issues(site) if readable else {}
    return {
        "state": states[0] if states else None,
        "recent": services.recent_alarm_tests(elevator),
        "readable": readable,
        "keys_out": list(issues.values()),
        "late_ids": {i.id for i in issues.values() if i.occurred_on < today},
        "today": services.roster_days(site, 1, now)[0] if readable else None,
        "zone": zone_of(site),
        "can_test": current_user.is_authenticated
        and current_user.role in WRITE
        and services.can_test_alarm(current_user, elevator),
        "limit": rules.answer_limit_seconds(),
        "clock": services.clock,
    }


@bp.app_template_global()
def registers_late_keys() -> list[RegisterEntry]:
    """Return the keys out past their issue day for the current user (the home page)."""
    if not current_user.is_authenticated or current_user.role not in READ:
        return []
    return services.unreturned_keys_for(current_user)


@bp.app_template_global()
def register_kind_label(kind: str) -> str:
    """Return an entry kind in the user's language."""
    return str(REGISTER_KIND_LABELS[RegisterKind(kind)])


@bp.app_template_filter("register_dt")
def register_dt(value: Any, zone: str | None = None) -> str:
    """Format a UTC time stored in signed content ("...Z") in a zone; other values as they are."""
    from elevator_safety.templating import local_dt

    if isinstance(value, datetime):
        return local_dt(value, zone)
    if isinstance(value, str) and value.endswith("Z"):
        try:
            return local_dt(datetime.fromisoformat(value[:-1] + "+00:00"), zone)
        except ValueError:
            return value
    return "" if value is None else str(value)
