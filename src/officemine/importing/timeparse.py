"""Vectorised parsing of the time formats OA exports contain.

Handled: ISO 8601 (with or without offset), ``2025/3/5 9:05``, ``2025-03-05 09:05:00``,
``2025年3月5日 09:05``, ``2025.3.5``, dates alone, Excel serial numbers (days since
1899-12-30), epoch seconds and epoch milliseconds, and python/pandas datetimes. Separate date
and time columns are combined by `combine_date_time`.

Each format is tried on the values still unparsed, with an explicit format string, so a
million values parse in about a second and a value is never guessed day-first.

Choices a value could be read two ways for:

* ten digits: ``2025030509`` is read as yyyymmddHH (2025-03-05 09:00) when it is a valid date
  and hour from 1990 on, else as epoch seconds. The two never compete for a plausible time:
  epoch seconds from 2001 to 2033 begin with 1, which as a year is before 1990, and a
  yyyymmddHH of the 1990s read as epoch seconds would be in 2033.
* in a zone with daylight saving time, a wall time that occurs twice (clocks set back) is
  taken as its first occurrence, as Python's ``fold=0`` does; one that does not exist (clocks
  set forward) is moved to the first time that does (02:30 → 03:00).

Times before 1990 or more than a year after the import are read, then set aside as
``implausible_time`` by the normaliser (`implausible`): a typo (3025, 0001) or a placeholder
(9999-12-31) would otherwise stretch every analysis over centuries.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.importing.raw import coded_text, decoded_text, is_coded, text_codes

# Explicit formats tried in order on normalised strings (date separators unified to "-").
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d %H:%M:%S",
            "%Y%m%d%H%M%S", "%Y%m%d%H%M", "%Y%m%d %H:%M", "%Y%m%d")
# RE2 rewrites applied in order (Arrow kernels, no Python per value)
_REWRITES = (
    (r"\s+", " "),
    (r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", r"\1-\2-\3"),
    (r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分\s*(?:(\d{1,2})\s*秒)?", r"\1:\2:0\3"),
    (r":0(\d{2})$", r":\1"),
    (r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3"),
    (r"(\d)T(\d)", r"\1 \2"),
    (r"(\d{1,2}:\d{2}:\d{2})[.,]\d+$", r"\1"),   # sub-second digits: irrelevant for waits
    (r"^(\S+)\s*上午\s*", r"\1 "),
)
_AWARE = r"\d:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:[+-]\d{2}:?\d{2}|Z)$"   # a time, then its zone
_NUMBER = r"^\d+(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")

# Plausible ranges (1990–2100) tell the numeric kinds apart.
_SERIAL = (32874.0, 73051.0)          # Excel day serials
_EPOCH_S = (631152000.0, 4102444800.0)
_EPOCH_MS = (_EPOCH_S[0] * 1e3, _EPOCH_S[1] * 1e3)
# Beyond these a time has no place in a zone-aware column (a day's margin for any zone)
_FIRST, _LAST = np.datetime64("0001-01-02", "us"), np.datetime64("9999-12-31T23:59:59", "us")
_DAY = np.timedelta64(1, "D")
#: The window of plausible times: from `EARLIEST` to `AHEAD` after the import.
EARLIEST = np.datetime64("1990-01-01T00:00:00", "us")
AHEAD = np.timedelta64(366, "D")


# Formats tried on the raw text before any rewriting: what most exports hold.
_FAST_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_times(values: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """Parse raw time values to tz-aware timestamps in `tz`.

    Returns (times, failed): `failed` is True where a value was present but not understood;
    empty values give NaT and are not failures. Naive values are taken as local time in `tz`.
    """
    values = pd.Series(values).reset_index(drop=True)
    dtype = f"datetime64[us, {tz}]"
    none_failed = pd.Series(False, index=values.index)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(tz).astype(dtype), none_failed
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return _localize(values, tz).astype(dtype), none_failed

    n = len(values)
    naive = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")   # local wall time
    utc = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")     # absolute instants
    text = values
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        # python datetimes and numbers mixed in (Excel cells): convert those, the rest as text
        obj = values.astype(object)
        stamp = obj.map(lambda v: isinstance(v, (dt.datetime, dt.date))).to_numpy(bool)
        for i in np.flatnonzero(stamp):
            ts = pd.Timestamp(obj.iat[i])
            if ts.tzinfo is None:
                naive[i] = ts.to_datetime64()
            else:
                utc[i] = ts.tz_convert("UTC").tz_localize(None).to_datetime64()
        text = obj.where(~stamp).map(lambda v: None if _missing(v) else (
            repr(v) if isinstance(v, float) else str(v)))
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        arr = _arrow_text(text)         # already Arrow: no Python string per value
    else:
        arr = pa.array(text.astype(object).where(text.notna(), None), type=pa.string(),
                       from_pandas=True)
    arr = pc.utf8_trim_whitespace(arr)
    present = _np(pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False))
    present |= ~np.isnat(naive) | ~np.isnat(utc)
    todo = present & np.isnat(naive) & np.isnat(utc)

    def try_formats(sub: pa.Array, positions: np.ndarray, formats) -> np.ndarray:
        """Parse `sub` (the values at `positions`) with each format; returns still-unparsed mask."""
        left = np.ones(len(sub), dtype=bool)
        for fmt in formats:
            if not left.any():
                break
            parsed = pc.strptime(sub, format=fmt, unit="us", error_is_null=True)
            hit = left & _np(parsed.is_valid()) & _day_as_written(sub, parsed, fmt)
            if hit.any():
                naive[positions[hit]] = _np(parsed).astype("datetime64[us]")[hit]
                left &= ~hit
        return left

    positions = np.flatnonzero(todo)
    if len(positions):
        sub = pc.take(arr, pa.array(positions))
        left = try_formats(sub, positions, _FAST_FORMATS)
        positions, sub = positions[left], pc.filter(sub, pa.array(left))
    if len(positions):
        for pattern, replacement in _REWRITES:
            sub = pc.replace_substring_regex(sub, pattern=pattern, replacement=replacement)
        numeric = _np(pc.fill_null(pc.match_substring_regex(sub, _NUMBER), False))
        handled = np.zeros(len(sub), dtype=bool)   # numbers that are serials or epochs
        hours = numeric & _np(pc.fill_null(pc.match_substring_regex(sub, r"^\d{10}$"), False))
        if hours.any():                 # yyyymmddHH before epoch seconds: see the module doc
            left = try_formats(pc.filter(sub, pa.array(hours)), positions[hours], ("%Y%m%d%H",))
            read = np.flatnonzero(hours)[~left]
            early = naive[positions[read]] < EARLIEST
            naive[positions[read[early]]] = np.datetime64("NaT")     # 1xxx: epoch seconds
            handled[read[~early]] = True
            numeric &= ~handled
        if numeric.any():
            num = _np(pc.cast(pc.filter(sub, pa.array(numeric)), pa.float64()))
            where = positions[numeric]
            serial = (num >= _SERIAL[0]) & (num <= _SERIAL[1])
            secs = (num >= _EPOCH_S[0]) & (num <= _EPOCH_S[1])
            millis = (num >= _EPOCH_MS[0]) & (num <= _EPOCH_MS[1])
            naive[where[serial]] = (np.datetime64("1899-12-30T00:00:00", "us") + np.round(
                num[serial] * 86400e6).astype("int64").astype("timedelta64[us]"))
            utc[where[secs]] = np.round(num[secs] * 1e6).astype("int64").astype("datetime64[us]")
            utc[where[millis]] = (np.round(num[millis]).astype("int64") * 1000).astype(
                "datetime64[us]")
            handled[np.flatnonzero(numeric)[serial | secs | millis]] = True
        aware = _np(pc.fill_null(pc.match_substring_regex(sub, _AWARE), False)) & ~numeric
        if aware.any():
            strings = pd.Series(pc.filter(sub, pa.array(aware)).to_pylist())
            utc[positions[aware]] = _aware_utc(strings)
        rest = ~(handled | aware)
        if rest.any():
            try_formats(pc.filter(sub, pa.array(rest)), positions[rest], _FORMATS)

    for times in (naive, utc):         # beyond what a zone-aware time can hold: not a time
        times[(times < _FIRST) | (times > _LAST)] = np.datetime64("NaT")
    # Both kinds as UTC instants, then one conversion to `tz` (on integers: no Python
    # datetime is made, so a time near year 9999 or 1 converts too).
    local = _localize(pd.Series(naive), tz).dt.tz_convert("UTC").dt.tz_localize(None)
    instants = np.where(np.isnat(utc), local.to_numpy("datetime64[us]"), utc)
    instants[(instants < _FIRST + _DAY) | (instants > _LAST - _DAY)] = np.datetime64("NaT")
    out = pd.Series(instants).dt.tz_localize("UTC").dt.tz_convert(tz).astype(dtype)
    failed = pd.Series(present, index=values.index) & out.isna()
    return out, failed


def _aware_utc(strings: pd.Series) -> np.ndarray:
    """ISO times with a zone as naive UTC (NaT where not one). pandas refuses some values
    outright instead of coercing them (years outside 1–9999): those are tried one by one."""
    try:
        conv = pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
    except (ValueError, OverflowError, NotImplementedError):
        conv = pd.Series([_one_aware(s) for s in strings], dtype="datetime64[us, UTC]")
    return conv.dt.tz_localize(None).to_numpy("datetime64[us]")


def _one_aware(text: str):
    try:
        return pd.to_datetime(text, format="ISO8601", utc=True)
    except (ValueError, OverflowError, NotImplementedError):
        return pd.NaT


def _arrow_text(text: pd.Series) -> pa.Array:
    array = text.array.__arrow_array__()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    return array.cast(pa.string())


def _day_as_written(text: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray:
    """Arrow's strptime rolls impossible days over (2024-02-30 -> 03-01); such a value
    must be refused, so the parsed day has to equal the day written in the text."""
    pattern = (r"^\d{4}(?:\d{2})(?P<day>\d{2})" if fmt.startswith("%Y%m%d")
               else r"^\d{4}[-/]\d{1,2}[-/](?P<day>\d{1,2})")
    written = pc.struct_field(pc.extract_regex(text, pattern), [0])
    same = pc.equal(pc.cast(written, pa.int64()), pc.day(parsed))
    return _np(pc.fill_null(same, False))


def _np(array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    """Wall times in `tz`: a repeated one is its first occurrence (``ambiguous`` True: the
    daylight-saving reading), a skipped one moves to the first that exists."""
    return naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), dtype=bool),
                                nonexistent="shift_forward")


def implausible(times: pd.Series, now: np.datetime64 | None = None) -> np.ndarray:
    """True where a parsed time lies outside the plausible window: before 1990, or more than
    a year after `now` (the import). Missing times are not implausible."""
    now = np.datetime64(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "us") \
        if now is None else now
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    utc = times.to_numpy("datetime64[us]")
    return ~np.isnat(utc) & ((utc < EARLIEST) | (utc > now + AHEAD))


def combine_date_time(dates: pd.Series, times: pd.Series) -> pd.Series:
    """Join a date column and a time-of-day column into one string per row.

    Accepts strings (``2025/3/5`` + ``9:05``), Excel day serials and day fractions, and
    python date/time objects; a missing time gives the date alone, a missing date gives a
    missing value (the row is then set aside for a missing time).

    Two coded columns (`raw.coded_text`, as `tabular.read_table(coded=True)` gives them) are
    joined once per distinct (date, time) pair, and the result is coded too.
    """
    if is_coded(dates) and is_coded(times):
        return _combine_coded(dates, times)
    d, t = _texts(dates, _date_text, r"^\d{5}(?:\.0+)?$"), _texts(times, _time_text, r"^0?\.\d+$")
    joined = d.where(t.isna(), d + " " + t)
    return joined.where(d.notna(), None)


def _combine_coded(dates: pd.Series, times: pd.Series) -> pd.Series:
    (date_code, date_values), (time_code, time_values) = text_codes(dates), text_codes(times)
    width = len(time_values) + 1                     # time code + 1: -1 (missing) is 0
    pair, pairs = pd.factorize(date_code.astype(np.int64) * width + time_code + 1)
    date_codes, time_codes = pairs // width, pairs % width - 1      # floor: date -1 stays -1
    joined = combine_date_time(decoded_text(date_codes, date_values),
                               decoded_text(time_codes, time_values))
    codes, uniques = pd.factorize(joined)          # pairs that join alike share a code
    result = coded_text(codes[pair], pa.array(uniques, pa.large_string()))
    result.index = dates.index
    return result


def _texts(values: pd.Series, convert, special: str) -> pd.Series:
    """Values as text: strings are stripped in one vector operation; only non-strings
    (Excel cells) and the special string forms (serials, day fractions) go per value."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return values.map(convert).astype("string")
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    odd = text.str.contains(special, regex=True).fillna(False).astype(bool)
    if odd.any():
        text[odd] = text[odd].map(convert)
    return text


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and np.isnan(value))


def _date_text(value) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and _SERIAL[0] <= value <= _SERIAL[1]:
        return (_EXCEL_EPOCH + pd.Timedelta(days=int(value))).strftime("%Y-%m-%d")
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{5}(\.0+)?", text) and _SERIAL[0] <= float(text) <= _SERIAL[1]:
        return (_EXCEL_EPOCH + pd.Timedelta(days=int(float(text)))).strftime("%Y-%m-%d")
    return text


def _time_text(value) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, (int, float)) and 0 <= value < 1:
        seconds = round(value * 86400)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"0?\.\d+", text):
        return _time_text(float(text))
    if re.fullmatch(r"\d{1,2}:\d{1,2}", text):
        return text + ":00"
    return text
