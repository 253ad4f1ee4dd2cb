"""Import a CSV export of any size with bounded memory: the streaming import.

`officemine.import_log` holds the whole export while it normalises it (about 0.5 KB per event
at peak): ten million events need about 5 GB. This path keeps at most one batch of whole
cases in memory, and gives exactly what `import_log` + `EventLog.write` give — the same
events in the same order, the same set-aside file, the same row accounting:

1. **read**: the CSV is parsed block by block (`tabular.csv_options`, the fast path of
   `read_table` and, for a malformed record, its exact path) and each block is spilled to a
   Parquet file with the cleaned instance id of each row;
2. **instances** (only where attempts are linked): DuckDB orders the rows by instance id
   and source row under a memory limit (spilling to disk); batches of whole instances go
   through `normalize.build_log`, which hands each batch's `linking.Attempts` to a
   collector instead of linking them. The attempts of the whole log are then linked at once
   (`linking.link`): linking compares instances across the log — a resubmission may sit in
   another batch than the refusal it follows — and needs only a few values per instance;
3. **cases**: DuckDB orders the rows by their case (the root instance's id after linking) and
   source row; batches of whole cases go through `build_log` again, now told each instance's
   case (`linker`), and through `eventlog.with_visits` (the per-case columns); each batch is
   appended to the Parquet log, its set-aside rows to a spill that is written out in source
   order at the end. The log's metadata (import report, calendar) goes into the file's
   key-value metadata when it is closed.

Two passes over the rows where attempts are linked (the first one stops short of nothing:
it is `build_log` itself, so that an instance's first action, refusal and form values are
exactly the ones the in-memory import sees); one where they are not (`--no-link`).

Peak memory is bounded by the setting (default 3 GB): DuckDB gets a sixth of it, a batch is
sized from the rest (`batch_rows_for`). The import report's counts are sums over batches; a
note that counts something is summed too, and one that gives examples (labels no rule
matched) keeps the first batch's.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from officemine.base.errors import InputError, SourceError
from officemine.importing import linking, tabular
from officemine.importing.mapping import Mapping
from officemine.importing.normalize import DEFAULT_TIMEZONE, _clean_text, build_log
from officemine.importing.raw import (SOURCE_ROW, RawEvents, coded_text, dictionary_codes,
                                      empty_set_aside, set_aside_rows, text_codes)
from officemine.log.import_report import ImportReport
from officemine.log.schema import C
from officemine.base.text import Said

#: Peak memory of an import unless told otherwise.
DEFAULT_MEMORY_LIMIT = 3 << 30
#: A CSV export above this share of the memory setting is streamed: the in-memory import
#: peaks at about 3.4 times the size of a GBK export (10M events: 1.4 GB file, 4.8 GiB).
STREAM_ABOVE_SHARE = 0.25
#: Memory a batch costs per row at peak (normalising, the per-case columns, writing, and what
#: the allocators keep between batches), measured on the benchmark export, with a margin.
_BYTES_PER_ROW = 2_500
#: What the interpreter and the libraries hold before any batch (measured: about 0.4 GB).
_BASELINE = 600 << 20
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


def parse_size(value: str | int) -> int:
    """A memory size as bytes: ``3GB``, ``500 MB``, ``2g`` or a number of bytes (units of
    1024)."""
    if isinstance(value, int):
        size = value
    else:
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        unit = found.group(2).lower() if found else None
        if not found or unit not in _UNITS:
            raise InputError(f"memory limit {value!r} is not a size: write it as 3GB, "
                                  "500MB or a number of bytes")
        size = int(float(found.group(1)) * _UNITS[unit])
    if size < 256 << 20:
        raise InputError(f"memory limit {value!r} is below 256 MB, too little to import in")
    return size


def should_stream(path: Path, fmt: str, memory_limit: int) -> bool:
    """Whether an export is imported by streaming: a CSV export above a quarter of the
    memory setting (which the in-memory import would exceed)."""
    return fmt == "csv" and path.is_file() and \
        path.stat().st_size > STREAM_ABOVE_SHARE * memory_limit


#: DuckDB's share of the memory setting (it sorts within it, spilling the rest to disk).
_DUCKDB_SHARE = 6


def batch_rows_for(memory_limit: int) -> int:
    """Rows per batch that keep a batch and DuckDB within `memory_limit`."""
    spare = memory_limit - memory_limit // _DUCKDB_SHARE - _BASELINE
    return int(min(max(spare // _BYTES_PER_ROW, 20_000), 2_000_000))


def read_budget(memory_limit: int | str | None, bytes_per_row: int) -> tuple[int, int]:
    """For an analysis reading a stored log in batches of whole cases within `memory_limit`
    (``"3GB"``; None: `DEFAULT_MEMORY_LIMIT`): rows per batch, at `bytes_per_row` each at
    peak, and the bytes DuckDB may hold for its scan."""
    limit = parse_size(memory_limit if memory_limit is not None else DEFAULT_MEMORY_LIMIT)
    spare = limit - limit // _DUCKDB_SHARE - _BASELINE
    return int(max(spare // bytes_per_row, 20_000)), max(limit // _DUCKDB_SHARE, 128 << 20)


def import_streaming(source: str | Path, output: str | Path, *,
                     mapping: Mapping | str | Path | None = None, timezone: str | None = None,
                     link: bool = True, memory_limit: int | str = DEFAULT_MEMORY_LIMIT,
                     batch_rows: int | None = None, work_dir: str | Path | None = None):
    """Import a CSV export into the Parquet log `output` (and its set-aside file), holding
    one batch of whole cases at a time; returns the log, opened from disk (`read_log`).

    memory_limit: the peak memory to stay within (bytes, or ``"3GB"``); batch_rows: rows per
    batch (default: from the limit); work_dir: where the spill files go (default: a
    temporary folder beside `output`, removed at the end).
    """
    from officemine.log.eventlog import read_log
    from officemine.importing import _check_source

    path, mapping, timezone = _check_source(source, mapping, timezone)
    limit = parse_size(memory_limit)
    rows = batch_rows or batch_rows_for(limit)
    output = Path(output)
    parent = Path(work_dir) if work_dir is not None else output.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".officemine-import-", dir=parent))
    try:
        _Import(path, mapping, timezone, link, limit, rows, work).run(output)
    except _Empty:            # nothing to stream: the in-memory import says what is missing
        from officemine.importing import import_log
        import_log(path, format="csv", mapping=mapping, timezone=timezone,
                   link=link).write(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return read_log(output)


# --- reading the export block by block -------------------------------------------------------

class _Fallback(Exception):
    """The fast path cannot read the file (a malformed record, a value that does not
    decode): read it again on the exact path, as `tabular.read_table` does. Never escapes
    this module."""


@dataclasses.dataclass
class _Read:
    """What reading the export found besides its rows."""

    rows_read: int = 0
    empty_rows: int = 0
    malformed: list = dataclasses.field(default_factory=list)   # reader's set-aside rows
    notes: list[str] = dataclasses.field(default_factory=list)
    columns_used: dict[str, str] = dataclasses.field(default_factory=dict)
    files: list[Path] = dataclasses.field(default_factory=list)


def _spill_csv(path: Path, mapping: Mapping, spill: Path) -> _Read:
    """Read the export into Parquet spill files, one per block, each row with its cleaned
    instance id (``_key``). Encodings are found as `tabular.read_table` finds them."""
    if mapping.encoding:
        return _spill_with(path, mapping, mapping.encoding, spill)
    guess = tabular.detect_encoding(path, sniff_bytes=tabular._GUESS_BYTES)
    try:
        return _spill_with(path, mapping, guess, spill)
    except SourceError:
        return _spill_with(path, mapping, tabular.detect_encoding(path), spill)


def _spill_with(path: Path, mapping: Mapping, encoding: str, spill: Path) -> _Read:
    first_line = tabular._header_line(path, encoding)
    if not first_line.strip():
        raise SourceError("the file is empty or its first line (the header) is blank",
                          file=str(path), row=1)
    if len(first_line) > tabular._MAX_HEADER_LINE:
        raise SourceError(f"the first line (the header) is longer than "
                          f"{tabular._MAX_HEADER_LINE:,} characters: not the header of an "
                          "export", file=str(path), row=1)
    delimiter = tabular._sniff_delimiter(first_line, path, mapping.delimiter)
    names, renamed = tabular._dedupe(tabular._header_cells(first_line, delimiter, path))
    try:
        return _spill_blocks(path, mapping, encoding, delimiter, names, renamed, spill,
                             exact=False)
    except _Fallback:
        return _spill_blocks(path, mapping, encoding, delimiter, names, renamed, spill,
                             exact=True)


def _spill_blocks(path: Path, mapping: Mapping, encoding: str, delimiter: str,
                  names: list[str], renamed, spill: Path, *, exact: bool) -> _Read:
    """Read the records block by block (the fast path, or the exact one), check each block
    as `tabular.read_table` checks the whole file (`tabular._Records`: row and line numbers
    carry on from the block before), map its columns (`tabular.to_raw`) and spill it."""
    for old in spill.glob("raw-*.parquet"):
        old.unlink()
    read = _Read()
    bad: list[tuple[int, int, str]] = []
    arrow_encoding = "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding
    if exact:
        if arrow_encoding == "utf-8" and not tabular._decodes(path, "utf-8"):
            line = tabular._first_bad_line(path, "utf-8")
            raise SourceError("the file is not UTF-8 text throughout; save it as UTF-8 or set "
                              "`encoding` in a mapping", file=str(path), row=line)

        def on_bad(row) -> str:       # must never raise: Arrow would swallow the exception
            bad.append((row.number if row.number is not None else -1, row.actual_columns,
                        row.text))
            return "skip"
        options = tabular.csv_options(names, delimiter, arrow_encoding, on_bad)
    else:
        if not tabular.reads_as_bytes(encoding, delimiter):
            raise _Fallback
        options = tabular.csv_options(names, delimiter)
    next_row, next_line, block = 2, 2, 0
    try:
        reader = pacsv.open_csv(path, **options)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if not exact:
            raise _Fallback from None
        raise SourceError(f"cannot read as delimited text: {exc}", file=str(path)) from None
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            batch = None
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if not exact:
                raise _Fallback from None
            raise SourceError(f"cannot read as delimited text: {exc}", file=str(path)) from None
        if any(number < 0 for number, _, _ in bad):
            raise SourceError("cannot tell which rows are malformed", file=str(path))
        if batch is None:
            if bad:                               # malformed records after the last block
                records = tabular._Records(path, names, delimiter, {}, np.zeros(0, np.int64),
                                           bad, next_row, next_line)
                records.check()
                read.malformed += _malformed(records, names)
                read.rows_read += len(bad)
            break
        columns = {}
        for name in names:
            codes, values = dictionary_codes(batch.column(name))
            values = (values.cast(pa.large_string()) if exact
                      else tabular._decode(values, encoding))
            if values is None:
                raise _Fallback
            columns[name] = (codes, values)
        n = batch.num_rows
        # row numbers: the next n not taken by a malformed record
        taken = {number for number, _, _ in bad}
        numbers = np.arange(next_row, next_row + n + len(taken), dtype=np.int64)
        numbers = numbers[~np.isin(numbers, list(taken))][:n] if taken else numbers[:n]
        end = int(numbers[-1]) + 1 if n else next_row
        mine = sorted(b for b in bad if b[0] < end)
        bad[:] = [b for b in bad if b[0] >= end]
        records = tabular._Records(path, names, delimiter, columns, numbers, mine, next_row,
                                   next_line)
        records.check()
        read.malformed += _malformed(records, names)
        next_row, next_line = end, records.end_line()
        read.rows_read += n + len(mine)
        empty = np.logical_and.reduce([codes < 0 for codes, _ in columns.values()]) if n \
            else np.zeros(0, dtype=bool)
        read.empty_rows += int(empty.sum())
        keep = ~empty
        frame = pd.DataFrame({name: coded_text(codes[keep], values)
                              for name, (codes, values) in columns.items()},
                             index=pd.RangeIndex(int(keep.sum())))
        frame[SOURCE_ROW] = numbers[keep]
        read.rows_read -= int(empty.sum())
        notes: list[str] = []
        raw = tabular.to_raw(frame, empty_set_aside(), path, "csv", mapping, notes, renamed)
        if block == 0:
            read.notes, read.columns_used = notes, dict(raw.columns_used)
        if len(raw.frame):
            table = pa.Table.from_pandas(raw.frame, preserve_index=False)
            table = table.append_column(_KEY, _instance_key(raw.frame, mapping))
            file = Path(spill) / f"raw-{block:06d}.parquet"
            pq.write_table(table, file, compression="lz4")
            read.files.append(file)
        block += 1
    head = [tabular.encoding_note(encoding, delimiter)]
    if read.empty_rows:
        head.append(Said("import.empty_lines", n=read.empty_rows))
    if block == 0:          # no block at all: the header alone (to_raw names what is missing)
        nothing = (np.zeros(0, np.int8), pa.array([], pa.large_string()))
        frame = pd.DataFrame({name: coded_text(*nothing) for name in names})
        frame[SOURCE_ROW] = np.zeros(0, np.int64)
        notes = []
        raw = tabular.to_raw(frame, empty_set_aside(), path, "csv", mapping, notes, renamed)
        read.notes, read.columns_used = notes, dict(raw.columns_used)
    read.notes = head + read.notes
    return read


def _malformed(records, names: list[str]) -> list[dict]:
    """The reader's set-aside rows of one block, as `tabular.read_table` writes them."""
    return [{"source_row": str(number), "reason": "malformed_record", "column": "",
             "detail": f"line {records.line(number)}: {fields} fields, header has "
                       f"{len(names)}: {text[:200]}"}
            for number, fields, text in sorted(records.bad)]


