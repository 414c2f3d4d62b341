"""Every setting the app reads, with its default: the only module that reads OTP_, SMS_, TWILIO_ and VONAGE_ settings.

A project that sets none of them gets the defaults below (the README's table lists the same). Values are
read from django.conf.settings at each access, so override_settings works; what needs parsing (rate
lists, durations, country lists) is parsed once per distinct value. A value that cannot be read raises
ValueError or TypeError; the system checks (verification.checks) read every setting at start-up and report it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

from django.conf import settings

from verification.limits.rates import Rate, parse_duration, parse_rates

#: The ways a code can travel (verification.vias.Via), spelled here so settings can be read while models load.
VIAS = ("sms", "call", "whatsapp")

CONSOLE_SMS_BACKEND = "verification.sms.backends.console.SmsBackend"
TWILIO_SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"
#: Short names of the bundled SMS backends, accepted wherever a backend is named (SMS_BACKEND, fallbacks, routes).
SMS_BACKEND_NAMES = {
    name: f"verification.sms.backends.{name}.SmsBackend"
    for name in ("console", "locmem", "filebased", "twilio", "twilio_verify", "vonage", "hook")
}


def backend_path(name: str) -> str:
    """Return the dotted path of a backend named by its short name (twilio, hook, ...) or its dotted path."""
    name = name.strip()
    return SMS_BACKEND_NAMES.get(name.lower(), name)


#: The send limits by scope, in the order a refusal is reported: scope -> attribute of AppSettings.
LIMIT_ATTRIBUTES = {
    "number": "send_limits_per_number",
    "ip": "send_limits_per_ip",
    "session": "send_limits_per_session",
    "budget": "send_budget",
}


class Setting:
    """One setting: its name, its default, and how its value is read."""

    def __init__(self, name: str, default: object, read: Callable[[object], object] = lambda value: value) -> None:
        self.name, self.default, self.read = name, default, read

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return self.read(getattr(settings, self.name, self.default))


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _region(value: object) -> str | None:
    return _text(value).strip().upper() or None


@lru_cache(maxsize=64)
def _region_set(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(code.strip().upper() for code in codes if code.strip())


def _regions(value: object) -> frozenset[str]:
    codes = (value or "").split(",") if isinstance(value, str | None) else value
    return _region_set(tuple(codes))


@lru_cache(maxsize=16)
def _via_tuple(names: tuple[str, ...]) -> tuple[str, ...]:
    vias = tuple(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
    unknown = [via for via in vias if via not in VIAS]
    if unknown:
        raise ValueError(f"unknown delivery method {unknown[0]!r}: write sms, call or whatsapp")
    if not vias:
        raise ValueError("OTP_DELIVERY_METHODS names no delivery method: write at least sms, call or whatsapp")
    return vias


def _vias(value: object) -> tuple[str, ...]:
    names = (value or "").split(",") if isinstance(value, str | None) else value
    return _via_tuple(tuple(names))


def _optional_regions(value: object) -> frozenset[str] | None:
    return None if value is None else _regions(value)


def _duration(value: object) -> timedelta:
    return timedelta(seconds=parse_duration(value))


def _backends(value: object) -> tuple[str, ...]:
    names = (value or "").replace(",", " ").split() if isinstance(value, str | None) else value
    return tuple(backend_path(str(name)) for name in names if str(name).strip())


def _routes(value: object) -> dict[str, tuple[str, ...]]:
    """Read SMS_ROUTES: a dict region -> backends, or text such as "FR=vonage,twilio; US=twilio_verify; *=twilio"."""
    if isinstance(value, str | None):
        pairs = []
        for part in (value or "").split(";"):
            if part.strip():
                region, separator, backends = part.partition("=")
                if not separator:
                    raise ValueError(f"SMS_ROUTES entry {part.strip()!r} is not REGION=backend,backend")
                pairs.append((region, backends))
    else:
        pairs = list(dict(value).items())
    routes = {}
    for region, backends in pairs:
        region = str(region).strip().upper()
        routes[region] = _backends(backends)
        if not routes[region]:
            raise ValueError(f"SMS_ROUTES names no backend for {region}")
    return routes


def _hosts(value: object) -> frozenset[str]:
    names = (value or "").split(",") if isinstance(value, str | None) else value
    return frozenset(name.strip().lower() for name in names if name.strip())


def _test_numbers(value: object) -> dict[str, str]:
    """Return OTP_TEST_NUMBERS as {E.164 number: code}: a dict, or text written "+15555550100=123456,..."."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        pairs = [part.partition("=") for part in value.split(",") if part.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError('write number=code pairs separated by commas, e.g. "+15555550100=123456"')
        return {number.strip(): code.strip() for number, _, code in pairs}
    if not isinstance(value, dict):
        raise TypeError("a dict of number -> code, or text such as +15555550100=123456,+15555550101=654321")
    return {str(number).strip(): str(code).strip() for number, code in value.items()}


