"""Working-time calendar: waiting times in working hours, not clock hours.

An approval that arrives on Friday at 16:30 and is signed on Monday at 09:30 waited 65 clock
hours but only 1.5 working hours; judging an approver by the first number is unfair. A
:class:`Calendar` says which instants are working time:

* office hours, by default 09:00–12:00 and 13:30–17:30 (7 hours a day, the usual Chinese
  government and SOE schedule); any number of non-overlapping intervals within a day;
* Monday to Friday are workdays, Saturday and Sunday are not (a region may say otherwise);
* the holiday ``region``: ``"CN"`` (default) takes Chinese statutory holidays off and make-up
  workdays (调休上班, weekend days that are worked) on from the ``chinese_calendar`` package;
  any other country code the ``holidays`` package knows (``"NL"``, or with a subdivision
  ``"DE-BY"``) takes that country's public holidays, its weekend and its make-up workdays
  from there; both are maintained upstream. Years the data does not cover are weekends-only
  (see :meth:`Calendar.coverage_warnings`); ``"none"`` means weekends only;
* company days (extra days off, extra workdays) override all of the above.

A log carries its calendar (``EventLog.calendar``: set by the mapping's ``[calendar]`` table at
import, in the log's time zone); analyses use it unless they are given another.

Method (vectorised, no Python call per row): all arithmetic is on local wall-clock time in
integer nanoseconds. ``W(t)``, the working time from an origin to ``t``, is the cumulative
working time of every day before ``t``'s date (a per-day table built once per call for the
dates involved) plus the working time elapsed within ``t``'s day (time of day clipped against
the office intervals). A duration is ``W(end) - W(start)``; its inverse
(:meth:`Calendar.add_working_time`) finds, with one ``searchsorted`` over the table's office
intervals, the instant where ``W`` reaches ``W(start) + x``. Integer nanoseconds make the two
exact inverses of each other.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import chinese_calendar
import numpy as np
import pandas as pd

from officemine.base.errors import CalendarError, ChoiceError
from officemine.base.tomlfile import read_toml
from officemine.base.text import Said, joined, say

__all__ = ["Calendar", "DEFAULT_HOURS", "DEFAULT_REGION", "DEFAULT_TZ", "OUTSIDE_HOURS_SLACK",
           "OUTSIDE_HOURS_WARNING", "is_known_timezone"]

#: Holiday region when none is given: Chinese statutory holidays and 调休 (chinese_calendar).
DEFAULT_REGION = "CN"
#: The region that has no holidays at all: weekends (and company days) only.
NO_HOLIDAYS = "none"
#: Above this share of actions outside the calendar's working time (by more than
#: `OUTSIDE_HOURS_SLACK`), the import warns that the calendar probably does not fit the log
#: (wrong office hours, region or time zone).
OUTSIDE_HOURS_WARNING = 1 / 3
#: An action this close to an office interval counts as inside it for that check: a payment
#: run at 17:31 closes the office day (BPIC 2020 pays at 17:30-17:32; counted outside, they
#: alone put a third of that log outside a right calendar's 08:30-17:30).
OUTSIDE_HOURS_SLACK = dt.timedelta(minutes=15)

#: Office hours when none are given: 09:00–12:00 and 13:30–17:30 (7 working hours a day).
DEFAULT_HOURS: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:30", "17:30"))
DEFAULT_TZ = "Asia/Shanghai"

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
# Last day whose midnight still fits in datetime64[ns] (2262-04-11).
_MAX_DAY = int(np.iinfo(np.int64).max // _DAY_NS) - 1
_MIN_DAY = -_MAX_DAY
_NAT = np.iinfo(np.int64).min
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
#: Keys of a calendar file; ``holidays`` is the older name of ``region``.
_TOML_KEYS = ("name", "hours", "region", "holidays", "days_off", "workdays", "tz")
#: Keys of a stored calendar (a log's metadata); its zone is the log's.
_STORED_KEYS = ("name", "hours", "region", "days_off", "workdays", "warnings")
#: Limits on a calendar read from untrusted data (a stored log's metadata, a file).
_MAX_INTERVALS, _MAX_DAYS, _MAX_TEXT, _MAX_WARNINGS = 48, 100_000, 2_000, 20
_SAT_SUN = np.array([False] * 5 + [True] * 2)


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


def is_known_timezone(name: object) -> bool:
    """True for an IANA zone name that zoneinfo knows (``Asia/Shanghai``, ``UTC``).

    The one check every zone passes before use: zone names come from mappings, the command
    line and stored logs' metadata (untrusted), and reach DuckDB's settings, so anything
    but a plain zone name is refused before it is looked up.
    """
    if not isinstance(name, str) or len(name) > 64 or not _ZONE_NAME.match(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _day_numbers(dates: Iterable[dt.date]) -> np.ndarray:
    """Days since 1970-01-01 (int64), sorted."""
    return np.array(sorted(dates), dtype="datetime64[D]").astype(np.int64)


# Statutory data, read once from chinese_calendar.
_CN_OFF = _day_numbers(chinese_calendar.constants.holidays)
_CN_ON = _day_numbers(chinese_calendar.constants.workdays)
_CN_YEARS: tuple[int, int] = (
    min(chinese_calendar.constants.holidays).year,
    max(chinese_calendar.constants.holidays).year,
)
_CN_VERSION: str = getattr(chinese_calendar, "__version__", "unknown")
_EMPTY_DAYS = np.zeros(0, dtype=np.int64)


class _Region(NamedTuple):
    """Where a calendar's holidays come from (see :func:`_region`)."""

    code: str                       # "CN", "none", "NL", "DE-BY"
    weekend: np.ndarray             # bool[7], Monday first
    years: tuple[int, int] | None   # years the holiday data covers (None: no data)
    source: str                     # package and version, for describe() and warnings


