"""Evidence photos: checked by content, EXIF stripped, stored by hash, served in scope."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import Photo
from elevator_safety.records.photos import photo_path, save_photo
from tests.conftest import log_in
from tests.factories import png_bytes


def upload(data: bytes, name: str = "photo.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (32, 16), "green")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 39.0, 0.0), 3: "E", 4: (104.0, 4.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_jpeg_is_stored_without_exif(world):
    data = jpeg_with_gps()
    assert b"PhoneMaker" in data
    photo = save_photo(upload(data), world.own.officer, world.own.elevators[0])
    db.session.commit()
    stored = photo_path(photo).read_bytes()
    assert b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
        assert image.size == (32, 16)
    assert photo.content_type == "image/jpeg"
    assert photo.size_bytes == len(stored)


def test_same_bytes_are_stored_once(world):
    first = save_photo(upload(png_bytes(), "a.png"), world.own.officer, world.own.elevators[0])
    second = save_photo(upload(png_bytes(), "b.png"), world.own.officer, world.own.elevators[0])
    assert first.id == second.id
    assert db.session.scalar(select(func.count(Photo.id))) == 1


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10, "fake.jpg"),
        (b"GIF89a" + b"\x00" * 40, "anim.gif"),
        (b"just text, named like a photo", "photo.png"),
        (b"", "empty.jpg"),
    ],
)
def test_fake_or_unsupported_images_are_refused(world, data, name):
    with pytest.raises(DomainError):
        save_photo(upload(data, name), world.own.officer, world.own.elevators[0])
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_format_is_decided_by_content_not_name(world):
    photo = save_photo(
        upload(png_bytes(), "looks-like.jpg"), world.own.officer, world.own.elevators[0]
    )
    assert photo.content_type == "image/png"


@pytest.fixture
def app_config(app_config):
    return app_config | {"PHOTO_MAX_BYTES": 2048}


def test_oversize_photo_is_refused_with_413(world):
    big = png_bytes(size=(400, 400), color="white") + b"\x00" * 4096
    with pytest.raises(RequestEntityTooLarge) as caught:
        save_photo(upload(big, "big.png"), world.own.officer, world.own.elevators[0])
    assert "2 KB" in caught.value.description
    assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_photo_is_served_only_within_scope(world, client):
    photo = save_photo(upload(png_bytes(), "a.png"), world.own.officer, world.own.elevators[0])
    db.session.commit()
    log_in(client, world.own.manager)  # the contractor of that elevator
    with client.get(f"/photos/{photo.sha256}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert "private" in response.headers["Cache-Control"]
    log_in(client, world.foreign.officer)
    with client.get(f"/photos/{photo.sha256}") as response:
        assert response.status_code == 404
    with client.get("/photos/" + "0" * 64) as response:
        assert response.status_code == 404
