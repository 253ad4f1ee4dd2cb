"""The streaming import gives exactly what the in-memory import gives: the same events in the
same order, the same set-aside file byte for byte, the same import report — on exports forced
through batches of a few hundred rows, so that cases, instances and linked attempts fall in
different batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.base.errors import OfficemineError, SourceError
from officemine.importing.mapping import Linking, Mapping
from officemine.importing.streaming import (batch_rows_for, import_streaming, parse_size,
                                            should_stream)
from officemine.log.schema import C

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "sample_logs" / "oa_sample.csv"


def _both(source: Path, tmp_path: Path, rows: int, **options):
    """Import `source` in memory and streamed in batches of `rows`; check that the two agree
    in every stored byte that matters; return (in-memory log, streamed log)."""
    memory = officemine.import_log(source, **options)
    memory.write(tmp_path / "memory.parquet")
    streamed = import_streaming(source, tmp_path / "streamed.parquet", batch_rows=rows,
                                **options)
    a, b = pq.read_table(tmp_path / "memory.parquet"), pq.read_table(tmp_path / "streamed.parquet")
    assert a.schema.equals(b.schema, check_metadata=False)
    assert a.num_rows == b.num_rows
    for column in a.column_names:
        assert a[column].equals(b[column]), column
    left, right = memory.report.to_dict(), streamed.report.to_dict()
    for report, log in ((left, "memory"), (right, "streamed")):
        file = report.pop("set_aside_file")
        assert file in (None, str(tmp_path / f"{log}.set_aside.csv"))
    assert left == right
    assert streamed.n_cases == memory.n_cases
    assert streamed.calendar == memory.calendar
    aside_a, aside_b = (tmp_path / "memory.set_aside.csv", tmp_path / "streamed.set_aside.csv")
    assert aside_a.exists() == aside_b.exists()
    if aside_a.exists():
        assert aside_a.read_bytes() == aside_b.read_bytes()
    return memory, streamed


def _batches(tmp_path: Path) -> int:
    """How many batches the streamed log was written in (one row group each)."""
    return pq.ParquetFile(tmp_path / "streamed.parquet").num_row_groups


def test_the_sample_streamed_in_small_batches_is_the_in_memory_log(tmp_path):
    memory, streamed = _both(SAMPLE, tmp_path, rows=1_500)
    assert _batches(tmp_path) >= 8
    assert streamed.report.rows_accepted == memory.report.rows_accepted > 10_000
    # the stored log reads back like any other: the analyses see the same log
    assert streamed.query("SELECT count(DISTINCT case_id) FROM events").iloc[0, 0] == \
        memory.n_cases


def test_a_dirty_export_of_linked_attempts_streams_exactly(dirty_attempts, tmp_path):
    rows = 200
    memory, streamed = _both(dirty_attempts, tmp_path, rows=rows)
    report = streamed.report
    assert _batches(tmp_path) >= 10
    reasons = set(report.set_aside_by_reason)
    assert reasons >= {"missing_case_id", "missing_node", "unparseable_time",
                       "implausible_time", "unknown_outcome", "bad_amount",
                       "action_before_arrival", "duplicate", "malformed_record"}, reasons
    assert report.links_by_rule["form"] > 30
    assert report.rows_read == report.rows_accepted + report.rows_set_aside
    assert any("blank lines" in note for note in report.notes)
    # attempts of one request were in batches far apart: linking across batches happened
    events = memory.to_pandas()
    sizes = events.groupby(C.instance_id).size().sort_index()
    end = sizes.cumsum()                         # rows up to each instance, in instance order
    linked = events.loc[events[C.instance_id] != events[C.case_id],
                        [C.instance_id, C.case_id]].drop_duplicates()
    apart = (end.loc[linked[C.instance_id]].to_numpy()
             - end.loc[linked[C.case_id]].to_numpy())
    assert (np.abs(apart) > 3 * rows).sum() > 10


def test_no_link_streams_in_one_pass(dirty_attempts, tmp_path):
    memory, streamed = _both(dirty_attempts, tmp_path, rows=300, link=False)
    assert streamed.report.links_by_rule == {"field": 0, "form": 0}
    assert streamed.n_cases == streamed.report.instances


def test_a_link_field_naming_an_instance_in_another_batch(tmp_path):
    mapping = Mapping(linking=Linking(field="原单号"))
    memory, streamed = _both(DATA / "linking" / "linked_by_field.csv", tmp_path, rows=1,
                             mapping=mapping)
    assert streamed.report.links_by_rule["field"] >= 1
    assert _batches(tmp_path) >= 2


def test_objects_and_label_rules_stream_exactly(tmp_path):
    """Label rules give node, outcome and object; a case holds two declarations (the second
    numbered), and a rejection followed by a resubmission is a return."""
    rows = ["case,activity,time,resource"]
    for case in range(40):
        t = pd.Timestamp("2025-03-03 09:00") + pd.Timedelta(hours=7 * case)
        steps = ["Declaration SUBMITTED", "Declaration REJECTED", "Declaration SUBMITTED",
                 "Declaration APPROVED", "Declaration SUBMITTED", "Declaration APPROVED",
                 "Payment Handled"]
        for k, step in enumerate(steps[: 3 + case % 5]):
            rows.append(f"C{case:03d},{step},{t + pd.Timedelta(hours=k)},P{k % 3}")
    path = tmp_path / "objects.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = Mapping.from_dict({
        "columns": {"case_id": "case", "label": "activity", "acted_at": "time"},
        "label_rules": [
            {"pattern": r"^(?P<object>Declaration) (?P<outcome>SUBMITTED|APPROVED|REJECTED)$",
             "node": "Declaration"},
            {"pattern": "^Payment Handled$", "outcome": "archive"}],
        "outcomes": {"SUBMITTED": "submit", "APPROVED": "approve", "REJECTED": "reject"}})
    memory, streamed = _both(path, tmp_path, rows=20, mapping=mapping)
    objects = set(streamed.to_pandas()[C.object].dropna())
    assert {"Declaration", "Declaration #2"} <= objects
    assert streamed.report.rejections_as_returns > 0


def test_an_unclosed_quote_in_a_later_batch_names_the_same_row_and_line(tmp_path):
    lines = ["流程编号,节点名称,操作类型,操作人,操作时间,签字意见"]
    for i in range(3000):
        lines.append(f"R{i},部门审核,同意,张三,2025-03-03 09:{i % 60:02d},同意")
    lines[2500] = 'R2499,部门审核,同意,张三,2025-03-03 09:00,"同意\n' + lines[2500][:-3]
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as memory:
        officemine.import_log(path)
    with pytest.raises(SourceError) as streamed:
        import_streaming(path, tmp_path / "quote.parquet", batch_rows=100)
    assert str(streamed.value) == str(memory.value)
    assert "quote" in str(streamed.value)
    assert not (tmp_path / "quote.parquet").exists()


def test_sizes_and_when_to_stream(tmp_path):
    assert parse_size("3GB") == 3 << 30
    assert parse_size("512 mb") == 512 << 20
    assert parse_size(1 << 30) == 1 << 30
    for bad in ("three", "3 parsecs", "100MB"):
        with pytest.raises(OfficemineError):
            parse_size(bad)
    assert should_stream(SAMPLE, "csv", 256 << 20) is False
    assert should_stream(SAMPLE, "csv", 1 << 30) is False
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:          # sparse: a size without the bytes
        fh.truncate(1 << 30)
    assert should_stream(big, "csv", 3 << 30) is True
    assert should_stream(big, "xes", 3 << 30) is False
    # a smaller limit gives smaller batches; the default fits a million rows or so
    assert batch_rows_for(1 << 30) < batch_rows_for(3 << 30) <= 2_000_000


def test_cli_import_with_a_memory_limit_streams(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(SAMPLE), "-o", str(tmp_path / "s.parquet"),
                                 "--memory-limit", "1GB", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "streamed within 1 GiB" in result.output
    memory = officemine.import_log(SAMPLE)
    log = officemine.read_log(tmp_path / "s.parquet")
    assert log.report.rows_accepted == memory.report.rows_accepted
    result = runner.invoke(app, ["import", str(SAMPLE), "-o", str(tmp_path / "t.parquet"),
                                 "--memory-limit", "lots"])
    assert result.exit_code == 2
    assert result.output.startswith("error: memory limit 'lots'")


def test_an_export_with_no_rows_is_told_as_the_in_memory_import_tells_it(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("流程编号,节点名称,操作类型,操作时间\n", encoding="utf-8")
    log = import_streaming(path, tmp_path / "empty.parquet", batch_rows=10)
    assert log.report.rows_read == 0 and log.n_events == 0



@pytest.mark.parametrize("batch_rows", [1, 3, 1_000])
def test_codes_from_the_sorted_stream_group_equal_keys_across_batches(batch_rows):
    """`_sorted_codes` numbers keys from DuckDB's sorted stream: rows with equal keys (missing
    equal to missing, in every part) share a code, different keys never do, and rows the
    query leaves out get -1 — whatever the batches cut."""
    import duckdb
    import pyarrow as pa

    from officemine.importing.streaming import _sorted_codes

    rng = np.random.default_rng(7)
    n = 200
    first = pd.array(rng.choice(["甲", "乙", "丙", None], n), dtype="string")
    second = pd.array(rng.choice([1.5, 2.0, None], n), dtype="Float64")
    keep = rng.random(n) < 0.8
    db = duckdb.connect()
    db.register("keys", pa.table({"pos": np.arange(n), "a": pa.array(first, from_pandas=True),
                                  "b": pa.array(second, from_pandas=True), "keep": keep}))
    codes = _sorted_codes(db, "SELECT pos, a AS k0, b AS k1 FROM keys WHERE keep", 2, n,
                          batch_rows=batch_rows)
    assert (codes[~keep] == -1).all()
    frame = pd.DataFrame({"a": first, "b": second})[keep]
    expected = frame.groupby(["a", "b"], dropna=False, sort=False).ngroup().to_numpy()
    got = codes[keep]
    # the same partition of the rows: one code per expected group and vice versa
    assert len(set(zip(expected, got))) == len(set(expected)) == len(set(got))
    assert sorted(set(got)) == list(range(len(set(got))))
