"""Operator commands: unlock_number (purge_verifications is in test_retention.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.helpers import PHONE, ROOT, environ_without_settings
from verification.models import PhoneVerification, VerificationEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def locked(frozen):
    return PhoneVerification.objects.create(
        phone=PHONE, failed_attempts=3, locked_until=timezone.now() + timedelta(minutes=5)
    )


def test_unlock_number_normalises_unlocks_and_records_it(locked, capsys):
    call_command("unlock_number", "+33 6 12 34 56 78")
    assert capsys.readouterr().out == "Unlocked +33 6 12 34 56 78.\n"
    locked.refresh_from_db()
    assert locked.locked_until is None and locked.failed_attempts == 0
    event = VerificationEvent.objects.get()
    assert (event.kind, event.phone, event.user, event.client_ip) == ("unlocked", PHONE, None, None)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("+33 6 12 34 56 79", "+33 6 12 34 56 79 has never asked for a code."),
        ("12", "'12' is not a valid phone number."),
    ],
)
def test_unlock_number_refuses_what_it_cannot_unlock(locked, typed, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("unlock_number", typed)
    assert not VerificationEvent.objects.exists()


def test_unlock_number_says_a_number_is_not_locked(locked, frozen):
    frozen.shift(301)
    with pytest.raises(CommandError, match="is not locked"):
        call_command("unlock_number", PHONE)


def test_unlock_number_exits_1_when_nothing_was_unlocked():
    result = subprocess.run(
        [sys.executable, "manage.py", "unlock_number", "not a number"],
        cwd=ROOT,
        env=environ_without_settings(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "is not a valid phone number" in result.stderr
