"""Process versions: change points found within a week of the truth, none where nothing
changed, and analyses that judge the current version."""

from __future__ import annotations

import datetime as dt

import matplotlib
import pandas as pd
import pytest

import officemine
from conftest import chain_log
from officemine.log import relations
from officemine.review.config import Redesign as SettingsRedesign
from officemine.synthetic import Redesign, default_office_spec, generate
from officemine.versions import ProcessVersions, process_versions, select_since

matplotlib.use("Agg")


@pytest.mark.parametrize("seed, effective", [(11, "2025-05-12"), (12, "2025-06-03")])
def test_a_removed_node_is_found_within_a_week_of_the_redesign(seed, effective):
    redesign = Redesign("费用报销", remove_nodes=("财务复核",), effective=effective)
    log = generate(default_office_spec(), start="2025-03-01", end="2025-08-31", seed=seed,
                   redesigns=[redesign]).to_eventlog()
    versions = process_versions(log)
    removed = versions.removed()
    assert removed[["process_type", "node"]].values.tolist() == [["费用报销", "财务复核"]]
    found = removed["date"].iloc[0].tz_localize(None)
    truth = pd.Timestamp(effective)
    assert abs(found - truth) <= pd.Timedelta(days=7), (found, truth)
    assert versions.since["费用报销"] == removed["date"].iloc[0]
    assert versions.removed_on("财务复核") == removed["date"].iloc[0]
    # the evidence is on the row: the share it had, and how many ended cases went without it
    row = versions.changes.iloc[0]
    assert row["share_before"] > 0.5 and row["cases_after"] >= 10


def test_no_change_point_where_nothing_changed():
    log = generate(default_office_spec(), start="2025-03-01", end="2025-08-31",
                   seed=13).to_eventlog()
    versions = process_versions(log)
    assert versions.changes.empty and versions.since == {}
    same, _ = select_since(log, "current")
    assert same.n_cases == log.n_cases


def test_a_redesign_date_without_a_visible_change_is_noted(sample_csv):
    log = officemine.import_log(sample_csv)
    quiet = SettingsRedesign(dt.date(2025, 3, 3), "收文改革", "收文")
    versions = process_versions(log, [quiet])
    assert any("收文改革" in note and "no change of nodes is visible" in note
               for note in versions.notes)
    assert versions.since["收文"] == pd.Timestamp("2025-03-03", tz=log.timezone)
    assert "收文" in " ".join(versions.describe("zh"))


def test_versions_render_and_serialise(sample_csv, tmp_path):
    log = officemine.import_log(sample_csv)
    versions = process_versions(log)
    assert isinstance(versions, ProcessVersions)
    assert "node_removed" in repr(versions) and "综合办公室审核" in versions._repr_html_()
    data = versions.to_dict()
    assert data["changes"][0]["node"] == "综合办公室审核"
    assert data["since"]["费用报销"].startswith("2025-07-01")
    ax = versions.plot()
    ax.figure.savefig(tmp_path / "versions.png")
    assert (tmp_path / "versions.png").stat().st_size > 5_000


def test_a_window_judged_by_longer_versions_counts_its_own_cases(sample_csv):
    """The review finds the versions on every case started by the month's end and judges a
    six-month window with them: the cases judged are the window's current ones, never more
    than the window holds (it once counted the longer log's)."""
    log = officemine.import_log(sample_csv)
    versions = process_versions(log)
    window = log.select_cases("2025-05-01", "2025-11-01", by="end")
    judged = officemine.necessity(window, since=versions).log_info["judged"]
    assert judged["of_cases"] == window.n_cases
    assert judged["cases"] == window.select_versions(versions.since).n_cases < window.n_cases


def test_current_version_keeps_other_types_whole(sample_csv):
    log = officemine.import_log(sample_csv)
    current, versions = select_since(log, "current")
    cases = relations.cases(current)
    fee = cases[cases["process_type"] == "费用报销"]
    assert (fee["start_at"] >= versions.since["费用报销"]).all() and len(fee) > 100
    others = relations.cases(log)
    others = others[others["process_type"] != "费用报销"]
    assert set(others["case_id"]) <= set(cases["case_id"])
    with pytest.raises(officemine.OfficemineError, match="after the end of the log"):
        select_since(log, "2031-01-01")


