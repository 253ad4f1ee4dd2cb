"""What the ledger tells: the week's digest (督办周报) and the month's view for the review.

`WeeklyDigest` is built from a run as recorded in the ledger (so a digest sent again later is
the same digest): new entries, entries still open with their weeks on the ledger, entries
struck off this week. It gives text for the terminal, JSON and the workbook's tables; its PDF
page and files are drawn by `officemine.rendering.digest`, and the notifications are written
from it (`officemine.supervision.notify`).

`LedgerMonth` is the ledger's view of a month for the monthly review: entries opened and
struck off by the month's runs, entries still open at its last run, the median time overdue
of those struck off, and the people holding the most open entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from officemine.base.choices import Lang
from officemine.base.jsonable import plain, records
from officemine.log.result import Result, headed
from officemine.supervision.ledger import OPEN_STATES, LedgerError
from officemine.base.text import (Said, for_reader, heads, kept_in, relabel, said_again, say,
                                  sheet_name, stored_step, word)

__all__ = ["WeeklyDigest", "LedgerMonth", "SECTIONS"]

#: Digest sections, in reading order: state -> section.
SECTIONS = ("new", "open", "closed")
_SECTION_OF = {"new": "new", "reopened": "new", "carried": "open", "unseen": "open",
               "closed": "closed"}
_COLUMNS = ["section", "state", "item_id", "case_id", "process_type", "title", "applicant",
            "applicant_dept", "submitted_at", "sla_days", "due_at", "opened_week",
            "opened_this_week", "weeks_on_ledger", "current_step", "current_node", "node_basis",
            "responsible", "responsible_dept", "held_since", "working_days_open",
            "days_overdue", "reminders_in_log", "last_action", "last_action_at", "closed_at",
            "close_status", "days_to_close"]


def split_people(value: Any) -> list[str]:
    """The people of a holder cell: several holders are joined by 、 (`relations.holders`)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return []
    return [p.strip() for p in str(value).split("、") if p.strip()]


def _people(open_rows: pd.DataFrame) -> pd.DataFrame:
    """Open entries per responsible person (several holders of one item each count it),
    most first."""
    cols = ["responsible", "responsible_dept", "open_items", "new_items", "max_days_overdue"]
    if open_rows.empty:
        return pd.DataFrame(columns=cols)
    d = open_rows.assign(person=open_rows["responsible"].map(split_people))
    d = d[d["person"].map(len) > 0].explode("person")
    if d.empty:
        return pd.DataFrame(columns=cols)
    g = d.groupby("person", sort=False)
    out = pd.DataFrame({
        "responsible_dept": g["responsible_dept"].first(),
        "open_items": g.size(),
        "new_items": g["section"].agg(lambda s: int((s == "new").sum())),
        "max_days_overdue": g["days_overdue"].max(),
    }).reset_index().rename(columns={"person": "responsible"})
    return out.sort_values(["open_items", "max_days_overdue", "responsible"],
                           ascending=[False, False, True], kind="stable")[cols] \
        .reset_index(drop=True)


def days_text(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}"


