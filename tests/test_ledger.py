"""The ledger as a library: one transaction per run (a failed or killed run leaves the file as
it was), schema versions and migrations, reopened cases, read-only and dry runs, entries'
histories, and the month's view for the review."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

import officemine
from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.rendering.digest import write_digest
from officemine.sla import SLA
from officemine.supervision import Ledger, LedgerError
from officemine.supervision.store import MIGRATIONS, SCHEMA_VERSION

from weekly_office import MOMENTS, dump, export_end, office, snapshots, truth

SLA_TEST = SLA(default_limit=5, limits={"费用报销": 2})


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weeks")
    syn = office()
    return syn, [officemine.read_log(p) for p in snapshots(syn, folder)]


def run_weeks(path, logs):
    with Ledger(path) as ledger:
        return [ledger.update(log) for log in logs]


def test_update_returns_each_weeks_digest_and_the_api_reads_the_ledger(weeks, tmp_path):
    syn, logs = weeks
    digests = run_weeks(tmp_path / "l.db", logs)
    assert [d.status for d in digests] == ["recorded"] * 4
    expected = truth(syn, [export_end(syn, m) for m in MOMENTS])
    assert [d.counts["opened"] for d in digests] == [len(w["opened"]) for w in expected]
    with Ledger(tmp_path / "l.db") as ledger:
        assert set(ledger.open["case_id"]) == expected[-1]["open_after"]
        assert ledger.open["status"].eq("open").all()
        assert ledger.closed["closed_at"].is_monotonic_decreasing
        case = ledger.closed["case_id"].iloc[-1]
        history = ledger.history(case)
        assert history.summary["state"].iloc[-1] == "closed"
        assert history.summary["week"].is_monotonic_increasing
        assert case in repr(history) and "<table" in history._repr_html_()
        carried = ledger.items("all")
        long = carried[carried["weeks_on_ledger"] >= 2]
        assert len(long)                       # some entries stay for weeks
        assert "weekly run(s)" in repr(ledger)
        with pytest.raises(LedgerError, match="no entry"):
            ledger.history("NOT-A-CASE")
        with pytest.raises(LedgerError, match="not in"):
            ledger.digest("2024-W01")


def test_a_failed_run_leaves_the_ledger_as_it_was(weeks, tmp_path, monkeypatch):
    _, logs = weeks
    path = tmp_path / "l.db"
    run_weeks(path, logs[:2])
    before = dump(path)
    original = Ledger._write

    def write_then_fail(self, *args, **kwargs):
        original(self, *args, **kwargs)      # every insert and update of the run is done …
        raise RuntimeError("disk on fire")   # … and then the run fails before its commit

    monkeypatch.setattr(Ledger, "_write", write_then_fail)
    with Ledger(path) as ledger, pytest.raises(RuntimeError, match="disk on fire"):
        ledger.update(logs[2])
    assert dump(path) == before
    monkeypatch.undo()
    with Ledger(path) as ledger:            # and the next run works
        assert ledger.update(logs[2]).status == "recorded"


def test_a_killed_run_leaves_the_ledger_as_it_was(weeks, tmp_path):
    _, logs = weeks
    path = tmp_path / "l.db"
    run_weeks(path, logs[:2])
    third = tmp_path / "week3.parquet"
    logs[2].write(third)
    before = dump(path)
    script = textwrap.dedent(f"""
        import os, signal
        import officemine
        from officemine.supervision import Ledger
        original = Ledger._write
        def write_then_die(self, *args, **kwargs):
            original(self, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)      # killed inside the transaction
        Ledger._write = write_then_die
        Ledger({str(path)!r}).update(officemine.read_log({str(third)!r}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert dump(path) == before                  # the journal rolls the change back
    with Ledger(path) as ledger:
        assert ledger.update(logs[2]).status == "recorded"
        assert len(ledger.runs) == 3


def test_a_version_1_ledger_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    for statement in MIGRATIONS[1].split(";"):
        if statement.strip():
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('application', 'officemine supervision ledger')")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO meta VALUES ('timezone', 'Asia/Shanghai')")
    con.execute("INSERT INTO runs VALUES (1, '2025-W15', '2025-04-11T17:30:00+08:00', 0, "
                "'2025-04-11T17:30:00+08:00', 10, 2, 'x.csv', 'cal', '{}', 1, 0, 0, 0, 1, "
                "'[]', '2025-04-11T10:00:00+00:00', '0.1.0')")
    con.execute("INSERT INTO items (case_id, process_type, sla_days, opened_run, status) "
                "VALUES ('BX1', '费用报销', 2, 1, 'open')")
    con.commit()
    con.close()
    tables = {r[0] for r in sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "deliveries" not in tables
    # read-only: migrated in memory, the file stays at version 1
    with Ledger(path, readonly=True) as ledger:
        assert ledger.open["case_id"].tolist() == ["BX1"]
        assert ledger.delivered(1) == set()
    version = sqlite3.connect(path).execute(
        "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == "1"
    with Ledger(path) as ledger:
        assert ledger.open["case_id"].tolist() == ["BX1"]
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] \
        == str(SCHEMA_VERSION)
    assert con.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
    # a run recorded before the English calendar was kept has none (its digest says the
    # Chinese one in either language)
    assert con.execute("SELECT calendar, calendar_en FROM runs").fetchall() == [("cal", None)]


def test_files_that_are_not_ledgers_are_refused(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00\xffnot a database" * 100)
    with pytest.raises(LedgerError, match="not an officemine ledger"):
        Ledger(garbage)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(LedgerError, match="not an officemine ledger"):
        Ledger(other)
    newer = tmp_path / "newer.db"
    Ledger(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="newer than this officemine"):
        Ledger(newer)
    with pytest.raises(LedgerError, match="no ledger at"):
        Ledger(tmp_path / "missing.db", create=False)
    with pytest.raises(LedgerError, match="folder"):
        Ledger(tmp_path)


def test_a_dry_run_changes_nothing_on_disk(weeks, tmp_path):
    _, logs = weeks
    path = tmp_path / "l.db"
    run_weeks(path, logs[:2])
    before, stat = dump(path), path.stat()
    with Ledger(path, readonly=True) as ledger:
        digest = ledger.update(logs[2])
        assert digest.status == "dry_run" and digest.week == "2025-W17"
        assert len(ledger.runs) == 3              # in the copy …
    assert dump(path) == before                   # … not in the file
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    missing = tmp_path / "new.db"
    with Ledger(missing, readonly=True) as ledger:
        assert ledger.update(logs[0]).status == "dry_run"
    assert not missing.exists()


COLUMNS = ["case_id", "process_type", "node", "outcome", "resource", "dept", "arrived_at",
           "acted_at", "applicant", "applicant_dept", "title"]
# R: submitted 05-06, withdrawn 05-12 after 4 working days (limit 2: overdue), resubmitted
# 05-20 and pending at 财务初审: an ended case that comes back. K: on time.
ROWS = [
    ("R", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-06 09:00"),
    ("R", "费用报销", "发起", "withdraw", "张三", "市场部", None, "2025-05-12 10:00"),
    ("R", "费用报销", "发起", "resubmit", "张三", "市场部", None, "2025-05-20 09:00"),
    ("R", "费用报销", "财务初审", None, "王五", "财务部", "2025-05-20 09:00", None),
    ("K", "费用报销", "发起", "submit", "李四", "市场部", None, "2025-05-07 09:00"),
    ("K", "费用报销", "归档", "archive", "系统", None, None, "2025-05-07 15:00"),
    ("K", "费用报销", "发起", "remind", "李四", "市场部", None, "2025-05-21 09:00"),
]


def hand_log(until: str):
    rows = [r for r in ROWS if (r[7] or r[6]) <= until]
    frame = pd.DataFrame([(*r, r[4] if r[0] == "R" else "李四", "市场部", f"{r[0]}的申请")
                          for r in rows], columns=COLUMNS)
    events, report, _ = build_log(RawEvents(frame, "hand.csv", "csv", len(frame)))
    return officemine.EventLog.from_pandas(events, timezone="Asia/Shanghai", report=report)


def test_an_ended_case_that_comes_back_reopens_its_entry(tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        first = ledger.update(hand_log("2025-05-09 17:30"), "2025-05-09 17:30", sla=SLA_TEST)
        assert first.summary["case_id"].tolist() == ["R"]
        second = ledger.update(hand_log("2025-05-16 17:30"), "2025-05-16 17:30", sla=SLA_TEST)
        closed = second.section("closed").set_index("case_id")
        assert closed.loc["R", "close_status"] == "withdrawn"
        assert closed.loc["R", "closed_at"] == pd.Timestamp("2025-05-12 10:00",
                                                            tz="Asia/Shanghai")
        # 05-06 09:00 to 05-12 10:00: 4 working days (05-06 … 05-09) and 1 hour; limit 2
        assert closed.loc["R", "days_to_close"] == pytest.approx(2 + 1 / 7)
        third = ledger.update(hand_log("2025-05-23 17:30"), "2025-05-23 17:30", sla=SLA_TEST)
        assert third.counts["reopened"] == 1 and third.counts["opened"] == 0
        row = third.summary.set_index("case_id").loc["R"]
        assert row["state"] == "reopened" and row["responsible"] == "王五"
        entry = ledger.open.set_index("case_id").loc["R"]
        assert pd.isna(entry["closed_at"])
        history = ledger.history("R").summary
        assert history["state"].tolist() == ["new", "closed", "reopened"]


def test_an_entry_missing_from_a_later_export_stays_open_and_is_noted(tmp_path):
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.update(hand_log("2025-05-09 17:30"), "2025-05-09 17:30", sla=SLA_TEST)
        only_k = hand_log("2025-05-21 17:30").select_cases(process_type="费用报销")
        frame = only_k.to_pandas()
        frame = frame[frame["case_id"] == "K"]
        log = officemine.EventLog.from_pandas(frame, timezone="Asia/Shanghai")
        digest = ledger.update(log, "2025-05-21 17:30", sla=SLA_TEST)
        assert digest.summary.set_index("case_id").loc["R", "state"] == "unseen"
        assert digest.counts["open_after"] == 1
        assert any("not seen open" in n for n in digest.notes)
        assert "本周日志未见" in digest.text("zh")


def test_the_month_view_counts_the_months_runs(weeks, tmp_path):
    syn, logs = weeks
    run_weeks(tmp_path / "l.db", logs)
    expected = truth(syn, [export_end(syn, m) for m in MOMENTS])
    with Ledger(tmp_path / "l.db", readonly=True) as ledger:
        april = ledger.month_view("2025-04")
        assert april.weeks == ("2025-W15", "2025-W16", "2025-W17", "2025-W18")
        assert april.opened == sum(len(w["opened"]) for w in expected)
        assert april.closed == sum(len(w["closed"]) for w in expected)
        assert april.still_open == len(expected[-1]["open_after"])
        days = [d for w in expected for d in w["overdue_days"].values()]
        assert april.median_days_to_close == pytest.approx(pd.Series(days).median())
        assert april.n_closed == len(days)
        people = april.people.set_index("responsible")["open_items"]
        last = ledger.digest("2025-W18").summary
        open_last = last[last["section"] != "closed"]
        holders = open_last["responsible"].dropna().str.split("、").explode().value_counts()
        assert people.to_dict() == holders.to_dict()
        assert april.people["open_items"].is_monotonic_decreasing
        assert april.summary["open_at_month_end"].sum() == april.still_open
        march = ledger.month_view("2025-03")
        assert not march.has_runs and "no weekly run" in march.notes[0]
        from officemine.privacy import PseudonymKey, Replacer

        key = PseudonymKey.from_text("a test key, long enough", "one-off", "test")
        hidden = april.pseudonymized(Replacer(april.names(), key))
        assert not set(hidden.people["responsible"]) & set(april.people["responsible"])
        assert all(p.startswith("人员-") for p in hidden.people["responsible"])
        assert not any(n in t for t in hidden.summary["title"].dropna() for n in april.names())


def test_the_digest_renders_in_both_languages(weeks, tmp_path):
    import json
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from pypdf import PdfReader

    _, logs = weeks
    digest = run_weeks(tmp_path / "l.db", logs[:2])[-1]
    closed = digest.section("closed").iloc[0]
    assert f"{closed['case_id']}" in digest.text("zh") and "此前超期" in digest.text("zh")
    english = digest.text("en")
    assert "Supervision digest 2025-W16" in english and "struck off" in english
    assert "working days overdue" in english
    data = json.loads(digest.to_json())
    assert data["counts"] == digest.counts and len(data["items"]) == len(digest.summary)
    assert {"流程编号", "本周状态", "超期工作日"} <= set(digest.table("zh").columns)
    assert "Working days overdue" in digest.table("en").columns
    assert "2025-W16" in repr(digest) and "<table" in digest._repr_html_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = digest.plot(lang="en")
        ax.figure.savefig(tmp_path / "people.png")
    paths = write_digest(digest, tmp_path / "en", lang="en")
    pdf = PdfReader(paths["pdf"])
    assert len(pdf.pages) == 1 and "Struck off" in pdf.pages[0].extract_text()
