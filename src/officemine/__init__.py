"""officemine: evidence for streamlining office approval chains, from OA logs.

A small public API; everything else lives in modules a user never needs to import.
"""

from officemine.calendar import Calendar
from officemine.conformance import ConformanceResult, ProcedureError, Procedures, conformance
from officemine.discovery import DiscoveryResult, discover
from officemine.errors import (CalendarError, ColumnGuessError, LogFormatError, MappingError,
                               OfficemineError, SourceError)
from officemine.eventlog import EventLog, read_log
from officemine.importing import ImportReport, Mapping, import_log
from officemine.necessity import NecessityResult, NecessityThresholds, necessity
from officemine.simulation import Scenario, ScenarioError, simulate
from officemine.schema import COLUMNS, OUTCOMES

__version__ = "0.1.0"

__all__ = [
    "COLUMNS", "OUTCOMES", "Calendar", "EventLog", "ImportReport", "Mapping", "import_log",
    "read_log", "discover", "DiscoveryResult", "necessity", "NecessityResult",
    "NecessityThresholds", "simulate", "Scenario", "ScenarioError", "conformance",
    "ConformanceResult", "Procedures", "ProcedureError",
    "OfficemineError", "SourceError", "ColumnGuessError", "MappingError", "CalendarError",
    "LogFormatError", "__version__",
]
