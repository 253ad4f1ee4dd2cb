"""Standard procedures (标准化建设) and the conformance check: how often work departs from them.

>>> import officemine
>>> log = officemine.import_log("sample_logs/oa_sample.csv")                 # doctest: +SKIP
>>> result = officemine.conformance(log, "procedures/sample_office.toml")    # doctest: +SKIP
>>> result.summary, result.by_step, result.deviations                       # doctest: +SKIP
>>> result.plot()                                                           # doctest: +SKIP

Every case whose procedure was in force when it started is checked round by round for five
kinds of deviation (definitions: docs/conformance.md): ``skipped``, ``unexpected``,
``out_of_order`` (control flow, judged against the procedure's model), ``self_approval`` and
``authority`` (who decided). The procedure file is validated first, then against the log,
and every problem is listed in one `ProcedureError` before any case is checked.
"""

from __future__ import annotations

from typing import Any

from officemine.calendar import Calendar
from officemine.conformance.check import CONTROL_FLOW, KINDS, run_check
from officemine.conformance.procedures import (Authority, Procedure, ProcedureError, Procedures,
                                               load_procedures)
from officemine.conformance.result import KIND_NAMES, ConformanceResult, make_result
from officemine.eventlog import EventLog

__all__ = ["conformance", "ConformanceResult", "Procedures", "Procedure", "Authority",
           "ProcedureError", "load_procedures", "KINDS", "CONTROL_FLOW", "KIND_NAMES",
           "map_overlay"]


def conformance(log: EventLog, procedures: Any, month: Any = None,
                calendar: Calendar | None = None) -> ConformanceResult:
    """Check the log's cases against their standard procedures.

    procedures: a procedure file (TOML or BPMN), a dict of the TOML structure or
    `Procedures`. month: only the cases completed in that month (``"2025-10"``, ``2025年10月``);
    default every case with a procedure in force (open ones judged up to their last step).
    The check itself runs once per log and procedures; a month is a selection of it.
    """
    procs = load_procedures(procedures)
    tables = run_check(log, procs, calendar)
    return make_result(tables, procs, month, log.timezone)


def map_overlay(procedures: Any, nodes=None) -> "MapOverlay":
    """What a process map should draw as outside the procedures: see `MapOverlay`."""
    return MapOverlay.of(load_procedures(procedures))


class MapOverlay:
    """The steps and direct successions the procedures allow, for drawing a process map.

    ``outside_nodes(nodes)``: the map nodes that are steps of no procedure (decision nodes
    only: a submission, archive or other node the procedures do not judge is left alone);
    ``outside_arc(source, target, judged)``: whether a forward arc is one no procedure
    allows — between two steps, from a non-step into a step that cannot start a round, or
    from a step that cannot end one into an archive node.
    """

    def __init__(self, steps: frozenset, first: frozenset, pairs: frozenset,
                 last: frozenset) -> None:
        self.steps, self.first, self.pairs, self.last = steps, first, pairs, last

    @classmethod
    def of(cls, procedures: Procedures) -> "MapOverlay":
        steps, first, pairs, last = set(), set(), set(), set()
        for p in procedures:
            f, pr, la = p.direct_follows()
            steps |= set(p.steps)
            first |= f
            pairs |= pr
            last |= la
        return cls(frozenset(steps), frozenset(first), frozenset(pairs), frozenset(last))

    def outside_arc(self, source: str, target: str, kinds: dict[str, str]) -> bool:
        """`kinds`: node -> kind (`officemine.relations.node_kinds`)."""
        s_step, t_step = source in self.steps, target in self.steps
        if s_step and t_step:
            return (source, target) not in self.pairs
        if t_step:
            return kinds.get(source) == "submit" and target not in self.first
        if s_step:
            return kinds.get(target) == "archive" and source not in self.last
        return False

    def outside_node(self, node: str, kinds: dict[str, str]) -> bool:
        return node not in self.steps and kinds.get(node) == "decision"
