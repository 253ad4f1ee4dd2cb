"""A mapping file (TOML) that overrides every guess the importer would make.

```toml
timezone = "Asia/Shanghai"       # optional, the zone of times written without one
[columns]                        # canonical = source column; a list joins date + time columns
case_id = "请求ID"
node = "节点名称"
acted_at = ["操作日期", "操作时间"]
[outcomes]                       # source value = canonical outcome
"批准" = "approve"
"退回" = "return"
[[label_rules]]                  # node and outcome from an activity label, first match wins
pattern = '^(?P<node>.+)-(?P<outcome>批准|退回|提交)$'
[constants]                      # a value for every row, e.g. a file holding one process type
process_type = "费用报销"
[node_kinds]                     # what a step is, where the inference (relations.node_kinds) errs
"领导阅示" = "instruction"
[calendar]                       # the log's working calendar, in the log's zone (timezone)
region = "NL"                    # holidays: "CN" (default), "none", a country ("DE-BY")
hours = [["08:30", "17:30"]]     # office hours (default 09:00–12:00, 13:30–17:30)
days_off = ["2018-12-31"]        # company days off / workdays, optional
[returns]                        # a rejection the applicant answers with a resubmission:
reject_then_resubmit = "return"  # "return" (退回, default) or "reject" (keep it a rejection)
[linking]                        # attempts a source started as new instances, linked into one case
enabled = true                   # default: on for every source but XES
field = "原单号"                  # a column naming the earlier attempt (or a key all attempts share)
window_workdays = 10             # a new attempt starts within this many working days of the refusal
match = ["title", "amount"]      # form values that must be equal (besides originator, process type)
```
A source that keeps form fields apart from the log (Weaver's ``formtable_main_N``) joins only the
form values it recognises (amount, urgency, title, applicant); a top-level
``form_fields = ["fylx", "xmbh"]`` keeps those fields too, as extra columns.
A label rule may also give fixed values: `pattern = '^Payment Handled$'`, `node = "付款"`,
`outcome = "archive"`, and the object the event acts on (`object = "Permit"`, or a named group
``(?P<object>…)``). Named groups win over fixed values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from officemine.log.calendar import DEFAULT_TZ, Calendar, is_known_timezone
from officemine.base.errors import CalendarError, MappingError
from officemine.log.schema import C, OUTCOMES, SOURCE_FIELDS, normalize_word
from officemine.base.settings import ListOf, MapOf, Table, Value, json_schema, load
from officemine.importing.raw import LABEL

_COLUMN_KEYS = set(SOURCE_FIELDS) | {LABEL}
#: what a label rule can give, fixed or by a named group
_RULE_FIELDS = ("node", "outcome", "object")

#: What a rejection followed by a resubmission of the same request is: a return (退回) the
#: applicant answered, or a rejection all the same.
RejectThenResubmit = Literal["return", "reject"]
REJECT_THEN_RESUBMIT: tuple[str, ...] = get_args(RejectThenResubmit)
#: Canonical form values a linked attempt must repeat (any other source column may be named too).
LINK_MATCH_FIELDS: tuple[str, ...] = (C.title, C.amount, C.urgency, C.applicant_dept)


@dataclass(frozen=True)
class LabelRule:
    """Derive node, outcome and/or object from an activity label with a regular expression."""

    pattern: re.Pattern[str]
    node: str | None = None
    outcome: str | None = None
    object: str | None = None


@dataclass(frozen=True)
class Linking:
    """How attempts a source started as separate instances are linked into one case
    (`officemine.importing.linking`)."""

    #: None: on for every source but XES (an XES trace is already a case)
    enabled: bool | None = None
    #: source column naming the earlier attempt (or a key every attempt shares)
    field: str | None = None
    #: a new attempt starts within this many working days after the refusal
    window_workdays: float = 10.0
    #: form values the attempts must share, besides originator and process type
    match: tuple[str, ...] = (C.title, C.amount)


@dataclass(frozen=True)
class Mapping:
    """How a source's columns and values map to the canonical log (all optional)."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    label_rules: tuple[LabelRule, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    node_kinds: dict[str, str] = field(default_factory=dict)
    linking: Linking = field(default_factory=Linking)
    reject_then_resubmit: RejectThenResubmit = "return"
    #: form fields kept as extra columns where the form is a table of its own (Weaver)
    form_fields: tuple[str, ...] = ()
    path: str | None = None
    calendar: dict | None = None         # [calendar] rules, as `Calendar.to_dict` gives them

    @classmethod
    def from_toml(cls, path: str | Path) -> "Mapping":
        """Read and check a mapping file; every problem is listed in one `MappingError`."""
        return cls._build(load(path, spec(), error=MappingError, what="mapping file"))

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> "Mapping":
        """A mapping from the structure a mapping file holds; every problem in one
        `MappingError`."""
        return cls._build(load(data, spec(), error=MappingError,
                               name=None if source == "<dict>" else source))

    @staticmethod
    def json_schema() -> dict:
        """The JSON schema of a mapping file (TOML maps onto it one to one)."""
        return json_schema(spec(), title="officemine mapping")

    @classmethod
    def _build(cls, loaded) -> "Mapping":
        data, problems, source = loaded.data, loaded.problems, loaded.source or "<dict>"
        columns: dict[str, tuple[str, ...]] = {}
        for canon, src in (data.get("columns") or {}).items():
            if canon not in _COLUMN_KEYS:
                continue                # an unknown key, reported by the loader
            if isinstance(src, str):
                columns[canon] = (src,)
            elif isinstance(src, list) and src and all(isinstance(s, str) for s in src):
                if len(src) > 2:
                    problems.append(f"[columns] {canon}: at most two columns (date, time)")
                columns[canon] = tuple(src)
            else:
                problems.append(f"[columns] {canon}: expected a column name or [date, time]")

        outcomes: dict[str, str] = {}
        for word, outcome in (data.get("outcomes") or {}).items():
            if outcome not in OUTCOMES:
                problems.append(f"[outcomes] {word!r} = {outcome!r}: not an outcome "
                                f"(allowed: {', '.join(OUTCOMES)})")
            else:
                outcomes[normalize_word(word)] = outcome

        rules: list[LabelRule] = []
        for i, rule in enumerate(data.get("label_rules") or [], start=1):
            if not isinstance(rule, dict) or "pattern" not in rule:
                problems.append(f"[[label_rules]] #{i}: needs a 'pattern'")
                continue
            try:
                pattern = re.compile(rule["pattern"])
            except re.error as exc:
                problems.append(f"[[label_rules]] #{i}: bad pattern {rule['pattern']!r}: {exc}")
                continue
            groups = set(pattern.groupindex)
            if not (set(_RULE_FIELDS) & (groups | set(rule))):
                problems.append(f"[[label_rules]] #{i}: gives neither node, outcome nor object "
                                "(use named groups (?P<node>…)/(?P<outcome>…)/(?P<object>…) "
                                "or fixed values)")
            fixed_outcome = rule.get("outcome")
            if fixed_outcome is not None and "outcome" not in groups and fixed_outcome not in OUTCOMES:
                problems.append(f"[[label_rules]] #{i}: outcome {fixed_outcome!r} is not an outcome")
            for key in ("node", "object"):
                if rule.get(key) is not None and not isinstance(rule[key], str):
                    problems.append(f"[[label_rules]] #{i}: {key} must be a string")
            rules.append(LabelRule(pattern, rule.get("node"), fixed_outcome, rule.get("object")))

        constants = {}
        for canon, value in (data.get("constants") or {}).items():
            if canon in SOURCE_FIELDS:      # another key is reported by the loader
                constants[canon] = str(value)

        node_kinds = _node_kinds(data.get("node_kinds"), problems)

        for key in ("timezone", "encoding", "sheet", "delimiter"):
            if key in data and not isinstance(data[key], str):
                problems.append(f"{key} must be a string")
        if isinstance(data.get("timezone"), str) and not is_known_timezone(data["timezone"]):
            problems.append(f"timezone {data['timezone']!r} is not a known time zone")

        calendar = _calendar_rules(data, problems)
        linking = _linking(data.get("linking"), problems)
        reject_then_resubmit = _returns(data.get("returns"), problems)
        form_fields = _form_fields(data.get("form_fields"), problems)

        loaded.raise_if_any(source=source)
        return cls(columns=columns, outcomes=outcomes, label_rules=tuple(rules),
                   constants=constants, timezone=data.get("timezone"),
                   encoding=data.get("encoding"), sheet=data.get("sheet"),
                   delimiter=data.get("delimiter"), node_kinds=node_kinds, path=source,
                   calendar=calendar, linking=linking,
                   reject_then_resubmit=reject_then_resubmit, form_fields=form_fields)

    def calendar_in(self, timezone: str) -> Calendar:
        """The log's calendar: the ``[calendar]`` rules (default: `Calendar.default`'s) in the
        log's zone, which is the mapping's ``timezone`` or the import's ``--timezone``."""
        return Calendar.from_dict(self.calendar or {}, tz=timezone, where=f"{self.path} [calendar]")

    def to_dict(self) -> dict:
        """A JSON-able form, stored with the log so the import can be reproduced."""
        return {
            "path": self.path,
            "columns": {k: list(v) for k, v in self.columns.items()},
            "outcomes": dict(self.outcomes),
            "label_rules": [{"pattern": r.pattern.pattern, "node": r.node, "outcome": r.outcome,
                             "object": r.object} for r in self.label_rules],
            "constants": dict(self.constants),
            "timezone": self.timezone, "encoding": self.encoding, "sheet": self.sheet,
            "delimiter": self.delimiter, "node_kinds": dict(self.node_kinds),
            "calendar": self.calendar,
            "linking": {"enabled": self.linking.enabled, "field": self.linking.field,
                        "window_workdays": self.linking.window_workdays,
                        "match": list(self.linking.match)},
            "returns": {"reject_then_resubmit": self.reject_then_resubmit},
            "form_fields": list(self.form_fields),
        }


