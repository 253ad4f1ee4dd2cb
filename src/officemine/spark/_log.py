"""A canonical log in Spark: the DataFrame, and what one machine keeps in the Parquet metadata
(time zone, calendar, mapping, import report)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from officemine.log.calendar import Calendar, is_known_timezone
from officemine.base.errors import DependencyError, InputError, LogFormatError
from officemine.log.import_report import ImportReport
from officemine.log.schema import C, STORED_ORDER

#: The file beside a Parquet dataset (a folder of parts) that holds the log's metadata.
METADATA_FILE = "_officemine.json"
#: The companion of a log written as a Spark/Hive table ``t``: the table ``t__officemine``
#: (one row, column ``metadata``: the JSON of `METADATA_FILE`). A table, not table
#: properties: written and read through the DataFrame API, no statement text at all.
METADATA_TABLE = "{}__officemine"


def metadata_table(table: str) -> str:
    """The name of the table that holds the metadata of the log in `table`."""
    return METADATA_TABLE.format(table_name(table))
#: What a table name may be: letters, digits and underscores, with one optional dot
#: (``db.table``); checked before any name reaches Spark, so no text is pasted into SQL.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")


def table_name(name: str) -> str:
    """`name` if it is a plain table name (``oa_events``, ``dw.oa_events``), else a clear
    error."""
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise InputError(f"{name!r} is not a table name: letters, digits and underscores, "
                         "with one optional dot (db.table)")
    return name


def pyspark():
    """The pyspark module, or a clear error saying how to install it."""
    try:
        import pyspark as module
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise DependencyError("the Spark engine needs pyspark: pip install 'officemine[spark]' "
                              "(and Java 17 or later)") from None
    return module


@dataclass
class SparkLog:
    """A canonical event log as a Spark DataFrame (`df`, the columns of `schema.STORED_ORDER`
    and any extra source columns), with its time zone, calendar, mapping and import report.
    Build one with `read_log` or `read_table`."""

    df: Any
    timezone: str
    calendar: Calendar
    mapping: dict
    report: ImportReport | None = None
    source: str | None = None

    @property
    def spark(self):
        return self.df.sparkSession

    def __repr__(self) -> str:
        return f"<SparkLog {self.source or ''}: times in {self.timezone}>"

    def describe(self, lang: str = "zh") -> str:
        """The log in one line of `lang` (the counts its import report holds: no Spark job)."""
        from officemine.base.text import say

        if self.report is None:
            return say("log.describe_spark_table", lang, timezone=self.timezone)
        return say("log.describe_spark", lang, cases=self.report.cases,
                   events=self.report.rows_accepted, timezone=self.timezone)

    def arrow_schema(self, columns) -> pa.Schema:
        """The one-machine Arrow types of `columns` (what a partition is rebuilt as)."""
        return pa.schema([_FIELD_TYPES[c](self.timezone) if c in _FIELD_TYPES
                          else pa.field(c, pa.large_string()) for c in columns])


def _time(name: str):
    return lambda tz: pa.field(name, pa.timestamp("us", tz=tz))


_FIELD_TYPES = {
    **{c: _time(c) for c in (C.arrived_at, C.acted_at, C.wait_start, C.visit_start,
                             C.case_start, C.case_end)},
    C.seq: lambda tz: pa.field(C.seq, pa.int32()),
    C.visit: lambda tz: pa.field(C.visit, pa.int32()),
    C.round: lambda tz: pa.field(C.round, pa.int32()),
    C.pending: lambda tz: pa.field(C.pending, pa.bool_()),
    C.handoff: lambda tz: pa.field(C.handoff, pa.bool_()),
    C.amount: lambda tz: pa.field(C.amount, pa.float64()),
}


def read_log(spark, path: str | Path | None = None, *, table: str | None = None) -> SparkLog:
    """A log stored by officemine, read by Spark: a Parquet file written by ``officemine
    import`` (its metadata read here), a Parquet dataset folder with `METADATA_FILE`, or
    (`table`) a Spark/Hive table with its metadata in the table `metadata_table(table)`
    (both written by `officemine.spark.import_log`)."""
    pyspark()
    if (path is None) == (table is None):
        raise InputError("read_log: give either the path of a log or a table")
    if table is not None:
        table_name(table)
        df = spark.table(table)
        meta = metadata_table(table)
        if not spark.catalog.tableExists(meta):
            raise LogFormatError(f"table {table} has no metadata table {meta}: not a log "
                                 "written by officemine (read_table reads a canonical table "
                                 "with the time zone given)")
        values = [row["metadata"] for row in spark.table(meta).collect()]
        timezone, calendar, mapping, report = _metadata(json.loads(values[0]), f"table {table}")
        _check_columns(df, table)
        return SparkLog(df=df, timezone=timezone, calendar=calendar, mapping=mapping,
                        report=report, source=table)
    path = Path(path)
    if path.is_dir():
        meta_file = path / METADATA_FILE
        if not meta_file.exists():
            raise LogFormatError(f"{path} is a folder without {METADATA_FILE}: not a log "
                                 "written by officemine")
        timezone, calendar, mapping, report = _metadata(
            json.loads(meta_file.read_text(encoding="utf-8")), str(meta_file))
    else:
        from officemine.log.eventlog import read_log as read_one

        log = read_one(path)
        timezone, mapping, report, calendar = log.timezone, log.mapping, log.report, log.calendar
    df = spark.read.parquet(str(path))
    _check_columns(df, str(path))
    return SparkLog(df=df, timezone=timezone, calendar=calendar, mapping=mapping,
                    report=report, source=str(path))


def _metadata(meta: dict, where: str) -> tuple:
    """(time zone, calendar, mapping, import report) of a log's stored metadata."""
    timezone, mapping = meta.get("timezone"), meta.get("mapping") or {}
    if not is_known_timezone(timezone):
        raise LogFormatError(f"{where}: unknown time zone {timezone!r}")
    calendar = (Calendar.from_dict(meta["calendar"], tz=timezone) if meta.get("calendar")
                else Calendar.default(timezone))
    report = ImportReport.from_dict(meta["import_report"]) if meta.get("import_report") \
        else None
    return timezone, calendar, mapping, report


def read_table(spark, table: str, *, timezone: str, calendar: Calendar | None = None,
               mapping: dict | None = None) -> SparkLog:
    """A canonical log kept as a Spark or Hive table (``dw.oa_events``): its time zone (and
    calendar) are given, as a table has no officemine metadata."""
    pyspark()
    if not is_known_timezone(timezone):
        raise InputError(f"unknown time zone {timezone!r}")
    df = spark.table(table_name(table))
    _check_columns(df, table)
    return SparkLog(df=df, timezone=timezone, calendar=calendar or Calendar.default(timezone),
                    mapping=mapping or {}, source=table)


def _check_columns(df, where: str) -> None:
    missing = [c for c in STORED_ORDER if c not in df.columns]
    if missing:
        raise LogFormatError(f"{where} is not a canonical officemine log: columns missing: "
                             f"{', '.join(missing)} (import the export with officemine first)")
