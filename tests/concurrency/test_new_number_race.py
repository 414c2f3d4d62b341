"""PostgreSQL: two first sends to a number race for its row; the loser is decided again and counted once.

A number seen for the first time gets its row only when a send is claimed (a refused send writes nothing). On
PostgreSQL two claims can both find no row; the one whose INSERT loses rolls back and runs again on the winner's
row. Counts kept outside the database (Redis) are given back first, so the send is counted once.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import redis
from django.db import connection, connections, transaction

from tests.helpers import PHONE, T0
from verification.limits import counters, locks, pumping
from verification.limits.policy import Claim, claim_send
from verification.models import PhoneVerification
from verification.phone_numbers import range_of

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/4"


def waiting_for_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


# SQLite's IMMEDIATE transactions cannot race for the row.
@pytest.mark.postgresql_only
@pytest.mark.parametrize("store", ["database", "redis"])
def test_a_first_send_that_loses_the_race_for_the_row_is_claimed_again_and_counted_once(settings, store):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "5/1h"
    settings.OTP_PUMPING_MIN_SENDS = 100
    prefix = f"test-{uuid.uuid4().hex}"
    if store == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": prefix,
            }
        }
    claims: list[object] = []

    def send() -> None:
        try:
            claims.append(claim_send(PHONE, T0))
        finally:
            connections["default"].close()

    try:
        # The other send: it holds the brake's lock on the number's range, so this claim reads "no row" and waits.
        with transaction.atomic():
            locks.hold([pumping._lock_key(range_of(PHONE))])
            racer = threading.Thread(target=send)
            racer.start()
            deadline = time.monotonic() + 10
            while not waiting_for_an_advisory_lock():
                assert time.monotonic() < deadline, "the claim never waited for the range's lock"
                os.sched_yield()
            PhoneVerification.objects.create(phone=PHONE)
        racer.join()
        [claim] = claims
        assert isinstance(claim, Claim)
        record = PhoneVerification.objects.get(phone=PHONE)
        assert record.next_send_at == claim.cooldown_ends and claim.record_id == record.pk
        [number_limit] = [limit for limit in counters.limits_for_send(PHONE) if limit.scope == "number"]
        assert counters.get_backend().used(number_limit, T0) == [1]
    finally:
        if store == "redis":
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
