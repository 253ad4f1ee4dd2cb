"""Process versions: when a flow changed, so that advice judges the process as it runs now.

A redesign removes or adds steps. Judging a node over months that straddle the change pools
two different processes: a step removed in July still "waits 11 hours and never rejects" in a
six-month window ending in October, and would be recommended for removal again. This module
finds the change points of each process type and says which cases ran under its current
version:

* **node removed** — a node that cases of the process visited regularly stops appearing: after
  the last case (by start) that visited it, so many cases started without it that, at the
  share it had before, the chance of seeing none is below ``alpha`` (default 1 in 1,000). The
  change date is the start of the first of those cases. Only ended cases count as evidence:
  an open case may not have reached the node yet.
* **node added** — the mirror image: a node that no earlier case visited, then visited
  regularly.
* **route changed** — two steps that swap places: the order of their first visits in the
  first round flips for most cases (by at least half of them) at one point in time, too
  sharply for chance.
* **redesign** — a date given in the report settings (``[[redesign]]``); a note says when no
  change is visible in the log within two weeks of it.

A case belongs to the version it *started* under (a case submitted the day before a redesign
still runs the old route). The **current version** of a process type starts at its latest
change point; `ProcessVersions.since` gives those dates to the analyses, which judge only the
cases started since (``since="current"``, their default).

>>> versions = process_versions(log)                                # doctest: +SKIP
>>> versions.summary                                                 # doctest: +SKIP
>>> versions.plot()                                                  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from officemine.log import relations
from officemine.base.errors import InputError
from officemine.log.eventlog import EventLog
from officemine.base.jsonable import plain
from officemine.base.plotting import chart_style
from officemine.log.result import Result, headed
from officemine.base.text import Said, say, word

__all__ = ["ChangeKind", "ProcessVersions", "process_versions", "select_since", "Since"]

ChangeKind = Literal["node_removed", "node_added", "route_changed", "redesign"]
#: What an analysis judges: the current version of each process type (default), every case
#: (``"all"``), the cases started on or after a date, or the current versions of
#: `ProcessVersions` already found (on a longer log, say).
Since = Any

#: Columns of `ProcessVersions.changes`.
CHANGE_COLUMNS = ["process_type", "date", "kind", "node", "source", "cases_before",
                  "share_before", "cases_after", "last_seen", "first_seen"]
_NEAR = pd.Timedelta(days=14)


@dataclass(frozen=True)
class ProcessVersions(Result):
    """The change points of each process type and the start of its current version.

    changes: one row per change point (process_type, date, kind, node, source — detected |
    settings —, and the evidence: cases_before (visiting the node, or started before it was
    added), share_before, cases_after, last_seen / first_seen). notes: what could not be
    confirmed. since: process type -> start of its current version (types without a change
    point are absent: every case of theirs is current).
    """

    changes: pd.DataFrame
    since: dict[Any, pd.Timestamp]
    timezone: str
    alpha: float
    notes: tuple[str, ...] = ()
    span: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None)
    cases: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> pd.DataFrame:
        return self.changes

    def judged_cases(self) -> int:
        """How many of the log's cases belong to their process type's current version."""
        cases = self.cases
        keep = np.ones(len(cases), dtype=bool)
        for ptype, date in self.since.items():
            of_type = (cases["process_type"].isna() if ptype is None
                       else cases["process_type"] == ptype).to_numpy(bool)
            keep &= ~of_type | (cases["start_at"] >= date).fillna(False).to_numpy(bool)
        return int(keep.sum())

    def removed(self) -> pd.DataFrame:
        """Nodes no longer in their process's current version: process_type, node, date."""
        rows = self.changes[self.changes["kind"] == "node_removed"]
        return rows[["process_type", "node", "date"]].reset_index(drop=True)

    def removed_on(self, node: str, process_type: Any = None) -> pd.Timestamp | None:
        """When `node` was removed (from `process_type`, or from every type it was in)."""
        rows = self.removed()
        rows = rows[rows["node"] == node]
        if process_type is not None:
            rows = rows[rows["process_type"] == process_type]
        return rows["date"].max() if len(rows) else None

    def describe(self, lang: str = "zh") -> list[str]:
        """One line per process type with a current version that starts after the log does."""
        lines = []
        for ptype, date in sorted(self.since.items(), key=lambda kv: str(kv[0])):
            name = ptype if ptype is not None else say("versions.no_type", lang)
            lines.append(say("versions.current", lang, type=name, date=date))
        return lines

    def to_dict(self) -> dict:
        return {"timezone": self.timezone, "alpha": self.alpha,
                "method": "a node is removed when, at the share of cases it was in before, "
                          f"seeing none of the cases started since had probability < {self.alpha}"
                          "; added: the mirror image; redesign: from the settings; a case "
                          "belongs to the version it started under",
                "since": {str(k): v.isoformat() for k, v in self.since.items()},
                "changes": [{k: plain(v) for k, v in row.items()}
                            for row in self.changes.to_dict("records")],
                "notes": list(self.notes)}

    def __repr__(self) -> str:
        head = (f"<ProcessVersions: {len(self.changes)} change point(s) in "
                f"{len(self.since)} process type(s)>")
        view = self.changes[["process_type", "date", "kind", "node", "source"]].copy()
        view["date"] = view["date"].dt.strftime("%Y-%m-%d")
        return headed(head, view, notes=self.notes)

    def plot(self, ax=None, lang: str = "zh"):
        """A timeline: cases started per week for each process type, change points marked."""
        import matplotlib.pyplot as plt

        cases = self.cases if self.cases is not None else pd.DataFrame(
            columns=["process_type", "start_at"])
        types = list(dict.fromkeys(cases["process_type"].dropna().tolist()))
        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(9, 0.55 * max(len(types), 2) + 1.4),
                                     layout="constrained")
            for i, ptype in enumerate(types):
                starts = cases.loc[cases["process_type"] == ptype, "start_at"]
                weekly = starts.dt.tz_localize(None).dt.to_period("W").value_counts().sort_index()
                if len(weekly):
                    x = weekly.index.to_timestamp()
                    size = 4 + 40 * weekly.to_numpy() / max(weekly.max(), 1)
                    ax.scatter(x, np.full(len(x), i), s=size, color="#adb5bd", lw=0)
                marks = self.changes[self.changes["process_type"] == ptype]
                for row in marks.itertuples():
                    colour = {"node_removed": "#e03131", "node_added": "#2f9e44",
                              "route_changed": "#f08c00", "redesign": "#1c7ed6"}[row.kind]
                    ax.plot([row.date.tz_localize(None)] * 2, [i - 0.35, i + 0.35], color=colour,
                            lw=2)
                    ax.text(row.date.tz_localize(None), i + 0.38,
                            say("versions.mark", lang, kind=word("kind", row.kind, lang,
                                                                 "versions"),
                                node=row.node or ""), fontsize=7,
                            color=colour, ha="left", va="bottom")
            ax.set_yticks(range(len(types)), types)
            ax.set_ylim(-0.7, len(types) - 0.2)
            ax.set_title(say("chart.versions", lang))
            ax.grid(axis="x", color="#e9ecef", lw=0.8)
        return ax


