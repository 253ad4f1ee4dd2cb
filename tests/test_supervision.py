"""The overdue ledger (督办清单) and bottlenecks: exact answers on a hand-built office, the
sample office, as-of dates in the past, labels and JSON."""

import json
import warnings

import matplotlib
import pandas as pd
import pytest

import officemine
from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.sla import SLA
from officemine.supervision import bottlenecks, overdue_ledger

matplotlib.use("Agg")

DAY = 7.0  # working hours in a working day (09:00–12:00, 13:30–17:30)
SLA_TEST = SLA(default_limit=5, limits={"费用报销": 2, "用印": 1, "合同审批": 3, "会议申请": 2})
COLUMNS = ["case_id", "process_type", "node", "outcome", "resource", "dept", "arrived_at",
           "acted_at", "applicant", "applicant_dept", "title"]
# The log ends 2025-06-03 10:00 (HY1). 2025-05-31..06-02 is the Dragon Boat holiday.
ROWS = [
    # BX1: completed: never in the ledger; open at 2025-05-06 10:30, held by the applicant
    ("BX1", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-04-30 09:00"),
    ("BX1", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-04-30 14:00"),
    ("BX1", "费用报销", "财务初审", "return", "王五", "财务部", None, "2025-05-06 10:00"),
    ("BX1", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-06 11:00"),
    ("BX1", "费用报销", "财务初审", "approve", "王五", "财务部", None, "2025-05-06 15:00"),
    ("BX1", "费用报销", "归档", "archive", "系统", None, None, "2025-05-06 17:30"),
    # BX4: pending at 财务初审 (王五) since 05-26 10:00; 5 + 1/7 working days open at the end
    ("BX4", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-26 09:00"),
    ("BX4", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-05-26 10:00"),
    ("BX4", "费用报销", "发起", "remind", "张三", "市场部", None, "2025-05-29 09:00"),
    ("BX4", "费用报销", "发起", "remind", "张三", "市场部", None, "2025-06-03 09:30"),
    ("BX4", "费用报销", "财务初审", None, "王五", "财务部", "2025-05-26 10:00", None),
    # HT1: no pending row: the next node is unknown ("after" 部门负责人审核); 29 h open > 3 days
    ("HT1", "合同审批", "发起", "submit", "张三", "市场部", None, "2025-05-27 09:00"),
    ("HT1", "合同审批", "部门负责人审核", "approve", "李四", "市场部", None, "2025-05-27 10:00"),
    # BX5: returned to the applicant; 22 h open > 2 days
    ("BX5", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-28 09:00"),
    ("BX5", "费用报销", "财务初审", "return", "王五", "财务部", None, "2025-05-28 10:00"),
    # YY3: pending, 3.5 h open < 1 day: open, not overdue
    ("YY3", "用印", "发起", "submit", "赵六", "技术部", None, "2025-05-30 15:00"),
    ("YY3", "用印", "办公室用印审核", None, "钱七", "办公室", "2025-05-30 15:00", None),
    # HY1: completed the same morning
    ("HY1", "会议申请", "发起", "submit", "赵六", "技术部", None, "2025-06-03 09:00"),
    ("HY1", "会议申请", "会议室审核", "approve", "钱七", "办公室", None, "2025-06-03 09:30"),
    ("HY1", "会议申请", "归档", "archive", "系统", None, None, "2025-06-03 10:00"),
]


def build(rows):
    applicant = {"BX": ("张三", "市场部"), "HT": ("张三", "市场部"), "YY": ("赵六", "技术部"),
                 "HY": ("赵六", "技术部")}
    full = [(c, p, n, o, r, d, a, t, *applicant[c[:2]], f"{c}的申请")
            for c, p, n, o, r, d, a, t in rows]
    frame = pd.DataFrame(full, columns=COLUMNS)
    events, report, _ = build_log(RawEvents(frame, "hand.csv", "csv", len(frame)))
    return officemine.EventLog.from_pandas(events, timezone="Asia/Shanghai", report=report)


@pytest.fixture(scope="module")
def hand():
    return build(ROWS)


def test_ledger_lists_exactly_the_open_cases_past_sla_oldest_first(hand):
    ledger = overdue_ledger(hand, sla=SLA_TEST)
    s = ledger.summary
    assert s["case_id"].tolist() == ["BX4", "HT1", "BX5"]
    assert ledger.as_of == pd.Timestamp("2025-06-03 10:00", tz="Asia/Shanghai")
    assert sorted(ledger.open_cases["case_id"]) == ["BX4", "BX5", "HT1", "YY3"]
    assert not ledger.open_cases.set_index("case_id").loc["YY3", "overdue"]
    row = s.set_index("case_id")
    assert row["working_days_open"].tolist() == pytest.approx([36 / DAY, 29 / DAY, 22 / DAY])
    assert row["days_overdue"].tolist() == pytest.approx([36 / DAY - 2, 29 / DAY - 3, 22 / DAY - 2])
    assert row.loc["BX4", "clock_days_open"] == pytest.approx(8 + 1 / 24)
    assert row.loc["BX4", "due_at"] == pd.Timestamp("2025-05-27 17:30", tz="Asia/Shanghai")
    # where each is held, and by whom
    assert row.loc["BX4", "current_node"] == "财务初审" and row.loc["BX4", "node_basis"] == "pending"
    assert row.loc["BX4", "responsible"] == "王五" and row.loc["BX4", "responsible_dept"] == "财务部"
    assert row.loc["HT1", "current_node"] == "部门负责人审核" and row.loc["HT1", "node_basis"] == "after"
    assert pd.isna(row.loc["HT1", "responsible"]) and "之后" in row.loc["HT1", "current_step"]
    assert row.loc["BX5", "node_basis"] == "returned" and row.loc["BX5", "responsible"] == "张三"
    assert row.loc["BX5", "current_node"] == "发起"
    # case attributes and the last action
    assert row.loc["BX4", "title"] == "BX4的申请" and row.loc["BX4", "applicant"] == "张三"
    assert row.loc["BX4", "last_action"] == "approve" and row.loc["BX4", "last_action_zh"] == "同意"
    assert row.loc["BX4", "last_action_at"] == pd.Timestamp("2025-05-26 10:00", tz="Asia/Shanghai")
    assert row.loc["BX4", "reminders"] == 2
    assert any("no pending item" in n for n in ledger.notes)


def test_ledger_groupings(hand):
    ledger = overdue_ledger(hand, sla=SLA_TEST)
    nodes = ledger.by_node.set_index("current_node")
    assert nodes["cases"].to_dict() == {"财务初审": 1, "部门负责人审核": 1, "发起": 1}
    assert nodes["days_overdue_total"].iloc[0] == pytest.approx(36 / DAY - 2)   # largest first
    people = ledger.by_person.set_index("responsible")
    assert people["cases"].to_dict() == {"王五": 1, "(未知)": 1, "张三": 1}


def test_ledger_as_of_in_the_past_uses_the_actions_that_followed(hand):
    ledger = overdue_ledger(hand, as_of="2025-05-06 10:30", sla=SLA_TEST)
    assert ledger.summary.empty                        # BX1: 8.5 h open, limit 2 days
    bx1 = ledger.open_cases.set_index("case_id").loc["BX1"]
    assert bx1["current_node"] == "发起" and bx1["responsible"] == "张三"
    assert bx1["node_basis"] == "acted_later"
    assert bx1["working_days_open"] == pytest.approx(8.5 / DAY)
    later = overdue_ledger(hand, as_of="2025-05-29 17:30", sla=SLA_TEST)
    # HT1 (3.0 of 3) and BX5 (2.0 of 2) are exactly at their limits then: not yet overdue
    assert later.summary["case_id"].tolist() == ["BX4"]
    opened = later.open_cases.set_index("case_id")["working_days_open"]
    assert opened[["HT1", "BX5"]].tolist() == pytest.approx([3.0, 2.0])
    assert later.summary.set_index("case_id").loc["BX4", "reminders"] == 1
    assert any("before the end of the log" in n for n in later.notes)


def test_ledger_renders(hand, tmp_path):
    ledger = overdue_ledger(hand, sla=SLA_TEST)
    data = json.loads(ledger.to_json())
    assert data["overdue_cases"] == 3 and data["open_cases"] == 4
    assert [c["case_id"] for c in data["cases"]] == ["BX4", "HT1", "BX5"]
    assert {"applicant", "responsible", "last_action_by"} <= set(data["cases"][0])
    zh = ledger.table("summary", "zh")
    assert {"流程编号", "当前节点", "当前办理人", "超期工作日", "申请人"} <= set(zh.columns)
    assert "Working days overdue" in ledger.table("summary", "en").columns
    assert "BX4" in repr(ledger) and "<table" in ledger._repr_html_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = ledger.plot()
        ax.figure.savefig(tmp_path / "l.png")
    assert "督办" in ax.get_title()


def test_bottlenecks_of_a_month(hand):
    b = bottlenecks(hand, "2025-05")
    node = b.by_node.set_index("node")
    # 财务初审 in May: BX1's return (wait from 04-30 14:00; inside May only 05-06 09–10: 1 h),
    # BX1's approval (11:00–15:00: 2.5 h), BX4 pending from 05-26 10:00 to the month's end
    # (6 + 4 × 7 = 34 h), BX5's return (1 h)
    assert node.loc["财务初审", "wait_workhours"] == pytest.approx(1 + 2.5 + 34 + 1)
    assert node.loc["财务初审", "items"] == 4
    assert node.loc["财务初审", "decided"] == 3 and node.loc["财务初审", "pending"] == 1
    # median of the full waits of the items decided in May: [4.5 (3.5 h on 04-30 + 1), 2.5, 1]
    assert node.loc["财务初审", "wait_median_workhours"] == pytest.approx(2.5)
    assert b.by_node["node"].iloc[0] == "财务初审"
    assert b.by_node["wait_share"].sum() == pytest.approx(1.0)
    person = b.by_person.set_index("resource")
    assert person.loc["王五", "wait_workhours"] == pytest.approx(38.5)
    assert person.loc["王五", "dept"] == "财务部"
    assert "发起" not in node.index and "归档" not in node.index
    json.loads(b.to_json())


def test_sample_office_ledger_and_bottlenecks(sample_csv, tmp_path):
    log = officemine.import_log(sample_csv)
    ledger = overdue_ledger(log)
    assert len(ledger.open_cases) == log.report.open_cases
    assert (ledger.summary["working_days_open"] > ledger.summary["sla_days"]).all()
    assert ledger.summary["submitted_at"].is_monotonic_increasing
    # every pending item of the export is a holder in the ledger's open cases
    pending = log.query("SELECT DISTINCT case_id FROM events WHERE pending")["case_id"]
    basis = ledger.open_cases.set_index("case_id")["node_basis"]
    assert (basis.loc[pending] == "pending").all()
    june = bottlenecks(log, "2025-06")
    assert june.by_node["node"].iloc[0] == "综合办公室审核"    # the designed rubber stamp
    october = bottlenecks(log, "2025-10")
    assert "综合办公室审核" not in set(october.by_node["node"])   # removed from 2025-07-01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = june.plot()
        ax.figure.savefig(tmp_path / "b.png")


def test_the_ledger_names_the_holder_and_where_the_delay_arose(sample_csv):
    """Hand-computed from the sample's log: BX20251024001 was submitted 10-24 09:23, held by
    部门负责人审核 to 10-27 16:06, returned by 财务初审 on 10-28 10:08, resubmitted by its
    applicant 郑嘉娜 only on 10-31 13:43 (3.30 working days: the longest step), and is now at
    财务初审 with 陆思桂, who received it at 15:53 on the last day."""
    import officemine
    from officemine.supervision import overdue_ledger

    log = officemine.import_log(sample_csv)
    ledger = overdue_ledger(log, as_of="2025-10-31 17:25")
    row = ledger.summary.set_index("case_id").loc["BX20251024001"]
    assert row["responsible"] == "陆思桂"
    assert row["held_since"] == pd.Timestamp("2025-10-31 15:53", tz="Asia/Shanghai")
    assert row["delay_step"] == "发起" and row["delay_held_by"] == "郑嘉娜"
    # 10-28 10:08 → 10-31 13:43 in working time: 10:08–17:30 less lunch (5.87 h), two full
    # days (14 h), 09:00–12:00 and 13:30–13:43 (3.22 h) = 23.08 h = 3.30 working days
    assert row["delay_workdays"] == pytest.approx((5 + 52 / 60 + 14 + 3 + 13 / 60) / 7)
    steps = ledger.dossier("BX20251024001")
    assert steps["node"].tolist() == ["发起", "部门负责人审核", "财务初审", "发起",
                                      "部门负责人审核", "财务初审"]
    assert steps["open"].tolist() == [False] * 5 + [True]
    assert steps["working_days"].idxmax() == 3
    with pytest.raises(officemine.OfficemineError, match="no overdue case"):
        ledger.dossier("nope")


def test_the_ledger_reads_only_the_open_cases_and_misses_none(sample_csv, tmp_path):
    """`overdue_ledger` takes only the cases open at `as_of` (a filter on each event's case
    start and end, on disk for a stored log); the ledger built from the whole log is the
    same at month ends, mid-month, mid-day and the log's end."""
    from officemine.log.relations import log_end, submit_node
    from officemine.log.result import log_info_of
    from officemine.supervision import LogFacts, ledger_of_open_cases

    officemine.import_log(sample_csv).write(tmp_path / "log.parquet")
    log = officemine.read_log(tmp_path / "log.parquet")        # on disk: the view filters
    start, end = log.span()
    whole = LogFacts(submit_node(log), log_end(log),
                     log_info_of(log, cases=log.n_cases, start=start, end=log_end(log)))
    times = [pd.Timestamp(t, tz=log.timezone) for t in
             ("2025-03-01", "2025-06-15 10:37", "2025-09-30 23:59:59")] + [end]
    seen = 0
    for as_of in times:
        got = overdue_ledger(log, as_of=as_of)
        expected = ledger_of_open_cases(log, as_of, SLA.default(), log.calendar, whole)
        pd.testing.assert_frame_equal(got.open_cases, expected.open_cases)
        pd.testing.assert_frame_equal(got.summary, expected.summary)
        pd.testing.assert_frame_equal(got.dossiers, expected.dossiers)
        assert got.notes == expected.notes and got.to_json() == expected.to_json()
        seen += len(got.summary)
    assert seen > 0                            # the comparison saw overdue cases


def test_bottlenecks_in_batches_are_the_in_memory_ranking(sample_csv, tmp_path):
    """Read in batches of a few hundred items (a stored log larger than memory), each batch
    reduced to sums, counts and the decided waits counted per value: the same ranking, the
    same counts, medians and p90 exactly, the sums to the last digits."""
    officemine.import_log(sample_csv).write(tmp_path / "log.parquet")
    log = officemine.read_log(tmp_path / "log.parquet")
    for month in ("2025-06", "2025-10"):
        one = bottlenecks(log, month)
        batched = bottlenecks(log, month, batch_items=300)
        assert batched.as_of == one.as_of and batched.period == one.period
        for part in ("by_node", "by_person"):
            a, b = getattr(one, part), getattr(batched, part)
            assert len(a) > 3
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, obj=part)
            exact = [c for c in a.columns if c not in ("wait_workhours", "wait_share",
                                                       "wait_hours")]
            pd.testing.assert_frame_equal(a[exact], b[exact], obj=part)
    with pytest.raises(officemine.base.errors.InputError, match="need a month"):
        bottlenecks(log, memory_limit="1GB")
