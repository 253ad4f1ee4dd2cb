"""The Spark engine's necessity test equals the one-machine (DuckDB) engine's: counts exactly,
waits to the second — on the sample, on a real BPI Challenge log and on a 1M-event benchmark
log (one shared local Spark session)."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import officemine
from officemine.log import relations
from officemine import spark as oms
from officemine.base.errors import OfficemineError

from conftest import REPO

pytestmark = pytest.mark.spark

SECOND = 1 / 3600            # a second, in hours
WAITS = ("wait_hours_median", "wait_hours_p90", "wait_hours_mean", "wait_workhours_median",
         "wait_workhours_p90", "wait_workhours_mean", "wait_median", "wait_p90")


def assert_same(ours, theirs) -> None:
    """Two necessity results: the same nodes in the same order, the same counts and verdicts,
    waits within a second, shares and totals within rounding."""
    a, b = ours.summary, theirs.summary
    assert list(a.columns) == list(b.columns)
    assert a["node"].tolist() == b["node"].tolist()
    for column in a.columns:
        x, y = a[column], b[column]
        if column in WAITS:
            assert np.allclose(x.astype(float), y.astype(float), atol=SECOND, rtol=0,
                               equal_nan=True), column
        elif column in ("wait_total", "wait_share"):
            assert np.allclose(x.astype(float), y.astype(float), rtol=1e-9,
                               equal_nan=True), column
        elif column in ("reason_classes",):
            assert x.tolist() == y.tolist(), column
        elif column == "reason_params":       # waits within a second: compared as words
            assert ours.reason_text("zh").tolist() == theirs.reason_text("zh").tolist()
        elif pd.api.types.is_float_dtype(x):
            assert np.allclose(x.astype(float), y.astype(float), rtol=1e-12, atol=0,
                               equal_nan=True), column
        else:
            assert x.tolist() == y.tolist(), column
    pd.testing.assert_frame_equal(ours.reasons.astype({"reason_class": object}),
                                  theirs.reasons.astype({"reason_class": object}),
                                  check_dtype=False)
    o, t = ours.other_nodes, theirs.other_nodes
    assert o["node"].tolist() == t["node"].tolist()
    assert o[["kind", "items", "pending"]].equals(t[["kind", "items", "pending"]])
    assert np.allclose(o["wait_median"].astype(float), t["wait_median"].astype(float),
                       atol=SECOND, equal_nan=True)
    assert np.allclose(o["wait_total"].astype(float), t["wait_total"].astype(float),
                       rtol=1e-9, equal_nan=True)
    assert ours.as_of == theirs.as_of
    assert ours.log_info == theirs.log_info
    assert ours.not_approval_nodes == theirs.not_approval_nodes
    assert ours.warnings == theirs.warnings
    assert ours.to_dict()["nodes"][0]["node"] == theirs.to_dict()["nodes"][0]["node"]


@pytest.mark.parametrize("options", [{}, {"by": "process_type"}, {"basis": "clock"}],
                         ids=["working", "by_process_type", "clock"])
def test_the_sample_on_spark_equals_one_machine(spark, spark_sample_log, options):
    one = officemine.necessity(officemine.read_log(spark_sample_log), since="all", **options)
    result = oms.necessity(oms.read_log(spark, spark_sample_log), since="all", **options)
    assert result.items is None
    assert_same(result, one)
    # the findings a manager reads are the same words
    assert result.reason_text("en").tolist() == one.reason_text("en").tolist()
    assert len(result.summary) >= 10


def test_pending_items_and_as_of(spark, spark_sample_log):
    """Items still pending at export are right-censored on both engines; a given as_of moves
    'now' for both."""
    log = officemine.read_log(spark_sample_log)
    one = officemine.necessity(log, since="all", as_of="2025-11-15 12:00")
    result = oms.necessity(oms.read_log(spark, spark_sample_log), since="all",
                           as_of="2025-11-15 12:00")
    assert one.summary["pending"].sum() > 0
    assert_same(result, one)


def test_spark_judges_each_process_as_it_runs_now(spark, spark_sample_log):
    """By default both engines judge each process type's current version: the sample's
    费用报销 dropped 综合办公室审核 on 2025-07-01, so that node is reported removed, not
    judged, and only the cases started since count for that type."""
    one = officemine.necessity(officemine.read_log(spark_sample_log))
    result = oms.necessity(oms.read_log(spark, spark_sample_log))
    assert_same(result, one)
    judged = result.log_info["judged"]
    assert judged["cases"] < judged["of_cases"] and "费用报销" in judged["since"]
    assert result.removed_nodes["node"].tolist() == ["综合办公室审核"]
    pd.testing.assert_frame_equal(result.removed_nodes, one.removed_nodes)
    # judging every case instead keeps the removed node among the judged ones
    every = oms.necessity(oms.read_log(spark, spark_sample_log), since="all")
    assert "综合办公室审核" in every.summary["node"].tolist()
    assert "综合办公室审核" not in result.summary["node"].tolist()
    # a date: the cases started since, as one machine selects them
    dated = oms.necessity(oms.read_log(spark, spark_sample_log), since="2025-08-01")
    assert_same(dated, officemine.necessity(officemine.read_log(spark_sample_log), since="2025-08-01"))
    assert dated.log_info["judged"]["since"] == "2025-08-01"
    with pytest.raises(OfficemineError, match="after the end of the log"):
        oms.necessity(oms.read_log(spark, spark_sample_log), since="2031-01-01")
    with pytest.raises(OfficemineError, match="since must be"):
        oms.necessity(oms.read_log(spark, spark_sample_log), since="soon")


@pytest.mark.real
def test_a_real_bpi_challenge_log_on_spark(spark, real_data, tmp_path):
    path = tmp_path / "domestic.parquet"
    officemine.import_log(real_data / "DomesticDeclarations.xes.gz",
                          mapping=REPO / "mappings" / "bpic2020.toml").write(path)
    every = officemine.necessity(officemine.read_log(path), since="all")
    assert_same(oms.necessity(oms.read_log(spark, path), since="all"), every)
    assert every.summary.set_index("node").loc["SUPERVISOR", "approvals"] == 10131
    # by default each engine judges the current versions it finds on the real log
    one = officemine.necessity(officemine.read_log(path))
    assert_same(oms.necessity(oms.read_log(spark, path)), one)


def test_a_million_events_on_spark(spark, spark_benchmark_log):
    """The default, each process's current version: the versions found on Spark (the
    generated office dropped a step on 2025-07-01) judge the same cases as one machine's."""
    one = officemine.necessity(officemine.read_log(spark_benchmark_log))
    result = oms.necessity(oms.read_log(spark, spark_benchmark_log), partitions=8)
    assert one.log_info["events"] > 990_000
    assert one.log_info["judged"]["cases"] < one.log_info["judged"]["of_cases"]
    assert_same(result, one)


