"""The shared normaliser: ordering, resubmissions, arrivals, duplicates, accounting."""

import pandas as pd
import pyarrow as pa

from officemine.importing.normalize import _clean_text, _parse_amount, build_log
from officemine.importing.raw import RawEvents, coded_text

TZ = "Asia/Shanghai"


def run(rows, **kw):
    frame = pd.DataFrame(rows, columns=["case_id", "node", "outcome", "resource", "acted_at",
                                        *kw.pop("extra", [])])
    raw = RawEvents(frame=frame, source_file="t.csv", format="csv", rows_read=len(frame))
    return build_log(raw, **kw)


def test_arrival_is_inferred_from_the_previous_blocking_action():
    events, report, _ = run([
        ["c", "发起", "提交", "a", "2025-03-03 09:00"],
        ["c", "部门审核", "抄送", "x", "2025-03-03 09:30"],     # cc: does not move the item
        ["c", "部门审核", "催办", "a", "2025-03-03 10:00"],     # remind: neither
        ["c", "部门审核", "同意", "b", "2025-03-03 11:00"],
        ["c", "财务初审", "同意", "d", "2025-03-04 11:00"],
    ])
    assert events.wait_start.tolist()[3:] == [pd.Timestamp("2025-03-03 09:00", tz=TZ),
                                              pd.Timestamp("2025-03-03 11:00", tz=TZ)]
    assert events.arrival_source.tolist() == ["none", "inferred", "inferred", "inferred",
                                              "inferred"]
    assert report.arrivals_inferred == 4 and report.arrivals_recorded == 0


def test_events_out_of_order_are_sorted_and_counted():
    events, report, _ = run([
        ["c", "财务初审", "同意", "d", "2025-03-04 11:00"],
        ["c", "发起", "提交", "a", "2025-03-03 09:00"],
        ["k", "发起", "提交", "a", "2025-03-03 09:00"],
    ])
    assert events[events.case_id == "c"].node.tolist() == ["发起", "财务初审"]
    assert events.seq.tolist() == [0, 1, 0]
    assert report.out_of_order_cases == 1


def test_later_submits_become_resubmits_and_open_cases_are_counted():
    events, report, _ = run([
        ["c", "发起", "提交", "a", "2025-03-03 09:00"],
        ["c", "审核", "退回", "b", "2025-03-03 10:00"],
        ["c", "发起", "提交", "a", "2025-03-03 11:00"],
        ["c", "审核", "拒绝", "b", "2025-03-03 12:00"],
        ["k", "发起", "submit", "a", "2025-03-03 09:00"],
    ])
    assert events.outcome.tolist() == ["submit", "return", "resubmit", "reject", "submit"]
    assert report.open_cases == 1 and report.cases == 2


def test_duplicates_keep_the_first_and_accounting_balances():
    rows = [["c", "发起", "提交", "a", "2025-03-03 09:00"]] * 3 + \
           [["c", "审核", "同意", "b", "2025-03-03 10:00"]]
    events, report, aside = run(rows)
    assert len(events) == 2 and report.rows_set_aside == 2
    assert aside.reason.tolist() == ["duplicate", "duplicate"]
    assert aside.source_row.tolist() == ["2", "3"]
    assert report.rows_read == report.rows_accepted + report.rows_set_aside


def test_case_attributes_written_once_are_spread_over_the_case():
    events, _, _ = run([
        ["c", "发起", "提交", "a", "2025-03-03 09:00", "费用报销", "1200"],
        ["c", "审核", "同意", "b", "2025-03-03 10:00", None, None],
    ], extra=["process_type", "amount"])
    assert events.process_type.tolist() == ["费用报销", "费用报销"]
    assert events.amount.tolist() == [1200.0, 1200.0]


def test_no_outcome_column_warns_and_uses_other():
    frame = pd.DataFrame({"case_id": ["c"], "node": ["x"], "acted_at": ["2025-03-03 09:00"]})
    events, report, _ = build_log(RawEvents(frame, "t.csv", "csv", 1))
    assert events.outcome.tolist() == ["other"]
    assert any("no outcome column" in w for w in report.warnings)


