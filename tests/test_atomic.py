"""officemine.base.atomic: writes that a kill cannot half-do, inputs never overwritten, and CSV
cells that never start a formula."""

import csv
import os
import signal
import stat
import subprocess
import sys
import textwrap

import matplotlib
from matplotlib.figure import Figure
import numpy as np
import pandas as pd
import pytest

from officemine.base.atomic import (atomic_path, atomic_paths, check_folder, check_output,
                                    protect, remove, safe_cell, safe_frame, write_csv, write_text)
from officemine.base.errors import OfficemineError, OutputError

matplotlib.use("Agg")


def leftovers(folder):
    """Temporary files an atomic write left behind."""
    return sorted(p.name for p in folder.iterdir() if ".officemine-" in p.name)


# --- atomic writes --------------------------------------------------------------------------
def test_write_creates_folders_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "a" / "b" / "out.json"
    assert write_text(target, "{}\n") == target
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert leftovers(target.parent) == []


def test_an_error_inside_the_block_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "log.parquet"
    target.write_bytes(b"old contents")
    with pytest.raises(ZeroDivisionError):
        with atomic_path(target) as temp:
            temp.write_bytes(b"half of the new")
            1 / 0
    assert target.read_bytes() == b"old contents"
    assert leftovers(tmp_path) == []


def test_a_group_is_replaced_only_when_every_file_is_complete(tmp_path):
    a, b = tmp_path / "r.pdf", tmp_path / "r.json"
    a.write_text("old pdf")
    b.write_text("old json")
    with pytest.raises(OfficemineError):
        with atomic_paths(a, b) as (ta, tb):
            ta.write_text("new pdf")
            raise OfficemineError("the JSON could not be rendered")
    assert (a.read_text(), b.read_text()) == ("old pdf", "old json")
    with atomic_paths(a, b) as (ta, tb):
        ta.write_text("new pdf")
        tb.write_text("new json")
    assert (a.read_text(), b.read_text()) == ("new pdf", "new json")
    assert leftovers(tmp_path) == []


def test_temporary_file_is_beside_the_target_and_keeps_its_suffix(tmp_path):
    target = tmp_path / "map.svg"
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path and temp.suffix == ".svg" and temp.name.startswith(".")
        assert not target.exists()                  # nothing at the target until the end
        fig = Figure()
        fig.savefig(temp)                           # the format comes from the suffix
    assert target.read_text().lstrip().startswith("<?xml")


