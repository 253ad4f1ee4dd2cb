"""The case bootstrap computed from counts gives exactly what gathering the resampled values
and calling numpy.quantile gives, for the same resampled cases and draws."""

from __future__ import annotations

import numpy as np
import pytest

from officemine.simulation import _stats


def gathered(base, redesign, idx, pick):
    """The direct computation: gather each resample, then numpy's quantiles and means."""
    bs, rs = base[idx], redesign[idx, pick]
    return (np.quantile(bs, [0.5, 0.9], axis=1), bs.mean(axis=1),
            np.quantile(rs, [0.5, 0.9], axis=1), rs.mean(axis=1))


def counted(base, redesign, idx, pick):
    """The same replicates through `_PairedSample`, with the draws of ``pick``."""
    sample = _stats._PairedSample(base, redesign)
    draws = redesign.shape[1]
    varying = (redesign != redesign[:, :1]).any(axis=1) if draws > 1 else np.zeros(len(base),
                                                                                     bool)
    vpos = np.cumsum(varying) - 1
    sb, sr = [], []
    for row, prow in zip(idx, pick):
        wb, wr, copies = sample.counts(row)
        at = np.flatnonzero(varying[row])
        at = at[np.argsort(vpos[row[at]], kind="stable")]     # copies of the first case first
        sb.append(sample.order_stats_and_mean(sample.base, wb))
        sr.append(sample.order_stats_and_mean(sample.redesign,
                                              sample.add_draws(wr, copies, prow[at])))
    sb, sr = np.array(sb), np.array(sr)
    return sample.quantiles(sb), sb[:, -1], sample.quantiles(sr), sr[:, -1]


@pytest.mark.parametrize("n, draws, ties, nan", [
    (1, 1, False, False), (2, 1, False, False), (7, 3, True, False), (10, 20, False, False),
    (11, 5, True, False), (200, 20, True, False), (333, 4, False, False), (50, 3, True, True),
])
def test_counts_reproduce_gathered_quantiles(n, draws, ties, nan):
    rng = np.random.default_rng(n * 100 + draws)
    base = rng.gamma(2.0, 30.0, n)
    if ties:
        base = np.round(base / 5) * 5
    redesign = np.repeat((base * rng.uniform(0.4, 1.0, n))[:, None], draws, axis=1)
    vary = rng.random(n) < 0.3
    redesign[vary] *= rng.choice([0.5, 1.0], size=(int(vary.sum()), draws))
    if ties:
        redesign = np.round(redesign)
    if nan:
        base[rng.integers(0, n)] = np.nan
        redesign[rng.integers(0, n), :] = np.nan
    reps = 60
    idx = rng.integers(0, n, size=(reps, n))
    pick = rng.integers(0, draws, size=(reps, n))
    exp_qb, exp_mb, exp_qr, exp_mr = gathered(base, redesign, idx, pick)
    qb, mb, qr, mr = counted(base, redesign, idx, pick)
    np.testing.assert_array_equal(qb, exp_qb)          # bit for bit, NaN where NaN
    np.testing.assert_array_equal(qr, exp_qr)
    np.testing.assert_allclose(mb, exp_mb, rtol=1e-12)   # a dot product, not a pairwise sum
    np.testing.assert_allclose(mr, exp_mr, rtol=1e-12)
    if nan:
        assert np.isnan(qb).any() and np.isfinite(qb).any()


def test_bootstrap_is_seeded_and_centred():
    rng = np.random.default_rng(1)
    base = rng.gamma(2.0, 30.0, 2000)
    redesign = np.repeat(base[:, None] * 0.6, 20, axis=1)
    redesign[:300] *= rng.choice([0.8, 1.0], size=(300, 20))
    a = _stats.bootstrap(base, redesign, 300, np.random.default_rng(5))
    b = _stats.bootstrap(base, redesign, 300, np.random.default_rng(5))
    for key in ("median", "mean", "p90"):
        np.testing.assert_array_equal(a[key], b[key])
        lo, hi = _stats.interval(a[key])
        assert lo < hi and 30 < lo and hi < 50
    assert _stats.bootstrap(base[:0], redesign[:0], 3, np.random.default_rng(0))["mean"].size == 3
