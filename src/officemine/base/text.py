"""The text catalogue: what officemine's tables are called in Chinese and in English.

Results hold codes and field names (``wait_workhours_median``, ``verdict``); a reader of a
deliverable sees the words for them in the report's language. Every table label lives here,
once — the KPIs, the necessity test, the supervision ledger, the workbook's sheets — so the
PDF, the workbook, the notebooks and the CLI say the same thing the same way.
"""

from __future__ import annotations

import pandas as pd

from officemine.base.choices import LANGS, Lang
from officemine.base.errors import ChoiceError

#: Column labels (zh, en), by field name.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    'item_id': ('台账编号', 'Entry'),
    'case_id': ('流程编号', 'Case'),
    'process_type': ('流程类型', 'Process type'),
    'title': ('标题', 'Title'),
    'applicant': ('申请人', 'Applicant'),
    'applicant_dept': ('申请部门', "Applicant's department"),
    'submitted_at': ('提交时间', 'Submitted'),
    'sla_days': ('时限（工作日）', 'SLA (working days)'),
    'due_at': ('应办结时间', 'Due'),
    'status': ('台账状态', 'Status'),
    'opened_week': ('列入周', 'Entered (week)'),
    'closed_week': ('销号周', 'Struck off (week)'),
    'closed_at': ('办结时间', 'Case ended'),
    'close_status': ('办结方式', 'How it ended'),
    'days_to_close': ('超期至办结（工作日）', 'Overdue until it ended (working days)'),
    'reopened': ('重新列入次数', 'Times reopened'),
    'week': ('周', 'Week'),
    'as_of': ('截至', 'As of'),
    'state': ('本周状态', 'State this week'),
    'section': ('栏目', 'Section'),
    'weeks_on_ledger': ('在账周数', 'Weeks on the ledger'),
    'current_node': ('当前节点', 'Current node'),
    'current_step': ('当前环节', 'Current step'),
    'node_basis': ('节点依据', 'Node basis'),
    'responsible': ('当前办理人', 'Responsible'),
    'responsible_dept': ('办理人部门', "Responsible's dept"),
    'held_since': ('到达当前环节时间', 'Held since'),
    'working_days_open': ('已用工作日', 'Working days open'),
    'days_overdue': ('超期工作日', 'Working days overdue'),
    'reminders_in_log': ('系统内催办次数', 'Reminders in the OA'),
    'reminders_sent': ('本台账提醒次数', 'Reminders sent'),
    'last_action': ('最后操作', 'Last action'),
    'last_action_at': ('最后操作时间', 'Last action at'),
    'opened_this_week': ('本周列入', 'Entered this week'),
    'open_items': ('在办超期件数', 'Open overdue items'),
    'new_items': ('本周新增', 'New this week'),
    'max_days_overdue': ('最长超期工作日', 'Most working days overdue'),
    'start_basis': ('起算依据', 'Start basis'),
    'clock_days_open': ('已用自然日', 'Clock days open'),
    'overdue': ('是否超期', 'Overdue'),
    'last_action_zh': ('最后操作', 'Last action (zh)'),
    'last_action_node': ('最后操作节点', "Last action's node"),
    'last_action_by': ('最后操作人', 'Last action by'),
    'reminders': ('催办次数', 'Reminders'),
    'delay_step': ('主要延误环节', 'Step that used most time'),
    'delay_held_by': ('延误环节办理人', 'Held there by'),
    'delay_workdays': ('延误环节用时（工作日）', 'Time there (working days)'),
    'cases': ('件数', 'Cases'),
    'days_overdue_total': ('超期工作日合计', 'Working days overdue, total'),
    'days_overdue_max': ('最长超期工作日', 'Working days overdue, max'),
    'days_overdue_median': ('超期工作日中位数', 'Working days overdue, median'),
    'oldest_submitted_at': ('最早提交时间', 'Oldest submitted'),
    'nodes': ('涉及节点', 'Nodes'),
    'node': ('节点', 'Node'),
    'resource': ('办理人', 'Person'),
    'dept': ('部门', 'Department'),
    'wait_workhours': ('等待工时', 'Waiting (working hours)'),
    'wait_share': ('等待工时占比', 'Share of waiting'),
    'items': ('办理事项数', 'Items'),
    'decided': ('本期办结事项数', 'Items decided'),
    'pending': ('未办事项数', 'Items pending'),
    'wait_median_workhours': ('等待时长中位数（工时）', 'Median wait (working hours)'),
    'wait_p90_workhours': ('等待时长P90（工时）', 'Wait p90 (working hours)'),
    'wait_hours': ('等待时长（自然小时）', 'Waiting (clock hours)'),
    'month': ('月份', 'Month'),
    'has_data': ('有数据', 'Has data'),
    'note': ('说明', 'Note'),
    'archived': ('归档件数', 'Archived'),
    'rejected': ('拒绝件数', 'Rejected'),
    'withdrawn': ('撤回件数', 'Withdrawn'),
    'cycle_n': ('计时件数', 'Cases timed'),
    'cycle_from_first_event': ('无提交记录件数', 'Timed from first event'),
    'cycle_mean_workdays': ('办理时长均值', 'Mean cycle time'),
    'on_time': ('按时办结件数', 'Completed on time'),
    'on_time_ci_low': ('限时办结率下限', 'On-time rate, CI low'),
    'on_time_ci_high': ('限时办结率上限', 'On-time rate, CI high'),
    'returned_cases': ('被退回件数', 'Cases returned'),
    'returns': ('退回次数', 'Returns'),
    'return_rate_ci_low': ('退回率下限', 'Return rate, CI low'),
    'return_rate_ci_high': ('退回率上限', 'Return rate, CI high'),
    'handoffs': ('跨部门流转次数', 'Hand-offs'),
    'kpi': ('指标', 'KPI'),
    'value': ('本月值', 'Value'),
    'previous': ('比较值', 'Comparison value'),
    'key': ('指标代码', 'Key'),
    'name_zh': ('指标', 'KPI (zh)'),
    'name_en': ('指标（英文）', 'KPI'),
    'unit_zh': ('单位', 'Unit (zh)'),
    'unit_en': ('单位（英文）', 'Unit'),
    'n': ('样本量', 'n'),
    'ci_low': ('置信下限', 'CI low'),
    'ci_high': ('置信上限', 'CI high'),
    'mom_month': ('环比月份', 'MoM month'),
    'mom_previous': ('上月值', 'Previous month'),
    'mom_abs': ('环比变化', 'MoM change'),
    'mom_rel': ('环比变化率', 'MoM change, relative'),
    'mom_reason': ('环比缺失原因', 'MoM reason'),
    'mom_note': ('环比说明', 'MoM note'),
    'yoy_month': ('同比月份', 'YoY month'),
    'yoy_previous': ('上年同月值', 'Same month last year'),
    'yoy_abs': ('同比变化', 'YoY change'),
    'yoy_rel': ('同比变化率', 'YoY change, relative'),
    'yoy_reason': ('同比缺失原因', 'YoY reason'),
    'yoy_note': ('同比说明', 'YoY note'),
    'basis_zh': ('口径', 'Basis (zh)'),
    'basis_en': ('口径（英文）', 'Basis'),
    'cover': ('封面指标', 'Cover tile'),
    'better': ('改善方向', 'Better when'),
    'conformance_n': ('核对件数', 'Cases checked'),
    'noncompliant': ('不合规件数', 'Non-compliant cases'),
    'noncompliance_ci_low': ('不合规率下限', 'Non-compliance rate, CI low'),
    'noncompliance_ci_high': ('不合规率上限', 'Non-compliance rate, CI high'),
    # --- the necessity test
    'pending': ('未办事项数', 'Items pending'), 'approvals': ('通过次数', 'Approvals'),
    'rejections': ('退回/否决次数', 'Returns and rejections'), 'rejects': ('否决次数', 'Rejections'),
    'rejection_rate': ('退回/否决率', 'Rejection rate'),
    'rejection_rate_ci_low': ('退回/否决率下限', 'Rejection rate, CI low'),
    'rejection_rate_ci_high': ('退回/否决率上限', 'Rejection rate, CI high'),
    'wait_hours_median': ('等待中位数（自然小时）', 'Median wait (clock hours)'),
    'wait_hours_p90': ('等待P90（自然小时）', 'Wait p90 (clock hours)'),
    'wait_hours_mean': ('等待均值（自然小时）', 'Mean wait (clock hours)'),
    'wait_workhours_median': ('等待中位数（工时）', 'Median wait (working hours)'),
    'wait_workhours_p90': ('等待P90（工时）', 'Wait p90 (working hours)'),
    'wait_workhours_mean': ('等待均值（工时）', 'Mean wait (working hours)'),
    'wait_median': ('等待中位数（判定口径）', 'Median wait (as judged)'),
    'wait_p90': ('等待P90（判定口径）', 'Wait p90 (as judged)'),
    'wait_source': ('到达时间依据', 'Arrival taken from'),
    'wait_recorded_items': ('记录到达时间的事项数', 'Items with a recorded arrival'),
    'wait_inferred_items': ('推断到达时间的事项数', 'Items with an inferred arrival'),
    'wait_total': ('等待合计', 'Waiting, total'), 'cost_rank': ('等待成本排名', 'Rank by waiting'),
    'caught_downstream': ('下游拦截次数', 'Caught downstream'),
    'downstream_catch_rate': ('下游拦截率', 'Downstream catch rate'),
    'downstream_catch_ci_low': ('下游拦截率下限', 'Downstream catch rate, CI low'),
    'downstream_catch_ci_high': ('下游拦截率上限', 'Downstream catch rate, CI high'),
    'missing_material_share': ('材料不全占比', 'Share for missing material'),
    'reasons_recorded': ('记录理由的退回次数', 'Returns with a reason'),
    'top_reason': ('主要退回理由', 'Main reason'), 'leadership': ('领导环节', 'Leader\'s step'),
    'threshold': ('判定阈值', 'Threshold'), 'verdict': ('结论', 'Verdict'),
    'reason': ('理由', 'Reason'),
    # --- process versions, variants, the process map, a case's dossier
    'date': ('日期', 'Date'), 'kind': ('类型', 'Kind'), 'source': ('依据', 'Source'),
    'cases_before': ('之前件数', 'Cases before'), 'share_before': ('之前占比', 'Share before'),
    'cases_after': ('之后件数', 'Cases after'), 'last_seen': ('最后出现', 'Last seen'),
    'first_seen': ('首次出现', 'First seen'), 'variant': ('路径编号', 'Variant'),
    'share': ('占比', 'Share'), 'open': ('在办件数', 'Open'),
    'median_cycle_hours': ('办理时长中位数（自然小时）', 'Median cycle (clock hours)'),
    'median_cycle_workdays': ('办理时长中位数（工作日）', 'Median cycle (working days)'),
    'steps': ('环节数', 'Steps'), 'path': ('路径', 'Path'), 'visits': ('经过次数', 'Visits'),
    'starts': ('起点次数', 'Starts'), 'ends': ('终点次数', 'Ends'),
    'median_wait_workhours': ('等待中位数（工时）', 'Median wait (working hours)'),
    'median_wait_hours': ('等待中位数（自然小时）', 'Median wait (clock hours)'),
    'recorded_share': ('记录到达时间的占比', 'Share with a recorded arrival'),
    'pending_items': ('未办事项数', 'Items pending'), 'position': ('位置', 'Position'),
    'target': ('目标', 'Target'), 'transitions': ('转移次数', 'Transitions'),
    'median_transition_hours': ('转移用时中位数（自然小时）', 'Median transition (clock hours)'),
    'median_transition_workhours': ('转移用时中位数（工时）', 'Median transition (working hours)'),
    'visit': ('到达序号', 'Visit'), 'held_by': ('办理人', 'Held by'),
    'arrived_at': ('到达时间', 'Arrived'), 'arrival_source': ('到达时间依据', 'Arrival taken from'),
    'left_at': ('离开时间', 'Left'), 'outcome': ('结果', 'Outcome'),
    'working_days': ('工作日', 'Working days'), 'clock_days': ('自然日', 'Clock days'),
    # --- before and after a redesign, its effect against a control
    'period': ('阶段', 'Period'), 'from': ('起', 'From'), 'to': ('止', 'To'),
    'on_time_rate_ci_low': ('限时办结率下限', 'On-time rate, CI low'),
    'on_time_rate_ci_high': ('限时办结率上限', 'On-time rate, CI high'),
    'noncompliance_rate_ci_low': ('不合规率下限', 'Non-compliance rate, CI low'),
    'noncompliance_rate_ci_high': ('不合规率上限', 'Non-compliance rate, CI high'),
    'measure': ('指标', 'Measure'), 'n_before': ('之前样本量', 'n before'),
    'n_after': ('之后样本量', 'n after'), 'method': ('方法', 'Method'),
    'naive_before': ('改革前（简单对比）', 'Before (naive)'),
    'naive_after': ('改革后（简单对比）', 'After (naive)'),
    'naive_change': ('简单对比变化', 'Naive change'),
    'n_control_before': ('对照组之前样本量', 'Control n before'),
    'n_control_after': ('对照组之后样本量', 'Control n after'),
    'effect': ('效果估计', 'Effect'), 'clear_of_zero': ('区间不含零', 'Interval clear of zero'),
    # --- a redesign scenario
    'scenario': ('方案', 'Scenario'), 'changed_cases': ('改变的件数', 'Cases changed'),
    'baseline_median_h': ('现状中位数（小时）', 'As-is median (h)'),
    'redesign_median_h': ('方案中位数（小时）', 'Redesign median (h)'),
    'median_pct': ('中位数缩短（%）', 'Median reduction (%)'),
    'median_pct_ci_low': ('中位数缩短下限', 'Median reduction, CI low'),
    'median_pct_ci_high': ('中位数缩短上限', 'Median reduction, CI high'),
    'baseline_mean_h': ('现状均值（小时）', 'As-is mean (h)'),
    'redesign_mean_h': ('方案均值（小时）', 'Redesign mean (h)'),
    'mean_pct': ('均值缩短（%）', 'Mean reduction (%)'),
    'mean_pct_ci_low': ('均值缩短下限', 'Mean reduction, CI low'),
    'mean_pct_ci_high': ('均值缩短上限', 'Mean reduction, CI high'),
    'p90_pct': ('P90缩短（%）', 'p90 reduction (%)'),
    'baseline_median_workdays': ('现状中位数（工作日）', 'As-is median (working days)'),
    'redesign_median_workdays': ('方案中位数（工作日）', 'Redesign median (working days)'),
    'affected_share': ('受影响件占比', 'Share of cases affected'),
    'affected_median_pct': ('受影响件中位数缩短（%）', 'Median reduction of those affected (%)'),
    'waiting_hours_removed': ('减少等待工时', 'Waiting hours removed'),
    'approval_actions_removed': ('减少审批操作', 'Approval actions removed'),
    'returns_avoided': ('减少退回', 'Returns avoided'),
    'handoffs_per_case_before': ('件均跨部门流转（现状）', 'Hand-offs per case (as is)'),
    'handoffs_per_case_after': ('件均跨部门流转（方案）', 'Hand-offs per case (redesign)'),
    # --- conformance to the standard procedures
    'deviations': ('偏离次数', 'Departures'), 'checked': ('核对件数', 'Cases checked'),
    'step': ('环节', 'Step'), 'skipped': ('跳过', 'Skipped'), 'unexpected': ('标准之外', 'Unexpected'),
    'out_of_order': ('顺序不符', 'Out of order'), 'self_approval': ('自批', 'Self-approval'),
    'authority': ('越权', 'Beyond authority'), 'procedure': ('标准流程', 'Procedure'),
    'round': ('轮次', 'Round'), 'seq': ('序号', 'Sequence'),
    # --- what a review leaves out, pseudonyms
    'part': ('部分', 'Part'), 'why': ('原因', 'Why'),
    'where': ('位置', 'Where'), 'holds': ('内容', 'Holds'),
    'distinct_values_changed': ('替换的不同值个数', 'Distinct values changed'),
}

