from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.fakes.twilio_server import fake_twilio  # noqa: F401  (fixture)
from verification.sms.backends import locmem

PHONE = "+33612345678"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def pytest_report_header(config) -> str:
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']} ({settings.DATABASES['default']['NAME']})"


@pytest.fixture(autouse=True)
def otp_rules(settings):
    """Pin the rules to their documented defaults, whatever a local .env says."""
    settings.OTP_LENGTH = 6
    settings.OTP_TTL_SECONDS = 120
    settings.OTP_MAX_ATTEMPTS = 3
    settings.OTP_LOCKOUT_SECONDS = 600
    settings.OTP_RESEND_COOLDOWN_SECONDS = 120
    settings.OTP_DEFAULT_REGION = None
    return settings


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Deliver SMS into a list, like Django's test runner does with mail.outbox."""
    settings.SMS_BACKEND = "verification.sms.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def frozen(time_machine):
    """Stop the clock at T0; move it with frozen.shift(seconds)."""
    time_machine.move_to(T0, tick=False)
    return time_machine


def code_in(message) -> str:
    """Return the one-time code carried by an SMS (a message or its body)."""
    return re.search(r"\b(\d{6,})\b", getattr(message, "body", message)).group(1)


def wrong_code(code: str) -> str:
    """Return a code of the same length that is certainly not `code`."""
    return "".join(str((int(d) + 1) % 10) for d in code)
