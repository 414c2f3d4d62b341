"""A fake bot-challenge provider (Turnstile's or hCaptcha's siteverify, and a stand-in widget script) served over
real HTTP on 127.0.0.1, and its fixture."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

#: The stand-in for the provider's widget script: a checkbox that puts a token the fake accepts in the form.
WIDGET_SCRIPT = Path(__file__).with_name("bot_challenge_widget.js")
#: Tokens the stand-in widget makes start with this; the fake accepts each of them once.
STANDIN_PREFIX = "standin-pass-"


@dataclass(frozen=True)
class RecordedRequest:
    """One siteverify request the fake received."""

    path: str
    headers: dict[str, str]
    form: dict[str, str]


class FakeSiteverify:
    """Answer POST .../siteverify like Turnstile and hCaptcha, serve GET .../api.js, and record every check."""

    def __init__(self, secret: str, site_key: str) -> None:
        self.secret, self.site_key = secret, site_key
        #: The host name the answers report (the site the widget was solved on); None: left out of the answer.
        self.hostname: str | None = "testserver"
        #: How the provider answers: "ok", "error" (HTTP 500, HTML), "garbage" (200, not JSON).
        self.mode = "ok"
        self._tokens: dict[str, str | None] = {}
        self._used: set[str] = set()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._address = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._stopped = False

    @property
    def base_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    @property
    def verify_url(self) -> str:
        return f"{self.base_url}/turnstile/v0/siteverify"

    @property
    def script_url(self) -> str:
        return f"{self.base_url}/turnstile/v0/api.js"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def start(self) -> FakeSiteverify:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def go_away(self) -> None:
        """Stop listening: every check is a refused connection."""
        self.stop()

    def solve(self, *, hostname: str | None = None) -> str:
        """Return a token as a person solving the widget gets it; accepted once, reported solved on `hostname`."""
        token = "0." + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = hostname
        return token

    def _answer(self, form: dict[str, str]) -> tuple[int, str, str]:
        """Return status, content type and body for one siteverify request."""
        if self.mode == "error":
            return 500, "text/html", "<html><body>500 Internal Server Error</body></html>"
        if self.mode == "garbage":
            return 200, "text/html", "<html>maintenance</html>"
        token = form.get("response", "")
        with self._lock:
            if form.get("secret") != self.secret:
                return 200, "application/json", json.dumps({"success": False, "error-codes": ["invalid-input-secret"]})
            known = token in self._tokens or token.startswith(STANDIN_PREFIX)
            if not known or token in self._used:
                codes = ["timeout-or-duplicate"] if token in self._used else ["invalid-input-response"]
                return 200, "application/json", json.dumps({"success": False, "error-codes": codes})
            self._used.add(token)
            hostname = self._tokens.get(token) or self.hostname
        body = {"success": True, "challenge_ts": "2026-03-01T12:00:00.000Z", "error-codes": []}
        if hostname is not None:
            body["hostname"] = hostname
        return 200, "application/json", json.dumps(body)


def _handler_for(fake: FakeSiteverify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def log_message(self, format: str, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.split("?")[0].endswith("/api.js"):
                self._reply(200, "text/javascript", WIDGET_SCRIPT.read_text())
            else:
                self._reply(404, "text/plain", "not found")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(raw, keep_blank_values=True))
            with fake._lock:
                fake._requests.append(RecordedRequest(self.path, dict(self.headers.items()), form))
            if not self.path.endswith("/siteverify"):
                self._reply(404, "text/plain", "not found")
                return
            self._reply(*fake._answer(form))

        def _reply(self, status: int, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_siteverify(settings) -> Iterator[FakeSiteverify]:
    """Run a fake Turnstile and turn the bot challenge on against it (OTP_BOT_CHALLENGE_WHEN stays "risk")."""
    server = FakeSiteverify(secret="0x" + secrets.token_hex(16), site_key="0x" + secrets.token_hex(8)).start()
    settings.OTP_BOT_CHALLENGE = "turnstile"
    settings.OTP_BOT_CHALLENGE_SITE_KEY = server.site_key
    settings.OTP_BOT_CHALLENGE_SECRET = server.secret
    settings.OTP_BOT_CHALLENGE_VERIFY_URL = server.verify_url
    settings.OTP_BOT_CHALLENGE_SCRIPT_URL = server.script_url
    settings.OTP_BOT_CHALLENGE_TIMEOUT_SECONDS = 2.0
    try:
        yield server
    finally:
        server.stop()
