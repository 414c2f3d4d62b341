"""Send text messages through the backend named by settings.SMS_BACKEND."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


class SmsDeliveryError(Exception):
    """Raise when a backend could not hand a message to its provider."""

    def __init__(self, message: str, *, provider_code: int | str | None = None) -> None:
        super().__init__(message)
        self.provider_code = provider_code


@dataclass
class SmsMessage:
    """One text message; a backend fills in `sid` when its provider assigns one."""

    to: str
    body: str
    sid: str = field(default="", compare=False)


def get_connection(backend: str | None = None, fail_silently: bool = False, **kwargs):
    """Return an instance of the SMS backend, settings.SMS_BACKEND by default."""
    klass = import_string(backend or settings.SMS_BACKEND)
    return klass(fail_silently=fail_silently, **kwargs)


def send_sms(to: str, body: str, *, fail_silently: bool = False, connection=None) -> SmsMessage:
    """Send one message and return it (with its provider sid, if any)."""
    message = SmsMessage(to=to, body=body)
    connection = connection or get_connection(fail_silently=fail_silently)
    connection.send_messages([message])
    return message
