"""The monthly KPIs and their trend of a log larger than memory: its cases read in batches of
whole cases (`relations.case_batches`), each batch reduced to its months' facts
(`kpis.MonthFacts`), equal the KPIs of the whole log in memory to the last digit — on the sample
and on a generated dirty export, forced through batches of a few hundred to a thousand events."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import officemine
from officemine.log import relations
from officemine.base.errors import InputError, NotSupportedError, OfficemineError
from officemine.kpis import kpi_trend, monthly_kpis

from conftest import REPO


@pytest.fixture(scope="module")
def stored(tmp_path_factory, sample_csv):
    path = tmp_path_factory.mktemp("kpi_batches") / "oa_sample.parquet"
    officemine.import_log(sample_csv).write(path)
    return path


@pytest.fixture(scope="module")
def stored_dirty(tmp_path_factory, dirty_attempts):  # noqa: F811
    path = tmp_path_factory.mktemp("kpi_batches_dirty") / "dirty.parquet"
    log = officemine.import_log(dirty_attempts)
    assert len(log.set_aside) > 100            # it is dirty: rows of every kind set aside
    log.write(path)
    return path


def assert_same_month(batched, whole) -> None:
    """Every table, tile, change and note of two months' KPIs equal, exactly."""
    for frame in ("summary", "by_process", "changes"):
        pd.testing.assert_frame_equal(getattr(batched, frame), getattr(whole, frame),
                                      check_exact=True, obj=frame)
    assert [json.dumps(t.to_dict()) for t in batched.kpis] == \
        [json.dumps(t.to_dict()) for t in whole.kpis]
    for name in ("month", "has_data", "message", "period", "calendar", "notes", "log_info"):
        assert getattr(batched, name) == getattr(whole, name), name
    assert batched.to_json() == whole.to_json()
    assert batched.cases is None and whole.cases is not None


def assert_same_trend(batched, whole) -> None:
    assert batched.months == whole.months
    pd.testing.assert_frame_equal(batched.summary, whole.summary, check_exact=True)
    pd.testing.assert_frame_equal(batched.by_process, whole.by_process, check_exact=True)
    assert batched.notes == whole.notes and batched.log_info == whole.log_info
    assert batched.to_json() == whole.to_json()


@pytest.mark.parametrize("month", [None, "2025-03", "2031-01"],
                         ids=["last_month", "mid_log", "outside_the_log"])
def test_a_month_in_batches_equals_the_whole_log(stored, month):
    whole = monthly_kpis(officemine.read_log(stored), month)
    batched = monthly_kpis(officemine.read_log(stored), month, batch_events=1_000)
    assert_same_month(batched, whole)
    if month != "2031-01":
        # medians, p90 and changes that could come out otherwise
        assert whole.has_data and whole.tile("completed").value > 100
        assert whole.tile("cycle_p90_workdays").value > whole.tile("cycle_median_workdays").value
        assert whole.tile("on_time_rate").mom.abs is not None
        assert whole.tile("open_at_month_end").value > 0
    else:
        assert not batched.has_data and "outside the log" in batched.message


@pytest.mark.parametrize("months, end", [(12, None), (6, "2025-03")])
def test_a_trend_in_batches_equals_the_whole_log(stored, months, end):
    whole = kpi_trend(officemine.read_log(stored), months, end)
    batched = kpi_trend(officemine.read_log(stored), months, end, batch_events=1_000)
    assert_same_trend(batched, whole)
    assert whole.summary["has_data"].sum() >= 5        # the 6 months start before the log
    assert whole.summary["cycle_mean_workdays"].notna().sum() >= 5


def test_a_dirty_export_in_batches_equals_the_whole_log(stored_dirty):
    """Linked attempts of one matter, cases with no submission (timed from their first
    event), cases open at each month's end, rows set aside: the same figures."""
    log = officemine.read_log(stored_dirty)
    for month in ("2025-03", "2025-04"):
        whole = monthly_kpis(log, month)
        assert_same_month(monthly_kpis(officemine.read_log(stored_dirty), month,
                                       batch_events=200), whole)
        assert whole.tile("completed").value > 50
    whole = kpi_trend(log, 3, "2025-04")
    assert_same_trend(kpi_trend(officemine.read_log(stored_dirty), 3, "2025-04",
                                batch_events=200), whole)
    assert whole.summary["open_at_month_end"].max() > 0
    assert whole.by_process["completed"].fillna(0).gt(0).sum() >= 4


def test_case_batches_hold_whole_cases_in_case_order(stored):
    log = officemine.read_log(stored)
    batches = list(relations.case_batches(log, events=300))
    assert len(batches) > 20
    assert all(200 <= b.n_events <= 600 for b in batches[:-1])
    whole = relations.cases(log)
    joined = pd.concat([relations.cases(b) for b in batches], ignore_index=True)
    assert joined["case_id"].is_unique                    # none cut in two
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)


def test_a_memory_limit_reads_in_batches_and_is_checked(stored, sample_csv):
    log = officemine.read_log(stored)
    assert_same_month(monthly_kpis(log, memory_limit="1GB"),
                      monthly_kpis(officemine.read_log(stored)))
    # a log in memory reads the same way (as the necessity test's batches do): the command
    # line refuses a source that is not a stored log (tests/test_report.py)
    assert_same_month(monthly_kpis(officemine.import_log(sample_csv), batch_events=2_000),
                      monthly_kpis(officemine.read_log(stored)))
    with pytest.raises(InputError, match="memory limit 'a lot' is not a size"):
        monthly_kpis(log, memory_limit="a lot")
    with pytest.raises(InputError, match="memory limit"):
        kpi_trend(log, memory_limit="12 parsecs")


def test_what_batches_do_not_compute_is_refused(stored, tmp_path):
    """不合规率 needs the conformance check, which is not read in batches; a stored log out of
    case order would cut cases in two. Both are refused, not miscounted."""
    log = officemine.read_log(stored)
    with pytest.raises(NotSupportedError, match="not computed in batches"):
        monthly_kpis(log, procedures=REPO / "procedures", memory_limit="1GB")
    table = pq.read_table(stored)
    shuffled = tmp_path / "shuffled.parquet"
    pq.write_table(table.take(np.random.default_rng(0).permutation(table.num_rows)), shuffled)
    with pytest.raises(OfficemineError, match="not in case order"):
        kpi_trend(officemine.read_log(shuffled), batch_events=300)
