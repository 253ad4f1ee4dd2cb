"""What every month's KPI computation shares (`_Context`): the log's extent and notes, its
cases per process type, and the months' facts, from the per-case table, read in batches of
whole cases, or given by the Spark engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from officemine.base.choices import Lang
from officemine.base.errors import NotSupportedError
from officemine.base.text import Said, say
from officemine.kpis.cases import _deviating, case_cycles
from officemine.kpis.facts import FACT_COUNTS, FACT_SUMS, FACT_VALUES, MonthFacts, month_facts
from officemine.log import relations
from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.log.months import as_month, month_of
from officemine.sla import SLA

#: Memory an event of a batch costs at peak (the batch's events, its per-case table and
#: facts): about 650 bytes on the benchmark log (a batch of 1M events peaked at 0.8 GiB),
#: with a margin for wider exports (long titles and comments).
_BYTES_PER_EVENT = 2_000


def type_order(cases: pd.Series) -> list[str]:
    """Process types (the index of `cases`, their case counts) as the tables list them: most
    cases first, ties by name."""
    return list(cases.sort_index().sort_values(ascending=False, kind="stable").index)


def extent_notes(calendar: Calendar, timezone: str, start, end) -> list:
    """What the KPIs of a log from `start` to `end` (in `timezone`) say about their basis:
    the years `calendar` does not cover, and a calendar in another time zone."""
    notes = [] if start is None else list(calendar.coverage_warnings(start, end))
    if calendar.tz != timezone:
        notes.append(Said("kpis.other_zone", calendar=str(calendar.tz), log=str(timezone)))
    return notes


@dataclass
class _Context:
    """What every month's computation shares: the per-case table and the log's extent."""

    cases: pd.DataFrame | None      # None on Spark and in batches: the facts are `given`
    tz: str
    calendar: Calendar
    sla: SLA
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    event_months: pd.Series          # events per month ("2025-10" -> count)
    process_types: list[str]
    notes: list[str]
    log_info: dict
    procedures: str = ""                 # what 不合规率 was checked against
    missing: frozenset = frozenset()     # settings not given: KPIs that need them are empty
    given: MonthFacts | None = None      # the facts computed elsewhere (Spark, batches)

    def facts(self, months: list[pd.Period]) -> MonthFacts:
        """The facts of `months`: from the per-case table, or those given."""
        if self.given is not None:
            return self.given.months(str(m) for m in months)
        return month_facts(self.cases, self.tz, self.calendar, months,
                           [self.as_of(m) for m in months])

    @classmethod
    def build(cls, log: EventLog, calendar: Calendar, sla: SLA,
              procedures: Any = None) -> _Context:
        cases = case_cycles(log, calendar, sla)
        cases["deviating"], checked_against, conformance_notes = _deviating(
            log, cases, calendar, procedures)
        ctx = cls.of_log(log, calendar, sla)
        ctx.cases, ctx.procedures = cases, checked_against
        ctx.missing = frozenset() if procedures is not None else frozenset({"procedures"})
        ctx.count_cases(cases.groupby("process_type").size())
        ctx.notes.extend(conformance_notes)
        return ctx

    @classmethod
    def of_log(cls, log: EventLog, calendar: Calendar, sla: SLA,
               procedures: Any = None) -> _Context:
        """The log's extent, its events per month and the notes on them; the cases come
        later (`count_cases`, and the facts with `read_batches`). procedures: given only
        when the facts are read in batches, which do not check them (an error says so)."""
        if procedures is not None:
            raise NotSupportedError("不合规率 needs the conformance check, which is not "
                                    "computed in batches yet: compute the KPIs without "
                                    "procedures, or without memory_limit")
        start, end = log.span()
        notes = extent_notes(calendar, log.timezone, start, end)
        info = {"cases": 0, "events": log.n_events,
                "start": start.isoformat() if start is not None else None,
                "end": end.isoformat() if end is not None else None,
                "source": log.report.source_file if log.report else None}
        return cls(None, log.timezone, calendar, sla, start, end, relations.event_months(log),
                   [], notes, info, "", frozenset({"procedures"}))

    def count_cases(self, per_type: pd.Series) -> None:
        """The log's cases: how many of each process type (process type -> cases)."""
        self.process_types = type_order(per_type)
        self.log_info["cases"] = int(per_type.sum())

    def read_batches(self, log: EventLog, months: list[pd.Period],
                     memory_limit: int | str | None, batch_events: int | None) -> None:
        """The facts of `months` from the log read in batches of whole cases
        (`relations.case_batches`) sized to stay about within `memory_limit` (or of about
        `batch_events` events): each batch's `month_facts`, merged."""
        from officemine.importing.streaming import read_budget

        events, duckdb_memory = read_budget(memory_limit, _BYTES_PER_EVENT)
        as_of = [self.as_of(m) for m in months]
        counts, values, per_type = [], [], pd.Series(dtype="int64")
        # the cycle times are about one row per completed case: their keys are held as
        # categories (a byte a row instead of three strings), appended to as types appear
        keys = {"month": [str(m) for m in months], "process_type": [],
                "column": list(FACT_VALUES)}
        for batch in relations.case_batches(log, events=batch_events or events,
                                            duckdb_memory=duckdb_memory):
            cases = case_cycles(batch, self.calendar, self.sla)
            cases["deviating"] = np.nan             # 不合规率 is not read in batches
            facts = month_facts(cases, self.tz, self.calendar, months, as_of)
            counts.append(facts.counts)
            seen = set(keys["process_type"])
            keys["process_type"] += [t for t in facts.values["process_type"].unique()
                                     if t not in seen]
            values.append(facts.values.assign(**{
                k: pd.Categorical(facts.values[k], categories=c) for k, c in keys.items()}))
            per_type = per_type.add(cases.groupby("process_type").size(), fill_value=0)
        self.count_cases(per_type.astype("int64"))
        values = [v.assign(process_type=v["process_type"].cat.set_categories(
            keys["process_type"])) for v in values]
        self.given = MonthFacts.merge(
            pd.concat(counts, ignore_index=True) if counts else
            pd.DataFrame(columns=["month", "process_type", *FACT_COUNTS, *FACT_SUMS]),
            pd.concat(values, ignore_index=True) if values else
            pd.DataFrame(columns=[*keys, "value", "n"]))

    def month(self, month: Any) -> pd.Period:
        """The month asked for (`as_month`), by default the month the log ends in (this
        month for an empty log)."""
        if month is not None:
            return as_month(month)
        return self.last_month or as_month(pd.Timestamp.now(tz=self.tz))

    @property
    def last_month(self) -> pd.Period | None:
        return month_of(self.end) if self.end is not None else None

    def fill(self, lang: Lang) -> dict:
        """What a KPI's basis names, in `lang`: the calendar, the limits, the procedures."""
        return {"calendar": self.calendar.describe(lang), "sla": self.sla.describe(lang),
                "day_hours": f"{self.calendar.day_seconds / 3600:g}",
                "procedures": self.procedures or say("kpis.no_procedures", lang)}

    def bounds(self, m: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
        return (pd.Timestamp(m.start_time).tz_localize(self.tz),
                pd.Timestamp((m + 1).start_time).tz_localize(self.tz))

    def as_of(self, m: pd.Period) -> pd.Timestamp:
        """When "open at month end" is measured: the month's end, or the log's end if earlier."""
        _, m1 = self.bounds(m)
        return min(m1, self.end) if self.end is not None else m1

    def period(self, m: pd.Period) -> dict:
        m0, m1 = self.bounds(m)
        as_of = self.as_of(m)
        partial = (self.start is None or self.start > m0 or self.end is None
                   or self.end.date() < (m1 - pd.Timedelta(days=1)).date())
        return {"start": m0.isoformat(), "end": m1.isoformat(), "as_of": as_of.isoformat(),
                "partial": bool(partial)}

    def status(self, m: pd.Period) -> tuple[bool, str]:
        """Whether month m is inside the log, and what to say about it."""
        m0, m1 = self.bounds(m)
        if self.start is None:
            return False, Said("kpis.log_empty")
        span = Said("kpis.span", start=f"{self.start:%Y-%m-%d}", end=f"{self.end:%Y-%m-%d}")
        if m1 <= self.start or m0 > self.end:
            return False, Said("kpis.outside", month=str(m), span=span)
        return True, span
