"""One meaning of the log: the relations are defined once (officemine.log.relations), every module
reads them, and every deliverable shows the same number for the same quantity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pypdf
import pytest

import officemine
from officemine.log import relations
from officemine.log.eventlog import EventLog
from officemine.kpis import monthly_kpis
from officemine.review import monthly_report
from officemine.base.text import word

SRC = Path(__file__).resolve().parent.parent / "src" / "officemine"
#: The layer that defines the relations: only these modules may query the raw events.
LAYER = {SRC / "log" / "relations.py", SRC / "log" / "eventlog.py"}
RAW_QUERY = re.compile(r"FROM\s+events\b|\.(query|query_arrow|one|sql)\(\s*f?[\"']|\.con\.",
                       re.IGNORECASE)


def test_no_module_outside_the_layer_queries_the_raw_events():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path in LAYER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RAW_QUERY.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, ("modules outside officemine.log.relations query the raw events; read "
                           "the relations instead:\n" + "\n".join(offenders))


def test_the_layer_check_would_catch_a_raw_query():
    assert RAW_QUERY.search('    rows = log.query("SELECT node FROM events")')
    assert RAW_QUERY.search("lo, hi = log.one(f'SELECT min(acted_at) FROM events')")
    assert not RAW_QUERY.search("cases = relations.cases(log, calendar)")


# --- the definitions, on a log whose answers are known by hand --------------------------------

T0 = pd.Timestamp("2025-03-03 09:00", tz="Asia/Shanghai")       # a Monday


def _log(rows) -> EventLog:
    """Canonical events from (case, node, outcome, minute of action, minute of arrival)."""
    frame = pd.DataFrame(rows, columns=["case_id", "node", "outcome", "acted", "arrived"])
    frame["seq"] = frame.groupby("case_id").cumcount().astype("int32")
    frame["acted_at"] = T0 + pd.to_timedelta(frame.pop("acted"), unit="min")
    arrived = frame.pop("arrived")
    frame["arrived_at"] = (T0 + pd.to_timedelta(arrived, unit="min")).where(arrived.notna())
    frame["pending"] = frame["outcome"].isna()
    frame.loc[frame["pending"], "acted_at"] = pd.NaT
    frame["wait_start"] = frame["arrived_at"]
    frame["arrival_source"] = np.where(frame["arrived_at"].notna(), "recorded", "none")
    for column in ("resource", "dept", "comment", "process_type", "urgency", "applicant",
                   "applicant_dept", "title", "source_file", "source_row"):
        frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["process_type"] = "报销"
    frame["amount"] = np.nan
    frame["outcome"] = frame["outcome"].astype("string")
    return EventLog.from_pandas(frame, timezone="Asia/Shanghai")


ROWS = [
    # A: the item arrived at 发起 before it was submitted; returned by 财务, resubmitted,
    # approved, archived; a cc after the archive does not reopen it
    ("A", "发起", "submit", 30, 0), ("A", "财务", "return", 90, 30),
    ("A", "发起", "resubmit", 120, 90), ("A", "财务", "approve", 150, 120),
    ("A", "归档", "archive", 151, 150), ("A", "办公室", "cc", 200, None),
    # B: a node that returns the item to itself: the return ends the visit
    ("B", "发起", "submit", 10, None), ("B", "科长", "return", 20, 10),
    ("B", "科长", "approve", 40, 20), ("B", "归档", "archive", 41, 40),
    # C: still pending at export (arrival recorded later than any action)
    ("C", "发起", "submit", 50, None), ("C", "科长", None, None, 300),
    # D: no submission in the log (the export began mid-case), rejected
    ("D", "科长", "reject", 80, 60),
]


def test_case_start_end_and_status_follow_the_definitions():
    log = _log(ROWS)
    cases = relations.cases(log).set_index("case_id")
    at = (lambda minute: T0 + pd.Timedelta(minutes=minute))
    # start = first submission, not the earlier arrival at 发起
    assert cases.loc["A", "start_at"] == at(30) and cases.loc["A", "start_basis"] == "submission"
    # end = the final blocking event (the later cc does not count)
    assert cases.loc["A", "ended_at"] == at(151) and cases.loc["A", "status"] == "archived"
    assert pd.isna(cases.loc["C", "ended_at"]) and cases.loc["C", "status"] == "open"
    # no submission: starts at its first arrival, a lower bound, and says so
    assert cases.loc["D", "start_at"] == at(60) and cases.loc["D", "start_basis"] == "first_event"
    assert cases.loc["D", "status"] == "rejected"
    assert cases.loc["A", "cycle_clockdays"] == pytest.approx(121 / 1440)
    assert cases.loc["A", "rounds"] == 2 and cases.loc["A", "returns"] == 1
    assert cases.loc["B", "rounds"] == 2 and cases.loc["C", "rounds"] == 1


def test_visits_end_after_a_return_and_rounds_count_attempts():
    log = _log(ROWS)
    b = log.to_pandas().query("case_id == 'B'")
    # 科长 returns to itself: two visits at 科长, not one
    assert b["visit"].tolist() == [1, 2, 3, 4]
    assert b["round"].tolist() == [1, 1, 2, 2]
    a = log.to_pandas().query("case_id == 'A'")
    assert a["round"].tolist() == [1, 1, 2, 2, 2, 2]
    assert a["visit"].isna().tolist() == [False] * 5 + [True]      # the cc is not a visit


def test_now_is_the_last_time_the_log_knows_of_arrivals_included():
    log = _log(ROWS)
    assert relations.log_end(log) == T0 + pd.Timedelta(minutes=300)   # C's arrival
    assert relations.now(log) == relations.log_end(log)
    assert relations.now(log, "2025-03-04") == pd.Timestamp("2025-03-04", tz="Asia/Shanghai")
    with pytest.raises(officemine.OfficemineError, match="as_of must be a time"):
        relations.now(log, "next tuesday")
    items = relations.work_items(log)
    pending = items[items["pending"]]
    # the pending item's wait is censored at the log's end: 300 - 300 = 0 minutes so far
    assert items.attrs["as_of"] == relations.log_end(log)
    assert pending["wait_hours"].tolist() == [0.0]


def test_a_month_selects_the_cases_that_ended_in_it_only():
    log = _log(ROWS)
    ended = log.select_cases("2025-03-03", "2025-03-04", by="end")
    assert set(ended.to_pandas()["case_id"]) == {"A", "B", "D"}        # C is open
    kpis = monthly_kpis(log, "2025-03")
    completed = next(t for t in kpis.kpis if t.key == "completed").value
    assert completed == ended.n_cases == 3


# --- every deliverable shows the same number for the same quantity ------------------------------

@pytest.fixture(scope="module")
def sample_log(sample_csv):
    return officemine.import_log(sample_csv)


def _pdf_text(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def _sheet(path: Path, code: str) -> pd.DataFrame:
    """A sheet of a Chinese review's workbook by its code, its columns by field name."""
    from officemine.base.text import label, sheet_name, table_of

    rows = list(openpyxl.load_workbook(path, read_only=True)[sheet_name(code, "zh")]
                .iter_rows(values_only=True))
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    fields = {label(f, "zh", table_of(code)): f for f in FIELDS.get(code, ())}
    return frame.rename(columns=fields)