def test_the_command_runs_on_spark_from_a_log_and_from_a_table(spark, spark_sample_log):
    import json

    from typer.testing import CliRunner

    from officemine.cli import app

    runner = CliRunner()
    one = runner.invoke(app, ["necessity", str(spark_sample_log), "--json", "-"])
    assert one.exit_code == 0, one.output
    on_spark = runner.invoke(app, ["necessity", str(spark_sample_log), "--engine", "spark",
                                   "--json", "-"])
    assert on_spark.exit_code == 0, on_spark.output
    expected = [(n["node"], n["items"], n["verdict"]) for n in json.loads(one.stdout)["nodes"]]
    got = [(n["node"], n["items"], n["verdict"]) for n in json.loads(on_spark.stdout)["nodes"]]
    assert got == expected
    spark.read.parquet(str(spark_sample_log)).createOrReplaceTempView("oa_events")
    table = runner.invoke(app, ["necessity", "--engine", "spark", "--table", "oa_events",
                                "--json", "-"])
    assert table.exit_code == 0, table.output
    assert [(n["node"], n["items"]) for n in json.loads(table.stdout)["nodes"]] == \
        [(n, i) for n, i, _ in expected]
    wrong = runner.invoke(app, ["necessity", "--engine", "spark", "--table", "oa_events",
                                "--since", "soon"])
    assert wrong.exit_code == 2 and wrong.output.startswith("error: since must be")


def test_each_unit_from_one_group_run_equals_its_own_test(spark, spark_sample_log):
    """Units (here the process types of the sample) judged in one run over the group's log:
    each unit's result (its own current versions by default) is what one machine gives on
    that unit's cases alone, with "now" the group log's end; the comparison table puts them
    side by side."""
    whole = officemine.read_log(spark_sample_log)
    results = oms.necessity_by_unit(oms.read_log(spark, spark_sample_log), "process_type")
    units = relations.process_types(whole)["process_type"].dropna().tolist()
    assert len(results) >= 4 and set(results) <= set(units)
    end = whole.span()[1]
    for unit, result in results.items():
        # each unit's own current versions, as one machine finds them on its cases
        own = officemine.necessity(whole.select_cases(process_type=unit), as_of=end)
        assert_same(result, own)
    table = oms.compare_units(results)
    assert set(table["unit"]) == set(results)
    assert table.groupby("unit")["items"].sum().to_dict() == {
        u: int(r.summary["items"].sum()) for u, r in results.items()}
    with pytest.raises(OfficemineError, match="no column"):
        oms.necessity_by_unit(oms.read_log(spark, spark_sample_log), "company")
