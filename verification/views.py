"""Thin views: read the session, call a service, render or redirect on its outcome."""

from __future__ import annotations

import math

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from verification import bot_challenge, return_to, services
from verification.client_ip import client_ip
from verification.countries import visitor_country
from verification.forms import CodeForm, PhoneForm
from verification.models import PhoneVerification
from verification.phone_numbers import display, mask
from verification.services import CheckOutcome, SendOutcome
from verification.session import SESSION_CHALLENGE, SESSION_PHONE, SESSION_VERIFIED_PHONE
from verification.shortcuts import logged_in_user
from verification.signals import announce_verified
from verification.sms import SmsProblem, receipts
from verification.templatetags.countdown import clock

SEND_FAILED = gettext_lazy("We couldn't send the code right now, please try again.")
#: What the person can do about a send the provider refused; anything else is SEND_FAILED.
SEND_PROBLEMS = {
    SmsProblem.INVALID_NUMBER: gettext_lazy("This number can't receive SMS."),
    SmsProblem.COUNTRY_NOT_ALLOWED: gettext_lazy("We can't send to this country."),
    SmsProblem.OPTED_OUT: gettext_lazy("This number has opted out of SMS."),
}


def _record(phone: str) -> PhoneVerification | None:
    return receipts.with_latest_sms(PhoneVerification.objects.filter(phone=phone)).first()


def _seconds_until(moment, now) -> int:
    """Return whole seconds from `now` until `moment`, rounded up, never negative."""
    return max(0, math.ceil((moment - now).total_seconds()))


class FlowRequiredMixin:
    """Send visitors without a number in their session back to the phone page."""

    #: The session entry holding the number this view works on.
    phone_entry = SESSION_PHONE

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.phone = request.session.get(self.phone_entry)
        # A method the view does not take is a 405 whatever the session holds.
        if not self.phone and request.method.lower() in self.http_method_names:
            return redirect("verification:phone")
        return super().dispatch(request, *args, **kwargs)


class BotChallengeMixin:
    """For a view whose form asks for a code: the bot challenge's widget in its page, and its POST screened.

    The form's template includes "verification/_bot_challenge.html" (it shows `bot_challenge`, the widget,
    when there is one); the view calls `screen_bot_challenge(phone, now)` before services.send_code and sends
    nothing unless the screening `passed`, showing its `message` instead.
    """

    #: The widget the page shows (verification.bot_challenge.Widget), or None.
    bot_challenge: bot_challenge.Widget | None = None

    def show_bot_challenge(self, phone: str | None = None) -> bot_challenge.Widget | None:
        """Show the widget if a send (to `phone`, when known) from this client would need a challenge now."""
        self.bot_challenge = bot_challenge.needed(timezone.now(), phone=phone, client_ip=client_ip(self.request))
        return self.bot_challenge

    def screen_bot_challenge(self, phone: str, now) -> bot_challenge.Screening:
        """Screen a send to `phone` asked for by this POST; the widget is shown again unless it passed."""
        token = bot_challenge.token_in(self.request.POST)
        screening = bot_challenge.screen_request(self.request, token, phone=phone, now=now)
        if not screening.passed:
            self.bot_challenge = bot_challenge.widget()
        return screening

    def get_context_data(self, **kwargs) -> dict:
        kwargs.setdefault("bot_challenge", self.bot_challenge)
        return super().get_context_data(**kwargs)


def _send(request: HttpRequest, phone: str) -> services.SendResult:
    """Ask for a code to `phone` on behalf of this browser, which the send limits count by IP and session.

    A browser without a session yet is counted by its IP alone: a session is created only once a code
    is sent, so refused requests of a client that keeps no cookie create no session rows.
    """
    return services.send_code(
        phone, timezone.now(), client_ip=client_ip(request), session_key=request.session.session_key
    )


def _after_send(request: HttpRequest, result: services.SendResult) -> HttpResponse | None:
    """Return the response for a send outcome, or None when the send failed or the number was refused."""
    now = timezone.now()
    if result.outcome is SendOutcome.RATE_LIMITED:
        wait = max(1, _seconds_until(result.retry_at, now))
        context = {"retry_at": result.retry_at, "retry_in": wait}
        response = render(request, "verification/rate_limited.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if result.outcome is SendOutcome.LOCKED:
        return redirect("verification:locked")
    if result.outcome is SendOutcome.COOLDOWN:
        messages.info(
            request,
            _("A code was already sent to this number. You can ask for a new one in %(wait)s.")
            % {"wait": clock(_seconds_until(result.retry_at, now))},
            fail_silently=True,
        )
        return redirect("verification:verify")
    if result.outcome is SendOutcome.SENT:
        request.session[SESSION_CHALLENGE] = result.challenge
        return redirect("verification:verify")
    return None


@method_decorator(never_cache, name="dispatch")
class PhoneView(BotChallengeMixin, FormView):
    http_method_names = ["get", "head", "post", "options"]
    template_name = "verification/phone.html"
    form_class = PhoneForm

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return_to.remember(request)
        # Before a number is typed, only the client's IP and the site's budget can call for a challenge.
        self.show_bot_challenge()
        return super().get(request, *args, **kwargs)

    def get_initial(self) -> dict:
        return {"phone": self.request.session.get(SESSION_PHONE, ""), "country": visitor_country(self.request)}

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "now": timezone.now()}

    def form_invalid(self, form: PhoneForm) -> HttpResponse:
        if self.bot_challenge is None:
            self.show_bot_challenge(form.cleaned_data.get("phone"))
        return super().form_invalid(form)

    def form_valid(self, form: PhoneForm) -> HttpResponse:
        phone = form.cleaned_data["phone"]
        screening = self.screen_bot_challenge(phone, timezone.now())
        if not screening.passed:
            form.add_error(None, screening.message)
            return self.form_invalid(form)
        result = _send(self.request, phone)
        if result.outcome is SendOutcome.REFUSED:
            form.add_error("phone", result.error)
            return self.form_invalid(form)
        if result.outcome not in (SendOutcome.FAILED, SendOutcome.RATE_LIMITED):
            self.request.session[SESSION_PHONE] = phone
        response = _after_send(self.request, result)
        if response is None:
            # A problem with the number itself belongs to the phone field: that is what to change.
            field = "phone" if result.problem in SEND_PROBLEMS else None
            form.add_error(field, SEND_PROBLEMS.get(result.problem, SEND_FAILED))
            return self.form_invalid(form)
        return response


