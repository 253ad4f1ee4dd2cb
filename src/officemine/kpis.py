"""Monthly KPIs of the efficiency review (月度流程效能评估), overall and per process type.

A case counts in the month it *completed* (its end, as `officemine.relations` defines a case's
start and end); cases still running count as *open* at the month's end. Per month:

* 办结件数 — cases completed;
* 办理时长 — median and p90 cycle time in working days of the calendar (working time ÷ the
  calendar's working day, 7 h by default) and in clock days;
* 限时办结率 — share of completed cases within their process type's SLA limit, with its
  Wilson interval and n;
* 退回率 — share of completed cases returned at least once (and returns per case);
* 件均跨部门流转次数 — consecutive blocking actions (cc, comments and reminders excluded) taken
  by people of different departments, per completed case;
* 月末在办件数 — cases open at the month's end (or at the end of the log, if earlier), and how
  many of them were past their SLA then;
* 不合规率 — share of completed cases with at least one deviation from their standard
  procedure (`officemine.conformance`), with its Wilson interval and n, when procedures are
  given (``procedures=``); without them the KPI is empty and not on the cover.

Each KPI has its month-over-month and year-over-year change (absolute and relative; None, with
a note, when the comparison month has no data). Cases, their start, end and cycle time are the
log's (`officemine.relations.cases`, judged against the SLA by :func:`case_cycles`); months
and process types are pandas group-bys over that per-case table.

>>> log = officemine.import_log("sample_logs/oa_sample.csv")      # doctest: +SKIP
>>> k = monthly_kpis(log, "2025-10")                                # doctest: +SKIP
>>> k.summary[["name_zh", "value", "unit_zh", "mom_abs"]]          # doctest: +SKIP
>>> kpi_trend(log).plot("on_time_rate")                            # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from officemine.calendar import Calendar
from officemine.choices import LANGS, Lang
from officemine.errors import ChoiceError, InputError, NotSupportedError
from officemine import relations
from officemine.eventlog import EventLog
from officemine.jsonable import records
from officemine.text import Said, add_labels, heads, relabel, say
from officemine.plotting import chart_style
from officemine.result import Result
from officemine.sla import SLA
from officemine.stats import counted_quantile, wilson_interval

__all__ = [
    "KPIDef", "KPIS", "KPI_KEYS", "Change", "KPITile", "MonthlyKPIs", "KPITrend",
    "monthly_kpis", "kpi_trend", "case_cycles", "ALL_TYPES",
]

#: process_type value of the all-process rows in long tables.
ALL_TYPES = "全部"
#: Confidence of every interval in the KPIs.
CONFIDENCE = 0.95



# --- KPI definitions ---------------------------------------------------------------------------

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

# Columns of the per-month tables, in order (stable for JSON and rendering).
_GROUP_COLUMNS = [
    "completed", "archived", "rejected", "withdrawn", "cycle_n", "cycle_from_first_event",
    "cycle_median_workdays", "cycle_p90_workdays", "cycle_mean_workdays",
    "cycle_median_clockdays", "cycle_p90_clockdays", "on_time", "on_time_rate",
    "on_time_ci_low", "on_time_ci_high", "returned_cases", "returns", "return_rate",
    "return_rate_ci_low", "return_rate_ci_high", "returns_per_case", "handoffs",
    "handoffs_per_case", "open_at_month_end", "open_overdue", "conformance_n", "noncompliant",
    "noncompliance_rate", "noncompliance_ci_low", "noncompliance_ci_high",
]
_COUNT_COLUMNS = ("completed", "archived", "rejected", "withdrawn", "cycle_n",
                  "cycle_from_first_event", "on_time", "returned_cases", "returns", "handoffs",
                  "open_at_month_end", "open_overdue", "conformance_n", "noncompliant")


# --- the per-case table -----------------------------------------------------------------------

def case_cycles(log: EventLog, calendar: Calendar | None = None,
                sla: SLA | None = None) -> pd.DataFrame:
    """One row per case (`officemine.relations.cases`: when it started and ended, its cycle
    time, returns, hand-offs) judged against its process type's SLA limit.

    Adds sla_days and on_time (NaN while open) to the case table; a missing process type is
    shown as ``(未知)``.
    """
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    return log.cached(("case_cycles", repr(calendar), repr(sla)),
                      lambda: _case_cycles(log, calendar, sla))


def _case_cycles(log: EventLog, calendar: Calendar, sla: SLA) -> pd.DataFrame:
    cases = relations.cases(log, calendar)
    cases["process_type"] = cases["process_type"].astype("object").where(
        cases["process_type"].notna(), "(未知)")
    cases["sla_days"] = sla.limits_for(cases["process_type"])
    # Compare in milliseconds: a case that took exactly its limit is on time, without float
    # noise from the day conversion.
    work = cases["cycle_workdays"].to_numpy() * calendar.day_seconds
    limit = cases["sla_days"].to_numpy() * calendar.day_seconds
    on_time = np.round(work, 3) <= np.round(limit, 3)
    cases["on_time"] = np.where(cases["ended_at"].notna(), on_time.astype(float), np.nan)
    keep = ["case_id", "process_type", "title", "applicant", "applicant_dept", "urgency",
            "submitted_at", "start_at", "start_basis", "ended_at", "status",
            "returns", "reminders", "handoffs", "rounds", "has_pending", "cycle_workdays",
            "cycle_clockdays", "sla_days", "on_time"]
    cases = cases[keep]
    cases.attrs.update(calendar=calendar.describe(), sla=sla.describe())
    return cases


# --- result objects ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """A KPI's change against a comparison month (the previous month for MoM, the same month a
    year earlier for YoY).

    abs: value − previous (for rates in fractions: 0.05 = 5 percentage points); rel: abs ÷
    |previous|. When a change cannot be computed the numbers are None and `reason` says why:
    ``comparison_no_data`` (the comparison month has no data, e.g. it is before the log
    starts), ``comparison_no_value`` (it has data but not this KPI, e.g. no case completed),
    ``no_value`` (this month has no value) or ``zero_base`` (previous is 0: only `rel` is None).
    `note` says the same in words.
    """

    against: str
    previous: float | None
    abs: float | None
    rel: float | None
    reason: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return {"against": self.against, "previous": self.previous, "abs": self.abs,
                "rel": self.rel, "reason": self.reason, "note": self.note}


@dataclass(frozen=True)
class KPITile:
    """One number on the report's cover: value, unit, basis, n, interval, MoM and YoY."""

    key: str
    name_zh: str
    name_en: str
    value: float | None
    unit_zh: str
    unit_en: str
    kind: str
    basis_zh: str
    basis_en: str
    n: int | None
    ci: tuple[float, float] | None
    mom: Change
    yoy: Change
    better: str | None
    cover: bool

    def text(self, lang: Lang = "zh") -> str:
        """The value as printed: ``91.2%``, ``2.3 工作日``, ``172 件``; ``—`` when missing."""
        return _format_value(self.value, self.kind, self.unit_zh if lang == "zh" else self.unit_en)

    def change_text(self, which: Literal["mom", "yoy"] = "mom", lang: Lang = "zh") -> str:
        """The change as printed: ``+1.2 个百分点 (+1.3%)``; ``—`` when it cannot be computed."""
        ch = self.mom if which == "mom" else self.yoy
        if ch.abs is None:
            return "—"
        if self.kind == "rate":
            unit = say("kpis.points", lang)
            head = f"{ch.abs * 100:+.1f}{unit}"
        elif self.kind == "count":
            head = f"{ch.abs:+,.0f}"
        else:
            head = f"{ch.abs:+.2f}"
        return head + (f" ({ch.rel:+.1%})" if ch.rel is not None else "")

    def to_dict(self) -> dict:
        return {"key": self.key, "name_zh": self.name_zh, "name_en": self.name_en,
                "value": self.value, "text": self.text("zh"), "unit_zh": self.unit_zh,
                "unit_en": self.unit_en, "kind": self.kind, "n": self.n,
                "ci": list(self.ci) if self.ci else None, "better": self.better,
                "cover": self.cover, "basis_zh": self.basis_zh, "basis_en": self.basis_en,
                "mom": self.mom.to_dict(), "yoy": self.yoy.to_dict()}


