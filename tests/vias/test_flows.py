"""Ways on every flow: the sign-in and second-factor pages offer the choice, the other ways, their own status route;
the site's own fallback keeps the flow and the challenge; one claim per send and a failed send gives all back."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import PHONE, T0
from verification import services
from verification.auth import numbers
from verification.models import Flow, PhoneVerification, RateEvent, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def every_way(settings):
    settings.OTP_DELIVERY_METHODS = "sms,call,whatsapp"
    return settings


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


def page(response) -> str:
    return response.content.decode()


def test_the_sign_in_page_offers_the_ways_and_a_call_signs_in(client, alice, every_way, sms_outbox, frozen):
    assert page(client.get("/sign-in/")).count('type="radio" name="via"') == 3
    assert client.post("/sign-in/", {"phone": PHONE, "via": "call"})["Location"] == "/sign-in/verify/"
    assert sms_outbox[-1].via == "call"
    html = page(client.get("/sign-in/verify/"))
    assert "We called" in html
    # The resend form and its other ways post to the sign-in flow's own routes.
    assert 'action="/sign-in/resend/"' in html and 'data-delivery-status="/sign-in/status/"' in html
    assert 'name="via" value="sms" disabled>Send a text instead' in html
    assert client.post("/sign-in/verify/", {"code": sms_outbox[-1].code})["Location"] == "/signed-in/"


def test_sign_in_resend_by_another_way_stays_in_the_flow(client, alice, every_way, sms_outbox, frozen):
    client.post("/sign-in/", {"phone": PHONE})
    frozen.shift(121)
    assert client.post("/sign-in/resend/", {"via": "whatsapp"})["Location"] == "/sign-in/verify/"
    assert [m.via for m in sms_outbox] == ["sms", "whatsapp"]
    assert PhoneVerification.objects.get().flow == Flow.SIGN_IN
    # A refused way goes back to the sign-in code page, not the verification one.
    every_way.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    response = client.post("/sign-in/resend/", {"via": "call"})
    assert response["Location"] == "/sign-in/verify/" and len(sms_outbox) == 2
    assert client.post("/sign-in/resend/", {"via": "fax"})["Location"] == "/sign-in/verify/"
    assert client.post("/sign-in/verify/", {"code": sms_outbox[-1].code})["Location"] == "/signed-in/"


def test_each_flow_has_its_own_status_route(client, alice, every_way, sms_outbox, frozen):
    # Without a number in that flow's session, each route sends back to its flow's first page.
    assert client.get("/sign-in/status/")["Location"] == "/sign-in/"
    assert client.get("/login/confirm/status/")["Location"].startswith("/login/")
    client.post("/sign-in/", {"phone": PHONE, "via": "whatsapp"})
    status = client.get("/sign-in/status/").json()
    assert status == {"via": "whatsapp", "undelivered": False, "resend_in": 120, "other_vias": ["sms", "call"]}
    # The verification flow's route knows nothing of the sign-in number.
    assert client.get("/verify/status/")["Location"] == "/"


def test_the_second_factor_offers_other_ways_on_its_own_routes(client, alice, every_way, sms_outbox, frozen):
    every_way.OTP_RESEND_COOLDOWN_SECONDS = 10
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/login/confirm/code/"
    html = page(client.get("/login/confirm/code/"))
    assert 'action="/login/confirm/resend/"' in html and 'data-delivery-status="/login/confirm/status/"' in html
    assert client.get("/login/confirm/status/").json()["via"] == "sms"
    frozen.shift(11)
    assert client.post("/login/confirm/resend/", {"via": "call"})["Location"] == "/login/confirm/code/"
    assert [m.via for m in sms_outbox] == ["sms", "call"]
    assert client.post("/login/confirm/code/", {"code": sms_outbox[-1].code})["Location"] == "/signed-in/"


def test_auto_fallback_keeps_the_flow_and_the_waiting_browser(client, alice, every_way, sms_outbox, frozen):
    every_way.OTP_AUTO_FALLBACK = True
    client.post("/sign-in/", {"phone": PHONE})
    SentMessage.objects.update(sid="SM" + "c" * 32)
    challenge = PhoneVerification.objects.get().challenge
    services.take_receipt("SM" + "c" * 32, "undelivered", "30003", now=T0)
    assert [m.via for m in sms_outbox] == ["sms", "call"]
    record = PhoneVerification.objects.get()
    assert (record.flow, record.last_via, record.challenge) == (Flow.SIGN_IN, "call", challenge)
    event = VerificationEvent.objects.filter(kind="sent").latest("id")
    assert (event.flow, event.via, event.automatic) == ("sign_in", "call", True)
    assert SentMessage.objects.get(via="call").automatic
    # One claim for each send, the text and the call: two sends in the number's limit.
    assert RateEvent.objects.filter(scope="number", key=PHONE).count() == 2
    # The browser that asked for the text signs in with the code of the call.
    assert client.post("/sign-in/verify/", {"code": sms_outbox[-1].code})["Location"] == "/signed-in/"


@pytest.mark.parametrize("flow", list(Flow))
@pytest.mark.parametrize("via", ["sms", "call", "whatsapp"])
def test_a_failed_send_gives_everything_back_on_every_flow_and_way(every_way, sms_down, flow, via):
    sms_down()
    result = services.send_code(PHONE, T0, flow=flow, via=via, client_ip="203.0.113.9", session_key="s")
    assert result.outcome is SendOutcome.FAILED
    assert RateEvent.objects.count() == 0
    record = PhoneVerification.objects.get()
    assert (record.next_send_at, record.code_hash) == (None, "")
    event = VerificationEvent.objects.get(kind="send_failed")
    assert (event.flow, event.via) == (flow.value, via)


@pytest.mark.parametrize("flow", list(Flow))
def test_one_claim_per_send_on_every_flow(every_way, sms_outbox, flow):
    for i, via in enumerate(["sms", "call", "whatsapp"]):
        phone = f"+3361234567{i}"
        assert services.send_code(phone, T0, flow=flow, via=via, client_ip="203.0.113.9").outcome is SendOutcome.SENT
        assert RateEvent.objects.filter(scope="number", key=phone).count() == 1
    assert RateEvent.objects.filter(scope="ip").count() == 3


def test_a_test_number_records_the_way_it_was_asked_for(every_way, sms_outbox):
    every_way.OTP_TEST_NUMBERS = "+15555550100=123456"
    every_way.OTP_TEST_NUMBERS_VALID_UNTIL = "2026-12-31"
    result = services.send_code("+15555550100", T0, via="call")
    assert (result.outcome, result.via, sms_outbox) == (SendOutcome.SENT, "call", [])
    assert PhoneVerification.objects.get().last_via == "call"
    assert VerificationEvent.objects.get(kind="sent").via == "call"
    assert services.check_code("+15555550100", "123456", T0).outcome is CheckOutcome.VERIFIED
