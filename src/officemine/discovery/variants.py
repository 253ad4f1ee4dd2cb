"""Variants: the distinct paths cases take, with their share and cycle time.

A path is the sequence of a case's visits (see `officemine.discovery._base`), each written as
its node, or ``node:outcome`` when the visit ended in a return, rejection or withdrawal, so
that a return and the round it starts are visible: ``发起 → 部门负责人审核 → 财务初审:return →
发起 → …``. Cycle times are for completed cases only; open cases are counted separately.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from officemine.discovery._base import ARROW, DiscoveryOutput, Scope, fmt_num, records
from officemine.discovery._facts import counted_medians, each_value, table
from officemine.base.plotting import chart_style

CYCLE_TIME_BASIS = ("case start (first submission) to case end (final event) of completed "
                    "cases (docs/definitions.md); median in clock hours and in working days")

VARIANT_COLUMNS = ["variant", "cases", "share", "completed", "open", "median_cycle_hours",
                   "median_cycle_workdays", "steps", "returns", "path"]


@dataclass(frozen=True, repr=False, eq=False)
class VariantsResult(DiscoveryOutput):
    """Distinct paths of the cases in scope, most frequent first.

    ``table`` (also ``summary``) has one row per variant: ``variant`` (1 = most frequent),
    ``cases``, ``share`` (of all cases in scope, open ones included), ``completed``, ``open``,
    ``median_cycle_hours`` (clock) and ``median_cycle_workdays`` (working days of the
    calendar) over the completed cases, ``steps`` (visits), ``returns`` (visits that ended in
    a return) and ``path``. ``n_cases`` counts the cases with a step, ``n_completed`` the
    completed ones; the medians are over all completed cases. ``cases`` lists every case
    with its variant and cycle time (None from the Spark engine, which keeps no case).
    """

    table: pd.DataFrame
    scope: Scope
    n_cases: int
    n_completed: int
    median_cycle_hours: float
    median_cycle_workdays: float
    cases: pd.DataFrame | None = field(repr=False, default=None)
    cycle_time_basis: str = CYCLE_TIME_BASIS

    @property
    def summary(self) -> pd.DataFrame:
        return self.table

    @property
    def n_open(self) -> int:
        return self.n_cases - self.n_completed

    def coverage(self, top: int) -> float:
        """Share of cases following one of the `top` most frequent variants."""
        return float(self.table["share"].head(top).sum())

    def steps(self, variant: int) -> list[str]:
        """The steps of one variant as a list."""
        return self.table.loc[self.table["variant"] == variant, "path"].iloc[0].split(ARROW)

    def to_dict(self) -> dict:
        return {"cases": self.n_cases, "completed": self.n_completed, "open": self.n_open,
                "variants": int(len(self.table)),
                "median_cycle_hours": self.median_cycle_hours,
                "median_cycle_workdays": self.median_cycle_workdays,
                "cycle_time_basis": self.cycle_time_basis,
                "cycle_time_units": {"median_cycle_hours": "clock hours",
                                     "median_cycle_workdays": f"working days "
                                     f"(calendar {self.scope.calendar})"},
                "share_basis": "cases in scope, open cases included",
                "step_label": "node, or node:outcome when the visit ended in return, reject "
                              "or withdraw",
                "rows": records(self.table)}

    def __repr__(self) -> str:
        lines = [f"<VariantsResult {self.scope.label}: {self.n_cases:,} cases "
                 f"({self.n_completed:,} completed, {self.n_open:,} open), "
                 f"{len(self.table):,} variants; median cycle time of completed cases "
                 f"{fmt_num(self.median_cycle_hours)} clock hours = "
                 f"{fmt_num(self.median_cycle_workdays)} working days"]
        for row in self.table.head(5).itertuples():
            hours, days = fmt_num(row.median_cycle_hours), fmt_num(row.median_cycle_workdays)
            lines.append(f"  V{row.variant:<3} {row.share:6.1%} {row.cases:>6,}  "
                         f"{hours:>7} h {days:>6} wd  {row.path}")
        return "\n".join(lines) + ">"

    def _html_heading(self) -> list[str]:
        return [f"Variants: {self.scope.label}",
                f"{self.n_cases:,} cases, {self.n_completed:,} completed, {self.n_open:,} open; "
                f"{len(self.table):,} variants", f"cycle time: {self.cycle_time_basis}"]

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.table.head(self.HTML_ROWS)]

    def plot(self, ax=None, top: int = 10):
        """Horizontal bars: share of cases of the `top` variants, with their paths."""
        import matplotlib.pyplot as plt

        data = self.table.head(top).iloc[::-1]
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(11, 0.45 * len(data) + 1.2))
            y = np.arange(len(data))
            ax.barh(y, data["share"], color="#4c78a8", height=0.6)
            ax.set_yticks(y, [f"V{v}" for v in data["variant"]])
            for yi, (share, path, h) in enumerate(zip(data["share"], data["path"],
                                                      data["median_cycle_hours"])):
                ax.text(share, yi, f"  {share:.1%} · {fmt_num(h)} h · {path}",
                        va="center", fontsize=7.5)
            ax.set_xlim(0, max(float(data["share"].max()) * 1.15, 0.05) if len(data) else 1)
            ax.set_xlabel("share of cases (h = median cycle time, clock hours, completed cases)")
            ax.set_title(f"Variants: {self.scope.label}")
        return ax


def variants_from_cases(cases: pd.DataFrame, scope: Scope) -> VariantsResult:
    """Group the case table by path (small aggregated frame: one row per case)."""
    return variants_from_facts(variant_facts(cases), scope, cases=cases)


def variant_facts(cases: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The facts (`officemine.discovery._facts`) of the case table `cases`: cases per path
    (with its node sequence, steps and return steps) and completed cases' cycle times per
    path and return."""
    key, paths = pd.factorize(cases["path"])       # grouping by integer codes is faster
    grouped = cases.groupby(key, sort=False)
    first = grouped.cumcount().to_numpy() == 0
    nodes = cases["nodes"].to_numpy(object)[first]
    paths_table = table("paths", {
        "path": np.asarray(paths, dtype=object)[key[first]],
        "trace": [json.dumps(list(n), ensure_ascii=False) for n in nodes],
        "steps": cases["steps"].to_numpy(np.int64)[first],
        "return_steps": cases["return_steps"].to_numpy(np.int64)[first],
        "cases": grouped.size().to_numpy(np.int64)[key[first]],
        "completed": grouped["completed"].sum().to_numpy(np.int64)[key[first]]})
    done = cases["completed"].to_numpy(bool)
    returned = (cases["returns"].to_numpy() > 0)[done]
    return {"paths": paths_table,      # its rows are the paths' codes
            **{f"cycle_{basis}": each_value(f"cycle_{basis}", key[done],
                                            cases[column].to_numpy(float)[done],
                                            returned=returned)
               for basis, column in (("hours", "cycle_hours"), ("workdays", "cycle_workdays"))}}


