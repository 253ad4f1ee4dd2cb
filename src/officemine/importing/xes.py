"""XES event logs (``.xes``, ``.xes.gz``): streamed, safe against XML entity attacks.

XES (IEEE 1849) is what process-mining tools exchange. One ``<trace>`` is one case, one
``<event>`` one record. The reader streams the file through lxml's parser with callbacks (no
tree is built, so a 100 MB log is never held as a DOM: each trace becomes rows as soon as it
ends) and maps

===========================  ===============================================================
XES                          canonical log
===========================  ===============================================================
trace ``concept:name``       ``case_id``
event ``concept:name``       ``label`` (and ``node`` when the mapping has no label rules)
``org:resource``             ``resource``
``org:group``                ``dept``
``org:role``                 ``role`` (kept as an attribute)
``time:timestamp``           ``acted_at`` (tz-aware, UTC) of the record that ends the work
schedule / assign time       ``arrived_at`` (the item reached the queue; scheduled but never
                             completed = a pending row)
start time                   ``started_at`` (work began)
``lifecycle:transition``     ``lifecycle`` (kept when the log has more than "complete")
log ``concept:name``         ``process_type``
===========================  ===============================================================

Attributes named exactly like a canonical column (``comment``, ``amount``, ``applicant``, …)
fill it; an obvious amount attribute (``Amount``, ``AMOUNT_REQ``, ``RequestedAmount``) fills
``amount``; every other trace or event attribute is kept under its own name (``case:`` /
``event:`` is prefixed only when a name would clash). Lifecycle records of one activity
instance (schedule → start → complete) are merged into one event, see ``docs/sources/xes.md``.

Security: a DOCTYPE declaring entities or naming an external DTD is refused before any parser
sees the file, and the parser itself never resolves entities nor touches the network.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import gzip
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import pandas as pd
from lxml import etree

from officemine.base.errors import MappingError, SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.raw import (LABEL, MAX_COLUMNS, SET_ASIDE_COLUMNS, TEXT, RawEvents,
                                      set_aside_rows)
from officemine.log.schema import C, SOURCE_FIELDS, STORED_ORDER, normalize_word
from officemine.base.text import Said

#: extra (non-canonical) columns this reader adds
ROLE = "role"
STARTED_AT = "started_at"
LIFECYCLE = "lifecycle"

# Lifecycle transitions of the XES standard model, by what they say about an activity instance.
# Anything else (complete, ate_abort, pi_abort, withdraw, autoskip, manualskip, unknown, a
# missing value, a vendor's own word) ends the instance and becomes the event.
_QUEUE = frozenset({"schedule", "assign", "reassign"})   # the item reached a queue / a worker
_START = frozenset({"start"})                            # work began
_PAUSE = frozenset({"suspend", "resume"})                # interruptions: merged, not kept

# Obvious amount attributes (compared after `normalize_word`), in order of preference.
_AMOUNT_KEYS = ("amount", "amount req", "requestedamount", "requested amount", "total amount",
                "金额", "申请金额", "报销金额", "总金额", "合同金额")

_CHUNK = 1 << 20            # bytes fed to the parser at a time
_UTC = dt.timezone.utc
_ELEMENT_START = re.compile(r"<[A-Za-z_]")
_EXTERNAL_DTD = re.compile(r"<!DOCTYPE\s+[^\s\[>]+\s+(?:SYSTEM|PUBLIC)\b")
_INTERNAL_SUBSET = re.compile(r"<!DOCTYPE\s+[^\s\[>]+\s*\[")
_PLAIN_DOCTYPE = re.compile(r"<!DOCTYPE\s+[^\s\[>]+\s*>")


def read_xes(path: Path, mapping: Mapping) -> RawEvents:
    """Read an XES log (plain or gzip, told apart by content) into rows for the normaliser.

    `rows_read` counts activity instances: the lifecycle records merged into an event are
    reported in the notes, so read = accepted + set aside still holds.

    >>> from officemine import import_log
    >>> log = import_log("tests/data/xes/travel_lifecycle.xes")   # doctest: +SKIP
    >>> log.report.rows_read                                       # doctest: +SKIP
    12
    """
    path = Path(path)
    parsed = _parse(path)
    return _to_raw(parsed, path, mapping)


# --- streaming parse -------------------------------------------------------------------------

@dataclass(slots=True)
class _Record:
    pos: int                    # 1-based position of the <event> in its trace
    label: str | None
    resource: str | None
    role: str | None
    group: str | None
    transition: str | None      # lower-cased lifecycle:transition
    instance: str | None        # concept:instance, identifies an activity instance
    time_text: str | None
    when: float | None          # seconds since the epoch, for ordering
    aware: bool
    extras: dict


@dataclass(slots=True)
class _Item:
    """One activity instance: the lifecycle records that belong together."""

    label: str | None
    instance: str | None
    resource: str | None = None
    queued: _Record | None = None
    started: _Record | None = None
    end: _Record | None = None
    records: list = field(default_factory=list)


_CORE_COLUMNS = ("_trace", C.source_row, LABEL, C.resource, ROLE, C.dept, LIFECYCLE,
                 C.acted_at, C.arrived_at, STARTED_AT)


@dataclass
class _Parsed:
    log_name: str | None = None
    traces: list[dict] = field(default_factory=list)     # trace attributes, by trace number-1
    # one entry per activity instance, filled as each trace ends (compact: no records kept)
    core: dict = field(default_factory=lambda: {k: [] for k in _CORE_COLUMNS})
    extras: list[dict] = field(default_factory=list)
    aside: list[dict] = field(default_factory=list)
    records: int = 0
    merged: int = 0             # lifecycle records merged into another record's instance
    start_only: int = 0         # started, never completed nor scheduled: set aside
    resource_from_start: int = 0
    transitions: Counter = field(default_factory=Counter)
    date_keys: set = field(default_factory=set)          # event attributes typed <date>
    trace_date_keys: set = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)    # list/container attributes, by key
    naive_times: int = 0


def _open(path: Path, stack: contextlib.ExitStack) -> IO[bytes]:
    raw = stack.enter_context(path.open("rb"))
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":  # gzip, whatever the file is called
        return stack.enter_context(gzip.GzipFile(fileobj=raw))
    return raw


def _chunks(stream: IO[bytes], file: str) -> Iterator[bytes]:
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"the compressed file is damaged or truncated: {exc}",
                              file=file) from None
        if not chunk:
            return
        yield chunk


def _refuse_doctype(head: bytes, file: str) -> bool:
    """Refuse entity declarations and DTDs before any XML parser sees them.

    XES files never need a DTD; entity declarations are how both XML external entity (XXE)
    reads and "billion laughs" expansions work. Only a plain ``<!DOCTYPE log>`` passes.
    Returns whether the prolog was seen whole; if not (a prolog longer than the first
    chunk), the parser callback refuses any DOCTYPE it meets.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("latin-1")
    doctype = text.find("<!DOCTYPE")
    first_element = _ELEMENT_START.search(text)
    if doctype < 0:
        return first_element is not None  # True: the whole prolog was seen, no DOCTYPE
    if first_element is not None and first_element.start() < doctype:
        return True  # "<!DOCTYPE" inside the document (e.g. in a CDATA section), not a DTD
    rest = text[doctype:]
    if "<!ENTITY" in rest:
        raise SourceError("refused: the file declares XML entities in a DOCTYPE (XES never "
                          "needs them; they are how entity-expansion and external-entity "
                          "attacks work)", file=file)
    if _EXTERNAL_DTD.match(rest):
        raise SourceError("refused: the file refers to an external DTD (XES never needs one; "
                          "it could make a parser read other files)", file=file)
    if _INTERNAL_SUBSET.match(rest):
        raise SourceError("refused: the file carries DTD declarations (XES never needs them)",
                          file=file)
    return bool(_PLAIN_DOCTYPE.match(rest))  # only <!DOCTYPE log> is let through


