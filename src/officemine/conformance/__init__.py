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

from collections.abc import Iterable, Mapping
from typing import Any

from officemine.log.calendar import Calendar
from officemine.conformance.check import CONTROL_FLOW, KINDS, run_check
from officemine.conformance.procedures import (Authority, Procedure, ProcedureError, Procedures,
                                               load_procedures)
from officemine.conformance.result import KIND_NAMES, ConformanceResult, make_result
from officemine.base.errors import NoDataError
from officemine.log.eventlog import EventLog

__all__ = ["conformance", "ConformanceResult", "Procedures", "Procedure", "Authority",
           "ProcedureError", "load_procedures", "KINDS", "CONTROL_FLOW", "KIND_NAMES",
           "outside_procedures"]


def conformance(log: EventLog, procedures: Any, month: Any = None,
                calendar: Calendar | None = None) -> ConformanceResult:
    """Check the log's cases against their standard procedures.

    procedures: a procedure file (TOML or BPMN), a dict of the TOML structure or
    `Procedures`. month: only the cases completed in that month (``"2025-10"``, ``2025年10月``);
    default every case with a procedure in force (open ones judged up to their last step).
    The check itself runs once per log and procedures; a month is a selection of it.
    """
    procs = load_procedures(procedures)
    if not log.n_events:
        raise NoDataError("the log has no events: there is nothing to check against the "
                              "procedures")
    tables = run_check(log, procs, calendar)
    return make_result(tables, procs, month, log.timezone)


def outside_procedures(procedures: Any, nodes: Iterable[str],
                       arcs: Iterable[tuple[str, str]], kinds: Mapping[str, str]
                       ) -> tuple[set[str], set[tuple[str, str]]]:
    """Which nodes and forward arcs of a process map no procedure has, to draw them apart.

    nodes, arcs: the map's nodes and (source, target) forward arcs (return arcs are drawn as
    returns already); kinds: node -> kind (`officemine.log.relations.node_kinds`). A node is
    outside when it decides items (kind ``decision``) and is a step of no procedure; an arc
    is outside when it touches such a node, or runs between two steps where no procedure
    lets the second directly follow the first, or from the submission into a step no round
    may start with, or from a step no complete round may end with into the archive, or from
    the submission straight into the archive where every procedure has a required step.
    """
    from officemine.conformance.model import Checker

    procs = load_procedures(procedures)
    steps, first, pairs, last = set(), set(), set(), set()
    for p in procs:
        f, pr, la = p.direct_follows()
        steps |= set(p.steps)
        first |= f
        pairs |= pr
        last |= la
    empty_ok = any(Checker(p.model, None).fits([], True) for p in procs)
    bad_nodes = {n for n in nodes if n not in steps and kinds.get(n) == "decision"}
    bad_arcs = set()
    for source, target in arcs:
        if source in bad_nodes or target in bad_nodes:
            bad_arcs.add((source, target))
        elif source in steps and target in steps:
            if (source, target) not in pairs:
                bad_arcs.add((source, target))
        elif target in steps and kinds.get(source) == "submit" and target not in first:
            bad_arcs.add((source, target))
        elif source in steps and kinds.get(target) == "archive" and source not in last:
            bad_arcs.add((source, target))
        elif kinds.get(source) == "submit" and kinds.get(target) == "archive" and not empty_ok:
            bad_arcs.add((source, target))
    return bad_nodes, bad_arcs
