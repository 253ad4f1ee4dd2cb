"""Rework: where returns come from, where they send the item, and what they cost.

A *return* is an event with outcome ``return`` (退回/驳回). Its *target* is the node of the
next blocking action in the case (normally 发起, the applicant resubmitting, or withdrawing).
A case's *rounds* are its submissions: 1 + the number of resubmits. The cost of rework is
the difference between the median cycle times of completed cases with at least one return
and without any, with a percentile-bootstrap interval (seeded) and a Mann-Whitney U test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from officemine.discovery._base import (NB, Scope, dumps, fmt_num, html_block, median,
                                        records)
from officemine.eventlog import EventLog
from officemine.plotting import chart_style
from officemine.schema import DECISIONS

_DECISIONS = ", ".join(f"'{o}'" for o in sorted(DECISIONS))
NO_NEXT = "(none: case ends)"


@dataclass(frozen=True, repr=False, eq=False)
class ReworkResult:
    """Returns by node, return targets, rounds per case and the cycle time rework adds.

    ``by_node``: node, decisions (approve/auto_approve/reject/return events), returns,
    cases_returned, return_rate (returns / decisions), share_of_returns.
    ``targets``: from_node, to_node, returns, share (of all returns).
    ``rounds``: rounds (submissions per case), cases, share.
    ``effect``: one row per basis (``clock hours``, ``working days``): n_with (completed
    cases with ≥1 return), n_without, median_with, median_without, difference
    (with − without), ci_low, ci_high (percentile bootstrap of the difference of medians,
    `confidence`), mannwhitney_p (two-sided).
    """

    by_node: pd.DataFrame
    targets: pd.DataFrame
    rounds: pd.DataFrame
    effect: pd.DataFrame
    scope: Scope
    n_cases: int
    cases_with_returns: int
    n_returns: int
    seed: int
    n_boot: int
    confidence: float
    cases: pd.DataFrame = field(repr=False, default=None)

    @property
    def summary(self) -> pd.DataFrame:
        return self.targets

    @property
    def share_with_returns(self) -> float:
        return self.cases_with_returns / self.n_cases if self.n_cases else float("nan")

    def added(self, basis: str = "clock hours") -> dict:
        """The effect row for one basis as a dict."""
        row = self.effect[self.effect["basis"] == basis]
        return row.iloc[0].to_dict() if len(row) else {}

    def to_dict(self) -> dict:
        return {"returns": self.n_returns, "cases": self.n_cases,
                "cases_with_returns": self.cases_with_returns,
                "share_with_returns": self.share_with_returns,
                "return_definition": "event with outcome 'return'; target = node of the next "
                                     "blocking action in the case",
                "rounds_definition": "submissions per case (1 + resubmits)",
                "effect_basis": "completed cases; cycle time from first arrival or action to "
                                "last blocking action; difference of medians (with returns "
                                "minus without)",
                "interval": f"{self.confidence:.0%} percentile bootstrap, {self.n_boot} "
                            f"resamples, seed {self.seed}; p-value: Mann-Whitney U, two-sided",
                "seed": self.seed,
                "by_node": records(self.by_node), "targets": records(self.targets),
                "rounds": records(self.rounds), "effect": records(self.effect)}

    def to_json(self, indent: int | None = 2) -> str:
        return dumps(self.to_dict(), indent)

    def headline(self) -> str:
        e = self.added("clock hours")
        w = self.added("working days")
        top = self.by_node.iloc[0] if len(self.by_node) else None
        text = (f"{self.n_returns:,} returns; {self.cases_with_returns:,} of {self.n_cases:,} "
                f"cases ({self.share_with_returns:.1%}) returned at least once")
        if top is not None and top["returns"] > 0:
            text += f"; most from {top['node']} ({int(top['returns']):,})"
        if e and e.get("n_with", 0) and e.get("n_without", 0):
            text += (f"; completed cases with a return took {fmt_num(e['difference'])} clock h "
                     f"more at the median ({self.confidence:.0%} CI {fmt_num(e['ci_low'])} to "
                     f"{fmt_num(e['ci_high'])}; n = {int(e['n_with']):,} vs "
                     f"{int(e['n_without']):,})")
            if w:
                text += f" = {fmt_num(w['difference'])} working days"
        return text

    def __repr__(self) -> str:
        lines = [f"<ReworkResult {self.scope.label}: {self.headline()}"]
        for row in self.targets.head(6).itertuples():
            lines.append(f"  {row.from_node} → {row.to_node}: {row.returns:,} ({row.share:.1%})")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        return (html_block(f"Rework: {self.scope.label}", [self.headline()], self.by_node)
                + self.targets.to_html(index=False, na_rep="–")
                + self.effect.to_html(index=False, na_rep="–"))

    def plot(self, ax=None):
        """Bars: returns by source node, stacked by target node."""
        import matplotlib.pyplot as plt

        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(8, 0.4 * max(len(self.by_node), 3) + 1.2))
            table = self.targets.pivot_table(index="from_node", columns="to_node",
                                             values="returns", aggfunc="sum", fill_value=0)
            order = [n for n in self.by_node["node"] if n in table.index][::-1]
            table = table.loc[order]
            left = np.zeros(len(table))
            for col in table.columns:
                ax.barh(table.index, table[col], left=left, label=f"→ {col}")
                left += table[col].to_numpy()
            ax.set_xlabel("returns (events)")
            ax.set_title(f"Returns by node and where they went: {self.scope.label}")
            if len(table.columns):
                ax.legend(fontsize=8, frameon=False)
        return ax


def discover_rework(log: EventLog, scope: Scope, cases: pd.DataFrame, *, seed: int = 0,
                    n_boot: int = 2000, confidence: float = 0.95) -> ReworkResult:
    """Rework statistics of the cases in scope (`cases` = the case table of the scope)."""
    where = scope.where
    targets = log.query(f"""
