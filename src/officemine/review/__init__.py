"""The monthly process-efficiency review (月度流程效能评估): a PDF dashboard for managers and a
machine-readable companion (JSON and an .xlsx workbook of the tables).

`monthly_report` runs every analysis for one month and returns a `MonthlyReport`; its
`write(dir)` renders the files. The PDF, the JSON and the workbook render the same objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from officemine.log.calendar import Calendar
from officemine.base.choices import LANGS, Lang
from officemine.base.errors import ChoiceError, NoDataError, NotSupportedError, OfficemineError
from officemine.log.eventlog import EventLog
from officemine.log.months import as_month, month_as_of
from officemine.privacy import PseudonymKey
from officemine.review.config import Redesign, ReportConfig
from officemine.log.result import Provenance, Result, provenance
from officemine.base.stats import wilson_interval
from officemine.base.text import Said, for_reader, in_lang, left_out_why, say, word
from officemine.versions import process_versions



@dataclass
class BeforeAfter:
    """KPIs of cases completed before vs after a redesign took effect."""

    redesign: Redesign
    summary: pd.DataFrame          # one row per period: n, medians, rates with intervals
    window_months: int
    effect: object | None = None   # effects.RedesignEffect: against a control, with targets


@dataclass(frozen=True)
class MonthlyReport(Result):
    month: str
    lang: str
    organisation: str
    kpis: object                    # kpis.MonthlyKPIs
    trend: object                   # kpis.KPITrend
    discovery: object | None        # discovery.DiscoveryResult of the month (None: no cases)
    necessity: object | None        # necessity.NecessityResult over the trailing window
    necessity_window: tuple[str, str]
    versions: object                # versions.ProcessVersions up to the month's end
    bottlenecks: object             # supervision.Bottlenecks
    ledger: object                  # supervision.OverdueLedger
    before_after: list[BeforeAfter]
    simulation: object | None
    log: EventLog
    calendar: Calendar
    sla: object
    pseudonymization: object | None  # privacy.Pseudonymization (None: real names)
    warnings: list[str] = field(default_factory=list)
    ledger_view: object | None = None   # supervision.LedgerMonth (report --ledger)
    conformance: object | None = None   # conformance.ConformanceResult of the month
    engine: str = "duckdb"              # where the figures were computed: duckdb | spark
    left_out: dict[str, str] = field(default_factory=dict)   # part -> why it is not here

    @property
    def has_data(self) -> bool:
        return bool(self.kpis.has_data)

    @property
    def pseudonymized(self) -> bool:
        return self.pseudonymization is not None

    @property
    def summary(self) -> pd.DataFrame:
        """The month's KPIs (`MonthlyKPIs.summary`)."""
        return self.kpis.summary

    @property
    def provenance(self) -> Provenance:
        return provenance(getattr(self.kpis, "log_info", None), calendar=self.calendar)

    def describe(self) -> str:
        """One line in the review's language: the month, what it holds, the overdue cases."""
        lang = self.lang
        overdue = (say("review.summary_overdue", lang, n=len(self.ledger.summary))
                   if self.ledger is not None else "")
        engine = (say("review.engine", lang, engine=word("engine", self.engine, lang))
                  if self.left_out else "")
        return say("review.summary", lang, month=self.month, engine=engine,
                   message=in_lang(self.kpis.message, lang), overdue=overdue)

    def _html_heading(self) -> list[str]:
        return [self.describe()]

    def _html_tables(self) -> list[pd.DataFrame]:
        return self.kpis.html_tables(self.lang)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The report's tables by their codes, with field names as columns (the workbook
        shows them in the report's language: `workbook`)."""
        lang = self.lang
        out = {"kpis": self.kpis.summary}
        if self.has_data:
            out["kpis_by_process"] = self.kpis.by_process
        out["trend"] = self.trend.summary
        if self.necessity is not None:
            out["necessity"] = self.necessity.summary.drop(columns=["reason_classes"])
        if self.versions is not None:
            out["versions"] = self.versions.changes
        if self.discovery is not None:
            out["variants"] = self.discovery.variants.table
            out["map_nodes"] = self.discovery.process_map.nodes
            out["map_arcs"] = self.discovery.process_map.arcs
        if self.bottlenecks is not None:
            out["bottleneck_nodes"] = self.bottlenecks.by_node
            out["bottleneck_people"] = self.bottlenecks.by_person
        if self.ledger is not None:
            out["overdue"] = self.ledger.summary
            out["dossiers"] = self.ledger.dossiers
        if self.left_out:
            out["left_out"] = pd.DataFrame({"part": list(self.left_out),
                                            "why": list(self.left_out.values())})
        for i, ba in enumerate(self.before_after, start=1):
            out[f"before_after_{i}"] = ba.summary
            if ba.effect is not None:
                out[f"before_after_{i}_effect"] = ba.effect.summary
        if self.simulation is not None:
            out["scenario"] = self.simulation.summary
        if self.pseudonymization is not None:
            out["pseudonymization"] = self.pseudonymization.summary
        if self.ledger_view is not None:
            out["ledger"] = self.ledger_view.table(lang)
        out.update(_conformance_tables(self.conformance))
        return out

    def workbook(self) -> dict[str, pd.DataFrame]:
        """The workbook's sheets as a reader of the report's language sees them: sheet names
        and column labels from the text catalogue, a column kept in both languages shown in
        this one only (`officemine.base.text.for_reader`)."""
        from officemine.base.text import for_reader, sheet_name, table_of

        return {sheet_name(code, self.lang): for_reader(frame, self.lang, table_of(code))
                for code, frame in self.tables().items()}

    def to_dict(self) -> dict:
        return {
            "month": self.month, "lang": self.lang, "organisation": self.organisation,
            "has_data": self.has_data, "pseudonymized": self.pseudonymized,
            "pseudonymization": (self.pseudonymization.to_dict()
                                 if self.pseudonymization is not None else None),
            "calendar": self.calendar.describe(), "sla": self.sla.describe(),
            "kpis": self.kpis.to_dict() if hasattr(self.kpis, "to_dict") else None,
            "necessity_window": list(self.necessity_window),
            "versions": self.versions.to_dict() if self.versions is not None else None,
            "necessity": self.necessity.to_dict() if self.necessity is not None else None,
            "discovery": self.discovery.to_dict() if self.discovery is not None else None,
            "overdue": (self.ledger.summary.to_dict("records") if self.ledger is not None
                        else None),
            "dossiers": (self.ledger.dossiers.to_dict("records") if self.ledger is not None
                         else None),
            "before_after": [{"date": ba.redesign.date.isoformat(), "name": ba.redesign.name,
                              "process_type": ba.redesign.process_type,
                              "window_months": ba.window_months,
                              "periods": ba.summary.to_dict("records"),
                              "effect": ba.effect.to_dict() if ba.effect is not None else None}
                             for ba in self.before_after],
            "simulation": self.simulation.to_dict() if self.simulation is not None else None,
            "supervision_ledger": (self.ledger_view.to_dict() if self.ledger_view is not None
                                   else None),
            "conformance": (self.conformance.to_dict() if self.conformance is not None
                            else None),
            "import_report": self.log.report.to_dict() if self.log.report else None,
            "warnings": self.warnings,
            "engine": self.engine,
            "left_out": self.left_out,
        }

    def write(self, out_dir: str | Path, stem: str | None = None) -> dict[str, Path]:
        """Write ``<stem>.pdf``, ``.json`` and ``.xlsx`` into `out_dir`; returns their paths.

        The three are rendered under temporary names and replace any earlier ones together
        once all are complete: a killed run leaves the previous report whole. The log's own
        files (its source and its Parquet file) are never overwritten.
        """
        from officemine.base.atomic import atomic_paths, write_text
        from officemine.rendering.companion import write_xlsx
        from officemine.rendering.pages import render_pdf

        out_dir = Path(out_dir)
        stem = stem or f"officemine_report_{self.month}"
        paths = {kind: out_dir / f"{stem}.{kind}" for kind in ("pdf", "json", "xlsx")}
        inputs = [getattr(self.log, "path", None),     # a log in Spark has no file here
                  self.log.report.source_file if self.log.report else None]
        if self.pseudonymization is not None:      # the renamed log no longer names its files
            inputs += list(self.pseudonymization.sources)
        with atomic_paths(*paths.values(), inputs=inputs) as (pdf, json_file, xlsx):
            render_pdf(self, pdf)
            write_text(json_file, self.to_json())
            write_xlsx(self.workbook(), xlsx)
        return paths

    def __repr__(self) -> str:
        overdue = (f"; {len(self.ledger.summary)} overdue open cases" if self.ledger is not None
                   else "")
        return (f"<MonthlyReport {self.month} ({self.lang}{', ' + self.engine if self.left_out else ''}): "
                f"{self.kpis.message}{overdue}>")


