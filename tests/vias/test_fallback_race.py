"""OTP_AUTO_FALLBACK under a receipt that arrives several times at once: exactly one call, counted once."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import PHONE, T0, in_parallel
from verification import services
from verification.models import RateEvent, SentMessage, VerificationEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def twilio(fake_twilio, settings):
    settings.OTP_DELIVERY_METHODS = "sms,call"
    settings.OTP_AUTO_FALLBACK = True
    settings.TWILIO_STATUS_CALLBACK_URL = "https://verify.example.com/sms/status/"
    return fake_twilio


@pytest.mark.parametrize("copies", [2, 8])
def test_one_undelivered_text_gets_exactly_one_call_however_often_its_receipt_comes(twilio, frozen, copies):
    services.send_code(PHONE, T0, via="sms")
    callback = twilio.status_callback(SentMessage.objects.get().sid, "undelivered", error_code=30003)
    frozen.shift(30)

    def post(i: int) -> int:
        # Each thread is another app worker with its own database connection.
        client = Client(enforce_csrf_checks=True)
        return client.post("/sms/status/", callback.form, HTTP_X_TWILIO_SIGNATURE=callback.signature).status_code

    assert in_parallel(copies, post) == [200] * copies
    assert len(twilio.calls) == 1
    assert SentMessage.objects.filter(via="call", automatic=True).count() == 1
    assert VerificationEvent.objects.filter(kind="sent", automatic=True).count() == 1
    # Counted once, like any send: two sends of the number in its per-number limit, the text and the call.
    assert RateEvent.objects.filter(scope="number", key=PHONE).count() == 2
