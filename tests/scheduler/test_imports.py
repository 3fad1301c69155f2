"""The scheduler's process does not load the PDF libraries: its workers render, not it.

ReportLab, pyHanko, pypdf, Pillow and segno take about 40 MB in a process.
A bulk export's memory is the scheduler's plus its workers' (docs/performance.md),
so the app and the scheduler's jobs load them only where a document, a PDF
check, a photo or a QR code is made. Checked in a fresh interpreter: this test
session has long loaded them all.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PDF_LIBRARIES = ("reportlab", "pyhanko", "pyhanko_certvalidator", "pypdf", "PIL", "segno")

LOADED = """
import json, sys
from elevator_safety import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
with app.app_context():
    import elevator_safety.scheduler.cli, elevator_safety.scheduler.jobs
    import elevator_safety.desk.services, elevator_safety.desk.documents
    BODY
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(LIBRARIES))))
"""


def loaded_after(body: str = "pass") -> list[str]:
    """Return the PDF libraries a fresh interpreter holds after building the app and ``body``."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [
            sys.executable,
            "-c",
            LOADED.replace("BODY", body).replace("LIBRARIES", repr(PDF_LIBRARIES)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_the_app_and_the_scheduler_jobs_load_no_pdf_library() -> None:
    assert loaded_after() == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "from elevator_safety.reports import render",
            ["PIL", "pyhanko", "pyhanko_certvalidator", "pypdf", "reportlab", "segno"],
        ),
        ("from elevator_safety.patrols.views import qr_svg; qr_svg('x', 't')", ["segno"]),
    ],
)
def test_the_check_sees_a_library_once_it_is_loaded(body: str, expected: list[str]) -> None:
    # The same check after a document module is imported: it would see a top-level import.
    assert loaded_after(body) == expected