#: The headline figures of the index of a set of monthly reviews.
INDEX_KPIS = ("completed", "cycle_median_workdays", "on_time_rate", "return_rate",
              "open_overdue")


@dataclass(frozen=True)
class MonthlyReports(Result):
    """The reviews of several months (`monthly_reports`) and their index: `.index` (one row
    per month with its headline figures; also `.summary`), `.write(dir)` (each month's
    files, index.json and index.html)."""

    reports: list[MonthlyReport]
    lang: str

    @property
    def summary(self) -> pd.DataFrame:
        return self.index

    @property
    def provenance(self) -> Provenance:
        first = self.reports[0] if self.reports else None
        return provenance(getattr(first.kpis, "log_info", None) if first else None,
                          calendar=first.calendar if first else None)

    def to_dict(self) -> dict:
        """The index as JSON: the language and one record per month (as ``index.json``,
        without the file names)."""
        return {"lang": self.lang, "months": self.index.to_dict("records")}

    @property
    def months(self) -> list[str]:
        return [r.month for r in self.reports]

    @property
    def index(self) -> pd.DataFrame:
        """One row per month: whether it has data, its message, and every tile's value as
        printed (keys as in the KPIs' JSON)."""
        return pd.DataFrame([self._row(r) for r in self.reports],
                            columns=["month", "has_data", "message", *INDEX_KPIS])

    def _row(self, report: MonthlyReport, files: dict[str, Path] | None = None) -> dict:
        tiles = {t.key: t for t in report.kpis.tiles} if report.has_data else {}
        row = {"month": report.month, "has_data": report.has_data,
               "message": report.kpis.message}
        if files is not None:
            row.update({kind: path.name for kind, path in files.items()})
        row.update({k: t.text(self.lang) for k, t in tiles.items()})
        return row

    def write(self, out_dir: str | Path,
              progress: Callable[[str], None] | None = None) -> dict[str, Path]:
        """Each month's PDF, JSON and xlsx into `out_dir` (as `MonthlyReport.write`), then
        ``index.json`` and ``index.html`` listing them (replaced together). Returns the
        paths: the index files and, per month, its three files (``"2025-10.pdf"`` …)."""
        from officemine.base.atomic import atomic_paths
        from officemine.rendering.html import index_page

        out_dir = Path(out_dir)
        rows, written = [], {}
        for report in self.reports:
            if progress:
                progress(report.month)
            files = report.write(out_dir)
            written.update({f"{report.month}.{kind}": path for kind, path in files.items()})
            rows.append(self._row(report, files))
        paths = {"index.json": out_dir / "index.json", "index.html": out_dir / "index.html"}
        with atomic_paths(*paths.values()) as (json_temp, html_temp):
            json_temp.write_text(json.dumps(rows, ensure_ascii=False, indent=2),
                                 encoding="utf-8")
            html_temp.write_text(index_page(rows, self.lang, INDEX_KPIS), encoding="utf-8")
        return {**paths, **written}

    def index_html(self) -> str:
        """The index page `write` writes, without the links to the files (none written)."""
        from officemine.rendering.html import index_page

        return index_page([self._row(r) for r in self.reports], self.lang, INDEX_KPIS)

    def __repr__(self) -> str:
        with_data = sum(r.has_data for r in self.reports)
        span = f"{self.months[0]} – {self.months[-1]}" if self.reports else "no month"
        return (f"<MonthlyReports {span} ({self.lang}): {len(self.reports)} months, "
                f"{with_data} with data>")

    def describe(self) -> str:
        """One line in the reviews' language: the months and how many have data."""
        span = f"{self.months[0]} – {self.months[-1]}" if self.reports else "—"
        return say("review.reviews", self.lang, span=span, n=len(self.reports),
                   with_data=sum(r.has_data for r in self.reports))

    def _html_heading(self) -> list[str]:
        return [self.describe()]

    def _html_tables(self) -> list[pd.DataFrame]:
        """The index as its page shows it: the headline figures named in the language."""
        index = self.index.assign(message=[in_lang(r.kpis.message, self.lang)
                                           for r in self.reports])
        return [for_reader(index.drop(columns=["has_data"]), self.lang)]


