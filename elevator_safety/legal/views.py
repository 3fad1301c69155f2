"""Pages of the legal duties: inspections (D11), additions (D10), misuse (D3), site emergency
plans and drills (D11), certificates (D11).

Roles are checked first (403), then the scope (404, through ``scoping``), then
the party (403, the predicates of ``legal.services``). Views parse the form,
call a service and commit once; the rules live in ``legal.services`` and the
inspection cycle in ``legal.cycle``. Records are shown by /records/<id> with
templates/records/kinds/<kind>.html; the elevator page includes
templates/legal/_elevator_panel.html (``legal_panel`` below).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload
from wtforms.fields.choices import SelectChoice

from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error, render_form
from elevator_safety.legal import cycle, forms, services
from elevator_safety.paging import paginate
from elevator_safety.patrols import checklists
from elevator_safety.records.models import SEVERITY_LABELS, Record, RecordKind
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.records.services import find_by_idempotency_key as find_record
from elevator_safety.registers import chain
from elevator_safety.registers.models import CERTIFICATE_KIND_LABELS, Certificate, RegisterEntry
from elevator_safety.registry.forms import placeholder
from elevator_safety.registry.models import Elevator, ElevatorStatus, Site
from elevator_safety.scoping import (
    get_elevator_or_404,
    get_site_or_404,
    local_today,
    scoped_sites,
)
from elevator_safety.security import require, role_required

bp = Blueprint("legal", __name__)

OFFICERS = (Role.safety_officer, Role.safety_director)
OFFICERS_AND_CONTRACTORS = (*OFFICERS, Role.contractor_manager, Role.technician)
CERTIFICATE_EDITORS = services.CERTIFICATE_EDITOR_ROLES


# --- helpers ------------------------------------------------------------------------


def _duplicate_record(record: Record):  # type: ignore[no-untyped-def]
    db.session.rollback()
    flash(_("This form was already submitted; here is what it recorded."), "info")
    return redirect(url_for("records.detail", record_id=record.id))


def _duplicate_entry(entry: RegisterEntry):  # type: ignore[no-untyped-def]
    db.session.rollback()
    flash(_("This form was already submitted; here is what it recorded."), "info")
    return redirect(url_for("legal.site", site_id=entry.site_id))


def _raced_record(token: str | None, error: IntegrityError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    existing = find_record(token)
    if existing is None:
        raise error
    return _duplicate_record(existing)


def _early_duplicate_record():  # type: ignore[no-untyped-def]
    """A resubmitted form goes to its record before anything is validated again."""
    if request.method == "POST":
        existing = find_record(request.form.get("idempotency_key"))
        if existing is not None:
            return _duplicate_record(existing)
    return None


def _zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone or "Asia/Shanghai")


def _local_input(moment: datetime, site: Site) -> datetime:
    """Return a UTC instant as the naive local time a datetime-local input shows."""
    return moment.astimezone(_zone(site)).replace(tzinfo=None, second=0, microsecond=0)


def _aware(naive: datetime, site: Site) -> datetime:
    """Return a naive local time typed at the site as an aware instant."""
    return naive.replace(tzinfo=_zone(site))


# --- inspection reports -------------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/inspections/new", methods=["GET", "POST"])
@role_required(*OFFICERS_AND_CONTRACTORS)
def new_inspection(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record a periodic inspection or self-test report of an elevator."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    now = now_utc()
    today = services.site_today(elevator.site, now)
    require(services.can_record_inspection(current_user, elevator, today))
    duplicate = _early_duplicate_record()
    if duplicate is not None:
        return duplicate
    form = forms.InspectionForm()
    officer = services.is_company_officer(current_user, elevator)
    if not officer:
        form.type.choices = [
            SelectChoice(cycle.SELF_TEST, services.INSPECTION_TYPE_LABELS[cycle.SELF_TEST])
        ]
    state = services.inspection_state(elevator, today)
    if request.method == "GET":
        form.type.data = state.kind if officer and state.kind else cycle.SELF_TEST
    if form.validate_on_submit():
        data = services.InspectionInput(
            type=form.type.data,
            inspected_on=form.inspected_on.data,
            inspection_body=form.inspection_body.data,
            report_no=form.report_no.data,
            result=form.result.data,
            items=[(row.form.description.data, row.form.severity.data) for row in form.items],
            note=form.note.data,
        )
        try:
            outcome = services.record_inspection(
                elevator,
                current_user,
                form.password.data,
                data,
                now=now,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate_error:
            return _duplicate_record(duplicate_error.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _raced_record(form.idempotency_key.data, error)
        else:
            db.session.commit()
            return _inspection_saved(elevator, outcome)
    return render_form(
        "legal/inspection_new.html",
        elevator=elevator,
        form=form,
        state=state,
        officer=officer,
    )


def _inspection_saved(elevator: Elevator, outcome: services.InspectionOutcome):  # type: ignore[no-untyped-def]
    record = outcome.record
    flash(_("Report recorded and signed (#%(seq)d in the chain).", seq=record.seq), "success")
    if outcome.findings:
        flash(
            ngettext(
                "%(num)d rectification opened.",
                "%(num)d rectifications opened.",
                len(outcome.findings),
            ),
            "warning",
        )
    if not outcome.updated:
        flash(
            _(
                "A later test is already on file: the elevator's last inspection and next due "
                "date were kept."
            ),
            "info",
        )
    elif not outcome.cycle_known:
        flash(
            _(
                "The elevator has no acceptance date: the next test is due one year after this "
                "one (%(day)s). Enter the acceptance date to follow the TSG T7001 cycle.",
                day=outcome.next_due.isoformat(),
            ),
            "warning",
        )
    if record.data["body"]["result"] == "failed":
        flash(
            _("The elevator failed its inspection: it must not be used until it passes."),
            "error",
        )
    return redirect(url_for("records.detail", record_id=record.id))


# --- additions and advertising ------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/additions/new", methods=["GET", "POST"])
@role_required(*OFFICERS)
def new_addition(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record equipment or advertising added to an elevator, with its safety review."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(services.can_record_addition(current_user, elevator))
    duplicate = _early_duplicate_record()
    if duplicate is not None:
        return duplicate
    form = forms.AdditionForm()
    if form.validate_on_submit():
        data = services.AdditionInput(
            what=form.what.data,
            description=form.description.data,
            location=form.location.data,
            installed_on=form.installed_on.data,
            installer=form.installer.data,
            weight_kg=form.weight_kg.data,
            reviewed=bool(form.reviewed.data),
            reviewer=form.reviewer.data,
            approved=bool(form.approved.data),
            review_note=form.review_note.data,
            note=form.note.data,
        )
        try:
            record, finding = services.record_addition(
                elevator,
                current_user,
                form.password.data,
                data,
                now=now_utc(),
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate_error:
            return _duplicate_record(duplicate_error.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _raced_record(form.idempotency_key.data, error)
        else:
            db.session.commit()
            flash(
                _("Addition recorded and signed (#%(seq)d in the chain).", seq=record.seq),
                "success",
            )
            if finding is not None:
                flash(_("The addition is not approved: a rectification was opened."), "warning")
            return redirect(url_for("records.detail", record_id=record.id))
    return render_form("legal/addition_new.html", elevator=elevator, form=form)


# --- misuse -------------------------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/misuse/new", methods=["GET", "POST"])
@role_required(*OFFICERS_AND_CONTRACTORS)
def new_misuse(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record a passenger's misuse of an elevator (one of the ten prohibited acts)."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    now = now_utc()
    require(
        services.can_record_misuse(current_user, elevator, services.site_today(elevator.site, now))
    )
    duplicate = _early_duplicate_record()
    if duplicate is not None:
        return duplicate
    form = forms.MisuseForm()
    form.act.choices = [
        placeholder(),
        *(SelectChoice(a.code, a.label()) for a in checklists.prohibited_acts()),
    ]
    if request.method == "GET":
        form.occurred_at.data = _local_input(now, elevator.site)
    if form.validate_on_submit():
        data = services.MisuseInput(
            occurred_at=_aware(form.occurred_at.data, elevator.site),
            act=form.act.data,
            action=form.action.data,
            note=form.note.data,
            photo=form.photo.data or None,
        )
        try:
            record = services.record_misuse(
                elevator,
                current_user,
                form.password.data,
                data,
                now=now,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate_error:
            return _duplicate_record(duplicate_error.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _raced_record(form.idempotency_key.data, error)
        else:
            db.session.commit()
            flash(
                _("Misuse recorded and signed (#%(seq)d in the chain).", seq=record.seq),
                "success",
            )
            return redirect(url_for("records.detail", record_id=record.id))
    return render_form(
        "legal/misuse_new.html",
        elevator=elevator,
        form=form,
        posted=request.method == "POST",
    )


# --- sites: emergency plan and drills -----------------------------------------------


@bp.get("/sites/<int:site_id>/legal")
@login_required
def site(site_id: int):  # type: ignore[no-untyped-def]
    """Show a site's emergency plan on file, drill states and the log of plans and drills."""
    found = get_site_or_404(current_user, site_id)
    now = now_utc()
    today = services.site_today(found, now)
    return render_template(
        "legal/site.html",
        site=found,
        status=services.site_status(found, today),
        page=paginate(services.site_entries(found)),
        today=today,
        can_plan=services.can_record_plan(current_user, found),
        can_drill=services.can_record_drill(current_user, found, today),
    )


