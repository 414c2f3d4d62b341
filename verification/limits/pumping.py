"""The SMS-pumping brake: stop sending to a country calling code whose codes are rarely verified.

Bots that request codes to premium or foreign numbers never type the codes in, so a calling code
whose share of verified codes collapses is paused; other countries are untouched. Sends and
verifications are tallied per calling code and minute, so the check sums at most one row per minute
of the window.
"""

from __future__ import annotations

import logging
from datetime import datetime

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum

from verification import metrics
from verification.conf import app_settings
from verification.limits.refusal import Reason, Refusal
from verification.models import PumpingPause, PumpingTally

logger = logging.getLogger(__name__)


def calling_code(phone: str) -> str:
    """Return the country calling code of an E.164 number, without +."""
    return str(phonenumbers.parse(phone).country_code)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def enforce(phone: str, now: datetime) -> Refusal | None:
    """Refuse a send if the number's calling code is paused, pausing it first if too few of its codes are verified."""
    code = calling_code(phone)
    pause = PumpingPause.objects.filter(calling_code=code, paused_until__gt=now).first()
    if pause:
        return Refusal(Reason.PUMPING, pause.paused_until, limit="pumping")
    min_sends = app_settings.pumping_min_sends
    if min_sends < 1:
        return None
    # The minute the window starts in counts whole: the brake may look up to a minute further back.
    window_start = _minute(now - app_settings.pumping_window)
    totals = PumpingTally.objects.filter(calling_code=code, minute__gte=window_start).aggregate(
        sent=Sum("sent"), verified=Sum("verified")
    )
    sent, verified = totals["sent"] or 0, totals["verified"] or 0
    if sent < min_sends or verified >= sent * app_settings.pumping_min_conversion:
        return None
    return Refusal(Reason.PUMPING, _trip(code, sent, verified, now), limit="pumping")


def _trip(code: str, sent: int, verified: int, now: datetime) -> datetime:
    until = now + app_settings.pumping_pause
    with transaction.atomic():
        PumpingPause.objects.update_or_create(
            calling_code=code, defaults={"paused_at": now, "paused_until": until, "sent": sent, "verified": verified}
        )
        # The pause starts a fresh count: the next window judges only traffic after it.
        PumpingTally.objects.filter(calling_code=code).delete()
        metrics.count(metrics.PUMPING_PAUSES)
    logger.error(
        "sms pumping brake: sends to +%s paused until %s (%d sent, %d verified in the window)",
        code,
        until.isoformat(),
        sent,
        verified,
    )
    return until


def record_sent(phone: str, now: datetime) -> None:
    """Count a code sent to the number's calling code, and drop tallies too old to matter."""
    PumpingTally.objects.filter(minute__lt=_minute(now - app_settings.pumping_window)).delete()
    _bump(calling_code(phone), now, "sent")


def record_verified(phone: str, now: datetime) -> None:
    """Count a code verified for the number's calling code."""
    _bump(calling_code(phone), now, "verified")


def _bump(code: str, now: datetime, field: str) -> None:
    minute = _minute(now)
    tally = PumpingTally.objects.filter(calling_code=code, minute=minute)
    if tally.update(**{field: F(field) + 1}):
        return
    try:
        with transaction.atomic():
            PumpingTally.objects.create(calling_code=code, minute=minute, **{field: 1})
    except IntegrityError:
        # Another worker created this minute's row first.
        tally.update(**{field: F(field) + 1})


def paused_prefixes(now: datetime) -> list[str]:
    """Return the prefixes of the numbers the brake stops sends to at `now`: each paused calling code, e.g. +234."""
    return [
        f"+{code}" for code in PumpingPause.objects.filter(paused_until__gt=now).values_list("calling_code", flat=True)
    ]


def resume(pauses: QuerySet[PumpingPause], now: datetime) -> list[PumpingPause]:
    """End every active pause in `pauses` now and return those ended."""
    resumed = []
    with transaction.atomic():
        for pause in pauses.select_for_update().filter(paused_until__gt=now):
            pause.paused_until = now
            pause.save(update_fields=["paused_until"])
            resumed.append(pause)
            logger.info("sms pumping brake: sends to +%s resumed by staff", pause.calling_code)
    return resumed
