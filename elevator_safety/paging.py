"""One page of a long list, the same way on every list page."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from elevator_safety.extensions import db


def paginate(query: Select[Any]) -> Pagination:
    """Return the page named by ``?page=`` of PAGE_SIZE rows; a bad number gives page 1."""
    return db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
