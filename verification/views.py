"""Thin views: read the session, call a service, render or redirect on its outcome."""

from __future__ import annotations

import math

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from verification import return_to, services
from verification.client_ip import client_ip
from verification.conf import app_settings
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


#: The button that asks for the code another way.
ANOTHER_WAY = {
    "sms": gettext_lazy("Send a text instead"),
    "call": gettext_lazy("Call me instead"),
    "whatsapp": gettext_lazy("Send by WhatsApp instead"),
}


def _send(request: HttpRequest, phone: str, via: str | None = None) -> services.SendResult:
    """Ask for a code to `phone` (by `via`) on behalf of this browser, which the send limits count by IP and session.

    A browser without a session yet is counted by its IP alone: a session is created only once a code
    is sent, so refused requests of a client that keeps no cookie create no session rows.
    """
    return services.send_code(
        phone, timezone.now(), client_ip=client_ip(request), session_key=request.session.session_key, via=via
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
class PhoneView(FormView):
    http_method_names = ["get", "head", "post", "options"]
    template_name = "verification/phone.html"
    form_class = PhoneForm

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return_to.remember(request)
        return super().get(request, *args, **kwargs)

    def get_initial(self) -> dict:
        return {"phone": self.request.session.get(SESSION_PHONE, ""), "country": visitor_country(self.request)}

    def form_valid(self, form: PhoneForm) -> HttpResponse:
        phone = form.cleaned_data["phone"]
        result = _send(self.request, phone, form.cleaned_data.get("via"))
        if result.outcome is SendOutcome.REFUSED:
            # A way this number may not get (calls to its country, say) belongs to the choice of way.
            field = "via" if "via" in form.fields and result.error.code in VIA_RULES else "phone"
            form.add_error(field, result.error)
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
class VerifyView(FlowRequiredMixin, FormView):
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
        delivery = _delivery(self.phone, record, now)
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
class ResendView(FlowRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        via = request.POST.get("via") or None
        if via is not None and via not in app_settings.delivery_methods:
            messages.error(request, _("Codes can't be sent this way here."), fail_silently=True)
            return redirect("verification:verify")
        result = _send(request, self.phone, via)
        if result.outcome is SendOutcome.REFUSED and result.error.code in VIA_RULES:
            messages.error(request, result.error.messages[0], fail_silently=True)
            return redirect("verification:verify")
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
class DeliveryStatusView(FlowRequiredMixin, View):
    """GET: how the last code went, as JSON for the code page's script (asked at most every 5 s)."""

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
    phone_entry = SESSION_VERIFIED_PHONE

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(display_phone=display(self.phone), **kwargs)
