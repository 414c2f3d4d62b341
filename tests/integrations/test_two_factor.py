"""django-two-factor-auth 1.18 with verification.contrib.two_factor.Gateway: its setup and login pages, real.

two-factor-auth makes and checks the tokens (TOTP); the app delivers them, counted by its limits and brake.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from two_factor.plugins.phonenumber.models import PhoneDevice

from tests.fakes.twilio_server import parse_twiml
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
    # A minute later, within the resend cooldown: the setup's token was used, so the login's goes at once.
    frozen.shift(60)
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


def test_a_login_within_the_cooldown_says_a_token_is_on_its_way(client, user, sms_outbox, frozen):
    PhoneDevice.objects.create(user=user, name="default", number=PHONE, method="sms", confirmed=True)
    start_login(client, user)
    frozen.shift(30)
    page = start_login(Client(), user)
    assert page.status_code == 200 and len(sms_outbox) == 1
    assert "A code was already sent to this number. You can ask for a new one in 1:30." in page.content.decode()


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


@pytest.fixture
def twilio_calls(fake_twilio, settings):
    """Calls offered, placed through the fake Twilio (the real twilio library); every request checked."""
    settings.OTP_DELIVERY_METHODS = "sms,call"
    yield fake_twilio
    assert fake_twilio.spec_violations == []


def spoken_token(twilio, index: int = -1) -> str:
    """Return the token a call read out (twice, digit by digit)."""
    form = list(twilio.calls.values())[index]
    assert "Url" not in form  # the token is in the request, never behind a URL
    runs = parse_twiml(form["Twiml"]).digit_runs
    assert len(runs) == 2 and runs[0] == runs[1], runs
    return runs[0]


def test_call_setup_and_login_go_through_the_app(client, user, twilio_calls, frozen):
    client.force_login(user)
    page = set_up_phone(client, PHONE, method="call")
    assert page.status_code == 200 and "We are calling your phone right now" in page.content.decode()
    [form] = twilio_calls.calls.values()
    assert (form["To"], form["From"]) == (PHONE, "+15005550006")
    token = spoken_token(twilio_calls)
    done = wizard(client, SETUP, "setup_view", "validation", token=token)
    assert done.status_code == 302 and done["Location"] == "/account/two_factor/setup/complete/"
    assert PhoneDevice.objects.get(user=user).method == "call"

    client.logout()
    frozen.shift(300)
    assert start_login(client, user).status_code == 200
    assert len(twilio_calls.calls) == 2
    signed_in = wizard(client, LOGIN, "login_view", "token", otp_token=spoken_token(twilio_calls))
    assert signed_in.status_code == 302
    assert client.get("/profile/").content.decode() == f"signed in as {user.pk}"
    # Calls only, each logged and audited as a call by two-factor-auth.
    assert all(request.path.endswith("/Calls.json") for request in twilio_calls.requests)
    assert list(SentMessage.objects.values_list("via", flat=True)) == ["call", "call"]
    events = VerificationEvent.objects.filter(phone=PHONE).order_by("created_at", "id")
    assert [(e.kind, e.channel, e.via) for e in events if e.kind == "sent"] == [("sent", "two_factor", "call")] * 2


def test_the_call_speaks_the_language_of_the_page(user, twilio_calls, frozen):
    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    french.force_login(user)
    set_up_phone(french, PHONE, method="call")
    [form] = twilio_calls.calls.values()
    spoken = parse_twiml(form["Twiml"])
    assert spoken.languages == {"fr-FR"} and "Votre code est" in spoken.text


def test_a_call_and_a_text_share_one_claim_cooldown_and_number_limit(client, user, twilio_calls, frozen):
    client.force_login(user)
    set_up_phone(client, PHONE, method="call")
    # Straight back to texts: the same number's cooldown holds, whatever the way.
    again = set_up_phone(client, PHONE, method="sms")
    assert WARNING in again.content.decode()
    assert len(twilio_calls.requests) == 1


def test_calls_are_refused_while_the_app_does_not_offer_them(client, user, sms_outbox, frozen, settings):
    client.force_login(user)
    page = set_up_phone(client, PHONE, method="call")
    # Nothing is sent in its place, nothing counted: two-factor-auth shows its warning.
    assert WARNING in page.content.decode() and not sms_outbox
    assert not PhoneVerification.objects.exists()


def test_a_call_to_a_country_calls_may_not_reach_is_refused_while_texts_still_go(
    client, user, twilio_calls, frozen, settings
):
    settings.OTP_CALL_ALLOWED_COUNTRIES = "US"
    client.force_login(user)
    page = set_up_phone(client, PHONE, method="call")
    assert WARNING in page.content.decode() and not twilio_calls.requests
    assert not PhoneVerification.objects.exists()
    client.force_login(user)
    assert WARNING not in set_up_phone(client, PHONE).content.decode()
    assert [request.path.rsplit("/", 1)[-1] for request in twilio_calls.requests] == ["Messages.json"]


def test_a_pumping_pause_stops_calls_too(client, user, twilio_calls, frozen):
    pause_range(PHONE)
    client.force_login(user)
    page = set_up_phone(client, SAME_RANGE, method="call")
    assert WARNING in page.content.decode() and not twilio_calls.requests
    assert VerificationEvent.objects.get(kind="rate_limited").limit == "pumping"
