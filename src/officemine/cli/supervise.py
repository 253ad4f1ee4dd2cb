"""`officemine supervise` (one week of the 督办台账, its digest and reminders) and
`officemine ledger` (what the ledger holds, one entry's history)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated, Optional

import typer

from officemine.cli._common import (CalendarOption, FormatOption, LangOption, MappingOption,
                                    TimezoneOption, app, domain_errors, err, load_calendar,
                                    load_log, load_sla)
from officemine.base.errors import InputError, NoDataError
from officemine.base.text import say
from officemine.rendering.digest import write_digest

LedgerOption = Annotated[Path, typer.Option(
    "--ledger", "-l", help="The ledger file (SQLite; made on the first run).", dir_okay=False)]


@app.command()
def supervise(
    ledger: LedgerOption,
    log_path: Annotated[Optional[Path], typer.Argument(
        metavar="LOG", help="The latest export or Parquet log (not read with --resend).")] = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="The week's moment, e.g. '2025-10-31 17:30' (default: the end of the "
        "log). Needed to record an export older than the ledger's last run.")] = None,
    sla: Annotated[Optional[Path], typer.Option(
        help="SLA file (TOML: working-day limits per process type).", exists=True,
        dir_okay=False)] = None,
    notify: Annotated[Optional[list[str]], typer.Option(
        "--notify", "-n", help="Push the digest to: dingtalk, feishu, wecom, email "
        "(repeat for several).")] = None,
    settings: Annotated[Optional[Path], typer.Option(
        "--settings", envvar="OFFICEMINE_NOTIFY_SETTINGS", exists=True, dir_okay=False,
        help="Notification settings (TOML: webhooks, signing secrets, SMTP); environment "
        "variables OFFICEMINE_DINGTALK_WEBHOOK … win over it.")] = None,
    people: Annotated[Optional[Path], typer.Option(
        "--people", exists=True, dir_okay=False,
        help="People file (TOML): mobile, user ids and e-mail of each responsible person, "
        "for @mentions.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show the digest and what would be sent; write and send "
        "nothing.")] = False,
    resend: Annotated[Optional[str], typer.Option(
        "--resend", metavar="WEEK", help="Send a recorded week's digest again (2025-W15 or a "
        "date in it) to the --notify channels.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Folder for the digest's PDF, JSON and workbook "
        "(supervision_2025-W15.*; default: the ledger's folder).", file_okay=False)] = None,
    lang: LangOption = "zh",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    timezone: TimezoneOption = None,
    calendar: CalendarOption = None,
) -> None:
    """Run one week of the 督办台账: open, carry and strike off (销号) overdue entries, write
    the week's digest, and push it to DingTalk, Feishu, WeCom or e-mail.

    Exit code 1: the ledger was updated but a channel failed (each is reported).
    """
    from officemine.supervision import Ledger
    from officemine.supervision.notify import People, NotifySettings, check_channels

    channels = list(dict.fromkeys(notify or []))
    folder = output or ledger.parent
    inputs = [log_path, sla, settings, people, mapping, calendar]
    writes = not dry_run
    with domain_errors(inputs=inputs, outputs=[ledger] if writes else [],
                       folders=[folder] if writes and not resend else []):
        _check_time(as_of)
        check_channels(channels)
        # everything a run needs is checked before the ledger changes
        notify_settings = NotifySettings.load(settings) if channels else None
        if notify_settings is not None:
            notify_settings.require(channels)
            for warning in notify_settings.warnings:
                err.print(f"warning: {warning}", markup=False, highlight=False)
        who = People.from_toml(people) if people else People()
        if resend:
            if not channels:
                raise InputError("--resend needs at least one --notify channel")
            with Ledger(ledger, readonly=dry_run, create=False) as book:
                digest = book.digest(resend)
                _push(book, digest, channels, notify_settings, who, lang, dry_run, "resend",
                      output)
            return
        if log_path is None:
            raise InputError("give the log to supervise (LOG), or --resend WEEK")
        sla_model = load_sla(sla)
        log = load_log(log_path, format, mapping, timezone, lang=lang)
        if not log.n_events:               # before the ledger file is made
            raise NoDataError(f"{log_path} holds no events: nothing to supervise")
        cal = load_calendar(calendar, log)
        with Ledger(ledger, readonly=dry_run) as book:
            with err.status(f"supervising {log.n_events:,} events …"):
                digest = book.update(log, as_of, sla=sla_model, calendar=cal)
            typer.echo(digest.text(lang))
            if digest.status == "dry_run":
                err.print("dry run: nothing written, nothing sent", markup=False,
                          highlight=False)
            files: dict[str, Path] = {}
            if digest.status == "recorded":
                files = write_digest(digest, folder, lang=lang, inputs=inputs)
                for path in files.values():
                    typer.echo(say("cli.wrote", lang, path=path))
            elif digest.status == "unchanged":
                channels = [c for c in channels if c not in book.delivered(digest.run_id)]
            _push(book, digest, channels, notify_settings, who, lang, dry_run, "run",
                  None, files.get("pdf"), files.get("xlsx"))


def _push(book, digest, channels, settings, people, lang, dry_run, kind, output,
          *attached) -> None:
    """Send (or, dry, show) the digest on each channel; report each; exit 1 if any failed."""
    from officemine.supervision.notify import build_message, preview, send

    if not channels:
        return
    attachments = [p for p in attached if p is not None]
    with tempfile.TemporaryDirectory() as tmp:
        if "email" in channels and not attachments and not dry_run:
            files = write_digest(digest, output or Path(tmp), lang=lang)
            attachments = [files["pdf"], files["xlsx"]]
            if output:
                for path in files.values():
                    typer.echo(say("cli.wrote", lang, path=path))
        if dry_run:
            for channel in channels:
                message = build_message(channel, digest, people, settings.lang, attachments,
                                        settings.mail)
                typer.echo(preview(message, settings))
            return
        with err.status(f"sending the digest of {digest.week} …"):
            deliveries = send(channels, digest, settings, people, ledger=book,
                              attachments=attachments)
    book.record_deliveries(digest.run_id, deliveries, kind)
    failed = [d for d in deliveries if not d.ok]
    for d in deliveries:
        if d.ok:
            typer.echo(d.line())
    for d in failed:
        err.print(f"notify failed: {d.line()}", markup=False, highlight=False, soft_wrap=True)
    if failed:
        names = " ".join(f"--notify {d.channel}" for d in failed)
        err.print(f"the ledger is updated; send again with: --resend {digest.week} {names}",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


def _check_time(as_of: str | None) -> None:
    """--as-of must be a time (checked before anything is read or written)."""
    if as_of is None:
        return
    import pandas as pd

    try:
        ok = pd.Timestamp(as_of) is not pd.NaT
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"--as-of must be a time like '2025-10-31 17:30', not {as_of!r}")


@app.command("ledger")
def ledger_command(
    ledger_path: Annotated[Path, typer.Argument(metavar="LEDGER", help="The ledger file.")],
    open_: Annotated[bool, typer.Option("--open", help="Only the open entries.")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Only the entries struck off.")] = False,
    case: Annotated[Optional[str], typer.Option(
        "--case", help="One entry's history, week by week (一事一档).")] = None,
    week: Annotated[Optional[str], typer.Option(
        "--week", help="A recorded week's digest (2025-W15 or a date in it).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    lang: LangOption = "zh",
) -> None:
    """Show the ledger: its entries (open, closed or all), one entry's history, or a week's
    digest. The file is only read."""
    import json

    import pandas as pd

    from officemine.base.jsonable import records
    from officemine.supervision import Ledger
    from officemine.base.text import relabel

    with domain_errors(inputs=[ledger_path]):
        chosen = [n for n, v in (("--open", open_), ("--closed", closed), ("--case", case),
                                 ("--week", week)) if v]
        if len(chosen) > 1:
            raise InputError(f"choose one of {', '.join(chosen)}")
        with Ledger(ledger_path, readonly=True, create=False) as book:
            if case is not None:
                result = book.history(case)
                if json_out:
                    sys.stdout.write(result.to_json() + "\n")
                else:
                    typer.echo(repr(result))
                return
            if week is not None:
                digest = book.digest(week)
                if json_out:
                    sys.stdout.write(digest.to_json() + "\n")
                else:
                    typer.echo(digest.text(lang))
                return
            status = "open" if open_ else "closed" if closed else "all"
            items = book.items(status)
            if json_out:
                sys.stdout.write(json.dumps({"ledger": str(ledger_path), "status": status,
                                             "runs": records(book.runs),
                                             "items": records(items)},
                                            ensure_ascii=False, indent=2) + "\n")
                return
            typer.echo(repr(book))
            cols = ["case_id", "process_type", "title", "status", "opened_week",
                    "current_step", "responsible", "days_overdue", "closed_week",
                    "days_to_close"]
            if items.empty:
                typer.echo(say("review.none", lang))
                return
            view = items[cols].copy()
            for col in ("days_overdue", "days_to_close"):
                view[col] = view[col].round(1)
            if lang == "zh":
                view["status"] = view["status"].map({"open": "在办", "closed": "已销号"})
            view = view.astype(object).where(view.notna(), "—")
            with pd.option_context("display.width", 200, "display.max_colwidth", 30):
                typer.echo(relabel(view, lang).to_string(index=False, na_rep="—"))
