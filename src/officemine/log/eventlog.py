"""`EventLog`: the canonical, validated approval log every analysis takes.

Stored as Parquet (the mapping and the import report ride along as metadata) and queried
with DuckDB, so statistics run as set-based SQL rather than Python loops. A log opened with
`read_log` stays on disk: DuckDB scans only the columns a query needs, so a ten-million-event
log is analysed without holding it in memory. `to_pandas()` and `to_pm4py()` hand the rows to
other tools.

Rows are kept in case and position order (``case_id``, ``seq``), and each event carries its
visit (the uninterrupted stay at one node it belongs to), its submission round and the time
its visit's item arrived: derived once here, so that no analysis needs a window pass.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from officemine.log.calendar import Calendar, is_known_timezone
from officemine.base.errors import CalendarError, ChoiceError, LogFormatError
from officemine.log.import_report import ImportReport
from officemine.log.months import month_covered
from officemine.log.schema import (C, CANONICAL_ORDER, NON_BLOCKING, REJECTIONS, STORED_ORDER,
                                   TERMINAL, VISIT_COLUMNS)

#: 4: instance_id and object stored (a file of format 3 or older is read: instance_id =
#: case_id, object null). 3: visits end after a return or a rejection; case_start is
#: the first submission and case_end the final event (null while open). 2: rows in
#: (case_id, seq) order with the visit columns stored. Older files are read and their
#: derived columns computed afresh.
FORMAT_VERSION = 4
_META_KEY = b"officemine"


class EventLog:
    """An approval event log in canonical form (see `officemine.log.schema`).

    Build one with `officemine.import_log` (from a source) or `officemine.read_log` (from a
    stored Parquet log). `query()` runs DuckDB queries against the view ``events``. A table
    given here is put in (case_id, seq) order and its visit columns (`schema.VISIT_COLUMNS`)
    are derived afresh.
    """

    def __init__(self, table: pa.Table, *, timezone: str, report: ImportReport | None = None,
                 mapping: dict | None = None, set_aside: pd.DataFrame | None = None,
                 path: Path | None = None, calendar: Calendar | None = None,
                 _derived: bool = False) -> None:
        table = _with_instance_columns(table)
        missing = [c for c in CANONICAL_ORDER if c not in table.column_names]
        if missing:
            raise LogFormatError(f"not a canonical event log: columns missing: {missing}")
        if not is_known_timezone(timezone):
            raise LogFormatError(f"unknown time zone {timezone!r}")
        _check_calendar(calendar, timezone)
        self._calendar = calendar
        self._table: pa.Table | None = table if _derived else with_visits(table)
        self._where: str | None = None
        self._schema = self._table.schema
        self._rows = self._table.num_rows
        self.timezone = timezone
        self.report = report
        self.mapping = mapping or {}
        self.set_aside = set_aside
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._cache: dict = {}
        self._n_cases: int | None = None
        self._one_type: bool | None = None

    @classmethod
    def _on_disk(cls, path: Path, schema: pa.Schema, rows: int | None, *, timezone: str,
                 report: ImportReport | None, mapping: dict | None,
                 cases: int | None = None, where: str | None = None,
                 calendar: Calendar | None = None,
                 one_type_per_case: bool = False) -> "EventLog":
        """A log that stays in its Parquet file: DuckDB scans it (only the rows `where`
        selects, if given), `to_arrow` loads it. one_type_per_case: as stored with it."""
        log = cls.__new__(cls)
        log._table, log._schema, log._rows, log._where = None, schema, rows, where
        log.timezone, log.report, log.mapping = timezone, report, mapping or {}
        log.set_aside, log.path, log._con, log._cache = None, path, None, {}
        log._n_cases, log._one_type = cases, one_type_per_case
        _check_calendar(calendar, timezone)
        log._calendar = calendar
        return log

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_pandas(cls, events: pd.DataFrame, *, timezone: str, **kwargs) -> "EventLog":
        return cls(pa.Table.from_pandas(events, preserve_index=False), timezone=timezone, **kwargs)

    # --- queries ---------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection (session time zone = the log's) with the view ``events``."""
        if self._con is None:
            self._con = self.connect()
        return self._con

    def connect(self, memory_limit: int | None = None) -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection like `con` (its own database): for a long scan that holds
        DuckDB to `memory_limit` bytes without touching the log's own connection."""
        con = duckdb.connect()
        con.execute("SET TimeZone = ?", [self.timezone])   # bound, never pasted
        if memory_limit is not None:
            con.execute(f"SET memory_limit = '{max(int(memory_limit) >> 20, 1)}MiB'")
        try:                # the CLI shows its own progress
            con.execute("SET enable_progress_bar = false")
        except duckdb.Error:  # in Jupyter DuckDB wants ipywidgets for this setting
            pass
        if self._table is None:
            con.execute(f"CREATE VIEW events AS SELECT * FROM {self._source_sql()}")
        else:
            con.register("events", self._table)
        return con

    def sql(self, query: str, params: list | None = None) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query, params=params)

    def query(self, query: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a query against ``events`` and return a DataFrame.

        The rows come through Arrow (DuckDB's own DataFrame conversion costs more than the
        query on text columns) with DuckDB's pandas types: integer and boolean columns with
        nulls become pandas' nullable types, HUGEINT sums and decimals floats, DATE datetime64.
        """
        return arrow_to_pandas(self.query_arrow(query, params))

    def query_arrow(self, query: str, params: list | dict | None = None) -> pa.Table:
        """Run a query against ``events`` and return an Arrow table.

        Through a relation, which DuckDB streams into Arrow: a DB-API result would be
        materialised first and copied, holding a big result twice."""
        try:
            return self.con.sql(query, params=params or None).to_arrow_table()
        except duckdb.ResourceInUseException:   # someone left an execute() result unread
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
                return self.con.execute(query, params or []).to_arrow_table()

    def one(self, query: str, params: list | dict | None = None) -> tuple:
        """The first row of a query's result (for counts and extremes)."""
        rows = self.con.sql(query, params=params or None).fetchall()
        return rows[0] if rows else ()

    def cached(self, key: tuple, compute):
        """``compute()``, computed once per log and `key`: for per-case and per-item tables
        that several analyses of one report share (the log never changes). A copy is
        returned, so callers may add columns."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key].copy()

    def select_cases(self, start=None, end=None, by: str = "end",
                     process_type: str | None = None) -> "EventLog":
        """A log of whole cases selected by when they started or ended.

        by: ``"end"`` (the case ended in [start, end): open cases are never selected when a
        bound is given; without bounds every case is),
        ``"start"`` (it started in the window) or ``"active"`` (it was open at some time in
        the window: started before its end and not ended before its start). Start and end
        are the case's as `officemine.log.relations` defines them. Events are never cut from a
        case, so cycle times and paths stay whole.
        """
        ChoiceError.check("by", by, ("end", "start", "active"))
        bound = (lambda t: None if t is None else "TIMESTAMPTZ '" + (
            pd.Timestamp(t).tz_convert(self.timezone) if pd.Timestamp(t).tzinfo
            else pd.Timestamp(t).tz_localize(self.timezone)).isoformat() + "'")
        lo, hi = bound(start), bound(end)
        # the case's start and end are on every event: a filter, no join
        if by == "active":     # an open case (no end) is active after its start
            conditions = (([f"coalesce({C.case_end} >= {lo}, TRUE)"] if lo else [])
                          + ([f"{C.case_start} < {hi}"] if hi else []))
        else:
            column = C.case_end if by == "end" else C.case_start
            conditions = ([f"{column} >= {lo}"] if lo else []) + (
                [f"{column} < {hi}"] if hi else [])
        if process_type is not None:
            literal = "'" + str(process_type).replace("'", "''") + "'"
            conditions.append(f"{C.case_id} IN (SELECT {C.case_id} FROM events "
                              f"WHERE {C.process_type} = {literal})")
        where = " AND ".join(conditions) or "TRUE"
        if self._table is None:          # stays on disk: the view filters the file's rows
            if process_type is not None:
                where = where.replace("FROM events", "FROM " + self._source_sql())
            return EventLog._on_disk(self.path, self._schema, None, timezone=self.timezone,
                                     report=self.report, mapping=self.mapping,
                                     where=f"({self._where}) AND ({where})" if self._where
                                     else where, calendar=self._calendar,
                                     one_type_per_case=self._one_type_per_case)
        table = self.query_arrow(f"SELECT * FROM events WHERE {where}")
        # whole cases keep their derived columns and their order: nothing to derive again
        return EventLog(table.cast(self._schema), timezone=self.timezone,
                        report=self.report, mapping=self.mapping, calendar=self._calendar,
                        _derived=True)

    def select_versions(self, since: dict) -> "EventLog":
        """The whole cases started on or after their process type's date in `since`
        (process type -> time; None stands for cases without one); cases of a type not in
        `since` are all kept. What `officemine.versions` calls the current version."""
        literal = (lambda v: "'" + str(v).replace("'", "''") + "'")
        stamp = (lambda t: "TIMESTAMPTZ '" + pd.Timestamp(t).tz_convert(self.timezone)
                 .isoformat() + "'")
        named = {k: v for k, v in since.items() if k is not None}
        parts = [f"({C.process_type} = {literal(k)} AND {C.case_start} >= {stamp(v)})"
                 for k, v in named.items()]
        if None in since:
            parts.append(f"({C.process_type} IS NULL AND {C.case_start} >= {stamp(since[None])})")
        else:
            parts.append(f"{C.process_type} IS NULL")
        if named:
            parts.append(f"{C.process_type} NOT IN ({', '.join(literal(k) for k in named)})")
        else:
            parts.append(f"{C.process_type} IS NOT NULL")
        # a case's process type is its first event's (as `officemine.log.relations.cases`
        # reads it); where every event has its case's type, any row tells: no join (3-5x
        # faster a query on a stored log, and every query of the view pays it)
        where = (f"({' OR '.join(parts)})" if self._one_type_per_case else
                 f"{C.case_id} IN (SELECT {C.case_id} FROM events WHERE {C.seq} = 0 AND "
                 f"({' OR '.join(parts)}))")
        if self._table is None:
            where = where.replace("FROM events", "FROM " + self._source_sql())
            return EventLog._on_disk(self.path, self._schema, None, timezone=self.timezone,
                                     report=self.report, mapping=self.mapping,
                                     calendar=self._calendar,
                                     where=f"({self._where}) AND ({where})" if self._where
                                     else where, one_type_per_case=self._one_type_per_case)
        table = self.query_arrow(f"SELECT * FROM events WHERE {where}")
        return EventLog(table.cast(self._schema), timezone=self.timezone, report=self.report,
                        mapping=self.mapping, calendar=self._calendar, _derived=True)

    @property
    def _one_type_per_case(self) -> bool:
        """Whether every event of each case carries the case's process type: then whole
        cases can be chosen by type row by row. Stored with the log (`log_metadata`); a log
        stored without it (older, or written by Spark) says False."""
        if self._one_type is None:
            self._one_type = (one_type_per_case(self._table) if self._table is not None
                              else False)
        return self._one_type

    def _source_sql(self) -> str:
        """The events of an on-disk log as a table expression (for views that filter it)."""
        source = str(self.path).replace("'", "''")
        return (f"(SELECT * FROM read_parquet('{source}') WHERE {self._where or 'TRUE'})")

    @property
    def calendar(self) -> Calendar:
        """The log's working calendar, in the log's zone: set by the mapping's ``[calendar]``
        at import and stored with the log; `Calendar.default` rules for a log that has none.
        Every analysis uses it unless given another calendar."""
        if self._calendar is None:
            self._calendar = Calendar.default(self.timezone)
        return self._calendar

    # --- conversions -----------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return list(self._schema.names)

    @property
    def extra_columns(self) -> list[str]:
        """Columns the source carried beyond the canonical ones (kept from the import)."""
        return [c for c in self._schema.names if c not in STORED_ORDER]

    def to_arrow(self) -> pa.Table:
        """All events as an Arrow table (a log opened from disk is read into memory)."""
        if self._table is None:
            self._table = (_read_parquet(self.path) if self._where is None else
                           self.query_arrow("SELECT * FROM events").cast(self._schema))
        return self._table

    def to_pandas(self) -> pd.DataFrame:
        """All events, ordered by case and position in the case."""
        return self.to_arrow().to_pandas(types_mapper=_pandas_types).sort_values(
            [C.case_id, C.seq], kind="stable").reset_index(drop=True)

    def to_pm4py(self, activity: str = "node") -> pd.DataFrame:
        """A pm4py-formatted DataFrame (case:concept:name, concept:name, time:timestamp, …).

        activity: ``"node"`` (the approval step) or ``"node_outcome"`` (e.g. 财务初审:return),
        which keeps returns visible to pm4py's miners. Pending items (no action yet) are
        left out.
        """
        import pm4py

        ChoiceError.check("activity", activity, ("node", "node_outcome"))
        df = self.to_pandas()
        df = df[~df[C.pending]].copy()          # pending items have no action time yet
        df["activity"] = df[C.node] if activity == "node" else df[C.node] + ":" + df[C.outcome]
        df["org:resource"] = df[C.resource]
        df["org:group"] = df[C.dept]
        df["case_id_str"] = df[C.case_id].astype(str)
        out = pm4py.format_dataframe(df, case_id="case_id_str", activity_key="activity",
                                     timestamp_key=C.acted_at)
        return out

    # --- storage ---------------------------------------------------------------------------
    def write(self, path: str | Path) -> Path:
        """Write the log as Parquet (with metadata) and its set-aside rows as a CSV beside it.

        Both files are written under temporary names and renamed over the old ones together
        once complete (`officemine.base.atomic`): a killed write leaves the previous log whole. A
        log imported without set-aside rows removes a set-aside file left by an earlier
        import to the same path. The source file it was imported from is never overwritten.
        """
        from officemine.base.atomic import atomic_paths, csv_to, remove

        path = Path(path)
        report = self.report
        source = [report.source_file] if report is not None else []
        aside_path = path.with_suffix(".set_aside.csv")
        has_aside = self.set_aside is not None and len(self.set_aside) > 0
        if report is not None and has_aside:
            report = ImportReport.from_dict({**report.to_dict(),
                                             "set_aside_file": str(aside_path)})
        table = self.to_arrow()
        table = table.replace_schema_metadata({
            **(table.schema.metadata or {}),
            **log_metadata(timezone=self.timezone, cases=self.n_cases, calendar=self.calendar,
                           mapping=self.mapping, report=report,
                           one_type_per_case=one_type_per_case(table))})
        targets = [aside_path, path] if has_aside else [path]
        with atomic_paths(*targets, inputs=source) as temps:
            if has_aside:
                csv_to(self.set_aside, temps[0])
            pq.write_table(table, temps[-1], compression="zstd")
        # a clean import: a set-aside file from an earlier import would describe rows that
        # this log does not have (a log read back from Parquet does not know, and keeps it)
        if self.set_aside is not None and not has_aside:
            remove(aside_path, inputs=source)
        self.report = report
        self.path = path
        return path

    # --- description -----------------------------------------------------------------------
    @property
    def n_events(self) -> int:
        if self._rows is None:
            self._rows = int(self.one("SELECT count(*) FROM events")[0])
        return self._rows

    @property
    def n_cases(self) -> int:
        if self._n_cases is None:
            if self._table is not None:       # rows are in case order: count the case runs
                case = self._table[C.case_id]
                changes = pc.sum(pc.not_equal(case[1:], case[:-1])).as_py() if len(case) > 1 \
                    else 0
                self._n_cases = min(len(case), 1) + int(changes or 0)
            else:
                self._n_cases = int(self.one(f"SELECT count(DISTINCT {C.case_id}) FROM events")[0])
        return self._n_cases

    def span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The first and the last time the log knows of (an action or an arrival); the last
        is the log's end, "now" for every analysis (`officemine.log.relations.log_end`). Scanned
        once per log (an analysis asks for it several times; the log never changes)."""
        if ("span",) not in self._cache:
            lo, hi = self.one(f"SELECT min(least({C.acted_at}, {C.arrived_at})), "
                              f"max(greatest({C.acted_at}, {C.arrived_at})) FROM events")
            conv = (lambda t: pd.Timestamp(t).tz_convert(self.timezone) if t is not None
                    else None)
            self._cache[("span",)] = (conv(lo), conv(hi))
        return self._cache[("span",)]

    def latest_complete_month(self) -> str:
        """The last calendar month the log covers completely (else the last month it
        touches), as ``"2025-10"``: the month a review is of when none is named."""
        return month_covered(*self.span())

    def nodes(self) -> pd.DataFrame:
        """Events and cases per node."""
        return self.query(f"SELECT {C.node} AS node, count(*) AS events, "
                          f"count(DISTINCT {C.case_id}) AS cases FROM events "
                          "GROUP BY 1 ORDER BY events DESC")

    def __repr__(self) -> str:
        start, end = self.span()
        fmt = (lambda t: t.strftime("%Y-%m-%d") if t is not None else "–")
        where = f" from {self.path}" if self.path else ""
        return (f"<EventLog{where}: {self.n_cases:,} cases, {self.n_events:,} events, "
                f"{fmt(start)} .. {fmt(end)}, times in {self.timezone}>")

    def describe(self, lang: str = "zh") -> str:
        """Cases, events, span and time zone in one line of `lang` (what the commands print)."""
        from officemine.base.text import say

        start, end = self.span()
        fmt = (lambda t: t.strftime("%Y-%m-%d") if t is not None else "–")
        return say("log.describe", lang, cases=self.n_cases, events=self.n_events,
                   start=fmt(start), end=fmt(end), timezone=self.timezone)

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return f"<p>{head}</p>" + self.nodes().head(20).to_html(index=False)


def log_metadata(*, timezone: str, cases: int, calendar: Calendar, mapping: dict,
                 report: ImportReport | None, one_type_per_case: bool = False
                 ) -> dict[bytes, bytes]:
    """The Parquet key-value metadata of a stored log (`read_log` reads it back)."""
    meta = {"format_version": FORMAT_VERSION, "timezone": timezone, "cases": cases,
            "calendar": calendar.to_dict(), "mapping": mapping,
            "import_report": report.to_dict() if report else None,
            "one_type_per_case": bool(one_type_per_case)}
    return {_META_KEY: json.dumps(meta, ensure_ascii=False, default=str).encode("utf-8")}


def _pandas_types(arrow_type: pa.DataType):
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None


_NULLABLE = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
             pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(),
             pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(),
             pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """A query result as DuckDB's ``.df()`` would give it, at Arrow's speed."""
    columns = {}
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if pa.types.is_decimal(t):
            col = col.cast(pa.float64())
        elif pa.types.is_date(t):
            col = col.cast(pa.timestamp("us"))
        if col.null_count and t in _NULLABLE:
            columns[name] = col.to_pandas(types_mapper={t: _NULLABLE[t]}.get)
        else:
            columns[name] = col.to_pandas(types_mapper=(
                lambda u: _TEXT if pa.types.is_string(u) or pa.types.is_large_string(u)
                else None))
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
    return frame


def with_visits(table: pa.Table) -> pa.Table:
    """The table in (case_id, seq) order with its visit columns derived afresh.

    ``seq`` is made the 0-based position in the case. Over each case's blocking events (all
    but cc, comment and remind) in order, a visit starts whenever the node changes or after
    a return or a rejection; ``visit`` numbers them from 1 (null for non-blocking events),
    ``visit_start``/``visit_source`` are the ``wait_start``/``arrival_source`` of the
    visit's first event, ``round`` is 1 + the returns before the event of its case and
    object (of the whole case for an event without an object), and
    ``case_start``/``case_end`` are the case's start and end (see `officemine.log.relations`).
    Array operations over the ordered rows: no per-case loop, no window pass.
    """
    table = table.drop_columns([c for c in VISIT_COLUMNS if c in table.column_names])
    n = table.num_rows
    index = np.int32 if n < 1 << 31 else np.int64     # row positions: half the memory
    # Each intermediate array is dropped as soon as it is used: on 10M events every array of
    # row positions is 40-80 MB, and the table itself is already in memory.
    case = table[C.case_id]
    if n > 1:
        seq = table[C.seq].to_numpy(zero_copy_only=False)
        later = _flag(pc.greater(case[1:], case[:-1]))
        same = _flag(pc.equal(case[1:], case[:-1]))
        if not (later | (same & (seq[1:] > seq[:-1]))).all():
            table = table.sort_by([(C.case_id, "ascending"), (C.seq, "ascending")])
            case = table[C.case_id]
            same = _flag(pc.equal(case[1:], case[:-1]))
        del seq, later
    else:
        same = np.zeros(0, dtype=bool)
    pos = np.arange(n, dtype=index)
    new_case = np.ones(n, dtype=bool)
    new_case[1:] = ~same
    del same
    case_no = np.cumsum(new_case, dtype=index)
    case_first = np.maximum.accumulate(np.where(new_case, pos, 0))
    outcome = table[C.outcome]
    blocking = ~_flag(pc.is_in(outcome, value_set=pa.array(sorted(NON_BLOCKING))))
    # round: 1 + the returns before the event (a return ends its round), per object
    returned = _flag(pc.equal(outcome, "return"))
    returns = np.cumsum(returned, dtype=np.int32)
    rounds = (1 + returns - returned
              - np.where(case_first > 0, returns[case_first - 1], 0).astype(np.int32))
    del returns
    if table[C.object].null_count < n:                 # the case holds objects
        rounds = _object_rounds(case_no, table[C.object], returned, rounds)
    rounds = pa.array(rounds)
    del returned
    in_case = (pos - case_first).astype(np.int32)     # seq is the 0-based position: make it so
    del case_first
    if not np.array_equal(in_case, table[C.seq].to_numpy(zero_copy_only=False)):
        table = table.set_column(table.schema.get_field_index(C.seq), C.seq, pa.array(in_case))
    del in_case

    b = np.flatnonzero(blocking).astype(index)         # the blocking events, in order
    m = len(b)
    case_b = case_no[b]
    new_visit = np.ones(m, dtype=bool)
    if m > 1:
        node = table[C.node].take(pa.array(b))
        prev, cur = node[:-1], node[1:]
        differs = pc.fill_null(pc.not_equal(cur, prev), True).to_numpy(zero_copy_only=False)
        both_null = (pc.is_null(cur).to_numpy(zero_copy_only=False)
                     & pc.is_null(prev).to_numpy(zero_copy_only=False))
        del node, prev, cur
        # a return or a rejection sends the item away: the next event starts a new visit
        left = _flag(pc.is_in(outcome.take(pa.array(b[:-1])),
                              value_set=pa.array(sorted(REJECTIONS))))
        new_visit[1:] = (case_b[1:] != case_b[:-1]) | (differs & ~both_null) | left
        del differs, both_null, left
    visits = np.cumsum(new_visit, dtype=index)
    first_of_case = np.ones(m, dtype=bool)
    first_of_case[1:] = case_b[1:] != case_b[:-1]
    del case_b
    step = np.arange(m, dtype=index)
    at = np.maximum.accumulate(np.where(first_of_case, step, 0))
    del first_of_case
    visit = np.zeros(n, dtype=np.int32)
    visit[b] = visits - np.where(at > 0, visits[at - 1], 0)
    del visits, at
    visit = pa.array(visit, mask=~blocking)
    full = np.zeros(n, dtype=index)
    full[b] = b[np.maximum.accumulate(np.where(new_visit, step, 0))]
    del new_visit, step, b
    first = pa.array(full, mask=~blocking)              # null index -> null value
    del full

    # hand-offs: between consecutive acted blocking events of a case, the department changed
    a = np.flatnonzero(blocking & ~_flag(table[C.pending])).astype(index)
    blocking_rows = blocking
    del blocking
    handoff = np.zeros(n, dtype=bool)
    if len(a) > 1:
        dept = table[C.dept].take(pa.array(a))
        changed = _flag(pc.not_equal(dept[1:], dept[:-1]))      # null on either side: no
        del dept
        case_a = case_no[a]
        handoff[a[1:]] = changed & (case_a[1:] == case_a[:-1])
        del changed, case_a
    del a, case_no, pos
    handoff = pa.array(handoff)
    # the case's start and end (see `officemine.log.relations`), on every event: selecting the
    # cases of a month is a filter
    case_start, case_end = _case_bounds(table, new_case, blocking_rows)
    del new_case, blocking_rows

    derived = {
        C.visit: visit,
        C.round: rounds,
        C.visit_start: table[C.wait_start].take(first),
        C.visit_source: table[C.arrival_source].take(first),
        C.handoff: handoff,
        C.case_start: case_start,
        C.case_end: case_end,
    }
    del first
    for name, values in derived.items():
        table = table.append_column(name, values)
    order = list(STORED_ORDER) + [c for c in table.column_names if c not in STORED_ORDER]
    return table.select(order)


def _case_bounds(table: pa.Table, new_case: np.ndarray,
                 blocking: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Each event's case start and end (null while the case is open).

    Start: the first submission's action time; for a case without one, its first arrival or
    blocking action (any event's, if it has no blocking one). End: the action time of the
    case's last blocking event when that is archive, reject or withdraw and not pending.
    Rows are in case and position order, so both are reductions over each case's run.
    """
    n = table.num_rows
    acted_at = table[C.acted_at]
    if not n:
        empty = pa.array([], type=acted_at.type)
        return empty, empty

    def ticks(column: str) -> np.ndarray:             # null -> nan
        values = pc.cast(table[column], pa.int64()).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=float)

    acted, arrived = ticks(C.acted_at), ticks(C.arrived_at)
    starts = np.flatnonzero(new_case)
    runs = np.diff(np.r_[starts, n])
    outcome = table[C.outcome]
    submit = _flag(pc.is_in(outcome, value_set=pa.array(["submit", "resubmit"])))
    earliest = np.fmin(acted, arrived)
    first_submit = np.fmin.reduceat(np.where(submit, acted, np.nan), starts)
    first_blocking = np.fmin.reduceat(np.where(blocking, earliest, np.nan), starts)
    first_any = np.fmin.reduceat(earliest, starts)
    start = np.where(np.isnan(first_submit),
                     np.where(np.isnan(first_blocking), first_any, first_blocking),
                     first_submit)
    last = np.maximum.reduceat(np.where(blocking, np.arange(n), -1), starts)
    at = np.maximum(last, 0)
    terminal = _flag(pc.is_in(outcome, value_set=pa.array(sorted(TERMINAL))))
    closed = (last >= 0) & terminal[at] & ~_flag(table[C.pending])[at] & ~np.isnan(acted[at])
    end = np.where(closed, acted[at], np.nan)
    return (_timestamps(np.repeat(start, runs), acted_at.type),
            _timestamps(np.repeat(end, runs), acted_at.type))


def _with_instance_columns(table: pa.Table) -> pa.Table:
    """A table from before format 4 with ``instance_id`` (= case_id: nothing was linked) and
    ``object`` (null) added; other tables as they are."""
    if C.instance_id not in table.column_names:
        table = table.append_column(C.instance_id, table[C.case_id])
    if C.object not in table.column_names:
        table = table.append_column(C.object, pa.nulls(table.num_rows, pa.large_string()))
    return table


def _object_rounds(case_no: np.ndarray, objects: pa.ChunkedArray, returned: np.ndarray,
                   rounds: np.ndarray) -> np.ndarray:
    """Rounds per (case, object): an event of an object is in round 1 + the returns of that
    object in its case before it; an event without an object keeps the case's round."""
    codes = pc.dictionary_encode(objects.combine_chunks()).indices
    code = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    has = np.flatnonzero(code >= 0)
    key = case_no[has].astype(np.int64) * (int(code.max()) + 1) + code[has]
    order = np.argsort(key, kind="stable")                  # seq order within each group
    at, key = has[order], key[order]
    back = returned[at]
    count = np.cumsum(back, dtype=np.int32)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    before = (count - back)[first]
    rounds = rounds.copy()
    rounds[at] = 1 + count - back - np.repeat(before, np.diff(np.r_[first, len(at)]))
    return rounds


def _timestamps(ticks: np.ndarray, type_: pa.DataType) -> pa.Array:
    """Float ticks (nan = null) back to Arrow timestamps of `type_`."""
    missing = np.isnan(ticks)
    return pa.array(np.where(missing, 0, ticks).astype(np.int64), mask=missing).cast(type_)


def _flag(values) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def whole_runs(reader: Iterator[pa.RecordBatch], rows: int, key: str) -> Iterator[pa.Table]:
    """The reader's rows in tables of whole runs of equal `key` values (rows come ordered by
    it): batches of whole cases (or instances) for work on logs larger than memory. Each
    table holds the complete runs among the first `rows` rows read (or more, up to one of
    the reader's batches more); one run longer than that is kept whole."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        if not batch.num_rows:
            continue
        pending.append(batch)
        count += batch.num_rows
        if count < rows:
            continue
        table = pa.Table.from_batches(pending)
        cut = _last_run_start(table[key])
        if cut == 0:                          # one key all along: keep reading
            continue
        yield table.slice(0, cut)
        rest = table.slice(cut)
        pending, count = rest.to_batches(), rest.num_rows
        del table, rest
    if count:
        yield pa.Table.from_batches(pending)


def one_type_per_case(table: pa.Table) -> bool:
    """Whether every event of each case has the process type of the case's first row (rows
    in case order; a missing type is a value of its own): stored with the log, so that a
    view of whole cases by type needs no join (`EventLog.select_versions`)."""
    n = table.num_rows
    if n < 2:
        return True
    case = table[C.case_id]
    start = np.ones(n, dtype=bool)
    start[1:] = pc.fill_null(pc.not_equal(case[1:], case[:-1]), True).to_numpy(
        zero_copy_only=False)
    codes = pd.factorize(table[C.process_type].to_pandas(), use_na_sentinel=False)[0]
    first = np.repeat(codes[start], np.diff(np.r_[np.flatnonzero(start), n]))
    return bool((codes == first).all())


def _last_run_start(key: pa.ChunkedArray) -> int:
    """Where the last run of equal values (nulls equal) of a sorted column starts."""
    last = key[-1]
    same = (pc.is_null(key) if not last.is_valid
            else pc.fill_null(pc.equal(key, last), False))
    same = same.to_numpy(zero_copy_only=False) if isinstance(same, pa.Array) else \
        np.concatenate([c.to_numpy(zero_copy_only=False) for c in same.chunks])
    differ = np.flatnonzero(~same)
    return int(differ[-1]) + 1 if len(differ) else 0


def read_log(path: str | Path) -> EventLog:
    """Open an officemine Parquet log written by `officemine import` or `EventLog.write`."""
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"no such log: {path}")
    try:
        with pq.ParquetFile(path) as info:
            schema, rows = info.schema_arrow, info.metadata.num_rows
            written_last = info.metadata.metadata or {}
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogFormatError(f"{path} is not a Parquet file: {exc}") from None
    if _META_KEY not in (schema.metadata or {}) and _META_KEY in written_last:
        # a log written in batches (the streaming import) learns its metadata at the end:
        # it is the file's key-value metadata, beside the Arrow schema stored at the start
        schema = schema.with_metadata({**(schema.metadata or {}),
                                       _META_KEY: written_last[_META_KEY]})
    meta = _metadata(path, schema)
    report, mapping = meta["import_report"], meta["mapping"]
    if meta["format_version"] < FORMAT_VERSION or not set(VISIT_COLUMNS) <= set(schema.names):
        # an older file: its derived columns meant something else (format 3 has no
        # instance_id and object), derive them now
        return EventLog(_read_parquet(path), timezone=meta["timezone"], report=report,
                        mapping=mapping, path=path, calendar=meta["calendar"])
    return EventLog._on_disk(path, schema, rows, timezone=meta["timezone"],
                             report=report, mapping=mapping, cases=meta["cases"],
                             calendar=meta["calendar"],
                             one_type_per_case=meta["one_type_per_case"])


def _metadata(path: Path, schema: pa.Schema) -> dict:
    """The officemine metadata of a stored log, every field checked.

    A stored log is untrusted input (it may come from anyone): its metadata is parsed as
    JSON, each field is checked for type and range, and nothing from it reaches SQL
    unchecked. Every problem is listed in one `LogFormatError`.
    """
    raw = (schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise LogFormatError(f"{path} is Parquet but not an officemine log (no metadata); "
                             "import the source with `officemine import` first")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        raise LogFormatError(f"{path}: its officemine metadata is not valid JSON; "
                             "re-import the source") from None
    if not isinstance(meta, dict):
        raise LogFormatError(f"{path}: its officemine metadata is not a JSON object")
    problems = []
    version = meta.get("format_version")
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        if type(version) is int and version > FORMAT_VERSION:
            raise LogFormatError(f"{path} was written by a newer officemine (format {version}); "
                                 "upgrade officemine to read it")
        problems.append(f"format_version must be a whole number from 1 to {FORMAT_VERSION}, "
                        f"not {_shown(version)}")
    if not is_known_timezone(meta.get("timezone")):
        problems.append(f"timezone must be a known time zone name, not "
                        f"{_shown(meta.get('timezone'))}")
    cases = meta.get("cases")
    if cases is not None and (type(cases) is not int or cases < 0):
        problems.append(f"cases must be a count, not {_shown(cases)}")
    one_type = meta.get("one_type_per_case", False)
    if type(one_type) is not bool:
        problems.append(f"one_type_per_case must be true or false, not {_shown(one_type)}")
    mapping = meta.get("mapping")
    if mapping is not None and not isinstance(mapping, dict):
        problems.append(f"mapping must be an object, not {_shown(mapping)}")
    calendar = None
    if meta.get("calendar") is not None and is_known_timezone(meta.get("timezone")):
        try:        # a log written before calendars were stored gets the default, in its zone
            calendar = Calendar.from_dict(meta["calendar"], tz=meta["timezone"])
        except CalendarError as exc:
            problems.append(str(exc))
    report = None
    if meta.get("import_report") is not None:
        try:
            report = ImportReport.from_dict(meta["import_report"])
        except (TypeError, ValueError, AttributeError) as exc:
            problems.append(f"import_report is not an import report ({exc})")
    if problems:
        raise LogFormatError(f"{path} is not a valid officemine log: its metadata has "
                             f"{len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return {"format_version": version, "timezone": meta["timezone"], "cases": cases,
            "one_type_per_case": one_type, "mapping": mapping or {},
            "import_report": report, "calendar": calendar}


def _check_calendar(calendar: Calendar | None, timezone: str) -> None:
    """A log's calendar works in the log's zone (its office hours are read on that clock)."""
    if calendar is not None and not isinstance(calendar, Calendar):
        raise LogFormatError(f"calendar must be a Calendar, not {type(calendar).__name__}")
    if calendar is not None and calendar.tz != timezone:
        raise LogFormatError(f"the calendar is in {calendar.tz} but the log's times are in "
                             f"{timezone}: a log's calendar works in the log's zone")


def _shown(value: object) -> str:
    """A metadata value for an error message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogFormatError(f"{path} cannot be read: {exc}") from None
