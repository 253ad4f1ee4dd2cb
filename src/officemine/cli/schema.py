"""`officemine schema`: print the JSON schema of a settings file."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from officemine.cli._common import app, choice, domain_errors
from officemine.schemas import SETTINGS, settings_schema


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(
        metavar="KIND", help=f"The settings file: {', '.join(SETTINGS)}.",
        callback=choice("KIND", tuple(SETTINGS)))],
) -> None:
    """Print the JSON schema (draft 2020-12) of a settings file — mapping, scenario, report,
    sla or procedures — for an editor to check the file as it is written."""
    with domain_errors():
        typer.echo(json.dumps(settings_schema(kind), ensure_ascii=False, indent=2))
