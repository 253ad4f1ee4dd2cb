"""Approval-API exports (DingTalk, Feishu/Lark, WeCom) through `officemine.import_log`.

Fixtures in tests/data/apis describe the same seven business cases in each API's own shape
(费用报销 with a copy, a refused 合同审批, a transferred 用印申请, a 采购申请 with an added
approver, a withdrawn 请假, a 费用报销 still running, a 差旅报销 sent back once), each as a
JSON array, as JSON Lines (one API response a line) and as JSON Lines with one line cut off.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import officemine
from officemine import SourceError
from officemine.importing import detect_format

DATA = Path(__file__).resolve().parent / "data" / "apis"
SH = "Asia/Shanghai"

# file -> (format, rows read, accepted, set aside, cases, pending items): expected results as
# data. The running 费用报销 (202503140006) has one task waiting at 财务审核 in DingTalk and
# Feishu: a pending row (accepted). WeCom records no arrival, so its waiting approver stays a
# note (a row with neither time could only be set aside).
EXPECTED = {
    "dingtalk_instances.json": ("dingtalk", 31, 31, 0, 7, 1),
    "dingtalk_instances.jsonl": ("dingtalk", 31, 31, 0, 7, 1),
    "dingtalk_broken.jsonl": ("dingtalk", 16, 15, 1, 3, 0),
    "dingtalk_topapi.json": ("dingtalk", 6, 6, 0, 2, 0),
    "feishu_instances.json": ("feishu", 33, 33, 0, 7, 1),
    "feishu_instances.jsonl": ("feishu", 33, 33, 0, 7, 1),
    "feishu_broken.jsonl": ("feishu", 18, 17, 1, 3, 0),
    "wecom_instances.json": ("wecom", 32, 31, 1, 7, 0),
    "wecom_instances.jsonl": ("wecom", 32, 31, 1, 7, 0),
    "wecom_broken.jsonl": ("wecom", 17, 16, 1, 3, 0),
    "same_process.dingtalk.json": ("dingtalk", 17, 17, 0, 4, 0),
    "same_process.feishu.json": ("feishu", 17, 17, 0, 4, 0),
    "same_process.wecom.jsonl": ("wecom", 17, 17, 0, 4, 0),
}


def t(text: str, tz: str = SH) -> pd.Timestamp:
    return pd.Timestamp(text, tz=tz)


def events(log) -> pd.DataFrame:
    return log.to_pandas()


def case(df: pd.DataFrame, serial: str) -> pd.DataFrame:
    return df[df.serial_number == serial].reset_index(drop=True)


def one(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        mask &= df[column] == value
    assert mask.sum() == 1, f"{mask.sum()} rows match {where}"
    return df[mask].iloc[0]


@pytest.fixture(scope="module")
def ding():
    return events(officemine.import_log(DATA / "dingtalk_instances.json"))


@pytest.fixture(scope="module")
def feishu():
    return events(officemine.import_log(DATA / "feishu_instances.json"))


@pytest.fixture(scope="module")
def wecom_log():
    return officemine.import_log(DATA / "wecom_instances.json")


# --- every fixture: detection, accounting, storage -------------------------------------------

@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_is_detected_read_and_accounted_for(name, tmp_path):
    fmt, read, accepted, aside, cases, pending = EXPECTED[name]
    path = DATA / name
    assert detect_format(path) == fmt
    mapping = DATA / "wecom_nodes.toml" if name.startswith("same_process.wecom") else None
    log = officemine.import_log(path, mapping=mapping)          # format="auto"
    report = log.report
    assert report.format == fmt
    assert (report.rows_read, report.rows_accepted, report.rows_set_aside) == (read, accepted,
                                                                            aside)
    assert report.rows_read == report.rows_accepted + report.rows_set_aside
    assert report.cases == cases and log.n_events == accepted
    assert len(log.set_aside) == aside
    assert report.pending_items == pending == int(log.to_pandas().pending.sum())

    stored = officemine.read_log(log.write(tmp_path / "x.parquet"))
    pd.testing.assert_frame_equal(stored.to_pandas(), log.to_pandas())
    assert stored.report.rows_read == read and stored.timezone == SH
    assert (tmp_path / "x.set_aside.csv").exists() == bool(aside)


@pytest.mark.parametrize("api", ["dingtalk", "feishu", "wecom"])
def test_json_lines_of_api_responses_give_the_same_log_as_the_json_array(api):
    array = events(officemine.import_log(DATA / f"{api}_instances.json"))
    lines = events(officemine.import_log(DATA / f"{api}_instances.jsonl"))
    assert array.source_row.str.startswith("record ").all()
    assert lines.source_row.str.startswith("line ").all()
    same = [c for c in array.columns if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(array[same], lines[same])


@pytest.mark.parametrize("api", ["dingtalk", "feishu", "wecom"])
def test_a_cut_off_line_is_set_aside_with_its_number_and_the_rest_is_read(api):
    log = officemine.import_log(DATA / f"{api}_broken.jsonl")
    aside = log.set_aside
    assert aside.source_row.tolist() == ["line 3"]
    assert aside.reason.tolist() == ["malformed_record"]
    assert aside.detail.iloc[0].startswith("broken JSON")
    df = events(log)
    assert sorted(df.serial_number.unique()) == ["202503100001", "202503100002", "202503120004"]
    assert not df.source_row.str.startswith("line 3").any()


@pytest.mark.parametrize("fmt", ["auto", "dingtalk", "feishu", "wecom"])
def test_a_json_answer_that_is_no_approval_export_raises(fmt):
    with pytest.raises(SourceError) as err:
        officemine.import_log(DATA / "not_approval.json", format=fmt)
    assert "not_approval.json" in str(err.value)


def test_text_that_is_not_json_raises_naming_the_line(tmp_path):
    path = tmp_path / "export.json"
    good = (DATA / "feishu_instances.json").read_text(encoding="utf-8")
    path.write_text(good.replace('"status": "REJECTED",', '"status": "REJECTED"', 1),
                    encoding="utf-8")
    with pytest.raises(SourceError) as err:
        officemine.import_log(path)
    assert err.value.row is not None and err.value.row > 1


# --- the same process written by the three APIs ----------------------------------------------

def test_three_apis_describing_one_process_give_the_same_canonical_log():
    logs = {
        "dingtalk": officemine.import_log(DATA / "same_process.dingtalk.json"),
        "feishu": officemine.import_log(DATA / "same_process.feishu.json"),
        # WeCom names no steps: a mapping gives them the designer's names (label rules)
        "wecom": officemine.import_log(DATA / "same_process.wecom.jsonl",
                                       mapping=DATA / "wecom_nodes.toml"),
    }
    columns = ["serial_number", "seq", "node", "outcome", "resource", "acted_at", "wait_start",
               "amount", "process_type"]
    frames = {api: events(log).sort_values(["serial_number", "seq"])[columns]
              .reset_index(drop=True) for api, log in logs.items()}
    pd.testing.assert_frame_equal(frames["dingtalk"], frames["feishu"])
    pd.testing.assert_frame_equal(frames["dingtalk"], frames["wecom"])

    sequences = {serial: list(zip(g.node, g.outcome))
                 for serial, g in frames["dingtalk"].groupby("serial_number")}
    assert sequences["202503060003"] == [("发起", "submit"), ("部门负责人", "transfer"),
                                         ("部门负责人", "approve"), ("财务审核", "approve"),
                                         ("结束", "archive")]
    assert sequences["202503050002"][-1] == ("财务审核", "reject")
    assert ("评论", "comment") in sequences["202503070004"]
    # DingTalk and Feishu record arrivals, WeCom's are inferred: the waits agree all the same
    sources = {api: set(events(log).arrival_source) for api, log in logs.items()}
    assert "recorded" in sources["dingtalk"] and "recorded" in sources["feishu"]
    assert "recorded" not in sources["wecom"]


# --- DingTalk ------------------------------------------------------------------------------

def test_dingtalk_v1_utc_minutes_become_beijing_time(ding):
    raw = json.loads((DATA / "dingtalk_instances.json").read_text(encoding="utf-8"))
    assert raw[0]["operationRecords"][2]["date"] == "2025-03-11T07:40Z"
    row = one(case(ding, "202503100001"), node="财务审核", outcome="approve")
    assert row.acted_at == t("2025-03-11 15:40")
    assert row.arrived_at == t("2025-03-10 10:03") and row.arrival_source == "recorded"
    assert row.resource == "wangfang" and row.comment == "票据齐全，同意报销"
    assert row.task_id == "68510002"
    as_utc = events(officemine.import_log(DATA / "dingtalk_instances.json", timezone="UTC"))
    assert one(case(as_utc, "202503100001"), node="财务审核").acted_at == t("2025-03-11 07:40",
                                                                            "UTC")


def test_dingtalk_case_attributes(ding):
    c = case(ding, "202503100001")
    assert set(c.case_id) == {"0f3d6c2e-8a41-4b7e-9f12-2b1c7e5a9d01"}
    assert set(c.process_type) == {"费用报销"}            # from the title 张伟提交的费用报销
    assert set(c.applicant) == {"zhangwei"} and set(c.applicant_dept) == {"市场部"}
    assert set(c.amount) == {1280.5} and set(c.title) == {"张伟提交的费用报销"}
    assert set(case(ding, "202503150007").amount) == {3560.0}     # "¥3,560.00"
    assert case(ding, "202503130005").amount.isna().all()         # 请假: no amount field


def test_dingtalk_operation_types_and_results(ding):
    first = case(ding, "202503100001")
    assert list(zip(first.node, first.outcome)) == [
        ("发起", "submit"), ("部门负责人", "approve"), ("财务审核", "approve"), ("抄送", "cc"),
        ("结束", "archive")]
    assert one(first, outcome="archive").source_row.endswith("operationRecords[4]")
    assert one(first, outcome="cc").resource == "zhaolei"

    refused = case(ding, "202503100002")
    assert refused.outcome.tolist() == ["submit", "approve", "reject"]   # refused: ends here
    assert one(refused, outcome="reject").node == "法务审核"

    withdrawn = case(ding, "202503130005")
    assert withdrawn.outcome.tolist() == ["submit", "withdraw"]
    assert one(withdrawn, outcome="withdraw").comment == "行程取消，撤销申请"


def test_dingtalk_transfer_add_approver_and_return_get_the_right_task(ding):
    sealed = case(ding, "202503110003")
    transfer = one(sealed, outcome="transfer")
    assert (transfer.node, transfer.resource) == ("部门负责人", "lina")
    taken_over = one(sealed, resource="liuyang")
    assert (taken_over.node, taken_over.outcome) == ("部门负责人", "approve")
    assert taken_over.arrived_at == t("2025-03-11 09:30")   # the task made by the transfer
    archive = one(sealed, outcome="archive")                # no end record: from finishTime
    assert archive.acted_at == t("2025-03-11 14:18") and "finishTime" in archive.source_row

    bought = case(ding, "202503120004")
    added = one(bought, outcome="add_approver")
    assert added.acted_at == t("2025-03-12 11:02") and added.comment == "金额超过5万，加签总经理"
    approve = one(bought, resource="lina", outcome="approve")
    assert approve.arrived_at == added.arrived_at == t("2025-03-12 10:00")  # task not ended
    assert one(bought, resource="sunhao").arrived_at == t("2025-03-12 11:03")
    assert one(bought, outcome="comment").node == "评论"

    returned = case(ding, "202503150007")
    assert returned.outcome.tolist() == ["submit", "approve", "return", "approve", "approve",
                                         "archive"]
    again = returned[returned.resource == "lina"].iloc[1]
    assert again.arrived_at == t("2025-03-15 16:00")           # lina's second task
    agent = one(returned, resource="zhoumin")                   # EXECUTE_TASK_AGENT
    assert (agent.node, agent.outcome) == ("财务审核", "approve")
    assert agent.arrived_at == t("2025-03-17 09:40") and agent.task_id == "68510017"


def test_dingtalk_running_task_is_a_pending_row():
    log = officemine.import_log(DATA / "dingtalk_instances.json")
    running = case(events(log), "202503140006")
    assert running.outcome.fillna("-").tolist() == ["submit", "approve", "-"]
    assert running.pending.tolist() == [False, False, True]
    waiting = running.iloc[-1]
    assert waiting.node == "财务审核"      # named from another instance's showName
    assert waiting.resource == "wangfang" and waiting.task_id == "68510013"
    assert waiting.arrived_at == t("2025-03-14 13:10") == waiting.wait_start  # createTime
    assert pd.isna(waiting.acted_at) and waiting.arrival_source == "recorded"
    assert waiting.source_row == "record 6: tasks[1]" and waiting.api_action == "task RUNNING"
    assert set(running.process_type) == {"费用报销"} and set(running.amount) == {460.0}
    assert log.report.open_cases == 1 and log.report.pending_items == 1
    note = next(n for n in log.report.notes if "still waiting" in n)
    assert "财务审核 ×1" in note and "pending rows" in note
    # pm4py gets actions only
    assert len(log.to_pm4py()) == log.n_events - 1


def _ding_variant(tmp_path, change) -> "officemine.EventLog":
    raw = json.loads((DATA / "dingtalk_instances.json").read_text(encoding="utf-8"))
    change(raw[5])                       # 202503140006, the running instance
    path = tmp_path / "dingtalk.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return officemine.import_log(path)


def test_dingtalk_tasks_that_are_not_pending_items(tmp_path):
    def not_started(inst):               # a sequential approver whose turn has not come
        inst["tasks"][1]["status"] = "NEW"
    log = _ding_variant(tmp_path, not_started)
    assert log.report.pending_items == 0 and log.report.rows_read == 30
    assert any("not started" in n and "财务审核 ×1" in n for n in log.report.notes)

    def ended(inst):                     # a task left RUNNING in a terminated instance
        inst["status"] = "TERMINATED"
        inst["finishTime"] = "2025-03-14T07:00Z"
    log = _ding_variant(tmp_path, ended)
    assert log.report.pending_items == 0
    assert case(events(log), "202503140006").outcome.tolist() == ["submit", "approve",
                                                                  "withdraw"]
    assert any("instances that have ended" in n for n in log.report.notes)

    def acted(inst):                     # the record of the decision exists: not pending
        inst["operationRecords"].append({
            "userId": "wangfang", "date": "2025-03-14T08:00Z", "type": "EXECUTE_TASK_NORMAL",
            "result": "AGREE", "showName": "财务审核", "activityId": "b71d_92c0"})
    log = _ding_variant(tmp_path, acted)
    assert log.report.pending_items == 0
    decided = one(case(events(log), "202503140006"), resource="wangfang")
    assert decided.outcome == "approve" and decided.arrived_at == t("2025-03-14 13:10")


def test_dingtalk_paused_task_without_create_time_is_set_aside_not_dropped(tmp_path):
    def paused(inst):
        inst["tasks"][1]["status"] = "PAUSED"
        del inst["tasks"][1]["createTime"]
    log = _ding_variant(tmp_path, paused)
    report = log.report
    assert report.pending_items == 0 and report.balanced and report.rows_read == 31
    assert log.set_aside.reason.tolist() == ["missing_time"]
    assert log.set_aside.source_row.tolist() == ["record 6: tasks[1]"]


def test_dingtalk_topapi_local_times_and_activity_ids():
    df = events(officemine.import_log(DATA / "dingtalk_topapi.json"))
    approve = one(df, resource="lina", outcome="approve")
    assert approve.acted_at == t("2025-03-03 11:42")       # written "2025-03-03 11:42:00"
    assert approve.arrived_at == t("2025-03-03 09:05")
    assert approve.node == "sid-5C2D9E4A"                  # topapi records carry no showName
    assert set(case(df, "202503040012").amount) == {1050.0}
    assert case(df, "202503040012").outcome.tolist() == ["submit", "reject"]


def test_dingtalk_unknown_operation_type_is_set_aside_or_mapped(tmp_path):
    raw = json.loads((DATA / "dingtalk_instances.json").read_text(encoding="utf-8"))
    raw[0]["operationRecords"][3]["type"] = "PROCESS_NOTIFY"
    path = tmp_path / "dingtalk.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")

    log = officemine.import_log(path)
    aside = log.set_aside
    assert aside.reason.tolist() == ["unknown_outcome"]
    assert aside.source_row.iloc[0] == "record 1: operationRecords[3]"
    assert log.report.unknown_outcome_words == {"PROCESS_NOTIFY": 1}

    mapping = tmp_path / "m.toml"
    mapping.write_text('[outcomes]\n"PROCESS_NOTIFY" = "cc"\n', encoding="utf-8")
    mapped = officemine.import_log(path, mapping=mapping)
    assert mapped.report.rows_set_aside == 0
    assert one(case(events(mapped), "202503100001"), resource="zhaolei").outcome == "cc"


def test_an_amount_that_is_not_a_number_does_not_cost_the_case(tmp_path):
    raw = json.loads((DATA / "dingtalk_instances.json").read_text(encoding="utf-8"))
    raw[0]["formComponentValues"][1]["value"] = "见附件"
    path = tmp_path / "dingtalk.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    log = officemine.import_log(path)
    assert log.report.rows_set_aside == 0
    assert case(events(log), "202503100001").amount.isna().all()
    assert any("见附件" in n for n in log.report.notes)


# --- Feishu / Lark -------------------------------------------------------------------------

def test_feishu_millisecond_strings_and_task_arrivals(feishu):
    raw = json.loads((DATA / "feishu_instances.json").read_text(encoding="utf-8"))
    entry = raw[0]["timeline"][2]
    assert entry["type"] == "PASS" and isinstance(entry["create_time"], str)
    row = one(case(feishu, "202503100001"), node="财务审核", outcome="approve")
    assert row.acted_at == pd.Timestamp(int(entry["create_time"]), unit="ms", tz="UTC")
    assert row.acted_at == t("2025-03-11 15:40")
    assert row.arrived_at == t("2025-03-10 10:03") and row.task_id == "7351000002"
    assert row.comment == "票据齐全，同意报销"
    assert set(case(feishu, "202503100001").amount) == {1280.5}
    assert set(case(feishu, "202503100001").process_type) == {"费用报销"}


def test_feishu_timeline_types(feishu):
    first = case(feishu, "202503100001")
    assert list(zip(first.node, first.outcome)) == [
        ("发起", "submit"), ("部门负责人", "approve"), ("评论", "comment"),
        ("财务审核", "approve"), ("抄送", "cc"), ("结束", "archive")]
    assert one(first, outcome="cc").target_users == "zhaolei"
    assert one(first, outcome="comment").comment == "发票已核对，金额无误"

    sealed = case(feishu, "202503110003")
    transfer = one(sealed, outcome="transfer")
    assert transfer.target_users == "liuyang" and transfer.node == "部门负责人"
    assert one(sealed, resource="liuyang").arrived_at == t("2025-03-11 09:30")

    bought = case(feishu, "202503120004")
    assert one(bought, outcome="add_approver").target_users == "sunhao"
    auto = one(bought, outcome="auto_approve")
    assert auto.node == "预算校验" and pd.isna(auto.resource)
    assert one(bought, resource="lina", outcome="approve").arrived_at == t("2025-03-12 10:00")

    assert case(feishu, "202503130005").outcome.tolist() == ["submit", "withdraw"]
    assert case(feishu, "202503100002").outcome.tolist() == ["submit", "approve", "reject"]
    returned = case(feishu, "202503150007")
    assert one(returned, outcome="return").node == "财务审核"
    assert returned[returned.resource == "lina"].arrived_at.tolist() == [
        t("2025-03-15 08:30"), t("2025-03-15 16:00")]


def test_feishu_pending_task_is_a_pending_row():
    log = officemine.import_log(DATA / "feishu_instances.json")
    running = case(events(log), "202503140006")
    assert running.outcome.fillna("-").tolist() == ["submit", "approve", "-"]
    waiting = running.iloc[-1]
    assert waiting.pending and pd.isna(waiting.acted_at)
    assert (waiting.node, waiting.resource, waiting.task_id) == ("财务审核", "wangfang",
                                                                 "7351000014")
    assert waiting.arrived_at == t("2025-03-14 13:10")             # start_time
    assert waiting.source_row == "record 6: task_list[1]"
    assert log.report.open_cases == 1 and log.report.pending_items == 1
    assert any("still waiting" in n and "财务审核 ×1" in n for n in log.report.notes)
    # the three API exports of this running case agree on the item still waiting
    ding = case(events(officemine.import_log(DATA / "dingtalk_instances.json")), "202503140006")
    columns = ["node", "resource", "arrived_at", "wait_start", "pending"]
    pd.testing.assert_frame_equal(running[columns], ding[columns])


def test_feishu_pending_task_of_a_finished_instance_is_not_pending(tmp_path):
    raw = json.loads((DATA / "feishu_instances.json").read_text(encoding="utf-8"))
    raw[5]["status"] = "APPROVED"
    raw[5]["end_time"] = "1741939200000"
    path = tmp_path / "feishu.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    log = officemine.import_log(path)
    assert log.report.pending_items == 0 and log.report.rows_read == 33   # + 结束 archive
    assert any("no longer PENDING" in n for n in log.report.notes)


# --- WeCom ---------------------------------------------------------------------------------

def test_wecom_steps_codes_and_epoch_seconds(wecom_log):
    df = events(wecom_log)
    raw = json.loads((DATA / "wecom_instances.json").read_text(encoding="utf-8"))
    sptime = raw[0]["sp_record"][1]["details"][0]["sptime"]
    row = one(case(df, "202503100001"), node="审批节点2")
    assert row.acted_at == pd.Timestamp(sptime, unit="s", tz="UTC") == t("2025-03-11 15:40")
    assert row.outcome == "approve" and row.comment == "票据齐全，同意报销"
    assert pd.isna(row.arrived_at) and row.arrival_source == "inferred"
    assert row.wait_start == t("2025-03-10 10:03")              # the previous approval
    assert set(case(df, "202503100001").notifyer) == {"zhaolei"}
    assert set(case(df, "202503100001").amount) == {1280.5}
    assert "cc" not in set(df.outcome)                           # 抄送 has no time in WeCom

    sealed = case(df, "202503110003")
    assert list(zip(sealed.node, sealed.outcome, sealed.resource.fillna("-"))) == [
        ("发起", "submit", "wanglei"), ("审批节点1", "transfer", "lina"),
        ("审批节点1", "approve", "liuyang"), ("审批节点2", "approve", "xuming"),
        ("结束", "archive", "-")]

    bought = case(df, "202503120004")
    both = bought[bought.acted_at == t("2025-03-12 11:03")]      # 13 已同意并加签
    assert both.outcome.tolist() == ["add_approver", "approve"]
    assert set(bought[bought.node == "审批节点2"].approver_attr) == {"会签"}

    returned = case(df, "202503150007")
    assert returned.outcome.tolist() == ["submit", "approve", "return", "approve", "transfer",
                                         "approve", "archive"]   # 11, 2, 15, 14
    assert case(df, "202503100002").outcome.tolist() == ["submit", "approve", "reject"]


def test_wecom_withdrawal_without_time_is_set_aside_not_invented(wecom_log):
    aside = wecom_log.set_aside
    assert aside.reason.tolist() == ["missing_time"]
    assert aside.source_row.iloc[0].startswith("record 5: sp_status 4 已撤销")
    withdrawn = case(events(wecom_log), "202503130005")
    assert withdrawn.outcome.tolist() == ["submit"]
    assert wecom_log.report.open_cases == 2                      # withdrawn + still running
    assert any("审批节点2 ×1" in n for n in wecom_log.report.notes)


def test_wecom_steps_can_be_named_by_label_rules():
    log = officemine.import_log(DATA / "wecom_instances.json", mapping=DATA / "wecom_nodes.toml")
    nodes = set(events(log).node)
    assert {"部门负责人", "财务审核", "审批节点3", "发起", "结束"} <= nodes
    assert "审批节点1" not in nodes


def test_dingtalk_without_any_node_information_uses_the_approver(tmp_path):
    raw = json.loads((DATA / "dingtalk_topapi.json").read_text(encoding="utf-8"))
    for item in raw["process_instances"]:
        for task in item["process_instance"]["tasks"]:
            del task["activity_id"]
    path = tmp_path / "topapi.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    log = officemine.import_log(path)
    assert log.report.rows_set_aside == 0
    nodes = case(events(log), "202503030011").node.tolist()
    assert nodes == ["发起", "审批人 lina", "审批人 wangfang", "结束"]
    assert any("审批人 <userid>" in n for n in log.report.notes)
