"""BPMN 2.0 files from a process designer, read safely into the token game of `model.NetModel`.

The file is parsed with defusedxml: a DTD, an entity declaration or an external reference is
refused before anything is expanded or fetched. Tasks of every kind (task, userTask,
manualTask, serviceTask, …, callActivity) are steps, named by their ``name`` (line breaks a
designer puts into long names are dropped, as pm4py does); start, end and intermediate events
and exclusive, event-based and parallel gateways (会签) give the control flow. A sequence
flow's ``conditionExpression`` (``amount >= 50000``, also written ``${amount >= 50000}`` with
``&&``/``||``) is read in officemine's safe expression language over case attributes.
Inclusive and complex gateways, sub-processes and boundary events are not supported: the
file is refused with each such element named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from officemine.conformance.model import (AND, END, PASS, START, TASK, TERMINATE, XOR,
                                          NetModel)
from officemine.base.errors import ModelSizeError
from officemine.simulation._expr import ExpressionError, WhenExpr, clipped

#: Largest BPMN file read (a designer's model is some kilobytes).
MAX_BYTES = 20_000_000

_TASKS = {"task", "usertask", "manualtask", "servicetask", "scripttask", "businessruletask",
          "sendtask", "receivetask", "callactivity"}
_KINDS = {"startevent": START, "endevent": END, "intermediatecatchevent": PASS,
          "intermediatethrowevent": PASS, "exclusivegateway": XOR, "eventbasedgateway": XOR,
          "parallelgateway": AND, **{t: TASK for t in _TASKS}}
_UNSUPPORTED = {"inclusivegateway": "inclusive gateway", "complexgateway": "complex gateway",
                "subprocess": "sub-process", "adhocsubprocess": "ad-hoc sub-process",
                "transaction": "transaction", "boundaryevent": "boundary event"}
_JUEL = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)


@dataclass(frozen=True)
class BpmnProcess:
    """One ``<process>`` of a file: its id and name, its model (None when it has problems),
    its step names in document order, and the problems found."""

    id: str
    name: str | None
    model: NetModel | None
    steps: tuple[str, ...]
    problems: tuple[str, ...]


def read_bpmn(path: str | Path) -> tuple[list[BpmnProcess], list[str]]:
    """Every process of the BPMN file at `path`, and the problems of the file as a whole
    (unreadable, not XML, unsafe, no process)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return [], [f"{path}: {size:,} bytes; a BPMN model is at most {MAX_BYTES:,}"]
        data = path.read_bytes()
    except OSError as err:
        return [], [f"cannot read {path}: {err.strerror or err}"]
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        return [], [f"{path} refused: it declares a DTD, entities or external references "
                    f"({type(err).__name__}); a BPMN model never needs them"]
    except ParseError as err:
        return [], [f"{path} is not well-formed XML: {err}"]
    if _local(root.tag) != "definitions":
        return [], [f"{path} is not BPMN 2.0: its root element is <{_local(root.tag)}>, "
                    "not <definitions>"]
    processes = [_process(el, path) for el in root if _local(el.tag) == "process"]
    processes = [p for p in processes if p.steps or p.problems or p.model is not None]
    if not processes:
        return [], [f"{path} holds no <process> with flow elements"]
    return processes, []


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1].lower() if "}" in text else text.lower()


def step_name(raw: str | None) -> str:
    """A task's name as a step: line breaks dropped (as pm4py reads them), ends trimmed."""
    return (raw or "").replace("\r", "").replace("\n", "").strip()


def condition(text: str) -> WhenExpr:
    """A sequence flow's condition in the `when` language (``${…}``, ``&&``, ``||`` read)."""
    inner = _JUEL.match(text)
    body = inner.group(1) if inner else text
    body = body.replace("&&", " and ").replace("||", " or ")
    return WhenExpr.parse(body)


