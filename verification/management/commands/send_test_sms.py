"""Send one test SMS through the configured backend, to check provider credentials and sender."""

from __future__ import annotations

import phonenumbers
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from verification.conf import app_settings
from verification.sms import SmsDeliveryError, send_sms


class Command(BaseCommand):
    help = "Send a test SMS to a number through SMS_BACKEND and report what the provider said."

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="Number to send to, e.g. +15551234567.")

    def handle(self, *args, phone: str, **options) -> None:
        # Only "possible", not "valid": Twilio's test numbers (+1 555 ...) must get through, and
        # judging the number is part of what this command is for.
        try:
            number = phonenumbers.parse(phone, app_settings.default_region)
        except phonenumbers.NumberParseException as exc:
            raise CommandError(f"{phone!r} is not a phone number.") from exc
        if not phonenumbers.is_possible_number(number):
            raise CommandError(f"{phone!r} is not a phone number.")
        to = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        body = gettext("Test message from %(app)s: SMS delivery works.") % {"app": app_settings.app_name}
        self.stdout.write(f"Sending a test SMS to {to} through {app_settings.sms_backend} ...")
        try:
            message = send_sms(to, body)
        except SmsDeliveryError as exc:
            code = f", provider error {exc.provider_code}" if exc.provider_code is not None else ""
            raise CommandError(f"Not sent: {exc.problem.value}{code}. {exc}") from exc
        if message.sid:
            self.stdout.write(self.style.SUCCESS(f"Sent: sid {message.sid}, status {message.status or 'unknown'}."))
        else:
            self.stdout.write(self.style.SUCCESS("Sent (this backend reports no message sid)."))
