"""Import any supported source into the canonical `EventLog`.

Each source has a reader module beside this file that returns `RawEvents`; the shared
`normalize.build_log` validates and normalises them all the same way.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, get_args

import pandas as pd

from officemine.log.calendar import (OUTSIDE_HOURS_SLACK, OUTSIDE_HOURS_WARNING, Calendar,
                                     is_known_timezone)
from officemine.base.errors import ChoiceError, InputError, SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.log.import_report import ImportReport
from officemine.log.schema import C
from officemine.base.text import Said

if TYPE_CHECKING:
    from officemine.log.eventlog import EventLog

Format = Literal["auto", "csv", "xlsx", "xes", "dingtalk", "feishu", "wecom", "weaver"]
FORMATS: tuple[str, ...] = get_args(Format)

# format -> "module:function"; each reader is `read(path: Path, mapping: Mapping) -> RawEvents`
_READERS: dict[str, str] = {
    "csv": "officemine.importing.tabular:read_csv",
    "xlsx": "officemine.importing.tabular:read_xlsx",
    "xes": "officemine.importing.xes:read_xes",
    "dingtalk": "officemine.importing.dingtalk:read_dingtalk",
    "feishu": "officemine.importing.feishu:read_feishu",
    "wecom": "officemine.importing.wecom:read_wecom",
    "weaver": "officemine.importing.weaver:read_weaver",
}


def _reader(fmt: str) -> Callable[[Path, Mapping], RawEvents]:
    module, func = _READERS[fmt].split(":")
    return getattr(importlib.import_module(module), func)


#: what `detect_format` recognises, for the message that refuses anything else
SUPPORTED_FILES = ("CSV/TSV/TXT exports (.csv, .tsv, .txt), Excel workbooks (.xlsx, .xlsm), "
                   "XES (.xes, .xes.gz), DingTalk/Feishu/WeCom approval JSON (.json, .jsonl, "
                   ".ndjson) and Weaver e-cology folders")

# workflow_requestlog.csv, workflow_requestlog_2025.csv … but not workflow_requestlogatinfo.csv
WEAVER_LOG_NAME = re.compile(r"^workflow_requestlog(?:[ _\-.(].*)?\.(?:csv|tsv|txt)$", re.I)


def detect_format(path: Path) -> str:
    """Guess the source format from the file name and, for JSON, CSV and folders, its content."""
    name = path.name.lower()
    if path.is_dir():
        if any(WEAVER_LOG_NAME.match(p.name) for p in path.iterdir()):
            return "weaver"
        raise SourceError("a folder is only understood as a Weaver e-cology export "
                          "(holding workflow_requestlog.csv)", file=str(path))
    if name.endswith((".xes", ".xes.gz")):
        return "xes"
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return _detect_json(path)
    if name.endswith((".csv", ".tsv", ".txt")):
        if WEAVER_LOG_NAME.match(name):
            return "weaver"
        return "csv"
    if name.endswith(".xls"):
        raise SourceError("old Excel .xls files are not read; save the sheet as .xlsx or CSV",
                          file=str(path))
    kind = f"'{path.suffix}'" if path.suffix else "without a suffix"
    raise SourceError(f"file type {kind} is not supported; officemine reads {SUPPORTED_FILES}"
                      f" (a supported export under another name: pass --format, one of "
                      f"{', '.join(FORMATS[1:])})", file=str(path))


def _detect_json(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(65536).decode("utf-8", errors="replace")
    hints = {
        "feishu": ("task_list", "timeline", "instance_code"),
        "wecom": ("sp_record", "sp_no", "approverattr"),
        "dingtalk": ("operation_records", "operationRecords", "process_instance",
                     "processInstanceId", "tasks"),
    }
    scores = {fmt: sum(key in head for key in keys) for fmt, keys in hints.items()}
    best = max(scores, key=scores.get)
    if scores[best] == 0:
        raise SourceError("JSON file is not a DingTalk, Feishu or WeCom approval export "
                          "(none of their field names found); pass --format", file=str(path))
    return best


def import_log(source: "str | Path | pd.DataFrame", *, format: Format = "auto",
               mapping: Mapping | str | Path | None = None,
               timezone: str | None = None, link: bool = True,
               name: str = "DataFrame") -> "EventLog":
    """Read a source into a validated `EventLog` (not yet written; call `.write(path)`).

    The source is a file or folder (its format recognised, or given), or a pandas DataFrame
    holding an export's columns (``name`` stands for the file in messages and the report;
    a set-aside row is named by its index label).

    The log's `.report` counts rows read = accepted + set aside, and `.set_aside` holds the
    set-aside rows with a reason for each. Problems that make the whole source unreadable
    raise `SourceError` naming file, row and column.

    link: link the attempts a source started as separate instances of one request into one
    case (`officemine.importing.linking`; the report counts them); False keeps every instance
    a case of its own. Each event keeps its instance's id in ``instance_id`` either way.

    >>> log = import_log("sample_logs/oa_sample.csv")        # doctest: +SKIP
    >>> print(log.report)                                      # doctest: +SKIP
    """
    from officemine.log.eventlog import EventLog

    if isinstance(source, pd.DataFrame):
        from officemine.importing.tabular import read_frame

        _, mapping, timezone = _check_source(None, mapping, timezone)
        raw = read_frame(source, mapping, name)
    else:
        path, mapping, timezone = _check_source(source, mapping, timezone)
        if format not in FORMATS:
            raise ChoiceError("format", format, FORMATS)
        fmt = detect_format(path) if format == "auto" else format
        raw = _reader(fmt)(path, mapping)
    events, report, aside = build_log(raw, mapping, timezone, link=link)
    del raw                          # the source's rows: not needed once normalised
    # the log's calendar is the mapping's, in the log's zone (--timezone moves it too)
    report, calendar = _office_hours_check(events[C.acted_at], report,
                                           mapping.calendar_in(report.timezone))
    return EventLog.from_pandas(events, timezone=report.timezone, report=report,
                                mapping=mapping.to_dict(), set_aside=aside, calendar=calendar)


def _check_source(source: str | Path | None, mapping: Mapping | str | Path | None,
                  timezone: str | None) -> tuple[Path | None, Mapping, str | None]:
    """The source's path (it must exist; None: not a file), the mapping read, the time zone
    checked."""
    path = None if source is None else Path(source)
    if path is not None and not path.exists():
        raise SourceError("no such file or folder", file=str(path))
    if timezone is not None and not is_known_timezone(timezone):
        raise InputError(f"unknown time zone {timezone!r}: use an IANA name such as "
                         "'Asia/Shanghai' or 'Europe/Amsterdam'")
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = Mapping.from_toml(mapping)
    return path, mapping or Mapping(), timezone


def _office_hours_check(acted, report: ImportReport,
                        calendar: Calendar) -> tuple[ImportReport, Calendar]:
    """The share of actions outside the calendar's working time (by more than
    `OUTSIDE_HOURS_SLACK`), in the report's notes; above `OUTSIDE_HOURS_WARNING` a warning,
    which the calendar carries into every analysis."""
    outside, n = _outside_office_hours(acted, calendar)
    return _office_hours_said(outside, n, report, calendar)


def _outside_office_hours(acted, calendar: Calendar) -> tuple[int, int]:
    """(actions outside the calendar's working time by more than the slack, actions)."""
    n = int(acted.notna().sum())
    if not n:
        return 0, 0
    return int(calendar.outside_office_hours(acted, OUTSIDE_HOURS_SLACK).sum()), n


def _office_hours_said(outside: int, n: int, report: ImportReport,
                       calendar: Calendar) -> tuple[ImportReport, Calendar]:
    """`_office_hours_check` from the counts (the streaming import adds them up by batch)."""
    if not n:
        return report, calendar
    share = outside / n
    rules = {}
    for lang in ("zh", "en"):
        text = calendar.describe(lang)
        rules[f"rules_{lang}"] = text if calendar.tz in text else f"{text}; {calendar.tz}"
    minutes = int(OUTSIDE_HOURS_SLACK.total_seconds() // 60)
    said = Said("import.outside_hours", share=share, n=n, minutes=minutes, **rules)
    if share <= OUTSIDE_HOURS_WARNING:
        return dataclasses.replace(report, notes=report.notes + (said,)), calendar
    warning = Said("import.outside_hours_warning", said=said)
    return (dataclasses.replace(report, warnings=report.warnings + (warning,)),
            dataclasses.replace(calendar, warnings=calendar.warnings + (warning,)))


__all__ = ["FORMATS", "Format", "ImportReport", "Mapping", "RawEvents", "detect_format",
           "import_log"]
