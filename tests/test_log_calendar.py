"""A log carries its calendar: set by the mapping's [calendar] at import, in the log's zone,
stored with the log, used by every analysis unless another is given, checked against the
actions' times at import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import officemine
from officemine import Calendar, LogFormatError, MappingError
from officemine.cli import app
from officemine.log.eventlog import EventLog
from officemine.log.relations import work_items

from conftest import REPO
from cn_export import CN_HEADER, CN_ROWS, write_csv

NL_MAPPING = '''
timezone = "Europe/Amsterdam"
[calendar]
region = "nl"
hours = [["08:30", "17:30"]]
days_off = ["2025-03-07"]
name = "TU/e"
'''


@pytest.fixture
def source(tmp_path) -> Path:
    return write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS, "gbk")


def mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- set at import ---------------------------------------------------------------------------

def test_the_mappings_calendar_is_the_logs_in_the_logs_zone(tmp_path, source):
    log = officemine.import_log(source, mapping=mapping(tmp_path, NL_MAPPING))
    cal = log.calendar
    assert (cal.region, cal.tz, cal.hours, cal.name) == (
        "NL", "Europe/Amsterdam", (("08:30", "17:30"),), "TU/e")
    assert [d.isoformat() for d in cal.days_off] == ["2025-03-07"]
    # --timezone at import moves the calendar with the log
    moved = officemine.import_log(source, mapping=mapping(tmp_path, NL_MAPPING), timezone="UTC")
    assert moved.timezone == moved.calendar.tz == "UTC" and moved.calendar.region == "NL"
    # without [calendar]: the default rules, in the log's own zone
    plain = officemine.import_log(source, timezone="Europe/Amsterdam")
    assert plain.calendar == Calendar.default("Europe/Amsterdam")


@pytest.mark.parametrize("table, message", [
    ('region = "Atlantis"', "unknown holiday region 'Atlantis'"),
    ('tz = "UTC"', "names no zone"),
    ('hours = [["17:00", "09:00"]]', "does not end after it starts"),
    ('days_off = "2025-03-07"', "days_off must be a list"),
    ('colour = "blue"', "m.toml: [calendar]: unknown key 'colour'"),
    ('warnings = ["x"]', "m.toml: [calendar]: unknown key 'warnings'"),
])
def test_calendar_table_problems_are_listed_with_the_others(tmp_path, table, message):
    path = mapping(tmp_path, f'timezone = "Mars/Base"\n[calendar]\n{table}\n')
    with pytest.raises(MappingError) as info:
        officemine.Mapping.from_toml(path)
    text = str(info.value)
    assert "2 problem(s)" in text and "Mars/Base" in text and message in text


def test_calendar_rules_are_kept_in_the_stored_mapping(tmp_path, source):
    log = officemine.import_log(source, mapping=mapping(tmp_path, NL_MAPPING))
    assert log.mapping["calendar"]["region"] == "NL"
    assert "tz" not in log.mapping["calendar"]


# --- stored with the log ---------------------------------------------------------------------

def test_a_stored_log_keeps_its_calendar(tmp_path, source):
    log = officemine.import_log(source, mapping=mapping(tmp_path, '[calendar]\nhours = '
                                                       '[["13:00", "17:00"]]\nregion = "CN"\n'))
    assert log.calendar.warnings                       # most actions are in the morning
    back = officemine.read_log(log.write(tmp_path / "l.parquet"))
    assert back.calendar == log.calendar and back.calendar.warnings == log.calendar.warnings
    meta = json.loads(pq.read_schema(tmp_path / "l.parquet").metadata[b"officemine"])
    assert meta["calendar"]["hours"] == [["13:00", "17:00"]] and "tz" not in meta["calendar"]
    # selections and pseudonymised copies keep it
    assert back.select_cases("2025-03-01").calendar == log.calendar
    assert log.select_cases("2025-03-01").calendar == log.calendar
    from officemine.privacy import PseudonymKey, pseudonymize
    assert pseudonymize(log, key=PseudonymKey.one_off()).calendar == log.calendar


def test_a_log_stored_without_a_calendar_gets_the_default_in_its_own_zone(tmp_path, source):
    log = officemine.import_log(source, timezone="Europe/Amsterdam")
    path = log.write(tmp_path / "l.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"officemine"])
    del meta["calendar"]
    table = table.replace_schema_metadata({**table.schema.metadata,
                                           b"officemine": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "old.parquet")
    old = officemine.read_log(tmp_path / "old.parquet")
    assert old.calendar == Calendar.default("Europe/Amsterdam")


@pytest.mark.parametrize("calendar, message", [
    ([1, 2], "expected a table"),
    ({"region": "Atlantis"}, "unknown holiday region"),
    ({"hours": [["09:00", "08:00"]]}, "does not end after"),
    ({"hours": [["09:00", "10:00"]] * 1000}, "at most 48"),
    ({"tz": "UTC"}, "unknown keys tz"),
    ({"warnings": "drop table"}, "warnings must be a list"),
])
def test_a_stored_calendar_is_checked(tmp_path, source, calendar, message):
    path = officemine.import_log(source).write(tmp_path / "l.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"officemine"])
    meta["calendar"] = calendar
    table = table.replace_schema_metadata({**table.schema.metadata,
                                           b"officemine": json.dumps(meta).encode()})
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(LogFormatError, match="is not a valid officemine log") as info:
        officemine.read_log(tmp_path / "bad.parquet")
    assert message in str(info.value)


def test_a_calendar_in_another_zone_is_refused(source):
    log = officemine.import_log(source)
    with pytest.raises(LogFormatError, match="calendar is in UTC but the log's times are in "
                                             "Asia/Shanghai"):
        EventLog(log.to_arrow(), timezone=log.timezone, calendar=Calendar(tz="UTC"))


# --- checked at import, repeated by the analyses ---------------------------------------------

def test_actions_outside_office_hours_are_counted_and_warned_about(tmp_path, source):
    fits = officemine.import_log(source)
    assert not fits.report.warnings and not fits.calendar.warnings
    assert any(n.startswith("0% of the 7 actions fall outside the calendar's working time")
               for n in fits.report.notes)
    # afternoon hours: 6 of the 7 actions (all in the morning) fall outside
    log = officemine.import_log(source, mapping=mapping(tmp_path, '[calendar]\nhours = '
                                                       '[["13:00", "17:00"]]\n'))
    (warning,) = log.report.warnings
    assert warning.startswith("86% of the 7 actions") and "is the calendar right?" in warning
    assert "13:00–17:00" in warning and warning in str(log.report)
    assert log.calendar.warnings == (warning,)
    # the analyses say it too, each in its own notes
    assert warning in officemine.necessity(log).warnings
    assert warning in work_items(log).attrs["warnings"]
    from officemine.kpis import monthly_kpis
    assert warning in monthly_kpis(log, "2025-03").notes
    # another calendar given to an analysis is not the log's: no such warning
    assert warning not in officemine.necessity(log, calendar=Calendar()).warnings


def test_every_analysis_uses_the_logs_calendar(tmp_path, source):
    log = officemine.import_log(source, mapping=mapping(tmp_path, NL_MAPPING))
    result = officemine.necessity(log)
    assert result.calendar == log.calendar.describe() and "NL 公共假日" in result.calendar
    items = work_items(log)
    has = items["wait_workhours"].notna()
    end = items["acted_at"][has]
    np.testing.assert_allclose(items["wait_workhours"][has],
                               log.calendar.working_hours(items["visit_start"][has], end))
    # R2 waited from Fri 2025-03-07 09:00 to Mon 2025-03-10 11:30 (the mapping's zone reads
    # the export's times as Amsterdam's): the 7th is a company day off, so Monday 08:30-11:30
    r2 = items[items["case_id"] == "R2"].set_index("node")
    assert r2.loc["办公室审核", "wait_workhours"] == 3.0
    assert officemine.necessity(log, calendar=Calendar()).calendar == Calendar().describe()


# --- the command line ------------------------------------------------------------------------

def test_cli_uses_the_logs_calendar_and_refuses_a_file_in_another_zone(tmp_path, source):
    log = officemine.import_log(source, mapping=mapping(tmp_path, NL_MAPPING))
    stored = log.write(tmp_path / "l.parquet")
    runner = CliRunner()
    out = runner.invoke(app, ["info", str(stored)])
    assert f"工作日历：{log.calendar.describe()}" in out.output
    out = runner.invoke(app, ["info", str(stored), "--lang", "en"])
    assert f"calendar: {log.calendar.describe('en')}" in out.output
    out = runner.invoke(app, ["necessity", str(stored), "--json", "-"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["calendar"] == log.calendar.describe()
    plain = tmp_path / "plain.toml"
    plain.write_text('region = "none"\nhours = [["09:00", "17:00"]]\n', encoding="utf-8")
    out = runner.invoke(app, ["necessity", str(stored), "--calendar", str(plain), "--json", "-"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["calendar"] == "仅周末休息 (不含法定节假日); 09:00–17:00; " \
                                                "Europe/Amsterdam"
    zoned = tmp_path / "zoned.toml"
    zoned.write_text('tz = "Asia/Shanghai"\n', encoding="utf-8")
    out = runner.invoke(app, ["necessity", str(stored), "--calendar", str(zoned)])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "the log's times are in 'Europe/Amsterdam'" in " ".join(out.output.split())


# --- the real BPIC 2020 log ------------------------------------------------------------------

@pytest.fixture(scope="module")
def domestic(real_data):
    return officemine.import_log(real_data / "DomesticDeclarations.xes.gz",
                                 mapping=REPO / "mappings" / "bpic2020.toml")


@pytest.mark.real
def test_bpic2020_waits_are_on_the_dutch_calendar(domestic):
    cal = domestic.calendar
    assert (cal.region, cal.tz, cal.hours) == ("NL", "Europe/Amsterdam", (("08:30", "17:30"),))
    # King's Day and Christmas are off; China's National Day and Spring Festival are not
    assert cal.is_workday(["2018-04-27", "2018-12-25", "2018-10-01", "2018-02-16"]).tolist() == [
        False, False, True, True]
    # waits that span King's Day 2018 (a Friday) lose its 9 hours against weekends only
    items = work_items(domestic)
    ams = lambda text: pd.Timestamp(text, tz="Europe/Amsterdam")  # noqa: E731
    start, end = items["visit_start"], items["acted_at"]
    span = ((start < ams("2018-04-27")) & (end > ams("2018-04-28"))
            & (start > ams("2018-04-02")) & (end < ams("2018-05-10")))   # no other holiday
    assert span.sum() >= 20
    plain = Calendar(region="none", hours=cal.hours, tz=cal.tz)
    np.testing.assert_allclose(items["wait_workhours"][span],
                               plain.working_hours(start[span], end[span]) - 9.0)


@pytest.mark.real
def test_bpic2020_medians_no_longer_land_on_whole_working_days(domestic):
    def whole_days(result) -> int:
        s = result.summary
        values = s[["wait_workhours_median", "wait_workhours_p90"]].to_numpy().ravel()
        day = 9.0 if "NL" in result.calendar else 7.0
        return int(np.isclose(values / day, np.round(values / day), atol=1e-9).sum())

    dutch = officemine.necessity(domestic)
    chinese = officemine.necessity(domestic, calendar=Calendar())     # the old default
    # Shanghai's office day is Amsterdam's night: a Dutch same-day wait is 0 Chinese working
    # hours, a two-day one exactly 14 (medians and p90s of the four decision roles: 0, 14 …)
    assert whole_days(chinese) >= 3 and whole_days(dutch) == 0
    assert dutch.warnings == ()


@pytest.mark.real
def test_bpic2020_share_of_actions_outside_office_hours_is_reported(domestic, real_data):
    (note,) = [n for n in domestic.report.notes if "outside the calendar's working time" in n]
    share = int(note.split("%")[0])
    assert 5 <= share <= 20 and "of the 56,437 actions" in note
    assert not domestic.report.warnings
    # the same log on the Chinese calendar (Shanghai time): most actions are outside it
    chinese = officemine.import_log(real_data / "DomesticDeclarations.xes.gz")
    (warning,) = [w for w in chinese.report.warnings if "is the calendar right" in w]
    assert int(warning.split("%")[0]) >= 60
