"""The login between a right password and a right code: kept only in the session, never in request.user.

Until the code is right the user is not logged in (django.contrib.auth knows nothing of them); the entry
holds whom the password proved, with which backend, where to go afterwards, and until when it is good:
it expires with the code (a new code moves the deadline) and dies on the session's next login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.dateparse import parse_datetime

from verification.conf import app_settings
from verification.session import SESSION_PENDING_LOGIN, SESSION_SECOND_FACTOR_CHALLENGE, SESSION_SECOND_FACTOR_PHONE

#: How long a user who must add a number (OTP_SECOND_FACTOR_REQUIRED) has to type one before a code is sent.
SETUP_SECONDS = 600


@dataclass(frozen=True)
class PendingLogin:
    user: AbstractBaseUser
    backend: str
    next_url: str
    expires_at: datetime


def start(request: HttpRequest, user: AbstractBaseUser, backend: str, next_url: str, now: datetime) -> None:
    """Remember that `user` gave the right password in this browser; the login waits for a code."""
    # A new session key: whoever knew the session id before the password learns nothing of what follows.
    request.session.cycle_key()
    request.session[SESSION_PENDING_LOGIN] = {
        "user": user._meta.pk.value_to_string(user),
        "backend": backend,
        "next": next_url,
        # The password hash's fingerprint: a password changed meanwhile ends the pending login.
        "hash": user.get_session_auth_hash(),
        "expires": (now + timedelta(seconds=max(app_settings.ttl_seconds, SETUP_SECONDS))).isoformat(),
    }
    request.session.pop(SESSION_SECOND_FACTOR_PHONE, None)
    request.session.pop(SESSION_SECOND_FACTOR_CHALLENGE, None)


def extend(request: HttpRequest, expires_at: datetime) -> None:
    """Make the pending login last as long as the code just sent to it."""
    entry = request.session.get(SESSION_PENDING_LOGIN)
    if entry is not None:
        request.session[SESSION_PENDING_LOGIN] = {**entry, "expires": expires_at.isoformat()}


def read(request: HttpRequest, now: datetime) -> PendingLogin | None:
    """Return this browser's pending login, or None (none, expired, or its user changed); a dead one is forgotten."""
    entry = request.session.get(SESSION_PENDING_LOGIN)
    if not entry:
        return None
    expires_at = parse_datetime(entry.get("expires", ""))
    model = get_user_model()
    user = model._default_manager.filter(pk=model._meta.pk.to_python(entry["user"])).first()
    alive = (
        expires_at is not None
        and expires_at > now
        and user is not None
        and user.is_active
        and constant_time_compare(entry.get("hash", ""), user.get_session_auth_hash())
    )
    if not alive:
        forget(request)
        return None
    return PendingLogin(user, entry["backend"], entry.get("next", ""), expires_at)


def forget(request: HttpRequest) -> None:
    """Drop the pending login and its code's entries."""
    for name in (SESSION_PENDING_LOGIN, SESSION_SECOND_FACTOR_PHONE, SESSION_SECOND_FACTOR_CHALLENGE):
        request.session.pop(name, None)
