"""The conformance check: each kind on a hand-built office, procedure files and their
validation, BPMN models (read safely, exported and read back, read by pm4py), a known-answer
test on a generated office with planted departures, the vectorised check against a plain
per-round one, the result object, 不合规率 among the KPIs, the process map and the command."""

from __future__ import annotations

import json
import re
import tomllib

import matplotlib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.conformance import (CONTROL_FLOW, KINDS, ProcedureError, Procedures, conformance,
                                    outside_procedures)
from officemine.conformance.model import Checker
from officemine.importing.normalize import build_log
from officemine.importing.raw import RawEvents
from officemine.kpis import kpi_trend, monthly_kpis
from officemine.log.schema import DECISIONS, NON_BLOCKING
from officemine.synthetic import PlantedDeviation, When, default_office_spec, generate

from conftest import REPO

matplotlib.use("Agg")
runner = CliRunner()
SAMPLE_PROCEDURES = REPO / "procedures" / "sample_office.toml"

# --- a hand-built office whose every deviation is known -----------------------------------------
# Procedure of 报销: 部门审核 (not by the applicant; by the applicant's department), 财务初审
# (财务部), then 总经理审批 only from 50,000 yuan (the role 总经理: 王总).
PROCEDURE = {
    "roles": {"总经理": ["王总", "不在日志中的人"]},
    "procedure": [{
        "process_type": "报销", "name": "报销标准流程",
        "steps": ["部门审核", "财务初审", "总经理审批"],
        "not_by_applicant": ["部门审核"],
        "required_when": {"总经理审批": "amount >= 50000"},
        "authority": {"部门审核": {"depts": ["申请部门"]}, "财务初审": {"depts": ["财务部"]},
                      "总经理审批": {"roles": ["总经理"]}},
    }],
}
COLUMNS = ["case_id", "node", "outcome", "resource", "dept", "arrived_at", "acted_at"]
#: case -> (amount, applicant, applicant's department, process type)
CASES = {
    "OK": (1000, "张三", "市场部", "报销"), "SKIP": (60000, "张三", "市场部", "报销"),
    "COND": (1000, "张三", "市场部", "报销"), "EXTRA": (1000, "张三", "市场部", "报销"),
    "ORDER": (1000, "张三", "市场部", "报销"), "SELF": (1000, "李四", "市场部", "报销"),
    "SUBMITTER": (1000, None, "技术部", "报销"), "AUTH": (60000, "张三", "技术部", "报销"),
    "RET": (1000, "张三", "市场部", "报销"), "RETSKIP": (1000, "张三", "市场部", "报销"),
    "EMPTY": (1000, "张三", "市场部", "报销"), "OPEN": (1000, "张三", "市场部", "报销"),
    "ADDED": (1000, "张三", "市场部", "报销"), "LEAVE": (1000, "张三", "市场部", "请假"),
    "UNRECORDED": (60000, "张三", "市场部", "报销"),
}
#: case -> the kinds it shows, and what is not judged
EXPECTED = {
    "OK": set(),                            # a 转办, a cc and a reminder are not steps
    "SKIP": {"skipped"},                    # 60,000 yuan without 总经理审批
    "COND": {"unexpected"},                 # 总经理审批 of 1,000 yuan: its condition is false
    "EXTRA": {"unexpected"},                # 法务审核 is no step of the procedure
    "ORDER": {"out_of_order"},              # 财务初审 before 部门审核
    "SELF": {"self_approval"},              # the applicant approves at 部门审核
    "SUBMITTER": {"self_approval"},         # no applicant column: whoever submitted
    "AUTH": {"authority"},                  # 部门审核 by another department, 财务初审 by
                                            # 办公室, 总经理审批 by someone not 总经理
    "RET": set(),                           # round 1 returned at 财务初审: judged up to it
    "RETSKIP": {"skipped"},                 # round 1: 财务初审 returned without 部门审核 first
    "EMPTY": {"skipped"},                   # archived with no step at all
    "OPEN": set(),                          # still at 财务初审: fine so far
    "ADDED": set(),                         # 加签 of an outsider: 李四 still decides
    "UNRECORDED": set(),                    # who decided 总经理审批, and 财务初审's department,
                                            # are not recorded: what the rule names, unknown
}


