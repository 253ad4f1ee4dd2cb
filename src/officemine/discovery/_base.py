"""What every discovery analysis shares: the scope, its events and visits, the case table,
JSON helpers.

A *visit* is a case's uninterrupted stay at one node, as `officemine.log.relations` defines it
(stored on every event). Variants, the process map and the BPMN model are all
built from visits, so a transfer or a 会签 inside a node never shows up as a loop.

The log stores each event's visit number and keeps its rows in case and position order
(`officemine.log.eventlog.with_visits`). A discovery reads the scope's events in one scan
(`read_events`), cuts them into visits and cases with array operations over those ordered
rows — no window pass, no per-case loop, no per-event DataFrame — and hands the same arrays
to every analysis; only aggregates become DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.calendar import Calendar
from officemine.base.errors import DiscoveryError
from officemine.log import relations
from officemine.log.eventlog import EventLog, arrow_to_pandas
from officemine.base.jsonable import plain
from officemine.base.text import kept_in, say
from officemine.log.result import Provenance, Result, provenance



#: Exit outcomes of a visit that are written into the step label (node:outcome).
MARKED_OUTCOMES = ("return", "reject", "withdraw")
ARROW = " → "


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
    calendar_en: str = ""

    @classmethod
    def of(cls, events: ScopeEvents, process_type: str | None, calendar: Calendar) -> Scope:
        """The scope `events` were read for (see `read_events`)."""
        return cls(process_type, events.n_cases, events.n_events, events.start, events.end,
                   events.timezone, calendar.describe(), calendar.describe("en"))

    def calendar_in(self, lang: str) -> str:
        """The calendar described in `lang` (the Chinese description where no other is kept)."""
        return kept_in(self.calendar, self.calendar_en, lang)

    def label_in(self, lang: str) -> str:
        """The scope's process type, or all of them, in `lang`."""
        return self.process_type if self.process_type is not None else say("map.all_types",
                                                                            lang)

    @property
    def label(self) -> str:
        return self.label_in("zh")

    def span_text(self) -> str:
        fmt = (lambda t: t.strftime("%Y-%m-%d") if t is not None else "–")
        return f"{fmt(self.start)} – {fmt(self.end)}"

    def to_dict(self) -> dict:
        iso = (lambda t: t.isoformat() if t is not None else None)
        return {"process_type": self.process_type, "cases": self.n_cases,
                "events": self.n_events, "start": iso(self.start), "end": iso(self.end),
                "timezone": self.timezone, "calendar": self.calendar}


def check_process_type(log: EventLog, process_type: str | None) -> None:
    """Check `process_type` against the log (the error lists the types it has)."""
    if process_type is not None:
        check_process_type_in(relations.process_types(log), process_type)


def check_process_type_in(types: pd.DataFrame, process_type: str) -> None:
    """Check `process_type` against a log's cases per process type (`types`, as
    `officemine.log.relations.process_types` gives them)."""
    known = [t for t in types["process_type"].tolist() if isinstance(t, str)]
    if process_type not in known:
        if known:
            listed = ", ".join(f"{t} ({n:,} cases)" for t, n in
                               zip(types["process_type"], types["cases"]) if isinstance(t, str))
            raise DiscoveryError(f"the log has no process type {process_type!r}; "
                                 f"it has: {listed}")
        raise DiscoveryError(f"the log has no process types at all, so --process-type "
                             f"{process_type!r} cannot select anything; leave it out")


def resolve_scope(log: EventLog, process_type: str | None, calendar: Calendar) -> Scope:
    """Check `process_type` against the log and describe its scope (cases, events, span)."""
    check_process_type(log, process_type)
    return Scope.of(read_events(log, process_type), process_type, calendar)


# --- the scope's events, visits and cases as arrays -----------------------------------------
#: Missing times are NaT's integer; `_LATEST` stands in for them where a minimum is taken.
NAT = np.iinfo(np.int64).min
_LATEST = np.iinfo(np.int64).max

#: The columns a discovery reads of each event.
EVENT_COLUMNS = ("case_id", "seq", "node", "outcome", "dept", "visit", "round", "arrived_at",
                 "acted_at", "pending", "process_type", "case_start", "case_end")


