"""Deliver a code another library made, on behalf of the request being served: its client address and session.

django-allauth keeps the request in a context variable of its own (`allauth.core.context`, set by its
AccountMiddleware); django-two-factor-auth hands its gateway a device and a token only, so `RequestMiddleware`
keeps the request here for it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from verification import services
from verification.client_ip import client_ip
from verification.models import Flow, VerificationEvent

Channel = VerificationEvent.Channel

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
    `request` (if known)."""
    session = getattr(request, "session", None) if request is not None else None
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
