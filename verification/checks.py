"""System checks that report misconfiguration at start-up rather than at request time."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

MIN_CODE_LENGTH = 6
TWILIO_BACKEND = "verification.sms.backends.twilio.SmsBackend"


@register()
def check_otp_settings(app_configs=None, **kwargs) -> list[Error]:
    """Refuse rules that would make codes guessable or flows impossible."""
    errors = []
    if settings.OTP_LENGTH < MIN_CODE_LENGTH:
        errors.append(
            Error(
                f"OTP_LENGTH is {settings.OTP_LENGTH}: "
                f"codes shorter than {MIN_CODE_LENGTH} digits are too easy to guess.",
                hint=f"Set OTP_LENGTH to {MIN_CODE_LENGTH} or more.",
                id="verification.E001",
            )
        )
    for name in ("OTP_TTL_SECONDS", "OTP_MAX_ATTEMPTS", "OTP_LOCKOUT_SECONDS"):
        if getattr(settings, name) < 1:
            errors.append(Error(f"{name} must be at least 1.", id="verification.E002"))
    if settings.OTP_RESEND_COOLDOWN_SECONDS < 0:
        errors.append(Error("OTP_RESEND_COOLDOWN_SECONDS must not be negative.", id="verification.E002"))
    region = settings.OTP_DEFAULT_REGION
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        errors.append(
            Error(
                f"OTP_DEFAULT_REGION {region!r} is not a region phonenumbers knows.",
                hint="Use a two-letter ISO 3166 code such as US or FR, or leave it unset.",
                id="verification.E003",
            )
        )
    return errors


@register()
def check_sms_backend(app_configs=None, **kwargs) -> list[Error]:
    """Report an SMS backend that cannot be loaded or lacks its credentials."""
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as exc:
        return [Error(f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {exc}", id="verification.E010")]
    errors = []
    if settings.SMS_BACKEND == TWILIO_BACKEND:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            errors.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
                    id="verification.E011",
                )
            )
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            errors.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID.",
                    id="verification.E012",
                )
            )
    return errors
