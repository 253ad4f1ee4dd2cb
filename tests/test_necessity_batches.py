"""The necessity test of a log larger than memory: its items read in batches of whole cases,
each batch's facts merged (`GroupFacts.merged`), equal the test of the whole log in memory —
on the sample forced through batches of a few dozen items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import officemine
from officemine.log import relations
from officemine.base.errors import OfficemineError
from officemine.necessity import GroupFacts, _merged_waits

#: Floats summed in another order (totals over batches) agree to rounding; every other
#: figure, waits included, is equal.
SUMS = ("wait_total", "wait_share")


@pytest.fixture(scope="module")
def stored(tmp_path_factory, sample_csv):
    path = tmp_path_factory.mktemp("batches") / "oa_sample.parquet"
    officemine.import_log(sample_csv).write(path)
    return path


def assert_equal_results(batched, whole) -> None:
    a, b = batched.summary, whole.summary
    assert list(a.columns) == list(b.columns)
    assert a["node"].tolist() == b["node"].tolist()
    for column in a.columns:
        if column in SUMS:
            assert np.allclose(a[column].astype(float), b[column].astype(float), rtol=1e-12,
                               atol=0, equal_nan=True), column
        else:
            pd.testing.assert_series_equal(a[column], b[column], check_exact=True,
                                           obj=column)
    pd.testing.assert_frame_equal(batched.reasons, whole.reasons)
    o, w = batched.other_nodes, whole.other_nodes
    pd.testing.assert_frame_equal(o.drop(columns="wait_total"), w.drop(columns="wait_total"),
                                  check_exact=True)
    assert np.allclose(o["wait_total"].astype(float), w["wait_total"].astype(float),
                       rtol=1e-12, equal_nan=True)
    assert batched.as_of == whole.as_of
    assert batched.log_info == whole.log_info
    assert batched.not_approval_nodes == whole.not_approval_nodes
    assert batched.warnings == whole.warnings
    pd.testing.assert_frame_equal(batched.removed_nodes, whole.removed_nodes)
    assert batched.items is None and whole.items is not None


@pytest.mark.parametrize("options", [
    {"since": "all"}, {}, {"since": "all", "by": "process_type"},
    {"since": "all", "basis": "clock"}, {"since": "all", "as_of": "2025-11-15 12:00"}],
    ids=["all", "current", "by_process_type", "clock", "as_of"])
def test_batches_of_whole_cases_equal_the_whole_log(stored, options):
    whole = officemine.necessity(officemine.read_log(stored), **options)
    batched = officemine.necessity(officemine.read_log(stored), batch_items=40, **options)
    assert_equal_results(batched, whole)
    assert len(whole.summary) >= 10 and whole.summary["pending"].sum() > 0


def test_a_memory_limit_reads_the_stored_log_in_batches(stored):
    log = officemine.read_log(stored)
    result = officemine.necessity(log, since="all", memory_limit="1GB")
    assert_equal_results(result, officemine.necessity(officemine.read_log(stored), since="all"))
    # the current versions (the default) are found in batches too: the same cases judged
    current = officemine.necessity(officemine.read_log(stored), memory_limit="1GB")
    assert_equal_results(current, officemine.necessity(officemine.read_log(stored)))
    assert current.versions.since and current.versions.cases.columns.tolist() == [
        "process_type", "start_at", "ended_at"]            # no case ids held
    # the scan's DuckDB is held to a sixth of the setting, on a connection of its own
    con = log.connect(memory_limit=(1 << 30) // 6)
    assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == "170.0 MiB"
    assert log.one("SELECT current_setting('memory_limit')")[0] != "170.0 MiB"
    with pytest.raises(OfficemineError, match="memory limit"):
        officemine.necessity(log, memory_limit="a lot")


def test_item_batches_hold_whole_cases_in_case_order(stored):
    log = officemine.read_log(stored)
    whole = relations.work_items(log, columns=("comment",))
    batches = list(relations.work_item_batches(log, columns=("comment",), items=100))
    assert len(batches) > 10
    # about 100 items each: the whole cases among the first 100 read (a case holds < 50)
    assert all(50 <= len(b) <= 200 for b in batches[:-1])
    cases = [set(b["case_id"]) for b in batches]
    assert sum(len(c) for c in cases) == whole["case_id"].nunique()     # none cut in two
    joined = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)


def test_a_log_out_of_case_order_is_refused(stored, tmp_path):
    """Batches of whole cases need the rows of each case together; a stored log in another
    order would split a case, so it is refused, not miscounted."""
    table = pq.read_table(stored)
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(table.take(np.random.default_rng(0).permutation(table.num_rows)), shuffled)
    log = officemine.read_log(shuffled)
    with pytest.raises(OfficemineError, match="not in case order"):
        officemine.necessity(log, since="all", batch_items=40)
    assert len(officemine.necessity(log, since="all").summary) >= 10    # in memory: fine


def test_merged_waits_count_each_distinct_wait():
    values, observed, weights = _merged_waits(
        (np.array([2.0, np.nan, 1.0, 2.0]), np.array([True, True, False, True]), None),
        (np.array([1.0, 2.0, np.nan]), np.array([False, False, True]), np.array([3, 1, 2])))
    got = sorted(zip(np.nan_to_num(values, nan=-1).tolist(), observed.tolist(),
                     weights.tolist()))
    assert got == [(-1.0, True, 3), (1.0, False, 4), (2.0, False, 1), (2.0, True, 2)]


def test_merged_facts_keep_the_first_appearance_of_reasons():
    def facts(reasons, total):
        empty = (np.array([]), np.array([], bool), None)
        return GroupFacts(items=1, pending=0, cases=1, approvals=0, rejections=1, returns=1,
                          rejects=0, caught=0, recorded=0, inferred=0,
                          waits={"wait_hours": empty, "wait_workhours": empty},
                          wait_total={"wait_hours": total, "wait_workhours": float("nan")},
                          reasons=reasons)
    merged = facts([("金额或数据有误", 2)], float("nan")).merged(
        facts([("材料不全", 1), ("金额或数据有误", 1)], 4.0))
    assert merged.reasons == [("金额或数据有误", 3), ("材料不全", 1)]
    assert merged.items == 2 and merged.cases == 2
    assert merged.wait_total["wait_hours"] == 4.0
    assert np.isnan(merged.wait_total["wait_workhours"])


def test_the_command_reads_a_stored_log_within_a_memory_limit(stored, sample_csv):
    from typer.testing import CliRunner

    from officemine.cli import app

    runner = CliRunner()
    batched = runner.invoke(app, ["necessity", str(stored), "--memory-limit", "1GB", "--json",
                                  "-"])
    assert batched.exit_code == 0, batched.output
    whole = runner.invoke(app, ["necessity", str(stored), "--json", "-"])
    assert batched.stdout == whole.stdout          # the same JSON, to the last digit
    source = runner.invoke(app, ["necessity", str(sample_csv), "--memory-limit", "1GB"])
    assert source.exit_code == 2 and "import" in source.output
    spark = runner.invoke(app, ["necessity", str(stored), "--engine", "spark",
                                "--memory-limit", "1GB"])
    assert spark.exit_code == 2 and "--memory-limit" in spark.output
