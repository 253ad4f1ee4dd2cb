"""Synthetic OA approval logs whose truth is known.

Every estimate officemine makes (a node's return rate, its waiting time, the effect of removing
it) needs a log where the right answer is known. :func:`generate` simulates an office from a
typed spec and returns the canonical events together with the truth that produced them:

>>> from officemine.synthetic import default_office_spec, generate
>>> log = generate(default_office_spec(), start="2025-03-01", end="2025-03-31", seed=1)
>>> sorted(set(log.events["outcome"]) & {"submit", "approve", "archive"})
['approve', 'archive', 'submit']
>>> log.truth.columns[:4].tolist()
['process_type', 'node', 'regime', 'effective_from']

How a case runs: the applicant submits (node ``发起``), then the chain of nodes whose ``when``
condition holds; at each node an approver acts after a delay drawn in *working* hours and
placed on the office calendar. A decision is approve, return (to the applicant, who resubmits
and the chain starts again; after ``max_rounds`` submissions a return makes the applicant
withdraw) or reject (the case ends). Around decisions: 转办 (transfer to a colleague, who then
decides), 加签 (an extra person approves before the node's approver decides), 抄送 (cc after an
approval), 催办 (the applicant reminds on long waits). A fully approved case is archived at
``归档`` by ``系统``. Events after the end of observation are cut, so recent cases stay open;
a node visit that the item reached before the end but whose decision falls after it leaves a
*pending* row for the person holding the item then (``arrived_at`` recorded, ``acted_at``,
outcome and comment empty, ``pending`` True), as an OA export lists its 未办 items.

Truth, as data on the result:

* ``truth``: per process, node and regime the true P(return), P(reject) and median delay;
* ``visits``: every node visit with its true arrival, decision time and delay, observed or not;
* ``cases``: every case with its true end and cycle time (also for cases still open).

A node's *delay* is the working time from the item reaching the node to the node's decision,
whoever takes it; transfers and 加签 split that time between people but do not lengthen it.
All actions fall inside office hours (delays are placed on working time).

Common random numbers: every random choice about a node visit is a hash of (seed, process,
case number, node name, visit number at that node, purpose), never a draw from a shared
stream. Removing a node, or changing its probabilities, therefore leaves every other node's
draws for the same case unchanged, and :func:`compare_redesign` measures the true effect of a
redesign case by case. Case arrivals and attributes come from a per-process generator that
nodes never touch.

Export shapes: :func:`export` writes the same truth as each kind of office export writes it,
so that every importer, and whatever links attempts back into cases, is tested against a known
answer. ``export(log, shape, path)`` returns an `Export`: the path, the importer format (and
mapping) that reads it, and ``instance_to_case``, every instance id written → true case id.

=========================  ===================================================================
``csv``                    the Chinese CSV of `to_chinese_csv` (one case, one 流程编号)
``csv_reject_resubmit``    the same, but every return and rejection is written 否决/不同意: a
                           return reads as a rejection, then 重新提交, in the same case
``csv_attempts``           each attempt (submission round) its own request: the return is a
                           拒绝 that ends it, the resubmission the 提交 of a new one
``xes``, ``xes_attempts``  `to_xes`: whole cases / one trace per attempt (``<节点>-拒绝``)
``weaver``                 a Weaver e-cology folder (request log, companion tables and a
                           form table ``formtable_main_N`` per process type holding the
                           amount), each attempt its own REQUESTID; Weaver has no refusal
                           code, so a refused request is sent back (退回) and left at the
                           creation node
``dingtalk``, ``feishu``,  API answers, one a line, each attempt its own instance: DingTalk
``wecom``                  (processInstanceId a UUID, EXECUTE_TASK_NORMAL/REFUSE), Feishu
                           (instance_code a UUID, REJECT), WeCom (sp_no date + 4 digits,
                           已驳回); the new instance repeats originator, process and form and
                           starts when the applicant resubmitted
=========================  ===================================================================

In the attempts shapes nothing else changes (same people, times, comments); ids are hashes of
the seed, case and round, so no linker can read the case from them. Only Feishu records the
earlier instance of a re-initiated one (``modified_instance_code``): ``link_field=True``.
What each source cannot carry (reminders in the APIs, WeCom node names and arrivals) is in
docs/synthetic.md.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gzip
import hashlib
import html
import json
import re
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import pandas as pd

from officemine.log.calendar import Calendar
from officemine.base.errors import SpecError
from officemine.log.schema import C, CANONICAL_ORDER, OUTCOME_LOOKUP, normalize_word

if TYPE_CHECKING:
    from officemine.log.eventlog import EventLog
    from officemine.importing.mapping import Mapping as ImportMapping

__all__ = [
    "Amount", "Delay", "When", "NodeSpec", "ProcessSpec", "OfficeSpec", "Redesign",
    "SyntheticLog", "RedesignTruth", "SpecError", "generate", "compare_redesign",
    "default_office_spec", "to_chinese_csv", "to_xes", "OUTCOME_CN", "CSV_HEADERS",
    "XES_LABEL_PATTERN", "START_NODE", "ARCHIVE_NODE", "SYSTEM", "Export", "export", "Shape",
    "SHAPES", "SHAPE_FORMATS", "SPLIT_SHAPES", "LINK_SHAPES", "REFUSAL_WORDS",
    "PlantedDeviation", "PLANT_KINDS", "sample_office_deviations",
]

Urgency = Literal["紧急", "普通"]
URGENCIES: tuple[str, ...] = get_args(Urgency)

START_NODE = "发起"
ARCHIVE_NODE = "归档"
SYSTEM = "系统"
AS_IS = "as_is"

#: The Chinese word written for each canonical outcome (CSV 操作类型, XES labels). Each word
#: maps back to its outcome through `schema.OUTCOME_LOOKUP` (checked at import).
OUTCOME_CN: dict[str, str] = {
    "submit": "提交", "resubmit": "重新提交", "approve": "同意", "reject": "拒绝",
    "return": "退回", "transfer": "转办", "add_approver": "加签", "withdraw": "撤回",
    "cc": "抄送", "comment": "批注", "remind": "催办", "auto_approve": "自动通过",
    "archive": "归档", "other": "其他",
}
assert all(OUTCOME_LOOKUP[normalize_word(w)] == o for o, w in OUTCOME_CN.items())

#: XES ``concept:name`` is ``<node>-<Chinese outcome word>`` (e.g. ``财务初审-同意``); node
#: names never contain "-", so this label rule splits it back (words via `OUTCOME_LOOKUP`).
XES_LABEL_PATTERN = r"^(?P<node>[^-]+)-(?P<outcome>[^-]+)$"


# --- spec ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delay:
    """A lognormal delay in working hours: ``median_hours * exp(sigma * Z)``."""

    median_hours: float
    sigma: float = 0.8

    def _problems(self, what: str) -> list[str]:
        out = []
        if not self.median_hours > 0:
            out.append(f"{what}: median_hours must be > 0, not {self.median_hours!r}")
        if not self.sigma >= 0:
            out.append(f"{what}: sigma must be >= 0, not {self.sigma!r}")
        return out


@dataclass(frozen=True)
class Amount:
    """A lognormal case amount in yuan, rounded to ``round_to``."""

    median: float
    sigma: float = 1.0
    round_to: float = 0.01

    def _problems(self, what: str) -> list[str]:
        bad = [k for k in ("median", "round_to") if not getattr(self, k) > 0]
        bad += ["sigma"] if not self.sigma >= 0 else []
        return [f"{what}: amount {k} = {getattr(self, k)!r} is invalid" for k in bad]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raw = self.median * np.exp(self.sigma * rng.standard_normal(n))
        return np.maximum(np.round(raw / self.round_to) * self.round_to, self.round_to)


@dataclass(frozen=True)
class When:
    """A routing condition: the node is visited only when every given bound holds.

    ``When(min_amount=5000)`` means amount >= 5000 (a case without amount never qualifies);
    ``When(urgency="紧急")`` only urgent cases.
    """

    min_amount: float | None = None
    max_amount: float | None = None
    urgency: Urgency | None = None

    def __post_init__(self) -> None:
        if self.urgency is not None and self.urgency not in URGENCIES:
            raise SpecError(f"urgency must be one of {', '.join(URGENCIES)} (or None), "
                            f"not {self.urgency!r}")

    def applies(self, amount: float, urgency: str) -> bool:
        if self.min_amount is not None and not amount >= self.min_amount:
            return False
        if self.max_amount is not None and not amount < self.max_amount:
            return False
        return self.urgency is None or urgency == self.urgency

    def __str__(self) -> str:
        parts = []
        if self.min_amount is not None:
            parts.append(f"金额 >= {self.min_amount:g}")
        if self.max_amount is not None:
            parts.append(f"金额 < {self.max_amount:g}")
        if self.urgency is not None:
            parts.append(f"紧急程度 = {self.urgency}")
        return " 且 ".join(parts) or "总是"


@dataclass(frozen=True)
class NodeSpec:
    """One approval node and the truth of how it behaves.

    dept:
        The node's department; ``None`` means the applicant's department, approved by that
        department's heads (``OfficeSpec.heads``), as for 部门负责人审核.
    approvers:
        The people who act at the node (one is chosen per case and kept across rounds);
        must be empty when ``dept`` is None.
    p_return, p_reject:
        Probability that a visit ends in a return to the applicant / a rejection.
    return_reasons:
        Mix of return reasons (weights, normalised); comments come from
        ``OfficeSpec.reason_comments``.
    delay:
        Working hours from arrival at the node to its decision, for a 普通 case; 紧急 cases
        take ``urgent_factor`` times as long.
    when:
        Routing condition; None = always visited.
    p_transfer, p_add_approver, p_cc:
        Per visit: 转办 to a colleague, 加签 of an extra person, 抄送 after an approval.
    """

    name: str
    dept: str | None
    approvers: tuple[str, ...] = ()
    p_return: float = 0.05
    p_reject: float = 0.0
    return_reasons: Mapping[str, float] = field(default_factory=lambda: {"材料不全": 1.0})
    delay: Delay = Delay(4.0)
    when: When | None = None
    urgent_factor: float = 0.5
    p_transfer: float = 0.03
    p_add_approver: float = 0.02
    p_cc: float = 0.05

    def _problems(self) -> list[str]:
        what = f"node {self.name!r}"
        out = []
        if not self.name or "-" in self.name or self.name in (START_NODE, ARCHIVE_NODE):
            out.append(f"{what}: a name must be non-empty, without '-', and not "
                       f"{START_NODE!r}/{ARCHIVE_NODE!r}")
        for key in ("p_return", "p_reject", "p_transfer", "p_add_approver", "p_cc"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                out.append(f"{what}: {key} must be in [0, 1], not {value!r}")
        if self.p_return + self.p_reject > 1.0:
            out.append(f"{what}: p_return + p_reject > 1")
        if self.dept is None and self.approvers:
            out.append(f"{what}: approvers must be empty when dept is None "
                       "(the applicant department's heads approve)")
        if self.dept is not None and not self.approvers:
            out.append(f"{what}: no approvers")
        if self.p_return > 0 and (not self.return_reasons
                                  or any(not w > 0 for w in self.return_reasons.values())):
            out.append(f"{what}: return_reasons need positive weights")
        if not self.urgent_factor > 0:
            out.append(f"{what}: urgent_factor must be > 0")
        return out + self.delay._problems(what)


@dataclass(frozen=True)
class ProcessSpec:
    """One process type: its chain of nodes, arrivals and case attributes.

    arrivals_per_day:
        Expected new cases per working day (Poisson, uniform over working time).
    applicant_depts:
        Departments that apply, with weights; the applicant is one of the department's staff.
    titles:
        Title templates; ``{dept}``, ``{applicant}`` and ``{month}`` are filled in.
    prefix:
        Case-id prefix, e.g. ``BX`` gives ``BX20250305003``.
    """

    name: str
    nodes: tuple[NodeSpec, ...]
    arrivals_per_day: float
    applicant_depts: Mapping[str, float]
    prefix: str
    amount: Amount | None = None
    urgent_share: float = 0.1
    titles: tuple[str, ...] = ("{dept}{applicant}的申请",)

    def node(self, name: str) -> NodeSpec:
        for node in self.nodes:
            if node.name == name:
                return node
        raise SpecError(f"process {self.name!r} has no node {name!r} "
                        f"(nodes: {', '.join(n.name for n in self.nodes)})")

    def _problems(self) -> list[str]:
        what = f"process {self.name!r}"
        out = []
        names = [n.name for n in self.nodes]
        if not self.nodes:
            out.append(f"{what}: no nodes")
        if len(set(names)) != len(names):
            out.append(f"{what}: node names repeat")
        if not self.arrivals_per_day >= 0:
            out.append(f"{what}: arrivals_per_day must be >= 0")
        if not 0.0 <= self.urgent_share <= 1.0:
            out.append(f"{what}: urgent_share must be in [0, 1]")
        if not self.applicant_depts or any(not w > 0 for w in self.applicant_depts.values()):
            out.append(f"{what}: applicant_depts need positive weights")
        if not self.titles:
            out.append(f"{what}: no titles")
        if not self.prefix:
            out.append(f"{what}: no case-id prefix")
        if self.amount is not None:
            out.extend(self.amount._problems(what))
        for node in self.nodes:
            out.extend(f"{what}: {p}" for p in node._problems())
        return out


@dataclass(frozen=True)
class OfficeSpec:
    """A whole office: its process types, its people and how applicants behave.

    staff / heads:
        Department -> ordinary staff (applicants, colleagues for 转办) / department heads
        (approvers of nodes whose ``dept`` is None).
    reason_comments:
        Return reason -> comment texts an approver writes for it.
    resubmit_delay:
        Working hours an applicant takes to resubmit (or, after the last round, to withdraw).
    remind_after_hours, p_remind:
        Each time a wait passes another ``remind_after_hours`` working hours the applicant
        sends a 催办 with probability ``p_remind`` (at most three per visit).
    """

    processes: tuple[ProcessSpec, ...]
    staff: Mapping[str, tuple[str, ...]]
    heads: Mapping[str, tuple[str, ...]]
    reason_comments: Mapping[str, tuple[str, ...]]
    resubmit_delay: Delay = Delay(6.0, 1.0)
    remind_after_hours: float = 14.0
    p_remind: float = 0.35
    max_rounds: int = 3
    calendar: Calendar = field(default_factory=Calendar.default)

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise SpecError(f"office spec has {len(problems)} problem(s):\n  - "
                            + "\n  - ".join(problems))

    def process(self, name: str) -> ProcessSpec:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise SpecError(f"no process {name!r} (processes: "
                        f"{', '.join(p.name for p in self.processes)})")

    @cached_property
    def dept_of(self) -> dict[str, str]:
        """Person -> department (heads and staff)."""
        out = {}
        for table in (self.staff, self.heads):
            for dept, people in table.items():
                for person in people:
                    out.setdefault(person, dept)
        return out

    @cached_property
    def everyone(self) -> tuple[str, ...]:
        """Every person, sorted (the pool 加签 draws from)."""
        return tuple(sorted(self.dept_of))

    def people(self, dept: str) -> tuple[str, ...]:
        return tuple(self.heads.get(dept, ())) + tuple(self.staff.get(dept, ()))

    def _problems(self) -> list[str]:
        out = []
        names = [p.name for p in self.processes]
        if len(set(names)) != len(names):
            out.append("process names repeat")
        prefixes = [p.prefix for p in self.processes]
        if len(set(prefixes)) != len(prefixes):
            out.append("case-id prefixes repeat")
        if not isinstance(self.max_rounds, int) or not 1 <= self.max_rounds <= 50:
            out.append(f"max_rounds must be an integer in 1..50, not {self.max_rounds!r}")
        if not self.remind_after_hours > 0:
            out.append("remind_after_hours must be > 0")
        if not 0.0 <= self.p_remind <= 1.0:
            out.append("p_remind must be in [0, 1]")
        out.extend(self.resubmit_delay._problems("resubmit_delay"))
        for proc in self.processes:
            out.extend(proc._problems())
            for dept in proc.applicant_depts:
                if not self.staff.get(dept):
                    out.append(f"process {proc.name!r}: applicant department {dept!r} has no staff")
            for node in proc.nodes:
                if node.dept is None:
                    missing = [d for d in proc.applicant_depts if not self.heads.get(d)]
                    if missing:
                        out.append(f"process {proc.name!r}, node {node.name!r}: no heads for "
                                   f"{', '.join(missing)}")
                unknown = [p for p in node.approvers
                           if p not in {q for v in (*self.staff.values(), *self.heads.values())
                                        for q in v}]
                if unknown:
                    out.append(f"node {node.name!r}: approvers not in staff or heads: "
                               f"{', '.join(unknown)}")
                for reason in node.return_reasons:
                    if not self.reason_comments.get(reason):
                        out.append(f"node {node.name!r}: no comments for return reason {reason!r}")
        return out


@dataclass(frozen=True)
class Redesign:
    """A change to one process: nodes removed, returns or delays scaled.

    effective:
        Cases *submitted* on or after this date follow the redesigned chain (cases already
        running keep the chain they started with, like a new process version in an OA
        system); None = every case.
    return_scale / delay_scale:
        Node -> factor on its P(return) / median delay (0.5 halves it).
    """

    process: str
    remove_nodes: tuple[str, ...] = ()
    return_scale: Mapping[str, float] = field(default_factory=dict)
    delay_scale: Mapping[str, float] = field(default_factory=dict)
    effective: dt.date | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.effective is not None:
            object.__setattr__(self, "effective", _as_date(self.effective))
        if isinstance(self.remove_nodes, str):
            object.__setattr__(self, "remove_nodes", (self.remove_nodes,))
        if not self.name:
            parts = [f"取消{n}" for n in self.remove_nodes]
            parts += [f"{n}退回×{s:g}" for n, s in self.return_scale.items()]
            parts += [f"{n}时长×{s:g}" for n, s in self.delay_scale.items()]
            object.__setattr__(self, "name", "、".join(parts) or "redesign")

    def _problems(self, spec: OfficeSpec) -> list[str]:
        try:
            proc = spec.process(self.process)
        except SpecError as err:
            return [f"redesign {self.name!r}: {err}"]
        known = {n.name for n in proc.nodes}
        out = []
        for node in (*self.remove_nodes, *self.return_scale, *self.delay_scale):
            if node not in known:
                out.append(f"redesign {self.name!r}: process {proc.name!r} has no node {node!r}")
        if set(self.remove_nodes) >= known:
            out.append(f"redesign {self.name!r}: would remove every node of {proc.name!r}")
        for key, table in (("return_scale", self.return_scale), ("delay_scale", self.delay_scale)):
            for node, factor in table.items():
                if not factor >= 0 or (key == "delay_scale" and not factor > 0):
                    out.append(f"redesign {self.name!r}: {key}[{node!r}] = {factor!r} is invalid")
        return out


PlantKind = Literal["skip", "swap", "self_approve", "outsider"]
PLANT_KINDS: tuple[str, ...] = get_args(PlantKind)


@dataclass(frozen=True)
class PlantedDeviation:
    """A departure from the standard procedure, planted in a share of one process's cases:
    the truth a conformance check must find (`SyntheticLog.deviations`).

    kind:
        ``skip`` — `node` is left out, in every round (where its ``when`` holds: it is due);
        ``swap`` — `node` and `other`, the next node of the chain, trade places;
        ``self_approve`` — the applicant takes the decision at `node` (a 部门负责人 approving
        their own claim); ``outsider`` — someone of department `dept` takes it (越权).
    share:
        Probability per case, drawn from the case's own hash (no other draw changes).
    when:
        Only cases meeting it (``When(min_amount=500_000)``: the large contracts).

    A case gets at most one control-flow plant (skip or swap; the first that draws it) and
    at most one person plant per node.
    """

    kind: PlantKind
    process: str
    node: str
    share: float
    other: str | None = None
    dept: str | None = None
    when: When | None = None

    def _problems(self, spec: OfficeSpec) -> list[str]:
        what = f"planted {self.kind} at {self.node!r}"
        if self.kind not in PLANT_KINDS:
            return [f"{what}: kind must be one of {', '.join(PLANT_KINDS)}"]
        try:
            proc = spec.process(self.process)
        except SpecError as err:
            return [f"{what}: {err}"]
        names = [n.name for n in proc.nodes]
        out = []
        if self.node not in names:
            out.append(f"{what}: process {proc.name!r} has no node {self.node!r}")
        if not 0.0 <= self.share <= 1.0:
            out.append(f"{what}: share must be in [0, 1], not {self.share!r}")
        if self.kind == "swap":
            nxt = names[names.index(self.node) + 1] if self.node in names[:-1] else None
            if self.other is None or self.other != nxt:
                out.append(f"{what}: other must be the next node of the chain ({nxt!r}), "
                           f"not {self.other!r}")
        elif self.other is not None:
            out.append(f"{what}: other is only for swap")
        if self.kind == "outsider":
            if not self.dept or not spec.people(self.dept):
                out.append(f"{what}: dept must be a department with people, not {self.dept!r}")
        elif self.dept is not None:
            out.append(f"{what}: dept is only for outsider")
        return out


def sample_office_deviations() -> tuple[PlantedDeviation, ...]:
    """The few realistic departures of the bundled sample office (`sample_logs/generate.py`):
    a finance review left out, large contracts without the 主要领导's signature, heads
    approving their own expense claims, drafts sent to the office before the department
    checked them, and a finance head signing for a company leader."""
    return (
        PlantedDeviation("skip", "费用报销", "财务复核", 0.03),
        PlantedDeviation("skip", "合同审批", "主要领导审批", 0.3, when=When(min_amount=500_000)),
        PlantedDeviation("self_approve", "费用报销", "部门负责人审核", 0.015),
        PlantedDeviation("swap", "发文", "部门核稿", 0.05, other="办公室核稿"),
        PlantedDeviation("outsider", "费用报销", "分管领导审批", 0.05, dept="财务部",
                         when=When(min_amount=5000)),
    )


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class SyntheticLog:
    """A generated log and the truth behind it.

    events:
        Canonical events (every column of `schema.CANONICAL_ORDER`), cut at ``observed_until``;
        each visit still undecided then has one pending row (the person holding the item,
        ``acted_at`` NaT, outcome <NA>), last in its case.
    cases:
        One row per case: attributes, regime, true end (``closed_at``, also when after
        ``observed_until``), ``status`` (archived / rejected / withdrawn), ``rounds``,
        ``cycle_hours`` (working hours submit -> end), ``cycle_days`` (clock days), ``open``.
    visits:
        One row per node visit: ``node``, ``visit`` (1-based count at that node), ``round``,
        ``approver`` (assigned), ``actor`` (who decided), ``arrived_at``, ``decided_at``,
        ``delay_hours`` (working), ``decision``, ``reason``, ``transferred_to``,
        ``added_approver``, ``observed`` (decided before ``observed_until``).
    truth:
        Per process, node and regime: ``p_return``, ``p_reject``, ``delay_median_hours`` (普通),
        ``delay_median_hours_urgent``, ``delay_sigma``, ``when``, ``removed``.
    deviations:
        The departures from the chain a conformance check must find, one row per round and
        node (``case_id``, ``process_type``, ``round``, ``kind``, ``node``, ``planted``):
        ``skipped`` — a due node left out, recorded once the round went on past it (a later
        decision, or the archive); ``out_of_order`` — a swapped pair both decided in the
        round (``node`` is the one taken first); a swapped pair whose first node ended the
        round is ``skipped`` at the other; ``self_approval`` — a decision taken by the
        applicant (planted, or a 转办 to the applicant: ``planted`` False); ``authority`` — a
        decision taken by a planted outsider. Kinds are those of `officemine.conformance`.
    """

    events: pd.DataFrame
    cases: pd.DataFrame
    visits: pd.DataFrame
    truth: pd.DataFrame
    seed: int
    start: dt.date
    end: dt.date
    observed_until: pd.Timestamp
    spec: OfficeSpec
    redesigns: tuple[Redesign, ...] = ()
    planted: tuple[PlantedDeviation, ...] = ()
    deviations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(_DEVIATION_COLUMNS)))

    @property
    def summary(self) -> pd.DataFrame:
        """The truth table: what an analysis of ``events`` should recover."""
        return self.truth

    def to_eventlog(self):
        """The events as an `officemine.EventLog` (times in the calendar's zone, which is its
        calendar)."""
        from officemine.log.eventlog import EventLog

        return EventLog.from_pandas(self.events, timezone=self.spec.calendar.tz,
                                    calendar=self.spec.calendar)

    def __repr__(self) -> str:
        n_open = int(self.cases["open"].sum())
        n_pending = int(self.events[C.pending].sum())
        changes = "; ".join(
            f"{r.name} ({r.process}, from {r.effective or 'the start'})"
            for r in self.redesigns) or "none"
        return (f"<SyntheticLog: {len(self.cases):,} cases ({n_open:,} open), "
                f"{len(self.events):,} events ({n_pending:,} pending), "
                f"{self.start} .. {self.end}, seed={self.seed}, redesigns: {changes}>")

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return f"<p>{head}</p>" + self.truth.to_html(index=False)


@dataclass(frozen=True, repr=False)
class RedesignTruth:
    """The true effect of a redesign: the same cases run as-is and redesigned.

    ``cases`` pairs each case's cycle time (working hours, true end even beyond the window)
    under both runs; ``summary`` averages them per process; ``effect_hours`` is the mean
    change for the redesigned process (negative = faster).
    """

    redesign: Redesign
    as_is: SyntheticLog
    redesigned: SyntheticLog

    @cached_property
    def cases(self) -> pd.DataFrame:
        keep = [C.case_id, C.process_type, "status", "cycle_hours"]
        a = self.as_is.cases[keep]
        b = self.redesigned.cases[[C.case_id, "status", "cycle_hours"]]
        out = a.merge(b, on=C.case_id, suffixes=("_as_is", "_redesigned"), validate="1:1")
        out["delta_hours"] = out["cycle_hours_redesigned"] - out["cycle_hours_as_is"]
        return out

    @cached_property
    def summary(self) -> pd.DataFrame:
        g = self.cases.groupby(C.process_type, sort=False)
        out = pd.DataFrame({
            "cases": g.size(),
            "mean_hours_as_is": g["cycle_hours_as_is"].mean(),
            "mean_hours_redesigned": g["cycle_hours_redesigned"].mean(),
            "mean_delta_hours": g["delta_hours"].mean(),
            "median_hours_as_is": g["cycle_hours_as_is"].median(),
            "median_hours_redesigned": g["cycle_hours_redesigned"].median(),
        }).reset_index()
        return out

    @property
    def effect_hours(self) -> float:
        """Mean change of cycle time (working hours) of the redesigned process's cases."""
        rows = self.cases[self.cases[C.process_type] == self.redesign.process]
        return float(rows["delta_hours"].mean())

    def __repr__(self) -> str:
        return (f"<RedesignTruth: {self.redesign.name} on {self.redesign.process}: "
                f"mean cycle time {self.effect_hours:+.1f} working hours, seed={self.as_is.seed}>")

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        return f"<p>{head}</p>" + self.summary.to_html(index=False)


