"""督办台账: the overdue ledger kept week after week, one entry per case (一事一档).

`overdue_ledger` says which open cases are past their time limit at one moment and forgets.
A `Ledger` remembers: each weekly run (`Ledger.update`) reads the log as of the week's end and

* **opens** an entry for each case that became overdue (working days since its start past its
  process type's SLA limit, in the log's calendar) and has none open — the same case keeps the
  same entry across runs;
* **carries** the open entries whose case is still open, recording the week's state: where the
  item is held and by whom, working days open and overdue, the reminders (催办) the log shows;
* **closes** (销号) the entries whose case has ended, with the close date (the case's end),
  how it ended and how long it had stood overdue (working days from its due time to its end);
* keeps an entry whose case the log no longer shows **open** ("unseen"), and says so: an
  export that dropped it does not close it.

Between two runs a case can become overdue and end: it is entered and closed in the same run
(its time overdue still counts). The first run of a ledger enters the cases overdue and open
at its as-of only: what ended before the ledger existed is not its business.

Runs go forward in time, one per ISO week of the as-of (in the ledger's time zone). Running a
recorded week again changes nothing (the week's digest is returned as recorded). A log whose
end is before the last run's log end (an older export) is refused unless an as-of is given; an
as-of before the last run is refused unless it falls in a recorded week.

All of a run's changes are one transaction (`officemine.supervision.store`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from officemine.base.choices import Lang
from officemine.base.version import __version__
from officemine.log.calendar import Calendar
from officemine.log.eventlog import EventLog
from officemine.base.jsonable import plain, records
from officemine.log.relations import log_end, now
from officemine.log.result import Result, headed
from officemine.sla import SLA
from officemine.supervision.store import LedgerError, SCHEMA_VERSION, connect, transaction
from officemine.base.text import relabel
from officemine.base.text import Said, plain_said, say

__all__ = ["Ledger", "LedgerError", "CaseFile", "week_label", "OPEN_STATES"]

#: States in which an entry is open at the end of a run.
OPEN_STATES = ("new", "reopened", "carried", "unseen")
_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[Ww]\s*(\d{1,2})\s*$")


def week_label(t: pd.Timestamp) -> str:
    """The ISO week of `t` (in its own zone): ``2025-W15``."""
    year, week, _ = t.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: Any) -> str:
    """A week from ``2025-W15``, ``2025W15`` or a date inside it (``2025-04-11``)."""
    text = str(value).strip()
    m = _WEEK.match(text)
    if m:
        year, week = int(m[1]), int(m[2])
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise LedgerError(f"week {text!r} does not exist (year {year} has no week "
                              f"{week})") from None
        return f"{year}-W{week:02d}"
    try:
        return week_label(pd.Timestamp(dt.date.fromisoformat(text)))
    except ValueError:
        raise LedgerError(f"a week is written like 2025-W15 (or a date in it, 2025-04-11), "
                          f"not {text!r}") from None


# --- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFile(Result):
    """一事一档: one ledger entry and its state, week by week.

    item: the entry (case, process type, title, applicant, SLA, due time, when it was entered
    and struck off); summary: one row per run that saw it (week, as-of, state, holder, working
    days overdue, reminders in the OA log and reminders this ledger sent)."""

    item: dict
    summary: pd.DataFrame

    html_float_format = "%.1f"

    def to_dict(self) -> dict:
        return {"item": plain(self.item), "weeks": records(self.summary)}

    def table(self, lang: Lang = "zh") -> pd.DataFrame:
        return relabel(self.summary, lang)

    def __repr__(self) -> str:
        i = self.item
        status = (f"closed {_ts(i['closed_at'])} ({i['close_status']}), "
                  f"{i['days_to_close']:.1f} working days overdue" if i["status"] == "closed"
                  else "open")
        head = (f"<CaseFile {i['case_id']} ({i['process_type']}, {i['title']}): entered "
                f"{i['opened_week']}, {status}>")
        view = self.summary[["week", "state", "current_step", "responsible", "days_overdue",
                             "reminders_in_log", "reminders_sent"]].round({"days_overdue": 1})
        return headed(head, view)

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.table("zh")]

    def plot(self, ax=None, lang: Lang = "zh"):
        """Working days overdue at each weekly run."""
        import matplotlib.pyplot as plt

        from officemine.base.plotting import chart_style

        with chart_style():
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 3), layout="constrained")
            s = self.summary
            ax.plot(s["week"], s["days_overdue"], marker="o", color="#e8590c")
            ax.set_ylabel(say("chart.days_overdue", lang))
            ax.set_title(say("chart.ledger_entry", lang, case=self.item["case_id"]))
        return ax


def _ts(value) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")




# --- the ledger ---------------------------------------------------------------------------------

@dataclass
class _Run:
    run_id: int
    week: str
    as_of: pd.Timestamp
    log_end: pd.Timestamp | None


@dataclass
class _Plan:
    """What one run changes: computed from the log before the write lock is taken."""

    week: str
    as_of: pd.Timestamp
    explicit: bool
    new: pd.DataFrame = field(default_factory=pd.DataFrame)        # items to insert
    states: pd.DataFrame = field(default_factory=pd.DataFrame)     # one row per item seen
    notes: list[str] = field(default_factory=list)


class Ledger:
    """督办台账 kept in an SQLite file: `update` runs one week, `open`, `closed` and `history`
    read it.

    >>> ledger = Ledger("duban.db")                          # doctest: +SKIP
    >>> digest = ledger.update(log)                          # doctest: +SKIP
    >>> ledger.open.head(); ledger.history("BX20250401003")  # doctest: +SKIP

    path None: a ledger in memory. readonly: the file is read into memory and never written
    (an older schema is migrated in the copy); a missing file is an error unless `create`.
    """

    def __init__(self, path: str | Path | None = None, *, readonly: bool = False,
                 create: bool = True) -> None:
        self.path = Path(path) if path is not None else None
        self.readonly = readonly
        self._where = str(self.path) if self.path else "the ledger in memory"
        self._con = connect(self.path, in_memory=readonly, create=create)

    # --- life cycle -----------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        runs = self._scalar("SELECT count(*) FROM runs")
        n_open = self._scalar("SELECT count(*) FROM items WHERE status = 'open'")
        n_closed = self._scalar("SELECT count(*) FROM items WHERE status = 'closed'")
        last = self.last_run
        when = f", last run {last.week} (as of {last.as_of:%Y-%m-%d %H:%M})" if last else ""
        return (f"<Ledger {self._where}: {runs} weekly run(s){when}; {n_open} open and "
                f"{n_closed} closed entries>")

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def timezone(self) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE key = 'timezone'").fetchone()
        return row[0] if row else None

    # --- reading --------------------------------------------------------------------------
    def _scalar(self, sql: str, params: tuple = ()) -> Any:
        return self._con.execute(sql, params).fetchone()[0]

    def _frame(self, sql: str, params: tuple | dict = ()) -> pd.DataFrame:
        cur = self._con.execute(sql, params)
        names = [d[0] for d in cur.description]
        frame = pd.DataFrame([tuple(r) for r in cur.fetchall()], columns=names)
        return self._times(frame)

    def _times(self, frame: pd.DataFrame) -> pd.DataFrame:
        tz = self.timezone or "UTC"
        for col in ("as_of", "log_end", "submitted_at", "due_at", "closed_at", "held_since",
                    "last_action_at", "sent_at", "recorded_at"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601") \
                    .dt.tz_convert(tz)
        for col in ("sla_days", "working_days_open", "days_overdue", "days_to_close"):
            if col in frame:                  # NULLs come back as None: make them NaN
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
        return frame

    @property
    def last_run(self) -> _Run | None:
        row = self._con.execute("SELECT run_id, week, as_of, log_end FROM runs "
                                "ORDER BY as_of DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return _Run(row["run_id"], row["week"], pd.Timestamp(row["as_of"]),
                    pd.Timestamp(row["log_end"]) if row["log_end"] else None)

    @property
    def runs(self) -> pd.DataFrame:
        """One row per weekly run: week, as-of, the log read, opened, reopened, carried,
        closed and open entries after it."""
        return self._frame("SELECT run_id, week, as_of, as_of_explicit, log_end, log_events, "
                           "log_cases, log_source, opened, reopened, carried, closed, "
                           "open_after, recorded_at FROM runs ORDER BY as_of")

    _ITEMS = """
