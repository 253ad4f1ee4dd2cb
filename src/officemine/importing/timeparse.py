"""Vectorised parsing of the time formats OA exports contain.

Handled: ISO 8601 (with or without offset), ``2025/3/5 9:05``, ``2025-03-05 09:05:00``,
``2025年3月5日 09:05``, ``2025.3.5``, dates alone, Excel serial numbers (days since
1899-12-30), epoch seconds and epoch milliseconds, and python/pandas datetimes. Separate date
and time columns are combined by `combine_date_time`.

Each format is tried on the values still unparsed, with an explicit format string, so a
million values parse in about a second and a value is never guessed day-first.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Explicit formats tried in order on normalised strings (date separators unified to "-").
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d %H:%M:%S",
            "%Y%m%d%H%M%S", "%Y%m%d %H:%M", "%Y%m%d")
# RE2 rewrites applied in order (Arrow kernels, no Python per value)
_REWRITES = (
    (r"\s+", " "),
    (r"^\s|\s$", ""),
    (r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", r"\1-\2-\3"),
    (r"(\d{1,2})\s*[时点]\s*(\d{1,2})\s*分\s*(?:(\d{1,2})\s*秒)?", r"\1:\2:0\3"),
    (r":0(\d{2})$", r":\1"),
    (r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})", r"\1-\2-\3"),
    (r"(\d)T(\d)", r"\1 \2"),
    (r"(\d{1,2}:\d{2}:\d{2})[.,]\d+$", r"\1"),   # sub-second digits: irrelevant for waits
    (r"^(\S+)\s*上午\s*", r"\1 "),
)
_AWARE = r"(?:[+-]\d{2}:?\d{2}|Z)$"
_NUMBER = r"^\d+(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")

# Plausible ranges (1990–2100) tell the numeric kinds apart.
_SERIAL = (32874.0, 73051.0)          # Excel day serials
_EPOCH_S = (631152000.0, 4102444800.0)
_EPOCH_MS = (_EPOCH_S[0] * 1e3, _EPOCH_S[1] * 1e3)


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

    out = pd.Series(pd.NaT, index=values.index, dtype=dtype)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    text = values
    if kind not in ("string", "empty"):
        # python datetimes and numbers mixed in (Excel cells): convert those, the rest as text
        obj = values.astype(object)
        stamp = obj.map(lambda v: isinstance(v, (dt.datetime, dt.date)))
        for idx, v in obj[stamp].items():
            ts = pd.Timestamp(v)
            out.loc[idx] = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
        text = obj.where(~stamp).map(lambda v: None if v is None or v is pd.NA or (
            isinstance(v, float) and np.isnan(v)) else (repr(v) if isinstance(v, float) else str(v)))
    arr = pa.array(text.astype(object).where(text.notna(), None), type=pa.string(),
                   from_pandas=True)
    for pattern, replacement in _REWRITES:
        arr = pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)
    present = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False).to_numpy(
        zero_copy_only=False) | out.notna().to_numpy()
    todo = present & out.isna().to_numpy()

    numeric = todo & pc.fill_null(pc.match_substring_regex(arr, _NUMBER), False).to_numpy(
        zero_copy_only=False)
    if numeric.any():
        num = pd.Series(np.nan, index=values.index)
        num[numeric] = pc.cast(pc.filter(arr, pa.array(numeric)), pa.float64()).to_numpy()
        serial = num.between(*_SERIAL).to_numpy()
        if serial.any():
            secs = np.round(num[serial].to_numpy() * 86400.0).astype("int64")
            local = _EXCEL_EPOCH + pd.to_timedelta(secs, unit="s")
            out[serial] = _localize(pd.Series(local, index=out.index[serial]), tz)
        secs_mask = num.between(*_EPOCH_S).to_numpy()
        if secs_mask.any():
            out[secs_mask] = pd.to_datetime(np.round(num[secs_mask].to_numpy()).astype("int64"),
                                            unit="s", utc=True).tz_convert(tz)
        ms_mask = num.between(*_EPOCH_MS).to_numpy()
        if ms_mask.any():
            out[ms_mask] = pd.to_datetime(np.round(num[ms_mask].to_numpy()).astype("int64"),
                                          unit="ms", utc=True).tz_convert(tz)
        todo &= ~(serial | secs_mask | ms_mask)

    aware = todo & pc.fill_null(pc.match_substring_regex(arr, _AWARE), False).to_numpy(
        zero_copy_only=False)
    if aware.any():
        strings = pd.Series(pc.filter(arr, pa.array(aware)).to_pylist(),
                            index=values.index[aware])
        conv = pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
        ok = conv.notna()
        out[conv.index[ok]] = conv[ok].dt.tz_convert(tz)
        todo[conv.index[ok]] = False

    for fmt in _FORMATS:
        if not todo.any():
            break
        parsed = pc.strptime(arr, format=fmt, unit="us", error_is_null=True)
        hit = todo & parsed.is_valid().to_numpy(zero_copy_only=False)
        if hit.any():
            local = pd.Series(pc.filter(parsed, pa.array(hit)).to_numpy(zero_copy_only=False),
                              index=values.index[hit])
            out[hit] = _localize(local, tz)
            todo &= ~hit
    failed = pd.Series(present, index=values.index) & out.isna()
    return out, failed


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")


def combine_date_time(dates: pd.Series, times: pd.Series) -> pd.Series:
    """Join a date column and a time-of-day column into one string per row.

    Accepts strings (``2025/3/5`` + ``9:05``), Excel day serials and day fractions, and
    python date/time objects; a missing time gives the date alone, a missing date gives a
    missing value (the row is then set aside for a missing time).
    """
    d = dates.map(_date_text)
    t = times.map(_time_text)
    joined = d.where(t.isna(), d + " " + t)
    return joined.where(d.notna(), None)


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
