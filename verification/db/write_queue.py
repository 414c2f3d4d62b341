"""A first-come, first-served queue for one SQLite database's write lock, shared by the threads of a process.

SQLite has one write lock per database. A thread that finds it taken runs SQLite's busy handler, which
sleeps in growing steps (up to 100 ms) and retries: a thread can lose the race again and again while
others arrive, which shows as a tail of seconds under a dozen concurrent writers. Here the threads of
one process take a ticket instead and are woken in the order they came, one at a time, when the
thread before them commits or rolls back. Between processes the thread whose turn it is then takes the
database's turnstile (verification.db.turnstile), and still takes SQLite's own lock with `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import os
import threading
from collections import deque

from verification.db.turnstile import Turnstile


class WriteQueue:
    """Hand the right to begin a write transaction to one waiting thread at a time, in arrival order.

    `turnstile`, when given, is the same database's turn between processes, which the thread whose turn it is
    takes next (the engine does: verification.db.sqlite3).
    """

    def __init__(self, turnstile: Turnstile | None = None) -> None:
        self.turnstile = turnstile
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._taken = False

    def acquire(self, timeout: float) -> bool:
        """Wait for this thread's turn (at most `timeout` seconds); return whether it came."""
        with self._mutex:
            if not self._taken and not self._waiting:
                self._taken = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():
                # Handed over just as the wait ended: the turn is ours.
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        """Pass the turn to the thread that has waited longest, or free it."""
        with self._mutex:
            if self._waiting:
                # The turn goes straight to the next thread: nobody arriving now can jump ahead of it.
                self._waiting.popleft().set()
            else:
                self._taken = False

    def waiting(self) -> int:
        """Return how many threads wait for their turn."""
        with self._mutex:
            return len(self._waiting)


_queues: dict[str, WriteQueue] = {}
_queues_lock = threading.Lock()


def queue_for(path: str) -> WriteQueue:
    """Return this process's queue for the database file at `path` (one per file, whichever connection asks)."""
    key = os.path.realpath(path)
    with _queues_lock:
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = WriteQueue(Turnstile(key))
        return queue


def _forget_after_fork() -> None:
    # A forked child (a gunicorn worker) starts with no thread holding or waiting for anything.
    global _queues_lock
    _queues.clear()
    _queues_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
