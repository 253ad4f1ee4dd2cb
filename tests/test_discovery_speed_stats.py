"""Discovery's fast paths against their definitions.

The bootstrap of a median draws order statistics instead of resamples
(`rework.bootstrap_medians`): its medians must have the distribution resampling gives. The
analyses cut visits and cases from arrays over the ordered log (`_base.read_events`): their
tables must equal what the definitions, written as plain SQL with window functions, give on
the bundled sample log.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import binom

import officemine
from officemine.log.calendar import Calendar
from officemine.discovery import discover
from officemine.discovery._base import read_events
from officemine.discovery.rework import NO_NEXT, _bootstrap_median_difference, bootstrap_medians
from officemine.log.eventlog import EventLog

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "oa_sample.csv"
DRAWS = 20_000


# --- the bootstrap of a median --------------------------------------------------------------
def _resampled_medians(x: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """The textbook bootstrap: draw every resample, take its median."""
    return np.median(x[rng.integers(0, len(x), size=(n_boot, len(x)))], axis=1)


def _ecdf_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Largest gap between the empirical distribution functions of two samples."""
    grid = np.union1d(a, b)
    fa = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def test_odd_sample_median_follows_the_exact_bootstrap_distribution():
    # n odd, distinct values: the resample's median is <= x_(j) exactly when at least
    # (n + 1)/2 of the n draws fall on the j smallest values, a binomial tail
    x = np.array([3.0, 41.5, 7.2, 19.0, 0.5, 12.25, 88.0, 5.5, 27.0, 9.75, 60.0])
    n, k = len(x), (len(x) + 1) // 2
    meds = bootstrap_medians(x, np.random.default_rng(1), DRAWS)
    s = np.sort(x)
    assert set(np.unique(meds)) <= set(s)
    exact = binom.sf(k - 1, n, np.arange(1, n + 1) / n)
    observed = np.searchsorted(np.sort(meds), s, side="right") / DRAWS
    # DKW: a gap above 0.015 has probability below 3e-4 at 20,000 draws
    assert np.abs(observed - exact).max() < 0.015


@pytest.mark.parametrize("x", [
    np.array([4.0, 1.0, 9.0, 2.5, 7.0, 3.0, 8.5, 6.0, 0.5, 5.0, 11.0, 2.0, 10.0, 7.5, 1.5, 3.5]),
    np.array([1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 5.0, 5.0, 8.0, 13.0]),        # even n with ties
    np.array([2.0, 3.0, 3.0, 4.0, 7.0, 7.0, 7.0, 9.0, 12.0]),            # odd n with ties
], ids=["even", "even-ties", "odd-ties"])
def test_median_bootstrap_matches_resampling(x):
    ours = bootstrap_medians(x, np.random.default_rng(2), DRAWS)
    brute = _resampled_medians(x, np.random.default_rng(3), DRAWS)
    assert set(np.unique(ours)) <= set((np.add.outer(x, x) / 2).ravel())  # values a median takes
    # two samples of 20,000 from one distribution: a gap above 0.025 has p < 1e-5
    assert _ecdf_distance(ours, brute) < 0.025
    for q in (0.025, 0.25, 0.5, 0.75, 0.975):
        lo, hi = np.quantile(brute, [max(q - 0.01, 0), min(q + 0.01, 1)])
        assert lo <= np.quantile(ours, q) <= hi


def test_interval_of_a_difference_of_medians_matches_resampling():
    rng = np.random.default_rng(4)
    a, b = rng.gamma(2.0, 30.0, size=40), rng.gamma(2.0, 20.0, size=51)
    ours = _bootstrap_median_difference(a, b, np.random.default_rng(5), DRAWS, 0.95)
    r = np.random.default_rng(6)
    brute = _resampled_medians(a, r, DRAWS) - _resampled_medians(b, r, DRAWS)
    lo, hi = np.quantile(brute, [0.025, 0.975])
    spread = hi - lo
    assert abs(ours["ci_low"] - lo) < 0.05 * spread
    assert abs(ours["ci_high"] - hi) < 0.05 * spread
    # seeded: the same seed, the same interval
    assert ours == _bootstrap_median_difference(a, b, np.random.default_rng(5), DRAWS, 0.95)


def test_median_bootstrap_of_a_large_sample_is_cheap_and_centred():
    x = np.random.default_rng(7).exponential(10.0, size=1_000_001)
    meds = bootstrap_medians(x, np.random.default_rng(8), 2000)
    # the median's standard error is about 1 / (2 f(m) sqrt(n)) = 10 / sqrt(n) here
    assert abs(np.median(meds) - np.median(x)) < 4 * 10 / 1000
    assert 0.5 * 10 / 1000 < meds.std() < 2 * 10 / 1000


# --- the array paths against the SQL definitions --------------------------------------------
@pytest.fixture(scope="module")
def sample_log():
    return officemine.import_log(SAMPLE)


@pytest.fixture(scope="module")
def sample(sample_log):
    return discover(sample_log, n_boot=10)


BLOCKING = "outcome IS NULL OR outcome NOT IN ('cc', 'comment', 'remind')"
VISITS_SQL = f"""
WITH numbered AS (
    SELECT *, sum(new_visit) OVER (PARTITION BY case_id ORDER BY seq) AS v
    FROM (SELECT *, CASE WHEN node IS DISTINCT FROM lag(node) OVER
                          (PARTITION BY case_id ORDER BY seq) THEN 1 ELSE 0 END AS new_visit
          FROM events WHERE {BLOCKING})
), visits AS (
    SELECT case_id, v, any_value(node) AS node, arg_max_null(outcome, seq) AS exit_outcome,
           min(acted_at) AS first_acted, max(acted_at) AS last_acted,
           any_value(node) || CASE WHEN arg_max_null(outcome, seq) IN
                ('return', 'reject', 'withdraw') THEN ':' || arg_max_null(outcome, seq)
                ELSE '' END AS step
    FROM numbered GROUP BY case_id, v
)"""


