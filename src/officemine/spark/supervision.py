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

from officemine.log.calendar import Calendar
from officemine.log.months import as_month
from officemine.log.schema import C, CANONICAL_ORDER
from officemine.sla import SLA
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import _TIMES, UNIT, _rebuild, to_arrow, unit_sizes, with_units
from officemine.spark.necessity import _instant
from officemine.supervision import (UNKNOWN, Bottlenecks, LogFacts, OverdueLedger, _inside,
                                   _Waits, ledger_of_open_cases)


def overdue_ledger(log: SparkLog, as_of: Any, *, sla: SLA | None = None,
                   calendar: Calendar | None = None) -> OverdueLedger:
    """`officemine.supervision.overdue_ledger` of a log in Spark, at `as_of` (a time; a
    naive one is in the log's zone)."""
    return overdue_ledgers(log, None, as_of, sla=sla, calendar=calendar)[None]


def overdue_ledgers(log: SparkLog, unit: str | None, as_of: Any, *, sla: SLA | None = None,
                    calendar: Calendar | None = None) -> dict:
    """unit value (None: the whole log) -> its overdue ledger at `as_of`, each what one
    machine gives on the unit's cases alone; a unit with no event has none."""
    from officemine.log.relations import now

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
    table = to_arrow(selected.select(*[F.unix_micros(F.col(c)).alias(c) if c in _TIMES
                                       else F.col(c) for c in columns]))
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
    from officemine.log.eventlog import EventLog

    return EventLog(table, timezone=log.timezone, calendar=log.calendar, mapping=log.mapping,
                    report=log.report, _derived=True)


def _log_info(log: SparkLog, size) -> dict:
    start, end = (_instant(size[k], log.timezone) for k in ("start", "end"))
    return {"cases": int(size["cases"]), "events": int(size["events"]),
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None,
            "source": log.report.source_file if log.report else None}


__all__ = ["overdue_ledger", "overdue_ledgers"]


#: A partition's bottleneck facts: per side (node | resource) and group, the sums and counts
#: (kind "total"), the decided waits counted per value ("wait"), the people's departments and
#: nodes ("pair"); each with the first (case, seq) it came from, for the one machine's order.
_BOTTLENECK_SCHEMA = ("kind string, side string, key string, value double, label string, "
                      "n long, wh double, h double, decided long, pending long, "
                      "first_case string, first_seq long")


def bottlenecks(log: SparkLog, month: Any, *, calendar: Calendar | None = None,
                as_of: Any = None, partitions: int | None = None):
    """`officemine.supervision.bottlenecks` of a log in Spark for `month`: each partition of
    whole cases reduced to what adds up (waits summed per node and person, decided waits
    counted per value), summed in Spark, ranked on the driver by the one-machine code. The
    same ranking; the sums equal to the last digits (Spark adds in its own order)."""
    return bottlenecks_by_unit(log, None, month, calendar=calendar, as_of=as_of,
                               partitions=partitions)[None]


def bottlenecks_by_unit(log: SparkLog, unit: str | None, month: Any, *,
                        calendar: Calendar | None = None, as_of: Any = None,
                        partitions: int | None = None) -> dict:
    """unit value (None: the whole log) -> its bottlenecks in `month`, from one Spark pass;
    `as_of` (default: the end of the whole log) is the same for every unit."""
    from officemine.log.relations import now, work_items
    from officemine.spark._parts import per_partition

    F = pyspark().sql.functions
    calendar = calendar or log.calendar
    tz = log.timezone
    m = as_month(month)
    m0 = pd.Timestamp(m.start_time).tz_localize(tz)
    m1 = pd.Timestamp((m + 1).start_time).tz_localize(tz)
    log = with_units(log, unit)
    sizes = unit_sizes(log)
    ends = [r["end"] for r in sizes.values() if r["end"] is not None]
    if as_of is not None:
        as_of = now(log, as_of)
    elif ends:
        as_of = _instant(max(ends), tz)
    else:
        as_of = pd.Timestamp.now(tz=tz)
    columns = [C.visit, C.round, C.object, C.node, C.outcome, C.pending, C.visit_start,
               C.acted_at, C.visit_source, C.resource, C.dept, UNIT]

    def facts(part) -> pd.DataFrame:
        items = work_items(part, calendar, as_of=as_of, columns=(C.resource, C.dept),
                           during=(m0, m1))
        table = part.to_arrow()
        first = table.filter(pa.compute.equal(table[C.seq], 0))
        unit_of = dict(zip(first[C.case_id].to_pylist(), first[UNIT].to_pylist()))
        inside = _inside(items, m0, m1, as_of, calendar)
        inside["__unit"] = inside[C.case_id].map(unit_of)
        rows = []
        for key, mine in inside.groupby("__unit", dropna=False, sort=False):
            key = None if pd.isna(key) else key
            for side in ("node", "resource"):
                rows.append(_side_facts(mine, side).assign(unit=key))
        return (pd.concat(rows, ignore_index=True) if rows else
                pd.DataFrame(columns=["unit", *[c.split()[0] for c in
                                                _BOTTLENECK_SCHEMA.split(", ")]]))

    merged = (per_partition(log, columns, facts, "unit string, " + _BOTTLENECK_SCHEMA,
                            partitions)
              .withColumn("first", F.struct("first_case", "first_seq"))
              .groupBy("unit", "kind", "side", "key", "value", "label")
              .agg(F.sum("n").alias("n"), F.sum("wh").alias("wh"), F.sum("h").alias("h"),
                   F.sum("decided").alias("decided"), F.sum("pending").alias("pending"),
                   F.min("first").alias("first"))
              .toPandas())
    results = {}
    for key in sizes:
        mine = merged[merged["unit"].isna() if key is None else merged["unit"] == key]
        sides = {side: _Waits(side) for side in ("node", "resource")}
        for side, waits in sides.items():
            if ((mine["kind"] == "total") & (mine["side"] == side)).any():
                waits.merge(*_merged_parts(mine, side))
        notes = [] if sides["node"].items else [f"no item waited at any node in {m}"]
        people = sides["resource"].ranked()
        people.insert(1, "dept", people["resource"].map(sides["resource"].joined("dept")))
        people.insert(2, "nodes", people["resource"].map(sides["resource"].joined("node")))
        results[key] = Bottlenecks(
            by_node=sides["node"].ranked(), by_person=people, month=str(m),
            period={"start": m0.isoformat(), "end": m1.isoformat()},
            calendar=calendar.describe(), as_of=as_of, notes=tuple(notes))
    return results


