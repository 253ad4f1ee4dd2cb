"""Servers on the loopback address that stand in for the group robots and a mail server.

`RobotServer` answers as DingTalk's, Feishu's and WeCom's webhooks document: it checks each
request's token, signature (DingTalk: HMAC-SHA256 keyed by the secret over
"timestamp_ms\\nsecret", Base64 and URL-encoded in the query; Feishu: HMAC-SHA256 keyed by
"timestamp_s\\nsecret" over nothing, Base64 in the body; both within an hour of now) and
message shape, enforces DingTalk's and WeCom's 20 messages a minute, and records every request
with its verdict. A channel can be told to answer "rate limited" or to expect another secret.

`MailServer` is aiosmtpd with STARTTLS required (a self-signed certificate made for the test)
and a login required after it; it records each message with whether TLS and login were used.
Nothing here talks to any address but 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TOKENS = {"dingtalk": "dt-token-1", "feishu": "fs-hook-1", "wecom": "wc-key-1"}
SECRETS = {"dingtalk": "SECdingtalk-secret", "feishu": "feishu-secret"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RobotServer:
    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = dict(SECRETS if secrets is None else secrets)
        self.mode: dict[str, str] = {}          # channel -> "ok" | "rate_limited"
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:      # quiet
                pass

            def do_POST(self) -> None:                 # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                status, answer, record = server.answer(self.path, self.headers, raw)
                with server._lock:
                    server.requests.append(record)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "RobotServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, channel: str) -> str:
        base = f"http://127.0.0.1:{self.port}"
        return {"dingtalk": f"{base}/robot/send?access_token={TOKENS['dingtalk']}",
                "feishu": f"{base}/open-apis/bot/v2/hook/{TOKENS['feishu']}",
                "wecom": f"{base}/cgi-bin/webhook/send?key={TOKENS['wecom']}"}[channel]

    def accepted(self, channel: str) -> list[dict]:
        return [r for r in self.requests if r["channel"] == channel and r["ok"]]

    # --- the three services ---------------------------------------------------------------
    def answer(self, path: str, headers, raw: bytes) -> tuple[int, dict, dict]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        record = {"path": parts.path, "query": query, "at": time.time(), "ok": False,
                  "content_type": headers.get("Content-Type", "")}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record.update(channel="?", problem="not JSON")
            return 400, {"errcode": 400, "errmsg": "bad json"}, record
        record["body"] = body
        if parts.path == "/robot/send":
            record["channel"] = "dingtalk"
            problem = self._dingtalk(query, body)
            codes = {"ok": {"errcode": 0, "errmsg": "ok"},
                     "sign": {"errcode": 310000, "errmsg": "sign not match"},
                     "rate": {"errcode": 130101,
                              "errmsg": "send too fast, exceed 20 times per minute"},
                     "bad": {"errcode": 40035, "errmsg": "缺少参数 json"}}
        elif parts.path.startswith("/open-apis/bot/v2/hook/"):
            record["channel"] = "feishu"
            problem = self._feishu(parts.path.rsplit("/", 1)[-1], body, len(raw))
            codes = {"ok": {"code": 0, "msg": "success", "data": {}},
                     "sign": {"code": 19021, "msg": "sign match fail or timestamp is not "
                              "within one hour from current time", "data": {}},
                     "rate": {"code": 11232, "msg": "frequency limited", "data": {}},
                     "bad": {"code": 9499, "msg": "Bad Request", "data": {}}}
        elif parts.path == "/cgi-bin/webhook/send":
            record["channel"] = "wecom"
            problem = self._wecom(query, body)
            codes = {"ok": {"errcode": 0, "errmsg": "ok"},
                     "sign": {"errcode": 93000, "errmsg": "invalid webhook url"},
                     "rate": {"errcode": 45009, "errmsg": "api freq out of limit"},
                     "bad": {"errcode": 40008, "errmsg": "invalid message type"}}
        else:
            record.update(channel="?", problem="unknown path")
            return 404, {"errcode": 404}, record
        if problem is None and self.mode.get(record["channel"]) == "rate_limited":
            problem = ("rate", "told to rate-limit")
        if problem is None and record["channel"] in ("dingtalk", "wecom"):
            recent = [r for r in self.requests if r["channel"] == record["channel"]
                      and r["ok"] and record["at"] - r["at"] < 60]
            if len(recent) >= 20:
                problem = ("rate", "more than 20 a minute")
        if problem is not None:
            record["problem"] = problem[1]
            return 200, codes[problem[0]], record
        record["ok"] = True
        return 200, codes["ok"], record

    def _dingtalk(self, query: dict, body: dict):
        if query.get("access_token") != TOKENS["dingtalk"]:
            return ("sign", "wrong token")
        secret = self.secrets.get("dingtalk")
        if secret:
            ts, sign = query.get("timestamp", ""), query.get("sign", "")
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600_000:
                return ("sign", "timestamp missing or more than an hour off")
            expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if sign != expected:
                return ("sign", "signature does not match")
        kind = body.get("msgtype")
        if kind == "markdown":
            md = body.get("markdown", {})
            if not (isinstance(md.get("title"), str) and isinstance(md.get("text"), str)):
                return ("bad", "markdown needs title and text")
        elif kind == "text":
            if not isinstance(body.get("text", {}).get("content"), str):
                return ("bad", "text needs content")
        else:
            return ("bad", f"msgtype {kind!r}")
        at = body.get("at", {})
        if not isinstance(at, dict) or not all(
                isinstance(at.get(k, []), list) for k in ("atMobiles", "atUserIds")):
            return ("bad", "at must hold lists")
        return None

    def _feishu(self, token: str, body: dict, size: int):
        if token != TOKENS["feishu"]:
            return ("bad", "unknown hook")
        if size > 20 * 1024:
            return ("bad", "body over 20 KB")
        secret = self.secrets.get("feishu")
        if secret:
            ts, sign = str(body.get("timestamp", "")), body.get("sign", "")
            if not ts.isdigit() or abs(time.time() - int(ts)) > 3600:
                return ("sign", "timestamp missing or more than an hour off")
            expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"",
                                                 hashlib.sha256).digest()).decode()
            if sign != expected:
                return ("sign", "signature does not match")
        if body.get("msg_type") != "text" or not isinstance(
                body.get("content", {}).get("text"), str):
            return ("bad", "text message expected")
        return None

    def _wecom(self, query: dict, body: dict):
        if query.get("key") != TOKENS["wecom"]:
            return ("sign", "wrong key")
        if body.get("msgtype") != "text":
            return ("bad", "text message expected")
        text = body.get("text", {})
        content = text.get("content")
        if not isinstance(content, str) or len(content.encode("utf-8")) > 2048:
            return ("bad", "content missing or over 2048 bytes")
        for key in ("mentioned_list", "mentioned_mobile_list"):
            if not isinstance(text.get(key, []), list):
                return ("bad", f"{key} must be a list")
        return None


# --- mail ---------------------------------------------------------------------------------------

def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (and its key), made now for the test."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "officemine test mail")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "mail-cert.pem", folder / "mail-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class MailServer:
    """aiosmtpd on 127.0.0.1: STARTTLS required, then LOGIN/PLAIN with USER/PASSWORD."""

    USER, PASSWORD = "duban@example.cn", "mail-password"

    def __init__(self, folder: Path) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.messages: list[dict] = []
        self.port = free_port()
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):   # noqa: N802
                server.messages.append({
                    "from": envelope.mail_from, "rcpt": list(envelope.rcpt_tos),
                    "tls": session.ssl is not None, "auth": session.authenticated,
                    "message": message_from_bytes(envelope.content, policy=policy.default)})
                return "250 Message accepted"

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.USER
                  and auth_data.password.decode() == self.PASSWORD)
            return AuthResult(success=ok)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticator, auth_require_tls=True)

    def __enter__(self) -> "MailServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def settings_file(path: Path, robots: RobotServer | None, mail: MailServer | None, *,
                  secrets: dict[str, str] | None = None, retries: int = 2,
                  unreachable: tuple[str, ...] = ()) -> Path:
    """A settings file pointing every channel at the loopback servers (or, for the channels
    in `unreachable`, at a port nobody listens on)."""
    secrets = dict(SECRETS if secrets is None else secrets)
    lines = [f"retries = {retries}", "backoff_seconds = 0.01", "timeout_seconds = 5"]
    dead = free_port()
    if robots is not None:
        for channel in ("dingtalk", "feishu", "wecom"):
            url = robots.url(channel)
            if channel in unreachable:
                url = url.replace(f":{robots.port}/", f":{dead}/")
            lines += [f"[{channel}]", f'webhook = "{url}"']
            if channel in secrets:
                lines.append(f'secret = "{secrets[channel]}"')
    if mail is not None:
        port = dead if "email" in unreachable else mail.port
        lines += ["[email]", 'host = "127.0.0.1"', f"port = {port}",
                  f'username = "{mail.USER}"', f'password = "{mail.PASSWORD}"',
                  'from = "督办台账 <duban@example.cn>"', 'to = ["office@example.cn"]',
                  f'ca_file = "{mail.cert}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
