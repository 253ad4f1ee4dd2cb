"""The stochastic engine: validated against the log before any redesign, roughly right against
the generator's truth, reproducible, and honest when its fit is poor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from officemine.simulation import Remove, Scenario, simulate
from officemine.simulation import stochastic
from officemine.simulation.coverage import log_truth
from officemine.synthetic import Redesign, compare_redesign, default_office_spec

REMOVE = Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")


@pytest.fixture(scope="module")
def truth():
    return compare_redesign(default_office_spec(),
                            Redesign("费用报销", remove_nodes=("综合办公室审核",)),
                            start="2025-01-01", end="2025-04-30", seed=5, rate_scale=2)


@pytest.fixture(scope="module")
def small_log():
    from officemine.synthetic import generate

    return generate(default_office_spec(), start="2025-03-01", end="2025-04-15",
                    seed=3).to_eventlog()


@pytest.fixture(scope="module")
def result(truth):
    return simulate(truth.as_is.to_eventlog(), REMOVE, engine="stochastic", replications=4,
                    seed=2)[0]


def test_as_is_model_is_validated_against_the_log(result):
    v = result.validation
    assert v["replications"] == 4 and v["ngram_n"] == 3
    assert abs(v["as_is_median_error_pct"]) < 15 and abs(v["as_is_mean_error_pct"]) < 15
    assert v["emd_hours"] < 0.15 * result.baseline.mean_h
    assert 0 <= v["ngram_distance"] < 0.1
    assert v["verdict"] in ("good", "fair")
    assert not any("poorly" in w for w in result.warnings)


def test_estimate_is_close_to_the_truth(truth, result):
    ids = result.cases["case_id"]
    assert ids.str.startswith("r0:").any() and len(result.cases) > 1000
    # what the engine estimates: the reduction of clock-hour cycle time over the process's
    # cases (each to its end); here realised on the log's own cases
    cases = truth.as_is.cases
    true = log_truth(truth.as_is, truth.redesigned,
                     cases.loc[cases["process_type"] == "费用报销", "case_id"])
    # a model of the office, not the office's own cases: within 5 points (the replay: 3)
    assert abs(result.reduction["mean_pct"] - true["mean"]) < 5
    lo, hi = result.reduction["mean_pct_ci"]
    assert lo < result.reduction["mean_pct"] < hi
    # the estimate pools the runs' cases: the reduction of the pooled medians and means shown
    assert result.reduction["median_pct"] == pytest.approx(
        100 * (1 - result.redesign.median_h / result.baseline.median_h))
    assert result.reduction["mean_pct"] == pytest.approx(
        100 * (1 - result.redesign.mean_h / result.baseline.mean_h))
    assert result.indicators["items"]["no_longer_handled"] > 0
    assert result.to_dict()["engine"] == "stochastic"
    json.dumps(result.to_dict())


def test_same_seed_same_numbers(small_log):
    log = small_log
    a = simulate(log, REMOVE, engine="stochastic", replications=2, seed=9)
    b = simulate(log, REMOVE, engine="stochastic", replications=2, seed=9)
    assert a.to_json() == b.to_json() and a.seed == 9


def test_a_poor_fit_is_a_warning(small_log, monkeypatch):
    monkeypatch.setitem(stochastic.POOR, "ngram", -1.0)         # nothing passes now
    r = simulate(small_log, REMOVE, engine="stochastic", replications=2)[0]
    assert r.validation["verdict"] == "poor"
    assert "reproduces the log poorly" in r.warnings[0]


def test_ngram_distance():
    a = [("发起", "A", "B", "归档")] * 3
    assert stochastic.ngram_distance(a, a) == 0
    assert stochastic.ngram_distance(a, [("X", "C", "D", "Y")]) == pytest.approx(1)
    assert 0 < stochastic.ngram_distance(a, [("发起", "A", "C", "归档")]) < 1


def test_common_random_numbers_line_up_cases(truth):
    from officemine.log.calendar import Calendar
    from officemine.simulation._log import load_tables

    tables = load_tables(truth.as_is.to_eventlog(), Calendar())
    model = stochastic.learn(tables)
    plan = stochastic._plan(REMOVE, tables, model)
    a = stochastic.run(model, None, seed=1, replication=0)
    b = stochastic.run(model, plan, seed=1, replication=0)
    assert (a.process, a.index, a.start) == (b.process, b.index, b.start)
    bx = np.array(a.process) == next(p.code for p in model.processes if p.name == "费用报销")
    other = ~bx
    np.testing.assert_array_equal(np.array(a.end)[other], np.array(b.end)[other])
    assert (np.array(b.end)[bx] <= np.array(a.end)[bx] + 1e-6).mean() > 0.9


REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.mark.skipif(not (REAL / "DomesticDeclarations.xes.gz").exists(),
                    reason="the BPIC 2020 logs (../shared/data/real) are absent")
def test_domestic_declarations_beats_simods_bar():
    """BPIC 2020 Domestic Declarations, 5 replications: Simod 5.2.1's best is a cycle-time
    Wasserstein distance of about 40 h (median +20%, mean +3%). Measured here (seeds 0-3):
    10-14 h, median -1.4%, mean -0.1 to -4.0%, 3-gram distance 0.011-0.016; the payment runs
    on Mondays and Thursdays are learnt as batches."""
    import officemine
    from officemine.log.calendar import Calendar

    root = Path(__file__).resolve().parents[1]
    log = officemine.import_log(str(REAL / "DomesticDeclarations.xes.gz"),
                                mapping=str(root / "mappings" / "bpic2020.toml"),
                                timezone="Europe/Amsterdam")
    cal = Calendar(hours=(("08:30", "17:30"),), region="none", tz="Europe/Amsterdam")
    sc = Scenario.from_dict({"name": "drop BUDGET OWNER",
                             "change": [{"kind": "remove", "node": "BUDGET OWNER"}]})
    r = simulate(log, sc, engine="stochastic", replications=5, seed=0, calendar=cal,
                 since="all")[0]
    v = r.validation
    assert v["emd_hours"] < 20
    assert abs(v["as_is_median_error_pct"]) < 5 and abs(v["as_is_mean_error_pct"]) < 5
    assert v["ngram_distance"] < 0.05
    assert v["verdict"] == "good"
    assert any("Payment Handled acts in batches" in n
               for n in r.extra["model"]["batched_nodes"])


def test_a_step_that_always_returns_never_loops(small_log):
    """A step the source did not name (BPI Challenge's MISSING) that returns every item it
    sees used to be simulated as a check with P(return) = 1: every case looped for ever."""
    import signal

    import pandas as pd

    from officemine.log.eventlog import EventLog
    from officemine.log.relations import node_kinds

    events = small_log.to_pandas()
    # after each case's first approval at 部门负责人审核, an unnamed step returns the item
    first = events[(events["node"] == "部门负责人审核") & (events["outcome"] == "approve")]
    first = first.groupby("case_id").head(1)
    missing = first.assign(node="MISSING", outcome="return", seq=first["seq"],
                           acted_at=first["acted_at"] + pd.Timedelta(minutes=1),
                           arrived_at=first["acted_at"], wait_start=first["acted_at"])
    events = pd.concat([events, missing]).sort_values(["case_id", "acted_at"], kind="stable")
    events["seq"] = events.groupby("case_id").cumcount().astype("int32")
    log = EventLog.from_pandas(events[[c for c in events.columns]], timezone=small_log.timezone)
    assert node_kinds(log).set_index("node").loc["MISSING", "kind"] == "unknown"

    def too_long(*_):
        raise TimeoutError("the stochastic engine did not finish: a case loops")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(300)
    try:
        r = simulate(log, Scenario("x", [Remove(node="综合办公室审核")], process="费用报销"),
                     engine="stochastic", replications=1, seed=0)[0]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert r.validation["cases"] > 0


def test_one_clock_whatever_the_log_zone(small_log):
    """Weekdays, dates and office hours are all read on the calendar's clock: the same
    instants and calendar give the same model and fidelity whatever zone the log was imported
    in. The archive runs in batches on Monday and Thursday at 09:31 Shanghai time, which is
    Sunday and Wednesday evening in New York: read on the log's clock, the batch weekdays,
    the workday table and the batch slots would shift."""
    import pandas as pd

    from officemine.log.eventlog import EventLog
    from officemine.simulation._log import load_tables

    events = small_log.to_pandas()
    archive = events["outcome"] == "archive"
    t = events.loc[archive, "acted_at"]
    # the next Monday or Thursday at 09:31 after the day the item was archived
    ahead = ((0 - t.dt.day_of_week) % 7).where(lambda d: d < ((3 - t.dt.day_of_week) % 7),
                                                (3 - t.dt.day_of_week) % 7)
    ahead = ahead.mask(ahead == 0, 3 + 4 * (t.dt.day_of_week == 3))
    events.loc[archive, "acted_at"] = (t.dt.normalize() + pd.to_timedelta(ahead, unit="D")
                                       + pd.Timedelta(hours=9, minutes=31))
    cal = small_log.calendar
    here = EventLog.from_pandas(events, timezone=cal.tz)
    there = EventLog.from_pandas(events, timezone="America/New_York")
    models = [stochastic.learn(load_tables(log, cal)) for log in (here, there)]
    notes = [[b.note for b in m.batches.values()] for m in models]
    assert notes[0] == notes[1] == ["归档 acts in batches on weekdays Mon; Thu"]
    assert notes[0][0].text("zh") == "归档 在周一；周四成批办理"          # a catalogue sentence
    np.testing.assert_array_equal(models[0].day_weekday, models[1].day_weekday)
    assert models[0].day_start == models[1].day_start
    assert models[0].origin == models[1].origin
    a, b = (simulate(log, REMOVE, engine="stochastic", replications=1, seed=4,
                     calendar=cal)[0].validation for log in (here, there))
    assert (a["emd_hours"], a["ngram_distance"]) == (b["emd_hours"], b["ngram_distance"])


def test_the_estimate_says_whom_it_concerns():
    """As the replay does: the share of cases the redesign changes and the reduction over them
    alone, with intervals — here against the generator's truth for a short route for claims
    under 5,000 yuan (the cases it concerns, and their own reduction)."""
    from officemine.simulation.coverage import KINDS

    known = KINDS["short_route"]
    as_is, redesigned = known.runs(default_office_spec(), start="2025-01-01", end="2025-04-30",
                                   seed=5, rate_scale=2)
    result = simulate(as_is.to_eventlog(), known.scenario, engine="stochastic",
                      replications=4, seed=2)[0]
    a = result.affected
    cases = as_is.cases[as_is.cases["process_type"] == "费用报销"]
    small = cases.loc[cases["amount"] < 5000, "case_id"]
    true_share = len(small) / len(cases)
    assert 0.1 < true_share < 0.9                       # the office has cases on both sides
    lo, hi = a["share_ci"]
    assert abs(a["share"] - true_share) < 0.08 and lo <= a["share"] <= hi
    true_over_them = log_truth(as_is, redesigned, small)
    assert abs(a["mean_pct"] - true_over_them["mean"]) < 8
    assert a["mean_pct"] > result.reduction["mean_pct"]          # the untouched dilute it
    assert a["mean_pct_ci"][0] <= a["mean_pct"] <= a["mean_pct_ci"][1]
    assert a["cases"] < a["of_cases"] == len(result.cases)
    assert "of the simulated cases" in repr(result)
    assert json.loads(json.dumps(result.to_dict()))["affected"]["cases"] == a["cases"]


def test_the_trace_distance_is_the_same_in_every_process(tmp_path):
    """The validation's n-gram distance sums over a set of n-grams, whose order changes with
    each process's string hashing: the sum must not (it once differed in the last digits)."""
    script = tmp_path / "distance.py"
    script.write_text(
        "import random\n"
        "from officemine.simulation.stochastic import ngram_distance\n"
        "rng = random.Random(7)\n"
        "nodes = [f'节点{i}' for i in range(40)]\n"
        "traces = [[tuple(rng.choice(nodes) for _ in range(rng.randint(2, 9)))\n"
        "           for _ in range(3000)] for _ in range(2)]\n"
        "print(repr(ngram_distance(*traces)))\n", encoding="utf-8")
    printed = {subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONHASHSEED": seed},
                              check=True).stdout
               for seed in ("1", "2", "3")}
    assert len(printed) == 1 and 0.5 < float(printed.pop()) < 0.7
