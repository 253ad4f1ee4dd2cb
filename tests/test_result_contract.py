"""Every public result keeps the one result contract (`officemine.log.result.Result`): a readable
repr, escaped HTML, JSON that is `plain(to_dict())`, a summary frame, a frozen provenance."""

from __future__ import annotations

import dataclasses
import inspect
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import officemine
from officemine.base.jsonable import plain
from officemine.log.result import Provenance, Result

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs" / "oa_sample.csv"
#: A node name and a title prefix a notebook must show as text, never run.
PLANTED = "<script>alert(1)</script>会议室审核"
PLANTED_TITLE = "<script>alert(2)</script>"

#: Every result class the contract is checked on, with how to get one from `built`.
RESULTS = {
    "NecessityResult": lambda b: b["necessity"],
    "DiscoveryResult": lambda b: b["discovery"],
    "VariantsResult": lambda b: b["discovery"].variants,
    "ProcessMap": lambda b: b["discovery"].process_map,
    "ReworkResult": lambda b: b["discovery"].rework,
    "HandoffResult": lambda b: b["discovery"].handoffs,
    "MonthlyKPIs": lambda b: b["kpis"],
    "KPITrend": lambda b: b["trend"],
    "OverdueLedger": lambda b: b["ledger"],
    "Bottlenecks": lambda b: b["bottlenecks"],
    "WeeklyDigest": lambda b: b["digest"],
    "CaseFile": lambda b: b["case_file"],
    "LedgerMonth": lambda b: b["ledger_month"],
    "ProcessVersions": lambda b: b["versions"],
    "RedesignEffect": lambda b: b["effect"],
    "SimulationResult": lambda b: b["simulation"],
    "ScenarioResult": lambda b: b["simulation"][0],
    "ConformanceResult": lambda b: b["conformance"],
    "ImportReport": lambda b: b["log"].report,
    "MonthlyReport": lambda b: b["report"],
    "MonthlyReports": lambda b: officemine.MonthlyReports([b["report"]], "zh"),
}
#: Results whose HTML shows a planted name (the others show neither nodes nor titles).
SHOWS_PLANTED = {"NecessityResult", "ProcessMap", "ReworkResult", "VariantsResult",
                 "Bottlenecks", "OverdueLedger", "WeeklyDigest", "CaseFile"}
#: Public classes with a `to_json` that are inputs, not results: settings models.
SETTINGS = {"Scenario"}
#: Results written in one language: their HTML speaks it (`describe`), not the repr's English.
IN_THEIR_LANGUAGE = ("MonthlyReport", "MonthlyReports")


@pytest.fixture(scope="module")
def built(tmp_path_factory, sample_reviews) -> dict:
    """Every result, from the sample office with one node renamed to `PLANTED` (the review:
    the session's Chinese sample review, `conftest.sample_reviews`)."""
    from officemine.supervision import Ledger, bottlenecks

    folder = tmp_path_factory.mktemp("contract")
    frame = pd.read_csv(SAMPLE, encoding="gbk", dtype=str, keep_default_na=False)
    frame["节点名称"] = frame["节点名称"].replace("会议室审核", PLANTED)
    frame["标题"] = PLANTED_TITLE + frame["标题"]
    log = officemine.import_log(frame, name="oa_sample")
    procedures = folder / "procedures.toml"
    procedures.write_text((REPO / "procedures" / "sample_office.toml").read_text("utf-8")
                          .replace("会议室审核", PLANTED), "utf-8")
    ledger = officemine.overdue_ledger(log)
    with Ledger(folder / "ledger.db") as book:
        digest = book.update(log)
        case_file = book.history(digest.summary["case_id"].iloc[0])
        ledger_month = book.month_view(digest.as_of.strftime("%Y-%m"))
    return {
        "log": log, "necessity": officemine.necessity(log, since="all"),
        "discovery": officemine.discover(log, n_boot=50),
        "kpis": officemine.monthly_kpis(log), "trend": officemine.kpi_trend(log, months=3),
        "ledger": ledger, "bottlenecks": bottlenecks(log), "digest": digest,
        "case_file": case_file, "ledger_month": ledger_month,
        "versions": officemine.process_versions(log),
        "effect": officemine.redesign_effect(log, "2025-07-01", "费用报销", n_boot=50),
        "simulation": officemine.simulate(
            log, REPO / "scenarios" / "remove_office_check.toml", since="all"),
        "conformance": officemine.conformance(log, procedures),
        "report": sample_reviews.reviews["zh"],
    }


