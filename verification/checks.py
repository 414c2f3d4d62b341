"""System checks that report misconfiguration at start-up rather than at request time."""

from __future__ import annotations

import re
import string
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from verification import send_limits
from verification.rates import parse_duration, parse_rates

MIN_CODE_LENGTH = 6
TWILIO_BACKEND = "verification.sms.backends.twilio.SmsBackend"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
SMS_TEMPLATE_FIELDS = frozenset({"code", "minutes", "app"})


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
        errors += _twilio_format_errors()
    return errors


def _twilio_format_errors() -> list[Error]:
    """Report Twilio settings that are set but cannot be right, before the first send fails."""
    errors = []
    sid = settings.TWILIO_ACCOUNT_SID
    if sid and not ACCOUNT_SID.fullmatch(sid):
        errors.append(
            Error(
                "TWILIO_ACCOUNT_SID is not an account SID.",
                hint="Copy it from the Twilio Console: AC followed by 32 hexadecimal digits.",
                id="verification.E013",
            )
        )
    service = settings.TWILIO_MESSAGING_SERVICE_SID
    if service and not MESSAGING_SERVICE_SID.fullmatch(service):
        errors.append(
            Error(
                "TWILIO_MESSAGING_SERVICE_SID is not a messaging service SID.",
                hint="MG followed by 32 hexadecimal digits.",
                id="verification.E014",
            )
        )
    sender = settings.TWILIO_FROM_NUMBER
    if sender and not E164.fullmatch(sender):
        errors.append(
            Error(
                f"TWILIO_FROM_NUMBER {sender!r} is not an E.164 number.",
                hint="Write it as + and country code and number, without spaces, e.g. +15005550006. "
                "Short codes and alphanumeric sender IDs go through TWILIO_MESSAGING_SERVICE_SID.",
                id="verification.E015",
            )
        )
    callback = urlsplit(settings.TWILIO_STATUS_CALLBACK_URL)
    if settings.TWILIO_STATUS_CALLBACK_URL and not (callback.scheme == "https" and callback.hostname):
        errors.append(
            Error(
                "TWILIO_STATUS_CALLBACK_URL must be an absolute https URL.",
                hint="The public address Twilio posts receipts to, e.g. https://verify.example.com/sms/status/.",
                id="verification.E016",
            )
        )
    return errors


@register()
def check_sms_text(app_configs=None, **kwargs) -> list[Error]:
    """Refuse an SMS template or WebOTP domain that would break every message."""
    errors = []
    template = settings.OTP_SMS_TEMPLATE
    problem = _template_problem(template) if template else None
    if problem:
        errors.append(
            Error(
                f"OTP_SMS_TEMPLATE {problem}.",
                hint="Use {code} (required), {minutes} and {app}; write {{ and }} for literal braces.",
                id="verification.E017",
            )
        )
    domain = settings.OTP_WEBOTP_DOMAIN
    if domain and not HOST_NAME.fullmatch(domain):
        errors.append(
            Error(
                f"OTP_WEBOTP_DOMAIN {domain!r} is not a host name.",
                hint="The site's host name alone, lower case, without scheme, port or path: e.g. verify.example.com.",
                id="verification.E018",
            )
        )
    return errors


def _template_problem(template: str) -> str | None:
    """Return what is wrong with an SMS template, or None."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return f"is malformed ({exc})"
    unknown = sorted(fields - SMS_TEMPLATE_FIELDS)
    if unknown:
        return "has unknown placeholders: " + ", ".join("{%s}" % name for name in unknown)
    if "code" not in fields:
        return "has no {code} placeholder"
    try:
        template.format(code="123456", minutes=2, app="app")
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return f"cannot be filled in ({exc})"
    return None


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
