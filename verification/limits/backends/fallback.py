"""Send counts in Redis, and in the database while Redis cannot be reached, so an outage never opens the gates.

Counts Redis held before an outage are not seen by the database, so during one a key can get at most
one extra window's worth of sends.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

from verification.limits.backends import database, redis
from verification.limits.backends.base import BaseCounterBackend, Limit, Receipt, Tally

logger = logging.getLogger("verification.limits")


class CounterBackend(BaseCounterBackend):
    def __init__(self) -> None:
        self.primary = redis.CounterBackend()
        self.fallback = database.CounterBackend()

    def count(self, limits: list[Limit], now: datetime, *, record: bool) -> Tally:
        try:
            return self.primary.count(limits, now, record=record)
        except (RedisError, OSError) as exc:
            if record:
                logger.error("send limits: cache unreachable (%s); counting in the database instead", exc)
            return self.fallback.count(limits, now, record=record)

    def give_back(self, limits: list[Limit], receipt: Receipt) -> None:
        if receipt.store == database.STORE:
            self.fallback.give_back(limits, receipt)
            return
        try:
            self.primary.give_back(limits, receipt)
        except (RedisError, OSError) as exc:
            # The send stays counted in Redis until its window passes: the gates stay shut, never open.
            logger.error("send limits: cache unreachable (%s); a failed send could not be given back", exc)

    def used(self, limit: Limit, now: datetime) -> list[int]:
        try:
            return self.primary.used(limit, now)
        except (RedisError, OSError):
            return self.fallback.used(limit, now)
