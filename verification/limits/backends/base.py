"""What a counter backend stores and answers: limits on keys, and whether one more send fits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verification.limits.rates import Rate


@dataclass(frozen=True)
class Limit:
    """The rates that apply to one scope's key, e.g. ("ip", "203.0.113.9", 10/1h and 50/1d)."""

    scope: str
    key: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class Refill:
    """A limit that has no room left, and when it has room again."""

    scope: str
    at: datetime


@dataclass(frozen=True)
class Receipt:
    """What one counted send left in a store, so that it can be given back: row ids, or a Redis member."""

    store: str
    entries: tuple[int | str, ...]


@dataclass(frozen=True)
class Tally:
    """A backend's answer: the first limit that refuses, or the limits this send just used up and its receipt."""

    refused: Refill | None = None
    used_up: tuple[Refill, ...] = ()
    receipt: Receipt | None = None


class BaseCounterBackend:
    """Count sends per limit in sliding windows, atomically for every worker and host."""

    def count(self, limits: list[Limit], now: datetime, *, record: bool) -> Tally:
        """Return whether one more send fits every limit and, with `record`, count it against all of them if so.

        Either every limit counts the send or none does.
        """
        raise NotImplementedError("subclasses of BaseCounterBackend must override count()")

    def give_back(self, limits: list[Limit], receipt: Receipt) -> None:
        """Uncount the send `receipt` stands for from every limit it was counted against."""
        raise NotImplementedError("subclasses of BaseCounterBackend must override give_back()")

    def used(self, limit: Limit, now: datetime) -> list[int]:
        """Return how many sends each of the limit's rates counts in its window at `now`, counting nothing."""
        raise NotImplementedError("subclasses of BaseCounterBackend must override used()")
