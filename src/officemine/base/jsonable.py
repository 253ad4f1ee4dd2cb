"""One way to turn analysis results into JSON: numpy and pandas values made plain."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any, digits: int | None = None) -> Any:
    """A JSON-ready Python value.

    numpy/pandas scalars become Python numbers; NaN, infinity, NA and NaT become None (JSON
    has no NaN); timestamps become ISO 8601 text; lists, tuples, arrays and dicts are
    converted item by item. `digits` rounds floats (e.g. 6, to keep files diff-friendly).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, digits) if digits is not None else value
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v, digits) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, digits) for k, v in value.items()}
    return value


def records(frame: pd.DataFrame, digits: int | None = None) -> list[dict]:
    """A DataFrame as a list of JSON-ready row dicts."""
    return [{str(k): plain(v, digits) for k, v in row.items()} for row in frame.to_dict("records")]
