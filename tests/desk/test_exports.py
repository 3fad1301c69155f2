"""Bulk exports: the request form and its rules, the job page, the run, the ZIP, the purge."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.db import now_utc
from elevator_safety.desk import documents, services
from elevator_safety.desk.cli import desk_cli
from elevator_safety.desk.models import ExportJob, ExportStatus
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.reports import render, signing
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.desk.helpers import PERIOD, make_done_job, make_job, read_zip
from tests.factories import make_elevator, make_org, make_user

NEW = "/desk/exports/new"


def job_count() -> int:
    return db.session.scalar(select(func.count(ExportJob.id))) or 0


def post_export(client, target: str, start: date | str, end: date | str):  # type: ignore[no-untyped-def]
    return client.post(
        NEW,
        data={"target": target, "period_from": str(start), "period_to": str(end)},
    )


# --- the request ------------------------------------------------------------------------


def test_form_defaults_to_last_month_and_offers_district_and_sites(client, login_as, world):
    login_as("regulator")
    html = client.get(NEW).get_data(as_text=True)
    start, end = services.last_month(local_today())
    assert f'value="{start.isoformat()}"' in html
    assert f'value="{end.isoformat()}"' in html
    assert '<option selected value="district">' in html
    assert f'<option value="{world.own.site.id}">' in html
    assert world.foreign.site.name not in html


def test_form_preselects_a_site_from_the_search(client, login_as, world):
    login_as("regulator")
    search = client.get("/desk/").get_data(as_text=True)
    link = f'href="/desk/exports/new?site={world.own.site.id}" data-testid="export-site-link"'
    assert link in search
    html = client.get(NEW, query_string={"site": world.own.site.id}).get_data(as_text=True)
    assert f'<option selected value="{world.own.site.id}">' in html


def test_regulator_queues_a_district_export(client, login_as, world):
    regulator = login_as("regulator")
    period = services.last_month(local_today())
    response = post_export(client, "district", *period)
    assert response.status_code == 302
    job = db.session.scalars(select(ExportJob)).one()
    assert response.headers["Location"].endswith(f"/desk/exports/{job.id}")
    assert job.status == ExportStatus.queued
    assert job.district_code == "510104"
    assert job.site_id is None
    assert job.organisation_id == regulator.organisation_id
    assert job.requested_by_id == regulator.id
    assert (job.period_start, job.period_end) == period
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "create")).one()
    assert (entry.object_type, entry.object_id) == ("export", job.id)


@pytest.mark.parametrize("role", ["admin", "safety_director", "safety_officer"])
def test_property_company_queues_one_of_its_sites(client, login_as, world, role):
    login_as(role)
    period = services.last_month(local_today())
    assert post_export(client, str(world.own.site.id), *period).status_code == 302
    job = db.session.scalars(select(ExportJob)).one()
    assert (job.site_id, job.district_code) == (world.own.site.id, None)


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("regulator", "foreign-site"),
        ("admin", "district"),
        ("admin", "foreign-site"),
        ("regulator", "nonsense"),
        ("regulator", ""),
    ],
)
def test_export_target_outside_the_scope_is_refused(client, login_as, world, role, target):
    login_as(role)
    value = str(world.foreign.site.id) if target == "foreign-site" else target
    response = post_export(client, value, *services.last_month(local_today()))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="target"' in html
    assert job_count() == 0


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-10-31", "2026-10-01", "period_to", "The end must be on or after the start."),
        ("2025-01-01", "2026-01-01", "period_to", "at most one year: end on 2025-12-31"),
        ("2024-02-29", "2025-03-01", "period_to", "end on 2025-02-28"),
        ("2026-13-01", "2026-10-31", "period_from", "Enter a date as YYYY-MM-DD."),
        ("", "2026-10-31", "period_from", "This field is required."),
        ("2026-10-01", "", "period_to", "This field is required."),
        ("tomorrow", "tomorrow", "period_from", "The period cannot start after today."),
        ("recent", "tomorrow", "period_to", "The period cannot end after today."),
    ],
)
def test_period_validation_messages(client, login_as, world, start, end, field, message):
    today = local_today()
    relative = {
        "tomorrow": (today + timedelta(days=1)).isoformat(),
        "recent": (today - timedelta(days=5)).isoformat(),
    }
    start, end = relative.get(start, start), relative.get(end, end)
    login_as("regulator")
    response = post_export(client, "district", start, end)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(r'data-field="(\w+)">([^<]*)<', html)
    assert any(name == field and message in text for name, text in errors), errors
    assert job_count() == 0


def test_a_full_year_is_accepted():
    assert services.period_problems(date(2025, 1, 1), date(2025, 12, 31), date(2026, 1, 5)) == {}
    assert services.latest_end(date(2024, 2, 29)) == date(2025, 2, 28)
    assert services.last_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_create_export_refuses_a_contractor(world):
    with pytest.raises(DomainError):
        services.create_export(world.own.manager, "district", *PERIOD, date(2026, 11, 15))


@pytest.mark.parametrize("role", ["contractor_manager", "technician"])
def test_contractors_may_not_export(client, login_as, world, role):
    login_as(role)
    job = make_done_job(world.own.regulator)
    for url in (
        NEW,
        "/desk/exports",
        f"/desk/exports/{job.id}",
        f"/desk/exports/{job.id}/status",
        f"/desk/exports/{job.id}/download",
    ):
        assert client.get(url).status_code == 403, url
    assert post_export(client, str(world.own.site.id), *PERIOD).status_code == 403
    assert job_count() == 1


# --- the job page, status and download ----------------------------------------------------


def test_job_page_of_a_queued_export_refreshes_itself(client, login_as, world):
    regulator = login_as("regulator")
    job = make_job(regulator)
    response = client.get(f"/desk/exports/{job.id}")
    html = response.get_data(as_text=True)
    assert 'src="/static/js/desk-export.js"' in html
    assert '<meta http-equiv="refresh"' in html
    assert f'data-status-url="/desk/exports/{job.id}/status"' in html
    assert 'data-testid="export-reload"' in html
    assert "<script>" not in html
    assert "style=" not in html
    assert 'data-testid="export-download"' not in html
    status = client.get(f"/desk/exports/{job.id}/status").get_json()
    assert status == {
        "id": job.id,
        "status": "queued",
        "label": "Waiting to start",
        "done": 0,
        "total": 0,
        "percent": 0,
        "text": "0 of 0 documents (0 %)",
        "finished": False,
        "download_url": None,
    }


def test_the_js_file_is_served(client):
    response = client.get("/static/js/desk-export.js")
    assert response.status_code == 200
    assert b"data-status-url" in response.data
    response.close()


def test_exports_of_another_organisation_are_not_found(client, login_as, world):
    job = make_done_job(world.foreign.regulator)
    login_as("regulator")
    for url in (
        f"/desk/exports/{job.id}",
        f"/desk/exports/{job.id}/status",
        f"/desk/exports/{job.id}/download",
    ):
        assert client.get(url).status_code == 404, url
    assert f'data-export="{job.id}"' not in client.get("/desk/exports").get_data(as_text=True)


def test_download_by_a_colleague_is_audited(client, login_as, world):
    job = make_done_job(world.own.officer, site=world.own.site)
    admin = login_as("admin")
    response = client.get(f"/desk/exports/{job.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert services.download_name(job) in response.headers["Content-Disposition"]
    assert hashlib.sha256(response.data).hexdigest() == job.sha256
    response.close()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "download")).one()
    assert (entry.object_type, entry.object_id, entry.user_id) == ("export", job.id, admin.id)
    assert entry.organisation_id == admin.organisation_id
    assert entry.object_label == services.download_name(job)


def test_list_of_my_exports_is_paginated(client, login_as, world, app):
    regulator = login_as("regulator")
    jobs = [make_job(regulator) for _ in range(3)]
    app.config["PAGE_SIZE"] = 2
    first = client.get("/desk/exports").get_data(as_text=True)
    second = client.get("/desk/exports?page=2").get_data(as_text=True)
    assert f'data-export="{jobs[2].id}"' in first
    assert f'data-export="{jobs[0].id}"' not in first
    assert f'data-export="{jobs[0].id}"' in second


# --- the run --------------------------------------------------------------------------------


def test_run_export_writes_a_zip_whose_manifest_matches(client, login_as, world, small_district):
    regulator = login_as("regulator")
    job = make_job(regulator, period=(date(2026, 9, 20), date(2026, 10, 31)))
    services.run_export(job.id)
    db.session.expire_all()
    assert job.status == ExportStatus.done, job.error
    sites = 2
    months = 2  # September and October
    assert job.total_count == job.done_count == 2 + sites * months + months
    with read_zip(job) as archive:
        names = archive.namelist()
        assert names[-1] == "manifest.csv"
        rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
        assert rows[0] == ["file_name", "sha256", "size_bytes"]
        listed = {row[0]: (row[1], int(row[2])) for row in rows[1:]}
        assert set(listed) == set(names[:-1])
        for name in names[:-1]:
            data = archive.read(name)
            assert listed[name] == (hashlib.sha256(data).hexdigest(), len(data)), name
            assert data.startswith(b"%PDF")
            assert b"/ByteRange" in data, f"{name} is not signed"
    for elevator in small_district.elevators:
        assert f"archives/{elevator.equipment_code}_20260920-20261031.pdf" in names
    site_id = small_district.site.id
    assert f"summaries/site-{site_id}_2026-09.pdf" in names
    assert f"summaries/site-{site_id}_2026-10.pdf" in names
    assert "summaries/district-510104_2026-10.pdf" in names
    assert not any(world.foreign.elevators[0].equipment_code in n for n in names)
    data = (services.export_dir() / job.file_name).read_bytes()
    assert (job.size_bytes, job.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert job.expires_at == job.finished_at + timedelta(days=7)
    assert not list(services.export_dir().glob("*.part"))
    status = client.get(f"/desk/exports/{job.id}/status").get_json()
    assert (status["percent"], status["done"], status["finished"]) == (100, job.total_count, True)
    assert status["download_url"] == f"/desk/exports/{job.id}/download"
    html = client.get(f"/desk/exports/{job.id}").get_data(as_text=True)
    assert 'data-testid="export-download"' in html
    assert job.sha256 in html
    assert "desk-export.js" not in html
    assert "http-equiv" not in html


def test_site_export_holds_the_site_only(world, small_district):
    job = make_job(world.own.admin, site=world.own.site)
    services.run_export(job.id)
    db.session.expire_all()
    assert job.status == ExportStatus.done, job.error
    with read_zip(job) as archive:
        names = archive.namelist()
    assert len(names) == 2 + 1 + 1  # two archives, October's site summary, the manifest
    assert not any(name.startswith("summaries/district") for name in names)


def test_progress_is_committed_after_every_document(world, small_district, monkeypatch):
    job = make_job(world.own.regulator)
    seen: list[tuple[int, int]] = []
    signed = documents.signed_document

    def spy(document):  # type: ignore[no-untyped-def]
        # read the row through another connection: only committed progress is visible
        with db.engine.connect() as other:
            row = other.execute(
                select(ExportJob.done_count, ExportJob.total_count).where(ExportJob.id == job.id)
            ).one()
        seen.append((row[0], row[1]))
        return signed(document)

    monkeypatch.setattr(documents, "signed_document", spy)
    services.run_export(job.id)
    total = seen[0][1]
    assert [done for done, _total in seen] == list(range(total))
    db.session.expire_all()
    assert (job.done_count, job.percent) == (total, 100)


def test_keyset_pages_cover_every_elevator(world, small_district, monkeypatch):
    own = world.own
    extra = [make_elevator(own.site, own.officer) for _ in range(3)]
    db.session.commit()
    monkeypatch.setattr(services, "PAGE_ROWS", 2)
    job = make_job(world.own.regulator)
    services.run_export(job.id)
    db.session.expire_all()
    with read_zip(job) as archive:
        names = [n for n in archive.namelist() if n.startswith("archives/")]
    assert len(names) == len(own.elevators) + len(extra) == len(set(names))


def test_a_second_claim_does_nothing(world):
    job = make_job(world.own.regulator)
    assert services.claim(job.id) is True
    assert services.claim(job.id) is False
    services.run_export(job.id)  # already running elsewhere: nothing happens
    db.session.expire_all()
    assert job.status == ExportStatus.running
    assert job.file_name is None
    assert not services.export_dir().exists() or not any(services.export_dir().iterdir())


def test_concurrent_claims_let_exactly_one_worker_run(app, world):
    job_id = make_job(world.own.regulator).id
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            results.append(services.claim(job_id))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]


def test_a_finished_job_is_not_run_again(world, small_district):
    job = make_job(world.own.admin, site=world.own.site)
    services.run_export(job.id)
    db.session.expire_all()
    finished, sha = job.finished_at, job.sha256
    services.run_export(job.id)
    db.session.expire_all()
    assert (job.finished_at, job.sha256) == (finished, sha)


def test_run_pending_exports_runs_the_queue_oldest_first(world, small_district):
    first = make_job(world.own.admin, site=world.own.site)
    second = make_job(world.own.regulator)
    assert services.run_pending_exports() == 2
    assert services.run_pending_exports() == 0
    db.session.expire_all()
    assert first.status == second.status == ExportStatus.done
    assert first.started_at <= second.started_at


def test_a_failing_export_is_marked_failed_and_leaves_no_file(
    client, login_as, world, small_district, monkeypatch
):
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise DomainError("The font is missing: apt install fonts-wqy-microhei")

    monkeypatch.setattr(render, "site_summary", broken)
    regulator = login_as("regulator")
    job = make_job(regulator)
    services.run_export(job.id)
    db.session.expire_all()
    assert job.status == ExportStatus.failed
    assert job.error == "The font is missing: apt install fonts-wqy-microhei"
    assert job.finished_at is not None
    assert list(services.export_dir().iterdir()) == []
    html = client.get(f"/desk/exports/{job.id}").get_data(as_text=True)
    assert 'data-testid="export-error"' in html
    assert "fonts-wqy-microhei" in html
    assert client.get(f"/desk/exports/{job.id}/download").status_code == 404


def test_an_unexpected_error_names_its_type(world, small_district, monkeypatch):
    def broken(_data: bytes) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(signing, "sign_pdf", broken)
    job = make_job(world.own.regulator)
    services.run_export(job.id)
    db.session.expire_all()
    assert (job.status, job.error) == (ExportStatus.failed, "OSError: disk full")


# --- a worker that died --------------------------------------------------------------------


def running_job(user, progress_minutes_ago: int | None, started_minutes_ago: int = 60):  # type: ignore[no-untyped-def]
    """Return a job left running by a worker, with its last progress that long ago."""
    now = now_utc()
    job = make_job(user, status=ExportStatus.running)
    job.started_at = now - timedelta(minutes=started_minutes_ago)
    if progress_minutes_ago is not None:
        job.progress_at = now - timedelta(minutes=progress_minutes_ago)
    job.total_count, job.done_count = 10, 4
    db.session.commit()
    return job


def test_an_export_whose_worker_died_is_marked_failed_with_its_partial_file(
    client, login_as, world
):
    regulator = login_as("regulator")
    dead = running_job(regulator, progress_minutes_ago=16)
    alive = running_job(regulator, progress_minutes_ago=14)
    never = running_job(regulator, progress_minutes_ago=None, started_minutes_ago=20)
    queued = make_job(regulator)
    folder = services.export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{services.zip_name(dead.id)}.part"
    part.write_bytes(b"PK")
    alive_part = folder / f"{services.zip_name(alive.id)}.part"
    alive_part.write_bytes(b"PK")
    assert services.fail_stalled(now_utc()) == 2
    db.session.expire_all()
    assert (dead.status, never.status) == (ExportStatus.failed, ExportStatus.failed)
    assert dead.finished_at is not None
    assert "stopped before it was finished" in dead.error
    assert not part.exists()
    assert (alive.status, queued.status) == (ExportStatus.running, ExportStatus.queued)
    assert alive_part.exists()
    html = client.get(f"/desk/exports/{dead.id}").get_data(as_text=True)
    assert 'data-testid="export-error"' in html
    assert services.fail_stalled(now_utc()) == 0


def test_the_stale_limit_is_configurable(app, world):
    app.config["EXPORT_STALE_MINUTES"] = 60
    job = running_job(world.own.regulator, progress_minutes_ago=30)
    assert services.fail_stalled(now_utc()) == 0
    assert services.fail_stalled(now_utc() + timedelta(minutes=31)) == 1
    db.session.expire_all()
    assert job.status == ExportStatus.failed


def test_a_running_export_shows_progress_at_every_document(world, small_district, monkeypatch):
    job = make_job(world.own.regulator)
    seen: list[datetime | None] = []
    signed = documents.signed_document

    def spy(document):  # type: ignore[no-untyped-def]
        with db.engine.connect() as other:
            seen.append(
                other.execute(select(ExportJob.progress_at).where(ExportJob.id == job.id)).scalar()
            )
        return signed(document)

    monkeypatch.setattr(documents, "signed_document", spy)
    services.run_export(job.id)
    assert seen
    assert all(moment is not None for moment in seen)
    assert seen == sorted(seen)
    db.session.expire_all()
    assert job.progress_at is not None
    assert job.progress_at >= seen[-1]


# --- the purge ------------------------------------------------------------------------------


def test_purge_deletes_expired_files_only(client, login_as, world):
    regulator = login_as("regulator")
    old = make_done_job(regulator)
    fresh = make_done_job(regulator)
    old.expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    old_path = services.export_dir() / old.file_name
    assert services.purge_expired(now_utc()) == 1
    db.session.expire_all()
    assert old.status == ExportStatus.expired
    assert not old_path.exists()
    assert fresh.status == ExportStatus.done
    assert (services.export_dir() / fresh.file_name).exists()
    assert client.get(f"/desk/exports/{old.id}/download").status_code == 404
    assert "was deleted after 7 days" in client.get(f"/desk/exports/{old.id}").get_data(
        as_text=True
    )
    assert services.purge_expired(now_utc()) == 0


def test_status_endpoint_is_json_and_not_cached(client, login_as, world):
    regulator = login_as("regulator")
    job = make_done_job(regulator)
    response = client.get(f"/desk/exports/{job.id}/status")
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.data)["finished"] is True


# --- the commands -----------------------------------------------------------------------------


def test_commands_run_the_queue_and_purge(runner, world):
    job = make_job(world.own.admin, site=world.own.site)
    result = runner.invoke(desk_cli, ["run-exports"])
    assert result.exit_code == 0, result.output
    assert "1 export(s) run." in result.output
    db.session.expire_all()
    assert job.status == ExportStatus.done
    job.expires_at = now_utc() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(desk_cli, ["purge-exports"])
    assert "1 expired export(s) deleted." in result.output
    db.session.expire_all()
    assert job.status == ExportStatus.expired
    assert not (services.export_dir() / job.file_name).exists()


def test_a_regulator_without_a_district_may_not_export(client, world):
    org = make_org(OrgKind.regulator, district_code=None, district_name=None)
    user = make_user(org, Role.regulator)
    db.session.commit()
    log_in(client, user)
    assert client.get(NEW).status_code == 403
    assert post_export(client, "district", *services.last_month(local_today())).status_code == 403
    assert job_count() == 0
