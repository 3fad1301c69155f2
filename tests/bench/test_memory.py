"""The measuring children report their own peak memory, not their parent's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_does_not_inherit_its_parents_peak():
    ballast = bytearray(200 * 1024 * 1024)
    for offset in range(0, len(ballast), 4096):  # touch every page: resident
        ballast[offset] = 1
    assert peak_rss_mb() >= 200
    child = subprocess.run(
        [sys.executable, "-c", "from bench.memory import peak_rss_mb; print(peak_rss_mb())"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        text=True,
    )
    del ballast
    # ru_maxrss would say 200 MB or more here (Linux keeps it across exec)
    assert 0 < float(child.stdout) < 100
