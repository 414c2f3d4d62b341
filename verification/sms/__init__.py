"""Send text messages through the backend named by the SMS_BACKEND setting."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.utils.module_loading import import_string

from verification.conf import app_settings, backend_path


class SmsProblem(enum.Enum):
    """Why a message was not sent, in terms the person can act on, whatever the provider."""

    INVALID_NUMBER = "invalid_number"
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    OPTED_OUT = "opted_out"
    #: Anything the person cannot fix: provider down, slow, rate limiting, misconfiguration.
    UNAVAILABLE = "unavailable"


class CheckVerdict(enum.Enum):
    """What a provider that checks its own codes (Twilio Verify) said about a typed code."""

    APPROVED = "approved"
    WRONG = "wrong"
    #: No verification to check any more: expired, already approved, too many checks (20404, 60202, 60203).
    GONE = "gone"
    #: The provider could not be asked (timeout, outage, bad credentials): nothing is counted, the person may retry.
    UNAVAILABLE = "unavailable"


class SmsDeliveryError(Exception):
    """Raise when a backend could not hand a message to its provider."""

    def __init__(
        self,
        message: str,
        *,
        provider_code: int | str | None = None,
        problem: SmsProblem = SmsProblem.UNAVAILABLE,
    ) -> None:
        super().__init__(message)
        self.provider_code = provider_code
        self.problem = problem


@dataclass
class SmsMessage:
    """One message carrying a code; a backend fills in `sid` and `status` when its provider reports them.

    `via` says how it travels (sms, call or whatsapp; verification.vias.Via). A text message is `body`; a voice
    call reads `code` aloud in `language`, and a WhatsApp message puts `code` in an approved template, so
    those backends need the code itself, never free text.
    """

    to: str
    body: str
    sid: str = field(default="", compare=False)
    status: str = field(default="", compare=False)
    via: str = "sms"
    #: The code alone, for ways that carry it outside `body`; never logged (left out of repr).
    code: str = field(default="", compare=False, repr=False)
    #: The language of the page that asked (a Django language code such as "pt-br"); empty: the site's.
    language: str = ""
    #: Who carried it: the `provider` of the backend that sent it (set by send_sms and the failover chain).
    provider: str = field(default="", compare=False)


def get_connection(backend: str | None = None, fail_silently: bool = False, **kwargs):
    """Return an instance of the SMS backend, SMS_BACKEND by default."""
    klass = import_string(backend_path(backend) if backend else app_settings.sms_backend)
    return klass(fail_silently=fail_silently, **kwargs)


def send_sms(
    to: str,
    body: str,
    *,
    fail_silently: bool = False,
    connection=None,
    via: str = "sms",
    code: str = "",
    language: str = "",
) -> SmsMessage:
    """Send one message (by `via`) and return it (with its provider sid, if any)."""
    message = SmsMessage(to=to, body=body, via=via, code=code, language=language)
    connection = connection or get_connection(fail_silently=fail_silently)
    connection.send_messages([message])
    message.provider = message.provider or getattr(connection, "provider", "")
    return message