@dataclass(frozen=True)
class MonthlyKPIs(Result):
    """The KPIs of one month: cover tiles, per-process table, changes, and what they rest on.

    has_data is False (and `message` says why) when the month has no events and no open
    cases, or lies outside the log: every value is then None, nothing raises.
    """

    month: str
    has_data: bool
    message: str
    kpis: tuple[KPITile, ...]
    by_process: pd.DataFrame
    changes: pd.DataFrame
    period: dict
    calendar: str
    sla: SLA
    notes: tuple[str, ...]
    log_info: dict
    cases: pd.DataFrame | None = field(default=None, repr=False)

    html_float_format = None       # the HTML table holds the tiles' texts, not numbers

    @property
    def tiles(self) -> tuple[KPITile, ...]:
        """The cover tiles (a subset of `kpis`, in display order)."""
        return tuple(t for t in self.kpis if t.cover)

    def tile(self, key: str) -> KPITile:
        for t in self.kpis:
            if t.key == key:
                return t
        raise ChoiceError("kpi", key, KPI_KEYS)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per KPI (all process types together), with MoM, YoY, n and basis."""
        rows = []
        for t in self.kpis:
            rows.append({
                "key": t.key, "name_zh": t.name_zh, "name_en": t.name_en, "value": t.value,
                "unit_zh": t.unit_zh, "unit_en": t.unit_en, "n": t.n,
                "ci_low": t.ci[0] if t.ci else None, "ci_high": t.ci[1] if t.ci else None,
                "mom_month": t.mom.against, "mom_previous": t.mom.previous,
                "mom_abs": t.mom.abs, "mom_rel": t.mom.rel, "mom_reason": t.mom.reason,
                "mom_note": t.mom.note,
                "yoy_month": t.yoy.against, "yoy_previous": t.yoy.previous,
                "yoy_abs": t.yoy.abs, "yoy_rel": t.yoy.rel, "yoy_reason": t.yoy.reason,
                "yoy_note": t.yoy.note,
                "cover": t.cover, "better": t.better,
                "basis_zh": t.basis_zh, "basis_en": t.basis_en})
        frame = pd.DataFrame(rows)
        for column in ("mom_note", "yoy_note"):     # `Said`, for a reader of either language
            frame[column] = pd.Series([getattr(t, column[:3]).note for t in self.kpis],
                                      dtype=object)
        return frame

    def table(self, which: Literal["summary", "by_process", "changes"] = "summary",
              lang: Lang = "zh", columns: Sequence[str] | None = None) -> pd.DataFrame:
        """A table with its column labels in Chinese or English, for rendering; `columns`
        (their keys, as in `.by_process`) picks and orders them."""
        frames = {"summary": self.summary, "by_process": self.by_process,
                  "changes": self.changes}
        ChoiceError.check("which", which, frames)
        frame = frames[which]
        if columns is not None:
            for column in columns:
                ChoiceError.check("column", column, list(frame.columns))
            frame = frame[list(columns)]
        return relabel(frame, lang)

    def to_dict(self) -> dict:
        """The documented JSON contract (docs/kpis.md): keys are the same for every month."""
        return {
            "month": self.month, "has_data": self.has_data, "message": self.message,
            "period": self.period, "calendar": self.calendar, "sla": self.sla.to_dict(),
            "notes": list(self.notes), "log": self.log_info,
            "kpis": [t.to_dict() for t in self.kpis],
            "by_process": records(self.by_process),
            "changes": records(self.changes),
        }

    def __repr__(self) -> str:
        if not self.has_data:
            return f"<MonthlyKPIs {self.month}: {self.message}>"
        lines = [f"<MonthlyKPIs {self.month}: {self.message}>"]
        for t in self.kpis:
            n = f", n={t.n}" if t.n is not None else ""
            lines.append(f"  {t.name_zh} {t.text('zh')} (环比 {t.change_text('mom')}, "
                         f"同比 {t.change_text('yoy')}{n})")
        return "\n".join(lines)

    def _html_tables(self) -> list[pd.DataFrame]:
        return self.html_tables("zh")

    def html_tables(self, lang: Lang = "zh") -> list[pd.DataFrame]:
        """The month's KPIs as a notebook shows them, in `lang`."""
        if not self.has_data:
            return []
        s = self.summary
        cols = heads("kpi_html", lang)
        return [pd.DataFrame({
            cols[0]: s["name_zh"] if lang == "zh" else s["name_en"],
            cols[1]: [t.text(lang) for t in self.kpis],
            cols[2]: [t.change_text("mom", lang) for t in self.kpis],
            cols[3]: [t.change_text("yoy", lang) for t in self.kpis], cols[4]: s["n"]})]

    def plot(self, ax=None, lang: Lang = "zh"):
        """Median and p90 cycle time (working days) per process type against its SLA limit."""
        import matplotlib.pyplot as plt

        d = self.by_process.dropna(subset=["cycle_median_workdays"])
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(8, 0.55 * max(len(d), 3) + 1.2),
                                     layout="constrained")
            y = np.arange(len(d))
            ax.barh(y, d["cycle_p90_workdays"], color="#dee2e6", label=say("chart.p90", lang))
            ax.barh(y, d["cycle_median_workdays"], height=0.5, color="#1c7ed6",
                    label=say("chart.median", lang))
            ax.scatter(d["sla_days"], y, marker="|", s=400, color="#e03131", zorder=3,
                       label=say("chart.sla_limit", lang))
            ax.set_yticks(y, d["process_type"].astype(str))
            ax.invert_yaxis()
            ax.set_xlabel(say("chart.cycle_workdays", lang))
            ax.set_title(say("chart.cycle_by_type", lang, month=self.month), pad=22)
            ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False,
                      fontsize=8)
            if d.empty:
                ax.text(0.5, 0.5, say("chart.no_data", lang), ha="center",
                        va="center", transform=ax.transAxes)
        return ax


