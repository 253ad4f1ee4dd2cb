"""Reminders pushed to where people work: DingTalk, Feishu and WeCom group robots, and e-mail.

One message per run and channel carries the week's digest (`WeeklyDigest`); each responsible
person listed in the people file is @mentioned beside their own items (by mobile number or
user id on the robots, in Cc on e-mail). The message formats are the robots' documented
webhook formats:

=========  =====================================================================================
dingtalk   ``POST webhook&timestamp=…&sign=…``, ``{"msgtype": "markdown", "markdown": {"title",
           "text"}, "at": {"atMobiles", "atUserIds", "isAtAll": false}}``; the text names each
           mentioned ``@mobile``/``@userId``. Signing secret (加签): ``sign`` = Base64 of
           HMAC-SHA256(key = secret, message = ``"{timestamp_ms}\\n{secret}"``), URL-encoded.
           Answer ``{"errcode": 0}``; 130101 = more than 20 messages a minute (the robot is then
           muted for 10 minutes); 310000 = signature, keyword or IP rejected.
feishu     ``POST webhook``, ``{"timestamp": "…", "sign": "…", "msg_type": "text", "content":
           {"text"}}`` with ``<at user_id="ou_…">name</at>``. Signing: ``sign`` = Base64 of
           HMAC-SHA256(key = ``"{timestamp_s}\\n{secret}"``, message = empty). Answer
           ``{"code": 0}``; 19021 = signature rejected; 11232 = rate limited (100 a minute,
           5 a second); the body may not exceed 20 KB.
wecom      ``POST webhook`` (its ``key`` is the secret), ``{"msgtype": "text", "text":
           {"content", "mentioned_list", "mentioned_mobile_list"}}``; the content may not
           exceed 2,048 bytes. Answer ``{"errcode": 0}``; 45009 = rate limited (20 a minute).
email      SMTP with STARTTLS (port 587; ``security = "ssl"`` for port 465), the server's
           certificate checked, login if a user is set; the digest as text, its PDF and
           workbook attached.
=========  =====================================================================================

Secrets (webhook addresses carry tokens; signing secrets; the SMTP password) come from
environment variables or a settings file, never from the command line, and are never written
to the ledger or printed: errors name a channel's host only.

A transient failure (the server cannot be reached, times out, answers 5xx or rate-limits) is
retried with exponential backoff a bounded number of times; a permanent one (a rejected
signature, a malformed message, a login refused) is not. Every channel is reported on its
own; the ledger's update is never undone by a failed delivery (`--resend WEEK` sends again).
A channel's rate limit is kept across runs: the ledger records when messages went out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import mimetypes
import os
import smtplib
import socket
import ssl
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence, get_args

import pandas as pd

from officemine.base.errors import NotifySettingsError
from officemine.supervision.digest import SECTIONS, WeeklyDigest, split_people
from officemine.base.tomlfile import read_toml
from officemine.base.text import say, word

__all__ = ["CHANNELS", "Channel", "NotifySettings", "NotifySettingsError", "People", "Person",
           "Message", "Delivery", "build_message", "send", "check_channels", "ENV"]

Channel = Literal["dingtalk", "feishu", "wecom", "email"]
CHANNELS: tuple[str, ...] = get_args(Channel)
ROBOTS = ("dingtalk", "feishu", "wecom")


#: The environment variables read for each setting (they win over the settings file).
ENV: dict[str, dict[str, str]] = {
    "dingtalk": {"webhook": "OFFICEMINE_DINGTALK_WEBHOOK", "secret": "OFFICEMINE_DINGTALK_SECRET"},
    "feishu": {"webhook": "OFFICEMINE_FEISHU_WEBHOOK", "secret": "OFFICEMINE_FEISHU_SECRET"},
    "wecom": {"webhook": "OFFICEMINE_WECOM_WEBHOOK"},
    "email": {"host": "OFFICEMINE_SMTP_HOST", "port": "OFFICEMINE_SMTP_PORT",
              "security": "OFFICEMINE_SMTP_SECURITY", "username": "OFFICEMINE_SMTP_USER",
              "password": "OFFICEMINE_SMTP_PASSWORD", "from": "OFFICEMINE_SMTP_FROM",
              "to": "OFFICEMINE_SMTP_TO", "ca_file": "OFFICEMINE_SMTP_CA_FILE"},
}
_SENDING_KEYS = {"retries", "backoff_seconds", "max_backoff_seconds", "timeout_seconds", "lang"}
#: (messages, seconds) each robot accepts; more is refused by the service.
RATE_LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "dingtalk": ((20, 60.0),), "wecom": ((20, 60.0),), "feishu": ((100, 60.0), (5, 1.0)),
    "email": (),
}
#: The longest message each channel takes, in UTF-8 bytes (Feishu: 20 KB for the whole body;
#: WeCom: 2,048 for a text message; DingTalk documents no figure: kept as Feishu's).
MAX_BYTES = {"dingtalk": 18_000, "feishu": 18_000, "wecom": 2_000}


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Robot:
    """A group robot: its webhook address (which carries its token) and signing secret."""

    channel: str
    webhook: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """host:port, never the token."""
        parts = urllib.parse.urlsplit(self.webhook)
        return parts.netloc.rsplit("@", 1)[-1] or "?"


@dataclass(frozen=True)
class Mail:
    """An SMTP server and the digest's recipients."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    security: Literal["starttls", "ssl"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class NotifySettings:
    """Where to send and how hard to try. Read with `NotifySettings.load`.

    retries: further attempts after a transient failure (0–10); backoff_seconds: the wait
    before the first retry, doubled each time up to max_backoff_seconds; timeout_seconds:
    per request.
    """

    robots: Mapping[str, Robot] = field(default_factory=dict)
    mail: Mail | None = None
    retries: int = 3
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 10.0
    lang: str = "zh"
    source: str = "environment"
    warnings: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: str | Path | None = None,
             environ: Mapping[str, str] | None = None) -> "NotifySettings":
        """Settings from a TOML file (optional) and the environment (which wins).

        ```toml
        retries = 3                  # sending: bounded retries with backoff
        backoff_seconds = 2
        [dingtalk]
        webhook = "https://oapi.dingtalk.com/robot/send?access_token=…"
        secret = "SEC…"              # the robot's 加签 secret
        [feishu]
        webhook = "https://open.feishu.cn/open-apis/bot/v2/hook/…"
        secret = "…"
        [wecom]
        webhook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
        [email]
        host = "smtp.example.cn"
        port = 587                   # STARTTLS; security = "ssl" with port 465
        username = "duban@example.cn"
        password = "…"               # better: OFFICEMINE_SMTP_PASSWORD
        from = "督办台账 <duban@example.cn>"
        to = ["office@example.cn"]
        ```
        """
        environ = os.environ if environ is None else environ
        data: dict = {}
        problems: list[str] = []
        warnings: list[str] = []
        where = "environment"
        if path is not None:
            path = Path(path)
            data = read_toml(path, "notification settings file", NotifySettingsError)
            where = f"{path} and the environment"
            try:
                mode = path.stat().st_mode
                if mode & (stat.S_IRGRP | stat.S_IROTH):
                    warnings.append(f"{path} holds secrets and can be read by other users "
                                    f"(chmod 600 {path})")
            except OSError:
                pass
        unknown = sorted(set(data) - set(CHANNELS) - _SENDING_KEYS)
        if unknown:
            problems.append(f"unknown keys {', '.join(map(repr, unknown))} (allowed: "
                            f"{', '.join(sorted(set(CHANNELS) | _SENDING_KEYS))})")
        tables: dict[str, dict] = {}
        for channel in CHANNELS:
            table = data.get(channel, {})
            if not isinstance(table, dict):
                problems.append(f"[{channel}] must be a table")
                table = {}
            allowed = set(ENV[channel])
            extra = sorted(set(table) - allowed)
            if extra:
                problems.append(f"[{channel}]: unknown keys {', '.join(map(repr, extra))} "
                                f"(allowed: {', '.join(sorted(allowed))})")
            merged = {k: v for k, v in table.items() if k in allowed}
            for key, var in ENV[channel].items():
                if environ.get(var):
                    merged[key] = environ[var]
            tables[channel] = merged
        robots = {}
        for channel in ROBOTS:
            t = tables[channel]
            if not t:
                continue
            webhook, secret = t.get("webhook"), t.get("secret")
            if not isinstance(webhook, str) or not webhook.strip():
                problems.append(f"[{channel}] needs webhook (or {ENV[channel]['webhook']})")
                continue
            problem = _check_webhook(webhook.strip())
            if problem:
                problems.append(f"[{channel}] webhook {problem}")
                continue
            if secret is not None and (not isinstance(secret, str) or not secret.strip()):
                problems.append(f"[{channel}] secret must be text")
                secret = None
            robots[channel] = Robot(channel, webhook.strip(), secret.strip() if secret else None)
        mail = _mail(tables["email"], path, problems) if tables["email"] else None
        sending = {}
        for key, lo, hi in (("retries", 0, 10), ("backoff_seconds", 0, 600),
                            ("max_backoff_seconds", 0, 3600), ("timeout_seconds", 0.1, 300)):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                        not lo <= value <= hi:
                    problems.append(f"{key} must be a number from {lo} to {hi}, not {value!r}")
                else:
                    sending[key] = int(value) if key == "retries" else float(value)
        lang = data.get("lang", "zh")
        if lang not in ("zh", "en"):
            problems.append(f"lang must be zh or en, not {lang!r}")
        if problems:
            raise NotifySettingsError(f"notification settings ({where}) have {len(problems)} "
                                      "problem(s):\n  - " + "\n  - ".join(problems))
        return cls(robots=robots, mail=mail, lang=lang, source=where,
                   warnings=tuple(warnings), **sending)

    def require(self, channels: Sequence[str]) -> None:
        """Every channel asked for must be set up: one error listing what is missing."""
        check_channels(channels)
        missing = []
        for channel in channels:
            if channel == "email" and self.mail is None:
                missing.append(f"email: set [email] host, from and to in the settings file "
                               f"(or {ENV['email']['host']}, {ENV['email']['from']}, "
                               f"{ENV['email']['to']})")
            elif channel in ROBOTS and channel not in self.robots:
                missing.append(f"{channel}: set [{channel}] webhook in the settings file "
                               f"(or {ENV[channel]['webhook']})")
        if missing:
            raise NotifySettingsError(f"cannot notify ({self.source}):\n  - "
                                      + "\n  - ".join(missing))


