"""Hostile and malformed files: the importer either imports with balanced counts or raises a
clear `OfficemineError`; nothing else escapes and no row disappears."""

import csv
import datetime as dt
import io
import json
import re
import string
from xml.sax.saxutils import quoteattr

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import officemine
from officemine import OfficemineError, SourceError

# An exception Arrow cannot raise from its callbacks shows only as this warning: a failure.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
# A hang or a blow-up fails the example (small inputs: each takes well under a second).
BOUNDED = dict(deadline=dt.timedelta(seconds=10),
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])


def import_or_refuse(path, **kwargs):
    """The log, its rows balanced; or None after one clear error naming the file."""
    try:
        log = officemine.import_log(path, **kwargs)
    except OfficemineError as exc:
        assert str(exc)
        if isinstance(exc, SourceError):
            assert exc.file and path.name in str(exc)
        return None
    report = log.report
    assert report.rows_read == report.rows_accepted + report.rows_set_aside
    assert report.rows_accepted == log.n_events
    assert len(log.set_aside) == report.rows_set_aside
    return log

HEADERS = ["请求ID", "节点名称", "操作类型", "操作人", "操作时间", "接收时间", "金额", "签字意见",
           "case_id", "node", "outcome", "acted_at", "", "请求ID"]
VALUES = st.one_of(
    st.sampled_from(["同意", "退回", "提交", "驳回", "盖章", "", "2025/3/5 9:05", "2025年3月5日",
                     "45721.5", "1741136700", "9999-99-99", "R1", "R2", "张三", "1,200", "十万",
                     "=cmd|' /C calc'!A0", "\"", "a,b", "\n", "NaN", "null"]),
    st.text(alphabet=string.printable + "中文审批节点退回同意，。", max_size=12),
)
ROW = st.lists(VALUES, min_size=0, max_size=9)


