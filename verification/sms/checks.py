"""System checks of SMS delivery: the backend loads and, in production, delivers; Twilio's settings are complete."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from verification.conf import TWILIO_SMS_BACKEND, app_settings

ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
#: Backends that keep each message on this machine (a log, a folder, a list), full number and code included.
NON_DELIVERING_BACKENDS = frozenset(
    f"verification.sms.backends.{name}.SmsBackend" for name in ("console", "filebased", "locmem")
)


@register()
def check_sms_backend(app_configs=None, **kwargs) -> list[Error]:
    """Report an SMS backend that cannot be loaded or lacks its credentials."""
    backend = app_settings.sms_backend
    try:
        import_string(backend)
    except ImportError as exc:
        return [Error(f"SMS_BACKEND {backend!r} cannot be imported: {exc}", id="verification.E010")]
    errors = []
    if backend == TWILIO_SMS_BACKEND:
        if not (app_settings.twilio_account_sid and app_settings.twilio_auth_token):
            errors.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
                    id="verification.E011",
                )
            )
        if not (app_settings.twilio_from_number or app_settings.twilio_messaging_service_sid):
            errors.append(
                Error(
                    "The Twilio SMS backend needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID.",
                    id="verification.E012",
                )
            )
        errors += _twilio_format_errors()
    return errors


@register(Tags.security, deploy=True)
def check_sms_backend_delivers(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off, refuse a backend that sends nobody anything (check --deploy runs this)."""
    backend = app_settings.sms_backend
    if settings.DEBUG or backend not in NON_DELIVERING_BACKENDS:
        return []
    return [
        Error(
            f"SMS_BACKEND is {backend}, which delivers no SMS: nobody receives a code, and each one is kept "
            "on this machine with the full number.",
            hint="Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (the Twilio backend is then the "
            "default), or SMS_BACKEND to a backend that delivers. Development sets DJANGO_DEBUG=true.",
            id="verification.E019",
        )
    ]


def _twilio_format_errors() -> list[Error]:
    """Report Twilio settings that are set but cannot be right, before the first send fails."""
    errors = []
    sid = app_settings.twilio_account_sid
    if sid and not ACCOUNT_SID.fullmatch(sid):
        errors.append(
            Error(
                "TWILIO_ACCOUNT_SID is not an account SID.",
                hint="Copy it from the Twilio Console: AC followed by 32 hexadecimal digits.",
                id="verification.E013",
            )
        )
    service = app_settings.twilio_messaging_service_sid
    if service and not MESSAGING_SERVICE_SID.fullmatch(service):
        errors.append(
            Error(
                "TWILIO_MESSAGING_SERVICE_SID is not a messaging service SID.",
                hint="MG followed by 32 hexadecimal digits.",
                id="verification.E014",
            )
        )
    sender = app_settings.twilio_from_number
    if sender and not E164.fullmatch(sender):
        errors.append(
            Error(
                f"TWILIO_FROM_NUMBER {sender!r} is not an E.164 number.",
                hint="Write it as + and country code and number, without spaces, e.g. +15005550006. "
                "Short codes and alphanumeric sender IDs go through TWILIO_MESSAGING_SERVICE_SID.",
                id="verification.E015",
            )
        )
    callback_url = app_settings.twilio_status_callback_url
    callback = urlsplit(callback_url)
    if callback_url and not (callback.scheme == "https" and callback.hostname):
        errors.append(
            Error(
                "TWILIO_STATUS_CALLBACK_URL must be an absolute https URL.",
                hint="The public address Twilio posts receipts to, e.g. https://verify.example.com/sms/status/.",
                id="verification.E016",
            )
        )
    return errors


CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


@register()
def check_delivery_methods(app_configs=None, **kwargs) -> list[Error]:
    """Report a way in OTP_DELIVERY_METHODS that the SMS backend cannot deliver, or lacks the settings for."""
    try:
        vias = app_settings.delivery_methods
        backend = import_string(app_settings.sms_backend)
    except (ImportError, ValueError, TypeError):
        return []  # reported by check_sms_backend and the settings check
    errors = []
    delivers = getattr(backend, "delivers", lambda via: via == "sms")
    for via in vias:
        if not delivers(via):
            errors.append(
                Error(
                    f"OTP_DELIVERY_METHODS lists {via!r}, which SMS_BACKEND {app_settings.sms_backend} cannot deliver.",
                    hint="Remove it from OTP_DELIVERY_METHODS, or use a backend that delivers it (twilio: sms, call, "
                    "whatsapp).",
                    id="verification.E060",
                )
            )
    if app_settings.sms_backend != TWILIO_SMS_BACKEND:
        return errors
    if "call" in vias and not app_settings.twilio_caller:
        errors.append(
            Error(
                "Voice calls are enabled (OTP_DELIVERY_METHODS) but Twilio has no number to call from.",
                hint="Set TWILIO_CALL_FROM (or TWILIO_FROM_NUMBER) to a voice-capable Twilio number in E.164.",
                id="verification.E061",
            )
        )
    if "whatsapp" in vias:
        sender = app_settings.twilio_whatsapp_from.removeprefix("whatsapp:")
        template = app_settings.twilio_whatsapp_content_sid
        if not E164.fullmatch(sender) or not CONTENT_SID.fullmatch(template):
            errors.append(
                Error(
                    "WhatsApp is enabled (OTP_DELIVERY_METHODS) but TWILIO_WHATSAPP_FROM or "
                    "TWILIO_WHATSAPP_CONTENT_SID is missing or malformed.",
                    hint="TWILIO_WHATSAPP_FROM is your WhatsApp sender in E.164; TWILIO_WHATSAPP_CONTENT_SID the HX… "
                    "SID of an approved authentication template whose variable {{1}} is the code.",
                    id="verification.E062",
                )
            )
    return errors
