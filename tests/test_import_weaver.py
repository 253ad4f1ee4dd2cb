"""Weaver (泛微) e-cology workflow-table exports, end to end through `officemine.import_log`.

The fixture export (tests/data/weaver, written by make_fixtures.py there) holds 8 requests of
费用报销 and 发文 with returns, 转办, 转发 + 批注, 抄送, 督办, a forced archive, an open
request with an item waiting and an unread copy (pending rows from workflow_currentoperator),
an unread copy in an archived request, a row with a day-first date and a row with an unknown
LOGTYPE.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import officemine
from officemine import ColumnGuessError, Mapping, MappingError, SourceError
from officemine.importing import detect_format

DATA = Path(__file__).parent / "data" / "weaver"
EXPORT = DATA / "export"
LOG_ONLY = DATA / "log_only"
TZ = "Asia/Shanghai"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def by_row(log) -> pd.DataFrame:
    return log.to_pandas().set_index("source_row")


@pytest.fixture(scope="module")
def full_log():
    return officemine.import_log(EXPORT)


# Events written as data: source row -> expected canonical values.
EXPECTED = {
    "workflow_requestlog row 2": dict(case_id="3001", node="填写报销单", outcome="other",
                                      resource="张伟", dept="市场部", comment=None,
                                      arrived_at="2024-03-04 09:12:05",
                                      acted_at="2024-03-04 09:14:00"),
    "workflow_requestlog row 3": dict(case_id="3001", node="填写报销单", outcome="submit",
                                      resource="张伟", dept="市场部",
                                      comment="申请报销上海出差费用，请审批。",
                                      arrived_at="2024-03-04 09:12:05",
                                      acted_at="2024-03-04 09:15:40"),
    # 提交 at the 出纳付款 processing node passes the request on: approve, not a resubmit
    "workflow_requestlog row 16": dict(case_id="3001", node="出纳付款", outcome="approve",
                                       resource="陈静", dept="财务部", comment="已付款",
                                       arrived_at="2024-03-05 10:30:00",
                                       acted_at="2024-03-06 16:45:12"),
    "workflow_requestlog row 13": dict(case_id="3002", node="财务审核", outcome="return",
                                       resource="李娜", dept="财务部",
                                       comment="发票抬头有误，请重新开具后提交。",
                                       arrived_at="2024-03-05 11:20:00",
                                       acted_at="2024-03-06 09:40:00"),
    "workflow_requestlog row 19": dict(case_id="3002", node="填写报销单", outcome="resubmit",
                                       resource="杨磊", dept="研发中心", comment="已重新开具发票",
                                       arrived_at="2024-03-06 09:40:00",
                                       acted_at="2024-03-07 15:10:00"),
    # second round at 部门经理审批: the second receipt, not the first (2024-03-05 09:01:30)
    "workflow_requestlog row 22": dict(case_id="3002", node="部门经理审批", outcome="approve",
                                       resource="赵敏", dept="研发中心", comment="同意",
                                       arrived_at="2024-03-07 15:10:00",
                                       acted_at="2024-03-08 09:05:00"),
    # approved from the phone: the "来自iPhone客户端" signature is not part of the opinion
    "workflow_requestlog row 30": dict(case_id="3002", node="总经理审批", outcome="approve",
                                       resource="刘洋", dept="总经理办公室", comment="同意",
                                       arrived_at="2024-03-08 13:30:00",
                                       acted_at="2024-03-11 10:00:00"),
    "workflow_requestlog row 21": dict(case_id="3003", node="财务审核", outcome="transfer",
                                       resource="李娜", dept="财务部",
                                       comment="本人休假，转黄经理处理",
                                       arrived_at="2024-03-07 17:30:00",
                                       acted_at="2024-03-08 09:00:00"),
    "workflow_requestlog row 25": dict(case_id="3003", node="财务审核", outcome="approve",
                                       resource="黄涛", dept="财务部", comment="同意 请出纳付款",
                                       arrived_at="2024-03-08 09:00:00",
                                       acted_at="2024-03-08 11:15:00"),
    "workflow_requestlog row 11": dict(case_id="3005", node="部门负责人核稿", outcome="remind",
                                       resource="吴刚", dept="总经理办公室", comment="请尽快核稿",
                                       arrived_at=None, acted_at="2024-03-05 16:00:00"),
    "workflow_requestlog row 15": dict(case_id="3005", node="编号用印", outcome="cc",
                                       resource="王芳", dept="市场部", comment=None,
                                       arrived_at="2024-03-06 11:00:00",
                                       acted_at="2024-03-06 15:30:00"),
    "workflow_requestlog row 24": dict(case_id="3006", node="部门负责人核稿", outcome="cc",
                                       resource="周强", dept="行政办公室",
                                       comment="请研发中心阅知并提意见",
                                       arrived_at="2024-03-08 09:30:00",
                                       acted_at="2024-03-08 10:00:00"),
    # &lt;br&gt; stored escaped inside the HTML becomes a line break
    "workflow_requestlog row 27": dict(case_id="3006", node="部门负责人核稿", outcome="comment",
                                       resource="赵敏", dept="研发中心",
                                       comment="第三条技术评审流程建议补充\n其余无意见",
                                       arrived_at="2024-03-08 10:00:00",
                                       acted_at="2024-03-08 14:00:00"),
    # handwritten-signature image removed
    "workflow_requestlog row 37": dict(case_id="3006", node="领导签发", outcome="approve",
                                       resource="吴刚", dept="总经理办公室", comment="同意",
                                       arrived_at="2024-03-12 11:00:00",
                                       acted_at="2024-03-13 09:00:00"),
    # forced archive by the system administrator (id 1, not in HrmResource)
    "workflow_requestlog row 44": dict(case_id="3007", node="领导签发", outcome="archive",
                                       resource="1", dept="行政办公室",
                                       comment="会议取消，强制归档", arrived_at=None,
                                       acted_at="2024-03-14 17:30:00"),
    # Weaver logs nothing at the archive node: the event comes from workflow_requestbase
    "workflow_requestbase row 2": dict(case_id="3001", node="归档", outcome="archive",
                                       resource=None, dept=None, comment=None, arrived_at=None,
                                       acted_at="2024-03-06 16:45:12"),
    # received, not acted on at export (ISREMARK 0 未操作): a pending item, no outcome yet
    "workflow_currentoperator row 24": dict(case_id="3004", node="财务审核", outcome=None,
                                            resource="李娜", dept="财务部", comment=None,
                                            arrived_at="2024-03-12 10:00:00", acted_at=None,
                                            pending=True, title="差旅费报销-杨磊-北京"),
    # an unread copy (ISREMARK 8 抄送) of the open request: pending, cc, not blocking
    "workflow_currentoperator row 48": dict(case_id="3004", node="部门经理审批", outcome="cc",
                                            resource="刘洋", dept="总经理办公室", comment=None,
                                            arrived_at="2024-03-12 10:00:00", acted_at=None,
                                            pending=True, process_type="费用报销"),
}


@pytest.mark.parametrize("row", sorted(EXPECTED))
def test_folder_import_gives_the_expected_events(full_log, row):
    event = by_row(full_log).loc[row]
    for column, expected in EXPECTED[row].items():
        value = event[column]
        if expected is None:
            assert pd.isna(value), (row, column, value)
        elif column in ("arrived_at", "acted_at"):
            assert value == ts(expected), (row, column, value)
        else:
            assert value == expected, (row, column, value)
    assert (event["arrival_source"] == "recorded") == (EXPECTED[row]["arrived_at"] is not None)
    assert event["pending"] == EXPECTED[row].get("pending", False)


def test_accounting_cases_and_set_aside_rows(full_log):
    report = full_log.report
    # 43 log rows + 6 archive events derived from workflow_requestbase + 2 pending items
    # from workflow_currentoperator (a pending row is read and accepted)
    assert report.rows_read == 51
    assert report.rows_accepted == 49 and report.rows_set_aside == 2 and report.balanced
    assert full_log.n_events == 49
    assert report.cases == 8
    assert report.open_cases == 1                    # 3004, waiting at 财务审核
    assert report.pending_items == 2                 # 李娜 at 财务审核, 刘洋's unread copy
    assert report.set_aside_by_reason == {"unparseable_time": 1, "unknown_outcome": 1}
    aside = full_log.set_aside.set_index("source_row")
    assert aside.loc["workflow_requestlog row 39", "reason"] == "unparseable_time"
    assert aside.loc["workflow_requestlog row 39", "detail"] == "2024-13-03 11:00:00"
    assert aside.loc["workflow_requestlog row 40", "reason"] == "unknown_outcome"
    assert aside.loc["workflow_requestlog row 40", "detail"] == "x"
    assert report.unknown_outcome_words == {"x": 1}
    assert report.format == "weaver"
    assert report.outcome_counts["archive"] == 7    # 6 derived + 1 强制归档
    assert report.outcome_counts["resubmit"] == 2   # 3002 and 3006, after their returns
    assert report.outcome_counts["cc"] == 3         # 转发, 抄送 read, 抄送 still unread


def test_cases_end_right_and_carry_their_attributes(full_log):
    df = full_log.to_pandas()
    acted = df[~df.pending]
    last = acted.groupby("case_id")["outcome"].last()
    assert last["3004"] == "approve"                                 # open
    assert df.groupby("case_id")["pending"].sum().to_dict() == {
        "3001": 0, "3002": 0, "3003": 0, "3004": 2, "3005": 0, "3006": 0, "3007": 0, "3008": 0}
    assert df[df.case_id == "3004"]["pending"].tolist() == [False, False, True, True]
    assert (last.drop("3004") == "archive").all()
    assert (df.groupby("case_id")["outcome"].apply(lambda s: (s == "archive").sum()) <= 1).all()
    attrs = df.drop_duplicates("case_id").set_index("case_id")
    assert attrs.loc["3005", "process_type"] == "发文"
    assert attrs.loc["3005", "title"] == "关于开展2024年度安全生产检查的通知"
    assert attrs.loc["3005", "applicant"] == "孙丽"
    assert attrs.loc["3005", "applicant_dept"] == "行政办公室"
    assert attrs.loc["3005", "urgency"] == "紧急"
    assert attrs.loc["3002", "urgency"] == "重要"
    assert attrs.loc["3001", "process_type"] == "费用报销"
    # 3002 in order: submit, approve, return, resubmit, approve ×4, archive
    assert df[df.case_id == "3002"]["outcome"].tolist() == [
        "submit", "approve", "return", "resubmit", "approve", "approve", "approve", "approve",
        "archive"]


def test_import_report_says_what_it_assumed(full_log):
    notes = " | ".join(full_log.report.notes)
    assert "workflow_currentoperator" in notes and "40 of 43" in notes
    assert "6 archive events added" in notes
    assert "2 work items received and not acted on at export (ISREMARK 0 ×1, ISREMARK 8 ×1)" \
        in notes
    assert "1 in finished requests" in notes             # 王芳's unread copy of 3006
    assert "HrmResourceManager" in notes                 # the admin id 1 is explained
    used = full_log.report.columns_used
    assert used["acted_at"] == "OPERATEDATE + OPERATETIME"
    assert used["arrived_at"] == "workflow_currentoperator.RECEIVEDATE + RECEIVETIME"
    assert used["node"] == "NODEID → workflow_nodebase.NODENAME"


def test_single_file_uses_the_companions_beside_it(full_log):
    log = officemine.import_log(EXPORT / "workflow_requestlog.csv")
    a, b = log.to_pandas(), full_log.to_pandas()
    pd.testing.assert_frame_equal(a.drop(columns="source_file"), b.drop(columns="source_file"))
    assert log.report.rows_read == full_log.report.rows_read


def test_without_companions_ids_stand_for_names_and_arrivals_are_inferred():
    log = officemine.import_log(LOG_ONLY)
    report = log.report
    assert report.rows_read == 43 and report.rows_accepted == 41 and report.balanced
    assert report.arrivals_recorded == 0
    notes = " | ".join(report.notes)
    assert "no workflow_currentoperator" in notes
    assert "节点<NODEID>" in notes
    assert "finished requests cannot be told from open ones" in notes
    assert report.open_cases == 7                   # only the forced archive looks finished
    df = by_row(log)
    zm = df.loc["workflow_requestlog row 27"]
    assert (zm["node"], zm["resource"], zm["dept"]) == ("节点1022", "207", "14")
    assert zm["process_type"] == "工作流102"
    # 转发 (cc) does not move the request: the wait starts at the submit before it
    assert zm["arrival_source"] == "inferred" and zm["wait_start"] == ts("2024-03-08 09:30:00")
    submit = df.loc["workflow_requestlog row 3"]   # inferred from the draft save before it
    assert submit["outcome"] == "submit" and submit["wait_start"] == ts("2024-03-04 09:14:00")
    # the start node is found without workflow_nodebase: 提交 elsewhere is still approve
    assert df.loc["workflow_requestlog row 16", "outcome"] == "approve"
    assert df.loc["workflow_requestlog row 19", "outcome"] == "resubmit"


def test_nodebase_alone_marks_requests_that_reached_an_end_node(tmp_path):
    for name in ("workflow_requestlog.csv", "workflow_nodebase.csv"):
        shutil.copy(EXPORT / name, tmp_path / name)
    log = officemine.import_log(tmp_path)
    assert log.report.rows_read == 49 and log.report.open_cases == 1
    archive = by_row(log).loc["workflow_requestlog row 16 (DESTNODEID 1016 is an end node)"]
    assert (archive["case_id"], archive["node"], archive["outcome"]) == ("3001", "归档", "archive")
    assert archive["acted_at"] == ts("2024-03-06 16:45:12")


def test_utf8_bom_export_with_lower_case_headers_reads_the_same(tmp_path, full_log):
    for path in EXPORT.iterdir():
        shutil.copy(path, tmp_path / path.name.lower())
    text = (EXPORT / "workflow_requestlog.csv").read_bytes().decode("gbk")
    header, rest = text.split("\r\n", 1)
    (tmp_path / "workflow_requestlog.csv").write_bytes(
        (header.lower() + "\r\n" + rest).encode("utf-8-sig"))
    log = officemine.import_log(tmp_path)
    cols = ["case_id", "node", "outcome", "resource", "dept", "acted_at", "arrived_at",
            "comment", "title"]
    pd.testing.assert_frame_equal(log.to_pandas()[cols], full_log.to_pandas()[cols])
    assert "utf-8-sig" in log.report.notes[0]


def test_a_mapping_can_give_unknown_codes_an_outcome():
    mapping = Mapping.from_dict({"outcomes": {"x": "auto_approve"}})
    log = officemine.import_log(EXPORT, mapping=mapping)
    assert log.report.set_aside_by_reason == {"unparseable_time": 1}
    event = by_row(log).loc["workflow_requestlog row 40"]
    assert (event["outcome"], event["resource"]) == ("auto_approve", "李娜")


def test_auto_detection_picks_weaver():
    assert detect_format(EXPORT) == "weaver"
    assert detect_format(EXPORT / "workflow_requestlog.csv") == "weaver"
    assert detect_format(LOG_ONLY) == "weaver"


def test_parquet_round_trip(full_log, tmp_path):
    path = full_log.write(tmp_path / "x.parquet")
    back = officemine.read_log(path)
    a, b = back.to_pandas(), full_log.to_pandas()
    assert back.n_events == 49 and back.report.pending_items == 2
    pd.testing.assert_frame_equal(a[["case_id", "node", "outcome", "resource", "acted_at",
                                     "arrived_at", "comment"]],
                                  b[["case_id", "node", "outcome", "resource", "acted_at",
                                     "arrived_at", "comment"]])
    assert back.report.rows_read == 51 and back.report.open_cases == 1
    assert (tmp_path / "x.set_aside.csv").exists()


def test_folder_without_a_request_log_is_refused(tmp_path):
    shutil.copy(EXPORT / "workflow_nodebase.csv", tmp_path / "workflow_nodebase.csv")
    (tmp_path / "workflow_requestlogatinfo.csv").write_text("ID,REQUESTID\n1,3001\n")
    with pytest.raises(SourceError, match="no workflow_requestlog.csv"):
        officemine.import_log(tmp_path, format="weaver")


def test_request_log_without_logtype_names_the_missing_column(tmp_path):
    text = (EXPORT / "workflow_requestlog.csv").read_bytes().decode("gbk")
    (tmp_path / "workflow_requestlog.csv").write_text(text.replace("LOGTYPE", "LOG_TYPE", 1),
                                                      encoding="utf-8")
    with pytest.raises(ColumnGuessError, match="LOGTYPE") as info:
        officemine.import_log(tmp_path)
    assert info.value.column == "LOGTYPE"


def test_a_mapping_can_name_the_opinion_column(tmp_path):
    # Oracle systems upgraded from old versions kept the opinion as REMARK1 beside a new REMARK
    text = (EXPORT / "workflow_requestlog.csv").read_bytes().decode("gbk")
    (tmp_path / "workflow_requestlog.csv").write_bytes(
        text.replace(",REMARK,", ",REMARK1,", 1).encode("gbk"))
    assert officemine.import_log(tmp_path).to_pandas()["comment"].isna().all()
    log = officemine.import_log(tmp_path, mapping=Mapping.from_dict(
        {"columns": {"comment": "REMARK1"}}))
    assert by_row(log).loc["workflow_requestlog row 30", "comment"] == "同意"
    assert log.report.columns_used["comment"] == "REMARK1 (mapping)"


def test_a_broken_log_line_is_set_aside_with_its_row_number(tmp_path):
    text = (EXPORT / "workflow_requestlog.csv").read_bytes().decode("gbk")
    broken = text + "3009,101,1011,2,2024-03-15,09:00:00,201,<p>申请</p>\r\n"   # cut short
    (tmp_path / "workflow_requestlog.csv").write_bytes(broken.encode("gbk"))
    log = officemine.import_log(tmp_path)
    assert log.report.rows_read == 44 and log.report.balanced
    aside = log.set_aside.set_index("source_row")
    assert aside.loc["workflow_requestlog row 45", "reason"] == "malformed_record"


# --- pending work items ----------------------------------------------------------------------

def _operators(tmp_path: Path, edit) -> Path:
    """A copy of the export whose workflow_currentoperator rows are edited (id -> changes)."""
    for path in EXPORT.iterdir():
        shutil.copy(path, tmp_path / path.name)
    table = pd.read_csv(EXPORT / "workflow_currentoperator.csv", dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    for row_id, changes in edit.items():
        for column, value in changes.items():
            table.loc[table["id"] == row_id, column] = value
    table.to_csv(tmp_path / "workflow_currentoperator.csv", index=False, encoding="utf-8-sig")
    return tmp_path


def _pending(log) -> list[tuple[str, str, str]]:
    df = log.to_pandas()
    return sorted(zip(df[df.pending].case_id, df[df.pending].node, df[df.pending].resource))


BASE = [("3004", "财务审核", "李娜"), ("3004", "部门经理审批", "刘洋")]


def test_a_receipt_settled_by_a_later_operation_is_not_pending(tmp_path):
    # 赵敏's receipt at 部门经理审批 left at 未操作, though she approved right after
    log = officemine.import_log(_operators(tmp_path, {"50022": {"isremark": "0"}}))
    assert _pending(log) == BASE
    assert "1 settled by a later operation" in " | ".join(log.report.notes)


def test_a_draft_save_or_a_forward_does_not_settle_a_receipt(tmp_path):
    # 李娜 saves a draft opinion (1) and forwards the request for reading (7) while 3004 waits
    # at 财务审核: she still holds the item, so it stays pending; a 批准 would settle it
    export = _operators(tmp_path, {})
    text = (EXPORT / "workflow_requestlog.csv").read_bytes().decode("gbk")
    header = text.split("\r\n", 1)[0].split(",")

    def line(logtype: str, time: str) -> str:
        values = dict.fromkeys(header, "")
        values.update(REQUESTID="3004", WORKFLOWID="101", NODEID="1013", LOGTYPE=logtype,
                      OPERATEDATE="2024-03-12", OPERATETIME=time, OPERATOR="203",
                      OPERATORDEPT="11")
        return ",".join(values[h] for h in header) + "\r\n"

    (export / "workflow_requestlog.csv").write_bytes(
        (text + line("1", "15:00:00") + line("7", "15:05:00")).encode("gbk"))
    log = officemine.import_log(export)
    assert log.report.rows_read == 51 + 2 and log.report.rows_set_aside == 2
    assert _pending(log) == BASE
    (export / "workflow_requestlog.csv").write_bytes((text + line("0", "16:00:00")).encode("gbk"))
    assert _pending(officemine.import_log(export)) == BASE[1:]


@pytest.mark.parametrize("column, value", [("takisremark", "-2"), ("iscomplete", "1"),
                                           ("islasttimes", "0"), ("isremark", "2"),
                                           ("isremark", "4")])
def test_receipts_e_cology_lists_as_done_are_not_pending(tmp_path, column, value):
    export = _operators(tmp_path, {"50023": {column: value}})
    assert _pending(officemine.import_log(export)) == BASE[1:]


@pytest.mark.parametrize("code, outcome", [("5", None), ("9", "cc"), ("1", "cc"), ("7", "-")])
def test_which_isremark_codes_are_pending_and_how(tmp_path, code, outcome):
    log = officemine.import_log(_operators(tmp_path, {"50023": {"isremark": code}}))
    df = by_row(log)
    row = "workflow_currentoperator row 24"
    if outcome == "-":                                # not a code read as waiting
        assert row not in df.index
        return
    assert df.loc[row, "pending"]
    assert (pd.isna(df.loc[row, "outcome"]) if outcome is None
            else df.loc[row, "outcome"] == outcome)


def test_no_pending_rows_for_finished_requests_or_without_isremark(tmp_path):
    # 3004 archived: nothing waits in it any more
    export = _operators(tmp_path, {})
    requests = pd.read_csv(export / "workflow_requestbase.csv", dtype=str, keep_default_na=False)
    requests.loc[requests["REQUESTID"] == "3004", "CURRENTNODETYPE"] = "3"
    requests.to_csv(export / "workflow_requestbase.csv", index=False)
    log = officemine.import_log(export)
    assert log.report.pending_items == 0 and log.report.balanced
    assert "3 in finished requests" in " | ".join(log.report.notes)

    table = pd.read_csv(EXPORT / "workflow_currentoperator.csv", dtype=str,
                        keep_default_na=False, encoding="utf-8-sig")
    table.drop(columns="isremark").to_csv(export / "workflow_currentoperator.csv", index=False)
    shutil.copy(EXPORT / "workflow_requestbase.csv", export / "workflow_requestbase.csv")
    log = officemine.import_log(export)
    assert log.report.pending_items == 0 and log.report.rows_read == 49
    assert any("no ISREMARK column" in n for n in log.report.notes)


def test_pending_items_are_censored_waits_and_stay_out_of_pm4py(full_log):
    from officemine.log.relations import work_items

    items = work_items(full_log)
    waiting = items[~items.observed]
    # the unread copy does not hold the request up: only 李娜's item is a censored wait
    assert waiting[["case_id", "node", "resource"]].values.tolist() == [["3004", "财务审核",
                                                                        "李娜"]]
    assert waiting.visit_start.iloc[0] == ts("2024-03-12 10:00:00")
    assert len(full_log.to_pm4py()) == full_log.n_events - 2


# --- form tables (formtable_main_N) ------------------------------------------------------------

#: The 费用报销 form (workflow_base FORMID -111) as a database client exports it: database
#: field names, the applicant (sqr) a HrmResource id, the amount (bxje, 报销金额) with a
#: thousands separator on one row. 3004 (open) has its row; 3008 has none.
EXPENSE_FORM = ("id,requestId,sqr,sqrq,bxje,sy,fylx\r\n"
                "1,3001,201,2024-03-04,\"3,280.00\",上海客户拜访,差旅费\r\n"
                "2,3002,206,2024-03-05,12800.50,测试设备采购,设备费\r\n"
                "3,3003,201,2024-03-07,960,市场活动物料,物料费\r\n"
                "4,3004,206,2024-03-12,4500,北京出差,差旅费\r\n")
#: The 发文 form (FORMID -112) exported with its field labels as headers, in GBK: 3007 has no
#: row; 3006's amount is empty.
DOC_FORM = ("ID,请求ID,标题,金额,紧急程度,申请人\r\n"
            "1,3005,关于安全生产检查的通知,1200,特急,208\r\n"
            "2,3006,关于研发项目管理办法的通知,,平急,208\r\n")


def _with_forms(tmp_path: Path, forms: dict[str, str], drop: tuple[str, ...] = ()) -> Path:
    """A copy of the export with form tables added (name -> CSV text; names ending in
    ``_gbk`` are written in GBK) and companion tables left out."""
    tmp_path.mkdir(exist_ok=True)
    for path in EXPORT.iterdir():
        if path.stem not in drop:
            shutil.copy(path, tmp_path / path.name)
    for name, text in forms.items():
        gbk = name.endswith("_gbk")
        (tmp_path / f"{name.removesuffix('_gbk')}.csv").write_bytes(
            text.encode("gbk") if gbk else text.encode("utf-8-sig"))
    return tmp_path


def _attributes(log, column: str) -> dict:
    """Each case's value of a case attribute; every row of a case must carry the same."""
    df = log.to_pandas()
    per_case = df.groupby("case_id")[column].agg(lambda s: tuple(s.astype(object).unique()))
    assert (per_case.map(len) == 1).all(), per_case[per_case.map(len) != 1]
    return {case: None if pd.isna(v[0]) else v[0] for case, v in per_case.items()}