def monthly_report(log: EventLog, month: str | None = None, *, lang: Lang = "zh",
                   config: ReportConfig | None = None, sla=None, calendar: Calendar | None = None,
                   scenario=None, pseudonymize: bool = False,
                   pseudonym_key: PseudonymKey | str | Path | None = None, seed: int = 0,
                   ledger=None, procedures=None,
                   progress: Callable[[str], None] | None = None,
                   memory_limit: int | str | None = None) -> MonthlyReport:
    """Run every analysis of the monthly review for `month` (default: latest complete month).

    pseudonymize: replace every person's name by a keyed pseudonym, in every text the report
    carries (see `officemine.privacy`). pseudonym_key: the key (or a key file; giving one
    implies `pseudonymize`); default `privacy.load_key` with the settings' key file.
    ledger: a supervision ledger (its path or a `Ledger`): adds its view of the month (a PDF
    page, a JSON section, a workbook sheet), its names pseudonymised with the rest.
    procedures: standard procedures (a file or `officemine.conformance.Procedures`; default
    the settings' ``procedures``): 不合规率 among the KPIs, its page, the process map's
    departures and the before/after row.
    progress: called with the name of each analysis as it starts (the CLI shows it).
    memory_limit: for a stored log larger than memory (``"3GB"``): the KPIs, the trend and
    the necessity test read it in batches of whole cases within the setting (the figures
    in memory); the parts not computed in batches (`NOT_IN_BATCHES`) are left out and
    named, as the Spark engine's review leaves out its own (`MonthlyReport.left_out`), and
    settings that need them are refused.
    """
    if memory_limit is not None:
        return _in_batches(log, month, memory_limit, lang=lang, config=config, sla=sla,
                           calendar=calendar, progress=progress, scenario=scenario,
                           pseudonymize=pseudonymize, pseudonym_key=pseudonym_key,
                           ledger=ledger, procedures=procedures)
    step = progress or (lambda name: None)
    ChoiceError.check("lang", lang, LANGS)
    month = str(as_month(month)) if month else log.latest_complete_month()
    shared = _shared(log, lang=lang, config=config, sla=sla, calendar=calendar,
                     scenario=scenario, pseudonymize=pseudonymize, pseudonym_key=pseudonym_key,
                     seed=seed, ledger=ledger, procedures=procedures, step=step)
    return _review(shared, month, step)