@dataclass(frozen=True)
class KPITrend(Result):
    """KPIs month by month (`summary`: all process types; `by_process`: each one)."""

    months: tuple[str, ...]
    summary: pd.DataFrame
    by_process: pd.DataFrame
    calendar: str
    sla: SLA
    notes: tuple[str, ...]
    log_info: dict

    def series(self, kpi: str, process_type: str | None = None) -> pd.Series:
        """One KPI as a Series indexed by month (NaN for months without data)."""
        _check_kpi(kpi)
        if process_type is None or process_type == ALL_TYPES:
            frame = self.summary
        else:
            frame = self.by_process[self.by_process["process_type"] == process_type]
            if frame.empty:
                raise ChoiceError("process_type", process_type,
                                  self.by_process["process_type"].unique())
        return frame.set_index("month")[kpi].reindex(list(self.months)).astype(float)

    def table(self, which: Literal["summary", "by_process"] = "summary",
              lang: Lang = "zh") -> pd.DataFrame:
        ChoiceError.check("which", which, ("summary", "by_process"))
        return relabel(self.summary if which == "summary" else self.by_process, lang)

    def to_dict(self) -> dict:
        return {"months": list(self.months), "calendar": self.calendar,
                "sla": self.sla.to_dict(), "notes": list(self.notes), "log": self.log_info,
                "kpis": [{"key": k.key, "name_zh": k.zh, "name_en": k.en, "unit_zh": k.unit_zh,
                          "unit_en": k.unit_en, "kind": k.kind, "better": k.better}
                         for k in KPIS],
                "overall": records(self.summary), "by_process": records(self.by_process)}

    def __repr__(self) -> str:
        s = self.summary
        view = pd.DataFrame({
            "month": s["month"], "completed": s["completed"],
            "median_wd": s["cycle_median_workdays"].round(2),
            "on_time": s["on_time_rate"].map(lambda v: "—" if pd.isna(v) else f"{v:.1%}"),
            "open": s["open_at_month_end"]})
        return (f"<KPITrend {self.months[0]} .. {self.months[-1]}: {len(self.months)} months, "
                f"{int(s['has_data'].sum())} with data>\n" + view.to_string(index=False))

    html_columns = ("month", "completed", "cycle_median_workdays", "cycle_p90_workdays",
                    "on_time_rate", "return_rate", "handoffs_per_case", "open_at_month_end",
                    "open_overdue")

    def _html_tables(self) -> list[pd.DataFrame]:
        return [relabel(t, "zh") for t in super()._html_tables()]

    def plot(self, kpi: str = "cycle_median_workdays", ax=None, process_type: str | None = None,
             lang: Lang = "zh", marks: dict[str, str] | None = None):
        """A line over the months with Chinese labels; rates in %, with their Wilson band.

        process_type: one process type (default: all together); its SLA limit is drawn on
        working-day cycle-time charts. marks: month -> label of a vertical line (e.g.
        ``{"2025-07": "取消综合办公室审核"}``). Months without data are gaps.
        """
        import matplotlib.pyplot as plt

        d = _check_kpi(kpi)
        y = self.series(kpi, process_type)
        frame = (self.summary if process_type in (None, ALL_TYPES) else
                 self.by_process[self.by_process["process_type"] == process_type]
                 ).set_index("month").reindex(list(self.months))
        scale = 100.0 if d.kind == "rate" else 1.0
        x = np.arange(len(self.months))
        zh = lang == "zh"
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
            ax.plot(x, y.to_numpy() * scale, marker="o", color="#1c7ed6", lw=1.8)
            if d.kind == "rate":
                stem = _CI_STEM[kpi]
                lo, hi = f"{stem}_ci_low", f"{stem}_ci_high"
                if lo in frame and hi in frame:
                    ax.fill_between(x, frame[lo].astype(float) * scale,
                                    frame[hi].astype(float) * scale, color="#1c7ed6",
                                    alpha=0.12, lw=0, label=say("chart.ci", lang))
            if (kpi == "cycle_median_workdays" or kpi == "cycle_p90_workdays") and \
                    process_type not in (None, ALL_TYPES):
                limit = self.sla.limit(process_type)
                ax.axhline(limit, color="#e03131", lw=1, ls="--")
                ax.text(x[-1], limit, say("chart.limit_line", lang, days=f"{limit:g}"),
                        color="#e03131", va="bottom", ha="right", fontsize=8)
            for month, label in (marks or {}).items():
                m = str(_as_month(month))
                if m in self.months:
                    i = self.months.index(m)
                    ax.axvline(i, color="#868e96", lw=0.8, ls=":")
                    ax.text(i, 1.0, " " + label, transform=ax.get_xaxis_transform(),
                            fontsize=8, color="#495057", va="top", ha="left")
            for i, (v, has) in enumerate(zip(y.to_numpy(), frame["has_data"].fillna(False))):
                if not has:
                    ax.text(i, 0.02, say("chart.no_data", lang),
                            transform=ax.get_xaxis_transform(), ha="center", fontsize=7,
                            color="#adb5bd", rotation=90)
            ticks = [m.replace("-", "年", 1) + "月" if zh else m for m in self.months]
            ticks = [t.replace("年0", "年") for t in ticks]
            ax.set_xticks(x, ticks, rotation=45, ha="right", fontsize=8)
            unit = (d.unit_zh if zh else d.unit_en) if d.kind != "rate" else "%"
            scope = process_type or say("map.all_types", lang)
            ax.set_title(say("chart.kpi_title", lang, kpi=d.zh if zh else d.en, scope=scope))
            ax.set_ylabel(unit)
            if d.kind in ("count", "days", "ratio"):
                ax.set_ylim(bottom=0)
            ax.grid(axis="y", color="#e9ecef", lw=0.8)
        return ax


