from __future__ import annotations

import pytest

from verification.checks import (
    check_abuse_settings,
    check_bot_challenge,
    check_otp_settings,
    check_setting_types,
    check_sms_text,
    check_verified_redirect_url,
)
from verification.sms.checks import check_sms_backend, check_sms_backend_delivers


def ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_default_settings_pass():
    assert check_otp_settings() == [] and check_sms_backend() == [] and check_sms_text() == []
    assert check_abuse_settings() == [] and check_verified_redirect_url() == []


def test_short_codes_are_refused(settings):
    settings.OTP_LENGTH = 5
    assert ids(check_otp_settings()) == ["verification.E001"]


def test_non_positive_durations_are_refused(settings):
    settings.OTP_TTL_SECONDS = 0
    settings.OTP_RESEND_COOLDOWN_SECONDS = -1
    # One id per message: E002 for "at least 1", E004 for "not negative".
    assert ids(check_otp_settings()) == ["verification.E002", "verification.E004"]


def test_a_token_max_age_under_one_second_is_refused(settings):
    settings.OTP_TOKEN_MAX_AGE = 0
    errors = check_otp_settings()
    assert ids(errors) == ["verification.E002"] and "OTP_TOKEN_MAX_AGE" in errors[0].msg


@pytest.mark.parametrize(("name", "value"), [("OTP_LENGTH", "six"), ("OTP_ALLOWED_COUNTRIES", 3)])
def test_settings_of_the_wrong_type_are_reported_not_raised(settings, name, value):
    setattr(settings, name, value)
    errors = check_setting_types()
    assert ids(errors) == ["verification.E005"] and name in errors[0].msg
    # The other checks stand back rather than crash on the same value.
    assert check_otp_settings() == []


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


@pytest.fixture
def twilio_settings(settings):
    settings.SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
    settings.TWILIO_AUTH_TOKEN = "0123456789abcdef" * 2
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0123456789abcdef" * 2
    settings.TWILIO_STATUS_CALLBACK_URL = "https://verify.example.com/sms/status/"
    return settings


def test_well_formed_twilio_settings_pass(twilio_settings):
    assert check_sms_backend() == []


@pytest.mark.parametrize(
    "name,value,error",
    [
        ("TWILIO_ACCOUNT_SID", "AC123", "verification.E013"),
        ("TWILIO_ACCOUNT_SID", "SK" + "0" * 32, "verification.E013"),
        ("TWILIO_ACCOUNT_SID", "AC" + "g" * 32, "verification.E013"),
        ("TWILIO_MESSAGING_SERVICE_SID", "MG" + "0" * 31, "verification.E014"),
        ("TWILIO_MESSAGING_SERVICE_SID", "AC" + "0" * 32, "verification.E014"),
        ("TWILIO_FROM_NUMBER", "15005550006", "verification.E015"),
        ("TWILIO_FROM_NUMBER", "+1 500 555 0006", "verification.E015"),
        ("TWILIO_FROM_NUMBER", "ACME", "verification.E015"),
        ("TWILIO_STATUS_CALLBACK_URL", "http://verify.example.com/sms/status/", "verification.E016"),
        ("TWILIO_STATUS_CALLBACK_URL", "/sms/status/", "verification.E016"),
    ],
)
def test_malformed_twilio_settings_are_reported(twilio_settings, name, value, error):
    setattr(twilio_settings, name, value)
    assert ids(check_sms_backend()) == [error]


def test_twilio_formats_are_not_checked_for_other_backends(settings):
    settings.TWILIO_ACCOUNT_SID = "nonsense"
    assert check_sms_backend() == []


@pytest.mark.parametrize(
    "template",
    [
        "{code}",
        "Your {app} code: {code}. Valid {minutes} min.",
        "{code:>8} {{literal}}",
    ],
)
def test_good_sms_templates_pass(settings, template):
    settings.OTP_SMS_TEMPLATE = template
    assert check_sms_text() == []


@pytest.mark.parametrize(
    "template,reason",
    [
        ("Your code expires in {minutes} minutes.", "no {code}"),
        ("{code} for {name}", "unknown placeholders: {name}"),
        ("{code} {}", "unknown placeholders: {}"),
        ("{code} {app.__class__}", "unknown placeholders: {app.__class__}"),
        ("{code", "malformed"),
        ("{code} }", "malformed"),
        ("{code:d}", "cannot be filled in"),
        ("{code:{nested}}", "cannot be filled in"),
    ],
)
def test_bad_sms_templates_are_refused(settings, template, reason):
    settings.OTP_SMS_TEMPLATE = template
    [error] = check_sms_text()
    assert error.id == "verification.E017" and reason in error.msg