def test_paths_are_the_visit_sequences(sample_log, sample):
    ref = sample_log.query(VISITS_SQL + """
SELECT case_id, string_agg(step, ' → ' ORDER BY v) AS path, count(*) AS steps
FROM visits GROUP BY case_id ORDER BY case_id""")
    got = sample.variants.cases
    assert got["case_id"].tolist() == ref["case_id"].tolist()
    assert got["path"].tolist() == ref["path"].tolist()
    assert got["steps"].tolist() == ref["steps"].tolist()
    assert [" → ".join(n) for n in got["nodes"]] == [
        " → ".join(s.split(":")[0] for s in p.split(" → ")) for p in ref["path"]]


def test_arcs_are_consecutive_visits(sample_log, sample):
    ref = sample_log.query(VISITS_SQL + """
SELECT node AS source, lead(node) OVER w AS target,
       CASE WHEN exit_outcome = 'return' THEN 'return' ELSE 'forward' END AS kind,
       count(*) OVER () AS total, case_id
FROM visits WINDOW w AS (PARTITION BY case_id ORDER BY v) QUALIFY target IS NOT NULL""")
    counts = ref.groupby(["source", "target", "kind"]).agg(
        transitions=("case_id", "size"), cases=("case_id", "nunique"))
    arcs = sample.process_map.arcs.set_index(["source", "target", "kind"])
    assert arcs[["transitions", "cases"]].sort_index().equals(
        counts.sort_index().astype(arcs["transitions"].dtype))


def test_return_targets_are_the_next_blocking_node(sample_log, sample):
    ref = sample_log.query(f"""
WITH b AS (SELECT node, outcome, lead(node) OVER (PARTITION BY case_id ORDER BY seq) AS nxt
           FROM events WHERE {BLOCKING})
SELECT node AS from_node, coalesce(nxt, '{NO_NEXT}') AS to_node, count(*) AS returns
FROM b WHERE outcome = 'return' GROUP BY ALL ORDER BY returns DESC, from_node, to_node""")
    got = sample.rework.targets
    assert got[["from_node", "to_node"]].values.tolist() == ref[["from_node", "to_node"]
                                                                ].values.tolist()
    assert got["returns"].tolist() == ref["returns"].tolist()


def test_handoffs_are_consecutive_actions(sample_log, sample):
    ref = sample_log.query(f"""
WITH a AS (SELECT case_id, dept, lag(dept) OVER w AS prev, row_number() OVER w AS k
           FROM events WHERE ({BLOCKING}) AND NOT pending
           WINDOW w AS (PARTITION BY case_id ORDER BY seq))
SELECT count(*) FILTER (WHERE k > 1) AS total,
       count(*) FILTER (WHERE k > 1 AND (dept IS NULL OR prev IS NULL)) AS unknown,
       count(*) FILTER (WHERE k > 1 AND dept <> prev) AS handoffs
FROM a""")
    h = sample.handoffs
    assert (h.pairs_total, h.pairs_unknown_dept, h.n_handoffs) == tuple(
        int(ref.loc[0, c]) for c in ("total", "unknown", "handoffs"))
    n_cases = sample_log.query("SELECT count(DISTINCT case_id) AS n FROM events")["n"].iloc[0]
    assert len(h.per_case) == n_cases


def test_events_out_of_order_are_put_in_order(sample_log):
    table = sample_log.to_arrow()
    shuffled = table.take(pa.array(np.random.default_rng(0).permutation(table.num_rows)))
    # _derived: keep the rows as given, as a view over a file in another order would
    scrambled = EventLog(shuffled, timezone=sample_log.timezone, _derived=True)
    a, b = read_events(sample_log), read_events(scrambled)
    for name in ("case", "visit", "node", "outcome", "dept", "acted"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.case_ids.equals(b.case_ids)


def test_scope_counts_equal_sql(sample_log):
    result = discover(sample_log, "费用报销", n_boot=10)
    n_cases, n_events = sample_log.query(
        "SELECT count(DISTINCT case_id) AS c, count(*) AS e FROM events "
        "WHERE process_type = '费用报销'").iloc[0]
    assert (result.scope.n_cases, result.scope.n_events) == (n_cases, n_events)
    assert set(result.variants.cases["process_type"]) == {"费用报销"}
    cal = Calendar.default()
    assert result.scope.calendar == cal.describe()
    assert pd.Series(result.handoffs.per_case["case_id"]).is_monotonic_increasing


def test_map_is_drawn_once_for_every_format(sample, tmp_path, monkeypatch):
    from officemine.discovery import DiscoveryError, processmap

    calls = []
    draw = processmap._draw
    monkeypatch.setattr(processmap, "_draw",
                        lambda pm, ax, **kw: calls.append(1) or draw(pm, ax, **kw))
    paths = sample.process_map.save_many([tmp_path / "m.png", tmp_path / "m.svg",
                                          tmp_path / "m.pdf"])
    assert len(calls) == 1
    assert [p.read_bytes()[:4] for p in paths] == [b"\x89PNG", b"<?xm", b"%PDF"]
    with pytest.raises(DiscoveryError, match="'.jpg'"):
        sample.process_map.save_many([tmp_path / "m.png", tmp_path / "m.jpg"])
    assert len(calls) == 1                  # checked before drawing anything
