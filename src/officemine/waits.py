"""Work items at approval nodes and how long each waited: the basis of every wait statistic.

A *visit* is a case's uninterrupted stay at one node (a transfer or 加签 inside the node does
not end it; comments, reminders and cc are ignored). A *work item* is one decision taken in
a visit (approve, auto_approve, reject, return), or an item still pending at export. Its wait
runs from the visit's start — the recorded arrival of the visit's first event, or, where the
source records none, the previous action in the case — to the decision. So a transfer's time
counts at the node, and in a 会签 each approver's wait runs from when the item reached the node.

Pending items are right-censored: their wait so far runs to ``as_of`` (default: the last time
in the log) and `observed` is False.

Everything per event is one DuckDB filter over the stored visit columns; working hours come
from the vectorised calendar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from officemine.calendar import Calendar
from officemine.eventlog import EventLog
from officemine.schema import C, DECISIONS, NON_BLOCKING, REJECTIONS

_DECISIONS = ", ".join(f"'{o}'" for o in sorted(DECISIONS))
_NON_BLOCKING = ", ".join(f"'{o}'" for o in sorted(NON_BLOCKING))
_REJECTIONS = ", ".join(f"'{o}'" for o in sorted(REJECTIONS))

#: Columns that describe an item beyond its node, outcome and wait; `work_items` fetches
#: the ones asked for (text columns cost most of the query on big logs).
DESCRIPTIVE = (C.resource, C.dept, C.process_type, C.urgency, C.amount, C.comment)


def items_sql(columns: tuple[str, ...] = DESCRIPTIVE, overlapping: bool = False) -> str:
    """A filter over the stored visit columns (`officemine.eventlog.with_visits`): no window
    pass. Rows come back in the log's (case_id, seq) order. `overlapping`: only items that
    waited during [$lo, $hi) (or may have: pending ones)."""
    extra = "".join(f"{c}, " for c in DESCRIPTIVE if c in columns)
    window = ("\n  AND visit_start < $hi AND (pending OR acted_at > $lo)" if overlapping else "")
    return f"""
SELECT case_id, seq, visit, round, node, outcome, {extra}pending, visit_start, acted_at,
       visit_source AS wait_source, coalesce(outcome IN ({_REJECTIONS}), false) AS rejected
FROM events
WHERE (outcome IN ({_DECISIONS}) OR (pending AND visit IS NOT NULL)){window}
"""


#: The default item query (every descriptive column).
ITEMS_SQL = items_sql()


def log_end(log: EventLog) -> pd.Timestamp:
    """The last time the log knows of (an action or an arrival): the censoring time."""
    end = log.one("SELECT max(greatest(acted_at, arrived_at)) FROM events")[0]
    return pd.Timestamp(end).tz_convert(log.timezone)


def work_items(log: EventLog, calendar: Calendar | None = None,
               as_of: pd.Timestamp | str | None = None,
               columns: tuple[str, ...] = DESCRIPTIVE,
               during: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    """One row per decided or pending work item with its wait in clock and working hours.

    Columns: case_id, seq, visit, round (submission round), node, outcome, the descriptive
    `columns` asked for (default all: resource, dept, process_type, urgency, amount,
    comment), pending, visit_start, acted_at, wait_source (recorded | inferred | none),
    rejected, observed (False = still pending, censored), wait_hours (clock),
    wait_workhours (working hours of `calendar`). `during` = (start, end): only the items
    that waited at some time in [start, end) (plus pending ones), for a month's analyses on
    a long log.
    """
    unknown = set(columns) - set(DESCRIPTIVE)
    if unknown:
        raise ValueError(f"work_items: no descriptive column {sorted(unknown)}; "
                         f"choose from {DESCRIPTIVE}")
    columns = tuple(c for c in DESCRIPTIVE if c in columns)
    calendar = calendar or Calendar.default()
    as_of = pd.Timestamp(as_of) if as_of is not None else log_end(log)
    as_of = as_of.tz_localize(log.timezone) if as_of.tzinfo is None else \
        as_of.tz_convert(log.timezone)
    items = log.cached(("work_items", repr(calendar), as_of, columns, during),
                       lambda: _work_items(log, calendar, as_of, columns, during))
    items.attrs = dict(items.attrs)
    return items


def _work_items(log: EventLog, calendar: Calendar, as_of: pd.Timestamp,
                columns: tuple[str, ...], during) -> pd.DataFrame:
    # through Arrow: DuckDB's own DataFrame conversion of the text columns took longer than
    # the query (every column here is non-null or text/float, so the dtypes are the same)
    if during is None:
        items = log.query_arrow(items_sql(columns)).to_pandas()
    else:
        lo, hi = (pd.Timestamp(t).to_pydatetime() for t in during)
        items = log.query_arrow(items_sql(columns, overlapping=True),
                                {"lo": lo, "hi": hi}).to_pandas()
    end = items[C.acted_at].where(~items[C.pending], as_of)
    items["observed"] = ~items[C.pending]
    start = items["visit_start"]
    has_start = start.notna() & (items["wait_source"] != "none")
    items["wait_hours"] = np.where(has_start, (end - start).dt.total_seconds() / 3600.0, np.nan)
    work = np.full(len(items), np.nan)
    if has_start.any():
        work[has_start.to_numpy()] = calendar.working_hours(start[has_start], end[has_start])
    items["wait_workhours"] = work
    first = items["visit_start"].min() if len(items) else as_of
    items.attrs.update(as_of=as_of, calendar=calendar.describe(),
                       warnings=calendar.coverage_warnings(first, as_of))
    return items


ROLES_SQL = f"""
SELECT node,
       count(*) FILTER (WHERE outcome IN ('submit', 'resubmit')) AS submits,
       count(*) FILTER (WHERE outcome = 'archive') AS archives,
       count(*) FILTER (WHERE outcome IN ({_DECISIONS})) AS decisions,
       count(*) FILTER (WHERE outcome IS NULL OR outcome NOT IN ({_NON_BLOCKING})) AS blocking
FROM events GROUP BY node
"""


def node_roles(log: EventLog) -> dict[str, str]:
    """What each node is, by what most of its blocking events do: ``submit step`` (发起),
    ``archive step`` (归档), ``approval`` (it takes decisions) or ``other`` (neither, e.g. a
    payment step). Only approval nodes are put to the necessity test or simulated as checks."""
    roles = {}
    for row in log.query(ROLES_SQL).itertuples(index=False):
        if row.blocking and row.submits >= 0.5 * row.blocking:
            roles[row.node] = "submit step"
        elif row.blocking and row.archives >= 0.5 * row.blocking:
            roles[row.node] = "archive step"
        elif row.decisions:
            roles[row.node] = "approval"
        else:
            roles[row.node] = "other"
    return roles

