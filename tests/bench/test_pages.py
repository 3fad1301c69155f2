"""The dashboard-page benchmark runs end to end on a tiny city (no wall-clock assertions).

Also the site filter options the dashboards build in Python for speed (dashboards/tables.py).

``measure_pages`` runs on the test's own database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set); ``run_pages``, which creates and drops its own
PostgreSQL database, runs only when TEST_DATABASE_URL names a server.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from bench import pages
from tests.conftest import TEST_DATABASE_URL

KEYS = {
    "elevators",
    "days",
    "baseline_s",
    "matrix_median_s",
    "matrix_p95_s",
    "matrix_ratio",
    "district_median_s",
    "district_p95_s",
    "district_ratio",
    "matrix_cpu_s",
    "district_cpu_s",
    "matrix_first_s",
    "district_first_s",
    "load_avg",
}


def _check(figures: dict[str, float]) -> None:
    assert set(figures) == KEYS
    assert figures["elevators"] == 16
    assert figures["days"] == 2
    for label in pages.PAGES:
        assert 0 < figures[f"{label}_median_s"] <= figures[f"{label}_p95_s"]
        assert figures[f"{label}_ratio"] > 0
        assert figures[f"{label}_cpu_s"] > 0
        assert figures[f"{label}_first_s"] > 0
    assert figures["baseline_s"] > 0


def test_p95_is_the_nearest_rank():
    samples = [float(n) for n in range(30, 0, -1)]
    assert pages.p95(samples) == 29.0
    assert pages.p95([0.5]) == 0.5


def test_one_company_holds_every_site():
    assert pages.sites_per_company(20_000) == 2500
    assert pages.sites_per_company(16) == 2
    assert pages.sites_per_company(1) == 1


def test_measure_pages_on_a_tiny_city(database_uri, capsys):
    figures = pages.measure_pages(database_uri, 16, 2, runs=2, warmup=1)
    _check(figures)
    assert "generated 16 elevators" in capsys.readouterr().out


def test_a_page_that_does_not_answer_200_fails_the_run(database_uri, monkeypatch):
    monkeypatch.setitem(pages.PAGES, "matrix", "/dashboards/district")  # the director gets 403
    with pytest.raises(RuntimeError, match="answered 403"):
        pages.measure_pages(database_uri, 16, 2, runs=1, warmup=0)


@pytest.mark.postgres_only
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_run_pages_reports_and_drops_its_database(capsys):
    assert TEST_DATABASE_URL is not None
    figures = pages.run_pages(TEST_DATABASE_URL, 16, 2)
    _check(figures)
    out = capsys.readouterr().out
    assert "GET /dashboards/matrix" in out
    assert "GET /dashboards/district" in out
    assert "target <= 150 ms" in out
    admin = create_engine(TEST_DATABASE_URL)
    try:
        with admin.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                {"name": f"benchpages_{os.getpid()}"},
            ).scalar_one()
    finally:
        admin.dispose()
    assert left == 0


def test_site_options_escape_names_and_mark_the_selected_site():
    """The site filter options built in Python for speed escape names."""
    from elevator_safety.dashboards import tables

    options = str(tables.site_options([(7, "<b>A&B</b>"), (12, "Empty")], 12))
    assert options == (
        '<option value="7">&lt;b&gt;A&amp;B&lt;/b&gt;</option>'
        '<option value="12" selected>Empty</option>'
    )
