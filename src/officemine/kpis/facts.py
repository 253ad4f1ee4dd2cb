"""The mergeable facts behind the KPI tables (`MonthFacts`): counts and counted cycle times
per month and process type, which add up over any parts of the log (batches, Spark
partitions), and the KPI columns aggregated from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from officemine.base.stats import counted_quantile
from officemine.log.calendar import Calendar

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
