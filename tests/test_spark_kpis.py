"""The Spark engine's monthly KPIs and trend equal the one-machine (DuckDB) engine's: counts
exactly, cycle times to the second — on the sample, on a real BPI Challenge log and on the
1M-event benchmark log; each unit of a group from one run equals one machine on that unit's
cases alone (one shared local Spark session)."""

from __future__ import annotations

import math

import pyarrow.compute as pc
import pytest

import officemine
from officemine import spark as oms
from officemine.base.errors import OfficemineError
from officemine.log.eventlog import EventLog
from officemine.kpis import KPI_KEYS, kpi_trend, monthly_kpis

from conftest import REPO

pytestmark = pytest.mark.spark

SECOND_DAYS = 1 / 86400           # a second, in (clock or working) days: a working day is shorter


def assert_same(ours, theirs, path: str = "") -> None:
    """Two KPI results as their JSON says them: the same keys, texts and counts; numbers
    within rounding (means are summed in another order), days within a second."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), path
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, float) and not isinstance(ours, bool):
        assert isinstance(ours, (int, float)), path
        if math.isnan(theirs):
            assert math.isnan(ours), path
        else:
            tolerance = SECOND_DAYS if "days" in path else 0.0
            assert abs(ours - theirs) <= max(tolerance, 1e-12 * abs(theirs)), \
                f"{path}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def test_the_sample_month_and_trend_on_spark_equal_one_machine(spark, spark_sample_log):
    log, on_spark = officemine.read_log(spark_sample_log), oms.read_log(spark, spark_sample_log)
    one = monthly_kpis(log)
    ours = oms.monthly_kpis(on_spark)
    assert ours.cases is None and one.has_data
    assert ours.month == one.month and ours.tile("completed").value > 100
    assert_same(ours.to_dict(), one.to_dict())
    # a trend ending in an earlier month
    assert_same(oms.kpi_trend(on_spark, 6, "2025-03").to_dict(),
                kpi_trend(log, 6, "2025-03").to_dict())


def test_a_month_outside_the_log_says_so_as_on_one_machine(spark, spark_sample_log):
    ours = oms.monthly_kpis(oms.read_log(spark, spark_sample_log), "2031-01")
    one = monthly_kpis(officemine.read_log(spark_sample_log), "2031-01")
    assert not ours.has_data and "outside the log" in ours.message
    assert_same(ours.to_dict(), one.to_dict())


def test_what_is_not_on_spark_is_refused_clearly(spark, spark_sample_log):
    on_spark = oms.read_log(spark, spark_sample_log)
    with pytest.raises(OfficemineError, match="not on Spark yet"):
        oms.monthly_kpis(on_spark, procedures=REPO / "procedures")
    with pytest.raises(OfficemineError, match="no column 'company'"):
        oms.monthly_kpis_by_unit(on_spark, "company")
    with pytest.raises(OfficemineError, match="month must be like"):
        oms.monthly_kpis(on_spark, "October")
    with pytest.raises(OfficemineError, match="months must be"):
        oms.kpi_trend(on_spark, months=0)


@pytest.mark.real
def test_a_real_bpi_challenge_log_on_spark(spark, real_data, tmp_path):
    path = tmp_path / "domestic.parquet"
    officemine.import_log(real_data / "DomesticDeclarations.xes.gz",
                          mapping=REPO / "mappings" / "bpic2020.toml").write(path)
    log = officemine.read_log(path)
    # the log's last month holds its tail (one case completed): review a full month
    month, trend = oms.kpis_by_unit(oms.read_log(spark, path), None, "2018-12", trend=12)[None]
    one = monthly_kpis(log, "2018-12")
    assert one.has_data and one.tile("completed").value > 100
    assert_same(month.to_dict(), one.to_dict())
    assert_same(trend.to_dict(), kpi_trend(log, 12, "2018-12").to_dict())


def test_a_million_events_on_spark(spark, spark_benchmark_log):
    log = officemine.read_log(spark_benchmark_log)
    month, trend = oms.kpis_by_unit(oms.read_log(spark, spark_benchmark_log), None, trend=12,
                                    partitions=8)[None]
    one = monthly_kpis(log)
    assert one.log_info["events"] > 990_000 and one.tile("completed").value > 10_000
    assert_same(month.to_dict(), one.to_dict())
    assert_same(trend.to_dict(), kpi_trend(log).to_dict())


def _cases_of(log: EventLog, column: str, value: str | None) -> EventLog:
    """One machine's log of the cases whose `column` is `value` at their first event."""
    table = log.to_arrow()
    first = table.filter(pc.equal(table["seq"], 0))
    hit = pc.is_null(first[column]) if value == "(未知)" else pc.equal(first[column], value)
    ids = first.filter(hit)["case_id"]
    return EventLog(table.filter(pc.is_in(table["case_id"], value_set=ids)),
                    timezone=log.timezone, calendar=log.calendar, mapping=log.mapping,
                    report=log.report, _derived=True)


def test_each_unit_from_one_group_run_equals_its_own_kpis(spark, spark_sample_log):
    """Departments (the applicant's) of the sample reviewed from one run over the whole log:
    each unit's month and trend are what one machine gives on that unit's cases alone; the
    comparison puts them side by side on the same KPIs."""
    whole = officemine.read_log(spark_sample_log)
    results = oms.kpis_by_unit(oms.read_log(spark, spark_sample_log), "applicant_dept", "2025-09",
                               trend=3)
    assert len(results) >= 4
    for unit, (month, trend) in results.items():
        own = _cases_of(whole, "applicant_dept", unit)
        assert_same(month.to_dict(), monthly_kpis(own, "2025-09").to_dict())
        assert_same(trend.to_dict(), kpi_trend(own, 3, "2025-09").to_dict())
    months = {unit: pair[0] for unit, pair in results.items()}
    table = oms.compare_unit_kpis(months)
    completed = table[table["key"] == "completed"]
    assert completed["value"].tolist() == sorted(completed["value"], reverse=True)
    assert sum(completed["value"]) == monthly_kpis(whole, "2025-09").tile("completed").value
    assert set(table["unit"]) == set(results) and len(table) == len(results) * len(KPI_KEYS)
