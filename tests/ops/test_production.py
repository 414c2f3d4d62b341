"""Production settings (DJANGO_DEBUG=false behind a TLS proxy), checked in fresh interpreters."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from tests.helpers import ROOT, environ_without_settings, free_port

HOST = "verify.example.com"

# Requests made by a Django test client inside the production-configured interpreter; prints what came back.
PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="verify.example.com")
out = {}
for name, path, extra in [
    ("http_page", "/verified/", {}),
    ("https_page", "/verified/", {"HTTP_X_FORWARDED_PROTO": "https"}),
    ("http_healthz", "/healthz", {}),
]:
    response = client.get(path, **extra)
    out[name] = {"status": response.status_code, "headers": dict(response.headers), "body": response.content.decode()}
print(json.dumps(out))
"""


def production_env(**extra: str) -> dict[str, str]:
    return environ_without_settings(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        **extra,
    )


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


#: A well-formed Twilio configuration (not a real account): production must deliver its SMS.
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "not-a-real-token",
    "TWILIO_FROM_NUMBER": "+15005550006",
}
DEPLOY_CHECK = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]


def test_deploy_check_has_zero_findings():
    result = run(DEPLOY_CHECK, production_env(**TWILIO))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_hsts_is_turned_off():
    result = run(DEPLOY_CHECK, production_env(DJANGO_SECURE_HSTS_SECONDS="0", **TWILIO))
    assert result.returncode != 0 and "security.W004" in result.stderr


@pytest.mark.parametrize("backend", ["", "console", "filebased", "locmem"])
def test_deploy_check_fails_with_a_backend_that_delivers_nothing(backend):
    # No Twilio settings at all means the console backend, which would print every code with its number.
    env = {"SMS_BACKEND": f"verification.sms.backends.{backend}.SmsBackend"} if backend else {}
    result = run(DEPLOY_CHECK, production_env(**env))
    assert result.returncode != 0
    assert "verification.E019" in result.stderr and "SMS_BACKEND is verification.sms.backends." in result.stderr


def test_debug_is_off_unless_asked_for():
    env = production_env()
    del env["DJANGO_DEBUG"]
    script = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = run(["-c", script], {**env, "DJANGO_SETTINGS_MODULE": "otpsite.settings"})
    assert result.stdout.split() == ["False"], result.stderr


def probe(**env: str) -> dict:
    env = {"DJANGO_SETTINGS_MODULE": "otpsite.settings", "DATABASE_URL": "sqlite://:memory:", **env}
    result = run(["-c", PROBE], production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_redirects_to_https_and_sends_security_headers():
    answers = probe()
    assert answers["http_page"]["status"] == 301
    assert answers["http_page"]["headers"]["Location"] == f"https://{HOST}/verified/"
    https = answers["https_page"]
    # The proxy said HTTPS: no redirect loop, and the hardening headers are there.
    assert https["status"] == 302 and https["headers"]["Location"] == "/"
    headers = https["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_healthz_answers_plain_http_probes():
    answer = probe()["http_healthz"]
    assert answer["status"] == 200 and json.loads(answer["body"])["database"] == "ok"


def test_proxy_that_redirects_itself_can_turn_the_redirect_off():
    assert probe(DJANGO_SECURE_SSL_REDIRECT="false")["http_page"]["status"] == 302


def test_database_down_is_503():
    answer = probe(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/down")["http_healthz"]
    assert answer["status"] == 503
    assert json.loads(answer["body"]) == {"status": "error", "database": "error"}


def test_database_connections_persist_and_are_health_checked():
    script = (
        "import django; django.setup(); from django.db import connection as c; "
        "print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "otpsite.settings", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"}
    assert run(["-c", script], production_env(**env)).stdout.split() == ["60", "True"]
    assert run(["-c", script], production_env(DJANGO_CONN_MAX_AGE="0", **env)).stdout.split() == ["0", "True"]
