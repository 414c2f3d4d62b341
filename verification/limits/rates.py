"""Readable rate lists ("3/10m,10/1d") and durations ("1h", "90s", "3600"), as the settings write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"\s*(\d+)\s*([smhd]?)\s*")


@dataclass(frozen=True)
class Rate:
    """At most `limit` events in any `seconds`-long sliding window."""

    limit: int
    seconds: int

    def __str__(self) -> str:
        """Return the rate as the settings write it, in its largest whole unit: 500/1h."""
        for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
            if self.seconds % size == 0:
                return f"{self.limit}/{self.seconds // size}{unit}"
        return f"{self.limit}/{self.seconds}s"


def parse_duration(text: str | int) -> int:
    """Return a duration ("90s", "10m", "1h", "1d", or bare seconds) in seconds; raise ValueError if it is not one."""
    if isinstance(text, int):
        seconds = text
    else:
        match = DURATION.fullmatch(text)
        if not match:
            raise ValueError(f"{text!r} is not a duration: write a number with a unit s, m, h or d, e.g. 10m")
        seconds = int(match.group(1)) * UNITS[match.group(2) or "s"]
    if seconds < 1:
        raise ValueError(f"{text!r} is not a duration: it must be at least one second")
    return seconds


@lru_cache(maxsize=64)
def parse_rates(text: str) -> tuple[Rate, ...]:
    """Return the rates of a list such as "5/1h,10/1d"; an empty list means no limit; raise ValueError if malformed."""
    rates = []
    for part in text.split(","):
        if not part.strip():
            continue
        count, slash, window = part.partition("/")
        if not slash or not count.strip().isdigit() or not window.strip():
            raise ValueError(f"{part.strip()!r} is not a rate: write count/window, e.g. 3/10m")
        limit = int(count)
        if limit < 1:
            raise ValueError(f"{part.strip()!r} allows nothing: the count must be at least 1")
        rates.append(Rate(limit, parse_duration(window)))
    return tuple(rates)
