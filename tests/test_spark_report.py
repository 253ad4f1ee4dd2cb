"""The monthly review on Spark: its KPIs, trend and necessity test are the one-machine
review's figures (read back from the JSON written), the parts not on Spark yet are named in
the PDF and the JSON rather than filled in, one review per unit comes from one group run, and
bad input is one ``error:`` line."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import officemine
from officemine import spark as oms
from officemine.cli import app
from officemine.kpis import monthly_kpis
from officemine.review import monthly_report
from officemine.sla import SLA
from officemine.spark.report import NOT_ON_SPARK, unit_reports
from officemine.spark.report import monthly_report as spark_report
from officemine.supervision import bottlenecks, overdue_ledger

from test_spark_discovery import assert_same as assert_same_discovery
from test_spark_kpis import _cases_of
from test_spark_kpis import assert_same as assert_same_kpis
from test_spark_necessity import assert_same as assert_same_necessity

MONTH = "2025-10"


def assert_same_ledger(ours, one) -> None:
    """Two overdue ledgers are the same: every table, the notes and the JSON."""
    for part in ("open_cases", "summary", "by_node", "by_person", "dossiers"):
        pd.testing.assert_frame_equal(getattr(ours, part), getattr(one, part), obj=part)
    assert ours.notes == one.notes and ours.as_of == one.as_of
    assert ours.to_json() == one.to_json()


def assert_same_bottlenecks(ours, one) -> None:
    """The same ranking of nodes and people; counts, medians and p90 exactly, the sums of
    waits to the last digits (Spark adds them in its own order)."""
    assert ours.period == one.period and ours.as_of == one.as_of and ours.notes == one.notes
    for part in ("by_node", "by_person"):
        a, b = getattr(ours, part), getattr(one, part)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=part)
        exact = [c for c in a.columns if c not in ("wait_workhours", "wait_share", "wait_hours")]
        pd.testing.assert_frame_equal(a[exact], b[exact], obj=part)


@pytest.mark.spark
def test_the_sample_review_on_spark_has_the_one_machine_figures(spark, spark_sample_log, tmp_path):
    log = officemine.read_log(spark_sample_log)
    one = monthly_report(log, MONTH)
    ours = spark_report(oms.read_log(spark, spark_sample_log), MONTH)
    one_json = json.loads(one.write(tmp_path / "one")["json"].read_text(encoding="utf-8"))
    paths = ours.write(tmp_path / "spark")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["engine"] == "spark" and one_json["engine"] == "duckdb"
    assert_same_kpis(data["kpis"], one_json["kpis"])
    assert data["necessity_window"] == one_json["necessity_window"]
    assert data["import_report"] == one_json["import_report"]
    assert_same_kpis(ours.trend.to_dict(), one.trend.to_dict())
    # the process versions found on Spark are the one machine's, and the necessity test
    # judges the same cases of the window: each process type's current version
    assert data["versions"] == one_json["versions"] and data["versions"]["changes"]
    assert_same_necessity(ours.necessity, one.necessity)
    assert data["necessity"]["nodes"] and data["necessity"]["log"]["judged"]["since"] != "all"
    # the month's process map: the one-machine discovery of the cases ended in the month
    assert_same_discovery(ours.discovery, one.discovery)
    assert data["discovery"]["process_map"] == one_json["discovery"]["process_map"]
    assert len(ours.discovery.process_map.nodes) >= 5
    # nothing is left out on Spark now (a part that were would be named, never filled in)
    assert data["left_out"] == NOT_ON_SPARK == {} and one_json["left_out"] == {}
    # the overdue ledger: the open cases taken to the driver, the one-machine ledger
    assert "overdue_ledger" not in data["left_out"]
    assert data["overdue"] == one_json["overdue"] and one_json["overdue"]
    assert_same_ledger(ours.ledger, one.ledger)
    pages = [page.extract_text() for page in PdfReader(paths["pdf"]).pages]
    text = "\n".join(pages)
    assert "尚未在 Spark 上计算" not in text
    assert "现行版本：费用报销 自 2025-07-01 起" in text and "已取消" in text
    assert_same_bottlenecks(ours.bottlenecks, one.bottlenecks)
    assert "process_map" not in text
    assert "办结件数" in text and str(ours.kpis.tile("completed").value) in text
    # the map's page is drawn, its nodes named on it
    page = next(p for p in pages if "本月流程图" in p)
    busiest = ours.discovery.process_map.nodes.sort_values("visits").iloc[-1]["node"]
    assert busiest in page


@pytest.mark.spark
def test_each_units_review_from_one_group_run(spark, spark_sample_log):
    whole = officemine.read_log(spark_sample_log)
    reviews = unit_reports(oms.read_log(spark, spark_sample_log), "applicant_dept", MONTH)
    assert len(reviews.reports) == 8
    for unit, report in reviews.reports.items():
        assert report.organisation == unit and report.engine == "spark"
        # each unit's necessity test judges its own cases of the window
        assert report.necessity is None or report.necessity.log_info["cases"] < \
            whole.n_cases / 2
    for unit in ("办公室", "法务部"):      # the largest and the smallest (test_spark_kpis: all)
        own = _cases_of(whole, "applicant_dept", unit)
        assert_same_kpis(reviews.reports[unit].kpis.to_dict(),
                         monthly_kpis(own, MONTH).to_dict())
        # its overdue ledger at the month's end: the one machine's on its own cases
        as_of = min(pd.Timestamp("2025-11-01", tz=whole.timezone), whole.span()[1])
        assert_same_ledger(reviews.reports[unit].ledger,
                           overdue_ledger(own, as_of=as_of, sla=SLA.default()))
        assert_same_bottlenecks(reviews.reports[unit].bottlenecks,
                                bottlenecks(own, MONTH, as_of=as_of))
        # its process map: its own cases that ended in the month
        ended = own.select_cases(f"{MONTH}-01", "2025-11-01", by="end")
        assert reviews.reports[unit].discovery.variants.n_cases == ended.n_cases > 0
    assert set(reviews.necessity["unit"]) <= set(reviews.reports)
    assert set(reviews.comparison["unit"]) == set(reviews.reports)


@pytest.mark.spark
def test_the_command_on_spark(spark, spark_sample_log, tmp_path):
    runner = CliRunner()
    ours = runner.invoke(app, ["report", str(spark_sample_log), "--engine", "spark", "--month", MONTH,
                               "-o", str(tmp_path / "spark")])
    assert ours.exit_code == 0, ours.output
    assert "未列入本报告的部分" not in ours.output      # nothing is left out on Spark
    written = json.loads((tmp_path / "spark" / f"officemine_report_{MONTH}.json")
                         .read_text(encoding="utf-8"))
    log = officemine.read_log(spark_sample_log)
    assert_same_kpis(written["kpis"], monthly_kpis(log, MONTH).to_dict())
    # a table, one review per unit (urgency: 普通, 紧急) and the units side by side
    spark.read.parquet(str(spark_sample_log)).createOrReplaceTempView("oa_events")
    units = tmp_path / "units"
    by_unit = runner.invoke(app, ["report", "--engine", "spark", "--table", "oa_events",
                                  "--month", MONTH, "--unit", "urgency", "-o", str(units)])
    assert by_unit.exit_code == 0, by_unit.output
    both = json.loads((units / f"units_{MONTH}.json").read_text(encoding="utf-8"))
    assert (units / f"units_{MONTH}.xlsx").exists()
    completed = {r["unit"]: r["value"] for r in both["kpis"] if r["key"] == "completed"}
    assert set(completed) == {"普通", "紧急"}
    for unit, value in completed.items():
        data = json.loads((units / f"officemine_report_{MONTH}_{unit}.json")
                          .read_text(encoding="utf-8"))
        assert data["kpis"]["kpis"][0]["value"] == value and data["organisation"] == unit
        assert PdfReader(units / f"officemine_report_{MONTH}_{unit}.pdf").pages
    assert sum(completed.values()) == written["kpis"]["kpis"][0]["value"]
    for args, message in [
            (["--unit", "company"], "error: the log has no column 'company'"),
            (["--pseudonymize"], "error: not on Spark yet: pseudonymize"),
            (["--all-months"], "error: --engine spark writes one month")]:
        bad = runner.invoke(app, ["report", str(spark_sample_log), "--engine", "spark", *args, "-o",
                                  str(tmp_path / "bad")])
        assert bad.exit_code == 2 and bad.output.startswith(message), bad.output
    outside = runner.invoke(app, ["report", str(spark_sample_log), "--engine", "spark", "--month",
                                  "2031-01", "-o", str(tmp_path / "bad")])
    assert outside.exit_code == 1 and "outside the log" in outside.output
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_bad_engine_options_are_one_error_line(tmp_path, sample_csv, monkeypatch):
    """Without pyspark, or with Spark-only options on this machine: one line, exit code 2."""
    runner = CliRunner()
    for args, message in [
            (["--unit", "applicant_dept"], "error: --table and --unit read a log in Spark"),
            (["--engine", "hadoop"], "error: --engine must be one of duckdb, spark")]:
        bad = runner.invoke(app, ["report", str(sample_csv), *args, "-o", str(tmp_path)])
        assert bad.exit_code == 2 and bad.output.startswith(message), bad.output
    monkeypatch.setitem(sys.modules, "pyspark", None)       # as if it were not installed
    missing = runner.invoke(app, ["report", str(sample_csv), "--engine", "spark", "-o",
                                  str(tmp_path)])
    assert missing.exit_code == 2
    assert missing.output.startswith("error: the Spark engine needs pyspark"), missing.output