def _reordered_log(n_cases: int = 120, swap_at: int = 70):
    """Cases submitted one a day; 科长审核 before 处长审核 until case `swap_at`, after it from
    then on (a redesign that swapped the two steps)."""
    rows = []
    day0 = pd.Timestamp("2025-01-06 09:00", tz="Asia/Shanghai")
    for i in range(n_cases):
        t = day0 + pd.Timedelta(days=i)
        chain = ["科长审核", "处长审核"] if i < swap_at else ["处长审核", "科长审核"]
        steps = [("发起", "submit")] + [(node, "approve") for node in chain] + [("归档", "archive")]
        for k, (node, outcome) in enumerate(steps):
            rows.append((f"C{i:04d}", k, node, outcome, t + pd.Timedelta(hours=k)))
    frame = pd.DataFrame(rows, columns=["case_id", "seq", "node", "outcome", "acted_at"])
    return chain_log(frame), day0 + pd.Timedelta(days=swap_at)


def test_two_steps_that_swap_places_are_a_route_change():
    log, swapped = _reordered_log()
    changes = process_versions(log).changes
    route = changes[changes["kind"] == "route_changed"]
    assert len(route) == 1
    assert route["node"].iloc[0] == "科长审核 ⇄ 处长审核"
    assert abs(route["date"].iloc[0] - swapped) <= pd.Timedelta(days=7)
    # no swap, no change point
    steady, _ = _reordered_log(swap_at=10_000)
    assert process_versions(steady).changes.empty


@pytest.mark.parametrize("which", ["redesign", "route"])
def test_versions_in_batches_are_the_in_memory_versions(which, tmp_path):
    """A stored log read in batches of whole cases (a few hundred events each, so a process
    type's cases and a step's first naming fall in many batches): the same change points,
    the same evidence, the same current versions."""
    if which == "route":
        log, _ = _reordered_log()
    else:
        redesign = Redesign("费用报销", remove_nodes=("财务复核",), effective="2025-05-12")
        log = generate(default_office_spec(), start="2025-03-01", end="2025-08-31", seed=11,
                       redesigns=[redesign]).to_eventlog()
    log.write(tmp_path / "log.parquet")
    stored = officemine.read_log(tmp_path / "log.parquet")
    one = process_versions(stored)
    batched = process_versions(stored, batch_rows=300)
    assert not one.changes.empty
    pd.testing.assert_frame_equal(batched.changes, one.changes)
    assert batched.to_json() == one.to_json() and batched.since == one.since
    assert batched.judged_cases() == one.judged_cases() < stored.n_cases


def test_the_route_tests_chi_square_tail_is_scipys():
    from scipy.stats import chi2

    from officemine.versions import chi2_1_sf

    for x in (0.0, 1e-6, 0.5, 3.84, 10.0, 30.0, 60.0, 200.0):
        assert chi2_1_sf(x) == pytest.approx(chi2.sf(x, 1), rel=1e-9, abs=1e-300)


def _cases_of(log) -> list[str]:
    return sorted(log.query("SELECT DISTINCT case_id FROM events")["case_id"])


def test_a_stored_log_chooses_the_current_cases_row_by_row_only_when_that_is_exact(
        sample_csv, tmp_path):
    """A log stored with one process type on every event of a case chooses whole cases by
    type without a join; where a case's later events carry another type, the case's type is
    its first event's and the join stays. Both give the cases the log in memory gives."""
    log = officemine.import_log(sample_csv)
    versions = process_versions(log)
    assert versions.since                         # the sample has a change point
    stored = officemine.read_log(log.write(tmp_path / "log.parquet"))
    assert stored._one_type_per_case
    chosen = stored.select_versions(versions.since)
    assert "IN (SELECT" not in chosen._where and chosen._one_type_per_case
    expected = _cases_of(log.select_versions(versions.since))
    assert _cases_of(chosen) == expected
    # a case of the changed type whose later events say another type: the row-by-row
    # choice would keep those events alone (a torn case)
    table = log.to_arrow()
    frame = table.to_pandas()
    since = versions.since["费用报销"]
    old = frame[(frame["process_type"] == "费用报销") & (frame["case_start"] < since)]
    torn = old["case_id"].iloc[0]
    later = (frame["case_id"] == torn) & (frame["seq"] > 0)
    assert later.any()
    frame.loc[later, "process_type"] = "收文"
    mixed = officemine.EventLog.from_pandas(frame, timezone=log.timezone)
    assert not mixed._one_type_per_case
    stored = officemine.read_log(mixed.write(tmp_path / "mixed.parquet"))
    assert not stored._one_type_per_case
    chosen = stored.select_versions(versions.since)
    assert torn not in _cases_of(chosen)
    assert _cases_of(chosen) == _cases_of(mixed.select_versions(versions.since)) == expected


def test_the_streamed_import_stores_whether_a_case_keeps_one_type(sample_csv, tmp_path):
    from officemine.importing.streaming import import_streaming

    log = import_streaming(sample_csv, tmp_path / "streamed.parquet", memory_limit="1GB")
    assert officemine.read_log(tmp_path / "streamed.parquet")._one_type_per_case
    assert log.n_events == officemine.import_log(sample_csv).n_events
