"""The pages of the PDF dashboard, in the order a manager reads them.

Each page answers one question; the cover answers "how did this month go" in one minute.
"""

from __future__ import annotations

import datetime as dt
import math
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
from officemine.base.text import (heads, in_lang, joined, left_out_why, say,  # noqa: E402
                                  step_text, word)

def render_pdf(report, path: Path) -> Path:
    """Render every page of `report` into one PDF (written atomically)."""
    metadata = {"Title": f"{say('review.title', report.lang)} {report.month}",
                "Creator": f"officemine {__version__}"}
    with atomic_path(path) as temp, chart_style(), PdfPages(temp, metadata=metadata) as pdf:
        for fig in page_figures(report):
            pdf.savefig(fig)
            plt.close(fig)
    return path


def page_figures(report):
    """Each page of `report` as a matplotlib figure, in reading order, its text fitted to
    its boxes (`layout.fit_page`). Call inside `chart_style()`; close each figure after use."""
    lang = report.lang
    src = report.log.report.source_file if report.log.report else "—"
    footer = say("review.footer", lang, v=__version__, today=dt.date.today().isoformat(),
                 src=Path(src).name if src != "—" else src,
                 pseudo=say("review.pseudo", lang) if report.pseudonymized else "")
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
    month = _month_label(report.month, report.lang)
    subtitle = subtitle or f"{say('review.title', report.lang)} · {month}"
    return PageInfo(title=title, subtitle=subtitle, footer=footer)


def _month_label(month: str, lang: str) -> str:
    p = pd.Period(month, freq="M")
    return say("review.month", lang, year=p.year, month=p.month, name=p.strftime("%B %Y"))


# --- 1. cover ---------------------------------------------------------------------------------

