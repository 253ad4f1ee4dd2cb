"""XES reader, end to end through `officemine.import_log`: canonical columns, lifecycle pairing,
XML attacks, broken files, and the real BPI Challenge logs (skipped when absent)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from officemine import Mapping, MappingError, SourceError, import_log, read_log
from officemine.importing import xes as xes_reader
from officemine.importing.raw import RawEvents
from officemine.log.schema import C

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "xes"
REPO = HERE.parent
BPIC2020_MAPPING = REPO / "mappings" / "bpic2020.toml"
TZ = "Asia/Shanghai"

# The shared normaliser flags rows as duplicates when case, node, outcome, person and time
# coincide. Real XES logs hold distinct records that coincide there (BPIC 2020 pays three
# declarations of one permit in the same second; BPIC 2012 schedules a work item three times
# and never starts it). Until RawEvents carries `record_id` and the duplicate key also uses
# label, arrival and record id, those imports set records aside: expected failures, strict so
# that the marker goes once the normaliser is fixed.
NORMALISER_KEEPS_DISTINCT_RECORDS = "record_id" in RawEvents.__dataclass_fields__
needs_distinct_records = pytest.mark.xfail(
    not NORMALISER_KEEPS_DISTINCT_RECORDS, strict=True,
    reason="normaliser treats distinct same-second records as duplicates (needs record_id)")


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def maybe_at(text: str | None):
    return at(text) if text else None


def same_time(value, expected) -> bool:
    return pd.isna(value) if expected is None else value == expected


# --- a single-timestamp OA export ------------------------------------------------------------

def test_single_timestamp_log_fills_canonical_columns_and_keeps_the_rest(tmp_path):
    log = import_log(DATA / "oa_approvals.xes")
    report = log.report
    # 12 <event> records: 8 accepted, 4 set aside, each with its reason
    assert (report.format, report.rows_read, report.rows_accepted, report.rows_set_aside) == \
        ("xes", 12, 8, 4)
    assert report.set_aside_by_reason == {"missing_time": 1, "unparseable_time": 1,
                                          "malformed_record": 1, "missing_case_id": 1}
    aside = log.set_aside.set_index("source_row")["reason"].to_dict()
    assert aside["trace #2 'BX-2025-0002', event 2"] == "missing_time"
    assert aside["trace #2 'BX-2025-0002', event 3"] == "unparseable_time"
    assert aside["trace #3, event 1"] == "missing_case_id"
    assert aside["event 12 outside any trace"] == "malformed_record"

    events = log.to_pandas()
    first = events[events[C.case_id] == "BX-2025-0001"].set_index(C.seq)
    # no label rules: the node is the label itself, and every outcome is 'other'
    assert first[C.node].tolist() == ["发起-提交", "部门审批-同意", "财务审核-退回", "发起-提交",
                                      "财务审核-同意", "归档-归档"]
    assert (first["label"] == first[C.node]).all()
    assert set(events[C.outcome]) == {"other"}
    assert any("no outcome column" in w for w in report.warnings)
    # times carry offsets: +08:00 and Z both land on the right instant
    assert first.loc[0, C.acted_at] == at("2025-03-03 09:15")
    assert first.loc[1, C.acted_at] == at("2025-03-03 09:20")          # written as 01:20Z
    assert str(first[C.acted_at].dtype) == f"datetime64[us, {TZ}]"
    # org:resource, org:group, org:role
    assert first[C.resource].tolist() == ["张伟", "李娜", "王芳", "张伟", "王芳", "系统"]
    assert first.loc[2, C.dept] == "财务部" and pd.isna(first.loc[5, C.dept])
    assert first.loc[1, "role"] == "部门负责人"
    # attributes named like canonical columns fill them; 金额 is an obvious amount
    assert first.loc[2, C.comment] == "发票抬头有误，请重开"
    assert (first[C.amount] == 1280.5).all() and (first[C.applicant] == "张伟").all()
    assert first.loc[0, C.title] == "三月上海出差报销"
    assert (events[C.process_type] == "费用报销").all()                 # the log's name
    # other attributes keep their names and types; clashes get a prefix
    assert first.loc[0, "id"] == "op-1" and first.loc[0, "case:id"] == "req-7781"
    assert first.loc[2, "event:label"] == "需补材料"
    assert first.loc[0, "附件数"] == 3 and bool(first.loc[0, "加急"]) is True
    assert "lifecycle" not in events and "started_at" not in events
    assert events[C.arrived_at].isna().all()
    assert any("抄送人" in n for n in report.notes)                      # a <list>, not imported
    assert report.columns_used[C.amount] == "trace 金额"

    # stored and read back
    stored = read_log(log.write(tmp_path / "oa.parquet"))
    assert stored.report.rows_read == 12 and stored.report.set_aside_by_reason == \
        report.set_aside_by_reason
    back = stored.to_pandas()
    assert back[[C.case_id, C.node, C.resource, C.acted_at, "case:id"]].equals(
        events[[C.case_id, C.node, C.resource, C.acted_at, "case:id"]])
    assert (tmp_path / "oa.set_aside.csv").exists()


def test_label_rules_split_node_and_outcome():
    log = import_log(DATA / "oa_approvals.xes", mapping=DATA / "oa_labels.toml")
    events = log.to_pandas()
    first = events[events[C.case_id] == "BX-2025-0001"]
    assert list(zip(first[C.node], first[C.outcome])) == [
        ("发起", "submit"), ("部门审批", "approve"), ("财务审核", "return"),
        ("发起", "resubmit"), ("财务审核", "approve"), ("归档", "archive")]
    assert first["label"].iloc[2] == "财务审核-退回"                    # the source label stays
    assert log.report.open_cases == 0                                   # both cases archived


# --- lifecycle: schedule / start / complete --------------------------------------------------

# case, node, resource, arrived_at (schedule), started_at (start), acted_at (end), lifecycle
LIFECYCLE_EVENTS = [
    ("CL-2025-001", "提交申请", "陈静", None, None, "2025-03-03 09:00", "complete"),
    ("CL-2025-001", "部门审批", "刘洋", "2025-03-03 09:00:05", "2025-03-03 10:30",
     "2025-03-03 11:00", "complete"),
    ("CL-2025-001", "财务审核", "王芳", "2025-03-03 11:00:02", "2025-03-03 13:00",
     "2025-03-03 14:30", "complete"),
    ("CL-2025-001", "归档", "系统", None, None, "2025-03-03 15:00", "complete"),
    ("CL-2025-002", "提交申请", "赵敏", None, None, "2025-03-04 09:00", "complete"),
    # two people countersign in parallel: each complete pairs with the start of the SAME person
    ("CL-2025-002", "会签", "周婷", "2025-03-04 09:01", "2025-03-04 09:40", "2025-03-04 10:00",
     "complete"),
    ("CL-2025-002", "会签", "孙伟", "2025-03-04 09:01", "2025-03-04 09:30", "2025-03-04 10:20",
     "complete"),
    # scheduled, never completed: a pending row (its wait is right-censored)
    ("CL-2025-002", "归档", "系统", "2025-03-04 10:35", None, None, "schedule"),
    ("CL-2025-003", "提交申请", "吴磊", None, None, "2025-03-05 09:00", "complete"),
    # complete written before its start in the file, and without org:resource
    ("CL-2025-003", "部门审批", "刘洋", None, "2025-03-05 09:10", "2025-03-05 09:40", "complete"),
    ("CL-2025-003", "财务审核", "王芳", "2025-03-05 09:41", "2025-03-05 10:00", "2025-03-05 10:05",
     "ate_abort"),
]


def test_lifecycle_records_become_one_event_per_activity_instance(tmp_path):
    # gzip, and a name that does not say so: the reader goes by content
    packed = tmp_path / "travel_lifecycle.xes"
    packed.write_bytes(gzip.compress((DATA / "travel_lifecycle.xes").read_bytes()))
    log = import_log(packed, format="xes")
    report = log.report
    # 26 records = 12 activity instances + 14 merged schedule/assign/start/suspend/resume
    assert (report.rows_read, report.rows_accepted, report.rows_set_aside) == (12, 11, 1)
    assert any(n.startswith("26 XES event records read; 14 lifecycle records")
               for n in report.notes)
    assert report.pending_items == 1
    assert any("1 complete records name no org:resource" in n for n in report.notes)
    # started by 钱进, never completed, never scheduled: no arrival, no action -> set aside
    aside = log.set_aside.iloc[0]
    assert (aside["source_row"], aside["reason"]) == ("trace #2 'CL-2025-002', event 8",
                                                      "missing_time")
    assert "复核: start at 2025-03-04T10:30:00.000+08:00 by 钱进" in aside["detail"]

    events = log.to_pandas()
    assert len(events) == len(LIFECYCLE_EVENTS)
    for (_, row), expected in zip(events.iterrows(), LIFECYCLE_EVENTS):
        case, node, resource, arrived, started, acted, lifecycle = expected
        assert (row[C.case_id], row[C.node], row[C.resource], row["lifecycle"]) == \
            (case, node, resource, lifecycle), row[C.source_row]
        assert same_time(row[C.arrived_at], maybe_at(arrived)), row[C.source_row]
        assert same_time(row["started_at"], maybe_at(started)), row[C.source_row]
        assert same_time(row[C.acted_at], maybe_at(acted)), row[C.source_row]
        assert bool(row[C.pending]) is (acted is None)
    audit = events.set_index([C.case_id, C.node])[C.source_row]
    assert audit[("CL-2025-001", "财务审核")] == (
        "trace #1 'CL-2025-001', event 10 (schedule: event 5; assign: event 6; start: event 7; "
        "suspend: event 8; resume: event 9)")
    # recorded arrivals are used for the wait; others are inferred from the previous action
    recorded = events[C.arrival_source] == "recorded"
    assert recorded.sum() == 6 and (events.loc[recorded, C.wait_start]
                                     == events.loc[recorded, C.arrived_at]).all()
    assert events.groupby(C.case_id)[C.amount].first().tolist()[:2] == [3280.5, 12800.0]

    stored = read_log(log.write(tmp_path / "lifecycle.parquet")).to_pandas()
    assert stored["started_at"].equals(events["started_at"])
    assert stored[C.pending].tolist() == events[C.pending].tolist()


def test_an_assigned_item_without_complete_is_pending_and_arrived_at_attributes_fill_in(tmp_path):
    # officemine's own XES writer puts `arrived_at` on each event; a pending item can be
    # written as an `assign` record (the item reached 李强) that nothing completes
    path = tmp_path / "用印.xes"
    path.write_text(textwrap.dedent("""\
        <log xmlns="http://www.xes-standard.org/">
          <string key="concept:name" value="用印申请"/>
          <trace><string key="concept:name" value="YY-2025-1031"/>
            <event><string key="concept:name" value="发起"/>
              <string key="org:resource" value="方峰"/>
              <date key="time:timestamp" value="2025-10-30T09:00:00+08:00"/>
              <date key="arrived_at" value="2025-10-30T09:00:00+08:00"/></event>
            <event><string key="concept:name" value="部门负责人审核"/>
              <string key="org:resource" value="任芳"/>
              <date key="time:timestamp" value="2025-10-30T11:00:00+08:00"/>
              <date key="arrived_at" value="2025-10-30T09:00:00+08:00"/>
              <string key="lifecycle:transition" value="complete"/></event>
            <event><string key="concept:name" value="综合办审核"/>
              <string key="org:resource" value="李强"/>
              <date key="time:timestamp" value="2025-10-30T11:00:05+08:00"/>
              <string key="lifecycle:transition" value="assign"/></event>
          </trace>
        </log>
        """), "utf-8")
    log = import_log(path)
    events = log.to_pandas()
    assert log.report.pending_items == 1 and log.report.arrivals_recorded == 3
    assert events[C.pending].tolist() == [False, False, True]
    assert events[C.arrived_at].tolist() == [at("2025-10-30 09:00"), at("2025-10-30 09:00"),
                                             at("2025-10-30 11:00:05")]
    assert events.loc[2, C.resource] == "李强" and pd.isna(events.loc[2, C.acted_at])
    assert "event:arrived_at" not in events


# --- XML attacks -----------------------------------------------------------------------------

SECRET = "TOP-SECRET-峰会名单"
EVENT = ('<trace><string key="concept:name" value="c1"/><event>'
         '<string key="concept:name" value="{value}"/>'
         '<date key="time:timestamp" value="2025-01-01T00:00:00+08:00"/></event></trace>')


def hostile_files(target: Path) -> dict[str, str]:
    """XES files that try to read `target` or to blow up memory."""
    laughs = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    uri = target.as_uri()
    return {
        "xxe": f'<!DOCTYPE log [<!ENTITY xxe SYSTEM "{uri}">]>\n'
               f"<log>{EVENT.format(value='&xxe;')}</log>",
        "billion_laughs": f"<!DOCTYPE log [{''.join(laughs)}]>\n"
                          f"<log>{EVENT.format(value='&lol9;')}</log>",
        "quadratic_blowup": f'<!DOCTYPE log [<!ENTITY a "{"x" * 50_000}">]>\n'
                            f"<log>{EVENT.format(value='&a;' * 20_000)}</log>",
        "parameter_entity": f'<!DOCTYPE log [<!ENTITY % ext SYSTEM "{uri}"> %ext;]>\n'
                            f"<log>{EVENT.format(value='x')}</log>",
        "external_dtd": f'<!DOCTYPE log SYSTEM "{uri}">\n'
                        f"<log>{EVENT.format(value='x')}</log>",
    }


def write_hostile(folder: Path, target: Path, *, late: bool = False) -> dict[str, Path]:
    paths = {}
    for name, body in hostile_files(target).items():
        # late: the DOCTYPE hides behind a 1.2 MB comment, past the reader's byte check
        pad = "<!--" + "x" * 1_200_000 + "-->\n" if late else ""
        path = folder / f"{name}{'_late' if late else ''}.xes"
        path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{pad}{body}\n', "utf-8")
        paths[name] = path
    return paths


@pytest.fixture
def secret_file(tmp_path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET, "utf-8")
    return secret


def test_entity_attacks_are_refused_before_any_parser_sees_the_file(tmp_path, secret_file,
                                                                     monkeypatch):
    def no_parser(*args, **kwargs):
        raise AssertionError("a hostile file reached the XML parser")

    monkeypatch.setattr(xes_reader, "_make_parser", no_parser)
    for name, path in write_hostile(tmp_path, secret_file).items():
        started = time.perf_counter()
        with pytest.raises(SourceError, match="refused") as info:
            import_log(path)
        assert time.perf_counter() - started < 5, name
        assert SECRET not in str(info.value) and str(path) in str(info.value)


def test_entity_attacks_past_the_byte_check_are_refused_by_the_parser(tmp_path, secret_file):
    for name, path in write_hostile(tmp_path, secret_file, late=True).items():
        started = time.perf_counter()
        with pytest.raises(SourceError, match="refused") as info:
            import_log(path)
        assert time.perf_counter() - started < 10, name
        assert SECRET not in str(info.value)


def test_entity_attacks_never_open_the_target_file(tmp_path):
    """The target is a named pipe: opening it to read blocks until a writer comes, so a parser
    that tried to read it would hang the child process, and the timeout would fail the test."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need a POSIX system")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    paths = [*write_hostile(tmp_path, fifo).values(),
             *write_hostile(tmp_path, fifo, late=True).values()]
    script = textwrap.dedent("""
        import json, sys
        from officemine import SourceError, import_log
        out = {}
        for path in sys.argv[1:]:
            try:
                import_log(path)
                out[path] = "imported"
            except SourceError as exc:
                out[path] = "SourceError: " + str(exc)
        print(json.dumps(out))
    """)
    try:
        done = subprocess.run([sys.executable, "-c", script, *map(str, paths)],
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("importing a hostile file blocked: something opened the target file")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 10
    assert all(r.startswith("SourceError: refused") for r in results.values()), results


def test_only_a_plain_doctype_is_accepted(tmp_path):
    path = tmp_path / "plain.xes"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE log>\n'
                    f"<log>{EVENT.format(value='发起')}</log>\n", "utf-8")
    log = import_log(path)
    assert log.report.rows_accepted == 1 and log.to_pandas()[C.node].tolist() == ["发起"]
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE log [<!ATTLIST log a CDATA "x">]>\n'
                    f"<log>{EVENT.format(value='发起')}</log>\n", "utf-8")
    with pytest.raises(SourceError, match="refused: the file carries DTD declarations"):
        import_log(path)


