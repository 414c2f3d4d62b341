"""Fixtures every test may use; helpers to import live in tests/helpers.py."""

from __future__ import annotations

import pytest

from tests.helpers import LOCMEM_SMS, T0
from verification.conf import DEFAULTS
from verification.limits import outage
from verification.sms.backends import locmem

pytest_plugins = [
    "tests.fakes.twilio_server",
    "tests.fakes.siteverify_server",
    "tests.fakes.hook_server",
    "tests.fakes.verify_server",
    "tests.fakes.vonage_server",
]


def pytest_report_header(config) -> str:
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']} ({settings.DATABASES['default']['NAME']})"


@pytest.fixture(autouse=True)
def app_defaults(settings):
    """Run on the app's own defaults (verification/conf.py), whatever a local .env or the environment set."""
    for name in DEFAULTS:
        if hasattr(settings, name):
            delattr(settings, name)
    # Counters in a shared Redis would outlive the test and leak into the next run: tests opt in with a key prefix.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return settings


@pytest.fixture(autouse=True)
def sms_outbox(app_defaults):
    """Deliver SMS into a list, like Django's test runner does with mail.outbox."""
    app_defaults.SMS_BACKEND = LOCMEM_SMS
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture(autouse=True)
def provider_up():
    """Start every test with no SMS outage remembered, as a freshly started worker would."""
    outage.forget()
    yield
    outage.forget()


@pytest.fixture
def sms_down(settings, tmp_path):
    """Return a function that makes every send fail: the file backend aimed at a file, not a folder."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")

    def down() -> None:
        settings.SMS_BACKEND = "verification.sms.backends.filebased.SmsBackend"
        settings.SMS_FILE_PATH = blocker

    return down


@pytest.fixture
def frozen(time_machine):
    """Stop the clock at T0 (for views, which read it); move it with frozen.shift(seconds)."""
    time_machine.move_to(T0, tick=False)
    return time_machine