@dataclass(frozen=True, eq=False)
class Visits:
    """One entry per visit, in case and visit order. Times are int64 microseconds since the
    epoch (UTC), `NAT` when missing; codes index `ScopeEvents.nodes` / `.outcomes`."""

    case: np.ndarray          # the visit's case: index into ScopeEvents.case_ids
    number: np.ndarray        # visit number in the case (1 = first)
    node: np.ndarray
    exit: np.ndarray          # outcome of the visit's last blocking event (-1: none, pending)
    started: np.ndarray       # earliest arrival or action
    first_acted: np.ndarray
    last_acted: np.ndarray
    returns: np.ndarray       # return events in the visit
    round: np.ndarray         # the visit's round (`officemine.log.relations`)
    pending: np.ndarray       # an item of the visit is still pending

    def __len__(self) -> int:
        return len(self.case)

    @cached_property
    def case_starts(self) -> np.ndarray:
        """Index of each case's first visit."""
        new = np.ones(len(self.case), dtype=bool)
        new[1:] = self.case[1:] != self.case[:-1]
        return np.flatnonzero(new)

    @property
    def next_in_case(self) -> np.ndarray:
        """True where the next visit belongs to the same case."""
        out = np.zeros(len(self.case), dtype=bool)
        out[:-1] = self.case[1:] == self.case[:-1]
        return out


@dataclass(frozen=True, eq=False)
class ScopeEvents:
    """The blocking events of a scope (all but cc, comments and reminders) as arrays in case
    and position order, with the scope's cases; read once per discovery by `read_events`.

    String columns are codes into sorted tables (``nodes``, ``outcomes``, ``depts``; -1 for
    null), so sorting codes sorts names; times are int64 microseconds, `NAT` when missing.
    """

    n_events: int                 # events in scope, non-blocking ones included
    start: pd.Timestamp | None    # first and last action in scope
    end: pd.Timestamp | None
    timezone: str
    case_ids: pa.Array            # every case in scope (those with only cc/comments too)
    process_types: pa.Array       # each case's process type
    case_start: np.ndarray        # each case's start and end (`officemine.log.relations`;
    case_end: np.ndarray          # `NAT` while open)
    nodes: list[str]
    outcomes: list[str]
    depts: list[str]
    case: np.ndarray              # per blocking event: index into case_ids
    visit: np.ndarray
    round: np.ndarray
    node: np.ndarray
    outcome: np.ndarray
    dept: np.ndarray
    pending: np.ndarray
    arrived: np.ndarray
    acted: np.ndarray

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    def codes(self, outcomes) -> np.ndarray:
        """Codes of those of `outcomes` that occur in the scope."""
        return np.array([i for i, o in enumerate(self.outcomes) if o in set(outcomes)], dtype=int)

    def times(self, micros: np.ndarray) -> pd.DatetimeIndex:
        """Microsecond integers as times in the log's zone (`NAT` → NaT)."""
        return pd.DatetimeIndex(np.asarray(micros, dtype=np.int64).view("M8[us]")).tz_localize(
            "UTC").tz_convert(self.timezone)

    @cached_property
    def visits(self) -> Visits:
        """The events cut into visits where the case or the stored visit number changes."""
        m = len(self.case)
        new = np.ones(m, dtype=bool)
        new[1:] = (self.case[1:] != self.case[:-1]) | (self.visit[1:] != self.visit[:-1])
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, m - 1) if m else first
        acted_or_latest = np.where(self.acted == NAT, _LATEST, self.acted)
        arrived_or_latest = np.where(self.arrived == NAT, _LATEST, self.arrived)
        ret = self.codes(["return"])
        return Visits(
            case=self.case[first], number=self.visit[first], node=self.node[first],
            exit=self.outcome[last],
            started=_missing(reduce_groups(np.minimum, np.minimum(acted_or_latest,
                                                                  arrived_or_latest), first)),
            first_acted=_missing(reduce_groups(np.minimum, acted_or_latest, first)),
            last_acted=reduce_groups(np.maximum, self.acted, first),
            returns=reduce_groups(np.add, np.isin(self.outcome, ret).astype(np.int64), first),
            round=self.round[first],
            pending=reduce_groups(np.logical_or, self.pending, first))


