"""The necessity test: does each approval node earn the waiting it causes?

Per node (and per process type when asked) it weighs how long items wait there against how
often the node stops them (reject + return), adds whether its approvals hold up downstream and
why it returns items, and gives a verdict a manager can act on:

* ``keep`` — it catches a material share of items;
* ``streamline`` — items wait long there, yet its rejection rate is credibly below the
  threshold: a candidate for removal or record-only (备案制);
* ``notice`` — most of its returns are for missing material: fix with one-time notification
  (一次性告知) rather than by checking;
* ``insufficient_data`` — too few decisions to say.

Definitions (see `officemine.log.relations`): an *item* is one decision taken at a node; its wait
runs from when the item reached the node (recorded, or inferred from the previous action) to
the decision. Items still pending at export are right-censored: medians and p90 are
Kaplan–Meier estimates, the mean is the restricted mean over the observed range.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Literal, Sequence, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.calendar import Calendar
from officemine.base.errors import ChoiceError, InputError, NoDataError
from officemine.log.eventlog import EventLog
from officemine.base.jsonable import plain
from officemine.log.schema import C
from officemine.base.stats import km_summary, wilson_interval
from officemine.log import relations
from officemine.log.relations import work_items
from officemine.log.result import Result, log_info_of
from officemine.base.choices import Lang
from officemine.base.text import for_reader, in_lang, joined, necessity_reason, say, word
from officemine.versions import ProcessVersions, Since, select_since

Basis = Literal["working", "clock"]
Verdict = Literal["keep", "streamline", "notice", "insufficient_data"]
GroupBy = Literal["process_type"]
BASES: tuple[str, ...] = get_args(Basis)
#: Where the test runs: this machine (DuckDB) or a Spark cluster (`officemine.spark`).
ENGINES: tuple[str, ...] = ("duckdb", "spark")
#: What the test may group nodes by (None: every node once, across process types).
BYS: tuple[str | None, ...] = (None, *get_args(GroupBy))
VERDICTS: tuple[str, ...] = get_args(Verdict)

#: Return-reason classes, first match wins; comments are matched case-insensitively.
#: 材料不全 is its own class because one-time notification (一次性告知) removes those returns.
REASON_CLASSES: tuple[tuple[str, str], ...] = (
    # a missing-word near a material-word, either order ("缺少发票原件", "附件不全")
    ("材料不全", r"(材料|附件|资料|证明|原件|凭证|单据|发票).{0,4}(不全|不齐|缺|未附|未提供|未上传)|"
             r"(缺少|缺失|未附|未提供|未上传|补充|补齐|补交|补传|补附|漏附|漏传).{0,6}"
             r"(材料|附件|资料|证明|原件|发票|凭证|单据)|材料不全|"
             r"missing (document|attachment|receipt|material)|incomplete"),
    ("金额或数据有误", r"金额|数额|数字|计算|合计|大小写|有误|错误|不符|不一致|"
                 r"amount|wrong|incorrect|mismatch"),
    ("不合规定或超标准", r"规定|制度|标准|超标|超支|预算|政策|不合规|违反|不符合|过期|"
                  r"policy|budget|exceed|rule|expired"),
    ("事由或内容不清", r"事由|用途|不清|不明确|请说明|请明确|具体|unclear|purpose|explain"),
    ("填写或格式不规范", r"填写|格式|规范|签字|签名|盖章|模板|错别字|表述|措辞|排版|format|sign"),
    ("重复提交", r"重复|duplicate"),
)
OTHER_REASON = "其他"
NO_COMMENT = "未填写意见"
MISSING_MATERIAL = REASON_CLASSES[0][0]


@dataclass(frozen=True)
class NecessityThresholds:
    """Verdict thresholds; every default has a reason a manager can check.

    * ``min_items = 30``: below 30 decisions a Wilson interval around a 5% rate spans
      roughly 1–17%, too wide to tell a gate from a rubber stamp.
    * ``rejection_threshold = 0.05``: a node that stops fewer than 1 item in 20 is not
      doing material checking; reform guidance asks such nodes to justify themselves.
    * ``long_wait_workhours = 3.5``: half of a standard 7-hour working day; a node that
      holds items longer than that adds at least a day's turnaround to many of them.
    * ``long_wait_clockhours = 24``: the same idea on clock time (a day).
    * ``notice_share = 0.5`` and ``min_rejections_for_notice = 10``: when most of at least
      10 returns are for missing material, the fix is telling applicants up front.
    * ``leadership_rejection_threshold = 0.02``: a leader's sign-off (领导, 总经理, 局长,
      签发 … in the step's name) decides fewer and weightier items; stopping 2–3 % of them (a
      contract, a budget) is a real check, not a rubber stamp, so the bar is lower there.
    * ``confidence = 0.95`` for every interval.
    """

    min_items: int = 30
    rejection_threshold: float = 0.05
    long_wait_workhours: float = 3.5
    long_wait_clockhours: float = 24.0
    notice_share: float = 0.5
    min_rejections_for_notice: int = 10
    leadership_rejection_threshold: float = 0.02
    confidence: float = 0.95

    def __post_init__(self) -> None:
        problems = []
        if self.min_items < 1:
            problems.append("min_items must be at least 1")
        for name in ("rejection_threshold", "notice_share", "leadership_rejection_threshold"):
            if not 0 < getattr(self, name) < 1:
                problems.append(f"{name} must be between 0 and 1")
        if not 0.5 <= self.confidence < 1:
            problems.append("confidence must be in [0.5, 1)")
        if self.long_wait_workhours <= 0 or self.long_wait_clockhours <= 0:
            problems.append("long-wait thresholds must be positive")
        if problems:
            raise InputError("invalid necessity thresholds: " + "; ".join(problems))

    def long_wait(self, basis: str) -> float:
        return self.long_wait_workhours if basis == "working" else self.long_wait_clockhours


def classify_reason(comment: object) -> str:
    """The reason class of a return/rejection comment (see `REASON_CLASSES`)."""
    if comment is None or (isinstance(comment, float) and math.isnan(comment)) or \
            comment is pd.NA or not str(comment).strip():
        return NO_COMMENT
    text = str(comment)
    for name, pattern in REASON_CLASSES:
        if re.search(pattern, text, flags=re.I):
            return name
    return OTHER_REASON


def _classify_reasons(comments: pd.Series) -> pd.Series:
    """`classify_reason` of each comment, computed once per distinct comment (OA comments
    repeat: a million-event log has a few hundred distinct return comments)."""
    codes, distinct = pd.factorize(comments, use_na_sentinel=True)
    classes = np.array([classify_reason(c) for c in distinct] + [classify_reason(None)],
                       dtype=object)
    return pd.Series(classes[codes], index=comments.index, dtype=object)


@dataclass(frozen=True)
class NecessityResult(Result):
    """The necessity test's result: `.summary` (one row per node), `.plot()`, `.to_json()`."""

    @property
    def html_columns(self) -> tuple[str, ...]:
        return tuple(c for c in ("node", self.by, "items", "rejections", "rejection_rate",
                                 "wait_median", "wait_p90", "wait_share",
                                 "downstream_catch_rate", "verdict", "reason") if c)

    def reason_text(self, lang: Lang = "en") -> pd.Series:
        """Each node's reason in words (the summary holds its code and parameters)."""
        return pd.Series([necessity_reason(c, p, lang) for c, p in
                          zip(self.summary["reason_code"], self.summary["reason_params"])],
                         index=self.summary.index, name="reason", dtype=object)

    def table(self, lang: Lang = "zh", columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The per-node table as a reader of `lang` sees it: labels, verdicts and reasons in
        words (`officemine.base.text.for_reader`). columns: which of the summary's (default: all
        but the reason classes; ``reason`` stands for the code and its parameters)."""
        wanted = list(columns) if columns is not None else [
            c for c in self.summary.columns if c != "reason_classes"]
        if "reason" in wanted:
            at = wanted.index("reason")
            wanted[at:at + 1] = ["reason_code", "reason_params"]
        return for_reader(self.summary[wanted], lang, "necessity")

    def _html_tables(self) -> list[pd.DataFrame]:
        shown = self.summary.assign(reason=self.reason_text("en"))
        return [shown[list(self.html_columns)]]

    summary: pd.DataFrame
    reasons: pd.DataFrame
    basis: str
    calendar: str
    thresholds: NecessityThresholds
    by: str | None
    log_info: dict
    as_of: pd.Timestamp
    not_approval_nodes: dict[str, str] = field(default_factory=dict)
    other_nodes: pd.DataFrame | None = None
    removed_nodes: pd.DataFrame | None = None
    versions: ProcessVersions | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    items: pd.DataFrame | None = field(default=None, repr=False)

    # --- output -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The documented JSON contract (see docs/necessity.md)."""
        nodes = []
        for row in self.summary.to_dict("records"):
            node = {k: plain(v) for k, v in row.items() if k not in ("reason_classes",)}
            node["rejection_rate_ci"] = [node.pop("rejection_rate_ci_low"),
                                         node.pop("rejection_rate_ci_high")]
            node["downstream_catch_rate_ci"] = [node.pop("downstream_catch_ci_low"),
                                                node.pop("downstream_catch_ci_high")]
            node["return_reasons"] = row["reason_classes"]
            # the words of the reason, as the contract has always had them (the code and its
            # parameters beside them: `officemine.base.text.necessity_reason`)
            node["reason"] = necessity_reason(row["reason_code"], row["reason_params"], "en")
            node["reason_zh"] = necessity_reason(row["reason_code"], row["reason_params"], "zh")
            nodes.append(node)
        return {
            "log": self.log_info,
            "basis": self.basis,
            "calendar": self.calendar,
            "as_of": self.as_of.isoformat(),
            "by": self.by,
            "rejection_rate_ci_method": f"Wilson score interval, {self.thresholds.confidence:.0%}",
            "wait_method": "Kaplan–Meier median and p90 with items pending at export right-"
                           "censored at as_of; mean = restricted mean over the observed range; "
                           "wait_hours_* are clock hours, wait_workhours_* are working hours "
                           "of the calendar",
            "thresholds": asdict(self.thresholds),
            "not_approval_nodes": self.not_approval_nodes,
            "other_nodes": ([{k: plain(v) for k, v in row.items()}
                             for row in self.other_nodes.to_dict("records")]
                            if self.other_nodes is not None else []),
            "removed_nodes": ([{k: plain(v) for k, v in row.items()}
                               for row in self.removed_nodes.to_dict("records")]
                              if self.removed_nodes is not None else []),
            "warnings": list(self.warnings),
            "nodes": nodes,
        }

    def verdict_counts(self) -> dict[str, int]:
        return self.summary["verdict"].value_counts().reindex(VERDICTS, fill_value=0).to_dict()

    def _shown(self) -> pd.DataFrame:
        """The per-node rows the readable texts show: rate as a percentage, median wait to a
        tenth."""
        cols = ["node"] + ([self.by] if self.by else []) + [
            "items", "rejection_rate", "wait_median", "verdict"]
        view = self.summary[cols].copy()
        view["rejection_rate"] = view["rejection_rate"].map(lambda v: f"{v:.1%}")
        view["wait_median"] = view["wait_median"].map(lambda v: f"{v:.1f}")
        return view

    def _held_elsewhere(self) -> list:
        """The steps not judged (not decisions) that held items: rows of ``other_nodes``."""
        if self.other_nodes is None:
            return []
        o = self.other_nodes
        return list(o[o["items"] + o["pending"] > 0].itertuples())

    def _judged_part(self) -> tuple[int, int] | None:
        """(cases judged, cases of the log) when only part of the log was judged."""
        judged = self.log_info.get("judged", {})
        if judged.get("cases") is not None and judged["cases"] != judged["of_cases"]:
            return judged["cases"], judged["of_cases"]
        return None

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.verdict_counts().items() if v)
        unit = "working h" if self.basis == "working" else "clock h"
        warn = "".join(f"\nWARNING: {w}" for w in self.warnings)
        others = "".join(f"\nnot judged: {r.node} ({r.kind}): {r.items:,} items, median "
                         f"wait {r.wait_median:.1f} {unit}" for r in self._held_elsewhere())
        if self.removed_nodes is not None:
            others += "".join(f"\nremoved on {r.date:%Y-%m-%d}: {r.node}"
                              + (f" ({r.process_type})" if r.process_type else "")
                              + ": not judged, no longer in the process"
                              for r in self.removed_nodes.itertuples())
        part = self._judged_part()
        scope = (f"{part[0]:,} of {part[1]:,} cases (current versions)" if part
                 else f"{self.log_info['cases']:,} cases")
        return (f"<NecessityResult: {len(self.summary)} decision nodes ({counts}); waits in "
                f"{unit}; {scope}>\n" + self._shown().to_string(index=False)
                + others + warn)

    def text(self, lang: Lang = "zh") -> str:
        """What the ``necessity`` command prints, in `lang`: the verdicts counted, the cases
        judged, the per-node table, the steps not judged, the nodes removed and the warnings
        (the ``repr`` says the same for developers, in English)."""
        counts = joined((f"{word('verdict', k, lang)} {v}" for k, v in
                         self.verdict_counts().items() if v), lang)
        unit = say("unit.working_hours" if self.basis == "working" else "unit.clock_hours",
                   lang)
        part = self._judged_part()
        scope = (say("necessity.scope_current", lang, cases=part[0], of=part[1]) if part
                 else say("necessity.scope_all", lang, cases=self.log_info["cases"]))
        lines = [say("necessity.text_head", lang, n=len(self.summary), counts=counts,
                     unit=unit, scope=scope),
                 for_reader(self._shown(), lang, "necessity").to_string(index=False)]
        lines += [say("necessity.not_judged", lang, node=r.node,
                      kind=word("kind", r.kind, lang), items=r.items, wait=r.wait_median,
                      unit=unit)
                  for r in self._held_elsewhere()]
        if self.removed_nodes is not None:
            lines += [say("necessity.removed", lang, date=f"{r.date:%Y-%m-%d}", node=r.node,
                          where=say("necessity.where", lang, process_type=r.process_type)
                          if r.process_type else "")
                      for r in self.removed_nodes.itertuples()]
        lines += [say("text.warning", lang, text=in_lang(w, lang)) for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None, lang: str = "zh", label_nodes: bool = True):
        """The necessity chart: wait (y) against rejection rate (x), bubble = volume."""
        from officemine.necessity.chart import necessity_chart

        return necessity_chart(self, ax=ax, lang=lang, label_nodes=label_nodes)


