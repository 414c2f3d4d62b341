"""Store many numbers in the site's database with bulk_create: `python -m bench.seed COUNT` (site settings)."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

#: Seeded numbers: French mobiles +33 62x xx xx xx, apart from the +33 61 numbers the load uses.
SEED_PREFIX = "+3362"
BATCH = 5000


def seed(count: int) -> float:
    """Add `count` numbers in a mix of states (verified, locked, expired code); return the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    from verification.models import PhoneVerification

    started = time.perf_counter()
    now = timezone.now()
    long_ago = now - timedelta(days=30)
    for first in range(0, count, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, count)):
            row = PhoneVerification(phone=f"{SEED_PREFIX}{i:07d}", send_count=1, last_sent_at=long_ago)
            kind = i % 10
            if kind < 7:
                row.verified_at = long_ago
            elif kind == 7:
                row.failed_attempts, row.locked_until = 3, now + timedelta(days=1)
            else:
                row.code_hash, row.code_expires_at = "0" * 64, long_ago
            rows.append(row)
        with transaction.atomic():
            PhoneVerification.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        # Statistics a real table of that size would have, so the planner is not judging an "empty" table.
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otpsite.settings")
    django.setup()
    print(f"{seed(int(sys.argv[1])):.1f}")
