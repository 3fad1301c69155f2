"""Who hears about an alert (告警通知), and the in-app notification of new ones.

Recipients of an alert (``recipients``), kept deliberately simple:

* the elevator's responsible safety officer (安全管理员), always;
* the managers of the contractor whose contract is in force on the elevator,
  for its own items: every D1 maintenance rule (``D1.*``), and D9
  rectifications whose owner organisation is that contractor (the finding id
  is the first part of the alert's detail, e.g. ``42`` or ``42:serious``);
* the company's safety directors (安全总监) on escalation: D9 serious
  rectifications (detail ending ``:serious``), every D8 lockout rule, and
  D11 hard stops (an elevator that must not be used).

``notify_raised`` is called by the scheduler AFTER the evaluation committed:
it writes one inbox notification per recipient and alert, in each recipient's
language, marks the alerts notified and commits. A recipient with more than
ALERT_NOTIFY_INDIVIDUAL_MAX new alerts in one run (the first evaluation of a
city, a rule whose setting changed) gets ONE notification instead, with the
counts and a link to the alerts page: an inbox of hundreds of lines is read by
nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.compliance.base import Rule
from elevator_safety.compliance.models import STATE_LABELS, Alert, State
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.notifications.services import active_users, notify, register_message
from elevator_safety.records.models import Finding
from elevator_safety.registry.models import Elevator

log = logging.getLogger(__name__)

#: States worth telling people about (ok and not applicable are not alerts).
ALERT_STATES = (State.due_soon, State.open_finding, State.overdue, State.hard_stop)

#: Notification kind per alert state; ``what`` is the rule's message in the reader's language.
KINDS = {
    State.due_soon: "alert_due_soon",
    State.open_finding: "alert_open_finding",
    State.overdue: "alert_overdue",
    State.hard_stop: "alert_hard_stop",
}
register_message("alert_due_soon", _l("Due soon at %(place)s: %(what)s"))
register_message("alert_open_finding", _l("Open finding at %(place)s: %(what)s"))
register_message("alert_overdue", _l("Overdue at %(place)s: %(what)s"))
register_message("alert_hard_stop", _l("Must not be used: %(place)s: %(what)s"))
register_message(
    "alert_summary",
    _l("%(count)s new alerts on your elevators, %(overdue)s of them overdue: see the alerts page"),
)


def all_rules() -> dict[str, Rule]:
    """Return every rule by its code (imported late: the rules import many packages)."""
    from elevator_safety.compliance import rules_a, rules_b

    return {rule.code: rule for rule in (*rules_a.RULES, *rules_b.RULES)}


def detail_text(alert: Alert) -> str | None:
    """Return the rule's detail string stored in the alert."""
    detail: Any = alert.detail
    if detail is None or isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        for key in ("detail", "value"):
            if detail.get(key) is not None:
                return str(detail[key])
    return None


def alert_message(alert: Alert, rules: dict[str, Rule] | None = None) -> str:
    """Return what the alert is about, in the current language."""
    rule = (rules or all_rules()).get(alert.rule)
    if rule is None:
        return alert.rule
    return str(rule.message(detail_text(alert)))


def alert_link(alert: Alert, rules: dict[str, Rule] | None = None) -> str:
    """Return the path of the page with the evidence (the elevator page by default)."""
    rule = (rules or all_rules()).get(alert.rule)
    if rule is not None:
        if has_request_context():
            link = rule.link(alert.elevator_id, detail_text(alert))
        else:  # the scheduler: links use url_for, which needs a request to build paths
            with current_app.test_request_context("/"):
                link = rule.link(alert.elevator_id, detail_text(alert))
        if link:
            return link
    return f"/elevators/{alert.elevator_id}"


def place(elevator: Elevator) -> str:
    """Return where the elevator is: site and building/unit/car (or its equipment code)."""
    return f"{elevator.site.name} {elevator.location or elevator.equipment_code}".strip()


def state_label(alert: Alert) -> str:
    """Return the alert's state in the current language."""
    return str(STATE_LABELS.get(alert.state, alert.state))


def _finding_id(detail: str | None) -> int | None:
    head = (detail or "").split(":", 1)[0]
    return int(head) if head.isdigit() else None


