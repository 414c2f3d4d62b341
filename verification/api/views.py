"""The API's two endpoints: thin views that read the clock, call the same services as the pages, answer in JSON."""

from __future__ import annotations

import math
from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from verification import bot_challenge, services
from verification.adapter import get_adapter
from verification.api.challenge import Challenge, new_session
from verification.api.http import ApiError, answer, read_object
from verification.api.token import make_token
from verification.client_ip import client_ip
from verification.conf import app_settings
from verification.forms import CodeForm, PhoneForm
from verification.services import Channel, CheckOutcome, SendOutcome
from verification.shortcuts import logged_in_user
from verification.signals import announce_verified
from verification.templatetags.countdown import clock
from verification.views import NUMBER_TAKEN, SEND_FAILED, SEND_PROBLEMS, VIA_RULES


def _seconds_until(moment: datetime, now: datetime) -> int:
    """Return whole seconds from `now` until `moment`, rounded up, never negative."""
    return max(0, math.ceil((moment - now).total_seconds()))


def _retry_in(moment: datetime, now: datetime) -> int:
    """Return the seconds to wait until `moment`, at least 1: what Retry-After can say."""
    return max(1, _seconds_until(moment, now))


def _locked(locked_until: datetime, now: datetime) -> ApiError:
    wait = _retry_in(locked_until, now)
    return ApiError(
        423,
        "locked",
        _("Too many wrong codes: this number is locked. Try again in %(wait)s.") % {"wait": clock(wait)},
        retry_in=wait,
    )


def _unknown_challenge() -> ApiError:
    return ApiError(
        404,
        "unknown_challenge",
        _("This challenge is not the number's current one: a newer code replaced it, or it was never issued."),
    )


def _bot_challenge_failed(screening: bot_challenge.Screening) -> ApiError:
    """Return the error for a send that needed a bot challenge and did not pass one: the widget to show."""
    widget = bot_challenge.widget()
    fields = {"provider": widget.provider, "site_key": widget.site_key}
    if screening.outcome is bot_challenge.Outcome.UNREACHABLE:
        # Failed closed: the token may still be good, so the client tries again with it in a moment.
        return ApiError(503, "bot_challenge_unavailable", screening.message, **fields)
    reason = "missing" if screening.missing else "rejected"
    return ApiError(400, "bot_challenge_failed", screening.message, reason=reason, **fields)


def _string_fields(data: dict[str, object], *names: str) -> dict[str, str] | None:
    """Return the named fields as a form's data ("" when absent or null), or None if one is not a string."""
    fields = {name: data.get(name) for name in names}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        return None
    return {name: value or "" for name, value in fields.items()}


def _caller(request: HttpRequest) -> AbstractBaseUser | None:
    """Return the user the host authenticated this call as; a login known only from the session cookie is not one.

    The API takes no session authentication (so it needs no CSRF token): a host that authenticates API
    calls sets request.user in its own middleware, from a bearer token say.
    """
    user = logged_in_user(request)
    session = getattr(request, "session", None)
    if user is None or session is None:
        return user
    from_session = session.get(SESSION_KEY) == user._meta.pk.value_to_string(user)
    return None if from_session else user


@method_decorator([csrf_exempt, never_cache], name="dispatch")
class ApiView(View):
    """JSON in and out, in the language of the request's Accept-Language; POST only."""

    http_method_names = ["post"]

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            try:
                response = super().dispatch(request, *args, **kwargs)
            except ApiError as error:
                response = error.response()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Accept-Language"])
        return response

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        raise ApiError(405, "method_not_allowed", _("Only POST requests are answered here."), headers={"Allow": "POST"})


