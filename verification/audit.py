"""The audit trail: for each thing that happens to a number, one event row and one log line.

Call `record()` inside the transaction that makes the change it records, so the trail
commits or rolls back with the state it describes. Refused sends are the exception: anyone can
send them by the thousand, so `record_refusal()` keeps one event per limit, key and clock hour, and
counts the refusals in it.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
from datetime import datetime

import phonenumbers
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from verification import test_numbers
from verification.limits import locks
from verification.models import PhoneVerification, VerificationEvent
from verification.phone_numbers import mask, range_of

logger = logging.getLogger(__name__)

Kind = VerificationEvent.Kind

# What an operator should notice is logged as a warning, the ordinary flow as info.
_WARNINGS = {Kind.SEND_FAILED, Kind.LOCKED, Kind.RATE_LIMITED}


def record(
    kind: Kind,
    phone_or_record: str | PhoneVerification | None,
    *,
    client_ip: str | None = None,
    user: AbstractBaseUser | None = None,
    channel: str = "",
    flow: str = "",
    now: datetime,
    via: str = "",
    automatic: bool = False,
    provider: str = "",
    **details: object,
) -> VerificationEvent:
    """Store an event of `kind` for a number and log it, the number masked.

    `channel` says where the request that caused it came in (VerificationEvent.Channel: the pages or the
    JSON API), `flow` why the code concerned was sent (models.Flow); `via` how a code travelled, `automatic`
    whether the site sent it without being asked. `details` (e.g. locked_until, reason) go to the log line only.
    Never pass a code. An event of a test number (verification.test_numbers) is marked as a test event.
    """
    kind = Kind(kind)
    flow = str(flow)
    phone = phone_or_record.phone if isinstance(phone_or_record, PhoneVerification) else phone_or_record or ""
    if user is not None and not user.is_authenticated:
        user = None
    event = VerificationEvent(
        kind=kind,
        phone=phone,
        client_ip=_valid_ip(client_ip),
        user=user,
        channel=channel,
        via=via,
        automatic=automatic,
        flow=flow,
        created_at=now,
        is_test=bool(phone) and test_numbers.is_test_number(phone, now),
        provider=provider,
        **_place(phone),
    )
    if provider:
        details = {"provider": provider, **details}
    return _save_and_log(event, details)


def record_refusal(
    phone: str,
    *,
    limit: str,
    key: str,
    client_ip: str | None = None,
    channel: str = "",
    flow: str = "",
    now: datetime,
    retry_at: datetime | None,
) -> VerificationEvent:
    """Store a send refused by `limit` (scope) for `key`: its first refusal in the clock hour is an event and a
    log line, later ones only add to that event's count.

    The bound: one row per limit, key and hour, whatever the number of requests (and whatever channel they
    came in by: the event keeps the channel of the hour's first refusal).
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        # Parallel refusals of one key count into one event rather than each starting its own.
        locks.hold([f"otp-refusal:{limit}:{key}"])
        events = VerificationEvent.objects.filter(kind=Kind.RATE_LIMITED, limit=limit, key=key, created_at__gte=hour)
        event = events.order_by("created_at").first()
        if event is not None:
            events.filter(pk=event.pk).update(count=F("count") + 1)
            return event
        event = VerificationEvent(
            kind=Kind.RATE_LIMITED,
            phone=phone,
            client_ip=_valid_ip(client_ip),
            limit=limit,
            key=key,
            channel=channel,
            flow=flow,
            created_at=now,
            **_place(phone),
        )
        return _save_and_log(event, {"limit": limit, "retry_at": retry_at})


def _save_and_log(event: VerificationEvent, details: dict[str, object]) -> VerificationEvent:
    event.save()
    fields = {
        "event": event.kind,
        "phone": mask(event.phone) if event.phone else "",
        "client_ip": event.client_ip or "",
        **({"channel": event.channel} if event.channel else {}),
        **({"via": event.via} if event.via else {}),
        **({"automatic": "yes"} if event.automatic else {}),
        **({"flow": event.flow} if event.flow else {}),
        **({"test": "true"} if event.is_test else {}),
        **({"user": event.user.get_username()} if event.user else {}),
        **{name: _plain(value) for name, value in details.items()},
    }
    message = " ".join(f"{name}={_quoted(value)}" for name, value in fields.items())
    logger.log(logging.WARNING if event.kind in _WARNINGS else logging.INFO, message, extra=fields)
    return event


def _place(phone: str) -> dict[str, str]:
    """Return the region and number range stored with an event about `phone`."""
    # Stored rather than derived when read, so the dashboard groups a million events without parsing one.
    if not phone:
        return {}
    try:
        number_range = range_of(phone)
    except phonenumbers.NumberParseException:
        return {}
    region = number_range.region if number_range.region in phonenumbers.SUPPORTED_REGIONS else ""
    return {"region": region, "number_range": str(number_range)}


def _valid_ip(address: str | None) -> str | None:
    """Return `address` if it is an IP address; a unix-socket peer or junk is stored as unknown."""
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def _plain(value: object) -> object:
    """Return a log-friendly form of a detail value: datetimes as ISO 8601, enums by value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _quoted(value: object) -> str:
    """Return `value` for a key=value log line, quoted when it holds spaces."""
    text = "" if value is None else str(value)
    return f'"{text}"' if not text or " " in text else text
