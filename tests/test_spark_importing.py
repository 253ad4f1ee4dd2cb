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
from officemine.base.errors import OfficemineError
from officemine.log.schema import C

from test_spark_necessity import assert_same

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
    assert_same(oms.necessity(log), officemine.necessity(one))


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
    assert f"已写入 {tmp_path / 'oa'}：Spark 上的日志：{log.report.cases:,} 件" in done.output
    empty = tmp_path / "empty.csv"
    empty.write_text("\n", encoding="utf-8")
    bad = runner.invoke(app, ["import", str(empty), "-o", str(tmp_path / "e"),
                              "--engine", "spark"])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
    assert str(empty) in bad.output and "Traceback" not in bad.output
    limited = runner.invoke(app, ["import", str(sample_csv), "-o", str(tmp_path / "m"),
                                  "--engine", "spark", "--memory-limit", "1GB"])
    assert limited.exit_code == 2 and "--memory-limit" in limited.output


def test_a_raw_dataframe_and_a_raw_table_import_as_their_csv(spark, sample_csv, tmp_path):
    """The raw export already in Spark — a DataFrame, or a table by name — gives the log,
    report and set-aside rows its CSV gives; the log goes into a table that reads back."""
    import pandas as pd

    rows = pd.read_csv(sample_csv, dtype=str, keep_default_na=False, encoding="gb18030")
    rows.loc[[3, 40, 41], "操作日期"] = "not a date"           # set aside, named by row
    rows = pd.concat([rows.iloc[:10], pd.DataFrame([[""] * rows.shape[1]],
                                                   columns=rows.columns), rows.iloc[10:]],
                     ignore_index=True)                      # a row of empty cells
    csv = tmp_path / "export.csv"
    rows.to_csv(csv, index=False, encoding="utf-8")
    from_csv = oms.import_log(spark, csv, output=tmp_path / "from_csv")
    # one part, in the rows' order (coalesce keeps it; a repartition would not)
    raw = spark.createDataFrame(rows).coalesce(1)
    raw.write.saveAsTable("oa_raw")
    from_frame = oms.import_log(spark, raw, output=tmp_path / "from_frame", partitions=3)
    # a name of its own: a temporary view of the same name (other tests make "oa_events")
    # would shadow the table
    oms.import_log(spark, "oa_raw", output_table="imported_events",
                   set_aside=tmp_path / "from_table.set_aside.csv")
    back = oms.read_log(spark, table="imported_events")
    expected = pq.read_table(tmp_path / "from_csv").sort_by([(C.case_id, "ascending"),
                                                               (C.seq, "ascending")])
    for log, where in ((from_frame, "from_frame"), (back, "from_table")):
        got = pa.Table.from_pandas(log.df.toPandas(), preserve_index=False) \
            if where == "from_table" else pq.read_table(tmp_path / where)
        got = got.sort_by([(C.case_id, "ascending"), (C.seq, "ascending")])
        assert got.column_names == expected.column_names and got.num_rows == expected.num_rows
        for column in expected.column_names:
            x, y = expected[column], got[column]
            if column == "source_file":          # each names its own source
                assert set(y.to_pylist()) == {"DataFrame" if where == "from_frame"
                                              else "oa_raw"}
                continue
            if pa.types.is_timestamp(x.type):
                x, y = (v.cast(pa.timestamp("us", tz="UTC")) for v in (x, y))
            assert x.cast(y.type).equals(y), (where, column)
        left, right = from_csv.report.to_dict(), log.report.to_dict()
        for key in ("source_file", "set_aside_file", "format"):
            left.pop(key), right.pop(key)
        assert left.pop("notes")[1:] == right.pop("notes")[1:]
        said, said_here = left.pop("said"), right.pop("said")     # the notes as codes, too
        assert said["notes"][1:] == said_here["notes"][1:]
        assert said["warnings"] == said_here["warnings"]
        assert left == right, where
        # the same rows set aside for the same reasons, each naming its own source
        aside = (tmp_path / f"{where}.set_aside.csv").read_text(encoding="utf-8-sig")
        name = "DataFrame" if where == "from_frame" else "oa_raw"
        assert aside.replace(f",{name}\n", ",SOURCE\n") == (
            (tmp_path / "from_csv.set_aside.csv").read_text(encoding="utf-8-sig")
            .replace(f",{csv}\n", ",SOURCE\n"))
        assert aside.count(",SOURCE\n") == 0 and aside.count(f",{name}\n") >= 3
    report = back.report
    assert report.rows_set_aside >= 3 and report.rows_read == report.rows_accepted + \
        report.rows_set_aside
    assert "rows of empty cells" in " ".join(report.notes) and "oa_raw" in report.notes[0]
    assert back.timezone == from_csv.timezone and back.calendar == from_csv.calendar
    # the table reads back as the log: the same test (its source named apart)
    pd.testing.assert_frame_equal(oms.necessity(back).summary, oms.necessity(from_csv).summary)