def necessity(log: EventLog, *, by: GroupBy | None = None, basis: Basis = "working",
              calendar: Calendar | None = None, thresholds: NecessityThresholds | None = None,
              as_of: pd.Timestamp | str | None = None,
              node_kinds: dict[str, str] | None = None, since: Since = "current",
              redesigns: Sequence = (), memory_limit: int | str | None = None,
              batch_items: int | None = None) -> NecessityResult:
    """Put every decision node to the necessity test.

    by: ``"process_type"`` tests each node within each process type separately.
    basis: ``"working"`` (hours of `calendar`, default) or ``"clock"`` for the verdict's
    wait; both are always reported.
    node_kinds: node -> kind, overriding what `officemine.log.relations.node_kinds` infers (and
    the log's mapping). Only decision nodes get a verdict; the waiting at every other step
    that holds items (instruction, notification, automatic, unknown) is listed in
    ``other_nodes`` — waiting at a step that decides nothing is a finding in itself.
    since: which cases are judged: ``"current"`` (default: each process type's cases started
    since its latest change point, `officemine.versions`; a node removed by then is reported
    in ``removed_nodes``, never judged), ``"all"``, a date, or `ProcessVersions` found on a
    longer log. redesigns: change dates from the report settings (for ``"current"``).
    memory_limit: for a stored log larger than memory (``"3GB"``): its items are read in
    batches of whole cases sized to stay about within it (or of `batch_items` items each),
    each batch reduced to its nodes' facts, which add up (`GroupFacts.merged`: the Spark
    engine's design on one machine). The result is the same, without ``items``.

    >>> result = necessity(officemine.read_log("reports/oa_sample.parquet"))  # doctest: +SKIP
    >>> result.summary[["node", "rejection_rate", "verdict", "reason_code"]]  # doctest: +SKIP
    >>> result.reason_text("zh")                                              # doctest: +SKIP
    """
    ChoiceError.check("basis", basis, BASES)
    ChoiceError.check("by", by, BYS)
    thresholds = thresholds or NecessityThresholds()
    calendar = calendar or log.calendar
    whole, (log, versions) = log, select_since(log, since, redesigns,
                                               memory_limit=memory_limit)
    if not log.n_cases:
        raise NoDataError("no case of the log is in the window judged "
                              f"(since={_since_text(since)}); choose another --since")
    kinds = relations.node_kinds(log, node_kinds)
    not_approval = {n: k for n, k in zip(kinds["node"], kinds["kind"]) if k != "decision"}
    wait_col = "wait_workhours" if basis == "working" else "wait_hours"
    columns = (C.comment,) + ((C.process_type,) if by else ())
    facts = _Facts(not_approval, by, wait_col)
    if memory_limit is None and batch_items is None:
        items = facts.add(work_items(log, calendar, as_of=as_of, columns=columns))
    else:
        from officemine.importing.streaming import read_budget

        items = None
        rows, duckdb_memory = read_budget(memory_limit, _BYTES_PER_ITEM)
        for batch in relations.work_item_batches(
                log, calendar, as_of=as_of, columns=columns, items=batch_items or rows,
                duckdb_memory=duckdb_memory):
            facts.add(batch)
    if by and not facts.by_values:
        raise NoDataError(f"the log has no {by} values to group by")
    rows, wait_share, reasons, other_rows = facts.finish(wait_col)
    start, end = whole.span()
    log_info = log_info_of(whole, start=start, end=end)
    log_info["judged"] = {"since": _since_text(since) if versions is None else
                          {str(k): v.isoformat() for k, v in versions.since.items()},
                          # the judged log's own cases (versions found on a longer log
                          # count cases outside the window judged)
                          "cases": log.n_cases,
                          "of_cases": whole.n_cases}
    if facts.as_of is None:             # no item at all: nothing to judge (`_result` says so)
        facts.as_of = relations.now(log, as_of)
    return _result(rows, keys=facts.keys, by=by, wait_share=wait_share, kinds=kinds,
                   reasons=reasons, thresholds=thresholds, basis=basis,
                   calendar=calendar.describe(), log_info=log_info,
                   as_of=facts.as_of, not_approval=not_approval,
                   other_nodes=_other_nodes_table(other_rows, kinds), versions=versions,
                   warnings=tuple(calendar.coverage_warnings(facts.first_start(), facts.as_of)),
                   items=items)


