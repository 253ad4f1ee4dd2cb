"""The monthly review with a ledger: its 督办台账 page in the PDF, its section in the JSON and
its sheet in the workbook say what the ledger's month view says; and the README's ledger
page on the sample office is what the commands it shows produce."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.review import monthly_report
from officemine.supervision import Ledger

from conftest import REPO
from weekly_office import office, snapshots

runner = CliRunner()


@pytest.fixture(scope="module")
def april(tmp_path_factory):
    folder = tmp_path_factory.mktemp("april")
    exports = snapshots(office(), folder)
    ledger = folder / "duban.db"
    with Ledger(ledger) as book:
        for path in exports:
            book.update(officemine.read_log(path))
    return folder, exports[-1], ledger


def test_the_review_shows_the_ledgers_month_in_pdf_json_and_workbook(april):
    folder, last, ledger = april
    result = runner.invoke(app, ["report", str(last), "--month", "2025-04", "--ledger",
                                 str(ledger), "-o", str(folder / "review")])
    assert result.exit_code == 0, result.output
    view = Ledger(ledger, readonly=True).month_view("2025-04")
    data = json.loads((folder / "review" / "officemine_report_2025-04.json")
                      .read_text(encoding="utf-8"))["supervision_ledger"]
    assert (data["opened"], data["closed"], data["still_open"]) == \
        (view.opened, view.closed, view.still_open)
    assert data["median_days_to_close"] == pytest.approx(view.median_days_to_close)
    assert data["weeks"] == list(view.weeks) and len(data["people"]) == len(view.people)
    pages = [p.extract_text() for p in
             PdfReader(folder / "review" / "officemine_report_2025-04.pdf").pages]
    page = next(t for t in pages if "督办台账：本月列入、销号与在办" in t)
    for value in (view.opened, view.closed, view.still_open):
        assert str(value) in page
    assert f"{view.median_days_to_close:.1f}" in page
    assert view.people["responsible"].iloc[0] in page
    sheet = pd.read_excel(folder / "review" / "officemine_report_2025-04.xlsx",
                          sheet_name="督办台账")
    assert len(sheet) == len(view.summary) and "月末在办" in sheet.columns
    assert int(sheet["月末在办"].sum()) == view.still_open


def test_a_pseudonymised_review_hides_the_ledgers_names(april):
    folder, last, ledger = april
    report = monthly_report(officemine.read_log(last), "2025-04", ledger=ledger,
                            pseudonymize=True)
    names = set(Ledger(ledger, readonly=True).month_view("2025-04").people["responsible"])
    shown = set(report.ledger_view.people["responsible"])
    assert shown and not shown & names
    text = json.dumps(report.to_dict()["supervision_ledger"], ensure_ascii=False)
    assert not any(name in text for name in names)
    without = monthly_report(officemine.read_log(last), "2025-04")
    assert without.ledger_view is None and "ledger" not in without.tables()


def readme_block() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("<!-- ledger-sample:start")[1].split("<!-- ledger-sample:end")[0]


def test_the_readme_ledger_page_is_what_its_commands_give(sample_csv, tmp_path):
    block = readme_block()
    weeks = re.findall(r"\d{4}-\d{2}-\d{2}", block.split("for week in")[1].split(";")[0])
    assert len(weeks) >= 4
    log = officemine.import_log(sample_csv)
    with Ledger(tmp_path / "duban.db") as book:
        for day in weeks:
            book.update(log, f"{day} 17:30")
        view = book.month_view("2025-10")
    shown = dict(re.findall(r"\| (本月列入|本月销号|月末在办|销号事项超期中位数) \| ([^|]+) \|", block))
    assert shown["本月列入"].strip() == str(view.opened)
    assert shown["本月销号"].strip() == str(view.closed)
    assert shown["月末在办"].strip() == str(view.still_open)
    assert shown["销号事项超期中位数"].strip() == view.median_text("zh")
    assert (REPO / "docs" / "img" / "ledger_page_2025-10.png").exists()
