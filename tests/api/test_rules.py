"""The API keeps the pages' rules: expiry, lock, limits, destinations, the audit trail and the signal.

Through Django's test client with the clock stopped at T0 (the `frozen` fixture).
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from tests.helpers import CODE_A, CODE_B, CODE_C, PHONE, T0, fixed_codes, post_json, wrong_code
from verification.models import PhoneVerification, VerificationEvent, VerifiedPhone
from verification.signals import phone_verified

pytestmark = pytest.mark.django_db

SEND, CHECK = "/api/v1/send", "/api/v1/check"


def send(client: Client, phone: str = PHONE, code: str = CODE_A, **body):
    with fixed_codes([code]):
        return post_json(client, SEND, {"phone": phone, **body})


def started(client: Client, phone: str = PHONE, code: str = CODE_A) -> str:
    """Ask for `code` to `phone`; return the challenge."""
    response = send(client, phone, code)
    assert response.status_code == 201, response.content
    return response.json()["challenge"]


def check(client: Client, challenge: str, code: str, **extra):
    return post_json(client, CHECK, {"challenge": challenge, "code": code}, **extra)


@pytest.fixture
def received():
    """Connect a phone_verified receiver; return the keyword arguments of every call."""
    calls = []

    def receiver(sender, **kwargs):
        kwargs["in_transaction"] = connection.in_atomic_block
        calls.append(kwargs)

    phone_verified.connect(receiver)
    yield calls
    phone_verified.disconnect(receiver)


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="a long password")


def test_a_code_expires_after_otp_ttl_seconds(client, frozen, sms_outbox):
    challenge = started(client)
    frozen.shift(120)
    assert check(client, challenge, CODE_A).status_code == 410
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0


def test_the_lock_ends_after_otp_lockout_seconds(client, frozen, sms_outbox):
    challenge = started(client)
    for _ in range(3):
        last = check(client, challenge, wrong_code(CODE_A))
    assert last.status_code == 423 and last.json()["retry_in"] == 600
    frozen.shift(599)
    assert send(client, code=CODE_B).json()["retry_in"] == 1
    frozen.shift(1)
    assert check(client, started(client, code=CODE_B), CODE_B).status_code == 200


def test_page_and_api_flows_never_use_each_others_codes(client, frozen, sms_outbox):
    app = Client()
    old_challenge = started(app, code=CODE_A)
    frozen.shift(120)
    # A browser asks for a new code: the app's challenge is no longer the number's current one.
    with fixed_codes([CODE_B]):
        assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    assert check(app, old_challenge, CODE_B).status_code == 404
    assert check(app, old_challenge, CODE_A).status_code == 404
    # Meanwhile the app cannot get a code of its own, and the browser's code still works in the browser.
    assert send(app, code=CODE_C).json()["error"] == "cooldown"
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert client.post("/verify/", {"code": CODE_B})["Location"] == "/verified/"


def test_a_browser_cannot_use_a_code_the_api_asked_for(client, frozen, sms_outbox):
    challenge = started(Client(), code=CODE_A)
    # The browser lands on the code page (cooldown) without the send's challenge in its session.
    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    assert client.post("/verify/", {"code": CODE_A})["Location"] == "/"
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert check(Client(), challenge, CODE_A).status_code == 200


def test_a_resend_replaces_the_code_and_the_challenge(client, frozen, sms_outbox):
    first = started(client, code=CODE_A)
    frozen.shift(120)
    second = send(client, code=CODE_B, challenge=first).json()["challenge"]
    assert check(client, first, CODE_B).status_code == 404
    assert check(client, second, CODE_A).json() == {
        "error": "mismatch",
        "message": "OTP does not match. 2 attempts left before the number is locked.",
        "attempts_left": 2,
    }
    assert check(client, second, CODE_B).status_code == 200


@pytest.mark.parametrize(
    ("setting", "value", "limit"),
    [
        ("OTP_SEND_LIMITS_PER_NUMBER", "1/1h", "number"),
        ("OTP_SEND_LIMITS_PER_IP", "1/1h", "ip"),
        ("OTP_SEND_BUDGET", "1/1h", "budget"),
    ],
)
def test_each_send_limit_refuses_with_its_name(client, settings, frozen, sms_outbox, setting, value, limit):
    setattr(settings, setting, value)
    check(client, started(client), CODE_A)
    # Verified: the number may have a new code at once, but the limit has been used up.
    refused = send(client, phone=PHONE if limit == "number" else "+33612345679")
    assert refused.status_code == 429
    body = refused.json()
    assert (body["error"], body["limit"], body["retry_in"]) == ("rate_limited", limit, 3600)
    assert refused["Retry-After"] == "3600"
    assert len(sms_outbox) == 1


def test_the_pumping_brake_refuses_with_its_name(client, settings, frozen, sms_outbox):
    settings.OTP_PUMPING_MIN_SENDS = 2
    settings.OTP_PUMPING_MIN_CONVERSION = 0.5
    started(client, "+33612345670")
    started(client, "+33612345671")
    refused = send(client, "+33612345672")
    assert (refused.status_code, refused.json()["limit"]) == (429, "pumping")
    assert len(sms_outbox) == 2


@pytest.mark.parametrize(
    ("setting", "value", "phone", "rule"),
    [
        ("OTP_ALLOWED_COUNTRIES", "US,CA", PHONE, "country_not_allowed"),
        ("OTP_ALLOW_VOIP", False, "+44 56 1234 5678", "voip_not_allowed"),
        ("OTP_ALLOW_VOIP", False, "+33 1 42 68 53 00", "number_type_not_allowed"),
    ],
)
def test_destination_rules_refuse_as_invalid_phone(client, settings, sms_outbox, setting, value, phone, rule):
    setattr(settings, setting, value)
    body = send(client, phone).json()
    assert (body["error"], body["reason"], body["rule"]) == ("invalid_phone", "destination_refused", rule)
    assert sms_outbox == []


def test_api_events_are_audited_as_the_apis(client, frozen, sms_outbox, caplog, settings):
    settings.OTP_TRUSTED_PROXY_COUNT = 1
    caplog.set_level(logging.INFO, logger="verification.audit")
    challenge = started(client)
    check(client, challenge, wrong_code(CODE_A), HTTP_X_FORWARDED_FOR="203.0.113.5")
    check(client, challenge, CODE_A)
    with fixed_codes([CODE_B]):
        client.post("/", {"phone": "+33612345679"})
    events = VerificationEvent.objects.order_by("id").values_list("kind", "channel", "client_ip", "created_at")
    assert list(events) == [
        ("sent", "api", "127.0.0.1", T0),
        ("wrong_code", "api", "203.0.113.5", T0),
        ("verified", "api", "127.0.0.1", T0),
        ("sent", "web", "127.0.0.1", T0),
    ]
    lines = [r.getMessage() for r in caplog.records if r.name == "verification.audit"]
    assert [line.split(" channel=")[1].split()[0] for line in lines] == ["api", "api", "api", "web"]
    assert PHONE not in caplog.text and CODE_A not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_verifying_sends_phone_verified_once_after_commit_with_no_user(client, frozen, sms_outbox, received):
    challenge = started(client)
    response = check(client, challenge, CODE_A)
    check(client, challenge, CODE_A)
    [call] = received
    assert call["phone"] == PHONE and call["user"] is None and call["verified_at"] == T0 and call["channel"] == "api"
    assert call["request"].path == CHECK and call["in_transaction"] is False
    assert response.cookies == {} and not VerifiedPhone.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_the_host_authenticates_is_the_signals_and_gets_the_number(
    client, settings, frozen, sms_outbox, received, alice
):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.host_auth.BearerAuthenticationMiddleware"]
    challenge = started(client)
    assert check(client, challenge, CODE_A, HTTP_AUTHORIZATION="Bearer alice").status_code == 200
    assert received[0]["user"] == alice
    assert VerifiedPhone.objects.get().user == alice


@pytest.mark.django_db(transaction=True)
def test_a_login_known_only_from_the_session_cookie_is_ignored(client, frozen, sms_outbox, received, alice):
    client.force_login(alice)
    challenge = started(client)
    response = check(client, challenge, CODE_A)
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert received[0]["user"] is None and not VerifiedPhone.objects.exists()


def test_no_csrf_token_is_needed_and_no_cookie_is_set(sms_outbox):
    client = Client(enforce_csrf_checks=True)
    sent = send(client)
    verified = check(client, sent.json()["challenge"], CODE_A)
    assert (sent.status_code, verified.status_code) == (201, 200)
    assert sent.cookies == {} and verified.cookies == {} and client.cookies == {}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr-FR,fr;q=0.9", ("fr", "Le code ne correspond pas")),
        ("pt-BR", ("pt-br", "O código não confere")),
        ("de", ("de", "Der Code stimmt nicht")),
        ("ja", ("en", "OTP does not match")),
    ],
)
def test_messages_speak_the_requests_language(client, sms_outbox, language, expected):
    challenge = started(client)
    response = check(client, challenge, wrong_code(CODE_A), HTTP_ACCEPT_LANGUAGE=language)
    assert (response["Content-Language"], response.json()["message"][: len(expected[1])]) == expected
    assert "Accept-Language" in response["Vary"]


def test_send_speaks_the_requests_language_in_the_sms_too(client, sms_outbox):
    with fixed_codes([CODE_A]):
        post_json(client, SEND, {"phone": PHONE}, HTTP_ACCEPT_LANGUAGE="es")
    assert "código" in sms_outbox[-1].body


def test_errors_before_any_rule_speak_the_requests_language_too(client):
    response = post_json(client, SEND, "phone=x", content_type="text/plain", HTTP_ACCEPT_LANGUAGE="pt-BR")
    assert response.json()["message"] == "Envie o corpo da requisição como application/json."
    response = client.get(CHECK, HTTP_ACCEPT_LANGUAGE="de")
    assert response.json()["message"] == "Hier werden nur POST-Anfragen beantwortet."