def test_arrival_without_action_is_a_pending_item_not_an_error():
    frame = pd.DataFrame({
        "case_id": ["c", "c", "c", "k"],
        "node": ["发起", "部门审核", "财务初审", "发起"],
        "outcome": ["提交", "同意", None, None],
        "arrived_at": [None, "2025-03-03 09:00", "2025-03-04 09:00", None],
        "acted_at": ["2025-03-03 09:00", "2025-03-04 09:00", None, None],
    })
    events, report, aside = build_log(RawEvents(frame, "t.csv", "csv", 4))
    assert aside.reason.tolist() == ["missing_time"]      # k: neither time
    assert events.pending.tolist() == [False, False, True]
    pending = events.iloc[2]
    assert pd.isna(pending.acted_at) and pd.isna(pending.outcome) and pending.seq == 2
    assert pending.wait_start == pd.Timestamp("2025-03-04 09:00", tz=TZ)
    assert report.pending_items == 1 and report.open_cases == 1
    assert any("pending" in n for n in report.notes)


def test_a_duplicate_among_rows_at_the_same_time_is_found_wherever_it_is():
    events, report, aside = run([
        ["c", "发起", "提交", "a", "2025-03-03 09:00"],
        ["c", "审核", "同意", "b", "2025-03-03 10:00"],
        ["c", "审核", "抄送", "x", "2025-03-03 10:00"],    # same time, not the same event
        ["k", "发起", "提交", "a", "2025-03-03 10:00"],
        ["c", "审核", "同意", "b", "2025-03-03 10:00"],    # the second row again
        ["c", "审核", "同意", "b", "2025-03-03 10:00 "],   # and again, written differently
    ])
    assert aside.source_row.tolist() == ["5", "6"]
    assert aside.detail.tolist() == ["same as row 2", "same as row 2"]
    assert events.outcome.tolist() == ["submit", "approve", "cc", "submit"]
    assert report.rows_accepted == 4


def test_coded_text_gives_the_same_log_as_plain_text():
    frame = pd.DataFrame({
        "case_id": ["c", " c", "k", None, "k", "c"],
        "node": ["发起", "审核", "发起", "审核", "NULL", "审核"],
        "outcome": ["提交", "同意", "提交", "同意", "盖章", None],
        "resource": ["a", "b", None, "b", "a", "b"],
        "arrived_at": [None, "2025-03-03 09:00", None, None, None, "2025-03-04 09:00"],
        "acted_at": ["2025-03-03 09:00", "2025-03-04 09:00", "2025-03-03 10:00", "x", "y", None],
        "title": ["报销", None, "用印", None, None, None],
        "extra": ["u", "v", "u", None, "w", "v"],
    }, dtype="string")
    coded = frame.copy()
    for column in coded:
        codes, uniques = pd.factorize(frame[column])
        coded[column] = coded_text(codes, pa.array(uniques, pa.large_string()))
    plain = build_log(RawEvents(frame, "t.csv", "csv", len(frame)))
    again = build_log(RawEvents(coded, "t.csv", "csv", len(frame)))
    pd.testing.assert_frame_equal(again[0], plain[0])
    assert again[1] == plain[1]
    pd.testing.assert_frame_equal(again[2], plain[2])


def test_clean_text_drops_invisible_and_control_characters():
    raw = pd.Series(["部门\u200b审核", "\ufeff部门审核\u2060", " 部门\u200c\u200d审核\x07 ",
                     "意见：\n同意\t办理", "\u200b", "null", None])
    assert _clean_text(raw).tolist() == ["部门审核", "部门审核", "部门审核", "意见：\n同意\t办理",
                                         pd.NA, pd.NA, pd.NA]


def test_amounts_that_are_not_finite_are_bad():
    number, bad = _parse_amount(pd.Series(["1e309", "-1e400万", "1e3", "3万", "", "abc"]))
    assert bad.tolist() == [True, True, False, False, False, True]
    assert number.tolist() == [pd.NA, pd.NA, 1000.0, 30000.0, pd.NA, pd.NA]


