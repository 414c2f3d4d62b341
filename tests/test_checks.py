from __future__ import annotations

from verification.checks import check_otp_settings, check_sms_backend


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_default_settings_pass():
    assert check_otp_settings() == [] and check_sms_backend() == []


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
