"""Per-site values of rule settings, where local rules differ from the defaults.

Only settings that a local regulation may make stricter can be overridden,
and only in the stricter direction: an interval or a limit may be shortened
(at most the default), a warning period lengthened (at least the default),
the patrol's due hour moved earlier. The statutory maintenance intervals of
TSG T5002-2017 are not overridable. The engine groups sites by their
overrides and evaluates each group with the configuration updated by them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from elevator_safety import config as config_defaults
from elevator_safety.compliance.models import RuleOverride
from elevator_safety.extensions import db


@dataclass(frozen=True)
class Setting:
    """One overridable setting: its label, unit and the allowed direction."""

    key: str
    label: Any
    unit: Any
    #: "shorter": 1 ≤ value ≤ default; "longer": default ≤ value ≤ maximum.
    direction: str
    maximum: int


DAYS, MONTHS, MINUTES, HOUR = _l("days"), _l("months"), _l("minutes"), _l("hour of the day")

SETTINGS: tuple[Setting, ...] = (
    Setting("PATROL_DUE_HOUR", _l("Daily patrol due soon from"), HOUR, "shorter", 23),
    Setting("DUE_SOON_DAYS", _l("Warn of a due date this early"), DAYS, "longer", 30),
    Setting(
        "MAINTENANCE_CONFIRM_DAYS", _l("Confirm a maintenance record within"), DAYS, "shorter", 30
    ),
    Setting(
        "CONTRACT_EXPIRY_WARNING_DAYS",
        _l("Warn of a contract ending within"),
        DAYS,
        "longer",
        180,
    ),
    Setting("USE_SIGN_WARNING_DAYS", _l("Warn of a use sign expiring within"), DAYS, "longer", 180),
    Setting("ROSTER_HORIZON_DAYS", _l("Check the duty roster ahead for"), DAYS, "longer", 31),
    Setting(
        "ALARM_TEST_INTERVAL_DAYS", _l("Test each emergency alarm every"), DAYS, "shorter", 365
    ),
    Setting("VIDEO_CHECK_INTERVAL_DAYS", _l("Check video retention every"), DAYS, "shorter", 365),
    Setting("LOCKOUT_NOTIFY_MINUTES", _l("Post notice and notify within"), MINUTES, "shorter", 240),
    Setting("LOCKOUT_LONG_DAYS", _l("Flag a lockout open longer than"), DAYS, "shorter", 60),
    Setting("SITE_DRILL_MONTHS", _l("Site emergency drill every"), MONTHS, "shorter", 24),
    Setting(
        "CONTRACTOR_DRILL_MONTHS", _l("Contractor emergency drill every"), MONTHS, "shorter", 24
    ),
    Setting(
        "INSPECTION_APPLY_DAYS", _l("Apply for the inspection this early"), DAYS, "longer", 120
    ),
    Setting(
        "CERTIFICATE_EXPIRY_WARNING_DAYS",
        _l("Warn of a certificate expiring within"),
        DAYS,
        "longer",
        180,
    ),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


def default_of(key: str, config: Mapping[str, Any]) -> int:
    """Return the installation's value of a setting (config, else config.py)."""
    value = config.get(key)
    return int(getattr(config_defaults, key) if value is None else value)


def bounds(setting: Setting, config: Mapping[str, Any]) -> tuple[int, int]:
    """Return the (lowest, highest) value a site may set: only stricter than the default."""
    default = default_of(setting.key, config)
    if setting.direction == "shorter":
        return (0 if setting.key == "PATROL_DUE_HOUR" else 1), default
    return default, setting.maximum


def site_overrides(site_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Return {site id: {key: value}} of the sites that have overrides."""
    query = select(RuleOverride.site_id, RuleOverride.key, RuleOverride.value)
    if site_ids is not None:
        query = query.where(RuleOverride.site_id.in_(site_ids))
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for site_id, key, value in db.session.execute(query):
        if key in BY_KEY:
            found[site_id][key] = value
    return dict(found)


def is_stricter(key: str, value: int, config: Mapping[str, Any]) -> bool:
    """Return whether a site's value is within the bounds (stricter or equal) today."""
    low, high = bounds(BY_KEY[key], config)
    return low <= value <= high


def groups(config: Mapping[str, Any]) -> list[tuple[dict[str, int], list[int]]]:
    """Return the sites grouped by identical overrides in effect: [(overrides, site ids)].

    A site value that is no longer stricter than the installation's (the
    installation was made stricter since) is ignored: the installation's
    value applies, and the site's page says so.
    """
    grouped: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
    for site_id, values in site_overrides().items():
        kept = {key: value for key, value in values.items() if is_stricter(key, value, config)}
        if kept:
            grouped[tuple(sorted(kept.items()))].append(site_id)
    return [(dict(key), sorted(ids)) for key, ids in sorted(grouped.items())]
