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
    float `value` column) and its count columns (summed when parts are added up)."""

    text: tuple[str, ...]
    whole: tuple[str, ...]
    valued: bool
    counts: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        return [*self.text, *self.whole, *(["value"] if self.valued else [])]


#: The tables of a discovery's facts. ``basis`` is ``hours`` (clock), ``workhours`` or
#: ``workdays`` (of the calendar); ``returned`` is 1 for cases with at least one return.
TABLES: dict[str, Spec] = {
    "paths": Spec(("path", "trace"), ("steps", "return_steps"), False, ("cases", "completed")),
    "cycle": Spec(("path", "basis"), ("returned",), True, ("n",)),
    "rounds": Spec((), ("rounds",), False, ("cases",)),
    "nodes": Spec(("node",), (), False, ("visits", "cases", "starts", "ends")),
    "position": Spec(("node",), ("number",), False, ("n",)),
    "items": Spec(("node",), (), False, ("items", "recorded", "pending")),
    "waits": Spec(("node", "basis"), (), True, ("n",)),
    "arcs": Spec(("source", "target", "kind"), (), False, ("transitions", "cases")),
    "arc_times": Spec(("source", "target", "kind", "basis"), (), True, ("n",)),
    "targets": Spec(("from_node", "to_node"), (), False, ("returns",)),
    "decisions": Spec(("node",), (), False, ("decisions", "returns", "cases_returned")),
    "handoffs": Spec(("from_dept", "to_dept"), (), False, ("handoffs", "cases")),
    "handoff_times": Spec(("from_dept", "to_dept", "basis"), (), True, ("n",)),
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


def value_counts(name: str, keys: dict, values: np.ndarray) -> pd.DataFrame:
    """A valued facts table: how many times each value (NaN left out) occurs with each
    combination of `keys` (name -> array of the same length)."""
    values = np.asarray(values, dtype=float)
    known = ~np.isnan(values)
    frame = pd.DataFrame({**{k: np.asarray(v)[known] for k, v in keys.items()},
                          "value": values[known]})
    spec = TABLES[name]
    if not len(frame):
        return table(name, {c: [] for c in [*spec.keys, *spec.counts]}).astype(
            {"value": float, **{c: np.int64 for c in spec.counts}})
    counted = frame.groupby(list(frame.columns), sort=False, dropna=False).size()
    return table(name, {**{c: counted.index.get_level_values(c) for c in frame.columns},
                        "n": counted.to_numpy(np.int64)})


def counted_medians(group: np.ndarray, values: np.ndarray, counts: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """The median of each group 0 … n_groups-1 of values counted `counts` times (NaN for an
    empty group): the value in the middle of the group's sorted values, or the mean of the
    two in the middle — what pandas' and numpy's medians give on the values themselves."""
    out = np.full(n_groups, np.nan)
    if len(values) == 0:
        return out
    group = np.asarray(group, dtype=np.int64)
    order = np.lexsort((values, group))
    v = np.asarray(values, dtype=float)[order]
    cum = np.cumsum(np.asarray(counts, dtype=np.int64)[order])
    total = np.bincount(group, weights=counts, minlength=n_groups).astype(np.int64)
    before = np.cumsum(total) - total
    has = total > 0
    low = v[np.searchsorted(cum, (before + (total - 1) // 2)[has], side="right")]
    high = v[np.searchsorted(cum, (before + total // 2)[has], side="right")]
    out[has] = (low + high) / 2
    return out


def expanded(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The counted values themselves, sorted (for the statistics that need every one)."""
    order = np.argsort(values, kind="stable")
    return np.repeat(np.asarray(values, dtype=float)[order],
                     np.asarray(counts, dtype=np.int64)[order])


