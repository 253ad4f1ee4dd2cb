"""The docs keep up with the code: every command and option of the command line is in the
README or docs/, and every public name says what it is."""

from __future__ import annotations

import re
from pathlib import Path

import typer

import officemine
from officemine.cli import app

ROOT = Path(__file__).parents[1]


def _docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8")
                     for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands():
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        yield name, command


def test_every_command_is_in_the_docs():
    docs = _docs()
    missing = [name for name, _ in _commands() if f"officemine {name}" not in docs]
    assert not missing, f"commands not in README.md or docs/: {missing}"


def test_every_option_is_in_the_docs():
    """An option counts as documented when its long name appears (a --x/--no-x pair: either)."""
    docs = _docs()
    missing = []
    for name, command in _commands():
        for param in command.params:
            longs = [o for o in [*param.opts, *getattr(param, "secondary_opts", [])]
                     if o.startswith("--") and o != "--help"]
            if longs and not any(o in docs for o in longs):
                missing.append(f"officemine {name} {longs[0]}")
    assert not missing, f"options not in README.md or docs/: {missing}"


def test_every_public_name_is_documented():
    undocumented = [n for n in officemine.__all__
                    if not n.startswith("__") and n not in ("COLUMNS", "OUTCOMES")
                    and not (getattr(officemine, n).__doc__ or "").strip()]
    assert not undocumented, undocumented


def _python_blocks(text: str) -> list[tuple[int, str]]:
    """The README's ```python blocks with their line numbers, but those after a
    ``<!-- not run`` comment (they need files a reader has and the repository has not)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            skipped = start > 0 and lines[start - 1].startswith("<!-- not run")
            if not skipped:
                blocks.append((start + 1, "\n".join(lines[start + 1:j])))
            i = j
        i += 1
    return blocks


def test_the_readmes_python_runs_as_it_stands(tmp_path, monkeypatch):
    """Every README Python block, in order in one namespace, from a folder holding the
    repository's sample files, with public names only."""
    import matplotlib

    matplotlib.use("Agg")
    for name in ("sample_logs", "scenarios", "procedures", "sla"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    namespace: dict = {}
    for line, code in blocks:
        # public names only: no submodule of officemine, imported or reached through
        private = re.findall(r"from officemine\.\w+|officemine\.[a-z_]+\.\w+", code)
        assert not private, f"README.md:{line} reaches past the public API: {private}"
        exec(compile(code, f"README.md:{line}", "exec"), namespace)
    assert (tmp_path / "reports").is_dir() and any((tmp_path / "reports").glob("*.pdf"))


def _beyond_public_api(code: str) -> list[str]:
    """Where `code` uses officemine past its public names: imports of its modules, names not
    in ``officemine.__all__`` imported or reached as ``officemine.<name>``."""
    import ast

    public = set(officemine.__all__)
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names
                      if a.name.startswith("officemine.")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("officemine"):
            if node.module != "officemine":
                found.append(f"from {node.module}")
            found += [f"officemine.{a.name}" for a in node.names if a.name not in public]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "officemine" and node.attr not in public):
            found.append(f"officemine.{node.attr}")
    return found


def test_the_checker_sees_what_reaches_past_the_public_api():
    code = ("import officemine\nimport officemine.kpis\nfrom officemine import necessity, relabel\n"
            "from officemine.base.plotting import use_chart_style\nofficemine.privacy.load_key()\n"
            "officemine.monthly_reports(log)")
    assert _beyond_public_api(code) == ["officemine.kpis", "officemine.relabel",
                                        "from officemine.base.plotting", "officemine.privacy"]


def test_the_notebooks_use_public_names_only():
    """What the notebooks teach is what a user may rely on: ``officemine`` and the names
    in its ``__all__``, nothing from its modules."""
    import json

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 4
    past = {}
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                code = "\n".join(line for line in code.splitlines()
                                 if not line.lstrip().startswith(("%", "!")))
                if found := _beyond_public_api(code):
                    past[f"{path.name} cell {i}"] = found
    assert not past, past