#: Memory an item of a batch costs at peak (the items, the decision items' copy, their
#: arrays sorted by group), measured on the benchmark log, with a margin.
_BYTES_PER_ITEM = 1_500


class _Facts:
    """What the test reads of the items, batch by batch of whole cases in case order: each
    group's `GroupFacts` (in order of first appearance), the parts of its waiting share, the
    return reasons, the other steps' waits and the earliest visit start. The whole log in
    memory is one batch; the finish is the same (`finish`)."""

    def __init__(self, not_approval: dict[str, str], by: str | None, wait_col: str) -> None:
        self.not_approval, self.by, self.wait_col = not_approval, by, wait_col
        self.keys = ["node"] + ([by] if by else [])
        self.groups: dict[tuple, GroupFacts] = {}
        self.at_node: pd.Series | None = None
        self.total: pd.Series | None = None
        self.reasons: list[pd.DataFrame] = []
        self.other: dict[str, tuple] = {}
        self.starts: list = []
        self.by_values = False
        self.as_of: pd.Timestamp | None = None

    def add(self, items: pd.DataFrame) -> pd.DataFrame:
        """Add a batch's work items (`relations.work_items` of whole cases, later in case
        order than every batch before); its decision items, as the test reads them."""
        self.as_of = items.attrs["as_of"]
        # pandas deep-copies a frame's attrs into every frame made from it (each filter,
        # copy and column), and a time zone is slow to copy: read them once, then drop them
        items = items.copy(deep=False)
        items.attrs = {}
        self.starts.append(items["visit_start"].min() if len(items) else None)
        other = items["node"].isin(self.not_approval)
        for node, group in items[other].groupby("node", sort=False):
            part = (group[self.wait_col].to_numpy(float), group["observed"].to_numpy(bool),
                    None)
            self.other[node] = (_merged_waits(self.other[node], part) if node in self.other
                                else part)
        if self.by:
            self.by_values = self.by_values or bool(items.loc[~other, self.by].notna().any())
        items, keys = _decision_items(items, self.not_approval, self.by)
        # one stable sort by group, then every statistic on array slices (no per-group frames)
        order, bounds, arrays = _group_arrays(items)
        first_rows = order[bounds[:-1]]
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            key = tuple(items.iloc[first_rows[i]][keys].tolist())
            facts = _facts_of_items({k: v[a:b] for k, v in arrays.items()}, self.wait_col)
            self.groups[key] = (self.groups[key].merged(facts) if key in self.groups
                                else facts)
        at_node, total = _wait_share_parts(items, keys, self.wait_col)
        self.at_node = at_node if self.at_node is None else self.at_node.add(at_node,
                                                                             fill_value=0)
        self.total = total if self.total is None else self.total.add(total, fill_value=0)
        # the rejections the statistics count: decided by the time judged (`observed`), as
        # in `_facts_of_items` and the Spark engine
        stopped = items["rejected"].to_numpy(bool) & items["observed"].to_numpy(bool)
        self.reasons.append(items[stopped].groupby(keys + ["reason_class"], dropna=False)
                            .size().rename("count").reset_index())
        return items

    def first_start(self) -> pd.Timestamp | None:
        """The earliest visit start of the items (NaT if none has one; as_of without items)."""
        starts = [s for s in self.starts if s is not None]
        return pd.Series(starts).min() if starts else self.as_of

    def finish(self, wait_col: str) -> tuple[list[dict], pd.Series, pd.DataFrame, list[dict]]:
        """(each group's statistics, its waiting share, the reasons table, the other steps'
        rows): what `_result` reads."""
        rows = [{**dict(zip(self.keys, key)), **_stats_of(facts, wait_col)}
                for key, facts in self.groups.items()]
        # waiting at the node / all waiting in the cases that pass it (visits counted once)
        with np.errstate(invalid="ignore", divide="ignore"):
            wait_share = (self.at_node / self.total if self.at_node is not None
                          else pd.Series(dtype=float))
        reasons = self.reasons[0] if len(self.reasons) == 1 else (
            pd.concat(self.reasons, ignore_index=True)
            .groupby(self.keys + ["reason_class"], dropna=False)["count"].sum().reset_index()
            if self.reasons else pd.DataFrame(columns=self.keys + ["reason_class", "count"]))
        other = [_other_node_row(node, *waits) for node, waits in self.other.items()]
        return rows, wait_share, reasons, other


