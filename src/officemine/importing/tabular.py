"""CSV, TSV and Excel exports: encodings, delimiters, header synonyms, date + time columns.

Headers are matched to canonical columns by synonyms (Chinese and English), unless a mapping
names the columns. A guess that has two candidates stops with an error listing both: a wrong
guess would corrupt every statistic quietly, a stop costs one line of mapping.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from officemine.base.errors import ColumnGuessError, SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.raw import (INVISIBLE, LABEL, MAX_COLUMNS, SOURCE_ROW, RawEvents, coded_text,
                                      decoded_text, dictionary_codes, empty_set_aside, extra_name,
                                      set_aside_rows)
from officemine.importing.timeparse import combine_date_time
from officemine.log.schema import C, normalize_word
from officemine.base.text import Said

# canonical column -> header synonyms (compared after `normalize_word`)
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    C.case_id: ("流程编号", "请求id", "请求编号", "单号", "单据编号", "流程id", "实例id", "审批编号",
                "申请单号", "流程实例id", "case id", "caseid", "requestid", "request id",
                "instance id", "process instance id", "case concept name", "case"),
    C.node: ("节点名称", "节点", "环节", "环节名称", "步骤", "步骤名称", "审批节点", "当前节点",
             "node", "node name", "step", "step name", "task name"),
    C.outcome: ("操作类型", "审批结果", "处理结果", "操作", "审批动作", "处理方式", "操作名称",
                "outcome", "action", "result", "decision", "operation", "operation type"),
    C.resource: ("操作人", "处理人", "审批人", "操作者", "办理人", "执行人", "操作人员",
                 "resource", "user", "operator", "approver", "org resource", "actor", "performer"),
    C.dept: ("操作人部门", "处理人部门", "审批人部门", "办理人部门", "部门", "所在部门",
             "dept", "department", "org group"),
    C.comment: ("签字意见", "审批意见", "处理意见", "意见", "备注", "批注", "comment", "comments",
                "remark", "remarks", "opinion"),
    C.process_type: ("流程类型", "流程名称", "工作流", "工作流名称", "业务类型", "审批类型",
                     "process type", "process", "workflow", "workflow name", "process name"),
    C.amount: ("金额", "报销金额", "合同金额", "申请金额", "总金额", "amount", "total amount"),
    C.urgency: ("紧急程度", "缓急", "缓急程度", "优先级", "urgency", "priority", "urgent"),
    C.applicant: ("申请人", "发起人", "创建人", "拟稿人", "提交人", "applicant", "requester",
                  "initiator", "creator", "originator"),
    C.applicant_dept: ("申请部门", "发起部门", "申请人部门", "发起人部门", "拟稿部门",
                       "applicant dept", "applicant department", "requester department"),
    C.title: ("标题", "流程标题", "请求标题", "主题", "事由", "title", "subject", "request title"),
    LABEL: ("活动", "活动名称", "activity", "activity name", "concept name", "event name"),
}
# time columns: full date-times, and date-only columns that pair with a time-of-day column
TIME_SYNONYMS: dict[str, tuple[str, ...]] = {
    C.arrived_at: ("接收时间", "到达时间", "收到时间", "接收日期时间", "送达时间", "arrived at",
                   "arrival time", "received at", "receive time", "received time"),
    C.acted_at: ("操作时间", "处理时间", "审批时间", "办理时间", "完成时间", "操作日期时间",
                 "acted at", "operate time", "operation time", "action time", "approval time",
                 "timestamp", "time timestamp", "time", "event time"),
}
DATE_SYNONYMS: dict[str, tuple[str, ...]] = {
    C.arrived_at: ("接收日期", "到达日期", "收到日期", "送达日期", "arrival date", "receive date",
                   "received date"),
    C.acted_at: ("操作日期", "处理日期", "审批日期", "办理日期", "完成日期", "operate date",
                 "operation date", "action date", "approval date", "date"),
}

_SNIFF_BYTES = 1 << 20


# --- reading ---------------------------------------------------------------------------------

def detect_encoding(path: Path, declared: str | None = None,
                    sniff_bytes: int | None = None) -> str:
    """BOM first, then strict UTF-8, then GB18030 (a superset of GBK); else a fatal error.

    sniff_bytes: judge by the file's first bytes only (a guess: `read_table` reads the
    whole file with it and checks the whole file only when that read fails).
    """
    if declared:
        return declared
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding, sniff_bytes):
            return encoding
    # the row to name: where the encoding that reads furthest stops
    row = max((_first_bad_line(path, e) or 0 for e in ("utf-8", "gb18030")), default=0)
    raise SourceError("the file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 or "
                      "set `encoding` in a mapping", file=str(path), row=row or None)


def _decodes(path: Path, encoding: str, limit: int | None = None) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    read = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_SNIFF_BYTES):
                decoder.decode(chunk)
                read += len(chunk)
                if limit is not None and read >= limit:
                    return True          # a multi-byte character may straddle the limit
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_line(path: Path, encoding: str) -> int | None:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def _sniff_delimiter(first_line: str, path: Path, declared: str | None) -> str:
    if declared:
        return "\t" if declared in ("\\t", "tab") else declared
    if path.suffix.lower() == ".tsv":
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(path: Path, mapping: Mapping,
               coded: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read a delimited text file as strings, keeping every record accounted for.

    Returns (frame with the original headers plus `source_row`, set-aside malformed rows,
    info). `source_row` is the row number a spreadsheet shows (header = row 1).

    coded: give the columns as `raw.coded_text` (codes into each column's distinct values)
    and `source_row` as integers: an export repeats a few values over millions of rows, and
    `build_log` works on each distinct value once. Otherwise the columns are Arrow-backed
    strings.
    """
    path = Path(path)
    if mapping.encoding:
        return _read_table(path, mapping, mapping.encoding, coded)
    # The encoding is guessed from the first 4 MiB and the file read with it: decoding a
    # whole GBK file only to check it costs as much as reading it. Arrow decodes strictly,
    # so a file that is not what its start suggests fails the read; only then is the whole
    # file checked, which gives exactly the encoding (or the error) a full check gives.
    guess = detect_encoding(path, sniff_bytes=_GUESS_BYTES)
    try:
        return _read_table(path, mapping, guess, coded)
    except SourceError:
        encoding = detect_encoding(path)
        return _read_table(path, mapping, encoding, coded)


