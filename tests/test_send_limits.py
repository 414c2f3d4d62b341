"""The counters behind the send limits, in the database and in Redis, with the clock controlled."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import caches

from tests.conftest import T0
from verification import send_limits
from verification.models import RateEvent
from verification.rates import parse_rates
from verification.send_limits import Limit, claim, spent_until

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/4"


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """Run the test against each counter store; Redis keys get a prefix of their own."""
    if request.param == "redis":
        prefix = f"test-{uuid.uuid4().hex}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
            }
        }
        yield request.param
        client = caches["default"]._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    else:
        yield request.param


def limit(rates: str, scope: str = "number", key: str = "+33612345678") -> Limit:
    return Limit(scope, key, parse_rates(rates))


def at(minutes: float, seconds: float = 0):
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def test_window_edges_are_exact(store):
    three = [limit("3/10m")]
    assert claim(three, at(0)).refusal is None
    assert claim(three, at(5)).refusal is None
    assert claim(three, at(9, 59)).refusal is None
    refused = claim(three, at(9, 59.5)).refusal
    assert refused.scope == "number" and refused.retry_at == at(10)
    # The first send leaves the window at exactly 10:00 after it, freeing one slot.
    assert claim(three, at(10, 1)).refusal is None
    assert claim(three, at(10, 2)).refusal.retry_at == at(15)


def test_every_rate_of_a_list_holds(store):
    rates = [limit("2/1m,3/1h")]
    assert claim(rates, at(0)).refusal is None
    assert claim(rates, at(0, 10)).refusal is None
    assert claim(rates, at(0, 20)).refusal.retry_at == at(1)
    assert claim(rates, at(1, 30)).refusal is None
    assert claim(rates, at(3)).refusal.retry_at == at(60)
    assert claim(rates, at(60, 1)).refusal is None


def test_a_refusal_counts_nothing(store):
    one = [limit("1/1h")]
    claim(one, at(0))
    for minute in range(1, 30):
        assert claim(one, at(minute)).refusal.retry_at == at(60)
    assert claim(one, at(60, 1)).refusal is None


def test_one_refusing_limit_counts_against_none(store):
    number, ip = limit("5/1h"), limit("1/1h", scope="ip", key="203.0.113.9")
    assert claim([number, ip], at(0)).refusal is None
    assert claim([number, ip], at(1)).refusal.scope == "ip"
    # The refused send did not count toward the number: four more are allowed.
    assert all(claim([number], at(2)).refusal is None for _ in range(3))
    assert claim([number], at(2)).refusal is None
    assert claim([number], at(2)).refusal.scope == "number"


def test_keys_are_counted_apart(store):
    assert claim([limit("1/1h", key="+33612345678")], at(0)).refusal is None
    assert claim([limit("1/1h", key="+33612345679")], at(0)).refusal is None
    assert claim([limit("1/1h", key="+33612345678")], at(1)).refusal is not None


def test_the_send_that_fills_a_limit_says_so_once(store):
    budget = [limit("2/1h", scope="budget", key="all")]
    assert claim(budget, at(0)).filled == ()
    filled = claim(budget, at(10)).filled
    assert [(f.scope, f.retry_at) for f in filled] == [("budget", at(60))]
    assert claim(budget, at(20)).refusal.retry_at == at(60)


def test_spent_until_looks_without_counting(store):
    budget = limit("1/1h", scope="budget", key="all")
    assert spent_until(budget, at(0)) is None
    assert spent_until(budget, at(0)) is None
    claim([budget], at(0))
    assert spent_until(budget, at(30)) == at(60)
    assert spent_until(budget, at(60, 1)) is None


def test_database_prunes_events_older_than_any_window(settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "5/1h"
    settings.OTP_SEND_LIMITS_PER_IP = "10/1h"
    settings.OTP_SEND_BUDGET = "500/2h"
    for minute in range(5):
        claim([limit("5/1h", key=f"+3361234567{minute}")], at(minute))
    assert RateEvent.objects.count() == 5
    claim([limit("5/1h")], at(125))
    assert list(RateEvent.objects.values_list("at", flat=True)) == [at(125)]


def test_redis_outage_falls_back_to_the_database(settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/4"}
    }
    one = [limit("1/1h")]
    assert claim(one, at(0)).refusal is None
    assert claim(one, at(1)).refusal.retry_at == at(60)
    assert RateEvent.objects.count() == 1
    assert "cache unreachable" in caplog.text


def test_redis_counts_in_redis_not_the_database(store):
    claim([limit("1/1h")], at(0))
    assert RateEvent.objects.exists() == (store == "database")


def test_limits_for_a_send(settings):
    limits = send_limits.limits_for_send("+33612345678", "203.0.113.9", "sessionkey")
    assert [(x.scope, str(list(map(str, x.rates)))) for x in limits] == [
        ("number", "['5/3600s', '10/86400s']"),
        ("ip", "['10/3600s', '50/86400s']"),
        ("session", "['5/3600s']"),
        ("budget", "['500/3600s']"),
    ]
    assert "sessionkey" not in limits[2].key
    settings.OTP_SEND_LIMITS_PER_IP = ""
    assert [x.scope for x in send_limits.limits_for_send("+33612345678", "203.0.113.9")] == ["number", "budget"]
