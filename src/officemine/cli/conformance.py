"""`officemine conformance`: hold every case against its standard procedure (标准流程)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.cli._common import (CalendarOption, FormatOption, JsonOption, LangOption,
                                    MappingOption, TimezoneOption, app, domain_errors, err,
                                    json_file, load_calendar, load_log, save_chart)


@app.command()
def conformance(
    log_path: Annotated[Path, typer.Argument(
        metavar="LOG", help="A Parquet log, or any source the importer reads.")],
    procedures: Annotated[Path, typer.Option(
        "--procedures", "-p", help="Standard procedures: a TOML file (see procedures/) or a "
        "BPMN 2.0 model.", exists=True, dir_okay=False)],
    month: Annotated[Optional[str], typer.Option(
        help="Only the cases completed in this month: 2025-10, 2025/10 or 2025年10月 "
             "(default: every case).")] = None,
    json_out: JsonOption = None,
    csv_out: Annotated[Optional[Path], typer.Option(
        "--csv", help="Write one row per deviation as CSV (UTF-8 with BOM; no cell starts a "
        "formula).")] = None,
    chart: Annotated[Optional[Path], typer.Option(
        help="Write the chart (deviations by step and kind, monthly trend): .png, .svg or "
             ".pdf.")] = None,
    lang: LangOption = "zh",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    calendar: CalendarOption = None,
) -> None:
    """Check each case, round by round, against its standard procedure: steps skipped,
    unexpected or out of order, self-approval and authority."""
    from officemine.base.atomic import write_csv, write_text
    from officemine.conformance import conformance as run, load_procedures
    from officemine.base.text import say
    from officemine.log.months import as_month

    json_path = json_file(json_out)
    with domain_errors(inputs=[log_path, mapping, calendar, procedures],
                       outputs=[json_path, csv_out], charts=[chart]):
        if month:
            month = str(as_month(month))
        procs = load_procedures(procedures)          # every problem of the file, before the log
        log = load_log(log_path, format, mapping, timezone, lang=lang)
        with err.status(f"checking {log.n_cases:,} cases against {len(procs)} procedure(s) …"):
            result = run(log, procs, month=month, calendar=load_calendar(calendar, log))
        show = (lambda text: typer.echo(text, err=json_out == "-"))
        if json_out == "-":
            sys.stdout.write(result.to_json() + "\n")
        show(result.text(lang))
        if json_path:
            write_text(json_path, result.to_json())
            show(say("cli.wrote", lang, path=json_path))
        if csv_out:
            table = result.deviations.drop(columns=["ended_at"])
            write_csv(table, csv_out)
            show(say("cli.wrote", lang, path=csv_out))
        if chart:
            save_chart(lambda: result.plot(lang=lang)[0].figure, chart)
            show(say("cli.wrote", lang, path=chart))

