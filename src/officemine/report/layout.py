"""Page furniture for the PDF report: A4 landscape pages, headers, footers, wrapped tables.

Everything is drawn with matplotlib inside `chart_style()`, so every page embeds the bundled
CJK font and its text stays searchable in the PDF.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

A4_LANDSCAPE = (11.69, 8.27)
INK = "#212529"
MUTED = "#6c757d"
ACCENT = "#1864ab"
GOOD = "#2b8a3e"
BAD = "#c92a2a"
RULE = "#dee2e6"


@dataclass
class PageInfo:
    title: str
    subtitle: str
    footer: str


def new_page(info: PageInfo, number: int, total_hint: str = ""):
    """A blank A4 landscape figure with the header and footer drawn; returns the figure."""
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.04, 0.955, info.title, fontsize=17, weight="bold", color=INK, va="top")
    fig.text(0.04, 0.912, info.subtitle, fontsize=10, color=MUTED, va="top")
    fig.add_artist(plt.Line2D([0.04, 0.96], [0.895, 0.895], color=RULE, lw=1))
    fig.text(0.04, 0.025, info.footer, fontsize=7.5, color=MUTED, va="bottom")
    fig.text(0.96, 0.025, f"{number}{total_hint}", fontsize=8, color=MUTED, ha="right",
             va="bottom")
    return fig


def text_width(text: str) -> int:
    """Display width: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def wrap(text: str, width: int) -> str:
    """Wrap to `width` display columns, breaking anywhere (Chinese has no spaces)."""
    lines, line, used = [], "", 0
    for ch in str(text):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width and line:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += w
    if line:
        lines.append(line)
    return "\n".join(lines)


def _lines(cells: list[list[str]]) -> list[int]:
    return [max(str(c).count("\n") + 1 for c in row) for row in cells]


def draw_table(ax, frame: pd.DataFrame, widths: list[float] | None = None, fontsize=8.0,
               wrap_at: dict[str, int] | None = None, highlight: dict[int, str] | None = None,
               header_colour: str = "#f1f3f5") -> None:
    """A clean table at the top of `ax`: header shaded, long text wrapped, rows sized to
    their text in physical units (so a short table is not squashed, a long one is the
    caller's to paginate with `split_rows`)."""
    ax.axis("off")
    if frame.empty:
        return
    wrap_at = wrap_at or {}
    cells = [[wrap(v, wrap_at[c]) if c in wrap_at else str(v) for c, v in zip(frame.columns, row)]
             for row in frame.itertuples(index=False)]
    header = [wrap(str(c), wrap_at.get(c, 10**9)) for c in frame.columns]
    widths = widths or [1 / len(frame.columns)] * len(frame.columns)
    table = ax.table(cellText=cells, colLabels=header, colWidths=widths, loc="upper center",
                     cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    height_in = ax.get_position().height * ax.figure.get_size_inches()[1]
    line = fontsize * 1.45 / 72 / height_in        # one text line, as a fraction of the axes
    pad = fontsize * 0.9 / 72 / height_in
    row_lines = _lines(cells)
    head_lines = max(h.count("\n") + 1 for h in header)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor(RULE)
        cell.set_linewidth(0.6)
        cell.PAD = 0.03
        if r == 0:
            cell.set_facecolor(header_colour)
            cell.set_text_props(weight="bold", color=INK)
            cell.set_height(line * head_lines + pad)
        else:
            cell.set_height(line * row_lines[r - 1] + pad)
            if highlight and (r - 1) in highlight:
                cell.set_facecolor(highlight[r - 1])


def split_rows(frame: pd.DataFrame, height_in: float, fontsize: float,
               wrap_at: dict[str, int]) -> list[pd.DataFrame]:
    """Cut `frame` into pieces whose wrapped rows fit `height_in` inches at `fontsize`."""
    line = fontsize * 1.45 / 72
    pad = fontsize * 0.9 / 72
    budget = height_in - (line + pad) * 1.5            # the header
    pieces, start, used = [], 0, 0.0
    for i, row in enumerate(frame.itertuples(index=False)):
        lines = max(wrap(v, wrap_at[c]).count("\n") + 1 if c in wrap_at else 1
                    for c, v in zip(frame.columns, row))
        need = line * lines + pad
        if used + need > budget and i > start:
            pieces.append(frame.iloc[start:i])
            start, used = i, 0.0
        used += need
    pieces.append(frame.iloc[start:])
    return pieces


def note(fig, x, y, text, **kw):
    kw.setdefault("fontsize", 8.5)
    kw.setdefault("color", MUTED)
    kw.setdefault("va", "top")
    return fig.text(x, y, text, **kw)