@pytest.fixture(scope="module")
def forms_log(tmp_path_factory):
    folder = _with_forms(tmp_path_factory.mktemp("forms"), {
        "formtable_main_111": EXPENSE_FORM, "formtable_main_112_gbk": DOC_FORM,
        # a detail table: several rows per request (line items); not read
        "formtable_main_111_dt1": "id,mainid,requestId,fyxm,je\r\n1,1,3001,机票,2100\r\n"
                                  "2,1,3001,住宿,1180\r\n"})
    return officemine.import_log(folder)


def test_the_amount_is_joined_from_two_forms_by_request_id(forms_log):
    assert _attributes(forms_log, "amount") == {
        "3001": 3280.0, "3002": 12800.5, "3003": 960.0, "3004": 4500.0, "3005": 1200.0,
        "3006": None, "3007": None, "3008": None}
    report = forms_log.report
    assert report.columns_used["amount"] == \
        "formtable_main_111.bxje, formtable_main_112.金额 (by REQUESTID)"
    # form values add no rows: the accounting is the export's without forms
    assert (report.rows_read, report.rows_accepted, report.rows_set_aside) == (51, 49, 2)
    df = by_row(forms_log)
    assert df.loc["workflow_requestlog row 3", "weaver_form"] == "formtable_main_111 row 2"
    assert df.loc["workflow_currentoperator row 24", "amount"] == 4500.0   # a pending row too
    assert df.loc["workflow_requestbase row 2", "amount"] == 3280.0        # an archive event


