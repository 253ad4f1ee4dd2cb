"""The synthetic office: deterministic, faithful to its truth, and readable by every writer's
consumer (our importer, pm4py)."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.log.schema import C, OUTCOME_LOOKUP, SOURCE_FIELDS, TERMINAL, normalize_word
from officemine.synthetic import (ARCHIVE_NODE, CSV_HEADERS, OUTCOME_CN, XES_LABEL_PATTERN,
                                  NodeSpec, Redesign, SpecError, compare_redesign,
                                  default_office_spec, generate, sample_office_deviations,
                                  to_chinese_csv, to_xes)

ROOT = Path(__file__).resolve().parent.parent
REMOVED = "综合办公室审核"
CUTOVER = dt.date(2025, 7, 1)
REDESIGN = Redesign("费用报销", remove_nodes=(REMOVED,), effective=CUTOVER)
DECISIONS = ["approve", "return", "reject"]


@pytest.fixture(scope="module")
def spec():
    return default_office_spec()


@pytest.fixture(scope="module")
def year(spec):
    """Twelve months with the redesign from 2025-07-01 and the sample office's few planted
    departures from its procedures: the sample log's generate() call."""
    return generate(spec, start="2024-11-01", end="2025-10-31", seed=20251101,
                    redesigns=[REDESIGN], deviations=sample_office_deviations())


@pytest.fixture(scope="module")
def big(spec):
    """A large sample (about 65k events) for statistical checks."""
    return generate(spec, start="2024-11-01", end="2025-10-31", seed=11, rate_scale=5)


# --- determinism -----------------------------------------------------------------------------

def test_same_seed_same_log_and_different_seed_different_log(spec):
    kwargs = dict(start="2025-03-01", end="2025-04-30", redesigns=[REDESIGN])
    a, b = generate(spec, seed=5, **kwargs), generate(spec, seed=5, **kwargs)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.cases, b.cases)
    pd.testing.assert_frame_equal(a.visits, b.visits)
    c = generate(spec, seed=6, **kwargs)
    assert a.seed == 5 and c.seed == 6
    assert not a.events[[C.case_id, C.acted_at]].equals(c.events[[C.case_id, C.acted_at]])


def test_a_generator_seed_is_recorded_and_reproduces_the_log(spec):
    first = generate(spec, start="2025-03-03", end="2025-03-14",
                     seed=np.random.default_rng(42))
    again = generate(spec, start="2025-03-03", end="2025-03-14", seed=first.seed)
    assert isinstance(first.seed, int)
    pd.testing.assert_frame_equal(first.events, again.events)


def test_fifty_thousand_events_in_a_few_seconds(spec):
    began = time.perf_counter()
    log = generate(spec, start="2024-11-01", end="2025-10-31", seed=3, rate_scale=4)
    elapsed = time.perf_counter() - began
    assert len(log.events) >= 45_000
    assert elapsed < 15, f"{len(log.events):,} events took {elapsed:.1f}s"


# --- faithful to the truth -------------------------------------------------------------------

