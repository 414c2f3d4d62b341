"""Deliver a code another library made, on behalf of the request being served: its client address and session.

django-allauth keeps the request in a context variable of its own (`allauth.core.context`, set by its
AccountMiddleware); django-two-factor-auth hands its gateway a device and a token only, so `RequestMiddleware`
keeps the request here for it.

The request is screened by the bot challenge as the app's own pages are, before anything is claimed: the
library's form carries the widget (the `otp_bot_challenge` template tag) and its POST (or its JSON body, for
allauth's headless API) the token the widget gave.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone

from verification import bot_challenge, metrics, services
from verification.client_ip import client_ip
from verification.models import Flow, VerificationEvent

Channel = VerificationEvent.Channel

#: Set in the session when a relayed send was refused for want of a solved challenge, so that the library's form
#: shows the widget next time, even where the risk that asked for it lies with the number the form does not know.
CHALLENGE_ASKED = "verification_bot_challenge_asked"

_request: ContextVar[HttpRequest | None] = ContextVar("verification_request", default=None)


class RequestMiddleware:
    """Keep the request being served where the two-factor gateway finds it, for the per-IP and per-session limits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_request() -> HttpRequest | None:
    """Return the request RequestMiddleware is serving in this context, or None."""
    return _request.get()


def relay(
    phone: str,
    body: str,
    request: HttpRequest | None,
    channel: Channel,
    flow: Flow,
    via: str = "sms",
    code: str = "",
) -> services.SendResult:
    """Deliver `body` (or, by call, `code`) to `phone` through the send policy, counted for the client behind
    `request` (if known) and screened by the bot challenge; a send it stops is REFUSED (code "bot_challenge")."""
    session = getattr(request, "session", None) if request is not None else None
    if request is not None and bot_challenge.provider() is not None:
        screening = screen(request, phone)
        if not screening.passed:
            metrics.count(metrics.RELAYED, source=channel, result=services.SendOutcome.REFUSED.value)
            error = ValidationError(screening.message, code="bot_challenge")
            return services.SendResult(services.SendOutcome.REFUSED, error=error, via=via)
    return services.relay_code(
        phone,
        body,
        timezone.now(),
        client_ip=client_ip(request) if request is not None else None,
        session_key=session.session_key if session is not None else None,
        channel=channel,
        flow=flow,
        via=via,
        code=code,
    )


def verified(phone: str, request: HttpRequest | None, channel: Channel, flow: Flow) -> bool:
    """Tell the send policy a person typed the right code the library sent to `phone`."""
    return services.relay_verified(
        phone,
        timezone.now(),
        client_ip=client_ip(request) if request is not None else None,
        channel=channel,
        flow=flow,
    )


def screen(request: HttpRequest, phone: str) -> bot_challenge.Screening:
    """Screen a send to `phone` asked for by `request`; remember in its session whether a challenge is owed."""
    screening = bot_challenge.screen_request(request, token_of(request), phone=phone, now=timezone.now())
    session = getattr(request, "session", None)
    if session is not None:
        if screening.passed:
            session.pop(CHALLENGE_ASKED, None)
        else:
            session[CHALLENGE_ASKED] = True
    return screening


def challenge_asked(request: HttpRequest) -> bool:
    """Return whether a send asked for in this session was refused for want of a solved challenge."""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(CHALLENGE_ASKED))


def token_of(request: HttpRequest) -> object:
    """Return the token the widget gave: a form field, or the same name in a JSON body (allauth's headless API)."""
    token = bot_challenge.token_in(request.POST)
    chosen = bot_challenge.provider()
    if token is not None or chosen is None or request.content_type != "application/json":
        return token
    try:
        data = json.loads(request.body)
    except (ValueError, RawPostDataException):
        return None
    return data.get(chosen.response_field) if isinstance(data, dict) else None
