"""Canonical serialisation of record content, and its SHA-256.

The rules (documented in docs/records.md) are stable so that anyone can
recompute a hash from the stored content:

- JSON, UTF-8, keys sorted, no insignificant white space, non-ASCII kept as is;
- datetimes as UTC ISO 8601 with a trailing ``Z`` and whole seconds
  (``2026-11-28T02:30:00Z``); dates as ``YYYY-MM-DD``;
- no floats: decimal readings (temperature, humidity) are strings such as
  ``"23.5"``; counts are integers; enums are their string values;
- absent optional values are ``null``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

#: Values that are JSON as they are (exact types: a str or int enum is not one of them).
_AS_IS = frozenset({str, int, bool, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:  # most values of a record: no further test
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in record content")
        return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not allowed in record content; use Decimal or str")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def normalise(content: dict[str, Any]) -> dict[str, Any]:
    """Return content made of JSON types only, by the rules above."""
    result = _plain(content)
    assert isinstance(result, dict)  # noqa: S101 - _plain maps a dict to a dict
    return result


def canonical_json(content: dict[str, Any]) -> str:
    """Return the canonical JSON text of content."""
    return json_text(normalise(content))


def json_text(plain: Any) -> str:
    """Return the canonical JSON text of content that holds JSON types only (no walk)."""
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def load_stored(text: str) -> Any:
    """Parse stored content to check it; a number with a fraction or exponent becomes a Decimal.

    Raises ValueError when the text is not JSON. Parsed JSON holds JSON types
    only, which ``normalise`` leaves as they are, so ``stored_canonical`` can
    write it again without walking it; a non-integer number, which the rules
    forbid, stays a Decimal that ``json`` refuses to write. So do ``NaN`` and
    ``Infinity``, which Python's parser accepts though they are not JSON.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal)


def stored_canonical(parsed: Any) -> str | None:
    """Return the canonical text of content from ``load_stored``; None if it holds a float."""
    try:
        return json_text(parsed)
    except TypeError:
        return None


def sha256_hex(text: str) -> str:
    """Return the SHA-256 of a text's UTF-8 bytes, as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, content_hash: str, elevator_id: int | str, seq: int) -> str:
    """Return the hash that links a record to its predecessor in its chain.

    ``elevator_id`` is the chain's scope: an elevator's id, or ``site-<id>`` for
    a site's register chain (registers/chain.py).
    """
    return sha256_hex(f"{elevator_id}:{seq}:{prev_hash}:{content_hash}")


#: The predecessor hash of an elevator's first record.
GENESIS = "0" * 64