def _process(el: Element, path: Path) -> BpmnProcess:
    pid = el.get("id") or "?"
    name = step_name(el.get("name")) or None
    where = f"{path.name}, process {name or pid!r}"
    problems: list[str] = []
    nodes: dict[str, int] = {}
    kinds: list[str] = []
    names: list[str | None] = []
    defaults: dict[int, str] = {}
    flows: list[Element] = []
    for child in el.iter():
        if child is el:
            continue
        tag = _local(child.tag)
        if tag in _UNSUPPORTED:
            problems.append(f"{where}: {_UNSUPPORTED[tag]} {child.get('id')!r} is not supported "
                            "(use exclusive and parallel gateways; flatten sub-processes)")
            continue
        if tag == "sequenceflow":
            flows.append(child)
            continue
        kind = _KINDS.get(tag)
        if kind is None:
            continue
        node_id = child.get("id")
        if not node_id or node_id in nodes:
            problems.append(f"{where}: a <{tag}> has {'no id' if not node_id else 'the id ' + repr(node_id) + ' twice'}")
            continue
        if kind == END and any(_local(c.tag) == "terminateeventdefinition" for c in child):
            kind = TERMINATE
        label = None
        if kind == TASK:
            label = step_name(child.get("name"))
            if not label:
                problems.append(f"{where}: task {node_id!r} has no name (its name is the step "
                                "it stands for)")
        nodes[node_id] = len(kinds)
        kinds.append(kind)
        names.append(label)
        if child.get("default"):
            defaults[len(kinds) - 1] = child.get("default")
    inc: list[list[int]] = [[] for _ in kinds]
    out: list[list[int]] = [[] for _ in kinds]
    guards: list[int | None] = []
    conditions: list[WhenExpr] = []
    flow_index: dict[str, int] = {}
    for flow in flows:
        fid = flow.get("id") or f"#{len(guards)}"
        src, dst = flow.get("sourceRef"), flow.get("targetRef")
        missing = [r for r in (src, dst) if r not in nodes]
        if missing:
            problems.append(f"{where}: sequence flow {fid!r} connects {', '.join(map(repr, missing))}"
                            ", which is no element this reader knows")
            continue
        guard = None
        expr = next((c for c in flow if _local(c.tag) == "conditionexpression"), None)
        text = (expr.text or "").strip() if expr is not None else ""
        if text:
            try:
                parsed = condition(text)
            except ExpressionError as err:
                problems.append(f"{where}: the condition of sequence flow {fid!r}, "
                                f"{clipped(text)}, {err}")
            else:
                if parsed.text not in [c.text for c in conditions]:
                    conditions.append(parsed)
                guard = [c.text for c in conditions].index(parsed.text)
        flow_index[fid] = len(guards)
        out[nodes[src]].append(len(guards))
        inc[nodes[dst]].append(len(guards))
        guards.append(guard)
    default = [-1] * len(kinds)
    for node, fid in defaults.items():
        if fid not in flow_index or flow_index[fid] not in out[node]:
            problems.append(f"{where}: the default flow {fid!r} does not leave its gateway")
        else:
            default[node] = flow_index[fid]
    starts = [i for i, k in enumerate(kinds) if k == START]
    if len(starts) != 1:
        problems.append(f"{where}: {len(starts)} start events; a procedure needs exactly one")
    if not any(k in (END, TERMINATE) for k in kinds) and kinds:
        problems.append(f"{where}: no end event")
    for i, k in enumerate(kinds):
        if k != START and not inc[i]:
            problems.append(f"{where}: {_what(k, names[i])} has no incoming sequence flow")
    steps = tuple(dict.fromkeys(n for n, k in zip(names, kinds) if k == TASK and n))
    if problems or not starts:
        return BpmnProcess(pid, name, None, steps, tuple(problems))
    reach = {starts[0]}
    todo = [starts[0]]
    target = {f: node for node, fs in enumerate(inc) for f in fs}
    while todo:
        for f in out[todo.pop()]:
            if target[f] not in reach:
                reach.add(target[f])
                todo.append(target[f])
    for i, k in enumerate(kinds):
        if i not in reach:
            problems.append(f"{where}: {_what(k, names[i])} is never reached from the start event")
    model = NetModel(kinds=tuple(kinds), names=tuple(names), inc=tuple(map(tuple, inc)),
                     out=tuple(map(tuple, out)), guard=tuple(guards), default=tuple(default),
                     start_node=starts[0], conditions=tuple(conditions))
    try:
        model.count_states()
    except ModelSizeError as err:
        problems.append(f"{where}: the model {err} (a loop that adds tokens, or very wide "
                        "parallel branches)")
    if problems:
        return BpmnProcess(pid, name, None, steps, tuple(problems))
    return BpmnProcess(pid, name, model, steps, ())


def _what(kind: str, name: str | None) -> str:
    return f"task {name!r}" if kind == TASK and name else f"a {kind} element"
