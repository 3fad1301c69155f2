"""Evidence photos: checked by content, EXIF stripped, stored by content hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from elevator_safety.auth.models import User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import Photo
from elevator_safety.registry.models import Elevator

#: Accepted formats, recognised by their first bytes, never by the file name.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


def sniff(head: bytes) -> str | None:
    """Return JPEG, PNG or WEBP from a file's first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def size_text(size: int) -> str:
    """Return a byte count as whole MB, or KB under one megabyte."""
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    return f"{max(size // 1024, 1)} KB"


def upload_folder() -> Path:
    """Return the folder photos are stored in."""
    folder = current_app.config.get("UPLOAD_FOLDER") or str(
        Path(current_app.instance_path) / "uploads"
    )
    return Path(folder)


def photo_path(photo: Photo) -> Path:
    """Return where a photo's bytes are stored."""
    ext = FORMATS[photo.content_type.split("/")[1].upper().replace("JPG", "JPEG")][1]
    return upload_folder() / photo.sha256[:2] / f"{photo.sha256}.{ext}"


def _strip_metadata(data: bytes, fmt: str) -> tuple[bytes, int, int]:
    """Re-encode the image without EXIF (location, camera), applying its orientation."""
    # Pillow loads with the first photo, not in every process that has the app.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format != fmt:
                raise DomainError(_("The file's content does not match an image format."))
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if fmt == "JPEG":
                upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
            elif fmt == "PNG":
                upright.save(out, "PNG", optimize=True)
            else:
                upright.save(out, "WEBP", quality=90)
            return out.getvalue(), upright.width, upright.height
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DomainError(_("This file is not a readable photo.")) from error


def _read_checked(upload: FileStorage) -> tuple[bytes, str]:
    """Read an upload and refuse it unless it is a photo within the size limit."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    upload.stream.seek(0)
    data = upload.stream.read(limit + 1)
    upload.stream.seek(0)
    if len(data) > limit:
        abort(
            413,
            description=_(
                "A photo may be at most %(size)s; this one is larger.", size=size_text(limit)
            ),
        )
    if not data:
        raise DomainError(_("The photo is empty."))
    fmt = sniff(data[:16])
    if fmt is None:
        raise DomainError(_("Only JPEG, PNG or WebP photos are accepted."))
    return data, fmt


def check_photo(upload: FileStorage) -> None:
    """Refuse a photo before anything is stored: size (413), format by content, readability.

    The stream is left rewound, so that save_photo can store it afterwards.
    """
    data, fmt = _read_checked(upload)
    _strip_metadata(data, fmt)


def save_photo(upload: FileStorage, user: User, elevator: Elevator) -> Photo:
    """Check and store an uploaded photo; return its row (existing if the same bytes)."""
    data, fmt = _read_checked(upload)
    clean, width, height = _strip_metadata(data, fmt)
    digest = hashlib.sha256(clean).hexdigest()
    existing = db.session.scalar(select(Photo).where(Photo.sha256 == digest))
    if existing is not None:
        return existing
    content_type = FORMATS[fmt][0]
    photo = Photo(
        sha256=digest,
        content_type=content_type,
        size_bytes=len(clean),
        width=width,
        height=height,
        elevator_id=elevator.id,
        uploaded_by_id=user.id,
    )
    path = photo_path(photo)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(clean)
        tmp.replace(path)
    db.session.add(photo)
    db.session.flush()
    return photo