#: The fields the checks below read from each sheet.
FIELDS = {"variants": ["cases"], "necessity": ["node", "items", "rejections", "verdict",
                                                "rejection_rate"]}


def check_month_is_one_number_everywhere(paths: dict[str, Path]) -> dict:
    """Every quantity the month's PDF, JSON and workbook all show is the same number in each;
    the process map's case count is the completed count it claims. Returns the JSON."""
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    pages = _pdf_text(paths["pdf"])
    tiles = {t["key"]: t for t in data["kpis"]["kpis"]}
    book = _sheet(paths["xlsx"], "kpis").set_index("指标")     # the reader's names, not keys
    trend = _sheet(paths["xlsx"], "trend").set_index("月份").loc[data["month"]]
    for key, tile in tiles.items():
        if tile["value"] is None:
            continue
        assert book.loc[tile["name_zh"], "本月值"] == pytest.approx(tile["value"]), key
        assert trend[tile["name_zh"]] == pytest.approx(tile["value"]), key
        if tile["cover"]:
            assert tile["text"] in pages[0], (key, tile["text"])
    completed = tiles["completed"]["value"]
    disc = data["discovery"]
    if completed:
        # the map is drawn from exactly the month's completed cases, and says so
        assert disc["scope"]["cases"] == disc["variants"]["completed"] == completed
        assert disc["variants"]["open"] == 0
        assert _sheet(paths["xlsx"], "variants")["cases"].sum() == completed
        map_page = next(p for p in pages if "本月流程图" in p)
        assert re.search(rf"· {completed:,} 件", map_page), map_page[:200]
        # one median cycle time for the month: the KPIs' and the variants'
        assert disc["variants"]["median_cycle_workdays"] == pytest.approx(
            tiles["cycle_median_workdays"]["value"], abs=0.005)
    overdue = _sheet(paths["xlsx"], "overdue")
    assert len(overdue) == len(data["overdue"]) == tiles["open_overdue"]["value"]
    if data["necessity"] is not None:
        ours = pd.DataFrame(data["necessity"]["nodes"]).set_index("node")
        sheet = _sheet(paths["xlsx"], "necessity").set_index("node")
        for column in ("items", "rejections"):
            assert sheet.loc[ours.index, column].tolist() == ours[column].tolist(), column
        assert sheet.loc[ours.index, "verdict"].tolist() == [     # the reader's words
            word("verdict", v, "zh") for v in ours["verdict"]]
        assert np.allclose(sheet.loc[ours.index, "rejection_rate"], ours["rejection_rate"])
    return data


