"""The replay against the truth: logs from the seeded generator, where the true effect of each
redesign is known because the same office is run twice with common random numbers
(`officemine.simulation.coverage.KINDS`: remove, reduce_returns at 80% and 100%, short_route,
fast_track).

The estimand is the reduction of the median and the mean cycle time (clock hours, submission to
archive or final decision) of the cases the replay can see: those completed in the observed
as-is log (`log_truth`). The replay must be within 3 percentage points of the truth, and its
95% interval must cover it.
"""

from __future__ import annotations

import numpy as np
import pytest

from officemine.simulation import simulate
from officemine.simulation import coverage
from officemine.simulation.coverage import log_truth
from officemine.synthetic import OfficeSpec, default_office_spec

START, END, SEED, RATE = "2025-01-01", "2025-04-30", 5, 4.0
TOLERANCE_PP = 3.0


@pytest.fixture(scope="module")
def spec() -> OfficeSpec:
    return default_office_spec()


def _runs(kind: str):
    return lambda spec: coverage.KINDS[kind].runs(spec, start=START, end=END, seed=SEED,
                                                  rate_scale=RATE)


#: kind -> (spec -> (as-is, redesigned) logs at this module's settings, scenario); the form
#: tests/test_shapes_agree.py reads
KINDS = {kind: (_runs(kind), known.scenario) for kind, known in coverage.KINDS.items()}


def truth(as_is, redesigned, case_ids) -> tuple[float, float]:
    """True median and mean reduction (%) of clock-hour cycle time over the given cases."""
    t = log_truth(as_is, redesigned, case_ids)
    return t["median"], t["mean"]


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