def _result_classes() -> set[type]:
    """Every Result subclass defined in officemine, however deep."""
    seen, todo = set(), [Result]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return {c for c in seen if not inspect.isabstract(c) and not c.__name__.startswith("_")
            and c.__module__.startswith("officemine")}


def test_the_list_covers_every_result_class():
    import officemine.discovery  # noqa: F401  (the classes below are defined on import)
    import officemine.supervision  # noqa: F401

    names = {c.__name__ for c in _result_classes()} - {"DiscoveryOutput"}
    assert names == set(RESULTS)
    public = {n: getattr(officemine, n) for n in officemine.__all__}
    public_results = {n for n, c in public.items() if isinstance(c, type)
                      and issubclass(c, Result)}
    assert public_results <= set(RESULTS)
    with_json = {n for n, c in public.items() if isinstance(c, type) and hasattr(c, "to_json")}
    assert with_json - SETTINGS == public_results, "a public class with to_json is no Result"


class _Checker(HTMLParser):
    """Collects start tags and text, and fails on tags that do not nest."""

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in ("br", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"</{tag}> closes nothing open"

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_the_contract(name, built, capsys):
    result = RESULTS[name](built)
    assert type(result).__name__ == name and isinstance(result, Result)

    text = repr(result)
    assert text.startswith(f"<{name}") and ">" in text

    page = result._repr_html_()
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.stack, f"unclosed tags: {checker.stack}"
    assert "script" not in checker.tags and "<script>" not in page
    assert checker.text[0].startswith(text.splitlines()[0]) or name in (
        "VariantsResult", "ProcessMap", "ReworkResult", "HandoffResult", "DiscoveryResult",
        "ImportReport", *IN_THEIR_LANGUAGE)
    shown = "".join(checker.text)
    if name in SHOWS_PLANTED:
        assert PLANTED in shown or PLANTED_TITLE in shown
        assert "&lt;script&gt;alert(" in page

    data = json.loads(result.to_json())
    assert data == json.loads(json.dumps(plain(result.to_dict(), result.json_digits)))
    assert result.to_json(indent=None).count("\n") == 0

    assert isinstance(result.summary, pd.DataFrame)

    prov = result.provenance
    assert isinstance(prov, Provenance) and prov.version == officemine.__version__
    with pytest.raises(dataclasses.FrozenInstanceError):
        prov.version = "0"
    json.dumps(prov.to_dict())

    result.print_summary()
    assert capsys.readouterr().out == text + "\n"


def test_provenance_names_what_each_result_rests_on(built):
    necessity = built["necessity"].provenance
    assert necessity.source == "oa_sample" and necessity.as_of == built["necessity"].as_of
    assert necessity.scope.startswith(f"{built['log'].n_cases:,} cases")
    assert necessity.calendar == built["necessity"].calendar and necessity.seed is None
    assert built["simulation"].provenance.seed == built["simulation"].seed == 0
    assert built["discovery"].rework.provenance.seed == built["discovery"].settings["seed"]
    assert built["log"].report.provenance.source == "oa_sample"
    assert built["report"].provenance.calendar == built["report"].calendar.describe()


def test_results_that_nothing_changes_are_frozen(built):
    for name, get in RESULTS.items():
        result = get(built)
        assert dataclasses.is_dataclass(result), name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, dataclasses.fields(result)[0].name, None)
