"""The overdue ledger (督办清单) of a log in Spark, for the whole group or for each unit.

A ledger reads only the cases open at its moment — a few days' arrivals, not the history:
Spark selects them (a filter on each event's case start and end, as one machine does),
they are taken to the driver whole, and the ledger is the one machine's
(`officemine.supervision.ledger_of_open_cases`), given what it needs of the whole log
(the submission step, the log's end and size) from one Spark aggregate.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from officemine.calendar import Calendar
from officemine.schema import C, CANONICAL_ORDER
from officemine.sla import SLA
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import _TIMES, UNIT, _rebuild, unit_sizes, with_units
from officemine.spark.necessity import _instant
from officemine.supervision import LogFacts, OverdueLedger, ledger_of_open_cases


def overdue_ledger(log: SparkLog, as_of: Any, *, sla: SLA | None = None,
                   calendar: Calendar | None = None) -> OverdueLedger:
    """`officemine.supervision.overdue_ledger` of a log in Spark, at `as_of` (a time; a
    naive one is in the log's zone)."""
    return overdue_ledgers(log, None, as_of, sla=sla, calendar=calendar)[None]


def overdue_ledgers(log: SparkLog, unit: str | None, as_of: Any, *, sla: SLA | None = None,
                    calendar: Calendar | None = None) -> dict:
    """unit value (None: the whole log) -> its overdue ledger at `as_of`, each what one
    machine gives on the unit's cases alone; a unit with no event has none."""
    from officemine.relations import now

    F = pyspark().sql.functions
    sla = sla or SLA.default()
    calendar = calendar or log.calendar
    as_of = now(log, as_of)
    log = with_units(log, unit)
    sizes = unit_sizes(log)
    at = int(as_of.value // 1000)
    columns = list(dict.fromkeys([*CANONICAL_ORDER, *log.df.columns]))
    # open at as_of, as `EventLog.select_cases(by="active")` selects them (whole cases)
    selected = log.df.filter(F.coalesce(F.unix_micros(F.col(C.case_end)) >= at, F.lit(True))
                             & (F.unix_micros(F.col(C.case_start)) <= at))
    table = selected.select(*[F.unix_micros(F.col(c)).alias(c) if c in _TIMES else F.col(c)
                              for c in columns]).toArrow()
    table = _rebuild(table, log.arrow_schema(columns))
    submits = (log.df.filter(F.col(C.outcome).isin("submit", "resubmit"))
               .groupBy(UNIT, C.node).count().toPandas())
    ledgers = {}
    for key, size in sizes.items():
        mine = _unit_rows(table, key)
        facts = LogFacts(submit_node=_submit_node(submits, key),
                         end=_instant(size["end"], log.timezone),
                         log_info=_log_info(log, size))
        ledgers[key] = ledger_of_open_cases(_event_log(mine, log), as_of, sla, calendar, facts)
    return ledgers


def _unit_rows(table: pa.Table, key) -> pa.Table:
    import pyarrow.compute as pc

    units = table[UNIT]
    return table.filter(pc.is_null(units) if key is None else pc.equal(units, key))


def _submit_node(submits: pd.DataFrame, key) -> str:
    """The unit's node where most submissions are recorded, as `relations.submit_node` picks
    it (ties: the first name)."""
    mine = submits[submits[UNIT].isna() if key is None else submits[UNIT] == key]
    if mine.empty:
        return "发起"
    mine = mine.sort_values(["count", C.node], ascending=[False, True], kind="stable")
    return mine[C.node].iloc[0]


def _event_log(table: pa.Table, log: SparkLog):
    from officemine.eventlog import EventLog

    return EventLog(table, timezone=log.timezone, calendar=log.calendar, mapping=log.mapping,
                    report=log.report, _derived=True)


def _log_info(log: SparkLog, size) -> dict:
    start, end = (_instant(size[k], log.timezone) for k in ("start", "end"))
    return {"cases": int(size["cases"]), "events": int(size["events"]),
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None,
            "source": log.report.source_file if log.report else None}


__all__ = ["overdue_ledger", "overdue_ledgers"]
