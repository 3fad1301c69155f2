"""Registry pages: elevators, sites and maintenance contracts.

Every query goes through ``elevator_safety.scoping`` (out-of-scope records
answer 404) and every write through a permission predicate of
``registry.models`` (refused users get 403). The views parse the form, call a
service of ``registry.services`` and commit; the rules live in the services.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from elevator_safety.auth.models import Organisation, Role
from elevator_safety.extensions import db
from elevator_safety.paging import paginate
from elevator_safety.registry import services
from elevator_safety.registry.forms import ContractForm, ElevatorForm, SiteForm, placeholder
from elevator_safety.registry.models import (
    KIND_LABELS,
    LEVEL_LABELS,
    RESULT_LABELS,
    STATUS_LABELS,
    Contract,
    Elevator,
    ElevatorStatus,
    MaintenanceLevel,
    Site,
    can_edit_contract,
    can_edit_elevator,
    can_edit_registry,
    can_edit_site,
    can_import_elevators,
)
from elevator_safety.registry.queries import DEFAULT_SORT, contractor_choices, filtered_elevators
from elevator_safety.scoping import (
    get_contract_or_404,
    get_elevator_or_404,
    get_site_or_404,
    local_today,
    scoped_contracts,
    scoped_elevators,
    scoped_sites,
)
from elevator_safety.security import require, role_required

bp = Blueprint("registry", __name__)

#: Contract states offered by the contract list's filter.
CONTRACT_STATES = ("active", "expiring", "ended", "future")


# --- helpers ----------------------------------------------------------------


def _apply_problems(form: FlaskForm, problems: services.Problems) -> None:
    """Copy a service's problems onto the form's fields; others become a flash."""
    for name, messages in problems.errors.items():
        target = getattr(form, name, None)
        if target is None:
            for message in messages:
                flash(message, "error")
        else:
            target.errors.extend(messages)


def _invalid(template: str, **context: Any):  # type: ignore[no-untyped-def]
    """Render a form page: 200 on GET, 422 when a posted form was refused."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, **context), status


def contract_state(contract: Contract, today: date) -> str:
    """Return 'future', 'ended', 'expiring' (ends within the warning period) or 'active'."""
    if contract.start_date > today:
        return "future"
    if contract.end_date < today:
        return "ended"
    horizon = today + timedelta(days=current_app.config["CONTRACT_EXPIRY_WARNING_DAYS"])
    return "expiring" if contract.end_date <= horizon else "active"


def _state_labels() -> dict[str, str]:
    days = current_app.config["CONTRACT_EXPIRY_WARNING_DAYS"]
    return {
        "active": _("In force"),
        "expiring": _("Ending within %(days)d days", days=days),
        "ended": _("Ended"),
        "future": _("Not yet started"),
    }


def _label_context() -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "result_labels": RESULT_LABELS,
        "level_labels": LEVEL_LABELS,
        "state_labels": _state_labels(),
        "contract_state": contract_state,
    }


# --- elevators --------------------------------------------------------------


@bp.get("/elevators")
@login_required
def elevators():  # type: ignore[no-untyped-def]
    """List the elevators in the user's scope, with search, filters, sorting and pages."""
    today = local_today()
    query = filtered_elevators(current_user, request.args, today).options(
        selectinload(Elevator.site),
        selectinload(Elevator.contracts).selectinload(Contract.contractor),
    )
    page = paginate(query)
    sites = db.session.scalars(scoped_sites(current_user, today).order_by(Site.name, Site.id))
    districts = db.session.execute(
        scoped_sites(current_user, today)
        .with_only_columns(Site.district_code, func.min(Site.district_name))
        .group_by(Site.district_code)
        .order_by(Site.district_code)
    ).all()
    # The export takes the list's filters and sort, not its page.
    filters: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
    export_url = url_for("registry_io.export_csv", **filters)
    import_url = (
        url_for("registry_io.import_upload") if can_import_elevators(current_user) else None
    )
    return render_template(
        "registry/elevators.html",
        page=page,
        today=today,
        args=request.args,
        sort=request.args.get("sort") or DEFAULT_SORT,
        sites=list(sites),
        districts=districts,
        contractors=contractor_choices(current_user, today),
        can_create=can_edit_registry(current_user),
        export_url=export_url,
        import_url=import_url,
        **_label_context(),
    )


