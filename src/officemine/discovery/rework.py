"""Rework: where returns come from, where they send the item, and what they cost.

A *return* is an event with outcome ``return`` (退回/驳回). Its *target* is the node of the
next blocking action in the case (normally 发起, the applicant resubmitting, or withdrawing).
A case's *rounds* are its attempts (`officemine.log.relations`: a return ends a round). The
cost of rework is the difference between the median cycle times of completed cases with at
least one return and without any, with a percentile-bootstrap interval (seeded; each
resample's median is drawn from its order-statistic distribution, see `bootstrap_medians`)
and a Mann-Whitney U test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from officemine.discovery._base import (DiscoveryOutput, Scope, ScopeEvents, count_distinct,
                                        fmt_num, median, read_events, records)
from officemine.discovery._facts import expanded, table
from officemine.discovery.variants import variant_facts
from officemine.log.eventlog import EventLog
from officemine.base.plotting import chart_style, rows_axes
from officemine.base.choices import Lang
from officemine.base.text import say
from officemine.log.schema import DECISIONS

NO_NEXT = "(none: case ends)"


@dataclass(frozen=True, repr=False, eq=False)
class ReworkResult(DiscoveryOutput):
    """Returns by node, return targets, rounds per case and the cycle time rework adds.

    ``by_node``: node, decisions (approve/auto_approve/reject/return events), returns,
    cases_returned, return_rate (returns / decisions), share_of_returns.
    ``targets``: from_node, to_node, returns, share (of all returns).
    ``rounds``: rounds (attempts per case), cases, share.
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
                "rounds_definition": "attempts per case (1 + returns before its last event)",
                "effect_basis": "completed cases; cycle time from case start to case end "
                                "(docs/definitions.md); difference of medians (with returns "
                                "minus without)",
                "interval": f"{self.confidence:.0%} percentile bootstrap, {self.n_boot} "
                            f"resamples, seed {self.seed}; p-value: Mann-Whitney U, two-sided",
                "seed": self.seed,
                "by_node": records(self.by_node), "targets": records(self.targets),
                "rounds": records(self.rounds), "effect": records(self.effect)}

    def headline(self, lang: Lang = "en") -> str:
        """Returns, the cases returned, the node most returns come from and what a return
        adds to a completed case's cycle time (with its interval), in `lang`."""
        e = self.added("clock hours")
        w = self.added("working days")
        top = self.by_node.iloc[0] if len(self.by_node) else None
        text = say("rework.headline", lang, returns=self.n_returns,
                   with_returns=self.cases_with_returns, cases=self.n_cases,
                   share=self.share_with_returns)
        if top is not None and top["returns"] > 0:
            text += say("rework.most", lang, node=top["node"], n=int(top["returns"]))
        if e and e.get("n_with", 0) and e.get("n_without", 0):
            text += say("rework.added", lang, diff=fmt_num(e["difference"]),
                        level=self.confidence, lo=fmt_num(e["ci_low"]),
                        hi=fmt_num(e["ci_high"]), n_with=int(e["n_with"]),
                        n_without=int(e["n_without"]))
            if w:
                text += say("rework.added_days", lang, diff=fmt_num(w["difference"]))
        return text

    def __repr__(self) -> str:
        lines = [f"<ReworkResult {self.scope.label}: {self.headline()}"]
        for row in self.targets.head(6).itertuples():
            lines.append(f"  {row.from_node} → {row.to_node}: {row.returns:,} ({row.share:.1%})")
        return "\n".join(lines) + ">"

    def _html_heading(self) -> list[str]:
        return [f"Rework: {self.scope.label}", self.headline()]

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.by_node.head(self.HTML_ROWS), self.targets, self.effect]

    def plot(self, ax=None):
        """Bars: returns by source node, stacked by target node."""
        with chart_style():
            ax = rows_axes(ax, len(self.by_node), width=8, per_row=0.4)
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
                    n_boot: int = 2000, confidence: float = 0.95,
                    events: ScopeEvents | None = None) -> ReworkResult:
    """Rework statistics of the cases in scope (`cases` = the case table of the scope,
    `events` = its events if already read)."""
    ev = events if events is not None else read_events(log, scope.process_type)
    facts = {**rework_facts(ev, cases), **variant_facts(cases)}
    return rework_from_facts(facts, scope, seed=seed, n_boot=n_boot, confidence=confidence,
                             cases=cases)


