"""One meaning of the log, whatever shape the office exported it in.

The same known-truth office (`officemine.synthetic`, common random numbers) is exported as the
canonical CSV, XES, a Weaver e-cology folder, DingTalk and Feishu API JSON and a plain export
where each attempt is its own request with an opaque id, imported with the defaults, and
analysed. The necessity figures must agree across the shapes, the replay's estimates for
removing a node and for a short route must be within 3 points of the true effect on every
shape, and the KPI return rate must equal the true share of completed cases with a return.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from officemine.kpis import case_cycles
from officemine.necessity import necessity
from officemine.simulation import simulate
from officemine.synthetic import default_office_spec, export

from test_simulation_truth import KINDS, truth

SHAPES = ("csv", "xes", "weaver", "dingtalk", "feishu", "csv_attempts")
SUFFIX = {"xes": ".xes", "dingtalk": ".json", "feishu": ".json", "weaver": ""}
TOLERANCE_PP = 3.0


@pytest.fixture(scope="module")
def truths():
    spec = default_office_spec()
    return {kind: KINDS[kind][0](spec) for kind in ("remove", "short_route")}


@pytest.fixture(scope="module")
def imported(truths, tmp_path_factory):
    """(kind, shape) -> (log, export) for both truths and every shape."""
    folder = tmp_path_factory.mktemp("shapes")
    out = {}
    for kind, (as_is, _) in truths.items():
        for shape in SHAPES:
            ex = export(as_is, shape, folder / f"{kind}_{shape}{SUFFIX.get(shape, '.csv')}")
            out[kind, shape] = (ex.import_log(), ex)
    return out


@pytest.mark.parametrize("shape", SHAPES[1:])
def test_necessity_figures_agree_across_shapes(imported, shape):
    canonical = necessity(imported["remove", "csv"][0], since="all").summary.set_index("node")
    other = necessity(imported["remove", shape][0], since="all").summary.set_index("node")
    assert set(other.index) == set(canonical.index)
    rate = (other["rejection_rate"] - canonical["rejection_rate"].reindex(other.index)).abs()
    assert rate.max() <= 0.01, rate.sort_values().tail(3)          # within 1 point
    wait = (other["wait_workhours_median"]
            / canonical["wait_workhours_median"].reindex(other.index) - 1).abs()
    assert wait.max() <= 0.05, wait.sort_values().tail(3)


def _true_case(ex, case_ids: pd.Series) -> pd.Series:
    """The generator's case of each imported case (a linked case is named after its first
    attempt; an attempt left unlinked keeps its own id)."""
    table = ex.instance_to_case
    names = dict(zip(table["instance_id"].astype(str), table["case_id"]))
    return case_ids.astype(str).map(lambda i: names.get(i, i))


@pytest.mark.parametrize("kind", ["remove", "short_route"])
@pytest.mark.parametrize("shape", SHAPES)
def test_replay_estimates_are_true_on_every_shape(imported, truths, kind, shape):
    log, ex = imported[kind, shape]
    result = simulate(log, KINDS[kind][1], seed=1, replications=300, since="all")[0]
    as_is, redesigned = truths[kind]
    true_median, true_mean = truth(as_is, redesigned, _true_case(ex, result.cases["case_id"]))
    red = result.reduction
    report = (f"{kind} on {shape}: median {red['median_pct']:.2f} (truth {true_median:.2f}), "
              f"mean {red['mean_pct']:.2f} (truth {true_mean:.2f})")
    assert abs(red["median_pct"] - true_median) <= TOLERANCE_PP, report
    assert abs(red["mean_pct"] - true_mean) <= TOLERANCE_PP, report


@pytest.mark.parametrize("shape", SHAPES)
def test_the_return_rate_is_the_true_share_of_returned_cases(imported, truths, shape):
    log, ex = imported["remove", shape]
    as_is, _ = truths["remove"]
    cases = case_cycles(log)
    done = cases[cases["ended_at"].notna()]
    ours = float((done["returns"] > 0).mean())
    # the truth: the generator's cases that ended by the end of observation, and of them those
    # returned at least once
    events = as_is.events
    returned = set(events.loc[events["outcome"] == "return", "case_id"])
    end = events["acted_at"].max()
    closed = as_is.cases.loc[as_is.cases["closed_at"] <= end, "case_id"]
    true_share = float(np.mean([c in returned for c in closed]))
    if shape in ("csv", "xes"):                 # every attempt of a case under one id
        assert ours == pytest.approx(true_share, abs=1e-12), (ours, true_share)
    else:       # linked by form values: a resubmission later than the window stays apart
        assert abs(ours - true_share) <= 0.01, (ours, true_share)
