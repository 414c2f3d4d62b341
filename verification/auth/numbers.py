"""The sign-in number: the one number that signs a user in, and the one user a number signs in.

These are the rules other code builds on (the pages, the API, a host's own allauth adapter or two-factor
gateway); each takes the user and, where something changes, `now`.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction

from verification.models import SignInNumber


def sign_in_number(user: AbstractBaseUser) -> str | None:
    """Return the number (E.164) that signs `user` in, or None."""
    if user is None or not user.is_authenticated or user.pk is None:
        return None
    return SignInNumber.objects.filter(user=user).values_list("phone", flat=True).first()


def owner_of(phone: str) -> AbstractBaseUser | None:
    """Return the user whose sign-in number `phone` is, or None."""
    row = SignInNumber.objects.filter(phone=phone).select_related("user").first()
    return row.user if row is not None else None


def set_sign_in_number(user: AbstractBaseUser, phone: str, now: datetime) -> bool:
    """Make `phone` the number that signs `user` in, replacing theirs; return False, changing nothing, when it
    already signs in another account.

    The unique index on the number decides between two users who claim it at once: the second gets False.
    """
    if SignInNumber.objects.filter(phone=phone).exclude(user=user).exists():
        return False
    try:
        with transaction.atomic():
            updated = SignInNumber.objects.filter(user=user).exclude(phone=phone).update(phone=phone, set_at=now)
            if not updated:
                SignInNumber.objects.get_or_create(user=user, defaults={"phone": phone, "set_at": now})
    except IntegrityError:
        # Another user's transaction took the number between the check above and this write.
        return False
    return True


def remove_sign_in_number(user: AbstractBaseUser) -> bool:
    """Stop any number from signing `user` in; return whether there was one."""
    deleted, _ = SignInNumber.objects.filter(user=user).delete()
    return bool(deleted)
