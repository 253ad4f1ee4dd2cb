"""The replay engine: every completed historical case re-run through the redesigned route.

How a case is re-run (all steps are array operations over every visit of every case; the only
Python loops are over submission rounds and over the changes of a scenario):

1. **Mark** each visit with what the scenario does to it: dropped (``remove``,
   ``record_only``, nodes left out by ``fast_track``/``short_route`` for matching cases), its
   return vanishing (``reduce_returns``: each candidate return vanishes with probability
   ``fraction``, drawn from the seed), its wait cut (``cap_wait``), or its parallel group.
   A withdrawal is the applicant's choice and is never dropped with its node.
2. **Resolve** vanished returns and rejections (at a dropped node, or by ``reduce_returns``):
   the case continues as if the node had approved. The resubmission round the return caused
   collapses into the round it interrupted: its re-passes of nodes already passed in that
   round (发起's resubmission, the nodes before the returning one, the node itself) vanish, and
   the case continues with the first visit to a node it had not passed yet. A return that
   stays starts a new round as before.
3. **Continue** cases whose observed history ends before the redesigned case would (the return
   that vanished was in the last round, or a rejection vanished): their remaining route is
   taken from a *donor* — a completed case of the same process type that approved at the same
   node in its last round and was archived — of the same urgency where possible and the nearest
   amount. These cases are counted (``imputed``).
4. **Parallel** nodes of one round become one step starting at the first one's arrival and
   lasting as long as the slowest (or until a member that returns the item returns it).
5. **Place** the result on the working calendar: each kept step keeps its observed working
   time (from the previous step's end to its own end); the case's new end is the calendar
   instant where the summed working time is reached from the case's start
   (`Calendar.add_working_time`), so a wait that spanned a weekend may not after the shift.
   A step whose arrival did not move keeps its observed time exactly — with no change, every
   cycle time is reproduced to the microsecond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from officemine.simulation._log import EXIT, US, LogTables, instants
from officemine.simulation.scenario import (CapWait, FastTrack, Parallel, RecordOnly,
                                            ReduceReturns, Remove, Scenario, ShortRoute)
from officemine.base.text import Said

TERMINAL_EXITS = ("archive", "reject", "withdraw")
_RETURN, _WITHDRAW, _ARCHIVE = EXIT["return"], EXIT["withdraw"], EXIT["archive"]
#: Alternative draws of which returns vanish, for scenarios with ``fraction < 1``: the point
#: estimate pools them and the bootstrap samples among them, so the interval includes that
#: randomness too.
SELECTION_DRAWS = 20


@dataclass
class CaseOutcome:
    """Per-case results of one replay (arrays over the log's cases; NaN for open cases).

    ``cycle_hours``/``w_cycle`` have shape (cases, draws); the indicators are averaged over
    draws.
    """

    cycle_hours: np.ndarray
    w_cycle: np.ndarray            # working microseconds
    approver_us: np.ndarray
    items: np.ndarray
    informed: np.ndarray
    returns: np.ndarray
    handoffs: np.ndarray
    changed: np.ndarray            # bool
    imputed: np.ndarray            # bool: the route after a vanished return/rejection came from a donor
    unresolved: np.ndarray         # bool: no donor found; the case ends where its history ends
    draws: int


# --- 1. marks -------------------------------------------------------------------------------

def _is(exit_: np.ndarray, *names: str) -> np.ndarray:
    """Whether each exit code is one of these outcomes."""
    out = np.zeros(exit_.shape, dtype=bool)
    for name in names:
        out |= exit_ == EXIT[name]
    return out


def _mark(rows: dict[str, np.ndarray], tables: LogTables, scenario: Scenario,
          uniforms: dict[int, np.ndarray] | None, reason_ok: dict[int, np.ndarray]) -> dict:
    """What each change does to each row (rows: arrays of equal length). Without
    ``uniforms``, only the returns that vanish for certain (``fraction = 1``) vanish; see
    `_random_vanish` for the others."""
    cases = tables.cases
    codes = tables.node_codes
    case, ncode, appr = rows["case"], rows["node_code"], rows["approval"]
    n = len(case)
    drop = np.zeros(n, dtype=bool)
    informed = np.zeros(n, dtype=bool)
    vanish = np.zeros(n, dtype=bool)
    group = np.full(n, -1, dtype=np.int64)
    d = rows["d"].copy()
    wait = rows["wait"].copy()
    is_return = rows["exit"] == _RETURN
    base_scope = tables.process_mask(scenario.process)
    for i, ch in enumerate(scenario.changes):
        scope_case = base_scope & tables.process_mask(ch.process)
        sc = scope_case[case]
        if isinstance(ch, (Remove, RecordOnly)):
            sel = sc & (ncode == codes.get(ch.node, -2))
            drop |= sel
            if isinstance(ch, RecordOnly):
                informed |= sel
        elif isinstance(ch, Parallel):
            sel = sc & np.isin(ncode, [codes.get(x, -2) for x in ch.nodes])
            group[sel] = i
        elif isinstance(ch, (FastTrack, ShortRoute)):
            match = ch.expr.evaluate(cases) & scope_case
            listed = np.isin(ncode, [codes.get(x, -2) for x in ch.nodes])
            drop |= match[case] & appr & ~listed
        elif isinstance(ch, ReduceReturns):
            sel = sc & (ncode == codes.get(ch.node, -2)) & is_return & reason_ok[i]
            if ch.fraction >= 1.0:
                vanish |= sel
        elif isinstance(ch, CapWait):
            sel = sc & (ncode == codes.get(ch.node, -2)) & appr
            cap = int(round(ch.hours * 3600 * US))
            cut = np.where(sel, np.maximum(wait - cap, 0), 0)
            wait = wait - cut
            d = np.maximum(d - cut, 0)
    drop &= rows["exit"] != _WITHDRAW           # the applicant's withdrawal stays
    if uniforms is not None:
        vanish |= _random_vanish(rows, tables, scenario, uniforms, reason_ok)
    return {"drop": drop, "informed": informed, "vanish": vanish, "group": group, "d": d,
            "wait": wait}


def _random_vanish(rows: dict[str, np.ndarray], tables: LogTables, scenario: Scenario,
                   uniforms: dict[int, np.ndarray], reason_ok: dict[int, np.ndarray]
                   ) -> np.ndarray:
    """Returns that vanish by the draw ``uniforms`` (``reduce_returns`` with fraction < 1)."""
    codes = tables.node_codes
    vanish = np.zeros(len(rows["case"]), dtype=bool)
    base_scope = tables.process_mask(scenario.process)
    for i, ch in enumerate(scenario.changes):
        if isinstance(ch, ReduceReturns) and ch.fraction < 1.0:
            sc = (base_scope & tables.process_mask(ch.process))[rows["case"]]
            sel = sc & (rows["node_code"] == codes.get(ch.node, -2)) & \
                (rows["exit"] == _RETURN) & reason_ok[i]
            vanish |= sel & (uniforms[i] < ch.fraction)
    return vanish


def reduce_candidates(tables: LogTables, scenario: Scenario, rows: dict) -> tuple[dict, np.ndarray]:
    """Reason filters per reduce_returns change, and the rows whose return may vanish at random.
    A filter is only read at the change's node, so only returns there are classified."""
    from officemine.necessity import classify_reason

    reason_ok: dict[int, np.ndarray] = {}
    random_rows = np.zeros(len(rows["case"]), dtype=bool)
    codes = tables.node_codes
    base_scope = tables.process_mask(scenario.process)
    for i, ch in enumerate(scenario.changes):
        if not isinstance(ch, ReduceReturns):
            continue
        if ch.reason is None:
            ok = np.ones(len(rows["case"]), dtype=bool)
        else:
            ok = np.zeros(len(rows["case"]), dtype=bool)
            ret = np.flatnonzero((rows["exit"] == _RETURN)
                                 & (rows["node_code"] == codes.get(ch.node, -2)))
            comments = pd.Series(rows["comment"][ret], dtype="object")
            uniq = comments.dropna().unique()
            hit = {c: classify_reason(c) == ch.reason or ch.reason in c for c in uniq}
            ok[ret] = comments.map(hit).fillna(False).to_numpy(dtype=bool)
        reason_ok[i] = ok
        if ch.fraction < 1.0:
            sc = (base_scope & tables.process_mask(ch.process))[rows["case"]]
            random_rows |= sc & ok & (rows["node_code"] == codes.get(ch.node, -2)) & \
                (rows["exit"] == _RETURN)
    return reason_ok, random_rows


# --- 2. resolve -----------------------------------------------------------------------------

def _resolve(rows: dict, marks: dict, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """Kept rows after vanished returns collapse their rounds; merged-round id; re-passes;
    vanished exits (return/reject that no longer happens)."""
    case, rnd, ncode = rows["case"], rows["round"], rows["node_code"]
    exit_ = rows["exit"]
    n = len(case)
    keep = ~marks["drop"]
    repass = np.zeros(n, dtype=bool)
    merged = np.zeros(n, dtype=np.int64)
    if n == 0:
        return keep, merged, repass, np.zeros(0, dtype=bool)
    is_return = exit_ == _RETURN
    n_cases = int(case.max()) + 1
    state = np.zeros(n_cases, dtype=np.int64)
    r_max = int(rnd.max())
    stride = r_max + 1
    # only the nodes passed by cases with a later round are ever looked up
    later = np.zeros(n_cases, dtype=bool)
    later[case[rnd > 1]] = True
    order = np.argsort(rnd.astype(np.int16) if r_max < 2**15 else rnd, kind="stable")  # radix
    bounds = np.searchsorted(rnd[order], np.arange(1, r_max + 2))
    kept_keys = np.zeros(0, dtype=np.int64)           # sorted
    for r in range(1, r_max + 1):
        idx = order[bounds[r - 1]:bounds[r]]
        if idx.size == 0:
            continue
        c = case[idx]
        mm = state[c]
        key = (c * stride + mm) * n_nodes + ncode[idx]
        if r > 1 and kept_keys.size:
            rp = _member(key, kept_keys)
            repass[idx] = rp
            keep[idx] &= ~rp
        merged[idx] = mm
        if r < r_max:
            # kind="stable" is a timsort: the new keys come nearly in order, so it merges
            kept_keys = np.sort(np.concatenate([kept_keys, key[keep[idx] & later[c]]]),
                                kind="stable")
        # the round's exit is its last row in each case
        last = idx[np.r_[c[1:] != c[:-1], True]]
        stays = is_return[last] & keep[last] & ~marks["vanish"][last]
        state[case[last[stays]]] += 1
    vanished = (_is(exit_, "return", "reject") & ~keep) | (is_return & marks["vanish"])
    return keep, merged, repass, vanished


# --- 3. donors ------------------------------------------------------------------------------

@dataclass
class _Candidates:
    """Donor anchors sorted by key, then log-amount (ties in row order)."""

    key: np.ndarray
    amount: np.ndarray
    pos: np.ndarray                      # row of the anchor visit
    case: np.ndarray

    @classmethod
    def of(cls, key: np.ndarray, amount: np.ndarray, pos: np.ndarray, case: np.ndarray,
           by_amount: np.ndarray | None = None) -> "_Candidates":
        """``by_amount``: ``np.argsort(amount, kind="stable")`` when known."""
        if by_amount is None:
            by_amount = np.argsort(amount, kind="stable")
        # then by key, stably (ties keep amount then row order); small keys sort by radix
        k = key[by_amount]
        small = k.astype(np.uint16) if k.size and 0 <= k.min() and k.max() < 2**16 else k
        order = by_amount[np.argsort(small, kind="stable")]
        return cls(key[order], amount[order], pos[order], case[order])

    def nearest(self, key: np.ndarray, amount: np.ndarray, recipients: np.ndarray
                ) -> np.ndarray:
        """Per recipient, the anchor row of the candidate with its key and the nearest amount
        (the lower one on a tie), or its neighbour when that is the recipient itself; -1 when
        there is none."""
        lo = np.searchsorted(self.key, key, side="left")
        hi = np.searchsorted(self.key, key, side="right")
        out = np.full(len(key), -1, dtype=np.int64)
        has = np.flatnonzero(hi > lo)
        if not has.size:
            return out
        lo, hi, x = lo[has], hi[has], amount[has]
        m = hi - lo
        k = np.clip(_bisect_left(self.amount, lo, hi, x) - lo, 0, m - 1)
        k0 = np.clip(k - 1, 0, m - 1)
        take = np.where(np.abs(self.amount[lo + k0] - x) <= np.abs(self.amount[lo + k] - x),
                        k0, k)
        own = self.case[lo + take] == recipients[has]
        if own.any():                # never a case its own donor: take a neighbour instead
            alt = np.where(take + 1 < m, take + 1, take - 1)
            take = np.where(own, np.clip(alt, 0, m - 1), take)
            own = self.case[lo + take] == recipients[has]
        out[has] = np.where(own, -1, self.pos[lo + take])
        return out


def _bisect_left(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray
                 ) -> np.ndarray:
    """``lo + np.searchsorted(values[lo:hi], x)`` for each (lo, hi, x) at once."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        right = active & (values[np.minimum(mid, len(values) - 1)] < x)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


@dataclass
class _Donors:
    """Last rounds of archived cases, for continuing cases whose history ends too early.

    Candidates are indexed by (process, node, urgency) and by (process, node), each sorted by
    key and log-amount, so picking the nearest amount is a binary search.
    """

    rows: dict[str, np.ndarray]          # all visit rows (full table)
    case_end: np.ndarray                 # row index one past each case's last row
    proc: np.ndarray                     # per case: process code (-1 missing)
    urgent: np.ndarray                   # per case: urgency code (-1 missing)
    log_amount: np.ndarray               # per case: log1p(amount), -1 when missing
    n_nodes: int
    n_urgent: int
    strict: _Candidates
    loose: _Candidates

    def key(self, proc: np.ndarray, node: np.ndarray, urgent: np.ndarray | None) -> np.ndarray:
        return _donor_key(proc, node, urgent, self.n_nodes, self.n_urgent)


def _donor_key(proc: np.ndarray, node: np.ndarray, urgent: np.ndarray | None, n_nodes: int,
               n_urgent: int) -> np.ndarray:
    """(process, node[, urgency]) as one integer (codes -1 for missing are allowed)."""
    pn = (proc + 1) * n_nodes + node
    return pn if urgent is None else pn * (n_urgent + 1) + urgent + 1


def _case_keys(tables: LogTables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cases = tables.cases
    proc = tables.process_codes[0]
    urg = np.asarray(pd.factorize(cases["urgency"], use_na_sentinel=True)[0], dtype=np.int64)
    amount = pd.to_numeric(cases["amount"], errors="coerce").astype(float).to_numpy()
    return proc, urg, np.where(np.isnan(amount), -1.0, np.log1p(np.clip(amount, 0, None)))


def build_donors(tables: LogTables, rows: dict) -> _Donors:
    case, rnd = rows["case"], rows["round"]
    n_cases = len(tables.cases)
    n = len(case)
    ends = np.flatnonzero(np.r_[case[1:] != case[:-1], True]) if n else np.zeros(0, np.int64)
    case_end = np.zeros(n_cases + 1, dtype=np.int64)
    case_end[case[ends]] = ends + 1
    final_round = np.zeros(n_cases, dtype=np.int64)
    final_round[case[ends]] = rnd[ends]
    archived = np.zeros(n_cases, dtype=bool)
    archived[case[ends]] = rows["exit"][ends] == _ARCHIVE
    anchor = (archived[case] & (rnd == final_round[case]) & rows["approval"]
              & _is(rows["exit"], "approve", "auto_approve"))
    pos = np.flatnonzero(anchor)
    proc, urg, amount = _case_keys(tables)
    c = case[pos]
    n_nodes = max(tables.node_codes.values(), default=0) + 1
    n_urgent = int(urg.max(initial=-1)) + 1
    node = rows["node_code"][pos]
    strict = _donor_key(proc[c], node, urg[c], n_nodes, n_urgent)
    loose = _donor_key(proc[c], node, None, n_nodes, n_urgent)
    by_amount = np.argsort(amount[c], kind="stable")
    return _Donors(rows, case_end, proc, urg, amount, n_nodes, n_urgent,
                   _Candidates.of(strict, amount[c], pos, c, by_amount),
                   _Candidates.of(loose, amount[c], pos, c, by_amount))


def _pick_donors(donors: _Donors, recipients: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Row index of the donor's anchor visit for each recipient (-1: none): same process and
    node, same urgency if possible, nearest amount, never the case itself."""
    proc, urg = donors.proc[recipients], donors.urgent[recipients]
    amount = donors.log_amount[recipients]
    out = donors.strict.nearest(donors.key(proc, anchors, urg), amount, recipients)
    todo = np.flatnonzero(out < 0)
    if todo.size:
        out[todo] = donors.loose.nearest(donors.key(proc[todo], anchors[todo], None),
                                         amount[todo], recipients[todo])
    return out


def as_is_scenario() -> Scenario:
    """The empty scenario (no change): replaying it must reproduce the log."""
    s = object.__new__(Scenario)
    for k, v in (("name", "as-is"), ("changes", ()), ("process", None), ("description", ""),
                 ("source", None)):
        object.__setattr__(s, k, v)
    return s


# --- the run --------------------------------------------------------------------------------

_ROW_FIELDS = ("case", "round", "node_code", "exit", "approval", "d", "wait", "w_end", "items",
               "handoffs_in", "first_dept", "last_dept", "t_end", "comment")


def row_arrays(tables: LogTables) -> dict[str, np.ndarray]:
    """The visits of the completed cases as plain arrays (exits as `EXIT` codes, comments as
    an object array, departments as integer codes, -1 unknown, ``t_end`` in ns)."""
    return {f: tables.rows[f] for f in _ROW_FIELDS}


def _take(rows: dict, idx: np.ndarray) -> dict:
    return {k: a[idx] for k, a in rows.items()}


def run_once(tables: LogTables, scenario: Scenario, rows: dict, donors: _Donors,
             uniforms: dict[int, np.ndarray] | None, reason_ok: dict[int, np.ndarray], *,
             marks: dict | None = None) -> dict:
    """Replay ``rows`` (whole cases) once; per-case results indexed by case code. ``marks``:
    `_mark` of these rows, when already known."""
    n_nodes = max(tables.node_codes.values(), default=0) + 2
    if marks is None:
        marks = _mark(rows, tables, scenario, uniforms, reason_ok)
    keep, merged, repass, vanished = _resolve(rows, marks, n_nodes)
    case = rows["case"]
    n = len(case)
    n_cases = len(tables.cases)
    pos = np.arange(n, dtype=np.int64)

    # --- 3. cases whose kept history ends before a terminal step get a donor's continuation
    kept_idx = np.flatnonzero(keep)
    imputed, unresolved, extra = _continue_from_donors(tables, scenario, rows, donors, reason_ok,
                                                       keep, merged, vanished, kept_idx, n_nodes)
    has_extra = extra is not None and len(extra["case"]) > 0

    # --- indicators on the kept steps (sums of integers: exact in any order, so the kept rows
    # and the continuations are summed apart)
    kept = {"case": case, "approval": rows["approval"] & keep, "wait": marks["wait"],
            "items": rows["items"], "stays": (rows["exit"] == _RETURN) & ~marks["vanish"] & keep}
    approver_us, items, returns = _step_indicators(kept, n_cases)
    if has_extra:
        extra["stays"] = (extra["exit"] == _RETURN) & ~extra["vanish"]
        for total, add in zip((approver_us, items, returns), _step_indicators(extra, n_cases)):
            total += add
    informed = np.bincount(case[marks["informed"] & ~repass], minlength=n_cases).astype(float)

    # --- assemble kept rows (original + continuation), in order: only what is still needed
    grouped = (marks["group"][kept_idx] >= 0).any() or \
        (has_extra and (extra["group"] >= 0).any())
    fields = _PLACE_FIELDS + (_PARALLEL_FIELDS if grouped else ())
    k = kept_idx
    this_run = {"merged": merged, "pos": pos, "d": marks["d"], "group": marks["group"],
                "vanish": marks["vanish"]}
    out = {f: this_run.get(f, rows.get(f))[k] for f in fields}
    if has_extra:
        out = {f: np.concatenate([a, extra[f]]) for f, a in out.items()}
        # in (case, pos) order: both parts are, and a case's continuation follows its rows
        order = np.argsort(out["case"], kind="stable")
        out = {f: a[order] for f, a in out.items()}

    # --- 4. parallel groups: one step from the first member's arrival, as long as the slowest
    if grouped:
        out = _parallel(out)
    handoffs = _handoffs(out, n_cases)
    if "_lead" in out:
        lead = out.pop("_lead")
        out = {f: a[lead] for f, a in out.items()}

    # --- 5. place on the calendar
    cycle_hours, w_cycle = _place(tables, out, n_cases)

    changed = np.zeros(n_cases, dtype=bool)
    touched = marks["drop"] | marks["vanish"] | (marks["d"] != rows["d"]) | (marks["group"] >= 0)
    changed[case[touched]] = True
    return {"cycle_hours": cycle_hours, "w_cycle": w_cycle, "approver_us": approver_us,
            "items": items, "informed": informed, "returns": returns, "handoffs": handoffs,
            "changed": changed, "imputed": imputed, "unresolved": unresolved}


def _continue_from_donors(tables: LogTables, scenario: Scenario, rows: dict, donors: _Donors,
                          reason_ok: dict[int, np.ndarray], keep: np.ndarray,
                          merged: np.ndarray, vanished: np.ndarray, kept_idx: np.ndarray,
                          n_nodes: int) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """Cases whose kept history ends before a terminal step continue with a donor's route
    after the node where their return or rejection vanished (step 3): per case, continued
    (imputed) and without a donor (unresolved); the continuation rows (None: none)."""
    case = rows["case"]
    n = len(case)
    n_cases = len(tables.cases)
    last_kept = _last_per_case(case, kept_idx, n_cases)
    present = case[np.r_[True, case[1:] != case[:-1]]] if n else case   # rows are in case order
    lk = last_kept[present]
    terminal = np.zeros(len(present), dtype=bool)
    terminal[lk >= 0] = _is(rows["exit"][lk[lk >= 0]], *TERMINAL_EXITS)
    short = present[~terminal]
    imputed = np.zeros(n_cases, dtype=bool)
    unresolved = np.zeros(n_cases, dtype=bool)
    extra = None
    if len(short):
        last_van = _last_per_case(case, np.flatnonzero(vanished), n_cases)
        anchor_row = last_van[short]
        ok = anchor_row >= 0
        unresolved[short[~ok]] = True
        rec, arow = short[ok], anchor_row[ok]
        picked = _pick_donors(donors, rec, rows["node_code"][arow])
        unresolved[rec[picked < 0]] = True
        rec, arow, picked = rec[picked >= 0], arow[picked >= 0], picked[picked >= 0]
        if len(rec):
            imputed[rec] = True
            drows = donors.rows
            starts = picked + 1
            stops = donors.case_end[drows["case"][picked]]
            lengths = stops - starts
            src = _ranges(starts, lengths)
            extra = _take(drows, src)
            owner = np.repeat(rec, lengths)
            extra["case"] = owner
            extra["round"] = np.repeat(rows["round"][last_kept[rec]], lengths)
            extra["w_end"] = np.full(len(src), -1, dtype=np.int64)
            extra_merged = np.repeat(merged[arow], lengths)
            emarks = _mark(extra, tables, scenario, None, {
                i: np.ones(len(src), dtype=bool) for i in reason_ok})
            # the donor's route after the anchor must not re-pass nodes the case passed
            stride = int(rows["round"].max()) + 2
            mine = np.zeros(n_cases, dtype=bool)
            mine[rec] = True
            at = keep & mine[case]
            passed = (case[at] * stride + merged[at]) * n_nodes + rows["node_code"][at]
            ekey = (owner * stride + extra_merged) * n_nodes + extra["node_code"]
            ekeep = ~emarks["drop"] & ~_member(ekey, np.sort(passed))
            extra = {k: a[ekeep] for k, a in extra.items()}
            extra["merged"] = extra_merged[ekeep]
            extra["pos"] = n + np.arange(int(ekeep.sum()), dtype=np.int64)
            for key in ("d", "wait", "group", "vanish"):
                extra[key] = emarks[key][ekeep]
    return imputed, unresolved, extra


def _place(tables: LogTables, out: dict, n_cases: int) -> tuple[np.ndarray, np.ndarray]:
    """Per case, the new cycle time in clock hours and working µs: the kept steps' working
    time summed and placed on the calendar from the case's start (step 5)."""
    c = out["case"]
    ends = np.flatnonzero(np.r_[c[1:] != c[:-1], True]) if len(c) else np.zeros(0, np.int64)
    cum = np.cumsum(out["d"])
    total = cum[ends] - np.r_[0, cum[ends[:-1]]] if len(ends) else cum[ends]
    last_case = c[ends]
    w_old = out["w_end"][ends]
    exact = total == w_old
    t0_ns = tables.started_ns
    new_end = np.where(exact, out["t_end"][ends], t0_ns[last_case])
    move = ~exact & (total > 0)
    if move.any():
        placed = tables.calendar.add_working_time(
            instants(t0_ns[last_case[move]]), (total[move] // 1).astype("timedelta64[us]"))
        new_end[move] = placed.as_unit("ns").asi8
    cycle_hours = np.full(n_cases, np.nan)
    cycle_hours[last_case] = (new_end - t0_ns[last_case]) / 3.6e12
    w_cycle = np.full(n_cases, np.nan)
    w_cycle[last_case] = total
    return cycle_hours, w_cycle


#: Fields of the kept steps that hand-offs and the placement read, and that parallel groups
#: need besides.
_PLACE_FIELDS = ("case", "d", "w_end", "t_end", "handoffs_in", "first_dept", "last_dept")
_PARALLEL_FIELDS = ("group", "merged", "pos", "exit", "vanish")


def _step_indicators(steps: dict, n_cases: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per case: approver waits (µs) and decisions at approval steps, returns that stay."""
    c, appr = steps["case"], steps["approval"]
    return (np.bincount(c[appr], weights=steps["wait"][appr], minlength=n_cases),
            np.bincount(c[appr], weights=steps["items"][appr], minlength=n_cases),
            np.bincount(c[steps["stays"]], minlength=n_cases).astype(float))


def _last_per_case(case: np.ndarray, idx: np.ndarray, n_cases: int) -> np.ndarray:
    """Per case, the last of the row indices ``idx`` (ascending) that belongs to it; -1 none.
    Rows are in case order."""
    out = np.full(n_cases, -1, dtype=np.int64)
    if idx.size:
        c = case[idx]
        last = np.r_[c[1:] != c[:-1], True]
        out[c[last]] = idx[last]
    return out


def _member(keys: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin`` for integer keys against a sorted array (a binary search: numpy's hash
    path is far slower on large int64 keys)."""
    if not sorted_set.size:
        return np.zeros(keys.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, keys), sorted_set.size - 1)
    return sorted_set[pos] == keys


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + l)`` for each pair, without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + np.arange(total) - offsets


def _parallel(out: dict) -> dict:
    """Collapse each parallel group of a merged round into one step at its first member."""
    c, g, m, pos = out["case"], out["group"], out["merged"], out["pos"]
    member = g >= 0
    key = pd.DataFrame({"c": c[member], "m": m[member], "g": g[member],
                        "pos": pos[member], "d": out["d"][member],
                        "ret": (out["exit"][member] == _RETURN) & ~out["vanish"][member],
                        "w": out["w_end"][member], "i": np.flatnonzero(member)})
    grp = key.groupby(["c", "m", "g"], sort=False)
    first_pos = grp["pos"].transform("min").to_numpy()
    first_i = grp["i"].transform("min").to_numpy()
    dmax = grp["d"].transform("max").to_numpy()
    # the first member that returns the item ends the step when it returns
    ret_d = key["d"].where(key["ret"])
    ret_first = key.assign(rd=ret_d).sort_values("pos").groupby(["c", "m", "g"], sort=False)["rd"] \
        .transform("first").reindex(key.index).to_numpy()
    block_d = np.where(np.isnan(ret_first), dmax, ret_first).astype(np.int64)
    any_donor = grp["w"].transform("min").to_numpy() < 0
    w_block = np.where(any_donor, -1, grp["w"].transform("max").to_numpy())
    # move members next to the first one (sort key), then keep only the first row per block
    sort_pos = pos.astype(float).copy()
    sort_pos[member] = first_pos + (pos[member] - first_pos) / (pos.max() + 2.0)
    order = np.lexsort((sort_pos, c))
    lead = np.ones(len(c), dtype=bool)
    idx = key["i"].to_numpy()
    lead[idx] = idx == first_i
    new_d, new_w = out["d"].copy(), out["w_end"].copy()
    new_d[idx[lead[idx]]] = block_d[lead[idx]]
    new_w[idx[lead[idx]]] = w_block[lead[idx]]
    res = dict(out)
    res["d"], res["w_end"] = new_d, new_w
    res = {f: a[order] for f, a in res.items()}
    # hand-offs are counted on the full sequence (members side by side) before collapsing
    res["_lead"] = lead[order]
    return res


def _handoffs(out: dict, n_cases: int) -> np.ndarray:
    """Consecutive blocking actions by different known departments, per case (inside visits,
    and from one kept visit's last action to the next one's first)."""
    c = out["case"]
    inner = np.bincount(c, weights=out["handoffs_in"], minlength=n_cases)
    fd, ld = out["first_dept"], out["last_dept"]
    between = (c[1:] == c[:-1]) & (fd[1:] >= 0) & (ld[:-1] >= 0) & (fd[1:] != ld[:-1])
    inner += np.bincount(c[1:][between], minlength=n_cases)
    return inner


# --- driver ---------------------------------------------------------------------------------

def _uniforms(seed: int, draw: int, scenario: Scenario, tables: LogTables, n: int,
              idx: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """Uniforms per reduce_returns change, keyed by (seed, draw, node) so scenarios that
    reduce the same node's returns share them (common random numbers across scenarios)."""
    out = {}
    for i, ch in enumerate(scenario.changes):
        if isinstance(ch, ReduceReturns) and ch.fraction < 1.0:
            code = tables.node_codes.get(ch.node, 0)
            u = np.random.default_rng([seed, draw, code, 0x5EED]).random(n)
            out[i] = u if idx is None else u[idx]
    return out


def _with_draw(fixed: dict, rows: dict, tables: LogTables, scenario: Scenario,
               reason_ok: dict[int, np.ndarray], uniforms: dict[int, np.ndarray]) -> dict:
    """`_mark` of ``rows`` with the draw ``uniforms``, from its draw-free part ``fixed``."""
    if not uniforms:
        return fixed
    return {**fixed, "vanish": fixed["vanish"] | _random_vanish(rows, tables, scenario,
                                                                uniforms, reason_ok)}


def replay_cases(tables: LogTables, scenario: Scenario, rows: dict, donors: _Donors, *,
                 seed: int, draws: int = SELECTION_DRAWS) -> CaseOutcome:
    """Replay every completed case; with random elements, ``draws`` alternative selections
    (only the cases they can touch are re-run)."""
    n = len(rows["case"])
    reason_ok, random_rows = reduce_candidates(tables, scenario, rows)
    # what does not depend on the draw is marked once
    fixed = _mark(rows, tables, scenario, None, reason_ok)
    first = run_once(tables, scenario, rows, donors, None, reason_ok,
                     marks=_with_draw(fixed, rows, tables, scenario, reason_ok,
                                      _uniforms(seed, 0, scenario, tables, n)))
    m = draws if random_rows.any() else 1
    hours = np.repeat(first["cycle_hours"][:, None], m, axis=1)
    work = np.repeat(first["w_cycle"][:, None], m, axis=1)
    sums = {k: first[k].astype(float).copy() for k in
            ("approver_us", "items", "informed", "returns", "handoffs")}
    flags = {k: first[k].copy() for k in ("changed", "imputed", "unresolved")}
    if m > 1:
        touched = np.zeros(len(tables.cases), dtype=bool)
        touched[rows["case"][random_rows]] = True
        affected = np.flatnonzero(touched)
        sub = np.flatnonzero(touched[rows["case"]])
        sub_rows = _take(rows, sub)
        sub_ok = {i: ok[sub] for i, ok in reason_ok.items()}
        sub_fixed = {k: a[sub] for k, a in fixed.items()}
        for j in range(1, m):
            res = run_once(tables, scenario, sub_rows, donors, None, sub_ok,
                           marks=_with_draw(sub_fixed, sub_rows, tables, scenario, sub_ok,
                                            _uniforms(seed, j, scenario, tables, n, sub)))
            hours[affected, j] = res["cycle_hours"][affected]
            work[affected, j] = res["w_cycle"][affected]
            for k in sums:
                sums[k][affected] += res[k][affected]
            for k in flags:
                flags[k][affected] |= res[k][affected]
        for k in sums:
            sums[k][affected] /= m                      # the mean over the draws
    return CaseOutcome(hours, work, sums["approver_us"], sums["items"], sums["informed"],
                       sums["returns"], sums["handoffs"], flags["changed"], flags["imputed"],
                       flags["unresolved"], m)


def population_of(tables: LogTables, scenario: Scenario, changed: np.ndarray
                  ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Completed cases the headline numbers cover: the scenario's process types, else the
    process types in which it changes at least one case (else every completed case)."""
    cases = tables.cases
    done = cases["completed"].to_numpy(dtype=bool)
    proc = cases["process_type"]
    if scenario.process:
        types = tuple(scenario.process)
    else:
        touched = proc[done & changed].dropna().unique()
        types = tuple(sorted(touched))
    if not types or proc.isna().all():
        return done, ()
    return done & proc.isin(list(types)).fillna(False).to_numpy(dtype=bool), types


def simulate_replay(tables: LogTables, scenarios, *, seed: int, replications: int,
                    draws: int = SELECTION_DRAWS, engine: str = "replay"):
    """Replay each scenario and summarise it against the baseline (see `ScenarioResult`)."""
    from officemine.simulation import _stats
    from officemine.simulation.result import ScenarioResult

    rows = row_arrays(tables)
    donors = build_donors(tables, rows)
    cases = tables.cases
    actual_h = cases["cycle_hours"].to_numpy(float)
    actual_w = cases["w_cycle"].to_numpy(float)
    day_us = tables.calendar.day_seconds * US
    as_is = run_once(tables, as_is_scenario(), rows, donors, None, {})
    results = []
    for scenario in scenarios:
        out = replay_cases(tables, scenario, rows, donors, seed=seed, draws=draws)
        pop, types = population_of(tables, scenario, out.changed)
        base_h, red_h = actual_h[pop], out.cycle_hours[pop]
        baseline = _stats.cycle_stats(base_h, actual_w[pop] / day_us)
        redesign = _stats.cycle_stats(red_h, out.w_cycle[pop] / day_us)
        boot = _stats.bootstrap(base_h, red_h, replications,
                                np.random.default_rng([seed, 0xB007]))
        reduction = {
            "median_pct": _stats.pct(baseline.median_h, redesign.median_h),
            "median_pct_ci": _stats.interval(boot["median"]),
            "mean_pct": _stats.pct(baseline.mean_h, redesign.mean_h),
            "mean_pct_ci": _stats.interval(boot["mean"]),
            "p90_pct": _stats.pct(baseline.p90_h, redesign.p90_h),
            "p90_pct_ci": _stats.interval(boot["p90"]),
            "mean_hours_saved_per_case": baseline.mean_h - redesign.mean_h,
            "median_workdays_pct": _stats.pct(baseline.median_workdays, redesign.median_workdays),
            "mean_workdays_pct": _stats.pct(baseline.mean_workdays, redesign.mean_workdays),
        }
        affected = _affected(base_h, red_h, out.changed[pop], replications,
                             np.random.default_rng([seed, 0xAFEC]))
        validation = {**_stats.compare_with_actual(base_h, as_is["cycle_hours"][pop]),
                      "cases": int(pop.sum()),
                      "method": "the log replayed with no change against the actual cycle "
                                "times; 0 by construction for the replay engine"}
        indicators = _indicators(as_is, out, pop)
        imputed = out.imputed[pop]
        warnings = []
        if not out.changed[pop].any():
            warnings.append(Said("simulation.no_change"))
        if imputed.size and imputed.mean() > 0.05:
            warnings.append(Said("simulation.donors", share=float(imputed.mean())))
        if out.unresolved[pop].any():
            warnings.append(Said("simulation.no_donor", n=int(out.unresolved[pop].sum())))
        case_df = pd.DataFrame({
            "case_id": cases["case_id"].array.take(np.flatnonzero(pop)),
            "process_type": cases["process_type"].array.take(np.flatnonzero(pop)),
            "baseline_hours": base_h,
            "redesign_hours": red_h.mean(axis=1),
            "baseline_workdays": actual_w[pop] / day_us,
            "redesign_workdays": out.w_cycle[pop].mean(axis=1) / day_us,
            "changed": out.changed[pop], "imputed": imputed,
        })
        results.append(ScenarioResult(
            scenario=scenario, engine=engine, seed=seed, replications=replications,
            population=types, baseline=baseline, redesign=redesign, reduction=reduction,
            validation=validation, indicators=indicators,
            by_process=_by_process(case_df, red_h), cases=case_df,
            selection_draws=out.draws, warnings=tuple(warnings), affected=affected))
    return results


def _affected(base_h: np.ndarray, red_h: np.ndarray, changed: np.ndarray, replications: int,
              rng: np.random.Generator) -> dict:
    """Whom an estimate concerns: the cases the scenario changes (they pass a changed step or
    meet its condition), their share, and the reduction over them alone, with its interval."""
    from officemine.simulation import _stats

    n = int(changed.sum())
    out = {"cases": n, "of_cases": int(len(changed)),
           "share": float(changed.mean()) if len(changed) else float("nan"),
           "definition": "completed cases the scenario changes: they pass a changed step or "
                         "meet its condition"}
    if not n:
        return out
    b, r = base_h[changed], red_h[changed]
    before, after = _stats.cycle_stats(b, b * 0), _stats.cycle_stats(r, r * 0)
    boot = _stats.bootstrap(b, r, replications, rng)
    out.update(median_pct=_stats.pct(before.median_h, after.median_h),
               median_pct_ci=_stats.interval(boot["median"]),
               mean_pct=_stats.pct(before.mean_h, after.mean_h),
               mean_pct_ci=_stats.interval(boot["mean"]))
    return out


def _indicators(as_is: dict, out: CaseOutcome, pop: np.ndarray) -> dict:
    hours = 3600.0 * US
    n = max(int(pop.sum()), 1)
    before_h, after_h = as_is["approver_us"][pop].sum() / hours, out.approver_us[pop].sum() / hours
    items_b, items_a = float(as_is["items"][pop].sum()), float(out.items[pop].sum())
    ret_b, ret_a = float(as_is["returns"][pop].sum()), float(out.returns[pop].sum())
    return {
        "approver_hours": {"before": before_h, "after": after_h, "saved": before_h - after_h,
                           "unit": "working hours items spent waiting at approval steps, "
                                   "summed: waiting removed, not staff effort saved"},
        "items": {"before": items_b, "after": items_a, "no_longer_handled": items_b - items_a,
                  "informed_only": float(out.informed[pop].sum()),
                  "unit": "approval actions (decisions taken at approval steps)"},
        "returns": {"before": ret_b, "after": ret_a, "avoided": ret_b - ret_a},
        "handoffs_per_case": {"before": float(as_is["handoffs"][pop].sum()) / n,
                              "after": float(out.handoffs[pop].sum()) / n,
                              "unit": "consecutive blocking actions by different known "
                                      "departments"},
    }


def _by_process(case_df: pd.DataFrame, red_h: np.ndarray) -> pd.DataFrame:
    rows = []
    proc = case_df["process_type"].astype("object").fillna("(未知)")
    for name in sorted(proc.unique()):
        sel = (proc == name).to_numpy()
        b = case_df["baseline_hours"].to_numpy()[sel]
        r = red_h[sel].ravel()
        bm, rm = float(np.median(b)), float(np.median(r))
        rows.append({"process_type": name, "cases": int(sel.sum()),
                     "changed_cases": int(case_df["changed"].to_numpy()[sel].sum()),
                     "baseline_median_h": bm, "redesign_median_h": rm,
                     "median_pct": 100 * (1 - rm / bm) if bm else np.nan,
                     "baseline_mean_h": float(b.mean()), "redesign_mean_h": float(r.mean()),
                     "mean_pct": 100 * (1 - r.mean() / b.mean()) if b.mean() else np.nan})
    return pd.DataFrame(rows, columns=["process_type", "cases", "changed_cases",
                                       "baseline_median_h", "redesign_median_h", "median_pct",
                                       "baseline_mean_h", "redesign_mean_h", "mean_pct"])
