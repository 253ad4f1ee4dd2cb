"""The per-month KPI tables, overall and per process type, from the months' facts: counts
zero-filled, rates and their intervals derived, months without data flagged and blanked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from officemine.base.stats import wilson_interval
from officemine.base.text import Said
from officemine.kpis.context import _Context
from officemine.kpis.definitions import CONFIDENCE
from officemine.kpis.facts import _aggregate

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
