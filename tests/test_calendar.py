"""Tests for officemine.log.calendar: hand-computed answers on real chinese_calendar data, properties."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officemine.log.calendar import Calendar
from officemine.base.errors import CalendarError, OfficemineError

CAL = Calendar()
H = 3600.0


def hours(start, end, cal: Calendar = CAL) -> float:
    return float(cal.working_hours(start, end)[0])


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


# --- known answers (2025-11-14 is a Friday; 2025-09-28 Sun and 2025-10-11 Sat are 调休 workdays)
KNOWN_HOURS = [
    # start, end, working hours, why
    ("2025-11-14 16:30", "2025-11-17 09:30", 1.5, "Fri 16:30 -> Mon 09:30: 1 h + 0.5 h"),
    ("2025-11-17 11:00", "2025-11-17 14:00", 1.5, "lunch break 12:00-13:30 not counted"),
    ("2025-11-17 12:10", "2025-11-17 13:20", 0.0, "start and end inside the same break"),
    ("2025-11-17 18:00", "2025-11-18 08:30", 0.0, "evening to next morning before office"),
    ("2025-11-15 10:00", "2025-11-16 15:00", 0.0, "a weekend"),
    ("2025-11-17 09:00", "2025-11-18 09:00", 7.0, "one full working day"),
    ("2025-11-17 00:00", "2025-11-24 00:00", 35.0, "a normal week"),
    ("2025-09-30 16:30", "2025-10-09 09:30", 1.5, "National Day 2025-10-01..08 off"),
    ("2025-09-26 17:00", "2025-09-28 10:00", 1.5, "Sat 09-27 off, Sun 09-28 调休 workday"),
    ("2025-09-28 09:00", "2025-10-09 09:00", 21.0, "Sep 28, 29, 30 worked, then holiday"),
    ("2025-10-09 09:00", "2025-10-13 09:00", 21.0, "Thu, Fri and 调休 Sat 10-11 worked"),
    ("2025-09-29 00:00", "2025-10-12 00:00", 35.0, "Sep 29, 30, Oct 9, 10, 11"),
]


@pytest.mark.parametrize(("start", "end", "expected", "why"), KNOWN_HOURS)
def test_known_working_hours(start, end, expected, why):
    assert hours(start, end) == pytest.approx(expected), why


@pytest.mark.parametrize(("start", "end", "expected", "why"), KNOWN_HOURS)
def test_negative_interval_is_symmetric(start, end, expected, why):
    assert hours(end, start) == pytest.approx(-expected), why


def test_vectorised_matches_known_answers():
    starts = pd.Series([row[0] for row in KNOWN_HOURS])
    ends = pd.Series([row[1] for row in KNOWN_HOURS])
    got = CAL.working_hours(pd.to_datetime(starts), pd.to_datetime(ends))
    assert isinstance(got, np.ndarray) and got.dtype == float
    np.testing.assert_allclose(got, [row[2] for row in KNOWN_HOURS])


def test_working_days_and_seconds():
    assert CAL.day_seconds == 7 * H
    assert CAL.working_seconds("2025-11-17 09:00", "2025-11-17 10:00")[0] == H
    assert CAL.working_days("2025-11-17 09:00", "2025-11-19 09:00")[0] == 2.0
    assert CAL.working_days("2025-11-17 09:00", "2025-11-17 12:30")[0] == pytest.approx(3 / 7)


def test_nat_gives_nan():
    starts = pd.Series(pd.to_datetime(["2025-11-14 16:30", None, "2025-11-14 16:30", None]))
    ends = pd.Series(pd.to_datetime(["2025-11-17 09:30", "2025-11-17 09:30", None, None]))
    got = CAL.working_hours(starts, ends)
    assert got[0] == 1.5
    assert np.isnan(got[1:]).all()
    assert np.isnan(CAL.working_hours([None, None], [None, None])).all()


def test_tz_aware_inputs_are_converted():
    # 08:30Z is 16:30 in Shanghai; 01:30Z is 09:30
    start = pd.Series(pd.to_datetime(["2025-11-14 08:30"]).tz_localize("UTC"))
    end = pd.DatetimeIndex(["2025-11-17 01:30"], tz="UTC")
    assert CAL.working_hours(start, end)[0] == 1.5
    # mixing zones and naive local time
    berlin = pd.Timestamp("2025-11-14 09:30", tz="Europe/Berlin")  # 16:30 in Shanghai
    assert CAL.working_hours(berlin, "2025-11-17 09:30")[0] == 1.5


def test_calendar_time_zone_is_configurable():
    cal = Calendar(tz="Europe/Berlin", region="none")
    # 09:00 Berlin is 08:00Z; one working hour later is 09:00Z
    assert cal.working_hours(ts("2025-11-17 15:00"), ts("2025-11-17 17:00"))[0] == 1.0
    assert "Europe/Berlin" in cal.describe()


def test_numpy_datetime64_and_scalar_broadcast():
    starts = np.array(["2025-11-14T16:30", "2025-11-17T11:00"], dtype="datetime64[m]")
    got = CAL.working_hours(starts, np.datetime64("2025-11-17T14:00"))
    np.testing.assert_allclose(got, [1.0 + 3.0 + 0.5, 1.5])


def test_is_workday():
    dates = ["2025-09-27", "2025-09-28", "2025-10-01", "2025-10-08", "2025-10-09", "2025-10-11",
             "2025-10-12", None]
    np.testing.assert_array_equal(
        CAL.is_workday(dates), [False, True, False, False, True, True, False, False]
    )
    assert CAL.is_workday(dt.date(2025, 10, 11))[0]
    # late evening UTC is already the next day in Shanghai
    assert not CAL.is_workday(pd.Timestamp("2025-09-30 17:00", tz="UTC"))[0]
    assert Calendar(region="none").is_workday(["2025-10-01", "2025-10-11"]).tolist() == [
        True, False]


def test_matches_chinese_calendar_day_by_day():
    days = pd.date_range("2004-01-01", "2026-12-31", freq="D")
    expected = [chinese_calendar.is_workday(d.date()) for d in days]
    np.testing.assert_array_equal(CAL.is_workday(days), expected)


# --- add_working_time ------------------------------------------------------------------------
KNOWN_ADD = [
    ("2025-11-14 17:00", 1.0, "2025-11-17 09:30", "over the weekend"),
    ("2025-11-14 11:00", 1.0, "2025-11-14 12:00", "work that ends at the break ends there"),
    ("2025-11-14 11:00", 1.5, "2025-11-14 14:00", "over lunch"),
    ("2025-11-14 20:00", 0.0, "2025-11-17 09:00", "outside hours: next working instant"),
    ("2025-11-14 12:00", 0.0, "2025-11-14 13:30", "in the break: next working instant"),
    ("2025-11-14 10:00", 0.0, "2025-11-14 10:00", "inside hours: unchanged"),
    ("2025-09-30 17:00", 1.0, "2025-10-09 09:30", "over National Day"),
    ("2025-09-26 17:00", 1.0, "2025-09-28 09:30", "onto the 调休 Sunday"),
    ("2025-11-17 09:30", -1.0, "2025-11-14 17:00", "negative goes back"),
    ("2025-11-14 14:30", -1.0, "2025-11-14 13:30", "back to the start of the interval"),
]


@pytest.mark.parametrize(("start", "add_hours", "expected", "why"), KNOWN_ADD)
def test_add_working_time_known(start, add_hours, expected, why):
    got = CAL.add_working_time(start, add_hours * H)
    assert got[0] == ts(expected), why


def test_add_working_time_types_and_missing():
    got = CAL.add_working_time(
        pd.Series(pd.to_datetime(["2025-11-14 08:00", None, "2025-11-14 08:00"]).tz_localize("UTC")),
        pd.Series([3600.0, 60.0, np.nan]),
    )
    assert isinstance(got, pd.DatetimeIndex)
    assert str(got.tz) == "Asia/Shanghai"
    assert got[0] == ts("2025-11-14 17:00")  # 16:00 local + 1 h
    assert got[1:].isna().all()
    as_timedelta = CAL.add_working_time("2025-11-14 17:00", pd.to_timedelta(["1h", "30min"]))
    assert list(as_timedelta) == [ts("2025-11-17 09:30"), ts("2025-11-14 17:30")]
    assert CAL.add_working_time("2025-11-14 17:00", dt.timedelta(hours=1))[0] == ts(
        "2025-11-17 09:30")


def test_add_working_time_far_ahead():
    # 600 working days from 2025-01-01 (about 250 a year) end in 2027, beyond the holiday data
    got = CAL.add_working_time("2025-01-01 00:00", 7 * H * 600)[0]
    assert CAL.working_seconds("2025-01-01", got)[0] == 7 * H * 600
    assert got.year == 2027 and CAL.coverage_warnings("2025-01-01", got)


# --- properties ------------------------------------------------------------------------------
STARTS = st.datetimes(min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2026, 12, 1))
STEP = st.floats(min_value=-400 * H, max_value=400 * H, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(start=STARTS, seconds=STEP)
def test_add_is_inverse_of_working_seconds(start, seconds):
    end = CAL.add_working_time(start, seconds)
    assert CAL.working_seconds(start, end)[0] == pytest.approx(seconds, abs=1e-6)
    if seconds >= 1e-9:  # the step is rounded to whole nanoseconds
        assert end[0] > ts(str(start))


@settings(max_examples=200, deadline=None)
@given(a=STARTS, b=STARTS, c=STARTS)
def test_working_seconds_is_additive(a, b, c):
    ab, bc, ac = (CAL.working_seconds(x, y)[0] for x, y in ((a, b), (b, c), (a, c)))
    assert ab + bc == pytest.approx(ac, abs=1e-6)
    assert CAL.working_seconds(b, a)[0] == -ab


def reference_seconds(start: dt.datetime, end: dt.datetime) -> float:
    """Slow, obvious count: each day, is it a workday, overlap with each office interval."""
    total = 0.0
    day = start.date()
    while day <= end.date():
        if chinese_calendar.is_workday(day):
            for a, b in ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(17, 30))):
                lo = max(start, dt.datetime.combine(day, a))
                hi = min(end, dt.datetime.combine(day, b))
                total += max(0.0, (hi - lo).total_seconds())
        day += dt.timedelta(days=1)
    return total


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2026, 11, 20)),
       span=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40)))
def test_matches_slow_reference(start, span):
    end = start + span
    assert CAL.working_seconds(start, end)[0] == pytest.approx(reference_seconds(start, end),
                                                               abs=1e-6)


def test_one_million_rows():
    rng = np.random.default_rng(0)
    n = 1_000_000
    base = np.datetime64("2024-01-01T00:00:00", "s")
    start = base + rng.integers(0, 2 * 365 * 86400, n).astype("timedelta64[s]")
    end = start + rng.integers(-86400, 20 * 86400, n).astype("timedelta64[s]")
    secs = CAL.working_seconds(start, end)
    assert secs.shape == (n,) and np.isfinite(secs).all()
    back = CAL.add_working_time(start, secs)
    assert len(back) == n
    np.testing.assert_allclose(CAL.working_seconds(start, back), secs, atol=1e-6)
    sample = rng.choice(n, 200, replace=False)
    for i in sample:
        s, e = pd.Timestamp(start[i]).to_pydatetime(), pd.Timestamp(end[i]).to_pydatetime()
        ref = reference_seconds(s, e) if e >= s else -reference_seconds(e, s)
        assert secs[i] == pytest.approx(ref, abs=1e-6)


# --- configuration ---------------------------------------------------------------------------
def test_default_and_describe():
    assert Calendar.default() == CAL
    text = CAL.describe()
    assert f"chinese_calendar {chinese_calendar.__version__}" in text
    assert "2004–2026" in text and "调休" in text
    assert "09:00–12:00, 13:30–17:30" in text
    assert "仅周末" in Calendar(region="none").describe()
    assert "Calendar(" in repr(CAL) and "09:00–12:00" in repr(CAL)
    named = Calendar(name="总部", days_off=["2025-12-31"])
    assert named.describe().startswith("总部: ") and "公司休息日 1 天" in named.describe()


def test_custom_hours():
    cal = Calendar(hours=[("13:00", "24:00"), ("08:00", "09:00")], region="none")
    assert cal.hours == (("08:00", "09:00"), ("13:00", "24:00"))
    assert cal.day_seconds == 12 * H
    assert cal.working_hours("2025-11-17 08:30", "2025-11-18 08:30")[0] == 12.0
    assert cal.add_working_time("2025-11-17 23:00", 2 * H)[0] == ts("2025-11-18 09:00")
    assert Calendar(hours=[(dt.time(9), dt.time(17))]).day_seconds == 8 * H


def test_constructor_company_days():
    # Wed 2025-12-31 off, Sat 2025-11-15 on
    cal = Calendar(days_off=[dt.date(2025, 12, 31)], workdays=["2025-11-15"])
    assert cal.days_off == (dt.date(2025, 12, 31),)
    assert cal.working_hours("2025-11-14 16:30", "2025-11-17 09:30")[0] == 8.5
    # Tue 17:00, Wed 12-31 off (company), 01-01..03 off, Sun 01-04 调休 workday, Mon 09:30
    assert cal.working_hours("2025-12-30 17:00", "2026-01-05 09:30")[0] == 0.5 + 7 + 0.5


def test_company_days_override_statutory():
    cal = Calendar(workdays=["2025-10-02"], days_off=["2025-09-28"])
    assert cal.is_workday(["2025-10-02", "2025-09-28"]).tolist() == [True, False]


def test_from_toml(tmp_path: Path):
    path = tmp_path / "calendar.toml"
    path.write_text(
        'name = "示例公司"\n'
        'hours = [["08:30", "12:00"], ["13:00", "17:00"]]\n'
        'holidays = "cn"\n'
        'days_off = ["2025-12-31", 2025-12-30]\n'   # strings and TOML dates both work
        'workdays = ["2025-11-15"]\n',
        encoding="utf-8",
    )
    cal = Calendar.from_toml(path)
    assert cal.name == "示例公司" and cal.day_seconds == 7.5 * H
    assert cal.days_off == (dt.date(2025, 12, 30), dt.date(2025, 12, 31))
    assert cal.is_workday(["2025-11-15", "2025-12-30", "2025-12-31", "2026-01-01"]).tolist() == [
        True, False, False, False]
    assert cal.working_hours("2025-11-14 16:00", "2025-11-17 09:00")[0] == 1.0 + 7.5 + 0.5
    assert cal.describe().startswith("示例公司: ")


def test_from_toml_defaults_and_none(tmp_path: Path):
    path = tmp_path / "weekends.toml"
    path.write_text('holidays = "none"\n', encoding="utf-8")    # the older name of region
    cal = Calendar.from_toml(path)
    assert cal.hours == CAL.hours and cal.region == "none"
    assert cal.working_hours("2025-09-30 16:30", "2025-10-09 09:30")[0] == 1.0 + 6 * 7 + 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('hours = [["12:00", "09:00"]]', "does not end after it starts"),
        ('hours = [["09:00", "12:00"], ["11:00", "14:00"]]', "overlap"),
        ('hours = [["9h", "12:00"]]', "not a time of day"),
        ('hours = [["09:00", "24:30"]]', "not a time of day"),
        ("hours = []", "at least one"),
        ('hours = "09:00-17:00"', "list of pairs"),
        ('region = "xx"', "unknown holiday region 'xx'.*list_supported_countries"),
        ('region = "DE-XX"', "DE has the subdivisions BB, BE, BW, BY"),
        ('region = "NL"\nholidays = "none"', "not both"),
        ('days_off = ["31/12/2025"]', "not a date"),
        ('days_off = ["2025-12-31"]\nworkdays = ["2025-12-31"]', "both"),
        ('tz = "Mars/Olympus"', "time zone"),
        ('timezone = "UTC"', "unknown keys timezone"),
        ('hours = [["09:00"', "not valid TOML"),
    ],
)
def test_invalid_toml_raises(tmp_path: Path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(CalendarError, match=message) as info:
        Calendar.from_toml(path)
    assert "bad.toml" in str(info.value)


def test_invalid_constructor_collects_all_problems():
    with pytest.raises(CalendarError) as info:
        Calendar(hours=[("17:00", "09:00")], region="XX")
    assert "does not end after" in str(info.value) and "unknown holiday region" in str(info.value)
    assert isinstance(info.value, OfficemineError)


def test_missing_toml_file(tmp_path: Path):
    with pytest.raises(CalendarError, match="cannot read"):
        Calendar.from_toml(tmp_path / "nope.toml")


def test_coverage_warnings():
    assert CAL.coverage_warnings("2025-01-01", "2026-12-31") == []
    after = CAL.coverage_warnings(pd.Series(pd.to_datetime(["2026-06-01", None])), "2027-03-01")
    assert len(after) == 1 and "2026" in after[0] and "weekends-only" in after[0]
    assert "2027-03-01" in after[0]
    before = CAL.coverage_warnings("2003-12-01", "2004-02-01")
    assert len(before) == 1 and "before 2004" in before[0]
    assert Calendar(region="none").coverage_warnings("1990-01-01", "2040-01-01") == []
    # beyond coverage the calendar still works, weekends-only: Fri 2027-01-01 is counted
    assert CAL.is_workday("2027-01-01")[0]


# --- holiday regions -------------------------------------------------------------------------
NL = Calendar(region="NL", hours=[("08:30", "17:30")], tz="Europe/Amsterdam")


def test_region_codes_are_checked_and_canonical():
    assert Calendar(region="cn") == CAL and CAL.region == "CN"
    assert Calendar(region="nl").region == "NL"
    assert Calendar(region="de-by").region == "DE-BY"
    assert Calendar(region="None").region == "none"
    with pytest.raises(CalendarError, match="unknown holiday region 'Mars'"):
        Calendar(region="Mars")
    with pytest.raises(CalendarError, match="CN has no subdivisions"):
        Calendar(region="CN-BJ")


def test_dutch_days_off():
    # King's Day (Fri 2018-04-27), Christmas and Good Friday are off; China's National Day
    # (Mon 2018-10-01) and Spring Festival (Fri 2018-02-16) are ordinary Dutch workdays
    days = ["2018-04-27", "2018-12-25", "2018-12-26", "2018-03-30", "2018-10-01", "2018-02-16",
            "2018-04-28"]
    assert NL.is_workday(days).tolist() == [False, False, False, False, True, True, False]
    assert CAL.is_workday(days[:6]).tolist() == [True, True, True, True, False, False]
    # Thu 17:00 -> Mon 09:30 over King's Day: 0.5 h + 1 h
    ams = lambda text: pd.Timestamp(text, tz="Europe/Amsterdam")  # noqa: E731
    assert NL.working_hours(ams("2018-04-26 17:00"), ams("2018-04-30 09:30"))[0] == 1.5
    assert NL.add_working_time(ams("2018-04-26 17:00"), 1.5 * H)[0] == ams("2018-04-30 09:30")


def test_region_matches_the_holidays_package_day_by_day():
    import holidays

    days = pd.date_range("1990-01-01", "2030-12-31", freq="D")
    off = holidays.country_holidays("NL", years=range(1990, 2031))
    expected = [d.weekday() < 5 and d.date() not in off for d in days]
    np.testing.assert_array_equal(NL.is_workday(days), expected)


def test_region_weekend_subdivision_and_make_up_workdays():
    # Saudi Arabia rests on Friday and Saturday
    sa = Calendar(region="SA")
    assert sa.is_workday(["2019-09-13", "2019-09-14", "2019-09-15"]).tolist() == [
        False, False, True]
    assert "周末: 五六" in sa.describe()
    # Corpus Christi (Thu 2019-06-20) is off in Bavaria, not in Germany as a whole
    assert Calendar(region="DE-BY").is_workday("2019-06-20").tolist() == [False]
    assert Calendar(region="DE").is_workday("2019-06-20").tolist() == [True]
    # Belarus works Saturday 2019-05-04 to bridge a holiday
    assert Calendar(region="BY").is_workday(["2019-05-04", "2019-05-11"]).tolist() == [True, True]
    assert Calendar(region="BY").is_workday("2019-05-18").tolist() == [False]


def test_region_describe_and_coverage():
    text = NL.describe()
    assert text.startswith("NL 公共假日 (holidays ") and "08:30–17:30" in text
    assert "Europe/Amsterdam" in text
    lo, hi = NL.holiday_years
    assert lo <= 2017 and hi >= 2030
    assert NL.coverage_warnings("2017-01-01", "2019-12-31") == []
    before = NL.coverage_warnings(f"{lo - 1}-06-01", "2019-01-01")
    assert len(before) == 1 and f"before {lo}" in before[0] and "NL holidays" in before[0]


def test_outside_office_hours():
    times = pd.to_datetime(["2025-11-17 08:59", "2025-11-17 09:00", "2025-11-17 12:00",
                            "2025-11-17 13:30", "2025-11-17 17:30", "2025-11-15 10:00",
                            "2025-10-01 10:00", None])
    assert CAL.outside_office_hours(times).tolist() == [True, False, True, False, True, True,
                                                       True, False]
    # tz-aware instants are read on the calendar's clock: 02:00Z is 10:00 in Shanghai
    utc = pd.DatetimeIndex(["2025-11-17 02:00", "2025-11-17 10:00"], tz="UTC")
    assert CAL.outside_office_hours(utc).tolist() == [False, True]
    # with slack the office day's edges widen; a day off stays off
    slack = CAL.outside_office_hours(times, dt.timedelta(minutes=15))
    assert slack.tolist() == [False, False, False, False, False, True, True, False]
    assert CAL.outside_office_hours(["2025-11-17 17:46", "2025-11-17 12:20"],
                                    dt.timedelta(minutes=15)).tolist() == [True, True]


def test_to_dict_round_trip_and_zone():
    cal = Calendar(region="NL", hours=[("08:30", "17:30")], days_off=["2018-12-31"],
                   workdays=["2018-12-29"], name="TU/e", warnings=("check me",))
    data = cal.to_dict()
    assert "tz" not in data and data["region"] == "NL" and data["days_off"] == ["2018-12-31"]
    back = Calendar.from_dict(data, tz="Europe/Amsterdam")
    assert back == Calendar(region="NL", hours=[("08:30", "17:30")], days_off=["2018-12-31"],
                            workdays=["2018-12-29"], name="TU/e", tz="Europe/Amsterdam")
    assert back.warnings == ("check me",)
    assert back.coverage_warnings("2018-01-01", "2018-02-01") == ["check me"]


@pytest.mark.parametrize(("data", "message"), [
    ({"region": "NL", "tz": "UTC"}, "unknown keys tz"),
    ({"hours": "09:00-17:00"}, "list of pairs"),
    ({"hours": [["09:00", "10:00"]] * 49}, "at most 48"),
    ({"days_off": "2018-12-31"}, "days_off must be a list"),
    ({"days_off": ["2018-01-01"] * 100_001}, "at most 100,000"),
    ({"warnings": [1]}, "warnings must be a list"),
    ({"region": ["NL"]}, "region must be a text"),
    ({"region": "XX"}, "unknown holiday region"),
    ("NL", "expected a table"),
])
def test_from_dict_is_strict(data, message):
    with pytest.raises(CalendarError, match=message):
        Calendar.from_dict(data, tz="UTC", where="stored calendar")


def test_from_toml_takes_the_log_zone(tmp_path: Path):
    plain = tmp_path / "plain.toml"
    plain.write_text('region = "NL"\n', encoding="utf-8")
    assert Calendar.from_toml(plain, tz="Europe/Amsterdam").tz == "Europe/Amsterdam"
    assert Calendar.from_toml(plain).tz == "Asia/Shanghai"
    named = tmp_path / "named.toml"
    named.write_text('tz = "Europe/Amsterdam"\n', encoding="utf-8")
    assert Calendar.from_toml(named, tz="Europe/Amsterdam").tz == "Europe/Amsterdam"
    with pytest.raises(CalendarError, match="named.toml: tz = 'Europe/Amsterdam' but the log's "
                                            "times are in 'Asia/Shanghai'.*--timezone"):
        Calendar.from_toml(named, tz="Asia/Shanghai")
