"""Helpers of the patrol tests: a complete form as a phone posts it, counts, messages."""

from __future__ import annotations

import html
import io
import os
import re
import uuid
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.patrols import checklists
from elevator_safety.records.models import Finding, Photo, Record, Signature
from elevator_safety.registry.models import Elevator
from tests.factories import PASSWORD, png_bytes

READINGS = {"machine_room_temperature": "22.5", "machine_room_humidity": "60"}


def form_url(elevator: Elevator) -> str:
    return f"/elevators/{elevator.id}/patrols/new"


def patrol_data(elevator: Elevator, **changes: Any) -> dict[str, Any]:
    """Return a complete patrol form (every item passes); None in changes removes a field."""
    checklist = checklists.current_for(elevator.kind.value)
    data: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "password": PASSWORD}
    for item in checklist.items_for(elevator.kind.value):
        if item.is_reading:
            data[f"{item.code}__value"] = READINGS[item.code]
        else:
            data[f"{item.code}__result"] = "pass"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def png_upload(name: str = "photo.png", color: str = "green") -> tuple[io.BytesIO, str]:
    return io.BytesIO(png_bytes(size=(16, 16), color=color)), name


def noise_png(size: int = 64) -> bytes:
    """Return a PNG that does not compress (random pixels)."""
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(out, "PNG")
    return out.getvalue()


def post(client, elevator: Elevator, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(form_url(elevator), data=data, content_type="multipart/form-data")


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(model.id))) or 0


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        "records": count(Record),
        "signatures": count(Signature),
        "findings": count(Finding),
        "photos": count(Photo),
        "files": len(stored_files()),
    }


def stored_files() -> list[Path]:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def field_errors(body: str, name: str) -> list[str]:
    """Return the messages shown under a form field."""
    pattern = rf'<div class="error"[^>]*data-field="{re.escape(name)}">(.*?)</div>'
    return [html.unescape(m).strip() for m in re.findall(pattern, body, re.S)]


def checked(body: str, name: str) -> str | None:
    """Return the value of the checked radio button of a group."""
    for tag in re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', body):
        if " checked" in tag:
            match = re.search(r'value="([^"]*)"', tag)
            return match.group(1) if match else None
    return None


def input_value(body: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', body)
    return html.unescape(match.group(1)) if match else None


def latest_record() -> Record:
    record = db.session.scalar(select(Record).order_by(Record.id.desc()).limit(1))
    assert record is not None
    return record
