"""Process discovery: the paths cases take, the map of the process, rework and hand-offs.

>>> import officemine
>>> from officemine.discovery import discover
>>> log = officemine.import_log("sample_logs/oa_sample.csv")           # doctest: +SKIP
>>> result = discover(log, process_type="费用报销")                     # doctest: +SKIP
>>> result.variants.summary.head()                                      # doctest: +SKIP
>>> result.save("reports/discovery")                                    # doctest: +SKIP

Every analysis is built on *visits* (a case's uninterrupted stay at one node) and on the
log's cases, as `officemine.log.relations` defines them; node waits come from
`officemine.log.relations.work_items` so they agree with the necessity test. Definitions and the
basis of every number: docs/discovery.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from officemine.log.calendar import Calendar
from officemine.discovery._base import (DiscoveryError, DiscoveryOutput, Scope, ScopeEvents,
                                        case_table, check_process_type, fmt_num, read_events)
from officemine.discovery._facts import SCALARS, DiscoveryFacts
from officemine.discovery.handoffs import HandoffResult, handoff_facts, handoffs_from_facts
from officemine.discovery.processmap import (ProcessMap, auto_min_frequency, map_facts,
                                             map_from_facts)
from officemine.discovery.rework import ReworkResult, rework_facts, rework_from_facts
from officemine.discovery.variants import VariantsResult, variant_facts, variants_from_facts
from officemine.log.eventlog import EventLog
from officemine.base.choices import Lang
from officemine.base.text import say

__all__ = ["discover", "DiscoveryResult", "VariantsResult", "ProcessMap", "ReworkResult",
           "HandoffResult", "Scope", "DiscoveryError"]

#: Files `DiscoveryResult.save` writes, in order.
OUTPUT_FILES = ("variants.csv", "map.png", "map.svg", "map.pdf", "map_nodes.csv",
                "map_arcs.csv", "model.bpmn", "rework.csv", "handoffs.csv", "discovery.json")


@dataclass(frozen=True, repr=False, eq=False)
class DiscoveryResult(DiscoveryOutput):
    """Variants, process map, rework and hand-offs of one scope of a log."""

    scope: Scope
    variants: VariantsResult
    process_map: ProcessMap
    rework: ReworkResult
    handoffs: HandoffResult
    settings: dict

    @property
    def summary(self) -> pd.DataFrame:
        """Headline numbers, one per row, each with its unit and basis."""
        v, r, h = self.variants, self.rework, self.handoffs
        top = v.table.iloc[0] if len(v.table) else None
        clock, work = r.added("clock hours"), r.added("working days")
        rows = [
            ("cases", v.n_cases, "cases", "in scope"),
            ("completed cases", v.n_completed, "cases", "ended: final event archive, "
             "reject or withdraw, nothing pending (docs/definitions.md)"),
            ("open cases", v.n_open, "cases", "not completed at the end of the log"),
            ("variants", len(v.table), "paths", "distinct sequences of visits"),
            ("top variant share", float(top["share"]) if top is not None else None,
             "share of cases", top["path"] if top is not None else ""),
            ("top-5 variants coverage", v.coverage(5), "share of cases", ""),
            ("median cycle time", v.median_cycle_hours, "clock hours", "completed cases"),
            ("median cycle time", v.median_cycle_workdays, "working days",
             f"completed cases; calendar {self.scope.calendar}"),
            ("returns", r.n_returns, "events", "outcome return"),
            ("cases with a return", r.share_with_returns, "share of cases", ""),
            ("added cycle time with returns", clock.get("difference"), "clock hours",
             _ci_text(clock, r.confidence)),
            ("added cycle time with returns", work.get("difference"), "working days",
             _ci_text(work, r.confidence)),
            ("hand-offs per case (mean)", h.mean_per_case if h.has_departments else None,
             "hand-offs", "between departments"),
            ("hand-offs per case (median)", h.median_per_case if h.has_departments else None,
             "hand-offs", "between departments"),
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "unit", "basis"])

    def to_dict(self) -> dict:
        return {"officemine_discovery": 1, "scope": self.scope.to_dict(),
                "settings": self.settings,
                "variants": self.variants.to_dict(), "process_map": self.process_map.to_dict(),
                "rework": self.rework.to_dict(), "handoffs": self.handoffs.to_dict()}

    def plot(self, ax=None):
        """The process map (see `ProcessMap.plot`)."""
        return self.process_map.plot(ax=ax)

    def save(self, directory: str | Path, lang: Lang = "zh") -> dict[str, Path]:
        """Write every output (`OUTPUT_FILES`) into `directory`, the maps' words in `lang`;
        returns name → path.

        CSVs are UTF-8 with BOM so Excel opens the Chinese text right, and no cell starts a
        formula. The files are written under temporary names and replace earlier ones
        together once all are complete (`officemine.base.atomic`).
        """
        from officemine.base.atomic import atomic_paths, csv_to

        out = Path(directory)
        paths = {name: out / name for name in OUTPUT_FILES}
        with atomic_paths(*paths.values()) as temps:
            temp = dict(zip(OUTPUT_FILES, temps))
            csv_to(self.variants.table, temp["variants.csv"])
            self.process_map.save_many([temp[name] for name in ("map.png", "map.svg", "map.pdf")],
                                       lang=lang)
            csv_to(self.process_map.nodes, temp["map_nodes.csv"])
            csv_to(self.process_map.arcs, temp["map_arcs.csv"])
            self.process_map.to_bpmn(temp["model.bpmn"],
                                     noise_threshold=self.settings["bpmn_noise_threshold"])
            csv_to(rework_table(self.rework), temp["rework.csv"])
            csv_to(self.handoffs.pairs, temp["handoffs.csv"])
            temp["discovery.json"].write_text(self.to_json(), encoding="utf-8")
        return paths

    def text(self, top: int = 5, lang: Lang = "en") -> str:
        """A short plain-text summary in `lang` (what the CLI prints; the ``repr`` is it in
        English)."""
        v, sc = self.variants, self.scope
        lines = [say("discovery.head", lang, scope=sc.label_in(lang), cases=sc.n_cases,
                     events=sc.n_events, span=sc.span_text()),
                 say("discovery.counts", lang, completed=v.n_completed, open=v.n_open,
                     variants=len(v.table), hours=fmt_num(v.median_cycle_hours),
                     days=fmt_num(v.median_cycle_workdays)),
                 say("discovery.top", lang)]
        for row in v.table.head(top).itertuples():
            lines.append(say("discovery.variant", lang, variant=f"V{row.variant:<3}",
                             share=row.share, cases=row.cases,
                             hours=fmt_num(row.median_cycle_hours),
                             days=fmt_num(row.median_cycle_workdays), path=row.path))
        lines.append(say("discovery.coverage", lang, n=min(top, len(v.table)),
                         share=v.coverage(top)))
        lines.append(say("discovery.rework", lang, text=self.rework.headline(lang)))
        lines.append(say("discovery.handoffs", lang, text=self.handoffs.headline(lang)))
        h = self.process_map.hidden()
        lines.append(say("discovery.map", lang, nodes=len(self.process_map.nodes),
                         arcs=len(self.process_map.arcs),
                         returns=len(self.process_map.return_arcs), hidden=h["arcs"],
                         min=h["min_frequency"], calendar=sc.calendar_in(lang)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<DiscoveryResult\n{self.text()}>"

    @property
    def seed(self) -> int:
        """The seed of the rework bootstrap."""
        return self.settings["seed"]

    def _html_heading(self) -> list[str]:
        return [f"Discovery: {self.scope.label}", *self.text().splitlines()[1:2]]

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.summary.head(self.HTML_ROWS)]


def _ci_text(row: dict, confidence: float) -> str:
    if not row:
        return ""
    return (f"completed cases with ≥1 return minus without; {confidence:.0%} bootstrap CI "
            f"{fmt_num(row.get('ci_low'), 2)} to {fmt_num(row.get('ci_high'), 2)}; "
            f"n = {row.get('n_with', 0):,} vs {row.get('n_without', 0):,}")


def rework_table(rework: ReworkResult) -> pd.DataFrame:
    """Return targets with their source node's decisions and return rate (rework.csv)."""
    by = rework.by_node.rename(columns={"node": "from_node"})[
        ["from_node", "decisions", "return_rate"]]
    return rework.targets.merge(by, on="from_node", how="left")


