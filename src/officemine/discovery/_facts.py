"""What a discovery counts, kept apart from what it concludes.

A discovery first reads its scope into *facts* — tables of counts that add up over parts of
the log made of whole cases: visits and cases per node, transitions per arc, cases per path,
and every time a median is taken of as counts per value (cycle times per path, waits per
node, transition times per arc). The analyses finish from the facts alone: medians from the
counted values, orders, shares, the bootstrap and the test of rework's effect. One machine
reads the whole log into one set of facts; the Spark engine (`officemine.spark.discover`)
reads each partition of whole cases with the same code, adds the facts up and finishes with
the same code, so both give the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Spec:
    """One table of facts: its text keys, whole-number keys, whether it counts values (a
    float `value` column) and its count columns (summed when parts are added up).

    A table of values counted per row of another table (`parent`) refers to that row by its
    position (column ``at``); where parts are added up, by the parent's `parent_keys`."""

    text: tuple[str, ...]
    whole: tuple[str, ...]
    valued: bool
    counts: tuple[str, ...]
    parent: str | None = None
    parent_keys: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [*(["at"] if self.parent else []), *self.text, *self.whole,
                *(["value"] if self.valued else [])]


#: The tables of a discovery's facts; the times counted per value are in clock hours
#: (``_hours``), working hours (``_workhours``) or working days (``_workdays``) of the
#: calendar. ``returned`` is 1 for cases with at least one return.
TABLES: dict[str, Spec] = {
    "paths": Spec(("path", "trace"), ("steps", "return_steps"), False, ("cases", "completed")),
    **{f"cycle_{b}": Spec((), ("returned",), True, ("n",), "paths", ("path",))
       for b in ("hours", "workdays")},
    "rounds": Spec((), ("rounds",), False, ("cases",)),
    "nodes": Spec(("node",), (), False, ("visits", "cases", "starts", "ends")),
    "position": Spec(("node",), ("number",), False, ("n",)),
    "items": Spec(("node",), (), False, ("items", "recorded", "pending")),
    **{f"wait_{b}": Spec((), (), True, ("n",), "items", ("node",))
       for b in ("hours", "workhours")},
    "arcs": Spec(("source", "target", "kind"), (), False, ("transitions", "cases")),
    **{f"arc_{b}": Spec((), (), True, ("n",), "arcs", ("source", "target", "kind"))
       for b in ("hours", "workhours")},
    "targets": Spec(("from_node", "to_node"), (), False, ("returns",)),
    "decisions": Spec(("node",), (), False, ("decisions", "returns", "cases_returned")),
    "handoffs": Spec(("from_dept", "to_dept"), (), False, ("handoffs", "cases")),
    **{f"handoff_{b}": Spec((), (), True, ("n",), "handoffs", ("from_dept", "to_dept"))
       for b in ("hours", "workhours")},
    "per_case": Spec(("process_type",), ("handoffs",), False, ("cases",)),
}

#: Scalar facts: summed, except the scope's first (`start`, smallest) and last (`end`,
#: largest) action, in microseconds since the epoch (None: no action).
SCALARS = ("events", "cases", "cases_with_returns", "pairs_total", "pairs_unknown_dept",
           "start", "end")


@dataclass(frozen=True, eq=False)
class DiscoveryFacts:
    """The counts a discovery of one scope finishes from (see the module)."""

    scalars: dict
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def __getitem__(self, name: str):
        return self.tables[name] if name in self.tables else self.scalars[name]


def table(name: str, columns: dict) -> pd.DataFrame:
    """A facts table `name` from its columns (in `TABLES` order)."""
    spec = TABLES[name]
    return pd.DataFrame({c: columns[c] for c in [*spec.keys, *spec.counts]})


def each_value(name: str, at: np.ndarray, values: np.ndarray, **whole) -> pd.DataFrame:
    """A valued facts table of values as they are (each counted once; NaN left out), each
    with the row of the parent table it belongs to (`at`) and the table's whole-number keys
    (`whole`); `compacted` counts equal ones together."""
    values = np.asarray(values, dtype=float)
    known = ~np.isnan(values)
    return table(name, {"at": np.asarray(at, dtype=np.int64)[known],
                        **{k: np.asarray(v, dtype=np.int64)[known] for k, v in whole.items()},
                        "value": values[known], "n": np.ones(int(known.sum()), dtype=np.int64)})


