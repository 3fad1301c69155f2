"""The signed evidence of a rectification: photos, the record page, the site entry."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, FindingStatus, Photo, Record
from tests.conftest import log_in
from tests.factories import PASSWORD, png_bytes
from tests.rectifications.helpers import make_finding


def test_completion_with_photos_and_its_record_page(client, world):
    finding = make_finding(world.own)
    log_in(client, world.own.officer)
    response = client.post(
        f"/rectifications/{finding.id}/complete",
        data={
            "text": "Lamp replaced.",
            "password": PASSWORD,
            "photos": [
                (io.BytesIO(png_bytes(color="green")), "a.png"),
                (io.BytesIO(png_bytes(color="yellow")), "b.png"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    record = db.session.scalar(select(Record))
    hashes = record.data["body"]["photos"]
    assert len(hashes) == 2
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 2
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-testid="rectification-record"' in page
    assert f"/rectifications/{finding.id}" in page
    assert "Lamp replaced." in page
    for digest in hashes:
        assert f"/photos/{digest}" in page
    detail = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert f"/records/{record.id}" in detail


def test_a_file_that_is_not_a_photo_is_refused(client, world):
    finding = make_finding(world.own)
    log_in(client, world.own.officer)
    response = client.post(
        f"/rectifications/{finding.id}/complete",
        data={
            "text": "Lamp replaced.",
            "password": PASSWORD,
            "photos": [(io.BytesIO(b"not an image at all"), "a.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Only JPEG, PNG or WebP photos are accepted." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.open
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_a_site_wide_finding_takes_no_photos(client, world):
    finding = make_finding(world.own, elevator=None)
    log_in(client, world.own.officer)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert 'name="photos"' not in page
    response = client.post(
        f"/rectifications/{finding.id}/complete",
        data={
            "text": "Done.",
            "password": PASSWORD,
            "photos": [(io.BytesIO(png_bytes()), "a.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Photos can be attached only" in response.get_data(as_text=True)


def test_the_site_entry_shows_on_the_detail_page(client, world):
    finding = make_finding(world.own, elevator=None)
    log_in(client, world.own.officer)
    client.post(
        f"/rectifications/{finding.id}/complete",
        data={"text": "Roster filled.", "password": PASSWORD},
    )
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    evidence = page.split('data-testid="evidence"')[1]
    assert "Site register #1" in evidence
    assert "Roster filled." in evidence


def test_a_finding_from_a_site_register_links_its_entry(client, world):
    from elevator_safety.records.models import FindingSource
    from elevator_safety.rectifications.services import open_finding
    from elevator_safety.registers.chain import signed
    from elevator_safety.registers.models import RegisterKind

    entry = signed(world.own.site, RegisterKind.video_check, {"days": 12}, world.own.officer)
    finding = open_finding(
        site=world.own.site,
        elevator=None,
        source=FindingSource.video_check,
        duty="D7",
        item_label="Footage kept 12 days",
        description="Less than 30 days kept.",
        author=world.own.officer,
        source_entry=entry,
    )
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    source = page.split('data-testid="source"')[1].split("</dd>")[0]
    assert "Video retention check" in source
    assert f"/register-entries/{entry.id}" in source