def test_the_sample_month_is_one_number_everywhere(sample_log, tmp_path):
    report = monthly_report(sample_log, "2025-10", config=_sample_config())
    data = check_month_is_one_number_everywhere(report.write(tmp_path))
    assert data["kpis"]["kpis"][0]["value"] > 100          # a real month, not an empty one


def _sample_config():
    from officemine.review.config import ReportConfig

    return ReportConfig.from_toml(Path(__file__).resolve().parent.parent / "sample_logs"
                                  / "report.toml")


@pytest.mark.real
def test_a_bpic_month_is_one_number_everywhere(real_data, tmp_path):
    mapping = Path(__file__).resolve().parent.parent / "mappings" / "bpic2020.toml"
    log = officemine.import_log(real_data / "DomesticDeclarations.xes.gz", mapping=mapping)
    report = monthly_report(log, "2018-06")
    data = check_month_is_one_number_everywhere(report.write(tmp_path))
    assert data["kpis"]["kpis"][0]["value"] > 100


# --- what each node is ------------------------------------------------------------------------

KIND_ROWS = [
    # (case, node, outcome, minute, arrival minute)
    *[(c, "发起", "submit", 0, None) for c in "PQRS"],
    *[(c, "科长审核", "approve" if c != "S" else "return", 10, 0) for c in "PQRS"],
    *[(c, "领导批示", "approve", 20, 10) for c in "PQR"],      # named 批示, never returns
    ("P", "处长批示", "return", 25, 20),                          # named 批示 but returns
    ("P", "处长批示", "approve", 26, 25),
    *[(c, "MISSING", "return", 30, 20) for c in "QR"],          # the source named no role
    *[(c, "领导阅知", "cc", 31, None) for c in "PQR"],          # only cc
    *[(c, "归档", "archive", 40, 30) for c in "PQR"],
]


def test_node_kinds_are_inferred_with_their_evidence_and_can_be_set():
    log = _log(KIND_ROWS)
    kinds = relations.node_kinds(log).set_index("node")
    expect = {"发起": ("submit", "mostly_submissions"), "归档": ("archive", "mostly_archives"),
              "科长审核": ("decision", "decides"),
              "领导批示": ("instruction", "named_instruction"),
              "处长批示": ("decision", "decides"),            # it returned an item: it decides
              "MISSING": ("unknown", "unnamed_step"),
              "领导阅知": ("notification", "only_cc_or_comments")}
    got = {node: (kinds.loc[node, "kind"], kinds.loc[node, "evidence"]) for node in expect}
    assert got == expect
    assert kinds.loc["领导批示", "approvals"] == 3 and kinds.loc["MISSING", "returns"] == 2
    set_ = relations.node_kinds(log, {"领导批示": "decision"}).set_index("node")
    assert set_.loc["领导批示", ["kind", "basis", "evidence"]].tolist() == [
        "decision", "setting", "set"]
    with pytest.raises(officemine.OfficemineError, match="unknown node kind"):
        relations.node_kinds(log, {"领导批示": "boss"})


def test_a_step_that_only_returns_is_not_a_decision_step():
    rows = [(c, "发起", "submit", 0, None) for c in "AB"] + [
        (c, "复核", "return", 10, 0) for c in "AB"]
    kinds = relations.node_kinds(_log(rows)).set_index("node")
    assert kinds.loc["复核", ["kind", "evidence"]].tolist() == ["unknown", "never_passes"]


def test_node_kinds_set_in_the_mapping_travel_with_the_log(tmp_path):
    from cn_export import CN_HEADER, CN_ROWS, write_csv

    mapping = tmp_path / "m.toml"
    mapping.write_text('[node_kinds]\n"办公室审核" = "notification"\n', encoding="utf-8")
    log = officemine.import_log(write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS), mapping=mapping)
    back = officemine.read_log(log.write(tmp_path / "a.parquet"))
    kinds = relations.node_kinds(back).set_index("node")
    assert kinds.loc["办公室审核", ["kind", "basis"]].tolist() == ["notification", "mapping"]
    assert kinds.loc["财务初审", "kind"] == "decision"


def test_the_import_report_counts_open_cases_as_the_relations_do(sample_log):
    cases = relations.cases(sample_log)
    assert sample_log.report.open_cases == int((cases["status"] == "open").sum()) > 0
