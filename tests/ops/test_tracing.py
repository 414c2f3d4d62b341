"""Traces (OpenTelemetry): a verification's span tree, nothing of a number or a code in any span, off by default."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import pytest
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otpsite.json_log_formatter import JsonLinesFormatter
from tests.helpers import PHONE, ROOT, code_in, environ_without_settings, wrong_code
from verification import tracing

pytestmark = pytest.mark.django_db


@pytest.fixture
def spans():
    """Trace into memory for the test; return the exporter (finished spans in `get_finished_spans()`)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.start(provider)
    try:
        yield exporter
    finally:
        tracing.stop()


def tree(finished) -> list[tuple[int, str]]:
    """Return the spans as (depth, name) in start order, depth counted from each trace's root."""
    by_id = {span.context.span_id: span for span in finished}

    def depth(span) -> int:
        return 0 if span.parent is None or span.parent.span_id not in by_id else 1 + depth(by_id[span.parent.span_id])

    return [(depth(span), span.name) for span in sorted(finished, key=lambda span: span.start_time)]


def test_a_verification_is_one_trace_per_request_with_the_apps_spans(spans, sms_outbox):
    browser = Client()
    browser.post("/", {"phone": PHONE})
    code = code_in(sms_outbox[0])
    browser.post("/verify/", {"code": wrong_code(code)})
    browser.post("/verify/", {"code": code})

    names = tree(spans.get_finished_spans())
    # Django's span for each request (named after the route), the app's spans inside it.
    assert [(d, n) for d, n in names if n.startswith("otp.")] == [
        (1, "otp.send"),
        (2, "otp.send.claim"),
        (2, "otp.sms.provider"),
        (2, "otp.send.store"),
        (1, "otp.check"),
        (1, "otp.check"),
    ]
    roots = [n for d, n in names if d == 0]
    assert len(roots) == 3 and all(n.startswith("POST") for n in roots)
    by_name = {}
    for span in spans.get_finished_spans():
        by_name.setdefault(span.name, []).append(dict(span.attributes))
    assert by_name["otp.send"] == [{"channel": "web", "region": "FR", "number_range": "+33 6123", "outcome": "sent"}]
    assert by_name["otp.send.claim"] == [{"outcome": "claimed"}]
    assert by_name["otp.sms.provider"] == [{"provider": "locmem"}]
    assert [a["outcome"] for a in by_name["otp.check"]] == ["mismatch", "verified"]


def test_no_span_holds_the_number_or_the_code(spans, sms_outbox, sms_down, caplog):
    browser = Client()
    browser.post("/", {"phone": PHONE})
    code = code_in(sms_outbox[0])
    for _ in range(3):
        browser.post("/verify/", {"code": wrong_code(code)})
    sms_down()
    Client().post("/", {"phone": "+33612345679"})
    Client().post("/api/v1/send", {"phone": "+447700900123"}, content_type="application/json")

    finished = spans.get_finished_spans()
    assert {"otp.send.give_back", "otp.check", "otp.send"} <= {span.name for span in finished}
    texts = []
    for span in finished:
        texts += [span.name, span.status.description or ""]
        texts += [f"{key}={value}" for key, value in span.attributes.items()]
        for event in span.events:
            texts += [event.name, *(f"{key}={value}" for key, value in event.attributes.items())]
    secrets = {code, wrong_code(code)}
    for number in (PHONE, "+33612345679", "+447700900123"):
        # The number in any writing: E.164, national, or its subscriber digits.
        secrets |= {number, number[1:], number[3:], "0" + number[3:]}
    leaks = [text for text in texts for secret in secrets if secret in re.sub(r"[\s.()-]", "", text)]
    assert leaks == []


def test_json_log_lines_carry_the_trace_id_of_their_request(spans, sms_outbox, caplog):
    caplog.set_level(logging.INFO)
    Client().post("/", {"phone": PHONE})
    [send] = [span for span in spans.get_finished_spans() if span.name == "otp.send.store"]
    [line] = [
        json.loads(JsonLinesFormatter().format(record))
        for record in caplog.records
        if record.name == "verification.audit"
    ]
    assert line["event"] == "sent"
    assert line["trace_id"] == f"{send.context.trace_id:032x}"
    assert line["span_id"] == f"{send.context.span_id:016x}"


def test_without_tracing_log_lines_have_no_trace_id(sms_outbox, caplog):
    caplog.set_level(logging.INFO)
    Client().post("/", {"phone": PHONE})
    [record] = [record for record in caplog.records if record.name == "verification.audit"]
    assert "trace_id" not in json.loads(JsonLinesFormatter().format(record))


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        # A name alone says nothing about where spans would go.
        ({"OTEL_SERVICE_NAME": "otp"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, False),
    ],
)
def test_tracing_is_off_unless_opentelemetrys_variables_name_an_exporter(environ, on):
    assert tracing.wanted(environ) is on


def test_the_app_never_imports_opentelemetry_while_tracing_is_off():
    script = (
        "import sys, django; django.setup(); "
        "from django.test import Client; Client(HTTP_HOST='127.0.0.1').get('/'); "
        "import verification.services, verification.views, verification.api.views, verification.tracing; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ_without_settings(DJANGO_SETTINGS_MODULE="otpsite.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_the_console_exporter_prints_a_send_from_the_environment(tmp_path):
    # What an operator does by hand: OTEL_TRACES_EXPORTER=console, one send, the spans on standard output.
    script = (
        "import django; django.setup(); from verification import tracing; assert tracing.start_from_environment(); "
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        "from django.test import Client; Client(HTTP_HOST='127.0.0.1').post('/', {'phone': '+33612345678'}); "
        "from opentelemetry import trace; trace.get_tracer_provider().force_flush()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ_without_settings(
            DJANGO_SETTINGS_MODULE="otpsite.settings",
            DJANGO_DEBUG="true",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            SMS_BACKEND="verification.sms.backends.locmem.SmsBackend",
            OTEL_TRACES_EXPORTER="console",
            OTEL_SERVICE_NAME="otp-test",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in ("otp.send", "otp.send.claim", "otp.sms.provider", "otp.send.store"):
        assert f'"name": "{name}"' in result.stdout
    assert '"service.name": "otp-test"' in result.stdout
    assert "612345678" not in result.stdout
