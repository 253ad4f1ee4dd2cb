"""Scenarios: the TOML format, the `when` language, and validation that lists every problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import officemine
from officemine.simulation import (CapWait, FastTrack, Parallel, RecordOnly, ReduceReturns,
                                   Remove, Scenario, ScenarioError, ShortRoute, load_scenario,
                                   simulate)
from officemine.simulation._expr import ExpressionError, WhenExpr

HERE = Path(__file__).resolve().parent
SCEN = HERE / "data" / "scenarios"
REPO = HERE.parent


@pytest.fixture(scope="module")
def sample_log(sample_csv):
    return officemine.import_log(sample_csv)


@pytest.fixture(scope="module")
def tables(sample_log):
    """The log as the simulators read it (checking against it skips re-reading the log)."""
    from officemine.log.calendar import Calendar
    from officemine.simulation._log import load_tables

    return load_tables(sample_log, Calendar())


def test_issue_example_parses_into_typed_changes():
    s = Scenario.from_toml(REPO / "scenarios" / "remove_office_check.toml")
    assert s.name == "取消综合办公室审核，财务一次性告知" and s.process == ("费用报销",)
    assert s.changes == (Remove(node="综合办公室审核"),
                         ReduceReturns(node="财务初审", fraction=0.8, reason="材料不全"))
    again = Scenario.from_dict(json.loads(s.to_json()))
    assert again.changes == s.changes and again.name == s.name


def test_every_example_file_fits_the_sample_log(tables):
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        load_scenario(path).check(tables)


def test_python_objects_equal_toml():
    s = Scenario("x", [Parallel(nodes=["法务审核", "财务审核"]),
                       FastTrack(when='urgency == "紧急"', nodes=["主要领导批示"]),
                       ShortRoute(when="金额 < 5000", nodes=["部门负责人审核", "财务初审"]),
                       RecordOnly(node="综合办公室审核"), CapWait(node="分管领导审批", hours=14)])
    assert Scenario.from_dict(s.to_dict()) == s
    assert "并行会签" in s.describe() and "限时14个工作小时" in s.describe()


def test_many_problems_are_listed_in_one_error():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(SCEN / "many_problems.toml")
    text = str(info.value)
    assert "5 problem" not in text                       # more than five: one per mistake
    # each problem names its place in the file: the table it is in
    for needle in ("many_problems.toml: unknown key 'owner'",
                   "[[change]] #1: unknown kind 'delete'", "kinds: remove, record_only",
                   "[[change]] #2: (reduce_returns) fraction must be",
                   "[[change]] #3: (fast_track) nodes must list at least 1 node(s) (an empty route)",
                   "[[change]] #4: (short_route) when = 'amount + 1 < 5000' uses arithmetic",
                   "[[change]] #5: unknown key 'nod' (did you mean 'node'?",
                   "[[change]] #5: (cap_wait) needs"):
        assert needle in text, needle
    assert len(info.value.problems) == 7
    assert [p.code for p in info.value.problems].count("unknown-key") == 2


def test_problems_against_the_log_name_node_value_column_and_reason(sample_log):
    s = Scenario.from_toml(SCEN / "unknown_node.toml")
    with pytest.raises(ScenarioError) as info:
        s.check(sample_log)
    text = str(info.value)
    assert "no node '综合办公室' in the log (did you mean '综合办公室审核'?)" in text
    assert "urgency is never '急'" in text and "紧急" in text
    assert "uses 'amount'" not in text and "'金钱', which is not a case column" in text
    assert "no return at '财务复核' has reason '格式不规范'" in text and "金额或数据有误" in text
    assert len(info.value.problems) == 4


def test_simulate_checks_before_running(sample_log):
    with pytest.raises(ScenarioError, match="no node '综合办公室'"):
        simulate(sample_log, SCEN / "unknown_node.toml")


@pytest.mark.parametrize("changes, message", [
    ([FastTrack(when='urgency == "紧急"', nodes=["财务初审"])],
     "empty route: 会议申请 cases matching"),
    ([Remove(node="办公室拟办"), Remove(node="分管领导批示"), Remove(node="主要领导批示")],
     "empty route: the changes remove every approval node of 收文"),
    ([Remove(node="发起")], "node '发起' is a submit step, not a step of the chain"),
    ([Remove(node="综合办公室审核"), CapWait(node="综合办公室审核", hours=2)],
     "was already removed by change #1"),
    ([Parallel(nodes=["财务初审", "法务审核"])], "no case passes all of 财务初审, 法务审核"),
    ([Remove(node="法务审核", process="费用报销")], "not on the routes of 费用报销"),
    ([Remove(node="综合办公室审核", process="报销")], "no process type '报销'"),
    ([ShortRoute(when='amount < "5000"', nodes=["财务初审"])], "compares the number column"),
    ([ShortRoute(when='urgency > 1', nodes=["财务初审"])], "with the number 1; quote it"),
    ([ShortRoute(when="amount < 0", nodes=["财务初审"], process="费用报销")], "matches no case"),
])
def test_log_problems(tables, changes, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Scenario("bad", changes).check(tables)


@pytest.mark.parametrize("text, message", [
    ('__import__("os").system("echo hi")', "a function call"),
    ("amount.real < 5", "attribute access"),
    ("amount < 5 if True else 1", "if/else"),
    ("urgency", "on its own"),
    ("amount < other", "compares two columns"),
    ("1 < 2", "compares two literals"),
    ("amount <", "not a valid expression"),
    ("amount in 5", "needs a list"),
    ("amount is None", "operator Is"),
    ("", "is empty"),
])
def test_when_language_refuses_everything_else(text, message):
    with pytest.raises(ExpressionError, match=message):
        WhenExpr.parse(text)


@pytest.mark.parametrize("text", [
    "not " * 5000 + "amount < 5",                      # RecursionError inside ast.parse
    "not " * 60 + "amount < 5",                        # parses, nests past the bound
    " and ".join(["(amount < 5 or not (urgency == 'x'"] * 40) + "))" * 40,
    "-" * 20_000 + "5 < amount",
    "(" * 5000 + "amount < 5" + ")" * 5000,
    "amount < 5 and " * 20_000 + "amount < 5",         # longer than any real rule
])
def test_crafted_deep_or_long_expressions_are_one_scenario_error(text):
    with pytest.raises(ExpressionError):
        WhenExpr.parse(text)
    with pytest.raises(ScenarioError) as info:
        Scenario(name="crafted", changes=[ShortRoute(when=text, nodes=["财务初审"])])
    message = str(info.value)
    assert "(short_route) when = " in message and len(message) < 300     # the text is cut


def test_expressions_as_deep_as_real_rules_still_parse():
    nested = "not (" * 20 + "amount < 5" + ")" * 20
    assert WhenExpr.parse(nested).names == ("amount",)
    many = " or ".join(f'title == "{i}"' for i in range(2000))      # 32 k characters
    assert WhenExpr.parse(many).names == ("title",)


def test_when_language_evaluates_vectorised():
    import pandas as pd

    cases = pd.DataFrame({"amount": pd.array([100.0, 6000.0, None], dtype="Float64"),
                          "urgency": pd.array(["紧急", "普通", "紧急"], dtype="string"),
                          "process_type": pd.array(["a", "b", "a"], dtype="string")})
    ev = lambda t: WhenExpr.parse(t).evaluate(cases).tolist()  # noqa: E731
    assert ev("amount < 5000") == [True, False, False]          # missing -> false
    assert ev('紧急程度 == "紧急" and not 金额 >= 5000') == [True, False, True]
    assert ev('100 <= amount < 7000') == [True, True, False]
    assert ev('process_type in ["b"] or urgency != "普通"') == [True, True, True]
    assert ev('process_type not in ("a",)') == [False, True, False]
    assert ev("-1 < amount") == [True, True, False]


def test_json_schema_lists_every_kind():
    schema = Scenario.json_schema()
    kinds = {v["properties"]["kind"]["const"] for v in schema["properties"]["change"]["items"]["oneOf"]}
    assert kinds == {"remove", "record_only", "parallel", "fast_track", "short_route",
                     "reduce_returns", "cap_wait"}
    json.dumps(schema)


def test_unreadable_files_are_scenario_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        Scenario.from_toml(bad)
    with pytest.raises(ScenarioError, match="cannot read"):
        Scenario.from_toml(tmp_path / "missing.toml")
    assert isinstance(ScenarioError(["x"]), officemine.OfficemineError)
