"""The text catalogue: what officemine's tables are called in Chinese and in English.

Results hold codes and field names (``wait_workhours_median``, ``verdict``); a reader of a
deliverable sees the words for them in the report's language. Every table label lives here,
once — the KPIs, the necessity test, the supervision ledger, the workbook's sheets — so the
PDF, the workbook, the notebooks and the CLI say the same thing the same way.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

import pandas as pd

from officemine.base.choices import LANGS, Lang
from officemine.base.errors import ChoiceError
from officemine.base.errors import LogFormatError

#: Column labels (zh, en), by field name.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    'item_id': ('台账编号', 'Entry'),
    'case_id': ('流程编号', 'Case'),
    'events': ('事件数', 'Events'),
    'column': ('列', 'Column'),
    'detail': ('详情', 'Detail'),
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
    'has_data': ('有数据', 'Has data'), 'message': ('概况', 'Summary'),
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
    # --- the ledger's month
    'opened_in_month': ('本月列入', 'Entered this month'),
    'closed_in_month': ('本月销号', 'Struck off this month'),
    # --- the canonical log's columns (the pseudonyms' note names them)
    'comment': ('意见', 'Comment'), 'urgency': ('紧急程度', 'Urgency'),
    'source_file': ('源文件名', 'Source file'), 'source_row': ('源数据行', 'Source row'),
    'amount': ('金额', 'Amount'), 'acted_at': ('操作时间', 'Acted at'),
    'instance_id': ('实例编号', 'Instance'), 'object': ('事项对象', 'Object'),
}

#: Labels of fields whose meaning depends on the table they are in: (table, field) -> labels.
IN_TABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("map_arcs", "source"): ("来源节点", "From"), ("map_arcs", "target"): ("去向节点", "To"),
    ("dossiers", "open"): ("是否在办", "Open"), ("effect", "status"): ("判定", "Status"),
    ("effect", "target"): ("目标", "Target"), ("conformance", "name_zh"): ("名称", "Name"),
    ("necessity", "items"): ("审批事项数", "Items"), ("necessity", "cases"): ("件数", "Cases"),
    ("pseudonymization", "kind"): ("类别", "Kind"),
    ("ledger", "open_at_month_end"): ("月末在办", "Open at month end"),
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
    "digest": ("督办周报", "Digest"), "digest_entries": ("督办事项", "Entries"),
    "digest_people": ("责任人", "People"),
}

#: Words for the codes a field holds: field -> code -> (zh, en). A value without words here is
#: shown as it is (a node, a person, a process type: the log's own words).
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "verdict": {"keep": ("保留", "keep"), "streamline": ("精简/备案", "streamline"),
                "notice": ("一次性告知", "notice"),
                "insufficient_data": ("数据不足", "insufficient data")},
    "wait_source": {"recorded": ("有记录", "recorded"), "inferred": ("推断", "inferred"),
                    "mixed": ("部分推断", "mixed"), "none": ("无", "none")},
    "outcome": {"submit": ("提交", "submitted"), "resubmit": ("重新提交", "resubmitted"),
                "approve": ("同意", "approved"), "reject": ("拒绝", "rejected"),
                "return": ("退回", "returned"), "transfer": ("转办", "transferred"),
                "add_approver": ("加签", "approver added"), "withdraw": ("撤回", "withdrawn"),
                "cc": ("抄送", "copied"), "comment": ("批注", "commented"),
                "remind": ("催办", "reminded"), "auto_approve": ("自动通过", "approved by the system"),
                "archive": ("归档", "archived"), "other": ("其他", "other")},
    "start_basis": {"submission": ("提交时间", "submission"),
                    "first_event": ("首个操作时间", "first event")},
    "node_basis": {"pending": ("待办", "pending"), "acted_later": ("其后办理", "acted on later"),
                   "returned": ("退回申请人", "returned to the applicant"),
                   "after": ("之后，下一节点未知", "after it; next step unknown")},
    "period": {"before": ("改革前", "before"), "after": ("改革后", "after")},
    "better": {"lower": ("越低越好", "lower"), "higher": ("越高越好", "higher")},
    "method": {"difference_in_differences": ("双重差分", "difference in differences"),
               "interrupted_time_series": ("中断时间序列", "interrupted time series")},
    "kind": {"decision": ("审批环节", "decision step"),
             "instruction": ("批示环节", "instruction step"),
             "notification": ("知会环节", "notification step"),
             "automatic": ("系统环节", "system step"), "unknown": ("未知环节", "unknown step"),
             "submit": ("发起", "submission"), "archive": ("归档", "archiving")},
    "basis": {"inferred": ("推断", "inferred"), "set": ("设置", "set"),
              "working": ("工作时间", "working time"), "clock": ("自然时间", "clock time")},
    "evidence": {
        "named_instruction": ("名称为批示/阅示，极少退回（≤2%）：不审批，只作批示",
                              "named as an instruction step (批示), returns at most 2% of items"),
        "named_notification": ("名称为阅知/传阅，极少退回（≤2%）：只是知会",
                               "named as a notification step (阅知), returns at most 2% of items"),
        "only_cc_or_comments": ("只有抄送或批注记录", "records only cc and comments"),
        "system_acts": ("由系统处理或自动通过", "the system acts or approves automatically"),
        "unnamed_step": ("源数据未记录该环节的名称（如 MISSING）",
                         "the source did not record the step (e.g. MISSING)"),
        "never_passes": ("只有退回或否决、从未通过：不是事项经过的审批环节",
                         "only returns or rejects, never approves: not a step items pass"),
        "no_decisions": ("没有审批记录", "records no decisions"),
        "set": ("由映射或设置指定", "set in the mapping or settings"),
        "mostly_submissions": ("提交环节", "submission step"),
        "mostly_archives": ("归档环节", "archiving step"),
        "decides": ("作出审批决定", "takes decisions")},
    # return-reason classes (`officemine.necessity.REASON_CLASSES`): their codes are Chinese
    "top_reason": {"材料不全": ("材料不全", "missing material"),
                   "金额或数据有误": ("金额或数据有误", "wrong amount or figures"),
                   "不合规定或超标准": ("不合规定或超标准", "against the rules or over the limits"),
                   "事由或内容不清": ("事由或内容不清", "purpose or content unclear"),
                   "填写或格式不规范": ("填写或格式不规范", "form filled in wrongly"),
                   "重复提交": ("重复提交", "submitted twice"), "其他": ("其他", "other"),
                   "未填写意见": ("未填写意见", "no comment written")},
    "mom_reason": {"comparison_no_data": ("对比月份无数据", "no data in the comparison month"),
                   "comparison_no_value": ("对比月份无该指标", "no value in the comparison month"),
                   "no_value": ("本月无该指标", "no value this month"),
                   "zero_base": ("对比值为0，无法计算变化率", "comparison value 0: no relative change")},
    "state": {"new": ("新增", "new"), "reopened": ("重新列入", "reopened"),
              "carried": ("持续在办", "still open"), "unseen": ("日志未见", "not in this log"),
              "closed": ("销号", "struck off")},
    "close_status": {"archived": ("归档", "archived"), "rejected": ("否决", "rejected"),
                     "withdrawn": ("撤回", "withdrawn")},
    "section": {"new": ("新增超期", "New overdue"), "open": ("持续在办", "Still open"),
                "closed": ("本周销号", "Struck off")},
    "part": {"process_map": ("本月流程图", "the process map"),
             "process_versions": ("流程版本", "process versions"),
             "bottlenecks": ("瓶颈分析", "bottlenecks"),
             "overdue_ledger": ("督办清单", "the overdue ledger")},
    "set_aside_reason": {
        "malformed_record": ("记录无法解析", "record could not be read (wrong number of fields, "
                                            "broken JSON, …)"),
        "missing_case_id": ("缺少流程编号", "no case id"),
        "missing_node": ("缺少节点", "no node / approval step"),
        "missing_time": ("缺少操作时间", "no action time"),
        "unparseable_time": ("时间无法识别", "time value not understood"),
        "implausible_time": ("时间不合理（1990年前或一年以后）",
                             "time before 1990 or more than a year after the import (a typo, or "
                             "a placeholder date such as 9999-12-31)"),
        "unknown_outcome": ("操作类型无法识别", "outcome word not in the vocabulary or the mapping"),
        "action_before_arrival": ("操作早于到达", "acted before the item arrived"),
        "duplicate": ("重复记录", "exact duplicate of an earlier row"),
        "bad_amount": ("金额不是数字", "amount is not a finite number")},
    "status": {"met": ("达到", "met"), "not met": ("未达到", "not met"),
               "not measurable": ("无法衡量", "not measurable")},
    "engine": {"replay": ("重放", "replay"), "stochastic": ("随机模拟", "stochastic"),
               "duckdb": ("本机", "this machine"), "duckdb-batches": ("本机分批", "this machine, in batches"),
               "spark": ("Spark", "Spark")},
    "holds": {"people": ("人员", "people"), "people_by_values": ("人员（按取值识别）", "people (by values)"),
              "text": ("文本，已扫描", "text, scanned")},
    "link_rule": {"field": ("按关联字段", "by the link field"),
                  "form": ("按发起人、流程与表单内容", "by originator, process and form values")},
    "import_report_field": {"source_file": ("源文件名", "source file name"),
                            "unknown_outcome_words": ("未识别的操作类型", "unknown outcome words"),
                            "columns_used": ("列名", "column headers"), "notes": ("说明", "notes"),
                            "warnings": ("警告", "warnings"),
                            "set_aside_rows": ("另存的行", "set-aside rows")},
    "key_source": {"file": ("--pseudonym-key 指定的密钥文件", "key file given with --pseudonym-key"),
                   "environment": ("环境变量 OFFICEMINE_PSEUDONYM_KEY",
                                   "environment variable OFFICEMINE_PSEUDONYM_KEY"),
                   "settings": ("报告设置的 pseudonym_key_file", "pseudonym_key_file of the report settings"),
                   "stored": ("本机保存的密钥", "key stored on this machine"),
                   "generated": ("本次生成并保存在本机的密钥", "key generated now and stored on this machine"),
                   "one-off": ("一次性随机密钥（不保存）", "one-off random key (not stored)")},
}

#: Words for codes whose meaning depends on the table: (table, field) -> code -> (zh, en).
VALUES_IN_TABLE: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("versions", "kind"): {"redesign": ("改革", "redesign"), "node_removed": ("取消环节", "step removed"),
                           "node_added": ("新增环节", "step added"),
                           "route_changed": ("顺序调整", "order changed")},
    ("versions", "source"): {"settings": ("报告设置", "the settings"), "detected": ("数据识别", "found in the data")},
    ("map_arcs", "kind"): {"forward": ("前进", "forward"), "return": ("退回", "return")},
    ("conformance", "kind"): {"skipped": ("跳过环节", "skipped"), "unexpected": ("多出环节", "unexpected"),
                              "out_of_order": ("顺序不符", "out of order"),
                              "self_approval": ("本人审批", "self-approval"),
                              "authority": ("越权审批", "authority"), "any": ("任一偏离", "any")},
}
for _table in ("conformance_by_step", "conformance_deviations"):
    VALUES_IN_TABLE[(_table, "kind")] = VALUES_IN_TABLE[("conformance", "kind")]
#: fields that hold the same codes as another
for _field, _same in (("last_action", "outcome"), ("arrival_source", "wait_source"),
                      ("yoy_reason", "mom_reason")):
    VALUES[_field] = VALUES[_same]

#: The headings of tables drawn on the review's pages, in their order: key -> (zh, en).
HEADS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "necessity": (("节点", "审批件数", "退回/否决率 (95%区间)", "中位等待(工作小时)", "等待占比", "结论",
                   "理由"),
                  ("node", "items", "rejection rate (95% CI)", "median wait (working h)",
                   "wait share", "verdict", "reason")),
    "overdue": (("流程编号", "流程类型", "标题", "当前节点", "当前办理人（到达时间）", "主要延误环节（办理人，工作日）",
                 "已用工作日", "时限", "超期工作日", "催办"),
                ("case", "process", "title", "held at", "holder (arrived)",
                 "where the delay arose (held by, working days)", "working days open", "limit",
                 "days overdue", "reminders")),
    "bottleneck_nodes": (("节点", "等待合计(工作小时)", "占比", "件数", "待办", "中位等待"),
                         ("node", "waiting (working h)", "share", "items", "pending",
                          "median wait")),
    "bottleneck_people": (("审批人", "部门", "等待合计(工作小时)", "占比", "件数", "待办", "中位等待"),
                          ("approver", "dept", "waiting (working h)", "share", "items", "pending",
                           "median wait")),
    "before_after": (("", "件数", "办理时长中位数(工作日)", "P90(工作日)", "限时办结率", "退回率", "件均跨部门流转",
                      "不合规率"),
                     ("", "cases", "median cycle (working days)", "p90 (working days)",
                      "on-time rate", "return rate", "hand-offs per case", "non-compliance rate")),
    "effect": (("指标", "简单前后对比", "对照后的估计（95%区间）", "改革目标", "结论"),
               ("measure", "naive before/after", "controlled estimate (95% interval)", "target",
                "status")),
    "scenario": (("方案", "涉及件数", "办理时长中位数 (小时)", "中位数缩短 (95%区间)", "平均缩短 (95%区间)",
                  "工作日中位数", "减少等待工时", "减少退回", "件均跨部门流转"),
                 ("scenario", "cases", "median cycle (h)", "median reduction (95% CI)",
                  "mean reduction (95% CI)", "median working days", "waiting hours removed",
                  "returns avoided", "hand-offs per case")),
    "conformance_kinds": (("偏离类型", "件数", "占核对件数", "处数"),
                          ("kind", "cases", "share of cases checked", "deviations")),
    "conformance_worst": (("流程编号", "流程类型", "偏离处数", "偏离类型", "涉及环节"),
                          ("case", "process", "deviations", "kinds", "steps")),
    "ledger_open": (("流程编号", "流程类型", "标题", "当前环节", "办理人", "超期工作日", "列入周"),
                    ("case", "process", "title", "held at", "responsible", "days overdue",
                     "entered")),
    "ledger_struck": (("流程编号", "流程类型", "标题", "办结时间", "超期至办结（工作日）"),
                      ("case", "process", "title", "ended", "overdue until it ended (working days)")),
    "digest_open": (("流程编号", "流程类型", "标题", "当前环节", "办理人", "超期工作日", "在账周数", "状态"),
                    ("case", "process", "title", "held at", "responsible", "days overdue", "weeks",
                     "state")),
    "digest_closed": (("流程编号", "流程类型", "标题", "办结时间", "办结方式", "超期至办结（工作日）"),
                      ("case", "process", "title", "ended", "how",
                       "overdue until it ended (working days)")),
    "digest_counts": (("项目", "数值"), ("what", "value")),
    "digest_count_rows": (("周", "截至", "新增超期", "重新列入", "持续在办", "本周销号", "台账在办"),
                          ("week", "as of", "new overdue", "reopened", "still open", "struck off",
                           "open on the ledger")),
    "kpi_html": (("指标", "本月", "环比", "同比", "n"), ("KPI", "this month", "MoM", "YoY", "n")),
}

#: Chinese reform terms an English text may keep in brackets after its English words, as a
#: gloss a reader of Chinese regulations recognises (the language test allows these only).
GLOSSES: tuple[str, ...] = ("备案制", "一次性告知", "批示", "阅知", "退回")

#: Phrases drawn on charts and pages, with their parameters: key -> (zh, en).
PHRASES: dict[str, tuple[str, str]] = {
    "map.title": ("流程图 · {scope} · {cases:,} 件 ({span})",
                  "Process map · {scope} · {cases:,} cases ({span})"),
    "discovery.head": ("流程发现：{scope} — {cases:,} 件，{events:,} 条事件，{span}",
                       "Discovery: {scope} — {cases:,} cases, {events:,} events, {span}"),
    "discovery.counts": ("  办结 {completed:,} 件，在办 {open:,} 件；路径变体 {variants:,} 种；"
                         "办结件办理时长中位数 {hours} 自然小时 = {days} 工作日",
                         "  {completed:,} completed, {open:,} open; {variants:,} variants; "
                         "median cycle time of completed cases {hours} clock h = {days} "
                         "working days"),
    "discovery.top": ("主要路径变体（占比、件数、办结件办理时长中位数：自然小时 / 工作日）：",
                      "Top variants (share, cases, median clock h / working days of completed "
                      "cases):"),
    "discovery.variant": ("  {variant} {share:6.1%} {cases:>6,} {hours:>8} 小时 {days:>6} 工作日  "
                          "{path}",
                          "  {variant} {share:6.1%} {cases:>6,} {hours:>8} h {days:>6} wd  "
                          "{path}"),
    "discovery.coverage": ("  前 {n} 种路径覆盖 {share:.1%} 的件", "  top {n} cover {share:.1%} of cases"),
    "discovery.rework": ("退回与返工：{text}", "Rework: {text}"),
    "discovery.handoffs": ("跨部门流转：{text}", "Hand-offs: {text}"),
    "discovery.map": ("流程图：{nodes} 个节点、{arcs} 条连线（退回连线 {returns} 条）；图中隐藏转移次数"
                      "低于 {min} 的 {hidden} 条连线；等待按工作小时计（{calendar}）",
                      "Map: {nodes} nodes, {arcs} arcs ({returns} return arcs); drawing hides "
                      "{hidden} arcs below {min} transitions; waits in working hours "
                      "({calendar})"),
    "rework.headline": ("退回 {returns:,} 次；{with_returns:,} / {cases:,} 件（{share:.1%}）至少被退回一次",
                        "{returns:,} returns; {with_returns:,} of {cases:,} cases ({share:.1%}) "
                        "returned at least once"),
    "rework.most": ("；最多来自 {node}（{n:,} 次）", "; most from {node} ({n:,})"),
    "rework.added": ("；有退回的办结件办理时长中位数多 {diff} 自然小时（{level:.0%}区间 {lo} 至 {hi}；"
                     "n = {n_with:,} 对 {n_without:,}）",
                     "; completed cases with a return took {diff} clock h more at the median "
                     "({level:.0%} CI {lo} to {hi}; n = {n_with:,} vs {n_without:,})"),
    "rework.added_days": ("，即 {diff} 工作日", " = {diff} working days"),
    "handoffs.none": ("无法计算跨部门流转：日志没有记录办理人的部门",
                      "no hand-offs measurable: the log records no departments for the acting "
                      "people"),
    "handoffs.headline": ("部门间流转 {n:,} 次；每件平均 {mean} 次、中位数 {median} 次",
                          "{n:,} hand-offs between departments; per case mean {mean}, median "
                          "{median}"),
    "handoffs.top": ("；最频繁 {a} → {b}（{n:,} 次，中位 {wait} 工作小时）",
                     "; most frequent {a} → {b} ({n:,}, median {wait} working h)"),
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
    # --- the necessity test's reasons (`necessity_reason`): code -> words, with pieces
    "necessity.too_few": ("仅 {n} 件审批，至少需要 {min_items} 件才能下结论",
                          "only {n} decisions; at least {min_items} are needed to judge"),
    "necessity.rarely_stops_long_wait": (
        "{n} 件中仅退回/否决 {rate:.1%}（{ci}，低于 {bar}），却让事项{wait}：建议取消或改为备案制",
        "rejects {rate:.1%} of {n} items ({ci}, below {bar}) yet holds them a {wait}: candidate "
        "for removal or record-only (备案制)"),
    "necessity.rarely_stops_short_wait": (
        "很少退回（{rate:.1%}，{ci}），但等待不长（{wait}）：可暂缓调整",
        "rarely rejects ({rate:.1%}, {ci}) but costs little waiting ({wait}): low priority"),
    "necessity.missing_material": (
        "退回 {rate:.1%} 的事项，{rejections} 次退回中 {missing_share:.0%} 因材料不全：建议一次性告知所需材料",
        "returns {rate:.1%} of items, {missing_share:.0%} of its {rejections} returns for "
        "missing material: tell applicants every required material at once (一次性告知)"),
    "necessity.catches": ("{n} 件中拦下 {rate:.1%}（{ci}），把关有效；{wait}{unrecorded}",
                          "catches {rate:.1%} of {n} items ({ci}); {wait}{unrecorded}"),
    "necessity.undecided": (
        "退回/否决率 {rate:.1%}（{ci}）与 {bar} 阈值尚无法区分：暂时保留，积累数据后再评估{unrecorded}",
        "rejection rate {rate:.1%} ({ci}) cannot yet be told apart from the {bar} threshold: "
        "keep and re-test with more data{unrecorded}"),
    "necessity.ci": ("{level:.0%}区间 {lo:.1%}–{hi:.1%}", "{level:.0%} CI {lo:.1%}–{hi:.1%}"),
    "necessity.bar": ("{bar:.0%}", "{bar:.0%}"),
    "necessity.leader": ("{bar:.0%}（领导签批）", "{bar:.0%} (a leader's sign-off)"),
    "necessity.wait": ("中位等待 {wait:.1f} {unit}", "median wait {wait:.1f} {unit}"),
    "necessity.wait_unknown": ("等待时间未知", "wait unknown"),
    "necessity.unrecorded": ("；退回原因未记录，无法判断是否适合一次性告知",
                             "; return reasons were not recorded, so the 一次性告知 test could not run"),
    "necessity.text_head": ("节点必要性检验：{n} 个审批节点（{counts}）；等待按{unit}计；{scope}",
                            "Necessity test: {n} decision nodes ({counts}); waits in {unit}; "
                            "{scope}"),
    "necessity.scope_current": ("评估 {cases:,} 件（共 {of:,} 件，各流程的现行版本）",
                                "{cases:,} of {of:,} cases judged (current versions)"),
    "necessity.scope_all": ("评估 {cases:,} 件", "{cases:,} cases judged"),
    "necessity.not_judged": ("不评估：{node}（{kind}）{items:,} 件，中位等待 {wait:.1f} {unit}",
                             "not judged: {node} ({kind}): {items:,} items, median wait "
                             "{wait:.1f} {unit}"),
    "necessity.removed": ("{date} 起已移除：{node}{where}，不再属于流程，不评估",
                          "removed on {date}: {node}{where}: not judged, no longer in the process"),
    "necessity.where": ("（{process_type}）", " ({process_type})"),
    "text.warning": ("注意：{text}", "WARNING: {text}"),
    "text.note": ("说明：{text}", "note: {text}"),
    "necessity_chart.x": ("退回/否决率（95% 置信区间）", "rejection rate (95% CI)"),
    "necessity_chart.y_working": ("中位等待（工作小时）", "median wait (working hours)"),
    "necessity_chart.y_clock": ("中位等待（自然小时）", "median wait (clock hours)"),
    "necessity_chart.title": ("审批节点必要性检验", "Necessity test of approval nodes"),
    "necessity_chart.q_streamline": ("精简候选：等得久、几乎不退回", "streamline: long wait, rarely rejects"),
    "necessity_chart.q_costly": ("把关但耗时", "costly gate"),
    "necessity_chart.q_cheap": ("低成本节点", "cheap node"),
    "necessity_chart.q_gate": ("高效把关", "efficient gate"),
    "necessity_chart.size": ("气泡面积 = 审批件数", "bubble area = items decided"),
    "unit.working_hours": ("工作小时", "working hours"), "unit.clock_hours": ("自然小时", "clock hours"),
    # --- the review's pages
    "review.title": ("月度流程效能评估", "Monthly process efficiency review"),
    "review.titles": ("月度流程效能评估", "Monthly process efficiency reviews"),
    "review.month": ("{year}年{month}月", "{name}"),
    "review.cover_sub": ("{org}{month} · 数据截至 {asof} · {cases:,} 件 · 日历：{cal}",
                         "{org}{month} · data up to {asof} · {cases:,} cases · calendar: {cal}"),
    "review.mom": ("环比", "MoM"), "review.yoy": ("同比", "YoY"),
    "review.headlines": ("本月要点", "This month"),
    "review.trends": ("近 12 个月趋势", "Last 12 months"),
    "review.map": ("本月流程图（本月办结的件）", "Process map (cases completed this month)"),
    "review.necessity": ("审批节点必要性检验（{a} 至 {b} 办结的件）",
                         "Necessity test of approval nodes (cases completed {a} to {b})"),
    "review.current_versions": ("；现行版本：{versions}", "; current versions: {versions}"),
    "review.version_since": ("{type} 自 {date:%Y-%m-%d} 起", "{type} since {date:%Y-%m-%d}"),
    "review.necessity_table": ("节点必要性结论", "Verdicts per node"),
    "review.bottlenecks": ("瓶颈：造成等待最多的节点与审批人（本月，工作小时）",
                           "Bottlenecks: nodes and approvers causing the most waiting (this month, "
                           "working hours)"),
    "review.ledger": ("督办清单：超期未办结事项（一事一档，按超期时长排序）",
                      "Overdue open cases (one line per case, most overdue first)"),
    "review.scenario": ("改革方案测算：{name}", "Redesign estimate: {name}"),
    "review.before_after": ("改革前后对比：{name}（{date} 起）", "Before and after: {name} (from {date})"),
    "review.quality": ("数据质量与方法说明", "Data quality and method"),
    "review.no_data": ("本月无数据", "No data this month"),
    "review.footer": ("officemine {v} · 生成于 {today} · 来源：{src}{pseudo}",
                      "officemine {v} · generated {today} · source: {src}{pseudo}"),
    "review.pseudo": (" · 人员已匿名化", " · people pseudonymised"),
    "review.none": ("（无）", "(none)"),
    "review.no_overdue": ("本月末没有超过时限的在办事项。", "No open case was past its time limit at month end."),
    "review.more_rows": ("另有 {n} 行见 Excel 附表。", "{n} more rows in the Excel workbook."),
    "review.headline_streamline": (
        "「{node}」几乎不退回（{rate}），却让事项中位等待 {wait} 工作小时：建议取消或改为备案。",
        "'{node}' almost never rejects ({rate}) yet holds items a median {wait} working hours: "
        "remove it or make it record-only."),
    "review.headline_notice": (
        "「{node}」退回的事项中 {share} 因材料不全：建议一次性告知所需材料。",
        "{share} of the returns at '{node}' are for missing material: tell applicants every "
        "required document at once."),
    "review.headline_overdue": (
        "月末有 {n} 件超期在办，最久的「{case}」已超期 {days:.1f} 个工作日（{node}）。",
        "{n} open case(s) past their limit at month end; the oldest, '{case}', is {days:.1f} "
        "working days over ({node})."),
    "review.headline_no_overdue": ("月末没有超期在办事项。", "No open case is past its time limit at month end."),
    "review.headline_cycle": ("办理时长中位数 {value}，环比 {mom}。", "Median cycle time {value}, {mom} on last month."),
    "review.yoy_missing": ("同比为“—”：去年同月不在日志范围内。", "YoY '—': the same month last year is outside the log."),
    "review.mom_missing": ("环比为“—”：上月无数据。", "MoM '—': no data last month."),
    "review.not_judged": ("不作必要性判断（不审批）", "not judged (decides nothing)"),
    "review.removed": ("已取消", "removed"),
    "review.removed_why": ("{process}已于 {date:%Y-%m-%d} 取消该环节，此后的件不再经过：不再评估",
                           "removed from {process_en} on {date:%Y-%m-%d}; later cases do not pass "
                           "it: not judged"),
    "review.the_process": ("", "the process"),
    "review.other_wait": ("{evidence}；等待合计 {total} 工作小时（{items} 件）",
                          "{evidence}; {total} working hours of waiting ({items} items)"),
    "review.left_out": ("本报告{where}计算，以下部分尚未{where}计算，未列入本报告：{parts}（详见“数据质量”页）",
                        "Computed {where}; these parts are not computed {where} yet and are not "
                        "in this report: {parts} (see the data-quality page)"),
    "review.not_here": ("未列入本报告：{part} — {why}", "Not in this report: {part} — {why}"),
    "review.redesign_mark": ("改革", "redesign"),
    "review.working_hours": ("工作小时", "working hours"),
    "review.median_cycle_workdays": ("办理时长中位数（工作日）", "median cycle (working days)"),
    "review.all_processes": ("全部流程", "all processes"),
    "review.tile_ci": ("n={n:,}, 95%: {lo:.0%}–{hi:.0%}", "n={n:,}, 95%: {lo:.0%}–{hi:.0%}"),
    "review.scenario_basis": (
        "口径：{engine} 引擎，种子 {seed}，{replications} 次重抽样；已办结件的自然小时办理时长（首次提交至办结），"
        "另附工作日；区间为按件重抽样的 95% 区间。模型校验：现状重放与实际相比，中位数误差 {median_error:.1f}%，"
        "平均误差 {mean_error:.1f}%，分布距离（EMD）{emd:.1f} 小时（n={n:,}）。",
        "Basis: {engine} engine, seed {seed}, {replications} resamples; clock-hour cycle time of "
        "completed cases (first submission to the end), working days beside; intervals are 95% "
        "case-bootstrap intervals. Validation: the as-is replay against the log, median error "
        "{median_error:.1f}%, mean error {mean_error:.1f}%, EMD {emd:.1f} h (n={n:,})."),
    "review.warning": ("警告：{text}", "WARNING: {text}"),
    "review.no_map": ("未绘制流程图：{error}", "process map not drawn: {error}"),
    "review.no_necessity": ("未进行必要性检验：{error}", "necessity test not run: {error}"),
    "review.note": ("说明：{text}", "note: {text}"),
    "review.chart_unavailable": ("图表无法绘制：{error}", "chart unavailable: {error}"),
    "review.before_after_basis": (
        "范围：{scope}；按提交日期划入改革前/后；前后各最多 {months} 个月；工作日按报告日历计算；比例附 Wilson "
        "95% 区间。",
        "Scope: {scope}; cases assigned by submission date; up to {months} months each side; "
        "working days on the report calendar; rates with Wilson 95% intervals."),
    "review.effect_did": (
        "对照：同期未改革的流程类型（{control}），双重差分；假设：若不改革，本流程会与对照流程同步变化（平行趋势）。",
        "Control: the types that did not change ({control}), difference in differences; assumes "
        "parallel trends."),
    "review.effect_its": ("对照：改革前的周趋势外推（中断时间序列）；假设：若不改革，原有趋势会延续。",
                          "Control: the pre-change weekly trend (interrupted time series); assumes "
                          "it would have continued."),
    "review.effect_none": ("数据不足，无法估计对照后的效果。", "Too few cases for a controlled estimate."),
    "review.effect_n": (" 样本：改革前 {before:,} 件，改革后 {after:,} 件；区间为按件自助法。",
                        " n = {before:,} before, {after:,} after; case-bootstrap intervals."),
    "review.effect_range": ("{effect}（{lo} 至 {hi}）", "{effect} ({lo} to {hi})"),
    "review.calendar": ("日历：{text}", "Calendar: {text}"),
    "review.sla": ("时限（SLA）：{text}", "Time limits (SLA): {text}"),
    "review.waits": ("等待时间口径：到达时间有记录 {recorded:,} 件，由前一操作推断 {inferred:,} 件；在办事项按右删失处理"
                     "（Kaplan–Meier）。",
                     "Waits: arrival recorded for {recorded:,} items, inferred from the previous "
                     "action for {inferred:,}; items still pending are right-censored "
                     "(Kaplan–Meier)."),
    "review.thresholds": ("必要性结论阈值：至少 {m} 件；退回率阈值 {thr:.0%}；长等待 {w} 工作小时；材料不全占比 {ns:.0%}。",
                          "Necessity thresholds: at least {m} items; rejection threshold {thr:.0%}; "
                          "long wait {w} working hours; missing-material share {ns:.0%}."),
    "review.index_month": ("月份", "Month"), "review.index_files": ("文件", "Files"),
    "review.written": ("{report}；已写入：", "{report}; written:"),
    "review.summary": ("月度流程效能评估 {month}{engine}：{message}{overdue}",
                       "Monthly review {month}{engine}: {message}{overdue}"),
    "review.engine": ("（{engine}计算）", " (computed on {engine})"),
    "review.summary_overdue": ("；超期在办 {n} 件", "; {n} overdue open cases"),
    "review.reviews": ("月度流程效能评估 {span}：共 {n} 个月，其中 {with_data} 个月有数据",
                       "Monthly reviews {span}: {n} months, {with_data} with data"),
    # --- charts
    "chart.p90": ("P90", "p90"), "chart.median": ("中位数", "median"), "chart.mean": ("平均", "mean"),
    "chart.sla_limit": ("时限", "SLA limit"),
    "chart.cycle_workdays": ("办理时长（工作日）", "cycle time (working days)"),
    "chart.cycle_by_type": ("{month} 各流程办理时长", "Cycle time by process type, {month}"),
    "chart.no_data": ("无数据", "no data"), "chart.ci": ("95% 置信区间", "95% CI"),
    "chart.limit_line": (" 时限 {days} 工作日", " SLA {days} d"),
    "chart.kpi_title": ("{kpi}（{scope}）", "{kpi} ({scope})"),
    "chart.as_is": ("现状", "as-is"), "chart.redesign": ("改革后", "redesign"),
    "chart.cycle_hours": ("办理周期（小时）", "cycle time (clock hours)"),
    "chart.cumulative_share": ("累计占比", "share of cases"),
    "chart.reduction": ("办理周期缩短（%，95% 置信区间）", "cycle-time reduction (%, 95% interval)"),
    "chart.cases": ("件数", "cases"),
    "chart.deviations_by_step": ("{scope}偏离标准流程的环节", "{scope}Deviations by step"),
    "chart.no_deviation": ("无偏离", "no deviation"),
    "chart.noncompliance_by_month": ("不合规率（按办结月份）", "Non-compliance rate by month"),
    "chart.controlled": ("对照后的估计（95% 区间）", "controlled (95% interval)"),
    "chart.naive": ("简单前后对比", "naive before/after"), "chart.target": ("改革目标", "target"),
    "chart.relative_change": ("改革后相对变化（%）", "relative change after the redesign (%)"),
    "chart.overdue_bar": (" {n} 件，超期 {days:.1f} 工作日", " {n} cases, {days:.1f} working days overdue"),
    "chart.overdue_axis": ("超期在办件数", "open cases past SLA"),
    "chart.overdue_title": ("督办清单：超期在办件（截至 {as_of:%Y-%m-%d}）",
                            "Open cases past SLA as of {as_of:%Y-%m-%d}"),
    "chart.no_overdue": ("无超期在办件", "no overdue cases"),
    "chart.waiting_axis": ("等待工时（工作小时）", "waiting (working hours)"),
    "chart.all": ("全部", "all"),
    "chart.most_waiting_node": ("{what} 等待工时最多的节点", "Where items waited, {what}"),
    "chart.most_waiting_person": ("{what} 等待工时最多的办理人", "Where items waited, {what}"),
    "chart.days_overdue": ("超期工作日", "working days overdue"),
    "chart.ledger_entry": ("{case}：一事一档", "{case}: ledger entry"),
    "chart.versions": ("流程版本：变化点（按提交时间）", "Process versions: change points (by submission)"),
    "kpis.points": (" 个百分点", " pp"),
    "privacy.prefix": ("人员", "Person"),
    "calendar.cn": ("中国法定节假日{origin} + 调休", "Chinese statutory holidays{origin} + make-up workdays"),
    "calendar.weekends": ("仅周末休息 (不含法定节假日)", "weekends only (no public holidays)"),
    "calendar.region": ("{region} 公共假日{origin}", "{region} public holidays{origin}"),
    "calendar.weekdays": ("一,二,三,四,五,六,日", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    "calendar.day_sep": ("", " "), "calendar.weekend": (" 周末: {days}", " weekend: {days}"),
    "calendar.days_off": ("公司休息日 {n} 天", "{n} company days off"),
    "calendar.workdays": ("公司工作日 {n} 天", "{n} company workdays"),
    "versions.no_type": ("（未知类型）", "(no type)"),
    "versions.current": ("{type}：现行版本自 {date:%Y-%m-%d} 起", "{type}: current version since {date:%Y-%m-%d}"),
    # --- a simulation's warnings
    "sim.restricted": ("{who} 只在{days}办理", "{who} works on weekdays {days}"),
    "sim.batches": ("{node} 在{days}成批办理", "{node} acts in batches on weekdays {days}"),
    **{f"weekday.{i}": (f"周{zh}", en) for i, (zh, en) in enumerate(zip(
        "一二三四五六日", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")))},
    # --- before and after a redesign: the effect's notes
    "effects.cut": ("改革后只计入 {cut} 前发起的案件（数据截止 {end}，减去改革前办理时长的第 90 百分位 "
                    "{days:.1f} 天）：更晚发起的案件只有办得快才能计入",
                    "after the date, cases started up to {cut} (the data end {end} less the "
                    "90th percentile of cycle time before, {days:.1f} days): later ones could "
                    "only count if short"),
    "effects.control_changed": ("同期也有变化、不作对照的流程类型：{types}",
                                "left out of the control, because they changed too: {types}"),
    "effects.too_few": ("改革前或改革后办结的案件少于 {n} 件：不作估计",
                        "fewer than {n} ended cases before or after the date: no estimate"),
    "effects.no_conformance": ("没有标准流程（合规核对），不合规率无法计算",
                               "the non-compliance rate is not measurable without standard "
                               "procedures (conformance)"),
    "simulation.no_change": ("方案没有改变任何已办结的件", "the scenario changes no completed case"),
    "simulation.donors": ("{share:.0%} 的件沿供体件的路径继续（消失的退回或否决没有观察到的后续）",
                          "{share:.0%} of the cases continue on a donor case's route (a vanished "
                          "return or rejection had no observed continuation)"),
    "simulation.no_donor": ("{n} 件没有可供继续的供体件；它们在其历史结束处结束",
                            "{n} case(s) had no donor to continue them; they end where their "
                            "history ends"),
    "simulation.poor_model": ("现状模型与日志吻合不佳（{figures}）；请以重放引擎的结果为准",
                              "the as-is model reproduces the log poorly ({figures}); prefer the "
                              "replay engine's numbers"),
    "simulation.few_replications": ("只有 {n} 次重抽样（按件）：区间较粗", "only {n} replications (case "
                                    "resamples): the interval is rough"),
    "simulation.one_replication": ("只有一次重抽样：没有区间（至少需要两次按件重抽样）",
                                   "one replication: no interval (it needs at least two case "
                                   "resamples)"),
    # --- the command line
    "cli.wrote": ("已写入 {path}", "wrote {path}"),
    "cli.wrote_log": ("已写入 {path}：{log}", "wrote {path}: {log}"),
    "cli.streamed": ("（分批导入，内存不超过 {gib:.3g} GiB）", " (streamed within {gib:.3g} GiB)"),
    "cli.first_set_aside": ("前 {n} 条另存待查的行：", "first {n} set-aside rows:"),
    "cli.calendar": ("工作日历：{calendar}", "calendar: {calendar}"),
    "cli.log": ("日志 {path}：{log}", "log {path}: {log}"),
    "log.describe": ("{cases:,} 件、{events:,} 条事件，{start} 至 {end}，时间按 {timezone}",
                     "{cases:,} cases, {events:,} events, {start} .. {end}, times in {timezone}"),
    "log.describe_spark": ("Spark 上的日志：{cases:,} 件、{events:,} 条事件，时间按 {timezone}",
                           "a log in Spark: {cases:,} cases, {events:,} events, times in "
                           "{timezone}"),
    "log.describe_spark_table": ("Spark 上的日志，时间按 {timezone}",
                                 "a log in Spark, times in {timezone}"),
    "cli.wrote_files": ("已写入 {n} 个文件到 {folder}：{names}", "wrote {n} files to {folder}: {names}"),
    "cli.wrote_all": ("已写入 {n} 份月度评估和 {index}", "wrote {n} monthly reports and {index}"),
    "cli.left_out": ("说明：尚未{where}计算、未列入本报告的部分：{parts}",
                     "note: not computed {where} yet, left out of the report: {parts}"),
    # --- the KPIs' month in words (MonthlyKPIs.message)
    "kpis.completed": ("{month} 办结 {completed} 件，月末在办 {open} 件{partial}",
                       "{completed} case(s) completed in {month}, {open} open at its end{partial}"),
    "kpis.partial": ("（不完整月份：日志未覆盖整月）", " (partial month: the log does not cover all of it)"),
    "kpis.no_data": ("{month} 无数据：{why}", "no data for {month}: {why}"),
    "kpis.no_procedures": ("未提供标准流程", "no procedures given"),
    "kpis.no_procedure": ("{n:,} 件案件没有生效的标准流程，未计入不合规率",
                          "{n:,} case(s) have no standard procedure in force and are left out "
                          "of the non-compliance rate"),
    "kpis.other_zone": ("日历的时区 {calendar} 与日志的时区 {log} 不同：月份按日志划分，办公时间按日历计算",
                        "calendar time zone {calendar} differs from the log's {log}: months "
                        "follow the log, office hours the calendar"),
    "versions.mark": ("{kind}：{node}", "{kind}: {node}"),
    "versions.not_seen": ("改革“{name}”（{date}）：前后两周内日志中看不到节点的变化",
                          "redesign {name} on {date}: no change of nodes is visible in the log "
                          "within two weeks of it"),
    "calendar.cn_years": ("{source} 只有 {lo}–{hi} 年的法定节假日和调休",
                          "{source} has statutory holidays and 调休 for {lo}–{hi} only"),
    "calendar.region_years": ("{source} 只有 {lo}–{hi} 年的 {region} 节假日",
                              "{source} has {region} holidays for {lo}–{hi} only"),
    "calendar.fix_cn": ("请升级 chinese_calendar 或在日历文件中列出这些日期",
                        "upgrade chinese_calendar or list the days in the calendar file"),
    "calendar.fix": ("请在日历文件中列出这些日期", "list the days in the calendar file"),
    "calendar.before": ("{lo} 年以前的日期（自 {first} 起）按仅周末休息（加公司休息日）计算：{source}",
                        "dates before {lo} (from {first}) are counted as weekends-only (plus "
                        "company days): {source}"),
    "calendar.after": ("{hi} 年以后的日期（至 {last}）按仅周末休息（加公司休息日）计算：{source}；{fix}",
                       "dates after {hi} (up to {last}) are counted as weekends-only (plus "
                       "company days): {source}; {fix}"),
    "kpis.log_empty": ("日志没有任何操作", "the log has no events"),
    "kpis.span": ("日志范围为 {start} 至 {end}", "the log spans {start} .. {end}"),
    "kpis.outside": ("{month} 不在日志范围内（{span}）", "{month} is outside the log ({span})"),
    "kpis.no_events": ("日志在 {month} 没有操作，月末也没有在办件（{why}）",
                       "the log has no events in {month} and no case open at its end ({why})"),
    "kpis.completed_in": ("{month} 办结 {n} 件{partial}", "{n} case(s) completed in {month}{partial}"),
    "kpis.none_completed": ("{month} 没有办结的件：办理时长、限时办结率、退回率与跨部门流转指标为空",
                            "no case completed in {month}: cycle time, on-time, return and "
                            "hand-off KPIs are empty (None)"),
    "kpis.from_first_event": ("{month} 办结的件中有 {n} 件在日志中没有提交记录，其办理时长从首个操作算起（偏短）",
                              "{n} case(s) completed in {month} have no submission in the log; "
                              "their cycle time runs from their first event (a lower bound)"),
    "kpis.default_limit": ("没有单独时限的流程类型按默认 {days} 个工作日计：{types}",
                           "process types without their own SLA limit use the default {days} "
                           "working days: {types}"),
    "kpis.previous_month": ("上月", "previous month"),
    "kpis.same_month_last_year": ("去年同月", "same month last year"),
    "kpis.change_no_data": ("{month}（{which}）无数据：{why}", "no data for {month} ({which}): {why}"),
    "kpis.change_no_value": ("本月无该指标", "no value this month"),
    "kpis.change_no_comparison": ("{month}（{which}）无该指标", "no value for {month} ({which})"),
    "kpis.change_zero_base": ("{month}（{which}）为 0：变化率无定义",
                              "{month} ({which}) was 0: relative change undefined"),
    # --- what an engine leaves out of the review, and why
    "left_out.process_map": ("本月流程图（流程发现）尚未{where}计算",
                             "the process map (discovery) of the month is not computed {where} yet"),
    "left_out.process_versions": ("流程版本（变更点）尚未{where}计算：必要性检验评估窗口内的全部件（since=all）",
                                  "process versions (change points) are not computed {where} yet: "
                                  "the necessity test judges every case of its window (since=all)"),
    "left_out.bottlenecks": ("瓶颈分析尚未{where}计算", "bottlenecks are not computed {where} yet"),
    "left_out.overdue_ledger": ("督办清单（超过时限的在办件）尚未{where}计算",
                                "the overdue ledger (open cases past their SLA) is not computed "
                                "{where} yet"),
    "left_out.batches": ("分批", "in batches"), "left_out.spark": ("在 Spark 上", "on Spark"),
    # --- the conformance page
    "conformance.type_unused": ("日志中没有流程类型为 {type} 的案件：未使用 {name}{hint}",
                                "the log has no case of process type {type}: {name} was not "
                                "used{hint}"),
    "conformance.did_you_mean": ("（是否为 {name}？）", " (did you mean {name}?)"),
    "conformance.title": ("流程合规检查：偏离标准流程的情况（本月办结的件）",
                          "Conformance: departures from the standard procedures (cases completed "
                          "this month)"),
    "conformance.headline": (
        "核对 {n:,} 件，{k:,} 件至少有一处偏离标准流程，不合规率 {share}（95% 区间 {lo}–{hi}）；"
        "另有 {unchecked:,} 件无适用的标准流程，未核对。",
        "{n:,} cases checked, {k:,} departed from their standard procedure at least once: "
        "non-compliance rate {share} (95% CI {lo}–{hi}); {unchecked:,} cases had no procedure in "
        "force and were not checked."),
    "conformance.text_checked": (
        "检查 {n:,} 件；有偏离 {deviating:,} 件（{share:.1%}，95%区间 {lo:.1%}–{hi:.1%}）；"
        "无标准流程 {unchecked:,} 件",
        "cases checked {n:,}; with a deviation {deviating:,} ({share:.1%}, 95% CI "
        "{lo:.1%}–{hi:.1%}); without a procedure {unchecked:,}"),
    "conformance.text_none": ("没有可检查的件（无标准流程 {unchecked:,} 件）",
                              "no case checked ({unchecked:,} without a procedure)"),
    "conformance.text_kinds": ("按偏离类型（件）：{counts}", "cases by kind: {counts}"),
    "conformance.text_steps": ("按环节（件）：", "by step (cases):"),
    "conformance.text_more": ("  ……另有 {n} 个环节，见 --json / --csv",
                              "  … {n} more steps in --json / --csv"),
    "conformance.none": ("本月办结的件均符合标准流程。", "Every case completed this month followed its standard procedure."),
    "conformance.worst": ("偏离最多的件", "Cases with the most deviations"),
    "conformance.basis": (
        "口径：{basis}。标准流程：{procedures}。偏离类型：跳过环节＝必经环节未办理；多出环节＝标准流程没有"
        "（或条件不满足时不应有）的环节；顺序不符＝环节都在，先后不对；本人审批＝申请人在禁止本人审批的环节"
        "作出决定；越权审批＝决定人不在该环节规定的部门、人员或角色之内。明细见 Excel 附表。",
        "Basis: {basis}. Procedures: {procedures}. Kinds: skipped = a required step never "
        "decided; unexpected = a step the procedure does not have (or has only under a condition "
        "that did not hold); out of order = the steps are right, the order is not; "
        "self-approval = the applicant decided where the procedure forbids it; authority = "
        "decided by someone outside the step's departments, people or roles. Details in the "
        "workbook."),
    "conformance.basis_text": (
        "按发起时有效的标准流程逐件、逐轮核对（被退回、否决、撤回的一轮只核对到其最后一步）；不合规率 = "
        "至少有一处偏离的件数 ÷ 核对件数，附 Wilson 95% 区间",
        "each case's rounds held against the procedure in force at its start (a round ended by "
        "a return, rejection or withdrawal only up to its last step); share of cases with at "
        "least one deviation, Wilson 95% interval"),
    # --- the review's ledger page and the weekly digest
    "ledger.title": ("督办台账：本月列入、销号与在办", "Supervision ledger: the month"),
    "ledger.no_runs": ("台账本月没有周运行记录。", "The ledger has no weekly run this month."),
    "ledger.entered": ("本月列入", "Entered"), "ledger.struck": ("本月销号", "Struck off"),
    "ledger.open_end": ("月末在办", "Open at month end"),
    "ledger.median": ("销号事项超期中位数", "Median overdue until struck off"),
    "ledger.median_n": ("工作日，n={n}", "working days, n={n}"),
    "ledger.median_text": ("{days:.1f} 工作日（n={n}）", "{days:.1f} working days (n={n})"),
    "ledger.open_rows": ("月末在办的超期事项", "Open at the month's last run"),
    "ledger.struck_rows": ("本月销号中超期最久的事项", "Struck off, longest overdue first"),
    "ledger.none": ("无", "none"),
    "ledger.more": ("另有 {n} 件见 Excel 附表。", "{n} more in the workbook."),
    "ledger.basis": ("口径：本月的周运行 {weeks}（台账 {ledger}）。列入、销号按周运行计；销号事项的超期时长"
                     "为应办结时间至流程办结的工作日；月末在办为本月最后一次运行时仍在账的事项。",
                     "Basis: the month's weekly runs {weeks} (ledger {ledger}). Entered and struck "
                     "off as recorded by those runs; time overdue is working days from the due "
                     "time to the case's end; open = on the ledger at the month's last run."),
    "ledger.open_axis": ("月末在办超期件数", "open entries at month end"),
    "ledger.most_open": ("在办超期件数最多的办理人", "Most open entries"),
    "ledger.unknown_step": ("(未知)", "(unknown)"),
    "ledger.step": ("{node}（{basis}）", "{node} ({basis})"),
    "ledger.holder": ("{who}（{at}）", "{who} ({at})"),
    "ledger.delay": ("{node}（{who}，{days:.1f}）", "{node} ({who}, {days:.1f})"),
    # the overdue ledger's, the supervision ledger's and its month's notes
    "overdue.no_pending": ("{n} 件超期案件在日志中没有待办：下一环节和办理人未知（按最后一次办理之后显示）",
                           "{n} overdue case(s) have no pending item in the log: their next "
                           "node and responsible person are unknown (shown as after the last "
                           "action)"),
    "overdue.no_submission": ("{n} 件超期案件在日志中没有发起记录：其天数从第一条记录起算（为下限）",
                              "{n} overdue case(s) have no submission in the log: their days "
                              "run from their first event (a lower bound)"),
    "overdue.before_end": ("截至时间 {as_of} 早于日志的结束时间（{end}）：办理人按其后的办理记录确定",
                           "as of {as_of} is before the end of the log ({end}): holders are "
                           "taken from the actions that followed"),
    "waits.none": ("{where}没有事项在任何节点等待", "no item waited at any node in {where}"),
    "waits.the_log": ("日志中", "the log"),
    "ledger.unseen": ("{n} 件在办事项在本次日志中未见在办（既非在办也未办结）：仍按在办保留；导出是否完整？",
                      "{n} open entries not seen open in this log (neither open nor ended "
                      "there): kept open; is the export complete?"),
    "ledger.unseen_one": ("1 件在办事项在本次日志中未见在办（既非在办也未办结）：仍按在办保留；导出是否完整？",
                          "1 open entry not seen open in this log (neither open nor ended "
                          "there): kept open; is the export complete?"),
    "ledger.first_run": ("台账首次运行：列入截至时点超期且在办的案件；此前超期但已办结的案件不列入",
                         "first run of this ledger: it enters the cases overdue and open at its "
                         "as-of; cases that were overdue but ended before are not entered"),
    "ledger.after_end": ("截至时间 {as_of} 比日志的结束时间（{end}）晚 {days} 天：此后的情况未知",
                         "as of {as_of} is {days} day(s) after the log's end ({end}): nothing "
                         "after that is known"),
    "ledger.week_recorded": ("{week} 已记入台账：未作改动，也不重新发送（--resend {week} 可重新发送该周周报）",
                             "week {week} is already in the ledger: nothing changed, nothing "
                             "is sent again (--resend {week} sends its digest again)"),
    "ledger.no_run_in": ("台账在 {month} 没有周运行记录", "the ledger has no weekly run in {month}"),
    "path.ended": ("（{outcome}）", " ({outcome})"),
    "digest.title": ("督办周报 {week}（截至 {as_of:%Y-%m-%d %H:%M}）",
                     "Supervision digest {week} (as of {as_of:%Y-%m-%d %H:%M})"),
    "digest.headline": ("新增超期 {opened} 件{extra}{again} · 持续在办 {carried} 件 · 本周销号 {closed} 件 · "
                        "台账在办 {open_after} 件",
                        "{opened} new overdue{extra}{again} · {carried} still open · {closed} "
                        "struck off · {open_after} open on the ledger"),
    "digest.same_week": ("（其中 {n} 件本周已办结）", " ({n} already ended)"),
    "digest.again": ("，重新列入 {n} 件", ", {n} reopened"),
    "digest.closed_line": ("{what} · {when} 已{how}，此前超期 {days} 工作日",
                           "{what} · {how} {when} after {days} working days overdue"),
    "digest.holder_unknown": ("办理人未知", "holder unknown"),
    "digest.unseen": (" · 本周日志未见", " · not in this log"),
    "digest.week_on": (" · 在账第 {n} 周", " · week {n} on the ledger"),
    "digest.reopened": (" · 重新列入", " · reopened"),
    "digest.overdue": ("超期 {days} 工作日", "{days} working days overdue"),
    "digest.section": ("【{name}】", "[{name}]"),
    "digest.more": ("  …另有 {n} 件", "  … and {n} more"),
    "digest.empty": ("台账没有在办的超期事项。", "No overdue entry is open."),
    "digest.note": ("说明：{text}", "Note: {text}"),
    "digest.open_bar": ("在办", "open"), "digest.new_bar": ("本周新增", "new"),
    "digest.open_axis": ("在办超期件数", "open overdue entries"),
    "digest.most_open": ("督办台账：在办超期件数最多的办理人 {week}", "Who holds the most open overdue entries {week}"),
    "digest.no_open": ("无在办超期事项", "no open entry"),
    "digest.footer": ("officemine {v} · 台账 {ledger} · 生成于 {today}",
                      "officemine {v} · ledger {ledger} · generated {today}"),
    "digest.subtitle": ("日历：{calendar} · 单位：工作日", "calendar: {calendar} · unit: working days"),
    "digest.open_on_ledger": ("台账在办", "Open on the ledger"),
    "digest.open_rows": ("在办超期事项（按超期时长）", "Open entries, most overdue first"),
    "digest.more_open": ("另有在办 {n} 件", "{n} more open"),
    "digest.more_closed": ("另有销号 {n} 件", "{n} more struck off"),
    "digest.see_workbook": ("，见 Excel 附表。", "; see the workbook."),
    "notify.cut": ("…另有 {n} 件未列出，见周报附件或 officemine ledger。",
                   "… {n} more entries not listed: see the digest files or `officemine ledger`."),
    "notify.subject": ("{title}：{headline}", "{title}: {headline}"),
    "notify.signature": ("—— officemine 督办台账", "-- officemine ledger"),
    "digest.entered_month": ("本月列入", "Entered this month"),
    "digest.struck_month": ("本月销号", "Struck off this month"),
    "digest.open_month_end": ("月末在办", "Open at month end"),
    # --- time limits
    "sla.describe": ("{head}限时（工作日）{limits}", "{head}time limits (working days) {limits}"),
    "sla.other": ("其他 {days}", "other {days}"),
    "sla.default_name": ("officemine 默认时限", "officemine default limits"),
    # --- pseudonyms
    "privacy.done": (
        "人员已匿名化：人员列（{people}{by_values}）中的 {names:,} 个姓名替换为「{prefix}-」加 {digits} 位密钥哈希"
        "（HMAC-SHA256）；这些姓名在全部 {columns} 个文本列（标题、意见、节点名称等，其中 {changed} 列有改动）和"
        "导入报告（{metadata}）中出现之处也已替换。密钥：{source}，指纹 {fingerprint}；同一密钥下每月化名一致，"
        "没有密钥无法由姓名推算化名。",
        "People are pseudonymised: the {names:,} names in the person columns ({people}"
        "{by_values}) are replaced by '{prefix}-' and {digits} hex digits of a keyed hash "
        "(HMAC-SHA256), and so is every occurrence of those names in all {columns} text columns "
        "(titles, comments, node names …; {changed} changed) and in the import report "
        "({metadata}). Key: {source}, fingerprint {fingerprint}; the same key gives the same "
        "pseudonyms every month, and without it no pseudonym can be computed from a name."),
    "privacy.by_values": ("；按取值识别：{columns}", "; recognised by their values: {columns}"),
    "privacy.in_import_report": ("导入报告：{field}", "import report: {field}"),
    # --- a list's separators
    "list.sep": ("、", ", "), "list.semi": ("；", "; "), "list.comma": ("，", ", "),
    # --- the import report (`ImportReport.lines`)
    "import.none": ("无", "none"),
    "import.weaver_encoding": ("{file}：文本编码 {encoding}", "{file}: text encoding {encoding}"),
    "import.weaver_empty_lines": ("{file}：忽略了 {n:,} 个空行或全空的行",
                                  "{file}: {n:,} blank lines or rows of empty cells ignored"),
    "import.weaver_malformed": ("{file}：忽略了 {n} 个无法解析的行", "{file}: {n} malformed rows ignored"),
    "import.weaver_companions": ("使用的附表：{tables}", "companion tables used: {tables}"),
    "import.weaver_no_nodebase": ("没有 workflow_nodebase：节点记为 节点<NODEID>",
                                  "no workflow_nodebase: nodes are named 节点<NODEID>"),
    "import.weaver_unknown_nodes": ("{n} 个节点 ID 不在 workflow_nodebase 中，记为 节点<id>：{ids}",
                                    "{n} node ids not in workflow_nodebase, named 节点<id>: {ids}"),
    "import.weaver_unknown_people": ("{n} 个操作人 ID 不在 HrmResource 中，保留为 ID：{ids}{admin}",
                                     "{n} operator ids not in HrmResource kept as ids: {ids}{admin}"),
    "import.weaver_admin": ("（ID 1 通常是系统管理员，记录在 HrmResourceManager 中）",
                            " (id 1 is normally the system administrator, kept in "
                            "HrmResourceManager)"),
    "import.weaver_no_people": ("没有 HrmResource：人员以用户 ID 表示", "no HrmResource: people are their user ids"),
    "import.weaver_arrivals": ("{total:,} 个操作中有 {matched:,} 个的到达时间取自 workflow_currentoperator"
                               "（同一人在同一节点、操作之前最近一次接收）；其余由前一操作推断",
                               "arrival times from workflow_currentoperator for {matched:,} of "
                               "{total:,} events (the latest receipt by the same person at the "
                               "same node before the action); the others are inferred from the "
                               "previous action"),
    "import.weaver_no_arrivals": ("没有 workflow_currentoperator：到达时间由每个请求中的前一操作推断",
                                  "no workflow_currentoperator: arrival times are inferred from "
                                  "the previous action in each request"),
    "import.weaver_missing": ("未找到的附表：{tables}", "companion tables not found: {tables}"),
    "import.weaver_codes": ("LOGTYPE 代码按泛微代码表对应：{codes}；提交（2）在发起节点记为提交，在其他（处理）节点记为同意{unknown}{mapped}",
                            "LOGTYPE codes mapped with the Weaver table: {codes}; 提交 (2) counts "
                            "as submit at the start node and as approve at other (processing) "
                            "nodes{unknown}{mapped}"),
    "import.weaver_unknown_codes": ("；不在代码表中的代码按 unknown_outcome 另存待查：{codes}（可用 [outcomes] \"代码\" = \"outcome\" 对应）",
                                    "; codes not in the table are set aside as unknown_outcome: "
                                    "{codes} (map them with [outcomes] \"code\" = \"outcome\")"),
    "import.weaver_mapped_codes": ("；按映射对应的代码：{codes}", "; codes mapped by the mapping: {codes}"),
    "import.weaver_pending": ("未办结的请求中有 {n:,} 个工作项在导出时已接收未处理（{kinds}）：记为待办行，arrived_at = "
                              "RECEIVEDATE + RECEIVETIME，尚无操作{copies}",
                              "{n:,} work items received and not acted on at export ({kinds}) in "
                              "requests not finished: pending rows, arrived_at = RECEIVEDATE + "
                              "RECEIVETIME, no action yet{copies}"),
    "import.weaver_copies": ("；其中 {n} 个是抄送或转发（ISREMARK 8、9、1）：结果记为抄送，不耽误请求",
                             "; {n} of them are copies or 转发 (ISREMARK 8, 9, 1): outcome cc, "
                             "they do not hold the request up"),
    "import.weaver_skip_finished": ("{n} 个在已办结的请求中（如未读的抄送）", "{n} in finished requests (e.g. unread copies)"),
    "import.weaver_skip_settled": ("{n} 个已由同一人在该节点的后续操作了结",
                                   "{n} settled by a later operation of the same person at that node"),
    "import.weaver_skip_unknown": ("{n} 个属于请求日志中没有的请求", "{n} of requests not in the request log"),
    "import.weaver_not_pending": ("workflow_currentoperator 中标为等待但不算待办的工作项：{parts}",
                                  "workflow_currentoperator items marked as waiting but not "
                                  "pending: {parts}"),
    "import.weaver_mapped_column": ("按映射，{column_zh}取自 {sources}", "{column} taken from {sources} as the mapping says"),
    "import.weaver_details": ("{files}：表单明细表（明细表，每个请求多行）：未读入",
                              "{files}: form detail tables (明细表, line items, several rows per "
                              "request): not read"),
    "import.weaver_form_malformed": ("{file}：{n} 个无法解析的行未读入（行 {rows}）：其请求没有表单值",
                                     "{file}: {n} malformed rows not read (rows {rows}): their "
                                     "requests have no form values"),
    "import.weaver_form_no_id": ("{n} 个表单行没有 REQUESTID，无法与请求关联：{rows}",
                                 "{n} form rows without a REQUESTID cannot be joined to a request: "
                                 "{rows}"),
    "import.weaver_forms": ("表单值按 REQUESTID 从 {tables} 个表单表（{stems}）关联到 {requests:,} 个请求中的 {with_form:,} 个{without}",
                            "form values joined by REQUESTID from {tables} form tables ({stems}) "
                            "for {with_form:,} of {requests:,} requests{without}"),
    "import.weaver_without_form": ("；{n:,} 个请求在任何表单表中都没有行，因此没有表单值（没有金额）：{ids}",
                                   "; {n:,} requests have no row in any form table, so no form "
                                   "values (no amount): {ids}"),
    "import.weaver_unused_forms": ("{n:,} 个表单行属于请求日志中没有的请求：未使用",
                                   "{n:,} form rows are of requests not in the request log: not used"),
    "import.weaver_kept_fields": ("按映射保留的表单字段：{fields}", "form fields kept as the mapping asks: {fields}"),
    "import.weaver_basis_requests": ("workflow_requestbase CURRENTNODETYPE = 3", "workflow_requestbase CURRENTNODETYPE = 3"),
    "import.weaver_basis_nodes": ("workflow_nodebase：最后一次操作的 DESTNODEID 是 ISEND 节点",
                                  "workflow_nodebase: the last action's DESTNODEID is an ISEND node"),
    "import.weaver_no_end": ("无法区分已办结与在办的请求：泛微在归档节点不写日志行；请添加 workflow_requestbase.csv"
                             "（CURRENTNODETYPE）或 workflow_nodebase.csv（ISEND）。在此之前只有以强制归档或删除结束的请求算作已办结",
                             "finished requests cannot be told from open ones: Weaver writes no "
                             "log row at the archive node; add workflow_requestbase.csv "
                             "(CURRENTNODETYPE) or workflow_nodebase.csv (ISEND). Until then only "
                             "requests ended by 强制归档 or 删除 count as finished"),
    "import.weaver_archives": ("补充了 {n:,} 个归档操作（{basis}），时间取把请求送到归档节点的那次操作：泛微在该节点不写日志行；"
                               "这些操作计入读入行数，其 source_row 指明所依据的记录",
                               "{n:,} archive events added ({basis}), at the time of the action "
                               "that moved the request to its archive node: Weaver writes no log "
                               "row there; they are counted in rows read and their source_row "
                               "names the record"),
    "import.xes_no_trace_name": ("{n:,} 条轨迹没有 concept:name；其事件没有流程编号",
                                 "{n:,} traces have no concept:name; their events have no case id"),
    "import.xes_merged": ("读入 XES 事件记录 {records:,} 条；其中 {merged:,} 条生命周期记录（schedule/assign/start/suspend/resume）"
                          "并入其所属活动实例的事件，故按 {read:,} 行计为读入",
                          "{records:,} XES event records read; {merged:,} lifecycle records "
                          "(schedule/assign/start/suspend/resume) were merged into the event of "
                          "the activity instance they belong to, so {read:,} rows are counted as "
                          "read"),
    "import.xes_lifecycle": ("生命周期转换：{counts}。每个活动实例一个事件：acted_at = complete，arrived_at = "
                             "schedule/assign（事项进入队列），started_at = start（开始办理）；已安排未完成的事项为待办行",
                             "lifecycle transitions: {counts}. One event per activity instance: "
                             "acted_at = complete, arrived_at = schedule/assign (the item reached "
                             "the queue), started_at = start (work began); an item scheduled but "
                             "not completed is a pending row"),
    "import.xes_start_only": ("{n:,} 个活动实例已开始但从未完成，也没有 schedule 记录：既无到达时间也无操作时间，按 missing_time 另存待查",
                              "{n:,} activity instances were started but never completed and have "
                              "no schedule record: with neither an arrival nor an action time "
                              "they are set aside as missing_time"),
    "import.xes_resource_from_start": ("{n:,} 条 complete 记录没有 org:resource；取其 start 记录的办理人",
                                       "{n:,} complete records name no org:resource; the resource "
                                       "of their start record is used"),
    "import.xes_naive_times": ("{n:,} 个时间戳不带 UTC 偏移；按导入时区解释（started_at 保持原样）",
                               "{n:,} timestamps carry no UTC offset; they are taken in the import "
                               "time zone (started_at stays as written)"),
    "import.xes_renamed": ("为避免重名而改名的属性：{names}", "attributes renamed to avoid a clash: {names}"),
    "import.xes_skipped": ("未导入列表/容器属性：{names}", "list/container attributes are not imported: {names}"),
    "import.dingtalk": ("{layout}：钉钉审批实例 {n} 个（workflow 1.0 {v1} 个，topapi {topapi} 个）",
                        "{layout}: {n} DingTalk instance(s) ({v1} workflow 1.0, {topapi} topapi)"),
    "import.dingtalk_v1_times": ("workflow 1.0 的时间为精确到分钟的 UTC 时间（“…Z”），已换算到导入时区；不足一分钟的等待显示为 0",
                                 "workflow 1.0 times are UTC to the minute ('…Z'); converted to "
                                 "the import time zone. Waits under a minute show as 0"),
    "import.dingtalk_topapi_times": ("topapi 的时间不带时区：按导入时区解释（钉钉写的是北京时间，请保留默认的 Asia/Shanghai）",
                                     "topapi times carry no zone: taken in the import time zone "
                                     "(DingTalk writes Beijing time, so keep the default "
                                     "Asia/Shanghai)"),
    "import.dingtalk_business_id": ("{n} 个实例在导出中没有 processInstanceId：case_id 取其 businessId（审批编号）",
                                    "{n} instance(s) have no processInstanceId in the export: "
                                    "case_id is their businessId (审批编号)"),
    "import.dingtalk_process_from_title": ("{n} 个实例的流程类型取自标题（“…提交的<审批名称>”）；接口没有流程名称字段",
                                           "process_type of {n} instance(s) taken from the title "
                                           "('…提交的<审批名称>'); the API has no process name "
                                           "field"),
    "import.dingtalk_node_from_user": (
        "{n} 个审批决定没有节点（没有 showName 和 activityId，旧版 topapi 导出如此）：以审批人为节点"
        "（“审批人 <userid>”）；可用针对标签列的 [[label_rules]] 重命名",
        "{n} decision(s) name no node (no showName, no activityId, as in older topapi exports): "
        "their node is the approver, '审批人 <userid>'; rename nodes with [[label_rules]] on "
        "the label column"),
    "import.tasks_pending": ("导出时仍有 {n} 个待办等待审批（{counts}）：保留为待办行（arrived_at = 待办的 {field}，尚无操作）；其流程在办",
                             "{n} task(s) still waiting for a decision at export ({counts}): kept "
                             "as pending rows (arrived_at = the task's {field}, no action yet); "
                             "their cases are open"),
    "import.dingtalk_not_started": ("导出时有 {n} 个待办尚未开始（状态 NEW：{counts}）：事项还没有到达，不算待办事项",
                                    "{n} task(s) not started at export (status NEW: {counts}): "
                                    "the item has not reached them yet, so they are not pending "
                                    "items"),
    "import.dingtalk_stale_open": ("已结束的实例中仍有 {n} 个 RUNNING/PAUSED 待办：不算待办事项（已结束的实例中没有等待）",
                                   "{n} task(s) still RUNNING/PAUSED in instances that have ended: "
                                   "not pending items (nothing waits in an ended instance)"),
    "import.dingtalk_ends_added": ("{n} 个实例没有结束记录：在实例的 finishTime 补一个“结束”操作（归档，终止的实例为撤回），使流程计为已办结",
                                   "{n} instance(s) end without an end record: an event '结束' "
                                   "(archive, or withdraw for a terminated instance) is added "
                                   "at the instance's finishTime, so the case counts as closed"),
    "import.amount_problems": ("表单值不是数字处，金额留空：{problems}",
                               "amount left empty where the form value is not a number: {problems}"),
    "import.dingtalk_modifies": ("{n} 个实例修改了此前的实例（bizAction MODIFY）：通过 mainProcessInstanceId 与其关联",
                                 "{n} instance(s) modify an earlier one (bizAction MODIFY): "
                                 "linked to it by mainProcessInstanceId"),
    "import.dingtalk_revokes": ("{n} 个实例撤销了此前的实例（bizAction REVOKE）：撤销本身是一个独立申请，不关联",
                                "{n} instance(s) revoke an earlier one (bizAction REVOKE): a "
                                "revocation is a request of its own, not linked"),
    "import.feishu": ("{layout}：飞书审批实例 {n} 个；时间为毫秒纪元值，已换算到导入时区",
                      "{layout}: {n} Feishu/Lark instance(s); times are millisecond epochs, "
                      "converted to the import time zone"),
    "import.feishu_open_id": ("{n} 个操作以 open_id 标识人员（导出中没有 user_id：应用缺少获取用户 ID 的权限）",
                              "{n} event(s) name the person by open_id (the export has no "
                              "user_id: the app lacked the user ID permission)"),
    "import.feishu_stale_open": ("已不再 PENDING 的实例中仍有 {n} 个 PENDING 待办：不算待办事项（已结束的实例中没有等待）",
                                 "{n} task(s) still PENDING in instances that are no longer "
                                 "PENDING: not pending items (nothing waits in an ended instance)"),
    "import.feishu_ends_added": ("{n} 个实例已通过或取消但时间线没有相应记录：在实例的 end_time 补一个“结束”操作（归档或撤回），使流程计为已办结",
                                 "{n} instance(s) approved or cancelled with no timeline entry "
                                 "for it: an event '结束' (archive, or withdraw) is added at the "
                                 "instance's end_time, so the case counts as closed"),
    "import.feishu_modifies": ("{n} 个实例修改了此前的实例（modified_instance_code）：与其关联",
                               "{n} instance(s) modify an earlier one (modified_instance_code): "
                               "linked to it"),
    "import.wecom": ("{layout}：企业微信审批申请 {n} 个；时间为秒级纪元值，已换算到导入时区",
                     "{layout}: {n} WeCom request(s); times are epoch seconds, converted to the "
                     "import time zone"),
    "import.wecom_no_steps": ("企业微信不记录审批环节名称：节点按 sp_record 顺序记为 审批节点1、审批节点2 …（可用针对标签列的 [[label_rules]] 重命名）",
                              "WeCom names no approval steps: nodes are 审批节点1, 审批节点2, … in "
                              "sp_record order (rename them with [[label_rules]] on the label "
                              "column)"),
    "import.wecom_no_arrivals": ("企业微信不记录到达时间：每次等待从前一操作起算（推断）。会签环节的审批人同时收到事项，第二位及以后审批人的推断等待偏短",
                                 "WeCom records no arrival times: each wait starts at the "
                                 "previous action (inferred). In a 会签 step all approvers "
                                 "received the item together, so the inferred wait of the second "
                                 "and later approvers there is too short"),
    "import.wecom_open_tasks": ("导出时仍有 {n} 位审批人未处理（{counts}）：没有人操作，不记为操作；其申请在办",
                                "{n} approver(s) still to decide at export ({counts}): not "
                                "events, since nobody has acted yet; their requests are open"),
    "import.wecom_notified": ("{n} 个申请有抄送人（notifyer）但没有时间：不记为操作；用户 ID 保留在 notifyer 列",
                              "{n} request(s) have 抄送人 (notifyer) without a time: not events; "
                              "the user ids are kept in the column notifyer"),
    "import.wecom_archived": ("{n} 个已通过的申请在最后一次操作时补一个“结束”（归档）操作，企业微信不记录结束时间",
                              "{n} approved request(s) get an event '结束' (archive) at the time "
                              "of their last action, WeCom records no end time"),
    "import.wecom_withdrawn": ("{n} 个申请已撤回或删除（sp_status 4/6/7），但企业微信没有记录时间：撤回另存待查（missing_time），这些流程在日志中看似在办",
                               "{n} request(s) were withdrawn or deleted (sp_status 4/6/7) but "
                               "WeCom records no time for it: the withdrawal is set aside "
                               "(missing_time) and these cases look open in the log"),
    "import.matched": ("{total} 个{what}中有 {matched} 个与其待办匹配：arrived_at 取待办的 {field}{rest}",
                       "{matched} of {total} {what} matched to their task: arrived_at is the "
                       "task's {field}{rest}"),
    "import.matched_rest": ("；其余 {n} 个由规范化步骤推断", "; for the other {n} it is inferred by the normaliser"),
    "import.decisions": ("审批决定", "decisions"), "import.task_actions": ("待办操作", "task actions"),
    "import.columns_unused": ("映射中的 [columns] 未使用：{what} 导出的字段名是固定的（[outcomes]、[constants] 和 "
                              "[[label_rules]] 仍然有效）",
                              "[columns] of the mapping is not used: {what} exports have fixed "
                              "field names ([outcomes], [constants] and [[label_rules]] still "
                              "apply)"),
    "import.spark_frame": ("Spark DataFrame，{rows:,} 行 {columns} 列",
                           "a Spark DataFrame of {rows:,} rows and {columns} columns"),
    "import.spark_table": ("Spark 表 {table}，{rows:,} 行 {columns} 列",
                           "a Spark table {table} of {rows:,} rows and {columns} columns"),
    "import.outside_hours": ("{n:,} 个操作中有 {share:.0%} 超出日历的工作时间 {minutes} 分钟以上（{rules_zh}）",
                             "{share:.0%} of the {n:,} actions fall outside the calendar's working "
                             "time by more than {minutes} minutes ({rules_en})"),
    "import.outside_hours_warning": (
        "{said}：日历是否正确？请在 [calendar] 中设置地区和办公时间、在映射中设置时区，或为分析指定 --calendar",
        "{said}: is the calendar right? Set region and hours under [calendar] and the timezone "
        "in the mapping, or give the analyses --calendar"),
    "import.no_header": ("第 {number} 列没有表头：按 {new!r} 读入", "column {number} has no header: read as {new!r}"),
    "import.own_header": ("第 {number} 列的表头 {name!r} 与 officemine 自用的列同名：按 {new!r} 读入",
                          "column {number} is headed {name!r}, officemine's own: read as {new!r}"),
    "import.header_repeats": ("表头 {name!r} 重复（第 {first} 列和第 {number} 列）：第 {number} 列按 {new!r} 读入",
                              "header {name!r} repeats (columns {first} and {number}): column "
                              "{number} is read as {new!r}"),
    "import.kept_renamed": ("与 officemine 列同名的源数据列改名保留：{columns}",
                            "source columns named like officemine's own are kept under another "
                            "name: {columns}"),
    "import.label_is_node": ("没有节点列：以活动标签（{label}）为节点",
                             "no node column: the activity label ({label}) is the node"),
    "import.encoding": ("文本编码 {encoding}，分隔符为{delimiter}", "text encoding {encoding}, delimiter {delimiter}"),
    "import.delimiter_comma": ("逗号", "comma"), "import.delimiter_tab": ("制表符", "tab"),
    "import.empty_lines": ("忽略了 {n:,} 个空行或全空的行", "{n:,} blank lines or rows of empty cells ignored"),
    "import.dataframe": ("pandas DataFrame，{rows:,} 行 {columns} 列",
                         "a pandas DataFrame of {rows:,} rows and {columns} columns"),
    "import.sheet": ("工作表 {sheet!r}", "sheet {sheet!r}"),
    "import.empty_rows": ("忽略了 {n} 个全空的行", "{n} entirely empty rows ignored"),
    "import.constant": ("映射 [constants] 将每行的{column_zh}设为 {value!r}",
                        "{column} set to {value!r} for every row (mapping [constants])"),
    "import.no_outcome_column": (
        "源数据没有操作类型列：每个操作的结果都记为“其他”；请在映射中用 [columns] outcome = … 指定，或用 "
        "[[label_rules]] 推导",
        "the source has no outcome column: every event's outcome is 'other'; map one with "
        "[columns] outcome = … or derive it with [[label_rules]]"),
    "import.no_outcome": ("{n:,} 行没有操作类型，记为“其他”", "{n:,} rows have no outcome value; taken as 'other'"),
    "import.pending": ("导出时仍有 {n:,} 条待办事项（已到达、未处理）：保留为待办行，其等待时间按右删失处理",
                       "{n:,} work items were still pending at export (arrived, not yet acted "
                       "on): kept as pending rows, their waits are right-censored"),
    "import.not_linked_option": ("未关联多次申请（--no-link）：每个实例各为一件",
                                 "attempts were not linked (--no-link): every instance is a case"),
    "import.not_linked_setting": ("未关联多次申请（[linking] enabled = false）：每个实例各为一件",
                                  "attempts were not linked ([linking] enabled = false): every "
                                  "instance is a case"),
    "import.not_linked_traces": ("未关联多次申请：{format} 的每条轨迹本身就是一件（设 [linking] enabled = true 可关联）",
                                 "attempts were not linked: a {format} trace is a case already "
                                 "(set [linking] enabled = true to link them)"),
    "import.objects_numbered": (
        "{n:,} 个事项对象在已有同类对象的流程中重新提交（此前没有退回、否决或撤回）：各自算作新的对象"
        "（“<对象> #2” …）",
        "{n:,} object(s) submitted afresh in a case already holding one of their kind (a "
        "submission that follows no return, rejection or withdrawal of it) are objects of their "
        "own: '<object> #2', …"),
    "import.rejections_recoded": (
        "{n:,} 次否决后同一申请又重新提交，按退回计：事项回到了申请人手中（[returns] "
        "reject_then_resubmit = \"return\"）",
        "{n:,} rejections followed by a resubmission of the same request are returns (退回): "
        "the item came back to the applicant ([returns] reject_then_resubmit = \"return\")"),
    "import.rejections_kept": (
        "{n:,} 次否决后同一申请又重新提交，仍按否决计（[returns] reject_then_resubmit = \"reject\"）",
        "{n:,} rejections followed by a resubmission of the same request are kept as rejections "
        "([returns] reject_then_resubmit = \"reject\")"),
    "import.labels_unmatched": ("{n:,} 个标签没有匹配任何标签规则，以标签本身为节点：{examples}",
                                "{n:,} labels matched no label rule; their node is the label "
                                "itself: {examples}"),
    "import.naive_times": ("未带时区的时间按 {tz} 当地时间解释；带时区或纪元值的时间换算为 {tz}",
                           "times without a zone are taken as {tz} local time; times with a zone "
                           "or epoch values are converted to {tz}"),
    "import.no_form_values": ("未按表单关联多次申请：源数据没有 [linking] match 所列的表单字段（{names_zh}）",
                              "attempts were not linked by their form: the source has none of "
                              "the form values [linking] match names ({names})"),
    "import.linked_by_form": (
        "按表单关联多次申请：同一发起人（申请人，否则提交人）、流程类型和{values_zh}，且在被拒后 {window} 个工作日"
        "（按日志的日历）内重新发起{absent}",
        "attempts linked by form: same originator (applicant, else submitter), process type and "
        "{values}, started within {window} working days of the log's calendar after a "
        "refusal{absent}"),
    "import.absent_values": ("；源数据没有{names_zh}", "; the source has no {names}"),
    "import.linked_by_field": ("在关联字段 {field!r} 有值时按其关联多次申请",
                               "attempts linked by the link field {field!r} where it is filled"),
    "import.head": ("数据来源：{source}（格式 {format}）", "Import of {source} ({format})"),
    "import.rows": ("读入 {read:,} 行 = 接受 {accepted:,} 行 + 另存待查 {aside:,} 行{unbalanced}",
                    "rows read {read:,} = accepted {accepted:,} + set aside {aside:,}{unbalanced}"),
    "import.unbalanced": ("（不平衡！）", "  (UNBALANCED!)"),
    "import.aside_reason": ("{meaning}：{count:,} 行", "{meaning}: {count:,} rows"),
    "import.aside_code": ("{reason:<22} {count:>8,}  {meaning}", "{reason:<22} {count:>8,}  {meaning}"),
    "import.aside_file": ("另存的行见 {file}", "set-aside rows written to {file}"),
    "import.cases": ("流程 {cases:,} 件，日志结束时在办 {open:,} 件；源数据中事件顺序错乱的流程 {out_of_order:,} 件",
                     "cases {cases:,} (open at the end of the log: {open:,}); cases with events "
                     "out of time order in the source: {out_of_order:,}"),
    "import.arrivals": ("到达时间：有记录 {recorded:,} 条，由前一操作推断 {inferred:,} 条；导出时待办事项 {pending:,} 条",
                        "arrival times: recorded {recorded:,}, inferred from the previous action "
                        "{inferred:,}; work items pending at export {pending:,}"),
    "import.timezone": ("时区：{tz}（未带时区的时间按此解释）", "times in {tz}"),
    "import.columns": ("列对应：{columns}", "columns: {columns}"),
    "import.column": ("{field} ← {source}", "{field} ← {source}"),
    "import.outcomes": ("操作类型：{outcomes}", "outcomes: {outcomes}"),
    "import.instances": ("实例 {instances:,} 个 → 流程 {cases:,} 件：{linked:,} 个实例并入此前一次申请的流程{by_rule}{ambiguous}",
                         "instances {instances:,} → cases {cases:,}: {linked:,} linked into an "
                         "earlier attempt's case{by_rule}{ambiguous}"),
    "import.by_rule": ("{rule} {n:,}", "{rule} {n:,}"),
    "import.by_rules": ("（{rules}）", " ({rules})"),
    "import.ambiguous": ("；{n:,} 个有歧义（取时间最近的一次申请）",
                         "; {n:,} ambiguous (the closest attempt in time was taken)"),
    "import.rejections_as_returns": ("否决后同一申请又重新提交、按退回计：{n:,}",
                                     "rejections followed by a resubmission, counted as returns "
                                     "(退回): {n:,}"),
    "import.unknown_words": ("未识别的操作类型（可在映射的 [outcomes] 中补充）：{words}",
                             "unknown outcome words (add them under [outcomes] in a mapping): "
                             "{words}"),
    "import.note": ("说明：{text}", "note: {text}"),
    "import.warning": ("警告：{text}", "WARNING: {text}"),
}

_ZH, _EN = "_zh", "_en"


def _index(lang: Lang) -> int:
    ChoiceError.check("lang", lang, LANGS)
    return 0 if lang == "zh" else 1


def kept_in(zh: str, en: str, lang: Lang) -> str:
    """A text a record keeps in both languages (a run's calendar), in `lang`: the Chinese
    where no English was kept (records made before it was)."""
    return en if _index(lang) and en else zh


def say(key: str, lang: Lang = "zh", **params) -> str:
    """The phrase `key` in `lang`, its parameters filled in (a parameter that is a `Said` is
    said in `lang` too; a list of them is said as one, its parts joined by ``；`` or ``; ``)."""
    i = _index(lang)
    return PHRASES[key][i].format(**{k: _said_in(v, lang) for k, v in params.items()})


def _said_in(value: Any, lang: Lang) -> Any:
    if isinstance(value, Said):
        return value.text(lang)
    if isinstance(value, list):
        return PHRASES["list.semi"][_index(lang)].join(str(_said_in(v, lang)) for v in value)
    return value


class Said(str):
    """A sentence held as its catalogue key and parameters, for a result that says something
    (an import report's notes): `text(lang)` gives its words in either language; as a str it
    reads as its English words, so JSON and code that read it as text see the sentence they
    always saw.

    >>> Said("review.more_rows", n=3).text("zh")
    '另有 3 行见 Excel 附表。'
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> "Said":
        self = super().__new__(cls, say(key, "en", **params))
        self.key, self.params = key, params
        return self

    def text(self, lang: Lang = "en") -> str:
        return say(self.key, lang, **self.params)

    def to_dict(self) -> dict:
        return {"key": self.key, "params": {k: plain_said(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Said":
        """A `Said` from `to_dict` (a stored log's metadata: the key must be in the catalogue,
        else `LogFormatError`)."""
        if not isinstance(data, Mapping) or data.get("key") not in PHRASES \
                or not isinstance(data.get("params"), Mapping):
            raise LogFormatError(f"not a sentence of the text catalogue: {data!r:.80}")
        return cls(data["key"], **{k: said_again(v) for k, v in dict(data["params"]).items()})

    def __reduce__(self):
        return (_said, (self.key, self.params))


def _said(key: str, params: dict) -> Said:
    return Said(key, **params)


def plain_said(value: Any) -> Any:
    """`value` (a sentence, text or a list of them) for JSON that keeps each `Said` as its
    key and parameters (`said_again` reads it back)."""
    if isinstance(value, Said):
        return value.to_dict()
    if isinstance(value, list):
        return [plain_said(v) for v in value]
    return value


def said_again(value: Any) -> Any:
    """`value` from `plain_said`: each key and parameters a `Said` again, text as it is."""
    if isinstance(value, Mapping) and "key" in value and "params" in value:
        return Said.from_dict(value)
    if isinstance(value, list):
        return [said_again(v) for v in value]
    return value


def in_lang(text: Any, lang: Lang) -> str:
    """`text` for a reader of `lang`: a `Said` in its words, any other text as it is (a
    note written before notes were kept as codes, an error message)."""
    return text.text(lang) if isinstance(text, Said) else str(text)


def add_labels(labels: dict[str, tuple[str, str]]) -> None:
    """Labels defined with what they label (the KPI definitions name their KPIs)."""
    COLUMN_LABELS.update(labels)


def label(field: str, lang: Lang = "zh", table: str | None = None) -> str:
    """The word for `field` in `lang` (the field name itself when it has none)."""
    i = _index(lang)
    pair = IN_TABLE.get((table, field)) or COLUMN_LABELS.get(field)
    return pair[i] if pair else field


def word(field: str, code: Any, lang: Lang = "zh", table: str | None = None) -> Any:
    """The word for `code`, a value of `field`, in `lang` (`code` itself when it is not one
    of the field's codes: a node, a name)."""
    i = _index(lang)
    if not isinstance(code, str):
        return code
    pair = VALUES_IN_TABLE.get((table, field), {}).get(code) or VALUES.get(field, {}).get(code)
    return pair[i] if pair else code


def heads(key: str, lang: Lang = "zh") -> list[str]:
    """The headings of the page table `key` in `lang`."""
    return list(HEADS[key][_index(lang)])


def joined(items, lang: Lang = "zh") -> str:
    """Items as a list in `lang`: ``a、b`` or ``a, b``."""
    return say("list.sep", lang).join(map(str, items))


def relabel(frame: pd.DataFrame, lang: Lang = "zh", table: str | None = None) -> pd.DataFrame:
    """A copy of `frame` with column labels in Chinese (``"zh"``) or English (``"en"``)."""
    ChoiceError.check("lang", lang, LANGS)
    return frame.rename(columns={c: label(c, lang, table) for c in frame.columns})


def left_out_why(part: str, engine: str, lang: Lang = "en") -> str:
    """Why `engine` (``duckdb-batches``, ``spark``) leaves `part` out of a review."""
    where = say("left_out.spark" if engine == "spark" else "left_out.batches", lang)
    return say(f"left_out.{part}", lang, where=where)


# --- the necessity test's reasons ----------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def necessity_reason(code: str, params: Mapping[str, Any], lang: Lang = "en") -> str:
    """The reason of a necessity verdict in `lang`, from its code and parameters
    (`officemine.necessity`: ``too_few``, ``rarely_stops_long_wait``,
    ``rarely_stops_short_wait``, ``missing_material``, ``catches``, ``undecided``)."""
    p = dict(params)
    fill: dict[str, Any] = {k: p[k] for k in ("n", "min_items", "rate", "rejections",
                                             "missing_share") if k in p}
    if "ci_low" in p:
        fill["ci"] = say("necessity.ci", lang, level=p["confidence"], lo=p["ci_low"],
                         hi=p["ci_high"])
    if "threshold" in p:
        fill["bar"] = say("necessity.leader" if p.get("leadership") else "necessity.bar", lang,
                          bar=p["threshold"])
    if "basis" in p:
        unit = say("unit.working_hours" if p["basis"] == "working" else "unit.clock_hours",
                   lang)
        fill["wait"] = (say("necessity.wait_unknown", lang) if _missing(p.get("wait"))
                        else say("necessity.wait", lang, wait=p["wait"], unit=unit))
    fill["unrecorded"] = say("necessity.unrecorded", lang) if p.get("unrecorded") else ""
    return say(f"necessity.{code}", lang, **fill)


# --- tables for a reader ---------------------------------------------------------------------------

#: Columns that hold codes for programs only: a reader reads the words beside them.
_FOR_PROGRAMS = {"key": ("name_zh", "name_en", "measure")}
#: A variant's path marks how a round ended: ``财务初审:return``.
_PATH_MARK = re.compile(r":(return|reject|withdraw)(?= → |$)")
_STEP = re.compile(r"（(待办|其后办理|退回申请人|之后，下一节点未知)）$")


def step_text(node: Any, basis: Any, lang: Lang = "zh") -> str:
    """Where an open case is held, in `lang`: the node, and how that is known unless the log
    shows it plainly (``财务初审（待办）``)."""
    shown = say("ledger.unknown_step", lang) if _missing(node) or node is pd.NA else str(node)
    if basis == "acted_later" or not isinstance(basis, str):
        return shown
    return say("ledger.step", lang, node=shown, basis=word("node_basis", basis, lang))


def stored_step(step: Any, lang: Lang) -> Any:
    """A step as the ledger stores it (`step_text` in Chinese) in `lang`."""
    if lang == "zh" or not isinstance(step, str):
        return step
    found = _STEP.search(step)
    basis = next((code for code, (zh, _) in VALUES["node_basis"].items()
                  if found and zh == found.group(1)), None)
    node = step[:found.start()] if found else step
    return step_text(None if node == say("ledger.unknown_step", "zh") else node, basis, lang)


def _path_text(path: Any, lang: Lang) -> Any:
    if not isinstance(path, str):
        return path
    return _PATH_MARK.sub(lambda m: say("path.ended", lang, outcome=word(
        "outcome", m.group(1), lang)), path)


def for_reader(frame: pd.DataFrame, lang: Lang, table: str | None = None) -> pd.DataFrame:
    """`frame` as a reader of `lang` sees it: codes in words (`word`; a necessity reason from
    its code and parameters), a column kept in both languages (``unit_zh``/``unit_en``)
    shown once, in `lang`, columns that only programs read (a KPI's ``key`` beside its name)
    left out, and every label in `lang`."""
    ChoiceError.check("lang", lang, LANGS)
    frame = frame.copy()
    if {"reason_code", "reason_params"} <= set(frame.columns):
        at = list(frame.columns).index("reason_code")
        frame.insert(at, "reason", [necessity_reason(c, p, lang) for c, p in
                                    zip(frame["reason_code"], frame["reason_params"])])
        frame = frame.drop(columns=["reason_code", "reason_params"])
    columns = set(frame.columns)
    drop = [c for c, beside in _FOR_PROGRAMS.items()
            if c in columns and any(b in columns for b in beside)]
    frame = frame.drop(columns=drop)
    for column in frame.columns:
        if frame[column].dtype.kind not in "OSU" and not isinstance(frame[column].dtype,
                                                                   pd.StringDtype):
            continue
        if column in VALUES or (table, column) in VALUES_IN_TABLE:
            frame[column] = frame[column].map(lambda v, c=column: word(c, v, lang, table))
        elif column == "path":
            frame[column] = frame[column].map(lambda v: _path_text(v, lang))
        elif column == "current_step":
            frame[column] = frame[column].map(lambda v: stored_step(v, lang))
        elif table == "pseudonymization" and column == "where":
            frame[column] = frame[column].map(lambda v: _where(v, lang))
        else:                                 # sentences a result holds as codes (`Said`)
            frame[column] = frame[column].map(lambda v: v.text(lang) if isinstance(v, Said)
                                              else v)
    columns = set(frame.columns)
    drop, rename = [], {}
    for column in frame.columns:
        if column.endswith(_ZH):
            stem = column[:-len(_ZH)]
            if lang == "en":
                drop.append(column)
            elif stem in columns:             # last_action + last_action_zh: the Chinese
                drop.append(stem)
                rename[column] = stem
        elif column.endswith(_EN) and lang == "zh" and column[:-len(_EN)] + _ZH in columns:
            drop.append(column)
    shown = frame.drop(columns=drop).rename(columns=rename)
    return relabel(shown, lang, table)


def _where(value: Any, lang: Lang) -> Any:
    """A place the pseudonyms were looked for: a column (by its label) or a field of the import
    report (``import_report.notes``)."""
    if not isinstance(value, str):
        return value
    if value.startswith("import_report."):
        return say("privacy.in_import_report", lang,
                   field=word("import_report_field", value.split(".", 1)[1], lang))
    return label(value, lang)


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