def _merged_waits(*parts: tuple[np.ndarray, np.ndarray, np.ndarray | None]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Waits given as (values, observed, weights or None: one item each), merged into each
    distinct (value, observed) with how many items have it (missing values are one value):
    what `stats.kaplan_meier` reads, in the size of the distinct waits."""
    values = np.concatenate([p[0] for p in parts])
    observed = np.concatenate([p[1] for p in parts])
    weights = np.concatenate([p[2] if p[2] is not None else np.ones(len(p[0]), np.int64)
                              for p in parts])
    if not len(values):
        return values, observed, weights
    order = np.lexsort((values, observed))
    values, observed, weights = values[order], observed[order], weights[order]
    same = (((values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1])))
            & (observed[1:] == observed[:-1]))
    starts = np.flatnonzero(np.r_[True, ~same])
    return values[starts], observed[starts], np.add.reduceat(weights, starts)


def _decision_items(items: pd.DataFrame, not_approval, by: str | None
                    ) -> tuple[pd.DataFrame, list[str]]:
    """The items of decision nodes (in case and position order, as `work_items` gives them)
    with what the statistics read: the group keys (a missing process type is 未知), the
    reason class of each return or rejection, the case number, whether a later node
    caught the item an approval passed, and the group number (in order of first appearance).
    Each case's items only depend on the case: the Spark engine calls this per partition of
    whole cases."""
    items = items[~items["node"].isin(not_approval)].copy()
    keys = ["node"] + ([by] if by else [])
    if by:
        items[by] = items[by].fillna("(未知)")
    items["reason_class"] = pd.Series(pd.NA, index=items.index, dtype="string")
    rejected = items["rejected"].to_numpy(bool)
    items.loc[rejected, "reason_class"] = _classify_reasons(items.loc[rejected, "comment"])
    items["case_no"] = _case_numbers(items["case_id"])
    items["caught_downstream"] = _caught_downstream(items)
    items["group_no"] = _group_numbers(items, keys)
    return items, keys


def _group_arrays(items: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(order, group bounds, the items' arrays in that order): the items sorted by group
    (stable: case and position order within each)."""
    group = items["group_no"].to_numpy()
    order = np.argsort(group, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(group, minlength=group.max(initial=-1) + 1))]
    arrays = {
        "case": items["case_no"].to_numpy(), "observed": items["observed"].to_numpy(bool),
        "rejected": items["rejected"].to_numpy(bool),
        "approved": items["outcome"].isin(["approve", "auto_approve"]).to_numpy(bool),
        "returned": (items["outcome"] == "return").to_numpy(bool),
        "refused": (items["outcome"] == "reject").to_numpy(bool),
        "wait_hours": items["wait_hours"].to_numpy(float),
        "wait_workhours": items["wait_workhours"].to_numpy(float),
        "recorded": (items["wait_source"] == "recorded").to_numpy(bool),
        "inferred": (items["wait_source"] == "inferred").to_numpy(bool),
        "caught": items["caught_downstream"].to_numpy(bool),
        "reason_class": items["reason_class"].to_numpy(object),
    }
    return order, bounds, {name: values[order] for name, values in arrays.items()}


