"""The fonts every PDF is written in: a TrueType CJK font, embedded, never a built-in one.

Chinese must print on any reader and printer, so the text is written in a
TrueType face embedded (as a subset) in the file: by default WenQuanYi Micro
Hei, the first face of Debian's ``fonts-wqy-microhei`` collection (``.ttc``),
found on the usual system paths; ``REPORT_FONT_PATH`` names another TrueType
file or collection. The hashes and page numbers (``Fonts.mono``) use the same
face: the collection's Micro Hei Mono would cost another 22 MB per process.
A missing or unreadable font stops generation with a message that says how to
install one: the non-embedded ``STSong-Light`` and the built-in
Helvetica/Courier are never used as a fallback.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from elevator_safety.errors import DomainError

#: Where the font is looked for when REPORT_FONT_PATH is empty (Debian, Fedora, others).
SEARCH_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/local/share/fonts/wqy-microhei.ttc",
)

_lock = threading.Lock()
_registered: dict[str, Fonts] = {}


class FontMissing(DomainError):
    """No usable TrueType CJK font: the message says how to install one or configure it."""


@dataclass(frozen=True)
class Fonts:
    """Names of the registered faces: the text font, and the font of hashes and page numbers."""

    text: str
    mono: str
    path: str


def _missing(detail: str) -> FontMissing:
    return FontMissing(
        _(
            "No Chinese font for the PDF documents: %(detail)s. Install it with "
            "'apt-get install fonts-wqy-microhei', or set REPORT_FONT_PATH to a TrueType "
            "font file (.ttf or .ttc) that has Chinese characters.",
            detail=detail,
        )
    )


def font_path() -> Path:
    """Return the configured font file, or the first one found on the usual paths."""
    configured = str(current_app.config.get("REPORT_FONT_PATH") or "").strip()
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise _missing(_("REPORT_FONT_PATH names %(path)s, which does not exist", path=path))
        return path
    for candidate in SEARCH_PATHS:
        path = Path(candidate)
        if path.is_file():
            return path
    raise _missing(_("WenQuanYi Micro Hei was not found"))


def _face(name: str, path: Path, index: int) -> TTFont:
    try:
        return TTFont(name, str(path), subfontIndex=index)
    except (TTFError, OSError, ValueError, IndexError) as error:
        raise _missing(
            _("%(path)s is not a usable TrueType font (%(error)s)", path=path, error=error)
        ) from error


def _register(path: Path) -> Fonts:
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    text = _face(f"ESText-{tag}", path, 0)
    pdfmetrics.registerFont(text)
    # One face for everything: each TrueType face ReportLab parses holds about
    # 22 MB, and the one-year archive must stay under 200 MB (docs/performance.md).
    fonts = Fonts(text=text.fontName, mono=text.fontName, path=str(path))
    # <b> and <i> in paragraphs stay in the embedded face (there is no bold CJK face).
    for name in {fonts.text, fonts.mono}:
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(name, bold, italic, name)
    return fonts


def register_fonts() -> Fonts:
    """Register the fonts once per font file and return their names (FontMissing without)."""
    path = font_path()
    key = str(path.resolve())
    with _lock:
        fonts = _registered.get(key)
        if fonts is None:
            fonts = _register(path)
            _registered[key] = fonts
    return fonts
