"""System checks that report misconfiguration at start-up rather than at request time."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from verification import send_limits
from verification.rates import parse_duration, parse_rates

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


@register()
def check_abuse_settings(app_configs=None, **kwargs) -> list[Error]:
    """Report send limits, destinations and pumping-brake settings that cannot be read."""
    errors = []
    for name in send_limits.SCOPE_SETTINGS.values():
        try:
            parse_rates(getattr(settings, name))
        except ValueError as exc:
            errors.append(
                Error(
                    f"{name} is not a rate list: {exc}",
                    hint='Write counts per window separated by commas, e.g. "5/1h,10/1d" (units s, m, h, d).',
                    id="verification.E020",
                )
            )
    for name in ("OTP_PUMPING_WINDOW", "OTP_PUMPING_PAUSE"):
        try:
            parse_duration(getattr(settings, name))
        except ValueError as exc:
            errors.append(Error(f"{name}: {exc}", hint='e.g. "1h", "30m" or seconds', id="verification.E021"))
    if settings.OTP_PUMPING_MIN_SENDS < 0:
        errors.append(Error("OTP_PUMPING_MIN_SENDS must be 0 (brake off) or more.", id="verification.E022"))
    if not 0 <= settings.OTP_PUMPING_MIN_CONVERSION <= 1:
        errors.append(Error("OTP_PUMPING_MIN_CONVERSION is a share between 0 and 1, e.g. 0.2.", id="verification.E022"))
    unknown = [code for code in settings.OTP_ALLOWED_COUNTRIES if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        errors.append(
            Error(
                f"OTP_ALLOWED_COUNTRIES names regions phonenumbers does not know: {', '.join(unknown)}.",
                hint="Use two-letter ISO 3166 codes such as US,CA,GB, or leave it empty to allow every country.",
                id="verification.E023",
            )
        )
    return errors
