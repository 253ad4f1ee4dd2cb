"""Page furniture for the PDF report: A4 landscape pages, headers, footers, wrapped tables.

Everything is drawn with matplotlib inside `chart_style()`, so every page embeds the bundled
CJK font and its text stays searchable in the PDF.
"""

from __future__ import annotations

import re
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


def wrap(text: str, width: int, cut: bool = True) -> str:
    """Wrap to `width` display columns: Chinese breaks between any two characters, other
    text between words (a word longer than a line is cut, unless `cut` is false), so
    "working hours" never becomes "wor king hours"; punctuation stays with its word."""
    width = max(int(width), 1)
    return _wrap(text, lambda line: text_width(line) <= width, cut)


#: Punctuation that never starts a line (it closes what stands before it) and that never ends
#: one (it opens what follows): a break goes before the opening mark or after the closing one.
CLOSING = set(")]}）〕］｝〉》」』】〗〙”’»、。，．：；！？,.;:!?%…")
OPENING = set("([{（〔［｛〈《「『【〖〘“‘«")


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _tokens(text: str) -> list[str]:
    """The pieces a line may break between: words with their trailing spaces, each wide
    (CJK) character on its own — a closing mark kept with what precedes it, an opening mark
    with what follows."""
    tokens, word = [], ""
    for ch in text:
        if ch == " " or not word or ch in CLOSING or word[-1] in OPENING:
            joins = not word.endswith(" ") or ch == " "
        else:
            joins = not (word.endswith(" ") or _wide(ch) or _wide(word[-1]))
        if joins:
            word += ch
        else:
            tokens.append(word)
            word = ch
    if word:
        tokens.append(word)
    return tokens


def _wrap(text: str, fits, cut: bool = True) -> str:
    """Wrap each paragraph of `text` greedily: a line takes tokens while ``fits(line)``; a
    token too long for a line alone is cut between characters (its closing marks kept with
    it) where `cut`, else left whole on its own line."""
    return "\n".join(line for paragraph in str(text).split("\n")
                     for line in _wrap_line(paragraph, fits, cut))


