"""The canonical event log: its columns and the closed vocabulary of outcomes.

Every importer produces these columns and every analysis reads them; column names are written
here once (``COLUMNS``) and referred to by attribute everywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Literal, get_args

Outcome = Literal[
    "submit", "resubmit", "approve", "reject", "return", "transfer", "add_approver",
    "withdraw", "cc", "comment", "remind", "auto_approve", "archive", "other",
]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

#: Decisions a node takes on an item; the necessity test counts these.
DECISIONS = frozenset({"approve", "auto_approve", "reject", "return"})
#: Outcomes that send an item back or end it negatively.
REJECTIONS = frozenset({"reject", "return"})
#: Outcomes that do not move the item: they never count as the "previous action" an arrival is
#: inferred from (a reminder does not hand the item to anyone).
NON_BLOCKING = frozenset({"cc", "comment", "remind"})
#: Outcomes after which a case is finished.
TERMINAL = frozenset({"archive", "reject", "withdraw"})

ArrivalSource = Literal["recorded", "inferred", "none"]

#: Why a row was set aside. Codes are stable (they appear in set-aside files and JSON).
SetAsideReason = Literal[
    "malformed_record",      # the reader could not split/parse the record at all
    "missing_case_id",
    "missing_node",
    "missing_time",          # no acted_at value
    "unparseable_time",      # acted_at/arrived_at present but not a time we can read
    "implausible_time",      # a time before 1990 or more than a year after the import
    "unknown_outcome",       # outcome word not in the vocabulary nor in the mapping
    "action_before_arrival", # acted_at earlier than the recorded arrived_at
    "duplicate",             # same case, node, outcome, person, time and comment as an earlier row
    "bad_amount",            # amount present but not a number (or not finite: 1e309)
]

SET_ASIDE_REASONS: dict[str, str] = {
    "malformed_record": "record could not be read (wrong number of fields, broken JSON, …)",
    "missing_case_id": "no case id",
    "missing_node": "no node / approval step",
    "missing_time": "no action time",
    "unparseable_time": "time value not understood",
    "implausible_time": "time before 1990 or more than a year after the import (a typo, or a "
                        "placeholder date such as 9999-12-31)",
    "unknown_outcome": "outcome word not in the vocabulary or the mapping",
    "action_before_arrival": "acted before the item arrived",
    "duplicate": "exact duplicate of an earlier row",
    "bad_amount": "amount is not a finite number",
}


@dataclass(frozen=True)
class EventLogColumns:
    """Names of the canonical columns (one place to change them)."""

    case_id: str = "case_id"
    node: str = "node"
    object: str = "object"                  # what the event acts on within the case (a permit, a
                                            # declaration …); null unless a label rule or a column sets it
    outcome: str = "outcome"
    resource: str = "resource"
    dept: str = "dept"
    arrived_at: str = "arrived_at"          # recorded arrival; null when the source has none
    acted_at: str = "acted_at"              # null only for pending items
    pending: str = "pending"                # True: arrived, not yet acted on at export
    comment: str = "comment"
    # derived by the importer
    seq: str = "seq"                        # 0-based position of the event within its case
    wait_start: str = "wait_start"          # arrived_at if recorded, else the inferred arrival
    arrival_source: str = "arrival_source"  # recorded | inferred | none
    # case attributes carried along when the source has them
    process_type: str = "process_type"
    amount: str = "amount"
    urgency: str = "urgency"
    applicant: str = "applicant"
    applicant_dept: str = "applicant_dept"
    title: str = "title"
    # provenance
    instance_id: str = "instance_id"        # the source's own instance/request id; equals case_id
                                            # unless re-initiated attempts were linked into one case
    source_file: str = "source_file"
    source_row: str = "source_row"          # row as a spreadsheet shows it (header = 1), or record id
    # derived by `EventLog` from each case's events, stored so analyses need no window pass
    # (their definitions: `officemine.log.relations`)
    visit: str = "visit"                    # 1-based stay at a node in the case; null: cc/comment/remind
    round: str = "round"                    # 1 + the case's returns before the event (attempt number)
    visit_start: str = "visit_start"        # wait_start of the visit's first event (its arrival)
    visit_source: str = "visit_source"      # arrival_source of that event: recorded | inferred | none
    handoff: str = "handoff"                # acted, blocking, and in another dept than the one before
    case_start: str = "case_start"          # the case's start: first submission (else first event)
    case_end: str = "case_end"              # the case's final event; null while the case is open


COLUMNS = EventLogColumns()
C = COLUMNS

#: Columns an importer can fill from the source (the rest are derived).
SOURCE_FIELDS: tuple[str, ...] = (
    C.case_id, C.node, C.outcome, C.resource, C.dept, C.arrived_at, C.acted_at, C.comment,
    C.process_type, C.amount, C.urgency, C.applicant, C.applicant_dept, C.title, C.object,
)
TIME_FIELDS: tuple[str, ...] = (C.arrived_at, C.acted_at)
CASE_ATTRIBUTES: tuple[str, ...] = (
    C.process_type, C.amount, C.urgency, C.applicant, C.applicant_dept, C.title,
)
#: Columns every importer produces, in this order.
CANONICAL_ORDER: tuple[str, ...] = (
    C.case_id, C.seq, C.node, C.outcome, C.resource, C.dept, C.arrived_at, C.acted_at,
    C.pending, C.wait_start, C.arrival_source, C.comment, C.object, *CASE_ATTRIBUTES, C.instance_id,
    C.source_file, C.source_row,
)
#: Columns `EventLog` derives from the case's events (see `officemine.log.eventlog`).
VISIT_COLUMNS: tuple[str, ...] = (C.visit, C.round, C.visit_start, C.visit_source, C.handoff,
                                  C.case_start, C.case_end)
#: Column order of a stored log; extra source columns follow these.
STORED_ORDER: tuple[str, ...] = CANONICAL_ORDER + VISIT_COLUMNS
assert set(STORED_ORDER) == {f.default for f in fields(EventLogColumns)}


# --- outcome words -------------------------------------------------------------------------
# Words OA systems write for each outcome, Chinese first. Matching is exact after
# normalisation (case, spaces, punctuation), so the order of this table does not matter;
# a word must appear under one outcome only (checked below).
OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "submit": ("提交", "发起", "申请", "创建", "提交申请", "发起申请", "submit", "submitted",
               "start", "create", "created", "apply"),
    "resubmit": ("重新提交", "再次提交", "重新发起", "修改后提交", "resubmit", "resubmitted"),
    "approve": ("同意", "批准", "通过", "审批通过", "已同意", "核准", "审核通过", "准予", "签发",
                "approve", "approved", "agree", "agreed", "pass", "passed", "accept",
                "accepted", "final_approved", "final approved"),
    "reject": ("拒绝", "否决", "不同意", "不予批准", "不批准", "终止", "审批拒绝", "已拒绝",
               "reject", "rejected", "refuse", "refused", "deny", "denied", "decline",
               "declined", "terminate", "terminated"),
    "return": ("退回", "驳回", "回退", "打回", "退回修改", "退回申请人", "退回发起人", "返回修改",
               "return", "returned", "send back", "sent back", "redirect", "rollback"),
    "transfer": ("转办", "转交", "移交", "委托", "代理", "transfer", "transferred",
                 "delegate", "delegated", "redirected"),
    "add_approver": ("加签", "前加签", "后加签", "并加签", "add approver", "add_approver",
                     "add sign", "addsign"),
    "withdraw": ("撤回", "撤销", "收回", "取消", "作废", "withdraw", "withdrawn", "revoke",
                 "revoked", "cancel", "canceled", "cancelled"),
    "cc": ("抄送", "传阅", "知会", "阅知", "转发", "cc", "carbon copy", "notify", "forward",
           "forwarded"),
    "comment": ("批注", "评论", "意见", "备注", "留言", "comment", "commented", "annotate",
                "note"),
    "remind": ("催办", "督办", "提醒", "remind", "reminder", "urge", "send reminder"),
    "auto_approve": ("自动通过", "自动审批", "自动同意", "系统自动同意", "系统自动通过",
                     "auto approve", "auto_approve", "auto approved", "auto pass"),
    "archive": ("归档", "办结", "强制归档", "结束", "完成", "流程结束", "已办结", "archive",
                "archived", "end", "finish", "finished", "complete", "completed", "close",
                "closed"),
    "other": ("其他", "other"),
}

_PUNCT = re.compile(r"[\s_\-:：·•.,，。()（）\[\]【】]+")


def normalize_word(value: str) -> str:
    """Normalise a header or an outcome word for matching: case, spaces, punctuation."""
    return _PUNCT.sub(" ", str(value)).strip().lower()


def _word_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for outcome, words in OUTCOME_WORDS.items():
        for word in (*words, outcome):
            key = normalize_word(word)
            if table.get(key, outcome) != outcome:
                raise AssertionError(f"outcome word {word!r} listed twice")
            table[key] = outcome
    return table


#: normalised word -> canonical outcome
OUTCOME_LOOKUP: dict[str, str] = _word_table()
