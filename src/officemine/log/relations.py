"""The one meaning of the log: the relations every analysis reads, defined once.

KPIs, discovery, the necessity test, supervision, simulation and the report read the log only
through this module (and `EventLog`'s own description: `span`, `n_cases`, `nodes`); none of
them writes its own query over the raw events. A test enforces it. The definitions:

* **event** — one row of the canonical log (`officemine.log.schema`), in case and position order.
* **blocking event** — any event but cc, comment and remind (`schema.NON_BLOCKING`): the only
  events that move an item. Pending rows (arrived, not yet acted on) are blocking.
* **visit** — a case's uninterrupted stay at one node: its blocking events in order, a new
  visit starting when the node changes or after a return or a rejection (the item left the
  node, even if it comes back to it at once). A transfer or 加签 inside a node does not end a
  visit. Stored on every event as ``visit`` (null for non-blocking events), with the visit's
  arrival ``visit_start`` (the recorded arrival of its first event, or the previous action in
  the case — ``visit_source`` says which).
* **work item** — one decision (approve, auto_approve, reject, return) taken in a visit, or an
  item still pending at export. Its wait runs from the visit's arrival to the decision; a
  pending item's wait is right-censored at ``as_of`` (`work_items`).
* **return** — an item sent back to be corrected and resubmitted (退回, outcome ``return``). A
  round is one attempt: ``round`` is 1 + the returns before the event (of its object, when a
  case holds several objects: a permit, then a declaration), so a
  return ends its round and the resubmission that follows starts the next one. A case's
  rounds are its highest round.
* **case** — starts at its first submission (提交); a case with no submission in the log starts
  at its first arrival or blocking action (``start_basis`` says which). It **ends** at its final
  event: its last blocking action, when that is archive, reject or withdraw and nothing is
  pending; otherwise it is **open**. Stored on every event as ``case_start`` and ``case_end``
  (null while open), so selecting the cases of a month is a filter. A case is open *as of* a
  time ``t`` when it started by ``t`` and had not ended by then.
* **now** — the end of the log: the last time it knows of, an action or an arrival
  (`log_end`). Every "as of" defaults to it.
* **cycle time** — from a case's start to its end, in working time of the calendar and in
  clock time; only ended cases have one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.calendar import Calendar
from officemine.base.errors import InputError, LogFormatError
from officemine.log.eventlog import EventLog
from officemine.log.schema import C, CASE_ATTRIBUTES, DECISIONS, NON_BLOCKING, REJECTIONS, TERMINAL

__all__ = [
    "log_end", "now", "events", "process_types", "scope_counts", "event_months",
    "work_items", "case_batches", "DESCRIPTIVE", "cases", "node_kinds", "node_roles",
    "NODE_KINDS",
    "STEP_KINDS", "case_spans", "holders", "last_actions", "case_steps",
    "submit_node", "node_facts_of", "kinds_of",
]


def _values(outcomes) -> str:
    """A closed set of outcomes as an SQL list (constants of the schema, never input)."""
    return ", ".join(f"'{o}'" for o in sorted(outcomes))


#: SQL condition true for blocking events (pending rows have no outcome: blocking).
BLOCKING = f"({C.outcome} IS NULL OR {C.outcome} NOT IN ({_values(NON_BLOCKING)}))"
_DECISIONS = _values(DECISIONS)
_REJECTIONS = _values(REJECTIONS)
_TERMINAL = _values(TERMINAL)


# --- now -----------------------------------------------------------------------------------------

def log_end(log: EventLog) -> pd.Timestamp | None:
    """The end of the log ("now"): the last time it knows of, an action or an arrival."""
    return log.span()[1]


def now(log: EventLog, when: Any = None) -> pd.Timestamp | None:
    """The moment an analysis looks from: `when` as a time in the log's zone (a naive time is
    local), else the end of the log (None for an empty log)."""
    if when is None:
        return log_end(log)
    try:
        t = pd.Timestamp(when)
    except (TypeError, ValueError):
        raise InputError(f"as_of must be a time like '2025-10-31 17:30', not {when!r}") \
            from None
    if t is pd.NaT:
        raise InputError(f"as_of must be a time like '2025-10-31 17:30', not {when!r}")
    return t.tz_localize(log.timezone) if t.tzinfo is None else t.tz_convert(log.timezone)


# --- events --------------------------------------------------------------------------------------

def events(log: EventLog, columns: Sequence[str], *, blocking: bool = False,
           process_type: str | None = None) -> pa.Table:
    """The events (only blocking ones, if asked; of one process type, if given) with
    `columns`, in the log's case and position order, as an Arrow table: the one scan that
    discovery and the simulators cut into their arrays."""
    _check_columns(log, columns)
    where = [BLOCKING] if blocking else []
    params: dict = {}
    if process_type is not None:
        where.append(f"{C.process_type} = $process_type")
        params["process_type"] = process_type
    return log.query_arrow(_events_sql(columns, where), params or None)


def event_batches(log: EventLog, columns: Sequence[str], *, blocking: bool = False,
                  rows: int = 1_000_000, duckdb_memory: int | None = None
                  ) -> Iterator[pa.Table]:
    """`events` in batches of whole cases of about `rows` rows, in the log's case order,
    never more than one in memory (a stored log larger than memory)."""
    _check_columns(log, columns)
    yield from _whole_cases(log, _events_sql(columns, [BLOCKING] if blocking else []), rows,
                            duckdb_memory)


def _check_columns(log: EventLog, columns: Sequence[str]) -> None:
    unknown = [c for c in columns if c not in log.columns]
    if unknown:
        raise InputError(f"the log has no column {', '.join(map(repr, unknown))}")


def _events_sql(columns: Sequence[str], where: list[str]) -> str:
    select = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT {select} FROM events WHERE {' AND '.join(where) or 'TRUE'}"


def process_types(log: EventLog) -> pd.DataFrame:
    """Cases per process type (a null process type shown as None), most cases first."""
    return log.query(f"SELECT {C.process_type}, count(DISTINCT {C.case_id}) AS cases "
                     "FROM events GROUP BY 1 ORDER BY cases DESC, 1")


def scope_counts(log: EventLog, process_type: str | None = None) -> tuple[int, int]:
    """Cases and events of one process type (of the whole log for None)."""
    if process_type is None:
        return log.n_cases, log.n_events
    n_cases, n_events = log.one(f"SELECT count(DISTINCT {C.case_id}), count(*) FROM events "
                                f"WHERE {C.process_type} = $p", {"p": process_type})
    return int(n_cases), int(n_events)


def event_months(log: EventLog) -> pd.Series:
    """Events per calendar month of the log's zone ("2025-10" -> count), by action time (by
    arrival for pending items)."""
    months = log.cached(("event_months",), lambda: log.query(
        "SELECT strftime(m, '%Y-%m') AS month, n FROM (SELECT date_trunc('month', "
        f"coalesce({C.acted_at}, {C.arrived_at})) AS m, count(*) AS n FROM events GROUP BY 1)"))
    return months.set_index("month")["n"] if len(months) else pd.Series(dtype=int)


# --- work items ----------------------------------------------------------------------------------

#: Columns that describe an item beyond its node, outcome and wait; `work_items` fetches
#: the ones asked for (text columns cost most of the query on big logs).
DESCRIPTIVE = (C.resource, C.dept, C.process_type, C.urgency, C.amount, C.comment)


def _items_sql(columns: tuple[str, ...], overlapping: bool) -> str:
    """A filter over the stored visit columns: no window pass. Rows come back in the log's
    (case_id, seq) order. `overlapping`: only items that waited during [$lo, $hi) (or may
    have: pending ones)."""
    extra = "".join(f"{c}, " for c in DESCRIPTIVE if c in columns)
    window = ("\n  AND visit_start < $hi AND (pending OR acted_at > $lo)" if overlapping else "")
    return f"""