def check_channels(channels: Sequence[str]) -> None:
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise NotifySettingsError(f"unknown channel(s) {', '.join(map(repr, bad))}; choose "
                                  f"from {', '.join(CHANNELS)}")


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_webhook(url: str) -> str | None:
    """Why `url` is not a webhook officemine posts to (None if it is): https, or http on this
    machine only (the token must not cross a network in clear)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port                                     # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"is not a valid address ({exc})"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// address"
    if parts.scheme == "http" and not _loopback(host):
        return "must use https:// (http only for this machine, in tests)"
    return None


def _mail(t: dict, path: Path | None, problems: list[str]) -> Mail | None:
    host, sender, to = t.get("host"), t.get("from"), t.get("to")
    if isinstance(to, str):
        to = [a for _, a in getaddresses([to]) if a]
    ok = True
    if not isinstance(host, str) or not host.strip():
        problems.append(f"[email] needs host (or {ENV['email']['host']})")
        ok = False
    if not isinstance(sender, str) or "@" not in sender:
        problems.append(f"[email] needs from, an address (or {ENV['email']['from']})")
        ok = False
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a
                                                      for a in to):
        problems.append(f"[email] needs to, a list of addresses (or {ENV['email']['to']}, "
                        "comma-separated)")
        ok = False
    try:
        port = int(t.get("port", 587))
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        problems.append(f"[email] port must be a port number, not {t.get('port')!r}")
        ok, port = False, 587
    security = t.get("security", "starttls")
    if security not in ("starttls", "ssl"):
        problems.append(f"[email] security must be starttls or ssl, not {security!r} (mail is "
                        "never sent in clear)")
        ok = False
    ca = t.get("ca_file")
    ca_file = None
    if ca:
        ca_file = Path(ca) if Path(ca).is_absolute() or path is None else path.parent / ca
        if not ca_file.is_file():
            problems.append(f"[email] ca_file not found: {ca_file}")
            ok = False
    if not ok:
        return None
    return Mail(host=host.strip(), sender=sender.strip(), to=tuple(to), port=port,
                security=security, username=t.get("username") or None,
                password=t.get("password") or None, ca_file=ca_file)


@dataclass(frozen=True)
class Person:
    """How to reach one person: mobile (DingTalk and WeCom @mentions), user ids per robot,
    e-mail."""

    name: str
    mobile: str | None = None
    dingtalk_user_id: str | None = None
    feishu_open_id: str | None = None
    wecom_user_id: str | None = None
    email: str | None = None


_PERSON_KEYS = {"mobile", "dingtalk_user_id", "feishu_open_id", "wecom_user_id", "email"}


class People:
    """The people file: who each responsible person is on each channel.

    ```toml
    [people."王五"]
    mobile = "13800000000"          # DingTalk atMobiles, WeCom mentioned_mobile_list
    dingtalk_user_id = "manager42"  # DingTalk atUserIds
    feishu_open_id = "ou_3c2…"      # Feishu <at user_id="…">
    wecom_user_id = "WangWu"        # WeCom mentioned_list
    email = "wangwu@example.cn"     # Cc of the e-mail digest
    ```
    """

    def __init__(self, people: Mapping[str, Person] | None = None) -> None:
        self._people = dict(people or {})

    @classmethod
    def from_toml(cls, path: str | Path) -> "People":
        data = read_toml(path, "people file", NotifySettingsError)
        problems = []
        extra = sorted(set(data) - {"people"})
        if extra:
            problems.append(f"unknown keys {', '.join(map(repr, extra))} (write each person "
                            'as [people."姓名"])')
        table = data.get("people", {})
        people = {}
        if not isinstance(table, dict):
            problems.append('[people] must be a table of [people."姓名"] entries')
            table = {}
        for name, entry in table.items():
            if not isinstance(entry, dict):
                problems.append(f"people.{name} must be a table")
                continue
            bad = sorted(set(entry) - _PERSON_KEYS)
            if bad:
                problems.append(f"people.{name}: unknown keys {', '.join(map(repr, bad))} "
                                f"(allowed: {', '.join(sorted(_PERSON_KEYS))})")
            values = {k: str(v).strip() for k, v in entry.items()
                      if k in _PERSON_KEYS and str(v).strip()}
            mobile = values.get("mobile")
            if mobile and not mobile.lstrip("+").replace("-", "").isdigit():
                problems.append(f"people.{name}: mobile {mobile!r} is not a phone number")
            if values.get("email") and "@" not in values["email"]:
                problems.append(f"people.{name}: email {values['email']!r} is not an address")
            people[str(name)] = Person(name=str(name), **values)
        if problems:
            raise NotifySettingsError(f"{path} has {len(problems)} problem(s):\n  - "
                                      + "\n  - ".join(problems))
        return cls(people)

    def get(self, name: str) -> Person | None:
        return self._people.get(name)

    def __len__(self) -> int:
        return len(self._people)


# --- messages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """One channel's message for one digest: the body as posted (JSON for robots, an e-mail
    for SMTP), the people it addresses, and which (entry, person) pairs those are."""

    channel: str
    body: Any
    preview: str
    recipients: tuple[str, ...]
    addressed: tuple[tuple[int, str], ...]

    @property
    def size(self) -> int:
        if isinstance(self.body, EmailMessage):
            return len(self.body.as_bytes())
        return len(json.dumps(self.body, ensure_ascii=False).encode("utf-8"))


def _mention(channel: str, person: Person | None) -> tuple[str, dict]:
    """The inline mention of `person` on `channel` and what it adds to the lists."""
    if person is None:
        return "", {}
    if channel == "dingtalk":
        if person.dingtalk_user_id:
            return f" @{person.dingtalk_user_id}", {"atUserIds": person.dingtalk_user_id}
        if person.mobile:
            return f" @{person.mobile}", {"atMobiles": person.mobile}
    if channel == "feishu" and person.feishu_open_id:
        return (f' <at user_id="{person.feishu_open_id}">{person.name}</at>',
                {"feishu": person.feishu_open_id})
    if channel == "wecom":
        if person.wecom_user_id:
            return "", {"mentioned_list": person.wecom_user_id}
        if person.mobile:
            return "", {"mentioned_mobile_list": person.mobile}
    return "", {}


def build_message(channel: str, digest: WeeklyDigest, people: People | None = None,
                  lang: str = "zh", attachments: Sequence[Path] = (),
                  mail: Mail | None = None) -> Message:
    """The message `channel` gets for `digest`: the headline, then each section's entries
    (most overdue first), each open entry's responsible person mentioned, cut to what the
    channel accepts (the rest summarised as a count)."""
    check_channels([channel])
    people = people or People()
    if channel == "email":
        return _email(digest, people, lang, attachments, mail)
    lists: dict[str, list[str]] = {}
    recipients: list[str] = []
    addressed: list[tuple[int, str]] = []
    head = [digest.title(lang), digest.headline(lang)]
    if channel == "dingtalk":
        head = [f"### {head[0]}", f"**{head[1]}**"]
    lines = list(head)
    budget = MAX_BYTES[channel] - 600      # room for the JSON around the text and a tail
    used = sum(len(x.encode()) + 1 for x in lines)
    cut = 0
    for name in SECTIONS:
        rows = digest.section(name)
        if rows.empty:
            continue
        title = word("section", name, lang)
        header = (f"#### 【{title}】" if channel == "dingtalk" else
                  say("digest.section", lang, name=title))
        section_lines, section_bytes = [header], len(header.encode()) + 1
        for row in rows.itertuples():
            tags, adds = "", []
            if name != "closed":
                for who in split_people(row.responsible):
                    tag, add = _mention(channel, people.get(who))
                    if add:
                        tags += tag
                        adds.append((who, add))
            line = ("- " if channel == "dingtalk" else "· ") + digest.item_line(row, lang, tags)
            size = len(line.encode()) + 1
            if used + section_bytes + size > budget:
                cut += 1
                continue
            section_lines.append(line)
            section_bytes += size
            for who, add in adds:
                for key, value in add.items():
                    if value not in lists.setdefault(key, []):
                        lists[key].append(value)
                if who not in recipients:
                    recipients.append(who)
                addressed.append((int(row.item_id), who))
        if len(section_lines) > 1:
            lines += section_lines
            used += section_bytes
    if cut:
        lines.append(say("notify.cut", lang, n=cut))
    if digest.summary.empty:
        lines.append(say("digest.empty", lang))
    text = ("\n\n" if channel == "dingtalk" else "\n").join(lines)
    if channel == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": digest.title(lang), "text": text},
                "at": {"atMobiles": lists.get("atMobiles", []),
                       "atUserIds": lists.get("atUserIds", []), "isAtAll": False}}
    elif channel == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
    else:
        body = {"msgtype": "text", "text": {
            "content": text, "mentioned_list": lists.get("mentioned_list", []),
            "mentioned_mobile_list": lists.get("mentioned_mobile_list", [])}}
    return Message(channel, body, text, tuple(recipients), tuple(addressed))


def _email(digest: WeeklyDigest, people: People, lang: str, attachments: Sequence[Path],
           mail: Mail | None) -> Message:
    msg = EmailMessage()
    msg["Subject"] = say("notify.subject", lang, title=digest.title(lang),
                         headline=digest.headline(lang))
    if mail is not None:
        msg["From"] = mail.sender
        msg["To"] = ", ".join(mail.to)
    cc, recipients, addressed = [], [], []
    open_rows = digest.summary[digest.summary["section"] != "closed"]
    for row in open_rows.itertuples():
        for who in split_people(row.responsible):
            person = people.get(who)
            if person is None or not person.email:
                continue
            if who not in recipients:
                recipients.append(who)
                cc.append(formataddr((who, person.email)))
            addressed.append((int(row.item_id), who))
    if cc:
        msg["Cc"] = ", ".join(cc)
    text = digest.text(lang)
    msg.set_content(text + "\n\n" + say("notify.signature", lang))
    for path in attachments:
        kind, _ = mimetypes.guess_type(path.name)
        main, sub = (kind or "application/octet-stream").split("/", 1)
        msg.add_attachment(Path(path).read_bytes(), maintype=main, subtype=sub,
                           filename=path.name)
    return Message("email", msg, text, tuple(recipients), tuple(addressed))


# --- sending -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """What happened on one channel: sent or failed (and why), after how many attempts."""

    channel: str
    ok: bool
    attempts: int
    error: str | None
    at: dt.datetime
    recipients: tuple[str, ...] = ()
    addressed: tuple[tuple[int, str], ...] = ()
    where: str = ""

    def line(self, lang: str = "en") -> str:
        who = f", {len(self.recipients)} people addressed" if self.recipients else ""
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.ok:
            return f"{self.channel}: sent to {self.where} ({tries}{who})"
        return f"{self.channel}: FAILED after {tries} ({self.where}): {self.error}"


class _Failure(Exception):
    """One attempt failed; `transient` says whether trying again may help."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def wait_for_slot(sent: Sequence[float], limits: Sequence[tuple[int, float]],
                  now: float) -> float:
    """Seconds to wait before the next message so that no limit (n messages per window
    seconds) is passed, given when earlier messages went out (epoch seconds)."""
    wait = 0.0
    for n, window in limits:
        recent = sorted(t for t in sent if now - t < window)
        if len(recent) >= n:
            wait = max(wait, recent[len(recent) - n] + window - now)
    return max(wait, 0.0)