def process_versions(log: EventLog, redesigns: Sequence = (), *, alpha: float = 0.001,
                     min_cases: int = 10, memory_limit: int | str | None = None,
                     batch_rows: int | None = None) -> ProcessVersions:
    """Find each process type's change points (see the module docstring).

    redesigns: dates a change took effect, from the report settings (objects with ``date``,
    ``name`` and optional ``process_type``; a redesign without a process type applies to
    every type). alpha: the evidence a removal or addition needs. min_cases: the fewest cases
    on the far side of a change that can show it. memory_limit: read a stored log larger
    than memory in batches of whole cases within it (or of `batch_rows` events each): the
    same versions, with a few integers held per case (the case table without its ids).
    """
    if not 0 < alpha < 0.5:
        raise InputError(f"alpha must be between 0 and 0.5, not {alpha!r}")
    if memory_limit is None and batch_rows is None:
        cases = relations.case_spans(log)
        batches = [relations.events(log, ROUTE_COLUMNS, blocking=True)]
    else:
        from officemine.importing.streaming import read_budget

        rows, duckdb_memory = read_budget(memory_limit, _BYTES_PER_ROW)
        cases = relations.case_spans(log, ids=False)
        batches = relations.event_batches(log, ROUTE_COLUMNS, blocking=True,
                                          rows=batch_rows or rows,
                                          duckdb_memory=duckdb_memory)
    routes = RouteFacts(steps_of(relations.node_kinds(log)))
    for t in batches:
        routes.add(t)
    return versions_of(routes, cases, redesigns, alpha=alpha, min_cases=min_cases,
                       timezone=log.timezone, span=log.span())


