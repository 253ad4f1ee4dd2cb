"""Process versions on Spark: `officemine.versions.process_versions`' result, computed where the
log lives, so that the Spark engine, too, judges each process as it runs now.

Each partition of whole cases gathers `versions.RouteFacts` with the one-machine code: per case
its type, start and the order of its steps' first visits; per process type and node the cases
visiting it (exact counts, which add up) and their first and last start. Spark adds up the
node facts and orders the cases by start (then case id: the order one machine's stable sort
gives); the driver decides the change points with `versions.versions_of`, as one machine does.
The driver holds a few bytes per case (its type, start and step positions), as the one-machine
versions in batches do.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log import relations
from officemine.log.schema import C
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import UNIT, per_partition, to_arrow, unit_logs, with_units
from officemine.base.errors import NotSupportedError
from officemine.versions import (ROUTE_COLUMNS, ProcessVersions, RouteFacts, position_dtype,
                                 steps_of, versions_of)

__all__ = ["process_versions", "process_versions_by_unit", "select_current",
           "select_current_by_unit", "select_started"]

#: The rows each partition gives (`kind` says which fields are filled: `_ROWS` the events
#: read, `_NODE` a node's presence, `_CASE` a case — its fields kept few and narrow, as they
#: all go to the driver: about 40 bytes a case).
_SCHEMA = ("unit string, kind byte, case_id string, type_code int, start long, "
           "positions binary, process_type string, node string, cases long, first long, "
           "last long")
_ROWS, _NODE, _CASE = 0, 1, 2


def process_versions(log: SparkLog, redesigns: Sequence = (), *, alpha: float = 0.001,
                     min_cases: int = 10, partitions: int | None = None) -> ProcessVersions:
    """`officemine.versions.process_versions` of a log in Spark (see there): the same
    change points and current versions. partitions: how many partitions of whole cases
    (default ``spark.sql.shuffle.partitions``)."""
    return _versions(log, None, redesigns, alpha=alpha, min_cases=min_cases,
                     partitions=partitions)[None]


def process_versions_by_unit(log: SparkLog, unit: str, redesigns: Sequence = (), *,
                             alpha: float = 0.001, min_cases: int = 10,
                             partitions: int | None = None) -> dict[str, ProcessVersions]:
    """Each unit's own process versions (unit value -> its versions, as one machine finds
    them on the unit's cases alone), from one Spark run."""
    return _versions(log, unit, redesigns, alpha=alpha, min_cases=min_cases,
                     partitions=partitions)


def select_current(log: SparkLog, since: dict) -> SparkLog:
    """The whole cases of `log` started on or after their process type's date in `since`
    (`ProcessVersions.since`; types not in it are kept whole): what
    `EventLog.select_versions` selects, as a Spark filter (no statement text)."""
    return _select(log, _current(since))


def select_current_by_unit(log: SparkLog, versions: dict) -> SparkLog:
    """The cases of each unit's own current versions (`versions`: unit value -> its
    `ProcessVersions`; a log carrying its units, `with_units`); units without versions are
    kept whole."""
    F = pyspark().sql.functions
    unit = F.col(UNIT)
    named = [k for k in versions if k is not None]
    keep = unit.isNotNull() & ~unit.isin(named) if named else unit.isNotNull()
    if None not in versions:
        keep = keep | unit.isNull()
    for key, found in versions.items():
        keep = keep | ((unit.isNull() if key is None else unit == F.lit(key))
                       & _current(found.since))
    return _select(log, keep)


def select_started(log: SparkLog, start) -> SparkLog:
    """The whole cases started on or after `start` (`EventLog.select_cases(start=...,
    by="start")`: the case's start is on each of its events)."""
    import dataclasses

    F = pyspark().sql.functions
    return dataclasses.replace(log, df=log.df.filter(F.col(C.case_start)
                                                     >= F.lit(_instant(start))))


def _current(since: dict):
    """The condition, on a case's first event, that the case is of its type's current
    version."""
    F = pyspark().sql.functions
    start, ptype = F.col(C.case_start), F.col(C.process_type)
    keep = F.lit(False)
    named = [k for k in since if k is not None]
    for name in named:
        keep = keep | ((ptype == F.lit(name)) & (start >= F.lit(_instant(since[name]))))
    if None in since:
        keep = keep | (ptype.isNull() & (start >= F.lit(_instant(since[None]))))
    else:
        keep = keep | ptype.isNull()
    # types without a change point: every case of theirs is current
    keep = keep | (ptype.isNotNull() & ~ptype.isin(named) if named else ptype.isNotNull())
    return keep


def _select(log: SparkLog, keep) -> SparkLog:
    """The whole cases whose first event meets `keep` (a case's process type and unit are
    its first event's)."""
    import dataclasses

    F = pyspark().sql.functions
    first = log.df.filter((F.col(C.seq) == 0) & F.coalesce(keep, F.lit(False))).select(C.case_id)
    return dataclasses.replace(log, df=log.df.join(first, on=C.case_id, how="left_semi"))


def _instant(t) -> pd.Timestamp:
    """A time as Spark compares it with a timestamp column: the instant, in UTC."""
    return pd.Timestamp(t).tz_convert("UTC").to_pydatetime()


