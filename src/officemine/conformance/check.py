"""The conformance check: every case's rounds held against its standard procedure.

One ordered scan of the blocking events (`officemine.log.relations.events`) is cut into *step
occurrences* with array operations: a visit (`officemine.log.relations`) counts as one occurrence
of its node when its closing event — its last action, transfers and 加签 aside — is a decision
(approve, auto_approve, return, reject), or, at a node the procedure names as a step, a
submission or an archive (a procedure may list 发起 or 归档); the person and department of
that event decided it. Other actions (withdrawals, ``other``) are never steps. Occurrences
are grouped into rounds — per object where a case holds several (a travel permit, then the
declaration of the trip: each goes through the procedure, with rounds of its own) — and
rounds into *variants*: same procedure, same conditions holding, same completeness, same
steps in the same order (a 64-bit hash per round, then checked step by step). Only the
variants are held against the model (`officemine.conformance.model`); their deviations are
spread back over the rounds with array operations. Separation of duties (self_approval) and
authority are checked per occurrence, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log import relations
from officemine.log.calendar import Calendar
from officemine.conformance.model import Checker
from officemine.base.errors import ModelSizeError
from officemine.conformance.procedures import (APPLICANT_DEPT, ProcedureError, Procedures,
                                               load_procedures)
from officemine.discovery._base import _flag, _in_case_order, codes_of
from officemine.log.eventlog import EventLog
from officemine.log.schema import C, CASE_ATTRIBUTES, DECISIONS

#: Deviation kinds, in the order they are reported.
KINDS = ("skipped", "unexpected", "out_of_order", "self_approval", "authority")
#: The kinds that concern the order of steps alone (what a token replay judges).
CONTROL_FLOW = ("skipped", "unexpected", "out_of_order")
_COLUMNS = (C.case_id, C.seq, C.visit, C.round, C.node, C.outcome, C.resource, C.dept, C.pending)
#: Outcomes inside a visit that do not close it (the item stays at the node).
_INSIDE = ("transfer", "add_approver")
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class CheckTables:
    """What a check finds: one row per checked case, one per deviation (see
    `ConformanceResult`), and what it could not check."""

    cases: pd.DataFrame
    deviations: pd.DataFrame
    unchecked: pd.DataFrame
    notes: tuple[str, ...]
    variants: int
    rounds: int
    occurrences: int

    def copy(self) -> "CheckTables":      # `EventLog.cached` hands out copies
        return self


def run_check(log: EventLog, procedures: Procedures, calendar: Calendar | None = None
              ) -> CheckTables:
    """Check every case of `log` that has a procedure in force (cached per log)."""
    calendar = calendar or log.calendar
    return log.cached(("conformance", procedures.fingerprint, repr(calendar)),
                      lambda: _run(log, procedures, calendar))


def _run(log: EventLog, procs: Procedures, calendar: Calendar) -> CheckTables:
    names = {n for p in procs for e in p.conditions for n in e.names}
    extra = tuple(sorted(n for n in names if n not in CASE_ATTRIBUTES and n in log.columns))
    cases = relations.cases(log, calendar, extra=extra)
    # who decided matters only for self-approval and authority: read it only then
    who = any(p.not_by_applicant or p.authority for p in procs)
    columns = _COLUMNS if who else tuple(c for c in _COLUMNS if c not in (C.resource, C.dept))
    if C.object in log.columns:             # a case may hold several objects (a permit, …)
        columns += (C.object,)
    t = relations.events(log, columns, blocking=True)
    if not _in_case_order(t):
        t = t.sort_by([(C.case_id, "ascending"), (C.seq, "ascending")])
    n = t.num_rows
    node, nodes = codes_of(t[C.node])
    if who:
        resource, resources = codes_of(t[C.resource])
        dept, depts = codes_of(t[C.dept])
    else:
        resource, resources = np.full(n, -1, dtype=np.int64), []
        dept, depts = resource, []
    notes = procs.check(log, nodes=nodes, cases=cases, depts=depts if who else None)
    new_case = np.ones(n, dtype=bool)
    if n > 1:
        new_case[1:] = _flag(pc.not_equal(t[C.case_id][1:], t[C.case_id][:-1]))
    first = np.flatnonzero(new_case)
    run_ids = t[C.case_id].take(pa.array(first)).to_pandas()
    row_of_run = pd.Index(cases[C.case_id]).get_indexer(run_ids)
    run = np.cumsum(new_case) - 1                   # each event's case, in scan order
    case = row_of_run[run] if n else np.zeros(0, dtype=np.int64)
    outcome = t[C.outcome].combine_chunks()
    decision = _flag(pc.is_in(outcome, value_set=pa.array(sorted(DECISIONS))))
    inside = _flag(pc.is_in(outcome, value_set=pa.array(_INSIDE)))
    submit = _flag(pc.is_in(outcome, value_set=pa.array(["submit", "resubmit"])))
    # a step the procedure names may also be its submission (发起) or archive (归档)
    named_step = submit | _flag(pc.equal(outcome, "archive"))
    pending = _flag(t[C.pending])
    obj = codes_of(t[C.object])[0] if C.object in columns else np.full(n, -1, dtype=np.int64)
    visit = pc.fill_null(t[C.visit], 0).to_numpy().astype(np.int64)
    rnd = pc.fill_null(t[C.round], 1).to_numpy().astype(np.int64)
    seq = t[C.seq].to_numpy().astype(np.int64)

    # which procedure each case follows, and which of its conditions hold
    proc = _assign(procs, cases)
    ctx = _contexts(procs, cases, proc)
    applicant, applicant_dept = (_applicants(cases, case, submit, resource, resources, depts)
                                 if who else (None, None))

    # closing events of visits -> step occurrences
    cand = np.flatnonzero(~pending & ~inside)
    key_case, key_visit = case[cand], visit[cand]
    last = np.ones(len(cand), dtype=bool)
    last[:-1] = (key_case[1:] != key_case[:-1]) | (key_visit[1:] != key_visit[:-1])
    close = cand[last]
    cproc = np.where(case[close] >= 0, proc[np.maximum(case[close], 0)], -1)
    listed, ignored = _node_tables(procs, nodes)
    safe = np.maximum(cproc, 0)
    judged = (cproc >= 0) & (decision[close] | named_step[close] & listed[safe, node[close]]) \
        & ~ignored[safe, node[close]]
    occ = close[judged]
    if (obj[occ] >= 0).any():               # each object's rounds together, in their order
        occ = occ[np.lexsort((obj[occ], run[occ]))]
    o_case, o_node, o_round, o_obj = case[occ], node[occ], rnd[occ], obj[occ]
    o_proc = proc[o_case]

    # rounds: runs of (case, object, round) among occurrences, plus each archived case's last
    # round when nothing in it was judged (all its required steps were then skipped)
    new_round = np.ones(len(occ), dtype=bool)
    new_round[1:] = ((o_case[1:] != o_case[:-1]) | (o_obj[1:] != o_obj[:-1])
                     | (o_round[1:] != o_round[:-1]))
    r_start = np.flatnonzero(new_round)
    r_len = np.diff(np.append(r_start, len(occ)))
    r_case, r_round, r_obj = o_case[r_start], o_round[r_start], o_obj[r_start]
    archived = (cases["status"].to_numpy() == "archived") & (proc >= 0)
    last_round = cases["rounds"].to_numpy().astype(np.int64)
    r_last = _final_rounds(case, obj, rnd, last_round, r_case, r_obj)
    # a case without objects that was archived with nothing judged in its last round
    plain = np.ones(len(cases), dtype=bool)
    plain[case[(obj >= 0) & (case >= 0)]] = False
    has_last = np.zeros(len(cases), dtype=bool)
    has_last[r_case[r_round == last_round[r_case]]] = True
    empty = np.flatnonzero(archived & plain & ~has_last)
    r_case = np.concatenate([r_case, empty])
    r_round = np.concatenate([r_round, np.maximum(last_round[empty], 1)])
    r_last = np.concatenate([r_last, np.maximum(last_round[empty], 1)])
    r_start = np.concatenate([r_start, np.full(len(empty), len(occ))])
    r_len = np.concatenate([r_len, np.zeros(len(empty), dtype=np.int64)])
    r_complete = archived[r_case] & (r_round == r_last)
    r_proc, r_ctx = proc[r_case], ctx[r_case]

    variant, rep = _variants(o_node, r_start, r_len, r_proc, r_ctx, r_complete)
    checkers: dict[tuple[int, int], Checker] = {}
    found: list[tuple[int, str, str, int]] = []        # (variant, kind, step, position)
    for v, r in enumerate(rep):
        p, c = int(r_proc[r]), int(r_ctx[r])
        checker = checkers.get((p, c))
        if checker is None:
            checker = checkers[(p, c)] = Checker(procs.procedures[p].model, c)
        trace = [nodes[k] for k in o_node[r_start[r]:r_start[r] + r_len[r]]]
        try:
            devs = checker.explain(trace, bool(r_complete[r]))
        except ModelSizeError as err:
            raise ProcedureError([f"{procs.procedures[p].label}: the model {err}"],
                                 source=procs.source) from None
        found.extend((v, d.kind, d.step, d.position) for d in devs)

    flow = _spread(found, variant, r_case, r_round, r_start, occ, seq)
    duty = _duties(procs, occ, o_case, o_proc, o_node, o_round, nodes, resource, resources,
                   dept, depts, applicant, applicant_dept, seq)
    deviations = pd.concat([flow, duty], ignore_index=True)
    return _tables(procs, cases, proc, deviations, r_case, resources, depts, notes,
                   variants=len(rep), rounds=len(r_case), occurrences=len(occ))


def _final_rounds(case: np.ndarray, obj: np.ndarray, rnd: np.ndarray, last_round: np.ndarray,
                  r_case: np.ndarray, r_obj: np.ndarray) -> np.ndarray:
    """The last round of each round's case — of its object, where the case has objects (the
    highest round among the object's blocking events): an archived case completed it."""
    out = np.maximum(last_round[r_case], 1)
    if not (r_obj >= 0).any():
        return out
    mine = (obj >= 0) & (case >= 0)
    top = pd.Series(rnd[mine]).groupby([case[mine], obj[mine]]).max()
    hit = r_obj >= 0
    keys = pd.MultiIndex.from_arrays([r_case[hit], r_obj[hit]])
    out[hit] = top.reindex(keys).to_numpy()
    return out