def read_events(log: EventLog, process_type: str | None = None) -> ScopeEvents:
    """The events of one process type (of every one for None), in one scan of the log."""
    t = relations.events(log, EVENT_COLUMNS, process_type=process_type)
    if not _in_case_order(t):       # the log keeps this order; a plain scan returns it
        t = t.sort_by([("case_id", "ascending"), ("seq", "ascending")])
    n = t.num_rows
    new_case = np.ones(n, dtype=bool)
    if n > 1:
        new_case[1:] = _flag(pc.not_equal(t["case_id"][1:], t["case_id"][:-1]))
    case_first = np.flatnonzero(new_case)
    case = np.cumsum(new_case) - 1
    ptype, ptypes = codes_of(t["process_type"])
    case_ptype = reduce_groups(np.maximum, ptype, case_first)       # any non-null one
    acted = micros(t["acted_at"])
    known = acted[acted != NAT]
    tz = log.timezone
    conv = (lambda us: pd.Timestamp(int(us), unit="us", tz="UTC").tz_convert(tz))
    blocking = np.flatnonzero(_flag(pc.is_valid(t["visit"])))
    node, nodes = codes_of(t["node"])
    outcome, outcomes = codes_of(t["outcome"])
    dept, depts = codes_of(t["dept"])
    return ScopeEvents(
        n_events=n, start=conv(known.min()) if known.size else None,
        end=conv(known.max()) if known.size else None, timezone=tz,
        case_ids=t["case_id"].take(pa.array(case_first)).combine_chunks(),
        process_types=pa.array(ptypes + [None], type=pa.large_string()).take(
            pa.array(np.where(case_ptype < 0, len(ptypes), case_ptype))),   # none: None
        case_start=micros(t["case_start"])[case_first], case_end=micros(t["case_end"])[case_first],
        nodes=nodes, outcomes=outcomes, depts=depts,
        case=case[blocking],
        visit=pc.fill_null(t["visit"], 0).to_numpy().astype(np.int64)[blocking],
        round=t["round"].to_numpy().astype(np.int64)[blocking],
        node=node[blocking], outcome=outcome[blocking], dept=dept[blocking],
        pending=_flag(t["pending"])[blocking], arrived=micros(t["arrived_at"])[blocking],
        acted=acted[blocking])


def _in_case_order(t: pa.Table) -> bool:
    if t.num_rows < 2:
        return True
    case, seq = t["case_id"], t["seq"].to_numpy()
    later = _flag(pc.greater(case[1:], case[:-1]))
    same = _flag(pc.equal(case[1:], case[:-1]))
    return bool((later | (same & (seq[1:] > seq[:-1]))).all())


def codes_of(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Position of each value in the sorted distinct values (-1 for null), and those values."""
    names = sorted(pc.unique(column).drop_null().to_pylist())
    idx = pc.index_in(column, value_set=pa.array(names, type=column.type))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), names


def micros(column: pa.ChunkedArray) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (UTC); null → `NAT`."""
    t = pc.cast(column, pa.timestamp("us", tz="UTC"), safe=False)
    return pc.cast(t, pa.int64()).fill_null(NAT).to_numpy(zero_copy_only=False)


def _flag(values) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _missing(values: np.ndarray) -> np.ndarray:
    return np.where(values == _LATEST, NAT, values)


def reduce_groups(ufunc, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`ufunc` reduced over each run of `values` beginning at `starts` (ascending)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=values.dtype)
    return ufunc.reduceat(values, starts)


def hours_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Clock hours from `start` to `end` (microsecond integers; NaN where either is missing),
    computed as pandas' ``(end - start).dt.total_seconds() / 3600``."""
    bad = (start == NAT) | (end == NAT)
    return np.where(bad, np.nan, (end - start) / 1_000_000 / 3600.0)


def group_medians(keys: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of `values` (NaN skipped) for each key 0 … n_groups-1; NaN for none."""
    out = pd.Series(values).groupby(keys).median()
    return out.reindex(np.arange(n_groups)).to_numpy(dtype=float)


def count_distinct(keys: np.ndarray, of: np.ndarray, n_groups: int) -> np.ndarray:
    """For each key 0 … n_groups-1, how many distinct values of `of` (≥ 0) occur with it."""
    base = int(of.max(initial=0)) + 1
    # a sort and a comparison: np.unique took forty times as long on these keys
    pairs = np.sort(keys.astype(np.int64) * base + of)
    pairs = pairs[np.append(True, pairs[1:] != pairs[:-1])] if len(pairs) else pairs
    return np.bincount(pairs // base, minlength=n_groups)


def sequences(values: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The runs of `values` (small non-negative ints) beginning at `starts`: for each run the
    index of its sequence among the distinct ones, and those sequences.

    Each run becomes one binary string, which Arrow's hash table deduplicates: variants of
    a million cases without a per-case Python object."""
    width = np.dtype(np.uint16 if values.max(initial=0) < 2 ** 16 else np.uint32)
    data = values.astype(width)
    offsets = np.append(starts, len(values)).astype(np.int64) * width.itemsize
    runs = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(starts), [
        None, pa.py_buffer(offsets), pa.py_buffer(data)])
    enc = pc.dictionary_encode(runs)
    distinct = [np.frombuffer(b, dtype=width).astype(np.int64)
                for b in enc.dictionary.to_pylist()]
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), distinct


