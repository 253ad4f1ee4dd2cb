"""Statistics shared by the engines: cycle-time summaries, the case bootstrap, validation."""

from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

from officemine.simulation.result import CycleStats

#: Most elements a bootstrap chunk holds (replications × cases), to bound memory.
_CHUNK = 4_000_000


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
    which returns vanish is in the interval too. Replicates are computed in chunks of at most
    ``_CHUNK`` values to bound memory.
    """
    base = np.asarray(base, float)
    n, draws = redesign.shape
    out = {k: np.full(replications, np.nan) for k in ("median", "mean", "p90")}
    if n == 0:
        return out
    varying = (redesign != redesign[:, :1]).any(axis=1) if draws > 1 else np.zeros(n, bool)
    step = max(1, _CHUNK // n)
    for a in range(0, replications, step):
        b = min(replications, a + step)
        idx = rng.integers(0, n, size=(b - a, n), dtype=np.int32 if n < 2**31 else np.int64)
        bs = base[idx]
        if varying.any():
            pick = np.where(varying[idx], rng.integers(0, draws, size=idx.shape, dtype=np.int32), 0)
            rs = redesign[idx, pick]
        else:
            rs = redesign[idx, 0]
        qb = np.quantile(bs, [0.5, 0.9], axis=1)
        qr = np.quantile(rs, [0.5, 0.9], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["median"][a:b] = 100.0 * (1.0 - qr[0] / qb[0])
            out["p90"][a:b] = 100.0 * (1.0 - qr[1] / qb[1])
            out["mean"][a:b] = 100.0 * (1.0 - rs.mean(axis=1) / bs.mean(axis=1))
    return out


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
