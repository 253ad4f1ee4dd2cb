"""The necessity test on the real BPI Challenge 2020 Domestic Declarations log (roles as nodes).

Counts are checked against SOURCES.md; waits against an independent computation done here
with pm4py's own XES reader and plain pandas (no officemine code on that path)."""

import numpy as np
import pandas as pd
import pm4py
import pytest

import officemine
from conftest import REPO

# approved / rejected per role, from ../shared/data/real/SOURCES.md (Domestic row)
DOMESTIC = {"ADMINISTRATION": (8202, 952), "PRE_APPROVER": (685, 86),
            "BUDGET OWNER": (2820, 59), "SUPERVISOR": (10131, 293)}


@pytest.fixture(scope="module")
def domestic(real_data):
    path = real_data / "DomesticDeclarations.xes.gz"
    log = officemine.import_log(path, mapping=REPO / "mappings" / "bpic2020.toml")
    return path, log, officemine.necessity(log, since="all")     # counts of the whole log


def test_per_role_counts_match_sources_md(domestic):
    _, _, result = domestic
    s = result.summary.set_index("node")
    for role, (approved, rejected) in DOMESTIC.items():
        assert s.loc[role, "approvals"] == approved, role
        assert s.loc[role, "rejections"] == rejected, role
        assert s.loc[role, "items"] == approved + rejected
        assert s.loc[role, "wait_source"] == "inferred"     # BPIC records no arrival times
    assert result.log_info["cases"] == 10_500 and result.log_info["events"] == 56_437


def independent_waits(path) -> pd.DataFrame:
    """Clock-hour waits per decision, computed from the raw XES with pandas only.

    Same definition as officemine: an event's wait starts at the previous event in the case
    before the run of consecutive events at the same role (the visit) began."""
    df = pm4py.read_xes(str(path), return_legacy_log_object=False)
    df = df.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    label = df["concept:name"]
    role = label.str.extract(r" by (.+)$")[0].fillna(label)
    verb = label.str.extract(r" (APPROVED|FINAL_APPROVED|REJECTED) by ")[0]
    case = df["case:concept:name"]
    new_case = case.ne(case.shift())
    new_run = new_case | role.ne(role.shift())
    prev_time = df["time:timestamp"].shift().where(~new_case)
    run_start = prev_time.where(new_run).groupby(new_run.cumsum()).transform("first")
    wait = (df["time:timestamp"] - run_start).dt.total_seconds() / 3600
    decisions = verb.notna() & ~((verb == "REJECTED") & (role == "EMPLOYEE"))
    return pd.DataFrame({"role": role[decisions], "wait": wait[decisions]})


def p90(x: np.ndarray) -> float:
    """The 90th percentile as a survival curve defines it (midpoint where S = 0.1 exactly)."""
    x, k = np.sort(x), 0.9 * len(x)
    return (x[int(k) - 1] + x[int(k)]) / 2 if k == int(k) else x[int(np.ceil(k)) - 1]


def test_waits_agree_with_an_independent_computation(domestic):
    path, _, result = domestic
    ref = independent_waits(path)
    s = result.summary.set_index("node")
    for role in DOMESTIC:
        waits = ref.loc[ref.role == role, "wait"]
        assert len(waits) == s.loc[role, "items"]
        assert s.loc[role, "wait_hours_median"] == pytest.approx(waits.median(), abs=1e-6)
        assert s.loc[role, "wait_hours_p90"] == pytest.approx(p90(waits.to_numpy()), abs=1e-6)
        assert s.loc[role, "wait_hours_mean"] == pytest.approx(waits.mean(), rel=1e-9)


def test_budget_owner_and_supervisor_rarely_reject(domestic):
    _, _, result = domestic
    s = result.summary.set_index("node")
    # SOURCES.md: 2.0% and 2.8%; the Wilson intervals must contain them and exclude 10%
    for role in ("BUDGET OWNER", "SUPERVISOR"):
        approved, rejected = DOMESTIC[role]
        rate = rejected / (approved + rejected)
        assert s.loc[role, "rejection_rate"] == pytest.approx(rate)
        assert s.loc[role, "rejection_rate_ci_low"] < rate < s.loc[role, "rejection_rate_ci_high"]
        assert s.loc[role, "rejection_rate_ci_high"] < 0.05
    assert s.loc["ADMINISTRATION", "verdict"] == "keep"      # 10.4% of items stopped


def test_missing_is_not_a_decision_node(domestic):
    from officemine.log.relations import node_kinds

    _, log, result = domestic
    kinds = node_kinds(log).set_index("node")
    assert kinds.loc["MISSING", "kind"] == "unknown"
    assert kinds.loc["MISSING", "returns"] > 0 and kinds.loc["MISSING", "approvals"] == 0
    assert "MISSING" not in set(result.summary["node"])
    assert result.not_approval_nodes["MISSING"] == "unknown"
