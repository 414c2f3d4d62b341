"""POST /sms/status/: Twilio's delivery receipts, signed, out of order, duplicated, and what the person sees."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import Client

from tests.fakes.twilio_server import StatusCallback, twilio_signature
from tests.helpers import PHONE, T0
from verification.models import PhoneVerification, SentMessage

pytestmark = pytest.mark.django_db

CALLBACK_URL = "https://verify.example.com/sms/status/"


@pytest.fixture
def sent(client, fake_twilio, settings, frozen) -> str:
    """A browser that asked for a code through the fake Twilio, with receipts requested; returns the sid."""
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK_URL
    assert client.post("/", {"phone": PHONE})["Location"] == "/verify/"
    return SentMessage.objects.get().sid


def deliver(callback: StatusCallback, **headers):
    """POST a receipt the way Twilio does: no session, no CSRF token, the signature in a header."""
    twilio = Client(enforce_csrf_checks=True)
    return twilio.post("/sms/status/", callback.form, HTTP_X_TWILIO_SIGNATURE=callback.signature, **headers)


def message(sid: str) -> SentMessage:
    return SentMessage.objects.get(sid=sid)


def page(response) -> str:
    return response.content.decode()


def test_send_logs_the_message_and_asks_for_receipts(sent, fake_twilio):
    assert fake_twilio.requests[0].form["StatusCallback"] == CALLBACK_URL
    logged = message(sent)
    assert logged.verification.phone == PHONE
    assert (logged.status, logged.error_code, logged.sent_at, logged.status_at) == ("queued", "", T0, None)


def test_signed_receipt_is_recorded(sent, fake_twilio, frozen):
    frozen.shift(5)
    response = deliver(fake_twilio.status_callback(sent, "delivered"))
    assert response.status_code == 200
    logged = message(sent)
    assert (logged.status, logged.status_at) == ("delivered", T0.replace(second=5))


def test_receipts_move_forward_through_every_status(sent, fake_twilio):
    for status in ["sent", "undelivered"]:
        assert deliver(fake_twilio.status_callback(sent, status, error_code=30003)).status_code == 200
    assert (message(sent).status, message(sent).error_code) == ("undelivered", "30003")


def test_unsigned_receipt_is_forbidden_and_changes_nothing(sent, fake_twilio):
    callback = replace(fake_twilio.status_callback(sent, "delivered"), signature="")
    assert deliver(callback).status_code == 403
    assert message(sent).status == "queued"


def test_receipt_signed_with_another_token_is_forbidden(sent, fake_twilio):
    callback = fake_twilio.status_callback(sent, "failed")
    forged = replace(callback, signature=twilio_signature("not the auth token", callback.url, callback.form))
    assert deliver(forged).status_code == 403
    assert message(sent).status == "queued"


def test_receipt_with_a_field_changed_after_signing_is_forbidden(sent, fake_twilio):
    callback = fake_twilio.status_callback(sent, "delivered")
    tampered = replace(callback, form={**callback.form, "MessageStatus": "failed"})
    assert deliver(tampered).status_code == 403
    assert message(sent).status == "queued"


def test_receipt_signed_for_another_url_is_forbidden(sent, fake_twilio, settings):
    # What build_absolute_uri() would rebuild behind a TLS proxy: http, internal host.
    callback = fake_twilio.status_callback(sent, "delivered")
    internal = "http://testserver/sms/status/"
    wrong_url = replace(callback, signature=twilio_signature(settings.TWILIO_AUTH_TOKEN, internal, callback.form))
    assert deliver(wrong_url, HTTP_X_FORWARDED_PROTO="https").status_code == 403
    assert message(sent).status == "queued"


def test_without_a_configured_url_every_receipt_is_forbidden(sent, fake_twilio, settings):
    callback = fake_twilio.status_callback(sent, "delivered")
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    assert deliver(callback).status_code == 403
    assert message(sent).status == "queued"


def test_replayed_earlier_status_never_overwrites_a_final_one(sent, fake_twilio, frozen):
    deliver(fake_twilio.status_callback(sent, "delivered"))
    frozen.shift(10)
    for late in ["sent", "queued", "failed", "undelivered"]:
        assert deliver(fake_twilio.status_callback(sent, late)).status_code == 200
    logged = message(sent)
    assert (logged.status, logged.status_at, logged.error_code) == ("delivered", T0, "")


def test_duplicate_receipt_is_answered_and_changes_nothing(sent, fake_twilio, frozen):
    callback = fake_twilio.status_callback(sent, "sent")
    deliver(callback)
    frozen.shift(10)
    assert deliver(callback).status_code == 200
    assert (message(sent).status, message(sent).status_at) == ("sent", T0)


def test_unknown_sid_is_answered_and_ignored(fake_twilio, settings):
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK_URL
    form = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "AccountSid": fake_twilio.account_sid}
    callback = StatusCallback(CALLBACK_URL, form, twilio_signature(fake_twilio.auth_token, CALLBACK_URL, form))
    assert deliver(callback).status_code == 200
    assert not SentMessage.objects.exists()


def test_unknown_status_is_answered_and_ignored(sent, fake_twilio):
    assert deliver(fake_twilio.status_callback(sent, "receiving")).status_code == 200
    assert message(sent).status == "queued"


def test_signed_receipt_without_a_sid_is_a_bad_request(sent, fake_twilio):
    callback = fake_twilio.status_callback(sent, "delivered")
    form = {k: v for k, v in callback.form.items() if k not in ("MessageSid", "SmsSid")}
    signed = StatusCallback(CALLBACK_URL, form, twilio_signature(fake_twilio.auth_token, CALLBACK_URL, form))
    assert deliver(signed).status_code == 400


def test_status_endpoint_takes_only_post():
    assert Client().get("/sms/status/").status_code == 405


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_undelivered_current_code_is_shown_and_resend_opens_at_once(client, sent, fake_twilio, frozen, status):
    frozen.shift(10)
    deliver(fake_twilio.status_callback(sent, status, error_code=30003))

    html = page(client.get("/verify/"))
    assert "could not be delivered" in html
    assert 'id="resend" disabled' not in html
    response = client.post("/verify/resend/", follow=True)
    assert "A new code is on its way" in page(response)
    assert len(fake_twilio.requests) == 2
    # The new code's SMS has no receipt yet: no warning, and its own cooldown runs.
    html = page(client.get("/verify/"))
    assert "data-undelivered hidden" in html and 'id="resend" disabled' in html


def test_delivered_code_keeps_its_cooldown(client, sent, fake_twilio, frozen):
    frozen.shift(10)
    deliver(fake_twilio.status_callback(sent, "delivered"))
    html = page(client.get("/verify/"))
    assert "data-undelivered hidden" in html and 'id="resend" disabled' in html
    assert "You can ask for a new one in 1:50" in page(client.post("/verify/resend/", follow=True))


def test_failure_of_an_older_message_leaves_the_current_cooldown(client, sent, fake_twilio, frozen):
    frozen.shift(120)
    client.post("/verify/resend/")
    assert SentMessage.objects.count() == 2
    deliver(fake_twilio.status_callback(sent, "failed"))
    html = page(client.get("/verify/"))
    assert "data-undelivered hidden" in html and 'id="resend" disabled' in html
    assert PhoneVerification.objects.get().next_send_at == T0.replace(minute=4)
