"""The necessity test on Spark: `officemine.necessity.necessity`'s result, computed where the
log lives.

Spark computes what adds up: each node's facts for the kind inference (counts by node,
outcome, pending state and person), and for each partition of whole cases the work items of
`officemine.log.relations.work_items` and what the test reads of them (`necessity._decision_items`:
reason classes, catches downstream), reduced to counts — of items, approvals, rejections,
cases; waits as counts per group, wait value and pending state; return reasons with their
first appearance; the waiting shares as sums over cases. The driver merges them into each
group's `necessity.GroupFacts` and finishes with `necessity._stats_of` and `necessity._result`:
the same Kaplan–Meier medians and p90 with pending items, intervals, verdicts and order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import importlib
from officemine.log import relations
from officemine.log.calendar import Calendar
from officemine.base.errors import ChoiceError, InputError, NoDataError
from officemine.log.schema import C
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import UNIT as _UNIT
from officemine.spark._parts import UNKNOWN_UNIT  # noqa: F401 (the unit of cases without one)
from officemine.spark._parts import per_partition, unit_sizes, with_units
from officemine.spark.versions import (select_current, select_current_by_unit,
                                       select_started)

#: the one-machine module (officemine.necessity is the function the package exports)
one = importlib.import_module("officemine.necessity")

#: The rows each partition gives (a long format: `kind` says which fields are filled).
_SCHEMA = ("kind string, node string, ptype string, name string, value double, "
           "observed boolean, n long, x double, first_case string, first_seq long")
_COUNTS = ("items", "pending", "cases", "approvals", "rejections", "returns", "rejects",
           "caught", "recorded", "inferred")
_WAITS = ("wait_hours", "wait_workhours")


def necessity(log: SparkLog, *, by: one.GroupBy | None = None, basis: one.Basis = "working",
              calendar: Calendar | None = None,
              thresholds: one.NecessityThresholds | None = None, as_of=None,
              node_kinds: dict[str, str] | None = None, since="current",
              redesigns: Sequence = (), partitions: int | None = None) -> one.NecessityResult:
    """`officemine.necessity.necessity` of a log in Spark (see there); the same result, but
    without the items themselves (``items`` is None).

    since: ``"current"`` (default: each process type's current version, found by
    `officemine.spark.versions.process_versions`), ``"all"``, a date (the cases started on
    or after it), or `ProcessVersions` found already. partitions: how many partitions of whole cases (default
    ``spark.sql.shuffle.partitions``).
    """
    return _necessity(log, None, by=by, basis=basis, calendar=calendar, thresholds=thresholds,
                      as_of=as_of, node_kinds=node_kinds, since=since, redesigns=redesigns,
                      partitions=partitions)[None]


def necessity_by_unit(log: SparkLog, unit: str, **options) -> dict[str, one.NecessityResult]:
    """The necessity test of each unit of a group (subsidiary, department …), from one run
    over the group's log: unit value -> the result `necessity` gives on that unit's cases
    alone (the unit of a case is `unit`'s value at its first event, as
    `officemine.log.relations.cases` reads case attributes; empty: 未知). Node kinds are each
    unit's own; "now" is the group log's end (or `as_of`), so every unit's pending items are
    censored at the same time. Options as for `necessity`. Compare them with
    `compare_units`."""
    return _necessity(log, unit, **options)


def compare_units(results: dict[str, one.NecessityResult]) -> pd.DataFrame:
    """The units side by side on the same figures: one row per unit and decision node (items,
    rejection rate with its interval, median and p90 wait of the basis, share of the waiting,
    verdict), nodes in the order of the group's most items."""
    frames = []
    for unit, result in results.items():
        table = result.summary[["node", "items", "rejection_rate", "rejection_rate_ci_low",
                                "rejection_rate_ci_high", "wait_median", "wait_p90",
                                "wait_share", "verdict"]].copy()
        table.insert(0, "unit", unit)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["unit", "node"])
    table = pd.concat(frames, ignore_index=True)
    weight = table.groupby("node")["items"].sum().sort_values(ascending=False, kind="stable")
    table["node"] = pd.Categorical(table["node"], categories=list(weight.index), ordered=True)
    table = table.sort_values(["node", "unit"], kind="stable").reset_index(drop=True)
    table["node"] = table["node"].astype(object)
    return table


