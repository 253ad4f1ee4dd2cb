"""CSV, TSV and Excel exports: encodings, delimiters, header synonyms, date + time columns.

Headers are matched to canonical columns by synonyms (Chinese and English), unless a mapping
names the columns. A guess that has two candidates stops with an error listing both: a wrong
guess would corrupt every statistic quietly, a stop costs one line of mapping.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from officemine.errors import ColumnGuessError, SourceError
from officemine.importing.mapping import Mapping
from officemine.importing.raw import (LABEL, SOURCE_ROW, TEXT, RawEvents, coded_text,
                                     decoded_text, dictionary_codes, set_aside_rows)
from officemine.importing.timeparse import combine_date_time
from officemine.schema import C, SOURCE_FIELDS, normalize_word

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
    row = _first_bad_line(path, "gb18030")
    raise SourceError("the file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 or "
                      "set `encoding` in a mapping", file=str(path), row=row)


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


def _read_table(path: Path, mapping: Mapping, encoding: str,
                coded: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            first_line = fh.readline()
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {exc}", file=str(path), row=1) from None
    if not first_line.strip():
        raise SourceError("the file is empty or its first line (the header) is blank",
                          file=str(path), row=1)
    delimiter = _sniff_delimiter(first_line, path, mapping.delimiter)
    header = next(csv.reader([first_line.lstrip("\ufeff")], delimiter=delimiter))
    names = _dedupe([h.strip() for h in header])
    info = {"encoding": encoding, "delimiter": delimiter, "renamed_headers": names != header}

    columns = _read_coded(path, names, delimiter, encoding)
    if columns is not None:
        if coded:
            frame = pd.DataFrame({name: coded_text(*columns[name]) for name in names})
        else:
            frame = pd.DataFrame({name: decoded_text(*columns[name]) for name in names})
        del columns
        pa.default_memory_pool().release_unused()    # the parse buffers: give them back
        rows = np.arange(len(frame), dtype=np.int64) + 2
        frame[SOURCE_ROW] = rows if coded else rows.astype(str)
        return frame, set_aside_rows([]), info

    # The exact path: one thread, so a malformed record's line number is known, and Arrow
    # transcodes the whole stream.
    bad: list[tuple[int, str]] = []

    def on_bad(row) -> str:
        bad.append((row.number, row.text))
        return "skip"

    arrow_encoding = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                           encoding=arrow_encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_bad),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read as delimited text: {exc}", file=str(path)) from None
    frame = table.to_pandas(types_mapper=lambda t: TEXT if pa.types.is_string(t) else None)
    del table
    if encoding == "utf-8-sig" and names and frame.columns[0].startswith("\ufeff"):
        frame = frame.rename(columns={frame.columns[0]: frame.columns[0].lstrip("\ufeff")})
    # Row numbers: records are sequential (single thread); skipped records shift the rest.
    rows = np.arange(len(frame), dtype=np.int64) + 2
    for line, _ in sorted(bad):
        if line is not None:
            rows[rows >= line] += 1
    frame[SOURCE_ROW] = rows if coded else rows.astype(str)
    aside = set_aside_rows([
        {"source_row": str(line), "reason": "malformed_record", "column": "",
         "detail": f"{len(next(csv.reader([text], delimiter=delimiter), []))} fields, "
                   f"header has {len(names)}: {text[:200]}"}
        for line, text in bad])
    return frame, aside, info


# Bytes that can occur inside a multi-byte character, for the encodings the fast path reads
# as bytes: UTF-8 continuation bytes, and GBK/GB18030 second (and fourth) bytes, 0x30-0x39 and
# 0x40-0xFE. A delimiter, quote or line break that is none of them always is one, so values
# can be split before they are decoded. ("|" = 0x7C can be half a GBK character: exact path.)
_UTF8_INSIDE = frozenset(range(0x80, 0x100))
_GB_INSIDE = frozenset(range(0x30, 0x3A)) | frozenset(range(0x40, 0x7F)) | _UTF8_INSIDE
_INSIDE = {"utf-8": _UTF8_INSIDE, "utf-8-sig": _UTF8_INSIDE, "gb18030": _GB_INSIDE,
           "gbk": _GB_INSIDE, "gb2312": _GB_INSIDE}


def _read_coded(path: Path, names: list[str], delimiter: str,
                encoding: str) -> dict[str, tuple[np.ndarray, pa.Array]] | None:
    """The fast path: each column as (codes, distinct values), or None to take the exact path.

    The file is parsed as bytes on every core (Arrow keeps record order), each column
    dictionary-encoded as it is read, and only the distinct values are decoded: decoding a
    GBK file is what costs most, and its columns repeat a few values. A malformed record
    (whose line number only a single-threaded read knows) or a value that does not decode
    sends the file to the exact path, which reports it as before.
    """
    try:
        inside = _INSIDE.get(codecs.lookup(encoding).name)
    except LookupError:
        return None
    if inside is None or len(delimiter) != 1 or not delimiter.isascii() or ord(delimiter) in inside:
        return None
    as_dictionary = pa.dictionary(pa.int32(), pa.binary())
    try:     # no invalid-row handler: a malformed record fails the read
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: as_dictionary for n in names}, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True))
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


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def read_excel_sheet(path: Path, mapping: Mapping) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Read one sheet of an .xlsx workbook (the first, or `sheet` in the mapping)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    import zipfile

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"not a readable .xlsx workbook: {exc}", file=str(path)) from None
    try:
        if mapping.sheet:
            if mapping.sheet not in book.sheetnames:
                raise SourceError(f"no sheet {mapping.sheet!r}; sheets: {book.sheetnames}",
                                  file=str(path))
            sheet = book[mapping.sheet]
        else:
            sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(h is None for h in header):
            raise SourceError("the first row (the header) is empty", file=str(path), row=1)
        names = _dedupe([str(h).strip() if h is not None else "" for h in header])
        records, numbers, empty = [], [], 0
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip())
                                  for v in row):
                empty += 1
                continue
            values = list(row[:len(names)]) + [None] * (len(names) - len(row))
            records.append(values)
            numbers.append(str(number))
    finally:
        book.close()
    frame = pd.DataFrame(records, columns=names, dtype=object)
    frame[SOURCE_ROW] = numbers
    info = {"sheet": sheet.title, "empty_rows_skipped": empty}
    return frame, set_aside_rows([]), info


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
           notes: list[str]) -> RawEvents:
    """Rename matched columns to canonical names, combine date + time, keep the rest."""
    headers = [c for c in frame.columns if c != SOURCE_ROW]
    columns = guess_columns(headers, mapping, str(path))
    out = pd.DataFrame(index=frame.index)
    for canon, source in columns.items():
        out[canon] = (combine_date_time(frame[source[0]], frame[source[1]])
                      if len(source) == 2 else frame[source[0]])
    used = {s for cols in columns.values() for s in cols}
    for col in headers:
        if col not in used:
            name = col if col not in SOURCE_FIELDS and col not in out else f"src_{col}"
            out[name] = frame[col]
    out[SOURCE_ROW] = frame[SOURCE_ROW]
    if C.node not in columns and LABEL in columns and not mapping.label_rules:
        notes.append(f"no node column: the activity label ({columns[LABEL][0]}) is the node")
    return RawEvents(frame=out, source_file=str(path), format=fmt,
                     rows_read=len(frame) + len(aside), set_aside=aside,
                     columns_used={k: " + ".join(v) for k, v in columns.items()}, notes=notes)


def read_csv(path: Path, mapping: Mapping) -> RawEvents:
    frame, aside, info = read_table(path, mapping, coded=True)
    delim = {"\t": "tab", ",": "comma"}.get(info["delimiter"], repr(info["delimiter"]))
    notes = [f"text encoding {info['encoding']}, delimiter {delim}"]
    if info["renamed_headers"]:
        notes.append("blank or repeated headers were renamed (column_N, name_2)")
    return to_raw(frame, aside, path, "csv", mapping, notes)


def read_xlsx(path: Path, mapping: Mapping) -> RawEvents:
    frame, aside, info = read_excel_sheet(path, mapping)
    notes = [f"sheet {info['sheet']!r}"]
    if info["empty_rows_skipped"]:
        notes.append(f"{info['empty_rows_skipped']} entirely empty rows ignored")
    return to_raw(frame, aside, path, "xlsx", mapping, notes)