# --- the computations ------------------------------------------------------------------------------

def monthly_kpis(log: EventLog, month: Any = None, calendar: Calendar | None = None,
                 sla: SLA | None = None, procedures: Any = None, *,
                 memory_limit: int | str | None = None,
                 batch_events: int | None = None) -> MonthlyKPIs:
    """The KPIs of one month, overall and per process type, with MoM and YoY changes.

    month: ``"2025-10"`` (also ``"2025/10"``, ``"2025年10月"``, a date or a ``pd.Period``);
    default: the month the log ends in. A month without data returns a result with
    ``has_data`` False and a message; it does not raise. procedures: standard procedures
    (a file, `officemine.conformance.Procedures`, or a `ConformanceResult` of this log) for
    不合规率; without them that KPI is empty and off the cover.
    memory_limit: for a stored log larger than memory (``"3GB"``): its cases are read in
    batches of whole cases sized to stay about within it (or of about `batch_events` events
    each), each batch reduced to its months' facts (`MonthFacts`), which add up: the same
    result, without the per-case table (``cases`` is None). 不合规率 is not computed in
    batches (procedures are refused).
    """
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    if memory_limit is None and batch_events is None:
        return _monthly(_Context.build(log, calendar, sla, procedures), month)
    ctx = _Context.of_log(log, calendar, sla, procedures)
    target = ctx.month(month)
    ctx.read_batches(log, [target - 12, target - 1, target], memory_limit, batch_events)
    return _monthly(ctx, target)


def _monthly(ctx: _Context, month: Any) -> MonthlyKPIs:
    """One month's result from the shared context (either engine's)."""
    calendar, sla = ctx.calendar, ctx.sla
    target = ctx.month(month)
    mom_m, yoy_m = target - 1, target - 12
    overall, by_proc = _month_tables(ctx, [yoy_m, mom_m, target])
    o = overall.set_index("month")
    row, prev, last_year = o.loc[str(target)], o.loc[str(mom_m)], o.loc[str(yoy_m)]

    tiles = []
    fill, fill_en = ctx.fill("zh"), ctx.fill("en")
    for d in KPIS:
        value = _num(row[d.key])
        if d.kind == "count" and value is not None:
            value = int(value)
        n = _int(row[d.n_column])
        ci = None
        if d.key in _CI_STEM:
            stem = _CI_STEM[d.key]
            lo, hi = _num(row[f"{stem}_ci_low"]), _num(row[f"{stem}_ci_high"])
            ci = (lo, hi) if lo is not None and hi is not None else None
        missing = _OPTIONAL.get(d.key) in ctx.missing
        tiles.append(KPITile(
            key=d.key, name_zh=d.zh, name_en=d.en, value=value, unit_zh=d.unit_zh,
            unit_en=d.unit_en, kind=d.kind, basis_zh=d.basis_zh.format(**fill),
            basis_en=d.basis_en.format(**fill_en),
            n=n if row["has_data"] and not missing else None, ci=ci,
            mom=_change(value, prev, d.key, mom_m, "previous_month"),
            yoy=_change(value, last_year, d.key, yoy_m, "same_month_last_year"),
            better=d.better, cover=d.cover and not missing))

    # Per process type: the month's values, and a long table of changes for every group.
    this = by_proc[by_proc["month"] == str(target)].drop(columns=["month"]).reset_index(drop=True)
    this.insert(1, "sla_days", this["process_type"].map(sla.limit))
    changes = _changes_table(overall, by_proc, target, mom_m, yoy_m)

    notes = list(ctx.notes)
    if row["has_data"]:
        message = Said("kpis.completed", completed=int(row["completed"]), month=str(target),
                       open=int(row["open_at_month_end"]),
                       partial=Said("kpis.partial") if ctx.period(target)["partial"] else "")
    else:
        message = Said("kpis.no_data", month=str(target), why=row["note"])
    if row["has_data"] and row["completed"] == 0:
        notes.append(Said("kpis.none_completed", month=str(target)))
    first_event = int(row["cycle_from_first_event"]) if row["has_data"] else 0
    if first_event:
        notes.append(Said("kpis.from_first_event", n=first_event, month=str(target)))
    defaulted = sla.uses_default(this.loc[this["completed"].fillna(0) > 0, "process_type"])
    if defaulted:
        notes.append(Said("kpis.default_limit", days=f"{sla.default_limit:g}",
                          types=", ".join(defaulted)))
    period = ctx.period(target)
    return MonthlyKPIs(
        month=str(target), has_data=bool(row["has_data"]), message=message,
        kpis=tuple(tiles), by_process=this, changes=changes, period=period,
        calendar=calendar.describe(), sla=sla, notes=tuple(notes), log_info=ctx.log_info,
        cases=ctx.cases)


def kpi_trend(log: EventLog, months: int = 12, end_month: Any = None,
              calendar: Calendar | None = None, sla: SLA | None = None,
              procedures: Any = None, *, memory_limit: int | str | None = None,
              batch_events: int | None = None) -> KPITrend:
    """The KPIs of `months` consecutive months ending with `end_month` (default: the month
    the log ends in), overall and per process type; months without data are flagged rows.
    procedures, memory_limit, batch_events: as for `monthly_kpis`."""
    check_months(months)
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    if memory_limit is None and batch_events is None:
        return _trend(_Context.build(log, calendar, sla, procedures), months, end_month)
    ctx = _Context.of_log(log, calendar, sla, procedures)
    end = ctx.month(end_month)
    ctx.read_batches(log, _span(end, months), memory_limit, batch_events)
    return _trend(ctx, months, end)


