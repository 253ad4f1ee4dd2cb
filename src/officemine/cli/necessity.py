"""`officemine necessity`: put every approval node to the necessity test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.cli._common import (CalendarOption, EngineOption, FormatOption, JsonOption,
                                    LangOption, LogOrTableArgument, MappingOption, NoLinkOption,
                                    TableOption, TimezoneOption, app, check_memory_limit, choice,
                                    domain_errors, err, json_file, load_calendar, load_log,
                                    local_log, save_chart, spark_log)
from officemine.necessity import BASES, BYS


@app.command()
def necessity(
    log_path: LogOrTableArgument = None,
    by: Annotated[Optional[str], typer.Option(
        help="Test nodes separately per 'process_type'.", callback=choice("--by", BYS))] = None,
    basis: Annotated[str, typer.Option(
        help="Wait basis for verdicts: 'working' (calendar hours) or 'clock'.",
        callback=choice("--basis", BASES))] = "working",
    since: Annotated[Optional[str], typer.Option(
        help="Cases judged: 'current' (each process type since its latest change: removed "
             "steps are reported, not judged; the default), 'all', or a date "
             "(YYYY-MM-DD).")] = None,
    json_out: JsonOption = None,
    csv_out: Annotated[Optional[Path], typer.Option(
        "--csv", help="Write the per-node table as CSV (UTF-8 with BOM; no cell starts a "
        "formula).")] = None,
    chart: Annotated[Optional[Path], typer.Option(
        help="Write the necessity chart (.png, .svg or .pdf).")] = None,
    lang: LangOption = "zh",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    calendar: CalendarOption = None,
    engine: EngineOption = "duckdb",
    table: TableOption = None,
    memory_limit: Annotated[Optional[str], typer.Option(
        help="Stay within about this much memory (3GB, 500MB): a stored log's items are read "
             "in batches of whole cases and their facts merged, for logs larger than "
             "memory.")] = None,
) -> None:
    """Test each approval node: wait against rejection rate, with intervals and a verdict."""
    from officemine.base.atomic import write_csv, write_text
    from officemine.necessity import necessity as run
    from officemine.base.text import say, word

    json_path = json_file(json_out)
    with domain_errors(inputs=[log_path, mapping, calendar],
                       outputs=[json_path, csv_out], charts=[chart]):
        check_memory_limit(memory_limit, engine, log_path)
        if engine == "spark":
            result = _on_spark(log_path, table, timezone, calendar, by=by, basis=basis,
                               since=since or "current")
        else:
            log = load_log(local_log(log_path, table, "test"), format, mapping, timezone,
                           no_link, lang=lang)
            with err.status(f"testing every approval node of {log.n_events:,} events …"):
                result = run(log, by=by, basis=basis, calendar=load_calendar(calendar, log),
                             since=since or "current", memory_limit=memory_limit)
        if json_out == "-":
            sys.stdout.write(result.to_json() + "\n")
        else:
            typer.echo(result.text(lang))
            typer.echo("")
            reasons = result.reason_text(lang)
            for row, reason in zip(result.summary.itertuples(), reasons):
                where = f" · {getattr(row, by)}" if by else ""
                typer.echo(f"{row.node}{where}: {word('verdict', row.verdict, lang)} — {reason}")
            if json_path:
                write_text(json_path, result.to_json())
                typer.echo(say("cli.wrote", lang, path=json_path))
        if csv_out:
            write_csv(result.summary.drop(columns=["reason_classes", "reason_params"])
                      .assign(reason=result.reason_text("en"),
                              reason_zh=result.reason_text("zh")), csv_out)
            typer.echo(say("cli.wrote", lang, path=csv_out), err=json_out == "-")
        if chart:
            save_chart(lambda: result.plot(lang=lang).figure, chart)
            typer.echo(say("cli.wrote", lang, path=chart), err=json_out == "-")


def _on_spark(log_path: Path | None, table: str | None, timezone: str | None,
              calendar: Path | None, **options):
    """The necessity test of a log in Spark (`officemine.spark`): a stored log or a table."""
    from officemine import spark as oms

    log = spark_log(log_path, table, timezone, "necessity")
    with err.status("testing every approval node on Spark …"):
        return oms.necessity(log, calendar=load_calendar(calendar, log), **options)
