"""SQLite with a write queue: Django's SQLite engine, whose threads take turns for the write lock in arrival order.

Name it in DATABASES["ENGINE"] as "verification.db.sqlite3" with OPTIONS {"transaction_mode": "IMMEDIATE"}:
every transaction then begins by taking SQLite's write lock, and the threads of one process wait for it in a
first-come, first-served queue (`write_queue`) instead of in SQLite's busy handler, which sleeps and retries,
and the processes of a host take turns through a lock file beside the database (`turnstile`). A connection
takes its turn before `BEGIN IMMEDIATE` and gives it back when the transaction commits, rolls back or the
connection closes; waiting for both is bounded by the busy timeout ("timeout"), which still bounds SQLite's own
lock too. OPTIONS {"write_queue": False} turns both off (SQLite's lock alone, as Django's engine does).
Writes outside a transaction (autocommit) do not queue; Django's own writes (save, delete, sessions) run in one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from verification.db.write_queue import WriteQueue, queue_for

#: Django's default when OPTIONS has no "timeout" (that of Python's sqlite3 module).
DEFAULT_TIMEOUT = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._queue_turn: WriteQueue | None = None
        self._queue_timeout: float | None = None
        self._queue_of: tuple[str, WriteQueue | None] | None = None

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params.pop("write_queue", None)
        return params

    @property
    def write_queue(self) -> WriteQueue | None:
        """Return the queue this connection's transactions wait in (None: off, or a database in memory)."""
        options = self.settings_dict["OPTIONS"]
        if not options.get("write_queue", True) or self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return None
        name = str(self.settings_dict["NAME"])
        # Looked up once per database name (the test runner renames the database after connecting).
        if self._queue_of is None or self._queue_of[0] != name:
            self._queue_of = (name, None if self.is_in_memory_db() else queue_for(name))
        return self._queue_of[1]

    def _start_transaction_under_autocommit(self) -> None:
        queue = self.write_queue
        if queue is None or self._queue_turn is not None:
            return super()._start_transaction_under_autocommit()
        timeout = self._queue_timeout
        if timeout is None:
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
        started = time.monotonic()
        if not queue.acquire(timeout):
            # What SQLite's busy handler says after the same wait.
            raise OperationalError("database is locked (waited for the threads before this one)")
        turnstile = queue.turnstile
        if turnstile is not None and not turnstile.acquire(max(0.0, timeout - (time.monotonic() - started))):
            queue.release()
            raise OperationalError("database is locked (waited for the other processes)")
        self._queue_turn = queue
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        queue, self._queue_turn = self._queue_turn, None
        if queue is not None:
            # The other processes first: the next thread of this one takes the turnstile after them.
            if queue.turnstile is not None:
                queue.turnstile.release()
            queue.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._end_turn()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._end_turn()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._end_turn()

    @contextlib.contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Wait at most `seconds` for the write lock in this block, in the queue and in SQLite's busy handler."""
        self.ensure_connection()
        with self.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            usual_ms = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")
        self._queue_timeout = seconds
        try:
            yield
        finally:
            self._queue_timeout = None
            with self.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {usual_ms}")
