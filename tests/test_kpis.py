"""Monthly KPIs and the SLA model: exact values on a hand-built office, the sample office's
redesign, MoM/YoY arithmetic, empty months, DuckDB against plain pandas, the JSON contract."""

import json
import math
import tomllib
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import officemine
from officemine.log.calendar import Calendar
from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.kpis import KPI_KEYS, case_cycles, kpi_trend, monthly_kpis
from officemine.log.schema import NON_BLOCKING, TERMINAL
from officemine.sla import DEFAULT_LIMITS, SLA, SLAError
from officemine.base.stats import wilson_interval

REPO = Path(__file__).resolve().parent.parent

matplotlib.use("Agg")

# --- a hand-built office whose KPIs are known -------------------------------------------------
# Working day = 09:00–12:00 + 13:30–17:30 = 7 h. 2025-05-01..05 is the Labour Day holiday,
# 2025-05-31..06-02 the Dragon Boat holiday. SLA: 费用报销 2, 用印 1, 合同审批 3 working days.
COLUMNS = ["case_id", "process_type", "node", "outcome", "resource", "dept", "arrived_at",
           "acted_at", "applicant", "applicant_dept", "title"]
ROWS = [
    # BY: May 2024, 3 full working days (Mon 09:00 -> Wed 17:30): late
    ("BY", "费用报销", "发起", "submit", "张三", "市场部", None, "2024-05-06 09:00"),
    ("BY", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2024-05-07 10:00"),
    ("BY", "费用报销", "归档", "archive", "系统", None, None, "2024-05-08 17:30"),
    # BX0: April 2025, 7 h + 3 h = 10/7 working days: on time
    ("BX0", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-04-01 09:00"),
    ("BX0", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-04-01 14:00"),
    ("BX0", "费用报销", "归档", "archive", "系统", None, None, "2025-04-02 12:00"),
    # BX1: across Labour Day: Apr 30 7 h + May 6 7 h = exactly 2.0 (= limit: on time);
    # one return; hand-offs 市场->财务->市场->财务 = 3 (the cc by 人事部 does not count)
    ("BX1", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-04-30 09:00"),
    ("BX1", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-04-30 14:00"),
    ("BX1", "费用报销", "财务初审", "return", "王五", "财务部", None, "2025-05-06 10:00"),
    ("BX1", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-06 11:00"),
    ("BX1", "费用报销", "财务初审", "approve", "王五", "财务部", None, "2025-05-06 15:00"),
    ("BX1", "费用报销", "财务初审", "cc", "周九", "人事部", None, "2025-05-06 15:10"),
    ("BX1", "费用报销", "归档", "archive", "系统", None, None, "2025-05-06 17:30"),
    # BX2: across a weekend: Fri 1.5 h + Mon 7 + Tue 7 + Wed 5.5 = 3.0: late; clock 5.0 days
    ("BX2", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-09 16:00"),
    ("BX2", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-05-12 10:00"),
    ("BX2", "费用报销", "发起", "remind", "张三", "市场部", None, "2025-05-13 10:00"),
    ("BX2", "费用报销", "归档", "archive", "系统", None, None, "2025-05-14 16:00"),
    # YY1: one working day exactly (limit 1: on time); hand-offs 技术部->办公室 = 1
    ("YY1", "用印", "发起", "submit", "赵六", "技术部", None, "2025-05-19 09:00"),
    ("YY1", "用印", "办公室用印审核", "approve", "钱七", "办公室", None, "2025-05-19 12:00"),
    ("YY1", "用印", "办公室用印审核", "cc", "周九", "人事部", None, "2025-05-19 12:30"),
    ("YY1", "用印", "印章管理员盖章", "approve", "孙八", "办公室", None, "2025-05-19 17:00"),
    ("YY1", "用印", "归档", "archive", "系统", None, None, "2025-05-19 17:30"),
    # BX3: rejected after 7 + 1.5 = 8.5 h = 1.2142857 working days: on time; 1 hand-off
    ("BX3", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-20 09:00"),
    ("BX3", "费用报销", "财务初审", "reject", "王五", "财务部", None, "2025-05-21 10:30"),
    # YY2: withdrawn after 4 working days: late
    ("YY2", "用印", "发起", "submit", "赵六", "技术部", None, "2025-05-22 09:00"),
    ("YY2", "用印", "发起", "withdraw", "赵六", "技术部", None, "2025-05-28 09:00"),
    # open at the end of May: BX4 (5.0 wd by May's end: overdue), YY3 (2.5 h: not),
    # HT1 (4.0 wd > 3: overdue), BX5 (3.0 wd > 2: overdue, returned to the applicant)
    ("BX4", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-26 09:00"),
    ("BX4", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None, "2025-05-26 10:00"),
    ("BX4", "费用报销", "财务初审", None, "王五", "财务部", "2025-05-26 10:00", None),
    ("HT1", "合同审批", "发起", "submit", "张三", "市场部", None, "2025-05-27 09:00"),
    ("HT1", "合同审批", "部门负责人审核", "approve", "李四", "市场部", None, "2025-05-27 10:00"),
    ("BX5", "费用报销", "发起", "submit", "张三", "市场部", None, "2025-05-28 09:00"),
    ("BX5", "费用报销", "财务初审", "return", "王五", "财务部", None, "2025-05-28 10:00"),
    ("YY3", "用印", "发起", "submit", "赵六", "技术部", None, "2025-05-30 15:00"),
    ("YY3", "用印", "办公室用印审核", None, "钱七", "办公室", "2025-05-30 15:00", None),
    # HY1: June, sets the end of the log (2025-06-03 10:00)
    ("HY1", "会议申请", "发起", "submit", "赵六", "技术部", None, "2025-06-03 09:00"),
    ("HY1", "会议申请", "会议室审核", "approve", "钱七", "办公室", None, "2025-06-03 09:30"),
    ("HY1", "会议申请", "归档", "archive", "系统", None, None, "2025-06-03 10:00"),
]
SLA_TEST = SLA(default_limit=5, limits={"费用报销": 2, "用印": 1, "合同审批": 3, "会议申请": 2})
DAY = 7.0  # working hours in a working day


def build(rows):
    applicant = {"BX": ("张三", "市场部"), "BY": ("张三", "市场部"), "HT": ("张三", "市场部"),
                 "YY": ("赵六", "技术部"), "HY": ("赵六", "技术部")}
    full = [(c, p, n, o, r, d, a, t, *applicant[c[:2]], f"{c}的申请")
            for c, p, n, o, r, d, a, t in rows]
    frame = pd.DataFrame(full, columns=COLUMNS)
    events, report, _ = build_log(RawEvents(frame, "hand.csv", "csv", len(frame)))
    return officemine.EventLog.from_pandas(events, timezone="Asia/Shanghai", report=report)


@pytest.fixture(scope="module")
def hand():
    return build(ROWS)


@pytest.fixture(scope="module")
def sample(sample_csv):
    return officemine.import_log(sample_csv)


# --- the hand-built office: exact values ---------------------------------------------------------

def test_cycle_times_are_exact_across_a_weekend_and_a_holiday(hand):
    c = case_cycles(hand, sla=SLA_TEST).set_index("case_id")
    expected = {"BY": 3.0, "BX0": 10 / DAY, "BX1": 2.0, "BX2": 3.0, "YY1": 1.0,
                "BX3": 8.5 / DAY, "YY2": 4.0, "HY1": 1 / DAY}
    for case, days in expected.items():
        assert c.loc[case, "cycle_workdays"] == pytest.approx(days, abs=1e-12), case
    assert c.loc["BX1", "cycle_clockdays"] == pytest.approx(6 + 8.5 / 24)
    assert c.loc["BX2", "cycle_clockdays"] == pytest.approx(5.0)
    assert c.loc["BX1", "on_time"] == 1.0            # exactly at the limit counts as on time
    assert c.loc["BX2", "on_time"] == 0.0
    assert dict(c["status"]) == {
        "BY": "archived", "BX0": "archived", "BX1": "archived", "BX2": "archived",
        "YY1": "archived", "BX3": "rejected", "YY2": "withdrawn", "BX4": "open", "HT1": "open",
        "BX5": "open", "YY3": "open", "HY1": "archived"}
    assert dict(c["handoffs"])["BX1"] == 3 and dict(c["handoffs"])["YY1"] == 1
    assert c.loc["BX1", "returns"] == 1 and c["cycle_workdays"][c["status"] == "open"].isna().all()


def test_month_kpis_are_exact(hand):
    k = monthly_kpis(hand, "2025-05", sla=SLA_TEST)
    assert k.has_data
    v = {t.key: t.value for t in k.kpis}
    assert v["completed"] == 5
    assert v["cycle_median_workdays"] == pytest.approx(2.0)
    # p90 of [1, 8.5/7, 2, 3, 4] by linear interpolation: 3 + 0.6 * (4 - 3)
    assert v["cycle_p90_workdays"] == pytest.approx(3.6)
    assert v["cycle_median_clockdays"] == pytest.approx(5.0)
    assert v["on_time_rate"] == pytest.approx(3 / 5)
    assert v["return_rate"] == pytest.approx(1 / 5)
    assert v["returns_per_case"] == pytest.approx(1 / 5)
    assert v["handoffs_per_case"] == pytest.approx((3 + 0 + 1 + 1 + 0) / 5)
    assert v["open_at_month_end"] == 4 and v["open_overdue"] == 3
    on_time = k.tile("on_time_rate")
    assert on_time.n == 5
    lo, hi = wilson_interval(3, 5)
    assert on_time.ci == pytest.approx((float(lo), float(hi)))
    assert "费用报销 2" in on_time.basis_zh                 # the SLA is stated
    assert "工作日" in k.tile("cycle_median_workdays").basis_zh
    p = k.by_process.set_index("process_type")
    assert p.loc["费用报销", "completed"] == 3 and p.loc["用印", "completed"] == 2
    assert p.loc["费用报销", "on_time_rate"] == pytest.approx(2 / 3)
    assert p.loc["用印", "cycle_median_workdays"] == pytest.approx(2.5)
    assert p.loc["费用报销", "sla_days"] == 2 and p.loc["合同审批", "open_overdue"] == 1
    assert p.loc["用印", "withdrawn"] == 1 and p.loc["费用报销", "rejected"] == 1


def test_mom_and_yoy_arithmetic(hand):
    k = monthly_kpis(hand, "2025-05", sla=SLA_TEST)
    t = {x.key: x for x in k.kpis}
    # MoM against April 2025: BX0 only (10/7 working days, on time), BX1 open at April's end
    assert t["completed"].mom.against == "2025-04"
    assert (t["completed"].mom.abs, t["completed"].mom.rel) == (4, 4.0)
    assert t["cycle_median_workdays"].mom.abs == pytest.approx(2.0 - 10 / 7)
    assert t["cycle_median_workdays"].mom.rel == pytest.approx(0.4)
    assert t["on_time_rate"].mom.abs == pytest.approx(-0.4)
    assert t["on_time_rate"].mom.rel == pytest.approx(-0.4)
    assert t["open_at_month_end"].mom.previous == 1 and t["open_at_month_end"].mom.abs == 3
    # YoY against May 2024: BY only (3.0 working days, late)
    assert t["completed"].yoy.against == "2024-05" and t["completed"].yoy.abs == 4
    assert t["cycle_median_workdays"].yoy.abs == pytest.approx(-1.0)
    assert t["cycle_median_workdays"].yoy.rel == pytest.approx(-1 / 3)
    on_time = t["on_time_rate"].yoy
    assert on_time.previous == 0.0 and on_time.abs == pytest.approx(0.6)
    assert on_time.rel is None and on_time.reason == "zero_base"
    # a comparison month without data: April's MoM is March (no events, nothing open)
    april = monthly_kpis(hand, "2025-04", sla=SLA_TEST)
    ch = april.tile("completed").mom
    assert (ch.abs, ch.rel, ch.reason) == (None, None, "comparison_no_data")
    assert "2025-03" in ch.note
    # per process type, in the long table
    ch = k.changes.set_index(["process_type", "kpi"])
    assert ch.loc[("费用报销", "completed"), "mom_abs"] == 3 - 1
    assert ch.loc[("全部", "completed"), "yoy_abs"] == 4
    seals = ch.loc[("用印", "completed")]             # none completed in April: a true 0
    assert (seals["mom_previous"], seals["mom_abs"], seals["mom_reason"]) == (0, 2, "zero_base")
    assert pd.isna(seals["mom_rel"])
    seals = ch.loc[("用印", "cycle_median_workdays")]  # ... so no April median to compare with
    assert pd.isna(seals["mom_abs"]) and seals["mom_reason"] == "comparison_no_value"


def test_an_empty_month_is_flagged_not_raised(hand):
    gap = monthly_kpis(hand, "2024-12", sla=SLA_TEST)      # inside the log, nothing happened
    assert not gap.has_data and "no events in 2024-12" in gap.message
    assert all(t.value is None for t in gap.kpis)
    assert "no data" in repr(gap)
    outside = monthly_kpis(hand, "2023-01", sla=SLA_TEST)
    assert not outside.has_data and "outside the log" in outside.message
    data = json.loads(outside.to_json())
    assert data["has_data"] is False and [x["value"] for x in data["kpis"]] == [None] * len(KPI_KEYS)
    assert gap.summary["key"].tolist() == list(KPI_KEYS)
    outside.plot()                                          # draws an empty chart, no error


def test_bad_months_and_kpis_are_refused(hand):
    with pytest.raises(officemine.OfficemineError, match="month must be like '2025-10'"):
        monthly_kpis(hand, "May")
    assert monthly_kpis(hand, "2025年5月", sla=SLA_TEST).month == "2025-05"
    with pytest.raises(officemine.OfficemineError, match="kpi must be one of"):
        kpi_trend(hand, end_month="2025-05").plot("speed")
    with pytest.raises(officemine.OfficemineError, match="months must be"):
        kpi_trend(hand, months=0)


def test_json_contract_has_stable_keys(hand):
    a = json.loads(monthly_kpis(hand, "2025-05", sla=SLA_TEST).to_json())
    b = json.loads(monthly_kpis(hand, "2024-12", sla=SLA_TEST).to_json())
    assert list(a) == list(b) == ["month", "has_data", "message", "period", "calendar", "sla",
                                  "notes", "log", "kpis", "by_process", "changes"]
    tile = a["kpis"][0]
    assert set(tile) == {"key", "name_zh", "name_en", "value", "text", "unit_zh", "unit_en",
                         "kind", "n", "ci", "better", "cover", "basis_zh", "basis_en", "mom",
                         "yoy"}
    assert set(tile["mom"]) == {"against", "previous", "abs", "rel", "reason", "note"}
    assert [r["process_type"] for r in a["by_process"]] == [r["process_type"] for r in b["by_process"]]
    assert list(a["by_process"][0]) == list(b["by_process"][0])
    assert a["sla"]["limits"]["费用报销"] == 2


def test_labels_in_both_languages(hand):
    k = monthly_kpis(hand, "2025-05", sla=SLA_TEST)
    zh = k.table("by_process", "zh")
    assert {"流程类型", "办结件数", "限时办结率", "办理时长中位数"} <= set(zh.columns)
    en = k.table("summary", "en")
    assert {"KPI", "Value", "MoM change"} <= set(en.columns)
    assert [t.key for t in k.tiles] == ["completed", "cycle_median_workdays",
                                        "cycle_p90_workdays", "on_time_rate", "return_rate",
                                        "handoffs_per_case", "open_at_month_end", "open_overdue"]
    assert k.tile("on_time_rate").text() == "60.0%"
    assert k.tile("on_time_rate").change_text("mom") == "-40.0 个百分点 (-40.0%)"


# --- the sample office ------------------------------------------------------------------------

def test_sample_redesign_shortens_expense_claims(sample):
    """From 2025-07-01 费用报销 skips 综合办公室审核 (~12 working hours): cycle times drop."""
    trend = kpi_trend(sample, months=12, end_month="2025-10")
    assert trend.months[0] == "2024-11" and trend.summary["has_data"].all()
    claims = trend.series("cycle_median_workdays", "费用报销")
    before, after = claims["2025-01":"2025-06"], claims["2025-08":"2025-10"]
    assert after.max() < before.min()
    assert after.mean() < before.mean() - 1.0          # more than a working day faster
    # the others did not change
    seals = trend.series("cycle_median_workdays", "用印")
    assert abs(seals["2025-08":"2025-10"].mean() - seals["2025-01":"2025-06"].mean()) < 0.5
    # pooled over the cases themselves, by completion month
    c = case_cycles(sample)
    c = c[(c["process_type"] == "费用报销") & c["ended_at"].notna()]
    month = c["ended_at"].dt.strftime("%Y-%m")
    assert c.loc[month >= "2025-08", "cycle_workdays"].median() < \
        c.loc[month.between("2025-01", "2025-06"), "cycle_workdays"].median() - 1.5


def test_sample_october(sample):
    k = monthly_kpis(sample)
    assert k.month == "2025-10" and k.has_data
    assert k.tile("completed").value > 100
    assert k.tile("completed").yoy.reason == "comparison_no_data"    # 2024-10 is before the log
    assert k.tile("completed").mom.against == "2025-09" and k.tile("completed").mom.abs is not None
    open_ = sample.report.open_cases
    assert k.tile("open_at_month_end").value == open_
    assert k.period["as_of"].startswith("2025-10-31")
    assert 0 <= k.tile("on_time_rate").value <= 1


def test_duckdb_and_pandas_agree_on_cycle_times(sample):
    cal = Calendar()
    ours = case_cycles(sample, cal).set_index("case_id").sort_index()
    ev = sample.to_pandas()
    blocking = ev[~ev["outcome"].isin(NON_BLOCKING).fillna(False)]
    last = blocking.groupby("case_id").tail(1).set_index("case_id")
    ended = last["outcome"].isin(TERMINAL).fillna(False) & ~last["pending"]
    end = last["acted_at"].where(ended)
    start = ev[ev["outcome"].isin(["submit", "resubmit"]).fillna(False)].groupby("case_id")[
        "acted_at"].min()
    frame = pd.DataFrame({"start": start, "end": end}).sort_index()
    assert frame.index.equals(ours.index)
    work = cal.working_days(frame["start"], frame["end"])
    np.testing.assert_allclose(ours["cycle_workdays"].to_numpy(), work, rtol=0, atol=1e-12,
                               equal_nan=True)
    clock = (frame["end"] - frame["start"]).dt.total_seconds() / 86400
    np.testing.assert_allclose(ours["cycle_clockdays"].to_numpy(), clock.to_numpy(),
                               equal_nan=True)
    assert int(ended.sum()) == int(ours["ended_at"].notna().sum())
    # hand-offs: consecutive acted blocking events of different departments
    acted = blocking[~blocking["pending"]]
    prev = acted.groupby("case_id")["dept"].shift()
    hand = (acted["dept"].notna() & prev.notna() & (acted["dept"] != prev)).groupby(
        acted["case_id"]).sum()
    assert (hand.reindex(ours.index, fill_value=0) == ours["handoffs"]).all()


def test_trend_chart_renders_chinese(sample, tmp_path):
    trend = kpi_trend(sample)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # "Glyph … missing from font" would raise
        ax = trend.plot("on_time_rate", process_type="费用报销", marks={"2025-07": "取消综合办公室审核"})
        ax.figure.savefig(tmp_path / "t.png")
        ax2 = trend.plot("cycle_median_workdays", process_type="费用报销")
        ax2.figure.savefig(tmp_path / "c.png")
        ax3 = monthly_kpis(sample).plot()
        ax3.figure.savefig(tmp_path / "m.png")
    assert "限时办结率" in ax.get_title()
    assert len(ax.lines[0].get_xdata()) == 12
    assert any("时限" in t.get_text() for t in ax2.texts)
    assert (tmp_path / "t.png").stat().st_size > 10_000
    assert "<table" in trend._repr_html_() and "KPITrend" in repr(trend)


# --- SLA --------------------------------------------------------------------------------------

def test_shipped_sla_file_equals_the_built_in_defaults():
    path = REPO / "sla" / "default_sla.toml"
    from_file = SLA.from_toml(path, merge=False)
    assert from_file == SLA.default()
    assert dict(from_file.limits) == dict(DEFAULT_LIMITS)
    assert from_file.default_limit == SLA.default().default_limit
    assert from_file.name == SLA.default().name
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(raw["limits"]) == set(DEFAULT_LIMITS) | {"default"}


def test_sla_merges_and_validates_every_problem(tmp_path):
    sla = SLA.from_dict({"limits": {"费用报销": 3, "default": 4}})
    assert sla.limit("费用报销") == 3 and sla.limit("合同审批") == 10 and sla.limit("新流程") == 4
    alone = SLA.from_dict({"limits": {"费用报销": 3}}, merge=False)
    assert alone.limit("合同审批") == 5                       # the fallback default
    np.testing.assert_array_equal(sla.limits_for(pd.Series(["费用报销", None, "用印"])),
                                  [3.0, 4.0, 2.0])
    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "red"\n[limits]\ndefault = 0\n"费用报销" = -1\n"用印" = "two"\n'
                   '"合同审批" = 9999\n', encoding="utf-8")
    with pytest.raises(SLAError) as err:
        SLA.from_toml(bad)
    message = str(err.value)
    for part in ("colour", "default", "费用报销", "用印", "合同审批", "5 problem"):
        assert part in message
    assert isinstance(err.value, officemine.OfficemineError)
    with pytest.raises(SLAError, match="not valid TOML"):
        (tmp_path / "x.toml").write_text("[limits\n", encoding="utf-8")
        SLA.from_toml(tmp_path / "x.toml")
    round_trip = tmp_path / "rt.toml"
    round_trip.write_text(sla.to_toml(), encoding="utf-8")
    assert SLA.from_toml(round_trip, merge=False) == sla
    assert "limits" in SLA.json_schema()["properties"]
    assert "费用报销 3" in sla.describe() and math.isfinite(sla.default_limit)
