"""One page of a long list, the same way on every list page."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from elevator_safety.extensions import db


def paginate(query: Select[Any]) -> Pagination:
    """Return the page named by ``?page=`` of PAGE_SIZE rows; a bad number gives page 1."""
    return db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)


class ListPagination(Pagination):
    """One page of rows already in memory (grouped counts), named by its own query argument.

    For a second list on a page that already has a ``?page=``: the templates'
    ``pagination(page, param)`` links with ``param`` instead. A bad or missing
    number gives page 1.
    """

    def __init__(self, rows: list[Any], param: str) -> None:
        self.param = param
        try:
            number = max(1, int(request.args.get(param, 1)))
        except (TypeError, ValueError):
            number = 1
        super().__init__(
            page=number,
            per_page=int(current_app.config["PAGE_SIZE"]),
            max_per_page=None,
            error_out=False,
            rows=rows,
        )

    def _query_items(self) -> list[Any]:
        start = (self.page - 1) * self.per_page
        return list(self._query_args["rows"][start : start + self.per_page])

    def _query_count(self) -> int:
        return len(self._query_args["rows"])