#: Labels of fields whose meaning depends on the table they are in: (table, field) -> labels.
IN_TABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("map_arcs", "source"): ("来源节点", "From"), ("map_arcs", "target"): ("去向节点", "To"),
    ("dossiers", "open"): ("是否在办", "Open"), ("effect", "status"): ("判定", "Status"),
    ("effect", "target"): ("目标", "Target"), ("conformance", "name_zh"): ("名称", "Name"),
    ("necessity", "items"): ("审批事项数", "Items"), ("necessity", "cases"): ("件数", "Cases"),
    ("pseudonymization", "kind"): ("类别", "Kind"),
}

#: Workbook sheets (zh, en); ``before_after_2`` and the like are numbered from their stem.
SHEETS: dict[str, tuple[str, str]] = {
    "kpis": ("指标", "KPIs"), "kpis_by_process": ("分流程指标", "KPIs by process"),
    "trend": ("近12个月趋势", "Trend"), "necessity": ("节点必要性", "Necessity"),
    "versions": ("流程版本", "Process versions"), "variants": ("路径变体", "Variants"),
    "map_nodes": ("流程图节点", "Map nodes"), "map_arcs": ("流程图连线", "Map arcs"),
    "bottleneck_nodes": ("瓶颈节点", "Bottleneck nodes"),
    "bottleneck_people": ("瓶颈审批人", "Bottleneck approvers"),
    "overdue": ("超期清单", "Overdue"), "dossiers": ("一事一档", "Dossiers"),
    "before_after": ("改革前后", "Before and after"), "before_after_effect": ("改革效果", "Effect"),
    "scenario": ("方案测算", "Scenario"), "pseudonymization": ("匿名化", "Pseudonyms"),
    "ledger": ("督办台账", "Ledger"), "left_out": ("未列入部分", "Left out"),
    "conformance": ("合规检查", "Conformance"),
    "conformance_by_step": ("分环节合规", "Conformance by step"),
    "conformance_deviations": ("偏离明细", "Departures"),
}

