"""One month's KPIs (`monthly_kpis`): the cover tiles with their month-over-month and
year-over-year changes, the per-process table and the long table of changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from officemine.base.choices import Lang
from officemine.base.errors import ChoiceError
from officemine.base.jsonable import records
from officemine.base.plotting import chart_style, empty_note, rows_axes
from officemine.base.text import Said, heads, relabel, say
from officemine.kpis.context import _Context
from officemine.kpis.definitions import (_CI_STEM, _OPTIONAL, ALL_TYPES, KPI_KEYS, KPIS,
                                         _format_value, _int, _num)
from officemine.kpis.tables import _month_tables
from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.log.result import Result
from officemine.sla import SLA

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
        d = self.by_process.dropna(subset=["cycle_median_workdays"])
        with chart_style():
            ax = rows_axes(ax, len(d), width=8, per_row=0.55, layout="constrained")
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
                empty_note(ax, say("chart.no_data", lang))
        return ax


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
