"""The check's token: read back by phone_from_token, refused when forged, altered, reused as something else or old."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client

from tests.helpers import CODE_A, PHONE, fixed_codes, post_json
from verification.api.challenge import Challenge
from verification.api.token import make_token
from verification.shortcuts import phone_from_token


@pytest.fixture
def token(db, frozen, sms_outbox) -> str:
    """Return the token of a number verified through the API at T0."""
    client = Client()
    with fixed_codes([CODE_A]):
        challenge = post_json(client, "/api/v1/send", {"phone": PHONE}).json()["challenge"]
    return post_json(client, "/api/v1/check", {"challenge": challenge, "code": CODE_A}).json()["token"]


def test_a_token_round_trips_to_the_number(token):
    assert phone_from_token(token) == PHONE


def test_a_token_works_for_otp_token_max_age_and_not_a_second_more(token, frozen, settings):
    frozen.shift(600)
    assert phone_from_token(token) == PHONE
    frozen.shift(1)
    with pytest.raises(signing.SignatureExpired):
        phone_from_token(token)
    settings.OTP_TOKEN_MAX_AGE = 3600
    assert phone_from_token(token) == PHONE


def test_max_age_given_wins_over_the_setting(token, frozen):
    frozen.shift(120)
    assert phone_from_token(token, max_age=timedelta(minutes=5)) == PHONE
    with pytest.raises(signing.SignatureExpired):
        phone_from_token(token, max_age=60)


@pytest.mark.parametrize(
    "alter",
    [
        # Another number in the payload, the signature kept.
        lambda t: make_token("+33612345679").split(":")[0] + ":" + t.split(":", 1)[1],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "x",
        lambda t: "",
        lambda t: "not a token",
        lambda t: "\ud800:\ud800",
        lambda t: None,
        lambda t: 12345,
    ],
)
def test_an_altered_or_forged_token_raises(token, alter):
    with pytest.raises(signing.BadSignature):
        phone_from_token(alter(token))


def test_a_token_signed_with_another_key_or_salt_is_refused(token, settings):
    challenge = Challenge(PHONE, "0" * 32, "1" * 32).signed()
    with pytest.raises(signing.BadSignature):
        phone_from_token(challenge)
    with pytest.raises(signing.BadSignature):
        phone_from_token(signing.dumps({"phone": PHONE}))
    settings.SECRET_KEY = "another secret key, as on another site " * 2
    with pytest.raises(signing.BadSignature):
        phone_from_token(token)
