"""Every kind of settings file officemine reads, and its JSON schema (``officemine schema KIND``).

Each model (a mapping, a scenario, report settings, an SLA, standard procedures) lives with its
concept and builds its schema with `officemine.base.settings.json_schema`; this registry names
them all, so it stands above every one of them, beside the public API.
"""

from __future__ import annotations

from collections.abc import Callable

from officemine.base.errors import ChoiceError
from officemine.conformance.procedures import Procedures
from officemine.importing.mapping import Mapping
from officemine.review.config import ReportConfig
from officemine.simulation.scenario import Scenario
from officemine.sla import SLA

__all__ = ["SETTINGS", "settings_schema"]

#: Every kind of settings file, and where its schema comes from.
SETTINGS: dict[str, Callable[[], dict]] = {
    "mapping": Mapping.json_schema, "scenario": Scenario.json_schema,
    "report": ReportConfig.json_schema, "sla": SLA.json_schema,
    "procedures": Procedures.json_schema,
}


def settings_schema(name: str) -> dict:
    """The JSON schema (draft 2020-12) of one kind of settings file: ``"mapping"``,
    ``"scenario"``, ``"report"``, ``"sla"`` or ``"procedures"``.

    >>> settings_schema("sla")["properties"]["limits"]["type"]
    'object'
    """
    return SETTINGS[ChoiceError.check("name", name, SETTINGS)]()
