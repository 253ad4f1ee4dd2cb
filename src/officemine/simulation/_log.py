"""What the simulators read from a log: cases, their visits, and the times on the calendar.

A *visit* is a case's uninterrupted stay at one node, as in `officemine.waits` (blocking events
only: cc, comments and reminders are ignored; a transfer or 加签 inside a node does not end it),
except that a return or a rejection always ends a visit. A case's visits, in order, are the
steps the replay re-runs. Each carries:

* ``t_end``: when the visit ended (its last action) and ``w_end``: the working time from the
  case's start to then, integer microseconds of the calendar;
* ``d``: the working time from the previous visit's end to this one's (so ``w_end`` is the
  running sum of ``d``): the step's own wait plus any gap before the item reached it;
* ``wait``: working time from the visit's arrival (recorded, or inferred from the previous
  action) to its end — what approvers are charged with ("approver hours");
* department hand-offs inside the visit and the departments of its first and last action
  (a hand-off is two consecutive blocking actions by different known departments, as in
  `officemine.discovery.handoffs`);
* ``round``: the submission round (1 + returns before the visit); ``exit``: the outcome of its
  last action and ``actor`` who took it (code into ``people``); ``items``: decisions taken
  in it.

Cycle time runs from the case's first arrival or action to its last blocking action, for
completed cases only (last blocking outcome archive, reject or withdraw; nothing pending) —
the same definition as the variants analysis (`officemine.discovery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.calendar import Calendar
from officemine.eventlog import EventLog
from officemine.schema import C, CANONICAL_ORDER, CASE_ATTRIBUTES, DECISIONS, NON_BLOCKING, TERMINAL
from officemine.waits import node_roles

US = 1_000_000  # microseconds per second: working times are int64 microseconds

_NB = ", ".join(f"'{o}'" for o in sorted(NON_BLOCKING))
_DEC = ", ".join(f"'{o}'" for o in sorted(DECISIONS))
_TERM = ", ".join(f"'{o}'" for o in sorted(TERMINAL))

#: The blocking events, in case order: visits are cut from this one scan with numpy (window
#: functions in SQL took five times longer on large logs).
EVENTS_SQL = f"""
SELECT case_id, node, outcome, resource, dept, pending, wait_start, acted_at, comment
FROM events WHERE outcome IS NULL OR outcome NOT IN ({_NB})
ORDER BY case_id, seq
"""

def _cases_sql(extra: list[str]) -> str:
    attrs = ", ".join(f'any_value("{c}") AS "{c}"' for c in (*CASE_ATTRIBUTES, *extra))
    return f"""
SELECT case_id, {attrs},
       min(least(arrived_at, acted_at)) FILTER (WHERE outcome IS NULL OR outcome NOT IN ({_NB}))
           AS started,
       max(acted_at) FILTER (WHERE outcome IS NULL OR outcome NOT IN ({_NB})) AS ended,
       coalesce(arg_max_null(outcome, seq) FILTER (WHERE outcome IS NULL OR outcome NOT IN ({_NB}))
                IN ({_TERM}), FALSE)
           AND NOT coalesce(bool_or(pending), FALSE) AS completed
