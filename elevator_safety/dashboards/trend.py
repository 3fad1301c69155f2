"""The 12-week compliance trend as inline SVG, drawn on the server.

No script and no ``style`` attribute (the CSP forbids them): the chart uses
SVG presentation attributes only. Weeks without elevators leave a gap.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
LEFT = 44
RIGHT = 16
TOP = 16
BOTTOM = 40
LINE = "#1f6feb"
GRID = "#d0d7de"
TEXT = "#57606a"


def _x(index: int, count: int) -> int:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index // (count - 1) if count > 1 else span // 2)


def _y(share: int) -> int:
    span = HEIGHT - TOP - BOTTOM
    return TOP + span - span * share // 100


def render(points: list[tuple[datetime, int | None]], zone: str) -> Markup:
    """Return an SVG line chart of the share (0-100 %) of compliant elevators per week end."""
    tz = ZoneInfo(zone)
    title = _("Share of fully compliant elevators at the end of each week")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" data-testid="trend-chart">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0, 25, 50, 75, 100):
        y = _y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{GRID}" '
            'stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{tick}%</text>'
        )
    count = len(points)
    segment: list[str] = []
    segments: list[list[str]] = []
    for index, (moment, share) in enumerate(points):
        x = _x(index, count)
        label = moment.astimezone(tz).strftime("%m-%d")
        parts.append(
            f'<text x="{x}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="11" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
        if share is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = _y(share)
        segment.append(f"{x},{y}")
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="4" fill="{LINE}" data-week="{escape(label)}" '
            f'data-share="{share}"><title>{escape(label)}: {share}%</title></circle>'
        )
    if segment:
        segments.append(segment)
    for points_text in segments:
        if len(points_text) > 1:
            parts.insert(
                2,
                f'<polyline points="{" ".join(points_text)}" fill="none" stroke="{LINE}" '
                'stroke-width="2"/>',
            )
    parts.append("</svg>")
    # every piece of text above went through escape(); numbers are ints
    return Markup("".join(parts))  # noqa: S704
