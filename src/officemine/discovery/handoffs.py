"""Hand-offs: how often an item crosses from one department to another.

A *hand-off* is a pair of consecutive blocking actions in a case (cc, comments, reminders and
pending items left out) taken by people of different departments; it goes from the first
action's department to the second's, and its transfer time runs from the first action to the
second (clock hours, and working hours of the calendar). Pairs where either department is
unknown are not hand-offs; they are counted in ``pairs_unknown_dept``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from officemine.log.calendar import Calendar
from officemine.discovery._base import (DiscoveryOutput, Scope, ScopeEvents, count_distinct,
                                        fmt_num, hours_between, read_events, records)
from officemine.discovery._facts import counted_medians, each_value, table
from officemine.log.eventlog import EventLog, arrow_to_pandas
from officemine.base.plotting import chart_style
from officemine.base.choices import Lang
from officemine.base.text import say

MATRIX_COLUMNS = ["from_dept", "to_dept", "handoffs", "cases", "median_hours",
                  "median_workhours"]


@dataclass(frozen=True, repr=False, eq=False)
class HandoffResult(DiscoveryOutput):
    """Department-to-department hand-offs and hand-offs per case.

    ``pairs`` (also ``summary``): from_dept, to_dept, handoffs, cases, median_hours (clock),
    median_workhours (working hours of the calendar). ``matrix``: the counts as a
    from × to table. ``counts``: process_type, handoffs, cases (how many cases of the type
    have that many hand-offs, zeros included). ``per_case``: case_id, process_type,
    handoffs (None from the Spark engine, which keeps no case). ``distribution``: handoffs per case → cases, share. ``by_process_type``: process_type,
    cases, mean, median, max.
    """

    pairs: pd.DataFrame
    counts: pd.DataFrame
    scope: Scope
    pairs_total: int
    pairs_unknown_dept: int
    per_case: pd.DataFrame | None = None

    @property
    def summary(self) -> pd.DataFrame:
        return self.pairs

    @property
    def n_handoffs(self) -> int:
        return int(self.pairs["handoffs"].sum())

    @property
    def has_departments(self) -> bool:
        return self.pairs_total > self.pairs_unknown_dept

    @property
    def matrix(self) -> pd.DataFrame:
        depts = sorted(set(self.pairs["from_dept"]) | set(self.pairs["to_dept"]))
        m = self.pairs.pivot_table(index="from_dept", columns="to_dept", values="handoffs",
                                   aggfunc="sum", fill_value=0)
        return m.reindex(index=depts, columns=depts, fill_value=0).astype(int)

    @property
    def n_cases(self) -> int:
        return int(self.counts["cases"].sum())

    @property
    def distribution(self) -> pd.DataFrame:
        d = self.counts.groupby("handoffs")["cases"].sum().reset_index()
        d["share"] = d["cases"] / max(self.n_cases, 1)
        return d

    @property
    def by_process_type(self) -> pd.DataFrame:
        c = self.counts
        key, types = pd.factorize(c["process_type"], sort=True, use_na_sentinel=False)
        n = len(types)
        h, k = c["handoffs"].to_numpy(np.int64), c["cases"].to_numpy(np.int64)
        cases = np.bincount(key, weights=k, minlength=n).astype(np.int64)
        out = pd.DataFrame({
            "process_type": pd.Series(types, dtype=c["process_type"].dtype),
            "cases": cases,
            "mean": np.bincount(key, weights=h * k, minlength=n) / cases,
            "median": counted_medians(key, h.astype(float), k, n),
            "max": pd.Series(h).groupby(key).max().reindex(range(n)).to_numpy(np.int64)})
        return out.sort_values("cases", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def mean_per_case(self) -> float:
        n = self.n_cases
        h, k = self.counts["handoffs"].to_numpy(np.int64), self.counts["cases"].to_numpy(np.int64)
        return float((h * k).sum() / n) if n else float("nan")

    @property
    def median_per_case(self) -> float:
        c = self.counts
        return float(counted_medians(np.zeros(len(c)), c["handoffs"].to_numpy(float),
                                     c["cases"].to_numpy(np.int64), 1)[0])

    def headline(self, lang: Lang = "en") -> str:
        """Hand-offs between departments, per case, and the most frequent pair, in `lang`."""
        if not self.has_departments:
            return say("handoffs.none", lang)
        text = say("handoffs.headline", lang, n=self.n_handoffs,
                   mean=fmt_num(self.mean_per_case, 2), median=fmt_num(self.median_per_case, 1))
        if len(self.pairs):
            top = self.pairs.iloc[0]
            text += say("handoffs.top", lang, a=top["from_dept"], b=top["to_dept"],
                        n=int(top["handoffs"]), wait=fmt_num(top["median_workhours"]))
        return text

    def to_dict(self) -> dict:
        return {"handoffs": self.n_handoffs,
                "definition": "consecutive blocking actions in a case by people of different "
                              "departments (cc, comments, reminders and pending items left out)",
                "time_basis": "from the first action to the second; median_hours in clock "
                              "hours, median_workhours in working hours (calendar "
                              f"{self.scope.calendar})",
                "pairs_total": self.pairs_total, "pairs_unknown_dept": self.pairs_unknown_dept,
                "per_case": {"mean": self.mean_per_case, "median": self.median_per_case,
                             "distribution": records(self.distribution),
                             "by_process_type": records(self.by_process_type)},
                "pairs": records(self.pairs)}

    def __repr__(self) -> str:
        lines = [f"<HandoffResult {self.scope.label}: {self.headline()}"]
        for row in self.pairs.head(6).itertuples():
            lines.append(f"  {row.from_dept} → {row.to_dept}: {row.handoffs:,}")
        return "\n".join(lines) + ">"

    def _html_heading(self) -> list[str]:
        return [f"Hand-offs: {self.scope.label}", self.headline()]

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.pairs.head(self.HTML_ROWS), self.by_process_type]

    def plot(self, ax=None):
        """Heat map of the hand-off matrix (counts)."""
        import matplotlib.pyplot as plt

        m = self.matrix
        with chart_style():
            if ax is None:
                side = 0.45 * max(len(m), 3) + 2
                _, ax = plt.subplots(figsize=(side + 1, side))
            ax.imshow(m.to_numpy(), cmap="Blues", aspect="auto")
            ax.set_xticks(range(len(m.columns)), m.columns, rotation=45, ha="right")
            ax.set_yticks(range(len(m.index)), m.index)
            vmax = m.to_numpy().max() if m.size else 0
            for (i, j), v in np.ndenumerate(m.to_numpy()):
                if v:
                    ax.text(j, i, f"{v:,}", ha="center", va="center", fontsize=7,
                            color="white" if v > vmax / 2 else "black")
            ax.set_xlabel("to department")
            ax.set_ylabel("from department")
            ax.set_title(f"Hand-offs: {self.scope.label}")
        return ax


def discover_handoffs(log: EventLog, scope: Scope, calendar: Calendar,
                      events: ScopeEvents | None = None) -> HandoffResult:
    """Hand-offs between departments among the cases in scope (`events`: the scope's, if
    already read)."""
    ev = events if events is not None else read_events(log, scope.process_type)
    facts, per_case = handoff_facts(ev, calendar)
    return handoffs_from_facts(facts, scope, per_case=per_case)


def handoff_facts(ev: ScopeEvents, calendar: Calendar) -> tuple[dict, pd.DataFrame]:
    """The facts (`officemine.discovery._facts`) of hand-offs — pairs by departments, their
    times as counts per value, cases by process type and number of hand-offs — and the
    hand-offs of each case."""
    acts = np.flatnonzero(~ev.pending)             # blocking actions, in case order
    case, dept, acted = ev.case[acts], ev.dept[acts], ev.acted[acts]
    pair = np.flatnonzero(case[1:] == case[:-1])   # action i followed by i + 1 in its case
    a, b = dept[pair], dept[pair + 1]
    known = (a >= 0) & (b >= 0)
    hand = pair[known & (a != b)]
    # every case in scope counts, those whose actions are all non-blocking or pending too
    per_case = arrow_to_pandas(pa.table({"case_id": ev.case_ids,
                                         "process_type": ev.process_types}))
    per_case["handoffs"] = np.bincount(case[hand], minlength=ev.n_cases).astype(np.int64)
    counted = per_case.groupby(["process_type", "handoffs"], dropna=False, sort=False).size()
    counts = table("per_case", {
        "process_type": counted.index.get_level_values("process_type").to_numpy(object),
        "handoffs": counted.index.get_level_values("handoffs").to_numpy(np.int64),
        "cases": counted.to_numpy(np.int64)})
    n = len(ev.depts)
    key = dept[hand] * n + dept[hand + 1]
    count = np.bincount(key, minlength=n * n)
    used = np.flatnonzero(count)
    depts = np.array(ev.depts, dtype=object)
    start, end = acted[hand], acted[hand + 1]
    work = (calendar.working_hours(ev.times(start), ev.times(end)) if len(hand)
            else np.zeros(0))
    row = np.zeros(n * n, dtype=np.int64)          # each key's row in the pairs table
    row[used] = np.arange(len(used))
    times = {f"handoff_{basis}": each_value(f"handoff_{basis}", row[key], values)
             for basis, values in (("hours", hours_between(start, end)), ("workhours", work))}
    facts = {"handoffs": table("handoffs", {
                 "from_dept": depts[used // n], "to_dept": depts[used % n],
                 "handoffs": count[used].astype(np.int64),
                 "cases": count_distinct(key, case[hand], n * n)[used].astype(np.int64)}),
             **times, "per_case": counts,
             "pairs_total": len(pair), "pairs_unknown_dept": int((~known).sum())}
    return facts, per_case


def handoffs_from_facts(facts, scope: Scope, per_case: pd.DataFrame | None = None
                        ) -> HandoffResult:
    """Hand-offs from their facts (`per_case`: each case's hand-offs, on one machine)."""
    h = facts["handoffs"]
    if len(h):
        pairs = pd.DataFrame({
            "from_dept": pd.Series(h["from_dept"].to_numpy(object), dtype="str"),
            "to_dept": pd.Series(h["to_dept"].to_numpy(object), dtype="str"),
            "handoffs": h["handoffs"].to_numpy(np.int64),
            "cases": h["cases"].to_numpy(np.int64)})
        for basis, column in (("hours", "median_hours"), ("workhours", "median_workhours")):
            times = facts[f"handoff_{basis}"]
            pairs[column] = counted_medians(times["at"].to_numpy(np.int64),
                                            times["value"].to_numpy(float),
                                            times["n"].to_numpy(np.int64), len(pairs))
        pairs = pairs.sort_values(["handoffs", "from_dept", "to_dept"],
                                  ascending=[False, True, True], kind="stable")
    else:
        pairs = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            MATRIX_COLUMNS, ["str", "str", "int64", "int64", "float64", "float64"])})
    c = facts["per_case"]
    counts = pd.DataFrame({"process_type": pd.Series(c["process_type"].to_numpy(object),
                                                     dtype="str"),
                           "handoffs": c["handoffs"].to_numpy(np.int64),
                           "cases": c["cases"].to_numpy(np.int64)})
    counts = counts.sort_values(["process_type", "handoffs"], kind="stable",
                                na_position="last").reset_index(drop=True)
    return HandoffResult(pairs=pairs[MATRIX_COLUMNS].reset_index(drop=True), counts=counts,
                         scope=scope, pairs_total=int(facts["pairs_total"]),
                         pairs_unknown_dept=int(facts["pairs_unknown_dept"]), per_case=per_case)