def check_months(months: Any) -> None:
    """A trend's length: a whole number of months from 1 to 240."""
    if not isinstance(months, (int, np.integer)) or isinstance(months, bool) or not \
            1 <= months <= 240:
        raise InputError(f"months must be a whole number from 1 to 240, not {months!r}")


def _trend(ctx: _Context, months: int, end_month: Any) -> KPITrend:
    """The trend from the shared context (either engine's)."""
    calendar, sla = ctx.calendar, ctx.sla
    span = _span(ctx.month(end_month), months)
    overall, by_proc = _month_tables(ctx, span)
    by_proc.insert(2, "sla_days", by_proc["process_type"].map(sla.limit))
    return KPITrend(months=tuple(str(m) for m in span), summary=overall, by_process=by_proc,
                    calendar=calendar.describe(), sla=sla, notes=tuple(ctx.notes),
                    log_info=ctx.log_info)


def _span(end: pd.Period, months: int) -> list[pd.Period]:
    """The `months` consecutive months ending with `end`, oldest first."""
    return [end - i for i in range(int(months) - 1, -1, -1)]


#: Memory an event of a batch costs at peak (the batch's events, its per-case table and
#: facts): about 650 bytes on the benchmark log (a batch of 1M events peaked at 0.8 GiB),
#: with a margin for wider exports (long titles and comments).
_BYTES_PER_EVENT = 2_000


def type_order(cases: pd.Series) -> list[str]:
    """Process types (the index of `cases`, their case counts) as the tables list them: most
    cases first, ties by name."""
    return list(cases.sort_index().sort_values(ascending=False, kind="stable").index)


