"""The text catalogue: a reader of a deliverable sees words in its language, never field
names or the other language."""

import re

import openpyxl
import pandas as pd
import pytest

import officemine
from officemine.base.text import for_reader, label, relabel, sheet_name

from conftest import REPO

HAN = re.compile(r"[\u4e00-\u9fff]")
#: Latin words a Chinese header may hold: units and names of measures used as they are.
ZH_KEEPS = re.compile(r"P90|SLA|CI|EMD|ID")


def foreign(text: str, lang: str) -> bool:
    """Whether `text`, written for a reader of `lang`, holds words of the other language."""
    if lang == "en":
        return bool(HAN.search(text))
    return bool(re.search(r"[A-Za-z]{2,}", ZH_KEEPS.sub("", text)))


def test_a_field_in_both_languages_is_shown_once_in_the_readers():
    frame = pd.DataFrame({"node": ["财务初审"], "reason": ["returns for missing material"],
                          "reason_zh": ["材料不全退回"], "unit_zh": ["件"], "unit_en": ["cases"]})
    zh, en = for_reader(frame, "zh"), for_reader(frame, "en")
    assert list(zh.columns) == ["节点", "理由", "单位"] and zh["理由"][0] == "材料不全退回"
    assert list(en.columns) == ["Node", "Reason", "Unit"] and en["Unit"][0] == "cases"
    assert label("source", "zh") == "依据" and label("source", "zh", "map_arcs") == "来源节点"
    assert relabel(pd.DataFrame(columns=["no_such_field"]), "en").columns[0] == "no_such_field"
    assert (sheet_name("before_after_2_effect", "zh"), sheet_name("before_after_2", "en")) == \
        ("改革效果2", "Before and after 2")
    with pytest.raises(officemine.ChoiceError):
        label("node", "fr")


def test_the_checker_tells_the_languages_apart():
    assert foreign("wait_share", "zh") and foreign("等待", "en")
    assert not foreign("办理时长P90（工作日）", "zh") and not foreign("Wait p90", "en")


@pytest.fixture(scope="module")
def reviews(sample_csv):
    log = officemine.import_log(sample_csv)
    config = officemine.ReportConfig.from_toml(REPO / "sample_logs" / "report.toml")
    return {lang: officemine.monthly_report(
        log, "2025-10", config=config, lang=lang, pseudonymize=True,
        pseudonym_key=officemine.PseudonymKey.one_off(),
        procedures=REPO / "procedures" / "sample_office.toml",
        scenario=officemine.Scenario.from_toml(REPO / "scenarios" /
                                               "short_route_small_claims.toml"))
        for lang in ("zh", "en")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_speaks_the_reviews_language(reviews, lang, tmp_path):
    """Every sheet name and column header of the written workbook, for every table the
    review holds (conformance, scenario, before/after, pseudonyms included)."""
    path = reviews[lang].write(tmp_path)["xlsx"]
    book = openpyxl.load_workbook(path, read_only=True)
    assert len(book.sheetnames) >= 15
    wrong = []
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1, values_only=True))
        wrong += [f"{sheet.title}: {h}" for h in [sheet.title, *header] if foreign(str(h), lang)]
    assert not wrong, wrong
