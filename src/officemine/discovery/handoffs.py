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

from officemine.calendar import Calendar
from officemine.discovery._base import NB, Scope, dumps, fmt_num, html_block, records
from officemine.eventlog import EventLog
from officemine.plotting import chart_style

MATRIX_COLUMNS = ["from_dept", "to_dept", "handoffs", "cases", "median_hours",
                  "median_workhours"]


@dataclass(frozen=True, repr=False, eq=False)
class HandoffResult:
    """Department-to-department hand-offs and hand-offs per case.

    ``pairs`` (also ``summary``): from_dept, to_dept, handoffs, cases, median_hours (clock),
    median_workhours (working hours of the calendar). ``matrix``: the counts as a
    from × to table. ``per_case``: case_id, process_type, handoffs (zeros included).
    ``distribution``: handoffs per case → cases, share. ``by_process_type``: process_type,
    cases, mean, median, max.
    """

    pairs: pd.DataFrame
    per_case: pd.DataFrame
    scope: Scope
    pairs_total: int
    pairs_unknown_dept: int

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
    def distribution(self) -> pd.DataFrame:
        d = self.per_case.groupby("handoffs").size().rename("cases").reset_index()
        d["share"] = d["cases"] / max(len(self.per_case), 1)
        return d

    @property
    def by_process_type(self) -> pd.DataFrame:
        g = self.per_case.groupby("process_type", dropna=False)["handoffs"]
        out = pd.DataFrame({"cases": g.size(), "mean": g.mean(), "median": g.median(),
                            "max": g.max()}).reset_index()
        return out.sort_values("cases", ascending=False, kind="stable").reset_index(drop=True)

    @property
    def mean_per_case(self) -> float:
        return float(self.per_case["handoffs"].mean()) if len(self.per_case) else float("nan")

    @property
    def median_per_case(self) -> float:
        return float(self.per_case["handoffs"].median()) if len(self.per_case) else float("nan")

    def headline(self) -> str:
        if not self.has_departments:
            return ("no hand-offs measurable: the log records no departments for the acting "
                    "people")
        text = (f"{self.n_handoffs:,} hand-offs between departments; per case mean "
                f"{fmt_num(self.mean_per_case, 2)}, median {fmt_num(self.median_per_case, 1)}")
        if len(self.pairs):
            top = self.pairs.iloc[0]
            text += (f"; most frequent {top['from_dept']} → {top['to_dept']} "
                     f"({int(top['handoffs']):,}, median {fmt_num(top['median_workhours'])} "
                     f"working h)")
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

    def to_json(self, indent: int | None = 2) -> str:
        return dumps(self.to_dict(), indent)

    def __repr__(self) -> str:
        lines = [f"<HandoffResult {self.scope.label}: {self.headline()}"]
        for row in self.pairs.head(6).itertuples():
            lines.append(f"  {row.from_dept} → {row.to_dept}: {row.handoffs:,}")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        return (html_block(f"Hand-offs: {self.scope.label}", [self.headline()], self.pairs)
                + self.by_process_type.to_html(index=False, na_rep="–"))

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


def discover_handoffs(log: EventLog, scope: Scope, calendar: Calendar) -> HandoffResult:
    """Hand-offs between departments among the cases in scope."""
    base = f"""
WITH acts AS (
    SELECT case_id, seq, dept, acted_at, process_type,
           lag(dept) OVER w AS prev_dept, lag(acted_at) OVER w AS prev_acted,
           row_number() OVER w AS k
    FROM events
    WHERE ({scope.where}) AND (outcome IS NULL OR outcome NOT IN ({NB})) AND NOT pending
    WINDOW w AS (PARTITION BY case_id ORDER BY seq)
)"""
    total, unknown = log.con.execute(base + """
SELECT count(*) FILTER (WHERE k > 1),
       count(*) FILTER (WHERE k > 1 AND (dept IS NULL OR prev_dept IS NULL))
FROM acts""").fetchone()
    rows = log.query(base + """
SELECT case_id, prev_dept AS from_dept, dept AS to_dept, prev_acted, acted_at
FROM acts WHERE k > 1 AND dept IS NOT NULL AND prev_dept IS NOT NULL AND dept <> prev_dept
""")
    per_case = log.query(base + """
SELECT case_id, any_value(process_type) AS process_type,
       count(*) FILTER (WHERE k > 1 AND dept IS NOT NULL AND prev_dept IS NOT NULL
                        AND dept <> prev_dept)::INTEGER AS handoffs
FROM acts GROUP BY case_id ORDER BY case_id
""")
    # cases whose every action is non-blocking or pending still count, with zero hand-offs
    all_cases = log.query(f"SELECT case_id, any_value(process_type) AS process_type FROM events "
                          f"WHERE {scope.where} GROUP BY case_id ORDER BY case_id")
    per_case = all_cases.merge(per_case[["case_id", "handoffs"]], on="case_id", how="left")
    per_case["handoffs"] = per_case["handoffs"].fillna(0).astype(int)

    if len(rows):
        rows["hours"] = (rows["acted_at"] - rows["prev_acted"]).dt.total_seconds() / 3600.0
        rows["workhours"] = calendar.working_hours(rows["prev_acted"], rows["acted_at"])
        g = rows.groupby(["from_dept", "to_dept"], sort=False)
        pairs = pd.DataFrame({"handoffs": g.size(), "cases": g["case_id"].nunique(),
                              "median_hours": g["hours"].median(),
                              "median_workhours": g["workhours"].median()}).reset_index()
        pairs = pairs.sort_values(["handoffs", "from_dept", "to_dept"],
                                  ascending=[False, True, True], kind="stable")
        pairs[["handoffs", "cases"]] = pairs[["handoffs", "cases"]].astype(int)
    else:
        pairs = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            MATRIX_COLUMNS, ["object", "object", "int64", "int64", "float64", "float64"])})
    return HandoffResult(pairs=pairs[MATRIX_COLUMNS].reset_index(drop=True), per_case=per_case,
                         scope=scope, pairs_total=int(total), pairs_unknown_dept=int(unknown))
