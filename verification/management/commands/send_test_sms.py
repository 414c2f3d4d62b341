"""Send one test SMS through a provider, to check its credentials and sender; or through each provider a number's
failover chain would try, to check them all before the day one of them is needed."""

from __future__ import annotations

import phonenumbers
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from verification.conf import app_settings, backend_path
from verification.sms import SmsDeliveryError, chain, get_connection, routes, send_sms


class Command(BaseCommand):
    help = (
        "Send a test SMS to a number through SMS_BACKEND (or --provider, or --each provider of the number's chain) "
        "and report what each provider said."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="Number to send to, e.g. +15551234567.")
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--provider", help="A backend's short name (twilio, vonage, hook, ...) or dotted path; default SMS_BACKEND."
        )
        which.add_argument(
            "--each",
            action="store_true",
            help="One message through each provider the number's chain would try (SMS_BACKEND, "
            "SMS_FALLBACK_BACKENDS, or its SMS_ROUTES entry), in order.",
        )

    def handle(self, *args, phone: str, provider: str | None = None, each: bool = False, **options) -> None:
        to = self._number(phone)
        if each:
            backends = routes.backends_for(to)
        else:
            backends = (backend_path(provider) if provider else app_settings.sms_backend,)
        try:
            for backend in backends:
                import_string(backend)
        except ImportError as exc:
            raise CommandError(f"No SMS backend {backend!r}: {exc}") from exc
        if len(backends) == 1:
            problem = self._send(to, backends[0])
            if problem:
                raise CommandError(f"Not sent: {problem}")
            return
        failed = []
        for backend in backends:
            problem = self._send(to, backend)
            if problem:
                self.stderr.write(f"Not sent: {problem}")
                failed.append(backend)
        if failed:
            raise CommandError(f"Not sent through {len(failed)} of {len(backends)}: {', '.join(failed)}.")

    def _number(self, phone: str) -> str:
        # Only "possible", not "valid": Twilio's test numbers (+1 555 ...) must get through, and
        # judging the number is part of what this command is for.
        try:
            number = phonenumbers.parse(phone, app_settings.default_region)
        except phonenumbers.NumberParseException as exc:
            raise CommandError(f"{phone!r} is not a phone number.") from exc
        if not phonenumbers.is_possible_number(number):
            raise CommandError(f"{phone!r} is not a phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def _send(self, to: str, backend: str) -> str:
        """Send the test message through `backend` and write what happened; return why it was not sent, or ""."""
        self.stdout.write(f"Sending a test SMS to {to} through {backend} ...")
        if chain.makes_code(backend):
            # Twilio Verify texts a code of its own making, never the text it is given.
            self.stdout.write(
                self.style.WARNING("Skipped: this provider sends only codes it makes; ask for a code on the site.")
            )
            return ""
        body = gettext("Test message from %(app)s: SMS delivery works.") % {"app": app_settings.app_name}
        try:
            message = send_sms(to, body, connection=get_connection(backend))
        except SmsDeliveryError as exc:
            code = f", provider error {exc.provider_code}" if exc.provider_code is not None else ""
            return f"{exc.problem.value}{code}. {exc}"
        if message.sid:
            self.stdout.write(self.style.SUCCESS(f"Sent: sid {message.sid}, status {message.status or 'unknown'}."))
        else:
            self.stdout.write(self.style.SUCCESS("Sent (this backend reports no message sid)."))
        return ""
