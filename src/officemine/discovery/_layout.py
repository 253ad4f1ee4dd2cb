"""A small layered (Sugiyama-style) layout, so maps draw without the Graphviz binary.

1. Cycles are broken by a node order with little weight on backward edges (greedy
   feedback arc set; ties by the caller's priority, e.g. a node's median position): an edge
   is *forward* when its source comes before its target.
2. Forward edges get a longest-path layering; an edge spanning several layers gets a dummy
   item in each layer it crosses, so it can be drawn through the gaps between boxes.
3. Items in each layer are ordered by weighted barycentres (alternating sweeps), keeping the
   ordering with the fewest weighted crossings.

Edges that are not forward (returns, other backward flows) are left to the caller, which
routes them around the drawing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

Item = Hashable  # a node, or ("~dummy", edge index, layer)


@dataclass(frozen=True)
class Layering:
    layers: list[list[Item]]             # items top to bottom in each layer
    layer_of: dict[Item, int]
    chains: dict[int, list[Item]]         # forward edge index -> items from source to target
    back: list[int]                       # indices of edges that are not forward

    def index_in_layer(self) -> dict[Item, int]:
        return {item: i for layer in self.layers for i, item in enumerate(layer)}


def feedback_rank(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable, float]],
                  priority: Mapping[Hashable, float] | None = None) -> dict:
    """An order of the nodes with little edge weight pointing backwards (Eades, Lin & Smyth's
    greedy feedback-arc-set heuristic, weighted). Sinks go last, sources first; otherwise the
    node with the largest out-minus-in weight comes next, ties broken by `priority` (lower
    first) and then input order. On an acyclic graph every edge points forwards."""
    prio = {n: ((priority or {}).get(n, 0.0), i) for i, n in enumerate(nodes)}
    remaining = set(nodes)
    w_in: dict = defaultdict(float)
    w_out: dict = defaultdict(float)
    succ: dict = defaultdict(list)
    pred: dict = defaultdict(list)
    for u, v, w in edges:
        if u == v:
            continue
        succ[u].append((v, w))
        pred[v].append((u, w))
        w_out[u] += w
        w_in[v] += w

    def drop(n):
        remaining.discard(n)
        for v, w in succ[n]:
            w_in[v] -= w
        for u, w in pred[n]:
            w_out[u] -= w

    head: list = []
    tail: list = []
    eps = 1e-9
    while remaining:
        changed = True
        while changed:
            changed = False
            for n in sorted((n for n in remaining if w_out[n] <= eps), key=prio.get, reverse=True):
                tail.append(n)
                drop(n)
                changed = True
            for n in sorted((n for n in remaining if w_in[n] <= eps), key=prio.get):
                head.append(n)
                drop(n)
                changed = True
        if remaining:
            n = min(remaining, key=lambda m: (-(w_out[m] - w_in[m]), prio[m]))
            head.append(n)
            drop(n)
    order = head + tail[::-1]
    return {n: i for i, n in enumerate(order)}


def dfs_rank(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable, float]],
             roots: Sequence[Hashable] = ()) -> dict:
    """Reverse post-order of a depth-first search from `roots` (then any unvisited node in
    the given order): the edges against it are exactly the DFS back edges. Suits graphs with
    a natural entry, like a BPMN model's start event."""
    out: dict = defaultdict(list)
    for u, v, _ in edges:
        out[u].append(v)
    order: list = []
    seen: set = set()
    for s in list(roots) + list(nodes):
        if s in seen:
            continue
        seen.add(s)
        stack = [(s, iter(out[s]))]
        while stack:
            node, it = stack[-1]
            nxt = next((v for v in it if v not in seen), None)
            if nxt is None:
                order.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(out[nxt])))
    return {n: i for i, n in enumerate(reversed(order))}


def layer_graph(nodes: Sequence[Hashable], edges: Sequence[tuple[Hashable, Hashable, float]],
                priority: Mapping[Hashable, float] | None = None, sweeps: int = 8,
                rank: Mapping[Hashable, float] | None = None) -> Layering:
    """Layer `nodes`; `edges` are (source, target, weight); `priority` breaks ties when
    choosing which edges of a cycle point backwards (e.g. a node's median position); a given
    `rank` (e.g. `dfs_rank`) replaces that choice."""
    if rank is None:
        rank = feedback_rank(nodes, edges, priority)
    position = {n: i for i, n in enumerate(nodes)}
    key = (lambda n: (rank[n], position[n]))
    forward = [i for i, (u, v, _) in enumerate(edges) if u != v and key(u) < key(v)]
    back = [i for i in range(len(edges)) if i not in set(forward)]

    preds: dict = defaultdict(list)
    for i in forward:
        u, v, _ = edges[i]
        preds[v].append(u)
    layer_of: dict = {}
    for n in sorted(nodes, key=key):
        layer_of[n] = max((layer_of[u] + 1 for u in preds[n]), default=0)
    n_layers = max(layer_of.values(), default=-1) + 1

    layers: list[list[Item]] = [[] for _ in range(n_layers)]
    for n in sorted(nodes, key=key):
        layers[layer_of[n]].append(n)
    chains: dict[int, list[Item]] = {}
    segments: list[tuple[Item, Item, float]] = []
    for i in forward:
        u, v, w = edges[i]
        chain: list[Item] = [u]
        for layer in range(layer_of[u] + 1, layer_of[v]):
            dummy = ("~dummy", i, layer)
            layer_of[dummy] = layer
            layers[layer].append(dummy)
            chain.append(dummy)
        chain.append(v)
        chains[i] = chain
        segments += [(a, b, w) for a, b in zip(chain, chain[1:])]

    up: dict = defaultdict(list)     # item -> [(item in previous layer, weight)]
    down: dict = defaultdict(list)   # item -> [(item in next layer, weight)]
    for a, b, w in segments:
        down[a].append((b, w))
        up[b].append((a, w))

    def crossings(order: list[list[Item]]) -> float:
        total = 0.0
        for k in range(len(order) - 1):
            pos_a = {it: i for i, it in enumerate(order[k])}
            pos_b = {it: i for i, it in enumerate(order[k + 1])}
            segs = [(pos_a[a], pos_b[b], w) for a in order[k] for b, w in down[a]]
            for i, (a1, b1, w1) in enumerate(segs):
                for a2, b2, w2 in segs[i + 1:]:
                    if (a1 - a2) * (b1 - b2) < 0:
                        total += w1 * w2
        return total

    def sweep(order: list[list[Item]], downward: bool) -> list[list[Item]]:
        order = [list(layer) for layer in order]
        rng = range(1, len(order)) if downward else range(len(order) - 2, -1, -1)
        for k in rng:
            ref = order[k - 1] if downward else order[k + 1]
            pos = {it: i for i, it in enumerate(ref)}
            nbrs = up if downward else down

            def bary(item, current):
                linked = [(pos[o], w) for o, w in nbrs[item] if o in pos]
                total = sum(w for _, w in linked)
                return sum(p * w for p, w in linked) / total if total else current

            current = {it: i for i, it in enumerate(order[k])}
            # Scale the fallback so items without neighbours keep their relative place.
            scale = (len(ref) - 1) / max(len(order[k]) - 1, 1)
            order[k] = sorted(order[k], key=lambda it: (bary(it, current[it] * scale),
                                                        current[it]))
        return order

    best, best_cost = layers, crossings(layers)
    order = layers
    for s in range(sweeps):
        order = sweep(order, downward=(s % 2 == 0))
        cost = crossings(order)
        if cost < best_cost:
            best, best_cost = order, cost
    return Layering(layers=best, layer_of=layer_of, chains=chains, back=back)