#: Phrases drawn on charts and pages, with their parameters: key -> (zh, en).
PHRASES: dict[str, tuple[str, str]] = {
    "map.title": ("流程图 · {scope} · {cases:,} 件 ({span})",
                  "Process map · {scope} · {cases:,} cases ({span})"),
    "map.all_types": ("全部流程类型", "all process types"),
    "map.wait_scale": ("中位等待（工作小时）", "median wait (working hours)"),
    "map.node_visits": ("{n:,}次", "{n:,}×"),
    "map.node_wait": ("等待{wait}工时 ({clock})", "wait {wait} wh ({clock})"),
    "map.note_nodes": ("节点：访问次数 · 中位等待（工作小时，日历：{calendar}；括号内为时钟小时）",
                       "Nodes: visits · median wait in working hours (wh; the calendar is on the "
                       "data-quality page), clock hours in brackets"),
    "map.note_arcs": ("连线上数字 = 转移次数；红色虚线 = 退回（从退回的节点到下一处理节点）",
                      "Numbers on arcs = transitions; red dashed = returns (from the returning "
                      "node to the next one acting)"),
    "map.note_other_back": ("；棕色虚线 = 其他回流", "; brown dashed = other loops back"),
    "map.hidden": ("已隐藏：转移次数 < {min} 的 {arcs} 条连线（共 {transitions:,} 次转移，其中退回连线 "
                   "{returns} 条）", "Hidden: {arcs} arcs with fewer than {min} transitions "
                   "({transitions:,} transitions, {returns} of them return arcs)"),
    "map.hidden_nodes": ("、访问 < {min} 的 {nodes} 个节点",
                         ", {nodes} nodes with fewer than {min} visits"),
    "map.hidden_none": ("未隐藏任何连线（阈值 {min}）", "No arc hidden (threshold {min})"),
    "map.outside": ("紫色 = 标准流程之外：{nodes} 个环节（虚线框）、{arcs} 条连线（标准流程不允许的先后"
                    "顺序，含跳过环节）", "Purple = outside the standard procedures: {nodes} "
                    "steps (dashed boxes), {arcs} arcs (orders the procedures do not allow, skipped "
                    "steps included)"),
}

