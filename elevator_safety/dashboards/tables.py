"""Per-site HTML of the dashboards built in Python: the site counts rows and the site options.

A company or a district can hold thousands of sites (2,500 for 20,000
elevators). Rendered through Jinja, each site row cost a dozen lookups,
translations and escapes, and the table alone took longer than the whole
page's budget. Here the labels and URLs are made once per page and each row
is one f-string; the only text that comes from users (site names) is
escaped. The markup is the one the templates wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from elevator_safety.dashboards.services import Rate

#: A site id no URL contains otherwise (see url_parts).
_URL_MARKER = 987654321987


def url_parts(endpoint: str, **values: Any) -> tuple[str, str]:
    """Return the text before and after the site id in ``url_for(endpoint, site_id=…)``.

    The URL is built once with a marker id: head + str(id) + tail is the
    text url_for gives for any id, without going through the URL map per site.
    """
    head, tail = url_for(endpoint, site_id=_URL_MARKER, **values).split(str(_URL_MARKER))
    return head, tail


def site_options(sites: Iterable[Any], selected: int | None) -> Markup:
    """Return the ``<option>`` of each (id, name) site, the selected one marked."""
    options = []
    for site_id, name in sites:
        mark = " selected" if site_id == selected else ""
        options.append(f'<option value="{int(site_id)}"{mark}>{escape(name)}</option>')
    return Markup("".join(options))  # noqa: S704 - ids are ints, names escaped


def _labels() -> dict[str, str]:
    """Return the site table's labels in the user's language, escaped."""
    texts = {
        "site": _("Site"),
        "elevators": _("Elevators"),
        "compliant": _("Fully compliant"),
        "share": _("Share"),
        "reviews": _("Weekly check and monthly review"),
        "weekly": _("Weekly check"),
        "monthly": _("Monthly review"),
        "signed": _("Signed reviews"),
    }
    return {key: str(escape(text)) for key, text in texts.items()}


def site_rows(rates: list[Rate], *, can_review: bool) -> Markup:
    """Return the ``<tr>`` of each site's counts, with the review links of the site.

    ``can_review``: the links to sign the weekly check and the monthly review
    are shown (to the safety director); the list of signed reviews always is.
    """
    label = _labels()
    weekly = url_parts("dashboards.new_review", kind="weekly")
    monthly = url_parts("dashboards.new_review", kind="monthly")
    signed = url_parts("dashboards.site_reviews")
    rows = []
    for rate in rates:
        key = int(rate.key)
        share = "–" if rate.share is None else f"{rate.share}%"
        review = (
            f'\n        <a href="{weekly[0]}{key}{weekly[1]}">{label["weekly"]}</a> ·'
            f'\n        <a href="{monthly[0]}{key}{monthly[1]}">{label["monthly"]}</a> ·'
            if can_review
            else ""
        )
        rows.append(
            f'\n    <tr data-site="{key}">'
            f'\n      <td data-label="{label["site"]}">{escape(rate.name)}</td>'
            f'\n      <td data-label="{label["elevators"]}" data-count="elevators">'
            f"{int(rate.elevators)}</td>"
            f'\n      <td data-label="{label["compliant"]}" data-count="compliant">'
            f"{int(rate.compliant)}</td>"
            f'\n      <td data-label="{label["share"]}" data-count="share">{share}</td>'
            f'\n      <td data-label="{label["reviews"]}" data-testid="review-links">{review}'
            f'\n        <a href="{signed[0]}{key}{signed[1]}">{label["signed"]}</a>'
            "\n      </td>"
            "\n    </tr>"
        )
    return Markup("".join(rows))  # noqa: S704 - numbers, escaped names and labels, our URLs
