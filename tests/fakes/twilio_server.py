"""A fake Twilio REST API (Messages, WhatsApp messages and Calls) served over real HTTP on 127.0.0.1, and its fixture.

Every request is checked against Twilio's own OpenAPI description of the 2010-04-01 API (the subset the app
calls, in twilio_api_v2010_subset.json next to this file): a field Twilio does not define, a missing required
field or a value of the wrong form is answered 400 and listed in `spec_violations`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import pytest

API_VERSION = "2010-04-01"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{{}}/Messages.json"
CALLS_PATH = f"/{API_VERSION}/Accounts/{{}}/Calls.json"
SPEC = json.loads((Path(__file__).with_name("twilio_api_v2010_subset.json")).read_text(encoding="utf-8"))
E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def spec_problems(method: str, path: str, account_sid: str, form: dict[str, str]) -> list[str]:
    """Return how a request breaks Twilio's OpenAPI description of its operation (empty: it conforms)."""
    template = path.replace(account_sid, "{AccountSid}", 1)
    operation = SPEC["operations"].get(f"{method} {template}")
    if operation is None:
        return [f"{method} {path} is not an operation the app may call"]
    problems = [f"missing required {name}" for name in operation["required"] if not form.get(name)]
    for name, value in form.items():
        schema = operation["properties"].get(name)
        if schema is None:
            problems.append(f"{name} is not a parameter of {operation['operationId']}")
            continue
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{name}={value!r} is not one of {schema['enum']}")
        if schema.get("format") == "uri" and not value.startswith(("http://", "https://")):
            problems.append(f"{name} is not a URI")
        if schema.get("format") == "twiml":
            try:
                if ElementTree.fromstring(value).tag != "Response":
                    problems.append(f"{name} is not a <Response>")
            except ElementTree.ParseError as exc:
                problems.append(f"{name} is not XML: {exc}")
        if schema.get("type") == "integer" and not value.lstrip("-").isdigit():
            problems.append(f"{name} is not an integer")
    return problems


@dataclass(frozen=True)
class SpokenCode:
    """What a call's TwiML says, as a test reads it."""

    #: Each <Say> in order, with its language and voice.
    says: list[tuple[str, str, str]]
    pauses: int

    @property
    def digit_runs(self) -> list[str]:
        """Return each run of single-digit <Say> elements, joined: the code as often as it is read out."""
        runs, current = [], ""
        for text, _, _ in self.says:
            if len(text) == 1 and text.isdigit():
                current += text
            elif current:
                runs.append(current)
                current = ""
        return [*runs, current] if current else runs

    @property
    def languages(self) -> set[str]:
        return {language for _, language, _ in self.says}

    @property
    def text(self) -> str:
        return " ".join(text for text, _, _ in self.says)


def parse_twiml(twiml: str) -> SpokenCode:
    """Read the TwiML of a call: what it says, in which language, and how many pauses it makes."""
    root = ElementTree.fromstring(twiml)
    assert root.tag == "Response", root.tag
    says = [(element.text or "", element.get("language", ""), element.get("voice", "")) for element in root]
    says = [say for element, say in zip(root, says, strict=True) if element.tag == "Say"]
    assert {element.tag for element in root} <= {"Say", "Pause"}, [element.tag for element in root]
    return SpokenCode(says, sum(1 for element in root if element.tag == "Pause"))


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    auth: tuple[str, str] | None
    auth_ok: bool


@dataclass(frozen=True)
class StatusCallback:
    """A delivery receipt as Twilio would POST it: where to, the form, and its X-Twilio-Signature."""

    url: str
    form: dict[str, str]
    signature: str


@dataclass(frozen=True)
class _Reply:
    """A canned answer; hang=True means never answer."""

    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    hang: bool = False


@dataclass
class _Rule:
    reply: _Reply
    times: int | None  # None: every request from now on


