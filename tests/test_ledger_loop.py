"""The supervision loop end to end: four weekly exports of a generated office through
`officemine supervise`, pushed to loopback robots and a STARTTLS mail server.

The ledger's opened / carried / closed entries and close dates are checked against the truth
computed from the generator's case table (tests/weekly_office.py); each channel must receive
exactly one signed, well-formed message per run; running a week again must change nothing and
send nothing; an older export is refused.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from officemine.cli import app
from officemine.supervision import Ledger

from loopback import MailServer, RobotServer, settings_file
from weekly_office import MOMENTS, dump, export_end, office, people_file, snapshots, truth

runner = CliRunner()
CHANNELS = ["dingtalk", "feishu", "wecom", "email"]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """Four weekly runs through the CLI with every channel, plus a fifth run of week 4 again."""
    folder = tmp_path_factory.mktemp("loop")
    syn = office()
    exports = snapshots(syn, folder)
    people = people_file(folder / "people.toml", syn.spec)
    ledger = folder / "duban.db"
    with RobotServer() as robots, MailServer(folder) as mail:
        settings = settings_file(folder / "notify.toml", robots, mail)
        base = ["--ledger", str(ledger), "--settings", str(settings), "--people", str(people),
                "-o", str(folder / "digests")] + [a for c in CHANNELS for a in ("--notify", c)]
        results, counts = [], []
        for export in exports:
            results.append(runner.invoke(app, ["supervise", str(export), *base]))
            counts.append((len(robots.requests), len(mail.messages)))
        before = dump(ledger)
        again = runner.invoke(app, ["supervise", str(exports[-1]), *base])
        after = dump(ledger)
        sent_after_again = (len(robots.requests), len(mail.messages))
        older = runner.invoke(app, ["supervise", str(exports[1]), *base])
        recorded_week = runner.invoke(app, ["supervise", str(exports[1]), *base, "--as-of",
                                            MOMENTS[1]])
        back = runner.invoke(app, ["supervise", str(exports[3]), *base, "--as-of",
                                   "2025-04-01 17:30"])
        after_refusals = dump(ledger)
    return {"syn": syn, "exports": exports, "ledger": ledger, "results": results,
            "counts": counts, "robots": robots, "mail": mail, "again": again,
            "before": before, "after": after, "sent_after_again": sent_after_again,
            "older": older, "recorded_week": recorded_week, "back": back,
            "after_refusals": after_refusals, "folder": folder}


def test_every_run_succeeds_and_writes_its_digest(loop):
    for result in loop["results"]:
        assert result.exit_code == 0, result.output
    weeks = ["2025-W15", "2025-W16", "2025-W17", "2025-W18"]
    for week in weeks:
        for suffix in ("pdf", "json", "xlsx"):
            assert (loop["folder"] / "digests" / f"supervision_{week}.{suffix}").exists()
    assert "督办周报 2025-W18" in loop["results"][3].output
    assert "dingtalk: sent" in loop["results"][0].output


def test_opened_carried_closed_and_close_dates_match_the_truth(loop):
    syn = loop["syn"]
    as_ofs = [export_end(syn, m) for m in MOMENTS]
    expected = truth(syn, as_ofs)
    ledger = Ledger(loop["ledger"], readonly=True)
    assert ledger.runs["week"].tolist() == ["2025-W15", "2025-W16", "2025-W17", "2025-W18"]
    assert ledger.runs["as_of"].tolist() == as_ofs
    for week, want in zip(ledger.runs["week"], expected):
        digest = ledger.digest(week)
        s = digest.summary
        assert set(s.loc[s["opened_this_week"], "case_id"]) == want["opened"], week
        assert set(s.loc[s["state"] == "carried", "case_id"]) == want["carried"], week
        closed = s[s["section"] == "closed"].set_index("case_id")
        assert set(closed.index) == set(want["closed"]), week
        for case, end in want["closed"].items():
            assert closed.loc[case, "closed_at"] == end
            assert closed.loc[case, "days_to_close"] == pytest.approx(
                want["overdue_days"][case], abs=1e-6)
        assert digest.counts["opened"] == len(want["opened"])
        assert digest.counts["closed"] == len(want["closed"])
        assert digest.counts["open_after"] == len(want["open_after"])
    # the weeks are not trivial: entries are carried, and some open and close in one week
    assert sum(len(w["carried"]) for w in expected) > 0
    assert any(w["opened"] & set(w["closed"]) for w in expected)
    # the ledger as a whole: open entries are the truth's open ones after the last run
    assert set(ledger.open["case_id"]) == expected[-1]["open_after"]
    closed_items = ledger.closed.set_index("case_id")
    every_closed = {c: e for w in expected for c, e in w["closed"].items()}
    assert set(closed_items.index) == set(every_closed)
    assert all(closed_items.loc[c, "closed_at"] == e for c, e in every_closed.items())


def test_each_channel_got_exactly_one_signed_message_per_run(loop):
    robots, mail = loop["robots"], loop["mail"]
    # after each run, one more request per robot and one more mail (none was refused)
    assert loop["counts"] == [(3 * k, k) for k in range(1, 5)]
    assert all(r["ok"] for r in robots.requests), [r.get("problem") for r in robots.requests]
    for channel in ("dingtalk", "feishu", "wecom"):
        assert len(robots.accepted(channel)) == 4
    assert all(m["tls"] and m["auth"] for m in mail.messages)
    # signed as documented: DingTalk in the query, Feishu in the body
    assert all({"timestamp", "sign"} <= set(r["query"]) for r in robots.accepted("dingtalk"))
    assert all({"timestamp", "sign"} <= set(r["body"]) for r in robots.accepted("feishu"))


def test_messages_carry_the_week_and_mention_the_people_holding_its_items(loop):
    robots, mail = loop["robots"], loop["mail"]
    ledger = Ledger(loop["ledger"], readonly=True)
    spec = loop["syn"].spec
    mobile = {name: f"139{i:08d}" for i, name in enumerate(spec.everyone)}
    for week, ding, fei, wec, email in zip(ledger.runs["week"], robots.accepted("dingtalk"),
                                           robots.accepted("feishu"), robots.accepted("wecom"),
                                           mail.messages):
        digest = ledger.digest(week)
        holders = {p for r in digest.summary[digest.summary["section"] != "closed"]
                   .itertuples() for p in str(r.responsible).split("、") if p in mobile}
        body = ding["body"]
        assert body["msgtype"] == "markdown" and week in body["markdown"]["title"]
        at = body["at"]["atMobiles"]
        assert set(at) == {mobile[p] for p in holders}       # every open entry listed
        assert all(f"@{m}" in body["markdown"]["text"] for m in at)
        assert body["at"]["isAtAll"] is False
        text = fei["body"]["content"]["text"]
        assert digest.headline("zh") in text
        assert text.count("<at user_id=") >= len(holders)
        content = wec["body"]["text"]
        assert len(content["content"].encode()) <= 2048
        mentioned = set(content["mentioned_list"]) | set(content["mentioned_mobile_list"])
        assert mentioned and all(m.startswith(("user", "139")) for m in mentioned)
        msg = email["message"]
        assert week in msg["Subject"] and "office@example.cn" in msg["To"]
        cc = msg["Cc"] or ""
        assert all(p in cc for p in holders)
        assert set(email["rcpt"]) >= {"office@example.cn"}
        names = {part.get_filename() for part in msg.iter_attachments()}
        assert names == {f"supervision_{week}.pdf", f"supervision_{week}.xlsx"}
    # the mentions are recorded as reminders sent, per entry and person
    first = ledger.open["case_id"].iloc[0]
    history = ledger.history(first)
    assert history.summary["reminders_sent"].iloc[-1] >= 1


def test_the_same_week_again_changes_nothing_and_sends_nothing(loop):
    again = loop["again"]
    assert again.exit_code == 0, again.output
    assert "已记入台账：未作改动，也不重新发送" in again.output      # said in the digest's language
    assert loop["after"] == loop["before"]
    assert loop["sent_after_again"] == loop["counts"][-1]
    assert not list((loop["folder"] / "digests").glob("*W19*"))


def test_going_back_in_time_is_refused_unless_as_of_names_a_recorded_week(loop):
    older = loop["older"]
    assert older.exit_code == 2
    line = [x for x in older.output.splitlines() if x.startswith("error:")]
    assert len(line) == 1 and "older export" in line[0] and "--as-of" in line[0]
    recorded = loop["recorded_week"]
    assert recorded.exit_code == 0 and "2025-W16 已记入台账" in recorded.output
    back = loop["back"]
    assert back.exit_code == 2 and "only moves forward" in back.output
    assert loop["after_refusals"] == loop["before"]


def test_digest_files_hold_the_recorded_week(loop):
    from pypdf import PdfReader

    folder = loop["folder"] / "digests"
    data = json.loads((folder / "supervision_2025-W17.json").read_text(encoding="utf-8"))
    ledger = Ledger(loop["ledger"], readonly=True)
    digest = ledger.digest("2025-W17")
    assert data["counts"] == digest.counts and data["week"] == "2025-W17"
    assert len(data["items"]) == len(digest.summary)
    pdf = PdfReader(folder / "supervision_2025-W17.pdf")
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "督办周报" in text and "本周销号" in text
    assert digest.summary["case_id"].iloc[0] in text
    book = pd.read_excel(folder / "supervision_2025-W17.xlsx", sheet_name=None)
    assert set(book) == {"督办周报", "督办事项", "责任人"}
    assert len(book["督办事项"]) == len(digest.summary)
    assert "流程编号" in book["督办事项"].columns


def test_ledger_command_shows_entries_and_one_history(loop):
    ledger = loop["ledger"]
    shown = runner.invoke(app, ["ledger", str(ledger), "--open"])
    assert shown.exit_code == 0, shown.output
    book = Ledger(ledger, readonly=True)
    for case in book.open["case_id"]:
        assert case in shown.output
    case = book.closed["case_id"].iloc[0]
    history = runner.invoke(app, ["ledger", str(ledger), "--case", case, "--json"])
    data = json.loads(history.stdout)
    assert data["item"]["case_id"] == case and data["item"]["status"] == "closed"
    assert data["weeks"][-1]["state"] == "closed"
    everything = json.loads(runner.invoke(app, ["ledger", str(ledger), "--json"]).stdout)
    assert len(everything["runs"]) == 4
    assert len(everything["items"]) == len(book.items("all"))
    week = runner.invoke(app, ["ledger", str(ledger), "--week", "2025-04-18"])
    assert "2025-W16" in week.output
    missing = runner.invoke(app, ["ledger", str(ledger), "--case", "NOPE"])
    assert missing.exit_code == 2 and "no entry" in missing.output
