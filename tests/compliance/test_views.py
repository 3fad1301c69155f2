"""The alerts list and the elevator page's duty panel, scoped like everything else."""

from __future__ import annotations

from elevator_safety.compliance import engine
from elevator_safety.extensions import db
from elevator_safety.registry.models import ElevatorStatus


def evaluate() -> None:
    engine.evaluate()
    db.session.commit()


def test_the_list_shows_own_alerts_only_and_filters(client, world, login_as, app):
    evaluate()
    login_as("safety_officer")
    page = client.get("/alerts").get_data(as_text=True)
    own = world.own.elevators[0].equipment_code
    assert own in page
    assert world.foreign.elevators[0].equipment_code not in page
    assert 'data-rule="D6.alarm_test"' in page  # no alarm test ever recorded
    filtered = client.get("/alerts?duty=D1").get_data(as_text=True)
    assert 'data-rule="D6.alarm_test"' not in filtered
    nothing = client.get("/alerts?duty=D6&state=hard_stop").get_data(as_text=True)
    assert 'data-testid="alert-table"' not in nothing
    # An unknown filter value is ignored, not an error.
    assert client.get("/alerts?duty=D99&state=bad").status_code == 200


def test_the_regulator_sees_its_district(client, world, login_as, app):
    evaluate()
    login_as("regulator")
    page = client.get("/alerts").get_data(as_text=True)
    assert world.own.elevators[0].equipment_code in page


def test_the_elevator_panel_shows_each_duty(client, world, login_as, app):
    elevator = world.own.elevators[0]
    evaluate()
    login_as("safety_officer")
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="compliance-panel"' in page
    for duty in engine.DUTIES:
        assert f'data-duty="{duty}"' in page
    assert 'data-rule="D6.alarm_test"' in page

    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    evaluate()
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert (
        'data-duty="D3"><strong>D3</strong> <span class="badge " data-state="not_applicable"'
        in page
    )
