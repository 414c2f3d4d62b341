"""Turns for one SQLite database's write lock between the processes of a host (gunicorn's workers).

The write queue lines up a process's threads; between processes, SQLite's busy handler sleeps in growing steps
(up to 100 ms) and retries, while the process holding the lock hands it straight to its next thread: a worker
can wait for seconds while the other one writes. Here each process's head of the queue takes a turn on a small
lock file beside the database instead, trying every half millisecond, and a process that gives its turn back
while another process waits lets that one go first (for a millisecond) before trying again: under load the
workers alternate. SQLite's own lock is still taken (`BEGIN IMMEDIATE`) and still decides; this only chooses who
asks for it. The file's locks are POSIX record locks, released by the system if a process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time

logger = logging.getLogger(__name__)

#: Seconds between two tries for the turn while another process holds it.
POLL = 0.0005
#: Seconds a process that just gave the turn back waits before taking it again, when another process waits.
YIELD = 0.001
#: Byte 0 of the file is the turn; byte 1 is held shared by every process waiting for it.
TURN, WAITING = 0, 1


class Turnstile:
    """The write turn of one SQLite database file, shared with the other processes that open it."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-turnstile"
        self._fd: int | None = None
        #: Until then (time.monotonic) this process lets another that waits take the turn first.
        self._yield_until = 0.0

    def _file(self) -> int | None:
        """Return the lock file, opened once per process; None if it cannot be (then SQLite's lock alone decides)."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                logger.warning("no write turnstile for %s: %s", self.path, exc)
                self._fd = -1
        return None if self._fd < 0 else self._fd

    def acquire(self, timeout: float) -> bool:
        """Take the turn, waiting at most `timeout` seconds; return whether it came."""
        fd = self._file()
        if fd is None:
            return True
        deadline = time.monotonic() + timeout
        waiting = False
        try:
            while True:
                now = time.monotonic()
                if now >= self._yield_until and _try(fd, fcntl.LOCK_EX, TURN):
                    return True
                if not waiting:
                    waiting = _try(fd, fcntl.LOCK_SH, WAITING)
                if now >= deadline:
                    return False
                time.sleep(POLL)
        finally:
            if waiting:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, WAITING)

    def release(self) -> None:
        """Give the turn back; if another process waits for it, let that one take it first."""
        fd = self._file()
        if fd is None:
            return
        # A process waiting holds byte 1 shared, so this process cannot take it alone.
        others_wait = not _try(fd, fcntl.LOCK_EX, WAITING)
        if not others_wait:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, WAITING)
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, TURN)
        self._yield_until = time.monotonic() + YIELD if others_wait else 0.0


def _try(fd: int, kind: int, byte: int) -> bool:
    """Take the lock `kind` on `byte` of the file without waiting; return whether it was taken."""
    try:
        fcntl.lockf(fd, kind | fcntl.LOCK_NB, 1, byte)
    except (BlockingIOError, PermissionError):
        return False
    return True