def _make_parser(target: "_Target") -> etree.XMLParser:
    # A parser target gets start/end callbacks with each element's attributes: no tree is
    # built at all, so memory stays flat however large the log. No entity is ever resolved,
    # no DTD loaded, nothing fetched from the network; huge_tree=False keeps libxml2's limits.
    return etree.XMLParser(target=target, resolve_entities=False, no_network=True,
                           huge_tree=False, load_dtd=False, dtd_validation=False,
                           remove_comments=True, remove_pis=True)


def _parse(path: Path) -> _Parsed:
    file = str(path)
    target = _Target(file)
    parser = None
    with contextlib.ExitStack() as stack:
        stream = _open(path, stack)
        try:
            for chunk in _chunks(stream, file):
                if parser is None:  # the first bytes are checked before any parser exists
                    target.prolog_checked = _refuse_doctype(chunk, file)
                    parser = _make_parser(target)
                parser.feed(chunk)
            if parser is None:
                raise SourceError("the file is empty", file=file)
            parser.close()
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if exc.lineno else None
            raise SourceError(f"not well-formed XML: {exc.msg}", file=file, row=line) from None
    if not target.seen_root:
        raise SourceError("the file holds no <log> element", file=file)
    return target.out


_ATTRIBUTE_KINDS = frozenset({"string", "date", "int", "float", "boolean", "id"})


