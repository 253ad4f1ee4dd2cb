"""The text catalogue: a reader of a deliverable sees words in its language — never field
names, codes or the other language — in the review's PDF and workbook, the HTML index of a
set of reviews, the notebooks' HTML and the report command's output.

The language test renders each deliverable in Chinese and in English and reads it back as the
reader gets it (the PDF's text with pypdf, the workbook with openpyxl, the command's output):
the log's own words (nodes, process types, people, titles), the settings' (organisation,
redesign and scenario names, procedures) and file names are data, taken out before the text
is judged; what is left must be of the deliverable's language.
"""

import ast
import pickle
import re
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import officemine
from officemine.base.text import for_reader, label, relabel, sheet_name
from officemine.base.text import GLOSSES, PHRASES, Said, necessity_reason, say, stored_step, word

from conftest import SAMPLE_SETTINGS

HAN = re.compile(r"[\u4e00-\u9fff]+")
#: Names a Chinese text keeps as they are: the product, methods, units, file formats.
KEPT = re.compile(r"(?<![A-Za-z])(officemine|Kaplan–Meier|Wilson|HMAC-SHA256|EMD|Excel|SLA|"
                  r"P90|CI|ID|GB18030|gb18030|utf-8|chinese_calendar|csv|xlsx)(?![A-Za-z])")
#: What a user types, kept as it is in either language: a settings key (``[linking] match``,
#: ``[[label_rules]]``, ``[returns] reject_then_resubmit = "return"``) or an option (``--calendar``).
TYPED = re.compile(r"\[\[?[a-z_]+\]\]?(?:[a-z_]+(?:=\"?[a-z_]+\"?)?)?|--[a-z][a-z-]*")
#: A Chinese reform term an English text may keep, in brackets after its English words.
GLOSS = re.compile(r"[(（](" + "|".join(GLOSSES) + r")[)）]")
#: Field names and codes (``wait_workhours_median``): never for a reader, in either language.
FIELD = re.compile(r"[A-Za-z]+(?:_[A-Za-z0-9]+)+")
PSEUDONYM = re.compile(r"(人员|Person)-[0-9a-f]{12}")
#: Columns of a log that hold the source's own words.
DATA_COLUMNS = ("case_id", "node", "process_type", "resource", "dept", "applicant",
                "applicant_dept", "title", "urgency")


def foreign(text: str, lang: str, vocabulary=()) -> list[str]:
    """What `text`, written for a reader of `lang`, holds of the other language: field names
    in either; Latin words in Chinese (but `KEPT` names), Chinese in English (but `GLOSSES`).
    `vocabulary` (data: the log's and the settings' words, longest first, no whitespace) is
    taken out first; text is judged without whitespace, as a PDF may break a name anywhere."""
    flat = re.sub(r"\s+", "", str(text))
    for words in vocabulary:
        flat = flat.replace(words, "·")
    flat = TYPED.sub("·", PSEUDONYM.sub("·", flat))
    if lang == "en":
        flat = GLOSS.sub("·", flat)
        return HAN.findall(flat) + FIELD.findall(KEPT.sub("·", flat))
    return re.findall(r"[A-Za-z][A-Za-z_]+", KEPT.sub("·", flat))


def vocabulary_of(logs, settings=(), more=()) -> list[str]:
    """The words of `logs` (their source's words and their import reports' file and column
    names), of the settings files and `more`: data, not the deliverable's text."""
    words = set(more)
    for log in logs:
        frame = log.to_pandas()
        for column in DATA_COLUMNS:
            if column in frame:
                words |= set(frame[column].dropna().astype(str))
        report = log.report
        if report is not None:          # a log built in memory has no source
            words |= {Path(report.source_file).name, report.timezone}
            words |= {h for v in report.columns_used.values() for h in v.split(" + ")}
    for path in settings:
        words |= set(_strings(tomllib.loads(Path(path).read_text(encoding="utf-8"))))
    return sorted({re.sub(r"\s+", "", w) for w in words if w}, key=len, reverse=True)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.fixture(scope="module")
