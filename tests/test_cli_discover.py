"""`officemine discover`: through Typer's runner and end to end as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

import officemine
from officemine.cli import app

from test_discovery import HEADER, ROWS, SAMPLE

runner = CliRunner()
FILES = {"variants.csv", "map.png", "map.svg", "map.pdf", "map_nodes.csv", "map_arcs.csv",
         "model.bpmn", "rework.csv", "handoffs.csv", "discovery.json"}


def write_small(path):
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(ROWS)
    return path


def test_discover_prints_a_summary_and_writes_the_files(tmp_path):
    src = write_small(tmp_path / "small.csv")
    out = tmp_path / "out"
    result = runner.invoke(app, ["discover", str(src), "--process-type", "报销",
                                 "--min-frequency", "1", "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Top variants" in result.output
    assert "60.0%" in result.output and "发起 → 部门审核 → 财务审核 → 归档" in result.output
    assert "Rework: 1 returns" in result.output and "Hand-offs: 7 hand-offs" in result.output
    chinese = runner.invoke(app, ["discover", str(src), "--process-type", "报销",
                                  "--min-frequency", "1", "-o", str(out)])
    assert "退回与返工：退回 1 次" in chinese.output and "部门间流转 7 次" in chinese.output
    assert {p.name for p in out.iterdir()} == FILES
    data = json.loads((out / "discovery.json").read_text(encoding="utf-8"))
    assert data["settings"]["min_frequency"] == 1 and data["scope"]["cases"] == 5


def test_discover_reads_a_stored_parquet_log(tmp_path):
    log = officemine.import_log(write_small(tmp_path / "small.csv"))
    stored = log.write(tmp_path / "small.parquet")
    result = runner.invoke(app, ["discover", str(stored), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "全部流程类型 — 6 件" in result.output


def test_unknown_process_type_lists_the_ones_the_log_has(tmp_path):
    src = write_small(tmp_path / "small.csv")
    result = runner.invoke(app, ["discover", str(src), "-t", "请假", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())          # rich wraps long lines
    assert "error:" in text and "'请假'" in text
    assert "报销 (5 cases)" in text and "用印 (1 cases)" in text
    assert not (tmp_path / "o").exists()


def test_bad_min_frequency_is_refused(tmp_path):
    src = write_small(tmp_path / "small.csv")
    result = runner.invoke(app, ["discover", str(src), "--min-frequency", "0"])
    assert result.exit_code != 0


def test_python_m_officemine_discover_end_to_end(tmp_path):
    out = tmp_path / "disc"
    done = subprocess.run([sys.executable, "-m", "officemine", "discover", str(SAMPLE),
                           "--process-type", "费用报销", "-o", str(out)],
                          capture_output=True, text=True, encoding="utf-8", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "流程发现：费用报销 — " in done.stdout      # in --lang, Chinese by default
    assert "财务初审:return" in done.stdout          # the returned variant is among the top 5
    assert "最多来自 财务初审" in done.stdout
    assert {p.name for p in out.iterdir()} == FILES
    data = json.loads((out / "discovery.json").read_text(encoding="utf-8"))
    assert data["scope"]["process_type"] == "费用报销"