def twilio_error(code: int, message: str, status: int) -> dict:
    """Return an error body in Twilio's classic JSON format."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    """Serve POST .../Messages.json and .../Calls.json like Twilio and record every request."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._requests: list[RecordedRequest] = []
        self._rules: deque[_Rule] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        #: Seconds to wait before answering each request, like a slow provider.
        self.delay = 0.0
        #: Form of every message created, by sid (for status callbacks).
        self.messages: dict[str, dict[str, str]] = {}
        #: Form of every call created, by sid.
        self.calls: dict[str, dict[str, str]] = {}
        #: Every way a request broke Twilio's API description (a test of the app asserts it stays empty).
        self.spec_violations: list[str] = []
        self._server = self._listen(("127.0.0.1", 0))
        self._address = self._server.server_address[:2]
        self._thread = self._serving_thread()
        #: While connections are refused: a socket bound to the port but not listening.
        self._port_holder: socket.socket | None = None
        #: Connections open now; a provider that goes down drops them too, not only new ones.
        self._connections: set[socket.socket] = set()
        #: Connections accepted since the start: a client that pools its connection opens one per thread.
        self.connections_opened = 0

    def _listen(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(address, _handler_for(self))
        # Never join handler threads on close: a client may still hold a keep-alive connection.
        server.daemon_threads = True
        server.block_on_close = False
        return server

    def _serving_thread(self) -> threading.Thread:
        return threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        """Return the URL to use instead of https://api.twilio.com."""
        host, port = self._address
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return a snapshot of the requests received so far."""
        with self._lock:
            return list(self._requests)

    def start(self) -> FakeTwilio:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests, stop serving and close the socket."""
        self._stopping.set()
        if self._port_holder is not None:
            self._port_holder.close()
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._drop_connections()

    def refuse_connections(self) -> None:
        """Stop listening but keep the port, so every connection is refused (nothing is recorded)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._drop_connections()
        holder = socket.socket()
        # Connections accepted earlier may linger on the port; they do not stop a new bind.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(self._address)
        self._port_holder = holder

    def _drop_connections(self) -> None:
        """Close every kept-alive connection, as a provider that goes down does."""
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def accept_connections(self) -> None:
        """Listen again on the same port after refuse_connections()."""
        self._port_holder.close()
        self._port_holder = None
        self._server = self._listen(self._address)
        self._thread = self._serving_thread()
        self._thread.start()

    def status_callback(self, sid: str, status: str, *, error_code: int | None = None) -> StatusCallback:
        """Return the receipt Twilio would send for message or call `sid`, signed for its StatusCallback."""
        if sid in self.calls:
            return self._call_status_callback(sid, status)
        created = self.messages[sid]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": created.get("From", ""),
            "To": created["To"],
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if created.get("MessagingServiceSid"):
            form["MessagingServiceSid"] = created["MessagingServiceSid"]
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        url = created["StatusCallback"]
        return StatusCallback(url, form, twilio_signature(self.auth_token, url, form))

    def _call_status_callback(self, sid: str, status: str) -> StatusCallback:
        """Return the status callback of a call as Twilio posts it when the call ends."""
        created = self.calls[sid]
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": sid,
            "CallStatus": status,
            "Called": created["To"],
            "Caller": created["From"],
            "Direction": "outbound-api",
            "From": created["From"],
            "To": created["To"],
            "CallDuration": "14" if status == "completed" else "0",
            "SequenceNumber": "0",
            "Timestamp": formatdate(usegmt=True),
            "CallbackSource": "call-progress-events",
        }
        url = created["StatusCallback"]
        return StatusCallback(url, form, twilio_signature(self.auth_token, url, form))

    @property
    def whatsapp_messages(self) -> dict[str, dict[str, str]]:
        """Return the WhatsApp messages created, by sid."""
        return {sid: form for sid, form in self.messages.items() if form["To"].startswith("whatsapp:")}

    def fail_with(self, code: int, message: str, status: int = 400, *, times: int | None = 1) -> None:
        """Answer the next `times` requests (None: all) with a Twilio JSON error."""
        self._add(_Reply(status, json.dumps(twilio_error(code, message, status))), times)

    def fail_with_problem(self, code: int, title: str, status: int = 400, *, times: int | None = 1) -> None:
        """Answer with an RFC 9457 problem-details error, the format of Twilio's newer APIs."""
        body = {
            "type": f"https://www.twilio.com/docs/errors/{code}",
            "title": title,
            "status": status,
            "code": code,
        }
        self._add(_Reply(status, json.dumps(body), "application/problem+json"), times)

    def rate_limit(self, *, times: int | None = 1) -> None:
        """Answer with 429 Too Many Requests (Twilio error 20429)."""
        self.fail_with(20429, "Too Many Requests", 429, times=times)

    def server_error(self, *, times: int | None = 1) -> None:
        """Answer with a 500 whose body is HTML, as a broken proxy in front of Twilio would."""
        html = "<html><body><h1>500 Internal Server Error</h1></body></html>"
        self._add(_Reply(500, html, "text/html"), times)

    def hang(self, *, times: int | None = None) -> None:
        """Accept requests but never answer them (until the server stops)."""
        self._add(_Reply(hang=True), times)

    def reset(self) -> None:
        """Forget recorded requests, created messages and canned failures."""
        with self._lock:
            self._requests.clear()
            self._rules.clear()
            self.messages.clear()
            self.calls.clear()
            self.spec_violations.clear()

    def _add(self, reply: _Reply, times: int | None) -> None:
        with self._lock:
            self._rules.append(_Rule(reply, times))

    def _record_and_pick(self, request: RecordedRequest) -> _Reply | None:
        """Record a request and return the canned reply due for it, if any."""
        with self._lock:
            self._requests.append(request)
            if not self._rules:
                return None
            rule = self._rules[0]
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.popleft()
            return rule.reply

    def _answer(self, request: RecordedRequest) -> _Reply:
        """Return what Twilio would answer to a valid, unfailed request."""
        if not request.auth_ok:
            return _json_reply(401, twilio_error(20003, "Authenticate", 401))
        calls = request.path == CALLS_PATH.format(self.account_sid)
        if request.method != "POST" or not (calls or request.path == MESSAGES_PATH.format(self.account_sid)):
            message = f"The requested resource {request.path} was not found"
            return _json_reply(404, twilio_error(20404, message, 404))
        form = request.form
        problems = spec_problems(request.method, request.path, self.account_sid, form)
        if problems:
            with self._lock:
                self.spec_violations.extend(problems)
            return _json_reply(400, twilio_error(20001, "; ".join(problems), 400))
        if calls:
            return self._answer_call(form)
        if form.get("To", "").startswith("whatsapp:"):
            return self._answer_whatsapp(form)
        if not form.get("To"):
            return _json_reply(400, twilio_error(21604, "A 'To' phone number is required.", 400))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            message = "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
            return _json_reply(400, twilio_error(21603, message, 400))
        if not form.get("Body"):
            return _json_reply(400, twilio_error(21602, "Message body is required.", 400))
        return _json_reply(201, self._message_resource(form))

    def _answer_call(self, form: dict[str, str]) -> _Reply:
        """Create a call: a phone number to call, a number to call from, and what to do (Twiml or Url)."""
        if not E164.fullmatch(form["To"]) or not E164.fullmatch(form["From"]):
            return _json_reply(400, twilio_error(21217, "Phone number does not appear to be valid", 400))
        if not (form.get("Twiml") or form.get("Url") or form.get("ApplicationSid")):
            return _json_reply(400, twilio_error(21205, "Url parameter is required.", 400))
        sid = "CA" + secrets.token_hex(16)
        with self._lock:
            self.calls[sid] = dict(form)
        now = formatdate(usegmt=True)
        return _json_reply(
            201,
            {
                "account_sid": self.account_sid,
                "api_version": API_VERSION,
                "date_created": now,
                "date_updated": now,
                "direction": "outbound-api",
                "from": form["From"],
                "sid": sid,
                "status": "queued",
                "to": form["To"],
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}.json",
            },
        )

    def _answer_whatsapp(self, form: dict[str, str]) -> _Reply:
        """Create a WhatsApp message: whatsapp: addresses both ways, and (for a code) an approved template."""
        if not form.get("From", "").startswith("whatsapp:") or not E164.fullmatch(form["From"][9:]):
            return _json_reply(400, twilio_error(63007, "Twilio could not find a Channel with the From address", 400))
        if form.get("Body"):
            # Outside a conversation the person opened, WhatsApp takes approved templates only.
            return _json_reply(400, twilio_error(63016, "Failed to send freeform message outside the window", 400))
        if not form.get("ContentSid", "").startswith("HX"):
            return _json_reply(400, twilio_error(21619, "A text message body or media urls must be specified.", 400))
        try:
            json.loads(form.get("ContentVariables") or "{}")
        except ValueError:
            return _json_reply(400, twilio_error(21656, "The ContentVariables Parameter is invalid.", 400))
        return _json_reply(201, self._message_resource({**form, "Body": ""}))

    def _message_resource(self, form: dict[str, str]) -> dict:
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.messages[sid] = dict(form)
        now = formatdate(usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # Twilio says "accepted" while a messaging service still has to pick a sender.
            "status": "queued" if form.get("From") else "accepted",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form["To"],
            "uri": uri,
        }