def steps_of(kinds: pd.DataFrame) -> list[str]:
    """The nodes whose order can change (decisions, instructions, notifications), from a
    `relations.node_kinds` table, in its order."""
    return kinds.loc[kinds["kind"].isin(relations.STEP_KINDS), "node"].tolist()


def versions_of(routes: "RouteFacts", cases: pd.DataFrame, redesigns: Sequence = (), *,
                alpha: float = 0.001, min_cases: int = 10, timezone: str,
                span: tuple = (None, None)) -> ProcessVersions:
    """The change points decided from the facts gathered (either engine gathers them: here
    batch by batch, on Spark partition by partition): `routes` over every case's blocking
    events, and `cases`, one row per case (process_type, start_at, ended_at)."""
    tz = timezone
    presence = routes.presence(tz)
    # the evidence is the cases that had their chance to pass a node: the ended ones (a
    # trip's payment follows its permit by months; an open case has not got there yet)
    ended = cases["ended_at"].notna()
    rows: list[dict] = []
    for ptype, group in presence.groupby("process_type", dropna=False, sort=False):
        ptype = None if (ptype is None or (isinstance(ptype, float) and math.isnan(ptype))) \
            else ptype
        in_type = cases["process_type"].isna() if ptype is None else \
            cases["process_type"] == ptype
        starts = np.sort(cases.loc[in_type & ended, "start_at"].dropna()
                         .dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]"))
        for row in group.itertuples(index=False):
            rows.extend(_node_changes(ptype, row, starts, alpha, min_cases, tz))
    rows.extend(_route_changes(routes, min_cases, tz))
    notes: list[str] = []
    for redesign in redesigns:
        date = pd.Timestamp(redesign.date).tz_localize(tz)
        ptype = getattr(redesign, "process_type", None)
        rows.append({"process_type": ptype, "date": date, "kind": "redesign",
                     "node": getattr(redesign, "name", None), "source": "settings"})
        near = [r for r in rows if r["source"] == "detected"
                and (ptype is None or r["process_type"] == ptype)
                and abs(r["date"] - date) <= _NEAR]
        if not near:
            notes.append(Said("versions.not_seen", name=str(getattr(redesign, "name", "")),
                              date=f"{date:%Y-%m-%d}"))
    changes = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    changes = changes.sort_values(["date", "process_type", "kind", "node"], kind="stable",
                                  na_position="first").reset_index(drop=True)
    since: dict[Any, pd.Timestamp] = {}
    every_type = cases["process_type"].dropna().unique().tolist()
    for row in changes.itertuples():
        for ptype in ([row.process_type] if row.process_type is not None else every_type):
            if ptype not in since or row.date > since[ptype]:
                since[ptype] = row.date
    return ProcessVersions(changes=changes, since=since, timezone=tz, alpha=alpha,
                           notes=tuple(notes), span=span, cases=cases)