SELECT i.item_id, i.case_id, i.process_type, i.title, i.applicant, i.applicant_dept,
       i.submitted_at, i.sla_days, i.due_at, i.status, o.week AS opened_week,
       c.week AS closed_week, i.closed_at, i.close_status, i.days_to_close, i.reopened,
       s.current_step, s.responsible, s.responsible_dept, s.days_overdue,
       s.weeks_on_ledger, s.reminders_in_log
FROM items i JOIN runs o ON o.run_id = i.opened_run
LEFT JOIN runs c ON c.run_id = i.closed_run
LEFT JOIN states s ON s.item_id = i.item_id
     AND s.run_id = (SELECT max(run_id) FROM states WHERE item_id = i.item_id)
"""

    def items(self, status: Literal["open", "closed", "all"] = "all") -> pd.DataFrame:
        """The entries with their latest recorded state, most overdue (open) or most recently
        closed first."""
        if status not in ("open", "closed", "all"):
            raise LedgerError(f"status must be open, closed or all, not {status!r}")
        where = "" if status == "all" else "WHERE i.status = ?"
        frame = self._frame(self._ITEMS + where, () if status == "all" else (status,))
        order = (["closed_at"] if status == "closed" else ["days_overdue"])
        return frame.sort_values(order, ascending=False, kind="stable",
                                 na_position="last").reset_index(drop=True)

    @property
    def open(self) -> pd.DataFrame:
        """Open entries (the cases still overdue and open at the last run)."""
        return self.items("open")

    @property
    def closed(self) -> pd.DataFrame:
        """Entries struck off (销号), most recently closed first."""
        return self.items("closed")

    def history(self, case_id: str) -> CaseFile:
        """一事一档: the entry of `case_id` and its state at every run that saw it."""
        item = self._frame(self._ITEMS + "WHERE i.case_id = ?", (str(case_id),))
        if item.empty:
            raise LedgerError(f"case {case_id!r} has no entry in {self._where}")
        weeks = self._frame("""
