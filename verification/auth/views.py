"""Signing in with a phone: passwordless sign-in, and the second factor after a password.

The pages are the verification pages with another `Pages` (their own session entries, routes and flow), so
the send limits, the lock, the countdowns and the resend behave exactly alike. `LoginView` is a drop-in for
django.contrib.auth.views.LoginView; `verification.auth.admin_login.AdminLoginView` routes the admin's login
through it when OTP_ADMIN_SECOND_FACTOR is on.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView, TemplateView

from verification import audit, metrics, return_to, services
from verification.adapter import get_adapter
from verification.auth import numbers, pending, remember
from verification.auth.forms import SecondFactorCodeForm
from verification.client_ip import client_ip
from verification.conf import app_settings
from verification.countries import visitor_country
from verification.forms import PhoneForm
from verification.models import Flow
from verification.phone_numbers import mask
from verification.services import SendOutcome
from verification.session import (
    SESSION_SECOND_FACTOR_CHALLENGE,
    SESSION_SECOND_FACTOR_PHONE,
    SESSION_SIGN_IN_CHALLENGE,
    SESSION_SIGN_IN_NEXT,
    SESSION_SIGN_IN_PHONE,
)
from verification.signals import announce_signed_in
from verification.views import (
    SEND_FAILED,
    SEND_PROBLEMS,
    VIA_RULES,
    BotChallengeMixin,
    DeliveryStatusView,
    LockedView,
    Pages,
    PagesMixin,
    PhoneView,
    ResendView,
    VerifyView,
    _after_send,
    _send,
)

SIGN_IN_PAGES = Pages(
    Flow.SIGN_IN,
    SESSION_SIGN_IN_PHONE,
    SESSION_SIGN_IN_CHALLENGE,
    start="verification:sign-in",
    verify="verification:sign-in-verify",
    resend="verification:sign-in-resend",
    locked="verification:sign-in-locked",
    status="verification:sign-in-status",
)
SECOND_FACTOR_PAGES = Pages(
    Flow.SECOND_FACTOR,
    SESSION_SECOND_FACTOR_PHONE,
    SESSION_SECOND_FACTOR_CHALLENGE,
    start="verification:second-factor",
    verify="verification:second-factor-verify",
    resend="verification:second-factor-resend",
    locked="verification:second-factor-locked",
    change_number=False,
    status="verification:second-factor-status",
)
SIGN_IN_AGAIN = gettext_lazy("Your sign-in has expired. Please sign in again.")
SETUP_NUMBER_TAKEN = gettext_lazy("This number signs in to another account. Use another number.")


def complete_login(
    request: HttpRequest, user: AbstractBaseUser, backend: str, phone: str, flow: Flow, *, created: bool = False
) -> None:
    """Log `user` in after a right code: Django's login() (new session key, user_logged_in), audit, signal."""
    login(request, user, backend=backend)
    now = timezone.now()
    with transaction.atomic():
        audit.record(audit.Kind.SIGNED_IN, phone, client_ip=client_ip(request), channel="web", flow=flow, now=now)
        metrics.count(metrics.SIGN_INS, flow=flow.value)
        announce_signed_in(phone, request=request, user=user, flow=flow, created=created)


# Passwordless sign-in.


class SignInView(PhoneView):
    """Type a number; a code goes to it if it signs in an account (or sign-up is on). Every number gets the same
    answer: one for no account is claimed and stored like any other, only never sent."""

    template_name = "verification/sign_in.html"
    pages = SIGN_IN_PAGES
    next_entry = SESSION_SIGN_IN_NEXT

    def deliver(self, phone: str) -> bool:
        return app_settings.sign_up or get_adapter().user_for_phone(phone) is not None


class SignInResendView(ResendView):
    pages = SIGN_IN_PAGES

    def deliver(self) -> bool:
        return app_settings.sign_up or get_adapter().user_for_phone(self.phone) is not None


class SignInLockedView(LockedView):
    pages = SIGN_IN_PAGES


class SignInStatusView(DeliveryStatusView):
    pages = SIGN_IN_PAGES