def _date(value: object) -> date | None:
    """Return a date (a date, or text in ISO 8601 such as 2026-12-31), or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise TypeError("a date, or text such as 2026-12-31")


def _choice(*allowed: str) -> Callable[[object], str]:
    def read(value: object) -> str:
        text = _text(value).strip().lower()
        if text not in allowed:
            raise ValueError(f"{value!r} is not one of: {', '.join(repr(a) for a in allowed)}")
        return text

    return read


class AppSettings:
    """The app's settings, typed and parsed: each attribute is its setting's name, lower case, without OTP_."""

    # The rules of a code.
    length = Setting("OTP_LENGTH", 6, int)
    ttl_seconds = Setting("OTP_TTL_SECONDS", 120, int)
    max_attempts = Setting("OTP_MAX_ATTEMPTS", 3, int)
    lockout_seconds = Setting("OTP_LOCKOUT_SECONDS", 600, int)
    resend_cooldown_seconds = Setting("OTP_RESEND_COOLDOWN_SECONDS", 120, int)
    #: The region of numbers typed without +, upper case, or None.
    default_region = Setting("OTP_DEFAULT_REGION", None, _region)
    trusted_proxy_count = Setting("OTP_TRUSTED_PROXY_COUNT", 0, int)
    #: The per-IP limit counts an IPv6 client by the network of this prefix length, an IPv4 client by its address.
    ipv6_prefix_length = Setting("OTP_IPV6_PREFIX_LENGTH", 64, int)
    event_retention_days = Setting("OTP_EVENT_RETENTION_DAYS", 90, int)
    #: Seconds a token from the JSON API's check is accepted by verification.shortcuts.phone_from_token.
    token_max_age = Setting("OTP_TOKEN_MAX_AGE", 600, int)
    # The way back to the host: a URL name or path (resolve_url), and hosts besides the request's own.
    verified_redirect_url = Setting("OTP_VERIFIED_REDIRECT_URL", "verification:verified", _text)
    allowed_redirect_hosts = Setting("OTP_ALLOWED_REDIRECT_HOSTS", (), _hosts)
    #: The bearer token a Prometheus scraper must present at /metrics; empty: the route answers 404.
    metrics_token = Setting("OTP_METRICS_TOKEN", "", _text)
    # Signing in with a phone (verification.auth) and the host's adapter.
    #: The dotted path of the adapter class, the host's one place for decisions (verification.adapter).
    adapter = Setting("OTP_ADAPTER", "verification.adapter.DefaultAdapter", _text)
    #: Whether a number that signs in no account makes one when its sign-in code is right.
    sign_up = Setting("OTP_SIGN_UP", False, bool)
    #: Whether a user without a sign-in number must verify one after the password before being logged in.
    second_factor_required = Setting("OTP_SECOND_FACTOR_REQUIRED", False, bool)
    #: Whether the admin's login (verification.auth.views.AdminLoginView) asks for the second factor.
    admin_second_factor = Setting("OTP_ADMIN_SECOND_FACTOR", False, bool)
    #: Days a browser that passed the second factor may skip it for that user; 0: never remembered.
    remember_browser_days = Setting("OTP_REMEMBER_BROWSER_DAYS", 0, int)
    # Abuse resistance (rate lists are read by send_limits()).
    send_limits_per_number = Setting("OTP_SEND_LIMITS_PER_NUMBER", "5/1h,10/1d", _text)
    send_limits_per_ip = Setting("OTP_SEND_LIMITS_PER_IP", "10/1h,50/1d", _text)
    send_limits_per_session = Setting("OTP_SEND_LIMITS_PER_SESSION", "5/1h", _text)
    send_budget = Setting("OTP_SEND_BUDGET", "500/1h", _text)
    #: The regions codes may be sent to; empty means every region.
    allowed_countries = Setting("OTP_ALLOWED_COUNTRIES", (), _regions)
    allow_voip = Setting("OTP_ALLOW_VOIP", False, bool)
    #: The ways a code may travel, in the order offered and fallen back through (sms, call, whatsapp).
    delivery_methods = Setting("OTP_DELIVERY_METHODS", ("sms",), _vias)
    #: The regions a code may be read out to by a voice call; None: the same as allowed_countries.
    call_allowed_countries_setting = Setting("OTP_CALL_ALLOWED_COUNTRIES", None, _optional_regions)
    #: When the receipt says a code was not delivered, send it once the next way without being asked.
    auto_fallback = Setting("OTP_AUTO_FALLBACK", False, bool)
    pumping_window = Setting("OTP_PUMPING_WINDOW", "1h", _duration)
    pumping_min_sends = Setting("OTP_PUMPING_MIN_SENDS", 20, int)
    pumping_min_conversion = Setting("OTP_PUMPING_MIN_CONVERSION", 0.2, float)
    pumping_pause = Setting("OTP_PUMPING_PAUSE", "1h", _duration)
    #: Leading digits of the national number that, with the region, make the range the brake judges.
    pumping_prefix_digits = Setting("OTP_PUMPING_PREFIX_DIGITS", 4, int)
    #: Sends failing in a row for want of the SMS provider before a process stops calling it for every send.
    outage_failures = Setting("OTP_OUTAGE_FAILURES", 3, int)
    outage_probe_interval = Setting("OTP_OUTAGE_PROBE_INTERVAL", "10s", _duration)
    # The bot challenge (verification.bot_challenge): "" (off), "turnstile" or "hcaptcha".
    bot_challenge = Setting("OTP_BOT_CHALLENGE", "", _choice("", "turnstile", "hcaptcha"))
    bot_challenge_site_key = Setting("OTP_BOT_CHALLENGE_SITE_KEY", "", _text)
    bot_challenge_secret = Setting("OTP_BOT_CHALLENGE_SECRET", "", _text)
    #: The provider's siteverify address; empty: the provider's own (a test server or a proxy may stand in).
    bot_challenge_verify_url = Setting("OTP_BOT_CHALLENGE_VERIFY_URL", "", _text)
    #: The widget's script; empty: the provider's own.
    bot_challenge_script_url = Setting("OTP_BOT_CHALLENGE_SCRIPT_URL", "", _text)
    bot_challenge_timeout_seconds = Setting("OTP_BOT_CHALLENGE_TIMEOUT_SECONDS", 5.0, float)
    #: "risk": only when verification.limits.risk sees a signal; "always": every send.
    bot_challenge_when = Setting("OTP_BOT_CHALLENGE_WHEN", "risk", _choice("risk", "always"))
    #: Host names a passed challenge may have been solved on; empty: the request's own host.
    bot_challenge_hostnames = Setting("OTP_BOT_CHALLENGE_HOSTNAMES", (), _hosts)
    # Test numbers: number -> fixed code; no SMS, no limits, no challenge. Ordinary numbers after the date.
    test_numbers = Setting("OTP_TEST_NUMBERS", {}, _test_numbers)
    test_numbers_valid_until = Setting("OTP_TEST_NUMBERS_VALID_UNTIL", None, _date)
    # The text message.
    sms_template = Setting("OTP_SMS_TEMPLATE", "", _text)
    app_name = Setting("OTP_APP_NAME", "Phone verification", _text)
    webotp_domain = Setting("OTP_WEBOTP_DOMAIN", "", _text)
    # Delivery. SMS_BACKEND's default depends on TWILIO_ACCOUNT_SID: see sms_backend.
    sms_backend_setting = Setting("SMS_BACKEND", None, _text)
    #: Backends tried in order after SMS_BACKEND when it fails for want of the provider (dotted paths).
    sms_fallback_backends = Setting("SMS_FALLBACK_BACKENDS", (), _backends)
    #: Region -> the backends to try for numbers of that region, in order, instead of the chain ("*": the rest).
    sms_routes = Setting("SMS_ROUTES", {}, _routes)
    #: Seconds a send may spend on its whole chain of providers; no provider is tried after it.
    sms_send_deadline_seconds = Setting("SMS_SEND_DEADLINE_SECONDS", 15.0, float)
    sms_file_path = Setting("SMS_FILE_PATH", "sms-outbox", _text)
    twilio_account_sid = Setting("TWILIO_ACCOUNT_SID", "", _text)
    twilio_auth_token = Setting("TWILIO_AUTH_TOKEN", "", _text)
    twilio_from_number = Setting("TWILIO_FROM_NUMBER", "", _text)
    twilio_messaging_service_sid = Setting("TWILIO_MESSAGING_SERVICE_SID", "", _text)
    twilio_timeout_seconds = Setting("TWILIO_TIMEOUT_SECONDS", 10.0, float)
    twilio_api_base_url = Setting("TWILIO_API_BASE_URL", "", _text)
    twilio_status_callback_url = Setting("TWILIO_STATUS_CALLBACK_URL", "", _text)
    #: The number voice calls come from; empty: TWILIO_FROM_NUMBER (see twilio_caller).
    twilio_call_from = Setting("TWILIO_CALL_FROM", "", _text)
    twilio_whatsapp_from = Setting("TWILIO_WHATSAPP_FROM", "", _text)
    twilio_whatsapp_content_sid = Setting("TWILIO_WHATSAPP_CONTENT_SID", "", _text)

    @property
    def call_allowed_countries(self) -> frozenset[str]:
        """Return the regions calls may go to: OTP_CALL_ALLOWED_COUNTRIES, else OTP_ALLOWED_COUNTRIES (empty: all)."""
        regions = self.call_allowed_countries_setting
        return self.allowed_countries if regions is None else regions

    @property
    def twilio_caller(self) -> str:
        """Return the number Twilio calls from: TWILIO_CALL_FROM, else TWILIO_FROM_NUMBER."""
        return self.twilio_call_from or self.twilio_from_number

    # Twilio Verify (verification.sms.backends.twilio_verify), with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
    twilio_verify_service_sid = Setting("TWILIO_VERIFY_SERVICE_SID", "", _text)
    twilio_verify_base_url = Setting("TWILIO_VERIFY_BASE_URL", "https://verify.twilio.com", _text)
    # Vonage (verification.sms.backends.vonage), on the official vonage SDK.
    vonage_api_key = Setting("VONAGE_API_KEY", "", _text)
    vonage_api_secret = Setting("VONAGE_API_SECRET", "", _text)
    vonage_from = Setting("VONAGE_FROM", "", _text)
    vonage_timeout_seconds = Setting("VONAGE_TIMEOUT_SECONDS", 10.0, float)
    vonage_api_base_url = Setting("VONAGE_API_BASE_URL", "", _text)
    #: Signs requests to Vonage and checks its signed delivery receipts; empty: receipts are refused (403).
    vonage_signature_secret = Setting("VONAGE_SIGNATURE_SECRET", "", _text)
    vonage_signature_method = Setting("VONAGE_SIGNATURE_METHOD", "sha256", _text)
    vonage_status_callback_url = Setting("VONAGE_STATUS_CALLBACK_URL", "", _text)
    # The signed send hook (verification.sms.backends.hook).
    sms_hook_url = Setting("SMS_HOOK_URL", "", _text)
    #: One or more whsec_ secrets, space-separated: the hook signs with each, so receivers can rotate.
    sms_hook_secret = Setting("SMS_HOOK_SECRET", "", _text)
    sms_hook_timeout_seconds = Setting("SMS_HOOK_TIMEOUT_SECONDS", 10.0, float)

    @property
    def sms_backend(self) -> str:
        """Return the SMS backend's dotted path: SMS_BACKEND, else Twilio once an account is set, else the console."""
        if self.sms_backend_setting:
            return backend_path(self.sms_backend_setting)
        return self.sms_backend_setting or (TWILIO_SMS_BACKEND if self.twilio_account_sid else CONSOLE_SMS_BACKEND)

    def send_limits(self, scope: str) -> tuple[Rate, ...]:
        """Return the rates of one send limit ("number", "ip", "session" or "budget"); empty means no limit."""
        return parse_rates(getattr(self, LIMIT_ATTRIBUTES[scope]))


#: Every setting of the app by name.
SETTINGS: dict[str, Setting] = {s.name: s for s in vars(AppSettings).values() if isinstance(s, Setting)}
#: Setting name -> default.
DEFAULTS: dict[str, object] = {name: s.default for name, s in SETTINGS.items()}
#: The send limits by scope: scope -> setting name.
LIMIT_SETTINGS = {scope: vars(AppSettings)[attribute].name for scope, attribute in LIMIT_ATTRIBUTES.items()}

app_settings = AppSettings()


#: Other libraries' settings the integrations (verification.contrib) look at; theirs, so no default of ours.
LIBRARY_SETTINGS = ("ACCOUNT_ADAPTER", "TWO_FACTOR_SMS_GATEWAY", "TWO_FACTOR_CALL_GATEWAY")


def library_setting(name: str) -> object:
    """Return the project's value of another library's setting in LIBRARY_SETTINGS, or None when unset."""
    if name not in LIBRARY_SETTINGS:
        raise KeyError(name)
    return getattr(settings, name, None)