@method_decorator(never_cache, name="dispatch")
@method_decorator(sensitive_post_parameters("code"), name="dispatch")
class VerifyView(BotChallengeMixin, FlowRequiredMixin, FormView):
    http_method_names = ["get", "head", "post", "options"]
    template_name = "verification/verify.html"
    form_class = CodeForm

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        record = _record(self.phone)
        if record and record.is_locked(timezone.now()):
            return redirect("verification:locked")
        # Hand the row on so a page view reads it once; a POST shows the row as the check left it.
        return self.render_to_response(self.get_context_data(record=record))

    def get_context_data(self, record: PhoneVerification | None = None, **kwargs) -> dict:
        record = record or getattr(self, "record", None) or _record(self.phone)
        now = timezone.now()
        live = record is not None and record.has_live_code(now)
        cooldown = record is not None and record.in_cooldown(now)
        # The resend form asks for the challenge a resend would need (solved during the cooldown if need be).
        self.show_bot_challenge(self.phone)
        return super().get_context_data(
            masked_phone=mask(self.phone),
            expires_at=record.code_expires_at if live else None,
            expires_in=_seconds_until(record.code_expires_at, now) if live else 0,
            resend_at=record.next_send_at if cooldown else None,
            resend_in=_seconds_until(record.next_send_at, now) if cooldown else 0,
            undelivered=receipts.current_code_undelivered(record),
            **kwargs,
        )

    def form_valid(self, form: CodeForm) -> HttpResponse:
        challenge = self.request.session.get(SESSION_CHALLENGE, "")
        now = timezone.now()
        user = logged_in_user(self.request)
        result = services.check_code(
            self.phone,
            form.cleaned_data["code"],
            now,
            client_ip=client_ip(self.request),
            challenge=challenge,
            user=user,
        )
        self.record = result.record
        if result.outcome is CheckOutcome.WRONG_SESSION:
            messages.error(
                self.request,
                _("This code was asked for in another browser or tab. Ask for a new code here to continue."),
                fail_silently=True,
            )
            return redirect("verification:phone")
        if result.outcome is CheckOutcome.VERIFIED:
            # A new session key, so a session id seen before verification is worth nothing after it.
            self.request.session.cycle_key()
            del self.request.session[SESSION_PHONE]
            self.request.session.pop(SESSION_CHALLENGE, None)
            self.request.session[SESSION_VERIFIED_PHONE] = self.phone
            announce_verified(self.phone, request=self.request, user=user, verified_at=now)
            return HttpResponseRedirect(return_to.destination(self.request))
        if result.outcome is CheckOutcome.LOCKED:
            return redirect("verification:locked")
        if result.outcome is CheckOutcome.EXPIRED:
            form.add_error("code", _("This code has expired or was already used. Ask for a new code."))
        else:
            left = result.attempts_left
            form.add_error(
                "code",
                ngettext(
                    "OTP does not match. %(n)d attempt left before the number is locked.",
                    "OTP does not match. %(n)d attempts left before the number is locked.",
                    left,
                )
                % {"n": left},
            )
        return self.form_invalid(form)


@method_decorator(never_cache, name="dispatch")
class ResendView(BotChallengeMixin, FlowRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        screening = self.screen_bot_challenge(self.phone, timezone.now())
        if not screening.passed:
            # The code page shows the widget in its resend form while a resend needs it.
            messages.error(request, screening.message, fail_silently=True)
            return redirect("verification:verify")
        result = _send(request, self.phone)
        if result.outcome is SendOutcome.REFUSED:
            # The rules changed since this number got its first code (OTP_ALLOWED_COUNTRIES, say).
            messages.error(request, result.error.messages[0], fail_silently=True)
            return redirect("verification:phone")
        if result.outcome is SendOutcome.SENT:
            messages.success(
                request, _("A new code is on its way. The previous code no longer works."), fail_silently=True
            )
        response = _after_send(request, result)
        if response is None:
            messages.error(request, SEND_PROBLEMS.get(result.problem, SEND_FAILED), fail_silently=True)
            return redirect("verification:verify")
        return response


@method_decorator(never_cache, name="dispatch")
class LockedView(FlowRequiredMixin, TemplateView):
    template_name = "verification/locked.html"

    def get_context_data(self, **kwargs) -> dict:
        record = _record(self.phone)
        now = timezone.now()
        locked = record is not None and record.is_locked(now)
        return super().get_context_data(
            masked_phone=mask(self.phone),
            phone=self.phone,
            locked_until=record.locked_until if locked else None,
            locked_for=_seconds_until(record.locked_until, now) if locked else 0,
            **kwargs,
        )


@method_decorator(never_cache, name="dispatch")
class VerifiedView(FlowRequiredMixin, TemplateView):
    template_name = "verification/verified.html"
    phone_entry = SESSION_VERIFIED_PHONE

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(display_phone=display(self.phone), **kwargs)