def rework_facts(ev: ScopeEvents, cases: pd.DataFrame) -> dict:
    """The facts (`officemine.discovery._facts`) of rework: returns by source and target,
    decisions and returns by node, cases by rounds and with a return (its cycle times are the
    variants' facts)."""
    rounds = cases.groupby("rounds").size()
    return {"targets": _targets(ev), "decisions": _by_node(ev),
            "rounds": table("rounds", {"rounds": rounds.index.to_numpy(np.int64),
                                       "cases": rounds.to_numpy(np.int64)}),
            "cases_with_returns": int((cases["returns"] > 0).sum())}


def rework_from_facts(facts, scope: Scope, *, seed: int = 0, n_boot: int = 2000,
                      confidence: float = 0.95,
                      cases: pd.DataFrame | None = None) -> ReworkResult:
    """Rework from its facts and the variants' (`cases`: the case table, on one machine)."""
    t = facts["targets"]
    targets = pd.DataFrame({"from_node": pd.Series(t["from_node"].to_numpy(object), dtype="str"),
                            "to_node": pd.Series(t["to_node"].to_numpy(object), dtype="str"),
                            "returns": t["returns"].to_numpy(np.int32)})
    targets = targets.sort_values(["returns", "from_node", "to_node"],
                                  ascending=[False, True, True], kind="stable")
    targets = targets.reset_index(drop=True)
    total = int(targets["returns"].sum())
    targets["share"] = targets["returns"] / total if total else np.nan
    d = facts["decisions"]
    by_node = pd.DataFrame({
        "node": pd.Series(d["node"].to_numpy(object), dtype="str"),
        "decisions": d["decisions"].to_numpy(np.int32),
        "returns": d["returns"].to_numpy(np.int32),
        "cases_returned": d["cases_returned"].to_numpy(np.int32)})
    by_node = by_node[by_node["decisions"] > 0]
    by_node = by_node.sort_values(["returns", "decisions", "node"],
                                  ascending=[False, False, True], kind="stable")
    by_node = by_node.reset_index(drop=True)
    by_node["return_rate"] = by_node["returns"] / by_node["decisions"]
    by_node["share_of_returns"] = by_node["returns"] / total if total else np.nan

    n_cases = int(facts["paths"]["cases"].sum())
    r = facts["rounds"].sort_values("rounds")
    rounds = pd.DataFrame({"rounds": r["rounds"].to_numpy(np.int32),
                           "cases": r["cases"].to_numpy(np.int64)})
    rounds["share"] = rounds["cases"] / max(n_cases, 1)

    rng = np.random.default_rng(seed)
    rows = []
    for basis, name in (("clock hours", "hours"), ("working days", "workdays")):
        mine = facts[f"cycle_{name}"]
        returned = mine["returned"].to_numpy() > 0
        values, counts = mine["value"].to_numpy(float), mine["n"].to_numpy(np.int64)
        a = expanded(values[returned], counts[returned])
        b = expanded(values[~returned], counts[~returned])
        rows.append({"basis": basis, "n_with": len(a), "n_without": len(b),
                     "median_with": median(a), "median_without": median(b),
                     "difference": median(a) - median(b) if len(a) and len(b) else np.nan,
                     **_bootstrap_median_difference(a, b, rng, n_boot, confidence),
                     "mannwhitney_p": _mannwhitney(a, b)})
    effect = pd.DataFrame(rows)
    return ReworkResult(by_node=by_node, targets=targets, rounds=rounds, effect=effect,
                        scope=scope, n_cases=n_cases,
                        cases_with_returns=int(facts["cases_with_returns"]), n_returns=total,
                        seed=seed, n_boot=n_boot, confidence=confidence,
                        cases=(cases[["case_id", "returns", "rounds", "completed"]]
                               if cases is not None else None))


