"""The known-truth log written in every shape offices export: each imports cleanly, and the
shapes that split a case into attempts map every instance back to its true case."""

from __future__ import annotations

import json
import os
import re

import pandas as pd
import pytest

from officemine.importing import detect_format
from officemine.log.schema import C
from officemine.synthetic import (LINK_SHAPES, REFUSAL_WORDS, SHAPES, SPLIT_SHAPES, SpecError,
                                  default_office_spec, export, generate, to_chinese_csv, to_xes)

FILE_NAMES = {"csv": "export.csv", "csv_reject_resubmit": "reject_resubmit.csv",
              "csv_attempts": "attempts.csv", "xes": "log.xes", "xes_attempts": "attempts.xes.gz",
              "weaver": "weaver_export", "dingtalk": "dingtalk.jsonl",
              "feishu": "feishu.jsonl", "wecom": "wecom.jsonl"}
#: the outcome a truth return has in each split shape (Weaver has no refusal code: 退回)
REFUSAL = {"csv_attempts": "reject", "xes_attempts": "reject", "weaver": "return",
           "dingtalk": "reject", "feishu": "reject", "wecom": "reject"}
#: the time precision each shape keeps (the Chinese CSV writes minutes, DingTalk 1.0 too)
PRECISION = {"csv": "min", "csv_reject_resubmit": "min", "csv_attempts": "min", "xes": "ms",
             "xes_attempts": "ms", "weaver": "s", "dingtalk": "min", "feishu": "ms", "wecom": "s"}


@pytest.fixture(scope="module")
def log():
    """Two months of the default office: returns, rejections, a withdrawal, transfers, 加签
    and items pending at the end."""
    return generate(default_office_spec(), start="2025-03-01", end="2025-04-30", seed=3)


@pytest.fixture(scope="module")
def written(log, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    return {shape: export(log, shape, folder / FILE_NAMES[shape]) for shape in SHAPES}


@pytest.fixture(scope="module")
def imported(written):
    """Each export as the source wrote it: every instance its own case (not linked)."""
    return {shape: out.import_log(link=False) for shape, out in written.items()}


@pytest.fixture(scope="module")
def truth(log):
    """The truth's events with each row's attempt (submission round), derived here on its own."""
    e = log.events.sort_values([C.case_id, C.seq]).reset_index(drop=True)
    starts = e[C.outcome].isin(["submit", "resubmit"]).fillna(False).astype(int)
    return e.assign(attempt=starts.groupby(e[C.case_id]).cumsum())


def test_the_log_has_what_the_shapes_must_carry(log):
    counts = log.events[C.outcome].value_counts()
    for outcome in ("return", "resubmit", "reject", "withdraw", "transfer", "add_approver", "cc",
                    "remind"):
        assert counts.get(outcome, 0) > 0, outcome
    assert log.events[C.pending].sum() > 10


# --- every shape -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_imports_balanced_with_nothing_set_aside(shape, written, imported):
    out, report = written[shape], imported[shape].report
    assert detect_format(out.path) == out.format        # format="auto" finds the reader
    assert report.balanced and report.rows_read == report.rows_accepted
    assert report.rows_set_aside == 0, report.set_aside_by_reason
    assert report.unknown_outcome_words == {}


@pytest.mark.parametrize("shape", SHAPES)
def test_instance_to_case_covers_exactly_the_ids_the_importer_sees(shape, written, imported,
                                                                  truth):
    table = written[shape].instance_to_case
    seen = set(imported[shape].to_pandas()[C.case_id])
    assert table["instance_id"].is_unique
    assert set(table["instance_id"]) == seen
    assert set(table["case_id"]) == set(truth[C.case_id])
    if shape in SPLIT_SHAPES:
        rounds = truth.groupby(C.case_id)["attempt"].max()
        per_case = table.groupby("case_id")["attempt"].agg(["count", "min", "max"])
        assert (per_case["count"] == rounds.reindex(per_case.index)).all()
        assert (per_case["min"] == 1).all() and (per_case["max"] == per_case["count"]).all()
        assert imported[shape].report.cases == len(table) == int(
            truth[C.outcome].isin(["submit", "resubmit"]).sum())
    else:
        assert (table["instance_id"] == table["case_id"]).all()
        assert table["attempt"].isna().all()


@pytest.mark.parametrize("shape", sorted(SPLIT_SHAPES))
def test_ids_reveal_nothing_of_their_case(shape, written, log, tmp_path):
    table = written[shape].instance_to_case
    for instance, case in zip(table["instance_id"], table["case_id"]):
        digits = re.sub(r"\D", "", case)
        assert case not in instance and digits not in instance and digits[-6:] not in instance
    pattern = {"csv_attempts": r"[1-9]\d{11}", "xes_attempts": r"[1-9]\d{11}",
               "weaver": r"[1-9]\d{6}",
               "dingtalk": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
               "feishu": r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}",
               "wecom": r"20250[34]\d{6}"}[shape]
    assert table["instance_id"].str.fullmatch(pattern).all()
    # the attempts of one case share nothing visible: no common prefix beyond chance (WeCom's
    # sp_no starts with the submission date, which is no secret)
    pairs = [(a, b) for _, g in table.sort_values("attempt").groupby("case_id")
             for a, b in zip(g["instance_id"], g["instance_id"].iloc[1:])]
    assert len(pairs) > 40
    skip = 8 if shape == "wecom" else 0
    for a, b in pairs:
        assert len(os.path.commonprefix([a[skip:], b[skip:]])) < 4, (a, b)
    # another seed gives other ids for the same cases
    other = export(log, shape, tmp_path / FILE_NAMES[shape], seed=99).instance_to_case
    assert not set(other["instance_id"]) & set(table["instance_id"])


