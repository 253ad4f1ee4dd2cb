"""The result contract: one base that every analysis result builds on.

In the spirit of lifelines' ``StatisticalResult``, a result declares its data (`to_dict`, the
documented JSON contract), its ``summary`` (a DataFrame), its readable ``repr`` and its
``plot``; the base writes the rest once: `to_json` (the one JSON path), `_repr_html_` (the one
HTML escaping), `print_summary` and a frozen `Provenance` (where the figures come from).

>>> result = officemine.necessity(log)                                  # doctest: +SKIP
>>> result.provenance.version, result.provenance.source                 # doctest: +SKIP
('0.1.0', 'sample_logs/oa_sample.csv')
"""

from __future__ import annotations

import html
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from officemine.base.version import __version__
from officemine.base.jsonable import plain

if TYPE_CHECKING:
    from officemine.log.eventlog import EventLog


@dataclass(frozen=True)
class Provenance:
    """Where a result's figures come from: the source file, what of the log they cover, the
    working-time calendar, the instant "now" was taken as, the random seed and the officemine
    version that computed them (None where a result has no such thing)."""

    source: str | None
    scope: str
    calendar: str | None
    as_of: pd.Timestamp | None
    seed: int | None
    version: str = __version__

    def to_dict(self) -> dict:
        return plain({"source": self.source, "scope": self.scope, "calendar": self.calendar,
                      "as_of": self.as_of, "seed": self.seed, "version": self.version})


def log_info_of(log: EventLog, *, cases: int | None = None, events: int | None = None,
             start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> dict:
    """The log a result was computed from, as the JSON contracts' ``log`` object: cases,
    events, first and last instant, source file. Counts and span default to the log's own;
    pass them where they are known already or mean something narrower (the ledger's end is
    the last action, not the last arrival)."""
    if start is None or end is None:
        span = log.span()
        start = span[0] if start is None else start
        end = span[1] if end is None else end
    return {"cases": int(log.n_cases if cases is None else cases),
            "events": int(log.n_events if events is None else events),
            "start": start.isoformat() if start is not None else None,
            "end": end.isoformat() if end is not None else None,
            "source": log.report.source_file if log.report else None}


def provenance(info: dict | None = None, *, source: str | None = None,
               scope: str | None = None, calendar: Any = None, as_of: Any = None,
               seed: int | None = None) -> Provenance:
    """The one way a `Provenance` is built: from a `log_info_of` dict (its source and its
    cases, events and span as the scope), or from the parts given."""
    info = info or {}
    if scope is None:
        parts = [f"{info[k]:,} {k}" for k in ("cases", "events") if info.get(k) is not None]
        if info.get("start") or info.get("end"):
            parts.append(f"{_day(info.get('start'))} .. {_day(info.get('end'))}")
        scope = ", ".join(parts) or "—"
    if calendar is not None and not isinstance(calendar, str):
        calendar = calendar.describe()
    return Provenance(source=source if source is not None else info.get("source"),
                      scope=scope, calendar=calendar or None,
                      as_of=pd.Timestamp(as_of) if as_of is not None else None,
                      seed=int(seed) if seed is not None else None)


def headed(head: str, view: pd.DataFrame | None, *, max_rows: int | None = None,
           notes: tuple[str, ...] | list[str] = ()) -> str:
    """A result's readable text: its ``<ClassName …>`` line, then `view` (the rows a reader
    scans first, already chosen and rounded) as a plain table and any notes; the line alone
    when there is nothing to show."""
    if view is None or view.empty:
        return head
    return (head + "\n" + view.to_string(index=False, max_rows=max_rows)
            + "".join(f"\nnote: {n}" for n in notes))


def _day(value: Any) -> str:
    return str(value)[:10] if value else "?"


class Result(ABC):
    """The base of every analysis result (a mixin for dataclasses).

    A result declares `to_dict` (its JSON contract), ``summary`` (a DataFrame: a field or a
    property), a ``__repr__`` whose first line reads ``<ClassName …>``, and where the
    defaults do not fit, the hooks below. The base gives `to_json`, `_repr_html_`,
    `print_summary` and `provenance`.
    """

    summary: pd.DataFrame

    #: Floats in `to_json` are rounded to this many digits (None: as computed).
    json_digits: ClassVar[int | None] = None
    #: The columns of ``summary`` `_repr_html_` shows (None: all of them).
    html_columns: ClassVar[tuple[str, ...] | None] = None
    #: How `_repr_html_` writes numbers and missing values, and how many rows it shows.
    html_float_format: ClassVar[str | None] = "%.3g"
    html_na_rep: ClassVar[str] = "—"
    html_max_rows: ClassVar[int | None] = None

    @abstractmethod
    def to_dict(self) -> dict:
        """The result's documented JSON contract as a dict."""

    def to_json(self, indent: int | None = 2) -> str:
        """`to_dict` as JSON text: numpy and pandas values made plain, NaN as null, Chinese
        kept as it is (not ``\\u`` escapes)."""
        return json.dumps(plain(self.to_dict(), self.json_digits), ensure_ascii=False,
                          indent=indent)

    @property
    def provenance(self) -> Provenance:
        """Source, scope, calendar, as-of, seed and officemine version (frozen)."""
        return provenance(getattr(self, "log_info", None), calendar=getattr(self, "calendar", None),
                          as_of=getattr(self, "as_of", None), seed=getattr(self, "seed", None))

    def print_summary(self) -> None:
        """Print the readable text (the ``repr``)."""
        print(repr(self))

    # --- HTML (notebooks) -------------------------------------------------------------------
    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(line) for line in self._html_heading())
        return f"<p>{head}</p>" + "".join(self._html_table(t) for t in self._html_tables())

    def _html_heading(self) -> list[str]:
        """The lines above the tables (default: the first line of the ``repr``)."""
        return repr(self).splitlines()[:1]

    def _html_tables(self) -> list[pd.DataFrame]:
        """The tables shown (default: ``summary``, its `html_columns`)."""
        s = self.summary
        return [s[[c for c in self.html_columns if c in s.columns]]
                if self.html_columns else s]

    def _html_table(self, frame: pd.DataFrame) -> str:
        if self.html_max_rows is not None:
            frame = frame.head(self.html_max_rows)
        return frame.to_html(index=False, float_format=self.html_float_format,
                             na_rep=self.html_na_rep, escape=True)