def _targets(ev: ScopeEvents) -> pd.DataFrame:
    """Returns by source node and target: the node of the next blocking event in the case.

    Read off the visits: a return that is its visit's last event goes to the next visit's
    node (nowhere when the case ends there); any other return is followed by an event of its
    own visit, so it goes back to the same node.
    """
    v, n = ev.visits, len(ev.nodes)
    last_is_return = np.isin(v.exit, ev.codes(["return"]))
    following = np.full(len(v), -1)                  # -1: the case ends
    following[v.next_in_case] = v.node[np.flatnonzero(v.next_in_case) + 1]
    source = np.concatenate([v.node[last_is_return], v.node])
    target = np.concatenate([following[last_is_return], v.node])
    count = np.concatenate([np.ones(int(last_is_return.sum()), dtype=np.int64),
                            v.returns - last_is_return])
    per_key = np.bincount(source * (n + 1) + target + 1, weights=count,
                          minlength=n * (n + 1)).astype(np.int64)
    used = np.flatnonzero(per_key)
    return table("targets", {
        "from_node": [ev.nodes[k // (n + 1)] for k in used],
        "to_node": [ev.nodes[k % (n + 1) - 1] if k % (n + 1) else NO_NEXT for k in used],
        "returns": per_key[used]})


def _by_node(ev: ScopeEvents) -> pd.DataFrame:
    """Decisions, returns and cases returned at each node that takes decisions."""
    n = len(ev.nodes)
    decision = np.isin(ev.outcome, ev.codes(DECISIONS))
    ret = np.isin(ev.outcome, ev.codes(["return"]))
    decisions = np.bincount(ev.node[decision], minlength=n)
    used = np.flatnonzero(decisions)
    return table("decisions", {
        "node": [ev.nodes[k] for k in used],
        "decisions": decisions[used].astype(np.int64),
        "returns": np.bincount(ev.node[ret], minlength=n)[used].astype(np.int64),
        "cases_returned": count_distinct(ev.node[ret], ev.case[ret], n)[used].astype(np.int64)})


def _bootstrap_median_difference(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                                 n_boot: int, confidence: float) -> dict:
    """Percentile bootstrap interval of median(a) − median(b), resampling each group
    (`n_boot` medians of each, drawn by `bootstrap_medians`)."""
    if len(a) < 2 or len(b) < 2:
        return {"ci_low": np.nan, "ci_high": np.nan}
    diffs = bootstrap_medians(a, rng, n_boot) - bootstrap_medians(b, rng, n_boot)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    return {"ci_low": float(lo), "ci_high": float(hi)}


def bootstrap_medians(x: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """Medians of `n_boot` bootstrap resamples of `x`, drawn without building the resamples.

    A resample is n draws x[⌊n·U⌋] of n uniforms U; as ⌊n·u⌋ never decreases in u, its k-th
    smallest value is x₍⌊n·U₍ₖ₎⌋₎ (x sorted), where U₍ₖ₎, the k-th smallest of n uniforms, is
    Beta(k, n − k + 1). For odd n the median is that value at k = (n + 1)/2; for even n it is
    the mean of the values at k = n/2 and k + 1, where U₍ₖ₊₁₎ = U₍ₖ₎ + (1 − U₍ₖ₎)·Beta(1, n − k)
    (the smallest of the n − k uniforms above U₍ₖ₎). So a resample costs one or two random
    numbers instead of n, and the medians have the distribution resampling gives them.

    >>> bootstrap_medians(np.array([3.0, 1.0, 2.0]), np.random.default_rng(0), 4).shape
    (4,)
    """
    s = np.sort(np.asarray(x, dtype=float))
    n = len(s)
    at = (lambda u: s[np.minimum((n * u).astype(np.int64), n - 1)])
    k = (n + 1) // 2
    u = rng.beta(k, n - k + 1, size=n_boot)
    if n % 2:
        return at(u)
    u_next = u + (1.0 - u) * rng.beta(1, n - k, size=n_boot)
    return (at(u) + at(u_next)) / 2


def _mannwhitney(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