def test_serial_numbers_reveal_nothing_either(imported, written):
    for shape in ("dingtalk", "feishu"):
        events = imported[shape].to_pandas()
        case_of = written[shape].instance_to_case.set_index("instance_id")["case_id"]
        for serial, case in zip(events["serial_number"], case_of[events[C.case_id]]):
            assert re.sub(r"\D", "", case) not in serial


def test_the_same_seed_writes_the_same_bytes(log, written, tmp_path):
    for shape in ("dingtalk", "weaver", "csv_attempts"):
        again = export(log, shape, tmp_path / FILE_NAMES[shape])
        first = written[shape].path
        if first.is_dir():
            for part in first.iterdir():
                assert (again.path / part.name).read_bytes() == part.read_bytes(), part.name
        else:
            assert again.path.read_bytes() == first.read_bytes()


# --- shapes that keep one case per id --------------------------------------------------------

def test_csv_and_xes_shapes_are_the_existing_writers(log, written, tmp_path):
    assert written["csv"].path.read_bytes() == to_chinese_csv(
        log.events, tmp_path / "a.csv").read_bytes()
    assert written["xes"].path.read_bytes() == to_xes(log.events, tmp_path / "a.xes").read_bytes()


def test_unsplit_shapes_give_the_canonical_csvs_nodes_outcomes_and_cases(imported):
    csv = imported["csv"].to_pandas()
    acted = csv[~csv[C.pending]]
    for shape in ("csv_reject_resubmit", "xes"):
        other = imported[shape].to_pandas()
        base = csv if shape == "csv_reject_resubmit" else acted   # XES has no pending items
        assert imported[shape].report.cases == imported["csv"].report.cases
        assert set(other[C.case_id]) == set(csv[C.case_id])
        pd.testing.assert_series_equal(other[C.node].value_counts().sort_index(),
                                       base[C.node].value_counts().sort_index())
        expected = base[C.outcome].value_counts()
        if shape == "csv_reject_resubmit":
            # returns are written as rejections; the importer takes back as returns those a
            # resubmission follows (the others, withdrawn or still with the applicant, it
            # cannot tell from a final rejection)
            submitted = base[C.outcome].isin(["submit", "resubmit"])
            later = submitted[::-1].groupby(base[C.case_id][::-1]).cummax()[::-1]
            after = later.groupby(base[C.case_id]).shift(-1, fill_value=False)
            answered = int(((base[C.outcome] == "return") & after).sum())
            expected["reject"] += expected["return"] - answered
            expected["return"] = answered
            assert imported[shape].report.rejections_as_returns == answered > 0
        pd.testing.assert_series_equal(other[C.outcome].value_counts().sort_index(),
                                       expected.sort_index(), check_names=False)
        keys = [C.case_id, C.seq, C.node, C.resource, C.comment]
        pd.testing.assert_frame_equal(other[keys].reset_index(drop=True),
                                      base[keys].reset_index(drop=True))


