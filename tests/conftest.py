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


def _database_vendor() -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    return "sqlite" if "sqlite" in engine else "postgresql" if "postgresql" in engine else engine


def pytest_collection_modifyitems(config, items) -> None:
    """Leave out the tests of another database than the suite's: they cannot run here, and CI refuses skips."""
    vendor = _database_vendor()
    keep, other_database = [], []
    for item in items:
        only = {mark.name for mark in item.iter_markers() if mark.name in ("sqlite_only", "postgresql_only")}
        callspec = getattr(item, "callspec", None)
        # The race tests' second run, with SQLite's lock alone, has no meaning on PostgreSQL (no write queue).
        lock_only = callspec is not None and callspec.params.get("sqlite_write_queue") == "sqlite lock only"
        if (only and f"{vendor}_only" not in only) or (lock_only and vendor != "sqlite"):
            other_database.append(item)
        else:
            keep.append(item)
    if other_database:
        config.hook.pytest_deselected(items=other_database)
        items[:] = keep


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
