"""Honest intervals: on logs whose true effect is known, at least 90% of each engine's 95%
intervals cover the truth.

Five redesigns (`officemine.simulation.coverage.KINDS`) on logs of several seeds; each engine
against its own estimand: the replay against the reduction over the log's completed cases,
the stochastic engine against the office's reduction over many cases like the log's (the same
window at many times the volume). Logs are small here to keep the suite fast;
benchmarks/interval_coverage.py measures the same at full size (README, docs/simulation.md).
Before its intervals held the learnt model's uncertainty, an independent check counted 26 of
42 stochastic intervals covering the truth (62%).
"""

from __future__ import annotations

import pytest

from officemine.simulation.coverage import KINDS, coverage, office_truth

START, END = "2025-03-01", "2025-04-30"
REPLAY = dict(seeds=range(1, 7), rate_scale=2.0, replications=400)
STOCHASTIC = dict(seeds=range(1, 5), rate_scale=2.0, replications=6)
#: The office's truth: the window at 24 times the default volume, two runs pooled.
TRUTH = dict(rate_scale=24.0, seeds=(10_000, 10_001))
SHARE = 0.9


def _report(frame) -> str:
    missed = frame[~frame["covered"]]
    return (f"{int(frame['covered'].sum())} of {len(frame)} intervals cover the truth; missed:\n"
            + missed[["kind", "seed", "stat", "estimate", "ci_low", "ci_high", "truth"]]
            .round(2).to_string())


def test_replay_intervals_cover_the_truth_of_the_logs_cases():
    frame = coverage("replay", KINDS, REPLAY["seeds"], start=START, end=END,
                     rate_scale=REPLAY["rate_scale"], replications=REPLAY["replications"])
    print(_report(frame))
    assert len(frame) == 5 * 6 * 3
    assert frame["covered"].mean() >= SHARE, _report(frame)


@pytest.fixture(scope="module")
def office():
    return {kind: office_truth(kind, start=START, end=END, **TRUTH) for kind in KINDS}


def test_stochastic_intervals_cover_the_offices_truth(office):
    frame = coverage("stochastic", KINDS, STOCHASTIC["seeds"], start=START, end=END,
                     rate_scale=STOCHASTIC["rate_scale"],
                     replications=STOCHASTIC["replications"], office=office)
    print(_report(frame))
    assert len(frame) == 5 * 4 * 3
    assert frame["covered"].mean() >= SHARE, _report(frame)
    # not by being uselessly wide: the mean's interval is a few points either side
    mean = frame[frame["stat"] == "mean"]
    assert ((mean["ci_high"] - mean["ci_low"]) / 2).median() < 8, _report(mean)
