"""The pages of a site's own rule values, where local rules are stricter than the defaults.

- ``GET /sites/<id>/rule-values``: everyone who may see the site reads, per
  overridable setting (``overrides.SETTINGS``), the installation's value, the
  site's value, the value in effect, the local rule and who set it when. The
  site's company's admin and safety director get the form on the same page.
- ``POST /sites/<id>/rule-values``: they save it. A blank field means the
  installation's value; a value must lie within ``overrides.bounds()`` (only
  stricter). Values that the submission sets or changes need the local rule as
  reason, which is kept with them. Every created, changed or removed value is
  audited (old and new) in the same transaction.
- ``GET`` / ``POST /sites/<id>/rule-values/reset``: the confirmation page, then
  the removal of every value of the site. A form submitted with every field
  blank is sent to this confirmation instead of clearing the values at once.

Roles are checked first (403), then the scope (404), then the company (403).
The engine (``engine._fill_candidates``) reads the rows at its next evaluation.
This is configuration, not evidence: no password is asked and nothing enters a
chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.compliance.models import RuleOverride
from elevator_safety.compliance.override_forms import (
    RuleValuesForm,
    allowed_range,
    range_validators,
    setting_field,
    submitted_reason,
    submitted_values,
)
from elevator_safety.compliance.overrides import BY_KEY, SETTINGS, Setting, bounds, default_of
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.formviews import form_status
from elevator_safety.registry.models import Site
from elevator_safety.scoping import get_site_or_404
from elevator_safety.security import require, role_required

bp = Blueprint("rule_values", __name__)

#: Who sets a site's rule values: its own company's admin and safety director.
WRITE_ROLES = (Role.admin, Role.safety_director)

#: The audited fields of a value.
AUDITED = ("value", "reason")


def can_set_rule_values(user: User, site: Site) -> bool:
    """Only the admin and the safety director of the site's own company set its rule values."""
    return (
        user.role in WRITE_ROLES
        and user.organisation.kind == OrgKind.property_company
        and user.organisation_id == site.organisation_id
    )


# --- what the page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class RuleValueRow:
    """One setting as the page shows it: the installation's value, the site's, the one in effect."""

    setting: Setting
    default: int
    low: int
    high: int
    allowed: str
    stored: RuleOverride | None

    @property
    def site_value(self) -> int | None:
        """Return the site's own value, if it has one."""
        return self.stored.value if self.stored is not None else None

    @property
    def effective(self) -> int:
        """Return the value the compliance rules use for this site."""
        return self.default if self.stored is None else self.stored.value

    @property
    def not_stricter(self) -> bool:
        """Return whether the site's value lies outside the allowed range (the default moved)."""
        return self.stored is not None and not self.low <= self.stored.value <= self.high


def stored_values(site: Site) -> dict[str, RuleOverride]:
    """Return the site's rule values by key, in the order of ``overrides.SETTINGS``."""
    rows = db.session.scalars(
        select(RuleOverride)
        .where(RuleOverride.site_id == site.id)
        .options(selectinload(RuleOverride.set_by))
    )
    found = {row.key: row for row in rows if row.key in BY_KEY}
    return {setting.key: found[setting.key] for setting in SETTINGS if setting.key in found}


def value_rows(stored: Mapping[str, RuleOverride], config: Mapping[str, Any]) -> list[RuleValueRow]:
    """Return one row per overridable setting."""
    rows = []
    for setting in SETTINGS:
        low, high = bounds(setting, config)
        rows.append(
            RuleValueRow(
                setting=setting,
                default=default_of(setting.key, config),
                low=low,
                high=high,
                allowed=allowed_range(setting, config),
                stored=stored.get(setting.key),
            )
        )
    return rows


def _page(site: Site, stored: Mapping[str, RuleOverride], form: RuleValuesForm | None) -> Any:
    """Render the page: 200 when shown, 422 for a refused form."""
    return render_template(
        "compliance/rule_values.html",
        site=site,
        rows=value_rows(stored, current_app.config),
        form=form,
        field_of=setting_field,
        has_values=bool(stored),
    ), form_status()


def _back(site: Site) -> Response:
    return redirect(url_for("rule_values.show", site_id=site.id))


def _writable_site(site_id: int) -> Site:
    """Load a site the current user may see (404) and whose values they may set (403)."""
    site = get_site_or_404(current_user, site_id)
    require(can_set_rule_values(current_user, site))
    return site


# --- the writes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One value that a submission creates (old None), changes, or removes (new None)."""

    key: str
    old: RuleOverride | None
    new: int | None


def plan_changes(
    stored: Mapping[str, RuleOverride], values: Mapping[str, int | None]
) -> list[Change]:
    """Return the changes from the stored values to the submitted ones (unchanged left out)."""
    changes = []
    for setting in SETTINGS:
        old, new = stored.get(setting.key), values.get(setting.key)
        if (old.value if old is not None else None) != new:
            changes.append(Change(setting.key, old, new))
    return changes


