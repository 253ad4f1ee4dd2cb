"""What each KPI of the monthly review is: its key, names, unit, kind and basis (`KPIS`),
and how a value is read from a table and printed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from officemine.base.errors import ChoiceError
from officemine.base.text import add_labels

#: process_type value of the all-process rows in long tables.
ALL_TYPES = "全部"
#: Confidence of every interval in the KPIs.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class KPIDef:
    """One KPI: its key, names, unit, kind, and the basis its number rests on.

    kind: ``count`` (cases), ``days``, ``rate`` (a share in [0, 1]; shown as %) or ``ratio``
    (per case). better: ``"lower"``/``"higher"`` when a rise is bad/good, None when neutral.
    cover: shown as a tile on the report's cover. ``{calendar}``, ``{day_hours}`` and ``{sla}``
    in the basis texts are filled in per result.
    """

    key: str
    zh: str
    en: str
    unit_zh: str
    unit_en: str
    kind: Literal["count", "days", "rate", "ratio"]
    cover: bool
    better: Literal["lower", "higher"] | None
    basis_zh: str
    basis_en: str
    n_column: str


_CYCLE_ZH = ("本月办结件从首次提交到办结（归档、拒绝或撤回）的{what}；按工作日计，1个工作日为"
             "{day_hours}小时办公时间，日历：{calendar}")


_CYCLE_EN = ("{what} of the working time from first submission to the final event (archive, "
             "reject or withdraw) of the cases completed in the month, in working days of "
             "{day_hours} office hours ({calendar})")


_CLOCK_ZH = "本月办结件从首次提交到办结的{what}，按自然日（24小时）计"
_CLOCK_EN = ("{what} of the clock time from first submission to the final event of the cases "
             "completed in the month, in calendar days of 24 h")


_P90 = "第90百分位数（线性插值）"
_P90_EN = "90th percentile (linear interpolation)"
KPIS: tuple[KPIDef, ...] = (
    KPIDef("completed", "办结件数", "Cases completed", "件", "cases", "count", True, None,
           "办结月份为本月的件数（最后一个阻塞性操作为归档、拒绝或撤回）",
           "cases whose final event (archive, reject or withdraw) falls in the month",
           "completed"),
    KPIDef("cycle_median_workdays", "办理时长中位数", "Median cycle time", "工作日",
           "working days", "days", True, "lower",
           _CYCLE_ZH.replace("{what}", "工作日数中位数"),
           _CYCLE_EN.replace("{what}", "Median"), "cycle_n"),
    KPIDef("cycle_p90_workdays", "办理时长P90", "Cycle time, 90th percentile", "工作日",
           "working days", "days", True, "lower",
           _CYCLE_ZH.replace("{what}", "工作日数" + _P90),
           _CYCLE_EN.replace("{what}", _P90_EN.capitalize()), "cycle_n"),
    KPIDef("cycle_median_clockdays", "办理时长中位数（自然日）", "Median cycle time (clock)",
           "自然日", "calendar days", "days", False, "lower",
           _CLOCK_ZH.replace("{what}", "时长中位数"), _CLOCK_EN.replace("{what}", "Median"),
           "cycle_n"),
    KPIDef("cycle_p90_clockdays", "办理时长P90（自然日）", "Cycle time p90 (clock)", "自然日",
           "calendar days", "days", False, "lower",
           _CLOCK_ZH.replace("{what}", "时长" + _P90),
           _CLOCK_EN.replace("{what}", _P90_EN.capitalize()), "cycle_n"),
    KPIDef("on_time_rate", "限时办结率", "On-time rate", "%", "share", "rate", True, "higher",
           "本月办结件中办理工作日数不超过本流程时限的比例（{sla}）；区间为Wilson 95%置信区间",
           "share of the cases completed in the month whose cycle time in working days is "
           "within their process type's limit ({sla}); interval: Wilson 95%", "cycle_n"),
    KPIDef("return_rate", "退回率", "Return rate", "%", "share", "rate", True, "lower",
           "本月办结件中至少被退回一次的比例；区间为Wilson 95%置信区间",
           "share of the cases completed in the month that were returned at least once; "
           "interval: Wilson 95%", "completed"),
    KPIDef("returns_per_case", "件均退回次数", "Returns per case", "次/件", "per case", "ratio",
           False, "lower", "本月办结件的退回次数之和 ÷ 办结件数",
           "returns of the cases completed in the month ÷ cases completed", "completed"),
    KPIDef("handoffs_per_case", "件均跨部门流转次数", "Hand-offs per case", "次/件", "per case",
           "ratio", True, "lower",
           "本月办结件中相邻两个阻塞性操作（不含抄送、批注、催办）由不同部门人员完成的次数 ÷ 办结件数；"
           "无部门的操作（如系统归档）不计",
           "consecutive blocking actions (cc, comments and reminders excluded) taken by people "
           "of different departments, per case completed in the month; actions without a "
           "department (e.g. the system's archiving) do not count", "completed"),
    KPIDef("open_at_month_end", "月末在办件数", "Open at month end", "件", "cases", "count",
           True, None, "截至月末（日志先于月末结束时截至日志结束）已提交、尚未办结的件数",
           "cases submitted and not yet completed at the month's end (or at the end of the "
           "log, if earlier)", "open_at_month_end"),
    KPIDef("open_overdue", "月末超期在办件数", "Open past SLA at month end", "件", "cases",
           "count", True, "lower",
           "月末在办件中自首次提交起已用工作日超过本流程时限的件数（{sla}）",
           "cases open at the month's end whose working days since first submission exceed "
           "their process type's limit ({sla})", "open_at_month_end"),
    KPIDef("noncompliance_rate", "不合规率", "Non-compliance rate", "%", "share", "rate", True,
           "lower",
           "本月办结件中至少有一处偏离标准流程（跳过环节、多出环节、顺序不符、本人审批、越权审批）的"
           "比例，按发起时有效的标准流程逐轮核对（{procedures}）；区间为Wilson 95%置信区间",
           "share of the cases completed in the month with at least one deviation from their "
           "standard procedure (a step skipped, unexpected or out of order, self-approval, "
           "authority), each round held against the procedure in force at the case's start "
           "({procedures}); interval: Wilson 95%", "conformance_n"),
)
#: KPIs that need settings beyond the log: key -> what `fill` says when they are missing.
_OPTIONAL = {"noncompliance_rate": "procedures"}
#: Rate KPIs -> the stem of their interval columns.
_CI_STEM = {"on_time_rate": "on_time", "return_rate": "return_rate",
            "noncompliance_rate": "noncompliance"}
KPI_KEYS: tuple[str, ...] = tuple(k.key for k in KPIS)
_KPI = {k.key: k for k in KPIS}
# the KPIs' own names join the catalogue's column labels
add_labels({k.key: (k.zh, k.en) for k in KPIS})


def _check_kpi(kpi: str) -> KPIDef:
    ChoiceError.check("kpi", kpi, KPI_KEYS)
    return _KPI[kpi]


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _int(value: Any) -> int | None:
    f = _num(value)
    return None if f is None else int(f)


def _format_value(value: float | None, kind: str, unit: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "count":
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} {unit}"
