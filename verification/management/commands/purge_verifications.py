"""python manage.py purge_verifications [--dry-run]: apply the retention period (run it daily from cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from verification.conf import app_settings
from verification.retention import purge


class Command(BaseCommand):
    help = (
        "Delete audit events older than OTP_EVENT_RETENTION_DAYS, numbers idle for as long "
        "(never a locked number or one with a live code) and expired sessions."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        purged = purge(timezone.now(), dry_run=dry_run)
        sessions = "not counted by this session engine" if purged.sessions is None else purged.sessions
        self.stdout.write(
            f"{'Would delete' if dry_run else 'Deleted'} "
            f"(retention {app_settings.event_retention_days} days): events {purged.events}, "
            f"idle numbers {purged.numbers}, expired sessions {sessions}"
        )
