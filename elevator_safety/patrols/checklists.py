"""Patrol checklists as data: one JSON file per checklist and version.

Files live in ``elevator_safety/data/checklists/`` (or the folder named by the
``PATROL_CHECKLIST_FOLDER`` setting) and are named ``<id>-v<version>.json``,
e.g. ``patrol-elevator-v1.json``. A checklist names the elevator kinds it
applies to; each item has a code, a duty (D2..D10), an English and a Chinese
label, and a type: ``pass_fail``, or ``reading`` with a unit and the key of its
limits in the ``PATROL_LIMITS`` setting. A new version is a new file: records
store the id and version they used, so old records keep rendering with the
labels they were answered against. ``prohibited-acts.json`` lists the ten
prohibited passenger acts that a misuse entry names (duty D3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from elevator_safety import config as config_defaults

#: The folder shipped with the application.
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "data" / "checklists"
#: Duties a daily patrol gives evidence of, in display order.
PATROL_DUTIES = ("D2", "D3", "D5", "D6", "D7", "D10")
DUTY_TITLES = {
    "D2": _l("Use sign, safety notices and warning signs"),
    "D3": _l("Daily patrol of the car and the landings"),
    "D5": _l("Machine room, shaft and pit"),
    "D6": _l("Emergency alarm and duty room"),
    "D7": _l("Video surveillance"),
    "D8": _l("Out of service: notice and contractor"),
    "D10": _l("Added equipment and advertising"),
}
ITEM_TYPES = ("pass_fail", "reading")
ELEVATOR_KINDS = ("traction", "freight", "hydraulic", "escalator", "moving_walk")
#: Item codes become keys of record paths (``items.<code>.result``) and form field
#: names (``<code>__result``): no dots, no double underscores.
CODE_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
FILE_RE = re.compile(r"^(?P<id>[a-z][a-z0-9-]*)-v(?P<version>[1-9][0-9]*)\.json$")


class ChecklistError(ValueError):
    """A checklist data file is malformed; the message names the file and the problem."""


def language() -> str:
    """Return ``zh`` when the user reads Chinese, else ``en``."""
    if has_request_context():
        locale = get_locale()
        if locale is not None:
            return "zh" if locale.language == "zh" else "en"
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))
    return "zh" if default.startswith("zh") else "en"


def default_language() -> str:
    """Return the installation's language (what stored labels and texts are written in)."""
    default = str(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))
    return "zh" if default.startswith("zh") else "en"


@dataclass(frozen=True)
class Item:
    """One checklist item."""

    code: str
    duty: str
    type: str
    label_en: str
    label_zh: str
    applies_to: tuple[str, ...]
    unit: str | None = None
    #: Key of the item's (min, max) in the PATROL_LIMITS setting.
    limits_key: str | None = None
    #: Values outside this range are typing mistakes, not readings.
    valid_range: tuple[Decimal, Decimal] | None = None

    def label(self, lang: str | None = None) -> str:
        """Return the label in a language (the user's by default)."""
        return self.label_zh if (lang or language()) == "zh" else self.label_en

    @property
    def is_reading(self) -> bool:
        """Return whether the item is answered with a number."""
        return self.type == "reading"


@dataclass(frozen=True)
class Checklist:
    """A versioned patrol checklist."""

    id: str
    version: int
    title_en: str
    title_zh: str
    applies_to: tuple[str, ...]
    items: tuple[Item, ...]

    def title(self, lang: str | None = None) -> str:
        """Return the title in a language (the user's by default)."""
        return self.title_zh if (lang or language()) == "zh" else self.title_en

    def items_for(self, kind: str) -> list[Item]:
        """Return the items that apply to an elevator kind, in checklist order."""
        return [item for item in self.items if kind in item.applies_to]

    def item(self, code: str) -> Item | None:
        """Return an item by code."""
        return next((item for item in self.items if item.code == code), None)


@dataclass(frozen=True)
class Act:
    """One of the ten prohibited passenger acts."""

    code: str
    label_en: str
    label_zh: str

    def label(self, lang: str | None = None) -> str:
        """Return the label in a language (the user's by default)."""
        return self.label_zh if (lang or language()) == "zh" else self.label_en


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ChecklistError(f"{where}: '{key}' must be a non-empty text")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise ChecklistError(f'{where}: numbers are written as strings, e.g. "40"')
    try:
        return Decimal(value)
    except InvalidOperation as error:
        raise ChecklistError(f"{where}: {value!r} is not a number") from error