def _rows():
    m = iter(range(0, 10_000, 10))
    rows = []

    def case(cid, *steps):
        for node, outcome, who, dept in steps:
            rows.append((cid, node, outcome, who, dept, None if outcome else "x", next(m)))

    sub = ("发起", "submit", "张三", "市场部")
    dept = ("部门审核", "approve", "李四", "市场部")
    fin = ("财务初审", "approve", "赵六", "财务部")
    arch = ("归档", "archive", "系统", None)
    case("OK", sub, dept, ("财务初审", "transfer", "赵六", "财务部"),
         ("财务初审", "remind", "张三", "市场部"), ("财务初审", "approve", "钱七", "财务部"),
         ("财务初审", "cc", "钱七", "财务部"), arch)
    case("SKIP", sub, dept, fin, arch)
    case("COND", sub, dept, fin, ("总经理审批", "approve", "王总", "公司领导"), arch)
    case("EXTRA", sub, dept, ("法务审核", "approve", "郑律", "法务部"), fin, arch)
    case("ORDER", sub, fin, dept, arch)
    case("SELF", ("发起", "submit", "李四", "市场部"), dept, fin, arch)
    case("SUBMITTER", ("发起", "submit", "孙八", "技术部"), ("部门审核", "approve", "孙八", "技术部"),
         fin, arch)
    case("AUTH", sub, ("部门审核", "approve", "李四", "市场部"), ("财务初审", "approve", "周九", "办公室"),
         ("总经理审批", "approve", "吴十", "公司领导"), arch)
    case("RET", sub, dept, ("财务初审", "return", "赵六", "财务部"), sub, dept, fin, arch)
    case("RETSKIP", sub, ("财务初审", "return", "赵六", "财务部"), sub, dept, fin, arch)
    case("EMPTY", sub, arch)
    case("OPEN", sub, dept, ("财务初审", None, "赵六", "财务部"))
    case("ADDED", sub, ("部门审核", "add_approver", "李四", "市场部"),
         ("部门审核", "approve", "郑律", "法务部"), dept, fin, arch)
    case("LEAVE", ("发起", "submit", "张三", "市场部"), ("部门审核", "approve", "李四", "市场部"),
         arch)
    case("UNRECORDED", sub, dept, ("财务初审", "approve", "赵六", None),
         ("总经理审批", "approve", None, "公司领导"), arch)
    return rows


def hand_log():
    frame = pd.DataFrame(_rows(), columns=["case_id", "node", "outcome", "resource", "dept",
                                           "pending", "minute"])
    t0 = pd.Timestamp("2025-03-03 09:00")
    at = t0 + pd.to_timedelta(frame.pop("minute"), unit="min")
    pending = frame.pop("pending").notna()
    frame["acted_at"] = at.where(~pending).astype(str).where(~pending)
    frame["arrived_at"] = at.astype(str).where(pending)
    for i, col in enumerate(["amount", "applicant", "applicant_dept", "process_type"]):
        frame[col] = frame["case_id"].map({c: v[i] for c, v in CASES.items()})
    frame["amount"] = frame["amount"].astype(float)
    events, report, _ = build_log(RawEvents(frame, "hand.csv", "csv", len(frame)))
    return officemine.EventLog.from_pandas(events, timezone="Asia/Shanghai", report=report)


@pytest.fixture(scope="module")
def hand():
    return hand_log()


@pytest.fixture(scope="module")
def hand_result(hand):
    return conformance(hand, PROCEDURE)


def kinds_of(result) -> dict[str, set[str]]:
    return {row.case_id: {k for k in KINDS if getattr(row, k)}
            for row in result.cases.itertuples()}


def test_every_kind_on_the_hand_built_office(hand_result):
    assert kinds_of(hand_result) == EXPECTED
    assert hand_result.not_checked == 1                 # 请假 has no procedure
    assert hand_result.by_kind == {"skipped": 3, "unexpected": 2, "out_of_order": 1,
                                   "self_approval": 2, "authority": 1}