class SendView(ApiView):
    """POST {"phone", "country"?, "challenge"?, "via"?, "bot_challenge"?}: send a code; 201 with the challenge.

    "via" is how the code travels (default the first of OTP_DELIVERY_METHODS); one not enabled or not allowed
    for the number is 400 invalid_via.

    "bot_challenge" is the token of the bot challenge's widget, needed only when the send looks risky (or
    always, by OTP_BOT_CHALLENGE_WHEN): without a passing one the answer is 400 bot_challenge_failed, naming
    the provider and its site key so the client can show the widget.
    """

    def post(self, request: HttpRequest) -> HttpResponse:
        data = read_object(request)
        phone = self._phone(data)
        via = self._via(data)
        previous = None
        if data.get("challenge") is not None:
            previous = Challenge.read(data["challenge"])
            if previous is None:
                raise _unknown_challenge()
        now = timezone.now()
        screening = bot_challenge.screen_request(request, data.get("bot_challenge"), phone=phone, now=now)
        if not screening.passed:
            raise _bot_challenge_failed(screening)
        # The client id a challenge carries stands in for a browser's session key in the per-session limit; a
        # client without one is counted by its IP alone, like a browser whose session starts with its first code.
        session = previous.session if previous else None
        result = services.send_code(
            phone, now, client_ip=client_ip(request), session_key=session, channel=Channel.API, via=via
        )
        if result.outcome is SendOutcome.SENT:
            body = {
                "challenge": Challenge(phone, result.challenge, session or new_session()).signed(),
                "expires_in": _seconds_until(result.expires_at, now),
                "resend_in": _seconds_until(result.retry_at, now),
                "via": result.via,
            }
            return answer(body, 201)
        raise self._refusal(result, now, phone)

    def _phone(self, data: dict[str, object]) -> str:
        """Return the number in E.164, or raise invalid_phone with the phone form's reason."""
        fields = _string_fields(data, "phone", "country")
        # Clients send ASCII: digits of other scripts, which the pages take from people's keyboards, are refused.
        if fields is None or not fields["phone"].isascii():
            raise ApiError(400, "invalid_phone", _("That is not a valid phone number."), reason="invalid_phone")
        form = PhoneForm(data=fields, now=timezone.now())
        if not form.is_valid():
            # The form's first error: an unknown country comes before the number it leaves unreadable.
            error = next(iter(form.errors.as_data().values()))[0]
            raise ApiError(400, "invalid_phone", error.messages[0], reason=error.code or "invalid_phone")
        return form.cleaned_data["phone"]

    def _via(self, data: dict[str, object]) -> str:
        """Return the way the client asks for (the first of OTP_DELIVERY_METHODS if none), or raise invalid_via."""
        via = data.get("via")
        if via is None:
            return services.first_via()
        if not isinstance(via, str) or via not in app_settings.delivery_methods:
            enabled = ", ".join(app_settings.delivery_methods)
            message = _("Codes can't be sent this way here. Ways offered: %(vias)s.") % {"vias": enabled}
            raise ApiError(
                400, "invalid_via", message, rule="via_not_enabled", vias=list(app_settings.delivery_methods)
            )
        return via

    def _refusal(self, result: services.SendResult, now: datetime, phone: str) -> ApiError:
        """Return the error for a send that did not happen."""
        if result.outcome is SendOutcome.REFUSED and result.error.code in VIA_RULES:
            vias = services.vias_for(phone)
            return ApiError(400, "invalid_via", result.error.messages[0], rule=result.error.code, vias=vias)
        if result.outcome is SendOutcome.REFUSED:
            return ApiError(
                400,
                "invalid_phone",
                result.error.messages[0],
                reason="destination_refused",
                rule=result.error.code,
            )
        if result.outcome is SendOutcome.LOCKED:
            return _locked(result.retry_at, now)
        if result.outcome is SendOutcome.COOLDOWN:
            wait = _retry_in(result.retry_at, now)
            message = _("A code was already sent to this number. You can ask for a new one in %(wait)s.")
            return ApiError(429, "cooldown", message % {"wait": clock(wait)}, retry_in=wait)
        if result.outcome is SendOutcome.RATE_LIMITED:
            wait = _retry_in(result.retry_at, now)
            message = _("Too many codes asked for. You can ask for a code again in %(wait)s.")
            return ApiError(429, "rate_limited", message % {"wait": clock(wait)}, limit=result.limit, retry_in=wait)
        return ApiError(
            503,
            "send_failed",
            SEND_PROBLEMS.get(result.problem, SEND_FAILED),
            problem=result.problem.value,
        )


class CheckView(ApiView):
    """POST {"challenge", "code"}: check a code; 200 with a signed token once the number is verified."""

    @sensitive_variables("data", "fields", "form")
    def post(self, request: HttpRequest) -> HttpResponse:
        data = read_object(request)
        fields = _string_fields(data, "code")
        form = CodeForm(data=fields) if fields is not None else None
        if form is None or not form.is_valid():
            message = form.errors["code"][0] if form is not None else CodeForm().wrong_length_message()
            raise ApiError(400, "invalid_code", message)
        challenge = Challenge.read(data.get("challenge"))
        if challenge is None:
            raise _unknown_challenge()
        now = timezone.now()
        user = _caller(request)
        result = services.check_code(
            challenge.phone,
            form.cleaned_data["code"],
            now,
            client_ip=client_ip(request),
            challenge=challenge.send,
            user=user,
            channel=Channel.API,
        )
        if result.outcome is CheckOutcome.VERIFIED:
            announce_verified(challenge.phone, request=request, user=user, verified_at=now, channel=Channel.API)
            body = {"verified": True, "phone": challenge.phone, "token": make_token(challenge.phone)}
            if user is not None and get_adapter().may_use_phone_sign_in(user):
                body["sign_in_number"] = "taken" if result.number_taken else "set"
                if result.number_taken:
                    body["notice"] = str(NUMBER_TAKEN)
            return answer(body)
        if result.outcome is CheckOutcome.MISMATCH:
            left = result.attempts_left
            message = ngettext(
                "OTP does not match. %(n)d attempt left before the number is locked.",
                "OTP does not match. %(n)d attempts left before the number is locked.",
                left,
            ) % {"n": left}
            raise ApiError(400, "mismatch", message, attempts_left=left)
        if result.outcome is CheckOutcome.LOCKED:
            raise _locked(result.locked_until, now)
        if result.outcome is CheckOutcome.WRONG_SESSION:
            raise _unknown_challenge()
        raise ApiError(410, "expired", _("This code has expired or was already used. Ask for a new code."))
