"""The Spark engine's discovery equals the one-machine (DuckDB) engine's: counts exactly, times
to the second — on the sample, on a real BPI Challenge log and on a 1M-event benchmark log
(one shared local Spark session)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import officemine
from officemine import spark as oms
from officemine.discovery import OUTPUT_FILES, DiscoveryError, discover

from conftest import REPO

pytestmark = pytest.mark.spark

#: A second in working days of the default calendar (7 working hours a day): the tightest
#: of the time units the tables use.
SECOND = 1 / (7 * 3600)
#: Columns holding times (clock or working hours, working days); every other number is a
#: count or a share and must be the same exactly.
TIMES = ("median_cycle_hours", "median_cycle_workdays", "median_wait_workhours",
         "median_wait_hours", "median_transition_hours", "median_transition_workhours",
         "median_hours", "median_workhours", "median_with", "median_without", "difference",
         "ci_low", "ci_high")


def assert_same_table(ours: pd.DataFrame, theirs: pd.DataFrame, what: str) -> None:
    assert list(ours.columns) == list(theirs.columns), what
    assert len(ours) == len(theirs), what
    for column in ours.columns:
        x, y = ours[column], theirs[column]
        if column in TIMES:
            assert np.allclose(x.astype(float), y.astype(float), atol=SECOND, rtol=0,
                               equal_nan=True), f"{what}.{column}"
        elif column == "mannwhitney_p":
            assert np.allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=0,
                               equal_nan=True), f"{what}.{column}"
        else:
            assert x.astype(object).where(x.notna(), None).tolist() == \
                y.astype(object).where(y.notna(), None).tolist(), f"{what}.{column}"


def assert_same(ours, theirs) -> None:
    """Two discoveries: the same scope, variants, map, rework and hand-offs — counts and
    orders exactly, times within a second."""
    assert ours.scope == theirs.scope
    assert ours.settings == theirs.settings
    v, w = ours.variants, theirs.variants
    assert (v.n_cases, v.n_completed, v.n_open) == (w.n_cases, w.n_completed, w.n_open)
    assert np.allclose([v.median_cycle_hours, v.median_cycle_workdays],
                       [w.median_cycle_hours, w.median_cycle_workdays], atol=SECOND,
                       equal_nan=True)
    assert_same_table(v.table, w.table, "variants")
    m, n = ours.process_map, theirs.process_map
    assert_same_table(m.nodes, n.nodes, "nodes")
    assert_same_table(m.arcs, n.arcs, "arcs")
    assert m.traces["trace"].tolist() == n.traces["trace"].tolist()
    assert m.traces["cases"].tolist() == n.traces["cases"].tolist()
    assert m.hidden() == n.hidden()
    r, s = ours.rework, theirs.rework
    assert (r.n_cases, r.cases_with_returns, r.n_returns) == \
        (s.n_cases, s.cases_with_returns, s.n_returns)
    for name in ("by_node", "targets", "rounds", "effect"):
        assert_same_table(getattr(r, name), getattr(s, name), f"rework.{name}")
    h, k = ours.handoffs, theirs.handoffs
    assert (h.pairs_total, h.pairs_unknown_dept, h.n_handoffs) == \
        (k.pairs_total, k.pairs_unknown_dept, k.n_handoffs)
    assert h.mean_per_case == k.mean_per_case and h.median_per_case == k.median_per_case
    for name in ("pairs", "distribution", "by_process_type", "matrix"):
        assert_same_table(getattr(h, name).reset_index(), getattr(k, name).reset_index(),
                          f"handoffs.{name}")
    # what keeps each case stays on the cluster
    assert v.cases is None and r.cases is None and h.per_case is None


@pytest.fixture(scope="module")
def sample_log(spark_sample_log) -> Path:
    return spark_sample_log


@pytest.mark.parametrize("process_type", [None, "费用报销"], ids=["whole", "one_type"])
def test_the_sample_on_spark_equals_one_machine(spark, sample_log, process_type):
    one = discover(officemine.read_log(sample_log), process_type)
    result = oms.discover(oms.read_log(spark, sample_log), process_type)
    assert_same(result, one)
    assert result.rework.n_returns > 0 and result.handoffs.n_handoffs > 0
    assert len(result.variants.table) > 10 and result.process_map.return_arcs.size
    # the words a reader gets are the same
    assert result.text() == one.text()


def test_one_machine_finishes_from_facts_that_add_up(sample_log):
    """The facts of the log cut into two parts of whole cases, added up as Spark adds them
    (a sum of the counts of rows with the same keys),
    finish into the discovery of the whole log (the property the Spark engine rests on)."""
    from officemine.discovery import facts_of, finish
    from officemine.discovery._base import read_events
    from officemine.discovery._facts import ROW_COUNTS, ROW_KEYS, from_rows, to_rows

    import pyarrow as pa
    import pyarrow.compute as pc

    from officemine.log.eventlog import EventLog

    log = officemine.read_log(sample_log)
    whole = discover(log)
    events = log.to_arrow()
    ids = sorted(set(events["case_id"].to_pylist()))
    rows, starts, ends = [], [], []
    for half in (ids[: len(ids) // 3], ids[len(ids) // 3:]):
        part = EventLog(events.filter(pc.is_in(events["case_id"], pa.array(half))),
                        timezone=log.timezone, calendar=log.calendar, mapping=log.mapping,
                        _derived=True)
        facts = facts_of(part, read_events(part), None, log.calendar)[0]
        rows.append(to_rows(facts))
        starts.append(facts.scalars["start"])
        ends.append(facts.scalars["end"])
    added = (pd.concat(rows, ignore_index=True)
             .groupby(ROW_KEYS, dropna=False, sort=False)[ROW_COUNTS].sum().reset_index())
    result = finish(from_rows(added, min(starts), max(ends)), None, timezone=log.timezone,
                    calendar=log.calendar)
    assert_same(result, whole)


def test_an_unknown_process_type_is_named_as_on_one_machine(spark, sample_log):
    with pytest.raises(DiscoveryError) as one:
        discover(officemine.read_log(sample_log), "出差")
    with pytest.raises(DiscoveryError) as on_spark:
        oms.discover(oms.read_log(spark, sample_log), "出差")
    assert str(on_spark.value) == str(one.value)
    assert "费用报销" in str(one.value)


@pytest.mark.real
def test_a_real_bpi_challenge_log_on_spark(spark, real_data, tmp_path):
    path = tmp_path / "domestic.parquet"
    officemine.import_log(real_data / "DomesticDeclarations.xes.gz",
                          mapping=REPO / "mappings" / "bpic2020.toml").write(path)
    one = discover(officemine.read_log(path))
    result = oms.discover(oms.read_log(spark, path))
    assert_same(result, one)
    assert result.variants.n_cases == 10500


def test_a_million_events_on_spark(spark, spark_benchmark_log):
    one = discover(officemine.read_log(spark_benchmark_log))
    result = oms.discover(oms.read_log(spark, spark_benchmark_log), partitions=8)
    assert one.scope.n_events > 990_000
    assert_same(result, one)


def test_the_command_discovers_on_spark_from_a_log_and_from_a_table(spark, sample_log,
                                                                    tmp_path):
    from typer.testing import CliRunner

    from officemine.cli import app

    runner = CliRunner()
    one = runner.invoke(app, ["discover", str(sample_log), "-t", "费用报销",
                              "-o", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    on_spark = runner.invoke(app, ["discover", str(sample_log), "-t", "费用报销",
                                   "--engine", "spark", "-o", str(tmp_path / "spark")])
    assert on_spark.exit_code == 0, on_spark.output
    assert sorted(p.name for p in (tmp_path / "spark").iterdir()) == sorted(OUTPUT_FILES)
    for name in ("variants.csv", "map_arcs.csv", "handoffs.csv", "rework.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    spark.read.parquet(str(sample_log)).createOrReplaceTempView("oa_events")
    table = runner.invoke(app, ["discover", "--engine", "spark", "--table", "oa_events",
                                "-t", "费用报销", "-o", str(tmp_path / "table")])
    assert table.exit_code == 0, table.output
    data = json.loads((tmp_path / "table" / "discovery.json").read_text(encoding="utf-8"))
    expected = json.loads((tmp_path / "one" / "discovery.json").read_text(encoding="utf-8"))
    assert data["scope"] == expected["scope"]
    assert data["variants"]["rows"] == expected["variants"]["rows"]
    wrong = runner.invoke(app, ["discover", "--engine", "spark", "--table", "oa_events",
                                "-t", "出差", "-o", str(tmp_path / "wrong")])
    assert wrong.exit_code == 2 and wrong.output.startswith("error: the log has no process type")
    both = runner.invoke(app, ["discover", str(sample_log), "--engine", "spark", "--table",
                               "oa_events", "-o", str(tmp_path / "both")])
    assert both.exit_code == 2 and "either a LOG" in both.output