def monthly_reports(log: EventLog, months: Sequence[str] | None = None, *, lang: Lang = "zh",
                    config: ReportConfig | None = None, sla=None,
                    calendar: Calendar | None = None, scenario=None,
                    pseudonymize: bool = False,
                    pseudonym_key: PseudonymKey | str | Path | None = None, seed: int = 0,
                    ledger=None, procedures=None,
                    progress: Callable[[str, str], None] | None = None,
                    memory_limit: int | str | None = None) -> "MonthlyReports":
    """The monthly review of every month the log touches (or of `months`), and their index.

    What the months share is done once: the names are pseudonymised once (one table of
    pseudonyms for the whole set), the procedures checked once. Options as for
    `monthly_report` (`memory_limit`: each month's review in batches, as there);
    progress: called with (month, analysis) as each analysis starts.
    """
    ChoiceError.check("lang", lang, LANGS)
    if months is None:
        start, end = log.span()
        if end is None:
            raise NoDataError("the log is empty: no month to review")
        months = [str(m) for m in pd.period_range(pd.Period(start.tz_localize(None), "M"),
                                                  pd.Period(end.tz_localize(None), "M"),
                                                  freq="M")]
    else:
        months = [str(as_month(m)) for m in months]
    tell = progress or (lambda month, name: None)
    if memory_limit is not None:
        return MonthlyReports(reports=[
            _in_batches(log, m, memory_limit, lang=lang, config=config, sla=sla,
                        calendar=calendar, progress=lambda name, m=m: tell(m, name),
                        scenario=scenario, pseudonymize=pseudonymize,
                        pseudonym_key=pseudonym_key, ledger=ledger, procedures=procedures)
            for m in months], lang=lang)
    first = months[0] if months else ""
    shared = _shared(log, lang=lang, config=config, sla=sla, calendar=calendar,
                     scenario=scenario, pseudonymize=pseudonymize, pseudonym_key=pseudonym_key,
                     seed=seed, ledger=ledger, procedures=procedures,
                     step=lambda name: tell(first, name))
    reports = [_review(shared, m, lambda name, m=m: tell(m, name)) for m in months]
    return MonthlyReports(reports=reports, lang=lang)