class SignInVerifyView(VerifyView):
    pages = SIGN_IN_PAGES

    def checking_user(self):
        # Nobody is logged in by the check itself: the number decides who, once the code is right.
        return None

    def verified(self, form, result, user, now) -> HttpResponse | None:
        adapter = get_adapter()
        user = adapter.user_for_phone(self.phone)
        created = False
        if user is None and app_settings.sign_up:
            with transaction.atomic():
                user = adapter.create_user(self.request, self.phone)
                created = numbers.set_sign_in_number(user, self.phone, now)
                if not created:
                    # Another sign-up took the number meanwhile: sign in the account it signs in now.
                    transaction.set_rollback(True)
            user = user if created else adapter.user_for_phone(self.phone)
        if user is None:
            # A withheld code guessed right: answered as an expired code, as if nothing happened.
            return None
        destination = return_to.destination(self.request, SESSION_SIGN_IN_NEXT, settings.LOGIN_REDIRECT_URL)
        for name in (SESSION_SIGN_IN_PHONE, SESSION_SIGN_IN_CHALLENGE):
            self.request.session.pop(name, None)
        complete_login(self.request, user, adapter.login_backend(user), self.phone, Flow.SIGN_IN, created=created)
        return HttpResponseRedirect(destination)


# The second factor.


def _second_factor_send(request: HttpRequest, phone: str, via: str | None = None) -> services.SendResult:
    result = _send(request, phone, SECOND_FACTOR_PAGES, via=via)
    if result.outcome is SendOutcome.SENT:
        pending.extend(request, result.expires_at)
    return result


@method_decorator(sensitive_post_parameters(), name="dispatch")
@method_decorator(never_cache, name="dispatch")
class LoginView(auth_views.LoginView):
    """django.contrib.auth.views.LoginView, with a code to the user's sign-in number between password and login.

    The password is checked by Django's AuthenticationForm (authenticate(): django-axes counts failures); a user
    without a sign-in number logs in with the password alone unless OTP_SECOND_FACTOR_REQUIRED, and a browser
    remembered for the user (OTP_REMEMBER_BROWSER_DAYS) skips the code.
    """

    #: Whether a user without a sign-in number must add one; None: as the adapter says (OTP_SECOND_FACTOR_REQUIRED).
    number_required: bool | None = None

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        adapter = get_adapter()
        phone = numbers.sign_in_number(user) if adapter.may_use_phone_sign_in(user) else None
        required = adapter.second_factor_required(user) if self.number_required is None else self.number_required
        if phone is None and not required:
            return super().form_valid(form)
        if remember.is_remembered(self.request, user):
            return super().form_valid(form)
        backend = getattr(user, "backend", None) or adapter.login_backend(user)
        pending.start(self.request, user, backend, self.get_success_url(), timezone.now())
        if phone is None:
            return redirect(SECOND_FACTOR_PAGES.start)
        self.request.session[SESSION_SECOND_FACTOR_PHONE] = phone
        result = _second_factor_send(self.request, phone)
        response = _after_send(self.request, result, SECOND_FACTOR_PAGES)
        if response is not None:
            return response
        # No code could be sent (provider down, number refused): say so on the login page, log nobody in.
        pending.forget(self.request)
        problem = result.error.messages[0] if result.error is not None else None
        form.add_error(None, problem or SEND_PROBLEMS.get(result.problem, SEND_FAILED))
        return self.form_invalid(form)


