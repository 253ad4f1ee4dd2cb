"""`officemine necessity`: put every approval node to the necessity test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.cli._common import (CalendarOption, FormatOption, MappingOption, TimezoneOption,
                                    app, domain_errors, err, load_calendar, load_log)
from officemine.errors import OfficemineError


@app.command()
def necessity(
    log_path: Annotated[Path, typer.Argument(
        metavar="LOG", help="A Parquet log, or any source the importer reads.")],
    by: Annotated[Optional[str], typer.Option(
        help="Test nodes separately per 'process_type'.")] = None,
    basis: Annotated[str, typer.Option(
        help="Wait basis for verdicts: 'working' (calendar hours) or 'clock'.")] = "working",
    json_out: Annotated[Optional[str], typer.Option(
        "--json", help="Write the JSON result to this file, or '-' for stdout.")] = None,
    csv_out: Annotated[Optional[Path], typer.Option(
        "--csv", help="Write the per-node table as CSV (UTF-8 with BOM).")] = None,
    chart: Annotated[Optional[Path], typer.Option(
        help="Write the necessity chart (.png, .svg or .pdf).")] = None,
    lang: Annotated[str, typer.Option(help="Chart language: zh or en.")] = "zh",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    calendar: CalendarOption = None,
) -> None:
    """Test each approval node: wait against rejection rate, with intervals and a verdict."""
    from officemine.necessity import necessity as run

    with domain_errors():
        if lang not in ("zh", "en"):
            raise OfficemineError(f"lang must be zh or en, not {lang!r}")
        log = load_log(log_path, format, mapping, timezone)
        with err.status(f"testing every approval node of {log.n_events:,} events …"):
            result = run(log, by=by, basis=basis, calendar=load_calendar(calendar, log))
        if json_out == "-":
            sys.stdout.write(result.to_json() + "\n")
        else:
            typer.echo(repr(result))
            typer.echo("")
            for row in result.summary.itertuples():
                where = f" · {getattr(row, by)}" if by else ""
                reason = row.reason_zh if lang == "zh" else row.reason
                typer.echo(f"{row.node}{where}: {row.verdict} — {reason}")
            if json_out:
                Path(json_out).write_text(result.to_json(), encoding="utf-8")
                typer.echo(f"wrote {json_out}")
        if csv_out:
            table = result.summary.drop(columns=["reason_classes"])
            table.to_csv(csv_out, index=False, encoding="utf-8-sig")
            typer.echo(f"wrote {csv_out}", err=json_out == "-")
        if chart:
            import matplotlib

            matplotlib.use("Agg")
            ax = result.plot(lang=lang)
            ax.figure.savefig(chart)
            typer.echo(f"wrote {chart}", err=json_out == "-")
