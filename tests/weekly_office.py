"""A generated office seen as four weekly exports, and what its ledger must say (the truth).

`snapshots` cuts one generated log (`officemine.synthetic.generate`) at successive moments the
way an OA export made then would show it: actions after the moment are not there yet, and a
holding that spans it (an item that arrived before and was decided after) is a pending row
(未办) — what the generator itself does at its end of observation.

`truth` computes, from the generator's case table alone (first submission, true end, process
type) and the SLA on the office calendar, what each weekly run must open, carry and close —
independently of the ledger's code.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from officemine.log.eventlog import EventLog
from officemine.sla import SLA
from officemine.synthetic import default_office_spec, generate

START, END = "2025-03-03", "2025-05-30"
SEED = 14
#: Four export moments, one per ISO week (W15..W18; 2025-05-01..05 is the Labour Day holiday).
MOMENTS = ("2025-04-11 17:30", "2025-04-18 17:30", "2025-04-25 17:30", "2025-04-30 17:30")
#: outcomes of a row that holds an item from its arrival to its action (as in the generator)
HOLDING = {"transfer", "add_approver", "approve", "return", "reject"}


def office():
    return generate(default_office_spec(), start=START, end=END, seed=SEED, rate_scale=1.5)


def cut(events: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """The export made at `moment`."""
    acted, arrived = events["acted_at"], events["arrived_at"]
    done = acted.notna() & (acted < moment)
    already = events["pending"].astype(bool) & (arrived < moment)
    holding = events["outcome"].isin(list(HOLDING)).fillna(False).astype(bool)
    becomes = holding & (arrived < moment) & acted.notna() & (acted >= moment)
    out = events[done | already | becomes].copy()
    late = becomes[done | already | becomes]
    out.loc[late, ["outcome", "comment"]] = pd.NA
    out.loc[late, "acted_at"] = pd.NaT
    out["pending"] = out["acted_at"].isna() & out["arrived_at"].notna()
    out["_at"] = out["acted_at"].fillna(out["arrived_at"])
    out = out.sort_values(["case_id", "pending", "_at"], kind="stable").drop(columns="_at")
    out["seq"] = out.groupby("case_id", sort=False).cumcount().astype("int32")
    return out.reset_index(drop=True)


def snapshots(syn, folder: Path) -> list[Path]:
    """Each export written as a Parquet log, oldest first."""
    paths = []
    cal = syn.spec.calendar
    for i, moment in enumerate(MOMENTS, start=1):
        t = pd.Timestamp(moment).tz_localize(cal.tz)
        log = EventLog.from_pandas(cut(syn.events, t), timezone=cal.tz, calendar=cal)
        paths.append(log.write(folder / f"export_week{i}.parquet"))
    return paths


def export_end(syn, moment: str) -> pd.Timestamp:
    """The last time the export made at `moment` knows of (its "now")."""
    t = pd.Timestamp(moment).tz_localize(syn.spec.calendar.tz)
    e = syn.events
    times = pd.concat([e["acted_at"][e["acted_at"] < t], e["arrived_at"][e["arrived_at"] < t]])
    return times.max()


def truth(syn, as_ofs: list[pd.Timestamp], sla: SLA | None = None) -> list[dict]:
    """Per run: the cases opened (with whether already ended), carried and closed (case ->
    true end), and the working days each closed one had stood overdue."""
    sla = sla or SLA.default()
    cal = syn.spec.calendar
    cases = syn.cases
    start = pd.DatetimeIndex(cases["submitted_at"])
    end = pd.DatetimeIndex(cases["closed_at"])
    limit = sla.limits_for(cases["process_type"]) * cal.day_seconds
    open_entries: set[str] = set()
    runs = []
    previous = None
    for t in as_ofs:
        work_now = cal.working_seconds(start, pd.DatetimeIndex([t] * len(cases)))
        open_at = (start <= t) & (end > t)
        overdue_open = set(cases["case_id"][open_at & (work_now > limit)])
        candidates = set(overdue_open)
        if previous is not None:
            work_end = cal.working_seconds(start, end)
            late = (end > previous) & (end <= t) & (np.round(work_end, 3) > np.round(limit, 3))
            candidates |= set(cases["case_id"][late])
        new = candidates - open_entries
        end_of = dict(zip(cases["case_id"], end))
        everyone = open_entries | new
        closed = {c: end_of[c] for c in everyone if end_of[c] <= t}
        carried = open_entries - set(closed)
        work_to_end = dict(zip(cases["case_id"], cal.working_seconds(start, end)))
        limit_of = dict(zip(cases["case_id"], limit))
        overdue_days = {c: (work_to_end[c] - limit_of[c]) / cal.day_seconds for c in closed}
        runs.append({"as_of": t, "opened": new, "carried": carried, "closed": closed,
                     "overdue_days": overdue_days, "open_after": everyone - set(closed)})
        open_entries = everyone - set(closed)
        previous = t
    return runs


# --- what the ledger tests share ------------------------------------------------------------

def dump(path) -> list:
    """Every row of every table: what "the ledger did not change" compares."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, sorted(map(tuple, con.execute(f"SELECT * FROM {t}")), key=repr))
                for t in tables]
    finally:
        con.close()


def people_file(path, spec):
    """Everyone of the office: a mobile each; Feishu ids for all; WeCom user ids for every
    other person (the rest are mentioned by mobile); e-mail for all."""
    lines = []
    for i, name in enumerate(spec.everyone):
        lines += [f'[people."{name}"]', f'mobile = "139{i:08d}"', f'feishu_open_id = "ou_{i:04d}"',
                  f'email = "p{i}@example.cn"']
        if i % 2:
            lines.append(f'wecom_user_id = "user{i}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
