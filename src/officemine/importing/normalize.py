"""Turn a reader's `RawEvents` into the canonical, validated event log.

One pipeline for every source: constants and label rules, outcome words, times, amounts,
checks that set rows aside with a reason, ordering within each case, resubmissions, and the
arrival time each wait is measured from (recorded, or inferred from the previous action).
All steps are column operations on the whole frame; no Python loop per row.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from officemine.importing.mapping import Mapping
from officemine.importing.raw import LABEL, TEXT, RawEvents, empty_set_aside
from officemine.importing.report import ImportReport
from officemine.importing.timeparse import parse_times
from officemine.schema import (C, CANONICAL_ORDER, CASE_ATTRIBUTES, NON_BLOCKING, OUTCOME_LOOKUP,
                               OUTCOMES, TERMINAL, normalize_word)

DEFAULT_TIMEZONE = "Asia/Shanghai"
_STRING_FIELDS = (C.case_id, C.node, C.resource, C.dept, C.comment, C.process_type, C.urgency,
                  C.applicant, C.applicant_dept, C.title)


def build_log(raw: RawEvents, mapping: Mapping | None = None,
              timezone: str | None = None) -> tuple[pd.DataFrame, ImportReport, pd.DataFrame]:
    """Validate and normalise; return (events, report, set_aside rows)."""
    mapping = mapping or Mapping()
    tz = timezone or mapping.timezone or DEFAULT_TIMEZONE
    notes = list(raw.notes)
    warnings: list[str] = []
    df = raw.frame.reset_index(drop=True).copy()
    if C.source_row not in df:
        df[C.source_row] = pd.RangeIndex(1, len(df) + 1).astype(str)
    df[C.source_row] = df[C.source_row].astype("string")
    df[C.source_file] = raw.source_file
    original = df.copy()  # raw values, for the set-aside file
    reasons = pd.Series(pd.NA, index=df.index, dtype="string")
    columns = pd.Series(pd.NA, index=df.index, dtype="string")
    details = pd.Series(pd.NA, index=df.index, dtype="string")

    def set_aside(mask: pd.Series, reason: str, column: str, detail) -> None:
        """Mark rows; `detail` is a string, a Series, or a function of the mask (computed
        for the marked rows only)."""
        mask = mask.fillna(False).astype(bool) & reasons.isna()
        if not mask.any():
            return
        reasons[mask] = reason
        columns[mask] = column
        if callable(detail):
            details[mask] = detail(mask).astype("string").to_numpy()
        elif isinstance(detail, pd.Series):
            details[mask] = detail[mask].astype("string")
        else:
            details[mask] = detail

    for column, value in mapping.constants.items():
        df[column] = value
        notes.append(f"{column} set to {value!r} for every row (mapping [constants])")

    for column in _STRING_FIELDS:
        if column in df:
            df[column] = _clean_text(df[column])

    if mapping.label_rules and LABEL in df:
        _apply_label_rules(df, mapping, notes)
    elif LABEL in df and C.node not in df:
        df[C.node] = _clean_text(df[LABEL])

    # --- required identifiers -------------------------------------------------------------
    set_aside(df[C.case_id].isna(), "missing_case_id", C.case_id, "")
    if C.node not in df:
        df[C.node] = pd.Series(pd.NA, index=df.index, dtype="string")
    set_aside(df[C.node].isna(), "missing_node", C.node, "")

    # --- outcomes ---------------------------------------------------------------------------
    unknown_words: dict[str, int] = {}
    if C.outcome not in df:
        df[C.outcome] = pd.Series("other", index=df.index, dtype="string")
        warnings.append("the source has no outcome column: every event's outcome is 'other'; "
                        "map one with [columns] outcome = … or derive it with [[label_rules]]")
    else:
        words = _clean_text(df[C.outcome])
        if raw.outcomes_canonical:
            mapped = words.where(words.isin(OUTCOMES))
        else:
            lookup = {**OUTCOME_LOOKUP, **mapping.outcomes}
            distinct = {w: lookup.get(normalize_word(w)) for w in words.dropna().unique()}
            mapped = words.map(distinct, na_action="ignore").astype("string")
        empty = words.isna()
        unknown = ~empty & mapped.isna()
        if unknown.any():
            unknown_words = words[unknown & reasons.isna()].value_counts().head(50).to_dict()
        set_aside(unknown, "unknown_outcome", C.outcome, words)
        df[C.outcome] = mapped.astype("string")

    # --- times ------------------------------------------------------------------------------
    if C.acted_at not in df:
        df[C.acted_at] = pd.NA
    acted, acted_bad = parse_times(df[C.acted_at], tz)
    set_aside(acted_bad, "unparseable_time", C.acted_at, lambda m: df.loc[m, C.acted_at])
    if C.arrived_at in df:
        arrived, arrived_bad = parse_times(df[C.arrived_at], tz)
        set_aside(arrived_bad, "unparseable_time", C.arrived_at,
                  lambda m: df.loc[m, C.arrived_at])
        set_aside(acted < arrived, "action_before_arrival", C.arrived_at,
                  lambda m: arrived[m].astype("string") + " > " + acted[m].astype("string"))
    else:
        arrived = pd.Series(pd.NaT, index=df.index, dtype=acted.dtype)
    # An arrival without an action is a work item still pending at export: its wait so far
    # is right-censored data, not an error. Neither time at all is an error.
    pending = acted.isna() & ~acted_bad & arrived.notna()
    set_aside(acted.isna() & ~acted_bad & ~pending, "missing_time", C.acted_at, "")
    df[C.acted_at], df[C.arrived_at] = acted, arrived
    df[C.pending] = pending.to_numpy()
    no_outcome = df[C.outcome].isna() & ~pending & reasons.isna()
    if no_outcome.any():
        notes.append(f"{int(no_outcome.sum()):,} rows have no outcome value; taken as 'other'")
    df.loc[no_outcome, C.outcome] = "other"
    if pending.any() and reasons[pending].isna().any():
        notes.append(f"{int((pending & reasons.isna()).sum()):,} work items were still pending "
                     "at export (arrived, not yet acted on): kept as pending rows, their waits "
                     "are right-censored")
    naive_note = _timezone_note(raw, tz)
    if naive_note:
        notes.append(naive_note)

    if C.amount in df:
        amount, bad = _parse_amount(df[C.amount])
        set_aside(bad, "bad_amount", C.amount, lambda m: df.loc[m, C.amount])
        df[C.amount] = amount

    # --- duplicates among the rows still accepted ----------------------------------------
    key = [c for c in (C.case_id, C.node, C.outcome, C.resource, C.arrived_at, C.acted_at,
                       C.comment, LABEL, raw.record_id) if c is not None and c in df]
    ok = reasons.isna()
    dup = pd.Series(False, index=df.index)
    dup[ok] = df.loc[ok, key].duplicated(keep="first")
    first_row = df.loc[ok].groupby(key, dropna=False, sort=False)[C.source_row].transform("first")
    set_aside(dup, "duplicate", "", lambda m: "same as row " + first_row.reindex(df.index)[m])

    # --- split ----------------------------------------------------------------------------
    aside_mask = reasons.notna()
    aside = original[aside_mask].copy()
    for col in aside.columns:
        aside[col] = aside[col].astype("string")
    aside.insert(0, "detail", details[aside_mask])
    aside.insert(0, "column", columns[aside_mask])
    aside.insert(0, "reason", reasons[aside_mask])
    aside = aside.rename(columns={C.source_row: "source_row"})
    aside = pd.concat([_as_strings(raw.set_aside), aside], ignore_index=True)

    events = df[~aside_mask].copy()
    events, out_of_order = _order_cases(events)
    _mark_resubmissions(events)
    _infer_arrivals(events)
    _carry_case_attributes(events)
    events = _finish_columns(events)

    rows_set_aside = len(aside)
    open_cases = _open_cases(events)
    report = ImportReport(
        source_file=raw.source_file, format=raw.format, rows_read=raw.rows_read,
        rows_accepted=len(events), rows_set_aside=rows_set_aside,
        set_aside_by_reason={k: int(v) for k, v in aside["reason"].value_counts().items()},
        cases=int(events[C.case_id].nunique()), open_cases=open_cases,
        out_of_order_cases=out_of_order, timezone=tz,
        arrivals_recorded=int((events[C.arrival_source] == "recorded").sum()),
        arrivals_inferred=int((events[C.arrival_source] == "inferred").sum()),
        pending_items=int(events[C.pending].sum()),
        columns_used=dict(raw.columns_used),
        outcome_counts={k: int(v) for k, v in events[C.outcome].value_counts().items()},
        unknown_outcome_words={str(k): int(v) for k, v in unknown_words.items()},
        notes=tuple(notes), warnings=tuple(warnings),
    )
    if not report.balanced:  # a bug, never a data problem: fail loudly
        raise AssertionError(f"row accounting does not balance: {report}")
    return events, report, aside


# --- steps -----------------------------------------------------------------------------------

def _clean_text(values: pd.Series) -> pd.Series:
    s = values.astype(TEXT).str.strip()
    return s.mask(s.isin(["", "nan", "NaN", "None", "null", "NULL", "NaT"]))


def _apply_label_rules(df: pd.DataFrame, mapping: Mapping, notes: list[str]) -> None:
    labels = df[LABEL].astype("string")
    node = df[C.node].astype("string") if C.node in df else pd.Series(pd.NA, index=df.index,
                                                                       dtype="string")
    outcome = (df[C.outcome].astype("string") if C.outcome in df
               else pd.Series(pd.NA, index=df.index, dtype="string"))
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
        if "node" in groups:
            node[idx] = groups["node"]
        elif rule.node is not None:
            node[idx] = rule.node
        if "outcome" in groups:
            outcome[idx] = groups["outcome"]
        elif rule.outcome is not None:
            outcome[idx] = rule.outcome
        no_node = node[idx].isna()
        node[no_node[no_node].index] = labels[no_node[no_node].index]
        unmatched[idx] = False
    n_unmatched = int(unmatched.sum())
    if n_unmatched:
        examples = labels[unmatched].value_counts().head(5)
        notes.append(f"{n_unmatched:,} labels matched no label rule; their node is the label "
                     "itself: " + ", ".join(f"{k!r} ×{v}" for k, v in examples.items()))
        node[unmatched & node.isna()] = labels[unmatched & node.isna()]
    df[C.node] = node.str.strip()
    df[C.outcome] = outcome


def _timezone_note(raw: RawEvents, tz: str) -> str:
    kinds = [c for c in (C.acted_at, C.arrived_at) if c in raw.frame]
    naive = any(not isinstance(raw.frame[c].dtype, pd.DatetimeTZDtype) for c in kinds)
    return (f"times without a zone are taken as {tz} local time; times with a zone or epoch "
            f"values are converted to {tz}") if naive else ""


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
    bad = pc.and_(present, pc.invert(valid))
    return (pd.Series(number.to_numpy(zero_copy_only=False), index=values.index).astype("Float64"),
            pd.Series(bad.to_numpy(zero_copy_only=False), index=values.index))


def _order_cases(events: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Sort by case and time (source order breaks ties); count cases the source had out of order.

    One `numpy.lexsort` over integer keys (the case ids hashed once, in sorted order), then
    positions within each case from the case boundaries: sorting and grouping by the text
    ids directly hashed them three times.
    """
    n = len(events)
    pos = np.arange(n)
    at = events[C.acted_at].fillna(events[C.arrived_at])
    at_key = np.asarray(at.array.asi8, dtype=np.int64).copy()
    at_key[at.isna().to_numpy()] = np.iinfo(np.int64).max        # no time: last, as sort_values
    case, _ = pd.factorize(events[C.case_id], sort=True)
    case = np.where(case < 0, case.max(initial=-1) + 1, case)      # (no missing ids get here)
    order = np.lexsort((pos, at_key, events[C.pending].to_numpy(bool), case))
    case = case[order]
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    start = np.maximum.accumulate(np.where(first, pos, 0))
    source = pos[order]
    moved = ~first
    moved[1:] &= source[1:] < source[:-1]
    out_of_order = int(len(np.unique(case[moved])))
    events = events.take(order).reset_index(drop=True)
    events[C.seq] = (pos - start).astype("int32")
    return events, out_of_order


