"""Supervision (督办): the overdue ledger of open cases and the bottlenecks that cause waiting.

:func:`overdue_ledger` lists, one row per case (一事一档), the cases still open at ``as_of``
whose working days since first submission exceed their process type's SLA limit, oldest
first: what the case is, who applied, where it is held and by whom, how long it has been open
(working and clock days), how far past its limit, and the last thing that happened to it.

Where the item is held ("current node"):

* ``pending`` — the export lists a 未办 item (arrived, not yet acted on): its node and person;
* ``acted_later`` — ``as_of`` lies before the end of the log and the log shows the next action:
  the node and person who held the item at ``as_of``;
* ``returned`` — the last action returned the item to the applicant (退回): the applicant holds
  it at the submission step until they resubmit or withdraw;
* ``after`` — none of these: the next node is not in the log; the node of the last action is
  given and the step is "after" it, the responsible person is unknown.

:func:`bottlenecks` ranks nodes and approvers by the waiting they cause in a month: the
working hours items spent waiting at them inside the month (waits that straddle the month's
edges are cut at them), the items that waited there, and the median wait of the items decided
in the month (see `officemine.log.relations` for what a wait is).

Names stay in their own columns (applicant, responsible, last_action_by, resource) so the
report can pseudonymise them.

The supervision loop that remembers — a ledger kept week after week (`Ledger`, 督办台账), its
weekly digest (`WeeklyDigest`, 督办周报) and the reminders pushed to DingTalk, Feishu, WeCom
and e-mail — lives in `officemine.supervision.ledger`, `.digest` and `.notify`
(docs/supervision.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from officemine.log.calendar import Calendar
from officemine.base.choices import Lang
from officemine.base.errors import ChoiceError, InputError, NotFoundError
from officemine.log.eventlog import EventLog
from officemine.base.jsonable import records
from officemine.kpis import case_cycles
from officemine.log.months import as_month
from officemine.base.text import relabel
from officemine.base.plotting import chart_style, empty_note, rows_axes
from officemine.log.schema import OUTCOME_WORDS
from officemine.base.text import Said, say, step_text, word
from officemine.sla import SLA
from officemine.base.stats import counted_quantile
from officemine.log.result import Result, headed, log_info_of
from officemine.log.relations import (case_steps, holders, last_actions, now, submit_node,
                                      work_items)

__all__ = ["OverdueLedger", "Bottlenecks", "overdue_ledger", "bottlenecks",
           "Ledger", "LedgerError", "WeeklyDigest", "LedgerMonth", "CaseFile"]

NodeBasis = Literal["pending", "acted_later", "returned", "after"]
#: A node or person the log does not name (the ledger stores it in Chinese).
UNKNOWN = say("ledger.unknown_step", "zh")
#: Chinese word of each canonical outcome (the text catalogue's).
OUTCOME_ZH = {o: word("outcome", o, "zh") for o in OUTCOME_WORDS}

_LEDGER_COLUMNS = [
    "case_id", "process_type", "title", "applicant", "applicant_dept", "submitted_at",
    "start_basis", "current_node", "node_basis", "current_step", "responsible",
    "responsible_dept", "held_since", "working_days_open", "clock_days_open", "sla_days",
    "due_at", "days_overdue", "overdue", "last_action", "last_action_zh", "last_action_node",
    "last_action_by", "last_action_at", "reminders", "delay_step", "delay_held_by",
    "delay_workdays",
]
#: Columns of `OverdueLedger.dossiers` (一事一档: each step of each overdue case).
DOSSIER_COLUMNS = ["case_id", "visit", "node", "held_by", "dept", "arrived_at",
                   "arrival_source", "left_at", "outcome", "open", "working_days",
                   "clock_days"]


@dataclass(frozen=True)
class OverdueLedger(Result):
    """督办清单: open cases past their SLA at `as_of`, one row per case, oldest first.

    summary: the ledger; by_node / by_person: the same cases grouped by where they are held;
    open_cases: every case open at `as_of` with the same columns (``overdue`` False for those
    still within their limit), for 临期 warnings.
    """

    summary: pd.DataFrame
    by_node: pd.DataFrame
    by_person: pd.DataFrame
    open_cases: pd.DataFrame
    as_of: pd.Timestamp
    calendar: str
    sla: SLA
    notes: tuple[str, ...] = ()
    log_info: dict = field(default_factory=dict)
    dossiers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DOSSIER_COLUMNS))

    html_columns = ("case_id", "process_type", "title", "applicant", "current_step",
                    "responsible", "working_days_open", "sla_days", "days_overdue",
                    "last_action_zh", "last_action_at", "reminders")
    html_float_format = "%.1f"

    def dossier(self, case_id: str) -> pd.DataFrame:
        """一事一档 of one overdue case: each step, who held it, when the item arrived and
        left, and how long it stayed (working days of the calendar; to `as_of` for the step it
        is still at)."""
        rows = self.dossiers[self.dossiers["case_id"] == str(case_id)]
        if rows.empty:
            raise NotFoundError(f"no overdue case {case_id!r} in this ledger (as of "
                                f"{self.as_of:%Y-%m-%d})")
        return rows.reset_index(drop=True)

    def table(self, which: Literal["summary", "by_node", "by_person", "open_cases"] = "summary",
              lang: Lang = "zh") -> pd.DataFrame:
        """A table with Chinese or English column labels, for rendering."""
        frames = {"summary": self.summary, "by_node": self.by_node, "by_person": self.by_person,
                  "open_cases": self.open_cases}
        ChoiceError.check("which", which, frames)
        return relabel(frames[which], lang)

    def to_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "calendar": self.calendar,
                "sla": self.sla.to_dict(), "notes": list(self.notes), "log": self.log_info,
                "open_cases": int(len(self.open_cases)), "overdue_cases": int(len(self.summary)),
                "unit": "working days (one = the calendar's office hours)",
                "cases": records(self.summary), "dossiers": records(self.dossiers),
                "by_node": records(self.by_node),
                "by_person": records(self.by_person)}

    def __repr__(self) -> str:
        head = (f"<OverdueLedger as of {self.as_of:%Y-%m-%d %H:%M}: {len(self.summary)} of "
                f"{len(self.open_cases)} open cases past their SLA>")
        view = self.summary[["case_id", "process_type", "current_step", "responsible",
                             "working_days_open", "sla_days", "days_overdue"]].round(
            {"working_days_open": 1, "days_overdue": 1})
        return headed(head, view)

    def _html_tables(self) -> list[pd.DataFrame]:
        return [relabel(t, "zh") for t in super()._html_tables()]

    def plot(self, ax=None, lang: Lang = "zh"):
        """Overdue cases by where they are held (bars), longest total overdue first."""
        d = self.by_node
        with chart_style():
            ax = rows_axes(ax, len(d), width=8, per_row=0.5, layout="constrained")
            y = np.arange(len(d))
            ax.barh(y, d["cases"], color="#e8590c")
            labels = d["current_step"].astype(str)
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            for i, (n, tot) in enumerate(zip(d["cases"], d["days_overdue_total"])):
                ax.text(n, i, say("chart.overdue_bar", lang, n=n, days=tot), va="center",
                        fontsize=8)
            ax.set_xlabel(say("chart.overdue_axis", lang))
            ax.set_title(say("chart.overdue_title", lang, as_of=self.as_of))
            if d.empty:
                empty_note(ax, say("chart.no_overdue", lang))
        return ax


def overdue_ledger(log: EventLog, as_of: Any = None, sla: SLA | None = None,
                   calendar: Calendar | None = None) -> OverdueLedger:
    """督办清单: open cases past their SLA limit at `as_of` (default: the end of the log).

    A case is open at `as_of` when it was submitted by then and its final event (archive,
    reject, withdraw) had not happened yet; it is overdue when the working days since its first
    submission exceed its process type's limit. An `as_of` before the end of the log uses what
    the log shows about the following actions to say who held each item then.

    Only the cases open at `as_of` are read whole (a filter on each event's case start and
    end): a log larger than memory needs only them in memory.
    """
    calendar = calendar or log.calendar
    sla = sla or SLA.default()
    as_of_t = now(log, as_of)
    if as_of_t is None:
        empty = pd.DataFrame(columns=_LEDGER_COLUMNS)
        return OverdueLedger(empty, _group(empty, "node"), _group(empty, "person"), empty,
                             pd.Timestamp.now(tz=log.timezone), calendar.describe(), sla,
                             ("the log has no events",), {})
    start, end = log.span()
    whole = LogFacts(submit_node=submit_node(log), end=end,
                     log_info=log_info_of(log, cases=log.n_cases, start=start, end=end))
    open_log = log.select_cases(as_of_t, as_of_t + pd.Timedelta(microseconds=1), by="active")
    return ledger_of_open_cases(open_log, as_of_t, sla, calendar, whole)


@dataclass(frozen=True)
class LogFacts:
    """What the overdue ledger needs of the whole log besides its open cases: the step a
    returned item goes back to, the log's end, its description for the JSON."""

    submit_node: str
    end: pd.Timestamp
    log_info: dict


