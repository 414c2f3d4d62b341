"""The host's one extension point: an adapter class named by OTP_ADAPTER, a method per decision.

A host subclasses DefaultAdapter and overrides what it decides differently (in the spirit of
django-allauth's DefaultAccountAdapter); settings are for values, signals for reactions.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.module_loading import import_string

from verification.auth import numbers
from verification.conf import app_settings

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class DefaultAdapter:
    """The safe defaults: a number signs in the active account whose sign-in number it is; sign-up makes a bare
    account named after the number, with no usable password."""

    def user_for_phone(self, phone: str) -> AbstractBaseUser | None:
        """Return the account `phone` (E.164) signs in, or None: no account, or one that may not sign in by phone."""
        user = numbers.owner_of(phone)
        if user is None or not self.may_use_phone_sign_in(user):
            return None
        return user

    def may_use_phone_sign_in(self, user: AbstractBaseUser) -> bool:
        """Return whether `user` may have a sign-in number and sign in with it (inactive accounts may not)."""
        return getattr(user, "is_active", True)

    def create_user(self, request: HttpRequest, phone: str) -> AbstractBaseUser:
        """Make the account of a number that signed up (OTP_SIGN_UP); the caller makes `phone` its sign-in number."""
        model = get_user_model()
        user = model(**{model.USERNAME_FIELD: self.username_for(phone)})
        user.set_unusable_password()
        user.save()
        return user

    def username_for(self, phone: str) -> str:
        """Return the username of a new account signed up with `phone`: the number itself, which is unique."""
        return phone

    def second_factor_required(self, user: AbstractBaseUser) -> bool:
        """Return whether `user` must verify a number after the password when they have no sign-in number."""
        return app_settings.second_factor_required

    def login_backend(self, user: AbstractBaseUser) -> str:
        """Return the authentication backend (dotted path) a login by code is recorded with."""
        backends = settings.AUTHENTICATION_BACKENDS
        return MODEL_BACKEND if MODEL_BACKEND in backends else backends[0]


def get_adapter() -> DefaultAdapter:
    """Return an instance of the adapter class named by OTP_ADAPTER."""
    return import_string(app_settings.adapter)()