def _instance_key(frame: pd.DataFrame, mapping: Mapping) -> pa.Array:
    """Each row's instance id as `build_log` reads it: the column (or a constant), cleaned
    (`normalize._clean_text`, once per distinct value)."""
    n = len(frame)
    if C.case_id in mapping.constants:
        codes, values = np.zeros(n, dtype=np.int8), pd.Series([mapping.constants[C.case_id]])
    else:
        codes, distinct = text_codes(frame[C.case_id])
        values = pd.Series(pd.arrays.ArrowStringArray(distinct.cast(pa.large_string())))
    cleaned = _text_array(_clean_text(values))
    return pc.take(cleaned, pa.array(codes, mask=codes < 0))


def _text_array(series: pd.Series) -> pa.Array:
    """A text Series as one Arrow large_string array."""
    array = pa.array(series.astype("string").array, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.large_string())


# --- the passes ------------------------------------------------------------------------------

_KEY, _CASE, _RULE, _ORDER = ("__officemine_key", "__officemine_case", "__officemine_rule",
                              "__officemine_order")
_ATTEMPT_TIMES = ("start", "first_submits", "refused_at")


class _Import:
    """One streaming import: its spill folder, its DuckDB connection, its counts."""

    def __init__(self, path: Path, mapping: Mapping, timezone: str | None, link: bool,
                 limit: int, rows: int, work: Path) -> None:
        import duckdb

        self.path, self.mapping, self.link, self.rows, self.work = (path, mapping, link, rows,
                                                                    work)
        self.tz = timezone or mapping.timezone or DEFAULT_TIMEZONE
        (work / "raw").mkdir()
        (work / "attempts").mkdir()
        (work / "aside").mkdir()
        self.db = duckdb.connect()
        # bytes computed here, a path we made: nothing from the input reaches the SQL
        self.db.execute(f"SET memory_limit = '{max(limit // _DUCKDB_SHARE, 128 << 20) >> 20}MB'")
        self.db.execute(f"SET temp_directory = '{_literal(work / 'duckdb')}'")
        self.db.execute("SET preserve_insertion_order = false")
        try:
            self.db.execute("SET enable_progress_bar = false")
        except duckdb.Error:
            pass

    def run(self, output: Path) -> None:
        from officemine.base.atomic import atomic_paths, remove
        from officemine.log.eventlog import log_metadata
        from officemine.importing import _office_hours_said

        read = _spill_csv(self.path, self.mapping, self.work / "raw")
        if not read.files:
            raise _Empty
        names = [n for n in pq.read_schema(read.files[0]).names if n != _KEY]
        self.names = names
        raw_files = _files_sql(self.work / "raw")
        applies = self.link and self.mapping.linking.enabled is not False
        ambiguous = 0
        if applies:
            ambiguous = self._link_instances(raw_files)
        if applies and any((self.work / "roots").glob("*.parquet")):
            query = (f"SELECT r.*, coalesce(l.root, r.{_KEY}) AS {_CASE}, "
                     f"coalesce(l.rule, 0)::TINYINT AS {_RULE} FROM {raw_files} r "
                     f"LEFT JOIN {_files_sql(self.work / 'roots')} l ON r.{_KEY} = l.instance "
                     f"ORDER BY {_CASE} NULLS LAST, {SOURCE_ROW}")
        else:
            query = (f"SELECT *, {_KEY} AS {_CASE}, 0::TINYINT AS {_RULE} FROM {raw_files} "
                     f"ORDER BY {_KEY} NULLS LAST, {SOURCE_ROW}")
        calendar = self.mapping.calendar_in(self.tz)
        parquet = self.work / "log.parquet"
        reports, aside_columns, outside, acted, cases = [], None, 0, 0, 0
        one_type = True         # batches hold whole cases: the log's is every batch's
        writer = None
        from officemine.log.eventlog import one_type_per_case, with_visits
        from officemine.importing import _outside_office_hours
        try:
            for number, table in enumerate(self._whole(query, _CASE)):
                raw = self._raw(table)
                pairs = table.select([_KEY, _CASE, _RULE])
                events, report, aside = build_log(raw, self.mapping, self.tz, link=self.link,
                                                  linker=_given_links(pairs))
                del raw, table, pairs
                reports.append(report)
                cases += report.cases
                if aside_columns is None:
                    aside_columns = list(aside.columns)
                if len(aside):
                    aside = aside.copy()
                    aside[_ORDER] = pd.to_numeric(aside["source_row"]).astype("int64")
                    pq.write_table(pa.Table.from_pandas(aside, preserve_index=False),
                                   self.work / "aside" / f"aside-{number:06d}.parquet")
                del aside
                out, n = _outside_office_hours(events[C.acted_at], calendar)
                outside, acted = outside + out, acted + n
                log = with_visits(pa.Table.from_pandas(events, preserve_index=False))
                del events
                one_type = one_type and one_type_per_case(log)
                if writer is None:
                    writer = pq.ParquetWriter(parquet, log.schema, compression="zstd")
                elif not log.schema.equals(writer.schema, check_metadata=False):
                    log = log.cast(writer.schema)
                writer.write_table(log)
                del log
                pa.default_memory_pool().release_unused()   # the batch's buffers: give back
            report = _merged(reports, read, ambiguous)
            report, calendar = _office_hours_said(outside, acted, report, calendar)
            aside_path = output.with_suffix(".set_aside.csv")
            rows_aside = report.rows_set_aside
            if rows_aside:
                report = dataclasses.replace(report, set_aside_file=str(aside_path))
            writer.add_key_value_metadata(log_metadata(
                timezone=self.tz, cases=cases, calendar=calendar,
                mapping=self.mapping.to_dict(), report=report, one_type_per_case=one_type))
        finally:
            if writer is not None:
                writer.close()
        targets = [aside_path, output] if rows_aside else [output]
        with atomic_paths(*targets, inputs=[str(self.path)]) as temps:
            if rows_aside:
                self._write_aside(temps[0], read, aside_columns)
            shutil.move(str(parquet), temps[-1])
        if not rows_aside:
            remove(aside_path, inputs=[str(self.path)])

    # --- instances ---------------------------------------------------------------------------
    def _link_instances(self, raw_files: str) -> int:
        """Pass over whole instances: collect their attempts, link them all at once, and
        write the linked ones (instance, root, rule) for the pass over cases. Returns the
        ambiguous links."""
        written: list[Path] = []

        query = f"SELECT * FROM {raw_files} ORDER BY {_KEY} NULLS LAST, {SOURCE_ROW}"
        for table in self._whole(query, _KEY):
            found = instance_attempts(self._raw(table), self.mapping, self.tz)
            if found is not None:
                file = self.work / "attempts" / f"attempts-{len(written):06d}.parquet"
                pq.write_table(found, file)
                written.append(file)
            del table, found
            pa.default_memory_pool().release_unused()
        if not written:
            return 0
        roots, ambiguous = link_attempts(written, self.mapping, self.tz, self.db)
        if roots is not None:
            (self.work / "roots").mkdir(exist_ok=True)
            pq.write_table(roots, self.work / "roots" / "roots.parquet")
        return ambiguous

    # --- batches -----------------------------------------------------------------------------
    def _whole(self, query: str, key: str) -> Iterator[pa.Table]:
        """The query's rows in batches of at least `rows` rows (but the last), never cutting
        a run of equal `key` (rows are ordered by it)."""
        from officemine.log.eventlog import whole_runs

        return whole_runs(self.db.sql(query).to_arrow_reader(min(self.rows, 100_000)),
                          self.rows, key)

    def _raw(self, table: pa.Table) -> RawEvents:
        return raw_events(table, self.names, self.path)

    def _write_aside(self, path: Path, read: _Read, columns: list[str]) -> None:
        """The set-aside file: the reader's malformed rows, then the others in source order."""
        query = (f"SELECT * EXCLUDE ({_ORDER}) FROM {_files_sql(self.work / 'aside')} "
                 f"ORDER BY {_ORDER}") if any((self.work / "aside").glob("*.parquet")) else None
        write_aside(path, read.malformed, columns, () if query is None else (
            batch.to_pandas() for batch in self.db.sql(query).to_arrow_reader(100_000)))


