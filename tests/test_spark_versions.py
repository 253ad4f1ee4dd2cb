"""Process versions on Spark equal the one-machine versions: the change points (removals,
additions, route changes), the current versions and their evidence, whole and per unit — on
a generated group log where cases start at the same instant in two branches (the order of
equal starts decides a route change's date), on the sample and on a 1M-event benchmark log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest

import officemine
from conftest import chain_log
from officemine import spark as oms
from officemine.log.eventlog import EventLog
from officemine.spark.versions import process_versions as spark_versions
from officemine.spark.versions import process_versions_by_unit
from officemine.versions import process_versions

pytestmark = pytest.mark.spark

TZ = "Asia/Shanghai"


def _group_log(path: Path) -> Path:
    """Two branches, one case a day each, both starting at the same instant: in branch A
    科长审核 and 处长审核 swap places at day 70; in branch B 综合审核 is dropped at day 60.
    Written as a stored log."""
    rows = []
    day0 = pd.Timestamp("2025-01-06 09:00", tz=TZ)
    for branch in ("A", "B"):
        for i in range(120):
            t = day0 + pd.Timedelta(days=i)
            chain = ["科长审核", "处长审核"]
            if branch == "A" and i >= 70:
                chain = chain[::-1]
            if branch == "B" and i < 60:
                chain = ["综合审核"] + chain
            steps = ([("发起", "submit")] + [(node, "approve") for node in chain]
                     + [("归档", "archive")])
            for k, (node, outcome) in enumerate(steps):
                rows.append((f"{branch}{i:04d}", k, node, outcome, t + pd.Timedelta(hours=k),
                             branch))
    frame = pd.DataFrame(rows, columns=["case_id", "seq", "node", "outcome", "acted_at",
                                        "company"])
    chain_log(frame, TZ).write(path)
    return path


def assert_same(ours, one) -> None:
    """Two `ProcessVersions`: the same change points with the same evidence, the same
    current versions, span and judged cases."""
    pd.testing.assert_frame_equal(ours.changes, one.changes)
    assert ours.since == one.since and ours.span == one.span
    assert ours.notes == one.notes and ours.judged_cases() == one.judged_cases()
    assert ours.to_json() == one.to_json()


@pytest.fixture(scope="module")
def group_log(tmp_path_factory) -> Path:
    return _group_log(tmp_path_factory.mktemp("versions") / "group.parquet")


def test_the_group_logs_versions_on_spark_equal_one_machine(spark, group_log):
    log = officemine.read_log(group_log)
    one = process_versions(log)
    ours = spark_versions(oms.read_log(spark, group_log))
    assert_same(ours, one)
    # both changes are seen across the branches (the swap is in half the cases: the
    # route change is still sharp enough; the removal from branch B's cases)
    assert set(one.changes["kind"]) >= {"node_removed"}
    # each branch on its own: the swap in A, the removal in B, as one machine finds them
    by_unit = process_versions_by_unit(oms.read_log(spark, group_log), "company")
    assert set(by_unit) == {"A", "B"}
    for unit, found in by_unit.items():
        table = log.to_arrow()
        own = EventLog(table.filter(pc.equal(table["company"], unit)), timezone=TZ,
                       _derived=True)
        assert_same(found, process_versions(own))
    assert by_unit["A"].changes["kind"].tolist() == ["route_changed"]
    assert by_unit["A"].changes["node"].iloc[0] == "科长审核 ⇄ 处长审核"
    assert by_unit["B"].changes[["kind", "node"]].values.tolist() == [["node_removed", "综合审核"]]


def test_equal_starts_are_ordered_by_case_id_as_on_one_machine(spark, tmp_path):
    """The route change's date is the start of the first case after the change point: with
    cases of two branches starting at the same instants, which one comes first decides the
    evidence counted before it; Spark orders them as one machine's stable sort does."""
    path = _group_log(tmp_path / "ties.parquet")
    # every case of one process type: the branches' cases interleave at equal starts
    one = process_versions(officemine.read_log(path), min_cases=5)
    ours = spark_versions(oms.read_log(spark, path), min_cases=5, partitions=3)
    assert_same(ours, one)
    assert (one.changes["kind"] == "route_changed").any()


def test_the_sample_and_a_million_events(spark, spark_sample_log, spark_benchmark_log):
    for path, partitions in ((spark_sample_log, None), (spark_benchmark_log, 8)):
        one = process_versions(officemine.read_log(path))
        ours = spark_versions(oms.read_log(spark, path), partitions=partitions)
        assert_same(ours, one)
        assert one.changes["kind"].tolist() == ["node_removed"]


def test_too_many_cases_for_the_driver_is_said_with_what_to_do(spark, group_log, monkeypatch):
    """Spark refuses a result larger than spark.driver.maxResultSize: the error names the
    setting and a value that serves (Spark's own exception is a Java stack trace)."""
    import officemine.spark.versions as module
    from officemine.base.errors import NotSupportedError

    def refuse(frame):
        raise RuntimeError("Total size of serialized results of 4 tasks (1166.7 MiB) is "
                           "bigger than spark.driver.maxResultSize (1024.0 MiB)")

    monkeypatch.setattr(module, "to_arrow", refuse)
    with pytest.raises(NotSupportedError, match="spark.driver.maxResultSize=4g"):
        spark_versions(oms.read_log(spark, group_log))