@pytest.mark.parametrize(
    "domain", ["https://verify.example.com", "verify.example.com/", "verify.example.com:443", "a b"]
)
def test_webotp_domain_must_be_a_bare_host_name(settings, domain):
    settings.OTP_WEBOTP_DOMAIN = domain
    assert ids(check_sms_text()) == ["verification.E018"]


def test_webotp_host_name_passes(settings):
    settings.OTP_WEBOTP_DOMAIN = "verify.example.com"
    assert check_sms_text() == []


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("OTP_SEND_LIMITS_PER_NUMBER", "5/1w", "verification.E020"),
        ("OTP_SEND_LIMITS_PER_IP", "ten/1h", "verification.E020"),
        ("OTP_SEND_BUDGET", "0/1h", "verification.E020"),
        ("OTP_PUMPING_WINDOW", "an hour", "verification.E021"),
        ("OTP_PUMPING_PAUSE", "0", "verification.E021"),
        ("OTP_PUMPING_MIN_SENDS", -1, "verification.E022"),
        ("OTP_PUMPING_MIN_CONVERSION", 1.5, "verification.E024"),
        ("OTP_ALLOWED_COUNTRIES", ["US", "XX"], "verification.E023"),
        ("OTP_IPV6_PREFIX_LENGTH", 0, "verification.E025"),
        ("OTP_IPV6_PREFIX_LENGTH", 129, "verification.E025"),
    ],
)
def test_bad_abuse_settings_are_refused(settings, name, value, error):
    setattr(settings, name, value)
    assert ids(check_abuse_settings()) == [error]


def test_rate_list_error_names_the_setting(settings):
    settings.OTP_SEND_LIMITS_PER_SESSION = "5 per hour"
    [error] = check_abuse_settings()
    assert "OTP_SEND_LIMITS_PER_SESSION" in error.msg and "'5 per hour' is not a rate" in error.msg


@pytest.mark.parametrize("value", ["/welcome/", "https://shop.example/thanks/", "verification:phone"])
def test_verified_redirect_url_may_be_a_url_or_a_route_name(settings, value):
    settings.OTP_VERIFIED_REDIRECT_URL = value
    assert check_verified_redirect_url() == []


@pytest.mark.parametrize("value", ["", "shop:thanks", "welcome"])
def test_verified_redirect_url_that_leads_nowhere_is_refused(settings, value):
    settings.OTP_VERIFIED_REDIRECT_URL = value
    assert ids(check_verified_redirect_url()) == ["verification.E027"]


def test_a_project_without_the_apps_urls_is_told_to_include_them(settings):
    settings.ROOT_URLCONF = "django.contrib.auth.urls"
    [error] = check_verified_redirect_url()
    assert "include('verification.urls')" in error.hint


@pytest.mark.parametrize("backend", ["console", "filebased", "locmem"])
def test_a_backend_that_delivers_nothing_is_an_error_in_production(settings, backend):
    settings.SMS_BACKEND = f"verification.sms.backends.{backend}.SmsBackend"
    settings.DEBUG = True
    assert check_sms_backend_delivers() == []
    settings.DEBUG = False
    [error] = check_sms_backend_delivers()
    assert error.id == "verification.E019" and error.msg.startswith(f"SMS_BACKEND is {settings.SMS_BACKEND}")


def test_twilio_delivers(settings):
    settings.DEBUG = False
    settings.SMS_BACKEND = "verification.sms.backends.twilio.SmsBackend"
    assert check_sms_backend_delivers() == []


def test_a_bot_challenge_needs_its_keys(settings):
    assert check_bot_challenge() == []
    settings.OTP_BOT_CHALLENGE = "turnstile"
    assert ids(check_bot_challenge()) == ["verification.E030", "verification.E030"]
    settings.OTP_BOT_CHALLENGE_SITE_KEY, settings.OTP_BOT_CHALLENGE_SECRET = "site", "secret"
    assert check_bot_challenge() == []
    settings.OTP_BOT_CHALLENGE_VERIFY_URL = "challenges.cloudflare.com/siteverify"
    settings.OTP_BOT_CHALLENGE_TIMEOUT_SECONDS = 0
    assert ids(check_bot_challenge()) == ["verification.E031", "verification.E032"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTP_BOT_CHALLENGE", "recaptcha"),
        ("OTP_BOT_CHALLENGE_WHEN", "sometimes"),
        ("OTP_TEST_NUMBERS_VALID_UNTIL", "31/12/2026"),
        ("OTP_TEST_NUMBERS", "+15555550100:123456"),
    ],
)
def test_unreadable_bot_challenge_and_test_number_settings_are_reported(settings, name, value):
    setattr(settings, name, value)
    assert any(name in error.msg and error.id == "verification.E005" for error in check_setting_types())
