"""The monthly review's 督办台账 page, drawn when a ledger is given (`report --ledger`):
what the month's weekly runs opened and struck off, what was still open at the last of them,
how long the entries struck off had stood overdue, and who holds the most open entries."""

from __future__ import annotations

import pandas as pd

from officemine.rendering.layout import INK, MUTED, draw_table, new_page, note, tile_axes, wrap


def ledger_month_page(report, footer: str, number: int):
    from officemine.rendering.pages import _info

    view = report.ledger_view
    zh = report.lang == "zh"
    title = "督办台账：本月列入、销号与在办" if zh else "Supervision ledger: the month"
    fig = new_page(_info(report, title, footer), number)
    if not view.has_runs:
        note(fig, 0.5, 0.55, ("台账本月没有周运行记录。" if zh else
                              "The ledger has no weekly run this month."),
             ha="center", fontsize=14)
        return fig
    tiles = [("本月列入" if zh else "Entered", f"{view.opened:,}"),
             ("本月销号" if zh else "Struck off", f"{view.closed:,}"),
             ("月末在办" if zh else "Open at month end", f"{view.still_open:,}"),
             ("销号事项超期中位数" if zh else "Median overdue until struck off",
              "—" if view.median_days_to_close is None else
              f"{view.median_days_to_close:.1f}")]
    for i, (name, value) in enumerate(tiles):
        ax = tile_axes(fig, [0.04 + i * 0.235, 0.75, 0.215, 0.12])
        ax.text(0.06, 0.78, name, fontsize=10, color=MUTED, transform=ax.transAxes,
                va="center")
        ax.text(0.06, 0.36, value, fontsize=22, weight="bold", color=INK,
                transform=ax.transAxes, va="center")
        if i == 3:
            ax.text(0.94, 0.12, (f"工作日，n={view.n_closed}" if zh else
                                 f"working days, n={view.n_closed}"), fontsize=8, color=MUTED,
                    transform=ax.transAxes, ha="right")
    view.plot(ax=fig.add_axes([0.12, 0.19, 0.25, 0.47]), lang=report.lang)
    every_open = view.summary[view.summary["open_at_month_end"]]
    open_rows = every_open.head(8)
    cols = (["流程编号", "流程类型", "标题", "当前环节", "办理人", "超期工作日", "列入周"] if zh else
            ["case", "process", "title", "held at", "responsible", "days overdue", "entered"])
    frame = pd.DataFrame({
        cols[0]: open_rows["case_id"], cols[1]: open_rows["process_type"].fillna("—"),
        cols[2]: open_rows["title"].fillna(""), cols[3]: open_rows["current_step"].fillna("—"),
        cols[4]: open_rows["responsible"].fillna("—"),
        cols[5]: open_rows["days_overdue"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
        cols[6]: open_rows["opened_week"]})
    fig.text(0.42, 0.70, "月末在办的超期事项" if zh else "Open at the month's last run",
             fontsize=11, weight="bold", color=INK, va="top")
    if frame.empty:
        note(fig, 0.42, 0.66, "无" if zh else "none", fontsize=10)
    else:
        draw_table(fig.add_axes([0.42, 0.40, 0.54, 0.27]), frame, fontsize=7.2,
                   widths=[0.17, 0.1, 0.3, 0.17, 0.1, 0.09, 0.1],
                   wrap_at={cols[2]: 30, cols[3]: 16, cols[4]: 12})
    if len(every_open) > len(open_rows):
        note(fig, 0.42, 0.385, (f"另有 {len(every_open) - len(open_rows)} 件见 Excel 附表。"
                                if zh else f"{len(every_open) - len(open_rows)} more in the "
                                "workbook."), fontsize=7.5)
    struck = view.summary[view.summary["closed_in_month"]].sort_values(
        "days_to_close", ascending=False, kind="stable").head(6)
    ccols = (["流程编号", "流程类型", "标题", "办结时间", "超期至办结（工作日）"] if zh else
             ["case", "process", "title", "ended", "overdue until it ended (working days)"])
    cframe = pd.DataFrame({
        ccols[0]: struck["case_id"], ccols[1]: struck["process_type"].fillna("—"),
        ccols[2]: struck["title"].fillna(""),
        ccols[3]: struck["closed_at"].map(lambda t: t.strftime("%m-%d %H:%M")
                                          if pd.notna(t) else "—"),
        ccols[4]: struck["days_to_close"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}")})
    fig.text(0.42, 0.35, "本月销号中超期最久的事项" if zh else "Struck off, longest overdue first",
             fontsize=11, weight="bold", color=INK, va="top")
    if cframe.empty:
        note(fig, 0.42, 0.31, "无" if zh else "none", fontsize=10)
    else:
        draw_table(fig.add_axes([0.42, 0.10, 0.54, 0.22]), cframe, fontsize=7.2,
                   widths=[0.19, 0.11, 0.38, 0.14, 0.18], wrap_at={ccols[2]: 36})
    weeks = "、".join(view.weeks) if zh else ", ".join(view.weeks)
    basis = (f"口径：本月的周运行 {weeks}（台账 {view.ledger}）。列入、销号按周运行计；销号事项的超期时长"
             "为应办结时间至流程办结的工作日；月末在办为本月最后一次运行时仍在账的事项。" if zh else
             f"Basis: the month's weekly runs {weeks} (ledger {view.ledger}). Entered and "
             "struck off as recorded by those runs; time overdue is working days from the due "
             "time to the case's end; open = on the ledger at the month's last run.")
    note(fig, 0.04, 0.075, wrap(basis, 200), fontsize=7.5)
    return fig