_HOW_TO_LIST = ("'CN' (Chinese statutory holidays and 调休, the default), 'none' (weekends "
                "only), or a country code of the `holidays` package, optionally with a "
                "subdivision ('NL', 'DE-BY'); list the codes with: python -c \"import holidays; "
                "print(holidays.list_supported_countries())\"")


@functools.lru_cache(maxsize=64)
def _region(code: str) -> _Region:
    """The holiday region named by `code` (case-insensitive), checked; CalendarError if unknown."""
    text = code.strip() if isinstance(code, str) else ""
    if text.lower() == NO_HOLIDAYS:
        return _Region(NO_HOLIDAYS, _SAT_SUN, None, "")
    if text.upper() == DEFAULT_REGION:
        return _Region(DEFAULT_REGION, _SAT_SUN, _CN_YEARS, f"chinese_calendar {_CN_VERSION}")
    import holidays    # only for regions other than China: its import costs ~50 ms

    country, _, sub = text.partition("-")
    supported = holidays.list_supported_countries()
    subdivisions = supported.get(country.upper()) if re.fullmatch(r"[A-Za-z]{2,3}", country) \
        else None
    if subdivisions is None:
        raise CalendarError(f"unknown holiday region {code!r}: use {_HOW_TO_LIST}")
    country = country.upper()
    subdiv = None
    if sub:
        subdiv = {s.upper(): s for s in subdivisions}.get(sub.upper())
        if subdiv is None:
            known = ", ".join(subdivisions[:40]) + (" …" if len(subdivisions) > 40 else "")
            raise CalendarError(f"unknown holiday region {code!r}: {country} has "
                                + (f"the subdivisions {known}" if subdivisions
                                   else "no subdivisions"))
    entity = holidays.country_holidays(country, subdiv=subdiv)
    weekend = np.zeros(7, dtype=bool)
    weekend[sorted(entity.weekend)] = True
    return _Region(f"{country}-{subdiv}" if subdiv else country, weekend,
                   (int(entity.start_year), int(entity.end_year)),
                   f"holidays {getattr(holidays, '__version__', 'unknown')}")


# (region code, year) -> (days off, make-up workdays) as day numbers: the `holidays` package
# computes a year's dates in about a millisecond; each is computed once per process.
_REGION_DAYS: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}


