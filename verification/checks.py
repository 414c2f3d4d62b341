"""System checks that report misconfiguration at start-up rather than at request time.

They read every setting through verification.conf, so a value the app could not parse at request
time is reported here first. Twilio's own checks are in verification.sms.checks.
"""

from __future__ import annotations

import re
import string

import phonenumbers
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch

from verification.conf import LIMIT_SETTINGS, SETTINGS, app_settings

MIN_CODE_LENGTH = 6
HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
SMS_TEMPLATE_FIELDS = frozenset({"code", "minutes", "app"})
#: Settings with a check of their own, which says better what is wrong with them.
_CHECKED_ELSEWHERE = {"OTP_PUMPING_WINDOW", "OTP_PUMPING_PAUSE", "OTP_OUTAGE_PROBE_INTERVAL"}


@register()
def check_setting_types(app_configs=None, **kwargs) -> list[Error]:
    """Report any setting that cannot be read as the type the app needs."""
    errors = []
    for name, setting in SETTINGS.items():
        if name in _CHECKED_ELSEWHERE:
            continue
        try:
            setting.__get__(app_settings)
        except (TypeError, ValueError) as exc:
            errors.append(Error(f"{name} cannot be read: {exc}", id="verification.E005"))
    return errors


@register()
def check_otp_settings(app_configs=None, **kwargs) -> list[Error]:
    """Refuse rules that would make codes guessable or flows impossible."""
    if check_setting_types():
        return []
    errors = []
    if app_settings.length < MIN_CODE_LENGTH:
        errors.append(
            Error(
                f"OTP_LENGTH is {app_settings.length}: "
                f"codes shorter than {MIN_CODE_LENGTH} digits are too easy to guess.",
                hint=f"Set OTP_LENGTH to {MIN_CODE_LENGTH} or more.",
                id="verification.E001",
            )
        )
    for name in ("ttl_seconds", "max_attempts", "lockout_seconds", "token_max_age"):
        if getattr(app_settings, name) < 1:
            errors.append(Error(f"OTP_{name.upper()} must be at least 1.", id="verification.E002"))
    if app_settings.resend_cooldown_seconds < 0:
        errors.append(Error("OTP_RESEND_COOLDOWN_SECONDS must not be negative.", id="verification.E004"))
    region = app_settings.default_region
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
def check_sms_text(app_configs=None, **kwargs) -> list[Error]:
    """Refuse an SMS template or WebOTP domain that would break every message."""
    errors = []
    template = app_settings.sms_template
    problem = _template_problem(template) if template else None
    if problem:
        errors.append(
            Error(
                f"OTP_SMS_TEMPLATE {problem}.",
                hint="Use {code} (required), {minutes} and {app}; write {{ and }} for literal braces.",
                id="verification.E017",
            )
        )
    domain = app_settings.webotp_domain
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
    for scope, name in LIMIT_SETTINGS.items():
        try:
            app_settings.send_limits(scope)
        except ValueError as exc:
            errors.append(
                Error(
                    f"{name} is not a rate list: {exc}",
                    hint='Write counts per window separated by commas, e.g. "5/1h,10/1d" (units s, m, h, d).',
                    id="verification.E020",
                )
            )
    for name in ("pumping_window", "pumping_pause", "outage_probe_interval"):
        try:
            getattr(app_settings, name)
        except ValueError as exc:
            errors.append(
                Error(f"OTP_{name.upper()}: {exc}", hint='e.g. "1h", "30m" or seconds', id="verification.E021")
            )
    if check_setting_types():
        return errors
    if not 1 <= app_settings.ipv6_prefix_length <= 128:
        errors.append(
            Error(
                f"OTP_IPV6_PREFIX_LENGTH is {app_settings.ipv6_prefix_length}: a prefix length is 1 to 128.",
                hint="64 counts each IPv6 /64 (usually one household or server) as one client.",
                id="verification.E025",
            )
        )
    if app_settings.pumping_min_sends < 0:
        errors.append(Error("OTP_PUMPING_MIN_SENDS must be 0 (brake off) or more.", id="verification.E022"))
    for name in ("pumping_prefix_digits", "outage_failures"):
        if getattr(app_settings, name) < 0:
            errors.append(Error(f"OTP_{name.upper()} must be 0 or more.", id="verification.E026"))
    if not 0 <= app_settings.pumping_min_conversion <= 1:
        errors.append(Error("OTP_PUMPING_MIN_CONVERSION is a share between 0 and 1, e.g. 0.2.", id="verification.E024"))
    unknown = sorted(code for code in app_settings.allowed_countries if code not in phonenumbers.SUPPORTED_REGIONS)
    if unknown:
        errors.append(
            Error(
                f"OTP_ALLOWED_COUNTRIES names regions phonenumbers does not know: {', '.join(unknown)}.",
                hint="Use two-letter ISO 3166 codes such as US,CA,GB, or leave it empty to allow every country.",
                id="verification.E023",
            )
        )
    return errors


