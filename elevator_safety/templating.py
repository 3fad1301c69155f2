"""Template helpers: URLs that keep the current filters, dates in the user's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, url_for


def path_for(endpoint: str, **values: Any) -> str:
    """Return the path of an endpoint, inside a request or not (the demo loader, commands).

    Links stored in the database (notifications) are paths, valid whatever
    address the installation is reached at.
    """
    if has_request_context():
        return url_for(endpoint, **values)
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    adapter = current_app.url_map.bind("localhost", script_name=root)
    return adapter.build(endpoint, values)


def page_url(**changes: Any) -> str:
    """Return the current URL with some query arguments changed (None removes one)."""
    args: dict[str, Any] = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    endpoint = request.endpoint or "main.index"
    return url_for(endpoint, **(request.view_args or {}), **args)


def local_dt(value: datetime | None, zone: str | None = None) -> str:
    """Format an aware datetime in a zone (the site's or the installation's) with its offset."""
    if value is None:
        return ""
    tz = ZoneInfo(zone or current_app.config["TIMEZONE"])
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")


def init_app(app: Flask) -> None:
    """Register the helpers."""
    from flask_babel import get_locale

    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["get_locale"] = get_locale
    from elevator_safety.records.services import chain_head

    app.jinja_env.globals["chain_head"] = chain_head
    app.jinja_env.filters["local_dt"] = local_dt
