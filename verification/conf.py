"""Every setting the app reads, with its default: the only module that reads OTP_*, SMS_* and TWILIO_* settings.

A project that sets none of them gets the defaults below (the README's table lists the same). Values are
read from django.conf.settings at each access, so override_settings works; what needs parsing (rate
lists, durations, country lists) is parsed once per distinct value. A value that cannot be parsed raises
ValueError; the system checks (verification.checks) read every setting at start-up and report it there.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from django.conf import settings

from verification.limits.rates import Rate, parse_duration, parse_rates

CONSOLE_SMS_BACKEND = "verification.sms.backends.console.SmsBackend"
TWILIO_SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"

#: Setting name -> default. SMS_BACKEND's default depends on TWILIO_ACCOUNT_SID (see AppSettings.sms_backend).
DEFAULTS: dict[str, object] = {
    # The rules of a code.
    "OTP_LENGTH": 6,
    "OTP_TTL_SECONDS": 120,
    "OTP_MAX_ATTEMPTS": 3,
    "OTP_LOCKOUT_SECONDS": 600,
    "OTP_RESEND_COOLDOWN_SECONDS": 120,
    "OTP_DEFAULT_REGION": None,
    "OTP_TRUSTED_PROXY_COUNT": 0,
    "OTP_EVENT_RETENTION_DAYS": 90,
    # Abuse resistance.
    "OTP_SEND_LIMITS_PER_NUMBER": "5/1h,10/1d",
    "OTP_SEND_LIMITS_PER_IP": "10/1h,50/1d",
    "OTP_SEND_LIMITS_PER_SESSION": "5/1h",
    "OTP_SEND_BUDGET": "500/1h",
    "OTP_ALLOWED_COUNTRIES": (),
    "OTP_ALLOW_VOIP": False,
    "OTP_PUMPING_WINDOW": "1h",
    "OTP_PUMPING_MIN_SENDS": 20,
    "OTP_PUMPING_MIN_CONVERSION": 0.2,
    "OTP_PUMPING_PAUSE": "1h",
    # The text message.
    "OTP_SMS_TEMPLATE": "",
    "OTP_APP_NAME": "Phone verification",
    "OTP_WEBOTP_DOMAIN": "",
    # Delivery.
    "SMS_BACKEND": None,
    "SMS_FILE_PATH": "sms-outbox",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM_NUMBER": "",
    "TWILIO_MESSAGING_SERVICE_SID": "",
    "TWILIO_TIMEOUT_SECONDS": 10.0,
    "TWILIO_API_BASE_URL": "",
    "TWILIO_STATUS_CALLBACK_URL": "",
}

#: The send limits by scope, in the order a refusal is reported: scope -> setting.
LIMIT_SETTINGS = {
    "number": "OTP_SEND_LIMITS_PER_NUMBER",
    "ip": "OTP_SEND_LIMITS_PER_IP",
    "session": "OTP_SEND_LIMITS_PER_SESSION",
    "budget": "OTP_SEND_BUDGET",
}


def raw(name: str) -> object:
    """Return a setting as the project wrote it, or its default."""
    return getattr(settings, name, DEFAULTS[name])


@lru_cache(maxsize=64)
def _regions(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(code.strip().upper() for code in codes if code.strip())


class AppSettings:
    """The app's settings, typed and parsed: each attribute is its setting's name, lower case, without OTP_."""

    @property
    def length(self) -> int:
        return int(raw("OTP_LENGTH"))

    @property
    def ttl_seconds(self) -> int:
        return int(raw("OTP_TTL_SECONDS"))

    @property
    def max_attempts(self) -> int:
        return int(raw("OTP_MAX_ATTEMPTS"))

    @property
    def lockout_seconds(self) -> int:
        return int(raw("OTP_LOCKOUT_SECONDS"))

    @property
    def resend_cooldown_seconds(self) -> int:
        return int(raw("OTP_RESEND_COOLDOWN_SECONDS"))

    @property
    def default_region(self) -> str | None:
        """Return the region for numbers typed without +, upper case, or None."""
        return str(raw("OTP_DEFAULT_REGION") or "").strip().upper() or None

    @property
    def trusted_proxy_count(self) -> int:
        return int(raw("OTP_TRUSTED_PROXY_COUNT"))

    @property
    def event_retention_days(self) -> int:
        return int(raw("OTP_EVENT_RETENTION_DAYS"))

    def send_limits(self, scope: str) -> tuple[Rate, ...]:
        """Return the rates of one send limit ("number", "ip", "session" or "budget"); empty means no limit."""
        return parse_rates(str(raw(LIMIT_SETTINGS[scope]) or ""))

    @property
    def allowed_countries(self) -> frozenset[str]:
        """Return the regions codes may be sent to; empty means every region."""
        value = raw("OTP_ALLOWED_COUNTRIES") or ()
        return _regions(tuple(value.split(",") if isinstance(value, str) else value))

    @property
    def allow_voip(self) -> bool:
        return bool(raw("OTP_ALLOW_VOIP"))

    @property
    def pumping_window(self) -> timedelta:
        return timedelta(seconds=parse_duration(raw("OTP_PUMPING_WINDOW")))

    @property
    def pumping_min_sends(self) -> int:
        return int(raw("OTP_PUMPING_MIN_SENDS"))

    @property
    def pumping_min_conversion(self) -> float:
        return float(raw("OTP_PUMPING_MIN_CONVERSION"))

    @property
    def pumping_pause(self) -> timedelta:
        return timedelta(seconds=parse_duration(raw("OTP_PUMPING_PAUSE")))

    @property
    def sms_template(self) -> str:
        return str(raw("OTP_SMS_TEMPLATE") or "")

    @property
    def app_name(self) -> str:
        return str(raw("OTP_APP_NAME"))

    @property
    def webotp_domain(self) -> str:
        return str(raw("OTP_WEBOTP_DOMAIN") or "")

    @property
    def sms_backend(self) -> str:
        """Return the SMS backend's dotted path: Twilio once an account is configured, else the console."""
        backend = raw("SMS_BACKEND")
        if backend:
            return str(backend)
        return TWILIO_SMS_BACKEND if self.twilio_account_sid else CONSOLE_SMS_BACKEND

    @property
    def sms_file_path(self) -> str:
        return str(raw("SMS_FILE_PATH"))

    @property
    def twilio_account_sid(self) -> str:
        return str(raw("TWILIO_ACCOUNT_SID") or "")

    @property
    def twilio_auth_token(self) -> str:
        return str(raw("TWILIO_AUTH_TOKEN") or "")

    @property
    def twilio_from_number(self) -> str:
        return str(raw("TWILIO_FROM_NUMBER") or "")

    @property
    def twilio_messaging_service_sid(self) -> str:
        return str(raw("TWILIO_MESSAGING_SERVICE_SID") or "")

    @property
    def twilio_timeout_seconds(self) -> float:
        return float(raw("TWILIO_TIMEOUT_SECONDS"))

    @property
    def twilio_api_base_url(self) -> str:
        return str(raw("TWILIO_API_BASE_URL") or "")

    @property
    def twilio_status_callback_url(self) -> str:
        return str(raw("TWILIO_STATUS_CALLBACK_URL") or "")


app_settings = AppSettings()