def _node_changes(ptype, row, starts: np.ndarray, alpha: float, min_cases: int,
                  tz: str) -> list[dict]:
    """The removal and/or addition of one node in one process type, if the evidence holds."""
    out = []
    first = np.datetime64(row.first_seen.tz_convert("UTC").tz_localize(None), "ns")
    last = np.datetime64(row.last_seen.tz_convert("UTC").tz_localize(None), "ns")
    lo = np.searchsorted(starts, first, side="left")
    hi = np.searchsorted(starts, last, side="right")
    during = max(hi - lo, 1)
    share = min(row.cases / during, 1.0)
    after = len(starts) - hi
    before = lo
    as_time = (lambda t: pd.Timestamp(t).tz_localize("UTC").tz_convert(tz))
    # at the share it had while it ran, how likely is it to miss every later (earlier) case?
    if after >= min_cases and share < 1.0 and (1 - share) ** after < alpha or \
            after >= min_cases and share == 1.0:
        out.append({"process_type": ptype, "date": as_time(starts[hi]), "kind": "node_removed",
                    "node": row.node, "source": "detected", "cases_before": int(row.cases),
                    "share_before": float(share), "cases_after": int(after),
                    "last_seen": row.last_seen, "first_seen": row.first_seen})
    if before >= min_cases and (share == 1.0 or (1 - share) ** before < alpha):
        out.append({"process_type": ptype, "date": row.first_seen, "kind": "node_added",
                    "node": row.node, "source": "detected", "cases_before": int(before),
                    "share_before": 0.0, "cases_after": int(row.cases),
                    "last_seen": row.last_seen, "first_seen": row.first_seen})
    return out


#: A reordering must flip at least this share of the cases that pass both steps.
ROUTE_FLIP = 0.5
#: …and be this unlikely as chance (a likelihood-ratio test, one change point per pair).
ROUTE_ALPHA = 1e-6


def position_dtype(steps: int) -> type:
    """The narrowest integer that holds a case's step positions (-1 .. steps - 1): what the
    parts of a log carry per case, a byte a step where it can."""
    return np.int8 if steps < 128 else np.int16


def _route_changes(routes: "RouteFacts", min_cases: int, tz: str) -> list[dict]:
    """Two steps that swap places: in the first round of each ended case, the order of the
    first visits of two steps of the chain (decision, instruction, notification) both visited
    by at least a fifth of the process's cases. A change point where that order flips from
    mostly one way to mostly the other (the share of cases with A before B moves by at least
    `ROUTE_FLIP`), found by the most likely split of the cases by start and accepted when
    chance would give it less than `ROUTE_ALPHA`. Array work over `routes`' per-case
    positions (cases of equal start in the order of their case ids)."""
    if routes.rows < 2 * min_cases or not routes.steps:
        return []
    type_code, type_names = routes.type_codes(), routes.type_names
    start, pos, names = routes.start(), routes.positions(), routes.names
    out = []
    for code in np.unique(type_code):
        p = type_names[code] if code >= 0 else None
        of_type = type_code == code
        if of_type.sum() < 2 * min_cases:
            continue
        cases = np.flatnonzero(of_type)
        by_start = cases[np.argsort(start[cases], kind="stable")]   # the type's cases by start
        visited = pos[cases] >= 0
        used = np.flatnonzero(visited.any(axis=0))      # the steps of this process type
        share = visited[:, used].mean(axis=0)
        frequent = np.flatnonzero(share >= 0.2)
        for i, a in enumerate(frequent):
            for b in frequent[i + 1:]:
                pa_, pb = pos[by_start, used[a]], pos[by_start, used[b]]
                both = (pa_ >= 0) & (pb >= 0)
                if both.sum() < 2 * min_cases:
                    continue
                x = (pa_[both] < pb[both]).astype(float)
                split = _flip(x, min_cases)
                if split is None:
                    continue
                k, before, after = split
                when = pd.Timestamp(int(start[by_start[both][k]]), unit="us", tz="UTC")
                first_node, second = ((names[used[a]], names[used[b]]) if before > after
                                      else (names[used[b]], names[used[a]]))
                out.append({"process_type": p, "date": when.tz_convert(tz),
                            "kind": "route_changed", "node": f"{first_node} ⇄ {second}",
                            "source": "detected", "cases_before": int(k),
                            "share_before": float(max(before, 1 - before)),
                            "cases_after": int(len(x) - k), "last_seen": pd.NaT,
                            "first_seen": pd.NaT})
    return out