_ZH, _EN = "_zh", "_en"


def say(key: str, lang: Lang = "zh", **params) -> str:
    """The phrase `key` in `lang`, its parameters filled in."""
    ChoiceError.check("lang", lang, LANGS)
    return PHRASES[key][0 if lang == "zh" else 1].format(**params)


def add_labels(labels: dict[str, tuple[str, str]]) -> None:
    """Labels defined with what they label (the KPI definitions name their KPIs)."""
    COLUMN_LABELS.update(labels)


def label(field: str, lang: Lang = "zh", table: str | None = None) -> str:
    """The word for `field` in `lang` (the field name itself when it has none)."""
    ChoiceError.check("lang", lang, LANGS)
    pair = IN_TABLE.get((table, field)) or COLUMN_LABELS.get(field)
    return pair[0 if lang == "zh" else 1] if pair else field


def relabel(frame: pd.DataFrame, lang: Lang = "zh", table: str | None = None) -> pd.DataFrame:
    """A copy of `frame` with column labels in Chinese (``"zh"``) or English (``"en"``)."""
    ChoiceError.check("lang", lang, LANGS)
    return frame.rename(columns={c: label(c, lang, table) for c in frame.columns})


def for_reader(frame: pd.DataFrame, lang: Lang, table: str | None = None) -> pd.DataFrame:
    """`frame` as a reader of `lang` sees it: a column kept in both languages (``reason``
    beside ``reason_zh``, ``unit_zh``/``unit_en``) shown once, in `lang`, and every label
    in `lang`."""
    ChoiceError.check("lang", lang, LANGS)
    columns = set(frame.columns)
    drop, rename = [], {}
    for column in frame.columns:
        if column.endswith(_ZH):
            stem = column[:-len(_ZH)]
            if lang == "en":
                drop.append(column)
            elif stem in columns:             # reason + reason_zh: the Chinese under reason
                drop.append(stem)
                rename[column] = stem
        elif column.endswith(_EN) and lang == "zh" and column[:-len(_EN)] + _ZH in columns:
            drop.append(column)
    shown = frame.drop(columns=drop).rename(columns=rename)
    return relabel(shown, lang, table)


def sheet_name(code: str, lang: Lang) -> str:
    """A workbook sheet's name in `lang`: ``before_after_2_effect`` → ``改革效果2``."""
    ChoiceError.check("lang", lang, LANGS)
    stem, number = code, ""
    parts = code.split("_")
    digits = [p for p in parts if p.isdigit()]
    if digits:
        number = digits[0]
        stem = "_".join(p for p in parts if not p.isdigit())
    pair = SHEETS.get(stem)
    name = (pair[0 if lang == "zh" else 1] if pair else code)
    return f"{name}{number if lang == 'zh' else (' ' + number if number else '')}"


def table_of(code: str) -> str:
    """The table a sheet shows, for the labels that depend on it (``before_after_1_effect``
    → ``effect``)."""
    if code.endswith("_effect"):
        return "effect"
    return "_".join(p for p in code.split("_") if not p.isdigit())