@dataclass(frozen=True)
class _Shared:
    """What every month of a review shares: the (renamed) log, the settings and the checks
    done once for the whole log."""

    log: EventLog
    lang: str
    config: ReportConfig
    sla: object
    calendar: Calendar
    scenario: object
    pseudonymization: object | None
    key: object | None
    checked: object | None           # conformance.ConformanceResult of the whole log
    ledger: object | None            # supervision.Ledger (report --ledger)
    seed: int


def settings_of(log, config: ReportConfig | None, sla, calendar: Calendar | None):
    """The review's settings: those given, else the settings file's calendar and SLA, else
    the log's calendar and the default SLA. Returns (config, calendar, sla)."""
    from officemine.sla import SLA

    config = config or ReportConfig()
    calendar = calendar or (Calendar.from_toml(config.calendar_path, tz=log.timezone)
                            if config.calendar_path else log.calendar)
    sla = sla or (SLA.from_toml(config.sla_path) if config.sla_path else SLA.default())
    return config, calendar, sla


def refuse_unsupported(refused: dict, config: ReportConfig, where: str, instead: str) -> None:
    """One error naming every option given (and the settings' procedures and redesigns)
    that a review computed `where` cannot honour yet."""
    given = [name for name, value in refused.items() if value not in (None, False, [], ())]
    if config.procedures_path:
        given.append("procedures (the settings')")
    if config.redesigns:
        given.append("redesigns (the settings': before/after)")
    if given:
        raise NotSupportedError(f"not {where} yet: {', '.join(given)}; write this review "
                                f"without them, or {instead}")


def _shared(log: EventLog, *, lang, config, sla, calendar, scenario, pseudonymize,
            pseudonym_key, seed, ledger, procedures, step) -> _Shared:
    """Settings resolved, names pseudonymised and procedures checked: once per review."""
    config, calendar, sla = settings_of(log, config, sla, calendar)
    pseudonymization = key = None
    if pseudonymize or pseudonym_key is not None:
        step("pseudonyms")
        key = _key(pseudonym_key, config)
        pseudonymization = _pseudonymize(log, key, config, lang)
        log = pseudonymization.log
        # settings that name process types, nodes or people must match the renamed log
        config, sla, scenario = _pseudonymous_settings(pseudonymization, config, sla, scenario)
    checked = _check_conformance(log, procedures or config.procedures_path, calendar,
                                 pseudonymization, key, step)
    book = None
    if ledger is not None:
        from officemine.supervision import Ledger

        book = ledger if isinstance(ledger, Ledger) else \
            Ledger(ledger, readonly=True, create=False)
    return _Shared(log=log, lang=lang, config=config, sla=sla, calendar=calendar,
                   scenario=scenario, pseudonymization=pseudonymization, key=key,
                   checked=checked, ledger=book, seed=seed)


