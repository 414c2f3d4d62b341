"""Calls and WhatsApp through the fake Twilio: every request checked against Twilio's API description, TwiML read."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.fakes.twilio_server import parse_twiml
from tests.helpers import PHONE, T0, at
from verification import services
from verification.models import PhoneVerification, SentMessage, VerificationEvent
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db

CALLBACK_URL = "https://verify.example.com/sms/status/"
WHATSAPP_FROM = "+14155238886"
CONTENT_SID = "HX" + "0123456789abcdef" * 2


@pytest.fixture
def twilio(fake_twilio, settings):
    settings.OTP_DELIVERY_METHODS = "sms,call,whatsapp"
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK_URL
    settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    settings.TWILIO_WHATSAPP_CONTENT_SID = CONTENT_SID
    yield fake_twilio
    # Every request the app made is one Twilio's own description of its API allows.
    assert fake_twilio.spec_violations == []


def deliver(callback):
    """POST a status callback as Twilio does: no session, no CSRF token, signed."""
    return Client(enforce_csrf_checks=True).post(
        "/sms/status/", callback.form, HTTP_X_TWILIO_SIGNATURE=callback.signature
    )


def spoken_code(twilio) -> str:
    (form,) = twilio.calls.values()
    runs = parse_twiml(form["Twiml"]).digit_runs
    assert len(runs) == 2 and runs[0] == runs[1], runs
    return runs[0]


def test_a_call_reads_the_code_twice_digit_by_digit_and_the_code_verifies(twilio):
    result = services.send_code(PHONE, T0, via="call", language="fr")
    assert result.outcome is SendOutcome.SENT
    (request,) = twilio.requests
    assert request.path.endswith("/Calls.json")
    form = request.form
    assert (form["To"], form["From"], form["StatusCallback"]) == (PHONE, "+15005550006", CALLBACK_URL)
    assert "Url" not in form  # the code is in the request, never behind a URL
    spoken = parse_twiml(form["Twiml"])
    assert spoken.languages == {"fr-FR"}
    assert "Phone verification" in spoken.text
    code = spoken_code(twilio)
    assert spoken.pauses >= 2 * len(code)
    logged = SentMessage.objects.get()
    assert (logged.via, logged.sid[:2], logged.status) == ("call", "CA", "queued")
    assert services.check_code(PHONE, code, at(5)).outcome is CheckOutcome.VERIFIED


@pytest.mark.parametrize(
    ("language", "say"), [("en", "en-US"), ("es", "es-ES"), ("fr", "fr-FR"), ("de", "de-DE"), ("pt-br", "pt-BR")]
)
def test_the_call_speaks_the_page_language(twilio, language, say):
    services.send_code(PHONE, T0, via="call", language=language)
    (form,) = twilio.calls.values()
    spoken = parse_twiml(form["Twiml"])
    assert spoken.languages == {say}
    assert all(voice.startswith("Polly.") for _, _, voice in spoken.says)


def test_calls_come_from_twilio_call_from_when_set(twilio, settings):
    settings.TWILIO_CALL_FROM = "+15005550001"
    services.send_code(PHONE, T0, via="call")
    assert twilio.requests[0].form["From"] == "+15005550001"


def test_whatsapp_sends_the_approved_template_with_the_code_as_its_variable(twilio):
    assert services.send_code(PHONE, T0, via="whatsapp").outcome is SendOutcome.SENT
    (form,) = twilio.whatsapp_messages.values()
    assert (form["To"], form["From"], form["ContentSid"]) == (
        f"whatsapp:{PHONE}",
        f"whatsapp:{WHATSAPP_FROM}",
        CONTENT_SID,
    )
    assert "Body" not in twilio.requests[0].form  # never free text
    code = json.loads(form["ContentVariables"])["1"]
    assert services.check_code(PHONE, code, at(5)).outcome is CheckOutcome.VERIFIED


def test_a_call_outside_the_call_countries_is_never_placed(twilio, settings):
    settings.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    result = services.send_code(PHONE, T0, via="call")
    assert result.error.code == "call_country_not_allowed"
    assert twilio.requests == []


@pytest.mark.parametrize(
    ("status", "logged"),
    [
        ("completed", "delivered"),
        ("busy", "undelivered"),
        ("no-answer", "undelivered"),
        ("failed", "failed"),
        ("canceled", "undelivered"),
    ],
)
def test_call_status_callbacks_feed_the_receipts(twilio, frozen, status, logged):
    services.send_code(PHONE, T0, via="call")
    sid = SentMessage.objects.get().sid
    assert deliver(twilio.status_callback(sid, status)).status_code == 200
    assert SentMessage.objects.get().status == logged


def test_a_call_status_callback_with_a_bad_signature_is_refused(twilio, frozen):
    services.send_code(PHONE, T0, via="call")
    callback = twilio.status_callback(SentMessage.objects.get().sid, "no-answer")
    response = Client().post("/sms/status/", callback.form, HTTP_X_TWILIO_SIGNATURE="forged")
    assert response.status_code == 403
    assert SentMessage.objects.get().status == "queued"


def test_whatsapp_statuses_feed_the_receipts(twilio, frozen):
    services.send_code(PHONE, T0, via="whatsapp")
    sid = SentMessage.objects.get().sid
    for status in ["sent", "delivered", "read"]:
        assert deliver(twilio.status_callback(sid, status)).status_code == 200
    assert SentMessage.objects.get().status == "delivered"


def test_an_unanswered_call_lets_the_person_ask_again_at_once(twilio, frozen):
    services.send_code(PHONE, T0, via="call")
    assert PhoneVerification.objects.get().in_cooldown(T0)
    deliver(twilio.status_callback(SentMessage.objects.get().sid, "no-answer"))
    assert not PhoneVerification.objects.get().in_cooldown(T0)


def test_without_auto_fallback_an_undelivered_text_sends_nothing_more(twilio, frozen):
    services.send_code(PHONE, T0, via="sms")
    deliver(twilio.status_callback(SentMessage.objects.get().sid, "undelivered", error_code=30003))
    assert len(twilio.requests) == 1


def test_auto_fallback_sends_one_call_for_an_undelivered_text(twilio, frozen, settings):
    settings.OTP_AUTO_FALLBACK = True
    services.send_code(PHONE, T0, via="sms", language="de")
    challenge = PhoneVerification.objects.get().challenge
    sid = SentMessage.objects.get().sid
    frozen.shift(20)
    assert deliver(twilio.status_callback(sid, "undelivered", error_code=30003)).status_code == 200
    assert deliver(twilio.status_callback(sid, "undelivered", error_code=30003)).status_code == 200  # again
    assert len(twilio.calls) == 1
    assert parse_twiml(next(iter(twilio.calls.values()))["Twiml"]).languages == {"de-DE"}
    record = PhoneVerification.objects.get()
    assert (record.last_via, record.challenge) == ("call", challenge)  # the waiting page's challenge still works
    call = SentMessage.objects.get(via="call")
    assert call.automatic
    event = VerificationEvent.objects.get(kind="sent", via="call")
    assert (event.automatic, event.channel) == (True, "")
    assert services.check_code(PHONE, spoken_code(twilio), at(30), challenge=challenge).outcome is CheckOutcome.VERIFIED


def test_auto_fallback_goes_down_the_list_once_per_way(twilio, frozen, settings):
    settings.OTP_AUTO_FALLBACK = True
    services.send_code(PHONE, T0, via="sms")
    frozen.shift(10)
    deliver(twilio.status_callback(SentMessage.objects.get(via="sms").sid, "failed", error_code=30008))
    frozen.shift(10)
    deliver(twilio.status_callback(SentMessage.objects.get(via="call").sid, "no-answer"))
    frozen.shift(10)
    deliver(twilio.status_callback(SentMessage.objects.get(via="whatsapp").sid, "undelivered"))
    assert [m.via for m in SentMessage.objects.order_by("sent_at")] == ["sms", "call", "whatsapp"]


def test_auto_fallback_is_counted_by_the_limits(twilio, frozen, settings):
    settings.OTP_AUTO_FALLBACK = True
    settings.OTP_SEND_LIMITS_PER_NUMBER = "1/1h"
    services.send_code(PHONE, T0, via="sms")
    frozen.shift(10)
    deliver(twilio.status_callback(SentMessage.objects.get().sid, "undelivered"))
    assert twilio.calls == {}
    assert VerificationEvent.objects.filter(kind="rate_limited", limit="number").exists()


def test_auto_fallback_skips_a_way_the_number_may_not_get(twilio, frozen, settings):
    settings.OTP_AUTO_FALLBACK = True
    settings.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    services.send_code(PHONE, T0, via="sms")
    frozen.shift(10)
    deliver(twilio.status_callback(SentMessage.objects.get().sid, "undelivered"))
    assert twilio.calls == {} and len(twilio.whatsapp_messages) == 1


def test_no_fallback_for_a_code_already_replaced(twilio, frozen, settings):
    settings.OTP_AUTO_FALLBACK = True
    settings.OTP_RESEND_COOLDOWN_SECONDS = 5
    services.send_code(PHONE, T0, via="sms")
    first = SentMessage.objects.get().sid
    frozen.shift(10)
    services.send_code(PHONE, at(10), via="sms")
    deliver(twilio.status_callback(first, "undelivered"))
    assert twilio.calls == {}
