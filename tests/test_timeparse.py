import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from officemine.importing.raw import coded_text
from officemine.importing.timeparse import combine_date_time, implausible, parse_times

TZ = "Asia/Shanghai"

# raw value -> expected local time in Asia/Shanghai (written as data)
CASES = [
    ("2025/3/5 9:05", "2025-03-05 09:05:00"),
    ("2025/03/05 09:05:07", "2025-03-05 09:05:07"),
    ("2025-03-05 09:05", "2025-03-05 09:05:00"),
    ("2025年3月5日 09:05", "2025-03-05 09:05:00"),
    ("2025年3月5日 9时5分", "2025-03-05 09:05:00"),
    ("2025.3.5 9:05", "2025-03-05 09:05:00"),
    ("2025-03-05T09:05:00", "2025-03-05 09:05:00"),
    ("2025-03-05T01:05Z", "2025-03-05 09:05:00"),                 # DingTalk v1.0 style, UTC
    ("2025-03-05T09:05:00+08:00", "2025-03-05 09:05:00"),
    ("2025-03-04T20:05:00-05:00", "2025-03-05 09:05:00"),
    ("45721.37847222222", "2025-03-05 09:05:00"),                  # Excel serial
    ("1741136700", "2025-03-05 09:05:00"),                         # epoch seconds
    ("1741136700000", "2025-03-05 09:05:00"),                      # epoch milliseconds
    ("20250305", "2025-03-05 00:00:00"),
    ("2025030509", "2025-03-05 09:00:00"),                         # yyyymmddHH, not epoch s
    ("202503050905", "2025-03-05 09:05:00"),
    ("2025/3/5", "2025-03-05 00:00:00"),
]


@pytest.mark.parametrize("raw,expected", CASES)
def test_each_format_parses_to_the_right_local_time(raw, expected):
    times, failed = parse_times(pd.Series([raw]), TZ)
    assert not failed.any()
    assert times[0] == pd.Timestamp(expected, tz=TZ)


def test_mixed_column_parses_every_value_and_flags_only_the_bad_ones():
    raw = pd.Series([c[0] for c in CASES] + ["tomorrow", "2025-13-45 10:00", "", None])
    times, failed = parse_times(raw, TZ)
    assert failed.tolist() == [False] * len(CASES) + [True, True, False, False]
    assert times[: len(CASES)].tolist() == [pd.Timestamp(e, tz=TZ) for _, e in CASES]
    assert times[len(CASES):].isna().all()


def test_numbers_and_python_datetimes_from_excel():
    raw = pd.Series([45721.37847222222, dt.datetime(2025, 3, 5, 9, 5),
                     pd.Timestamp("2025-03-05 01:05", tz="UTC")], dtype=object)
    times, failed = parse_times(raw, TZ)
    assert not failed.any()
    assert (times == pd.Timestamp("2025-03-05 09:05", tz=TZ)).all()


def test_other_timezone_is_respected():
    times, _ = parse_times(pd.Series(["2025/3/5 9:05"]), "Europe/Amsterdam")
    assert times[0].tz_convert("UTC") == pd.Timestamp("2025-03-05 08:05", tz="UTC")


def test_combine_separate_date_and_time_columns():
    dates = pd.Series(["2025/3/5", dt.date(2025, 3, 6), 45722, "2025/3/8", None, pd.NA],
                      dtype=object)
    times = pd.Series(["9:05", dt.time(10, 30), 0.5, None, "10:00", "11:00"], dtype=object)
    joined = combine_date_time(dates, times)
    parsed, failed = parse_times(joined, TZ)
    assert not failed.any()
    assert parsed[:4].tolist() == [pd.Timestamp(t, tz=TZ) for t in (
        "2025-03-05 09:05", "2025-03-06 10:30", "2025-03-06 12:00", "2025-03-08 00:00")]
    assert parsed[4:].isna().all()   # no date: missing, whatever the time says


