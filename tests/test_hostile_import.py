"""A hostile corpus, generated here: every input gives either a clean import whose rows balance
(read = accepted + set aside) or one `OfficemineError` naming the file (and row or column where
there is one) — and through the CLI exit code 2 with one `error:` line, never a traceback.
Inputs are tiny: a hang or a blow-up would show as a test that never ends, not as a timing."""

import json
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

import officemine
from officemine import ColumnGuessError, OfficemineError, SourceError
from officemine.cli import app
from officemine.importing.raw import MAX_COLUMNS

runner = CliRunner()
HEADER = "请求ID,节点名称,操作类型,操作人,操作时间"


def csv_file(tmp_path, body: str, header: str = HEADER, name: str = "x.csv",
             encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes((header + "\n" + body).encode(encoding))
    return path


def balanced(log) -> None:
    rep = log.report
    assert rep.rows_read == rep.rows_accepted + rep.rows_set_aside
    assert rep.rows_accepted == log.n_events and len(log.set_aside) == rep.rows_set_aside


def refused(path, error=SourceError, match=None, **kwargs) -> OfficemineError:
    """The import fails with one clear error naming the file; so does `officemine validate`."""
    with pytest.raises(error, match=match) as caught:
        officemine.import_log(path, **kwargs)
    assert path.name in str(caught.value)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert sum(line.startswith("error:") for line in lines) == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit)
    return caught.value


# --- tracebacks where one message belongs ---------------------------------------------------

@pytest.mark.parametrize("year", ["3025", "0001", "1989"])
def test_a_time_outside_the_plausible_window_is_set_aside(tmp_path, year):
    path = csv_file(tmp_path, f"R1,发起,提交,张三,{year}-03-05 09:00\n"
                              "R1,审核,同意,李四,2025-03-05 10:00\n")
    log = officemine.import_log(path)
    balanced(log)
    aside = log.set_aside.iloc[0]
    assert (aside.reason, aside.column, aside.source_row) == ("implausible_time", "acted_at", "2")
    assert log.to_pandas().node.tolist() == ["审核"]


def test_an_implausible_arrival_is_set_aside_too(tmp_path):
    header = HEADER + ",接收时间"
    path = csv_file(tmp_path, "R1,审核,同意,李四,2025-03-05 10:00,9999-12-31 00:00\n"
                              "R1,复核,同意,李四,2025-03-05 11:00,2025-03-05 10:00\n", header)
    log = officemine.import_log(path)
    assert log.set_aside[["reason", "column"]].values.tolist() == [["implausible_time",
                                                                    "arrived_at"]]


def test_a_huge_header_cell_is_one_error(tmp_path):
    path = csv_file(tmp_path, "R1,a,同意,b,2025-03-05 09:00,1\n", HEADER + "," + "备" * 140_000)
    refused(path, match="header")


def test_too_many_columns_are_refused_before_any_work(tmp_path):
    header = ",".join(f"c{i}" for i in range(20_000))
    path = csv_file(tmp_path, ",".join("1" for _ in range(20_000)) + "\n", header)
    error = refused(path, match=f"at most {MAX_COLUMNS:,}")
    assert error.row == 1


@pytest.mark.parametrize("name", ["reason", "detail", "column", "seq", "source_file"])
def test_source_columns_named_like_officemines_own_are_kept_aside_of_them(tmp_path, name):
    path = csv_file(tmp_path, "R1,a,同意,b,2025-03-05 09:00,v1\nR2,a,同意,b,soon,v2\n",
                    HEADER + f",{name}")
    log = officemine.import_log(path)
    balanced(log)
    assert log.to_pandas()[f"src_{name}"].tolist() == ["v1"]
    assert log.set_aside[f"src_{name}"].tolist() == ["v2"]
    assert log.set_aside.reason.tolist() == ["unparseable_time"]
    written = log.write(tmp_path / "out" / "log.parquet")       # the set-aside file too
    assert pd.read_csv(written.with_suffix(".set_aside.csv"), dtype=str).shape[0] == 1


def test_a_repeated_header_is_named_in_a_note(tmp_path):
    path = csv_file(tmp_path, "R1,a,同意,b,2025-03-05 09:00,x,y\n", HEADER + ",附件,附件")
    log = officemine.import_log(path)
    assert any("'附件' repeats (columns 6 and 7)" in n and "'附件_2'" in n
               for n in log.report.notes)
    assert log.to_pandas()[["附件", "附件_2"]].values.tolist() == [["x", "y"]]