SELECT r.week, r.as_of, s.state, s.weeks_on_ledger, s.current_node, s.current_step,
       s.node_basis, s.responsible, s.responsible_dept, s.held_since, s.working_days_open,
       s.days_overdue, s.reminders_in_log,
       (SELECT count(*) FROM reminders m JOIN deliveries d USING (delivery_id)
        WHERE m.item_id = s.item_id AND d.run_id = s.run_id AND d.status = 'sent')
           AS reminders_sent,
       s.last_action, s.last_action_at, s.closed_at, s.close_status, s.days_to_close
FROM states s JOIN runs r USING (run_id) WHERE s.item_id = ? ORDER BY r.as_of""",
                            (int(item.at[0, "item_id"]),))
        return CaseFile(item=item.iloc[0].to_dict(), summary=weeks)

    def run_of(self, week: Any) -> int:
        """The run of `week` (``2025-W15`` or a date in it)."""
        label = parse_week(week)
        row = self._con.execute("SELECT run_id FROM runs WHERE week = ?", (label,)).fetchone()
        if row is None:
            weeks = [r[0] for r in self._con.execute("SELECT week FROM runs ORDER BY as_of")]
            known = f"recorded weeks: {', '.join(weeks[-8:])}" if weeks else "no week recorded"
            raise LedgerError(f"week {label} is not in {self._where} ({known})")
        return int(row[0])

    def digest(self, week: Any = None):
        """The digest (周报) of a recorded week (default: the last run)."""
        if week is None:
            last = self.last_run
            if last is None:
                raise LedgerError(f"{self._where} has no run yet")
            return self._digest(last.run_id, "recorded")
        return self._digest(self.run_of(week), "recorded")

    def _digest(self, run_id: int, status: str, notes: list[str] | None = None):
        from officemine.supervision.digest import WeeklyDigest

        run = self._con.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        rows = self._frame("""