def _node_kinds(table: object, problems: list[str]) -> dict[str, str]:
    """``[node_kinds]``: node name = kind, overriding what `officemine.log.relations.node_kinds`
    infers (e.g. ``"分管领导批示" = "instruction"``)."""
    from officemine.log.relations import NODE_KINDS

    if table is None:
        return {}
    if not isinstance(table, dict):
        problems.append("[node_kinds] must be a table of node = kind")
        return {}
    kinds = {}
    for node, kind in table.items():
        if kind not in NODE_KINDS:
            problems.append(f"[node_kinds] {node!r} = {kind!r}: not a node kind "
                            f"(allowed: {', '.join(NODE_KINDS)})")
        else:
            kinds[str(node)] = kind
    return kinds


def _calendar_rules(data: dict, problems: list[str]) -> dict | None:
    """The ``[calendar]`` table checked (region, hours, days_off, workdays, name); its zone is
    the log's, so it names none."""
    if "calendar" not in data:
        return None
    table = data["calendar"]
    if isinstance(table, dict) and set(table) - set(_CALENDAR):
        return None                     # its unknown keys are reported by the loader
    try:
        return Calendar.from_dict(table, tz=DEFAULT_TZ, where="[calendar]").to_dict()
    except CalendarError as exc:
        problems.append(str(exc))
        return None


