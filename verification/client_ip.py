"""The address of the person behind a request, trusting only the proxies the operator declared."""

from __future__ import annotations

import ipaddress
import logging
import threading

from django.http import HttpRequest

from verification.conf import app_settings

logger = logging.getLogger(__name__)

#: Set once this process has warned that X-Forwarded-For is being ignored.
_ignored_forwarding = threading.Event()
_warning_lock = threading.Lock()


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address.

    With OTP_TRUSTED_PROXY_COUNT = N > 0, take the N-th address from the right of
    X-Forwarded-For: each trusted proxy appends the address it saw, so addresses to the
    left of that are whatever the client chose to send and must not be believed.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = app_settings.trusted_proxy_count
    if hops <= 0:
        if "HTTP_X_FORWARDED_FOR" in request.META and not _ignored_forwarding.is_set():
            _warn_forwarding_ignored()
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


def _warn_forwarding_ignored() -> None:
    """Say once per process that a proxy seems to be in front while every client is taken for the TCP peer."""
    with _warning_lock:
        if _ignored_forwarding.is_set():
            return
        _ignored_forwarding.set()
    # Once: a line per request would flood the log, and the header's content is the client's to choose.
    logger.warning(
        "X-Forwarded-For received but OTP_TRUSTED_PROXY_COUNT is 0: client IPs are taken from REMOTE_ADDR. "
        "Behind reverse proxies, set OTP_TRUSTED_PROXY_COUNT to their number, or every client shares the "
        "proxy's per-IP limit."
    )