def test_a_chinese_headed_form_is_read_and_requestbase_keeps_its_own_fields(forms_log):
    # 3005's amount comes from the 金额 column keyed by 请求ID (GBK); title, urgency and
    # applicant stay workflow_requestbase's: REQUESTNAME, REQUESTLEVEL 2, CREATER
    attrs = forms_log.to_pandas().drop_duplicates("case_id").set_index("case_id")
    assert attrs.loc["3005", "amount"] == 1200.0
    assert (attrs.loc["3005", "title"], attrs.loc["3005", "urgency"]) == (
        "关于开展2024年度安全生产检查的通知", "紧急")
    # unknown fields are not carried into the log unless the mapping asks
    for field in ("sy", "fylx", "sqrq", "标题", "紧急程度", "申请人"):
        assert field not in attrs.columns


def test_without_requestbase_the_forms_give_title_urgency_and_applicant(tmp_path):
    log = officemine.import_log(_with_forms(
        tmp_path, {"formtable_main_111": EXPENSE_FORM, "formtable_main_112_gbk": DOC_FORM},
        drop=("workflow_requestbase",)))
    attrs = log.to_pandas().drop_duplicates("case_id").set_index("case_id")
    assert tuple(attrs.loc["3005", ["title", "urgency", "applicant", "applicant_dept"]]) == (
        "关于安全生产检查的通知", "特急", "孙丽", "行政办公室")
    # pinyin field names: sqr (申请人) is the applicant's HrmResource id; sy (事由? 使用?) is
    # not guessed, so the expense requests have no title
    assert tuple(attrs.loc["3002", ["applicant", "applicant_dept", "amount"]]) == (
        "杨磊", "研发中心", 12800.5)
    assert attrs["title"].isna().sum() == 6
    used = log.report.columns_used
    assert used["title"] == "formtable_main_112.标题 (by REQUESTID)"
    assert used["applicant"] == "formtable_main_111.sqr, formtable_main_112.申请人 (by REQUESTID)"
    assert used["applicant_dept"] == "the applicant's HrmResource.DEPARTMENTID (by REQUESTID)"