def _label(site: Site, key: str) -> str:
    return f"{site.name} {key}"


def _create(site: Site, key: str, value: int, reason: str, actor: User) -> None:
    row = RuleOverride(
        site_id=site.id,
        key=key,
        value=value,
        reason=reason,
        set_by_id=actor.id,
        set_at=now_utc(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "create",
        row,
        changes=audit.snapshot(row, ["site_id", "key", *AUDITED]),
        label=_label(site, key),
        user_id=actor.id,
        organisation_id=site.organisation_id,
    )


def _update(site: Site, row: RuleOverride, value: int, reason: str, actor: User) -> None:
    row.value = value
    row.reason = reason
    row.set_by_id = actor.id
    row.set_at = now_utc()
    changes = {k: v for k, v in audit.changed_fields(row).items() if k in AUDITED}
    audit.record(
        "update",
        row,
        changes=changes,
        label=_label(site, row.key),
        user_id=actor.id,
        organisation_id=site.organisation_id,
    )


def _delete(site: Site, row: RuleOverride, actor: User) -> None:
    audit.record(
        "delete",
        row,
        changes={"key": [row.key, None], "value": [row.value, None], "reason": [row.reason, None]},
        label=_label(site, row.key),
        user_id=actor.id,
        organisation_id=site.organisation_id,
    )
    db.session.delete(row)


def apply_changes(site: Site, changes: list[Change], reason: str, actor: User) -> None:
    """Write the changes with an audit entry each; the caller commits."""
    for change in changes:
        if change.new is None:
            if change.old is not None:
                _delete(site, change.old, actor)
        elif change.old is None:
            _create(site, change.key, change.new, reason, actor)
        else:
            _update(site, change.old, change.new, reason, actor)
    db.session.flush()


def _save(site: Site, changes: list[Change], reason: str) -> bool:
    """Apply the changes and commit; on a concurrent save, roll back, say so, return False."""
    try:
        apply_changes(site, changes, reason, current_user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(
            _("Someone changed these values at the same moment; check them and save again."),
            "error",
        )
        return False
    return True


# --- the pages --------------------------------------------------------------------------


@bp.get("/sites/<int:site_id>/rule-values")
@login_required
def show(site_id: int) -> Any:
    """Show the site's rule values; the form to whoever may set them."""
    site = get_site_or_404(current_user, site_id)
    stored = stored_values(site)
    form = None
    if can_set_rule_values(current_user, site):
        form = RuleValuesForm(data={key: row.value for key, row in stored.items()})
    return _page(site, stored, form)


@bp.post("/sites/<int:site_id>/rule-values")
@role_required(*WRITE_ROLES)
def save(site_id: int) -> Any:
    """Save the site's rule values (blank: the installation's value)."""
    site = _writable_site(site_id)
    stored = stored_values(site)
    form = RuleValuesForm()
    if not form.validate_on_submit(extra_validators=range_validators(current_app.config)):
        return _page(site, stored, form)
    values = submitted_values(form)
    if stored and all(value is None for value in values.values()):
        flash(_("Every field was blank: confirm that the site's values are to be removed."), "info")
        return redirect(url_for("rule_values.reset", site_id=site.id))
    changes = plan_changes(stored, values)
    if not changes:
        flash(_("Nothing was changed."), "info")
        return _back(site)
    reason = submitted_reason(form)
    if not reason and any(change.new is not None for change in changes):
        form.reason.errors = [_("Name the local rule that requires these values.")]
        return _page(site, stored, form)
    if _save(site, changes, reason):
        flash(
            ngettext(
                "%(num)d local rule value changed.",
                "%(num)d local rule values changed.",
                len(changes),
            ),
            "success",
        )
    return _back(site)


@bp.get("/sites/<int:site_id>/rule-values/reset")
@role_required(*WRITE_ROLES)
def reset(site_id: int) -> Any:
    """Ask to confirm the removal of every value of the site."""
    site = _writable_site(site_id)
    stored = stored_values(site)
    if not stored:
        flash(_("This site already uses the installation's values."), "info")
        return _back(site)
    rows = [row for row in value_rows(stored, current_app.config) if row.stored is not None]
    return render_template("compliance/rule_values_reset.html", site=site, rows=rows)


@bp.post("/sites/<int:site_id>/rule-values/reset")
@role_required(*WRITE_ROLES)
def reset_confirmed(site_id: int) -> Response:
    """Remove every value of the site: it uses the installation's values again."""
    site = _writable_site(site_id)
    stored = stored_values(site)
    if not stored:
        flash(_("This site already uses the installation's values."), "info")
        return _back(site)
    changes = [Change(key, row, None) for key, row in stored.items()]
    if _save(site, changes, ""):
        flash(_("The site uses the installation's values again."), "success")
    return _back(site)
