"""The Spark engine: a group's whole approval history where it already lives.

The same analyses as on one machine, on a canonical log held as Parquet or a table in a Spark
cluster. Spark computes what adds up over parts of the log — counts, and waits as counts per
node and wait value, each part a set of whole cases — and the driver finishes with the very
code one machine runs (Kaplan–Meier with pending items, intervals, verdicts, the result
objects, their charts and JSON). The relations are not re-written in Spark SQL: each
partition of whole cases is read through `officemine.log.relations` itself (an in-memory
`EventLog` per partition), so a wait, a visit or a return means here what it means there.

Install with ``pip install 'officemine[spark]'`` (pyspark; Spark needs Java 17 or later).

>>> from pyspark.sql import SparkSession                          # doctest: +SKIP
>>> from officemine import spark as oms                           # doctest: +SKIP
>>> log = oms.read_log(SparkSession.builder.getOrCreate(), "oa.parquet")   # doctest: +SKIP
>>> oms.necessity(log).summary                                    # doctest: +SKIP
"""

from __future__ import annotations

from officemine.spark._log import SparkLog, pyspark, read_log, read_table
from officemine.spark.necessity import compare_units, necessity, necessity_by_unit
from officemine.spark.kpis import (compare_unit_kpis, kpi_trend, kpis_by_unit, monthly_kpis,
                                   monthly_kpis_by_unit)
from officemine.spark.discovery import discover
from officemine.spark.importing import import_log
from officemine.spark.versions import process_versions, process_versions_by_unit
from officemine.spark.supervision import (bottlenecks, bottlenecks_by_unit, overdue_ledger,
                                          overdue_ledgers)

__all__ = ["SparkLog", "compare_units", "necessity", "necessity_by_unit", "pyspark",
           "read_log", "read_table"]
__all__ += ["compare_unit_kpis", "kpi_trend", "kpis_by_unit", "monthly_kpis",
            "monthly_kpis_by_unit"]
__all__ += ["bottlenecks", "bottlenecks_by_unit", "discover", "import_log", "overdue_ledger",
            "overdue_ledgers", "process_versions", "process_versions_by_unit"]