class _Target:
    """Parser callbacks: build records per trace, hand each finished trace to the pairing."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.out = _Parsed()
        self.prolog_checked = False
        self.seen_root = False
        self.stack: list[str] = []              # local names of the open elements
        self.trace_attrs: dict | None = None
        self.records: list[_Record] = []
        self.event_attrs: dict | None = None
        self.local: dict[str, str] = {}         # tag -> local name cache

    def doctype(self, name, pubid, system) -> None:
        if pubid or system:
            raise SourceError("refused: the file refers to an external DTD (XES never needs "
                              "one; it could make a parser read other files)", file=self.file)
        if not self.prolog_checked:
            raise SourceError("refused: a DOCTYPE beyond the first megabyte could not be "
                              "checked for entity declarations", file=self.file)

    def start(self, tag, attrib) -> None:
        local = self.local.get(tag)
        if local is None:
            local = self.local[tag] = tag.rpartition("}")[2]
        stack = self.stack
        depth = len(stack)
        stack.append(local)
        if depth == 3:  # most elements: the attributes of an event
            if stack[2] == "event" and stack[1] == "trace":
                key = attrib.get("key")
                if local == "string" and key is not None:  # the common case, kept fast
                    self.event_attrs[key] = attrib.get("value")
                else:
                    self._attribute(local, attrib, self.event_attrs, self.out.date_keys)
        elif depth == 2:
            if stack[1] == "trace":
                if local == "event":
                    self.event_attrs = {}
                else:
                    self._attribute(local, attrib, self.trace_attrs, self.out.trace_date_keys)
        elif depth == 1:
            if local == "trace":
                self.trace_attrs, self.records = {}, []
            elif local == "event":
                self.event_attrs = {}  # an event outside any trace, counted at its end
            elif local == "string" and attrib.get("key") == "concept:name":
                self.out.log_name = attrib.get("value") or self.out.log_name
        elif depth == 0:
            if local != "log":
                raise SourceError(f"not an XES log: the root element is <{local}>, expected "
                                  "<log>", file=self.file)
            self.seen_root = True

    def _attribute(self, kind: str, attrib, into: dict, date_keys: set) -> None:
        key = attrib.get("key")
        if kind not in _ATTRIBUTE_KINDS:
            if kind in ("list", "container"):
                self.out.skipped[key or "(no key)"] += 1
            return
        if key is None:
            self.out.skipped["(attribute without a key)"] += 1
            return
        value = attrib.get("value")
        into[key] = value if kind in ("string", "id", "date") else _typed(kind, value)
        if kind == "date":
            date_keys.add(key)

    def end(self, tag) -> None:
        stack = self.stack
        local = stack.pop()
        if local != "event" and local != "trace":
            return
        depth = len(stack)
        if local == "event" and depth == 2 and stack[1] == "trace":
            self.records.append(_record(self.event_attrs, len(self.records) + 1, self.out))
            self.event_attrs = None
        elif local == "trace" and depth == 1:
            out = self.out
            out.traces.append(self.trace_attrs)
            _finish_trace(len(out.traces), self.trace_attrs, self.records, out)
            self.trace_attrs, self.records = None, []
        elif local == "event" and depth == 1:
            out = self.out
            out.records += 1
            out.aside.append({"source_row": f"event {out.records} outside any trace",
                              "reason": "malformed_record", "column": "",
                              "detail": "an <event> directly under <log> belongs to no case"})

    def close(self) -> None:
        return None


def _typed(kind: str, value: str | None):
    if value is None:
        return None
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "float":
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean":
        low = value.strip().lower()
        return True if low == "true" else False if low == "false" else value
    return value


def _text(value) -> str | None:
    if value is None:
        return None
    if value.__class__ is not str:
        value = str(value)
    return value.strip() or None


def _parse_time(text: str | None) -> tuple[float | None, bool]:
    """(seconds since the epoch, for ordering only; aware?) — None when not a time.

    A time without an offset is ordered as if UTC; the column values themselves are parsed
    later, vectorised, from the text.
    """
    if text is None:
        return None, True
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            stamp = pd.Timestamp(text).to_pydatetime()
        except (ValueError, TypeError, OverflowError):
            return None, True
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=_UTC).timestamp(), False
    return stamp.timestamp(), True


def _record(attrs: dict, pos: int, out: _Parsed) -> _Record:
    out.records += 1
    transition = _text(attrs.pop("lifecycle:transition", None))
    transition = transition.lower() if transition else None
    out.transitions[transition] += 1
    time_text = _text(attrs.pop("time:timestamp", None))
    when, aware = _parse_time(time_text)
    if when is not None and not aware:
        out.naive_times += 1
    return _Record(
        pos=pos, label=_text(attrs.pop("concept:name", None)),
        resource=_text(attrs.pop("org:resource", None)), role=_text(attrs.pop("org:role", None)),
        group=_text(attrs.pop("org:group", None)), transition=transition,
        instance=_text(attrs.get("concept:instance")), time_text=time_text, when=when,
        aware=aware, extras=attrs)


# --- lifecycle pairing -----------------------------------------------------------------------

def _finish_trace(number: int, attrs: dict, records: list[_Record], out: _Parsed) -> None:
    case = _text(attrs.get("concept:name"))
    where = f"trace #{number}" + (f" {case!r}" if case else "")
    usable = []
    for r in records:
        if r.time_text is None or r.when is None:
            out.aside.append({
                "source_row": f"{where}, event {r.pos}",
                "reason": "missing_time" if r.time_text is None else "unparseable_time",
                "column": C.acted_at,
                "detail": f"{r.label or '(no concept:name)'}: time:timestamp "
                          + (repr(r.time_text) if r.time_text else "missing")})
        else:
            usable.append(r)
    # Time order, the file's order among equal times (OpenXES writes traces in time order).
    usable.sort(key=lambda r: (r.when, r.pos))
    for item in _pair(usable):
        _emit(number, where, item, out)


def _emit(number: int, where: str, item: _Item, out: _Parsed) -> None:
    """One activity instance -> one row (or one set-aside row)."""
    end, start, queued = item.end, item.started, item.queued
    main = end or item.records[-1]
    out.merged += len(item.records) - 1
    if end is None and queued is None:
        # started (or suspended) but never completed, and never scheduled: no arrival, no
        # action, nothing to measure. Set aside, saying what there was.
        out.start_only += 1
        first = item.records[0]
        out.aside.append({
            "source_row": _source_row(where, item), "reason": "missing_time",
            "column": C.acted_at,
            "detail": f"{item.label}: {first.transition} at {first.time_text}"
                      + (f" by {first.resource}" if first.resource else "")
                      + ", never completed in the trace"})
        return
    resource = main.resource
    if resource is None and start is not None and start.resource is not None:
        resource = start.resource
        out.resource_from_start += end is not None
    core = out.core
    core["_trace"].append(number)
    core[C.source_row].append(_source_row(where, item))
    core[LABEL].append(item.label)
    core[C.resource].append(resource)
    core[ROLE].append(main.role or (start.role if start else None))
    core[C.dept].append(main.group or (start.group if start else None))
    core[LIFECYCLE].append(main.transition)
    core[C.acted_at].append(end.time_text if end else None)
    core[C.arrived_at].append(queued.time_text if queued else None)
    core[STARTED_AT].append(start.time_text if start else None)
    out.extras.append(main.extras)


def _same_instance(item: _Item, r: _Record) -> bool:
    return item.label == r.label and (
        item.instance is None or r.instance is None or item.instance == r.instance)


def _pair(records: list[_Record]) -> list[_Item]:
    """Group schedule/start/…/complete records of the same activity instance.

    A start takes the oldest queued (scheduled, not yet started) instance of its activity; an
    ending record takes the oldest started instance of its activity by the same resource
    (FIFO per activity and resource; a missing resource on either side matches), else the
    oldest instance still queued. ``concept:instance``, when present, must agree.
    """
    open_items: list[_Item] = []
    done: list[_Item] = []
    for r in records:
        t = r.transition
        if t in _QUEUE:
            item = None
            if t != "schedule":  # an assignment belongs to the item already scheduled
                item = next((i for i in open_items if _same_instance(i, r) and i.started is None),
                            None)
            if item is None:
                item = _Item(r.label, r.instance, r.resource)
                open_items.append(item)
            item.queued = item.queued or r
            item.records.append(r)
        elif t in _START:
            item = next((i for i in open_items if _same_instance(i, r) and i.started is None),
                        None)
            if item is None:
                item = _Item(r.label, r.instance)
                open_items.append(item)
            item.started = r
            item.resource = r.resource if r.resource is not None else item.resource
            item.instance = item.instance or r.instance
            item.records.append(r)
        elif t in _PAUSE:
            item = _match_end(open_items, r)
            if item is None:
                item = _Item(r.label, r.instance, r.resource)
                open_items.append(item)
            item.records.append(r)
        else:
            item = _match_end(open_items, r)
            if item is None:
                item = _Item(r.label, r.instance, r.resource)
            else:
                open_items.remove(item)
            item.end = r
            item.records.append(r)
            done.append(item)
    return done + open_items


def _match_end(open_items: list[_Item], r: _Record) -> _Item | None:
    candidates = [i for i in open_items if _same_instance(i, r)]
    if r.instance is not None:
        exact = [i for i in candidates if i.instance == r.instance]
        candidates = exact or candidates
    started = [i for i in candidates if i.started is not None or i.queued is None]
    for item in started:
        if item.resource == r.resource:
            return item
    for item in started:
        if item.resource is None or r.resource is None:
            return item
    return next((i for i in candidates if i.started is None and i.queued is not None), None)


# --- rows ------------------------------------------------------------------------------------

def _source_row(where: str, item: _Item) -> str:
    main = item.end or item.records[-1]
    text = f"{where}, event {main.pos}"
    others = [r for r in item.records if r is not main]
    if others:
        text += " (" + "; ".join(f"{r.transition}: event {r.pos}" for r in others) + ")"
    return text


def _to_raw(parsed: _Parsed, path: Path, mapping: Mapping) -> RawEvents:
    """The parsed log as the normaliser reads it: a row per activity instance with its
    event's and its trace's attributes as columns, what each column came from, and notes."""
    file = str(path)
    lifecycle_used = bool(parsed.transitions.keys() - {None, "complete"})
    keys = len(set().union(*parsed.extras)) + len(set().union(*parsed.traces))
    if keys > MAX_COLUMNS:       # each would become a column: refused before any is built
        raise SourceError(f"the log has {keys:,} distinct attribute keys; at most "
                          f"{MAX_COLUMNS:,} are read (a log has a few dozen)", file=file)
    frame, produced = _core_frame(parsed, lifecycle_used)
    columns_used: dict[str, str] = {}
    renamed: list[str] = []
    event_cols, event_names, arrival_from_attribute = _event_attributes(
        parsed, frame, produced, mapping, columns_used, renamed)
    trace_frame, trace_names = _trace_attributes(
        parsed, set(event_cols.columns) | set(frame.columns), produced, mapping, columns_used,
        renamed)
    notes: list[str] = []
    if trace_frame[C.case_id].isna().any():
        notes.append(Said("import.xes_no_trace_name",
                          n=int(trace_frame[C.case_id].isna().sum())))
    trace_frame[C.case_id] = trace_frame[C.case_id].astype(TEXT)

    frame = pd.concat([frame, event_cols], axis=1)
    frame = frame.join(trace_frame, on="_trace").drop(columns="_trace")
    if parsed.log_name and C.process_type not in produced and C.process_type not in mapping.columns:
        frame[C.process_type] = parsed.log_name
        produced.add(C.process_type)
        columns_used[C.process_type] = "log concept:name"

    columns_used = {C.case_id: "trace concept:name", LABEL: "event concept:name",
                    **{c: s for c, s in ((C.resource, "org:resource"), (ROLE, "org:role"),
                                         (C.dept, "org:group")) if c in produced},
                    C.acted_at: "time:timestamp" + (" of the complete record" if lifecycle_used
                                                    else ""),
                    **({C.arrived_at: "time:timestamp of the schedule/assign record"
                        + (", else event arrived_at" if arrival_from_attribute else "")}
                       if lifecycle_used and C.arrived_at in produced else {}),
                    **({STARTED_AT: "time:timestamp of the start record"}
                       if STARTED_AT in produced else {}),
                    **columns_used}
    _apply_column_mapping(frame, mapping, event_names, trace_names, columns_used)
    if not mapping.label_rules and C.node not in frame:
        columns_used[C.node] = "event concept:name"  # the normaliser copies the label

    read = len(frame) + len(parsed.aside)  # activity instances (and records set aside)
    notes += _notes(parsed, read, lifecycle_used, renamed)
    aside = set_aside_rows(parsed.aside)
    # Two records with different event ids are different records even when case, node,
    # outcome, person and time coincide (BPIC 2020 pays three declarations of one permit in
    # the same second). The normaliser honours this once RawEvents has `record_id`.
    record_id = next((event_names[k] for k in ("identity:id", "id") if k in event_names), None)
    extra = ({"record_id": record_id}
             if record_id and "record_id" in RawEvents.__dataclass_fields__ else {})
    return RawEvents(frame=frame, source_file=file, format="xes", rows_read=read,
                     set_aside=aside, columns_used=columns_used, notes=notes, **extra)


#: Attribute keys that would clash with a column of the log, of its set-aside rows or of
#: this reader: an event's (or a trace's) own attribute of that name is renamed.
_RESERVED = set(STORED_ORDER) | set(SET_ASIDE_COLUMNS) | {LABEL, ROLE, STARTED_AT, LIFECYCLE,
                                                          "_trace"}


def _core_frame(parsed: _Parsed, lifecycle_used: bool) -> tuple[pd.DataFrame, set[str]]:
    """The columns every XES event has (case, label, times, resource, role, group,
    lifecycle), without those no event fills; and the canonical columns they produce."""
    naive = parsed.naive_times > 0
    frame = pd.DataFrame(parsed.core)
    for column in (C.source_row, LABEL, C.resource, ROLE, C.dept, LIFECYCLE):
        frame[column] = frame[column].astype(TEXT)
    for column in (C.acted_at, C.arrived_at, STARTED_AT):
        if naive:
            frame[column] = frame[column].astype(TEXT)
        else:
            frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
    produced = {C.case_id, C.source_row, LABEL, C.acted_at}
    for column in (C.resource, ROLE, C.dept):
        if frame[column].notna().any():
            produced.add(column)
        else:
            frame = frame.drop(columns=column)
    if not lifecycle_used:
        frame = frame.drop(columns=[LIFECYCLE, C.arrived_at, STARTED_AT])
    else:
        produced.add(LIFECYCLE)
        for column in (C.arrived_at, STARTED_AT):
            if frame[column].notna().any():
                produced.add(column)
            else:
                frame = frame.drop(columns=column)
    return frame, produced


def _event_attributes(parsed: _Parsed, frame: pd.DataFrame, produced: set[str],
                      mapping: Mapping, columns_used: dict[str, str], renamed: list[str]):
    """The events' other attributes as columns, under their own names unless canonical or
    clashing (added to `renamed`); an ``arrived_at`` attribute fills the arrivals no
    schedule/assign record gave (in `frame`). Returns (columns, key -> column name, whether
    arrivals came from the attribute)."""
    event_cols = pd.DataFrame(parsed.extras, index=frame.index)
    event_names: dict[str, str] = {}
    for key in event_cols.columns:
        if key in SOURCE_FIELDS and key not in produced and key not in mapping.columns:
            event_names[key] = key
            produced.add(key)
            columns_used[key] = f"event {key}"
        elif key in _RESERVED:
            event_names[key] = f"event:{key}"
            renamed.append(f"event {key!r} → {event_names[key]!r}")
        else:
            event_names[key] = key
    event_cols = event_cols.rename(columns=event_names)
    for key in parsed.date_keys:
        _to_utc(event_cols, event_names.get(key))
    stated = f"event:{C.arrived_at}"
    if stated in event_cols and C.arrived_at in frame and \
            event_cols[stated].dtype == frame[C.arrived_at].dtype:
        # An `arrived_at` attribute (what officemine's own XES writer puts on each event)
        # gives the arrival where no schedule/assign record does.
        frame[C.arrived_at] = frame[C.arrived_at].fillna(event_cols.pop(stated))
        renamed[:] = [r for r in renamed if not r.startswith(f"event {C.arrived_at!r}")]
        return event_cols, event_names, True
    return event_cols, event_names, False


def _trace_attributes(parsed: _Parsed, taken: set[str], produced: set[str], mapping: Mapping,
                      columns_used: dict[str, str], renamed: list[str]):
    """The traces' attributes as a table by trace number: concept:name is the case id, the
    rest under their own names unless canonical or clashing with a column `taken` (added to
    `renamed`), an obvious amount attribute as the amount. Returns (table, key -> column
    name)."""
    trace_frame = pd.DataFrame(parsed.traces, index=pd.RangeIndex(1, len(parsed.traces) + 1))
    trace_names: dict[str, str] = {}
    for key in trace_frame.columns:
        if key == "concept:name":
            trace_names[key] = C.case_id
        elif key in SOURCE_FIELDS and key not in produced and key not in mapping.columns:
            trace_names[key] = key
            produced.add(key)
            columns_used[key] = f"trace {key}"
        elif key in _RESERVED or key in taken:
            trace_names[key] = f"case:{key}"
            renamed.append(f"trace {key!r} → {trace_names[key]!r}")
        else:
            trace_names[key] = key
    if C.amount not in produced and C.amount not in mapping.columns:
        by_word = {normalize_word(k): k for k in trace_frame.columns if k != "concept:name"}
        key = next((by_word[w] for w in _AMOUNT_KEYS if w in by_word), None)
        if key is not None:
            trace_names[key] = C.amount
            produced.add(C.amount)
            columns_used[C.amount] = f"trace {key}"
    trace_frame = trace_frame.rename(columns=trace_names)
    for key in parsed.trace_date_keys:
        _to_utc(trace_frame, trace_names.get(key))
    if C.case_id not in trace_frame:
        trace_frame[C.case_id] = pd.Series(pd.NA, index=trace_frame.index, dtype="string")
    return trace_frame, trace_names


def _notes(parsed: _Parsed, read: int, lifecycle_used: bool, renamed: list[str]) -> list[str]:
    """What the import report says of how the log was read: records merged, lifecycle
    transitions, times without a zone, attributes renamed or skipped."""
    notes = []
    if parsed.records - read:
        notes.append(Said("import.xes_merged", records=parsed.records, merged=parsed.merged,
                          read=read))
    if lifecycle_used:
        counts = ", ".join(f"{k} {v:,}" for k, v in parsed.transitions.most_common() if k)
        notes.append(Said("import.xes_lifecycle", counts=counts))
    if parsed.start_only:
        notes.append(Said("import.xes_start_only", n=parsed.start_only))
    if parsed.resource_from_start:
        notes.append(Said("import.xes_resource_from_start", n=parsed.resource_from_start))
    if parsed.naive_times > 0:
        notes.append(Said("import.xes_naive_times", n=parsed.naive_times))
    if renamed:
        notes.append(Said("import.xes_renamed", names=", ".join(renamed)))
    if parsed.skipped:
        notes.append(Said("import.xes_skipped", names=", ".join(
            f"{k} ×{v:,}" for k, v in parsed.skipped.most_common(10))))
    return notes


def _to_utc(frame: pd.DataFrame, column: str | None) -> None:
    """A <date> attribute as tz-aware UTC when every value carries an offset, else text."""
    if column is None or column not in frame:
        return
    text = frame[column].astype("string")
    present = text.notna()
    if not present.any() or not text[present].str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$",
                                                           regex=True).all():
        return
    times = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if times[present].notna().all():
        frame[column] = times


def _apply_column_mapping(frame: pd.DataFrame, mapping: Mapping, event_names: dict,
                          trace_names: dict, columns_used: dict) -> None:
    """[columns] in a mapping: canonical column = an XES attribute key (copied)."""
    standard = {"concept:name": LABEL, "org:resource": C.resource, "org:role": ROLE,
                "org:group": C.dept, "time:timestamp": C.acted_at,
                "lifecycle:transition": LIFECYCLE}
    problems = []
    for canon, keys in mapping.columns.items():
        if len(keys) != 1:
            problems.append(f"[columns] {canon}: XES attributes are whole values; "
                            "give one attribute key")
            continue
        key = keys[0]
        scope, _, bare = key.partition(":") if key.startswith(("case:", "trace:", "event:")) \
            else ("", "", key)
        source = None
        if scope in ("", "event"):
            source = standard.get(bare) or event_names.get(bare)
        if source is None and scope in ("", "case", "trace"):
            source = trace_names.get(bare)
        if source is None or source not in frame:
            problems.append(f"[columns] {canon} = {key!r}: no such XES attribute")
            continue
        frame[canon] = frame[source]
        columns_used[canon] = key
    if problems:
        events = sorted(set(standard) | set(event_names))
        traces = sorted(trace_names)
        raise MappingError("; ".join(problems) + f". Event attributes: {', '.join(events)}; "
                           f"trace attributes: {', '.join(traces)}")
