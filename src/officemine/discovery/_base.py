"""What every discovery analysis shares: the scope, the visit SQL, the case table, JSON helpers.

A *visit* is a case's uninterrupted stay at one node, exactly as in `officemine.waits`: the
blocking events of a case (everything but cc, comments and reminders) in order, a new visit
starting whenever the node changes. Variants, the process map and the BPMN model are all
built from visits, so a transfer or a 会签 inside a node never shows up as a loop.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from officemine.calendar import Calendar
from officemine.errors import OfficemineError
from officemine.eventlog import EventLog
from officemine.jsonable import plain
from officemine.schema import NON_BLOCKING, TERMINAL


class DiscoveryError(OfficemineError, ValueError):
    """A discovery cannot run as asked: unknown process type, empty scope, bad setting."""


def sql_list(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


NB = sql_list(NON_BLOCKING)
TERMINALS = sql_list(TERMINAL)
#: Exit outcomes of a visit that are written into the step label (node:outcome).
MARKED_OUTCOMES = ("return", "reject", "withdraw")
ARROW = " → "


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Scope:
    """Which part of the log an analysis covers, and the calendar its working times use."""

    process_type: str | None
    n_cases: int
    n_events: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    timezone: str
    calendar: str

    @property
    def where(self) -> str:
        """SQL condition selecting the scope's events from the view ``events``."""
        if self.process_type is None:
            return "TRUE"
        return f"process_type = {sql_literal(self.process_type)}"

    @property
    def label(self) -> str:
        return self.process_type if self.process_type is not None else "全部流程类型"

    def span_text(self) -> str:
        fmt = (lambda t: t.strftime("%Y-%m-%d") if t is not None else "–")
        return f"{fmt(self.start)} – {fmt(self.end)}"

    def to_dict(self) -> dict:
        iso = (lambda t: t.isoformat() if t is not None else None)
        return {"process_type": self.process_type, "cases": self.n_cases,
                "events": self.n_events, "start": iso(self.start), "end": iso(self.end),
                "timezone": self.timezone, "calendar": self.calendar}


def process_types(log: EventLog) -> pd.DataFrame:
    """Cases per process type (null process types shown as None)."""
    return log.query("SELECT process_type, count(DISTINCT case_id) AS cases FROM events "
                     "GROUP BY 1 ORDER BY cases DESC, process_type")


def resolve_scope(log: EventLog, process_type: str | None, calendar: Calendar) -> Scope:
    """Check `process_type` against the log (the error lists the types it has)."""
    if process_type is not None:
        types = process_types(log)
        known = [t for t in types["process_type"].tolist() if isinstance(t, str)]
        if process_type not in known:
            if known:
                listed = ", ".join(f"{t} ({n:,} cases)" for t, n in
                                   zip(types["process_type"], types["cases"]) if isinstance(t, str))
                raise DiscoveryError(f"the log has no process type {process_type!r}; "
                                 f"it has: {listed}")
            raise DiscoveryError(f"the log has no process types at all, so --process-type "
                             f"{process_type!r} cannot select anything; leave it out")
    where = "TRUE" if process_type is None else f"process_type = {sql_literal(process_type)}"
    n_cases, n_events, lo, hi = log.con.execute(
        f"SELECT count(DISTINCT case_id), count(*), min(acted_at), max(acted_at) "
        f"FROM events WHERE {where}").fetchone()
    conv = (lambda t: pd.Timestamp(t).tz_convert(log.timezone) if t is not None else None)
    return Scope(process_type, int(n_cases), int(n_events), conv(lo), conv(hi), log.timezone,
                 calendar.describe())


