"""The dashboard's figures: aggregate queries over the audit trail and the message log for one window of time.

Every query reads only an index, never the table, and their number does not depend on how many events there
are. Counts over time are one query: a range scan of the (kind, created_at, ...) index per time bucket, glued with
UNION ALL, which is portable and leaves each database nothing to compute per row. The provider's answer times
are taken from the window's latest messages only (SAMPLE), so that figure costs the same however busy the site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from verification import bot_challenge
from verification.limits import counters, pumping
from verification.limits.rates import Rate
from verification.models import Flow, PhoneVerification, SentMessage, VerificationEvent

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
#: How many of the window's latest messages the provider's answer times are taken from.
SAMPLE = 10_000


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
    #: Seconds, nearest rank over the window's latest SAMPLE timed messages; None when none has a time.
    median: float | None
    p95: float | None
    #: How many messages the times were taken from.
    timed: int = 0

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class Way:
    """One way codes travel (sms, call, whatsapp) in the window: sends, failures, verifications, receipts."""

    via: str
    sent: int
    failed: int
    verified: int
    delivered: int
    undelivered: int

    @property
    def conversion(self) -> float:
        """Return verified ÷ sent for codes that went this way."""
        return self.verified / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class ProviderFigures:
    """One SMS provider over the window: what it carried, what failed at it, what receipts said, how fast it was."""

    provider: str
    sent: int
    #: Sends that failed with this provider as the last one called (failures followed by another provider
    #: are in the otp_sms_failed_total metric, not here).
    failed: int
    #: Messages it carried after another provider failed or was down.
    failovers: int
    delivered: int
    #: Messages with a final receipt (delivered, undelivered or failed).
    receipted: int
    median: float | None
    p95: float | None

    @property
    def delivered_share(self) -> float | None:
        """Return delivered ÷ messages with a final receipt, or None before any receipt."""
        return self.delivered / self.receipted if self.receipted else None


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
    #: Codes sent (withheld sign-in codes included) and verified per flow: verify, sign_in, second_factor.
    flows: list[Conversion]
    #: Each rate of OTP_SEND_BUDGET with the sends it counts now; empty when there is no budget.
    budget: list[tuple[Rate, int]]
    delivery: Delivery
    locked: int
    pauses: int
    #: Each way in OTP_DELIVERY_METHODS (and any other that sent in the window), in that order.
    ways: list[Way] = ()
    #: Sends that needed a bot challenge, by outcome (passed, failed, unreachable), counted by whole hours.
    bot_challenges: dict[str, int] | None = None
    providers: list[ProviderFigures] = ()


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
    paused = pumping.paused_ranges(now)
    return Figures(
        window=window,
        start=start,
        now=now,
        buckets=buckets,
        series=_series(buckets, window.step, now),
        regions=_conversion(events, "region", set()),
        ranges=_conversion(events, "number_range", paused),
        flows=_flows(events),
        budget=counters.budget_used(now),
        delivery=_delivery(SentMessage.objects.filter(sent_at__gte=start, sent_at__lte=now)),
        locked=PhoneVerification.objects.filter(locked_until__gt=now).count(),
        pauses=len(paused),
        ways=_ways(events, SentMessage.objects.filter(sent_at__gte=start, sent_at__lte=now)),
        bot_challenges=bot_challenge.tallies(start, now),
        providers=_providers(SentMessage.objects.filter(sent_at__gte=start, sent_at__lte=now), events),
    )


def _ways(events, messages) -> list[Way]:
    """Return the window's sends, failures, verifications and receipts split by the way each code went."""
    from verification.conf import app_settings

    kinds = [Kind.SENT, Kind.SEND_FAILED, Kind.VERIFIED]
    counted = {
        (kind, via): n
        for kind, via, n in events.filter(kind__in=kinds)
        .exclude(via="")
        .values_list("kind", "via")
        .annotate(n=Sum("count"))
        .order_by()
    }
    receipts = {
        (via, status): n for via, status, n in messages.values_list("via", "status").annotate(n=Count("id")).order_by()
    }
    seen = {via for _, via in counted} | {via for via, _ in receipts}
    order = [*app_settings.delivery_methods, *sorted(seen - set(app_settings.delivery_methods))]
    return [
        Way(
            via,
            counted.get((Kind.SENT, via), 0),
            counted.get((Kind.SEND_FAILED, via), 0),
            counted.get((Kind.VERIFIED, via), 0),
            receipts.get((via, Status.DELIVERED), 0),
            receipts.get((via, Status.UNDELIVERED), 0) + receipts.get((via, Status.FAILED), 0),
        )
        for via in order
    ]


