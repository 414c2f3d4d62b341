from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest

from verification.sms.backends import locmem

pytest_plugins = ["tests.fakes.twilio_server"]

PHONE = "+33612345678"
LOCMEM_SMS = "verification.sms.backends.locmem.SmsBackend"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


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
    settings.OTP_TRUSTED_PROXY_COUNT = 0
    settings.OTP_SMS_TEMPLATE = ""
    settings.OTP_APP_NAME = "Phone verification"
    settings.OTP_WEBOTP_DOMAIN = ""
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    settings.OTP_EVENT_RETENTION_DAYS = 90
    settings.OTP_SEND_LIMITS_PER_NUMBER = "5/1h,10/1d"
    settings.OTP_SEND_LIMITS_PER_IP = "10/1h,50/1d"
    settings.OTP_SEND_LIMITS_PER_SESSION = "5/1h"
    settings.OTP_SEND_BUDGET = "500/1h"
    settings.OTP_ALLOWED_COUNTRIES = []
    settings.OTP_ALLOW_VOIP = False
    settings.OTP_PUMPING_WINDOW = "1h"
    settings.OTP_PUMPING_MIN_SENDS = 20
    settings.OTP_PUMPING_MIN_CONVERSION = 0.2
    settings.OTP_PUMPING_PAUSE = "1h"
    # Counters in a shared Redis would outlive the test and leak into the next run: tests opt in with a key prefix.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return settings


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Deliver SMS into a list, like Django's test runner does with mail.outbox."""
    settings.SMS_BACKEND = LOCMEM_SMS
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def sms_down(settings, tmp_path):
    """Return a function that makes every send fail: the file backend aimed at a file, not a folder."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    def down() -> None:
        settings.SMS_BACKEND = "verification.sms.backends.filebased.SmsBackend"
        settings.SMS_FILE_PATH = blocker

    return down


def environ_without_settings(**extra: str) -> dict[str, str]:
    """Return this process's environment minus the app's settings variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTP_", "SMS_", "TWILIO_"))}
    env.update(extra)
    return env


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
