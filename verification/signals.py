"""The signals a host listens to, each sent after its transaction commits: `phone_verified`, once per successful
verification; `phone_signed_in`, once per login completed by a code (sign-in or second factor)."""

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
#: Sent with sender=PhoneVerification and the keyword arguments `user` (now logged in), `phone` (E.164), `request`,
#: `flow` ("sign_in" or "second_factor") and `created` (True when sign-up made the account). Django's
#: `user_logged_in` fires too, as for any login.
phone_signed_in = Signal()


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


def announce_signed_in(
    phone: str, *, request: HttpRequest, user: AbstractBaseUser, flow: str, created: bool = False
) -> None:
    """Send `phone_signed_in` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(
        lambda: _send(phone, signal=phone_signed_in, request=request, user=user, flow=str(flow), created=created)
    )


def _send(phone: str, *, signal: Signal = phone_verified, **kwargs) -> None:
    # send_robust: the number is verified whatever a receiver does, so a failing receiver is logged, never a 500.
    for receiver, result in signal.send_robust(sender=PhoneVerification, phone=phone, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "%s receiver %s failed phone=%s",
                "phone_verified" if signal is phone_verified else "phone_signed_in",
                getattr(receiver, "__qualname__", receiver),
                mask(phone),
                exc_info=result,
            )