def test_replacing_keeps_the_permissions_of_the_old_file(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_text("x")
    os.chmod(target, 0o640)
    write_text(target, "y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "y"


def test_a_new_file_gets_the_usual_permissions_not_the_private_ones_of_mkstemp(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644


def test_a_symlink_target_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_long_chinese_name_still_gets_a_temporary_name_the_file_system_takes(tmp_path):
    target = tmp_path / ("月度流程效能评估" * 9 + ".json")     # 216 bytes of name
    write_text(target, "{}")
    assert target.read_text() == "{}"


def test_os_errors_become_one_output_error_naming_the_target(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(OutputError, match="cannot write .*out.csv") as info:
        with atomic_path(target) as temp:
            raise PermissionError(13, "Permission denied", str(temp))
    assert ".officemine-" not in str(info.value)          # the target, not the temporary
    assert leftovers(tmp_path) == []


def test_a_folder_or_a_file_in_the_way_is_refused_with_a_message(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a folder"):
        write_text(tmp_path / "folder", "x")
    with pytest.raises(OutputError, match="afile is a file, not a folder"):
        write_text(tmp_path / "afile" / "sub" / "out.json", "x")
    with pytest.raises(OutputError, match="afile is a file, not a folder"):
        check_folder(tmp_path / "afile" / "sub")
    with pytest.raises(OutputError, match="is a folder"):
        check_output(tmp_path / "folder")


def test_checks_before_a_run_create_nothing(tmp_path):
    check_output(tmp_path / "new" / "deeper" / "log.parquet")
    check_folder(tmp_path / "reports")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_folder_is_found_before_the_run(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        with pytest.raises(OutputError, match="cannot write"):
            check_output(locked / "log.parquet")
    finally:
        os.chmod(locked, 0o700)


# --- inputs are never outputs ---------------------------------------------------------------
def test_an_input_is_never_overwritten_however_its_path_is_spelled(tmp_path, monkeypatch):
    source = tmp_path / "export.csv"
    source.write_text("the export")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(source)
    os.link(source, tmp_path / "hard.csv")
    monkeypatch.chdir(tmp_path)
    with protect([source]):
        for spelling in ("export.csv", "./sub/../export.csv", "link.csv", "hard.csv"):
            with pytest.raises(OutputError, match="input of this run"):
                write_text(spelling, "overwritten")
        write_text("other.csv", "fine")                 # other outputs go ahead
    write_text("other.csv", "fine again")               # protection ends with the block
    with pytest.raises(OutputError, match="input of this run"):
        write_csv(pd.DataFrame({"a": [1]}), source, inputs=[source])
    assert source.read_text() == "the export"


def test_remove_takes_away_an_old_output_but_never_an_input(tmp_path):
    old = tmp_path / "log.set_aside.csv"
    old.write_text("stale")
    with pytest.raises(OutputError):
        remove(old, inputs=[old])
    assert old.exists()
    remove(old)
    remove(old)                                          # already gone: nothing to do
    assert not old.exists()


# --- a killed writer ------------------------------------------------------------------------
def test_a_writer_killed_mid_write_leaves_the_previous_file_whole(tmp_path):
    target = tmp_path / "log.parquet"
    target.write_bytes(b"previous log " * 1000)
    before = target.read_bytes()
    child = textwrap.dedent(f"""
        import sys, time
        from officemine.base.atomic import atomic_path
        with atomic_path({str(target)!r}) as temp:
            with open(temp, "wb") as fh:
                fh.write(b"new log, first half ")
                fh.flush()
                print("half written", flush=True)
                time.sleep(60)
                fh.write(b"second half")
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "half written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    assert len(leftovers(tmp_path)) == 1                 # a kill leaves only a hidden stray


# --- no formulas in spreadsheets ------------------------------------------------------------
@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"点我\")", "+李四", "-2+3", "@SUM(A1)",
                                  "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0", "-", "+"])
def test_text_a_spreadsheet_would_run_is_escaped(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-5", "+3", "-12.50", "-1e-3", ".5", "张三", "a=b", " =1",
                                   -5, -0.25, None, 7])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert safe_cell(value) == value


def test_safe_frame_escapes_text_cells_and_names_and_leaves_numbers(tmp_path):
    frame = pd.DataFrame({
        "node": pd.Series(["=HYPERLINK(\"x\")", "审核", None], dtype="string"),
        "comment": pd.Series(["@张三", -3, "-4"], dtype="object"),
        "dept": pd.Series(["+财务部", "办公室", "+财务部"], dtype="category"),
        "amount": [-120.5, 3.0, np.nan],
        "=title": ["a", "b", "c"],
    })
    safe = safe_frame(frame)
    assert safe["node"].tolist()[:2] == ["'=HYPERLINK(\"x\")", "审核"]
    assert pd.isna(safe["node"].iloc[2]) and safe["node"].dtype == frame["node"].dtype
    assert safe["comment"].tolist() == ["'@张三", -3, "-4"]
    assert safe["dept"].tolist() == ["'+财务部", "办公室", "'+财务部"]
    assert safe["amount"].tolist()[:2] == [-120.5, 3.0]
    assert list(safe.columns) == ["node", "comment", "dept", "amount", "'=title"]
    assert frame["node"].iloc[0] == "=HYPERLINK(\"x\")"           # the input is not changed
    write_csv(frame, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert "-120.5" in cells and "-4" in cells and "-3" in cells   # numbers stay numbers
