"""python manage.py unlock_number +15551234567: lift a lock without admin access."""

from __future__ import annotations

import phonenumbers
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from verification import services
from verification.conf import app_settings
from verification.models import PhoneVerification
from verification.phone_numbers import display, to_e164


class Command(BaseCommand):
    help = (
        "Unlock a number locked by wrong codes; the unlock is recorded as an audit event with no staff user. "
        "Exits with status 1 when nothing was unlocked (invalid, unknown or not locked number)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="The number, in E.164 (+15551234567) or as OTP_DEFAULT_REGION allows.")

    def handle(self, *args, phone: str, **options) -> None:
        try:
            number = to_e164(phone, app_settings.default_region)
        except (phonenumbers.NumberParseException, ValueError) as exc:
            raise CommandError(f"{phone!r} is not a valid phone number.") from exc
        records = PhoneVerification.objects.filter(phone=number)
        if not records.exists():
            raise CommandError(f"{display(number)} has never asked for a code.")
        if not services.unlock(records, timezone.now()):
            raise CommandError(f"{display(number)} is not locked.")
        self.stdout.write(f"Unlocked {display(number)}.")
