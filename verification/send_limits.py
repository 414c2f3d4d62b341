"""Sliding-window send limits per number, IP, session and for the whole site, checked and counted atomically.

Counts live where every worker and host sees them: in the database (RateEvent rows, counted and
inserted under a lock in one transaction), or in Redis when CACHE_URL points at it (one sorted set
per key, checked and updated by one Lua script, so one round-trip per send). If Redis cannot be
reached the database takes over, so an outage never opens the gates.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

from verification.models import RateEvent
from verification.rates import Rate, parse_rates

logger = logging.getLogger(__name__)

REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"
#: The settings behind each scope, in the order a refusal is reported.
SCOPE_SETTINGS = {
    "number": "OTP_SEND_LIMITS_PER_NUMBER",
    "ip": "OTP_SEND_LIMITS_PER_IP",
    "session": "OTP_SEND_LIMITS_PER_SESSION",
    "budget": "OTP_SEND_BUDGET",
}
BUDGET_KEY = "all"


@dataclass(frozen=True)
class Limit:
    """The rates that apply to one scope's key, e.g. ("ip", "203.0.113.9", 10/1h and 50/1d)."""

    scope: str
    key: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class Refusal:
    """Which limit says no, and when it will say yes again."""

    scope: str
    retry_at: datetime


@dataclass(frozen=True)
class Claim:
    """The result of a claim: a refusal, or the limits this send just used up (with when they refill)."""

    refusal: Refusal | None = None
    filled: tuple[Refusal, ...] = ()


def _limit(scope: str, key: str) -> Limit:
    return Limit(scope, key, parse_rates(getattr(settings, SCOPE_SETTINGS[scope])))


def limits_for_send(phone: str, client_ip: str | None = None, session_key: str | None = None) -> list[Limit]:
    """Return the limits a send to `phone` from this client must pass; a scope with no rates is left out."""
    limits = [_limit("number", phone)]
    if client_ip:
        limits.append(_limit("ip", client_ip))
    if session_key:
        # A session key is a credential: only a keyed hash of it is stored.
        limits.append(_limit("session", salted_hmac("verification.send_limits", session_key).hexdigest()[:32]))
    limits.append(budget_limit())
    return [limit for limit in limits if limit.rates]


def budget_limit() -> Limit:
    """Return the site-wide budget, one key for every send."""
    return _limit("budget", BUDGET_KEY)


def claim(limits: list[Limit], now: datetime) -> Claim:
    """Count one send against every limit if all of them allow it; otherwise count nothing and say which refused."""
    if not limits:
        return Claim()
    if uses_redis():
        try:
            return _redis_claim(limits, now, record=True)
        except (RedisError, OSError) as exc:
            logger.error("send limits: cache unreachable (%s); counting in the database instead", exc)
    return _database_claim(limits, now, record=True)


def spent_until(limit: Limit, now: datetime) -> datetime | None:
    """Return when `limit` will allow another send if it allows none now, without counting anything."""
    if not limit.rates:
        return None
    if uses_redis():
        try:
            result = _redis_claim([limit], now, record=False)
        except (RedisError, OSError):
            result = _database_claim([limit], now, record=False)
    else:
        result = _database_claim([limit], now, record=False)
    return result.refusal.retry_at if result.refusal else None


def uses_redis() -> bool:
    """Return whether the default cache is Redis, shared by every worker and host."""
    return settings.CACHES["default"]["BACKEND"] == REDIS_CACHE


def longest_window() -> timedelta:
    """Return the longest window of any configured rate: older events can no longer refuse anything."""
    seconds = [rate.seconds for name in SCOPE_SETTINGS.values() for rate in parse_rates(getattr(settings, name))]
    return timedelta(seconds=max(seconds, default=0))


# --- database ------------------------------------------------------------------------------------


def _database_claim(limits: list[Limit], now: datetime, *, record: bool) -> Claim:
    # Inside send_code's transaction no savepoint is needed: a refusal writes nothing to undo.
    with transaction.atomic(savepoint=False):
        if record:
            _lock(limits)
            RateEvent.objects.filter(at__lte=now - longest_window()).delete()
        counts = [_counts(limit, now) for limit in limits]
        for limit, limit_counts in zip(limits, counts, strict=True):
            for rate, count in zip(limit.rates, limit_counts, strict=True):
                if count >= rate.limit:
                    return Claim(refusal=Refusal(limit.scope, _frees_at(limit, rate, now, count - rate.limit)))
        if not record:
            return Claim()
        RateEvent.objects.bulk_create([RateEvent(scope=limit.scope, key=limit.key, at=now) for limit in limits])
        filled = [
            Refusal(limit.scope, _frees_at(limit, rate, now, 0))
            for limit, limit_counts in zip(limits, counts, strict=True)
            for rate, count in zip(limit.rates, limit_counts, strict=True)
            if count + 1 == rate.limit
        ]
        return Claim(filled=tuple(filled))