_GUESS_BYTES = 4 << 20


#: Bounds on what one table may hold (with `raw.MAX_COLUMNS`), so that a tiny hostile file
#: cannot cost minutes or gigabytes; an export has short headers and values.
MAX_HEADER_CELL = 1_000                  # characters in one header cell
MAX_CELL_BYTES = 1 << 20                 # bytes in one value (Excel itself stops at 32,767 chars)
_MAX_HEADER_LINE = MAX_COLUMNS * (MAX_HEADER_CELL + 3)


def _read_table(path: Path, mapping: Mapping, encoding: str,
                coded: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    first_line = _header_line(path, encoding)
    if not first_line.strip():
        raise SourceError("the file is empty or its first line (the header) is blank",
                          file=str(path), row=1)
    if len(first_line) > _MAX_HEADER_LINE:
        raise SourceError(f"the first line (the header) is longer than {_MAX_HEADER_LINE:,} "
                          "characters: not the header of an export", file=str(path), row=1)
    delimiter = _sniff_delimiter(first_line, path, mapping.delimiter)
    names, renamed = _dedupe(_header_cells(first_line, delimiter, path))
    info = {"encoding": encoding, "delimiter": delimiter, "renamed": renamed}

    bad: list[tuple[int, int, str]] = []        # (row number, fields, text) of malformed records
    columns = _read_coded(path, names, delimiter, encoding)
    if columns is None:
        columns = _read_exact(path, names, delimiter, encoding, bad)
    n = len(columns[names[0]][0]) if names else 0
    # Every record has a row number as a spreadsheet shows it (header = 1, blank lines and
    # malformed records included): the rows read are those numbers less the malformed ones.
    bad_rows = np.array(sorted(number for number, _, _ in bad), dtype=np.int64)
    rows = np.setdiff1d(np.arange(2, n + len(bad) + 2, dtype=np.int64), bad_rows,
                        assume_unique=True)
    table = _Records(path, names, delimiter, columns, rows, bad)
    table.check()
    empty = np.logical_and.reduce([codes < 0 for codes, _ in columns.values()]) if n else \
        np.zeros(0, dtype=bool)
    info["empty_rows"] = int(empty.sum())
    if info["empty_rows"]:                  # blank lines and rows of empty cells: not records
        keep = ~empty
        rows = rows[keep]
        columns = {name: (codes[keep], values) for name, (codes, values) in columns.items()}
    make = coded_text if coded else decoded_text
    frame = pd.DataFrame({name: make(*columns[name]) for name in names},
                         index=pd.RangeIndex(len(rows)))
    del columns
    pa.default_memory_pool().release_unused()    # the parse buffers: give them back
    frame[SOURCE_ROW] = rows if coded else rows.astype(str)
    aside = set_aside_rows([
        {"source_row": str(number), "reason": "malformed_record", "column": "",
         "detail": f"line {table.line(number)}: {fields} fields, header has {len(names)}: "
                   f"{text[:200]}"}
        for number, fields, text in sorted(bad)])
    return frame, aside, info


def _header_line(path: Path, encoding: str) -> str:
    """The first line, decoded on its own (a bad byte further down is not the header's)."""
    try:
        if codecs.lookup(encoding).name.startswith("utf-16"):   # "\n" is two bytes there
            with path.open("r", encoding=encoding, newline="") as fh:
                return fh.readline(_MAX_HEADER_LINE + 1)
        with path.open("rb") as fh:     # ASCII-compatible: "\n" is never inside a character
            line = fh.readline(4 * _MAX_HEADER_LINE)
        end = re.search(rb"\r(?!\n)", line)       # lines ended by "\r" alone (old Macs)
        return (line[:end.end()] if end else line).decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {exc}", file=str(path), row=1) from None


def _header_cells(line: str, delimiter: str, path: Path) -> list[str]:
    """The header's cells, stripped of spaces and invisible characters; bounded in count and
    size."""
    try:
        cells = next(csv.reader([line.lstrip("\ufeff")], delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(f"the header cannot be split into columns ({exc}); a header cell "
                          f"holds at most {MAX_HEADER_CELL:,} characters",
                          file=str(path), row=1) from None
    if len(cells) > MAX_COLUMNS:
        raise SourceError(f"the header has {len(cells):,} columns; at most {MAX_COLUMNS:,} are "
                          "read (an export has a few dozen)", file=str(path), row=1)
    for number, cell in enumerate(cells, start=1):
        if len(cell) > MAX_HEADER_CELL:
            raise SourceError(f"header cell {number} is {len(cell):,} characters long; at most "
                              f"{MAX_HEADER_CELL:,} are read", file=str(path), row=1,
                              column=cell[:40] + "…")
    return [re.sub(INVISIBLE, "", cell).strip() for cell in cells]


def csv_options(names: list[str], delimiter: str, encoding: str | None = None,
                on_bad=None) -> dict:
    """Arrow's options for the records of a delimited file, every column dictionary-encoded
    (`read_table`'s two paths, and the streaming import's).

    encoding None: the fast path (bytes, read on every core; a malformed record fails the
    read); else the exact path (Arrow transcodes, one thread, so that `on_bad` learns each
    malformed record's row number)."""
    exact = encoding is not None
    value = pa.string() if exact else pa.binary()
    return {
        "read_options": pacsv.ReadOptions(column_names=names, skip_rows=1,
                                          use_threads=not exact, block_size=1 << 24,
                                          **({"encoding": encoding} if exact else {})),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                            ignore_empty_lines=False,
                                            **({"invalid_row_handler": on_bad} if exact
                                               else {})),
        "convert_options": pacsv.ConvertOptions(
            column_types={n: pa.dictionary(pa.int32(), value) for n in names},
            null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True)}


def _read_exact(path: Path, names: list[str], delimiter: str, encoding: str,
                bad: list[tuple[int, int, str]]) -> dict[str, tuple[np.ndarray, pa.Array]]:
    """The exact path: one thread, so a malformed record's row number is known (collected in
    `bad`), and Arrow transcodes the whole stream. Columns as (codes, distinct values)."""
    arrow_encoding = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
    if arrow_encoding == "utf-8" and not _decodes(path, "utf-8"):
        # Arrow hands a malformed record's text to the handler as UTF-8 without checking it:
        # a bad byte there would fail inside Arrow's callback, not here.
        line = _first_bad_line(path, "utf-8")
        raise SourceError("the file is not UTF-8 text throughout; save it as UTF-8 or set "
                          "`encoding` in a mapping", file=str(path), row=line)

    def on_bad(row) -> str:       # must never raise: Arrow would swallow the exception
        bad.append((row.number if row.number is not None else -1, row.actual_columns, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(path, **csv_options(names, delimiter, arrow_encoding, on_bad))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read as delimited text: {exc}", file=str(path)) from None
    if any(number < 0 for number, _, _ in bad):     # not expected with one thread
        raise SourceError("cannot tell which rows are malformed", file=str(path))
    columns = {}
    for name in names:
        codes, values = dictionary_codes(table.column(name))
        table = table.drop_columns([name])
        columns[name] = (codes, values.cast(pa.large_string()))
    return columns


class _Records:
    """The records read from a delimited file, checked for what a parser cannot see: a value
    too long to be one, and a quote that is never closed.

    An unclosed quote makes the rest of the file (up to the next quote) one value: the rows
    in it vanish into one record. Such a value holds line breaks followed by lines with as
    many delimiters as a record has; a comment with a line break does not.
    """

    def __init__(self, path: Path, names: list[str], delimiter: str,
                 columns: dict[str, tuple[np.ndarray, pa.Array]], rows: np.ndarray,
                 bad: list[tuple[int, int, str]], first_row: int = 2,
                 first_line: int = 2) -> None:
        """first_row, first_line: the row number and physical line of the first record
        (a batch of the streaming import starts further down the file)."""
        self.path, self.names, self.delimiter = path, names, delimiter
        self.columns, self.rows, self.bad = columns, rows, bad
        self.first_row, self.first_line = first_row, first_line
        self._starts: np.ndarray | None = None

    def check(self) -> None:
        for name, (codes, values) in self.columns.items():
            if not len(values):
                continue
            sizes = pc.binary_length(values).to_numpy(zero_copy_only=False)
            if sizes.max() > MAX_CELL_BYTES:
                row = self._first_row(codes, int(np.argmax(sizes)))
                raise SourceError(f"a value of {int(sizes.max()):,} bytes (line {self.line(row)}); "
                                  f"at most {MAX_CELL_BYTES:,} are read: a quote (\") that is "
                                  "never closed?", file=str(self.path), row=row, column=name)
            breaks = np.flatnonzero(pc.fill_null(
                pc.match_substring_regex(values, "[\r\n]"), False).to_numpy(zero_copy_only=False))
            for code in breaks:
                swallowed = self._record_like(values[int(code)].as_py())
                if swallowed:
                    self._unclosed(self._first_row(codes, int(code)), name, swallowed)
        for number, _, text in self.bad:
            swallowed = self._record_like(text)
            if swallowed:
                self._unclosed(number, None, swallowed)

    def line(self, row: int) -> int:
        """The physical line a record (by its row number) starts on."""
        return int(self._lines()[row - self.first_row])

    def end_line(self) -> int:
        """The physical line after the last record."""
        self._lines()
        return self._end

    def _lines(self) -> np.ndarray:
        if self._starts is None:
            spans = np.ones(len(self.rows) + len(self.bad), dtype=np.int64)
            for codes, values in self.columns.values():
                breaks = pc.fill_null(pc.count_substring_regex(values, r"\r\n|\r|\n"), 0)
                spans[self.rows - self.first_row] += np.append(
                    breaks.to_numpy(zero_copy_only=False), 0)[codes]
            for number, _, text in self.bad:
                spans[number - self.first_row] += len(re.findall(r"\r\n|\r|\n", text))
            self._starts = self.first_line + np.cumsum(spans) - spans
            self._end = self.first_line + int(spans.sum())
        return self._starts

    def _first_row(self, codes: np.ndarray, code: int) -> int:
        return int(self.rows[int(np.argmax(codes == code))])

    def _record_like(self, text: str) -> int:
        """How many of a value's later lines look like records of their own."""
        if len(self.names) < 3:        # too few delimiters in a record to tell
            return 0
        return sum(line.count(self.delimiter) >= len(self.names) - 1
                   for line in text.splitlines()[1:])

    def _unclosed(self, row: int, column: str | None, swallowed: int) -> None:
        start = self.line(row)
        where = f"a value in column {column!r}" if column else "a record"
        raise SourceError(
            f"{where} starting on line {start} runs over {swallowed:,} later lines that look "
            "like records of their own: a quote (\") is probably not closed. Those rows would "
            "be lost; close or remove the quote", file=str(self.path), row=row, column=column)


# Bytes that can occur inside a multi-byte character, for the encodings the fast path reads
# as bytes: UTF-8 continuation bytes, and GBK/GB18030 second (and fourth) bytes, 0x30-0x39 and
# 0x40-0xFE. A delimiter, quote or line break that is none of them always is one, so values
# can be split before they are decoded. ("|" = 0x7C can be half a GBK character: exact path.)
_UTF8_INSIDE = frozenset(range(0x80, 0x100))
_GB_INSIDE = frozenset(range(0x30, 0x3A)) | frozenset(range(0x40, 0x7F)) | _UTF8_INSIDE
_INSIDE = {"utf-8": _UTF8_INSIDE, "utf-8-sig": _UTF8_INSIDE, "gb18030": _GB_INSIDE,
           "gbk": _GB_INSIDE, "gb2312": _GB_INSIDE}


def reads_as_bytes(encoding: str, delimiter: str) -> bool:
    """Whether records of this encoding and delimiter can be split before they are decoded
    (the fast path)."""
    try:
        inside = _INSIDE.get(codecs.lookup(encoding).name)
    except LookupError:
        return False
    return not (inside is None or len(delimiter) != 1 or not delimiter.isascii()
                or ord(delimiter) in inside)


def _read_coded(path: Path, names: list[str], delimiter: str,
                encoding: str) -> dict[str, tuple[np.ndarray, pa.Array]] | None:
    """The fast path: each column as (codes, distinct values), or None to take the exact path.

    The file is parsed as bytes on every core (Arrow keeps record order), each column
    dictionary-encoded as it is read, and only the distinct values are decoded: decoding a
    GBK file is what costs most, and its columns repeat a few values. A malformed record
    (whose line number only a single-threaded read knows) or a value that does not decode
    sends the file to the exact path, which reports it as before.
    """
    if not reads_as_bytes(encoding, delimiter):
        return None
    try:     # no invalid-row handler: a malformed record fails the read
        table = pacsv.read_csv(path, **csv_options(names, delimiter))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    columns = {}
    for name in names:
        codes, distinct = dictionary_codes(table.column(name))
        table = table.drop_columns([name])        # free each column once it is coded
        values = _decode(distinct, encoding)
        if values is None:
            return None
        columns[name] = (codes, values)
    return columns


def _decode(values: pa.Array, encoding: str) -> pa.Array | None:
    """Distinct byte values as text (None when one does not decode)."""
    try:
        ascii_ = pc.fill_null(pc.string_is_ascii(values.view(pa.string())), True)
        if codecs.lookup(encoding).name.startswith("utf-8") or pc.all(ascii_).as_py():
            return values.cast(pa.large_string())        # checks that it is UTF-8
        other = pc.invert(ascii_)
        decoded = pa.array([v.decode(encoding) for v in pc.filter(values, other).to_pylist()],
                           pa.large_string())
        as_is = values.cast(pa.large_binary()).view(pa.large_string())   # ASCII: as it is
        return pc.replace_with_mask(as_is, other, decoded)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None


def _dedupe(names: list[str]) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Unique column names: a blank header becomes column_N, a repeated one name_2, name_3, …,
    and ``source_row`` (the readers' own column) source_row_2. Returns the names and what was
    renamed, as (column number, header, name), for the notes."""
    taken = {SOURCE_ROW}
    out: list[str] = []
    renamed: list[tuple[int, str, str]] = []
    for number, name in enumerate(names, start=1):
        base = name or f"column_{number}"
        new, k = base, 1
        while new in taken:
            k += 1
            new = f"{base}_{k}"
        taken.add(new)
        out.append(new)
        if new != name:
            renamed.append((number, name, new))
    return out, renamed


def _renamed_notes(renamed: list[tuple[int, str, str]], headers: list[str]) -> list[str]:
    notes = []
    for number, name, new in renamed:
        if not name:
            notes.append(Said("import.no_header", number=number, new=new))
        elif name == SOURCE_ROW:
            notes.append(Said("import.own_header", number=number, name=name, new=new))
        else:
            first = headers.index(name) + 1 if name in headers else "?"
            notes.append(Said("import.header_repeats", name=name, first=first, number=number,
                              new=new))
    return notes


#: Bounds on an .xlsx package, checked on the sizes its zip directory declares before anything
#: is inflated (Python's zip reader never inflates a member past its declared size): an .xlsx
#: compresses its XML 5-20 times, a "zip bomb" a thousand times.
MAX_XLSX_INFLATED = 2 << 30              # all members together
MAX_XLSX_STRINGS = 256 << 20             # the shared strings (held in memory whole)
MAX_XLSX_RATIO = 200                     # inflated / compressed, for members above 1 MiB


def _check_package(path: Path) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"not a readable .xlsx workbook: {exc}", file=str(path)) from None
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_INFLATED:
        raise SourceError(f"refused: the workbook inflates to {total:,} bytes; at most "
                          f"{MAX_XLSX_INFLATED:,} are read (save large exports as CSV)",
                          file=str(path))
    for m in members:
        if m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_XLSX_STRINGS:
            raise SourceError(f"refused: the workbook's shared strings inflate to "
                              f"{m.file_size:,} bytes; at most {MAX_XLSX_STRINGS:,} are read "
                              "(save large exports as CSV)", file=str(path))
        ratio = m.file_size // max(m.compress_size, 1)
        if m.file_size > 1 << 20 and ratio > MAX_XLSX_RATIO:
            raise SourceError(f"refused: {m.filename} inflates {ratio:,} "
                              f"times ({m.compress_size:,} → {m.file_size:,} bytes), more than "
                              f"{MAX_XLSX_RATIO} times as real workbooks do: a zip bomb?",
                              file=str(path))


def read_excel_sheet(path: Path, mapping: Mapping) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read one sheet of an .xlsx workbook (the first, or `sheet` in the mapping).

    The package is checked before it is opened (`_check_package`); the sheet's declared
    dimensions are not trusted (a sheet can claim 16,384 columns and a million rows while
    holding two): rows are read as they are, at most `MAX_COLUMNS` wide.
    """
    import zipfile
    from xml.etree.ElementTree import ParseError

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_package(path)
    # What a damaged or hostile workbook raises while it is read: XML that is not
    # well-formed (a control character, an undefined entity), entities refused by defusedxml
    # (a ValueError), a cell that cannot be converted, a string index out of range.
    unreadable = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ParseError,
                  ValueError, TypeError, IndexError, OverflowError, EOFError)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except unreadable as exc:
        raise SourceError(f"not a readable .xlsx workbook: {_reason(exc)}",
                          file=str(path)) from None
    number = 0                                      # the row read last
    try:
        if mapping.sheet:
            if mapping.sheet not in book.sheetnames:
                raise SourceError(f"no sheet {mapping.sheet!r}; sheets: {book.sheetnames}",
                                  file=str(path))
            sheet = book[mapping.sheet]
        else:
            sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):      # read-only sheets: rows as they are
            sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, None) or ())
        while header and (header[-1] is None or str(header[-1]).strip() == ""):
            header.pop()                            # styled empty cells after the last header
        if not header:
            raise SourceError("the first row (the header) is empty", file=str(path), row=1)
        if len(header) > MAX_COLUMNS:
            raise SourceError(f"the header has {len(header):,} columns; at most "
                              f"{MAX_COLUMNS:,} are read", file=str(path), row=1)
        cells = [str(h) if h is not None else "" for h in header]
        for position, cell in enumerate(cells, start=1):
            if len(cell) > MAX_HEADER_CELL:
                raise SourceError(f"header cell {position} is {len(cell):,} characters long; "
                                  f"at most {MAX_HEADER_CELL:,} are read", file=str(path),
                                  row=1, column=cell[:40] + "…")
        names, renamed = _dedupe([re.sub(INVISIBLE, "", c).strip() for c in cells])
        width = len(names)
        number = 1                                  # the row read last
        records, numbers, beyond, empty = [], [], [], 0
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip())
                                  for v in row):
                empty += 1
                continue
            if len(row) > width and any(v is not None and str(v).strip() for v in row[width:]):
                if len(row) > MAX_COLUMNS:
                    raise SourceError(f"row {number} has a value in column {len(row):,}; at "
                                      f"most {MAX_COLUMNS:,} columns are read", file=str(path),
                                      row=number)
                beyond.append({"source_row": str(number), "reason": "malformed_record",
                               "column": "", "detail": f"a value in column {len(row)}, beyond "
                                                       f"the {width} headed columns"})
                continue
            records.append(list(row[:width]) + [None] * (width - len(row)))
            numbers.append(str(number))
    except unreadable as exc:
        raise SourceError(f"the sheet cannot be read: {_reason(exc)}",
                          file=str(path), row=number + 1) from None
    finally:
        book.close()
    frame = pd.DataFrame(records, columns=names, dtype=object)
    frame[SOURCE_ROW] = numbers
    info = {"sheet": sheet.title, "empty_rows_skipped": empty, "renamed": renamed}
    return frame, set_aside_rows(beyond), info


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line: the innermost cause (openpyxl wraps the XML error)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    if type(exc).__name__ in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden"):
        return ("refused: the workbook's XML declares entities or a DTD (an .xlsx never needs "
                "them; they are how entity-expansion and external-entity attacks work)")
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- header matching -------------------------------------------------------------------------

