"""Store many audit events and messages for the dashboard bench: `python -m bench.dashboard_seed COUNT` (site settings).

COUNT events spread evenly over the seven days before now (so the 7-day window reads every one), and one message
for every 2.5 events, over 20,000 numbers in 16 regions and 2,000 number ranges.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta

BATCH = 10_000
#: The share of each kind of event, roughly as a working site makes them.
KINDS = {
    "sent": 40,
    "verified": 30,
    "wrong_code": 15,
    "rate_limited": 7,
    "send_failed": 3,
    "locked": 3,
    "unlocked": 2,
}
STATUSES = {"delivered": 85, "undelivered": 5, "failed": 3, "sent": 7}
REGIONS = ["FR", "ES", "DE", "GB", "US", "BR", "IN", "NG", "ID", "MX", "PH", "PK", "VN", "EG", "TR", "IT"]


def numbers(count: int) -> list[str]:
    """Return `count` valid mobile numbers from the regions above, in many ranges."""
    import phonenumbers

    result = []
    for i in range(count):
        example = phonenumbers.example_number_for_type(REGIONS[i % len(REGIONS)], phonenumbers.PhoneNumberType.MOBILE)
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        result.append(f"{e164[:-5]}{i % 100_000:05d}")
    return result


def seed(events: int) -> float:
    """Store `events` events and a message per 2.5 events over the last 7 days; return the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    from verification.models import PhoneVerification, SentMessage, VerificationEvent
    from verification.phone_numbers import range_of

    started = time.perf_counter()
    rng = random.Random(16)
    now = timezone.now()
    week = 7 * 24 * 3600
    phones = numbers(20_000)
    records = PhoneVerification.objects.bulk_create(
        [PhoneVerification(phone=phone) for phone in phones], batch_size=BATCH
    )
    places = {phone: (range_of(phone).region, str(range_of(phone))) for phone in phones}
    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=events)
    for first in range(0, events, BATCH):
        rows = []
        for kind in kinds[first : first + BATCH]:
            phone = rng.choice(phones)
            region, prefix = places[phone]
            moment = now - timedelta(seconds=rng.uniform(0, week))
            rows.append(
                VerificationEvent(kind=kind, phone=phone, region=region, number_range=prefix, created_at=moment)
            )
        with transaction.atomic():
            VerificationEvent.objects.bulk_create(rows)
    messages = int(events / 2.5)
    statuses = rng.choices(list(STATUSES), weights=list(STATUSES.values()), k=messages)
    for first in range(0, messages, BATCH):
        rows = [
            SentMessage(
                verification=rng.choice(records),
                status=status,
                sent_at=now - timedelta(seconds=rng.uniform(0, week)),
                provider_seconds=rng.lognormvariate(-1.2, 0.5),
            )
            for status in statuses[first : first + BATCH]
        ]
        with transaction.atomic():
            SentMessage.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otpsite.settings")
    django.setup()
    from django.conf import settings

    # DEBUG would keep the SQL of every insert in memory.
    settings.DEBUG = False
    print(f"{seed(int(sys.argv[1])):.1f}")
