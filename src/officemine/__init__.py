"""officemine: evidence for streamlining office approval chains, from OA logs.

A small public API; everything else lives in modules a user never needs to import.
"""

from officemine.base.version import __version__
from officemine.log.calendar import Calendar
from officemine.conformance import ConformanceResult, ProcedureError, Procedures, conformance
from officemine.discovery import DiscoveryResult, discover
from officemine.base.errors import (CalendarError, ChoiceError, ColumnGuessError, LogFormatError,
                                    MappingError, OfficemineError, SettingsError, SourceError)
from officemine.log.eventlog import EventLog, read_log
from officemine.importing import ImportReport, Mapping, import_log
from officemine.effects import RedesignEffect, redesign_effect
from officemine.kpis import KPITrend, MonthlyKPIs, case_cycles, kpi_trend, monthly_kpis
from officemine.necessity import NecessityResult, NecessityThresholds, necessity
from officemine.base.plotting import use_chart_style
from officemine.privacy import PseudonymKey
from officemine.review import MonthlyReport, MonthlyReports, monthly_report, monthly_reports
from officemine.review.config import ReportConfig
from officemine.schemas import settings_schema
from officemine.simulation import Scenario, ScenarioError, simulate
from officemine.log.schema import COLUMNS, OUTCOMES
from officemine.sla import SLA
from officemine.supervision import Bottlenecks, OverdueLedger, bottlenecks, overdue_ledger
from officemine.versions import ProcessVersions, process_versions


__all__ = [
    "COLUMNS", "OUTCOMES", "Calendar", "EventLog", "ImportReport", "Mapping", "import_log",
    "read_log", "discover", "DiscoveryResult", "necessity", "NecessityResult",
    "NecessityThresholds", "simulate", "Scenario", "ScenarioError", "conformance",
    "ConformanceResult", "Procedures", "ProcedureError",
    "monthly_kpis", "MonthlyKPIs", "kpi_trend", "KPITrend", "case_cycles", "SLA",
    "overdue_ledger", "OverdueLedger", "bottlenecks", "Bottlenecks", "process_versions",
    "ProcessVersions", "redesign_effect", "RedesignEffect",
    "monthly_report", "MonthlyReport", "monthly_reports", "MonthlyReports", "ReportConfig",
    "PseudonymKey", "use_chart_style",
    "OfficemineError", "SourceError", "ColumnGuessError", "MappingError", "CalendarError",
    "LogFormatError", "SettingsError", "ChoiceError", "settings_schema", "__version__",
]
