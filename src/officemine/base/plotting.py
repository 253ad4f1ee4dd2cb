"""Chart set-up shared by every figure: Chinese text renders on any machine.

officemine ships a CJK font (Droid Sans Fallback subset, Apache-2.0, see `fonts/README.md`)
and registers it as the fallback behind DejaVu Sans, so Latin text and digits keep
matplotlib's default face and every Chinese character finds a glyph, with or without a CJK
font installed. PDFs embed the fonts as TrueType (Type 42) so text stays searchable.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import matplotlib
from matplotlib import font_manager

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "DroidSansFallback-CJK.ttf"
CJK_FAMILY = "Droid Sans Fallback"

_STYLE = {
    "font.family": ["DejaVu Sans", CJK_FAMILY],
    "axes.unicode_minus": False,   # the CJK font lacks U+2212; use the ASCII hyphen-minus
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_registered = False


def register_font() -> None:
    """Add the bundled CJK font to matplotlib's font manager (idempotent)."""
    global _registered
    if not _registered:
        font_manager.fontManager.addfont(str(FONT_FILE))
        _registered = True


@contextmanager
def chart_style() -> Iterator[None]:
    """Use officemine's fonts and style inside a `with` block, leaving global settings alone."""
    register_font()
    # The CJK font has one weight; bold Chinese falls back to it, which is fine and need not
    # be announced for every title.
    fm_logger = logging.getLogger("matplotlib.font_manager")
    level = fm_logger.level
    fm_logger.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context(_STYLE):
            yield
    finally:
        fm_logger.setLevel(level)


def use_chart_style() -> None:
    """Apply officemine's fonts and style globally (notebooks, scripts)."""
    register_font()
    matplotlib.rcParams.update(_STYLE)


def rows_axes(ax, rows: int, *, width: float, per_row: float, **subplots):
    """The axes of a chart with a bar per row: `ax` when given, else a new figure `width`
    inches wide whose height grows by `per_row` inches a row (as if three at least) plus
    1.2 for the title and axis. Call it inside `chart_style`."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, per_row * max(rows, 3) + 1.2), **subplots)
    return ax


def empty_note(ax, text: str, **style) -> None:
    """Say in the middle of an empty chart why it is empty."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, **style)
