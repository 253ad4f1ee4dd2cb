"""The `discover` command: variants, process map, rework and hand-offs of a log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.base.text import say
from officemine.cli._common import (CalendarOption, EngineOption, FormatOption, LangOption,
                                    MappingOption, NoLinkOption, TableOption, TimezoneOption, app,
                                    domain_errors, err, load_calendar, load_log, local_log,
                                    spark_log)


@app.command()
def discover(
    log_path: Annotated[Optional[Path], typer.Argument(
        metavar="LOG", help="A Parquet log written by import, or any source to import (with "
                            "--engine spark: a log written by officemine, or none with "
                            "--table).")] = None,
    process_type: Annotated[Optional[str], typer.Option(
        "--process-type", "-t", help="Only cases of this process type (流程类型).")] = None,
    min_frequency: Annotated[Optional[int], typer.Option(
        "--min-frequency", min=1, help="Hide arcs with fewer transitions in the map "
        "(default: 0.5% of the cases, at least 2).")] = None,
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    calendar: CalendarOption = None,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Folder for the outputs (files in it are replaced once all are "
        "written).")] = Path("reports/discovery"),
    top: Annotated[int, typer.Option(help="How many variants to print.", min=0)] = 5,
    lang: LangOption = "zh",
    engine: EngineOption = "duckdb",
    table: TableOption = None,
) -> None:
    """Discover variants, the process map (PNG/SVG/PDF, BPMN), rework and hand-offs.

    Prints a short summary; writes every output to the folder (see docs/discovery.md).
    """
    from officemine.discovery import OUTPUT_FILES
    from officemine.discovery import discover as run_discovery

    with domain_errors(inputs=[log_path, mapping, calendar],
                       outputs=[output / name for name in OUTPUT_FILES]):
        if engine == "spark":
            from officemine import spark as oms

            log = spark_log(log_path, table, timezone, "discover")
            with err.status("discovering on Spark …"):
                result = oms.discover(log, process_type, calendar=load_calendar(calendar, log),
                                      min_frequency=min_frequency)
        else:
            log = load_log(local_log(log_path, table, "discover"), format, mapping, timezone,
                           no_link, lang=lang)
            cal = load_calendar(calendar, log)
            with err.status("discovering …"):
                result = run_discovery(log, process_type, calendar=cal,
                                       min_frequency=min_frequency)
        with err.status("writing …"):
            paths = result.save(output, lang=lang)
        typer.echo(result.text(top=top, lang=lang))
        typer.echo(say("cli.wrote_files", lang, n=len(paths), folder=output,
                       names=", ".join(paths)))
