"""Discovery: variants, process map, rework and hand-offs.

A small hand-built export with known answers (worked out by hand below), the bundled sample
log (whose generator removes 综合办公室审核 from 费用报销 on 2025-07-01), and the real BPI
Challenge 2020 Domestic Declarations log when it is present.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

import officemine
from officemine import OfficemineError
from officemine.discovery import DiscoveryError, discover

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SAMPLE = REPO / "sample_logs" / "oa_sample.csv"
BPIC = REPO.parent / "shared" / "data" / "real" / "DomesticDeclarations.xes.gz"
BPIC_MAPPING = REPO / "mappings" / "bpic2020.toml"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"

# --- the hand-built export ------------------------------------------------------------------
# 报销: A1, A2, A3 straight through (A3 with a 转办 inside 财务审核, A1 with a cc by 办公室);
# B1 returned once by 财务审核 and resubmitted; D1 still pending at 财务审核 (open).
# 用印: E1. Every step is one hour apart inside office hours unless noted.
HEADER = ["流程编号", "流程类型", "节点名称", "操作类型", "操作人", "操作人部门", "接收时间", "操作时间"]
ROWS = [
    ["A1", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-03 09:00"],
    ["A1", "报销", "部门审核", "同意", "李四", "综合部", "", "2025-03-03 10:00"],
    ["A1", "报销", "部门审核", "抄送", "吴十", "办公室", "", "2025-03-03 10:00"],
    ["A1", "报销", "财务审核", "同意", "王五", "财务部", "", "2025-03-03 11:00"],
    ["A1", "报销", "归档", "归档", "系统", "", "", "2025-03-03 12:00"],
    ["A2", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-04 09:00"],
    ["A2", "报销", "部门审核", "同意", "李四", "综合部", "", "2025-03-04 10:00"],
    ["A2", "报销", "财务审核", "同意", "王五", "财务部", "", "2025-03-04 11:00"],
    ["A2", "报销", "归档", "归档", "系统", "", "", "2025-03-04 12:00"],
    ["A3", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-06 09:00"],
    ["A3", "报销", "部门审核", "同意", "李四", "综合部", "", "2025-03-06 10:00"],
    ["A3", "报销", "财务审核", "转办", "王五", "财务部", "", "2025-03-06 11:00"],
    ["A3", "报销", "财务审核", "同意", "赵六", "财务部", "", "2025-03-06 11:30"],
    ["A3", "报销", "归档", "归档", "系统", "", "", "2025-03-06 11:30"],
    ["B1", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-05 09:00"],
    ["B1", "报销", "部门审核", "同意", "李四", "综合部", "", "2025-03-05 10:00"],
    ["B1", "报销", "财务审核", "退回", "王五", "财务部", "", "2025-03-05 11:00"],
    ["B1", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-05 14:00"],
    ["B1", "报销", "部门审核", "同意", "李四", "综合部", "", "2025-03-05 15:00"],
    ["B1", "报销", "财务审核", "同意", "王五", "财务部", "", "2025-03-05 16:00"],
    ["B1", "报销", "归档", "归档", "系统", "", "", "2025-03-05 16:00"],
    ["D1", "报销", "发起", "提交", "张三", "综合部", "", "2025-03-07 09:00"],
    ["D1", "报销", "部门审核", "同意", "孙八", "人事部", "", "2025-03-07 10:00"],
    ["D1", "报销", "财务审核", "", "王五", "财务部", "2025-03-07 10:00", ""],
    ["E1", "用印", "发起", "提交", "周九", "办公室", "", "2025-03-07 09:00"],
    ["E1", "用印", "办公室审核", "同意", "郑十", "办公室", "", "2025-03-07 09:30"],
    ["E1", "用印", "归档", "归档", "系统", "", "", "2025-03-07 09:30"],
]
STRAIGHT = "发起 → 部门审核 → 财务审核 → 归档"
OPEN = "发起 → 部门审核 → 财务审核"
RETURNED = "发起 → 部门审核 → 财务审核:return → 发起 → 部门审核 → 财务审核 → 归档"


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("disc") / "small.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(ROWS)
    log = officemine.import_log(path)
    assert log.report.rows_set_aside == 0 and log.report.pending_items == 1
    return log


@pytest.fixture(scope="module")
def small(small_log):
    return discover(small_log, "报销", min_frequency=1)


def test_variants_of_the_small_log(small):
    v = small.variants
    expected = pd.DataFrame({
        "variant": [1, 2, 3], "cases": [3, 1, 1], "share": [0.6, 0.2, 0.2],
        "completed": [3, 0, 1], "open": [0, 1, 0],
        # A1 and A2 take 3 h, A3 2.5 h; B1 7 h = 3 + 2.5 working hours (12:00–13:30 is lunch)
        "median_cycle_hours": [3.0, math.nan, 7.0],
        "median_cycle_workdays": [3 / 7, math.nan, 5.5 / 7],
        "steps": [4, 3, 7], "returns": [0, 0, 1], "path": [STRAIGHT, OPEN, RETURNED]})
    got = v.table.copy()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert (v.n_cases, v.n_completed, v.n_open) == (5, 4, 1)
    assert v.median_cycle_hours == 3.0
    assert set(v.cases.loc[v.cases["variant"] == 1, "case_id"]) == {"A1", "A2", "A3"}


def test_process_map_arcs_and_waits_of_the_small_log(small):
    pm = small.process_map
    arcs = pm.arcs.set_index(["source", "target", "kind"])
    assert arcs["transitions"].to_dict() == {
        ("发起", "部门审核", "forward"): 6, ("部门审核", "财务审核", "forward"): 6,
        ("财务审核", "归档", "forward"): 4, ("财务审核", "发起", "return"): 1}
    # transition time: last action of the source visit to first action at the target
    assert arcs.loc[("发起", "部门审核", "forward"), "median_transition_hours"] == 1.0
    assert arcs.loc[("财务审核", "归档", "forward"), "median_transition_hours"] == 0.5
    back = arcs.loc[("财务审核", "发起", "return")]
    assert back["median_transition_hours"] == 3.0            # 11:00 -> 14:00
    assert back["median_transition_workhours"] == 1.5         # 11:00-12:00 + 13:30-14:00
    nodes = pm.nodes.set_index("node")
    assert nodes["visits"].to_dict() == {"发起": 6, "部门审核": 6, "财务审核": 6, "归档": 4}
    # waits from work_items: A3's transfer counts at the node (10:00 -> 11:30)
    assert nodes.loc["财务审核", "items"] == 5 and nodes.loc["财务审核", "pending_items"] == 1
    assert nodes.loc["财务审核", "median_wait_workhours"] == 1.0
    assert nodes.loc["部门审核", "median_wait_hours"] == 1.0
    assert math.isnan(nodes.loc["发起", "median_wait_workhours"])     # not a decision
    assert list(pm.return_arcs["source"]) == ["财务审核"]


def test_rework_of_the_small_log(small):
    r = small.rework
    assert r.targets[["from_node", "to_node", "returns"]].values.tolist() == [["财务审核", "发起", 1]]
    by = r.by_node.set_index("node")
    assert by.loc["财务审核", ["decisions", "returns"]].tolist() == [5, 1]
    assert by.loc["财务审核", "return_rate"] == pytest.approx(0.2)
    assert r.rounds[["rounds", "cases"]].values.tolist() == [[1, 4], [2, 1]]
    clock = r.added("clock hours")
    assert (clock["n_with"], clock["n_without"]) == (1, 3)
    assert clock["difference"] == 4.0                         # 7 h vs median of 3, 3, 2.5 h
    assert math.isnan(clock["ci_low"])                        # one case is no interval
    assert r.added("working days")["difference"] == pytest.approx(2.5 / 7)
    assert (r.n_returns, r.cases_with_returns) == (1, 1)


def test_handoff_matrix_of_the_small_log(small):
    h = small.handoffs
    m = h.matrix                                     # rows: from, columns: to
    assert sorted(m.index) == sorted(m.columns) == sorted(["人事部", "财务部", "综合部"])
    nonzero = {(f, t): int(n) for (f, t), n in m.stack().items() if n}
    assert nonzero == {("综合部", "财务部"): 5, ("财务部", "综合部"): 1, ("综合部", "人事部"): 1}
    pairs = h.pairs.set_index(["from_dept", "to_dept"])
    assert pairs.loc[("综合部", "财务部"), "median_hours"] == 1.0
    assert pairs.loc[("财务部", "综合部"), "median_workhours"] == 1.5
    assert h.per_case.set_index("case_id")["handoffs"].to_dict() == {
        "A1": 1, "A2": 1, "A3": 1, "B1": 3, "D1": 1}        # cc by 办公室 and pending ignored
    assert h.mean_per_case == pytest.approx(1.4) and h.median_per_case == 1
    assert (h.pairs_total, h.pairs_unknown_dept) == (17, 4)    # 归档 by 系统 has no dept


def test_all_process_types_and_the_process_type_check(small_log):
    every = discover(small_log, min_frequency=1)
    assert every.variants.n_cases == 6
    assert every.variants.table["share"].iloc[0] == 0.5
    assert "发起 → 办公室审核 → 归档" in set(every.variants.table["path"])
    with pytest.raises(DiscoveryError) as err:
        discover(small_log, "请假")
    assert "'请假'" in str(err.value) and "报销 (5 cases)" in str(err.value)
    assert "用印 (1 cases)" in str(err.value)
    assert isinstance(err.value, OfficemineError)
    with pytest.raises(DiscoveryError, match="min_frequency"):
        discover(small_log, min_frequency=0)


def test_hidden_arcs_are_reported_and_returns_drawn_red_dashed(small_log):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex
    from matplotlib.patches import FancyArrowPatch

    pm = discover(small_log, "报销", min_frequency=2).process_map
    assert pm.hidden() == {"min_frequency": 2, "arcs": 1, "transitions": 1, "return_arcs": 1,
                           "nodes": 0, "node_names": []}
    ax = pm.plot()
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "已隐藏" in texts and "< 2 的 1 条连线" in texts and "工作小时" in texts
    plt.close(ax.figure)

    shown = discover(small_log, "报销", min_frequency=1).process_map
    ax = shown.plot()
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    red = [p for p in arrows if to_hex(p.get_edgecolor()) == "#d62728"]
    assert len(arrows) == 4 and len(red) == 1
    solid = ("-", "solid")
    assert red[0].get_linestyle() not in solid                       # dashed
    assert all(p.get_linestyle() in solid for p in arrows if p is not red[0])
    plt.close(ax.figure)


def test_json_has_stable_keys_and_bases(small, tmp_path):
    data = json.loads(small.to_json())
    assert list(data) == ["officemine_discovery", "scope", "settings", "variants",
                          "process_map", "rework", "handoffs"]
    assert data["scope"]["process_type"] == "报销" and data["scope"]["cases"] == 5
    assert "clock hours" in data["variants"]["cycle_time_basis"]
    assert "working days" in data["variants"]["cycle_time_units"]["median_cycle_workdays"]
    assert data["process_map"]["wait_basis"].startswith("median wait of decided work items")
    assert "working hours" in data["process_map"]["wait_units"]["median_wait_workhours"]
    assert data["rework"]["seed"] == 0 and "bootstrap" in data["rework"]["interval"]
    assert data["variants"]["rows"][1]["median_cycle_hours"] is None      # NaN -> null
    assert set(small.summary.columns) == {"metric", "value", "unit", "basis"}
    assert "<table" in small._repr_html_() and "VariantsResult" in repr(small.variants)


def test_bpmn_of_the_small_log_reimports(small, tmp_path):
    import pm4py

    path = small.process_map.to_bpmn(tmp_path / "model.bpmn")
    root = ET.parse(path).getroot()
    tasks = {t.get("name") for t in root.iter(f"{BPMN_NS}task")}
    assert {"发起", "部门审核", "财务审核", "归档"} <= tasks
    assert pm4py.read_bpmn(str(path)) is not None


# --- the bundled sample log -----------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_log():
    return officemine.import_log(SAMPLE)


@pytest.fixture(scope="module")
def fee(sample_log):
    return discover(sample_log, "费用报销")


def test_sample_redesign_shows_in_the_variants(fee):
    cases = fee.variants.cases
    after = cases[cases["started"] >= pd.Timestamp("2025-07-01", tz="Asia/Shanghai")]
    before = cases[cases["started"] < pd.Timestamp("2025-06-01", tz="Asia/Shanghai")]
    assert len(after) > 100
    assert not after["path"].str.contains("综合办公室审核").any()
    assert before["path"].str.contains("综合办公室审核").mean() > 0.9
    top_after = after["path"].value_counts().index[0]
    assert top_after == "发起 → 部门负责人审核 → 财务初审 → 财务复核 → 归档"
    assert fee.variants.table["path"].iloc[0].split(" → ")[2] == "综合办公室审核"


def test_sample_return_arcs_come_from_finance(fee):
    ret = fee.process_map.return_arcs.set_index(["source", "target"])
    assert ret.loc[("财务初审", "发起"), "transitions"] > 100
    assert fee.rework.by_node.iloc[0]["node"] == "财务初审"
    assert fee.rework.targets.iloc[0][["from_node", "to_node"]].tolist() == ["财务初审", "发起"]
    clock = fee.rework.added("clock hours")
    assert clock["ci_low"] > 0 and clock["n_with"] > 100       # returns cost time, clearly
    assert fee.process_map.nodes.set_index("node").loc["综合办公室审核", "median_wait_workhours"] > 0


def test_sample_outputs_render_and_parse(fee, tmp_path):
    import pm4py

    with warnings.catch_warnings():
        warnings.simplefilter("error")       # e.g. "Glyph 36130 missing from font(s)"
        paths = fee.save(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(paths)
    assert paths["map.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths["map.png"].stat().st_size > 20_000
    main = ["发起", "部门负责人审核", "综合办公室审核", "财务初审", "财务复核", "归档"]
    svg_text = " ".join(t.text or "" for t in ET.parse(paths["map.svg"]).getroot().iter(
        "{http://www.w3.org/2000/svg}text"))
    for node in main:
        assert node in svg_text                     # node names are text, not outlines
    pdf = paths["map.pdf"].read_bytes()
    # pdftotext/pypdf are not available: check the PDF embeds the CJK font (Type 42, so the
    # text stays extractable); the SVG check above covers the names themselves.
    assert pdf[:5] == b"%PDF-" and b"DroidSansFallback" in pdf
    root = ET.parse(paths["model.bpmn"]).getroot()
    tasks = {t.get("name") for t in root.iter(f"{BPMN_NS}task")}
    assert set(main) <= tasks
    bounds = [b.attrib for b in root.iter("{http://www.omg.org/spec/DD/20100524/DC}Bounds")]
    assert len({(b["x"], b["y"]) for b in bounds}) == len(bounds)   # laid out, not stacked
    assert pm4py.read_bpmn(str(paths["model.bpmn"])) is not None
    variants = pd.read_csv(paths["variants.csv"], encoding="utf-8-sig")
    assert variants["cases"].sum() == fee.variants.n_cases
    data = json.loads(paths["discovery.json"].read_text(encoding="utf-8"))
    assert data["process_map"]["hidden_in_drawing"]["min_frequency"] == 4


def test_sample_map_of_all_types_renders_without_missing_glyphs(sample_log, tmp_path):
    result = discover(sample_log)
    assert result.variants.n_cases == sample_log.n_cases
    assert len(result.process_map.return_arcs) >= 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = result.process_map.save(tmp_path / "all.png")
    assert path.stat().st_size > 50_000
    assert set(result.handoffs.by_process_type["process_type"]) == {
        "费用报销", "用印", "发文", "合同审批", "会议申请", "收文"}


def test_map_draws_on_a_given_axes(fee):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    assert fee.process_map.plot(ax=ax) is ax
    assert any("财务初审" == t.get_text() for t in ax.texts)
    plt.close(fig)


# --- the real BPI Challenge 2020 log --------------------------------------------------------
@pytest.mark.real
def test_bpic2020_domestic_top_variant():
    if not BPIC.exists() or not BPIC_MAPPING.exists():
        pytest.skip("BPI Challenge 2020 Domestic Declarations or its mapping not present")
    log = officemine.import_log(BPIC, mapping=BPIC_MAPPING)
    result = discover(log)
    top = result.variants.table.iloc[0]
    # SUBMITTED by EMPLOYEE → APPROVED by ADMINISTRATION → FINAL_APPROVED by SUPERVISOR →
    # Request Payment → Payment Handled, in role terms
    assert top["path"] == ("EMPLOYEE → ADMINISTRATION → SUPERVISOR → Request Payment → "
                           "Payment Handled")
    assert 0.40 < top["share"] < 0.48
    assert result.variants.n_cases == 10_500
    ret = result.process_map.return_arcs.set_index(["source", "target"])
    assert ret.loc[("ADMINISTRATION", "EMPLOYEE"), "transitions"] > 500
    assert not result.handoffs.has_departments        # BPIC 2020 records roles, not departments
