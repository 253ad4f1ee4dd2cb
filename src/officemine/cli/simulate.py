"""`officemine simulate`: how much faster would a redesigned approval chain be?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.base.text import say
from officemine.cli._common import (CalendarOption, FormatOption, JsonOption, LangOption,
                                    MappingOption, NoLinkOption, TimezoneOption, app, choice,
                                    domain_errors, err, json_file, load_calendar, load_log,
                                    save_chart)
from officemine.simulation import ENGINES


@app.command()
def simulate(
    log_path: Annotated[Path, typer.Argument(
        metavar="LOG", help="A Parquet log, or any source the importer reads.")],
    scenario: Annotated[list[Path], typer.Option(
        "--scenario", "-s", help="Scenario file (TOML); repeat to compare several side by side.",
        exists=True, dir_okay=False)],
    engine: Annotated[str, typer.Option(
        help="replay (re-run every historical case) or stochastic (a model learnt from the "
             "log).", callback=choice("--engine", ENGINES))] = "replay",
    replications: Annotated[Optional[int], typer.Option(
        help="Bootstrap resamples (replay, default 1000) or model runs (stochastic, default "
             "20).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random choice (recorded).")] = 0,
    since: Annotated[str, typer.Option(
        help="Cases re-run: 'current' (each process type since its latest change), 'all', "
             "or a date (YYYY-MM-DD).")] = "current",
    json_out: JsonOption = None,
    chart: Annotated[Optional[Path], typer.Option(
        help="Write the reduction chart (.png, .svg or .pdf).")] = None,
    lang: LangOption = "zh",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    calendar: CalendarOption = None,
) -> None:
    """Estimate the cycle-time reduction of redesigns, with 95% intervals and a check that the
    as-is model reproduces the log."""
    from officemine.base.atomic import write_text
    from officemine.simulation import simulate as run

    json_path = json_file(json_out)
    with domain_errors(inputs=[log_path, mapping, calendar, *scenario],
                       outputs=[json_path], charts=[chart]):
        log = load_log(log_path, format, mapping, timezone, no_link, lang=lang)
        with err.status("simulating …"):
            result = run(log, list(scenario), engine=engine, replications=replications,
                         seed=seed, calendar=load_calendar(calendar, log), since=since)
        if json_out == "-":
            sys.stdout.write(result.to_json() + "\n")
        else:
            typer.echo(result.text(lang))
            if json_path:
                write_text(json_path, result.to_json())
                typer.echo(say("cli.wrote", lang, path=json_path))
        if chart:
            save_chart(lambda: result.plot(lang=lang).figure, chart, bbox_inches="tight")
            typer.echo(say("cli.wrote", lang, path=chart), err=json_out == "-")
