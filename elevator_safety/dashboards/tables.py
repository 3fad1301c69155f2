"""The dashboards' site filter options, built in Python.

A company or a district can hold thousands of sites (2,500 for 20,000
elevators), and the matrix and the district pages offer every one of them in
their site filter. Rendered through Jinja, each ``<option>`` costs a lookup, a
comparison and an escape, 2,500 times a page; here each option is one
f-string, and the only text that comes from users (site names) is escaped.
The markup is the one the templates wrote. (The matrix's counts per site are
a Jinja loop: they show 25 sites a page.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape


def site_options(sites: Iterable[Any], selected: int | None) -> Markup:
    """Return the ``<option>`` of each (id, name) site, the selected one marked."""
    options = []
    for site_id, name in sites:
        mark = " selected" if site_id == selected else ""
        options.append(f'<option value="{int(site_id)}"{mark}>{escape(name)}</option>')
    return Markup("".join(options))  # noqa: S704 - ids are ints, names escaped