def test_requests_without_a_form_row_have_no_amount_and_are_counted(forms_log):
    notes = " | ".join(forms_log.report.notes)
    assert ("form values joined by REQUESTID from 2 form tables (formtable_main_111, "
            "formtable_main_112) for 6 of 8 requests; 2 requests have no row in any form "
            "table, so no form values (no amount): 3007, 3008") in notes
    assert "formtable_main_111_dt1.csv: form detail tables" in notes
    # and an export without forms says what it lacks
    assert "formtable_main_N (the forms: no amount)" in " | ".join(
        officemine.import_log(EXPORT).report.notes)


def test_a_mapping_names_the_amount_field_where_two_could_be_it(tmp_path):
    # a form with both 报销金额 (bxje) and 合计金额 (hjje): the importer does not guess
    two = ("id,requestId,sqr,bxje,HJJE\r\n"
           "1,3001,201,\"3,280.00\",3300\r\n"
           "2,3002,206,12800.50,12800.50\r\n")
    folder = _with_forms(tmp_path, {"formtable_main_111": two, "formtable_main_112_gbk": DOC_FORM})
    with pytest.raises(ColumnGuessError, match=r"formtable_main_111.csv could be amount: "
                                               r"\['bxje', 'HJJE'\]") as info:
        officemine.import_log(folder)
    assert info.value.file.endswith("formtable_main_111.csv") and info.value.column == "bxje"
    log = officemine.import_log(folder, mapping=Mapping.from_dict(
        {"columns": {"amount": "hjje"}}))        # letter case does not matter
    amounts = _attributes(log, "amount")
    assert (amounts["3001"], amounts["3005"]) == (3300.0, 1200.0)   # 金额 still found in 112
    assert log.report.columns_used["amount"] == \
        "formtable_main_111.HJJE (mapping), formtable_main_112.金额 (by REQUESTID)"


