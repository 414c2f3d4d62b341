"""Deleting what is older than OTP_EVENT_RETENTION_DAYS: audit events (and the bot challenge's hourly tallies,
which count with them), idle numbers, expired sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction
from django.db.models import Q, QuerySet

from verification.conf import app_settings
from verification.models import BotChallengeTally, PhoneVerification, VerificationEvent


@dataclass(frozen=True)
class Purged:
    events: int
    numbers: int
    #: None when the session engine cannot count what it clears (cache or signed-cookie sessions).
    sessions: int | None


def stale_events(now: datetime) -> QuerySet[VerificationEvent]:
    """Return the events older than the retention period."""
    return VerificationEvent.objects.filter(created_at__lt=_cutoff(now))


def idle_numbers(now: datetime) -> QuerySet[PhoneVerification]:
    """Return the numbers untouched for the retention period, never one locked or with a live code."""
    return PhoneVerification.objects.filter(updated_at__lt=_cutoff(now)).exclude(
        Q(locked_until__gt=now) | Q(code_expires_at__gt=now) | Q(next_send_at__gt=now)
    )


def purge(now: datetime, *, dry_run: bool = False) -> Purged:
    """Delete (or with `dry_run` only count) stale events, idle numbers and expired sessions."""
    events, numbers = stale_events(now), idle_numbers(now)
    if dry_run:
        return Purged(events.count(), numbers.count(), _expired_sessions(now, dry_run=True))
    with transaction.atomic():
        # The conditions are part of each DELETE, so a number used while the purge runs is kept.
        purged_events = events.delete()[0]
        purged_numbers = numbers.delete()[0]
        BotChallengeTally.objects.filter(hour__lt=_cutoff(now)).delete()
    return Purged(purged_events, purged_numbers, _expired_sessions(now, dry_run=False))


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(days=app_settings.event_retention_days)


def _expired_sessions(now: datetime, *, dry_run: bool) -> int | None:
    """Clear expired sessions as `clearsessions` does; return how many, when the engine can tell."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store, DatabaseSessionStore):
        expired = store.get_model_class().objects.filter(expire_date__lt=now)
        return expired.count() if dry_run else expired.delete()[0]
    if not dry_run:
        store.clear_expired()
    return None
