"""Reading approval-API exports: a JSON array, a JSON object holding a list, or JSON Lines.

Shared by the DingTalk, Feishu/Lark and WeCom readers. It only splits a file into records
(one approval instance each, possibly still wrapped in the API's response envelope) and
remembers where each came from ("record 3", "line 7"); a JSON Lines line that is not valid
JSON is set aside as ``malformed_record`` with its line number, the rest are read.
Each reader then finds the instance in each record (`instances_in`), turns it into event rows
and hands them back with `api_events`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from officemine.base.errors import SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.raw import LABEL, RawEvents, set_aside_rows
from officemine.log.schema import C, normalize_word
from officemine.base.text import Said

#: Keys under which API responses wrap the instance (DingTalk v1.0 ``result``, DingTalk topapi
#: ``process_instance``, Feishu ``data``, WeCom ``info``).
ENVELOPES = ("result", "process_instance", "data", "info", "instance")
#: Keys of lists that exporters typically put instances under.
LIST_KEYS = ("items", "instances", "list", "records", "data", "result", "rows")

_UTC = "UTC"


@dataclass
class JsonRecord:
    """One record of the file: where it is (``ref``) and the parsed object."""

    ref: str
    data: Any


@dataclass
class JsonSource:
    """The records of one file, the lines that could not be parsed, and the file's layout."""

    records: list[JsonRecord]
    malformed: list[dict] = field(default_factory=list)
    layout: str = "JSON array"


def read_json_records(path: Path, markers: tuple[str, ...], *, what: str,
                      encoding: str | None = None) -> JsonSource:
    """Split a JSON / JSON Lines file into records.

    markers: keys that identify an instance of the API (e.g. ``operationRecords``); they tell
    a top-level object that *is* an instance from one that *holds* a list of instances.
    what: the source's name for error messages ("DingTalk").
    """
    text = _decode(path, encoding)
    if not text.strip():
        raise SourceError(f"the file is empty; expected a {what} approval export", file=str(path))
    try:
        value = loads(text)
    except json.JSONDecodeError as whole_error:
        return _json_lines(path, text, whole_error, what)
    except RecursionError:
        raise SourceError("JSON nested too deeply to be an approval export", file=str(path)) \
            from None
    if isinstance(value, list):
        return JsonSource(_list_records(value, "record"), layout="JSON array")
    if isinstance(value, dict):
        if unwrap(value, markers)[0] is not None:
            return JsonSource([JsonRecord("record 1", value)], layout="JSON object")
        found = _find_list(value, markers)
        if found is not None:
            key, items = found
            return JsonSource(_list_records(items, "record"), layout=f"JSON object, list {key!r}")
        return JsonSource([JsonRecord("record 1", value)], layout="JSON object")
    raise SourceError(f"the JSON holds a {type(value).__name__}, not {what} approval instances",
                      file=str(path))


def instances_in(path: Path, source: JsonSource, markers: tuple[str, ...], *, not_one: str,
                 none: str) -> tuple[list[tuple[str, dict, list[dict]]], list[dict]]:
    """The instances of a file's records, each as (ref, instance, envelopes from the outside
    in), and the rows set aside so far: the lines that could not be parsed, then each record
    holding no instance (`not_one` says why). A file without any instance is an error (`none`
    says what a record needs)."""
    found, set_aside = [], list(source.malformed)
    for record in source.records:
        instance, envelopes = unwrap(record.data, markers)
        if instance is None:
            set_aside.append(aside(record.ref, not_one))
        else:
            found.append((record.ref, instance, envelopes))
    if not found:
        raise SourceError(none, file=str(path))
    return found, set_aside


def loads(text: str) -> Any:
    """JSON as the standard library reads it, except that an integer of more than 100 digits
    stays text: Python refuses to convert one of more than 4,300 (a ValueError, not a JSON
    error), and no API field holds one. Where a time or an amount was expected, the
    normaliser then sets its row aside with the value shown."""
    return json.loads(text, parse_int=_integer)


