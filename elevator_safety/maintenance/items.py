"""The maintenance items of TSG T5002-2017, loaded from data/maintenance/*.json.

The lists are data (see data/maintenance/README.md): each file names the
elevator kinds it applies to, its status (complete or incomplete), its source,
and its items, inline or in a CSV file. Levels are cumulative: a quarterly
visit answers the half-monthly and the quarterly items.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from elevator_safety.registry.models import ElevatorKind, MaintenanceLevel

#: Where the list files live.
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "maintenance"

#: The levels, lowest first; each includes the items of those before it.
LEVEL_ORDER: tuple[MaintenanceLevel, ...] = tuple(MaintenanceLevel)


class ItemListError(ValueError):
    """A list file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Item:
    """One maintenance item: what to maintain and the basic requirement."""

    code: str
    table: str
    level: MaintenanceLevel
    seq: int
    text: str
    requirement: str


@dataclass(frozen=True)
class ItemList:
    """An appendix of TSG T5002-2017 for some elevator kinds."""

    id: str
    title: str
    appendix: str
    applies_to: tuple[ElevatorKind, ...]
    status: str
    status_note: str
    source: str
    verified: bool
    #: Hash of the list's content: a record stores it, so a later edit is visible.
    version: str
    items: tuple[Item, ...]

    @property
    def complete(self) -> bool:
        """Return whether the list holds every item of its appendix."""
        return self.status == "complete"

    def for_level(self, level: MaintenanceLevel) -> list[Item]:
        """Return the items of a level and of every level below it."""
        upto = LEVEL_ORDER.index(level)
        return [item for item in self.items if LEVEL_ORDER.index(item.level) <= upto]

    def groups(self, level: MaintenanceLevel) -> list[tuple[MaintenanceLevel, list[Item]]]:
        """Return the items of a level grouped by the level (table) they belong to."""
        items = self.for_level(level)
        return [
            (lv, [i for i in items if i.level == lv])
            for lv in LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1]
            if any(i.level == lv for i in items)
        ]


def field_name(code: str) -> str:
    """Return the form field name of an item's answer (``A-1.5`` -> ``i_A1_5``)."""
    return "i_" + code.replace("-", "").replace(".", "_")


def note_name(code: str) -> str:
    """Return the form field name of an item's note."""
    return "n_" + code.replace("-", "").replace(".", "_")


def _rows(path: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    if "items_file" in spec:
        with (path.parent / spec["items_file"]).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    return list(spec.get("items") or [])


def _parse(path: Path) -> ItemList:
    """Read and check one list file."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        rows = _rows(path, spec)
        items = []
        seen = set()
        for row in rows:
            code = f"{row['table']}.{int(row['seq'])}"
            if code in seen:
                raise ItemListError(f"{path.name}: item {code} appears twice")
            seen.add(code)
            items.append(
                Item(
                    code=code,
                    table=str(row["table"]),
                    level=MaintenanceLevel(row["level"]),
                    seq=int(row["seq"]),
                    text=str(row["item"]).strip(),
                    requirement=str(row.get("requirement") or "").strip(),
                )
            )
        items.sort(key=lambda i: (LEVEL_ORDER.index(i.level), i.table, i.seq))
        expected = spec.get("expected_counts")
        if expected is not None:
            counts = {lv.value: sum(1 for i in items if i.level == lv) for lv in LEVEL_ORDER}
            wanted = {lv.value: int(expected.get(lv.value, 0)) for lv in LEVEL_ORDER}
            if counts != wanted:
                raise ItemListError(f"{path.name}: counts {counts} differ from {wanted}")
        status = spec["status"]
        if status not in ("complete", "incomplete"):
            raise ItemListError(f"{path.name}: status must be complete or incomplete")
        canonical = json.dumps(
            {"spec": {k: v for k, v in spec.items() if k != "items"}, "rows": rows},
            sort_keys=True,
            ensure_ascii=False,
        )
        return ItemList(
            id=spec["id"],
            title=spec["title"],
            appendix=spec.get("appendix", ""),
            applies_to=tuple(ElevatorKind(k) for k in spec["applies_to"]),
            status=status,
            status_note=spec.get("status_note", ""),
            source=spec.get("source", ""),
            verified=bool(spec.get("verified_against_official_text")),
            version=hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16],
            items=tuple(items),
        )
    except (KeyError, ValueError, OSError) as error:
        if isinstance(error, ItemListError):
            raise
        raise ItemListError(f"{path.name}: {error!r}") from error


@cache
def load_lists() -> dict[ElevatorKind, ItemList]:
    """Load every list file once; return the list of each elevator kind."""
    by_kind: dict[ElevatorKind, ItemList] = {}
    for path in sorted(DATA_DIR.glob("*.json")):
        item_list = _parse(path)
        for kind in item_list.applies_to:
            if kind in by_kind:
                raise ItemListError(f"{path.name}: {kind.value} already has a list")
            by_kind[kind] = item_list
    return by_kind


def list_for(kind: ElevatorKind) -> ItemList:
    """Return the item list of an elevator kind (an empty incomplete one if none)."""
    found = load_lists().get(kind)
    if found is not None:
        return found
    return ItemList(
        id="none",
        title="",
        appendix="",
        applies_to=(kind,),
        status="incomplete",
        status_note="",
        source="",
        verified=False,
        version="none",
        items=(),
    )


def items_for(kind: ElevatorKind, level: MaintenanceLevel) -> list[Item]:
    """Return the items of a level for an elevator kind (cumulative)."""
    return list_for(kind).for_level(level)