def guess_columns(headers: list[str], mapping: Mapping, file: str) -> dict[str, tuple[str, ...]]:
    """canonical column -> source column(s); a mapping's [columns] always wins."""
    by_key: dict[str, list[str]] = {}
    for h in headers:
        by_key.setdefault(normalize_word(h), []).append(h)
    for canon, source in mapping.columns.items():
        missing = [s for s in source if s not in headers]
        if missing:
            raise ColumnGuessError(f"the mapping names column(s) {missing} for {canon}, but the "
                                   f"file has: {headers}", file=file, column=missing[0])
    taken = {s for cols in mapping.columns.values() for s in cols}
    result: dict[str, tuple[str, ...]] = dict(mapping.columns)

    def candidates(synonyms: tuple[str, ...]) -> list[str]:
        found: list[str] = []
        for syn in synonyms:
            for h in by_key.get(normalize_word(syn), []):
                if h not in taken and h not in found:
                    found.append(h)
        return found

    def pick(canon: str, synonyms: tuple[str, ...]) -> str | None:
        found = candidates(synonyms)
        if len(found) > 1:
            raise ColumnGuessError(
                f"more than one column could be {canon}: {found}; say which in a mapping, "
                f"e.g. [columns] {canon} = \"{found[0]}\"", file=file, column=found[0])
        return found[0] if found else None

    for canon, synonyms in HEADER_SYNONYMS.items():
        if canon in result:
            continue
        col = pick(canon, synonyms)
        if col:
            result[canon] = (col,)
            taken.add(col)
    for canon in (C.acted_at, C.arrived_at):
        if canon in result:
            continue
        date_col = pick(canon, DATE_SYNONYMS[canon])
        time_col = pick(canon, TIME_SYNONYMS[canon])
        if date_col and time_col:
            result[canon] = (date_col, time_col)
        elif date_col or time_col:
            result[canon] = (date_col or time_col,)
        taken.update(c for c in (date_col, time_col) if c)

    if C.case_id not in result:
        raise ColumnGuessError(f"no case id column found among {headers}; name it in a mapping "
                               "([columns] case_id = \"…\")", file=file, row=1)
    if C.acted_at not in result:
        raise ColumnGuessError(f"no action time column found among {headers}; name it in a "
                               "mapping ([columns] acted_at = \"…\" or [\"date\", \"time\"])",
                               file=file, row=1)
    if C.node not in result and LABEL not in result:
        raise ColumnGuessError(f"no node (approval step) column found among {headers}; name it "
                               "in a mapping ([columns] node = \"…\")", file=file, row=1)
    return result