# --- adding facts up -------------------------------------------------------------------------
def merge(parts: list[DiscoveryFacts]) -> DiscoveryFacts:
    """The facts of the parts' cases together (each part a set of whole cases)."""
    scalars = {}
    for name in SCALARS:
        known = [p.scalars[name] for p in parts if p.scalars.get(name) is not None]
        pick = min if name == "start" else max if name == "end" else sum
        scalars[name] = pick(known) if known else (None if name in ("start", "end") else 0)
    tables = {}
    for name, spec in TABLES.items():
        frame = pd.concat([p.tables[name] for p in parts], ignore_index=True)
        tables[name] = _summed(frame, spec)
    return DiscoveryFacts(scalars, tables)


def _summed(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    if not len(frame):
        return frame.reset_index(drop=True)
    summed = frame.groupby(spec.keys, sort=False, dropna=False)[list(spec.counts)].sum()
    return summed.reset_index()


#: The long format the Spark engine adds facts up in: one row per fact, its table in `kind`,
#: text keys in s1…s4, whole-number keys in i1, i2, the counted value, counts in c1…c4.
ROW_SCHEMA = ("kind string, s1 string, s2 string, s3 string, s4 string, i1 long, i2 long, "
              "value double, c1 long, c2 long, c3 long, c4 long")
ROW_KEYS = ["kind", "s1", "s2", "s3", "s4", "i1", "i2", "value"]
ROW_COUNTS = ["c1", "c2", "c3", "c4"]


def to_rows(facts: DiscoveryFacts) -> pd.DataFrame:
    """`facts` in the long format (`ROW_SCHEMA`); scalars are rows of kind ``scalar``."""
    frames = [pd.DataFrame({"kind": "scalar", "s1": list(SCALARS),
                            "c1": pd.array([facts.scalars.get(s) for s in SCALARS],
                                           dtype="Int64")})]
    for name, spec in TABLES.items():
        t = facts.tables[name]
        frame = pd.DataFrame({"kind": pd.Series([name] * len(t), dtype=object)})
        for slot, col in zip(("s1", "s2", "s3", "s4"), spec.text):
            frame[slot] = t[col].to_numpy(object)
        for slot, col in zip(("i1", "i2"), spec.whole):
            frame[slot] = t[col].to_numpy(np.int64)
        if spec.valued:
            frame["value"] = t["value"].to_numpy(float)
        for slot, col in zip(ROW_COUNTS, spec.counts):
            frame[slot] = t[col].to_numpy(np.int64)
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True).reindex(columns=[*ROW_KEYS, *ROW_COUNTS])
    # plain Python objects and numpy numbers: what pyspark converts in every version
    for text in ("kind", "s1", "s2", "s3", "s4"):
        rows[text] = rows[text].astype(object).where(rows[text].notna(), None)
    return rows.astype({"i1": object, "i2": object, "value": float,
                        **{c: object for c in ROW_COUNTS}})


def from_rows(rows: pd.DataFrame, start: int | None, end: int | None) -> DiscoveryFacts:
    """Facts from long rows already added up (counts summed per key); `start` and `end` are
    the smallest start and the largest end of the parts."""
    rows = rows.reset_index(drop=True)
    of = dict(tuple(rows.groupby("kind", sort=False)))
    scalar = of.get("scalar", rows.iloc[:0])
    scalars = {name: 0 for name in SCALARS}          # no part had a case in scope
    scalars.update({name: int(n) for name, n in zip(scalar["s1"], scalar["c1"]) if pd.notna(n)})
    scalars.update(start=start, end=end)
    tables = {}
    for name, spec in TABLES.items():
        part = of.get(name, rows.iloc[:0])
        columns = {}
        for slot, col in zip(("s1", "s2", "s3", "s4"), spec.text):
            values = part[slot].astype(object)
            columns[col] = values.where(values.notna(), None).to_numpy(object)
        for slot, col in zip(("i1", "i2"), spec.whole):
            columns[col] = part[slot].to_numpy(np.int64)
        if spec.valued:
            columns["value"] = part["value"].to_numpy(float)
        for slot, col in zip(ROW_COUNTS, spec.counts):
            columns[col] = part[slot].to_numpy(np.int64)
        tables[name] = table(name, columns)
    return DiscoveryFacts(scalars, tables)