# --- counter-based random numbers -------------------------------------------------------------

_MASK64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

# Purposes of the uniforms drawn per node visit (slot numbers are part of the RNG contract:
# changing them changes every generated log).
(_U_DECISION, _U_REASON, _U_COMMENT, _U_Z1, _U_Z2, _U_APPROVER, _U_TRANSFER, _U_TRANSFER_AT,
 _U_TRANSFER_TO, _U_ADD, _U_ADD_AT, _U_ADD_DONE, _U_ADD_WHO, _U_CC, _U_CC_WHO, _U_REMIND,
 _U_ADD_COMMENT) = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18)
_N_REMIND = 3
_SLOTS = 20


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective scrambling of 64-bit integers."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _uniforms(root: int, process: str, node: str, n_cases: int, n_visits: int) -> np.ndarray:
    """Uniforms in [0, 1), shape (n_cases, n_visits, _SLOTS), one hash per (case, visit, slot)."""
    with np.errstate(over="ignore"):
        h = np.array([root & _MASK64], dtype=np.uint64)
        for part in (_key(process), _key(node)):
            h = _mix(h ^ (np.uint64(part) + _GOLDEN))
        case = np.arange(n_cases, dtype=np.uint64)[:, None, None] << np.uint64(16)
        visit = np.arange(n_visits, dtype=np.uint64)[None, :, None] << np.uint64(8)
        slot = np.arange(_SLOTS, dtype=np.uint64)[None, None, :]
        x = _mix(h ^ _mix((case | visit | slot) + _GOLDEN))
    return (x >> _S11).astype(np.float64) * (1.0 / (1 << 53))