FROM events GROUP BY case_id ORDER BY case_id
"""


@dataclass
class LogTables:
    """Cases (one row each, ``code`` = position), the visits of the completed ones and, for
    validation, node/exit/comment of every visit."""

    cases: pd.DataFrame
    visits: pd.DataFrame
    all_visits: pd.DataFrame = field(repr=False)
    roles: dict[str, str]
    calendar: Calendar
    timezone: str
    extra_columns: tuple[str, ...]
    n_events: int
    span: tuple
    node_codes: dict[str, int] = field(repr=False)
    depts: tuple[str, ...] = field(default=(), repr=False)
    people: tuple[str, ...] = field(default=(), repr=False)

    @cached_property
    def approval_nodes(self) -> dict[str | None, set[str]]:
        """Process type (None when missing) -> approval nodes its cases visit."""
        v = self.all_visits
        appr = v[v["node"].map(self.roles).eq("approval").fillna(False).to_numpy(bool)]
        out: dict[str | None, set[str]] = {}
        for proc, nodes in appr.groupby("process_type", dropna=False)["node"]:
            out[proc if isinstance(proc, str) else None] = set(nodes)
        return out


def load_tables(log: EventLog, calendar: Calendar) -> LogTables:
    """Read cases and visits once (two DuckDB scans) and put the visits on the calendar."""
    extra = [c for c in log.to_arrow().column_names if c not in CANONICAL_ORDER]
    cases = log.query(_cases_sql(extra))
    cases["code"] = np.arange(len(cases), dtype=np.int64)
    roles = node_roles(log)
    ev = log.sql(EVENTS_SQL).to_arrow_table()
    n = ev.num_rows

    case = pc.index_in(ev["case_id"], value_set=pa.array(cases[C.case_id].to_numpy(object),
                                                          type=pa.string()))
    case = case.to_numpy(zero_copy_only=False).astype(np.int64)
    nodes = sorted(set(roles) | set(ev["node"].unique().drop_null().to_pylist()))
    node_codes = {name: i for i, name in enumerate(nodes)}
    node = _codes(ev["node"], nodes)
    outcomes = sorted(set(ev["outcome"].unique().drop_null().to_pylist()))
    outcome = _codes(ev["outcome"], outcomes)
    depts = sorted(set(ev["dept"].unique().drop_null().to_pylist()))
    dept = _codes(ev["dept"], depts)
    people = sorted(set(ev["resource"].unique().drop_null().to_pylist()))
    person = _codes(ev["resource"], people)
    is_ = {o: outcome == (outcomes.index(o) if o in outcomes else -9)
           for o in ("return", "reject")}
    decision = np.isin(outcome, [i for i, o in enumerate(outcomes) if o in DECISIONS])
    pending = ev["pending"].fill_null(False).to_numpy(zero_copy_only=False)
    acted = _ns(ev["acted_at"])
    wait_start = _ns(ev["wait_start"])

    # a new visit when the case or the node changes, or after a return or a rejection
    ended = is_["return"] | is_["reject"]
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = (case[1:] != case[:-1]) | (node[1:] != node[:-1]) | ended[:-1]
    starts = np.flatnonzero(new)
    last = np.r_[starts[1:] - 1, n - 1] if n else starts
    handoff = np.zeros(n, dtype=np.int64)
    if n:
        handoff[1:] = ((dept[1:] >= 0) & (dept[:-1] >= 0) & (dept[1:] != dept[:-1])
                       & ~new[1:])
    exit_code = outcome[last]
    exit_ = np.asarray(pd.Categorical.from_codes(exit_code, categories=outcomes)).astype(object)
    exit_[exit_code < 0] = None
    node_v = node[starts]
    comment = np.full(len(starts), None, dtype=object)
    with_reason = np.flatnonzero(np.isin(exit_code, [outcomes.index(o) for o in ("return", "reject")
                                                     if o in outcomes]))
    if with_reason.size:
        comment[with_reason] = ev["comment"].take(pa.array(last[with_reason])).to_pylist()
    tz = log.timezone
    visits = pd.DataFrame({
        "case": case[starts],
        "node": pd.Categorical.from_codes(node_v, categories=nodes),
        "node_code": node_v.astype(np.int64),
        "exit": exit_,
        "arrival": _times(wait_start[starts], tz),
        "t_end": _times(np.maximum.reduceat(acted, starts) if n else acted, tz),
        "comment": comment,
        "items": np.add.reduceat(decision.astype(np.int64), starts) if n else starts,
        "first_dept": dept[starts], "last_dept": dept[last], "actor": person[last],
        "handoffs_in": np.add.reduceat(handoff, starts) if n else starts,
        "pending": np.logical_or.reduceat(pending, starts) if n else starts.astype(bool),
    })
    visits["process_type"] = cases[C.process_type].to_numpy()[visits["case"].to_numpy()]
    all_visits = visits[["case", "process_type", "node", "exit", "comment"]]
    done = cases["completed"].to_numpy(dtype=bool)
    visits = visits[done[visits["case"].to_numpy()]].reset_index(drop=True)

    tv0 = pd.DatetimeIndex(cases["started"]).take(visits["case"].to_numpy())
    w_end = _us(calendar.working_seconds(tv0, pd.DatetimeIndex(visits["t_end"])))
    vcase = visits["case"].to_numpy()
    first = np.r_[True, vcase[1:] != vcase[:-1]] if len(vcase) else np.zeros(0, bool)
    d = np.diff(w_end, prepend=0)
    d[first] = w_end[first]
    visits["w_end"] = w_end
    visits["d"] = d
    has_arrival = visits["arrival"].notna().to_numpy()
    wait = np.zeros(len(visits), dtype=np.int64)
    if has_arrival.any():
        wait[has_arrival] = _us(calendar.working_seconds(
            pd.DatetimeIndex(visits["arrival"][has_arrival]),
            pd.DatetimeIndex(visits["t_end"][has_arrival])))
    visits["wait"] = np.maximum(wait, 0)
    is_return = visits["exit"].to_numpy() == "return"
    before = np.cumsum(is_return) - is_return
    vstarts = np.flatnonzero(first)
    counts = np.diff(np.r_[vstarts, len(vcase)])
    visits["round"] = 1 + before - np.repeat(before[vstarts], counts)
    approval = np.array([roles.get(x) == "approval" for x in nodes], dtype=bool)
    visits["approval"] = approval[visits["node_code"].to_numpy()] if len(nodes) else False

    # working time of each completed case (start -> end), for the baseline
    cases["w_cycle"] = np.where(done, 0, -1)
    if done.any():
        cases.loc[done, "w_cycle"] = _us(calendar.working_seconds(
            pd.DatetimeIndex(cases["started"][done]), pd.DatetimeIndex(cases["ended"][done])))
    cases["cycle_hours"] = np.where(
        done, (cases["ended"] - cases["started"]).dt.total_seconds().to_numpy() / 3600.0, np.nan)
    return LogTables(cases=cases, visits=visits, all_visits=all_visits, roles=roles,
                     calendar=calendar, timezone=log.timezone, extra_columns=tuple(extra),
                     n_events=log.n_events, span=log.span(), node_codes=node_codes,
                     depts=tuple(depts), people=tuple(people))


def _codes(column: pa.ChunkedArray, values: list) -> np.ndarray:
    """Position of each value in ``values`` (-1 for null)."""
    idx = pc.index_in(column, value_set=pa.array(values, type=pa.string()))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _ns(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC); null -> NaT's integer."""
    t = pc.cast(column, pa.timestamp("ns", tz="UTC"))
    return pc.cast(t, pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy(
        zero_copy_only=False)


def _times(ns: np.ndarray, tz: str) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz))


def _us(seconds: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(seconds, dtype=float) * US).astype(np.int64)
