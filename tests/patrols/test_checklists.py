"""Checklists are data: versioned files per elevator kind, checked when loaded."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest

from elevator_safety.patrols import checklists
from elevator_safety.patrols.checklists import DEFAULT_FOLDER, ChecklistError, parse_checklist
from elevator_safety.registry.models import ElevatorKind


def test_every_elevator_kind_has_a_versioned_checklist(app):
    loaded = checklists.all_checklists()
    assert ("patrol-elevator", 1) in loaded
    assert ("patrol-escalator", 1) in loaded
    for kind in ElevatorKind:
        checklist = checklists.current_for(kind.value)
        assert checklist.version >= 1
        assert checklist.items_for(kind.value), kind


def test_the_elevator_checklist_covers_the_issue_items(app):
    traction = checklists.current_for("traction")
    codes = {item.code: item for item in traction.items_for("traction")}
    expected = {
        "use_sign": "D2",
        "safety_notices": "D2",
        "car_lighting_ventilation": "D3",
        "doors": "D3",
        "levelling": "D3",
        "alarm_button": "D6",
        "intercom": "D6",
        "video_camera": "D7",
        "footage_retention": "D7",
        "machine_room_locked": "D5",
        "machine_room_clean": "D5",
        "machine_room_temperature": "D5",
        "machine_room_humidity": "D5",
        "machine_room_lighting": "D5",
        "pit_shaft": "D5",
        "additions_ads": "D10",
    }
    assert {code: codes[code].duty for code in expected} == expected
    temperature = codes["machine_room_temperature"]
    assert temperature.is_reading
    assert temperature.unit == "°C"
    assert checklists.limits(temperature) == (Decimal("5"), Decimal("40"))
    assert checklists.limits(codes["machine_room_humidity"]) == (None, Decimal("85"))
    assert codes["machine_room_lighting"].type == "pass_fail"
    # Items can apply to some kinds of a checklist only.
    assert "hydraulic_oil" not in codes
    assert "hydraulic_oil" in {i.code for i in traction.items_for("hydraulic")}


def test_the_escalator_checklist_has_comb_plates_and_handrails(app):
    for kind in ("escalator", "moving_walk"):
        codes = {i.code for i in checklists.current_for(kind).items_for(kind)}
        assert {"comb_plates", "handrails", "use_sign", "additions_ads"} <= codes
    assert "steps" in {i.code for i in checklists.current_for("escalator").items_for("escalator")}
    walk = {i.code for i in checklists.current_for("moving_walk").items_for("moving_walk")}
    assert "pallets" in walk
    assert "steps" not in walk


def test_labels_in_both_languages_and_the_ten_prohibited_acts(app):
    for checklist in checklists.all_checklists().values():
        for item in checklist.items:
            assert item.label("en")
            assert item.label("zh")
            assert item.duty in checklists.PATROL_DUTIES
    acts = checklists.prohibited_acts()
    assert len(acts) == 10
    assert len({a.code for a in acts}) == 10
    assert checklists.act("e_bike").label("zh").startswith("将电动自行车")


def test_limits_come_from_configuration(app):
    item = checklists.current_for("traction").item("machine_room_temperature")
    assert item is not None
    app.config["PATROL_LIMITS"] = {"machine_room_temperature": ("10", "30")}
    assert checklists.limits(item) == (Decimal("10"), Decimal("30"))


def test_a_new_version_is_a_new_file_and_old_versions_stay_readable(app, tmp_path):
    folder = tmp_path / "checklists"
    shutil.copytree(DEFAULT_FOLDER, folder)
    raw = json.loads((folder / "patrol-elevator-v1.json").read_text(encoding="utf-8"))
    raw["version"] = 2
    raw["items"].append(
        {
            "code": "landing_buttons",
            "duty": "D3",
            "type": "pass_fail",
            "label_en": "Landing call buttons working",
            "label_zh": "层站召唤按钮正常",
        }
    )
    (folder / "patrol-elevator-v2.json").write_text(json.dumps(raw), encoding="utf-8")
    app.config["PATROL_CHECKLIST_FOLDER"] = str(folder)
    current = checklists.current_for("traction")
    assert (current.id, current.version) == ("patrol-elevator", 2)
    assert current.item("landing_buttons") is not None
    old = checklists.get("patrol-elevator", 1)
    assert old is not None
    assert old.item("landing_buttons") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 3}, "match the file name"),
        ({"applies_to": ["lift"]}, "applies_to"),
        ({"items": [{"code": "a.b", "duty": "D2", "type": "pass_fail"}]}, "snake_case"),
        (
            {"items": [{"code": "x", "duty": "D1", "type": "pass_fail", "label_en": "X"}]},
            "duty",
        ),
        (
            {
                "items": [
                    {
                        "code": "t",
                        "duty": "D5",
                        "type": "reading",
                        "label_en": "T",
                        "label_zh": "T",
                        "unit": "°C",
                        "limits": "t",
                    }
                ]
            },
            "valid_range",
        ),
    ],
)
def test_malformed_checklists_are_refused_with_the_file_named(tmp_path, change, message):
    raw = json.loads((DEFAULT_FOLDER / "patrol-elevator-v1.json").read_text(encoding="utf-8"))
    path = tmp_path / "patrol-elevator-v1.json"
    path.write_text(json.dumps(raw | change), encoding="utf-8")
    with pytest.raises(ChecklistError, match=message) as error:
        parse_checklist(path)
    assert "patrol-elevator-v1.json" in str(error.value)
