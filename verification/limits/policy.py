"""The send policy's entry point: may this SMS be sent? Decided in a fixed order and claimed in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from verification import metrics
from verification.limits import counters, pumping
from verification.limits.destinations import check_destination
from verification.limits.refusal import Reason, Refusal
from verification.models import PhoneVerification


@dataclass(frozen=True)
class Claim:
    """A send the policy allowed: the number's resend cooldown now runs until `cooldown_ends`."""

    cooldown_ends: datetime


def claim_send(
    phone: str, now: datetime, *, client_ip: str | None = None, session_key: str | None = None
) -> Claim | Refusal:
    """Decide one send to `phone`: destination, lock, cooldown, pumping brake, then the send limits.

    An allowed send is claimed in one transaction on the number's row: its cooldown starts and it is
    counted by the brake and by every limit. A refused send counts nothing and starts nothing, but the
    refusal is counted in the metrics (otp_send_refusals_total).
    """
    try:
        check_destination(phone)
    except ValidationError as error:
        return _counted(Refusal(Reason.DESTINATION, error=error))
    with transaction.atomic():
        record, _ = PhoneVerification.objects.select_for_update().get_or_create(phone=phone)
        lock_ended = record.end_expired_lock(now)
        refusal = (
            record.send_refusal(now)
            or pumping.enforce(phone, now)
            or counters.claim(counters.limits_for_send(phone, client_ip, session_key), now)
        )
        if refusal:
            if lock_ended:
                record.save()
            return _counted(refusal)
        pumping.record_sent(phone, now)
        record.start_cooldown(now)
        record.save()
        return Claim(record.next_send_at)


def _counted(refusal: Refusal) -> Refusal:
    """Count a refusal in the metrics once the transaction commits: a send limit by its scope, the rest by reason."""
    metrics.count(metrics.SEND_REFUSALS, limit=refusal.limit or refusal.reason.value)
    return refusal
