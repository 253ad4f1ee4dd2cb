"""Linking attempts: a request re-submitted as a new instance joins its first attempt's case.

DingTalk, Feishu, WeCom, Weaver and many plain exports start a new approval instance when an
applicant re-submits a refused request. Taken as they are, each attempt is a case of its own:
the rework between the attempts vanishes, the refusal looks final, and every estimate built
on cycle times is too rosy. The importer links the attempts, in this order:

1. **field**: the source names the earlier attempt (DingTalk ``mainProcessInstanceId`` of a
   modification, Feishu ``modified_instance_code``, or a column named in the mapping's
   ``[linking] field``). A value that is another instance's id links the two; any other value
   is a key the attempts share (all instances with one value are one request).
2. **form**: an instance whose first action is a submission, by the same originator (the
   applicant, else the submitter), of the same process type, with the same form values
   (``[linking] match``, default title and amount; missing values must be missing on both),
   starting within ``window_workdays`` working days of the log's calendar (default 10) after
   an earlier instance of that request was refused: its last decision a rejection nothing
   was submitted after, or a return the instance stopped at (Weaver has no rejection).

Chains (A → B → C) link transitively; the case id is the first attempt's id, and every event
keeps its own instance's id in ``instance_id``. When two earlier attempts could be continued,
the closest in time is taken; when two later instances could continue one attempt, the first
does. Both are counted as ambiguous in the import report, never decided silently.

Everything runs on one array per instance (group keys, times, `numpy.searchsorted`): no loop
per instance or per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from officemine.log.calendar import Calendar
from officemine.importing.raw import group_ids

_NAT = np.iinfo(np.int64).min
NOT_LINKED, BY_FIELD, BY_FORM = 0, 1, 2
RULES = {BY_FIELD: "field", BY_FORM: "form"}


@dataclass(frozen=True)
class Links:
    """Which case each instance joins.

    root: per instance, the instance whose case it joins (itself when not linked).
    rule: per instance, `NOT_LINKED`, `BY_FIELD` or `BY_FORM`.
    ambiguous: links (or links left out) where more than one attempt qualified.
    """

    root: np.ndarray
    rule: np.ndarray
    ambiguous: int

    @property
    def linked(self) -> int:
        return int((self.rule != NOT_LINKED).sum())

    @property
    def by_rule(self) -> dict[str, int]:
        return {name: int((self.rule == code).sum()) for code, name in RULES.items()}

    @classmethod
    def none(cls, n: int) -> "Links":
        return cls(np.arange(n), np.zeros(n, dtype=np.int8), 0)


@dataclass(frozen=True)
class Attempts:
    """What linking compares, one entry per instance in instance order (ascending id).

    instance: the instance ids (text); start, first_submits, refused_at: as
    `link_attempts` takes them; applicant, process: the instance's first present value (NA:
    none; None: the source has no such column); submitter: the person of its first action
    where that is a submission; match: the form values `[linking] match` compares, by name;
    field: the link field's first present value (None: no link field).

    Values, not codes: the streaming import collects them batch by batch and codes them once
    for the whole log (`link`), so instances in different batches compare as in one.
    """

    instance: pd.Series
    start: np.ndarray
    first_submits: np.ndarray
    refused_at: np.ndarray
    applicant: pd.Series | None
    submitter: pd.Series | None
    process: pd.Series | None
    match: dict[str, pd.Series]
    field: pd.Series | None

    def __len__(self) -> int:
        return len(self.start)


def codes(values: pd.Series | None, n: int) -> np.ndarray:
    """Equality codes of `values`: equal values share a code, a missing one is -1 (all -1
    for a column the source does not have)."""
    if values is None:
        return np.full(n, -1, dtype=np.int64)
    return pd.factorize(values)[0].astype(np.int64, copy=False)


def link(attempts: Attempts, *, window_workdays: float, calendar: Calendar) -> Links:
    """Link the instances of one log by the rules of this module (see its doc)."""
    n = len(attempts)
    if attempts.field is None:
        field_target = field_key = np.full(n, -1, dtype=np.int64)
    else:        # ids and values coded together: a value equal to an id names that instance
        joint = codes(pd.concat([attempts.instance, attempts.field], ignore_index=True), 2 * n)
        field_target, field_key = field_links(joint[:n], joint[n:])
    form_key = request_keys(codes(attempts.applicant, n), codes(attempts.submitter, n),
                            codes(attempts.process, n),
                            [codes(v, n) for v in attempts.match.values()])
    return link_attempts(start=attempts.start, first_submits=attempts.first_submits,
                         refused_at=attempts.refused_at, form_key=form_key,
                         field_target=field_target, field_key=field_key,
                         window_workdays=window_workdays, calendar=calendar)


def request_keys(applicant: np.ndarray, submitter: np.ndarray, process: np.ndarray,
                 match: list[np.ndarray]) -> np.ndarray:
    """The form rule's request key of each instance (codes of `codes`; -1: the instance
    cannot be matched): equal originator (the applicant, else the submitter), process type
    and form values, where the originator and at least one form value are known."""
    n = len(applicant)
    if not match:
        return np.full(n, -1, dtype=np.int64)
    originator = np.where(applicant >= 0, 2 * applicant,
                          np.where(submitter >= 0, 2 * submitter + 1, -1))
    has_form = np.any(np.stack(match) >= 0, axis=0)
    return np.where((originator >= 0) & has_form, group_ids([originator, process, *match]), -1)


def field_links(instance: np.ndarray, field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per instance: the instance its link field names (-1: none), and for a value naming no
    instance a key shared by every instance with that value (-1: none). `instance` and
    `field` are codes of one coding (equal text, equal code; -1: no value)."""
    n = len(instance)
    target = np.full(n, -1, dtype=np.int64)
    key = np.full(n, -1, dtype=np.int64)
    has = field >= 0
    if not has.any():
        return target, key
    position = np.full(int(max(instance.max(initial=-1), field.max())) + 2, -1, dtype=np.int64)
    position[instance] = np.arange(n)
    target[has] = position[field[has]]
    shared = has & (target < 0)
    if shared.any():
        key[shared] = pd.factorize(field[shared])[0]
    return target, key