def visits_cte(where: str) -> str:
    """CTEs ``scoped``, ``blocking``, ``numbered`` (blocking events with their visit) and
    ``visits`` (one row per visit: node, step label, exit outcome, first/last action)."""
    marked = ", ".join(f"'{o}'" for o in MARKED_OUTCOMES)
    return f"""
WITH scoped AS (
    SELECT * FROM events WHERE {where}
), blocking AS (
    SELECT case_id, seq, node, outcome, resource, dept, arrived_at, acted_at, pending,
           process_type
    FROM scoped WHERE outcome IS NULL OR outcome NOT IN ({NB})
), numbered AS (
    SELECT *, sum(new_visit) OVER (PARTITION BY case_id ORDER BY seq)::INTEGER AS visit
    FROM (SELECT *, CASE WHEN node IS DISTINCT FROM lag(node) OVER
                          (PARTITION BY case_id ORDER BY seq) THEN 1 ELSE 0 END AS new_visit
          FROM blocking)
), visits AS (
    SELECT case_id, visit, any_value(node) AS node, any_value(process_type) AS process_type,
           arg_max_null(outcome, seq) AS exit_outcome,
           min(least(arrived_at, acted_at)) AS started,
           min(acted_at) AS first_acted, max(acted_at) AS last_acted,
           count(*) FILTER (WHERE outcome = 'return') AS returns,
           count(*) FILTER (WHERE outcome = 'resubmit') AS resubmits,
           bool_or(pending) AS pending,
           any_value(node) || CASE WHEN arg_max_null(outcome, seq) IN ({marked})
                THEN ':' || arg_max_null(outcome, seq) ELSE '' END AS step
    FROM numbered GROUP BY case_id, visit
)"""


def case_table(log: EventLog, scope: Scope, calendar: Calendar) -> pd.DataFrame:
    """One row per case in scope: path, steps, returns, rounds, completion and cycle time.

    Cycle time runs from the case's first arrival or action to its last blocking action, for
    completed cases only (last blocking outcome terminal: archive, reject, withdraw; nothing
    pending); ``cycle_hours`` is clock hours, ``cycle_workdays`` working days of `calendar`.
    """
    sql = visits_cte(scope.where) + f"""
SELECT case_id, any_value(process_type) AS process_type,
       string_agg(step, '{ARROW}' ORDER BY visit) AS path,
       list(node ORDER BY visit) AS nodes,
       count(*)::INTEGER AS steps,
       count(*) FILTER (WHERE exit_outcome = 'return')::INTEGER AS return_steps,
       sum(returns)::INTEGER AS returns,
       (1 + sum(resubmits))::INTEGER AS rounds,
       coalesce(arg_max_null(exit_outcome, visit) IN ({TERMINALS}), FALSE)
           AND NOT bool_or(pending) AS completed,
       min(started) AS started, max(last_acted) AS ended
FROM visits GROUP BY case_id ORDER BY case_id
"""
    cases = log.query(sql)
    done = cases["completed"].to_numpy(dtype=bool)
    hours = (cases["ended"] - cases["started"]).dt.total_seconds().to_numpy() / 3600.0
    cases["cycle_hours"] = np.where(done, hours, np.nan)
    work = np.full(len(cases), np.nan)
    if done.any():
        work[done] = calendar.working_days(cases["started"][done], cases["ended"][done])
    cases["cycle_workdays"] = work
    return cases


# --- presentation helpers -------------------------------------------------------------------
def clean(value: Any) -> Any:
    """A JSON-safe Python value (see `officemine.jsonable.plain`), floats to 6 digits."""
    return plain(value, digits=6)


def records(df: pd.DataFrame) -> list[dict]:
    return [{str(k): clean(v) for k, v in row.items()} for row in df.to_dict("records")]


def dumps(data: dict, indent: int | None = 2) -> str:
    return json.dumps(clean(data), ensure_ascii=False, indent=indent)


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def html_block(title: str, lines: list[str], table: pd.DataFrame, max_rows: int = 20) -> str:
    esc = (lambda s: str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    head = f"<p><b>{esc(title)}</b><br>" + "<br>".join(esc(x) for x in lines) + "</p>"
    return head + table.head(max_rows).to_html(index=False, na_rep="–")


def median(values) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(np.median(arr)) if arr.size else float("nan")
