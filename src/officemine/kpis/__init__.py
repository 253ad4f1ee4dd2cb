"""Monthly KPIs of the efficiency review (月度流程效能评估), overall and per process type.

A case counts in the month it *completed* (its end, as `officemine.log.relations` defines a case's
start and end); cases still running count as *open* at the month's end. Per month:

* 办结件数 — cases completed;
* 办理时长 — median and p90 cycle time in working days of the calendar (working time ÷ the
  calendar's working day, 7 h by default) and in clock days;
* 限时办结率 — share of completed cases within their process type's SLA limit, with its
  Wilson interval and n;
* 退回率 — share of completed cases returned at least once (and returns per case);
* 件均跨部门流转次数 — consecutive blocking actions (cc, comments and reminders excluded) taken
  by people of different departments, per completed case;
* 月末在办件数 — cases open at the month's end (or at the end of the log, if earlier), and how
  many of them were past their SLA then;
* 不合规率 — share of completed cases with at least one deviation from their standard
  procedure (`officemine.conformance`), with its Wilson interval and n, when procedures are
  given (``procedures=``); without them the KPI is empty and not on the cover.

Each KPI has its month-over-month and year-over-year change (absolute and relative; None, with
a note, when the comparison month has no data). Cases, their start, end and cycle time are the
log's (`officemine.log.relations.cases`, judged against the SLA by :func:`case_cycles`); months
and process types are pandas group-bys over that per-case table.

>>> log = officemine.import_log("sample_logs/oa_sample.csv")      # doctest: +SKIP
>>> k = monthly_kpis(log, "2025-10")                                # doctest: +SKIP
>>> k.summary[["name_zh", "value", "unit_zh", "mom_abs"]]          # doctest: +SKIP
>>> kpi_trend(log).plot("on_time_rate")                            # doctest: +SKIP
"""

from officemine.kpis.cases import case_cycles
from officemine.kpis.definitions import ALL_TYPES, KPI_KEYS, KPIS, KPIDef
from officemine.kpis.monthly import Change, KPITile, MonthlyKPIs, monthly_kpis
from officemine.kpis.trend import KPITrend, kpi_trend

__all__ = [
    "KPIDef", "KPIS", "KPI_KEYS", "Change", "KPITile", "MonthlyKPIs", "KPITrend",
    "monthly_kpis", "kpi_trend", "case_cycles", "ALL_TYPES",
]
