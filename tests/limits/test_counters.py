"""The counters behind the send limits, in the database and in Redis, with the clock controlled."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.helpers import at
from verification.limits import counters
from verification.limits.backends.base import Limit, Receipt
from verification.limits.counters import claim, spent_until
from verification.limits.rates import Rate, parse_rates
from verification.models import RateEvent

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
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    else:
        yield request.param


def passes(result) -> bool:
    """Return whether a claim counted the send (it returns a receipt) rather than refusing it."""
    return isinstance(result, Receipt)


def limit(rates: str, scope: str = "number", key: str = "+33612345678") -> Limit:
    return Limit(scope, key, parse_rates(rates))


def test_window_edges_are_exact(store):
    three = [limit("3/10m")]
    assert passes(claim(three, at(minutes=0)))
    assert passes(claim(three, at(minutes=5)))
    assert passes(claim(three, at(minutes=9, seconds=59)))
    refused = claim(three, at(minutes=9, seconds=59.5))
    assert refused.limit == "number" and refused.retry_at == at(minutes=10)
    # The first send leaves the window at exactly 10:00 after it, freeing one slot.
    assert passes(claim(three, at(minutes=10, seconds=1)))
    assert claim(three, at(minutes=10, seconds=2)).retry_at == at(minutes=15)


def test_every_rate_of_a_list_holds(store):
    rates = [limit("2/1m,3/1h")]
    assert passes(claim(rates, at(minutes=0)))
    assert passes(claim(rates, at(minutes=0, seconds=10)))
    assert claim(rates, at(minutes=0, seconds=20)).retry_at == at(minutes=1)
    assert passes(claim(rates, at(minutes=1, seconds=30)))
    assert claim(rates, at(minutes=3)).retry_at == at(minutes=60)
    assert passes(claim(rates, at(minutes=60, seconds=1)))


def test_a_refusal_counts_nothing(store):
    one = [limit("1/1h")]
    claim(one, at(minutes=0))
    for minute in range(1, 30):
        assert claim(one, at(minutes=minute)).retry_at == at(minutes=60)
    assert passes(claim(one, at(minutes=60, seconds=1)))


def test_one_refusing_limit_counts_against_none(store):
    number, ip = limit("5/1h"), limit("1/1h", scope="ip", key="203.0.113.9")
    assert passes(claim([number, ip], at(minutes=0)))
    assert claim([number, ip], at(minutes=1)).limit == "ip"
    # The refused send did not count toward the number: four more are allowed.
    assert all(passes(claim([number], at(minutes=2))) for _ in range(3))
    assert passes(claim([number], at(minutes=2)))
    assert claim([number], at(minutes=2)).limit == "number"


def test_keys_are_counted_apart(store):
    assert passes(claim([limit("1/1h", key="+33612345678")], at(minutes=0)))
    assert passes(claim([limit("1/1h", key="+33612345679")], at(minutes=0)))
    assert claim([limit("1/1h", key="+33612345678")], at(minutes=1)) is not None


def test_the_send_that_fills_a_limit_says_so_once(store, caplog):
    budget = [limit("2/1h", scope="budget", key="all")]
    assert passes(claim(budget, at(minutes=0))) and "sms budget spent" not in caplog.text
    assert passes(claim(budget, at(minutes=10)))
    until = at(minutes=60).isoformat()
    assert caplog.text.count(f"sms budget spent: no code is sent to anyone until {until}") == 1
    assert claim(budget, at(minutes=20)).retry_at == at(minutes=60)
    assert caplog.text.count("sms budget spent") == 1


def test_a_send_given_back_counts_against_no_limit(store):
    number, ip = limit("1/1h"), limit("2/1h", scope="ip", key="203.0.113.9")
    receipt = claim([number, ip], at(minutes=0))
    counters.give_back([number, ip], receipt)
    # Both limits are as if that send had never been claimed, and only that send is given back.
    assert passes(claim([number, ip], at(minutes=1)))
    assert claim([number], at(minutes=2)).limit == "number"
    assert passes(claim([ip], at(minutes=2)))
    assert claim([ip], at(minutes=3)).limit == "ip"


def test_spent_until_looks_without_counting(store):
    budget = limit("1/1h", scope="budget", key="all")
    assert spent_until(budget, at(minutes=0)) is None
    assert spent_until(budget, at(minutes=0)) is None
    claim([budget], at(minutes=0))
    assert spent_until(budget, at(minutes=30)) == at(minutes=60)
    assert spent_until(budget, at(minutes=60, seconds=1)) is None


def test_budget_used_counts_each_window_without_counting(store, settings):
    settings.OTP_SEND_BUDGET = "3/10m,5/1h"
    for minute in (0, 20, 25):
        claim([counters.budget_limit()], at(minutes=minute))
    assert [(str(rate), used) for rate, used in counters.budget_used(at(minutes=29))] == [("3/10m", 2), ("5/1h", 3)]
    assert [used for _, used in counters.budget_used(at(minutes=61))] == [0, 2]
    settings.OTP_SEND_BUDGET = ""
    assert counters.budget_used(at(minutes=61)) == []


def test_database_prunes_events_older_than_any_window(settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "5/1h"
    settings.OTP_SEND_LIMITS_PER_IP = "10/1h"
    settings.OTP_SEND_BUDGET = "500/2h"
    for minute in range(5):
        claim([limit("5/1h", key=f"+3361234567{minute}")], at(minutes=minute))
    assert RateEvent.objects.count() == 5
    claim([limit("5/1h")], at(minutes=125))
    assert list(RateEvent.objects.values_list("at", flat=True)) == [at(minutes=125)]


def test_redis_outage_falls_back_to_the_database(settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/4"}
    }
    one = [limit("1/1h")]
    assert passes(claim(one, at(minutes=0)))
    assert claim(one, at(minutes=1)).retry_at == at(minutes=60)
    assert RateEvent.objects.count() == 1
    assert "cache unreachable" in caplog.text
    assert counters.get_backend().used(one[0], at(minutes=2)) == [1]


def test_a_send_counted_during_a_redis_outage_is_given_back_in_the_database(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/4"}
    }
    one = [limit("1/1h")]
    counters.give_back(one, claim(one, at(minutes=0)))
    assert not RateEvent.objects.exists()
    assert passes(claim(one, at(minutes=1)))


def test_redis_counts_in_redis_not_the_database(store):
    claim([limit("1/1h")], at(minutes=0))
    assert RateEvent.objects.exists() == (store == "database")


def test_limits_for_a_send(settings):
    limits = counters.limits_for_send("+33612345678", "203.0.113.9", "sessionkey")
    assert [(x.scope, x.rates) for x in limits] == [
        ("number", (Rate(5, 3600), Rate(10, 86400))),
        ("ip", (Rate(10, 3600), Rate(50, 86400))),
        ("session", (Rate(5, 3600),)),
        ("budget", (Rate(500, 3600),)),
    ]
    assert "sessionkey" not in limits[2].key
    settings.OTP_SEND_LIMITS_PER_IP = ""
    assert [x.scope for x in counters.limits_for_send("+33612345678", "203.0.113.9")] == ["number", "budget"]


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("203.0.113.9", 64, "203.0.113.9"),
        ("2001:db8:a:b:1:2:3:4", 64, "2001:db8:a:b::/64"),
        ("2001:db8:a:b:1:2:3:4", 56, "2001:db8:a::/56"),
        ("2001:db8:a:b:1:2:3:4", 128, "2001:db8:a:b:1:2:3:4/128"),
        # An IPv4 client seen through an IPv6 socket is still counted by its IPv4 address.
        ("::ffff:203.0.113.9", 64, "203.0.113.9"),
    ],
)
def test_per_ip_limit_counts_ipv6_clients_by_network(settings, address, prefix, key):
    settings.OTP_IPV6_PREFIX_LENGTH = prefix
    [ip_limit] = [limit for limit in counters.limits_for_send("+33612345678", address) if limit.scope == "ip"]
    assert ip_limit.key == key