def _integer(digits: str) -> int | str:
    return int(digits) if len(digits) <= 100 else digits


def _decode(path: Path, encoding: str | None) -> str:
    raw = path.read_bytes()
    if encoding:
        candidates = [encoding]
    elif raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:  # APIs answer in UTF-8; a file re-saved on a Chinese Windows may be GB18030
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise SourceError(f"cannot decode the file as {' or '.join(candidates)}; "
                      "set encoding = … in a mapping", file=str(path))


def _list_records(items: list, prefix: str) -> list[JsonRecord]:
    return [JsonRecord(f"{prefix} {i}", item) for i, item in enumerate(items, start=1)]


def _find_list(obj: dict, markers: tuple[str, ...], depth: int = 3) -> tuple[str, list] | None:
    """The first list of objects inside `obj` (breadth first), preferring one of instances."""
    level: list[tuple[str, Any]] = [("", obj)]
    fallback = None
    for _ in range(depth):
        nxt: list[tuple[str, Any]] = []
        for prefix, node in level:
            if not isinstance(node, dict):
                continue
            keys = [k for k in LIST_KEYS if k in node] + [k for k in node if k not in LIST_KEYS]
            for key in keys:
                value = node[key]
                name = f"{prefix}.{key}" if prefix else key
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    if any(unwrap(v, markers)[0] is not None for v in value):
                        return name, value
                    fallback = fallback or (name, value)
                elif isinstance(value, dict):
                    nxt.append((name, value))
        level = nxt
    return fallback