# --- [linking] and [returns] ------------------------------------------------------------------


def _linking(section: object, problems: list[str]) -> Linking:
    """The [linking] section, checked; every problem is added to `problems`."""
    if section is None:
        return Linking()
    if not isinstance(section, dict):
        problems.append("[linking] must be a table")
        return Linking()
    default = Linking()
    enabled = section.get("enabled", default.enabled)
    if not isinstance(enabled, bool) and enabled is not None:
        problems.append("[linking] enabled must be true or false")
        enabled = default.enabled
    link_field = section.get("field")
    if link_field is not None and (not isinstance(link_field, str) or not link_field.strip()):
        problems.append("[linking] field must be the name of a source column")
        link_field = None
    window = section.get("window_workdays", default.window_workdays)
    if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 <= window <= 365:
        problems.append(f"[linking] window_workdays must be a number of working days from 0 to "
                        f"365, not {window!r}")
        window = default.window_workdays
    match = section.get("match", list(default.match))
    if not isinstance(match, list) or not match or not all(
            isinstance(m, str) and m.strip() for m in match):
        problems.append("[linking] match must be a non-empty list of form values, e.g. "
                        f"{list(default.match)} (canonical: {', '.join(LINK_MATCH_FIELDS)}; "
                        "any other source column may be named)")
        match = list(default.match)
    elif len(set(match)) != len(match):
        problems.append(f"[linking] match lists a value twice: {match}")
    return Linking(enabled=enabled, field=link_field, window_workdays=float(window),
                   match=tuple(dict.fromkeys(match)))