def compacted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A valued facts table with one row per parent row, key and value, counting how often
    each occurs."""
    spec = TABLES[name]
    at = frame["at"].to_numpy(np.int64)
    group = at * 2 + frame["returned"].to_numpy(np.int64) if spec.whole else at
    v = frame["value"].to_numpy(float)
    order = _by_group_and_value(group, v)
    group, v, n = group[order], v[order], frame["n"].to_numpy(np.int64)[order]
    new = np.ones(len(group), dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (v[1:] != v[:-1])
    starts = np.flatnonzero(new)
    keys = {"at": group[starts] // 2, "returned": group[starts] % 2} if spec.whole else \
        {"at": group[starts]}
    return table(name, {**keys, "value": v[starts],
                        "n": np.add.reduceat(n, starts) if len(starts) else n[:0]})


def counted_medians(group: np.ndarray, values: np.ndarray, counts: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """The median of each group 0 … n_groups-1 of values counted `counts` times (NaN for an
    empty group): the value in the middle of the group's sorted values, or the mean of the
    two in the middle — what pandas' and numpy's medians give on the values themselves."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    group = np.asarray(group, dtype=np.int64)
    values = np.asarray(values, dtype=float)
    order = _by_group_and_value(group, values)
    v = values[order]
    cum = np.cumsum(np.asarray(counts, dtype=np.int64)[order])
    total = np.bincount(group, weights=counts, minlength=n_groups).astype(np.int64)
    before = np.cumsum(total) - total
    has = total > 0
    low = v[np.searchsorted(cum, (before + (total - 1) // 2)[has], side="right")]
    high = v[np.searchsorted(cum, (before + total // 2)[has], side="right")]
    out[has] = (low + high) / 2
    return out


def _by_group_and_value(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order that sorts by group, then value: a sort of the values, then a stable sort
    of their groups (twice as fast as numpy's lexsort here; radix-sorted when the groups fit
    16 bits)."""
    order = np.argsort(values)       # equal values need no order among themselves
    small = np.int16 if group.max(initial=0) < 2 ** 15 else np.int64
    return order[np.argsort(group[order].astype(small), kind="stable")]


def expanded(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The counted values themselves, sorted (for the statistics that need every one)."""
    order = np.argsort(values)
    return np.repeat(np.asarray(values, dtype=float)[order],
                     np.asarray(counts, dtype=np.int64)[order])


# --- the long format of the Spark engine ---------------------------------------------------
#: One row per fact: its table in `kind`, text keys in s1…s4 (a counted value's parent row
#: by the parent's keys first), whole-number keys in i1, i2, the counted value, counts in
#: c1…c4. Spark adds up the counts of rows with the same keys.
ROW_SCHEMA = ("kind string, s1 string, s2 string, s3 string, s4 string, i1 long, i2 long, "
              "value double, c1 long, c2 long, c3 long, c4 long")
ROW_KEYS = ["kind", "s1", "s2", "s3", "s4", "i1", "i2", "value"]
ROW_COUNTS = ["c1", "c2", "c3", "c4"]
_TEXT = ("s1", "s2", "s3", "s4")


def to_rows(facts: DiscoveryFacts) -> pd.DataFrame:
    """`facts` in the long format (`ROW_SCHEMA`); scalars are rows of kind ``scalar``."""
    frames = [pd.DataFrame({"kind": "scalar", "s1": list(SCALARS),
                            "c1": pd.array([facts.scalars.get(s) for s in SCALARS],
                                           dtype="Int64")})]
    for name, spec in TABLES.items():
        t = facts.tables[name]
        text = [t[c].to_numpy(object) for c in spec.text]
        if spec.valued:      # a partition's values, counted before Spark moves them
            t = compacted(name, t)
        if spec.parent:
            parent, at = facts.tables[spec.parent], t["at"].to_numpy(np.int64)
            text = [parent[c].to_numpy(object)[at] for c in spec.parent_keys] + text
        frame = pd.DataFrame({"kind": pd.Series([name] * len(t), dtype=object)})
        for slot, values in zip(_TEXT, text):
            frame[slot] = values
        for slot, col, kind in _number_slots(spec):
            frame[slot] = t[col].to_numpy(kind)
        frames.append(frame)
    # typed columns (text, nullable whole numbers): each goes to Arrow, and to Spark, as
    # one column, never one Python object per value
    rows = pd.concat([f.reindex(columns=[*ROW_KEYS, *ROW_COUNTS]).astype(_ROW_TYPES)
                      for f in frames], ignore_index=True)
    for text in ("kind", *_TEXT):
        rows[text] = rows[text].where(rows[text].notna(), None)
    return rows


#: The pandas types of the long rows.
_ROW_TYPES = {"kind": object, **{slot: object for slot in _TEXT}, "i1": "Int64",
              "i2": "Int64", "value": float, **{c: "Int64" for c in ROW_COUNTS}}


def from_rows(rows: pd.DataFrame, start: int | None, end: int | None) -> DiscoveryFacts:
    """Facts from long rows already added up (counts summed per key); `start` and `end` are
    the smallest start and the largest end of the parts."""
    rows = rows.reset_index(drop=True)
    of = dict(tuple(rows.groupby("kind", sort=False)))
    scalar = of.get("scalar", rows.iloc[:0])
    scalars = {name: 0 for name in SCALARS}          # no part had a case in scope
    scalars.update({name: int(n) for name, n in zip(scalar["s1"], scalar["c1"]) if pd.notna(n)})
    scalars.update(start=start, end=end)
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in TABLES.items():
        part = of.get(name, rows.iloc[:0])
        text = [_names(part[slot]) for slot in _TEXT]
        columns = {}
        if spec.parent:
            parent = tables[spec.parent]
            index = pd.MultiIndex.from_arrays([parent[c].to_numpy(object)
                                               for c in spec.parent_keys])
            mine = pd.MultiIndex.from_arrays(text[:len(spec.parent_keys)])
            columns["at"] = index.get_indexer(mine) if len(mine) else np.zeros(0, np.int64)
            text = text[len(spec.parent_keys):]
        columns.update(zip(spec.text, text))
        for slot, col, kind in _number_slots(spec):
            columns[col] = part[slot].to_numpy(kind)
        tables[name] = table(name, columns)
    return DiscoveryFacts(scalars, tables)


def _number_slots(spec: Spec) -> list[tuple[str, str, type]]:
    """Where a table's numbers stand in the long rows, both ways: (slot, column, type) of
    its whole numbers, its value if it has one, and its counts."""
    return ([(slot, col, np.int64) for slot, col in zip(("i1", "i2"), spec.whole)]
            + ([("value", "value", float)] if spec.valued else [])
            + [(slot, col, np.int64) for slot, col in zip(ROW_COUNTS, spec.counts)])


def _names(values: pd.Series) -> np.ndarray:
    values = values.astype(object)
    return values.where(values.notna(), None).to_numpy(object)
