"""Remember this browser: a signed cookie that lets one user skip the second factor here for a while.

The cookie names the user and a fingerprint of their password hash and sign-in number: a new password or a
new (or removed) sign-in number changes the fingerprint, and every remembered browser has to pass the code again.
It is HttpOnly, SameSite=Lax and, where session cookies are (production), Secure. OTP_REMEMBER_BROWSER_DAYS=0
(the default) turns it off.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

from verification.conf import app_settings
from verification.models import SignInNumber

COOKIE_NAME = "otp_remember"
SALT = "verification.auth.remember"


def fingerprint(user: AbstractBaseUser) -> str:
    """Return what changes when the user's password or sign-in number does."""
    row = SignInNumber.objects.filter(user=user).values_list("phone", "set_at").first()
    number = f"{row[0]}|{row[1].isoformat()}" if row else ""
    return salted_hmac(SALT, f"{user.pk}|{user.password}|{number}", algorithm="sha256").hexdigest()


def remember(response: HttpResponse, request: HttpRequest, user: AbstractBaseUser) -> None:
    """Set the cookie that lets `user` skip the second factor in this browser for OTP_REMEMBER_BROWSER_DAYS."""
    days = app_settings.remember_browser_days
    if days <= 0:
        return
    value = signing.dumps({"u": str(user.pk), "f": fingerprint(user)}, salt=SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=days * 24 * 60 * 60,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
        samesite="Lax",
    )


def is_remembered(request: HttpRequest, user: AbstractBaseUser) -> bool:
    """Return whether this browser carries a live cookie for `user`, made before any change of password or number."""
    days = app_settings.remember_browser_days
    value = request.COOKIES.get(COOKIE_NAME)
    if days <= 0 or not value:
        return False
    try:
        data = signing.loads(value, salt=SALT, max_age=days * 24 * 60 * 60)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or data.get("u") != str(user.pk):
        return False
    return constant_time_compare(str(data.get("f", "")), fingerprint(user))