# --- the week ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeeklyDigest(Result):
    """督办周报 of one weekly run.

    summary: one row per entry the run saw (section new / open / closed, the case, where it
    is held and by whom, working days overdue, weeks on the ledger; for closed ones when and
    how the case ended and how long it had stood overdue); by_person: open entries per
    responsible person; counts: opened, reopened, carried, closed, open_after; status:
    ``recorded`` (this run wrote it or it is read back), ``unchanged`` (the week was already
    recorded) or ``dry_run``.
    """

    week: str
    as_of: pd.Timestamp
    run_id: int
    status: str
    counts: dict
    summary: pd.DataFrame
    by_person: pd.DataFrame
    notes: tuple[str, ...] = ()
    log_info: dict = field(default_factory=dict)
    calendar: str = ""
    sla: dict = field(default_factory=dict)
    deliveries: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: str = ""
    calendar_en: str = ""

    html_float_format = "%.1f"

    @classmethod
    def from_rows(cls, *, run: dict, rows: pd.DataFrame, deliveries: pd.DataFrame,
                  status: str, extra_notes: list[str], timezone: str,
                  ledger: str) -> "WeeklyDigest":
        rows = rows.copy()
        rows["section"] = rows["state"].map(_SECTION_OF)
        rows["opened_this_week"] = rows["opened_this_week"].astype(bool)
        for col in ("days_overdue", "working_days_open", "days_to_close", "sla_days"):
            rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
        order = {s: i for i, s in enumerate(SECTIONS)}
        rows["_s"] = rows["section"].map(order)
        rows["_k"] = np.where(rows["section"] == "closed",
                              -rows["closed_at"].map(lambda t: t.timestamp() if pd.notna(t)
                                                     else 0.0).astype(float),
                              -rows["days_overdue"].fillna(-1e9))
        rows = rows.sort_values(["_s", "_k", "case_id"], kind="stable")
        summary = rows[_COLUMNS].reset_index(drop=True)
        open_rows = summary[summary["state"].isin(OPEN_STATES)]
        stored = tuple(said_again(json.loads(run["notes"])))   # text, or a Said's code
        notes = stored + tuple(n for n in extra_notes if n not in stored)
        return cls(
            week=run["week"], as_of=pd.Timestamp(run["as_of"]).tz_convert(timezone),
            run_id=int(run["run_id"]), status=status,
            counts={k: int(run[k]) for k in ("opened", "reopened", "carried", "closed",
                                             "open_after")},
            summary=summary, by_person=_people(open_rows), notes=notes,
            log_info={"end": run["log_end"], "events": run["log_events"],
                      "cases": run["log_cases"], "source": run["log_source"],
                      "as_of_explicit": bool(run["as_of_explicit"])},
            calendar=run["calendar"], calendar_en=run["calendar_en"] or "",
            sla=json.loads(run["sla"]), deliveries=deliveries,
            ledger=ledger)

    def calendar_in(self, lang: Lang) -> str:
        """The run's calendar described in `lang` (a run recorded before the ledger kept the
        English description has only the Chinese one)."""
        return kept_in(self.calendar, self.calendar_en, lang)

    # --- views ----------------------------------------------------------------------------
    def section(self, name: str) -> pd.DataFrame:
        if name not in SECTIONS:
            raise LedgerError(f"section must be one of {', '.join(SECTIONS)}, not {name!r}")
        return self.summary[self.summary["section"] == name]

    def table(self, lang: Lang = "zh") -> pd.DataFrame:
        """The entries as a reader of `lang` sees them: labels, states and endings in words
        (`officemine.base.text.for_reader`)."""
        return for_reader(self.summary, lang)

    def headline(self, lang: Lang = "zh") -> str:
        c = self.counts
        same_week = int((self.summary["opened_this_week"]
                         & (self.summary["section"] == "closed")).sum())
        return say("digest.headline", lang, opened=c["opened"], carried=c["carried"],
                   closed=c["closed"], open_after=c["open_after"],
                   extra=say("digest.same_week", lang, n=same_week) if same_week else "",
                   again=say("digest.again", lang, n=c["reopened"]) if c["reopened"] else "")

    def title(self, lang: Lang = "zh") -> str:
        return say("digest.title", lang, week=self.week, as_of=self.as_of)

    def item_line(self, row: Any, lang: Lang = "zh", mention: str = "") -> str:
        """One entry as a line of the digest (the robots' messages use it too)."""
        title = f"「{row.title}」" if isinstance(row.title, str) and row.title else ""
        what = f"{row.case_id} {row.process_type or ''}{title}"
        if row.section == "closed":
            when = pd.Timestamp(row.closed_at).strftime("%m-%d %H:%M") \
                if pd.notna(row.closed_at) else "—"
            return say("digest.closed_line", lang, what=what, when=when,
                       how=word("close_status", row.close_status, lang),
                       days=days_text(row.days_to_close))
        who = row.responsible if isinstance(row.responsible, str) else \
            say("digest.holder_unknown", lang)
        step = stored_step(row.current_step, lang) if isinstance(row.current_step, str) else "—"
        extra = ""
        if row.state == "unseen":
            extra = say("digest.unseen", lang)
        elif row.section == "open":
            extra = say("digest.week_on", lang, n=row.weeks_on_ledger)
        elif row.state == "reopened":
            extra = say("digest.reopened", lang)
        over = "" if row.state == "unseen" else say("digest.overdue", lang,
                                                    days=days_text(row.days_overdue))
        return f"{what} · {step} · {who}{mention}" + (f" · {over}" if over else "") + extra

    def text(self, lang: Lang = "zh", limit: int | None = None) -> str:
        """The digest for the terminal (and the e-mail body): headline and every entry by
        section (at most `limit` per section)."""
        lines = [self.title(lang), self.headline(lang)]
        for name in SECTIONS:
            rows = self.section(name)
            if rows.empty:
                continue
            lines.append(say("digest.section", lang, name=word("section", name, lang)))
            shown = rows if limit is None else rows.head(limit)
            lines += ["  " + self.item_line(r, lang) for r in shown.itertuples()]
            if len(rows) > len(shown):
                lines.append(say("digest.more", lang, n=len(rows) - len(shown)))
        if not len(self.summary):
            lines.append(say("digest.empty", lang))
        lines += [say("digest.note", lang, text=n) for n in self.notes]
        return "\n".join(lines)

    # --- machine-readable -----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"week": self.week, "as_of": self.as_of.isoformat(), "run": self.run_id,
                "status": self.status, "counts": self.counts, "calendar": self.calendar,
                "sla": self.sla, "unit": "working days (one = the calendar's office hours)",
                "log": plain(self.log_info), "notes": list(self.notes),
                "items": records(self.summary), "people": records(self.by_person),
                "deliveries": records(self.deliveries) if len(self.deliveries) else [],
                "ledger": self.ledger}

    def tables(self, lang: Lang = "zh") -> dict[str, pd.DataFrame]:
        """The workbook's sheets, named in `lang`: the counts, every entry, the people."""
        c = self.counts
        what, value = heads("digest_counts", lang)
        counts = pd.DataFrame({
            what: heads("digest_count_rows", lang),
            value: [self.week, self.as_of.strftime("%Y-%m-%d %H:%M"), c["opened"],
                    c["reopened"], c["carried"], c["closed"], c["open_after"]]})
        return {sheet_name(code, lang): frame for code, frame in (
            ("digest", counts), ("digest_entries", self.table(lang)),
            ("digest_people", relabel(self.by_person, lang)))}

    # --- pictures ---------------------------------------------------------------------------
    def plot(self, ax=None, lang: Lang = "zh"):
        """Open entries per responsible person (the ten with most), new ones marked."""
        from officemine.base.plotting import chart_style, empty_note, rows_axes

        d = self.by_person.head(10)
        with chart_style():
            ax = rows_axes(ax, len(d), width=7, per_row=0.45, layout="constrained")
            y = np.arange(len(d))
            ax.barh(y, d["open_items"], color="#e8590c", label=say("digest.open_bar", lang))
            ax.barh(y, d["new_items"], color="#c92a2a", label=say("digest.new_bar", lang))
            ax.set_yticks(y, d["responsible"].astype(str))
            ax.invert_yaxis()
            ax.set_xlabel(say("digest.open_axis", lang))
            ax.set_title(say("digest.most_open", lang, week=self.week))
            if d.empty:
                empty_note(ax, say("digest.no_open", lang))
            else:
                ax.legend(fontsize=8, frameon=False)
        return ax

    # --- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        head = f"<WeeklyDigest {self.week} as of {self.as_of:%Y-%m-%d %H:%M} ({self.status}): " \
               f"{self.headline('en')}>"
        view = self.summary[["section", "case_id", "process_type", "current_step",
                             "responsible", "days_overdue", "weeks_on_ledger",
                             "days_to_close"]].round({"days_overdue": 1, "days_to_close": 1})
        return headed(head, view, max_rows=30)

    def _html_tables(self) -> list[pd.DataFrame]:
        return [self.table("zh")]


