"""The replay engine: hand-computed cases, exact reproduction of the log, determinism, and the
result object (summary, repr, HTML, plot, JSON)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import officemine
from officemine.log.calendar import Calendar
from officemine.simulation import (CapWait, FastTrack, Parallel, RecordOnly, ReduceReturns,
                                   Remove, Scenario, ScenarioError, ShortRoute, SimulationResult,
                                   simulate)
from test_simulation_logs import tiny_log


@pytest.fixture(scope="module")
def tiny():
    return tiny_log()


@pytest.fixture(scope="module")
def sample_log(sample_csv):
    return officemine.import_log(sample_csv)


def redesigned(log, *changes, **kwargs) -> pd.DataFrame:
    result = simulate(log, Scenario("t", list(changes), **kwargs), replications=50)[0]
    return result.cases.set_index("case_id")


# Expected cycle times (clock hours) worked out by hand (tests/test_simulation_logs.py):
# C1 Fri 09:00 → A 5.5 h → X 2.5 h (over the weekend) → Y 4 h: 78.5 h; C2 25 h; C3 2 h; C4 6.5 h;
# C6 8.5 h.
@pytest.mark.parametrize("changes, expected", [
    # A's 5.5 h vanish; X's 2.5 h and Y's 4 h now fit on Friday: 09:00 + 6.5 h = 17:00 → 8 h.
    # C2 keeps X's return (1 h), the resubmission (1.5 h), X (1 h), Y (2.5 h): 6 h → 16:30.
    ([Remove(node="A")], {"C1": 8.0, "C2": 7.5, "C3": 1.0}),
    # 备案制 times like a removal
    ([RecordOnly(node="A")], {"C1": 8.0, "C2": 7.5, "C3": 1.0}),
    # C2's return vanishes with its resubmission round: A 1 h + X 1 h + Y (2nd round) 2.5 h
    ([ReduceReturns(node="X", fraction=1.0, reason="材料不全")], {"C1": 78.5, "C2": 6.0, "C3": 2.0}),
    # X's rejection of C3 vanishes: it continues like C1 (same urgency, nearest amount): Y 4 h
    ([Remove(node="X")], {"C1": 74.5, "C2": 5.0, "C3": 6.5}),
    ([CapWait(node="A", hours=1)], {"C1": 72.5, "C2": 25.0, "C3": 2.0}),
    ([ShortRoute(when="amount < 2000", nodes=["A"])], {"C1": 7.0, "C2": 25.0, "C3": 1.0}),
    ([FastTrack(when='urgency == "紧急"', nodes=["F"])], {"C4": 2.0, "C6": 8.5}),
    # 会签: C4 waits for the slower branch (L, 3 h); in C6's first round F returns the item
    # after 1 h while L is still at it, then resubmission 1 h, then both (max 2 h): 4 h → 14:30
    ([Parallel(nodes=["L", "F"])], {"C4": 3.0, "C6": 5.5}),
])
def test_hand_computed_cycle_times(tiny, changes, expected):
    got = redesigned(tiny, *changes)["redesign_hours"].to_dict()
    assert got == pytest.approx(expected, abs=1e-9)


def test_indicators_count_like_a_manager(tiny):
    result = simulate(tiny, Scenario("t", [Remove(node="A")]), replications=50)[0]
    ind = result.indicators
    assert result.n_cases == 3 and result.population == ("报销",)      # C4 other process, C5 open
    assert ind["approver_hours"]["before"] == pytest.approx(20.5)
    assert ind["approver_hours"]["after"] == pytest.approx(12.0)
    assert (ind["items"]["before"], ind["items"]["after"]) == (10, 6)
    assert ind["handoffs_per_case"]["before"] == pytest.approx(11 / 3)
    assert ind["handoffs_per_case"]["after"] == pytest.approx(7 / 3)
    notice = simulate(tiny, Scenario("n", [ReduceReturns(node="X", fraction=1.0)]),
                      replications=50)[0].indicators
    assert (notice["returns"]["before"], notice["returns"]["avoided"]) == (1, 1)
    assert notice["items"]["no_longer_handled"] == 2               # C2's second A and X
    rec = simulate(tiny, Scenario("r", [RecordOnly(node="A")]), replications=50)[0]
    assert rec.indicators["items"]["informed_only"] == 4      # C2 informed in both rounds


def test_working_days_follow_the_calendar(tiny):
    cases = redesigned(tiny, Remove(node="A"))
    assert cases.loc["C1", "baseline_workdays"] == pytest.approx(12 / 7)
    assert cases.loc["C1", "redesign_workdays"] == pytest.approx(6.5 / 7)


def test_no_change_reproduces_every_cycle_time_exactly(sample_log):
    from officemine.discovery._base import case_table, resolve_scope
    from officemine.simulation._log import load_tables
    from officemine.simulation.replay import (as_is_scenario, build_donors, row_arrays,
                                              run_once)

    cal = Calendar()
    tables = load_tables(sample_log, cal)
    rows = row_arrays(tables)
    out = run_once(tables, as_is_scenario(), rows, build_donors(tables, rows), None, {})
    done = tables.cases["completed"].to_numpy()
    assert done.sum() > 1900
    np.testing.assert_array_equal(out["cycle_hours"][done], tables.cases["cycle_hours"][done])
    np.testing.assert_array_equal(out["w_cycle"][done], tables.cases["w_cycle"][done])
    # … and the baseline is the same cycle time the variants analysis reports
    ct = case_table(sample_log, resolve_scope(sample_log, None, cal), cal).set_index("case_id")
    ours = tables.cases.set_index("case_id")["cycle_hours"]
    pd.testing.assert_series_equal(ours[done], ct.loc[ours.index[done], "cycle_hours"],
                                   check_names=False)
    # and the hand-offs are those of the hand-off analysis
    from officemine.discovery.handoffs import discover_handoffs

    ho = discover_handoffs(sample_log, resolve_scope(sample_log, None, cal), cal).per_case
    ho = ho.set_index("case_id")["handoffs"].loc[tables.cases["case_id"][done]]
    np.testing.assert_array_equal(out["handoffs"][done], ho.to_numpy())


def test_same_seed_same_numbers_and_the_seed_is_recorded(sample_log):
    s = Scenario("notice", [ReduceReturns(node="财务初审", fraction=0.5)], process="费用报销")
    a = simulate(sample_log, s, seed=7, replications=200)
    b = simulate(sample_log, s, seed=7, replications=200)
    c = simulate(sample_log, s, seed=8, replications=200)
    assert a.to_json() == b.to_json()
    assert a.seed == 7 and a.to_dict()["seed"] == 7 and a.to_dict()["replications"] == 200
    assert a[0].selection_draws > 1
    assert a[0].reduction["mean_pct_ci"] != c[0].reduction["mean_pct_ci"]


def test_result_object_renders_everywhere(sample_log, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    s1 = Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")
    s2 = Scenario("紧急收文绿色通道", [FastTrack(when='urgency == "紧急"', nodes=["主要领导批示"])],
                  process="收文")
    result = simulate(sample_log, [s1, s2], replications=200, since="all")
    assert isinstance(result, SimulationResult) and len(result) == 2
    assert list(result.summary["scenario"]) == ["取消综合办公室审核", "紧急收文绿色通道"]
    assert result["紧急收文绿色通道"].population == ("收文",)
    first = result[0]
    assert {"indicator", "baseline", "redesign", "reduction_pct"} <= set(first.summary.columns)
    assert "median" in repr(result) and "validation" in repr(first)
    assert "<table" in result._repr_html_() and "<table" in first._repr_html_()
    result.plot().figure.savefig(tmp_path / "bars.png")
    first.plot(lang="en").figure.savefig(tmp_path / "ecdf.png")
    assert (tmp_path / "bars.png").stat().st_size > 5000
    data = json.loads(result.to_json())
    # the issue's contract at the top level (the first scenario), every scenario underneath
    for key in ("scenario", "engine", "seed", "cases", "baseline", "redesign", "reduction",
                "validation"):
        assert key in data
    assert set(data["baseline"]) >= {"median_h", "mean_h", "p90_h"}
    assert set(data["reduction"]) >= {"median_pct", "median_pct_ci", "mean_pct", "mean_pct_ci",
                                      "p90_pct"}
    assert data["validation"] == {**data["validation"], "as_is_median_error_pct": 0.0,
                                  "as_is_mean_error_pct": 0.0, "emd_hours": 0.0}
    assert [s["scenario"] for s in data["scenarios"]] == ["取消综合办公室审核", "紧急收文绿色通道"]
    lo, hi = data["reduction"]["median_pct_ci"]
    assert lo <= data["reduction"]["median_pct"] <= hi
    assert data["engine"] == "replay" and data["cases"] == first.n_cases


def test_bad_arguments_are_domain_errors(tiny):
    s = Scenario("t", [Remove(node="A")])
    with pytest.raises(officemine.OfficemineError, match="engine must be one of replay"):
        simulate(tiny, s, engine="monte-carlo")
    with pytest.raises(officemine.OfficemineError, match="seed must be"):
        simulate(tiny, s, seed=-1)
    with pytest.raises(officemine.OfficemineError, match="replications must be"):
        simulate(tiny, s, replications=0)
    with pytest.raises(officemine.OfficemineError, match="two scenarios are named 't'"):
        simulate(tiny, [s, s])


def test_scenario_changing_nothing_warns(tiny):
    result = simulate(tiny, Scenario("t", [CapWait(node="Y", hours=100)]), replications=20)[0]
    assert result.reduction["median_pct"] == 0 and "changes no completed case" in result.warnings[0]
    assert not math.isnan(result.reduction["median_pct_ci"][0])


def _reference_donors(proc, urg, amount, node, pos, case, recipients, anchors):
    """The donor rule written out per group with pandas (the engine's first form): same
    process and node, same urgency if possible, nearest log-amount (the lower on a tie),
    never the case itself (then a neighbour)."""
    frame = pd.DataFrame({"proc": proc[case], "node": node, "urg": urg[case], "a": amount[case],
                          "pos": pos, "case": case})
    out = np.full(len(recipients), -1, dtype=np.int64)
    for keys in (["proc", "node", "urg"], ["proc", "node"]):
        index = {key: (g["a"].to_numpy(), g["pos"].to_numpy(), g["case"].to_numpy())
                 for key, g in frame.sort_values("a", kind="stable").groupby(keys, sort=False)}
        todo = np.flatnonzero(out < 0)
        want = pd.DataFrame({"proc": proc[recipients[todo]], "node": anchors[todo],
                             "urg": urg[recipients[todo]]})
        for key, g in want.groupby(keys, sort=False):
            if key not in index:
                continue
            a, p, c = index[key]
            for i in todo[g.index.to_numpy()]:
                x, m = amount[recipients[i]], len(a)
                k = min(int(np.searchsorted(a, x)), m - 1)
                k0 = max(k - 1, 0)
                t = k0 if abs(a[k0] - x) <= abs(a[k] - x) else k
                if c[t] == recipients[i]:
                    t = t + 1 if t + 1 < m else max(t - 1, 0)
                out[i] = -1 if c[t] == recipients[i] else p[t]
    return out


@pytest.mark.parametrize("seed, n_nodes", [(0, 5), (1, 5), (2, 5), (3, 70_000)])
def test_donors_are_picked_as_the_written_out_rule(seed, n_nodes):
    from officemine.simulation.replay import _Candidates, _donor_key, _Donors, _pick_donors

    rng = np.random.default_rng(seed)
    n_cases, n_anchors = 300, 400
    proc = rng.integers(-1, 3, n_cases)
    urg = rng.integers(-1, 2, n_cases)
    amount = np.where(rng.random(n_cases) < 0.1, -1.0, np.round(rng.gamma(2, 2, n_cases), 1))
    case = np.sort(rng.integers(0, n_cases, n_anchors))
    pos = np.sort(rng.choice(5000, n_anchors, replace=False))
    node = rng.integers(0, 4, n_anchors)
    # nodes 0-3 have candidates, node 4 none; 70 000 nodes make keys too big for 16 bits
    keys = {u: _donor_key(proc[case], node, urg[case] if u else None, n_nodes, 2)
            for u in (1, 0)}
    donors = _Donors({}, np.zeros(0), proc, urg, amount, n_nodes, 2,
                     _Candidates.of(keys[1], amount[case], pos, case),
                     _Candidates.of(keys[0], amount[case], pos, case))
    recipients = np.sort(rng.choice(n_cases, 120, replace=False))
    anchors = rng.integers(0, 5, len(recipients))
    got = _pick_donors(donors, recipients, anchors)
    expected = _reference_donors(proc, urg, amount, node, pos, case, recipients, anchors)
    np.testing.assert_array_equal(got, expected)
    assert (got >= 0).any() and (got < 0).any()


def test_a_step_the_current_version_no_longer_has_is_refused_with_its_date(sample_log):
    """The sample removed 综合办公室审核 on 2025-07-01: simulating its removal again would
    estimate a saving the office already has."""
    s1 = Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")
    with pytest.raises(ScenarioError, match="'综合办公室审核' was removed on 2025-07-01"):
        simulate(sample_log, s1, replications=50)
    assert simulate(sample_log, s1, replications=50, since="all")[0].summary is not None


def test_every_estimate_says_whom_it_concerns(sample_log):
    """Removing a step concerns only the cases that pass it: the result says how many, and
    the reduction over them alone."""
    from officemine.log import relations

    s1 = Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")
    r = simulate(sample_log, s1, replications=200, since="all")[0]
    a = r.affected
    # the truth: the completed 费用报销 cases that visited the node at all
    visits = relations.events(sample_log, ["case_id", "node"], blocking=True).to_pandas()
    passing = set(visits.loc[visits["node"] == "综合办公室审核", "case_id"])
    cases = r.cases
    expected = cases["case_id"].isin(passing)
    assert a["cases"] == int(expected.sum()) and a["of_cases"] == len(cases)
    assert 0 < a["share"] < 1 and a["share"] == pytest.approx(expected.mean())
    assert a["median_pct"] > r.reduction["median_pct"]            # the untouched dilute it
    assert a["median_pct_ci"][0] <= a["median_pct"] <= a["median_pct_ci"][1]
    assert "concerns" in repr(r) and r.to_dict()["affected"]["cases"] == a["cases"]
    assert "waiting at approval steps (working h, total)" in set(r.summary["indicator"])
