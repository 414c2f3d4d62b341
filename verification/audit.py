"""The audit trail: for each thing that happens to a number, one event row and one log line.

Call `record()` inside the transaction that makes the change it records, so the trail
commits or rolls back with the state it describes.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser

from verification.models import PhoneVerification, VerificationEvent
from verification.phone_numbers import mask

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
    now: datetime,
    **details: object,
) -> VerificationEvent:
    """Store an event of `kind` for a number and log it, the number masked.

    `channel` says where the request that caused it came in (VerificationEvent.Channel: the pages or the
    JSON API). `details` (e.g. locked_until, reason) go to the log line only. Never pass a code.
    """
    kind = Kind(kind)
    phone = phone_or_record.phone if isinstance(phone_or_record, PhoneVerification) else phone_or_record or ""
    if user is not None and not user.is_authenticated:
        user = None
    event = VerificationEvent.objects.create(
        kind=kind,
        phone=phone,
        client_ip=_valid_ip(client_ip),
        user=user,
        channel=channel,
        created_at=now,
    )
    fields = {
        "event": kind.value,
        "phone": mask(phone) if phone else "",
        "client_ip": event.client_ip or "",
        **({"channel": event.channel} if event.channel else {}),
        **({"user": user.get_username()} if user else {}),
        **{name: _plain(value) for name, value in details.items()},
    }
    message = " ".join(f"{name}={_quoted(value)}" for name, value in fields.items())
    logger.log(logging.WARNING if kind in _WARNINGS else logging.INFO, message, extra=fields)
    return event


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
