"""The weekly 督办 digest's files: one A4 PDF page, its JSON and its workbook.

What goes on the page (the week's counts, the open entries most overdue first, the entries
struck off, what was left out) is decided by the functions below from a `WeeklyDigest`;
`digest_pdf` only places and draws it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from officemine.base.atomic import atomic_paths, write_text
from officemine.base.choices import Lang
from officemine.base.plotting import chart_style
from officemine.base.version import __version__
from officemine.rendering.companion import write_xlsx
from officemine.rendering.layout import (INK, MUTED, PageInfo, draw_table, fit_page, new_page,
                                         note, tile_axes, wrap)
from officemine.base.text import heads, in_lang, say, stored_step, word
from officemine.supervision.digest import WeeklyDigest, days_text

#: How many entries of each kind the page shows; the rest is in the workbook.
OPEN_SHOWN = 12
CLOSED_SHOWN = 5


def write_digest(digest: WeeklyDigest, folder: str | Path, stem: str | None = None,
                 lang: Lang = "zh", inputs=()) -> dict[str, Path]:
    """Write ``<stem>.pdf``, ``.json`` and ``.xlsx`` (default stem
    ``supervision_2025-W15``) into `folder`; replaced together once all are complete."""
    folder = Path(folder)
    stem = stem or f"supervision_{digest.week}"
    paths = {kind: folder / f"{stem}.{kind}" for kind in ("pdf", "json", "xlsx")}
    with atomic_paths(*paths.values(), inputs=inputs) as (pdf, json_file, xlsx):
        digest_pdf(digest, pdf, lang)
        write_text(json_file, digest.to_json())
        write_xlsx(digest.tables(lang), xlsx)
    return paths


def _tiles(digest: WeeklyDigest, lang: Lang) -> list[tuple[str, int]]:
    """The week's counts, as (name, value) tiles."""
    c = digest.counts
    return [(word("section", "new", lang), c["opened"]),
            (word("section", "open", lang), c["carried"]),
            (word("section", "closed", lang), c["closed"]),
            (say("digest.open_on_ledger", lang), c["open_after"])]


def open_frame(shown: pd.DataFrame, lang: Lang, table: str = "digest_open",
               more: tuple[pd.Series, ...] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Open ledger entries `shown` as a page's table (the digest's, or the review's ledger
    page's: `table` names its headings), and its column names: case, type, title, where
    and by whom held, days overdue, then `more` (default: the digest's weeks on the ledger
    and state)."""
    if more is None:
        more = (shown["weeks_on_ledger"].astype(str),
                shown["state"].map(lambda v: word("state", v, lang)))
    cols = heads(table, lang)
    frame = pd.DataFrame(dict(zip(cols, (
        shown["case_id"], shown["process_type"].fillna("—"), shown["title"].fillna(""),
        shown["current_step"].map(lambda v: stored_step(v, lang)).fillna("—"),
        shown["responsible"].fillna("—"), shown["days_overdue"].map(days_text), *more))))
    return frame, cols


def _closed_frame(closed: pd.DataFrame, lang: Lang) -> tuple[pd.DataFrame, list[str]]:
    """The entries struck off shown, as the page's table, and its column names."""
    ccols = heads("digest_closed", lang)
    cframe = pd.DataFrame({
        ccols[0]: closed["case_id"], ccols[1]: closed["process_type"].fillna("—"),
        ccols[2]: closed["title"].fillna(""),
        ccols[3]: closed["closed_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M")
                                          if pd.notna(t) else "—"),
        ccols[4]: closed["close_status"].map(
            lambda v: word("close_status", v, lang)).fillna("—"),
        ccols[5]: closed["days_to_close"].map(days_text)})
    return cframe, ccols


def _left_out(digest: WeeklyDigest, n_open: int, n_open_shown: int, n_closed_shown: int,
              lang: Lang) -> str:
    """The page's closing note: how many entries are only in the workbook, and the first
    notes of the run."""
    more = []
    if n_open > n_open_shown:
        more.append(say("digest.more_open", lang, n=n_open - n_open_shown))
    n_closed = len(digest.section("closed"))
    if n_closed > n_closed_shown:
        more.append(say("digest.more_closed", lang, n=n_closed - n_closed_shown))
    tail = say("digest.see_workbook", lang) if more else ""
    extra = say("list.semi", lang).join(more) + tail
    notes = " ".join(in_lang(n, lang) for n in digest.notes[:2])
    return (extra + " " + notes).strip()


def digest_pdf(digest: WeeklyDigest, path: Path, lang: Lang = "zh") -> Path:
    """The digest on one A4 page: the week's counts, the open entries (most overdue
    first) and the entries struck off; the rest is in the workbook."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    footer = say("digest.footer", lang, v=__version__, ledger=Path(digest.ledger).name,
                 today=dt.date.today().isoformat())
    subtitle = say("digest.subtitle", lang, calendar=digest.calendar_in(lang).split(';')[0])
    open_rows = digest.summary[digest.summary["section"] != "closed"]
    shown = open_rows.head(OPEN_SHOWN)
    closed = digest.section("closed").head(CLOSED_SHOWN)
    frame, cols = open_frame(shown, lang)
    cframe, ccols = _closed_frame(closed, lang)
    with chart_style(), PdfPages(path, metadata={"Title": digest.title(lang)}) as pdf:
        fig = new_page(PageInfo(digest.title(lang), subtitle, footer), 1)
        for i, (name, value) in enumerate(_tiles(digest, lang)):
            ax = tile_axes(fig, [0.04 + i * 0.235, 0.77, 0.215, 0.10])
            ax.text(0.06, 0.75, name, fontsize=10, color=MUTED, transform=ax.transAxes,
                    va="center")
            ax.text(0.06, 0.32, f"{value:,}", fontsize=20, weight="bold", color=INK,
                    transform=ax.transAxes, va="center")
        fig.text(0.04, 0.745, say("digest.open_rows", lang),
                 fontsize=11, weight="bold", color=INK, va="top")
        if frame.empty:
            note(fig, 0.05, 0.70, say("ledger.none", lang), fontsize=10)
        else:
            draw_table(fig.add_axes([0.04, 0.33, 0.92, 0.385]), frame, fontsize=7.3,
                       widths=[0.13, 0.08, 0.30, 0.16, 0.10, 0.08, 0.06, 0.07],
                       wrap_at={cols[2]: 52, cols[3]: 28, cols[4]: 16})
        fig.text(0.04, 0.31, word("section", "closed", lang), fontsize=11, weight="bold",
                 color=INK, va="top")
        if cframe.empty:
            note(fig, 0.05, 0.27, say("ledger.none", lang), fontsize=10)
        else:
            draw_table(fig.add_axes([0.04, 0.095, 0.92, 0.185]), cframe, fontsize=7.3,
                       widths=[0.13, 0.08, 0.39, 0.14, 0.08, 0.18],
                       wrap_at={ccols[2]: 70})
        left_out = _left_out(digest, len(open_rows), len(shown), len(closed), lang)
        note(fig, 0.04, 0.078, wrap(left_out, 200), fontsize=7)
        fit_page(fig)
        pdf.savefig(fig)
        plt.close(fig)
    return path
