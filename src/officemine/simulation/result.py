"""Results of a simulation: one `ScenarioResult` per scenario, gathered in a `SimulationResult`.

Both have ``.summary`` (a DataFrame), a readable ``repr``, ``_repr_html_``, ``plot(ax=)`` and
``to_json()``; the CLI, notebooks and reports render these same objects.

Definitions (the JSON says them too): *cycle time* runs from a case's start to its end
(docs/definitions.md), in clock hours, completed cases only; working
days are working time of the calendar divided by a full working day. A *reduction* is
``100 × (1 − redesign / baseline)`` of the statistic, so positive = faster. Intervals are
95% percentile intervals of a case bootstrap (cases resampled with replacement, seeded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from officemine.base.errors import NotFoundError
from officemine.base.jsonable import plain
from officemine.base.plotting import chart_style
from officemine.log.result import Result
from officemine.simulation.scenario import Scenario
from officemine.base.choices import Lang
from officemine.base.text import heads, in_lang, say, word

CYCLE_TIME_BASIS = ("case start (first submission) to case end (final event), completed cases "
                    "only (docs/definitions.md); clock hours, and working days of the calendar")
REDUCTION_BASIS = "100 × (1 − redesign / baseline); positive = faster"
CI_METHOD = ("95% percentile interval of a case bootstrap: cases resampled with replacement "
             "(seeded); for scenarios with random elements each resampled case also draws one "
             "of the alternative selections")


def _clean(value: Any) -> Any:
    """JSON-ready, floats to 6 digits (see `officemine.base.jsonable.plain`)."""
    return plain(value, digits=6)


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}{suffix}"


@dataclass(frozen=True)
class CycleStats:
    """Cycle-time statistics of one population (clock hours and working days)."""

    median_h: float
    mean_h: float
    p90_h: float
    median_workdays: float
    mean_workdays: float

    def to_dict(self) -> dict:
        return {k: _clean(v) for k, v in self.__dict__.items()}


class _Simulated(Result):
    """The result contract as the simulation keeps it: the whole readable text above the
    table in HTML."""

    def _html_heading(self) -> list[str]:
        return repr(self).splitlines()


@dataclass(frozen=True, repr=False, eq=False)
class ScenarioResult(_Simulated):
    """One scenario against the baseline: cycle time, its reduction with intervals, the other
    indicators, the validation of the as-is model, and every case (``cases``)."""

    scenario: Scenario
    engine: str
    seed: int
    replications: int
    population: tuple[str, ...]
    baseline: CycleStats
    redesign: CycleStats
    reduction: dict
    validation: dict
    indicators: dict
    by_process: pd.DataFrame
    cases: pd.DataFrame = field(repr=False)
    selection_draws: int = 1
    warnings: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    affected: dict = field(default_factory=dict)
    ci_method: str = CI_METHOD

    @property
    def n_cases(self) -> int:
        return int(len(self.cases))

    @property
    def summary(self) -> pd.DataFrame:
        """One row per indicator: baseline, redesign, change (and its interval)."""
        red, b, r, ind = self.reduction, self.baseline, self.redesign, self.indicators
        rows = [
            ("cycle time median (h)", b.median_h, r.median_h, red["median_pct"],
             *red["median_pct_ci"]),
            ("cycle time mean (h)", b.mean_h, r.mean_h, red["mean_pct"], *red["mean_pct_ci"]),
            ("cycle time p90 (h)", b.p90_h, r.p90_h, red["p90_pct"], *red["p90_pct_ci"]),
            ("cycle time median (working days)", b.median_workdays, r.median_workdays,
             _pct(b.median_workdays, r.median_workdays), np.nan, np.nan),
            ("cycle time mean (working days)", b.mean_workdays, r.mean_workdays,
             _pct(b.mean_workdays, r.mean_workdays), np.nan, np.nan),
            ("waiting at approval steps (working h, total)", ind["approver_hours"]["before"],
             ind["approver_hours"]["after"],
             _pct(ind["approver_hours"]["before"], ind["approver_hours"]["after"]), np.nan, np.nan),
            ("approval actions", ind["items"]["before"], ind["items"]["after"],
             _pct(ind["items"]["before"], ind["items"]["after"]), np.nan, np.nan),
            ("returns", ind["returns"]["before"], ind["returns"]["after"],
             _pct(ind["returns"]["before"], ind["returns"]["after"]), np.nan, np.nan),
            ("hand-offs per case", ind["handoffs_per_case"]["before"],
             ind["handoffs_per_case"]["after"],
             _pct(ind["handoffs_per_case"]["before"], ind["handoffs_per_case"]["after"]),
             np.nan, np.nan),
        ]
        return pd.DataFrame(rows, columns=["indicator", "baseline", "redesign", "reduction_pct",
                                           "ci_low", "ci_high"])

    def to_dict(self) -> dict:
        """The documented JSON contract (docs/simulation.md)."""
        red = dict(self.reduction)
        return _clean({
            "scenario": self.scenario.name,
            "description": self.scenario.describe(),
            "changes": [c.to_dict() for c in self.scenario.changes],
            "engine": self.engine,
            "seed": self.seed,
            "replications": self.replications,
            "selection_draws": self.selection_draws,
            "cases": self.n_cases,
            "population": list(self.population),
            "changed_cases": int(self.cases["changed"].sum()),
            "imputed_cases": int(self.cases["imputed"].sum()),
            "baseline": self.baseline.to_dict(),
            "redesign": self.redesign.to_dict(),
            "reduction": red,
            "validation": self.validation,
            "indicators": self.indicators,
            "by_process": self.by_process.to_dict("records"),
            "cycle_time": CYCLE_TIME_BASIS,
            "reduction_basis": REDUCTION_BASIS,
            "ci_method": self.ci_method,
            "affected": self.affected,
            "warnings": list(self.warnings),
            **self.extra,
        })

    def headline(self) -> str:
        red = self.reduction
        lo, hi = red["median_pct_ci"]
        mlo, mhi = red["mean_pct_ci"]
        return (f"{self.scenario.name}: median {_fmt(self.baseline.median_h)} h → "
                f"{_fmt(self.redesign.median_h)} h ({_fmt(red['median_pct'], 1, '%')} faster, "
                f"95% CI {_fmt(lo)}–{_fmt(hi)}%); mean {_fmt(self.baseline.mean_h)} h → "
                f"{_fmt(self.redesign.mean_h)} h ({_fmt(red['mean_pct'], 1, '%')}, "
                f"{_fmt(mlo)}–{_fmt(mhi)}%)")

    def concerns(self) -> str:
        """Whom the estimate concerns: the share of cases the scenario changes, and the
        reduction over them alone."""
        a = self.affected
        if not a:
            return "  concerns: not computed by this engine"
        if self.engine == "stochastic":
            lo, hi = a["share_ci"]
            text = (f"  concerns {_fmt(100 * a['share'], 0)}% of the simulated cases "
                    f"(95% CI {_fmt(100 * lo, 0)}–{_fmt(100 * hi, 0)}%: the redesign changes "
                    f"their cycle time)")
        else:
            text = (f"  concerns {_fmt(100 * a['share'], 0)}% of the cases ({a['cases']:,} of "
                    f"{a['of_cases']:,} pass a changed step or meet its condition)")
        if a.get("median_pct") is not None:
            lo, hi = a["median_pct_ci"]
            text += (f"; over them alone: median {_fmt(a['median_pct'], 1, '%')} faster "
                     f"(95% CI {_fmt(lo)}–{_fmt(hi)}%), mean {_fmt(a['mean_pct'], 1, '%')}")
        return text

    def __repr__(self) -> str:
        ind = self.indicators
        scope = "、".join(self.population) or "all"
        lines = [
            f"<ScenarioResult {self.engine}: {self.scenario.describe()}; {self.n_cases:,} "
            f"completed cases of {scope}; seed={self.seed}, replications={self.replications}>",
            "  " + self.headline(),
            *([self.concerns()] if self.affected else []),
            f"  waiting at approval steps {_fmt(ind['approver_hours']['before'], 0)} → "
            f"{_fmt(ind['approver_hours']['after'], 0)} working h; approval actions removed "
            f"{_fmt(ind['items']['no_longer_handled'], 0)}; returns avoided "
            f"{_fmt(ind['returns']['avoided'], 0)}; hand-offs per case "
            f"{_fmt(ind['handoffs_per_case']['before'], 2)} → "
            f"{_fmt(ind['handoffs_per_case']['after'], 2)}",
            f"  validation: {_validation_text(self.validation)}",
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


    def plot(self, ax=None, lang: str = "zh"):
        """Cycle-time distribution before and after (empirical CDF, clock hours, log scale)."""
        import matplotlib.pyplot as plt

        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 4))
            base = np.sort(self.cases["baseline_hours"].dropna().to_numpy())
            red = np.sort(self.cases["redesign_hours"].dropna().to_numpy())
            labels = (say("chart.as_is", lang), say("chart.redesign", lang))
            for data, label in zip((base, red), labels):
                if len(data):
                    ax.step(np.maximum(data, 1e-3), np.arange(1, len(data) + 1) / len(data),
                            where="post", label=label)
            ax.set_xscale("log")
            ax.set_xlabel(say("chart.cycle_hours", lang))
            ax.set_ylabel(say("chart.cumulative_share", lang))
            ax.set_title(self.headline() if lang != "zh" else
                         f"{self.scenario.name}：中位数缩短 {_fmt(self.reduction['median_pct'])}%",
                         fontsize=9)
            ax.legend(frameon=False)
        return ax


def _pct(before: float, after: float) -> float:
    if before is None or after is None or not before or np.isnan(before):
        return float("nan")
    return 100.0 * (1.0 - after / before)


def _validation_text(v: dict) -> str:
    parts = [f"as-is median error {_fmt(v.get('as_is_median_error_pct'), 2)}%",
             f"mean error {_fmt(v.get('as_is_mean_error_pct'), 2)}%",
             f"EMD {_fmt(v.get('emd_hours'), 2)} h"]
    if v.get("ngram_distance") is not None:
        parts.append(f"3-gram distance {_fmt(v['ngram_distance'], 3)}")
    if v.get("verdict"):
        parts.append(v["verdict"])
    return ", ".join(parts)


@dataclass(frozen=True, repr=False, eq=False)
class SimulationResult(_Simulated):
    """Several scenarios on the same log, side by side (``results`` in the order given)."""

    results: tuple[ScenarioResult, ...]
    engine: str
    seed: int
    replications: int
    calendar: str
    log_info: dict
    validation: dict

    def __getitem__(self, key: int | str) -> ScenarioResult:
        if isinstance(key, str):
            for r in self.results:
                if r.scenario.name == key:
                    return r
            raise NotFoundError(f"no scenario {key!r}; scenarios: "
                           f"{', '.join(r.scenario.name for r in self.results)}")
        return self.results[key]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per scenario: cycle-time reduction with intervals and the other indicators."""
        rows = []
        for r in self.results:
            red, ind = r.reduction, r.indicators
            rows.append({
                "scenario": r.scenario.name, "cases": r.n_cases,
                "changed_cases": int(r.cases["changed"].sum()),
                "baseline_median_h": r.baseline.median_h, "redesign_median_h": r.redesign.median_h,
                "median_pct": red["median_pct"], "median_pct_ci_low": red["median_pct_ci"][0],
                "median_pct_ci_high": red["median_pct_ci"][1],
                "baseline_mean_h": r.baseline.mean_h, "redesign_mean_h": r.redesign.mean_h,
                "mean_pct": red["mean_pct"], "mean_pct_ci_low": red["mean_pct_ci"][0],
                "mean_pct_ci_high": red["mean_pct_ci"][1], "p90_pct": red["p90_pct"],
                "baseline_median_workdays": r.baseline.median_workdays,
                "redesign_median_workdays": r.redesign.median_workdays,
                "affected_share": r.affected.get("share", np.nan),
                "affected_median_pct": r.affected.get("median_pct", np.nan),
                "waiting_hours_removed": ind["approver_hours"]["saved"],
                "approval_actions_removed": ind["items"]["no_longer_handled"],
                "returns_avoided": ind["returns"]["avoided"],
                "handoffs_per_case_before": ind["handoffs_per_case"]["before"],
                "handoffs_per_case_after": ind["handoffs_per_case"]["after"],
            })
        return pd.DataFrame(rows)

    def table(self, lang: Lang = "zh") -> pd.DataFrame:
        """The scenarios side by side as a reader of `lang` sees them (the review's scenario
        page and the ``simulate`` command): cases, median hours before → after, the median and
        mean reductions with their 95% intervals, working days, waiting removed, returns
        avoided, hand-offs per case."""
        s = self.summary
        pct = (lambda v, lo, hi: f"{v:.1f}% ({lo:.1f}–{hi:.1f}%)")
        arrow = (lambda a, b, digits: [f"{x:.{digits}f} → {y:.{digits}f}" for x, y in zip(a, b)])
        cols = heads("scenario", lang)
        return pd.DataFrame({
            cols[0]: s["scenario"], cols[1]: s["cases"].map("{:,}".format),
            cols[2]: arrow(s["baseline_median_h"], s["redesign_median_h"], 1),
            cols[3]: [pct(*v) for v in zip(s["median_pct"], s["median_pct_ci_low"],
                                           s["median_pct_ci_high"])],
            cols[4]: [pct(*v) for v in zip(s["mean_pct"], s["mean_pct_ci_low"],
                                           s["mean_pct_ci_high"])],
            cols[5]: arrow(s["baseline_median_workdays"], s["redesign_median_workdays"], 2),
            cols[6]: s["waiting_hours_removed"].map("{:,.0f}".format),
            cols[7]: s["returns_avoided"].map("{:,.0f}".format),
            cols[8]: arrow(s["handoffs_per_case_before"], s["handoffs_per_case_after"], 2),
        })

    def basis(self, lang: Lang = "zh") -> str:
        """How the estimate was made, in `lang`: engine, seed, resamples, what is measured,
        and the as-is model's fit to the log."""
        v = self.validation
        return say("review.scenario_basis", lang, engine=word("engine", self.engine, lang),
                   seed=self.seed, replications=self.replications,
                   median_error=v["as_is_median_error_pct"],
                   mean_error=v["as_is_mean_error_pct"], emd=v["emd_hours"], n=v["cases"])

    def title(self, lang: Lang = "zh") -> str:
        """The estimate's title in `lang`, naming the scenarios (the review page's and the
        ``simulate`` command's)."""
        return say("review.scenario", lang,
                   name=say("list.semi", lang).join(r.scenario.name for r in self.results))

    def text(self, lang: Lang = "zh") -> str:
        """What the ``simulate`` command prints, in `lang`: the scenarios side by side, the
        basis and every scenario's warnings (the ``repr`` says it for developers, in English)."""
        warnings = dict.fromkeys(w for r in self.results for w in r.warnings)
        return "\n".join([self.title(lang), self.table(lang).to_string(index=False),
                          self.basis(lang)]
                         + [say("review.warning", lang, text=in_lang(w, lang))
                            for w in warnings])

    def to_dict(self) -> dict:
        """The first scenario's fields at the top level (the contract for one scenario), and
        every scenario, in order, under ``scenarios`` — the same shape however many there are."""
        first = self.results[0].to_dict()
        return _clean({**first, "calendar": self.calendar, "log": self.log_info,
                       "scenarios": [r.to_dict() for r in self.results]})

    def __repr__(self) -> str:
        head = (f"<SimulationResult {self.engine}: {len(self.results)} scenario(s) on "
                f"{self.log_info.get('cases', 0):,} cases; seed={self.seed}, "
                f"replications={self.replications}; validation: "
                f"{_validation_text(self.validation)}>")
        return "\n".join([head] + ["  " + r.headline() for r in self.results]
                         + [f"  warning: {w}" for r in self.results for w in r.warnings])


    def plot(self, ax=None, lang: str = "zh"):
        """Median and mean reduction per scenario with their 95% intervals."""
        import matplotlib.pyplot as plt

        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 1.2 + 0.7 * len(self.results)))
            names = [r.scenario.name for r in self.results]
            y = np.arange(len(names))
            for k, (key, label, off) in enumerate((
                    ("median", say("chart.median", lang), -0.18),
                    ("mean", say("chart.mean", lang), 0.18))):
                val = np.array([r.reduction[f"{key}_pct"] for r in self.results], float)
                ci = np.array([r.reduction[f"{key}_pct_ci"] for r in self.results], float)
                err = np.abs(np.vstack([val - ci[:, 0], ci[:, 1] - val]))
                ax.barh(y + off, val, height=0.34, xerr=err, capsize=3, label=label,
                        color=f"C{k}")
            ax.set_yticks(y, names)
            ax.invert_yaxis()
            ax.axvline(0, color="0.3", lw=0.8)
            ax.set_xlabel(say("chart.reduction", lang))
            ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return ax
