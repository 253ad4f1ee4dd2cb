"""Settings as typed specs: one loader, the unknown-key check, and the JSON schema of each
kind of settings file — checked against every settings file the repository ships."""

from __future__ import annotations

import json
import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.conformance.procedures import Procedures
from officemine.base.errors import ChoiceError, SettingsError
from officemine.importing.mapping import Mapping
from officemine.review.config import ReportConfig
from officemine.base.settings import as_json, place
from officemine.schemas import SETTINGS, settings_schema
from officemine.simulation.scenario import Scenario
from officemine.sla import SLA

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
BROKEN = {"many_problems.toml"}          # a scenario wrong on purpose, in every way

#: Every settings file shipped, by kind, and the model that reads it.
SHIPPED = {
    "mapping": (Mapping.from_toml, [*sorted((REPO / "mappings").glob("*.toml")),
                                    DATA / "xes" / "oa_labels.toml",
                                    DATA / "apis" / "wecom_nodes.toml"]),
    "scenario": (Scenario.from_toml, [p for p in sorted([*(REPO / "scenarios").glob("*.toml"),
                                                        *(DATA / "scenarios").glob("*.toml")])
                                      if p.name not in BROKEN]),
    "report": (ReportConfig.from_toml, [REPO / "sample_logs" / "report.toml"]),
    "sla": (SLA.from_toml, [REPO / "sla" / "default_sla.toml"]),
    "procedures": (Procedures.from_file, sorted((REPO / "procedures").glob("*.toml"))),
}
CASES = [(kind, path) for kind, (_, paths) in SHIPPED.items() for path in paths]


def _validator(kind):
    fastjsonschema = pytest.importorskip("fastjsonschema")
    schema = settings_schema(kind)
    # fastjsonschema knows drafts 4-7; every keyword the schemas use means the same there
    return fastjsonschema.compile({k: v for k, v in schema.items() if k != "$schema"})


def _objects(schema):
    """Every sub-schema of `schema`."""
    yield schema
    for value in schema.values():
        items = value.values() if isinstance(value, dict) else value if isinstance(
            value, list) else ()
        for item in items:
            if isinstance(item, dict):
                yield from _objects(item)


@pytest.mark.parametrize("kind", list(SETTINGS))
def test_each_schema_is_a_draft_2020_12_document_that_closes_every_table(kind):
    schema = settings_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["title"].startswith("officemine")
    json.dumps(schema)                                   # plain JSON
    _validator(kind)                                     # a validator accepts it as a schema
    tables = [s for s in _objects(schema) if s.get("type") == "object"]
    assert tables and all("additionalProperties" in s or "oneOf" in s for s in tables)


def test_the_schema_command_prints_the_library_schema():
    runner = CliRunner()
    for kind in SETTINGS:
        result = runner.invoke(app, ["schema", kind])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == officemine.settings_schema(kind)
    with pytest.raises(ChoiceError, match="name must be one of mapping, scenario"):
        officemine.settings_schema("calendar")