def _review(shared: _Shared, month: str, step: Callable[[str], None]) -> MonthlyReport:
    """Every analysis of the review of one month."""
    from officemine import discovery as disc
    from officemine.kpis import kpi_trend, monthly_kpis
    from officemine.necessity import necessity
    from officemine.supervision import bottlenecks, overdue_ledger

    log, calendar, sla, config = shared.log, shared.calendar, shared.sla, shared.config
    checked, pseudonymization = shared.checked, shared.pseudonymization
    period = pd.Period(month, freq="M")
    start, end = period.start_time, (period + 1).start_time
    step("KPIs")
    kpis = monthly_kpis(log, month, calendar=calendar, sla=sla, procedures=checked)
    step("12-month trend")
    trend = kpi_trend(log, months=12, end_month=month, calendar=calendar, sla=sla,
                      procedures=checked)
    warnings: list[str] = []

    month_log = log.select_cases(start, end, by="end")
    discovery = None
    if month_log.n_events:
        step("process map")
        try:
            discovery = disc.discover(month_log, calendar=calendar, seed=shared.seed)
        except OfficemineError as exc:
            warnings.append(Said("review.no_map", error=str(exc)))
    window_start = (period - (config.necessity_months - 1)).start_time
    window_log = log.select_cases(window_start, end, by="end")
    # the process as it ran up to the month's end: advice judges its current version only
    step("process versions")
    versions = process_versions(log.select_cases(end=end, by="start"), config.redesigns)
    warnings.extend(versions.notes)
    necessity_result = None
    if window_log.n_events:
        step("necessity test")
        try:
            necessity_result = necessity(window_log, calendar=calendar, since=versions)
        except OfficemineError as exc:
            warnings.append(Said("review.no_necessity", error=str(exc)))
    as_of = month_as_of(period, log.timezone, log.span()[1])
    step("overdue ledger")
    ledger = overdue_ledger(log, as_of=as_of, sla=sla, calendar=calendar)
    step("bottlenecks")
    bottleneck = bottlenecks(log, month=month, calendar=calendar, as_of=as_of)
    step("before and after the redesigns")
    before_after = [_before_after(log, r, calendar, sla, end, checked=checked)
                    for r in config.redesigns]
    simulation = None
    if shared.scenario is not None:
        from officemine.simulation import simulate

        step("simulation")
        simulation = simulate(window_log if window_log.n_events else log, shared.scenario,
                              calendar=calendar, seed=shared.seed, since=versions)
    ledger_view = None
    if shared.ledger is not None:
        step("supervision ledger")
        ledger_view = shared.ledger.month_view(month)
        if pseudonymization is not None:
            from officemine.privacy import Replacer

            # the ledger may name people this log no longer does: the same key covers them
            names = set(pseudonymization.replacer.table) | ledger_view.names()
            ledger_view = ledger_view.pseudonymized(
                Replacer(names, shared.key, prefix=pseudonymization.prefix))
    return MonthlyReport(
        month=month, lang=shared.lang, organisation=config.organisation, kpis=kpis,
        trend=trend, discovery=discovery, necessity=necessity_result,
        necessity_window=(str(pd.Period(window_start, freq="M")), month), versions=versions,
        bottlenecks=bottleneck, ledger=ledger, before_after=before_after,
        simulation=simulation, log=log, calendar=calendar, sla=sla,
        pseudonymization=pseudonymization, warnings=warnings,
        ledger_view=ledger_view,
        conformance=checked.for_month(month) if checked is not None else None)


#: The parts of the monthly review not computed in batches of whole cases yet, and why.
NOT_IN_BATCHES = {part: left_out_why(part, "duckdb-batches") for part in ("process_map",)}
#: `MonthlyReport.engine` of a review read in batches.
BATCHES = "duckdb-batches"