def test_each_deviation_names_case_round_step_and_event(hand, hand_result):
    d = hand_result.deviations.set_index("case_id")
    events = hand.to_pandas().set_index(["case_id", "seq"])
    assert d.loc["SKIP", "step"] == "总经理审批" and d.loc["SKIP", "round"] == 1
    assert d.loc["COND", "step"] == "总经理审批" and d.loc["EXTRA", "step"] == "法务审核"
    # the event involved: the decision at that step
    assert events.loc[("EXTRA", d.loc["EXTRA", "seq"]), "node"] == "法务审核"
    # a skipped step names the step taken where it was due (财务初审 came without 部门审核)
    assert d.loc["RETSKIP", "step"] == "部门审核" and d.loc["RETSKIP", "round"] == 1
    assert events.loc[("RETSKIP", d.loc["RETSKIP", "seq"]), "node"] == "财务初审"
    empty = d.loc[["EMPTY"]]
    assert sorted(empty["step"]) == ["财务初审", "部门审核"] and (empty["seq"] == -1).all()
    auth = d.loc[["AUTH"]].set_index("step")
    assert sorted(auth.index) == ["总经理审批", "财务初审", "部门审核"]
    assert auth.loc["财务初审", "dept"] == "办公室" and auth.loc["总经理审批", "resource"] == "吴十"
    assert d.loc["SUBMITTER", "resource"] == "孙八"
    assert d.loc["ORDER", "kind"] == "out_of_order"


def test_the_month_selects_the_cases_completed_in_it(hand):
    march = conformance(hand, PROCEDURE, month="2025-03")
    assert march.n_cases == 13 and "OPEN" not in set(march.cases["case_id"])
    assert conformance(hand, PROCEDURE, month="2025-04").n_cases == 0


# --- procedure files ---------------------------------------------------------------------------

ISSUE_FORM = '''
[[procedure]]
process_type = "费用报销"
name = "费用报销标准流程（2025版）"
steps = ["部门负责人审核", "财务初审", "综合办公室审核", "分管领导审批", "总经理审批"]  # in this order
optional = []                                   # steps that may be skipped
not_by_applicant = ["部门负责人审核"]           # separation of duties: the applicant may not decide here
[procedure.required_when]                        # steps required only under a condition
"总经理审批" = "amount >= 50000"
'''


