"""Commands that read sources: import, validate, info."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.base.text import relabel, say, word
from officemine.cli._common import (FormatOption, LangOption, MappingOption, NoLinkOption,
                                    TimezoneOption, app, choice, domain_errors, err,
                                    spark_session)
from officemine.base.errors import InputError
from officemine.necessity import ENGINES
from officemine.importing import import_log


@app.command("import")
def import_command(
    source: Annotated[Optional[Path], typer.Argument(
        help="Export file or folder to import.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Parquet log to write.")] = None,
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    memory_limit: Annotated[Optional[str], typer.Option(
        help="Stream the export in batches of whole cases, staying within this much memory "
             "(3GB, 500MB). Without it a CSV export above a quarter of 3GB is streamed.")]
    = None,
    engine: Annotated[str, typer.Option(
        help="'duckdb' (this machine) or 'spark' (a CSV export normalised on Spark into a "
             "Parquet dataset folder; pip install 'officemine[spark]').",
        callback=choice("--engine", ENGINES))] = "duckdb",
    source_table: Annotated[Optional[str], typer.Option(
        help="With --engine spark: a Spark/Hive table holding the raw export's columns "
             "(dw.oa_raw), instead of SOURCE.")] = None,
    output_table: Annotated[Optional[str], typer.Option(
        help="With --engine spark: write the log to this Spark/Hive table (dw.oa_events, "
             "replaced) instead of -o; its set-aside rows go to TABLE.set_aside.csv here.")]
    = None,
    lang: LangOption = "zh",
) -> None:
    """Import a source into a canonical Parquet log; set-aside rows go to LOG.set_aside.csv.

    The log and its set-aside file replace earlier ones once completely written.
    An output that is one of the inputs is refused.
    """
    with domain_errors(inputs=[source, mapping], outputs=[output]):
        if (source_table or output_table) and engine != "spark":
            raise InputError("--source-table and --output-table need --engine spark")
        if (source is None) == (source_table is None) or \
                (output is None) == (output_table is None):
            raise InputError("give the export (SOURCE or --source-table) and where the log "
                             "goes (-o or --output-table), each once")
        if source is None or output is None:
            from officemine import spark as oms

            session = spark_session("import")
            with err.status(f"importing {source or source_table} on Spark …"):
                log = oms.import_log(session, str(source) if source else source_table,
                                     mapping, output=output, output_table=output_table,
                                     timezone=timezone, link=not no_link)
            typer.echo(_report_text(log.report, lang))
            typer.echo(say("cli.wrote_log", lang, path=output or output_table,
                           log=log.describe(lang)))
            return
    from officemine.importing import detect_format
    from officemine.importing.streaming import (DEFAULT_MEMORY_LIMIT, import_streaming,
                                                parse_size, should_stream)

    with domain_errors(inputs=[source, mapping],
                       outputs=[output, output.with_suffix(".set_aside.csv")]):
        limit = parse_size(memory_limit) if memory_limit is not None else DEFAULT_MEMORY_LIMIT
        fmt = (detect_format(source) if format == "auto" and source.exists() else format)
        stream = fmt == "csv" and (memory_limit is not None
                                   or should_stream(source, fmt, limit))
        if memory_limit is not None and fmt != "csv":
            raise InputError(f"--memory-limit streams CSV exports; {source} is read as "
                             f"{fmt} (import it without --memory-limit)")
        if engine == "spark":
            if memory_limit is not None:
                raise InputError("--memory-limit streams on this machine; with --engine "
                                 "spark the cluster's memory counts")
            from officemine import spark as oms

            session = spark_session("import")
            with err.status(f"importing {source} on Spark …"):
                log = oms.import_log(session, source, mapping, output=output,
                                     timezone=timezone, link=not no_link)
            typer.echo(_report_text(log.report, lang))
            typer.echo(say("cli.wrote_log", lang, path=output, log=log.describe(lang)))
            return
        with err.status(f"importing {source} …"):
            if stream:
                log = import_streaming(source, output, mapping=mapping, timezone=timezone,
                                       link=not no_link, memory_limit=limit)
                path = log.path
            else:
                log = import_log(source, format=format, mapping=mapping, timezone=timezone,
                                 link=not no_link)
                path = log.write(output)
        typer.echo(_report_text(log.report, lang))
        typer.echo(say("cli.wrote_log", lang, path=path, log=log.describe(lang))
                   + (say("cli.streamed", lang, gib=limit / (1 << 30)) if stream else ""))


def _report_text(report, lang: str) -> str:
    """The import report as the import and validate commands print it: in English with the
    field names a mapping file uses, or in words of `lang`."""
    return "\n".join(report.lines(lang, field_names=lang == "en"))


@app.command()
def validate(
    source: Annotated[Path, typer.Argument(help="Export file or folder to check.")],
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    show: Annotated[int, typer.Option(help="How many set-aside rows to print.")] = 10,
    strict: Annotated[bool, typer.Option(
        help="Exit with code 1 when any row is set aside.")] = False,
    lang: LangOption = "zh",
) -> None:
    """Print the import report of a source without writing anything."""
    with domain_errors(inputs=[source, mapping]):
        with err.status(f"reading {source} …"):
            log = import_log(source, format=format, mapping=mapping, timezone=timezone,
                             link=not no_link)
        report = log.report
        if as_json:
            typer.echo(report.to_json())
        else:
            typer.echo(_report_text(report, lang))
            if report.rows_set_aside and show:
                cols = ["source_row", "reason", "column", "detail"]
                typer.echo("\n" + say("cli.first_set_aside", lang,
                                      n=min(show, report.rows_set_aside)))
                rows = log.set_aside[cols].head(show).copy()
                if lang != "en":      # English names the reasons by the codes a program reads
                    rows["reason"] = rows["reason"].map(
                        lambda v: word("set_aside_reason", v, lang))
                typer.echo(relabel(rows, lang).to_string(index=False))
        if strict and report.rows_set_aside:
            raise typer.Exit(1)


@app.command()
def info(log_path: Annotated[Path, typer.Argument(help="A Parquet log written by import.")],
         lang: LangOption = "zh") -> None:
    """Describe a stored log: size, span, nodes and how it was imported."""
    from officemine.log.eventlog import read_log

    with domain_errors():
        log = read_log(log_path)
        typer.echo(say("cli.log", lang, path=log_path, log=log.describe(lang)))
        typer.echo(say("cli.calendar", lang, calendar=log.calendar.describe(lang)))
        typer.echo(relabel(log.nodes(), lang).to_string(index=False))
        if log.report:
            typer.echo("")
            typer.echo(_report_text(log.report, lang))
