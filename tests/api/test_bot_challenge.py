"""The bot challenge on the JSON API: `bot_challenge` in the send, and a 400 that names the widget to show."""

from __future__ import annotations

import pytest

from tests.helpers import PHONE, assert_in_openapi, post_json
from verification.models import PhoneVerification, RateEvent

pytestmark = pytest.mark.django_db

SEND = "/api/v1/send"


@pytest.fixture
def always(settings, fake_siteverify):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    return fake_siteverify


def test_missing_token_is_a_400_with_the_site_key(client, frozen, sms_outbox, always):
    response = post_json(client, SEND, {"phone": PHONE})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bot_challenge_failed" and body["reason"] == "missing"
    assert body["provider"] == "turnstile" and body["site_key"] == always.site_key
    assert_in_openapi(response)
    assert sms_outbox == [] and PhoneVerification.objects.count() == 0 and RateEvent.objects.count() == 0


def test_solved_token_sends(client, frozen, sms_outbox, always):
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": always.solve()})
    assert response.status_code == 201 and len(sms_outbox) == 1
    assert_in_openapi(response)
    assert always.requests[0].form["remoteip"] == "127.0.0.1"


@pytest.mark.parametrize(
    "token",
    ["made-up", "x" * 9000, 12345, ["a"], {"token": "a"}, True, "with space"],
    ids=["unknown", "huge", "number", "list", "object", "bool", "space"],
)
def test_rejected_or_malformed_token_is_a_400_never_a_500(client, frozen, sms_outbox, always, token):
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": token})
    assert response.status_code == 400
    assert response.json()["error"] == "bot_challenge_failed" and response.json()["reason"] == "rejected"
    assert_in_openapi(response)
    assert sms_outbox == [] and RateEvent.objects.count() == 0


def test_a_token_solved_on_another_site_is_rejected(client, frozen, sms_outbox, always):
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": always.solve(hostname="evil.example")})
    assert response.status_code == 400 and sms_outbox == []


def test_provider_down_is_a_503_and_nothing_is_sent(client, frozen, sms_outbox, always):
    always.mode = "error"
    token = always.solve()
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": token})
    assert response.status_code == 503
    assert response.json()["error"] == "bot_challenge_unavailable"
    assert response.json()["site_key"] == always.site_key
    assert_in_openapi(response)
    assert sms_outbox == [] and RateEvent.objects.count() == 0
    # Back up: the same token, never checked, still passes.
    always.mode = "ok"
    assert post_json(client, SEND, {"phone": PHONE, "bot_challenge": token}).status_code == 201


def test_not_needed_ignores_the_field(client, frozen, sms_outbox, fake_siteverify):
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": 42})
    assert response.status_code == 201 and fake_siteverify.requests == []


def test_risky_number_needs_one(client, settings, frozen, sms_outbox, fake_siteverify):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    assert post_json(client, SEND, {"phone": PHONE}).status_code == 201
    frozen.shift(121)
    response = post_json(client, SEND, {"phone": PHONE})
    assert response.status_code == 400 and response.json()["error"] == "bot_challenge_failed"
    response = post_json(client, SEND, {"phone": PHONE, "bot_challenge": fake_siteverify.solve()})
    assert response.status_code == 201 and len(sms_outbox) == 2
