"""The pages of the PDF dashboard, in the order a manager reads them.

Each page answers one question; the cover answers "how did this month go" in one minute.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from officemine.base.version import __version__  # noqa: E402
from officemine.base.atomic import atomic_path  # noqa: E402
from officemine.base.plotting import chart_style  # noqa: E402
from officemine.rendering.layout import (ACCENT, BAD, GOOD, INK, MUTED, PageInfo,  # noqa: E402
                                         draw_table, fit_page, new_page, note, split_rows,
                                         tile_axes, wrap)

T = {
    "zh": {
        "title": "月度流程效能评估", "cover_sub": "{org}{month} · 数据截至 {asof} · {cases:,} 件 · 日历：{cal}",
        "mom": "环比", "yoy": "同比", "headlines": "本月要点",
        "trends": "近 12 个月趋势", "map": "本月流程图（本月办结的件）",
        "necessity": "审批节点必要性检验（{a} 至 {b} 办结的件）", "necessity_table": "节点必要性结论",
        "bottlenecks": "瓶颈：造成等待最多的节点与审批人（本月，工作小时）",
        "ledger": "督办清单：超期未办结事项（一事一档，按超期时长排序）",
        "scenario": "改革方案测算：{name}", "before_after": "改革前后对比：{name}（{date} 起）",
        "quality": "数据质量与方法说明", "no_data": "本月无数据", "page": "第 {n} 页",
        "footer": "officemine {v} · 生成于 {today} · 来源：{src}{pseudo}",
        "pseudo": " · 人员已匿名化", "none": "（无）",
        "no_overdue": "本月末没有超过时限的在办事项。",
        "more_rows": "另有 {n} 行见 Excel 附表。",
        "verdict": {"keep": "保留", "streamline": "精简/备案", "notice": "一次性告知",
                    "insufficient_data": "数据不足"},
        "cols_nec": ["节点", "审批件数", "退回/否决率 (95%区间)", "中位等待(工作小时)", "等待占比",
                     "结论", "理由"],
        "cols_ledger": ["流程编号", "流程类型", "标题", "当前节点", "当前办理人（到达时间）",
                        "主要延误环节（办理人，工作日）", "已用工作日", "时限", "超期工作日", "催办"],
        "cols_bn_node": ["节点", "等待合计(工作小时)", "占比", "件数", "待办", "中位等待"],
        "cols_bn_person": ["审批人", "部门", "等待合计(工作小时)", "占比", "件数", "待办", "中位等待"],
        "cols_ba": ["", "件数", "办理时长中位数(工作日)", "P90(工作日)", "限时办结率", "退回率", "件均跨部门流转"],
        "before": "改革前", "after": "改革后",
        "headline_streamline": "「{node}」几乎不退回（{rate}），却让事项中位等待 {wait} 工作小时：建议取消或改为备案。",
        "yoy_missing": "同比为“—”：去年同月不在日志范围内。", "mom_missing": "环比为“—”：上月无数据。",
        "headline_notice": "「{node}」退回的事项中 {share} 因材料不全：建议一次性告知所需材料。",
        "headline_overdue": "月末有 {n} 件超期在办，最久的「{case}」已超期 {days:.1f} 个工作日（{node}）。",
        "headline_no_overdue": "月末没有超期在办事项。",
        "headline_cycle": "办理时长中位数 {value}，环比 {mom}。",
        "kind": {"instruction": "批示环节", "notification": "知会环节", "automatic": "系统环节",
                 "unknown": "未知环节", "submit": "发起", "archive": "归档"},
        "not_judged": "不作必要性判断（不审批）", "removed": "已取消",
        "evidence": {"named_instruction": "名称为批示/阅示，极少退回（≤2%）：不审批，只作批示",
                     "named_notification": "名称为阅知/传阅，极少退回（≤2%）：只是知会",
                     "only_cc_or_comments": "只有抄送或批注记录",
                     "system_acts": "由系统处理或自动通过",
                     "unnamed_step": "源数据未记录该环节的名称（如 MISSING）",
                     "never_passes": "只有退回或否决、从未通过：不是事项经过的审批环节",
                     "no_decisions": "没有审批记录", "set": "由映射或设置指定",
                     "mostly_submissions": "提交环节", "mostly_archives": "归档环节"},
        "other_wait": "等待合计 {total} 工作小时（{items} 件）",
        "left_out": "本报告由 {engine} 计算；以下部分尚未在 {engine} 上实现，未列入本报告：{parts}（详见“数据质量”页）",
        "not_here": "未列入本报告",
    },
    "en": {
        "title": "Monthly process efficiency review", "cover_sub": "{org}{month} · data up to {asof} · {cases:,} cases · calendar: {cal}",
        "mom": "MoM", "yoy": "YoY", "headlines": "This month",
        "trends": "Last 12 months", "map": "Process map (cases completed this month)",
        "necessity": "Necessity test of approval nodes (cases completed {a} to {b})",
        "necessity_table": "Verdicts per node",
        "bottlenecks": "Bottlenecks: nodes and approvers causing the most waiting (this month, working hours)",
        "ledger": "Overdue open cases (one line per case, most overdue first)",
        "scenario": "Redesign estimate: {name}", "before_after": "Before and after: {name} (from {date})",
        "quality": "Data quality and method", "no_data": "No data this month", "page": "page {n}",
        "footer": "officemine {v} · generated {today} · source: {src}{pseudo}",
        "pseudo": " · people pseudonymised", "none": "(none)",
        "no_overdue": "No open case was past its time limit at month end.",
        "more_rows": "{n} more rows in the Excel workbook.",
        "verdict": {"keep": "keep", "streamline": "streamline", "notice": "notice",
                    "insufficient_data": "insufficient data"},
        "cols_nec": ["node", "items", "rejection rate (95% CI)", "median wait (working h)",
                     "wait share", "verdict", "reason"],
        "cols_ledger": ["case", "process", "title", "held at", "holder (arrived)",
                        "where the delay arose (held by, working days)", "working days open",
                        "limit", "days overdue", "reminders"],
        "cols_bn_node": ["node", "waiting (working h)", "share", "items", "pending", "median wait"],
        "cols_bn_person": ["approver", "dept", "waiting (working h)", "share", "items", "pending",
                           "median wait"],
        "cols_ba": ["", "cases", "median cycle (working days)", "p90 (working days)", "on-time rate",
                    "return rate", "hand-offs per case"],
        "before": "before", "after": "after",
        "headline_streamline": "'{node}' almost never rejects ({rate}) yet holds items a median {wait} working hours: remove it or make it record-only.",
        "headline_notice": "{share} of the returns at '{node}' are for missing material: tell applicants every required document at once.",
        "headline_overdue": "{n} open case(s) past their limit at month end; the oldest, '{case}', is {days:.1f} working days over ({node}).",
        "headline_no_overdue": "No open case is past its time limit at month end.",
        "headline_cycle": "Median cycle time {value}, {mom} on last month.",
        "yoy_missing": "YoY '—': the same month last year is outside the log.",
        "mom_missing": "MoM '—': no data last month.",
        "kind": {"instruction": "instruction step", "notification": "notification step",
                 "automatic": "system step", "unknown": "unknown step", "submit": "submission",
                 "archive": "archiving"},
        "not_judged": "not judged (decides nothing)", "removed": "removed",
        "evidence": {"named_instruction": "named as an instruction step (批示), returns at most 2% of items",
                     "named_notification": "named as a notification step (阅知), returns at most 2% of items",
                     "only_cc_or_comments": "records only cc and comments",
                     "system_acts": "the system acts or approves automatically",
                     "unnamed_step": "the source did not record the step (e.g. MISSING)",
                     "never_passes": "only returns or rejects, never approves: not a step items pass",
                     "no_decisions": "records no decisions", "set": "set in the mapping or settings",
                     "mostly_submissions": "submission step", "mostly_archives": "archiving step"},
        "other_wait": "{total} working hours of waiting ({items} items)",
        "left_out": "Computed on {engine}; these parts are not on {engine} yet and are not in this report: {parts} (see the data-quality page)",
        "not_here": "Not in this report",
    },
}


def render_pdf(report, path: Path) -> Path:
    """Render every page of `report` into one PDF (written atomically)."""
    words = T[report.lang]
    metadata = {"Title": f"{words['title']} {report.month}",
                "Creator": f"officemine {__version__}"}
    with atomic_path(path) as temp, chart_style(), PdfPages(temp, metadata=metadata) as pdf:
        for fig in page_figures(report):
            pdf.savefig(fig)
            plt.close(fig)
    return path


def page_figures(report):
    """Each page of `report` as a matplotlib figure, in reading order, its text fitted to
    its boxes (`layout.fit_page`). Call inside `chart_style()`; close each figure after use."""
    words = T[report.lang]
    src = report.log.report.source_file if report.log.report else "—"
    footer = words["footer"].format(v=__version__, today=dt.date.today().isoformat(),
                                    src=Path(src).name if src != "—" else src,
                                    pseudo=words["pseudo"] if report.pseudonymized else "")
    pages = [_cover]
    if report.has_data:
        pages += [_trends, _map, _necessity_chart, _necessity_table, _bottlenecks, _ledger]
        # parts the engine did not compute have no page: the cover and the quality page say so
        left_out = {_PART_PAGES[p] for p in report.left_out if p in _PART_PAGES}
        pages = [p for p in pages if p not in left_out]
        if report.ledger_view is not None:
            from officemine.rendering.ledger_page import ledger_month_page

            pages.append(ledger_month_page)
        if getattr(report, "conformance", None) is not None:
            from officemine.rendering.conformance_page import conformance_page

            pages.append(conformance_page)
        if report.simulation is not None:
            pages.append(_scenario)
        pages += [lambda r, info, n, i=i: _before_after(r, info, n, i)
                  for i in range(len(report.before_after))]
    pages.append(_quality)
    number = 1
    for page in pages:
        figs = page(report, footer, number)
        for fig in figs if isinstance(figs, list) else [figs]:
            fit_page(fig)
            yield fig
            number += 1


def _info(report, title: str, footer: str, subtitle: str | None = None) -> PageInfo:
    words = T[report.lang]
    month = _month_label(report.month, report.lang)
    return PageInfo(title=title, subtitle=subtitle or f"{words['title']} · {month}",
                    footer=footer)


def _month_label(month: str, lang: str) -> str:
    p = pd.Period(month, freq="M")
    return f"{p.year}年{p.month}月" if lang == "zh" else p.strftime("%B %Y")


# --- 1. cover ---------------------------------------------------------------------------------

def _cover(report, footer, number):
    words = T[report.lang]
    kpis = report.kpis
    end = kpis.log_info.get("end")
    end = pd.Timestamp(end) if end else None
    org = f"{report.organisation} · " if report.organisation else ""
    subtitle = words["cover_sub"].format(
        org=org, month=_month_label(report.month, report.lang),
        asof=end.strftime("%Y-%m-%d") if end is not None else "—",
        cases=kpis.log_info["cases"], cal=report.calendar.describe(report.lang, source=False).split(";")[0])
    fig = new_page(PageInfo(f"{words['title']} · {_month_label(report.month, report.lang)}",
                            subtitle, footer), number)
    if not report.has_data:
        fig.text(0.5, 0.55, words["no_data"], fontsize=28, ha="center", color=MUTED)
        fig.text(0.5, 0.47, kpis.message, fontsize=11, ha="center", color=MUTED)
        return fig
    tiles = list(kpis.tiles)[:10]
    cols = 4 if len(tiles) <= 8 else 5             # 不合规率 makes a ninth tile
    h, x0, y0, gap = 0.25, 0.04, 0.60, 0.015
    w = (0.92 - (cols - 1) * gap) / cols
    for i, tile in enumerate(tiles):
        x = x0 + (i % cols) * (w + gap)
        y = y0 - (i // cols) * (h + gap)
        ax = tile_axes(fig, [x, y, w, h])
        name = tile.name_zh if report.lang == "zh" else tile.name_en
        ax.text(0.06, 0.88, name, fontsize=11, color=MUTED, transform=ax.transAxes, va="top")
        ax.text(0.06, 0.60, tile.text(report.lang), fontsize=24 if cols == 4 else 21,
                weight="bold", color=INK, transform=ax.transAxes, va="center")
        for j, which in enumerate(("mom", "yoy")):
            change = getattr(tile, which)
            colour = _change_colour(tile, change)
            ax.text(0.06, 0.30 - j * 0.13,
                    f"{words[which]} {tile.change_text(which, report.lang)}", fontsize=9,
                    color=colour, transform=ax.transAxes, va="center")
        if tile.n is not None and tile.kind == "rate" and tile.ci:
            ax.text(0.94, 0.06, f"n={tile.n:,}, 95%: {tile.ci[0]:.0%}–{tile.ci[1]:.0%}",
                    fontsize=7, color=MUTED, transform=ax.transAxes, ha="right", va="bottom")
    notes = []
    if all(t.yoy.abs is None for t in tiles):
        notes.append(words["yoy_missing"])
    if all(t.mom.abs is None for t in tiles):
        notes.append(words["mom_missing"])
    if notes:
        fig.text(0.96, 0.325, "  ".join(notes), fontsize=8, color=MUTED, ha="right", va="top")
    if report.left_out:
        fig.text(0.04, 0.05, wrap(words["left_out"].format(
            engine=report.engine, parts="、".join(report.left_out) if report.lang == "zh"
            else ", ".join(report.left_out)), 150), fontsize=9, color=BAD, va="bottom")
    # headlines
    fig.text(0.04, 0.31, words["headlines"], fontsize=13, weight="bold", color=INK, va="top")
    for i, line in enumerate(_headlines(report)[:4]):
        fig.text(0.055, 0.265 - i * 0.05, "• " + wrap(line, 150), fontsize=10.5, color=INK,
                 va="top")
    return fig


def _change_colour(tile, change) -> str:
    if change.abs is None or tile.better is None or change.abs == 0:
        return MUTED
    improved = (change.abs < 0) == (tile.better == "lower")
    return GOOD if improved else BAD


def _headlines(report) -> list[str]:
    words = T[report.lang]
    lines = []
    tiles = {t.key: t for t in report.kpis.tiles}
    if "cycle_median_workdays" in tiles:
        t = tiles["cycle_median_workdays"]
        lines.append(words["headline_cycle"].format(value=t.text(report.lang),
                                                    mom=t.change_text("mom", report.lang)))
    if report.necessity is not None:
        s = report.necessity.summary
        stream = s[s.verdict == "streamline"].sort_values("wait_median", ascending=False)
        if len(stream):
            r = stream.iloc[0]
            lines.append(words["headline_streamline"].format(
                node=r["node"], rate=f"{r['rejection_rate']:.1%}", wait=f"{r['wait_median']:.1f}"))
        notice = s[s.verdict == "notice"].sort_values("rejections", ascending=False)
        if len(notice):
            r = notice.iloc[0]
            lines.append(words["headline_notice"].format(
                node=r["node"], share=f"{r['missing_material_share']:.0%}"))
    if report.ledger is None:
        return lines
    ledger = report.ledger.summary
    overdue = ledger[ledger["overdue"]] if "overdue" in ledger else ledger
    if len(overdue):
        r = overdue.iloc[0]
        lines.append(words["headline_overdue"].format(n=len(overdue), case=r["case_id"],
                                                      days=r["days_overdue"],
                                                      node=r["current_node"]))
    else:
        lines.append(words["headline_no_overdue"])
    return lines


# --- 2. trends --------------------------------------------------------------------------------

TREND_KPIS = ("completed", "cycle_median_workdays", "cycle_p90_workdays", "on_time_rate",
              "return_rate", "handoffs_per_case", "open_at_month_end", "open_overdue")


def _trends(report, footer, number):
    words = T[report.lang]
    fig = new_page(_info(report, words["trends"], footer), number)
    short = "改革" if report.lang == "zh" else "redesign"
    marks = {b.redesign.date.strftime("%Y-%m"): short for b in report.before_after}
    kpis = TREND_KPIS + (("noncompliance_rate",) if getattr(report, "conformance", None)
                         is not None else ())
    cols = 4 if len(kpis) <= 8 else 5
    for i, kpi in enumerate(kpis):
        ax = fig.add_axes([0.055 + (i % cols) * 0.952 / cols, 0.565 - (i // cols) * 0.40,
                           0.74 / cols, 0.27])
        report.trend.plot(kpi, ax=ax, lang=report.lang, marks=marks or None)
        ax.tick_params(labelsize=7)
        ax.title.set_fontsize(10)
    return fig


# --- 3. process map -----------------------------------------------------------------------------

def _map(report, footer, number):
    words = T[report.lang]
    fig = new_page(_info(report, words["map"], footer), number)
    if report.discovery is None:
        note(fig, 0.5, 0.5, words["none"], ha="center", fontsize=14)
        return fig
    ax = fig.add_axes([0.03, 0.08, 0.94, 0.80])
    report.discovery.process_map.plot(ax=ax, outside=_outside(report), lang=report.lang)
    return fig


def _outside(report):
    """The map's nodes and arcs outside the standard procedures (None without them)."""
    result = getattr(report, "conformance", None)
    if result is None:
        return None
    from officemine.conformance import outside_procedures
    from officemine.log.relations import node_roles

    pm = report.discovery.process_map
    forward = pm.arcs[pm.arcs["kind"] == "forward"]
    return outside_procedures(result.procedures, pm.nodes["node"],
                              zip(forward["source"], forward["target"]),
                              node_roles(report.log))


