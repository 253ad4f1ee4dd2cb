"""Hostile and malformed files: the importer either imports with balanced counts or raises a
clear `OfficemineError`; nothing else escapes and no row disappears."""

import string

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

import officemine
from officemine import OfficemineError

HEADERS = ["请求ID", "节点名称", "操作类型", "操作人", "操作时间", "接收时间", "金额", "签字意见",
           "case_id", "node", "outcome", "acted_at", "", "请求ID"]
VALUES = st.one_of(
    st.sampled_from(["同意", "退回", "提交", "驳回", "盖章", "", "2025/3/5 9:05", "2025年3月5日",
                     "45721.5", "1741136700", "9999-99-99", "R1", "R2", "张三", "1,200", "十万",
                     "=cmd|' /C calc'!A0", "\"", "a,b", "\n", "NaN", "null"]),
    st.text(alphabet=string.printable + "中文审批节点退回同意，。", max_size=12),
)
ROW = st.lists(VALUES, min_size=0, max_size=9)


def render(header, rows, sep):
    def cell(v):
        return '"' + v.replace('"', '""') + '"' if (sep in v or '"' in v or "\n" in v) else v
    lines = [sep.join(cell(h) for h in header)] + [sep.join(cell(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(HEADERS), min_size=0, max_size=8),
       rows=st.lists(ROW, max_size=12),
       sep=st.sampled_from([",", "\t", ";"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
       garbage=st.binary(max_size=6))
def test_no_input_crashes_the_importer_and_counts_balance(tmp_path, header, rows, sep,
                                                          encoding, garbage):
    text = render(header, rows, sep)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = tmp_path / "hostile.csv"
    path.write_bytes(data + garbage)
    try:
        log = officemine.import_log(path)
    except OfficemineError as exc:
        assert str(exc)            # a clear message, never empty
        return
    report = log.report
    assert report.rows_read == report.rows_accepted + report.rows_set_aside
    assert report.rows_accepted == log.n_events
    assert len(log.set_aside) == report.rows_set_aside


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_random_bytes_under_any_extension(tmp_path, data):
    for name in ("x.csv", "x.xlsx", "x.xes", "x.json"):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            log = officemine.import_log(path)
        except OfficemineError as exc:
            assert str(exc)
            continue
        assert log.report.rows_read == log.report.rows_accepted + log.report.rows_set_aside