#: Memory an event of a batch costs at peak while the route changes read it (its six
#: columns in Arrow and the arrays over them), with a margin.
_BYTES_PER_ROW = 500
#: The event columns the versions read (blocking events only, in case order).
ROUTE_COLUMNS = ["case_id", "node", "round", "case_start", "case_end", "process_type"]


class RouteFacts:
    """What the versions are decided from, gathered batch by batch of whole cases in case
    order (or partition by partition, `parts`/`from_parts`):

    * per case: its process type and start (its first blocking event's), and where each
      step's first visit in the case's first round falls among the steps it visited (-1:
      not visited; an open case visits none that count);
    * per process type and node (`presence`): how many cases visit it, and the first and
      last start of those cases — exact counts, which add up over parts of the log.

    Steps are numbered in the order the log first names them, or as `names` gives them."""

    def __init__(self, steps, names: Sequence[str] | None = None) -> None:
        self.steps = set(steps)
        self.names: list[str] = list(names) if names is not None else []
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.rows = 0
        self.type_names: list = []
        self._type_index: dict = {}
        self._types: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []
        self._pos: list[np.ndarray] = []
        self._presence: list[pd.DataFrame] = []

    def add(self, t, *, case_ids: list | None = None) -> None:
        """Add a batch of whole cases (the `ROUTE_COLUMNS` of blocking events, in case
        order); `case_ids`, if given, gets each case's id in the order the facts hold them."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = t.num_rows
        self.rows += n
        if not n:
            return
        case_id = t["case_id"]
        new_case = np.ones(n, dtype=bool)
        new_case[1:] = ~pc.fill_null(pc.equal(case_id[1:], case_id[:-1]), False).to_numpy(
            zero_copy_only=False)
        case_no = np.cumsum(new_case) - 1
        first_row = np.flatnonzero(new_case)
        if case_ids is not None:
            case_ids.extend(case_id.take(pa.array(first_row)).to_pylist())
        node = pc.dictionary_encode(t["node"]).combine_chunks()
        local = node.dictionary.to_pylist()              # in order of first appearance
        for name in local:
            if name in self.steps and name not in self.index:
                self.index[name] = len(self.names)
                self.names.append(name)
        to_global = np.array([self.index[name] if name in self.steps else -1
                              for name in local], dtype=np.int64)
        local_codes = node.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        codes = to_global[local_codes]
        keep = ((t["round"].to_numpy(zero_copy_only=False) == 1)
                & pc.is_valid(t["case_end"]).to_numpy(zero_copy_only=False) & (codes >= 0))
        rows = np.flatnonzero(keep)
        # first visit of each step in each case, numbered in order within the case
        key = case_no[rows] * max(len(self.names), 1) + codes[rows]
        _, first = np.unique(key, return_index=True)
        first = np.sort(rows[first])
        f_case = case_no[first]
        starts_at = np.flatnonzero(np.r_[True, f_case[1:] != f_case[:-1]])
        order = np.arange(len(first)) - np.repeat(starts_at, np.diff(np.r_[starts_at,
                                                                          len(first)]))
        pos = np.full((len(first_row), len(self.names)), -1, dtype=np.int16)
        pos[f_case, codes[first]] = order
        self._pos.append(pos)
        # process types as codes numbered in the order the log first names them (-1: none)
        types = pc.dictionary_encode(t["process_type"].take(pa.array(first_row))
                                     ).combine_chunks()
        for name in types.dictionary.to_pylist():
            if name not in self._type_index:
                self._type_index[name] = len(self.type_names)
                self.type_names.append(name)
        to_code = np.array([self._type_index[name] for name in types.dictionary.to_pylist()]
                           + [-1], dtype=np.int32)
        case_type = to_code[types.indices.fill_null(-1).to_numpy(
            zero_copy_only=False).astype(np.int64)]
        self._types.append(case_type)
        start = pc.cast(t["case_start"].take(pa.array(first_row)), pa.int64())
        self._starts.append(start.to_numpy(zero_copy_only=False))
        # every node a case visits (a case counted once per node), by the case's type
        timed = pc.is_valid(start).to_numpy(zero_copy_only=False)
        # (sorted, not numpy's hashed unique: several times slower on a million keys here)
        pair = np.sort(case_no * len(local) + local_codes)
        pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
        p_case, p_node = pair // len(local), pair % len(local)
        p_case, p_node = p_case[timed[p_case]], p_node[timed[p_case]]
        frame = pd.DataFrame({"type": case_type[p_case], "node": p_node,
                              "start": start.fill_null(0).to_numpy()[p_case]})
        facts = frame.groupby(["type", "node"], sort=False).agg(
            cases=("start", "size"), first=("start", "min"), last=("start", "max"))
        facts = facts.reset_index()
        facts["process_type"] = [self.type_names[c] if c >= 0 else None
                                 for c in facts["type"]]
        facts["node"] = [local[c] for c in facts["node"]]
        self._presence.append(facts.drop(columns="type"))

    def presence(self, tz: str) -> pd.DataFrame:
        """Per process type and node: cases visiting it, the first and last start of those
        cases (blocking events of cases with a start), by type and node."""
        columns = ["process_type", "node", "cases", "first_seen", "last_seen"]
        if not self._presence:
            return pd.DataFrame(columns=columns)
        frame = pd.concat(self._presence, ignore_index=True).groupby(
            ["process_type", "node"], dropna=False, sort=False).agg(
            cases=("cases", "sum"), first=("first", "min"), last=("last", "max")).reset_index()
        for name, col in (("first_seen", "first"), ("last_seen", "last")):
            frame[name] = pd.to_datetime(frame[col], unit="us", utc=True).dt.tz_convert(tz)
        frame["cases"] = frame["cases"].astype("int64")
        frame = frame.sort_values(["process_type", "node"], na_position="first",
                                  kind="stable").reset_index(drop=True)
        return frame[columns]

    def parts(self, types: Sequence) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The facts as two tables that add up over parts of the log: one row per case
        (type_code: its process type's place in `types`, -1 for none; start in µs;
        positions as `position_dtype` bytes, in `names`' order) and the presence facts
        (process_type, node, cases, first, last in µs)."""
        pos = self.positions().astype(position_dtype(len(self.names)))
        where = {name: i for i, name in enumerate(types)}
        to_code = np.array([where[name] for name in self.type_names] + [-1], dtype=np.int32)
        cases = pd.DataFrame({
            "type_code": to_code[self.type_codes()],
            "start": self.start(),
            "positions": [row.tobytes() for row in pos]})
        presence = (pd.concat(self._presence, ignore_index=True) if self._presence else
                    pd.DataFrame(columns=["process_type", "node", "cases", "first", "last"]))
        return cases, presence

    @classmethod
    def from_parts(cls, steps, names: Sequence[str], rows: int, type_codes: np.ndarray,
                   type_names: list, start: np.ndarray, positions: np.ndarray,
                   presence: pd.DataFrame) -> "RouteFacts":
        """The facts of a whole log from its parts' (`parts`): cases in order of start, and
        of case id where starts are equal — the order one machine's stable sort gives; each
        case's process type as a code into `type_names` (-1: none)."""
        facts = cls(steps, names)
        facts.rows = rows
        facts.type_names = list(type_names)
        facts._type_index = {name: i for i, name in enumerate(facts.type_names)}
        facts._types = [np.asarray(type_codes, dtype=np.int32)]
        facts._starts = [np.asarray(start)]
        facts._pos = [positions.reshape(len(facts._types[0]), len(facts.names))
                      .astype(np.int16)]
        facts._presence = [presence]
        return facts

    def type_codes(self) -> np.ndarray:
        return np.concatenate(self._types) if self._types else np.array([], dtype=np.int32)

    def start(self) -> np.ndarray:
        return np.concatenate(self._starts) if self._starts else np.array([], dtype=np.int64)

    def positions(self) -> np.ndarray:
        """The cases' positions (one row per case), every batch widened to the steps named
        by the end; the batches' own arrays are let go as they are copied in."""
        out = np.full((sum(len(p) for p in self._pos), len(self.names)), -1, dtype=np.int16)
        at = 0
        while self._pos:
            p = self._pos.pop(0)
            out[at:at + len(p), :p.shape[1]] = p
            at += len(p)
        self._pos = [out]
        return out


