"""The CLI is a thin shell: through Typer's runner and end to end as a subprocess."""

import json
import subprocess
import sys

from typer.testing import CliRunner

import officemine
from officemine.cli import app

from test_import_tabular import CN_HEADER, CN_ROWS, write_csv

runner = CliRunner()


def test_import_writes_log_and_prints_the_accounting(tmp_path):
    src = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS + [["R9", "x"]], "gbk")
    out = tmp_path / "a.parquet"
    result = runner.invoke(app, ["import", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "rows read 8 = accepted 7 + set aside 1" in result.output
    assert "malformed_record" in result.output
    log = officemine.read_log(out)
    assert log.n_events == 7
    assert out.with_suffix(".set_aside.csv").exists()


def test_validate_json_and_strict_exit_code(tmp_path):
    src = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS + [["R9", "x"]])
    result = runner.invoke(app, ["validate", str(src), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["rows_read"] == 8 and report["balanced"] is True
    strict = runner.invoke(app, ["validate", str(src), "--strict"])
    assert strict.exit_code == 1
    assert "first 1 set-aside rows" in strict.output and "malformed_record" in strict.output
    assert not list(tmp_path.glob("*.parquet"))        # validate writes nothing


def test_domain_errors_give_a_message_and_exit_code_2(tmp_path):
    src = write_csv(tmp_path / "amb.csv", ["流程编号", "单号", "节点", "操作时间"], [["1", "2", "a", "x"]])
    result = runner.invoke(app, ["validate", str(src)])
    assert result.exit_code == 2
    assert "error:" in result.output and "单号" in result.output
    bad_format = runner.invoke(app, ["validate", str(src), "--format", "pdf"])
    assert bad_format.exit_code == 2 and "unknown format" in bad_format.output


def test_every_command_has_help_text():
    for command in app.registered_commands:
        assert command.callback.__doc__, f"{command.name} has no docstring"
        result = runner.invoke(app, [command.name or command.callback.__name__, "--help"])
        assert result.exit_code == 0


def test_console_script_end_to_end(tmp_path):
    src = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS, "gbk")
    out = tmp_path / "log.parquet"
    done = subprocess.run([sys.executable, "-m", "officemine", "import", str(src), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    info = subprocess.run([sys.executable, "-m", "officemine", "info", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert info.returncode == 0 and "2 cases, 7 events" in info.stdout
