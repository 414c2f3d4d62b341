"""A fake SMS gateway behind the send hook: real HTTP on 127.0.0.1, recording each signed JSON request."""

from __future__ import annotations

import base64
import json
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.local_server import LocalServer

HOOK_BACKEND = "verification.sms.backends.hook.SmsBackend"


@dataclass(frozen=True)
class HookRequest:
    """One request the gateway received: headers as sent, the raw body, and the JSON in it."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Reply:
    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    hang: bool = False


class FakeHook(LocalServer):
    """Answer POST / like an SMS gateway: 200 with {"id": …} unless told otherwise."""

    def __init__(self) -> None:
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self._replies: deque[tuple[_Reply, int | None]] = deque()
        super().__init__(_handler_for(self))

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms"

    def answer(self, status: int, body: str = "", content_type: str = "application/json", *, times: int | None = 1):
        """Answer the next `times` requests (None: all) with this status and body."""
        with self._lock:
            self._replies.append((_Reply(status, body, content_type), times))

    def hang(self, *, times: int | None = None) -> None:
        with self._lock:
            self._replies.append((_Reply(hang=True), times))

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()

    def _record_and_pick(self, request: HookRequest) -> _Reply:
        with self._lock:
            self._requests.append(request)
            if not self._replies:
                return _Reply(200, json.dumps({"id": "gw-" + secrets.token_hex(8), "status": "queued"}))
            reply, times = self._replies[0]
            if times is not None:
                if times <= 1:
                    self._replies.popleft()
                else:
                    self._replies[0] = (reply, times - 1)
            return reply


def _handler_for(fake: FakeHook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = fake._record_and_pick(HookRequest({k.lower(): v for k, v in self.headers.items()}, body))
            if reply.hang:
                fake._stopping.wait(30)
                return
            payload = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def fake_hook(settings) -> Iterator[FakeHook]:
    """Run a fake gateway and configure the hook backend for it (SMS_BACKEND is left to the test)."""
    server = FakeHook().start()
    settings.SMS_HOOK_URL = server.url
    settings.SMS_HOOK_SECRET = server.secret
    settings.SMS_HOOK_TIMEOUT_SECONDS = 2.0
    try:
        yield server
    finally:
        server.stop()
