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
    """Wrap to `width` display columns: Chinese breaks between any two characters, other
    text between words (a word longer than a line is cut), so "working hours" never
    becomes "wor king hours"."""
    out = []
    for paragraph in str(text).split("\n"):
        out.extend(_wrap_line(paragraph, width))
    return "\n".join(out)


def _tokens(text: str) -> list[str]:
    """Words with their trailing spaces, and each wide (CJK) character on its own."""
    tokens, word = [], ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch != " " and word.endswith(" "):
            tokens.append(word)
            word = ch
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def _wrap_line(text: str, width: int) -> list[str]:
    lines, line = [], ""
    width = max(int(width), 1)
    for token in _tokens(text):
        if text_width((line + token).rstrip()) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
        while text_width(token.rstrip()) > width:        # a word longer than a line
            cut, used = "", 0
            for ch in token:
                w = text_width(ch)
                if used + w > width and cut:
                    break
                cut += ch
                used += w
            lines.append(cut)
            token = token[len(cut):]
        line = token.lstrip()
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


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
    raw = [[str(c) for c in frame.columns], *[[str(v) for v in row]
                                               for row in frame.itertuples(index=False)]]
    for (r, _c), cell in table.get_celld().items():
        cell.PAD = 0.03
        if r == 0:                                 # bold before measuring: it is wider
            cell.set_text_props(weight="bold", color=INK)
    height_in = ax.get_position().height * ax.figure.get_size_inches()[1]
    while True:      # re-wrap what is wider than its column; smaller type if taller than ax
        _fit_cells(ax, table, widths, raw)
        cells = [[table[r, c].get_text().get_text() for c in range(len(frame.columns))]
                 for r in range(1, len(frame) + 1)]
        header = [table[0, c].get_text().get_text() for c in range(len(frame.columns))]
        line = fontsize * 1.45 / 72 / height_in    # one text line, as a fraction of the axes
        pad = fontsize * 0.9 / 72 / height_in
        row_lines = _lines(cells)
        head_lines = max(h.count("\n") + 1 for h in header)
        total = line * (head_lines + sum(row_lines)) + pad * (len(row_lines) + 1)
        if total <= 1.0 - table.AXESPAD or fontsize <= 5.0:
            break
        fontsize = max(5.0, fontsize * min(0.97, max(0.85, (1.0 - table.AXESPAD) / total)))
        table.set_fontsize(fontsize)
    for (r, _c), cell in table.get_celld().items():
        cell.set_edgecolor(RULE)
        cell.set_linewidth(0.6)
        if r == 0:
            cell.set_facecolor(header_colour)
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


def tile_axes(fig, rect):
    """An empty axes at `rect` (figure fractions) framed by a thin rule: the box of a
    headline number."""
    ax = fig.add_axes(rect)
    ax.set_xticks([]), ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(RULE)
    return ax


def note(fig, x, y, text, **kw):
    kw.setdefault("fontsize", 8.5)
    kw.setdefault("color", MUTED)
    kw.setdefault("va", "top")
    return fig.text(x, y, text, **kw)


# --- text that fits its box ----------------------------------------------------------------------

def _renderer(fig):
    return fig.canvas.get_renderer()


def _fit_cells(ax, table, widths: list[float], raw: list[list[str]]) -> None:
    """Re-wrap every cell whose text is wider than its column (between words, or between
    Chinese characters), measured with the font it is drawn in."""
    renderer = _renderer(ax.figure)
    axes_px = ax.get_window_extent(renderer).width
    for (r, c), cell in table.get_celld().items():
        text = cell.get_text()
        room = widths[c] * axes_px * (1 - 2 * cell.PAD)
        if _width(text, renderer) <= room:
            continue
        source = raw[r][c]
        columns = max(text_width(line) for line in text.get_text().split("\n")) or 1
        while columns > 1:
            columns = max(1, int(columns * min(0.9, room / max(_width(text, renderer), 1))))
            text.set_text(wrap(source, columns))
            if _width(text, renderer) <= room:
                break


def _width(text, renderer) -> float:
    return text.get_window_extent(renderer).width


def fit_page(fig, smallest: float = 6.0) -> None:
    """Shrink any text that would run past its box — a page text past the page's margins, a
    text placed in an axes (a KPI tile) past the axes — down to `smallest` points; then wrap
    it between words. Tables fit their cells as they are drawn (`draw_table`)."""
    renderer = _renderer(fig)
    page = fig.bbox
    margin = 0.04 * page.width
    for text in fig.texts:
        _shrink(text, renderer, page.x0 + margin, page.x1 - margin, smallest)
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        pad = 0.04 * box.width
        for text in ax.texts:
            if text.get_transform() == ax.transAxes:
                _shrink(text, renderer, box.x0 + pad, box.x1 - pad, smallest)


def _shrink(text, renderer, left: float, right: float, smallest: float) -> None:
    if not text.get_text().strip() or not text.get_visible():
        return
    size = text.get_fontsize()
    while size > smallest:
        extent = text.get_window_extent(renderer)
        if extent.x0 >= left - 0.5 and extent.x1 <= right + 0.5:
            return
        size = max(smallest, size * 0.92)
        text.set_fontsize(size)
    extent = text.get_window_extent(renderer)
    if extent.x0 < left - 0.5 or extent.x1 > right + 0.5:
        columns = max(text_width(line) for line in text.get_text().split("\n"))
        text.set_text(wrap(text.get_text(), max(1, int(columns * (right - left)
                                                            / max(extent.width, 1)))))


def overflows(fig) -> list[str]:
    """Every text drawn past its box: a page text past the page, a text placed in an axes
    past the axes, a table cell's text past the cell (measured on the rendered figure)."""
    from matplotlib.table import Table

    fig.canvas.draw()
    renderer = _renderer(fig)
    found = []

    def inside(extent, box, slack=1.0) -> bool:
        return (extent.x0 >= box.x0 - slack and extent.x1 <= box.x1 + slack
                and extent.y0 >= box.y0 - slack and extent.y1 <= box.y1 + slack)

    for text in fig.texts:
        if text.get_text().strip() and not inside(text.get_window_extent(renderer), fig.bbox):
            found.append(f"runs off the page: {text.get_text()[:60]!r}")
    for ax in fig.axes:
        for text in ax.texts:
            if (text.get_text().strip() and text.get_transform() == ax.transAxes
                    and not inside(text.get_window_extent(renderer), ax.bbox)):
                found.append(f"past its box: {text.get_text()[:60]!r}")
        for table in (c for c in ax.get_children() if isinstance(c, Table)):
            if table.get_window_extent(renderer).y0 < ax.bbox.y0 - 1.0:
                found.append("a table runs past the space given to it")
            for (r, c), cell in table.get_celld().items():
                text = cell.get_text()
                if text.get_text().strip() and not inside(text.get_window_extent(renderer),
                                                          cell.get_window_extent(renderer)):
                    found.append(f"cut in its cell ({r}, {c}): {text.get_text()[:50]!r}")
    return found
