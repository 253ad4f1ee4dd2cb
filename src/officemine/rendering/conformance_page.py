"""The review's conformance page (流程合规检查): the month's departures from the standard
procedures by kind and step, and the cases that departed most."""

from __future__ import annotations

import pandas as pd

from officemine.conformance import KINDS, KIND_NAMES
from officemine.rendering.layout import BAD, GOOD, INK, draw_table, new_page, note, wrap

WORDS = {
    "zh": {
        "title": "流程合规检查：偏离标准流程的情况（本月办结的件）",
        "headline": "核对 {n:,} 件，{k:,} 件至少有一处偏离标准流程，不合规率 {share}（95% 区间 {lo}–{hi}）；"
                    "另有 {unchecked:,} 件无适用的标准流程，未核对。",
        "none": "本月办结的件均符合标准流程。",
        "cols_kind": ["偏离类型", "件数", "占核对件数", "处数"],
        "cols_worst": ["流程编号", "流程类型", "偏离处数", "偏离类型", "涉及环节"],
        "worst": "偏离最多的件",
        "basis": "口径：{basis}。标准流程：{procedures}。偏离类型：跳过环节＝必经环节未办理；多出环节＝标准流程没有"
                 "（或条件不满足时不应有）的环节；顺序不符＝环节都在，先后不对；本人审批＝申请人在禁止本人审批的环节"
                 "作出决定；越权审批＝决定人不在该环节规定的部门、人员或角色之内。明细见 Excel 附表。",
        "basis_text": "按发起时有效的标准流程逐件、逐轮核对（被退回、否决、撤回的一轮只核对到其最后一步）；不合规率 = "
                      "至少有一处偏离的件数 ÷ 核对件数，附 Wilson 95% 区间",
    },
    "en": {
        "title": "Conformance: departures from the standard procedures (cases completed this month)",
        "headline": "{n:,} cases checked, {k:,} departed from their standard procedure at least once: "
                    "non-compliance rate {share} (95% CI {lo}–{hi}); {unchecked:,} cases had no "
                    "procedure in force and were not checked.",
        "none": "Every case completed this month followed its standard procedure.",
        "cols_kind": ["kind", "cases", "share of cases checked", "deviations"],
        "cols_worst": ["case", "process", "deviations", "kinds", "steps"],
        "worst": "Cases with the most deviations",
        "basis": "Basis: {basis}. Procedures: {procedures}. Kinds: skipped = a required step "
                 "never decided; unexpected = a step the procedure does not have (or has only "
                 "under a condition that did not hold); out of order = the steps are right, the "
                 "order is not; self-approval = the applicant decided where the procedure forbids "
                 "it; authority = decided by someone outside the step's departments, people or "
                 "roles. Details in the workbook.",
        "basis_text": "each case's rounds held against the procedure in force at its start (a "
                      "round ended by a return, rejection or withdrawal only up to its last "
                      "step); share of cases with at least one deviation, Wilson 95% interval",
    },
}


def conformance_page(report, footer, number):
    """The month's departures: a headline, counts by kind, the chart by step, the worst cases."""
    words = WORDS[report.lang]
    zh = report.lang == "zh"
    result = report.conformance
    from officemine.rendering.pages import _info

    fig = new_page(_info(report, words["title"], footer), number)
    pct = (lambda v: "—" if v is None or pd.isna(v) else f"{v:.1%}")
    if result.n_cases:
        lo, hi = result.ci
        head = words["headline"].format(n=result.n_cases, k=result.n_deviating,
                                        share=pct(result.share), lo=pct(lo), hi=pct(hi),
                                        unchecked=result.not_checked)
    else:
        head = words["none"]
    note(fig, 0.04, 0.875, wrap(head, 190), fontsize=10.5,
         color=BAD if result.n_deviating else GOOD)
    s = result.summary
    cols = words["cols_kind"]
    kinds = pd.DataFrame({
        cols[0]: [KIND_NAMES[k][0 if zh else 1] if k in KIND_NAMES else
                  ("任一偏离" if zh else "any") for k in s["kind"]],
        cols[1]: s["cases"].map("{:,}".format),
        cols[2]: [f"{v:.1%} ({a:.1%}–{b:.1%})" if not pd.isna(v) else "—"
                  for v, a, b in zip(s["share"], s["ci_low"], s["ci_high"])],
        cols[3]: s["deviations"].map("{:,}".format)})
    draw_table(fig.add_axes([0.04, 0.56, 0.40, 0.26]), kinds, fontsize=8.5,
               widths=[0.28, 0.16, 0.36, 0.2])
    ax = fig.add_axes([0.60, 0.48, 0.36, 0.28])
    result._plot_steps(ax, zh, top=8)
    ax.title.set_fontsize(10)
    ax.tick_params(labelsize=7.5)
    worst = result.worst(12)
    if len(worst):
        wc = words["cols_worst"]
        frame = pd.DataFrame({
            wc[0]: worst["case_id"], wc[1]: worst["process_type"],
            wc[2]: worst["deviations"],
            wc[3]: ["、".join(KIND_NAMES[k][0 if zh else 1] for k in ks) for ks in worst["kinds"]],
            wc[4]: ["、".join(map(str, st)) for st in worst["steps"]]})
        note(fig, 0.04, 0.405, words["worst"], fontsize=11, color=INK, weight="bold")
        draw_table(fig.add_axes([0.04, 0.14, 0.92, 0.25]), frame, fontsize=8,
                   widths=[0.16, 0.1, 0.08, 0.3, 0.36], wrap_at={wc[4]: 60})
    basis = words["basis"].format(basis=words["basis_text"], procedures=result.procedures.label)
    note(fig, 0.04, 0.12, wrap(basis, 200), fontsize=7.5)
    return fig


__all__ = ["conformance_page", "WORDS", "KINDS"]