def ledger_of_open_cases(log: EventLog, as_of_t: pd.Timestamp, sla: SLA, calendar: Calendar,
                         whole: LogFacts) -> OverdueLedger:
    """The overdue ledger at `as_of_t` from `log`, which holds (at least) every case open
    then, whole; `whole`: the facts of the whole log. The one-machine ledger and the Spark
    engine's (open cases taken to the driver) are this one function."""
    cases = case_cycles(log, calendar, sla)
    notes: list[str] = []
    is_open = (cases["start_at"] <= as_of_t) & (cases["ended_at"].isna()
                                                 | (cases["ended_at"] > as_of_t))
    # reminders and status are recounted as of `as_of` below
    open_ = cases[is_open].drop(columns=["reminders"]).copy()
    held = holders(log, as_of_t)
    last = last_actions(log, as_of_t, open_["case_id"].astype(str).tolist())
    open_ = open_.merge(held, on="case_id", how="left").merge(last, on="case_id", how="left")

    has_holder = open_["current_node"].notna()
    returned = ~has_holder & open_["last_action"].eq("return").fillna(False)
    basis = np.select([has_holder & open_["any_pending"].fillna(False).astype(bool),
                       has_holder, returned],
                      ["pending", "acted_later", "returned"], default="after")
    open_["node_basis"] = basis
    # Returned: the applicant holds the item at the submission step.
    open_.loc[returned, "current_node"] = whole.submit_node
    open_.loc[returned, "responsible"] = open_.loc[returned, "applicant"]
    open_.loc[returned, "responsible_dept"] = open_.loc[returned, "applicant_dept"]
    open_.loc[returned, "held_since"] = open_.loc[returned, "last_action_at"]
    after = open_["node_basis"].eq("after")
    open_.loc[after, "current_node"] = open_.loc[after, "last_action_node"]
    open_.loc[after, "held_since"] = open_.loc[after, "last_action_at"]
    open_["current_step"] = _step_text(open_["current_node"], open_["node_basis"])

    work = calendar.working_seconds(open_["start_at"], as_of_t) if len(open_) else np.array([])
    open_["working_days_open"] = work / calendar.day_seconds
    open_["clock_days_open"] = (as_of_t - open_["start_at"]).dt.total_seconds() / 86400
    open_["due_at"] = (calendar.add_working_time(
        open_["start_at"], open_["sla_days"].to_numpy() * calendar.day_seconds).tz_convert(
        log.timezone) if len(open_) else pd.Series(dtype=f"datetime64[ns, {log.timezone}]"))
    open_["overdue"] = work > open_["sla_days"].to_numpy() * calendar.day_seconds
    open_["days_overdue"] = open_["working_days_open"] - open_["sla_days"]
    open_["last_action_zh"] = open_["last_action"].map(OUTCOME_ZH)
    open_["reminders"] = open_["reminders"].fillna(0).astype("int64")
    # submitted_at of the ledger is the start the days run from (start_basis says which)
    open_ = open_.drop(columns=["submitted_at"]).rename(columns={"start_at": "submitted_at"})
    open_ = open_.sort_values(["submitted_at", "case_id"], kind="stable").reset_index(drop=True)
    # 一事一档 of the overdue cases, and the step that used most of each one's time: the
    # delay may have arisen before the step the item is at now (or with the applicant)
    dossiers = case_steps(log, open_.loc[open_["overdue"], "case_id"].astype(str).tolist(),
                          as_of_t, calendar)
    worst = (dossiers.sort_values(["case_id", "working_days", "visit"],
                                  ascending=[True, False, True], kind="stable")
             .drop_duplicates("case_id").set_index("case_id"))
    key = open_["case_id"].astype(str)
    open_["delay_step"] = key.map(worst["node"])
    open_["delay_held_by"] = key.map(worst["held_by"])
    open_["delay_workdays"] = key.map(worst["working_days"]).astype(float)
    open_ = open_[_LEDGER_COLUMNS]
    ledger = open_[open_["overdue"]].reset_index(drop=True)

    n_after = int((ledger["node_basis"] == "after").sum())
    if n_after:
        notes.append(Said("overdue.no_pending", n=n_after))
    n_first = int((ledger["start_basis"] == "first_event").sum())
    if n_first:
        notes.append(Said("overdue.no_submission", n=n_first))
    notes.extend(calendar.coverage_warnings(open_["submitted_at"].min(), as_of_t)
                 if len(open_) else [])
    end = whole.end
    if as_of_t < end:
        notes.append(Said("overdue.before_end", as_of=f"{as_of_t:%Y-%m-%d %H:%M}",
                          end=f"{end:%Y-%m-%d %H:%M}"))
    return OverdueLedger(summary=ledger, by_node=_group(ledger, "node"),
                         by_person=_group(ledger, "person"), open_cases=open_, as_of=as_of_t,
                         calendar=calendar.describe(), sla=sla, notes=tuple(notes),
                         log_info=whole.log_info, dossiers=dossiers[DOSSIER_COLUMNS])