@bp.get("/elevators/<int:elevator_id>")
@login_required
def elevator_detail(elevator_id: int):  # type: ignore[no-untyped-def]
    """Show an elevator's registry data and its maintenance contracts."""
    today = local_today()
    elevator = get_elevator_or_404(current_user, elevator_id)
    contracts = db.session.scalars(
        scoped_contracts(current_user, today)
        .where(Contract.elevator_id == elevator.id)
        .options(selectinload(Contract.contractor))
        .order_by(Contract.start_date.desc(), Contract.id.desc())
    ).all()
    return render_template(
        "registry/elevator_detail.html",
        elevator=elevator,
        contracts=contracts,
        today=today,
        can_edit=can_edit_elevator(current_user, elevator),
        **_label_context(),
    )


def _elevator_form(elevator: Elevator | None = None) -> ElevatorForm:
    """Return the elevator form with the company's sites and safety officers as choices."""
    form = ElevatorForm(obj=elevator)
    sites = db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id))
    form.site_id.choices = [placeholder(), *(SelectChoice(str(s.id), s.name) for s in sites)]
    officers = services.eligible_officers(current_user.organisation_id)
    choices = [placeholder()]
    for officer in officers:
        label = (
            f"{officer.name} ({officer.certificate_no})" if officer.certificate_no else officer.name
        )
        choices.append(SelectChoice(str(officer.id), label))
    if elevator is not None and elevator.safety_officer_id not in {o.id for o in officers}:
        # Keep the current officer visible so that saving never silently changes them;
        # the service refuses them with a message saying why.
        choices.append(
            SelectChoice(
                str(elevator.safety_officer_id),
                _("%(name)s (not an active safety officer)", name=elevator.safety_officer.name),
            )
        )
    form.safety_officer_id.choices = choices
    return form


def _elevator_values(form: ElevatorForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in services.ELEVATOR_FIELDS}


def _add_rule_problems(form: ElevatorForm, existing_id: int | None = None) -> None:
    """Show the service's rules too when the form itself was refused (nothing is written).

    So that the user sees every problem at once, not the form's first and the
    rules' after the next submission; fields already marked keep their message.
    """
    _, problems = services.prepare_elevator(
        _elevator_values(form), current_user.organisation, existing_id=existing_id
    )
    for name, messages in problems.errors.items():
        target = getattr(form, name, None)
        if target is not None and not target.errors:
            target.errors.extend(messages)