def _form_fields(value: object, problems: list[str]) -> tuple[str, ...]:
    """``form_fields``: names of form fields to keep, checked."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append("form_fields must be a list of form field names, e.g. [\"fylx\"]")
        return ()
    if len(set(value)) != len(value):
        problems.append(f"form_fields lists a field twice: {value}")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _returns(section: object, problems: list[str]) -> RejectThenResubmit:
    """The [returns] section, checked."""
    if section is None:
        return "return"
    if not isinstance(section, dict):
        problems.append("[returns] must be a table")
        return "return"
    value = section.get("reject_then_resubmit", "return")
    if value not in REJECT_THEN_RESUBMIT:
        problems.append(f"[returns] reject_then_resubmit must be one of "
                        f"{', '.join(map(repr, REJECT_THEN_RESUBMIT))}, not {value!r}")
        return "return"
    return value


# --- the keys of a mapping file ----------------------------------------------------------------

_TEXT = {"type": "string"}
_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1}}
#: The ``[calendar]`` table (its zone is the log's: the top-level ``timezone``).
_CALENDAR = {
    "region": Value(_TEXT, 'holidays: "CN" (default), "none", or a country ("NL", "DE-BY")'),
    "hours": Value({"type": "array", "items": {"type": "array", "items": _TEXT,
                                               "minItems": 2, "maxItems": 2}},
                   'office hours, e.g. [["09:00", "12:00"], ["13:30", "17:30"]]'),
    "days_off": Value({"type": "array", "items": {"type": "string", "format": "date"}},
                      "company days off"),
    "workdays": Value({"type": "array", "items": {"type": "string", "format": "date"}},
                      "company working days (on a weekend)"),
    "name": Value(_TEXT, "the calendar's name, shown next to working times"),
}
_ZONE_IN_CALENDAR = ("names no zone: a log's calendar is in the log's zone; set the "
                     "top-level timezone (or --timezone) instead")


@cache
def spec() -> Table:
    """The keys of a mapping file (built on first use: the node kinds live in
    `officemine.log.relations`, which imports the importer)."""
    from officemine.log.relations import NODE_KINDS

    column = Value({"anyOf": [_TEXT, {**_NAMES, "minItems": 1, "maxItems": 2}]},
                   "a source column, or [date column, time column]")
    return Table({
        "description": Value(_TEXT, "a note for the reader of the file"),
        "timezone": Value(_TEXT, "the zone of times written without one (IANA name)"),
        "encoding": Value(_TEXT, "the text encoding of a CSV export"),
        "sheet": Value(_TEXT, "the sheet of a workbook"),
        "delimiter": Value(_TEXT, "the field separator of a CSV export"),
        "columns": Table({name: column for name in sorted(_COLUMN_KEYS)},
                         "canonical column = source column"),
        "outcomes": MapOf(Value({"enum": list(OUTCOMES)}), "source value = canonical outcome"),
        "label_rules": ListOf(Table({
            "pattern": Value(_TEXT, "a regular expression; named groups (?P<node>…), "
                                    "(?P<outcome>…), (?P<object>…)"),
            "node": Value(_TEXT), "outcome": Value({"enum": list(OUTCOMES)}),
            "object": Value(_TEXT),
        }, "node, outcome and object from an activity label; the first match wins",
            required=("pattern",))),
        "constants": Table({name: Value({"type": ["string", "number", "boolean"]})
                            for name in SOURCE_FIELDS}, "a value for every row"),
        "node_kinds": MapOf(Value({"enum": list(NODE_KINDS)}),
                            "node name = what the step is, where the inference errs"),
        "calendar": Table(_CALENDAR, "the log's working calendar",
                          refused={"tz": _ZONE_IN_CALENDAR, "timezone": _ZONE_IN_CALENDAR}),
        "returns": Table({"reject_then_resubmit": Value(
            {"enum": list(REJECT_THEN_RESUBMIT)},
            "a rejection answered by a resubmission: a return (default) or a rejection")}),
        "linking": Table({
            "enabled": Value({"type": "boolean"}, "default: on for every source but XES"),
            "field": Value(_TEXT, "a column naming the earlier attempt"),
            "window_workdays": Value({"type": "number", "minimum": 0, "maximum": 365},
                                     "a new attempt starts within this many working days"),
            "match": Value({**_NAMES, "minItems": 1, "uniqueItems": True},
                           "form values the attempts must share"),
        }, "attempts a source started as new instances, linked into one case"),
        "form_fields": Value({**_NAMES, "uniqueItems": True},
                             "form fields kept as extra columns (Weaver)"),
    })
