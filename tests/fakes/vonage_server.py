"""A fake Vonage SMS API (POST /sms/json) on 127.0.0.1, recording each request; the real vonage SDK talks to it."""

from __future__ import annotations

import base64
import json
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl

import pytest

from tests.fakes.local_server import LocalServer


@dataclass(frozen=True)
class VonageRequest:
    path: str
    form: dict[str, str]
    basic_auth: str


class FakeVonage(LocalServer):
    """Answer like Vonage's SMS API: 200 with a message id, or what the test asks for."""

    def __init__(self) -> None:
        self.api_key, self.api_secret = secrets.token_hex(4), secrets.token_hex(8)
        self._replies: deque[tuple[int, str, str, int | None]] = deque()
        super().__init__(_handler_for(self))

    def refuse(self, status: str, text: str, *, times: int | None = 1) -> None:
        """Answer 200 with a message whose status is `status` (Vonage's way of refusing one message)."""
        body = json.dumps({"message-count": "1", "messages": [{"status": status, "error-text": text}]})
        with self._lock:
            self._replies.append((200, body, "application/json", times))

    def server_error(self, *, times: int | None = 1) -> None:
        with self._lock:
            self._replies.append((500, "<html><body>500</body></html>", "text/html", times))

    def hang(self, *, times: int | None = None) -> None:
        with self._lock:
            self._replies.append((0, "", "", times))

    def _pick(self, request: VonageRequest) -> tuple[int, str, str]:
        with self._lock:
            self._requests.append(request)
            if not self._replies:
                message = {
                    "to": request.form.get("to", ""),
                    "message-id": secrets.token_hex(8),
                    "status": "0",
                    "remaining-balance": "10.0",
                    "message-price": "0.05",
                    "network": "20801",
                }
                return 200, json.dumps({"message-count": "1", "messages": [message]}), "application/json"
            status, body, content_type, times = self._replies[0]
            if times is not None:
                if times <= 1:
                    self._replies.popleft()
                else:
                    self._replies[0] = (status, body, content_type, times - 1)
            return status, body, content_type


def _handler_for(fake: FakeVonage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            auth = self.headers.get("Authorization", "")
            basic = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth.startswith("Basic ") else ""
            status, answer, content_type = fake._pick(VonageRequest(self.path, dict(parse_qsl(body)), basic))
            if status == 0:
                fake._stopping.wait(30)
                return
            payload = answer.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def fake_vonage(settings) -> Iterator[FakeVonage]:
    """Run a fake Vonage and configure the vonage backend for it (SMS_BACKEND is left to the test)."""
    server = FakeVonage().start()
    settings.VONAGE_API_KEY = server.api_key
    settings.VONAGE_API_SECRET = server.api_secret
    settings.VONAGE_FROM = "AcmeOTP"
    settings.VONAGE_API_BASE_URL = server.base_url
    settings.VONAGE_TIMEOUT_SECONDS = 1
    try:
        yield server
    finally:
        server.stop()
