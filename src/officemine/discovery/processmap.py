"""The process map: nodes with volume and waits, arcs with frequency and transition time.

Nodes and arcs are built from visits (see `officemine.discovery._base`). An arc A → B counts
how often a visit at B directly followed a visit at A in a case; it is a *return arc* when
the visit at A ended in a return (退回), so it points from where the item was sent back to
where it went next (normally 发起, the applicant). Node waits come from
`officemine.log.relations.work_items` (decided work items; pending ones are censored and left
out of the median), in working hours of the calendar and in clock hours, so they agree with the
necessity test. Transition times run from the last action of the visit at A to the first
action at B.

The map is drawn with matplotlib (a layered left-to-right layout; no Graphviz needed) and the
discovered model is exported as BPMN 2.0 with pm4py's inductive miner, fed the variants at
node level rather than the raw log.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from officemine.base.atomic import atomic_path, atomic_paths
from officemine.log.calendar import Calendar
from officemine.discovery._base import (DiscoveryError, DiscoveryOutput, Scope, ScopeEvents,
                                        case_table, count_distinct, fmt_num, hours_between,
                                        read_events, records)
from officemine.discovery._facts import counted_medians, each_value, table
from officemine.discovery.variants import variant_facts
from officemine.discovery._layout import Layering, dfs_rank, layer_graph
from officemine.log.eventlog import EventLog
from officemine.base.plotting import chart_style
from officemine.log.schema import C
from officemine.log.relations import work_items
from officemine.base.choices import LANGS, Lang
from officemine.base.errors import ChoiceError
from officemine.base.text import say

WAIT_BASIS = ("median wait of decided work items at the node "
              "(officemine.log.relations.work_items: from the visit's arrival to the decision; pending items left out)")
TRANSITION_BASIS = "last action of the visit at the source to first action at the target"

NODE_COLUMNS = ["node", "visits", "cases", "starts", "ends", "items", "median_wait_workhours",
                "median_wait_hours", "recorded_share", "pending_items", "position"]
ARC_COLUMNS = ["source", "target", "kind", "transitions", "cases",
               "median_transition_hours", "median_transition_workhours"]

# Drawing constants, in inches (the layout is computed at 1 data unit = 1 inch).
_NAME_PT, _INFO_PT, _ARC_PT, _NOTE_PT = 10.0, 7.6, 7.2, 7.6
_BOX_H, _PAD_X = 0.58, 0.16
_LAYER_GAP, _ROW_GAP, _DUMMY_H = 1.05, 0.34, 0.14
_LANE_GAP = 0.24
_RETURN_COLOR, _FORWARD_COLOR, _BACK_COLOR = "#d62728", "#4d4d4d", "#8c6d31"
#: Nodes and arcs outside the standard procedures (`officemine.conformance.outside_procedures`).
_OUTSIDE_COLOR = "#ae3ec9"


@dataclass(frozen=True, repr=False, eq=False)
class ProcessMap(DiscoveryOutput):
    """Nodes and arcs of the discovered process, drawable and exportable.

    ``nodes``: node, visits, cases, starts/ends (cases whose first/last visit is here),
    items (decided work items), median_wait_workhours (working hours of the calendar),
    median_wait_hours (clock), recorded_share (items whose wait starts at a recorded arrival),
    pending_items, position (median visit index of the node's first visit in a case).
    ``arcs``: source, target, kind (``forward`` | ``return``), transitions, cases,
    median_transition_hours (clock), median_transition_workhours. ``traces`` counts the
    node sequences (the input of the BPMN miner). Arcs with fewer than ``min_frequency``
    transitions (and nodes with fewer visits) are hidden in the drawing, not in the tables.
    """

    nodes: pd.DataFrame
    arcs: pd.DataFrame
    traces: pd.DataFrame = field(repr=False)
    scope: Scope
    min_frequency: int
    wait_basis: str = ""
    transition_basis: str = TRANSITION_BASIS

    # --- tables ----------------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        return self.arcs

    @property
    def visible_nodes(self) -> pd.DataFrame:
        return self.nodes[self.nodes["visits"] >= self.min_frequency]

    @property
    def visible_arcs(self) -> pd.DataFrame:
        keep = set(self.visible_nodes["node"])
        a = self.arcs
        return a[(a["transitions"] >= self.min_frequency) & a["source"].isin(keep)
                 & a["target"].isin(keep)]

    @property
    def return_arcs(self) -> pd.DataFrame:
        return self.arcs[self.arcs["kind"] == "return"]

    def hidden(self) -> dict:
        """What the drawing leaves out at ``min_frequency``."""
        vis_arcs = self.visible_arcs
        hidden_arcs = self.arcs.drop(vis_arcs.index)
        hidden_nodes = self.nodes.drop(self.visible_nodes.index)
        return {"min_frequency": self.min_frequency,
                "arcs": int(len(hidden_arcs)),
                "transitions": int(hidden_arcs["transitions"].sum()),
                "return_arcs": int((hidden_arcs["kind"] == "return").sum()),
                "nodes": int(len(hidden_nodes)),
                "node_names": hidden_nodes["node"].tolist()}

    def to_dict(self) -> dict:
        return {"wait_basis": self.wait_basis,
                "wait_units": {"median_wait_workhours": f"working hours (calendar "
                               f"{self.scope.calendar})", "median_wait_hours": "clock hours"},
                "transition_basis": self.transition_basis,
                "transition_units": {"median_transition_hours": "clock hours",
                                     "median_transition_workhours": "working hours"},
                "return_arc": "source visit ended in a return; target = node of the next "
                              "blocking action",
                "hidden_in_drawing": self.hidden(),
                "nodes": records(self.nodes), "arcs": records(self.arcs)}

    def __repr__(self) -> str:
        h = self.hidden()
        ret = self.return_arcs
        lines = [f"<ProcessMap {self.scope.label}: {len(self.nodes)} nodes, {len(self.arcs)} "
                 f"arcs ({len(ret)} return arcs, {int(ret['transitions'].sum()):,} returns); "
                 f"drawing hides {h['arcs']} arcs / {h['nodes']} nodes below "
                 f"{self.min_frequency} — waits in working hours ({self.scope.calendar})"]
        for row in self.nodes.head(12).itertuples():
            lines.append(f"  {row.node:<12} visits {row.visits:>6,}  median wait "
                         f"{fmt_num(row.median_wait_workhours):>6} working h "
                         f"({fmt_num(row.median_wait_hours)} clock h)")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        return (f'<img src="data:image/png;base64,{self._png_base64()}" '
                f'style="max-width:100%">' + super()._repr_html_())

    def _html_heading(self) -> list[str]:
        return [f"Process map: {self.scope.label}", f"waits: {self.wait_basis}"]

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.nodes.head(self.HTML_ROWS), self.arcs.head(30)]

    def _png_base64(self, dpi: int = 90) -> str:
        import base64
        import io

        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        with chart_style():
            ax = _draw(self, None)
            ax.figure.savefig(buf, format="png", dpi=dpi)
            plt.close(ax.figure)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    # --- drawing ---------------------------------------------------------------------------
    def plot(self, ax=None, outside: tuple[set, set] | None = None, lang: Lang = "zh"):
        """Draw the map (layered, left to right) on `ax`, or on a new figure sized to fit.

        outside: (nodes, (source, target) arcs) outside the standard procedures, drawn in
        purple (`officemine.conformance.outside_procedures` finds them). lang: the words
        around the log's own names (title, captions, the boxes' figures)."""
        ChoiceError.check("lang", lang, LANGS)
        with chart_style():
            return _draw(self, ax, outside, lang)

    def save(self, path: str | Path, *, dpi: int = 150, lang: Lang = "zh") -> Path:
        """Write the map as PNG, SVG or PDF (by suffix), atomically, its words in `lang`.
        SVG and PDF keep text as text."""
        return self.save_many([path], dpi=dpi, lang=lang)[0]

    def save_many(self, paths: Sequence[str | Path], *, dpi: int = 150,
                  lang: Lang = "zh") -> list[Path]:
        """Write the map in several formats (see `save`) from one drawing of it."""
        import matplotlib
        import matplotlib.pyplot as plt

        paths = [Path(p) for p in paths]
        for path in paths:
            if path.suffix.lower().lstrip(".") not in ("png", "svg", "pdf"):
                raise DiscoveryError(f"cannot save a process map as "
                                     f"{path.suffix or 'no suffix'!r}; use .png, .svg or .pdf")
        with chart_style():
            fig = _draw(self, None, lang=lang).figure
            try:
                with atomic_paths(*paths) as temps:
                    for path, temp in zip(paths, temps):
                        kind = path.suffix.lower().lstrip(".")
                        # SVG: real <text> elements, so node names stay searchable and
                        # editable; a viewer needs any CJK font (PNG and PDF embed the
                        # bundled one).
                        with matplotlib.rc_context({"svg.fonttype": "none"}):
                            fig.savefig(temp, format=kind, dpi=dpi,
                                        metadata=_metadata(kind, self))
            finally:
                plt.close(fig)
        return paths

    def to_bpmn(self, path: str | Path, *, noise_threshold: float = 0.1,
                max_traces: int = 5000) -> Path:
        """Discover a BPMN 2.0 model (pm4py inductive miner) and write it to `path`.

        The miner gets the node sequences of the cases (variants with their counts, scaled
        down to about `max_traces` traces for large logs), not the raw log. The diagram
        layout is officemine's layered one; with the Graphviz binary on PATH, pm4py's.
        """
        import pm4py

        path = Path(path)
        df = _miner_input(self.traces, max_traces)
        if df.empty:
            raise DiscoveryError("no cases in scope: nothing to mine a BPMN model from")
        bpmn = pm4py.discover_bpmn_inductive(df, noise_threshold=noise_threshold)
        layout = bool(shutil.which("dot"))
        if not layout:
            _layout_bpmn(bpmn)
        with atomic_path(path) as temp:
            pm4py.write_bpmn(bpmn, str(temp), auto_layout=layout)
        return path


# --- discovery ------------------------------------------------------------------------------
def discover_map(log: EventLog, scope: Scope, calendar: Calendar, min_frequency: int,
                 events: ScopeEvents | None = None) -> ProcessMap:
    """Nodes, arcs and node-level traces of the cases in `scope` (`events`: the scope's,
    if already read)."""
    ev = events if events is not None else read_events(log, scope.process_type)
    facts = {**map_facts(log, ev, scope.process_type, calendar),
             **variant_facts(case_table(log, scope, calendar, events=ev))}
    return map_from_facts(facts, scope, min_frequency)


def map_facts(log: EventLog, ev: ScopeEvents, process_type: str | None, calendar: Calendar,
              as_of=None) -> dict[str, pd.DataFrame]:
    """The facts (`officemine.discovery._facts`) of the map: visits, cases, starts and ends
    per node, the visit numbers of each node's first visits, work items and their waits per
    node, transitions per arc with their times (its traces are the variants' facts).
    `as_of`: "now" of the work items (their decided waits do not depend on it)."""
    return {**_nodes(ev), **_item_facts(log, process_type, calendar, as_of), **_arcs(ev, calendar)}


def map_from_facts(facts, scope: Scope, min_frequency: int) -> ProcessMap:
    """The process map from its facts and the variants'."""
    n = facts["nodes"]
    n = n[n["visits"].to_numpy() > 0]
    pos = facts["position"]
    at = pd.Index(n["node"].to_numpy(object)).get_indexer(pos["node"].to_numpy(object))
    nodes = pd.DataFrame({
        "node": pd.Series(n["node"].to_numpy(object), dtype="str"),
        **{c: n[c].to_numpy(np.int32) for c in ("visits", "cases", "starts", "ends")},
        "position": counted_medians(at, pos["number"].to_numpy(float),
                                    pos["n"].to_numpy(np.int64), len(n))})
    nodes = nodes.sort_values(["position", "visits", "node"], ascending=[True, False, True],
                              kind="stable").reset_index(drop=True)
    nodes = _node_waits(nodes, _item_waits(facts))
    return ProcessMap(nodes=nodes[NODE_COLUMNS], arcs=_arcs_from_facts(facts),
                      traces=_traces(facts["paths"]), scope=scope, min_frequency=min_frequency,
                      wait_basis=f"{WAIT_BASIS}; working hours of the calendar "
                                 f"({scope.calendar}) and clock hours")


def _nodes(ev: ScopeEvents) -> dict[str, pd.DataFrame]:
    """Visits, cases, starts and ends per node, and the visit numbers of the node's first
    visit in each case (its position is their median)."""
    v, n = ev.visits, len(ev.nodes)
    # visits are in case and visit order: a stable sort by (case, node) puts each pair's first
    # visit first among its own
    key = v.case.astype(np.int64) * n + v.node
    order = np.argsort(key, kind="stable")
    first = order[np.append(True, key[order][1:] != key[order][:-1])] if len(key) else order
    pair_node = v.node[first]
    visits = np.bincount(v.node, minlength=n)
    used = np.flatnonzero(visits)
    names = np.array(ev.nodes, dtype=object)
    nodes = table("nodes", {
        "node": names[used], "visits": visits[used].astype(np.int64),
        "cases": np.bincount(pair_node, minlength=n)[used].astype(np.int64),
        "starts": np.bincount(v.node[v.case_starts], minlength=n)[used].astype(np.int64),
        "ends": np.bincount(v.node[~v.next_in_case], minlength=n)[used].astype(np.int64)})
    number = pd.DataFrame({"node": pair_node, "number": v.number[first].astype(np.int64)})
    counted = number.groupby(["node", "number"], sort=False).size()
    position = table("position", {
        "node": names[counted.index.get_level_values("node").to_numpy(np.int64)],
        "number": counted.index.get_level_values("number").to_numpy(np.int64),
        "n": counted.to_numpy(np.int64)})
    return {"nodes": nodes, "position": position}


def _arcs(ev: ScopeEvents, calendar: Calendar) -> dict[str, pd.DataFrame]:
    """Transitions and cases per (source, target, kind) of consecutive visits in a case, and
    their times as counts per value."""
    v, n = ev.visits, len(ev.nodes)
    pair = np.flatnonzero(v.next_in_case)           # visit i followed by visit i + 1
    source, target = v.node[pair], v.node[pair + 1]
    kind = np.isin(v.exit[pair], ev.codes(["return"])).astype(np.int64)   # 1: return
    left, reached = v.last_acted[pair], v.first_acted[pair + 1]
    key = (source * n + target) * 2 + kind
    n_keys = n * n * 2
    count = np.bincount(key, minlength=n_keys)
    used = np.flatnonzero(count)
    names = np.array(ev.nodes, dtype=object)
    kinds = np.array(["forward", "return"], dtype=object)

    def parts(keys):
        return {"source": names[keys // 2 // n], "target": names[keys // 2 % n],
                "kind": kinds[keys % 2]}

    work = (calendar.working_hours(ev.times(left), ev.times(reached)) if len(pair)
            else np.zeros(0))
    row = np.zeros(n_keys, dtype=np.int64)          # each key's row in the arcs table
    row[used] = np.arange(len(used))
    work = (calendar.working_hours(ev.times(left), ev.times(reached)) if len(pair)
            else np.zeros(0))
    times = {f"arc_{b}": each_value(f"arc_{b}", row[key], values)
             for b, values in (("hours", hours_between(left, reached)), ("workhours", work))}
    arcs = table("arcs", {**parts(used), "transitions": count[used].astype(np.int64),
                          "cases": count_distinct(key, v.case[pair], n_keys)[used]
                          .astype(np.int64)})
    return {"arcs": arcs, **times}


def _arcs_from_facts(facts) -> pd.DataFrame:
    """One row per (source, target, kind) of consecutive visits in a case."""
    a = facts["arcs"]
    keys = ["source", "target", "kind"]
    arcs = pd.DataFrame({**{c: pd.Series(a[c].to_numpy(object), dtype="str") for c in keys},
                         "transitions": a["transitions"].to_numpy(np.int64),
                         "cases": a["cases"].to_numpy(np.int64)})
    for basis, column in (("hours", "median_transition_hours"),
                          ("workhours", "median_transition_workhours")):
        times = facts[f"arc_{basis}"]
        arcs[column] = counted_medians(times["at"].to_numpy(np.int64),
                                       times["value"].to_numpy(float),
                                       times["n"].to_numpy(np.int64), len(arcs))
    arcs = arcs.sort_values(["transitions", "source", "target", "kind"],
                            ascending=[False, True, True, True], kind="stable")
    return arcs[ARC_COLUMNS].reset_index(drop=True)


def _traces(paths: pd.DataFrame) -> pd.DataFrame:
    """Node sequences of the cases with their counts, most frequent first (from the cases
    per path: a path's node sequence is its trace)."""
    counts = paths.groupby("trace", sort=False)["cases"].sum()
    traces = [json.loads(t) for t in counts.index]
    counts = counts.to_numpy(np.int64)
    order = sorted(range(len(traces)), key=lambda i: (-counts[i], traces[i]))
    return pd.DataFrame({"trace": [traces[i] for i in order],
                         "cases": counts[order].astype(np.int32)})


def _item_facts(log: EventLog, process_type: str | None, calendar: Calendar,
                as_of=None) -> dict[str, pd.DataFrame]:
    """Per node: decided items, how many waited from a recorded arrival, pending items, and
    the decided items' waits as counts per value, from `officemine.log.relations.work_items`
    (the necessity test's items and waits)."""
    scoped = process_type is not None
    items = work_items(log, calendar, as_of=as_of, columns=(C.process_type,) if scoped else ())
    if scoped:
        items = items[(items[C.process_type] == process_type).to_numpy(bool)]
    node, names = pd.factorize(items[C.node])
    names = np.asarray(names, dtype=object)
    n = len(names)
    done = items["observed"].to_numpy(bool)
    decided = np.bincount(node[done], minlength=n)
    recorded = np.bincount(node[done], minlength=n,
                           weights=(items["wait_source"] == "recorded").to_numpy(bool)[done])
    counts = table("items", {"node": names, "items": decided.astype(np.int64),
                             "recorded": recorded.astype(np.int64),
                             "pending": np.bincount(node[~done], minlength=n).astype(np.int64)})
    waits = {f"wait_{basis}": each_value(f"wait_{basis}", node[done],
                                         items[f"wait_{basis}"].to_numpy(float)[done])
             for basis in ("hours", "workhours")}
    return {"items": counts, **waits}


def _item_waits(facts) -> pd.DataFrame:
    """Per node: decided items, their median waits and recorded share, and pending items."""
    c = facts["items"]
    n = len(c)
    decided = c["items"].to_numpy(np.int64)
    medians = {}
    for basis in ("hours", "workhours"):
        waits = facts[f"wait_{basis}"]
        medians[basis] = counted_medians(waits["at"].to_numpy(np.int64),
                                         waits["value"].to_numpy(float),
                                         waits["n"].to_numpy(np.int64), n)
    return pd.DataFrame({
        "node": pd.Series(c["node"].to_numpy(object), dtype="str"),
        "items": decided,
        "median_wait_workhours": medians["workhours"],
        "median_wait_hours": medians["hours"],
        "recorded_share": np.where(decided > 0, c["recorded"].to_numpy(np.int64)
                                   / np.maximum(decided, 1), np.nan),
        "pending_items": c["pending"].to_numpy(np.int64)})


def _node_waits(nodes: pd.DataFrame, waits: pd.DataFrame) -> pd.DataFrame:
    out = nodes.merge(waits, on="node", how="left")
    out["items"] = out["items"].fillna(0).astype(int)
    out["pending_items"] = out["pending_items"].fillna(0).astype(int)
    return out.reset_index(drop=True)


def auto_min_frequency(n_cases: int) -> int:
    """Default arc threshold: 0.5 % of the cases, at least 2 (1 for tiny logs)."""
    if n_cases < 50:
        return 1
    return max(2, int(math.ceil(0.005 * n_cases)))


# --- BPMN -----------------------------------------------------------------------------------
def _miner_input(traces: pd.DataFrame, max_traces: int) -> pd.DataFrame:
    """A small pm4py DataFrame: each node sequence repeated (scaled) count times."""
    total = int(traces["cases"].sum())
    factor = min(1.0, max_traces / total) if total else 1.0
    rows_case, rows_act, rows_pos = [], [], []
    n = 0
    for trace, count in zip(traces["trace"], traces["cases"]):   # one row per variant
        reps = max(1, int(round(count * factor)))
        acts = list(trace)
        for _ in range(reps):
            rows_case += [f"c{n}"] * len(acts)
            rows_act += acts
            rows_pos += list(range(len(acts)))
            n += 1
    base = pd.Timestamp("2000-01-01", tz="UTC")
    return pd.DataFrame({"case:concept:name": rows_case, "concept:name": rows_act,
                         "time:timestamp": base + pd.to_timedelta(rows_pos, unit="s")})


def _layout_bpmn(bpmn) -> None:
    """Give every BPMN element a position (layered, left to right) and every flow waypoints."""
    from pm4py.objects.bpmn.obj import BPMN

    nodes = list(bpmn.get_nodes())
    flows = list(bpmn.get_flows())
    ids = {n: i for i, n in enumerate(nodes)}
    edges = [(ids[f.get_source()], ids[f.get_target()], 1.0) for f in flows]
    starts = [ids[n] for n in nodes if isinstance(n, BPMN.StartEvent)]
    lay = layer_graph(list(range(len(nodes))), edges,
                      rank=dfs_rank(list(range(len(nodes))), edges, starts))
    layout = bpmn.get_layout()

    def size(node):
        if isinstance(node, BPMN.Task):
            return 110.0, 60.0
        if isinstance(node, BPMN.Gateway):
            return 40.0, 40.0
        return 36.0, 36.0

    centre: dict = {}
    for k, layer in enumerate(lay.layers):
        for i, item in enumerate(layer):
            centre[item] = (80.0 + 170.0 * k, 80.0 + 100.0 * i)
    for n in nodes:
        w, h = size(n)
        cx, cy = centre[ids[n]]
        el = layout.get(n)
        el.set_width(w), el.set_height(h), el.set_x(cx - w / 2), el.set_y(cy - h / 2)
    for idx, f in enumerate(flows):
        s, t = ids[f.get_source()], ids[f.get_target()]
        (sx, sy), (tx, ty) = centre[s], centre[t]
        sw, tw = size(f.get_source())[0], size(f.get_target())[0]
        el = layout.get(f)
        el.del_waypoints()
        if idx in lay.chains:
            points = [(sx + sw / 2, sy)]
            points += [centre[d] for d in lay.chains[idx][1:-1]]
            points.append((tx - tw / 2, ty))
        else:   # backward flow: around the bottom
            sh, th = size(f.get_source())[1], size(f.get_target())[1]
            low = max(c[1] for c in centre.values()) + 70.0 + 14.0 * (idx % 5)
            points = [(sx, sy + sh / 2), (sx, low), (tx, low), (tx, ty + th / 2)]
        for p in points:
            el.add_waypoint((float(p[0]), float(p[1])))


# --- drawing --------------------------------------------------------------------------------
def _text_width(text: str, size_pt: float) -> float:
    """Width in inches, estimated from character classes (CJK = 1 em, others ~0.62 em)."""
    em = sum(1.0 if ord(ch) >= 0x2E80 else 0.62 for ch in text)
    return em * size_pt / 72.0


def _info_line(row, lang: str = "zh") -> str:
    parts = [say("map.node_visits", lang, n=int(row.visits))]
    if row.items and not (isinstance(row.median_wait_workhours, float)
                          and math.isnan(row.median_wait_workhours)):
        parts.append(say("map.node_wait", lang, wait=fmt_num(row.median_wait_workhours),
                         clock=_short_hours(row.median_wait_hours)))
    return " · ".join(parts)


def _short_hours(h: float) -> str:
    if h is None or (isinstance(h, float) and math.isnan(h)):
        return "–"
    return f"{h:.0f}h" if h >= 10 else f"{h:.1f}h"


@dataclass
class _Geometry:
    centre: dict
    size: dict
    cols: list          # (left, right) x of each layer's column
    x_left: float
    x_right: float
    y_top: float
    y_bottom: float


def _geometry(lay: Layering, labels: dict[str, tuple[str, str]]) -> _Geometry:
    size = {n: (max(_text_width(a, _NAME_PT), _text_width(b, _INFO_PT)) + 2 * _PAD_X, _BOX_H)
            for n, (a, b) in labels.items()}
    centre: dict = {}
    cols: list = []
    x = 0.0
    for layer in lay.layers:
        width = max((size[it][0] for it in layer if it in size), default=0.3)
        cols.append((x, x + width))
        heights = [size[it][1] if it in size else _DUMMY_H for it in layer]
        total = sum(heights) + _ROW_GAP * (len(layer) - 1)
        y = total / 2
        for it, h in zip(layer, heights):
            centre[it] = (x + width / 2, y - h / 2)
            y -= h + _ROW_GAP
        x += width + _LAYER_GAP
    for it in centre:
        if it not in size:
            size[it] = (0.0, _DUMMY_H)
    xs = [centre[n][0] - size[n][0] / 2 for n in labels] + [centre[n][0] + size[n][0] / 2
                                                            for n in labels]
    ys = [centre[n][1] + size[n][1] / 2 for n in centre] + [centre[n][1] - size[n][1] / 2
                                                            for n in centre]
    return _Geometry(centre, size, cols, min(xs, default=0), max(xs, default=1), max(ys, default=1),
                     min(ys, default=0))


@dataclass
class _Route:
    """An arc as drawn: its polyline, colour, line width (points, before scaling), whether
    dashed, its layer, and where its count is written, in which colour."""

    points: list
    color: str
    width: float
    dashed: bool
    z: int
    label_at: tuple
    label_color: str
    count: float


@dataclass
class _MapPlan:
    """Everything the drawing of a map shows, decided before anything is drawn: the boxes
    and their texts, the routes of the arcs, the canvas, the title, the notes and whether a
    colour scale of waits is shown (and where)."""

    nodes: pd.DataFrame
    geo: _Geometry
    labels: dict
    off_nodes: set
    routes: list
    left: float
    right: float
    top: float
    bottom: float
    note_h: float
    title: str
    notes: list
    has_waits: bool
    vmax: float
    bar_w: float
    bar_label: str
    legend_w: float
    beside: bool


def _plan(pm: ProcessMap, outside: tuple[set, set] | None, lang: str) -> _MapPlan:
    """What the map shows and where: the layered layout, the arcs' routes (forward arcs
    through their chains, backward arcs in lanes above or below), the canvas around them,
    the title, the notes and the colour scale."""
    nodes = pm.visible_nodes.reset_index(drop=True)
    arcs = pm.visible_arcs.reset_index(drop=True)
    names = nodes["node"].tolist()
    off_nodes, off_arcs = outside if outside is not None else (set(), set())
    labels = {r.node: (str(r.node), _info_line(r, lang)) for r in nodes.itertuples()}
    rank = dict(zip(nodes["node"], nodes["position"].fillna(0)))
    # Return arcs never take part in the layering: they are routed around the drawing.
    edges = [(s, t, float(n)) for s, t, n in zip(arcs["source"], arcs["target"],
                                                   arcs["transitions"])]
    is_return = arcs["kind"].eq("return").tolist()
    lay_edges = [e if not r else (e[0], e[0], e[2]) for e, r in zip(edges, is_return)]
    lay = layer_graph(names, lay_edges, rank)
    geo = _geometry(lay, labels)
    max_n = max((e[2] for e in edges), default=1.0)
    lw = (lambda n: 0.7 + 3.2 * math.sqrt(n / max_n))
    off = [not r and (s, t) in off_arcs for (s, t, _), r in zip(edges, is_return)]
    routes = _forward_routes(lay, geo, edges, is_return, off, lw)
    lanes, back_routes = _back_routes(lay, geo, edges, is_return, off, lw, labels)
    routes += back_routes

    note_h, margin = (1.19 if outside is not None else 0.95), 0.35
    left = geo.x_left - margin - 0.2
    right = geo.x_right + margin
    sc = pm.scope
    scope = sc.process_type if sc.process_type is not None else say("map.all_types", lang)
    title = say("map.title", lang, scope=scope, cases=sc.n_cases, span=sc.span_text())
    has_waits = bool(nodes["median_wait_workhours"].notna().any())
    bar_w, bar_label = 1.8, say("map.wait_scale", lang)
    legend_w = (_text_width(bar_label, 7.6) + bar_w + 0.25) if has_waits else 0.0
    # the colour scale sits right of the title, or under it when the map is narrow
    beside = _text_width(title, 12.5) + legend_w + 1.0 < max(right - left, 6.0)
    title_h = 0.6 if beside or not has_waits else 1.0
    top_extra = len(lanes["top"]) * _LANE_GAP + (0.25 if lanes["top"] else 0)
    bottom_extra = len(lanes["bottom"]) * _LANE_GAP + (0.25 if lanes["bottom"] else 0)
    top = geo.y_top + top_extra + title_h
    bottom = geo.y_bottom - bottom_extra - note_h

    back = [i for i in range(len(edges)) if i not in lay.chains]
    h = pm.hidden()
    least = h["min_frequency"]
    hidden = (say("map.hidden", lang, min=least, arcs=h["arcs"], transitions=h["transitions"],
                  returns=h["return_arcs"])
              + (say("map.hidden_nodes", lang, min=least, nodes=h["nodes"]) if h["nodes"]
                 else "")
              if h["arcs"] or h["nodes"] else say("map.hidden_none", lang, min=least))
    notes = [
        say("map.note_nodes", lang, calendar=sc.calendar_in(lang)),
        say("map.note_arcs", lang)
        + (say("map.note_other_back", lang) if any(not is_return[i] for i in back) else ""),
        hidden,
    ]
    if outside is not None:
        shown_nodes = sum(1 for n in names if n in off_nodes)
        shown_arcs = sum(off)
        notes.insert(2, say("map.outside", lang, nodes=shown_nodes, arcs=shown_arcs))
    waits = nodes["median_wait_workhours"]
    vmax = float(np.nanmax(waits)) if waits.notna().any() else 1.0
    return _MapPlan(nodes, geo, labels, off_nodes, routes, left, right, top, bottom, note_h,
                    title, notes, has_waits, vmax, bar_w, bar_label, legend_w, beside)


def _forward_routes(lay: Layering, geo: _Geometry, edges: list, is_return: list, off: list,
                    lw) -> list[_Route]:
    """Forward arcs: through the dummy items of their chain; where several arcs leave or
    enter one box, their ends are spread over its side in the order of where they go."""
    middles: dict = {}
    for i, chain in lay.chains.items():
        mid = []
        for d in chain[1:-1]:
            dx, dy = geo.centre[d]
            col_l, col_r = geo.cols[lay.layer_of[d]]
            mid += [(col_l, dy), (col_r, dy)]
        middles[i] = mid
    port: dict = {}
    for end in ("out", "in"):
        groups: dict = {}
        for i in lay.chains:
            node = edges[i][0] if end == "out" else edges[i][1]
            other = edges[i][1] if end == "out" else edges[i][0]
            if middles[i]:
                toward = middles[i][0][1] if end == "out" else middles[i][-1][1]
            else:
                toward = geo.centre[other][1]
            groups.setdefault(node, []).append((-toward, i))
        for node, group in groups.items():
            group.sort()
            m = len(group)
            span = 0.55 * geo.size[node][1] if m > 1 else 0.0
            for k, (_, i) in enumerate(group):
                shift = span / 2 - span * k / (m - 1) if m > 1 else 0.0
                port[(end, i)] = geo.centre[node][1] + shift
    out_count: dict = {}
    in_count: dict = {}
    for i in lay.chains:
        out_count[edges[i][0]] = out_count.get(edges[i][0], 0) + 1
        in_count[edges[i][1]] = in_count.get(edges[i][1], 0) + 1
    routes = []
    for i, chain in lay.chains.items():
        s, t, n = edges[i]
        pts = [(geo.centre[s][0] + geo.size[s][0] / 2, port[("out", i)])]
        pts += middles[i]
        pts.append((geo.centre[t][0] - geo.size[t][0] / 2, port[("in", i)]))
        color = (_RETURN_COLOR if is_return[i] else _OUTSIDE_COLOR if off[i]
                 else _FORWARD_COLOR)
        # label mid-way on the first segment (in the gap next to the source)
        (x0, y0), (x1, y1) = pts[0], pts[1]
        f = 0.5 if len(pts) > 2 or in_count[t] <= out_count[s] else 0.42
        routes.append(_Route(pts, color, lw(n), is_return[i], 2,
                             (x0 + f * (x1 - x0), y0 + f * (y1 - y0)),
                             _RETURN_COLOR if is_return[i] else _OUTSIDE_COLOR if off[i]
                             else "#222222", n))
    return routes


def _back_routes(lay: Layering, geo: _Geometry, edges: list, is_return: list, off: list, lw,
                 labels: dict) -> tuple[dict, list[_Route]]:
    """Backward arcs (returns and others): orthogonal routes in lanes above or below the
    boxes; an end that has other boxes between it and its lane reaches the lane through a
    gap between columns. Returns the lanes (side -> arcs, innermost first) and the routes."""
    back = [i for i in range(len(edges)) if i not in lay.chains]
    real_rows = [[it for it in layer if it in labels] for layer in lay.layers]

    def beyond(n, sd):
        """How many boxes of its column lie between node `n` and side `sd`."""
        rows = real_rows[lay.layer_of[n]]
        k = rows.index(n)
        return k if sd == "top" else len(rows) - 1 - k

    def side_of(i):
        s, t = edges[i][0], edges[i][1]
        cost = {sd: beyond(s, sd) + beyond(t, sd) for sd in ("top", "bottom")}
        return "top" if cost["top"] <= cost["bottom"] else "bottom"

    lanes: dict = {"top": [], "bottom": []}
    for i in back:
        lanes[side_of(i)].append(i)
    for sd in lanes:
        lanes[sd].sort(key=lambda i: (abs(geo.centre[edges[i][0]][0] - geo.centre[edges[i][1]][0]),
                                      -edges[i][2]))
    exits: dict = {}
    entries: dict = {}
    for sd, items in lanes.items():
        for i in items:
            exits.setdefault((edges[i][0], sd), []).append(i)
            entries.setdefault((edges[i][1], sd), []).append(i)

    def slot(node, sd, i, table, outer_left: bool):
        group = table[(node, sd)]
        # outer lanes (later in the lane list) sit further out: left at targets
        order = sorted(group, key=lambda j: lanes[sd].index(j), reverse=outer_left)
        k = order.index(i)
        w = geo.size[node][0]
        frac = 0.5 if len(group) == 1 else 0.2 + 0.6 * k / (len(group) - 1)
        return geo.centre[node][0] - w / 2 + frac * w

    gap_use: dict = {}

    def gap_x(n, towards_left: bool) -> float:
        """An x in the gap left (source ends) or right (target ends) of n's column."""
        k = lay.layer_of[n]
        key = (k, towards_left)
        j = gap_use[key] = gap_use.get(key, -1) + 1
        if towards_left:
            return geo.cols[k][0] - 0.12 - 0.09 * j
        return geo.cols[k][1] + 0.12 + 0.09 * j

    routes = []
    for sd, items in lanes.items():
        sign = 1 if sd == "top" else -1
        edge_y = geo.y_top if sd == "top" else geo.y_bottom
        for lane_no, i in enumerate(items):
            s, t, n = edges[i]
            lane_y = edge_y + sign * (0.22 + _LANE_GAP * lane_no)
            sx = slot(s, sd, i, exits, outer_left=False)
            tx = slot(t, sd, i, entries, outer_left=True)
            s_edge = geo.centre[s][1] + sign * geo.size[s][1] / 2
            t_edge = geo.centre[t][1] + sign * geo.size[t][1] / 2
            if beyond(s, sd) == 0:
                pts = [(sx, s_edge), (sx, lane_y)]
            else:
                yq, xg = s_edge + sign * _ROW_GAP / 2, gap_x(s, True)
                pts = [(sx, s_edge), (sx, yq), (xg, yq), (xg, lane_y)]
            if beyond(t, sd) == 0:
                pts += [(tx, lane_y), (tx, t_edge)]
            else:
                yq, xg = t_edge + sign * _ROW_GAP / 2, gap_x(t, False)
                pts += [(xg, lane_y), (xg, yq), (tx, yq), (tx, t_edge)]
            color = _RETURN_COLOR if is_return[i] else _OUTSIDE_COLOR if off[i] else _BACK_COLOR
            (ax0, _), (ax1, _) = [p for p in pts if p[1] == lane_y][:2]
            lx = ax0 - min(0.45, abs(ax0 - ax1) / 2) * (1 if ax0 > ax1 else -1)
            routes.append(_Route(pts, color, lw(n), True, 1, (lx, lane_y), color, n))
    return lanes, routes


def _draw(pm: ProcessMap, ax, outside: tuple[set, set] | None = None, lang: str = "zh"):
    """Draw the map as `_plan` lays it out, on `ax` (scaled to fit it) or on a new figure
    of its own size."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path as MPath

    plan = _plan(pm, outside, lang)
    left, right, top, bottom = plan.left, plan.right, plan.top, plan.bottom
    width, height = right - left, top - bottom
    if ax is None:
        fig = plt.figure(figsize=(max(width, 6.0), max(height, 3.0)))
        ax = fig.add_axes((0, 0, 1, 1))
        scale = 1.0
        if width < 6.0:                     # centre a small map on the minimum canvas
            pad = (6.0 - width) / 2
            left, right = left - pad, right + pad
        if height < 3.0:
            pad = (3.0 - height) / 2
            top, bottom = top + pad, bottom - pad
    else:
        bbox = ax.get_window_extent().transformed(ax.figure.dpi_scale_trans.inverted())
        scale = min(bbox.width / width, bbox.height / height)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal", adjustable="box")
    ax.axis("off")
    fs = (lambda pt: pt * scale)

    cmap = colormaps["YlOrRd"]
    _draw_boxes(ax, plan, cmap, scale)

    # arcs: forward ones, then the backward ones in their lanes
    for route in plan.routes:
        codes = [MPath.MOVETO] + [MPath.LINETO] * (len(route.points) - 1)
        ax.add_patch(FancyArrowPatch(
            path=MPath(route.points, codes), arrowstyle="-|>",
            mutation_scale=fs(9 + route.width * 1.5), lw=route.width * scale,
            color=route.color, linestyle=(0, (4, 2.5)) if route.dashed else "-",
            joinstyle="round", capstyle="round", zorder=route.z))
        ax.text(*route.label_at, f"{int(route.count):,}", ha="center", va="center",
                fontsize=fs(_ARC_PT), color=route.label_color, zorder=6,
                bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))

    # title, notes, colour scale
    ax.text(left + 0.3, top - 0.3, plan.title, ha="left", va="center", fontsize=fs(12.5))
    for k, line in enumerate(plan.notes):
        ax.text(left + 0.3, bottom + plan.note_h - 0.22 - 0.24 * k, line, ha="left",
                va="center", fontsize=fs(_NOTE_PT), color="#444444")
    if plan.has_waits:
        _draw_scale(ax, plan, cmap, left, right, top, scale)
    return ax


def _draw_boxes(ax, plan: _MapPlan, cmap, scale: float) -> None:
    """The nodes' boxes, filled by their median wait, with their name and figures."""
    from matplotlib.colors import Normalize
    from matplotlib.patches import FancyBboxPatch

    geo, fs = plan.geo, (lambda pt: pt * scale)
    norm = Normalize(0, max(plan.vmax, 1e-9))
    for r in plan.nodes.itertuples():
        cx, cy = geo.centre[r.node]
        w, h = geo.size[r.node]
        wait = r.median_wait_workhours
        face = "#f2f2f2" if (wait is None or isinstance(wait, float) and math.isnan(wait)) \
            else cmap(0.08 + 0.55 * norm(wait))
        off = r.node in plan.off_nodes
        ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    fc=face, ec=_OUTSIDE_COLOR if off else "#333333",
                                    lw=(2.2 if off else 0.9) * scale,
                                    ls=(0, (3, 2)) if off else "-", zorder=3))
        name, info = plan.labels[r.node]
        ax.text(cx, cy + 0.1, name, ha="center", va="center", fontsize=fs(_NAME_PT),
                zorder=4)
        ax.text(cx, cy - 0.14, info, ha="center", va="center", fontsize=fs(_INFO_PT),
                color="#333333", zorder=4)


