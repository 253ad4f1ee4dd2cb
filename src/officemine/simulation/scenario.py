"""Redesign scenarios: typed changes to approval routes, read from TOML or built in Python.

A scenario is a name and a list of changes, applied in order::

    name = "取消综合办公室审核，财务一次性告知"
    process = "费用报销"            # optional: only this process type (or a list of them)
    [[change]]
    kind = "remove"                 # the node disappears from every route
    node = "综合办公室审核"
    [[change]]
    kind = "reduce_returns"         # 一次性告知: a share of this node's returns no longer happen
    node = "财务初审"
    fraction = 0.8
    reason = "材料不全"              # optional: a reason class, or text found in the comment

Kinds (every change also takes an optional ``process``):

==================  ==========================================================================
``remove``          ``node``: the node disappears; its returns and rejections vanish
``record_only``     ``node``: 备案制 — informed, no longer blocking; its returns vanish
``parallel``        ``nodes = [...]``: 会签 — they run at once, the item waits for the slowest
``fast_track``      ``when``, ``nodes``: 绿色通道 — matching cases pass only the listed nodes
``short_route``     ``when``, ``nodes``: 一审一核 — matching routine cases pass only those nodes
``reduce_returns``  ``node``, ``fraction`` (0–1], ``reason``: that share of its returns vanish
``cap_wait``        ``node``, ``hours``: 限时办结 — waits there are cut to N working hours
==================  ==========================================================================

``when`` is a small safe expression over case attributes (see `officemine.simulation._expr`).
Every problem is collected and reported in one `ScenarioError`: first those visible in the
file alone (on construction), then, before anything runs, those against the log
(:meth:`Scenario.check`): unknown nodes or process types, columns the log lacks, values it never
has, routes left empty.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd

from officemine.base.errors import ScenarioError
from officemine.base.settings import ListOf, Table, Tagged, Value, json_schema, load
from officemine.simulation._expr import ExpressionError, WhenExpr, clipped

__all__ = [
    "ScenarioError", "Scenario", "Change", "Remove", "RecordOnly", "Parallel", "FastTrack",
    "ShortRoute", "ReduceReturns", "CapWait", "CHANGE_KINDS", "load_scenario",
]

ChangeKind = Literal["remove", "record_only", "parallel", "fast_track", "short_route",
                     "reduce_returns", "cap_wait"]
KINDS: tuple[str, ...] = get_args(ChangeKind)


# --- changes ---------------------------------------------------------------------------------

def _text(value: object, what: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{what} must be a non-empty text, not {value!r}")
        return ""
    return value.strip()


def _texts(value: object, what: str, problems: list[str], minimum: int = 1) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        problems.append(f"{what} must be a list of node names like [\"财务初审\", \"财务复核\"], "
                        f"not {value!r}")
        return ()
    out = tuple(_text(v, f"{what} item", problems) for v in value)
    if len(out) < minimum:
        problems.append(f"{what} must list at least {minimum} node(s)"
                        + (" (an empty route)" if minimum == 1 else ""))
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        problems.append(f"{what} lists {', '.join(dup)} more than once")
    return out


@dataclass(frozen=True, kw_only=True)
class Change:
    """One change of a scenario; ``process`` limits it to one process type."""

    kind: ClassVar[str] = ""
    process: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.process is not None:
            object.__setattr__(self, "process", _text(self.process, "process", problems))
        self._normalise(problems)
        if problems:
            raise ScenarioError([f"({self.kind}) {p}" for p in problems])

    def _normalise(self, problems: list[str]) -> None:  # overridden
        pass

    @property
    def nodes_named(self) -> tuple[str, ...]:
        """Every node this change names."""
        if hasattr(self, "node"):
            return (self.node,)  # type: ignore[attr-defined]
        return tuple(getattr(self, "nodes", ()))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def describe(self) -> str:
        """One line a manager can read."""
        raise NotImplementedError

    def _scope(self) -> str:
        return f"（{self.process}）" if self.process else ""


@dataclass(frozen=True, kw_only=True)
class Remove(Change):
    """The node disappears from every route; its returns and rejections vanish."""

    kind: ClassVar[str] = "remove"
    node: str

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "node", _text(self.node, "node", problems))

    def describe(self) -> str:
        return f"取消{self.node}{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class RecordOnly(Change):
    """备案制: the node is informed but no longer blocks; its returns vanish."""

    kind: ClassVar[str] = "record_only"
    node: str

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "node", _text(self.node, "node", problems))

    def describe(self) -> str:
        return f"{self.node}改为备案{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class Parallel(Change):
    """会签: the nodes run at the same time; the item waits for the slowest."""

    kind: ClassVar[str] = "parallel"
    nodes: tuple[str, ...]

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "nodes", _texts(self.nodes, "nodes", problems, minimum=2))

    def describe(self) -> str:
        return f"{'、'.join(self.nodes)}并行会签{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class _Route(Change):
    when: str
    nodes: tuple[str, ...]
    expr: WhenExpr = field(init=False, repr=False, compare=False)

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "nodes", _texts(self.nodes, "nodes", problems, minimum=1))
        try:
            object.__setattr__(self, "expr", WhenExpr.parse(self.when))
            object.__setattr__(self, "when", self.expr.text)
        except ExpressionError as err:
            problems.append(f"when = {clipped(self.when)} {err}")

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.pop("expr", None)
        return out


@dataclass(frozen=True, kw_only=True)
class FastTrack(_Route):
    """绿色通道: cases matching ``when`` (e.g. ``urgency == "紧急"``) pass only ``nodes``."""

    kind: ClassVar[str] = "fast_track"

    def describe(self) -> str:
        return f"绿色通道：{self.when} 的事项只经{'、'.join(self.nodes)}{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class ShortRoute(_Route):
    """一审一核: routine cases matching ``when`` (e.g. ``amount < 5000``) pass only ``nodes``."""

    kind: ClassVar[str] = "short_route"

    def describe(self) -> str:
        return f"简易流程：{self.when} 的事项只经{'、'.join(self.nodes)}{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class ReduceReturns(Change):
    """一次性告知: a ``fraction`` of the node's returns (with ``reason``, if given) vanish."""

    kind: ClassVar[str] = "reduce_returns"
    node: str
    fraction: float
    reason: str | None = None

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "node", _text(self.node, "node", problems))
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, (int, float)) \
                or not 0 < self.fraction <= 1:
            problems.append(f"fraction must be a number in (0, 1], not {self.fraction!r}")
        else:
            object.__setattr__(self, "fraction", float(self.fraction))
        if self.reason is not None:
            object.__setattr__(self, "reason", _text(self.reason, "reason", problems))

    def describe(self) -> str:
        why = f"因{self.reason}" if self.reason else ""
        return f"{self.node}{why}退回减少{self.fraction:.0%}{self._scope()}"