@dataclass
class _Context:
    """What every month's computation shares: the per-case table and the log's extent."""

    cases: pd.DataFrame | None      # None on Spark and in batches: the facts are `given`
    tz: str
    calendar: Calendar
    sla: SLA
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    event_months: pd.Series          # events per month ("2025-10" -> count)
    process_types: list[str]
    notes: list[str]
    log_info: dict
    procedures: str = ""                 # what 不合规率 was checked against
    missing: frozenset = frozenset()     # settings not given: KPIs that need them are empty
    given: MonthFacts | None = None      # the facts computed elsewhere (Spark, batches)

    def facts(self, months: list[pd.Period]) -> MonthFacts:
        """The facts of `months`: from the per-case table, or those given."""
        if self.given is not None:
            return self.given.months(str(m) for m in months)
        return month_facts(self.cases, self.tz, self.calendar, months,
                           [self.as_of(m) for m in months])

    @classmethod
    def build(cls, log: EventLog, calendar: Calendar, sla: SLA,
              procedures: Any = None) -> _Context:
        cases = case_cycles(log, calendar, sla)
        cases["deviating"], checked_against, conformance_notes = _deviating(
            log, cases, calendar, procedures)
        ctx = cls.of_log(log, calendar, sla)
        ctx.cases, ctx.procedures = cases, checked_against
        ctx.missing = frozenset() if procedures is not None else frozenset({"procedures"})
        ctx.count_cases(cases.groupby("process_type").size())
        ctx.notes.extend(conformance_notes)
        return ctx

    @classmethod
    def of_log(cls, log: EventLog, calendar: Calendar, sla: SLA,
               procedures: Any = None) -> _Context:
        """The log's extent, its events per month and the notes on them; the cases come
        later (`count_cases`, and the facts with `read_batches`). procedures: given only
        when the facts are read in batches, which do not check them (an error says so)."""
        if procedures is not None:
            raise NotSupportedError("不合规率 needs the conformance check, which is not "
                                    "computed in batches yet: compute the KPIs without "
                                    "procedures, or without memory_limit")
        start, end = log.span()
        notes = []
        if start is not None:
            notes.extend(calendar.coverage_warnings(start, end))
        if calendar.tz != log.timezone:
            notes.append(Said("kpis.other_zone", calendar=str(calendar.tz),
                              log=str(log.timezone)))
        info = {"cases": 0, "events": log.n_events,
                "start": start.isoformat() if start is not None else None,
                "end": end.isoformat() if end is not None else None,
                "source": log.report.source_file if log.report else None}
        return cls(None, log.timezone, calendar, sla, start, end, relations.event_months(log),
                   [], notes, info, "", frozenset({"procedures"}))

    def count_cases(self, per_type: pd.Series) -> None:
        """The log's cases: how many of each process type (process type -> cases)."""
        self.process_types = type_order(per_type)
        self.log_info["cases"] = int(per_type.sum())

    def read_batches(self, log: EventLog, months: list[pd.Period],
                     memory_limit: int | str | None, batch_events: int | None) -> None:
        """The facts of `months` from the log read in batches of whole cases
        (`relations.case_batches`) sized to stay about within `memory_limit` (or of about
        `batch_events` events): each batch's `month_facts`, merged."""
        from officemine.importing.streaming import read_budget

        events, duckdb_memory = read_budget(memory_limit, _BYTES_PER_EVENT)
        as_of = [self.as_of(m) for m in months]
        counts, values, per_type = [], [], pd.Series(dtype="int64")
        # the cycle times are about one row per completed case: their keys are held as
        # categories (a byte a row instead of three strings), appended to as types appear
        keys = {"month": [str(m) for m in months], "process_type": [],
                "column": list(FACT_VALUES)}
        for batch in relations.case_batches(log, events=batch_events or events,
                                            duckdb_memory=duckdb_memory):
            cases = case_cycles(batch, self.calendar, self.sla)
            cases["deviating"] = np.nan             # 不合规率 is not read in batches
            facts = month_facts(cases, self.tz, self.calendar, months, as_of)
            counts.append(facts.counts)
            seen = set(keys["process_type"])
            keys["process_type"] += [t for t in facts.values["process_type"].unique()
                                     if t not in seen]
            values.append(facts.values.assign(**{
                k: pd.Categorical(facts.values[k], categories=c) for k, c in keys.items()}))
            per_type = per_type.add(cases.groupby("process_type").size(), fill_value=0)
        self.count_cases(per_type.astype("int64"))
        values = [v.assign(process_type=v["process_type"].cat.set_categories(
            keys["process_type"])) for v in values]
        self.given = MonthFacts.merge(
            pd.concat(counts, ignore_index=True) if counts else
            pd.DataFrame(columns=["month", "process_type", *FACT_COUNTS, *FACT_SUMS]),
            pd.concat(values, ignore_index=True) if values else
            pd.DataFrame(columns=[*keys, "value", "n"]))

    def month(self, month: Any) -> pd.Period:
        """The month asked for (`_as_month`), by default the month the log ends in (this
        month for an empty log)."""
        if month is not None:
            return _as_month(month)
        return self.last_month or _as_month(pd.Timestamp.now(tz=self.tz))

    @property
    def last_month(self) -> pd.Period | None:
        return _month_of(self.end) if self.end is not None else None

    def fill(self, lang: Lang) -> dict:
        """What a KPI's basis names, in `lang`: the calendar, the limits, the procedures."""
        return {"calendar": self.calendar.describe(lang), "sla": self.sla.describe(lang),
                "day_hours": f"{self.calendar.day_seconds / 3600:g}",
                "procedures": self.procedures or say("kpis.no_procedures", lang)}

    def bounds(self, m: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
        return (pd.Timestamp(m.start_time).tz_localize(self.tz),
                pd.Timestamp((m + 1).start_time).tz_localize(self.tz))

    def as_of(self, m: pd.Period) -> pd.Timestamp:
        """When "open at month end" is measured: the month's end, or the log's end if earlier."""
        _, m1 = self.bounds(m)
        return min(m1, self.end) if self.end is not None else m1

    def period(self, m: pd.Period) -> dict:
        m0, m1 = self.bounds(m)
        as_of = self.as_of(m)
        partial = (self.start is None or self.start > m0 or self.end is None
                   or self.end.date() < (m1 - pd.Timedelta(days=1)).date())
        return {"start": m0.isoformat(), "end": m1.isoformat(), "as_of": as_of.isoformat(),
                "partial": bool(partial)}

    def status(self, m: pd.Period) -> tuple[bool, str]:
        """Whether month m is inside the log, and what to say about it."""
        m0, m1 = self.bounds(m)
        if self.start is None:
            return False, Said("kpis.log_empty")
        span = Said("kpis.span", start=f"{self.start:%Y-%m-%d}", end=f"{self.end:%Y-%m-%d}")
        if m1 <= self.start or m0 > self.end:
            return False, Said("kpis.outside", month=str(m), span=span)
        return True, span


#: What the KPI tables of a month are made of, per (month, process type): counts that add up
#: over any parts of the log.
FACT_COUNTS = ("completed", "archived", "rejected", "withdrawn", "cycle_n",
               "cycle_from_first_event", "on_time", "returned_cases", "returns", "handoffs",
               "conformance_n", "noncompliant", "open_at_month_end", "open_overdue")
#: Sums that add up over parts: none since the mean is taken from the counted cycle times (a
#: float sum over parts depends on their order); the Spark engine still carries the name.
FACT_SUMS: tuple[str, ...] = ()
#: Cycle times kept as counts per value, which give exact means, medians and p90 when merged.
FACT_VALUES = ("cycle_workdays", "cycle_clockdays")


@dataclass
class MonthFacts:
    """The mergeable facts behind the KPI tables: `counts` (one row per month and process
    type with cases: `FACT_COUNTS` and `FACT_SUMS`) and `values` (month, process_type,
    column, value, n: how many completed cases had each cycle time). Facts of disjoint sets
    of whole cases add up (`merge`), so the Spark engine computes them per partition and
    finishes with the same tables as one machine."""

    counts: pd.DataFrame
    values: pd.DataFrame

    @classmethod
    def merge(cls, counts: pd.DataFrame, values: pd.DataFrame) -> MonthFacts:
        """Facts of several parts (rows of their `counts` and `values` stacked) added up."""
        keys = ["month", "process_type"]
        return cls(counts.groupby(keys, sort=False, as_index=False)[
                       list(FACT_COUNTS + FACT_SUMS)].sum(),
                   values.groupby(keys + ["column", "value"], sort=False, observed=True,
                                  as_index=False)["n"].sum())

    def months(self, labels) -> MonthFacts:
        """The facts of the months `labels` only."""
        labels = list(labels)
        return MonthFacts(self.counts[self.counts["month"].isin(labels)],
                          self.values[self.values["month"].isin(labels)])


def month_facts(cases: pd.DataFrame, tz: str, calendar: Calendar, months: list[pd.Period],
                as_of: list[pd.Timestamp]) -> MonthFacts:
    """The facts of `months` (cases completed in each, by the months of zone `tz`; cases
    open at each `as_of`) from a per-case table (`case_cycles` with a ``deviating``
    column)."""
    labels = [str(m) for m in months]
    keys = ["month", "process_type"]
    # -- completed cases, by completion month --
    # only the columns the tables need: every filter of a text column copies it
    done = cases.loc[cases["ended_at"].notna(),
                     ["process_type", "ended_at", "status", "returns", "start_basis",
                      "cycle_workdays", "cycle_clockdays", "on_time", "handoffs",
                      "deviating"]]
    local = done["ended_at"].dt.tz_convert(tz)
    ym = (local.dt.year * 100 + local.dt.month).to_numpy()      # no strftime per case
    wanted = {m.year * 100 + m.month: str(m) for m in months}
    done = done[np.isin(ym, list(wanted))].copy()
    done["month"] = [wanted[v] for v in ym[np.isin(ym, list(wanted))]]
    done["archived"] = done["status"].eq("archived")
    done["rejected"] = done["status"].eq("rejected")
    done["withdrawn"] = done["status"].eq("withdrawn")
    done["returned"] = done["returns"] > 0
    done["from_first_event"] = done["start_basis"].eq("first_event")

    # -- open cases at each month's end --
    grid = pd.DataFrame({"month": labels, "as_of": as_of})
    first_as_of, last_as_of = grid["as_of"].min(), grid["as_of"].max()
    cand = cases.loc[(cases["start_at"] <= last_as_of)
                     & (cases["ended_at"].isna() | (cases["ended_at"] > first_as_of)),
                     ["case_id", "process_type", "start_at", "ended_at", "sla_days"]]
    # the (case, month) pairs where the case was open at the month's end, month by month
    # (a cross join of every case with every month is 12 × the cases on a year's trend)
    utc = (lambda t: t.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]"))
    started, ended = utc(cand["start_at"]), utc(cand["ended_at"])
    still_open = np.isnat(ended)
    picks = []
    for m, a in zip(grid["month"], grid["as_of"]):
        at = np.datetime64(a.tz_convert("UTC").tz_localize(None), "us")
        picks.append((np.flatnonzero((started <= at) & (still_open | (ended > at))), m, a))
    rows = np.concatenate([p for p, _, _ in picks]) if picks else np.array([], dtype=int)
    x = cand.iloc[rows].reset_index(drop=True)
    x["month"] = np.repeat([m for _, m, _ in picks], [len(p) for p, _, _ in picks])
    x["as_of"] = pd.Series(np.repeat(grid["as_of"].to_numpy(), [len(p) for p, _, _ in picks]),
                           dtype=grid["as_of"].dtype)
    age = calendar.working_seconds(x["start_at"], x["as_of"]) if len(x) else np.array([])
    x["overdue"] = age > x["sla_days"].to_numpy() * calendar.day_seconds

    g = done.groupby(keys, sort=False)
    counts = pd.DataFrame({
        "completed": g.size(),
        "archived": g["archived"].sum(), "rejected": g["rejected"].sum(),
        "withdrawn": g["withdrawn"].sum(),
        "cycle_n": g["cycle_workdays"].count(),
        "cycle_from_first_event": g["from_first_event"].sum(),
        "on_time": g["on_time"].sum(),
        "returned_cases": g["returned"].sum(), "returns": g["returns"].sum(),
        "handoffs": g["handoffs"].sum(),
        "conformance_n": g["deviating"].count(),
        "noncompliant": g["deviating"].sum(),
    })
    og = x.groupby(keys, sort=False)
    opened = pd.DataFrame({"open_at_month_end": og.size(), "open_overdue": og["overdue"].sum()})
    counts = counts.join(opened, how="outer")
    counts = counts.fillna({c: 0 for c in FACT_COUNTS + FACT_SUMS})
    counts = counts[list(FACT_COUNTS + FACT_SUMS)].astype(float).reset_index()
    values = [done.groupby(keys + [column], sort=False).size().rename("n").reset_index()
              .rename(columns={column: "value"}).assign(column=column)
              for column in FACT_VALUES]
    values = pd.concat(values, ignore_index=True)[keys + ["column", "value", "n"]]
    return MonthFacts(counts, values.astype({"value": float, "n": "int64"}))


def _aggregate(facts: MonthFacts, keys: list[str]) -> pd.DataFrame:
    """The KPI columns of each group of `keys` (month, or month and process type): counts
    summed; the mean, medians and p90 from the counts per cycle time."""
    if not len(facts.counts):
        return pd.DataFrame(columns=keys + list(_AGGREGATED)).set_index(keys)
    c = facts.counts.groupby(keys, sort=False)[list(FACT_COUNTS + FACT_SUMS)].sum()
    for column, short in (("cycle_workdays", "workdays"), ("cycle_clockdays", "clockdays")):
        values = facts.values[facts.values["column"] == column]
        values = values.groupby(keys + ["value"], sort=True, observed=True)["n"].sum(
            ).reset_index()
        stats = {}
        for key, group in values.groupby(keys, sort=False, observed=True):
            v, n = group["value"].to_numpy(float), group["n"].to_numpy(np.int64)
            # the total exactly rounded (fsum): the same whatever parts the facts came in
            stats[key if len(keys) > 1 else key[0]] = (counted_quantile(v, n, 0.5),
                                                       counted_quantile(v, n, 0.9),
                                                       math.fsum(v * n))
        for i, name in ((0, f"cycle_median_{short}"), (1, f"cycle_p90_{short}"),
                        (2, f"{column}_total")):
            found = pd.Series({k: s[i] for k, s in stats.items()}, dtype=float)
            c[name] = found.reindex(c.index) if len(found) else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        c["cycle_mean_workdays"] = c["cycle_workdays_total"] / c["cycle_n"].where(
            c["cycle_n"] > 0)
    return c[list(_AGGREGATED)]


_AGGREGATED = ("completed", "archived", "rejected", "withdrawn", "cycle_n",
               "cycle_from_first_event", "cycle_median_workdays", "cycle_p90_workdays",
               "cycle_mean_workdays", "cycle_median_clockdays", "cycle_p90_clockdays",
               "on_time", "returned_cases", "returns", "handoffs", "conformance_n",
               "noncompliant", "open_at_month_end", "open_overdue")


def _month_tables(ctx: _Context, months: list[pd.Period]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-month KPI tables, overall (one row per month) and per process type, from the
    months' facts (`MonthFacts`: computed here from the per-case table, or given by the
    Spark engine)."""
    labels = [str(m) for m in months]
    facts = ctx.facts(months)
    overall = _aggregate(facts, ["month"]).reindex(labels)
    overall.index.name = "month"
    types = ctx.process_types
    full = pd.MultiIndex.from_product([labels, types], names=["month", "process_type"])
    by_proc = _aggregate(facts, ["month", "process_type"]).reindex(full)
    overall, by_proc = overall.reset_index(), by_proc.reset_index()

    status = {str(m): ctx.status(m) for m in months}
    events = ctx.event_months.reindex(labels).fillna(0).to_numpy()
    open_now = overall["open_at_month_end"].fillna(0).to_numpy()
    inside = np.array([status[m][0] for m in labels])
    has_data = inside & ((events > 0) | (open_now > 0))
    notes = []
    for m, ok, ins, n_done in zip(labels, has_data, inside, overall["completed"].fillna(0)):
        if not ins:
            notes.append(status[m][1])
        elif not ok:
            notes.append(Said("kpis.no_events", month=m, why=status[m][1]))
        else:
            period = ctx.period(pd.Period(m, "M"))
            notes.append(Said("kpis.completed_in", n=int(n_done), month=m,
                              partial=Said("kpis.partial") if period["partial"] else ""))
    # the notes stay `Said` (object, not text): a reader of either language reads them
    flags = pd.DataFrame({"month": labels, "has_data": has_data,
                          "note": pd.Series(notes, dtype=object)})
    overall = _finish(overall.merge(flags, on="month"))
    by_proc = _finish(by_proc.merge(flags[["month", "has_data"]], on="month"))
    return overall, by_proc


def _finish(t: pd.DataFrame) -> pd.DataFrame:
    """Zero-fill counts of months with data, derive rates, blank months without data."""
    has = t["has_data"].to_numpy(bool)
    for col in _COUNT_COLUMNS:
        t[col] = t[col].astype(float).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["on_time_rate"] = t["on_time"] / t["cycle_n"].where(t["cycle_n"] > 0)
        t["return_rate"] = t["returned_cases"] / t["completed"].where(t["completed"] > 0)
        t["returns_per_case"] = t["returns"] / t["completed"].where(t["completed"] > 0)
        t["handoffs_per_case"] = t["handoffs"] / t["completed"].where(t["completed"] > 0)
    t["on_time_ci_low"], t["on_time_ci_high"] = wilson_interval(t["on_time"], t["cycle_n"],
                                                                CONFIDENCE)
    t["return_rate_ci_low"], t["return_rate_ci_high"] = wilson_interval(
        t["returned_cases"], t["completed"], CONFIDENCE)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["noncompliance_rate"] = t["noncompliant"] / t["conformance_n"].where(
            t["conformance_n"] > 0)
    t["noncompliance_ci_low"], t["noncompliance_ci_high"] = wilson_interval(
        t["noncompliant"], t["conformance_n"], CONFIDENCE)
    values = [c for c in _GROUP_COLUMNS]
    t.loc[~has, values] = np.nan
    for col in _COUNT_COLUMNS:
        t[col] = t[col].astype("Int64")
    lead = [c for c in ("month", "process_type", "has_data", "note") if c in t]
    return t[lead + values].reset_index(drop=True)


def _change(value: float | None, prev_row: pd.Series, key: str, against: pd.Period,
            word: str) -> Change:
    m = str(against)
    which = Said(f"kpis.{word}")
    if not prev_row["has_data"]:
        return Change(m, None, None, None, "comparison_no_data",
                      Said("kpis.change_no_data", month=m, which=which, why=prev_row["note"]))
    prev = _num(prev_row[key])
    if value is None:
        return Change(m, prev, None, None, "no_value", Said("kpis.change_no_value"))
    if prev is None:
        return Change(m, None, None, None, "comparison_no_value",
                      Said("kpis.change_no_comparison", month=m, which=which))
    diff = value - prev
    if prev == 0:
        return Change(m, prev, diff, None, "zero_base",
                      Said("kpis.change_zero_base", month=m, which=which))
    return Change(m, prev, diff, diff / abs(prev))


def _changes_table(overall: pd.DataFrame, by_proc: pd.DataFrame, target: pd.Period,
                   mom_m: pd.Period, yoy_m: pd.Period) -> pd.DataFrame:
    """Long table: one row per process type (全部 first) and KPI, with MoM and YoY."""
    both = pd.concat([overall.assign(process_type=ALL_TYPES), by_proc], ignore_index=True)
    idx = both.set_index(["process_type", "month"])
    has = overall.set_index("month")
    rows = []
    for pt in both["process_type"].drop_duplicates():
        cur = idx.loc[(pt, str(target))]
        for d in KPIS:
            value = _num(cur[d.key])
            row = {"process_type": pt, "kpi": d.key, "name_zh": d.zh, "name_en": d.en,
                   "value": value, "n": _int(cur[d.n_column])}
            for prefix, m, word in (("mom", mom_m, "previous_month"),
                                   ("yoy", yoy_m, "same_month_last_year")):
                other = idx.loc[(pt, str(m))].copy()
                other["note"] = has.loc[str(m), "note"]
                ch = _change(value, other, d.key, m, word)
                row.update({f"{prefix}_month": ch.against, f"{prefix}_previous": ch.previous,
                            f"{prefix}_abs": ch.abs, f"{prefix}_rel": ch.rel,
                            f"{prefix}_reason": ch.reason, f"{prefix}_note": ch.note})
            rows.append(row)
    return pd.DataFrame(rows)


def _deviating(log: EventLog, cases: pd.DataFrame, calendar: Calendar,
               procedures: Any) -> tuple[np.ndarray, str, list[str]]:
    """Per case of `cases`: 1.0 when it deviates from its standard procedure, 0.0 when it
    does not, NaN when it was not checked (no procedures, or none in force for it); what
    it was checked against; the check's notes."""
    out = np.full(len(cases), np.nan)
    if procedures is None:
        return out, "", []
    from officemine.conformance import ConformanceResult, conformance

    result = procedures if isinstance(procedures, ConformanceResult) else \
        conformance(log, procedures, calendar=calendar)
    checked = result.tables.cases
    where = pd.Index(checked["case_id"]).get_indexer(cases["case_id"])
    hit = where >= 0
    out[hit] = checked["deviating"].to_numpy(dtype=float)[where[hit]]
    label = result.procedures.label
    notes = list(result.tables.notes)
    if len(result.tables.unchecked):
        notes.append(f"{len(result.tables.unchecked):,} case(s) have no standard procedure in "
                     "force and are left out of 不合规率")
    return out, label, notes


# --- helpers shared with supervision.py ---------------------------------------------------------

_MONTH_RE = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?\s*$")


def _as_month(value: Any) -> pd.Period:
    """A month from ``"2025-10"``, ``"2025/10"``, ``"202510"``, ``"2025年10月"``, a date or Period."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, (dt.date, pd.Timestamp)):
        return _month_of(pd.Timestamp(value))
    if isinstance(value, str):
        m = _MONTH_RE.match(value)
        if m and 1 <= int(m[2]) <= 12:
            return pd.Period(year=int(m[1]), month=int(m[2]), freq="M")
    raise InputError(f"month must be like '2025-10' (or '2025年10月', a date, a "
                     f"pandas Period), not {value!r}")


def _month_of(t: pd.Timestamp) -> pd.Period:
    return pd.Period(year=t.year, month=t.month, freq="M")


def _to_tz(values: pd.Series, tz: str) -> pd.Series:
    s = pd.to_datetime(values)
    if getattr(s.dt, "tz", None) is None:
        s = s.dt.tz_localize("UTC")
    return s.dt.tz_convert(tz)


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