def _result(rows: list[dict], *, keys: list[str], by: str | None, wait_share: pd.Series,
            kinds: pd.DataFrame, reasons: pd.DataFrame, thresholds: NecessityThresholds,
            basis: str, calendar: str, log_info: dict, as_of: pd.Timestamp,
            not_approval: dict[str, str], other_nodes: pd.DataFrame,
            versions: ProcessVersions | None, warnings: tuple[str, ...],
            items: pd.DataFrame | None) -> NecessityResult:
    """The result from each group's statistics (`_stats_of`, in order of first appearance)
    and its waiting share: intervals, verdicts, the order a manager reads them in. The one
    machine and the Spark engine (`officemine.spark`) both end here."""
    summary = pd.DataFrame(rows)
    if summary.empty:
        raise NoDataError("the log has no decisions (approve, reject, return) at any node; "
                              "check the outcome mapping in the import report")
    lo, hi = wilson_interval(summary["rejections"], summary["items"], thresholds.confidence)
    summary["rejection_rate_ci_low"], summary["rejection_rate_ci_high"] = lo, hi
    clo, chi = wilson_interval(summary["caught_downstream"], summary["approvals"],
                               thresholds.confidence)
    summary["downstream_catch_ci_low"], summary["downstream_catch_ci_high"] = clo, chi
    summary["wait_share"] = wait_share.reindex(
        pd.MultiIndex.from_frame(summary[keys]) if by else summary["node"]).to_numpy()
    summary["process_type"] = summary[by] if by else None
    leaders = set(kinds.loc[kinds["leadership"], "node"])
    summary["leadership"] = summary["node"].isin(leaders)
    summary["threshold"] = np.where(summary["leadership"],
                                    thresholds.leadership_rejection_threshold,
                                    thresholds.rejection_threshold)
    # lower intervals are recomputed at the threshold's own bar where it differs (the same
    # Wilson interval: only the comparison changes)
    verdicts = [_verdict(r, thresholds, basis) for r in summary.to_dict("records")]
    summary["verdict"] = [v for v, _, _ in verdicts]
    summary["reason_code"] = [c for _, c, _ in verdicts]
    summary["reason_params"] = [p for _, _, p in verdicts]
    # what it costs: the waiting the node caused in the window (hours of the basis)
    summary["cost_rank"] = summary["wait_total"].rank(ascending=False, method="min",
                                                       na_option="bottom").astype("int64")
    # what a manager can act on first: streamline, notice, then keep and too-little-data;
    # within a verdict the costliest first
    order = {"streamline": 0, "notice": 1, "keep": 2, "insufficient_data": 3}
    summary = summary.sort_values(["verdict", "wait_total"], ascending=[True, False],
                                  key=lambda s: s.map(order) if s.name == "verdict"
                                  else s).reset_index(drop=True)
    summary = summary[_COLUMNS + [c for c in summary.columns if c not in _COLUMNS]]
    removed = versions.removed() if versions is not None else pd.DataFrame(
        columns=["process_type", "node", "date"])
    removed = removed[~removed["node"].isin(summary["node"])].reset_index(drop=True)
    return NecessityResult(summary=summary, reasons=reasons, basis=basis,
                           calendar=calendar, thresholds=thresholds, by=by,
                           log_info=log_info, as_of=as_of,
                           not_approval_nodes=not_approval, other_nodes=other_nodes,
                           removed_nodes=removed, versions=versions,
                           warnings=warnings, items=items)