@dataclass(frozen=True, kw_only=True)
class CapWait(Change):
    """限时办结: waits at the node longer than ``hours`` working hours are cut to ``hours``."""

    kind: ClassVar[str] = "cap_wait"
    node: str
    hours: float

    def _normalise(self, problems: list[str]) -> None:
        object.__setattr__(self, "node", _text(self.node, "node", problems))
        if isinstance(self.hours, bool) or not isinstance(self.hours, (int, float)) \
                or not self.hours > 0 or not np.isfinite(self.hours):
            problems.append(f"hours must be a positive number of working hours, not {self.hours!r}")
        else:
            object.__setattr__(self, "hours", float(self.hours))

    def describe(self) -> str:
        return f"{self.node}限时{self.hours:g}个工作小时办结{self._scope()}"


CHANGE_KINDS: dict[str, type[Change]] = {
    cls.kind: cls for cls in (Remove, RecordOnly, Parallel, FastTrack, ShortRoute,
                              ReduceReturns, CapWait)
}
assert tuple(CHANGE_KINDS) == KINDS


def _spec() -> Table:
    """The keys of a scenario file: each change takes the fields of its kind's class."""
    node = {"type": "string", "minLength": 1}
    nodes = {"type": "array", "items": node, "minItems": 1, "uniqueItems": True}
    values = {
        "node": node, "nodes": nodes, "when": {"type": "string", "minLength": 1},
        "fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "reason": {"type": "string"}, "hours": {"type": "number", "exclusiveMinimum": 0},
        "process": {"type": "string"},
    }
    variants = {}
    for kind, cls in CHANGE_KINDS.items():
        keys: dict[str, Value] = {"kind": Value({"const": kind})}
        for f in fields(cls):
            if f.init:
                keys[f.name] = Value({**nodes, "minItems": 2} if (kind, f.name) == (
                    "parallel", "nodes") else values[f.name])
        variants[kind] = Table(keys, (cls.__doc__ or "").strip().splitlines()[0],
                               required=("kind", *_required(cls)))
    return Table({
        "name": Value({"type": "string", "minLength": 1}),
        "description": Value({"type": "string"}),
        "process": Value({"anyOf": [{"type": "string"}, {"type": "array", "items": node}]},
                         "only these process types"),
        "change": ListOf(Tagged("kind", variants), "the changes, applied in order",
                         min_items=1),
    }, required=("name", "change"))