def _normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Box–Muller: standard normals from two uniforms."""
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def _root_seed(seed: int | np.random.Generator | None) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, (int, np.integer)) and seed >= 0:
        return int(seed)
    raise SpecError(f"seed must be a non-negative integer, a numpy Generator or None, not {seed!r}")


def _pick(seq: Sequence[str], u: float) -> str:
    return seq[min(int(u * len(seq)), len(seq) - 1)]


# --- generation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    """A node as one regime runs it, with its per-case random numbers."""

    node: NodeSpec
    p_return: float
    p_reject: float
    delay_scale: float
    reason_names: tuple[str, ...]
    reason_cum: tuple[float, ...]
    u: np.ndarray          # (n_cases, max_rounds, _SLOTS)
    delay: np.ndarray      # (n_cases, max_rounds) seconds, urgency applied, scale not


class _Sink:
    """Columns of generated rows, times as working-time offsets in seconds."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.cols: dict[str, list] = {n: [] for n in names}
        self.add = [self.cols[n].append for n in names]

    def row(self, *values) -> None:
        for add, value in zip(self.add, values):
            add(value)


_EVENT_FIELDS = ("case", "node", "outcome", "resource", "dept", "arr", "act", "comment")
#: Outcomes of the rows that cover a person's time holding an item at a node (arr -> act): the
#: approver's 转办 or 加签, the added person's approval, the decision. Submits, reminders, cc
#: and archives take no time; the applicant's resubmit/withdraw is not a node visit.
_HOLDING = frozenset({"transfer", "add_approver", "approve", "return", "reject"})
_VISIT_FIELDS = ("case", "node", "visit", "round", "approver", "actor", "arr", "dec",
                 "decision", "reason", "transferred_to", "added_approver")
_DEVIATION_FIELDS = ("case", "round", "kind", "node", "planted")
_DEVIATION_COLUMNS = (C.case_id, C.process_type, "round", "kind", "node", "planted")


def generate(spec: OfficeSpec, *, start: Any, end: Any,
             seed: int | np.random.Generator | None = None,
             redesigns: Iterable[Redesign] = (), rate_scale: float = 1.0,
             observe_until: Any = None,
             deviations: Iterable[PlantedDeviation] = ()) -> SyntheticLog:
    """Simulate the office from ``start`` to ``end`` (dates, inclusive) and return log + truth.

    Cases arrive during the window; their events are kept up to ``observe_until`` (default:
    the end of ``end``), so cases still running then are open. ``rate_scale`` multiplies every
    arrival rate. The same ``seed`` gives the same log; the seed used is recorded.

    >>> spec = default_office_spec()
    >>> a = generate(spec, start="2025-03-03", end="2025-03-07", seed=7)
    >>> b = generate(spec, start="2025-03-03", end="2025-03-07", seed=7)
    >>> a.events.equals(b.events)
    True
    """
    start_d, end_d = _as_date(start), _as_date(end)
    redesigns = tuple(redesigns)
    problems = [] if end_d >= start_d else [f"end {end_d} is before start {start_d}"]
    if not rate_scale >= 0:
        problems.append(f"rate_scale must be >= 0, not {rate_scale!r}")
    cal = spec.calendar
    origin = pd.Timestamp(start_d).tz_localize(cal.tz)
    stop = pd.Timestamp(end_d + dt.timedelta(days=1)).tz_localize(cal.tz)
    observed_until = stop if observe_until is None else _as_timestamp(observe_until, cal.tz)
    if observed_until < stop:
        problems.append(f"observe_until {observed_until} is before the end of the window {stop}")
    for redesign in redesigns:
        problems.extend(redesign._problems(spec))
    planted = tuple(deviations)
    for plant in planted:
        problems.extend(plant._problems(spec))
    if problems:
        raise SpecError("cannot generate:\n  - " + "\n  - ".join(problems))
    root = _root_seed(seed)
    n_workdays = int(cal.is_workday(pd.date_range(start_d, end_d, freq="D")).sum())
    window = float(cal.working_seconds(origin, stop)[0])

    events, visits = _Sink(_EVENT_FIELDS), _Sink(_VISIT_FIELDS)
    departures = _Sink(_DEVIATION_FIELDS)
    case_tables, truth_rows = [], []
    offset = 0
    for proc in spec.processes:
        own = tuple(r for r in redesigns if r.process == proc.name)
        plants = tuple(p for p in planted if p.process == proc.name)
        cases, rows = _simulate_process(spec, proc, own, root, n_workdays * rate_scale, window,
                                        cal, origin, offset, events, visits, plants,
                                        departures)
        offset += len(cases)
        case_tables.append(cases)
        truth_rows.extend(rows)
    cases = pd.concat(case_tables, ignore_index=True)

    # One calendar call places every offset on the clock.
    ev, vi = events.cols, visits.cols
    parts = [ev["arr"], ev["act"], vi["arr"], vi["dec"], cases["_end"].to_numpy()]
    bounds = np.cumsum([0] + [len(p) for p in parts])
    clock = cal.add_working_time(origin, np.concatenate([np.asarray(p, float) for p in parts]))
    clock = clock.floor("s").as_unit("us")
    ev_arr, ev_act, vi_arr, vi_dec, ends = (clock[a:b] for a, b in zip(bounds[:-1], bounds[1:]))

    case_ids = cases[C.case_id].to_numpy()
    ev_case = np.asarray(ev["case"], dtype=np.int64)
    raw = pd.DataFrame({
        C.case_id: case_ids[ev_case], C.node: ev["node"], C.outcome: ev["outcome"],
        C.resource: ev["resource"], C.dept: ev["dept"],
        C.arrived_at: ev_arr, C.acted_at: ev_act, C.comment: ev["comment"],
    })
    for column in (C.process_type, C.amount, C.urgency, C.applicant, C.applicant_dept, C.title):
        raw[column] = cases[column].to_numpy()[ev_case]
    # A person holds the item from the row's arrival to its action; a holding that spans the
    # end of observation is a pending work item (arrived, not yet acted on): its action,
    # outcome and comment are not known yet. The holdings of a visit partition it, so each
    # visit decided after the end and arrived before it gives exactly one pending row.
    holding = np.isin(np.asarray(ev["outcome"], dtype=object), list(_HOLDING))
    pending = holding & (ev_arr < observed_until) & (ev_act >= observed_until)
    raw.loc[pending, [C.outcome, C.comment]] = None
    raw[C.acted_at] = raw[C.acted_at].mask(pending)
    raw = raw[(ev_act < observed_until) | pending].reset_index(drop=True)

    cases = cases.drop(columns="_end")
    cases["closed_at"] = ends
    cases["cycle_days"] = (ends - pd.DatetimeIndex(cases["submitted_at"])).total_seconds() / 86400
    cases["open"] = ends >= observed_until
    vi_case = np.asarray(vi["case"], dtype=np.int64)
    visit_table = pd.DataFrame({
        C.case_id: case_ids[vi_case], C.process_type: cases[C.process_type].to_numpy()[vi_case],
        C.node: vi["node"], "visit": vi["visit"], "round": vi["round"],
        "approver": vi["approver"], "actor": vi["actor"],
        "arrived_at": vi_arr, "decided_at": vi_dec,
        "delay_hours": (np.asarray(vi["dec"]) - np.asarray(vi["arr"])) / 3600.0,
        **{k: pd.array(vi[k], dtype="string")
           for k in ("decision", "reason", "transferred_to", "added_approver")},
        "observed": vi_dec < observed_until,
    })
    dv = departures.cols
    dv_case = np.asarray(dv["case"], dtype=np.int64)
    deviation_table = pd.DataFrame({
        C.case_id: case_ids[dv_case], C.process_type: cases[C.process_type].to_numpy()[dv_case],
        "round": np.asarray(dv["round"], dtype=np.int64),
        "kind": pd.array(dv["kind"], dtype="string"), "node": pd.array(dv["node"], dtype="string"),
        "planted": np.asarray(dv["planted"], dtype=bool)})
    return SyntheticLog(
        events=_canonical(raw, f"synthetic(seed={root})"), cases=cases, visits=visit_table,
        truth=pd.DataFrame(truth_rows), seed=root, start=start_d, end=end_d,
        observed_until=observed_until, spec=spec, redesigns=redesigns, planted=planted,
        deviations=deviation_table)