def _assign(procs: Procedures, cases: pd.DataFrame) -> np.ndarray:
    """Index of the procedure in force for each case (its process type, its start date), or
    -1. A procedure without a process type takes the types that have none of their own."""
    ptype, names = pd.factorize(cases[C.process_type].astype("object"))
    code = {name: k for k, name in enumerate(names)}
    day = cases["start_at"].dt.tz_localize(None).to_numpy("datetime64[us]")
    typed = [code[p.process_type] for p in procs if p.process_type in code]
    out = np.full(len(cases), -1, dtype=np.int64)
    for i, p in enumerate(procs):
        if p.process_type is None:
            mask = ~np.isin(ptype, typed)
        else:
            mask = ptype == code.get(p.process_type, -2)
        if p.valid_from is not None:
            mask &= day >= np.datetime64(p.valid_from, "us")
        if p.valid_until is not None:
            mask &= day < np.datetime64(p.valid_until, "us")
        out[mask & (out < 0)] = i
    return out


def _contexts(procs: Procedures, cases: pd.DataFrame, proc: np.ndarray) -> np.ndarray:
    """Per case, bit k set when condition k of its procedure holds."""
    ctx = np.zeros(len(cases), dtype=np.int64)
    for i, p in enumerate(procs):
        rows = np.flatnonzero(proc == i)
        if not len(rows) or not p.conditions:
            continue
        frame = cases.iloc[rows]
        for k, expr in enumerate(p.conditions):
            try:
                hold = expr.evaluate(frame)
            except (TypeError, ValueError) as err:
                raise ProcedureError([f"{p.label}: the condition {expr.text!r} cannot be "
                                      f"evaluated on the log: {err}"],
                                     source=procs.source) from None
            ctx[rows[hold]] |= 1 << k
    return ctx