@bp.route("/elevators/new", methods=["GET", "POST"])
@role_required(Role.admin)
def elevator_new():  # type: ignore[no-untyped-def]
    """Register a new elevator on one of the company's sites."""
    require(can_edit_registry(current_user))
    form = _elevator_form()
    if request.method == "GET":
        site_arg = request.args.get("site", type=int)
        if site_arg is not None and any(c.value == str(site_arg) for c in form.site_id.choices):
            form.site_id.data = site_arg
    if form.validate_on_submit():
        try:
            elevator = services.create_elevator(current_user.organisation, _elevator_values(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Elevator %(code)s registered.", code=elevator.equipment_code), "success")
            return redirect(url_for(".elevator_detail", elevator_id=elevator.id))
    elif form.is_submitted():
        _add_rule_problems(form)
    return _invalid("registry/elevator_form.html", form=form, elevator=None)


@bp.route("/elevators/<int:elevator_id>/edit", methods=["GET", "POST"])
@role_required(Role.admin)
def elevator_edit(elevator_id: int):  # type: ignore[no-untyped-def]
    """Edit an elevator's registry data."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(can_edit_elevator(current_user, elevator))
    form = _elevator_form(elevator)
    if form.validate_on_submit():
        try:
            services.update_elevator(current_user.organisation, elevator, _elevator_values(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Elevator %(code)s saved.", code=elevator.equipment_code), "success")
            return redirect(url_for(".elevator_detail", elevator_id=elevator.id))
    elif form.is_submitted():
        _add_rule_problems(form, existing_id=elevator.id)
    return _invalid("registry/elevator_form.html", form=form, elevator=elevator)


# --- sites ------------------------------------------------------------------


def _elevator_counts(site_ids: list[int], today: date) -> dict[int, tuple[int, int]]:
    """Return {site id: (elevators in scope, of which not in service)}."""
    if not site_ids:
        return {}
    not_in_service = case((Elevator.status != ElevatorStatus.in_service, 1), else_=0)
    rows = db.session.execute(
        scoped_elevators(current_user, today)
        .with_only_columns(Elevator.site_id, func.count(Elevator.id), func.sum(not_in_service))
        .where(Elevator.site_id.in_(site_ids))
        .group_by(Elevator.site_id)
    ).all()
    return {site_id: (total, int(bad or 0)) for site_id, total, bad in rows}


@bp.get("/sites")
@login_required
def sites():  # type: ignore[no-untyped-def]
    """List the sites in the user's scope with their elevator counts."""
    today = local_today()
    q = (request.args.get("q") or "").strip()
    query = scoped_sites(current_user, today)
    if q:
        query = query.where(func.lower(Site.name).like(f"%{q.lower()}%"))
    page = paginate(query.order_by(Site.name, Site.id))
    return render_template(
        "registry/sites.html",
        page=page,
        q=q,
        counts=_elevator_counts([s.id for s in page.items], today),
        can_create=can_edit_registry(current_user),
    )


@bp.get("/sites/<int:site_id>")
@login_required
def site_detail(site_id: int):  # type: ignore[no-untyped-def]
    """Show a site and the elevators of it the user may see."""
    today = local_today()
    site = get_site_or_404(current_user, site_id)
    query = (
        scoped_elevators(current_user, today)
        .where(Elevator.site_id == site.id)
        .options(selectinload(Elevator.contracts).selectinload(Contract.contractor))
        .order_by(Elevator.equipment_code, Elevator.id)
    )
    return render_template(
        "registry/site_detail.html",
        site=site,
        page=paginate(query),
        today=today,
        can_edit=can_edit_site(current_user, site),
        **_label_context(),
    )


def _site_values(form: SiteForm) -> dict[str, Any]:
    return {name: getattr(form, name).data for name in services.SITE_FIELDS}


@bp.route("/sites/new", methods=["GET", "POST"])
@role_required(Role.admin)
def site_new():  # type: ignore[no-untyped-def]
    """Create a site of the company."""
    require(can_edit_registry(current_user))
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = services.create_site(current_user, _site_values(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Site %(name)s created.", name=site.name), "success")
            return redirect(url_for(".site_detail", site_id=site.id))
    return _invalid("registry/site_form.html", form=form, site=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@role_required(Role.admin)
def site_edit(site_id: int):  # type: ignore[no-untyped-def]
    """Edit a site."""
    site = get_site_or_404(current_user, site_id)
    require(can_edit_site(current_user, site))
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        try:
            services.update_site(current_user, site, _site_values(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Site %(name)s saved.", name=site.name), "success")
            return redirect(url_for(".site_detail", site_id=site.id))
    return _invalid("registry/site_form.html", form=form, site=site)


# --- contracts --------------------------------------------------------------


@bp.get("/contracts")
@login_required
def contracts():  # type: ignore[no-untyped-def]
    """List the maintenance contracts in the user's scope, filtered by state and contractor."""
    today = local_today()
    horizon = today + timedelta(days=current_app.config["CONTRACT_EXPIRY_WARNING_DAYS"])
    base = scoped_contracts(current_user, today)
    query = base
    state = request.args.get("state") or ""
    if state == "active":
        query = query.where(Contract.start_date <= today, Contract.end_date >= today)
    elif state == "expiring":
        query = query.where(
            Contract.start_date <= today, Contract.end_date >= today, Contract.end_date <= horizon
        )
    elif state == "ended":
        query = query.where(Contract.end_date < today)
    elif state == "future":
        query = query.where(Contract.start_date > today)
    contractor = request.args.get("contractor", type=int)
    if contractor is not None:
        query = query.where(Contract.contractor_id == contractor)
    query = query.options(
        selectinload(Contract.contractor),
        selectinload(Contract.elevator).selectinload(Elevator.site),
    ).order_by(Contract.end_date.desc(), Contract.id.desc())
    page = paginate(query)
    elevator_ids = {c.elevator_id for c in page.items}
    visible = set(
        db.session.scalars(
            scoped_elevators(current_user, today)
            .with_only_columns(Elevator.id)
            .where(Elevator.id.in_(elevator_ids))
        )
        if elevator_ids
        else ()
    )
    contractor_orgs = db.session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(base.with_only_columns(Contract.contractor_id).distinct()))
        .order_by(Organisation.name)
    ).all()
    return render_template(
        "registry/contracts.html",
        page=page,
        today=today,
        state=state,
        states=CONTRACT_STATES,
        contractor=contractor,
        contractors=contractor_orgs,
        visible_elevators=visible,
        editable={c.id for c in page.items if can_edit_contract(current_user, c)},
        **_label_context(),
    )


@bp.get("/contracts/<int:contract_id>")
@login_required
def contract_detail(contract_id: int):  # type: ignore[no-untyped-def]
    """Show a maintenance contract."""
    today = local_today()
    contract = get_contract_or_404(current_user, contract_id)
    elevator_visible = (
        db.session.scalar(
            scoped_elevators(current_user, today)
            .with_only_columns(Elevator.id)
            .where(Elevator.id == contract.elevator_id)
        )
        is not None
    )
    return render_template(
        "registry/contract_detail.html",
        contract=contract,
        today=today,
        elevator_visible=elevator_visible,
        can_edit=can_edit_contract(current_user, contract),
        **_label_context(),
    )


def _contract_form(data: dict[str, Any] | None = None) -> ContractForm:
    """Return the contract form with the platform's contractors as choices."""
    form = ContractForm(data=data)
    choices = [placeholder()]
    for org in services.contractors():
        label = f"{org.name} ({org.qualification_no})" if org.qualification_no else org.name
        choices.append(SelectChoice(str(org.id), label))
    form.contractor_id.choices = choices
    return form


def _save_contract_args(form: ContractForm) -> dict[str, Any]:
    by_id = {org.id: org for org in services.contractors()}
    return {
        "contractor": by_id.get(form.contractor_id.data) if form.contractor_id.data else None,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "level_plan": form.level_plan.data or [],
        "contract_no": form.contract_no.data,
    }


@bp.route("/elevators/<int:elevator_id>/contracts/new", methods=["GET", "POST"])
@role_required(Role.admin)
def contract_new(elevator_id: int):  # type: ignore[no-untyped-def]
    """Enter a new maintenance contract for an elevator."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(can_edit_elevator(current_user, elevator))
    latest_end = max((c.end_date for c in elevator.contracts), default=None)
    start = latest_end + timedelta(days=1) if latest_end else local_today()
    form = _contract_form(
        {"start_date": start, "level_plan": [level.value for level in MaintenanceLevel]}
    )
    if form.validate_on_submit():
        try:
            services.create_contract(current_user, elevator, **_save_contract_args(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Contract saved."), "success")
            return redirect(url_for(".elevator_detail", elevator_id=elevator.id))
    return _invalid("registry/contract_form.html", form=form, elevator=elevator, contract=None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@role_required(Role.admin)
def contract_edit(contract_id: int):  # type: ignore[no-untyped-def]
    """Change a maintenance contract's contractor, dates or level plan."""
    contract = get_contract_or_404(current_user, contract_id)
    require(can_edit_contract(current_user, contract))
    form = _contract_form(
        {
            "contractor_id": contract.contractor_id,
            "contract_no": contract.contract_no,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "level_plan": [level.value for level in contract.levels],
        }
    )
    if form.validate_on_submit():
        try:
            services.update_contract(current_user, contract, **_save_contract_args(form))
        except services.RegistryValidationError as error:
            db.session.rollback()
            _apply_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("Contract saved."), "success")
            return redirect(url_for(".elevator_detail", elevator_id=contract.elevator_id))
    return _invalid(
        "registry/contract_form.html", form=form, elevator=contract.elevator, contract=contract
    )
