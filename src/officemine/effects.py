"""Did a redesign work? Its effect against a control, beside the naive before/after.

"改革前 4.82 → 改革后 2.38 工作日" credits the reform with everything else that changed: a general
speed-up, a season, another mix of cases. This module estimates a redesign's effect on the
three measures reform practice reports, against a control:

* **difference in differences** — the process types that did not change in the window (no
  change point, `officemine.versions`) are the control: the redesigned type's change minus
  theirs. Assumption: without the redesign the redesigned type would have moved like them
  (parallel trends).
* **interrupted time series** — where no type can serve as control: the redesigned type's
  weekly series before the change, extended as a straight line, is what would have happened.
  Assumption: the pre-change trend would have continued.

Measures, each with its reform target (the literature's figures; met / not met / not
measurable): 办理时长 (cycle time in working days; target 30 % shorter, estimated on the log
scale, i.e. as the change of the geometric mean), 跨部门流转 (hand-offs per case, the cost of
communication; target 40 % lower) and 不合规率 (share of cases with a deviation from the
standard procedure, `officemine.conformance`; target 25 % lower; not measurable without
procedures). Intervals are 95 % percentile intervals of a case bootstrap (cases resampled
within each group and period; seeded), and every row states its n. A target is **met** when
the estimate reaches it and the interval excludes no change; **not measurable** when there is
no estimate, or the interval allows both reaching the target and no reduction at all.

A case belongs to the period it started in (before: the `window_months` before the date;
after: from the date to the end of the window or of the data, less the before period's 90th
percentile of cycle time — a case started just before the data ends counts only if it ended,
which would favour short cases), and only ended cases count.

>>> effect = redesign_effect(log, "2025-07-01", process_type="费用报销")   # doctest: +SKIP
>>> effect.summary                                                          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from officemine.log.calendar import Calendar
from officemine.base.errors import InputError
from officemine.log.eventlog import EventLog
from officemine.base.jsonable import plain
from officemine.base.plotting import chart_style
from officemine.log.result import Result
from officemine.base.text import Said, say

__all__ = ["Measure", "MEASURES", "RedesignEffect", "redesign_effect"]

Method = Literal["difference_in_differences", "interrupted_time_series"]


@dataclass(frozen=True)
class Measure:
    """One reform measure: its key, names, the case column it reads, how it is compared, and
    the target (a relative reduction)."""

    key: str
    zh: str
    en: str
    column: str
    scale: Literal["log", "linear"]
    target: float


MEASURES: tuple[Measure, ...] = (
    Measure("cycle_time", "办理时长", "Cycle time", "cycle_workdays", "log", 0.30),
    Measure("handoffs", "跨部门流转", "Hand-offs per case", "handoffs", "linear", 0.40),
    Measure("noncompliance", "不合规率", "Non-compliance rate", "deviating", "linear", 0.25),
)
ASSUMPTIONS = {
    "difference_in_differences": "parallel trends: without the redesign the redesigned process "
                                 "type would have changed as the control types did",
    "interrupted_time_series": "the weekly trend before the change would have continued",
}
#: Fewest ended cases a group needs in each period.
MIN_CASES = 20
_DAY = 1e-3        # working days added before taking logs (a case done within a minute)


@dataclass(frozen=True)
class RedesignEffect(Result):
    """The effect of one redesign on each measure: naive and controlled, with intervals.

    summary: one row per measure — naive before/after values and change, the controlled
    estimate (relative change, negative = lower/shorter) with its 95 % interval, the method,
    the target, the status (met | not met | not measurable) and the cases behind it.
    """

    date: pd.Timestamp
    process_type: str | None
    method: str | None
    control: tuple[str, ...]
    window: tuple[pd.Timestamp, pd.Timestamp]
    summary: pd.DataFrame
    seed: int
    n_boot: int
    notes: tuple[str, ...] = ()

    @property
    def assumption(self) -> str | None:
        return ASSUMPTIONS.get(self.method) if self.method else None

    def to_dict(self) -> dict:
        return plain({
            "date": self.date.isoformat(), "process_type": self.process_type,
            "method": self.method, "assumption": self.assumption, "control": list(self.control),
            "window": [t.isoformat() for t in self.window], "seed": self.seed,
            "n_boot": self.n_boot, "interval": "95% percentile interval, case bootstrap",
            "change": "relative change after vs before, controlled; -0.30 = 30% lower",
            "measures": self.summary.to_dict("records"), "notes": list(self.notes)})

    def __repr__(self) -> str:
        how = {"difference_in_differences": "difference in differences against "
               + "、".join(self.control), "interrupted_time_series":
               "interrupted time series (pre-change trend)"}.get(self.method, "no estimate")
        lines = [f"<RedesignEffect {self.process_type or 'all'} from {self.date:%Y-%m-%d}: "
                 f"{how}>"]
        for r in self.summary.itertuples():
            est = ("–" if r.effect is None or (isinstance(r.effect, float)
                                                and math.isnan(r.effect))
                   else f"{r.effect:+.1%} ({r.ci_low:+.1%} to {r.ci_high:+.1%})")
            naive = "–" if pd.isna(r.naive_change) else f"{r.naive_change:+.1%}"
            lines.append(f"  {r.measure}: naive {naive}; controlled {est}; target "
                         f"-{r.target:.0%}: {r.status}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def plot(self, ax=None, lang: str = "zh"):
        """Controlled change of each measure with its interval, the naive change beside it
        and the target as a mark."""
        import matplotlib.pyplot as plt

        zh = lang == "zh"
        s = self.summary
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 3), layout="constrained")
            y = np.arange(len(s))
            eff = s["effect"].astype(float).to_numpy() * 100
            lo = s["ci_low"].astype(float).to_numpy() * 100
            hi = s["ci_high"].astype(float).to_numpy() * 100
            ok = ~np.isnan(eff)
            ax.barh(y[ok] - 0.17, eff[ok], height=0.32, color="#1c7ed6",
                    xerr=np.vstack([eff[ok] - lo[ok], hi[ok] - eff[ok]]), capsize=3,
                    label=say("chart.controlled", lang))
            naive = s["naive_change"].astype(float).to_numpy() * 100
            ax.barh(y + 0.17, np.nan_to_num(naive), height=0.32, color="#adb5bd",
                    label=say("chart.naive", lang))
            ax.scatter(-s["target"].to_numpy() * 100, y, marker="|", s=300, color="#e03131",
                       label=say("chart.target", lang), zorder=3)
            ax.set_yticks(y, s["measure_zh"] if zh else s["measure"])
            ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel(say("chart.relative_change", lang))
            ax.legend(frameon=False, fontsize=8, loc="lower right")
            ax.invert_yaxis()
        return ax


def redesign_effect(log: EventLog, date: Any, process_type: str | None = None, *,
                    calendar: Calendar | None = None, sla=None, window_months: int = 6,
                    until: Any = None, deviating: pd.Series | None = None, seed: int = 0,
                    n_boot: int = 1000) -> RedesignEffect:
    """Estimate a redesign's effect on cycle time, hand-offs and non-compliance.

    date: when the redesign took effect (cases started from then on ran the new way).
    process_type: the redesigned type (None: every type changed — only an interrupted time
    series is possible). until: the end of the data to use (default: the log's end).
    deviating: case_id -> 1.0 / 0.0 from a conformance check (`ConformanceResult`), for
    不合规率; without it that measure is not measurable.
    """
    from officemine.log import relations
    from officemine.kpis import case_cycles
    from officemine.versions import process_versions

    calendar = calendar or log.calendar
    tz = log.timezone
    try:
        when = pd.Timestamp(date)
    except (TypeError, ValueError):
        raise InputError(f"date must be a date like '2025-07-01', not {date!r}") from None
    when = when.tz_localize(tz) if when.tzinfo is None else when.tz_convert(tz)
    end = relations.now(log, until)
    lo = when - pd.DateOffset(months=window_months)
    hi = min(when + pd.DateOffset(months=window_months), end) if end is not None else when
    cases = case_cycles(log, calendar, sla)
    cases = cases[cases["ended_at"].notna() & (cases["ended_at"] <= hi)]
    notes: list[str] = []
    cases = cases.assign(deviating=(cases["case_id"].map(deviating).astype(float)
                                    if deviating is not None else np.nan))
    before = (cases["start_at"] >= lo) & (cases["start_at"] < when)
    # a case started near the end of the data counts only if it ended, which favours short
    # cases: after the date, only cases started long enough before the end (the before
    # period's 90th percentile of clock time) to have ended as usual
    typical = cases.loc[before, "cycle_clockdays"].quantile(0.9) if before.any() else 0.0
    cut = hi - pd.Timedelta(days=float(typical if np.isfinite(typical) else 0.0))
    after = (cases["start_at"] >= when) & (cases["start_at"] < cut)
    cases = cases[before | after].assign(after=after[before | after])
    treated = (cases["process_type"] == process_type) if process_type else \
        pd.Series(True, index=cases.index)
    notes.append(Said("effects.cut", cut=f"{cut:%Y-%m-%d}", end=f"{hi:%Y-%m-%d}",
                      days=float(typical)))
    # control: the other types with no change point in the window
    control: tuple[str, ...] = ()
    if process_type:
        changed = process_versions(log).changes
        moving = set(changed.loc[(changed["date"] >= lo) & (changed["date"] < hi),
                                 "process_type"].dropna())
        others = cases.loc[~treated, "process_type"]
        counts = others.groupby([others, cases.loc[~treated, "after"]]).size().unstack(
            fill_value=0)
        control = tuple(sorted(t for t in counts.index if t not in moving
                               and t != "(未知)" and counts.loc[t].min() >= MIN_CASES))
        if moving - {process_type}:
            notes.append(Said("effects.control_changed",
                              types=sorted(str(t) for t in moving - {process_type})))
    method: str | None = "difference_in_differences" if control else "interrupted_time_series"
    groups = {"treated": cases[treated],
              "control": cases[cases["process_type"].isin(control)] if control else None}
    t = groups["treated"]
    if t["after"].sum() < MIN_CASES or (~t["after"]).sum() < MIN_CASES:
        method = None
        notes.append(Said("effects.too_few", n=MIN_CASES))
    rng = np.random.default_rng([seed, 0xEFFEC7])
    rows = [_measure_row(m, groups, method, when, n_boot, rng) for m in MEASURES]
    if deviating is None:
        notes.append(Said("effects.no_conformance"))
    return RedesignEffect(date=when, process_type=process_type, method=method, control=control,
                          window=(lo, hi), summary=pd.DataFrame(rows), seed=seed,
                          n_boot=n_boot, notes=tuple(notes))


def _values(frame: pd.DataFrame, m: Measure) -> np.ndarray:
    v = frame[m.column].astype(float).to_numpy()
    v = v[~np.isnan(v)]
    return np.log(v + _DAY) if m.scale == "log" else v


def _change(before: float, after: float, m: Measure) -> float:
    """A difference on the measure's scale as a relative change."""
    return float(math.expm1(after - before)) if m.scale == "log" else \
        (float((after - before) / before) if before else float("nan"))


def _measure_row(m: Measure, groups: dict, method: str | None, when: pd.Timestamp,
                 n_boot: int, rng: np.random.Generator) -> dict:
    t = groups["treated"]
    t = t[t[m.column].notna()]
    tb, ta = t.loc[~t["after"]], t.loc[t["after"]]
    xb, xa = _values(tb, m), _values(ta, m)
    row = {"key": m.key, "measure": m.en, "measure_zh": m.zh, "target": m.target,
           "n_before": int(len(xb)), "n_after": int(len(xa)), "method": method}
    centre = (lambda v: float(np.mean(v)) if len(v) else float("nan"))
    raw = (lambda frame: frame[m.column].astype(float).dropna())
    row["naive_before"] = float(raw(tb).median() if m.scale == "log" else raw(tb).mean()) \
        if len(xb) else float("nan")
    row["naive_after"] = float(raw(ta).median() if m.scale == "log" else raw(ta).mean()) \
        if len(xa) else float("nan")
    row["naive_change"] = ((row["naive_after"] / row["naive_before"] - 1)
                           if row["naive_before"] else float("nan"))
    effect = lo = hi = float("nan")
    if method == "difference_in_differences" and \
            groups["control"][m.column].notna().sum() < 2 * MIN_CASES:
        method = None
    if method is not None and len(xb) >= MIN_CASES and len(xa) >= MIN_CASES:
        if method == "difference_in_differences":
            c = groups["control"]
            cb, ca = _values(c.loc[~c["after"]], m), _values(c.loc[c["after"]], m)
            row["n_control_before"], row["n_control_after"] = int(len(cb)), int(len(ca))

            def estimate(b, a, cb_, ca_):
                diff = (centre(a) - centre(b)) - (centre(ca_) - centre(cb_))
                return float(math.expm1(diff)) if m.scale == "log" else \
                    (diff / centre(b) if centre(b) else float("nan"))

            effect = estimate(xb, xa, cb, ca)
            draws = [estimate(*(rng.choice(v, len(v)) for v in (xb, xa, cb, ca)))
                     for _ in range(n_boot)]
        else:
            wb, wa = _weeks(tb["start_at"], when), _weeks(ta["start_at"], when)

            def estimate(b_idx, a_idx):
                return _its(xb[b_idx], wb[b_idx], xa[a_idx], wa[a_idx], m)

            effect = estimate(np.arange(len(xb)), np.arange(len(xa)))
            draws = [estimate(rng.integers(0, len(xb), len(xb)),
                              rng.integers(0, len(xa), len(xa))) for _ in range(n_boot)]
        finite = np.array([d for d in draws if np.isfinite(d)])
        if finite.size:
            lo, hi = (float(q) for q in np.percentile(finite, [2.5, 97.5]))
    row.update(effect=effect, ci_low=lo, ci_high=hi)
    row["clear_of_zero"] = bool(not math.isnan(hi) and (hi < 0 or lo > 0))
    row["status"] = _status(effect, lo, hi, m.target)
    return row


def _status(effect: float, lo: float, hi: float, target: float) -> str:
    """met: the estimate reaches the target and the interval excludes no change; not
    measurable: no estimate, or an interval that allows both reaching the target and no
    reduction at all; not met: otherwise."""
    if math.isnan(effect) or math.isnan(lo) or (lo <= -target and hi >= 0):
        return "not measurable"
    return "met" if effect <= -target and hi < 0 else "not met"


def _weeks(starts: pd.Series, when: pd.Timestamp) -> np.ndarray:
    """Whole weeks from `when` to each start (negative before it)."""
    ns = starts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").astype(
        np.int64)
    return np.floor((ns - when.tz_convert("UTC").tz_localize(None).value)
                    / (7 * 86400e9)).astype(np.int64)


def _its(before: np.ndarray, week_before: np.ndarray, after: np.ndarray,
         week_after: np.ndarray, m: Measure) -> float:
    """The after-period mean against the pre-change weekly trend extended over the after
    period (both on the measure's scale), as a relative change."""
    shift = int(week_before.min())
    counts = np.bincount(week_before - shift)
    full = counts > 0
    if full.sum() < 4:
        return float("nan")
    means = np.bincount(week_before - shift, weights=before)[full] / counts[full]
    x = (np.flatnonzero(full) + shift).astype(float)
    slope, intercept = np.polyfit(x, means, 1)
    projected = float(np.mean(intercept + slope * week_after))
    observed = float(np.mean(after))
    return float(math.expm1(observed - projected)) if m.scale == "log" else \
        ((observed - projected) / projected if projected else float("nan"))