def _versions(log: SparkLog, unit: str | None, redesigns: Sequence, *, alpha: float,
              min_cases: int, partitions: int | None) -> dict:
    """unit value (None: the whole log) -> its versions, from one Spark run."""
    F = pyspark().sql.functions
    log = with_units(log, unit)
    df = log.df
    stored = log.mapping.get("node_kinds") if isinstance(log.mapping, dict) else None
    counts = (df.groupBy(UNIT, C.node, C.outcome, C.pending, C.resource).count()
              .withColumnRenamed("count", "n").toPandas())
    steps = {}
    for key, part in counts.groupby(UNIT, dropna=False, sort=False):
        key = None if pd.isna(key) else key
        steps[key] = steps_of(relations.kinds_of(relations.node_facts_of(
            part.drop(columns=[UNIT]).reset_index(drop=True)), stored))
    names = sorted({s for each in steps.values() for s in each})
    types = sorted(r[0] for r in df.select(C.process_type).distinct().collect()
                   if r[0] is not None)

    def facts(part) -> pa.Table:
        tables = []
        for key, mine in unit_logs(part):
            routes = RouteFacts(steps.get(key, ()), names)
            ids: list = []
            routes.add(relations.events(mine, ROUTE_COLUMNS, blocking=True), case_ids=ids)
            cases, presence = routes.parts(types)
            tables += [cases.assign(kind=_CASE, case_id=ids, unit=key),
                       presence.assign(kind=_NODE, unit=key),
                       pd.DataFrame({"kind": [_ROWS], "cases": [routes.rows], "unit": [key]})]
        return pd.concat(tables, ignore_index=True)

    out = per_partition(log, [c for c in ROUTE_COLUMNS if c != C.case_id] + [UNIT], facts,
                        _SCHEMA, partitions)
    # one pass: the few count and node rows first, then the cases by unit, start and case id
    try:
        facts_of = to_arrow(out.orderBy(F.col("kind"), F.col("unit").asc_nulls_first(),
                                        F.col("start").asc_nulls_last(), F.col("case_id"))
                            .drop("case_id"))
    except Exception as exc:                    # Spark's error, said with what to do
        if "maxResultSize" not in str(exc):
            raise
        raise NotSupportedError(
            "the process versions take each case's step order to the driver (about 40 "
            "bytes a case), more than spark.driver.maxResultSize allows: set it higher "
            "(--conf spark.driver.maxResultSize=4g holds about 100 million cases)") from None
    kind = facts_of["kind"]
    small = facts_of.filter(pc.not_equal(kind, _CASE)).drop(["positions"]).to_pandas()
    ordered = facts_of.filter(pc.equal(kind, _CASE)).select(["unit", "type_code", "start",
                                                             "positions"])
    del facts_of, kind
    presence = small[small["kind"] == _NODE][["unit", "process_type", "node", "cases",
                                              "first", "last"]]
    counted = small[small["kind"] == _ROWS]
    rows = {None if pd.isna(k) else k: int(n)
            for k, n in counted.groupby("unit", dropna=False, sort=False)["cases"].sum().items()}
    cases = _case_spans(log)
    span = _spans(log)
    results = {}
    for key in rows:
        mine = ordered if len(rows) == 1 else ordered.filter(
            pc.is_null(ordered["unit"]) if key is None else pc.equal(ordered["unit"], key))
        routes = RouteFacts.from_parts(
            steps.get(key, ()), names, rows[key],
            mine["type_code"].to_numpy(zero_copy_only=False), types,
            mine["start"].to_numpy(zero_copy_only=False),
            _positions(mine["positions"], position_dtype(len(names))),
            presence[presence["unit"].isna() if key is None else presence["unit"] == key]
            .drop(columns="unit"))
        of_unit = cases[cases[UNIT].isna() if key is None else cases[UNIT] == key]
        results[key] = versions_of(routes, of_unit.drop(columns=UNIT).reset_index(drop=True),
                                   redesigns, alpha=alpha, min_cases=min_cases,
                                   timezone=log.timezone, span=span.get(key, (None, None)))
    return results


def _positions(column, dtype) -> np.ndarray:
    """The step positions of the cases (bytes of `dtype`, one value per case) as one
    array."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not len(values):
        return np.empty(0, dtype=dtype)
    values = values.cast(pa.large_binary())
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    return data.view(dtype).copy()


def _case_spans(log: SparkLog) -> pd.DataFrame:
    """One row per case: its unit, process_type, start_at and ended_at (NaT while open), as
    `relations.case_spans(ids=False)` reads them."""
    F = pyspark().sql.functions
    table = to_arrow(log.df.filter(F.col(C.seq) == 0).select(
        UNIT, C.process_type, F.unix_micros(F.col(C.case_start)).alias("start_at"),
        F.unix_micros(F.col(C.case_end)).alias("ended_at")))
    frame = table.to_pandas()
    for col in ("start_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col], unit="us", utc=True).dt.tz_convert(log.timezone)
    frame[C.process_type] = frame[C.process_type].astype("category")
    return frame


def _spans(log: SparkLog) -> dict:
    """unit -> (first, last) instant, as `EventLog.span` reads it (actions and arrivals)."""
    from officemine.spark._parts import unit_sizes

    def at(micros):
        return (None if micros is None else
                pd.Timestamp(micros, unit="us", tz="UTC").tz_convert(log.timezone))
    return {key: (at(r["start"]), at(r["end"])) for key, r in unit_sizes(log).items()}
