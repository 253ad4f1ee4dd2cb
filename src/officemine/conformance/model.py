"""What a procedure allows, as a labelled transition system, and how a round is held against it.

Every procedure — a TOML list of steps or a BPMN 2.0 model — compiles to a `Model`: a start
state, moves between states that are silent or labelled with a step (a node name), and end
states. A *context* says which of the procedure's conditions (``required_when``, conditions
on BPMN sequence flows) hold for a case: bit k of an integer is condition k. ``None`` opens
every guarded move (used to explore every state the model can reach).

A round **fits** when its steps, in order, take the model from its start to an end (a
*complete* round: the case was archived in it) or along some path from its start (a *cut*
round, ended by a return, a rejection or a withdrawal, or still running: judged only up to
its last step). The fit test walks a determinised automaton built lazily and memoised per
model and context, one dictionary lookup per step. A round that does not fit is explained by
an optimal alignment — the fewest steps to remove from the round and to add from the model
(Dijkstra over position × state) — and, before counting, every removed step that fits at
another position of the round without adding cost is moved there and counted *out of order*.
What is still removed is *unexpected*; what is still added is *skipped*.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from officemine.base.errors import ModelSizeError
from officemine.simulation._expr import WhenExpr

#: Most states one model may have (markings of a BPMN model; block states of a sequence):
#: a model beyond it is unbounded or has very wide parallel branches.
MAX_STATES = 20_000
#: Most tokens a BPMN sequence flow may hold (a sound model never needs more than one).
TOKEN_CAP = 3
#: Alignment costs: removing a step of the round, adding one of the model. Adding costs a
#: little less, so that of two explanations with as many changes the one that keeps more of
#: the round's steps wins: a cut round [B] of the procedure A → B has A skipped, not B
#: unexpected.
LOG_COST, MODEL_COST = 1000, 999

State = Hashable
Move = tuple[str | None, State]


@dataclass(frozen=True)
class Deviation:
    """One control-flow deviation of a round: its kind, the step, and the position in the
    round of the step occurrence involved (for a skipped step: the occurrence that came where
    it was due, or the round's last one; -1 for a round without occurrences)."""

    kind: str
    step: str
    position: int


class Model:
    """A procedure as a labelled transition system (see the module docstring)."""

    labels: frozenset[str]
    conditions: tuple[WhenExpr, ...]

    def start(self) -> State:
        raise NotImplementedError

    def moves(self, state: State, ctx: int | None) -> tuple[Move, ...]:
        raise NotImplementedError

    def final(self, state: State) -> bool:
        raise NotImplementedError

    def count_states(self) -> int:
        """How many states the model can reach with every guard open (raises `ModelSizeError`
        beyond `MAX_STATES`)."""
        return len(_reachable(self, None))


def _allowed(guard: int | None, ctx: int | None) -> bool:
    return guard is None or ctx is None or bool(ctx >> guard & 1)


# --- a TOML procedure: steps in order, some optional, some conditional, groups in any order ----

REQUIRED, OPTIONAL = -1, -2


@dataclass(frozen=True, eq=False)
class SequenceModel(Model):
    """Steps in order. ``guard[j]``: REQUIRED, OPTIONAL, or k (required when condition k
    holds, not allowed when it does not). ``blocks``: the steps' indices, one block per step
    except the steps of an ``any_order`` group (会签), which share a block and may be taken in
    any order. A state is (block, bitmask of the block's steps taken)."""

    steps: tuple[str, ...]
    guard: tuple[int, ...]
    blocks: tuple[tuple[int, ...], ...]
    conditions: tuple[WhenExpr, ...] = ()
    labels: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", frozenset(self.steps))

    def start(self) -> State:
        return (0, 0)

    def final(self, state: State) -> bool:
        return state[0] == len(self.blocks)

    def moves(self, state: State, ctx: int | None) -> tuple[Move, ...]:
        b, done = state
        if b == len(self.blocks):
            return ()
        out: list[Move] = []
        complete = True
        for bit, j in enumerate(self.blocks[b]):
            g = self.guard[j]
            taken = bool(done >> bit & 1)
            allowed = g in (REQUIRED, OPTIONAL) or _allowed(g, ctx)
            if not taken and allowed:
                out.append((self.steps[j], (b, done | 1 << bit)))
            needed = g == REQUIRED or (g >= 0 and ctx is not None and bool(ctx >> g & 1))
            if needed and not taken:
                complete = False
        if complete:
            out.append((None, (b + 1, 0)))
        return tuple(out)


# --- a BPMN model: a token game on its sequence flows --------------------------------------------

TASK, XOR, AND, START, END, TERMINATE, PASS = "task", "xor", "and", "start", "end", \
    "terminate", "pass"


@dataclass(frozen=True, eq=False)
class NetModel(Model):
    """A BPMN process as a token game: a state is the multiset of sequence flows holding a
    token (a sorted tuple of flow indices). A task or a pass-through event takes a token from
    one incoming flow and puts one on each outgoing flow (labelled with the task's name, or
    silent); an exclusive gateway moves a token from one incoming to one outgoing flow; a
    parallel gateway waits for a token on every incoming flow and puts one on every outgoing
    one; an end event takes a token (a terminating one takes them all). A flow with a
    condition carries a token only when it holds; a default flow only when none of its
    gateway's conditions does. The process ends when no token is left.

    kinds/names: per node; inc/out: per node, its flow indices; guard: per flow, its
    condition index or None; default: per node, its default flow or -1.
    """

    kinds: tuple[str, ...]
    names: tuple[str | None, ...]
    inc: tuple[tuple[int, ...], ...]
    out: tuple[tuple[int, ...], ...]
    guard: tuple[int | None, ...]
    default: tuple[int, ...]
    start_node: int
    conditions: tuple[WhenExpr, ...] = ()
    labels: frozenset[str] = field(init=False)
    _target: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels",
                           frozenset(n for n, k in zip(self.names, self.kinds) if k == TASK))
        target = [0] * len(self.guard)
        for node, flows in enumerate(self.inc):
            for f in flows:
                target[f] = node
        object.__setattr__(self, "_target", tuple(target))

    def start(self) -> State:
        return tuple(sorted(self.out[self.start_node]))

    def final(self, state: State) -> bool:
        return not state

    def _enabled(self, node: int, ctx: int | None) -> list[int]:
        """The outgoing flows of `node` that may carry a token in context `ctx`."""
        outs = self.out[node]
        if ctx is None:
            return list(outs)
        default = self.default[node]
        chosen = [f for f in outs if f != default and _allowed(self.guard[f], ctx)]
        conditional = any(self.guard[f] is not None and _allowed(self.guard[f], ctx)
                          for f in outs if f != default)
        if default >= 0 and not conditional:
            chosen.append(default)
        return chosen

    def moves(self, state: State, ctx: int | None) -> tuple[Move, ...]:
        tokens = Counter(state)
        out: list[Move] = []
        for node in sorted({self._target[f] for f in tokens}):
            kind = self.kinds[node]
            label = self.names[node] if kind == TASK else None
            if kind == AND:
                if all(tokens[f] for f in self.inc[node]):
                    after = tokens.copy()
                    after.subtract(self.inc[node])
                    self._put(out, after, self._enabled(node, ctx), None)
                continue
            for f in self.inc[node]:
                if not tokens[f]:
                    continue
                after = tokens.copy()
                after[f] -= 1
                if kind == TERMINATE:
                    out.append((None, ()))
                elif kind == END:
                    self._put(out, after, [], None)
                elif kind == XOR:
                    for g in self._enabled(node, ctx):
                        self._put(out, after, [g], None)
                else:                       # a task or a pass-through event
                    self._put(out, after, self._enabled(node, ctx), label)
        return tuple(out)

    @staticmethod
    def _put(out: list[Move], tokens: Counter, flows: Sequence[int], label: str | None) -> None:
        after = tokens.copy()
        after.update(flows)
        if any(after[f] > TOKEN_CAP for f in flows):
            return
        out.append((label, tuple(sorted(f for f, n in after.items() for _ in range(n)))))


