"""What every command shares: the app, error handling, and the options that read a log."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape

from officemine.errors import OfficemineError
from officemine.importing import FORMATS

app = typer.Typer(help="officemine: evidence for streamlining office approval chains.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

FormatOption = Annotated[str, typer.Option(
    "--format", "-f", help=f"Source format: {', '.join(FORMATS)}.")]
MappingOption = Annotated[Optional[Path], typer.Option(
    "--mapping", "-m", help="Mapping file (TOML) overriding column and outcome guesses.",
    exists=True, dir_okay=False)]
TimezoneOption = Annotated[Optional[str], typer.Option(
    "--timezone", help="Zone of times written without one, and of the log's calendar "
    "(default: the mapping's timezone, else Asia/Shanghai).")]
CalendarOption = Annotated[Optional[Path], typer.Option(
    "--calendar", help="Working calendar (TOML: hours, region, company days) instead of the "
    "log's own (set by the mapping's [calendar] at import; default 09:00–12:00, 13:30–17:30 "
    "with Chinese statutory holidays), in the log's time zone.", exists=True, dir_okay=False)]


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn officemine's own errors into `error: …` on stderr and exit code 2."""
    try:
        yield
    except OfficemineError as exc:
        # the message may hold text from the input ("[/x]" in a file name): never markup
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        raise typer.Exit(2) from None


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise OfficemineError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def load_log(source: Path, format: str = "auto", mapping: Path | None = None,
             timezone: str | None = None):
    """A stored Parquet log, or any source imported on the fly (its report goes to stderr)."""
    from officemine.eventlog import read_log
    from officemine.importing import import_log

    check_format(format)
    if source.suffix.lower() == ".parquet" and format == "auto":
        return read_log(source)
    with err.status(f"importing {source} …"):
        log = import_log(source, format=format, mapping=mapping, timezone=timezone)
    err.print(str(log.report), highlight=False, markup=False)
    return log


def load_calendar(path: Path | None, log):
    """The --calendar file, in the log's zone; without one, the log's own calendar."""
    from officemine.calendar import Calendar

    return Calendar.from_toml(path, tz=log.timezone) if path else log.calendar