# --- the scenario ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    """A named list of changes, applied in order, optionally limited to some process types.

    >>> s = Scenario("取消综合办公室审核", [Remove(node="综合办公室审核")], process="费用报销")
    >>> s.changes[0].describe()
    '取消综合办公室审核'
    """

    name: str
    changes: Sequence[Change]
    process: str | Sequence[str] | None = None
    description: str = ""
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(f"name must be a non-empty text, not {self.name!r}")
        changes = tuple(self.changes) if isinstance(self.changes, Iterable) else ()
        if not changes:
            problems.append("no changes: add at least one [[change]]")
        for i, change in enumerate(changes, 1):
            if not isinstance(change, Change):
                problems.append(f"change #{i} is {type(change).__name__}, not a Change")
        process = self.process
        if isinstance(process, str):
            process = (process,)
        if process is not None:
            process = _texts(process, "process", problems)
        if problems:
            raise ScenarioError(problems, name=self.name if isinstance(self.name, str) else None,
                                source=self.source)
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "changes", changes)
        object.__setattr__(self, "process", process)

    # --- construction -----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "Scenario":
        """Build from the TOML structure; every problem in the data is listed at once."""
        if not isinstance(data, Mapping):
            raise ScenarioError([f"expected a table, not {type(data).__name__}"], source=source)
        return cls._build(load(data, SPEC, error=ScenarioError, name=source))

    @classmethod
    def _build(cls, loaded) -> "Scenario":
        data, problems, source = loaded.data, loaded.problems, loaded.source
        name = data.get("name")
        if name is None:
            problems.append('name is missing (name = "…")')
        raw_changes = data.get("change", [])
        if isinstance(raw_changes, Mapping):
            raw_changes = [raw_changes]
        if not isinstance(raw_changes, list):
            problems.append("change must be an array of tables ([[change]])")
            raw_changes = []
        if not raw_changes:
            problems.append("no changes: add at least one [[change]] table")
        changes: list[Change] = []
        for i, raw in enumerate(raw_changes, 1):
            try:
                change = _change_from_dict(raw)
            except ScenarioError as err:
                for p in err.problems:
                    problems.add(p.message, "change", i)
            else:
                if change is not None:
                    changes.append(change)
        description = data.get("description", "")
        if not isinstance(description, str):
            problems.append("description must be text")
        label = name if isinstance(name, str) else None
        try:
            if problems:
                raise ScenarioError([])
            return cls(name, changes, process=data.get("process"), description=description,
                       source=source)
        except ScenarioError as err:
            problems.extend(err.problems)
            raise ScenarioError(list(problems), name=label, source=source) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "Scenario":
        """Read a scenario file (see the module docstring for the format)."""
        return cls._build(load(path, SPEC, error=ScenarioError, what="scenario file"))

    # --- description ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        if self.process is not None:
            out["process"] = list(self.process)
        if self.description:
            out["description"] = self.description
        out["change"] = [c.to_dict() for c in self.changes]
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def describe(self) -> str:
        scope = f"（{'、'.join(self.process)}）" if self.process else ""
        return f"{self.name}{scope}: " + "；".join(c.describe() for c in self.changes)

    def __repr__(self) -> str:
        return f"<Scenario {self.describe()}>"

    @staticmethod
    def json_schema() -> dict:
        """The JSON schema of a scenario file (TOML maps onto it one to one)."""
        return json_schema(SPEC, title="officemine scenario")

    # --- against a log ----------------------------------------------------------------------
    def check(self, log_or_tables: Any, calendar: Any = None) -> None:
        """Raise `ScenarioError` listing every way the scenario does not fit the log."""
        from officemine.simulation._log import LogTables, load_tables

        tables = log_or_tables
        if not isinstance(tables, LogTables):
            tables = load_tables(log_or_tables, calendar or log_or_tables.calendar)
        problems = _log_problems(self, tables)
        if problems:
            raise ScenarioError(problems, name=self.name, source=self.source)


def _required(cls: type[Change]) -> list[str]:
    from dataclasses import MISSING
    return [f.name for f in fields(cls)
            if f.init and f.default is MISSING and f.default_factory is MISSING]


#: The keys of a scenario file.
SPEC = _spec()


def _change_from_dict(raw: object) -> Change | None:
    """The change `raw` describes; None when it has keys its kind does not take (the loader
    reports them)."""
    if not isinstance(raw, Mapping):
        raise ScenarioError([f"must be a table, not {raw!r}"])
    kind = raw.get("kind")
    if kind not in CHANGE_KINDS:
        hint = difflib.get_close_matches(str(kind), KINDS, n=1)
        raise ScenarioError([
            ("no kind" if kind is None else f"unknown kind {kind!r}")
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; kinds: {', '.join(KINDS)}"])
    cls = CHANGE_KINDS[kind]
    allowed = {f.name for f in fields(cls) if f.init}
    missing = [k for k in _required(cls) if k not in raw]
    if missing:
        raise ScenarioError([f"({kind}) needs {', '.join(missing)}"])
    if set(raw) - allowed - {"kind"}:
        return None
    return cls(**{k: v for k, v in raw.items() if k != "kind"})


def load_scenario(source: str | Path | Mapping | Scenario) -> Scenario:
    """A scenario from a TOML path, a dict of the same structure, or a `Scenario` as is."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return Scenario.from_dict(source)
    return Scenario.from_toml(source)


