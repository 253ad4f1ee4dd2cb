"""Do the engines' intervals cover the truth? Redesigns whose true effect is known.

The seeded generator (`officemine.synthetic`) runs the same office twice with common random
numbers, as-is and redesigned, so the true effect of a redesign on every case is known. Five
kinds (`KINDS`): ``remove`` and ``reduce_returns`` (fractions 0.8 and 1.0) are a `Redesign`
(``remove_nodes``, ``return_scale = 1 - fraction``); ``short_route`` and ``fast_track``, which
`Redesign` cannot express, are a second office whose chain has `When` conditions on the nodes
left out (``When(min_amount=5000)``: skipped by claims under 5,000 yuan;
``When(urgency="普通")``: skipped by urgent cases). The generator keys every draw by process,
case and node, so the two runs share every random number.

The two engines estimate different things, and each is compared with its own truth:

* the **replay** re-runs the log's completed cases: its estimate is the reduction over those
  cases (`log_truth`), its interval that of cases like them (a case bootstrap);
* the **stochastic** engine generates new cases from a model learnt from the log: its estimate
  is the reduction the redesign brings to the office over many cases like the log's — every
  case of the scenario's process type submitted in the log's window, each run to its end
  (`office_truth`: the same office and window at many times the volume).

Reductions are of the median, mean and p90 of clock-hour cycle time (submission to the final
event), 100 × (1 − redesigned / as-is). `coverage` runs an engine on logs of several seeds and
says which 95% intervals cover the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from officemine.simulation.scenario import (FastTrack, ReduceReturns, Remove, Scenario,
                                            ShortRoute)

STATS = ("median", "mean", "p90")


@dataclass(frozen=True)
class Known:
    """A redesign of the default office and its scenario: ``runs(spec, **kwargs)`` gives the
    as-is and the redesigned `SyntheticLog` (``kwargs`` of `officemine.synthetic.generate`)."""

    name: str
    scenario: Scenario
    runs: Callable


def _redesign(redesign_kwargs: dict) -> Callable:
    def runs(spec, **kwargs):
        from officemine.synthetic import Redesign, compare_redesign

        truth = compare_redesign(spec, Redesign(**redesign_kwargs), **kwargs)
        return truth.as_is, truth.redesigned
    return runs


def _conditional(process: str, keep: set[str], **condition) -> Callable:
    def runs(spec, **kwargs):
        from officemine.synthetic import generate

        return generate(spec, **kwargs), generate(with_when(spec, process, keep, **condition),
                                                  **kwargs)
    return runs


def with_when(spec, process: str, keep: set[str], **condition):
    """The office where ``process``'s nodes outside ``keep`` are skipped unless ``condition``
    holds."""
    from officemine.synthetic import When

    proc = spec.process(process)
    nodes = tuple(n if n.name in keep else replace(n, when=replace(n.when or When(), **condition))
                  for n in proc.nodes)
    return replace(spec, processes=tuple(replace(p, nodes=nodes) if p.name == process else p
                                         for p in spec.processes))


KINDS: dict[str, Known] = {k.name: k for k in (
    Known("remove",
          Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销"),
          _redesign(dict(process="费用报销", remove_nodes=("综合办公室审核",)))),
    Known("reduce_returns",
          Scenario("一次性告知", [ReduceReturns(node="财务初审", fraction=0.8)], process="费用报销"),
          _redesign(dict(process="费用报销", return_scale={"财务初审": 0.2}))),
    Known("reduce_returns_all",
          Scenario("法务一次性告知", [ReduceReturns(node="法务审核", fraction=1.0)],
                   process="合同审批"),
          _redesign(dict(process="合同审批", return_scale={"法务审核": 0.0}))),
    Known("short_route",
          Scenario("一审一核", [ShortRoute(when="amount < 5000", nodes=["部门负责人审核", "财务初审"])],
                   process="费用报销"),
          _conditional("费用报销", {"部门负责人审核", "财务初审"}, min_amount=5000)),
    Known("fast_track",
          Scenario("绿色通道", [FastTrack(when='urgency == "紧急"', nodes=["主要领导批示"])],
                   process="收文"),
          _conditional("收文", {"主要领导批示"}, urgency="普通")),
)}


def reductions(base_hours, redesign_hours) -> dict[str, float]:
    """Reduction (%) of the median, mean and p90 from ``base_hours`` to ``redesign_hours``."""
    a, b = np.asarray(base_hours, float), np.asarray(redesign_hours, float)
    return {"median": 100 * (1 - np.median(b) / np.median(a)),
            "mean": 100 * (1 - b.mean() / a.mean()),
            "p90": 100 * (1 - np.quantile(b, 0.9) / np.quantile(a, 0.9))}


def _hours(log, case_ids) -> np.ndarray:
    c = log.cases.set_index("case_id").loc[case_ids]
    return ((c["closed_at"] - c["submitted_at"]).dt.total_seconds() / 3600).to_numpy()


def log_truth(as_is, redesigned, case_ids) -> dict[str, float]:
    """The replay's truth: the reduction over these cases (those completed in the as-is log)."""
    return reductions(_hours(as_is, case_ids), _hours(redesigned, case_ids))