def _necessity(log: SparkLog, unit: str | None, *, by=None, basis="working", calendar=None,
               thresholds=None, as_of=None, node_kinds=None, since="current", redesigns=(),
               partitions=None) -> dict:
    """unit value (None: the whole log) -> its necessity result, from one Spark run."""
    F = pyspark().sql.functions
    ChoiceError.check("basis", basis, one.BASES)
    ChoiceError.check("by", by, one.BYS)
    thresholds = thresholds or one.NecessityThresholds()
    calendar = calendar or log.calendar
    source, log = log, with_units(log, unit)
    whole = unit_sizes(log)
    started = _since_date(log, since, whole)
    versions = {} if started is not None else _versions_of(source, unit, since, redesigns,
                                                          partitions)
    if started is not None:
        log = select_started(log, started)
    elif versions:
        log = (select_current(log, versions[None].since) if unit is None
               else select_current_by_unit(log, versions))
    df = log.df
    sizes = unit_sizes(log)
    if not sizes:
        raise NoDataError(f"no case of the log is in the window judged (since="
                          f"{since if isinstance(since, str) else 'current'}); "
                          "choose another --since")
    end = _instant(max(r["end"] for r in sizes.values() if r["end"] is not None),
                   log.timezone) if any(r["end"] is not None for r in sizes.values()) else None
    as_of = relations.now(log, as_of) if as_of is not None else end
    counts = (df.groupBy(_UNIT, C.node, C.outcome, C.pending, C.resource).count()
              .withColumnRenamed("count", "n").toPandas())
    stored = log.mapping.get("node_kinds") if isinstance(log.mapping, dict) else None
    kinds, not_approval = {}, {}
    for key, part in counts.groupby(_UNIT, dropna=False, sort=False):
        key = None if pd.isna(key) else key
        kinds[key] = relations.kinds_of(relations.node_facts_of(part.drop(columns=[_UNIT])
                                                                .reset_index(drop=True)),
                                        stored, node_kinds)
        not_approval[key] = {n: k for n, k in zip(kinds[key]["node"], kinds[key]["kind"])
                             if k != "decision"}
    wait_col = "wait_workhours" if basis == "working" else "wait_hours"

    # --- each partition of whole cases: its items, reduced to what adds up ------------------
    columns = [C.visit, C.round, C.object, C.node, C.outcome, C.pending, C.visit_start,
               C.acted_at, C.visit_source, C.comment, C.process_type, _UNIT]

    def facts(part) -> pa.Table:
        items = relations.work_items(part, calendar, as_of=as_of, columns=(
            (C.comment,) + ((C.process_type,) if by else ())))
        table = part.to_arrow()
        # each item's unit: its case's (the first row of the case, found column-wise)
        at = pc.index_in(pa.array(items[C.case_id].to_numpy(object), pa.large_string()),
                         value_set=table[C.case_id].combine_chunks())
        units = pd.Series(table[_UNIT].take(at).to_numpy(zero_copy_only=False), dtype=object)
        codes, keys = pd.factorize(units, use_na_sentinel=False)
        tables = []
        for code, key in enumerate(keys):
            key = None if pd.isna(key) else key
            mine = items[codes == code] if len(keys) > 1 else items
            facts = _partition_facts(mine, not_approval[key], by, wait_col)
            tables.append(facts.add_column(0, "unit", pa.array([key] * facts.num_rows,
                                                               pa.string())))
        return pa.concat_tables(tables) if tables else _FACTS.empty_table()

    merged = (per_partition(log, columns, facts, "unit string, " + _SCHEMA, partitions)
              .withColumn("first", F.when(F.col("first_case").isNotNull(),
                                          F.struct("first_case", "first_seq")))
              .groupBy("unit", "kind", "node", "ptype", "name", "value", "observed")
              .agg(F.sum("n").alias("n"), F.min("n").alias("n_min"), F.sum("x").alias("x"),
                   F.min("first").alias("first"))
              .toPandas())
    results = {}
    for key, size in sizes.items():
        rows = merged[merged["unit"].isna() if key is None else merged["unit"] == key]
        if key is not None and not (rows["kind"] == "order").any():
            continue          # a unit whose steps decide nothing has nothing to judge
        results[key] = _finish(rows.drop(columns=["unit"]), kinds=kinds[key],
                               not_approval=not_approval[key], by=by, basis=basis,
                               wait_col=wait_col, thresholds=thresholds, calendar=calendar,
                               as_of=as_of, versions=versions.get(key),
                               log_info=_log_info(log, whole[key], size, versions.get(key),
                                                  since))
    return results