def link_attempts(*, start: np.ndarray, first_submits: np.ndarray, refused_at: np.ndarray,
                  form_key: np.ndarray, field_target: np.ndarray, field_key: np.ndarray,
                  window_workdays: float, calendar: Calendar) -> Links:
    """Link instances (one entry per instance in every array).

    start: first action time (int64 µs, UTC; `_NAT` when none); first_submits: the first
    action is a submission; refused_at: time of the refusal the instance ended in (`_NAT`
    when it did not); form_key: request key of the form rule (equal originator, process type
    and form values; -1: the instance cannot be matched); field_target: the instance the link
    field names (-1: none); field_key: a shared link-field value that names no instance (-1:
    none). An instance with a link field value is linked by the field only.
    """
    n = len(start)
    has_field = (field_target >= 0) | (field_key >= 0)
    form_from = np.full(n, -1, dtype=np.int64)
    ambiguous = 0
    earlier = np.flatnonzero((refused_at != _NAT) & (form_key >= 0))
    # only a request with a refusal can be continued: the later instances of the others
    # are left out before any sort (most of a log's instances, in a streamed import)
    refused_key = np.zeros(int(form_key.max(initial=-1)) + 2, dtype=bool)
    refused_key[form_key[earlier]] = True
    later = np.flatnonzero(first_submits & (start != _NAT) & (form_key >= 0) & ~has_field
                           & refused_key[form_key])
    if len(later) and len(earlier):
        best, candidates = _closest_refusal(earlier, later, start, refused_at, form_key,
                                            window_workdays, calendar)
        found = best >= 0
        ambiguous += int((candidates[found] >= 2).sum())
        b, a = later[found], best[found]
        # one later instance per attempt: the first to start continues it
        order = np.lexsort((b, start[b], a))
        b, a = b[order], a[order]
        first = np.ones(len(a), dtype=bool)
        first[1:] = a[1:] != a[:-1]
        ambiguous += int((~first).sum())
        form_from[b[first]] = a[first]

    edges_from, edges_to = [], []
    for source, target in ((np.flatnonzero(field_target >= 0), field_target),
                           (np.flatnonzero(form_from >= 0), form_from)):
        edges_from.append(source)
        edges_to.append(target[source])
    keyed = np.flatnonzero(field_key >= 0)              # a shared key: a node of its own
    edges_from.append(keyed)
    edges_to.append(n + field_key[keyed])
    u, v = np.concatenate(edges_from), np.concatenate(edges_to)
    keep = u != v
    u, v = u[keep], v[keep]
    if not len(u):
        return Links(np.arange(n), np.zeros(n, dtype=np.int8), ambiguous)

    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = n + (int(field_key.max()) + 1 if len(keyed) else 0)
    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(size, size)).tocsr()
    _, component = connected_components(graph, directed=False)
    component = component[:n]
    # the case of a component is its first attempt's (earliest start; ties: instance order)
    when = np.where(start == _NAT, np.iinfo(np.int64).max, start)
    order = np.lexsort((np.arange(n), when, component))
    head = np.ones(n, dtype=bool)
    head[1:] = component[order][1:] != component[order][:-1]
    first_of = np.zeros(int(component.max()) + 1, dtype=np.int64)
    first_of[component[order][head]] = order[head]
    root = first_of[component]
    rule = np.zeros(n, dtype=np.int8)
    linked = root != np.arange(n)
    rule[linked] = np.where(form_from[linked] >= 0, BY_FORM, BY_FIELD)
    return Links(root, rule, ambiguous)