def _json_lines(path: Path, text: str, whole_error: json.JSONDecodeError,
                what: str) -> JsonSource:
    """JSON Lines: one object a line; broken lines are set aside with their line number."""
    lines = text.splitlines()
    parsed: list[tuple[int, Any, str | None]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append((number, loads(line), None))
        except json.JSONDecodeError as exc:
            parsed.append((number, None, f"{exc.msg} (column {exc.colno})"))
        except RecursionError:
            parsed.append((number, None, "nested too deeply"))
    objects = sum(isinstance(value, dict) for _, value, err in parsed if err is None)
    # A pretty-printed JSON document with one broken spot must not be mistaken for JSON
    # Lines (a few of its lines may parse on their own): most lines must be objects.
    if not text.lstrip().startswith("{") or objects == 0 or objects * 2 < len(parsed):
        raise SourceError(f"not valid JSON or JSON Lines ({whole_error.msg}, line "
                          f"{whole_error.lineno} column {whole_error.colno}); expected a "
                          f"{what} approval export", file=str(path), row=whole_error.lineno)
    records, malformed = [], []
    for number, value, err in parsed:
        if err is not None:
            malformed.append(aside(f"line {number}", f"broken JSON: {err}"))
        elif not isinstance(value, dict):
            malformed.append(aside(f"line {number}",
                                   f"line holds a JSON {type(value).__name__}, not an object"))
        else:
            records.append(JsonRecord(f"line {number}", value))
    return JsonSource(records, malformed, layout="JSON Lines")


def aside(source_row: str, detail: str, column: str = "") -> dict:
    """A set-aside row for a record the reader cannot use at all."""
    return {"source_row": source_row, "reason": "malformed_record", "column": column,
            "detail": detail}


def unwrap(obj: Any, markers: tuple[str, ...]) -> tuple[dict | None, list[dict]]:
    """Find the instance inside an API response envelope.

    Returns (instance, envelopes from the outside in); instance is None when no object on
    the way carries one of `markers`.
    """
    outer: list[dict] = []
    node = obj
    for _ in range(4):
        if not isinstance(node, dict):
            return None, outer
        if any(key in node for key in markers):
            return node, outer
        inner = next((node[k] for k in ENVELOPES if isinstance(node.get(k), dict)), None)
        outer.append(node)
        node = inner
    return None, outer


def first(objects: Iterable[dict], *keys: str) -> Any:
    """The first non-empty value of any of `keys`, looking in each object in turn."""
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        for key in keys:
            value = obj.get(key)
            if value not in (None, "", [], {}):
                return value
    return None


def as_list(value: Any) -> list:
    """A JSON list, also when the API wrote it as a JSON string (Feishu ``form``, ``ext``)."""
    if isinstance(value, str):
        try:
            value = loads(value)
        except (json.JSONDecodeError, RecursionError):
            return []
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = loads(value)
        except (json.JSONDecodeError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# --- times ------------------------------------------------------------------------------------

def utc_iso(value: Any) -> pd.Timestamp | str | None:
    """An ISO time with a zone (DingTalk v1.0 ``2025-03-05T01:05Z``) as an aware timestamp.

    A value that does not parse is returned as text, so the normaliser sets its row aside as
    ``unparseable_time`` with the value shown.
    """
    value = text(value)
    if value is None:
        return None
    if not re.search(r"(Z|[+-]\d\d:?\d\d)$", value):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return value
    # "-1000" ends like an offset but is no time with a zone: left to the normaliser
    if stamp is pd.NaT or stamp.tzinfo is None or not _in_calendar(stamp):
        return value
    return stamp.tz_convert(_UTC)


def epoch(value: Any, unit: str) -> pd.Timestamp | str | None:
    """Epoch seconds/milliseconds (number or numeric string) as an aware UTC timestamp.

    ``0`` (Feishu end_time, WeCom sptime of an item not yet acted on) means "no time".
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return str(value)
    if number == 0:
        return None
    try:
        stamp = pd.Timestamp(number, unit=unit, tz=_UTC).as_unit("us")
    except (ValueError, OverflowError):     # beyond the years a timestamp holds: unparseable
        return str(value)
    return stamp if _in_calendar(stamp) else str(value)


def _in_calendar(stamp: pd.Timestamp) -> bool:
    """Years 1 to 9999: what a time column holds (times outside 1990 to next year are then
    set aside as implausible; times outside these cannot even be stored)."""
    return 1 <= stamp.year <= 9999


def local_naive(value: Any) -> pd.Timestamp | None:
    """A time for comparing within one source (matching an action to its task), not output."""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert(_UTC).tz_localize(None) if value.tzinfo else value
    value = text(value)
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if stamp is pd.NaT:                   # "NaT", "nan": no time
        return None
    return stamp.tz_convert(_UTC).tz_localize(None) if stamp.tzinfo else stamp


def time_column(values: list) -> pd.Series:
    """Aware timestamps as a tz-aware column; mixed with raw strings, an object column."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, pd.Timestamp) and v.tzinfo is not None for v in present):
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True),
                         dtype="datetime64[us, UTC]")      # us: years 1 to 9999, as parsed
    return pd.Series(values, dtype=object)


# --- case attributes --------------------------------------------------------------------------

_NUMBER = re.compile(r"^[¥￥]?\s*-?[\d,，]+(\.\d+)?\s*(元|万元|万)?$")
#: Form field names taken as the amount, in order of preference.
AMOUNT_NAMES = ("金额", "报销金额", "合同金额", "申请金额", "付款金额", "总金额", "采购金额")


