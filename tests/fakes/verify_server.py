"""A fake Twilio Verify v2 (Verifications and VerificationCheck) on 127.0.0.1, checking every request it receives
against Twilio's own OpenAPI description (the subset in twilio_verify_v2_subset.json)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.fakes.local_server import LocalServer

SPEC = json.loads((Path(__file__).parent / "twilio_verify_v2_subset.json").read_text(encoding="utf-8"))
VERIFY_BACKEND = "verification.sms.backends.twilio_verify.SmsBackend"


def spec_violations(method: str, path: str, form: dict[str, str]) -> list[str]:
    """Return how a request breaks the OpenAPI description (path, path parameters, form fields); [] if it fits."""
    for template, item in SPEC["paths"].items():
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        match = re.match(pattern, path)
        if not match:
            continue
        operation = item.get(method.lower())
        if operation is None:
            return [f"{method} not described for {template}"]
        problems = []
        for parameter in operation.get("parameters", []) + item.get("parameters", []):
            if parameter["in"] == "path":
                value, schema = match.group(parameter["name"]), parameter["schema"]
                if "pattern" in schema and not re.search(schema["pattern"], value):
                    problems.append(f"{parameter['name']}={value!r} does not match {schema['pattern']}")
        schema = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        problems += [f"unknown field {name}" for name in form if name not in schema["properties"]]
        problems += [f"missing field {name}" for name in schema.get("required", []) if name not in form]
        return problems
    return [f"no such path {path}"]


@dataclass(frozen=True)
class VerifyRequest:
    path: str
    form: dict[str, str]
    auth_ok: bool
    violations: tuple[str, ...]


class FakeVerify(LocalServer):
    """Make a 6-digit code per Verifications request and approve it once at VerificationCheck."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self.service_sid = "VA" + secrets.token_hex(16)
        #: The live code of each number, as Twilio would text it.
        self.codes: dict[str, str] = {}
        self._errors: deque[tuple[str, int, dict | str, int | None]] = deque()
        self.hanging = False
        super().__init__(_handler_for(self))

    def fail(self, resource: str, code: int, status: int, *, times: int | None = 1) -> None:
        """Answer `resource` ("Verifications" or "VerificationCheck") with Twilio error `code`."""
        body = {"code": code, "message": f"error {code}", "more_info": "", "status": status}
        with self._lock:
            self._errors.append((resource, status, body, times))

    def server_error(self, resource: str = "Verifications", *, times: int | None = 1) -> None:
        with self._lock:
            self._errors.append((resource, 500, "<html><body>500</body></html>", times))

    def _pick_error(self, resource: str):
        with self._lock:
            for i, (name, status, body, times) in enumerate(self._errors):
                if name == resource:
                    if times is not None:
                        if times <= 1:
                            del self._errors[i]
                        else:
                            self._errors[i] = (name, status, body, times - 1)
                    return status, body
        return None

    def handle(self, path: str, form: dict[str, str], auth_ok: bool) -> tuple[int, dict | str]:
        with self._lock:
            self._requests.append(VerifyRequest(path, form, auth_ok, tuple(spec_violations("POST", path, form))))
        if not auth_ok:
            return 401, {"code": 20003, "message": "Authenticate", "more_info": "", "status": 401}
        resource = path.rsplit("/", 1)[-1]
        error = self._pick_error(resource)
        if error is not None:
            return error
        sid = "VE" + secrets.token_hex(16)
        to = form.get("To", "")
        base = {"sid": sid, "service_sid": self.service_sid, "account_sid": self.account_sid, "to": to}
        if resource == "Verifications":
            with self._lock:
                self.codes[to] = f"{secrets.randbelow(10**6):06d}"
            return 201, {**base, "channel": form.get("Channel"), "status": "pending", "valid": False}
        with self._lock:
            live = self.codes.get(to)
            if live is None:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            approved = secrets.compare_digest(live, form.get("Code", ""))
            if approved:
                del self.codes[to]
        status = "approved" if approved else "pending"
        return 200, {**base, "channel": "sms", "status": status, "valid": approved}


def _handler_for(fake: FakeVerify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = dict(parse_qsl(body, keep_blank_values=True))
            expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            if fake.hanging:
                fake._stopping.wait(30)
                return
            status, answer = fake.handle(self.path, form, self.headers.get("Authorization") == expected)
            is_json = isinstance(answer, dict)
            payload = (json.dumps(answer) if is_json else answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if is_json else "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def fake_verify(settings) -> Iterator[FakeVerify]:
    """Run a fake Twilio Verify and configure the twilio_verify backend for it (SMS_BACKEND is left to the test)."""
    server = FakeVerify(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16)).start()
    settings.TWILIO_ACCOUNT_SID = server.account_sid
    settings.TWILIO_AUTH_TOKEN = server.auth_token
    settings.TWILIO_VERIFY_SERVICE_SID = server.service_sid
    settings.TWILIO_VERIFY_BASE_URL = server.base_url
    settings.TWILIO_TIMEOUT_SECONDS = 2.0
    try:
        yield server
    finally:
        server.stop()
