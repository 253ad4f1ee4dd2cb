"""Standard procedures (标准流程 / 流程操作手册): read from TOML or BPMN 2.0, validated up front.

A procedure file holds one procedure per process type (and, where the standard changed, one
per period of validity)::

    [roles]                                          # optional roster: role = people
    "总经理" = ["王建国"]

    [[procedure]]
    process_type = "费用报销"
    name = "费用报销标准流程（2025版）"
    valid_from = 2025-07-01                          # optional: cases submitted from this day
    steps = ["部门负责人审核", "财务初审", "综合办公室审核", "分管领导审批", "总经理审批"]
    optional = []                                    # steps that may be left out
    any_order = []                                   # groups of consecutive steps (会签)
    not_by_applicant = ["部门负责人审核"]            # separation of duties
    [procedure.required_when]                        # required only under a condition
    "总经理审批" = "amount >= 50000"
    [procedure.authority]                            # who may decide (departments, people, roles)
    "财务初审" = { depts = ["财务部"] }
    "部门负责人审核" = { depts = ["申请部门"] }      # 申请部门: the applicant's own department
    "总经理审批" = { roles = ["总经理"] }

A procedure may instead name a BPMN 2.0 model (``bpmn = "发文.bpmn"``, relative to the TOML
file; ``bpmn_process`` picks one process of several) and keep ``not_by_applicant`` and
``authority`` in the TOML; a ``.bpmn`` file may also be given on its own (each ``<process>``
named after its process type; one without a name applies to every case). A procedure without
``process_type`` applies to the cases whose process type has none of its own.

Every problem is collected and reported in one `ProcedureError`: first those the file shows
on its own (`Procedures.from_file`), then, before any case is checked, those against the log
(`Procedures.check`): steps that are no node of the log, expressions over columns it lacks,
departments it never records, a file that fits none of its process types.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from officemine.conformance.bpmn import BpmnProcess, read_bpmn
from officemine.conformance.model import (OPTIONAL, REQUIRED, Model, SequenceModel,
                                          direct_follows)
from officemine.base.errors import ProcedureError
from officemine.base.settings import ListOf, MapOf, Table, Value, json_schema, load
from officemine.base.text import Said
from officemine.simulation._expr import ExpressionError, WhenExpr, clipped

__all__ = ["ProcedureError", "Authority", "Procedure", "Procedures", "load_procedures",
           "APPLICANT_DEPT"]

#: In ``authority.depts``: the applicant's own department (部门负责人审核 by the head of the
#: department that applied).
APPLICANT_DEPT = "申请部门"

_SEQUENCE_KEYS = ("steps", "optional", "any_order", "required_when")
_AUTHORITY_KEYS = ("depts", "people", "roles")
_TEXT = {"type": "string", "minLength": 1}
_STEPS = {"type": "array", "items": _TEXT, "uniqueItems": True}
_DATE = {"type": "string", "format": "date"}
#: The keys of a procedure file (TOML).
SPEC = Table({
    "name": Value(_TEXT, "what the file holds, as deliverables name it"),
    "description": Value({"type": "string"}),
    "roles": MapOf(Value(_STEPS, "the people who hold the role"), "role = [people]"),
    "procedure": ListOf(Table({
        "process_type": Value(_TEXT, "the cases it applies to (none: every other type)"),
        "name": Value(_TEXT), "description": Value({"type": "string"}),
        "steps": Value({**_STEPS, "minItems": 1}, "the steps, in order"),
        "optional": Value(_STEPS, "steps that may be left out"),
        "any_order": Value({"type": "array", "items": {**_STEPS, "minItems": 2}},
                           "groups of consecutive steps done in any order (会签)"),
        "not_by_applicant": Value(_STEPS, "steps the applicant may not decide"),
        "required_when": MapOf(Value(_TEXT, "a condition over case columns"),
                               "step = condition under which it is required"),
        "authority": MapOf(Table({key: Value(_STEPS) for key in _AUTHORITY_KEYS},
                                 "who may decide: departments, people or roles"),
                           "step = who may decide"),
        "valid_from": Value(_DATE, "cases submitted from this day"),
        "valid_until": Value(_DATE, "cases submitted before this day"),
        "bpmn": Value(_TEXT, "a BPMN 2.0 model holding the steps (relative to this file)"),
        "bpmn_process": Value(_TEXT, "which process of the BPMN file"),
        "ignore": Value(_STEPS, "nodes whose decisions are not judged"),
    }, "one standard procedure"), "the procedures, one per process type and period",
        min_items=1),
})
#: `Procedures.from_bpmn`: each process for the process type it is named after.
_NAMED = object()


@dataclass(frozen=True)
class Authority:
    """Who may decide at a step: any of these departments, people or roles (a role is a
    list of people in the file's ``[roles]``)."""

    depts: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {k: list(getattr(self, k)) for k in ("depts", "people", "roles")
                if getattr(self, k)}


@dataclass(frozen=True, eq=False)
class Procedure:
    """One standard procedure and the model it compiles to.

    ``steps``: the steps a case's work is judged at (for a BPMN model: its tasks);
    ``ignore``: nodes whose decisions are not judged at all. A step named nowhere else is
    required, in the order given.
    """

    process_type: str | None
    name: str
    steps: tuple[str, ...]
    model: Model = field(repr=False)
    optional: tuple[str, ...] = ()
    any_order: tuple[tuple[str, ...], ...] = ()
    required_when: Mapping[str, str] = field(default_factory=dict)
    not_by_applicant: tuple[str, ...] = ()
    authority: Mapping[str, Authority] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    bpmn: str | None = None

    @property
    def conditions(self) -> tuple[WhenExpr, ...]:
        return self.model.conditions

    @property
    def label(self) -> str:
        """How messages name it: its name, process type and period."""
        period = ""
        if self.valid_from or self.valid_until:
            period = f", {self.valid_from or '…'} – {self.valid_until or '…'}"
        scope = self.process_type if self.process_type is not None else "every other process type"
        return f"{self.name} ({scope}{period})"

    def direct_follows(self) -> tuple[frozenset, frozenset, frozenset]:
        """(first steps, (a, b) pairs where b may directly follow a, last steps)."""
        return direct_follows(self.model)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"process_type": self.process_type, "name": self.name,
                               "steps": list(self.steps)}
        if self.bpmn:
            out["bpmn"] = self.bpmn
        for key in ("optional", "not_by_applicant", "ignore"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.any_order:
            out["any_order"] = [list(g) for g in self.any_order]
        if self.required_when:
            out["required_when"] = dict(self.required_when)
        if self.authority:
            out["authority"] = {k: v.to_dict() for k, v in self.authority.items()}
        for key in ("valid_from", "valid_until"):
            if getattr(self, key):
                out[key] = getattr(self, key).isoformat()
        return out

    def to_bpmn(self, path: str | Path, *, conditions: bool = True) -> Path:
        """Write the procedure as a BPMN 2.0 model a process designer opens (a sequence of
        user tasks; optional and conditional steps behind an exclusive choice, with the
        condition as its ``conditionExpression`` unless `conditions` is False; ``any_order``
        groups between parallel gateways)."""
        from officemine.conformance.export import procedure_bpmn

        return procedure_bpmn(self, Path(path), conditions=conditions)


@dataclass(frozen=True, eq=False)
class Procedures:
    """The procedures of one file, and the roster of roles they name."""

    procedures: tuple[Procedure, ...]
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        """How deliverables name them: the file's name (its ``name`` key) and file."""
        file = Path(self.source).name if self.source else None
        name = self.name or "、".join(dict.fromkeys(p.name for p in self.procedures))
        return f"{name}（{file}）" if file else name

    # --- reading --------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> "Procedures":
        """A procedure file: TOML (``.toml``) or BPMN 2.0 (``.bpmn``, ``.xml``)."""
        path = Path(path)
        if path.suffix.lower() in (".bpmn", ".xml"):
            return cls.from_bpmn(path)
        return cls._build(load(path, SPEC, error=ProcedureError, what="procedure file"),
                          base=path.parent)

    @classmethod
    def from_bpmn(cls, path: str | Path, process_type: object = _NAMED) -> "Procedures":
        """Each ``<process>`` of a BPMN file as a procedure for the process type it is named
        after (`process_type` overrides it for a file of one process; None applies it to
        every case)."""
        path = Path(path)
        processes, problems = read_bpmn(path)
        problems += [p for proc in processes for p in proc.problems]
        if process_type is not _NAMED and len(processes) > 1:
            problems.append(f"{path.name} holds {len(processes)} processes; give each its "
                            "process type as its name instead of process_type")
        if problems:
            raise ProcedureError(problems, source=str(path))
        out = []
        for proc in processes:
            ptype = proc.name if process_type is _NAMED else process_type
            out.append(Procedure(process_type=ptype, name=proc.name or path.stem,
                                 steps=proc.steps, model=proc.model, bpmn=str(path)))
        result = cls(tuple(out), {}, str(path))
        _raise(result._own_problems(), str(path))
        return result

    @classmethod
    def from_dict(cls, data: Mapping, *, base: str | Path = ".",
                  source: str | None = None) -> "Procedures":
        """Procedures from the structure a TOML file holds (see the module docstring)."""
        if not isinstance(data, Mapping):
            raise ProcedureError([f"must be a table, not {data!r}"], source=source)
        return cls._build(load(data, SPEC, error=ProcedureError, name=source), base=Path(base))

    @staticmethod
    def json_schema() -> dict:
        """The JSON schema of a procedure file (TOML; a BPMN file has its own standard)."""
        return json_schema(SPEC, title="officemine standard procedures")

    @classmethod
    def _build(cls, loaded, base: Path) -> "Procedures":
        data, problems, source = loaded.data, loaded.problems, loaded.source
        roles = _roles(data.get("roles", {}), problems)
        raw = data.get("procedure")
        if not isinstance(raw, list) or not raw:
            problems.append("no [[procedure]]: a procedure file lists at least one")
            raw = []
        out = []
        for i, item in enumerate(raw, 1):
            what = f"[[procedure]] #{i}"
            if isinstance(item, Mapping) and isinstance(item.get("process_type"), str):
                what += f" ({item['process_type']})"
            proc = _procedure(item, what, Path(base), roles, problems)
            if proc is not None:
                out.append(proc)
        name = data.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            problems.append(f"name must be a non-empty text, not {name!r}")
            name = None
        loaded.raise_if_any(source=source)
        result = cls(tuple(out), roles, source, name.strip() if name else None)
        _raise(result._own_problems(), source)
        return result

    def _own_problems(self) -> list[str]:
        """Problems between procedures: two in force for one process type at once."""
        problems = []
        by_type: dict[str | None, list[Procedure]] = {}
        for p in self.procedures:
            by_type.setdefault(p.process_type, []).append(p)
        for ptype, procs in by_type.items():
            procs = sorted(procs, key=lambda p: p.valid_from or dt.date.min)
            for a, b in zip(procs, procs[1:]):
                if (a.valid_until or dt.date.max) > (b.valid_from or dt.date.min):
                    scope = ptype if ptype is not None else "every other process type"
                    problems.append(f"{a.name!r} and {b.name!r} are both in force for {scope} "
                                    f"from {b.valid_from or 'the start'}: give them valid_from "
                                    "and valid_until that do not overlap")
        return problems

    # --- against a log ----------------------------------------------------------------------
    def check(self, log: Any, *, nodes: Iterable[str] | None = None,
              cases: Any = None, depts: Iterable[str] | None = None) -> list[str]:
        """Raise `ProcedureError` listing every way the procedures do not fit `log`; return
        notes (procedures for process types the log does not have).

        nodes, cases, depts: the log's nodes, case table (`officemine.log.relations.cases`) and
        departments, when the caller has read them already.
        """
        from officemine.log import relations

        cases = cases if cases is not None else relations.cases(log)
        nodes = sorted(set(nodes) if nodes is not None else set(log.nodes()["node"]))
        types = sorted({str(t) for t in cases["process_type"].dropna().unique()})
        problems: list[str] = []
        notes: list[str] = []
        used = [p for p in self.procedures if p.process_type is None or p.process_type in types]
        for p in self.procedures:
            if p not in used:
                hint = difflib.get_close_matches(str(p.process_type), types, n=1, cutoff=0.4)
                notes.append(Said("conformance.type_unused", type=repr(p.process_type),
                                  name=repr(p.name), hint=Said("conformance.did_you_mean",
                                                               name=repr(hint[0])) if hint else ""))
        if not used:
            named = sorted({str(p.process_type) for p in self.procedures})
            problems.append("no case of the log has a procedure: the file is for "
                            f"{', '.join(named)}; the log's process types are "
                            f"{', '.join(types) or 'none (the log has no process_type)'}")
        columns = [c for c in cases.columns if cases[c].notna().any()]
        known_depts = None if depts is None else {str(d) for d in depts}
        for p in used:
            for step in (*p.steps, *p.ignore):
                if step not in nodes:
                    problems.append(f"{p.label}: step {step!r} is no node of the log"
                                    f"{_suggest(step, nodes)}")
            for expr in p.conditions:
                for name in expr.names:
                    if name not in columns:
                        problems.append(f"{p.label}: the condition {expr.text!r} uses {name!r}, "
                                        "which is not a case column of the log"
                                        f"{_suggest(name, columns)}; columns: "
                                        f"{', '.join(c for c in columns if c != 'case_id')}")
            if known_depts is not None:
                for step, rule in p.authority.items():
                    for dept in rule.depts:
                        if dept != APPLICANT_DEPT and dept not in known_depts:
                            problems.append(f"{p.label}: authority of {step!r} names the "
                                            f"department {dept!r}, which the log never records"
                                            f"{_suggest(dept, known_depts)}")
        _raise(problems, self.source)
        return notes

    # --- identity -------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """A digest of what the procedures say (the key of cached results)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"source": self.source, "name": self.name,
                "roles": {k: list(v) for k, v in self.roles.items()},
                "procedures": [p.to_dict() for p in self.procedures]}

    def people(self) -> set[str]:
        """Everyone the procedures name: the rosters and the people of every authority."""
        return {p for people in self.roles.values() for p in people} | {
            p for proc in self.procedures for rule in proc.authority.values()
            for p in rule.people}

    def renamed(self, text: Callable[[str], str]) -> "Procedures":
        """The same procedures with every name passed through `text` — process types, steps,
        departments, people, roles, the texts of conditions and the source — for a log whose
        names were replaced the same way (`officemine.privacy`)."""
        each = (lambda values: tuple(text(v) for v in values))
        out = []
        for p in self.procedures:
            out.append(replace(
                p, process_type=text(p.process_type) if p.process_type is not None else None,
                name=text(p.name), steps=each(p.steps), model=_renamed(p.model, text),
                optional=each(p.optional), any_order=tuple(each(g) for g in p.any_order),
                required_when={text(k): text(v) for k, v in p.required_when.items()},
                not_by_applicant=each(p.not_by_applicant), ignore=each(p.ignore),
                authority={text(k): Authority(each(r.depts), each(r.people), each(r.roles))
                           for k, r in p.authority.items()},
                bpmn=text(p.bpmn) if p.bpmn else None))
        return Procedures(tuple(out), {text(k): each(v) for k, v in self.roles.items()},
                          text(self.source) if self.source else None,
                          text(self.name) if self.name else None)

    def people_of(self, rule: Authority) -> frozenset[str]:
        """Everyone a rule names, roles expanded."""
        return frozenset(rule.people) | frozenset(
            person for role in rule.roles for person in self.roles.get(role, ()))

    def __iter__(self):
        return iter(self.procedures)

    def __len__(self) -> int:
        return len(self.procedures)

    def __repr__(self) -> str:
        names = "; ".join(p.label for p in self.procedures)
        return f"<Procedures{' ' + self.source if self.source else ''}: {names}>"


