"""The Spark import gives what `officemine.import_log` gives — the same events, import report
and set-aside file — on the sample and on a dirty export of linked attempts (rows of every kind
set aside, malformed records, attempts of one request in different partitions); the log it
writes reads back on Spark with the same necessity test as on one machine."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import officemine
from officemine import spark as oms
from officemine.errors import OfficemineError
from officemine.schema import C

from test_spark_necessity import assert_same
from test_streaming_import import dirty_attempts  # noqa: F401  (a fixture)

pytestmark = pytest.mark.spark


def _both(spark, source: Path, tmp_path: Path, partitions: int | None = None, **options):
    """Import `source` on one machine and on Spark; check that events, report and set-aside
    file agree; return (one machine's log, Spark's log)."""
    one = officemine.import_log(source, **options)
    one.write(tmp_path / "one.parquet")
    log = oms.import_log(spark, source, output=tmp_path / "spark", partitions=partitions,
                         **options)
    a = one.to_arrow()
    b = pq.read_table(tmp_path / "spark").sort_by([(C.case_id, "ascending"),
                                                   (C.seq, "ascending")])
    assert b.column_names == a.column_names
    assert a.num_rows == b.num_rows
    for column in a.column_names:
        x, y = a[column], b[column]
        if pa.types.is_timestamp(x.type):      # Spark stores instants in UTC
            x, y = (v.cast(pa.timestamp("us", tz="UTC")) for v in (x, y))
        assert x.cast(y.type).equals(y), column
    left, right = one.report.to_dict(), log.report.to_dict()
    assert left.pop("set_aside_file") in (None, str(tmp_path / "one.set_aside.csv"))
    assert right.pop("set_aside_file") in (None, str(tmp_path / "spark.set_aside.csv"))
    assert left == right
    assert log.report.rows_read == log.report.rows_accepted + log.report.rows_set_aside
    aside_one, aside_spark = tmp_path / "one.set_aside.csv", tmp_path / "spark.set_aside.csv"
    assert aside_one.exists() == aside_spark.exists()
    if aside_one.exists():
        assert aside_spark.read_bytes() == aside_one.read_bytes()
    assert log.timezone == one.timezone and log.calendar == one.calendar
    return one, log


def test_the_sample_imported_on_spark_is_the_one_machine_log(spark, sample_csv, tmp_path):
    one, log = _both(spark, sample_csv, tmp_path)
    assert log.report.rows_accepted > 10_000
    # what the log says reads back on Spark as on one machine
    assert_same(oms.necessity(log), officemine.necessity(one, since="all"))


def test_a_dirty_export_of_linked_attempts_on_spark(spark, dirty_attempts, tmp_path):  # noqa: F811
    one, log = _both(spark, dirty_attempts, tmp_path, partitions=7)
    report = log.report
    assert report.rows_set_aside > 50 and "malformed_record" in report.set_aside_by_reason
    assert report.links_by_rule["form"] > 30          # attempts linked across partitions
    # linked attempts share their case: fewer cases than instances, as on one machine
    cases = log.df.select(C.case_id).distinct().count()
    assert cases == one.n_cases == report.cases < report.instances


def test_only_csv_exports_are_imported_on_spark(spark, tmp_path):
    source = tmp_path / "log.xes"
    source.write_text("<log/>", encoding="utf-8")
    with pytest.raises(OfficemineError, match="reads CSV exports"):
        oms.import_log(spark, source, output=tmp_path / "out")


def test_the_command_imports_on_spark(spark, sample_csv, tmp_path):
    from typer.testing import CliRunner

    from officemine.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["import", str(sample_csv), "-o", str(tmp_path / "oa"),
                               "--engine", "spark"])
    assert done.exit_code == 0, done.output
    log = oms.read_log(spark, tmp_path / "oa")
    assert log.report.rows_accepted == officemine.import_log(sample_csv).report.rows_accepted
    assert f"wrote {tmp_path / 'oa'}" in done.output
    empty = tmp_path / "empty.csv"
    empty.write_text("\n", encoding="utf-8")
    bad = runner.invoke(app, ["import", str(empty), "-o", str(tmp_path / "e"),
                              "--engine", "spark"])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
    assert str(empty) in bad.output and "Traceback" not in bad.output
    limited = runner.invoke(app, ["import", str(sample_csv), "-o", str(tmp_path / "m"),
                                  "--engine", "spark", "--memory-limit", "1GB"])
    assert limited.exit_code == 2 and "--memory-limit" in limited.output