def _canonical(raw: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """The generated rows in the form `importing.normalize.build_log` gives a source.

    Built directly because it is simple here (every arrival is recorded, outcomes are
    canonical, nothing is set aside; a row without an action is pending and sorts last in its
    case, as the importer orders them); a test checks it equals what ``build_log`` returns.
    """
    df = raw.copy()
    df[C.source_row] = pd.array(np.arange(1, len(df) + 1).astype(str), dtype="string")
    df[C.pending] = df[C.acted_at].isna() & df[C.arrived_at].notna()
    df["_at"] = df[C.acted_at].fillna(df[C.arrived_at])
    df = df.sort_values([C.case_id, C.pending, "_at"], kind="stable").reset_index(drop=True)
    df[C.seq] = df.groupby(C.case_id, sort=False).cumcount().astype("int32")
    df[C.wait_start] = df[C.arrived_at]
    df[C.arrival_source] = pd.array(["recorded"] * len(df), dtype="string")
    df[C.source_file] = source_file
    for column in (C.case_id, C.node, C.outcome, C.resource, C.dept, C.comment, C.process_type,
                   C.urgency, C.applicant, C.applicant_dept, C.title):
        text = df[column].astype("string")
        df[column] = text.mask(text == "")      # an empty comment is a missing one
    df[C.amount] = df[C.amount].astype("Float64")
    df[C.instance_id] = df[C.case_id]               # one instance per case: nothing to link
    df[C.object] = pd.Series(pd.NA, index=df.index, dtype="string")
    return df[list(CANONICAL_ORDER)]


def _simulate_process(spec: OfficeSpec, proc: ProcessSpec, redesigns: tuple[Redesign, ...],
                      root: int, expected_days: float, window: float, cal: Calendar,
                      origin: pd.Timestamp, case_offset: int, events: _Sink,
                      visits: _Sink, plants: tuple[PlantedDeviation, ...] = (),
                      departures: _Sink | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Arrivals and attributes (vectorised), then each case's walk through its chain."""
    rng = np.random.default_rng([root, _key(proc.name)])
    n = int(rng.poisson(proc.arrivals_per_day * expected_days))
    t0 = np.sort(rng.uniform(0.0, window, n))
    urgent = rng.random(n) < proc.urgent_share
    amount = proc.amount.sample(rng, n) if proc.amount else np.full(n, np.nan)
    depts = list(proc.applicant_depts)
    weights = np.array([proc.applicant_depts[d] for d in depts], float)
    dept_idx = rng.choice(len(depts), size=n, p=weights / weights.sum())
    u_applicant, u_title = rng.random(n), rng.random(n)

    submitted = pd.Series(cal.add_working_time(origin, t0).floor("s").as_unit("us"))
    day = submitted.dt.strftime("%Y%m%d")
    number = day.groupby(day).cumcount() + 1
    case_id = proc.prefix + day + number.map("{:03d}".format)
    app_dept = [depts[i] for i in dept_idx]
    applicant = [_pick(spec.staff[d], u) for d, u in zip(app_dept, u_applicant)]
    urgency = np.where(urgent, "紧急", "普通")
    title = [_pick(proc.titles, u).format(dept=d, applicant=a, month=m)
             for u, d, a, m in zip(u_title, app_dept, applicant, submitted.dt.month)]

    # Regime of each case: the redesigns in force on its submission date.
    sub_date = submitted.dt.date.to_numpy()
    regime_of = np.empty(n, dtype=object)
    for i in range(n):
        regime_of[i] = tuple(k for k, r in enumerate(redesigns)
                             if r.effective is None or sub_date[i] >= r.effective)
    rounds = spec.max_rounds
    base = {}
    for node in proc.nodes:
        u = _uniforms(root, proc.name, node.name, n, rounds)
        seconds = node.delay.median_hours * 3600.0 * np.exp(
            node.delay.sigma * _normal(u[..., _U_Z1], u[..., _U_Z2]))
        base[node.name] = (u, seconds * np.where(urgent, node.urgent_factor, 1.0)[:, None])
    chains: dict[tuple[int, ...], list[_Plan]] = {}
    truth_rows = []
    for key in [()] + sorted(set(regime_of.tolist()) - {()}):
        chains[key] = _chain(proc, [redesigns[k] for k in key], base)
        truth_rows.extend(_truth_rows(proc, [redesigns[k] for k in key], chains[key]))
    u_app = _uniforms(root, proc.name, START_NODE, n, rounds)
    z_app = _normal(u_app[..., _U_Z1], u_app[..., _U_Z2])
    resubmit = spec.resubmit_delay.median_hours * 3600.0 * np.exp(spec.resubmit_delay.sigma * z_app)

    case_plants = _case_plants(plants, root, proc, amount, urgency)
    status, n_rounds, end = [], [], np.empty(n)
    for i in range(n):
        s, r, e = _walk(spec, chains[regime_of[i]], i, case_offset + i, float(t0[i]),
                        applicant[i], app_dept[i], float(amount[i]), str(urgency[i]),
                        u_app[i], resubmit[i], events, visits, case_plants.get(i),
                        departures)
        status.append(s)
        n_rounds.append(r)
        end[i] = e
    names = {k: redesigns[k].name for k in range(len(redesigns))}
    cases = pd.DataFrame({
        C.case_id: case_id.to_numpy(), C.process_type: proc.name,
        C.amount: amount, C.urgency: urgency, C.applicant: applicant,
        C.applicant_dept: app_dept, C.title: title,
        "regime": ["+".join(names[k] for k in key) or AS_IS for key in regime_of],
        "submitted_at": submitted.array, "status": status, "rounds": n_rounds,
        "cycle_hours": (end - t0) / 3600.0, "_end": end,
    })
    return cases, truth_rows


@dataclass(frozen=True)
class _CasePlant:
    """What is planted in one case: a node skipped or a swapped pair (first, second: the
    chain's order), and who takes the decision at some nodes (the applicant, or a person)."""

    skip: str | None = None
    swap: tuple[str, str] | None = None
    #: node -> (department of the person who decides, a uniform to pick them); department
    #: None: the applicant decides
    deciders: Mapping[str, tuple[str | None, float]] = field(default_factory=dict)


def _case_plants(plants: tuple[PlantedDeviation, ...], root: int, proc: ProcessSpec,
                 amount: np.ndarray, urgency: np.ndarray) -> dict[int, _CasePlant]:
    """Which cases get which plant: a uniform per case and plant from the case's own hash
    (its own "node" name, so no other draw moves)."""
    n = len(amount)
    control: dict[int, tuple[str, Any]] = {}
    deciders: dict[int, dict[str, tuple[str | None, float]]] = {}
    for k, plant in enumerate(plants):
        u = _uniforms(root, proc.name, f"plant-{k}", n, 1)
        hits = np.flatnonzero(u[:, 0, 0] < plant.share)
        for i in hits.tolist():
            if plant.when is not None and not plant.when.applies(float(amount[i]),
                                                                  str(urgency[i])):
                continue
            if plant.kind in ("skip", "swap"):
                control.setdefault(i, (plant.kind, plant.node if plant.kind == "skip"
                                       else (plant.node, plant.other)))
            else:
                who = (None if plant.kind == "self_approve" else plant.dept, float(u[i, 0, 1]))
                deciders.setdefault(i, {}).setdefault(plant.node, who)
    out = {}
    for i in set(control) | set(deciders):
        kind, what = control.get(i, (None, None))
        out[i] = _CasePlant(skip=what if kind == "skip" else None,
                            swap=what if kind == "swap" else None,
                            deciders=deciders.get(i, {}))
    return out


def _chain(proc: ProcessSpec, redesigns: list[Redesign], base: dict) -> list[_Plan]:
    removed = {n for r in redesigns for n in r.remove_nodes}
    plans = []
    for node in proc.nodes:
        if node.name in removed:
            continue
        ret_scale = float(np.prod([r.return_scale.get(node.name, 1.0) for r in redesigns]))
        delay_scale = float(np.prod([r.delay_scale.get(node.name, 1.0) for r in redesigns]))
        p_return = min(node.p_return * ret_scale, 1.0 - node.p_reject)
        weights = np.array(list(node.return_reasons.values()), float)
        cum = np.cumsum(weights / weights.sum()) if len(weights) else np.array([])
        u, delay = base[node.name]
        plans.append(_Plan(node, p_return, node.p_reject, delay_scale,
                           tuple(node.return_reasons), tuple(cum.tolist()), u, delay))
    return plans


def _truth_rows(proc: ProcessSpec, redesigns: list[Redesign], plans: list[_Plan]) -> list[dict]:
    regime = "+".join(r.name for r in redesigns) or AS_IS
    dates = [r.effective for r in redesigns if r.effective is not None]
    effective = max(dates) if dates else None
    by_name = {p.node.name: p for p in plans}
    rows = []
    for node in proc.nodes:
        plan = by_name.get(node.name)
        median = node.delay.median_hours * (plan.delay_scale if plan else np.nan)
        rows.append({
            C.process_type: proc.name, C.node: node.name, "regime": regime,
            "effective_from": effective,
            C.dept: node.dept if node.dept is not None else "(申请部门)",
            "when": str(node.when) if node.when else "总是",
            "p_return": plan.p_return if plan else np.nan,
            "p_reject": plan.p_reject if plan else np.nan,
            "delay_median_hours": median,
            "delay_median_hours_urgent": median * node.urgent_factor,
            "delay_sigma": node.delay.sigma,
            "removed": plan is None,
        })
    return rows


_SUBMIT_COMMENTS = ("请审批", "请领导审批", "", "请审核", "")
_RESUBMIT_COMMENTS = ("已按要求修改，请审批", "已补充材料，请审核", "已修改，请重新审核",
                      "材料已补齐，请审批")
_APPROVE_COMMENTS = ("同意", "同意", "同意", "同意。", "已审核，同意", "拟同意", "情况属实，同意",
                     "同意，请按规定办理", "已阅，同意")
_REJECT_COMMENTS = ("不符合相关规定，不予批准", "预算不足，暂缓执行", "事项不必要，不同意",
                    "与公司制度不符，不予通过")
_REMIND_COMMENTS = ("请尽快审批，谢谢", "此事较急，请尽快处理", "麻烦尽快审核，谢谢！", "请抽空审批")
_ADD_COMMENTS = ("同意", "无意见", "已会签，同意", "同意，请按程序办理")
_WITHDRAW_COMMENT = "撤回申请"


def _walk(spec: OfficeSpec, chain: list[_Plan], i: int, case: int, t: float, applicant: str,
          app_dept: str, amount: float, urgency: str, u_app: np.ndarray, resubmit: np.ndarray,
          events: _Sink, visits: _Sink, plant: _CasePlant | None = None,
          departures: _Sink | None = None) -> tuple[str, int, float]:
    """Run one case; rows go to the sinks; returns (status, rounds, end offset).

    `plant`: departures planted in this case; `departures` receives the truth of every
    departure (see `SyntheticLog.deviations`)."""
    emit, visit_row = events.row, visits.row
    depart = departures.row if departures is not None else (lambda *row: None)
    emit(case, START_NODE, "submit", applicant, app_dept, t, t,
         _pick(_SUBMIT_COMMENTS, float(u_app[0, _U_COMMENT])))
    seen: dict[str, int] = {}
    remind_gap = spec.remind_after_hours * 3600.0
    everyone = spec.everyone
    skip = plant.skip if plant is not None else None
    swap = plant.swap if plant is not None else None
    deciders = plant.deciders if plant is not None else {}
    if swap is not None:               # the pair trades places in this case's chain
        order = [p.node.name for p in chain]
        a, b = order.index(swap[0]), order.index(swap[1])
        chain = list(chain)
        chain[a], chain[b] = chain[b], chain[a]
    rnd = 1
    while True:
        decision = "approve"
        skipped: list[str] = []         # due nodes left out, not yet gone past
        second_done = False             # the swapped pair's second node decided first
        for plan in chain:
            node = plan.node
            if node.when is not None and not node.when.applies(amount, urgency):
                continue
            if node.name == skip:
                skipped.append(node.name)
                continue
            v = seen.get(node.name, 0)
            seen[node.name] = v + 1
            u = plan.u[i, v].tolist()
            first = plan.u[i, 0, _U_APPROVER]   # same approver on every visit of the case
            if node.dept is None:
                dept, pool = app_dept, spec.heads[app_dept]
            else:
                dept, pool = node.dept, node.approvers
            approver = _pick(pool, first)
            arrived, delay = t, float(plan.delay[i, v]) * plan.delay_scale
            decided = arrived + delay
            for k in range(_N_REMIND):
                at = arrived + (k + 1) * remind_gap
                if at >= decided:
                    break
                if u[_U_REMIND + k] < spec.p_remind:
                    emit(case, node.name, "remind", applicant, app_dept, at, at,
                         _pick(_REMIND_COMMENTS, u[_U_COMMENT]))
            actor, actor_arrived, transferred, added = approver, arrived, None, None
            actor_dept = dept
            colleagues = [p for p in spec.people(dept) if p != approver]
            if node.name in deciders:     # planted: the applicant or an outsider decides
                unit, draw = deciders[node.name]
                if unit is None:
                    actor, actor_dept = applicant, app_dept
                else:
                    actor = _pick([p for p in spec.people(unit) if p != applicant], draw)
                    actor_dept = unit
            elif u[_U_TRANSFER] < node.p_transfer and colleagues:
                transferred = _pick(colleagues, u[_U_TRANSFER_TO])
                at = arrived + delay * (0.1 + 0.5 * u[_U_TRANSFER_AT])
                emit(case, node.name, "transfer", approver, dept, arrived, at, f"转{transferred}办理")
                actor, actor_arrived = transferred, at
            elif u[_U_ADD] < node.p_add_approver:
                others = [p for p in everyone if p not in (approver, applicant)]
                added = _pick(others, u[_U_ADD_WHO])
                at = arrived + delay * (0.1 + 0.4 * u[_U_ADD_AT])
                done = at + (decided - at) * (0.2 + 0.6 * u[_U_ADD_DONE])
                emit(case, node.name, "add_approver", approver, dept, arrived, at, f"请{added}会签")
                emit(case, node.name, "approve", added, spec.dept_of[added], at, done,
                     _pick(_ADD_COMMENTS, u[_U_ADD_COMMENT]))
                actor_arrived = done
            x = u[_U_DECISION]
            reason = None
            if x < plan.p_reject:
                decision, comment = "reject", _pick(_REJECT_COMMENTS, u[_U_COMMENT])
            elif x < plan.p_reject + plan.p_return:
                decision = "return"
                reason = plan.reason_names[min(bisect.bisect_right(plan.reason_cum, u[_U_REASON]),
                                               len(plan.reason_names) - 1)]
                comment = _pick(spec.reason_comments[reason], u[_U_COMMENT])
            else:
                decision, comment = "approve", _pick(_APPROVE_COMMENTS, u[_U_COMMENT])
            emit(case, node.name, decision, actor, actor_dept, actor_arrived, decided, comment)
            visit_row(case, node.name, v + 1, rnd, approver, actor, arrived, decided, decision,
                      reason, transferred, added)
            # the truth: what a check of this round can see once this decision is taken
            for name in skipped:
                depart(case, rnd, "skipped", name, True)
            skipped = []
            if swap is not None and node.name == swap[1]:
                first_node = next(p.node for p in chain if p.node.name == swap[0])
                due = first_node.when is None or first_node.when.applies(amount, urgency)
                if decision == "approve":
                    second_done = due
                elif due:               # the round ends before the other was ever reached
                    depart(case, rnd, "skipped", swap[0], True)
            elif swap is not None and node.name == swap[0] and second_done:
                depart(case, rnd, "out_of_order", swap[1], True)
            if actor == applicant:
                depart(case, rnd, "self_approval", node.name, node.name in deciders)
            if node.name in deciders and deciders[node.name][0] is not None:
                depart(case, rnd, "authority", node.name, True)
            if decision == "approve" and u[_U_CC] < node.p_cc:
                to = _pick(spec.people(app_dept), u[_U_CC_WHO])
                emit(case, node.name, "cc", actor, actor_dept, decided, decided, f"抄送{to}")
            t = decided
            if decision != "approve":
                break
        if decision == "approve":
            for name in skipped:        # gone past them to the archive
                depart(case, rnd, "skipped", name, True)
            emit(case, ARCHIVE_NODE, "archive", SYSTEM, None, t, t, "流程结束，已归档")
            return "archived", rnd, t
        if decision == "reject":
            return "rejected", rnd, t
        back = t + float(resubmit[rnd - 1])
        if rnd == spec.max_rounds:
            emit(case, START_NODE, "withdraw", applicant, app_dept, t, back, _WITHDRAW_COMMENT)
            return "withdrawn", rnd, back
        emit(case, START_NODE, "resubmit", applicant, app_dept, t, back,
             _pick(_RESUBMIT_COMMENTS, float(u_app[rnd - 1, _U_COMMENT])))
        t = back
        rnd += 1


def compare_redesign(spec: OfficeSpec, redesign: Redesign, *, start: Any, end: Any,
                     seed: int | np.random.Generator | None = None,
                     rate_scale: float = 1.0) -> RedesignTruth:
    """Run the same cases as-is and with ``redesign`` applied to all of them.

    Common random numbers make the difference per case the redesign's true effect; the
    redesign's ``effective`` date is ignored (both runs cover the whole window).
    """
    root = _root_seed(seed)
    whole = replace(redesign, effective=None)
    kwargs = dict(start=start, end=end, seed=root, rate_scale=rate_scale)
    return RedesignTruth(whole, generate(spec, **kwargs),
                         generate(spec, redesigns=(whole,), **kwargs))


# --- the default office ----------------------------------------------------------------------

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
             "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史")
_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌宇浩凯鹏飞晨欣怡"
          "婷雪琳佳颖丹宁波亮峰鑫琦晓春海燕晶蕾楠博志国庆东雨涵思远子轩梓萌一诺俊嘉慧敬婉玲")