def _renamed(model: Model, text: Callable[[str], str]) -> Model:
    """`model` with its step names and condition texts passed through `text`."""
    conditions = tuple(WhenExpr.parse(text(c.text)) for c in model.conditions)
    if isinstance(model, SequenceModel):
        return SequenceModel(steps=tuple(text(s) for s in model.steps), guard=model.guard,
                             blocks=model.blocks, conditions=conditions)
    return replace(model, names=tuple(text(n) if n else n for n in model.names),
                   conditions=conditions)


def load_procedures(source: "str | Path | Mapping | Procedures") -> Procedures:
    """Procedures from a file path (TOML or BPMN), a dict of the TOML structure, or as is."""
    if isinstance(source, Procedures):
        return source
    if isinstance(source, Mapping):
        return Procedures.from_dict(source)
    return Procedures.from_file(source)


# --- reading one procedure --------------------------------------------------------------------

def _raise(problems: list[str], source: str | None) -> None:
    if problems:
        raise ProcedureError(problems, source=source)


def _suggest(name: object, known: Iterable[str]) -> str:
    hint = difflib.get_close_matches(str(name), sorted(map(str, known)), n=1, cutoff=0.4)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _text(value: object, what: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{what} must be a non-empty text, not {value!r}")
        return ""
    return value.strip()


def _texts(value: object, what: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        problems.append(f"{what} must be a list of step names like [\"财务初审\", \"财务复核\"], "
                        f"not {value!r}")
        return ()
    out = tuple(_text(v, f"{what} item", problems) for v in value)
    twice = sorted({n for n in out if n and out.count(n) > 1})
    if twice:
        problems.append(f"{what} names {', '.join(map(repr, twice))} twice")
    return tuple(n for n in dict.fromkeys(out) if n)


def _roles(raw: object, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        problems.append(f"[roles] must be a table of role = [people], not {raw!r}")
        return {}
    return {str(role): _texts(people, f"[roles] {role!r}", problems)
            for role, people in raw.items()}


def _date(value: object, what: str, problems: list[str]) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{what} must be a date like 2025-07-01, not {value!r}")
        return None


def _procedure(item: object, what: str, base: Path, roles: Mapping[str, tuple[str, ...]],
               problems: list[str]) -> Procedure | None:
    if not isinstance(item, Mapping):
        problems.append(f"{what} must be a table, not {item!r}")
        return None
    mine: list[str] = []                 # unknown keys are reported by the loader
    ptype = item.get("process_type")
    if ptype is not None:
        ptype = _text(ptype, "process_type", mine) or None
    name = item.get("name")
    name = _text(name, "name", mine) if name is not None else (ptype or "标准流程")
    valid_from = _date(item.get("valid_from"), "valid_from", mine)
    valid_until = _date(item.get("valid_until"), "valid_until", mine)
    if valid_from and valid_until and valid_until <= valid_from:
        mine.append(f"valid_until {valid_until} is not after valid_from {valid_from}")
    bpmn_path = None
    if "bpmn" in item:
        both = [k for k in _SEQUENCE_KEYS if k in item]
        if both:
            mine.append(f"names a BPMN model and {', '.join(both)}: the model holds the steps "
                        "and their order; keep only not_by_applicant, authority and ignore")
        model, steps, bpmn_path = _bpmn_model(item, base, mine)
        optional, groups, required_when = (), (), {}
    else:
        steps = _texts(item.get("steps"), "steps", mine)
        if "steps" not in item:
            mine.append("has no steps (or a bpmn model)")
        elif not steps:
            mine.append("steps is empty")
        optional = _texts(item.get("optional", []), "optional", mine)
        groups = tuple(_texts(g, "any_order group", mine)
                       for g in _list(item.get("any_order", []), "any_order", mine))
        required_when = _conditions(item.get("required_when", {}), mine)
        model = _sequence_model(steps, optional, groups, required_when, mine)
    known = set(steps)
    not_by_applicant = _texts(item.get("not_by_applicant", []), "not_by_applicant", mine)
    for key, named in (("optional", optional), ("not_by_applicant", not_by_applicant)):
        for step in named:
            if step not in known:
                mine.append(f"{key} names {step!r}, which is not one of its steps"
                            f"{_suggest(step, known)}")
    for step in required_when:
        if step not in known:
            mine.append(f"required_when names {step!r}, which is not one of its steps"
                        f"{_suggest(step, known)}")
        if step in optional:
            mine.append(f"{step!r} is both optional and required_when: choose one")
    ignore = _texts(item.get("ignore", []), "ignore", mine)
    for step in ignore:
        if step in known:
            mine.append(f"ignore names {step!r}, which is one of its steps")
    authority = _authority(item.get("authority", {}), known, roles, mine)
    if mine:
        problems.extend(f"{what}: {p}" for p in mine)
        return None
    return Procedure(process_type=ptype, name=name, steps=steps, model=model, optional=optional,
                     any_order=groups, required_when=required_when,
                     not_by_applicant=not_by_applicant, authority=authority, ignore=ignore,
                     valid_from=valid_from, valid_until=valid_until, bpmn=bpmn_path)


def _list(value: object, what: str, problems: list[str]) -> list:
    if not isinstance(value, list):
        problems.append(f"{what} must be a list of step lists, not {value!r}")
        return []
    return value


def _conditions(raw: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        problems.append(f"required_when must be a table of step = \"condition\", not {raw!r}")
        return {}
    out = {}
    for step, text in raw.items():
        try:
            out[str(step)] = WhenExpr.parse(text).text
        except ExpressionError as err:
            problems.append(f"required_when {step!r} = {clipped(text)} {err}")
    return out


def _sequence_model(steps: tuple[str, ...], optional: tuple[str, ...],
                    groups: tuple[tuple[str, ...], ...], required_when: Mapping[str, str],
                    problems: list[str]) -> Model | None:
    texts = list(dict.fromkeys(required_when.values()))
    guard = tuple(texts.index(required_when[s]) if s in required_when else
                  OPTIONAL if s in optional else REQUIRED for s in steps)
    index = {s: i for i, s in enumerate(steps)}
    blocks, grouped = [], {}
    for group in groups:
        if len(group) < 2:
            problems.append(f"any_order group {list(group)} needs at least two steps")
            continue
        missing = [s for s in group if s not in index]
        if missing:
            problems.append(f"any_order group names {', '.join(map(repr, missing))}, not one of "
                            "its steps")
            continue
        places = sorted(index[s] for s in group)
        if places != list(range(places[0], places[0] + len(places))):
            problems.append(f"any_order group {list(group)} must be consecutive in steps")
            continue
        twice = [s for s in group if s in grouped]
        if twice:
            problems.append(f"{', '.join(map(repr, twice))} in two any_order groups")
            continue
        for s in group:
            grouped[s] = places[0]
    i = 0
    while i < len(steps):
        if steps[i] in grouped:
            start = grouped[steps[i]]
            size = sum(1 for s in grouped if grouped[s] == start)
            blocks.append(tuple(range(start, start + size)))
            i = start + size
        else:
            blocks.append((i,))
            i += 1
    if problems:
        return None
    return SequenceModel(steps=steps, guard=guard, blocks=tuple(blocks),
                         conditions=tuple(WhenExpr.parse(t) for t in texts))


def _bpmn_model(item: Mapping, base: Path, problems: list[str]):
    raw = item.get("bpmn")
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"bpmn must name a BPMN file, not {raw!r}")
        return None, (), None
    path = (base / raw).resolve()
    processes, file_problems = read_bpmn(path)
    problems.extend(file_problems)
    if file_problems:
        return None, (), str(path)
    wanted = item.get("bpmn_process")
    chosen: list[BpmnProcess]
    if wanted is None:
        chosen = processes
        if len(processes) > 1:
            problems.append(f"{path.name} holds {len(processes)} processes ("
                            + ", ".join(repr(p.name or p.id) for p in processes)
                            + "): say which with bpmn_process")
            return None, (), str(path)
    else:
        chosen = [p for p in processes if wanted in (p.id, p.name)]
        if not chosen:
            problems.append(f"{path.name} has no process {wanted!r}; it has "
                            + ", ".join(repr(p.name or p.id) for p in processes))
            return None, (), str(path)
    proc = chosen[0]
    problems.extend(proc.problems)
    return proc.model, proc.steps, str(path)


def _authority(raw: object, steps: set[str], roles: Mapping[str, tuple[str, ...]],
               problems: list[str]) -> dict[str, Authority]:
    if not isinstance(raw, Mapping):
        problems.append(f"authority must be a table of step = {{ depts = [...] }}, not {raw!r}")
        return {}
    out = {}
    for step, rule in raw.items():
        what = f"authority {step!r}"
        if step not in steps:
            problems.append(f"{what}: {step!r} is not one of its steps{_suggest(step, steps)}")
        if not isinstance(rule, Mapping):
            problems.append(f"{what} must be a table like {{ depts = [\"财务部\"] }}, not {rule!r}")
            continue
        parts = {k: _texts(rule.get(k, []), f"{what} {k}", problems) for k in _AUTHORITY_KEYS}
        if not any(parts.values()):
            problems.append(f"{what} names nobody: give depts, people or roles")
        for role in parts["roles"]:
            if role not in roles:
                problems.append(f"{what}: role {role!r} is not in [roles]"
                                f"{_suggest(role, roles)}")
        out[str(step)] = Authority(**parts)
    return out

