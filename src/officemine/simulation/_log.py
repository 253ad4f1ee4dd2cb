"""What the simulators read from a log: cases, their visits, and the times on the calendar.

Cases, visits and rounds are the log's (`officemine.log.relations`): a case's visits, in order,
are the steps the replay re-runs. Each carries:

* ``t_end``: when the visit ended (its last action) and ``w_end``: the working time from the
  case's start to then, integer microseconds of the calendar;
* ``d``: the working time from the previous visit's end to this one's (so ``w_end`` is the
  running sum of ``d``): the step's own wait plus any gap before the item reached it;
* ``wait``: working time from the visit's arrival (recorded, or inferred from the previous
  action) to its end — what approvers are charged with ("approver hours");
* department hand-offs inside the visit and the departments of its first and last action
  (a hand-off is two consecutive blocking actions by different known departments, as in
  `officemine.discovery.handoffs`);
* ``round``: the round of its first event; ``exit``: the outcome of its
  last action (an `EXIT` code in the arrays) and ``actor`` who took it (code into ``people``);
  ``items``: decisions taken in it.

Cycle time runs from the case's start to its end, for ended cases only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.log.schema import C, DECISIONS, OUTCOMES
from officemine.log import relations
from officemine.log.relations import STEP_KINDS, node_roles

US = 1_000_000  # microseconds per second: working times are int64 microseconds
_NAT = np.iinfo(np.int64).min   # NaT as int64 nanoseconds


#: What the simulators read of each blocking event, in the log's (case_id, seq) order:
#: visits are cut from this one scan with numpy.
EVENT_COLUMNS = ("case_id", "visit", "round", "node", "outcome", "resource", "dept", "pending",
                 "wait_start", "acted_at", "comment")


#: Exit (outcome) codes in the visit arrays: position in `schema.OUTCOMES`, -1 for none.
EXIT = {o: i for i, o in enumerate(OUTCOMES)}


@dataclass
class LogTables:
    """Cases (one row each, ``code`` = position), the visits of the completed ones and, for
    validation, node/exit/comment of every visit.

    Visits are held as arrays: ``rows``, the completed cases' visits (what the replay reads),
    and ``every``, every visit (``done_at``: the positions of ``rows`` in it). `visits` and
    `all_visits` are the same as DataFrames, built on first use: the replay never needs them.
    """

    cases: pd.DataFrame
    rows: dict[str, np.ndarray] = field(repr=False)
    roles: dict[str, str]                  # node -> kind (`officemine.log.relations.node_kinds`)
    calendar: Calendar
    timezone: str
    extra_columns: tuple[str, ...]
    n_events: int
    span: tuple
    node_codes: dict[str, int] = field(repr=False)
    depts: tuple[str, ...] = field(default=(), repr=False)
    people: tuple[str, ...] = field(default=(), repr=False)
    every: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    outcomes: tuple[str, ...] = field(default=OUTCOMES, repr=False)

    @cached_property
    def started_ns(self) -> np.ndarray:
        """Each case's start, int64 nanoseconds since the epoch (UTC)."""
        return pd.DatetimeIndex(self.cases["started"]).as_unit("ns").asi8

    @cached_property
    def process_codes(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """Per case, the position of its process type in the sorted names (-1: missing)."""
        codes, names = pd.factorize(self.cases[C.process_type], sort=True, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), tuple(str(x) for x in names)

    def process_mask(self, process: str | list[str] | tuple[str, ...] | None) -> np.ndarray:
        """Per case: of one of these process types (every case when ``None``)."""
        if process is None:
            return np.ones(len(self.cases), dtype=bool)
        codes, names = self.process_codes
        wanted = {process} if isinstance(process, str) else set(process)
        hit = np.array([name in wanted for name in names] + [False], dtype=bool)
        return hit[codes]          # code -1 (missing) takes the trailing False

    @cached_property
    def approval_nodes(self) -> dict[str | None, set[str]]:
        """Process type (None when missing) -> approval nodes its cases visit."""
        names = sorted(self.node_codes, key=self.node_codes.get)
        approval = np.array([self.roles.get(x) in STEP_KINDS for x in names] + [False])
        node = self.every["node_code"]
        at = np.flatnonzero(approval[node])
        codes, procs = self.process_codes
        proc = codes[self.every["case"][at]]
        stride = len(names) + 1
        pairs = np.unique(np.where(proc < 0, len(procs), proc) * stride + node[at])
        out: dict[str | None, set[str]] = {}
        for p, nd in zip(pairs // stride, pairs % stride):  # by process type, missing last
            out.setdefault(procs[p] if p < len(procs) else None, set()).add(names[nd])
        return out

    @cached_property
    def visits(self) -> pd.DataFrame:
        """The visits of the completed cases (as `rows`, with names, times and actors)."""
        r, e = self.rows, self.every
        at = e["done_at"]
        names = sorted(self.node_codes, key=self.node_codes.get)
        frame = pd.DataFrame({
            "case": r["case"],
            "node": pd.Categorical.from_codes(r["node_code"], categories=names),
            "node_code": r["node_code"],
            "exit": self._exit_names(r["exit"]),
            "arrival": _times(e["arrival"][at], self.timezone),
            "t_end": _times(r["t_end"], self.timezone),
            "comment": r["comment"],
            "items": r["items"], "first_dept": r["first_dept"], "last_dept": r["last_dept"],
            "actor": e["actor"][at], "handoffs_in": r["handoffs_in"], "pending": e["pending"][at],
        })
        frame["process_type"] = self._process_names(r["case"])
        for key in ("w_end", "d", "wait", "round", "approval"):
            frame[key] = r[key]
        return frame

    @cached_property
    def all_visits(self) -> pd.DataFrame:
        """Case, process type, node, exit and comment of every visit."""
        return self._visit_frame(slice(None))

    def visits_ending(self, node: str, exit: str, process=None) -> pd.DataFrame:
        """The rows of `all_visits` at ``node`` that ended with ``exit`` (of these process types
        when given), without building `all_visits`."""
        e = self.every
        sel = (e["node_code"] == self.node_codes.get(node, -2)) & (e["exit"] == EXIT[exit])
        if process is not None:
            sel &= self.process_mask(process)[e["case"]]
        return self._visit_frame(np.flatnonzero(sel))

    def _visit_frame(self, at) -> pd.DataFrame:
        e = self.every
        names = sorted(self.node_codes, key=self.node_codes.get)
        case = e["case"][at]
        frame = pd.DataFrame({"case": case})
        frame["process_type"] = self._process_names(case)
        frame["node"] = pd.Categorical.from_codes(e["node_code"][at], categories=names)
        frame["exit"] = self._exit_names(e["exit"][at])
        frame["comment"] = e["comment"][at]
        if not isinstance(at, slice):
            frame.index = at
        return frame

    def _exit_names(self, codes: np.ndarray) -> np.ndarray:
        names = np.array([*self.outcomes, None], dtype=object)
        return names[codes]        # code -1 takes the trailing None

    def _process_names(self, case: np.ndarray):
        return self.cases[C.process_type].array.take(case)


def load_tables(log: EventLog, calendar: Calendar) -> LogTables:
    """Read cases and visits once (two DuckDB scans) and put the visits on the calendar."""
    extra = list(log.extra_columns)
    cases = relations.cases(log, calendar, extra=extra)
    cases = cases.rename(columns={"start_at": "started", "ended_at": "ended"})
    cases["completed"] = cases["ended"].notna()
    cases["code"] = np.arange(len(cases), dtype=np.int64)
    roles = node_roles(log)
    ev = relations.events(log, EVENT_COLUMNS, blocking=True)
    n = ev.num_rows

    case = _case_codes(ev["case_id"], cases[C.case_id])
    nodes = sorted(set(roles) | set(ev["node"].unique().drop_null().to_pylist()))
    node_codes = {name: i for i, name in enumerate(nodes)}
    node = _codes(ev["node"], nodes)
    # known outcomes keep their `EXIT` code; anything else (never, behind the importer) follows
    outcomes = list(OUTCOMES)
    outcomes += sorted(set(ev["outcome"].unique().drop_null().to_pylist()) - set(OUTCOMES))
    outcome = _codes(ev["outcome"], outcomes)
    depts = sorted(set(ev["dept"].unique().drop_null().to_pylist()))
    dept = _codes(ev["dept"], depts)
    people = sorted(set(ev["resource"].unique().drop_null().to_pylist()))
    person = _codes(ev["resource"], people)
    decision = np.zeros(len(outcomes) + 1, dtype=np.int64)
    decision[[EXIT[o] for o in DECISIONS]] = 1
    decision = decision[outcome]                    # code -1 takes the trailing 0
    pending = ev["pending"].fill_null(False).to_numpy(zero_copy_only=False)
    acted = _ns(ev["acted_at"])
    wait_start = _ns(ev["wait_start"])

    # the log's visits (`officemine.log.relations`): a new one where the case or the visit changes
    visit = ev["visit"].to_numpy(zero_copy_only=False)
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = (case[1:] != case[:-1]) | (visit[1:] != visit[:-1])
    starts = np.flatnonzero(new)
    last = np.r_[starts[1:] - 1, n - 1] if n else starts
    handoff = np.zeros(n, dtype=np.int64)
    if n:
        handoff[1:] = ((dept[1:] >= 0) & (dept[:-1] >= 0) & (dept[1:] != dept[:-1])
                       & ~new[1:])
    exit_code = outcome[last]
    comment = np.full(len(starts), None, dtype=object)
    with_reason = np.flatnonzero((exit_code == EXIT["return"]) | (exit_code == EXIT["reject"]))
    if with_reason.size:
        comment[with_reason] = ev["comment"].take(pa.array(last[with_reason])).to_pylist()
    vcase = case[starts]
    every = {
        "case": vcase, "node_code": node[starts].astype(np.int64), "exit": exit_code,
        "comment": comment, "arrival": wait_start[starts],
        "t_end": np.maximum.reduceat(acted, starts) if n else acted,
        "items": np.add.reduceat(decision, starts) if n else starts,
        "first_dept": dept[starts], "last_dept": dept[last], "actor": person[last],
        "handoffs_in": np.add.reduceat(handoff, starts) if n else starts,
        "pending": np.logical_or.reduceat(pending, starts) if n else starts.astype(bool),
        "round": ev["round"].to_numpy(zero_copy_only=False).astype(np.int64)[starts],
    }
    done = cases["completed"].to_numpy(dtype=bool)
    done_at = np.flatnonzero(done[vcase])
    every["done_at"] = done_at
    rows = {k: every[k][done_at] for k in ("case", "node_code", "exit", "items", "handoffs_in",
                                           "first_dept", "last_dept", "t_end", "comment")}

    # working time from the case's start to each visit's end, and of each wait
    started = pd.DatetimeIndex(cases["started"]).as_unit("ns").asi8
    vcase = rows["case"]
    w_end = _us(calendar.working_seconds(instants(started[vcase]), instants(rows["t_end"])))
    first = np.r_[True, vcase[1:] != vcase[:-1]] if len(vcase) else np.zeros(0, bool)
    d = np.diff(w_end, prepend=0)
    d[first] = w_end[first]
    arrival = every["arrival"][done_at]
    has_arrival = arrival != _NAT
    wait = np.zeros(len(vcase), dtype=np.int64)
    if has_arrival.any():
        wait[has_arrival] = _us(calendar.working_seconds(instants(arrival[has_arrival]),
                                                         instants(rows["t_end"][has_arrival])))
    approval = np.array([roles.get(x) in STEP_KINDS for x in nodes], dtype=bool)
    rows.update(w_end=w_end, d=d, wait=np.maximum(wait, 0),
                round=every["round"][done_at],
                approval=approval[rows["node_code"]] if len(nodes) else
                np.zeros(len(vcase), dtype=bool))

    # working time of each completed case (start -> end), for the baseline
    cases["w_cycle"] = np.where(done, 0, -1)
    if done.any():
        cases.loc[done, "w_cycle"] = _us(calendar.working_seconds(
            pd.DatetimeIndex(cases["started"][done]), pd.DatetimeIndex(cases["ended"][done])))
    cases["cycle_hours"] = np.where(
        done, (cases["ended"] - cases["started"]).dt.total_seconds().to_numpy() / 3600.0, np.nan)
    return LogTables(cases=cases, rows=rows, roles=roles, calendar=calendar,
                     timezone=log.timezone, extra_columns=tuple(extra), n_events=log.n_events,
                     span=log.span(), node_codes=node_codes, depts=tuple(depts),
                     people=tuple(people), every=every, outcomes=tuple(outcomes))


def resample(tables: LogTables, idx: np.ndarray) -> LogTables:
    """The tables of the cases ``idx`` (positions, repeats allowed): a case drawn twice is two
    cases (``case_id`` suffixed ``#k`` for its k-th extra copy), each with its own visits.
    The bootstrap of the stochastic engine learns its model on such a resample."""
    idx = np.asarray(idx, dtype=np.int64)
    cases = tables.cases.iloc[idx].reset_index(drop=True)
    copy = pd.Series(idx).groupby(idx).cumcount().to_numpy()
    ids = cases[C.case_id].astype("string")
    cases[C.case_id] = ids.where(copy == 0, ids + "#" + pd.Series(copy).astype(str))
    cases["code"] = np.arange(len(cases), dtype=np.int64)

    def take(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The visits of the drawn cases, in the new case order (visits come in case order)."""
        case = arrays["case"]
        runs = np.flatnonzero(np.r_[True, case[1:] != case[:-1]]) if len(case) else case
        first = np.zeros(len(tables.cases), dtype=np.int64)
        count = np.zeros(len(tables.cases), dtype=np.int64)
        first[case[runs]] = runs
        count[case[runs]] = np.diff(np.r_[runs, len(case)])
        start, length = first[idx], count[idx]
        total = int(length.sum())
        at = (np.repeat(start - np.cumsum(length) + length, length) + np.arange(total)
              if total else np.zeros(0, dtype=np.int64))
        out = {k: a[at] for k, a in arrays.items() if k != "done_at"}
        out["case"] = np.repeat(np.arange(len(idx), dtype=np.int64), length)
        return out

    every = take(tables.every)
    every["done_at"] = np.flatnonzero(cases["completed"].to_numpy(dtype=bool)[every["case"]])
    return LogTables(cases=cases, rows=take(tables.rows), roles=tables.roles,
                     calendar=tables.calendar, timezone=tables.timezone,
                     extra_columns=tables.extra_columns, n_events=tables.n_events,
                     span=tables.span, node_codes=tables.node_codes, depts=tables.depts,
                     people=tables.people, every=every, outcomes=tables.outcomes)


def _case_codes(case_id: pa.ChunkedArray, ids: pd.Series) -> np.ndarray:
    """Position of each event's case in ``ids``, looked up once per run of equal ids (the
    events come in case order, so once per case) rather than once per event."""
    n = len(case_id)
    if not n:
        return np.zeros(0, dtype=np.int64)
    flat = case_id.combine_chunks() if isinstance(case_id, pa.ChunkedArray) else case_id
    change = np.ones(n, dtype=bool)
    change[1:] = pc.not_equal(flat[1:], flat[:-1]).to_numpy(zero_copy_only=False)
    run_starts = np.flatnonzero(change)
    runs = pc.index_in(flat.take(pa.array(run_starts)), value_set=_arrow(ids))
    runs = runs.to_numpy(zero_copy_only=False).astype(np.int64)
    return np.repeat(runs, np.diff(np.r_[run_starts, n]))


def _arrow(values: pd.Series) -> pa.Array:
    """A text column as one Arrow array (no copy for Arrow-backed columns)."""
    arr = pa.array(values.array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _codes(column: pa.ChunkedArray, values: list) -> np.ndarray:
    """Position of each value in ``values`` (-1 for null)."""
    idx = pc.index_in(column, value_set=pa.array(values, type=pa.string()))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _ns(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC); null -> NaT's integer."""
    t = pc.cast(column, pa.timestamp("ns", tz="UTC"))
    return pc.cast(t, pa.int64()).fill_null(_NAT).to_numpy(
        zero_copy_only=False)


def instants(ns: np.ndarray) -> pd.DatetimeIndex:
    """Int64 nanoseconds (UTC) as instants for the calendar."""
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _times(ns: np.ndarray, tz: str) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz))


def _us(seconds: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(seconds, dtype=float) * US).astype(np.int64)