def _chinese_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct plausible names: surname + one or two given-name characters."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        size = 1 if rng.random() < 0.3 else 2
        name = _SURNAMES[rng.integers(len(_SURNAMES))] + "".join(
            _GIVEN[j] for j in rng.integers(len(_GIVEN), size=size))
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


#: Comment texts per return reason used by the default office.
REASON_COMMENTS: dict[str, tuple[str, ...]] = {
    "材料不全": ("附件不全，请补充后重新提交", "缺少发票原件，请补齐材料", "请补充相关证明材料",
               "缺少审批单附件，请补充", "材料不全，请补充完整"),
    "金额有误": ("金额与发票不符，请核对", "报销金额计算有误，请修改", "大小写金额不一致，请更正"),
    "发票不合规": ("发票抬头有误，请重新开具", "发票不合规，请更换", "发票已过期，请说明情况"),
    "事由不清": ("事由填写不清，请补充说明", "请说明费用用途", "请写明具体事由"),
    "条款需修改": ("违约责任条款需修改", "付款条款表述不清，请修改", "争议解决条款请按公司模板修改"),
    "主体信息有误": ("对方单位名称与营业执照不一致", "合同主体信息有误，请核对"),
    "付款条件不明确": ("付款节点不明确，请补充", "请明确付款方式及期限"),
    "预算不足": ("超出部门预算，请说明", "预算额度不足，请调整"),
    "格式不规范": ("公文格式不规范，请按要求修改", "文号格式有误，请修改", "请按公文格式要求排版"),
    "文字错误": ("正文有错别字，请修改", "标点使用不规范，请修改"),
    "内容需调整": ("请补充具体措施", "第二部分内容需调整，请修改后再报"),
    "意见不明确": ("请明确拟办意见", "请写明承办部门"),
    "用印事由不清": ("请写明用印事由及份数", "用印文件与申请不符，请核对"),
    "时间冲突": ("该时段会议室已被预订，请调整时间", "会议时间冲突，请改期"),
}


def default_office_spec() -> OfficeSpec:
    """A realistic office: 6 process types, 18 distinct nodes, 9 departments.

    Designed so an analysis has something to find: 综合办公室审核 and the 主要领导 nodes are
    rubber stamps (long waits, ~1% returns), 财务初审 and 法务审核 are real gatekeepers (15%
    returns; 财务初审 mostly for 材料不全), 分管领导审批 of 费用报销 applies only from 5,000 yuan
    and 主要领导审批 of 合同审批 only from 500,000 yuan. The people are fixed (seeded names).
    """
    rng = np.random.default_rng(20240501)
    sizes = {"公司领导": (0, 4), "办公室": (1, 7), "财务部": (1, 7), "法务部": (1, 3),
             "人事部": (1, 5), "市场部": (2, 10), "技术部": (1, 12), "采购部": (1, 5),
             "信息中心": (1, 4)}
    names = iter(_chinese_names(sum(a + b for a, b in sizes.values()), rng))
    heads = {d: tuple(next(names) for _ in range(a)) for d, (a, _) in sizes.items() if a}
    staff = {d: tuple(next(names) for _ in range(b)) for d, (_, b) in sizes.items()}
    leaders = staff["公司领导"]            # [0] 主要领导, [1:] 分管领导
    office, finance, legal = staff["办公室"], staff["财务部"], staff["法务部"]
    chief, deputies = leaders[:1], leaders[1:]
    lead = dict(p_transfer=0.0, p_add_approver=0.01, p_cc=0.08, urgent_factor=0.4)

    dept_head = NodeSpec("部门负责人审核", None, p_return=0.04, p_reject=0.005,
                         return_reasons={"事由不清": 0.6, "材料不全": 0.4}, delay=Delay(3.0, 0.9))
    office_check = NodeSpec("综合办公室审核", "办公室", office[:2], p_return=0.01,
                            return_reasons={"材料不全": 1.0}, delay=Delay(12.0, 0.8))
    fin_first = NodeSpec("财务初审", "财务部", finance[:3], p_return=0.15, p_reject=0.005,
                         return_reasons={"材料不全": 0.7, "发票不合规": 0.2, "金额有误": 0.1},
                         delay=Delay(5.0, 0.9))
    fin_second = NodeSpec("财务复核", "财务部", heads["财务部"] + finance[3:4], p_return=0.03,
                          return_reasons={"金额有误": 0.7, "发票不合规": 0.3}, delay=Delay(3.0, 0.7))
    deputy = NodeSpec("分管领导审批", "公司领导", deputies, p_return=0.02, p_reject=0.01,
                      return_reasons={"事由不清": 1.0}, delay=Delay(8.0, 1.0),
                      when=When(min_amount=5000), **lead)
    legal_check = NodeSpec("法务审核", "法务部", legal + heads["法务部"], p_return=0.15,
                           p_reject=0.01, delay=Delay(10.0, 0.9),
                           return_reasons={"条款需修改": 0.6, "主体信息有误": 0.2, "材料不全": 0.2})
    fin_contract = NodeSpec("财务审核", "财务部", finance[4:6], p_return=0.06,
                            return_reasons={"付款条件不明确": 0.7, "预算不足": 0.3},
                            delay=Delay(6.0, 0.8))
    chief_contract = NodeSpec("主要领导审批", "公司领导", chief, p_return=0.01, p_reject=0.005,
                              return_reasons={"事由不清": 1.0}, delay=Delay(16.0, 1.0),
                              when=When(min_amount=500_000), **lead)
    draft_check = NodeSpec("部门核稿", None, p_return=0.05, return_reasons={"文字错误": 1.0},
                           delay=Delay(3.0, 0.8))
    office_draft = NodeSpec("办公室核稿", "办公室", office[2:4], p_return=0.12,
                            return_reasons={"格式不规范": 0.6, "文字错误": 0.4}, delay=Delay(4.0, 0.8))
    sign_off = NodeSpec("分管领导签发", "公司领导", deputies, p_return=0.03,
                        return_reasons={"内容需调整": 1.0}, delay=Delay(8.0, 1.0), **lead)
    numbering = NodeSpec("文书编号", "办公室", office[4:5], p_return=0.0, delay=Delay(1.0, 0.6),
                         p_transfer=0.0, p_add_approver=0.0, p_cc=0.3)
    triage = NodeSpec("办公室拟办", "办公室", heads["办公室"], p_return=0.02,
                      return_reasons={"意见不明确": 1.0}, delay=Delay(2.0, 0.8))
    deputy_note = NodeSpec("分管领导批示", "公司领导", deputies, p_return=0.01,
                           return_reasons={"意见不明确": 1.0}, delay=Delay(10.0, 0.9), **lead)
    chief_note = NodeSpec("主要领导批示", "公司领导", chief, p_return=0.01,
                          return_reasons={"意见不明确": 1.0}, delay=Delay(6.0, 0.9),
                          when=When(urgency="紧急"), **lead)
    seal_check = NodeSpec("办公室用印审核", "办公室", office[5:7], p_return=0.08,
                          return_reasons={"材料不全": 0.5, "用印事由不清": 0.5}, delay=Delay(3.0, 0.8))
    seal = NodeSpec("印章管理员盖章", "办公室", office[6:7], p_return=0.01,
                    return_reasons={"用印事由不清": 1.0}, delay=Delay(1.5, 0.7), p_transfer=0.0)
    room = NodeSpec("会议室审核", "办公室", office[1:2] + office[3:4], p_return=0.06,
                    return_reasons={"时间冲突": 1.0}, delay=Delay(1.5, 0.8))

    everyone = {"办公室": 1.0, "财务部": 1.0, "法务部": 0.5, "人事部": 1.0, "市场部": 2.0,
                "技术部": 2.0, "采购部": 1.0, "信息中心": 0.7}
    processes = (
        ProcessSpec("费用报销", (dept_head, office_check, fin_first, fin_second, deputy),
                    arrivals_per_day=3.0, applicant_depts=everyone, prefix="BX",
                    amount=Amount(1800, 1.1, 0.01), urgent_share=0.08,
                    titles=("{applicant}{month}月差旅费报销", "{applicant}办公用品费用报销",
                            "{dept}{month}月业务招待费报销", "{applicant}培训费报销",
                            "{applicant}市内交通费报销", "{dept}会议费报销")),
        ProcessSpec("合同审批", (dept_head, legal_check, fin_contract,
                                 replace(deputy, when=None), chief_contract),
                    arrivals_per_day=0.8, prefix="HT",
                    applicant_depts={"市场部": 4, "采购部": 3, "技术部": 2, "信息中心": 1},
                    amount=Amount(80_000, 1.4, 100), urgent_share=0.15,
                    titles=tuple(f"与{cp}签订的{what}合同" for cp in (
                        "华信科技有限公司", "中建三局", "顺丰速运", "德勤咨询", "联通分公司",
                        "中科软件") for what in ("技术服务", "设备采购", "物业服务", "软件开发",
                                              "咨询服务", "房屋租赁"))),
        ProcessSpec("发文", (draft_check, office_draft, sign_off, numbering),
                    arrivals_per_day=0.8, prefix="FW",
                    applicant_depts={"办公室": 4, "人事部": 2, "财务部": 2, "技术部": 1,
                                     "信息中心": 1},
                    urgent_share=0.2,
                    titles=tuple(f"关于{t}的通知" for t in (
                        "开展安全生产检查", "{month}月考勤管理", "加强财务报销管理",
                        "调整作息时间", "做好节假日值班安排", "开展年度培训", "规范用印管理",
                        "网络安全自查"))),
        ProcessSpec("收文", (triage, deputy_note, chief_note), arrivals_per_day=1.2,
                    prefix="SW", applicant_depts={"办公室": 1}, urgent_share=0.25,
                    titles=tuple(f"{who}关于{t}的函" for who in (
                        "市发改委", "区财政局", "市人社局", "上级集团公司", "市应急管理局")
                        for t in ("报送年度统计数据", "开展专项检查", "征求意见",
                                  "做好{month}月重点工作"))),
        ProcessSpec("用印", (dept_head, seal_check, seal), arrivals_per_day=1.0, prefix="YY",
                    applicant_depts=everyone, urgent_share=0.15,
                    titles=tuple("{dept}" + f"{doc}用印申请" for doc in (
                        "合同", "证明材料", "投标文件", "对外函件", "资质材料"))),
        ProcessSpec("会议申请", (dept_head, room), arrivals_per_day=1.2, prefix="HY",
                    applicant_depts=everyone, urgent_share=0.1,
                    titles=tuple("{dept}" + f"{m}会议室申请" for m in (
                        "周例会", "项目评审会", "客户接待", "培训", "月度总结会"))),
    )
    return OfficeSpec(processes=processes, staff=staff, heads=heads,
                      reason_comments=REASON_COMMENTS)


# --- writers ---------------------------------------------------------------------------------

#: Canonical column -> header of the Chinese CSV export (times get a date and a time column).
CSV_HEADERS: dict[str, str | tuple[str, str]] = {
    C.case_id: "流程编号", C.process_type: "流程类型", C.title: "标题", C.applicant: "申请人",
    C.applicant_dept: "申请部门", C.amount: "金额", C.urgency: "紧急程度", C.node: "节点名称",
    C.resource: "操作人", C.dept: "操作人部门", C.outcome: "操作类型",
    C.arrived_at: ("接收日期", "接收时间"), C.acted_at: ("操作日期", "操作时间"),
    C.comment: "签字意见",
}


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    keys = [C.case_id, C.seq] if C.seq in events else [C.case_id, C.acted_at]
    return events.sort_values(keys, kind="stable").reset_index(drop=True)


