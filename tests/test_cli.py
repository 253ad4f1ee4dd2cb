"""The CLI is a thin shell: through Typer's runner and end to end as a subprocess."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.base.errors import OutputError

from cn_export import CN_HEADER, CN_ROWS, write_csv

runner = CliRunner()


def test_import_writes_log_and_prints_the_accounting(tmp_path):
    src = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS + [["R9", "x"]], "gbk")
    out = tmp_path / "a.parquet"
    result = runner.invoke(app, ["import", str(src), "-o", str(out), "--lang", "en"])
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
    strict = runner.invoke(app, ["validate", str(src), "--strict", "--lang", "en"])
    assert strict.exit_code == 1
    assert "first 1 set-aside rows" in strict.output and "malformed_record" in strict.output
    chinese = runner.invoke(app, ["validate", str(src)])          # zh by default
    assert "读入 8 行 = 接受 7 行 + 另存待查 1 行" in chinese.output
    assert "前 1 条另存待查的行" in chinese.output and "记录无法解析" in chinese.output
    assert not list(tmp_path.glob("*.parquet"))        # validate writes nothing


def test_domain_errors_give_a_message_and_exit_code_2(tmp_path):
    src = write_csv(tmp_path / "amb.csv", ["流程编号", "单号", "节点", "操作时间"], [["1", "2", "a", "x"]])
    result = runner.invoke(app, ["validate", str(src)])
    assert result.exit_code == 2
    assert "error:" in result.output and "单号" in result.output
    bad_format = runner.invoke(app, ["validate", str(src), "--format", "pdf"])
    assert bad_format.exit_code == 2 and "--format must be one of auto, csv" in bad_format.output


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
    assert info.returncode == 0 and "2 件、7 条事件" in info.stdout


# --- hardening: versions, file types, inputs and outputs ---------------------------------------
def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"officemine {officemine.__version__}"


def test_an_unsupported_file_type_is_named_with_the_supported_ones(tmp_path):
    for name in ("minutes.docx", "scan.pdf"):
        (tmp_path / name).write_bytes(b"PK\x03\x04 not an export")
        result = runner.invoke(app, ["import", str(tmp_path / name), "-o",
                                     str(tmp_path / "log.parquet")])
        assert result.exit_code == 2
        error = one_error_line(result)
        suffix = name.rsplit(".", 1)[1]
        assert f"'.{suffix}' is not supported" in error
        assert ".csv" in error and ".xlsx" in error and ".xes" in error
    assert not (tmp_path / "log.parquet").exists()


def one_error_line(result) -> str:
    """The single ``error:`` line of a failed command (never wrapped, never a traceback)."""
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_import_refuses_to_overwrite_its_own_source(tmp_path):
    src = write_csv(tmp_path / "x.csv", CN_HEADER, CN_ROWS, "gbk")
    before = src.read_bytes()
    for output in (src, tmp_path / "sub" / ".." / "x.csv"):
        result = runner.invoke(app, ["import", str(src), "-o", str(output)])
        assert result.exit_code == 2
        assert "is an input of this run" in one_error_line(result)
    assert src.read_bytes() == before
    log = officemine.import_log(src)                     # and the library refuses it too
    with pytest.raises(OutputError, match="input of this run"):
        log.write(src)
    assert src.read_bytes() == before


def test_a_clean_reimport_removes_the_stale_set_aside_file(tmp_path):
    dirty = write_csv(tmp_path / "dirty.csv", CN_HEADER, CN_ROWS + [["R9", "x"]], "gbk")
    clean = write_csv(tmp_path / "clean.csv", CN_HEADER, CN_ROWS, "gbk")
    out = tmp_path / "log.parquet"
    assert runner.invoke(app, ["import", str(dirty), "-o", str(out)]).exit_code == 0
    aside = out.with_suffix(".set_aside.csv")
    assert aside.exists()
    assert officemine.read_log(out).report.set_aside_file == str(aside)
    result = runner.invoke(app, ["import", str(clean), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not aside.exists()
    assert officemine.read_log(out).report.set_aside_file is None
    reread = officemine.read_log(out)                    # a log read back keeps what it has
    reread.write(tmp_path / "copy.parquet")
    assert not (tmp_path / "copy.set_aside.csv").exists()


EVIL = ['=HYPERLINK("http://evil.example","点击")', "+财务审核", "@办公室", "-领导批示",
        "\t=1+1", "=cmd|' /C calc'!A0"]


def write_evil_export(path):
    """A log whose node, person, department, title and comment values start formulas."""
    header = ["流程编号", "流程类型", "标题", "节点名称", "操作类型", "操作人", "操作人部门",
              "操作时间", "签字意见", "金额"]
    rows = []
    for i in range(40):
        case = f"=C{i}"
        nodes = EVIL[:4] if i % 2 else EVIL[1:4]
        rows.append([case, "=报销", EVIL[0], "@发起", "提交", "@申请人", "=综合部",
                     f"2025-03-{3 + i % 20:02d} 09:00", EVIL[4], "-1500"])
        for k, node in enumerate(nodes):
            outcome = "退回" if (i + k) % 7 == 0 else "同意"
            rows.append([case, "=报销", EVIL[0], node, outcome, EVIL[5], "+财务部",
                         f"2025-03-{3 + i % 20:02d} {10 + k}:00", EVIL[0], "-1500"])
        if outcome == "退回":
            rows.append([case, "=报销", EVIL[0], "@发起", "撤回", "@申请人", "=综合部",
                         f"2025-03-{3 + i % 20:02d} 16:00", "", "-1500"])
        else:
            rows.append([case, "=报销", EVIL[0], "归档", "归档", "系统", "",
                         f"2025-03-{3 + i % 20:02d} 17:00", "", "-1500"])
    rows.append(["=C99", "=报销", EVIL[0], EVIL[1], "同意", EVIL[5], "+财务部",
                 "not a time", EVIL[0], "-1500"])                    # set aside
    return write_csv(path, header, rows)


def test_no_csv_officemine_writes_has_a_cell_that_starts_a_formula(tmp_path):
    import csv as csv_module

    src = write_evil_export(tmp_path / "evil.csv")
    out = tmp_path / "out"
    log_path = out / "log.parquet"
    assert runner.invoke(app, ["import", str(src), "-o", str(log_path)]).exit_code == 0
    result = runner.invoke(app, ["necessity", str(log_path), "--csv", str(out / "n.csv")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["discover", str(log_path), "-o", str(out / "d")])
    assert result.exit_code == 0, result.output
    files = sorted(out.rglob("*.csv"))
    assert {f.name for f in files} == {"log.set_aside.csv", "n.csv", "variants.csv",
                                       "map_nodes.csv", "map_arcs.csv", "rework.csv",
                                       "handoffs.csv"}
    seen_escaped, numbers = set(), set()
    for f in files:
        with open(f, encoding="utf-8-sig", newline="") as fh:
            for row in csv_module.reader(fh):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), (f.name, cell)
                    if cell.startswith("-"):      # only numbers may start with a minus
                        float(cell)
                        numbers.add(f.name)
                    if cell.startswith("'"):
                        seen_escaped.add(f.name)
    # the evil text reached every file (escaped), so the check above was not vacuous
    assert seen_escaped == {f.name for f in files}
    assert "log.set_aside.csv" in numbers                # -1500 stays a number


def test_killed_import_leaves_the_previous_log_whole(sample_csv, tmp_path):
    """SIGKILL an import while it writes over an existing log: the old log is intact."""
    raw = sample_csv.read_bytes()
    head, _, body = raw.partition(b"\n")
    lines = body.splitlines(keepends=True)
    big = tmp_path / "big.csv"            # the sample ten times over (131k events, 18 MB)
    big.write_bytes(head + b"\n" + b"".join(b"K%d" % k + line for k in range(10)
                                             for line in lines))
    existing = tmp_path / "out" / "existing.parquet"
    officemine.import_log(sample_csv).write(existing)
    before = existing.read_bytes()
    command = [sys.executable, "-m", "officemine", "import", str(big), "-o", str(existing)]
    for attempt in range(5):             # a loaded machine may let the write slip past
        mid_write = kill_while_writing(command, existing.parent, existing)
        if mid_write:
            assert existing.read_bytes() == before
            break
        # killed too late: the new log must then be complete
        assert officemine.read_log(existing).n_events == 130_900
        officemine.import_log(sample_csv).write(existing)
        before = existing.read_bytes()
    assert mid_write, "never caught the import while it was writing"
    assert officemine.read_log(existing).n_events == 13_090


def kill_while_writing(command, folder, *watched) -> bool:
    """Run `command`; SIGKILL it as soon as one of its temporary files in `folder` has
    content, or a watched file changes. True if it was killed while writing (a temporary
    file had content and no watched file had changed yet)."""
    import os
    import signal
    import time

    def state(path):
        try:
            s = path.stat()
            return s.st_mtime_ns, s.st_size, s.st_ino
        except FileNotFoundError:
            return None

    def writing():
        for p in folder.glob(".*.officemine-*"):
            try:
                if p.stat().st_size > 0:
                    return True
            except FileNotFoundError:    # renamed between the listing and the look
                pass
        return False

    old = {p: state(p) for p in watched}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            busy = writing()
            changed = any(state(p) != s for p, s in old.items())
            if busy or changed:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return busy and not changed
            time.sleep(0.001)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        for p in folder.glob(".*.officemine-*"):     # what the kill left behind
            p.unlink()