# --- sources that cannot be read -------------------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b'<log><trace><string key="concept:name" value="c1"/></log>', "not well-formed XML"),
    (b"<html><body>not a log</body></html>", r"not an XES log: the root element is <html>"),
    (b"", "the file is empty"),
    (b"\xef\xbb\xbfconcept:name,time:timestamp\nc1,2025-01-01\n", "not well-formed XML"),
    (gzip.compress(f"<log>{EVENT.format(value='发起')}</log>".encode())[:40],
     "damaged or truncated"),
])
def test_unreadable_sources_raise_source_error(tmp_path, content, message):
    path = tmp_path / "broken.xes.gz"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message) as info:
        import_log(path)
    assert info.value.file == str(path)


def test_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "broken.xes"
    path.write_text("<log>\n<trace>\n<string key='concept:name' value='c1'>\n</trace>\n</log>\n")
    with pytest.raises(SourceError) as info:
        import_log(path)
    assert info.value.row == 4


# --- mapping [columns] -----------------------------------------------------------------------

def test_mapping_columns_pick_xes_attributes():
    mapping = Mapping.from_dict({"columns": {"dept": "org:role", "title": "case:id"}})
    events = import_log(DATA / "oa_approvals.xes", mapping=mapping).to_pandas()
    first = events[events[C.case_id] == "BX-2025-0001"]
    assert first[C.dept].tolist()[:3] == ["申请人", "部门负责人", "财务"]
    assert (first[C.title] == "req-7781").all()


