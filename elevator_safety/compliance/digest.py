"""The daily digest (每日提醒): one e-mail per user listing the open alerts they must act on.

Each user with open alerts they are a recipient of (``alerts.recipients``)
gets one message in their own language (``User.locale``, else the
installation's). Every message is kept as an ``OutboxMessage`` row. With
``MAIL_SERVER`` configured it is also sent by SMTP (``sent_at`` set, or
``error`` kept when sending failed); without it the digest stays in the
outbox and is written to the log. Links are absolute when
``PUBLIC_BASE_URL`` is configured (e.g. ``https://elevators.example.com``).
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from elevator_safety.auth.models import User
from elevator_safety.compliance.alerts import (
    ALERT_STATES,
    Recipients,
    alert_link,
    alert_message,
    all_rules,
    place,
    state_label,
    user_locale,
)
from elevator_safety.compliance.models import STATE_RANK, Alert, OutboxMessage
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator

log = logging.getLogger(__name__)


@dataclass
class DigestCounts:
    """What one digest run did."""

    users: int = 0
    outboxed: int = 0
    sent: int = 0
    failed: int = 0
    no_address: int = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counts for the job log and the claim."""
        return dict(self.__dict__)


def open_alerts_by_user(on: date) -> list[tuple[User, list[Alert]]]:
    """Return each active user with the open alerts they must hear of, worst first."""
    alerts = db.session.scalars(
        select(Alert)
        .where(Alert.resolved_at.is_(None), Alert.state.in_(ALERT_STATES))
        .options(joinedload(Alert.elevator).joinedload(Elevator.site))
        .order_by(Alert.elevator_id, Alert.rule, Alert.period)
    ).all()
    who = Recipients(on)
    users: dict[int, User] = {}
    mine: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        for user in who(alert):
            users[user.id] = user
            mine[user.id].append(alert)
    return [
        (users[uid], sorted(mine[uid], key=lambda a: (-STATE_RANK[a.state], a.elevator_id, a.rule)))
        for uid in sorted(users)
    ]


def absolute(path: str) -> str:
    """Return the link on the installation's public address (PUBLIC_BASE_URL)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def compose(user: User, alerts: list[Alert], on: date) -> tuple[str, str]:
    """Return the subject and plain-text body of a user's digest, in the user's language."""
    rules = all_rules()
    with force_locale(user_locale(user)):
        subject = ngettext(
            "Elevator safety: %(num)d open alert on %(day)s",
            "Elevator safety: %(num)d open alerts on %(day)s",
            len(alerts),
            day=on.isoformat(),
        )
        lines = [
            _("Hello %(name)s,", name=user.name),
            "",
            _("These compliance alerts are open and need your action:"),
            "",
        ]
        for alert in alerts:
            lines.append(
                f"- [{state_label(alert)}] {place(alert.elevator)}: {alert_message(alert, rules)}"
            )
            lines.append(f"  {absolute(alert_link(alert, rules))}")
        lines += [
            "",
            _("This digest is sent every morning while alerts are open. Do not reply."),
        ]
    return subject, "\n".join(lines) + "\n"


def _email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def _send(messages: list[OutboxMessage], counts: DigestCounts) -> None:
    """Send the messages over one SMTP connection; keep each message's result."""
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            for message in messages:
                try:
                    smtp.send_message(_email(message))
                except (smtplib.SMTPException, OSError) as exc:
                    message.error = str(exc)[:1000]
                    counts.failed += 1
                    log.warning("digest to %s not sent: %s", message.to_address, exc)
                else:
                    message.sent_at = now_utc()
                    counts.sent += 1
    except (smtplib.SMTPException, OSError) as exc:
        for message in messages:
            if message.sent_at is None and message.error is None:
                message.error = str(exc)[:1000]
                counts.failed += 1
        log.error(
            "SMTP server %s unusable, digests kept in the outbox: %s", config["MAIL_SERVER"], exc
        )


def send_digests(now: datetime | None = None) -> DigestCounts:
    """Compose every user's digest, outbox it, send it when SMTP is configured; commit."""
    from elevator_safety.scoping import local_today

    on = local_today(now or now_utc())
    counts = DigestCounts()
    messages: list[OutboxMessage] = []
    for user, alerts in open_alerts_by_user(on):
        counts.users += 1
        if not user.email:
            counts.no_address += 1
            log.info("digest for user %s skipped: no e-mail address", user.id)
            continue
        subject, body = compose(user, alerts, on)
        message = OutboxMessage(
            user_id=user.id, to_address=user.email, subject=subject, body=body, created_at=now_utc()
        )
        db.session.add(message)
        messages.append(message)
    counts.outboxed = len(messages)
    db.session.flush()
    if messages and current_app.config.get("MAIL_SERVER"):
        _send(messages, counts)
    elif messages:
        for message in messages:
            log.info(
                "digest (no MAIL_SERVER, kept in outbox #%s) to %s: %s\n%s",
                message.id,
                message.to_address,
                message.subject,
                message.body,
            )
    db.session.commit()
    return counts
