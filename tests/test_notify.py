"""Notifications: each channel's failures reported on their own and retried a bounded number
of times, the ledger's update kept, --resend, --dry-run, rate limits, settings and people
files, and no secret ever printed."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from typer.testing import CliRunner

import officemine
from officemine.cli import app
from officemine.supervision import Ledger
from officemine.supervision.notify import (NotifySettings, NotifySettingsError, People,
                                           build_message, send, wait_for_slot)

from loopback import SECRETS, TOKENS, MailServer, RobotServer, free_port, settings_file
from weekly_office import dump, office, people_file, snapshots

runner = CliRunner()
ALL = ["--notify", "dingtalk", "--notify", "feishu", "--notify", "wecom", "--notify", "email"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    syn = office()
    return syn, snapshots(syn, folder), people_file(folder / "people.toml", syn.spec)


def deliveries(path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT run_id, channel, kind, status, attempts, error "
                           "FROM deliveries ORDER BY delivery_id").fetchall()
    finally:
        con.close()


def test_failing_channels_are_reported_each_and_the_ledger_update_is_kept(exports, tmp_path):
    syn, paths, people = exports
    ledger = tmp_path / "l.db"
    with RobotServer() as robots, MailServer(tmp_path) as mail:
        robots.mode["wecom"] = "rate_limited"
        settings = settings_file(tmp_path / "s.toml", robots, mail, retries=2,
                                 secrets={**SECRETS, "feishu": "the-wrong-secret"},
                                 unreachable=("dingtalk",))
        args = ["supervise", str(paths[0]), "--ledger", str(ledger), "--settings",
                str(settings), "--people", str(people), "-o", str(tmp_path / "out"), *ALL]
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        out = result.output
        assert "email: sent" in out
        assert "dingtalk: FAILED after 3 attempts" in out and "cannot reach" in out
        assert "feishu: FAILED after 1 attempt " in out and "signature" in out
        assert "wecom: FAILED after 3 attempts" in out and "rate limited" in out
        assert "--resend 2025-W15 --notify dingtalk --notify feishu --notify wecom" in out
        for secret in (*TOKENS.values(), *SECRETS.values(), "the-wrong-secret",
                       MailServer.PASSWORD):
            assert secret not in out
        # the week is recorded whatever the channels answered
        with Ledger(ledger, readonly=True) as book:
            assert book.runs["week"].tolist() == ["2025-W15"]
        rows = deliveries(ledger)
        assert [(c, s, a) for _, c, _, s, a, _ in rows] == [
            ("dingtalk", "failed", 3), ("feishu", "failed", 1), ("wecom", "failed", 3),
            ("email", "sent", 1)]
        assert not any(secret in (e or "") for *_, e in rows for secret in TOKENS.values())
        assert len([r for r in robots.requests if r["channel"] == "wecom"]) == 3
        assert len([r for r in robots.requests if r["channel"] == "feishu"]) == 1
        assert len(mail.messages) == 1

        # the same week again: only the channels not yet reached are tried
        robots.mode.clear()
        fixed = settings_file(tmp_path / "fixed.toml", robots, mail)
        again = runner.invoke(app, [*args[:5], str(fixed), *args[6:]])
        assert again.exit_code == 0, again.output
        assert len(mail.messages) == 1                      # e-mail is not sent twice
        assert {r["channel"] for r in robots.requests if r["ok"]} == {"dingtalk", "feishu",
                                                                       "wecom"}
        # --resend sends the recorded digest again, on purpose
        resend = runner.invoke(app, ["supervise", "--ledger", str(ledger), "--settings",
                                     str(fixed), "--resend", "2025-W15", "--notify", "wecom",
                                     "--notify", "email"])
        assert resend.exit_code == 0, resend.output
        assert len(robots.accepted("wecom")) == 2 and len(mail.messages) == 2
        first, last = robots.accepted("wecom")
        assert first["body"]["text"]["content"].split("\n")[:2] == \
            last["body"]["text"]["content"].split("\n")[:2]
        assert [k for _, _, k, s, _, _ in deliveries(ledger) if s == "sent"][-2:] == \
            ["resend", "resend"]


def test_a_dry_run_writes_and_sends_nothing(exports, tmp_path):
    syn, paths, people = exports
    ledger = tmp_path / "l.db"
    with RobotServer() as robots, MailServer(tmp_path) as mail:
        settings = settings_file(tmp_path / "s.toml", robots, mail)
        args = ["supervise", str(paths[0]), "--ledger", str(ledger), "--settings",
                str(settings), "--people", str(people), "-o", str(tmp_path / "out"), *ALL]
        dry = runner.invoke(app, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert not ledger.exists() and not (tmp_path / "out").exists()
        assert robots.requests == [] and mail.messages == []
        assert f"--- dingtalk → 127.0.0.1:{robots.port}" in dry.output
        assert "--- email → 127.0.0.1" in dry.output and "督办周报 2025-W15" in dry.output
        assert TOKENS["dingtalk"] not in dry.output and "dry run" in dry.output
        # on an existing ledger: the file and the folder stay as they were
        assert runner.invoke(app, args).exit_code == 0
        before, mtime = dump(ledger), ledger.stat().st_mtime_ns
        files = sorted(p.name for p in (tmp_path / "out").iterdir())
        sent = (len(robots.requests), len(mail.messages))
        dry = runner.invoke(app, ["supervise", str(paths[1]), *args[2:], "--dry-run"])
        assert dry.exit_code == 0 and "2025-W16" in dry.output
        assert dump(ledger) == before and ledger.stat().st_mtime_ns == mtime
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == files
        assert (len(robots.requests), len(mail.messages)) == sent


def test_mail_is_never_sent_in_clear_nor_to_an_untrusted_server(exports, tmp_path):
    from aiosmtpd.controller import Controller

    syn, paths, people = exports

    class Sink:
        async def handle_DATA(self, server, session, envelope):   # noqa: N802
            return "250 OK"

    port = free_port()
    plain = Controller(Sink(), hostname="127.0.0.1", port=port)      # no STARTTLS offered
    plain.start()
    try:
        settings = NotifySettings.load(environ={
            "OFFICEMINE_SMTP_HOST": "127.0.0.1", "OFFICEMINE_SMTP_PORT": str(port),
            "OFFICEMINE_SMTP_FROM": "a@example.cn", "OFFICEMINE_SMTP_TO": "b@example.cn"})
        with Ledger(None) as ledger:
            digest = ledger.update(officemine.read_log(paths[0]))
            (d,) = send(["email"], digest, settings)
        assert not d.ok and d.attempts == 1 and "STARTTLS" in d.error
    finally:
        plain.stop()
    with MailServer(tmp_path) as mail:
        settings = NotifySettings.load(environ={
            "OFFICEMINE_SMTP_HOST": "127.0.0.1", "OFFICEMINE_SMTP_PORT": str(mail.port),
            "OFFICEMINE_SMTP_FROM": "a@example.cn", "OFFICEMINE_SMTP_TO": "b@example.cn"})
        (d,) = send(["email"], digest, settings)          # the test CA is not trusted
        assert not d.ok and "certificate" in d.error and mail.messages == []


def test_rate_limits_hold_across_runs_through_the_ledger():
    assert wait_for_slot([], [(20, 60.0)], 1000.0) == 0
    assert wait_for_slot([990.0] * 19, [(20, 60.0)], 1000.0) == 0
    assert wait_for_slot([950.0] + [990.0] * 19, [(20, 60.0)], 1000.0) == pytest.approx(10)
    assert wait_for_slot([999.5] * 5, [(100, 60.0), (5, 1.0)], 1000.0) == pytest.approx(0.5)


def test_a_robot_waits_when_the_ledger_shows_a_full_minute(exports, tmp_path):
    syn, paths, _ = exports
    with RobotServer() as robots:
        settings = settings_file(tmp_path / "s.toml", robots, None)
        with Ledger(tmp_path / "l.db") as ledger:
            digest = ledger.update(officemine.read_log(paths[0]))
            now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            con = ledger._con
            con.executemany(
                "INSERT INTO deliveries (run_id, channel, kind, status, attempts, sent_at, "
                "recipients) VALUES (1, 'dingtalk', 'resend', 'sent', 1, ?, '[]')",
                [((now - dt.timedelta(seconds=s)).isoformat(),) for s in range(20, 40)])
            waits = []
            (d,) = send(["dingtalk"], digest, NotifySettings.load(settings), ledger=ledger,
                        sleep=waits.append)
        assert d.ok
        # the oldest of the 20 went out 39 s ago: wait about 21 s for the 21st
        assert len(waits) == 1 and 19 < waits[0] < 23


def test_settings_come_from_the_environment_or_a_file_and_are_checked(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[dingtalk]\nwebhook = "https://oapi.dingtalk.com/robot/send?'
                    'access_token=FILE"\nsecret = "SECfile"\n', encoding="utf-8")
    path.chmod(0o644)
    env = {"OFFICEMINE_DINGTALK_SECRET": "SECenv",
           "OFFICEMINE_WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=E"}
    settings = NotifySettings.load(path, environ=env)
    assert settings.robots["dingtalk"].secret == "SECenv"      # the environment wins
    assert settings.robots["dingtalk"].webhook.endswith("FILE")
    assert settings.robots["wecom"].where == "qyapi.weixin.qq.com"
    assert "FILE" not in repr(settings) and "SECenv" not in repr(settings)
    assert any("chmod 600" in w for w in settings.warnings)
    with pytest.raises(NotifySettingsError) as missing:
        settings.require(["feishu", "email"])
    assert "OFFICEMINE_FEISHU_WEBHOOK" in str(missing.value)
    assert "OFFICEMINE_SMTP_HOST" in str(missing.value)
    with pytest.raises(NotifySettingsError, match="unknown channel"):
        settings.require(["pigeon"])
    bad = tmp_path / "bad.toml"
    bad.write_text('retries = 99\ncolour = "red"\n[feishu]\nwebhook = "http://example.cn/h"\n'
                   '[email]\nhost = "smtp.example.cn"\nport = "x"\nsecurity = "none"\n',
                   encoding="utf-8")
    with pytest.raises(NotifySettingsError) as problems:
        NotifySettings.load(bad, environ={})
    text = str(problems.value)
    for part in ("retries", "colour", "must use https", "port", "never sent in clear",
                 "needs from", "needs to"):
        assert part in text


def test_the_people_file_is_checked(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[people."王五"]\nmobile = "not-a-number"\nfax = "1"\n'
                    '[people."李四"]\nemail = "lisi"\n', encoding="utf-8")
    with pytest.raises(NotifySettingsError) as problems:
        People.from_toml(path)
    text = str(problems.value)
    assert "王五: mobile" in text and "'fax'" in text and "李四: email" in text


def test_a_long_week_is_cut_to_what_each_robot_takes(exports):
    syn, paths, people = exports
    with Ledger(None) as ledger:
        for path in paths:
            digest = ledger.update(officemine.read_log(path))
    crowd = People.from_toml(people)
    wecom = build_message("wecom", digest, crowd)
    assert len(wecom.body["text"]["content"].encode()) <= 2048
    shown = wecom.body["text"]["content"]
    listed = sum(1 for r in digest.summary.itertuples() if r.case_id in shown)
    assert 0 < listed < len(digest.summary) and "未列出" in shown
    # only the people whose lines are in the message are mentioned
    for item, person in wecom.addressed:
        case = digest.summary.set_index("item_id").loc[item, "case_id"]
        assert case in shown
    ding = build_message("dingtalk", digest, crowd)
    assert all(r.case_id in ding.body["markdown"]["text"] for r in digest.summary.itertuples())