# --- validation against the log ---------------------------------------------------------------

def _suggest(name: str, known: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.4)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _log_problems(scenario: Scenario, tables) -> list[str]:
    """Every way the scenario does not fit the log (empty: it fits)."""
    fit = _Fit(scenario, tables)
    removed: dict[tuple[str | None, str], int] = {}   # (process, node) -> change number
    parallel_seen: dict[str, int] = {}                 # node -> change number
    for i, change in enumerate(scenario.changes, 1):
        what = f"change #{i} ({change.kind})"
        if change.process is not None:
            if not fit.process_known(change.process, what):
                continue
            if fit.scope_all and change.process not in fit.scope_all:
                fit.problems.append(f"{what}: process {change.process!r} is outside the "
                                    f"scenario's process {', '.join(fit.scope_all)}")
                continue
        scope = fit.scope_of(change)
        ok_nodes = [n for n in change.nodes_named if fit.node_known(n, what, scope)]
        for node in ok_nodes:
            for proc in scope:
                if (proc, node) in removed:
                    fit.problems.append(f"{what}: node {node!r} was already removed by change "
                                        f"#{removed[(proc, node)]}")
                    break
        if isinstance(change, (Remove, RecordOnly)) and ok_nodes:
            for proc in scope:
                removed[(proc, change.node)] = i
        elif isinstance(change, Parallel):
            _parallel_problems(fit, change, i, what, ok_nodes, scope, parallel_seen)
        elif isinstance(change, (FastTrack, ShortRoute)) and hasattr(change, "expr"):
            _route_problems(fit, change, what, scope, removed)
        elif isinstance(change, ReduceReturns) and ok_nodes:
            _return_problems(fit, change, what, scope)
    # a process left with no approval node at all
    for proc, nodes in fit.by_proc.items():
        gone = {n for (p, n) in removed if p == proc}
        if nodes and nodes <= gone:
            fit.problems.append(f"empty route: the changes remove every approval node of "
                                f"{proc or 'cases without process type'} "
                                f"({', '.join(sorted(nodes))})")
    return fit.problems


