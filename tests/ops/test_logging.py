"""Log lines: one per event, the number masked, never the code; LOG_FORMAT=json gives JSON lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from otpsite.json_log_formatter import JsonLinesFormatter
from tests.helpers import PHONE, ROOT, code_in, environ_without_settings, wrong_code
from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db


def test_events_are_json_lines_without_the_code(client, frozen, sms_outbox, fake_twilio, caplog, admin_client):
    caplog.set_level(logging.DEBUG)
    client.post("/", {"phone": PHONE}, REMOTE_ADDR="198.51.100.7")
    [request] = fake_twilio.requests
    code = code_in(request.form["Body"])
    bad = wrong_code(code)
    for _ in range(3):
        client.post("/verify/", {"code": bad})
    record = PhoneVerification.objects.get(phone=PHONE)
    admin_client.post(
        "/admin/verification/phoneverification/", {"action": "unlock_numbers", "_selected_action": [record.pk]}
    )
    frozen.shift(121)
    client.post("/", {"phone": PHONE})
    code = code_in(fake_twilio.requests[-1].form["Body"])
    client.post("/verify/", {"code": code})
    fake_twilio.fail_with(21211, "The 'To' number is not a valid phone number.")
    client.post("/", {"phone": PHONE})

    lines = [json.loads(JsonLinesFormatter().format(r)) for r in caplog.records]
    events = [line for line in lines if line["logger"] == "verification.audit"]
    # One line per event: nothing else of ours speaks during the flow.
    assert len(events) == len([line for line in lines if line["logger"].startswith("verification")])
    assert [e["event"] for e in events] == [
        "sent",
        "wrong_code",
        "wrong_code",
        "wrong_code",
        "locked",
        "unlocked",
        "sent",
        "verified",
        "send_failed",
    ]
    assert events[0]["phone"] == "+33 6 •• •• •• 78" and events[0]["client_ip"] == "198.51.100.7"
    assert events[5]["user"] == "admin" and events[-1]["provider_code"] == 21211
    assert events[4]["level"] == "WARNING" and "until" in events[4]
    everything = "\n".join(json.dumps(line) for line in lines) + caplog.text
    assert code not in everything and bad not in everything and PHONE not in everything


def test_json_formatter_keeps_exceptions_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed here" and "ValueError: boom" in parsed["exception"]


def log_from_fresh_process(**env: str) -> subprocess.CompletedProcess:
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('verification.audit').warning('event=locked', extra={'event': 'locked'}); "
        "logging.getLogger('django.request').error('Internal Server Error: /')"
    )
    environment = environ_without_settings(DJANGO_SETTINGS_MODULE="otpsite.settings")
    environment.pop("LOG_FORMAT", None)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_log_format_json_switches_every_logger_to_json_lines():
    result = log_from_fresh_process(LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("verification.audit", "WARNING"),
        ("django.request", "ERROR"),
    ]
    assert lines[0]["event"] == "locked" and lines[0]["message"] == "event=locked"


def test_text_is_the_default_and_other_formats_are_refused():
    text = log_from_fresh_process()
    assert text.returncode == 0 and " WARNING verification.audit event=locked" in text.stderr
    wrong = log_from_fresh_process(LOG_FORMAT="xml")
    assert wrong.returncode != 0 and "LOG_FORMAT must be 'text' or 'json'" in wrong.stderr


def test_requests_anyone_can_send_too_big_are_one_warning_line_each():
    script = (
        "import django; django.setup(); from django.test import Client; "
        "site = Client(HTTP_HOST='verify.example.com'); "
        "print(site.post('/', {'phone': 'x' * 3_000_000}, secure=True).status_code); "
        "print(site.post('/', {f'f{i}': '1' for i in range(1200)}, secure=True).status_code); "
        "print(Client(HTTP_HOST='attacker.example').get('/', secure=True).status_code)"
    )
    environment = environ_without_settings(
        DJANGO_SETTINGS_MODULE="otpsite.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="verify.example.com",
        DATABASE_URL="sqlite://:memory:",
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["400", "400", "400"], result.stderr
    lines = result.stderr.splitlines()
    assert [line.split()[2:4] for line in lines] == [
        ["WARNING", "django.security.RequestDataTooBig"],
        ["WARNING", "django.security.TooManyFieldsSent"],
        ["WARNING", "django.security.DisallowedHost"],
    ]
    assert "Traceback" not in result.stderr