def _group(ledger: pd.DataFrame, by: Literal["node", "person"]) -> pd.DataFrame:
    """Overdue cases per holding step or per responsible person, most total overdue first."""
    keys = (["current_step", "current_node", "node_basis"] if by == "node"
            else ["responsible", "responsible_dept"])
    cols = keys + ["cases", "days_overdue_total", "days_overdue_max", "days_overdue_median",
                   "oldest_submitted_at"] + (["nodes"] if by == "person" else ["process_type"])
    if ledger.empty:
        return pd.DataFrame(columns=cols)
    d = ledger.copy()
    for k in keys:
        d[k] = d[k].astype("object").where(d[k].notna(), UNKNOWN)
    g = d.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame({
        "cases": g.size(), "days_overdue_total": g["days_overdue"].sum(),
        "days_overdue_max": g["days_overdue"].max(),
        "days_overdue_median": g["days_overdue"].median(),
        "oldest_submitted_at": g["submitted_at"].min()})
    if by == "person":
        out["nodes"] = g["current_node"].agg(lambda s: "、".join(sorted(set(s.dropna()))))
    else:
        out["process_type"] = g["process_type"].agg(lambda s: "、".join(sorted(set(s.dropna()))))
    out = out.reset_index().sort_values(["days_overdue_total", "cases"], ascending=False,
                                        kind="stable")
    return out[cols].reset_index(drop=True)


