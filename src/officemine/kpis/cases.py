"""The per-case table the KPIs count: each case of the log judged against its SLA limit
(`case_cycles`) and, with procedures, whether it deviates from them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from officemine.base.text import Said
from officemine.log import relations
from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.sla import SLA

def case_cycles(log: EventLog, calendar: Calendar | None = None,
                sla: SLA | None = None) -> pd.DataFrame:
    """One row per case (`officemine.log.relations.cases`: when it started and ended, its cycle
    time, returns, hand-offs) judged against its process type's SLA limit.

    Adds sla_days and on_time (NaN while open) to the case table; a missing process type is
    shown as ``(未知)``.
    """
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    return log.cached(("case_cycles", repr(calendar), repr(sla)),
                      lambda: _case_cycles(log, calendar, sla))


def _case_cycles(log: EventLog, calendar: Calendar, sla: SLA) -> pd.DataFrame:
    cases = relations.cases(log, calendar)
    cases["process_type"] = cases["process_type"].astype("object").where(
        cases["process_type"].notna(), "(未知)")
    cases["sla_days"] = sla.limits_for(cases["process_type"])
    # Compare in milliseconds: a case that took exactly its limit is on time, without float
    # noise from the day conversion.
    work = cases["cycle_workdays"].to_numpy() * calendar.day_seconds
    limit = cases["sla_days"].to_numpy() * calendar.day_seconds
    on_time = np.round(work, 3) <= np.round(limit, 3)
    cases["on_time"] = np.where(cases["ended_at"].notna(), on_time.astype(float), np.nan)
    keep = ["case_id", "process_type", "title", "applicant", "applicant_dept", "urgency",
            "submitted_at", "start_at", "start_basis", "ended_at", "status",
            "returns", "reminders", "handoffs", "rounds", "has_pending", "cycle_workdays",
            "cycle_clockdays", "sla_days", "on_time"]
    cases = cases[keep]
    cases.attrs.update(calendar=calendar.describe(), sla=sla.describe())
    return cases


def _deviating(log: EventLog, cases: pd.DataFrame, calendar: Calendar,
               procedures: Any) -> tuple[np.ndarray, str, list[str]]:
    """Per case of `cases`: 1.0 when it deviates from its standard procedure, 0.0 when it
    does not, NaN when it was not checked (no procedures, or none in force for it); what
    it was checked against; the check's notes."""
    out = np.full(len(cases), np.nan)
    if procedures is None:
        return out, "", []
    from officemine.conformance import ConformanceResult, conformance

    result = procedures if isinstance(procedures, ConformanceResult) else \
        conformance(log, procedures, calendar=calendar)
    checked = result.tables.cases
    where = pd.Index(checked["case_id"]).get_indexer(cases["case_id"])
    hit = where >= 0
    out[hit] = checked["deviating"].to_numpy(dtype=float)[where[hit]]
    label = result.procedures.label
    notes = list(result.tables.notes)
    if len(result.tables.unchecked):
        notes.append(Said("kpis.no_procedure", n=len(result.tables.unchecked)))
    return out, label, notes