SELECT case_id, seq, visit, round, "object", node, outcome, {extra}pending, visit_start, acted_at,
       visit_source AS wait_source, coalesce(outcome IN ({_REJECTIONS}), false) AS rejected
FROM events
WHERE (outcome IN ({_DECISIONS}) OR (pending AND visit IS NOT NULL)){window}
"""


def work_items(log: EventLog, calendar: Calendar | None = None, as_of: Any = None,
               columns: tuple[str, ...] = DESCRIPTIVE,
               during: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    """One row per decided or pending work item with its wait in clock and working hours.

    Columns: case_id, seq, visit, round, object (null unless the log has several objects per
    case; rounds count per object), node, outcome, the descriptive
    `columns` asked for (default all: resource, dept, process_type, urgency, amount,
    comment), pending, visit_start, acted_at, wait_source (recorded | inferred | none),
    rejected, observed (False = still pending, censored), wait_hours (clock),
    wait_workhours (working hours of `calendar`). `during` = (start, end): only the items
    that waited at some time in [start, end) (plus pending ones), for a month's analyses on
    a long log. ``attrs``: as_of, calendar, warnings.
    """
    columns = _descriptive(columns)
    calendar = calendar or log.calendar
    end = _items_as_of(log, as_of)
    items = log.cached(("work_items", repr(calendar), end, columns, during),
                       lambda: _work_items(log, calendar, end, columns, during))
    items.attrs = dict(items.attrs)
    return items


def work_item_batches(log: EventLog, calendar: Calendar | None = None, as_of: Any = None,
                      columns: tuple[str, ...] = DESCRIPTIVE, *,
                      items: int = 1_000_000,
                      duckdb_memory: int | None = None) -> Iterator[pd.DataFrame]:
    """`work_items` of the whole log in batches of whole cases, in the log's case order:
    about `items` rows each (`eventlog.whole_runs`), never more than one batch in memory.
    For a stored log larger than memory: DuckDB streams the same filter over the file. Each
    batch is what `work_items` gives for its cases; its ``attrs`` warnings are the batch's
    own (`Calendar.coverage_warnings` of the whole log reads the earliest visit start).
    duckdb_memory: bytes DuckDB may hold for the scan (on a connection of its own)."""
    columns = _descriptive(columns)
    calendar = calendar or log.calendar
    end = _items_as_of(log, as_of)
    for table in _whole_cases(log, _items_sql(columns, False), items, duckdb_memory):
        yield _with_waits(table.to_pandas(), calendar, end)


def case_batches(log: EventLog, *, events: int = 1_000_000,
                 duckdb_memory: int | None = None) -> Iterator[EventLog]:
    """The log in batches of whole cases, in its case order: each an in-memory `EventLog` of
    about `events` events (`eventlog.whole_runs`), never more than one in memory. For a
    stored log larger than memory: a case's relations (`cases`, its cycle time, returns and
    hand-offs) depend on the case alone, so each batch gives its cases' rows of the whole
    log's tables (the Spark engine's partitions of whole cases, on one machine).
    duckdb_memory: bytes DuckDB may hold for the scan (on a connection of its own)."""
    for table in _whole_cases(log, "SELECT * FROM events", events, duckdb_memory):
        yield EventLog(table, timezone=log.timezone, calendar=log.calendar,
                       mapping=log.mapping, _derived=True)


def _whole_cases(log: EventLog, sql: str, rows: int,
                 duckdb_memory: int | None) -> Iterator[pa.Table]:
    """The rows of `sql` (over ``events``, in the log's order) in tables of whole cases of
    about `rows` rows, streamed by DuckDB on a connection of its own."""
    from officemine.log.eventlog import whole_runs

    con = log.connect(duckdb_memory)
    try:
        reader = con.sql(sql).to_arrow_reader(min(rows, 100_000))
        last = None
        for table in whole_runs(reader, rows, C.case_id):
            case = table[C.case_id]
            # a case cut in two would be two cases: the rows must come in case order
            if pc.any(pc.less(case[1:], case[:-1])).as_py() or (
                    last is not None and pc.less_equal(case[0], last).as_py()):
                raise LogFormatError(f"{log.path or 'the log'}: its rows are not in case "
                                     "order; write it with officemine (import, or "
                                     "EventLog.write) to read it in batches")
            last = case[-1]
            yield table
    finally:
        con.close()


def _descriptive(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The descriptive columns asked for, in `DESCRIPTIVE` order (an unknown one is an error)."""
    unknown = set(columns) - set(DESCRIPTIVE)
    if unknown:
        raise InputError(f"work_items: no descriptive column {sorted(unknown)}; "
                         f"choose from {DESCRIPTIVE}")
    return tuple(c for c in DESCRIPTIVE if c in columns)


def _items_as_of(log: EventLog, as_of: Any) -> pd.Timestamp:
    """The moment pending items are censored at: `now`, or the wall clock for an empty log."""
    end = now(log, as_of)
    return pd.Timestamp.now(tz=log.timezone) if end is None else end


def _work_items(log: EventLog, calendar: Calendar, as_of: pd.Timestamp,
                columns: tuple[str, ...], during) -> pd.DataFrame:
    # through Arrow: DuckDB's own DataFrame conversion of the text columns took longer than
    # the query (every column here is non-null or text/float, so the dtypes are the same)
    if during is None:
        items = log.query_arrow(_items_sql(columns, False)).to_pandas()
    else:
        lo, hi = (pd.Timestamp(t).to_pydatetime() for t in during)
        items = log.query_arrow(_items_sql(columns, True), {"lo": lo, "hi": hi}).to_pandas()
    return _with_waits(items, calendar, as_of)


def _with_waits(items: pd.DataFrame, calendar: Calendar, as_of: pd.Timestamp) -> pd.DataFrame:
    """The items of `_items_sql` with whether each was observed and its waits in clock and
    working hours (pending ones up to `as_of`)."""
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


# --- cases ---------------------------------------------------------------------------------------

def _cases_sql(attributes: Sequence[str]) -> str:
    """One aggregate over the stored columns (no window); the case's attributes from its first
    event (the importer spreads them over the case): a filter, not a text aggregate."""
    attrs = ", ".join(f'"{c}"' for c in attributes)
    return f"""
WITH attributes AS (SELECT {C.case_id}, {attrs} FROM events WHERE {C.seq} = 0),
per_case AS (
SELECT {C.case_id},
       min({C.acted_at}) FILTER (WHERE {C.outcome} IN ('submit', 'resubmit')) AS submitted_at,
       any_value({C.case_start}) AS start_at,
       any_value({C.case_end}) AS ended_at,
       count(*) FILTER (WHERE {C.outcome} = 'return') AS returns,
       count(*) FILTER (WHERE {C.outcome} = 'remind') AS reminders,
       count(*) FILTER (WHERE {C.handoff}) AS handoffs,
       coalesce(max({C.round}), 0) AS rounds,
       bool_or({C.pending}) AS has_pending,
       arg_max_null({C.outcome}, {C.seq}) FILTER (WHERE {C.visit} IS NOT NULL) AS last_outcome
FROM events GROUP BY {C.case_id})
SELECT p.{C.case_id}, a.* EXCLUDE ({C.case_id}), p.* EXCLUDE ({C.case_id})
FROM per_case p LEFT JOIN attributes a USING ({C.case_id}) ORDER BY p.{C.case_id}
"""


_STATUS = {"archive": "archived", "reject": "rejected", "withdraw": "withdrawn"}


def cases(log: EventLog, calendar: Calendar | None = None,
          extra: Sequence[str] = ()) -> pd.DataFrame:
    """One row per case, in case_id order: what it is, when it started and ended, its cycle
    time, returns, rounds and hand-offs.

    Columns: case_id, the case attributes (process_type, amount, urgency, applicant,
    applicant_dept, title) and the `extra` source columns asked for, as the case's first event
    carries them; submitted_at (first submission; NaT when the log has none), start_at,
    start_basis (``submission`` | ``first_event``), ended_at (NaT while open), status
    (archived | rejected | withdrawn | open), returns, reminders, handoffs, rounds,
    has_pending, last_outcome, cycle_workdays (working days of `calendar`), cycle_clockdays
    (both NaN while open).
    """
    calendar = calendar or log.calendar
    extra = tuple(c for c in extra if c not in CASE_ATTRIBUTES)
    return log.cached(("cases", repr(calendar), extra), lambda: _cases(log, calendar, extra))


def _cases(log: EventLog, calendar: Calendar, extra: tuple[str, ...]) -> pd.DataFrame:
    table = log.query(_cases_sql((*CASE_ATTRIBUTES, *extra)))
    for col in ("submitted_at", "start_at", "ended_at"):
        table[col] = _in_zone(table[col], log.timezone)
    table["start_basis"] = np.where(table["submitted_at"].notna(), "submission", "first_event")
    table["status"] = table["last_outcome"].map(_STATUS).where(table["ended_at"].notna(),
                                                               "open").fillna("open")
    ended = table["ended_at"].notna().to_numpy()
    work = np.full(len(table), np.nan)
    if ended.any():
        work[ended] = calendar.working_seconds(table.loc[ended, "start_at"],
                                               table.loc[ended, "ended_at"])
    table["cycle_workdays"] = work / calendar.day_seconds
    table["cycle_clockdays"] = (table["ended_at"] - table["start_at"]).dt.total_seconds() / 86400
    for col in ("returns", "reminders", "handoffs", "rounds"):
        table[col] = table[col].astype("int64")
    table["has_pending"] = table["has_pending"].fillna(False).astype(bool)
    table.attrs.update(calendar=calendar.describe())
    return table


def _in_zone(values: pd.Series, tz: str) -> pd.Series:
    s = pd.to_datetime(values)
    if getattr(s.dt, "tz", None) is None:
        s = s.dt.tz_localize("UTC")
    return s.dt.tz_convert(tz)


# --- what each node is ---------------------------------------------------------------------------

NodeKind = Literal["submit", "archive", "decision", "instruction", "notification", "automatic",
                   "unknown"]
NODE_KINDS: tuple[str, ...] = get_args(NodeKind)
#: Kinds whose visits are steps of the chain that a redesign can act on (remove, merge …).
STEP_KINDS = frozenset({"decision", "instruction", "notification"})

# Words in a node's name that say what the step does. 批示/阅示: a leader gives instructions
# and sends the item on; 阅知/传阅: people are told. Such a step is judged by what it records
# too: one that returns or rejects more than `NAMED_STEP_MAX_STOPS` of its items (a leader
# now and then sends one back with an instruction) is a decision whatever its name.
NAMED_STEP_MAX_STOPS = 0.02
_INSTRUCTION_NAME = re.compile(r"批示|阅示|指示|圈阅|签批意见|instruct", re.I)
_NOTIFICATION_NAME = re.compile(r"阅知|传阅|知会|知悉|抄阅|notif|inform", re.I)
# A node the source could not name (BPI Challenge's unrecorded role MISSING).
_UNKNOWN_NAME = re.compile(r"^\s*(missing|unknown|undefined|n/?a|none|null|未知|\(未知\)|（未知）)\s*$",
                           re.I)
# A leader's sign-off: the necessity test holds it to its own (lower) bar.
_LEADER_NAME = re.compile(r"领导|总经理|副总|总裁|董事|局长|厅长|书记|校长|院长|签发|leader|director"
                          r"|general manager|ceo", re.I)
# Actors that are the system, not a person.
_SYSTEM_ACTOR = re.compile(r"^\s*(系统|system|sys|auto|自动|机器人|robot|bot)\s*$", re.I)

_NODE_COUNTS_SQL = f"""
SELECT {C.node} AS node, {C.outcome} AS outcome, {C.pending} AS pending,
       {C.resource} AS resource, count(*) AS n
FROM events GROUP BY ALL
"""


def _node_facts(log: EventLog) -> pd.DataFrame:
    """Per node, the counts the kind inference reads (one small aggregate; the system-actor
    pattern is matched once per distinct person, not per event)."""
    return node_facts_of(log.query(_NODE_COUNTS_SQL))


def node_facts_of(counts: pd.DataFrame) -> pd.DataFrame:
    """`_node_facts` from the events counted by node, outcome, pending and resource (columns
    node, outcome, pending, resource, n): counts add up over parts of a log, so the Spark
    engine counts in Spark and finishes here."""
    outcome = counts["outcome"].astype("object")
    names = counts["resource"].astype("object")
    system = [r for r in names.dropna().unique() if _SYSTEM_ACTOR.match(r)]
    blocking = ~outcome.isin(list(NON_BLOCKING))
    acted = blocking & ~counts["pending"].astype(bool)
    n = counts["n"].astype("int64")
    parts = {
        "blocking": blocking, "submits": outcome.isin(["submit", "resubmit"]),
        "archives": outcome.eq("archive"), "approvals": outcome.eq("approve"),
        "auto_approvals": outcome.eq("auto_approve"), "returns": outcome.eq("return"),
        "rejects": outcome.eq("reject"), "notes": outcome.isin(["cc", "comment"]),
        "acted": acted, "by_system": acted & names.isin(system),
    }
    frame = pd.DataFrame({k: np.where(v.to_numpy(bool), n, 0) for k, v in parts.items()})
    frame.insert(0, "node", counts["node"].astype("object"))
    return frame.groupby("node", sort=True).sum().reset_index()


def node_kinds(log: EventLog, overrides: dict[str, str] | None = None) -> pd.DataFrame:
    """What each node is, with the evidence: one row per node.

    Kinds: ``submit`` (发起: most of its blocking events are submissions), ``archive`` (归档),
    ``decision`` (it approves, returns or rejects items: the necessity test judges it),
    ``instruction`` (批示, 阅示: named so, and returning or rejecting at most 2 % of its items),
    ``notification`` (阅知, 传阅: named so and as rare to stop an item, or recording only cc
    and comments),
    ``automatic`` (the system acts there, or approves automatically) and ``unknown``
    (the source did not record the step — BPI Challenge's role MISSING — or it only ever
    returns or rejects, so no item passes it). Only decision nodes get a necessity verdict;
    waiting at any other step is reported as such.

    Overrides come from the log's mapping (``[node_kinds]``, stored with the log) and then
    `overrides`; ``basis`` says which decided each row (inferred | mapping | setting).
    Columns: node, kind, basis, evidence (a code), leadership (a leader's sign-off by its
    name: 领导, 总经理, 局长, 签发 …), and the counts the inference read:
    blocking, submits, archives, approvals, auto_approvals, returns, rejects, notes, acted,
    by_system.
    """
    stored = log.mapping.get("node_kinds") if isinstance(log.mapping, dict) else None
    return kinds_of(log.cached(("node_facts",), lambda: _node_facts(log)), stored, overrides)


def kinds_of(facts: pd.DataFrame, stored: dict | None,
             overrides: dict[str, str] | None = None) -> pd.DataFrame:
    """`node_kinds` from the nodes' facts (`node_facts_of`), the mapping's ``[node_kinds]``
    (`stored`) and `overrides`."""
    _check_kinds(stored or {}, "the log's mapping [node_kinds]")
    _check_kinds(overrides or {}, "node_kinds")
    kinds, evidence = zip(*(_infer_kind(row) for row in facts.itertuples(index=False))) \
        if len(facts) else ((), ())
    facts.insert(1, "kind", list(kinds))
    facts.insert(2, "basis", "inferred")
    facts.insert(3, "evidence", list(evidence))
    facts.insert(4, "leadership", facts["node"].astype(str).str.contains(_LEADER_NAME))
    for basis, table in (("mapping", stored or {}), ("setting", overrides or {})):
        hit = facts["node"].isin(list(table))
        facts.loc[hit, "kind"] = facts.loc[hit, "node"].map(table)
        facts.loc[hit, "basis"] = basis
        facts.loc[hit, "evidence"] = "set"
    return facts


def _check_kinds(table: object, where: str) -> None:
    if not isinstance(table, dict):
        raise InputError(f"{where} must map node names to kinds")
    bad = {node: kind for node, kind in table.items() if kind not in NODE_KINDS}
    if bad:
        raise InputError(f"{where}: unknown node kind(s) " + ", ".join(
            f"{node!r} = {kind!r}" for node, kind in bad.items())
            + f"; choose from {', '.join(NODE_KINDS)}")


def _infer_kind(row) -> tuple[str, str]:
    """(kind, evidence code) of one node from its counts and its name; the first rule that
    applies wins (the order matters: a 发起 step is not judged by its name)."""
    name = str(row.node)
    decisions = row.approvals + row.auto_approvals + row.returns + row.rejects
    stops = row.returns + row.rejects
    if row.blocking and row.submits >= 0.5 * row.blocking:
        return "submit", "mostly_submissions"
    if row.blocking and row.archives >= 0.5 * row.blocking:
        return "archive", "mostly_archives"
    if _UNKNOWN_NAME.match(name):
        return "unknown", "unnamed_step"
    if not row.blocking:
        return "notification", "only_cc_or_comments"
    rare = stops <= NAMED_STEP_MAX_STOPS * max(decisions, 1)
    if _NOTIFICATION_NAME.search(name) and rare:
        return "notification", "named_notification"
    if _INSTRUCTION_NAME.search(name) and rare:
        return "instruction", "named_instruction"
    if row.acted and (row.by_system >= 0.9 * row.acted
                      or row.auto_approvals >= 0.5 * max(decisions, 1)):
        return "automatic", "system_acts"
    if decisions and not (row.approvals + row.auto_approvals):
        return "unknown", "never_passes"
    if decisions:
        return "decision", "decides"
    return "unknown", "no_decisions"


def node_roles(log: EventLog, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Node -> kind (`node_kinds` without the evidence)."""
    kinds = node_kinds(log, overrides)
    return dict(zip(kinds["node"], kinds["kind"]))


def case_spans(log: EventLog, *, ids: bool = True) -> pd.DataFrame:
    """One row per case: case_id, process_type (its first event's), start_at and ended_at
    (NaT while open) — the stored case columns, read with a filter (no aggregate). ids=False:
    without the case ids and with the process type categorical, for a log of many millions
    of cases (a few bytes a case)."""
    if not ids:
        table = log.query_arrow(f"SELECT {C.process_type}, {C.case_start} AS start_at, "
                                f"{C.case_end} AS ended_at FROM events WHERE {C.seq} = 0")
        table = table.set_column(0, C.process_type,
                                 pc.dictionary_encode(table[C.process_type]))
        frame = table.to_pandas()
        for col in ("start_at", "ended_at"):
            frame[col] = _in_zone(frame[col], log.timezone)
        return frame
    frame = log.query(f"SELECT {C.case_id}, {C.process_type}, {C.case_start} AS start_at, "
                      f"{C.case_end} AS ended_at FROM events WHERE {C.seq} = 0")
    for col in ("start_at", "ended_at"):
        frame[col] = _in_zone(frame[col], log.timezone)
    return frame


def submit_node(log: EventLog) -> str:
    """The node where most submissions are recorded (发起 when the log has none)."""
    row = log.one(f"SELECT {C.node} FROM events WHERE {C.outcome} IN ('submit', 'resubmit') "
                  "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    return row[0] if row else "发起"


# --- who holds an open case ----------------------------------------------------------------------

_HOLDERS_SQL = f"""
SELECT {C.case_id},
       string_agg(DISTINCT {C.node}, '、' ORDER BY {C.node}) AS current_node,
       string_agg(DISTINCT {C.resource}, '、' ORDER BY {C.resource}) AS responsible,
       string_agg(DISTINCT {C.dept}, '、' ORDER BY {C.dept}) AS responsible_dept,
       bool_or({C.pending}) AS any_pending,
       min(coalesce({C.wait_start}, {C.arrived_at})) AS held_since
FROM events
WHERE {BLOCKING} AND coalesce({C.outcome} <> 'submit', TRUE)
  AND coalesce({C.wait_start}, {C.arrived_at}) <= $as_of
  AND ({C.pending} OR {C.acted_at} > $as_of)
GROUP BY {C.case_id}
"""

_LAST_ACTIONS_SQL = f"""
SELECT {C.case_id},
       arg_max_null({C.node}, {C.seq}) FILTER (WHERE blocking) AS last_action_node,
       arg_max_null({C.outcome}, {C.seq}) FILTER (WHERE blocking) AS last_action,
       arg_max_null({C.resource}, {C.seq}) FILTER (WHERE blocking) AS last_action_by,
       arg_max_null({C.acted_at}, {C.seq}) FILTER (WHERE blocking) AS last_action_at,
       count(*) FILTER (WHERE {C.outcome} = 'remind') AS reminders
FROM (SELECT *, {BLOCKING} AS blocking
      FROM events WHERE NOT {C.pending} AND {C.acted_at} <= $as_of
                        AND {C.case_id} IN (SELECT unnest($cases)))
GROUP BY {C.case_id} HAVING count(*) FILTER (WHERE blocking) > 0
"""


def holders(log: EventLog, as_of: pd.Timestamp) -> pd.DataFrame:
    """Who held each case's item at `as_of`: the items that had arrived by then and were not
    yet decided (pending at export, or acted on later). One row per case holding any:
    current_node, responsible, responsible_dept (several joined by 、), any_pending,
    held_since (the earliest arrival among them)."""
    frame = log.query(_HOLDERS_SQL, {"as_of": as_of.isoformat()})
    frame["held_since"] = _in_zone(frame["held_since"], log.timezone)
    return frame


_STEPS_SQL = f"""
SELECT {C.case_id}, {C.visit} AS visit, any_value({C.node}) AS node,
       string_agg(DISTINCT {C.resource}, '、' ORDER BY {C.resource}) AS held_by,
       string_agg(DISTINCT {C.dept}, '、' ORDER BY {C.dept}) AS dept,
       min({C.visit_start}) AS arrived_at,
       max({C.acted_at}) FILTER (WHERE {C.acted_at} <= $as_of) AS left_at,
       arg_max_null({C.outcome}, {C.seq}) FILTER (WHERE {C.acted_at} <= $as_of) AS outcome,
       bool_or({C.pending} OR {C.acted_at} > $as_of) AS open,
       any_value({C.visit_source}) AS arrival_source
FROM events
WHERE {C.visit} IS NOT NULL AND {C.case_id} IN (SELECT unnest($cases))
  AND coalesce({C.visit_start}, {C.acted_at}) <= $as_of
GROUP BY 1, 2 ORDER BY 1, 2
"""


def case_steps(log: EventLog, case_ids: Sequence[str], as_of: pd.Timestamp,
               calendar: Calendar | None = None) -> pd.DataFrame:
    """The steps of the given cases up to `as_of` (一事一档): one row per visit with the node,
    who held it (several joined by 、), when the item arrived (recorded, or inferred from the
    previous action: ``arrival_source``), when it left (NaT while still there at `as_of`),
    its outcome, and how long it stayed in working days of `calendar` and in clock days (to
    `as_of` for the step still open). A resubmission step at 发起 is the applicant's time."""
    calendar = calendar or log.calendar
    steps = log.query(_STEPS_SQL, {"as_of": as_of.isoformat(),
                                   "cases": [str(c) for c in case_ids]})
    for col in ("arrived_at", "left_at"):
        steps[col] = _in_zone(steps[col], log.timezone)
    end = steps["left_at"].where(~steps["open"].astype(bool), as_of)
    steps.loc[steps["open"].astype(bool), "left_at"] = pd.NaT
    known = steps["arrived_at"].notna() & end.notna()
    work = np.full(len(steps), np.nan)
    if known.any():
        work[known.to_numpy()] = calendar.working_seconds(steps.loc[known, "arrived_at"],
                                                          end[known]) / calendar.day_seconds
    steps["working_days"] = work
    steps["clock_days"] = (end - steps["arrived_at"]).dt.total_seconds() / 86400
    return steps


def last_actions(log: EventLog, as_of: pd.Timestamp, case_ids: Sequence[str]) -> pd.DataFrame:
    """For each of `case_ids`: its last blocking action by `as_of` (node, outcome, person,
    time) and how many reminders (催办) it had by then."""
    frame = log.query(_LAST_ACTIONS_SQL, {"as_of": as_of.isoformat(),
                                          "cases": [str(c) for c in case_ids]})
    frame["last_action_at"] = _in_zone(frame["last_action_at"], log.timezone)
    return frame
