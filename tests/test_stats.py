"""Interval and survival estimates against values computed independently."""

import numpy as np
import pytest
from scipy import stats as st

from officemine.base.stats import kaplan_meier, km_quantile, km_restricted_mean, wilson_interval


@pytest.mark.parametrize("k,n", [(0, 10), (3, 40), (50, 100), (99, 100), (100, 100), (7, 1500)])
def test_wilson_matches_the_closed_form_and_scipy(k, n):
    lo, hi = wilson_interval(k, n)
    ref = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)


def test_wilson_zero_trials_is_undefined():
    lo, hi = wilson_interval([0], [0])
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def test_kaplan_meier_by_hand():
    # times 1,2,3 events; 4 censored; 5 event. S: 1->0.8, 2->0.6, 3->0.4, 5->0
    times, surv = kaplan_meier([3, 1, 4, 2, 5], [1, 1, 0, 1, 1])
    assert times.tolist() == [1, 2, 3, 5]
    assert surv == pytest.approx([0.8, 0.6, 0.4, 0.0])
    assert km_quantile([3, 1, 4, 2, 5], [1, 1, 0, 1, 1], 0.5) == 3
    # with the censored item treated as done at 4 the naive median would also be 3, but p90:
    assert km_quantile([3, 1, 4, 2, 5], [1, 1, 0, 1, 1], 0.9) == 5


@pytest.mark.parametrize("n", [1, 2, 5, 10, 101, 1000])
def test_without_censoring_the_km_median_is_the_ordinary_median(n):
    x = np.random.default_rng(n).lognormal(1, 1, n)
    assert km_quantile(x, np.ones(n, bool), 0.5) == pytest.approx(np.median(x))


def test_censoring_changes_the_median_and_unreached_quantiles_are_nan():
    waits = [1, 2, 3, 10, 10, 10, 10]
    assert km_quantile(waits, [1] * 7, 0.5) == 10          # as if the pending were done at 10
    # four still pending: S(3) = 4/7 > 0.5, so the median is not reached yet
    assert np.isnan(km_quantile(waits, [1, 1, 1, 0, 0, 0, 0], 0.5))


def test_restricted_mean_equals_the_mean_without_censoring():
    rng = np.random.default_rng(1)
    x = rng.lognormal(1, 1, 500)
    assert km_restricted_mean(x, np.ones(500, bool)) == pytest.approx(x.mean())
    censored = km_restricted_mean(x, rng.random(500) > 0.3)
    assert censored > x.mean()   # censored waits count as long as they have lasted, at least


def test_counts_per_distinct_wait_give_the_curve_of_the_items():
    """Waits merged as (value, pending state, count) — what the Spark engine adds up over
    partitions — give exactly the curve, quantiles and mean of the items themselves."""
    from officemine.base.stats import km_summary

    rng = np.random.default_rng(7)
    waits = np.round(rng.exponential(20, 5000), 1)          # many ties, as whole minutes do
    waits[rng.random(5000) < 0.05] = np.nan                 # unknown arrivals
    observed = rng.random(5000) > 0.1                       # pending items
    values, counts = np.unique(np.stack([np.nan_to_num(waits, nan=-1), observed]), axis=1,
                               return_counts=True)
    merged, flags = np.where(values[0] < 0, np.nan, values[0]), values[1].astype(bool)
    assert len(merged) < 1500
    for a, b in zip(kaplan_meier(waits, observed), kaplan_meier(merged, flags, counts)):
        assert np.array_equal(a, b)
    assert km_summary(waits, observed, (0.5, 0.9)) == km_summary(merged, flags, (0.5, 0.9),
                                                                  counts)


def test_counted_quantiles_are_the_ones_pandas_gives_on_the_rows():
    """Cycle times merged as (value, count) — what the Spark engine adds up — give exactly
    the median and p90 pandas computes on the cases themselves (bit for bit)."""
    import pandas as pd

    from officemine.base.stats import counted_quantile

    rng = np.random.default_rng(3)
    for size in (1, 2, 3, 10, 11, 257, 4000):
        days = np.round(rng.exponential(3, size) * 25200) / 25200   # whole seconds of 7 h days
        if size > 10:
            days[: size // 3] = days[0]                              # many ties
        values, counts = np.unique(days, return_counts=True)
        grouped = pd.DataFrame({"g": 0, "d": days}).groupby("g")["d"]
        assert counted_quantile(values, counts, 0.5) == grouped.median().iloc[0]
        assert counted_quantile(values, counts, 0.9) == grouped.quantile(0.9).iloc[0]
    assert np.isnan(counted_quantile([], [], 0.5))