def to_raw(frame: pd.DataFrame, aside: pd.DataFrame, path: Path, fmt: str, mapping: Mapping,
           notes: list[str], renamed: list[tuple[int, str, str]] = ()) -> RawEvents:
    """Rename matched columns to canonical names, combine date + time, keep the rest.

    renamed: headers `_dedupe` renamed. A repeated header that would be read as a canonical
    column is an error (which of the two is meant cannot be guessed); the others are noted.
    """
    headers = [c for c in frame.columns if c != SOURCE_ROW]
    columns = guess_columns(headers, mapping, str(path))
    used = {s: canon for canon, cols in columns.items() for s in cols}
    named = {s for cols in mapping.columns.values() for s in cols}
    for number, name, new in renamed:
        if name in used and name not in named and new not in named:
            first = headers.index(name) + 1
            raise ColumnGuessError(
                f"columns {first} and {number} are both headed {name!r}, which is read as "
                f"{used[name]}; rename one in the file, or name the one to use in a mapping "
                f"([columns] {used[name]} = \"{name}\" for column {first}, \"{new}\" for column "
                f"{number})", file=str(path), row=1, column=name)
    notes += _renamed_notes(list(renamed), headers)
    out: dict[str, pd.Series] = {}
    for canon, source in columns.items():
        out[canon] = (combine_date_time(frame[source[0]], frame[source[1]])
                      if len(source) == 2 else frame[source[0]])
    kept = []
    for col in headers:
        if col not in used:
            name = extra_name(col, out.keys())
            out[name] = frame[col]
            if name != col:
                kept.append(f"{col!r} as {name!r}")
    if kept:
        notes.append(Said("import.kept_renamed", columns=", ".join(kept)))
    out[SOURCE_ROW] = frame[SOURCE_ROW]
    if C.node not in columns and LABEL in columns and not mapping.label_rules:
        notes.append(Said("import.label_is_node", label=columns[LABEL][0]))
    return RawEvents(frame=pd.DataFrame(out, index=frame.index), source_file=str(path),
                     format=fmt, rows_read=len(frame) + len(aside), set_aside=aside,
                     columns_used={k: " + ".join(v) for k, v in columns.items()}, notes=notes)


