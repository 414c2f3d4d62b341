"""django-allauth's phone methods on the app's sign-in numbers, and its codes through the app's delivery and limits.

A project names `verification.contrib.allauth.AccountAdapter` in ACCOUNT_ADAPTER (or mixes it into its own
adapter). allauth still makes, times and checks its codes and draws its pages; this adapter stores each user's
number as the app's sign-in number (so allauth and the app's own sign-in see the same number), and hands every
text allauth sends to the app's send policy and SMS delivery: counted by the per-number, per-IP, per-session and
budget limits, stopped by the pumping brake, audited with channel "allauth". A send the policy refuses becomes
allauth's own rate-limit answer and sends nothing.

Needs django-allauth 65.6 or later: pip install "django-phone-otp-verification[allauth]".
"""

from __future__ import annotations

from typing import Any

from allauth import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse, RateLimited
from allauth.core.ratelimit import respond_429
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from verification.adapter import get_adapter as get_otp_adapter
from verification.auth import numbers
from verification.conf import app_settings
from verification.contrib.relay import Channel, relay, verified
from verification.limits.destinations import check_destination
from verification.models import Flow, PendingPhone
from verification.phone_numbers import to_e164
from verification.services import SendOutcome, SendResult, relayed_sms_body
from verification.sms import SmsDeliveryError, SmsProblem
from verification.views import SEND_FAILED, SEND_PROBLEMS


class SendRefused(ImmediateHttpResponse, RateLimited):
    """The app's send policy refused a text allauth asked for (a send limit, the brake, the cooldown, a lock).

    A RateLimited, so allauth's resend buttons show their own "too many requests" message; elsewhere allauth's
    AccountMiddleware answers with the response it carries: allauth's 429 (its page, or headless' JSON).
    """

    def __init__(self, request: HttpRequest, result: SendResult) -> None:
        super().__init__(respond_429(request))
        self.result = result


class SendFailed(ImmediateHttpResponse):
    """The provider did not take a text allauth asked for (or the number may not get one).

    On allauth's pages: back to the page, which shows the app's reason as an allauth error message. On its
    headless API: allauth's JSON error shape, 503 when no provider took the text (try again later), 400 when the
    number may not get one, with the app's reason as the error's message and its problem or rule as the code.
    """

    def __init__(self, request: HttpRequest, result: SendResult, message: str) -> None:
        if is_headless(request):
            from allauth.headless.base.response import APIResponse

            failed = result.outcome is SendOutcome.FAILED
            code = (result.problem or SmsProblem.UNAVAILABLE).value if failed else result.error.code
            response = APIResponse(request, errors=[{"message": message, "code": code}], status=503 if failed else 400)
        else:
            response = HttpResponseRedirect(request.get_full_path())
        super().__init__(response)
        self.result = result


