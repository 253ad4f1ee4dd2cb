"""The review's conformance page (流程合规检查): the month's departures from the standard
procedures by kind and step, and the cases that departed most."""

from __future__ import annotations

import pandas as pd

from officemine.conformance import KINDS
from officemine.rendering.layout import BAD, GOOD, INK, draw_table, new_page, note, wrap
from officemine.base.text import heads, joined, say, word

def conformance_page(report, footer, number):
    """The month's departures: a headline, counts by kind, the chart by step, the worst cases."""
    lang = report.lang
    result = report.conformance
    from officemine.rendering.pages import _info

    fig = new_page(_info(report, say("conformance.title", lang), footer), number)
    pct = (lambda v: "—" if v is None or pd.isna(v) else f"{v:.1%}")
    if result.n_cases:
        lo, hi = result.ci
        head = say("conformance.headline", lang, n=result.n_cases, k=result.n_deviating,
                   share=pct(result.share), lo=pct(lo), hi=pct(hi),
                   unchecked=result.not_checked)
    else:
        head = say("conformance.none", lang)
    note(fig, 0.04, 0.875, wrap(head, 190), fontsize=10.5,
         color=BAD if result.n_deviating else GOOD)
    s = result.summary
    cols = heads("conformance_kinds", lang)
    kinds = pd.DataFrame({
        cols[0]: [word("kind", k, lang, "conformance") for k in s["kind"]],
        cols[1]: s["cases"].map("{:,}".format),
        cols[2]: [f"{v:.1%} ({a:.1%}–{b:.1%})" if not pd.isna(v) else "—"
                  for v, a, b in zip(s["share"], s["ci_low"], s["ci_high"])],
        cols[3]: s["deviations"].map("{:,}".format)})
    draw_table(fig.add_axes([0.04, 0.56, 0.40, 0.26]), kinds, fontsize=8.5,
               widths=[0.28, 0.16, 0.36, 0.2])
    ax = fig.add_axes([0.60, 0.48, 0.36, 0.28])
    result._plot_steps(ax, lang == "zh", top=8)
    ax.title.set_fontsize(10)
    ax.tick_params(labelsize=7.5)
    worst = result.worst(12)
    if len(worst):
        wc = heads("conformance_worst", lang)
        frame = pd.DataFrame({
            wc[0]: worst["case_id"], wc[1]: worst["process_type"],
            wc[2]: worst["deviations"],
            wc[3]: [joined((word("kind", k, lang, "conformance") for k in ks), lang)
                    for ks in worst["kinds"]],
            wc[4]: ["、".join(map(str, st)) for st in worst["steps"]]})
        note(fig, 0.04, 0.405, say("conformance.worst", lang), fontsize=11, color=INK,
             weight="bold")
        draw_table(fig.add_axes([0.04, 0.14, 0.92, 0.25]), frame, fontsize=8,
                   widths=[0.16, 0.1, 0.08, 0.3, 0.36], wrap_at={wc[4]: 60})
    basis = say("conformance.basis", lang, basis=say("conformance.basis_text", lang),
                procedures=result.procedures.label)
    note(fig, 0.04, 0.12, wrap(basis, 200), fontsize=7.5)
    return fig


__all__ = ["conformance_page", "KINDS"]
