"""The inbox (站内消息): every user's notifications, newest first; mark them read."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from elevator_safety.extensions import db
from elevator_safety.notifications import services
from elevator_safety.notifications.models import Notification
from elevator_safety.paging import paginate

bp = Blueprint("notifications", __name__)


def _own_or_404(note_id: int) -> Notification:
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    return note


def _safe_local(link: str | None) -> str | None:
    """Return a link only if it stays on this site (a path, not //host)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.get("/inbox")
@login_required
def inbox():  # type: ignore[no-untyped-def]
    """List the user's notifications, newest first; unread ones in bold."""
    page = paginate(services.inbox_query(current_user))
    return render_template(
        "notifications/inbox.html",
        page=page,
        unread=services.unread_count(current_user),
        form=FlaskForm(),
        message=services.message,
    )


@bp.post("/inbox/<int:note_id>/read")
@login_required
def read(note_id: int):  # type: ignore[no-untyped-def]
    """Mark one notification read; with ``open``, go on to the page it links to."""
    note = _own_or_404(note_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user, note)
    db.session.commit()
    target = _safe_local(note.link) if request.form.get("open") else None
    return redirect(target or url_for("notifications.inbox", page=request.args.get("page")))


@bp.post("/inbox/read-all")
@login_required
def read_all():  # type: ignore[no-untyped-def]
    """Mark every notification of the user read."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count)
        if count
        else _("Nothing was unread."),
        "success",
    )
    return redirect(url_for("notifications.inbox"))


@bp.app_template_global()
def unread_notifications() -> int:
    """Return the signed-in user's unread count (for the navigation badge)."""
    if not current_user.is_authenticated:
        return 0
    return services.unread_count(current_user)