@pytest.mark.parametrize(("columns", "message"), [
    ({"dept": "部门"}, "no such XES attribute"),
    ({"acted_at": ["date", "time"]}, "one attribute key"),
])
def test_mapping_columns_that_do_not_fit_raise(columns, message):
    with pytest.raises(MappingError, match=message):
        import_log(DATA / "oa_approvals.xes", mapping=Mapping.from_dict({"columns": columns}))


# --- the shipped sample log ------------------------------------------------------------------

def test_sample_xes_agrees_with_the_sample_csv():
    from officemine.synthetic import XES_LABEL_PATTERN

    mapping = Mapping.from_dict({"label_rules": [{"pattern": XES_LABEL_PATTERN}]})
    xes_log = import_log(REPO / "sample_logs" / "oa_sample.xes.gz", mapping=mapping)
    csv_log = import_log(REPO / "sample_logs" / "oa_sample.csv")
    assert xes_log.report.rows_set_aside == 0
    assert xes_log.report.arrivals_recorded == xes_log.report.rows_accepted  # `arrived_at` attr
    keys = [C.case_id, C.seq, C.node, C.outcome, C.resource, C.dept, C.process_type]
    csv_events = csv_log.to_pandas()
    # the XES sample leaves out the items pending at the end (they have no action time)
    a, b = xes_log.to_pandas()[keys], csv_events.loc[~csv_events[C.pending], keys]
    assert len(a) == len(b) == 13_072
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                  check_dtype=False)


