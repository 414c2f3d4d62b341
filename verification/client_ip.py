"""The address of the person behind a request, trusting only the proxies the operator declared."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from verification.conf import app_settings


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address.

    With OTP_TRUSTED_PROXY_COUNT = N > 0, take the N-th address from the right of
    X-Forwarded-For: each trusted proxy appends the address it saw, so addresses to the
    left of that are whatever the client chose to send and must not be believed.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = app_settings.trusted_proxy_count
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        # Fewer entries than proxies: the request skipped a proxy, so only the peer is known.
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