_COLUMNS = [
    "node", "process_type", "items", "pending", "cases", "approvals", "rejections", "returns",
    "rejects", "rejection_rate", "rejection_rate_ci_low", "rejection_rate_ci_high",
    "wait_hours_median", "wait_hours_p90", "wait_hours_mean",
    "wait_workhours_median", "wait_workhours_p90", "wait_workhours_mean",
    "wait_median", "wait_p90", "wait_source", "wait_recorded_items", "wait_inferred_items",
    "wait_share", "wait_total", "cost_rank", "caught_downstream", "downstream_catch_rate",
    "downstream_catch_ci_low", "downstream_catch_ci_high", "missing_material_share",
    "reasons_recorded", "top_reason", "reason_classes", "leadership", "threshold",
    "verdict", "reason_code", "reason_params",
]


#: Columns of `NecessityResult.other_nodes`.
OTHER_NODE_COLUMNS = ["node", "kind", "basis", "evidence", "items", "pending", "wait_median",
                      "wait_total"]


def _other_node_row(node: str, waits: np.ndarray, observed: np.ndarray,
                    weights: np.ndarray | None) -> dict:
    """One step's row of `other_nodes` from its waits (`weights`: see `stats.kaplan_meier`)."""
    w = np.ones(len(waits), dtype=np.int64) if weights is None else weights
    (median,), _ = km_summary(waits, observed, (0.5,), weights)
    known = ~np.isnan(waits)
    return {"node": node, "items": int(w[observed].sum()), "pending": int(w[~observed].sum()),
            "wait_median": median,
            "wait_total": (float(np.sum(waits[known] * w[known])) if weights is not None
                           else float(pd.Series(waits).sum(min_count=1))) if known.any()
            else float("nan")}


def _other_nodes_table(rows: list[dict], kinds: pd.DataFrame) -> pd.DataFrame:
    """The steps that get no verdict but hold items (`_other_node_row`s), with the waiting
    they cause: items decided or pending there, their Kaplan–Meier median wait and the total
    waiting (hours of the basis; pending items up to as_of), most waiting first."""
    waits = pd.DataFrame(rows, columns=["node", "items", "pending", "wait_median", "wait_total"])
    table = kinds[kinds["kind"] != "decision"][["node", "kind", "basis", "evidence"]]
    table = table.merge(waits, on="node", how="left")
    table[["items", "pending"]] = table[["items", "pending"]].fillna(0).astype("int64")
    table = table.sort_values(["wait_total", "node"], ascending=[False, True],
                              na_position="last", kind="stable")
    return table[OTHER_NODE_COLUMNS].reset_index(drop=True)


def _since_text(since: Since) -> str:
    if isinstance(since, ProcessVersions):
        return "current versions"
    return "all" if since is None else str(since)


