"""Months: the instant a month's review looks back from (log/months.py)."""

import pandas as pd

from officemine.log.months import month_as_of

TZ = "Asia/Shanghai"


def test_a_month_the_log_runs_past_is_seen_from_its_end_on_the_logs_clock():
    log_end = pd.Timestamp("2025-12-03 10:00", tz=TZ)
    as_of = month_as_of("2025年10月", TZ, log_end)
    assert as_of == pd.Timestamp("2025-11-01 00:00", tz=TZ)
    # midnight in Shanghai, not in UTC: eight hours apart
    assert as_of != pd.Timestamp("2025-11-01 00:00", tz="UTC")


def test_a_month_the_log_stops_inside_is_seen_from_the_logs_end():
    log_end = pd.Timestamp("2025-10-17 15:30", tz=TZ)
    assert month_as_of(pd.Period("2025-10", freq="M"), TZ, log_end) == log_end
    # the month's end itself, when the log stops exactly there
    month_end = pd.Timestamp("2025-11-01", tz=TZ)
    assert month_as_of("2025-10", TZ, month_end) == month_end