def read_csv(path: Path, mapping: Mapping) -> RawEvents:
    frame, aside, info = read_table(path, mapping, coded=True)
    notes = [encoding_note(info["encoding"], info["delimiter"])]
    if info["empty_rows"]:
        notes.append(Said("import.empty_lines", n=info["empty_rows"]))
    return to_raw(frame, aside, path, "csv", mapping, notes, info["renamed"])


def encoding_note(encoding: str, delimiter: str) -> Said:
    """What a text export was read as: its encoding and its delimiter."""
    named = {"\t": "tab", ",": "comma"}.get(delimiter)
    return Said("import.encoding", encoding=encoding,
                delimiter=Said(f"import.delimiter_{named}") if named else repr(delimiter))


def read_frame(frame: pd.DataFrame, mapping: Mapping, name: str) -> RawEvents:
    """A pandas DataFrame as an export: its column names are the headers (matched as a CSV's
    are, the mapping first), each row is a record and its index label is the row a set-aside
    reason names. Values may be text, numbers or datetimes (naive ones in the import zone)."""
    if len(frame.columns) > MAX_COLUMNS:
        raise SourceError(f"the frame has {len(frame.columns):,} columns; at most "
                          f"{MAX_COLUMNS:,} are read", file=name)
    names, renamed = _dedupe([re.sub(INVISIBLE, "", str(c)).strip() for c in frame.columns])
    data = frame.set_axis(names, axis=1).reset_index(drop=True).astype(object)
    data = data.where(data.notna(), None)
    data[SOURCE_ROW] = [str(label) for label in frame.index]
    notes = [Said("import.dataframe", rows=len(frame), columns=len(frame.columns))]
    return to_raw(data, empty_set_aside(), Path(name), "dataframe", mapping, notes, renamed)


def read_xlsx(path: Path, mapping: Mapping) -> RawEvents:
    frame, aside, info = read_excel_sheet(path, mapping)
    notes = [Said("import.sheet", sheet=info["sheet"])]
    if info["empty_rows_skipped"]:
        notes.append(Said("import.empty_rows", n=info["empty_rows_skipped"]))
    return to_raw(frame, aside, path, "xlsx", mapping, notes, info["renamed"])