def is_headless(request: HttpRequest) -> bool:
    """Return whether `request` is one of allauth's headless API calls (the test allauth's own respond_429 makes)."""
    return allauth_settings.HEADLESS_ENABLED and hasattr(getattr(request, "allauth", None), "headless")


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter with its phone methods on the app's sign-in numbers and its texts through the app."""

    # -- where numbers are kept ------------------------------------------------------------------------------

    def get_phone(self, user: AbstractBaseUser) -> tuple[str, bool] | None:
        """Return the number allauth should show for `user`: one given but not yet confirmed, else their sign-in
        number (verified), else None."""
        pending = PendingPhone.objects.filter(user=user).values_list("phone", flat=True).first()
        if pending:
            return pending, False
        phone = numbers.sign_in_number(user)
        return (phone, True) if phone else None

    def set_phone(self, user: AbstractBaseUser, phone: str, verified: bool) -> None:
        """Store `phone` for `user`: verified, it becomes their sign-in number; else it waits for its code."""
        if verified:
            self.set_phone_verified(user, phone)
            return
        if numbers.sign_in_number(user) == phone:
            PendingPhone.objects.filter(user=user).delete()
            return
        PendingPhone.objects.update_or_create(user=user, defaults={"phone": phone, "given_at": timezone.now()})

    def set_phone_verified(self, user: AbstractBaseUser, phone: str) -> None:
        """Make `phone`, whose code `user` just typed, their sign-in number, unless it signs in another account.

        A number already signing in someone else stays theirs (allauth checks this before it sends, so only a
        race gets here) and stays unconfirmed for `user`; the pumping brake learns that a person typed the code.
        """
        adapter = get_otp_adapter()
        if adapter.may_use_phone_sign_in(user) and numbers.set_sign_in_number(user, phone, timezone.now()):
            PendingPhone.objects.filter(user=user, phone=phone).delete()
        verified(phone, context.request, Channel.ALLAUTH, Flow.VERIFY)

    def get_user_by_phone(self, phone: str) -> AbstractBaseUser | None:
        """Return the account `phone` signs in (the app's OTP_ADAPTER decides), or None.

        A number given but not confirmed signs nobody in: whoever typed someone else's number at sign-up must
        not receive that person's login.
        """
        return get_otp_adapter().user_for_phone(phone)

    def clean_phone(self, phone: str) -> str:
        """Return the number in E.164, refusing one the app never sends codes to (country, number type)."""
        phone = super().clean_phone(phone)
        try:
            phone = to_e164(phone, app_settings.default_region)
        except ValueError as exc:
            raise ValidationError(_("Enter a valid phone number."), code="invalid_phone") from exc
        check_destination(phone)
        return phone

    # -- what allauth sends ----------------------------------------------------------------------------------

    def send_verification_code_sms(self, user: AbstractBaseUser, phone: str, code: str, **kwargs: Any) -> None:
        """Send allauth's code through the app's send policy and delivery."""
        # allauth's login (and reauthentication) by code passes `reauthentication`; its phone verification does not.
        flow = Flow.SIGN_IN if "reauthentication" in kwargs else Flow.VERIFY
        self.send_relayed_sms(phone, self.verification_code_text(code, **kwargs), flow)

    def send_unknown_account_sms(self, phone: str, **kwargs: Any) -> None:
        """Tell a number that signs in no account that someone asked for a code, counted like any send, so that
        the answers (429 included) are the same for a number with and without an account."""
        self.send_relayed_sms(phone, self.unknown_account_text(), Flow.SIGN_IN)

    def send_account_already_exists_sms(self, phone: str) -> None:
        """Tell a number's owner that someone tried to sign up with it, counted like any send."""
        self.send_relayed_sms(phone, self.account_already_exists_text(), Flow.VERIFY)

    def verification_code_text(self, code: str, **kwargs: Any) -> str:
        """Return the text that carries allauth's `code`."""
        return relayed_sms_body(code)

    def unknown_account_text(self) -> str:
        """Return the text sent when a code is asked for a number that signs in no account."""
        return gettext(
            "{app}: someone asked to sign in with this number, but no account uses it. If it was not you, "
            "ignore this message."
        ).format(app=app_settings.app_name)

    def account_already_exists_text(self) -> str:
        """Return the text sent when someone signs up with a number that already signs in an account."""
        return gettext(
            "{app}: someone tried to sign up with this number, but an account already uses it. Sign in instead; "
            "if it was not you, ignore this message."
        ).format(app=app_settings.app_name)

    def send_relayed_sms(self, phone: str, body: str, flow: Flow) -> None:
        """Send `body` to `phone` through the send policy; raise SendRefused or SendFailed when it is not sent."""
        request = context.request or self.request
        result = relay(phone, body, request, Channel.ALLAUTH, flow)
        if result.outcome is SendOutcome.SENT:
            return
        if request is None:
            # Called outside a request (a shell, a task): allauth's own exceptions, no page to answer with.
            if result.outcome in (SendOutcome.FAILED, SendOutcome.REFUSED):
                raise SmsDeliveryError(
                    f"code not sent: {result.outcome.value}", problem=result.problem or SmsProblem.UNAVAILABLE
                )
            raise RateLimited
        if result.outcome in (SendOutcome.FAILED, SendOutcome.REFUSED):
            if result.outcome is SendOutcome.FAILED:
                message = SEND_PROBLEMS.get(result.problem, SEND_FAILED)
            else:
                message = " ".join(result.error.messages)
            self.add_message(request, messages.ERROR, message=str(message))
            raise SendFailed(request, result, str(message))
        # A limit, the brake, the cooldown or a lock: what allauth's own limits would have answered.
        raise SendRefused(request, result)
