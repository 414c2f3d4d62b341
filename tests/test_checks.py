from __future__ import annotations

import pytest

from verification.checks import check_abuse_settings, check_otp_settings, check_sms_backend


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_default_settings_pass():
    assert check_otp_settings() == [] and check_sms_backend() == [] and check_abuse_settings() == []


def test_short_codes_are_refused(settings):
    settings.OTP_LENGTH = 5
    assert ids(check_otp_settings()) == ["verification.E001"]


def test_non_positive_durations_are_refused(settings):
    settings.OTP_TTL_SECONDS = 0
    settings.OTP_RESEND_COOLDOWN_SECONDS = -1
    assert ids(check_otp_settings()) == ["verification.E002", "verification.E002"]


def test_unknown_region_is_refused(settings):
    settings.OTP_DEFAULT_REGION = "XX"
    assert ids(check_otp_settings()) == ["verification.E003"]


def test_unimportable_backend_is_reported(settings):
    settings.SMS_BACKEND = "verification.sms.backends.nope.SmsBackend"
    assert ids(check_sms_backend()) == ["verification.E010"]


def test_twilio_without_credentials_is_reported(settings):
    settings.SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM_NUMBER = settings.TWILIO_MESSAGING_SERVICE_SID = ""
    assert ids(check_sms_backend()) == ["verification.E011", "verification.E012"]


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("OTP_SEND_LIMITS_PER_NUMBER", "5/1w", "verification.E020"),
        ("OTP_SEND_LIMITS_PER_IP", "ten/1h", "verification.E020"),
        ("OTP_SEND_BUDGET", "0/1h", "verification.E020"),
        ("OTP_PUMPING_WINDOW", "an hour", "verification.E021"),
        ("OTP_PUMPING_PAUSE", "0", "verification.E021"),
        ("OTP_PUMPING_MIN_SENDS", -1, "verification.E022"),
        ("OTP_PUMPING_MIN_CONVERSION", 1.5, "verification.E022"),
        ("OTP_ALLOWED_COUNTRIES", ["US", "XX"], "verification.E023"),
    ],
)
def test_bad_abuse_settings_are_refused(settings, name, value, error):
    setattr(settings, name, value)
    assert ids(check_abuse_settings()) == [error]


def test_rate_list_error_names_the_setting(settings):
    settings.OTP_SEND_LIMITS_PER_SESSION = "5 per hour"
    [error] = check_abuse_settings()
    assert "OTP_SEND_LIMITS_PER_SESSION" in error.msg and "'5 per hour' is not a rate" in error.msg