def test_the_form_of_the_issue_is_read(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(ISSUE_FORM, encoding="utf-8")
    procs = Procedures.from_file(path)
    (p,) = procs.procedures
    assert p.steps[-1] == "总经理审批" and p.required_when == {"总经理审批": "amount >= 50000"}
    assert p.not_by_applicant == ("部门负责人审核",) and p.process_type == "费用报销"


def test_every_problem_of_a_file_is_listed_before_anything_runs(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('''
colour = "red"
[[procedure]]
process_type = "报销"
steps = ["部门审核", "财务初审", "部门审核", "总经理审批", "归档"]
optional = ["综合办审核"]
any_order = [["部门审核", "归档"]]
[procedure.required_when]
"总经理审批" = "amount >= __import__('os')"
[procedure.authority]
"财务初审" = { roles = ["出纳"] }
''', encoding="utf-8")
    with pytest.raises(ProcedureError) as err:
        Procedures.from_file(path)
    text = str(err.value)
    for expected in ("bad.toml: unknown key 'colour'", "names '部门审核' twice", "'综合办审核'",
                     "function call", "must be consecutive", "role '出纳' is not in [roles]"):
        assert expected in text, expected
    # two versions in force at once
    path.write_text('[[procedure]]\nprocess_type = "用印"\nvalid_from = 2025-01-01\n'
                    'steps = ["审核"]\n[[procedure]]\nprocess_type = "用印"\n'
                    'valid_from = 2025-06-01\nsteps = ["审核"]\n', encoding="utf-8")
    with pytest.raises(ProcedureError, match="both in force"):
        Procedures.from_file(path)


def test_problems_against_the_log_are_listed_together(hand):
    bad = {"procedure": [{"process_type": "报销", "steps": ["部门审核", "财务复审"],
                          "required_when": {"财务复审": "budget > 5"},
                          "authority": {"部门审核": {"depts": ["市场布"]}}},
                         {"process_type": "出差", "steps": ["部门审核"]}]}
    with pytest.raises(ProcedureError) as err:
        conformance(hand, bad)
    text = str(err.value)
    assert "'财务复审' is no node of the log (did you mean '财务初审'?)" in text
    assert "uses 'budget', which is not a case column" in text
    assert "department '市场布', which the log never records (did you mean '市场部'?)" in text
    none = {"procedure": [{"process_type": "出差", "steps": ["部门审核"]}]}
    with pytest.raises(ProcedureError, match="no case of the log has a procedure"):
        conformance(hand, none)
    # a procedure for a type the log lacks is a note, not an error
    notes = conformance(hand, {"procedure": [*PROCEDURE["procedure"], none["procedure"][0]],
                               "roles": PROCEDURE["roles"]}).tables.notes
    assert any("'出差'" in n for n in notes)


def test_versions_apply_by_the_case_start(hand):
    base = PROCEDURE["procedure"][0]
    later = {**base, "name": "新版", "valid_from": "2025-03-03",
             "steps": ["部门审核", "财务初审"]}
    earlier = {**base, "valid_until": "2025-03-03"}
    later.pop("required_when")
    later["authority"] = {"部门审核": {"depts": ["申请部门"]}}
    result = conformance(hand, {"procedure": [earlier, later], "roles": PROCEDURE["roles"]})
    assert set(result.cases["procedure"]) == {"新版"}                 # every case starts 03-03
    got = kinds_of(result)
    assert got["COND"] == {"unexpected"} and got["SKIP"] == set()    # no 总经理审批 any more


def test_the_shipped_templates_read_and_are_documented():
    doc = (REPO / "docs" / "conformance.md").read_text(encoding="utf-8")
    files = sorted((REPO / "procedures").glob("*.toml"))
    assert {f.stem for f in files} >= {"收文", "发文", "会议", "用印", "合同", "费用报销",
                                       "sample_office"}
    for path in files:
        procs = Procedures.from_file(path)
        assert len(procs) >= 1 and path.name in doc, path.name
    for path in (REPO / "procedures").glob("*.bpmn"):
        assert len(Procedures.from_file(path)) >= 1 and path.name in doc
    for kind in KINDS:
        assert f"`{kind}`" in doc
    # the documented file form is a file that reads
    block = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)
    (p,) = Procedures.from_dict(tomllib.loads(block)).procedures
    assert p.optional == () and p.authority["总经理审批"].roles == ("总经理",)


def test_the_sample_procedures_fit_the_sample_log_without_a_problem(sample_log):
    procs = Procedures.from_file(SAMPLE_PROCEDURES)
    assert procs.check(sample_log) == []
    result = conformance(sample_log, procs)
    assert result.not_checked == 0 and result.n_deviating > 0


# --- BPMN ---------------------------------------------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d">
  <process id="p" name="报销">
    <startEvent id="s"/>
    <userTask id="a" name="部门&#10;审核"/>
    <parallelGateway id="fork"/>
    <userTask id="b" name="财务初审"/>
    <task id="c" name="法务审核"/>
    <parallelGateway id="join"/>
    <exclusiveGateway id="x" default="f_skip"/>
    <manualTask id="d" name="总经理审批"/>
    <exclusiveGateway id="xj"/>
    <endEvent id="e"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="a"/>
    <sequenceFlow id="f2" sourceRef="a" targetRef="fork"/>
    <sequenceFlow id="f3" sourceRef="fork" targetRef="b"/>
    <sequenceFlow id="f4" sourceRef="fork" targetRef="c"/>
    <sequenceFlow id="f5" sourceRef="b" targetRef="join"/>
    <sequenceFlow id="f6" sourceRef="c" targetRef="join"/>
    <sequenceFlow id="f7" sourceRef="join" targetRef="x"/>
    <sequenceFlow id="f_big" sourceRef="x" targetRef="d">
      <conditionExpression xsi:type="tFormalExpression">${amount &gt;= 50000 &amp;&amp; urgency != "x"}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f_skip" sourceRef="x" targetRef="xj"/>
    <sequenceFlow id="f8" sourceRef="d" targetRef="xj"/>
    <sequenceFlow id="f9" sourceRef="xj" targetRef="e"/>
  </process>
</definitions>
"""


def test_a_bpmn_model_with_parallel_and_exclusive_gateways(tmp_path):
    path = tmp_path / "m.bpmn"
    path.write_text(BPMN, encoding="utf-8")
    (p,) = Procedures.from_file(path).procedures
    assert p.process_type == "报销" and p.steps == ("部门审核", "财务初审", "法务审核", "总经理审批")
    big, small = Checker(p.model, 1), Checker(p.model, 0)          # the condition holds / not
    for trace in (["部门审核", "财务初审", "法务审核"], ["部门审核", "法务审核", "财务初审"]):
        assert small.fits(trace, True) and not big.fits(trace, True)   # 会签: either order
        assert big.fits(trace + ["总经理审批"], True)
    assert [d.kind for d in small.explain(["部门审核", "财务初审"], True)] == ["skipped"]
    assert small.explain(["部门审核", "财务初审"], True)[0].step == "法务审核"
    assert small.fits(["部门审核", "财务初审"], False)              # a cut round: fine so far
    assert [d.kind for d in small.explain(["部门审核", "法务审核", "财务初审", "总经理审批"],
                                          True)] == ["unexpected"]
    assert [d.kind for d in big.explain(["财务初审", "部门审核", "法务审核", "总经理审批"],
                                        True)] == ["out_of_order"]


@pytest.mark.parametrize("body,message", [
    ('<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><definitions>&b;</definitions>',
     "refused"),
    ('<!DOCTYPE d SYSTEM "file:///etc/passwd"><definitions/>', "refused"),
    ("<definitions><process id='p'><startEvent id='s'", "not well-formed"),
    ("<log/>", "not BPMN 2.0"),
    ("<definitions xmlns='http://www.omg.org/spec/BPMN/20100524/MODEL'><process id='p'>"
     "<startEvent id='s'/><inclusiveGateway id='g'/><task id='t'/><endEvent id='e'/>"
     "<task id='u' name='孤'/><sequenceFlow id='f' sourceRef='s' targetRef='t'/>"
     "<sequenceFlow id='h' sourceRef='t' targetRef='e'/></process></definitions>",
     "inclusive gateway 'g' is not supported"),
])
def test_hostile_or_unsupported_bpmn_is_one_error(tmp_path, body, message):
    path = tmp_path / "m.bpmn"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ProcedureError, match=message):
        Procedures.from_file(path)


def test_every_problem_of_a_model_is_listed(tmp_path):
    path = tmp_path / "m.bpmn"
    path.write_text("<definitions xmlns='http://www.omg.org/spec/BPMN/20100524/MODEL'>"
                    "<process id='p'><startEvent id='s'/><task id='t'/><endEvent id='e'/>"
                    "<task id='u' name='孤'/><sequenceFlow id='f' sourceRef='s' targetRef='t'>"
                    "<conditionExpression>amount.real &gt; 1</conditionExpression></sequenceFlow>"
                    "<sequenceFlow id='h' sourceRef='t' targetRef='e'/>"
                    "<sequenceFlow id='k' sourceRef='t' targetRef='nowhere'/></process>"
                    "</definitions>", encoding="utf-8")
    with pytest.raises(ProcedureError) as err:
        Procedures.from_file(path)
    text = str(err.value)
    for expected in ("task 't' has no name", "'nowhere'", "attribute access",
                     "task '孤' has no incoming sequence flow"):
        assert expected in text, expected


def test_procedures_written_as_bpmn_read_back_to_the_same_verdicts(sample_log, tmp_path):
    import pm4py

    procs = Procedures.from_file(SAMPLE_PROCEDURES)
    raw = tomllib.loads(SAMPLE_PROCEDURES.read_text(encoding="utf-8"))
    for i, (proc, item) in enumerate(zip(procs, raw["procedure"])):
        path = proc.to_bpmn(tmp_path / f"p{i}.bpmn")
        for key in ("steps", "required_when", "optional", "any_order"):
            item.pop(key, None)
        item["bpmn"] = path.name
        # pm4py reads the same file into a Petri net with one transition per step
        net, _, _ = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(path)))
        assert sorted(t.label for t in net.transitions if t.label) == sorted(proc.steps)
    as_bpmn = Procedures.from_dict(raw, base=tmp_path)
    a, b = conformance(sample_log, procs), conformance(sample_log, as_bpmn)
    pd.testing.assert_frame_equal(a.cases[list(KINDS)], b.cases[list(KINDS)])
    assert a.n_deviating == b.n_deviating > 0


# --- the known answer: a generated office with planted departures --------------------------------

PLANTED = (
    PlantedDeviation("skip", "费用报销", "财务初审", 0.08),                      # finance check
    PlantedDeviation("skip", "合同审批", "主要领导审批", 0.5,                       # the 主要领导's
                     when=When(min_amount=500_000)),                            # sign-off
    PlantedDeviation("self_approve", "费用报销", "部门负责人审核", 0.05),          # own claims
    PlantedDeviation("self_approve", "用印", "部门负责人审核", 0.05),
    PlantedDeviation("swap", "发文", "部门核稿", 0.1, other="办公室核稿"),         # swapped steps
    PlantedDeviation("swap", "费用报销", "财务初审", 0.05, other="财务复核"),
    PlantedDeviation("outsider", "费用报销", "分管领导审批", 0.1, dept="财务部",
                     when=When(min_amount=5000)),
)


@pytest.fixture(scope="module")
def planted():
    return generate(default_office_spec(), start="2025-01-01", end="2025-06-30", seed=7,
                    rate_scale=2, deviations=PLANTED)


@pytest.fixture(scope="module")
def planted_result(planted):
    return conformance(planted.to_eventlog(), SAMPLE_PROCEDURES)


def test_every_count_by_kind_equals_the_planted_truth(planted, planted_result):
    """The completed cases: each kind's cases are exactly the generator's."""
    done = planted_result.cases[planted_result.cases["ended_at"].notna()]
    truth = planted.deviations[planted.deviations["case_id"].isin(done["case_id"])]
    procs = tomllib.loads(SAMPLE_PROCEDURES.read_text(encoding="utf-8"))["procedure"]
    forbidden = {(p["process_type"], s) for p in procs for s in p.get("not_by_applicant", [])}
    self_ok = [(t, n) in forbidden for t, n in zip(truth["process_type"], truth["node"])]
    truth = truth[(truth["kind"] != "self_approval").to_numpy() | np.array(self_ok, bool)]
    for kind in KINDS:
        found = set(done.loc[done[kind] > 0, "case_id"])
        planted_cases = set(truth.loc[truth["kind"] == kind, "case_id"])
        assert found == planted_cases, kind
    counts = {k: int((done[k] > 0).sum()) for k in KINDS}
    assert counts["skipped"] > 30 and counts["out_of_order"] > 30
    assert counts["self_approval"] > 30 and counts["authority"] > 5
    assert counts["unexpected"] == 0


def test_the_planted_log_differs_only_in_the_planted_cases(planted):
    plain = generate(default_office_spec(), start="2025-01-01", end="2025-06-30", seed=7,
                     rate_scale=2)
    touched = set(planted.deviations.loc[planted.deviations["planted"], "case_id"])
    a = planted.events[~planted.events["case_id"].isin(touched)].reset_index(drop=True)
    b = plain.events[~plain.events["case_id"].isin(touched)].reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop(columns="source_row"), b.drop(columns="source_row"))
    assert len(touched) > 100


def reference_rounds(log) -> pd.DataFrame:
    """Rounds built the plain way, with pandas: each visit's last action that is not a
    transfer or 加签, kept when it is a decision, grouped by case, object and round. A round
    is complete when its case was archived and it is the last round of its object (of the
    case, for a case without objects); an archived case without objects whose last round has
    no step has an empty complete round."""
    ev = log.to_pandas()
    ev = ev[~ev["outcome"].isin(list(NON_BLOCKING))]
    ev["object"] = ev["object"].astype(object).fillna("") if "object" in ev else ""
    last_of_object = ev.groupby(["case_id", "object"])["round"].max()
    ev = ev[~ev["pending"].astype(bool) & ~ev["outcome"].isin(["transfer", "add_approver"])]
    closing = ev.groupby(["case_id", "visit"], sort=False).tail(1)
    occ = closing[closing["outcome"].isin(list(DECISIONS))].astype({"node": object})
    cases = officemine.log.relations.cases(log).set_index("case_id")
    rounds = occ.groupby(["case_id", "object", "round"], sort=False)["node"].agg(list).reset_index()
    with_objects = set(ev.loc[ev["object"] != "", "case_id"])
    archived = cases[(cases["status"] == "archived") & ~cases.index.isin(with_objects)]
    last = pd.DataFrame({"case_id": archived.index.to_numpy(), "object": "",
                         "round": archived["rounds"].clip(lower=1).to_numpy()})
    rounds = last.merge(rounds, how="outer", on=["case_id", "object", "round"])
    rounds["node"] = [v if isinstance(v, list) else [] for v in rounds["node"]]
    final = [cases.loc[c, "rounds"] if c not in with_objects else last_of_object.loc[(c, o)]
             for c, o in zip(rounds["case_id"], rounds["object"])]
    rounds["complete"] = ((rounds["case_id"].map(cases["status"]) == "archived")
                          & (rounds["round"] == np.maximum(np.array(final, dtype=int), 1)))
    return rounds


def test_the_check_on_variants_equals_a_plain_check_of_every_round(planted, planted_result):
    """The array pipeline (occurrences, rounds, hashed variants) against one `Checker` call per
    round; every case is 2025 and follows the 2024 version of 费用报销."""
    procs = planted_result.procedures
    by_type = {p.process_type: p for p in procs if p.valid_until is not None or
               p.process_type != "费用报销"}
    cases = officemine.log.relations.cases(planted.to_eventlog()).set_index("case_id")
    kinds: dict[str, set] = {}
    checkers: dict = {}
    for row in reference_rounds(planted.to_eventlog()).itertuples():
        proc = by_type[cases.loc[row.case_id, "process_type"]]
        ctx = sum(1 << k for k, e in enumerate(proc.conditions)
                  if e.evaluate(cases.loc[[row.case_id]].reset_index())[0])
        check = checkers.setdefault((proc.name, ctx), Checker(proc.model, ctx))
        kinds.setdefault(row.case_id, set()).update(
            d.kind for d in check.explain(row.node, bool(row.complete)))
    ours = {r.case_id: {k for k in CONTROL_FLOW if getattr(r, k)}
            for r in planted_result.cases.itertuples()}
    assert {c: k for c, k in ours.items() if k} == {c: k for c, k in kinds.items() if k}
    assert planted_result.tables.variants < planted_result.tables.rounds / 10


# --- the result object --------------------------------------------------------------------------

def test_the_json_contract(hand_result):
    data = json.loads(hand_result.to_json())
    assert data["cases"] == 14 and data["deviating_cases"] == 9
    assert set(data["by_kind"]) == set(KINDS) and data["by_kind"]["skipped"] == 3
    assert data["share"] == pytest.approx(9 / 14) and data["ci"][0] < 9 / 14 < data["ci"][1]
    step = {(s["process_type"], s["step"]): s for s in data["by_step"]}
    assert step[("报销", "总经理审批")]["skipped"] == 1 and step[("报销", "总经理审批")]["unexpected"] == 1
    first = data["deviations"][0]
    assert set(first) >= {"case_id", "round", "step", "kind", "events", "process_type"}
    assert all(isinstance(e, int) for d in data["deviations"] for e in d["events"])
    assert data["not_checked"] == 1 and data["trend"][0]["completed"] == 13


def test_renamed_procedures_on_a_pseudonymised_log_find_the_same_deviations(hand, hand_result):
    """A shared report renames the log; the procedures, renamed the same way (their rosters
    too, where the log never names the person), find every deviation and name nobody."""
    from officemine.privacy import PseudonymKey, Replacer, pseudonymization

    key = PseudonymKey.from_text("0123456789abcdef-test", "file", "test")
    done = pseudonymization(hand, key)
    procs = Procedures.from_dict(PROCEDURE)
    renamed = procs.renamed(Replacer(set(done.replacer.table) | procs.people(), key,
                                     prefix=done.prefix).text)
    result = conformance(done.log, renamed)
    assert kinds_of(result) == kinds_of(hand_result)
    text = result.to_json()
    for name in ("王总", "孙八", "吴十", "李四", "不在日志中的人"):
        assert name in hand_result.to_json() and name not in text, name
    assert text.count("人员-") >= 5


def test_summary_repr_html_worst_and_plot(hand_result):
    s = hand_result.summary.set_index("kind")
    assert s.loc["any", "cases"] == 9 and s.loc["skipped", "deviations"] == 4
    assert "14 cases checked, 9 deviating" in repr(hand_result)
    assert "<table" in hand_result._repr_html_()
    worst = hand_result.worst(3)
    assert worst.iloc[0]["case_id"] == "AUTH" and worst.iloc[0]["deviations"] == 3
    axes = hand_result.plot()
    bars = [p for p in axes[0].patches]
    assert len(bars) >= 5 and axes[1].get_lines()
    assert sum(p.get_width() for p in bars) == hand_result.by_step[list(KINDS)].to_numpy().sum()


# --- 不合规率 among the KPIs ------------------------------------------------------------------------

def test_noncompliance_rate_is_a_kpi_with_its_changes(sample_log):
    k = monthly_kpis(sample_log, "2025-10", procedures=SAMPLE_PROCEDURES)
    tile = k.tile("noncompliance_rate")
    month = conformance(sample_log, SAMPLE_PROCEDURES, month="2025-10")
    assert tile.value == pytest.approx(month.share) and tile.n == month.n_cases
    assert tile.ci == pytest.approx(month.ci) and tile.cover
    september = conformance(sample_log, SAMPLE_PROCEDURES, month="2025-09")
    assert tile.mom.abs == pytest.approx(month.share - september.share)
    trend = kpi_trend(sample_log, procedures=SAMPLE_PROCEDURES).series("noncompliance_rate")
    reference = month.trend.set_index("month")["rate"]
    assert np.allclose(trend.to_numpy(), reference.reindex(trend.index).to_numpy())
    without = monthly_kpis(sample_log, "2025-10")
    assert without.tile("noncompliance_rate").value is None
    assert "noncompliance_rate" not in [t.key for t in without.tiles]


# --- the process map ----------------------------------------------------------------------------

def test_the_process_map_draws_what_no_procedure_allows(hand):
    from officemine import discover
    from officemine.log import relations

    pm = discover(hand, process_type="报销", min_frequency=1).process_map
    forward = pm.arcs[pm.arcs["kind"] == "forward"]
    nodes, arcs = outside_procedures(PROCEDURE, pm.nodes["node"],
                                     zip(forward["source"], forward["target"]),
                                     relations.node_roles(hand))
    assert nodes == {"法务审核"}
    assert {("发起", "财务初审"), ("财务初审", "部门审核"), ("部门审核", "法务审核"),
            ("法务审核", "财务初审"), ("发起", "归档")} <= arcs
    assert ("部门审核", "财务初审") not in arcs and ("财务初审", "总经理审批") not in arcs
    ax = pm.plot(outside=(nodes, arcs))
    purple = [p for p in ax.patches if matplotlib.colors.to_hex(p.get_edgecolor()) == "#ae3ec9"]
    assert len(purple) >= len(nodes) + len(arcs)
    assert any("标准流程之外" in t.get_text() for t in ax.texts)


# --- the command --------------------------------------------------------------------------------

def test_the_command_prints_the_summary_and_writes_json_and_csv(sample_csv, tmp_path):
    out = tmp_path / "c.json"
    result = runner.invoke(app, ["conformance", str(sample_csv), "--procedures",
                                 str(SAMPLE_PROCEDURES), "--json", str(out), "--csv",
                                 str(tmp_path / "d.csv"), "--chart", str(tmp_path / "c.png"),
                                 "--lang", "en"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert f"cases checked {data['cases']:,}; with a deviation {data['deviating_cases']:,}" \
        in result.output
    assert re.search(r"cases by kind: skipped \d+ · unexpected 0 · out of order \d+",
                     result.output)
    chinese = runner.invoke(app, ["conformance", str(sample_csv), "-p", str(SAMPLE_PROCEDURES)])
    assert f"检查 {data['cases']:,} 件；有偏离 {data['deviating_cases']:,} 件" in chinese.output
    table = pd.read_csv(tmp_path / "d.csv", encoding="utf-8-sig")
    assert len(table) == len(data["deviations"]) > 0
    assert (tmp_path / "c.png").stat().st_size > 10_000
    month = runner.invoke(app, ["conformance", str(sample_csv), "-p", str(SAMPLE_PROCEDURES),
                                "--month", "2025年10月", "--json", "-"])
    assert month.exit_code == 0
    assert json.loads(month.stdout)["month"] == "2025-10"


def test_the_command_lists_every_problem_of_the_file(sample_csv, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[[procedure]]\nprocess_type = "费用报销"\nsteps = ["部门负责人审核", '
                    '"财务审查"]\n[procedure.required_when]\n"财务审查" = "amount >> 5"\n',
                    encoding="utf-8")
    result = runner.invoke(app, ["conformance", str(sample_csv), "-p", str(path)])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "arithmetic" in result.output


@pytest.fixture(scope="module")
def sample_log(sample_csv):
    return officemine.import_log(sample_csv)