def _step_text(node: pd.Series, basis: pd.Series) -> pd.Series:
    """Where each case is held, in Chinese, as the ledger stores it (`text.step_text`)."""
    return pd.Series([step_text(None if pd.isna(n) else n, b, "zh")
                      for n, b in zip(node, basis)], index=node.index, dtype=object)


# --- bottlenecks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bottlenecks(Result):
    """Nodes and approvers ranked by the waiting they cause in a period.

    by_node / by_person: wait_workhours (working hours items waited there inside the period),
    wait_share (of all such waiting), items (waiting there at some time in the period),
    decided (items decided in the period), pending (still waiting at `as_of`),
    wait_median_workhours / wait_p90_workhours (full waits of the items decided in the
    period), wait_hours (clock hours inside the period).
    """

    by_node: pd.DataFrame
    by_person: pd.DataFrame
    month: str | None
    period: dict
    calendar: str
    as_of: pd.Timestamp
    notes: tuple[str, ...] = ()

    html_float_format = "%.1f"

    @property
    def summary(self) -> pd.DataFrame:
        return self.by_node

    def table(self, which: Literal["by_node", "by_person"] = "by_node",
              lang: Lang = "zh") -> pd.DataFrame:
        ChoiceError.check("which", which, ("by_node", "by_person"))
        return relabel(self.by_node if which == "by_node" else self.by_person, lang)

    def to_dict(self) -> dict:
        return {"month": self.month, "period": self.period, "calendar": self.calendar,
                "as_of": self.as_of.isoformat(), "notes": list(self.notes),
                "unit": "working hours of the calendar",
                "by_node": records(self.by_node), "by_person": records(self.by_person)}

    def __repr__(self) -> str:
        what = self.month or "the whole log"
        head = (f"<Bottlenecks {what}: {len(self.by_node)} nodes, {len(self.by_person)} people; "
                f"waiting in working hours>")
        view = self.by_node[["node", "wait_workhours", "wait_share", "items",
                             "wait_median_workhours"]].head(10).round(1)
        view["wait_share"] = self.by_node["wait_share"].head(10).map(lambda v: f"{v:.0%}")
        return headed(head, view)

    def _html_tables(self) -> list[pd.DataFrame]:
        return [relabel(self.by_node, "zh")]

    def plot(self, ax=None, top: int = 10, by: Literal["node", "person"] = "node",
             lang: Lang = "zh"):
        """The `top` nodes (or people) by waiting caused, as horizontal bars."""
        ChoiceError.check("by", by, ("node", "person"))
        d = (self.by_node if by == "node" else self.by_person).head(top)
        label = d["node"] if by == "node" else d["resource"].astype(str)
        with chart_style():
            ax = rows_axes(ax, len(d), width=8, per_row=0.45, layout="constrained")
            y = np.arange(len(d))
            ax.barh(y, d["wait_workhours"], color="#1c7ed6")
            ax.set_yticks(y, label.astype(str))
            ax.invert_yaxis()
            for i, (v, share) in enumerate(zip(d["wait_workhours"], d["wait_share"])):
                ax.text(v, i, f" {v:,.0f} ({share:.0%})", va="center", fontsize=8)
            ax.set_xlabel(say("chart.waiting_axis", lang))
            what = self.month or say("chart.all", lang)
            ax.set_title(say(f"chart.most_waiting_{by}", lang, what=what))
        return ax