# --- the real public logs (../shared/data/real, or $OFFICEMINE_REAL_DATA) --------------------

# approved / rejected per approver role (APPROVED + FINAL_APPROVED; REJECTED by that role),
# cases, events, cases with at least one rejection by an approver (incl. MISSING):
# the table in SOURCES.md
BPIC2020 = {
    "DomesticDeclarations": dict(
        roles={"ADMINISTRATION": (8202, 952), "PRE_APPROVER": (685, 86),
               "BUDGET OWNER": (2820, 59), "SUPERVISOR": (10131, 293), "DIRECTOR": (0, 0)},
        cases=10_500, events=56_437, rejected_cases=1301),
    "InternationalDeclarations": dict(
        roles={"ADMINISTRATION": (9876, 1632), "PRE_APPROVER": (1146, 109),
               "BUDGET OWNER": (3597, 71), "SUPERVISOR": (12317, 218), "DIRECTOR": (892, 5)},
        cases=6_449, events=72_151, rejected_cases=1755),
    "PermitLog": dict(
        roles={"ADMINISTRATION": (12028, 1808), "PRE_APPROVER": (1301, 127),
               "BUDGET OWNER": (4370, 99), "SUPERVISOR": (14635, 260), "DIRECTOR": (935, 6)},
        cases=7_065, events=86_581, rejected_cases=1912),
    "PrepaidTravelCost": dict(
        roles={"ADMINISTRATION": (3329, 245), "PRE_APPROVER": (318, 34),
               "BUDGET OWNER": (1317, 24), "SUPERVISOR": (3867, 60), "DIRECTOR": (431, 0)},
        cases=2_099, events=18_246, rejected_cases=338),
    "RequestForPayment": dict(
        roles={"ADMINISTRATION": (5489, 836), "PRE_APPROVER": (413, 51),
               "BUDGET OWNER": (2015, 47), "SUPERVISOR": (6384, 179), "DIRECTOR": (41, 0)},
        cases=6_886, events=36_796, rejected_cases=1067),
}
# files holding distinct records that coincide in case, role, outcome, person and second
SAME_SECOND = {"InternationalDeclarations", "PermitLog", "PrepaidTravelCost"}