def _versions_of(log: SparkLog, unit: str | None, since, redesigns, partitions) -> dict:
    """unit value -> the versions `since` judges (empty: every case is judged)."""
    from officemine.spark.versions import _versions
    from officemine.versions import ProcessVersions

    if since is None or (isinstance(since, str) and since == "all"):
        return {}
    if isinstance(since, ProcessVersions):
        if unit is not None:
            raise InputError("versions found already on one log serve that log, not each "
                             "unit: pass each unit's (a dict) or since='current'")
        return {None: since}
    if isinstance(since, dict) and unit is not None:     # each unit's own, found already
        return since
    if isinstance(since, str) and since == "current":
        return _versions(log, unit, redesigns, alpha=0.001, min_cases=10,
                         partitions=partitions)
    raise InputError(f"since must be 'current', 'all', a date or versions found already, "
                     f"not {since!r}")


def _instant(micros, tz: str) -> pd.Timestamp | None:
    return None if micros is None else pd.Timestamp(micros, unit="us", tz="UTC").tz_convert(tz)


def _since_date(log: SparkLog, since, sizes: dict) -> pd.Timestamp | None:
    """The date `since` names (`versions.since_date`, against the end of the log's `sizes`),
    or None when it names none ("current", "all", versions)."""
    from officemine.versions import ProcessVersions, since_date

    if since is None or isinstance(since, (ProcessVersions, dict)) or (
            isinstance(since, str) and since in ("all", "current")):
        return None
    ends = [r["end"] for r in sizes.values() if r["end"] is not None]
    return since_date(since, log.timezone, _instant(max(ends), log.timezone) if ends else None)


def _log_info(log: SparkLog, whole, judged, versions, since) -> dict:
    """The JSON contracts' ``log`` object, as one machine writes it: the whole log (or unit)
    and the cases judged."""
    start, end = (_instant(whole[k], log.timezone) for k in ("start", "end"))
    return {"cases": int(whole["cases"]), "events": int(whole["events"]),
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None,
            "source": log.report.source_file if log.report else None,
            "judged": {"since": ({str(k): v.isoformat() for k, v in versions.since.items()}
                                 if versions is not None else
                                 "all" if since is None else str(since)),
                       "cases": int(judged["cases"]), "of_cases": int(whole["cases"])}}


