"""Users and audit log of one's own organisation.

Only user managers (property-company admins, contractor managers) come here;
every other role gets 403. Users and audit entries are always looked up within
the current user's organisation, so another organisation's user is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import Select, func, or_, select
from wtforms.fields.choices import SelectChoice

from elevator_safety.admin.forms import (
    AuditFilterForm,
    EditUserForm,
    InviteUserForm,
    UserFilterForm,
    role_choices,
)
from elevator_safety.audit import AuditEntry
from elevator_safety.auth import services
from elevator_safety.auth.models import (
    OrgKind,
    User,
    can_manage_user,
    can_manage_users,
    can_view_audit,
)
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.paging import paginate
from elevator_safety.security import require

bp = Blueprint("admin", __name__, url_prefix="/admin")

F = TypeVar("F", bound=Callable[..., Any])

#: Names of the audited actions; unknown actions are shown as stored.
ACTION_LABELS = {
    "login": _l("Login"),
    "login_failed": _l("Failed login"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "deactivate": _l("Deactivated"),
    "activate": _l("Activated"),
    "invite": _l("Invitation issued"),
    "invitation_accepted": _l("Invitation accepted"),
    "password_change": _l("Password changed"),
    "password_reset": _l("Password reset by the operator"),
    "import": _l("Imported"),
    "export": _l("Exported"),
    "record": _l("Record added"),
    "cancel": _l("Cancelled"),
    "delete": _l("Removed"),
    "download": _l("Downloaded"),
}

#: Names of the audited object types (model class names); others are shown as stored.
OBJECT_TYPE_LABELS = {
    "User": _l("User"),
    "Organisation": _l("Organisation"),
    "Site": _l("Site"),
    "Elevator": _l("Elevator"),
    "Contract": _l("Contract"),
    "Record": _l("Record"),
    "Finding": _l("Finding"),
    "Handover": _l("Handover"),
    "RuleOverride": _l("Local rule value"),
}


def manager_required(view: F) -> F:
    """Require login and the right to manage the organisation's users; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        require(can_manage_users(current_user))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _like(text: str) -> str:
    """Return a case-insensitive LIKE pattern matching the text literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _org_user_or_404(user_id: int) -> User:
    """Load a user of the current user's organisation, or answer 404."""
    user = db.session.scalar(
        select(User).where(User.id == user_id, User.organisation_id == current_user.organisation_id)
    )
    if user is None:
        abort(404)
    require(can_manage_user(current_user, user))
    return user


def _org_kind() -> OrgKind:
    return OrgKind(current_user.organisation.kind)


def _show_domain_error(form: Any, error: DomainError, default_field: str) -> None:
    """Put a refused rule's message on the field it names (or a default one)."""
    field = getattr(form, error.field or default_field, None)
    if field is None:
        field = getattr(form, default_field)
    field.errors = [*field.errors, error.message]


