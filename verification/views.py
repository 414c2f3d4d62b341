"""Thin views: read the session, call a service, render or redirect on its outcome."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
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
from verification.conf import app_settings
from verification.countries import visitor_country
from verification.forms import CodeForm, PhoneForm
from verification.models import Flow, PhoneVerification
from verification.phone_numbers import display, mask
from verification.services import CheckOutcome, SendOutcome
from verification.session import SESSION_CHALLENGE, SESSION_NEXT, SESSION_PHONE, SESSION_VERIFIED_PHONE
from verification.shortcuts import logged_in_user
from verification.signals import announce_verified
from verification.sms import SmsProblem, receipts
from verification.templatetags.countdown import clock

EXPIRED = gettext_lazy("This code has expired or was already used. Ask for a new code.")
NUMBER_TAKEN = gettext_lazy(
    "This number is verified, but it already signs in to another account, so it was not added to yours for signing in."
)
#: Refusals about the way rather than the number: another way may still reach it.
VIA_RULES = frozenset({"via_not_enabled", "call_country_not_allowed"})
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


@dataclass(frozen=True)
class Pages:
    """One flow's pages: what it keeps in the session and where its steps are (URL names or paths)."""

    flow: Flow
    #: The session entries of the number being checked and of the id of its send.
    phone_entry: str
    challenge_entry: str
    #: Where a number is typed (or, for the second factor, where a new code is asked for).
    start: str
    verify: str
    resend: str
    locked: str
    #: Whether the pages offer to use another number.
    change_number: bool = True
    #: The JSON route that tells the code page's script how the last code went (DeliveryStatusView); "": none.
    status: str = ""

    def urls(self) -> dict[str, object]:
        """Return the flow's addresses, for the templates."""
        urls: dict[str, object] = {
            name: resolve_url(getattr(self, name)) for name in ("start", "verify", "resend", "locked")
        }
        return {**urls, "change_number": self.change_number, "status": resolve_url(self.status) if self.status else ""}


VERIFY_PAGES = Pages(
    Flow.VERIFY,
    SESSION_PHONE,
    SESSION_CHALLENGE,
    start="verification:phone",
    verify="verification:verify",
    resend="verification:resend",
    locked="verification:locked",
    status="verification:delivery-status",
)


class PagesMixin:
    """A view of one flow: `pages` says which; the templates get its addresses as `flow_urls`."""

    pages = VERIFY_PAGES

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(flow=self.pages.flow, flow_urls=self.pages.urls(), **kwargs)