def bottlenecks(log: EventLog, month: Any = None, calendar: Calendar | None = None,
                as_of: Any = None, *, memory_limit: int | str | None = None,
                batch_items: int | None = None) -> Bottlenecks:
    """Rank nodes and approvers by the waiting they cause in `month` (default: the whole log).

    Waiting is counted inside the month only: an item that arrived on the 28th of the previous
    month and was decided on the 3rd counts the working hours from the 1st to the 3rd. Items
    still pending at `as_of` (default: the end of the log) count up to `as_of`.

    memory_limit (with a month): read the log's items in batches of whole cases within it
    (a stored log larger than memory); each batch is reduced to what adds up — waits summed,
    items counted, the decided items' waits counted per value (exact medians and p90) — and
    ranked as the items in memory are. batch_items: batches of that many items instead.
    """
    calendar = calendar or log.calendar
    tz = log.timezone
    label = None
    columns = ("resource", "dept")
    if month is not None:
        m = as_month(month)
        m0 = pd.Timestamp(m.start_time).tz_localize(tz)
        m1 = pd.Timestamp((m + 1).start_time).tz_localize(tz)
        label = str(m)
    if memory_limit is None and batch_items is None:
        items = work_items(log, calendar, as_of=as_of, columns=columns,
                           during=None if month is None else (m0, m1))
        as_of_t = items.attrs["as_of"]
        if month is None:            # the whole log: from the first visit to `as_of`
            waited = items.loc[items["visit_start"].notna() & (items["wait_source"] != "none"),
                               "visit_start"]
            m0, m1 = (waited.min() if len(waited) else as_of_t), as_of_t
        batches = [items]
    else:
        from officemine.importing.streaming import read_budget
        from officemine.log.relations import work_item_batches

        if month is None:
            raise InputError("bottlenecks in batches (memory_limit) need a month")
        rows, duckdb_memory = read_budget(memory_limit, _BYTES_PER_ITEM)
        batches = work_item_batches(log, calendar, as_of=as_of, columns=columns,
                                    items=batch_items or rows, duckdb_memory=duckdb_memory)
        as_of_t = now(log, as_of)
    by_node, by_person = _Waits("node"), _Waits("resource")
    for items in batches:
        inside = _inside(items, m0, m1, as_of_t, calendar)
        by_node.add(inside)
        by_person.add(inside)
    notes: list[str] = []
    if not by_node.items:
        notes.append(Said("waits.none", where=label or Said("waits.the_log")))
    period = {"start": m0.isoformat(), "end": m1.isoformat()}
    people = by_person.ranked()
    if len(people):
        people.insert(1, "dept", people["resource"].map(by_person.joined("dept")))
        people.insert(2, "nodes", people["resource"].map(by_person.joined("node")))
    else:                  # same columns when nobody waited (a month of submissions only)
        people.insert(1, "dept", pd.Series(dtype="object"))
        people.insert(2, "nodes", pd.Series(dtype="object"))
    return Bottlenecks(by_node=by_node.ranked(), by_person=people, month=label, period=period,
                       calendar=calendar.describe(), as_of=as_of_t, notes=tuple(notes))


