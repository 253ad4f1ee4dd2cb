"""Tiny hand-built logs for the simulation tests: every expected number is worked out by hand.

Office hours are the default 09:00–12:00 and 13:30–17:30; 2025-03-03 is a Monday and there is
no holiday in that week or the next.
"""

from __future__ import annotations

import pandas as pd

from officemine.log.eventlog import EventLog
from officemine.log.schema import C, CANONICAL_ORDER

TZ = "Asia/Shanghai"

# (node, outcome, dept, acted_at[, comment]); each item arrives when the previous action is taken
CASES: dict[str, dict] = {
    # submitted Friday 09:00; A takes 5.5 working hours (to 16:00), X waits over the weekend
    # (16:00–17:30 Fri + 09:00–10:00 Mon = 2.5 h), Y takes 4 h (10:00–12:00, 13:30–15:30)
    "C1": {"process_type": "报销", "amount": 1000.0, "urgency": "普通", "events": [
        ("发起", "submit", "市场部", "2025-03-07 09:00"),
        ("A", "approve", "办公室", "2025-03-07 16:00"),
        ("X", "approve", "财务部", "2025-03-10 10:00"),
        ("Y", "approve", "公司领导", "2025-03-10 15:30"),
        ("归档", "archive", None, "2025-03-10 15:30"),
    ]},
    # X returns for missing material; the applicant resubmits and the round is run again
    "C2": {"process_type": "报销", "amount": 5000.0, "urgency": "普通", "events": [
        ("发起", "submit", "市场部", "2025-03-03 09:00"),
        ("A", "approve", "办公室", "2025-03-03 10:00"),
        ("X", "return", "财务部", "2025-03-03 11:00", "缺少发票原件，请补齐材料"),
        ("发起", "resubmit", "市场部", "2025-03-03 14:00"),
        ("A", "approve", "办公室", "2025-03-03 15:00"),
        ("X", "approve", "财务部", "2025-03-03 16:00"),
        ("Y", "approve", "公司领导", "2025-03-04 10:00"),
        ("归档", "archive", None, "2025-03-04 10:00"),
    ]},
    # rejected at X
    "C3": {"process_type": "报销", "amount": 1200.0, "urgency": "普通", "events": [
        ("发起", "submit", "市场部", "2025-03-03 09:00"),
        ("A", "approve", "办公室", "2025-03-03 10:00"),
        ("X", "reject", "财务部", "2025-03-03 11:00", "不符合规定"),
    ]},
    # contracts: legal (L) 3 h, then finance (F) 2 h
    "C4": {"process_type": "合同", "amount": 90000.0, "urgency": "紧急", "events": [
        ("发起", "submit", "采购部", "2025-03-03 09:00"),
        ("L", "approve", "法务部", "2025-03-03 12:00"),
        ("F", "approve", "财务部", "2025-03-03 15:30"),
        ("归档", "archive", None, "2025-03-03 15:30"),
    ]},
    # contracts again: F returns the item; in the second round both approve
    "C6": {"process_type": "合同", "amount": 50000.0, "urgency": "普通", "events": [
        ("发起", "submit", "采购部", "2025-03-04 09:00"),
        ("L", "approve", "法务部", "2025-03-04 11:00"),
        ("F", "return", "财务部", "2025-03-04 12:00", "付款条件不明确"),
        ("发起", "resubmit", "采购部", "2025-03-04 14:30"),
        ("L", "approve", "法务部", "2025-03-04 15:30"),
        ("F", "approve", "财务部", "2025-03-04 17:30"),
        ("归档", "archive", None, "2025-03-04 17:30"),
    ]},
    # still open: never replayed
    "C5": {"process_type": "报销", "amount": 300.0, "urgency": "普通", "events": [
        ("发起", "submit", "市场部", "2025-03-11 09:00"),
        ("A", "approve", "办公室", "2025-03-11 10:00"),
    ]},
}


def events_frame(cases: dict[str, dict] = CASES) -> pd.DataFrame:
    rows = []
    for case_id, case in cases.items():
        prev = None
        for seq, ev in enumerate(case["events"]):
            node, outcome, dept, acted = ev[:4]
            acted = pd.Timestamp(acted, tz=TZ)
            arrived = prev if prev is not None else acted
            rows.append({
                C.case_id: case_id, C.seq: seq, C.node: node, C.outcome: outcome,
                C.resource: f"{node}-{dept}", C.dept: dept, C.arrived_at: arrived,
                C.acted_at: acted, C.pending: False, C.wait_start: arrived,
                C.arrival_source: "recorded", C.comment: ev[4] if len(ev) > 4 else None,
                C.process_type: case["process_type"], C.amount: case["amount"],
                C.urgency: case["urgency"], C.applicant: "张三", C.applicant_dept: "市场部",
                C.title: f"{case_id}的申请", C.source_file: "hand-built", C.source_row: str(seq + 2),
            })
            prev = acted
    df = pd.DataFrame(rows)
    for col in (C.case_id, C.node, C.outcome, C.resource, C.dept, C.comment, C.process_type,
                C.urgency, C.applicant, C.applicant_dept, C.title, C.source_file, C.source_row,
                C.arrival_source):
        df[col] = df[col].astype("string")
    df[C.seq] = df[C.seq].astype("int32")
    df[C.amount] = df[C.amount].astype("Float64")
    df[C.instance_id] = df[C.case_id]
    df[C.object] = pd.Series(pd.NA, index=df.index, dtype="string")
    return df[list(CANONICAL_ORDER)]


def tiny_log() -> EventLog:
    return EventLog.from_pandas(events_frame(), timezone=TZ)


def test_the_hand_built_log_is_canonical_and_as_described():
    log = tiny_log()
    assert log.n_cases == len(CASES) and log.n_events == sum(len(c["events"]) for c in CASES.values())
    first = log.query("SELECT min(acted_at) AS t FROM events WHERE case_id = 'C1'")["t"][0]
    assert first.tz_convert(TZ).day_name() == "Friday"
