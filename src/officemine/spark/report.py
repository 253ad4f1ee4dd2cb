"""The monthly review of a log in Spark: `officemine.review.MonthlyReport` with its KPIs, its
12-month trend, its necessity test and the month's process map (`officemine.spark.discover`
of the cases that ended in the month) computed by the Spark engine — the same figures one
machine gives — and the parts not on Spark yet left out and named (on the cover, the
data-quality page, and in the JSON's ``left_out``), never filled with something else.

Per-unit reviews come from the same run: `unit_reports` reviews every unit of a group (a case
attribute: subsidiary, department, process type) from one pass over the group's log, and
puts the units side by side (`UnitReviews.comparison`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from officemine.log.calendar import Calendar
from officemine.base.choices import LANGS
from officemine.base.errors import ChoiceError, NoDataError, OfficemineError
from officemine.log.months import as_month, month_as_of, month_covered
from officemine.review import MonthlyReport, refuse_unsupported, settings_of
from officemine.review.config import ReportConfig
from officemine.log.schema import C
from officemine.sla import SLA
from officemine.spark._log import SparkLog, pyspark
from officemine.spark._parts import UNIT, unit_sizes, with_units
from officemine.spark.discovery import discover
from officemine.spark.kpis import compare_unit_kpis, kpis_by_unit
from officemine.spark.necessity import compare_units, necessity, necessity_by_unit
from officemine.spark.supervision import bottlenecks_by_unit, overdue_ledgers
from officemine.spark.versions import process_versions, process_versions_by_unit
from officemine.base.text import Said

#: The parts of the monthly review not computed on Spark yet, and why (none now: the
#: process versions were the last; `MonthlyReport.left_out` names any that come).
NOT_ON_SPARK: dict[str, str] = {}


@dataclass
class UnitReviews:
    """Each unit's monthly review from one run over a group's log, and the units side by side
    (`comparison`: the KPIs; `necessity`: the decision nodes)."""

    unit: str
    reports: dict[str, MonthlyReport]
    comparison: pd.DataFrame
    necessity: pd.DataFrame

    def write(self, out_dir: str | Path) -> dict[str, dict[str, Path]]:
        """Each unit's PDF, JSON and xlsx (``officemine_report_<month>_<unit>``) and the
        comparison (``units_<month>.xlsx``, ``.json``) into `out_dir`."""
        from officemine.base.atomic import atomic_paths
        from officemine.rendering.companion import write_json, write_xlsx

        out_dir = Path(out_dir)
        written = {}
        for unit, report in self.reports.items():
            written[unit] = report.write(out_dir, f"officemine_report_{report.month}_"
                                                  f"{_file_part(unit)}")
        month = next(iter(self.reports.values())).month if self.reports else "none"
        paths = {kind: out_dir / f"units_{month}.{kind}" for kind in ("json", "xlsx")}
        with atomic_paths(*paths.values()) as (json_file, xlsx):
            write_json({"unit": self.unit, "month": month,
                        "kpis": self.comparison.to_dict("records"),
                        "necessity": self.necessity.to_dict("records")}, json_file)
            write_xlsx({"kpis": self.comparison, "necessity": self.necessity}, xlsx)
        written["units"] = paths
        return written


def monthly_report(log: SparkLog, month: str | None = None, **options) -> MonthlyReport:
    """`officemine.review.monthly_report` of a log in Spark: the KPIs, the trend, the
    necessity test and the month's process map from the Spark engine; the parts in `NOT_ON_SPARK` left out and named.

    Options: lang, config (`ReportConfig`), sla, calendar, partitions, progress — as for
    the one-machine report. Settings that need a part not on Spark (standard procedures,
    redesign dates, pseudonyms, a scenario, a supervision ledger) are refused with a clear
    error rather than ignored.
    """
    return _reviews(log, None, month, **options)[None]


def unit_reports(log: SparkLog, unit: str, month: str | None = None, **options) -> UnitReviews:
    """The monthly review of each unit of a group (`unit`: a case attribute, its value at
    the case's first event), all from one pass of the KPIs and one of the necessity test
    over the group's log; each unit's KPIs are what one machine gives on its cases alone,
    its necessity test judges them with the group's "now"; its process map is a discovery
    of its cases that ended in the month (one Spark pass per unit with such cases). month: default the latest month
    the group's log covers completely, the same for every unit. Options as for
    `monthly_report`."""
    reports = _reviews(log, unit, month, **options)
    months = {u: r.kpis for u, r in reports.items()}
    tests = {u: r.necessity for u, r in reports.items() if r.necessity is not None}
    return UnitReviews(unit, reports, compare_unit_kpis(months), compare_units(tests))


def _reviews(log: SparkLog, unit: str | None, month: Any, *, lang: str = "zh",
             config: ReportConfig | None = None, sla: SLA | None = None,
             calendar: Calendar | None = None, partitions: int | None = None,
             progress: Callable[[str], None] | None = None, **refused) -> dict:
    """unit value (None: the whole log) -> its review."""
    F = pyspark().sql.functions
    step = progress or (lambda name: None)
    ChoiceError.check("lang", lang, LANGS)
    config = config or ReportConfig()
    refuse_unsupported(refused, config, "on Spark", "on one machine")
    config, calendar, sla = settings_of(log, config, sla, calendar)
    size = unit_sizes(with_units(log, None)).get(None)
    if size is None or size["end"] is None:
        raise NoDataError("the log is empty")
    group_start, group_end = (pd.Timestamp(size[k], unit="us", tz="UTC").tz_convert(
        log.timezone) for k in ("start", "end"))
    month = str(as_month(month)) if month else month_covered(group_start, group_end)
    period = pd.Period(month, freq="M")
    step("KPIs and 12-month trend")
    kpis = kpis_by_unit(log, unit, month, trend=12, calendar=calendar, sla=sla,
                        partitions=partitions)
    # the necessity test's window: the cases that ended in the trailing months
    window_start = period - (config.necessity_months - 1)
    bounds = [int(pd.Timestamp(p.start_time).tz_localize(log.timezone).value // 1000)
              for p in (window_start, period + 1)]
    ended = F.unix_micros(F.col(C.case_end))
    window = dataclasses.replace(log, df=log.df.filter((ended >= bounds[0])
                                                       & (ended < bounds[1])))
    # the process as it ran up to the month's end: advice judges its current version only
    step("process versions")
    started = dataclasses.replace(log, df=log.df.filter(
        F.unix_micros(F.col(C.case_start)) < bounds[1]))
    versions = (process_versions_by_unit(started, unit, partitions=partitions)
                if unit is not None else
                {None: process_versions(started, partitions=partitions)})
    step("necessity test")
    warnings: list[str] = []
    try:
        tests = (necessity_by_unit(window, unit, calendar=calendar, since=versions,
                                   partitions=partitions)
                 if unit is not None else
                 {None: necessity(window, calendar=calendar, since=versions[None],
                                  partitions=partitions)})
    except OfficemineError as exc:
        tests = {}
        warnings.append(Said("review.no_necessity", error=str(exc)))
    maps = _process_maps(log, unit, period, calendar, partitions, step)
    step("overdue ledger")
    as_of = month_as_of(period, log.timezone, group_end)
    ledgers = overdue_ledgers(log, unit, as_of, sla=sla, calendar=calendar)
    step("bottlenecks")
    waits = bottlenecks_by_unit(log, unit, month, calendar=calendar, as_of=as_of,
                                partitions=partitions)
    reports = {}
    for key, (month_kpis, trend) in kpis.items():
        organisation = config.organisation if key is None else \
            " · ".join(p for p in (config.organisation, str(key)) if p)
        reports[key] = MonthlyReport(
            month=month, lang=lang, organisation=organisation, kpis=month_kpis, trend=trend,
            discovery=maps.get(key, (None, None))[0], necessity=tests.get(key),
            necessity_window=(str(window_start), month), versions=versions.get(key),
            bottlenecks=waits.get(key), ledger=ledgers.get(key), before_after=[], simulation=None, log=log, calendar=calendar,
            sla=sla, pseudonymization=None, engine="spark",
            warnings=[*maps.get(key, (None, []))[1], *warnings,
                      *(versions[key].notes if key in versions else ())],
            left_out=dict(NOT_ON_SPARK))
    return reports


def _process_maps(log: SparkLog, unit: str | None, period: pd.Period, calendar: Calendar,
                  partitions: int | None, step: Callable[[str], None]) -> dict:
    """unit value (None: the whole log) -> (the discovery of its cases that ended in the
    month, or None; its warnings), as one machine draws the month's process map: no map
    for a unit without such cases, a warning where the discovery refuses."""
    F = pyspark().sql.functions
    bounds = [int(pd.Timestamp(p.start_time).tz_localize(log.timezone).value // 1000)
              for p in (period, period + 1)]
    ended = F.unix_micros(F.col(C.case_end))
    month = with_units(dataclasses.replace(log, df=log.df.filter((ended >= bounds[0])
                                                                 & (ended < bounds[1]))), unit)
    maps = {}
    for key, size in unit_sizes(month).items():
        if not size["events"]:
            continue
        step("process map" if unit is None else f"process map: {key}")
        mine = month if unit is None else dataclasses.replace(
            month, df=month.df.filter(F.col(UNIT) == key))
        try:
            maps[key] = (discover(mine, calendar=calendar, partitions=partitions), [])
        except OfficemineError as exc:
            maps[key] = (None, [f"process map not drawn: {exc}"])
    return maps


def _file_part(unit: Any) -> str:
    """A unit's value as part of a file name: characters no file system takes replaced."""
    text = "".join("_" if ch in '<>:"/\\|?*' or ord(ch) < 32 else ch for ch in str(unit))
    return text.strip(" .") or "_"


__all__ = ["NOT_ON_SPARK", "UnitReviews", "monthly_report", "unit_reports"]