def _early_duplicate_entry():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        existing = chain.find_by_idempotency_key(request.form.get("idempotency_key"))
        if existing is not None:
            return _duplicate_entry(existing)
    return None


def _entry_raced(token: str | None, error: IntegrityError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    existing = chain.find_by_idempotency_key(token)
    if existing is None:
        raise error
    return _duplicate_entry(existing)


@bp.route("/sites/<int:site_id>/emergency-plan/new", methods=["GET", "POST"])
@role_required(*OFFICERS)
def new_plan(site_id: int):  # type: ignore[no-untyped-def]
    """File the site's emergency plan (a new version replaces the one on file)."""
    found = get_site_or_404(current_user, site_id)
    require(services.can_record_plan(current_user, found))
    duplicate = _early_duplicate_entry()
    if duplicate is not None:
        return duplicate
    form = forms.PlanForm()
    if form.validate_on_submit():
        try:
            services.record_plan(
                found,
                current_user,
                form.password.data,
                title=form.title.data,
                version=form.version.data,
                approved_on=form.approved_on.data,
                approved_by=form.approved_by.data,
                summary=form.summary.data,
                now=now_utc(),
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate_error:
            return _duplicate_entry(duplicate_error.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _entry_raced(form.idempotency_key.data, error)
        else:
            db.session.commit()
            flash(_("Emergency plan filed and signed."), "success")
            return redirect(url_for("legal.site", site_id=found.id))
    return render_form("legal/plan_new.html", site=found, form=form)


@bp.route("/sites/<int:site_id>/drills/new", methods=["GET", "POST"])
@role_required(*OFFICERS_AND_CONTRACTORS)
def new_drill(site_id: int):  # type: ignore[no-untyped-def]
    """Record an emergency drill: the site's own, or a contractor's at a site it serves."""
    found = get_site_or_404(current_user, site_id)
    now = now_utc()
    today = services.site_today(found, now)
    require(services.can_record_drill(current_user, found, today))
    duplicate = _early_duplicate_entry()
    if duplicate is not None:
        return duplicate
    own_site = services.is_site_officer(current_user, found)
    choices = sorted(
        found.elevators if own_site else services.contracted_elevators(current_user, found, today),
        key=lambda e: (e.building or "", e.unit or "", e.equipment_code),
    )
    choices = [e for e in choices if e.status != ElevatorStatus.decommissioned]
    form = forms.DrillForm()
    form.elevator_ids.choices = [
        SelectChoice(e.id, f"{e.equipment_code} {e.location}".strip()) for e in choices
    ]
    if form.validate_on_submit():
        by_id = {e.id: e for e in choices}
        try:
            services.record_drill(
                found,
                current_user,
                form.password.data,
                drill_on=form.drill_on.data,
                done_as_planned=form.done_as_planned.data == "yes",
                scenario=form.scenario.data,
                participants=form.participants.data,
                elevators=[by_id[i] for i in form.elevator_ids.data or [] if i in by_id],
                lessons=form.lessons.data,
                now=now,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate_error:
            return _duplicate_entry(duplicate_error.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _entry_raced(form.idempotency_key.data, error)
        else:
            db.session.commit()
            flash(_("Emergency drill recorded and signed."), "success")
            return redirect(url_for("legal.site", site_id=found.id))
    return render_form("legal/drill_new.html", site=found, form=form, own_site=own_site)


# --- index pages --------------------------------------------------------------------


@bp.get("/legal")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the user's elevators by inspection state: due within 30 days or overdue by default."""
    today = local_today()
    state = request.args.get("state", "due")
    if state not in services.DUE_FILTERS:
        state = "due"
    query = services.due_query(current_user, today, state).options(contains_eager(Elevator.site))
    site_id = request.args.get("site", type=int)
    if site_id:
        query = query.where(Elevator.site_id == site_id)
    page = paginate(query)
    sites = db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id)).all()
    return render_template(
        "legal/index.html",
        page=page,
        states={e.id: services.inspection_state(e, today) for e in page.items},
        sites=sites,
        state=state,
        args=request.args,
        today=today,
        drills=services.drills_due(current_user, today=today),
        certificates=services.certificates_expiring(current_user, today=today),
    )


@bp.get("/legal/sites")
@login_required
def sites():  # type: ignore[no-untyped-def]
    """List the user's sites with their emergency plan and drill states."""
    today = local_today()
    page = paginate(scoped_sites(current_user).order_by(Site.name, Site.id))
    rows = [services.site_status(s, today) for s in page.items]
    if current_user.organisation.kind == OrgKind.contractor:
        for row in rows:
            row.contractors = [
                c for c in row.contractors if c.organisation.id == current_user.organisation_id
            ]
    return render_template("legal/sites.html", page=page, rows=rows, today=today)


LIST_KINDS = {
    "inspection": RecordKind.inspection,
    "addition": RecordKind.addition,
    "misuse": RecordKind.misuse,
}


@bp.get("/legal/inspections", defaults={"kind": "inspection"}, endpoint="inspections")
@bp.get("/legal/additions", defaults={"kind": "addition"}, endpoint="additions")
@bp.get("/legal/misuse", defaults={"kind": "misuse"}, endpoint="misuse")
@login_required
def record_list(kind: str):  # type: ignore[no-untyped-def]
    """List inspection reports, additions or misuse incidents of the user's elevators."""
    query = services.records_query(current_user, LIST_KINDS[kind]).options(
        contains_eager(Record.elevator).contains_eager(Elevator.site),
        selectinload(Record.author),
    )
    site_id = request.args.get("site", type=int)
    if site_id:
        query = query.where(Elevator.site_id == site_id)
    elevator = None
    elevator_id = request.args.get("elevator", type=int)
    if elevator_id:
        elevator = get_elevator_or_404(current_user, elevator_id)
        query = query.where(Record.elevator_id == elevator.id)
    page = paginate(query)
    sites_list = db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id)).all()
    return render_template(
        "legal/records.html",
        kind=kind,
        page=page,
        sites=sites_list,
        elevator=elevator,
        args=request.args,
    )


# --- certificates -------------------------------------------------------------------


@bp.get("/certificates")
@login_required
def certificates():  # type: ignore[no-untyped-def]
    """List the certificates of the people the user may see, soonest expiry first."""
    today = local_today()
    query = services.certificates_query(current_user, today)
    flag = request.args.get("flag", "")
    warning = int(current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"])
    if flag == "expired":
        query = query.where(Certificate.expires_on < today)
    elif flag == "expiring":
        query = query.where(Certificate.expires_on <= today + timedelta(days=warning))
    kind = request.args.get("kind", "")
    if kind in {k.value for k in CERTIFICATE_KIND_LABELS}:
        query = query.where(Certificate.kind == kind)
    page = paginate(query)
    return render_template(
        "legal/certificates.html",
        page=page,
        today=today,
        state_of=lambda c: services.certificate_state(c, today),
        kind_labels=CERTIFICATE_KIND_LABELS,
        args=request.args,
        warning=warning,
        can_edit=services.can_edit_certificates(current_user),
    )


def _certificate_form(form: forms.CertificateForm) -> None:
    form.user_id.choices = [
        placeholder(),
        *(
            SelectChoice(u.id, f"{u.name} · {u.role_label}")
            for u in services.certificate_holders(current_user)
        ),
    ]


def _save_certificate(form: forms.CertificateForm, certificate: Certificate | None):  # type: ignore[no-untyped-def]
    data = services.CertificateInput(
        user_id=form.user_id.data,
        kind=form.kind.data,
        number=form.number.data,
        issuer=form.issuer.data,
        issued_on=form.issued_on.data,
        expires_on=form.expires_on.data,
    )
    try:
        services.save_certificate(current_user, data, certificate)
    except DomainError as error:
        db.session.rollback()
        field_error(form, error, "number")
        return None
    except IntegrityError:
        db.session.rollback()
        form.number.errors = [
            *form.number.errors,
            _("A certificate of this kind with this number is already registered."),
        ]
        return None
    db.session.commit()
    flash(_("Certificate saved."), "success")
    return redirect(url_for("legal.certificates"))


@bp.route("/certificates/new", methods=["GET", "POST"])
@role_required(*CERTIFICATE_EDITORS)
def new_certificate():  # type: ignore[no-untyped-def]
    """Register a certificate of a person of one's own organisation."""
    require(services.can_edit_certificates(current_user))
    form = forms.CertificateForm()
    _certificate_form(form)
    if form.validate_on_submit():
        done = _save_certificate(form, None)
        if done is not None:
            return done
    return render_form("legal/certificate_form.html", form=form, certificate=None)


@bp.route("/certificates/<int:certificate_id>/edit", methods=["GET", "POST"])
@role_required(*CERTIFICATE_EDITORS)
def edit_certificate(certificate_id: int):  # type: ignore[no-untyped-def]
    """Change a certificate (renewal: new number or expiry) of one's own organisation."""
    require(services.can_edit_certificates(current_user))
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.user.organisation_id != current_user.organisation_id:
        abort(404)
    form = forms.CertificateForm(obj=certificate if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = certificate.kind.value
    _certificate_form(form)
    if form.validate_on_submit():
        done = _save_certificate(form, certificate)
        if done is not None:
            return done
    return render_form("legal/certificate_form.html", form=form, certificate=certificate)


# --- template globals ---------------------------------------------------------------


@bp.app_template_global()
def legal_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's legal panel shows."""
    now = now_utc()
    today = services.site_today(elevator.site, now)
    user = current_user
    live = elevator.status != ElevatorStatus.decommissioned
    authed = user.is_authenticated
    return {
        "state": services.inspection_state(elevator, today),
        "inspections": services.recent(elevator, RecordKind.inspection, 3),
        "additions": services.recent(elevator, RecordKind.addition, 5),
        "misuse": services.recent(elevator, RecordKind.misuse, 5),
        "can_inspect": authed and live and services.can_record_inspection(user, elevator, today),
        "can_add": authed and live and services.can_record_addition(user, elevator),
        "can_misuse": authed and live and services.can_record_misuse(user, elevator, today),
        "can_lockout": authed and services.is_company_officer(user, elevator),
        "lockout_url": lockout_url(elevator.id),
    }


def lockout_url(elevator_id: int) -> str:
    """Return the address of the lockout form for a failed inspection (lockouts package)."""
    return f"/elevators/{elevator_id}/lockouts/new?cause=inspection"


@bp.app_template_global()
def legal_labels() -> dict[str, Any]:
    """Return the labels of the codes stored in legal record bodies."""
    return {
        "type": services.INSPECTION_TYPE_LABELS,
        "what": services.ADDITION_WHAT_LABELS,
        "action": services.MISUSE_ACTION_LABELS,
        "severity": {s.value: label for s, label in SEVERITY_LABELS.items()},
        "certificate": {k.value: label for k, label in CERTIFICATE_KIND_LABELS.items()},
        "yes_no": {True: _("Yes"), False: _("No")},
    }


@bp.app_template_global()
def legal_result_label(result: str | None) -> str:
    """Return an inspection result in the user's language."""
    return services.result_label(result)


@bp.app_template_global()
def legal_act_label(code: str | None, stored: str | None = None) -> str:
    """Return a prohibited act in the user's language."""
    return services.act_label(code, stored)


@bp.app_template_global()
def legal_lockout_url(elevator_id: int) -> str:
    """Return the lockout form's address for a failed inspection."""
    return lockout_url(elevator_id)


@bp.app_template_global()
def legal_date(value: date | str | None) -> str:
    """Return a date (or a stored ISO date) as YYYY-MM-DD, or a dash."""
    if value is None or value == "":
        return "—"
    return value.isoformat() if isinstance(value, date) else str(value)


@bp.app_template_global()
def legal_site_status(site: Site) -> services.SiteStatus:
    """Return a site's emergency plan and drill status (for a site page panel)."""
    status = services.site_status(site, services.site_today(site, now_utc()))
    if current_user.is_authenticated and current_user.organisation.kind == OrgKind.contractor:
        status.contractors = [
            c for c in status.contractors if c.organisation.id == current_user.organisation_id
        ]
    return status