def _mark_resubmissions(events: pd.DataFrame) -> None:
    """A submit after the case's first submit is a resubmission (after a return or withdrawal)."""
    submits = events[C.outcome].isin(["submit", "resubmit"])
    earlier = submits.astype(int).groupby(events[C.case_id], sort=False).cumsum() > 1
    events.loc[submits & earlier, C.outcome] = "resubmit"


def _infer_arrivals(events: pd.DataFrame) -> None:
    """wait_start = recorded arrival, else the previous blocking action in the same case."""
    blocking = ~events[C.outcome].isin(NON_BLOCKING)
    t = events[C.acted_at].where(blocking)
    same_case = events[C.case_id].eq(events[C.case_id].shift())
    prev = t.shift().where(same_case)
    prev = prev.groupby(events[C.case_id], sort=False).ffill()
    recorded = events[C.arrived_at].notna()
    events[C.wait_start] = events[C.arrived_at].where(recorded, prev)
    source = np.where(recorded, "recorded", np.where(prev.notna(), "inferred", "none"))
    events[C.arrival_source] = pd.Series(source, index=events.index, dtype="string")


def _carry_case_attributes(events: pd.DataFrame) -> None:
    """Exports often write case attributes on the first row only: spread them over the case."""
    by_case = events.groupby(C.case_id, sort=False)   # grouped once for every attribute
    for column in CASE_ATTRIBUTES:
        if column in events and events[column].isna().any():
            events[column] = by_case[column].transform("first")


