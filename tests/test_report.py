"""The monthly PDF report: rendered, read back, looked at as pixels; its companion files."""

import json
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.plotting import FONT_FILE
from officemine.report import latest_complete_month, monthly_report
from officemine.report.config import ReportConfig, ReportConfigError

from conftest import REPO


@pytest.fixture(scope="module")
def sample_log(sample_csv):
    return officemine.import_log(sample_csv)


STEPS: list[str] = []     # what the october report announced to its progress callback


@pytest.fixture(scope="module")
def october(sample_log, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    config = ReportConfig.from_toml(REPO / "sample_logs" / "report.toml")
    with warnings.catch_warnings():
        # matplotlib warns "Glyph … missing from font(s)" when it draws a tofu box
        warnings.filterwarnings("error", message=".*[Gg]lyph.*")
        report = monthly_report(sample_log, "2025-10", config=config, progress=STEPS.append)
        paths = report.write(out)
    return report, paths


def test_progress_announces_each_analysis_once_in_order(october):
    assert STEPS == ["KPIs", "12-month trend", "process map", "necessity test",
                     "overdue ledger", "bottlenecks", "before and after the redesigns"]


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_latest_complete_month_of_the_sample(sample_log):
    assert latest_complete_month(sample_log) == "2025-10"


def test_pdf_text_holds_the_months_kpis_and_node_names(october):
    report, paths = october
    text = pdf_text(paths["pdf"])
    for tile in report.kpis.tiles:
        assert tile.text("zh").split()[0] in text, tile.key
    for node in ("综合办公室审核", "财务初审", "法务审核", "部门负责人审核"):
        assert node in text
    assert "月度流程效能评估" in text and "督办清单" in text and "改革前后对比" in text
    streamline = report.necessity.summary.query("verdict == 'streamline'").iloc[0]
    assert "精简/备案" in text and streamline["reason_zh"][:25] in text   # verdict and reason


def test_every_page_renders_with_ink_and_only_glyphs_the_font_has(october):
    _, paths = october
    doc = pdfium.PdfDocument(str(paths["pdf"]))
    assert len(doc) >= 8
    for i in range(len(doc)):
        pixels = np.asarray(doc[i].render(scale=0.5).to_pil().convert("L"))
        ink = (pixels < 200).mean()
        assert 0.005 < ink < 0.6, f"page {i + 1} looks blank or flooded ({ink:.3f})"
    # every character printed is one the bundled font (or DejaVu, for Latin) can draw
    cmap = TTFont(FONT_FILE).getBestCmap()
    text = pdf_text(paths["pdf"])
    missing = {ch for ch in text if ord(ch) > 0x2E7F and ord(ch) not in cmap}
    assert not missing


def test_companion_json_and_workbook(october):
    report, paths = october
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["month"] == "2025-10" and data["has_data"] is True
    assert data["necessity"]["nodes"] and data["before_after"][0]["date"] == "2025-07-01"
    book = openpyxl.load_workbook(paths["xlsx"])
    assert {"kpis", "necessity", "overdue", "bottleneck_nodes"} <= set(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"


def test_pseudonymised_report_leaks_no_names(sample_log, tmp_path):
    people = set(sample_log.to_pandas()["resource"].dropna()) - {"系统"}
    report = monthly_report(sample_log, "2025-10", pseudonymize=True)
    paths = report.write(tmp_path)
    outputs = [pdf_text(paths["pdf"]), paths["json"].read_text(encoding="utf-8")]
    book = openpyxl.load_workbook(paths["xlsx"])
    outputs.append(" ".join(str(c.value) for s in book.worksheets for r in s.iter_rows()
                            for c in r if c.value is not None))
    for text in outputs:
        leaked = [p for p in people if p in text]
        assert not leaked, leaked[:5]
    assert "人员-" in outputs[0]
    again = monthly_report(sample_log, "2025-10", pseudonymize=True)
    assert again.ledger.summary["responsible"].tolist() == \
        report.ledger.summary["responsible"].tolist()           # stable pseudonyms


def test_formula_like_text_from_the_log_is_escaped(tmp_path):
    rows = ["流程编号,标题,节点名称,操作类型,操作人,操作日期,操作时间"]
    for i in range(3):
        rows += [f"C{i},=HYPERLINK(\"http://x\"),发起,提交,@张三,2025/3/3,9:0{i}",
                 f"C{i},=HYPERLINK(\"http://x\"),审核,同意,+李四,2025/3/3,10:0{i}",
                 f"C{i},=HYPERLINK(\"http://x\"),归档,归档,系统,2025/3/3,11:0{i}"]
    src = tmp_path / "evil.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = monthly_report(officemine.import_log(src), "2025-03")
    paths = report.write(tmp_path / "out")
    book = openpyxl.load_workbook(paths["xlsx"])
    values = [c.value for s in book.worksheets for r in s.iter_rows() for c in r
              if isinstance(c.value, str)]
    assert any(v.startswith("'+李四") or v.startswith("'@张三") for v in values)
    assert not any(v.startswith(("=", "+", "@")) for v in values)


def test_month_without_data_is_reported_not_crashed(sample_log, tmp_path):
    report = monthly_report(sample_log, "2023-01")
    assert not report.has_data
    paths = report.write(tmp_path)
    assert "本月无数据" in pdf_text(paths["pdf"])
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["has_data"] is False


def test_english_report(sample_log, tmp_path):
    paths = monthly_report(sample_log, "2025-10", lang="en").write(tmp_path)
    text = pdf_text(paths["pdf"])
    assert "Monthly process efficiency review" in text and "Overdue open cases" in text


def test_all_months_with_a_gap_month_and_an_index(tmp_path):
    rows = ["流程编号,节点名称,操作类型,操作人,操作日期,操作时间"]
    for month in (1, 3):
        for i in range(4):
            rows += [f"M{month}-{i},发起,提交,甲,2025/{month}/{6 + i},9:00",
                     f"M{month}-{i},审核,同意,乙,2025/{month}/{6 + i},15:00",
                     f"M{month}-{i},归档,归档,系统,2025/{month}/{6 + i},16:00"]
    src = tmp_path / "two_months.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["report", str(src), "--all-months", "-o", str(out)])
    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert [r["month"] for r in index] == ["2025-01", "2025-02", "2025-03"]
    assert [r["has_data"] for r in index] == [True, False, True]
    assert (out / "officemine_report_2025-02.pdf").exists()
    assert "2025-02" in (out / "index.html").read_text(encoding="utf-8")


def test_bad_settings_are_listed(tmp_path):
    bad = tmp_path / "r.toml"
    bad.write_text('necessity_months = 99\ncolour = 1\n[[redesign]]\nname = "x"\n',
                   encoding="utf-8")
    with pytest.raises(ReportConfigError) as info:
        ReportConfig.from_toml(bad)
    assert "3 problem" in str(info.value)


def test_report_with_a_scenario_page(sample_log, tmp_path):
    from officemine.simulation import Scenario

    scenario = Scenario.from_toml(REPO / "scenarios" / "remove_office_check.toml")
    report = monthly_report(sample_log, "2025-10", scenario=scenario)
    text = pdf_text(report.write(tmp_path)["pdf"])
    assert "改革方案测算" in text and "模型校验" in text
    assert scenario.name[:8] in text
    assert f"{report.simulation.summary['median_pct'].iloc[0]:.1f}%" in text