WITH blocking AS (
    SELECT case_id, seq, node, outcome,
           lead(node) OVER (PARTITION BY case_id ORDER BY seq) AS next_node
    FROM events WHERE ({where}) AND (outcome IS NULL OR outcome NOT IN ({NB}))
)
SELECT node AS from_node, coalesce(next_node, '{NO_NEXT}') AS to_node,
       count(*)::INTEGER AS returns
FROM blocking WHERE outcome = 'return'
GROUP BY ALL ORDER BY returns DESC, from_node, to_node
""")
    total = int(targets["returns"].sum())
    targets["share"] = targets["returns"] / total if total else np.nan
    by_node = log.query(f"""
SELECT node,
       count(*) FILTER (WHERE outcome IN ({_DECISIONS}))::INTEGER AS decisions,
       count(*) FILTER (WHERE outcome = 'return')::INTEGER AS returns,
       count(DISTINCT case_id) FILTER (WHERE outcome = 'return')::INTEGER AS cases_returned
FROM events WHERE {where}
GROUP BY node HAVING count(*) FILTER (WHERE outcome IN ({_DECISIONS})) > 0
ORDER BY returns DESC, decisions DESC, node
""")
    by_node["return_rate"] = by_node["returns"] / by_node["decisions"]
    by_node["share_of_returns"] = by_node["returns"] / total if total else np.nan

    rounds = cases.groupby("rounds").size().rename("cases").reset_index()
    rounds["share"] = rounds["cases"] / max(len(cases), 1)

    rng = np.random.default_rng(seed)
    done = cases[cases["completed"]]
    with_r = done["returns"] > 0
    rows = []
    for basis, col in (("clock hours", "cycle_hours"), ("working days", "cycle_workdays")):
        a = done.loc[with_r, col].dropna().to_numpy(float)
        b = done.loc[~with_r, col].dropna().to_numpy(float)
        rows.append({"basis": basis, "n_with": len(a), "n_without": len(b),
                     "median_with": median(a), "median_without": median(b),
                     "difference": median(a) - median(b) if len(a) and len(b) else np.nan,
                     **_bootstrap_median_difference(a, b, rng, n_boot, confidence),
                     "mannwhitney_p": _mannwhitney(a, b)})
    effect = pd.DataFrame(rows)
    return ReworkResult(by_node=by_node, targets=targets, rounds=rounds, effect=effect,
                        scope=scope, n_cases=len(cases),
                        cases_with_returns=int((cases["returns"] > 0).sum()), n_returns=total,
                        seed=seed, n_boot=n_boot, confidence=confidence,
                        cases=cases[["case_id", "returns", "rounds", "completed"]])


def _bootstrap_median_difference(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                                 n_boot: int, confidence: float) -> dict:
    """Percentile bootstrap interval of median(a) − median(b), resampling each group."""
    if len(a) < 2 or len(b) < 2:
        return {"ci_low": np.nan, "ci_high": np.nan}
    diffs = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(len(a), len(b)))     # bound memory on big logs
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        ma = np.median(a[rng.integers(0, len(a), size=(k, len(a)))], axis=1)
        mb = np.median(b[rng.integers(0, len(b), size=(k, len(b)))], axis=1)
        diffs[start:start + k] = ma - mb
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return {"ci_low": float(lo), "ci_high": float(hi)}


def _mannwhitney(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