def office_truth(kind: str, *, start, end, rate_scale: float, seeds: Iterable[int] = (0,),
                 spec=None) -> dict[str, float]:
    """The stochastic engine's truth: the reduction over every case of the scenario's process
    type submitted in the window (each run to its end), at ``rate_scale`` times the default
    volume, the runs of all ``seeds`` pooled — many cases, so little noise."""
    from officemine.synthetic import default_office_spec

    spec = spec or default_office_spec()
    known = KINDS[kind]
    base, red = [], []
    for seed in seeds:
        a, b = known.runs(spec, start=start, end=end, seed=seed, rate_scale=rate_scale)
        ids = a.cases.loc[a.cases["process_type"].isin(known.scenario.process), "case_id"]
        base.append(_hours(a, ids))
        red.append(_hours(b, ids))
    return reductions(np.concatenate(base), np.concatenate(red))


def coverage(engine: str, kinds: Iterable[str], seeds: Iterable[int], *, start, end,
             rate_scale: float, replications: int, office: dict[str, dict] | None = None,
             spec=None, sim_seed: int = 1) -> pd.DataFrame:
    """Run ``engine`` on the as-is log of each kind and seed; one row per interval: the
    estimate, its 95% interval, the truth (the replay's: `log_truth`; the stochastic's:
    ``office[kind]``, from `office_truth`) and whether the interval covers it; beside it, the
    reduction realised on this log's cases of the process type (``realised``: for the replay
    the truth itself) and whether the interval covers that."""
    from officemine.simulation import simulate
    from officemine.synthetic import default_office_spec

    spec = spec or default_office_spec()
    rows = []
    for kind in kinds:
        known = KINDS[kind]
        for seed in seeds:
            a, b = known.runs(spec, start=start, end=end, seed=seed, rate_scale=rate_scale)
            result = simulate(a.to_eventlog(), known.scenario, engine=engine,
                              replications=replications, seed=sim_seed)[0]
            if engine == "replay":
                realised = truth = log_truth(a, b, result.cases["case_id"])
            else:
                truth = office[kind]
                ids = a.cases.loc[a.cases["process_type"].isin(known.scenario.process),
                                  "case_id"]
                realised = log_truth(a, b, ids)
            for stat in STATS:
                lo, hi = result.reduction[f"{stat}_pct_ci"]
                rows.append({"engine": engine, "kind": kind, "seed": seed, "stat": stat,
                             "cases": result.n_cases if engine == "replay"
                             else result.validation["cases"],
                             "estimate": result.reduction[f"{stat}_pct"], "ci_low": lo,
                             "ci_high": hi, "truth": truth[stat],
                             "covered": bool(lo <= truth[stat] <= hi),
                             "realised": realised[stat],
                             "covers_realised": bool(lo <= realised[stat] <= hi)})
    return pd.DataFrame(rows)
