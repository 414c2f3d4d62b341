"""Hostile input: whatever is sent, a 4xx with a JSON error (never a 500, never an HTML page), and no SMS
to anything but a valid mobile number; through Django's test client and, for what only a raw socket can
send, through gunicorn."""

from __future__ import annotations

import json
import socket

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings

from tests.gunicorn_server import serve
from tests.helpers import PHONE, post_json
from tests.web.test_hostile_input import assert_sms_only_to_mobiles, hostile
from verification.api.http import MAX_BODY_BYTES

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ROUTES = strategies.sampled_from(["/api/v1/send", "/api/v1/check"])

json_values = strategies.recursive(
    strategies.none() | strategies.booleans() | strategies.integers() | strategies.floats() | hostile,
    lambda inner: strategies.lists(inner, max_size=4) | strategies.dictionaries(strategies.text(), inner, max_size=4),
    max_leaves=12,
)
bodies = strategies.fixed_dictionaries(
    {},
    optional={"phone": json_values, "country": json_values, "challenge": json_values, "code": json_values},
)


@pytest.fixture
def open_limits(settings):
    """Lift the IP, session and budget limits so valid numbers keep reaching the SMS path."""
    settings.OTP_SEND_LIMITS_PER_IP = ""
    settings.OTP_SEND_LIMITS_PER_SESSION = ""
    settings.OTP_SEND_BUDGET = ""


def assert_json_error_or_success(response) -> None:
    assert response.status_code < 500
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]


@FUZZ
@given(route=ROUTES, body=bodies)
def test_any_fields_of_any_type(open_limits, sms_outbox, route, body):
    before = len(sms_outbox)
    response = post_json(Client(), route, body)
    assert_json_error_or_success(response)
    assert_sms_only_to_mobiles(sms_outbox[before:])


@FUZZ
@given(route=ROUTES, body=strategies.one_of(json_values, strategies.binary(max_size=5000)))
def test_any_body(sms_outbox, route, body):
    raw = body if isinstance(body, bytes) else json.dumps(body)
    assert_json_error_or_success(post_json(Client(), route, raw))


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "+33\u0000612345678"},
        {"phone": "+\u0663\u0663\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"},
        {"phone": "+33 ６１２３４５６７８"},
        {"phone": "\ud800"},
        {"phone": PHONE, "country": "\ud800"},
        {"phone": PHONE, "challenge": "\ud800"},
        {"challenge": "\ud800", "code": "123456"},
        {"challenge": "a" * 3000, "code": "123456"},
        {"challenge": "x:y", "code": "\u0661\u0662\u0663\u0664\u0665\u0666"},
        {"phone": {"phone": {"phone": PHONE}}},
        {"phone": [[[[PHONE]]]]},
        {"phone": 1e308},
        {"phone": float("nan")},
    ],
)
def test_nul_non_ascii_digits_surrogates_and_nesting(sms_outbox, body):
    for route in ("/api/v1/send", "/api/v1/check"):
        response = post_json(Client(), route, body)
        assert_json_error_or_success(response)
        assert response.status_code >= 400
    assert sms_outbox == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"\xff\xfe{\x00}\x00", 400),
        ('{"phone": "+33612345678"}'.encode("utf-16"), 400),
        (b'{"phone": "+33612345678", "phone": {"x": 1}}', 400),
        (b"9" * MAX_BODY_BYTES, 400),
        (b"[" * MAX_BODY_BYTES, 400),
        (b" " * (MAX_BODY_BYTES + 1), 413),
    ],
)
def test_bodies_no_client_should_send(sms_outbox, raw, status):
    response = post_json(Client(), "/api/v1/send", raw)
    assert response.status_code == status
    assert_json_error_or_success(response)
    assert sms_outbox == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=latin-1", "application/xml", ""])
def test_other_content_types_are_415(sms_outbox, content_type):
    response = post_json(Client(), "/api/v1/send", json.dumps({"phone": PHONE}), content_type=content_type)
    assert response.status_code == 415
    assert_json_error_or_success(response)


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes on a new connection; return the status, headers and body of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.django_db(transaction=True)
def test_over_http_a_huge_or_chunked_or_garbled_body_is_a_json_4xx(tmp_path):
    def post(headers: str, body: bytes) -> tuple[int, dict]:
        status, head, content = raw_request(
            app.url,
            f"POST /api/v1/send HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode() + body,
        )
        assert head["content-type"] == "application/json"
        return status, json.loads(content)

    with serve(tmp_path) as app:
        # 100 MB announced and not sent: refused before anything is read.
        assert post("Content-Type: application/json\r\nContent-Length: 100000000\r\n", b"") == (
            413,
            {"error": "too_large", "message": "The request body is too large."},
        )
        body = json.dumps({"phone": PHONE}).encode()
        chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        # Django reads no body without a Content-Length: a chunked one arrives empty.
        status, answer = post("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked)
        assert (status, answer["error"]) == (400, "invalid_json")
        assert post("Content-Type: application/json\r\nContent-Length: 5\r\n", b"\xff\xfe\x00\x00{")[0] == 400
        assert post("Content-Type: text/html\r\nContent-Length: 2\r\n", b"{}")[0] == 415
    assert not [line for line in app.log if "Traceback" in line or "Internal Server Error" in line]