def discover(log: EventLog, process_type: str | None = None, *,
             calendar: Calendar | None = None, min_frequency: int | None = None,
             seed: int = 0, n_boot: int = 2000,
             bpmn_noise_threshold: float = 0.1) -> DiscoveryResult:
    """Variants, process map, rework and hand-offs of `log` (or of one process type).

    min_frequency: arcs with fewer transitions (and nodes with fewer visits) are hidden in
        the drawing (the tables keep them); default 0.5 % of the cases, at least 2 (1 for
        fewer than 50 cases).
    seed, n_boot: the bootstrap of the cycle time rework adds (recorded in the result).
    bpmn_noise_threshold: the inductive miner's noise filter for the BPMN model.
    """
    calendar = calendar or log.calendar
    check_settings(min_frequency, bpmn_noise_threshold)
    check_process_type(log, process_type)
    # one scan of the scope's events; every analysis below works on these arrays
    events = read_events(log, process_type)
    if events.n_cases == 0:
        raise DiscoveryError("the log has no cases to discover a process from")
    facts, cases, per_case = facts_of(log, events, process_type, calendar)
    return finish(facts, process_type, timezone=log.timezone, calendar=calendar,
                  min_frequency=min_frequency, seed=seed, n_boot=n_boot,
                  bpmn_noise_threshold=bpmn_noise_threshold, cases=cases, per_case=per_case)