def pick_amount(fields: list[tuple[str, Any, bool]]) -> tuple[Any, str | None, str | None]:
    """Choose the amount among form fields (name, value, is_money_control).

    An exact name from `AMOUNT_NAMES` wins, then a money control, then any name containing
    金额. Returns (value, field name, problem): a value that is not a plain number is not
    used (the normaliser would otherwise set every event of the case aside as bad_amount).
    """
    def rank(item: tuple[str, Any, bool]) -> int:
        name, _, money = item
        if name in AMOUNT_NAMES:
            return AMOUNT_NAMES.index(name)
        if money:
            return 50
        return 60 if "金额" in name else 99

    candidates = sorted((f for f in fields if f[1] not in (None, "")), key=rank)
    if not candidates or rank(candidates[0]) == 99:
        return None, None, None
    name, value, _ = candidates[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value, name, None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return value.strip(), name, None
    return None, name, f"{name} = {str(value)[:40]!r} is not a number"


#: Form field names taken as the title where the API has no title of its own (Feishu, WeCom):
#: attempts of one request repeat it, so linking compares it (`officemine.importing.linking`).
TITLE_NAMES = ("标题", "主题", "title")


def pick_title(fields: list[tuple[str, Any, bool]]) -> str | None:
    """The text of the first form field named as in `TITLE_NAMES` (fields as for
    `pick_amount`)."""
    for wanted in TITLE_NAMES:
        for name, value, _ in fields:
            if name == wanted and isinstance(value, str) and value.strip():
                return value.strip()
    return None


# --- output -----------------------------------------------------------------------------------

#: Column in which an API reader puts the earlier instance an instance continues, where the
#: API says (`RawEvents.link_field`; the normaliser links the two into one case).
PREVIOUS_INSTANCE = "previous_instance"

#: Columns every API reader fills (in this order); extra columns follow.
EVENT_COLUMNS = (C.case_id, C.node, C.outcome, C.resource, C.arrived_at, C.acted_at, C.comment,
                 C.process_type, C.amount, C.applicant, C.applicant_dept, C.title,
                 "serial_number", "api_action", C.source_row)


def api_events(path: Path, format: str, rows: list[dict], set_aside: list[dict], *,
               extra: tuple[str, ...], columns_used: dict[str, str], notes: list,
               link_field: str | None = None) -> RawEvents:
    """A reader's events: its rows (each labelled with its node, for ``[[label_rules]]``),
    with `extra` columns after the common ones, and the rows it set aside."""
    for row in rows:
        row[LABEL] = row.get(C.node)
    return RawEvents(frame=event_frame(rows, extra=(*extra, LABEL)), source_file=str(path),
                     format=format, rows_read=len(rows) + len(set_aside),
                     set_aside=set_aside_rows(set_aside), columns_used=columns_used,
                     notes=notes, link_field=link_field)


def event_frame(rows: list[dict], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Event dicts -> the reader's frame, times as aware columns where every value is aware."""
    columns = list(EVENT_COLUMNS) + [c for c in extra if c not in EVENT_COLUMNS]
    frame = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object)
                          for c in columns if c not in (C.arrived_at, C.acted_at)})
    for column in (C.arrived_at, C.acted_at):
        frame[column] = time_column([r.get(column) for r in rows])
    return frame[columns]


def in_time_order(rows: list[dict]) -> list[dict]:
    """An instance's events by action time (stable; rows without a time last).

    The API lists actions, comments and tasks separately; merging them in time order keeps
    the import report's "out of time order in the source" count for real disorder.
    """
    def key(row: dict):
        stamp = local_naive(row.get(C.acted_at))
        return (stamp is None, stamp if stamp is not None else pd.Timestamp.min)
    return sorted(rows, key=key)


def matched_note(matched: int, total: int, what: str, field: str) -> str:
    """How many `what` (``decisions``, ``task_actions``) were matched to their task."""
    rest = total - matched
    return Said("import.matched", matched=matched, total=total, what=Said(f"import.{what}"),
                field=field, rest=Said("import.matched_rest", n=rest) if rest else "")


#: nodes of events that belong to no approval step
EVENT_NODES = {"submit": "发起", "withdraw": "发起", "comment": "评论", "cc": "抄送",
               "archive": "结束"}


def mapped_code(code: str, mapping: Mapping) -> str | None:
    """The outcome a mapping's [outcomes] gives an API code the reader does not know."""
    return mapping.outcomes.get(normalize_word(code)) if code else None


def mapping_notes(mapping: Mapping, what: str) -> list[str]:
    """Parts of a mapping that an API reader cannot use (its fields are fixed by the API)."""
    notes = []
    if mapping.columns:
        notes.append(Said("import.columns_unused", what=what))
    return notes


