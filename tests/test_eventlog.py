"""Storage as Parquet, DuckDB queries and pm4py interoperability."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pm4py
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import officemine
from officemine import LogFormatError
from officemine.cli import app
from officemine.log.eventlog import EventLog
from typer.testing import CliRunner

from cn_export import CN_HEADER, CN_ROWS, write_csv


@pytest.fixture
def log(tmp_path):
    return officemine.import_log(write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS, "gbk"))


def test_parquet_round_trip_keeps_rows_types_and_metadata(log, tmp_path):
    path = log.write(tmp_path / "log.parquet")
    back = officemine.read_log(path)
    pd.testing.assert_frame_equal(back.to_pandas(), log.to_pandas())
    assert back.report == log.report
    assert back.timezone == "Asia/Shanghai"
    assert str(back.to_pandas().acted_at.dt.tz) == "Asia/Shanghai"
    assert "费用报销" in repr(back.nodes()) or back.n_cases == 2


def test_duckdb_sees_the_events_in_the_log_time_zone(log):
    df = log.query("SELECT node, count(*) AS n, min(acted_at) AS first FROM events "
                   "WHERE outcome = 'approve' GROUP BY node ORDER BY node")
    assert df.node.tolist() == ["办公室审核", "财务初审"]
    assert df.loc[df.node == "财务初审", "first"].iloc[0] == pd.Timestamp("2025-03-07 09:00",
                                                                          tz="Asia/Shanghai")
    assert log.n_cases == 2 and log.n_events == 7


def test_to_pm4py_feeds_pm4py_discovery(log):
    df = log.to_pm4py()
    dfg, start, end = pm4py.discover_dfg(df)
    assert dfg[("发起", "财务初审")] == 2 and start == {"发起": 2}
    with_outcome = log.to_pm4py(activity="node_outcome")
    assert "财务初审:return" in set(with_outcome["concept:name"])


def test_read_log_refuses_files_that_are_not_officemine_logs(tmp_path):
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1]}), plain)
    with pytest.raises(LogFormatError, match="not an officemine log"):
        officemine.read_log(plain)
    text = tmp_path / "x.parquet"
    text.write_text("hello")
    with pytest.raises(LogFormatError, match="not a Parquet file"):
        officemine.read_log(text)
    with pytest.raises(LogFormatError, match="no such log"):
        officemine.read_log(tmp_path / "missing.parquet")


def test_pending_items_round_trip_and_stay_out_of_pm4py(tmp_path):
    rows = CN_ROWS + [["R2", "用印申请", "归档", "", "", "2025/3/10", "11:30", "", "", "", ""]]
    log = officemine.import_log(write_csv(tmp_path / "p.csv", CN_HEADER, rows))
    back = officemine.read_log(log.write(tmp_path / "p.parquet"))
    df = back.to_pandas()
    assert df.pending.sum() == 1 and df[df.pending].acted_at.isna().all()
    assert len(back.to_pm4py()) == len(df) - 1


def test_select_cases_keeps_whole_cases(log):
    # R1 is submitted 2025-03-05 and archived 03-07 09:01; R2 is submitted 03-07 and still
    # open (its last action, on 03-10, is an approval: nothing ended it)
    ended = log.select_cases("2025-03-07", "2025-03-08")
    assert set(ended.to_pandas().case_id) == {"R1"} and ended.n_events == 5
    # a case still open never counts as ended, whenever its last action was
    assert log.select_cases("2025-03-08", "2025-03-31").n_events == 0
    started = log.select_cases("2025-03-05", "2025-03-06", by="start")
    assert set(started.to_pandas().case_id) == {"R1"} and started.n_events == 5
    active = log.select_cases("2025-03-07", "2025-03-08", by="active")
    assert set(active.to_pandas().case_id) == {"R1", "R2"}
    # after R1 ended only R2 is open: open cases stay active until they end
    later = log.select_cases("2025-04-01", "2025-04-02", by="active")
    assert set(later.to_pandas().case_id) == {"R2"}
    typed = log.select_cases(process_type="用印申请")
    assert set(typed.to_pandas().case_id) == {"R2"}
    assert typed.to_arrow().schema == log.to_arrow().schema


# --- stored visit columns and the on-disk log ------------------------------------------------

def _canonical_frame(rows):
    """Canonical events from (case, seq, node, outcome, minute of action) tuples."""
    t0 = pd.Timestamp("2025-03-03 09:00", tz="Asia/Shanghai")
    frame = pd.DataFrame(rows, columns=["case_id", "seq", "node", "outcome", "minute"])
    frame["acted_at"] = t0 + pd.to_timedelta(frame.pop("minute"), unit="min")
    frame["wait_start"] = frame["acted_at"] - pd.Timedelta(minutes=5)
    frame["arrival_source"] = ["recorded" if i % 2 else "inferred" for i in range(len(frame))]
    for column in ("resource", "dept", "comment", "process_type", "urgency", "applicant",
                   "applicant_dept", "title", "source_file", "source_row"):
        frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["arrived_at"] = pd.Series(pd.NaT, index=frame.index, dtype=frame["acted_at"].dtype)
    frame["pending"] = False
    frame["amount"] = np.nan
    frame["seq"] = frame["seq"].astype("int32")
    return frame


ROWS = [  # given out of order on purpose: the log puts them in (case_id, seq) order
    ("B", 1, "科长", "approve", 70), ("A", 0, "发起", "submit", 0),
    ("A", 1, "科长", "transfer", 10),       # a transfer stays in the visit
    ("A", 2, "科长", "cc", 11),             # cc is not blocking: no visit
    ("A", 3, "科长", "return", 20), ("A", 4, "发起", "resubmit", 30),
    ("A", 5, "科长", "approve", 40), ("A", 6, "处长", "approve", 50),
    ("B", 0, "发起", "submit", 60),
]


def test_visit_columns_are_derived_in_case_order():
    log = EventLog.from_pandas(_canonical_frame(ROWS), timezone="Asia/Shanghai")
    df = log.query("SELECT case_id, seq, visit, round, visit_start, visit_source, wait_start, "
                   "arrival_source FROM events")          # a plain scan keeps the log's order
    assert list(zip(df.case_id, df.seq)) == sorted((r[0], r[1]) for r in ROWS)
    a = df[df.case_id == "A"].set_index("seq")
    assert a.visit.tolist()[:2] == [1, 2] and pd.isna(a.visit[2])
    assert a.visit.tolist()[3:] == [2, 3, 4, 5]
    assert a["round"].tolist() == [1, 1, 1, 1, 2, 2, 2]
    # the transfer's visit started when the item reached 科长 (seq 1), the return too
    assert a.visit_start[3] == a.wait_start[1] and a.visit_source[3] == a.arrival_source[1]
    assert a.visit_start[5] == a.wait_start[5] and pd.isna(a.visit_start[2])
    assert df[df.case_id == "B"].visit.tolist() == [1, 2]


def test_visit_columns_equal_the_window_definition_on_a_real_import(tmp_path, log):
    log = officemine.read_log(log.write(tmp_path / "l.parquet"))
    check = log.query("""
        SELECT case_id, seq, visit, round,
               sum(new) OVER (PARTITION BY case_id ORDER BY seq) AS v,
               count(*) FILTER (WHERE outcome IN ('submit', 'resubmit'))
                   OVER (PARTITION BY case_id ORDER BY seq) AS r
        FROM (SELECT *, CASE WHEN node IS DISTINCT FROM lag(node) OVER
                  (PARTITION BY case_id ORDER BY seq) THEN 1 ELSE 0 END AS new
              FROM events WHERE outcome NOT IN ('cc', 'comment', 'remind'))""")
    assert len(check) == 7
    assert (check.visit == check.v).all() and (check["round"] == check.r).all()


def test_read_log_scans_the_file_and_reads_older_files(tmp_path, log):
    path = log.write(tmp_path / "l.parquet")
    back = officemine.read_log(path)
    assert back.n_events == 7 and back.n_cases == 2
    assert back._table is None                      # queries did not load the file
    # a format-1 file (no visit columns) still opens, with the columns derived
    table = pq.read_table(path).drop_columns(["visit", "round", "visit_start", "visit_source"])
    meta = json.loads(table.schema.metadata[b"officemine"])
    meta["format_version"] = 1
    table = table.replace_schema_metadata({**table.schema.metadata,
                                           b"officemine": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "old.parquet")
    old = officemine.read_log(tmp_path / "old.parquet")
    pd.testing.assert_frame_equal(old.to_pandas(), back.to_pandas())


def test_a_format_3_log_opens_with_instance_ids_and_no_objects(tmp_path, log):
    back = officemine.read_log(log.write(tmp_path / "l.parquet"))
    # format 3 (before attempts were linked) has neither column
    table = pq.read_table(tmp_path / "l.parquet").drop_columns(["instance_id", "object"])
    meta = json.loads(table.schema.metadata[b"officemine"])
    meta["format_version"] = 3
    for field in ("instances", "links_by_rule", "ambiguous_links", "rejections_as_returns"):
        del meta["import_report"][field]                # written before they were counted
    table = table.replace_schema_metadata({**table.schema.metadata,
                                           b"officemine": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "v3.parquet")
    old = officemine.read_log(tmp_path / "v3.parquet")
    events = old.to_pandas()
    assert (events["instance_id"] == events["case_id"]).all() and events["object"].isna().all()
    pd.testing.assert_frame_equal(events, back.to_pandas())
    assert old.report.instances is None and old.report.rows_read == back.report.rows_read


def test_rounds_count_per_object():
    frame = _canonical_frame([
        ("P", 0, "发起", "submit", 0), ("P", 1, "审核", "return", 10),
        ("P", 2, "发起", "resubmit", 20), ("P", 3, "审核", "approve", 30),
        ("P", 4, "发起", "submit", 40), ("P", 5, "审核", "approve", 50),
        ("P", 6, "付款", "archive", 60)])
    frame["object"] = pd.array(["Permit"] * 4 + ["Declaration"] * 2 + [None], dtype="string")
    log = EventLog.from_pandas(frame, timezone="Asia/Shanghai")
    rounds = log.query("SELECT round FROM events")["round"].tolist()
    # the permit's return starts its round 2, not the declaration's: the declaration is in
    # its round 1; the payment, which names no object, counts every return of the case
    assert rounds == [1, 1, 2, 2, 1, 1, 2]
    frame.loc[5, "outcome"] = "return"                 # the declaration is returned too
    frame.loc[6, "outcome"] = "resubmit"
    log = EventLog.from_pandas(frame, timezone="Asia/Shanghai")
    assert log.query("SELECT round FROM events")["round"].tolist() == [1, 1, 2, 2, 1, 1, 3]
    without = EventLog.from_pandas(frame.drop(columns="object"), timezone="Asia/Shanghai")
    assert without.query("SELECT round FROM events")["round"].tolist() == [1, 1, 2, 2, 2, 2, 3]


def test_query_gives_duckdbs_pandas_types_through_arrow(log):
    sql = """SELECT * FROM (VALUES ('a', 1, true, 2.5, DATE '2025-01-02', 10::HUGEINT, 3),
                                   (NULL, NULL, NULL, NULL, NULL, NULL, 4))
             t(s, i, b, f, d, h, n)"""
    ours, duckdbs = log.query(sql), log.con.execute(sql).df()
    pd.testing.assert_frame_equal(ours, duckdbs)
    assert str(ours.i.dtype) == "Int32" and ours.n.dtype == np.int32


def test_queries_work_after_a_caller_left_a_result_unread(log):
    log.con.execute("SELECT case_id FROM events").fetchone()     # half-read DB-API result
    assert len(log.query("SELECT * FROM events")) == 7
    assert log.one("SELECT count(*) FROM events") == (7,)


@pytest.mark.parametrize("by", ["end", "start", "active"])
def test_selecting_cases_of_a_log_on_disk_filters_the_file(tmp_path, log, by):
    back = officemine.read_log(log.write(tmp_path / "l.parquet"))
    for args in (("2025-03-07", "2025-03-08"), ("2025-03-05", None), (None, "2025-03-06")):
        on_disk = back.select_cases(*args, by=by)
        in_memory = log.select_cases(*args, by=by)
        assert on_disk._table is None                    # a filtered view, nothing loaded
        assert on_disk.n_events == in_memory.n_events and on_disk.n_cases == in_memory.n_cases
        pd.testing.assert_frame_equal(on_disk.to_pandas(), in_memory.to_pandas())
    typed = back.select_cases("2025-03-01", by=by, process_type="用印申请")
    # R2 is still open: it has not ended in any window, it started and is active in this one
    assert set(typed.query("SELECT case_id FROM events").case_id) == (
        set() if by == "end" else {"R2"})
    # a selection of a selection narrows further
    assert back.select_cases(process_type="用印申请").select_cases(end="2025-03-08").n_events == 0


# --- a stored log is untrusted input ----------------------------------------------------------

def _with_metadata(source: Path, target: Path, edit) -> Path:
    """A copy of a stored log whose officemine metadata went through `edit(meta) -> bytes`."""
    table = pq.read_table(source)
    meta = json.loads(table.schema.metadata[b"officemine"])
    table = table.replace_schema_metadata({**table.schema.metadata, b"officemine": edit(meta)})
    pq.write_table(table, target)
    return target


def _edited(**changes):
    return lambda meta: json.dumps({**meta, **changes}).encode()


def test_a_crafted_time_zone_in_a_stored_log_runs_no_sql(log, tmp_path):
    good = log.write(tmp_path / "good.parquet")
    written = tmp_path / "pwned.csv"
    zone = f"UTC'; COPY (SELECT 42 AS x) TO '{written}'; SET TimeZone='UTC"
    evil = _with_metadata(good, tmp_path / "evil.parquet", _edited(timezone=zone))
    with pytest.raises(LogFormatError, match="timezone must be a known time zone"):
        officemine.read_log(evil)
    with pytest.raises(LogFormatError, match="unknown time zone"):   # nor through the API
        EventLog(log.to_arrow(), timezone=zone, _derived=True)
    result = CliRunner().invoke(app, ["info", str(evil)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not written.exists()


@pytest.mark.parametrize("edit, message", [
    (lambda meta: b"{not json", "not valid JSON"),
    (lambda meta: b"[1, 2]", "not a JSON object"),
    (_edited(format_version=99), "newer officemine"),
    (_edited(format_version="2"), "format_version must be a whole number"),
    (_edited(format_version=None), "format_version must be a whole number"),
    (_edited(timezone=None), "timezone must be"),
    (_edited(timezone="Mars/Olympus"), "timezone must be"),
    (_edited(cases=-3), "cases must be a count"),
    (_edited(one_type_per_case="yes"), "one_type_per_case must be true or false"),
    (_edited(mapping=[1]), "mapping must be an object"),
    (_edited(import_report={"rows_read": "many"}), "import_report is not an import report"),
    (_edited(import_report=7), "import_report is not an import report"),
], ids=["not-json", "not-object", "newer", "version-text", "version-missing", "zone-missing",
        "zone-unknown", "cases-negative", "one-type-text", "mapping-list", "report-types", "report-number"])
def test_stored_log_metadata_is_checked_field_by_field(log, tmp_path, edit, message):
    bad = _with_metadata(log.write(tmp_path / "good.parquet"), tmp_path / "bad.parquet", edit)
    with pytest.raises(LogFormatError, match=message):
        officemine.read_log(bad)
    result = CliRunner().invoke(app, ["info", str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "error:" in result.output


def test_a_misspelt_time_zone_is_one_clear_message(tmp_path):
    source = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS, "gbk")
    with pytest.raises(officemine.OfficemineError, match="unknown time zone 'Asia/Shangai'"):
        officemine.import_log(source, timezone="Asia/Shangai")
    result = CliRunner().invoke(app, ["validate", str(source), "--timezone", "Asia/Shangai"])
    assert result.exit_code == 2 and "unknown time zone" in result.output
