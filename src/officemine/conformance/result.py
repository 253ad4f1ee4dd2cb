"""The result of a conformance check: tables, a chart, the JSON contract (docs/conformance.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from officemine.conformance.check import KINDS, CheckTables
from officemine.conformance.procedures import Procedures
from officemine.base.choices import Lang
from officemine.base.jsonable import plain, records
from officemine.base.plotting import chart_style, empty_note
from officemine.log.months import as_month
from officemine.log.result import Result
from officemine.log.schema import C
from officemine.base.stats import wilson_interval
from officemine.base.text import VALUES_IN_TABLE, in_lang, joined, say, word

#: What each kind is called in the deliverables.
KIND_NAMES: dict[str, tuple[str, str]] = {
    k: v for k, v in VALUES_IN_TABLE[("conformance", "kind")].items() if k != "any"}
KIND_COLOURS = {"skipped": "#e8590c", "unexpected": "#ae3ec9", "out_of_order": "#1c7ed6",
                "self_approval": "#e03131", "authority": "#5c940d"}
CONFIDENCE = 0.95
BASIS = ("cases whose procedure was in force at their start; each round judged against it "
         "(a round ended by a return, a rejection or a withdrawal, or still running, only up "
         "to its last step); a step is a visit decided at a node; share of cases with at "
         "least one deviation, Wilson 95% interval")
BASIS_ZH = ("按发起时有效的标准流程逐件、逐轮核对（被退回、否决、撤回或尚在办理的一轮只核对到其最后一步）；"
            "一个环节即在该节点作出的一次处理决定；不合规率 = 至少有一处偏离的件数 ÷ 核对件数，附 Wilson 95% 区间")


@dataclass(frozen=True, repr=False, eq=False)
class ConformanceResult(Result):
    """Deviations of the log's cases from their standard procedures.

    ``cases``: one row per case checked (of ``month``, when one is given: the cases completed
    in it) with its deviations counted by kind; ``deviations``: one row per deviation (case,
    process type, procedure, round, step, kind, the ``seq`` of the event involved, who
    decided and their department for self_approval and authority); ``summary``: one row per
    kind with the cases that show it, their share and its interval; ``by_step``; ``trend``
    (every month of the log, by completion month); ``worst()``.
    """

    tables: CheckTables
    procedures: Procedures
    month: str | None
    timezone: str

    html_float_format = "%.3f"

    # --- the selection ----------------------------------------------------------------------
    def _in_month(self, ended: pd.Series) -> np.ndarray:
        if self.month is None:
            return np.ones(len(ended), dtype=bool)
        local = pd.to_datetime(ended).dt.tz_convert(self.timezone).dt.tz_localize(None)
        return (local.dt.to_period("M") == pd.Period(self.month, "M")).to_numpy(bool)

    @cached_property
    def cases(self) -> pd.DataFrame:
        frame = self.tables.cases
        return frame[self._in_month(frame["ended_at"])].reset_index(drop=True)

    @cached_property
    def deviations(self) -> pd.DataFrame:
        frame = self.tables.deviations
        return frame[self._in_month(frame["ended_at"])].reset_index(drop=True)

    @property
    def n_cases(self) -> int:
        return int(len(self.cases))

    @property
    def n_deviating(self) -> int:
        return int(self.cases["deviating"].sum())

    @property
    def share(self) -> float | None:
        return self.n_deviating / self.n_cases if self.n_cases else None

    @property
    def ci(self) -> tuple[float, float] | None:
        if not self.n_cases:
            return None
        lo, hi = wilson_interval(self.n_deviating, self.n_cases, CONFIDENCE)
        return float(lo), float(hi)

    @property
    def by_kind(self) -> dict[str, int]:
        """Cases showing each kind at least once."""
        return {k: int((self.cases[k] > 0).sum()) for k in KINDS}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per kind, then ``any``: cases showing it, their share of the cases
        checked with a Wilson 95% interval, and how many deviations."""
        n = self.n_cases
        rows = []
        for kind in (*KINDS, "any"):
            hit = self.cases["deviating"] if kind == "any" else self.cases[kind] > 0
            k = int(hit.sum())
            lo, hi = wilson_interval(k, n, CONFIDENCE)
            count = int(self.cases["deviations" if kind == "any" else kind].sum())
            rows.append({"kind": kind,
                         "name_zh": word("kind", kind, "zh", "conformance"),
                         "cases": k, "share": k / n if n else np.nan,
                         "ci_low": float(lo), "ci_high": float(hi), "deviations": count,
                         "checked": n})
        return pd.DataFrame(rows)

    @cached_property
    def by_step(self) -> pd.DataFrame:
        """Per process type and step: cases with each kind there, cases with any, and the
        deviations, most first."""
        d = self.deviations
        cols = [C.process_type, "step", *KINDS, "cases", "deviations"]
        if d.empty:
            return pd.DataFrame(columns=cols)
        keys = [C.process_type, "step"]
        per_kind = (d.drop_duplicates([*keys, "kind", C.case_id])
                    .groupby(keys, dropna=False)["kind"].value_counts().unstack(fill_value=0))
        out = per_kind.reindex(columns=list(KINDS), fill_value=0)
        out["cases"] = d.drop_duplicates([*keys, C.case_id]).groupby(keys, dropna=False).size()
        out["deviations"] = d.groupby(keys, dropna=False).size()
        out = out.reset_index().sort_values(["deviations", "cases", "step"],
                                            ascending=[False, False, True], kind="stable")
        return out[cols].reset_index(drop=True)

    @cached_property
    def trend(self) -> pd.DataFrame:
        """Per completion month of the whole log: cases completed and checked, those with a
        deviation, the share and its Wilson 95% interval."""
        done = self.tables.cases[self.tables.cases["ended_at"].notna()]
        if done.empty:
            return pd.DataFrame(columns=["month", "completed", "deviating", "rate",
                                         "ci_low", "ci_high"])
        month = pd.to_datetime(done["ended_at"]).dt.tz_convert(self.timezone) \
            .dt.tz_localize(None).dt.to_period("M")
        g = done.groupby(month)["deviating"]
        out = pd.DataFrame({"completed": g.size(), "deviating": g.sum().astype(int)})
        full = pd.period_range(out.index.min(), out.index.max(), freq="M")
        out = out.reindex(full, fill_value=0)
        out.index = out.index.astype(str)
        out.index.name = "month"
        out = out.reset_index()
        with np.errstate(invalid="ignore", divide="ignore"):
            out["rate"] = out["deviating"] / out["completed"].where(out["completed"] > 0)
        out["ci_low"], out["ci_high"] = wilson_interval(out["deviating"], out["completed"],
                                                        CONFIDENCE)
        return out

    def worst(self, n: int = 10) -> pd.DataFrame:
        """The `n` cases with the most deviations: what went wrong, where."""
        c = self.cases[self.cases["deviating"]]
        if c.empty:
            return pd.DataFrame(columns=[C.case_id, C.process_type, "deviations", "kinds",
                                         "steps"])
        top = c.sort_values(["deviations", C.case_id], ascending=[False, True]).head(n)
        d = self.deviations[self.deviations[C.case_id].isin(top[C.case_id])]
        kinds = d.groupby(C.case_id)["kind"].agg(lambda s: list(dict.fromkeys(s)))
        steps = d.groupby(C.case_id)["step"].agg(lambda s: list(dict.fromkeys(s)))
        out = top[[C.case_id, C.process_type, "deviations"]].copy()
        out["kinds"] = out[C.case_id].map(kinds)
        out["steps"] = out[C.case_id].map(steps)
        return out.reset_index(drop=True)

    @property
    def not_checked(self) -> int:
        """Cases without a procedure in force (of the month, when one is given)."""
        return int(self._in_month(self.tables.unchecked["ended_at"]).sum())

    # --- renderers ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The documented JSON contract (docs/conformance.md)."""
        lo_hi = self.ci
        d = self.deviations
        deviations = [{
            "case_id": r[0], "process_type": r[1], "procedure": r[2], "round": int(r[3]),
            "step": r[4], "kind": r[5], "events": [int(r[6])] if r[6] >= 0 else [],
            "resource": plain(r[7]), "dept": plain(r[8])}
            for r in zip(d[C.case_id], d[C.process_type], d["procedure"], d["round"],
                         d["step"], d["kind"], d["seq"], d["resource"], d["dept"])]
        return {
            "month": self.month, "procedures": self.procedures.to_dict(),
            "cases": self.n_cases, "deviating_cases": self.n_deviating,
            "share": plain(self.share), "ci": list(lo_hi) if lo_hi else None,
            "by_kind": self.by_kind,
            "deviations_by_kind": {k: int(self.cases[k].sum()) for k in KINDS},
            "by_step": records(self.by_step), "worst": records(self.worst()),
            "deviations": deviations, "not_checked": self.not_checked,
            "trend": records(self.trend, 6), "notes": list(self.tables.notes),
            "basis": BASIS,
            "checked": {"variants": self.tables.variants, "rounds": self.tables.rounds,
                        "step_occurrences": self.tables.occurrences}}

    def for_month(self, month: Any) -> "ConformanceResult":
        """The same check, selecting the cases completed in `month` (None: every case)."""
        return make_result(self.tables, self.procedures, month, self.timezone)

    def __repr__(self) -> str:
        scope = f" {self.month}" if self.month else ""
        if not self.n_cases:
            return f"<ConformanceResult{scope}: no case checked ({self.not_checked:,} without a procedure)>"
        lo, hi = self.ci
        kinds = ", ".join(f"{k} {v:,}" for k, v in self.by_kind.items() if v)
        return (f"<ConformanceResult{scope}: {self.n_cases:,} cases checked, "
                f"{self.n_deviating:,} deviating ({self.share:.1%}, 95% CI {lo:.1%}–{hi:.1%})"
                f"{'; ' + kinds if kinds else ''}; {self.not_checked:,} without a procedure>")

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.summary, self.by_step.head(15)]

    def text(self, lang: Lang = "zh", steps: int = 15) -> str:
        """What the ``conformance`` command prints, in `lang`: the cases checked and how many
        deviate (with the interval), the cases by kind, the `steps` steps with most, notes."""
        if not self.n_cases:
            lines = [say("conformance.text_none", lang, unchecked=self.not_checked)]
        else:
            lo, hi = self.ci
            kind = (lambda k: word("kind", k, lang, "conformance"))
            lines = [say("conformance.text_checked", lang, n=self.n_cases,
                         deviating=self.n_deviating, share=self.share, lo=lo, hi=hi,
                         unchecked=self.not_checked),
                     say("conformance.text_kinds", lang, counts=" · ".join(
                         f"{kind(k)} {v:,}" for k, v in self.by_kind.items()))]
            by_step = self.by_step
            if len(by_step):
                lines.append(say("conformance.text_steps", lang))
                for row in by_step.head(steps).itertuples(index=False):
                    found = joined((f"{kind(k)} {getattr(row, k)}" for k in KINDS
                                    if getattr(row, k)), lang)
                    lines.append(f"  {row.process_type} · {row.step}: {found}")
                if len(by_step) > steps:
                    lines.append(say("conformance.text_more", lang, n=len(by_step) - steps))
        return "\n".join(lines + [say("text.note", lang, text=in_lang(n, lang))
                                   for n in self.tables.notes])

    def plot(self, ax=None, lang: str = "zh"):
        """Deviations by step and kind (stacked bars, cases) and the monthly share of
        completed cases with a deviation (with its 95% band). `ax`: one Axes (the bars
        only) or two; default a new figure with both. Returns the axes drawn on."""
        import matplotlib.pyplot as plt

        zh = lang == "zh"
        with chart_style():
            if ax is None:
                _, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained",
                                       gridspec_kw={"width_ratios": [1.1, 1]})
            else:
                axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
            self._plot_steps(axes[0], zh)
            if len(axes) > 1:
                self.plot_trend(axes[1], lang)
        return axes if len(axes) > 1 else axes[0]

    def _plot_steps(self, ax, zh: bool, top: int = 12) -> None:
        s = self.by_step.head(top).iloc[::-1]
        several = s[C.process_type].nunique() > 1
        labels = [f"{st}（{pt}）" if several else str(st)
                  for st, pt in zip(s["step"], s[C.process_type])]
        from matplotlib.ticker import MaxNLocator

        y = np.arange(len(s))
        left = np.zeros(len(s))
        for kind in KINDS:
            values = s[kind].to_numpy(float) if len(s) else np.zeros(0)
            if values.any():
                ax.barh(y, values, left=left, height=0.6, color=KIND_COLOURS[kind],
                        label=word("kind", kind, "zh" if zh else "en", "conformance"))
                left += values
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(-0.7, max(len(s), 3) - 0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        lang = "zh" if zh else "en"
        ax.set_xlabel(say("chart.cases", lang))
        scope = f"{self.month} " if self.month else ""
        ax.set_title(say("chart.deviations_by_step", lang, scope=scope), fontsize=11, pad=20)
        if len(s):
            ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0),
                      ncol=5, borderaxespad=0.2, handlelength=1.2)
        else:
            empty_note(ax, say("chart.no_deviation", lang), color="#868e96")
        ax.grid(axis="x", color="#e9ecef", lw=0.8)

    def plot_trend(self, ax=None, lang: str = "zh"):
        """The monthly 不合规率 of completed cases, with its Wilson 95% band."""
        import matplotlib.pyplot as plt

        t = self.trend
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
            x = np.arange(len(t))
            ax.plot(x, t["rate"].astype(float) * 100, marker="o", color="#c92a2a", lw=1.6)
            ax.fill_between(x, t["ci_low"].astype(float) * 100, t["ci_high"].astype(float) * 100,
                            color="#c92a2a", alpha=0.12, lw=0,
                            label=say("chart.ci", lang))
            if self.month is not None and self.month in set(t["month"]):
                ax.axvline(list(t["month"]).index(self.month), color="#868e96", lw=0.8, ls=":")
            ax.set_xticks(x, t["month"], rotation=45, ha="right", fontsize=8)
            ax.set_ylabel("%")
            ax.set_ylim(bottom=0)
            ax.set_title(say("chart.noncompliance_by_month", lang), fontsize=11)
            ax.grid(axis="y", color="#e9ecef", lw=0.8)
        return ax


def make_result(tables: CheckTables, procedures: Procedures, month: Any, timezone: str
                ) -> ConformanceResult:
    """The result of a check, for the cases completed in `month` (None: every case)."""
    return ConformanceResult(tables, procedures, str(as_month(month)) if month else None,
                             timezone)
