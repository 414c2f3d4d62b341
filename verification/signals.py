"""The signal a host listens to: `phone_verified`, sent once per successful verification, after it commits."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest

from verification.models import PhoneVerification, VerificationEvent
from verification.phone_numbers import mask

logger = logging.getLogger(__name__)

#: Sent with sender=PhoneVerification and the keyword arguments `phone` (E.164), `request`, `user` (the
#: authenticated user, else None), `verified_at` and `channel` ("web" for the pages, "api" for the JSON API).
phone_verified = Signal()


def announce_verified(
    phone: str,
    *,
    request: HttpRequest,
    user: AbstractBaseUser | None,
    verified_at: datetime,
    channel: str = VerificationEvent.Channel.WEB,
) -> None:
    """Send `phone_verified` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(
        lambda: _send(phone, request=request, user=user, verified_at=verified_at, channel=str(channel))
    )


def _send(phone: str, **kwargs) -> None:
    # send_robust: the number is verified whatever a receiver does, so a failing receiver is logged, never a 500.
    for receiver, result in phone_verified.send_robust(sender=PhoneVerification, phone=phone, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "phone_verified receiver %s failed phone=%s",
                getattr(receiver, "__qualname__", receiver),
                mask(phone),
                exc_info=result,
            )
