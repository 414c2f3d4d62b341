"""System checks of SMS delivery: the backend loads and, in production, delivers; Twilio's settings are complete."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from verification.conf import SMS_BACKEND_NAMES, TWILIO_SMS_BACKEND, app_settings
from verification.sms import routes

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


#: Settings each bundled backend cannot work without (groups: one of them is enough).
REQUIRED_SETTINGS = {
    SMS_BACKEND_NAMES["twilio"]: [
        ("TWILIO_ACCOUNT_SID",),
        ("TWILIO_AUTH_TOKEN",),
        ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"),
    ],
    SMS_BACKEND_NAMES["hook"]: [("SMS_HOOK_URL",), ("SMS_HOOK_SECRET",)],
    SMS_BACKEND_NAMES["vonage"]: [
        ("VONAGE_API_KEY",),
        ("VONAGE_API_SECRET", "VONAGE_SIGNATURE_SECRET"),
        ("VONAGE_FROM",),
    ],
    SMS_BACKEND_NAMES["twilio_verify"]: [
        ("TWILIO_ACCOUNT_SID",),
        ("TWILIO_AUTH_TOKEN",),
        ("TWILIO_VERIFY_SERVICE_SID",),
    ],
}


@register()
def check_sms_chain(app_configs=None, **kwargs) -> list[Error]:
    """Report fallbacks and routes that name an unknown backend, a region the site refuses, or lack settings."""
    from verification.conf import SETTINGS

    errors = []
    try:
        fallbacks, route_map = app_settings.sms_fallback_backends, app_settings.sms_routes
    except (TypeError, ValueError) as exc:
        return [Error(f"SMS_FALLBACK_BACKENDS or SMS_ROUTES cannot be read: {exc}", id="verification.E040")]
    for backend in dict.fromkeys([*fallbacks, *(b for route in route_map.values() for b in route)]):
        try:
            import_string(backend)
        except ImportError as exc:
            errors.append(
                Error(
                    f"SMS backend {backend!r} (SMS_FALLBACK_BACKENDS or SMS_ROUTES) cannot be imported: {exc}",
                    hint="Name a bundled backend by its short name (" + ", ".join(SMS_BACKEND_NAMES) + ") "
                    "or give a dotted path.",
                    id="verification.E041",
                )
            )
    allowed = app_settings.allowed_countries
    for region in route_map:
        if region == "*":
            continue
        if not (len(region) == 2 and region.isalpha()):
            errors.append(
                Error(f"SMS_ROUTES region {region!r} is not a two-letter region code.", id="verification.E042")
            )
        elif allowed and region not in allowed:
            errors.append(
                Error(
                    f"SMS_ROUTES routes {region}, a region OTP_ALLOWED_COUNTRIES refuses: no code is ever sent there.",
                    hint="Remove the route, or add the region to OTP_ALLOWED_COUNTRIES.",
                    id="verification.E043",
                )
            )
    for backend in routes.every_backend():
        if backend == app_settings.sms_backend == TWILIO_SMS_BACKEND:
            continue  # check_sms_backend reports it (E011, E012)
        for group in REQUIRED_SETTINGS.get(backend, ()):
            if not any(SETTINGS[name].__get__(app_settings) for name in group):
                errors.append(
                    Error(
                        f"SMS backend {backend} needs {' or '.join(group)}.",
                        id="verification.E044",
                    )
                )
    hook_secret = app_settings.sms_hook_secret
    if hook_secret and not all(
        secret.startswith("whsec_") and _base64(secret.removeprefix("whsec_")) for secret in hook_secret.split()
    ):
        errors.append(
            Error(
                "SMS_HOOK_SECRET must be one or more whsec_ secrets (whsec_ followed by base64), space-separated.",
                hint="Generate one with: python -c \"import base64,secrets; print('whsec_' + "
                'base64.b64encode(secrets.token_bytes(32)).decode())"',
                id="verification.E045",
            )
        )
    return errors


def _base64(text: str) -> bool:
    import base64
    import binascii

    try:
        return bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False


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
    """Report a way in OTP_DELIVERY_METHODS that no SMS backend (SMS_BACKEND, SMS_FALLBACK_BACKENDS, SMS_ROUTES)
    can deliver, or that Twilio lacks the settings for."""
    try:
        vias = app_settings.delivery_methods
        import_string(app_settings.sms_backend)
        backends = routes.every_backend()
    except (ImportError, ValueError, TypeError):
        return []  # reported by check_sms_backend and the settings checks
    errors = []
    # Each chain a number may get: SMS_BACKEND and its fallbacks, and each region's route.
    chains = {"SMS_BACKEND and SMS_FALLBACK_BACKENDS": routes.default_chain()}
    for region, route in app_settings.sms_routes.items():
        chains[f"SMS_ROUTES {region}"] = tuple(route)
    for via in vias:
        lacking = [name for name, chain in chains.items() if not routes.backends_that_deliver(via, chain)]
        if lacking:
            errors.append(
                Error(
                    f"OTP_DELIVERY_METHODS lists {via!r}, which no backend of {', '.join(lacking)} can deliver.",
                    hint="Remove it from OTP_DELIVERY_METHODS, or add a backend that delivers it (twilio, "
                    "twilio_verify, hook: sms, call, whatsapp) to that chain.",
                    id="verification.E060",
                )
            )
    if TWILIO_SMS_BACKEND not in backends:
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
