"""Start-up behaviour of otpsite/settings.py, checked in fresh interpreters."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT, environ_without_settings


def django_check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ_without_settings(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_is_a_clear_error():
    result = django_check(DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_with_secret_key_starts():
    result = django_check(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr


def test_short_code_length_fails_the_system_check():
    result = django_check(OTP_LENGTH="4")
    assert result.returncode != 0 and "verification.E001" in result.stderr


def test_twilio_credentials_select_the_twilio_backend():
    result = django_check(TWILIO_ACCOUNT_SID="AC" + "0" * 32)
    # Selected, and reported as incomplete without a token and a sender.
    assert "verification.E011" in result.stderr and "verification.E012" in result.stderr


def test_the_way_back_is_read_from_the_environment():
    script = (
        "from verification.conf import app_settings as s; "
        "print(s.verified_redirect_url, sorted(s.allowed_redirect_hosts))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environ_without_settings(
            OTP_VERIFIED_REDIRECT_URL="/welcome/", OTP_ALLOWED_REDIRECT_HOSTS="shop.example,pay.example:8443"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines()[-1] == "/welcome/ ['pay.example:8443', 'shop.example']", result.stderr


def test_every_app_setting_can_come_from_the_environment():
    from otpsite.settings import _APP_SETTINGS
    from verification.conf import SETTINGS

    assert set(_APP_SETTINGS) == set(SETTINGS)


def test_the_bot_challenge_and_test_numbers_are_read_from_the_environment():
    script = (
        "from verification.conf import app_settings as s; from verification import bot_challenge as b; "
        "print(s.bot_challenge, s.bot_challenge_site_key, s.bot_challenge_when, s.bot_challenge_timeout_seconds, "
        "sorted(s.bot_challenge_hostnames), b.script_url(), sorted(s.test_numbers.items()), "
        "s.test_numbers_valid_until)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=environ_without_settings(
            OTP_BOT_CHALLENGE="hcaptcha",
            OTP_BOT_CHALLENGE_SITE_KEY="site-key",
            OTP_BOT_CHALLENGE_SECRET="secret",
            OTP_BOT_CHALLENGE_WHEN="always",
            OTP_BOT_CHALLENGE_TIMEOUT_SECONDS="2.5",
            OTP_BOT_CHALLENGE_HOSTNAMES="app.example,www.example",
            OTP_TEST_NUMBERS="+15555550100=123456,+15555550101=654321",
            OTP_TEST_NUMBERS_VALID_UNTIL="2026-12-31",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines()[-1] == (
        "hcaptcha site-key always 2.5 ['app.example', 'www.example'] https://js.hcaptcha.com/1/api.js "
        "[('+15555550100', '123456'), ('+15555550101', '654321')] 2026-12-31"
    ), result.stderr


def test_test_numbers_without_an_end_date_warn_in_check_deploy():
    def deploy_check(**env: str) -> str:
        production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 60, **env}
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy"],
            cwd=ROOT,
            env=environ_without_settings(**production),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout + result.stderr

    assert "verification.W001" in deploy_check(OTP_TEST_NUMBERS="+15555550100=123456")
    assert "verification.W001" not in deploy_check(
        OTP_TEST_NUMBERS="+15555550100=123456", OTP_TEST_NUMBERS_VALID_UNTIL="2026-12-31"
    )
