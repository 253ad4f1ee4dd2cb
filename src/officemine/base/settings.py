"""Settings files as typed models: one loader, one unknown-key check, one JSON schema.

Each settings file officemine reads (a mapping, a scenario, report settings, an SLA, standard
procedures) declares its keys once, as a spec built from `Table`, `MapOf`, `ListOf`, `Tagged`
and `Value`. From that spec come

- `load`: the file (TOML, UTF-8) or a dict, with every key the spec does not know reported
  as a `Problem` with its place (``mapping.toml: [calendar].hourz``) and a "did you mean";
- `json_schema`: the JSON schema (draft 2020-12) of the file, for editors and documentation
  (``officemine schema mapping``).

The model then checks values (ranges, names, expressions) and adds its own problems to the
same list, so a file with five mistakes gets one `SettingsError` listing five.

>>> spec = Table({"name": Value({"type": "string"}), "limits": MapOf(Value({"type": "number"}))})
>>> loaded = load({"name": "x", "limts": {}}, spec, error=SettingsError)
>>> [p.message for p in loaded.problems]
["unknown key 'limts' (did you mean 'limits'?; allowed: limits, name)"]
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from officemine.base.errors import Problem, SettingsError
from officemine.base.tomlfile import read_toml

__all__ = ["Value", "Table", "MapOf", "ListOf", "Tagged", "Spec", "Loaded", "load",
           "json_schema", "place"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"


# --- the spec ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A leaf value, given by its JSON schema (type, enum, bounds) and a description."""

    schema: Mapping[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Table:
    """A table whose keys are fixed: any other key is a problem.

    refused: keys people write by mistake, with what to do instead (reported as such rather
    than as unknown, e.g. a secret written into shared settings).
    """

    keys: Mapping[str, "Spec"]
    description: str = ""
    required: tuple[str, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MapOf:
    """A table whose keys the user names (process types, node names, source words), each
    value following `values`; `fixed` keys (an SLA's ``default``) have a spec of their own."""

    values: "Spec"
    description: str = ""
    fixed: Mapping[str, "Spec"] = field(default_factory=dict)


@dataclass(frozen=True)
class ListOf:
    """An array: of tables (``[[change]]``) or of values."""

    items: "Spec"
    description: str = ""
    min_items: int | None = None


@dataclass(frozen=True)
class Tagged:
    """Tables told apart by the value of one key (a scenario change by its ``kind``)."""

    tag: str
    variants: Mapping[str, Table]
    description: str = ""


Spec = Union[Value, Table, MapOf, ListOf, Tagged]


# --- places --------------------------------------------------------------------------------------

def place(file: str | None, path: Sequence[str | int], *, table: bool = False) -> str:
    """Where a problem is, as a reader of the TOML file looks for it:
    ``mapping.toml: [calendar].hours``, ``scenario.toml: [[change]] #2``, ``report.toml:
    necessity_months``; `table`: the path names a table (``[calendar]``), not a key."""
    parts = list(path)
    text = ""
    if parts:
        head = parts.pop(0)
        if parts and isinstance(parts[0], int):
            text = f"[[{head}]] #{parts.pop(0)}"
        elif parts or table:
            text = f"[{head}]"
        else:
            text = str(head)
        for part in parts:
            text += f" #{part}" if isinstance(part, int) else f".{part}"
    name = Path(file).name if file else ""
    return f"{name}: {text}" if name and text else name or text


class Problems(list):
    """The problems of one settings file. ``append(text)`` (the way value checks report) adds
    a `Problem` of code ``invalid`` placed in the file; `add` gives the exact place."""

    def __init__(self, file: str | None = None) -> None:
        super().__init__()
        self.file = file

    def append(self, problem: Problem | str) -> None:  # type: ignore[override]
        if not isinstance(problem, Problem):
            problem = Problem("invalid", place(self.file, ()), str(problem))
        super().append(problem)

    def extend(self, problems: Iterable[Problem | str]) -> None:  # type: ignore[override]
        for p in problems:
            self.append(p)

    def add(self, message: str, *path: str | int, code: str = "invalid",
            table: bool = False) -> None:
        """A problem at `path` (keys and array positions from the top of the file; `table`:
        the path ends at a table, e.g. the one holding an unknown key)."""
        super().append(Problem(code, place(self.file, path, table=table), message))


# --- loading ---------------------------------------------------------------------------------------

@dataclass
class Loaded:
    """A settings file read and its keys checked: the data, where it came from, and the
    problems found so far (the model adds its own, then calls `raise_if_any`)."""

    data: Mapping[str, Any]
    source: str | None
    problems: Problems
    error: Callable[..., SettingsError]

    @property
    def folder(self) -> Path:
        """The folder paths in the file are relative to (the working folder for a dict)."""
        return Path(self.source).parent if self.source else Path(".")

    def raise_if_any(self, **kwargs: Any) -> None:
        """Raise the model's error listing every problem, if there is any."""
        if self.problems:
            raise self.error(list(self.problems), **kwargs)


def load(source: str | Path | Mapping[str, Any], spec: Table, *,
         error: Callable[..., SettingsError], what: str = "settings file",
         name: str | None = None, error_kwargs: Mapping[str, Any] | None = None) -> Loaded:
    """Read `source` (a TOML file, or a dict of the same structure) and report every key
    `spec` does not know.

    error: the model's `SettingsError` subclass, called with the problems and ``source=``.
    A file that cannot be read or is not TOML raises it at once with its one message.
    what: how that message names the file. name: where a dict came from, for the places.
    """
    if isinstance(source, Mapping):
        data = source
    else:
        name = str(source)
        data = read_toml(source, what,
                         lambda message: error(message, source=name, **(error_kwargs or {})))
    problems = Problems(name)
    if not isinstance(data, Mapping):
        problems.add(f"must be a table, not {type(data).__name__}", code="not-a-table")
        data = {}
    _walk(data, spec, [], problems)
    return Loaded(data, name, problems, error)


def _walk(value: Any, spec: Spec, path: list, problems: Problems) -> None:
    """Report unknown keys below `value`; values of the wrong type are left to the model
    (it knows what to say about them), so nothing is reported twice."""
    if isinstance(spec, Table):
        if not isinstance(value, Mapping):
            return
        for key, item in value.items():
            if key in spec.keys:
                _walk(item, spec.keys[key], [*path, key], problems)
            elif key in spec.refused:       # placed at the table that holds the key
                problems.add(f"{key}: {spec.refused[key]}", *path, code="refused-key",
                             table=True)
            else:
                problems.add(_unknown(key, spec.keys), *path, code="unknown-key", table=True)
    elif isinstance(spec, MapOf):
        if isinstance(value, Mapping):
            for key, item in value.items():
                _walk(item, spec.fixed.get(key, spec.values), [*path, key], problems)
    elif isinstance(spec, ListOf):
        items = [value] if isinstance(value, Mapping) else value
        if isinstance(items, list):
            for i, item in enumerate(items, 1):
                _walk(item, spec.items, [*path, i], problems)
    elif isinstance(spec, Tagged):
        if isinstance(value, Mapping):
            tag = value.get(spec.tag)
            if isinstance(tag, str) and tag in spec.variants:
                _walk(value, spec.variants[tag], path, problems)


def _unknown(key: object, known: Iterable[str]) -> str:
    known = sorted(known)
    hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    return (f"unknown key {str(key)!r} (" + (f"did you mean {hint[0]!r}?; " if hint else "")
            + f"allowed: {', '.join(known)})")


# --- the JSON schema -------------------------------------------------------------------------------

def json_schema(spec: Spec, *, title: str | None = None) -> dict:
    """The JSON schema (draft 2020-12) of `spec`; with a `title`, a whole document."""
    out = _schema(spec)
    if title is not None:
        out = {"$schema": DRAFT, "title": title, **out}
    return out


def _schema(spec: Spec) -> dict:
    if isinstance(spec, Value):
        out = dict(spec.schema)
    elif isinstance(spec, Table):
        out = {"type": "object", "properties": {k: _schema(v) for k, v in spec.keys.items()},
               "additionalProperties": False}
        if spec.required:
            out["required"] = list(spec.required)
    elif isinstance(spec, MapOf):
        out = {"type": "object", "additionalProperties": _schema(spec.values)}
        if spec.fixed:
            out["properties"] = {k: _schema(v) for k, v in spec.fixed.items()}
    elif isinstance(spec, ListOf):
        out = {"type": "array", "items": _schema(spec.items)}
        if spec.min_items is not None:
            out["minItems"] = spec.min_items
    elif isinstance(spec, Tagged):
        out = {"type": "object", "oneOf": [_schema(v) for v in spec.variants.values()]}
    else:  # pragma: no cover - the Spec union is closed
        raise AssertionError(f"not a settings spec: {spec!r}")
    if spec.description and "description" not in out:
        out["description"] = spec.description
    return out


def as_json(data: Any) -> Any:
    """TOML data as JSON sees it (dates and times as ISO text), to validate it against the
    schema."""
    if isinstance(data, Mapping):
        return {str(k): as_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [as_json(v) for v in data]
    if isinstance(data, (dt.date, dt.time)):
        return data.isoformat()
    return data
