"""The property company's "downloads of our documents" page."""

from __future__ import annotations

import re

import pytest

from elevator_safety import audit
from elevator_safety.extensions import db
from tests.desk.helpers import make_done_job
from tests.factories import make_record

DOWNLOADS = "/desk/downloads"


def listed(client) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Return (object type, label) of each row of the downloads page."""
    response = client.get(DOWNLOADS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-audit-id="\d+" data-object-type="(\w+)">(.*?)</tr>', html, re.S)
    return [(kind, re.search(r'class="mono">([^<]*)<', row).group(1)) for kind, row in rows]


def download(user, object_type: str, object_id: int | None, label: str) -> None:  # type: ignore[no-untyped-def]
    """Write the audit entry a document route writes for a download."""
    entry = audit.record(
        "download", user_id=user.id, organisation_id=user.organisation_id, label=label
    )
    entry.object_type = object_type
    entry.object_id = object_id
    db.session.commit()


def test_regulators_archive_download_shows_for_the_company_only(client, login_as, world):
    elevator = world.own.elevators[0]
    login_as("regulator")
    response = client.get(f"/desk/?rescue={elevator.rescue_code}")
    link = re.search(r'href="([^"]+)" data-testid="archive-link"', response.get_data(as_text=True))
    archive = client.get(link.group(1).replace("&amp;", "&"))
    assert archive.status_code == 200
    archive.close()
    login_as("admin")
    rows = listed(client)
    assert len(rows) == 1
    assert rows[0][0] == "elevator"
    html = client.get(DOWNLOADS).get_data(as_text=True)
    assert world.own.regulator.name in html
    assert world.own.regulator_org.name in html
    login_as("admin", side="foreign")
    assert listed(client) == []


@pytest.mark.parametrize("role", ["admin", "safety_director", "safety_officer"])
def test_every_kind_of_document_of_the_company_is_listed_newest_first(
    client, login_as, world, role
):
    own, foreign = world.own, world.foreign
    record = make_record(own.elevators[0], own.officer)
    foreign_record = make_record(foreign.elevators[0], foreign.officer)
    export = make_done_job(own.regulator)
    site_export = make_done_job(own.admin, site=own.site)
    foreign_export = make_done_job(foreign.regulator)
    db.session.commit()
    download(own.regulator, "record", record.id, "record.pdf")
    download(own.regulator, "elevator", own.elevators[1].id, "archive.pdf")
    download(own.manager, "site", own.site.id, "site-summary.pdf")
    download(own.regulator, "export", export.id, "district-export.zip")
    download(own.admin, "export", site_export.id, "site-export.zip")
    download(foreign.regulator, "record", foreign_record.id, "foreign-record.pdf")
    download(foreign.regulator, "elevator", foreign.elevators[0].id, "foreign-archive.pdf")
    download(foreign.regulator, "site", foreign.site.id, "foreign-site.pdf")
    download(foreign.regulator, "export", foreign_export.id, "foreign-export.zip")
    download(own.regulator, "district", None, "district-summary.pdf")
    audit.record("update", own.site, user_id=own.admin.id, label="not a download")
    db.session.commit()
    login_as(role)
    assert listed(client) == [
        ("export", "site-export.zip"),
        ("export", "district-export.zip"),
        ("site", "site-summary.pdf"),
        ("elevator", "archive.pdf"),
        ("record", "record.pdf"),
    ]


def test_the_page_is_paginated(client, login_as, world, app):
    for n in range(3):
        download(world.own.regulator, "site", world.own.site.id, f"summary-{n}.pdf")
    app.config["PAGE_SIZE"] = 2
    login_as("safety_officer")
    assert [label for _kind, label in listed(client)] == ["summary-2.pdf", "summary-1.pdf"]
    html = client.get(DOWNLOADS + "?page=2").get_data(as_text=True)
    assert "summary-0.pdf" in html
    assert "summary-2.pdf" not in html


@pytest.mark.parametrize("role", ["contractor_manager", "technician", "regulator"])
def test_other_roles_are_refused(client, login_as, world, role):
    login_as(role)
    assert client.get(DOWNLOADS).status_code == 403
