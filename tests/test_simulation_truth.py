"""The replay against the truth: logs from the seeded generator, where the true effect of each
redesign is known because the same office is run twice with common random numbers.

For ``remove`` and ``reduce_returns`` the truth is `compare_redesign` with the matching
`Redesign` (``remove_nodes`` / ``return_scale = 1 - fraction``). `Redesign` cannot express
``short_route`` and ``fast_track``; their truth is a second office whose chain has `When`
conditions on the nodes left out (``When(min_amount=5000)``: visited only from 5,000 yuan,
i.e. skipped by claims under 5,000; ``When(urgency="普通")``: skipped by urgent cases). Node
draws are keyed by process, case and node name, so the two runs share every random number.

The estimand is the reduction of the median and the mean cycle time (clock hours, submission to
archive or final decision) of the cases the replay can see: those completed in the observed
as-is log. The replay must be within 3 percentage points of the truth, and its 95% interval
must cover it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from officemine.simulation import (FastTrack, ReduceReturns, Remove, Scenario, ShortRoute,
                                   simulate)
from officemine.synthetic import (OfficeSpec, Redesign, When, compare_redesign,
                                  default_office_spec, generate)

START, END, SEED, RATE = "2025-01-01", "2025-04-30", 5, 4.0
TOLERANCE_PP = 3.0


@pytest.fixture(scope="module")
def spec() -> OfficeSpec:
    return default_office_spec()


def with_when(spec: OfficeSpec, process: str, keep: set[str], **condition) -> OfficeSpec:
    """The office where `process`'s nodes outside `keep` are skipped unless `condition` holds."""
    proc = spec.process(process)
    nodes = tuple(n if n.name in keep else replace(n, when=replace(n.when or When(), **condition))
                  for n in proc.nodes)
    return replace(spec, processes=tuple(replace(p, nodes=nodes) if p.name == process else p
                                         for p in spec.processes))


def truth(as_is, redesigned, case_ids: pd.Series) -> tuple[float, float]:
    """True median and mean reduction (%) of clock-hour cycle time over the given cases."""
    def hours(log):
        c = log.cases.set_index("case_id").loc[case_ids]
        return ((c["closed_at"] - c["submitted_at"]).dt.total_seconds() / 3600).to_numpy()

    a, b = hours(as_is), hours(redesigned)
    return 100 * (1 - np.median(b) / np.median(a)), 100 * (1 - b.mean() / a.mean())


def _redesign_truth(spec, redesign):
    t = compare_redesign(spec, redesign, start=START, end=END, seed=SEED, rate_scale=RATE)
    return t.as_is, t.redesigned


def _spec_truth(spec, process, keep, **condition):
    kwargs = dict(start=START, end=END, seed=SEED, rate_scale=RATE)
    return generate(spec, **kwargs), generate(with_when(spec, process, keep, **condition), **kwargs)


KINDS = {
    "remove": (
        lambda spec: _redesign_truth(spec, Redesign("费用报销", remove_nodes=("综合办公室审核",))),
        Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")),
    "reduce_returns": (
        lambda spec: _redesign_truth(spec, Redesign("费用报销", return_scale={"财务初审": 0.2})),
        Scenario("一次性告知", [ReduceReturns(node="财务初审", fraction=0.8)], process="费用报销")),
    "reduce_returns_all": (
        lambda spec: _redesign_truth(spec, Redesign("合同审批", return_scale={"法务审核": 0.0})),
        Scenario("法务一次性告知", [ReduceReturns(node="法务审核", fraction=1.0)], process="合同审批")),
    "short_route": (
        lambda spec: _spec_truth(spec, "费用报销", {"部门负责人审核", "财务初审"}, min_amount=5000),
        Scenario("一审一核", [ShortRoute(when="amount < 5000", nodes=["部门负责人审核", "财务初审"])],
                 process="费用报销")),
    "fast_track": (
        lambda spec: _spec_truth(spec, "收文", {"主要领导批示"}, urgency="普通"),
        Scenario("绿色通道", [FastTrack(when='urgency == "紧急"', nodes=["主要领导批示"])],
                 process="收文")),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_replay_recovers_the_true_effect(spec, kind):
    make_truth, scenario = KINDS[kind]
    as_is, redesigned = make_truth(spec)
    result = simulate(as_is.to_eventlog(), scenario, seed=1, replications=500)[0]
    cases = result.cases
    assert len(cases) > 200
    # the baseline is the generator's own cycle time of those cases
    true_base = as_is.cases.set_index("case_id").loc[cases["case_id"]]
    np.testing.assert_allclose(
        cases["baseline_hours"],
        (true_base["closed_at"] - true_base["submitted_at"]).dt.total_seconds() / 3600, atol=1e-9)
    true_median, true_mean = truth(as_is, redesigned, cases["case_id"])
    red = result.reduction
    report = (f"{kind}: median {red['median_pct']:.2f} (truth {true_median:.2f}, CI "
              f"{red['median_pct_ci']}), mean {red['mean_pct']:.2f} (truth {true_mean:.2f}, CI "
              f"{red['mean_pct_ci']})")
    print(report)
    assert abs(red["median_pct"] - true_median) <= TOLERANCE_PP, report
    assert abs(red["mean_pct"] - true_mean) <= TOLERANCE_PP, report
    assert red["median_pct_ci"][0] <= true_median <= red["median_pct_ci"][1], report
    assert red["mean_pct_ci"][0] <= true_mean <= red["mean_pct_ci"][1], report
    assert result.validation["emd_hours"] == 0.0
