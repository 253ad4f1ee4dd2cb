"""`EventLog`: the canonical, validated approval log every analysis takes.

Stored as Parquet (the mapping and the import report ride along as metadata) and queried
with DuckDB, so statistics run as set-based SQL rather than Python loops. `to_pandas()` and
`to_pm4py()` hand the rows to other tools.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from officemine.errors import LogFormatError
from officemine.importing.report import ImportReport
from officemine.schema import C, CANONICAL_ORDER

FORMAT_VERSION = 1
_META_KEY = b"officemine"


class EventLog:
    """An approval event log in canonical form (see `officemine.schema`).

    Build one with `officemine.import_log` (from a source) or `officemine.read_log` (from a
    stored Parquet log). `sql()` runs DuckDB queries against the view ``events``.
    """

    def __init__(self, table: pa.Table, *, timezone: str, report: ImportReport | None = None,
                 mapping: dict | None = None, set_aside: pd.DataFrame | None = None,
                 path: Path | None = None) -> None:
        missing = [c for c in CANONICAL_ORDER if c not in table.column_names]
        if missing:
            raise LogFormatError(f"not a canonical event log: columns missing: {missing}")
        self._table = table
        self.timezone = timezone
        self.report = report
        self.mapping = mapping or {}
        self.set_aside = set_aside
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def from_pandas(cls, events: pd.DataFrame, *, timezone: str, **kwargs) -> "EventLog":
        return cls(pa.Table.from_pandas(events, preserve_index=False), timezone=timezone, **kwargs)

    # --- queries ---------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection (session time zone = the log's) with the view ``events``."""
        if self._con is None:
            con = duckdb.connect()
            con.execute(f"SET TimeZone = '{self.timezone}'")
            con.register("events", self._table)
            self._con = con
        return self._con

    def sql(self, query: str, params: list | None = None) -> duckdb.DuckDBPyRelation:
        return self.con.sql(query, params=params)

    def query(self, query: str, params: list | None = None) -> pd.DataFrame:
        """Run a query against ``events`` and return a DataFrame."""
        return self.con.execute(query, params or []).df()

    def query_arrow(self, query: str, params: list | None = None) -> pa.Table:
        """Run a query against ``events`` and return an Arrow table.

        ``query_arrow(q).to_pandas()`` is the fast way to a DataFrame of many rows: DuckDB's
        own DataFrame conversion costs more than the query on text columns (but maps nullable
        integers and booleans to pandas' nullable types, which Arrow's does not).
        """
        with warnings.catch_warnings():   # the copy it warns about is cheap next to .df()
            warnings.filterwarnings("ignore", "Arrow output on a DB-API result",
                                    UserWarning)
            return self.con.execute(query, params or []).to_arrow_table()

    def select_cases(self, start=None, end=None, by: str = "end",
                     process_type: str | None = None) -> "EventLog":
        """A log of whole cases selected by when they started or ended.

        by: ``"end"`` (the case's last action falls in [start, end)), ``"start"`` (its first
        action does) or ``"active"`` (it has any action in the window). Events are never cut
        from a case, so cycle times and paths stay whole.
        """
        if by not in ("end", "start", "active"):
            raise ValueError(f"by must be 'end', 'start' or 'active', not {by!r}")
        lo = pd.Timestamp(start).tz_convert(self.timezone) if start is not None and \
            pd.Timestamp(start).tzinfo else (pd.Timestamp(start).tz_localize(self.timezone)
                                            if start is not None else None)
        hi = pd.Timestamp(end).tz_convert(self.timezone) if end is not None and \
            pd.Timestamp(end).tzinfo else (pd.Timestamp(end).tz_localize(self.timezone)
                                          if end is not None else None)
        conditions, params = [], []
        field = {"end": "case_end", "start": "case_start"}.get(by)
        if field:
            if lo is not None:
                conditions.append(f"{field} >= ?")
                params.append(lo.to_pydatetime())
            if hi is not None:
                conditions.append(f"{field} < ?")
                params.append(hi.to_pydatetime())
        else:
            if lo is not None:
                conditions.append("case_end >= ?")
                params.append(lo.to_pydatetime())
            if hi is not None:
                conditions.append("case_start < ?")
                params.append(hi.to_pydatetime())
        if process_type is not None:
            conditions.append("cases.case_type = ?")
            params.append(process_type)
        where = " AND ".join(conditions) or "TRUE"
        table = self.con.sql(f"""
            WITH cases AS (
                SELECT {C.case_id}, min({C.acted_at}) AS case_start,
                       max({C.acted_at}) AS case_end, any_value({C.process_type}) AS case_type
                FROM events GROUP BY {C.case_id})
            SELECT e.* FROM events e JOIN cases USING ({C.case_id})
            WHERE {where} ORDER BY e.{C.case_id}, e.{C.seq}""", params=params).to_arrow_table()
        return EventLog(table.cast(self._table.schema), timezone=self.timezone,
                        report=self.report, mapping=self.mapping)

    # --- conversions -----------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        return self._table

    def to_pandas(self) -> pd.DataFrame:
        """All events, ordered by case and position in the case."""
        return self._table.to_pandas(types_mapper=_pandas_types).sort_values(
            [C.case_id, C.seq], kind="stable").reset_index(drop=True)

    def to_pm4py(self, activity: str = "node") -> pd.DataFrame:
        """A pm4py-formatted DataFrame (case:concept:name, concept:name, time:timestamp, …).

        activity: ``"node"`` (the approval step) or ``"node_outcome"`` (e.g. 财务初审:return),
        which keeps returns visible to pm4py's miners. Pending items (no action yet) are
        left out.
        """
        import pm4py

        if activity not in ("node", "node_outcome"):
            raise ValueError(f"activity must be 'node' or 'node_outcome', not {activity!r}")
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
        """Write the log as Parquet (with metadata) and its set-aside rows as a CSV beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        report = self.report
        aside_path = None
        if self.set_aside is not None and len(self.set_aside):
            aside_path = path.with_suffix(".set_aside.csv")
            self.set_aside.to_csv(aside_path, index=False, encoding="utf-8-sig")
        if report is not None and aside_path is not None:
            report = ImportReport.from_dict({**report.to_dict(), "set_aside_file": str(aside_path)})
            self.report = report
        meta = {"format_version": FORMAT_VERSION, "timezone": self.timezone,
                "mapping": self.mapping, "import_report": report.to_dict() if report else None}
        table = self._table.replace_schema_metadata({
            **(self._table.schema.metadata or {}),
            _META_KEY: json.dumps(meta, ensure_ascii=False, default=str).encode("utf-8")})
        pq.write_table(table, path, compression="zstd")
        self.path = path
        return path

    # --- description -----------------------------------------------------------------------
    @property
    def n_events(self) -> int:
        return self._table.num_rows

    @property
    def n_cases(self) -> int:
        return int(self.con.execute(f"SELECT count(DISTINCT {C.case_id}) FROM events").fetchone()[0])

    def span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        lo, hi = self.con.execute(
            f"SELECT min({C.acted_at}), max({C.acted_at}) FROM events").fetchone()
        conv = (lambda t: pd.Timestamp(t).tz_convert(self.timezone) if t is not None else None)
        return conv(lo), conv(hi)

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

    def _repr_html_(self) -> str:
        head = repr(self).replace("<", "&lt;").replace(">", "&gt;")
        return f"<p>{head}</p>" + self.nodes().head(20).to_html(index=False)


def _pandas_types(arrow_type: pa.DataType):
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None


def read_log(path: str | Path) -> EventLog:
    """Open an officemine Parquet log written by `officemine import` or `EventLog.write`."""
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"no such log: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogFormatError(f"{path} is not a Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise LogFormatError(f"{path} is Parquet but not an officemine log (no metadata); "
                             "import the source with `officemine import` first")
    meta = json.loads(raw)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise LogFormatError(f"{path} was written by a newer officemine "
                             f"(format {meta['format_version']})")
    report = ImportReport.from_dict(meta["import_report"]) if meta.get("import_report") else None
    return EventLog(table, timezone=meta["timezone"], report=report,
                    mapping=meta.get("mapping"), path=path)