def _applicants(cases: pd.DataFrame, case: np.ndarray, submit: np.ndarray, resource: np.ndarray,
                resources: list[str], depts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per case: the applicant as a code of `resources` — the applicant column, else whoever
    first submitted the case — and the applicant's department as a code of `depts` (-1 when
    unknown or never acting)."""
    named = pd.Index(resources).get_indexer(cases[C.applicant].astype("object"))
    sub = np.flatnonzero(submit & (case >= 0))
    if len(sub):
        rows, first = np.unique(case[sub], return_index=True)
        submitter = np.full(len(cases), -1, dtype=np.int64)
        submitter[rows] = resource[sub[first]]
        named = np.where(cases[C.applicant].notna().to_numpy(), named, submitter)
    dept = pd.Index(depts).get_indexer(cases[C.applicant_dept].astype("object"))
    return named.astype(np.int64), dept.astype(np.int64)


def _node_tables(procs: Procedures, nodes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(procedure × node) flags: the node is one of the procedure's steps / is ignored."""
    index = {n: i for i, n in enumerate(nodes)}
    listed = np.zeros((len(procs), len(nodes)), dtype=bool)
    ignored = np.zeros_like(listed)
    for i, p in enumerate(procs):
        listed[i, [index[s] for s in p.steps if s in index]] = True
        ignored[i, [index[s] for s in p.ignore if s in index]] = True
    return listed, ignored