def _item(raw: dict[str, Any], kinds: tuple[str, ...], where: str) -> Item:
    code = _text(raw, "code", where)
    where = f"{where} item {code}"
    if not CODE_RE.match(code) or len(code) > 48:
        raise ChecklistError(f"{where}: code must be snake_case letters and digits")
    duty = _text(raw, "duty", where)
    if duty not in PATROL_DUTIES:
        raise ChecklistError(f"{where}: duty must be one of {', '.join(PATROL_DUTIES)}")
    kind = _text(raw, "type", where)
    if kind not in ITEM_TYPES:
        raise ChecklistError(f"{where}: type must be one of {', '.join(ITEM_TYPES)}")
    applies = tuple(raw.get("applies_to") or kinds)
    if not set(applies) <= set(kinds):
        raise ChecklistError(f"{where}: applies_to must be among the checklist's kinds")
    unit = limits = None
    valid: tuple[Decimal, Decimal] | None = None
    if kind == "reading":
        unit = _text(raw, "unit", where)
        limits = _text(raw, "limits", where)
        bounds = raw.get("valid_range")
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise ChecklistError(f"{where}: a reading needs valid_range [low, high]")
        valid = (_decimal(bounds[0], where), _decimal(bounds[1], where))
    return Item(
        code=code,
        duty=duty,
        type=kind,
        label_en=_text(raw, "label_en", where),
        label_zh=_text(raw, "label_zh", where),
        applies_to=applies,
        unit=unit,
        limits_key=limits,
        valid_range=valid,
    )


def parse_checklist(path: Path) -> Checklist:
    """Read and check one checklist file."""
    name = FILE_RE.match(path.name)
    if name is None:
        raise ChecklistError(f"{path.name}: name files <id>-v<version>.json")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ChecklistError(f"{path.name}: not valid JSON ({error})") from error
    where = path.name
    if raw.get("id") != name["id"] or raw.get("version") != int(name["version"]):
        raise ChecklistError(f"{where}: id and version must match the file name")
    kinds = tuple(raw.get("applies_to") or ())
    if not kinds or not set(kinds) <= set(ELEVATOR_KINDS):
        raise ChecklistError(f"{where}: applies_to must list elevator kinds")
    items = tuple(_item(entry, kinds, where) for entry in raw.get("items") or ())
    if not items:
        raise ChecklistError(f"{where}: a checklist needs items")
    codes = [item.code for item in items]
    if len(codes) != len(set(codes)):
        raise ChecklistError(f"{where}: item codes must be unique")
    return Checklist(
        id=raw["id"],
        version=raw["version"],
        title_en=_text(raw, "title_en", where),
        title_zh=_text(raw, "title_zh", where),
        applies_to=kinds,
        items=items,
    )


@lru_cache(maxsize=8)
def load_folder(folder: str) -> dict[tuple[str, int], Checklist]:
    """Load every patrol checklist of a folder, keyed by (id, version)."""
    found: dict[tuple[str, int], Checklist] = {}
    for path in sorted(Path(folder).glob("patrol-*-v*.json")):
        checklist = parse_checklist(path)
        found[(checklist.id, checklist.version)] = checklist
    return found


@lru_cache(maxsize=8)
def load_acts(folder: str) -> tuple[Act, ...]:
    """Load the prohibited passenger acts of a folder."""
    path = Path(folder) / "prohibited-acts.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    acts = []
    for entry in raw.get("acts") or ():
        code = _text(entry, "code", path.name)
        if not CODE_RE.match(code):
            raise ChecklistError(f"{path.name}: act code {code!r} must be snake_case")
        acts.append(
            Act(code, _text(entry, "label_en", path.name), _text(entry, "label_zh", path.name))
        )
    return tuple(acts)


def folder() -> str:
    """Return the folder checklists are read from."""
    return str(current_app.config.get("PATROL_CHECKLIST_FOLDER") or DEFAULT_FOLDER)


def all_checklists() -> dict[tuple[str, int], Checklist]:
    """Return every checklist, keyed by (id, version)."""
    return load_folder(folder())


def get(checklist_id: str, version: int) -> Checklist | None:
    """Return one version of a checklist (the one a record was answered against)."""
    return all_checklists().get((checklist_id, version))


def current_for(kind: str) -> Checklist:
    """Return the newest checklist that applies to an elevator kind."""
    candidates = [c for c in all_checklists().values() if kind in c.applies_to]
    if not candidates:
        raise LookupError(f"no patrol checklist applies to elevator kind {kind!r}")
    return max(candidates, key=lambda c: (c.version, c.id))


def prohibited_acts() -> tuple[Act, ...]:
    """Return the ten prohibited passenger acts."""
    return load_acts(folder())


def act(code: str | None) -> Act | None:
    """Return a prohibited act by code."""
    return next((a for a in prohibited_acts() if a.code == code), None)


def limits(item: Item) -> tuple[Decimal | None, Decimal | None]:
    """Return the configured (min, max) of a reading item; None is an open end."""
    # A site may override some readings only; the others keep config.py's defaults.
    configured = config_defaults.PATROL_LIMITS | (current_app.config.get("PATROL_LIMITS") or {})
    pair = configured.get(item.limits_key or "")
    if not pair:
        return None, None
    low, high = pair
    return (
        Decimal(str(low)) if low not in (None, "") else None,
        Decimal(str(high)) if high not in (None, "") else None,
    )