def _flip(x: np.ndarray, min_cases: int) -> tuple[int, float, float] | None:
    """The most likely single change point of a 0/1 series (binomial likelihood ratio),
    if the share moves by `ROUTE_FLIP` and chance would give it less than `ROUTE_ALPHA`."""
    n = len(x)
    k = np.arange(min_cases, n - min_cases + 1)
    if not len(k):
        return None
    ones = np.cumsum(x)
    left, right = ones[k - 1] / k, (ones[-1] - ones[k - 1]) / (n - k)

    def loglik(p, m):
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return m * (p * np.log(p) + (1 - p) * np.log(1 - p))

    total = ones[-1] / n
    gain = loglik(left, k) + loglik(right, n - k) - loglik(np.array(total), n)
    best = int(np.argmax(gain))
    # 2 × gain is about chi-square (1 degree of freedom, plus the split searched over:
    # a Bonferroni bar over the candidate splits)
    p_value = chi2_1_sf(2 * float(gain[best])) * len(k)
    if abs(left[best] - right[best]) < ROUTE_FLIP or p_value >= ROUTE_ALPHA:
        return None
    return int(k[best]), float(left[best]), float(right[best])


def chi2_1_sf(x: float) -> float:
    """P(X > x) for X chi-square with one degree of freedom: erfc(sqrt(x / 2)). Written out
    so that the versions (run by every necessity test) need not import scipy, half a second
    on the first call of a process."""
    return math.erfc(math.sqrt(max(x, 0.0) / 2))


