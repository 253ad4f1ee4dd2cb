"""The stochastic engine: a discrete-event model of the office, learnt from the log (simpy).

Where the replay re-runs the cases that happened, this engine generates new ones from a model,
so it can answer questions the history cannot (other volumes, other case mixes) — at the
price of being only as good as the model. It is therefore **validated before any redesign is
run**: the as-is model is run for several replications and compared with the actual log
(cycle-time Wasserstein distance in hours, median and mean error, and the distance between
the control-flow 3-gram distributions); the comparison comes with every result, and a poor fit
is a warning.

What is learnt, per process type (completed cases; arrival rates from all cases):

* **arrivals**: a Poisson process in working time at the observed rate over the observed window;
* **case mix and routes**: each new case copies the attributes and the route (approval nodes in
  the order first visited, and the steps between them that decide nothing but take time, such
  as a payment request) of a random archived case of its type, so conditional routes
  (分管领导 only from 5,000 yuan) keep their link with the attributes ``when`` reads;
* **decisions** per node: P(return), P(reject); after a return the applicant resubmits (the route
  restarts) or withdraws, with the probability observed after that many returns;
* **delays**: the working time from the previous step to the decision, per node and per approver
  and urgency (紧急 items move faster everywhere) and per transition (previous step → node):
  the most specific of approver × urgency, node × urgency, approver × previous step,
  node × previous step, approver, node that has at least 20 observations, sampled from the
  empirical distribution; resubmission and withdrawal delays of applicants;
* **batches**: a node that acts on at most two weekdays at one time of day (a payment run)
  takes an item at the k-th run after it arrives, k drawn from what was observed for items
  arriving on the same weekday (see `_Batch`);
* **availability**: the office calendar (the model runs in working time and is placed on the
  calendar at the end) and each approver's working weekdays — an approver who acts on at most
  three weekdays (with at least 20 decisions) holds a decision that falls on another weekday to
  the start of their next working day. Their delays already contain part of that waiting, so
  this overstates their delay a little; the validation shows how much it matters.

Approvers are not capacity-limited resources: the observed delays already contain the queueing,
and treating them as service times would count it twice. simpy schedules the cases, their
resubmission rounds and parallel branches (会签 as ``AllOf``/``AnyOf`` of branch processes).

Common random numbers: every random choice is a hash of (seed, replication, process, case,
node, visit, purpose), so the as-is and the redesigned runs of a replication see the same cases
and the same draws wherever the route is the same.

The reduction is model against model (redesigned vs as-is runs, their cases pooled): it
estimates the reduction the redesign would bring to the office the log came from, over many
cases like the log's (not the log's own cases, which the replay re-runs). Its interval comes
from a bootstrap of the whole procedure (`bootstrap`): models learnt on case resamples and
run again, so it holds the uncertainty of what was learnt from a finite log as well as the
simulation noise.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy
from scipy import stats as sps

from officemine.log.relations import STEP_KINDS
from officemine.simulation._log import US, LogTables, resample
from officemine.simulation.scenario import (CapWait, FastTrack, Parallel, RecordOnly,
                                            ReduceReturns, Remove, Scenario, ShortRoute)
from officemine.base.text import Said

MIN_PERSONAL = 20
#: Runs of each case resample's model in the interval's bootstrap (at most the replications).
BOOTSTRAP_RUNS = 4
CI_METHOD = ("estimate ± t(0.975, resamples − 1) × the standard deviation of the same estimate "
             "on models learnt from case resamples: the log's cases resampled with replacement "
             "(seeded), a model learnt on each and run {runs} time(s) as-is and redesigned; it "
             "holds the uncertainty of the learnt model and the simulation noise")
RESTRICTED_DAYS = 3
NGRAM = 3
#: Validation thresholds: beyond "poor" a warning goes with every result.
FAIR = {"error_pct": 10.0, "ngram": 0.15}
POOR = {"error_pct": 25.0, "ngram": 0.30}

_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


_GOLDEN = 0x9E3779B97F4A7C15


def _key(key: int, *parts: int) -> int:
    """A 64-bit key derived from a key and integer parts (splitmix64)."""
    for part in parts:
        key = _mix((key ^ (part + _GOLDEN)) & _MASK)
    return key


def _u(key: int, slot: int) -> float:
    """The uniform in [0, 1) of one purpose (slot) under a key: common random numbers."""
    return (_mix((key + slot * _GOLDEN) & _MASK) >> 11) / 9007199254740992.0


def _pick(sorted_values: np.ndarray, u: float) -> float:
    return float(sorted_values[min(int(u * len(sorted_values)), len(sorted_values) - 1)])


# --- the model ------------------------------------------------------------------------------

@dataclass
class _Node:
    p_return: float
    p_reject: float
    actors: np.ndarray
    actor_cum: list[float]
    by_applicant: dict[int, tuple[np.ndarray, list[float]]]    # applicant dept -> actors, cum
    delays: np.ndarray                          # pooled, sorted, working seconds
    personal: dict[int, np.ndarray]
    by_urgency: dict[tuple[int, int], np.ndarray]   # (actor or -1, urgency) -> sorted delays
    by_prev: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    # (actor or -1, previous node) -> sorted delays: the transition into this node
    passive: bool = False                       # a step that decides nothing (Request Payment)

    def delays_for(self, actor: int, urgency: int, prev: int = -1) -> np.ndarray:
        """The most specific distribution with enough data: the approver at this urgency,
        the node at this urgency, the approver after the previous node, the node after the
        previous node, the approver, the node."""
        for key in ((actor, urgency), (-1, urgency)):
            found = self.by_urgency.get(key)
            if found is not None:
                return found
        for key in ((actor, prev), (-1, prev)):
            found = self.by_prev.get(key)
            if found is not None:
                return found
        return self.personal.get(actor, self.delays)


@dataclass
class _Batch:
    """A node that acts in batches: on a few weekdays, at one time of day (payments on
    Mondays and Thursdays at five). It acts at the k-th batch after the item reached it, k
    drawn from the counts observed for items that reached it on the same weekday (a payment
    requested on Thursday misses Thursday's run and waits for Monday's)."""

    slots: np.ndarray                           # working seconds from origin, sorted
    k: np.ndarray                               # sorted observed batch counts (>= 1)
    note: str
    k_by_day: dict[int, np.ndarray] = field(default_factory=dict)   # weekday reached -> k


@dataclass
class _Process:
    name: str
    code: int
    rate: float                                 # cases per working second
    templates: np.ndarray                       # case codes of archived cases
    routes: list[tuple[int, ...]]
    resubmit: np.ndarray
    withdraw: np.ndarray
    archive: np.ndarray
    p_withdraw: np.ndarray                      # index: returns so far (1-based; [0] unused)
    submit_label: str
    archive_label: str
    submit_code: int = -1
    archive_code: int = -1


@dataclass
class OfficeModel:
    """What the stochastic engine learnt from a log (see the module docstring)."""

    processes: list[_Process]
    nodes: dict[tuple[int, int], _Node]
    window: tuple[float, float]                 # working seconds from `origin`
    origin: pd.Timestamp
    end_w: float                                # the log's end, working seconds from origin
    actor_dept: np.ndarray
    actor_days: dict[int, np.ndarray]           # restricted approvers: bool[7] working weekdays
    day_start: list[float]                      # working seconds at the start of each workday
    day_weekday: np.ndarray
    node_names: list[str]
    applicant_dept: np.ndarray                  # per case (dept code, -1 unknown)
    urgency: np.ndarray                         # per case (urgency code, -1 unknown)
    restricted_note: list[str] = field(default_factory=list)
    batches: dict[int, _Batch] = field(default_factory=dict)    # node code -> its batches


def learn(tables: LogTables) -> OfficeModel:
    """Learn the office model from the completed cases of a log."""
    cal = tables.calendar
    cases, v = tables.cases, tables.visits
    # One clock for everything: the calendar's. Office hours are read on it (working seconds),
    # so dates, weekdays and the workday table must be too; the log's zone may differ (a
    # calendar given for another office), and then its midnight is not the calendar's.
    started = _on_clock(cases["started"], cal)
    t_end = _on_clock(v["t_end"], cal)
    origin = started.min().normalize()
    w_start = cal.working_seconds(origin, started)
    end_w = float(cal.working_seconds(origin, pd.Timestamp(tables.span[1]))[0])
    proc_codes, proc_names = pd.factorize(cases["process_type"].astype("object").fillna("(未知)"))
    vproc = proc_codes[v["case"].to_numpy()]
    appr = v["approval"].to_numpy(bool)
    exit_ = v["exit"].to_numpy(object)
    node = v["node_code"].to_numpy()
    actor = v["actor"].to_numpy()
    d = v["d"].to_numpy() / US
    roles = tables.roles
    names = sorted(tables.node_codes, key=tables.node_codes.get)

    dept_index = {name: i for i, name in enumerate(tables.depts)}
    app = cases["applicant_dept"].astype("object").map(dept_index).fillna(-1).to_numpy(np.int64)
    case = v["case"].to_numpy()
    urgency = pd.factorize(cases["urgency"].astype("object"))[0]
    first_v = np.r_[True, case[1:] != case[:-1]] if len(case) else np.zeros(0, bool)
    prev = np.r_[-1, node[:-1]] if len(node) else node.copy()
    prev[first_v] = -1
    frame = pd.DataFrame({"p": vproc, "n": node, "a": actor, "d": d, "e": exit_, "ad": app[case],
                          "u": urgency[case], "pv": prev})
    # steps that are not steps of the chain but take time (the system's payment request, a
    # step the source did not name) ride along; they never return or reject anything
    other_node = np.array([roles.get(x) not in STEP_KINDS | {"submit", "archive"}
                           for x in names], dtype=bool)
    passive = other_node[node] if len(names) else np.zeros(len(node), bool)
    routed = appr | passive
    nodes = _learn_nodes(frame[routed], names, roles, other_node)
    processes = _learn_processes(tables, frame, routed, names, proc_codes, proc_names, w_start,
                                 vproc, case, node, exit_, d)
    weekday = t_end.day_of_week.to_numpy()
    actor_dept, actor_days, notes = _learn_approvers(tables, actor, appr, weekday)
    day_start, day_weekday, on_day = _workday_table(cal, origin, started, t_end)
    batches = _batches(names, node, weekday, w_start[case] + v["w_end"].to_numpy() / US, d,
                       day_start, day_weekday, on_day, cal.day_seconds)
    return OfficeModel(processes=processes, nodes=nodes,
                       window=(float(w_start.min()), float(w_start.max())), origin=origin,
                       end_w=end_w, actor_dept=actor_dept, actor_days=actor_days,
                       day_start=day_start.tolist(), day_weekday=day_weekday,
                       node_names=names, applicant_dept=app, urgency=urgency,
                       restricted_note=notes, batches=batches)


def _learn_nodes(routed_visits: pd.DataFrame, names: list[str], roles: dict[str, str],
                 other_node: np.ndarray) -> dict[tuple[int, int], _Node]:
    """Per (process, node) on the route: P(return), P(reject), who decides and the delay
    distributions, from the visits of approval steps and of steps that only take time."""
    nodes: dict[tuple[int, int], _Node] = {}
    for (p, n), grp in routed_visits.groupby(["p", "n"], sort=False):
        dec = grp["e"].to_numpy(object)
        decided = np.isin(dec, ("approve", "auto_approve", "return", "reject"))
        total = max(int(decided.sum()), 1)
        counts = grp["a"].value_counts()
        personal = {int(a): np.sort(g["d"].to_numpy()) for a, g in grp.groupby("a")
                    if len(g) >= MIN_PERSONAL}
        by_urgency = {}
        if (grp["u"] >= 0).any() and grp["u"].nunique() > 1:
            for (a, u), g in grp[grp["u"] >= 0].groupby(["a", "u"]):
                if len(g) >= MIN_PERSONAL:
                    by_urgency[(int(a), int(u))] = np.sort(g["d"].to_numpy())
            for u, g in grp[grp["u"] >= 0].groupby("u"):
                if len(g) >= MIN_PERSONAL:
                    by_urgency[(-1, int(u))] = np.sort(g["d"].to_numpy())
        # the transition into the node: a check after another check waits otherwise than one
        # right after (re)submission
        by_prev = {}
        for (a, pv), g in grp.groupby(["a", "pv"]):
            if len(g) >= MIN_PERSONAL:
                by_prev[(int(a), int(pv))] = np.sort(g["d"].to_numpy())
        for pv, g in grp.groupby("pv"):
            if len(g) >= MIN_PERSONAL:
                by_prev[(-1, int(pv))] = np.sort(g["d"].to_numpy())
        # who decides may depend on the applicant's department (部门负责人审核: their own head)
        by_app = {}
        for ad, g in grp[grp["ad"] >= 0].groupby("ad"):
            c = g["a"].value_counts()
            by_app[int(ad)] = (c.index.to_numpy(np.int64), list(np.cumsum(c.to_numpy()) / c.sum()))
        decides = roles.get(names[n]) == "decision"       # only decision steps stop items
        nodes[(int(p), int(n))] = _Node(
            p_return=float((dec == "return").sum()) / total if decides else 0.0,
            p_reject=float((dec == "reject").sum()) / total if decides else 0.0,
            actors=counts.index.to_numpy(np.int64),
            actor_cum=list(np.cumsum(counts.to_numpy()) / counts.sum()), by_applicant=by_app,
            delays=np.sort(grp["d"].to_numpy()), personal=personal, by_urgency=by_urgency,
            by_prev=by_prev, passive=bool(other_node[n]))
    return nodes


def _learn_processes(tables: LogTables, frame: pd.DataFrame, routed: np.ndarray,
                     names: list[str], proc_codes: np.ndarray, proc_names: pd.Index,
                     w_start: np.ndarray, vproc: np.ndarray, case: np.ndarray, node: np.ndarray,
                     exit_: np.ndarray, d: np.ndarray) -> list[_Process]:
    """Per process type with archived cases: the arrival rate, the archived cases whose
    attributes and routes new cases copy, the odds of withdrawing after each return and the
    applicants' delays."""
    cases, v, roles = tables.cases, tables.visits, tables.roles
    last = np.r_[case[1:] != case[:-1], True] if len(case) else np.zeros(0, bool)
    archived = np.zeros(len(cases), bool)
    archived[case[last]] = exit_[last] == "archive"
    firsts = frame[routed].assign(c=case[routed]).drop_duplicates(["c", "n"])
    route_of = firsts.groupby("c", sort=False)["n"].agg(tuple)
    is_submit = np.array([roles.get(x) == "submit" for x in names])[node]
    is_archive = np.array([roles.get(x) == "archive" for x in names])[node]
    nxt = np.r_[exit_[1:], None]
    same_case_next = np.r_[case[1:] == case[:-1], False]
    processes = []
    for p, pname in enumerate(proc_names):
        in_p = proc_codes == p
        starts = w_start[in_p]
        span = float(starts.max() - starts.min()) if starts.size > 1 else 0.0
        tmpl = np.flatnonzero(in_p & archived & np.isin(np.arange(len(cases)), route_of.index))
        if not tmpl.size:
            continue
        rows_p = vproc == p
        ret = rows_p & (exit_ == "return") & same_case_next
        k = v["round"].to_numpy()[ret]
        gave_up = nxt[ret] == "withdraw"
        p_withdraw = np.zeros(max(int(k.max()) if k.size else 1, 1) + 2)
        for r in range(1, len(p_withdraw)):
            at = k == r
            p_withdraw[r] = gave_up[at].mean() if at.any() else (p_withdraw[r - 1] if r > 1 else 0.0)
        # more returns than ever seen (none seen: any): the applicant gives up, so no case
        # loops for ever on a node that returns it every time
        p_withdraw[(int(k.max()) if k.size else 0) + 1:] = 1.0
        sub_label = Counter(np.asarray(names, object)[node[rows_p & is_submit]]).most_common(1)
        arc_label = Counter(np.asarray(names, object)[node[rows_p & is_archive]]).most_common(1)
        processes.append(_Process(
            name=str(pname), code=p, rate=(in_p.sum() / span) if span > 0 else 0.0,
            templates=tmpl, routes=[route_of[c] for c in tmpl],
            resubmit=np.sort(d[rows_p & (exit_ == "resubmit")]) if (rows_p & (exit_ == "resubmit")).any() else np.zeros(1),
            withdraw=np.sort(d[rows_p & (exit_ == "withdraw")]) if (rows_p & (exit_ == "withdraw")).any() else np.zeros(1),
            archive=np.sort(d[rows_p & is_archive]) if (rows_p & is_archive).any() else np.zeros(1),
            p_withdraw=p_withdraw,
            submit_label=sub_label[0][0] if sub_label else "发起",
            archive_label=arc_label[0][0] if arc_label else "归档",
            submit_code=tables.node_codes.get(sub_label[0][0], -1) if sub_label else -1,
            archive_code=tables.node_codes.get(arc_label[0][0], -1) if arc_label else -1))
    return processes