@pytest.mark.real
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=needs_distinct_records) if n in SAME_SECOND else n for n in BPIC2020])
def test_bpic2020_with_its_mapping_reproduces_the_published_counts(real_data, name):
    expected = BPIC2020[name]
    log = import_log(real_data / f"{name}.xes.gz", mapping=BPIC2020_MAPPING)
    report = log.report
    assert report.rows_read == expected["events"]
    assert report.rows_read == report.rows_accepted + report.rows_set_aside
    assert report.rows_set_aside == 0, report.set_aside_by_reason
    assert report.cases == expected["cases"]
    assert not report.unknown_outcome_words and not report.warnings

    events = log.to_pandas()
    counts = events.groupby([C.node, C.outcome]).size()
    for role, (approved, rejected) in expected["roles"].items():
        assert counts.get((role, "approve"), 0) == approved, role
        assert counts.get((role, "return"), 0) == rejected, role
    returned = events.loc[events[C.outcome] == "return", C.case_id].nunique()
    assert returned == expected["rejected_cases"]
    # the employee taking back a rejected item: withdraw, never a decision
    taken_back = events["label"].str.endswith("REJECTED by EMPLOYEE")
    assert (events.loc[taken_back, C.outcome] == "withdraw").all()
    assert (events.loc[taken_back, C.node] == "EMPLOYEE").all()
    assert set(events.loc[events["label"] == "Payment Handled", C.outcome]) == {"archive"}
    assert events[C.acted_at].notna().all() and not events[C.pending].any()


