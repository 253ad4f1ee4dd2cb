"""`officemine report`: the monthly efficiency review as a PDF dashboard + JSON + xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.cli._common import (CalendarOption, FormatOption, LangOption, LogOrTableArgument,
                                    MappingOption, NoLinkOption, TableOption, TimezoneOption, app,
                                    check_memory_limit, choice, domain_errors, err, fail,
                                    load_calendar, load_log, load_sla, local_log, spark_log)
from officemine.base.errors import InputError, NotSupportedError
from officemine.necessity import ENGINES
from officemine.base.text import in_lang, joined, say, word


REPORT_SUFFIXES = (".pdf", ".json", ".xlsx")


@app.command()
def report(
    log_path: LogOrTableArgument = None,
    month: Annotated[Optional[str], typer.Option(
        help="Month to review: 2025-10, 2025/10 or 2025年10月 (default: the latest complete "
             "month).")] = None,
    all_months: Annotated[bool, typer.Option(
        "--all-months", help="One report per month of the log, plus an index.")] = False,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Write a '本月无数据' report and exit 0 for a month without "
        "data (without it: nothing is written, exit code 1).")] = False,
    scenario: Annotated[Optional[list[Path]], typer.Option(
        help="Redesign scenario(s) (TOML) to estimate in the report.", exists=True,
        dir_okay=False)] = None,
    lang: LangOption = "zh",
    pseudonymize: Annotated[bool, typer.Option(
        "--pseudonymize", help="Replace people's names by keyed pseudonyms in every text of "
        "the report (key: --pseudonym-key, $OFFICEMINE_PSEUDONYM_KEY, the settings' "
        "pseudonym_key_file, or one generated and stored on first use).")] = False,
    pseudonym_key: Annotated[Optional[Path], typer.Option(
        "--pseudonym-key", metavar="FILE", help="File holding the secret key of the "
        "pseudonyms, readable by you only (implies --pseudonymize).", exists=True,
        dir_okay=False)] = None,
    sla: Annotated[Optional[Path], typer.Option(
        help="SLA file (TOML: working-day limits per process type).", exists=True,
        dir_okay=False)] = None,
    config: Annotated[Optional[Path], typer.Option(
        help="Report settings (TOML): organisation, redesign dates, SLA, calendar, "
             "procedures.", exists=True, dir_okay=False)] = None,
    procedures: Annotated[Optional[Path], typer.Option(
        "--procedures", "-p", help="Standard procedures (TOML or BPMN): adds 不合规率 and "
        "its page (default: the settings' procedures).", exists=True, dir_okay=False)] = None,
    ledger: Annotated[Optional[Path], typer.Option(
        help="Supervision ledger (officemine supervise): add its view of the month.",
        exists=True, dir_okay=False)] = None,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Folder for the files (officemine_report_YYYY-MM.pdf, .json, "
        ".xlsx), or a file name ending in .pdf, .json or .xlsx: the three files then take "
        "that name (-o out/october.pdf writes out/october.pdf, .json and .xlsx); "
        "--all-months needs a folder.")] = Path("reports"),
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    no_link: NoLinkOption = False,
    calendar: CalendarOption = None,
    engine: Annotated[str, typer.Option(
        help="'duckdb' (this machine) or 'spark' (the log in Spark, under spark-submit or a "
             "local Spark: the KPIs, the trend and the necessity test computed there; parts "
             "not on Spark yet are left out and named in the report).",
        callback=choice("--engine", ENGINES))] = "duckdb",
    table: TableOption = None,
    unit: Annotated[Optional[str], typer.Option(
        help="With --engine spark: a case attribute telling the units of a group apart "
             "(subsidiary, department, process_type): one review per unit from one run, and "
             "units_<month>.json/.xlsx comparing them; -o is then a folder.")] = None,
    memory_limit: Annotated[Optional[str], typer.Option(
        help="Stay within about this much memory (3GB, 500MB): the KPIs, the trend and the "
             "necessity test read a stored log in batches of whole cases (the same figures); "
             "the parts not computed in batches yet (process map, process versions, "
             "bottlenecks, overdue ledger) are left out and named in the report.")] = None,
) -> None:
    """Write the monthly review: a PDF dashboard, its JSON and an .xlsx of the tables.

    The three files replace earlier ones together, once all are written.
    A month without data is an error (exit code 1) unless --allow-empty.
    """
    from officemine.log.months import as_month
    from officemine.review.config import ReportConfig

    as_file = output.suffix.lower() in REPORT_SUFFIXES
    folder, stem = (output.parent, output.stem) if as_file else (output, None)
    files = [folder / f"{stem}{suffix}" for suffix in REPORT_SUFFIXES] if as_file else []
    inputs = [log_path, mapping, calendar, sla, config, pseudonym_key, ledger, procedures,
              *(scenario or [])]
    with domain_errors(inputs=inputs, outputs=files, folders=[folder]):
        if all_months and (month or as_file):
            raise InputError("--all-months writes one report per month into a folder: "
                             "give neither --month nor a file name for -o")
        if month:
            month = str(as_month(month))
        if engine == "duckdb" and (table is not None or unit is not None):
            raise InputError("--table and --unit read a log in Spark: give --engine spark")
        if engine == "duckdb":
            local_log(log_path, table, "review")
        check_memory_limit(memory_limit, engine, log_path)
        settings = ReportConfig.from_toml(config) if config else ReportConfig()
        sla_model = load_sla(sla)
        scenarios = _scenarios(scenario)
        procs = _procedures(procedures)
        if engine == "spark":
            if all_months or (unit is not None and as_file):
                raise NotSupportedError("--engine spark writes one month (--all-months is not "
                                        "on Spark yet); with --unit, -o is a folder")
            _on_spark(log_path, table, timezone, calendar, unit, month, folder, stem,
                      allow_empty, lang=lang, config=settings, sla=sla_model,
                      scenario=scenarios, pseudonymize=pseudonymize or None,
                      pseudonym_key=pseudonym_key, ledger=ledger, procedures=procs)
            return
        key = _pseudonym_key(pseudonymize, pseudonym_key, settings)
        log = load_log(log_path, format, mapping, timezone, no_link, lang=lang)
        cal = _calendar(calendar, log)
        kwargs = dict(lang=lang, config=settings, sla=sla_model, calendar=cal,
                      scenario=scenarios, pseudonymize=key is not None, pseudonym_key=key,
                      ledger=ledger, procedures=procs, memory_limit=memory_limit)
        if all_months:
            _all_months(log, folder, kwargs)
        else:
            _one_month(log, month, folder, stem, allow_empty, kwargs)


def _one_month(log, month, folder: Path, stem: str | None, allow_empty: bool,
               kwargs: dict) -> None:
    """One month's review, written as PDF, JSON and xlsx, with a status line while it runs."""
    from officemine.review import monthly_report

    with err.status("monthly report …") as status:
        result = monthly_report(
            log, month, progress=lambda step: status.update(f"monthly report: {step} …"),
            **kwargs)
        if not result.has_data and not allow_empty:
            fail(f"{result.kpis.message}; nothing written (--allow-empty writes the "
                 "empty report)", code=1)
        status.update(f"monthly report {result.month}: writing PDF, JSON and xlsx …")
        paths = result.write(folder, stem)
    lang = kwargs["lang"]
    if not result.has_data:
        err.print(say("review.note", lang, text=in_lang(result.kpis.message, lang)),
                  markup=False, highlight=False)
    if result.left_out:
        err.print(say("cli.left_out", lang, where=say("left_out.batches", lang),
                      parts=joined((word("part", p, lang) for p in result.left_out),
                                   lang)), markup=False, highlight=False)
    typer.echo(result.describe())
    for kind, path in paths.items():
        typer.echo(say("cli.wrote", lang, path=path))