def test_a_repeated_header_read_as_a_canonical_column_is_an_error(tmp_path):
    path = csv_file(tmp_path, "R1,a,同意,b,2025-03-05 09:00,2025-03-06 09:00\n",
                    HEADER + ",操作时间")
    error = refused(path, ColumnGuessError, match="columns 5 and 6 are both headed '操作时间'")
    assert error.column == "操作时间"
    # naming the one to use in a mapping resolves it
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nacted_at = "操作时间_2"\n', encoding="utf-8")
    log = officemine.import_log(path, mapping=mapping)
    assert log.to_pandas().acted_at.tolist() == [pd.Timestamp("2025-03-06 09:00",
                                                              tz="Asia/Shanghai")]


# --- rows lost or misread without a word ----------------------------------------------------

ROWS = "".join(f"R{i},审核,同意,张三,2025-03-05 09:{i % 60:02d}\n" for i in range(80))


@pytest.mark.parametrize("broken,line", [
    ('R90,"审核,同意,张三,2025-03-05 09:00\n', 12),      # opens a quote in the middle
    ('R90,审核,同意,张三,"2025-03-05 09:00\n', 12),      # in the last field: 5 fields still
])
def test_an_unclosed_quote_that_swallows_rows_is_an_error_naming_its_line(tmp_path, broken, line):
    lines = ROWS.splitlines(keepends=True)
    path = csv_file(tmp_path, "".join(lines[:10]) + broken + "".join(lines[10:]))
    error = refused(path, match=f"starting on line {line} runs over 70 later lines")
    assert error.row == line         # no multi-line value before it: row and line agree


def test_quoted_line_breaks_in_an_opinion_are_not_taken_for_an_unclosed_quote(tmp_path):
    path = csv_file(tmp_path, 'R1,审核,同意,张三,2025-03-05 09:00,"同意。\n请财务处办理,抄送办公室"\n'
                              "R1,复核,同意,李四,2025-03-05 10:00,\n", HEADER + ",签字意见")
    log = officemine.import_log(path)
    balanced(log)
    assert log.report.rows_accepted == 2
    assert log.to_pandas().source_row.tolist() == ["2", "3"]


def test_a_malformed_record_names_its_physical_line(tmp_path):
    path = csv_file(tmp_path, 'R1,审核,同意,张三,2025-03-05 09:00,"一\n二\n三"\n'
                              "R1,复核,同意,李四,2025-03-05 10:00,x,extra\n", HEADER + ",签字意见")
    log = officemine.import_log(path)
    balanced(log)
    aside = log.set_aside.iloc[0]
    assert aside.reason == "malformed_record" and aside.source_row == "3"
    assert aside.detail.startswith("line 5: 7 fields, header has 6")


def test_blank_lines_do_not_shift_source_row(tmp_path):
    path = csv_file(tmp_path, "R1,审核,同意,张三,2025-03-05 09:00\n\n\n"
                              "R1,复核,同意,李四,soon\n,,,,\nR1,归档,归档,系统,2025-03-05 11:00\n\n")
    log = officemine.import_log(path)
    balanced(log)
    assert log.set_aside.source_row.tolist() == ["5"]
    assert log.to_pandas().source_row.tolist() == ["2", "7"]
    assert any("4 blank lines or rows of empty cells ignored" in n for n in log.report.notes)


def test_ten_digits_are_a_date_and_hour_when_they_can_be_one(tmp_path):
    path = csv_file(tmp_path, "R1,审核,同意,张三,2025030509\nR1,复核,同意,李四,1741140300\n")
    log = officemine.import_log(path)
    assert log.to_pandas().acted_at.tolist() == [
        pd.Timestamp("2025-03-05 09:00", tz="Asia/Shanghai"),
        pd.Timestamp("2025-03-05 10:05", tz="Asia/Shanghai")]     # epoch seconds still


def test_an_infinite_amount_is_a_bad_amount(tmp_path):
    path = csv_file(tmp_path, "R1,审核,同意,张三,2025-03-05 09:00,1e309\n"
                              "R2,审核,同意,张三,2025-03-05 09:00,-1e400万\n"
                              "R3,审核,同意,张三,2025-03-05 09:00,1e3\n", HEADER + ",金额")
    log = officemine.import_log(path)
    assert log.set_aside.reason.tolist() == ["bad_amount", "bad_amount"]
    assert log.to_pandas().amount.tolist() == [1000.0]


