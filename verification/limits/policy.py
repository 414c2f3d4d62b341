"""The send policy's entry point: may this SMS be sent? Decided in a fixed order and claimed in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from verification import metrics
from verification.limits import counters, pumping
from verification.limits.backends.base import Limit, Receipt
from verification.limits.destinations import check_destination
from verification.limits.refusal import Reason, Refusal
from verification.models import PhoneVerification


@dataclass(frozen=True)
class Claim:
    """A send the policy allowed, and everything it took, so that a send that never left can give it all back."""

    phone: str
    #: The number's resend cooldown now runs until then.
    cooldown_ends: datetime
    limits: tuple[Limit, ...] = ()
    #: What the send limits counted (None: no limit applies).
    counted: Receipt | None = None
    #: What the pumping brake counted (None: a known number, which the brake does not count).
    tallied: pumping.Tallied | None = None
    #: The id of the number's row, so the send's outcome is stored without looking the row up again.
    record_id: int | None = None


def claim_send(
    phone: str, now: datetime, *, client_ip: str | None = None, session_key: str | None = None, via: str = "sms"
) -> Claim | Refusal:
    """Decide one send to `phone` by `via`: destination, lock, cooldown, pumping brake, then the send limits.

    Every way counts alike: a call or a WhatsApp message takes the same cooldown, limits and brake as a text.

    An allowed send is claimed in one transaction on the number's row: its cooldown starts and it is
    counted by the brake and by every limit. A refused send counts nothing, starts nothing and leaves
    no row behind for a number seen for the first time; it is counted only in the metrics
    (otp_send_refusals_total).
    """
    try:
        check_destination(phone, via)
    except ValidationError as error:
        return _counted(Refusal(Reason.DESTINATION, error=error))
    # Worked out before the transaction: nothing here needs the lock.
    limits = counters.limits_for_send(phone, client_ip, session_key)
    try:
        return _claim(phone, now, limits)
    except _NewRowRaced as raced:
        # PostgreSQL only (SQLite's IMMEDIATE transactions cannot race): another send stored this new number's
        # row first. Its transaction rolled back; counts kept outside the database (Redis) are given back, and
        # the send is decided again, on that row.
        counters.give_back(limits, raced.counted)
        return _claim(phone, now, limits)


class _NewRowRaced(Exception):
    """Another send inserted the row of a number seen for the first time while this one was being claimed."""

    def __init__(self, counted: Receipt | None) -> None:
        super().__init__("the number's row was inserted by another send")
        self.counted = counted


def _claim(phone: str, now: datetime, limits: list[Limit]) -> Claim | Refusal:
    """Decide and claim one send in one transaction on the number's row (made only if the send is claimed)."""
    with transaction.atomic():
        record = PhoneVerification.objects.select_for_update().filter(phone=phone).order_by().first()
        # A number seen for the first time gets a row only if the send is claimed: a refusal writes nothing.
        created = record is None
        if created:
            record = PhoneVerification(phone=phone)
        lock_ended = record.end_expired_lock(now)
        refusal = record.send_refusal(now) or pumping.enforce(record, now)
        counted = None if refusal else counters.claim(limits, now)
        if isinstance(counted, Refusal):
            refusal = counted
        if refusal:
            # Refusals cost the database nothing: a stranger's refused requests must not grow the tables.
            if lock_ended:
                record.save(update_fields=["locked_until", "failed_attempts", "updated_at"])
            return _counted(refusal)
        tallied = pumping.tally_sent(record, now)
        record.start_cooldown(now)
        if created:
            try:
                record.save(force_insert=True)
            except IntegrityError as exc:
                raise _NewRowRaced(counted) from exc
        else:
            changed = ["locked_until", "failed_attempts"] if lock_ended else []
            record.save(update_fields=[*changed, "next_send_at", "updated_at"])
        return Claim(phone, record.next_send_at, tuple(limits), counted, tallied, record_id=record.pk)


def give_back(claim: Claim) -> None:
    """Give back everything `claim` took (cooldown, every send limit, the brake's count): its SMS never left."""
    with transaction.atomic():
        PhoneVerification.objects.give_back_cooldown(claim.phone, claim.cooldown_ends)
        pumping.give_back(claim.tallied)
        counters.give_back(list(claim.limits), claim.counted)


def _counted(refusal: Refusal) -> Refusal:
    """Count a refusal in the metrics once the transaction commits: a send limit by its scope, the rest by reason."""
    metrics.count(metrics.SEND_REFUSALS, limit=refusal.limit or refusal.reason.value)
    return refusal