class ReaderState:
    """What an API reader gathers across the instances of a file, for its set-aside rows and
    its notes; each reader adds its own counts."""

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.asides: list[dict] = []            # parts of instances set aside
        self.amount_problems: list[str] = []    # amounts found but not numbers

    def amount(self, fields: list[tuple[str, Any, bool]], ref: str) -> Any:
        """The amount among an instance's form fields (`pick_amount`); one that is not a
        number is left out and noted."""
        value, _, problem = pick_amount(fields)
        if problem:
            self.amount_problems.append(f"{ref}: {problem}")
        return value

    def counted(self, source: str, *counts: str) -> list[str]:
        """The notes ``import.<source>_<count>`` on the counts a reader kept (attributes of
        the state), in the order given, each only when it is not zero."""
        return [Said(f"import.{source}_{name}", n=getattr(self, name)) for name in counts
                if getattr(self, name)]

    def amount_notes(self) -> list[str]:
        """The note on the amounts left out (at most five named), if any."""
        if not self.amount_problems:
            return []
        return [Said("import.amount_problems", problems="; ".join(self.amount_problems[:5]))]


def pending_notes(nodes: list[str], field: str) -> list[str]:
    """The note on the tasks kept as pending work items (`nodes`: the node of each; `field`:
    the API's field their arrival comes from), if any."""
    if not nodes:
        return []
    return [Said("import.tasks_pending", n=len(nodes), field=field,
                 counts=count_phrase(Counter(nodes)))]


def count_phrase(counts: dict[str, int], limit: int = 6) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} ×{v}" for k, v in items[:limit])
    return shown + (", …" if len(items) > limit else "")


# --- matching an action to the task it ended ---------------------------------------------------

#: DingTalk v1.0 writes both times to the minute; two minutes absorb truncation at a boundary.
MATCH_TOLERANCE = pd.Timedelta(minutes=2)


@dataclass
class Task:
    """An approval task (待办) as the API lists it: who, which node, when it arrived/ended."""

    task_id: str | None
    user: str | None
    activity: str | None        # node id (DingTalk activityId, Feishu node_id)
    node: str | None            # node name where the API gives one
    status: str | None
    created: Any                # output value for arrived_at (aware timestamp or raw text)
    created_cmp: pd.Timestamp | None
    finished_cmp: pd.Timestamp | None
    used: bool = False


def match_task(tasks: list[Task], *, user: str | None, at: pd.Timestamp | None,
               activity: str | None = None, task_id: str | None = None,
               consume: bool = True) -> Task | None:
    """The task an action was taken on.

    By task id when the action names it; else the same person's task (same node when both
    name one) that ended at the action's time, closest first; else the task that was open at
    that time. A consumed task is not matched again (a person approving at the same node twice,
    after a return, has two tasks). Adding an approver does not end the adder's task:
    `consume=False`. If the person's tasks do not match (an agent acting for the assignee),
    tasks of the same node are tried.
    """
    if task_id:
        found = next((t for t in tasks if t.task_id == task_id), None)
        if found is not None:
            found.used = found.used or consume
            return found
    if at is None:
        return None
    pools = []
    if user:
        pools.append([t for t in tasks if t.user == user
                      and (not activity or not t.activity or t.activity == activity)])
    if activity:
        pools.append([t for t in tasks if t.activity == activity])
    tol = MATCH_TOLERANCE
    for pool in pools:
        if consume:
            ending = [t for t in pool if not t.used and t.finished_cmp is not None
                      and abs(t.finished_cmp - at) <= tol
                      and (t.created_cmp is None or t.created_cmp <= at + tol)]
            if ending:
                best = min(ending, key=lambda t: abs(t.finished_cmp - at))
                best.used = True
                return best
        open_then = [t for t in pool if not (consume and t.used) and t.created_cmp is not None
                     and t.created_cmp <= at + tol
                     and (t.finished_cmp is None or t.finished_cmp >= at - tol)]
        if open_then:
            best = max(open_then, key=lambda t: t.created_cmp)
            best.used = best.used or consume
            return best
    return None
