"""django-two-factor-auth's SMS and voice gateway through the app's delivery and send limits.

A project sets TWO_FACTOR_SMS_GATEWAY (and TWO_FACTOR_CALL_GATEWAY) to `verification.contrib.two_factor.Gateway`
and adds `verification.contrib.relay.RequestMiddleware`, so the per-IP and per-session limits know whom to count.
two-factor-auth still makes and checks its tokens (TOTP), throttles wrong ones and draws its pages; the app counts
every token sent in its limits and pumping brake, delivers it through its SMS backends and audits it with channel
"two_factor".

Needs django-two-factor-auth 1.18 or later: pip install "django-phone-otp-verification[two-factor]". This module
imports nothing of it at load time; `connect_signals` (called by the app's ready() when the gateway is named)
does.
"""

from __future__ import annotations

import logging
import math

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from verification.contrib.relay import Channel, current_request, relay, verified
from verification.models import Flow
from verification.phone_numbers import mask
from verification.services import SendOutcome, SendResult, relayed_sms_body
from verification.templatetags.countdown import clock
from verification.views import SEND_FAILED, SEND_PROBLEMS

logger = logging.getLogger(__name__)


class DeliveryRefused(PermissionDenied):
    """The app did not deliver a token two-factor-auth asked for: a limit refused it, or the provider failed.

    Raised while a device is being set up, where two-factor-auth shows its own "We've encountered an issue with
    the selected authentication method" warning; a PermissionDenied, so a view that does not catch it answers
    403, never 500.
    """

    def __init__(self, message: str, result: SendResult) -> None:
        super().__init__(message)
        self.result = result


class Gateway:
    """Send two-factor-auth's tokens by text message (`send_sms`) or voice call (`make_call`) through the app."""

    def send_sms(self, device, token: str) -> None:
        """Deliver `token` to the device's number by text message."""
        self.deliver(device, token, via="sms")

    def make_call(self, device, token: str) -> None:
        """Deliver `token` to the device's number by voice call: read out digit by digit, twice, in the page's
        language (needs "call" in OTP_DELIVERY_METHODS and a backend that calls, such as twilio)."""
        self.deliver(device, token, via="call")

    def text(self, token: str) -> str:
        """Return the text message that carries `token` (a call reads the token out with words of its own)."""
        return relayed_sms_body(token)

    def deliver(self, device, token: str, *, via: str) -> None:
        """Deliver `token` through the send policy; report a refused or failed delivery as two-factor-auth can.

        The reason is an error message (Django's messages) for the page. While a device is set up (not saved yet)
        the refusal also raises DeliveryRefused, which two-factor-auth shows as its warning. At login (a saved
        device) two-factor-auth has no way to show one and would answer 500, so the message alone tells it, as
        its own throttling sends nothing silently; the person can still use a backup token or another device.
        """
        request = current_request()
        phone = device.number.as_e164
        # A device being set up proves its number; a saved one is the second factor of a login.
        flow = Flow.VERIFY if device.pk is None else Flow.SECOND_FACTOR
        result = relay(phone, self.text(token), request, Channel.TWO_FACTOR, flow, via=via, code=token)
        if result.outcome is SendOutcome.SENT:
            return
        message = refusal_message(result)
        logger.warning("two-factor token not delivered phone=%s via=%s outcome=%s", mask(phone), via, result.outcome)
        if request is not None:
            # At setup too: two-factor-auth's warning says only that something went wrong, this says what.
            messages.error(request, message, fail_silently=True)
        if device.pk is None or request is None:
            raise DeliveryRefused(message, result)


def refusal_message(result: SendResult) -> str:
    """Return what to tell the person about a token that was not delivered."""
    if result.outcome is SendOutcome.FAILED:
        return str(SEND_PROBLEMS.get(result.problem, SEND_FAILED))
    if result.outcome is SendOutcome.REFUSED:
        return " ".join(result.error.messages)
    if result.outcome is SendOutcome.COOLDOWN and result.retry_at is not None:
        wait = max(1, math.ceil((result.retry_at - timezone.now()).total_seconds()))
        # The page's own words for a resend too soon: the last code may still be on its way.
        return gettext("A code was already sent to this number. You can ask for a new one in %(wait)s.") % {
            "wait": clock(wait)
        }
    if result.retry_at is None:
        return gettext("Too many codes were sent. Try again later.")
    minutes = max(1, math.ceil((result.retry_at - timezone.now()).total_seconds() / 60))
    return ngettext(
        "Too many codes were sent. Try again in %(minutes)d minute.",
        "Too many codes were sent. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def connect_signals() -> None:
    """Tell the send policy when a person typed a token the gateway delivered: at login, and when a phone device
    is set up (two-factor-auth saves it only after its token was typed)."""
    from django.db.models.signals import post_save
    from two_factor.plugins.phonenumber.models import PhoneDevice
    from two_factor.signals import user_verified

    user_verified.connect(_user_verified, dispatch_uid="verification.contrib.two_factor.user_verified")
    post_save.connect(_device_saved, sender=PhoneDevice, dispatch_uid="verification.contrib.two_factor.device")


def _user_verified(sender, request=None, user=None, device=None, **kwargs) -> None:
    number = getattr(device, "number", None)
    if number is not None and getattr(device, "method", None) in ("sms", "call"):
        verified(number.as_e164, request, Channel.TWO_FACTOR, Flow.SECOND_FACTOR)


def _device_saved(sender, instance=None, created: bool = False, **kwargs) -> None:
    if created and instance.number:
        verified(instance.number.as_e164, current_request(), Channel.TWO_FACTOR, Flow.VERIFY)
