"""Imports go one way: each module of officemine belongs to a layer and imports only from its
own layer or the ones below it.

    base        errors, atomic writes, TOML and settings files, JSON values, closed choices,
                statistics, the words catalogue, chart style, the version
    log         the canonical log: schema, calendar, EventLog and its import report,
                relations, the result contract
    importing   every source's reader, the normaliser, linking, the streaming import
    analyses    necessity, kpis, discovery, simulation, conformance, supervision, effects,
                versions, privacy, sla, synthetic
    rendering   drawing and writing deliverables from result objects: PDF pages and layout,
                workbook and JSON companions, the HTML index, the weekly digest's page
    review      assembling a month (and all months) into a MonthlyReport; spark beside it
    api         `officemine` itself (the public names) and the schema registry
    cli         the `officemine` command

Rendering sits below the review, not above it: renderers take the result objects they are
handed and never import the review, while the review's public `.write()` renders itself
through them (as an analysis result draws itself with `.plot()` through the chart style).

Every import counts: at the top of a module, inside a function (loaded lazily, it still ties
the two together) and under ``TYPE_CHECKING``. Within a layer, the concepts (a package such as
``discovery``, or a module of ``base``/``log``) must not import each other in a circle.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "officemine"

LAYERS = ("base", "log", "importing", "analyses", "rendering", "review", "api", "cli")

#: module prefix -> layer; the longest prefix that matches a module wins.
LAYER_OF = {
    "officemine.base": "base",
    "officemine.log": "log",
    "officemine.importing": "importing",
    **{f"officemine.{name}": "analyses" for name in (
        "necessity", "kpis", "discovery", "simulation", "conformance", "supervision",
        "effects", "versions", "privacy", "sla", "synthetic")},
    "officemine.rendering": "rendering",
    "officemine.review": "review",
    "officemine.spark": "review",
    "officemine": "api",
    "officemine.schemas": "api",
    "officemine.cli": "cli",
    "officemine.__main__": "cli",
}


DOTTED = re.compile(r"officemine(\.[a-z_][a-z0-9_]*)+(:[A-Za-z_]\w*)?")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer_of(module: str) -> str | None:
    """The layer of a module, from the longest prefix of LAYER_OF naming it or a package
    above it; None for a module the map does not place."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in LAYER_OF and (n == len(parts) or prefix != "officemine"):
            return LAYER_OF[prefix]
    return None


def concept_of(module: str) -> str:
    """What the no-circle rule compares: the package or module under officemine; in
    officemine.base, each module (the base is a shelf of small unrelated tools, while the log
    is one concept whose parts lean on each other)."""
    parts = module.split(".")
    depth = 3 if parts[1:2] == ["base"] and len(parts) > 2 else 2
    return ".".join(parts[:depth])


def imports(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported officemine module) for every import in the file, wherever it stands,
    and for every module named in a string as ``"officemine.x"`` or ``"officemine.x:name"``
    (what `importlib.import_module` loads, as the readers' table and the Spark engine do)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from officemine.x import y` imports the module officemine.x.y when there is one
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in known
                       else origin for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and DOTTED.fullmatch(node.value):
            targets = [node.value.partition(":")[0]]
        else:
            continue
        for target in targets:
            if target == "officemine" or target.startswith("officemine."):
                while target not in known and "." in target:
                    target = target.rpartition(".")[0]
                found.append((node.lineno, target))
    return sorted(set(found))


def graph() -> list[tuple[str, int, str]]:
    mods = modules()
    return [(module, line, target) for module, path in mods.items()
            for line, target in imports(module, path, set(mods)) if target != module]


def test_the_layer_map_places_every_module():
    unplaced = [m for m in modules() if layer_of(m) is None]
    assert not unplaced, ("modules with no layer: add them to LAYER_OF in tests/test_layers.py "
                          "(and README's Layout):\n" + "\n".join(unplaced))
    # and the map names nothing that is not there, so it cannot drift from the tree
    mods = modules()
    stale = [p for p in LAYER_OF if not any(m == p or m.startswith(p + ".") for m in mods)]
    assert not stale, f"LAYER_OF names modules that do not exist: {stale}"


def test_no_import_goes_up_a_layer():
    upward = []
    for module, line, target in graph():
        here, there = layer_of(module), layer_of(target)
        if here is None or there is None:
            continue                # the map's own test names what it does not place
        if LAYERS.index(there) > LAYERS.index(here):
            path = modules()[module].relative_to(SRC.parent.parent)
            upward.append(f"{path}:{line}: {module} ({here}) imports {target} ({there})")
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def test_concepts_within_a_layer_do_not_import_each_other_in_a_circle():
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    for module, line, target in graph():
        a, b = concept_of(module), concept_of(target)
        if a != b and layer_of(module) == layer_of(target):
            edges[a].add(b)
            where.setdefault((a, b), f"{module}:{line} imports {target}")
    cycles = []
    for start in sorted(edges):
        # a path from one of start's targets back to start is a circle through start
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    cycles.append(" -> ".join(trail + [start]) + "  (" + "; ".join(
                        where[(x, y)] for x, y in zip(trail, trail[1:] + [start])) + ")")
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
    assert not cycles, "concepts that import each other in a circle:\n" + "\n".join(cycles)


def test_the_checks_see_an_upward_import(tmp_path):
    """The parser finds imports wherever they stand, so a lazy one cannot slip through."""
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from officemine.review import monthly_report\n"
                      "    return monthly_report\n", encoding="utf-8")
    assert imports("officemine.log.m", module, {"officemine.review"}) == \
        [(4, "officemine.review")]
    module.write_text('import importlib\nkpis = importlib.import_module("officemine.kpis")\n',
                      encoding="utf-8")
    assert imports("officemine.log.m", module, {"officemine.kpis"}) == [(2, "officemine.kpis")]
    assert layer_of("officemine.log.m") == "log" and layer_of("officemine.newthing") is None