def concerns_contractor(alert: Alert) -> bool:
    """Return whether the contractor in force must hear of the alert (its own items)."""
    if alert.rule.startswith("D1."):
        return True
    if alert.rule.startswith("D9."):
        finding_id = _finding_id(detail_text(alert))
        if finding_id is None:
            return False
        owner_kind = db.session.scalar(
            select(Organisation.kind)
            .join(Finding, Finding.owner_organisation_id == Organisation.id)
            .where(Finding.id == finding_id)
        )
        return owner_kind == OrgKind.contractor
    return False


def escalates(alert: Alert) -> bool:
    """Return whether the company's safety directors must hear of the alert."""
    detail = detail_text(alert) or ""
    if alert.rule.startswith("D9.") and detail.endswith(":serious"):
        return True
    if alert.rule.startswith("D8."):
        return True
    return alert.rule.startswith("D11.") and alert.state == State.hard_stop


class Recipients:
    """Work out recipients of many alerts, looking each organisation's people up once."""

    def __init__(self, on: date) -> None:
        self.on = on
        self._people: dict[tuple[int, Role], list[User]] = {}

    def _of(self, organisation_id: int, role: Role) -> list[User]:
        key = (organisation_id, role)
        if key not in self._people:
            self._people[key] = active_users(organisation_id, role)
        return self._people[key]

    def __call__(self, alert: Alert) -> list[User]:
        """Return the distinct active users who must hear of the alert."""
        elevator = alert.elevator
        users: list[User] = [elevator.safety_officer]
        if concerns_contractor(alert):
            contract = elevator.active_contract(self.on)
            if contract is not None:
                users += self._of(contract.contractor_id, Role.contractor_manager)
        if escalates(alert):
            users += self._of(elevator.site.organisation_id, Role.safety_director)
        seen: set[int] = set()
        result = []
        for user in users:
            if user is not None and user.active and user.id not in seen:
                seen.add(user.id)
                result.append(user)
        return result


def recipients(alert: Alert, on: date | None = None) -> list[User]:
    """Return who must hear of one alert (see the module docstring)."""
    from elevator_safety.scoping import local_today

    return Recipients(on or local_today())(alert)


def user_locale(user: User) -> str:
    """Return the language the user reads in (their choice, else the installation's)."""
    languages = current_app.config["LANGUAGES"]
    if user.locale in languages:
        return str(user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def load_alerts(ids: Iterable[int]) -> list[Alert]:
    """Return the open alerts among the ids, with their elevators and sites."""
    ids = list(ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.id.in_(ids), Alert.resolved_at.is_(None), Alert.state.in_(ALERT_STATES))
            .options(joinedload(Alert.elevator).joinedload(Elevator.site))
            .order_by(Alert.id)
        )
    )


def notify_raised(alert_ids: Iterable[int], now: datetime | None = None) -> int:
    """Notify the recipients of newly raised alerts in their inbox; commit; return the count.

    Call it only after the evaluation that raised the alerts committed. Each
    recipient gets one notification per alert, or one summary when more than
    ALERT_NOTIFY_INDIVIDUAL_MAX alerts are theirs in this run.
    """
    from elevator_safety.scoping import local_today
    from elevator_safety.templating import path_for

    moment = now or now_utc()
    rules = all_rules()
    who = Recipients(local_today(moment))
    theirs: dict[int, tuple[User, list[Alert]]] = {}
    for alert in load_alerts(alert_ids):
        for user in who(alert):
            theirs.setdefault(user.id, (user, []))[1].append(alert)
        alert.notified_at = moment
    limit = int(current_app.config["ALERT_NOTIFY_INDIVIDUAL_MAX"])
    count = 0
    for user, alerts in theirs.values():
        if len(alerts) > limit:
            overdue = sum(alert.state in (State.overdue, State.hard_stop) for alert in alerts)
            summary = {"count": len(alerts), "overdue": overdue}
            count += len(notify([user], "alert_summary", summary, path_for("compliance.index")))
            continue
        with force_locale(user_locale(user)):
            for alert in alerts:
                params = {"place": place(alert.elevator), "what": alert_message(alert, rules)}
                link = alert_link(alert, rules)
                count += len(notify([user], KINDS[alert.state], params, link))
    db.session.commit()
    return count
