"""The machine-readable companion of a report: a JSON file and an .xlsx workbook of tables.

Text from the log goes into spreadsheet cells, and a cell that starts with ``= + - @`` (or a
tab or carriage return) would be read by Excel as a formula: the classic CSV/formula
injection. Such text is written as a string with a leading apostrophe, never as a formula
(`officemine.base.atomic.safe_cell`, shared with every CSV officemine writes). Both files are
written atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from officemine.base.atomic import atomic_path, safe_cell, write_text
from officemine.base.jsonable import plain


def write_xlsx(tables: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One sheet per table (sheet names cut to Excel's 31 characters)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    book = Workbook()
    book.remove(book.active)
    for name, frame in tables.items():
        sheet = book.create_sheet(title=_sheet_name(name))
        sheet.append([safe_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)])
            sheet.column_dimensions[get_column_letter(i)].width = min(max(8, width * 1.6), 60)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"          # text stays text, even if it looks like '=…'
        sheet.freeze_panes = "A2"
    with atomic_path(path) as temp:
        book.save(temp)
    return path


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (list, dict, tuple)):
        return safe_cell(json.dumps(value, ensure_ascii=False, default=str))
    return safe_cell(value) if isinstance(value, str) else value


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, "_")
    return name[:31]


def write_json(data: dict, path: str | Path) -> Path:
    path = Path(path)
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))
    return path


def _json_default(value):
    converted = plain(value)
    return converted if converted is not value else str(value)