@pytest.mark.parametrize("name", ["oa events", "db.oa.events", "oa;DROP TABLE x", "", "a-b"])
def test_a_table_name_is_checked_before_spark_sees_it(spark, sample_csv, tmp_path, name):
    with pytest.raises(OfficemineError, match="not a table name"):
        oms.import_log(spark, sample_csv, output_table=name)
    with pytest.raises(OfficemineError, match="not a table name"):
        oms.read_log(spark, table=name)


def test_the_command_imports_a_raw_table_into_a_table(spark, sample_csv, tmp_path,
                                                      monkeypatch):
    """``import --source-table --output-table`` on Spark, and ``necessity --table`` reads the
    table back with its own time zone; the table forms need --engine spark."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from officemine.cli import app

    monkeypatch.chdir(tmp_path)                 # where the set-aside file goes
    rows = pd.read_csv(sample_csv, dtype=str, keep_default_na=False, encoding="gb18030")
    spark.createDataFrame(rows).write.mode("overwrite").saveAsTable("cli_raw")
    runner = CliRunner()
    done = runner.invoke(app, ["import", "--engine", "spark", "--source-table", "cli_raw",
                               "--output-table", "cli_events"])
    assert done.exit_code == 0, done.output
    assert "已写入 cli_events：" in done.output
    judged = runner.invoke(app, ["necessity", "--engine", "spark", "--table", "cli_events",
                                 "--json", "-"])
    assert judged.exit_code == 0, judged.output
    one = officemine.necessity(officemine.import_log(sample_csv))
    assert [(n["node"], n["items"]) for n in json.loads(judged.stdout)["nodes"]] == \
        list(zip(one.summary["node"], one.summary["items"]))
    refused = runner.invoke(app, ["import", "--source-table", "cli_raw", "-o",
                                  str(tmp_path / "x.parquet")])
    assert refused.exit_code == 2 and refused.output.startswith("error: ")
    assert "--engine spark" in refused.output
    bad = runner.invoke(app, ["import", "--engine", "spark", "--source-table", "cli_raw",
                              "--output-table", "x; DROP TABLE cli_raw"])
    assert bad.exit_code == 2 and "not a table name" in bad.output
    assert spark.catalog.tableExists("cli_raw")


def test_ties_between_attempts_go_to_the_first_instance_as_on_one_machine(spark, tmp_path):
    """Two re-submissions that start at the same minute could both continue one refused
    request: the first instance (in id order) does, the other is counted ambiguous — on
    Spark too, whatever partitions the instances fall in (ten such requests: a partition
    order that happened to agree with id order every time would be 1 in 1,024)."""
    rows = ["流程编号,流程类型,标题,申请人,金额,节点名称,操作人,操作类型,操作时间"]
    for k in range(10):
        day = f"2025-03-{k + 3:02d}"
        rows += [f"R{k:02d},费用报销,报销{k},张三{k},100,发起,张三{k},提交,{day} 09:00",
                 f"R{k:02d},费用报销,报销{k},张三{k},100,部门审核,李四,否决,{day} 10:00"]
        for suffix in ("a", "b"):
            rows += [f"R{k:02d}{suffix},费用报销,报销{k},张三{k},100,发起,张三{k},提交,{day} 11:00",
                     f"R{k:02d}{suffix},费用报销,报销{k},张三{k},100,部门审核,李四,同意,"
                     f"{day} 12:00"]
    source = tmp_path / "ties.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    one, log = _both(spark, source, tmp_path, partitions=7)
    assert one.report.links_by_rule["form"] == 10 and one.report.ambiguous_links == 10
    linked = one.to_pandas().drop_duplicates("instance_id").set_index("instance_id")["case_id"]
    assert all(linked[f"R{k:02d}a"] == f"R{k:02d}" != linked[f"R{k:02d}b"] for k in range(10))