def _side_facts(inside: pd.DataFrame, side: str) -> pd.DataFrame:
    """One partition's facts of one side (`_BOTTLENECK_SCHEMA` rows) of its items inside the
    period (of one unit)."""
    totals, waits, pairs = _Waits.reduce(inside, side)
    keyed = inside.assign(__key=inside[side].astype("object").where(inside[side].notna(),
                                                                     UNKNOWN))
    first = keyed.groupby("__key", sort=False)[[C.case_id, C.seq]].first()
    decided = keyed[keyed["decided_in_period"]]
    first_decided = decided.groupby(["__key", "wait_workhours"], sort=False)[
        [C.case_id, C.seq]].first()
    frames = [pd.DataFrame({
        "kind": "total", "side": side, "key": totals.index.astype(str), "value": float("nan"),
        "label": None, "n": totals["items"].to_numpy(), "wh": totals["wait_workhours"].to_numpy(),
        "h": totals["wait_hours"].to_numpy(), "decided": totals["decided"].to_numpy(),
        "pending": totals["pending"].to_numpy(),
        "first_case": first.loc[totals.index, C.case_id].to_numpy(),
        "first_seq": first.loc[totals.index, C.seq].to_numpy()})]
    if len(waits):
        at = first_decided.loc[waits.index]
        frames.append(pd.DataFrame({
            "kind": "wait", "side": side, "key": waits.index.get_level_values(0).astype(str),
            "value": waits.index.get_level_values(1).to_numpy(dtype=float), "label": None,
            "n": waits.to_numpy(), "wh": 0.0, "h": 0.0, "decided": 0, "pending": 0,
            "first_case": at[C.case_id].to_numpy(), "first_seq": at[C.seq].to_numpy()}))
    for column, found in pairs.items():
        if found:
            person, label = zip(*sorted(found))
            frames.append(pd.DataFrame({
                "kind": "pair", "side": column, "key": list(person), "value": float("nan"),
                "label": [str(v) for v in label], "n": 0, "wh": 0.0, "h": 0.0, "decided": 0,
                "pending": 0, "first_case": None, "first_seq": None}))
    return pd.concat(frames, ignore_index=True)


def _merged_parts(facts: pd.DataFrame, side: str) -> tuple[pd.DataFrame, pd.Series, dict]:
    """The whole log's `_Waits.reduce` parts of one side from the facts Spark summed: groups
    in the order one machine first meets them (their first case and position)."""
    def position(frame: pd.DataFrame) -> list:
        return [(f["first_case"], f["first_seq"]) for f in frame["first"]]

    part = facts[facts["side"] == side]
    totals = part[part["kind"] == "total"].copy()
    totals["at"] = position(totals)
    totals = totals.sort_values("at", kind="stable").set_index("key")
    frame = pd.DataFrame({"wait_workhours": totals["wh"], "items": totals["n"],
                          "decided": totals["decided"], "pending": totals["pending"],
                          "wait_hours": totals["h"]})
    frame.index.name = side
    waits = part[part["kind"] == "wait"].copy()
    waits["at"] = position(waits)
    # the decided waits: groups in the order of their first decided item
    order = waits.groupby("key")["at"].min().sort_values(kind="stable").index
    waits["group"] = pd.Categorical(waits["key"], categories=order, ordered=True)
    waits = waits.sort_values(["group", "value"], kind="stable")
    series = pd.Series(waits["n"].to_numpy(), index=pd.MultiIndex.from_arrays(
        [waits["key"].to_numpy(object), waits["value"].to_numpy(float)],
        names=[side, "wait_workhours"]))
    pairs = {}
    if side == "resource":
        for column in ("dept", "node"):
            found = facts[(facts["kind"] == "pair") & (facts["side"] == column)]
            pairs[column] = set(zip(found["key"], found["label"]))
    return frame, series, pairs
