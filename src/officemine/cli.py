"""The `officemine` command: a thin shell over the library.

Each command is one library call plus turning `OfficemineError` into a clear message and
exit code 2. Long steps show a spinner on the terminal (stderr), never in piped output.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from rich.console import Console

from officemine.errors import OfficemineError
from officemine.importing import FORMATS, import_log

app = typer.Typer(help="officemine: evidence for streamlining office approval chains.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)

FormatOption = Annotated[str, typer.Option(
    "--format", "-f", help=f"Source format: {', '.join(FORMATS)}.")]
MappingOption = Annotated[Optional[Path], typer.Option(
    "--mapping", "-m", help="Mapping file (TOML) overriding column and outcome guesses.",
    exists=True, dir_okay=False)]
TimezoneOption = Annotated[Optional[str], typer.Option(
    "--timezone", help="Zone of times written without one (default Asia/Shanghai).")]


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except OfficemineError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(2) from None


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise OfficemineError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="Export file or folder to import.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Parquet log to write.")],
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
) -> None:
    """Import a source into a canonical Parquet log; set-aside rows go to LOG.set_aside.csv."""
    with _domain_errors():
        _check_format(format)
        with err.status(f"importing {source} …"):
            log = import_log(source, format=format, mapping=mapping, timezone=timezone)
            path = log.write(output)
        typer.echo(str(log.report))
        typer.echo(f"wrote {path}: {log!r}")


@app.command()
def validate(
    source: Annotated[Path, typer.Argument(help="Export file or folder to check.")],
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    show: Annotated[int, typer.Option(help="How many set-aside rows to print.")] = 10,
    strict: Annotated[bool, typer.Option(
        help="Exit with code 1 when any row is set aside.")] = False,
) -> None:
    """Print the import report of a source without writing anything."""
    with _domain_errors():
        _check_format(format)
        with err.status(f"reading {source} …"):
            log = import_log(source, format=format, mapping=mapping, timezone=timezone)
        report = log.report
        if as_json:
            typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        else:
            typer.echo(str(report))
            if report.rows_set_aside and show:
                cols = ["source_row", "reason", "column", "detail"]
                typer.echo(f"\nfirst {min(show, report.rows_set_aside)} set-aside rows:")
                typer.echo(log.set_aside[cols].head(show).to_string(index=False))
        if strict and report.rows_set_aside:
            raise typer.Exit(1)


@app.command()
def info(log_path: Annotated[Path, typer.Argument(help="A Parquet log written by import.")]) -> None:
    """Describe a stored log: size, span, nodes and how it was imported."""
    from officemine.eventlog import read_log

    with _domain_errors():
        log = read_log(log_path)
        typer.echo(repr(log))
        typer.echo(log.nodes().to_string(index=False))
        if log.report:
            typer.echo("")
            typer.echo(str(log.report))


def main() -> None:  # pragma: no cover - console entry for `python -m officemine`
    app(prog_name="officemine")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