class PendingRequiredMixin:
    """Send a browser without a live pending login back to the login page."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method.lower() in self.http_method_names:
            self.pending = pending.read(request, timezone.now())
            if self.pending is None:
                messages.info(request, SIGN_IN_AGAIN, fail_silently=True)
                return redirect(settings.LOGIN_URL)
        return super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class SecondFactorView(PendingRequiredMixin, BotChallengeMixin, PagesMixin, FormView):
    """Ask for a (new) code to the pending user's own number; a user who must add one types it here."""

    http_method_names = ["get", "head", "post", "options"]
    template_name = "verification/second_factor.html"
    form_class = PhoneForm
    pages = SECOND_FACTOR_PAGES

    def own_number(self) -> str | None:
        return numbers.sign_in_number(self.pending.user)

    def get_form(self, form_class=None):
        return None if self.own_number() else super().get_form(form_class)

    def get_initial(self) -> dict:
        return {"country": visitor_country(self.request)}

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.show_bot_challenge(self.own_number())
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        own = self.own_number()
        return super().get_context_data(
            masked_phone=mask(own) if own else "", login_url=resolve_url(settings.LOGIN_URL), **kwargs
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        own = self.own_number()
        if own:
            # The code goes to the account's own number, whatever was posted.
            return self.send_to(own, None)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: PhoneForm) -> HttpResponse:
        phone = form.cleaned_data["phone"]
        if numbers.owner_of(phone) not in (None, self.pending.user):
            form.add_error("phone", SETUP_NUMBER_TAKEN)
            return self.form_invalid(form)
        return self.send_to(phone, form)

    def send_to(self, phone: str, form: PhoneForm | None) -> HttpResponse:
        screening = self.screen_bot_challenge(phone, timezone.now())
        if not screening.passed:
            # Nothing is sent: the page shows the widget again with why.
            if form is not None:
                form.add_error(None, screening.message)
                return self.form_invalid(form)
            return self.render_to_response(self.get_context_data(bot_challenge_message=screening.message))
        via = form.cleaned_data.get("via") if form is not None else None
        result = _second_factor_send(self.request, phone, via)
        if result.outcome is SendOutcome.REFUSED and form is not None:
            # A way this number may not get (calls to its country, say) belongs to the choice of way.
            field = "via" if "via" in form.fields and result.error.code in VIA_RULES else "phone"
            form.add_error(field, result.error)
            return self.form_invalid(form)
        if result.outcome not in (SendOutcome.FAILED, SendOutcome.RATE_LIMITED, SendOutcome.REFUSED):
            self.request.session[SESSION_SECOND_FACTOR_PHONE] = phone
        response = _after_send(self.request, result, self.pages)
        if response is not None:
            return response
        message = result.error.messages[0] if result.error is not None else None
        message = message or SEND_PROBLEMS.get(result.problem, SEND_FAILED)
        if form is not None:
            form.add_error(None, message)
            return self.form_invalid(form)
        messages.error(self.request, message, fail_silently=True)
        return redirect(self.pages.start)


class SecondFactorVerifyView(PendingRequiredMixin, VerifyView):
    pages = SECOND_FACTOR_PAGES
    form_class = SecondFactorCodeForm

    def checking_user(self):
        return None

    def verified(self, form, result, user, now) -> HttpResponse | None:
        target = self.pending.user
        own = numbers.sign_in_number(target)
        if own is None:
            # OTP_SECOND_FACTOR_REQUIRED: the number just verified becomes the account's sign-in number.
            if not numbers.set_sign_in_number(target, self.phone, now):
                self.request.session.pop(SESSION_SECOND_FACTOR_PHONE, None)
                messages.error(self.request, SETUP_NUMBER_TAKEN, fail_silently=True)
                return redirect(self.pages.start)
        elif own != self.phone:
            # The account's number changed since the code was sent: start again.
            pending.forget(self.request)
            messages.info(self.request, SIGN_IN_AGAIN, fail_silently=True)
            return redirect(settings.LOGIN_URL)
        next_url = self.pending.next_url
        backend = self.pending.backend
        pending.forget(self.request)
        complete_login(self.request, target, backend, self.phone, Flow.SECOND_FACTOR)
        if not (next_url and return_to.is_allowed(self.request, next_url)):
            next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
        response = HttpResponseRedirect(next_url)
        if form.cleaned_data.get("remember"):
            remember.remember(response, self.request, target)
        return response


class SecondFactorResendView(PendingRequiredMixin, ResendView):
    pages = SECOND_FACTOR_PAGES

    def send(self, via: str | None = None) -> services.SendResult:
        return _second_factor_send(self.request, self.phone, via)


class SecondFactorLockedView(PendingRequiredMixin, LockedView):
    pages = SECOND_FACTOR_PAGES


class SecondFactorStatusView(PendingRequiredMixin, DeliveryStatusView):
    pages = SECOND_FACTOR_PAGES


@method_decorator(never_cache, name="dispatch")
class SignedInView(TemplateView):
    """Who is signed in, and a way out: where the standalone site lands after a login."""

    template_name = "verification/signed_in.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        phone = numbers.sign_in_number(self.request.user)
        return super().get_context_data(masked_phone=mask(phone) if phone else "", **kwargs)