def _closest_refusal(earlier: np.ndarray, later: np.ndarray, start: np.ndarray,
                     refused_at: np.ndarray, key: np.ndarray, window_workdays: float,
                     calendar: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """For each later instance: the earlier instance with the same key whose refusal came last
    before its start and within the window (-1: none), and how many attempts it could have
    continued.

    Within one key the deadlines rise with the refusal times (adding working time is
    monotone), so the qualifying refusals are a run of the key's refusals in time order: one
    `searchsorted` finds its end (refused before the start), one its beginning (deadline not
    before the start). An attempt refused before the key's previous new instance started was
    that instance's to continue (A → B → C: A is not C's), so it does not count.
    """
    deadline = _add_workdays(refused_at[earlier], window_workdays, calendar)
    by_time = np.lexsort((earlier, refused_at[earlier], key[earlier]))
    earlier, deadline = earlier[by_time], deadline[by_time]
    # times as dense ranks, so that (key, time) packs into one int64
    times, inverse = np.unique(np.concatenate([refused_at[earlier], deadline, start[later]]),
                               return_inverse=True)
    width = len(times) + 1
    m = len(earlier)
    refused_rank, deadline_rank, start_rank = inverse[:m], inverse[m:2 * m], inverse[2 * m:]
    at_refusal = key[earlier] * width + refused_rank
    at_deadline = np.sort(key[earlier] * width + deadline_rank)
    query = key[later] * width + start_rank
    end = np.searchsorted(at_refusal, query, side="left")      # refused strictly before
    begin = np.searchsorted(at_deadline, query, side="left")   # deadline before the start
    # the key's previous new instance (in start order) claims what was refused before it began
    order = np.lexsort((later, start_rank, key[later]))
    previous = np.full(len(later), -1, dtype=np.int64)
    same_key = key[later][order][1:] == key[later][order][:-1]
    previous[order[1:][same_key]] = query[order[:-1][same_key]]
    claimed = np.where(previous >= 0, np.searchsorted(at_refusal, previous, side="left"), 0)
    open_ = end - np.maximum(begin, claimed)
    best = np.where(end > begin, earlier[np.maximum(end - 1, 0)], -1)
    return best, np.maximum(open_, 0)


def _add_workdays(times: np.ndarray, workdays: float, calendar: Calendar) -> np.ndarray:
    """`times` (int64 µs, UTC) plus that many working days of `calendar`, as int64 µs."""
    at = pd.DatetimeIndex(times.view("M8[us]")).tz_localize("UTC")
    later = calendar.add_working_time(at, workdays * calendar.day_seconds)
    return later.tz_convert("UTC").as_unit("us").asi8