def instance_attempts(raw: RawEvents, mapping: Mapping, tz: str) -> pa.Table | None:
    """The attempts (`linking.Attempts`) of the whole instances in `raw`, as `build_log`
    finds them, as an Arrow table (None: no instance); the pass over instances of an import
    that links attempts across batches or partitions."""
    found: list[pa.Table] = []

    def collect(attempts: linking.Attempts) -> linking.Links:
        columns = {"instance": _text_array(attempts.instance)}
        for name in _ATTEMPT_TIMES:
            columns[name] = pa.array(getattr(attempts, name))
        for name in ("applicant", "submitter", "process", "field"):
            values = getattr(attempts, name)
            if values is not None:
                columns[name] = _text_array(values)
        for i, values in enumerate(attempts.match.values()):
            columns[f"match_{i}"] = (_text_array(values) if not
                                     pd.api.types.is_numeric_dtype(values)
                                     else pa.array(values.astype("Float64").array,
                                                   from_pandas=True))
        found.append(pa.table(columns))
        raise _Collected      # the rest of build_log is the pass over cases' work

    try:
        build_log(raw, mapping, tz, link=True, linker=collect)
    except _Collected:
        pass
    return found[0] if found else None


def link_attempts(found: pa.Table | Sequence[Path], mapping: Mapping, tz: str,
                  db=None) -> tuple[pa.Table | None, int]:
    """Link the attempts of the whole log at once (`instance_attempts` of every batch, as
    one table or in the Parquet files they were written to, in instance order): the linked
    instances with their root and rule (None: none linked), and the ambiguous links.

    No text is held in Python: DuckDB (`db`, with its memory limit and spill folder; a fresh
    connection when None) joins link-field values to instance ids and sorts each text key
    out of core, and the equality codes are numbered from the sorted stream
    (`_sorted_codes`). What Python holds is a few integers per instance — about 45 bytes,
    0.7 GB for the 15.6M instances of a 100M-event export — and, at the end, the linked
    instances' ids. `linking.link` does the same with pandas for the attempts of one batch.
    """
    import duckdb

    db = duckdb.connect() if db is None else db
    files = None if isinstance(found, pa.Table) else [Path(f) for f in found]
    names = found.column_names if files is None else pq.read_schema(files[0]).names
    view = "officemine_attempts"
    if files is None:
        n = found.num_rows
        db.register(f"{view}_table", found.append_column("pos", pa.array(np.arange(n))))
        db.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {view}_table")
    else:      # the files hold the instances in order: each file's first position
        sizes = [pq.ParquetFile(f).metadata.num_rows for f in files]
        n = int(sum(sizes))
        bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        listed = ", ".join(f"'{_literal(f)}'" for f in files)
        offsets = ", ".join(f"('{_literal(f)}', {int(b)})" for f, b in zip(files, bases))
        db.execute(  # paths we made and integers: nothing from the input reaches the SQL
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT a.* EXCLUDE (filename, "
            f"file_row_number), o.base + a.file_row_number AS pos FROM read_parquet([{listed}], "
            f"filename = true, file_row_number = true, union_by_name = true) a "
            f"JOIN (VALUES {offsets}) o(file, base) ON a.filename = o.file")

    def column(name: str) -> np.ndarray:      # file by file into one array: one copy held
        if files is None:
            return found.column(name).combine_chunks().to_numpy(zero_copy_only=False)
        out, at = None, 0
        for file in files:
            values = pq.read_table(file, columns=[name]).column(name).combine_chunks()
            values = values.to_numpy(zero_copy_only=False)
            out = np.empty(n, dtype=values.dtype) if out is None else out
            out[at:at + len(values)] = values
            at += len(values)
        pa.default_memory_pool().release_unused()
        return out

    def text(name: str) -> str:          # a column the source lacks is missing everywhere
        return f'"{name}"' if name in names else "NULL::VARCHAR"

    try:
        start = column("start")
        first_submits = column("first_submits")
        refused_at = column("refused_at")
        field_target = np.full(n, -1, dtype=np.int64)
        field_key = np.full(n, -1, dtype=np.int64)
        if "field" in names:
            # a value equal to an instance's id names that instance; any other value is a
            # key the instances holding it share
            named = (f"SELECT a.pos AS a, t.pos AS t FROM {view} a JOIN {view} t "
                     f"ON a.field = t.instance")
            pairs = db.sql(named).fetchnumpy()
            field_target[pairs["a"]] = pairs["t"]
            del pairs
            field_key = _sorted_codes(db, f"SELECT a.pos, a.field AS k0 FROM {view} a "
                                          f"ANTI JOIN {view} t ON a.field = t.instance "
                                          f"WHERE a.field IS NOT NULL", 1, n)
        match = sorted((c for c in names if c.startswith("match_")), key=lambda c: int(c[6:]))
        form_key = np.full(n, -1, dtype=np.int64)
        if match:
            # the form rule's request key (`linking.request_keys`): the originator (the
            # applicant, else the submitter), the process type and the form values, where
            # the originator and at least one form value are known
            applicant, submitter = text("applicant"), text("submitter")
            keys = [f"{applicant} IS NULL", f"coalesce({applicant}, {submitter})",
                    text("process"), *(f'"{c}"' for c in match)]
            known = " OR ".join(f'"{c}" IS NOT NULL' for c in match)
            form_key = _sorted_codes(
                db, "SELECT pos, " + ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
                + f" FROM {view} WHERE ({applicant} IS NOT NULL OR {submitter} IS NOT NULL) "
                f"AND ({known})", len(keys), n)
        links = linking.link_attempts(start=start, first_submits=first_submits,
                                      refused_at=refused_at, form_key=form_key,
                                      field_target=field_target, field_key=field_key,
                                      window_workdays=mapping.linking.window_workdays,
                                      calendar=mapping.calendar_in(tz))
        del start, first_submits, refused_at, form_key, field_target, field_key
        linked = np.flatnonzero(links.root != np.arange(n))
        if not len(linked):
            return None, links.ambiguous
        db.register(f"{view}_linked", pa.table({
            "pos": pa.array(linked), "root_pos": pa.array(links.root[linked]),
            "rule": pa.array(links.rule[linked].astype(np.int8))}))
        try:
            ids = (f"SELECT a.instance AS instance, r.instance AS root, l.rule AS rule "
                   f"FROM {view}_linked l JOIN {view} a ON a.pos = l.pos "
                   f"JOIN {view} r ON r.pos = l.root_pos ORDER BY l.pos")
            roots = db.sql(ids).to_arrow_table()
        finally:
            db.unregister(f"{view}_linked")
        return roots, links.ambiguous
    finally:
        db.execute(f"DROP VIEW IF EXISTS {view}")
        if files is None:
            db.unregister(f"{view}_table")


def _sorted_codes(db, query: str, width: int, n: int, batch_rows: int = 1_000_000
                  ) -> np.ndarray:
    """Equality codes of the key ``k0 … k{width-1}`` of the rows `query` gives, each with its
    position ``pos`` among `n`: equal keys (missing equal to missing) share a code 0, 1, …,
    and a position the query leaves out gets -1. DuckDB sorts the rows out of core; the codes
    are numbered from the sorted stream batch by batch, so only the codes are held."""
    codes = np.full(n, -1, dtype=np.int64)
    keys = [f"k{i}" for i in range(width)]
    in_order = f"SELECT * FROM ({query}) ORDER BY {', '.join(keys)}"
    ordered = db.sql(in_order)
    last, code = None, -1
    for batch in ordered.to_arrow_reader(batch_rows):
        if not batch.num_rows:
            continue
        table = pa.Table.from_batches([batch])
        rows = table if last is None else pa.concat_tables([last, table])
        new = np.zeros(rows.num_rows, dtype=bool)
        new[0] = last is None
        for key in keys:            # a row starts a new key where any part differs
            values = rows.column(key).combine_chunks()
            after, before = values.slice(1), values.slice(0, len(values) - 1)
            same = pc.or_(pc.fill_null(pc.equal(after, before), False),
                          pc.and_(pc.is_null(after), pc.is_null(before)))
            new[1:] |= ~same.to_numpy(zero_copy_only=False)
        numbered = code + np.cumsum(new)
        codes[table.column("pos").to_numpy()] = numbered[0 if last is None else 1:]
        code = int(numbered[-1])
        last = table.slice(table.num_rows - 1)
    return codes


def raw_events(table: pa.Table, names: list[str], path: Path) -> RawEvents:
    """A batch's rows as the reader gave them (`tabular.to_raw`; columns `names`), text
    coded."""
    frame = {}
    for name in names:
        column = table[name]
        if name == SOURCE_ROW:
            frame[name] = column.to_numpy()
            continue
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        codes, values = dictionary_codes(pc.dictionary_encode(column))
        frame[name] = coded_text(codes, values.cast(pa.large_string()))
    return RawEvents(frame=pd.DataFrame(frame, index=pd.RangeIndex(table.num_rows)),
                     source_file=str(path), format="csv", rows_read=table.num_rows)


def write_aside(path: Path, malformed: list[dict], columns: list[str], parts) -> None:
    """The set-aside file, as `atomic.csv_to` writes one frame: the reader's malformed rows,
    then the other set-aside rows (`parts`: frames in source order)."""
    from officemine.base.atomic import safe_frame

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        first = set_aside_rows(malformed).reindex(columns=columns).astype("string")
        safe_frame(first).to_csv(fh, index=False)
        for part in parts:
            part = part.reindex(columns=columns).astype("string")
            safe_frame(part).to_csv(fh, index=False, header=False)


class _Collected(Exception):
    """A batch's attempts are collected: its pass over instances needs nothing more from
    `build_log`. Never escapes this module."""


class _Empty(Exception):
    """The export holds no row: the in-memory import says what is missing. Never escapes
    this package."""


def _given_links(pairs: pa.Table):
    """A `build_log` linker that joins each instance to the case the whole log's linking
    gave it (`pairs`: instance id, case id and rule of each row of the batch)."""
    def linker(attempts: linking.Attempts) -> linking.Links:
        instance = _text_array(attempts.instance)
        keys = pairs[_KEY].combine_chunks().cast(pa.large_string())
        at = pc.index_in(instance, value_set=keys)
        case = pc.take(pairs[_CASE].combine_chunks().cast(pa.large_string()), at)
        root = pc.index_in(case, value_set=instance).to_numpy(zero_copy_only=False)
        rule = pc.take(pairs[_RULE].combine_chunks(), at).to_numpy(zero_copy_only=False)
        if np.isnan(root.astype(float)).any():           # a bug, never a data problem
            raise AssertionError("a linked instance's case is not in its batch")
        return linking.Links(root.astype(np.int64), rule.astype(np.int8), 0)
    return linker


def _files_sql(folder: Path) -> str:
    return f"read_parquet('{_literal(folder)}/*.parquet')"


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _merged_notes(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The notes of the batches as one import gives them: a note that counts something (a
    `Said` with a count ``n``) is one note with the counts summed (its other parameters, such
    as examples, are the first batch's), others appear once; in the order the batches give
    them."""
    order: list[tuple] = []
    merged: dict[tuple, str] = {}
    for notes in parts:
        previous = -1
        for note in notes:
            counted = isinstance(note, Said) and type(note.params.get("n")) is int
            key = ("counted", note.key) if counted else ("text", str(note))
            if key not in merged:
                order.insert(previous + 1, key)
                merged[key] = note
            elif counted:
                first = merged[key]
                merged[key] = Said(first.key, **{**first.params,
                                                 "n": first.params["n"] + note.params["n"]})
            previous = order.index(key)
    return tuple(merged[k] for k in order)


def _added(dicts: list[dict[str, int] | None]) -> dict[str, int]:
    total: dict[str, int] = {}
    for d in dicts:
        for k, v in (d or {}).items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def _merged(reports: list[ImportReport], read: _Read, ambiguous: int) -> ImportReport:
    """One import report from the batches' and the reader's."""
    first = reports[0]
    total = (lambda name: sum(getattr(r, name) or 0 for r in reports))
    by_reason = _added([r.set_aside_by_reason for r in reports]
                       + [{"malformed_record": len(read.malformed)} if read.malformed else {}])
    unknown = _added([r.unknown_outcome_words for r in reports])
    report = ImportReport(
        source_file=first.source_file, format=first.format, rows_read=read.rows_read,
        rows_accepted=total("rows_accepted"),
        rows_set_aside=total("rows_set_aside") + len(read.malformed),
        set_aside_by_reason=by_reason, cases=total("cases"), open_cases=total("open_cases"),
        out_of_order_cases=total("out_of_order_cases"), timezone=first.timezone,
        arrivals_recorded=total("arrivals_recorded"),
        arrivals_inferred=total("arrivals_inferred"), pending_items=total("pending_items"),
        columns_used=dict(read.columns_used),
        outcome_counts=_added([r.outcome_counts for r in reports]),
        unknown_outcome_words=dict(list(unknown.items())[:50]),
        notes=tuple(read.notes) + _merged_notes([r.notes for r in reports]),
        warnings=tuple(dict.fromkeys(w for r in reports for w in r.warnings)),
        instances=total("instances"),
        links_by_rule={k: sum(r.links_by_rule[k] for r in reports)
                       for k in first.links_by_rule},
        ambiguous_links=ambiguous, rejections_as_returns=total("rejections_as_returns"))
    if not report.balanced:  # a bug, never a data problem: fail loudly
        raise AssertionError(f"row accounting does not balance: {report}")
    return report