def to_chinese_csv(events: pd.DataFrame, path: str | Path, encoding: str = "gbk", *,
                   seconds: bool = False) -> Path:
    """Write events like an OA system's export: Chinese headers, 操作类型 words, dates as
    ``2025/3/5`` and times as ``9:05`` in separate columns (``seconds=True``: ``9:05:07``).

    Pending rows are written as OA exports list 未办 items: 接收日期/接收时间 filled, 操作类型,
    操作日期, 操作时间 and 签字意见 empty (the importer reads them back as pending items).
    Characters the encoding cannot hold raise ``UnicodeEncodeError``.
    """
    return _write_csv(_csv_table(_ordered(events), seconds), path, encoding)


def _csv_table(df: pd.DataFrame, seconds: bool) -> pd.DataFrame:
    """The export's columns for events already in case order (one row per event)."""
    out = pd.DataFrame(index=df.index)
    for column, header in CSV_HEADERS.items():
        values = df[column]
        if isinstance(header, tuple):
            t = pd.to_datetime(values)
            part = {k: getattr(t.dt, k).astype("Int64").astype("string")  # Int64: NaT stays empty
                    for k in ("year", "month", "day", "hour")}
            date = part["year"] + "/" + part["month"] + "/" + part["day"]
            clock = part["hour"] + ":" + t.dt.strftime("%M:%S" if seconds else "%M")
            out[header[0]], out[header[1]] = date.fillna(""), clock.fillna("")
        elif column == C.outcome:
            out[header] = values.map(OUTCOME_CN, na_action="ignore").fillna("")
        elif column == C.amount:
            amount = pd.to_numeric(values).astype("Float64")
            out[header] = amount.map(lambda x: f"{x:.2f}", na_action="ignore").fillna("")
        else:
            out[header] = values.astype("string").fillna("")
    return out


def _write_csv(table: pd.DataFrame, path: str | Path, encoding: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding=encoding, lineterminator="\r\n")
    return path


_XES_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
\t<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
\t<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
\t<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
\t<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
\t<global scope="trace">
\t\t<string key="concept:name" value="__INVALID__"/>
\t</global>
\t<global scope="event">
\t\t<string key="concept:name" value="__INVALID__"/>
\t\t<date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
\t</global>
\t<classifier name="Activity" keys="concept:name"/>
\t<string key="concept:name" value="officemine OA approval log"/>
"""


def _attr(value: str) -> str:
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;"))


def _xes_times(values: pd.Series) -> list[str | None]:
    t = pd.to_datetime(values)
    zone = t.dt.strftime("%z")
    text = t.dt.strftime("%Y-%m-%dT%H:%M:%S.") + (t.dt.microsecond // 1000).map(
        "{:03d}".format, na_action="ignore")
    return _texts(text + zone.str[:3] + ":" + zone.str[3:])


def _texts(values: pd.Series, escape: bool = False) -> list[str | None]:
    """Strings (XML-escaped if asked) with None for missing values."""
    s = values.astype("string")
    if escape:
        s = s.map(_attr, na_action="ignore")
    return [None if v is pd.NA else v for v in s.astype(object).where(s.notna(), None)]


def to_xes(events: pd.DataFrame, path: str | Path) -> Path:
    """Write events as XES 1.0 (gzip-compressed when ``path`` ends with ``.gz``).

    Each case is a trace whose ``concept:name`` is the case id, with the case attributes
    (``process_type``, ``amount``, ``urgency``, ``applicant``, ``applicant_dept``, ``title``).
    Each event has ``concept:name`` = ``<node>-<Chinese outcome word>`` (e.g. ``财务初审-同意``,
    split back by `XES_LABEL_PATTERN`), ``time:timestamp`` = acted_at, ``arrived_at`` (date),
    ``org:resource``, ``org:group`` (department), ``comment`` and ``lifecycle:transition`` =
    complete. Missing values are left out. Pending rows (no action yet) are skipped: an XES
    event needs a ``time:timestamp``, and a pending item has none; read the pending items from
    the events or the CSV export instead.
    """
    path = Path(path)
    df = _ordered(events)
    if C.pending in df:
        df = df[~df[C.pending].astype(bool)].reset_index(drop=True)
    label = df[C.node].astype("string") + "-" + df[C.outcome].map(OUTCOME_CN).astype("string")
    columns = (
        ("string", "concept:name", _texts(label, escape=True)),
        ("string", "org:resource", _texts(df[C.resource], escape=True)),
        ("string", "org:group", _texts(df[C.dept], escape=True)),
        ("date", "time:timestamp", _xes_times(df[C.acted_at])),
        ("date", "arrived_at", _xes_times(df[C.arrived_at])),
        ("string", "comment", _texts(df[C.comment], escape=True)),
    )
    lines = []
    for values in zip(*(col for _, _, col in columns)):
        attrs = "".join(f'\t\t\t<{kind} key="{key}" value="{v}"/>\n'
                        for (kind, key, _), v in zip(columns, values) if v)
        lines.append("\t\t<event>\n" + attrs
                     + '\t\t\t<string key="lifecycle:transition" value="complete"/>\n'
                     + "\t\t</event>\n")
    case = df[C.case_id].astype("string")
    starts = np.flatnonzero(case.ne(case.shift()).fillna(True).to_numpy(dtype=bool))
    bounds = list(starts) + [len(df)]
    string_attrs = [c for c in (C.process_type, C.urgency, C.applicant, C.applicant_dept, C.title)
                    if c in df]
    chunks = [_XES_HEAD]
    for a, b in zip(bounds[:-1], bounds[1:]):
        row = df.iloc[a]
        head = [f'\t<trace>\n\t\t<string key="concept:name" value="{_attr(row[C.case_id])}"/>\n']
        for column in string_attrs:
            if not pd.isna(row[column]):
                head.append(f'\t\t<string key="{column}" value="{_attr(row[column])}"/>\n')
        if C.amount in df and not pd.isna(row[C.amount]):
            head.append(f'\t\t<float key="{C.amount}" value="{float(row[C.amount])!r}"/>\n')
        chunks.append("".join(head) + "".join(lines[a:b]) + "\t</trace>\n")
    chunks.append("</log>\n")
    text = "".join(chunks).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as fh:  # same bytes every run
            fh.write(text)
    else:
        path.write_bytes(text)
    return path


# --- export shapes: the same truth as each kind of office export writes it --------------------

Shape = Literal["csv", "csv_reject_resubmit", "csv_attempts", "xes", "xes_attempts", "weaver",
                "dingtalk", "feishu", "wecom"]
SHAPES: tuple[str, ...] = get_args(Shape)
#: shape -> the importer format that reads it (`officemine.import_log(format=…)`)
SHAPE_FORMATS: dict[str, str] = {
    "csv": "csv", "csv_reject_resubmit": "csv", "csv_attempts": "csv", "xes": "xes",
    "xes_attempts": "xes", "weaver": "weaver", "dingtalk": "dingtalk", "feishu": "feishu",
    "wecom": "wecom"}
#: shapes in which each attempt (submission round) is its own instance with an opaque id
SPLIT_SHAPES = frozenset({"csv_attempts", "xes_attempts", "weaver", "dingtalk", "feishu",
                          "wecom"})
#: shapes whose source records the earlier instance of a re-initiated one in a real field
#: (Feishu ``modified_instance_code``); `export(link_field=True)` writes it
LINK_SHAPES = frozenset({"feishu"})
#: the words written for a refusal in ``csv_reject_resubmit`` (both read as reject)
REFUSAL_WORDS = ("否决", "不同意")


@dataclass(frozen=True, eq=False)
class Export:
    """A written export and how to read it back.

    path:
        The file (a folder for ``weaver``).
    format:
        The importer format that reads it; ``mapping`` is the mapping it needs (XES labels
        ``<node>-<outcome word>``) or None.
    instance_to_case:
        One row per instance id written: ``instance_id``, the true ``case_id`` and ``attempt``
        (1-based submission round; <NA> in shapes where one instance holds every round).
    """

    path: Path
    shape: str
    format: str
    instance_to_case: pd.DataFrame
    seed: int
    mapping: "ImportMapping | None" = None
    link_field: bool = False

    @property
    def split(self) -> bool:
        """True when each attempt is its own instance (a re-submission starts a new id)."""
        return self.shape in SPLIT_SHAPES

    def import_log(self, **kwargs: Any) -> "EventLog":
        """`officemine.import_log` of this export, with its format and mapping."""
        from officemine.importing import import_log

        return import_log(self.path, format=self.format, mapping=self.mapping, **kwargs)

    def __repr__(self) -> str:
        n, cases = len(self.instance_to_case), self.instance_to_case["case_id"].nunique()
        return (f"<Export {self.shape}: {self.path} (format {self.format}), {n:,} instances "
                f"of {cases:,} cases, seed={self.seed}>")


def export(log: "SyntheticLog | pd.DataFrame", shape: Shape, path: str | Path, *,
           seed: int | None = None, link_field: bool = False) -> Export:
    """Write a log's events as one kind of office export; see the module docstring's table.

    log:
        A `SyntheticLog` or canonical events (one row per event, pending rows included).
    seed:
        Keys the opaque instance ids and the choice of refusal word; default the log's seed
        (0 for a bare events frame). The same seed writes the same bytes.
    link_field:
        Write the source's own link from a re-initiated instance to the earlier one (only
        Feishu records one: ``modified_instance_code``).

    >>> log = generate(default_office_spec(), start="2025-03-03", end="2025-03-14", seed=1)
    >>> out = export(log, "dingtalk", "exports/dingtalk.jsonl")
    >>> out.import_log(link=False).report.cases == len(out.instance_to_case)   # not linked
    True
    """
    if shape not in SHAPES:
        raise SpecError(f"unknown export shape {shape!r}; choose one of {', '.join(SHAPES)}")
    if link_field and shape not in LINK_SHAPES:
        raise SpecError(f"link_field: {shape} exports record no link to the earlier instance "
                        f"(only {', '.join(sorted(LINK_SHAPES))} does)")
    events = log.events if isinstance(log, SyntheticLog) else log
    missing = [c for c in (C.case_id, C.node, C.outcome, C.resource, C.arrived_at, C.acted_at)
               if c not in events]
    if missing:
        raise SpecError(f"export needs canonical events; missing column(s) {', '.join(missing)}")
    if seed is None:
        seed = log.seed if isinstance(log, SyntheticLog) else 0
    seed = _root_seed(seed)
    df, mapping = _instances(events, shape, seed), None
    path = Path(path)
    if shape in ("csv", "csv_attempts"):
        _write_csv(_csv_table(df, seconds=False), path, "gbk")
    elif shape == "csv_reject_resubmit":
        table = _csv_table(df, seconds=False)
        refusal = df["_truth"].isin(["return", "reject"]).fillna(False).to_numpy(bool)
        pick = [_hash(seed, "refusal-word", c, s) % len(REFUSAL_WORDS)
                for c, s in zip(df.loc[refusal, C.case_id], df.loc[refusal, C.seq])]
        table.loc[refusal, CSV_HEADERS[C.outcome]] = [REFUSAL_WORDS[k] for k in pick]
        _write_csv(table, path, "gbk")
    elif shape in ("xes", "xes_attempts"):
        from officemine.importing.mapping import Mapping

        to_xes(df, path)
        mapping = Mapping.from_dict({"label_rules": [{"pattern": XES_LABEL_PATTERN}]})
    elif shape == "weaver":
        _write_weaver(df, path)
    else:
        writer = {"dingtalk": _dingtalk_answer, "feishu": _feishu_answer,
                  "wecom": _wecom_answer}[shape]
        forms = _ApiContext(df, seed, link_field)
        _write_json_lines([writer(g, forms) for g in _groups(df)], path)
    index = df.drop_duplicates(C.case_id)
    mapping_table = pd.DataFrame({
        "instance_id": index[C.case_id].astype("string").to_numpy(),
        "case_id": index["_case"].astype("string").to_numpy(),
        "attempt": pd.array(index["_attempt"] if shape in SPLIT_SHAPES
                            else [pd.NA] * len(index), dtype="Int64"),
    })
    return Export(path=path, shape=shape, format=SHAPE_FORMATS[shape],
                  instance_to_case=mapping_table, seed=seed, mapping=mapping,
                  link_field=link_field)


def _hash(seed: int, purpose: str, *parts: Any) -> int:
    """A 128-bit hash of the seed, a purpose and the parts (stable across runs and machines)."""
    text = "\x1f".join([str(seed), purpose, *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest(), "big")


def _reveals(value: str, case: str) -> bool:
    """True when an id shows its case: the case id, or the case number's digits, inside it."""
    digits = re.sub(r"\D", "", case)
    return case in value or (len(digits) >= 4 and digits in value)


def _opaque_ids(keys: Sequence[tuple[str, int]], seed: int, purpose: str,
                make: Any) -> list[str]:
    """One unique id per (case, attempt) key: ``make(hash, i)`` shapes a hash of seed, purpose
    and key; a value already taken or showing its case is hashed again with a salt."""
    taken: set[str] = set()
    out = []
    for i, (case, attempt) in enumerate(keys):
        for salt in range(1000):
            value = make(_hash(seed, purpose, case, attempt, salt), i)
            if value not in taken and not _reveals(value, str(case)):
                break
        else:   # an id space this full is a bug in the shape's id format
            raise SpecError(f"no free {purpose} id for case {case!r}, attempt {attempt}")
        taken.add(value)
        out.append(value)
    return out