def _learn_approvers(tables: LogTables, actor: np.ndarray, appr: np.ndarray,
                     weekday: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray], list[Said]]:
    """The department of each person who decides, and the working weekdays of those who act
    on at most `RESTRICTED_DAYS` weekdays (with notes saying who)."""
    v = tables.visits
    n_people = len(tables.people)
    actor_dept = np.full(max(n_people, 1), -1, dtype=np.int64)
    has = actor >= 0
    if has.any():
        dept_tab = pd.DataFrame({"a": actor[has], "d": v["last_dept"].to_numpy()[has]})
        common = dept_tab.groupby("a")["d"].agg(lambda s: s.value_counts().index[0])
        actor_dept[common.index.to_numpy()] = common.to_numpy()
    actor_days: dict[int, np.ndarray] = {}
    notes = []
    dec_rows = appr & (actor >= 0)
    for a, wd in pd.DataFrame({"a": actor[dec_rows], "w": weekday[dec_rows]}).groupby("a")["w"]:
        if len(wd) < MIN_PERSONAL:
            continue
        days = np.bincount(wd.to_numpy(), minlength=7) >= max(1, 0.05 * len(wd))
        if days[:5].sum() <= RESTRICTED_DAYS:
            actor_days[int(a)] = days
            notes.append(Said("sim.restricted", who=str(tables.people[a]), days=_weekdays(days)))
    return actor_dept, actor_days, notes