class _Fit:
    """What a scenario's changes are held against (the log's process types, approval nodes
    per process type and steps of other kinds), and the problems found so far."""

    def __init__(self, scenario: Scenario, tables) -> None:
        self.tables = tables
        self.problems: list[str] = []
        self.procs_known = sorted({p for p in tables.cases["process_type"].dropna().unique()})
        self.by_proc = tables.approval_nodes
        self.approval_all = set().union(*self.by_proc.values()) if self.by_proc else set()
        self.roles = tables.roles
        self.scope_all = list(scenario.process) if scenario.process else None
        if self.scope_all:
            self.scope_all = [p for p in self.scope_all if self.process_known(p, "process")]

    def process_known(self, proc: str, what: str) -> bool:
        """Whether the log has process type `proc` (if not, a problem says so)."""
        if proc not in self.procs_known:
            listed = (", ".join(self.procs_known) if self.procs_known
                      else "none (the log has no process_type)")
            self.problems.append(f"{what}: the log has no process type {proc!r}"
                                 f"{_suggest(proc, self.procs_known)}; it has: {listed}")
            return False
        return True

    def scope_of(self, change: Change) -> list[str | None]:
        """The process types a change applies to: its own, else the scenario's, else all."""
        if change.process is not None:
            return [change.process]
        if self.scope_all:
            return list(self.scope_all)
        return list(self.by_proc)

    def node_known(self, node: str, what: str, scope: list) -> bool:
        """Whether `node` is an approval node on the routes of `scope` (if not, a problem
        says why)."""
        approval_all = self.approval_all
        if node in approval_all:
            nodes_in_scope = (set().union(*(self.by_proc.get(p, set()) for p in scope))
                              if scope else set())
            if scope and node not in nodes_in_scope:
                self.problems.append(f"{what}: node {node!r} is not on the routes of "
                                     f"{', '.join(str(p) for p in scope)}")
                return False
            return True
        if node in self.roles:
            self.problems.append(f"{what}: node {node!r} is a {self.roles[node]} step, not a "
                                 "step of the chain a redesign can change (its kind: "
                                 "officemine.log.relations.node_kinds)")
        else:
            self.problems.append(f"{what}: no node {node!r} in the log"
                                 f"{_suggest(node, approval_all)}; approval nodes: "
                                 f"{', '.join(sorted(approval_all))}")
        return False


def _parallel_problems(fit: _Fit, change: Parallel, number: int, what: str,
                       ok_nodes: list[str], scope: list, parallel_seen: dict[str, int]) -> None:
    """A parallel group (change `number`) must not share a node with an earlier one, and
    its nodes must occur together in some case."""
    for node in ok_nodes:
        if node in parallel_seen:
            fit.problems.append(f"{what}: node {node!r} is already in the parallel group of "
                                f"change #{parallel_seen[node]}")
        parallel_seen[node] = number
    if len(ok_nodes) == len(change.nodes):
        together = _cooccur(fit.tables, change.nodes, scope)
        if not together:
            fit.problems.append(f"{what}: no case passes all of {', '.join(change.nodes)}, "
                                "so nothing can run in parallel")


def _route_problems(fit: _Fit, change: FastTrack | ShortRoute, what: str, scope: list,
                    removed: dict[tuple[str | None, str], int]) -> None:
    """A fast track's or short route's `when` must match cases of its scope, and leave the
    cases it matches some approval node to pass."""
    tables, by_proc = fit.tables, fit.by_proc
    case_frame = _case_frame(tables)
    matched = _when_problems(change, what, case_frame, tables, fit.problems)
    if matched is None:
        return
    in_scope = case_frame["process_type"].isin([p for p in scope if p is not None])
    if None in scope:
        in_scope |= case_frame["process_type"].isna()
    hit = matched & in_scope.to_numpy(dtype=bool)
    if not hit.any():
        fit.problems.append(f"{what}: when = {change.when!r} matches no case"
                            + (f" of {', '.join(map(str, scope))}"
                               if change.process or fit.scope_all else ""))
        return
    for proc in sorted({p for p in case_frame.loc[hit, "process_type"]},
                       key=lambda p: (p is None, str(p))):
        key = proc if isinstance(proc, str) else None
        left = set(change.nodes) & by_proc.get(key, set())
        left -= {n for (p, n) in removed if p == key}
        if not left:
            fit.problems.append(
                f"{what}: empty route: {key or 'cases without process type'} cases "
                f"matching {change.when!r} would pass none of {', '.join(change.nodes)} "
                f"(their nodes: {', '.join(sorted(by_proc.get(key, set())))}); add "
                f"process = \"…\" to limit the change")


