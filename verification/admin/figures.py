"""The dashboard's figures: aggregate queries over the audit trail and the message log for one window of time.

Each figure is one query whatever the number of events (two more for the provider's answer times), and every
query reads only the columns of an index: the window of `created_at` (or `sent_at`) first, then what it groups
by. Time buckets are a CASE over the bucket edges rather than a date function, so the query is the same, and
as fast, on every database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from verification.limits import counters, pumping
from verification.limits.rates import Rate
from verification.models import PhoneVerification, SentMessage, VerificationEvent

Kind = VerificationEvent.Kind
Status = SentMessage.Status


@dataclass(frozen=True)
class Window:
    """A span of time the dashboard shows, cut into `buckets` equal steps."""

    key: str
    label: str
    step: timedelta
    buckets: int


WINDOWS = {
    window.key: window
    for window in [
        Window("1h", _("Last hour"), timedelta(minutes=5), 12),
        Window("24h", _("Last 24 hours"), timedelta(hours=1), 24),
        Window("7d", _("Last 7 days"), timedelta(hours=6), 28),
    ]
}
DEFAULT_WINDOW = "24h"
#: The events drawn over time, one series each.
SERIES = [Kind.SENT, Kind.VERIFIED, Kind.SEND_FAILED, Kind.RATE_LIMITED]
#: Regions and number ranges shown, those with the most sends first.
TOP = 10
#: What a receipt says became of a message; any other status means no final receipt (yet).
OUTCOMES = [Status.DELIVERED, Status.UNDELIVERED, Status.FAILED]
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Conversion:
    """Codes sent to a group of numbers (a region or a number range) in the window, and codes verified."""

    key: str
    sent: int
    verified: int
    paused: bool = False

    @property
    def rate(self) -> float:
        """Return verified ÷ sent (above 1 when codes sent before the window were verified in it)."""
        return self.verified / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Delivery:
    """What receipts said of the messages sent in the window, and how long the provider took to take them."""

    outcomes: dict[str, int]
    #: Seconds, nearest rank; None when no message in the window has a measured time.
    median: float | None
    p95: float | None

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class Figures:
    window: Window
    start: datetime
    now: datetime
    #: The start of each bucket, oldest first.
    buckets: list[datetime]
    #: Event kind -> count per bucket.
    series: dict[str, list[int]]
    regions: list[Conversion]
    ranges: list[Conversion]
    #: Each rate of OTP_SEND_BUDGET with the sends it counts now; empty when there is no budget.
    budget: list[tuple[Rate, int]]
    delivery: Delivery
    locked: int
    pauses: int


def window_start(window: Window, now: datetime) -> datetime:
    """Return where the window's first bucket starts: buckets fall on whole steps of local time, the last holds now."""
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    current = midnight + (local - midnight) // window.step * window.step
    return current - (window.buckets - 1) * window.step


def figures(window: Window, now: datetime) -> Figures:
    """Return every figure of the dashboard for `window`, ending at `now`."""
    start = window_start(window, now)
    buckets = [start + i * window.step for i in range(window.buckets)]
    events = VerificationEvent.objects.filter(created_at__gte=start, created_at__lte=now)
    paused = pumping.paused_prefixes(now)
    return Figures(
        window=window,
        start=start,
        now=now,
        buckets=buckets,
        series=_series(events, buckets),
        regions=_conversion(events, "region", []),
        ranges=_conversion(events, "number_range", paused),
        budget=counters.budget_used(now),
        delivery=_delivery(SentMessage.objects.filter(sent_at__gte=start, sent_at__lte=now)),
        locked=PhoneVerification.objects.filter(locked_until__gt=now).count(),
        pauses=len(paused),
    )


def _series(events, buckets: list[datetime]) -> dict[str, list[int]]:
    bucket = Case(
        *(When(created_at__lt=edge, then=Value(i)) for i, edge in enumerate(buckets[1:])),
        default=Value(len(buckets) - 1),
    )
    rows = (
        events.filter(kind__in=SERIES)
        .annotate(bucket=bucket)
        .values_list("kind", "bucket")
        .annotate(n=Count("kind"))
        .order_by()
    )
    series = {kind: [0] * len(buckets) for kind in SERIES}
    for kind, index, n in rows:
        series[kind][index] = n
    return series


def _conversion(events, field: str, paused_prefixes: list[str]) -> list[Conversion]:
    rows = (
        events.filter(kind__in=[Kind.SENT, Kind.VERIFIED])
        .exclude(**{field: ""})
        .values_list(field)
        .annotate(sent=Count("kind", filter=Q(kind=Kind.SENT)), verified=Count("kind", filter=Q(kind=Kind.VERIFIED)))
        .filter(sent__gt=0)
        .order_by("-sent", field)[:TOP]
    )
    return [
        Conversion(key, sent, verified, paused=any(key.startswith(prefix) for prefix in paused_prefixes))
        for key, sent, verified in rows
    ]


def _delivery(messages) -> Delivery:
    outcomes = dict.fromkeys([*OUTCOMES, UNKNOWN], 0)
    timed = 0
    counts = messages.values_list("status").annotate(Count("status"), Count("provider_seconds")).order_by()
    for status, n, with_time in counts:
        outcomes[status if status in OUTCOMES else UNKNOWN] += n
        timed += with_time
    times = messages.filter(provider_seconds__isnull=False).order_by("provider_seconds")
    times = times.values_list("provider_seconds", flat=True)

    def nearest_rank(share: float) -> float | None:
        return times[math.ceil(share * timed) - 1] if timed else None

    return Delivery({str(k): v for k, v in outcomes.items()}, nearest_rank(0.5), nearest_rank(0.95))