def _genuine_resubmissions(path: Path) -> tuple[Counter, dict[str, int]]:
    """From the raw XES, independently of the importer: the (trace, event id) of each event
    that resubmits an object ("<Object> SUBMITTED" after a "<Object> REJECTED" of the same
    object since its last submission, in time order within the trace), and the count of
    objects per kind. Event ids repeat across traces (and may within one): a multiset."""
    import datetime as dt
    import re
    import xml.etree.ElementTree as ET

    label = re.compile(r"^(Declaration|Permit|Request For Payment) (SUBMITTED|REJECTED) by ")
    found_ids, kinds = Counter(), Counter()
    with gzip.open(path) as fh:
        for _, element in ET.iterparse(fh):
            if element.tag != "trace":
                continue
            trace = next(a.get("value") for a in element
                         if a.tag != "event" and a.get("key") == "concept:name")
            events = []
            for i, event in enumerate(element.iter("event")):
                attrs = {a.get("key"): a.get("value") for a in event}
                events.append((dt.datetime.fromisoformat(attrs["time:timestamp"]), i,
                               attrs["concept:name"], attrs["id"]))
            submitted, rejected = set(), set()
            for _, _, name, event_id in sorted(events):
                found = label.match(name)
                if not found:
                    continue
                kind, verb = found.groups()
                if verb == "REJECTED":
                    rejected.add(kind)
                    continue
                if kind in submitted and kind in rejected:
                    found_ids[(trace, event_id)] += 1
                elif kind not in submitted:
                    kinds[kind] += 1
                submitted.add(kind)
                rejected.discard(kind)
            element.clear()
    return found_ids, dict(kinds)


@pytest.mark.real
@pytest.mark.parametrize("name", [
    pytest.param(n, marks=needs_distinct_records) if n in SAME_SECOND else n for n in BPIC2020])