def _invitation_page(user: User, token: str, *, new_user: bool):  # type: ignore[no-untyped-def]
    """Render the one-time page with the invitation link; it must not be cached."""
    link = url_for("auth.accept_invitation", token=token, _external=True)
    response = make_response(
        render_template(
            "admin/invitation_link.html",
            user=user,
            link=link,
            new_user=new_user,
            days=current_app.config["INVITE_VALID_DAYS"],
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- users -------------------------------------------------------------------


def _filtered_users(form: UserFilterForm) -> Select:  # type: ignore[type-arg]
    query = select(User).where(User.organisation_id == current_user.organisation_id)
    text = (form.q.data or "").strip() if not form.q.errors else ""
    if text:
        like = _like(text)
        phone_like = _like(text.replace(" ", "").replace("-", ""))
        query = query.where(
            or_(
                func.lower(User.name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
                User.phone.like(phone_like, escape="\\"),
            )
        )
    if form.role.data and not form.role.errors:
        query = query.where(User.role == form.role.data)
    if form.state.data == "active":
        query = query.where(User.active.is_(True))
    elif form.state.data == "inactive":
        query = query.where(User.active.is_(False))
    return query.order_by(User.active.desc(), User.name, User.id)


@bp.get("/users")
@manager_required
def users():  # type: ignore[no-untyped-def]
    """List the users of one's organisation, with filters."""
    form = UserFilterForm(formdata=request.args)
    form.role.choices = role_choices(_org_kind(), blank=_l("All"))
    form.validate()
    page = paginate(_filtered_users(form))
    return render_template("admin/users.html", form=form, page=page)


@bp.route("/users/invite", methods=["GET", "POST"])
@manager_required
def invite():  # type: ignore[no-untyped-def]
    """Invite a person to one's organisation and show the invitation link once."""
    form = InviteUserForm()
    form.role.choices = role_choices(_org_kind(), blank=_l("— choose —"))
    if form.validate_on_submit():
        try:
            user, token = services.invite_user(
                current_user,
                name=form.name.data or "",
                role=form.role.data,
                email=form.email.data or None,
                phone=form.phone.data or None,
                certificate_no=form.certificate_no.data,
            )
        except DomainError as error:
            db.session.rollback()
            _show_domain_error(form, error, "email")
        else:
            db.session.commit()
            return _invitation_page(user, token, new_user=True)
    return render_template("admin/invite.html", form=form)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_user(user_id: int):  # type: ignore[no-untyped-def]
    """Change a user's name, role and certificate number."""
    user = _org_user_or_404(user_id)
    form = EditUserForm(obj=user)
    form.role.choices = role_choices(_org_kind())
    if form.validate_on_submit():
        try:
            services.update_user(
                current_user,
                user,
                name=form.name.data or "",
                role=form.role.data,
                certificate_no=form.certificate_no.data,
            )
        except DomainError as error:
            db.session.rollback()
            _show_domain_error(form, error, "name")
        else:
            db.session.commit()
            flash(_("The user %(name)s has been saved.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/edit_user.html", form=form, user=user, is_self=user.id == current_user.id
    )


def _set_active(user_id: int, active: bool):  # type: ignore[no-untyped-def]
    user = _org_user_or_404(user_id)
    try:
        services.set_active(current_user, user, active)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if active:
            flash(_("%(name)s can log in again.", name=user.name), "success")
        else:
            flash(_("%(name)s is deactivated and has been logged out.", name=user.name), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/deactivate")
@manager_required
def deactivate_user(user_id: int):  # type: ignore[no-untyped-def]
    """Deactivate a user: they cannot log in and their sessions end."""
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@manager_required
def activate_user(user_id: int):  # type: ignore[no-untyped-def]
    """Let a deactivated user log in again."""
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/invitation")
@manager_required
def reissue_invitation(user_id: int):  # type: ignore[no-untyped-def]
    """Issue a new invitation link to a user who has not set a password yet."""
    user = _org_user_or_404(user_id)
    # A new link for someone who has a password would let the manager take over
    # that account (and sign records in that person's name): refuse it.
    if user.password_hash is not None:
        flash(_("%(name)s has already set a password.", name=user.name), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    if not user.active:
        flash(_("Activate %(name)s first.", name=user.name), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    token = services.issue_invitation(current_user, user)
    db.session.commit()
    return _invitation_page(user, token, new_user=False)


# --- audit log -----------------------------------------------------------------


def _utc_start_of(day: date) -> datetime:
    """Return the UTC instant at which a day begins in the installation's zone."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _filtered_audit(form: AuditFilterForm) -> Select:  # type: ignore[type-arg]
    query = select(AuditEntry).where(AuditEntry.organisation_id == current_user.organisation_id)
    if form.action.data and not form.action.errors:
        query = query.where(AuditEntry.action == form.action.data)
    if form.user.data and not form.user.errors:
        query = query.where(AuditEntry.user_id == int(form.user.data))
    if form.object_type.data and not form.object_type.errors:
        query = query.where(AuditEntry.object_type == form.object_type.data)
    if form.date_from.data and not form.date_from.errors:
        query = query.where(AuditEntry.at >= _utc_start_of(form.date_from.data))
    if form.date_to.data and not form.date_to.errors:
        query = query.where(AuditEntry.at < _utc_start_of(form.date_to.data + timedelta(days=1)))
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def _audit_filter_form() -> AuditFilterForm:
    """Build the filter form with the organisation's actions, users and object types."""
    org_id = current_user.organisation_id
    in_org = AuditEntry.organisation_id == org_id
    actions = db.session.scalars(
        select(AuditEntry.action).where(in_org).distinct().order_by(AuditEntry.action)
    )
    types = db.session.scalars(
        select(AuditEntry.object_type)
        .where(in_org, AuditEntry.object_type.is_not(None))
        .distinct()
        .order_by(AuditEntry.object_type)
    )
    people = db.session.execute(
        select(User.id, User.name).where(User.organisation_id == org_id).order_by(User.name)
    )
    form = AuditFilterForm(formdata=request.args)
    all_option = SelectChoice("", _l("All"))
    form.action.choices = [
        all_option,
        *(SelectChoice(a, ACTION_LABELS.get(a, a)) for a in actions),
    ]
    form.object_type.choices = [
        all_option,
        *(SelectChoice(t, OBJECT_TYPE_LABELS.get(t, t)) for t in types if t is not None),
    ]
    form.user.choices = [all_option, *(SelectChoice(str(i), name) for i, name in people)]
    form.validate()
    return form


@bp.get("/audit")
@login_required
def audit():  # type: ignore[no-untyped-def]
    """List the organisation's audit entries, newest first, with filters."""
    require(can_view_audit(current_user))
    form = _audit_filter_form()
    page = paginate(_filtered_audit(form))
    user_ids = {entry.user_id for entry in page.items if entry.user_id is not None}
    names = {
        user_id: name
        for user_id, name in db.session.execute(
            select(User.id, User.name).where(User.id.in_(user_ids))
        )
    }
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        names=names,
        action_labels=ACTION_LABELS,
        object_type_labels=OBJECT_TYPE_LABELS,
    )
