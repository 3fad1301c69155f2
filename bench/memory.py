"""The peak memory of the measuring process itself.

``getrusage(RUSAGE_SELF).ru_maxrss`` is not that: Linux keeps the high-water
mark across ``execve``, and a child started with fork and exec begins with
its parent's resident set counted (a benchmark parent that has just
generated a city passes its 200 MB on to every measuring child). The
``VmHWM`` line of ``/proc/self/status`` belongs to the process's own address
space, created by the exec, so it is the child's own peak.
"""

from __future__ import annotations

import resource
from pathlib import Path

STATUS = Path("/proc/self/status")


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (VmHWM; ru_maxrss without /proc)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
