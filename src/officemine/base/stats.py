"""Small, vectorised statistics used across officemine (no SciPy call per group)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def wilson_interval(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (vectorised).

    Chosen over the normal ('Wald') interval because approval nodes often reject 0–5% of
    items, where Wald collapses to zero width; Wilson keeps honest coverage near 0 and 1.
    Trials of 0 give (nan, nan).
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)   # the standard library's: no SciPy import
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        lo, hi = np.where(k <= 0, 0.0, lo), np.where(k >= n, 1.0, hi)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def counted_quantile(values, counts, q: float) -> float:
    """The `q` quantile of a sample given as sorted distinct `values` and how often each
    occurs, as pandas computes it on the sample itself (the median as the mean of the two
    middle values, other quantiles by linear interpolation), so merged counts give the very
    figures one machine gets from the rows. NaN for an empty sample."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return float("nan")
    values = np.asarray(values, dtype=float)
    ends = np.cumsum(counts)

    def at(rank: int) -> float:
        return values[np.searchsorted(ends, rank, side="right")]

    if q == 0.5:
        return at(n // 2) if n % 2 else (at(n // 2 - 1) + at(n // 2)) / 2
    index = q * (n - 1)
    low, frac = int(index), index % 1
    value = at(low)
    return value if frac == 0 else value + (at(low + 1) - value) * frac


def kaplan_meier(durations, observed, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival curve: (event times, S(t) just after each).

    `observed` False marks right-censored durations (items still pending at export).
    `weights`: how many items each duration stands for (whole numbers; default one each), so
    that counts per distinct wait — merged across partitions of a log — give the same curve
    as the items themselves.
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    w = (np.ones(len(t), dtype=np.int64) if weights is None
         else np.asarray(weights, dtype=np.int64))
    keep = ~np.isnan(t)
    t, e, w = t[keep], e[keep], w[keep]
    if len(t) == 0:
        return np.array([]), np.array([])
    # Deaths and the number at risk are counted per distinct time, so the order of events
    # and censorings inside a tie does not matter: one sort of the times is enough.
    order = np.argsort(t)
    t, e, w = t[order], e[order], w[order]
    first = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    times = t[first]
    deaths = np.add.reduceat(np.where(e, w, 0), first)
    before = np.concatenate(([0], np.cumsum(w)))
    at_risk = before[-1] - before[first]
    surv = np.cumprod(1.0 - deaths / at_risk)
    has_event = deaths > 0
    return times[has_event], surv[has_event]


def km_quantile(durations, observed, q: float) -> float:
    """Time by which a share q of items is done (q=0.5: median); nan if not reached.

    The smallest t with S(t) <= 1-q; where S(t) equals 1-q exactly over an interval, the
    interval's midpoint (R survival's convention), so that without censoring the median is
    the ordinary median.
    """
    return km_summary(durations, observed, (q,))[0][0]


def km_restricted_mean(durations, observed) -> float:
    """Area under the Kaplan–Meier curve up to the longest observed duration.

    With no censoring this is the ordinary mean; with pending items it is the mean wait
    restricted to the observed range (a censored wait counts as long as it has lasted).
    """
    return km_summary(durations, observed, ())[1]


def km_summary(durations, observed, quantiles=(0.5, 0.9),
               weights=None) -> tuple[list[float], float]:
    """(`km_quantile` for each of `quantiles`, `km_restricted_mean`) from one curve
    (`weights`: see `kaplan_meier`)."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(t)
    if not keep.any():
        return [float("nan")] * len(quantiles), float("nan")
    t, e = t[keep], e[keep]
    w = None if weights is None else np.asarray(weights, dtype=np.int64)[keep]
    times, surv = kaplan_meier(t, e, w)
    values = []
    for q in quantiles:
        target = 1.0 - q
        reached = np.flatnonzero(surv <= target + 1e-12)
        if not len(reached):
            values.append(float("nan"))
            continue
        i = reached[0]
        if abs(surv[i] - target) < 1e-12 and i + 1 < len(times):
            values.append(float((times[i] + times[i + 1]) / 2))
        else:
            values.append(float(times[i]))
    steps = np.concatenate(([0.0], times, [float(np.max(t))]))
    heights = np.concatenate(([1.0], surv))
    widths = np.clip(np.diff(steps), 0, None)
    return values, float(np.sum(heights * widths))