def _draw_scale(ax, plan: _MapPlan, cmap, left: float, right: float, top: float,
                scale: float) -> None:
    """The colour scale of the waits: right of the title, or under it on a narrow map."""
    fs = (lambda pt: pt * scale)
    bar_w = plan.bar_w
    bar_y = top - 0.3 if plan.beside else top - 0.72
    bar_x = right - 0.35 - bar_w if plan.beside else left + 0.3 + plan.legend_w - bar_w
    cax = ax.inset_axes((bar_x, bar_y - 0.06, bar_w, 0.12), transform=ax.transData)
    gradient = cmap(0.08 + 0.55 * np.linspace(0, 1, 256))[None, :, :]
    cax.imshow(gradient, aspect="auto", extent=(0, plan.vmax, 0, 1))
    cax.set_yticks([])
    cax.tick_params(labelsize=fs(6.5), length=2, pad=1)
    for side in ("top", "right", "left"):
        cax.spines[side].set_visible(False)
    ax.text(bar_x - 0.1, bar_y, plan.bar_label, ha="right", va="center",
            fontsize=fs(7.6), color="#444444")


def _metadata(suffix: str, pm: ProcessMap) -> dict | None:
    title = f"officemine process map: {pm.scope.label}"
    if suffix == "pdf":
        return {"Title": title, "Creator": "officemine"}
    if suffix == "svg":
        return {"Title": title}
    return None