def _wrap_line(text: str, fits, cut: bool) -> list[str]:
    lines, line = [], ""
    for token in _tokens(text):
        if fits((line + token).rstrip()):
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
        while cut and len(token.rstrip()) > 1 and not fits(token.rstrip()):
            n = 1                                       # a word longer than a line
            while n < len(token) and fits(token[:n + 1]):
                n += 1
            while 1 < n < len(token) and token[n] in CLOSING:
                n -= 1                                  # no line starts with a closing mark
            lines.append(token[:n])
            token = token[n:]
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
    # words longer than `wrap_at` stay whole here: `_fit_cells` cuts only what its column,
    # measured, cannot hold
    cells = [[wrap(v, wrap_at[c], cut=False) if c in wrap_at else str(v)
              for c, v in zip(frame.columns, row)] for row in frame.itertuples(index=False)]
    header = [wrap(str(c), wrap_at.get(c, 10**9), cut=False) for c in frame.columns]
    widths = widths or [1 / len(frame.columns)] * len(frame.columns)
    table = ax.table(cellText=cells, colLabels=header, colWidths=widths, loc="upper center",
                     cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    raw = [[str(c) for c in frame.columns], *[[str(v) for v in row]
                                               for row in frame.itertuples(index=False)]]
    table.sources = raw                 # each cell's text before wrapping, for `bad_breaks`
    for (r, _c), cell in table.get_celld().items():
        cell.PAD = 0.03
        if r == 0:                                 # bold before measuring: it is wider
            cell.set_text_props(weight="bold", color=INK)
    widths = _widen(ax, table, list(widths), raw)
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
        if _width(text, renderer) > room:
            text.set_text(_wrap(raw[r][c], lambda line: _measure(text, line, renderer) <= room))


def _widen(ax, table, widths: list[float], raw: list[list[str]]) -> list[float]:
    """Column widths in which each column's longest word fits on one line, where the
    given widths leave it too narrow: the room is taken from columns with room to spare
    (in proportion to what they spare), so a word is cut only if the table has no room."""
    need = _word_room(ax, table, raw)
    short = sum(max(0.0, n - w) for n, w in zip(need, widths))
    spare = sum(max(0.0, w - n) for n, w in zip(need, widths))
    if short <= 0 or spare <= 0:
        return widths
    given = min(1.0, spare / short)      # what the short columns get of what they lack
    taken = min(1.0, short / spare)      # what the others give of what they spare
    widths = [w + (n - w) * given if n > w else w - (w - n) * taken
              for n, w in zip(need, widths)]
    for (_r, c), cell in table.get_celld().items():
        cell.set_width(widths[c])
    return widths


def _word_room(ax, table, raw: list[list[str]]) -> list[float]:
    """Each column's width (a fraction of `ax`) that holds its longest word (a token of
    `_tokens`: a Chinese character, or a word with its punctuation) on one line."""
    renderer = _renderer(ax.figure)
    axes_px = ax.get_window_extent(renderer).width
    need = {}
    for (r, c), cell in table.get_celld().items():
        text, shown = cell.get_text(), cell.get_text().get_text()
        words = {t.strip() for t in _tokens(raw[r][c].replace("\n", " ")) if t.strip()}
        widest = max((_measure(text, w, renderer) for w in words), default=0.0)
        text.set_text(shown)
        need[c] = max(need.get(c, 0.0), widest / (1 - 2 * cell.PAD) / axes_px * 1.02)
    return [need[c] for c in sorted(need)]


def _measure(text, line: str, renderer) -> float:
    """The width `line` takes drawn as `text` (its font and size); leaves `text` showing
    `line`."""
    text.set_text(line)
    return _width(text, renderer)


def _width(text, renderer) -> float:
    return text.get_window_extent(renderer).width


def fit_page(fig, smallest: float = 6.0) -> None:
    """Shrink any text that would run past its box — a page text past the page's margins, a
    text placed in an axes (a KPI tile) past the axes — down to `smallest` points; then wrap
    it between words; narrow a chart whose tick labels start left of the margin. Tables fit
    their cells as they are drawn (`draw_table`)."""
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
        _clear_left_margin(ax, renderer, page.x0 + margin)
        if ax.get_title():                   # a chart's title spans its chart, no further
            box = ax.get_window_extent(renderer)
            _shrink(ax.title, renderer, box.x0, box.x1, smallest)


def _tick_labels(ax) -> list:
    """The tick labels `ax` draws (those of ticks inside its limits, with text)."""
    shown = []
    for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
        shown += [t.label1 for t in axis.get_major_ticks()
                  if lo <= t.get_loc() <= hi and t.label1.get_visible() and t.label1.get_text()]
    return shown


def _clear_left_margin(ax, renderer, left: float) -> None:
    """Move `ax`'s left edge right (its right edge stays) until its tick labels (long names
    of people on a bar chart) start inside the page's margin."""
    if not ax.axison or not (labels := _tick_labels(ax)):
        return
    over = (left - min(t.get_window_extent(renderer).x0 for t in labels)) / ax.figure.bbox.width
    x0, y0, x1, y1 = ax.get_position().extents
    over = min(over, 0.7 * (x1 - x0))             # the chart keeps most of its width
    if over > 0.0005:
        ax.set_position([x0 + over, y0, x1 - x0 - over, y1 - y0])


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
    """Every text drawn past its box: a page text or a chart's tick label past the page, a
    chart's title wider than the chart, a text placed in an axes past the axes, a table
    cell's text past the cell (measured on the rendered figure)."""
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
        for text in _tick_labels(ax) if ax.axison else ():
            if not inside(text.get_window_extent(renderer), fig.bbox):
                found.append(f"a tick label runs off the page: {text.get_text()[:60]!r}")
        if ax.get_title():
            extent = ax.title.get_window_extent(renderer)
            if extent.x0 < ax.bbox.x0 - 1.0 or extent.x1 > ax.bbox.x1 + 1.0:
                found.append(f"a chart's title is wider than its chart: {ax.get_title()[:60]!r}")
        for table in (c for c in ax.get_children() if isinstance(c, Table)):
            if table.get_window_extent(renderer).y0 < ax.bbox.y0 - 1.0:
                found.append("a table runs past the space given to it")
            for (r, c), cell in table.get_celld().items():
                text = cell.get_text()
                if text.get_text().strip() and not inside(text.get_window_extent(renderer),
                                                          cell.get_window_extent(renderer)):
                    found.append(f"cut in its cell ({r}, {c}): {text.get_text()[:50]!r}")
    return found


def crowded(fig) -> list[str]:
    """Texts of one chart drawn over each other (two marks' labels, two points' names),
    measured on the rendered figure."""
    fig.canvas.draw()
    renderer = _renderer(fig)
    found = []
    for ax in fig.axes:
        placed = [t for t in ax.texts if t.get_text().strip() and t.get_visible()]
        extents = [t.get_window_extent(renderer) for t in placed]
        for i, (a, ea) in enumerate(zip(placed, extents)):
            for b, eb in zip(placed[i + 1:], extents[i + 1:]):
                both = ea.intersection(ea, eb)
                if both is not None and both.width > 1.0 and both.height > 1.0:
                    found.append(f"drawn over each other: {a.get_text()[:30]!r} and "
                                 f"{b.get_text()[:30]!r}")
    return found


def bad_breaks(fig) -> list[str]:
    """Every table cell's line break that a reader trips on (measured on the rendered
    figure, against the cell's text before wrapping): a line of punctuation alone, a line
    that starts with a closing mark (）。，、 ")") or ends with an opening one, a Latin word
    split although it fits its column on one line — or would, given the room the other
    columns spare."""
    from matplotlib.table import Table

    fig.canvas.draw()
    renderer = _renderer(fig)
    found = []
    for ax in fig.axes:
        for table in (c for c in ax.get_children() if isinstance(c, Table)):
            found += _table_breaks(ax, table, renderer)
    return found


def _table_breaks(ax, table, renderer) -> list[str]:
    columns = sorted({c for _r, c in table.get_celld()})
    widths = [table[0, c].get_width() for c in columns]
    # what the table could give a column (the room others spare beyond their longest word)
    spare = sum(max(0.0, w - n) for n, w in zip(_word_room(ax, table, table.sources), widths))
    spare_px = spare * ax.get_window_extent(renderer).width
    found = []
    for (r, c), cell in table.get_celld().items():
        text = cell.get_text()
        drawn, source = text.get_text(), table.sources[r][c]
        if "\n" not in drawn:
            continue
        room = (cell.get_window_extent(renderer).width + spare_px) * (1 - 2 * cell.PAD)
        for problem in _breaks(drawn, source, lambda w: _measure(text, w, renderer) <= room):
            found.append(f"cell ({r}, {c}) {drawn!r}: {problem}")
        text.set_text(drawn)
    return found


def _breaks(drawn: str, source: str, fits) -> list[str]:
    """The bad breaks of `drawn`, `source` wrapped (see `bad_breaks`)."""
    if re.sub(r"\s", "", drawn) != re.sub(r"\s", "", source):
        return ["its text is not the source's"]
    problems = []
    if re.sub(r"[\s\W]", "", source):
        problems += [f"line {line!r} is punctuation alone" for line in drawn.split("\n")
                     if line.strip() and not re.sub(r"[\s\W]", "", line)]
    where = [i for i, ch in enumerate(source) if not ch.isspace()]   # source index of each
    done = 0
    for line in drawn.split("\n")[:-1]:
        done += len(re.sub(r"\s", "", line))
        if not line.strip() or done >= len(where):
            continue
        before, after = where[done - 1], where[done]
        if after - before > 1:                      # a break where the source has a space
            continue
        a, b = source[before], source[after]
        if b in CLOSING or a in OPENING:
            problems.append(f"breaks {a + b!r} before a closing or after an opening mark")
        elif not _wide(a) and not _wide(b):
            start, end = before, after          # the Latin word around the break
            while start > 0 and not (source[start - 1].isspace() or _wide(source[start - 1])):
                start -= 1
            while end + 1 < len(source) and not (source[end + 1].isspace()
                                                 or _wide(source[end + 1])):
                end += 1
            if fits(source[start:end + 1]):
                problems.append(f"splits {source[start:end + 1]!r}, which fits its column")
    return problems
