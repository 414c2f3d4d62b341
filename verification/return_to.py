"""The way back to the host: the `next` address a flow starts with, and where a verified browser goes."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from verification.conf import app_settings
from verification.session import SESSION_NEXT


def is_allowed(request: HttpRequest, url: str) -> bool:
    """Return whether `url` stays on this host (or one in OTP_ALLOWED_REDIRECT_HOSTS), over HTTPS if this request is."""
    hosts = {request.get_host(), *app_settings.allowed_redirect_hosts}
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts, require_https=request.is_secure())


def remember(request: HttpRequest, entry: str = SESSION_NEXT) -> None:
    """Keep the request's `?next=` for the rest of the flow; an off-site one is dropped, and forgets any earlier one.

    `entry` is the session entry of the flow (the verification's by default, sign-in has its own).
    """
    if "next" not in request.GET:
        return
    url = request.GET["next"]
    if is_allowed(request, url):
        request.session[entry] = url
    else:
        request.session.pop(entry, None)


def destination(request: HttpRequest, entry: str = SESSION_NEXT, default: str | None = None) -> str:
    """Return where a browser goes once verified: its remembered `next`, else `default` (OTP_VERIFIED_REDIRECT_URL)."""
    url = request.session.pop(entry, None)
    # Checked again: the session may outlive a change of OTP_ALLOWED_REDIRECT_HOSTS, or come back over another host.
    if url and is_allowed(request, url):
        return url
    return resolve_url(default or app_settings.verified_redirect_url)
