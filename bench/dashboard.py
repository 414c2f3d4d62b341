"""How the admin dashboard fares over a big audit trail: `python -m bench.dashboard [--events 1000000]`.

A copy of a database seeded once by bench/dashboard_seed.py (kept in .bench-cache/ for SQLite, as a template
database for PostgreSQL, like `make bench`'s) holds `--events` audit events over seven days; this process then
becomes the site on that copy and renders /admin/verification/dashboard/ for each window as a logged-in
superuser, the clock set to the moment the seeding ended, and prints the query count and time (median and
slowest of `--repeat`). The copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.servers import base_environ, drop_database, fresh_database, seeded_template

SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "otpsite.settings",
    # DEBUG: static files need no collectstatic for this in-process measure.
    "DJANGO_DEBUG": "true",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    "DJANGO_ENV_FILE": os.devnull,
}


def measure(repeat: int) -> list[tuple[str, int, float, float]]:
    """Return, per window, the dashboard's query count and its median and slowest time in ms."""
    import time_machine
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from verification.admin.figures import WINDOWS
    from verification.models import VerificationEvent

    if connection.vendor == "postgresql":
        # What autovacuum does to a table that has lived a while: without a visibility map, PostgreSQL must visit
        # the table for every row an index-only scan finds.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench only")
    client = Client()
    # The seeding's "now": its latest event, a second on.
    seeded_at = VerificationEvent.objects.latest("created_at").created_at + timedelta(seconds=1)
    rows = []
    with time_machine.travel(seeded_at):
        client.force_login(user)
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
    seeded = f"seeded in {seeding:.0f} s" if seeding else "seeded database reused"
    lines = [
        f"Dashboard over {events:,} events and {int(events / 2.5):,} messages ({engine}; {seeded})",
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
    template, seeding = seeded_template(
        database_url,
        args.events,
        lambda url: base_environ(DATABASE_URL=url, **SETTINGS),
        seeder="bench.dashboard_seed",
    )
    with tempfile.TemporaryDirectory(prefix="otp-bench-dashboard-") as workdir:
        url = fresh_database(database_url, Path(workdir), "dashboard", template=template)
        try:
            # This process becomes the site, on the copy.
            os.environ.update(DATABASE_URL=url, **SETTINGS)
            import django
            from django.db import connection

            django.setup()
            rows = measure(args.repeat)
            connection.close()
        finally:
            drop_database(url)
    engine = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(render(args.events, seeding, engine, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