def _providers(messages, events) -> list[ProviderFigures]:
    """Return each provider's figures over the window, the busiest first."""
    final = ["delivered", "undelivered", "failed"]
    rows = {
        provider: (sent, failovers, delivered, receipted)
        for provider, sent, failovers, delivered, receipted in messages.exclude(provider="")
        .values_list("provider")
        .annotate(
            sent=Count("id"),
            failovers=Count("id", filter=Q(failed_over=True)),
            delivered=Count("id", filter=Q(status="delivered")),
            receipted=Count("id", filter=Q(status__in=final)),
        )
        .order_by()
    }
    failed = dict(
        events.filter(kind=Kind.SEND_FAILED)
        .exclude(provider="")
        .values_list("provider")
        .annotate(Count("id"))
        .order_by()
    )
    # Answer times from the window's latest SAMPLE timed messages, all providers in one query.
    times: dict[str, list[float]] = {}
    for provider, seconds in (
        messages.exclude(provider="")
        .filter(provider_seconds__isnull=False)
        .order_by("-sent_at")
        .values_list("provider", "provider_seconds")[:SAMPLE]
    ):
        times.setdefault(provider, []).append(seconds)
    result = []
    for provider in sorted(set(rows) | set(failed), key=lambda p: (-rows.get(p, (0,))[0], p)):
        sent, failovers, delivered, receipted = rows.get(provider, (0, 0, 0, 0))
        own = sorted(times.get(provider, []))
        result.append(
            ProviderFigures(
                provider,
                sent,
                failed.get(provider, 0),
                failovers,
                delivered,
                receipted,
                _rank(own, 0.5),
                _rank(own, 0.95),
            )
        )
    return result


def _rank(times: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile of sorted `times`, or None if there are none."""
    return times[math.ceil(share * len(times)) - 1] if times else None


def _series(buckets: list[datetime], step: timedelta, now: datetime) -> dict[str, list[int]]:
    # Each part bounded by its own bucket alone: with the window's bounds too, a database may scan from the
    # window's start in every part.
    ends = [{"created_at__lt": start + step} for start in buckets[:-1]] + [{"created_at__lte": now}]
    parts = [
        VerificationEvent.objects.filter(kind__in=SERIES, created_at__gte=start, **end)
        .values_list("kind")
        # A refusal event stands for every refusal of its limit and key in its hour (`count`); other events for one.
        .annotate(n=Sum("count"), bucket=Value(i))
        .order_by()
        for i, (start, end) in enumerate(zip(buckets, ends, strict=True))
    ]
    series = {kind: [0] * len(buckets) for kind in SERIES}
    for kind, n, index in parts[0].union(*parts[1:], all=True):
        series[kind][index] = n
    return series


def _conversion(events, field: str, paused: set[str]) -> list[Conversion]:
    rows = (
        events.filter(kind__in=[Kind.SENT, Kind.VERIFIED])
        .exclude(**{field: ""})
        .values_list(field)
        .annotate(sent=Count("kind", filter=Q(kind=Kind.SENT)), verified=Count("kind", filter=Q(kind=Kind.VERIFIED)))
        .filter(sent__gt=0)
        .order_by("-sent", field)[:TOP]
    )
    return [Conversion(key, sent, verified, paused=key in paused) for key, sent, verified in rows]


def _flows(events) -> list[Conversion]:
    """Return codes sent and verified in each flow (every flow listed, none sent or not)."""
    # A range scan of the (kind, flow, created_at) index per kind.
    rows = (
        events.filter(kind__in=[Kind.SENT, Kind.WITHHELD, Kind.VERIFIED])
        .values_list("flow")
        .annotate(
            sent=Count("kind", filter=Q(kind__in=[Kind.SENT, Kind.WITHHELD])),
            verified=Count("kind", filter=Q(kind=Kind.VERIFIED)),
        )
        .order_by()
    )
    counts = {flow: (sent, verified) for flow, sent, verified in rows}
    return [Conversion(flow.value, *counts.get(flow.value, (0, 0))) for flow in Flow]


def _delivery(messages) -> Delivery:
    outcomes = dict.fromkeys([*OUTCOMES, UNKNOWN], 0)
    for status, n in messages.values_list("status").annotate(Count("status")).order_by():
        outcomes[status if status in OUTCOMES else UNKNOWN] += n
    times = sorted(
        messages.filter(provider_seconds__isnull=False)
        .order_by("-sent_at")
        .values_list("provider_seconds", flat=True)[:SAMPLE]
    )

    def nearest_rank(share: float) -> float | None:
        return times[math.ceil(share * len(times)) - 1] if times else None

    return Delivery({str(k): v for k, v in outcomes.items()}, nearest_rank(0.5), nearest_rank(0.95), len(times))
