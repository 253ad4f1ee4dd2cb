"""Discovery on Spark: `officemine.discovery.discover`'s result, computed where the log lives.

Each partition of whole cases is read by the one-machine code into the discovery's facts
(`officemine.discovery.facts_of`: visits, cases, starts and ends per node, transitions per
arc, cases per path and per number of rounds and hand-offs, returns by source and target,
and every time a median is taken of — cycle times, waits, transition and hand-off times — as
counts per value), flattened into long rows that Spark adds up. The driver rebuilds the facts
and finishes with `officemine.discovery.finish`: the same medians, orders, shares, bootstrap
and test as on one machine. No case is kept: the result's case tables (``variants.cases``,
``rework.cases``, ``handoffs.per_case``) are None.
"""

from __future__ import annotations

import pandas as pd

from officemine.log.calendar import Calendar
from officemine.discovery import (DiscoveryResult, check_settings, facts_of, finish)
from officemine.discovery._base import EVENT_COLUMNS, check_process_type_in, read_events
from officemine.discovery._facts import ROW_COUNTS, ROW_KEYS, ROW_SCHEMA, from_rows, to_rows
from officemine.log.schema import C
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import per_partition

#: What a partition's discovery reads: the events' columns and the work items'.
_COLUMNS = list(dict.fromkeys([*EVENT_COLUMNS, C.object, C.visit_start, C.visit_source]))


def discover(log: SparkLog, process_type: str | None = None, *,
             calendar: Calendar | None = None, min_frequency: int | None = None,
             seed: int = 0, n_boot: int = 2000, bpmn_noise_threshold: float = 0.1,
             partitions: int | None = None) -> DiscoveryResult:
    """`officemine.discovery.discover` of a log in Spark (see there): the same result,
    without the case tables. partitions: how many partitions of whole cases (default
    ``spark.sql.shuffle.partitions``).

    The driver holds the facts: one row per distinct path, node, arc and department pair,
    and per distinct cycle time, wait and transition time of each; and, for the test of the
    time rework adds, one number per completed case.
    """
    F = pyspark().sql.functions
    calendar = calendar or log.calendar
    check_settings(min_frequency, bpmn_noise_threshold)
    if process_type is not None:
        types = (log.df.groupBy(C.process_type)
                 .agg(F.countDistinct(C.case_id).alias("cases"))
                 .orderBy(F.col("cases").desc(), F.col(C.process_type).asc_nulls_last())
                 .toPandas())
        types[C.process_type] = types[C.process_type].astype(object).where(
            types[C.process_type].notna(), None)
        check_process_type_in(types, process_type)

    def facts(part) -> pd.DataFrame:
        events = read_events(part, process_type)
        if events.n_cases == 0:          # no case of this partition is in scope
            return pd.DataFrame({c: pd.Series(dtype=object) for c in [*ROW_KEYS, *ROW_COUNTS]})
        return to_rows(facts_of(part, events, process_type, calendar)[0])

    time = F.col("kind").eqNullSafe(F.lit("scalar")) & F.col("s1").isin("start", "end")
    merged = (per_partition(log, _COLUMNS, facts, ROW_SCHEMA, partitions)
              .groupBy(*ROW_KEYS)
              # the first and last action are the smallest and largest of the parts', not
              # sums (which could also overflow a long)
              .agg(*[F.sum(F.when(~time, F.col(c)) if c == "c1" else F.col(c)).alias(c)
                     for c in ROW_COUNTS],
                   F.min("c1").alias("lowest"), F.max("c1").alias("highest"))
              .toPandas())
    scalar = merged[merged["kind"] == "scalar"].set_index("s1")
    start = scalar["lowest"].get("start")
    end = scalar["highest"].get("end")
    merged = merged.drop(columns=["lowest", "highest"])
    for c in ROW_COUNTS:
        merged[c] = merged[c].fillna(0).astype("int64")
    return finish(from_rows(merged, _whole(start), _whole(end)), process_type,
                  timezone=log.timezone, calendar=calendar, min_frequency=min_frequency,
                  seed=seed, n_boot=n_boot, bpmn_noise_threshold=bpmn_noise_threshold)


def _whole(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


__all__ = ["discover"]
