"""CSV/TSV/Excel exports as offices have them: encodings, headers, date + time columns."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

import officemine
from officemine import ColumnGuessError, MappingError, SourceError

from cn_export import CN_HEADER, CN_ROWS, write_csv

TZ = "Asia/Shanghai"
def canonical(log):
    df = log.to_pandas()
    return df[["case_id", "node", "outcome", "resource", "acted_at", "wait_start",
               "arrival_source", "comment"]]


@pytest.mark.parametrize("encoding,delimiter,suffix", [
    ("utf-8", ",", ".csv"), ("utf-8-sig", ",", ".csv"), ("gbk", ",", ".csv"),
    ("gb18030", ";", ".csv"), ("utf-16", "\t", ".txt"), ("utf-8", "\t", ".tsv"),
])
def test_every_encoding_and_delimiter_gives_the_same_log(tmp_path, encoding, delimiter, suffix):
    reference = officemine.import_log(write_csv(tmp_path / "ref.csv", CN_HEADER, CN_ROWS))
    path = write_csv(tmp_path / f"x{suffix}", CN_HEADER, CN_ROWS, encoding, delimiter)
    log = officemine.import_log(path)
    pd.testing.assert_frame_equal(canonical(log), canonical(reference))
    assert log.report.rows_read == 7 and log.report.rows_accepted == 7


def test_chinese_export_is_read_right(tmp_path):
    log = officemine.import_log(write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS, "gbk"))
    df = log.to_pandas()
    r1 = df[df.case_id == "R1"]
    assert r1.outcome.tolist() == ["submit", "return", "resubmit", "approve", "archive"]
    ret = r1.iloc[1]
    assert ret.acted_at == pd.Timestamp("2025-03-06 10:00", tz=TZ)
    assert ret.wait_start == pd.Timestamp("2025-03-05 09:05", tz=TZ)
    assert ret.arrival_source == "recorded" and ret.comment == "材料不全，请补充发票"
    assert r1.amount.tolist() == [1200.0] * 5            # carried over the whole case
    assert df[df.case_id == "R2"].iloc[1].acted_at == pd.Timestamp("2025-03-10 11:30", tz=TZ)
    assert log.report.columns_used["acted_at"] == "操作日期 + 操作时间"
    assert log.report.open_cases == 1                   # R2 has no archive
    assert df.source_row.tolist() == [str(i) for i in range(2, 9)]


def test_english_headers_and_single_datetime_column(tmp_path):
    header = ["Case ID", "Step", "Action", "Approver", "Timestamp", "Comment"]
    rows = [["c1", "Submit", "submitted", "ann", "2025-03-05T09:05:00+08:00", ""],
            ["c1", "Finance", "Approved", "bob", "2025-03-05T10:05:00+08:00", "ok"],
            ["c1", "Manager", "sent back", "cy", "1741144500", "no"]]
    log = officemine.import_log(write_csv(tmp_path / "en.csv", header, rows))
    df = log.to_pandas()
    assert df.outcome.tolist() == ["submit", "approve", "return"]
    assert df.arrival_source.tolist() == ["none", "inferred", "inferred"]
    assert df.acted_at.iloc[2] == pd.Timestamp("2025-03-05 11:15", tz=TZ)


def test_ambiguous_header_stops_and_lists_the_candidates(tmp_path):
    header = ["流程编号", "单号", "节点名称", "操作类型", "操作时间"]
    path = write_csv(tmp_path / "amb.csv", header, [["1", "2", "a", "同意", "2025/3/5 9:00"]])
    with pytest.raises(ColumnGuessError) as info:
        officemine.import_log(path)
    assert "流程编号" in str(info.value) and "单号" in str(info.value)
    assert "amb.csv" in str(info.value)


def test_missing_case_id_column_names_file_and_headers(tmp_path):
    path = write_csv(tmp_path / "nocase.csv", ["节点名称", "操作时间"], [["a", "2025/3/5 9:00"]])
    with pytest.raises(ColumnGuessError, match=r"no case id column.*nocase\.csv"):
        officemine.import_log(path)


def test_wrong_encoding_names_the_row(tmp_path):
    path = tmp_path / "bad.csv"
    good = "请求ID,节点名称,操作类型,操作时间\nR1,发起,提交,2025/3/5 9:00\n".encode("utf-8")
    path.write_bytes(good + b"R2,\xff\xfe\xfd\x80\x80,x,y\n")
    with pytest.raises(SourceError, match=r"row 3"):
        officemine.import_log(path)


def test_bad_rows_are_set_aside_with_reason_and_row(tmp_path):
    rows = CN_ROWS + [
        ["R3", "费用报销", "发起", "提交", "张三", "", "", "2025/3/32", "9:05", "", ""],
        ["R3", "费用报销", "财务初审", "盖章了", "李四", "", "", "2025/3/5", "9:05", "", ""],
        ["", "费用报销", "财务初审", "同意", "李四", "", "", "2025/3/5", "9:05", "", ""],
        ["R3", "费用报销", "财务初审", "同意"],
        ["R3", "费用报销", "财务初审", "同意", "李四", "2025/3/9", "9:05", "2025/3/5", "9:05",
         "", ""],
        ["R3", "费用报销", "财务初审", "同意", "李四", "", "", "2025/3/5", "", "", "十块"],
        CN_ROWS[1],
    ]
    log = officemine.import_log(write_csv(tmp_path / "bad.csv", CN_HEADER, rows))
    rep = log.report
    assert rep.rows_read == 14 and rep.rows_accepted == 7 and rep.rows_set_aside == 7
    aside = log.set_aside.set_index("source_row")
    assert aside.loc["9", "reason"] == "unparseable_time" and aside.loc["9", "column"] == "acted_at"
    assert aside.loc["10", "reason"] == "unknown_outcome" and aside.loc["10", "detail"] == "盖章了"
    assert aside.loc["11", "reason"] == "missing_case_id"
    assert aside.loc["12", "reason"] == "malformed_record"
    assert aside.loc["13", "reason"] == "action_before_arrival"
    assert aside.loc["14", "reason"] == "bad_amount"
    assert aside.loc["15", "reason"] == "duplicate" and "row 3" in aside.loc["15", "detail"]
    assert rep.unknown_outcome_words == {"盖章了": 1}


def test_a_clean_file_and_one_with_a_malformed_record_give_the_same_events(tmp_path):
    # A clean file is parsed on every core as bytes and decoded once per distinct value; a
    # malformed record sends the file to the exact single-threaded read, which knows its line.
    rows = CN_ROWS + [CN_ROWS[1], ["R3", "用印申请", " 发起 ", "提交", "王五", "", "", "2025/3/8",
                                   "9:00", "", "3万"]]
    clean = officemine.import_log(write_csv(tmp_path / "clean.csv", CN_HEADER, rows, "gbk"))
    broken = officemine.import_log(write_csv(tmp_path / "broken.csv", CN_HEADER,
                                             rows + [["R9", "x"]], "gbk"))
    pd.testing.assert_frame_equal(clean.to_pandas().drop(columns="source_file"),
                                  broken.to_pandas().drop(columns="source_file"))
    assert clean.set_aside.reason.tolist() == ["duplicate"]
    assert broken.set_aside.reason.tolist() == ["malformed_record", "duplicate"]
    assert broken.set_aside.source_row.tolist() == ["11", "9"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_quoted_line_breaks_and_quotes_in_an_opinion_stay_in_it(tmp_path, encoding):
    # both reads (the parallel one of a clean file, the exact one after a malformed record)
    opinion = '材料不全：\n1. 发票，"原件"\r\n2. 合同'
    rows = [row[:] for row in CN_ROWS]
    rows[1][9] = opinion
    clean = officemine.import_log(write_csv(tmp_path / "c.csv", CN_HEADER, rows, encoding))
    broken = officemine.import_log(write_csv(tmp_path / "b.csv", CN_HEADER,
                                             rows + [["R9", "x"]], encoding))
    for log in (clean, broken):
        assert log.report.rows_accepted == 7
        assert log.to_pandas().comment.iloc[1] == opinion
    assert clean.report.rows_set_aside == 0 and broken.report.rows_set_aside == 1


@pytest.mark.parametrize("delimiter", ["|", ",", ";", "\t"])
def test_a_gbk_character_holding_a_delimiter_byte_is_not_split(tmp_path, delimiter):
    # 亅 is 0x81 0x7C in GBK: its second byte is "|"
    header = ["流程编号", "节点名称", "操作类型", "操作时间", "签字意见"]
    rows = [["R1", "发起", "提交", "2025/3/5 9:00", "亅"],
            ["R1", "审核", "同意", "2025/3/5 10:00", "倈億|亅"]]
    path = write_csv(tmp_path / "x.csv", header, rows, "gbk", delimiter)
    log = officemine.import_log(path)
    assert log.to_pandas().comment.tolist() == ["亅", "倈億|亅"]


def test_written_set_aside_file_holds_the_rows(tmp_path):
    rows = CN_ROWS + [["R3", "x", "y"]]
    log = officemine.import_log(write_csv(tmp_path / "b.csv", CN_HEADER, rows))
    out = log.write(tmp_path / "out" / "log.parquet")
    aside = pd.read_csv(out.with_suffix(".set_aside.csv"), dtype=str)
    assert aside.source_row.tolist() == ["9"] and aside.reason.tolist() == ["malformed_record"]
    back = officemine.read_log(out)
    assert back.report.set_aside_file == str(out.with_suffix(".set_aside.csv"))
    assert back.report.rows_set_aside == 1


def test_mapping_file_overrides_guesses_and_label_rules(tmp_path):
    header = ["单号", "流程编号", "活动", "人", "日期", "时刻"]
    rows = [["A1", "x", "发起-提交", "张三", "2025/3/5", "9:00"],
            ["A1", "x", "财务-退回", "李四", "2025/3/5", "10:00"],
            ["A1", "x", "发起-提交", "张三", "2025/3/5", "11:00"],
            ["A1", "x", "财务-批准", "李四", "2025/3/6", "9:00"],
            ["A1", "x", "出纳付款", "王五", "2025/3/6", "10:00"]]
    path = write_csv(tmp_path / "m.csv", header, rows)
    mapping = tmp_path / "m.toml"
    mapping.write_text('''
[columns]
case_id = "单号"
label = "活动"
resource = "人"
acted_at = ["日期", "时刻"]
[outcomes]
"批准" = "approve"
"退回" = "return"
[[label_rules]]
pattern = '^(?P<node>.+)-(?P<outcome>批准|退回|提交)$'
[[label_rules]]
pattern = '^出纳付款$'
outcome = "archive"
[constants]
process_type = "费用报销"
''', encoding="utf-8")
    log = officemine.import_log(path, mapping=mapping)
    df = log.to_pandas()
    assert df.node.tolist() == ["发起", "财务", "发起", "财务", "出纳付款"]
    assert df.outcome.tolist() == ["submit", "return", "resubmit", "approve", "archive"]
    assert set(df.process_type) == {"费用报销"}
    assert "流程编号" in df.columns                       # unmapped column kept
    assert log.report.open_cases == 0


def test_mapping_problems_are_listed_together(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('''
colums = 1
[columns]
case = "x"
[outcomes]
"好" = "great"
[[label_rules]]
pattern = '(unclosed'
''', encoding="utf-8")
    with pytest.raises(MappingError) as info:
        officemine.Mapping.from_toml(bad)
    text = str(info.value)
    assert "4 problem" in text
    for piece in ("colums", "'case'", "great", "unclosed"):
        assert piece in text


def test_mapping_naming_a_missing_column_is_an_error(tmp_path):
    path = write_csv(tmp_path / "a.csv", CN_HEADER, CN_ROWS)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ncase_id = "流程号"\n', encoding="utf-8")
    with pytest.raises(ColumnGuessError, match="流程号"):
        officemine.import_log(path, mapping=mapping)


def test_xlsx_with_date_cells_and_separate_time_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["流程编号", "节点", "审批结果", "审批人", "操作日期", "操作时间", "金额"])
    sheet.append(["X1", "发起", "提交", "张三", dt.date(2025, 3, 5), dt.time(9, 5), 3200])
    sheet.append([None] * 7)                           # an empty row, as exports have
    sheet.append(["X1", "部门负责人审核", "同意", "李四", dt.datetime(2025, 3, 5),
                  dt.time(14, 0), None])
    sheet.append(["X1", "财务初审", "驳回", "王五", "2025/3/6", "9:30", None])
    book.save(tmp_path / "a.xlsx")
    log = officemine.import_log(tmp_path / "a.xlsx")
    df = log.to_pandas()
    assert df.outcome.tolist() == ["submit", "approve", "return"]
    assert df.acted_at.tolist() == [pd.Timestamp(t, tz=TZ) for t in
                                    ("2025-03-05 09:05", "2025-03-05 14:00", "2025-03-06 09:30")]
    assert df.source_row.tolist() == ["2", "4", "5"]   # spreadsheet row numbers
    assert df.amount.tolist() == [3200.0] * 3
    assert any("empty rows" in n for n in log.report.notes)


def test_excel_serial_and_epoch_columns(tmp_path):
    header = ["case", "node", "outcome", "time"]
    rows = [["1", "a", "submit", "45721.375"], ["1", "b", "approve", "1741140000000"]]
    df = officemine.import_log(write_csv(tmp_path / "n.csv", header, rows)).to_pandas()
    assert df.acted_at.tolist() == [pd.Timestamp("2025-03-05 09:00", tz=TZ),
                                    pd.Timestamp("2025-03-05 10:00", tz=TZ)]


def test_not_a_table_and_empty_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        officemine.import_log(empty)
    with pytest.raises(SourceError, match="xlsx"):
        officemine.import_log(write_csv(tmp_path / "fake.xlsx", ["a"], [["b"]]))