def _caught_downstream(items: pd.DataFrame) -> pd.Series:
    """For each approval: was the item returned/rejected later in the same round (of the same
    object) by another node?

    `items` are in (case_id, seq) order (as `work_items` gives them). Without objects each
    (case, round) is a run of rows and the round's last decided rejection is a maximum over
    the run; the objects of a case interleave, so with objects it is a maximum per group.
    """
    n = len(items)
    if not n:
        return pd.Series(False, index=items.index, dtype=bool)
    case = items["case_no"].to_numpy()
    rnd = items["round"].to_numpy()
    pos = np.arange(n)
    rejection = (items["rejected"] & items["observed"]).to_numpy(bool)
    marked = np.where(rejection, pos, -1)
    if "object" in items and items["object"].notna().any():
        obj = pd.factorize(items["object"], use_na_sentinel=False)[0]
        group = pd.factorize(pd.MultiIndex.from_arrays([case, obj, rnd]))[0]
        last_rej = pd.Series(marked).groupby(group).transform("max").to_numpy()
    else:
        start = np.ones(n, dtype=bool)
        start[1:] = (case[1:] != case[:-1]) | (rnd[1:] != rnd[:-1])
        starts = np.flatnonzero(start)
        last = np.maximum.reduceat(marked, starts)
        last_rej = np.repeat(last, np.diff(np.r_[starts, n]))
    node = pd.factorize(items["node"])[0]
    later = last_rej > pos
    caught = (items["outcome"].isin(["approve", "auto_approve"]).to_numpy(bool) & later
              & (node[np.where(later, last_rej, 0)] != node))
    return pd.Series(caught, index=items.index, dtype=bool)


@dataclass
class GroupFacts:
    """What the statistics of one node (or node × process type) are made of, all of it
    mergeable: counts, each wait column as its distinct values with how many observed or
    pending items have them, the total wait, and the return reasons in order of first
    appearance (case and position order). One machine reads them off the items
    (`_facts_of_items`), and adds up those of batches of whole cases for a log larger than
    memory (`merged`); the Spark engine adds them up over partitions of whole cases
    (`officemine.spark`). All finish with `_stats_of`."""

    items: int
    pending: int
    cases: int
    approvals: int
    rejections: int
    returns: int
    rejects: int
    caught: int
    recorded: int            # items whose wait (of the basis) is known, by arrival source
    inferred: int
    #: wait column -> (values, observed, weights or None: one item each)
    waits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]
    #: wait column -> sum of the known waits (nan when none is known)
    wait_total: dict[str, float]
    #: (reason class, rejections) in order of first appearance
    reasons: list[tuple[str, int]]

    def merged(self, later: "GroupFacts") -> "GroupFacts":
        """The facts of this group's items and of `later`'s, whose cases all come after
        these in case order (batches of whole cases): counts add, waits are counted per
        distinct value, known totals add, reasons keep their first appearance."""
        counts = {name: getattr(self, name) + getattr(later, name) for name in _COUNTED}
        totals = {col: (a if math.isnan(b) else b if math.isnan(a) else a + b)
                  for col, a, b in ((c, self.wait_total[c], later.wait_total[c])
                                    for c in self.wait_total)}
        reasons = dict(self.reasons)
        for name, n in later.reasons:
            reasons[name] = reasons.get(name, 0) + n
        return GroupFacts(**counts, wait_total=totals, reasons=list(reasons.items()),
                          waits={col: _merged_waits(self.waits[col], later.waits[col])
                                 for col in self.waits})


#: The counts of `GroupFacts`.
_COUNTED = ("items", "pending", "cases", "approvals", "rejections", "returns", "rejects",
            "caught", "recorded", "inferred")


def _facts_of_items(g: dict[str, np.ndarray], wait_col: str) -> GroupFacts:
    """A group's facts from its items' arrays (in case and position order)."""
    observed = g["observed"]
    known = ~np.isnan(g[wait_col])
    stopped = g["rejected"] & observed
    classes = pd.Series(g["reason_class"][stopped]).value_counts(sort=False)
    return GroupFacts(
        items=int(observed.sum()), pending=int((~observed).sum()),
        cases=_distinct_runs(g["case"]), approvals=int((g["approved"] & observed).sum()),
        rejections=int(stopped.sum()), returns=int((g["returned"] & observed).sum()),
        rejects=int((g["refused"] & observed).sum()), caught=int(g["caught"].sum()),
        recorded=int((g["recorded"] & known).sum()),
        inferred=int((g["inferred"] & known).sum()),
        waits={col: (g[col], observed, None) for col in ("wait_hours", "wait_workhours")},
        wait_total={col: (float(np.nansum(g[col])) if (~np.isnan(g[col])).any()
                          else float("nan")) for col in ("wait_hours", "wait_workhours")},
        reasons=[(k, int(v)) for k, v in classes.items()])


def _stats_of(f: GroupFacts, wait_col: str) -> dict:
    """The statistics of one node (or node × process type) from its facts."""
    n, rejections, approvals = f.items, f.rejections, f.approvals
    stats = {
        "items": n, "pending": f.pending, "cases": f.cases,
        "approvals": approvals, "rejections": rejections,
        "returns": f.returns, "rejects": f.rejects,
        "rejection_rate": rejections / n if n else float("nan"),
    }
    for col in ("wait_hours", "wait_workhours"):
        values, observed, weights = f.waits[col]
        (median, p90), mean = km_summary(values, observed, (0.5, 0.9), weights)
        stats[f"{col}_median"], stats[f"{col}_p90"], stats[f"{col}_mean"] = median, p90, mean
    stats["wait_median"] = stats[f"{wait_col}_median"]
    stats["wait_p90"] = stats[f"{wait_col}_p90"]
    recorded, inferred = f.recorded, f.inferred
    stats["wait_source"] = ("recorded" if recorded and not inferred else
                            "inferred" if inferred and not recorded else
                            "mixed" if recorded and inferred else "none")
    stats["wait_recorded_items"], stats["wait_inferred_items"] = recorded, inferred
    stats["wait_total"] = f.wait_total[wait_col]
    stats["caught_downstream"] = f.caught
    stats["downstream_catch_rate"] = f.caught / approvals if approvals else float("nan")
    # value_counts' order: most first, ties in order of first appearance (a stable sort)
    classes = pd.Series([c for _, c in f.reasons], index=[k for k, _ in f.reasons],
                        dtype="int64").sort_values(ascending=False, kind="stable")
    stats["missing_material_share"] = (float(classes.get(MISSING_MATERIAL, 0) / rejections)
                                       if rejections else float("nan"))
    stats["top_reason"] = classes.index[0] if len(classes) else None
    stats["reasons_recorded"] = (float(1 - classes.get(NO_COMMENT, 0) / rejections)
                                 if rejections else float("nan"))
    stats["reason_classes"] = [{"reason": k, "count": int(v), "share": float(v / rejections)}
                               for k, v in classes.items()]
    return stats