def _in_batches(log: EventLog, month: str | None, memory_limit: int | str, *, lang: Lang,
                config: ReportConfig | None, sla, calendar: Calendar | None,
                progress: Callable[[str], None] | None, **refused) -> MonthlyReport:
    """`monthly_report` of a stored log read in batches of whole cases within
    `memory_limit`: the KPIs, the trend, the process versions, the necessity test and the
    bottlenecks; the overdue ledger from the cases open at the month's end alone; the process
    map left out."""
    from officemine.importing.streaming import parse_size
    from officemine.kpis import kpi_trend, monthly_kpis
    from officemine.necessity import necessity
    from officemine.supervision import bottlenecks, overdue_ledger

    step = progress or (lambda name: None)
    ChoiceError.check("lang", lang, LANGS)
    parse_size(memory_limit)                       # a bad setting fails before any work
    config = config or ReportConfig()
    refuse_unsupported(refused, config, "computed in batches", "without a memory limit")
    config, calendar, sla = settings_of(log, config, sla, calendar)
    month = str(as_month(month)) if month else log.latest_complete_month()
    period = pd.Period(month, freq="M")
    step("KPIs")
    kpis = monthly_kpis(log, month, calendar=calendar, sla=sla, memory_limit=memory_limit)
    step("12-month trend")
    trend = kpi_trend(log, months=12, end_month=month, calendar=calendar, sla=sla,
                      memory_limit=memory_limit)
    window_start = period - (config.necessity_months - 1)
    window_log = log.select_cases(window_start.start_time, (period + 1).start_time, by="end")
    warnings: list[str] = []
    # the process as it ran up to the month's end: advice judges its current version only
    step("process versions")
    versions = process_versions(log.select_cases(end=(period + 1).start_time, by="start"),
                                memory_limit=memory_limit)
    warnings.extend(versions.notes)
    necessity_result = None
    if window_log.n_events:
        step("necessity test")
        try:
            necessity_result = necessity(window_log, calendar=calendar, since=versions,
                                         memory_limit=memory_limit)
        except OfficemineError as exc:
            warnings.append(Said("review.no_necessity", error=str(exc)))
    # the ledger reads only the cases open at the month's end, whole (189,000 cases of the
    # 100M-event log: 0.8 GiB)
    step("overdue ledger")
    as_of = month_as_of(period, log.timezone, log.span()[1])
    ledger = overdue_ledger(log, as_of=as_of, sla=sla, calendar=calendar)
    step("bottlenecks")
    bottleneck = bottlenecks(log, month=month, calendar=calendar, as_of=as_of,
                             memory_limit=memory_limit)
    return MonthlyReport(
        month=month, lang=lang, organisation=config.organisation, kpis=kpis, trend=trend,
        discovery=None, necessity=necessity_result,
        necessity_window=(str(window_start), month), versions=versions,
        bottlenecks=bottleneck,
        ledger=ledger, before_after=[], simulation=None, log=log, calendar=calendar, sla=sla,
        pseudonymization=None, warnings=warnings, engine=BATCHES,
        left_out=dict(NOT_IN_BATCHES))


def _key(key, config: ReportConfig):
    """The pseudonym key: a `PseudonymKey` as given, else `privacy.load_key` (a key file, or
    the settings' key file)."""
    from officemine.privacy import PseudonymKey, load_key

    return key if isinstance(key, PseudonymKey) else \
        load_key(key, settings_file=config.pseudonym_key_file)


def _pseudonymize(log: EventLog, key, config: ReportConfig, lang: str):
    """The log with every name replaced (`privacy.pseudonymization`), under `key`: a
    `PseudonymKey`, a key file, or None (`privacy.load_key` with the settings' key file)."""
    from officemine.privacy import PseudonymKey, load_key, pseudonymization

    if not isinstance(key, PseudonymKey):
        key = load_key(key, settings_file=config.pseudonym_key_file)
    return pseudonymization(log, key, prefix=say("privacy.prefix", lang))


def _pseudonymous_settings(done, config: ReportConfig, sla, scenario):
    """Redesigns, SLA limits and scenarios with names replaced as in the log: a process type,
    a node or a condition that names a person (审批人 张三) still finds its cases."""
    from dataclasses import replace

    from officemine.sla import SLA

    text = done.text
    config = replace(config, redesigns=tuple(
        Redesign(r.date, text(r.name), text(r.process_type)) for r in config.redesigns))
    if sla is not None:
        sla = SLA(default_limit=sla.default_limit,
                  limits={text(k): v for k, v in sla.limits.items()}, name=text(sla.name))
    if scenario is not None:
        from officemine.privacy import file_name
        from officemine.simulation import Scenario

        def rename(s):
            return Scenario.from_dict(done.replacer.settings(s.to_dict()),
                                      source=text(file_name(s.source)) if s.source else None)

        scenario = [rename(s) for s in scenario] if isinstance(scenario, (list, tuple)) \
            else rename(scenario)
    return config, sla, scenario


