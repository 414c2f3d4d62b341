"""Sliding-window send limits per number, client IP, browser session and for the whole site.

Counts live where every worker and host sees them (see `backends/`): the database by default, Redis
when the default cache is Redis (with the database taking over while Redis is unreachable).
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from verification.conf import LIMIT_SETTINGS, app_settings
from verification.limits.backends.base import BaseCounterBackend, Limit, Receipt
from verification.limits.rates import Rate
from verification.limits.refusal import Reason, Refusal

logger = logging.getLogger(__name__)

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
DATABASE_BACKEND = "verification.limits.backends.database.CounterBackend"
FALLBACK_BACKEND = "verification.limits.backends.fallback.CounterBackend"
BUDGET_KEY = "all"


def _limit(scope: str, key: str) -> Limit:
    return Limit(scope, key, app_settings.send_limits(scope))


def limits_for_send(phone: str, client_ip: str | None = None, session_key: str | None = None) -> list[Limit]:
    """Return the limits a send to `phone` from this client must pass; a scope with no rates is left out."""
    limits = [number_limit(phone)]
    if client_ip:
        limits.append(ip_limit(client_ip))
    if session_key:
        # A session key is a credential: only a keyed hash of it is stored.
        limits.append(_limit("session", salted_hmac("verification.send_limits", session_key).hexdigest()[:32]))
    limits.append(budget_limit())
    return [limit for limit in limits if limit.rates]


def number_limit(phone: str) -> Limit:
    """Return the per-number limit of `phone`."""
    return _limit("number", phone)


def ip_limit(client_ip: str) -> Limit:
    """Return the per-IP limit of the client at `client_ip` (its network, for IPv6)."""
    return _limit("ip", network_key(client_ip))


def network_key(client_ip: str) -> str:
    """Return whose sends the per-IP limit counts: an IPv4 address, or the IPv6 network it is in.

    One IPv6 host is usually given a whole /64 (OTP_IPV6_PREFIX_LENGTH), so each of its addresses is not
    another client.
    """
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 4:
        return str(address)
    return str(ipaddress.ip_network(f"{address}/{app_settings.ipv6_prefix_length}", strict=False))


def budget_limit() -> Limit:
    """Return the site-wide budget, one key for every send."""
    return _limit("budget", BUDGET_KEY)


def claim(limits: list[Limit], now: datetime) -> Refusal | Receipt | None:
    """Count one send against every limit if all of them allow it, and return its receipt (None: no limits).

    If any limit refuses, count nothing and return the refusal.
    """
    if not limits:
        return None
    tally = get_backend().count(limits, now, record=True)
    if tally.refused:
        refused = next(limit for limit in limits if limit.scope == tally.refused.scope)
        return Refusal(Reason.LIMIT, tally.refused.at, limit=refused.scope, key=refused.key)
    for used_up in tally.used_up:
        if used_up.scope == "budget":
            # Logged by the one send that spends the budget, so once per exhaustion.
            logger.error("sms budget spent: no code is sent to anyone until %s", used_up.at.isoformat())
    return tally.receipt


def give_back(limits: list[Limit], receipt: Receipt | None) -> None:
    """Uncount a send that `claim` counted: it never reached anyone."""
    if receipt is not None:
        get_backend().give_back(limits, receipt)


def spent_until(limit: Limit, now: datetime) -> datetime | None:
    """Return when `limit` will allow another send if it allows none now, without counting anything."""
    if not limit.rates:
        return None
    tally = get_backend().count([limit], now, record=False)
    return tally.refused.at if tally.refused else None


def budget_used(now: datetime) -> list[tuple[Rate, int]]:
    """Return each rate of the site-wide budget with the sends it counts at `now`; empty when there is no budget."""
    limit = budget_limit()
    if not limit.rates:
        return []
    return list(zip(limit.rates, get_backend().used(limit, now), strict=True))


def uses_redis() -> bool:
    """Return whether the default cache is Redis, shared by every worker and host."""
    return settings.CACHES["default"]["BACKEND"] == REDIS_CACHE


def get_backend() -> BaseCounterBackend:
    """Return the counter backend for the configured cache."""
    return _backend(FALLBACK_BACKEND if uses_redis() else DATABASE_BACKEND)


@lru_cache(maxsize=2)
def _backend(path: str) -> BaseCounterBackend:
    return import_string(path)()


def longest_window() -> timedelta:
    """Return the longest window of any configured rate: older events can no longer refuse anything."""
    seconds = [rate.seconds for scope in LIMIT_SETTINGS for rate in app_settings.send_limits(scope)]
    return timedelta(seconds=max(seconds, default=0))
