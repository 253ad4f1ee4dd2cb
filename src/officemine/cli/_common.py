"""What every command shares: the app, error handling, and the options that read a log."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import (Annotated, Any, Callable, Iterable, Iterator, NoReturn, Optional, Sequence,
                    TypeVar)

import typer
from rich.console import Console
from rich.markup import escape

from officemine.base.version import __version__
from officemine.base.atomic import check_folder, check_output, protect
from officemine.base.errors import (ChoiceError, InputError, LogFormatError, OfficemineError,
                                    OutputError)
from officemine.base.choices import LANGS
from officemine.importing import FORMATS
from officemine.necessity import ENGINES

app = typer.Typer(help="officemine: evidence for streamlining office approval chains.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

_V = TypeVar("_V")


def choice(option: str, allowed: Sequence[object]) -> Callable[[_V], _V]:
    """A typer callback checking an option against one of the library's closed choices (the
    library's own tuple and `ChoiceError`), when the command line is read: a wrong value is
    one ``error: --option must be one of …`` line and exit code 2 before anything is read."""
    def check(value: _V) -> _V:
        if value is not None:
            try:
                ChoiceError.check(option, value, allowed)
            except ChoiceError as exc:
                fail(str(exc))
        return value
    return check


FormatOption = Annotated[str, typer.Option(
    "--format", "-f", help=f"Source format: {', '.join(FORMATS)}.",
    callback=choice("--format", FORMATS))]
MappingOption = Annotated[Optional[Path], typer.Option(
    "--mapping", "-m", help="Mapping file (TOML) overriding column and outcome guesses.",
    exists=True, dir_okay=False)]
TimezoneOption = Annotated[Optional[str], typer.Option(
    "--timezone", help="Zone of times written without one, and of the log's calendar "
    "(default: the mapping's timezone, else Asia/Shanghai).")]
NoLinkOption = Annotated[bool, typer.Option(
    "--no-link", help="Keep every instance of the source a case of its own (do not link the "
    "attempts of a request re-submitted as a new instance).")]
EngineOption = Annotated[str, typer.Option(
    "--engine", help="'duckdb' (this machine) or 'spark' (the log in Spark: run under "
    "spark-submit or with a local Spark; pip install 'officemine[spark]').",
    callback=choice("--engine", ENGINES))]
TableOption = Annotated[Optional[str], typer.Option(
    "--table", help="With --engine spark: a Spark/Hive table holding a canonical log "
    "(dw.oa_events): one written by officemine import --output-table keeps its time zone "
    "and calendar; another's time zone is --timezone (default Asia/Shanghai).")]
CalendarOption = Annotated[Optional[Path], typer.Option(
    "--calendar", help="Working calendar (TOML: hours, region, company days) instead of the "
    "log's own (set by the mapping's [calendar] at import; default 09:00–12:00, 13:30–17:30 "
    "with Chinese statutory holidays), in the log's time zone.", exists=True, dir_okay=False)]
LogOrTableArgument = Annotated[Optional[Path], typer.Argument(
    metavar="LOG", help="A Parquet log, or any source the importer reads (with --engine "
                        "spark: a log written by officemine, or none with --table).")]
LangOption = Annotated[str, typer.Option(
    "--lang", help="Language of what the command writes and prints (charts, PDF, workbook, "
    "verdicts): zh or en.", callback=choice("--lang", LANGS))]
JsonOption = Annotated[Optional[str], typer.Option(
    "--json", help="Write the JSON result to this file, or '-' for stdout.")]
CHART_SUFFIXES = (".png", ".svg", ".pdf")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"officemine {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version of officemine and exit.")] = False) -> None:
    """officemine: evidence for streamlining office approval chains."""


def fail(message: str, code: int = 2) -> NoReturn:
    """``error: message`` as one line on stderr (never wrapped, never read as markup), then
    exit with `code`."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True,
              soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def domain_errors(inputs: Iterable[Path | str | None] = (),
                  outputs: Iterable[Path | None] = (), charts: Iterable[Path | None] = (),
                  folders: Iterable[Path | None] = ()) -> Iterator[None]:
    """Run a command: officemine's own errors (and the operating system's, such as a file
    that cannot be read) become ``error: …`` on stderr and exit code 2.

    inputs: files the command reads; no output may overwrite them. outputs, charts (files
    whose suffix must be a chart format) and folders: what it will write, checked before any
    work starts (writable, not an input, no file written twice), so that a long run does not
    fail at its end.
    """
    try:
        with protect(inputs):
            charts = [c for c in charts if c is not None]
            for chart in charts:
                if chart.suffix.lower() not in CHART_SUFFIXES:
                    raise OutputError(f"cannot write a chart as {chart.name}: the name must "
                                      f"end in {', '.join(CHART_SUFFIXES)}")
            _check_outputs([o for o in [*outputs, *charts] if o is not None],
                           [f for f in folders if f is not None])
            yield
    except OfficemineError as exc:
        fail(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        fail(f"{exc.strerror or exc}{where}")


def _check_outputs(outputs: list[Path], folders: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in outputs:
        key = os.path.realpath(path)
        if key in seen:
            raise OutputError(f"{seen[key]} and {path} are the same file: give each output "
                              "its own name")
        seen[key] = path
        check_output(path)
    for folder in folders:
        check_folder(folder)


def json_file(json_out: str | None) -> Path | None:
    """The file a ``--json`` option names (None: no file, or ``-`` for stdout)."""
    return Path(json_out) if json_out not in (None, "-") else None


def save_chart(draw: Callable[[], Any], path: Path, **kwargs) -> None:
    """Draw a chart off screen (`draw` returns its matplotlib figure) and write it
    atomically, in the format its suffix names."""
    import matplotlib

    from officemine.base.atomic import atomic_path

    matplotlib.use("Agg")
    fig = draw()
    with atomic_path(path) as temp:
        fig.savefig(temp, format=path.suffix.lower().lstrip("."), **kwargs)


def load_log(source: Path, format: str = "auto", mapping: Path | None = None,
             timezone: str | None = None, no_link: bool = False, lang: str = "en"):
    """A stored Parquet log, or any source imported on the fly (its report goes to stderr,
    in `lang`)."""
    from officemine.log.eventlog import read_log
    from officemine.importing import import_log

    if source.suffix.lower() == ".parquet" and format == "auto":
        return read_log(source)
    with err.status(f"importing {source} …"):
        log = import_log(source, format=format, mapping=mapping, timezone=timezone,
                         link=not no_link)
    err.print("\n".join(log.report.lines(lang)), highlight=False, markup=False)
    return log


def check_memory_limit(memory_limit: str | None, engine: str, log_path: Path | None) -> None:
    """--memory-limit reads a stored log in batches of whole cases on this machine: not with
    Spark, and not a source still to import (import it first, within the limit)."""
    if memory_limit is None:
        return
    if engine == "spark":
        raise InputError("--memory-limit is for this machine's engine: Spark holds its "
                         "partitions in its own memory settings")
    if log_path is not None and log_path.suffix.lower() != ".parquet":
        raise InputError("--memory-limit reads a stored log in batches: import "
                         f"{log_path} first (officemine import … --memory-limit)")


def local_log(log_path: Path | None, table: str | None, verb: str) -> Path:
    """The LOG of a command on this machine's engine: --table is Spark's, and a LOG is
    needed (`verb` says what the command does with it)."""
    if table is not None:
        raise InputError("--table reads a table in Spark: give --engine spark")
    if log_path is None:
        raise InputError(f"give the LOG to {verb} (or --engine spark --table NAME)")
    return log_path


def load_sla(path: Path | None):
    """The --sla file (None without one)."""
    if path is None:
        return None
    from officemine.sla import SLA

    return SLA.from_toml(path)


def load_calendar(path: Path | None, log):
    """The --calendar file, in the log's zone; without one, the log's own calendar."""
    from officemine.log.calendar import Calendar

    return Calendar.from_toml(path, tz=log.timezone) if path else log.calendar


def spark_session(command: str):
    """The running Spark session (spark-submit's), or a local one, for an ``--engine spark``
    command."""
    from officemine import spark as oms

    oms.pyspark()
    from pyspark.sql import SparkSession

    return SparkSession.builder.appName(f"officemine {command}").getOrCreate()


def spark_log(log_path: Path | None, table: str | None, timezone: str | None, command: str):
    """The log an ``--engine spark`` command reads (`officemine.spark`): a log written by
    officemine, or a Spark/Hive table (`table`): one officemine wrote (its metadata kept
    with it) unless `timezone` is given, else in `timezone` (default Asia/Shanghai)."""
    from officemine import spark as oms

    oms.pyspark()
    if (log_path is None) == (table is None):
        raise InputError("with --engine spark give either a LOG written by officemine "
                         "or --table NAME")
    session = spark_session(command)
    if table is None:
        return oms.read_log(session, log_path)
    if timezone is None:            # a table officemine wrote carries its own metadata
        try:
            return oms.read_log(session, table=table)
        except LogFormatError:
            pass
    return oms.read_table(session, table, timezone=timezone or "Asia/Shanghai")
