"""What every source reader hands to the shared normaliser.

A reader's only job is to turn its source into rows with canonical column names (values still
raw: strings, numbers or datetimes) plus provenance. Parsing times, mapping outcome words,
inferring arrivals, setting bad rows aside and counting them happens once, in
`officemine.importing.normalize`, so every source is validated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.log.schema import STORED_ORDER

#: Columns a source may have (headers, distinct XES attribute keys). An export has a few
#: dozen; the work on columns grows faster than their count, so a tiny file declaring tens of
#: thousands would run for minutes: it is refused.
MAX_COLUMNS = 1_000

#: Characters that print as nothing (zero-width space, non-joiner, joiner, word joiner, and a
#: byte-order mark inside text): ``部门\u200b审核`` looks like 部门审核 but would be another node.
#: A regular expression (RE2 and Python), removed from headers and from every text value.
INVISIBLE = "[\u200b-\u200d\u2060\ufeff]"

#: Text columns are Arrow-backed: vectorised string kernels, no Python object per value.
TEXT = pd.StringDtype("pyarrow")

#: Columns of the set-aside file itself. A source column of the same name (or of a canonical
#: column the normaliser derives, such as ``seq``) is kept under ``src_<name>``: see `extra_name`.
SET_ASIDE_COLUMNS = ("source_row", "reason", "column", "detail")

# Column a reader may add so label rules can derive node and outcome from an activity label.
LABEL = "label"
# Column a reader may add for a lifecycle transition (XES start/complete); consumed by the reader.
SOURCE_ROW = "source_row"


@dataclass
class RawEvents:
    """Rows read from one source, canonical column names, raw values.

    `frame` holds any of `schema.SOURCE_FIELDS`, optionally `label`, `source_row` (a row number
    as a spreadsheet shows it, or a record id) and any extra source columns (kept as
    attributes). Time columns may hold strings, numbers (Excel serials, epoch s/ms) or
    datetimes; naive times are taken in the import time zone, aware ones converted to it.
    Text may come coded (`coded_text`): each distinct value held once.
    `set_aside` holds rows the reader already could not use, with columns `source_row`,
    `reason`, `column`, `detail`.
    """

    frame: pd.DataFrame
    source_file: str
    format: str
    rows_read: int
    set_aside: pd.DataFrame = field(default_factory=lambda: empty_set_aside())
    #: source column (or API field) behind each canonical column, for the report
    columns_used: dict[str, str] = field(default_factory=dict)
    #: assumptions made while reading, shown in the import report
    notes: list[str] = field(default_factory=list)
    #: True when the reader already mapped outcomes to the canonical vocabulary
    outcomes_canonical: bool = False
    #: column holding the source's own record id (XES ``id``): rows with different ids are
    #: distinct records even when case, node, person and time coincide
    record_id: str | None = None
    #: column holding the source's own link from an instance to the earlier attempt it
    #: continues (DingTalk mainProcessInstanceId, Feishu modified_instance_code); a mapping's
    #: ``[linking] field`` overrides it (`officemine.importing.linking`)
    link_field: str | None = None


def group_ids(keys: list[np.ndarray]) -> np.ndarray:
    """One id per distinct combination of the keys (codes >= -1), numbered in order of
    first appearance. Keys are packed into one int64 while their product fits."""
    combined = np.zeros(len(keys[0]) if keys else 0, dtype=np.int64)
    size = 1
    for key in keys:
        key = key.astype(np.int64) + 1
        width = int(key.max(initial=0)) + 1
        if size * width >= 1 << 62:
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined = combined * width + key
        size *= width
    ids, _ = pd.factorize(combined)
    return ids


def coded_text(codes: np.ndarray, values: pa.Array) -> pd.Series:
    """Text as codes into its distinct `values` (code -1: missing), an Arrow dictionary column.

    An export repeats a few hundred nodes, people and dates over millions of rows: held this
    way a value is stored once and costs pandas no Python object per row.
    """
    width = np.int8 if len(values) < 1 << 7 else np.int16 if len(values) < 1 << 15 else np.int32
    indices = pa.array(codes.astype(width, copy=False), mask=codes < 0)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.DictionaryArray.from_arrays(indices, values)))


def decoded_text(codes: np.ndarray, values: pa.Array) -> pd.Series:
    """The same as `coded_text`, spelled out: a plain text column (`TEXT`) of each row's value."""
    return pd.Series(pd.arrays.ArrowStringArray(
        pc.take(values.cast(pa.large_string()), pa.array(codes, mask=codes < 0))))


def is_coded(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_dictionary(
        series.dtype.pyarrow_dtype)


def text_codes(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """(codes, distinct values) of a `coded_text` column; code -1 is a missing value."""
    return dictionary_codes(series.array.__arrow_array__())


def dictionary_codes(column: pa.ChunkedArray | pa.DictionaryArray) -> tuple[np.ndarray, pa.Array]:
    """(codes, distinct values) of an Arrow dictionary column; code -1 is a null."""
    if isinstance(column, pa.DictionaryArray):
        column = pa.chunked_array([column])
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), pa.array([], column.type.value_type)
    column = column.unify_dictionaries() if column.num_chunks > 1 else column
    codes = [pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
             for chunk in column.chunks]
    return (np.concatenate(codes) if len(codes) > 1 else codes[0]), column.chunk(0).dictionary


def extra_name(name: str, taken) -> str:
    """The name a source column not mapped to a canonical one is kept under: its own, unless
    officemine uses that name itself (canonical columns, the set-aside file's columns) or it
    is `taken` already; then ``src_<name>`` (``src_<name>_2``, … if that is taken too)."""
    if name not in taken and name not in STORED_ORDER and name not in SET_ASIDE_COLUMNS:
        return name
    candidate, n = f"src_{name}", 1
    while candidate in taken:
        n += 1
        candidate = f"src_{name}_{n}"
    return candidate


def empty_set_aside() -> pd.DataFrame:
    return pd.DataFrame({"source_row": pd.Series(dtype="string"),
                         "reason": pd.Series(dtype="string"),
                         "column": pd.Series(dtype="string"),
                         "detail": pd.Series(dtype="string")})


def set_aside_rows(rows: list[dict]) -> pd.DataFrame:
    """Build a set-aside frame from dicts with source_row, reason, column, detail."""
    if not rows:
        return empty_set_aside()
    frame = pd.DataFrame(rows, columns=["source_row", "reason", "column", "detail"])
    return frame.astype("string")
