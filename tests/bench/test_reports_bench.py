"""The document benchmark: a tiny run of its measurements gives every figure from real PDFs.

No wall-clock assertion: the figures are only checked to exist and to come
from what the run produced (signed sheets and archive, a ZIP whose manifest
lists its PDFs), and the baseline to lay out as many pages as the app does
for the same content.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from bench.reports import Sizes, TimeLimit, _child, baseline_figures, measure_all, report
from tests.reports.helpers import pdf_text

TINY = Sizes(elevators=3, bulk=3, year_days=3, sheets=4, month_samples=2)
KEYS = {
    "sheet_median_s",
    "sheet_p95_s",
    "sheet_render_median_s",
    "sheet_sign_median_s",
    "archive_s",
    "archive_render_s",
    "archive_sign_s",
    "archive_pages",
    "archive_rss_peak_mb",
    "bulk_s",
    "bulk_archives_per_s",
    "bulk_rss_peak_mb",
    "bulk_rss_tenth_mb",
    "bulk_worker_rss_peak_mb",
    "bulk_total_rss_peak_mb",
    "bulk_total_pss_peak_mb",
    "baseline_sheet_median_s",
    "baseline_archive_s",
    "baseline_archive_pages",
    "baseline_month_s",
    "baseline_month_pages",
    "baseline_rss_peak_mb",
}


def signed_pages(data: bytes) -> int:
    """Return the pages of a PDF that carries exactly one embedded signature."""
    reader = PdfFileReader(io.BytesIO(data))
    assert len(reader.embedded_signatures) == 1
    return int(reader.root["/Pages"]["/Count"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, float], Path]:
    """Fill a SQLite database and measure in this process (once for the module's tests)."""
    folder = tmp_path_factory.mktemp("bench-reports")
    figures = measure_all(f"sqlite:///{folder / 'bench.sqlite'}", TINY, folder, spawn=False)
    return figures, folder


def test_every_figure_comes_back(run):
    figures, _folder = run
    assert figures.keys() >= KEYS
    assert figures["sheets"] == TINY.sheets
    assert figures["sheet_patrol_pages"] >= 1
    assert figures["sheet_maintenance_pages"] >= 1
    assert figures["bulk_archives"] == figures["district_elevators"] == TINY.elevators
    # The export ran as configured by default: two processes, a host and the worker it forks
    # (and multiprocessing's resource tracker), all sampled.
    assert figures["bulk_processes"] == 2
    assert figures["bulk_workers_seen"] >= 2
    assert figures["bulk_total_rss_peak_mb"] > figures["bulk_worker_rss_peak_mb"] > 0
    # PSS divides each shared page among its sharers: never more than the RSS, never nothing.
    assert 0 < figures["bulk_total_pss_peak_mb"] <= figures["bulk_total_rss_peak_mb"]
    assert figures["year_records"] == figures["archive_records"]


def test_the_documents_are_signed_pdfs(run):
    figures, folder = run
    for kind in ("patrol", "maintenance"):
        data = (folder / f"sheet-{kind}.pdf").read_bytes()
        assert signed_pages(data) == figures[f"sheet_{kind}_pages"]
    archive = (folder / "archive-year.pdf").read_bytes()
    assert signed_pages(archive) == figures["archive_pages"]
    text = pdf_text(archive)
    assert "停用与困人报告" in text  # the lockouts written through the services
    assert "整改通知与闭环" in text  # and the rectifications


def test_the_export_zip_holds_the_archives_and_its_manifest(run):
    figures, folder = run
    (path,) = (folder / "exports").glob("*.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        manifest = archive.read("manifest.csv").decode("utf-8").splitlines()[1:]
        assert sorted(line.split(",")[0] for line in manifest) == sorted(pdfs)
        assert len([n for n in pdfs if n.startswith("archives/")]) == TINY.elevators
        for name in pdfs:
            assert signed_pages(archive.read(name)) >= 1
    assert figures["zip_entries"] == figures["zip_pdfs"] == len(pdfs)
    assert figures["manifest_ok"] == 1.0


def test_the_baseline_lays_out_as_many_pages(run):
    figures, _folder = run
    app_pages, base_pages = figures["bulk_first_archive_pages"], figures["baseline_month_pages"]
    assert abs(app_pages - base_pages) <= max(2.0, 0.2 * app_pages)
    app_year, base_year = figures["archive_pages"], figures["baseline_archive_pages"]
    assert abs(app_year - base_year) <= max(2.0, 0.2 * app_year)


def test_the_baseline_runs_in_a_process_of_its_own(run):
    _figures, folder = run
    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    spec["sheet_shapes"] = spec["sheet_shapes"][:1]
    spec["month_shapes"] = spec["month_shapes"][:1]
    path = folder / "spec-small.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    figures = baseline_figures(_child("bench.reportlab_baseline", str(path)))
    assert figures["baseline_archive_pages"] >= 1
    assert figures["baseline_rss_peak_mb"] > 0


def test_the_report_prints_each_target_with_its_verdict(run, capsys):
    figures, _folder = run
    report(figures, "SQLite")
    out = capsys.readouterr().out
    for text in ("record sheet", "one-year archive", "bulk export", "peak RSS"):
        assert text in out
    lines = [line for line in out.splitlines() if "target" in line]
    assert len(lines) == 7  # with the bulk export's rendering processes and their sum
    assert all(line.endswith(("OK", "MISSED")) for line in lines)
    assert all("ratio to baseline" in line for line in lines if "RSS" not in line)


def test_a_measurement_over_its_limit_is_stopped_and_reported_missed(run, capsys):
    figures, folder = run
    with pytest.raises(TimeLimit):
        _child("bench.reportlab_baseline", str(folder / "spec.json"), limit_s=0.05)
    stopped = {k: v for k, v in figures.items() if not k.startswith("archive_")}
    stopped["archive_limit_s"] = 600.0
    report(stopped, "SQLite")
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "did not finish" in line]
    assert line.startswith("one-year archive (SQLite, 3 elevators): did not finish within 600 s")
    assert line.endswith("MISSED")
    assert "peak RSS of the archive's process" not in out
