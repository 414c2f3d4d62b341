"""System checks of the failover chain and the routes."""

from __future__ import annotations

from verification.sms.backends.base import BaseSmsBackend
from verification.sms.checks import check_sms_chain
from verification.sms.routes import backends_that_deliver


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_a_clean_chain_passes(settings):
    settings.SMS_FALLBACK_BACKENDS = "console"
    settings.SMS_ROUTES = "FR=locmem; *=console"
    assert check_sms_chain() == []


def test_an_unknown_backend_is_reported(settings):
    settings.SMS_FALLBACK_BACKENDS = ["carrier_pigeon"]
    [error] = check_sms_chain()
    assert error.id == "verification.E041" and "carrier_pigeon" in error.msg


def test_a_route_to_a_refused_region_is_reported(settings):
    settings.OTP_ALLOWED_COUNTRIES = "FR,DE"
    settings.SMS_ROUTES = {"FR": ["console"], "US": ["console"], "*": ["console"]}
    [error] = check_sms_chain()
    assert error.id == "verification.E043" and "US" in error.msg


def test_each_backends_missing_settings_are_named(settings):
    settings.SMS_FALLBACK_BACKENDS = "twilio, hook"
    errors = check_sms_chain()
    messages = " ".join(error.msg for error in errors)
    assert set(ids(errors)) == {"verification.E044"}
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "SMS_HOOK_URL", "SMS_HOOK_SECRET"):
        assert name in messages
    settings.SMS_HOOK_URL = "https://gateway.example/sms"
    settings.SMS_HOOK_SECRET = "not-a-secret"
    assert "verification.E045" in ids(check_sms_chain())


def test_unreadable_routes_are_reported(settings):
    settings.SMS_ROUTES = "FR twilio"
    assert ids(check_sms_chain()) == ["verification.E040"]


class SmsOnly(BaseSmsBackend):
    """A backend that can only text."""

    provider = "sms_only"

    def send_messages(self, messages) -> int:
        return len(messages)


SMS_ONLY = f"{__name__}.SmsOnly"


def test_which_backends_can_deliver_each_way(settings):
    settings.SMS_BACKEND = SMS_ONLY
    settings.SMS_FALLBACK_BACKENDS = "hook"
    assert backends_that_deliver("sms") == (SMS_ONLY, "verification.sms.backends.hook.SmsBackend")
    assert backends_that_deliver("whatsapp") == ("verification.sms.backends.hook.SmsBackend",)
    settings.SMS_FALLBACK_BACKENDS = ""
    assert backends_that_deliver("call") == ()