def test_a_request_twice_in_the_forms_is_refused_with_file_and_row(tmp_path):
    twice = EXPENSE_FORM + "5,3002,206,2024-03-05,12800.50,测试设备采购,设备费\r\n"
    folder = _with_forms(tmp_path, {"formtable_main_111": twice})
    with pytest.raises(SourceError, match=r"request 3002 has 2 form rows \(formtable_main_111 "
                                          r"row 3, formtable_main_111 row 6\)") as info:
        officemine.import_log(folder)
    assert (Path(info.value.file).name, info.value.row, info.value.column) == (
        "formtable_main_111.csv", 6, "REQUESTID")
    # the same request in two forms
    other = "ID,请求ID,金额\r\n1,3001,50\r\n"
    folder = _with_forms(tmp_path / "two", {"formtable_main_111": EXPENSE_FORM,
                                            "formtable_main_112_gbk": other})
    with pytest.raises(SourceError, match="request 3001 has 2 form rows") as info:
        officemine.import_log(folder)
    assert (Path(info.value.file).name, info.value.row) == ("formtable_main_112.csv", 2)


def test_a_bad_amount_sets_the_requests_events_aside_naming_the_form_row(tmp_path):
    bad = EXPENSE_FORM.replace("3003,201,2024-03-07,960,", "3003,201,2024-03-07,九百六,")
    log = officemine.import_log(_with_forms(tmp_path, {"formtable_main_111": bad}))
    report = log.report
    assert report.balanced and report.rows_read == 51
    aside = log.set_aside[log.set_aside["reason"] == "bad_amount"]
    # every event of 3003 (5 log rows and its archive event), as for a CSV export
    assert len(aside) == 6 == report.set_aside_by_reason["bad_amount"]
    assert set(aside["case_id"]) == {"3003"}
    assert set(aside["column"]) == {"amount"} and set(aside["detail"]) == {"九百六"}
    assert set(aside["weaver_form"]) == {"formtable_main_111 row 4"}
    assert report.columns_used["amount"] == "formtable_main_111.bxje (by REQUESTID)"
    assert "3003" not in set(log.to_pandas()["case_id"])


