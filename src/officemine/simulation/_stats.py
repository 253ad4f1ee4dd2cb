"""Statistics shared by the engines: cycle-time summaries, the case bootstrap, validation."""

from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

from officemine.simulation.result import CycleStats

#: Most elements a bootstrap chunk holds (replications × cases), to bound memory.
_CHUNK = 4_000_000
#: Quantiles the bootstrap reports besides the mean: median and p90.
QUANTILES = (0.5, 0.9)


def cycle_stats(hours: np.ndarray, workdays: np.ndarray) -> CycleStats:
    h = np.asarray(hours, float).ravel()
    w = np.asarray(workdays, float).ravel()
    h, w = h[~np.isnan(h)], w[~np.isnan(w)]
    if not h.size:
        nan = float("nan")
        return CycleStats(nan, nan, nan, nan, nan)
    return CycleStats(float(np.median(h)), float(h.mean()), float(np.quantile(h, 0.9)),
                      float(np.median(w)), float(w.mean()))


def pct(before: float, after: float) -> float:
    return 100.0 * (1.0 - after / before) if before else float("nan")


def bootstrap(base: np.ndarray, redesign: np.ndarray, replications: int,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Reductions (%) of median, mean and p90 in each bootstrap replicate.

    ``base``: (n,) baseline cycle times; ``redesign``: (n, draws). Cases are resampled with
    replacement (the same cases for baseline and redesign); each resampled copy of a case
    whose redesigned value varies between draws also picks one draw, so the randomness of
    which returns vanish is in the interval too. Quantiles are NumPy's default (linear
    interpolation between order statistics); a replicate that draws a NaN is NaN.

    A replicate is not gathered and partitioned: it is a count of copies per distinct value
    (`_PairedSample`), whose cumulative sum gives the order statistics and whose sum of
    products with the values gives the mean — the same numbers (the means to rounding),
    several times faster. Resampled indices are drawn in chunks of at most ``_CHUNK`` values
    to bound memory.
    """
    base = np.asarray(base, float)
    redesign = np.asarray(redesign, float)
    n, draws = redesign.shape
    out = {k: np.full(replications, np.nan) for k in ("median", "mean", "p90")}
    if n == 0:
        return out
    sample = _PairedSample(base, redesign)
    stats_b = np.empty((replications, len(sample.ranks) + 1))
    stats_r = np.empty_like(stats_b)
    step = max(1, _CHUNK // n)
    for a in range(0, replications, step):
        b = min(replications, a + step)
        idx = rng.integers(0, n, size=(b - a, n))
        for j, row in enumerate(idx):
            wb, wr, copies = sample.counts(row)
            picks = rng.integers(0, draws, size=int(copies.sum())) if copies.size else None
            stats_b[a + j] = sample.order_stats_and_mean(sample.base, wb)
            stats_r[a + j] = sample.order_stats_and_mean(sample.redesign,
                                                         sample.add_draws(wr, copies, picks))
    qb, qr = sample.quantiles(stats_b), sample.quantiles(stats_r)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["median"][:] = 100.0 * (1.0 - qr[0] / qb[0])
        out["p90"][:] = 100.0 * (1.0 - qr[1] / qb[1])
        out["mean"][:] = 100.0 * (1.0 - stats_r[:, -1] / stats_b[:, -1])
    return out


class _PairedSample:
    """Baseline and redesigned values of n cases, prepared for resampling by counts.

    Each side's distinct values are sorted once (NaN last); a case points at its value's slot
    (``slot_b``, ``slot_r``). A case whose redesigned value varies between draws points past
    the redesign values, at a slot of its own; the copies it gets are then spread over its
    draws (``add_draws``) through ``slot_v`` (varying case × draw -> slot).
    """

    def __init__(self, base: np.ndarray, redesign: np.ndarray, q=QUANTILES) -> None:
        n, draws = redesign.shape
        self.n = n
        varying = (redesign != redesign[:, :1]).any(axis=1) if draws > 1 else np.zeros(n, bool)
        vcases = np.flatnonzero(varying)
        self.base, slot_b = np.unique(base, return_inverse=True)
        self.redesign, inv = np.unique(
            np.concatenate([redesign[~varying, 0], redesign[vcases].ravel()]),
            return_inverse=True)
        slot_r = np.empty(n, dtype=np.int64)
        slot_r[~varying] = inv[:n - len(vcases)]
        slot_r[vcases] = len(self.redesign) + np.arange(len(vcases))
        # np.intp throughout: bincount and take would otherwise convert on every replicate
        self.slot_b, self.slot_r = slot_b.astype(np.intp), slot_r.astype(np.intp)
        self.slot_v = inv[n - len(vcases):].astype(np.intp).ravel()
        self.draws, self.n_varying = draws, len(vcases)
        # numpy.quantile's 'linear' method: virtual index (n-1)q, its floor and the next one
        self.virtual = (n - 1) * np.asarray(q, float)
        lo = np.floor(self.virtual)
        self.gamma = self.virtual - lo
        lo = np.minimum(lo, n - 1).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        self.ranks, where = np.unique(np.r_[lo, hi], return_inverse=True)
        self.lo, self.hi = where[:len(lo)], where[len(lo):]

    def counts(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of each baseline value, of each non-varying redesign value, and of each
        varying case, in the resample ``idx``."""
        wb = np.zeros(len(self.base), dtype=np.int64)
        np.add.at(wb, self.slot_b.take(idx), 1)     # twice as fast as bincount (numpy 2)
        wr = np.zeros(len(self.redesign) + self.n_varying, dtype=np.int64)
        np.add.at(wr, self.slot_r.take(idx), 1)
        return wb, wr[:len(self.redesign)], wr[len(self.redesign):]

    def add_draws(self, wr: np.ndarray, copies: np.ndarray, picks: np.ndarray | None
                  ) -> np.ndarray:
        """Add the varying cases' copies: ``picks`` holds the draw of each copy, the copies
        of the first varying case first."""
        if not copies.size:
            return wr
        at = np.repeat(np.arange(0, len(self.slot_v), self.draws), copies) + picks
        wr = wr.copy()
        np.add.at(wr, self.slot_v.take(at), 1)
        return wr

    def order_stats_and_mean(self, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The order statistics at ``ranks`` and the mean of a resample given as copies per
        distinct value; NaN when it holds a NaN."""
        res = np.empty(len(self.ranks) + 1)
        if np.isnan(values[-1]) and weights[-1]:
            res[:] = np.nan
            return res
        cum = np.cumsum(weights)
        res[:-1] = values[np.searchsorted(cum, self.ranks, side="right")]
        finite = len(values) - int(np.isnan(values[-1]))
        # a product and a sum, not np.dot: BLAS threads cost more than they save at this size
        res[-1] = (weights[:finite] * values[:finite]).sum() / self.n
        return res

    def quantiles(self, stats: np.ndarray) -> np.ndarray:
        """(quantiles, replicates) from order statistics, interpolated as numpy.quantile's
        ``_lerp`` does (same operations, so the same floating-point result)."""
        a, b = stats[:, self.lo].T, stats[:, self.hi].T
        t = self.gamma[:, None]
        diff = b - a
        return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def interval(values: np.ndarray) -> list[float]:
    v = values[np.isfinite(values)]
    if not v.size:
        return [float("nan"), float("nan")]
    lo, hi = np.percentile(v, [2.5, 97.5])
    return [float(lo), float(hi)]


def compare_with_actual(actual: np.ndarray, model: np.ndarray) -> dict:
    """Median and mean error (%) of a model's cycle times against the actual ones, and the
    Wasserstein (earth mover's) distance in hours."""
    a = np.asarray(actual, float).ravel()
    m = np.asarray(model, float).ravel()
    a, m = a[~np.isnan(a)], m[~np.isnan(m)]
    if not a.size or not m.size:
        return {"as_is_median_error_pct": None, "as_is_mean_error_pct": None, "emd_hours": None}
    med_a, mean_a = np.median(a), a.mean()
    return {
        "as_is_median_error_pct": float(100.0 * (np.median(m) - med_a) / med_a) if med_a else None,
        "as_is_mean_error_pct": float(100.0 * (m.mean() - mean_a) / mean_a) if mean_a else None,
        "emd_hours": float(wasserstein_distance(a, m)),
    }
