"""What a host project calls to learn whether a number was verified."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from verification.api.token import read_token
from verification.conf import app_settings
from verification.models import VerifiedPhone
from verification.session import SESSION_VERIFIED_PHONE


def logged_in_user(request: HttpRequest) -> AbstractBaseUser | None:
    """Return the request's authenticated user, or None (also in a project without AuthenticationMiddleware)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def verified_phone(request: HttpRequest) -> str | None:
    """Return the number verified in this browser's session, else the logged-in user's most recent one, else None."""
    session = getattr(request, "session", None)
    phone = session.get(SESSION_VERIFIED_PHONE) if session is not None else None
    if phone:
        return phone
    user = logged_in_user(request)
    row = VerifiedPhone.objects.latest_for(user) if user is not None else None
    return row.phone if row is not None else None


def phone_from_token(token: str, max_age: float | timedelta | None = None) -> str:
    """Return the number (E.164) a token from the API's check asserts was verified.

    Raise django.core.signing.BadSignature for a forged or altered token, and its subclass
    SignatureExpired for one older than `max_age` seconds (default OTP_TOKEN_MAX_AGE).
    """
    return read_token(token, app_settings.token_max_age if max_age is None else max_age)


def user_for_phone(phone: str) -> AbstractBaseUser | None:
    """Return the account the number `phone` (E.164) signs in, as the adapter decides (OTP_ADAPTER), or None.

    With phone_from_token, a host turns the JSON API's token into its own login: the number the token
    asserts, then the account that number signs in.
    """
    from verification.adapter import get_adapter

    return get_adapter().user_for_phone(phone)
