"""The monthly KPIs on Spark: `officemine.kpis.monthly_kpis` and `kpi_trend`'s results,
computed where the log lives.

Each partition of whole cases is read through `officemine.kpis.case_cycles` (so a case's
start, end, cycle time, returns and hand-offs are `officemine.log.relations.cases`' own) and
reduced by `officemine.kpis.facts.month_facts` to what adds up: per month and process type the
counts (completed, on time, returned, open at the month's end and overdue …), the sum of the
cycle times, and the cycle times as counts per value — plus the events per month and the
cases per process type. Spark adds them up; the driver finishes with the one-machine code
(`kpis._monthly`, `kpis._trend`: medians and p90 from the counts, Wilson intervals, MoM and
YoY, notes), so the figures are the same. 不合规率 needs the conformance check, which is not
on Spark yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from officemine.log import relations
from officemine.log.calendar import Calendar
from officemine.log.months import as_month, month_of
from officemine.base.errors import NoDataError, NotSupportedError
from officemine.log.schema import C
from officemine.kpis.cases import case_cycles
from officemine.kpis.context import _Context, extent_notes, type_order
from officemine.kpis.definitions import KPI_KEYS
from officemine.kpis.facts import FACT_COUNTS, FACT_SUMS, MonthFacts, month_facts
from officemine.kpis.monthly import MonthlyKPIs, _monthly
from officemine.kpis.trend import KPITrend, _trend, check_months
from officemine.sla import SLA
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import UNIT, per_partition, unit_logs, unit_sizes, with_units

_SCHEMA = ("unit string, kind string, month string, ptype string, name string, value double, "
           "n long, x double")
_FIELDS = ["unit", "kind", "month", "ptype", "name", "value", "n", "x"]


def monthly_kpis(log: SparkLog, month: Any = None, *, calendar: Calendar | None = None,
                 sla: SLA | None = None, procedures: Any = None,
                 partitions: int | None = None) -> MonthlyKPIs:
    """`officemine.kpis.monthly_kpis` of a log in Spark (see there): the same result, without
    the per-case table (``cases`` is None). procedures: not on Spark yet (an error says so).
    partitions: how many partitions of whole cases (default
    ``spark.sql.shuffle.partitions``)."""
    return _kpis(log, None, month, monthly=True, trend=None, calendar=calendar, sla=sla,
                 procedures=procedures, partitions=partitions)[None][0]


def kpi_trend(log: SparkLog, months: int = 12, end_month: Any = None, *,
              calendar: Calendar | None = None, sla: SLA | None = None, procedures: Any = None,
              partitions: int | None = None) -> KPITrend:
    """`officemine.kpis.kpi_trend` of a log in Spark: `months` consecutive months ending with
    `end_month` (default: the month the log ends in)."""
    return _kpis(log, None, end_month, monthly=False, trend=months, calendar=calendar, sla=sla,
                 procedures=procedures, partitions=partitions)[None][1]


def monthly_kpis_by_unit(log: SparkLog, unit: str, month: Any = None,
                         **options) -> dict[str, MonthlyKPIs]:
    """The KPIs of each unit of a group (subsidiary, department … : a case attribute, its
    value at the case's first event; empty: 未知), from one run over the group's log: unit ->
    what `monthly_kpis` gives on that unit's cases alone. month: default the month the
    group's log ends in, the same for every unit. Options as for `monthly_kpis`; compare
    the units with `compare_unit_kpis`."""
    return {key: pair[0] for key, pair in
            kpis_by_unit(log, unit, month, trend=None, **options).items()}


def kpis_by_unit(log: SparkLog, unit: str | None, month: Any = None, *, trend: int | None = 12,
                 **options) -> dict:
    """unit -> (its month's KPIs, its `trend`-month trend ending with that month, or None),
    all from one run over the group's log (the monthly review of every unit). `unit` None:
    the whole log, under the key None."""
    return _kpis(log, unit, month, monthly=True, trend=trend, **options)


def compare_unit_kpis(results: dict[str, MonthlyKPIs]) -> pd.DataFrame:
    """The units side by side on the same KPIs (跨层级效能评估): one row per unit and KPI with
    its value, n, interval and month-over-month change, KPIs in their catalogue order, units
    by most cases completed."""
    frames = []
    for unit, result in results.items():
        s = result.summary[["key", "name_zh", "name_en", "value", "unit_zh", "n", "ci_low",
                            "ci_high", "mom_abs", "better"]].copy()
        s.insert(0, "unit", unit)
        frames.append(s)
    if not frames:
        return pd.DataFrame(columns=["unit", "key"])
    table = pd.concat(frames, ignore_index=True)
    completed = table[table["key"] == "completed"].set_index("unit")["value"].fillna(0)
    order = list(completed.sort_index().sort_values(ascending=False, kind="stable").index)
    table["unit"] = pd.Categorical(table["unit"], categories=order, ordered=True)
    table["key"] = pd.Categorical(table["key"], categories=list(KPI_KEYS), ordered=True)
    table = table.sort_values(["key", "unit"], kind="stable").reset_index(drop=True)
    return table.astype({"unit": object, "key": object})


def _kpis(log: SparkLog, unit: str | None, month: Any, *, monthly: bool, trend: int | None,
          calendar: Calendar | None = None, sla: SLA | None = None, procedures: Any = None,
          partitions: int | None = None) -> dict:
    """unit value (None: the whole log) -> (MonthlyKPIs or None, KPITrend or None)."""
    F = pyspark().sql.functions
    if procedures is not None:
        raise NotSupportedError("不合规率 needs the conformance check, which is not on Spark "
                                "yet: run the KPIs on Spark without procedures, or on one "
                                "machine")
    if trend is not None:
        check_months(trend)
    target = as_month(month) if month is not None else None
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    log = with_units(log, unit)
    sizes = unit_sizes(log)
    if not sizes:
        raise NoDataError(f"{log.source or 'the log'} has no events")
    contexts = {key: _context(log, size, calendar, sla) for key, size in sizes.items()}
    if target is None:
        ends = [c.end for c in contexts.values() if c.end is not None]
        target = month_of(max(ends)) if ends else as_month(
            pd.Timestamp.now(tz=log.timezone))
    wanted = set()
    if monthly:
        wanted |= {target - 12, target - 1, target}
    if trend is not None:
        wanted |= {target - i for i in range(int(trend))}
    months = sorted(wanted)
    as_of = {key: [c.as_of(m) for m in months] for key, c in contexts.items()}
    tz = log.timezone

    def facts(part) -> pd.DataFrame:
        frames = []
        for key, sub in unit_logs(part, UNIT):
            frames.append(_partition_facts(sub, key, tz, calendar, sla, months, as_of[key]))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_FIELDS)

    merged = (per_partition(log, [*_COLUMNS, UNIT], facts, _SCHEMA, partitions)
              .groupBy("unit", "kind", "month", "ptype", "name", "value")
              .agg(F.sum("n").alias("n"), F.sum("x").alias("x"))
              .toPandas())
    results = {}
    for key, ctx in contexts.items():
        rows = merged[merged["unit"].isna() if key is None else merged["unit"] == key]
        _finish(ctx, rows)
        results[key] = (_monthly(ctx, target) if monthly else None,
                        _trend(ctx, trend, target) if trend is not None else None)
    return results


#: What the KPIs read of the log: `relations.cases` (of the case attributes only the process
#: type: the others are carried empty) and `relations.event_months`.
_COLUMNS = [C.process_type, C.outcome, C.acted_at, C.arrived_at, C.case_start, C.case_end,
            C.handoff, C.round, C.pending, C.visit]


def _context(log: SparkLog, size, calendar: Calendar, sla: SLA):
    """A unit's `kpis._Context` from its extent (its facts come later)."""
    start, end = (None if size[k] is None else
                  pd.Timestamp(size[k], unit="us", tz="UTC").tz_convert(log.timezone)
                  for k in ("start", "end"))
    notes = extent_notes(calendar, log.timezone, start, end)
    info = {"cases": int(size["cases"]), "events": int(size["events"]),
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None,
            "source": log.report.source_file if log.report else None}
    return _Context(None, log.timezone, calendar, sla, start, end, pd.Series(dtype=int),
                        [], notes, info, "", frozenset({"procedures"}))


def _partition_facts(log, unit, tz: str, calendar: Calendar, sla: SLA, months, as_of
                     ) -> pd.DataFrame:
    """One unit's part of a partition, as rows of `_SCHEMA`."""
    cases = case_cycles(log, calendar, sla)
    cases["deviating"] = np.nan
    facts = month_facts(cases, tz, calendar, months, as_of)
    counts = facts.counts.melt(id_vars=["month", "process_type"], var_name="name",
                               value_name="n")
    sums = counts["name"].isin(FACT_SUMS).to_numpy()
    counts["x"] = np.where(sums, counts["n"], np.nan)
    counts["n"] = np.where(sums, 0, counts["n"])
    counts["kind"] = np.where(sums, "sum", "count")
    values = facts.values.rename(columns={"column": "name"}).assign(kind="value")
    events = relations.event_months(log)
    types = cases.groupby("process_type").size()
    frame = pd.concat([
        counts.rename(columns={"process_type": "ptype"}),
        values.rename(columns={"process_type": "ptype"}),
        pd.DataFrame({"kind": "events", "month": events.index.astype(object),
                      "n": events.to_numpy()}),
        pd.DataFrame({"kind": "cases", "ptype": types.index.astype(object),
                      "n": types.to_numpy()}),
    ], ignore_index=True)
    frame["unit"] = unit
    frame = frame.reindex(columns=_FIELDS).astype({text: object for text in
                                                  ("unit", "kind", "month", "ptype", "name")})
    frame["n"] = frame["n"].fillna(0).round().astype("int64")
    return frame.astype({"value": "float64", "x": "float64"})


def _finish(ctx, rows: pd.DataFrame) -> None:
    """A unit's merged rows into its context: its facts, events per month, process types."""
    of = {kind: frame for kind, frame in rows.groupby("kind", sort=False)}
    empty = rows.iloc[:0]
    keys = ["month", "process_type"]
    counts = of.get("count", empty)
    table = counts.pivot_table(index=["month", "ptype"], columns="name", values="n",
                               aggfunc="sum").astype(float) if len(counts) else pd.DataFrame()
    sums = of.get("sum", empty)
    if len(sums):
        table = table.join(sums.pivot_table(index=["month", "ptype"], columns="name",
                                            values="x", aggfunc="sum"), how="outer")
    table = table.reindex(columns=list(FACT_COUNTS + FACT_SUMS)).fillna(0.0)
    table.index.names = keys
    values = of.get("value", empty)
    values = pd.DataFrame({"month": values["month"].to_numpy(object),
                           "process_type": values["ptype"].to_numpy(object),
                           "column": values["name"].to_numpy(object),
                           "value": values["value"].to_numpy(float),
                           "n": values["n"].to_numpy(np.int64)})
    ctx.given = MonthFacts(table.reset_index(), values)
    events = of.get("events", empty)
    ctx.event_months = pd.Series(events["n"].to_numpy(np.int64),
                                 index=pd.Index(events["month"].to_numpy(object), name="month"),
                                 name="n")
    types = of.get("cases", empty)
    ctx.process_types = type_order(pd.Series(types["n"].to_numpy(np.int64),
                                                 index=types["ptype"].to_numpy(object)))


__all__ = ["compare_unit_kpis", "kpi_trend", "kpis_by_unit", "monthly_kpis",
           "monthly_kpis_by_unit"]