@register(Tags.urls)
def check_verified_redirect_url(app_configs=None, **kwargs) -> list[Error]:
    """Refuse an OTP_VERIFIED_REDIRECT_URL that is neither a URL nor the name of one of the project's routes."""
    value = app_settings.verified_redirect_url
    try:
        resolve_url(value)
    except NoReverseMatch:
        return [
            Error(
                f"OTP_VERIFIED_REDIRECT_URL {value!r} is neither a URL nor the name of a route.",
                hint="Use a path such as '/welcome/' or a route name such as 'accounts:profile'. The default, "
                "'verification:verified', needs the app's URLs: path('phone/', include('verification.urls')).",
                id="verification.E027",
            )
        ]
    return []


E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@register()
def check_bot_challenge(app_configs=None, **kwargs) -> list[Error]:
    """Refuse a bot challenge that cannot work: no site key or secret, or addresses that are not URLs."""
    if check_setting_types() or not app_settings.bot_challenge:
        return []
    errors = []
    for name in ("site_key", "secret"):
        if not getattr(app_settings, f"bot_challenge_{name}"):
            errors.append(
                Error(
                    f"OTP_BOT_CHALLENGE is {app_settings.bot_challenge!r} "
                    f"but OTP_BOT_CHALLENGE_{name.upper()} is empty.",
                    hint="Copy the site key and the secret key from the provider's dashboard, or set "
                    'OTP_BOT_CHALLENGE to "" to turn the challenge off.',
                    id="verification.E030",
                )
            )
    for name in ("verify_url", "script_url"):
        value = getattr(app_settings, f"bot_challenge_{name}")
        if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            errors.append(
                Error(
                    f"OTP_BOT_CHALLENGE_{name.upper()} {value!r} is not an http(s) URL.",
                    hint="Leave it empty for the provider's own address.",
                    id="verification.E031",
                )
            )
    if app_settings.bot_challenge_timeout_seconds <= 0:
        errors.append(Error("OTP_BOT_CHALLENGE_TIMEOUT_SECONDS must be more than 0.", id="verification.E032"))
    return errors


@register()
def check_test_numbers(app_configs=None, **kwargs) -> list[Error]:
    """Refuse test numbers that are not E.164 numbers or whose codes are not OTP_LENGTH digits."""
    if check_setting_types():
        return []
    errors = []
    for number, code in app_settings.test_numbers.items():
        if not E164.fullmatch(number):
            errors.append(
                Error(
                    f"OTP_TEST_NUMBERS: {number!r} is not a number in E.164.",
                    hint="Write + and the country code, digits only, e.g. +15555550100.",
                    id="verification.E033",
                )
            )
        if not re.fullmatch(rf"[0-9]{{{app_settings.length}}}", code):
            errors.append(
                Error(
                    f"OTP_TEST_NUMBERS: the code of {number!r} is not {app_settings.length} digits (OTP_LENGTH).",
                    id="verification.E034",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def check_test_numbers_end(app_configs=None, **kwargs) -> list[Warning]:
    """With DEBUG off, warn about test numbers that stay valid forever (check --deploy runs this)."""
    if settings.DEBUG or check_setting_types() or not app_settings.test_numbers:
        return []
    if app_settings.test_numbers_valid_until is not None:
        return []
    return [
        Warning(
            f"OTP_TEST_NUMBERS holds {len(app_settings.test_numbers)} test number(s) with no end date: anyone who "
            "learns one and its code can verify it, and it is sent nothing and counted by no limit, forever.",
            hint="Set OTP_TEST_NUMBERS_VALID_UNTIL (e.g. 2026-12-31) to the end of the review or test campaign.",
            id="verification.W001",
        )
    ]
