"""The bot challenge's risk rule: does a send look risky enough to ask for a challenge first?

One rule, read from the same counts the send policy keeps, claiming nothing. A send is risky when any of:

- ``ip``: the client's IP (its network for IPv6) has used half of a rate of OTP_SEND_LIMITS_PER_IP;
- ``range``: the number's range has at least half of OTP_PUMPING_MIN_SENDS sends in the brake's window and
  fewer than OTP_PUMPING_MIN_CONVERSION of them verified (a number verified here before is exempt, as from
  the brake);
- ``budget``: 80% of a rate of the site-wide OTP_SEND_BUDGET is used;
- ``number``: the number has used half of a rate of OTP_SEND_LIMITS_PER_NUMBER.

"Half" of a limit of n is n/2 rounded up: a limit of 10 is half used at 5 sends, a limit of 5 at 3.
A person below every signal is never asked.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db.models import Sum

from verification.conf import app_settings
from verification.limits import counters, pumping
from verification.limits.backends.base import Limit
from verification.models import PhoneVerification, PumpingTally
from verification.phone_numbers import range_of

#: The signals, in the order they are looked at.
SIGNALS = ("budget", "ip", "number", "range")
#: Share of the site-wide budget that makes every send risky.
BUDGET_SHARE = 0.8
#: Share of a per-IP or per-number limit, and of the brake's minimum sends, that makes a send risky.
HALF = 0.5


def risk_signal(now: datetime, *, phone: str | None = None, client_ip: str | None = None) -> str | None:
    """Return the first signal that makes a send to `phone` from `client_ip` risky at `now`, or None.

    Without `phone` (a page shown before a number is typed), only the budget and the IP are looked at.
    """
    if _used(counters.budget_limit(), now, BUDGET_SHARE):
        return "budget"
    if client_ip and _used(counters.ip_limit(client_ip), now, HALF):
        return "ip"
    if phone is None:
        return None
    if _used(counters.number_limit(phone), now, HALF):
        return "number"
    if _range_failing(phone, now):
        return "range"
    return None


def _used(limit: Limit, now: datetime, share: float) -> bool:
    """Return whether any rate of `limit` counts at least `share` of its sends at `now`."""
    if not limit.rates:
        return False
    used = counters.get_backend().used(limit, now)
    # Compared in whole sends: at least share × limit, rounded up.
    return any(count >= math.ceil(rate.limit * share) for rate, count in zip(limit.rates, used, strict=True))


def _range_failing(phone: str, now: datetime) -> bool:
    """Return whether the number's range has half the brake's minimum sends in its window, under its conversion."""
    min_sends = app_settings.pumping_min_sends
    if min_sends < 1:
        return False
    known = PhoneVerification.objects.filter(phone=phone, verified_at__isnull=False).exists()
    if known:
        return False
    number_range = range_of(phone)
    totals = PumpingTally.objects.filter(**number_range.rows(), minute__gte=pumping.window_start(now)).aggregate(
        sent=Sum("sent"), verified=Sum("verified")
    )
    sent, verified = totals["sent"] or 0, totals["verified"] or 0
    return sent >= math.ceil(min_sends * HALF) and verified < sent * app_settings.pumping_min_conversion