def test_bpic2020_objects_make_no_false_resubmissions(real_data, name):
    """A case of International Declarations, Permit log or Prepaid Travel Cost holds a permit
    and then a declaration (or payment request): the declaration's first submission is no
    resubmission, and rounds count per object."""
    path = real_data / f"{name}.xes.gz"
    genuine, kinds = _genuine_resubmissions(path)
    events = import_log(path, mapping=BPIC2020_MAPPING).to_pandas()
    resubmitted = events[events[C.outcome] == "resubmit"]
    assert Counter(zip(resubmitted[C.case_id], resubmitted["id"])) == genuine
    # every object kind's first submission in a case is a submission
    submitted = events[events[C.outcome] == "submit"]
    first_of_kind = submitted[~submitted[C.object].str.contains("#", regex=False)]
    assert first_of_kind[C.object].value_counts().to_dict() == kinds
    # rounds count per object: a case's permit and declaration both start in round 1, and an
    # object's round is 1 + its returns before the event (pandas here, arrays in the log)
    first = events[events[C.outcome] == "submit"]
    assert (first["round"] == 1).all()
    objects = events[events[C.object].notna()].sort_values([C.case_id, C.seq])
    returned = (objects[C.outcome] == "return").astype(int)
    before = returned.groupby([objects[C.case_id], objects[C.object]]).cumsum() - returned
    assert (objects["round"] == 1 + before).all()


@pytest.mark.real
def test_cli_import_with_the_mapping_from_the_repo_root(real_data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from officemine.cli import app

    monkeypatch.chdir(REPO)
    out = tmp_path / "prepaid.parquet"
    result = CliRunner().invoke(app, ["import", str(real_data / "PrepaidTravelCost.xes.gz"),
                                      "--mapping", "mappings/bpic2020.toml", "-o", str(out),
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "rows read 18,246 = accepted" in result.output
    assert "approve 9," in result.output and "return 394" in result.output
    assert read_log(out).n_cases == 2_099


@pytest.mark.real
def test_receipt_without_mapping(real_data, tmp_path):
    log = import_log(real_data / "receipt.xes.gz")
    report = log.report
    assert (report.rows_read, report.rows_accepted, report.cases) == (8_577, 8_577, 1_434)
    events = log.to_pandas()
    assert events[C.dept].notna().all()                                 # org:group
    assert events[C.node].nunique() == 27
    assert (events[C.node] == "Confirmation of receipt").sum() == 1_434
    assert "lifecycle" not in events                                    # only 'complete'
    assert str(events["deadline"].dtype).startswith("datetime64")       # <date> trace attribute
    stored = read_log(log.write(tmp_path / "receipt.parquet"))
    assert stored.n_events == 8_577 and stored.n_cases == 1_434


@pytest.mark.real
@needs_distinct_records
def test_bpic2012_work_items_pair_schedule_start_and_complete(real_data):
    log = import_log(real_data / "bpic2012.xes.gz")
    report = log.report
    # 262,200 records: 164,506 complete + 71,376 start + 26,318 schedule (SOURCES.md)
    assert any("complete 164,506, start 71,376, schedule 26,318" in n for n in report.notes)
    assert any(n.startswith("262,200 XES event records read; 97,613 lifecycle records")
               for n in report.notes)
    # 164,587 activity instances = 164,506 completed + 72 scheduled, still pending
    # + 9 started but never completed nor scheduled (set aside)
    assert (report.rows_read, report.rows_accepted, report.rows_set_aside) == \
        (164_587, 164_578, 9)
    assert report.set_aside_by_reason == {"missing_time": 9}
    assert report.pending_items == 72 and report.cases == 13_087
    assert report.arrivals_recorded == 26_318                          # every schedule
    events = log.to_pandas()
    done = events[~events[C.pending]]
    started = done[done["started_at"].notna()]
    assert len(started) == 71_376 - 10                                  # 10 starts never done
    assert (started["started_at"] <= started[C.acted_at]).all()
    scheduled = started[started[C.arrived_at].notna()]
    assert (scheduled[C.arrived_at] <= scheduled["started_at"]).all()
    assert done.loc[done["label"].str.startswith(("A_", "O_")), "started_at"].isna().all()
