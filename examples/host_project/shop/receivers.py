"""What the shop does once a number is verified: here, thank the person on the next page they see."""

from __future__ import annotations

from django.contrib import messages
from django.dispatch import receiver
from django.utils.translation import gettext as _

from verification.signals import phone_signed_in, phone_verified


@receiver(phone_verified)
def thank_for_verifying(sender, *, phone, request, user, verified_at, channel, **kwargs) -> None:
    """Say on the next page which number was verified, and for whom."""
    if channel == "api":
        # An app verified through the JSON API: there is no next page, and the API sets no cookie.
        return
    who = user.get_username() if user is not None else _("guest")
    messages.success(request, _("Thank you, %(who)s: %(phone)s is verified.") % {"who": who, "phone": phone})


@receiver(phone_signed_in)
def welcome_back(sender, *, user, phone, request, flow, created, **kwargs) -> None:
    """Greet the person a code just logged in."""
    messages.success(request, _("Welcome, %(who)s.") % {"who": user.get_username()})
