"""The one error hierarchy: every error in errors.py, none raised bare, closed choices that
list their values, settings errors that list every problem — in Python and on the CLI."""

from __future__ import annotations

import ast
import builtins
import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import officemine
from officemine.base import errors
from officemine.cli import app
from officemine.base.errors import (ChoiceError, InputError, NotFoundError, OfficemineError,
                                    Problem, SettingsError)

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "officemine"
SAMPLE = REPO / "sample_logs" / "oa_sample.csv"
SCENARIO = REPO / "scenarios" / "remove_office_check.toml"
BUILTIN_ERRORS = {name for name, obj in vars(builtins).items()
                  if isinstance(obj, type) and issubclass(obj, BaseException)}


def _error_classes():
    return [obj for _, obj in inspect.getmembers(errors, inspect.isclass)
            if obj.__module__ == errors.__name__ and issubclass(obj, BaseException)]


def _modules():
    return sorted(p for p in SRC.rglob("*.py") if p.name != "errors.py")


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_has_a_one_line_docstring_and_is_an_officemine_error(cls):
    assert issubclass(cls, OfficemineError)
    doc = cls.__doc__ or ""
    assert doc.strip() and doc is not Exception.__doc__, cls
    assert not (cls is not OfficemineError and doc == OfficemineError.__doc__)


def test_no_error_class_is_defined_outside_errors_py():
    """A public exception class lives in errors.py; modules only keep private control-flow
    signals (``class _Fallback(Exception)``)."""
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
            if any(b in BUILTIN_ERRORS or b.endswith(("Error", "Exception")) for b in bases):
                found.append(f"{path.relative_to(SRC)}: class {node.name}")
    assert not found, found


def test_nothing_raises_the_base_class_or_a_builtin_error():
    """Every raise names what went wrong: a subclass, never bare `OfficemineError(…)` nor a
    built-in ValueError/KeyError/TypeError that would escape the hierarchy (an
    AssertionError states an internal invariant, like `assert`)."""
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name == "OfficemineError" or name in BUILTIN_ERRORS - {"NotImplementedError", "AssertionError"}:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} raise {name}")
    assert not found, found


def test_a_choice_error_lists_the_allowed_values():
    with pytest.raises(ChoiceError) as info:
        ChoiceError.check("basis", "wokring", ("working", "clock"))
    err = info.value
    assert str(err) == ("basis must be one of working, clock, not 'wokring' "
                        "(did you mean 'working'?)")
    assert (err.name, err.value, err.allowed) == ("basis", "wokring", ("working", "clock"))
    assert isinstance(err, ValueError) and isinstance(err, InputError)
    assert ChoiceError.check("basis", "clock", ("working", "clock")) == "clock"
    assert "did you mean" not in str(ChoiceError("lang", "fr", ("zh", "en")))
    with pytest.raises(ChoiceError):                 # an unhashable value is simply wrong
        ChoiceError.check("kind", ["x"], {"x": 1})


def test_library_choices_are_checked_by_the_one_error(tmp_path):
    log = officemine.import_log(SAMPLE)
    with pytest.raises(ChoiceError, match="basis must be one of working, clock, not 'wall'"):
        officemine.necessity(log, basis="wall")
    with pytest.raises(ChoiceError, match="engine must be one of replay, stochastic"):
        officemine.simulate(log, SCENARIO, engine="monte-carlo")
    with pytest.raises(ChoiceError, match="format must be one of auto, csv"):
        officemine.import_log(SAMPLE, format="pdf")
    with pytest.raises(ChoiceError, match="activity must be one of node, node_outcome"):
        log.to_pm4py(activity="step")


def test_a_lookup_error_is_a_key_error_with_a_readable_message():
    err = NotFoundError("no scenario 'x'; scenarios: a, b")
    assert isinstance(err, KeyError) and str(err) == "no scenario 'x'; scenarios: a, b"


def test_a_settings_error_lists_every_problem_with_its_place():
    problems = [Problem("unknown-key", "m.toml: [calendar]", "unknown key 'hourz'"),
                Problem("invalid", "m.toml: timezone", "not a known time zone"), "a text"]
    err = SettingsError(problems, source="m.toml")
    assert str(err) == ("settings m.toml has 3 problem(s):\n"
                        "  - m.toml: [calendar]: unknown key 'hourz'\n"
                        "  - m.toml: timezone: not a known time zone\n  - a text")
    assert [p.code for p in err.problems] == ["unknown-key", "invalid", "invalid"]
    one = SettingsError("cannot read m.toml")
    assert str(one) == "cannot read m.toml" and len(one.problems) == 1


runner = CliRunner()


@pytest.mark.parametrize("args, allowed", [
    (["necessity", str(SAMPLE), "--basis", "wall"], "--basis must be one of working, clock"),
    (["necessity", str(SAMPLE), "--lang", "fr"], "--lang must be one of zh, en"),
    (["necessity", str(SAMPLE), "--engine", "spak"], "--engine must be one of duckdb, spark"),
    (["simulate", str(SAMPLE), "-s", str(SCENARIO), "--engine", "mc"],
     "--engine must be one of replay, stochastic"),
    (["report", str(SAMPLE), "--lang", "de"], "--lang must be one of zh, en"),
    (["validate", str(SAMPLE), "--format", "xls"], "--format must be one of auto, csv, xlsx"),
    (["schema", "slaa"], "KIND must be one of mapping, scenario, report, sla, procedures"),
])
def test_a_wrong_choice_on_the_command_line_is_one_line_and_exit_code_2(args, allowed, tmp_path):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {allowed}"), result.output


def test_a_wrong_choice_fails_before_anything_is_read(tmp_path):
    """Checked when the command line is read: a missing log is not even opened."""
    missing = tmp_path / "none.csv"
    result = subprocess.run([sys.executable, "-m", "officemine", "necessity", str(missing),
                             "--basis", "wall"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --basis must be one of working, clock, not 'wall'"
    assert "Traceback" not in result.stderr
