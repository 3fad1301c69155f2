"""The maintenance item lists are data: counts, cumulative levels, incomplete lists."""

from __future__ import annotations

import json

import pytest

from elevator_safety.maintenance import items
from elevator_safety.maintenance.items import ItemListError, items_for, list_for
from elevator_safety.registry.models import ElevatorKind, MaintenanceLevel

L = MaintenanceLevel


@pytest.mark.parametrize(
    ("level", "count"),
    [(L.half_monthly, 31), (L.quarterly, 44), (L.semi_annual, 59), (L.annual, 76)],
)
def test_traction_items_are_cumulative(level, count):
    assert len(items_for(ElevatorKind.traction, level)) == count


def test_traction_levels_add_13_15_17_items_in_their_tables():
    groups = dict(list_for(ElevatorKind.traction).groups(L.annual))
    assert {lv: len(group) for lv, group in groups.items()} == {
        L.half_monthly: 31,
        L.quarterly: 13,
        L.semi_annual: 15,
        L.annual: 17,
    }
    assert {i.table for i in groups[L.quarterly]} == {"A-2"}
    first = groups[L.half_monthly][0]
    assert (first.code, first.text) == ("A-1.1", "机房、滑轮间环境")
    assert first.requirement == "清洁，门窗完好，照明正常"


def test_a_quarterly_visit_includes_every_half_monthly_item():
    half = {i.code for i in items_for(ElevatorKind.traction, L.half_monthly)}
    quarterly = {i.code for i in items_for(ElevatorKind.traction, L.quarterly)}
    assert half < quarterly
    assert len({i.code for i in items_for(ElevatorKind.traction, L.annual)}) == 76


def test_traction_list_is_complete_and_keeps_its_source_note():
    traction = list_for(ElevatorKind.traction)
    assert traction.complete
    assert traction.appendix == "A"
    assert "secondary source" in traction.source
    assert not traction.verified
    assert list_for(ElevatorKind.freight) is traction  # appendix A covers freight elevators


@pytest.mark.parametrize(
    ("kind", "appendix"),
    [
        (ElevatorKind.hydraulic, "B"),
        (ElevatorKind.escalator, "D"),
        (ElevatorKind.moving_walk, "D"),
    ],
)
def test_lists_without_the_regulation_text_are_flagged_incomplete(kind, appendix):
    found = list_for(kind)
    assert found.appendix == appendix
    assert found.status == "incomplete"
    assert not found.complete
    assert "INCOMPLETE" in found.status_note
    assert found.items == ()  # nothing invented
    assert items_for(kind, L.annual) == []


def test_every_list_file_states_status_and_source():
    for path in sorted(items.DATA_DIR.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        assert spec["status"] in ("complete", "incomplete"), path.name
        assert spec["source"], path.name
        assert spec["applies_to"], path.name


def test_a_list_whose_counts_differ_is_refused(tmp_path):
    (tmp_path / "items.csv").write_text(
        "table,level,seq,item,requirement\nA-1,half_monthly,1,机房,清洁\n", encoding="utf-8"
    )
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "id": "x",
                "title": "x",
                "applies_to": ["traction"],
                "status": "complete",
                "source": "test",
                "items_file": "items.csv",
                "expected_counts": {"half_monthly": 31},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ItemListError, match="differ"):
        items._parse(broken)


def test_the_version_changes_with_the_content(tmp_path):
    spec = {
        "id": "x",
        "title": "x",
        "applies_to": ["hydraulic"],
        "status": "incomplete",
        "source": "test",
        "items": [],
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    before = items._parse(path).version
    spec["items"] = [{"table": "B-1", "level": "half_monthly", "seq": 1, "item": "x"}]
    path.write_text(json.dumps(spec), encoding="utf-8")
    after = items._parse(path)
    assert after.version != before
    assert [i.code for i in after.items] == ["B-1.1"]