def test_implausible_times_are_set_aside_with_their_own_reason():
    events, report, aside = run([["c", "发起", "提交", "a", "3025-03-03 09:00"],
                                 ["c", "审核", "同意", "b", "2025-03-03 10:00"]])
    assert report.set_aside_by_reason == {"implausible_time": 1}
    assert aside[["reason", "column", "detail"]].values.tolist() == [
        ["implausible_time", "acted_at", "3025-03-03 09:00"]]
    assert events.node.tolist() == ["审核"]


def test_label_rules_set_the_object_and_resubmissions_count_per_object():
    from officemine.importing.mapping import Mapping

    mapping = Mapping.from_dict({"label_rules": [
        {"pattern": r"^(?P<object>Permit|Declaration) (?P<outcome>SUBMITTED|APPROVED|REJECTED)$",
         "node": "审批"},
        {"pattern": r"^Payment$", "outcome": "archive", "object": "Declaration"}],
        "outcomes": {"SUBMITTED": "submit", "APPROVED": "approve", "REJECTED": "return"}})
    labels = ["Permit SUBMITTED", "Permit REJECTED", "Permit SUBMITTED", "Permit APPROVED",
              "Declaration SUBMITTED", "Declaration APPROVED",
              "Declaration SUBMITTED",       # nothing sent back: a second declaration
              "Declaration APPROVED", "Payment"]
    rows = [["c", None, None, "a", f"2025-03-03 {9 + i:02d}:00", label]
            for i, label in enumerate(labels)]
    events, report, _ = run(rows, extra=["label"], mapping=mapping)
    # the declaration's first submission is a submission, not the permit's resubmission
    assert events.outcome.tolist() == ["submit", "return", "resubmit", "approve", "submit",
                                       "approve", "submit", "approve", "archive"]
    assert events.object.tolist() == ["Permit"] * 4 + ["Declaration"] * 2 + \
        ["Declaration #2"] * 3
    assert any("object(s) submitted afresh" in note for note in report.notes)


def test_an_object_column_and_reject_then_resubmit_per_object():
    # 单据 mapped to object: the rejected invoice is resubmitted (a return); the rejected
    # contract never is (a rejection), although a submission of the invoice follows it
    rows = [["c", "发起", "提交", "a", "2025-03-03 09:00", "合同"],
            ["c", "发起", "提交", "a", "2025-03-03 09:05", "发票"],
            ["c", "审核", "拒绝", "b", "2025-03-03 10:00", "发票"],
            ["c", "审核", "拒绝", "b", "2025-03-03 10:30", "合同"],
            ["c", "发起", "提交", "a", "2025-03-03 11:00", "发票"]]
    events, report, _ = run(rows, extra=["object"])
    assert events.outcome.tolist() == ["submit", "submit", "return", "reject", "resubmit"]
    assert report.rejections_as_returns == 1
    assert events.instance_id.tolist() == ["c"] * 5


def test_an_action_before_its_arrival_is_set_aside_with_both_times():
    # the detail is written while the import runs on (the times are freed at its end)
    frame = pd.DataFrame({
        "case_id": ["c", "c", "k"],
        "node": ["发起", "审核", "发起"],
        "outcome": ["提交", "同意", "提交"],
        "arrived_at": [None, "2025-03-05 09:00", None],
        "acted_at": ["2025-03-03 09:00", "2025-03-04 09:00", "2025-03-03 10:00"],
    })
    events, report, aside = build_log(RawEvents(frame, "t.csv", "csv", 3))
    assert report.set_aside_by_reason == {"action_before_arrival": 1}
    assert aside[["source_row", "column"]].values.tolist() == [["2", "arrived_at"]]
    arrived, acted = aside.detail.iloc[0].split(" > ")
    assert pd.Timestamp(arrived) == pd.Timestamp("2025-03-05 09:00", tz=TZ)
    assert pd.Timestamp(acted) == pd.Timestamp("2025-03-04 09:00", tz=TZ)
    assert events.case_id.tolist() == ["c", "k"]
