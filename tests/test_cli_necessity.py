"""`officemine necessity` through Typer's runner and as a subprocess."""

import json
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

import officemine
from officemine.cli import app

runner = CliRunner()


def test_json_to_stdout_is_pure_json(sample_csv):
    result = runner.invoke(app, ["necessity", str(sample_csv), "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    nodes = {n["node"]: n for n in data["nodes"]}
    # removed on 2025-07-01: reported as such, never judged again
    assert "综合办公室审核" not in nodes
    assert data["removed_nodes"] == [{"process_type": "费用报销", "node": "综合办公室审核",
                                      "date": "2025-07-01T09:53:00+08:00"}]
    every = runner.invoke(app, ["necessity", str(sample_csv), "--since", "all", "--json", "-"])
    nodes = {n["node"]: n for n in json.loads(every.stdout)["nodes"]}
    assert nodes["综合办公室审核"]["verdict"] == "streamline"
    bad = runner.invoke(app, ["necessity", str(sample_csv), "--since", "2030-01-01"])
    assert bad.exit_code == 2 and "after the end of the log" in bad.output


def test_table_csv_and_chart_files(sample_csv, tmp_path):
    log_path = officemine.import_log(sample_csv).write(tmp_path / "log.parquet")
    result = runner.invoke(app, ["necessity", str(log_path), "--by", "process_type",
                                 "--since", "all", "--csv", str(tmp_path / "n.csv"), "--chart",
                                 str(tmp_path / "n.png"), "--json", str(tmp_path / "n.json")])
    assert result.exit_code == 0, result.output
    assert "综合办公室审核 · 费用报销: 精简/备案 — " in result.stdout      # --lang zh, the default
    table = pd.read_csv(tmp_path / "n.csv")
    assert {"node", "process_type", "verdict", "rejection_rate_ci_low"} <= set(table.columns)
    assert (tmp_path / "n.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "n.json").read_text(encoding="utf-8"))["by"] == "process_type"


def test_bad_options_exit_2(sample_csv):
    result = runner.invoke(app, ["necessity", str(sample_csv), "--basis", "weekly"])
    assert result.exit_code == 2 and "basis must be one of" in result.output


def test_subprocess_on_a_raw_export(sample_csv, tmp_path):
    done = subprocess.run([sys.executable, "-m", "officemine", "necessity", str(sample_csv),
                           "--json", "-"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["log"]["cases"] > 1000
    assert "读入" in done.stderr   # the on-the-fly import report goes to stderr, in --lang (zh)


def test_readme_sample_output_is_what_the_command_prints(sample_csv):
    """The README's necessity block is the command's real output (… marks lines left out)."""
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- necessity-sample:start")[1].split("<!-- necessity-sample:end")[0]
    lines = block.split("```")[1].strip("\n").splitlines()
    command = lines[0].removeprefix("$ officemine ").split()
    assert command[:2] == ["necessity", "sample_logs/oa_sample.csv"]
    result = runner.invoke(app, [command[0], str(sample_csv), *command[2:]])
    assert result.exit_code == 0, result.output
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    at = 0
    for line in lines[1:]:
        if line == "…":
            continue
        assert line.rstrip() in printed[at:], (
            f"README line not printed (regenerate the block from the command): {line}")
        at = printed.index(line.rstrip(), at) + 1
