"""The SMS-pumping brake: stop sending to a number range whose codes are rarely verified.

Bots that request codes to premium or rented numbers never type the codes in. The brake tallies sends
and verifications per number range (the number's region and the first OTP_PUMPING_PREFIX_DIGITS
digits of its national number) and minute, and pauses a range whose share of verified codes
collapses. Other ranges of the same country are untouched, and a number verified on this site before
is neither tallied nor paused: whoever trips the brake stops one range, never a country or a known user.
The check and the tally it leads to hold the range's lock (`locks.hold`), so parallel sends cannot
slip past the threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet, Sum

from verification import metrics
from verification.conf import app_settings
from verification.limits import locks, pruning
from verification.limits.refusal import Reason, Refusal
from verification.models import PhoneVerification, PumpingPause, PumpingTally
from verification.phone_numbers import NumberRange, range_of

logger = logging.getLogger(__name__)

_pruning = pruning.Schedule()


@dataclass(frozen=True)
class Tallied:
    """A send the brake counted: its range and minute, so that a send that never left can be uncounted."""

    number_range: NumberRange
    minute: datetime


def is_known(record: PhoneVerification) -> bool:
    """Return whether the number was verified here before: a person, whom the brake never stops or counts."""
    return record.verified_at is not None


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def enforce(record: PhoneVerification, now: datetime) -> Refusal | None:
    """Refuse a send if the number's range is paused, pausing it first if too few of its codes are verified."""
    if is_known(record):
        return None
    number_range = range_of(record.phone)
    min_sends = app_settings.pumping_min_sends
    if min_sends >= 1:
        # Held until the send is claimed and tallied: the next send to this range sees this one counted.
        locks.hold([_lock_key(number_range)])
    pause = PumpingPause.objects.filter(**number_range.rows(), paused_until__gt=now).first()
    if pause:
        return Refusal(Reason.PUMPING, pause.paused_until, limit="pumping", key=str(number_range))
    if min_sends < 1:
        return None
    totals = PumpingTally.objects.filter(**number_range.rows(), minute__gte=window_start(now)).aggregate(
        sent=Sum("sent"), verified=Sum("verified")
    )
    sent, verified = totals["sent"] or 0, totals["verified"] or 0
    if sent < min_sends or verified >= sent * app_settings.pumping_min_conversion:
        return None
    until = _trip(number_range, sent, verified, now)
    return Refusal(Reason.PUMPING, until, limit="pumping", key=str(number_range))


def window_start(now: datetime) -> datetime:
    """Return the first minute of the brake's window at `now`."""
    # The minute the window starts in counts whole: the brake may look up to a minute further back.
    return _minute(now - app_settings.pumping_window)


def _lock_key(number_range: NumberRange) -> str:
    return f"otp-pumping:{number_range.region}:{number_range.prefix}"


def _trip(number_range: NumberRange, sent: int, verified: int, now: datetime) -> datetime:
    until = now + app_settings.pumping_pause
    with transaction.atomic():
        PumpingPause.objects.update_or_create(
            **number_range.rows(),
            defaults={
                "calling_code": str(number_range.calling_code),
                "paused_at": now,
                "paused_until": until,
                "sent": sent,
                "verified": verified,
            },
        )
        # The pause starts a fresh count: the next window judges only traffic after it.
        PumpingTally.objects.filter(**number_range.rows()).delete()
        metrics.count(metrics.PUMPING_PAUSES)
    logger.error(
        "sms pumping brake: sends to %s (%s) paused until %s (%d sent, %d verified in the window)",
        number_range,
        number_range.region,
        until.isoformat(),
        sent,
        verified,
    )
    return until


def tally_sent(record: PhoneVerification, now: datetime) -> Tallied | None:
    """Count a code sent to the number's range (not for a known number), and drop tallies too old to matter."""
    if is_known(record):
        return None
    if _pruning.due(now):
        PumpingTally.objects.filter(minute__lt=_minute(now - app_settings.pumping_window)).delete()
    tallied = Tallied(range_of(record.phone), _minute(now))
    _bump(tallied, "sent")
    return tallied


def give_back(tallied: Tallied | None) -> None:
    """Uncount a send that never left (unless a pause has since started a fresh count)."""
    if tallied is None:
        return
    PumpingTally.objects.filter(**tallied.number_range.rows(), minute=tallied.minute, sent__gt=0).update(
        sent=F("sent") - 1
    )


def record_verified(record: PhoneVerification, now: datetime) -> None:
    """Count a code verified for the number's range; call it before the record is marked verified.

    A number verified before was not tallied when its code was sent, so its verification is not either.
    """
    if not is_known(record):
        _bump(Tallied(range_of(record.phone), _minute(now)), "verified")


def _bump(tallied: Tallied, field: str) -> None:
    if connection.vendor in ("sqlite", "postgresql"):
        _upsert(tallied, field)
        return
    rows = {**tallied.number_range.rows(), "minute": tallied.minute}
    tally = PumpingTally.objects.filter(**rows)
    if tally.update(**{field: F(field) + 1}):
        return
    try:
        with transaction.atomic():
            PumpingTally.objects.create(**rows, **{field: 1})
    except IntegrityError:
        # Another worker created this minute's row first.
        tally.update(**{field: F(field) + 1})


def _upsert(tallied: Tallied, field: str) -> None:
    """Add one to the range's tally for the minute in one statement, creating the row if it is the minute's first."""
    table = connection.ops.quote_name(PumpingTally._meta.db_table)
    column = connection.ops.quote_name(field)
    minute = connection.ops.adapt_datetimefield_value(tallied.minute)
    number_range = tallied.number_range
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (region, prefix, minute, sent, verified) VALUES (%s, %s, %s, %s, %s) "
            f"ON CONFLICT (region, prefix, minute) DO UPDATE SET {column} = {table}.{column} + 1",
            [number_range.region, number_range.prefix, minute, int(field == "sent"), int(field == "verified")],
        )


def paused_ranges(now: datetime) -> set[str]:
    """Return the ranges the brake stops sends to at `now`, written as events store them (e.g. "+44 7400")."""
    active = PumpingPause.objects.filter(paused_until__gt=now).values_list("region", "prefix", "calling_code")
    return {str(NumberRange(region, prefix, int(code))) for region, prefix, code in active}


def resume(pauses: QuerySet[PumpingPause], now: datetime) -> list[PumpingPause]:
    """End every active pause in `pauses` now and return those ended."""
    resumed = []
    with transaction.atomic():
        for pause in pauses.select_for_update().filter(paused_until__gt=now):
            pause.paused_until = now
            pause.save(update_fields=["paused_until"])
            resumed.append(pause)
            logger.info("sms pumping brake: sends to %s (%s) resumed by staff", pause, pause.region)
    return resumed
