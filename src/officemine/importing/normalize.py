"""Turn a reader's `RawEvents` into the canonical, validated event log.

One pipeline for every source: constants and label rules, outcome words, times, amounts,
checks that set rows aside with a reason, ordering within each case, linking attempts a
source started as separate instances (`officemine.importing.linking`), the objects of a case,
returns and resubmissions, and the arrival time each wait is measured from (recorded, or
inferred from the previous action).

A column is worked on as codes into its distinct values (`_Column`): an export repeats a few
hundred nodes, people, outcome words and times over millions of rows, so text is cleaned,
mapped and parsed once per distinct value, and the per-case steps (duplicates, ordering,
resubmissions, arrivals, case attributes) run on integer arrays. Text is materialised once,
for the accepted rows in their final order; raw values only for the rows set aside.
No Python loop per row.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.base.errors import MappingError
from officemine.importing import linking
from officemine.importing.mapping import LINK_MATCH_FIELDS, Mapping
from officemine.importing.raw import (INVISIBLE, LABEL, TEXT, RawEvents, decoded_text,
                                      empty_set_aside, is_coded, text_codes)
from officemine.importing.raw import group_ids as _group_ids
from officemine.log.import_report import ImportReport
from officemine.importing.timeparse import implausible, parse_times
from officemine.log.schema import (C, CANONICAL_ORDER, CASE_ATTRIBUTES, DECISIONS, NON_BLOCKING,
                                   OUTCOME_LOOKUP, OUTCOMES, TERMINAL, normalize_word)
from officemine.base.text import Said, joined, label

DEFAULT_TIMEZONE = "Asia/Shanghai"
_STRING_FIELDS = (C.case_id, C.node, C.resource, C.dept, C.comment, C.process_type, C.urgency,
                  C.applicant, C.applicant_dept, C.title, C.object)
_NAT = np.iinfo(np.int64).min                      # NaT as int64 microseconds
_OUTCOME = {o: i for i, o in enumerate(OUTCOMES)}  # outcomes are int8 codes in OUTCOMES
_ARRIVAL_SOURCES = ("recorded", "inferred", "none")
_SUBMITS = [_OUTCOME["submit"], _OUTCOME["resubmit"]]
_DECISIONS = [_OUTCOME[o] for o in sorted(DECISIONS)]
_NON_BLOCKING = [_OUTCOME[o] for o in sorted(NON_BLOCKING)]
#: an object is sent back by these: the next submission of it is a resubmission
_SENT_BACK = [_OUTCOME[o] for o in ("reject", "return", "withdraw")]
#: sources whose instances are cases by construction: attempts are not linked unless the
#: mapping says so ([linking] enabled = true)
_CASE_LOGS = frozenset({"xes"})


class _Column:
    """One column as codes into its distinct values: row i holds ``values[codes[i]]``, and
    code -1 is a missing value.

    Coded text (`raw.coded_text`, the CSV reader's columns), categoricals and text are coded
    by their distinct values; other columns (numbers, datetimes, mixed spreadsheet cells) get
    one code per row and are their own values. Functions of the values (`map`) then see each
    distinct value once.
    """

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: pd.Series) -> None:
        self.codes = codes
        self.values = values.reset_index(drop=True)

    @classmethod
    def of(cls, series: pd.Series) -> "_Column":
        if is_coded(series):
            codes, values = text_codes(series)
            values = (pd.Series(pd.arrays.ArrowStringArray(values.cast(pa.large_string())))
                      if pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
                      else pd.Series(pd.arrays.ArrowExtensionArray(values)))
            return cls(codes, values)
        if isinstance(series.dtype, pd.CategoricalDtype):
            return cls(series.cat.codes.to_numpy(), pd.Series(series.cat.categories))
        if isinstance(series.dtype, pd.StringDtype) or (
                series.dtype == object
                and pd.api.types.infer_dtype(series, skipna=True) == "string"):
            codes, uniques = pd.factorize(series)
            return cls(codes, pd.Series(uniques, dtype=series.dtype))
        return cls(np.arange(len(series)), series)

    @classmethod
    def constant(cls, value, n: int) -> "_Column":
        """`value` in every row, as ``df[column] = value`` gives it."""
        return cls(np.zeros(n, dtype=np.int8), pd.Series([value]))

    @classmethod
    def missing(cls, n: int, dtype) -> "_Column":
        return cls(np.full(n, -1, dtype=np.int8), pd.Series([], dtype=dtype))

    def map(self, func) -> "_Column":
        """Apply a value-by-value function of a Series to the distinct values."""
        return _Column(self.codes, func(self.values))

    def per_row(self, per_value: np.ndarray, missing) -> np.ndarray:
        """Spread one number per distinct value over the rows (`missing` where code -1)."""
        return np.append(per_value, missing)[self.codes]    # code -1 picks the appended one

    def isna(self) -> np.ndarray:
        return self.per_row(self.values.isna().to_numpy(bool), True)

    def key(self, rows: np.ndarray) -> np.ndarray:
        """Codes of the given rows, equal exactly where the values are (missing: -1)."""
        codes, _ = pd.factorize(self.values)
        return np.append(codes, -1)[self.codes[rows]]

    def i8(self) -> np.ndarray:
        """Datetime values as int64 microseconds per row (NaT: `_NAT`)."""
        return self.per_row(self.values.array.asi8, _NAT)

    def take(self, rows: np.ndarray) -> pd.Series:
        return self.take_codes(self.codes[rows])

    def take_codes(self, codes: np.ndarray) -> pd.Series:
        if self.values.dtype == TEXT:            # Arrow takes with any integer codes
            return decoded_text(codes, self.values.array.__arrow_array__())
        return pd.Series(self.values.array.take(codes.astype(np.intp), allow_fill=True))


class _SetAside:
    """Rows set aside so far; a row keeps the first reason it gets."""

    def __init__(self, n: int) -> None:
        self.marked = np.zeros(n, dtype=bool)
        self.parts: list[tuple[np.ndarray, str, str, object]] = []

    def __call__(self, mask: np.ndarray, reason: str, column: str, detail) -> None:
        """Mark rows; `detail` is a string, or a function of the row positions giving a
        Series (computed for the marked rows only)."""
        rows = np.flatnonzero(mask & ~self.marked)
        if not len(rows):
            return
        self.marked[rows] = True
        if callable(detail):
            detail = detail(rows).astype("string").to_numpy(dtype=object)
        self.parts.append((rows, reason, column, detail))

    def collect(self) -> tuple[np.ndarray, list, list, list]:
        """(rows in source order, reason, column, detail of each)."""
        if not self.parts:
            return np.zeros(0, dtype=np.int64), [], [], []
        rows = np.concatenate([p[0] for p in self.parts])
        order = np.argsort(rows, kind="stable")
        def spread(i: int) -> np.ndarray:     # one value per part, or one per row
            return np.concatenate([
                part[i] if isinstance(part[i], np.ndarray)
                else np.full(len(part[0]), part[i], dtype=object) for part in self.parts])

        return rows[order], *(list(spread(i)[order]) for i in (1, 2, 3))


def build_log(raw: RawEvents, mapping: Mapping | None = None, timezone: str | None = None, *,
              link: bool = True, linker=None) -> tuple[pd.DataFrame, ImportReport, pd.DataFrame]:
    """Validate and normalise; return (events, report, set_aside rows).

    link: link attempts the source started as separate instances into one case (see
    `officemine.importing.linking`); False keeps every instance a case of its own.
    linker: a function of the instances' `linking.Attempts` giving their `linking.Links`,
    in place of `linking.link` (the streaming import links the whole log's instances, of
    which `raw` holds a batch).
    """
    mapping = mapping or Mapping()
    tz = timezone or mapping.timezone or DEFAULT_TIMEZONE
    notes = list(raw.notes)
    warnings: list[str] = []
    frame = raw.frame.reset_index(drop=True)
    n = len(frame)
    cols = _columns(frame, mapping, notes)
    set_aside = _SetAside(n)

    # --- required identifiers -------------------------------------------------------------
    set_aside(cols[C.case_id].isna(), "missing_case_id", C.case_id, "")
    if C.node not in cols:
        cols[C.node] = _Column.missing(n, "string")
    set_aside(cols[C.node].isna(), "missing_node", C.node, "")

    outcome, unknown_words = _outcomes(cols, raw, mapping, set_aside, warnings)
    acted, arrived, acted_at, arrived_at, acted_bad = _checked_times(cols, tz, set_aside)
    pending = _pending_items(outcome, acted_at, arrived_at, acted_bad, set_aside, notes)
    del acted_bad
    naive_note = _timezone_note(raw, tz)
    if naive_note:
        notes.append(naive_note)
    if C.amount in cols:
        _check_amounts(cols, set_aside)
    ok, order, case_rank = _drop_duplicates(frame, raw, cols, outcome, acted, arrived, pending,
                                            set_aside)

    # --- split ----------------------------------------------------------------------------
    aside = _aside_rows(frame, raw, set_aside)
    del set_aside
    rows = ok[order].astype(_index_type(n))       # source position of each accepted row
    del ok, order
    case_start, out_of_order = _case_starts(case_rank, rows)
    instances = int((case_start == np.arange(len(rows))).sum())
    cols[C.instance_id] = cols[C.case_id]          # the source's own instance of each event

    # --- attempts of one request, linked into one case (case ids change) ------------------
    links = linking.Links.none(instances)
    not_linked = _not_linked(raw, mapping, link)
    if not_linked is not None:
        notes.append(not_linked)
    elif len(rows):
        links = _link(cols, frame, raw, mapping, tz, rows, case_start, outcome, pending,
                      acted_at, notes, linker)
        if links.linked:
            cols[C.case_id] = _linked_cases(cols[C.case_id], rows, case_start, links)
            order, case_rank, _ = _sort_rows(cols[C.case_id], acted, arrived, pending, rows)
            rows = rows[order]
            case_start, _ = _case_starts(case_rank, rows)
            del order
    del case_rank

    outcome = outcome[rows]
    pending = pending[rows]
    acted_at, arrived_at = acted_at[rows], arrived_at[rows]
    recoded = _objects_and_resubmissions(cols, rows, case_start, outcome, mapping, notes)
    wait_start, arrival_source = _infer_arrivals(outcome, acted_at, arrived_at, case_start)
    times = {C.acted_at: acted_at, C.arrived_at: arrived_at, C.wait_start: wait_start}
    del acted_at, arrived_at, wait_start
    for column, i8 in times.items():                   # each int64 array freed once converted
        times[column] = _times(i8, acted.values.dtype)
    del acted, arrived, i8
    events = _finish_columns(frame, cols, rows, case_start, times, outcome=outcome,
                             pending=pending, arrival_source=arrival_source,
                             source_file=raw.source_file)
    del cols, times

    rows_set_aside = len(aside)
    n_cases = int((case_start == np.arange(len(case_start))).sum())
    report = ImportReport(
        source_file=raw.source_file, format=raw.format, rows_read=raw.rows_read,
        rows_accepted=len(events), rows_set_aside=rows_set_aside,
        set_aside_by_reason={k: int(v) for k, v in aside["reason"].value_counts().items()},
        cases=n_cases, open_cases=_open_cases(outcome, pending, case_start, n_cases),
        out_of_order_cases=out_of_order, timezone=tz,
        arrivals_recorded=int((arrival_source == 0).sum()),
        arrivals_inferred=int((arrival_source == 1).sum()),
        pending_items=int(pending.sum()),
        columns_used=dict(raw.columns_used),
        outcome_counts={k: int(v) for k, v in events[C.outcome].value_counts().items()},
        unknown_outcome_words={str(k): int(v) for k, v in unknown_words.items()},
        notes=tuple(notes), warnings=tuple(warnings),
        instances=instances, links_by_rule=links.by_rule, ambiguous_links=links.ambiguous,
        rejections_as_returns=recoded,
    )
    if not report.balanced:  # a bug, never a data problem: fail loudly
        raise AssertionError(f"row accounting does not balance: {report}")
    return events, report, aside


# --- steps -----------------------------------------------------------------------------------

def _columns(frame: pd.DataFrame, mapping: Mapping, notes: list) -> dict[str, _Column]:
    """The source's columns as `build_log` reads them: the mapping's constants added, text
    cleaned, and the mapping's label rules applied (else the label is the node)."""
    n = len(frame)
    cols = {c: _Column.of(frame[c]) for c in (*_STRING_FIELDS, C.outcome, C.acted_at,
                                              C.arrived_at, C.amount, LABEL) if c in frame}

    for column, value in mapping.constants.items():
        cols[column] = _Column.constant(value, n)
        notes.append(Said("import.constant", column=column, column_zh=label(column, "zh"),
                          value=value))

    for column in _STRING_FIELDS:
        if column in cols:
            cols[column] = cols[column].map(_clean_text)

    if mapping.label_rules and LABEL in cols:
        # Rules see whole rows (label, node, outcome together): worked on as full columns.
        every_row = np.arange(n)
        df = pd.DataFrame({c: cols[c].take(every_row) for c in (LABEL, C.node, C.outcome,
                                                                 C.object) if c in cols})
        _apply_label_rules(df, mapping, notes)
        cols[C.node], cols[C.outcome] = _Column.of(df[C.node]), _Column.of(df[C.outcome])
        if df[C.object].notna().any():
            cols[C.object] = _Column.of(df[C.object])
        del df
    elif LABEL in cols and C.node not in cols:
        cols[C.node] = cols[LABEL].map(_clean_text)
    return cols


def _outcomes(cols: dict[str, _Column], raw: RawEvents, mapping: Mapping,
              set_aside: _SetAside, warnings: list) -> tuple[np.ndarray, dict[str, int]]:
    """Each row's outcome code (-1: none) and the words no outcome matched (the rows with
    one set aside as ``unknown_outcome``), counted."""
    n = len(set_aside.marked)
    unknown_words: dict[str, int] = {}
    if C.outcome not in cols:
        outcome = np.full(n, _OUTCOME["other"], dtype=np.int8)
        warnings.append(Said("import.no_outcome_column"))
    else:
        words = cols[C.outcome].map(_clean_text)
        if raw.outcomes_canonical:
            mapped = words.values.where(words.values.isin(OUTCOMES))
        else:
            lookup = {**OUTCOME_LOOKUP, **mapping.outcomes}
            distinct = {w: lookup.get(normalize_word(w)) for w in words.values.dropna().unique()}
            mapped = words.values.map(distinct, na_action="ignore").astype("string")
        outcome = words.per_row(pd.Categorical(mapped, categories=OUTCOMES).codes, -1)
        outcome = outcome.astype(np.int8)
        empty = words.isna()
        unknown = ~empty & (outcome < 0)
        if unknown.any():
            counted = np.flatnonzero(unknown & ~set_aside.marked)
            unknown_words = words.take(counted).value_counts().head(50).to_dict()
        set_aside(unknown, "unknown_outcome", C.outcome, words.take)
        del words, empty, unknown
    return outcome, unknown_words


def _checked_times(cols: dict[str, _Column], tz: str, set_aside: _SetAside):
    """The action and arrival times parsed, as columns and as int64 microseconds (`_NAT`:
    none), and which action times failed to parse; rows with a time that does not parse, is
    implausible, or has the action before the arrival are set aside."""
    n = len(set_aside.marked)
    if C.acted_at not in cols:
        cols[C.acted_at] = _Column.constant(pd.NA, n)
    acted_raw = cols[C.acted_at]
    acted, acted_bad = _parse_times(acted_raw, tz)
    set_aside(acted_bad, "unparseable_time", C.acted_at, acted_raw.take)
    set_aside(acted.per_row(implausible(acted.values), False), "implausible_time", C.acted_at,
              acted_raw.take)
    acted_at = acted.i8()
    if C.arrived_at in cols:
        arrived_raw = cols[C.arrived_at]
        arrived, arrived_bad = _parse_times(arrived_raw, tz)
        set_aside(arrived_bad, "unparseable_time", C.arrived_at, arrived_raw.take)
        set_aside(arrived.per_row(implausible(arrived.values), False), "implausible_time",
                  C.arrived_at, arrived_raw.take)
        del arrived_bad
        arrived_at = arrived.i8()
        set_aside((acted_at != _NAT) & (arrived_at != _NAT) & (acted_at < arrived_at),
                  "action_before_arrival", C.arrived_at, _in_wrong_order(arrived, acted))
    else:
        arrived = _Column.missing(n, acted.values.dtype)
        arrived_at = arrived.i8()
    return acted, arrived, acted_at, arrived_at, acted_bad


def _pending_items(outcome: np.ndarray, acted_at: np.ndarray, arrived_at: np.ndarray,
                   acted_bad: np.ndarray, set_aside: _SetAside, notes: list) -> np.ndarray:
    """Which rows are work items still pending at export; a row with neither time is set
    aside, and a decided row without an outcome becomes ``other`` (in `outcome`)."""
    # An arrival without an action is a work item still pending at export: its wait so far
    # is right-censored data, not an error. Neither time at all is an error.
    no_action = (acted_at == _NAT) & ~acted_bad
    pending = no_action & (arrived_at != _NAT)
    set_aside(no_action & ~pending, "missing_time", C.acted_at, "")
    no_outcome = (outcome < 0) & ~pending & ~set_aside.marked
    if no_outcome.any():
        notes.append(Said("import.no_outcome", n=int(no_outcome.sum())))
    outcome[no_outcome] = _OUTCOME["other"]
    if pending.any() and (pending & ~set_aside.marked).any():
        notes.append(Said("import.pending", n=int((pending & ~set_aside.marked).sum())))
    return pending


def _check_amounts(cols: dict[str, _Column], set_aside: _SetAside) -> None:
    """Amounts as numbers (in `cols`); a row whose amount is not one is set aside."""
    amount_raw = cols[C.amount]
    number, bad = _parse_amount(amount_raw.values)
    set_aside(amount_raw.per_row(bad.to_numpy(bool), False), "bad_amount", C.amount,
              amount_raw.take)
    cols[C.amount] = _Column(amount_raw.codes, number)


def _drop_duplicates(frame: pd.DataFrame, raw: RawEvents, cols: dict[str, _Column],
                     outcome: np.ndarray, acted: _Column, arrived: _Column,
                     pending: np.ndarray, set_aside: _SetAside):
    """The rows still accepted (`ok`, source positions), their case order (`order` into
    `ok`) and case rank, with duplicates among them set aside as ``duplicate``."""
    n = len(frame)
    # Duplicates share case and times, hence their place in the case order: once the rows
    # are sorted (stable, so in source order among ties), only rows in a run of equal
    # (case, pending, time) need comparing, and on the rest of the key only (in a run the
    # action time is the same too: the sort time of a pending item is its arrival).
    ok = np.flatnonzero(~set_aside.marked)
    order, case_rank, run = _sort_rows(cols[C.case_id], acted, arrived, pending, ok)
    tied = np.bincount(run)[run] > 1
    candidates = ok[order[tied]]
    key_columns = [cols[C.node], cols.get(C.resource), arrived, cols.get(C.comment),
                   _Column.of(frame[LABEL]) if LABEL in frame else None,
                   _Column.of(frame[raw.record_id])
                   if raw.record_id is not None and raw.record_id in frame else None]
    group = _group_ids([run[tied], outcome[candidates]] + [
        column.key(candidates) for column in key_columns if column is not None])
    del key_columns, run, tied
    seen = np.maximum.accumulate(np.concatenate([[-1], group[:-1]])) if len(group) else group
    dup = group <= seen               # groups are numbered in order of first appearance
    if dup.any():
        first = np.zeros(group.max() + 1, dtype=np.int64)
        first[group[~dup]] = candidates[~dup]
        dup_rows, same_as = candidates[dup], first[group[dup]]
        by_row = np.argsort(dup_rows)
        dup_rows, same_as = dup_rows[by_row], same_as[by_row]
        dup_mask = np.zeros(n, dtype=bool)
        dup_mask[dup_rows] = True
        source_row = _source_rows(frame)
        # the rows marked are exactly `dup_rows`, in the order of `same_as`
        set_aside(dup_mask, "duplicate", "",
                  lambda rows: "same as row " + source_row(same_as).astype("string"))
        kept = ~dup_mask[ok[order]]
        order, case_rank = order[kept], case_rank[kept]
    return ok, order, case_rank


def _not_linked(raw: RawEvents, mapping: Mapping, link: bool) -> str | None:
    """Why the attempts of a request are not linked into one case, if they are not."""
    if not link:
        return Said("import.not_linked_option")
    if mapping.linking.enabled is False:
        return Said("import.not_linked_setting")
    if raw.format in _CASE_LOGS and not mapping.linking.enabled:
        return Said("import.not_linked_traces", format=raw.format)
    return None


def _objects_and_resubmissions(cols: dict[str, _Column], rows: np.ndarray,
                               case_start: np.ndarray, outcome: np.ndarray, mapping: Mapping,
                               notes: list) -> int:
    """Per (case, object): objects numbered, rejections then resubmitted recoded as returns
    (if the mapping says so) and later submits marked resubmits, in `outcome`; returns how
    many rejections were recoded."""
    group = case_start
    if C.object in cols:
        cols[C.object], numbered, obj = _number_objects(cols[C.object], rows, case_start, outcome)
        if numbered:
            notes.append(Said("import.objects_numbered", n=numbered))
        if (obj >= 0).any():
            group = _group_ids([case_start, obj])
        del obj
    sent_back = _rejections_then_resubmitted(outcome, group)
    if mapping.reject_then_resubmit == "return":
        outcome[sent_back] = _OUTCOME["return"]
        recoded = len(sent_back)
        if recoded:
            notes.append(Said("import.rejections_recoded", n=recoded))
    else:
        recoded = 0
        if len(sent_back):
            notes.append(Said("import.rejections_kept", n=len(sent_back)))
    del sent_back
    _mark_resubmissions(outcome, group)
    return recoded


def _clean_text(values: pd.Series) -> pd.Series:
    """Text as one value: without invisible characters (zero-width, an inner BOM) or control
    characters other than tab and line breaks, stripped; empty and null words are missing."""
    text = pc.replace_substring_regex(pa.array(values.astype(TEXT).array).cast(pa.string()),
                                      pattern=f"{INVISIBLE}|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
                                      replacement="")
    s = pd.Series(pd.arrays.ArrowStringArray(text.cast(pa.large_string())),
                  index=values.index).str.strip()
    return s.mask(s.isin(["", "nan", "NaN", "None", "null", "NULL", "NaT"]))


def _apply_label_rules(df: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
    labels = df[LABEL].astype("string")

    def column(name: str) -> pd.Series:
        return (df[name].astype("string") if name in df
                else pd.Series(pd.NA, index=df.index, dtype="string"))

    given = {name: column(name) for name in (C.node, C.outcome, C.object)}
    unmatched = labels.notna()
    for rule in mapping.label_rules:
        pending = labels[unmatched]
        with warnings.catch_warnings():  # groups are read below with extract; here only hit/miss
            warnings.simplefilter("ignore", UserWarning)
            hit = pending.str.contains(rule.pattern, regex=True).fillna(False).astype(bool)
        idx = hit[hit].index
        if idx.empty:
            continue
        groups = (pending[idx].str.extract(rule.pattern) if rule.pattern.groupindex
                  else pd.DataFrame(index=idx))
        for name, fixed in ((C.node, rule.node), (C.outcome, rule.outcome),
                            (C.object, rule.object)):
            if name in groups:
                given[name][idx] = groups[name]
            elif fixed is not None:
                given[name][idx] = fixed
        node = given[C.node]
        no_node = node[idx].isna()
        node[no_node[no_node].index] = labels[no_node[no_node].index]
        unmatched[idx] = False
    node = given[C.node]
    n_unmatched = int(unmatched.sum())
    if n_unmatched:
        examples = labels[unmatched].value_counts().head(5)
        notes.append(Said("import.labels_unmatched", n=n_unmatched, examples=", ".join(
            f"{k!r} ×{v}" for k, v in examples.items())))
        node[unmatched & node.isna()] = labels[unmatched & node.isna()]
    df[C.node] = node.str.strip()
    df[C.outcome] = given[C.outcome]
    df[C.object] = given[C.object].str.strip()


def _timezone_note(raw: RawEvents, tz: str) -> str:
    kinds = [c for c in (C.acted_at, C.arrived_at) if c in raw.frame]
    naive = any(not isinstance(raw.frame[c].dtype, pd.DatetimeTZDtype) for c in kinds)
    return Said("import.naive_times", tz=tz) if naive else ""


def _parse_amount(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Amounts as exports write them: 1,200.00 / ¥1200 / 1200元 / 3万 / RMB 5000."""
    text = pa.array(values.astype(TEXT).array).cast(pa.string())
    text = pc.utf8_trim_whitespace(text)
    present = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)
    cleaned = pc.replace_substring_regex(text, pattern=r"[,，¥￥\s]|元$|^RMB|^CNY", replacement="")
    wan = pc.fill_null(pc.ends_with(cleaned, "万"), False)
    cleaned = pc.replace_substring_regex(cleaned, pattern="万$", replacement="")
    valid = pc.fill_null(pc.match_substring_regex(cleaned, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"),
                         False)
    number = pc.cast(pc.if_else(valid, cleaned, None), pa.float64())
    number = pc.if_else(wan, pc.multiply(number, 1e4), number)
    finite = pc.fill_null(pc.is_finite(number), True)           # 1e309 reads as infinity
    bad = pc.and_(present, pc.invert(pc.and_(valid, finite)))
    number = pc.if_else(finite, number, None)
    return (pd.Series(number.to_numpy(zero_copy_only=False), index=values.index).astype("Float64"),
            pd.Series(bad.to_numpy(zero_copy_only=False), index=values.index))


def _parse_times(column: _Column, tz: str) -> tuple[_Column, np.ndarray]:
    """Parse each distinct value once: (times, failed per row)."""
    times, failed = parse_times(column.values, tz)
    return _Column(column.codes, times), column.per_row(failed.to_numpy(bool), False)


def _in_wrong_order(first: _Column, then: _Column):
    """A function giving the set-aside detail ``"first > then"`` of given row positions whose
    `then` time comes before their `first`; it holds the columns, not `build_log`'s names for
    them (which `build_log` deletes to free memory)."""
    return lambda rows: (first.take(rows).astype("string") + " > "
                         + then.take(rows).astype("string"))


def _source_rows(frame: pd.DataFrame):
    """A function giving the `source_row` text of given row positions."""
    if C.source_row not in frame:
        return lambda rows: _int_text(np.asarray(rows) + 1)
    column = frame[C.source_row]
    if pd.api.types.is_integer_dtype(column.dtype) and not column.hasnans:
        values = column.to_numpy(np.int64)
        return lambda rows: _int_text(values[rows])
    return lambda rows: column.iloc[rows].reset_index(drop=True).astype("string")


def _int_text(values: np.ndarray) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(pc.cast(pa.array(values), pa.large_string())))


def _aside_rows(frame: pd.DataFrame, raw: RawEvents, set_aside: _SetAside) -> pd.DataFrame:
    """The set-aside rows with their raw values (as text), reason, column and detail."""
    rows, reason, column, detail = set_aside.collect()
    aside = frame.iloc[rows].copy()
    aside[C.source_row] = _source_rows(frame)(rows).to_numpy()
    aside[C.source_file] = raw.source_file
    for col in aside.columns:
        aside[col] = aside[col].astype("string")
    aside.insert(0, "detail", pd.array(detail, dtype="string"))
    aside.insert(0, "column", pd.array(column, dtype="string"))
    aside.insert(0, "reason", pd.array(reason, dtype="string"))
    aside = aside.rename(columns={C.source_row: "source_row"})
    return pd.concat([_as_strings(raw.set_aside), aside], ignore_index=True)


def _sort_rows(case: _Column, acted: _Column, arrived: _Column, pending: np.ndarray,
               rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order `rows` by case and time, pending items last; source order breaks ties.

    Returns (order of `rows`, case rank of each sorted row, run of each sorted row: runs
    number the sorted rows of equal case, pending state and time). Case ids and times are
    ranked among their distinct values, so the sort runs on one int64 key.
    """
    case_rank = case.per_row(_ranks(case.values), -1)[rows]
    distinct = np.unique(np.concatenate([acted.values.array.asi8, arrived.values.array.asi8]))
    never = len(distinct)                                   # no time: last, as NaT sorts

    def time_rank(times: _Column) -> np.ndarray:
        i8 = times.values.array.asi8
        return times.per_row(np.where(i8 == _NAT, never, np.searchsorted(distinct, i8)),
                             never)[rows]

    at = time_rank(acted)
    at = np.where(at == never, time_rank(arrived), at)
    wait = pending[rows].astype(np.int64)
    n_cases = int(case_rank.max(initial=-1)) + 1
    if 2 * n_cases * (never + 1) < 1 << 63:
        key = (case_rank * 2 + wait) * (never + 1) + at
        del at, wait
        order = np.argsort(key, kind="stable")
        key = key[order]
        same = key[1:] == key[:-1]
        del key
    else:
        order = np.lexsort((at, wait, case_rank))           # stable: ties keep source order
        same = np.ones(max(len(rows) - 1, 0), dtype=bool)
        for part in (case_rank, wait, at):
            part = part[order]
            same &= part[1:] == part[:-1]
    run = np.cumsum(np.concatenate([[True], ~same])) - 1 if len(rows) else same.astype(np.int64)
    return order, case_rank[order], run


def _index_type(n: int) -> type:
    return np.int32 if n < 1 << 31 else np.int64


def _ranks(values: pd.Series) -> np.ndarray:
    """Dense ranks of the distinct values in sorted order (missing: -1), as
    ``pd.factorize(values, sort=True)`` numbers them, without a Python object per value."""
    if values.dtype != TEXT:
        return pd.factorize(values, sort=True)[0].astype(np.int64)
    array = values.array.__arrow_array__()
    ranks = pc.rank(array, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)
    return np.where(pc.is_null(array).to_numpy(zero_copy_only=False), -1, ranks - 1)


def _case_starts(case_rank: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Position of each sorted row's case start, and how many cases the source had out of
    time order (`rows`: the sorted rows' source positions)."""
    n = len(rows)
    pos = np.arange(n, dtype=rows.dtype)
    first = np.ones(n, dtype=bool)
    first[1:] = case_rank[1:] != case_rank[:-1]
    start = np.maximum.accumulate(np.where(first, pos, 0))
    moved = ~first
    moved[1:] &= rows[1:] < rows[:-1]
    return start, int(len(np.unique(case_rank[moved])))


def _mark_resubmissions(outcome: np.ndarray, group: np.ndarray) -> None:
    """A submission after the first of its case and object (`group`, one id per sorted row)
    is a resubmission: it follows a return, a rejection or a withdrawal."""
    submits = np.flatnonzero(np.isin(outcome, _SUBMITS))
    _, first = np.unique(group[submits], return_index=True)
    later = np.ones(len(submits), dtype=bool)
    later[first] = False
    outcome[submits[later]] = _OUTCOME["resubmit"]


def _rejections_then_resubmitted(outcome: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Positions of the rejections that a submission of the same case and object follows:
    the applicant got the item back and sent it again, which is a return (退回)."""
    rejects = np.flatnonzero(outcome == _OUTCOME["reject"])
    submits = np.flatnonzero(np.isin(outcome, _SUBMITS))
    if not len(rejects) or not len(submits):
        return rejects[:0]
    keys, last = np.unique(group[submits][::-1], return_index=True)   # each group's last
    last_submit = submits[::-1][last]
    at = np.minimum(np.searchsorted(keys, group[rejects]), len(keys) - 1)
    return rejects[(keys[at] == group[rejects]) & (last_submit[at] > rejects)]


def _number_objects(kind: _Column, rows: np.ndarray, case_start: np.ndarray,
                    outcome: np.ndarray) -> tuple[_Column, int, np.ndarray]:
    """The object of each event, a second one of a kind numbered: (object column, how many
    were numbered, object key per sorted row with -1 where there is none).

    A label names the kind of object (Declaration), not which one: a case may hold two
    declarations. A submission of a kind that follows no return, rejection or withdrawal of
    that kind since its last submission starts a new object ('Declaration #2'); the kind's
    later events belong to it.
    """
    code = kind.key(rows)
    present = np.flatnonzero(code >= 0)
    if not len(present):
        return kind, 0, code
    group = _group_ids([case_start[present], code[present]])
    by_group = np.argsort(group, kind="stable")              # time order within each group
    at, group = present[by_group], group[by_group]
    out = outcome[at]
    submit = np.flatnonzero(np.isin(out, _SUBMITS))
    backs = np.cumsum(np.isin(out, _SENT_BACK))
    fresh = np.ones(len(submit), dtype=bool)
    fresh[1:] = ((group[submit[1:]] != group[submit[:-1]])
                 | (backs[submit[1:]] == backs[submit[:-1]]))
    starts_new = np.zeros(len(at), dtype=np.int64)
    starts_new[submit[fresh]] = 1
    seen = np.cumsum(starts_new)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    number = seen - np.repeat((seen - starts_new)[first], np.diff(np.r_[first, len(at)]))
    number = np.maximum(number, 1)            # events before the kind's first submission
    if (number == 1).all():
        return kind, 0, code
    pair = _group_ids([code[at], number])
    _, example = np.unique(pair, return_index=True)
    base = kind.take(rows[at[example]]).astype(TEXT)
    suffix = pd.Series(np.where(number[example] > 1, " #" + number[example].astype(str), ""),
                       dtype=TEXT)
    codes = np.full(len(kind.codes), -1, dtype=np.int64)
    codes[rows[at]] = pair
    key = np.full(len(rows), -1, dtype=np.int64)
    key[at] = pair
    numbered = int(len(np.unique(_group_ids([case_start[at], pair])[number > 1])))
    return _Column(codes, base + suffix), numbered, key


def _link(cols: dict[str, _Column], frame: pd.DataFrame, raw: RawEvents, mapping: Mapping,
          tz: str, rows: np.ndarray, case_start: np.ndarray, outcome: np.ndarray,
          pending: np.ndarray, acted_at: np.ndarray, notes: list[str],
          linker=None) -> linking.Links:
    """Which instance's case each instance joins (`officemine.importing.linking`): each
    instance's first action, refusal, request values and link field, from its sorted rows.

    linker: a function of the `linking.Attempts` giving the `Links` (default `linking.link`);
    the streaming import links across its batches with it."""
    m = len(rows)
    pos = np.arange(m)
    starts = np.flatnonzero(case_start == pos)
    out, waiting, at = outcome[rows], pending[rows], acted_at[rows]
    submits = np.isin(out, _SUBMITS) & ~waiting
    decision = np.isin(out, _DECISIONS) & ~waiting
    acted = ~np.isin(out, _NON_BLOCKING) & ~waiting
    last_decision = np.maximum.reduceat(np.where(decision, pos, -1), starts)
    last_submit = np.maximum.reduceat(np.where(submits, pos, -1), starts)
    last_acted = np.maximum.reduceat(np.where(acted, pos, -1), starts)
    # The request was refused: a rejection nothing was submitted after, or a return the
    # instance stopped at (Weaver has no refusal: a refused request is sent back and left).
    # A return the applicant answered otherwise (withdrew, resubmitted) ended nothing.
    decided = out[np.maximum(last_decision, 0)]
    refused = (last_decision > last_submit) & (
        (decided == _OUTCOME["reject"])
        | ((decided == _OUTCOME["return"]) & (last_acted == last_decision)))
    refused_at = np.where(refused, at[np.maximum(last_decision, 0)], _NAT)
    first_submits = submits[starts]

    def first_value(column: _Column) -> pd.Series:
        """Per instance: its first present value (NA: none). Exports mostly write case
        attributes on every row: the instance's first row then has it."""
        code = column.codes[rows[starts]]
        if (code >= 0).all() and not column.values.isna().any():
            return column.take_codes(code)
        present = ~column.isna()[rows]
        where = np.minimum.reduceat(np.where(present, pos, m), starts)
        code = np.where(where < m, column.codes[rows[np.minimum(where, m - 1)]], -1)
        return column.take_codes(code)

    applicant = first_value(cols[C.applicant]) if C.applicant in cols else None
    submitter = (cols[C.resource].take_codes(np.where(first_submits,
                                                      cols[C.resource].codes[rows[starts]], -1))
                 if C.resource in cols else None)
    process = first_value(cols[C.process_type]) if C.process_type in cols else None
    values, absent = {}, []
    for name in mapping.linking.match:
        if name in cols and name in LINK_MATCH_FIELDS:
            column = cols[name]
        elif name in LINK_MATCH_FIELDS:
            absent.append(name)
            continue
        elif name in frame:
            column = _Column.of(frame[name]).map(_clean_text)
        else:
            raise MappingError(f"[linking] match names {name!r}, which is neither a form value "
                               f"({', '.join(LINK_MATCH_FIELDS)}) nor a column of "
                               f"{raw.source_file}")
        values[name] = first_value(column)
    if not values:
        notes.append(Said("import.no_form_values", names=", ".join(mapping.linking.match),
                          names_zh=joined((label(f, "zh") for f in mapping.linking.match),
                                          "zh")))

    field_values, field = None, mapping.linking.field or raw.link_field
    if field is not None:
        if field not in frame:
            raise MappingError(f"[linking] field names column {field!r}, which "
                               f"{raw.source_file} does not have")
        field_values = first_value(_Column.of(frame[field]).map(_clean_text))
    attempts = linking.Attempts(
        instance=cols[C.case_id].take(rows[starts]), start=at[starts],
        first_submits=first_submits, refused_at=refused_at, applicant=applicant,
        submitter=submitter, process=process, match=values, field=field_values)
    if linker is None:
        links = linking.link(attempts, window_workdays=mapping.linking.window_workdays,
                             calendar=mapping.calendar_in(tz))
    else:
        links = linker(attempts)
    if values:
        window = mapping.linking.window_workdays
        notes.append(Said("import.linked_by_form", values=", ".join(values),
                          values_zh=joined((label(v, "zh") for v in values), "zh"),
                          window=f"{window:g}", absent=Said(
                              "import.absent_values", names=", ".join(absent),
                              names_zh=joined((label(v, "zh") for v in absent), "zh"))
                          if absent else ""))
    if field_values is not None and field_values.notna().any():
        notes.append(Said("import.linked_by_field", field=field))
    return links


def _linked_cases(case: _Column, rows: np.ndarray, case_start: np.ndarray,
                  links: linking.Links) -> _Column:
    """The case id column after linking: each accepted row takes its root instance's id."""
    starts = np.flatnonzero(case_start == np.arange(len(rows)))
    instance = np.cumsum(case_start == np.arange(len(rows))) - 1
    root_code = case.codes[rows[starts]][links.root]
    codes = case.codes.copy()
    codes[rows] = root_code[instance]
    return _Column(codes, case.values)


def _infer_arrivals(outcome: np.ndarray, acted_at: np.ndarray, arrived_at: np.ndarray,
                    case_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """wait_start = recorded arrival, else the previous blocking action in the same case.

    Returns (wait_start as int64 microseconds, arrival source as codes in
    `_ARRIVAL_SOURCES`).
    """
    non_blocking = [_OUTCOME[o] for o in NON_BLOCKING]
    acts = ~np.isin(outcome, non_blocking) & (acted_at != _NAT)
    pos = np.arange(len(outcome))
    last = np.maximum.accumulate(np.where(acts, pos, -1))
    previous = np.concatenate([[-1], last[:-1]])
    inferred = previous >= case_start
    recorded = arrived_at != _NAT
    prev = np.where(inferred, acted_at[previous], _NAT) if len(pos) else acted_at
    wait_start = np.where(recorded, arrived_at, prev)
    source = np.where(recorded, 0, np.where(inferred, 1, 2)).astype(np.int8)
    return wait_start, source


def _carried(column: _Column, rows: np.ndarray, case_start: np.ndarray) -> np.ndarray:
    """Codes of a case attribute: exports often write it on the first row only, so once any
    row misses it, every row takes its case's first value."""
    codes = column.codes[rows]
    missing = column.isna()[rows]
    if not missing.any():
        return codes
    present = np.flatnonzero(~missing)
    case_of = case_start[present]
    first = np.ones(len(present), dtype=bool)
    first[1:] = case_of[1:] != case_of[:-1]
    source = np.full(len(rows), -1, dtype=np.int64)
    source[case_of[first]] = present[first]               # indexed by case start position
    source = source[case_start]
    return np.where(source >= 0, codes[np.maximum(source, 0)], -1)


def _finish_columns(frame: pd.DataFrame, cols: dict[str, _Column], rows: np.ndarray,
                    case_start: np.ndarray, times: dict[str, pd.Series], *, outcome, pending,
                    arrival_source, source_file: str) -> pd.DataFrame:
    """The accepted rows in their final order, canonical columns first, then the source's
    other columns."""
    m = len(rows)
    out: dict[str, pd.Series] = {}

    def absent() -> pd.Series:
        return pd.Series(pd.arrays.ArrowStringArray(pa.nulls(m, pa.large_string())))

    for column in CANONICAL_ORDER:
        if column == C.seq:
            out[column] = pd.Series((np.arange(m) - case_start).astype("int32"))
        elif column == C.outcome:
            out[column] = _text(OUTCOMES, outcome)
        elif column in times:
            out[column] = times[column]
        elif column == C.pending:
            out[column] = pd.Series(pending, dtype=bool)
        elif column == C.arrival_source:
            out[column] = _text(_ARRIVAL_SOURCES, arrival_source)
        elif column == C.source_file:
            out[column] = pd.Series(pd.arrays.ArrowStringArray(
                pc.take(pa.array([source_file], pa.large_string()), pa.array(np.zeros(m, np.int8))),
                dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
        elif column == C.source_row:
            out[column] = _source_rows(frame)(rows)
        elif column in cols:
            col = cols[column]
            codes = (_carried(col, rows, case_start) if column in CASE_ATTRIBUTES
                     else col.codes[rows])
            out[column] = col.take_codes(codes)
        elif column == C.amount:
            out[column] = absent().astype("Float64")
        else:
            out[column] = absent()
    tz = times[C.acted_at].dt.tz
    for column in frame.columns:
        if column in CANONICAL_ORDER:
            continue
        values = frame[column].iloc[rows].reset_index(drop=True)
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert(tz)               # e.g. XES started_at
        elif not pd.api.types.is_numeric_dtype(values) and \
                not pd.api.types.is_bool_dtype(values):
            values = values.astype("string")
        out[column] = values
    return pd.DataFrame(out)


def _times(i8: np.ndarray, dtype: pd.DatetimeTZDtype) -> pd.Series:
    """int64 microseconds (UTC) as a column of the parsed times' dtype."""
    return pd.Series(i8.view("M8[us]")).dt.tz_localize("UTC").dt.tz_convert(dtype.tz)


def _text(words, codes: np.ndarray) -> pd.Series:
    """Codes into a small vocabulary as an Arrow-backed text column."""
    return decoded_text(codes, pa.array(list(words), pa.large_string()))


def _open_cases(outcome: np.ndarray, pending: np.ndarray, case_start: np.ndarray,
                n_cases: int) -> int:
    """Cases that have not ended, as `officemine.log.relations` defines it: the case's last
    blocking event (cc, comments and reminders do not count; pending items do, and sort last)
    is not an acted archive, reject or withdraw."""
    blocking = np.flatnonzero(~np.isin(outcome, [_OUTCOME[o] for o in NON_BLOCKING]) | pending)
    case_of = case_start[blocking]
    last = np.ones(len(blocking), dtype=bool)
    last[:-1] = case_of[1:] != case_of[:-1]
    final = blocking[last]
    ends = np.isin(outcome[final], [_OUTCOME[o] for o in TERMINAL]) & ~pending[final]
    return n_cases - int(ends.sum())


def _as_strings(aside: pd.DataFrame) -> pd.DataFrame:
    if aside.empty:
        return empty_set_aside()
    return aside.astype("string")