def _finish_columns(events: pd.DataFrame) -> pd.DataFrame:
    for column in CANONICAL_ORDER:
        if column not in events:
            events[column] = pd.Series(pd.NA, index=events.index, dtype="string")
    extra = [c for c in events.columns if c not in CANONICAL_ORDER]
    tz = events[C.acted_at].dt.tz
    for column in extra:
        if isinstance(events[column].dtype, pd.DatetimeTZDtype):
            events[column] = events[column].dt.tz_convert(tz)   # e.g. XES started_at
        elif not pd.api.types.is_numeric_dtype(events[column]) and \
                not pd.api.types.is_bool_dtype(events[column]):
            events[column] = events[column].astype("string")
    out = events[list(CANONICAL_ORDER) + extra]
    out[C.outcome] = out[C.outcome].astype("string")
    out[C.pending] = out[C.pending].astype(bool)
    out[C.amount] = out[C.amount].astype("Float64")
    return out


def _open_cases(events: pd.DataFrame) -> int:
    """Cases whose last action is not an end (archive, reject, withdraw)."""
    acted = events.loc[~events[C.pending], [C.case_id, C.outcome]]   # not every column
    if acted.empty:
        return int(events[C.case_id].nunique())
    last = acted.groupby(C.case_id, sort=False)[C.outcome].last()
    never_acted = events[C.case_id].nunique() - len(last)
    return int((~last.isin(TERMINAL)).sum()) + int(never_acted)


def _as_strings(aside: pd.DataFrame) -> pd.DataFrame:
    if aside.empty:
        return empty_set_aside()
    return aside.astype("string")