def case_table(log: EventLog, scope: Scope, calendar: Calendar,
               events: ScopeEvents | None = None) -> pd.DataFrame:
    """One row per case in scope with a blocking event: path, steps, returns, rounds,
    completion and cycle time (`events`: the scope's, if already read).

    Start, end and completion are the case's (`officemine.log.relations`); ``cycle_hours`` is
    clock hours, ``cycle_workdays`` working days of `calendar`, for ended cases only.
    ``nodes`` holds each case's node sequence (rows of one variant share one read-only array).
    """
    ev = events if events is not None else read_events(log, scope.process_type)
    v = ev.visits
    k = len(v)
    first = v.case_starts
    ret = np.isin(v.exit, ev.codes(["return"]))
    case_of = v.case[first]
    started, ended = ev.case_start[case_of], ev.case_end[case_of]
    done = ended != NAT

    # a step is its node, marked with the exit outcome when that is a return, reject, withdraw
    marks = len(MARKED_OUTCOMES) + 1
    mark = np.zeros(k, dtype=np.int64)
    for i, outcome in enumerate(MARKED_OUTCOMES, start=1):
        mark[np.isin(v.exit, ev.codes([outcome]))] = i
    seq_of_case, distinct = sequences(v.node * marks + mark, first)
    labels = [[name] + [f"{name}:{o}" for o in MARKED_OUTCOMES] for name in ev.nodes]
    paths = [ARROW.join(labels[c // marks][c % marks] for c in seq) for seq in distinct]
    node_lists = np.empty(len(distinct), dtype=object)
    for i, seq in enumerate(distinct):
        arr = np.array([ev.nodes[c // marks] for c in seq], dtype=object)
        arr.flags.writeable = False
        node_lists[i] = arr

    take = pa.array(seq_of_case)
    cases = arrow_to_pandas(pa.table({
        "case_id": ev.case_ids.take(pa.array(v.case[first])),
        "process_type": ev.process_types.take(pa.array(v.case[first])),
        "path": pa.array(paths, type=pa.large_string()).take(take),
    }))
    cases["nodes"] = node_lists[seq_of_case]
    cases["steps"] = np.diff(np.append(first, k)).astype(np.int32)
    cases["return_steps"] = reduce_groups(np.add, ret.astype(np.int64), first).astype(np.int32)
    cases["returns"] = reduce_groups(np.add, v.returns, first).astype(np.int32)
    cases["rounds"] = reduce_groups(np.maximum, v.round, first).astype(np.int32)
    cases["completed"] = done
    cases["started"] = ev.times(started)
    cases["ended"] = ev.times(ended)
    cases["cycle_hours"] = np.where(done, hours_between(started, ended), np.nan)
    work = np.full(len(cases), np.nan)
    if done.any():
        work[done] = calendar.working_days(cases["started"][done], cases["ended"][done])
    cases["cycle_workdays"] = work
    return cases


# --- presentation helpers -------------------------------------------------------------------
def clean(value: Any) -> Any:
    """A JSON-safe Python value (see `officemine.base.jsonable.plain`), floats to 6 digits."""
    return plain(value, digits=6)


def records(df: pd.DataFrame) -> list[dict]:
    return [{str(k): clean(v) for k, v in row.items()} for row in df.to_dict("records")]


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


class DiscoveryOutput(Result):
    """The result contract as discovery's results keep it: floats in JSON to 6 digits (as
    `clean`), tables as pandas writes numbers, the provenance from the `Scope`."""

    json_digits = 6
    html_float_format = None
    html_na_rep = "–"
    #: rows of the first table `_repr_html_` shows
    HTML_ROWS = 20

    @property
    def provenance(self) -> Provenance:
        sc = self.scope
        return provenance(scope=f"{sc.label}: {sc.n_cases:,} cases, {sc.n_events:,} events, "
                                f"{sc.span_text()}",
                          calendar=sc.calendar, seed=getattr(self, "seed", None))


def median(values) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(np.median(arr)) if arr.size else float("nan")
