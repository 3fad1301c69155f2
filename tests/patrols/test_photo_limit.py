"""An oversize photo is refused with 413 and a readable page; nothing is written."""

from __future__ import annotations

import io

import pytest

from tests.patrols.helpers import counts, noise_png, patrol_data, png_upload, post

LIMIT = 4096


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {"PHOTO_MAX_BYTES": LIMIT}


def test_oversize_photo_gives_413_and_writes_nothing(client, world, officer):
    elevator = world.own.elevators[0]
    big = noise_png(64)
    assert len(big) > LIMIT
    data = patrol_data(
        elevator,
        use_sign__photo=png_upload(),  # a good photo before the big one is not kept either
        doors__result="fail",
        doors__photo=(io.BytesIO(big), "door.png"),
    )
    response = post(client, elevator, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "File too large" in body
    assert "Nothing was saved." in body
    assert "Traceback" not in body
    assert counts() == {"records": 0, "signatures": 0, "findings": 0, "photos": 0, "files": 0}


def test_photo_within_the_limit_is_accepted(client, world, officer):
    elevator = world.own.elevators[0]
    response = post(client, elevator, patrol_data(elevator, doors__photo=png_upload()))
    assert response.status_code == 302
    assert counts()["photos"] == 1