def twilio_signature(auth_token: str, url: str, form: dict[str, str]) -> str:
    """Sign a webhook like Twilio: base64 HMAC-SHA1 of the URL followed by each name and value, sorted by name."""
    payload = url + "".join(name + value for name, value in sorted(form.items()))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def _json_reply(status: int, body: dict) -> _Reply:
    return _Reply(status, json.dumps(body))


def _parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """Return (user, password) from a Basic Authorization header, or None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    """Return a request handler class bound to one FakeTwilio."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # let idle keep-alive connections end their threads eventually

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake._connections.add(self.connection)
                fake.connections_opened += 1

        def finish(self) -> None:
            with fake._lock:
                fake._connections.discard(self.connection)
            super().finish()

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def log_message(self, format: str, *args) -> None:
            pass  # keep test output clean

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            auth = _parse_basic_auth(self.headers.get("Authorization"))
            request = RecordedRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                # Messages fields are single-valued; the last one wins if repeated.
                form=dict(parse_qsl(raw, keep_blank_values=True)),
                auth=auth,
                auth_ok=auth == (fake.account_sid, fake.auth_token),
            )
            reply = fake._record_and_pick(request) or fake._answer(request)
            if fake.delay and not reply.hang:
                fake._stopping.wait(fake.delay)  # a slow provider; cut short when the server stops
            if reply.hang:
                # Wake up when the server stops so shutdown is not held up by this thread.
                fake._stopping.wait()
                self.close_connection = True
                return
            body = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            if reply.status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def fake_twilio(settings) -> Iterator[FakeTwilio]:
    """Run a fake Twilio and point the twilio SMS backend at it."""
    server = FakeTwilio(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))
    server.start()
    settings.SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = server.account_sid
    settings.TWILIO_AUTH_TOKEN = server.auth_token
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = server.base_url
    settings.TWILIO_TIMEOUT_SECONDS = 2.0
    try:
        yield server
    finally:
        server.stop()
