from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command

from tests.helpers import T0
from verification import audit, services
from verification.models import PhoneVerification, VerificationEvent
from verification.retention import Purged, purge

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def number(phone: str, days_ago: int, **fields) -> PhoneVerification:
    record = PhoneVerification.objects.create(phone=phone, **fields)
    # updated_at is auto_now: set the age behind its back.
    PhoneVerification.objects.filter(pk=record.pk).update(updated_at=T0 - days_ago * DAY)
    return record


@pytest.fixture
def history(frozen):
    for days_ago in (91, 90, 89):
        audit.record(audit.Kind.SENT, "+33612345678", now=T0 - days_ago * DAY - timedelta(seconds=1))
    number("+33612345601", 91)
    number("+33612345602", 30)
    number("+33612345603", 91, failed_attempts=3, locked_until=T0 + timedelta(minutes=5))
    number("+33612345604", 91, code_hash="s$x", code_expires_at=T0 + timedelta(seconds=30))
    old_session, live_session = SessionStore(), SessionStore()
    old_session.set_expiry(T0 - DAY)
    old_session.save()
    live_session.save()


def phones() -> set[str]:
    return set(PhoneVerification.objects.values_list("phone", flat=True))


def test_purge_deletes_only_what_is_past_retention(history):
    purged = purge(T0)
    assert (purged.events, purged.numbers, purged.sessions) == (2, 1, 1)
    assert VerificationEvent.objects.count() == 1
    # Idle for 30 days, locked, or with a live code: kept.
    assert phones() == {"+33612345602", "+33612345603", "+33612345604"}
    assert Session.objects.count() == 1


def test_retention_is_a_setting(history, settings):
    settings.OTP_EVENT_RETENTION_DAYS = 7
    purged = purge(T0)
    assert (purged.events, purged.numbers) == (3, 2)


def test_dry_run_counts_and_keeps_everything(history):
    assert purge(T0, dry_run=True) == Purged(events=2, numbers=1, sessions=1)
    assert VerificationEvent.objects.count() == 3 and len(phones()) == 4 and Session.objects.count() == 2


def test_command_prints_what_it_deleted(history, capsys):
    call_command("purge_verifications", "--dry-run")
    assert capsys.readouterr().out == "Would delete (retention 90 days): events 2, idle numbers 1, expired sessions 1\n"
    assert VerificationEvent.objects.count() == 3
    call_command("purge_verifications")
    assert capsys.readouterr().out == "Deleted (retention 90 days): events 2, idle numbers 1, expired sessions 1\n"
    assert VerificationEvent.objects.count() == 1 and Session.objects.count() == 1


def test_cache_sessions_are_cleared_without_a_count(history, settings, capsys):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    assert purge(T0).sessions is None
    call_command("purge_verifications")
    assert "expired sessions not counted by this session engine" in capsys.readouterr().out


def test_number_used_after_its_purge_starts_fresh(history, sms_outbox):
    purge(T0)
    assert services.send_code("+33612345601", T0).outcome is services.SendOutcome.SENT
    assert PhoneVerification.objects.get(phone="+33612345601").send_count == 1


def test_bot_challenge_tallies_go_with_the_events(history):
    from verification.models import BotChallengeTally

    for days_ago in (91, 89):
        BotChallengeTally.objects.create(hour=T0 - days_ago * DAY, outcome="passed", count=3)
    purge(T0, dry_run=True)
    assert BotChallengeTally.objects.count() == 2
    purge(T0)
    assert list(BotChallengeTally.objects.values_list("hour", flat=True)) == [T0 - 89 * DAY]