def _return_problems(fit: _Fit, change: ReduceReturns, what: str, scope: list) -> None:
    """Returns to reduce must exist at the node, and of the reason named (if one is)."""
    from officemine.necessity import classify_reason

    at = fit.tables.visits_ending(change.node, "return",
                                  scope if scope and None not in scope else None)
    if at.empty:
        fit.problems.append(f"{what}: node {change.node!r} never returns an item in the log, "
                            "so there are no returns to reduce")
    elif change.reason is not None:
        comments = at["comment"]
        # classified once per distinct comment (the same as comments.map(classify_reason))
        codes, uniq = pd.factorize(comments.astype(object))
        names = np.array([classify_reason(c) for c in uniq] + [classify_reason(None)],
                         dtype=object)
        classes = pd.Series(names[codes], index=comments.index)
        hit = classes.eq(change.reason) | comments.fillna("").str.contains(
            change.reason, regex=False)
        if not hit.any():
            counts = classes.value_counts()
            listed = ", ".join(f"{k} ({v})" for k, v in counts.items())
            fit.problems.append(f"{what}: no return at {change.node!r} has reason "
                                f"{change.reason!r} (neither a reason class nor text in the "
                                f"comment); its return reasons: {listed}")


def _case_frame(tables) -> pd.DataFrame:
    return tables.cases


def _cooccur(tables, nodes: Sequence[str], scope: list) -> bool:
    """Whether some case (of the scope) visits every one of ``nodes``."""
    e = tables.every
    codes = [tables.node_codes[n] for n in set(nodes) if n in tables.node_codes]
    sel = np.isin(e["node_code"], codes)
    if scope and None not in scope:
        sel &= tables.process_mask(scope)[e["case"]]
    stride = len(tables.node_codes) + 1
    pairs = np.unique(e["case"][sel] * stride + e["node_code"][sel])
    per_case = np.bincount(pairs // stride) if pairs.size else np.zeros(0, dtype=np.int64)
    return bool((per_case == len(set(nodes))).any())


def _when_problems(change: "_Route", what: str, cases: pd.DataFrame, tables,
                   problems: list[str]) -> np.ndarray | None:
    """Check the columns and literals of `when` against the log; the match mask if usable."""
    from officemine.log.schema import CASE_ATTRIBUTES

    expr = change.expr
    known = [c for c in (*CASE_ATTRIBUTES, *tables.extra_columns)
             if c in cases and cases[c].notna().any()]
    bad = False
    for name in expr.names:
        if name not in known:
            problems.append(f"{what}: when = {change.when!r} uses {name!r}, which is not a case "
                            f"column of the log{_suggest(name, known)}; columns: "
                            f"{', '.join(known) or 'none'}")
            bad = True
    if bad:
        return None
    for comp in expr.comparisons:
        col = cases[comp.column]
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)
        values = comp.value if isinstance(comp.value, tuple) else (comp.value,)
        for value in values:
            is_num = isinstance(value, (int, float)) and not isinstance(value, bool)
            if numeric and not is_num:
                problems.append(f"{what}: when = {change.when!r} compares the number column "
                                f"{comp.column!r} with {value!r}")
                bad = True
            elif not numeric and is_num:
                problems.append(f"{what}: when = {change.when!r} compares the text column "
                                f"{comp.column!r} with the number {value!r}; quote it")
                bad = True
            elif not numeric and comp.op in ("==", "!=", "in", "not in"):
                seen = col.dropna().unique()
                if len(seen) <= 200 and value not in set(seen):
                    shown = ", ".join(map(str, sorted(seen)[:20]))
                    problems.append(f"{what}: when = {change.when!r}: {comp.column} is never "
                                    f"{value!r} in the log{_suggest(str(value), map(str, seen))}; "
                                    f"values: {shown}")
                    bad = True
            elif not numeric and comp.op in ("<", "<=", ">", ">="):
                problems.append(f"{what}: when = {change.when!r} orders the text column "
                                f"{comp.column!r}; use == or in")
                bad = True
    if bad:
        return None
    try:
        return expr.evaluate(cases)
    except (TypeError, ValueError) as err:
        problems.append(f"{what}: when = {change.when!r} cannot be evaluated: {err}")
        return None