def check_settings(min_frequency: int | None, bpmn_noise_threshold: float) -> None:
    """Check a discovery's settings before any work."""
    if min_frequency is not None and (not isinstance(min_frequency, int) or min_frequency < 1):
        raise DiscoveryError(f"min_frequency must be a whole number ≥ 1, not {min_frequency!r}")
    if not 0.0 <= bpmn_noise_threshold <= 1.0:
        raise DiscoveryError(f"bpmn_noise_threshold must be between 0 and 1, "
                             f"not {bpmn_noise_threshold!r}")


def facts_of(log: EventLog, events: ScopeEvents, process_type: str | None,
             calendar: Calendar, as_of=None) -> tuple[DiscoveryFacts, pd.DataFrame, pd.DataFrame]:
    """The facts of a scope (`events`, read by `read_events`) of `log` — the whole log, or a
    part of whole cases — with its case table and each case's hand-offs. `as_of`: "now" of
    the work items (default the log's end)."""
    scope = Scope.of(events, process_type, calendar)
    cases = case_table(log, scope, calendar, events=events)
    handoffs, per_case = handoff_facts(events, calendar)
    everything = {**variant_facts(cases), **rework_facts(events, cases),
                  **map_facts(log, events, process_type, calendar, as_of), **handoffs}
    micros = (lambda t: int(t.value // 1000) if t is not None else None)
    scalars = {"events": events.n_events, "cases": events.n_cases,
               "start": micros(events.start), "end": micros(events.end)}
    scalars.update({k: int(everything.pop(k)) for k in SCALARS if k in everything})
    return DiscoveryFacts(scalars, everything), cases, per_case


def finish(facts: DiscoveryFacts, process_type: str | None, *, timezone: str,
           calendar: Calendar, min_frequency: int | None = None, seed: int = 0,
           n_boot: int = 2000, bpmn_noise_threshold: float = 0.1,
           cases: pd.DataFrame | None = None,
           per_case: pd.DataFrame | None = None) -> DiscoveryResult:
    """The discovery of a scope from its facts (`facts_of`, or the facts of its parts added
    up); `cases` and `per_case` (the case table and each case's hand-offs) where the cases
    themselves were read, on one machine."""
    when = (lambda us: pd.Timestamp(int(us), unit="us", tz="UTC").tz_convert(timezone)
            if us is not None else None)
    s = facts.scalars
    scope = Scope(process_type, int(s["cases"]), int(s["events"]), when(s["start"]),
                  when(s["end"]), timezone, calendar.describe(), calendar.describe("en"))
    if scope.n_cases == 0:
        raise DiscoveryError("the log has no cases to discover a process from")
    freq = min_frequency if min_frequency is not None else auto_min_frequency(scope.n_cases)
    return DiscoveryResult(
        scope=scope,
        variants=variants_from_facts(facts, scope, cases=cases),
        process_map=map_from_facts(facts, scope, freq),
        rework=rework_from_facts(facts, scope, seed=seed, n_boot=n_boot, cases=cases),
        handoffs=handoffs_from_facts(facts, scope, per_case=per_case),
        settings={"min_frequency": freq, "min_frequency_source":
                  "given" if min_frequency is not None else "auto (0.5% of cases, at least 2)",
                  "seed": seed, "n_boot": n_boot, "bpmn_noise_threshold": bpmn_noise_threshold,
                  "calendar": calendar.describe()})
