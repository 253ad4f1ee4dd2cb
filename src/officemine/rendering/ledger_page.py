"""The monthly review's 督办台账 page, drawn when a ledger is given (`report --ledger`):
what the month's weekly runs opened and struck off, what was still open at the last of them,
how long the entries struck off had stood overdue, and who holds the most open entries."""

from __future__ import annotations

import pandas as pd

from officemine.rendering.layout import INK, MUTED, draw_table, new_page, note, tile_axes, wrap
from officemine.base.text import heads, joined, say
from officemine.rendering.digest import open_frame


def ledger_month_page(report, footer: str, number: int):
    from officemine.rendering.pages import _info

    view = report.ledger_view
    lang = report.lang
    fig = new_page(_info(report, say("ledger.title", lang), footer), number)
    if not view.has_runs:
        note(fig, 0.5, 0.55, say("ledger.no_runs", lang), ha="center", fontsize=14)
        return fig
    tiles = [(say("ledger.entered", lang), f"{view.opened:,}"),
             (say("ledger.struck", lang), f"{view.closed:,}"),
             (say("ledger.open_end", lang), f"{view.still_open:,}"),
             (say("ledger.median", lang),
              "—" if view.median_days_to_close is None else
              f"{view.median_days_to_close:.1f}")]
    for i, (name, value) in enumerate(tiles):
        ax = tile_axes(fig, [0.04 + i * 0.235, 0.75, 0.215, 0.12])
        ax.text(0.06, 0.78, name, fontsize=10, color=MUTED, transform=ax.transAxes,
                va="center")
        ax.text(0.06, 0.36, value, fontsize=22, weight="bold", color=INK,
                transform=ax.transAxes, va="center")
        if i == 3:
            ax.text(0.94, 0.12, say("ledger.median_n", lang, n=view.n_closed), fontsize=8,
                    color=MUTED, transform=ax.transAxes, ha="right")
    view.plot(ax=fig.add_axes([0.12, 0.19, 0.25, 0.47]), lang=lang)
    every_open = view.summary[view.summary["open_at_month_end"]]
    open_rows = every_open.head(8)
    frame, cols = open_frame(open_rows, lang, "ledger_open", (open_rows["opened_week"],))
    fig.text(0.42, 0.70, say("ledger.open_rows", lang), fontsize=11, weight="bold", color=INK,
             va="top")
    if frame.empty:
        note(fig, 0.42, 0.66, say("ledger.none", lang), fontsize=10)
    else:
        draw_table(fig.add_axes([0.42, 0.40, 0.54, 0.27]), frame, fontsize=7.2,
                   widths=[0.17, 0.1, 0.3, 0.17, 0.1, 0.09, 0.1],
                   wrap_at={cols[2]: 30, cols[3]: 16, cols[4]: 12})
    if len(every_open) > len(open_rows):
        note(fig, 0.42, 0.385, say("ledger.more", lang, n=len(every_open) - len(open_rows)),
             fontsize=7.5)
    struck = view.summary[view.summary["closed_in_month"]].sort_values(
        "days_to_close", ascending=False, kind="stable").head(6)
    ccols = heads("ledger_struck", lang)
    cframe = pd.DataFrame({
        ccols[0]: struck["case_id"], ccols[1]: struck["process_type"].fillna("—"),
        ccols[2]: struck["title"].fillna(""),
        ccols[3]: struck["closed_at"].map(lambda t: t.strftime("%m-%d %H:%M")
                                          if pd.notna(t) else "—"),
        ccols[4]: struck["days_to_close"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")})
    fig.text(0.42, 0.35, say("ledger.struck_rows", lang), fontsize=11, weight="bold",
             color=INK, va="top")
    if cframe.empty:
        note(fig, 0.42, 0.31, say("ledger.none", lang), fontsize=10)
    else:
        draw_table(fig.add_axes([0.42, 0.10, 0.54, 0.22]), cframe, fontsize=7.2,
                   widths=[0.19, 0.11, 0.38, 0.14, 0.18], wrap_at={ccols[2]: 36})
    basis = say("ledger.basis", lang, weeks=joined(view.weeks, lang), ledger=view.ledger)
    note(fig, 0.04, 0.075, wrap(basis, 200), fontsize=7.5)
    return fig