def vocabulary(sample_reviews):
    logs = [sample_reviews.log, *(r.log for r in sample_reviews.reviews.values())]
    config, review = sample_reviews.config, sample_reviews.reviews["zh"]
    return vocabulary_of(logs, SAMPLE_SETTINGS.values(),
                         [str(sample_reviews.folder / "duban.db"), config.organisation,
                          *(r.name for r in config.redesigns),
                          *(p.name for p in SAMPLE_SETTINGS.values()),
                          review.pseudonymization.key_fingerprint])


# --- the catalogue ----------------------------------------------------------------------------

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


def test_a_reader_reads_codes_as_words():
    params = {"n": 655, "rate": 0.009, "ci_low": 0.004, "ci_high": 0.02, "confidence": 0.95,
              "threshold": 0.05, "leadership": False, "wait": 11.3, "basis": "working"}
    frame = pd.DataFrame({"node": ["综合办公室审核"], "verdict": ["streamline"],
                          "reason_code": ["rarely_stops_long_wait"], "reason_params": [params],
                          "path": ["发起 → 财务初审:return → 发起"], "key": ["x"],
                          "name_zh": ["指标"], "current_step": ["财务初审（待办）"]})
    zh, en = for_reader(frame, "zh", "necessity"), for_reader(frame, "en", "necessity")
    assert zh["结论"][0] == "精简/备案" and en["Verdict"][0] == "streamline"
    assert zh["理由"][0].startswith("655 件中仅退回/否决 0.9%（95%区间 0.4%–2.0%，低于 5%）")
    assert en["Reason"][0] == necessity_reason("rarely_stops_long_wait", params, "en")
    assert "record-only (备案制)" in en["Reason"][0] and "working hours" in en["Reason"][0]
    assert zh["路径"][0] == "发起 → 财务初审（退回） → 发起"
    assert en["Path"][0] == "发起 → 财务初审 (returned) → 发起"
    assert "指标代码" not in zh.columns and "Key" not in en.columns      # codes for programs
    assert zh["当前环节"][0] == "财务初审（待办）" and en["Current step"][0] == "财务初审 (pending)"
    assert stored_step("(未知)（之后，下一节点未知）", "en") == "(unknown) (after it; next step unknown)"
    assert word("verdict", "财务初审", "en") == "财务初审" and word("verdict", None, "en") is None


def test_a_sentence_kept_as_code_and_parameters_reads_in_either_language():
    note = Said("import.pending", n=18)
    assert note == ("18 work items were still pending at export (arrived, not yet acted on): "
                    "kept as pending rows, their waits are right-censored")
    assert note.text("zh").startswith("导出时仍有 18 条待办事项")
    nested = Said("kpis.change_no_data", month="2024-10", which=Said("kpis.same_month_last_year"),
                  why=Said("kpis.outside", month="2024-10", span="…"))
    assert "去年同月" in nested.text("zh") and "same month last year" in nested
    for again in (pickle.loads(pickle.dumps(nested)), Said.from_dict(nested.to_dict())):
        assert isinstance(again, Said) and again.text("zh") == nested.text("zh")
    with pytest.raises(officemine.LogFormatError):
        Said.from_dict({"key": "no.such.phrase", "params": {}})
    # every phrase is in both languages (but the few that need no word in Chinese)
    assert [key for key, pair in PHRASES.items() if not all(pair)] == [
        "review.the_process", "calendar.day_sep"]


def test_the_checker_tells_the_languages_apart():
    """It must be able to fail: text of the other language planted in each is found."""
    assert foreign("等待中位数 wait_workhours_median", "zh") == ["wait_workhours_median"]
    assert foreign("中位等待 the median wait", "zh") == ["themedianwait"]
    assert foreign("Median wait 等待 (working hours)", "en") == ["等待"]
    assert "reason_code" in "".join(foreign("sorted by reason_code", "en"))
    assert foreign("record-only (备案制)", "en") == []                 # a gloss of the list
    assert foreign("record-only (督办制)", "en") == ["督办制"]           # not of the list
    assert foreign("备案制 for the rest", "en") == ["备案制"]             # not as a gloss
    assert foreign("节点 财务初审 人员-0123456789ab", "en", ["财务初审"]) == ["节点"]
    assert not foreign("办理时长P90（工作日）· officemine 0.1 · Wilson 95% 区间", "zh")
    assert not foreign("Wait p90 (working hours)", "en")
    assert not foreign("源数据没有 [linking] match 所列的字段，可用 --calendar 指定", "zh")


