"""Send counts in Redis: one sorted set per key, checked and updated by one Lua script (one round-trip per send).

The Redis server is the one the default cache (django.core.cache.backends.redis.RedisCache) uses,
reached with the same URL and options, and keys carry the cache's prefix.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import caches

from verification.limits.backends.base import BaseCounterBackend, Limit, Receipt, Refill, Tally

STORE = "redis"

# KEYS: one sorted set per limit (members are sends, scores their time in ms).
# ARGV: now_ms, member ("" = only look), then per key: rate count, then limit and window_ms per rate.
# Returns {0, i, frees_ms, ...} for the limits this send used up, or {i, frees_ms} for the first that refuses.
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
local used_up = {0}
if member == '' then return used_up end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, rates[i].longest + 1000)
  for j, rate in ipairs(rates[i]) do
    if rate[3] + 1 == rate[1] then
      local first = redis.call('ZRANGEBYSCORE', key, '(' .. (now - rate[2]), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      table.insert(used_up, i)
      table.insert(used_up, tonumber(first[2]) + rate[2])
    end
  end
end
return used_up
"""

#: RedisCache options that configure Django's cache client rather than the connection.
_CACHE_CLIENT_OPTIONS = ("serializer", "pool_class", "parser_class")


class CounterBackend(BaseCounterBackend):
    def count(self, limits: list[Limit], now: datetime, *, record: bool) -> Tally:
        member = secrets.token_hex(8) if record else ""
        args: list[int | str] = [_ms(now), member]
        for limit in limits:
            args.append(len(limit.rates))
            for rate in limit.rates:
                args.extend([rate.limit, rate.seconds * 1000])
        reply = [int(value) for value in _claim_script(*_server())(keys=_keys(limits), args=args)]
        if reply[0]:
            return Tally(refused=Refill(limits[reply[0] - 1].scope, _from_ms(reply[1])))
        pairs = zip(reply[1::2], reply[2::2], strict=True)
        used_up = tuple(Refill(limits[i - 1].scope, _from_ms(ms)) for i, ms in pairs)
        return Tally(used_up=used_up, receipt=Receipt(STORE, (member,)) if record else None)

    def give_back(self, limits: list[Limit], receipt: Receipt) -> None:
        # The send is one member in each key's sorted set: removing it from all of them in one MULTI/EXEC.
        with _client(*_server()).pipeline(transaction=True) as pipeline:
            for key in _keys(limits):
                pipeline.zrem(key, *receipt.entries)
            pipeline.execute()

    def used(self, limit: Limit, now: datetime) -> list[int]:
        [key] = _keys([limit])
        pipeline = _client(*_server()).pipeline(transaction=False)
        for rate in limit.rates:
            pipeline.zcount(key, f"({_ms(now) - rate.seconds * 1000}", "+inf")
        return [int(n) for n in pipeline.execute()]


def _keys(limits: list[Limit]) -> list[str]:
    cache = caches["default"]
    return [cache.make_key(f"otp-limit:{limit.scope}:{limit.key}") for limit in limits]


def _server() -> tuple[str, tuple[tuple[str, object], ...]]:
    """Return the default cache's primary server URL and its connection options, as the cache would use them."""
    config = settings.CACHES["default"]
    location = config["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else list(location)
    options = {k: v for k, v in config.get("OPTIONS", {}).items() if k not in _CACHE_CLIENT_OPTIONS}
    return servers[0].strip(), tuple(sorted(options.items()))


@lru_cache(maxsize=4)
def _claim_script(url: str, options: tuple[tuple[str, object], ...]):
    """Return the claim script bound to the client of `url`."""
    return _client(url, options).register_script(CLAIM_SCRIPT)


@lru_cache(maxsize=4)
def _client(url: str, options: tuple[tuple[str, object], ...]) -> redis.Redis:
    """Return a client of `url`, one pooled client per server and process."""
    return redis.Redis.from_url(url, **dict(options))


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
