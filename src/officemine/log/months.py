"""Months as officemine reads and reports them: a month named by a person (``"2025-10"``,
``"2025年10月"``, a date), the month an instant falls in, the last month a log covers, the
instant a month's review looks back from."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from officemine.base.errors import InputError, NoDataError

MONTH_RE = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?\s*$")


def as_month(value: Any) -> pd.Period:
    """A month from ``"2025-10"``, ``"2025/10"``, ``"202510"``, ``"2025年10月"``, a date or Period."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, (dt.date, pd.Timestamp)):
        return month_of(pd.Timestamp(value))
    if isinstance(value, str):
        m = MONTH_RE.match(value)
        if m and 1 <= int(m[2]) <= 12:
            return pd.Period(year=int(m[1]), month=int(m[2]), freq="M")
    raise InputError(f"month must be like '2025-10' (or '2025年10月', a date, a "
                     f"pandas Period), not {value!r}")


def month_of(t: pd.Timestamp) -> pd.Period:
    """The calendar month an instant falls in (on its own clock)."""
    return pd.Period(year=t.year, month=t.month, freq="M")


def month_covered(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """The last calendar month a log spanning `start`..`end` covers completely (else the last
    month it touches)."""
    if end is None:
        raise NoDataError("the log is empty")
    month = pd.Period(end.tz_localize(None), freq="M")
    month_end = (month + 1).start_time
    if end.tz_localize(None) < month_end - pd.Timedelta(days=1):
        previous = month - 1
        if start is not None and start.tz_localize(None) <= previous.start_time:
            return str(previous)
    return str(month)


def month_as_of(month: Any, timezone: str, log_end: pd.Timestamp) -> pd.Timestamp:
    """The instant a month's overdue ledger and bottlenecks look from: the month's end (on the
    log's clock `timezone`), or the log's end `log_end` if sooner, so that a month the log
    stops inside does not count its last days as waiting."""
    month_end = pd.Timestamp((as_month(month) + 1).start_time).tz_localize(timezone)
    return min(month_end, log_end)
