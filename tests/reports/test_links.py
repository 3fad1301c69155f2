"""The download links macro file (templates/reports/_links.html) the pages include."""

from __future__ import annotations

import pytest
from flask import render_template_string
from flask_login import login_user

from tests.factories import ROLE_ATTR
from tests.reports import helpers as h

TEMPLATE = (
    '{% from "reports/_links.html" import record_pdf, elevator_pdf, site_pdfs, district_pdf %}'
    "{{ record_pdf(record) }}{{ elevator_pdf(elevator) }}{{ site_pdfs(site) }}{{ district_pdf() }}"
)


def links(app, user, **objects) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        login_user(user)
        return render_template_string(TEMPLATE, **objects)


@pytest.mark.parametrize("role", list(ROLE_ATTR))
def test_links_shown_to_those_who_may_download(app, world, role):
    side = world.own
    record = h.patrol(side)
    html = links(
        app,
        getattr(side, ROLE_ATTR[role]),
        record=record,
        elevator=side.elevators[0],
        site=side.site,
    )
    assert f'href="/reports/records/{record.id}.pdf"' in html
    assert f'href="/reports/elevators/{side.elevators[0].id}/archive.pdf"' in html
    site_docs = f"/reports/sites/{side.site.id}/summary.pdf?month=" in html
    assert site_docs == (role not in ("technician", "contractor_manager"))
    assert html.count("register.pdf?register=") == (6 if site_docs else 0)
    assert ('href="/reports/district.pdf?month=' in html) == (role == "regulator")