# --- the month --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerMonth(Result):
    """The ledger's view of a month (the monthly review's 督办台账 page).

    Entries **opened** and **struck off** by the month's weekly runs, entries **still open**
    at its last run, the **median time overdue** of those struck off (working days from the
    due time to the case's end, with n), and the **people** holding the most open entries at
    the last run. summary: every entry the month touched, with opened_in_month,
    closed_in_month and open_at_month_end.
    """

    month: str
    weeks: tuple[str, ...]
    opened: int
    closed: int
    still_open: int
    median_days_to_close: float | None
    n_closed: int
    summary: pd.DataFrame
    people: pd.DataFrame
    ledger: str = ""
    notes: tuple[str, ...] = ()

    html_float_format = "%.1f"

    @property
    def has_runs(self) -> bool:
        return bool(self.weeks)

    @classmethod
    def from_ledger(cls, ledger, month: Any) -> "LedgerMonth":
        from officemine.log.months import as_month

        period = as_month(month)
        tz = ledger.timezone or "UTC"
        lo = pd.Timestamp(period.start_time).tz_localize(tz)
        hi = pd.Timestamp((period + 1).start_time).tz_localize(tz)
        runs = ledger.runs
        runs = runs[(runs["as_of"] >= lo) & (runs["as_of"] < hi)]
        where = ledger._where
        if runs.empty:
            return cls(month=str(period), weeks=(), opened=0, closed=0, still_open=0,
                       median_days_to_close=None, n_closed=0,
                       summary=pd.DataFrame(columns=_MONTH_COLUMNS),
                       people=_people(pd.DataFrame()), ledger=where,
                       notes=(Said("ledger.no_run_in", month=str(period)),))
        ids = [int(i) for i in runs["run_id"]]
        last = ids[-1]
        marks = ", ".join("?" * len(ids))
        states = ledger._frame(f"""
SELECT s.run_id, s.item_id, s.state, s.responsible, s.responsible_dept, s.current_step,
       s.days_overdue, s.days_to_close, s.closed_at, s.close_status, i.case_id,
       i.process_type, i.title, i.applicant, i.opened_run, o.week AS opened_week
FROM states s JOIN items i USING (item_id) JOIN runs o ON o.run_id = i.opened_run
WHERE s.run_id IN ({marks}) ORDER BY s.run_id""", tuple(ids))
        states["days_overdue"] = states["days_overdue"].astype(float)
        states["days_to_close"] = states["days_to_close"].astype(float)
        opened_ids = set(states.loc[states["opened_run"].isin(ids)
                                    & states["opened_run"].eq(states["run_id"]), "item_id"])
        closed_rows = states[states["state"] == "closed"]
        open_last = states[(states["run_id"] == last) & states["state"].isin(OPEN_STATES)]
        latest = states.groupby("item_id", sort=False).tail(1).set_index("item_id")
        summary = latest.reset_index()[["item_id", "case_id", "process_type", "title",
                                        "applicant", "opened_week", "state", "current_step",
                                        "responsible", "responsible_dept", "days_overdue",
                                        "closed_at", "close_status", "days_to_close"]].copy()
        summary["opened_in_month"] = summary["item_id"].isin(opened_ids)
        summary["closed_in_month"] = summary["item_id"].isin(set(closed_rows["item_id"]))
        summary["open_at_month_end"] = summary["item_id"].isin(set(open_last["item_id"]))
        summary = summary.sort_values(["open_at_month_end", "days_overdue"],
                                      ascending=[False, False], kind="stable")
        days = closed_rows["days_to_close"].dropna()
        people = _people(open_last.assign(section=np.where(
            open_last["item_id"].isin(opened_ids), "new", "open")))
        return cls(month=str(period), weeks=tuple(runs["week"]), opened=len(opened_ids),
                   closed=int(closed_rows["item_id"].nunique()), still_open=len(open_last),
                   median_days_to_close=float(days.median()) if len(days) else None,
                   n_closed=int(len(days)), summary=summary[_MONTH_COLUMNS].reset_index(drop=True),
                   people=people, ledger=where)

    def names(self) -> set[str]:
        """The people the view names (applicants and responsible persons)."""
        from officemine.privacy import NOT_PEOPLE
        from officemine.log.schema import normalize_word

        cells = [*self.summary["applicant"], *self.summary["responsible"],
                 *self.people["responsible"]]
        return {n for v in cells for n in split_people(v)
                if normalize_word(n) not in NOT_PEOPLE}

    def pseudonymized(self, replacer) -> "LedgerMonth":
        """A copy with every person replaced as `replacer` (`officemine.privacy.Replacer`)
        replaces them: in the person columns and inside titles, as the review does with
        ``--pseudonymize``."""
        summary = self.summary.copy()
        for col in ("applicant", "responsible"):
            summary[col] = summary[col].map(replacer.person_cell)
        summary["title"] = summary["title"].map(replacer.text)
        people = self.people.copy()
        people["responsible"] = people["responsible"].map(replacer.person_cell)
        return replace(self, summary=summary, people=people)

    def to_dict(self) -> dict:
        return {"month": self.month, "weeks": list(self.weeks), "opened": self.opened,
                "closed": self.closed, "still_open": self.still_open,
                "median_days_to_close": plain(self.median_days_to_close),
                "n_closed": self.n_closed,
                "unit": "working days from the due time to the case's end",
                "people": records(self.people), "items": records(self.summary),
                "notes": list(self.notes)}

    def table(self, lang: Lang = "zh") -> pd.DataFrame:
        """The month's entries as a reader of `lang` sees them (`officemine.base.text.for_reader`)."""
        return for_reader(self.summary, lang, "ledger")

    def median_text(self, lang: Lang = "zh") -> str:
        if self.median_days_to_close is None:
            return "—"
        return say("ledger.median_text", lang, days=self.median_days_to_close, n=self.n_closed)

    def __repr__(self) -> str:
        if not self.has_runs:
            return f"<LedgerMonth {self.month}: no weekly run>"
        head = (f"<LedgerMonth {self.month} ({len(self.weeks)} weekly runs): {self.opened} "
                f"opened, {self.closed} struck off, {self.still_open} still open; median "
                f"overdue until struck off {self.median_text('en')}>")
        return headed(head, self.people.head(10))

    def _html_tables(self) -> list[pd.DataFrame]:
        return [relabel(self.people, "zh")]

    def plot(self, ax=None, lang: Lang = "zh"):
        """The people with the most open entries at the month's last run."""
        from matplotlib.ticker import MaxNLocator

        from officemine.base.plotting import chart_style, empty_note, rows_axes

        d = self.people.head(10)
        with chart_style():
            ax = rows_axes(ax, len(d), width=6, per_row=0.45, layout="constrained")
            y = np.arange(len(d))
            ax.barh(y, d["open_items"], color="#e8590c", height=0.6)
            ax.set_yticks(y, d["responsible"].astype(str))
            ax.set_ylim(max(len(d), 6) - 0.5, -0.5)       # bars keep their size when few
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            for i, n in enumerate(d["open_items"]):
                ax.text(n, i, f" {n}", va="center", fontsize=8)
            ax.set_xlabel(say("ledger.open_axis", lang))
            ax.set_title(say("ledger.most_open", lang))
            if d.empty:
                empty_note(ax, say("ledger.none", lang))
        return ax


_MONTH_COLUMNS = ["item_id", "case_id", "process_type", "title", "applicant", "opened_week",
                  "state", "current_step", "responsible", "responsible_dept", "days_overdue",
                  "closed_at", "close_status", "days_to_close", "opened_in_month",
                  "closed_in_month", "open_at_month_end"]