def _reachable(model: Model, ctx: int | None) -> set[State]:
    seen = {model.start()}
    todo = [model.start()]
    while todo:
        for _, nxt in model.moves(todo.pop(), ctx):
            if nxt not in seen:
                seen.add(nxt)
                if len(seen) > MAX_STATES:
                    raise ModelSizeError(f"reaches more than {MAX_STATES:,} states")
                todo.append(nxt)
    return seen


# --- checking rounds -----------------------------------------------------------------------------

class Checker:
    """Fit tests and explanations of rounds against one model in one context (memoised)."""

    def __init__(self, model: Model, ctx: int | None) -> None:
        self.model, self.ctx = model, ctx
        self._moves: dict[State, tuple[Move, ...]] = {}
        self._closure: dict[frozenset, frozenset] = {}
        self._step: dict[tuple[frozenset, str], frozenset] = {}
        self._cost: dict[tuple[tuple[str, ...], bool], int] = {}
        self._start = self.closure(frozenset([model.start()]))

    def moves(self, state: State) -> tuple[Move, ...]:
        found = self._moves.get(state)
        if found is None:
            if len(self._moves) >= MAX_STATES:
                raise ModelSizeError(f"reaches more than {MAX_STATES:,} states")
            found = self._moves[state] = self.model.moves(state, self.ctx)
        return found

    def closure(self, states: frozenset) -> frozenset:
        """`states` and every state silent moves reach from them."""
        found = self._closure.get(states)
        if found is None:
            seen, todo = set(states), list(states)
            while todo:
                for label, nxt in self.moves(todo.pop()):
                    if label is None and nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            found = self._closure[states] = frozenset(seen)
        return found

    def _after(self, states: frozenset, label: str) -> frozenset:
        key = (states, label)
        found = self._step.get(key)
        if found is None:
            found = self._step[key] = self.closure(frozenset(
                nxt for s in states for lab, nxt in self.moves(s) if lab == label))
        return found

    def fits(self, trace: Sequence[str], complete: bool) -> bool:
        """Whether the round's steps are a run of the model (complete) or the start of one."""
        states = self._start
        for label in trace:
            states = self._after(states, label)
            if not states:
                return False
        return not complete or any(self.model.final(s) for s in states)

    def align(self, trace: Sequence[str], complete: bool) -> tuple[int, list[tuple[str, str, int]]]:
        """An optimal alignment: (cost, moves), each move (``sync`` | ``log`` | ``model``,
        step, position in the trace). ``log`` removes the trace's step at that position;
        ``model`` adds a step before it. Ties go to the first found, in a fixed order."""
        n = len(trace)
        begin = (0, self.model.start())
        dist = {begin: 0}
        prev: dict = {}
        heap = [(0, 0, begin)]
        counter = 1
        goal = None
        while heap:
            cost, _, node = heapq.heappop(heap)
            if dist.get(node, cost + 1) < cost:
                continue
            i, state = node
            if i == n and (not complete or self.model.final(state)):
                goal = node
                break
            steps: list[tuple[tuple, int, tuple | None]] = []
            for label, nxt in self.moves(state):
                if label is None:
                    steps.append(((i, nxt), cost, None))
                else:
                    if i < n and label == trace[i]:
                        steps.append(((i + 1, nxt), cost, ("sync", label, i)))
                    if i < n or complete:
                        steps.append(((i, nxt), cost + MODEL_COST, ("model", label, i)))
            if i < n:
                steps.append(((i + 1, state), cost + LOG_COST, ("log", trace[i], i)))
            for nxt, c, move in steps:
                if c < dist.get(nxt, c + 1):
                    dist[nxt] = c
                    prev[nxt] = (node, move)
                    heapq.heappush(heap, (c, counter, nxt))
                    counter += 1
        if goal is None:        # the model cannot end (an unsound model): everything unexpected
            return (n + 1) * LOG_COST, [("log", label, i) for i, label in enumerate(trace)]
        moves = []
        node = goal
        while node != begin:
            node, move = prev[node]
            if move is not None:
                moves.append(move)
        moves.reverse()
        return dist[goal], moves

    def cost(self, trace: Sequence[str], complete: bool) -> int:
        key = (tuple(trace), complete)
        found = self._cost.get(key)
        if found is None:
            found = self._cost[key] = (0 if self.fits(trace, complete)
                                       else self.align(trace, complete)[0])
        return found

    def explain(self, trace: Sequence[str], complete: bool) -> list[Deviation]:
        """The deviations of a round that does not fit (empty when it fits).

        First, while a step the alignment removes fits at another position of the round at
        no extra cost (and the round then costs less), it is moved there and counted
        ``out_of_order`` (the cheapest move first, then the earliest step). Then the steps
        the alignment still removes are ``unexpected`` and those it adds ``skipped``.
        """
        if self.fits(trace, complete):
            return []
        cur, order = list(trace), list(range(len(trace)))
        cost, moves = self.align(cur, complete)
        out: list[Deviation] = []
        for _ in range(len(trace)):
            best = None
            for kind, label, p in moves:
                if kind != "log" or label not in self.model.labels:
                    continue
                rest = cur[:p] + cur[p + 1:]
                base = self.cost(rest, complete)
                for q in range(len(rest) + 1):
                    if q == p:
                        continue
                    c = self.cost(rest[:q] + [label] + rest[q:], complete)
                    if c <= base and c < cost and (best is None or c < best[0]):
                        best = (c, p, q)
            if best is None:
                break
            _, p, q = best
            out.append(Deviation("out_of_order", cur[p], order[p]))
            label, origin = cur.pop(p), order.pop(p)
            cur.insert(q, label)
            order.insert(q, origin)
            cost, moves = self.align(cur, complete)
        last = max(order) if order else -1
        for kind, label, i in moves:
            if kind == "log":
                out.append(Deviation("unexpected", label, order[i]))
            elif kind == "model":
                out.append(Deviation("skipped", label, order[i] if i < len(order) else last))
        return out


def direct_follows(model: Model) -> tuple[frozenset[str], frozenset[tuple[str, str]],
                                          frozenset[str]]:
    """(steps a round may start with, pairs (a, b) where b may directly follow a, steps a
    complete round may end with), every guard open: what the process map holds arcs against."""
    check = Checker(model, None)
    reach = _reachable(model, None)

    def visible(states: frozenset) -> set[str]:
        return {lab for s in states for lab, _ in check.moves(s) if lab is not None}

    first = visible(check.closure(frozenset([model.start()])))
    pairs, last = set(), set()
    for state in reach:
        for label, nxt in check.moves(state):
            if label is None:
                continue
            after = check.closure(frozenset([nxt]))
            pairs.update((label, b) for b in visible(after))
            if any(model.final(s) for s in after):
                last.add(label)
    return frozenset(first), frozenset(pairs), frozenset(last)