def send(channels: Sequence[str], digest: WeeklyDigest, settings: NotifySettings,
         people: People | None = None, *, ledger=None, attachments: Sequence[Path] = (),
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.time) -> list[Delivery]:
    """Send `digest` on each of `channels`: one message each, retried with backoff on
    transient failures. Returns one `Delivery` per channel (never raises for a channel that
    failed). `ledger`: where earlier sends are recorded (each robot's rate limit holds across
    runs)."""
    settings.require(channels)
    out = []
    for channel in channels:
        message = build_message(channel, digest, people, settings.lang, attachments,
                                settings.mail)
        out.append(_deliver(channel, message, settings, ledger, sleep, clock))
    return out


def _deliver(channel: str, message: Message, settings: NotifySettings, ledger,
             sleep: Callable[[float], None], clock: Callable[[], float]) -> Delivery:
    where = settings.mail.where if channel == "email" else settings.robots[channel].where
    limits = RATE_LIMITS[channel]
    attempts, error = 0, None
    for attempt in range(1 + settings.retries):
        if limits:
            sent = _recent_sends(ledger, channel, clock)
            wait = wait_for_slot(sent, limits, clock())
            if wait > 0:
                sleep(min(wait, max(w for _, w in limits) + 1))
        attempts += 1
        try:
            if channel == "email":
                _send_mail(settings.mail, message.body, settings.timeout_seconds)
            else:
                _post(settings.robots[channel], message.body, settings.timeout_seconds, clock)
            return Delivery(channel, True, attempts, None, _now(), message.recipients,
                            message.addressed, where)
        except _Failure as exc:
            error = str(exc)
            if not exc.transient:
                break
            if attempt < settings.retries:
                sleep(min(settings.backoff_seconds * 2 ** attempt, settings.max_backoff_seconds))
    return Delivery(channel, False, attempts, error, _now(), message.recipients, (), where)


