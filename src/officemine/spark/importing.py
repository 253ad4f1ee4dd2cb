"""The import on Spark: an export into the canonical log as a Parquet dataset, with the code
of one machine.

The export is read as the streaming import reads it (`officemine.importing.streaming`: block
by block on the driver, each row's cleaned instance id beside it, malformed records and
blank lines counted) into spill files Spark reads. Then two passes, each over partitions of
whole units (a hash of the unit's id), each partition normalised by `normalize.build_log`:

1. **instances** (where attempts are linked): each partition gives the attempts of its
   instances (`streaming.instance_attempts`); the driver links the whole log's attempts at
   once (`streaming.link_attempts`), since a resubmission may sit in another partition than
   the refusal it follows;
2. **cases**: each row is told its case (the root instance after linking); each partition of
   whole cases goes through `build_log` (told each instance's case) and
   `eventlog.with_visits` (the per-case columns) and gives its events, its import report, its
   set-aside rows and its actions outside office hours.

The driver adds the reports up as the streaming import adds up its batches', writes the
set-aside rows beside the log in source order and the log's metadata (time zone, calendar,
mapping, import report) into the dataset folder (`_log.METADATA_FILE`), where
`officemine.spark.read_log` finds them. Each distinct value is normalised once per
partition (`build_log` works on the distinct values of its columns). Partitions cross
between the JVM and Python as Arrow tables (`applyInArrow`), never as Python rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from officemine.base.errors import InputError, NoDataError, NotSupportedError
from officemine.importing.mapping import Mapping
from officemine.spark._log import (_TABLE_NAME, METADATA_FILE, SparkLog, metadata_table,
                                   pyspark, read_log, table_name)
from officemine.spark._parts import _arrow_schema
from officemine.base.text import Said

_PART = "__officemine_part"
_META = "__officemine_meta"
#: How many rows of the export tell the log's columns and their types before the passes.
_PROBE_ROWS = 2_000


def import_log(spark, source, mapping: Mapping | str | Path | None = None, *,
               output: str | Path | None = None, output_table: str | None = None,
               set_aside: str | Path | None = None, timezone: str | None = None,
               link: bool = True, partitions: int | None = None,
               work_dir: str | Path | None = None) -> SparkLog:
    """Import an export into the canonical log, computing on Spark; returns the log as
    `read_log` reads it. The events, the import report and the set-aside rows are those
    `officemine.import_log` gives.

    source: a CSV export's path; or the raw export already in Spark — a DataFrame, or the
    name of a table (``dw.oa_raw``) — holding the export's columns, read as a CSV of it
    would be: every value as text, an empty text a missing value, its n-th row (in the
    order Spark reads it) its row n + 1 (the header is row 1). The same mapping applies.

    output: a Parquet dataset folder (the metadata inside it, `METADATA_FILE`); or
    output_table: a Spark/Hive table (``dw.oa_events``, replaced if it exists; the metadata
    in the table ``dw.oa_events__officemine``; ``read_log(spark, table=...)`` reads it
    back).
    set_aside: the set-aside rows' CSV (default beside `output`, ``oa.parquet`` ->
    ``oa.set_aside.csv``; for a table ``<table>.set_aside.csv`` in `work_dir`, or the
    current folder).

    partitions: how many partitions of whole instances and cases (default
    ``spark.sql.shuffle.partitions``); work_dir: where the export is spilled for Spark to
    read (default: a temporary folder beside `output`, or in the current folder, removed at
    the end) — on a cluster, a folder every executor reads.
    """
    from officemine.importing import _check_source, _office_hours_said
    from officemine.importing import streaming as st
    from officemine.importing.normalize import DEFAULT_TIMEZONE

    pyspark()
    if (output is None) == (output_table is None):
        raise InputError("import_log on Spark: give either output (a Parquet dataset "
                         "folder) or output_table (a table name)")
    if output_table is not None:
        table_name(output_table)
    frame, name = _source_frame(spark, source)
    if frame is None:
        path, mapping, timezone = _check_source(source, mapping, timezone)
        if path.is_dir() or path.suffix.lower() not in (".csv", ".txt", ".tsv"):
            raise NotSupportedError(f"{path}: the Spark import reads CSV exports (import "
                                    "other sources with officemine import, or streamed)")
    else:
        _, mapping, timezone = _check_source(None, mapping, timezone)
        path = Path(name)
    tz = timezone or mapping.timezone or DEFAULT_TIMEZONE
    folder = Path(work_dir) if work_dir is not None else None
    if set_aside is not None:
        aside_path = Path(set_aside)
    elif output is not None:
        aside_path = Path(output).with_suffix(".set_aside.csv")     # as one machine names it
    else:
        aside_path = (folder or Path.cwd()) / f"{output_table}.set_aside.csv"
    parent = folder or (Path(output).resolve().parent if output is not None else Path.cwd())
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".officemine-spark-import-", dir=parent))
    try:
        (work / "raw").mkdir()
        read = (st._spill_csv(path, mapping, work / "raw") if frame is None
                else _spill_frame(frame, name, mapping, work))
        if not read.files:      # no row: the in-memory import says what is missing
            if frame is None:
                from officemine.importing import import_log as import_one

                import_one(path, format="csv", mapping=mapping, timezone=timezone, link=link)
            raise NoDataError(f"{path}: the export holds no event to import")
        names = [n for n in pq.read_schema(read.files[0]).names if n != st._KEY]
        job = _Job(spark, path, mapping, tz, link, names,
                   partitions or int(spark.conf.get("spark.sql.shuffle.partitions")))
        raw = spark.read.parquet(str(work / "raw"))
        ambiguous, rows = job.cases_of(raw)
        result = job.events(rows, job.schema(read.files[0]))
        try:
            metas = [json.loads(r[_META]) for r in
                     result.filter(result[_META].isNotNull()).select(_META).collect()]
            metas.sort(key=lambda m: (m["first"] is None, m["first"] or ""))
            reports = [_report(m["report"]) for m in metas]
            report = st._merged(reports, read, ambiguous)
            calendar = mapping.calendar_in(tz)
            report, calendar = _office_hours_said(sum(m["outside"] for m in metas),
                                                  sum(m["acted"] for m in metas), report,
                                                  calendar)
            if report.rows_set_aside:
                report = dataclasses.replace(report, set_aside_file=str(aside_path))
            metadata = json.dumps(
                {"timezone": tz, "cases": report.cases, "calendar": calendar.to_dict(),
                 "mapping": mapping.to_dict(), "import_report": report.to_dict()},
                ensure_ascii=False, default=str)
            events = result.filter(result[_META].isNull()).drop(_META)
            staged = work / "log"
            if output_table is not None:
                job.write_table(events, output_table, metadata)
            else:
                job.write(events, staged)
        finally:
            result.unpersist()
        if output_table is None:
            (staged / METADATA_FILE).write_text(metadata, encoding="utf-8")
        if report.rows_set_aside:
            frames = [_frame(m["aside"]) for m in metas if m["aside"]]
            aside = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
            if len(aside):
                order = np.argsort(pd.to_numeric(aside["source_row"]).to_numpy(np.int64),
                                   kind="stable")
                aside = aside.iloc[order]
            columns = metas[0]["aside_columns"]
            st.write_aside(work / "aside.csv", read.malformed, columns, [aside])
            aside_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(work / "aside.csv"), aside_path)
        elif aside_path.exists():
            aside_path.unlink()
        if output_table is None:
            output = Path(output)
            if output.exists():
                shutil.rmtree(output) if output.is_dir() else output.unlink()
            shutil.move(str(staged), output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return read_log(spark, output) if output_table is None else \
        read_log(spark, table=output_table)


def _source_frame(spark, source) -> tuple:
    """(the raw export's DataFrame, its name) when `source` is a Spark DataFrame or the name
    of a table in Spark's catalog (and no file of that name exists); (None, None) for a
    file."""
    from pyspark.sql import DataFrame

    if isinstance(source, DataFrame):
        return source, "DataFrame"
    if (isinstance(source, str) and not Path(source).exists()
            and _TABLE_NAME.fullmatch(source) and spark.catalog.tableExists(source)):
        return spark.table(source), source
    return None, None


def _spill_frame(frame, name: str, mapping: Mapping, work: Path):
    """The raw export in Spark read into the spill files the CSV import writes
    (`streaming._spill_blocks`): Spark writes it as text (an empty text missing), the driver
    reads it back part by part in order, numbers its rows as a CSV's (the header is row 1),
    counts rows of empty cells, maps the columns (`tabular.to_raw`) and spills each block
    with its cleaned instance id."""
    import re

    from officemine.base.errors import SourceError
    from officemine.importing import streaming as st
    from officemine.importing import tabular
    from officemine.importing.raw import (INVISIBLE, MAX_COLUMNS, SOURCE_ROW, coded_text,
                                          dictionary_codes, empty_set_aside)

    F = pyspark().sql.functions
    if len(frame.columns) > MAX_COLUMNS:
        raise SourceError(f"the table has {len(frame.columns):,} columns; at most "
                          f"{MAX_COLUMNS:,} are read", file=name)
    names, renamed = tabular._dedupe([re.sub(INVISIBLE, "", str(c)).strip()
                                      for c in frame.columns])
    # columns by position: a header may hold any character, never parsed as an expression
    slots = [f"c{i}" for i in range(len(names))]
    text = frame.toDF(*slots).select(*[
        F.when(F.col(c).cast("string") != "", F.col(c).cast("string")).alias(c)
        for c in slots])
    text.write.mode("overwrite").parquet(str(work / "source"))
    read, block, next_row, origin = st._Read(), 0, 2, Path(name)

    def raw_of(frame: pd.DataFrame):
        notes: list[str] = []
        raw = tabular.to_raw(frame, empty_set_aside(), origin, "dataframe", mapping, notes,
                             renamed)
        if block == 0:
            read.notes, read.columns_used = notes, dict(raw.columns_used)
        return raw

    for part in sorted((work / "source").glob("part-*.parquet")):     # in partition order
        for batch in pq.ParquetFile(part).iter_batches(batch_size=200_000):
            n = batch.num_rows
            columns = {}
            for slot, column in zip(slots, names):
                codes, values = dictionary_codes(pc.dictionary_encode(batch.column(slot)))
                columns[column] = (codes, values.cast(pa.large_string()))
            numbers = np.arange(next_row, next_row + n, dtype=np.int64)
            next_row += n
            empty = np.logical_and.reduce([codes < 0 for codes, _ in columns.values()])
            keep = ~empty
            read.empty_rows += int(empty.sum())
            read.rows_read += int(keep.sum())
            rows = pd.DataFrame({column: coded_text(codes[keep], values)
                                 for column, (codes, values) in columns.items()},
                                index=pd.RangeIndex(int(keep.sum())))
            rows[SOURCE_ROW] = numbers[keep]
            raw = raw_of(rows)
            if len(raw.frame):
                table = pa.Table.from_pandas(raw.frame, preserve_index=False)
                table = table.append_column(st._KEY, st._instance_key(raw.frame, mapping))
                file = work / "raw" / f"raw-{block:06d}.parquet"
                pq.write_table(table, file, compression="lz4")
                read.files.append(file)
            block += 1
    if block == 0:          # no row at all: to_raw names what is missing
        nothing = (np.zeros(0, np.int8), pa.array([], pa.large_string()))
        rows = pd.DataFrame({column: coded_text(*nothing) for column in names})
        rows[SOURCE_ROW] = np.zeros(0, np.int64)
        raw_of(rows)
    head = [Said("import.spark_frame", rows=next_row - 2, columns=len(names))
            if name == "DataFrame" else
            Said("import.spark_table", table=name, rows=next_row - 2, columns=len(names))]
    if read.empty_rows:
        head.append(Said("import.empty_lines", n=read.empty_rows))
    read.notes = head + read.notes
    return read


@dataclasses.dataclass
class _Rows:
    """What a partition needs to normalise its rows (sent to the executors)."""

    path: Path
    mapping: Mapping
    tz: str
    link: bool
    names: list[str]

    def normalised(self, table: pa.Table):
        """`build_log` and `with_visits` of rows of whole cases (`table`, with their cases):
        (the log's table, the import report, the set-aside rows, actions outside office
        hours, actions)."""
        from officemine.log.eventlog import with_visits
        from officemine.importing import _outside_office_hours
        from officemine.importing import streaming as st
        from officemine.importing.normalize import build_log
        from officemine.log.schema import C

        raw = st.raw_events(table, self.names, self.path)
        pairs = table.select([st._KEY, st._CASE, st._RULE])
        events, report, aside = build_log(raw, self.mapping, self.tz, link=self.link,
                                          linker=st._given_links(pairs))
        outside, acted = _outside_office_hours(events[C.acted_at],
                                               self.mapping.calendar_in(self.tz))
        log = with_visits(pa.Table.from_pandas(events, preserve_index=False))
        return log, report, aside, outside, acted



class _Job:
    """One Spark import: its session, partitions and rows."""

    def __init__(self, spark, path: Path, mapping: Mapping, tz: str, link: bool,
                 names: list[str], partitions: int) -> None:
        self.spark, self.path, self.mapping, self.tz, self.link = spark, path, mapping, tz, link
        self.names, self.partitions = names, partitions
        self.rows = _Rows(path, mapping, tz, link, names)

    def _parts(self, frame, key: str):
        F = pyspark().sql.functions
        return frame.withColumn(_PART, F.pmod(F.xxhash64(F.col(key)), F.lit(self.partitions)))

    def cases_of(self, raw):
        """The rows with each one's case (`_CASE`) and linking rule, and the ambiguous links
        of the whole log."""
        from officemine.importing import streaming as st

        F = pyspark().sql.functions
        applies = self.link and self.mapping.linking.enabled is not False
        roots, ambiguous = None, 0
        if applies:
            path, mapping, tz, names = self.path, self.mapping, self.tz, self.names

            def attempts(part: pa.Table) -> pa.Table:
                table = _sorted(part.drop_columns([_PART]), st._KEY)
                found = st.instance_attempts(st.raw_events(table, names, path), mapping, tz)
                return pa.table({"blob": pa.array([] if found is None else [_ipc(found)],
                                                  pa.binary())})

            blobs = [row["blob"] for row in self._parts(raw, st._KEY).groupBy(_PART)
                     .applyInArrow(attempts, "blob binary").collect()]
            if blobs:
                # in instance order, as one machine links them (ties go to the first)
                found = pa.concat_tables([_table(b) for b in blobs],
                                         promote_options="default").sort_by("instance")
                roots, ambiguous = st.link_attempts(found, mapping, tz)
        if roots is None:
            return ambiguous, raw.withColumn(st._CASE, F.col(st._KEY)).withColumn(
                st._RULE, F.lit(0).cast("byte"))
        linked = self.spark.createDataFrame(roots.to_pandas()).withColumnRenamed(
            "instance", "__officemine_instance")
        rows = raw.join(linked, raw[st._KEY] == linked["__officemine_instance"], "left")
        return ambiguous, rows.select(
            *[raw[c] for c in raw.columns],
            F.coalesce(F.col("root"), raw[st._KEY]).alias(st._CASE),
            F.coalesce(F.col("rule"), F.lit(0)).cast("byte").alias(st._RULE))

    def schema(self, first_file: Path) -> pa.Schema:
        """The log's columns and types, from the first rows of the export (every partition's
        log is cast to them, as the streaming import casts its batches to the first's)."""
        from officemine.importing import streaming as st

        table = pq.read_table(first_file).slice(0, _PROBE_ROWS)
        table = pa.table({name: (column.cast(column.type.value_type)
                                 if pa.types.is_dictionary(column.type) else column)
                          for name, column in zip(table.column_names, table.columns)})
        table = table.append_column(st._CASE, table[st._KEY]).append_column(
            st._RULE, pa.array(np.zeros(table.num_rows, np.int8)))
        probe = dataclasses.replace(self.rows, link=False)
        return probe.normalised(_sorted(table, st._CASE))[0].schema

    def events(self, rows, schema: pa.Schema):
        """Every partition of whole cases normalised: its events (times as microseconds)
        and one row of `_META` with its report, set-aside rows and counts; persisted, as the
        driver reads it twice."""
        from pyspark import StorageLevel
        from pyspark.sql import types as T

        from officemine.importing import streaming as st

        fields = [T.StructField(f.name, _spark_type(f.type), True) for f in schema]
        spark_schema = T.StructType(fields + [T.StructField(_META, T.StringType(), True)])
        arrow_out = _arrow_schema(self.spark, spark_schema)
        times = [f.name for f in schema if pa.types.is_timestamp(f.type)]
        rows_of = self.rows

        def cases(part: pa.Table) -> pa.Table:
            # Arrow in and out: the partition's events never become Python objects
            table = _sorted(part.drop_columns([_PART]), st._CASE)
            log, report, aside, outside, acted = rows_of.normalised(table)
            log = log.select(schema.names).cast(schema) if log.num_rows else schema.empty_table()
            columns = [log[name].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
                       if name in times else log[name] for name in schema.names]
            keys = table[st._CASE].drop_null()
            meta = {"report": report.to_dict(), "outside": outside, "acted": acted,
                    "first": min(keys.to_pylist()) if len(keys) else None,
                    "aside": _ipc_text(aside) if len(aside) else None,
                    "aside_columns": list(aside.columns)}
            # the partition's meta: one more row, empty but for `_META`
            body = pa.table([*columns, pa.nulls(log.num_rows, pa.string())],
                            names=[*schema.names, _META])
            tail = pa.table([*(pa.nulls(1, c.type) for c in columns),
                             pa.array([json.dumps(meta, ensure_ascii=False, default=str)])],
                            names=[*schema.names, _META])
            return pa.concat_tables([body, tail]).cast(arrow_out)

        result = self._parts(rows, st._CASE).groupBy(_PART).applyInArrow(cases, spark_schema)
        self.times = times              # what `write` turns back into timestamps
        return result.persist(StorageLevel.DISK_ONLY)

    def write(self, events, folder: Path) -> None:
        """The events as a Parquet dataset (times as UTC instants, microseconds)."""
        with self._instants(events) as frame:
            frame.write.mode("overwrite").parquet(str(folder))

    def write_table(self, events, table: str, metadata: str) -> None:
        """The events as a table `table` (a name `table_name` checked; replaced if it
        exists), its metadata in the table `metadata_table(table)`."""
        with self._instants(events) as frame:
            frame.write.mode("overwrite").format("parquet").saveAsTable(table_name(table))
        (self.spark.createDataFrame([(metadata,)], "metadata string")
         .write.mode("overwrite").format("parquet").saveAsTable(metadata_table(table)))

    @contextlib.contextmanager
    def _instants(self, events):
        """The events with their times as instants, written as Parquet microseconds."""
        F = pyspark().sql.functions
        times = set(self.times)
        frame = events.select(*[F.timestamp_micros(F.col(c)).alias(c) if c in times
                                else F.col(c) for c in events.columns])
        previous = self.spark.conf.get("spark.sql.parquet.outputTimestampType", None)
        self.spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        try:
            yield frame
        finally:
            if previous is not None:
                self.spark.conf.set("spark.sql.parquet.outputTimestampType", previous)


def _sorted(table: pa.Table, key: str) -> pa.Table:
    """A partition's rows in the order a batch of the streaming import has them: by `key`
    (empty ones last), then source row."""
    from officemine.importing.raw import SOURCE_ROW

    return table.sort_by([(key, "ascending"), (SOURCE_ROW, "ascending")])   # nulls last


def _spark_type(arrow: pa.DataType):
    from pyspark.sql import types as T

    if pa.types.is_timestamp(arrow) or pa.types.is_int64(arrow):
        return T.LongType()
    if pa.types.is_integer(arrow):
        return T.IntegerType()
    if pa.types.is_boolean(arrow):
        return T.BooleanType()
    if pa.types.is_floating(arrow):
        return T.DoubleType()
    return T.StringType()


def _ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _table(blob: bytes) -> pa.Table:
    return pa.ipc.open_stream(io.BytesIO(blob)).read_all()


def _ipc_text(frame: pd.DataFrame) -> str:
    """Set-aside rows (all text) as JSON records."""
    return frame.astype(object).where(frame.notna(), None).to_json(orient="split",
                                                                   force_ascii=False)


def _frame(text: str) -> pd.DataFrame:
    data = json.loads(text)
    return pd.DataFrame(data["data"], columns=data["columns"], dtype=object)


def _report(data: dict):
    from officemine.log.import_report import ImportReport

    return ImportReport.from_dict(data)


__all__ = ["import_log"]