def _uuid(h: int) -> str:
    """A version-4-looking UUID from a 128-bit hash."""
    return str(uuid.UUID(int=h, version=4))


#: shape -> the id written for an instance, from a hash and the instance's first action time
_ID_MAKERS: dict[str, Any] = {
    "csv_attempts": lambda h, t: str(10**11 + h % (9 * 10**11)),          # 12 digits
    "xes_attempts": lambda h, t: str(10**11 + h % (9 * 10**11)),
    "weaver": lambda h, t: str(10**6 + h % (9 * 10**6)),                 # requestid, 7 digits
    "dingtalk": lambda h, t: _uuid(h),                                    # processInstanceId
    "feishu": lambda h, t: _uuid(h).upper(),                              # instance_code
    "wecom": lambda h, t: t.strftime("%Y%m%d") + f"{h % 10**4:04d}",      # sp_no: date + 4
}


def _instances(events: pd.DataFrame, shape: str, seed: int) -> pd.DataFrame:
    """The events as the shape groups them: ``case_id`` becomes the instance id, ``_case``
    keeps the true case, ``_attempt`` the submission round, ``_truth`` the true outcome.

    In a split shape each round is an instance: its return is written as the refusal that
    ends the instance (``reject``), the resubmission as the submit that starts the next one
    (arriving when it is submitted), and a withdrawal right after a return is left out (the
    refused instance is over; the applicant simply does not start another).
    """
    df = _ordered(events).copy()
    if C.seq not in df:
        df[C.seq] = df.groupby(C.case_id, sort=False).cumcount().astype("int32")
    case = df[C.case_id].astype("string")
    outcome = df[C.outcome].astype("string")
    starts = outcome.isin(["submit", "resubmit"]).fillna(False).astype(int)
    df["_case"] = case
    df["_attempt"] = starts.groupby(case.to_numpy()).cumsum().clip(lower=1).to_numpy()
    df["_truth"] = outcome
    if shape not in SPLIT_SHAPES:
        return df
    before = outcome.groupby(case.to_numpy()).shift()
    df = df[~((outcome == "withdraw") & (before == "return")).fillna(False).to_numpy()].copy()
    outcome = df[C.outcome].astype("string")
    resubmit = (outcome == "resubmit").fillna(False).to_numpy()
    df[C.outcome] = outcome.mask((outcome == "return").fillna(False), "reject").mask(
        resubmit, "submit")
    df.loc[resubmit, C.arrived_at] = df.loc[resubmit, C.acted_at]
    first = df.drop_duplicates(["_case", "_attempt"])
    make = _ID_MAKERS[shape]
    when = first[C.acted_at].tolist()
    ids = _opaque_ids(list(zip(first["_case"], first["_attempt"])), seed, shape,
                      lambda h, i: make(h, when[i]))
    key = pd.MultiIndex.from_frame(df[["_case", "_attempt"]])
    lookup = pd.Series(ids, index=pd.MultiIndex.from_frame(first[["_case", "_attempt"]]))
    df[C.case_id] = pd.array(lookup.reindex(key).to_numpy(), dtype="string")
    df = df.sort_values([C.case_id, C.seq], kind="stable").reset_index(drop=True)
    df[C.seq] = df.groupby(C.case_id, sort=False).cumcount().astype("int32")
    return df


