"""When to delete the rows that time has made irrelevant: at most once a minute per process, not on every send.

The counts never read those rows (every query is bounded by its window), so pruning is housekeeping only:
done on every send it cost a DELETE inside the claim's transaction, with the write lock held, each time.
Rows can now outlive their window by up to a minute per process; nothing counts them.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

#: How often a process prunes each table.
INTERVAL = timedelta(minutes=1)


class Schedule:
    """Say when a table is due for pruning: the first time, then once per INTERVAL of the domain clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Return whether to prune at `now`, and if so count it as done (a clock set back prunes again)."""
        with self._lock:
            if self._last is not None and self._last <= now < self._last + INTERVAL:
                return False
            self._last = now
            return True
