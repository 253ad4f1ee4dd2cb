"""Pseudonyms: a secret key, and no name left in any text of a pseudonymised report.

The end-to-end test builds an export that leaks names everywhere a real one does (a node named
after its approver, a person who never acts but is in titles and a cc column, names in
comments, in an unknown outcome word and in the file name), runs `officemine report
--pseudonymize`, and reads the PDF, the JSON and the workbook back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

import officemine
from officemine import privacy
from officemine.cli import app
from officemine.log.eventlog import EventLog
from officemine.privacy import (KEY_ENV, PseudonymKey, PseudonymKeyError, Replacer,
                                is_person_header, load_key,
                                pseudonymization)
from officemine.review import monthly_report
from officemine.review.config import ReportConfig, ReportConfigError
from officemine.log.schema import C
from officemine.sla import SLA
from officemine.synthetic import default_office_spec, generate, to_chinese_csv

SILENT = "司马静怡"          # never acts: only in titles, comments, the cc column, an outcome word
LOGIN = "zhangwei"          # only in the export's folder: the report must drop directories
PSEUDONYM = re.compile(r"人员-[0-9a-f]{12}")


def key(text: str = "k" * 32) -> PseudonymKey:
    return PseudonymKey.from_text(text, "file", "test")


def private_file(path, text: str):
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# --- a leaky export ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    """A generated office's export with names where real exports put them."""
    events = generate(default_office_spec(), start="2025-09-01", end="2025-10-31",
                      seed=11).events.copy()
    assert not events.astype(str).apply(lambda c: c.str.contains(SILENT)).any().any()
    # the node whose approver names it, as DingTalk does for a node without a name
    node = events.loc[events[C.outcome] == "approve", C.node].value_counts().index[0]
    approver = events.loc[events[C.node] == node, C.resource].value_counts().index[0]
    at_node = events[C.node] == node
    events.loc[at_node, C.node] = "审批人 " + events.loc[at_node, C.resource]
    events[C.title] = events[C.title] + f"（经办：{SILENT}，复核：{approver}）"
    approving = events[C.outcome] == "approve"
    events.loc[approving, C.comment] = f"同意，请{SILENT}跟进"
    # a process type named after a person, and a limit for it in the SLA
    ptype = events[C.process_type].value_counts().index[0]
    special = f"{SILENT}专项{ptype}"
    events.loc[events[C.process_type] == ptype, C.process_type] = special
    folder = tmp_path_factory.mktemp("leaky") / LOGIN / "exports"
    path = to_chinese_csv(events, folder / f"{approver}_审批导出.csv")
    frame = pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)
    frame["抄送人"] = f"{SILENT}、{approver}"
    frame["跟进"] = frame["操作人"]                      # people, recognised by their values
    odd = frame.index[frame["操作类型"] == "同意"][:3]
    frame.loc[odd, "操作类型"] = f"{SILENT}代签"        # an outcome word with a name in it
    frame.to_csv(path, index=False, encoding="gbk")
    people = (set(events[C.resource].dropna()) | set(events[C.applicant].dropna())
              | {SILENT}) - {"系统"}
    return {"path": path, "people": people, "approver": approver, "node": node,
            "special": special, "log": officemine.import_log(path)}


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def workbook_text(path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join([s.title for s in book.worksheets] + [
        str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r
        if c.value is not None])


def leaks(text: str, names) -> list[str]:
    """Names found in `text`, also across the line breaks a PDF wraps text at."""
    flat = re.sub(r"\s+", "", text)
    return sorted(n for n in names if n in text or re.sub(r"\s+", "", n) in flat)


def old_pseudonym(name: str) -> str:
    """What the removed default made of a name: 24 bits under the public key 'officemine'."""
    digest = hmac.new(b"officemine", name.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"人员-{digest[:6].upper()}"


@pytest.fixture(scope="module")
def cli_report(leaky, tmp_path_factory):
    """`officemine report … --pseudonymize` with no key anywhere: one is generated."""
    home = tmp_path_factory.mktemp("config")
    out = tmp_path_factory.mktemp("out")
    env = {"OFFICEMINE_CONFIG_DIR": str(home / "officemine"), KEY_ENV: None}
    result = CliRunner().invoke(app, ["report", str(leaky["path"]), "--month", "2025-10",
                                      "--pseudonymize", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    files = {p.suffix: p for p in out.iterdir()}
    return {"result": result, "out": out, "env": env, "home": home / "officemine",
            "pdf": files[".pdf"], "json": files[".json"], "xlsx": files[".xlsx"]}


def test_no_name_is_left_in_the_pdf_json_or_workbook(leaky, cli_report):
    texts = {"pdf": pdf_text(cli_report["pdf"]),
             "json": cli_report["json"].read_text(encoding="utf-8"),
             "xlsx": workbook_text(cli_report["xlsx"])}
    names = leaky["people"] | {LOGIN}
    for kind, text in texts.items():
        assert not leaks(text, names), (kind, leaks(text, names)[:5])
        assert not [n for n in leaky["people"] if old_pseudonym(n) in text], kind
        assert PSEUDONYM.search(text), kind
    # what was leaking is there, renamed under the generated key
    secret = (cli_report["home"] / "pseudonym.key").read_text().strip()
    under = PseudonymKey(secret.encode(), "stored")
    data = texts["json"]
    assert f"审批人 {under.pseudonym(leaky['approver'])}" in data          # node names
    assert f"{under.pseudonym(SILENT)}代签" in data                        # unknown outcome word
    assert f"{under.pseudonym(leaky['approver'])}_审批导出.csv" in data     # the file name
    assert f"{under.pseudonym(leaky['approver'])}_审批导出.csv" in texts["pdf"]   # PDF footer
    assert f"经办：{under.pseudonym(SILENT)}" in texts["xlsx"]              # titles (ledger)


def test_the_report_says_what_was_pseudonymised(leaky, cli_report):
    data = json.loads(cli_report["json"].read_text(encoding="utf-8"))
    done = data["pseudonymization"]
    assert data["pseudonymized"] is True
    assert done["person_columns"] == ["resource", "applicant", "抄送人"]
    assert done["person_columns_by_values"] == ["跟进"]
    assert done["names"] == len(leaky["people"])
    assert {"title", "comment", "node", "source_file"} <= set(done["scanned_columns"])
    assert done["changed_values"]["node"] >= 1 and done["changed_values"]["title"] >= 1
    assert done["key_source"] == "generated" and re.fullmatch(r"[0-9a-f]{8}",
                                                              done["key_fingerprint"])
    text = re.sub(r"\s+", "", pdf_text(cli_report["pdf"]))
    assert "人员已匿名化" in text and "抄送人" in text and "跟进" in text
    assert f"{done['names']}个姓名" in text and done["key_fingerprint"] in text
    book = openpyxl.load_workbook(cli_report["xlsx"])
    rows = list(book["匿名化"].iter_rows(values_only=True))
    assert ("抄送人", "人员") in [r[:2] for r in rows]                   # in the review's words
    assert ("跟进", "人员（按取值识别）") in [r[:2] for r in rows]


def test_a_key_is_generated_once_private_and_reused(leaky, cli_report, tmp_path):
    path = cli_report["home"] / "pseudonym.key"
    assert "generated one and stored it" in cli_report["result"].output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_text().strip()) == 64                  # 256 bits from `secrets`
    before = path.read_bytes()
    again = CliRunner().invoke(app, ["report", str(leaky["path"]), "--month", "2025-10",
                                     "--pseudonymize", "-o", str(tmp_path)],
                               env=cli_report["env"])
    assert again.exit_code == 0, again.output
    assert "generated one" not in again.output and path.read_bytes() == before
    first = json.loads(cli_report["json"].read_text(encoding="utf-8"))
    second = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert second["overdue"] == first["overdue"]            # the same pseudonyms next time
    assert second["pseudonymization"]["key_source"] == "stored"


def test_pseudonyms_are_stable_under_one_key_and_differ_under_two(leaky):
    log = leaky["log"]
    a = pseudonymization(log, key("a" * 32)).log.to_pandas()
    again = pseudonymization(log, key("a" * 32)).log.to_pandas()
    b = pseudonymization(log, key("b" * 32)).log.to_pandas()
    pd.testing.assert_frame_equal(a, again)
    people_a, people_b = set(a[C.resource]) - {"系统"}, set(b[C.resource]) - {"系统"}
    assert all(PSEUDONYM.fullmatch(p) for p in people_a)
    assert not people_a & people_b
    # the same events, the same structure: only the names differ
    original = log.to_pandas()
    for column in (C.case_id, C.seq, C.visit, C.round, C.handoff):
        assert a[column].equals(original[column]) and b[column].equals(original[column])
    assert a[C.resource].factorize()[0].tolist() == b[C.resource].factorize()[0].tolist()


def test_the_public_default_key_is_gone():
    assert not hasattr(privacy, "DEFAULT_KEY")
    with pytest.raises(TypeError):
        privacy.pseudonym("张三")                                       # a key is required
    with pytest.raises(TypeError, match="PseudonymKey"):
        privacy.pseudonymize(_tiny_log({}), key="officemine")          # text is not a key
    assert key().pseudonym("张三") != old_pseudonym("张三")
    assert ReportConfig().pseudonym_key_file is None


# --- the key ----------------------------------------------------------------------------------

def test_key_sources_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFICEMINE_CONFIG_DIR", str(tmp_path / "cfg"))
    given = private_file(tmp_path / "given.key", "g" * 20)
    settings = private_file(tmp_path / "settings.key", "s" * 20)
    monkeypatch.setenv(KEY_ENV, "e" * 20)
    assert load_key(given, settings_file=settings).secret == b"g" * 20
    assert load_key(None, settings_file=settings).source == "environment"
    monkeypatch.delenv(KEY_ENV)
    assert load_key(None, settings_file=settings).secret == b"s" * 20
    generated = load_key()
    assert generated.source == "generated" and generated.stored_at == tmp_path / "cfg" / \
        "pseudonym.key"
    stored = load_key()
    assert stored.source == "stored" and stored.secret == generated.secret
    assert stored.fingerprint == generated.fingerprint != key().fingerprint


@pytest.mark.parametrize("content, mode, message", [
    ("short", 0o600, "too short"),
    ("", 0o600, "empty"),
    ("x" * 32, 0o644, "chmod 600"),
    (b"\xff\xfe" * 20, 0o600, "not UTF-8"),
])
def test_bad_key_files_are_refused_naming_the_file(tmp_path, content, mode, message):
    path = tmp_path / "bad.key"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    path.chmod(mode)
    with pytest.raises(PseudonymKeyError, match=message) as err:
        load_key(path)
    assert str(path) in str(err.value)


def test_a_short_key_in_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "officemine")
    with pytest.raises(PseudonymKeyError, match=KEY_ENV):
        load_key()


def test_the_key_is_never_shown():
    k = key("secret-" * 5)
    assert "secret" not in repr(k)
    assert "secret" not in repr(Replacer(["张三"], k))


def test_settings_take_a_key_file_never_a_key(tmp_path):
    private_file(tmp_path / "my.key", "m" * 32)
    (tmp_path / "report.toml").write_text('pseudonym_key_file = "my.key"\n', encoding="utf-8")
    config = ReportConfig.from_toml(tmp_path / "report.toml")
    assert config.pseudonym_key_file == (tmp_path / "my.key").resolve()
    (tmp_path / "old.toml").write_text('pseudonym_key = "change-me"\n', encoding="utf-8")
    with pytest.raises(ReportConfigError, match="pseudonym_key_file"):
        ReportConfig.from_toml(tmp_path / "old.toml")


# --- which names, where -----------------------------------------------------------------------

def test_replacer_rewrites_names_inside_text_longest_first():
    r = Replacer(["王小", "王小明", "张三", "李"], key())
    p = r.table
    assert r.text("审批人 张三") == f"审批人 {p['张三']}"
    assert r.text("王小明请王小审核") == f"{p['王小明']}请{p['王小']}审核"
    assert r.person_cell("张三、李") == f"{p['张三']}、{p['李']}"
    assert r.text("李") == p["李"]                     # a whole cell
    assert r.text("李总同意") == "李总同意"               # one character is not looked for in text
    latin = Replacer(["Anna", "10862"], key())
    assert latin.text("Anna, Annabel; 审批人 10862; case 2108620") == \
        f"{latin.table['Anna']}, Annabel; 审批人 {latin.table['10862']}; case 2108620"
    assert r.settings({"node": ["审批人 张三"], "n": 3}) == {"node": [f"审批人 {p['张三']}"],
                                                          "n": 3}


@pytest.mark.parametrize("header", ["抄送人", "代理人", "委托人", "经办人", "审批人", "当前处理人",
                                    "抄送", "cc", "CC", "delegate", "target_users", "notifyer",
                                    "org:resource", "申请者", "Approver name"])
def test_person_headers(header):
    assert is_person_header(header)


@pytest.mark.parametrize("header", ["流程编号", "人数", "部门", "task_id", "api_action", "金额",
                                    "label", "备注"])
def test_not_person_headers(header):
    assert not is_person_header(header)


def _tiny_log(extra: dict[str, list]) -> EventLog:
    t = pd.Timestamp("2025-03-03 09:00", tz="Asia/Shanghai")
    rows = pd.DataFrame({
        C.case_id: ["A", "A", "A"], C.seq: [0, 1, 2], C.node: ["发起", "综合办公室", "归档"],
        C.outcome: ["submit", "approve", "archive"], C.resource: ["张三", "综合办公室", "系统"],
        C.dept: ["财务部", "综合办公室", "系统"],
        C.arrived_at: [t, t, t], C.acted_at: [t, t + pd.Timedelta(hours=1),
                                                t + pd.Timedelta(hours=2)],
        C.pending: [False] * 3, C.wait_start: [t, t, t], C.arrival_source: ["recorded"] * 3,
        C.comment: [None, "张三的材料齐全", None], C.process_type: ["报销"] * 3,
        C.amount: [1.0] * 3, C.urgency: ["普通"] * 3, C.applicant: ["张三"] * 3,
        C.applicant_dept: ["财务部"] * 3, C.title: ["张三报销"] * 3,
        C.source_file: ["/home/u/a.csv"] * 3, C.source_row: ["2", "3", "4"], **extra})
    return EventLog.from_pandas(rows, timezone="Asia/Shanghai")


def test_roles_and_the_system_are_not_people():
    done = pseudonymization(_tiny_log({}), key())
    df = done.log.to_pandas()
    assert df[C.resource].tolist()[1:] == ["综合办公室", "系统"]     # a shared account, the system
    assert df[C.node].tolist() == ["发起", "综合办公室", "归档"]
    assert df[C.comment][1] == f"{done.text('张三')}的材料齐全" and done.names == 1
    assert df[C.source_file].unique().tolist() == ["a.csv"]


def test_a_column_is_people_when_most_of_its_values_are_names():
    mostly = _tiny_log({"跟进": ["张三", "张三", "王五"], "阶段": ["一", "二", "张三"]})
    done = pseudonymization(mostly, key())
    assert done.person_columns_by_values == ("跟进",) and done.names == 2   # 王五 too
    df = done.log.to_pandas()
    assert set(df["跟进"]) == {done.text("张三"), done.text("王五")}
    assert df["阶段"].tolist() == ["一", "二", done.text("张三")]


def test_import_report_and_set_aside_rows_are_scanned(leaky):
    log = leaky["log"]
    assert log.report.unknown_outcome_words == {f"{SILENT}代签": 3}
    done = pseudonymization(log, key())
    rep = done.log.report
    assert rep.unknown_outcome_words == {f"{done.text(SILENT)}代签": 3}
    assert rep.source_file == f"{done.text(leaky['approver'])}_审批导出.csv"
    aside = done.log.set_aside
    assert len(aside) == len(log.set_aside) == 3
    assert not leaks(aside.to_csv(), leaky["people"])


def test_settings_that_name_people_still_match_the_log(leaky):
    from officemine.simulation import Remove, Scenario

    node = f"审批人 {leaky['approver']}"
    scenario = Scenario(f"取消{node}", [Remove(node=node)])
    sla = SLA(limits={leaky["special"]: 1.0})
    report = monthly_report(leaky["log"], "2025-10", sla=sla, scenario=scenario,
                            pseudonym_key=key())
    done = report.pseudonymization
    assert report.pseudonymized and done.key_source == "file"
    assert dict(report.sla.limits)[done.text(leaky["special"])] == 1.0
    assert done.text(leaky["special"]) in set(report.log.to_pandas()[C.process_type])
    data = json.dumps(report.simulation.to_dict(), ensure_ascii=False, default=str)
    assert f"审批人 {done.text(leaky['approver'])}" in data
    assert not leaks(data, leaky["people"])


def test_cli_refuses_a_key_file_others_can_read(leaky, tmp_path):
    shared = tmp_path / "shared.key"
    shared.write_text("x" * 32)
    shared.chmod(0o644)
    result = CliRunner().invoke(app, ["report", str(leaky["path"]), "--month", "2025-10",
                                      "--pseudonym-key", str(shared), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "error:" in result.output and "chmod 600" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.glob("*.pdf"))


def test_cli_key_file_implies_pseudonyms(leaky, tmp_path):
    given = private_file(tmp_path / "team.key", "t" * 40)
    result = CliRunner().invoke(app, ["report", str(leaky["path"]), "--month", "2025-10",
                                      "--lang", "en", "--pseudonym-key", str(given),
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(next((tmp_path / "out").glob("*.json")).read_text(encoding="utf-8"))
    assert data["pseudonymization"]["key_source"] == "file"
    people = {r["responsible"] for r in data["overdue"]} - {None}
    team = PseudonymKey.from_text("t" * 40, "file", "test")
    assert people and people <= {team.pseudonym(n, "Person") for n in leaky["people"]}
    text = " ".join(pdf_text(next((tmp_path / "out").glob("*.pdf"))).split())
    assert re.search(r"Person-[0-9a-f]{12}", text) and "人员-" not in text
    assert "People are pseudonymised" in text and team.fingerprint in text
    assert not leaks(text, leaky["people"])
    assert os.stat(given).st_mode & 0o777 == 0o600                   # left as it was


def test_case_ids_that_name_people_are_renamed_and_the_log_rederived():
    log = _tiny_log({})
    table = log.to_arrow()
    table = table.set_column(table.schema.get_field_index(C.case_id), C.case_id,
                             pa.array(["张三-001"] * 3, pa.large_string()))
    named = EventLog(table, timezone="Asia/Shanghai")
    done = pseudonymization(named, key())
    df = done.log.to_pandas()
    assert df[C.case_id].unique().tolist() == [f"{done.text('张三')}-001"]
    assert done.changed_values[C.case_id] == 1
    assert df[C.visit].tolist() == named.to_pandas()[C.visit].tolist()


def test_dictionary_and_chunked_text_columns():
    r = Replacer(["张三"], key())
    column = pa.chunked_array([pa.array(["张三审核", None]).dictionary_encode(),
                               pa.array(["李四", "张三审核"]).dictionary_encode()])
    new, changed = r.column(column)
    assert changed == 1 and new.type == column.type
    assert new.to_pylist() == [f"{r.table['张三']}审核", None, "李四", f"{r.table['张三']}审核"]


def test_a_pseudonymised_report_never_overwrites_the_log_it_came_from(leaky, tmp_path):
    from officemine.base.errors import OutputError

    stored = leaky["log"].write(tmp_path / "october.json")      # a Parquet log, oddly named
    before = stored.read_bytes()
    report = monthly_report(officemine.read_log(stored), "2025-10", pseudonym_key=key())
    assert report.log.path is None                        # the renamed log is in memory
    with pytest.raises(OutputError):
        report.write(tmp_path, stem="october")
    assert stored.read_bytes() == before