def _partition_facts(items: pd.DataFrame, not_approval: dict, by: str | None,
                     wait_col: str) -> pa.Table:
    """A partition's contribution: rows of `_SCHEMA`, built column by column (per group,
    distinct wait or reason; never a Python object per row)."""
    tables = []
    starts = items["visit_start"].dropna() if len(items) else items["visit_start"]
    if len(starts):
        tables.append(_rows("first_start", 1, n=[int(starts.min().tz_convert("UTC").value
                                                     // 1000)]))
    other = items[items["node"].isin(not_approval)]
    waits = _counted(other, ["node", wait_col, "observed"])
    tables.append(_rows("other", len(waits), node=waits["node"], value=waits[wait_col],
                        observed=waits["observed"], n=waits["n"]))
    decided, keys = one._decision_items(items, not_approval, by)
    if len(decided):
        tables += _group_facts(decided, keys, by, wait_col)
    return pa.concat_tables(tables)


def _group_facts(decided: pd.DataFrame, keys: list[str], by: str | None,
                 wait_col: str) -> list[pa.Table]:
    """Each group's facts (those of `necessity._facts_of_items`, its waiting share and its
    first item) from the decided items of a partition, one array operation per fact."""
    group = decided["group_no"].to_numpy()
    n_groups = int(group.max()) + 1
    first = np.unique(group, return_index=True)[1]       # each group's first item
    case_ids = decided[C.case_id].to_numpy(object)
    seqs = decided[C.seq].to_numpy(np.int64)
    node = decided["node"].to_numpy(object)[first]
    ptype = decided[by].to_numpy(object)[first] if by else np.full(n_groups, None, object)

    def per_group(kind: str, names, **columns) -> pa.Table:
        """Rows of `kind`: for each group, one per name (columns are group × name)."""
        k = len(names)
        return _rows(kind, n_groups * k, node=np.repeat(node, k), ptype=np.repeat(ptype, k),
                     name=np.tile(np.asarray(names, object), n_groups), **columns)

    def count(mask) -> np.ndarray:
        return np.bincount(group, weights=mask, minlength=n_groups).astype(np.int64)

    observed = decided["observed"].to_numpy(bool)
    rejected = decided["rejected"].to_numpy(bool)
    outcome = decided["outcome"]
    known = ~np.isnan(decided[wait_col].to_numpy(float))
    source = decided["wait_source"]
    case_no = decided["case_no"].to_numpy(np.int64)
    pairs = np.unique(group.astype(np.int64) * (int(case_no.max()) + 1) + case_no)
    counts = {
        "items": count(observed), "pending": count(~observed),
        "cases": np.bincount(pairs // (int(case_no.max()) + 1), minlength=n_groups),
        "approvals": count(outcome.isin(["approve", "auto_approve"]).to_numpy(bool)
                           & observed),
        "rejections": count(rejected & observed),
        "returns": count((outcome == "return").to_numpy(bool) & observed),
        "rejects": count((outcome == "reject").to_numpy(bool) & observed),
        "caught": count(decided["caught_downstream"].to_numpy(bool)),
        "recorded": count((source == "recorded").to_numpy(bool) & known),
        "inferred": count((source == "inferred").to_numpy(bool) & known),
    }
    tables = [_rows("order", n_groups, node=node, ptype=ptype, first_case=case_ids[first],
                    first_seq=seqs[first]),
              per_group("count", _COUNTS, n=np.stack([counts[c] for c in _COUNTS], axis=1)
                        .ravel())]
    sums = []
    for col in _WAITS:
        w = decided[col].to_numpy(float)
        has = ~np.isnan(w)
        sums.append((count(has), np.bincount(group[has], weights=w[has],
                                             minlength=n_groups)))
        waits = _counted(pd.DataFrame({"g": group, "value": w, "observed": observed}),
                         ["g", "value", "observed"])
        g = waits["g"].to_numpy(np.int64)
        tables.append(_rows("wait", len(waits), node=node[g], ptype=ptype[g],
                            name=np.full(len(waits), col, object), value=waits["value"],
                            observed=waits["observed"], n=waits["n"]))
    tables.append(per_group("total", _WAITS, n=np.stack([n for n, _ in sums], axis=1).ravel(),
                            x=np.stack([x for _, x in sums], axis=1).ravel()))
    # the return reasons: how many of each per group, and the first (case, seq) it appears at
    stopped = np.flatnonzero(rejected & observed)
    reasons = (pd.DataFrame({"g": group[stopped],
                             "name": decided["reason_class"].to_numpy(object)[stopped],
                             "at": stopped})
               .groupby(["g", "name"], sort=False, dropna=False)["at"]
               .agg(["size", "min"]).reset_index())
    g, at = reasons["g"].to_numpy(np.int64), reasons["min"].to_numpy(np.int64)
    tables.append(_rows("reason", len(reasons), node=node[g], ptype=ptype[g],
                        name=reasons["name"].to_numpy(object), n=reasons["size"],
                        first_case=case_ids[at], first_seq=seqs[at]))
    # `_wait_share_parts` indexes its sums by the groups' keys in group order
    at_node, total = one._wait_share_parts(decided, keys, wait_col)
    tables.append(per_group("share", ["at_node", "total"],
                            x=np.stack([at_node.to_numpy(float), total.to_numpy(float)],
                                       axis=1).ravel()))
    return tables


#: The Arrow types of a partition's facts (`_SCHEMA`, without the unit).
_FACTS = pa.schema([("kind", pa.string()), ("node", pa.string()), ("ptype", pa.string()),
                    ("name", pa.string()), ("value", pa.float64()), ("observed", pa.bool_()),
                    ("n", pa.int64()), ("x", pa.float64()), ("first_case", pa.string()),
                    ("first_seq", pa.int64())])


def _rows(kind: str, size: int, **columns) -> pa.Table:
    """`size` rows of `kind` with the columns given (the others null): an Arrow table of
    `_FACTS`. A missing value (None, NaN) is null, as Spark's pandas conversion had it."""
    arrays = {"kind": pa.array(np.full(size, kind, object), pa.string())}
    for field in _FACTS:
        if field.name in columns:
            values = columns[field.name]
            values = values.to_numpy() if isinstance(values, pd.Series) else values
            arrays[field.name] = pa.array(np.asarray(values), from_pandas=True).cast(field.type)
        elif field.name != "kind":
            arrays[field.name] = pa.nulls(size, field.type)
    return pa.table(arrays, schema=_FACTS)


def _counted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The distinct combinations of `by`'s values (missing values included) and how many
    rows have each (`n`)."""
    return frame.groupby(by, dropna=False, sort=False).size().rename("n").reset_index()


def _finish(merged: pd.DataFrame, *, kinds, not_approval, by, basis, wait_col, thresholds,
            calendar: Calendar, as_of, log_info, versions=None) -> one.NecessityResult:
    """The merged facts, finished by the one-machine code."""
    keys = ["node"] + ([by] if by else [])
    merged = merged.astype({"node": object, "ptype": object, "name": object})
    merged["ptype"] = merged["ptype"].where(merged["ptype"].notna(), None)
    merged["gkey"] = list(zip(merged["node"], merged["ptype"]))
    of = {kind: frame for kind, frame in merged.groupby("kind", sort=False)}

    def first(value) -> tuple:
        return (value["first_case"], value["first_seq"])

    order = of.get("order", merged.iloc[:0])
    groups = sorted(order["gkey"], key=lambda k: first(
        order.loc[order["gkey"] == k, "first"].iloc[0]))
    by_group = {kind: dict(tuple(frame.groupby("gkey", sort=False)))
                for kind, frame in of.items() if kind in ("count", "total", "wait", "reason",
                                                          "share")}
    empty = merged.iloc[:0]
    rows, shares = [], {}
    for gkey in groups:
        counts = by_group.get("count", {}).get(gkey, empty)
        count = dict(zip(counts["name"], counts["n"].astype("int64")))
        totals = by_group.get("total", {}).get(gkey, empty)
        total = {r.name: (float(r.x) if r.n else float("nan"))
                 for r in totals.itertuples(index=False)}
        waits = by_group.get("wait", {}).get(gkey, empty)
        wait = {}
        for col in _WAITS:
            w = waits[waits["name"] == col]
            wait[col] = (w["value"].to_numpy(float), w["observed"].to_numpy(bool),
                         w["n"].to_numpy(np.int64))
        reasons = by_group.get("reason", {}).get(gkey, empty)
        ranked = sorted(zip(reasons["first"].map(first), reasons["name"], reasons["n"]))
        facts = one.GroupFacts(
            **{name: int(count.get(name, 0)) for name in _COUNTS},
            waits=wait, wait_total=total,
            reasons=[(name, int(n)) for _, name, n in ranked])
        key = [gkey[0]] + ([gkey[1]] if by else [])
        rows.append({**dict(zip(keys, key)), **one._stats_of(facts, wait_col)})
        share = by_group.get("share", {}).get(gkey, empty)
        part = dict(zip(share["name"], share["x"]))
        with np.errstate(invalid="ignore", divide="ignore"):
            shares[tuple(key) if by else key[0]] = np.float64(part["at_node"]) / part["total"]
    index = (pd.MultiIndex.from_tuples(list(shares), names=keys) if by
             else pd.Index(list(shares), name="node", dtype=object))
    wait_share = pd.Series(list(shares.values()), index=index, dtype=float)

    reason_rows = of.get("reason", empty)
    reasons = pd.DataFrame({"node": reason_rows["node"].to_numpy(object),
                            **({by: reason_rows["ptype"].to_numpy(object)} if by else {}),
                            "reason_class": reason_rows["name"].to_numpy(object),
                            "count": reason_rows["n"].to_numpy(np.int64)})
    reasons = (reasons.groupby(keys + ["reason_class"], dropna=False)["count"].sum()
               .reset_index())

    other = of.get("other", empty)
    other_rows = [one._other_node_row(node, frame["value"].to_numpy(float),
                                      frame["observed"].to_numpy(bool),
                                      frame["n"].to_numpy(np.int64))
                  for node, frame in other.groupby("node", sort=False)]
    starts = of.get("first_start", empty)
    first_start = (pd.Timestamp(int(starts["n_min"].min()), unit="us", tz="UTC")
                   .tz_convert(as_of.tz) if len(starts) else as_of)
    return one._result(rows, keys=keys, by=by, wait_share=wait_share, kinds=kinds,
                       reasons=reasons, thresholds=thresholds, basis=basis,
                       calendar=calendar.describe(), log_info=log_info, as_of=as_of,
                       not_approval=not_approval,
                       other_nodes=one._other_nodes_table(other_rows, kinds), versions=versions,
                       warnings=tuple(calendar.coverage_warnings(first_start, as_of)),
                       items=None)


__all__: Sequence[str] = ["compare_units", "necessity", "necessity_by_unit"]
