"""Storage as Parquet, DuckDB queries and pm4py interoperability."""

import pandas as pd
import pm4py
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import officemine
from officemine import LogFormatError

from test_import_tabular import CN_HEADER, CN_ROWS, write_csv


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
    # R1 runs 2025-03-05 .. 03-07, R2 03-07 .. 03-10
    ended = log.select_cases("2025-03-08", "2025-03-31")
    assert set(ended.to_pandas().case_id) == {"R2"} and ended.n_events == 2
    started = log.select_cases("2025-03-05", "2025-03-06", by="start")
    assert set(started.to_pandas().case_id) == {"R1"} and started.n_events == 5
    active = log.select_cases("2025-03-07", "2025-03-08", by="active")
    assert set(active.to_pandas().case_id) == {"R1", "R2"}
    typed = log.select_cases(process_type="用印申请")
    assert set(typed.to_pandas().case_id) == {"R2"}
    assert typed.to_arrow().schema == log.to_arrow().schema
