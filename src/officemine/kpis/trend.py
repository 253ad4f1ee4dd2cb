"""KPIs month by month (`kpi_trend`): the same tables as a month's, over consecutive
months, and their chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from officemine.base.choices import Lang
from officemine.base.errors import ChoiceError, InputError
from officemine.base.jsonable import records
from officemine.base.plotting import chart_style
from officemine.base.text import relabel, say
from officemine.kpis.context import _Context
from officemine.kpis.definitions import _CI_STEM, ALL_TYPES, KPIS, _check_kpi
from officemine.kpis.tables import _month_tables
from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.log.months import as_month
from officemine.log.result import Result
from officemine.sla import SLA

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
            shown = sorted(self.months.index(m) for m in {str(as_month(k)) for k in marks or {}}
                           if m in self.months)
            labels = {str(as_month(k)): v for k, v in (marks or {}).items()}
            level, last = 0, None
            for i in shown:
                # a mark within three months of the one before takes the other line, so
                # their labels do not run into each other on a narrow chart
                level = 1 - level if last is not None and i - last < 4 else 0
                last = i
                ax.axvline(i, color="#868e96", lw=0.8, ls=":")
                ax.text(i, 1.0 - 0.07 * level, " " + labels[self.months[i]],
                        transform=ax.get_xaxis_transform(), fontsize=8, color="#495057",
                        va="top", ha="left")
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