def _groups(df: pd.DataFrame) -> list[list[dict]]:
    """Each instance's rows as dicts, in order (instances are contiguous in ``df``)."""
    rows = df.to_dict("records")
    ids = df[C.case_id].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    return [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# --- API answers (DingTalk, Feishu, WeCom) -----------------------------------------------------

class _ApiContext:
    """What every instance of one API export shares: seed, opaque codes per process and node,
    and the earlier instance of each re-initiated one (for ``link_field``)."""

    def __init__(self, df: pd.DataFrame, seed: int, link_field: bool) -> None:
        self.seed, self.link_field = seed, link_field
        first = df.drop_duplicates(C.case_id).sort_values(["_case", "_attempt"])
        earlier = first.groupby("_case", sort=False)[C.case_id].shift()
        self.previous: dict[str, str] = dict(zip(first[C.case_id][earlier.notna()],
                                                 earlier.dropna()))

    def code(self, what: str, *parts: Any) -> int:
        return _hash(self.seed, what, *parts)

    def serial(self, rows: list[dict]) -> str:
        """审批编号 (DingTalk businessId, Feishu serial_number): the day and 4 digits."""
        day, case, salt = rows[0][C.acted_at].strftime("%Y%m%d"), str(rows[0]["_case"]), 0
        while True:
            value = day + f"{self.code('serial', rows[0][C.case_id], salt) % 10**4:04d}"
            if not _reveals(value, case):
                return value
            salt += 1


def _write_json_lines(answers: list[dict], path: Path) -> Path:
    """One API answer a line, as an export job that saves each detail call writes them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for a in answers)
    path.write_bytes(text.encode("utf-8"))
    return path


def _amount_text(row: dict) -> str | None:
    amount = row.get(C.amount)
    return f"{float(amount):.2f}" if pd.notna(amount) else None


def _visits(rows: list[dict]) -> list[list[dict]]:
    """The rows that hold the item at each node visit (an instance visits a node once), in
    order of the visit's first such row. Pending rows (no action yet) are last."""
    visits: dict[str, list[dict]] = {}
    for row in rows:
        if not pd.notna(row.get(C.outcome)) or row[C.outcome] in _HOLDING:
            visits.setdefault(row[C.node], []).append(row)
    return list(visits.values())


def _tasks(visit: list[dict]) -> list[dict]:
    """The tasks (待办) of one node visit: who held the item, from when to when.

    A transfer ends the approver's task and opens the transferee's; a 加签 opens the added
    person's task while the approver's own task stays open until the approver decides (it is
    listed only once the item is back with the approver). Each task: user, start, end (None
    while pending), the row that ended it (None while pending).
    """
    tasks, adder = [], None
    for row in visit:
        outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
        if outcome == "add_approver":
            adder = (row[C.resource], row[C.arrived_at])
            continue
        start = row[C.arrived_at]
        if adder is not None and row[C.resource] == adder[0]:
            start, adder = adder[1], None
        tasks.append({"user": row[C.resource], "start": start,
                      "end": row[C.acted_at] if outcome else None, "row": row if outcome else None,
                      "outcome": outcome})
    return tasks


def _answers(rows: list[dict]) -> set[int]:
    """ids of the rows that are an added person's approval (加签), not the node's decision."""
    out = set()
    for visit in _visits(rows):
        adder = None
        for row in visit:
            if row[C.outcome] == "add_approver":
                adder = row[C.resource]
            elif adder is not None and row[C.resource] != adder:
                if row[C.outcome] == "approve":
                    out.add(id(row))
                adder = None
    return out


def _status(rows: list[dict]) -> tuple[str, Any]:
    """How the instance stands at export: archived, rejected, withdrawn or running, and when
    it ended."""
    for row in reversed(rows):
        outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
        if outcome in ("archive", "reject", "withdraw"):
            return {"archive": "archived", "reject": "rejected",
                    "withdraw": "withdrawn"}[outcome], row[C.acted_at]
    return "running", None


def _utc_minute(t: Any) -> str | None:
    """DingTalk workflow 1.0 time: UTC to the minute, ``2025-03-05T01:05Z``."""
    return t.tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ") if pd.notna(t) else None


def _ms(t: Any) -> str:
    """Feishu time: milliseconds since 1970 as a string; ``"0"`` for not yet."""
    return str(t.value // 1_000_000) if pd.notna(t) else "0"


def _s(t: Any) -> int:
    """WeCom time: seconds since 1970; 0 for not acted."""
    return int(t.value // 1_000_000_000) if pd.notna(t) else 0


_DINGTALK_RECORD = {"submit": ("START_PROCESS_INSTANCE", "NONE"),
                    "approve": ("EXECUTE_TASK_NORMAL", "AGREE"),
                    "reject": ("EXECUTE_TASK_NORMAL", "REFUSE"),
                    "auto_approve": ("EXECUTE_TASK_AUTO", "AGREE"),
                    "transfer": ("REDIRECT_TASK", "NONE"),
                    "add_approver": ("APPEND_TASK_BEFORE", "NONE"),
                    "withdraw": ("TERMINATE_PROCESS_INSTANCE", "NONE"),
                    "comment": ("ADD_REMARK", "NONE"), "cc": ("PROCESS_CC", "NONE")}
_DINGTALK_TASK_RESULT = {"approve": "AGREE", "auto_approve": "AGREE", "reject": "REFUSE",
                         "transfer": "REDIRECTED"}


def _dingtalk_answer(rows: list[dict], ctx: _ApiContext) -> dict:
    """A workflow 1.0 "获取单个审批实例详情" answer, with the id and process code an export job
    writes beside it. Reminders and the archive are not records (DingTalk keeps no 催办
    record; the end is the instance's status and finishTime)."""
    head = rows[0]
    instance, process = head[C.case_id], head[C.process_type]
    activity = {}
    for n in dict.fromkeys(r[C.node] for r in rows):
        code = f"{ctx.code('dingtalk-activity', process, n) % 16**8:08x}"
        activity[n] = code[:4] + "_" + code[4:]             # like e6c2_1a3f
    records = []
    for row in rows:
        outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
        if outcome not in _DINGTALK_RECORD:
            continue              # pending rows are tasks; reminders and archives: none
        kind, result = _DINGTALK_RECORD[outcome]
        record = {"userId": row[C.resource], "date": _utc_minute(row[C.acted_at]),
                  "type": kind, "result": result, "images": []}
        if outcome not in ("submit", "withdraw", "comment", "cc"):
            record["showName"], record["activityId"] = row[C.node], activity[row[C.node]]
        if pd.notna(row.get(C.comment)):
            record["remark"] = row[C.comment]
        records.append(record)
    tasks = []
    for visit in _visits(rows):
        for task in _tasks(visit):
            k = len(tasks)
            entry = {"taskId": str(10**10 + ctx.code("dingtalk-task", instance, k) % (9 * 10**10)),
                     "userId": task["user"], "activityId": activity[visit[0][C.node]],
                     "createTime": _utc_minute(task["start"])}
            if task["end"] is None:
                entry["status"] = "RUNNING"
            else:
                entry.update(status="COMPLETED", result=_DINGTALK_TASK_RESULT[task["outcome"]],
                             finishTime=_utc_minute(task["end"]))
            tasks.append(entry)
    state, ended = _status(rows)
    status, result = {"archived": ("COMPLETED", "agree"), "rejected": ("COMPLETED", "refuse"),
                      "withdrawn": ("TERMINATED", ""), "running": ("RUNNING", "")}[state]
    form = [{"componentType": "TextField", "name": "标题", "value": head[C.title],
             "id": "TextField_title"}]
    if _amount_text(head) is not None:
        form.append({"componentType": "MoneyField", "name": "金额", "value": _amount_text(head),
                     "id": "MoneyField_amount"})
    if pd.notna(head.get(C.urgency)):
        form.append({"componentType": "DDSelectField", "name": "紧急程度",
                     "value": head[C.urgency], "id": "DDSelectField_urgency"})
    answer = {
        "title": f"{head[C.applicant]}提交的{process}",
        "businessId": ctx.serial(rows),
        "createTime": _utc_minute(rows[0][C.acted_at]),
        "originatorUserId": head[C.applicant], "originatorDeptName": head[C.applicant_dept],
        "status": status, "bizAction": "NONE", "attachedProcessInstanceIds": [],
        "formComponentValues": form, "operationRecords": records, "tasks": tasks,
    }
    if result:
        answer["result"] = result
    if ended is not None:
        answer["finishTime"] = _utc_minute(ended)
    code = f"PROC-{ctx.code('dingtalk-process', process) % 16**12:012X}"
    return {"processInstanceId": instance, "processCode": code, "success": True,
            "result": answer}


_FEISHU_TYPE = {"submit": "START", "approve": "PASS", "reject": "REJECT",
                "auto_approve": "AUTO_PASS", "transfer": "TRANSFER",
                "add_approver": "ADD_APPROVER_BEFORE", "withdraw": "CANCEL", "cc": "CC"}
_FEISHU_TASK_STATUS = {"approve": "APPROVED", "auto_approve": "APPROVED", "reject": "REJECTED",
                       "transfer": "TRANSFERRED"}


def _feishu_answer(rows: list[dict], ctx: _ApiContext) -> dict:
    """An approval v4 "获取单个审批实例详情" answer (``code``, ``msg``, ``data``). Reminders are
    not in the timeline; the archive is the status APPROVED and end_time."""
    head = rows[0]
    instance, process = head[C.case_id], head[C.process_type]
    node_id = {n: f"{ctx.code('feishu-node', process, n) % 16**32:032x}"
               for n in dict.fromkeys(r[C.node] for r in rows)}
    task_list, task_of = [], {}
    for visit in _visits(rows):
        for task in _tasks(visit):
            task_id = str(7 * 10**18 + ctx.code("feishu-task", instance, len(task_list)) % 10**18)
            task_list.append({
                "id": task_id, "user_id": task["user"],
                "status": _FEISHU_TASK_STATUS[task["outcome"]] if task["end"] is not None
                else "PENDING",
                "node_id": node_id[visit[0][C.node]], "node_name": visit[0][C.node],
                "type": "AND", "start_time": _ms(task["start"]), "end_time": _ms(task["end"])})
            if task["row"] is not None:
                task_of[id(task["row"])] = task_id
            task_of.setdefault((visit[0][C.node], task["user"]), task_id)
    timeline = []
    for row in rows:
        outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
        if outcome not in _FEISHU_TYPE:
            continue                       # pending rows are tasks; reminders, archive: none
        entry = {"type": _FEISHU_TYPE[outcome], "create_time": _ms(row[C.acted_at]),
                 "user_id": row[C.resource], "ext": "{}"}
        if outcome not in ("submit", "withdraw", "cc"):
            entry["node_key"] = node_id[row[C.node]]
            task_id = task_of.get(id(row)) or task_of.get((row[C.node], row[C.resource]))
            if task_id:
                entry["task_id"] = task_id
        if pd.notna(row.get(C.comment)):
            entry["comment"] = row[C.comment]
        timeline.append(entry)
    state, ended = _status(rows)
    form = [{"id": "widget_title", "name": "标题", "type": "input", "value": head[C.title]}]
    if _amount_text(head) is not None:
        form.append({"id": "widget_amount", "name": "金额", "type": "amount",
                     "value": float(head[C.amount])})
    if pd.notna(head.get(C.urgency)):
        form.append({"id": "widget_urgency", "name": "紧急程度", "type": "radioV2",
                     "value": head[C.urgency]})
    data = {
        "approval_code": _uuid(ctx.code("feishu-approval", process)).upper(),
        "approval_name": process, "instance_code": instance,
        "serial_number": ctx.serial(rows),
        "status": {"archived": "APPROVED", "rejected": "REJECTED", "withdrawn": "CANCELED",
                   "running": "PENDING"}[state],
        "user_id": head[C.applicant], "department_id": head[C.applicant_dept],
        "start_time": _ms(rows[0][C.acted_at]), "end_time": _ms(ended),
        "form": json.dumps(form, ensure_ascii=False), "task_list": task_list,
        "comment_list": [], "timeline": timeline,
    }
    if ctx.link_field and instance in ctx.previous:
        data["modified_instance_code"] = ctx.previous[instance]
    return {"code": 0, "msg": "success", "data": data}


#: WeCom approver detail sp_status per outcome (3 已驳回 ends the request)
_WECOM_DETAIL = {"approve": 2, "auto_approve": 2, "reject": 3, "transfer": 4,
                 "add_approver": 12}


def _wecom_answer(rows: list[dict], ctx: _ApiContext) -> dict:
    """A "获取审批申请详情" (getapprovaldetail) answer (``errcode``, ``errmsg``, ``info``).

    One sp_record step per node visit, one detail per person who held the item. WeCom names
    no steps and records no arrival, no reminder, no 抄送 time and no end time (the importer
    takes the last action's time for an approved request)."""
    head = rows[0]
    instance, process = head[C.case_id], head[C.process_type]
    steps = []
    for visit in _visits(rows):
        details = []
        for row in visit:
            outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
            details.append({"approver": {"userid": row[C.resource]},
                            "speech": row[C.comment] if pd.notna(row.get(C.comment)) else "",
                            "sp_status": _WECOM_DETAIL[outcome] if outcome else 1,
                            "sptime": _s(row[C.acted_at]) if outcome else 0, "media_id": []})
        steps.append({"sp_status": details[-1]["sp_status"], "approverattr": 1,
                      "details": details})
    state, _ = _status(rows)
    contents = [{"control": "Text", "id": "Text-title",
                 "title": [{"text": "标题", "lang": "zh_CN"}], "value": {"text": head[C.title]}}]
    if _amount_text(head) is not None:
        contents.append({"control": "Money", "id": "Money-amount",
                         "title": [{"text": "金额", "lang": "zh_CN"}],
                         "value": {"new_money": _amount_text(head)}})
    if pd.notna(head.get(C.urgency)):
        contents.append({"control": "Text", "id": "Text-urgency",
                         "title": [{"text": "紧急程度", "lang": "zh_CN"}],
                         "value": {"text": head[C.urgency]}})
    info = {
        "sp_no": instance, "sp_name": process,
        "sp_status": {"archived": 2, "rejected": 3, "withdrawn": 4, "running": 1}[state],
        "template_id": f"{ctx.code('wecom-template', process):032x}"[:30],
        "apply_time": _s(rows[0][C.acted_at]),
        "applyer": {"userid": head[C.applicant], "partyid": head[C.applicant_dept]},
        "sp_record": steps, "notifyer": [], "comments": [],
        "apply_data": {"contents": contents},
    }
    return {"errcode": 0, "errmsg": "ok", "info": info}


# --- Weaver e-cology tables ------------------------------------------------------------------

#: LOGTYPE written per outcome. Weaver has no refusal code: a refused request is sent back
#: (退回, 3) and left at the creation node, the applicant starting a new request instead.
def _weaver_amount_field(process: str) -> str:
    """The amount's field name in a process's Weaver form, as form designers name them
    (pinyin initials): 报销金额 bxje, 合同金额 htje, else 金额 jine."""
    return "bxje" if "报销" in process else "htje" if "合同" in process else "jine"


_WEAVER_LOGTYPE = {"submit": "2", "approve": "0", "reject": "3", "return": "3", "transfer": "h",
                   "add_approver": "a", "cc": "t", "remind": "s", "withdraw": "5",
                   "comment": "9", "other": "i"}


def _write_weaver(df: pd.DataFrame, folder: Path) -> Path:
    """A Weaver export folder: workflow_requestlog.csv and its companion tables (UTF-8 with a
    BOM, as a database client writes them).

    Each instance is a request (REQUESTID). The person who approved after being asked for an
    opinion (加签) answers with 意见征询回复 (b), so that approval is a comment here. The
    archive is no log row: workflow_requestbase CURRENTNODETYPE 3 says the request is
    archived (the importer adds the event). Pending items are workflow_currentoperator rows
    with ISREMARK 0. The amount is in the form: one table ``formtable_main_N`` per process
    type (workflow_base FORMID -N), a row per request with REQUESTID, the applicant (sqr),
    the date (sqrq) and the amount where the process has one (`_weaver_amount_field`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    processes = sorted(set(df[C.process_type]))
    workflow = {p: 101 + i for i, p in enumerate(processes)}
    form = {p: 11 + i for i, p in enumerate(processes)}
    priced = set(df.loc[df[C.amount].notna().to_numpy(), C.process_type]) if C.amount in df \
        else set()
    forms: dict[str, list[dict]] = {p: [] for p in processes}
    nodes: dict[tuple[str, str], int] = {}
    node_rows = []
    for p in processes:
        chain = [n for n in dict.fromkeys(df.loc[df[C.process_type] == p, C.node])
                 if n not in (START_NODE, ARCHIVE_NODE)]
        for k, name in enumerate([START_NODE, *chain, ARCHIVE_NODE]):
            nodes[(p, name)] = workflow[p] * 100 + (99 if name == ARCHIVE_NODE else k + 1)
            node_rows.append({"ID": nodes[(p, name)], "NODENAME": name,
                              "ISSTART": int(name == START_NODE),
                              "ISEND": int(name == ARCHIVE_NODE), "WORKFLOWID": workflow[p]})
    depts = sorted(set(df[C.dept].dropna()) | set(df[C.applicant_dept].dropna()))
    dept_id = {d: 11 + i for i, d in enumerate(depts)}
    home: dict[str, str] = {}
    for person, dept in zip(df[C.applicant], df[C.applicant_dept]):
        if pd.notna(person) and pd.notna(dept):
            home.setdefault(person, dept)
    for person, dept in zip(df[C.resource], df[C.dept]):
        if pd.notna(person) and pd.notna(dept):
            home.setdefault(person, dept)
    people = sorted(set(df[C.resource].dropna()) | set(df[C.applicant].dropna()))
    person_id = {p: 1001 + i for i, p in enumerate(people)}

    log, receipts, requests = [], [], []
    for rows in _groups(df):
        head = rows[0]
        request, process = head[C.case_id], head[C.process_type]
        node_of = {n: nodes[(process, n)] for n in dict.fromkeys(r[C.node] for r in rows)}
        acted = [r for r in rows if pd.notna(r.get(C.outcome)) and r[C.outcome] != "archive"]
        answers = _answers(rows)
        for row in acted:
            code = "b" if id(row) in answers else _WEAVER_LOGTYPE[row[C.outcome]]
            log.append({
                "REQUESTID": request, "WORKFLOWID": workflow[process],
                "NODEID": node_of[row[C.node]], "LOGTYPE": code,
                "OPERATEDATE": row[C.acted_at].strftime("%Y-%m-%d"),
                "OPERATETIME": row[C.acted_at].strftime("%H:%M:%S"),
                "OPERATOR": person_id[row[C.resource]],
                "OPERATORDEPT": dept_id.get(row.get(C.dept), "") if pd.notna(row.get(C.dept))
                else "",
                "REMARK": f"<p>{html.escape(row[C.comment])}</p>"
                if pd.notna(row.get(C.comment)) else "",
                "DESTNODEID": _weaver_destination(row, rows, answers, node_of, process, nodes),
                "LOGID": len(log) + 1})
        for row in rows:
            outcome = row[C.outcome] if pd.notna(row.get(C.outcome)) else None
            if outcome in ("submit", "approve", "reject", "return", "transfer", "add_approver") \
                    or outcome is None:
                t = row[C.arrived_at]
                receipts.append({
                    "REQUESTID": request, "USERID": person_id[row[C.resource]],
                    "NODEID": node_of[row[C.node]], "ISREMARK": 2 if outcome else 0,
                    "RECEIVEDATE": t.strftime("%Y-%m-%d"), "RECEIVETIME": t.strftime("%H:%M:%S"),
                    "ISLASTTIMES": 1, "WORKFLOWID": workflow[process]})
        state, _ = _status(rows)
        last = acted[-1]
        pending = [r for r in rows if not pd.notna(r.get(C.outcome))]
        current = {"archived": (nodes[(process, ARCHIVE_NODE)], 3),
                   "rejected": (nodes[(process, START_NODE)], 0),
                   "withdrawn": (nodes[(process, START_NODE)], 0),
                   "running": (node_of[pending[-1][C.node]] if pending
                               else node_of[last[C.node]], 1)}[state]
        requests.append({
            "REQUESTID": request, "WORKFLOWID": workflow[process],
            "REQUESTNAME": head[C.title], "CREATER": person_id[head[C.applicant]],
            "CREATEDATE": rows[0][C.acted_at].strftime("%Y-%m-%d"),
            "CREATETIME": rows[0][C.acted_at].strftime("%H:%M:%S"),
            "REQUESTLEVEL": 2 if head.get(C.urgency) == "紧急" else 0,
            "CURRENTNODEID": current[0], "CURRENTNODETYPE": current[1],
            "LASTOPERATEDATE": last[C.acted_at].strftime("%Y-%m-%d"),
            "LASTOPERATETIME": last[C.acted_at].strftime("%H:%M:%S")})
        entry = {"id": len(forms[process]) + 1, "requestId": request,
                 "sqr": person_id[head[C.applicant]],
                 "sqrq": rows[0][C.acted_at].strftime("%Y-%m-%d")}
        if process in priced:
            amount = head.get(C.amount)
            entry[_weaver_amount_field(process)] = (f"{float(amount):.2f}" if pd.notna(amount)
                                                    else "")
        forms[process].append(entry)
    tables = {
        "workflow_requestlog": pd.DataFrame(log),
        "workflow_currentoperator": pd.DataFrame(receipts),
        "workflow_requestbase": pd.DataFrame(requests),
        "workflow_nodebase": pd.DataFrame(node_rows),
        "workflow_base": pd.DataFrame({"ID": list(workflow.values()),
                                       "WORKFLOWNAME": list(workflow),
                                       "FORMID": [-form[p] for p in workflow]}),
        "HrmResource": pd.DataFrame({
            "ID": [person_id[p] for p in people], "LASTNAME": people,
            "DEPARTMENTID": [dept_id.get(home.get(p), "") for p in people]}),
        "HrmDepartment": pd.DataFrame({"ID": list(dept_id.values()),
                                       "DEPARTMENTNAME": list(dept_id)}),
        **{f"formtable_main_{form[p]}": pd.DataFrame(forms[p]) for p in processes if forms[p]},
    }
    for name, table in tables.items():
        _write_csv(table, folder / f"{name}.csv", "utf-8-sig")
    return folder


def _weaver_destination(row: dict, rows: list[dict], answers: set[int], node_of: dict,
                        process: str, nodes: dict) -> Any:
    """DESTNODEID of an action that moves the request: the node it went to next (after a
    refusal: the start node; after the last approval: the archive node); empty for actions
    that do not move it."""
    if row[C.outcome] in ("reject", "return"):
        return nodes[(process, START_NODE)]
    if row[C.outcome] not in ("submit", "approve") or id(row) in answers:
        return ""
    after = rows[next(k for k, r in enumerate(rows) if r is row) + 1:]
    following = [r for r in after if r[C.node] != row[C.node]
                 and (not pd.notna(r.get(C.outcome)) or r[C.outcome] in _HOLDING)]
    return node_of[following[0][C.node]] if following else nodes[(process, ARCHIVE_NODE)]


# --- small helpers ---------------------------------------------------------------------------

def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError) as err:
        raise SpecError(f"{value!r} is not a date like '2025-07-01'") from err


def _as_timestamp(value: Any, tz: str) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize(tz) if t.tzinfo is None else t.tz_convert(tz)
