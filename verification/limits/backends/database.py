"""Send counts in the database: one RateEvent row per send and limit, counted and inserted in one transaction.

Claims on the same keys are serialised by `locks.hold` (an advisory lock per key on PostgreSQL, the
IMMEDIATE write lock on SQLite). Rows older than the longest configured window are deleted as sends go by
(once a minute per process: `pruning`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q

from verification.limits import locks, pruning
from verification.limits.backends.base import BaseCounterBackend, Limit, Receipt, Refill, Tally
from verification.limits.rates import Rate
from verification.models import RateEvent

STORE = "database"

_pruning = pruning.Schedule()


class CounterBackend(BaseCounterBackend):
    def count(self, limits: list[Limit], now: datetime, *, record: bool) -> Tally:
        from verification.limits.counters import longest_window

        # Inside the policy's transaction no savepoint is needed: a refusal writes nothing to undo.
        with transaction.atomic(savepoint=False):
            if record:
                locks.hold(lock_key(limit) for limit in limits)
                if _pruning.due(now):
                    RateEvent.objects.filter(at__lte=now - longest_window()).delete()
            counts = _counts(limits, now)
            for limit, limit_counts in zip(limits, counts, strict=True):
                for rate, count in zip(limit.rates, limit_counts, strict=True):
                    if count >= rate.limit:
                        return Tally(refused=Refill(limit.scope, _frees_at(limit, rate, now, count - rate.limit)))
            if not record:
                return Tally()
            events = RateEvent.objects.bulk_create(
                [RateEvent(scope=limit.scope, key=limit.key, at=now) for limit in limits]
            )
            used_up = [
                Refill(limit.scope, _frees_at(limit, rate, now, 0))
                for limit, limit_counts in zip(limits, counts, strict=True)
                for rate, count in zip(limit.rates, limit_counts, strict=True)
                if count + 1 == rate.limit
            ]
            return Tally(used_up=tuple(used_up), receipt=Receipt(STORE, tuple(event.pk for event in events)))

    def give_back(self, limits: list[Limit], receipt: Receipt) -> None:
        RateEvent.objects.filter(pk__in=receipt.entries).delete()

    def used(self, limit: Limit, now: datetime) -> list[int]:
        return _counts([limit], now)[0]


def lock_key(limit: Limit) -> str:
    """Return the name under which claims on `limit`'s key are serialised."""
    return f"otp-limit:{limit.scope}:{limit.key}"


def _events(limit: Limit, since: datetime):
    return RateEvent.objects.filter(scope=limit.scope, key=limit.key, at__gt=since)


def _counts(limits: list[Limit], now: datetime) -> list[list[int]]:
    """Return the events in each window of each limit, in one query over the (scope, key, at) index."""

    def since(seconds: int) -> datetime:
        return now - timedelta(seconds=seconds)

    def of(limit: Limit, seconds: int) -> Q:
        return Q(scope=limit.scope, key=limit.key, at__gt=since(seconds))

    widest = Q()
    for limit in limits:
        widest |= of(limit, max(rate.seconds for rate in limit.rates))
    totals = RateEvent.objects.filter(widest).aggregate(
        **{
            f"l{j}r{i}": Count("id", filter=of(limit, rate.seconds))
            for j, limit in enumerate(limits)
            for i, rate in enumerate(limit.rates)
        }
    )
    return [[totals[f"l{j}r{i}"] for i in range(len(limit.rates))] for j, limit in enumerate(limits)]


def _frees_at(limit: Limit, rate: Rate, now: datetime, index: int) -> datetime:
    """Return when the `index`-th oldest event in the rate's window leaves it, freeing a slot."""
    window = timedelta(seconds=rate.seconds)
    moments = _events(limit, now - window).order_by("at").values_list("at", flat=True)
    return moments[index] + window