class FlowRequiredMixin(PagesMixin):
    """Send visitors without a number in their session back to the flow's first page."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.phone = request.session.get(self.pages.phone_entry)
        # A method the view does not take is a 405 whatever the session holds.
        if not self.phone and request.method.lower() in self.http_method_names:
            return redirect(self.pages.start)
        return super().dispatch(request, *args, **kwargs)


#: The button that asks for the code another way.
ANOTHER_WAY = {
    "sms": gettext_lazy("Send a text instead"),
    "call": gettext_lazy("Call me instead"),
    "whatsapp": gettext_lazy("Send by WhatsApp instead"),
}


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


def _send(
    request: HttpRequest, phone: str, pages: Pages = VERIFY_PAGES, *, deliver: bool = True, via: str | None = None
) -> services.SendResult:
    """Ask for a code to `phone` (by `via`) on behalf of this browser, which the send limits count by IP and session.

    A browser without a session yet is counted by its IP alone: a session is created only once a code
    is sent, so refused requests of a client that keeps no cookie create no session rows.
    """
    return services.send_code(
        phone,
        timezone.now(),
        client_ip=client_ip(request),
        session_key=request.session.session_key,
        flow=pages.flow,
        deliver=deliver,
        via=via,
    )


def _delivery(phone: str, record: PhoneVerification | None, now) -> dict:
    """Return how the last code went, whether it failed, and the other ways the person may ask for."""
    via = record.last_via if record is not None and record.last_sent_at else services.first_via()
    undelivered = receipts.current_code_undelivered(record)
    others = [other for other in services.vias_for(phone) if other != via]
    return {
        "via": via,
        "undelivered": undelivered,
        "resend_in": _seconds_until(record.next_send_at, now) if record is not None and record.in_cooldown(now) else 0,
        "other_vias": others,
    }


def _after_send(request: HttpRequest, result: services.SendResult, pages: Pages = VERIFY_PAGES) -> HttpResponse | None:
    """Return the response for a send outcome, or None when the send failed or the number was refused."""
    now = timezone.now()
    if result.outcome is SendOutcome.RATE_LIMITED:
        wait = max(1, _seconds_until(result.retry_at, now))
        context = {"retry_at": result.retry_at, "retry_in": wait, "flow_urls": pages.urls()}
        response = render(request, "verification/rate_limited.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if result.outcome is SendOutcome.LOCKED:
        return redirect(pages.locked)
    if result.outcome is SendOutcome.COOLDOWN:
        messages.info(
            request,
            _("A code was already sent to this number. You can ask for a new one in %(wait)s.")
            % {"wait": clock(_seconds_until(result.retry_at, now))},
            fail_silently=True,
        )
        return redirect(pages.verify)
    if result.outcome is SendOutcome.SENT:
        request.session[pages.challenge_entry] = result.challenge
        return redirect(pages.verify)
    return None


@method_decorator(never_cache, name="dispatch")
class PhoneView(BotChallengeMixin, PagesMixin, FormView):
    http_method_names = ["get", "head", "post", "options"]
    template_name = "verification/phone.html"
    form_class = PhoneForm

    #: The session entry of the `next` this flow goes back to.
    next_entry = SESSION_NEXT

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return_to.remember(request, self.next_entry)
        # Before a number is typed, only the client's IP and the site's budget can call for a challenge.
        self.show_bot_challenge()
        return super().get(request, *args, **kwargs)

    def get_initial(self) -> dict:
        return {
            "phone": self.request.session.get(self.pages.phone_entry, ""),
            "country": visitor_country(self.request),
        }

    def deliver(self, phone: str) -> bool:
        """Return whether the code for `phone` is sent (it always is, but for a sign-in to no account)."""
        return True

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
        result = _send(self.request, phone, self.pages, deliver=self.deliver(phone), via=form.cleaned_data.get("via"))
        if result.outcome is SendOutcome.REFUSED:
            # A way this number may not get (calls to its country, say) belongs to the choice of way.
            field = "via" if "via" in form.fields and result.error.code in VIA_RULES else "phone"
            form.add_error(field, result.error)
            return self.form_invalid(form)
        if result.outcome not in (SendOutcome.FAILED, SendOutcome.RATE_LIMITED):
            self.request.session[self.pages.phone_entry] = phone
        response = _after_send(self.request, result, self.pages)
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
            return redirect(self.pages.locked)
        # Hand the row on so a page view reads it once; a POST shows the row as the check left it.
        return self.render_to_response(self.get_context_data(record=record))

    def get_context_data(self, record: PhoneVerification | None = None, **kwargs) -> dict:
        record = record or getattr(self, "record", None) or _record(self.phone)
        now = timezone.now()
        live = record is not None and record.has_live_code(now)
        cooldown = record is not None and record.in_cooldown(now)
        delivery = _delivery(self.phone, record, now)
        # The resend form asks for the challenge a resend would need (solved during the cooldown if need be).
        self.show_bot_challenge(self.phone)
        return super().get_context_data(
            masked_phone=mask(self.phone),
            via=delivery["via"],
            other_ways=[(other, ANOTHER_WAY[other]) for other in delivery["other_vias"]],
            expires_at=record.code_expires_at if live else None,
            expires_in=_seconds_until(record.code_expires_at, now) if live else 0,
            resend_at=record.next_send_at if cooldown else None,
            resend_in=_seconds_until(record.next_send_at, now) if cooldown else 0,
            undelivered=receipts.current_code_undelivered(record),
            **kwargs,
        )

    def checking_user(self):
        """Return the user a match is stored for (the logged-in one on the verification pages)."""
        return logged_in_user(self.request)

    def form_valid(self, form: CodeForm) -> HttpResponse:
        challenge = self.request.session.get(self.pages.challenge_entry, "")
        now = timezone.now()
        user = self.checking_user()
        result = services.check_code(
            self.phone,
            form.cleaned_data["code"],
            now,
            client_ip=client_ip(self.request),
            challenge=challenge,
            user=user,
            flow=self.pages.flow,
        )
        self.record = result.record
        if result.outcome is CheckOutcome.WRONG_SESSION:
            messages.error(
                self.request,
                _("This code was asked for in another browser or tab. Ask for a new code here to continue."),
                fail_silently=True,
            )
            return redirect(self.pages.start)
        if result.outcome is CheckOutcome.VERIFIED:
            response = self.verified(form, result, user, now)
            if response is not None:
                return response
        elif result.outcome is CheckOutcome.LOCKED:
            return redirect(self.pages.locked)
        if result.outcome in (CheckOutcome.EXPIRED, CheckOutcome.VERIFIED):
            form.add_error("code", EXPIRED)
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

    def verified(self, form: CodeForm, result: services.CheckResult, user, now) -> HttpResponse | None:
        """Answer a right code; None answers as for an expired one (the flow's own reasons)."""
        # A new session key, so a session id seen before verification is worth nothing after it.
        self.request.session.cycle_key()
        del self.request.session[SESSION_PHONE]
        self.request.session.pop(SESSION_CHALLENGE, None)
        self.request.session[SESSION_VERIFIED_PHONE] = self.phone
        if result.number_taken:
            messages.warning(self.request, NUMBER_TAKEN, fail_silently=True)
        announce_verified(self.phone, request=self.request, user=user, verified_at=now)
        return HttpResponseRedirect(return_to.destination(self.request))


@method_decorator(never_cache, name="dispatch")
class ResendView(BotChallengeMixin, FlowRequiredMixin, View):
    http_method_names = ["post"]

    def deliver(self) -> bool:
        """Return whether the new code is sent (it always is, but for a sign-in to no account)."""
        return True

    def send(self, via: str | None = None) -> services.SendResult:
        """Send the new code (by `via`; None: the first of OTP_DELIVERY_METHODS)."""
        return _send(self.request, self.phone, self.pages, deliver=self.deliver(), via=via)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        via = request.POST.get("via") or None
        if via is not None and via not in app_settings.delivery_methods:
            messages.error(request, _("Codes can't be sent this way here."), fail_silently=True)
            return redirect(self.pages.verify)
        screening = self.screen_bot_challenge(self.phone, timezone.now())
        if not screening.passed:
            # The code page shows the widget in its resend form while a resend needs it.
            messages.error(request, screening.message, fail_silently=True)
            return redirect(self.pages.verify)
        result = self.send(via)
        if result.outcome is SendOutcome.REFUSED and result.error.code in VIA_RULES:
            messages.error(request, result.error.messages[0], fail_silently=True)
            return redirect(self.pages.verify)
        if result.outcome is SendOutcome.REFUSED:
            # The rules changed since this number got its first code (OTP_ALLOWED_COUNTRIES, say).
            messages.error(request, result.error.messages[0], fail_silently=True)
            return redirect(self.pages.start)
        if result.outcome is SendOutcome.SENT:
            messages.success(
                request, _("A new code is on its way. The previous code no longer works."), fail_silently=True
            )
        response = _after_send(request, result, self.pages)
        if response is None:
            messages.error(request, SEND_PROBLEMS.get(result.problem, SEND_FAILED), fail_silently=True)
            return redirect(self.pages.verify)
        return response


@method_decorator(never_cache, name="dispatch")
class DeliveryStatusView(FlowRequiredMixin, View):
    """GET: how the last code went, as JSON for the code page's script (asked at most every 5 s).

    Each flow has its own (`pages.status`): it answers for the number in that flow's session entry only.
    """

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        now = timezone.now()
        delivery = _delivery(self.phone, _record(self.phone), now)
        return JsonResponse(delivery)


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
    pages = Pages(
        Flow.VERIFY,
        SESSION_VERIFIED_PHONE,
        SESSION_CHALLENGE,
        start="verification:phone",
        verify="verification:verify",
        resend="verification:resend",
        locked="verification:locked",
    )

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(display_phone=display(self.phone), **kwargs)