def variants_from_facts(facts, scope: Scope, cases: pd.DataFrame | None = None) -> VariantsResult:
    """The variants from the facts of their cases (`cases`: the case table, on one machine)."""
    p = facts["paths"]
    medians = {}
    for basis in ("hours", "workdays"):
        cycle = facts[f"cycle_{basis}"]
        at, counted, counts = (cycle["at"].to_numpy(np.int64), cycle["value"].to_numpy(float),
                               cycle["n"].to_numpy(np.int64))
        medians[basis] = (counted_medians(at, counted, counts, len(p)),
                          float(counted_medians(np.zeros(len(at)), counted, counts, 1)[0]))
    n_cases = int(p["cases"].sum())
    table_ = pd.DataFrame({
        "cases": p["cases"].to_numpy(np.int64),
        "completed": p["completed"].to_numpy(np.int64),
        "median_cycle_hours": medians["hours"][0],
        "median_cycle_workdays": medians["workdays"][0],
        "steps": p["steps"].to_numpy(np.int32),
        "returns": p["return_steps"].to_numpy(np.int32),
        "path": pd.Series(p["path"].to_numpy(object), dtype="str")})
    table_["open"] = table_["cases"] - table_["completed"]
    table_["share"] = table_["cases"] / max(n_cases, 1)
    table_ = table_.sort_values(["cases", "path"], ascending=[False, True], kind="stable")
    table_.insert(0, "variant", np.arange(1, len(table_) + 1))
    table_ = table_[VARIANT_COLUMNS].reset_index(drop=True)
    if cases is not None:
        number = table_["variant"].to_numpy()[
            pd.Index(table_["path"].to_numpy(object)).get_indexer(cases["path"].to_numpy(object))]
        cases = cases.assign(variant=number)
    return VariantsResult(table=table_, scope=scope, n_cases=n_cases,
                          n_completed=int(p["completed"].sum()),
                          median_cycle_hours=medians["hours"][1],
                          median_cycle_workdays=medians["workdays"][1], cases=cases)
