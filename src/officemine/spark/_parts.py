"""Running one-machine code on each partition of whole cases of a Spark log.

A case's relations (its visits, items, rounds, returns caught downstream) depend on the case
alone, so the log is cut into partitions of whole cases (a hash of the case id), each
partition rebuilt as an in-memory `EventLog` with the one-machine column types, and the
function given runs on it — the code one machine runs. Times travel as integer
microseconds (UTC), so no session time zone touches them.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.schema import C, CANONICAL_ORDER
from officemine.spark._log import SparkLog, pyspark

#: Columns every partition carries (an `EventLog` needs the canonical ones; those not asked
#: for are rebuilt empty).
_TIMES = (C.arrived_at, C.acted_at, C.wait_start, C.visit_start, C.case_start, C.case_end)


def per_partition(log: SparkLog, columns: list[str], fn: Callable, schema: str,
                  partitions: int | None = None):
    """A Spark DataFrame of the rows `fn(EventLog)` returns (an Arrow table or a pandas
    DataFrame with `schema`, a Spark DDL string) for each partition of whole cases of `log`,
    holding `columns` (and the case id and position).

    Arrow in and out (`mapInArrow`): a partition's columns reach `fn`'s log and its facts
    reach Spark column by column, never as Python objects one row at a time."""
    F = pyspark().sql.functions
    columns = list(dict.fromkeys([C.case_id, C.seq, *columns]))
    parts = partitions or int(log.spark.conf.get("spark.sql.shuffle.partitions"))
    select = [F.unix_micros(F.col(c)).alias(c) if c in _TIMES else F.col(c) for c in columns]
    # hash partitioning by the case id: each partition holds whole cases
    frame = log.df.select(*select).repartition(parts, F.col(C.case_id))
    arrow = log.arrow_schema(list(dict.fromkeys([*CANONICAL_ORDER, *columns])))
    out = _arrow_schema(log.spark, schema)
    timezone, calendar, mapping = log.timezone, log.calendar, log.mapping

    def run(batches):
        from officemine.log.eventlog import EventLog

        batches = [b for b in batches if b.num_rows]
        if not batches:           # a partition no case fell into
            return
        table = _rebuild(pa.Table.from_batches(batches), arrow)
        facts = fn(EventLog(table, timezone=timezone, calendar=calendar, mapping=mapping,
                            _derived=True))
        yield from _as_arrow(facts, out).to_batches()

    return frame.mapInArrow(run, schema)


def to_arrow(frame) -> pa.Table:
    """A Spark DataFrame's rows on the driver as an Arrow table (`DataFrame.toArrow`, Spark
    4; Spark 3.5's own Arrow collection before it), never as Python rows."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    return pa.Table.from_batches(frame._collect_as_arrow(),
                                 schema=_arrow_schema(frame.sparkSession, frame.schema))


def _arrow_schema(spark, ddl) -> pa.Schema:
    """The Arrow schema Spark expects of batches of the rows `ddl` (a Spark DDL string or a
    `StructType`)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(spark.createDataFrame([], ddl).schema if isinstance(ddl, str)
                           else ddl)


def _as_arrow(facts: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    """A partition's facts as an Arrow table of `schema` (missing values null, NaN too, as
    Spark's pandas conversion had them)."""
    if isinstance(facts, pd.DataFrame):
        facts = pa.Table.from_pandas(facts.reset_index(drop=True), preserve_index=False)
    return pa.table([facts[f.name].cast(f.type) if f.name in facts.column_names
                     else pa.nulls(len(facts), f.type) for f in schema], schema=schema)


def _rebuild(part: pa.Table, schema: pa.Schema) -> pa.Table:
    """A partition's rows as the one-machine log holds them: its types, (case, seq) order."""
    # one chunk, then sorted: sorting Spark's many small batches costs several times more,
    # and the columns the partition does not carry are added (null) after the sort
    part = part.combine_chunks()
    part = part.take(pc.sort_indices(part, [(C.case_id, "ascending"), (C.seq, "ascending")]))
    n = part.num_rows
    columns = {}
    for field in schema:
        if field.name not in part.column_names:
            columns[field.name] = pa.nulls(n, field.type)
            continue
        values = part[field.name]
        if pa.types.is_timestamp(field.type):
            values = values.cast(pa.int64()).cast(pa.timestamp("us", tz="UTC")).cast(field.type)
        columns[field.name] = values.cast(field.type)
    return pa.table(columns, schema=schema)


#: The column `with_units` adds: each case's unit.
UNIT = "__officemine_unit"
#: The unit of cases whose unit column is empty.
UNKNOWN_UNIT = "(未知)"


def with_units(log: SparkLog, unit: str | None) -> SparkLog:
    """`log` with each case's unit in column `UNIT`: `unit`'s value at the case's first
    event (as `officemine.log.relations.cases` reads case attributes; empty: `UNKNOWN_UNIT`),
    or null everywhere when `unit` is None (the whole log is one unit)."""
    import dataclasses

    from officemine.base.errors import InputError

    F = pyspark().sql.functions
    df = log.df
    if unit is None:
        df = df.withColumn(UNIT, F.lit(None).cast("string"))
    else:
        if unit not in df.columns:
            raise InputError(f"the log has no column {unit!r} to tell its units apart")
        first = df.filter(F.col(C.seq) == 0).select(
            C.case_id, F.coalesce(F.col(unit).cast("string"), F.lit(UNKNOWN_UNIT)).alias(UNIT))
        df = df.join(first, on=C.case_id, how="left")
    return dataclasses.replace(log, df=df)


def unit_sizes(log: SparkLog) -> dict:
    """Per unit (of `with_units`): its events, cases, and first and last time (integer
    microseconds, as `EventLog.span` reads them: actions and arrivals)."""
    F = pyspark().sql.functions
    return {row[UNIT]: row for row in log.df.groupBy(UNIT).agg(
        F.count(F.lit(1)).alias("events"), F.countDistinct(C.case_id).alias("cases"),
        F.min(F.unix_micros(F.least(C.acted_at, C.arrived_at))).alias("start"),
        F.max(F.unix_micros(F.greatest(C.acted_at, C.arrived_at))).alias("end")).collect()}


def unit_logs(log, unit_column: str = UNIT):
    """(unit, the `EventLog` of its cases) for each unit of a partition's `log` (None: cases
    without a unit, or a log of one unit)."""
    import pyarrow.compute as pc

    from officemine.log.eventlog import EventLog

    table = log.to_arrow()
    units = table[unit_column]
    keys = units.unique().to_pylist()
    if len(keys) == 1:
        yield keys[0], log
        return
    for key in keys:
        mask = pc.is_null(units) if key is None else pc.equal(units, key)
        yield key, EventLog(table.filter(mask), timezone=log.timezone, calendar=log.calendar,
                            mapping=log.mapping, _derived=True)