def render(header, rows, sep):
    def cell(v):
        return '"' + v.replace('"', '""') + '"' if (sep in v or '"' in v or "\n" in v) else v
    lines = [sep.join(cell(h) for h in header)] + [sep.join(cell(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, **BOUNDED)
@given(header=st.lists(st.sampled_from(HEADERS), min_size=0, max_size=8),
       rows=st.lists(ROW, max_size=12),
       sep=st.sampled_from([",", "\t", ";"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
       garbage=st.binary(max_size=6))
def test_no_input_crashes_the_importer_and_counts_balance(tmp_path, header, rows, sep,
                                                          encoding, garbage):
    text = render(header, rows, sep)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = tmp_path / "hostile.csv"
    path.write_bytes(data + garbage)
    import_or_refuse(path)


@settings(max_examples=40, **BOUNDED)
@given(data=st.binary(max_size=300))
def test_random_bytes_under_any_extension(tmp_path, data):
    for name in ("x.csv", "x.xlsx", "x.xes", "x.json"):
        path = tmp_path / name
        path.write_bytes(data)
        import_or_refuse(path)


# --- well-formed CSV: every row written is read, set aside, or an empty row noted ----------

CELLS = st.one_of(
    st.sampled_from(["R1", "R2", "审核", "同意", "退回", "", "2025/3/5 9:05", "2025030509",
                     "3025-01-01 00:00", "0001-01-01", "1e309", "1,200", "部门\u200b审核",
                     "a\\nb", "x,y,z,w,v,u", "\u2060", " ", '"', "\r\n"]),
    st.text(alphabet=string.printable + "审核同意张三\u200b\ufeff", max_size=10),
)
CSV_HEADER = ["请求ID", "节点名称", "操作类型", "操作人", "操作时间", "金额", "签字意见", "reason"]


@settings(max_examples=80, **BOUNDED)
@given(rows=st.lists(st.one_of(st.lists(CELLS, min_size=8, max_size=8), st.just([])),
                     max_size=15),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_every_row_of_a_well_formed_csv_is_accounted_for(tmp_path, rows, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")   # quotes values holding \r or \n
    writer.writerow(CSV_HEADER)
    for row in rows:
        if row:
            writer.writerow(row)
        else:
            buffer.write("\r\n")                          # a blank line
    path = tmp_path / "well.csv"
    try:
        path.write_bytes(buffer.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buffer.getvalue().encode("utf-8"))
    log = import_or_refuse(path)
    if log is None:
        return
    notes = " ".join(log.report.notes)
    empty = re.search(r"([\d,]+) blank lines or rows of empty cells ignored", notes)
    ignored = int(empty.group(1).replace(",", "")) if empty else 0
    assert log.report.rows_read + ignored == len(rows)
    numbers = sorted(int(r) for r in list(log.to_pandas().source_row) +
                     list(log.set_aside.source_row))
    assert len(set(numbers)) == len(numbers) and all(2 <= n <= len(rows) + 1 for n in numbers)


# --- JSON approval exports (DingTalk, Feishu, WeCom) ----------------------------------------

def mostly(good, bad):
    """Plausible values three times in four, so that rows get accepted as well as refused."""
    return st.one_of(good, good, good, bad)


IDS = mostly(st.sampled_from(["u1", "u2", "n1", "t1", "i1"]),
             st.one_of(st.none(), st.just(""), st.text(max_size=5), st.integers(-5, 5)))
EPOCHS = mostly(
    st.sampled_from(["1741136700000", "1741140300000", "1741136700", "1741140300",
                     "2025-03-05T01:05Z", "2025-03-05 09:05:00", 1741136700, 1741140300000]),
    st.one_of(st.none(), st.sampled_from(["0", "", "-1", "9" * 25, "NaN", "1e400",
                                          "33000000000000", "0001-01-01T00:00Z"]),
              st.integers(min_value=-10 ** 30, max_value=10 ** 30),
              st.integers(10 ** 150, 10 ** 160),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6)))
WORDS = mostly(st.sampled_from(["START", "PASS", "审核", "同意", "EXECUTE_TASK_NORMAL", "AGREE",
                                "COMPLETED", "agree", "提交"]),
               st.one_of(st.none(), st.text(max_size=8), st.integers(-3, 20)))
CODES = mostly(st.integers(1, 4), st.one_of(st.integers(-3, 20), st.text(max_size=3)))
JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=4), st.lists(st.none(), max_size=2))


def objects(fields: dict, junk=True, required=()):
    """Objects holding the `required` fields (most of the time) and any subset of the others;
    sometimes not an object at all."""
    obj = mostly(st.fixed_dictionaries({k: v for k, v in fields.items() if k in required},
                                       optional={k: v for k, v in fields.items()
                                                 if k not in required}),
                 st.fixed_dictionaries({}, optional=fields))
    return st.one_of(obj, obj, JUNK) if junk else obj


FEISHU = objects({
    "instance_code": IDS, "approval_name": WORDS, "serial_number": IDS, "user_id": IDS,
    "status": st.sampled_from(["PENDING", "APPROVED", "REJECTED", "CANCELED", "x"]),
    "start_time": EPOCHS, "end_time": EPOCHS, "department_id": IDS,
    "form": st.one_of(st.just('[{"name": "金额", "type": "amount", "value": 1e309}]'), WORDS),
    "timeline": st.lists(objects({
        "type": st.one_of(st.sampled_from(["START", "PASS", "REJECT", "TRANSFER", "CC",
                                           "ROLLBACK", "ADD_APPROVER", "CANCEL"]), WORDS),
        "create_time": EPOCHS, "user_id": IDS, "open_id": IDS, "comment": WORDS,
        "task_id": IDS, "node_key": IDS, "ext": WORDS, "user_id_list": JUNK},
        required=("type", "create_time", "user_id")), max_size=5),
    "task_list": st.lists(objects({
        "id": IDS, "user_id": IDS, "status": st.sampled_from(["PENDING", "APPROVED", "x"]),
        "node_id": IDS, "node_name": WORDS, "start_time": EPOCHS, "end_time": EPOCHS}),
        max_size=4),
    "comment_list": st.lists(objects({"user_id": IDS, "create_time": EPOCHS,
                                      "comment": WORDS}), max_size=2),
}, junk=False, required=("instance_code", "timeline", "task_list", "status"))
DINGTALK = st.one_of(
    st.fixed_dictionaries({"result": objects({
        "processInstanceId": IDS, "title": WORDS, "status": WORDS, "result": WORDS,
        "businessId": IDS, "originatorUserId": IDS,
        "formComponentValues": st.lists(objects({"name": WORDS, "value": EPOCHS,
                                                 "componentType": WORDS}), max_size=2),
        "operationRecords": st.lists(objects({
            "userId": IDS, "date": EPOCHS, "type": WORDS, "result": WORDS, "remark": WORDS,
            "showName": WORDS, "activityId": IDS}, required=("userId", "date", "type", "showName")),
            min_size=1, max_size=5),
        "tasks": st.lists(objects({
            "taskId": IDS, "userId": IDS, "status": WORDS, "result": WORDS,
            "createTime": EPOCHS, "finishTime": EPOCHS, "activityId": IDS}), max_size=4),
    }, junk=False, required=("processInstanceId", "operationRecords"))}),
    st.fixed_dictionaries({"process_instance": objects({
        "process_instance_id": IDS, "title": WORDS, "status": WORDS,
        "operation_records": st.lists(objects({
            "userid": IDS, "date": EPOCHS, "operation_type": WORDS,
            "operation_result": WORDS, "remark": WORDS},
            required=("userid", "date", "operation_type")), min_size=1, max_size=5),
        "tasks": st.lists(objects({
            "taskid": IDS, "userid": IDS, "task_status": WORDS, "task_result": WORDS,
            "create_time": EPOCHS, "finish_time": EPOCHS, "activity_id": IDS}), max_size=4),
    }, junk=False, required=("process_instance_id", "operation_records"))}))
WECOM = objects({
    "sp_no": IDS, "sp_name": WORDS, "sp_status": CODES, "apply_time": EPOCHS,
    "applyer": objects({"userid": IDS, "partyid": IDS}),
    "sp_record": st.lists(objects({
        "sp_status": CODES, "approverattr": CODES,
        "details": st.lists(objects({"approver": objects({"userid": IDS}), "speech": WORDS,
                                     "sp_status": CODES, "sptime": EPOCHS},
                                    required=("approver", "sp_status", "sptime")), max_size=3)},
        required=("sp_status", "details")), min_size=1, max_size=3),
    "notifyer": st.lists(objects({"userid": IDS}), max_size=2),
    "comments": st.lists(objects({"commentUserInfo": objects({"userid": IDS}),
                                  "commenttime": EPOCHS, "commentcontent": WORDS}), max_size=2),
}, junk=False, required=("sp_no", "sp_status", "apply_time", "applyer", "sp_record"))


def json_layout(records: list, layout: str) -> str:
    if layout == "array":
        return json.dumps(records, ensure_ascii=False)
    if layout == "object":
        return json.dumps({"data": {"items": records}}, ensure_ascii=False)
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n"


@settings(max_examples=120, **BOUNDED)
@given(source=st.sampled_from(["feishu", "dingtalk", "wecom"]), data=st.data(),
       layout=st.sampled_from(["array", "object", "lines"]),
       cut=st.one_of(st.none(), st.integers(0, 400)))
def test_json_approval_exports_import_or_refuse_cleanly(tmp_path, source, data, layout, cut):
    strategy = {"feishu": FEISHU, "dingtalk": DINGTALK, "wecom": WECOM}[source]
    records = data.draw(st.lists(st.one_of(strategy, JUNK), min_size=1, max_size=4))
    text = json_layout(records, layout)
    if cut is not None:
        text = text[:cut]                                 # a truncated download
    path = tmp_path / f"{source}.json"
    path.write_text(text, encoding="utf-8")
    import_or_refuse(path, format=source)


# --- XES ------------------------------------------------------------------------------------

XES_KEYS = st.sampled_from(["concept:name", "time:timestamp", "org:resource", "org:group",
                            "lifecycle:transition", "concept:instance", "reason", "detail",
                            "seq", "amount", "id", "x"])
XES_VALUES = st.one_of(
    st.sampled_from(["2025-03-05T09:00:00+08:00", "2025-03-05T09:00:00", "3025-01-01T00:00:00Z",
                     "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999+14:00", "complete",
                     "start", "schedule", "A", "B", "1e309", "9" * 60, ""]),
    st.text(alphabet=string.printable + "审核\u200b", max_size=8))
XES_ATTRIBUTE = st.tuples(st.sampled_from(["string", "date", "int", "float", "boolean", "id",
                                           "list"]), XES_KEYS, XES_VALUES)


def xes_text(log_attrs, traces) -> str:
    def attrs(items):
        return "".join(f"<{kind} key={quoteattr(key)} value={quoteattr(value)}/>"
                       for kind, key, value in items)
    body = "".join("<trace>" + attrs(t) + "".join(f"<event>{attrs(e)}</event>" for e in events)
                   + "</trace>" for t, events in traces)
    return f'<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0">{attrs(log_attrs)}' \
           f"{body}</log>"


@settings(max_examples=80, **BOUNDED)
@given(log_attrs=st.lists(XES_ATTRIBUTE, max_size=2),
       traces=st.lists(st.tuples(st.lists(XES_ATTRIBUTE, max_size=3),
                                 st.lists(st.lists(XES_ATTRIBUTE, max_size=5), max_size=5)),
                       max_size=4),
       cut=st.one_of(st.none(), st.integers(0, 600)))
def test_xes_logs_import_or_refuse_cleanly(tmp_path, log_attrs, traces, cut):
    text = xes_text(log_attrs, traces)
    path = tmp_path / "h.xes"
    path.write_text(text if cut is None else text[:cut], encoding="utf-8")
    import_or_refuse(path)