# --- 4. necessity -------------------------------------------------------------------------------

def _necessity_title(report):
    a, b = report.necessity_window
    title = T[report.lang]["necessity"].format(a=_month_label(a, report.lang),
                                               b=_month_label(b, report.lang))
    since = report.versions.since if report.versions is not None else {}
    if since:
        zh = report.lang == "zh"
        parts = [f"{k} 自 {v:%Y-%m-%d} 起" if zh else f"{k} since {v:%Y-%m-%d}"
                 for k, v in sorted(since.items(), key=lambda kv: str(kv[0]))]
        title += ("；现行版本：" if zh else "; current versions: ") + ("，" if zh else ", ").join(parts)
    return title


def _necessity_chart(report, footer, number):
    fig = new_page(_info(report, _necessity_title(report), footer), number)
    if report.necessity is None:
        note(fig, 0.5, 0.5, T[report.lang]["none"], ha="center", fontsize=14)
        return fig
    ax = fig.add_axes([0.07, 0.10, 0.72, 0.76])
    report.necessity.plot(ax=ax, lang=report.lang)
    ax.set_title("")
    return fig


def _necessity_table(report, footer, number):
    words = T[report.lang]
    if report.necessity is None:
        return new_page(_info(report, words["necessity_table"], footer,
                              subtitle=_necessity_title(report)), number)
    s = report.necessity.summary
    reason = s["reason_zh"] if report.lang == "zh" else s["reason"]
    frame = pd.DataFrame({
        words["cols_nec"][0]: s["node"] + (" · " + s["process_type"].astype(str)
                                           if report.necessity.by else ""),
        words["cols_nec"][1]: s["items"].map("{:,}".format),
        words["cols_nec"][2]: [f"{r:.1%} ({lo:.1%}–{hi:.1%})" for r, lo, hi in
                               zip(s["rejection_rate"], s["rejection_rate_ci_low"],
                                   s["rejection_rate_ci_high"])],
        words["cols_nec"][3]: s["wait_median"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
        words["cols_nec"][4]: s["wait_share"].map(lambda v: "—" if pd.isna(v) else f"{v:.0%}"),
        words["cols_nec"][5]: s["verdict"].map(words["verdict"]),
        words["cols_nec"][6]: reason.to_numpy(),
    })
    frame = pd.concat([frame, _not_judged_rows(report, frame.columns),
                       _removed_rows(report, frame.columns)], ignore_index=True)
    verdicts = pd.concat([s["verdict"], pd.Series(["not_judged"] * (len(frame) - len(s)))],
                         ignore_index=True)
    colours = {"streamline": "#fff5f5", "notice": "#fff9db", "insufficient_data": "#f8f9fa",
               "not_judged": "#f1f3f5"}
    wrap_at = {frame.columns[6]: 92, frame.columns[0]: 18, frame.columns[3]: 10,
               frame.columns[2]: 24}
    box = [0.04, 0.07, 0.92, 0.80]
    figs = []
    for k, piece in enumerate(split_rows(frame, box[3] * 8.27, 7.6, wrap_at)):
        fig = new_page(_info(report, words["necessity_table"], footer,
                             subtitle=_necessity_title(report)), number + k)
        highlight = {i: colours[v] for i, v in enumerate(verdicts.iloc[piece.index])
                     if v in colours}
        draw_table(fig.add_axes(box), piece, widths=[0.11, 0.055, 0.14, 0.065, 0.05, 0.07, 0.51],
                   fontsize=7.6, wrap_at=wrap_at, highlight=highlight)
        figs.append(fig)
    return figs


def _removed_rows(report, columns) -> pd.DataFrame:
    """Steps removed by a change before the window's current version: said so, never judged
    (a removed step must not be recommended for removal again)."""
    removed = report.necessity.removed_nodes
    if removed is None or removed.empty:
        return pd.DataFrame(columns=columns)
    words = T[report.lang]
    zh = report.lang == "zh"
    return pd.DataFrame({
        columns[0]: removed["node"].to_numpy(), columns[1]: "—", columns[2]: "—",
        columns[3]: "—", columns[4]: "—", columns[5]: words["removed"],
        columns[6]: [(f"{p or ''}已于 {d:%Y-%m-%d} 取消该环节，此后的件不再经过：不再评估" if zh else
                      f"removed from {p or 'the process'} on {d:%Y-%m-%d}; later cases do not "
                      "pass it: not judged") for p, d in zip(removed["process_type"],
                                                                removed["date"])],
    })


def _not_judged_rows(report, columns) -> pd.DataFrame:
    """Steps that hold items but decide nothing: listed under the verdicts with their kind,
    why, and the waiting they cause (a finding in itself)."""
    words = T[report.lang]
    other = report.necessity.other_nodes
    if other is None or other.empty:
        return pd.DataFrame(columns=columns)
    other = other[(other["items"] + other["pending"] > 0)
                  & ~other["kind"].isin(["submit", "archive"])]
    return pd.DataFrame({
        columns[0]: other["node"].to_numpy(),
        columns[1]: other["items"].map("{:,}".format).to_numpy(),
        columns[2]: [words["kind"].get(k, k) for k in other["kind"]],
        columns[3]: other["wait_median"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}").to_numpy(),
        columns[4]: ["—"] * len(other),
        columns[5]: [words["not_judged"]] * len(other),
        columns[6]: [words["evidence"].get(e, e) + "；" + words["other_wait"].format(
            total=f"{t:,.0f}", items=f"{n:,}") if report.lang == "zh" else
            words["evidence"].get(e, e) + "; " + words["other_wait"].format(
                total=f"{t:,.0f}", items=f"{n:,}")
            for e, t, n in zip(other["evidence"], other["wait_total"].fillna(0), other["items"])],
    })


# --- 5. bottlenecks -------------------------------------------------------------------------------

def _bottlenecks(report, footer, number):
    words = T[report.lang]
    fig = new_page(_info(report, words["bottlenecks"], footer), number)
    b = report.bottlenecks
    nodes = b.by_node.head(12)
    people = b.by_person.head(10)
    fmt = (lambda v: "—" if pd.isna(v) else f"{v:,.1f}")
    node_frame = pd.DataFrame({
        words["cols_bn_node"][0]: nodes["node"], words["cols_bn_node"][1]: nodes["wait_workhours"].map(fmt),
        words["cols_bn_node"][2]: nodes["wait_share"].map(lambda v: f"{v:.0%}"),
        words["cols_bn_node"][3]: nodes["items"], words["cols_bn_node"][4]: nodes["pending"],
        words["cols_bn_node"][5]: nodes["wait_median_workhours"].map(fmt)})
    person_frame = pd.DataFrame({
        words["cols_bn_person"][0]: people["resource"], words["cols_bn_person"][1]: people["dept"],
        words["cols_bn_person"][2]: people["wait_workhours"].map(fmt),
        words["cols_bn_person"][3]: people["wait_share"].map(lambda v: f"{v:.0%}"),
        words["cols_bn_person"][4]: people["items"], words["cols_bn_person"][5]: people["pending"],
        words["cols_bn_person"][6]: people["wait_median_workhours"].map(fmt)})
    bar = fig.add_axes([0.15, 0.50, 0.32, 0.36])
    top = nodes.head(8).iloc[::-1]
    bar.barh(top["node"], top["wait_workhours"], color=ACCENT, alpha=0.8)
    bar.set_xlabel("工作小时" if report.lang == "zh" else "working hours", fontsize=8)
    bar.tick_params(labelsize=8)
    draw_table(fig.add_axes([0.52, 0.50, 0.44, 0.37]), node_frame, fontsize=7.5,
               widths=[0.26, 0.2, 0.1, 0.1, 0.1, 0.14])
    draw_table(fig.add_axes([0.04, 0.06, 0.92, 0.38]), person_frame, fontsize=7.5,
               widths=[0.14, 0.1, 0.16, 0.08, 0.08, 0.08, 0.12])
    return fig


# --- 6. overdue ledger ------------------------------------------------------------------------------

def _ledger(report, footer, number):
    words = T[report.lang]
    fig = new_page(_info(report, words["ledger"], footer), number)
    led = report.ledger.summary
    led = led[led["overdue"]] if "overdue" in led else led
    if led.empty:
        note(fig, 0.5, 0.55, words["no_overdue"], ha="center", fontsize=14, color=GOOD)
        return fig
    rows = 18
    shown = led.head(rows)
    cols = words["cols_ledger"]
    arrived = shown["held_since"].map(lambda t: "" if pd.isna(t) else f"{t:%m-%d %H:%M}")
    frame = pd.DataFrame({
        cols[0]: shown["case_id"], cols[1]: shown["process_type"],
        cols[2]: shown["title"].fillna(""),
        cols[3]: shown["current_step"].fillna(shown["current_node"]),
        cols[4]: shown["responsible"].fillna("—") + "（" + arrived + "）",
        cols[5]: [("—" if pd.isna(node) else f"{node}（{who}，{days:.1f}）")
                  for node, who, days in zip(shown["delay_step"], shown["delay_held_by"],
                                             shown["delay_workdays"])],
        cols[6]: shown["working_days_open"].map(lambda v: f"{v:.1f}"),
        cols[7]: shown["sla_days"].map(lambda v: f"{v:g}"),
        cols[8]: shown["days_overdue"].map(lambda v: f"{v:.1f}"),
        cols[9]: shown["reminders"]})
    ax = fig.add_axes([0.04, 0.10, 0.92, 0.78])
    draw_table(ax, frame, widths=[0.11, 0.06, 0.18, 0.11, 0.13, 0.16, 0.06, 0.04, 0.06, 0.04],
               fontsize=7.2, wrap_at={frame.columns[2]: 30, frame.columns[3]: 18,
                                      frame.columns[4]: 20, frame.columns[5]: 24})
    if len(led) > rows:
        note(fig, 0.04, 0.085, words["more_rows"].format(n=len(led) - rows))
    return fig


# --- 7. scenario ----------------------------------------------------------------------------------

def _scenario(report, footer, number):
    sim = report.simulation
    words = T[report.lang]
    zh = report.lang == "zh"
    data = sim.to_dict()
    names = [sc["scenario"] for sc in data.get("scenarios", [data])]
    fig = new_page(_info(report, words["scenario"].format(name="；".join(names) if zh
                                                               else "; ".join(names)), footer),
                   number)
    s = sim.summary
    pct = (lambda v, lo, hi: f"{v:.1f}% ({lo:.1f}–{hi:.1f}%)")
    cols = (["方案", "涉及件数", "办理时长中位数 (小时)", "中位数缩短 (95%区间)", "平均缩短 (95%区间)",
             "工作日中位数", "减少等待工时", "减少退回", "件均跨部门流转"] if zh else
            ["scenario", "cases", "median cycle (h)", "median reduction (95% CI)",
             "mean reduction (95% CI)", "median working days", "waiting hours removed",
             "returns avoided", "hand-offs per case"])
    frame = pd.DataFrame({
        cols[0]: s["scenario"], cols[1]: s["cases"].map("{:,}".format),
        cols[2]: [f"{a:.1f} → {b:.1f}" for a, b in zip(s["baseline_median_h"], s["redesign_median_h"])],
        cols[3]: [pct(v, lo, hi) for v, lo, hi in zip(s["median_pct"], s["median_pct_ci_low"], s["median_pct_ci_high"])],
        cols[4]: [pct(v, lo, hi) for v, lo, hi in zip(s["mean_pct"], s["mean_pct_ci_low"], s["mean_pct_ci_high"])],
        cols[5]: [f"{a:.2f} → {b:.2f}" for a, b in zip(s["baseline_median_workdays"], s["redesign_median_workdays"])],
        cols[6]: s["waiting_hours_removed"].map("{:,.0f}".format),
        cols[7]: s["returns_avoided"].map("{:,.0f}".format),
        cols[8]: [f"{a:.2f} → {b:.2f}" for a, b in zip(s["handoffs_per_case_before"], s["handoffs_per_case_after"])],
    })
    draw_table(fig.add_axes([0.04, 0.66, 0.92, 0.21]), frame, fontsize=8,
               widths=[0.2, 0.06, 0.11, 0.13, 0.13, 0.1, 0.09, 0.07, 0.1],
               wrap_at={cols[0]: 26})
    v = data["validation"]
    basis = (f"口径：{data.get('engine')} 引擎，种子 {data.get('seed')}，{data.get('replications')} 次重抽样；"
             f"已办结件的自然小时办理时长（首次提交至办结），另附工作日；区间为按件重抽样的 95% 区间。"
             f"模型校验：现状重放与实际相比，中位数误差 {v['as_is_median_error_pct']:.1f}%，"
             f"平均误差 {v['as_is_mean_error_pct']:.1f}%，分布距离（EMD）{v['emd_hours']:.1f} 小时（n={v['cases']:,}）。"
             if zh else
             f"Basis: {data.get('engine')} engine, seed {data.get('seed')}, {data.get('replications')} "
             "resamples; clock-hour cycle time of completed cases (first submission to the end), "
             "working days beside; intervals are 95% case-bootstrap intervals. Validation: the as-is "
             f"replay against the log, median error {v['as_is_median_error_pct']:.1f}%, mean error "
             f"{v['as_is_mean_error_pct']:.1f}%, EMD {v['emd_hours']:.1f} h (n={v['cases']:,}).")
    warnings_ = data.get("warnings") or []
    note(fig, 0.04, 0.63, wrap(basis, 175) + "".join(f"\nWARNING: {wrap(w, 170)}"
                                                      for w in warnings_), fontsize=8.5)
    try:
        sim.plot(ax=fig.add_axes([0.30, 0.08, 0.40, 0.44]), lang=report.lang)
    except Exception as exc:  # noqa: BLE001 - a chart must never cost the whole report
        note(fig, 0.07, 0.4, f"chart unavailable: {exc}")
    return fig


# --- 8. before / after ------------------------------------------------------------------------------

def _before_after(report, footer, number, index):
    words = T[report.lang]
    ba = report.before_after[index]
    title = words["before_after"].format(name=ba.redesign.name, date=ba.redesign.date.isoformat())
    fig = new_page(_info(report, title, footer), number)
    s = ba.summary
    pct = (lambda v, lo, hi: "—" if pd.isna(v) else f"{v:.1%} ({lo:.0%}–{hi:.0%})")
    num = (lambda v: "—" if pd.isna(v) else f"{v:.2f}")
    frame = pd.DataFrame({
        words["cols_ba"][0]: [f"{words[p]} ({a} – {b})" for p, a, b in zip(s["period"], s["from"], s["to"])],
        words["cols_ba"][1]: s["cases"],
        words["cols_ba"][2]: s["cycle_median_workdays"].map(num),
        words["cols_ba"][3]: s["cycle_p90_workdays"].map(num),
        words["cols_ba"][4]: [pct(v, lo, hi) for v, lo, hi in zip(s["on_time_rate"], s["on_time_rate_ci_low"], s["on_time_rate_ci_high"])],
        words["cols_ba"][5]: [pct(v, lo, hi) for v, lo, hi in zip(s["return_rate"], s["return_rate_ci_low"], s["return_rate_ci_high"])],
        words["cols_ba"][6]: s["handoffs_per_case"].map(num)})
    widths = [0.26, 0.07, 0.15, 0.11, 0.15, 0.15, 0.11]
    if "noncompliance_rate" in s:
        frame["不合规率" if report.lang == "zh" else "non-compliance rate"] = [
            pct(v, lo, hi) for v, lo, hi in zip(s["noncompliance_rate"],
                                                s["noncompliance_rate_ci_low"],
                                                s["noncompliance_rate_ci_high"])]
        widths = [0.22, 0.06, 0.13, 0.1, 0.13, 0.13, 0.1, 0.13]
    draw_table(fig.add_axes([0.04, 0.66, 0.92, 0.20]), frame, fontsize=9, widths=widths,
               wrap_at={frame.columns[2]: 14})
    _effect_table(fig, ba.effect, report.lang)
    ax = fig.add_axes([0.08, 0.07, 0.36, 0.27])
    labels = [words[p] for p in s["period"]]
    ax.bar(labels, s["cycle_median_workdays"], color=[MUTED, ACCENT])
    ax.set_ylabel("办理时长中位数（工作日）" if report.lang == "zh" else "median cycle (working days)")
    for x, v in enumerate(s["cycle_median_workdays"]):
        if not pd.isna(v):
            ax.text(x, v, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
    scope = ba.redesign.process_type or ("全部流程" if report.lang == "zh" else "all processes")
    basis = (f"范围：{scope}；按提交日期划入改革前/后；前后各最多 {ba.window_months} 个月；"
             "工作日按报告日历计算；比例附 Wilson 95% 区间。" if report.lang == "zh" else
             f"Scope: {scope}; cases assigned by submission date; up to {ba.window_months} months "
             "each side; working days on the report calendar; rates with Wilson 95% intervals.")
    note(fig, 0.52, 0.33, wrap(basis, 72), fontsize=9)
    return fig


def _effect_table(fig, effect, lang: str) -> None:
    """The redesign's effect against a control, beside the naive change, with the three
    targets of reform practice (met / not met / not measurable) and the assumption."""
    if effect is None:
        return
    zh = lang == "zh"
    s = effect.summary
    status = ({"met": "达到", "not met": "未达到", "not measurable": "无法衡量"} if zh else
              {"met": "met", "not met": "not met", "not measurable": "not measurable"})
    pct = (lambda v: "—" if pd.isna(v) else f"{v:+.1%}")
    cols = (["指标", "简单前后对比", "对照后的估计（95%区间）", "改革目标", "结论"] if zh else
            ["measure", "naive before/after", "controlled estimate (95% interval)", "target",
             "status"])
    frame = pd.DataFrame({
        cols[0]: s["measure_zh"] if zh else s["measure"],
        cols[1]: s["naive_change"].map(pct),
        cols[2]: ["—" if pd.isna(e) else f"{pct(e)}（{pct(lo)} 至 {pct(hi)}）" if zh else
                  f"{pct(e)} ({pct(lo)} to {pct(hi)})"
                  for e, lo, hi in zip(s["effect"], s["ci_low"], s["ci_high"])],
        cols[3]: [f"-{t:.0%}" for t in s["target"]],
        cols[4]: s["status"].map(status)})
    draw_table(fig.add_axes([0.04, 0.47, 0.92, 0.16]), frame, fontsize=9,
               widths=[0.2, 0.17, 0.33, 0.12, 0.18])
    if effect.method == "difference_in_differences":
        how = (f"对照：同期未改革的流程类型（{'、'.join(effect.control)}），双重差分；假设：若不改革，"
               "本流程会与对照流程同步变化（平行趋势）。" if zh else
               f"Control: the types that did not change ({', '.join(effect.control)}), "
               "difference in differences; assumes parallel trends.")
    elif effect.method == "interrupted_time_series":
        how = ("对照：改革前的周趋势外推（中断时间序列）；假设：若不改革，原有趋势会延续。" if zh else
               "Control: the pre-change weekly trend (interrupted time series); assumes it "
               "would have continued.")
    else:
        how = "数据不足，无法估计对照后的效果。" if zh else "Too few cases for a controlled estimate."
    n = s.set_index("key")
    how += (f" 样本：改革前 {n.loc['cycle_time', 'n_before']:,} 件，改革后 "
            f"{n.loc['cycle_time', 'n_after']:,} 件；区间为按件自助法。" if zh else
            f" n = {n.loc['cycle_time', 'n_before']:,} before, "
            f"{n.loc['cycle_time', 'n_after']:,} after; case-bootstrap intervals.")
    note(fig, 0.04, 0.44, wrap(how, 120), fontsize=8.5)


#: Pages of the parts an engine may leave out (`MonthlyReport.left_out`).
_PART_PAGES = {"process_map": _map, "bottlenecks": _bottlenecks, "overdue_ledger": _ledger}


# --- 9. data quality -------------------------------------------------------------------------------

def _quality(report, footer, number):
    words = T[report.lang]
    fig = new_page(_info(report, words["quality"], footer), number)
    lines = _import_lines(report.log.report, report.lang) if report.log.report else []
    lines.append("")
    lines.append(("日历：" if report.lang == "zh" else "Calendar: ")
                 + report.calendar.describe(report.lang))
    lines.append(("时限（SLA）：" if report.lang == "zh" else "Time limits (SLA): ") + report.sla.describe())
    if report.necessity is not None:
        s = report.necessity.summary
        rec, inf = int(s["wait_recorded_items"].sum()), int(s["wait_inferred_items"].sum())
        lines.append(("等待时间口径：到达时间有记录 {r:,} 件，由前一操作推断 {i:,} 件；在办事项按右删失处理（Kaplan–Meier）。"
                      if report.lang == "zh" else
                      "Waits: arrival recorded for {r:,} items, inferred from the previous action for {i:,}; "
                      "items still pending are right-censored (Kaplan–Meier).").format(r=rec, i=inf))
        t = report.necessity.thresholds
        lines.append(("必要性结论阈值：至少 {m} 件；退回率阈值 {thr:.0%}；长等待 {w} 工作小时；材料不全占比 {ns:.0%}。"
                      if report.lang == "zh" else
                      "Necessity thresholds: at least {m} items; rejection threshold {thr:.0%}; long wait {w} working hours; missing-material share {ns:.0%}.").format(
            m=t.min_items, thr=t.rejection_threshold, w=t.long_wait_workhours, ns=t.notice_share))
        lines += [f"WARNING: {w}" for w in report.necessity.warnings]
    lines += [f"WARNING: {w}" for w in report.warnings]
    lines += [f"{words['not_here']}: {part} — {why}" for part, why in report.left_out.items()]
    if report.pseudonymization is not None:
        lines.append(report.pseudonymization.describe(report.lang))
    wrapped = "\n".join(wrap(line, 175) for line in lines)
    note(fig, 0.04, 0.87, wrapped, fontsize=8, color=INK, linespacing=1.45)
    return fig


REASONS_ZH = {"malformed_record": "记录无法解析", "missing_case_id": "缺少流程编号",
              "missing_node": "缺少节点", "missing_time": "缺少操作时间",
              "unparseable_time": "时间无法识别", "unknown_outcome": "操作类型无法识别",
              "action_before_arrival": "操作早于到达", "duplicate": "重复记录",
              "bad_amount": "金额不是数字", "implausible_time": "时间不合理（1990年前或一年以后）"}


def _import_lines(rep, lang: str) -> list[str]:
    """The import report's accounting, in the report's language."""
    if lang != "zh":
        return str(rep).splitlines()
    lines = [f"数据来源：{rep.source_file}（格式 {rep.format}）",
             f"读入 {rep.rows_read:,} 行 = 接受 {rep.rows_accepted:,} 行 + 另存待查 {rep.rows_set_aside:,} 行"
             + ("" if rep.balanced else "（不平衡！）")]
    for reason, count in rep.set_aside_by_reason.items():
        lines.append(f"    {REASONS_ZH.get(reason, reason)}：{count:,} 行")
    if rep.set_aside_file:
        lines.append(f"    另存的行见 {rep.set_aside_file}")
    lines += [f"流程 {rep.cases:,} 件，日志结束时在办 {rep.open_cases:,} 件；源数据中事件顺序错乱的流程 {rep.out_of_order_cases:,} 件",
              f"到达时间：有记录 {rep.arrivals_recorded:,} 条，由前一操作推断 {rep.arrivals_inferred:,} 条；导出时待办事项 {rep.pending_items:,} 条",
              f"时区：{rep.timezone}（未带时区的时间按此解释）",
              "列对应：" + "，".join(f"{k} ← {v}" for k, v in rep.columns_used.items())]
    lines += [f"说明：{n}" for n in rep.notes]
    lines += [f"警告：{w}" for w in rep.warnings]
    return lines