def since_dates(log: EventLog, since: Since, redesigns: Sequence = (), *,
                memory_limit: int | str | None = None
                ) -> tuple[dict[Any, pd.Timestamp] | pd.Timestamp | None, ProcessVersions | None]:
    """What `since` means on `log`: per-type start dates ("current"), one date, or None (every
    case); with the versions when they were computed (in batches within `memory_limit`, if
    given)."""
    if since is None or (isinstance(since, str) and since == "all"):
        return None, None
    if isinstance(since, ProcessVersions):
        return since.since, since
    if isinstance(since, str) and since == "current":
        versions = process_versions(log, redesigns, memory_limit=memory_limit)
        return versions.since, versions
    return since_date(since, log.timezone, log.span()[1]), None


def since_date(since: Any, timezone: str, end: pd.Timestamp | None) -> pd.Timestamp:
    """`since` as a date in `timezone` (the cases started on or after it are judged), or a
    clear error: not a date, or after the log's `end` (None: the log is empty). Both engines
    read a date this way."""
    try:
        t = pd.Timestamp(since)
    except (TypeError, ValueError):
        raise InputError(f"since must be 'current', 'all' or a date like '2025-07-01', "
                         f"not {since!r}") from None
    t = t.tz_localize(timezone) if t.tzinfo is None else t.tz_convert(timezone)
    if end is None or t > end:
        raise InputError(f"since {t:%Y-%m-%d} is after the end of the log "
                         f"({end:%Y-%m-%d})" if end is not None else "the log is empty")
    return t


def select_since(log: EventLog, since: Since, redesigns: Sequence = (), *,
                 memory_limit: int | str | None = None
                 ) -> tuple[EventLog, ProcessVersions | None]:
    """The cases of `log` that `since` keeps (whole cases, by start), and the versions."""
    dates, versions = since_dates(log, since, redesigns, memory_limit=memory_limit)
    if dates is None:
        return log, versions
    if isinstance(dates, pd.Timestamp):
        return log.select_cases(start=dates, by="start"), versions
    if not dates:
        return log, versions
    return log.select_versions(dates), versions