def _workday_table(cal, origin: pd.Timestamp, started: pd.DatetimeIndex,
                   t_end: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The workdays over the log and a generous horizon after it (working seconds at each
    one's start, its weekday), and the workday each visit ended on (-1: not a workday)."""
    horizon = pd.date_range(origin, started.max().normalize() + pd.Timedelta(days=3 * 365),
                            freq="D")
    work = cal.is_workday(horizon)
    day_start = np.cumsum(np.r_[0.0, work[:-1].astype(float) * cal.day_seconds])[work]
    day_weekday = horizon[work].day_of_week.to_numpy()
    # the workday (by the clock's date) each visit ended on: an action at 17:31 is Monday's
    # payment run, though in working time it is the same instant as Tuesday 08:30
    day_no = np.round((t_end.normalize() - origin).total_seconds()
                      .to_numpy() / 86400).astype(np.int64)
    workday_index = np.cumsum(work) - 1
    on_day = np.where((day_no >= 0) & (day_no < len(work)),
                      workday_index[np.clip(day_no, 0, len(work) - 1)], -1)
    on_day[(day_no >= 0) & (day_no < len(work))
           & ~work[np.clip(day_no, 0, len(work) - 1)]] = -1
    return day_start, day_weekday, on_day


def _on_clock(times, cal) -> pd.DatetimeIndex:
    """Instants as wall-clock times of the calendar's zone (naive ones are taken as local)."""
    idx = pd.DatetimeIndex(times)
    return idx.tz_localize(cal.tz) if idx.tz is None else idx.tz_convert(cal.tz)


#: A node acts in batches when at least this share of its actions fall on at most two weekdays
#: and within half an hour of one time of day.
BATCH_SHARE = 0.8
BATCH_TOLERANCE = 1800.0


def _weekdays(days: np.ndarray) -> list[Said]:
    """The weekdays set in `days` (seven flags, Monday first), as the catalogue says them."""
    return [Said(f"weekday.{i}") for i in np.flatnonzero(days)]


def _batches(names, node, weekday, w_end, d, day_start, day_weekday, on_day,
             day_seconds) -> dict[int, _Batch]:
    """Nodes that act in batches (see `_Batch`), learnt from when their visits ended
    (``on_day``: the index of the workday of each visit's end, -1 if not a workday)."""
    out: dict[int, _Batch] = {}
    if not len(node) or not len(day_start):
        return out
    offset = np.clip(w_end - day_start[np.maximum(on_day, 0)], 0.0, day_seconds)
    ready = w_end - d
    for n in np.unique(node):
        m = (node == n) & (on_day >= 0)
        if m.sum() < MIN_PERSONAL:
            continue
        counts = np.bincount(weekday[m], minlength=7)
        days = counts >= 0.05 * m.sum()
        off = float(np.median(offset[m]))
        on_time = np.abs(offset[m] - off) <= BATCH_TOLERANCE
        if (days.sum() > 2 or counts[days].sum() < BATCH_SHARE * m.sum()
                or on_time.mean() < BATCH_SHARE):
            continue
        slots = day_start[days[day_weekday]] + off
        k = np.maximum(np.searchsorted(slots, w_end[m] + BATCH_TOLERANCE, "right")
                       - np.searchsorted(slots, ready[m], "right"), 1)
        reached = day_weekday[np.clip(np.searchsorted(day_start, ready[m], "right") - 1,
                                      0, len(day_start) - 1)]
        by_day = {int(w): np.sort(k[reached == w]) for w in np.unique(reached)
                  if (reached == w).sum() >= MIN_PERSONAL}
        out[int(n)] = _Batch(slots=slots, k=np.sort(k), k_by_day=by_day,
                             note=Said("sim.batches", node=str(names[n]), days=_weekdays(days)))
    return out


# --- a scenario as the model sees it ---------------------------------------------------------

@dataclass
class _Plan:
    """Per process: nodes left out, route restrictions per case, parallel groups, caps and
    return scales."""

    removed: dict[int, set[int]]
    informed: dict[int, set[int]]
    routes: list[tuple[np.ndarray, set[int], int | None]]   # (case mask, allowed nodes, process)
    groups: dict[int, list[set[int]]]
    cap: dict[tuple[int, int], float]
    return_scale: dict[tuple[int, int], float]


def _plan(scenario: Scenario, tables: LogTables, model: OfficeModel) -> _Plan:
    from officemine.necessity import classify_reason

    codes = tables.node_codes
    pcode = {p.name: p.code for p in model.processes}
    cases = tables.cases
    plan = _Plan({}, {}, [], {}, {}, {})
    base_scope = [pcode[x] for x in scenario.process if x in pcode] if scenario.process else None

    def scope(change) -> list[int]:
        own = [pcode[change.process]] if change.process in pcode else None
        if own is not None:
            return own
        return base_scope if base_scope is not None else [p.code for p in model.processes]

    for ch in scenario.changes:
        procs = scope(ch)
        if isinstance(ch, (Remove, RecordOnly)):
            for p in procs:
                plan.removed.setdefault(p, set()).add(codes[ch.node])
                if isinstance(ch, RecordOnly):
                    plan.informed.setdefault(p, set()).add(codes[ch.node])
        elif isinstance(ch, (FastTrack, ShortRoute)):
            mask = ch.expr.evaluate(cases)
            for p in procs:
                plan.routes.append((mask, {codes[n] for n in ch.nodes}, p))
        elif isinstance(ch, Parallel):
            for p in procs:
                plan.groups.setdefault(p, []).append({codes[n] for n in ch.nodes})
        elif isinstance(ch, CapWait):
            for p in procs:
                plan.cap[(p, codes[ch.node])] = ch.hours * 3600.0
        elif isinstance(ch, ReduceReturns):
            share = 1.0
            if ch.reason is not None:
                at = tables.visits_ending(ch.node, "return")
                comments = at["comment"].astype("object")
                hit = comments.map(lambda c: isinstance(c, str) and (
                    classify_reason(c) == ch.reason or ch.reason in c))
                share = float(hit.mean()) if len(hit) else 0.0
            for p in procs:
                key = (p, codes[ch.node])
                plan.return_scale[key] = plan.return_scale.get(key, 1.0) * (1 - ch.fraction * share)
    return plan


def _steps(route: tuple[int, ...], p: int, case: int, plan: _Plan | None,
           passive: frozenset[int] = frozenset()) -> list[tuple[int, ...]]:
    if plan is None:
        return [(n,) for n in route]
    gone = plan.removed.get(p, set())
    nodes = [n for n in route if n not in gone]
    for mask, allowed, proc in plan.routes:
        if proc == p and mask[case]:
            nodes = [n for n in nodes if n in allowed or n in passive]
    steps: list[tuple[int, ...]] = []
    placed: set[int] = set()
    groups = plan.groups.get(p, [])
    for n in nodes:
        if n in placed:
            continue
        group = next((g for g in groups if n in g), None)
        if group is None:
            steps.append((n,))
            placed.add(n)
        else:
            members = tuple(m for m in nodes if m in group)
            steps.append(members)
            placed.update(members)
    return steps


# --- one run --------------------------------------------------------------------------------

@dataclass
class _Run:
    """One replication's cases, in arrival order within each process (so the as-is and the
    redesigned runs of a replication line up case by case)."""

    process: list[int] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    template: list[int] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    approver_s: list[float] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    returns: list[int] = field(default_factory=list)
    handoffs: list[int] = field(default_factory=list)
    informed: list[int] = field(default_factory=list)
    trace: list[tuple] = field(default_factory=list)

    def add(self, process: int, index: int, template: int, start: float, end: float,
            status: str, approver_s: float, items: int, returns: int, handoffs: int,
            informed: int, trace: list[str] | None) -> None:
        """Record one case at its end (``trace``: its step labels, when traced)."""
        self.process.append(process)
        self.index.append(index)
        self.template.append(template)
        self.start.append(start)
        self.end.append(end)
        self.status.append(status)
        self.approver_s.append(approver_s)
        self.items.append(items)
        self.returns.append(returns)
        self.handoffs.append(handoffs)
        self.informed.append(informed)
        if trace is not None:
            self.trace.append(tuple(trace))


def run(model: OfficeModel, plan: _Plan | None, *, seed: int, replication: int,
        trace: bool = False, stream: int = 0) -> _Run:
    """One replication: every process's arrivals over the observed window, run to the end.
    ``stream`` > 0: random numbers independent of stream 0's (the bootstrap's models)."""
    env = simpy.Environment()
    out = _Run()
    key = _mix((seed * 1_000_003 + replication) & _MASK)
    if stream:
        key = _key(key, stream, 0xB007)
    w0, w1 = model.window
    passive = frozenset(n for (_, n), node in model.nodes.items() if node.passive)
    sim = _Replication(env, model, plan, key, passive, trace, out)

    def arrivals(proc: _Process):
        rng = np.random.default_rng([seed, replication, proc.code, 0xA77]
                                    + ([stream, 0xB007] if stream else []))
        n = int(rng.poisson(proc.rate * (w1 - w0)))
        times = np.sort(rng.uniform(w0, w1, n))
        tmpl = rng.integers(0, len(proc.templates), n)
        for i in range(n):
            yield env.timeout(max(times[i] - env.now, 0.0))
            env.process(sim.case(proc, i, int(tmpl[i])))

    for proc in model.processes:
        env.process(arrivals(proc))
    env.run()
    order = sorted(range(len(out.process)), key=lambda j: (out.process[j], out.index[j]))
    for name in out.__dataclass_fields__:
        values = getattr(out, name)
        if values:
            setattr(out, name, [values[j] for j in order])
    return out


@dataclass
class _Replication:
    """What the cases of one replication share: the simpy environment, the model and the
    scenario's plan (None: as-is), the key of their random numbers, and the record they go to."""

    env: simpy.Environment
    model: OfficeModel
    plan: _Plan | None
    key: int
    passive: frozenset[int]                     # nodes that decide nothing
    trace: bool
    out: _Run

    def case(self, proc: _Process, i: int, tmpl: int):
        """The i-th case of a process, copying archived case ``tmpl``, from its arrival to
        its end (archived, rejected or withdrawn), as a simpy process; recorded in `out`."""
        env, model, plan, trace = self.env, self.model, self.plan, self.trace
        c = int(proc.templates[tmpl])
        ck = _key(self.key, proc.code, i)
        steps = _steps(proc.routes[tmpl], proc.code, c, plan, self.passive)
        start = env.now
        seen: Counter = Counter()
        appr_s = 0.0
        items = returns = handoffs = 0
        app_dept = prev_dept = int(model.applicant_dept[c])
        urg = int(model.urgency[c])
        labels = [proc.submit_label] if trace else None
        status = "archived"
        prev = proc.submit_code
        while True:
            outcome = "approve"
            for step in steps:
                t0 = env.now
                results = []
                for n in step:
                    a, t1, dec = _visit(model, plan, proc, ck, n, seen[n], t0, app_dept, urg,
                                        prev)
                    seen[n] += 1
                    results.append((t1, dec, n, a))
                stops = [r for r in results if r[1] != "approve"]
                t_end = min(r[0] for r in stops) if stops else max(r[0] for r in results)
                if len(step) > 1:     # 会签 branches as simpy processes; the step waits for them
                    branches = [env.timeout(max(r[0] - t0, 0.0)) for r in results]
                    yield (env.any_of(branches) if stops else env.all_of(branches))
                    if env.now < t_end:
                        yield env.timeout(t_end - env.now)
                else:
                    yield env.timeout(max(t_end - t0, 0.0))
                for t1, dec, n, a in sorted(results):
                    if stops and t1 > t_end:
                        continue            # a parallel branch still working when the item left
                    prev = n
                    if model.nodes[(proc.code, n)].passive:
                        if trace:
                            labels.append(model.node_names[n])
                        continue
                    appr_s += t1 - t0
                    items += 1
                    dept = int(model.actor_dept[a]) if a >= 0 else -1
                    handoffs += int(dept >= 0 and prev_dept >= 0 and dept != prev_dept)
                    prev_dept = dept
                    if trace:
                        labels.append(model.node_names[n] + (f":{dec}" if dec != "approve" else ""))
                if stops:
                    outcome = min(stops)[1]
                    break
            if outcome == "approve":
                t1 = _archived_at(model, proc, ck, returns, env.now)
                yield env.timeout(max(t1 - env.now, 0.0))
                if trace:
                    labels.append(proc.archive_label)
                break
            if outcome == "reject":
                status = "rejected"
                break
            returns += 1
            app = int(model.applicant_dept[c])
            handoffs += int(app >= 0 and prev_dept >= 0 and app != prev_dept)
            prev_dept = app
            p_w = proc.p_withdraw[min(returns, len(proc.p_withdraw) - 1)]
            if _u(_key(ck, 1 << 40, returns), 8) < p_w:
                yield env.timeout(_pick(proc.withdraw, _u(_key(ck, 1 << 40, returns), 9)))
                if trace:
                    labels.append(proc.submit_label + ":withdraw")
                status = "withdrawn"
                break
            yield env.timeout(_pick(proc.resubmit, _u(_key(ck, 1 << 40, returns), 10)))
            prev = proc.submit_code
            if trace:
                labels.append(proc.submit_label)
        informed = sum(1 for n in proc.routes[tmpl]
                       if plan is not None and n in plan.informed.get(proc.code, set()))
        self.out.add(proc.code, i, c, start, env.now, status, appr_s, items, returns, handoffs,
                     informed, labels)


def _visit(model: OfficeModel, plan: _Plan | None, proc: _Process, ck: int, n: int, k: int,
           t0: float, app_dept: int, urg: int, prev: int):
    """(actor, decision time, decision) of visit k at node n of the case keyed ck; the
    same person decides on every visit of a case (the first visit's draw)."""
    node = model.nodes[(proc.code, n)]
    vk = _key(ck, (n << 16) | k)
    ua = _u(vk if k == 0 else _key(ck, n << 16), 1)
    ud, ux = _u(vk, 2), _u(vk, 3)
    actors, cum = node.by_applicant.get(app_dept, (node.actors, node.actor_cum))
    a = int(actors[min(bisect.bisect_right(cum, ua), len(actors) - 1)])
    delay = _pick(node.delays_for(a, urg, prev), ud)
    if plan is not None:
        delay = min(delay, plan.cap.get((proc.code, n), math.inf))
        p_ret = node.p_return * plan.return_scale.get((proc.code, n), 1.0)
    else:
        p_ret = node.p_return
    decision = "reject" if ux < node.p_reject else (
        "return" if ux < node.p_reject + p_ret else "approve")
    batch = model.batches.get(n)
    if batch is not None and not (plan is not None and (proc.code, n) in plan.cap):
        return a, _batched(model, batch, t0, ud), decision
    return a, _available(model, a, t0 + delay), decision


def _archived_at(model: OfficeModel, proc: _Process, ck: int, returns: int, t0: float) -> float:
    """When the case keyed ck, approved at t0 after ``returns`` returns, is archived: at a
    batch of the archive step when it acts in batches, else after an archiving delay."""
    u = _u(_key(ck, 1 << 40, returns), 7)
    batch = model.batches.get(proc.archive_code)
    return _batched(model, batch, t0, u) if batch is not None else t0 + _pick(proc.archive, u)


def _batched(model: OfficeModel, b: _Batch, t0: float, u: float) -> float:
    """The k-th batch after t0."""
    day = model.day_weekday[max(bisect.bisect_right(model.day_start, t0) - 1, 0)]
    j = int(np.searchsorted(b.slots, t0, "right")) + int(_pick(b.k_by_day.get(day, b.k), u)) - 1
    return float(b.slots[min(j, len(b.slots) - 1)])


def _available(model: OfficeModel, a: int, t: float) -> float:
    """When approver ``a`` decides what falls due at ``t``: then, or at the start of their next
    working day when ``t`` is on a weekday they do not work."""
    days = model.actor_days.get(a)
    if days is None:
        return t
    k = bisect.bisect_right(model.day_start, t) - 1
    k0 = k
    while k < len(model.day_start) and not days[model.day_weekday[k]]:
        k += 1
    return t if k == k0 else float(model.day_start[min(k, len(model.day_start) - 1)])


# --- validation -----------------------------------------------------------------------------

def _ngrams(traces, n: int = NGRAM) -> Counter:
    counts: Counter = Counter()
    for t in traces:
        padded = ("▶",) * (n - 1) + tuple(t) + ("■",)
        counts.update(zip(*(padded[i:] for i in range(n))))
    return counts


def ngram_distance(a, b, n: int = NGRAM) -> float:
    """Total-variation distance (0 = same, 1 = disjoint) between the n-gram frequency
    distributions of two sets of traces."""
    ca, cb = _ngrams(a, n), _ngrams(b, n)
    ta, tb = sum(ca.values()), sum(cb.values())
    if not ta or not tb:
        return float("nan")
    # a correctly rounded sum: the same to the last bit in any order (a set's order changes
    # with each process's string hashing, and a plain sum's last digit with it)
    return 0.5 * math.fsum(abs(ca[k] / ta - cb[k] / tb) for k in set(ca) | set(cb))


def actual_traces(tables: LogTables) -> list[tuple]:
    v = tables.visits
    names = np.asarray(tables.visits["node"].astype("object"), dtype=object)
    exit_ = v["exit"].to_numpy(object)
    mark = np.isin(exit_, ("return", "reject", "withdraw"))
    labels = np.where(mark, names + ":" + np.where(mark, exit_, "").astype(object), names)
    case = v["case"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, case[1:] != case[:-1], True]) if len(case) else [0]
    return [tuple(labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _verdict(v: dict) -> str:
    errs = [abs(v[k]) for k in ("as_is_median_error_pct", "as_is_mean_error_pct")
            if v.get(k) is not None]
    ng = v.get("ngram_distance")
    if any(e > POOR["error_pct"] for e in errs) or (ng is not None and ng > POOR["ngram"]):
        return "poor"
    if all(e <= FAIR["error_pct"] for e in errs) and (ng is None or ng <= FAIR["ngram"]):
        return "good"
    return "fair"


# --- driver ---------------------------------------------------------------------------------

def _hours(model: OfficeModel, cal, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    both = cal.add_working_time(model.origin, np.r_[start, end])
    ns = both.as_unit("ns").asi8
    n = len(start)
    return (ns[n:] - ns[:n]) / 3.6e12, ns[n:]


def simulate_stochastic(tables: LogTables, scenarios, *, seed: int, replications: int):
    """Learn the model, validate it as-is against the log, then run each scenario against it
    (see the module docstring); one `ScenarioResult` per scenario."""
    from officemine.simulation import _stats
    from officemine.simulation.result import ScenarioResult

    cal = tables.calendar
    model = learn(tables)
    end_ns = pd.Timestamp(tables.span[1]).as_unit("ns").value
    # 1. the as-is model against the log, before anything else
    as_is = [run(model, None, seed=seed, replication=r, trace=True) for r in range(replications)]
    done = tables.cases["completed"].to_numpy(bool)
    actual = tables.cases["cycle_hours"].to_numpy(float)
    pname = {p.code: p.name for p in model.processes}
    case_proc = tables.cases["process_type"].astype("object").fillna("(未知)").to_numpy()
    traces_actual = actual_traces(tables)
    trace_proc = case_proc[tables.visits["case"].to_numpy()[
        np.r_[True, tables.visits["case"].to_numpy()[1:] != tables.visits["case"].to_numpy()[:-1]]]] \
        if len(tables.visits) else np.array([], dtype=object)

    sim = []
    for r in as_is:
        h, end = _hours(model, cal, np.asarray(r.start), np.asarray(r.end))
        sim.append((h, end <= end_ns, np.array([pname[p] for p in r.process], dtype=object)))

    populations = _populations(tables, scenarios, seed, case_proc[done])
    runs_each = min(BOOTSTRAP_RUNS, replications)
    boot = bootstrap(tables, [(s, keep) for s, (_, _, keep) in zip(scenarios, populations)],
                     seed=seed, resamples=replications, runs=runs_each)
    results = []
    for scenario, (pop_mask, types, keep_types), boot_s in zip(scenarios, populations, boot):
        in_actual = pop_mask
        sim_in = [np.isin(p, list(keep_types)) for _, _, p in sim]
        validation = _validation(actual[in_actual], sim, sim_in, as_is, traces_actual,
                                 trace_proc, keep_types, replications)
        plan = _plan(scenario, tables, model)
        hb, hr, wb, wr, sums, ids, procs, per_rep = _redesigned_runs(
            model, plan, as_is, sim, sim_in, cal, seed, pname)
        baseline = _stats.cycle_stats(hb, wb)
        redesign = _stats.cycle_stats(hr, wr)
        reduction = _reduction_with_ci(baseline, redesign, boot_s)
        indicators = _indicators(sums, hb.size, replications)
        warnings = _warnings(validation, replications)
        case_df = pd.DataFrame({
            "case_id": ids, "process_type": procs, "baseline_hours": hb, "redesign_hours": hr,
            "baseline_workdays": wb, "redesign_workdays": wr,
            "changed": hb != hr, "imputed": np.zeros(hb.size, bool)})
        from officemine.simulation.replay import _by_process

        results.append(ScenarioResult(
            scenario=scenario, engine="stochastic", seed=seed, replications=replications,
            population=types, baseline=baseline, redesign=redesign, reduction=reduction,
            validation=validation, indicators=indicators,
            by_process=_by_process(case_df, hr[:, None]), cases=case_df,
            warnings=tuple(warnings), ci_method=CI_METHOD.format(runs=runs_each),
            affected=_affected(hb, hr, boot_s, replications),
            extra={"interval": {
                       "resamples": replications, "runs_per_resample": runs_each,
                       **{f"{stat}_pct_bootstrap_sd": _sd(boot_s[stat])
                          for stat in ("median", "mean", "p90")},
                       **{f"{stat}_pct_run_sd": _sd(per_rep[stat])
                          for stat in ("median", "mean", "p90")}},
                   "model": {"processes": len(model.processes), "nodes": len(model.nodes),
                             "approvers_with_own_delays": int(sum(len(n.personal)
                                                                  for n in model.nodes.values())),
                             "restricted_approvers": model.restricted_note,
                             "batched_nodes": [b.note for b in model.batches.values()],
                             "baseline_basis": "the as-is model's cycle times (the reduction "
                                               "is model against model); see validation for "
                                               "its distance from the log"}}))
    return results


def _populations(tables: LogTables, scenarios, seed: int, completed_types: np.ndarray
                 ) -> list[tuple[np.ndarray, tuple[str, ...], set[str]]]:
    """Per scenario, the log's cases and process types its figures cover, by the replay's
    rule (`replay.population_of`), and the process types of the simulated cases counted."""
    from officemine.simulation.replay import (build_donors, population_of, replay_cases,
                                              row_arrays)

    rows = row_arrays(tables)
    donors = build_donors(tables, rows)
    populations = []
    for scenario in scenarios:
        # the population rule of the replay: the scenario's process types, else those it touches
        touched = replay_cases(tables, scenario, rows, donors, seed=seed, draws=1).changed
        pop_mask, types = population_of(tables, scenario, touched)
        populations.append((pop_mask, types, set(types) if types else set(completed_types)))
    return populations


def _validation(actual: np.ndarray, sim: list, sim_in: list[np.ndarray], as_is: list[_Run],
                traces_actual: list[tuple], trace_proc: np.ndarray, keep_types: set[str],
                replications: int) -> dict:
    """The as-is runs against the log's ``actual`` cycle hours (of the population) and traces:
    distances, errors and a verdict."""
    from officemine.simulation import _stats

    observed = np.concatenate([h[ok & inside] for (h, ok, _), inside in zip(sim, sim_in)])
    validation = {**_stats.compare_with_actual(actual, observed),
                  "ngram_distance": ngram_distance(
                      [t for t, p in zip(traces_actual, trace_proc) if p in keep_types],
                      [t for r, inside in zip(as_is, sim_in)
                       for t, i in zip(r.trace, inside) if i]),
                  "ngram_n": NGRAM, "cases": int(actual.size),
                  "simulated_cases": int(observed.size),
                  "replications": replications,
                  "method": "as-is model (replications pooled; cases finished by the end of "
                            "the log, like the log's completed cases) against the actual "
                            "cycle times; Wasserstein distance in hours; total-variation "
                            "distance of control-flow 3-grams"}
    validation["emd_relative"] = (validation["emd_hours"] / float(np.mean(actual))
                                  if validation["emd_hours"] is not None else None)
    validation["verdict"] = _verdict(validation)
    return validation


def _redesigned_runs(model: OfficeModel, plan: _Plan, as_is: list[_Run], sim: list,
                     sim_in: list[np.ndarray], cal, seed: int, pname: dict[int, str]):
    """Each replication run redesigned beside its as-is run, the population's cases pooled:
    clock hours as-is and redesigned, working days as-is and redesigned, the indicators'
    sums (as-is, redesigned), case ids, process types, and each run's own reductions."""
    from officemine.simulation import _stats

    day_s = cal.day_seconds
    per_rep = {"median": [], "mean": [], "p90": []}    # each run's own, for the spread
    base_all, red_all, wb_all, wr_all = [], [], [], []
    sums = {k: [0.0, 0.0] for k in ("approver_s", "items", "returns", "handoffs", "informed")}
    ids, procs = [], []
    for rep, r0 in enumerate(as_is):
        r1 = run(model, plan, seed=seed, replication=rep)
        inside = sim_in[rep]
        hb, _ = _hours(model, cal, np.asarray(r0.start), np.asarray(r0.end))
        hr, _ = _hours(model, cal, np.asarray(r1.start), np.asarray(r1.end))
        hb, hr = hb[inside], hr[inside]
        if hb.size:
            per_rep["median"].append(_stats.pct(np.median(hb), np.median(hr)))
            per_rep["mean"].append(_stats.pct(hb.mean(), hr.mean()))
            per_rep["p90"].append(_stats.pct(np.quantile(hb, 0.9), np.quantile(hr, 0.9)))
        base_all.append(hb)
        red_all.append(hr)
        wb_all.append((np.asarray(r0.end) - np.asarray(r0.start))[inside] / day_s)
        wr_all.append((np.asarray(r1.end) - np.asarray(r1.start))[inside] / day_s)
        for k in sums:
            sums[k][0] += float(np.asarray(getattr(r0, k), float)[inside].sum()) if k != "informed" else 0.0
            sums[k][1] += float(np.asarray(getattr(r1, k), float)[inside].sum())
        ids += [f"r{rep}:{pname[p]}:{i}" for i, p in enumerate(np.asarray(r0.process)[inside])]
        procs += list(sim[rep][2][inside])
    return (np.concatenate(base_all), np.concatenate(red_all), np.concatenate(wb_all),
            np.concatenate(wr_all), sums, ids, procs, per_rep)


def _reduction_with_ci(baseline, redesign, boot: dict[str, np.ndarray]) -> dict:
    """The reduction of the median, mean and p90 cycle time (%) with their intervals, and of
    the working days."""
    from officemine.simulation import _stats

    # the estimate: every run's cases pooled (the model's reduction over many cases like
    # the log's); its interval: the spread of the same estimate on models learnt from
    # case resamples (`bootstrap`)
    point = {"median": _stats.pct(baseline.median_h, redesign.median_h),
             "mean": _stats.pct(baseline.mean_h, redesign.mean_h),
             "p90": _stats.pct(baseline.p90_h, redesign.p90_h)}
    return {
        **{k: v for stat in ("median", "mean", "p90") for k, v in (
            (f"{stat}_pct", point[stat]),
            (f"{stat}_pct_ci", _t_interval(point[stat], boot[stat])))},
        "mean_hours_saved_per_case": baseline.mean_h - redesign.mean_h,
        "median_workdays_pct": _stats.pct(baseline.median_workdays, redesign.median_workdays),
        "mean_workdays_pct": _stats.pct(baseline.mean_workdays, redesign.mean_workdays),
    }


def _indicators(sums: dict[str, list[float]], n_simulated: int, replications: int) -> dict:
    """Waiting hours, decisions, returns and hand-offs as-is and redesigned, from their sums
    over the runs: per replication, hand-offs per case."""
    n_cases = max(n_simulated, 1)
    R = float(replications)
    return {
        "approver_hours": {"before": sums["approver_s"][0] / 3600 / R,
                           "after": sums["approver_s"][1] / 3600 / R,
                           "saved": (sums["approver_s"][0] - sums["approver_s"][1]) / 3600 / R,
                           "unit": "working hours of waiting at approval nodes, summed, per "
                                   "replication (one log's worth of cases)"},
        "items": {"before": sums["items"][0] / R, "after": sums["items"][1] / R,
                  "no_longer_handled": (sums["items"][0] - sums["items"][1]) / R,
                  "informed_only": sums["informed"][1] / R,
                  "unit": "decisions taken at approval nodes, per replication"},
        "returns": {"before": sums["returns"][0] / R, "after": sums["returns"][1] / R,
                    "avoided": (sums["returns"][0] - sums["returns"][1]) / R},
        "handoffs_per_case": {"before": sums["handoffs"][0] / n_cases,
                              "after": sums["handoffs"][1] / n_cases,
                              "unit": "department changes between consecutive decisions "
                                      "(model: one department per visit)"},
    }


def _warnings(validation: dict, replications: int) -> list[Said]:
    """A poor fit of the as-is model, and too few replications."""
    warnings = []
    if validation["verdict"] == "poor":
        warnings.append(Said("simulation.poor_model", figures=", ".join(
            f"{k} {validation[k]:.3g}" for k in ("as_is_median_error_pct",
                                                 "as_is_mean_error_pct", "ngram_distance")
            if validation.get(k) is not None)))
    if replications < 5:
        warnings.append(Said("simulation.few_replications", n=replications)
                        if replications > 1 else Said("simulation.one_replication"))
    return warnings


def bootstrap(tables: LogTables, scenarios: list[tuple[Scenario, set[str]]], *, seed: int,
              resamples: int, runs: int) -> list[dict[str, np.ndarray]]:
    """The estimate again on models learnt from case resamples: per scenario (with the process
    types its figures cover), the median, mean and p90 reduction (%) of each resample.

    Each resample draws the log's cases with replacement (seeded), learns its own model
    (`learn`) and runs it ``runs`` times as-is and redesigned (common random numbers within
    the resample, independent of the log's model), pooling the runs' cases as the estimate
    does. The spread of these reductions holds both the uncertainty of the learnt model and
    the simulation noise of ``runs`` runs; the estimate pools at least as many runs, so its
    own simulation noise is at most that (the interval errs on the wide side).
    """
    cal = tables.calendar
    n = len(tables.cases)
    out = [{k: np.full(resamples, np.nan) for k in (*STATS, *AFFECTED)} for _ in scenarios]
    for b in range(resamples):
        # sorted: the resample keeps the log's case order (repeats side by side)
        idx = np.sort(np.random.default_rng([seed, b, 0xB007]).integers(0, n, n))
        sample = resample(tables, idx)
        model = learn(sample)
        pname = {p.code: p.name for p in model.processes}
        plans = [_plan(scenario, sample, model) for scenario, _ in scenarios]
        base: list[list[np.ndarray]] = [[] for _ in scenarios]
        red: list[list[np.ndarray]] = [[] for _ in scenarios]
        for j in range(runs):
            r0 = run(model, None, seed=seed, replication=j, stream=b + 1)
            hb, _ = _hours(model, cal, np.asarray(r0.start), np.asarray(r0.end))
            proc = np.array([pname[p] for p in r0.process], dtype=object)
            for i, ((_, keep), plan) in enumerate(zip(scenarios, plans)):
                r1 = run(model, plan, seed=seed, replication=j, stream=b + 1)
                hr, _ = _hours(model, cal, np.asarray(r1.start), np.asarray(r1.end))
                inside = np.isin(proc, list(keep))
                base[i].append(hb[inside])
                red[i].append(hr[inside])
        for i in range(len(scenarios)):
            hb, hr = np.concatenate(base[i]), np.concatenate(red[i])
            for k, v in _reductions(hb, hr).items():
                out[i][k][b] = v
    return out


#: The reductions the bootstrap repeats: of the whole population, and of the cases changed.
STATS = ("median", "mean", "p90")
AFFECTED = ("affected_median", "affected_mean", "affected_share")


def _changed(hb: np.ndarray, hr: np.ndarray) -> np.ndarray:
    """The simulated cases the redesign changes: run as-is and redesigned with the same random
    numbers, their cycle times differ."""
    return np.abs(hr - hb) > 1e-9


def _reductions(hb: np.ndarray, hr: np.ndarray) -> dict[str, float]:
    """Reduction (%) of the median, mean and p90 over all cases, and of the median and mean
    over the changed ones with their share (nan where there are none)."""
    from officemine.simulation import _stats

    out = dict.fromkeys((*STATS, *AFFECTED), float("nan"))
    if not hb.size:
        return out
    out.update(median=float(_stats.pct(np.median(hb), np.median(hr))),
               mean=float(_stats.pct(hb.mean(), hr.mean())),
               p90=float(_stats.pct(np.quantile(hb, 0.9), np.quantile(hr, 0.9))))
    changed = _changed(hb, hr)
    out["affected_share"] = float(changed.mean())
    if changed.any():
        b, r = hb[changed], hr[changed]
        out.update(affected_median=float(_stats.pct(np.median(b), np.median(r))),
                   affected_mean=float(_stats.pct(b.mean(), r.mean())))
    return out


def _affected(hb: np.ndarray, hr: np.ndarray, boot: dict[str, np.ndarray],
              replications: int) -> dict:
    """Whom the estimate concerns, as the replay reports it (`replay._affected`): the
    simulated cases the redesign changes, their share, and the reduction over them alone, each
    with the bootstrap's interval."""
    changed = _changed(hb, hr)
    est = _reductions(hb, hr)
    out = {"cases": int(changed.sum()), "of_cases": int(changed.size),
           "share": est["affected_share"],
           "share_ci": _t_interval(est["affected_share"], boot["affected_share"]),
           "definition": f"simulated cases ({replications} run(s) of the model pooled) whose "
                         "cycle time the redesign changes, the same case run as-is and "
                         "redesigned with the same random numbers"}
    if changed.any():
        out.update(median_pct=est["affected_median"],
                   median_pct_ci=_t_interval(est["affected_median"], boot["affected_median"]),
                   mean_pct=est["affected_mean"],
                   mean_pct_ci=_t_interval(est["affected_mean"], boot["affected_mean"]))
    return out


def _sd(values) -> float | None:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return float(v.std(ddof=1)) if v.size > 1 else None


def _t_interval(estimate: float, resampled: np.ndarray, confidence: float = 0.95) -> list[float]:
    """``estimate`` ± t × the standard deviation of its ``resampled`` values (t with one
    degree of freedom fewer than resamples: the spread is itself estimated)."""
    v = np.asarray(resampled, float)
    v = v[np.isfinite(v)]
    if v.size < 2 or not np.isfinite(estimate):
        return [float("nan"), float("nan")]
    half = sps.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1)
    return [float(estimate - half), float(estimate + half)]