@pytest.mark.parametrize("kind, path", CASES, ids=[f"{k}:{p.name}" for k, p in CASES])
def test_every_shipped_settings_file_validates_and_loads(kind, path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    _validator(kind)(as_json(data))
    read, _ = SHIPPED[kind]
    read(path)                                           # and its model agrees


def test_the_schema_refuses_what_the_loader_refuses():
    data = tomllib.loads((DATA / "scenarios" / "many_problems.toml").read_text(encoding="utf-8"))
    with pytest.raises(Exception, match="must not contain|must be valid|additional"):
        _validator("scenario")(as_json(data))
    with pytest.raises(SettingsError):
        Scenario.from_dict(data)


def test_three_problems_are_reported_with_their_places(tmp_path):
    path = tmp_path / "report.toml"
    path.write_text('necessity_months = 99\ncolour = "red"\n[[redesign]]\ndate = 2025-07-01\n'
                    'name = "一"\n[[redesign]]\nname = "no date"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        ReportConfig.from_toml(path)
    problems = info.value.problems
    assert [(p.code, p.place) for p in problems] == [
        ("unknown-key", "report.toml"),
        ("invalid", "report.toml: [[redesign]] #2.date"),
        ("invalid", "report.toml: necessity_months"),
    ]
    text = str(info.value)
    assert text.startswith(f"report settings {path} has 3 problem(s):")
    for p in problems:
        assert f"  - {p.place}: {p.message}" in text


def test_unknown_keys_get_a_suggestion_and_the_allowed_ones(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[calendar]\nhourz = [["08:00", "17:00"]]\ntz = "UTC"\n'
                    '[linking]\nwindow = 5\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        Mapping.from_toml(path)
    messages = {(p.code, p.place): p.message for p in info.value.problems}
    assert messages[("unknown-key", "m.toml: [calendar]")].startswith(
        "unknown key 'hourz' (did you mean 'hours'?; allowed: days_off, hours, name, region")
    assert "a log's calendar is in the log's zone" in messages[("refused-key", "m.toml: [calendar]")]
    assert "allowed: enabled, field, match, window_workdays" in messages[
        ("unknown-key", "m.toml: [linking]")]
    assert len(info.value.problems) == 3


def test_places_read_like_the_toml_file():
    assert place("a/m.toml", ["calendar", "hours"]) == "m.toml: [calendar].hours"
    assert place("s.toml", ["change", 2], table=True) == "s.toml: [[change]] #2"
    assert place("r.toml", ["necessity_months"]) == "r.toml: necessity_months"
    assert place("m.toml", ["calendar"], table=True) == "m.toml: [calendar]"
    assert place(None, ["limits", "default"]) == "[limits].default"


# --- any unknown key, anywhere a table is closed, is reported (never a crash) --------------------

def _valid():
    """A small valid dict of each kind, and the paths of its closed tables."""
    return {
        "mapping": (lambda d: Mapping.from_dict(d),
                    {"timezone": "Asia/Shanghai", "columns": {"case_id": "编号"},
                     "linking": {"enabled": True}, "label_rules": [{"pattern": "^(?P<node>.+)$"}]},
                    [(), ("linking",), ("columns",), ("label_rules", 0)]),
        "scenario": (lambda d: Scenario.from_dict(d),
                     {"name": "x", "change": [{"kind": "remove", "node": "财务初审"}]},
                     [(), ("change", 0)]),
        "report": (lambda d: ReportConfig.from_dict(d),
                   {"organisation": "办公室", "redesign": [{"date": "2025-07-01"}]},
                   [(), ("redesign", 0)]),
        "sla": (lambda d: SLA.from_dict(d), {"name": "x", "limits": {"default": 3}}, [()]),
        "procedures": (lambda d: Procedures.from_dict(d),
                       {"procedure": [{"process_type": "用印", "steps": ["审核"],
                                       "authority": {"审核": {"depts": ["办公室"]}}}]},
                       [(), ("procedure", 0), ("procedure", 0, "authority", "审核")]),
    }


KEYS = st.text(alphabet=string.ascii_letters + string.digits + "_-. 中文键", min_size=1,
               max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(list(SETTINGS)), key=KEYS, where=st.integers(0, 10),
       value=st.one_of(st.integers(), st.text(max_size=5), st.booleans(),
                       st.lists(st.integers(), max_size=2)))
def test_an_unknown_key_is_always_reported_never_a_crash(kind, key, where, value):
    read, data, tables = _valid()[kind]
    read(data)                                           # valid as it is
    data = json.loads(json.dumps(data, ensure_ascii=False))
    path = tables[where % len(tables)]
    table = data
    for step in path:
        table = table[step]
    if key in table or key in _known(kind, path):
        return
    table[key] = value
    with pytest.raises(SettingsError) as info:
        read(data)
    unknown = [p for p in info.value.problems if p.code in ("unknown-key", "refused-key")]
    assert len(unknown) == 1 and repr(key) in unknown[0].message, info.value


def _known(kind, path):
    """The keys the table at `path` takes (from the schema: the loader and it agree)."""
    schema = settings_schema(kind)
    for step in path:
        schema = schema["items"] if isinstance(step, int) else (
            schema.get("properties", {}).get(step) or schema["additionalProperties"])
        if "oneOf" in schema:
            schema = schema["oneOf"][0]
    return set(schema.get("properties", {})) | {"tz", "timezone", "pseudonym_key"}
