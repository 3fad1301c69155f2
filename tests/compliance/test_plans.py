"""SQLite's plans of the rules: no rule reads a whole table or subquery once per row of another.

SQLite has no statistics here, so its plans do not depend on the data: a
nested full scan in this small world is one at city scale too, where it is
quadratic (D11.site_drill read 1,250 site groups for each of 10,000
elevators: 0.5 s of an evaluation whose baseline scan takes 0.08 s).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from elevator_safety.compliance import engine
from elevator_safety.compliance.base import Context
from elevator_safety.extensions import db
from tests.compliance.conftest import local
from tests.conftest import ON_POSTGRES
from tests.factories import World

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's query planner only")

#: Tables a loop may scan whole inside another: the horizon's days (a handful of
#: constant rows) drive the roster rule's scan of the sites, once per day.
SMALL_OUTER = ("SCAN roster_days",)


@contextmanager
def explained() -> Iterator[None]:
    """Run statements as EXPLAIN QUERY PLAN while inside."""

    def explain(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> Any:
        return "EXPLAIN QUERY PLAN " + statement, parameters

    event.listen(db.engine, "before_cursor_execute", explain, retval=True)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)


def nested_scans(plan: list[tuple[int, int, int, str]]) -> list[str]:
    """Return the full scans that run inside another loop of the same (sub)query."""
    loops: dict[int, list[str]] = defaultdict(list)
    for _id, parent, _unused, detail in plan:
        if detail.startswith(("SCAN ", "SEARCH ")) and "CONSTANT ROW" not in detail:
            loops[parent].append(detail)
    found = []
    for nest in loops.values():
        for outer, inner in itertools.pairwise(nest):
            if inner.startswith("SCAN ") and not outer.startswith(SMALL_OUTER):
                found.append(inner)
    return found


#: D11.site_drill's plan at 10,000 elevators when the engine wrapped each rule in
#: DISTINCT: no automatic index for the grouped subquery on the right of the LEFT JOIN.
SITE_DRILL_UNDER_DISTINCT = [
    (2, 0, 0, "CO-ROUTINE anon_1"),
    (5, 2, 0, "CO-ROUTINE (subquery-7)"),
    (8, 5, 0, "MATERIALIZE anon_3"),
    (11, 8, 0, "MATERIALIZE anon_5"),
    (19, 11, 0, "SEARCH register_entries USING INDEX ix_register_entries_kind (kind=?)"),
    (26, 11, 0, "USE TEMP B-TREE FOR GROUP BY"),
    (74, 8, 0, "SCAN elevators"),
    (78, 8, 0, "SEARCH sites USING INTEGER PRIMARY KEY (rowid=?)"),
    (83, 8, 0, "SCAN anon_5 LEFT-JOIN"),
    (123, 8, 0, "USE TEMP B-TREE FOR DISTINCT"),
    (129, 5, 0, "SCAN anon_3"),
    (131, 5, 0, "SEARCH elevators USING INTEGER PRIMARY KEY (rowid=?)"),
    (179, 5, 0, "USE TEMP B-TREE FOR ORDER BY"),
    (202, 2, 0, "SCAN (subquery-7)"),
    (257, 0, 0, "SCAN anon_1"),
]


def test_the_checker_finds_a_nested_scan_and_nothing_else() -> None:
    assert nested_scans(SITE_DRILL_UNDER_DISTINCT) == ["SCAN anon_5 LEFT-JOIN"]
    indexed = [
        (83, 8, 0, "SEARCH anon_5 USING AUTOMATIC COVERING INDEX (site_id=? AND org_id=?)")
        if row[0] == 83
        else row
        for row in SITE_DRILL_UNDER_DISTINCT
    ]
    assert nested_scans(indexed) == []
    days = [(1, 0, 0, "SCAN roster_days"), (2, 0, 0, "SCAN sites")]
    assert nested_scans(days) == []


@pytest.mark.parametrize("code", [rule.code for rule in engine.RULES])
def test_no_rule_scans_a_table_per_row_of_another(cworld: World, code: str) -> None:
    rule = engine.rule_by_code(code)
    assert rule is not None
    statement = engine.violations_select([rule], Context.current(local(2026, 5, 6, 20, 0)))
    connection = db.session.connection()
    with explained():
        plan = [tuple(row) for row in connection.execute(statement)]
    assert plan, "EXPLAIN QUERY PLAN returned nothing"
    assert nested_scans(plan) == []