SELECT s.state, s.weeks_on_ledger, i.item_id, i.case_id, i.process_type, i.title, i.applicant,
       i.applicant_dept, i.submitted_at, i.sla_days, i.due_at, o.week AS opened_week,
       i.opened_run = s.run_id AS opened_this_week, s.current_node, s.current_step,
       s.node_basis, s.responsible, s.responsible_dept, s.held_since, s.working_days_open,
       s.days_overdue, s.reminders_in_log, s.last_action, s.last_action_at, s.closed_at,
       s.close_status, s.days_to_close
FROM states s JOIN items i USING (item_id) JOIN runs o ON o.run_id = i.opened_run
WHERE s.run_id = ?""", (run_id,))
        deliveries = self._frame("SELECT channel, kind, status, attempts, error, sent_at, "
                                 "recipients FROM deliveries WHERE run_id = ? "
                                 "ORDER BY delivery_id", (run_id,))
        return WeeklyDigest.from_rows(
            run=dict(run), rows=rows, deliveries=deliveries, status=status,
            extra_notes=notes or [], timezone=self.timezone or "UTC", ledger=self._where)

    # --- one weekly run -------------------------------------------------------------------
    def update(self, log: EventLog, as_of: Any = None, *, sla: SLA | None = None,
               calendar: Calendar | None = None):
        """Run one week's supervision on `log` as of `as_of` (default: the end of the log)
        and return its `WeeklyDigest`. A week already recorded is returned unchanged. On a
        ledger opened read-only the run happens in the memory copy only: a dry run (status
        ``dry_run``), the file is not touched."""
        calendar = calendar or log.calendar
        sla = sla or SLA.default()
        explicit = as_of is not None
        t = now(log, as_of)
        if t is None:
            raise LedgerError("the log has no events: nothing to supervise")
        tz = self.timezone or log.timezone
        week = week_label(t.tz_convert(tz))
        end = log_end(log)
        recorded = self._check_time(end, t, week, explicit)
        if recorded is not None:
            return recorded
        plan = self._plan(log, end, t, week, explicit, sla, calendar)
        with transaction(self._con, self._where):
            if self.timezone is None:
                self._con.execute("INSERT INTO meta VALUES ('timezone', ?)", (log.timezone,))
            # another run may have recorded the week while the log was read
            again = self._con.execute("SELECT run_id FROM runs WHERE week = ?",
                                      (week,)).fetchone()
            if again is not None:
                return self._digest(int(again[0]), "unchanged")
            run_id = self._write(log, end, plan, sla, calendar)
        return self._digest(run_id, "dry_run" if self.readonly else "recorded", plan.notes)

    def _check_time(self, end: pd.Timestamp | None, t: pd.Timestamp, week: str,
                    explicit: bool):
        """Refuse going back in time; return the recorded digest of a week run again."""
        last = self.last_run
        if last is None:
            return None
        if not explicit and last.log_end is not None and end is not None and end < last.log_end:
            raise LedgerError(
                f"the log ends {end:%Y-%m-%d %H:%M}, before the log of the ledger's last run "
                f"({last.week}, which ended {last.log_end.tz_convert(end.tz):%Y-%m-%d %H:%M}): "
                "an older export would take the ledger back in time; give --as-of (as_of=) to "
                "record it as of a later time, or use the latest export")
        row = self._con.execute("SELECT run_id FROM runs WHERE week = ?", (week,)).fetchone()
        if row is not None:
            return self._digest(int(row[0]), "unchanged", [Said("ledger.week_recorded",
                                                                 week=week)])
        if t <= last.as_of:
            raise LedgerError(
                f"as of {t:%Y-%m-%d %H:%M} (week {week}) is before the ledger's last run "
                f"({last.week}, as of {last.as_of.tz_convert(t.tz):%Y-%m-%d %H:%M}): the ledger "
                "only moves forward; a recorded week can be shown (officemine ledger) or its "
                "digest sent again (--resend WEEK)")
        return None

    def _plan(self, log: EventLog, end: pd.Timestamp | None, t: pd.Timestamp, week: str,
              explicit: bool, sla: SLA, calendar: Calendar) -> _Plan:
        """What the run will write: the whole comparison of the log with the ledger, as
        vectorised pandas (no write lock held while the log is read)."""
        from officemine.kpis import case_cycles
        from officemine.supervision import overdue_ledger

        plan = _Plan(week=week, as_of=t, explicit=explicit)
        led = overdue_ledger(log, as_of=t, sla=sla, calendar=calendar)
        plan.notes.extend(led.notes)
        open_at = led.open_cases.set_index("case_id", drop=False)
        cases = case_cycles(log, calendar, sla).set_index("case_id", drop=False)
        items = self._frame("SELECT item_id, case_id, status, sla_days, due_at, closed_at "
                            "FROM items")
        weeks_before = self._frame(
            "SELECT item_id, count(*) AS n FROM states WHERE state IN "
            f"({', '.join('?' * len(OPEN_STATES))}) GROUP BY item_id", OPEN_STATES)
        weeks = dict(zip(weeks_before["item_id"], weeks_before["n"]))
        last = self.last_run

        ended = cases["ended_at"].notna() & (cases["ended_at"] <= t)
        open_items = items[items["status"] == "open"]
        closed_items = items[items["status"] == "closed"].set_index("case_id")
        # membership in Python sets: the entries are few, the log's cases many (an Arrow
        # string `isin` against 100k values costs a second)
        open_ids, ended_ids = set(open_at.index), set(cases.index[ended])
        is_open = open_items["case_id"].map(open_ids.__contains__).astype(bool)
        is_ended = open_items["case_id"].map(ended_ids.__contains__).astype(bool) & ~is_open
        carried = open_items[is_open]
        closing = open_items[is_ended]
        unseen = open_items[~is_open & ~is_ended]

        # entries to open: overdue and open now, or (after the first run) became overdue
        # since the last run and already ended (not on time: their end is past the limit)
        overdue_now = open_at.index[open_at["overdue"].astype(bool)]
        candidates = pd.Index(overdue_now)
        if last is not None:
            late_ended = cases.index[ended & (cases["ended_at"] > last.as_of)
                                     & (cases["on_time"] == 0)]
            candidates = candidates.union(late_ended)
        candidates = candidates.difference(pd.Index(open_items["case_id"]))
        reopen = candidates.intersection(closed_items.index)
        fresh = candidates.difference(closed_items.index)

        # new items: attributes from the open-case table (open now) or the case table
        attrs = ["case_id", "process_type", "title", "applicant", "applicant_dept",
                 "start_basis", "sla_days"]
        fresh_open = fresh.intersection(open_at.index)
        fresh_closed = fresh.difference(open_at.index)
        new_open = open_at.loc[fresh_open, attrs + ["submitted_at", "due_at"]]
        new_closed = cases.loc[fresh_closed, attrs + ["start_at"]].rename(
            columns={"start_at": "submitted_at"})
        if len(new_closed):
            new_closed["due_at"] = calendar.add_working_time(
                new_closed["submitted_at"],
                new_closed["sla_days"].to_numpy() * calendar.day_seconds).tz_convert(t.tz)
        else:
            new_closed["due_at"] = pd.Series(dtype=f"datetime64[ns, {t.tz}]")
        plan.new = pd.concat([new_open, new_closed]).reset_index(drop=True)

        sla_of = dict(zip(items["case_id"], items["sla_days"]))
        sla_of.update(zip(plan.new["case_id"], plan.new["sla_days"]))
        ids = dict(zip(items["case_id"], items["item_id"]))

        def open_state(case_ids, state: str) -> pd.DataFrame:
            rows = open_at.loc[list(case_ids)]
            return pd.DataFrame({
                "case_id": rows["case_id"].to_numpy(), "state": state,
                "current_node": rows["current_node"].to_numpy(),
                "current_step": rows["current_step"].to_numpy(),
                "node_basis": rows["node_basis"].to_numpy(),
                "responsible": rows["responsible"].to_numpy(),
                "responsible_dept": rows["responsible_dept"].to_numpy(),
                "held_since": rows["held_since"].to_numpy(),
                "working_days_open": rows["working_days_open"].to_numpy(),
                "days_overdue": rows["days_overdue"].to_numpy(),
                "reminders_in_log": rows["reminders"].to_numpy(),
                "last_action": rows["last_action"].to_numpy(),
                "last_action_at": rows["last_action_at"].to_numpy()})

        def closed_state(case_ids) -> pd.DataFrame:
            rows = cases.loc[list(case_ids)]
            limit = np.array([sla_of[c] for c in rows["case_id"]], dtype=float)
            return pd.DataFrame({
                "case_id": rows["case_id"].to_numpy(), "state": "closed",
                "closed_at": rows["ended_at"].to_numpy(),
                "close_status": rows["status"].to_numpy(),
                "days_to_close": rows["cycle_workdays"].to_numpy() - limit})

        parts = [open_state(carried["case_id"], "carried"),
                 open_state(fresh_open, "new"),
                 open_state(reopen.intersection(open_at.index), "reopened"),
                 closed_state(closing["case_id"]),
                 closed_state(fresh_closed),
                 closed_state(reopen.difference(open_at.index)),
                 pd.DataFrame({"case_id": unseen["case_id"].to_numpy(), "state": "unseen"})]
        states = pd.concat([p for p in parts if len(p)], ignore_index=True) \
            if any(len(p) for p in parts) else pd.DataFrame(columns=["case_id", "state"])
        states["item_id"] = states["case_id"].map(ids)
        states["reopen"] = states["case_id"].map(set(reopen).__contains__).astype(bool)
        before = states["item_id"].map(weeks).fillna(0).astype(int)
        is_open_state = states["state"].isin(OPEN_STATES)
        states["weeks_on_ledger"] = before + is_open_state.astype(int)
        plan.states = states

        if len(unseen):
            plan.notes.append(Said("ledger.unseen_one") if len(unseen) == 1 else
                              Said("ledger.unseen", n=len(unseen)))
        if last is None:
            plan.notes.append(Said("ledger.first_run"))
        if end is not None and t > end + pd.Timedelta(days=1):
            plan.notes.append(Said("ledger.after_end", as_of=f"{t:%Y-%m-%d %H:%M}",
                                   days=(t - end).days, end=f"{end:%Y-%m-%d %H:%M}"))
        return plan

    def _write(self, log: EventLog, end: pd.Timestamp | None, plan: _Plan, sla: SLA,
               calendar: Calendar) -> int:
        """Insert the run, its new items, the items' changes and every state (inside the
        caller's transaction)."""
        con = self._con
        st = plan.states
        counts = {
            "opened": int(len(plan.new)),
            "reopened": int(st["reopen"].sum()) if len(st) else 0,
            "carried": int(st["state"].isin(["carried", "unseen"]).sum()) if len(st) else 0,
            "closed": int((st["state"] == "closed").sum()) if len(st) else 0,
            "open_after": int(st["state"].isin(OPEN_STATES).sum()) if len(st) else 0,
        }
        source = log.report.source_file if log.report else (str(log.path) if log.path else None)
        cur = con.execute(
            "INSERT INTO runs (week, as_of, as_of_explicit, log_end, log_events, log_cases, "
            "log_source, calendar, calendar_en, sla, opened, reopened, carried, closed, "
            "open_after, notes, recorded_at, officemine) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (plan.week, plan.as_of.isoformat(), int(plan.explicit),
             end.isoformat() if end is not None else None, int(log.n_events), int(log.n_cases),
             source, calendar.describe(), calendar.describe("en"),
             json.dumps(sla.to_dict(), ensure_ascii=False),
             counts["opened"], counts["reopened"], counts["carried"], counts["closed"],
             counts["open_after"], json.dumps(plain_said(list(plan.notes)), ensure_ascii=False),
             dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), __version__))
        run_id = int(cur.lastrowid)
        new = plan.new
        con.executemany(
            "INSERT INTO items (case_id, process_type, title, applicant, applicant_dept, "
            "submitted_at, start_basis, sla_days, due_at, opened_run, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
            [(_sql(r.case_id), _sql(r.process_type), _sql(r.title), _sql(r.applicant),
              _sql(r.applicant_dept), _sql(r.submitted_at), _sql(r.start_basis),
              float(r.sla_days), _sql(r.due_at), run_id) for r in new.itertuples()])
        if len(new):
            ids = dict(con.execute(
                "SELECT case_id, item_id FROM items WHERE opened_run = ?", (run_id,)).fetchall())
            missing = st["item_id"].isna()
            st.loc[missing, "item_id"] = st.loc[missing, "case_id"].map(ids)
        st["item_id"] = st["item_id"].astype("int64")
        for col in ("current_node", "current_step", "node_basis", "responsible",
                    "responsible_dept", "held_since", "working_days_open", "days_overdue",
                    "reminders_in_log", "last_action", "last_action_at", "closed_at",
                    "close_status", "days_to_close"):
            if col not in st:
                st[col] = None
        con.executemany(
            "INSERT INTO states (run_id, item_id, state, weeks_on_ledger, current_node, "
            "current_step, node_basis, responsible, responsible_dept, held_since, "
            "working_days_open, days_overdue, reminders_in_log, last_action, last_action_at, "
            "closed_at, close_status, days_to_close) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, int(r.item_id), r.state, int(r.weeks_on_ledger), _sql(r.current_node),
              _sql(r.current_step), _sql(r.node_basis), _sql(r.responsible),
              _sql(r.responsible_dept), _sql(r.held_since), _sql(r.working_days_open),
              _sql(r.days_overdue), _sql(r.reminders_in_log), _sql(r.last_action),
              _sql(r.last_action_at), _sql(r.closed_at), _sql(r.close_status),
              _sql(r.days_to_close)) for r in st.itertuples()])
        closing = st[st["state"] == "closed"]
        con.executemany(
            "UPDATE items SET status = 'closed', closed_at = ?, closed_run = ?, "
            "close_status = ?, days_to_close = ?, reopened = reopened + ? WHERE item_id = ?",
            [(_sql(r.closed_at), run_id, _sql(r.close_status), _sql(r.days_to_close),
              int(r.reopen), int(r.item_id)) for r in closing.itertuples()])
        reopened = st[(st["state"] == "reopened")]
        con.executemany(
            "UPDATE items SET status = 'open', closed_at = NULL, closed_run = NULL, "
            "close_status = NULL, days_to_close = NULL, reopened = reopened + 1 "
            "WHERE item_id = ?", [(int(i),) for i in reopened["item_id"]])
        return run_id

    # --- deliveries ----------------------------------------------------------------------
    def record_deliveries(self, run_id: int, deliveries, kind: str = "run") -> None:
        """Record what was pushed for a run (one row per channel; the items each message
        addressed to whom), in a transaction of its own: the week's update is already kept
        whatever the channels answered."""
        if self.readonly:
            return
        with transaction(self._con, self._where):
            for d in deliveries:
                cur = self._con.execute(
                    "INSERT INTO deliveries (run_id, channel, kind, status, attempts, error, "
                    "sent_at, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, d.channel, kind, "sent" if d.ok else "failed", d.attempts,
                     d.error, d.at.isoformat(), json.dumps(list(d.recipients),
                                                           ensure_ascii=False)))
                if d.ok:
                    self._con.executemany(
                        "INSERT OR IGNORE INTO reminders VALUES (?, ?, ?)",
                        [(cur.lastrowid, int(item), person) for item, person in d.addressed])

    def delivered(self, run_id: int) -> set[str]:
        """Channels that already got the run's digest."""
        return {r[0] for r in self._con.execute(
            "SELECT DISTINCT channel FROM deliveries WHERE run_id = ? AND status = 'sent'",
            (run_id,))}

    def sends_since(self, channel: str, since: dt.datetime) -> list[dt.datetime]:
        """When messages were sent on `channel` since `since` (for its rate limit, across
        processes)."""
        rows = self._con.execute("SELECT sent_at FROM deliveries WHERE channel = ? AND "
                                 "status = 'sent' AND sent_at >= ?",
                                 (channel, since.isoformat())).fetchall()
        return [dt.datetime.fromisoformat(r[0]) for r in rows]

    # --- the month ------------------------------------------------------------------------
    def month_view(self, month: Any):
        """The ledger's view of a month for the monthly review (`LedgerMonth`)."""
        from officemine.supervision.digest import LedgerMonth

        return LedgerMonth.from_ledger(self, month)


def _sql(value: Any) -> Any:
    """A value SQLite stores: None for missing, ISO 8601 text for times, Python numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value, tz="UTC").isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_, bool)):
        return int(value)
    return value