def _lock(limits: list[Limit]) -> None:
    """Serialise claims on the same keys until the transaction ends, always locking in one order."""
    if connection.vendor != "postgresql":
        # SQLite: the IMMEDIATE transaction already holds the database's one write lock.
        return
    ids = sorted({_lock_id(limit) for limit in limits})
    # Arguments are evaluated left to right, so every transaction takes the locks in the same order.
    calls = ", ".join("pg_advisory_xact_lock(%s)" for _ in ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", ids)


def _lock_id(limit: Limit) -> int:
    digest = hashlib.blake2b(f"otp-limit:{limit.scope}:{limit.key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _events(limit: Limit, since: datetime):
    return RateEvent.objects.filter(scope=limit.scope, key=limit.key, at__gt=since)


def _counts(limit: Limit, now: datetime) -> list[int]:
    """Return the events in each of the limit's windows, in one indexed query."""
    widest = max(rate.seconds for rate in limit.rates)
    totals = _events(limit, now - timedelta(seconds=widest)).aggregate(
        **{
            f"r{i}": Count("id", filter=Q(at__gt=now - timedelta(seconds=rate.seconds)))
            for i, rate in enumerate(limit.rates)
        }
    )
    return [totals[f"r{i}"] for i in range(len(limit.rates))]


def _frees_at(limit: Limit, rate: Rate, now: datetime, index: int) -> datetime:
    """Return when the `index`-th oldest event in the rate's window leaves it, freeing a slot."""
    window = timedelta(seconds=rate.seconds)
    moments = _events(limit, now - window).order_by("at").values_list("at", flat=True)
    return moments[index] + window


# --- Redis -----------------------------------------------------------------------------------------

# KEYS: one sorted set per limit (members are sends, scores their time in ms).
# ARGV: now_ms, member ("" = only look), then per key: rate count, then limit and window_ms per rate.
# Returns {0, i, frees_ms, ...} for the limits this send filled, or {i, frees_ms} for the first that refuses.
CLAIM_SCRIPT = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local pos = 3
local rates = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[pos]); pos = pos + 1
  rates[i] = {}
  local longest = 0
  for j = 1, n do
    local limit, window = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1]); pos = pos + 2
    rates[i][j] = {limit, window}
    if window > longest then longest = window end
  end
  rates[i].longest = longest
  if member ~= '' then redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest) end
  for j, rate in ipairs(rates[i]) do
    local count = redis.call('ZCOUNT', key, '(' .. (now - rate[2]), '+inf')
    rate[3] = count
    if count >= rate[1] then
      local first = redis.call('ZRANGEBYSCORE', key, '(' .. (now - rate[2]), '+inf',
                               'WITHSCORES', 'LIMIT', count - rate[1], 1)
      return {i, tonumber(first[2]) + rate[2]}
    end
  end
end
local filled = {0}
if member == '' then return filled end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, rates[i].longest + 1000)
  for j, rate in ipairs(rates[i]) do
    if rate[3] + 1 == rate[1] then
      local first = redis.call('ZRANGEBYSCORE', key, '(' .. (now - rate[2]), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      table.insert(filled, i)
      table.insert(filled, tonumber(first[2]) + rate[2])
    end
  end
end
return filled
"""


def _redis_claim(limits: list[Limit], now: datetime, *, record: bool) -> Claim:
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    keys = [cache.make_key(f"otp-limit:{limit.scope}:{limit.key}") for limit in limits]
    args: list[int | str] = [_ms(now), secrets.token_hex(8) if record else ""]
    for limit in limits:
        args.append(len(limit.rates))
        for rate in limit.rates:
            args.extend([rate.limit, rate.seconds * 1000])
    reply = [int(value) for value in client.register_script(CLAIM_SCRIPT)(keys=keys, args=args)]
    if reply[0]:
        return Claim(refusal=Refusal(limits[reply[0] - 1].scope, _from_ms(reply[1])))
    pairs = zip(reply[1::2], reply[2::2], strict=True)
    return Claim(filled=tuple(Refusal(limits[i - 1].scope, _from_ms(ms)) for i, ms in pairs))


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