def _decision_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Per process and node: decisions per visit. A 加签 adds one extra person's approval
    at the node, which is not a visit of its own, so it is subtracted."""
    key = [C.process_type, C.node]
    counts = (events[events[C.outcome].isin(DECISIONS)].groupby(key)[C.outcome]
              .value_counts().unstack(fill_value=0).reindex(columns=DECISIONS, fill_value=0))
    added = events[events[C.outcome] == "add_approver"].groupby(key).size()
    counts["visits"] = counts.sum(axis=1) - added.reindex(counts.index).fillna(0).astype(int)
    return counts


def test_empirical_return_and_reject_rates_match_the_truth(big):
    counts = _decision_counts(big.events)
    truth = big.truth[big.truth["regime"] == "as_is"].set_index([C.process_type, C.node])
    assert len(counts) == len(truth) == 22
    for key, row in counts.iterrows():
        n = row["visits"]
        assert n >= 80, key
        for outcome, p in (("return", truth.loc[key, "p_return"]),
                           ("reject", truth.loc[key, "p_reject"])):
            tolerance = 4 * np.sqrt(max(p * (1 - p), 1e-4) / n)
            assert abs(row[outcome] / n - p) <= tolerance, (key, outcome, row[outcome], n, p)


def test_median_delay_of_ordinary_cases_matches_the_truth(big):
    visits = big.visits.merge(big.cases[[C.case_id, C.urgency]], on=C.case_id)
    ordinary = visits[visits[C.urgency] == "普通"]
    truth = big.truth.set_index([C.process_type, C.node])
    checked = 0
    for key, group in ordinary.groupby([C.process_type, C.node]):
        if len(group) < 100:
            continue
        sigma = truth.loc[key, "delay_sigma"]
        # the sample median of a lognormal: log-scale standard error 1.2533 * sigma / sqrt(n)
        tolerance = 4 * 1.2533 * sigma / np.sqrt(len(group))
        ratio = group["delay_hours"].median() / truth.loc[key, "delay_median_hours"]
        assert abs(np.log(ratio)) <= tolerance, (key, ratio)
        checked += 1
    assert checked >= 18


def test_delays_are_working_time_placed_on_the_calendar(year):
    cal = year.spec.calendar
    visits = year.visits
    measured = cal.working_hours(visits["arrived_at"], visits["decided_at"])
    # clock times are floored to whole seconds
    assert np.allclose(measured, visits["delay_hours"], atol=2 / 3600)
    acted = year.events.loc[~year.events[C.pending], C.acted_at]
    assert cal.is_workday(acted).all()
    minutes = acted.dt.hour * 60 + acted.dt.minute
    in_hours = minutes.between(9 * 60, 12 * 60) | minutes.between(13 * 60 + 30, 17 * 60 + 30)
    assert in_hours.all()


def test_routing_conditions_hold(year):
    events = year.events
    expense_leader = events[(events[C.process_type] == "费用报销") & (events[C.node] == "分管领导审批")]
    assert len(expense_leader) and (expense_leader[C.amount] >= 5000).all()
    chief = events[(events[C.process_type] == "合同审批") & (events[C.node] == "主要领导审批")]
    assert (chief[C.amount] >= 500_000).all()
    urgent_only = events[(events[C.process_type] == "收文") & (events[C.node] == "主要领导批示")]
    assert len(urgent_only) and (urgent_only[C.urgency] == "紧急").all()
    cases = year.cases
    big_expenses = cases[(cases[C.process_type] == "费用报销") & (cases[C.amount] >= 5000)
                         & (cases["status"] == "archived") & ~cases["open"]]
    visited = set(expense_leader[C.case_id])
    assert set(big_expenses[C.case_id]) <= visited


def test_rounds_are_capped_and_the_last_return_ends_in_a_withdrawal(big):
    cases = big.cases
    assert cases["rounds"].max() == big.spec.max_rounds
    assert set(cases["status"]) == {"archived", "rejected", "withdrawn"}
    withdrawn = cases[cases["status"] == "withdrawn"]
    assert (withdrawn["rounds"] == big.spec.max_rounds).all()
    resubmits = big.events[big.events[C.outcome] == "resubmit"].groupby(C.case_id).size()
    assert resubmits.max() == big.spec.max_rounds - 1


# --- the redesign ----------------------------------------------------------------------------

def test_removed_node_never_appears_in_cases_submitted_after_the_redesign(year):
    cases = year.cases[year.cases[C.process_type] == "费用报销"]
    after = cases["submitted_at"].dt.date >= CUTOVER
    assert after.sum() > 200 and (~after).sum() > 400
    assert (cases.loc[after, "regime"] == REDESIGN.name).all()
    at_node = year.events[year.events[C.node] == REMOVED]
    assert not set(at_node[C.case_id]) & set(cases.loc[after, C.case_id])
    # before the date the node is there, and it only lingers for cases already running
    assert set(at_node[C.case_id]) >= set(
        year.visits.loc[year.visits[C.node] == REMOVED, C.case_id][year.visits["observed"]])
    late = at_node[at_node[C.acted_at].dt.date >= CUTOVER]
    assert late[C.case_id].isin(cases.loc[~after, C.case_id]).all()
    assert late[C.acted_at].max() < pd.Timestamp("2025-08-01", tz="Asia/Shanghai")
    truth = year.truth.set_index(["regime", C.node])
    assert truth.loc[(REDESIGN.name, REMOVED), "removed"]
    assert truth.loc[(REDESIGN.name, REMOVED), "effective_from"] == CUTOVER


def test_common_random_numbers_keep_the_other_nodes_draws(spec):
    kwargs = dict(start="2025-01-01", end="2025-06-30", seed=99)
    as_is = generate(spec, **kwargs)
    without = generate(spec, redesigns=[Redesign("费用报销", remove_nodes=(REMOVED,))], **kwargs)
    keep = [C.case_id, C.process_type, C.amount, C.urgency, C.applicant, "submitted_at"]
    pd.testing.assert_frame_equal(as_is.cases[keep], without.cases[keep])

    def sequences(log):
        v = log.visits[log.visits[C.process_type] == "费用报销"]
        return v.groupby([C.case_id, C.node])[["decision", "delay_hours", "actor"]].agg(list)

    a, b = sequences(as_is), sequences(without)
    other = a.index.get_level_values(C.node) != REMOVED
    assert not (b.index.get_level_values(C.node) == REMOVED).any()
    only_approved = as_is.visits[(as_is.visits[C.node] == REMOVED)].groupby(C.case_id)[
        "decision"].agg(lambda d: (d == "approve").all())
    same_path = set(only_approved[only_approved].index)
    compared = identical = 0
    for key in a.index[other]:
        assert key in b.index, key   # every node visited as-is is visited redesigned
        x, y = a.loc[key], b.loc[key]
        n = min(len(x["decision"]), len(y["decision"]))
        # visit k at a node uses the same draws in both runs: outcomes, delays, people agree
        assert x["decision"][:n] == y["decision"][:n], key
        assert np.allclose(x["delay_hours"][:n], y["delay_hours"][:n]), key
        assert x["actor"][:n] == y["actor"][:n], key
        compared += 1
        if key[0] in same_path:
            assert x["decision"] == y["decision"], key
            identical += 1
    assert compared > 1000 and identical > 1000
    # other processes are untouched
    rest_a = as_is.events[as_is.events[C.process_type] != "费用报销"].reset_index(drop=True)
    rest_b = without.events[without.events[C.process_type] != "费用报销"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rest_a.drop(columns=[C.source_row, C.source_file]),
                                  rest_b.drop(columns=[C.source_row, C.source_file]))


def test_compare_redesign_gives_the_true_effect_case_by_case(spec):
    truth = compare_redesign(spec, REDESIGN, start="2025-01-01", end="2025-03-31", seed=4)
    cases = truth.cases
    expense = cases[cases[C.process_type] == "费用报销"]
    others = cases[cases[C.process_type] != "费用报销"]
    assert (others["delta_hours"] == 0).all()
    assert truth.effect_hours == pytest.approx(expense["delta_hours"].mean())
    # removing a 12-hour-median node saves at least that node's delay on cases it approved
    node_time = truth.as_is.visits[truth.as_is.visits[C.node] == REMOVED].groupby(C.case_id)[
        "delay_hours"].sum()
    approved_once = truth.as_is.cases.set_index(C.case_id)["rounds"].eq(1)
    plain = [c for c in node_time.index if approved_once[c]
             and truth.redesigned.cases.set_index(C.case_id).loc[c, "rounds"] == 1]
    delta = expense.set_index(C.case_id)["delta_hours"]
    assert np.allclose(delta[plain], -node_time[plain])
    assert truth.effect_hours < -10
    assert set(truth.summary.columns) >= {"mean_hours_as_is", "mean_hours_redesigned"}


def test_return_scale_turns_returns_into_approvals_only(spec):
    kwargs = dict(start="2025-01-01", end="2025-06-30", seed=8)
    as_is = generate(spec, **kwargs).visits
    fewer = generate(spec, redesigns=[Redesign("费用报销", return_scale={"财务初审": 0.3})],
                     **kwargs).visits
    first = [C.case_id, C.node]
    a = as_is[(as_is[C.node] == "财务初审") & (as_is["visit"] == 1)].set_index(first)["decision"]
    b = fewer[(fewer[C.node] == "财务初审") & (fewer["visit"] == 1)].set_index(first)["decision"]
    a, b = a.align(b, join="inner")
    changed = a != b
    assert changed.sum() > 20
    assert set(zip(a[changed], b[changed])) == {("return", "approve")}


# --- the events frame ------------------------------------------------------------------------

def test_acted_at_never_before_arrived_at_and_seq_follows_time(year):
    e = year.events
    assert e[C.arrived_at].notna().all()
    acted = e[~e[C.pending]]
    assert acted[C.acted_at].notna().all()
    assert (acted[C.acted_at] >= acted[C.arrived_at]).all()
    assert (acted.groupby(C.case_id)[C.acted_at].diff().dropna() >= pd.Timedelta(0)).all()
    # a pending row comes after every action of its case
    last_seq = e.groupby(C.case_id)[C.seq].max()
    pending = e[e[C.pending]]
    assert (pending[C.seq].to_numpy() == last_seq[pending[C.case_id]].to_numpy()).all()
    first = e[e[C.seq] == 0]
    assert (first[C.outcome] == "submit").all() and len(first) == len(year.cases)


def test_open_cases_have_no_archive_and_closed_cases_end_terminally(year):
    e = year.events
    last = e.sort_values([C.case_id, C.seq]).groupby(C.case_id)[C.outcome].last()
    cases = year.cases.set_index(C.case_id)
    open_ids = cases.index[cases["open"]]
    assert len(open_ids) >= 5
    archived = set(e.loc[e[C.outcome] == "archive", C.case_id])
    assert not archived & set(open_ids)
    assert not last[open_ids].isin(TERMINAL).any()
    closed = cases.index[~cases["open"]]
    assert last[closed].isin(TERMINAL).all()
    status_word = {"archived": "archive", "rejected": "reject", "withdrawn": "withdraw"}
    assert (last[closed] == cases.loc[closed, "status"].map(status_word)).all()
    # open cases are the recent ones
    recent = pd.Timestamp("2025-09-01", tz="Asia/Shanghai")
    assert cases.loc[open_ids, "submitted_at"].min() > recent


def test_pending_rows_are_exactly_the_unobserved_decisions_of_open_cases(year):
    e, T = year.events, year.observed_until
    pending = e[e[C.pending]]
    assert len(pending) > 0
    assert pending[C.acted_at].isna().all() and pending[C.outcome].isna().all()
    assert pending[C.comment].isna().all()
    assert (pending[C.arrived_at] < T).all()
    assert (pending[C.wait_start] == pending[C.arrived_at]).all()
    assert (pending[C.arrival_source] == "recorded").all()
    # one pending row per visit reached before the end of observation, decided after it
    v = year.visits
    open_visits = v[~v["observed"] & (v["arrived_at"] < T)]
    key = [C.case_id, C.node]
    assert sorted(map(tuple, pending[key].to_numpy())) == sorted(
        map(tuple, open_visits[key].to_numpy()))
    assert pending[C.case_id].is_unique
    cases = year.cases.set_index(C.case_id)
    assert cases.loc[pending[C.case_id], "open"].all()
    # the row belongs to whoever holds the item then: the approver, or the person it was
    # transferred / added to before the end
    by_visit = open_visits.set_index(key)
    for row in pending.itertuples():
        visit = by_visit.loc[(row.case_id, row.node)]
        assert row.resource in {visit["approver"], visit["actor"], visit["added_approver"]}
        assert visit["arrived_at"] <= row.arrived_at < T
    # the case attributes ride along
    for column in (C.process_type, C.title, C.applicant, C.urgency):
        assert (pending[column].to_numpy()
                == cases.loc[pending[C.case_id], column].to_numpy()).all(), column


def test_events_frame_is_what_the_importer_would_build(spec):
    log = generate(spec, start="2025-05-01", end="2025-05-31", seed=2)
    raw = log.events.sort_values(C.source_row, key=lambda s: s.astype(int))[list(SOURCE_FIELDS)]
    built, report, aside = build_log(RawEvents(
        raw.reset_index(drop=True), source_file=log.events[C.source_file].iloc[0],
        format="synthetic", rows_read=len(raw), outcomes_canonical=True), timezone="Asia/Shanghai")
    assert aside.empty
    pd.testing.assert_frame_equal(log.events, built, check_dtype=True)
    assert log.to_eventlog().n_events == len(log.events)


def test_people_and_comments_look_like_an_office(year):
    e = year.events
    assert e[C.resource].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    people = e.loc[e[C.resource] != "系统", C.resource]
    assert people.isin(list(year.spec.dept_of)).all() and people.nunique() > 40
    returns = e[e[C.outcome] == "return"]
    assert returns[C.comment].str.len().min() >= 4
    reasons = year.visits[(year.visits[C.node] == "财务初审") & (year.visits["decision"] == "return")]
    assert reasons["reason"].value_counts(normalize=True)["材料不全"] > 0.5
    assert {"transfer", "add_approver", "cc", "remind", "resubmit", "archive"} <= set(e[C.outcome])
    assert set(e.loc[e[C.outcome] == "archive", C.node]) == {ARCHIVE_NODE}
    assert year.events[C.node].nunique() - 2 == 18   # 18 distinct nodes besides 发起 and 归档


# --- spec validation -------------------------------------------------------------------------

def test_spec_problems_are_collected_into_one_error(spec):
    bad = NodeSpec("审-核", "财务部", ("不存在的人",), p_return=0.8, p_reject=0.5,
                   return_reasons={"没有评语的理由": 1.0})
    proc = replace(spec.processes[0], nodes=(bad,))
    with pytest.raises(SpecError) as err:
        replace(spec, processes=(proc,))
    message = str(err.value)
    for fragment in ("without '-'", "p_return + p_reject > 1", "not in staff or heads",
                     "no comments for return reason"):
        assert fragment in message


def test_redesign_naming_an_unknown_node_is_refused(spec):
    with pytest.raises(SpecError, match="no node '不存在'"):
        generate(spec, start="2025-01-01", end="2025-01-31", seed=1,
                 redesigns=[Redesign("费用报销", remove_nodes=("不存在",))])


# --- writers ---------------------------------------------------------------------------------

def test_chinese_csv_is_gbk_with_chinese_headers_and_split_date_time(year, tmp_path):
    path = to_chinese_csv(year.events, tmp_path / "export.csv")
    text = path.read_bytes().decode("gbk")          # strict: fails on anything not GBK
    table = pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)
    assert text.splitlines()[0].split(",") == list(table.columns)
    assert list(table.columns) == [
        "流程编号", "流程类型", "标题", "申请人", "申请部门", "金额", "紧急程度", "节点名称",
        "操作人", "操作人部门", "操作类型", "接收日期", "接收时间", "操作日期", "操作时间", "签字意见"]
    assert len(table) == len(year.events)
    pending = year.events[C.pending].to_numpy()
    assert pending.any()
    assert table["接收日期"].str.fullmatch(r"20\d\d/\d{1,2}/\d{1,2}").all()
    assert table["接收时间"].str.fullmatch(r"\d{1,2}:\d\d").all()
    assert table.loc[~pending, "操作日期"].str.fullmatch(r"20\d\d/\d{1,2}/\d{1,2}").all()
    assert table.loc[~pending, "操作时间"].str.fullmatch(r"\d{1,2}:\d\d").all()
    assert set(table.loc[~pending, "操作类型"]) <= set(OUTCOME_CN.values())
    # pending (未办) items: received, not acted on
    for column in ("操作类型", "操作日期", "操作时间", "签字意见"):
        assert (table.loc[pending, column] == "").all(), column
    assert (table["金额"][table["流程类型"] == "发文"] == "").all()
    assert table["金额"][table["流程类型"] == "费用报销"].str.fullmatch(r"\d+\.\d\d").all()
    assert {h for h in CSV_HEADERS.values() if isinstance(h, str)} <= set(table.columns)


def test_chinese_csv_round_trips_through_the_importer(year, tmp_path):
    from officemine import import_log

    path = to_chinese_csv(year.events, tmp_path / "export.csv")
    log = import_log(path)
    assert log.report.rows_set_aside == 0
    back = log.to_pandas()
    e = year.events
    for column in (C.case_id, C.node, C.outcome, C.resource, C.dept, C.comment, C.title,
                   C.pending):
        assert back[column].fillna("").tolist() == e[column].fillna("").tolist(), column
    assert back[C.acted_at].isna().tolist() == e[C.pending].tolist()
    acted = ~e[C.pending]
    assert (back.loc[acted, C.acted_at] == e.loc[acted, C.acted_at].dt.floor("min")).all()
    assert (back[C.arrived_at] == e[C.arrived_at].dt.floor("min")).all()
    assert log.report.pending_items == int(e[C.pending].sum()) > 0


def test_xes_parses_with_pm4py_and_labels_split_back(year, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    path = to_xes(year.events, tmp_path / "log.xes.gz")
    df = pm4py.read_xes(str(path))
    assert df["case:concept:name"].nunique() == year.events[C.case_id].nunique() == len(year.cases)
    e = year.events[~year.events[C.pending]]          # XES skips pending rows (no timestamp)
    assert len(df) == len(e) < len(year.events)
    parts = df["concept:name"].str.extract(XES_LABEL_PATTERN)
    outcome = parts["outcome"].map(lambda w: OUTCOME_LOOKUP[normalize_word(w)])
    assert parts["node"].tolist() == e[C.node].tolist()
    assert outcome.tolist() == e[C.outcome].tolist()
    assert (df["time:timestamp"].dt.tz_convert("Asia/Shanghai").to_numpy()
            == e[C.acted_at].to_numpy()).all()
    assert df["org:resource"].tolist() == e[C.resource].tolist()
    assert set(df["case:process_type"]) == set(e[C.process_type])


def test_xes_plain_and_gzip_hold_the_same_document(tmp_path, spec):
    log = generate(spec, start="2025-05-01", end="2025-05-09", seed=1)
    plain = to_xes(log.events, tmp_path / "a.xes").read_bytes()
    import gzip

    packed = gzip.decompress(to_xes(log.events, tmp_path / "a.xes.gz").read_bytes())
    assert plain == packed and plain.startswith(b"<?xml")


def test_shipped_sample_files_match_the_generator(year, tmp_path):
    csv, xes = ROOT / "sample_logs" / "oa_sample.csv", ROOT / "sample_logs" / "oa_sample.xes.gz"
    if not csv.exists():
        pytest.skip("sample logs not generated")
    assert csv.stat().st_size < 3_000_000 and xes.stat().st_size < 3_000_000
    lines = csv.read_bytes().split(b"\r\n")
    assert lines[0].decode("gbk").startswith("流程编号,流程类型,标题")
    assert re.search(r",\d{4}/\d{1,2}/\d{1,2},\d{1,2}:\d\d,", lines[1].decode("gbk"))
    # `year` is the sample's generate() call: the shipped files are its exact bytes,
    # pending (未办) rows included in the CSV and left out of the XES
    assert csv.read_bytes() == to_chinese_csv(year.events, tmp_path / "s.csv").read_bytes()
    import gzip   # the gzip header names the file: compare the documents

    assert gzip.decompress(xes.read_bytes()) == gzip.decompress(
        to_xes(year.events, tmp_path / "s.xes.gz").read_bytes())
    table = pd.read_csv(csv, encoding="gbk", dtype=str, keep_default_na=False)
    assert (table["操作日期"] == "").sum() == year.events[C.pending].sum() > 0