def test_daylight_saving_wall_times_follow_the_documented_rule(tmp_path):
    path = csv_file(tmp_path, "R1,审核,同意,张三,2025-10-26 02:30\n"      # happens twice
                              "R2,审核,同意,张三,2025-03-30 02:30\n")     # never happens
    log = officemine.import_log(path, timezone="Europe/Amsterdam")
    assert log.report.rows_set_aside == 0
    utc = log.to_pandas().acted_at.dt.tz_convert("UTC").tolist()
    assert utc == [pd.Timestamp("2025-10-26 00:30", tz="UTC"),          # first: +02:00
                   pd.Timestamp("2025-03-30 01:00", tz="UTC")]          # 03:00 +02:00


def test_invisible_characters_do_not_split_a_node_or_a_person(tmp_path):
    body = ("R1,部门\u200b审核,同意,张三,2025-03-05 09:00\n"
            "R2,部门审核,同意,张\ufeff三,2025-03-05 09:00\n"
            "R3,\u2060部门审核\u200d,同意,张三\x07,2025-03-05 09:00\n"
            "\ufeffR4,部门审核,同意,张三,2025-03-05 09:00\n")      # an inner BOM: files joined
    path = csv_file(tmp_path, body, header="\u200b" + HEADER)
    log = officemine.import_log(path)
    df = log.to_pandas()
    assert df.node.unique().tolist() == ["部门审核"] and df.resource.unique().tolist() == ["张三"]
    assert df.case_id.tolist() == ["R1", "R2", "R3", "R4"]


# --- JSON sources ---------------------------------------------------------------------------

def feishu(tmp_path, create_time) -> object:
    record = {"instance_code": "i1", "approval_name": "报销", "status": "APPROVED",
              "timeline": [{"type": "START", "create_time": "1741136700000", "user_id": "u1"},
                           {"type": "CANCEL", "create_time": create_time, "user_id": "u1"}],
              "task_list": []}
    path = tmp_path / "f.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    return path


@pytest.mark.parametrize("create_time", ["9" * 5000, "99999999999999999999", "9999999999999999",
                                         "-99999999999999999"])
def test_feishu_times_beyond_any_calendar_are_set_aside(tmp_path, create_time):
    path = feishu(tmp_path, create_time)
    raw = path.read_text(encoding="utf-8").replace(f'"{create_time}"', create_time)
    path.write_text(raw, encoding="utf-8")            # a bare JSON integer as well as text
    log = officemine.import_log(path)
    balanced(log)
    assert log.set_aside.reason.tolist() == ["unparseable_time"]


def test_an_integer_of_thousands_of_digits_anywhere_in_json_is_read(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"sp_no": "S1", "sp_status": 2, "apply_time": 1741136700,
                                "applyer": {"userid": "a"},
                                "sp_record": [{"sp_status": 2, "approverattr": 1, "details": [
                                    {"approver": {"userid": "b"}, "sp_status": 2,
                                     "sptime": 1741140300}]}]}).replace(
        '"sp_status": 2,', '"sp_status": 2, "junk": ' + "7" * 5000 + ",", 1) + "\n",
        encoding="utf-8")
    log = officemine.import_log(path, format="wecom")
    balanced(log)
    assert log.report.rows_set_aside == 0
    assert log.to_pandas().outcome.tolist() == ["submit", "approve", "archive"]


# --- XES ------------------------------------------------------------------------------------

def test_xes_attributes_named_like_the_set_aside_columns_are_renamed(tmp_path):
    path = tmp_path / "x.xes"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><log><trace>'
        '<string key="concept:name" value="c1"/><string key="detail" value="t"/>'
        '<event><string key="concept:name" value="A"/><string key="reason" value="r"/>'
        '<date key="time:timestamp" value="2025-03-05T09:00:00+08:00"/></event>'
        '<event><string key="concept:name" value="B"/><string key="column" value="c"/>'
        '<date key="time:timestamp" value="3025-03-05T09:00:00+08:00"/></event>'
        '</trace></log>', encoding="utf-8")
    log = officemine.import_log(path)
    balanced(log)
    assert log.set_aside.reason.tolist() == ["implausible_time"]
    assert log.set_aside["event:column"].tolist() == ["c"]
    assert log.to_pandas()["event:reason"].tolist() == ["r"]


def test_an_xes_log_with_thousands_of_attribute_keys_is_refused(tmp_path):
    keys = "".join(f'<string key="k{i}" value="v"/>' for i in range(MAX_COLUMNS + 1))
    path = tmp_path / "wide.xes"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><log><trace><string key="concept:name" '
        'value="c1"/><event><string key="concept:name" value="A"/><date key="time:timestamp" '
        f'value="2025-03-05T09:00:00+08:00"/>{keys}</event></trace></log>', encoding="utf-8")
    refused(path, match=f"{MAX_COLUMNS + 2:,} distinct attribute keys")


