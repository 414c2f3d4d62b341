"""How the admin dashboard fares over a big audit trail: `python -m bench.dashboard [--events 1000000]`.

Seeds a fresh database (SQLite in a temporary folder, or a PostgreSQL database next to DATABASE_URL's, dropped at
the end) with `--events` audit events spread over the last seven days (so the 7-day window reads every one of
them) and one message for every 2.5 events, then renders /admin/verification/dashboard/ for each window in this
process as a logged-in superuser and prints its query count and time (median and slowest of `--repeat`).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.servers import drop_database, fresh_database

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
    from verification.phone_numbers import number_range, region_of

    started = time.perf_counter()
    rng = random.Random(16)
    now = timezone.now()
    week = 7 * 24 * 3600
    phones = numbers(20_000)
    records = PhoneVerification.objects.bulk_create(
        [PhoneVerification(phone=phone) for phone in phones], batch_size=BATCH
    )
    places = {phone: (region_of(phone), number_range(phone)) for phone in phones}
    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=events)
    for first in range(0, events, BATCH):
        rows = []
        for kind in kinds[first : first + BATCH]:
            phone = rng.choice(phones)
            region, prefix = places[phone]
            moment = now - timedelta(seconds=rng.uniform(0, week))
            rows.append(VerificationEvent(kind=kind, phone=phone, region=region, number_range=prefix, created_at=moment))
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


def measure(repeat: int) -> list[tuple[str, int, float, float]]:
    """Return, per window, the dashboard's query count and its median and slowest time in ms."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from verification.admin.figures import WINDOWS

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench only")
    client = Client()
    client.force_login(user)
    rows = []
    for key in WINDOWS:
        times, queries = [], 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get("/admin/verification/dashboard/", {"window": key})
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"dashboard answered {response.status_code}")
            queries = len(captured)
        rows.append((key, queries, statistics.median(times), max(times)))
    return rows


def render(events: int, seeding: float, engine: str, rows: list[tuple[str, int, float, float]]) -> str:
    lines = [
        f"Dashboard over {events:,} events and {int(events / 2.5):,} messages ({engine}; seeded in {seeding:.0f} s)",
        "",
        "| window | queries | median ms | slowest ms |",
        "|---|---|---|---|",
    ]
    lines += [f"| {key} | {queries} | {median:,.0f} | {slowest:,.0f} |" for key, queries, median, slowest in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="otp-bench-dashboard-") as workdir:
        url = fresh_database(database_url, Path(workdir), "dashboard")
        try:
            # This process becomes the site, on the scratch database (DEBUG: static files need no collectstatic).
            os.environ.update(
                DATABASE_URL=url,
                DJANGO_SETTINGS_MODULE="otpsite.settings",
                DJANGO_DEBUG="true",
                DJANGO_ALLOWED_HOSTS="testserver",
                DJANGO_ENV_FILE=os.devnull,
            )
            import django
            from django.core.management import call_command

            django.setup()
            call_command("migrate", verbosity=0)
            seeding = seed(args.events)
            from django.db import connection

            rows = measure(args.repeat)
            connection.close()
        finally:
            drop_database(url)
    print(render(args.events, seeding, "PostgreSQL" if url.startswith("postgres") else "SQLite", rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