def _cover(report, footer, number):
    lang = report.lang
    kpis = report.kpis
    end = kpis.log_info.get("end")
    end = pd.Timestamp(end) if end else None
    org = f"{report.organisation} · " if report.organisation else ""
    subtitle = say("review.cover_sub", lang,
                   org=org, month=_month_label(report.month, lang),
                   asof=end.strftime("%Y-%m-%d") if end is not None else "—",
                   cases=kpis.log_info["cases"],
                   cal=report.calendar.describe(lang, source=False).split(";")[0])
    fig = new_page(PageInfo(f"{say('review.title', lang)} · {_month_label(report.month, lang)}",
                            subtitle, footer), number)
    if not report.has_data:
        fig.text(0.5, 0.55, say("review.no_data", lang), fontsize=28, ha="center", color=MUTED)
        fig.text(0.5, 0.47, in_lang(kpis.message, lang), fontsize=11, ha="center", color=MUTED)
        return fig
    tiles = list(kpis.tiles)[:10]
    cols = 4 if len(tiles) <= 8 else 5             # 不合规率 makes a ninth tile
    h, x0, y0, gap = 0.25, 0.04, 0.60, 0.015
    w = (0.92 - (cols - 1) * gap) / cols
    for i, tile in enumerate(tiles):
        x = x0 + (i % cols) * (w + gap)
        y = y0 - (i // cols) * (h + gap)
        ax = tile_axes(fig, [x, y, w, h])
        name = tile.name_zh if lang == "zh" else tile.name_en
        ax.text(0.06, 0.88, name, fontsize=11, color=MUTED, transform=ax.transAxes, va="top")
        ax.text(0.06, 0.60, tile.text(lang), fontsize=24 if cols == 4 else 21,
                weight="bold", color=INK, transform=ax.transAxes, va="center")
        for j, which in enumerate(("mom", "yoy")):
            change = getattr(tile, which)
            colour = _change_colour(tile, change)
            ax.text(0.06, 0.30 - j * 0.13,
                    f"{say('review.' + which, lang)} {tile.change_text(which, lang)}", fontsize=9,
                    color=colour, transform=ax.transAxes, va="center")
        if tile.n is not None and tile.kind == "rate" and tile.ci:
            ax.text(0.94, 0.06, say("review.tile_ci", lang, n=tile.n, lo=tile.ci[0], hi=tile.ci[1]),
                    fontsize=7, color=MUTED, transform=ax.transAxes, ha="right", va="bottom")
    notes = []
    if all(t.yoy.abs is None for t in tiles):
        notes.append(say("review.yoy_missing", lang))
    if all(t.mom.abs is None for t in tiles):
        notes.append(say("review.mom_missing", lang))
    if notes:
        fig.text(0.96, 0.325, "  ".join(notes), fontsize=8, color=MUTED, ha="right", va="top")
    if report.left_out:
        where = say("left_out.spark" if report.engine == "spark" else "left_out.batches", lang)
        fig.text(0.04, 0.05, wrap(say(
            "review.left_out", lang, where=where,
            parts=joined((word("part", p, lang) for p in report.left_out), lang)), 150),
            fontsize=9, color=BAD, va="bottom")
    # headlines
    fig.text(0.04, 0.31, say("review.headlines", lang), fontsize=13, weight="bold", color=INK,
             va="top")
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
    lang = report.lang
    lines = []
    tiles = {t.key: t for t in report.kpis.tiles}
    if "cycle_median_workdays" in tiles:
        t = tiles["cycle_median_workdays"]
        lines.append(say("review.headline_cycle", lang, value=t.text(lang),
                         mom=t.change_text("mom", lang)))
    if report.necessity is not None:
        s = report.necessity.summary
        stream = s[s.verdict == "streamline"].sort_values("wait_median", ascending=False)
        if len(stream):
            r = stream.iloc[0]
            lines.append(say("review.headline_streamline", lang, node=r["node"],
                             rate=f"{r['rejection_rate']:.1%}", wait=f"{r['wait_median']:.1f}"))
        notice = s[s.verdict == "notice"].sort_values("rejections", ascending=False)
        if len(notice):
            r = notice.iloc[0]
            lines.append(say("review.headline_notice", lang, node=r["node"],
                             share=f"{r['missing_material_share']:.0%}"))
    if report.ledger is None:
        return lines
    ledger = report.ledger.summary
    overdue = ledger[ledger["overdue"]] if "overdue" in ledger else ledger
    if len(overdue):
        r = overdue.iloc[0]
        lines.append(say("review.headline_overdue", lang, n=len(overdue), case=r["case_id"],
                         days=r["days_overdue"], node=r["current_node"]))
    else:
        lines.append(say("review.headline_no_overdue", lang))
    return lines


# --- 2. trends --------------------------------------------------------------------------------

TREND_KPIS = ("completed", "cycle_median_workdays", "cycle_p90_workdays", "on_time_rate",
              "return_rate", "handoffs_per_case", "open_at_month_end", "open_overdue")


def _trends(report, footer, number):
    fig = new_page(_info(report, say("review.trends", report.lang), footer), number)
    short = say("review.redesign_mark", report.lang)
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
        _thin_months(ax, fig)
    return fig


def _thin_months(ax, fig, size: float = 7.0) -> None:
    """On a chart too narrow for a label per month (slanted at 45°, each needs about 1.7
    times its type size across), show every second or third, the last month always."""
    labels = ax.get_xticklabels()
    room = ax.get_position().width * fig.get_figwidth() * 72 / max(len(labels), 1)
    step = max(1, math.ceil(size * 1.7 / room))
    for k, label in enumerate(labels):
        label.set_visible((len(labels) - 1 - k) % step == 0)


# --- 3. process map -----------------------------------------------------------------------------

def _map(report, footer, number):
    fig = new_page(_info(report, say("review.map", report.lang), footer), number)
    if report.discovery is None:
        note(fig, 0.5, 0.5, say("review.none", report.lang), ha="center", fontsize=14)
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
    lang = report.lang
    title = say("review.necessity", lang, a=_month_label(a, lang), b=_month_label(b, lang))
    since = report.versions.since if report.versions is not None else {}
    if since:
        parts = [say("review.version_since", lang, type=k, date=v)
                 for k, v in sorted(since.items(), key=lambda kv: str(kv[0]))]
        title += say("review.current_versions", lang, versions=joined(parts, lang))
    return title


def _necessity_chart(report, footer, number):
    fig = new_page(_info(report, _necessity_title(report), footer), number)
    if report.necessity is None:
        note(fig, 0.5, 0.5, say("review.none", report.lang), ha="center", fontsize=14)
        return fig
    ax = fig.add_axes([0.07, 0.10, 0.72, 0.76])
    report.necessity.plot(ax=ax, lang=report.lang)
    ax.set_title("")
    return fig


def _necessity_table(report, footer, number):
    lang = report.lang
    title = say("review.necessity_table", lang)
    if report.necessity is None:
        return new_page(_info(report, title, footer, subtitle=_necessity_title(report)), number)
    s = report.necessity.summary
    cols = heads("necessity", lang)
    frame = pd.DataFrame({
        cols[0]: s["node"] + (" · " + s["process_type"].astype(str)
                              if report.necessity.by else ""),
        cols[1]: s["items"].map("{:,}".format),
        cols[2]: [f"{r:.1%} ({lo:.1%}–{hi:.1%})" for r, lo, hi in
                  zip(s["rejection_rate"], s["rejection_rate_ci_low"],
                      s["rejection_rate_ci_high"])],
        cols[3]: s["wait_median"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}"),
        cols[4]: s["wait_share"].map(lambda v: "—" if pd.isna(v) else f"{v:.0%}"),
        cols[5]: s["verdict"].map(lambda v: word("verdict", v, lang)),
        cols[6]: report.necessity.reason_text(lang).to_numpy(),
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
        fig = new_page(_info(report, title, footer, subtitle=_necessity_title(report)),
                       number + k)
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
    lang = report.lang
    return pd.DataFrame({
        columns[0]: removed["node"].to_numpy(), columns[1]: "—", columns[2]: "—",
        columns[3]: "—", columns[4]: "—", columns[5]: say("review.removed", lang),
        columns[6]: [say("review.removed_why", lang, process=p or "", date=d,
                         process_en=p or say("review.the_process", lang))
                     for p, d in zip(removed["process_type"], removed["date"])],
    })


def _not_judged_rows(report, columns) -> pd.DataFrame:
    """Steps that hold items but decide nothing: listed under the verdicts with their kind,
    why, and the waiting they cause (a finding in itself)."""
    lang = report.lang
    other = report.necessity.other_nodes
    if other is None or other.empty:
        return pd.DataFrame(columns=columns)
    other = other[(other["items"] + other["pending"] > 0)
                  & ~other["kind"].isin(["submit", "archive"])]
    return pd.DataFrame({
        columns[0]: other["node"].to_numpy(),
        columns[1]: other["items"].map("{:,}".format).to_numpy(),
        columns[2]: [word("kind", k, lang) for k in other["kind"]],
        columns[3]: other["wait_median"].map(lambda v: "—" if pd.isna(v) else f"{v:.1f}").to_numpy(),
        columns[4]: ["—"] * len(other),
        columns[5]: [say("review.not_judged", lang)] * len(other),
        columns[6]: [say("review.other_wait", lang, evidence=word("evidence", e, lang),
                         total=f"{t:,.0f}", items=f"{n:,}")
                     for e, t, n in zip(other["evidence"], other["wait_total"].fillna(0),
                                        other["items"])],
    })


# --- 5. bottlenecks -------------------------------------------------------------------------------

def _bottlenecks(report, footer, number):
    lang = report.lang
    fig = new_page(_info(report, say("review.bottlenecks", lang), footer), number)
    b = report.bottlenecks
    nodes = b.by_node.head(12)
    people = b.by_person.head(10)
    fmt = (lambda v: "—" if pd.isna(v) else f"{v:,.1f}")
    nc, pc = heads("bottleneck_nodes", lang), heads("bottleneck_people", lang)
    node_frame = pd.DataFrame({
        nc[0]: nodes["node"], nc[1]: nodes["wait_workhours"].map(fmt),
        nc[2]: nodes["wait_share"].map(lambda v: f"{v:.0%}"),
        nc[3]: nodes["items"], nc[4]: nodes["pending"],
        nc[5]: nodes["wait_median_workhours"].map(fmt)})
    person_frame = pd.DataFrame({
        pc[0]: people["resource"], pc[1]: people["dept"],
        pc[2]: people["wait_workhours"].map(fmt),
        pc[3]: people["wait_share"].map(lambda v: f"{v:.0%}"),
        pc[4]: people["items"], pc[5]: people["pending"],
        pc[6]: people["wait_median_workhours"].map(fmt)})
    bar = fig.add_axes([0.15, 0.50, 0.32, 0.36])
    top = nodes.head(8).iloc[::-1]
    bar.barh(top["node"], top["wait_workhours"], color=ACCENT, alpha=0.8)
    bar.set_xlabel(say("review.working_hours", lang), fontsize=8)
    bar.tick_params(labelsize=8)
    draw_table(fig.add_axes([0.52, 0.50, 0.44, 0.37]), node_frame, fontsize=7.5,
               widths=[0.26, 0.2, 0.1, 0.1, 0.1, 0.14])
    draw_table(fig.add_axes([0.04, 0.06, 0.92, 0.38]), person_frame, fontsize=7.5,
               widths=[0.14, 0.1, 0.16, 0.08, 0.08, 0.08, 0.12])
    return fig


# --- 6. overdue ledger ------------------------------------------------------------------------------

def _ledger(report, footer, number):
    lang = report.lang
    fig = new_page(_info(report, say("review.ledger", lang), footer), number)
    led = report.ledger.summary
    led = led[led["overdue"]] if "overdue" in led else led
    if led.empty:
        note(fig, 0.5, 0.55, say("review.no_overdue", lang), ha="center", fontsize=14,
             color=GOOD)
        return fig
    rows = 18
    shown = led.head(rows)
    cols = heads("overdue", lang)
    arrived = shown["held_since"].map(lambda t: "" if pd.isna(t) else f"{t:%m-%d %H:%M}")
    frame = pd.DataFrame({
        cols[0]: shown["case_id"], cols[1]: shown["process_type"],
        cols[2]: shown["title"].fillna(""),
        cols[3]: [step_text(n, b, lang) for n, b in zip(shown["current_node"],
                                                         shown["node_basis"])],
        cols[4]: [say("ledger.holder", lang, who=who, at=at)
                  for who, at in zip(shown["responsible"].fillna("—"), arrived)],
        cols[5]: [("—" if pd.isna(node) else say("ledger.delay", lang, node=node, who=who,
                                                    days=days))
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
        note(fig, 0.04, 0.085, say("review.more_rows", lang, n=len(led) - rows))
    return fig


# --- 7. scenario ----------------------------------------------------------------------------------

def _scenario(report, footer, number):
    sim = report.simulation
    lang = report.lang
    data = sim.to_dict()
    fig = new_page(_info(report, sim.title(lang), footer), number)
    frame = sim.table(lang)
    cols = list(frame.columns)
    draw_table(fig.add_axes([0.04, 0.66, 0.92, 0.21]), frame, fontsize=8,
               widths=[0.2, 0.06, 0.11, 0.13, 0.13, 0.1, 0.09, 0.07, 0.1],
               wrap_at={cols[0]: 26})
    basis = sim.basis(lang)
    warnings_ = data.get("warnings") or []
    note(fig, 0.04, 0.63, wrap(basis, 175) + "".join(
        "\n" + wrap(say("review.warning", lang, text=w), 170) for w in warnings_), fontsize=8.5)
    try:
        sim.plot(ax=fig.add_axes([0.30, 0.08, 0.40, 0.44]), lang=lang)
    except Exception as exc:  # noqa: BLE001 - a chart must never cost the whole report
        note(fig, 0.07, 0.4, say("review.chart_unavailable", lang, error=exc))
    return fig


# --- 8. before / after ------------------------------------------------------------------------------

def _before_after(report, footer, number, index):
    lang = report.lang
    ba = report.before_after[index]
    title = say("review.before_after", lang, name=ba.redesign.name,
                date=ba.redesign.date.isoformat())
    fig = new_page(_info(report, title, footer), number)
    s = ba.summary
    pct = (lambda v, lo, hi: "—" if pd.isna(v) else f"{v:.1%} ({lo:.0%}–{hi:.0%})")
    num = (lambda v: "—" if pd.isna(v) else f"{v:.2f}")
    cols = heads("before_after", lang)
    frame = pd.DataFrame({
        cols[0]: [f"{word('period', p, lang)} ({a} – {b})" for p, a, b in zip(s["period"], s["from"], s["to"])],
        cols[1]: s["cases"],
        cols[2]: s["cycle_median_workdays"].map(num),
        cols[3]: s["cycle_p90_workdays"].map(num),
        cols[4]: [pct(v, lo, hi) for v, lo, hi in zip(s["on_time_rate"], s["on_time_rate_ci_low"], s["on_time_rate_ci_high"])],
        cols[5]: [pct(v, lo, hi) for v, lo, hi in zip(s["return_rate"], s["return_rate_ci_low"], s["return_rate_ci_high"])],
        cols[6]: s["handoffs_per_case"].map(num)})
    widths = [0.26, 0.07, 0.15, 0.11, 0.15, 0.15, 0.11]
    if "noncompliance_rate" in s:
        frame[cols[7]] = [pct(v, lo, hi) for v, lo, hi in zip(s["noncompliance_rate"],
                                                              s["noncompliance_rate_ci_low"],
                                                              s["noncompliance_rate_ci_high"])]
        widths = [0.22, 0.06, 0.13, 0.1, 0.13, 0.13, 0.1, 0.13]
    draw_table(fig.add_axes([0.04, 0.66, 0.92, 0.20]), frame, fontsize=9, widths=widths,
               wrap_at={frame.columns[2]: 14})
    _effect_table(fig, ba.effect, lang)
    ax = fig.add_axes([0.08, 0.07, 0.36, 0.27])
    labels = [word("period", p, lang) for p in s["period"]]
    ax.bar(labels, s["cycle_median_workdays"], color=[MUTED, ACCENT])
    ax.set_ylabel(say("review.median_cycle_workdays", lang))
    for x, v in enumerate(s["cycle_median_workdays"]):
        if not pd.isna(v):
            ax.text(x, v, f"{v:.2f}", ha="center", va="bottom", fontsize=10)
    scope = ba.redesign.process_type or say("review.all_processes", lang)
    basis = say("review.before_after_basis", lang, scope=scope, months=ba.window_months)
    note(fig, 0.52, 0.33, wrap(basis, 72), fontsize=9)
    return fig


def _effect_table(fig, effect, lang: str) -> None:
    """The redesign's effect against a control, beside the naive change, with the three
    targets of reform practice (met / not met / not measurable) and the assumption."""
    if effect is None:
        return
    s = effect.summary
    pct = (lambda v: "—" if pd.isna(v) else f"{v:+.1%}")
    cols = heads("effect", lang)
    frame = pd.DataFrame({
        cols[0]: s["measure_zh"] if lang == "zh" else s["measure"],
        cols[1]: s["naive_change"].map(pct),
        cols[2]: ["—" if pd.isna(e) else say("review.effect_range", lang, effect=pct(e),
                                              lo=pct(lo), hi=pct(hi))
                  for e, lo, hi in zip(s["effect"], s["ci_low"], s["ci_high"])],
        cols[3]: [f"-{t:.0%}" for t in s["target"]],
        cols[4]: s["status"].map(lambda v: word("status", v, lang))})
    draw_table(fig.add_axes([0.04, 0.47, 0.92, 0.16]), frame, fontsize=9,
               widths=[0.2, 0.17, 0.33, 0.12, 0.18])
    if effect.method == "difference_in_differences":
        how = say("review.effect_did", lang, control=joined(effect.control, lang))
    elif effect.method == "interrupted_time_series":
        how = say("review.effect_its", lang)
    else:
        how = say("review.effect_none", lang)
    n = s.set_index("key")
    how += say("review.effect_n", lang, before=n.loc["cycle_time", "n_before"],
               after=n.loc["cycle_time", "n_after"])
    note(fig, 0.04, 0.44, wrap(how, 120), fontsize=8.5)


#: Pages of the parts an engine may leave out (`MonthlyReport.left_out`).
_PART_PAGES = {"process_map": _map, "bottlenecks": _bottlenecks, "overdue_ledger": _ledger}


# --- 9. data quality -------------------------------------------------------------------------------

def _quality(report, footer, number):
    lang = report.lang
    fig = new_page(_info(report, say("review.quality", lang), footer), number)
    lines = report.log.report.lines(lang) if report.log.report else []
    lines.append("")
    lines.append(say("review.calendar", lang, text=report.calendar.describe(lang)))
    lines.append(say("review.sla", lang, text=report.sla.describe(lang)))
    if report.necessity is not None:
        s = report.necessity.summary
        lines.append(say("review.waits", lang, recorded=int(s["wait_recorded_items"].sum()),
                         inferred=int(s["wait_inferred_items"].sum())))
        t = report.necessity.thresholds
        lines.append(say("review.thresholds", lang, m=t.min_items, thr=t.rejection_threshold,
                         w=t.long_wait_workhours, ns=t.notice_share))
        lines += [say("review.warning", lang, text=in_lang(w, lang))
                  for w in report.necessity.warnings]
    lines += [say("review.warning", lang, text=in_lang(w, lang)) for w in report.warnings]
    lines += [say("review.not_here", lang, part=word("part", part, lang),
                  why=left_out_why(part, report.engine, lang)) for part in report.left_out]
    if report.pseudonymization is not None:
        lines.append(report.pseudonymization.describe(lang))
    wrapped = "\n".join(wrap(line, 175) for line in lines)
    note(fig, 0.04, 0.87, wrapped, fontsize=8, color=INK, linespacing=1.45)
    return fig