# --- xlsx -----------------------------------------------------------------------------------

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_PARTS = {
    "[Content_Types].xml":
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
        '"/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels":
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml":
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} xmlns:r="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels":
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        '</Relationships>',
}


def xlsx(path, rows: list[list[str]], *, dimension: str = "", prolog: str = "",
         shared: str = "", cells: str = ""):
    """A workbook written part by part, so that it can be as hostile as needed."""
    def cell(r, c, v):
        col = ""
        c += 1
        while c:
            c, rem = divmod(c - 1, 26)
            col = chr(65 + rem) + col
        return f'<c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
    data = "".join(f'<row r="{r}">' + "".join(cell(r, c, v) for c, v in enumerate(row))
                   + "</row>" for r, row in enumerate(rows, start=1)) + cells
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in _PARTS.items():
            package.writestr(name, text)
        package.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?>'
                         f'{prolog}<worksheet {_NS}>{dim}<sheetData>{data}</sheetData></worksheet>')
        package.writestr("xl/sharedStrings.xml", shared or
                         f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}></sst>')
    return path


XLSX_ROWS = [HEADER.split(","), ["R1", "审核", "同意", "张三", "2025-03-05 09:00"]]


def test_a_sheet_declaring_every_column_and_row_is_read_as_it_is(tmp_path):
    path = xlsx(tmp_path / "wide.xlsx", XLSX_ROWS, dimension="A1:XFD1048576")
    log = officemine.import_log(path)
    assert log.report.rows_read == 1 and log.report.rows_accepted == 1


def test_a_value_beyond_the_last_column_excel_has_is_refused(tmp_path):
    path = xlsx(tmp_path / "far.xlsx", XLSX_ROWS,
                cells='<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>')
    assert refused(path, match="column 16,384").row == 3


def test_a_value_beyond_the_header_is_set_aside_not_dropped(tmp_path):
    path = xlsx(tmp_path / "beyond.xlsx", XLSX_ROWS + [XLSX_ROWS[1] + ["", "stray"]])
    log = officemine.import_log(path)
    balanced(log)
    assert log.set_aside[["source_row", "reason"]].values.tolist() == [["3", "malformed_record"]]


@pytest.mark.parametrize("prolog,rows,match", [
    ('<!DOCTYPE worksheet [<!ENTITY x "操作人">]>', XLSX_ROWS, "refused: .*entities"),
    ("", [XLSX_ROWS[0], ["R1", "审\x01核", "同意", "张三", "2025-03-05 09:00"]], "not well-formed"),
    ("", [XLSX_ROWS[0], ["R1", "审&#1;核", "同意", "张三", "2025-03-05 09:00"]], "invalid character"),
])
def test_xml_entities_and_control_characters_are_one_error(tmp_path, prolog, rows, match):
    refused(xlsx(tmp_path / "e.xlsx", rows, prolog=prolog), match=match)


@pytest.mark.parametrize("cell,match", [
    ('<c r="A2" t="s"><v>99999</v></c>', "index out of range"),   # no such shared string
    ('<c r="A2"><v>abc</v></c>', "abc"),                            # a number that is not one
])
def test_a_damaged_cell_is_one_error_naming_its_row(tmp_path, cell, match):
    path = xlsx(tmp_path / "cell.xlsx", XLSX_ROWS[:1], cells=f'<row r="2">{cell}</row>')
    assert refused(path, match=match).row == 2


def test_a_row_far_below_the_rest_is_read_without_walking_a_declared_million(tmp_path):
    path = xlsx(tmp_path / "gap.xlsx", XLSX_ROWS, dimension="A1:XFD1048576",
                cells='<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>R9</t></is></c></row>')
    log = officemine.import_log(path)
    balanced(log)
    assert log.set_aside.source_row.tolist() == ["1048576"]


def test_a_shared_strings_bomb_is_refused_before_it_inflates(tmp_path):
    strings = f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>' + \
        "<si><t>" + "x" * 1000 + "</t></si>" * 1 + "<si><t>" + "y" * 4_000_000 + "</t></si></sst>"
    path = xlsx(tmp_path / "bomb.xlsx", XLSX_ROWS, shared=strings)
    assert path.stat().st_size < 20_000
    refused(path, match="zip bomb")


# --- encodings ------------------------------------------------------------------------------

@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_bom_file_with_bad_bytes_in_a_malformed_row_is_one_error(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\nR1,a,b\xcd\n").encode("utf-8")[:-1]
                     + b"\xcd\nR2,a,\xe5\n")
    error = refused(path, match="not UTF-8")
    assert error.row == 2
