"""django-two-factor-auth 1.18 with verification.contrib.two_factor.Gateway: its setup and login pages, real.

two-factor-auth makes and checks the tokens (TOTP); the app delivers them, counted by its limits and brake.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from two_factor.plugins.phonenumber.models import PhoneDevice

from tests.helpers import code_in, wrong_code
from tests.integrations.helpers import OTHER_RANGE, PASSWORD, PHONE, SAME_RANGE, pause_range, wizard
from verification.models import PhoneVerification, PumpingTally, SentMessage, VerificationEvent

pytestmark = pytest.mark.django_db

SETUP = "/account/two_factor/setup/"
LOGIN = "/account/login/"
WARNING = "We've encountered an issue with the selected authentication method"


@pytest.fixture
def user():
    return get_user_model().objects.create_user("ada", password=PASSWORD)


def set_up_phone(client, phone: str, method: str = "sms"):
    """Walk two-factor-auth's setup wizard up to its validation step; return that page."""
    assert wizard(client, SETUP, "setup_view", "welcome").status_code == 200
    assert wizard(client, SETUP, "setup_view", "method", method=method).status_code == 200
    return wizard(client, SETUP, "setup_view", method, number=phone)


def start_login(client, user):
    return wizard(client, LOGIN, "login_view", "auth", username=user.get_username(), password=PASSWORD)


def test_sms_setup_and_login_go_through_the_app(client, user, sms_outbox, frozen):
    client.force_login(user)
    page = set_up_phone(client, PHONE)
    assert page.status_code == 200 and "We sent you a text message" in page.content.decode()
    [sms] = sms_outbox
    assert sms.to == PHONE and "Do not share it" in sms.body
    done = wizard(client, SETUP, "setup_view", "validation", token=code_in(sms))
    assert done.status_code == 302 and done["Location"] == "/account/two_factor/setup/complete/"
    assert PhoneDevice.objects.get(user=user).number.as_e164 == PHONE
    # The device was saved once its token was typed: the number is known, as after a verification.
    assert PhoneVerification.objects.get(phone=PHONE).verified_at is not None

    client.logout()
    frozen.shift(300)
    token_page = start_login(client, user)
    assert token_page.status_code == 200
    assert len(sms_outbox) == 2 and sms_outbox[1].to == PHONE
    signed_in = wizard(client, LOGIN, "login_view", "token", otp_token=code_in(sms_outbox[1]))
    assert signed_in.status_code == 302
    assert client.get("/profile/").content.decode() == f"signed in as {user.pk}"

    events = VerificationEvent.objects.filter(phone=PHONE).order_by("created_at", "id")
    assert [(e.kind, e.channel) for e in events] == [
        ("sent", "two_factor"),
        ("verified", "two_factor"),
        ("sent", "two_factor"),
        ("verified", "two_factor"),
    ]
    assert SentMessage.objects.filter(verification__phone=PHONE).count() == 2


def test_a_wrong_token_is_two_factor_auths_to_refuse(client, user, sms_outbox, frozen):
    client.force_login(user)
    set_up_phone(client, PHONE)
    page = wizard(client, SETUP, "setup_view", "validation", token=wrong_code(code_in(sms_outbox[0])))
    assert page.status_code == 200 and not PhoneDevice.objects.exists()
    # The app stores no code of two-factor-auth's and counts no wrong guess of it.
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.code_hash == "" and record.failed_attempts == 0 and record.verified_at is None


def test_the_cooldown_and_the_number_limit_refuse_at_setup_with_two_factors_warning(client, user, sms_outbox, frozen):
    client.force_login(user)
    set_up_phone(client, PHONE)
    # Back to the number step at once: the resend cooldown refuses, two-factor-auth shows its warning.
    again = wizard(client, SETUP, "setup_view", "sms", number=PHONE)
    assert again.status_code == 200 and WARNING in again.content.decode()
    assert len(sms_outbox) == 1
    for sent in range(2, 6):
        frozen.shift(121)
        assert WARNING not in wizard(client, SETUP, "setup_view", "sms", number=PHONE).content.decode()
        assert len(sms_outbox) == sent
    frozen.shift(121)
    sixth = wizard(client, SETUP, "setup_view", "sms", number=PHONE)
    assert WARNING in sixth.content.decode() and len(sms_outbox) == 5
    refusal = VerificationEvent.objects.get(kind="rate_limited")
    assert (refusal.limit, refusal.channel) == ("number", "two_factor")
    # Someone else, with another number, is not held back.
    other = get_user_model().objects.create_user("grace", password=PASSWORD)
    other_browser = Client(REMOTE_ADDR="192.0.2.7")
    other_browser.force_login(other)
    assert WARNING not in set_up_phone(other_browser, OTHER_RANGE).content.decode()
    assert len(sms_outbox) == 6


def test_a_refused_token_at_login_is_a_message_on_the_token_page_not_a_500(client, user, sms_outbox, frozen):
    PhoneDevice.objects.create(user=user, name="default", number=PHONE, method="sms", confirmed=True)
    pause_range(PHONE)
    page = start_login(client, user)
    assert page.status_code == 200 and not sms_outbox
    assert re.search(r'role="alert">[^<]*(Too many codes|can.t send)', page.content.decode())
    assert not client.get("/profile/").status_code == 200


def test_a_pumping_pause_stops_two_factor_tokens_to_its_range_only(client, user, sms_outbox, frozen):
    pause_range(PHONE)
    client.force_login(user)
    page = set_up_phone(client, SAME_RANGE)
    assert WARNING in page.content.decode() and not sms_outbox
    assert VerificationEvent.objects.get(kind="rate_limited").limit == "pumping"
    frozen.shift(1)
    client.force_login(user)
    assert WARNING not in set_up_phone(client, OTHER_RANGE).content.decode()
    assert [sms.to for sms in sms_outbox] == [OTHER_RANGE]


def test_tokens_are_tallied_by_the_brake_and_their_use_counted_as_verified(client, user, sms_outbox, frozen):
    client.force_login(user)
    set_up_phone(client, PHONE)
    assert PumpingTally.objects.get().sent == 1
    wizard(client, SETUP, "setup_view", "validation", token=code_in(sms_outbox[0]))
    tally = PumpingTally.objects.get()
    assert (tally.sent, tally.verified) == (1, 1)


def test_a_call_is_refused_until_the_delivery_can_place_calls(client, user, sms_outbox, frozen):
    client.force_login(user)
    page = set_up_phone(client, PHONE, method="call")
    # Nothing is sent in its place, nothing counted: two-factor-auth shows its warning.
    assert WARNING in page.content.decode() and not sms_outbox
    assert not PhoneVerification.objects.exists()
