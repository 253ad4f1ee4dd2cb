"""A TOML procedure written as BPMN 2.0, with a diagram a process designer can open.

Steps become user tasks in a row; an optional step, or one required only under a condition,
sits behind an exclusive gateway whose other (default) flow goes round it — the condition is
the task's flow's ``conditionExpression``; an ``any_order`` group (会签) runs between two
parallel gateways. officemine reads the file back to the same model (a test checks it), and
pm4py reads it too.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from officemine.base.atomic import atomic_path
from officemine.conformance.model import OPTIONAL, REQUIRED, SequenceModel
from officemine.base.errors import InputError

_NS = ('xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
       'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
       'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
       'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
       'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
_SIZE = {"task": (110, 60), "exclusiveGateway": (40, 40), "parallelGateway": (40, 40),
         "startEvent": (36, 36), "endEvent": (36, 36)}
_COLUMN, _ROW = 160, 100


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[tuple[str, str, str | None, int, int, str | None]] = []
        self.flows: list[tuple[str, str, str, str | None]] = []

    def node(self, kind: str, name: str | None, col: int, row: int) -> str:
        nid = f"n{len(self.nodes) + 1}"
        self.nodes.append((nid, kind, name, col, row, None))
        return nid

    def flow(self, src: str, dst: str, condition: str | None = None) -> str:
        fid = f"f{len(self.flows) + 1}"
        self.flows.append((fid, src, dst, condition))
        return fid

    def set_default(self, gateway: str, flow: str) -> None:
        self.nodes = [(n, k, name, c, r, flow if n == gateway else d)
                      for n, k, name, c, r, d in self.nodes]


def procedure_bpmn(procedure, path: Path, *, conditions: bool = True) -> Path:
    """Write `procedure` (a TOML one) to `path` as BPMN 2.0 (see the module docstring)."""
    model = procedure.model
    if not isinstance(model, SequenceModel):
        raise InputError("only a procedure given as steps can be written as BPMN; "
                        "this one was read from a BPMN model already")
    texts = [c.text for c in model.conditions]
    b = _Builder()
    col = 0
    last = b.node("startEvent", None, col, 0)
    for block in model.blocks:
        col += 1
        if len(block) == 1:
            last, col = _step(b, model, block[0], last, col, 0, texts, conditions)
            continue
        split = b.node("parallelGateway", None, col, 0)
        b.flow(last, split)
        ends, width = [], 0
        for k, j in enumerate(block):
            row = k - (len(block) - 1) / 2
            end, used = _step(b, model, j, split, col + 1, row, texts, conditions)
            ends.append(end)
            width = max(width, used - col)
        col += width + 1
        join = b.node("parallelGateway", None, col, 0)
        for end in ends:
            b.flow(end, join)
        last = join
    end = b.node("endEvent", None, col + 1, 0)
    b.flow(last, end)
    with atomic_path(path) as temp:
        temp.write_text(_xml(b, procedure), encoding="utf-8")
    return path


def _step(b: _Builder, model: SequenceModel, j: int, before: str, col: int, row: float,
          texts: list[str], conditions: bool) -> tuple[str, int]:
    """One step after `before`; returns (its last element, the column it ends in)."""
    guard = model.guard[j]
    if guard == REQUIRED:
        task = b.node("task", model.steps[j], col, row)
        b.flow(before, task)
        return task, col
    split = b.node("exclusiveGateway", None, col, row)
    b.flow(before, split)
    task = b.node("task", model.steps[j], col + 1, row)
    cond = texts[guard] if guard != OPTIONAL and conditions else None
    b.flow(split, task, cond)
    join = b.node("exclusiveGateway", None, col + 2, row)
    bypass = b.flow(split, join)
    if guard != OPTIONAL and conditions:
        b.set_default(split, bypass)
    b.flow(task, join)
    return join, col + 2


def _xml(b: _Builder, procedure) -> str:
    name = procedure.process_type or procedure.name
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<definitions {_NS} id="officemine" targetNamespace="http://officemine/procedures">',
             f'  <process id="procedure" name={quoteattr(name)} isExecutable="false">']
    incoming = {n[0]: [] for n in b.nodes}
    outgoing = {n[0]: [] for n in b.nodes}
    for fid, src, dst, _ in b.flows:
        outgoing[src].append(fid)
        incoming[dst].append(fid)
    for nid, kind, label, _, _, default in b.nodes:
        attrs = f'id="{nid}"' + (f" name={quoteattr(label)}" if label else "")
        attrs += f' default="{default}"' if default else ""
        tag = "userTask" if kind == "task" else kind
        inner = [f"      <incoming>{f}</incoming>" for f in incoming[nid]]
        inner += [f"      <outgoing>{f}</outgoing>" for f in outgoing[nid]]
        lines.append(f"    <{tag} {attrs}>")
        lines.extend(inner)
        lines.append(f"    </{tag}>")
    for fid, src, dst, cond in b.flows:
        if cond:
            lines.append(f'    <sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">'
                         f'<conditionExpression xsi:type="tFormalExpression">{escape(cond)}'
                         "</conditionExpression></sequenceFlow>")
        else:
            lines.append(f'    <sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"/>')
    lines.append("  </process>")
    lines.append('  <bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" '
                 'bpmnElement="procedure">')
    centre = {}
    for nid, kind, _, col, row, _ in b.nodes:
        w, h = _SIZE[kind]
        cx, cy = 60 + col * _COLUMN, 120 + row * _ROW
        centre[nid] = (cx, cy, w, h)
        lines.append(f'    <bpmndi:BPMNShape id="{nid}_di" bpmnElement="{nid}"><dc:Bounds '
                     f'x="{cx - w / 2:g}" y="{cy - h / 2:g}" width="{w}" height="{h}"/>'
                     "</bpmndi:BPMNShape>")
    for fid, src, dst, _ in b.flows:
        (sx, sy, sw, _), (tx, ty, tw, _) = centre[src], centre[dst]
        points = [(sx + sw / 2, sy)]
        if sy == ty and tx - sx > _COLUMN * 1.5:          # a bypass: round underneath
            low = sy + _ROW * 0.6
            points = [(sx, sy + 20), (sx, low), (tx, low), (tx, ty + 20)]
        elif sy != ty:
            points = [(sx + sw / 2, sy), (sx + sw / 2 + 20, ty)] if tx > sx else points
            points.append((tx - tw / 2, ty))
        else:
            points.append((tx - tw / 2, ty))
        wps = "".join(f'<di:waypoint x="{x:g}" y="{y:g}"/>' for x, y in points)
        lines.append(f'    <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{wps}'
                     "</bpmndi:BPMNEdge>")
    lines.append("  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    lines.append("</definitions>")
    return "\n".join(lines) + "\n"