def _before_after(log: EventLog, redesign: Redesign, calendar, sla, until,
                  window_months: int = 6, checked=None) -> BeforeAfter:
    """Cases completed in the `window_months` before vs after the date (up to the report
    month); with `checked` (a `ConformanceResult`) also their 不合规率."""
    from officemine.kpis import case_cycles

    cases = _with_deviating(case_cycles(log, calendar, sla), checked)
    done = cases[cases["status"].isin(["archived", "rejected", "withdrawn"])
                 & cases["ended_at"].notna()]
    if redesign.process_type:
        done = done[done["process_type"] == redesign.process_type]
    date = pd.Timestamp(redesign.date).tz_localize(log.timezone)
    lo = date - pd.DateOffset(months=window_months)
    hi = min(date + pd.DateOffset(months=window_months), pd.Timestamp(until).tz_localize(log.timezone))
    # a case belongs to the regime under which it was submitted
    periods = {"before": done[(done["start_at"] >= lo) & (done["start_at"] < date)],
               "after": done[(done["start_at"] >= date) & (done["ended_at"] < hi)]}
    rows = []
    for name, frame in periods.items():
        n = len(frame)
        row = {"period": name, "from": (lo if name == "before" else date).date().isoformat(),
               "to": (date if name == "before" else hi).date().isoformat(), "cases": n}
        row["cycle_median_workdays"] = float(frame["cycle_workdays"].median()) if n else np.nan
        row["cycle_p90_workdays"] = float(frame["cycle_workdays"].quantile(0.9)) if n else np.nan
        for key, values in (("on_time_rate", frame["on_time"]),
                            ("return_rate", (frame["returns"] > 0).astype(float))):
            k = float(values.sum())
            lo_ci, hi_ci = wilson_interval(k, n)
            row[key] = k / n if n else np.nan
            row[f"{key}_ci_low"], row[f"{key}_ci_high"] = float(lo_ci), float(hi_ci)
        row["handoffs_per_case"] = float(frame["handoffs"].mean()) if n else np.nan
        if checked is not None:
            row.update(_noncompliance(frame["deviating"]))
        rows.append(row)
    summary = pd.DataFrame(rows)
    deviating = None
    if checked is not None:
        table = checked.tables.cases
        deviating = pd.Series(table["deviating"].to_numpy(dtype=float),
                              index=table["case_id"].astype(str))
    from officemine.effects import redesign_effect

    effect = redesign_effect(log, redesign.date, redesign.process_type, calendar=calendar,
                             sla=sla, window_months=window_months, until=hi,
                             deviating=deviating)
    return BeforeAfter(redesign=redesign, summary=summary, window_months=window_months,
                       effect=effect)


# --- standard procedures: 不合规率 and its page ---------------------------------------------------

def _check_conformance(log: EventLog, procedures, calendar: Calendar, pseudonymization, key,
                       step):
    """The conformance check of the whole log (None without procedures). A pseudonymised
    report checks the renamed log against procedures renamed the same way: a step, a
    department or a roster that names a person still finds its cases, and the people the
    procedures name get their pseudonyms even where the log never names them."""
    if procedures is None:
        return None
    from officemine.conformance import conformance, load_procedures

    procs = load_procedures(procedures)
    if pseudonymization is not None:
        from officemine.privacy import Replacer

        names = set(pseudonymization.replacer.table) | procs.people()
        procs = procs.renamed(Replacer(names, key, prefix=pseudonymization.prefix).text)
    step("conformance check")
    return conformance(log, procs, calendar=calendar)


def _with_deviating(cases: pd.DataFrame, checked) -> pd.DataFrame:
    """`cases` with ``deviating`` (1.0 / 0.0; NaN: not checked) from a conformance result."""
    if checked is None:
        return cases
    table = checked.tables.cases
    where = pd.Index(table["case_id"]).get_indexer(cases["case_id"])
    flag = np.full(len(cases), np.nan)
    flag[where >= 0] = table["deviating"].to_numpy(dtype=float)[where[where >= 0]]
    return cases.assign(deviating=flag)


def _noncompliance(flags: pd.Series) -> dict:
    """不合规率 of the checked cases among `flags`, with its Wilson interval."""
    known = flags.dropna()
    n, k = len(known), float(known.sum())
    lo, hi = wilson_interval(k, n)
    return {"noncompliance_rate": k / n if n else np.nan, "noncompliance_rate_ci_low": float(lo),
            "noncompliance_rate_ci_high": float(hi), "conformance_n": n}


def _conformance_tables(result) -> dict[str, pd.DataFrame]:
    """The workbook sheets of the month's conformance check."""
    if result is None:
        return {}
    return {"conformance": result.summary, "conformance_by_step": result.by_step,
            "conformance_deviations": result.deviations.drop(columns=["ended_at"])}


__all__ = ["MonthlyReport", "MonthlyReports", "ReportConfig", "monthly_report", "monthly_reports"]
