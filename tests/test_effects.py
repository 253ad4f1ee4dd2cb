"""Before/after with a control: a redesign's effect estimated against the types that did not
change (difference in differences) or against the pre-change trend, beside the naive
comparison, on offices whose truth is known."""

from __future__ import annotations

from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from officemine.log import relations

from officemine.effects import MEASURES, redesign_effect
from officemine.synthetic import Redesign, default_office_spec, generate

matplotlib.use("Agg")
DATE = "2025-05-01"
REMOVE = {"remove_nodes": ("综合办公室审核",)}


def _office(spec, redesigns, seed):
    return generate(spec, start="2025-01-01", end="2025-08-31", seed=seed, redesigns=redesigns)


def _true_change(a, b, process: str) -> float:
    """Geometric-mean change of the cycle time of `process`'s cases started after the date,
    office b against office a (the same cases: common random numbers)."""
    def cycles(log):
        c = log.cases
        c = c[(c["process_type"] == process) & c["closed_at"].notna()
              & (c["submitted_at"] >= pd.Timestamp(DATE, tz="Asia/Shanghai"))]
        return c.set_index("case_id")

    ca, cb = cycles(a), cycles(b)
    ids = ca.index.intersection(cb.index)
    hours = (lambda c: (c.loc[ids, "closed_at"] - c.loc[ids, "submitted_at"]).dt.total_seconds())
    return float(np.expm1(np.mean(np.log(hours(cb))) - np.mean(np.log(hours(ca)))))


def test_a_general_slowdown_is_not_credited_to_the_redesign():
    """Every process slows down by 60% from May; 费用报销 also drops a step. The naive
    comparison sees a small gain; against the other types the step's real effect comes out."""
    spec = default_office_spec()
    slow = {p.name: {n.name: 1.6 for n in p.nodes} for p in spec.processes}
    general = [Redesign(p, delay_scale=s, effective=DATE) for p, s in slow.items()]
    both = [r if r.process != "费用报销" else replace(r, **REMOVE) for r in general]
    a, b = _office(spec, general, seed=3), _office(spec, both, seed=3)
    truth = _true_change(a, b, "费用报销")
    effect = redesign_effect(b.to_eventlog(), DATE, "费用报销", n_boot=400)
    row = effect.summary.set_index("key").loc["cycle_time"]
    assert effect.method == "difference_in_differences"
    assert set(effect.control) == {p.name for p in spec.processes} - {"费用报销"}
    assert row["ci_low"] <= truth <= row["ci_high"], (truth, row.to_dict())
    assert abs(row["effect"] - truth) < 0.08
    assert abs(row["naive_change"] - truth) > 0.2              # the naive figure is misled
    assert row["status"] == "met" and row["clear_of_zero"]
    assert effect.summary.set_index("key").loc[["cycle_time", "handoffs"], "n_before"].min() > 100


def test_without_a_control_the_pre_change_trend_is_the_counterfactual():
    spec = default_office_spec()
    fee = spec.process("费用报销")
    alone = replace(spec, processes=(fee,))
    a = _office(alone, [], seed=4)
    b = _office(alone, [Redesign("费用报销", effective=DATE, **REMOVE)], seed=4)
    truth = _true_change(a, b, "费用报销")
    effect = redesign_effect(b.to_eventlog(), DATE, "费用报销", n_boot=300)
    row = effect.summary.set_index("key").loc["cycle_time"]
    assert effect.method == "interrupted_time_series" and effect.control == ()
    assert "trend" in effect.assumption
    assert row["ci_low"] <= truth <= row["ci_high"], (truth, row.to_dict())


def test_the_three_targets_and_what_cannot_be_measured(sample_csv):
    import officemine

    log = officemine.import_log(sample_csv)
    effect = redesign_effect(log, "2025-07-01", "费用报销", until="2025-11-01", n_boot=200)
    s = effect.summary.set_index("key")
    assert list(s.index) == [m.key for m in MEASURES]
    assert s["target"].tolist() == [0.30, 0.40, 0.25]
    assert s.loc["noncompliance", "status"] == "not measurable"     # no procedures given
    assert set(s["status"]) <= {"met", "not met", "not measurable"}
    assert any("not measurable without standard procedures" in n for n in effect.notes)
    # with a conformance result the error rate is measured too
    deviating = pd.Series(np.where(np.arange(log.n_cases) % 10 == 0, 1.0, 0.0),
                          index=relations.cases(log)["case_id"])
    measured = redesign_effect(log, "2025-07-01", "费用报销", until="2025-11-01",
                               deviating=deviating, n_boot=200)
    error_rate = measured.summary.set_index("key").loc["noncompliance"]
    assert np.isfinite(error_rate["effect"]) and error_rate["n_before"] > 100
    # a planted 1-in-10 rate did not change: no target can be claimed
    assert error_rate["status"] in ("not met", "not measurable")
    data = effect.to_dict()
    assert data["method"] == "difference_in_differences" and "parallel trends" in data["assumption"]
    assert "RedesignEffect" in repr(effect) and "<table" in effect._repr_html_()
    assert effect.plot().figure is not None
    with pytest.raises(officemine.OfficemineError, match="date must be"):
        redesign_effect(log, "soon", "费用报销")