def test_reject_resubmit_writes_every_refusal_with_a_rejection_word(written, truth):
    table = pd.read_csv(written["csv_reject_resubmit"].path, encoding="gbk", dtype=str,
                        keep_default_na=False)
    words = table["操作类型"]
    refused = truth[C.outcome].isin(["return", "reject"]).fillna(False).to_numpy()
    assert words[refused].isin(REFUSAL_WORDS).all()
    assert set(words[refused]) == set(REFUSAL_WORDS)      # both words occur
    assert not words[~refused].isin(REFUSAL_WORDS).any()
    after_return = truth.groupby(C.case_id)[C.outcome].shift(-1)[truth[C.outcome] == "return"]
    assert set(after_return.dropna()) == {"resubmit", "withdraw"}   # or still open
    resubmitted = (truth[C.outcome] == "resubmit").fillna(False).to_numpy()
    assert (words[resubmitted] == "重新提交").all()
    assert (words[(truth[C.outcome] == "withdraw").fillna(False).to_numpy()] == "撤回").all()


# --- shapes that split a case into attempts --------------------------------------------------

def _instance_of(truth: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    key = table.set_index(["case_id", "attempt"])["instance_id"]
    return pd.Series(key.reindex(pd.MultiIndex.from_frame(truth[[C.case_id, "attempt"]]))
                     .to_numpy(), index=truth.index)


@pytest.mark.parametrize("shape", sorted(SPLIT_SHAPES))
def test_attempts_keep_the_same_people_times_and_comments(shape, written, imported, truth, log):
    """Every decision of the truth is in its attempt's instance: same node (but WeCom, which
    names no steps), person, action time and comment; a return is the source's refusal."""
    got = imported[shape].to_pandas()
    want = truth.assign(**{C.case_id: _instance_of(truth, written[shape].instance_to_case)})
    want = want[want[C.outcome].isin(["approve", "reject", "return", "transfer"]).fillna(False)]
    # a return is the source's refusal; Weaver writes a rejection as 退回 too
    want = want.assign(**{C.outcome: want[C.outcome].replace(
        {"return": REFUSAL[shape], "reject": REFUSAL[shape]})})
    if shape == "weaver":        # an added person (加签) answers with 意见征询回复: a comment
        added = log.visits.dropna(subset=["added_approver"])
        answers = set(zip(added[C.case_id], added[C.node], added["added_approver"]))
        keep = [(c, n, r) not in answers or o != "approve" for c, n, r, o in zip(
            truth.loc[want.index, C.case_id], want[C.node], want[C.resource], want[C.outcome])]
        assert (got[C.outcome] == "comment").sum() == keep.count(False) > 10
        want = want[keep]
    got = got[got[C.outcome].isin(["approve", "reject", "return", "transfer"])]
    keys = [C.case_id, C.outcome, C.resource, C.acted_at, C.comment] + (
        [] if shape == "wecom" else [C.node])

    def rows(df):
        df = df[keys].assign(**{C.acted_at: df[C.acted_at].dt.floor(PRECISION[shape]),
                                C.comment: df[C.comment].fillna("")})
        return df.astype(str).sort_values(keys).reset_index(drop=True)

    pd.testing.assert_frame_equal(rows(got), rows(want))


@pytest.mark.parametrize("shape", sorted(SPLIT_SHAPES))
def test_a_refused_attempt_ends_in_a_refusal_and_the_next_starts_with_a_submission(
        shape, written, imported, truth):
    events = imported[shape].to_pandas()
    table = written[shape].instance_to_case
    case_of = table.set_index("instance_id")
    events = events.assign(case=case_of.loc[events[C.case_id], "case_id"].to_numpy(),
                           attempt=case_of.loc[events[C.case_id], "attempt"].to_numpy())
    decisions = events[events[C.outcome].isin(["approve", "reject", "return"])]
    last = decisions.groupby(C.case_id).last()
    first = events.groupby(C.case_id).first()
    returns = truth[truth[C.outcome] == "return"]
    resubmits = truth[truth[C.outcome] == "resubmit"].set_index([C.case_id, "attempt"])
    checked = 0
    for row in returns.itertuples():
        instance = table.loc[(table["case_id"] == row.case_id)
                             & (table["attempt"] == row.attempt), "instance_id"].item()
        end = last.loc[instance]
        assert end[C.outcome] == REFUSAL[shape]
        assert (end[C.resource], end[C.acted_at].floor("min")) == (row.resource,
                                                                   row.acted_at.floor("min"))
        if shape != "wecom":
            assert end[C.node] == row.node
        after = events[(events["case"] == row.case_id) & (events["attempt"] == row.attempt)]
        assert not after[C.outcome].isin(["withdraw", "resubmit"]).any()
        if (row.case_id, row.attempt + 1) in resubmits.index:
            nxt = table.loc[(table["case_id"] == row.case_id)
                            & (table["attempt"] == row.attempt + 1), "instance_id"].item()
            start = first.loc[nxt]
            truth_resubmit = resubmits.loc[(row.case_id, row.attempt + 1)]
            assert start[C.outcome] == "submit" and start[C.resource] == row.applicant
            assert start[C.acted_at].floor("min") == truth_resubmit[C.acted_at].floor("min")
            checked += 1
    assert checked > 40
    # a case the truth withdrew after its last return ends in that refusal: no withdrawal
    assert "withdraw" not in set(events[C.outcome])


@pytest.mark.parametrize("shape", ["csv_attempts", "weaver", "dingtalk", "feishu"])
def test_items_pending_at_the_end_stay_pending_in_their_attempt(shape, written, imported,
                                                                truth):
    got = imported[shape].to_pandas()
    got = got[got[C.pending]]
    want = truth[truth[C.pending]]
    want = want.assign(**{C.case_id: _instance_of(truth, written[shape].instance_to_case)})
    keys = [C.case_id, C.node, C.resource]
    assert len(want) > 10
    pd.testing.assert_frame_equal(
        got[keys].astype(str).sort_values(keys).reset_index(drop=True),
        want[keys].astype(str).sort_values(keys).reset_index(drop=True))


def _answers(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


#: per API: the instance inside the answer, its id, what must repeat across attempts, its start
#: time as the truth's time, and how the source says "refused"
API = {
    "dingtalk": dict(
        inner=lambda a: a["result"], id=lambda a: a["processInstanceId"],
        same=lambda a: (a["processCode"], a["result"]["originatorUserId"],
                        a["result"]["title"], json.dumps(a["result"]["formComponentValues"])),
        start=lambda a: pd.Timestamp(a["result"]["createTime"]).tz_convert("Asia/Shanghai"),
        refused=lambda a: (a["result"]["status"], a["result"].get("result")),
        refusal=("COMPLETED", "refuse"), unit="min"),
    "feishu": dict(
        inner=lambda a: a["data"], id=lambda a: a["data"]["instance_code"],
        same=lambda a: (a["data"]["approval_code"], a["data"]["approval_name"],
                        a["data"]["user_id"], a["data"]["form"]),
        start=lambda a: pd.Timestamp(int(a["data"]["start_time"]), unit="ms", tz="UTC")
        .tz_convert("Asia/Shanghai"),
        refused=lambda a: a["data"]["status"], refusal="REJECTED", unit="s"),
    "wecom": dict(
        inner=lambda a: a["info"], id=lambda a: a["info"]["sp_no"],
        same=lambda a: (a["info"]["template_id"], a["info"]["sp_name"], a["info"]["applyer"],
                        json.dumps(a["info"]["apply_data"])),
        start=lambda a: pd.Timestamp(a["info"]["apply_time"], unit="s", tz="UTC")
        .tz_convert("Asia/Shanghai"),
        refused=lambda a: a["info"]["sp_status"], refusal=3, unit="s"),
}


@pytest.mark.parametrize("shape", sorted(API))
def test_a_new_attempt_repeats_originator_process_and_form_and_starts_at_the_resubmission(
        shape, written, truth):
    api = API[shape]
    answers = {api["id"](a): a for a in _answers(written[shape].path)}
    table = written[shape].instance_to_case
    submits = truth[truth[C.outcome].isin(["submit", "resubmit"])].set_index(
        [C.case_id, "attempt"])[C.acted_at]
    multi = 0
    for case, group in table.groupby("case_id"):
        group = group.sort_values("attempt")
        ours = [answers[i] for i in group["instance_id"]]
        assert len({repr(api["same"](a)) for a in ours}) == 1, case
        for attempt, answer in zip(group["attempt"], ours):
            assert api["start"](answer) == submits[(case, attempt)].floor(api["unit"])
        # every attempt but the last was refused, in the source's own words
        for answer in ours[:-1]:
            assert api["refused"](answer) == api["refusal"]
        multi += len(group) > 1
    assert multi > 40
    assert not any("modified_instance_code" in api["inner"](a) for a in answers.values())


def test_weaver_writes_each_requests_amount_in_its_processs_form_table(written, imported, log):
    folder = written["weaver"].path
    base = pd.read_csv(folder / "workflow_base.csv", dtype=str, encoding="utf-8-sig")
    # one form table per process type, named by workflow_base.FORMID as e-cology names them
    assert sorted(p.name for p in folder.glob("formtable_main_*.csv")) == sorted(
        f"formtable_main_{-int(f)}.csv" for f in base["FORMID"])
    form_of = dict(zip(base["WORKFLOWNAME"], base["FORMID"].astype(int).abs()))
    expense = pd.read_csv(folder / f"formtable_main_{form_of['费用报销']}.csv", dtype=str,
                          encoding="utf-8-sig")
    assert list(expense.columns) == ["id", "requestId", "sqr", "sqrq", "bxje"]
    assert "htje" in pd.read_csv(folder / f"formtable_main_{form_of['合同审批']}.csv",
                                 nrows=0, encoding="utf-8-sig").columns
    # every instance (attempt) carries its true case's amount
    events = imported["weaver"].to_pandas().drop_duplicates(C.case_id)
    ours = events.set_index(C.case_id)[C.amount]
    true = log.events.drop_duplicates(C.case_id).set_index(C.case_id)[C.amount]
    table = written["weaver"].instance_to_case.set_index("instance_id")["case_id"]
    expected = table.reindex(ours.index).map(true).astype("Float64").round(2)
    assert ours.notna().sum() > 100
    pd.testing.assert_series_equal(ours, expected, check_names=False, check_index_type=False)
    assert imported["weaver"].report.columns_used[C.amount].startswith("formtable_main_")


def test_feishu_can_write_its_link_to_the_earlier_instance(log, written, tmp_path):
    out = export(log, "feishu", tmp_path / "linked.jsonl", link_field=True)
    assert out.instance_to_case.equals(written["feishu"].instance_to_case)
    data = {a["data"]["instance_code"]: a["data"] for a in _answers(out.path)}
    table = out.instance_to_case.sort_values(["case_id", "attempt"])
    linked = 0
    for _, group in table.groupby("case_id"):
        ids = group["instance_id"].tolist()
        assert "modified_instance_code" not in data[ids[0]]
        for earlier, later in zip(ids, ids[1:]):
            assert data[later]["modified_instance_code"] == earlier
            linked += 1
    assert linked == len(table) - table["case_id"].nunique() > 40
    assert out.import_log().report.rows_set_aside == 0


@pytest.mark.parametrize("shape", sorted(set(SHAPES) - LINK_SHAPES))
def test_link_field_is_refused_where_the_source_records_no_link(shape, log, tmp_path):
    with pytest.raises(SpecError, match="only feishu"):
        export(log, shape, tmp_path / FILE_NAMES[shape], link_field=True)


def test_an_unknown_shape_is_refused_with_the_choices(log, tmp_path):
    with pytest.raises(SpecError) as err:
        export(log, "excel", tmp_path / "x.xlsx")
    assert all(shape in str(err.value) for shape in SHAPES)


def test_a_bare_events_frame_exports_too(log, tmp_path):
    out = export(log.events, "csv_attempts", tmp_path / "a.csv", seed=log.seed)
    same = export(log, "csv_attempts", tmp_path / "b.csv")
    assert out.path.read_bytes() == same.path.read_bytes()
    with pytest.raises(SpecError, match="missing column"):
        export(log.events.drop(columns=[C.node]), "csv", tmp_path / "c.csv")