def _recent_sends(ledger, channel: str, clock: Callable[[], float]) -> list[float]:
    """When the ledger says messages went out on `channel` in the last two minutes."""
    if ledger is None:
        return []
    since = dt.datetime.fromtimestamp(int(clock()) - 120, dt.timezone.utc)
    return [t.timestamp() for t in ledger.sends_since(channel, since)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _signed(robot: Robot, body: dict, clock: Callable[[], float]) -> tuple[str, dict]:
    """The address and body to post, signed as the robot's service documents."""
    url = robot.webhook
    if robot.channel == "dingtalk" and robot.secret:
        timestamp = str(int(clock() * 1000))
        digest = hmac.new(robot.secret.encode("utf-8"),
                          f"{timestamp}\n{robot.secret}".encode("utf-8"),
                          hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
    if robot.channel == "feishu" and robot.secret:
        timestamp = str(int(clock()))
        digest = hmac.new(f"{timestamp}\n{robot.secret}".encode("utf-8"), b"",
                          hashlib.sha256).digest()
        body = {"timestamp": timestamp, "sign": base64.b64encode(digest).decode("ascii"),
                **body}
    return url, body


_RATE_CODES = {"dingtalk": {130101}, "feishu": {11232}, "wecom": {45009}}
_SIGN_CODES = {"dingtalk": {310000}, "feishu": {19021}, "wecom": set()}


def _post(robot: Robot, body: dict, timeout: float, clock: Callable[[], float]) -> None:
    url, body = _signed(robot, body, clock)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8"})
    host = urllib.parse.urlsplit(url).hostname
    # a proxy of the environment is used, except for this machine (tests, a local relay)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if _loopback(host) \
        else urllib.request.build_opener()
    try:
        with opener.open(request, timeout=timeout) as response:
            raw = response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        transient = exc.code == 429 or exc.code >= 500
        raise _Failure(f"HTTP {exc.code} {exc.reason}" + (" (rate limited)" if exc.code == 429
                                                          else ""), transient) from None
    except urllib.error.URLError as exc:
        raise _Failure(f"cannot reach {robot.where} ({_reason(exc.reason)})", True) from None
    except (TimeoutError, socket.timeout):
        raise _Failure(f"no answer from {robot.where} within {timeout:g} s", True) from None
    except OSError as exc:
        raise _Failure(f"cannot reach {robot.where} ({_reason(exc)})", True) from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Failure(f"{robot.where} answered something that is not JSON", False) from None
    if not isinstance(answer, dict):
        raise _Failure(f"{robot.where} answered {str(answer)[:80]!r}", False)
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    text = str(answer.get("errmsg", answer.get("msg", answer.get("StatusMessage", ""))))[:200]
    if code in (0, None):
        return
    if code in _RATE_CODES[robot.channel]:
        raise _Failure(f"rate limited (code {code}: {text})", True)
    if code in _SIGN_CODES[robot.channel]:
        raise _Failure(f"signature or security setting rejected (code {code}: {text}); check "
                       "the signing secret", False)
    raise _Failure(f"rejected (code {code}: {text})", False)


def _reason(reason: object) -> str:
    if isinstance(reason, OSError):
        return reason.strerror or type(reason).__name__
    return str(reason)


def _send_mail(mail: Mail, msg: EmailMessage, timeout: float) -> None:
    context = ssl.create_default_context(cafile=str(mail.ca_file) if mail.ca_file else None)
    try:
        if mail.security == "ssl":
            server = smtplib.SMTP_SSL(mail.host, mail.port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(mail.host, mail.port, timeout=timeout)
        with server:
            server.ehlo()
            if mail.security == "starttls":
                if not server.has_extn("starttls"):
                    raise _Failure(f"{mail.where} does not offer STARTTLS; mail is never sent "
                                   "in clear", False)
                server.starttls(context=context)
                server.ehlo()
            if mail.username:
                server.login(mail.username, mail.password or "")
            server.send_message(msg)
    except _Failure:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise _Failure(f"{mail.where} refused the login ({exc.smtp_code})", False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _Failure(f"{mail.where} refused the recipients "
                       f"{', '.join(exc.recipients)}", False) from None
    except ssl.SSLCertVerificationError as exc:
        raise _Failure(f"{mail.where}: certificate not trusted ({exc.verify_message}); set "
                       "ca_file for a private mail server", False) from None
    except smtplib.SMTPResponseException as exc:
        transient = 400 <= exc.smtp_code < 500
        raise _Failure(f"{mail.where} answered {exc.smtp_code}", transient) from None
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        raise _Failure(f"{mail.where}: {type(exc).__name__}", True) from None
    except (TimeoutError, socket.timeout):
        raise _Failure(f"no answer from {mail.where} within {timeout:g} s", True) from None
    except OSError as exc:
        raise _Failure(f"cannot reach {mail.where} ({_reason(exc)})", True) from None


def preview(message: Message, settings: NotifySettings) -> str:
    """What a dry run prints for one message: where it would go (host only), whom it
    mentions, its size and text."""
    where = settings.mail.where if message.channel == "email" else \
        settings.robots[message.channel].where if message.channel in settings.robots else "?"
    who = "、".join(message.recipients) or "—"
    return (f"--- {message.channel} → {where} ({message.size:,} bytes; mentions: {who})\n"
            f"{message.preview}")


def frame(deliveries: Sequence[Delivery]) -> pd.DataFrame:
    """Deliveries as a table (channel, ok, attempts, error, at, recipients)."""
    return pd.DataFrame([{"channel": d.channel, "ok": d.ok, "attempts": d.attempts,
                          "error": d.error, "at": d.at, "where": d.where,
                          "recipients": "、".join(d.recipients)} for d in deliveries])