def _group_numbers(items: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """0, 1, 2 … for each distinct key (node, or node × process type) in order of appearance."""
    codes = [pd.factorize(items[k], use_na_sentinel=False)[0] for k in keys]
    if len(codes) == 1:
        return codes[0]
    combined = codes[0].astype(np.int64) * (int(codes[1].max(initial=-1)) + 1) + codes[1]
    return pd.factorize(combined)[0]


def _distinct_runs(sorted_codes: np.ndarray) -> int:
    """Distinct values of a non-decreasing code array."""
    return int(len(sorted_codes) and 1 + np.count_nonzero(np.diff(sorted_codes)))


def _case_numbers(case_ids: pd.Series) -> np.ndarray:
    """0, 0, 1, 1, 1, 2 …: the case of each item, for items in (case_id, seq) order."""
    values = pa.array(case_ids.array) if len(case_ids) else pa.array([], pa.string())
    change = np.zeros(len(case_ids), dtype=np.int64)
    if len(case_ids) > 1:
        change[1:] = pc.not_equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
    return np.cumsum(change)


def _wait_share_parts(items: pd.DataFrame, keys: list[str],
                      wait_col: str) -> tuple[pd.Series, pd.Series]:
    """(waiting at each group, all waiting in the cases that pass it), indexed by the group's
    keys: sums over cases, so that partitions of whole cases add up.

    `items` are in (case_id, seq) order, so each visit is a run of rows (its longest item
    wait is the visit's wait) and the node and process type are constant along it.
    """
    n = len(items)
    case = items["case_no"].to_numpy()
    key = items["group_no"].to_numpy()
    visit = items["visit"].to_numpy()
    start = np.ones(n, dtype=bool)
    start[1:] = (case[1:] != case[:-1]) | (visit[1:] != visit[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(start)
    wait = items[wait_col].to_numpy(float)
    visit_wait = np.fmax.reduceat(wait, starts) if n else wait
    v_case, v_key = case[starts], key[starts]
    n_keys = int(key.max(initial=-1)) + 1
    filled = np.nan_to_num(visit_wait)
    case_total = np.bincount(v_case, weights=filled, minlength=int(case.max(initial=-1)) + 1)
    at_node = np.bincount(v_key, weights=filled, minlength=n_keys)
    # each case once per node: the total waiting of the cases that pass the node
    # (case, node) pairs: visits are in case order, so the codes are nearly sorted already
    # and a stable (run-merging) sort of them is cheap
    pair = np.sort(v_case.astype(np.int64) * n_keys + v_key, kind="stable")
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    p_case, p_key = pair // n_keys, pair % n_keys
    total = np.bincount(p_key, weights=case_total[p_case], minlength=n_keys)
    first = items.iloc[np.unique(key, return_index=True)[1]][keys]
    index = (pd.MultiIndex.from_frame(first) if len(keys) > 1
             else pd.Index(first[keys[0]].to_numpy(object), name=keys[0]))
    return pd.Series(at_node, index=index), pd.Series(total, index=index)


def _verdict(row: dict, t: NecessityThresholds, basis: str) -> tuple[str, str, dict]:
    """(verdict, reason code, the reason's parameters): the words are the text catalogue's
    (`officemine.base.text.necessity_reason`)."""
    n, rate = row["items"], row["rejection_rate"]
    ci = {"rate": float(rate), "ci_low": float(row["rejection_rate_ci_low"]),
          "ci_high": float(row["rejection_rate_ci_high"]), "confidence": t.confidence}
    wait = {"wait": None if math.isnan(row["wait_median"]) else float(row["wait_median"]),
            "basis": basis}
    bar = {"threshold": float(row.get("threshold", t.rejection_threshold)),
           "leadership": bool(row.get("leadership"))}
    if n < t.min_items:
        return "insufficient_data", "too_few", {"n": int(n), "min_items": t.min_items}
    if ci["ci_high"] < bar["threshold"]:
        if wait["wait"] is not None and wait["wait"] >= t.long_wait(basis):
            return "streamline", "rarely_stops_long_wait", {"n": int(n), **ci, **bar, **wait}
        return "keep", "rarely_stops_short_wait", {**ci, **wait}
    # The node does stop a material share of items; how it could stop fewer:
    missing = row["missing_material_share"]
    if row["rejections"] >= t.min_rejections_for_notice and missing >= t.notice_share:
        return "notice", "missing_material", {"rate": float(rate),
                                               "missing_share": float(missing),
                                               "rejections": int(row["rejections"])}
    unrecorded = bool(row["rejections"] >= t.min_rejections_for_notice
                      and row.get("reasons_recorded", 1.0) == 0)
    if ci["ci_low"] >= bar["threshold"]:
        return "keep", "catches", {"n": int(n), **ci, **wait, "unrecorded": unrecorded}
    return "keep", "undecided", {**ci, **bar, "unrecorded": unrecorded}