def test_a_million_values_parse_vectorised():
    raw = pd.Series(["2025/3/5 9:05"] * 500_000 + ["2025-03-05 09:05:00"] * 500_000)
    times, failed = parse_times(raw, TZ)
    assert not failed.any() and times.notna().all()


@pytest.mark.parametrize("raw", ["2024-02-30 11:00:00", "2023/2/29 9:00", "2024-04-31",
                                 "20240230", "2025年2月29日 10:00", "2024-13-03 10:00"])
def test_impossible_dates_are_refused_not_rolled_over(raw):
    times, failed = parse_times(pd.Series([raw, "2024-02-29 11:00:00"]), TZ)
    assert failed.tolist() == [True, False]
    assert times[1] == pd.Timestamp("2024-02-29 11:00", tz=TZ)


def test_arrow_text_parses_like_python_strings():
    raw = [c[0] for c in CASES] + ["tomorrow", "", None, " 2025/3/5 9:05 "]
    plain, plain_failed = parse_times(pd.Series(raw, dtype=object), TZ)
    arrow, arrow_failed = parse_times(pd.Series(raw, dtype="string[pyarrow]"), TZ)
    pd.testing.assert_series_equal(arrow, plain)
    pd.testing.assert_series_equal(arrow_failed, plain_failed)


def test_coded_date_and_time_columns_combine_like_plain_ones():
    def coded(values):
        codes, uniques = pd.factorize(pd.Series(values, dtype="string"))
        return coded_text(codes, pa.array(uniques, pa.large_string()))

    dates = ["2025/3/5", "2025/3/5", None, "45721", " 2025/3/6 ", "2025/3/5", ""]
    times = ["9:05", None, "9:05", "0.5", "10:00", "9:05", "9:05"]
    plain = combine_date_time(pd.Series(dates, dtype="string"), pd.Series(times, dtype="string"))
    joined = combine_date_time(coded(dates), coded(times))
    assert joined.astype("string").tolist() == plain.tolist()


def test_ten_digits_that_are_no_date_and_hour_stay_epoch_seconds():
    # 1741136700 would be the year 1741; 2025023009 is 30 February: both epoch seconds
    times, failed = parse_times(pd.Series(["1741136700", "2025023009"]), TZ)
    assert not failed.any()
    assert times.tolist() == [pd.Timestamp("2025-03-05 09:05", tz=TZ),
                              pd.Timestamp(2025023009, unit="s", tz="UTC").tz_convert(TZ)]


def test_daylight_saving_repeated_and_skipped_wall_times():
    times, failed = parse_times(pd.Series(["2025-10-26 02:30", "2025-03-30 02:30"]),
                                "Europe/Amsterdam")
    assert not failed.any()
    assert times.dt.tz_convert("UTC").tolist() == [pd.Timestamp("2025-10-26 00:30", tz="UTC"),
                                                   pd.Timestamp("2025-03-30 01:00", tz="UTC")]


@pytest.mark.parametrize("raw", ["-1000", "0000-01-01T00:00Z", "-0001-01-01T00:00:00+00:00",
                                 "9999-12-31T23:59Z", "0000-01-01 00:00"])
def test_values_beyond_what_a_time_column_holds_fail_without_crashing(raw):
    times, failed = parse_times(pd.Series([raw, "2025-03-05 09:00"]), "Etc/GMT+12")
    assert failed.tolist() == [True, False] and times.isna().tolist() == [True, False]


def test_implausible_times_lie_outside_1990_to_a_year_ahead():
    now = np.datetime64("2025-06-01T00:00:00", "us")
    times, _ = parse_times(pd.Series(["1989-12-31 23:00", "1990-01-02 00:00", "2026-05-31 00:00",
                                      "2026-06-03 00:00", "9999-12-31 00:00", None]), TZ)
    assert implausible(times, now).tolist() == [True, False, False, True, True, False]