def _all_months(log, folder: Path, kwargs: dict) -> None:
    """Every month's review and the index, with a progress bar over the months."""
    from rich.progress import Progress

    from officemine.review import monthly_reports

    with Progress(console=err, transient=False) as progress:
        task = progress.add_task("monthly reports", total=None)

        def show(month: str, step: str) -> None:
            progress.update(task, description=f"monthly reports: {month} {step}")

        reviews = monthly_reports(log, progress=show, **kwargs)
        progress.update(task, total=len(reviews.reports), completed=0)

        def writing(month: str) -> None:
            progress.update(task, description=f"monthly reports: writing {month}",
                            advance=1)

        paths = reviews.write(folder, progress=writing)
    lang = kwargs["lang"]
    typer.echo(reviews.describe())
    typer.echo(say("cli.wrote_all", lang, n=len(reviews.reports), index=paths["index.html"]))


def _on_spark(log_path, table, timezone, calendar, unit, month, folder, stem, allow_empty,
              **options) -> None:
    """The review of a log in Spark (`officemine.spark.report`): one, or one per unit and
    their comparison."""
    from officemine.spark.report import monthly_report, unit_reports

    log = spark_log(log_path, table, timezone, "report")
    options["calendar"] = load_calendar(calendar, log) if calendar else None
    with err.status("monthly report on Spark …") as status:
        def show(step: str) -> None:
            status.update(f"monthly report on Spark: {step} …")

        if unit is None:
            result = monthly_report(log, month, progress=show, **options)
            reports = {None: result}
        else:
            reviews = unit_reports(log, unit, month, progress=show, **options)
            reports = reviews.reports
        if not any(r.has_data for r in reports.values()) and not allow_empty:
            message = next(iter(reports.values())).kpis.message if reports else "no unit"
            fail(f"{message}; nothing written (--allow-empty writes the empty report)", code=1)
        status.update("monthly report on Spark: writing PDF, JSON and xlsx …")
        written = (reviews.write(folder) if unit is not None
                   else {None: result.write(folder, stem)})
    lang = options["lang"]
    for key, report in reports.items():
        typer.echo(report.describe() if key is None else f"{key}: {report.describe()}")
    first = next(iter(reports.values()), None)
    if first is not None and first.left_out:
        err.print(say("cli.left_out", lang, where=say("left_out.spark", lang),
                      parts=joined((word("part", p, lang) for p in first.left_out), lang)),
                  markup=False, highlight=False)
    for paths in written.values():
        for path in paths.values():
            typer.echo(say("cli.wrote", lang, path=path))


def _pseudonym_key(pseudonymize: bool, path: Path | None, settings):
    """The key, read once for every month (None: no pseudonyms); says where a new one went."""
    if not pseudonymize and path is None:
        return None
    from officemine.privacy import load_key

    key = load_key(path, settings_file=settings.pseudonym_key_file)
    if key.stored_at is not None:
        err.print(f"note: no pseudonym key was given: generated one and stored it in "
                  f"{key.stored_at} (readable by you only). Keep it: the same key gives the same "
                  "pseudonyms next month.", highlight=False, markup=False)
    return key


def _calendar(path, log):
    """The --calendar file, in the log's zone; without one, None (the settings' or the log's
    calendar then)."""
    return load_calendar(path, log) if path else None


def _procedures(path):
    """The --procedures file, read (and every problem in it listed) before the log."""
    if path is None:
        return None
    from officemine.conformance import load_procedures

    return load_procedures(path)


def _scenarios(paths):
    if not paths:
        return None
    from officemine.simulation import Scenario

    loaded = [Scenario.from_toml(p) for p in paths]
    return loaded[0] if len(loaded) == 1 else loaded