def test_form_fields_the_mapping_names_are_kept(tmp_path):
    folder = _with_forms(tmp_path, {"formtable_main_111": EXPENSE_FORM,
                                    "formtable_main_112_gbk": DOC_FORM})
    log = officemine.import_log(folder, mapping=Mapping.from_dict({"form_fields": ["fylx"]}))
    assert _attributes(log, "fylx") == {"3001": "差旅费", "3002": "设备费", "3003": "物料费",
                                        "3004": "差旅费", "3005": None, "3006": None,
                                        "3007": None, "3008": None}
    assert "sy" not in log.to_pandas().columns
    # a field [linking] compares is kept so that linking can read it
    linked = officemine.import_log(folder, mapping=Mapping.from_dict(
        {"linking": {"match": ["title", "fylx"]}}))
    assert _attributes(linked, "fylx")["3002"] == "设备费"
    assert any("process type and title, fylx" in n for n in linked.report.notes)
    with pytest.raises(ColumnGuessError, match=r"form_fields names \['xmbh'\], which no form "
                                               r"table has \(formtable_main_111: id, sqr, sqrq"):
        officemine.import_log(folder, mapping=Mapping.from_dict({"form_fields": ["xmbh"]}))
    with pytest.raises(MappingError, match="form_fields must be a list"):
        Mapping.from_dict({"form_fields": "fylx"})