def _region_days(region: _Region, d0: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
    """Holidays (days off) and make-up workdays of `region` for the years of days d0..d1."""
    if region.code == DEFAULT_REGION:
        return _CN_OFF, _CN_ON
    if region.years is None:
        return _EMPTY_DAYS, _EMPTY_DAYS
    y0, y1 = (int(np.datetime64(d, "D").astype("datetime64[Y]").astype(np.int64)) + 1970
              for d in (d0, d1))
    years = range(max(y0, region.years[0]), min(y1, region.years[1]) + 1)
    missing = [y for y in years if (region.code, y) not in _REGION_DAYS]
    if missing:
        import holidays

        country, _, subdiv = region.code.partition("-")
        entity = holidays.country_holidays(country, subdiv=subdiv or None, years=missing)
        for y in missing:
            _REGION_DAYS[(region.code, y)] = (
                _day_numbers(d for d in entity if d.year == y),
                _day_numbers(d for d in getattr(entity, "weekend_workdays", ()) if d.year == y))
    if not years:
        return _EMPTY_DAYS, _EMPTY_DAYS
    parts = [_REGION_DAYS[(region.code, y)] for y in years]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class _Table(NamedTuple):
    """Per-day table for days ``d0 .. d0 + len(flags) - 1`` and its office intervals."""

    d0: int
    flags: np.ndarray        # bool per day: is it a workday
    cum: np.ndarray          # int64, len(flags) + 1: working ns before each day (last = total)
    seg_start: np.ndarray    # int64 local ns where each office interval of each workday starts
    seg_cum: np.ndarray      # int64 W at that start
    seg_len: np.ndarray      # int64 length of the interval

    @property
    def total(self) -> int:
        return int(self.cum[-1])


@dataclass(frozen=True)
class Calendar:
    """When people work: office hours, weekends, statutory holidays, company days.

    Parameters
    ----------
    hours:
        Office intervals of a working day as ``("HH:MM", "HH:MM")`` pairs (or ``datetime.time``);
        ``"24:00"`` may end the last one. Intervals must not overlap; they are stored sorted.
    region:
        Where holidays come from: ``"CN"`` (default): Chinese statutory holidays and 调休
        workdays from ``chinese_calendar``; a country code of the ``holidays`` package,
        optionally with a subdivision (``"NL"``, ``"DE-BY"``): its public holidays, weekend and
        make-up workdays; ``"none"``: weekends only. Case-insensitive; stored canonical.
    days_off, workdays:
        Company days (``datetime.date`` or ``"YYYY-MM-DD"``) that override everything else.
    tz:
        Time zone of the office; tz-aware inputs are converted to it, naive inputs are taken
        as already local. A log's calendar is always in the log's zone.
    name:
        Optional label, shown first by :meth:`describe`.
    warnings:
        Warnings about the calendar that every analysis using it repeats (with
        :meth:`coverage_warnings`): a log's calendar carries the import's finding that too
        many actions fall outside its office hours. Not part of equality.

    >>> cal = Calendar()
    >>> float(cal.working_hours("2025-11-14 16:30", "2025-11-17 09:30")[0])  # Fri -> Mon
    1.5
    """

    hours: Sequence[tuple[str | dt.time, str | dt.time]] = DEFAULT_HOURS
    region: str = DEFAULT_REGION
    days_off: Sequence[dt.date | str] = ()
    workdays: Sequence[dt.date | str] = ()
    tz: str = DEFAULT_TZ
    name: str = ""
    warnings: Sequence[str] = field(default=(), compare=False)
    # derived in __post_init__
    _bounds: np.ndarray = field(init=False, repr=False, compare=False)  # (k, 2) int64 ns of day
    _off: np.ndarray = field(init=False, repr=False, compare=False)
    _on: np.ndarray = field(init=False, repr=False, compare=False)
    _region: _Region = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[str] = []
        hours, bounds = _check_hours(self.hours, problems)
        region = None
        if not isinstance(self.region, str) or len(self.region) > 64:
            problems.append(f"region must be a region code like 'CN' or 'NL', "
                            f"not {self.region!r:.60}")
        else:
            try:
                region = _region(self.region)
            except CalendarError as err:
                problems.append(str(err))
        off = _check_days(self.days_off, "days_off", problems)
        on = _check_days(self.workdays, "workdays", problems)
        both = sorted(set(off) & set(on))
        if both:
            problems.append(
                "days listed both as days_off and as workdays: "
                + ", ".join(d.isoformat() for d in both)
            )
        if not is_known_timezone(self.tz):
            problems.append(f"unknown time zone {self.tz!r} (use an IANA name like 'Asia/Shanghai')")
        if not isinstance(self.name, str):
            problems.append(f"name must be a string, not {type(self.name).__name__}")
        warnings = (tuple(self.warnings) if isinstance(self.warnings, (list, tuple)) else None)
        if warnings is None or not all(isinstance(w, str) for w in warnings):
            problems.append("warnings must be a list of texts")
        if problems:
            raise CalendarError("invalid calendar: " + "; ".join(problems))
        set_ = object.__setattr__
        set_(self, "hours", hours)
        set_(self, "region", region.code)
        set_(self, "_region", region)
        set_(self, "warnings", warnings)
        set_(self, "days_off", off)
        set_(self, "workdays", on)
        set_(self, "_bounds", bounds)
        set_(self, "_off", _day_numbers(off))
        set_(self, "_on", _day_numbers(on))

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def default(cls, tz: str = DEFAULT_TZ) -> Calendar:
        """09:00–12:00, 13:30–17:30, Chinese statutory holidays and 调休, in zone `tz`
        (Asia/Shanghai); the calendar of a log that sets none, in the log's zone."""
        return cls(tz=tz)

    @classmethod
    def from_toml(cls, path: str | Path, *, tz: str | None = None) -> Calendar:
        """Read a calendar file; every key is optional, unknown keys are an error.

        ``hours = [["09:00","12:00"],["13:30","17:30"]]``, ``region = "CN" | "NL" | "none" |
        …`` (``holidays`` is its older name), ``days_off = ["2025-12-31"]``, ``workdays =
        ["2025-02-08"]`` (TOML dates also work), ``tz = "Asia/Shanghai"``, ``name = "..."``.

        tz: the zone of the log the calendar is for. A file without ``tz`` takes it; a file
        that names another zone is an error, because a calendar works in its log's zone (its
        office hours are read on the log's clock).
        """
        path = Path(path)
        data = read_toml(path, "calendar file", CalendarError)
        where = f"calendar file {path}"
        if "region" in data and "holidays" in data:
            raise CalendarError(f"{where}: give region or its older name holidays, not both")
        if "holidays" in data:
            data["region"] = data.pop("holidays")
        own = data.pop("tz", None)
        if tz is not None and own is not None and own != tz:
            raise CalendarError(
                f"{where}: tz = {own!r} but the log's times are in {tz!r}; a calendar works in "
                f"its log's zone: remove tz from the file, or import the log with "
                f"--timezone {own}")
        return cls._from_data(data, tz=tz or own or DEFAULT_TZ, where=where,
                              keys=tuple(k for k in _TOML_KEYS if k not in ("holidays", "tz")),
                              also=("tz", "holidays"))

    @classmethod
    def from_dict(cls, data: object, *, tz: str, where: str = "calendar") -> Calendar:
        """A calendar from :meth:`to_dict` output (a log's metadata, a mapping's ``[calendar]``
        table), in zone `tz`. Untrusted input: every key and value is checked, sizes are
        bounded, and every problem is listed in one `CalendarError`."""
        return cls._from_data(data, tz=tz, where=where, keys=_STORED_KEYS)

    @classmethod
    def _from_data(cls, data: object, *, tz: str, where: str, keys: tuple[str, ...],
                   also: tuple[str, ...] = ()) -> Calendar:
        if not isinstance(data, dict):
            raise CalendarError(f"{where}: expected a table of calendar settings, "
                                f"not {type(data).__name__}")
        unknown = sorted(map(str, set(data) - set(keys)))
        if unknown:
            raise CalendarError(f"{where}: unknown keys {', '.join(unknown)} "
                                f"(allowed: {', '.join(keys + also)})")
        problems = []
        hours = data.get("hours", [list(pair) for pair in DEFAULT_HOURS])
        if not (isinstance(hours, list) and all(isinstance(h, list) for h in hours)
                and len(hours) <= _MAX_INTERVALS):
            problems.append('hours must be a list of pairs like [["09:00", "12:00"]] '
                            f'(at most {_MAX_INTERVALS})')
        for key in ("days_off", "workdays"):
            days = data.get(key, [])
            if not isinstance(days, list) or len(days) > _MAX_DAYS:
                problems.append(f"{key} must be a list of at most {_MAX_DAYS:,} dates")
        texts = data.get("warnings", [])
        if not (isinstance(texts, list) and len(texts) <= _MAX_WARNINGS
                and all(isinstance(t, str) and len(t) <= _MAX_TEXT for t in texts)):
            problems.append(f"warnings must be a list of at most {_MAX_WARNINGS} texts")
        for key in ("name", "region"):
            value = data.get(key, "")
            if not isinstance(value, str) or len(value) > _MAX_TEXT:
                problems.append(f"{key} must be a text, not {value!r:.60}")
        if problems:
            raise CalendarError(f"{where}: " + "; ".join(problems))
        try:
            return cls(
                hours=tuple(tuple(pair) for pair in hours),  # type: ignore[misc]
                region=data.get("region", DEFAULT_REGION),
                days_off=data.get("days_off", ()),
                workdays=data.get("workdays", ()),
                tz=tz,
                name=data.get("name", ""),
                warnings=tuple(texts),
            )
        except CalendarError as err:
            raise CalendarError(f"{where}: {err}") from err

    def to_dict(self) -> dict:
        """The calendar's rules as JSON-able data (without its zone: a log's calendar is in the
        log's zone); :meth:`from_dict` reads it back."""
        return {"name": self.name, "hours": [list(pair) for pair in self.hours],
                "region": self.region,
                "days_off": [d.isoformat() for d in self.days_off],
                "workdays": [d.isoformat() for d in self.workdays],
                "warnings": list(self.warnings)}

    # --- description ----------------------------------------------------------------------
    @property
    def day_seconds(self) -> float:
        """Working seconds in a full working day (25 200 for the default hours)."""
        return float((self._bounds[:, 1] - self._bounds[:, 0]).sum() / _NS)

    @property
    def holiday_years(self) -> tuple[int, int] | None:
        """First and last year the holiday data covers; None for ``region="none"``."""
        return self._region.years

    def describe(self, lang: str = "zh", source: bool = True) -> str:
        """One line saying what this calendar is; print it next to every working-time number.
        lang: ``zh`` or ``en``; source: with the holiday data's origin and years (the cover
        gives the calendar without them, the data-quality page with them)."""
        ChoiceError.check("lang", lang, ("zh", "en"))
        reg = self._region
        if reg.code == DEFAULT_REGION:
            origin = f" (chinese_calendar {_CN_VERSION}, {_CN_YEARS[0]}–{_CN_YEARS[1]})"
            parts = [say("calendar.cn", lang, origin=origin if source else "")]
        elif reg.years is None:
            parts = [say("calendar.weekends", lang)]
        else:
            origin = f" ({reg.source}, {reg.years[0]}–{reg.years[1]})" if source else ""
            parts = [say("calendar.region", lang, region=reg.code, origin=origin)]
            if not np.array_equal(reg.weekend, _SAT_SUN):
                days = say("calendar.weekdays", lang).split(",")
                parts[0] += say("calendar.weekend", lang, days=say("calendar.day_sep", lang).join(
                    days[i] for i in np.flatnonzero(reg.weekend)))
        company = []
        if self.days_off:
            company.append(say("calendar.days_off", lang, n=len(self.days_off)))
        if self.workdays:
            company.append(say("calendar.workdays", lang, n=len(self.workdays)))
        if company:
            parts[0] += " + " + joined(company, lang)
        parts.append(", ".join(f"{a}–{b}" for a, b in self.hours))
        if self.tz != DEFAULT_TZ:
            parts.append(str(self.tz))
        text = "; ".join(parts)
        return f"{self.name}: {text}" if self.name else text

    def __repr__(self) -> str:
        return (
            f"Calendar(hours={', '.join(f'{a}–{b}' for a, b in self.hours)!r}, "
            f"region={self.region!r}, days_off={_count(self.days_off)}, "
            f"workdays={_count(self.workdays)}, tz={self.tz!r}"
            + (f", name={self.name!r}" if self.name else "") + ")"
        )

    def coverage_warnings(self, start: Any, end: Any) -> list[str]:
        """Warnings for dates in ``start .. end`` outside the years the holiday data covers,
        then the calendar's own :attr:`warnings` (how well it fits its log).

        Uncovered years are counted as weekends-only (plus company days), which overstates
        working time around holidays; the report should say so. None for ``region="none"``.
        """
        out = self._year_warnings(start, end) if self._region.years is not None else []
        return out + list(self.warnings)

    def _year_warnings(self, start: Any, end: Any) -> list[str]:
        days = np.concatenate([self._local_ns(start)[0], self._local_ns(end)[0]])
        days = days[days != _NAT] // _DAY_NS
        if days.size == 0:
            return []
        first, last = (dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in (days.min(), days.max()))
        reg = self._region
        lo, hi = reg.years  # type: ignore[misc]
        if reg.code == DEFAULT_REGION:
            source = Said("calendar.cn_years", source=reg.source, lo=lo, hi=hi)
            fix = Said("calendar.fix_cn")
        else:
            source = Said("calendar.region_years", source=reg.source, region=reg.code, lo=lo,
                          hi=hi)
            fix = Said("calendar.fix")
        out = []
        if first.year < lo:
            out.append(Said("calendar.before", lo=lo, first=first.isoformat(), source=source))
        if last.year > hi:
            out.append(Said("calendar.after", hi=hi, last=last.isoformat(), source=source,
                            fix=fix))
        return out

    def outside_office_hours(self, times: Any, slack: dt.timedelta = dt.timedelta(0)
                             ) -> np.ndarray:
        """Whether each instant falls outside working time: on a day off, or outside the office
        intervals widened by `slack` on both sides (half-open: with no slack 17:30 is outside).
        NaT -> False. Vectorised."""
        margin = int(pd.Timedelta(slack).value)
        t, bad = self._local_ns(times)
        out = np.zeros(t.shape, dtype=bool)
        if bad.all():
            return out
        tv = t[~bad]
        day = tv // _DAY_NS
        tod = tv - day * _DAY_NS
        tab = self._table(int(day.min()), int(day.max()))
        inside = np.zeros(tv.shape, dtype=bool)
        for lo, hi in self._bounds:
            inside |= (tod >= lo - margin) & (tod < hi + margin)
        out[~bad] = ~(tab.flags[day - tab.d0] & inside)
        return out

    # --- vectorised arithmetic ------------------------------------------------------------
    def is_workday(self, dates: Any) -> np.ndarray:
        """Whether each date (or the local date of each timestamp) is a workday; NaT -> False."""
        t, bad = self._local_ns(dates)
        out = np.zeros(t.shape, dtype=bool)
        if bad.all():
            return out
        day = t[~bad] // _DAY_NS
        tab = self._table(int(day.min()), int(day.max()))
        out[~bad] = tab.flags[day - tab.d0]
        return out

    def working_seconds(self, start: Any, end: Any) -> np.ndarray:
        """Working seconds from ``start`` to ``end``, element-wise (float array).

        Accepts Series, DatetimeIndex, datetime64 arrays, lists or scalars (a scalar broadcasts
        against an array; pandas indexes are ignored, pairing is by position). Tz-aware values
        are converted to the calendar's zone, naive ones are local time. NaT on either side
        gives NaN. ``end < start`` gives a negative value: ``f(a, b) == -f(b, a)``.
        """
        a, a_bad = self._local_ns(start)
        b, b_bad = self._local_ns(end)
        a, b, a_bad, b_bad = np.broadcast_arrays(a, b, a_bad, b_bad)
        bad = a_bad | b_bad
        out = np.full(a.shape, np.nan)
        if bad.all():
            return out
        av, bv = a[~bad], b[~bad]
        lo = int(min(av.min(), bv.min()) // _DAY_NS)
        hi = int(max(av.max(), bv.max()) // _DAY_NS)
        tab = self._table(lo, hi)
        out[~bad] = (self._w(tab, bv) - self._w(tab, av)) / _NS
        return out

    def working_hours(self, start: Any, end: Any) -> np.ndarray:
        """:meth:`working_seconds` in hours."""
        return self.working_seconds(start, end) / 3600.0

    def working_days(self, start: Any, end: Any) -> np.ndarray:
        """:meth:`working_seconds` in full working days (7 hours each by default)."""
        return self.working_seconds(start, end) / self.day_seconds

    def add_working_time(self, start: Any, seconds: Any) -> pd.DatetimeIndex:
        """The instant when ``seconds`` of working time have elapsed after ``start``.

        The inverse of :meth:`working_seconds`: ``working_seconds(s, add_working_time(s, x))
        == x``. A start outside office hours first moves to the next working instant (so
        ``x = 0`` gives that instant); work that ends exactly at a break ends there (11:00 + 1 h
        is 12:00, not 13:30). Negative ``x`` goes back in time. ``seconds`` may be numbers or
        timedeltas; NaT/NaN give NaT. Returns tz-aware timestamps in the calendar's zone.
        """
        t, t_bad = self._local_ns(start)
        x, x_bad = _duration_ns(seconds)
        t, x, t_bad, x_bad = np.broadcast_arrays(t, x, t_bad, x_bad)
        bad = t_bad | x_bad
        out = np.full(t.shape, _NAT, dtype=np.int64)
        if not bad.all():
            out[~bad] = self._place(t[~bad], x[~bad])
        local = pd.DatetimeIndex(out.view("datetime64[ns]"))
        # Local wall time back to the zone; only DST zones with office hours around the switch
        # can hit a missing or repeated hour (repeated -> standard time, missing -> shifted on).
        return local.tz_localize(
            self.tz, ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
        )

    # --- internals ------------------------------------------------------------------------
    def _local_ns(self, values: Any) -> tuple[np.ndarray, np.ndarray]:
        """Local wall-clock nanoseconds (int64, 1-d) and the NaT mask."""
        if isinstance(values, pd.DatetimeIndex):
            idx = values
        elif np.ndim(values) == 0:
            idx = pd.DatetimeIndex([values])
        else:
            idx = pd.DatetimeIndex(pd.to_datetime(values))
        if idx.tz is not None:
            idx = idx.tz_convert(self.tz).tz_localize(None)
        ns = np.asarray(idx.as_unit("ns").asi8, dtype=np.int64)
        return ns, ns == _NAT

    def _table(self, d0: int, d1: int) -> _Table:
        """Workday flags, cumulative working time and office intervals for days d0..d1."""
        days = np.arange(d0, d1 + 1, dtype=np.int64)
        flags = ~self._region.weekend[(days + 3) % 7]   # 1970-01-01 was a Thursday (weekday 3)
        off, on = _region_days(self._region, d0, d1)
        flags[np.isin(days, off)] = False
        flags[np.isin(days, on)] = True
        flags[np.isin(days, self._off)] = False
        flags[np.isin(days, self._on)] = True
        starts, ends = self._bounds[:, 0], self._bounds[:, 1]
        lengths = ends - starts
        cum = np.zeros(days.size + 1, dtype=np.int64)
        np.cumsum(flags * lengths.sum(), out=cum[1:])
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        work = days[flags]
        seg_start = (work[:, None] * _DAY_NS + starts[None, :]).ravel()
        seg_cum = (cum[:-1][flags][:, None] + offsets[None, :]).ravel()
        seg_len = np.broadcast_to(lengths, (work.size, lengths.size)).ravel()
        return _Table(d0, flags, cum, seg_start, seg_cum, seg_len)

    def _w(self, tab: _Table, t: np.ndarray) -> np.ndarray:
        """W(t) in ns from the start of day ``tab.d0`` (t: local ns, no NaT, inside the table)."""
        day = t // _DAY_NS
        tod = t - day * _DAY_NS
        i = day - tab.d0
        within = np.zeros(t.shape, dtype=np.int64)
        for lo, hi in self._bounds:
            within += np.clip(tod, lo, hi) - lo
        return tab.cum[i] + np.where(tab.flags[i], within, 0)

    def _place(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Local ns where W reaches W(t) + x (t, x: int64 ns, no missing values)."""
        lo, hi = int(t.min() // _DAY_NS), int(t.max() // _DAY_NS)
        # First guess of the calendar days the largest step needs (7/5 for weekends, slack for
        # holidays); doubled below until every target falls inside the table.
        day_ns = int(self._bounds[:, 1].sum() - self._bounds[:, 0].sum())
        back = int(max(0, -int(x.min())) // day_ns * 1.5) + 30
        fwd = int(max(0, int(x.max())) // day_ns * 1.5) + 30
        pos = x > 0
        while True:
            d0, d1 = max(lo - back, _MIN_DAY), min(hi + fwd, _MAX_DAY)
            tab = self._table(d0, d1)
            target = self._w(tab, t) + x
            if tab.seg_cum.size:
                early = target < tab.seg_cum[0]
                # x > 0 may end exactly at the last interval's end; x <= 0 needs an instant after.
                late = np.where(pos, target > tab.total, target >= tab.total)
                if not (early.any() or late.any()):
                    break
            else:
                early = late = np.ones(1, dtype=bool)
            if (early.any() and d0 == _MIN_DAY) or (late.any() and d1 == _MAX_DAY):
                raise CalendarError(
                    "working time out of range: the result would fall outside 1677–2262"
                )
            back, fwd = (back * 2 if early.any() else back), (fwd * 2 if late.any() else fwd)
        # x > 0: earliest instant reaching the target (ends at 12:00, not 13:30);
        # x <= 0: latest such instant (a start in a break moves on to the next interval).
        k = np.where(
            pos,
            np.searchsorted(tab.seg_cum, target, side="left"),
            np.searchsorted(tab.seg_cum, target, side="right"),
        ) - 1
        return tab.seg_start[k] + (target - tab.seg_cum[k])


def _count(days: Sequence[object]) -> str:
    return f"{len(days)} day" + ("" if len(days) == 1 else "s")


def _parse_clock(value: object, problems: list[str]) -> int | None:
    """Seconds after midnight for ``"HH:MM[:SS]"`` (up to ``"24:00"``) or ``datetime.time``."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    m = _CLOCK.match(value) if isinstance(value, str) else None
    if m:
        h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
        if mi < 60 and s < 60 and (h < 24 or (h == 24 and mi == s == 0)):
            return h * 3600 + mi * 60 + s
    problems.append(f"{value!r} is not a time of day like '09:00' (00:00–24:00)")
    return None


def _format_clock(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _check_hours(
    hours: object, problems: list[str]
) -> tuple[tuple[tuple[str, str], ...], np.ndarray]:
    """Validate office intervals; return them normalised and as an int64 (k, 2) ns array."""
    pairs: list[tuple[int, int]] = []
    items = list(hours) if isinstance(hours, Iterable) and not isinstance(hours, str) else None
    if not items:
        problems.append("hours must list at least one office interval like ('09:00', '12:00')")
        return (), np.zeros((0, 2), dtype=np.int64)
    for item in items:
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2:
            problems.append(f"office interval {item!r} is not a (start, end) pair")
            continue
        a, b = _parse_clock(item[0], problems), _parse_clock(item[1], problems)
        if a is None or b is None:
            continue
        if a >= b:
            problems.append(
                f"office interval {_format_clock(a)}–{_format_clock(b)} does not end after it "
                "starts (a night shift must be split at 24:00)"
            )
            continue
        pairs.append((a, b))
    pairs.sort()
    for (a1, b1), (a2, b2) in zip(pairs, pairs[1:]):
        if a2 < b1:
            problems.append(
                f"office intervals {_format_clock(a1)}–{_format_clock(b1)} and "
                f"{_format_clock(a2)}–{_format_clock(b2)} overlap"
            )
    normal = tuple((_format_clock(a), _format_clock(b)) for a, b in pairs)
    bounds = np.array(pairs, dtype=np.int64).reshape(-1, 2) * _NS
    return normal, bounds


def _check_days(values: object, what: str, problems: list[str]) -> tuple[dt.date, ...]:
    """Company days as sorted unique dates; accepts dates and ``"YYYY-MM-DD"`` strings."""
    if isinstance(values, (str, dt.date)) or not isinstance(values, Iterable):
        problems.append(f"{what} must be a list of dates, not {values!r}")
        return ()
    out: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            out.add(value)
            continue
        try:
            out.add(dt.date.fromisoformat(str(value).strip()))
        except ValueError:
            problems.append(f"{what}: {value!r} is not a date like '2025-12-31'")
    return tuple(sorted(out))


def _duration_ns(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (numbers) or timedeltas as int64 ns (1-d) and the missing mask."""
    if isinstance(values, (pd.Series, pd.Index)):
        kind_m = values.dtype.kind == "m"
        values = values.to_numpy() if kind_m else values.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(values, dt.timedelta):  # also pd.Timedelta
        values = pd.Timedelta(values).to_timedelta64()
    arr = np.atleast_1d(np.asarray(values))
    if arr.dtype.kind == "m":
        ns = arr.astype("timedelta64[ns]").astype(np.int64)
        return ns, ns == _NAT
    sec = arr.astype(float)
    bad = ~np.isfinite(sec)
    ns = np.where(bad, 0.0, np.round(sec * _NS)).astype(np.int64)
    return ns, bad