# --- every deliverable, in both languages --------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_the_review_speaks_its_language(written_reviews, vocabulary, lang):
    """The PDF's text as pypdf reads it back, page by page: charts, tables, notes."""
    pages = [page.extract_text() for page in PdfReader(written_reviews[lang]["pdf"]).pages]
    assert len(pages) >= 13
    assert say("review.title", lang) in pages[0] and say("review.quality", lang) in pages[-1]
    found = {number: bad for number, text in enumerate(pages, start=1)
             if (bad := foreign(text, lang, vocabulary))}
    assert not found, found
    # with this vocabulary too, a field name or the other language planted on a page is seen
    planted = {"zh": "中位等待 median wait", "en": "median wait 中位等待"}[lang]
    assert foreign(pages[4] + " wait_workhours_median", lang, vocabulary)
    assert foreign(pages[4] + planted, lang, vocabulary)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_speaks_the_reviews_language(written_reviews, vocabulary, lang):
    """Every sheet name, column header and text cell of the written workbook, for every table
    the review holds (conformance, scenario, before/after, ledger, pseudonyms included)."""
    book = openpyxl.load_workbook(written_reviews[lang]["xlsx"], read_only=True)
    assert len(book.sheetnames) >= 20
    wrong = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            wrong += [f"{sheet.title}: {v}" for v in row
                      if isinstance(v, str) and foreign(v, lang, vocabulary)]
        wrong += [sheet.title] if foreign(sheet.title, lang) else []
    assert not wrong, wrong[:20]
    assert ("人员" if lang == "zh" else "people") in \
        [r[1] for r in book[sheet_name("pseudonymization", lang)].iter_rows(values_only=True)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_index_and_the_notebooks_speak_the_reviews_language(sample_reviews, vocabulary, lang):
    """The HTML index of a set of reviews (a month without data among them) and the HTML a
    notebook shows for a review and for the set."""
    review = sample_reviews.reviews[lang]
    empty = officemine.monthly_report(sample_reviews.log, "2024-10", lang=lang)
    reviews = officemine.MonthlyReports([empty, review], lang)
    for name, page in (("index", reviews.index_html()), ("review", review._repr_html_()),
                       ("reviews", reviews._repr_html_())):
        text = re.sub(r"<[^>]+>", " ", page)
        assert not foreign(text, lang, vocabulary), (name, foreign(text, lang, vocabulary))
    assert say("kpis.outside", lang, month="2024-10", span="")[:12] in reviews.index_html()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_command_speaks_its_language(tmp_path, lang):
    """What `officemine report --lang` prints: the import report, the review, the files (of
    a month without data, the quickest review to write: its sentence is printed too)."""
    from officemine.cli import app
    from test_report import _two_months_csv

    source = _two_months_csv(tmp_path)
    done = CliRunner().invoke(app, ["report", str(source), "--month", "2025-02", "--lang", lang,
                                    "--allow-empty", "-o", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert say("cli.wrote", lang, path="")[:3] in done.output
    assert say("kpis.no_data", lang, month="2025-02", why="")[:9] in done.output
    written = [str(p) for p in (tmp_path / "out").iterdir()]
    vocabulary = vocabulary_of([officemine.import_log(source)], more=[*written, str(source)])
    assert not foreign(done.output, lang, vocabulary), done.output



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_weekly_digest_speaks_its_language(tmp_path, lang):
    """The 督办 digest `officemine supervise` writes: its PDF read back and every cell of its
    workbook, in a week that opens, carries and strikes off entries."""
    from officemine.rendering.digest import write_digest
    from officemine.supervision import Ledger
    from weekly_office import office, snapshots

    logs = [officemine.read_log(p) for p in snapshots(office(), tmp_path)[:2]]
    with Ledger(tmp_path / "duban.db") as book:
        digest = [book.update(log) for log in logs][-1]
    assert digest.counts["closed"] and digest.counts["open_after"]   # struck off and still open
    paths = write_digest(digest, tmp_path / lang, lang=lang)
    vocabulary = vocabulary_of(logs, more=[str(tmp_path / "duban.db"), "duban.db"])
    pages = [page.extract_text() for page in PdfReader(paths["pdf"]).pages]
    assert say("digest.title", lang, week=digest.week, as_of=digest.as_of) in pages[0]
    found = {n: bad for n, text in enumerate(pages, 1) if (bad := foreign(text, lang, vocabulary))}
    assert not found, found
    book = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    wrong = [f"{sheet.title}: {v}" for sheet in book.worksheets
             for row in sheet.iter_rows(values_only=True) for v in row
             if isinstance(v, str) and foreign(v, lang, vocabulary)]
    wrong += [sheet.title for sheet in book.worksheets if foreign(sheet.title, lang)]
    assert not wrong, wrong[:20]



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_analysis_commands_speak_their_language(tmp_path, sample_csv, sample_reviews, lang):
    """What `officemine necessity`, `conformance`, `simulate` and `discover` print with
    --lang, and the charts and map they write (as PDF, read back)."""
    from officemine.cli import app
    from conftest import REPO

    procedures = REPO / "procedures" / "sample_office.toml"
    scenario = REPO / "scenarios" / "fast_track_urgent.toml"
    chart = (lambda command: tmp_path / f"{command}_{lang}.pdf")
    commands = {  # the command's own options, and the PDF it writes
        "necessity": (["--chart", str(chart("necessity"))], chart("necessity")),
        "conformance": (["-p", str(procedures), "--chart", str(chart("conformance"))],
                        chart("conformance")),
        "simulate": (["-s", str(scenario), "--replications", "20", "--chart",
                      str(chart("simulate"))], chart("simulate")),
        "discover": (["-o", str(tmp_path / "discovery")], tmp_path / "discovery" / "map.pdf")}
    from officemine.discovery import OUTPUT_FILES

    written = [str(tmp_path / "discovery"), *(str(pdf) for _, pdf in commands.values()),
               *OUTPUT_FILES]
    vocabulary = vocabulary_of([sample_reviews.log], [procedures, scenario],
                               more=[str(sample_csv), *written])
    for command, (extra, pdf) in commands.items():
        done = CliRunner().invoke(app, [command, str(sample_csv), "--lang", lang, *extra])
        assert done.exit_code == 0, done.output
        assert not foreign(done.output, lang, vocabulary), (command, done.output)
        text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert len(text) > 40 and not foreign(text, lang, vocabulary), (command, text)



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_import_commands_speak_their_language(tmp_path, sample_csv, sample_reviews, lang):
    """What `officemine import`, `validate` and `info` print with --lang (in English the
    report names the columns by the field names a mapping file uses: those are allowed)."""
    from officemine.cli import app

    stored = tmp_path / "log.parquet"
    fields = ([*sample_reviews.log.to_pandas().columns, *officemine.OUTCOMES] if lang == "en"
              else [])
    vocabulary = vocabulary_of([sample_reviews.log],
                               more=[str(sample_csv), str(stored), *fields])
    for args in (["import", str(sample_csv), "-o", str(stored)], ["validate", str(sample_csv)],
                 ["info", str(stored)]):
        done = CliRunner().invoke(app, [*args, "--lang", lang])
        assert done.exit_code == 0, done.output
        assert say("import.head", lang, source="", format="")[:3] in done.output
        assert not foreign(done.output, lang, vocabulary), (args[0], done.output)


# --- what results say in notes -------------------------------------------------------------------

SRC = Path(__file__).resolve().parent.parent / "src" / "officemine"
#: Notes still written as English text, and why: a warning about the user's own settings file,
#: printed by the command like an error (errors are English).
PROSE_NOTES = {"supervision/notify.py"}


def misspoken(notes, vocabulary=()) -> list[str]:
    """What of a result's `notes` is not a catalogue sentence (`Said`), or holds text of the
    other language said in Chinese or in English (`vocabulary`: the data's own words)."""
    found = []
    for note in notes:
        if not isinstance(note, Said):
            found.append(f"words, not a catalogue sentence: {note!r:.80}")
            continue
        found += [f"{note.key} in {lang}: {bad}" for lang in ("zh", "en")
                  if (bad := foreign(note.text(lang), lang, vocabulary))]
    return found


def _prose_notes(path: Path) -> list[int]:
    """Lines of `path` that add words written in code (a string or f-string) to notes or
    warnings, or pass them as a note."""
    def words(node) -> bool:
        return (isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                or isinstance(node, ast.BinOp) and (words(node.left) or words(node.right))
                or isinstance(node, (ast.List, ast.Tuple)) and any(map(words, node.elts)))

    def noted(target) -> bool:
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        return name.endswith(("notes", "warnings"))

    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr in ("append", "extend") and noted(f.value)
                and node.args and words(node.args[0])):
            lines.append(node.lineno)
        lines += [node.lineno for kw in node.keywords
                  if kw.arg in ("note", "notes", "warnings") and words(kw.value)]
    return lines


def test_no_result_writes_its_notes_in_words(tmp_path):
    """A result's notes are catalogue sentences (`Said`), said in the reader's language;
    words written in code read in English only."""
    found = {str(p.relative_to(SRC)): lines for p in sorted(SRC.rglob("*.py"))
             if (lines := _prose_notes(p))}
    assert set(found) == PROSE_NOTES, found
    planted = tmp_path / "planted.py"
    planted.write_text('notes.append(f"{n} cases left out")\nrun(note="late")\n'
                       'run(notes=(Said("x"),))\n', encoding="utf-8")
    assert _prose_notes(planted) == [1, 2]


def test_the_notes_of_results_read_in_either_language(tmp_path):
    """Each note of the overdue ledger, the supervision ledger and its month, the waits, a
    redesign's effect, the conformance check and the KPIs, produced on a small log, reads in
    Chinese and in English with no text of the other language."""
    from officemine.conformance import conformance
    from officemine.effects import redesign_effect
    from officemine.supervision import Ledger, bottlenecks, overdue_ledger
    from officemine.supervision.digest import LedgerMonth
    from test_supervision import ROWS, SLA_TEST, build

    # BX9 has no submission in the log; HT1 no pending item
    rows = ROWS + [("BX9", "费用报销", "部门负责人审核", "approve", "李四", "市场部", None,
                    "2025-05-20 10:00")]
    log = build(rows)
    procedures = officemine.Procedures.from_dict({"procedure": [
        {"process_type": "费用报销", "name": "报销", "steps": ["部门负责人审核", "财务初审"]},
        {"process_type": "费用报账", "name": "报账", "steps": ["部门负责人审核"]}]})
    notes = [*overdue_ledger(log, sla=SLA_TEST).notes,
             *overdue_ledger(log, as_of="2025-05-29 17:30", sla=SLA_TEST).notes,
             *bottlenecks(log, "2025-01").notes,
             *redesign_effect(log, "2025-05-15", "费用报销", n_boot=20).notes,
             *conformance(log, procedures).tables.notes,
             *officemine.monthly_kpis(log, "2025-05", sla=SLA_TEST, procedures=procedures).notes]
    with Ledger(tmp_path / "duban.db") as book:
        for as_of, shown in (("2025-06-10 17:30", rows), ("2025-06-10 17:45", rows),
                             ("2025-06-17 17:30", [r for r in rows if r[0] != "BX4"])):
            notes += book.update(build(shown), as_of, sla=SLA_TEST).notes
        notes += LedgerMonth.from_ledger(book, "2025-03").notes
    keys = {getattr(n, "key", None) for n in notes}
    assert keys >= {"overdue.no_pending", "overdue.no_submission", "overdue.before_end",
                    "waits.none", "effects.cut", "effects.too_few", "effects.no_conformance",
                    "conformance.type_unused", "kpis.no_procedure", "ledger.first_run",
                    "ledger.after_end", "ledger.week_recorded", "ledger.unseen_one",
                    "ledger.no_run_in"}, keys
    vocabulary = vocabulary_of([log], more=["报销", "报账", "费用报账"])
    assert not misspoken(notes, vocabulary), misspoken(notes, vocabulary)
    # the measure can fail: words, and a sentence with the other language in it
    assert misspoken(["3 cases left out", Said("waits.none", where="全部日志")]) == [
        "words, not a catalogue sentence: '3 cases left out'", "waits.none in en: ['全部日志']"]
