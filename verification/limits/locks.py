"""Locks that serialise claims on the same keys, across workers and hosts, until the transaction ends.

PostgreSQL: one transaction-level advisory lock per key, always taken in one order within a call, so
two claims never deadlock. SQLite: nothing to take, as the IMMEDIATE transaction already holds the
database's one write lock. The send limits (the database counters) and the pumping brake hold their
keys here, so a check and the count it leads to are never split by another claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import connection


def hold(keys: Iterable[str]) -> None:
    """Lock every key until the current transaction ends (waiting for whoever holds one)."""
    if connection.vendor != "postgresql":
        return
    ids = sorted({_lock_id(key) for key in keys})
    if not ids:
        return
    # Arguments are evaluated left to right, so every transaction takes the locks in the same order.
    calls = ", ".join("pg_advisory_xact_lock(%s)" for _ in ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", ids)


def _lock_id(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
