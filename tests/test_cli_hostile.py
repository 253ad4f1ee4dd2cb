"""Every command, fed wrong and hostile files and options, answers with one ``error:`` line
and exit code 2 (or Typer's own usage error, also exit code 2): never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from officemine.cli import app

from conftest import REPO

runner = CliRunner()
SCENARIO = REPO / "scenarios" / "remove_office_check.toml"
PROCEDURES = REPO / "procedures" / "sample_office.toml"
# every command of `officemine --help`, with {src} where the file under test goes and {out}
# a fresh folder for outputs
COMMANDS = {
    "import": ["import", "{src}", "-o", "{out}/log.parquet"],
    "validate": ["validate", "{src}"],
    "info": ["info", "{src}"],
    "discover": ["discover", "{src}", "-o", "{out}/discovery"],
    "necessity": ["necessity", "{src}", "--csv", "{out}/n.csv"],
    "report": ["report", "{src}", "-o", "{out}/reports"],
    "simulate": ["simulate", "{src}", "-s", str(SCENARIO)],
    "supervise": ["supervise", "{src}", "--ledger", "{out}/duban.db"],
    "ledger": ["ledger", "{src}"],
    "conformance": ["conformance", "{src}", "--procedures", str(PROCEDURES)],
    "schema": ["schema", "{src}"],          # a file where a settings kind is expected
}
GARBAGE = bytes(range(256)) * 20 + b"\x00\xff\xfe" * 100


def make_source(kind: str, folder: Path) -> Path:
    """A source file that no command can use."""
    if kind == "missing":
        return folder / "missing.csv"
    if kind == "folder":
        (folder / "export").mkdir()
        return folder / "export"
    if kind.startswith("empty"):
        path = folder / f"empty.{kind.split('-')[1]}"
        path.write_bytes(b"")
        return path
    if kind.startswith("garbage"):
        path = folder / f"garbage.{kind.split('-')[1]}"
        path.write_bytes(GARBAGE)
        return path
    if kind == "header-only":
        path = folder / "header.csv"
        path.write_text("流程编号,节点名称,操作类型,操作时间\n", encoding="utf-8")
        return path
    raise ValueError(kind)


SOURCES = ["missing", "folder", "empty-csv", "empty-parquet", "empty-xlsx", "empty-json",
           "garbage-csv", "garbage-parquet", "garbage-xlsx", "garbage-xes", "garbage-json",
           "garbage-docx", "header-only"]


def assert_one_error(result, *, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    usage = "Usage:" in result.output            # Typer's own usage error (a box)
    assert len(errors) == 1 or (usage and not errors), result.output
    return errors[0] if errors else result.output


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_hostile_source_is_one_error_line(command, kind, tmp_path):
    src = make_source(kind, tmp_path)
    out = tmp_path / "out"
    args = [a.format(src=src, out=out) for a in COMMANDS[command]]
    result = runner.invoke(app, args)
    if kind == "header-only" and command in ("import", "validate"):
        # a well-formed export without rows is an empty log, not an error: the report says so
        assert result.exit_code == 0 and "读入 0 行 = 接受 0 行 + 另存待查 0 行" in \
            result.output
        return
    line = assert_one_error(result)
    if line.startswith("error:"):
        assert src.name in line or "log" in line or "event" in line, line
    assert not out.exists() or not any(out.rglob("*.*")), "a failed run wrote files"


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory):
    from test_cli_discover import write_small

    return write_small(tmp_path_factory.mktemp("good") / "small.csv")


@pytest.fixture(scope="module")
def good_log(good_csv):
    import officemine

    return officemine.import_log(good_csv).write(good_csv.with_suffix(".parquet"))


def hostile_files(folder: Path) -> dict[str, Path]:
    garbage = folder / "garbage.toml"
    garbage.write_bytes(GARBAGE)
    empty = folder / "empty.toml"
    empty.write_bytes(b"")
    wrong = folder / "wrong.toml"
    wrong.write_text('colour = "red"\n[[change]]\nkind = "teleport"\n', encoding="utf-8")
    deep = folder / "deep.toml"
    deep.write_text('name = "crafted"\n[[change]]\nkind = "short_route"\nnodes = ["审核"]\n'
                    'when = "' + "not " * 5000 + 'amount < 5"\n', encoding="utf-8")
    # a procedure file whose condition nests 5000 deep, and a BPMN model that declares
    # entities (billion laughs)
    deep_procedure = folder / "deep_procedure.toml"
    deep_procedure.write_text('[[procedure]]\nprocess_type = "报销"\nsteps = ["部门审核"]\n'
                              '[procedure.required_when]\n"部门审核" = "' + "not " * 5000
                              + 'amount < 5"\n', encoding="utf-8")
    bomb = folder / "bomb.bpmn"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                    + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in
                              zip("abcdefgh", "bcdefghi"))
                    + ']><definitions>&i;</definitions>', encoding="utf-8")
    afile = folder / "afile"
    afile.write_text("x")
    (folder / "adir").mkdir()
    return {"garbage": garbage, "empty": empty, "wrong": wrong, "deep": deep, "afile": afile,
            "adir": folder / "adir", "deep_procedure": deep_procedure, "bomb": bomb}


# (command, options) with {garbage}, {empty}, {wrong}, {deep} (a scenario whose `when` nests
# 5000 deep): settings files; {afile}: a file where a
# folder belongs; {adir}: a folder where a file belongs; {missing}: no such file
OPTION_CASES = [
    ("import", ["-o", "{afile}/log.parquet"]),
    ("import", ["-o", "{adir}"]),
    ("import", ["-o", "{out}/log.parquet", "--mapping", "{garbage}"]),
    ("import", ["-o", "{out}/log.parquet", "--mapping", "{wrong}"]),
    ("import", ["-o", "{out}/log.parquet", "--mapping", "{missing}"]),
    ("import", ["-o", "{out}/log.parquet", "--format", "docx"]),
    ("import", ["-o", "{out}/log.parquet", "--timezone", "Mars/Olympus"]),
    ("validate", ["--mapping", "{adir}"]),
    ("discover", ["-o", "{afile}"]),
    ("discover", ["-o", "{out}", "--calendar", "{garbage}"]),
    ("discover", ["-o", "{out}", "--calendar", "{wrong}"]),
    ("discover", ["-o", "{out}", "--process-type", "请假"]),
    ("discover", ["-o", "{out}", "--min-frequency", "0"]),
    ("necessity", ["--csv", "{adir}"]),
    ("necessity", ["--csv", "{afile}/n.csv"]),
    ("necessity", ["--json", "{adir}"]),
    ("necessity", ["--chart", "{out}/n.bmp"]),
    ("necessity", ["--csv", "{out}/n.csv", "--json", "{out}/n.csv"]),
    ("necessity", ["--csv", "{log}"]),
    ("necessity", ["--basis", "weekly"]),
    ("necessity", ["--by", "colour"]),
    ("necessity", ["--calendar", "{empty}", "--lang", "fr"]),
    ("report", ["-o", "{afile}"]),
    ("report", ["-o", "{adir}/october.pdf", "--month", "2025-13"]),
    ("report", ["--month", "10"]),
    ("report", ["--month", "2025年13月"]),
    ("report", ["--config", "{garbage}"]),
    ("report", ["--config", "{wrong}"]),
    ("report", ["--sla", "{garbage}"]),
    ("report", ["--sla", "{wrong}"]),
    ("report", ["--scenario", "{garbage}"]),
    ("report", ["--scenario", "{missing}"]),
    ("report", ["--calendar", "{adir}"]),
    ("report", ["--lang", "fr"]),
    ("report", ["-o", "{out}/r.pdf", "--all-months"]),
    ("simulate", ["-s", "{garbage}"]),
    ("simulate", ["-s", "{empty}"]),
    ("simulate", ["-s", "{wrong}"]),
    ("simulate", ["-s", "{deep}"]),
    ("report", ["--scenario", "{deep}"]),
    ("simulate", ["-s", "{adir}"]),
    ("simulate", ["-s", str(SCENARIO), "--engine", "magic"]),
    ("simulate", ["-s", str(SCENARIO), "--json", "{adir}"]),
    ("simulate", ["-s", str(SCENARIO), "--json", str(SCENARIO)]),
    ("simulate", ["-s", str(SCENARIO), "--chart", "{afile}/c.png"]),
    ("info", ["--no-such-option"]),
    ("supervise", ["--ledger", "{adir}"]),
    ("supervise", ["--ledger", "{garbage}"]),
    ("supervise", ["--ledger", "{log}"]),
    ("supervise", ["--ledger", "{afile}/duban.db"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--notify", "pigeon"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--notify", "dingtalk"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--notify", "email", "--settings",
                   "{garbage}"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--notify", "email", "--settings", "{wrong}"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--people", "{wrong}"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--people", "{garbage}"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--sla", "{wrong}"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--as-of", "next tuesday"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--resend", "2025-W15"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--resend", "2025-W15", "--notify", "wecom"]),
    ("supervise", ["--ledger", "{out}/duban.db", "--lang", "fr"]),
    ("supervise", ["--ledger", "{out}/duban.db", "-o", "{afile}"]),
    ("supervise", ["--no-ledger-given"]),
    ("ledger", ["--open"]),
    ("ledger", ["--case", "X", "--week", "2025-W01"]),
    ("conformance", ["-p", "{garbage}"]),
    ("conformance", ["-p", "{empty}"]),
    ("conformance", ["-p", "{wrong}"]),
    ("conformance", ["-p", "{deep}"]),
    ("conformance", ["-p", "{deep_procedure}"]),
    ("conformance", ["-p", "{bomb}"]),
    ("conformance", ["-p", "{missing}"]),
    ("conformance", ["-p", "{adir}"]),
    ("conformance", ["-p", "{log}"]),
    ("conformance", []),
    ("conformance", ["-p", str(PROCEDURES), "--month", "2025-13"]),
    ("conformance", ["-p", str(PROCEDURES), "--json", "{adir}"]),
    ("conformance", ["-p", str(PROCEDURES), "--csv", "{afile}/d.csv"]),
    ("conformance", ["-p", str(PROCEDURES), "--csv", "{log}"]),
    ("conformance", ["-p", str(PROCEDURES), "--chart", "{out}/c.bmp"]),
    ("conformance", ["-p", str(PROCEDURES), "--lang", "fr"]),
    ("conformance", ["-p", str(PROCEDURES), "--calendar", "{garbage}"]),
    ("report", ["--procedures", "{garbage}"]),
    ("report", ["--procedures", "{bomb}"]),
]


@pytest.mark.parametrize("command,options", OPTION_CASES,
                         ids=[f"{c}:{' '.join(o)}" for c, o in OPTION_CASES])
def test_a_hostile_option_is_one_error_line(command, options, good_csv, good_log, tmp_path):
    files = hostile_files(tmp_path)
    out = tmp_path / "out"
    names = {**files, "out": out, "missing": tmp_path / "missing.toml", "log": good_log}
    source = good_csv if command in ("import", "validate") else good_log
    args = [command, str(source)] + [o.format(**names) for o in options]
    assert_one_error(runner.invoke(app, args))
    assert not out.exists() or not any(out.rglob("*.*")), "a failed run wrote files"
    assert files["afile"].read_text() == "x" and not any(files["adir"].iterdir())


@pytest.fixture(scope="module")
def unwritable() -> Path:
    """A folder nobody can write into, not even root (sysfs)."""
    folder = Path("/sys/officemine-test")
    try:
        (folder.parent / ".officemine-probe").touch()
    except OSError:
        return folder
    (folder.parent / ".officemine-probe").unlink()
    pytest.skip("/sys is writable here")


@pytest.mark.parametrize("command", ["import", "discover", "necessity", "report", "simulate",
                                     "supervise", "conformance"])
def test_an_unwritable_output_folder_is_found_before_the_run(command, unwritable, good_csv,
                                                            good_log):
    args = {"import": ["import", str(good_csv), "-o", str(unwritable / "log.parquet")],
            "necessity": ["necessity", str(good_log), "--csv", str(unwritable / "n.csv")],
            "simulate": ["simulate", str(good_log), "-s", str(SCENARIO), "--json",
                         str(unwritable / "s.json")],
            "supervise": ["supervise", str(good_log), "--ledger",
                          str(unwritable / "duban.db")],
            "conformance": ["conformance", str(good_log), "-p", str(PROCEDURES), "--csv",
                            str(unwritable / "d.csv")]}.get(
        command, [command, str(good_log), "-o", str(unwritable)])
    line = assert_one_error(runner.invoke(app, args))
    assert "cannot write" in line and "officemine-test" in line


def test_every_command_is_covered():
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert names == set(COMMANDS)
