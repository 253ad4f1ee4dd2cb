"""`officemine simulate` through Typer's runner and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import officemine
from officemine.cli import app

HERE = Path(__file__).resolve().parent
SCEN = HERE / "data" / "scenarios"
runner = CliRunner()


@pytest.fixture(scope="module")
def log_path(sample_csv, tmp_path_factory):
    return officemine.import_log(sample_csv).write(tmp_path_factory.mktemp("sim") / "log.parquet")


def test_two_scenarios_side_by_side_as_json(log_path):
    result = runner.invoke(app, ["simulate", str(log_path),
                                 "--scenario", str(SCEN / "remove_office_check.toml"), "--since", "all",
                                 "--scenario", str(SCEN / "notice_finance.toml"),
                                 "--replications", "200", "--seed", "3", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == "取消综合办公室审核" and data["seed"] == 3
    assert data["replications"] == 200 and data["engine"] == "replay"
    assert [s["scenario"] for s in data["scenarios"]] == ["取消综合办公室审核", "财务初审一次性告知"]
    assert data["reduction"]["median_pct"] > 20 and data["validation"]["emd_hours"] == 0


def test_table_json_file_and_chart(log_path, tmp_path):
    out, chart = tmp_path / "sim.json", tmp_path / "sim.png"
    result = runner.invoke(app, ["simulate", str(log_path), "-s",
                                 str(SCEN / "remove_office_check.toml"), "--since", "all", "--replications", "100",
                                 "--json", str(out), "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    # the scenarios side by side and the basis, in the reader's language (zh by default)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "取消综合办公室审核" in result.stdout and "模型校验" in result.stdout
    assert f"{data['reduction']['median_pct']:.1f}%" in result.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["cases"] > 500
    assert chart.stat().st_size > 5000


def test_invalid_scenario_exits_2_naming_the_problem(log_path):
    result = runner.invoke(app, ["simulate", str(log_path), "-s", str(SCEN / "unknown_node.toml")])
    assert result.exit_code == 2
    assert "no node '综合办公室' in the log" in result.output
    result = runner.invoke(app, ["simulate", str(log_path), "-s",
                                 str(SCEN / "remove_office_check.toml"), "--since", "all", "--engine", "magic"])
    assert result.exit_code == 2 and "engine must be one of replay, stochastic" in result.output


def test_subprocess_on_a_raw_export(sample_csv):
    done = subprocess.run(
        [sys.executable, "-m", "officemine", "simulate", str(sample_csv), "--scenario",
         str(SCEN.parent.parent.parent / "scenarios" / "remove_office_check.toml"), "--since", "all",
         "--replications", "100", "--json", "-"],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["scenario"] == "取消综合办公室审核，财务一次性告知"
    assert data["indicators"]["returns"]["avoided"] > 0
    assert "读入" in done.stderr     # the import report, in --lang (zh by default)


def test_stochastic_engine_from_the_command_line(log_path):
    result = runner.invoke(app, ["simulate", str(log_path), "-s",
                                 str(SCEN / "remove_office_check.toml"), "--since", "all", "--engine", "stochastic",
                                 "--replications", "2", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["engine"] == "stochastic" and data["replications"] == 2
    assert {"emd_hours", "ngram_distance", "verdict"} <= set(data["validation"])


def test_help_documents_the_options():
    result = runner.invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    for option in ("--scenario", "--engine", "--replications", "--seed", "--json"):
        assert option in result.output