#: Memory an item of a batch costs at peak (as the necessity test's items), with a margin.
_BYTES_PER_ITEM = 1_500


def _inside(items: pd.DataFrame, m0: pd.Timestamp, m1: pd.Timestamp, as_of_t: pd.Timestamp,
            calendar: Calendar) -> pd.DataFrame:
    """The items that waited inside [m0, m1), with the working and clock hours they waited
    there and whether they were decided then."""
    items = items[items["visit_start"].notna() & (items["wait_source"] != "none")].copy()
    items["end"] = items["acted_at"].where(~items["pending"], as_of_t)
    inside = items[(items["visit_start"] < m1) & (items["end"] > m0)].copy()
    lo = inside["visit_start"].where(inside["visit_start"] > m0, m0)
    hi = inside["end"].where(inside["end"] < m1, m1)
    inside["in_period_workhours"] = (calendar.working_hours(lo, hi) if len(inside)
                                     else np.array([]))
    inside["in_period_hours"] = (hi - lo).dt.total_seconds() / 3600.0
    inside["decided_in_period"] = (inside["observed"] & (inside["acted_at"] >= m0)
                                   & (inside["acted_at"] < m1))
    return inside


class _Waits:
    """The waiting at each node (or at each person) inside a period, added up batch by batch
    of whole cases in case order: sums and counts per group (in order of first appearance),
    the decided items' full waits counted per value (exact medians and p90), and for people
    the departments and nodes they waited at. One batch of all items is the in-memory case."""

    SUMS = {"wait_workhours": "in_period_workhours", "decided": "decided_in_period",
            "pending": "pending", "wait_hours": "in_period_hours"}

    def __init__(self, key: str) -> None:
        self.key = key
        self.totals: pd.DataFrame | None = None
        self.waits: pd.Series | None = None          # (group, wait) -> decided items
        self.seen: dict[str, set] = {"dept": set(), "node": set()}
        self.items = 0

    def add(self, inside: pd.DataFrame) -> None:
        """Add a batch's items inside the period (`_inside`), batches in case order."""
        if not inside.empty:
            self.merge(*self.reduce(inside, self.key))

    @staticmethod
    def reduce(inside: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.Series, dict]:
        """What a batch adds: its groups' sums and counts (in order of first appearance), its
        decided items' waits counted per (group, wait), and (for people) the (person, dept)
        and (person, node) pairs."""
        d = inside.copy()
        d[key] = d[key].astype("object").where(d[key].notna(), UNKNOWN)
        g = d.groupby(key, sort=False)
        totals = pd.DataFrame({name: g[column].sum() for name, column in _Waits.SUMS.items()})
        totals.insert(1, "items", g.size())
        waits = d[d["decided_in_period"]].groupby([key, "wait_workhours"], sort=False).size()
        pairs = {}
        if key == "resource":
            for column in ("dept", "node"):
                found = inside[["resource", column]].dropna().drop_duplicates()
                pairs[column] = set(zip(found["resource"], found[column]))
        return totals, waits, pairs

    def merge(self, totals: pd.DataFrame, waits: pd.Series, pairs: dict) -> None:
        """Add `reduce`'s parts of items that come after those added so far."""
        self.items += int(totals["items"].sum())
        if self.totals is None:
            self.totals, self.waits = totals, waits
        else:                          # groups keep the order they first appeared in
            order = self.totals.index.append(
                totals.index[~totals.index.isin(self.totals.index)])
            self.totals = (self.totals.reindex(order, fill_value=0)
                           + totals.reindex(order, fill_value=0))
            self.waits = pd.concat([self.waits, waits]).groupby(level=[0, 1], sort=False).sum()
        for column, found in pairs.items():
            self.seen[column] |= found

    def ranked(self) -> pd.DataFrame:
        """The groups ranked by the waiting inside the period (then by items)."""
        cols = [self.key, "wait_workhours", "wait_share", "items", "decided", "pending",
                "wait_median_workhours", "wait_p90_workhours", "wait_hours"]
        if self.totals is None:
            return pd.DataFrame(columns=cols)
        median, p90 = {}, {}
        for group, counts in self.waits.groupby(level=0, sort=False):
            counts = counts.droplevel(0).sort_index()
            values, n = counts.index.to_numpy(dtype=float), counts.to_numpy()
            median[group] = counted_quantile(values, n, 0.5)
            p90[group] = counted_quantile(values, n, 0.9)
        # one frame from the columns as pandas aligns them (groups with decided items in the
        # order they were first decided): the order ties keep below
        t = self.totals
        out = pd.DataFrame({
            "wait_workhours": t["wait_workhours"], "items": t["items"],
            "decided": t["decided"], "pending": t["pending"],
            "wait_median_workhours": pd.Series(median, dtype=float),
            "wait_p90_workhours": pd.Series(p90, dtype=float), "wait_hours": t["wait_hours"]})
        total = out["wait_workhours"].sum()
        out["wait_share"] = out["wait_workhours"] / total if total > 0 else np.nan
        for column in ("items", "decided", "pending"):
            out[column] = out[column].astype("int64")
        out = out.rename_axis(self.key).reset_index().sort_values(
            ["wait_workhours", "items"], ascending=False, kind="stable")
        return out[cols].reset_index(drop=True)

    def joined(self, column: str) -> dict:
        """Each person's distinct `column` values (departments, nodes), sorted, joined by 、."""
        out: dict = {}
        for person, value in sorted(self.seen[column]):
            out.setdefault(person, []).append(str(value))
        return {person: "、".join(values) for person, values in out.items()}


# --- helpers ----------------------------------------------------------------------------------

# The ledger reads `overdue_ledger` above: imported last, once this module is complete.
from officemine.supervision.ledger import CaseFile, Ledger, LedgerError  # noqa: E402
from officemine.supervision.digest import LedgerMonth, WeeklyDigest  # noqa: E402