def _variants(o_node: np.ndarray, r_start: np.ndarray, r_len: np.ndarray, r_proc: np.ndarray,
              r_ctx: np.ndarray, r_complete: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variant of each round and one round per variant: equal procedure, context,
    completeness and steps in order. A round's steps are hashed (64 bits) and then compared
    step by step with its variant's first round; should two differ, the exact grouping is
    used instead."""
    n_rounds = len(r_start)
    pos = np.arange(len(o_node), dtype=np.int64)
    if len(o_node):
        owner = np.repeat(np.arange(n_rounds), r_len)
        pos = pos - np.repeat(r_start[r_len > 0], r_len[r_len > 0])
    else:
        owner = np.zeros(0, dtype=np.int64)
    with np.errstate(over="ignore"):
        x = (o_node.astype(np.uint64) + np.uint64(1)) * _MIX1 ^ (pos.astype(np.uint64) * _MIX2)
        x ^= x >> np.uint64(31)
        x *= _MIX2
        x ^= x >> np.uint64(29)
        h = np.zeros(n_rounds, dtype=np.uint64)
        np.add.at(h, owner, x)
    keys = pd.DataFrame({"p": r_proc, "c": r_ctx, "f": r_complete, "n": r_len,
                         "h": h.view(np.int64)})
    variant = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    rep = pd.Series(np.arange(n_rounds)).groupby(variant).first().to_numpy()
    if len(o_node):
        mine = o_node
        theirs = o_node[np.clip(r_start[rep[variant[owner]]] + pos, 0, len(o_node) - 1)]
        if not np.array_equal(mine, theirs):            # a hash collision: group exactly
            traces = [tuple(o_node[s:s + k]) for s, k in zip(r_start, r_len)]
            exact = pd.DataFrame({"p": r_proc, "c": r_ctx, "f": r_complete,
                                  "t": pd.Series(traces, dtype=object)})
            variant = exact.groupby(["p", "c", "f", "t"], sort=False).ngroup().to_numpy()
            rep = pd.Series(np.arange(n_rounds)).groupby(variant).first().to_numpy()
    return variant, rep


def _spread(found: list, variant: np.ndarray, r_case: np.ndarray, r_round: np.ndarray,
            r_start: np.ndarray, occ: np.ndarray, seq: np.ndarray) -> pd.DataFrame:
    """The control-flow deviations of each variant, one row per round of the variant."""
    cols = ["case", "round", "kind", "step", "seq"]
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    per = pd.DataFrame(found, columns=["variant", "kind", "step", "position"])
    rounds = pd.DataFrame({"variant": variant, "r": np.arange(len(variant))})
    rows = rounds.merge(per, on="variant", sort=False)
    r = rows["r"].to_numpy()
    position = rows["position"].to_numpy()
    at = np.where(position >= 0, r_start[r] + position, -1)
    ev = np.where(at >= 0, seq[occ[np.maximum(at, 0)]] if len(occ) else -1, -1)
    return pd.DataFrame({"case": r_case[r], "round": r_round[r], "kind": rows["kind"],
                         "step": rows["step"], "seq": ev})


def _duties(procs: Procedures, occ, o_case, o_proc, o_node, o_round, nodes, resource,
            resources, dept, depts, applicant, applicant_dept, seq) -> pd.DataFrame:
    """self_approval and authority deviations, one row per occurrence."""
    index = {n: i for i, n in enumerate(nodes)}
    people = pd.Index(resources)
    who, where = resource[occ], dept[occ]
    parts = []
    for i, p in enumerate(procs):
        mine = o_proc == i
        banned = [index[s] for s in p.not_by_applicant if s in index]
        if banned:
            hit = mine & np.isin(o_node, banned) & (who >= 0) & (who == applicant[o_case])
            parts.append(("self_approval", np.flatnonzero(hit)))
        for step, rule in p.authority.items():
            if step not in index:
                continue
            # judged where the log records what the rule names: the person or the department
            by_person = bool(procs.people_of(rule))
            by_unit = bool(rule.depts)
            at = mine & (o_node == index[step]) & ((by_person & (who >= 0))
                                                   | (by_unit & (where >= 0)))
            allowed = people.get_indexer(sorted(procs.people_of(rule)))
            units = pd.Index(depts).get_indexer([d for d in rule.depts if d != APPLICANT_DEPT])
            # names the log never records are no code (-1): they allow nobody
            ok = np.isin(who, allowed[allowed >= 0]) | np.isin(where, units[units >= 0])
            if APPLICANT_DEPT in rule.depts:
                ok |= (where >= 0) & (where == applicant_dept[o_case])
            parts.append(("authority", np.flatnonzero(at & ~ok)))
    rows = [(kind, k) for kind, hits in parts for k in hits]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object)
                             for c in ("case", "round", "kind", "step", "seq", "resource",
                                       "dept")})
    kind, k = zip(*rows)
    k = np.asarray(k)
    names = np.array(list(resources) + [None], dtype=object)
    units = np.array(list(depts) + [None], dtype=object)
    return pd.DataFrame({"case": o_case[k], "round": o_round[k], "kind": kind,
                         "step": np.array(nodes, dtype=object)[o_node[k]], "seq": seq[occ[k]],
                         "resource": names[who[k]], "dept": units[where[k]]})


def _tables(procs: Procedures, cases: pd.DataFrame, proc: np.ndarray, deviations: pd.DataFrame,
            r_case: np.ndarray, resources, depts, notes, **sizes: Any) -> CheckTables:
    """One row per checked case (its deviations counted by kind) and one per deviation."""
    checked = np.flatnonzero(proc >= 0)
    labels = np.array([p.name for p in procs] + [None], dtype=object)
    rounds = np.bincount(r_case, minlength=len(cases)) if len(r_case) else \
        np.zeros(len(cases), dtype=np.int64)
    table = cases[[C.case_id, C.process_type, "status", "start_at", "ended_at"]]
    table = (table if len(checked) == len(cases) else table.iloc[checked]).reset_index(drop=True)
    table.insert(2, "procedure", labels[proc[checked]])
    table["rounds_checked"] = rounds[checked]
    case = deviations["case"].to_numpy(dtype=np.int64)
    kinds = deviations["kind"].to_numpy(dtype=object)
    for kind in KINDS:
        per_case = np.bincount(case[kinds == kind], minlength=len(cases))
        table[kind] = per_case[checked].astype(np.int64)
    table["deviations"] = table[list(KINDS)].sum(axis=1)
    table["deviating"] = table["deviations"] > 0
    out = pd.DataFrame({
        C.case_id: cases[C.case_id].to_numpy()[case],
        C.process_type: cases[C.process_type].to_numpy()[case],
        "procedure": labels[proc[case]],
        "round": deviations["round"].to_numpy(dtype=np.int64),
        "step": deviations["step"].to_numpy(dtype=object), "kind": kinds,
        "seq": deviations["seq"].to_numpy(dtype=np.int64),
        "resource": deviations["resource"].to_numpy(dtype=object) if "resource" in deviations
        else None,
        "dept": deviations["dept"].to_numpy(dtype=object) if "dept" in deviations else None,
        "ended_at": cases["ended_at"].iloc[case].reset_index(drop=True)})
    order = {k: i for i, k in enumerate(KINDS)}
    out = out.assign(_k=out["kind"].map(order)).sort_values(
        [C.case_id, "round", "seq", "_k"], kind="stable").drop(columns="_k")
    unchecked = cases.loc[proc < 0, [C.case_id, C.process_type, "status", "start_at",
                                     "ended_at"]].reset_index(drop=True)
    return CheckTables(cases=table, deviations=out.reset_index(drop=True), unchecked=unchecked,
                       notes=tuple(notes), **sizes)


def conformance_tables(log: EventLog, procedures: Any,
                       calendar: Calendar | None = None) -> CheckTables:
    """`run_check` on procedures given as a path, dict or `Procedures`."""
    return run_check(log, load_procedures(procedures), calendar)
